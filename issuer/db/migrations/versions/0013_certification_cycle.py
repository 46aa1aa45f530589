"""the certification cycle: surveillance records and attachments, the reminder log, each
scheme's reminder days, the surveillance audit action

Revision ID: 0013
Revises: 0011 (0009 in the brief; chained after h13a's 0011 once merged, for one head)
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
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
ACTIONS_0013 = (*ACTIONS_0011, "surveillance.record")


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def _action(values: tuple[str, ...]) -> sa.Enum:
    return _enum("action", *values)


def upgrade() -> None:
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "reminder_days", sa.String(length=100), nullable=False, server_default="90,30,7"
            )
        )
    op.create_table(
        "surveillance_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column("performed_on", sa.DateTime(), nullable=False),
        sa.Column(
            "kind",
            _enum(
                "surveillance_kind",
                "document-review",
                "assessment",
                "cpd-evidence",
                "interview",
                "other",
            ),
            nullable=False,
        ),
        sa.Column(
            "outcome",
            _enum("surveillance_outcome", "satisfactory", "findings", "not-satisfactory"),
            nullable=False,
        ),
        sa.Column("notes", sa.Text(), nullable=False),
        sa.Column("recorded_by", sa.String(length=200), nullable=False),
        sa.Column("recorded_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certifications.id"],
            name=op.f("fk_surveillance_records_certification_id_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_records")),
    )
    with op.batch_alter_table("surveillance_records", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_records_certification_id"),
            ["certification_id"],
            unique=False,
        )
    op.create_table(
        "surveillance_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("filename", sa.String(length=200), nullable=False),
        sa.Column(
            "media_type",
            _enum("attachment_type", "application/pdf", "image/png", "image/jpeg", "text/plain"),
            nullable=False,
        ),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["record_id"],
            ["surveillance_records.id"],
            name=op.f("fk_surveillance_attachments_record_id_surveillance_records"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_surveillance_attachments")),
    )
    with op.batch_alter_table("surveillance_attachments", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_surveillance_attachments_record_id"), ["record_id"], unique=False
        )
    op.create_table(
        "reminder_log",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("certification_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            _enum("reminder_kind", "expiry", "surveillance-due", "surveillance-overdue"),
            nullable=False,
        ),
        sa.Column("threshold", sa.Integer(), nullable=False),
        sa.Column("period", sa.String(length=10), nullable=False),
        sa.Column("recipient", sa.String(length=320), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["certification_id"],
            ["certifications.id"],
            name=op.f("fk_reminder_log_certification_id_certifications"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reminder_log")),
        sa.UniqueConstraint(
            "certification_id",
            "kind",
            "threshold",
            "period",
            name=op.f("uq_reminder_log_certification_id_kind_threshold_period"),
        ),
    )
    with op.batch_alter_table("reminder_log", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reminder_log_certification_id"), ["certification_id"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_reminder_log_created_at"), ["created_at"])
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0011),
            type_=_action(ACTIONS_0013),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0013),
            type_=_action(ACTIONS_0011),
            existing_nullable=False,
        )
    op.drop_table("reminder_log")
    op.drop_table("surveillance_attachments")
    op.drop_table("surveillance_records")
    with op.batch_alter_table("schemes", schema=None) as batch_op:
        batch_op.drop_column("reminder_days")
