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


def _add_missing_columns(connection: sa.Connection, table: sa.Table, names: list[str]) -> None:
    present = {column["name"] for column in sa.inspect(connection).get_columns(table.name)}
    for name in names:
        if name not in present:
            column = table.c[name]
            kind = column.type.compile(dialect=connection.dialect)
            connection.execute(sa.text(f'ALTER TABLE {table.name} ADD COLUMN {name} {kind}'))


def _policy_leases(connection: sa.Connection) -> None:
    """Version 3: a lease (owner, heartbeat) on policy runs, one unfinished run per policy, actions tagged
    with their run. Where an older ledger holds two unfinished runs of one policy, the older ones are
    closed as ``superseded`` (the newest is the one a next apply resumes)."""
    _add_missing_columns(connection, schema.policy_runs, ["owner", "owner_host", "owner_pid", "heartbeat_at"])
    _add_missing_columns(connection, schema.actions, ["run_id"])
    t = schema.policy_runs.c
    unfinished = connection.execute(sa.select(t.run_id, t.account, t.policy).where(t.finished_at.is_(None))
                                    .order_by(t.started_at.desc())).all()
    newest: set[tuple[str, str]] = set()
    stamp = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    for run_id, account, policy in unfinished:
        if (account, policy) in newest:
            connection.execute(schema.policy_runs.update().where(t.run_id == run_id)
                               .values(finished_at=stamp, outcome="superseded"))
        newest.add((account, policy))
    for table in (schema.policy_runs, schema.actions):
        for index in table.indexes:
            index.create(connection, checkfirst=True)


def _operations(connection: sa.Connection) -> None:
    """Version 6: durable operations and their steps (core/operations). Frozen DDL: written out here, not built
    from schema.py's metadata (which may move on)."""
    for statement in (
        """CREATE TABLE IF NOT EXISTS zw_operations (
            operation_id VARCHAR(32) NOT NULL PRIMARY KEY, kind TEXT NOT NULL, key TEXT NOT NULL,
            account TEXT NOT NULL, zone_id TEXT, instance_id TEXT, image_id TEXT, params {json}, facts {json},
            outcome TEXT, error_type TEXT, error_code TEXT, who TEXT NOT NULL, owner VARCHAR(32), owner_host TEXT,
            owner_pid INTEGER, heartbeat_at TEXT, started_at TEXT NOT NULL, updated_at TEXT NOT NULL, finished_at TEXT)""",
        """CREATE UNIQUE INDEX IF NOT EXISTS zw_one_unfinished_operation ON zw_operations (account, key)
            WHERE finished_at IS NULL""",
        "CREATE INDEX IF NOT EXISTS zw_operations_key ON zw_operations (account, key, started_at)",
        "CREATE INDEX IF NOT EXISTS zw_operations_image ON zw_operations (image_id)",
        """CREATE TABLE IF NOT EXISTS zw_operation_steps (
            operation_id VARCHAR(32) NOT NULL, position INTEGER NOT NULL, kind TEXT NOT NULL, params {json},
            always BOOLEAN NOT NULL, state TEXT NOT NULL, sent_at TEXT, attempts INTEGER NOT NULL,
            settle_seconds {float}, result {json}, evidence {json}, error_type TEXT, error_code TEXT,
            updated_at TEXT NOT NULL, PRIMARY KEY (operation_id, position))""",
    ):
        connection.execute(sa.text(statement.format(json="JSON", float="FLOAT")))


MIGRATIONS: list[Migration] = [
    (1, "intents, actions and legacy imports", _initial),
    (2, "rotation-policy runs and steps", _policy_runs),
    (3, "policy-run leases, one unfinished run per policy, actions tagged with their run", _policy_leases),
    # 4 (branch policy-safety) and 5 (branch ledger) are being written in parallel: each is applied when missing
    (6, "durable operations and their steps", _operations),
]
LATEST = max(number for number, _, _ in MIGRATIONS)


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
        applied = set(connection.execute(sa.select(schema.schema_version.c.version)).scalars())
        if version > LATEST:
            raise SchemaTooNew(f"The ledger's schema is version {version}, newer than this package knows ({LATEST}); "
                               "upgrade zenlayer-widgets.")
        for number, name, apply in sorted(MIGRATIONS, key=lambda migration: migration[0]):
            if number not in applied:  # a gap (a version added later below an applied one) is filled too
                apply(connection)
                connection.execute(schema.schema_version.insert().values(
                    version=number, name=name, applied_at=datetime.now(timezone.utc).isoformat(timespec="milliseconds")))
                version = max(version, number)
    return version
