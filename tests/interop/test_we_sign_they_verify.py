"""Credentials signed by ``certvc sign`` verify with @digitalbazaar/vc.

Covers eddsa-rdfc-2022 (Ed25519) and ecdsa-rdfc-2019 (P-256, P-384) on an Open Badges 3.0
certification credential, a plain VC 2.0 credential and one full of awkward strings.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.cases import CASE_IDS, CASES, Signed, take, unsigned, without_proof
from tests.interop.credentials import CREATED, ED25519, InteropKey, plain_vc
from tests.interop.harness import Certvc, Reference

pytestmark = pytest.mark.interop


@pytest.fixture(scope="module")
def their_verdicts(reference: Reference, signed_by_us: Signed) -> dict[tuple[str, str], Any]:
    """@digitalbazaar/vc verifyCredential() on everything we signed, in one node call."""
    ready = {case: cred for case, cred in signed_by_us.items() if isinstance(cred, dict)}
    results = reference.run("verify.mjs", [{"credential": c} for c in ready.values()])
    return dict(zip(ready, results, strict=True))


@pytest.mark.parametrize(("key", "name"), CASES, ids=CASE_IDS)
def test_our_proof_has_the_expected_shape(signed_by_us: Signed, key: InteropKey, name: str) -> None:
    """VC-DI 1.0, 2.1 Proofs: a DataIntegrityProof naming the suite, did:key:X#X, the given
    created and assertionMethod; the credential itself is signed as given (awkward strings too)."""
    signed = take(signed_by_us, key, name)
    assert without_proof(signed) == unsigned(key, name)
    proof = signed["proof"]
    assert {k: proof[k] for k in proof if k != "proofValue"} == {
        "type": "DataIntegrityProof",
        "cryptosuite": key.suite,
        "created": CREATED,
        "verificationMethod": key.verification_method,
        "proofPurpose": "assertionMethod",
    }
    assert proof["proofValue"].startswith("z")  # VC-DI-EdDSA 3.3.1 / VC-DI-ECDSA 3.4.1 base58btc


@pytest.mark.parametrize(("key", "name"), CASES, ids=CASE_IDS)
def test_reference_verifies_what_we_sign(
    signed_by_us: Signed, their_verdicts: dict[tuple[str, str], Any], key: InteropKey, name: str
) -> None:
    """VC-DI 1.0, 4.3 Verify Proof and VC-DATA-MODEL-2.0, 4.7 Issuer: the reference verifies
    our proof and that the issuer controls the verification method."""
    take(signed_by_us, key, name)  # fails with the signing error if there is one
    assert their_verdicts[key.name, name] == {"verified": True}


@pytest.mark.parametrize("name", sorted({name for _, name in CASES}))
def test_our_ed25519_proofs_equal_the_references(
    signed_by_us: Signed, signed_by_them: Signed, name: str
) -> None:
    """VC-DI-EdDSA 3.3 and RFC 8032 5.1.6: Ed25519 signing is deterministic, so with the same
    key, document and created both implementations must produce the same proofValue; any
    difference in canonicalization or hashing shows up here byte for byte."""
    ours = take(signed_by_us, ED25519, name)
    theirs = take(signed_by_them, ED25519, name)
    assert ours["proof"]["proofValue"] == theirs["proof"]["proofValue"]
    assert ours == theirs


def test_issuer_defaults_to_the_signing_did_key(certvc: Certvc, reference: Reference) -> None:
    """Brief of ``certvc sign``: a credential without ``issuer`` is issued by did:key:X, which
    the reference accepts as the controller of did:key:X#X (VC-DATA-MODEL-2.0, 4.7)."""
    credential = plain_vc(ED25519.did)
    del credential["issuer"]
    signed = certvc.sign(
        credential, ED25519.key_pair(), ED25519.suite, created=CREATED, tag="noiss"
    )
    assert signed["issuer"] == ED25519.did
    assert reference.run("verify.mjs", {"credential": signed}) == {"verified": True}
