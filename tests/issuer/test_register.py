"""The register (issue 12, point 6): filters, counts, CSV and JSON exports through the service,
the API, the admin UI and ``certvc register export``, on every backend.

The persons' names, references and scopes start like spreadsheet formulas: the CSV must come
back from :mod:`csv` with every row and no cell a spreadsheet would run.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, insert, select

from issuer.cli import main as cli
from issuer.db.models import (
    Action,
    AuditEvent,
    Certification,
    Person,
    Role,
    Scheme,
    State,
)
from issuer.services import accounts, catalog, lifecycle, register

from .conftest import AppEnv
from .support import BACKENDS, NOW, fresh_database

PASSWORD = "correct horse battery"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DAY = timedelta(days=1)

#: name -> (reference, scheme, scope, effective, final move)
PEOPLE = {
    "=cmd|' /C calc'!A0": ("=1+1", "CWI-2", '=HYPERLINK("http://evil.example")', NOW, None),
    "+1": ("\tTAB", "TST-1", "+steel", NOW - 20 * DAY, None),  # expires in 10 days
    "-2": ("\rCR", "TST-1", "-pipes", NOW - 25 * DAY, Action.SUSPEND),  # expires in 5 days
    "@SUM(1)": ("@ref", "TST-1", "@scope", NOW - 40 * DAY, None),  # expired 10 days ago
    "Zoë Ångström": ("P-5", "CWI-2", "VT-2", NOW, Action.WITHDRAW),
}


@pytest.fixture(scope="module", params=BACKENDS)
def site(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    pg_database: str | None,
) -> Iterator[AppEnv]:
    """One register for the module, the app's clock fixed at NOW; an auditor and an officer."""
    folder = tmp_path_factory.mktemp("register")
    with pytest.MonkeyPatch.context() as patch:
        for name in [n for n in os.environ if n.startswith("CERTVC_")]:
            patch.delenv(name)
        with fresh_database(request.param, folder, pg_database) as url:
            environment = AppEnv(folder / "instance", url, CLOCK=lambda: NOW)
            environment.numbers = _populate(environment)
            for name, role in (("aude", Role.AUDITOR), ("olga", Role.OFFICER)):
                environment.write(
                    lambda s, name=name, role=role: accounts.create_user(
                        s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
                    )
                )
            yield environment
            environment.engine.dispose()
            environment.app.extensions["certvc.db"].engine.dispose()


def _populate(site: AppEnv) -> dict[str, str]:
    scheme = {
        "code": "TST-1",
        "name": "Test scheme",
        "criteria": "passed",
        "standard": "ISO 9712",
        "validityDays": 30,
    }
    site.write(lambda s: catalog.create_scheme(s, scheme, actor="t", now=NOW))
    numbers = {}
    for name, (reference, code, scope, effective, move) in PEOPLE.items():
        request = lifecycle.IssueRequest(
            scheme_code=code,
            scope=scope,
            person_name=name,
            person_reference=reference,
            effective=effective,
        )
        number = site.write(
            lambda s, r=request: (
                lifecycle.issue(s, site.ctx, r, reason="exam", actor="t", now=NOW).number
            )
        )
        if move is not None:
            site.write(
                lambda s, n=number, m=move: lifecycle.transition(
                    s, site.ctx, n, m, reason="decided", actor="t", now=NOW
                )
            )
        numbers[name] = number
    return numbers


def _names(site: AppEnv, register_filter: register.RegisterFilter, now=NOW) -> set[str]:
    with site.read() as session:
        return {row["name"] for row in register.rows(session, register_filter, now=now)}


def _audit_count(site: AppEnv) -> int:
    with site.read() as session:
        return session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == Action.REGISTER_EXPORT)
        ).scalar_one()


def _last_export(site: AppEnv) -> AuditEvent:
    with site.read() as session:
        return session.execute(
            select(AuditEvent)
            .where(AuditEvent.action == Action.REGISTER_EXPORT)
            .order_by(AuditEvent.seq.desc())
            .limit(1)
        ).scalar_one()


def _check_csv(text: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(text, newline="")))
    for row in rows:
        for cell in row:
            assert not cell.startswith(FORMULA_START), (cell, row)
    return rows


