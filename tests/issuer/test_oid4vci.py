"""OpenID4VCI in the issuer: the database store keeps the protocol's single-use rules, offers
are stored as digests and audited, and a wallet gets a holder-bound copy that is recorded with
its own status entries and an audit event, and that every lifecycle move reaches."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from contexts.loader import default_store
from issuer.db.models import (
    Action,
    AuditEvent,
    CredentialState,
    IssuedCredential,
    Oid4vciCredential,
    Oid4vciNonce,
    Oid4vciOffer,
    Oid4vciToken,
    StatusList,
)
from issuer.errors import InstanceNotReady, IssuerCode, TransitionNotAllowed
from issuer.services import lifecycle, oid4vci, status_lists
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST
from tests.wallet_export.store_contract import _offer, check_issuance_store
from tests.wallet_export.wallet import key_proof
from verifier.engine import VerifierPolicy, verify_credential
from verifier.model.status_list import StatusPurpose
from verifier.result import Verdict
from wallet_export.oid4vci import PRE_AUTHORIZED_GRANT
from wallet_export.oid4vci.errors import Oid4vciError

from .support import BACKENDS, NOW

WHEN = NOW + timedelta(hours=1)
STORE_NOW = _offer(1).expires_at - timedelta(minutes=10)  # the contract's NOW


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """The store's atomic statements are what this module tests: every backend."""
    return request.param


def _certify(env, **changes) -> str:
    request = lifecycle.IssueRequest(
        scheme_code="CWI-2", scope="steel groups 1 and 2", person_name="Ada Lovelace", **changes
    )
    return env.write(
        lambda s: (
            lifecycle.issue(s, env.ctx, request, reason="committee", actor="t", now=NOW).number
        )
    )


def _offer_for(env, number, **kwargs):
    return env.write(
        lambda s: oid4vci.create_offer(
            s,
            env.ctx,
            number,
            tx_code=kwargs.get("tx_code", False),
            by_reference=kwargs.get("by_reference", False),
            actor="user:olga",
            now=WHEN,
        )
    )


def _service(env):
    return oid4vci.make_service(env.ctx, env.factory, clock=lambda: WHEN, display_name="Body")


def _pull(env, service, number, holder, configuration=oid4vci.LDP_VC):
    """The wallet's side of the flow, in process: token, nonce, proof, credential."""
    code = _offer_for(env, number).offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    token = service.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})
    nonce = service.nonce()["c_nonce"]
    proof = key_proof(holder, audience=env.ctx.public_url, nonce=nonce, iat=WHEN.timestamp())
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
    reply = service.credential(f"Bearer {token['access_token']}", body)
    return reply["credentials"][0]["credential"]


def _verify(env, credential):
    policy = VerifierPolicy(
        store=default_store(),
        resolver=LocalResolver({env.ctx.did: env.ctx.keyring.did_document()}),
        canonicalizer=FAST,
    )
    return verify_credential(credential, policy, now=WHEN)


def _bit(env, credential_id, purpose):
    with env.read() as session:
        row = lifecycle.get_credential(session, credential_id)
        entry = row.entry(purpose)
        return status_lists.bit(session.get(StatusList, entry.list_id), entry.status_index)


# --- the store ------------------------------------------------------------------------------


def test_the_database_store_keeps_the_contract(env) -> None:
    """tests/wallet_export/store_contract.py, call by call in transactions of their own, and
    all in one caller's transaction."""
    check_issuance_store(lambda: oid4vci.DatabaseStore(env.factory))
    with env.factory() as session, session.begin():
        session.execute(Oid4vciOffer.__table__.delete())
        session.execute(Oid4vciNonce.__table__.delete())
        session.execute(Oid4vciToken.__table__.delete())
        session.execute(Oid4vciCredential.__table__.delete())
        check_issuance_store(lambda: oid4vci.SessionStore(session))


