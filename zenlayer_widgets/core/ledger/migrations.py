"""Versioned migrations: an ordered list, each applied once in its own transaction and recorded in
``zw_schema_version``. Add a migration by appending to :data:`MIGRATIONS` (never edit an old one)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone

import sqlalchemy as sa

from . import schema

Migration = tuple[int, str, Callable[[sa.Connection], None]]


def _initial(connection: sa.Connection) -> None:
    """Version 1: intents, actions, legacy imports (as schema.py defines them at version 1)."""
    for table in (schema.intents, schema.actions, schema.legacy_imports):
        table.create(connection, checkfirst=True)


def _policy_runs(connection: sa.Connection) -> None:
    """Version 2: rotation-policy runs and their per-instance steps (core/policy)."""
    for table in (schema.policy_runs, schema.policy_steps):
        table.create(connection, checkfirst=True)


MIGRATIONS: list[Migration] = [
    (1, "intents, actions and legacy imports", _initial),
    (2, "rotation-policy runs and steps", _policy_runs),
]
LATEST = MIGRATIONS[-1][0]


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer package."""


def current_version(connection: sa.Connection) -> int:
    """The highest version applied (0 on an empty database)."""
    if not sa.inspect(connection).has_table(schema.schema_version.name):
        return 0
    return connection.execute(sa.select(sa.func.max(schema.schema_version.c.version))).scalar() or 0


def migrate(engine: sa.Engine) -> int:
    """Bring the database to :data:`LATEST`; safe when several processes start at once. Returns the version."""
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # one migrator at a time; the others wait, then find it done
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7315420211)"))
        # SQLite: the engine's BEGIN IMMEDIATE took the write lock (busy_timeout makes the others wait)
        schema.schema_version.create(connection, checkfirst=True)
        version = current_version(connection)
        if version > LATEST:
            raise SchemaTooNew(f"The ledger's schema is version {version}, newer than this package knows ({LATEST}); "
                               "upgrade zenlayer-widgets.")
        for number, name, apply in MIGRATIONS:
            if number > version:
                apply(connection)
                connection.execute(schema.schema_version.insert().values(
                    version=number, name=name, applied_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds")))
                version = number
    return version
