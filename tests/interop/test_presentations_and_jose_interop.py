"""Presentations, enveloped forms, ES384 and ES512 across certvc and the references.

Data Integrity presentations: ``certvc sign --presentation`` checked by @digitalbazaar/vc's
``verify()``, and ``signPresentation``'s output checked by certvc's
``/presentations/verify``. JOSE (vc+jwt, vp+jwt; ES256/ES384/ES512): what ``certvc sign``
writes verifies with panva/jose's ``compactVerify`` (the algorithm from the key), and what jose
signs verifies with ``certvc verify`` and, enveloped, on the VC API endpoints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest

from keys.keypair import KeyPair, KeyType
from keys.suites import vc_jwt
from tests.interop.credentials import CREATED, KEYS
from tests.interop.harness import Certvc, Reference
from verifier.app import create_app

pytestmark = pytest.mark.interop

VC_V2 = "https://www.w3.org/ns/credentials/v2"
NOW = datetime(2026, 11, 1, 9, 0, tzinfo=UTC)


def _key_pair(pair: KeyPair) -> dict[str, str]:
    return {
        "publicKeyMultibase": pair.public_key.multibase,
        "secretKeyMultibase": pair.export_secret_multibase(),
    }


def _credential(issuer: str) -> dict[str, Any]:
    return {
        "@context": [VC_V2],
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "validFrom": "2026-01-01T00:00:00Z",
        "credentialSubject": {"id": "did:example:holder", "name": "Zoë Ωmega"},
    }


def _run(certvc: Certvc, args: list[str], tag: str, data: Any) -> Any:
    path = certvc.workdir / tag
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    result = certvc._run([*args, str(path)])
    assert result.exit_code == 0, result.stderr
    text = result.stdout.strip()
    return text if text.startswith("ey") else json.loads(text)


def _sign(certvc: Certvc, pair: KeyPair, suite: str, document: Any, tag: str, *extra: str) -> Any:
    key = certvc.workdir / f"{tag}.key.json"
    key.write_text(json.dumps(_key_pair(pair)), encoding="utf-8")
    args = ["sign", "--plaintext", "--key", str(key), "--suite", suite, "--created", CREATED]
    return _run(certvc, [*args, *extra], f"{tag}.in.json", document)


@pytest.fixture(scope="module")
def verifier_client() -> Any:
    app = create_app(
        {"VERIFIER_TRUST_ANY": True, "VERIFIER_CLOCK": lambda: NOW, "VERIFIER_RATE_PER_MINUTE": 0}
    )
    return app.test_client()


@pytest.mark.parametrize("key", KEYS[:2], ids=lambda k: k.name)
def test_reference_verifies_our_presentations(reference: Reference, certvc: Certvc, key) -> None:
    """VC Data Model 2.0 §4.13 and Data Integrity 1.0 §2.1 (proofPurpose authentication,
    challenge, domain): a presentation signed by certvc sign --presentation, holding a
    credential certvc signed, passes the reference's verify() with the same
    challenge and domain, and fails it with another challenge."""
    pair = KeyPair.from_multikey(key.key_pair())
    credential = _sign(certvc, pair, key.suite, _credential(pair.public_key.did_key), "vp-vc")
    vp = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "verifiableCredential": [credential],
    }
    signed = _sign(
        certvc,
        pair,
        key.suite,
        vp,
        f"vp-{key.name}",
        "--presentation",
        "--challenge",
        "c-1",
        "--domain",
        "v.test",
    )
    jobs = [
        {"op": "verify", "presentation": signed, "challenge": "c-1", "domain": "v.test"},
        {"op": "verify", "presentation": signed, "challenge": "c-2", "domain": "v.test"},
    ]
    good, wrong = reference.run("presentations.mjs", jobs)
    assert good == {"verified": True}, good
    assert wrong["verified"] is False


@pytest.mark.parametrize("key", KEYS[:2], ids=lambda k: k.name)
def test_we_verify_the_references_presentations(
    reference: Reference, verifier_client: Any, key
) -> None:
    """The reverse: signPresentation's output (holder proof, authentication purpose) verifies
    on certvc's /presentations/verify (W3C VC API) with its challenge; a changed holder fails."""
    holder = key.key_pair()
    did = f"did:key:{holder['publicKeyMultibase']}"
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"], "holder": did}
    job = {
        "op": "sign",
        "presentation": vp,
        "keyPair": holder,
        "cryptosuite": key.suite,
        "challenge": "c-1",
        "domain": "v.test",
        "created": CREATED,
    }
    signed = reference.run("presentations.mjs", job)["signed"]
    body = {"verifiablePresentation": signed, "options": {"challenge": "c-1", "domain": "v.test"}}
    reply = verifier_client.post("/presentations/verify", json=body)
    assert reply.status_code == 200, reply.json
    tampered = {**signed, "holder": "did:example:else"}
    body["verifiablePresentation"] = tampered
    assert verifier_client.post("/presentations/verify", json=body).status_code == 400


