"""The encrypted key store: key files, passphrases, the index and rotation."""

from __future__ import annotations

import json
import os
import pickle
import stat
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization

from contexts.errors import InputError
from keys.did import did_web_document, find_verification_method
from keys.errors import KeyCode, KeyMaterialError
from keys.keypair import KeyPair, KeyType
from keys.keystore import (
    DEFAULT_KDF,
    INDEX_NAME,
    KeyStatus,
    KeyStore,
    ScryptParams,
    load_passphrase,
    read_key_file,
    read_key_file_info,
    write_key_file,
)

NOW = datetime(2025, 3, 1, 12, 0, 0, tzinfo=UTC)
LATER = datetime(2025, 9, 1, 8, 30, 0, tzinfo=UTC)
PASSPHRASE = b"correct horse battery staple"
FAST = ScryptParams(n=2**10)  # tests only: the default cost takes most of a second
DID = "did:web:issuer.example"


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _write(path: Path, pair: KeyPair, **kwargs: object) -> None:
    options: dict[str, object] = {"passphrase": PASSPHRASE, "now": NOW, "kdf": FAST}
    options.update(kwargs)
    write_key_file(path, pair, **options)  # type: ignore[arg-type]


def _rewrite(path: Path, **changes: object) -> None:
    document = json.loads(path.read_text())
    document.update(changes)
    path.write_text(json.dumps(document))  # the file exists: its 0600 mode is kept


def _open(directory: Path, **kwargs: object) -> KeyStore:
    options: dict[str, object] = {"now": NOW, "kdf": FAST}
    options.update(kwargs)
    passphrase = options.pop("passphrase", PASSPHRASE)
    return KeyStore.open(directory, passphrase, **options)  # type: ignore[arg-type]


# --- key files ------------------------------------------------------------------------------


@pytest.mark.parametrize("key_type", list(KeyType))
def test_key_file_round_trip(tmp_path: Path, key_type: KeyType) -> None:
    pair = KeyPair.generate(key_type)
    path = tmp_path / "key.json"
    _write(path, pair, key_id=f"{DID}#key-1")
    loaded = read_key_file(path, passphrase=PASSPHRASE)
    assert loaded.public_key == pair.public_key
    assert pair.public_key.verify(loaded.signer().sign(b"data"), b"data")
    info = read_key_file_info(path)
    assert (info.id, info.key_type, info.public_key, info.created, info.encrypted) == (
        f"{DID}#key-1",
        key_type,
        pair.public_key,
        NOW,
        True,
    )


def test_key_file_format_and_encryption(tmp_path: Path) -> None:
    """The file holds an encrypted PKCS#8 PEM; pyca opens it only with the stretched password
    and the secret never appears in the file in any of our encodings."""
    pair = KeyPair.generate(KeyType.ED25519)
    path = tmp_path / "key.json"
    _write(path, pair)
    text = path.read_text()
    document = json.loads(text)
    assert set(document) == {
        "version",
        "id",
        "type",
        "publicKeyMultibase",
        "created",
        "encrypted",
        "kdf",
        "privateKeyPem",
    }
    assert document["version"] == 1
    assert document["id"] == pair.public_key.did_key_method_id
    assert document["type"] == "ed25519"
    assert document["publicKeyMultibase"] == pair.public_key.multibase
    assert document["created"] == "2025-03-01T12:00:00Z"
    assert document["encrypted"] is True
    assert document["kdf"]["name"] == "scrypt"
    assert document["privateKeyPem"].startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert pair.export_secret_multibase() not in text
    assert pair.export_private_jwk()["d"] not in text
    with pytest.raises((TypeError, ValueError)):
        serialization.load_pem_private_key(document["privateKeyPem"].encode(), None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(document["privateKeyPem"].encode(), PASSPHRASE)


def test_default_kdf_cost() -> None:
    """OWASP Password Storage Cheat Sheet: scrypt N=2^17, r=8, p=1 at least."""
    assert (DEFAULT_KDF.n, DEFAULT_KDF.r, DEFAULT_KDF.p) == (2**17, 8, 1)


def test_key_file_is_created_0600_whatever_the_umask(tmp_path: Path) -> None:
    """Created private (os.open mode 0600), never chmod-ed later: umask 0 cannot widen it."""
    previous = os.umask(0)
    try:
        _write(tmp_path / "key.json", KeyPair.generate(KeyType.P256))
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "key.json") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]  # no temp file left


def test_key_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    first = KeyPair.generate(KeyType.ED25519)
    _write(path, first)
    with pytest.raises(KeyMaterialError):
        _write(path, KeyPair.generate(KeyType.ED25519))
    assert read_key_file(path, passphrase=PASSPHRASE).public_key == first.public_key
    assert [p.name for p in tmp_path.iterdir()] == ["key.json"]


