"""Staff accounts (issue 12): the admin UI's Staff page through Flask's test client, the
``certvc users`` commands through click's CliRunner, and the services under both, on every
backend (the last-admin rule locks rows; the audit chain is the database's)."""

from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from issuer.cli import main as cli
from issuer.db.models import Action, AuditEvent, Role, User
from issuer.errors import TransitionNotAllowed
from issuer.services import accounts, audit

from .support import BACKENDS, NOW

PASSWORD = "correct horse battery"
ZED = {"username": "zed", "role": "officer"}  # a new account's form fields


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Every backend: the last-admin rule takes row locks, and the audit chain is checked."""
    return request.param


@pytest.fixture
def site(app_env):
    """An instance with one admin (adam), one officer (olga) and one auditor (aude)."""
    for name, role in (("adam", Role.ADMIN), ("olga", Role.OFFICER), ("aude", Role.AUDITOR)):
        app_env.write(
            lambda s, name=name, role=role: accounts.create_user(
                s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
            )
        )
    return app_env


# --- helpers --------------------------------------------------------------------------------


def _csrf(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _login_reply(site, username: str, password: str = PASSWORD) -> tuple[Any, Any]:
    client = site.app.test_client()
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login",
        data={"username": username, "password": password, "csrf_token": _csrf(page)},
    )
    return client, reply


def _browser(site, username: str = "adam", password: str = PASSWORD) -> tuple[Any, str]:
    """A fresh browser signed in as ``username`` and its CSRF token."""
    client, reply = _login_reply(site, username, password)
    assert reply.status_code == 302, reply.data[:300]
    return client, _csrf(client.get("/admin/").data)


def _revealed(page: bytes) -> str:
    match = re.search(rb'id="generated-password">([^<]+)<', page)
    assert match, page[:2000]
    return match.group(1).decode()


def _user(site, username: str) -> User:
    with site.read() as session:
        return session.execute(select(User).where(User.username == username)).scalar_one()


def _events(site, username: str) -> list[dict[str, Any]]:
    """The account's own events (its sign-ins are audited too, under the same subject)."""
    with site.read() as session:
        rows = session.execute(
            select(AuditEvent)
            .where(
                AuditEvent.subject == f"user:{username}",
                AuditEvent.action.in_((Action.USER_CREATE, Action.USER_UPDATE)),
            )
            .order_by(AuditEvent.seq)
        ).scalars()
        return [audit.event_json(row) for row in rows]


def _chain_intact(site) -> bool:
    with site.read() as session:
        return audit.verify_chain(session).ok


def _all_audit_text(site) -> str:
    with site.read() as session:
        rows = session.execute(select(AuditEvent)).scalars()
        return "\n".join(f"{row.reason} {row.details}" for row in rows)


def _error_code(page: bytes) -> str:
    match = re.search(rb'id="form-error"><strong>([a-z_]+)</strong>', page)
    assert match, page[:2000]
    return match.group(1).decode()


# --- the admin UI ---------------------------------------------------------------------------


