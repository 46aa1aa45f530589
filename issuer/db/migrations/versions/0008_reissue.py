"""key compromise: the reissue audit action

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

ACTIONS_0007_BASE = (
    "init",
    "body.create",
    "scheme.create",
    "person.create",
    "import",
    "issue",
    "suspend",
    "reinstate",
    "withdraw",
    "renew",
    "reduce-scope",
    "credential.issue",
    "credential.status",
    "key.rotate",
    "token.create",
    "user.create",
    "offer.create",
    "credential.wallet",
    "credential.secure",
    "page.publish",
    "page.unpublish",
    "scheme.image",
    "body.logo",
    "supersede",
    "body.update",
    "scheme.update",
    "scheme.retire",
    "user.update",
    "register.export",
)
ACTIONS_0007 = (*ACTIONS_0007_BASE, "login", "login.failed", "logout")
ACTIONS_0008 = (*ACTIONS_0007, "reissue")


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0007),
            type_=_action(ACTIONS_0008),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0008),
            type_=_action(ACTIONS_0007),
            existing_nullable=False,
        )
