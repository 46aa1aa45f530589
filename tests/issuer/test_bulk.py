"""Bulk status changes (issue 12 point 5) and confirmation of final actions (point 8).

The dry run changes nothing (every table and every published status list byte-identical) and
the real run reports exactly what its dry run said; refused certifications say why; a real
run works in chunks, each re-signing every status list it touches once and auditing one event
per certification, all or nothing. Through the service, ``POST /api/v1/bulk``, ``certvc bulk``
and the admin UI, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer import db
from issuer.cli import main as cli
from issuer.db.models import Action, AuditEvent, Certification, Role, State, StatusList
from issuer.errors import Conflict, FieldError, UnknownReference
from issuer.services import accounts, bulk, catalog, lifecycle
from verifier.model.status_list import StatusPurpose

from .conftest import AppEnv
from .support import BACKENDS, NOW, fresh_database

PASSWORD = "correct horse battery"
#: number -> (scheme, person reference, the move made after issuing)
CERTS: dict[str, tuple[str, str, Action | None]] = {
    "CW-1": ("CWI-2", "ref-1", None),
    "CW-2": ("CWI-2", "ref-2", None),
    "CW-3": ("CWI-2", "ref-3", None),
    "CW-4": ("CWI-2", "ref-4", Action.SUSPEND),
    "CW-5": ("CWI-2", "ref-5", Action.WITHDRAW),
    "TS-1": ("TST-1", "ref-1", None),
    "TS-2": ("TST-1", "ref-6", None),
    "TS-3": ("TST-1", "ref-7", None),
}


@pytest.fixture(params=BACKENDS)
def site(
    request: pytest.FixtureRequest, tmp_path: Path, pg_database: str | None
) -> Iterator[AppEnv]:
    """An instance with two schemes and eight certifications in every state, the app's clock
    at NOW, an officer and an auditor."""
    with fresh_database(request.param, tmp_path, pg_database) as url:
        environment = AppEnv(tmp_path / "instance", url, CLOCK=lambda: NOW)
        scheme = {
            "code": "TST-1",
            "name": "Test scheme",
            "criteria": "passed",
            "standard": "ISO 9712",
            "validityDays": 400,
        }
        environment.write(lambda s: catalog.create_scheme(s, scheme, actor="t", now=NOW))
        for number, (code, reference, move) in CERTS.items():
            issue = lifecycle.IssueRequest(
                scheme_code=code,
                scope="steel",
                person_name=f"Person {reference}",
                person_reference=reference,
                number=number,
            )
            environment.write(
                lambda s, r=issue: lifecycle.issue(
                    s, environment.ctx, r, reason="exam", actor="t", now=NOW
                )
            )
            if move is not None:
                environment.write(
                    lambda s, n=number, m=move: lifecycle.transition(
                        s, environment.ctx, n, m, reason="decided", actor="t", now=NOW
                    )
                )
        for name, role in (("olga", Role.OFFICER), ("aude", Role.AUDITOR)):
            environment.write(
                lambda s, name=name, role=role: accounts.create_user(
                    s, username=name, password=PASSWORD, role=role, actor="t", now=NOW
                )
            )
        yield environment
        environment.engine.dispose()
        environment.app.extensions["certvc.db"].engine.dispose()


# --- helpers ------------------------------------------------------------------------------


def _snapshot(site: AppEnv) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in primary-key order."""
    tables: dict[str, list[tuple[Any, ...]]] = {}
    with site.engine.connect() as connection:
        for table in db.Base.metadata.sorted_tables:
            order = list(table.primary_key.columns) or list(table.columns)
            rows = connection.execute(select(table).order_by(*order)).all()
            tables[table.name] = [tuple(row) for row in rows]
    return tables


def _published(site: AppEnv) -> dict[int, tuple[bytes, str | None]]:
    """Every status list as served: the bytes and the ETag."""
    with site.read() as session:
        ids = session.execute(select(StatusList.id)).scalars().all()
    served = {}
    for list_id in ids:
        reply = site.client.get(f"/status/{list_id}")
        assert reply.status_code == 200
        served[list_id] = (reply.data, reply.headers.get("ETag"))
    return served


def _lists(site: AppEnv) -> dict[StatusPurpose, tuple[int, str | None, bytes, str | None]]:
    with site.read() as session:
        return {
            row.purpose: (row.version, row.etag, row.bits, row.signed)
            for row in session.execute(select(StatusList)).scalars()
        }