def test_codes_and_nonces_are_single_use_under_concurrency(env) -> None:
    """Eight wallets racing with one pre-authorized code, and with one nonce: one wins each
    (conditional UPDATE / DELETE: PostgreSQL re-checks the row after the winner commits)."""
    store = oid4vci.DatabaseStore(env.factory)
    store.add_offer(_offer(1))
    store.add_nonce("n-1", STORE_NOW + timedelta(minutes=5))
    barrier = threading.Barrier(8)
    redeemed: list[bool] = []
    taken: list[bool] = []

    def race() -> None:
        barrier.wait()
        redeemed.append(store.redeem("code-1", STORE_NOW) is not None)
        taken.append(store.take_nonce("n-1", STORE_NOW))

    threads = [threading.Thread(target=race) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(redeemed) == [False] * 7 + [True]
    assert sorted(taken) == [False] * 7 + [True]


def test_rows_long_expired_are_purged_as_new_ones_come(env) -> None:
    store = oid4vci.DatabaseStore(env.factory)
    store.add_offer(_offer(1, expires_at=STORE_NOW - timedelta(days=2)))
    store.add_nonce("old", STORE_NOW - timedelta(days=2))
    store.add_offer(_offer(2))
    store.add_nonce("new", STORE_NOW + timedelta(minutes=5))
    with env.read() as session:
        assert session.execute(select(Oid4vciOffer.offer_id)).scalars().all() == ["offer-2"]
        assert session.execute(select(Oid4vciNonce.nonce_digest)).scalars().all() == ["new"]


# --- offers ---------------------------------------------------------------------------------


def test_an_offer_is_stored_as_digests_and_audited_without_secrets(https_env) -> None:
    number = _certify(https_env)
    result = _offer_for(https_env, number, tx_code=True)
    code = result.offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    assert result.link.startswith("openid-credential-offer://?credential_offer=")
    assert result.tx_code is not None and len(result.tx_code) == 6
    with https_env.read() as session:
        row = session.execute(select(Oid4vciOffer)).scalar_one()
        stored = json.dumps(
            [getattr(row, c.name) for c in Oid4vciOffer.__table__.columns], default=str
        )
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.OFFER_CREATE)
        ).scalar_one()
    assert code not in stored and result.tx_code not in stored  # digests only
    assert row.credential_ref == number and row.document is None  # by value: no document
    assert event.subject == number and event.actor == "user:olga"
    assert code not in event.details and json.loads(event.details)["txCode"] is True


def test_no_oid4vci_on_an_http_instance(env) -> None:
    number = _certify(env)
    with pytest.raises(InstanceNotReady) as caught:
        _offer_for(env, number)
    assert "https" in caught.value.message


# --- the credential -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("configuration", "key_type"),
    [(oid4vci.LDP_VC, KeyType.ED25519), (oid4vci.JWT_VC_JSON, KeyType.P256)],
    ids=["ldp_vc", "jwt_vc_json"],
)
def test_a_wallet_gets_a_bound_copy_recorded_with_its_own_status(
    https_env, configuration, key_type
) -> None:
    number = _certify(https_env)
    holder = KeyPair.generate(key_type)
    credential = _pull(https_env, _service(https_env), number, holder, configuration)
    result = _verify(https_env, credential)
    assert result.verdict is Verdict.VALID, result.to_json()
    assert result.credential["credentialSubject"]["id"] == holder.public_key.did_key
    assert isinstance(credential, str) is (configuration == oid4vci.JWT_VC_JSON)
    with https_env.read() as session:
        cert = lifecycle.catalog.get_certification(session, number)
        source, copy = cert.credentials
        assert cert.current_credential is source  # the copy is not "the" credential
        assert copy.copy_of_id == source.id and copy.holder_did == holder.public_key.did_key
        assert result.credential["id"] == copy.credential_id != source.credential_id
        own = {(e.list_id, e.status_index) for e in copy.status_entries}
        theirs = {(e.list_id, e.status_index) for e in source.status_entries}
        assert len(own) == 2 and not own & theirs
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.CREDENTIAL_WALLET)
        ).scalar_one()
        assert event.subject == number
        assert json.loads(event.details)["copyOf"] == source.credential_id
    unbound = result.credential["credentialSubject"]
    assert unbound["licenseNumber"] == number