def test_admin_creates_and_manages_an_account_each_change_audited(site) -> None:
    client, token = _browser(site)
    page = client.get("/admin/staff")
    assert page.status_code == 200
    for name in (b"adam", b"olga", b"aude"):
        assert b'id="row-' + name + b'"' in page.data
    assert b'href="/admin/staff"' in page.data  # the nav link, for an admin

    # create with an initial password: the new user signs in with it
    reply = client.post(
        "/admin/staff",
        data={
            "csrf_token": token,
            "username": "otto",
            "role": "officer",
            "password": "otto's initial password",
            "reason": "new examiner",
        },
    )
    assert reply.status_code == 302, reply.data[:2000]
    assert _login_reply(site, "otto", "otto's initial password")[1].status_code == 302

    # change the role, disable, enable
    for path, data in (
        ("otto/role", {"role": "auditor", "reason": "moved to quality"}),
        ("otto/disable", {"reason": "left the body"}),
        ("otto/enable", {"reason": "came back"}),
    ):
        reply = client.post(f"/admin/staff/{path}", data={"csrf_token": token, **data})
        assert reply.status_code == 302 and reply.location.endswith("/admin/staff"), path
    user = _user(site, "otto")
    assert (user.role, user.active) == (Role.AUDITOR, True)

    # reset: a new random password, shown once, not cached; the old one stops working
    reply = client.post(
        "/admin/staff/otto/password", data={"csrf_token": token, "reason": "forgot it"}
    )
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    new_password = _revealed(reply.data)
    assert len(new_password) >= accounts.MIN_PASSWORD
    assert _login_reply(site, "otto", "otto's initial password")[1].status_code == 401
    _browser(site, "otto", new_password)
    assert new_password.encode() not in client.get("/admin/staff").data  # shown only once

    events = _events(site, "otto")
    assert [(e["action"], e["reason"], e["details"]) for e in events] == [
        ("user.create", "new examiner", {"role": "officer"}),
        ("user.update", "moved to quality", {"change": "role", "from": "officer", "to": "auditor"}),
        ("user.update", "left the body", {"change": "active", "from": True, "to": False}),
        ("user.update", "came back", {"change": "active", "from": False, "to": True}),
        ("user.update", "forgot it", {"change": "password", "generated": True}),
    ]
    assert {e["actor"] for e in events} == {"user:adam"}
    assert _chain_intact(site)
    text = _all_audit_text(site)
    assert "initial password" not in text and new_password not in text
    assert "scrypt" not in text


def test_create_without_a_password_shows_a_generated_one_once(site) -> None:
    client, token = _browser(site)
    reply = client.post(
        "/admin/staff",
        data={"csrf_token": token, "username": "ines", "role": "admin", "reason": "new admin"},
    )
    assert reply.status_code == 200 and reply.headers["Cache-Control"] == "no-store"
    password = _revealed(reply.data)
    assert b'id="row-ines"' in reply.data  # the list already shows the new account
    ines, _ = _browser(site, "ines", password)
    assert ines.get("/admin/staff").status_code == 200
    assert _events(site, "ines")[0]["details"] == {"role": "admin"}
    assert password not in _all_audit_text(site)


@pytest.mark.parametrize("username", ["olga", "aude"])
def test_officers_and_auditors_get_403_on_the_staff_pages(site, username: str) -> None:
    client, token = _browser(site, username)
    assert b'href="/admin/staff"' not in client.get("/admin/").data  # no nav link
    assert client.get("/admin/staff").status_code == 403
    before = len(_events(site, "adam"))
    for path, data in (
        ("/admin/staff", {"username": "eve", "role": "admin", "password": "x" * 20}),
        ("/admin/staff/adam/role", {"role": "officer"}),
        ("/admin/staff/adam/disable", {}),
        ("/admin/staff/adam/enable", {}),
        ("/admin/staff/adam/password", {}),
    ):
        reply = client.post(path, data={"csrf_token": token, "reason": "takeover", **data})
        assert reply.status_code == 403, path
    assert len(_events(site, "adam")) == before and _events(site, "eve") == []
    assert _user(site, "adam").role is Role.ADMIN


def test_staff_pages_need_a_login(site) -> None:
    client = site.app.test_client()
    reply = client.get("/admin/staff")
    assert reply.status_code == 302 and "/admin/login" in reply.location


def test_a_missing_or_forged_csrf_token_is_403_and_changes_nothing(site) -> None:
    client, token = _browser(site)
    for forged in ("", "x" * 43):
        extra = {"csrf_token": forged} if forged else {}
        for path, data in (
            ("/admin/staff", {"username": "eve", "role": "admin", "password": "y" * 20}),
            ("/admin/staff/olga/role", {"role": "admin"}),
            ("/admin/staff/olga/disable", {}),
            ("/admin/staff/olga/password", {}),
        ):
            reply = client.post(path, data={"reason": "csrf", **data, **extra})
            assert reply.status_code == 403 and b"csrf_invalid" in reply.data, path
    assert _events(site, "olga") == [_events(site, "olga")[0]]  # only its creation
    assert _user(site, "olga").role is Role.OFFICER and _user(site, "olga").active


