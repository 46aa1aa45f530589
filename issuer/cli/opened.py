"""An instance as the issuer's commands open it: its folder, database and (on demand) keys,
with the options and error reporting every such command shares."""

from __future__ import annotations

import functools
import getpass
import json
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import click
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from keys.keystore import load_passphrase
from keys.pkcs11_token import load_pin

from .. import db
from ..db import migrate
from ..errors import InstanceNotReady
from ..services import audit, instance, mail
from ..services.audit_mac import MacKey
from ..services.issuing_context import Delivery, IssuerContext
from ..services.mail import MailSettings
from .common import canonicalizer, context_store, fail, now, reports_errors

F = TypeVar("F", bound=Callable[..., Any])


def reports_instance_errors(func: F) -> F:
    """certvc's typed errors -> one line, exit 2; a database that cannot be reached too."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except SQLAlchemyError as error:
            fail(InstanceNotReady(f"database error: {type(error).__name__}: {error.args[0]}"[:300]))

    return reports_errors(wrapper)  # type: ignore[return-value]


instance_option = click.option(
    "--instance",
    "instance_dir",
    envvar="CERTVC_INSTANCE",
    default="instance",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="The instance folder (default $CERTVC_INSTANCE or ./instance).",
)
json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON.")
passphrase_option = click.option(
    "--passphrase-file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Key passphrase (default: $CERTVC_KEY_PASSPHRASE).",
)
reason_option = click.option(
    "--reason", required=True, help="Why (recorded in the audit log; required)."
)


def cli_actor() -> str:
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"


def echo_result(as_json: bool, data: Any, text: str) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False) if as_json else text)


@dataclass
class OpenedInstance:
    """An opened instance: settings, database and (on demand) the issuing context."""

    folder: Path
    settings: instance.Settings
    writer: sessionmaker[Session]
    passphrase_file: Path | None = None
    _ctx: IssuerContext | None = None

    @classmethod
    def open(cls, folder: Path, passphrase_file: Path | None = None) -> OpenedInstance:
        folder = folder.resolve()
        settings = instance.read_settings(folder)
        engine = db.make_engine(
            instance.database_url(folder, os.environ.get("CERTVC_DATABASE_URL"))
        )
        if not migrate.is_current(engine):
            raise InstanceNotReady("the database is not initialised or migrated: run certvc init")
        opened = cls(folder, settings, db.session_factory(engine), passphrase_file)
        audit.bind_mac_key(opened.writer, _AuditKeyOnDemand(opened))
        return opened

    def context(self) -> IssuerContext:
        if self._ctx is None:
            passphrase = load_passphrase(os.environ, self.passphrase_file)
            keyring = instance.open_keyring(
                self.folder, self.settings, passphrase, now=now(), pin=load_pin(os.environ)
            )
            public_url = os.environ.get("CERTVC_PUBLIC_URL") or self.settings.public_url
            mail_settings = self.mail()
            self._ctx = IssuerContext(
                public_url=instance.check_public_url(public_url),
                keyring=keyring,
                store=context_store(()),
                rng=secrets.SystemRandom(),
                canonicalizer=canonicalizer(),
                delivery=Delivery(mail_settings.claim_ttl_days) if mail_settings else None,
            )
        return self._ctx

    def mail(self) -> MailSettings | None:
        """The SMTP settings from ``CERTVC_SMTP_URL``, ``CERTVC_MAIL_FROM``, ... (None: unset).

        :raises InstanceNotReady: a malformed or unsafe setting.
        """
        return mail.settings_from(mail_environment(), dev_mode=self.settings.dev_mode)

    def write(self, work: Callable[[Session], Any]) -> Any:
        return db.run_transaction(self.writer, work)

    def close(self) -> None:
        """Close the database connections (a process exits anyway; a test runner does not)."""
        engine = self.writer.kw.get("bind")
        if engine is not None:
            engine.dispose()

    def __enter__(self) -> OpenedInstance:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()


class _AuditKeyOnDemand:
    """The instance's audit MAC key, opened (passphrase or PIN read) only when a command
    appends an event: commands that only read never ask for the passphrase."""

    def __init__(self, opened: OpenedInstance) -> None:
        self._opened = opened

    def key(self, next_seq: int) -> MacKey:
        return self._opened.context().keyring.audit_key().key(next_seq)


def mail_environment() -> dict[str, str]:
    """The ``CERTVC_*`` settings without their prefix (what :func:`mail.settings_from` reads)."""
    return {
        name.removeprefix("CERTVC_"): value
        for name, value in os.environ.items()
        if name.startswith("CERTVC_")
    }
