"""OpenID4VCI 1.0 end to end over real HTTPS: a wallet pulls a credential from the issuer.

The issuer is a minimal Flask app mounting ``make_blueprint`` (in-memory store, signing with
keys/ and issuer.signing), served by werkzeug on 127.0.0.1 with a certificate from a CA made
in the test. The wallet is @openid4vc/openid4vci (OpenWallet Foundation, npm, pinned in
js/package-lock.json), driven with node; the error cases use a plain HTTP client because the
library stops at the first error. Every issued credential verifies with verifier.engine and
is bound to the holder's key.
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from werkzeug.serving import make_server

from keys.did_jwk import did_jwk
from keys.keypair import KeyPair, KeyType
from verifier.result import Verdict
from wallet_export.oid4vci import PRE_AUTHORIZED_GRANT
from wallet_export.oid4vci.web import make_blueprint

from .https import Reply, call, make_tls, run_wallet, server_context, wallet_node
from .wallet import JWT, LDP, Clock, issuer_service, key_proof

# --- the server ------------------------------------------------------------------------------


@dataclass
class Issuer:
    url: str
    ca: Path
    clock: Clock
    service: Any


@pytest.fixture(scope="module")
def issuer(tmp_path_factory, issuer_key, store) -> Iterator[Issuer]:
    ca, cert, key = make_tls(tmp_path_factory.mktemp("tls"))
    app_slot: dict[str, Flask] = {}
    server = make_server(
        "127.0.0.1",
        0,
        lambda environ, start: app_slot["app"](environ, start),
        threaded=True,
        ssl_context=server_context(cert, key),
    )
    url = f"https://127.0.0.1:{server.server_port}"
    clock = Clock(lambda: dt.datetime.now(dt.UTC))  # the wallet signs with real time
    service = issuer_service(url, issuer_key, store, clock)
    app = Flask("oid4vci-test-issuer")
    app.register_blueprint(make_blueprint(service))
    app_slot["app"] = app
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield Issuer(url, ca, clock, service)
    finally:
        server.shutdown()
        thread.join(timeout=10)


# --- a plain HTTP wallet ---------------------------------------------------------------------


def _call(issuer: Issuer, method: str, url: str, **kwargs: Any) -> Reply:
    return call(issuer.ca, method, url, **kwargs)


def _offer(issuer: Issuer, **kwargs: Any) -> tuple[Any, str]:
    offer = issuer.service.create_offer("CB-2026-000042", **kwargs)
    return offer, offer.offer["grants"][PRE_AUTHORIZED_GRANT]["pre-authorized_code"]


def _token(issuer: Issuer, code: str, **extra: str) -> Reply:
    form = {"grant_type": PRE_AUTHORIZED_GRANT, "pre-authorized_code": code, **extra}
    return _call(issuer, "POST", f"{issuer.url}/oid4vci/token", form=form)


def _nonce(issuer: Issuer) -> str:
    return _call(issuer, "POST", f"{issuer.url}/oid4vci/nonce").body["c_nonce"]


def _credential(issuer: Issuer, token: str, proof: str, configuration: str = LDP) -> Reply:
    body = {"credential_configuration_id": configuration, "proofs": {"jwt": [proof]}}
    headers = {"Authorization": f"Bearer {token}"}
    return _call(issuer, "POST", f"{issuer.url}/oid4vci/credential", json=body, headers=headers)


def _proof(issuer: Issuer, holder: KeyPair, nonce: str, **kwargs: Any) -> str:
    iat = dt.datetime.now(dt.UTC).timestamp()
    return key_proof(holder, audience=issuer.url, nonce=nonce, iat=iat, **kwargs)


# --- the wallet library ----------------------------------------------------------------------


@pytest.fixture(scope="module")
def node() -> str:
    return wallet_node()


@pytest.mark.parametrize(
    ("key_type", "alg", "configuration", "by_jwk", "tx_code", "by_reference"),
    [
        (KeyType.ED25519, "EdDSA", LDP, False, False, False),
        (KeyType.P256, "ES256", JWT, True, True, True),
    ],
    ids=["ldp_vc-did:key-by-value", "jwt_vc_json-did:jwk-tx_code-by-reference"],
)
def test_wallet_library_pulls_a_credential_that_verifies(
    node, issuer, verify, key_type, alg, configuration, by_jwk, tx_code, by_reference
) -> None:
    """Offer -> metadata -> token -> nonce -> credential with the holder's proof, as a
    standard wallet does it; the credential verifies and names the holder's key."""
    holder = KeyPair.generate(key_type)
    offer, _ = _offer(issuer, tx_code=tx_code, by_reference=by_reference)
    kid = None if by_jwk else holder.public_key.did_key_method_id
    result = run_wallet(
        node,
        issuer.ca,
        offer=offer.link,
        txCode=offer.tx_code,
        configurationId=configuration,
        holder={"privateJwk": holder.export_private_jwk(), "kid": kid, "alg": alg},
    )
    assert result["offer"]["credential_issuer"] == issuer.url
    verdict = verify(result["credential"], now=dt.datetime.now(dt.UTC))
    assert verdict.verdict is Verdict.VALID, verdict.to_json()
    bound = verdict.credential["credentialSubject"]["id"]
    assert bound == (did_jwk(holder.public_key) if by_jwk else holder.public_key.did_key)


