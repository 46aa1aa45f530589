"""Alembic migrations build exactly the schema the models declare, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from issuer import db
from issuer.db import Base, migrate
from issuer.db.models import AuditHead
from issuer.services.audit import GENESIS
from tests.issuer.support import BACKENDS


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """This module runs on every backend (the engine's behaviour is what it tests)."""
    return request.param


def test_migrations_produce_the_models_schema(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        assert migrate.current_revision(engine) is None
        migrate.upgrade(engine)
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"compare_type": True})
            assert compare_metadata(context, Base.metadata) == []
        assert migrate.is_current(engine)
    finally:
        engine.dispose()


def test_upgrade_is_idempotent_and_seeds_the_audit_chain_head(database_url: str) -> None:
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        migrate.upgrade(engine)  # a second run changes nothing
        with db.session_factory(engine)() as session:
            heads = session.execute(select(AuditHead)).scalars().all()
        assert [(h.id, h.seq, h.hash) for h in heads] == [(1, 0, GENESIS)]
        tables = set(inspect(engine).get_table_names())
        assert set(Base.metadata.tables) <= tables
    finally:
        engine.dispose()


def test_the_status_list_minimum_is_in_the_schema(database_url: str) -> None:
    """BSL 2.2: at least 131,072 entries; the CHECK constraint holds it in the database too."""
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine)
        checks = inspect(engine).get_check_constraints("status_lists")
        assert any("131072" in (c.get("sqltext") or "") for c in checks)
    finally:
        engine.dispose()


_ROWS_0001 = [
    "INSERT INTO certification_bodies (id, name, url, did, accreditation, created_at) "
    "VALUES (1, 'b', 'u', 'did:web:b', '', :t)",
    "INSERT INTO schemes (id, body_id, code, name, description, criteria, standard_name, "
    "validity_days, achievement_type, suite, created_at) "
    "VALUES (1, 1, 'C', 'n', '', 'c', 's', 10, 'Certification', 'eddsa-rdfc-2022', :t)",
    "INSERT INTO persons (id, name, created_at) VALUES (1, 'p', :t)",
    "INSERT INTO certifications (id, number, person_id, scheme_id, scope, effective, expires, "
    "state, created_at, updated_at) VALUES (1, 'N-1', 1, 1, 's', :t, :t, 'active', :t, :t)",
    "INSERT INTO issued_credentials (id, credential_id, certification_id, format, suite, key_id, "
    "document, issued_at, state) "
    "VALUES (1, 'urn:c1', 1, 'ldp_vc', 'eddsa-rdfc-2022', 'k', '{}', :t, 'active')",
    "INSERT INTO status_lists (id, purpose, sequence, size, bits, is_full, version) "
    "VALUES (1, 'revocation', 1, 131072, :b, false, 0)",
    "INSERT INTO status_entries (id, credential_pk, purpose, list_id, status_index) "
    "VALUES (1, 1, 'revocation', 1, 5)",
    "INSERT INTO audit_events (seq, at, actor, action, subject, reason, details, prev_hash, hash) "
    "VALUES (1, :t, 'a', 'issue', 'N-1', 'r', '{}', 'x', 'y')",
]


def test_upgrading_a_0001_database_keeps_its_records(database_url: str) -> None:
    """0002 adds columns and widens the audit actions on tables that hold data and are
    referenced (SQLite copies them: env.py turns foreign keys off for that, checks them, and
    turns them back on); every row survives and the constraints still hold afterwards."""
    engine = db.make_engine(database_url)
    try:
        migrate.upgrade(engine, "0001")
        with engine.begin() as connection:
            for statement in _ROWS_0001:
                connection.execute(text(statement), {"t": datetime(2026, 1, 1), "b": b""})
        migrate.upgrade(engine)
        assert migrate.is_current(engine)
        with engine.connect() as connection:
            assert connection.execute(
                text("SELECT credential_id, copy_of_id, alternate FROM issued_credentials")
            ).all() == [("urn:c1", None, None)]
            assert connection.execute(text("SELECT public_page FROM certifications")).scalar() in (
                False,
                0,
            )
            assert connection.execute(text("SELECT count(*) FROM status_entries")).scalar() == 1
            assert connection.execute(text("SELECT hash FROM audit_events")).scalar() == "y"
        for broken in (
            "INSERT INTO status_entries (id, credential_pk, purpose, list_id, status_index) "
            "VALUES (2, 99, 'revocation', 1, 6)",  # no credential 99: foreign keys are on
            "INSERT INTO audit_events (seq, at, actor, action, subject, reason, details, "
            "prev_hash, hash) VALUES (2, :t, 'a', 'no.such.action', 's', 'r', '{}', 'y', 'z')",
        ):
            with pytest.raises(IntegrityError), engine.begin() as connection:
                connection.execute(text(broken), {"t": datetime(2026, 1, 1)})
        with engine.begin() as connection:  # the new actions are allowed
            connection.execute(
                text(
                    "INSERT INTO audit_events (seq, at, actor, action, subject, reason, details, "
                    "prev_hash, hash) VALUES (2, :t, 'a', 'offer.create', 's', 'r', '{}', 'y', 'z')"
                ),
                {"t": datetime(2026, 1, 1)},
            )
            connection.execute(  # 0003's
                text(
                    "INSERT INTO audit_events (seq, at, actor, action, subject, reason, details, "
                    "prev_hash, hash) VALUES (3, :t, 'a', 'scheme.image', 's', 'r', '{}', 'z', "
                    "'w')"
                ),
                {"t": datetime(2026, 1, 1)},
            )
    finally:
        engine.dispose()
