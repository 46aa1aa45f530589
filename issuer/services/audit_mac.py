"""The audit log's MAC key: a secret in the key store, never in the database.

Each event's hash is a plain SHA-256 that anyone can recompute, so a database writer could
rewrite the chain and recompute every hash. Each event therefore also carries an HMAC-SHA-256 of
its hash (which covers every field and the previous hash) with this key. Without the key a
rewritten event cannot get a valid MAC.

The key file is ``<instance>/keys/audit-mac.json`` in the key store's own format
(:func:`keys.keystore.write_key_file`: encrypted PKCS#8 with the key passphrase stretched by
scrypt, mode 0600, written atomically, never overwritten). The key store holds key pairs only,
so the file holds an Ed25519 key used for nothing but its 32 random secret bytes: the MAC key
is an HMAC of that secret under a fixed label and the key's id. The public half is never
published and nothing is signed with it.

The id records the first event the key covers (``urn:certvc:audit-mac:from:<seq>``): events
from there on must carry a MAC; older ones were written before the key existed and have none.
Because the id enters the key's derivation, changing it in the file changes the key and every
MAC fails. A key is created at ``certvc init``, or by the first event an older instance
appends, while the chain head is locked, so no event is appended between reading the head and
writing the file.
"""

from __future__ import annotations

import hashlib
import hmac
import threading
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import NoReturn, Protocol

from keys.errors import KeyMaterialError
from keys.keypair import KeyPair, KeyType
from keys.keystore import (
    DEFAULT_KDF,
    ScryptParams,
    read_key_file,
    read_key_file_info,
    write_key_file,
)

FILE_NAME = "audit-mac.json"
KEY_ID_PREFIX = "urn:certvc:audit-mac:from:"
#: Labels of the two HMACs, so neither value means anything elsewhere.
_KEY_LABEL = b"certvc-audit-mac-key/1\n"
_EVENT_LABEL = b"certvc-audit-event/1\n"


@dataclass(frozen=True)
class MacKey:
    """The MAC key; every event from ``from_seq`` on carries its MAC. The secret never shows in
    ``repr`` and the object cannot be pickled."""

    from_seq: int
    _secret: bytes = field(repr=False)

    def mac(self, event_hash: str) -> str:
        """HMAC-SHA-256 (hex) of an event's hash."""
        message = _EVENT_LABEL + event_hash.encode("ascii")
        return hmac.new(self._secret, message, hashlib.sha256).hexdigest()

    def holds(self, event_hash: str, mac: str) -> bool:
        """``mac`` is this key's MAC of ``event_hash`` (compared in constant time)."""
        return hmac.compare_digest(self.mac(event_hash), mac)

    def __repr__(self) -> str:
        return f"MacKey(from_seq={self.from_seq})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the audit MAC key cannot be copied out of its process")


class MacKeySource(Protocol):
    """Where :func:`issuer.services.audit.record` gets the key (bound to a session factory)."""

    def key(self, next_seq: int) -> MacKey:
        """The key, created to cover events from ``next_seq`` on when there is none yet
        (called with the chain head locked)."""
        ...


class AuditKeyFile:
    """The MAC key file of one instance. Decrypts once (scrypt is slow), then keeps the key."""

    def __init__(
        self,
        path: Path,
        passphrase: bytes | None,
        *,
        allow_plaintext: bool,
        now: datetime,
        kdf: ScryptParams = DEFAULT_KDF,
    ) -> None:
        self._path = Path(path)
        self._passphrase = passphrase
        self._allow_plaintext = allow_plaintext
        self._now = now
        self._kdf = kdf
        self._lock = threading.Lock()
        self._key: MacKey | None = None

    @property
    def path(self) -> Path:
        return self._path

    def exists(self) -> bool:
        return self._path.exists()

    def load(self) -> MacKey | None:
        """The key; None when the instance has none yet.

        :raises KeyMaterialError: ``passphrase_required`` / ``passphrase_wrong`` /
            ``plaintext_key_refused``, or a damaged file.
        """
        with self._lock:
            if self._key is None and self._path.exists():
                self._key = self._read()
            return self._key

    def key(self, next_seq: int) -> MacKey:
        """The key; when there is none, a new one covering events from ``next_seq`` on.

        :raises KeyMaterialError: as :meth:`load`; ``passphrase_required`` to create one
            outside development mode without the passphrase.
        """
        with self._lock:
            if self._key is None:
                if not self._path.exists():
                    self._create(next_seq)
                self._key = self._read()
            return self._key

    def _create(self, next_seq: int) -> None:
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_key_file(
                self._path,
                KeyPair.generate(KeyType.ED25519),
                passphrase=self._passphrase,
                plaintext=self._passphrase is None and self._allow_plaintext,
                key_id=f"{KEY_ID_PREFIX}{next_seq}",
                now=self._now,
                kdf=self._kdf,
            )
        except KeyMaterialError:
            if not self._path.exists():
                raise
            # Another process made it first (its head lock ended first): read that one.

    def _read(self) -> MacKey:
        key_id = read_key_file_info(self._path).id
        from_seq = _from_seq(key_id, self._path)
        pair = read_key_file(
            self._path, passphrase=self._passphrase, allow_plaintext=self._allow_plaintext
        )
        secret = pair.export_secret_multibase().encode("ascii")
        derived = hmac.new(secret, _KEY_LABEL + key_id.encode("utf-8"), hashlib.sha256).digest()
        return MacKey(from_seq, derived)

    def __repr__(self) -> str:
        return f"AuditKeyFile({str(self._path)!r})"


def _from_seq(key_id: str, path: Path) -> int:
    number = key_id.removeprefix(KEY_ID_PREFIX)
    if (
        not key_id.startswith(KEY_ID_PREFIX)
        or not (number.isascii() and number.isdigit())
        or int(number) < 1
    ):
        raise KeyMaterialError(f"{path}: not an audit MAC key (id {key_id!r})")
    return int(number)
