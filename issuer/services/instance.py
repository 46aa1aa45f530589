"""The instance folder: settings file, database, keys; and ``certvc init`` behind it.

Layout of ``<instance>/``:

- ``instance.json`` (0600): the public URL and DID chosen at init, whether this is a
  development instance (plaintext keys allowed), the secret that signs admin sessions, and
  with an HSM the key backend (``keyBackend``: the PKCS#11 module and token label; no PIN);
- ``certvc.db``: the SQLite database (unless ``CERTVC_DATABASE_URL`` names another);
- ``keys/<type>/``: the key stores (see :mod:`issuer.services.keyring`);
- ``keys/audit-mac.json``: the audit log's MAC key (see :mod:`issuer.services.audit_mac`);
- ``audit-checkpoints.jsonl``: the signed checkpoints of the audit log.

The public URL is fixed at init because it is signed into every credential id and status list
URL; ``CERTVC_PUBLIC_URL`` at run time overrides it only for deployments that moved.
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import Engine, make_url

from keys.did import did_web_from_url
from keys.errors import KeyCode, KeyMaterialError
from keys.keystore import DEFAULT_KDF, ScryptParams
from keys.pkcs11_token import PIN_ENV, PIN_FILE_ENV, Token, TokenConfig

from .. import db
from ..db import migrate
from ..db.models import Action
from ..errors import FieldError, InstanceNotReady
from . import audit, catalog
from .keyring import Keyring, suite_key_types

SETTINGS_FILE = "instance.json"
KEYS_DIR = "keys"
DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
DEMO_BODY = "Example Personnel Certification Body"
#: A real instance's body before ``certvc body set --name`` names it.
UNNAMED_BODY = "Certification body (name not set)"


@dataclass(frozen=True)
class Settings:
    public_url: str
    did: str
    dev_mode: bool
    secret_key: str = ""
    #: Suite name -> key type name, where the instance signs with another key type than the
    #: default (``certvc init --suite-key``; :func:`issuer.services.keyring.suite_key_types`).
    suite_keys: Mapping[str, str] = field(default_factory=dict)
    #: The HSM holding the keys; None: the encrypted key files under ``keys/``.
    key_backend: TokenConfig | None = None

    def __repr__(self) -> str:
        return f"Settings(public_url={self.public_url!r}, did={self.did!r}, dev={self.dev_mode})"

    def to_json(self) -> dict[str, Any]:
        document: dict[str, Any] = {
            "version": 1,
            "publicUrl": self.public_url,
            "did": self.did,
            "devMode": self.dev_mode,
            "secretKey": self.secret_key,
        }
        if self.suite_keys:
            document["suiteKeys"] = dict(self.suite_keys)
        if self.key_backend is not None:
            document["keyBackend"] = self.key_backend.to_json()
        return document


def did_for(public_url: str) -> str:
    """The did:web DID of a public URL; http and loopback addresses (development) become the
    https ``localhost`` form, since did:web names a host over https only."""
    parts = urlsplit(public_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise FieldError("public URL", f"{public_url!r} is not an http(s) URL")
    host = parts.hostname
    with contextlib.suppress(ValueError):
        if ipaddress.ip_address(host).is_loopback:
            host = "localhost"
    netloc = host if parts.port is None else f"{host}:{parts.port}"
    return did_web_from_url(f"https://{netloc}{parts.path.rstrip('/')}")


def check_public_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.query or parts.fragment:
        raise FieldError("public URL", f"{value!r} must be an http(s) URL without query")
    return value.rstrip("/")


def read_settings(instance: Path) -> Settings:
    """:raises InstanceNotReady: no or unreadable ``instance.json``."""
    path = Path(instance) / SETTINGS_FILE
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        backend = data.get("keyBackend")
        return Settings(
            public_url=data["publicUrl"],
            did=data["did"],
            dev_mode=bool(data["devMode"]),
            secret_key=data["secretKey"],
            suite_keys=_suite_keys(data.get("suiteKeys", {})),
            key_backend=None if backend is None else TokenConfig.from_json(backend),
        )
    except FileNotFoundError as error:
        raise InstanceNotReady(f"{instance} is not a certvc instance: run certvc init") from error
    except (OSError, ValueError, KeyError, TypeError, AttributeError, KeyMaterialError) as error:
        raise InstanceNotReady(f"{path} is unreadable or damaged") from error


def _suite_keys(value: object) -> dict[str, str]:
    """``suiteKeys`` as stored: an object of strings (checked in full by the keyring)."""
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise TypeError("suiteKeys must map suite names to key type names")
    return dict(value)


def _write_settings(instance: Path, settings: Settings) -> None:
    path = Path(instance) / SETTINGS_FILE
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(settings.to_json(), handle, indent=2)
        handle.write("\n")


def database_url(instance: Path, configured: str | None) -> str:
    return configured or db.sqlite_url(instance)


def public_keyring(instance: Path, settings: Settings, *, now: datetime) -> Keyring:
    """The key stores for their index and public keys only (no passphrase or PIN: nothing
    signs); an HSM's token is opened without logging in (public keys are public objects)."""
    return Keyring(
        Path(instance) / KEYS_DIR,
        settings.did,
        None,
        allow_plaintext=settings.dev_mode,
        now=now,
        vault=None if settings.key_backend is None else Token.open(settings.key_backend, None),
        suite_keys=settings.suite_keys,
    )