# --- filters and counts ---------------------------------------------------------------------


def test_every_filter(site: AppEnv) -> None:
    F = register.RegisterFilter
    assert _names(site, F()) == set(PEOPLE)
    assert _names(site, F(state=State.ACTIVE)) == {"=cmd|' /C calc'!A0", "+1"}
    assert _names(site, F(state=State.SUSPENDED)) == {"-2"}
    assert _names(site, F(state=State.WITHDRAWN)) == {"Zoë Ångström"}
    assert _names(site, F(state=State.EXPIRED)) == {"@SUM(1)"}
    assert _names(site, F(scheme="TST-1")) == {"+1", "-2", "@SUM(1)"}
    assert _names(site, F(scheme="CWI-2", state=State.WITHDRAWN)) == {"Zoë Ångström"}
    # expiring within N days: live (active or suspended), not yet expired, expiry <= now + N
    assert _names(site, F(expiring_within=7)) == {"-2"}
    assert _names(site, F(expiring_within=15)) == {"+1", "-2"}
    assert _names(site, F(expiring_within=15, state=State.ACTIVE)) == {"+1"}
    assert _names(site, F(expiring_within=0)) == set()
    # ... measured from the injected now: four days later both are within a week, and the
    # suspended one is gone six days later (expired)
    assert _names(site, F(expiring_within=7), now=NOW + 4 * DAY) == {"+1", "-2"}
    assert _names(site, F(expiring_within=7), now=NOW + 6 * DAY) == {"+1"}
    assert _names(site, F(state=State.EXPIRED), now=NOW + 6 * DAY) == {"@SUM(1)", "-2"}
    with site.read() as session:
        assert register.count(session, F(scheme="TST-1"), now=NOW) == 3
        # the admin list's search takes the same "expiring within" filter
        rows, total = catalog.search_certifications(
            session, catalog.Search(expiring_within=15), now=NOW
        )
        assert total == 2 and {c.person.name for c in rows} == {"+1", "-2"}


def test_rows_carry_the_shown_state_and_current_credential(site: AppEnv) -> None:
    with site.read() as session:
        rows = {r["name"]: r for r in register.rows(session, register.RegisterFilter(), now=NOW)}
        certification = catalog.get_certification(session, site.numbers["+1"])
        current = certification.current_credential
        assert current is not None
        assert rows["+1"]["credentialId"] == current.credential_id
    assert [r["state"] for r in rows.values()].count("expired") == 1
    assert rows["@SUM(1)"]["state"] == "expired"
    assert rows["+1"]["expires"] == (NOW + 10 * DAY).isoformat().replace("+00:00", "Z")
    assert rows["+1"]["reference"] == "\tTAB" and rows["+1"]["scheme"] == "TST-1"
    assert list(rows["+1"]) == list(register.COLUMNS)


def test_counts_per_scheme_and_state(site: AppEnv) -> None:
    with site.read() as session:
        table = {row.scheme: row for row in register.counts(session, now=NOW)}
    assert dict(table["CWI-2"].counts) == {
        State.ACTIVE: 1,
        State.SUSPENDED: 0,
        State.WITHDRAWN: 1,
        State.EXPIRED: 0,
    }
    assert dict(table["TST-1"].counts) == {
        State.ACTIVE: 1,
        State.SUSPENDED: 1,
        State.WITHDRAWN: 0,
        State.EXPIRED: 1,
    }
    assert table["TST-1"].total == 3


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"state": "revoked"}, "state"),
        ({"expiringWithin": "-1"}, "expiringWithin"),
        ({"expiringWithin": "soon"}, "expiringWithin"),
        ({"expiringWithin": "99999"}, "expiringWithin"),
        ({"scheme": "no spaces allowed"}, "scheme"),
    ],
)
def test_bad_filter_values_name_the_field(data: dict, field: str) -> None:
    with pytest.raises(Exception) as raised:
        register.parse_filter(data)
    assert getattr(raised.value, "field", None) == field
    assert raised.value.code.value == "field_invalid"


def test_neutralise_prefixes_formula_cells_only() -> None:
    for cell in ("=1", "+1", "-1", "@A", "\tx", "\rx"):
        assert register.neutralise(cell) == "'" + cell
    for cell in ("", "Ada", "1-2", "a=b", "'=x", " =x"):
        assert register.neutralise(cell) == cell