def test_the_last_active_admin_cannot_be_disabled_or_demoted(site) -> None:
    client, token = _browser(site)
    for path, data in (("adam/disable", {}), ("adam/role", {"role": "officer"})):
        reply = client.post(
            f"/admin/staff/{path}", data={"csrf_token": token, "reason": "oops", **data}
        )
        assert reply.status_code == 409, path
        assert _error_code(reply.data) == "transition_not_allowed"
        assert b"last active admin" in reply.data
    assert _user(site, "adam").role is Role.ADMIN and _user(site, "adam").active

    # with a second admin, adam may step down; then olga is the last one
    client.post(
        "/admin/staff/olga/role", data={"csrf_token": token, "role": "admin", "reason": "lead"}
    )
    reply = client.post(
        "/admin/staff/adam/role", data={"csrf_token": token, "role": "officer", "reason": "step"}
    )
    assert reply.status_code == 302 and reply.location.endswith("/admin/")
    # a role change ends the account's sessions (issue 16): adam signs in again, as an officer
    assert client.get("/admin/staff").status_code == 302
    client, _ = _browser(site, "adam")
    assert client.get("/admin/staff").status_code == 403
    olga, olga_token = _browser(site, "olga")
    reply = olga.post("/admin/staff/olga/disable", data={"csrf_token": olga_token, "reason": "x"})
    assert reply.status_code == 409 and _error_code(reply.data) == "transition_not_allowed"
    # a disabled admin does not count
    olga.post(
        "/admin/staff/aude/role", data={"csrf_token": olga_token, "role": "admin", "reason": "r"}
    )
    olga.post("/admin/staff/aude/disable", data={"csrf_token": olga_token, "reason": "leave"})
    reply = olga.post(
        "/admin/staff/olga/role", data={"csrf_token": olga_token, "role": "auditor", "reason": "x"}
    )
    assert reply.status_code == 409
    assert _chain_intact(site)


def test_a_disabled_user_cannot_log_in_and_their_open_session_ends(site) -> None:
    officer, _ = _browser(site, "olga")
    assert officer.get("/admin/").status_code == 200
    admin, token = _browser(site)
    reply = admin.post("/admin/staff/olga/disable", data={"csrf_token": token, "reason": "left"})
    assert reply.status_code == 302
    refused = officer.get("/admin/")  # the very next request of the open session
    assert refused.status_code == 302 and "/admin/login" in refused.location
    assert officer.get("/admin/certify").status_code == 302
    assert _login_reply(site, "olga")[1].status_code == 401

    admin.post("/admin/staff/olga/enable", data={"csrf_token": token, "reason": "back"})
    again, _ = _browser(site, "olga")
    assert again.get("/admin/").status_code == 200

    # a reset password ends the open sessions too
    admin.post("/admin/staff/olga/password", data={"csrf_token": token, "reason": "leaked"})
    assert again.get("/admin/").status_code == 302


def test_a_changed_role_ends_the_sessions_and_applies_at_the_next_sign_in(site) -> None:
    """Issue 16: a role change ends the account's open sessions (a session never keeps the
    rights of a role taken away); signed in again, the new role applies."""
    auditor, _ = _browser(site, "aude")
    assert auditor.get("/admin/certify").status_code == 403
    admin, token = _browser(site)
    admin.post(
        "/admin/staff/aude/role", data={"csrf_token": token, "role": "officer", "reason": "r"}
    )
    assert auditor.get("/admin/audit").status_code == 302  # signed out
    auditor, _ = _browser(site, "aude")
    assert auditor.get("/admin/certify").status_code == 200
    assert auditor.get("/admin/audit").status_code == 403


