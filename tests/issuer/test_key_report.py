"""The signing keys' report (issue 12, point 7): after ``certvc keys rotate``, what the old and
the new key signed, through the service, ``certvc keys report`` and the admin page, on every
backend."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from issuer.cli import main as cli
from issuer.db.models import Action, Role
from issuer.errors import NotFound
from issuer.services import accounts, key_report, lifecycle

from .conftest import AppEnv
from .support import BACKENDS, NOW, fresh_database

PASSWORD = "correct horse battery"
ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, code: int = 0) -> str:
    result = CliRunner().invoke(cli, list(args))
    assert result.exit_code == code, (result.output, result.stderr)
    return result.stdout if code == 0 else result.stderr


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
) -> Iterator[AppEnv]:
    """Three certifications signed with ed25519-1 (one withdrawn: the revocation list is signed
    with it), a ``certvc keys rotate``, then one certification signed with ed25519-2 and the
    suspension of an old one (the suspension list is re-signed with the new key)."""
    folder = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        with fresh_database(request.param, folder, pg_database) as url:
            environment = AppEnv(folder / "instance", url, CLOCK=lambda: NOW)
            numbers = [_issue(environment, n) for n in ("Old Live", "Old Withdrawn", "Old Susp")]
            _move(environment, numbers[1], Action.WITHDRAW)
            rotated = json.loads(_rotate(environment))
            assert rotated["active"].endswith("#ed25519-2")
            numbers.append(_issue(environment, "New"))
            _move(environment, numbers[2], Action.SUSPEND)
            environment.numbers = dict(
                zip(("live", "withdrawn", "suspended", "new"), numbers, strict=True)
            )
            environment.write(
                lambda s: accounts.create_user(
                    s, username="aude", password=PASSWORD, role=Role.AUDITOR, actor="t", now=NOW
                )
            )
            environment.write(
                lambda s: accounts.create_user(
                    s, username="olga", password=PASSWORD, role=Role.OFFICER, actor="t", now=NOW
                )
            )
            yield environment
            environment.engine.dispose()
            environment.app.extensions["certvc.db"].engine.dispose()


def _rotate(site: AppEnv) -> str:
    """``certvc keys rotate`` as an operator runs it: its own process."""
    done = subprocess.run(
        [sys.executable, "-m", "issuer", "keys", "rotate", "--instance", str(site.folder)]
        + ["--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "CERTVC_DATABASE_URL": site.url, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _issue(site: AppEnv, name: str) -> str:
    request = lifecycle.IssueRequest(scheme_code="CWI-2", scope="VT-2", person_name=name)
    ctx = site.ctx
    return site.write(
        lambda s: lifecycle.issue(s, ctx, request, reason="exam", actor="t", now=NOW).number
    )


def _move(site: AppEnv, number: str, action: Action) -> None:
    site.write(
        lambda s: lifecycle.transition(
            s, site.ctx, number, action, reason="decided", actor="t", now=NOW
        )
    )


def _report(site: AppEnv) -> dict[str, key_report.KeyUse]:
    with site.read() as session:
        uses = key_report.report(session, site.ctx.keyring.records(), now=NOW)
    return {u.key_id.partition("#")[2]: u for u in uses}


# --- the service ------------------------------------------------------------------------------


def test_the_report_lists_credentials_under_the_old_and_the_new_key(site: AppEnv) -> None:
    uses = _report(site)
    assert set(uses) == {"ed25519-1", "ed25519-2", "p-256-1"}
    old, new, p256 = uses["ed25519-1"], uses["ed25519-2"], uses["p-256-1"]
    assert (old.status, new.status, p256.status) == ("retired", "active", "active")
    assert old.retired is not None and new.retired is None
    assert old.credentials == {
        "active": 1,
        "suspended": 1,
        "expired": 0,
        "revoked": 1,
        "superseded": 0,
    }
    assert new.credentials == {
        "active": 1,
        "suspended": 0,
        "expired": 0,
        "revoked": 0,
        "superseded": 0,
    }
    assert old.total == 3 and new.total == 1 and p256.total == 0
    assert old.first_signed == old.last_signed == NOW
    assert p256.first_signed is None
    # lists are signed by the active key at each change: revocation before the rotation,
    # suspension after it
    assert [(s.purpose, s.sequence) for s in old.status_lists] == [("revocation", 1)]
    assert [(s.purpose, s.sequence) for s in new.status_lists] == [("suspension", 1)]
    # to reissue if ed25519-1 is compromised: its live certifications, not the withdrawn one
    assert (old.to_reissue, new.to_reissue, p256.to_reissue) == (2, 1, 0)
    with site.read() as session:
        affected = list(key_report.certifications_to_reissue(session, old.key_id, now=NOW))
    assert sorted(r["number"] for r in affected) == sorted(
        [site.numbers["live"], site.numbers["suspended"]]
    )
    assert {r["state"] for r in affected} == {"active", "suspended"}


def test_expired_credentials_need_no_reissue(site: AppEnv) -> None:
    later = NOW.replace(year=NOW.year + 10)
    with site.read() as session:
        uses = {
            u.key_id.partition("#")[2]: u
            for u in key_report.report(session, site.ctx.keyring.records(), now=later)
        }
    assert uses["ed25519-1"].credentials["expired"] == 2
    assert uses["ed25519-1"].to_reissue == 0


def test_find_takes_the_id_or_its_fragment(site: AppEnv) -> None:
    uses = list(_report(site).values())
    full = next(u.key_id for u in uses if u.key_id.endswith("#ed25519-1"))
    assert key_report.find(uses, "ed25519-1").key_id == full
    assert key_report.find(uses, full).key_id == full
    with pytest.raises(NotFound, match="ed25519-2"):
        key_report.find(uses, "ed25519-9")


# --- the command line -------------------------------------------------------------------------


def test_cli_report_of_every_key(site: AppEnv, monkeypatch) -> None:
    monkeypatch.setenv("CERTVC_DATABASE_URL", site.url)
    data = json.loads(run("keys", "report", "--instance", str(site.folder), "--json"))
    by_key = {k["keyId"].partition("#")[2]: k for k in data["keys"]}
    assert by_key["ed25519-1"]["credentials"]["total"] == 3
    assert by_key["ed25519-1"]["certificationsToReissue"] == 2
    assert by_key["ed25519-1"]["statusLists"][0]["purpose"] == "revocation"
    assert by_key["ed25519-2"]["credentials"]["active"] == 1
    assert by_key["ed25519-2"]["status"] == "active"
    text = run("keys", "report", "--instance", str(site.folder))
    assert "#ed25519-1 (ed25519, retired;" in text and "certifications to reissue: 2" in text


def test_cli_report_of_one_key_lists_what_to_reissue(site: AppEnv, monkeypatch) -> None:
    monkeypatch.setenv("CERTVC_DATABASE_URL", site.url)
    data = json.loads(run("keys", "report", "ed25519-1", "--instance", str(site.folder), "--json"))
    assert sorted(c["number"] for c in data["certifications"]) == sorted(
        [site.numbers["live"], site.numbers["suspended"]]
    )
    text = run("keys", "report", "--instance", str(site.folder), "ed25519-2")
    assert site.numbers["new"] in text and site.numbers["live"] not in text
    error = run("keys", "report", "--instance", str(site.folder), "nope", code=2)
    assert error.startswith("certvc: error: not_found: no key 'nope'")
    assert error.count("\n") == 1


def test_cli_report_needs_no_passphrase(site: AppEnv, monkeypatch) -> None:
    """Read only: the key ring's index names the keys; nothing is decrypted."""
    monkeypatch.setenv("CERTVC_DATABASE_URL", site.url)
    monkeypatch.delenv("CERTVC_KEY_PASSPHRASE", raising=False)
    assert "keys" in json.loads(run("keys", "report", "--instance", str(site.folder), "--json"))


