"""One changed character in a signed value breaks the proof, whichever side signed it."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.interop.cases import Signed, take
from tests.interop.credentials import AWKWARD, KEYS, InteropKey
from tests.interop.harness import Certvc, Reference

pytestmark = pytest.mark.interop

Tamper = Callable[[dict[str, Any]], None]


def _flip_first_letter(value: str) -> str:
    return ("Y" if value[0] == "X" else "X") + value[1:]


def _achievement_name(cred: dict[str, Any]) -> None:
    achievement = cred["credentialSubject"]["achievement"]
    achievement["name"] = _flip_first_letter(achievement["name"])


def _control_character(cred: dict[str, Any]) -> None:
    # U+001F -> U+001E: only a verifier that hashes control characters exactly notices
    name = cred["name"]
    assert "\u001f" in name
    cred["name"] = name.replace("\u001f", "\u001e", 1)


def _combining_mark(cred: dict[str, Any]) -> None:
    # NFD "e + U+0301" -> NFC "é": the same text to a reader, a different signed value
    achievement = cred["credentialSubject"]["achievement"]
    assert AWKWARD["combining"] in achievement["name"]
    achievement["name"] = achievement["name"].replace("e\u0301", "\u00e9", 1)


def _created(cred: dict[str, Any]) -> None:
    # VC-DI 1.0, 4.2 step 5: the proof options (created included) are signed too
    created = cred["proof"]["created"]
    cred["proof"]["created"] = created.replace("12:00:00", "12:00:01")
    assert cred["proof"]["created"] != created


TAMPERS: dict[str, tuple[str, Tamper]] = {
    "achievement-name": ("open_badge", _achievement_name),
    "control-character": ("awkward", _control_character),
    "combining-mark": ("awkward", _combining_mark),
    "proof-created": ("plain_vc", _created),
}
TAMPER_CASES = [(key, tamper) for key in KEYS for tamper in TAMPERS]
TAMPER_IDS = [f"{key.name}-{tamper}" for key, tamper in TAMPER_CASES]


def tampered(signed: Signed, key: InteropKey, tamper: str) -> dict[str, Any]:
    name, change = TAMPERS[tamper]
    cred = copy.deepcopy(take(signed, key, name))
    change(cred)
    return cred


@pytest.mark.parametrize(("key", "tamper"), TAMPER_CASES, ids=TAMPER_IDS)
def test_we_reject_their_credential_with_one_character_changed(
    certvc: Certvc, signed_by_them: Signed, key: InteropKey, tamper: str
) -> None:
    """VC-DI 1.0, 4.3 step 6 (verified = false) and VC-DI-EdDSA 3.3.5 / VC-DI-ECDSA 3.4.5: the
    signature check fails with signature_invalid, the verdict is not VALID and the exit code 1."""
    result = certvc.verify(tampered(signed_by_them, key, tamper), tag=f"tampered-{tamper}")
    report = result.json()
    assert report["verified"] is False
    assert report["verdict"] != "VALID"
    failed = [(c["check"], c["code"]) for c in report["checks"] if c["status"] == "failed"]
    assert failed == [("proof", "signature_invalid")]
    assert result.exit_code == 1, result.stderr


@pytest.fixture(scope="module")
def their_verdicts_on_tampered(
    reference: Reference, signed_by_us: Signed
) -> dict[tuple[str, str], Any]:
    """@digitalbazaar/vc on our credentials, each with one character changed (one node call)."""
    ready = {
        (key.name, tamper): tampered(signed_by_us, key, tamper)
        for key, tamper in TAMPER_CASES
        if isinstance(signed_by_us[key.name, TAMPERS[tamper][0]], dict)
    }
    results = reference.run("verify.mjs", [{"credential": c} for c in ready.values()])
    return dict(zip(ready, results, strict=True))


@pytest.mark.parametrize(("key", "tamper"), TAMPER_CASES, ids=TAMPER_IDS)
def test_reference_rejects_our_credential_with_one_character_changed(
    signed_by_us: Signed,
    their_verdicts_on_tampered: dict[tuple[str, str], Any],
    key: InteropKey,
    tamper: str,
) -> None:
    """VC-DI 1.0, 4.3: the reference finds our proof invalid once a signed value changes."""
    take(signed_by_us, key, TAMPERS[tamper][0])  # fails with the signing error if there is one
    verdict = their_verdicts_on_tampered[key.name, tamper]
    assert verdict["verified"] is False
    assert "Invalid signature." in json.dumps(verdict["error"])
