"""Shared fixtures: an issuer key, signed certification credentials, the verifier, artifacts.

Rendered images go to tests/artifacts/wallet_export/ (gitignored) so a person can look at them.
poppler-utils (pdftoppm, pdftotext) is required, not optional: the rendering checks are the
point of several tests, so a missing tool fails them with the package to install.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from contexts.loader import ContextStore, default_store
from issuer.signing import sign_credential
from keys.did import LocalResolver
from keys.keypair import KeyPair, KeyType
from keys.suites import FAST, ProofOptions
from verifier.engine import VerifierPolicy, verify_credential
from verifier.result import VerificationResult
from verifier.samples import certification_credential

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
NAMES = ("Zoë Ångström-Ōtsuka", "李小龍", "محمد")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts" / "wallet_export"


@pytest.fixture(scope="session")
def store() -> ContextStore:
    return default_store()


@pytest.fixture(scope="session")
def issuer_key() -> KeyPair:
    return KeyPair.generate(KeyType.ED25519)


@pytest.fixture(scope="session")
def sign(store: ContextStore, issuer_key: KeyPair) -> Callable[..., dict[str, Any] | str]:
    """Sign a sample certification credential for ``name`` in ``suite``."""

    def _sign(name: str = NAMES[0], suite: str = "eddsa-rdfc-2022", **kwargs: Any):
        credential = certification_credential(
            issuer_key.public_key.did_key, valid_from=NOW, person_name=name, **kwargs
        )
        return sign_credential(
            credential,
            issuer_key.signer(),
            suite,
            store=store,
            options=ProofOptions(created=NOW),
            canonicalizer=FAST,
        )

    return _sign


@pytest.fixture(scope="session")
def verify(store: ContextStore) -> Callable[[Mapping[str, Any] | str], VerificationResult]:
    policy = VerifierPolicy(store=store, resolver=LocalResolver(), canonicalizer=FAST)

    def _verify(credential: Mapping[str, Any] | str, now: datetime = NOW) -> VerificationResult:
        return verify_credential(credential, policy, now=now)

    return _verify


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def poppler() -> None:
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: install the Debian package poppler-utils")
