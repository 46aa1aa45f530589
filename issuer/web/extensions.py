"""Unbound extensions attached in ``create_app`` (Flask's extension pattern).

``database``: a write session factory (transactions run through
:func:`issuer.db.run_transaction`, so each action commits once or not at all), a
request-scoped read session, and group commits (:meth:`Database.write_together`). ``issuer``: the
:class:`~issuer.services.issuing_context.IssuerContext` (keys, URLs, contexts, randomness) built
from the instance folder.
"""

from __future__ import annotations

import logging
import os
import secrets
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, current_app, g
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from contexts.loader import ContextStore, default_store
from keys.pkcs11_token import PIN_ENV, PIN_FILE_ENV, load_pin
from keys.suites import canonicalizer_named

from .. import db
from ..db import migrate
from ..db.group_commit import GroupCommit
from ..errors import InstanceNotReady
from ..services import audit, instance, mail
from ..services.instance import Settings
from ..services.issuing_context import Delivery, IssuerContext
from ..services.mail import MailSettings

T = TypeVar("T")
I = TypeVar("I")  # noqa: E741 - an item of a group commit, as in group_commit
log = logging.getLogger(__name__)

#: Work that writes several requests' items in one transaction: one result per item, or the
#: error that refused it (the other items are written all the same).
GroupWork = Callable[[Session, Sequence[I]], Sequence[T | Exception]]


@dataclass(frozen=True)
class _DatabaseState:
    engine: Engine
    writer: sessionmaker[Session]
    reader: sessionmaker[Session]
    lookup: Engine
    groups: dict[Callable[..., Any], GroupCommit[Any, Any]]
    groups_lock: threading.Lock


