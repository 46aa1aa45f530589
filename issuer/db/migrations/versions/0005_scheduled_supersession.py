"""renewals without a gap: a credential superseded at a future date, the supersede action

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

ACTIONS_0003 = (
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
)
ACTIONS_0005 = (*ACTIONS_0003, "supersede")


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("supersede_at", sa.DateTime(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_supersede_at"), ["supersede_at"], unique=False
        )
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0003),
            type_=_action(ACTIONS_0005),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0005),
            type_=_action(ACTIONS_0003),
            existing_nullable=False,
        )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_issued_credentials_supersede_at"))
        batch_op.drop_column("supersede_at")