JOSE_KEYS = [(KeyType.P256, "ES256"), (KeyType.P384, "ES384"), (KeyType.P521, "ES512")]


@pytest.mark.parametrize(("key_type", "alg"), JOSE_KEYS, ids=[a for _, a in JOSE_KEYS])
def test_jose_verifies_our_tokens(reference: Reference, certvc: Certvc, key_type, alg) -> None:
    """VC-JOSE-COSE §3.1.1 / §3.2.1 with RFC 7518 §3.4: certvc's vc+jwt and (enveloped, VC Data
    Model 2.0 §4.13.2) vp+jwt verify with jose's compactVerify, alg from the key; the payload is
    the credential or presentation itself, with the challenge as nonce."""
    pair = KeyPair.generate(key_type)
    token = _sign(certvc, pair, "vc+jwt", _credential(pair.public_key.did_key), f"jose-{alg}")
    vp = {"@context": [VC_V2], "type": ["VerifiablePresentation"]}
    envelope = _sign(
        certvc,
        pair,
        "vc+jwt",
        vp,
        f"jose-vp-{alg}",
        "--presentation",
        "--challenge",
        "n-1",
        "--enveloped",
    )
    vp_token = vc_jwt.unenvelope(envelope, presentation=True)
    jwk = {**pair.public_key.to_jwk(), "alg": alg}
    jobs = [
        {"op": "verify", "token": token, "jwk": jwk, "typ": "vc+jwt"},
        {"op": "verify", "token": vp_token, "jwk": jwk, "typ": "vp+jwt"},
        {"op": "verify", "token": token[:-6] + "AAAAAA", "jwk": jwk, "typ": "vc+jwt"},
    ]
    credential, presentation, forged = reference.run("jose.mjs", jobs)
    assert credential["verified"] is True, credential
    assert credential["header"]["alg"] == alg
    assert credential["payload"]["issuer"] == pair.public_key.did_key
    assert presentation["verified"] is True, presentation
    assert presentation["payload"]["nonce"] == "n-1"
    assert forged["verified"] is False


@pytest.mark.parametrize(("key_type", "alg"), JOSE_KEYS, ids=[a for _, a in JOSE_KEYS])
def test_we_verify_jose_tokens(
    reference: Reference, certvc: Certvc, verifier_client: Any, key_type, alg
) -> None:
    """What jose signs (typ vc+jwt, kid the did:key method) is VALID for certvc verify, and its
    EnvelopedVerifiableCredential verifies on /credentials/verify (VC Data Model 2.0 §4.13.1);
    a vp+jwt jose signs for the holder verifies, enveloped, on /presentations/verify."""
    pair = KeyPair.generate(key_type)
    kid = pair.public_key.did_key_method_id
    jwk = {**pair.export_private_jwk(), "alg": alg}
    vp = {
        "@context": [VC_V2],
        "type": ["VerifiablePresentation"],
        "holder": pair.public_key.did_key,
        "nonce": "n-1",
    }
    jobs = [
        {
            "op": "sign",
            "payload": _credential(pair.public_key.did_key),
            "jwk": jwk,
            "alg": alg,
            "kid": kid,
            "typ": "vc+jwt",
        },
        {"op": "sign", "payload": vp, "jwk": jwk, "alg": alg, "kid": kid, "typ": "vp+jwt"},
    ]
    vc_token, vp_token = (r["token"] for r in reference.run("jose.mjs", jobs))
    path = certvc.workdir / f"jose-{alg}.jwt"
    path.write_text(vc_token, encoding="utf-8")
    result = certvc._run(["verify", "--json", "--trust-any", str(path)])
    assert result.exit_code == 0, result.stdout
    assert json.loads(result.stdout)["verdict"] == "VALID"
    reply = verifier_client.post(
        "/credentials/verify", json={"verifiableCredential": vc_jwt.envelope(vc_token)}
    )
    assert reply.status_code == 200, reply.json
    body = {
        "verifiablePresentation": vc_jwt.envelope(vp_token, presentation=True),
        "options": {"challenge": "n-1"},
    }
    reply = verifier_client.post("/presentations/verify", json=body)
    assert reply.status_code == 200, reply.json
