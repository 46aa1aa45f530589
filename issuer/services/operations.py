"""What an operator's probes read: readiness checks and the database-wide figures of /metrics.

Everything here is read-only and cheap: one indexed query per figure. The web adapters
(``issuer.web.health``, ``issuer.web.metrics``) own the sessions and the timeouts.

Issuances and status changes are counted from the audit log rather than in the process that
made them: a change is counted once whichever node, worker thread or ``certvc worker`` made it,
only when it committed, and a restarted node reports the same totals. Every node therefore
reports the deployment's totals (aggregate them with ``max``, not ``sum``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import column, func, inspect, select, table
from sqlalchemy.orm import Session

from ..db.models import Action, AuditEvent, CredentialState, IssuedCredential, Job, JobState
from .keyring import SUITE_KEY_TYPE, Keyring

#: Audit actions that put a newly signed credential into the world.
ISSUANCE_ACTIONS = frozenset(
    {Action.ISSUE, Action.CREDENTIAL_ISSUE, Action.RENEW, Action.REDUCE_SCOPE, Action.REISSUE}
)
#: Audit actions that change a credential's status bits (and re-sign its lists).
STATUS_ACTIONS = frozenset(
    {
        Action.SUSPEND,
        Action.REINSTATE,
        Action.WITHDRAW,
        Action.SUPERSEDE,
        Action.CREDENTIAL_STATUS,
    }
)
#: Alembic's record of the revision the schema is at.
VERSION_TABLE = "alembic_version"
#: Signed by the readiness probe: never a credential (no JSON-LD, no proof shape).
PROBE_BYTES = b"certvc-readiness-probe/1"


def schema_revision(session: Session) -> str | None:
    """The migration revision the database is at (None: never migrated). Read from Alembic's
    table directly: its MigrationContext logs two lines per call, and a probe runs often."""
    connection = session.connection()
    if not inspect(connection).has_table(VERSION_TABLE):
        return None
    heads = session.execute(select(column("version_num")).select_from(table(VERSION_TABLE)))
    revisions = sorted(str(value) for value in heads.scalars())
    return ",".join(revisions) or None


def check_keys(keyring: Keyring) -> None:
    """Sign a probe with the active key of every suite's key type and check the signature
    with its public key: the keys are usable, not only present (an HSM token answers).

    :raises KeyMaterialError: a key cannot be opened. :raises ValueError: a bad signature.
    """
    seen = set()
    for suite, key_type in SUITE_KEY_TYPE.items():
        if key_type in seen:
            continue
        seen.add(key_type)
        signer = keyring.signer(suite)
        if not signer.public_key.verify(signer.sign(PROBE_BYTES), PROBE_BYTES):
            raise ValueError(f"the {key_type.value} key's signature does not verify")


def job_counts(session: Session) -> dict[JobState, int]:
    """Jobs waiting for a worker and jobs a worker holds (the queue's depth)."""
    counts = dict.fromkeys((JobState.QUEUED, JobState.RUNNING), 0)
    rows = session.execute(
        select(Job.state, func.count()).where(Job.state.in_(tuple(counts))).group_by(Job.state)
    )
    for state, count in rows:
        counts[state] = int(count)
    return counts


def publication_lag(session: Session, now: datetime) -> float:
    """Seconds since the oldest status change that took effect but is not in a published list
    yet (0 when none). Changes made through the API or the admin UI re-sign their list in the
    same transaction; only a renewal's scheduled supersession waits for a worker (or for the
    list's next request), so this is how late the workers are."""
    oldest = session.execute(
        select(func.min(IssuedCredential.supersede_at)).where(
            IssuedCredential.supersede_at <= now,
            IssuedCredential.state.in_((CredentialState.ACTIVE, CredentialState.SUSPENDED)),
        )
    ).scalar_one()
    if oldest is None:
        return 0.0
    if oldest.tzinfo is None:  # SQLite's aggregate comes back as stored (naive UTC)
        oldest = oldest.replace(tzinfo=now.tzinfo)
    return max(0.0, (now - oldest).total_seconds())


@dataclass
class AuditTally:
    """Audit events counted by action, read incrementally: each call reads only the events
    after the last one it saw (the log is append-only and numbered in commit order, under the
    chain head's lock, so no event is skipped)."""

    seen: int = 0
    counts: dict[Action, int] = field(default_factory=dict)

    def update(self, session: Session) -> dict[Action, int]:
        rows = session.execute(
            select(AuditEvent.action, func.count(), func.max(AuditEvent.seq))
            .where(AuditEvent.seq > self.seen)
            .group_by(AuditEvent.action)
        ).all()
        for action, count, last in rows:
            self.counts[action] = self.counts.get(action, 0) + int(count)
            self.seen = max(self.seen, int(last))
        return dict(self.counts)


def split_counts(counts: dict[Action, int]) -> dict[str, dict[str, Any]]:
    """The tally as the metrics show it: issuances and status changes, by action."""
    return {
        "issuances": {a.value: counts.get(a, 0) for a in sorted(ISSUANCE_ACTIONS, key=_value)},
        "status_changes": {a.value: counts.get(a, 0) for a in sorted(STATUS_ACTIONS, key=_value)},
    }


def _value(action: Action) -> str:
    return str(action.value)