class Database:
    def init_app(self, app: Flask) -> None:
        folder = Path(app.config["INSTANCE"])
        instance.read_settings(folder)  # no instance: say "run certvc init" before anything
        url = instance.database_url(folder, app.config.get("DATABASE_URL"))
        try:
            engine = db.make_engine(url)
        except SQLAlchemyError as error:  # not a URL, or a driver that is not installed
            raise InstanceNotReady(
                f"CERTVC_DATABASE_URL is not a usable database URL ({type(error).__name__})"
            ) from error
        try:
            current = migrate.is_current(engine)
        except SQLAlchemyError as error:
            engine.dispose()
            raise InstanceNotReady(
                f"cannot reach the database {make_url(url).render_as_string(hide_password=True)}"
                f" ({type(error).__name__})"
            ) from error
        if not current:
            engine.dispose()
            raise InstanceNotReady(
                f"the database {make_url(url).render_as_string(hide_password=True)} is not "
                "initialised or not migrated: run certvc init"
            )
        reader_engine = lookup_engine = engine
        if engine.dialect.name == "sqlite":
            reader_engine = lookup_engine = db.make_engine(url, immediate=False)
        else:
            lookup_engine = engine.execution_options(isolation_level="AUTOCOMMIT")
        app.extensions["certvc.db"] = _DatabaseState(
            engine,
            db.session_factory(engine),
            db.session_factory(reader_engine),
            lookup_engine,
            {},
            threading.Lock(),
        )
        app.teardown_appcontext(self._close)

    @staticmethod
    def _state() -> _DatabaseState:
        return current_app.extensions["certvc.db"]

    def session(self) -> Session:
        """The request's read session (closed when the request ends)."""
        if "certvc_session" not in g:
            g.certvc_session = self._state().reader()
        return g.certvc_session

    def look_up(self, query: Callable[[Connection], T]) -> T:
        """Run one read (a Core statement) on a connection of its own, given back at once: for
        a lookup that shares no snapshot with the request's other reads (an API token's check).
        On PostgreSQL outside any transaction (autocommit): no BEGIN and ROLLBACK round trips,
        half of what checking a token cost; and no ORM session around it."""
        with self._state().lookup.connect() as connection:
            return query(connection)

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one committed transaction (retried whole on a lost race)."""
        return db.run_transaction(self._state().writer, work)

    def write_together(self, work: GroupWork[I, T], item: I) -> T:
        """``item``'s result of ``work`` (a module-level function: it names the group), run in
        one transaction with the items other threads of this process submit meanwhile (group
        commit, :mod:`issuer.db.group_commit`); ``item``'s own error raised here.

        When the shared transaction fails before its commit, each item runs again alone, so a
        request's answer never depends on its neighbours; when the commit itself fails, every
        item gets that error (it may have committed: nothing runs twice). The app's
        ``WRITE_GROUP_OBSERVER(name, size)``, when set, is told each group's size (metrics).
        """
        state = self._state()
        group = state.groups.get(work)
        if group is None:
            observer = current_app.config.get("WRITE_GROUP_OBSERVER")
            name = f"{work.__module__.rsplit('.', 1)[-1]}.{work.__name__.lstrip('_')}"
            with state.groups_lock:
                group = state.groups.setdefault(
                    work,
                    GroupCommit(
                        lambda items: self._together(state, work, items),
                        observe=(lambda size: observer(name, size)) if observer else None,
                    ),
                )
        return group.submit(item)

    @staticmethod
    def _together(
        state: _DatabaseState, work: GroupWork[I, T], items: Sequence[I]
    ) -> list[T | BaseException]:
        finished = False

        def shared(session: Session) -> Sequence[T | Exception]:
            nonlocal finished
            finished = False
            results = work(session, items)
            finished = True
            return results

        try:
            return list(db.run_transaction(state.writer, shared))
        except Exception as error:  # noqa: BLE001 - each item's thread raises it
            if finished or len(items) == 1:
                return [error] * len(items)
        log.info("a group of %d writes failed before its commit: each runs alone", len(items))
        return [Database._alone(state, work, item) for item in items]

    @staticmethod
    def _alone(state: _DatabaseState, work: GroupWork[I, T], item: I) -> T | BaseException:
        try:
            (result,) = db.run_transaction(state.writer, lambda session: work(session, [item]))
        except Exception as error:  # noqa: BLE001 - the item's thread raises it
            return error
        return result

    def writer(self) -> sessionmaker[Session]:
        return self._state().writer

    @staticmethod
    def _close(_error: BaseException | None) -> None:
        """End the request's read session. By now the answer is made and any change committed
        (in its own session): a database that went away meanwhile must not turn that answer
        into an error (issue 16), so a failed close is logged and its connection discarded."""
        session = g.pop("certvc_session", None)
        if session is None:
            return
        try:
            session.close()
        except SQLAlchemyError as error:
            cause = getattr(error, "orig", None) or error
            log.warning("the read session did not close cleanly (%s): discarded", cause)
            try:
                session.invalidate()  # never back to the pool; nothing is sent to the server
            except SQLAlchemyError:
                log.warning("discarding the read session's connection failed", exc_info=True)


class Issuer:
    def init_app(self, app: Flask) -> None:
        folder = Path(app.config["INSTANCE"])
        settings = instance.read_settings(folder)
        passphrase = app.config.get("KEY_PASSPHRASE")
        if isinstance(passphrase, str):
            passphrase = passphrase.encode("utf-8")
        app.config["KEY_PASSPHRASE"] = None  # kept only inside the key stores from here on
        kdf = app.config.get("KEY_KDF")
        pin = load_pin(
            {
                PIN_ENV: str(app.config.get("PKCS11_PIN") or ""),
                PIN_FILE_ENV: str(app.config.get("PKCS11_PIN_FILE") or ""),
            }
        )
        app.config["PKCS11_PIN"] = None  # kept only inside the token session from here on
        keyring = instance.open_keyring(
            folder,
            settings,
            passphrase,
            now=datetime.now(UTC),
            pin=pin,
            **({"kdf": kdf} if kdf else {}),
        )
        keyring.check()
        keyring.audit_key().load()  # a wrong passphrase or a damaged key file shows at start
        # Every event this app appends carries a MAC with the key (made by the first one when
        # an instance older than the key has none yet).
        audit.bind_mac_key(app.extensions["certvc.db"].writer, keyring.audit_key())
        public_url = instance.check_public_url(app.config.get("PUBLIC_URL") or settings.public_url)
        mail_settings = mail.settings_from(app.config, dev_mode=settings.dev_mode)
        app.extensions["certvc.mail"] = mail_settings
        app.extensions["certvc.claim_ttl_days"] = mail.claim_ttl_days(app.config)
        app.extensions["certvc.issuer"] = IssuerContext(
            public_url=public_url,
            keyring=keyring,
            store=_context_store(app),
            rng=app.config.get("RNG") or secrets.SystemRandom(),
            status_ttl_ms=int(app.config["STATUS_TTL_MS"]),
            canonicalizer=canonicalizer_named(app.config["CANONICALIZER"]),
            delivery=Delivery(mail_settings.claim_ttl_days) if mail_settings else None,
        )
        app.extensions["certvc.settings"] = settings
        if not app.config.get("SECRET_KEY"):
            app.config["SECRET_KEY"] = settings.secret_key
        if public_url.startswith("https://"):
            app.config["SESSION_COOKIE_SECURE"] = True  # served over https: cookies only there

    @staticmethod
    def context() -> IssuerContext:
        return current_app.extensions["certvc.issuer"]

    @staticmethod
    def settings() -> Settings:
        return current_app.extensions["certvc.settings"]

    @staticmethod
    def mail() -> MailSettings | None:
        """The SMTP settings; None when ``CERTVC_SMTP_URL`` is not set (nothing is sent)."""
        return current_app.extensions["certvc.mail"]

    @staticmethod
    def claim_ttl_days() -> int:
        return current_app.extensions["certvc.claim_ttl_days"]


def _context_store(app: Flask) -> ContextStore:
    manifest = app.config.get("CONTEXTS_MANIFEST")
    if manifest:
        return ContextStore.pinned(extra_manifest=Path(os.fspath(manifest)))
    return default_store()


def now() -> datetime:
    """The adapters' clock (services take ``now``)."""
    clock: Any = current_app.config.get("CLOCK")
    return clock() if clock is not None else datetime.now(UTC)


database = Database()
issuer = Issuer()