def test_wrong_or_missing_passphrase(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    _write(path, KeyPair.generate(KeyType.P384))
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=b"wrong")
    assert info.value.code is KeyCode.PASSPHRASE_WRONG
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=None)
    assert info.value.code is KeyCode.PASSPHRASE_REQUIRED


def test_writing_needs_a_passphrase_unless_plaintext(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    with pytest.raises(KeyMaterialError) as info:
        _write(path, KeyPair.generate(KeyType.ED25519), passphrase=None)
    assert info.value.code is KeyCode.PASSPHRASE_REQUIRED
    assert not path.exists()
    with pytest.raises(KeyMaterialError) as info:
        _write(path, KeyPair.generate(KeyType.ED25519), passphrase=b"")
    assert info.value.code is KeyCode.PASSPHRASE_REQUIRED


def test_plaintext_key_files_only_when_allowed(tmp_path: Path) -> None:
    """Development mode only: a plaintext key is refused unless explicitly allowed."""
    pair = KeyPair.generate(KeyType.ED25519)
    path = tmp_path / "key.json"
    _write(path, pair, passphrase=None, plaintext=True)
    document = json.loads(path.read_text())
    assert document["encrypted"] is False
    assert document["privateKeyPem"].startswith("-----BEGIN PRIVATE KEY-----")
    assert _mode(path) == 0o600
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=None)
    assert info.value.code is KeyCode.PLAINTEXT_KEY_REFUSED
    loaded = read_key_file(path, passphrase=None, allow_plaintext=True)
    assert loaded.public_key == pair.public_key


def test_a_plaintext_pem_in_a_file_marked_encrypted_is_refused(tmp_path: Path) -> None:
    pair = KeyPair.generate(KeyType.ED25519)
    path = tmp_path / "key.json"
    _write(path, pair)
    _rewrite(path, privateKeyPem=pair.export_pkcs8_pem(None).decode())
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=PASSPHRASE)
    assert info.value.code is KeyCode.KEY_INVALID


def test_public_key_must_match_private_key(tmp_path: Path) -> None:
    """A key file whose published key is not its private key's would publish a wrong DID key."""
    path = tmp_path / "key.json"
    _write(path, KeyPair.generate(KeyType.P256))
    _rewrite(path, publicKeyMultibase=KeyPair.generate(KeyType.P256).public_key.multibase)
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=PASSPHRASE)
    assert info.value.code is KeyCode.KEY_INVALID


@pytest.mark.parametrize(
    "changes",
    [
        {"version": 2},
        {"type": "rsa"},
        {"type": "p-384"},
        {"created": "yesterday"},
        {"created": "2025-03-01T12:00:00"},
        {"encrypted": "yes"},
        {"privateKeyPem": "-----BEGIN RSA PRIVATE KEY-----"},
        {"kdf": {"name": "pbkdf2"}},
        {"kdf": {"name": "scrypt", "salt": "AAAAAAAAAAAAAAAAAAAAAA", "n": 2**30, "r": 8, "p": 1}},
    ],
)
def test_damaged_key_files_are_refused(tmp_path: Path, changes: dict[str, object]) -> None:
    path = tmp_path / "key.json"
    _write(path, KeyPair.generate(KeyType.P256))
    _rewrite(path, **changes)
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=PASSPHRASE)
    assert info.value.code in (KeyCode.KEY_INVALID, KeyCode.KEY_UNSUPPORTED)


def test_garbage_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "key.json"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"not json")
    os.close(fd)
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=PASSPHRASE)
    assert info.value.code is KeyCode.KEY_INVALID
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(tmp_path / "absent.json", passphrase=PASSPHRASE)
    assert info.value.code is KeyCode.KEY_NOT_FOUND


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    """Like ssh: a key file open to group or others is refused (offline guessing risk)."""
    path = tmp_path / "key.json"
    _write(path, KeyPair.generate(KeyType.ED25519))
    path.chmod(0o644)
    with pytest.raises(KeyMaterialError) as info:
        read_key_file(path, passphrase=PASSPHRASE)
    assert "0600" in str(info.value)


# --- passphrases ----------------------------------------------------------------------------


def test_load_passphrase(tmp_path: Path) -> None:
    """--passphrase-file wins (one trailing newline stripped), else CERTVC_KEY_PASSPHRASE."""
    env = {"CERTVC_KEY_PASSPHRASE": "from env"}
    file = tmp_path / "passphrase"
    file.write_bytes(b"from file\n\n")
    assert load_passphrase(env, file) == b"from file\n"
    file.write_bytes(b"crlf\r\n")
    assert load_passphrase({}, file) == b"crlf"
    file.write_bytes(b" spaces kept ")
    assert load_passphrase({}, file) == b" spaces kept "
    assert load_passphrase(env, None) == b"from env"
    assert load_passphrase({}, None) is None
    assert load_passphrase({"CERTVC_KEY_PASSPHRASE": ""}, None) is None


