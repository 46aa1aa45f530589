"""wallet export: OpenID4VCI state, holder-bound copies, alternate securing, public pages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

ACTIONS_0001 = (
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
)
ACTIONS_0002 = (
    *ACTIONS_0001,
    "offer.create",
    "credential.wallet",
    "credential.secure",
    "page.publish",
    "page.unpublish",
)


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "oid4vci_offers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("code_digest", sa.String(length=64), nullable=False),
        sa.Column("credential_ref", sa.String(length=600), nullable=False),
        sa.Column("configuration_ids", sa.String(length=600), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("tx_code_digest", sa.String(length=64), nullable=True),
        sa.Column("document", sa.Text(), nullable=True),
        sa.Column("redeemed", sa.Boolean(), nullable=False),
        sa.Column("failed_tx_codes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_offers")),
        sa.UniqueConstraint("code_digest", name=op.f("uq_oid4vci_offers_code_digest")),
        sa.UniqueConstraint("offer_id", name=op.f("uq_oid4vci_offers_offer_id")),
    )
    op.create_index(
        op.f("ix_oid4vci_offers_expires_at"), "oid4vci_offers", ["expires_at"], unique=False
    )
    op.create_table(
        "oid4vci_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=False),
        sa.Column("offer_id", sa.String(length=64), nullable=False),
        sa.Column("credential_ref", sa.String(length=600), nullable=False),
        sa.Column("configuration_ids", sa.String(length=600), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_oid4vci_tokens_token_digest")),
    )
    op.create_index(
        op.f("ix_oid4vci_tokens_expires_at"), "oid4vci_tokens", ["expires_at"], unique=False
    )
    op.create_table(
        "oid4vci_nonces",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("nonce_digest", sa.String(length=64), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oid4vci_nonces")),
        sa.UniqueConstraint("nonce_digest", name=op.f("uq_oid4vci_nonces_nonce_digest")),
    )
    op.create_index(
        op.f("ix_oid4vci_nonces_expires_at"), "oid4vci_nonces", ["expires_at"], unique=False
    )

    # On SQLite these batches "move and copy" tables others reference: env.py runs migrations
    # with foreign keys off and checks them all before committing.
    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("public_page", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("copy_of_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("holder_did", sa.String(length=2100), nullable=True))
        batch_op.add_column(sa.Column("alternate", sa.Text(), nullable=True))
        batch_op.create_index(
            batch_op.f("ix_issued_credentials_copy_of_id"), ["copy_of_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_issued_credentials_copy_of_id_issued_credentials"),
            "issued_credentials",
            ["copy_of_id"],
            ["id"],
        )

    # The audit actions are a CHECK constraint (non-native enum): replaced with the longer list
    # (on SQLite the batch copies the append-only table row for row, hashes untouched).
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0001),
            type_=_action(ACTIONS_0002),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0002),
            type_=_action(ACTIONS_0001),
            existing_nullable=False,
        )
    with op.batch_alter_table("issued_credentials", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_issued_credentials_copy_of_id_issued_credentials"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_issued_credentials_copy_of_id"))
        batch_op.drop_column("alternate")
        batch_op.drop_column("holder_did")
        batch_op.drop_column("copy_of_id")
    with op.batch_alter_table("certifications", schema=None) as batch_op:
        batch_op.drop_column("public_page")
    op.drop_index(op.f("ix_oid4vci_nonces_expires_at"), table_name="oid4vci_nonces")
    op.drop_table("oid4vci_nonces")
    op.drop_index(op.f("ix_oid4vci_tokens_expires_at"), table_name="oid4vci_tokens")
    op.drop_table("oid4vci_tokens")
    op.drop_index(op.f("ix_oid4vci_offers_expires_at"), table_name="oid4vci_offers")
    op.drop_table("oid4vci_offers")
