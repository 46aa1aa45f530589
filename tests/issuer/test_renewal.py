"""Renewal without a gap (issue 12, ISO/IEC 17024 §9.6): a renewal starting later keeps the
current credential valid until then; at the start the old one is superseded (its revocation
bit set, so every verifier sees it is no longer valid) and the body's own verifier says it was
replaced, naming the new certificate, instead of "withdrawn". Checked over HTTP with an
injected clock, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from issuer.db.models import Action, AuditEvent, IssuedCredential
from issuer.services import audit, lifecycle

from .conftest import AppEnv
from .support import BACKENDS, NOW

CERTIFY = {
    "person": {"name": "Zoë Ångström-Ōtsuka", "reference": "P-1"},
    "scheme": "CWI-2",
    "scope": "VT-2",
    "reason": "examination passed",
}
RENEWED_ON = NOW + timedelta(days=30)
STARTS = NOW + timedelta(days=60)


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


class Clock:
    def __init__(self, moment: datetime) -> None:
        self.moment = moment

    def __call__(self) -> datetime:
        return self.moment


@pytest.fixture
def site(database_url: str, tmp_path: Path) -> Iterator[tuple[AppEnv, Clock]]:
    clock = Clock(NOW)
    environment = AppEnv(tmp_path / "instance", database_url, CLOCK=clock, VERIFIER_CLOCK=clock)
    yield environment, clock
    environment.engine.dispose()
    environment.app.extensions["certvc.db"].engine.dispose()


def _verify(site: AppEnv, credential: dict[str, object]) -> dict[str, object]:
    reply = site.client.post("/api/v1/verify", json=credential)
    assert reply.status_code == 200, reply.data[:300]
    return reply.json


def test_a_renewal_starting_later_leaves_no_gap_then_supersedes(site) -> None:
    site, clock = site
    created = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    assert created.status_code == 201, created.json
    number = created.json["certification"]["number"]
    old = created.json["verifiableCredential"]

    clock.moment = RENEWED_ON
    renewed = site.client.post(
        f"/api/v1/certifications/{number}/renew",
        json={"reason": "recertification exam passed", "effective": STARTS.isoformat()},
        headers=site.auth("issue"),
    )
    assert renewed.status_code == 200, renewed.json
    state = site.client.get(f"/api/v1/certifications/{number}", headers=site.auth("status")).json
    new_id = state["credential"]["id"]
    with site.read() as session:
        new = session.execute(
            select(IssuedCredential.document).where(IssuedCredential.credential_id == new_id)
        ).scalar_one()
    new = json.loads(new)
    assert state["state"] == "active"

    # Before the new period: the printed (old) certificate is still valid; the new one not yet.
    assert _verify(site, old)["verdict"] == "VALID"
    assert _verify(site, new)["verdict"] == "NOT_YET_VALID"

    # Staff act on the certification meanwhile: both periods follow.
    for action, verdicts in (("suspend", "SUSPENDED"), ("reinstate", None)):
        reply = site.client.post(
            f"/api/v1/certifications/{number}/{action}",
            json={"reason": "surveillance finding"},
            headers=site.auth("status"),
        )
        assert reply.status_code == 200, reply.json
        assert _verify(site, old)["verdict"] == (verdicts or "VALID")
    again = site.client.post(
        f"/api/v1/certifications/{number}/renew",
        json={"reason": "twice"},
        headers=site.auth("issue"),
    )
    assert again.status_code == 409 and "has not started yet" in again.json["error"]["message"]

    # The new period starts: the old one is superseded (at the first look at its status list).
    clock.moment = STARTS + timedelta(seconds=1)
    list_url = old["credentialStatus"][0]["statusListCredential"]
    assert site.client.get(list_url.removeprefix("http://127.0.0.1:8000")).status_code == 200
    replaced = _verify(site, old)
    assert replaced["verdict"] == "SUPERSEDED"
    assert replaced["replacedBy"] == {
        "id": new_id,
        "number": number,
        "validFrom": STARTS.isoformat().replace("+00:00", "Z"),
    }
    assert _verify(site, new)["verdict"] == "VALID"
    with site.read() as session:
        events = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.SUPERSEDE)
        ).scalars()
        (event,) = events
        assert event.actor == lifecycle.SCHEDULER and event.subject == number
        assert json.loads(event.details)["by"] == new_id
        assert audit.verify_chain(session).ok


def test_anywhere_else_a_superseded_credential_is_revoked(database_url, tmp_path) -> None:
    """A verifier without the body's records (here: the same app told of no successors) sees
    the revocation bit: no longer valid, whatever the reason."""
    clock = Clock(NOW)
    site = AppEnv(
        tmp_path / "instance",
        database_url,
        CLOCK=clock,
        VERIFIER_CLOCK=clock,
        VERIFIER_SUCCESSORS=None,
    )
    try:
        created = site.client.post(
            "/api/v1/certifications", json=CERTIFY, headers=site.auth("issue")
        ).json
        number, old = created["certification"]["number"], created["verifiableCredential"]
        clock.moment = RENEWED_ON
        renewed = site.client.post(
            f"/api/v1/certifications/{number}/renew",
            json={"reason": "recertification"},
            headers=site.auth("issue"),
        )
        assert renewed.status_code == 200
        assert _verify(site, old)["verdict"] == "REVOKED"
    finally:
        site.engine.dispose()
        site.app.extensions["certvc.db"].engine.dispose()


def test_a_worker_applies_a_started_renewal(site) -> None:
    """Where nobody fetches the list, the job worker supersedes at its next look for work."""
    from issuer.worker import Worker

    site, clock = site
    created = site.client.post("/api/v1/certifications", json=CERTIFY, headers=site.auth("issue"))
    number = created.json["certification"]["number"]
    clock.moment = RENEWED_ON
    site.client.post(
        f"/api/v1/certifications/{number}/renew",
        json={"reason": "recertification", "effective": STARTS.isoformat()},
        headers=site.auth("issue"),
    )
    worker = Worker(writer=site.factory, context=lambda: site.ctx, clock=lambda: RENEWED_ON)
    assert worker.supersede_due() == 0
    later = Worker(writer=site.factory, context=lambda: site.ctx, clock=lambda: STARTS)
    assert later.supersede_due() == 1 and later.supersede_due() == 0