def test_load_passphrase_failures(tmp_path: Path) -> None:
    file = tmp_path / "passphrase"
    file.write_bytes(b"\n")
    for path in (file, tmp_path / "absent"):
        with pytest.raises(KeyMaterialError) as info:
            load_passphrase({"CERTVC_KEY_PASSPHRASE": "ignored"}, path)
        assert info.value.code is KeyCode.PASSPHRASE_REQUIRED


# --- the store ------------------------------------------------------------------------------


def test_create_writes_key_and_index(tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    store = _open(directory)
    record = store.create(KeyType.ED25519, f"{DID}#key-1")
    assert (record.id, record.status, record.created, record.retired) == (
        f"{DID}#key-1",
        KeyStatus.ACTIVE,
        NOW,
        None,
    )
    signer = store.active_signer()
    assert signer.key_id == f"{DID}#key-1"
    assert signer is store.active_signer()  # decrypted once per instance
    index = json.loads((directory / INDEX_NAME).read_text())
    assert index == {
        "version": 1,
        "keys": [
            {
                "id": f"{DID}#key-1",
                "file": record.file,
                "type": "ed25519",
                "status": "active",
                "created": "2025-03-01T12:00:00Z",
                "retired": None,
            }
        ],
    }
    assert _mode(directory / INDEX_NAME) == 0o600
    assert _mode(directory / record.file) == 0o600
    assert not [p for p in directory.iterdir() if p.name.endswith(".tmp")]


def test_reopened_store_decrypts_and_signs(tmp_path: Path) -> None:
    store = _open(tmp_path)
    store.create(KeyType.P256, f"{DID}#key-1")
    published = store.public_key(f"{DID}#key-1")
    reopened = _open(tmp_path)
    signer = reopened.active_signer()
    assert signer.public_key == published
    assert published.verify(signer.sign(b"claim"), b"claim")
    with pytest.raises(KeyMaterialError) as info:
        _open(tmp_path, passphrase=b"wrong").active_signer()
    assert info.value.code is KeyCode.PASSPHRASE_WRONG


def test_rotation_keeps_retired_keys_published(tmp_path: Path) -> None:
    """A credential signed before rotation still verifies against the new did.json."""
    store = _open(tmp_path)
    store.create(KeyType.ED25519, f"{DID}#key-1")
    old_signature = store.active_signer().sign(b"old credential")

    rotating = _open(tmp_path, now=LATER)
    new = rotating.rotate(KeyType.P256, f"{DID}#key-2")
    assert rotating.active_signer().key_id == f"{DID}#key-2"
    assert rotating.active_signer().algorithm == "ES256"

    reopened = _open(tmp_path)
    records = reopened.records()
    assert [(r.id, r.status, r.retired) for r in records] == [
        (f"{DID}#key-1", KeyStatus.RETIRED, LATER),
        (f"{DID}#key-2", KeyStatus.ACTIVE, None),
    ]
    assert records[1] == new
    methods = reopened.methods()
    assert [(m.id, m.retired) for m in methods] == [
        (f"{DID}#key-1", True),
        (f"{DID}#key-2", False),
    ]
    document = did_web_document(DID, methods)
    old_key, controller = find_verification_method(document, f"{DID}#key-1", "assertionMethod")
    assert controller == DID
    assert old_key.verify(old_signature, b"old credential")
    assert reopened.active_signer().key_id == f"{DID}#key-2"


def test_rotation_keeps_the_key_type_by_default(tmp_path: Path) -> None:
    store = _open(tmp_path)
    store.create(KeyType.P384, f"{DID}#key-1")
    assert store.rotate(None, f"{DID}#key-2").key_type is KeyType.P384
    assert store.rotate(None, f"{DID}#key-3").key_type is KeyType.P384
    statuses = [r.status for r in _open(tmp_path).records()]
    assert statuses == [KeyStatus.RETIRED, KeyStatus.RETIRED, KeyStatus.ACTIVE]


def test_rotation_with_a_wrong_passphrase_changes_nothing(tmp_path: Path) -> None:
    """A mistyped passphrase must not leave keys encrypted under different passphrases."""
    _open(tmp_path).create(KeyType.ED25519, f"{DID}#key-1")
    before = sorted(p.name for p in tmp_path.iterdir())
    index = (tmp_path / INDEX_NAME).read_bytes()
    with pytest.raises(KeyMaterialError) as info:
        _open(tmp_path, passphrase=b"typo").rotate(None, f"{DID}#key-2")
    assert info.value.code is KeyCode.PASSPHRASE_WRONG
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert (tmp_path / INDEX_NAME).read_bytes() == index


def test_store_state_errors(tmp_path: Path) -> None:
    store = _open(tmp_path)
    with pytest.raises(KeyMaterialError) as info:
        store.rotate(None, f"{DID}#key-1")
    assert info.value.code is KeyCode.KEY_NOT_FOUND
    with pytest.raises(KeyMaterialError) as info:
        store.active_signer()
    assert info.value.code is KeyCode.KEY_NOT_FOUND
    store.create(KeyType.ED25519, f"{DID}#key-1")
    with pytest.raises(KeyMaterialError):
        store.create(KeyType.ED25519, f"{DID}#key-2")
    with pytest.raises(KeyMaterialError):
        store.rotate(None, f"{DID}#key-1")  # ids are never reused
    with pytest.raises(KeyMaterialError) as info:
        store.public_key(f"{DID}#key-9")
    assert info.value.code is KeyCode.KEY_NOT_FOUND


def test_stale_store_instance_cannot_rotate(tmp_path: Path) -> None:
    """Two writers: the second works from an outdated index and must reopen, not overwrite."""
    _open(tmp_path).create(KeyType.ED25519, f"{DID}#key-1")
    first, second = _open(tmp_path), _open(tmp_path)
    first.rotate(None, f"{DID}#key-2")
    with pytest.raises(KeyMaterialError):
        second.rotate(None, f"{DID}#key-3")
    assert [r.id for r in _open(tmp_path).records()] == [f"{DID}#key-1", f"{DID}#key-2"]


def test_store_needs_a_passphrase_unless_plaintext_is_allowed(tmp_path: Path) -> None:
    with pytest.raises(KeyMaterialError) as info:
        _open(tmp_path, passphrase=None).create(KeyType.ED25519, f"{DID}#key-1")
    assert info.value.code is KeyCode.PASSPHRASE_REQUIRED
    assert not (tmp_path / INDEX_NAME).exists()

    dev = _open(tmp_path, passphrase=None, allow_plaintext=True)
    record = dev.create(KeyType.ED25519, f"{DID}#key-1")
    assert json.loads((tmp_path / record.file).read_text())["encrypted"] is False
    with pytest.raises(KeyMaterialError) as info:
        _open(tmp_path, passphrase=None).active_signer()
    assert info.value.code is KeyCode.PLAINTEXT_KEY_REFUSED


@pytest.mark.parametrize(
    "entry_changes",
    [
        {"file": "../outside.json"},
        {"file": "keystore.json"},
        {"status": "revoked"},
        {"status": "retired"},  # no active key left
        {"type": "rsa"},
        {"created": None},
    ],
)
def test_damaged_index_is_refused(tmp_path: Path, entry_changes: dict[str, object]) -> None:
    _open(tmp_path).create(KeyType.ED25519, f"{DID}#key-1")
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    index["keys"][0].update(entry_changes)
    (tmp_path / INDEX_NAME).write_text(json.dumps(index))
    with pytest.raises(KeyMaterialError):
        _open(tmp_path)


def test_index_pointing_at_another_key_file_is_refused(tmp_path: Path) -> None:
    """The key file's own id must be the indexed id, so keys cannot be swapped silently."""
    store = _open(tmp_path)
    store.create(KeyType.ED25519, f"{DID}#key-1")
    store.rotate(None, f"{DID}#key-2")
    index = json.loads((tmp_path / INDEX_NAME).read_text())
    index["keys"][0]["file"], index["keys"][1]["file"] = (
        index["keys"][1]["file"],
        index["keys"][0]["file"],
    )
    (tmp_path / INDEX_NAME).write_text(json.dumps(index))
    swapped = _open(tmp_path)
    with pytest.raises(KeyMaterialError):
        swapped.active_signer()
    with pytest.raises(KeyMaterialError):
        swapped.methods()


def test_store_repr_and_pickling_hide_the_passphrase(tmp_path: Path) -> None:
    store = _open(tmp_path)
    store.create(KeyType.ED25519, f"{DID}#key-1")
    assert PASSPHRASE.decode() not in repr(store)
    with pytest.raises(TypeError):
        pickle.dumps(store)


def test_a_key_file_in_a_missing_folder_names_the_folder(tmp_path: Path) -> None:
    """Issue 19: the error names the folder, never the temporary file the write made up."""
    missing = tmp_path / "nowhere"
    pair = KeyPair.generate(KeyType.ED25519)
    with pytest.raises(InputError) as refused:
        _write(missing / "k.json", pair, passphrase=None, plaintext=True)
    assert refused.value.message == f"the folder {missing} does not exist: create it first"
    assert not tmp_path.joinpath("nowhere").exists()
