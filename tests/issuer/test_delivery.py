"""Delivery by e-mail against a real SMTP server (aiosmtpd, STARTTLS and AUTH required).

Issue 13's must-shows: issuing a certification for a person with an e-mail address sends
exactly one message whose claim link opens the holder's page; with the mail server down the
issuance succeeds and the message goes out once the server is back, exactly once; two workers
at once send each message once (SQLite and PostgreSQL). Bad input: malformed addresses and
line breaks (header injection) are refused with ``email_invalid`` and nothing is stored or sent.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer.db.models import Action, AuditEvent, OutboxMessage, OutboxState, Person, Role
from issuer.services import accounts, csv_import, outbox
from issuer.worker import Worker

from .conftest import AppEnv
from .smtp import SmtpServer, html_of, smtp_server
from .support import BACKENDS, NOW

PASSWORD = "correct horse battery"
CLAIM = re.compile(r"http://127\.0\.0\.1:8000/claim/[A-Za-z0-9_-]{43}")
CERTIFY = {
    "scheme": "CWI-2",
    "scope": "steel groups 1 and 2",
    "person": {"name": "Ada Lovelace", "reference": "P-1", "email": "ada@example.org"},
    "reason": "committee decision 2026-11",
}


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend: claiming messages is a matter of row locks."""
    return request.param


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> Any:
        return self.now


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path / "smtp") as server:
        yield server


@pytest.fixture
def site(database_url: str, tmp_path: Path, smtp: SmtpServer) -> Iterator[AppEnv]:
    clock = Clock()
    environment = AppEnv(tmp_path / "instance", database_url, CLOCK=clock, **smtp.config())
    environment.clock = clock  # type: ignore[attr-defined]
    yield environment
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _worker(site: AppEnv, name: str | None = None) -> Worker:
    extra = {"name": name} if name else {}
    ctx = site.app.extensions["certvc.issuer"]
    return Worker(
        writer=site.factory,
        context=lambda: ctx,
        clock=site.clock,  # type: ignore[attr-defined]
        mail=site.app.extensions["certvc.mail"],
        **extra,
    )


def _certify(site: AppEnv, **changes: Any) -> dict[str, Any]:
    body = {**CERTIFY, **changes}
    reply = site.client.post("/api/v1/certifications", json=body, headers=site.auth("issue"))
    assert reply.status_code == 201, reply.json
    return reply.json


