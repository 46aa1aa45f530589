"""Credentials signed by @digitalbazaar/vc verify with ``certvc verify``."""

from __future__ import annotations

from typing import Any

import pytest

from tests.interop.cases import CASE_IDS, CASES, Signed, take
from tests.interop.credentials import InteropKey
from tests.interop.harness import Certvc

pytestmark = pytest.mark.interop


def failed_checks(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [c for c in report.get("checks", []) if c.get("status") == "failed"]


@pytest.mark.parametrize(("key", "name"), CASES, ids=CASE_IDS)
def test_we_verify_what_the_reference_signs(
    certvc: Certvc, signed_by_them: Signed, key: InteropKey, name: str
) -> None:
    """VC-DI 1.0, 4.3 Verify Proof (eddsa-rdfc-2022 / ecdsa-rdfc-2019 P-256, P-384): a
    credential issued by the reference is VALID for us, exit code 0, with no failed check."""
    signed = take(signed_by_them, key, name)
    result = certvc.verify(signed, tag=f"theirs-{key.name}-{name}")
    report = result.json()
    assert failed_checks(report) == []
    assert report["verified"] is True
    assert report["verdict"] == "VALID"
    statuses = {check["check"]: check["status"] for check in report["checks"]}
    assert statuses["proof"] == "passed"  # VC-DI 1.0, 4.3
    assert statuses["issuer"] == "passed"  # VC-DATA-MODEL-2.0, 4.7: issuer controls the key
    assert result.exit_code == 0, result.stderr