def test_every_lifecycle_move_reaches_the_wallet_copy(https_env) -> None:
    number = _certify(https_env)
    copy = _pull(https_env, _service(https_env), number, KeyPair.generate(KeyType.ED25519))
    later = WHEN + timedelta(days=1)

    def move(action, **kwargs):
        https_env.write(
            lambda s: lifecycle.transition(
                s, https_env.ctx, number, action, reason="r", actor="t", now=later, **kwargs
            )
        )

    move(Action.SUSPEND)
    assert _bit(https_env, copy["id"], StatusPurpose.SUSPENSION) is True
    move(Action.REINSTATE)
    assert _bit(https_env, copy["id"], StatusPurpose.SUSPENSION) is False
    move(Action.RENEW)
    assert _bit(https_env, copy["id"], StatusPurpose.REVOCATION) is True
    with https_env.read() as session:
        row = lifecycle.get_credential(session, copy["id"])
        assert row.state is CredentialState.SUPERSEDED
        assert row.superseded_by_id == row.certification.current_credential.id
        event = session.execute(
            select(AuditEvent).where(AuditEvent.action == Action.RENEW)
        ).scalar_one()
        assert json.loads(event.details)["copies"] == [copy["id"]]


def test_a_copy_alone_can_only_be_revoked(https_env) -> None:
    """A lost wallet: the copy is revoked through the VC API, the certification stays."""
    number = _certify(https_env)
    copy = _pull(https_env, _service(https_env), number, KeyPair.generate(KeyType.ED25519))

    def set_status(purpose, value):
        return https_env.write(
            lambda s: (
                lifecycle.set_credential_status(
                    s, https_env.ctx, copy["id"], purpose, value, reason="lost", actor="t", now=WHEN
                ).state
            )
        )

    with pytest.raises(TransitionNotAllowed):
        set_status(StatusPurpose.SUSPENSION, True)
    assert set_status(StatusPurpose.REVOCATION, True) is CredentialState.REVOKED
    assert _bit(https_env, copy["id"], StatusPurpose.REVOCATION) is True
    with https_env.read() as session:
        cert = lifecycle.catalog.get_certification(session, number)
        assert cert.state_at(WHEN).value == "active"
        assert cert.current_credential.state is CredentialState.ACTIVE


def test_an_inactive_certification_gets_no_offer_and_no_credential(https_env) -> None:
    """Suspended between offer and credential request: credential_request_denied, and
    nothing is recorded."""
    number = _certify(https_env)
    service = _service(https_env)
    code = _offer_for(https_env, number).offer["grants"][PRE_AUTHORIZED_GRANT][
        "pre-authorized_code"
    ]
    token = service.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})
    https_env.write(
        lambda s: lifecycle.transition(
            s, https_env.ctx, number, Action.SUSPEND, reason="r", actor="t", now=WHEN
        )
    )
    holder = KeyPair.generate(KeyType.ED25519)
    proof = key_proof(
        holder,
        audience=https_env.ctx.public_url,
        nonce=service.nonce()["c_nonce"],
        iat=WHEN.timestamp(),
    )
    body = {"credential_configuration_id": oid4vci.LDP_VC, "proofs": {"jwt": [proof]}}
    with pytest.raises(Oid4vciError) as caught:
        service.credential(f"Bearer {token['access_token']}", body)
    assert caught.value.error.value == "credential_request_denied"
    with pytest.raises(TransitionNotAllowed) as refused:
        _offer_for(https_env, number)
    assert refused.value.code is IssuerCode.TRANSITION_NOT_ALLOWED
    with https_env.read() as session:
        assert session.execute(select(func.count()).select_from(IssuedCredential)).scalar() == 1


# --- one credential per configuration, bound to the first key (issue 16, finding 8) --------