# --- the API ----------------------------------------------------------------------------------


def test_csv_export_opens_in_a_csv_reader_with_every_row_and_no_formula(site: AppEnv) -> None:
    reply = site.client.get("/api/v1/register?format=csv", headers=site.auth("admin"))
    assert reply.status_code == 200, reply.data[:300]
    assert reply.mimetype == "text/csv"
    assert reply.headers["Cache-Control"] == "no-store"
    assert "attachment" in reply.headers["Content-Disposition"]
    text = reply.data.decode("utf-8-sig")  # a BOM first, for spreadsheets
    rows = _check_csv(text)
    assert rows[0] == list(register.COLUMNS)
    assert len(rows) == 1 + len(PEOPLE)
    by_number = {row[0]: dict(zip(rows[0], row, strict=True)) for row in rows[1:]}
    assert set(by_number) == set(site.numbers.values())
    first = by_number[site.numbers["=cmd|' /C calc'!A0"]]
    assert first["name"] == "'=cmd|' /C calc'!A0"  # shown as text, nothing lost
    assert first["reference"] == "'=1+1"
    assert first["scope"] == '\'=HYPERLINK("http://evil.example")'
    assert by_number[site.numbers["+1"]]["reference"] == "'\tTAB"
    assert by_number[site.numbers["-2"]]["reference"] == "'\rCR"
    assert by_number[site.numbers["@SUM(1)"]]["state"] == "expired"
    assert by_number[site.numbers["Zoë Ångström"]]["name"] == "Zoë Ångström"


def test_json_export_with_filters(site: AppEnv) -> None:
    reply = site.client.get(
        "/api/v1/register?scheme=TST-1&expiringWithin=15&state=suspended",
        headers=site.auth("admin"),
    )
    assert reply.status_code == 200 and reply.mimetype == "application/json"
    data = json.loads(reply.data)
    assert data["filters"] == {"scheme": "TST-1", "state": "suspended", "expiringWithin": 15}
    assert data["total"] == 1
    (row,) = data["certifications"]
    assert row["name"] == "-2" and row["reference"] == "\rCR"  # JSON is data: as stored
    assert row["state"] == "suspended" and row["number"] == site.numbers["-2"]
    everything = json.loads(site.client.get("/api/v1/register", headers=site.auth("admin")).data)
    assert everything["total"] == len(PEOPLE) == len(everything["certifications"])


def test_each_export_is_audited_with_its_filters_and_row_count(site: AppEnv) -> None:
    before = _audit_count(site)
    reply = site.client.get(
        "/api/v1/register?format=csv&scheme=TST-1&reason=annual%20report",
        headers=site.auth("admin"),
    )
    assert reply.status_code == 200
    reply.close()  # a streamed body not read: closing ends its database cursor
    assert _audit_count(site) == before + 1
    event = _last_export(site)
    assert event.actor == "token:admin-token" and event.reason == "annual report"
    assert json.loads(event.details) == {
        "format": "csv",
        "filters": {"scheme": "TST-1", "state": None, "expiringWithin": None},
        "rows": 3,
    }


def test_the_api_needs_an_admin_token(site: AppEnv) -> None:
    before = _audit_count(site)
    reply = site.client.get("/api/v1/register?format=csv")
    assert reply.status_code == 401 and reply.json["error"]["code"] == "auth_required"
    for scope in ("issue", "status"):
        reply = site.client.get("/api/v1/register", headers=site.auth(scope))
        assert reply.status_code == 403 and reply.json["error"]["code"] == "auth_forbidden"
    bad = site.client.get("/api/v1/register", headers={"Authorization": "Bearer nope"})
    assert bad.status_code == 401
    assert _audit_count(site) == before  # nothing exported, nothing recorded


