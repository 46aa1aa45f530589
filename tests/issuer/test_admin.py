"""The admin UI through Flask's test client: login, roles, CSRF, forms, import, audit log."""

from __future__ import annotations

import io
import json
import re
import time

import pytest
from sqlalchemy import func, select

from issuer.db.models import AuditEvent, Certification, Person, Role
from issuer.services import accounts

from .support import NOW

PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def _accounts(shared_app_env):
    """One app and three users for the module (password hashing is slow on purpose)."""
    for name, role in (("olga", Role.OFFICER), ("aude", Role.AUDITOR), ("adam", Role.ADMIN)):
        shared_app_env.write(
            lambda s, name=name, role=role: accounts.create_user(
                s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
            )
        )
    return shared_app_env


@pytest.fixture
def ui(_accounts):
    _accounts.client = _accounts.app.test_client()  # a fresh browser for every test
    return _accounts


def _token(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def login(client, username: str = "olga") -> str:
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _token(page)},
    )
    assert reply.status_code == 302, reply.data[:300]
    return _token(client.get("/admin/").data)


def _certify(client, token: str, **fields) -> str:
    data = {
        "csrf_token": token,
        "name": "Ada Lovelace",
        "scheme": "CWI-2",
        "scope": "steel group 1",
        "reason": "committee",
        **fields,
    }
    reply = client.post("/admin/certify", data=data)
    assert reply.status_code == 302, reply.data[:500]
    return reply.location.rsplit("/", 1)[1]


def _count(app_env, model) -> int:
    with app_env.read() as session:
        return session.execute(select(func.count()).select_from(model)).scalar_one()


def test_pages_need_a_login(ui) -> None:
    """Every page but the login form needs a signed-in user."""
    for path in ("/admin/", "/admin/certify", "/admin/audit", "/admin/import"):
        reply = ui.client.get(path)
        assert reply.status_code == 302 and "/admin/login" in reply.location


def test_wrong_password_is_a_clear_form_error(ui) -> None:
    page = ui.client.get("/admin/login").data
    reply = ui.client.post(
        "/admin/login", data={"username": "olga", "password": "nope", "csrf_token": _token(page)}
    )
    assert reply.status_code == 401 and b"wrong password" in reply.data


def test_officer_certifies_suspends_and_sees_the_state(ui) -> None:
    token = login(ui.client)
    number = _certify(ui.client, token)
    page = ui.client.get(f"/admin/certifications/{number}").data
    assert b"state-active" in page and b"Ada Lovelace" in page
    reply = ui.client.post(
        f"/admin/certifications/{number}/suspend", data={"csrf_token": token, "reason": "audit"}
    )
    assert reply.status_code == 302
    page = ui.client.get(f"/admin/certifications/{number}").data
    assert b"state-suspended" in page and b"Reinstate" in page
    listing = ui.client.get("/admin/?state=suspended").data
    assert number.encode() in listing
    download = ui.client.get(f"/admin/certifications/{number}/credential.json")
    assert (
        download.status_code == 200
        and json.loads(download.data)["credentialSubject"]["licenseNumber"] == number
    )


def test_missing_forged_and_replayed_csrf_tokens_are_refused(ui) -> None:
    """OWASP synchronizer token: bound to the session, replaced at login; a token from an
    earlier session (replayed) or a made-up one (forged) changes nothing."""
    old_token = login(ui.client)
    number = _certify(ui.client, old_token)
    ui.client.post("/admin/logout", data={"csrf_token": old_token})
    token = login(ui.client)
    assert token != old_token
    events = _count(ui, AuditEvent)
    for forged in ("", "x" * 43, old_token):
        data = {"reason": "sneaky", "confirm_final": "yes"}
        data |= {"csrf_token": forged} if forged else {}
        reply = ui.client.post(f"/admin/certifications/{number}/withdraw", data=data)
        assert reply.status_code == 403 and b"csrf_invalid" in reply.data
    assert _count(ui, AuditEvent) == events
    other = ui.app.test_client()  # another browser: its own session, its own token
    stolen = login(other, "adam")
    reply = ui.client.post(
        f"/admin/certifications/{number}/withdraw",
        data={"reason": "x", "confirm_final": "yes", "csrf_token": stolen},
    )
    assert reply.status_code == 403


def test_auditor_reads_but_cannot_act(ui) -> None:
    token = login(ui.client)
    number = _certify(ui.client, token)
    auditor = ui.app.test_client()
    auditor_token = login(auditor, "aude")
    assert auditor.get(f"/admin/certifications/{number}").status_code == 200
    audit_page = auditor.get("/admin/audit")
    assert audit_page.status_code == 200 and b"chain intact" in audit_page.data
    reply = auditor.post(
        f"/admin/certifications/{number}/suspend", data={"csrf_token": auditor_token, "reason": "r"}
    )
    assert reply.status_code == 403 and b"auth_forbidden" in reply.data
    assert ui.client.get("/admin/audit").status_code == 403  # officers do not see the log


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"reason": ""}, b"reason_required"),
        ({"scheme": "NOPE"}, b"unknown_reference"),
        ({"effective": "2026-02-30"}, b"not a real date"),
        ({"name": ""}, b"name: is required"),
        ({"number": "bad number!"}, b"field_invalid"),
    ],
)
def test_form_errors_are_shown_next_to_the_form(ui, fields, message) -> None:
    token = login(ui.client)
    before = _count(ui, Certification), _count(ui, Person), _count(ui, AuditEvent)
    data = {"csrf_token": token, "name": "Ada", "scheme": "CWI-2", "scope": "s", "reason": "r"}
    reply = ui.client.post("/admin/certify", data=data | fields)
    assert 400 <= reply.status_code < 500 and message in reply.data
    assert b'role="alert"' in reply.data
    assert (_count(ui, Certification), _count(ui, Person), _count(ui, AuditEvent)) == before