# --- the admin page ---------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _login(site: AppEnv, username: str):
    client = site.app.test_client()
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _csrf(page)},
    )
    assert reply.status_code == 302
    return client


def test_admin_keys_page_for_auditors(site: AppEnv) -> None:
    anonymous = site.app.test_client().get("/admin/keys")
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.location
    officer = _login(site, "olga")
    assert officer.get("/admin/keys").status_code == 403
    client = _login(site, "aude")
    page = client.get("/admin/keys").get_data(as_text=True)
    assert "ed25519-1" in page and "ed25519-2" in page and "p-256-1" in page
    assert "retired" in page
    detail = client.get("/admin/keys?key=ed25519-1").get_data(as_text=True)
    assert site.numbers["live"] in detail and site.numbers["suspended"] in detail
    assert site.numbers["new"] not in detail and site.numbers["withdrawn"] not in detail
    missing = client.get("/admin/keys?key=ed25519-9")
    assert missing.status_code == 404 and b"not_found" in missing.data


def test_the_key_id_survives_in_the_page_link(site: AppEnv) -> None:
    client = _login(site, "aude")
    page = client.get("/admin/keys").get_data(as_text=True)
    link = re.search(r'href="(/admin/keys\?key=[^"]+)"', page)
    assert link is not None
    detail = client.get(link.group(1).replace("&amp;", "&"))
    assert detail.status_code == 200 and b"to reissue" in detail.data
