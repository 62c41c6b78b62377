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


def _run_history(connection: sa.Connection) -> None:
    """Version 7: the history of unattended runs and the period windows they claim (written out here, as they were
    at version 7; schema.py's ``run_history`` and ``run_windows`` describe the same tables)."""
    metadata = sa.MetaData()
    history = sa.Table(
        "zw_run_history", metadata,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("runbook", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("parameters", sa.JSON),
        sa.Column("window_start", sa.Text),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("ended_at", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("output", sa.Text),
        sa.Column("detail", sa.Text),
        sa.Column("who", sa.Text, nullable=False),
    )
    sa.Index("zw_run_history_started", history.c.account, history.c.policy, history.c.started_at)
    sa.Table(
        "zw_run_windows", metadata,
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("policy", sa.Text, primary_key=True),
        sa.Column("window_start", sa.Text, primary_key=True),
        sa.Column("period", sa.Text, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("run_id", sa.String(32)),
        sa.Column("at", sa.Text, nullable=False),
    )
    metadata.create_all(connection, checkfirst=True)


MIGRATIONS: list[Migration] = [
    (1, "intents, actions and legacy imports", _initial),
    (2, "rotation-policy runs and steps", _policy_runs),
    (3, "policy-run leases, one unfinished run per policy, actions tagged with their run", _policy_leases),
    (7, "run history and period windows of unattended runs", _run_history),
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
