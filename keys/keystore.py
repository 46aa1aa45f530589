"""The encrypted-at-rest key store: one JSON file per key, an index, and rotation.

A key file holds the PKCS#8 PEM of one key, encrypted with cryptography's best available
scheme (plaintext only in an explicit development mode), next to its public key and id. The
PKCS#8 layer runs only 2048 PBKDF2 iterations, so its password is the operator's passphrase
stretched with scrypt; the salt and cost are stored in the file's ``kdf`` member.

Files are created with mode 0600 and written atomically; a key file is never overwritten. The
index ``keystore.json`` lists every key with its status: exactly one is active (it signs), the
others are retired and stay published so old credentials keep verifying.

Nothing here reads the environment or the clock: callers pass ``env`` and ``now``.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import secrets
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import Enum
from pathlib import Path
from typing import Any, NoReturn, Protocol

from contexts.errors import InputError
from keys._hazmat import ScryptParams as ScryptParams  # the KDF cost type, public here
from keys._hazmat import new_salt, stretch_passphrase
from keys.did import VerificationMethodEntry
from keys.jwk import b64url_decode, b64url_encode
from keys.keypair import KeyPair, KeyType, PublicKey, Signer

from .errors import KeyCode, KeyMaterialError

KEY_FILE_VERSION = 1
DEFAULT_KDF = ScryptParams()
INDEX_VERSION = 1
INDEX_NAME = "keystore.json"
PASSPHRASE_ENV = "CERTVC_KEY_PASSPHRASE"

_LOCK_NAME = ".keystore.lock"
_MAX_FILE_BYTES = 64 * 1024
_FILE_NAME = re.compile(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.json")
#: A key held in a vault (a PKCS#11 token): ``pkcs11:`` and the hex ``CKA_ID``.
_VAULT_REFERENCE = re.compile(r"pkcs11:[0-9a-f]{2,128}")


class KeyStatus(Enum):
    ACTIVE = "active"
    RETIRED = "retired"


class KeyVault(Protocol):
    """Where a store's private keys live when not in its key files: an HSM (see
    :class:`keys.pkcs11_token.Token`). The store keeps the index; the vault generates keys
    inside itself, names them with a reference the index records, and signs."""

    def generate(self, key_type: KeyType, key_id: str) -> tuple[str, PublicKey]:
        """A new key pair; its reference (``pkcs11:<hex>``) and public key."""
        ...

    def signer(self, reference: str, key_type: KeyType, key_id: str) -> Signer: ...

    def public_key(self, reference: str, key_type: KeyType) -> PublicKey: ...


@dataclass(frozen=True)
class KeyRecord:
    """One index entry. ``id`` is the verification method URL the caller chose; ``file`` is
    the key file's name, or for a key in a vault its reference (``pkcs11:<hex CKA_ID>``)."""

    id: str
    file: str
    key_type: KeyType
    status: KeyStatus
    created: datetime
    retired: datetime | None = None


# --- helpers ------------------------------------------------------------------------------


def _require_aware(now: datetime) -> datetime:
    if not isinstance(now, datetime) or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return now


def _format_time(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_time(value: object, what: str) -> datetime:
    try:
        if not isinstance(value, str):
            raise ValueError(value)
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise KeyMaterialError(f"{what} is not an ISO date-time") from exc
    if moment.utcoffset() is None:
        raise KeyMaterialError(f"{what} has no time zone")
    return moment


def _fsync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _atomic_write(path: Path, data: bytes, *, overwrite: bool) -> None:
    """Write via a 0600 temp file in the same directory, then rename (or link: no clobber).

    :raises InputError: the folder does not exist (named as given, not the temporary file).
    """
    if not path.parent.is_dir():
        raise InputError(f"the folder {path.parent} does not exist: create it first")
    temp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(temp, flags, 0o600)  # created private: never chmod-ed after the fact
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        if overwrite:
            os.replace(temp, path)
        else:
            try:
                os.link(temp, path)  # atomic, and fails if the target exists
            except FileExistsError:
                raise KeyMaterialError(
                    f"refusing to overwrite the existing key file {path}"
                ) from None
            os.unlink(temp)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp)
        raise
    _fsync_directory(path.parent)


