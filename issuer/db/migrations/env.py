"""Alembic environment: the engine comes from :func:`issuer.db.migrate.alembic_config`.

SQLite alters tables by "move and copy" (batch mode): the old table is dropped, which foreign
keys pointing at it would refuse. As SQLite documents for such changes (lang_altertable.html,
"Making Other Kinds Of Table Schema Changes"), foreign keys are turned off outside the
transaction, and ``PRAGMA foreign_key_check`` must find nothing before the commit.
"""

from __future__ import annotations

from alembic import context

from issuer.db import (
    Base,
    models,  # noqa: F401 - registers the tables on Base.metadata
)

config = context.config
engine = config.attributes.get("engine")
if engine is None:
    raise RuntimeError(
        "run migrations through issuer.db.migrate (certvc init), not the alembic CLI"
    )


def _sqlite_foreign_keys(connection, on: bool) -> None:  # type: ignore[no-untyped-def]
    # on the DBAPI connection, outside any transaction (inside one the pragma does nothing)
    connection.connection.driver_connection.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


with engine.connect() as connection:
    sqlite = connection.dialect.name == "sqlite"
    if sqlite:
        _sqlite_foreign_keys(connection, False)
    try:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=sqlite,
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
            if sqlite:
                broken = connection.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
                if broken:
                    raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        connection.commit()
    finally:
        if sqlite:
            if connection.in_transaction():
                connection.rollback()
            _sqlite_foreign_keys(connection, True)
