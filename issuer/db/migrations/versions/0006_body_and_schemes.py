"""running a body: its identity and accreditation, the schemes' certification cycle

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

ACTIONS_0005 = (
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
)
ACTIONS_0006 = (
    *ACTIONS_0005,
    "body.update",
    "scheme.update",
    "scheme.retire",
    "user.update",
    "register.export",
)


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


BODY_COLUMNS = (
    ("legal_name", sa.String(length=200), ""),
    ("email", sa.String(length=320), None),
    ("address", sa.Text(), ""),
    ("country", sa.String(length=2), None),
    ("description", sa.Text(), ""),
    ("accreditation_body", sa.String(length=200), ""),
    ("accreditation_number", sa.String(length=100), ""),
    ("accreditation_standard", sa.String(length=100), "ISO/IEC 17024:2012"),
    ("accredited_from", sa.DateTime(), None),
    ("accredited_until", sa.DateTime(), None),
    ("accreditation_url", sa.String(length=500), None),
    ("updated_at", sa.DateTime(), None),
)
SCHEME_COLUMNS = (
    ("surveillance_months", sa.Integer(), None),
    ("recertification", sa.Text(), ""),
    ("updated_at", sa.DateTime(), None),
    ("retired_at", sa.DateTime(), None),
)


def _add(table: str, columns: tuple[tuple[str, sa.types.TypeEngine, str | None], ...]) -> None:
    with op.batch_alter_table(table, schema=None) as batch_op:
        for name, type_, default in columns:
            batch_op.add_column(
                sa.Column(
                    name,
                    type_,
                    nullable=default is None,
                    server_default=default,
                )
            )


def upgrade() -> None:
    _add("certification_bodies", BODY_COLUMNS)
    _add("schemes", SCHEME_COLUMNS)
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0005),
            type_=_action(ACTIONS_0006),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0006),
            type_=_action(ACTIONS_0005),
            existing_nullable=False,
        )
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        for name, _type, _default in SCHEME_COLUMNS:
            batch_op.drop_column(name)
    with op.batch_alter_table("certification_bodies", schema=None) as batch_op:
        for name, _type, _default in BODY_COLUMNS:
            batch_op.drop_column(name)
