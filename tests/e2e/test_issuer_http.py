"""The issuer end to end over real HTTP (werkzeug on 127.0.0.1), on SQLite and PostgreSQL.

Credentials are verified with certvc's production verifier (verifier.service.Verifier): its
safe fetcher gets the published status lists over HTTP (the server's loopback origin
allow-listed), verifies each list's proof and reads the bit (Bitstring Status List 1.0 §3.2);
the body's DID document is pinned in its trust list.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from issuer import db
from issuer.db.models import AuditEvent, Certification, IssuedCredential, StatusEntry, StatusList
from issuer.services import audit
from tests.issuer.support import entries, http, list_bit, production_verifier
from verifier.model.status_list import StatusPurpose
from verifier.result import Check, CheckStatus, Verdict

CERTIFY = {
    "scheme": "CWI-2",
    "scope": "visual testing of welds, steel groups 1, 2 and 8",
    "person": {"name": "Zoë Ångström-Ōtsuka", "reference": "P-0042"},
    "reason": "certification committee decision 2026-11-27",
}


def _now() -> datetime:
    return datetime.now(UTC)


def _post(server, path, body):
    return http("POST", server.url(path), body=body, token=server.token)


def _act(server, number, action, **extra):
    reply = _post(server, f"/api/v1/certifications/{number}/{action}", {"reason": action, **extra})
    assert reply.status == 200, reply.body
    return reply.json


def test_issue_suspend_reinstate_renew_withdraw_over_http(server) -> None:
    """Must show: issue -> verifies; suspend/reinstate flips the suspension bit; renew gives a
    new credential with new dates, the old one valid until they start; withdraw -> the
    published list has the revocation bit and the verifier says REVOKED; every step is in the
    audit log and the chain verifies."""
    created = _post(server, "/api/v1/certifications", CERTIFY)
    assert created.status == 201, created.body
    number = created.json["certification"]["number"]
    first = created.json["verifiableCredential"]
    verifier = production_verifier(server)

    def verdict(credential, now=None):
        return verifier.verify(credential, now=now or _now()).result.verdict

    result = verifier.verify(first).result
    assert result.verdict is Verdict.VALID, result.to_json()
    status = result.check(Check.STATUS)
    assert status.status is CheckStatus.PASSED
    assert "revocation: unset; suspension: unset" in status.message  # both lists read
    assert result.check(Check.TRUST).status is CheckStatus.PASSED
    (revocation_url, revocation_index) = entries(first)[StatusPurpose.REVOCATION]
    (suspension_url, suspension_index) = entries(first)[StatusPurpose.SUSPENSION]

    _act(server, number, "suspend")
    assert list_bit(server, suspension_url, suspension_index) == 1
    assert verdict(first) is Verdict.SUSPENDED
    _act(server, number, "reinstate")
    assert list_bit(server, suspension_url, suspension_index) == 0
    assert verdict(first) is Verdict.VALID

    renewed = _act(
        server, number, "renew", effective=(_now() + timedelta(days=2)).date().isoformat()
    )
    second = renewed["verifiableCredential"]
    assert second["id"] != first["id"]
    assert second["validFrom"] > first["validFrom"] and second["validUntil"] > first["validUntil"]
    # Renewed from a later date: the old one stays valid until then, no gap (issue 12); it is
    # superseded when the new period starts (tests/issuer/test_renewal.py).
    assert list_bit(server, revocation_url, revocation_index) == 0
    assert verdict(first) is Verdict.VALID
    assert verdict(second) is Verdict.NOT_YET_VALID
    later = _now() + timedelta(days=3)
    assert verdict(second, later) is Verdict.VALID

    _act(server, number, "withdraw")
    new_url, new_index = entries(second)[StatusPurpose.REVOCATION]
    assert list_bit(server, new_url, new_index) == 1
    assert verdict(second, later) is Verdict.REVOKED
    assert verdict(first) is Verdict.REVOKED  # the period not yet superseded is withdrawn too

    log = http("GET", server.url(f"/api/v1/audit?subject={number}"), token=server.token).json
    assert [e["action"] for e in reversed(log["events"])] == [
        "issue",
        "suspend",
        "reinstate",
        "renew",
        "withdraw",
    ]
    assert all(e["reason"] and e["actor"] == "token:e2e" for e in log["events"])
    chain = http("GET", server.url("/api/v1/audit/verify"), token=server.token).json
    assert chain["ok"], chain


def test_status_lists_are_cacheable_and_change_at_once(server) -> None:
    """Stable URL, ETag and Cache-Control from the list's ttl; a conditional GET answers 304
    until a bit changes, and the new list is there on the very next request."""
    created = _post(server, "/api/v1/certifications", CERTIFY).json
    url, index = entries(created["verifiableCredential"])[StatusPurpose.SUSPENSION]
    first = http("GET", url)
    assert first.status == 200 and first.headers["Content-Type"].startswith("application/vc")
    ttl = first.json["credentialSubject"]["ttl"]
    assert first.headers["Cache-Control"] == f"public, max-age={ttl // 1000}"
    etag = first.headers["ETag"]
    assert http("GET", url, headers={"If-None-Match": etag}).status == 304
    _act(server, created["certification"]["number"], "suspend")
    changed = http("GET", url, headers={"If-None-Match": etag})
    assert changed.status == 200 and changed.headers["ETag"] != etag
    assert list_bit(server, url, index) == 1


def test_did_document_lists_the_keys_that_sign(server) -> None:
    did_document = http("GET", server.url("/.well-known/did.json")).json
    created = _post(server, "/api/v1/certifications", CERTIFY).json
    method = created["verifiableCredential"]["proof"]["verificationMethod"]
    assert method in did_document["assertionMethod"]
    assert did_document["id"] == created["verifiableCredential"]["issuer"]["id"]


def test_vc_api_issue_then_status_over_http(server) -> None:
    credential = {
        "@context": ["https://www.w3.org/ns/credentials/v2"],
        "type": ["VerifiableCredential"],
        "name": "Proctor accreditation",
        "credentialSubject": {"id": "did:example:ada", "name": "Ada"},
    }
    issued = _post(server, "/credentials/issue", {"credential": credential, "options": {}})
    assert issued.status == 201, issued.body
    document = issued.json["verifiableCredential"]
    verifier = production_verifier(server)
    assert verifier.verify(document).result.verdict is Verdict.VALID
    change = {
        "credentialId": document["id"],
        "credentialStatus": [{"type": "BitstringStatusListEntry", "status": "revoked"}],
    }
    assert _post(server, "/credentials/status", change).status == 200
    assert verifier.verify(document).result.verdict is Verdict.REVOKED


def test_a_failure_midway_returns_no_credential_and_writes_nothing(server, monkeypatch) -> None:
    """Must show: no credential unless record, status allocation and audit event committed.
    The audit append (the last step) fails: the client gets a JSON 500, no credential, and the
    database, the status lists and the audit chain are exactly as before."""
    number = _post(server, "/api/v1/certifications", CERTIFY).json["certification"]["number"]
    factory = db.session_factory(server.engine)

    def snapshot():
        with factory() as session:
            counts = [
                session.execute(select(func.count()).select_from(m)).scalar_one()
                for m in (Certification, IssuedCredential, StatusEntry, AuditEvent)
            ]
            lists = [
                (r.id, r.version, r.bits, r.signed)
                for r in session.execute(select(StatusList).order_by(StatusList.id)).scalars()
            ]
            return counts, lists, session.execute(select(Certification.state)).scalars().all()

    before = snapshot()

    def disk_full(*args, **kwargs):
        raise OSError("injected: disk full")

    monkeypatch.setattr(audit, "record", disk_full)
    monkeypatch.setattr(audit, "record_many", disk_full)
    for path, body in [
        ("/api/v1/certifications", CERTIFY),
        (f"/api/v1/certifications/{number}/renew", {"reason": "r"}),
        (f"/api/v1/certifications/{number}/suspend", {"reason": "r"}),
    ]:
        reply = _post(server, path, body)
        assert reply.status == 500 and reply.json["error"]["code"] == "internal_error"
        assert b"verifiableCredential" not in reply.body and b"Traceback" not in reply.body
    monkeypatch.undo()
    assert snapshot() == before
    with factory() as session:
        assert audit.verify_chain(session).ok