def _messages(site: AppEnv) -> list[OutboxMessage]:
    with site.read() as session:
        return list(session.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_issuing_sends_one_message_whose_claim_link_opens_the_holders_page(
    site: AppEnv, smtp: SmtpServer
) -> None:
    number = _certify(site)["certification"]["number"]
    (queued,) = _messages(site)
    assert queued.state is OutboxState.PENDING and queued.kind == "claim"
    assert "/claim/" not in queued.text  # the link is minted when sent, never stored
    assert _worker(site).send_mail() == 1
    assert _worker(site).send_mail() == 0  # nothing twice
    (message,) = smtp.inbox.messages
    sender, recipients, tls, authenticated = smtp.inbox.envelopes[0]
    assert (recipients, tls, authenticated) == (["ada@example.org"], True, True)
    assert sender == "certificates@body.example"
    assert message["To"] == "ada@example.org"
    assert number in message["Subject"]
    text, html = smtp.inbox.texts()[0], html_of(message)
    (link,) = set(CLAIM.findall(text))
    assert link in html and "Ada Lovelace" in text
    page = site.client.get(link.removeprefix("http://127.0.0.1:8000"))
    assert page.status_code == 200
    assert number in page.get_data(as_text=True)
    assert page.headers["Cache-Control"] == "no-store"
    (sent,) = _messages(site)
    assert sent.state is OutboxState.SENT and sent.attempts == 1


def test_renew_and_reduce_scope_send_a_new_link_each(site: AppEnv, smtp: SmtpServer) -> None:
    number = _certify(site)["certification"]["number"]
    for action, extra in (("renew", {}), ("reduce-scope", {"scope": "steel group 1"})):
        reply = site.client.post(
            f"/api/v1/certifications/{number}/{action}",
            json={"reason": "committee", **extra},
            headers=site.auth("issue"),
        )
        assert reply.status_code == 200, reply.json
    assert _worker(site).send_mail() == 3
    subjects = [m["Subject"] for m in smtp.inbox.messages]
    assert [("renewed" in s, "updated" in s) for s in subjects] == [
        (False, False),
        (True, False),
        (False, True),
    ]
    links = [CLAIM.search(text).group(0) for text in smtp.inbox.texts()]  # type: ignore[union-attr]
    assert len(set(links)) == 3
    # the first two links were for certificates since replaced: said plainly, nothing to share
    first = site.client.get(links[0].removeprefix("http://127.0.0.1:8000"))
    assert first.status_code == 200
    assert "replaced by a newer one" in first.get_data(as_text=True)
    assert "download-pdf" not in first.get_data(as_text=True)
    last = site.client.get(links[2].removeprefix("http://127.0.0.1:8000"))
    assert "download-pdf" in last.get_data(as_text=True)


def test_no_email_no_message(site: AppEnv, smtp: SmtpServer) -> None:
    _certify(site, person={"name": "Grace Hopper", "reference": "P-2"})
    assert _messages(site) == []
    assert _worker(site).send_mail() == 0
    assert smtp.inbox.messages == []


def test_server_down_during_issuance_then_back_sends_exactly_once(
    site: AppEnv, smtp: SmtpServer
) -> None:
    smtp.stop()
    number = _certify(site)["certification"]["number"]  # the issuance succeeds
    with site.read() as session:
        assert session.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 1
    worker = _worker(site)
    assert worker.send_mail() == 0
    (waiting,) = _messages(site)
    assert waiting.state is OutboxState.PENDING and waiting.attempts == 1
    assert "ConnectionRefusedError" in waiting.last_error
    smtp.start()  # the server is back, on the same port
    assert worker.send_mail() == 0  # not before its back-off
    site.clock.now += outbox.backoff(1)  # type: ignore[attr-defined]
    assert worker.send_mail() == 1
    site.clock.now += timedelta(hours=3)  # type: ignore[attr-defined]
    assert worker.send_mail() == 0
    (message,) = smtp.inbox.messages
    assert number in message["Subject"]
    (sent,) = _messages(site)
    assert sent.state is OutboxState.SENT and sent.attempts == 2 and sent.last_error == ""


def test_two_workers_at_once_send_each_message_once(site: AppEnv, smtp: SmtpServer) -> None:
    for n in range(12):
        _certify(
            site,
            person={"name": f"Person {n}", "reference": f"P-{n}", "email": f"p{n}@example.org"},
        )
    workers = [_worker(site, "worker-a"), _worker(site, "worker-b")]
    start = threading.Barrier(2)
    counts: list[int] = []
    failures: list[BaseException] = []

    def run(worker: Worker) -> None:
        try:
            start.wait()
            counts.append(worker.send_mail())
        except BaseException as error:  # noqa: BLE001 - reported by the assertion below
            failures.append(error)

    threads = [threading.Thread(target=run, args=(w,)) for w in workers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert failures == []
    assert sum(counts) == 12
    recipients = sorted(r for _, rcpt, _, _ in smtp.inbox.envelopes for r in rcpt)
    assert recipients == sorted(f"p{n}@example.org" for n in range(12))
    assert all(m.state is OutboxState.SENT and m.attempts == 1 for m in _messages(site))


def test_a_refused_password_is_retried_and_shown(
    database_url: str, tmp_path: Path, smtp: SmtpServer
) -> None:
    clock = Clock()
    config = {**smtp.config(), "SMTP_URL": smtp.url(password="wrong")}
    site = AppEnv(tmp_path / "instance", database_url, CLOCK=clock, **config)
    try:
        site.clock = clock  # type: ignore[attr-defined]
        _certify(site)
        assert _worker(site).send_mail() == 0
        (message,) = _messages(site)
        assert message.state is OutboxState.PENDING
        assert "refused the user name or password" in message.last_error
        assert "wrong" not in message.last_error
        assert smtp.inbox.messages == []
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()


def login(site: AppEnv, role: Role = Role.OFFICER) -> str:
    """A staff member of ``role`` signed in with the site's test client; the CSRF token."""
    site.write(
        lambda s: accounts.create_user(
            s, username="olga", password=PASSWORD, role=role, actor="t", now=NOW
        )
    )
    page = site.client.get("/admin/login").data
    reply = site.client.post(
        "/admin/login",
        data={"username": "olga", "password": PASSWORD, "csrf_token": token_of(page)},
    )
    assert reply.status_code == 302, reply.data[:300]
    return token_of(site.client.get("/admin/").data)


def token_of(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def test_resend_from_the_outbox_page_mints_a_new_link(site: AppEnv, smtp: SmtpServer) -> None:
    _certify(site)
    _worker(site).send_mail()
    (message,) = _messages(site)
    client = site.client
    csrf = login(site)
    page = client.get("/admin/outbox")
    assert page.status_code == 200
    assert "ada@example.org" in page.get_data(as_text=True)
    refused = client.post(f"/admin/outbox/{message.id}/resend", data={"reason": "lost"})
    assert refused.status_code == 403  # no CSRF token
    done = client.post(
        f"/admin/outbox/{message.id}/resend", data={"reason": "lost", "csrf_token": csrf}
    )
    assert done.status_code == 303
    assert _worker(site).send_mail() == 1
    first, second = (CLAIM.search(t).group(0) for t in smtp.inbox.texts())  # type: ignore[union-attr]
    assert first != second
    assert site.client.get(first.removeprefix("http://127.0.0.1:8000")).status_code == 404
    assert site.client.get(second.removeprefix("http://127.0.0.1:8000")).status_code == 200
    with site.read() as session:
        actions = session.execute(select(AuditEvent.action)).scalars().all()
    assert Action.MAIL_RESEND in actions


@pytest.mark.parametrize(
    ("person", "code"),
    [
        ({"name": "Ada", "email": "not-an-address"}, "email_invalid"),
        ({"name": "Ada", "email": "ada@example.org\r\nBcc: eve@example.org"}, "email_invalid"),
        ({"name": "Ada", "email": "ada@example.org\nBcc: eve@example.org"}, "email_invalid"),
        ({"name": "Ada\r\nBcc: eve@example.org", "email": "ada@example.org"}, "field_invalid"),
    ],
)
def test_bad_addresses_and_header_injection_are_refused(
    site: AppEnv, smtp: SmtpServer, person: dict[str, str], code: str
) -> None:
    reply = site.client.post(
        "/api/v1/certifications",
        json={**CERTIFY, "person": person},
        headers=site.auth("issue"),
    )
    assert reply.status_code == 400
    assert reply.json["error"]["code"] == code
    with site.read() as session:
        assert session.execute(select(func.count()).select_from(Person)).scalar_one() == 0
    assert _messages(site) == []
    assert _worker(site).send_mail() == 0
    assert smtp.inbox.messages == []


def test_a_csv_import_queues_one_message_per_certified_person_once(
    site: AppEnv, smtp: SmtpServer
) -> None:
    text = (
        "name,reference,scheme,scope,email\n"
        "Ada Lovelace,P-1,CWI-2,steel,ada@example.org\n"
        "Grace Hopper,P-2,CWI-2,steel,\n"
        "Edsger Dijkstra,P-3,CWI-2,steel,not-an-address\n"
        "Barbara Liskov,P-4,,,barbara@example.org\n"
    )
    ctx = site.app.extensions["certvc.issuer"]

    def run(session: Any) -> csv_import.ImportReport:
        rows = list(csv_import.parse(text))
        return csv_import.import_chunk(
            session, ctx, rows, source="t.csv", reason="exam session 12", actor="t", now=NOW
        )

    report = site.write(run)
    assert [error.line for error in report.errors] == [4]
    assert "email" in report.errors[0].message
    again = site.write(run)  # a re-run: everything present, nothing queued twice
    assert len(again.present) == 3
    assert _worker(site).send_mail() == 1
    assert [rcpt for _, rcpt, _, _ in smtp.inbox.envelopes] == [["ada@example.org"]]
    with site.read() as session:
        emails = dict(session.execute(select(Person.reference, Person.email)).all())
    assert emails == {"P-1": "ada@example.org", "P-2": None, "P-4": "barbara@example.org"}
