"""Two ``certvc cycle run`` processes at once send each reminder once (issue 13's must-show), on
SQLite and PostgreSQL, through the real path: the runs queue the messages in the outbox, then
``certvc worker --once`` (a process of its own) sends them to a real SMTP server (aiosmtpd on
127.0.0.1 with STARTTLS and AUTH), where each reminder arrives exactly once. A third run,
later, sends nothing; ``--dry-run`` changes nothing.

The processes run on the wall clock (the CLI's clock), so the certifications are made to
expire 20 days from now: the 30-day reminder is due.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from issuer.db.models import AuditEvent, OutboxMessage, OutboxState, ReminderLog
from issuer.services import catalog, cycle, lifecycle
from issuer.services.issuance import IssueRequest

from .conftest import Env
from .smtp import SmtpServer, smtp_server
from .support import BACKENDS, NOW

ROOT = Path(__file__).resolve().parents[2]
PERSONS = 24
STAFF = "office@example-body.org"


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


@pytest.fixture
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    with smtp_server(tmp_path / "smtp") as server:
        yield server


def _environment(env: Env, smtp: SmtpServer | None = None) -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CERTVC_")}
    environment["CERTVC_INSTANCE"] = str(env.folder)
    environment["CERTVC_DATABASE_URL"] = env.url
    environment["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])
    )
    environment["PYTHONFAULTHANDLER"] = "1"
    if smtp is not None:
        environment.update({f"CERTVC_{k}": str(v) for k, v in smtp.config().items()})
    return environment


def _start(env: Env, *args: str, smtp: SmtpServer | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "issuer", *args],
        env=_environment(env, smtp),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _finish(process: subprocess.Popen[str]) -> str:
    out, err = process.communicate(timeout=300)
    assert process.returncode == 0, err[-4000:]
    return out


def _certify(env: Env) -> list[str]:
    expires = datetime.now(UTC) + timedelta(days=20)

    def work(session: Any) -> list[str]:
        catalog.get_body(session).email = STAFF
        numbers = []
        for n in range(PERSONS):
            cert = lifecycle.issue(
                session,
                env.ctx,
                IssueRequest(
                    scheme_code="CWI-2",
                    scope="VT-2",
                    person_name=f"Person {n}",
                    person_reference=f"R-{n}",
                    expires=expires,
                ),
                reason="examination passed",
                actor="t",
                now=NOW,
            )
            cert.person.email = f"person{n}@example.org"
            numbers.append(cert.number)
        return numbers

    return list(env.write(work))


def _counts(env: Env) -> tuple[int, int, int]:
    with env.read() as session:
        return tuple(  # type: ignore[return-value]
            session.execute(select(func.count()).select_from(model)).scalar_one()
            for model in (ReminderLog, OutboxMessage, AuditEvent)
        )


def test_two_cycle_runs_at_once_send_each_reminder_once(env: Env, smtp: SmtpServer) -> None:
    numbers = _certify(env)
    before = _counts(env)

    dry = json.loads(_finish(_start(env, "cycle", "run", "--dry-run", "--json")))
    assert dry["dryRun"] is True and len(dry["reminders"]) == PERSONS
    assert _counts(env) == before  # the dry run changed nothing

    runs = [_start(env, "cycle", "run", "--json") for _ in range(2)]
    reports = [json.loads(_finish(process)) for process in runs]
    noted = Counter(r["certification"] for report in reports for r in report["reminders"])
    assert noted == Counter({number: 1 for number in numbers}), reports
    assert sum(report["emails"]["persons"] for report in reports) == PERSONS
    staff_messages = sum(report["emails"]["staff"] for report in reports)
    assert staff_messages in (1, 2)  # one per transaction that noted something

    with env.read() as session:
        reminders = session.execute(
            select(OutboxMessage.recipient).where(OutboxMessage.kind == cycle.MAIL_EXPIRY)
        ).scalars()
        assert sorted(reminders) == sorted(f"person{n}@example.org" for n in range(PERSONS))
        assert session.execute(select(func.count()).select_from(ReminderLog)).scalar_one() == (
            PERSONS
        )

    # The real path: a worker process sends the outbox through the SMTP server.
    _finish(_start(env, "worker", "--once", smtp=smtp))
    subjects = Counter(str(m["Subject"]) for m in smtp.inbox.messages)
    expiring = {s: c for s, c in subjects.items() if " expires on " in s}
    assert len(expiring) == PERSONS and set(expiring.values()) == {1}, subjects
    staff = [m for m in smtp.inbox.messages if m["To"] == STAFF]
    assert len(staff) == staff_messages
    listed = "".join(m.get_body(preferencelist=("plain",)).get_content() for m in staff)
    assert all(listed.count(number) == 1 for number in numbers)
    assert all(ssl and authenticated for _f, _t, ssl, authenticated in smtp.inbox.envelopes)
    with env.read() as session:
        states = session.execute(
            select(OutboxMessage.state).where(OutboxMessage.kind == cycle.MAIL_EXPIRY)
        ).scalars()
        assert set(states) == {OutboxState.SENT}

    # Later runs find everything noted: nothing more is queued or sent.
    after = _counts(env)
    again = json.loads(_finish(_start(env, "cycle", "run", "--json")))
    assert again["reminders"] == [] and again["emails"] == {"persons": 0, "staff": 0}
    assert _counts(env) == after