def _states(site: AppEnv) -> dict[str, State]:
    with site.read() as session:
        return {n: s for n, s in session.execute(select(Certification.number, Certification.state))}


def _events(site: AppEnv, action: Action) -> list[AuditEvent]:
    with site.read() as session:
        return list(
            session.execute(
                select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.seq)
            ).scalars()
        )


def _bulk(site: AppEnv, body: Any, scope: str = "status") -> Any:
    return site.client.post("/api/v1/bulk", json=body, headers=site.auth(scope))


def _refused(report: dict[str, Any]) -> dict[str | None, tuple[str, str]]:
    return {r["number"]: (r["code"], r["message"]) for r in report["refused"]}


def _plan(site: AppEnv, selection: bulk.Selection, action: Action) -> bulk.Report:
    with site.read() as session:
        return bulk.plan(session, selection, action, NOW)


# --- the dry run and the real run ---------------------------------------------------------


def test_dry_run_changes_nothing_and_the_real_run_matches_it(site: AppEnv) -> None:
    """Suspend the scheme CWI-2 over the API: the dry run leaves every table and every
    published list byte-identical (signed list, bits, ETag, version) and lists what would
    change and what would be refused; the real run does and reports exactly that."""
    body = {"action": "suspend", "selection": {"scheme": "CWI-2"}, "reason": "audit findings"}
    tables, published, lists = _snapshot(site), _published(site), _lists(site)
    dry = _bulk(site, {**body, "dryRun": True})
    assert dry.status_code == 200, dry.json
    assert dry.headers["Cache-Control"] == "no-store"
    assert _snapshot(site) == tables
    assert _published(site) == published
    assert _lists(site) == lists
    plan = dry.json
    assert plan["dryRun"] is True and plan["action"] == "suspend" and plan["selected"] == 5
    assert plan["changed"] == ["CW-1", "CW-2", "CW-3"]
    refused = _refused(plan)
    assert set(refused) == {"CW-4", "CW-5"}
    assert (
        refused["CW-4"][0] == "transition_not_allowed" and "it is suspended" in refused["CW-4"][1]
    )
    assert "withdrawal is final" in refused["CW-5"][1]

    real = _bulk(site, {**body, "expect": plan["fingerprint"]})
    assert real.status_code == 200, real.json
    done = real.json
    assert done["dryRun"] is False
    for key in ("action", "selected", "changed", "refused", "fingerprint"):
        assert done[key] == plan[key], key
    states = _states(site)
    assert [n for n in CERTS if states[n] is State.SUSPENDED] == ["CW-1", "CW-2", "CW-3", "CW-4"]
    assert states["TS-1"] is State.ACTIVE and states["CW-5"] is State.WITHDRAWN
    events = _events(site, Action.SUSPEND)[-3:]
    assert [e.subject for e in events] == ["CW-1", "CW-2", "CW-3"]
    assert {e.actor for e in events} == {"token:status-token"}
    assert {e.reason for e in events} == {"audit findings"}
    # The published suspension list now says so (re-signed in the one chunk).
    after = _lists(site)
    assert after[StatusPurpose.SUSPENSION][0] == lists[StatusPurpose.SUSPENSION][0] + 1
    assert after[StatusPurpose.REVOCATION] == lists[StatusPurpose.REVOCATION]