@pytest.mark.parametrize(
    ("path", "data", "status", "code"),
    [
        ("/admin/staff", {"username": "", "role": "officer"}, 400, "field_invalid"),
        ("/admin/staff", {"username": "bad name!", "role": "officer"}, 400, "field_invalid"),
        ("/admin/staff", {"username": "zed", "role": "root"}, 400, "field_invalid"),
        ("/admin/staff", {"username": "zed", "role": ""}, 400, "field_invalid"),
        ("/admin/staff", {**ZED, "password": "short"}, 400, "field_invalid"),
        ("/admin/staff", {"username": "olga", "role": "officer"}, 409, "already_exists"),
        ("/admin/staff", {**ZED, "reason": ""}, 400, "reason_required"),
        ("/admin/staff/olga/role", {"role": "superuser"}, 400, "field_invalid"),
        ("/admin/staff/olga/role", {}, 400, "field_invalid"),
        ("/admin/staff/olga/role", {"role": "officer"}, 409, "transition_not_allowed"),
        ("/admin/staff/nobody/role", {"role": "admin"}, 422, "unknown_reference"),
        ("/admin/staff/nobody/disable", {}, 422, "unknown_reference"),
        ("/admin/staff/nobody/enable", {}, 422, "unknown_reference"),
        ("/admin/staff/nobody/password", {}, 422, "unknown_reference"),
        ("/admin/staff/olga/enable", {}, 409, "transition_not_allowed"),
        ("/admin/staff/olga/disable", {"reason": "  "}, 400, "reason_required"),
        ("/admin/staff/olga/password", {"reason": ""}, 400, "reason_required"),
    ],
)  # fmt: skip
def test_bad_input_is_a_form_error_never_a_500(site, path, data, status, code) -> None:
    client, token = _browser(site)
    events = _all_audit_text(site)
    reply = client.post(path, data={"csrf_token": token, "reason": "r", **data})
    assert reply.status_code == status, reply.data[:2000]
    assert _error_code(reply.data) == code
    assert _all_audit_text(site) == events  # nothing recorded
    assert _user(site, "olga").active and _user(site, "olga").role is Role.OFFICER


# --- the services ---------------------------------------------------------------------------


