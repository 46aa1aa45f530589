"""Test helpers on the wallet's side: the issuer under test and key proofs built by hand."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from collections.abc import Set as AbstractSet
from datetime import datetime, timedelta
from typing import Any

from contexts.loader import ContextStore
from issuer.signing import sign_credential
from keys.did_jwk import did_jwk
from keys.keypair import KeyPair
from keys.suites import FAST, ProofOptions
from verifier.samples import certification_credential
from wallet_export.oid4vci import (
    InMemoryStore,
    IssuerSettings,
    Oid4vciService,
    jwt_vc_json_configuration,
    ldp_vc_configuration,
)
from wallet_export.oid4vci.errors import OAuthErrorCode, Oid4vciError

LDP = "CertificationCredential_ldp_vc"
JWT = "CertificationCredential_jwt_vc_json"


class Clock:
    """A clock the test moves; ``base`` is a fixed instant or a callable (real time)."""

    def __init__(self, base: datetime | Callable[[], datetime]) -> None:
        self._base = base
        self.offset = timedelta()

    def __call__(self) -> datetime:
        base = self._base() if callable(self._base) else self._base
        return base + self.offset


def issuer_service(
    issuer_url: str,
    issuer_key: KeyPair,
    store: ContextStore,
    clock: Clock,
    *,
    refused: AbstractSet[str] = frozenset(),
) -> Oid4vciService:
    """An issuer with an in-memory store; the offer reference is the certificate number."""
    settings = IssuerSettings(
        issuer_url,
        "Example Personnel Certification Body",
        (ldp_vc_configuration("eddsa-rdfc-2022"), jwt_vc_json_configuration("EdDSA")),
    )

    def credentials(reference: str) -> dict[str, Any]:
        if reference in refused:
            raise Oid4vciError(OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, "withdrawn")
        return certification_credential(
            issuer_key.public_key.did_key, valid_from=clock(), certificate_number=reference
        )

    def signer(suite: str) -> Callable[[dict[str, Any]], dict[str, Any] | str]:
        def _sign(credential: dict[str, Any], _transaction: object) -> dict[str, Any] | str:
            options = ProofOptions(created=clock())
            return sign_credential(
                credential,
                issuer_key.signer(),
                suite,
                store=store,
                options=options,
                canonicalizer=FAST,
            )

        return _sign

    return Oid4vciService(
        settings,
        InMemoryStore(),
        credentials=credentials,
        signers={LDP: signer("eddsa-rdfc-2022"), JWT: signer("vc+jwt")},
        clock=clock,
    )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def key_proof(
    holder: KeyPair,
    *,
    audience: str,
    nonce: str | None,
    iat: float,
    header: dict[str, Any] | None = None,
    signed_by: KeyPair | None = None,
    by_jwk: bool = False,
    payload_extra: dict[str, Any] | None = None,
) -> str:
    """A ``openid4vci-proof+jwt`` naming ``holder``'s key, signed by ``signed_by`` or it."""
    public = holder.public_key
    head: dict[str, Any] = {"typ": "openid4vci-proof+jwt", "alg": public.key_type.jose_alg}
    if by_jwk:
        head["jwk"] = public.to_jwk()
    else:
        head["kid"] = public.did_key_method_id
    head.update(header or {})
    payload: dict[str, Any] = {"aud": audience, "iat": int(iat)}
    if nonce is not None:
        payload["nonce"] = nonce
    payload.update(payload_extra or {})
    signing_input = f"{_b64(json.dumps(head).encode())}.{_b64(json.dumps(payload).encode())}"
    signature = (signed_by or holder).signer().sign(signing_input.encode("ascii"))
    return f"{signing_input}.{_b64(signature)}"


def holder_did(holder: KeyPair, *, by_jwk: bool = False) -> str:
    return did_jwk(holder.public_key) if by_jwk else holder.public_key.did_key
