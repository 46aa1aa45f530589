"""The audit log's MAC key: a secret in the key store, never in the database.

Each event's hash is a plain SHA-256 that anyone can recompute, so a database writer could
rewrite the chain and recompute every hash. Each event therefore also carries an HMAC-SHA-256 of
its hash (which covers every field and the previous hash) with this key. Without the key a
rewritten event cannot get a valid MAC.

Where the key lives follows the instance's key backend (:func:`open_audit_key`):

- Key files: ``<instance>/keys/audit-mac.json`` in the key store's own format
  (:func:`keys.keystore.write_key_file`: encrypted PKCS#8 with the key passphrase stretched by
  scrypt, mode 0600, written atomically, never overwritten). The key store holds key pairs
  only, so the file holds an Ed25519 key used for nothing but its 32 random secret bytes: the
  MAC key is an HMAC of that secret under a fixed label and the key's id. The public half is
  never published and nothing is signed with it.
- A PKCS#11 token (an HSM): a generic secret key generated inside the token, sensitive and
  unextractable, that computes the HMAC there (``CKM_SHA256_HMAC``): the secret never leaves
  the token. ``<instance>/keys/audit-mac-pkcs11.json`` records only the key's id and its
  ``CKA_ID``; the key's id is part of every MAC message.

The id records the first event the key covers (``urn:certvc:audit-mac:from:<seq>``): events
from there on must carry a MAC; older ones were written before the key existed and have none.
Because the id enters the key's derivation (or, in a token, every MAC), changing it in the file
makes every MAC fail. A key is created at ``certvc init``, or by the first event an older
instance appends, while the chain head is locked, so no event is appended between reading the
head and writing the file.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from datetime import datetime
from pathlib import Path
from typing import NoReturn, Protocol, runtime_checkable

from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyPair, KeyType
from keys.keystore import (
    DEFAULT_KDF,
    ScryptParams,
    read_key_file,
    read_key_file_info,
    read_private_json,
    write_key_file,
    write_new_private_file,
)

FILE_NAME = "audit-mac.json"
#: With a PKCS#11 token: the key's id and where it is in the token (nothing secret).
TOKEN_FILE_NAME = "audit-mac-pkcs11.json"
KEY_ID_PREFIX = "urn:certvc:audit-mac:from:"
#: Labels of the HMACs, so no value means anything elsewhere.
_KEY_LABEL = b"certvc-audit-mac-key/1\n"
_EVENT_LABEL = b"certvc-audit-event/1\n"
_TOKEN_LABEL = b"certvc-audit-mac-pkcs11/1\n"


class MacKey:
    """The MAC key; every event from ``from_seq`` on carries its MAC. The secret never shows in
    ``repr`` and the object cannot be pickled."""

    __slots__ = ("from_seq",)

    def __init__(self, from_seq: int) -> None:
        self.from_seq = from_seq

    def _digest(self, message: bytes) -> bytes:
        raise NotImplementedError

    def mac(self, event_hash: str) -> str:
        """HMAC-SHA-256 (hex) of an event's hash."""
        return self._digest(_EVENT_LABEL + event_hash.encode("ascii")).hex()

    def holds(self, event_hash: str, mac: str) -> bool:
        """``mac`` is this key's MAC of ``event_hash`` (compared in constant time)."""
        return hmac.compare_digest(self.mac(event_hash), mac)

    def __repr__(self) -> str:
        return f"MacKey(from_seq={self.from_seq})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("the audit MAC key cannot be copied out of its process")


class _SecretMacKey(MacKey):
    """A key this process holds (derived from the encrypted key file)."""

    __slots__ = ("_secret",)

    def __init__(self, from_seq: int, secret: bytes) -> None:
        super().__init__(from_seq)
        self._secret = secret

    def _digest(self, message: bytes) -> bytes:
        return hmac.new(self._secret, message, hashlib.sha256).digest()


@runtime_checkable
class HmacVault(Protocol):
    """A key store's vault that keeps HMAC keys too (:class:`keys.pkcs11_token.Token`)."""

    def generate_hmac_key(self, label: str) -> str: ...

    def destroy_hmac_key(self, reference: str) -> None: ...

    def check_hmac_key(self, reference: str) -> None: ...

    def hmac_sha256(self, reference: str, data: bytes) -> bytes: ...


class _TokenMacKey(MacKey):
    """A key inside a token: each MAC is computed there, over the key's id and the message."""

    __slots__ = ("_prefix", "_reference", "_vault")

    def __init__(self, from_seq: int, vault: HmacVault, reference: str, key_id: str) -> None:
        super().__init__(from_seq)
        self._vault = vault
        self._reference = reference
        self._prefix = _TOKEN_LABEL + key_id.encode("utf-8") + b"\n"

    def _digest(self, message: bytes) -> bytes:
        return self._vault.hmac_sha256(self._reference, self._prefix + message)


class MacKeySource(Protocol):
    """Where :func:`issuer.services.audit.record` gets the key (bound to a session factory)."""

    def key(self, next_seq: int) -> MacKey:
        """The key, created to cover events from ``next_seq`` on when there is none yet
        (called with the chain head locked)."""
        ...


class AuditKey(Protocol):
    """The MAC key of one instance, wherever it lives (:func:`open_audit_key`)."""

    @property
    def path(self) -> Path: ...

    def exists(self) -> bool: ...

    def load(self) -> MacKey | None:
        """The key; None when the instance has none yet.

        :raises KeyMaterialError: it cannot be opened (passphrase or PIN missing or wrong, a
            damaged file, a key missing from the token).
        """
        ...

    def key(self, next_seq: int) -> MacKey:
        """The key; when there is none, a new one covering events from ``next_seq`` on."""
        ...


