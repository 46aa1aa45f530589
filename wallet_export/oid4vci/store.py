"""Where offers, access tokens and nonces live between requests: a Protocol and a memory store.

Secrets are stored only as SHA-256 digests (pre-authorized codes, transaction codes, access
tokens, nonces), so a leaked store grants nothing; the one exception is the offer object of
an offer *by reference*, which must be served as is until it expires. The single-use rules
are the store's atomic operations (``redeem``, ``take_nonce``, ``bind_holder``,
``redeem_credential``): a database implementation does each as one conditional statement, so
two concurrent requests cannot both succeed.

What an access token redeemed is kept too (issue 16): the holder key it is bound to (the
first key a proof showed) and, per credential configuration, the one credential it got. The
credential is kept as the text sent (JSON or a compact JWS) until the token's rows are purged.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol

#: Makes the credential of a first redemption, given the store's open transaction (the issuer's
#: database session, so the credential's records commit with the redemption; None in memory).
IssueCallback = Callable[[object], str]


@dataclass(frozen=True)
class OfferRecord:
    """One credential offer and its pre-authorized code (by digest)."""

    offer_id: str
    code_digest: str
    credential_ref: str
    configuration_ids: tuple[str, ...]
    expires_at: datetime
    tx_code_digest: str | None = None
    document: str | None = None  # the offer JSON, kept only for offers by reference
    redeemed: bool = False
    failed_tx_codes: int = 0

    def __repr__(self) -> str:
        return (
            f"OfferRecord({self.offer_id!r}, ref={self.credential_ref!r}, redeemed={self.redeemed})"
        )


@dataclass(frozen=True)
class TokenRecord:
    """An access token (by digest), bound to the offer it was exchanged for."""

    token_digest: str
    offer_id: str
    credential_ref: str
    configuration_ids: tuple[str, ...]
    expires_at: datetime
    #: The RFC 7638 thumbprint of the first holder key a key proof showed with this token.
    holder_key: str | None = None

    def __repr__(self) -> str:
        return f"TokenRecord(offer={self.offer_id!r}, expires_at={self.expires_at.isoformat()})"


class IssuanceStore(Protocol):
    def add_offer(self, record: OfferRecord) -> None: ...

    def offer_document(self, offer_id: str, now: datetime) -> str | None:
        """The JSON of a live, unredeemed offer by reference."""
        ...

    def find_offer(self, code_digest: str) -> OfferRecord | None: ...

    def count_failed_tx_code(self, code_digest: str) -> int:
        """Record one wrong transaction code; returns the count so far."""
        ...

    def redeem(self, code_digest: str, now: datetime) -> OfferRecord | None:
        """Mark the code used and return its offer, only if unused and unexpired (atomic)."""
        ...

    def add_token(self, record: TokenRecord) -> None: ...

    def find_token(self, token_digest: str) -> TokenRecord | None: ...

    def add_nonce(self, nonce_digest: str, expires_at: datetime) -> None: ...

    def take_nonce(self, nonce_digest: str, now: datetime) -> bool:
        """Consume a nonce: True once, if it exists and has not expired (atomic)."""
        ...

    def bind_holder(self, token_digest: str, holder_key: str) -> str | None:
        """Bind the token to ``holder_key`` unless it is bound already; return the key it is
        bound to now (the first one), or None for an unknown token (atomic)."""
        ...

    def redeem_credential(
        self,
        token_digest: str,
        configuration_id: str,
        expires_at: datetime,
        issue: IssueCallback,
    ) -> str:
        """The credential the token redeemed for the configuration.

        The first call for a (token, configuration) calls ``issue`` with the store's open
        transaction and keeps what it returns in that same transaction; every later call, from
        any process, returns what was kept without calling ``issue``. When ``issue`` raises,
        nothing is kept. Two racing first calls issue once: the loser gets the winner's.
        """
        ...


class InMemoryStore:
    """:class:`IssuanceStore` in process memory (tests, single-process demos)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._offers: dict[str, OfferRecord] = {}
        self._by_id: dict[str, str] = {}
        self._tokens: dict[str, TokenRecord] = {}
        self._nonces: dict[str, datetime] = {}
        self._credentials: dict[tuple[str, str], str] = {}
        self._issuing = threading.Lock()  # held while one credential is made

    def add_offer(self, record: OfferRecord) -> None:
        with self._lock:
            self._offers[record.code_digest] = record
            self._by_id[record.offer_id] = record.code_digest

    def offer_document(self, offer_id: str, now: datetime) -> str | None:
        with self._lock:
            record = self._offers.get(self._by_id.get(offer_id, ""))
            if record is None or record.redeemed or now >= record.expires_at:
                return None
            return record.document

    def find_offer(self, code_digest: str) -> OfferRecord | None:
        with self._lock:
            return self._offers.get(code_digest)

    def count_failed_tx_code(self, code_digest: str) -> int:
        with self._lock:
            record = self._offers[code_digest]
            record = replace(record, failed_tx_codes=record.failed_tx_codes + 1)
            self._offers[code_digest] = record
            return record.failed_tx_codes

    def redeem(self, code_digest: str, now: datetime) -> OfferRecord | None:
        with self._lock:
            record = self._offers.get(code_digest)
            if record is None or record.redeemed or now >= record.expires_at:
                return None
            self._offers[code_digest] = replace(record, redeemed=True, document=None)
            return record

    def add_token(self, record: TokenRecord) -> None:
        with self._lock:
            self._tokens[record.token_digest] = record

    def find_token(self, token_digest: str) -> TokenRecord | None:
        with self._lock:
            return self._tokens.get(token_digest)

    def add_nonce(self, nonce_digest: str, expires_at: datetime) -> None:
        with self._lock:
            self._nonces[nonce_digest] = expires_at

    def take_nonce(self, nonce_digest: str, now: datetime) -> bool:
        with self._lock:
            expires_at = self._nonces.pop(nonce_digest, None)
            return expires_at is not None and now < expires_at

    def bind_holder(self, token_digest: str, holder_key: str) -> str | None:
        with self._lock:
            record = self._tokens.get(token_digest)
            if record is None:
                return None
            if record.holder_key is None:
                record = replace(record, holder_key=holder_key)
                self._tokens[token_digest] = record
            return record.holder_key

    def redeem_credential(
        self,
        token_digest: str,
        configuration_id: str,
        expires_at: datetime,
        issue: IssueCallback,
    ) -> str:
        key = (token_digest, configuration_id)
        with self._issuing:
            kept = self._credentials.get(key)
            if kept is None:
                kept = self._credentials[key] = issue(None)
            return kept
