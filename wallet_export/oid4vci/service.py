"""OpenID4VCI 1.0, pre-authorized code flow: offers, token, nonce and credential endpoints.

Pure protocol logic. The store, the clock, the randomness, the credential source and the
signing callbacks are injected, so the issuer plugs in its database and keys and tests run on
memory and a fixed clock. What each step enforces:

- Offer (§4.1): a random pre-authorized code (256 bits) that expires (``code_lifetime``) and
  is single use; optionally a numeric transaction code, returned once to be sent by e-mail.
- Token (§6): the code must be known, unexpired and unused (``invalid_grant``); a transaction
  code must be given exactly when the offer has one (``invalid_request``) and be right
  (``invalid_grant``; after ``tx_code_max_attempts`` wrong ones the code is burnt). The access
  token is bound to the offer and short-lived.
- Nonce (§7): an unpredictable ``c_nonce``, short-lived and single use.
- Credential (§8): the bearer token (``invalid_token``), a known and offered configuration
  (``unknown_credential_configuration``), one ``jwt`` key proof (``invalid_proof``) whose nonce
  is live (``invalid_nonce``); the subject is then bound to the holder's DID
  (``credentialSubject.id``) and the issuer's callback signs.
- One access token, one holder (issue 16): the token is bound to the first key a valid proof
  shows (its RFC 7638 thumbprint), and redeems at most one credential per configuration. The
  same key asking again (a wallet that lost the response) gets the same credential, not a new
  copy; another key is ``invalid_proof``: §8.3.1.2 names that code for a key proof the issuer
  cannot accept, and this one proves a key the token may not bind. ``credential_request_denied``
  would tell the rightful wallet its credential cannot be issued, which is not so.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from contexts.errors import CertvcError
from keys.did import DidResolver
from keys.did_jwk import HolderResolver

from .errors import OAuthErrorCode, Oid4vciError
from .proof import verify_key_proof
from .settings import PRE_AUTHORIZED_GRANT, CredentialFormat, IssuerSettings
from .store import IssuanceStore, OfferRecord, TokenRecord

OFFER_SCHEME = "openid-credential-offer://"

Clock = Callable[[], datetime]
RandomBytes = Callable[[int], bytes]
#: Returns the unsigned credential for an offer's reference; raises CertvcError to refuse.
CredentialSource = Callable[[str], Mapping[str, Any]]
#: Signs a credential (subject already bound): a Data Integrity object, or a vc+jwt. The second
#: argument is the store's open transaction (``IssueCallback``): the issuer records the credential
#: in it, so the record and the redemption commit together.
SignCallback = Callable[[dict[str, Any], object], dict[str, Any] | str]


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class OfferResult:
    """A fresh offer: the link (for a QR code or a button), the offer object and, when asked
    for, the transaction code to send the person separately. ``repr`` hides the secrets."""

    link: str
    offer: Mapping[str, Any]
    tx_code: str | None
    expires_at: datetime
    offer_uri: str | None = None

    def __repr__(self) -> str:
        kind = "by reference" if self.offer_uri else "by value"
        return f"OfferResult({kind}, tx_code={'yes' if self.tx_code else 'no'})"


class Oid4vciService:
    """The issuer side of the pre-authorized code flow; the web layer maps it to HTTP."""

    def __init__(
        self,
        settings: IssuerSettings,
        store: IssuanceStore,
        *,
        credentials: CredentialSource,
        signers: Mapping[str, SignCallback],
        clock: Clock,
        random_bytes: RandomBytes = secrets.token_bytes,
        resolver: DidResolver | None = None,
    ) -> None:
        missing = [c.id for c in settings.configurations if c.id not in signers]
        if missing:
            raise CertvcError(f"no signing callback for the configurations {missing}")
        self.settings = settings
        self._store = store
        self._credentials = credentials
        self._signers = dict(signers)
        self._clock = clock
        self._random = random_bytes
        self._resolver = resolver or HolderResolver()

    def _secret(self) -> str:
        return base64.urlsafe_b64encode(self._random(32)).rstrip(b"=").decode("ascii")

    # --- metadata ---------------------------------------------------------------------------

    def issuer_metadata(self) -> dict[str, Any]:
        return self.settings.issuer_metadata()

    def authorization_server_metadata(self) -> dict[str, Any]:
        return self.settings.authorization_server_metadata()

    # --- offers -----------------------------------------------------------------------------

    def create_offer(
        self,
        credential_ref: str,
        *,
        configuration_ids: tuple[str, ...] | None = None,
        tx_code: bool = False,
        by_reference: bool = False,
        tx_code_description: str | None = None,
    ) -> OfferResult:
        """A new credential offer for the credential the issuer knows as ``credential_ref``.

        :raises CertvcError: an unknown configuration id or an empty reference.
        """
        settings = self.settings
        ids = configuration_ids or tuple(c.id for c in settings.configurations)
        unknown = [i for i in ids if settings.configuration(i) is None]
        if unknown or not credential_ref:
            raise CertvcError(f"cannot offer {credential_ref!r} as {unknown or ids}")
        now = self._clock()
        code = self._secret()
        grant: dict[str, Any] = {"pre-authorized_code": code}
        tx = None
        if tx_code:
            length = settings.tx_code_length
            tx = str(int.from_bytes(self._random(8), "big") % 10**length).zfill(length)
            grant["tx_code"] = {"input_mode": "numeric", "length": length}
            if tx_code_description:
                grant["tx_code"]["description"] = tx_code_description[:300]
        offer = {
            "credential_issuer": settings.credential_issuer,
            "credential_configuration_ids": list(ids),
            "grants": {PRE_AUTHORIZED_GRANT: grant},
        }
        offer_id = self._secret()
        document = json.dumps(offer, separators=(",", ":"))
        expires_at = now + settings.code_lifetime
        self._store.add_offer(
            OfferRecord(
                offer_id=offer_id,
                code_digest=_digest(code),
                credential_ref=credential_ref,
                configuration_ids=tuple(ids),
                expires_at=expires_at,
                tx_code_digest=_digest(code, tx) if tx else None,
                document=document if by_reference else None,
            )
        )
        if by_reference:
            uri = settings.url(f"offers/{offer_id}")
            link = OFFER_SCHEME + "?" + urlencode({"credential_offer_uri": uri})
            return OfferResult(link, offer, tx, expires_at, uri)
        link = OFFER_SCHEME + "?" + urlencode({"credential_offer": document})
        return OfferResult(link, offer, tx, expires_at)

    def offer_by_reference(self, offer_id: str) -> Mapping[str, Any]:
        """The offer object at ``credential_offer_uri`` while its code is live and unused."""
        document = self._store.offer_document(offer_id, self._clock())
        if document is None:
            raise Oid4vciError(OAuthErrorCode.OFFER_NOT_FOUND, "no such live credential offer")
        return json.loads(document)

    # --- token endpoint ---------------------------------------------------------------------

    def token(self, params: Mapping[str, str]) -> dict[str, Any]:
        """Exchange a pre-authorized code (and transaction code) for an access token.

        ``params`` are the form parameters, each given once (the web layer checks that).

        :raises Oid4vciError: ``unsupported_grant_type``, ``invalid_request``, ``invalid_grant``.
        """
        grant_type = params.get("grant_type")
        if not grant_type:
            raise Oid4vciError(OAuthErrorCode.INVALID_REQUEST, "grant_type is missing")
        if grant_type != PRE_AUTHORIZED_GRANT:
            raise Oid4vciError(
                OAuthErrorCode.UNSUPPORTED_GRANT_TYPE, "only the pre-authorized code grant"
            )
        code = params.get("pre-authorized_code")
        if not code:
            raise Oid4vciError(OAuthErrorCode.INVALID_REQUEST, "pre-authorized_code is missing")
        now = self._clock()
        digest = _digest(code)
        record = self._store.find_offer(digest)
        if record is None or record.redeemed or now >= record.expires_at:
            raise Oid4vciError(
                OAuthErrorCode.INVALID_GRANT, "the pre-authorized code is unknown, used or expired"
            )
        tx = params.get("tx_code")
        if record.tx_code_digest is None and tx is not None:
            raise Oid4vciError(OAuthErrorCode.INVALID_REQUEST, "this offer has no tx_code")
        if record.tx_code_digest is not None:
            if not tx:
                raise Oid4vciError(OAuthErrorCode.INVALID_REQUEST, "tx_code is missing")
            if not hmac.compare_digest(_digest(code, tx), record.tx_code_digest):
                failures = self._store.count_failed_tx_code(digest)
                if failures >= self.settings.tx_code_max_attempts:
                    self._store.redeem(digest, now)  # burnt: ask the issuer for a new offer
                raise Oid4vciError(OAuthErrorCode.INVALID_GRANT, "the tx_code is wrong")
        redeemed = self._store.redeem(digest, now)
        if redeemed is None:  # another request redeemed it first
            raise Oid4vciError(
                OAuthErrorCode.INVALID_GRANT, "the pre-authorized code is unknown, used or expired"
            )
        token = self._secret()
        lifetime = self.settings.token_lifetime
        self._store.add_token(
            TokenRecord(
                token_digest=_digest(token),
                offer_id=redeemed.offer_id,
                credential_ref=redeemed.credential_ref,
                configuration_ids=redeemed.configuration_ids,
                expires_at=now + lifetime,
            )
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": int(lifetime.total_seconds()),
        }

    # --- nonce endpoint ---------------------------------------------------------------------

    def nonce(self) -> dict[str, Any]:
        """A fresh ``c_nonce`` (§7.2), valid once for ``nonce_lifetime``."""
        nonce = self._secret()
        self._store.add_nonce(_digest(nonce), self._clock() + self.settings.nonce_lifetime)
        return {"c_nonce": nonce}

    # --- credential endpoint ----------------------------------------------------------------

    def _token(self, authorization: str | None, now: datetime) -> TokenRecord:
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise Oid4vciError(OAuthErrorCode.INVALID_TOKEN, "a Bearer access token is required")
        record = self._store.find_token(_digest(token.strip()))
        if record is None or now >= record.expires_at:
            raise Oid4vciError(
                OAuthErrorCode.INVALID_TOKEN, "the access token is unknown or expired"
            )
        return record

    def credential(self, authorization: str | None, body: object) -> dict[str, Any]:
        """Issue the offered credential bound to the key the wallet proves (§8): once per
        configuration and access token, to the token's first key; that key asking again gets
        the same credential.

        :raises Oid4vciError: ``invalid_token``, ``invalid_credential_request``,
            ``unknown_credential_configuration``, ``invalid_proof``, ``invalid_nonce``,
            ``credential_request_denied``.
        """
        now = self._clock()
        grant = self._token(authorization, now)
        if not isinstance(body, Mapping):
            raise Oid4vciError(
                OAuthErrorCode.INVALID_CREDENTIAL_REQUEST, "the request body is not a JSON object"
            )
        if "credential_identifier" in body:
            raise Oid4vciError(
                OAuthErrorCode.UNKNOWN_CREDENTIAL_IDENTIFIER,
                "no credential identifiers were issued; use credential_configuration_id",
            )
        configuration_id = body.get("credential_configuration_id")
        if not isinstance(configuration_id, str):
            raise Oid4vciError(
                OAuthErrorCode.INVALID_CREDENTIAL_REQUEST, "credential_configuration_id is missing"
            )
        configuration = self.settings.configuration(configuration_id)
        if configuration is None or configuration_id not in grant.configuration_ids:
            raise Oid4vciError(
                OAuthErrorCode.UNKNOWN_CREDENTIAL_CONFIGURATION,
                f"{configuration_id!r} is not offered with this access token",
            )
        proof = verify_key_proof(
            self._one_jwt_proof(body),
            audience=self.settings.credential_issuer,
            now=now,
            max_age=self.settings.proof_max_age,
            max_clock_skew=self.settings.max_clock_skew,
            resolver=self._resolver,
        )
        if not self._store.take_nonce(_digest(proof.nonce), now):
            raise Oid4vciError(
                OAuthErrorCode.INVALID_NONCE, "the c_nonce is unknown, used or expired"
            )
        holder_key = proof.public_key.thumbprint
        if self._store.bind_holder(grant.token_digest, holder_key) != holder_key:
            raise Oid4vciError(
                OAuthErrorCode.INVALID_PROOF,
                "this access token is bound to another key: a credential for it goes only to "
                "the wallet that first proved its key",
            )
        try:
            unsigned = copy.deepcopy(dict(self._credentials(grant.credential_ref)))
        except CertvcError as cause:
            raise Oid4vciError(
                OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, "the credential cannot be issued"
            ) from cause
        subject = unsigned.get("credentialSubject")
        if not isinstance(subject, dict):
            raise Oid4vciError(
                OAuthErrorCode.CREDENTIAL_REQUEST_DENIED, "the credential has no single subject"
            )
        subject["id"] = proof.holder_did  # OpenID4VCI §8.1: cryptographic key binding
        ldp = configuration.format is CredentialFormat.LDP_VC

        def issue(transaction: object) -> str:
            signed = self._signers[configuration_id](unsigned, transaction)
            if not isinstance(signed, dict if ldp else str):
                raise CertvcError(f"the signer of {configuration_id} returned the wrong format")
            return json.dumps(signed, ensure_ascii=False) if isinstance(signed, dict) else signed

        kept = self._store.redeem_credential(
            grant.token_digest, configuration_id, grant.expires_at, issue
        )
        return {"credentials": [{"credential": json.loads(kept) if ldp else kept}]}

    @staticmethod
    def _one_jwt_proof(body: Mapping[str, Any]) -> str:
        proofs = body.get("proofs")
        if proofs is None:
            hint = (
                " (the single 'proof' of drafts is replaced by 'proofs')" if "proof" in body else ""
            )
            raise Oid4vciError(OAuthErrorCode.INVALID_PROOF, f"proofs is missing{hint}")
        if not isinstance(proofs, Mapping) or list(proofs) != ["jwt"]:
            raise Oid4vciError(
                OAuthErrorCode.INVALID_PROOF, "proofs must hold exactly one proof type: jwt"
            )
        jwts = proofs["jwt"]
        if not isinstance(jwts, list) or len(jwts) != 1:
            raise Oid4vciError(
                OAuthErrorCode.INVALID_PROOF, "one jwt key proof per request (no batch issuance)"
            )
        return jwts[0]
