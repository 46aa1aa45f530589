"""The (key, credential) cases both sides sign, and how tests pick one."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.credentials import CREDENTIALS, KEYS, InteropKey
from tests.interop.harness import HarnessError

# (key name, credential name) -> credential signed by one side, or the error that stopped it
Signed = dict[tuple[str, str], dict[str, Any] | HarnessError]

CASES = [(key, name) for key in KEYS for name in CREDENTIALS]
CASE_IDS = [f"{key.name}-{name}" for key, name in CASES]


def unsigned(key: InteropKey, name: str) -> dict[str, Any]:
    """The credential ``name`` issued by ``key``'s did:key."""
    return CREDENTIALS[name](key.did)


def take(signed: Signed, key: InteropKey, name: str) -> dict[str, Any]:
    """One signed credential, or fail the calling test with the signer's error."""
    value = signed[key.name, name]
    if isinstance(value, HarnessError):
        pytest.fail(f"signing {key.name}-{name} failed: {value}")
    return value


def without_proof(credential: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in credential.items() if k != "proof"}
