"""The instance's signing keys: one :class:`keys.KeyStore` per key type, behind one DID.

A scheme may choose ``eddsa-rdfc-2022`` (Ed25519), ``ecdsa-rdfc-2019`` (P-256) or ``vc+jwt``
(EdDSA), and a key store has exactly one active key, so the instance keeps one store per key
type under ``<instance>/keys/<type>/``. The did:web document lists the methods of every store,
active and retired. Key ids are ``<did>#<type>-<n>``, n counting rotations.

A store is re-read when its index changes on disk, so ``certvc keys rotate`` takes effect in a
running server without a restart. The audit log's MAC key sits beside the stores
(``keys/audit-mac.json``, see :mod:`issuer.services.audit_mac`).
"""

from __future__ import annotations

import threading
from datetime import datetime
from pathlib import Path
from typing import Any

from keys.did import VerificationMethodEntry, did_web_document
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyType, Signer
from keys.keystore import DEFAULT_KDF, INDEX_NAME, KeyRecord, KeyStore, ScryptParams

from ..db.models import SecuringSuite
from .audit_mac import FILE_NAME as AUDIT_KEY_FILE
from .audit_mac import AuditKeyFile

#: The key type each suite signs with.
SUITE_KEY_TYPE = {
    SecuringSuite.EDDSA_RDFC_2022: KeyType.ED25519,
    SecuringSuite.ECDSA_RDFC_2019: KeyType.P256,
    SecuringSuite.VC_JWT: KeyType.ED25519,
}
KEY_TYPES = (KeyType.ED25519, KeyType.P256)


class Keyring:
    """Key stores of one instance. Holds the passphrase; never printed (see ``__repr__``)."""

    def __init__(
        self,
        directory: Path,
        did: str,
        passphrase: bytes | None,
        *,
        allow_plaintext: bool,
        now: datetime,
        kdf: ScryptParams = DEFAULT_KDF,
    ) -> None:
        self._directory = Path(directory)
        self._did = did
        self._passphrase = passphrase
        self._allow_plaintext = allow_plaintext
        self._kdf = kdf
        self._now = now
        self._lock = threading.Lock()
        self._stores: dict[KeyType, tuple[float | None, KeyStore]] = {}
        self._audit_key = AuditKeyFile(
            self._directory / AUDIT_KEY_FILE,
            passphrase,
            allow_plaintext=allow_plaintext,
            now=now,
            kdf=kdf,
        )

    @property
    def did(self) -> str:
        return self._did

    def _path(self, key_type: KeyType) -> Path:
        return self._directory / key_type.value

    def _stamp(self, key_type: KeyType) -> float | None:
        try:
            return (self._path(key_type) / INDEX_NAME).stat().st_mtime_ns
        except FileNotFoundError:
            return None

    def store(self, key_type: KeyType, now: datetime | None = None) -> KeyStore:
        """The store for ``key_type``, re-opened when its index changed (or to stamp ``now``)."""
        with self._lock:
            stamp = self._stamp(key_type)
            cached = self._stores.get(key_type)
            if cached is not None and cached[0] == stamp and now is None:
                return cached[1]
            store = KeyStore.open(
                self._path(key_type),
                self._passphrase,
                allow_plaintext=self._allow_plaintext,
                now=now or self._now,
                kdf=self._kdf,
            )
            self._stores[key_type] = (stamp, store)
            return store

    def ensure_keys(self, now: datetime) -> list[KeyRecord]:
        """Create the first key of every type that has none (``certvc init``); idempotent."""
        created = []
        for key_type in KEY_TYPES:
            store = self.store(key_type, now)
            if not store.records():
                created.append(store.create(key_type, self._key_id(key_type, 1)))
        return created

    def rotate(self, key_type: KeyType, now: datetime) -> KeyRecord:
        """A new active key of ``key_type``; the old one is retired but stays published."""
        store = self.store(key_type, now)
        record = store.rotate(key_type, self._key_id(key_type, len(store.records()) + 1))
        return record

    def _key_id(self, key_type: KeyType, number: int) -> str:
        return f"{self._did}#{key_type.value}-{number}"

    def signer(self, suite: SecuringSuite) -> Signer:
        """The active signer for ``suite``.

        :raises KeyMaterialError: ``key_not_found`` (no key yet: run ``certvc init``),
            ``passphrase_required`` / ``passphrase_wrong`` / ``plaintext_key_refused``.
        """
        return self.store(SUITE_KEY_TYPE[suite]).active_signer()

    def check(self) -> None:
        """Decrypt every active key now, so a wrong passphrase shows at start, not mid-request."""
        for key_type in KEY_TYPES:
            store = self.store(key_type)
            if not store.records():
                raise KeyMaterialError(
                    f"no {key_type.value} key in {self._path(key_type)}: run certvc init",
                    code=KeyCode.KEY_NOT_FOUND,
                )
            store.active_signer()

    def audit_key(self) -> AuditKeyFile:
        """The audit log's MAC key (``keys/audit-mac.json``), with this ring's passphrase."""
        return self._audit_key

    def methods(self) -> list[VerificationMethodEntry]:
        return [method for key_type in KEY_TYPES for method in self.store(key_type).methods()]

    def records(self) -> list[KeyRecord]:
        return [record for key_type in KEY_TYPES for record in self.store(key_type).records()]

    def did_document(self) -> dict[str, Any]:
        """The did:web document: current and retired verification methods of every store."""
        return did_web_document(self._did, self.methods())

    def __repr__(self) -> str:
        return f"Keyring({str(self._directory)!r}, did={self._did!r})"
