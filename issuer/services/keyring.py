"""The instance's signing keys: one :class:`keys.KeyStore` per key type, behind one DID.

A scheme may choose ``eddsa-rdfc-2022`` (Ed25519), ``ecdsa-rdfc-2019`` (P-256, or P-384 when
the instance says so) or ``vc+jwt`` (EdDSA by default; ES256, ES384 or ES512 when the instance
says so), and a key store has exactly one active key, so the instance keeps one store per key
type under ``<instance>/keys/<type>/``. Which key type each suite signs with is an instance
setting chosen at ``certvc init --suite-key SUITE=TYPE`` (``suiteKeys`` in ``instance.json``);
Ed25519 is always kept (status lists are signed with it). The did:web document lists the
methods of every store on disk, active and retired, so credentials signed before a change of
setting keep verifying. Key ids are ``<did>#<type>-<n>``, n counting rotations.

A store is re-read when its index changes on disk, so ``certvc keys rotate`` takes effect in a
running server without a restart.

With an HSM (``certvc init --key-backend pkcs11``) the stores hold only their index: the keys
are generated and used inside the token (the ``vault``, :class:`keys.pkcs11_token.Token`),
and the index names them by ``CKA_ID``.

The audit log's MAC key sits beside the stores (see :mod:`issuer.services.audit_mac`): an
encrypted key file (``keys/audit-mac.json``), or with an HSM an HMAC key inside the token
named by ``keys/audit-mac-pkcs11.json``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import Any

from keys.did import VerificationMethodEntry, did_web_document
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyType, Signer
from keys.keystore import DEFAULT_KDF, INDEX_NAME, KeyRecord, KeyStore, KeyVault, ScryptParams
from keys.suites import REGISTRY

from ..db.models import SecuringSuite
from ..errors import FieldError
from .audit_mac import AuditKey, open_audit_key

#: The key type each suite signs with unless the instance chose another (``suiteKeys``).
SUITE_KEY_TYPE: Mapping[SecuringSuite, KeyType] = {
    SecuringSuite.EDDSA_RDFC_2022: KeyType.ED25519,
    SecuringSuite.ECDSA_RDFC_2019: KeyType.P256,
    SecuringSuite.VC_JWT: KeyType.ED25519,
}
#: The key types of an instance with the default setting (Ed25519 also signs status lists).
KEY_TYPES = (KeyType.ED25519, KeyType.P256)


def suite_key_types(chosen: Mapping[str, str] | None) -> dict[SecuringSuite, KeyType]:
    """The key type of every suite: the defaults, overridden by an instance's ``suiteKeys``
    (suite name -> key type, as ``certvc init --suite-key`` spells them).

    :raises FieldError: an unknown suite or key type, or a key type the suite cannot sign with
        (ecdsa-rdfc-2019 takes P-256 and P-384, vc+jwt any, eddsa-rdfc-2022 Ed25519 only).
    """
    mapping = dict(SUITE_KEY_TYPE)
    for suite_name, type_name in (chosen or {}).items():
        try:
            suite = SecuringSuite(suite_name)
        except ValueError:
            known = ", ".join(s.value for s in SecuringSuite)
            raise FieldError("--suite-key", f"unknown suite {suite_name!r} ({known})") from None
        try:
            key_type = KeyType(type_name)
        except ValueError:
            known = ", ".join(k.value for k in KeyType)
            raise FieldError("--suite-key", f"unknown key type {type_name!r} ({known})") from None
        if key_type not in REGISTRY[suite.value].key_types:
            takes = ", ".join(sorted(k.value for k in REGISTRY[suite.value].key_types))
            raise FieldError("--suite-key", f"{suite.value} signs with {takes}, not {type_name}")
        mapping[suite] = key_type
    return mapping


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
        suite_keys: Mapping[str, str] | None = None,
        vault: KeyVault | None = None,
    ) -> None:
        """``suite_keys``: the instance's ``suiteKeys`` (see :func:`suite_key_types`)."""
        self._suite_keys = suite_key_types(suite_keys)
        self._directory = Path(directory)
        self._did = did
        self._passphrase = passphrase
        self._allow_plaintext = allow_plaintext
        self._kdf = kdf
        self._vault = vault
        self._now = now
        self._lock = threading.Lock()
        self._stores: dict[KeyType, tuple[float | None, KeyStore]] = {}
        self._audit_key = open_audit_key(
            self._directory,
            passphrase,
            allow_plaintext=allow_plaintext,
            now=now,
            kdf=kdf,
            vault=vault,
        )

    @property
    def did(self) -> str:
        return self._did

    @property
    def key_types(self) -> tuple[KeyType, ...]:
        """The key types this instance signs with: Ed25519 (status lists) and each suite's."""
        chosen = {KeyType.ED25519, *self._suite_keys.values()}
        return tuple(k for k in KeyType if k in chosen)

    def _published_types(self) -> tuple[KeyType, ...]:
        """The key types signed with now, and any other whose store exists on disk (a key
        type an earlier setting used: its keys stay published for what they signed)."""
        current = self.key_types
        return tuple(k for k in KeyType if k in current or (self._path(k) / INDEX_NAME).is_file())

    @property
    def vault(self) -> KeyVault | None:
        """Where the private keys are when not in key files (a PKCS#11 token), else None."""
        return self._vault

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
                vault=self._vault,
            )
            self._stores[key_type] = (stamp, store)
            return store

    def ensure_keys(self, now: datetime) -> list[KeyRecord]:
        """Create the first key of every type that has none (``certvc init``); idempotent."""
        created = []
        for key_type in self.key_types:
            store = self.store(key_type, now)
            if not store.records():
                created.append(store.create(key_type, self._key_id(key_type, 1)))
        return created

    def rotate(self, key_type: KeyType, now: datetime) -> KeyRecord:
        """A new active key of ``key_type``; the old one is retired but stays published.

        :raises FieldError: the instance does not sign with ``key_type``.
        """
        if key_type not in self.key_types:
            using = ", ".join(k.value for k in self.key_types)
            raise FieldError("type", f"this instance signs with {using}, not {key_type.value}")
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
        return self.store(self._suite_keys[suite]).active_signer()

    def check(self) -> None:
        """Decrypt every active key now, so a wrong passphrase shows at start, not mid-request."""
        for key_type in self.key_types:
            store = self.store(key_type)
            if not store.records():
                raise KeyMaterialError(
                    f"no {key_type.value} key in {self._path(key_type)}: run certvc init",
                    code=KeyCode.KEY_NOT_FOUND,
                )
            store.active_signer()

    def audit_key(self) -> AuditKey:
        """The audit log's MAC key: the key file with this ring's passphrase, or the HMAC key
        in this ring's token."""
        return self._audit_key

    def methods(self) -> list[VerificationMethodEntry]:
        return [
            method
            for key_type in self._published_types()
            for method in self.store(key_type).methods()
        ]

    def records(self) -> list[KeyRecord]:
        return [
            record
            for key_type in self._published_types()
            for record in self.store(key_type).records()
        ]

    def did_document(self) -> dict[str, Any]:
        """The did:web document: current and retired verification methods of every store."""
        return did_web_document(self._did, self.methods())

    def __repr__(self) -> str:
        where = "" if self._vault is None else f", vault={self._vault!r}"
        return f"Keyring({str(self._directory)!r}, did={self._did!r}{where})"