def test_refused_reasons(site: AppEnv) -> None:
    """Withdrawn is final, already suspended, unknown numbers and references, a listed number
    the other filters exclude: each refused with a stable code and a reason; not fatal."""
    withdraw = _plan(
        site, bulk.Selection(numbers=("CW-5", "CW-4", "NOPE-1", "TS-1")), Action.WITHDRAW
    )
    assert withdraw.changed == ("CW-4", "TS-1") and withdraw.selected == 3
    by_number = {r.number: r for r in withdraw.refused}
    assert by_number["CW-5"].code == "transition_not_allowed"
    assert "none (withdrawal is final)" in by_number["CW-5"].message
    assert by_number["NOPE-1"].code == "not_found"
    assert by_number["NOPE-1"].message == "no certification with number NOPE-1"

    suspend = _plan(site, bulk.Selection(numbers=("CW-4",)), Action.SUSPEND)
    assert suspend.changed == ()
    assert "it is suspended (possible: reinstate, withdraw)" in suspend.refused[0].message

    reinstate = _plan(
        site, bulk.Selection(scheme="CWI-2", numbers=("TS-1", "CW-4")), Action.REINSTATE
    )
    assert reinstate.changed == ("CW-4",)
    assert [(r.number, r.code) for r in reinstate.refused] == [("TS-1", "not_found")]
    assert "does not match the other filters" in reinstate.refused[0].message

    people = _plan(site, bulk.Selection(references=("ref-1", "nobody")), Action.SUSPEND)
    assert people.changed == ("CW-1", "TS-1")  # every certification of the person
    assert [(r.number, r.code) for r in people.refused] == [(None, "not_found")]
    assert "nobody" in people.refused[0].message

    expiring = _plan(
        site,
        bulk.Selection(expiring_before=NOW.replace(year=NOW.year + 2), state=State.ACTIVE),
        Action.SUSPEND,
    )
    assert expiring.changed == ("TS-1", "TS-2", "TS-3")  # TST-1 runs 400 days, CWI-2 longer
    with pytest.raises(UnknownReference):
        _plan(site, bulk.Selection(scheme="NOPE"), Action.SUSPEND)
    with pytest.raises(FieldError, match="at most 2 per bulk change: narrow it"):
        with site.read() as session:
            bulk.plan(session, bulk.Selection(scheme="CWI-2"), Action.SUSPEND, NOW, limit=2)


def test_chunks_resign_each_list_once_per_chunk_and_audit_every_certification(
    site: AppEnv,
) -> None:
    """Six active certifications suspended two per chunk: three transactions, the suspension
    list re-signed once in each (three versions, not six), the revocation list untouched,
    one audit event per certification, every bit set in the published list."""
    selection = bulk.Selection(state=State.ACTIVE)
    planned = _plan(site, selection, Action.SUSPEND)
    assert planned.changed == ("CW-1", "CW-2", "CW-3", "TS-1", "TS-2", "TS-3")
    before = _lists(site)
    events = len(_events(site, Action.SUSPEND))
    report = bulk.apply(
        site.write,
        site.ctx,
        selection,
        Action.SUSPEND,
        reason="surveillance overdue",
        actor="t",
        now=NOW,
        chunk_size=2,
    )
    assert report.chunks == 3
    assert report.changed == planned.changed and report.refused == planned.refused
    after = _lists(site)
    assert after[StatusPurpose.SUSPENSION][0] == before[StatusPurpose.SUSPENSION][0] + 3
    assert after[StatusPurpose.REVOCATION] == before[StatusPurpose.REVOCATION]
    added = _events(site, Action.SUSPEND)[events:]
    assert [e.subject for e in added] == list(planned.changed)
    assert all(json.loads(e.details)["credentialId"] for e in added)
    with site.read() as session:
        certs = session.execute(
            select(Certification).where(Certification.number.in_(planned.changed))
        ).scalars()
        row = session.execute(
            select(StatusList).where(StatusList.purpose == StatusPurpose.SUSPENSION)
        ).scalar_one()
        for cert in certs:
            assert cert.state is State.SUSPENDED
            credential = cert.current_credential
            assert credential is not None
            entry = credential.entry(StatusPurpose.SUSPENSION)
            assert row.bits[entry.status_index >> 3] & (0x80 >> (entry.status_index & 7))


def _failing_on(call: int, site: AppEnv) -> Callable[[Callable[[Session], Any]], Any]:
    """The transaction runner, but the ``call``-th transaction fails after its work is done
    (an injected fault: it must roll back whole)."""
    calls = {"n": 0}

    def write(work: Callable[[Session], Any]) -> Any:
        calls["n"] += 1
        if calls["n"] != call:
            return site.write(work)

        def failing(session: Session) -> Any:
            work(session)
            session.flush()
            raise RuntimeError("injected failure")

        return site.write(failing)

    return write


def test_a_chunk_is_all_or_nothing(site: AppEnv) -> None:
    """The second chunk fails after its writes: the first stays committed, nothing of the
    second is left (states, bits, list versions, audit events)."""
    selection = bulk.Selection(state=State.ACTIVE)
    before_lists, before_events = _lists(site), len(_events(site, Action.SUSPEND))
    with pytest.raises(RuntimeError, match="injected"):
        bulk.apply(
            _failing_on(3, site),  # 1: the plan, 2: chunk one, 3: chunk two
            site.ctx,
            selection,
            Action.SUSPEND,
            reason="r",
            actor="t",
            now=NOW,
            chunk_size=2,
        )
    states = _states(site)
    assert [n for n in ("CW-1", "CW-2", "CW-3", "TS-1") if states[n] is State.SUSPENDED] == [
        "CW-1",
        "CW-2",
    ]
    assert len(_events(site, Action.SUSPEND)) == before_events + 2
    after = _lists(site)
    assert after[StatusPurpose.SUSPENSION][0] == before_lists[StatusPurpose.SUSPENSION][0] + 1


