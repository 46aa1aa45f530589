"""Hostile input is refused with a clear, typed error (bench/hostile.py prints how fast)."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime

import base58
import pytest

from contexts.errors import ErrorCode, InputError
from contexts.loader import default_store
from issuer.signing import sign_credential
from keys.did import LocalResolver
from keys.errors import CanonicalizationLimit, KeyCode
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier.engine import VerifierPolicy, verify_credential
from verifier.errors import StatusListError, VerifierCode
from verifier.inputs import read_credential_input
from verifier.model.status_list import Bitstring
from verifier.result import Check, CheckStatus, Verdict
from verifier.samples import certification_credential

from .hostile import deep_json, gzip_bomb, jwt_with, poison_credential

NOW = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def pair() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


@pytest.fixture(scope="module")
def policy() -> VerifierPolicy:
    return VerifierPolicy(store=default_store(), resolver=LocalResolver(), canonicalizer=FAST)


def test_poison_graph_is_refused_on_sign(pair) -> None:
    """RDFC-1.0 §4.4 work is bounded (policy): a blank-node clique cannot make signing explode."""
    with pytest.raises(CanonicalizationLimit):
        sign_credential(
            poison_credential(pair.public_key.did_key),
            pair.signer(),
            "eddsa-rdfc-2022",
            store=default_store(),
            options=ProofOptions(created=NOW),
            canonicalizer=FAST,
        )


def test_poison_graph_fails_the_proof_check_on_verify(pair, policy) -> None:
    credential = poison_credential(pair.public_key.did_key)
    credential["proof"] = {
        "type": "DataIntegrityProof",
        "cryptosuite": "eddsa-rdfc-2022",
        "verificationMethod": pair.public_key.did_key_method_id,
        "proofPurpose": "assertionMethod",
        "proofValue": "z" + base58.b58encode(bytes(range(64))).decode(),
    }
    result = verify_credential(credential, policy, now=NOW)
    proof = result.check(Check.PROOF)
    assert proof.status is CheckStatus.FAILED
    assert proof.code is KeyCode.CANONICALIZATION_LIMIT
    assert not result.verified


def test_deeply_nested_json_is_unusable_input(policy) -> None:
    with pytest.raises(InputError) as caught:
        read_credential_input(deep_json())
    assert caught.value.code is ErrorCode.INPUT_TOO_DEEP
    result = verify_credential(deep_json(), policy, now=NOW)
    assert result.verdict is Verdict.MALFORMED
    assert result.check(Check.SHAPE).code is ErrorCode.INPUT_TOO_DEEP


def test_oversized_input_is_unusable(policy) -> None:
    result = verify_credential(b" " * (2 * 1024 * 1024), policy, now=NOW)
    assert result.verdict is Verdict.MALFORMED
    assert result.check(Check.SHAPE).code is ErrorCode.INPUT_TOO_LARGE


@pytest.mark.parametrize("alg", ["none", "HS256"])
def test_jwt_with_alg_none_or_hmac_is_refused(pair, policy, alg) -> None:
    payload = certification_credential(pair.public_key.did_key, valid_from=NOW)
    header = {"alg": alg, "typ": "vc+jwt", "kid": pair.public_key.did_key_method_id}
    token = jwt_with(header, payload)
    if alg == "HS256":
        signing_input = token.rsplit(".", 1)[0].encode()
        mac = hmac.new(pair.public_key.raw, signing_input, hashlib.sha256).digest()
        token = jwt_with(header, payload, mac)
    result = verify_credential(token, policy, now=NOW)
    assert result.verdict is Verdict.INVALID_SIGNATURE
    assert result.check(Check.PROOF).code is KeyCode.JWT_ALG_NOT_ALLOWED


def test_decompression_bomb_in_encoded_list_is_refused() -> None:
    """Bitstring Status List: 64 MiB of zeros in a small encodedList is refused, not inflated."""
    with pytest.raises(StatusListError) as caught:
        Bitstring.decode(gzip_bomb(64))
    assert caught.value.code is VerifierCode.STATUS_LIST_TOO_LARGE