# --- error codes over HTTP -------------------------------------------------------------------


@pytest.fixture(scope="module")
def holder() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


def test_metadata_is_served_at_the_well_known_paths(issuer) -> None:
    metadata = _call(issuer, "GET", f"{issuer.url}/.well-known/openid-credential-issuer").body
    assert metadata["credential_issuer"] == issuer.url  # §12.2.2: identical, no normalisation
    server = _call(issuer, "GET", f"{issuer.url}/.well-known/oauth-authorization-server").body
    assert server["token_endpoint"] == f"{issuer.url}/oid4vci/token"


def test_reused_pre_authorized_code(issuer) -> None:
    _, code = _offer(issuer)
    first = _token(issuer, code)
    assert first.status == 200 and first.body["token_type"] == "Bearer"
    assert first.headers["Cache-Control"] == "no-store"
    again = _token(issuer, code)
    assert (again.status, again.body["error"]) == (400, "invalid_grant")


def test_expired_pre_authorized_code(issuer) -> None:
    _, code = _offer(issuer)
    issuer.clock.offset = issuer.service.settings.code_lifetime
    try:
        reply = _token(issuer, code)
    finally:
        issuer.clock.offset = dt.timedelta()
    assert (reply.status, reply.body["error"]) == (400, "invalid_grant")


def test_wrong_transaction_code(issuer) -> None:
    offer, code = _offer(issuer, tx_code=True)
    wrong = str((int(offer.tx_code) + 1) % 10**6).zfill(6)
    reply = _token(issuer, code, tx_code=wrong)
    assert (reply.status, reply.body["error"]) == (400, "invalid_grant")
    missing = _token(issuer, code)
    assert (missing.status, missing.body["error"]) == (400, "invalid_request")


def test_stale_nonce(issuer, holder) -> None:
    _, code = _offer(issuer)
    token = _token(issuer, code).body["access_token"]
    nonce = _nonce(issuer)
    assert _credential(issuer, token, _proof(issuer, holder, nonce)).status == 200
    reply = _credential(issuer, token, _proof(issuer, holder, nonce))
    assert (reply.status, reply.body["error"]) == (400, "invalid_nonce")


def test_proof_signed_by_another_key(issuer, holder) -> None:
    _, code = _offer(issuer)
    token = _token(issuer, code).body["access_token"]
    other = KeyPair.generate(KeyType.ED25519)
    reply = _credential(issuer, token, _proof(issuer, holder, _nonce(issuer), signed_by=other))
    assert (reply.status, reply.body["error"]) == (400, "invalid_proof")


def test_missing_or_wrong_access_token(issuer, holder) -> None:
    """RFC 6750 §3.1: 401 with a WWW-Authenticate challenge."""
    reply = _credential(issuer, "not-a-token", _proof(issuer, holder, _nonce(issuer)))
    assert (reply.status, reply.body["error"]) == (401, "invalid_token")
    assert reply.headers["WWW-Authenticate"] == 'Bearer error="invalid_token"'


def test_repeated_or_unencoded_token_parameters(issuer) -> None:
    _, code = _offer(issuer)
    body = f"grant_type={PRE_AUTHORIZED_GRANT}&pre-authorized_code={code}&pre-authorized_code=x"
    request = urllib.request.Request(
        f"{issuer.url}/oid4vci/token",
        data=body.encode(),
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        method="POST",
    )
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(request, context=ssl.create_default_context(cafile=issuer.ca))
    assert json.loads(caught.value.read())["error"] == "invalid_request"
    as_json = _call(issuer, "POST", f"{issuer.url}/oid4vci/token", json={"grant_type": "x"})
    assert (as_json.status, as_json.body["error"]) == (400, "invalid_request")


def test_unknown_offer_reference_is_404(issuer) -> None:
    reply = _call(issuer, "GET", f"{issuer.url}/oid4vci/offers/nope")
    assert reply.status == 404