def test_what_changed_since_the_dry_run_is_refused_or_stops_the_run(site: AppEnv) -> None:
    """A certification suspended by someone else after the dry run: with the dry run's
    fingerprint the real run refuses to start (conflict, nothing done); without it, that
    certification is refused with its reason and the rest done. A change between chunks is
    caught on the locked row the same way."""
    selection = bulk.Selection(scheme="TST-1")
    planned = _plan(site, selection, Action.SUSPEND)
    site.write(
        lambda s: lifecycle.transition(
            s, site.ctx, "TS-2", Action.SUSPEND, reason="elsewhere", actor="t", now=NOW
        )
    )
    snapshot = _snapshot(site)
    with pytest.raises(Conflict, match="run the dry run again"):
        bulk.apply(
            site.write,
            site.ctx,
            selection,
            Action.SUSPEND,
            reason="r",
            actor="t",
            now=NOW,
            expect=planned.fingerprint,
        )
    assert _snapshot(site) == snapshot

    # Between the plan and its chunk (a concurrent officer): refused on the locked row.
    calls = {"n": 0}

    def write(work: Callable[[Session], Any]) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            site.write(
                lambda s: lifecycle.transition(
                    s, site.ctx, "TS-3", Action.WITHDRAW, reason="fraud", actor="t", now=NOW
                )
            )
        return site.write(work)

    report = bulk.apply(write, site.ctx, selection, Action.SUSPEND, reason="r", actor="t", now=NOW)
    assert report.changed == ("TS-1",)
    refused = {r.number: r for r in report.refused}
    assert "it is suspended" in refused["TS-2"].message
    assert refused["TS-3"].code == "transition_not_allowed"
    assert "it is withdrawn" in refused["TS-3"].message
    assert _states(site)["TS-3"] is State.WITHDRAWN


# --- the API ------------------------------------------------------------------------------


def test_api_needs_a_status_token(site: AppEnv) -> None:
    body = {"action": "suspend", "selection": {"scheme": "CWI-2"}, "reason": "r", "dryRun": True}
    assert site.client.post("/api/v1/bulk", json=body).status_code == 401
    forbidden = _bulk(site, body, "issue")
    assert forbidden.status_code == 403 and forbidden.json["error"]["code"] == "auth_forbidden"
    assert _bulk(site, body, "admin").status_code == 200  # admin includes status
    document = site.client.get("/api/v1/openapi.json").json
    operation = document["paths"]["/api/v1/bulk"]["post"]
    assert operation["x-certvc-scope"] == "status"
    assert "BulkRequest" in document["components"]["schemas"]


@pytest.mark.parametrize(
    ("change", "status", "code", "says"),
    [
        ({"action": "explode"}, 400, "field_invalid", "action: must be one of"),
        ({"action": "renew"}, 400, "field_invalid", "per person"),
        ({"action": None}, 400, "field_invalid", "action: is required"),
        ({"selection": {}}, 400, "field_invalid", "selection: is empty"),
        ({"selection": {"numbers": []}}, 400, "field_invalid", "selection: is empty"),
        ({"selection": "CWI-2"}, 400, "field_invalid", "selection: must be a JSON object"),
        ({"selection": {"expiringBefore": "2026-02-30"}}, 400, "field_invalid", "not a real"),
        ({"selection": {"expiringBefore": "soon"}}, 400, "field_invalid", "expiringBefore"),
        ({"selection": {"state": "sleepy"}}, 400, "field_invalid", "state: must be one of"),
        ({"selection": {"numbers": "CW-1"}}, 200, None, ""),  # a text: one a line
        ({"selection": {"numbers": [1, 2]}}, 400, "field_invalid", "list of strings"),
        ({"selection": {"numbers": ["bad number!"]}}, 400, "field_invalid", "numbers[1]"),
        (
            {"selection": {"numbers": [f"N{i}" for i in range(10_001)]}},
            400,
            "field_invalid",
            "at most 10,000 per bulk change",
        ),
        ({"selection": {"scheme": "NOPE"}}, 422, "unknown_reference", "no scheme"),
        ({"reason": ""}, 400, "reason_required", "reason"),
        ({"dryRun": "yes"}, 400, "field_invalid", "dryRun: must be true or false"),
    ],
)
def test_api_bad_input_is_a_clear_4xx(site: AppEnv, change, status, code, says) -> None:
    body = {"action": "suspend", "selection": {"scheme": "CWI-2"}, "reason": "r", "dryRun": True}
    snapshot = _snapshot(site)
    reply = _bulk(site, body | change)
    assert reply.status_code == status, reply.json
    if code is not None:
        assert reply.json["error"]["code"] == code
        assert says in reply.json["error"]["message"]
    assert _snapshot(site) == snapshot