def open_keyring(
    instance: Path,
    settings: Settings,
    passphrase: bytes | None,
    *,
    now: datetime,
    kdf: ScryptParams = DEFAULT_KDF,
    pin: str | None = None,
    token: Token | None = None,
) -> Keyring:
    """The key stores; outside development mode a passphrase is required. With an HSM
    (``settings.key_backend``) the token is opened and logged in with ``pin`` instead (or
    ``token`` is used, already open).

    :raises KeyMaterialError: ``passphrase_required``; for an HSM ``pkcs11_module_missing``,
        ``pkcs11_token_absent``, ``pkcs11_pin_wrong``, ``pkcs11_error``.
    """
    if settings.key_backend is not None:
        if token is None and not pin:
            raise KeyMaterialError(
                f"the keys are in the PKCS#11 token {settings.key_backend.token!r}: set "
                f"{PIN_ENV} or {PIN_FILE_ENV} to its user PIN",
                code=KeyCode.PKCS11_PIN_REQUIRED,
            )
        return Keyring(
            Path(instance) / KEYS_DIR,
            settings.did,
            None,
            allow_plaintext=False,
            now=now,
            vault=token or Token.open(settings.key_backend, pin),
            suite_keys=settings.suite_keys,
        )
    if passphrase is None and not settings.dev_mode:
        raise KeyMaterialError(
            "set CERTVC_KEY_PASSPHRASE (keys are encrypted outside development mode)",
            code=KeyCode.PASSPHRASE_REQUIRED,
        )
    return Keyring(
        Path(instance) / KEYS_DIR,
        settings.did,
        passphrase,
        allow_plaintext=settings.dev_mode,
        now=now,
        kdf=kdf,
        suite_keys=settings.suite_keys,
    )


@dataclass(frozen=True)
class InitReport:
    instance: Path
    database: str
    settings: Settings
    created: tuple[str, ...]
    keys: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {
            "instance": str(self.instance),
            "database": self.database,
            "publicUrl": self.settings.public_url,
            "did": self.settings.did,
            "devMode": self.settings.dev_mode,
            "created": list(self.created),
            "keys": list(self.keys),
            "suiteKeys": {
                suite.value: key_type.value
                for suite, key_type in suite_key_types(self.settings.suite_keys).items()
            },
            "keyBackend": (
                {"type": "file"}
                if self.settings.key_backend is None
                else self.settings.key_backend.to_json()
            ),
        }


