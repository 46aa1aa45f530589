"""The outbox's sender: takes due messages, sends them over one SMTP session, records each.

Run by the job worker (``certvc worker``, the app's worker thread) after its jobs. Three steps,
so no database transaction is open while the mail server is talked to:

1. one transaction takes up to ``batch`` due messages (:func:`outbox.claim_due`: row locks
   with SKIP LOCKED, a lease), and for a delivery message mints its claim link
   (:func:`claims.mint`): the link exists, committed, before the e-mail carrying it does;
2. one SMTP session sends them;
3. one transaction per message records the outcome (:func:`outbox.mark_sent`,
   :func:`outbox.mark_failed`): a failure waits its back-off and is tried again; a permanent
   refusal (5xx) fails at once.

A mail server that cannot be reached fails every message of the batch as a temporary error:
nothing is lost, each is retried after its back-off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session, sessionmaker

from .. import db
from . import catalog, claims, outbox
from .mail import Connection, Letter, MailError, MailSettings, build
from .mail_templates import fill

log = logging.getLogger(__name__)

#: Messages taken per round.
BATCH = 20


@dataclass(frozen=True)
class _Ready:
    message_id: int
    letter: Letter


def _take(
    session: Session,
    *,
    worker: str,
    now: datetime,
    settings: MailSettings,
    public_url: str,
    batch: int,
) -> list[_Ready]:
    taken = outbox.claim_due(session, worker, now, limit=batch)
    if not taken:
        return []
    body_name = catalog.get_body(session).name
    ready = []
    for message in taken:
        text, html = message.text, message.html
        if message.claim is not None:
            token = claims.mint(message.claim, now=now, ttl_days=settings.claim_ttl_days)
            url = claims.link(public_url, token)
            text, html = fill(text, url), None if html is None else fill(html, url)
        letter = Letter(message.recipient, message.subject, text, html, body_name)
        ready.append(_Ready(message.id, letter))
    return ready


def send_due(
    writer: sessionmaker[Session],
    settings: MailSettings,
    *,
    worker: str,
    clock: Callable[[], datetime],
    public_url: str,
    batch: int = BATCH,
) -> int:
    """Send what is due, round after round until nothing is; how many were sent."""
    sent = 0
    while True:
        moment = clock()
        ready = db.run_transaction(
            writer,
            lambda session, m=moment: _take(  # type: ignore[misc]
                session,
                worker=worker,
                now=m,
                settings=settings,
                public_url=public_url,
                batch=batch,
            ),
        )
        if not ready:
            return sent
        sent += _send(writer, settings, ready, worker=worker, clock=clock)
        if len(ready) < batch:
            return sent


def _send(
    writer: sessionmaker[Session],
    settings: MailSettings,
    ready: list[_Ready],
    *,
    worker: str,
    clock: Callable[[], datetime],
) -> int:
    sent = 0
    try:
        with Connection(settings) as connection:
            for item in ready:
                try:
                    connection.send(build(item.letter, settings, now=clock()))
                except MailError as error:
                    _failed(writer, item.message_id, worker, clock(), error)
                    continue
                except ValueError as error:  # a header the policy refuses: never sendable
                    failure = MailError(f"unsendable message: {error}", temporary=False)
                    _failed(writer, item.message_id, worker, clock(), failure)
                    continue
                moment = clock()
                db.run_transaction(
                    writer,
                    lambda session, i=item.message_id, m=moment: outbox.mark_sent(  # type: ignore[misc]
                        session, i, worker, m
                    ),
                )
                sent += 1
    except MailError as error:  # no session with the server: every message left waits
        log.warning("mail: %s", error.message)
        done = sent
        for item in ready[done:]:
            _failed(writer, item.message_id, worker, clock(), error)
    return sent


def _failed(
    writer: sessionmaker[Session], message_id: int, worker: str, now: datetime, error: MailError
) -> None:
    db.run_transaction(
        writer,
        lambda session: outbox.mark_failed(
            session, message_id, worker, now, error.message, final=not error.temporary
        ),
    )