def test_api_bad_bodies_and_a_stale_fingerprint(site: AppEnv) -> None:
    headers = site.auth("status")
    reply = site.client.post("/api/v1/bulk", data="x", headers=headers)
    assert reply.status_code == 415
    reply = site.client.post(
        "/api/v1/bulk", data="[1]", headers=headers, content_type="application/json"
    )
    assert reply.status_code == 400
    body = {"action": "withdraw", "selection": {"numbers": ["TS-1"]}, "reason": "fraud"}
    stale = _bulk(site, body | {"expect": "0" * 32})
    assert stale.status_code == 409 and stale.json["error"]["code"] == "conflict"
    assert _states(site)["TS-1"] is State.ACTIVE


# --- the command line ---------------------------------------------------------------------


def _cli(site: AppEnv, monkeypatch: pytest.MonkeyPatch, *args: str, input: str | None = None):
    monkeypatch.setenv("CERTVC_DATABASE_URL", site.url)
    action, *rest = args
    return CliRunner().invoke(
        cli, ["bulk", action, "--instance", str(site.folder), *rest], input=input
    )


def test_cli_numbers_file_dry_run_then_real_run(
    site: AppEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    numbers = tmp_path / "numbers.txt"
    numbers.write_text("# to suspend after the audit\nCW-1\n\nCW-4  # already\nNOPE-9\nCW-1\n")
    snapshot = _snapshot(site)
    args = ("suspend", "--numbers-file", str(numbers), "--reason", "audit")
    dry = _cli(site, monkeypatch, *args, "--dry-run", "--json")
    assert dry.exit_code == 0, dry.output
    assert _snapshot(site) == snapshot
    plan = json.loads(dry.stdout)
    assert plan["dryRun"] is True and plan["selected"] == 2 and plan["changed"] == ["CW-1"]
    assert [(r["number"], r["code"]) for r in plan["refused"]] == [
        ("CW-4", "transition_not_allowed"),
        ("NOPE-9", "not_found"),
    ]
    assert set(plan) == {"action", "dryRun", "selected", "changed", "refused", "fingerprint"}
    real = _cli(site, monkeypatch, *args, "--json", "--expect", plan["fingerprint"])
    assert real.exit_code == 0, real.output
    done = json.loads(real.stdout)
    assert done["dryRun"] is False
    assert (done["changed"], done["refused"]) == (plan["changed"], plan["refused"])
    assert _states(site)["CW-1"] is State.SUSPENDED
    (event,) = [e for e in _events(site, Action.SUSPEND) if e.reason == "audit"]
    assert event.subject == "CW-1" and event.actor.startswith("cli")


def test_cli_scheme_and_text_output(site: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    dry = _cli(
        site, monkeypatch, "withdraw", "--scheme", "TST-1", "--state", "active", "--reason", "x",
        "--dry-run",
    )  # fmt: skip
    assert dry.exit_code == 0, dry.output
    assert dry.stdout.startswith("withdraw (dry run): 3 selected, 3 would change, 0 refused")
    assert "would change: TS-2" in dry.stdout and "fingerprint: " in dry.stdout
    assert _states(site)["TS-2"] is State.ACTIVE
    real = _cli(site, monkeypatch, "withdraw", "--scheme", "TST-1", "--reason", "scheme closed")
    assert real.exit_code == 0, real.output
    assert real.stdout.startswith("withdraw: 3 selected, 3 changed, 0 refused")
    assert {n: s for n, s in _states(site).items() if n.startswith("TS")} == {
        "TS-1": State.WITHDRAWN,
        "TS-2": State.WITHDRAWN,
        "TS-3": State.WITHDRAWN,
    }


def test_cli_unusable_input_is_one_line_exit_2(
    site: AppEnv, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("CW-1\nnot a number!\n")
    latin = tmp_path / "latin.txt"
    latin.write_bytes("CW-1 # café\n".encode("latin-1"))
    snapshot = _snapshot(site)
    for args, says in (
        (("suspend", "--reason", "r"), "field_invalid: selection: is empty"),
        (("suspend", "--scheme", "NOPE", "--reason", "r"), "unknown_reference"),
        (("suspend", "--numbers-file", str(bad), "--reason", "r"), "numbers: line 2: may hold"),
        (("suspend", "--numbers-file", str(latin), "--reason", "r"), "not UTF-8"),
        (("suspend", "--numbers-file", str(tmp_path / "none"), "--reason", "r"), "input_"),
        (("suspend", "--scheme", "CWI-2", "--expiring-before", "31/12/2026", "--reason", "r"),
         "expiringBefore"),
        (("suspend", "--scheme", "CWI-2", "--reason", " "), "reason_required"),
        (("suspend", "--scheme", "CWI-2", "--reason", "r", "--expect", "f" * 32), "conflict"),
    ):  # fmt: skip
        result = _cli(site, monkeypatch, *args)
        assert result.exit_code == 2, (args, result.output)
        assert result.stderr.startswith("certvc: error: ") and result.stderr.count("\n") == 1
        assert says in result.stderr, (args, result.stderr)
    assert _snapshot(site) == snapshot


def test_cli_reads_numbers_from_stdin(site: AppEnv, monkeypatch: pytest.MonkeyPatch) -> None:
    result = _cli(
        site, monkeypatch, "suspend", "--numbers-file", "-", "--reason", "r", "--dry-run",
        "--json", input="CW-2\nCW-3\n",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["changed"] == ["CW-2", "CW-3"]


# --- the admin UI -------------------------------------------------------------------------


def _token(page: bytes) -> str:
    match = re.search(rb'name="csrf_token" value="([^"]+)"', page)
    assert match, page[:500]
    return match.group(1).decode()


def _login(site: AppEnv, username: str = "olga") -> tuple[Any, str]:
    client = site.app.test_client()
    page = client.get("/admin/login").data
    reply = client.post(
        "/admin/login",
        data={"username": username, "password": PASSWORD, "csrf_token": _token(page)},
    )
    assert reply.status_code == 302
    return client, _token(client.get("/admin/").data)


def _hidden(page: str) -> dict[str, str]:
    """The confirmation form's fields, as a browser would submit them."""
    form = page[page.index('id="confirm"') :]
    form = form[: form.index("</form>")]
    values = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form))
    values |= dict(re.findall(r'<textarea name="([^"]+)" hidden[^>]*>([^<]*)</textarea>', form))
    return {k: v.replace("&#34;", '"').replace("&#39;", "'") for k, v in values.items()}


def test_admin_dry_run_then_confirm(site: AppEnv) -> None:
    client, token = _login(site)
    assert b"Bulk" in client.get("/admin/").data
    assert client.get("/admin/bulk").status_code == 200
    snapshot = _snapshot(site)
    form = {
        "csrf_token": token,
        "scheme": "",
        "state": "",
        "numbers": "CW-1\r\nCW-4\r\n# done\r\nNOPE-2\r\n",
        "references": "ref-6",
        "expiring_before": "",
        "action": "suspend",
        "reason": "audit findings",
    }
    dry = client.post("/admin/bulk", data=form)
    assert dry.status_code == 200
    page = dry.get_data(as_text=True)
    assert _snapshot(site) == snapshot
    assert "Dry run: nothing has changed yet" in page
    # A number list and a reference list: both must hold (ref-6 holds TS-2 only).
    assert "0 selected, 0 would change, 4 would be refused" in page
    assert "CW-1 does not match the other filters" in page
    assert 'id="confirm"' not in page  # nothing to confirm
    form["references"] = ""
    dry = client.post("/admin/bulk", data=form)
    page = dry.get_data(as_text=True)
    assert "2 selected, 1 would change, 2 would be refused" in page
    assert "no certification with number NOPE-2" in page and "it is suspended" in page
    confirm = _hidden(page)
    assert confirm["fingerprint"] and "CW-4" in confirm["numbers"]
    assert "I understand this is final" not in page  # suspending is not final
    done = client.post("/admin/bulk/apply", data=confirm)
    assert done.status_code == 200
    page = done.get_data(as_text=True)
    assert "2 selected, 1 changed, 2 refused" in page
    assert _states(site)["CW-1"] is State.SUSPENDED
    assert [e.actor for e in _events(site, Action.SUSPEND)][-1] == "user:olga"


def test_admin_bulk_withdraw_needs_the_box_ticked(site: AppEnv) -> None:
    client, token = _login(site)
    form = {"csrf_token": token, "scheme": "TST-1", "action": "withdraw", "reason": "closed"}
    page = client.post("/admin/bulk", data=form).get_data(as_text=True)
    assert "I understand this is final" in page and "Withdraw 3 certifications" in page
    confirm = _hidden(page)
    snapshot = _snapshot(site)
    refused = client.post("/admin/bulk/apply", data=confirm)
    assert refused.status_code == 400
    assert b"confirm_final" in refused.data and b"Withdrawal is final" in refused.data
    assert _snapshot(site) == snapshot
    done = client.post("/admin/bulk/apply", data=confirm | {"confirm_final": "yes"})
    assert done.status_code == 200, done.data[:500]
    assert "3 selected, 3 changed, 0 refused" in done.get_data(as_text=True)
    assert _states(site)["TS-3"] is State.WITHDRAWN


def test_admin_bulk_refusals(site: AppEnv) -> None:
    """An auditor cannot, a POST without the CSRF token changes nothing, bad input and a
    stale confirmation re-render the page with the error (4xx), never a 500."""
    auditor, auditor_token = _login(site, "aude")
    assert auditor.get("/admin/bulk").status_code == 403
    form = {"csrf_token": auditor_token, "scheme": "CWI-2", "action": "suspend", "reason": "r"}
    assert auditor.post("/admin/bulk", data=form).status_code == 403
    client, token = _login(site)
    snapshot = _snapshot(site)
    form = {"scheme": "CWI-2", "action": "suspend", "reason": "r"}
    for path in ("/admin/bulk", "/admin/bulk/apply"):
        reply = client.post(path, data=form)
        assert reply.status_code == 403 and b"csrf_invalid" in reply.data
        stolen = client.post(path, data=form | {"csrf_token": auditor_token})
        assert stolen.status_code == 403
    for change, status, says in (
        ({"scheme": ""}, 400, b"selection: is empty"),
        ({"action": "renew"}, 400, b"per person"),
        ({"expiring_before": "2026-13-01"}, 400, b"not a real date"),
        ({"reason": ""}, 400, b"reason_required"),
        ({"numbers": "CW-1\n\nbad one!"}, 400, b"numbers: line 3"),
        ({"scheme": "NOPE"}, 422, b"unknown_reference"),
    ):
        for path in ("/admin/bulk", "/admin/bulk/apply"):
            reply = client.post(path, data=form | {"csrf_token": token} | change)
            assert reply.status_code == status, (path, change, reply.data[:300])
            assert says in reply.data
    stale = client.post(
        "/admin/bulk/apply", data=form | {"csrf_token": token, "fingerprint": "0" * 32}
    )
    assert stale.status_code == 409 and b"run the dry run again" in stale.data
    assert _snapshot(site) == snapshot


# --- point 8: a single withdrawal asks for confirmation -------------------------------------


def test_single_withdraw_needs_the_box_ticked(site: AppEnv) -> None:
    client, token = _login(site)
    page = client.get("/admin/certifications/TS-1").get_data(as_text=True)
    assert "Withdrawal is final" in page and 'name="confirm_final"' in page
    assert "every verifier then says REVOKED" in page
    snapshot = _snapshot(site)
    refused = client.post(
        "/admin/certifications/TS-1/withdraw", data={"csrf_token": token, "reason": "fraud"}
    )
    assert refused.status_code == 400
    assert b"confirm-error" in refused.data and b"tick the box" in refused.data
    assert _snapshot(site) == snapshot
    done = client.post(
        "/admin/certifications/TS-1/withdraw",
        data={"csrf_token": token, "reason": "fraud", "confirm_final": "yes"},
    )
    assert done.status_code == 302
    assert _states(site)["TS-1"] is State.WITHDRAWN
