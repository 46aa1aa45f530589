"""OpenID4VCI: an access token bound to its first holder key, one credential per configuration

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("oid4vci_tokens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("holder_key", sa.String(length=64), nullable=True))
    op.create_table(
        "oid4vci_credentials",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("configuration_id", sa.String(length=200), nullable=False),
        sa.Column("credential", sa.Text(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_credentials")),
        sa.UniqueConstraint(
            "token_digest",
            "configuration_id",
            name=op.f("uq_oid4vci_credentials_token_digest_configuration_id"),
        ),
    )
    op.create_index(
        op.f("ix_oid4vci_credentials_expires_at"),
        "oid4vci_credentials",
        ["expires_at"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_oid4vci_credentials_expires_at"), table_name="oid4vci_credentials")
    op.drop_table("oid4vci_credentials")
    with op.batch_alter_table("oid4vci_tokens", schema=None) as batch_op:
        batch_op.drop_column("holder_key")