def test_illegal_action_re_renders_with_the_error(ui) -> None:
    token = login(ui.client)
    number = _certify(ui.client, token)
    reply = ui.client.post(
        f"/admin/certifications/{number}/reinstate", data={"csrf_token": token, "reason": "r"}
    )
    assert reply.status_code == 409 and b"transition_not_allowed" in reply.data


def test_csv_import_shows_progress_and_lists_bad_rows(ui) -> None:
    token = login(ui.client)
    persons = _count(ui, Person)
    csv_text = (
        "name,reference,scheme,scope\n"
        + "".join(f"Person {n},R-{n},,\n" for n in range(30))
        + ",R-x,,\nBroken,R-y,CWI-2,\n"
    )
    reply = ui.client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "reason": "yearly import",
            "file": (io.BytesIO(csv_text.encode()), "people.csv"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302
    job = reply.location
    for _ in range(200):
        page = ui.client.get(job).data
        if b"Done:" in page:
            break
        assert b'http-equiv="refresh"' in page and b"<progress" in page
        time.sleep(0.02)
    assert b"Done: 30 of 32 rows imported, 2 refused." in page
    assert b"name: is required" in page and b"scope: is required" in page
    assert _count(ui, Person) == persons + 30


def _wait_done(ui, location: str) -> bytes:
    for _ in range(200):
        page = ui.client.get(location).data
        if b"Done:" in page or b"Failed" in page:
            return page
        time.sleep(0.02)
    return page


def test_the_import_page_documents_the_format_and_offers_a_template(ui) -> None:
    """Issue 19: the hint names the columns, the date forms and the re-run; the template is a
    download (BOM for spreadsheets) that parses and imports one row."""
    token = login(ui.client)
    page = ui.client.get("/admin/import").data.decode()
    assert 'href="/admin/import/template.csv"' in page
    for words in ("<code>name</code> (required)", "2026-11-01T09:00:00Z", "semicolons or tabs"):
        assert words in page
    assert "already present, not imported twice" in " ".join(page.split())
    reply = ui.client.get("/admin/import/template.csv")
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    assert "attachment" in reply.headers["Content-Disposition"]
    assert reply.data.startswith(
        b"\xef\xbb\xbfname,reference,scheme,scope,number,effective,email\r\n"
    )
    persons = _count(ui, Person)
    upload = ui.client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "reason": "template",
            "file": (io.BytesIO(reply.data.replace(b"P-0001", b"TPL-ADMIN")), "template.csv"),
        },
        content_type="multipart/form-data",
    )
    assert upload.status_code == 302
    assert b"Done: 1 of 1 rows imported, 0 refused." in _wait_done(ui, upload.location)
    assert _count(ui, Person) == persons + 1


def test_the_template_needs_a_sign_in(ui) -> None:
    assert ui.client.get("/admin/import/template.csv").status_code in (302, 401, 403)


def test_an_excel_semicolon_file_with_a_bom_uploads(ui) -> None:
    token = login(ui.client)
    persons = _count(ui, Person)
    excel = "\ufeffName;Reference;Effective\r\nÉdith Piaf;XLS-1;\r\nJacques Brel;XLS-2;\r\n"
    reply = ui.client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "reason": "from Excel",
            "file": (io.BytesIO(excel.encode()), "excel.csv"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302, reply.data[:300]
    assert b"Done: 2 of 2 rows imported, 0 refused." in _wait_done(ui, reply.location)
    assert _count(ui, Person) == persons + 2


def test_a_bad_header_is_refused_at_the_upload(ui) -> None:
    token = login(ui.client)
    reply = ui.client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "reason": "r",
            "file": (io.BytesIO(b"name;password\nAda;x\n"), "bad.csv"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400
    assert b"unknown columns [&#39;password&#39;]; known: name, reference" in reply.data


def test_a_10000_row_csv_uploads_through_the_admin_ui(ui) -> None:
    """The documented limit (16 MiB) is the real one: a 10,000-row file (about 330 KB) is
    taken, not refused with 413 by a form-memory cap."""
    token = login(ui.client)
    persons = _count(ui, Person)
    csv_text = "name,reference\n" + "".join(
        f"Person number {n} with a longer name,BIG-{n:06d}\n" for n in range(10_000)
    )
    assert len(csv_text.encode()) > 300_000
    reply = ui.client.post(
        "/admin/import",
        data={
            "csrf_token": token,
            "reason": "yearly import",
            "file": (io.BytesIO(csv_text.encode()), "people.csv"),
        },
        content_type="multipart/form-data",
    )
    assert reply.status_code == 302, reply.data[:300]
    for _ in range(1500):
        page = ui.client.get(reply.location).data
        if b"Done:" in page:
            break
        time.sleep(0.05)
    assert b"Done: 10000 of 10000 rows imported" in page
    assert _count(ui, Person) == persons + 10_000


def test_import_form_errors(ui) -> None:
    token = login(ui.client)
    reply = ui.client.post(
        "/admin/import",
        data={"csrf_token": token, "reason": "r", "file": (io.BytesIO(b"\xff\xfe"), "x.csv")},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400 and b"not UTF-8" in reply.data
    reply = ui.client.post(
        "/admin/import",
        data={"csrf_token": token, "reason": "r"},
        content_type="multipart/form-data",
    )
    assert reply.status_code == 400 and b"choose a CSV file" in reply.data