#: The second process: its own engine and service on the same instance and database, asked
#: once for the credential (argv: folder, database URL, Authorization header, request body).
_OTHER_PROCESS = """
import json, sys
from pathlib import Path
from issuer import db
from issuer.services import oid4vci
from tests.issuer.support import context
from tests.issuer.test_oid4vci import WHEN
from wallet_export.oid4vci.errors import Oid4vciError
folder, url, authorization, body = sys.argv[1:]
engine = db.make_engine(url)
service = oid4vci.make_service(
    context(Path(folder)), db.session_factory(engine), clock=lambda: WHEN, display_name="Body"
)
try:
    print(json.dumps(service.credential(authorization, json.loads(body))))
except Oid4vciError as error:
    print(json.dumps(error.to_json()))
engine.dispose()
"""


def _token_for(env, service, number) -> str:
    offer = env.write(
        lambda s: oid4vci.create_offer(
            s, env.ctx, number, tx_code=False, by_reference=False, actor="t", now=WHEN
        )
    )
    code = offer.offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]
    return service.token({"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code})[
        "access_token"
    ]


def _body(env, service, holder, configuration=oid4vci.LDP_VC) -> dict:
    nonce = service.nonce()["c_nonce"]
    proof = key_proof(holder, audience=env.ctx.public_url, nonce=nonce, iat=WHEN.timestamp())
    return {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}


def _copies(env) -> int:
    with env.read() as session:
        return session.execute(
            select(func.count())
            .select_from(IssuedCredential)
            .where(IssuedCredential.copy_of_id.is_not(None))
        ).scalar_one()


def test_a_token_redeems_once_per_configuration_across_processes(https_env) -> None:
    """The attack of finding 8 against the database store: the first key gets its copy; in
    another process (own engine, own service) another key is refused and the same key gets the
    same credential; the database holds one copy per configuration."""
    number = _certify(https_env)
    service = _service(https_env)
    token = _token_for(https_env, service, number)
    holder, thief = KeyPair.generate(KeyType.ED25519), KeyPair.generate(KeyType.P256)
    first = service.credential(f"Bearer {token}", _body(https_env, service, holder))

    def elsewhere(key: KeyPair, configuration: str = oid4vci.LDP_VC) -> dict:
        args = [
            str(https_env.folder),
            https_env.url,
            f"Bearer {token}",
            json.dumps(_body(https_env, service, key, configuration)),
        ]
        done = subprocess.run(
            [sys.executable, "-c", _OTHER_PROCESS, *args],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[2],
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    assert elsewhere(holder) == first
    for configuration in (oid4vci.LDP_VC, oid4vci.JWT_VC_JSON):
        refused = elsewhere(thief, configuration)
        assert refused["error"] == "invalid_proof", refused
    assert _copies(https_env) == 1
    with https_env.read() as session:
        token_row = session.execute(select(Oid4vciToken)).scalar_one()
        assert token_row.holder_key == holder.public_key.thumbprint
        kept = session.execute(select(Oid4vciCredential)).scalar_one()
        assert json.loads(kept.credential) == first["credentials"][0]["credential"]


def test_racing_requests_for_one_token_issue_one_copy(https_env) -> None:
    """Eight requests at once with one token, half with the holder's key and half with a
    thief's: one copy is recorded; every answer is that copy or invalid_proof."""
    number = _certify(https_env)
    service = _service(https_env)
    token = _token_for(https_env, service, number)
    holder, thief = KeyPair.generate(KeyType.ED25519), KeyPair.generate(KeyType.ED25519)
    bodies = [_body(https_env, service, holder if n % 2 else thief) for n in range(8)]
    barrier = threading.Barrier(8)
    answers: list[object] = []

    def race(body: dict) -> None:
        barrier.wait()
        try:
            answers.append(service.credential(f"Bearer {token}", body)["credentials"][0])
        except Oid4vciError as error:
            answers.append(error.error.value)

    threads = [threading.Thread(target=race, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    credentials = [a for a in answers if isinstance(a, dict)]
    assert len(answers) == 8 and credentials
    assert all(c == credentials[0] for c in credentials)
    assert sorted(a for a in answers if not isinstance(a, dict)) == ["invalid_proof"] * (
        8 - len(credentials)
    )
    assert _copies(https_env) == 1