def _read_small(path: Path, *, private: bool) -> bytes:
    try:
        with open(path, "rb") as handle:
            mode = os.fstat(handle.fileno()).st_mode
            if private and os.name == "posix" and mode & (stat.S_IRWXG | stat.S_IRWXO):
                raise KeyMaterialError(
                    f"key file {path} is accessible to group or others; it must be mode 0600"
                )
            data = handle.read(_MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise KeyMaterialError(f"{path} does not exist", code=KeyCode.KEY_NOT_FOUND) from exc
    except OSError as exc:
        raise KeyMaterialError(f"cannot read {path}") from exc
    if len(data) > _MAX_FILE_BYTES:
        raise KeyMaterialError(f"{path} is too large")
    return data


def _load_json(path: Path, *, private: bool) -> dict[str, Any]:
    try:
        document = json.loads(_read_small(path, private=private))
    except (ValueError, UnicodeDecodeError) as exc:
        raise KeyMaterialError(f"{path} is not JSON") from exc
    if not isinstance(document, dict):
        raise KeyMaterialError(f"{path} is not a JSON object")
    return document


def write_new_private_file(path: Path, data: bytes) -> None:
    """A new file, mode 0600, written atomically (fsynced); an existing one is never replaced.

    :raises KeyMaterialError: the file exists. :raises InputError: its folder does not.
    """
    _atomic_write(Path(path), data, overwrite=False)


def read_private_json(path: Path) -> dict[str, Any]:
    """A small JSON object from a file that only its owner may read (like a key file).

    :raises KeyMaterialError: missing (``key_not_found``), readable by others, too large, or
        not a JSON object.
    """
    return _load_json(Path(path), private=True)


# --- key files ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyFileInfo:
    """The public part of a key file, readable without the passphrase."""

    id: str
    key_type: KeyType
    public_key: PublicKey
    created: datetime
    encrypted: bool


def _info(document: Mapping[str, Any], path: Path) -> KeyFileInfo:
    if document.get("version") != KEY_FILE_VERSION:
        raise KeyMaterialError(f"{path}: unsupported key file version")
    key_id = document.get("id")
    encrypted = document.get("encrypted")
    if not isinstance(key_id, str) or not key_id or not isinstance(encrypted, bool):
        raise KeyMaterialError(f"{path}: key file needs an id and an encrypted flag")
    try:
        key_type = KeyType(document.get("type"))
    except ValueError:
        raise KeyMaterialError(f"{path}: unknown key type", code=KeyCode.KEY_UNSUPPORTED) from None
    public_key = PublicKey.from_multibase(document.get("publicKeyMultibase"))  # type: ignore[arg-type]
    if public_key.key_type is not key_type:
        raise KeyMaterialError(f"{path}: publicKeyMultibase is not a {key_type.value} key")
    created = _parse_time(document.get("created"), f"{path}: created")
    return KeyFileInfo(key_id, key_type, public_key, created, encrypted)


def read_key_file_info(path: Path) -> KeyFileInfo:
    """Id, type, public key and dates of a key file, without decrypting it.

    :raises KeyMaterialError: ``key_invalid``, ``key_not_found``, ``key_unsupported``.
    """
    return _info(_load_json(path, private=True), path)


def write_key_file(
    path: Path,
    keypair: KeyPair,
    *,
    passphrase: bytes | None,
    plaintext: bool = False,
    key_id: str | None = None,
    now: datetime,
    kdf: ScryptParams = DEFAULT_KDF,
) -> None:
    """Write one key file, mode 0600, atomically, never over an existing file.

    ``key_id`` defaults to the did:key verification method id. A plaintext file needs
    ``plaintext=True`` and no passphrase (development only). ``kdf`` is the scrypt cost of
    the passphrase stretching (lower it only in tests).

    :raises KeyMaterialError: ``passphrase_required`` (no passphrase, not plaintext mode),
        ``key_invalid`` (the file exists).
    """
    if plaintext and passphrase is not None:
        raise ValueError("plaintext=True conflicts with a passphrase")
    if passphrase is None and not plaintext:
        raise KeyMaterialError(
            "a passphrase is required to write a key file (plaintext is for development only)",
            code=KeyCode.PASSPHRASE_REQUIRED,
        )
    document: dict[str, Any] = {
        "version": KEY_FILE_VERSION,
        "id": key_id or keypair.public_key.did_key_method_id,
        "type": keypair.key_type.value,
        "publicKeyMultibase": keypair.public_key.multibase,
        "created": _format_time(_require_aware(now)),
        "encrypted": passphrase is not None,
    }
    password = None
    if passphrase is not None:
        salt = new_salt()
        password = stretch_passphrase(passphrase, salt, kdf)
        document["kdf"] = {
            "name": "scrypt",
            "salt": b64url_encode(salt),
            "n": kdf.n,
            "r": kdf.r,
            "p": kdf.p,
        }
    document["privateKeyPem"] = keypair.export_pkcs8_pem(password).decode("ascii")
    data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
    _atomic_write(Path(path), data, overwrite=False)


def _kdf(value: object, path: Path) -> tuple[bytes, ScryptParams]:
    if not isinstance(value, Mapping) or value.get("name") != "scrypt":
        raise KeyMaterialError(f"{path}: encrypted key file without scrypt parameters")
    salt = b64url_decode(value.get("salt"), member="kdf.salt")
    if len(salt) < 16:
        raise KeyMaterialError(f"{path}: scrypt salt is too short")
    return salt, ScryptParams(n=value.get("n"), r=value.get("r"), p=value.get("p"))  # type: ignore[arg-type]


def _read_key(path: Path, passphrase: bytes | None, allow_plaintext: bool) -> tuple[str, KeyPair]:
    document = _load_json(path, private=True)
    info = _info(document, path)
    pem = document.get("privateKeyPem")
    if not isinstance(pem, str):
        raise KeyMaterialError(f"{path}: key file has no privateKeyPem")
    if info.encrypted:
        if passphrase is None:
            raise KeyMaterialError(
                f"{path} is encrypted: give --passphrase-file or {PASSPHRASE_ENV}",
                code=KeyCode.PASSPHRASE_REQUIRED,
            )
        salt, params = _kdf(document.get("kdf"), path)
        password = stretch_passphrase(passphrase, salt, params)
        keypair = KeyPair.from_pkcs8_pem(pem.encode("ascii", "replace"), password)
    else:
        if not allow_plaintext:
            raise KeyMaterialError(
                f"{path} holds an unencrypted key; allowed only in development mode",
                code=KeyCode.PLAINTEXT_KEY_REFUSED,
            )
        keypair = KeyPair.from_pkcs8_pem(pem.encode("ascii", "replace"), None)
    if keypair.public_key != info.public_key:
        raise KeyMaterialError(f"{path}: publicKeyMultibase does not belong to the private key")
    return info.id, keypair


def read_key_file(
    path: Path, *, passphrase: bytes | None, allow_plaintext: bool = False
) -> KeyPair:
    """Read and decrypt a key file; its public key must match its private key.

    :raises KeyMaterialError: ``passphrase_required``, ``passphrase_wrong``,
        ``plaintext_key_refused``, ``key_not_found``, ``key_invalid``, ``key_unsupported``.
    """
    return _read_key(Path(path), passphrase, allow_plaintext)[1]


def load_passphrase(env: Mapping[str, str], passphrase_file: Path | None) -> bytes | None:
    """The key passphrase from ``--passphrase-file`` (one trailing newline stripped), else from
    ``CERTVC_KEY_PASSPHRASE`` in ``env``; None when neither is given.

    :raises KeyMaterialError: ``passphrase_required`` for an unreadable or empty file.
    """
    if passphrase_file is not None:
        try:
            data = Path(passphrase_file).read_bytes()
        except OSError as exc:
            raise KeyMaterialError(
                f"cannot read the passphrase file {passphrase_file}",
                code=KeyCode.PASSPHRASE_REQUIRED,
            ) from exc
        if data.endswith(b"\r\n"):
            data = data[:-2]
        elif data.endswith(b"\n"):
            data = data[:-1]
        if not data:
            raise KeyMaterialError(
                f"the passphrase file {passphrase_file} is empty",
                code=KeyCode.PASSPHRASE_REQUIRED,
            )
        return data
    value = env.get(PASSPHRASE_ENV)
    return value.encode("utf-8") if value else None


# --- the store ----------------------------------------------------------------------------


def _record_from_json(item: object) -> KeyRecord:
    if not isinstance(item, Mapping):
        raise KeyMaterialError("key store index entries must be objects")
    key_id, file = item.get("id"), item.get("file")
    if not isinstance(key_id, str) or not key_id:
        raise KeyMaterialError("key store index entry without an id")
    named = isinstance(file, str) and (
        _VAULT_REFERENCE.fullmatch(file) or (_FILE_NAME.fullmatch(file) and file != INDEX_NAME)
    )
    if not isinstance(file, str) or not named:
        raise KeyMaterialError(f"key store index entry {key_id!r} names a bad file")
    try:
        key_type = KeyType(item.get("type"))
        status = KeyStatus(item.get("status"))
    except ValueError:
        raise KeyMaterialError(
            f"key store index entry {key_id!r} has a bad type or status"
        ) from None
    retired = item.get("retired")
    return KeyRecord(
        id=key_id,
        file=file,
        key_type=key_type,
        status=status,
        created=_parse_time(item.get("created"), f"index entry {key_id!r}: created"),
        retired=None if retired is None else _parse_time(retired, f"{key_id!r}: retired"),
    )


def _record_to_json(record: KeyRecord) -> dict[str, Any]:
    return {
        "id": record.id,
        "file": record.file,
        "type": record.key_type.value,
        "status": record.status.value,
        "created": _format_time(record.created),
        "retired": None if record.retired is None else _format_time(record.retired),
    }


def _check_records(records: tuple[KeyRecord, ...]) -> None:
    if len({record.id for record in records}) != len(records):
        raise KeyMaterialError("key store index repeats a key id")
    if len({record.file for record in records}) != len(records):
        raise KeyMaterialError("key store index repeats a key file")
    active = [record for record in records if record.status is KeyStatus.ACTIVE]
    if records and len(active) != 1:
        raise KeyMaterialError("key store index must have exactly one active key")


def _read_index(directory: Path) -> tuple[KeyRecord, ...]:
    path = directory / INDEX_NAME
    if not path.exists():
        return ()
    document = _load_json(path, private=False)
    keys = document.get("keys")
    if document.get("version") != INDEX_VERSION or not isinstance(keys, list):
        raise KeyMaterialError(f"{path}: unsupported key store index")
    records = tuple(_record_from_json(item) for item in keys)
    _check_records(records)
    return records


def in_vault(record: KeyRecord) -> bool:
    """Whether ``record`` names a key in a vault (a PKCS#11 token) rather than a key file."""
    return _VAULT_REFERENCE.fullmatch(record.file) is not None


class KeyStore:
    """Keys of one issuer in a directory. Open with :meth:`open`.

    Decrypted signers are cached in the instance only (decryption runs a slow KDF). With a
    ``vault`` the private keys live there (an HSM) and the directory holds only the index.
    """

    __slots__ = (
        "_allow_plaintext",
        "_directory",
        "_kdf",
        "_now",
        "_passphrase",
        "_public",
        "_records",
        "_signers",
        "_vault",
    )

    def __init__(
        self,
        directory: Path,
        passphrase: bytes | None,
        *,
        allow_plaintext: bool,
        now: datetime,
        records: tuple[KeyRecord, ...],
        kdf: ScryptParams = DEFAULT_KDF,
        vault: KeyVault | None = None,
    ) -> None:
        self._directory = directory
        self._passphrase = passphrase
        self._allow_plaintext = allow_plaintext
        self._now = _require_aware(now)
        self._records = records
        self._kdf = kdf
        self._signers: dict[str, Signer] = {}
        self._public: dict[str, PublicKey] = {}
        self._vault = vault

    @classmethod
    def open(
        cls,
        directory: Path,
        passphrase: bytes | None,
        *,
        allow_plaintext: bool = False,
        now: datetime,
        kdf: ScryptParams = DEFAULT_KDF,
        vault: KeyVault | None = None,
    ) -> KeyStore:
        """Read the index (a missing directory or index is an empty store).

        ``now`` stamps keys created or retired through this instance; ``kdf`` is the scrypt
        cost for keys it writes (lower it only in tests); ``vault``: the private keys live
        there (an HSM), not in key files (the passphrase is then unused).

        :raises KeyMaterialError: ``key_invalid`` for a damaged index.
        """
        directory = Path(directory)
        return cls(
            directory,
            passphrase,
            allow_plaintext=allow_plaintext,
            now=now,
            records=_read_index(directory),
            kdf=kdf,
            vault=vault,
        )

    @property
    def directory(self) -> Path:
        return self._directory

    def records(self) -> tuple[KeyRecord, ...]:
        """Every key, in creation order."""
        return self._records

    def active_record(self) -> KeyRecord:
        """:raises KeyMaterialError: ``key_not_found`` for an empty store."""
        for record in self._records:
            if record.status is KeyStatus.ACTIVE:
                return record
        raise KeyMaterialError(
            f"the key store {self._directory} has no key yet", code=KeyCode.KEY_NOT_FOUND
        )

    def _record(self, key_id: str) -> KeyRecord:
        for record in self._records:
            if record.id == key_id:
                return record
        raise KeyMaterialError(f"no key {key_id!r} in the store", code=KeyCode.KEY_NOT_FOUND)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """Serialise writers (advisory lock) and refuse to act on a stale view of the index."""
        self._directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd = os.open(self._directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            if _read_index(self._directory) != self._records:
                raise KeyMaterialError("the key store changed since it was opened; open it again")
            yield
        finally:
            os.close(fd)

    def _new_key(self, key_type: KeyType, key_id: str) -> KeyRecord:
        if any(record.id == key_id for record in self._records):
            raise KeyMaterialError(f"the key store already has a key {key_id!r}")
        if self._vault is not None:
            reference, public = self._vault.generate(key_type, key_id)
            self._public[key_id] = public
            return KeyRecord(key_id, reference, key_type, KeyStatus.ACTIVE, self._now)
        keypair = KeyPair.generate(key_type)
        file = f"key-{keypair.public_key.thumbprint}.json"
        write_key_file(
            self._directory / file,
            keypair,
            passphrase=self._passphrase,
            plaintext=self._passphrase is None and self._allow_plaintext,
            key_id=key_id,
            now=self._now,
            kdf=self._kdf,
        )
        self._signers[key_id] = keypair.signer(key_id)
        self._public[key_id] = keypair.public_key
        return KeyRecord(key_id, file, key_type, KeyStatus.ACTIVE, self._now)

    def _write_index(self, records: tuple[KeyRecord, ...]) -> None:
        _check_records(records)
        document = {
            "version": INDEX_VERSION,
            "keys": [_record_to_json(record) for record in records],
        }
        data = (json.dumps(document, indent=2) + "\n").encode("utf-8")
        _atomic_write(self._directory / INDEX_NAME, data, overwrite=True)
        self._records = records

    def create(self, key_type: KeyType, key_id: str) -> KeyRecord:
        """Create the first key, active.

        :raises KeyMaterialError: ``key_invalid`` when the store has keys (use :meth:`rotate`),
            ``passphrase_required`` without a passphrase outside plaintext mode.
        """
        with self._locked():
            if self._records:
                raise KeyMaterialError("the key store already has keys; rotate instead")
            record = self._new_key(key_type, key_id)
            self._write_index((record,))
        return record

    def rotate(self, key_type: KeyType | None, new_key_id: str) -> KeyRecord:
        """Make a new key the single active one; the previous active key is retired but kept.

        ``key_type`` None keeps the current type. The current key is decrypted first, so a
        mistyped passphrase cannot leave a store whose keys need different passphrases.

        :raises KeyMaterialError: ``key_not_found`` (empty store), ``passphrase_wrong``,
            ``key_invalid`` (id already used).
        """
        with self._locked():
            current = self.active_record()
            self.active_signer()
            record = self._new_key(key_type or current.key_type, new_key_id)
            retired = tuple(
                replace(old, status=KeyStatus.RETIRED, retired=self._now)
                if old.status is KeyStatus.ACTIVE
                else old
                for old in self._records
            )
            self._write_index((*retired, record))
        return record

    def _where(self, record: KeyRecord) -> None:
        """Refuse a key kept elsewhere than this store keeps its keys (a token key without
        the token, a key file in a token store)."""
        if in_vault(record) and self._vault is None:
            raise KeyMaterialError(
                f"key {record.id!r} is in a PKCS#11 token: open the store with its token",
                code=KeyCode.KEY_NOT_FOUND,
            )
        if not in_vault(record) and self._vault is not None:
            raise KeyMaterialError(
                f"key {record.id!r} is a key file, not a key in the PKCS#11 token",
                code=KeyCode.KEY_NOT_FOUND,
            )

    def _load_signer(self, record: KeyRecord) -> Signer:
        self._where(record)
        if self._vault is not None:
            return self._vault.signer(record.file, record.key_type, record.id)
        return self._load_keypair(record).signer(record.id)

    def _load_keypair(self, record: KeyRecord) -> KeyPair:
        key_id, keypair = _read_key(
            self._directory / record.file, self._passphrase, self._allow_plaintext
        )
        if key_id != record.id or keypair.key_type is not record.key_type:
            raise KeyMaterialError(f"key file {record.file} does not hold key {record.id!r}")
        return keypair

    def active_signer(self) -> Signer:
        """Signer of the active key (decrypted once per instance)."""
        record = self.active_record()
        signer = self._signers.get(record.id)
        if signer is None:
            signer = self._load_signer(record)
            self._signers[record.id] = signer
        return signer

    def public_key(self, key_id: str) -> PublicKey:
        """Public key of any key in the store, read without decryption.

        :raises KeyMaterialError: ``key_not_found``, ``key_invalid``.
        """
        public = self._public.get(key_id)
        if public is None and self._vault is not None:
            record = self._record(key_id)
            self._where(record)
            public = self._public[key_id] = self._vault.public_key(record.file, record.key_type)
        if public is None:
            record = self._record(key_id)
            self._where(record)
            info = read_key_file_info(self._directory / record.file)
            if info.id != key_id or info.key_type is not record.key_type:
                raise KeyMaterialError(f"key file {record.file} does not hold key {key_id!r}")
            public = self._public[key_id] = info.public_key
        return public

    def methods(self) -> list[VerificationMethodEntry]:
        """Every key, active and retired, for the did:web document."""
        return [
            VerificationMethodEntry(
                id=record.id,
                public_key=self.public_key(record.id),
                retired=record.status is KeyStatus.RETIRED,
            )
            for record in self._records
        ]

    def __repr__(self) -> str:
        return f"KeyStore({str(self._directory)!r}, keys={len(self._records)})"

    def __reduce__(self) -> NoReturn:
        raise TypeError("a KeyStore holds secrets and cannot be pickled or copied")
