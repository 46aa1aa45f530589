"""The harness itself: the reference, as set up here, reproduces the W3C vectors.

If these fail, no other interop result means anything: they pin down that the offline loader
serves the right contexts and keys and that the scripts call the libraries as intended.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from tests.interop.credentials import ED25519, VECTORS
from tests.interop.harness import Reference

pytestmark = pytest.mark.interop

EDDSA = VECTORS / "eddsa-rdfc-2022"
ECDSA = VECTORS / "ecdsa-rdfc-2019"

# (unsigned document, proof configuration, canonical document, canonical proof configuration)
CANON_VECTORS = {
    "eddsa": (
        "unsigned.json",
        "proofConfigDataInt.json",
        "canonDocDataInt.txt",
        "proofCanonDataInt.txt",
        EDDSA,
    ),
    "eddsa-employ": (
        "employmentAuth.json",
        "employ/proofConfigDataInt.json",
        "employ/canonDocDataInt.txt",
        "employ/proofCanonDataInt.txt",
        EDDSA,
    ),
    "ecdsa-p256": (
        "unsigned.json",
        "ecdsa-rdfc-2019-p256/proofConfigECDSAP256.json",
        "ecdsa-rdfc-2019-p256/canonDocECDSAP256.txt",
        "ecdsa-rdfc-2019-p256/proofCanonECDSAP256.txt",
        ECDSA,
    ),
    "ecdsa-p256-employ": (
        "employmentAuth.json",
        "ecdsa-rdfc-2019-p256/employ/proofConfigECDSAP256.json",
        "ecdsa-rdfc-2019-p256/employ/canonDocECDSAP256.txt",
        "ecdsa-rdfc-2019-p256/employ/proofCanonECDSAP256.txt",
        ECDSA,
    ),
    "ecdsa-p384": (
        "unsigned.json",
        "ecdsa-rdfc-2019-p384/proofConfigECDSAP384.json",
        "ecdsa-rdfc-2019-p384/canonDocECDSAP384.txt",
        "ecdsa-rdfc-2019-p384/proofCanonECDSAP384.txt",
        ECDSA,
    ),
}

SIGNED_VECTORS = {
    "eddsa": EDDSA / "signedDataInt.json",
    "eddsa-employ": EDDSA / "employ/signedDataInt.json",
    "ecdsa-p256": ECDSA / "ecdsa-rdfc-2019-p256/signedECDSAP256.json",
    "ecdsa-p256-employ": ECDSA / "ecdsa-rdfc-2019-p256/employ/signedECDSAP256.json",
    "ecdsa-p384": ECDSA / "ecdsa-rdfc-2019-p384/signedECDSAP384.json",
}


def _json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def test_reference_canonizes_w3c_vectors_exactly(reference: Reference) -> None:
    """VC-DI-EdDSA 3.3.2 / VC-DI-ECDSA 3.4.2 (Transformation): the canonical documents and proof
    configurations of the W3C vectors, byte for byte."""
    jobs, expected = [], []
    for doc, config, canon_doc, canon_config, folder in CANON_VECTORS.values():
        jobs += [{"document": _json(folder / doc)}, {"document": _json(folder / config)}]
        expected += [
            (folder / canon_doc).read_text(encoding="utf-8"),
            (folder / canon_config).read_text(encoding="utf-8"),
        ]
    results = reference.run("canonize.mjs", jobs)
    assert [r.get("nquads", r) for r in results] == expected


def test_reference_signs_eddsa_vector_byte_for_byte(reference: Reference) -> None:
    """VC-DI-EdDSA 3.3 with the vector's key and created: Ed25519 is deterministic, so the
    reference's proof must be the vector's, which proves sign.mjs and the key handling."""
    signed = _json(EDDSA / "signedDataInt.json")
    result = reference.run(
        "sign.mjs",
        {
            "credential": _json(EDDSA / "unsigned.json"),
            "keyPair": ED25519.key_pair(),
            "cryptosuite": "eddsa-rdfc-2022",
            "created": signed["proof"]["created"],
        },
    )
    assert result["signed"] == signed


def test_reference_verifies_w3c_vector_proofs(reference: Reference) -> None:
    """VC-DI 1.0, 4.3 Verify Proof: every signed vector verifies (proof and assertionMethod
    purpose, the key taken from its did:key by the offline loader)."""
    jobs = [{"credential": _json(p), "checkIssuer": False} for p in SIGNED_VECTORS.values()]
    assert reference.run("verify.mjs", jobs) == [{"verified": True}] * len(jobs)


def test_reference_vc_rejects_vectors_whose_issuer_is_not_the_key_controller(
    reference: Reference,
) -> None:
    """@digitalbazaar/vc (CredentialIssuancePurpose) requires issuer == verification method
    controller; the vectors' issuer is https://vc.example/issuers/5678, so vc refuses them."""
    results = reference.run(
        "verify.mjs", [{"credential": _json(p)} for p in SIGNED_VECTORS.values()]
    )
    for result in results:
        assert result["verified"] is False
        assert "issuer must match the verification method controller" in json.dumps(result)


def test_reference_detects_a_changed_vector(reference: Reference) -> None:
    """VC-DI 1.0, 4.3: one changed character in a signed value makes the proof invalid."""
    signed = _json(EDDSA / "signedDataInt.json")
    signed["credentialSubject"]["alumniOf"] = "The School of Examplez"
    result = reference.run("verify.mjs", {"credential": signed, "checkIssuer": False})
    assert result["verified"] is False
    assert "Invalid signature" in json.dumps(result)


@pytest.mark.parametrize(
    "context",
    ["https://example.org/not-pinned/v1", "https://www.w3.org/ns/credentials/v3"],
)
def test_reference_loader_refuses_unpinned_contexts(reference: Reference, context: str) -> None:
    """The harness never fetches: a context outside the manifest is an error, not a download."""
    doc = {"@context": ["https://www.w3.org/ns/credentials/v2", context], "name": "x"}
    result = reference.run("canonize.mjs", {"document": doc})
    assert "nquads" not in result
    assert "not pinned, no network" in result["error"]["cause"]["message"]


def test_reference_canonize_accepts_nquads_input(reference: Reference) -> None:
    """RDFC-1.0, 4.4.3 step 5 and 4.6: blank nodes with unique first-degree hashes are labelled
    c14n0, c14n1, ... in the order of those hashes (SHA-256 of their quads with _:a)."""
    nquads_in = '_:b1 <http://example.org/p> "2" .\n_:b0 <http://example.org/p> "1" .\n'
    hashes = {
        value: hashlib.sha256(f'_:a <http://example.org/p> "{value}" .\n'.encode()).hexdigest()
        for value in ("1", "2")
    }
    first, second = sorted(hashes, key=hashes.__getitem__)
    expected = sorted(
        [
            f'_:c14n0 <http://example.org/p> "{first}" .\n',
            f'_:c14n1 <http://example.org/p> "{second}" .\n',
        ]
    )
    result = reference.run("canonize.mjs", {"nquads_in": nquads_in})
    assert result == {"nquads": "".join(expected)}