def open_audit_key(
    directory: Path,
    passphrase: bytes | None,
    *,
    allow_plaintext: bool,
    now: datetime,
    kdf: ScryptParams = DEFAULT_KDF,
    vault: object | None = None,
) -> AuditKey:
    """The audit key of the key stores in ``directory``: in ``vault`` (a token) when the
    instance has one, else the encrypted key file."""
    if vault is not None:
        return AuditKeyInToken(Path(directory) / TOKEN_FILE_NAME, vault, now=now)
    return AuditKeyFile(
        Path(directory) / FILE_NAME,
        passphrase,
        allow_plaintext=allow_plaintext,
        now=now,
        kdf=kdf,
    )


class _KeyHolder:
    """What both key holders share: the file at ``path`` that names the key, read once (under
    a lock: the worker threads of a process share it) and kept; made on first use. Subclasses
    say how the key is made (``_create``) and read (``_read``)."""

    def __init__(self, path: Path, *, now: datetime) -> None:
        self._path = Path(path)
        self._now = now
        self._lock = threading.Lock()
        self._key: MacKey | None = None

    @property
    def path(self) -> Path:
        return self._path

    def exists(self) -> bool:
        return self._path.exists()

    def load(self) -> MacKey | None:
        """The key; None when the instance has none yet.

        :raises KeyMaterialError: the key cannot be read (see the subclass).
        """
        with self._lock:
            if self._key is None and self._path.exists():
                self._key = self._read()
            return self._key

    def key(self, next_seq: int) -> MacKey:
        """The key; when there is none, a new one covering events from ``next_seq`` on.

        :raises KeyMaterialError: as :meth:`load`, or the key cannot be made (see the
            subclass).
        """
        with self._lock:
            if self._key is None:
                if not self._path.exists():
                    self._create(next_seq)
                self._key = self._read()
            return self._key

    def _create(self, next_seq: int) -> None:
        raise NotImplementedError

    def _read(self) -> MacKey:
        raise NotImplementedError


class AuditKeyFile(_KeyHolder):
    """The MAC key file of one instance. Decrypts once (scrypt is slow), then keeps the key.

    Reading raises ``KeyMaterialError`` ``passphrase_required`` / ``passphrase_wrong`` /
    ``plaintext_key_refused`` or for a damaged file; making one outside development mode
    without the passphrase, ``passphrase_required``.
    """

    def __init__(
        self,
        path: Path,
        passphrase: bytes | None,
        *,
        allow_plaintext: bool,
        now: datetime,
        kdf: ScryptParams = DEFAULT_KDF,
    ) -> None:
        super().__init__(path, now=now)
        self._passphrase = passphrase
        self._allow_plaintext = allow_plaintext
        self._kdf = kdf

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
        return _SecretMacKey(from_seq, derived)

    def __repr__(self) -> str:
        return f"AuditKeyFile({str(self._path)!r})"


class AuditKeyInToken(_KeyHolder):
    """The MAC key of an instance whose keys are in a PKCS#11 token: an HMAC key generated
    and used inside the token; the file at ``path`` names it (``id``, ``reference``).

    Reading raises ``KeyMaterialError`` ``pkcs11_pin_required`` (a session without the PIN),
    ``key_not_found`` (not in the token), ``pkcs11_error`` or for a damaged file; making one,
    ``key_unsupported`` (the token has no HMAC-SHA-256).
    """

    def __init__(self, path: Path, vault: object, *, now: datetime) -> None:
        super().__init__(path, now=now)
        self._vault = vault

    def _token(self) -> HmacVault:
        if not isinstance(self._vault, HmacVault):
            raise KeyMaterialError(
                f"the key vault {self._vault!r} cannot keep the audit log's HMAC key",
                code=KeyCode.KEY_UNSUPPORTED,
            )
        return self._vault

    def _create(self, next_seq: int) -> None:
        token = self._token()
        key_id = f"{KEY_ID_PREFIX}{next_seq}"
        reference = token.generate_hmac_key(key_id)
        document = {
            "id": key_id,
            "type": "HMAC-SHA-256",
            "reference": reference,
            "created": self._now.isoformat(),
        }
        self._path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            write_new_private_file(self._path, json.dumps(document, indent=2).encode("utf-8"))
        except KeyMaterialError:
            if not self._path.exists():
                raise
            # Another process made its key first (its head lock ended first): use that one.
            token.destroy_hmac_key(reference)

    def _read(self) -> MacKey:
        document = read_private_json(self._path)
        key_id, reference = document.get("id"), document.get("reference")
        if not isinstance(key_id, str) or not isinstance(reference, str):
            raise KeyMaterialError(f"{self._path}: not an audit MAC key record")
        from_seq = _from_seq(key_id, self._path)
        token = self._token()
        token.check_hmac_key(reference)
        return _TokenMacKey(from_seq, token, reference, key_id)

    def __repr__(self) -> str:
        return f"AuditKeyInToken({str(self._path)!r})"


def _from_seq(key_id: str, path: Path) -> int:
    number = key_id.removeprefix(KEY_ID_PREFIX)
    if (
        not key_id.startswith(KEY_ID_PREFIX)
        or not (number.isascii() and number.isdigit())
        or len(number) > 18
        or int(number) < 1
    ):
        raise KeyMaterialError(f"{path}: not an audit MAC key (id {key_id!r})")
    return int(number)
