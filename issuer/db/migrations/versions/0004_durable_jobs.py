"""durable jobs: background work in the database, with leases (replaces import_jobs)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def _enum(name: str, *values: str) -> sa.Enum:
    return sa.Enum(*values, name=name, native_enum=False, create_constraint=True, length=32)


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", _enum("job_kind", "csv-import"), nullable=False),
        sa.Column(
            "state", _enum("job_state", "queued", "running", "done", "failed"), nullable=False
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("params", sa.Text(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("present", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("lease_owner", sa.String(length=200), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=True),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_jobs")),
    )
    op.create_index(op.f("ix_jobs_state"), "jobs", ["state"], unique=False)
    # Imports recorded by 0001-0003 keep their page. Their input was never kept, so one still
    # "running" (its thread died with its process) cannot be resumed: it is marked failed.
    op.execute(
        "INSERT INTO jobs (id, kind, state, actor, title, payload, params, total, processed,"
        " imported, present, report, cursor, attempts, message, created_at, finished_at)"
        " SELECT id, 'csv-import', CASE WHEN state = 'running' THEN 'failed' ELSE state END,"
        " actor, filename, '', '{}', total, processed, imported, 0, report, 0, 1,"
        " CASE WHEN state = 'running' THEN 'stopped when its server process stopped' ELSE '' END,"
        " created_at, COALESCE(finished_at, created_at) FROM import_jobs"
    )
    if op.get_bind().dialect.name == "postgresql":
        op.execute(
            "SELECT setval(pg_get_serial_sequence('jobs', 'id'), "
            "COALESCE((SELECT MAX(id) FROM jobs), 0) + 1, false)"
        )
    op.drop_table("import_jobs")


def downgrade() -> None:
    op.create_table(
        "import_jobs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("filename", sa.String(length=300), nullable=False),
        sa.Column("state", _enum("job_state", "running", "done", "failed"), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("processed", sa.Integer(), nullable=False),
        sa.Column("imported", sa.Integer(), nullable=False),
        sa.Column("report", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_import_jobs")),
    )
    op.execute(
        "INSERT INTO import_jobs (id, actor, filename, state, total, processed, imported,"
        " report, created_at, finished_at) SELECT id, actor, title,"
        " CASE WHEN state IN ('queued', 'running') THEN 'failed' ELSE state END, total,"
        " processed, imported, report, created_at, finished_at FROM jobs"
    )
    op.drop_index(op.f("ix_jobs_state"), table_name="jobs")
    op.drop_table("jobs")
