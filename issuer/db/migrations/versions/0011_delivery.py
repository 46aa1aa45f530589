"""delivery: a person's e-mail address, the outbox, the holders' claim links

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0009"
branch_labels = None
depends_on = None

ACTIONS_0008 = (
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
    "login",
    "login.failed",
    "logout",
    "reissue",
)
ACTIONS_0011 = (*ACTIONS_0008, "person.update", "mail.resend", "claim.create", "claim.revoke")


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.add_column(sa.Column("email", sa.String(length=320), nullable=True))
    op.create_table(
        "claim_tokens",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("credential_pk", sa.Integer(), nullable=False),
        sa.Column("token_digest", sa.String(length=64), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=True),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.Column("last_used_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certifications.id"],
            name=op.f("fk_claim_tokens_certification_id_certifications"),
        ),
        sa.ForeignKeyConstraint(
            ["credential_pk"],
            ["issued_credentials.id"],
            name=op.f("fk_claim_tokens_credential_pk_issued_credentials"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_claim_tokens")),
        sa.UniqueConstraint("token_digest", name=op.f("uq_claim_tokens_token_digest")),
    )
    op.create_index(op.f("ix_claim_tokens_certification_id"), "claim_tokens", ["certification_id"])
    op.create_table(
        "outbox_messages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("dedupe_key", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=False),
        sa.Column("subject", sa.String(length=300), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("html", sa.Text(), nullable=True),
        sa.Column(
            "state",
            sa.Enum(
                "pending",
                "sending",
                "sent",
                "failed",
                name="outbox_state",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("claim_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["claim_id"], ["claim_tokens.id"], name=op.f("fk_outbox_messages_claim_id_claim_tokens")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_messages")),
        sa.UniqueConstraint("dedupe_key", name=op.f("uq_outbox_messages_dedupe_key")),
    )
    op.create_index(op.f("ix_outbox_messages_state"), "outbox_messages", ["state"])
    op.create_index(
        op.f("ix_outbox_messages_next_attempt_at"), "outbox_messages", ["next_attempt_at"]
    )
    op.create_index(op.f("ix_outbox_messages_claim_id"), "outbox_messages", ["claim_id"])
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0008),
            type_=_action(ACTIONS_0011),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0011),
            type_=_action(ACTIONS_0008),
            existing_nullable=False,
        )
    op.drop_table("outbox_messages")
    op.drop_table("claim_tokens")
    with op.batch_alter_table("persons", schema=None) as batch_op:
        batch_op.drop_column("email")
