"""Claim links and the holder's page, through Flask's test client (no mail server needed: staff
make a link by hand, as for a person without an e-mail address).

The holder downloads, turns the public page on and off (their consent: CSRF-checked, audited
with the link as actor); a revoked or expired link is a 410 page, an unknown one a 404 page,
neither naming anyone; a withdrawn certificate's page says so and offers nothing to share.
Without SMTP the outbox page says nothing is sent, and issuing queues nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer.db.models import Action, AuditEvent, ClaimToken, OutboxMessage
from issuer.services import mail

from .conftest import AppEnv
from .support import NOW
from .test_delivery import CERTIFY, Clock, login, token_of

LINK = re.compile(r'id="claim-link" readonly value="http://127\.0\.0\.1:8000(/claim/[^"]+)"')


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[AppEnv]:
    clock = Clock()
    environment = AppEnv(tmp_path / "instance", database_url, CLOCK=clock)
    environment.clock = clock  # type: ignore[attr-defined]
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _certify(site: AppEnv) -> str:
    reply = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    assert reply.status_code == 201, reply.json
    return str(reply.json["certification"]["number"])


def _make_link(site: AppEnv, number: str, csrf: str) -> str:
    reply = site.client.post(
        f"/admin/certifications/{number}/claim-links",
        data={"reason": "handed over at the exam centre", "csrf_token": csrf},
    )
    assert reply.status_code == 200, reply.data[:500]
    assert reply.headers["Cache-Control"] == "no-store"
    match = LINK.search(reply.get_data(as_text=True))
    assert match
    return match.group(1)


def _audit(site: AppEnv) -> list[tuple[Action, str]]:
    with site.read() as session:
        return [(e.action, e.actor) for e in session.execute(select(AuditEvent)).scalars()]


@pytest.fixture
def claimed(site: AppEnv) -> dict[str, Any]:
    number = _certify(site)
    staff_csrf = login(site)
    path = _make_link(site, number, staff_csrf)
    holder = site.app.test_client()  # the holder's own browser: no staff session
    return {"number": number, "path": path, "holder": holder, "staff_csrf": staff_csrf}


def test_without_smtp_nothing_is_queued_and_the_outbox_says_so(site: AppEnv) -> None:
    _certify(site)
    with site.read() as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 0
    login(site)
    page = site.client.get("/admin/outbox").get_data(as_text=True)
    assert "No SMTP server is configured" in page and "nothing is sent" in page


def test_the_holder_page_downloads_and_public_switch(site: AppEnv, claimed: dict) -> None:
    holder, path, number = claimed["holder"], claimed["path"], claimed["number"]
    page = holder.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert number in text and "Ada Lovelace" in text
    assert '<meta name="referrer" content="no-referrer">' in text
    with site.read() as session:
        (opened,) = session.execute(select(ClaimToken.last_used_at)).scalars()
    assert opened == NOW  # staff see when the holder opened it
    for fmt in ("pdf", "badge-png", "badge-svg", "json", "jwt"):
        assert f'id="download-{fmt}"' in text
    # every download explained in one line
    assert text.count('<span class="hint">') >= 5
    pdf = holder.get(f"{path}/download/pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf"
    assert pdf.data.startswith(b"%PDF")
    assert holder.get(f"{path}/download/qr-png").status_code == 404  # not offered here
    # the public page: off until the holder says so, with a CSRF token of their own session
    credential = site.client.get(f"/api/v1/certifications/{number}", headers=site.auth("issue"))
    credential_id = credential.json["credentials"][0]["id"]
    credential_path = credential_id.removeprefix("http://127.0.0.1:8000")
    assert holder.get(credential_path).status_code == 404
    refused = holder.post(f"{path}/public-page", data={"enabled": "on"})
    assert refused.status_code == 403
    csrf = token_of(page.data)
    turned = holder.post(f"{path}/public-page", data={"enabled": "on", "csrf_token": csrf})
    assert turned.status_code == 303
    assert holder.get(credential_path).status_code == 200
    assert "public page is on" in holder.get(path).get_data(as_text=True)
    (claim_id,) = (e for e in _claim_ids(site))
    assert (Action.PAGE_PUBLISH, f"holder:claim:{claim_id}") in _audit(site)
    off = holder.post(f"{path}/public-page", data={"enabled": "off", "csrf_token": csrf})
    assert off.status_code == 303
    assert holder.get(credential_path).status_code == 404
    assert (Action.PAGE_UNPUBLISH, f"holder:claim:{claim_id}") in _audit(site)


def _claim_ids(site: AppEnv) -> list[int]:
    with site.read() as session:
        return list(session.execute(select(ClaimToken.id)).scalars())


def test_a_revoked_link_is_gone_and_names_nobody(site: AppEnv, claimed: dict) -> None:
    (claim_id,) = _claim_ids(site)
    refused = site.client.post(f"/admin/claim-links/{claim_id}/revoke", data={"reason": "x"})
    assert refused.status_code == 403  # no CSRF token: nothing revoked
    assert claimed["holder"].get(claimed["path"]).status_code == 200
    done = site.client.post(
        f"/admin/claim-links/{claim_id}/revoke",
        data={"reason": "sent to the wrong person", "csrf_token": claimed["staff_csrf"]},
    )
    assert done.status_code == 303
    page = claimed["holder"].get(claimed["path"])
    assert page.status_code == 410
    text = page.get_data(as_text=True)
    assert "no longer works" in text
    assert "Ada" not in text and claimed["number"] not in text
    assert claimed["holder"].get(f"{claimed['path']}/download/pdf").status_code == 410
    assert (Action.CLAIM_REVOKE, "user:olga") in _audit(site)


def test_an_expired_link_is_gone(site: AppEnv, claimed: dict) -> None:
    site.clock.now = NOW + timedelta(days=mail.DEFAULT_CLAIM_TTL_DAYS)  # type: ignore[attr-defined]
    page = claimed["holder"].get(claimed["path"])
    assert page.status_code == 410
    assert "Ada" not in page.get_data(as_text=True)


@pytest.mark.parametrize(
    "path",
    [
        "/claim/" + "A" * 43,  # well formed, unknown
        "/claim/short",
        "/claim/" + "é" * 43,
        "/claim/" + "A" * 500,
    ],
)
def test_unknown_links_are_not_found(site: AppEnv, claimed: dict, path: str) -> None:
    page = claimed["holder"].get(path)
    assert page.status_code == 404
    text = page.get_data(as_text=True)
    assert "Link not found" in text and "Ada" not in text
    assert claimed["holder"].post(f"{path}/public-page", data={"enabled": "on"}).status_code in (
        403,
        404,
    )


def test_a_withdrawn_certificate_says_so_and_shares_nothing(site: AppEnv, claimed: dict) -> None:
    reply = site.client.post(
        f"/api/v1/certifications/{claimed['number']}/withdraw",
        json={"reason": "fraud found"},
        headers=site.auth("status"),
    )
    assert reply.status_code == 200, reply.json
    holder, path = claimed["holder"], claimed["path"]
    page = holder.get(path)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "was withdrawn" in text
    assert "download-pdf" not in text and "toggle-public" not in text and "linkedin" not in text
    assert holder.get(f"{path}/download/pdf").status_code == 404
    csrf = token_of(page.data) if b"csrf_token" in page.data else ""
    refused = holder.post(f"{path}/public-page", data={"enabled": "on", "csrf_token": csrf})
    assert refused.status_code in (303, 403)
    with site.read() as session:
        assert not session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == Action.PAGE_PUBLISH)
        ).scalar_one()


def test_staff_change_an_email_address_audited_and_checked(site: AppEnv) -> None:
    number = _certify(site)
    csrf = login(site)
    bad = site.client.post(
        f"/admin/certifications/{number}/email",
        data={"email": "ada@example.org\r\nBcc: x@example.org", "reason": "r", "csrf_token": csrf},
    )
    assert bad.status_code == 400
    assert "email_invalid" in bad.get_data(as_text=True)
    good = site.client.post(
        f"/admin/certifications/{number}/email",
        data={"email": "Ada@Example.org", "reason": "new address", "csrf_token": csrf},
    )
    assert good.status_code == 303
    page = site.client.get(f"/admin/certifications/{number}").get_data(as_text=True)
    assert "Ada@example.org" in page  # the domain normalised
    assert (Action.PERSON_UPDATE, "user:olga") in _audit(site)


@pytest.mark.parametrize(
    ("config", "dev", "message"),
    [
        ({"SMTP_URL": "http://host"}, True, "must look like"),
        ({"SMTP_URL": "smtp://host:587"}, True, "CERTVC_MAIL_FROM"),
        ({"SMTP_URL": "smtp://host", "MAIL_FROM": "bad"}, True, "not an e-mail address"),
        (
            {
                "SMTP_URL": "smtp://mail.example:25",
                "MAIL_FROM": "a@b.example",
                "SMTP_PLAINTEXT": "loopback",
            },
            True,
            "loopback address only",
        ),
        (
            {
                "SMTP_URL": "smtp://127.0.0.1:25",
                "MAIL_FROM": "a@b.example",
                "SMTP_PLAINTEXT": "loopback",
            },
            False,
            "development instance",
        ),
        ({"SMTP_URL": "smtp://h", "MAIL_FROM": "a@b.example", "CLAIM_TTL_DAYS": "0"}, True, "TTL"),
    ],
)
def test_mail_settings_refuse_what_is_unsafe_or_malformed(
    config: dict[str, str], dev: bool, message: str
) -> None:
    from issuer.errors import InstanceNotReady

    with pytest.raises(InstanceNotReady) as refused:
        mail.settings_from(config, dev_mode=dev)
    assert message in refused.value.message


def test_mail_settings_read_both_schemes_and_hide_the_password() -> None:
    starttls = mail.settings_from(
        {"SMTP_URL": "smtp://u%40x:p%2Fw@mail.example", "MAIL_FROM": "c@body.example"},
        dev_mode=False,
    )
    assert starttls is not None
    assert (starttls.security, starttls.port, starttls.username, starttls.password) == (
        mail.Security.STARTTLS,
        587,
        "u@x",
        "p/w",
    )
    assert "p/w" not in repr(starttls)
    tls = mail.settings_from(
        {"SMTP_URL": "smtps://mail.example", "MAIL_FROM": "c@b.example"}, dev_mode=False
    )
    assert tls is not None and (tls.security, tls.port) == (mail.Security.TLS, 465)
    plain = mail.settings_from(
        {
            "SMTP_URL": "smtp://127.0.0.1:1025",
            "MAIL_FROM": "c@b.example",
            "SMTP_PLAINTEXT": "loopback",
        },
        dev_mode=True,
    )
    assert plain is not None and plain.security is mail.Security.NONE
    assert mail.settings_from({}, dev_mode=True) is None