@pytest.mark.parametrize(
    ("query", "status", "code", "field"),
    [
        ("format=xlsx", 400, "field_invalid", "format"),
        ("state=revoked", 400, "field_invalid", "state"),
        ("expiringWithin=-3", 400, "field_invalid", "expiringWithin"),
        ("expiringWithin=week", 400, "field_invalid", "expiringWithin"),
        ("expiringWithin=100000", 400, "field_invalid", "expiringWithin"),
        ("scheme=%3Dcmd", 400, "field_invalid", "scheme"),
        ("scheme=NOPE-9", 422, "unknown_reference", "scheme"),
    ],
)
def test_bad_filters_are_field_errors_never_500(
    site: AppEnv, query: str, status: int, code: str, field: str
) -> None:
    before = _audit_count(site)
    reply = site.client.get(f"/api/v1/register?{query}", headers=site.auth("admin"))
    assert reply.status_code == status, reply.data
    assert reply.json["error"]["code"] == code
    assert reply.json["error"]["message"].startswith(f"{field}: ")
    assert _audit_count(site) == before


def test_the_openapi_document_names_the_route_and_its_scope(site: AppEnv) -> None:
    document = site.client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/register"]["get"]
    assert operation["x-certvc-scope"] == "admin"
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"format", "scheme", "state", "expiringWithin", "reason"}
    assert "text/csv" in operation["responses"]["200"]["content"]


# --- the admin UI -----------------------------------------------------------------------------


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


def test_admin_home_counts_and_expiring_filter(site: AppEnv) -> None:
    client = _login(site, "aude")
    page = client.get("/admin/").get_data(as_text=True)
    assert "Certifications per scheme and state" in page
    tst = re.search(r"<th scope=\"row\">TST-1</th>(.*?)</tr>", page, re.S)
    assert tst is not None
    cells = re.findall(r"<td>(?:<a [^>]*>)?(\d+)", tst.group(1))
    assert cells == ["1", "1", "0", "1", "3"]  # active, suspended, withdrawn, expired, total
    assert 'name="expiringWithin"' in page and "Download the register (CSV)" in page
    page = client.get("/admin/?expiringWithin=15").get_data(as_text=True)
    assert site.numbers["+1"] in page and site.numbers["-2"] in page
    assert site.numbers["=cmd|' /C calc'!A0"] not in page
    assert 'name="expiringWithin" value="15"' in page  # the download keeps the filter
    refused = client.get("/admin/?expiringWithin=soon")
    assert refused.status_code == 200
    assert "expiringWithin: must be an integer" in refused.get_data(as_text=True)


def test_admin_download_is_csrf_checked_and_audited(site: AppEnv) -> None:
    anonymous = site.app.test_client().post("/admin/register.csv", data={})
    assert anonymous.status_code == 302 and "/admin/login" in anonymous.location
    client = _login(site, "aude")
    token = _csrf(client.get("/admin/").data)
    before = _audit_count(site)
    forged = client.post("/admin/register.csv", data={"scheme": "TST-1"})
    assert forged.status_code == 403 and b"csrf_invalid" in forged.data
    assert _audit_count(site) == before
    reply = client.post(
        "/admin/register.csv",
        data={"csrf_token": token, "scheme": "TST-1", "expiringWithin": "15"},
    )
    assert reply.status_code == 200 and reply.mimetype == "text/csv"
    rows = _check_csv(reply.data.decode("utf-8-sig"))
    assert {row[0] for row in rows[1:]} == {site.numbers["+1"], site.numbers["-2"]}
    event = _last_export(site)
    assert event.actor == "user:aude"
    assert json.loads(event.details)["rows"] == 2
    bad = client.post("/admin/register.csv", data={"csrf_token": token, "state": "gone"})
    assert bad.status_code == 400 and b"field_invalid" in bad.data
    # an officer reads the records too
    officer = _login(site, "olga")
    token = _csrf(officer.get("/admin/").data)
    download = officer.post("/admin/register.csv", data={"csrf_token": token})
    assert download.status_code == 200
    download.close()  # a streamed body not read: closing ends its database cursor


# --- the command line -------------------------------------------------------------------------


def _cli(site: AppEnv, monkeypatch: pytest.MonkeyPatch, *args: str):
    monkeypatch.setenv("CERTVC_DATABASE_URL", site.url)
    return CliRunner().invoke(cli, ["register", "export", "--instance", str(site.folder), *args])


