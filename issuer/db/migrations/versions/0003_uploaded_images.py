"""uploaded images: scheme badges and the body's logo

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

ACTIONS_0002 = (
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
)
ACTIONS_0003 = (*ACTIONS_0002, "scheme.image", "body.logo")


def _action(values: tuple[str, ...]) -> sa.Enum:
    return sa.Enum(*values, name="action", native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "images",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scheme_id", sa.Integer(), nullable=True),
        sa.Column("body_id", sa.Integer(), nullable=True),
        sa.Column(
            "media_type",
            sa.Enum(
                "image/png",
                "image/svg+xml",
                name="image_type",
                native_enum=False,
                create_constraint=True,
                length=32,
            ),
            nullable=False,
        ),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "(scheme_id IS NULL) <> (body_id IS NULL)", name=op.f("ck_images_one_owner")
        ),
        sa.ForeignKeyConstraint(
            ["body_id"],
            ["certification_bodies.id"],
            name=op.f("fk_images_body_id_certification_bodies"),
        ),
        sa.ForeignKeyConstraint(
            ["scheme_id"], ["schemes.id"], name=op.f("fk_images_scheme_id_schemes")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_images")),
        sa.UniqueConstraint("body_id", name=op.f("uq_images_body_id")),
        sa.UniqueConstraint("scheme_id", name=op.f("uq_images_scheme_id")),
    )
    # The audit actions are a CHECK constraint (non-native enum): replaced with the longer list,
    # as in 0002 (on SQLite the batch copies the append-only table row for row).
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0002),
            type_=_action(ACTIONS_0003),
            existing_nullable=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("audit_events", schema=None) as batch_op:
        batch_op.alter_column(
            "action",
            existing_type=_action(ACTIONS_0003),
            type_=_action(ACTIONS_0002),
            existing_nullable=False,
        )
    op.drop_table("images")