def test_two_admins_disabling_each_other_at_once_leave_one(site) -> None:
    """Both lock the active admins before counting them: one wins, the other is refused."""
    site.write(lambda s: accounts.set_role(s, "olga", Role.ADMIN, reason="r", actor="t", now=NOW))
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def disable(actor: str, target: str) -> None:
        barrier.wait()
        try:
            site.write(
                lambda s: accounts.set_active(
                    s, target, False, reason="coup", actor=f"user:{actor}", now=NOW
                )
            )
            outcomes[target] = "disabled"
        except TransitionNotAllowed:
            outcomes[target] = "refused"

    threads = [
        threading.Thread(target=disable, args=("adam", "olga")),
        threading.Thread(target=disable, args=("olga", "adam")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(outcomes.values()) == ["disabled", "refused"]
    with site.read() as session:
        admins = [u for u in accounts.list_users(session) if u.role is Role.ADMIN and u.active]
    assert len(admins) == 1
    assert _chain_intact(site)


def test_reset_password_with_a_chosen_password_and_list_users(site) -> None:
    chosen = "a chosen new password"
    returned = site.write(
        lambda s: accounts.reset_password(
            s, "aude", reason="asked", actor="t", now=NOW, password=chosen
        )
    )
    assert returned == chosen
    with site.read() as session:
        assert accounts.authenticate_user(session, "aude", chosen) is not None
        listed = [accounts.user_json(u) for u in accounts.list_users(session)]
    assert [(u["username"], u["role"], u["active"]) for u in listed] == [
        ("adam", "admin", True),
        ("aude", "auditor", True),
        ("olga", "officer", True),
    ]
    assert _events(site, "aude")[-1]["details"] == {"change": "password", "generated": False}
    assert chosen not in _all_audit_text(site)


# --- the command line -----------------------------------------------------------------------


def _cli(site, *args: str, code: int = 0) -> Any:
    """``certvc users <args> --instance <site>`` on the site's database."""
    result = CliRunner().invoke(
        cli,
        ["users", args[0], "--instance", str(site.folder), *args[1:]],
        env={"CERTVC_DATABASE_URL": site.url},
    )
    assert result.exit_code == code, (result.stdout, result.stderr)
    if code:
        assert result.stdout == "" and len(result.stderr.strip().splitlines()) == 1
        return result.stderr
    return json.loads(result.stdout) if "--json" in args else result.stdout


def test_cli_lists_and_manages_accounts_each_change_audited(site, tmp_path: Path) -> None:
    listed = _cli(site, "list", "--json")
    assert [(u["username"], u["role"], u["active"]) for u in listed] == [
        ("adam", "admin", True),
        ("aude", "auditor", True),
        ("olga", "officer", True),
    ]
    assert "olga" in _cli(site, "list") and "officer" in _cli(site, "list")

    created = _cli(site, "create", "carl", "--role", "officer", "--generate-password", "--json")
    assert created["username"] == "carl" and len(created["password"]) >= accounts.MIN_PASSWORD
    _browser(site, "carl", created["password"])
    password_file = tmp_path / "pw"
    password_file.write_text("dora's own password\n")
    assert _cli(site, "create", "dora", "--role", "auditor", "--password-file", str(password_file))
    _browser(site, "dora", "dora's own password")

    changed = _cli(site, "set-role", "carl", "admin", "--reason", "lead", "--json")
    assert changed["role"] == "admin"
    assert _cli(site, "disable", "carl", "--reason", "left", "--json")["active"] is False
    assert _login_reply(site, "carl", created["password"])[1].status_code == 401
    assert _cli(site, "enable", "carl", "--reason", "back", "--json")["active"] is True
    reset = _cli(site, "reset-password", "carl", "--reason", "forgot", "--json")
    assert reset["password"] != created["password"]
    _browser(site, "carl", reset["password"])
    text = _cli(site, "reset-password", "dora", "--reason", "forgot")
    assert text.startswith("password of dora reset\npassword (shown once): ")

    actions = [(e["action"], e["details"]) for e in _events(site, "carl")]
    assert actions == [
        ("user.create", {"role": "officer"}),
        ("user.update", {"change": "role", "from": "officer", "to": "admin"}),
        ("user.update", {"change": "active", "from": True, "to": False}),
        ("user.update", {"change": "active", "from": False, "to": True}),
        ("user.update", {"change": "password", "generated": True}),
    ]
    assert all(e["actor"].startswith("cli") for e in _events(site, "carl"))
    assert _chain_intact(site)
    assert reset["password"] not in _all_audit_text(site)


def test_cli_errors_are_one_line_with_exit_2(site) -> None:
    cases = [
        (("set-role", "olga", "root", "--reason", "r"), "field_invalid: role: unknown role"),
        (("set-role", "nobody", "admin", "--reason", "r"), "unknown_reference: username"),
        (("disable", "", "--reason", "r"), "field_invalid: username: is required"),
        (("enable", "nobody", "--reason", "r"), "unknown_reference"),
        (("reset-password", "nobody", "--reason", "r"), "unknown_reference"),
        (("disable", "adam", "--reason", "r"), "transition_not_allowed"),
        (("set-role", "adam", "auditor", "--reason", "r"), "last active admin"),
        (("disable", "olga", "--reason", " "), "reason_required"),
        (("create", "", "--role", "officer", "--generate-password"), "field_invalid: username"),
        (("create", "zed", "--role", "boss", "--generate-password"), "field_invalid: role"),
        (("create", "olga", "--role", "officer", "--generate-password"), "already_exists"),
    ]
    for args, expected in cases:
        stderr = _cli(site, *args, code=2)
        assert stderr.startswith("certvc: error: ") and expected in stderr, (args, stderr)
    assert _events(site, "adam")[-1]["action"] == Action.USER_CREATE.value
    assert _user(site, "adam").active and _user(site, "olga").active
    # a missing --reason is click's usage error, exit 2 as well
    result = CliRunner().invoke(
        cli,
        ["users", "disable", "--instance", str(site.folder), "olga"],
        env={"CERTVC_DATABASE_URL": site.url},
    )
    assert result.exit_code == 2 and "--reason" in result.stderr