def init_instance(
    instance: Path,
    *,
    engine: Engine,
    database: str,
    public_url: str | None,
    dev_mode: bool,
    passphrase: bytes | None,
    now: datetime,
    demo: bool = True,
    kdf: ScryptParams = DEFAULT_KDF,
    body_name: str | None = None,
    suite_keys: Mapping[str, str] | None = None,
    key_backend: TokenConfig | None = None,
    pin: str | None = None,
) -> InitReport:
    """Create what is missing, change nothing that exists (idempotent).

    ``body_name``: the certification body's name (default: the demonstration body's, or for a
    real instance, ``--no-demo``, a placeholder to set with ``certvc body set``).
    ``suite_keys``: the key type a suite signs with where not the default (``ecdsa-rdfc-2019``
    -> ``p-384``, ``vc+jwt`` -> ``p-384``...); fixed at creation like the public URL: an
    existing instance given another choice is refused, not changed.
    ``key_backend``: keys generated in this PKCS#11 token (logged in with ``pin``) instead of
    encrypted key files; fixed at the first init.

    :raises KeyMaterialError: no passphrase outside dev mode, or the wrong one.
    :raises FieldError: a bad public URL. :raises InstanceNotReady: a conflicting instance.
    """
    instance = Path(instance).resolve()
    created: list[str] = []
    token: Token | None = None
    instance.mkdir(mode=0o700, parents=True, exist_ok=True)
    chosen = {k: v for k, v in (suite_keys or {}).items()}
    suite_key_types(chosen)  # refuse a bad choice before anything is written
    if (instance / SETTINGS_FILE).exists():
        settings = read_settings(instance)
        if public_url is not None and check_public_url(public_url) != settings.public_url:
            raise InstanceNotReady(
                f"{instance} was initialised for {settings.public_url}; its credentials carry "
                "that URL, so it cannot change here (set CERTVC_PUBLIC_URL to serve elsewhere)"
            )
        if suite_keys is not None and suite_key_types(chosen) != suite_key_types(
            settings.suite_keys
        ):
            raise InstanceNotReady(
                f"{instance} was initialised with other suite keys "
                f"({dict(settings.suite_keys) or 'the defaults'}); they are not changed here"
            )
        if key_backend is not None and key_backend != settings.key_backend:
            raise InstanceNotReady(
                f"{instance} was initialised with "
                + (
                    "encrypted key files"
                    if settings.key_backend is None
                    else f"the PKCS#11 token {settings.key_backend.token!r} "
                    f"({settings.key_backend.module})"
                )
                + "; its key backend cannot change here"
            )
    else:
        url = check_public_url(public_url or DEFAULT_PUBLIC_URL)
        if key_backend is not None:
            if not pin:
                raise KeyMaterialError(
                    f"set {PIN_ENV} or {PIN_FILE_ENV} to the user PIN of the PKCS#11 token "
                    f"{key_backend.token!r}",
                    code=KeyCode.PKCS11_PIN_REQUIRED,
                )
            token = Token.open(key_backend, pin)  # a bad module, token or PIN: before any file
        elif passphrase is None and not dev_mode:
            raise KeyMaterialError(
                "set CERTVC_KEY_PASSPHRASE, or pass --dev for a development instance",
                code=KeyCode.PASSPHRASE_REQUIRED,
            )
        settings = Settings(
            url,
            did_for(url),
            dev_mode,
            secrets.token_urlsafe(32),
            chosen,
            key_backend=key_backend,
        )
        _write_settings(instance, settings)
        created.append(SETTINGS_FILE)

    if migrate.current_revision(engine) != migrate.head_revision():
        migrate.upgrade(engine)
        created.append("database schema")
    keyring = open_keyring(instance, settings, passphrase, now=now, kdf=kdf, pin=pin, token=token)
    new_keys = keyring.ensure_keys(now)
    created.extend(f"key {record.id}" for record in new_keys)
    keyring.check()

    audit_key = keyring.audit_key()
    factory = audit.bind_mac_key(db.session_factory(engine), audit_key)
    if not audit_key.exists():
        # Covers the next event on: the first one of a new instance, the next one of an
        # instance older than the key.
        db.run_transaction(factory, audit.ensure_mac_key)
        created.append("audit MAC key")

    def _seed(session: Any) -> list[str]:
        seeded = []
        try:
            catalog.get_body(session)
        except InstanceNotReady:
            audit.record(
                session,
                action=Action.INIT,
                actor="certvc init",
                subject=settings.did,
                reason="instance initialised",
                now=now,
                details={"publicUrl": settings.public_url, "devMode": settings.dev_mode},
            )
            catalog.create_body(
                session,
                name=body_name or (DEMO_BODY if demo else UNNAMED_BODY),
                url=settings.public_url,
                did=settings.did,
                accreditation="ISO/IEC 17024 accredited (demonstration instance)" if demo else "",
                logo_url=None,
                actor="certvc init",
                now=now,
            )
            seeded.append("certification body")
        if demo and not catalog.list_schemes(session):
            catalog.create_scheme(
                session,
                {
                    "code": "CWI-2",
                    "name": "Certified Welding Inspector — Level 2",
                    "description": "Visual and surface inspection of welds (demonstration scheme)",
                    "criteria": "Passed the CWI-2 examinations; 3 years' experience",
                    "standard": "ISO 9712:2021",
                    "standardUrl": "https://www.iso.org/standard/74831.html",
                    "validityDays": 3 * 365,
                    "reason": "demonstration scheme created by certvc init",
                },
                actor="certvc init",
                now=now,
            )
            seeded.append("demo scheme CWI-2")
        return seeded

    created.extend(db.run_transaction(factory, _seed))
    return InitReport(
        instance,
        _redact(database),
        settings,
        tuple(created),
        tuple(record.id for record in keyring.records()),
    )


def _redact(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