def test_cli_export_to_a_file(site: AppEnv, monkeypatch, tmp_path: Path) -> None:
    out = tmp_path / "register.csv"
    before = _audit_count(site)
    # the command reads the real clock: filters whose answer does not depend on the date
    result = _cli(site, monkeypatch, "--format", "csv", "--scheme", "CWI-2", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert result.stdout == ""
    assert "2 certifications written to" in result.stderr
    assert oct(out.stat().st_mode & 0o777) == "0o600"  # personal data
    rows = _check_csv(out.read_text(encoding="utf-8-sig"))
    assert len(rows) == 3 and {row[3] for row in rows[1:]} == {"CWI-2"}
    assert not list(tmp_path.glob(".*part"))  # the temporary file was renamed
    assert _audit_count(site) == before + 1
    event = _last_export(site)
    assert event.actor.startswith("cli")
    assert json.loads(event.details)["filters"]["scheme"] == "CWI-2"


def test_cli_export_to_stdout_as_json(site: AppEnv, monkeypatch) -> None:
    result = _cli(
        site, monkeypatch, "--format", "json", "--expiring-within", "3660", "--scheme", "CWI-2"
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert [row["name"] for row in data["certifications"]] == ["=cmd|' /C calc'!A0"]
    assert data["filters"] == {"scheme": "CWI-2", "state": None, "expiringWithin": 3660}
    withdrawn = json.loads(
        _cli(site, monkeypatch, "--format", "json", "--state", "withdrawn").stdout
    )
    assert [row["name"] for row in withdrawn["certifications"]] == ["Zoë Ångström"]
    csv_text = _cli(site, monkeypatch).stdout  # CSV is the default
    assert len(_check_csv(csv_text.removeprefix("\ufeff"))) == 1 + len(PEOPLE)


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("--state", "gone"), "field_invalid: state"),
        (("--expiring-within", "soon"), "field_invalid: expiringWithin"),
        (("--expiring-within", "-1"), "field_invalid: expiringWithin"),
        (("--format", "xml"), "field_invalid: format"),
        (("--scheme", "NOPE-9"), "unknown_reference: scheme"),
        (("--out", "/nonexistent-folder/register.csv"), "field_invalid: out"),
    ],
)
def test_cli_bad_values_are_one_line_errors(site: AppEnv, monkeypatch, args, code) -> None:
    before = _audit_count(site)
    result = _cli(site, monkeypatch, *args)
    assert result.exit_code == 2, result.output
    assert result.stderr.startswith(f"certvc: error: {code}")
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.output
    assert _audit_count(site) == before


# --- a large register -------------------------------------------------------------------------


def test_a_large_register_is_streamed_in_batches(site: AppEnv) -> None:
    """Rows come from the database a batch at a time and leave as they come (the first
    chunk is written before the last row is read)."""
    extra = register.BATCH * 2 + 17
    with site.read() as session:
        scheme_id = session.execute(select(Scheme.id).where(Scheme.code == "TST-1")).scalar_one()

    def add(session):
        first = session.execute(select(func.max(Person.id))).scalar_one() + 1
        session.execute(
            insert(Person),
            [{"id": first + i, "name": f"Bulk {i}", "created_at": NOW} for i in range(extra)],
        )
        session.execute(
            insert(Certification),
            [
                {
                    "number": f"BULK-{i:05d}",
                    "person_id": first + i,
                    "scheme_id": scheme_id,
                    "scope": "=bulk",
                    "effective": NOW,
                    "expires": NOW + 30 * DAY,
                    "state": State.ACTIVE,
                    "created_at": NOW,
                    "updated_at": NOW,
                    "public_page": False,
                }
                for i in range(extra)
            ],
        )

    site.write(add)
    try:
        with site.read() as session:
            records = register.rows(session, register.RegisterFilter(scheme="TST-1"), now=NOW)
            chunks = register.csv_chunks(records)
            header = next(chunks)
            assert header.startswith("\ufeff")
            parts = [header, *chunks]
        assert len(parts) >= 4  # header, two full batches, the rest
        rows = _check_csv("".join(parts).removeprefix("\ufeff"))
        assert len(rows) == 1 + 3 + extra
    finally:

        def remove(session):
            session.execute(
                Certification.__table__.delete().where(Certification.number.like("BULK-%"))
            )
            session.execute(Person.__table__.delete().where(Person.name.like("Bulk %")))

        site.write(remove)
