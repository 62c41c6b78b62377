"""Versioned migrations, frozen: each version's tables, columns and indexes are written out here as they were
when that version shipped, never built from today's ``schema.py`` (which only says what the end result is).

Each migration runs once and is recorded in ``zw_schema_version``; one open runs all that are due in a single
transaction (all or nothing). To add one, append ``(number, "what it does", function)`` to :data:`MIGRATIONS`
with a function that defines its own tables (a private ``sa.MetaData()``) or uses the helpers below with literal
names and types, and change ``schema.py`` to match; ``tests/ledger/test_migrations.py`` then proves that a ledger migrated from every
earlier version equals a new one. Never edit a shipped migration: write a new one that changes the result.
Numbers need not be contiguous (branches reserve theirs); they are applied in increasing order, and one missing
from ``zw_schema_version`` is applied even when a higher one is there (so keep each migration independent of
the ones numbered after it).

Versions: 1 intents, actions, legacy imports; 2 policy runs and steps; 3 policy leases; 5 (several changes in one
transaction) the ``zw_intents_image`` index on the image id alone (5ed285b changed it without a migration) and
the owner's process identity (``owner_process``) on intents and policy runs; 6 operations; 7 run history and
windows; 10 fleet runs, their zone units and the shared request token buckets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import sqlalchemy as sa

from .records import now_text

Migration = tuple[int, str, Callable[[sa.Connection], None]]


# ------------------------------------------------------------------------------ helpers for a migration


def add_columns(connection: sa.Connection, table: str, columns: dict[str, sa.types.TypeEngine[Any]]) -> None:
    """``ALTER TABLE table ADD COLUMN`` each nullable column it lacks (a ledger made by a later package may
    already hold it: such ledgers were created from then-current metadata before migrations were frozen)."""
    present = {column["name"] for column in sa.inspect(connection).get_columns(table)}
    for name, kind in columns.items():
        if name not in present:
            connection.execute(sa.text(f"ALTER TABLE {table} ADD COLUMN {name} {kind.compile(dialect=connection.dialect)}"))


def create_indexes(connection: sa.Connection, indexes: Iterable[sa.Index]) -> None:
    """Create each index that is not there yet (by name)."""
    for index in indexes:
        index.create(connection, checkfirst=True)


def replace_index(connection: sa.Connection, index: sa.Index) -> None:
    """Drop the index of that name, whatever it held, and create ``index``."""
    connection.execute(sa.text(f"DROP INDEX IF EXISTS {index.name}"))
    index.create(connection)


# ------------------------------------------------------------------------------ the versions


def _schema_version_table(metadata: sa.MetaData) -> sa.Table:
    return sa.Table(
        "zw_schema_version", metadata,
        sa.Column("version", sa.Integer, primary_key=True),
        sa.Column("name", sa.Text, nullable=False),
        sa.Column("applied_at", sa.Text, nullable=False),
    )


_VERSIONS = _schema_version_table(sa.MetaData())


def _v1_initial(connection: sa.Connection) -> None:
    """Version 1 (278939b): intents, actions, legacy imports."""
    m = sa.MetaData()
    intents = sa.Table(
        "zw_intents", m,
        sa.Column("intent_id", sa.String(32), primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("zone_id", sa.Text, nullable=False),
        sa.Column("instance_id", sa.Text, nullable=False),
        sa.Column("image_name", sa.Text, nullable=False),
        sa.Column("description", sa.Text),
        sa.Column("is_open", sa.Boolean, nullable=False),
        sa.Column("outcome", sa.Text),
        sa.Column("image_id", sa.Text),
        sa.Column("request_id", sa.Text),
        sa.Column("status", sa.Text),
        sa.Column("adopted", sa.Boolean, nullable=False),
        sa.Column("error_type", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("owner", sa.String(32), nullable=False),
        sa.Column("owner_host", sa.Text),
        sa.Column("owner_pid", sa.Integer),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("heartbeat_at", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("settle_seconds", sa.Float),
        sa.Column("snapshot", sa.JSON),
        sa.Column("evidence", sa.JSON),
    )
    sa.Index("zw_one_open_per_name", intents.c.account, intents.c.zone_id, intents.c.image_name, unique=True,
             sqlite_where=intents.c.is_open, postgresql_where=intents.c.is_open)
    sa.Index("zw_one_open_per_instance", intents.c.account, intents.c.instance_id, unique=True,
             sqlite_where=intents.c.is_open, postgresql_where=intents.c.is_open)
    sa.Index("zw_intents_closed_age", intents.c.is_open, intents.c.updated_at)
    sa.Index("zw_intents_image", intents.c.account, intents.c.zone_id, intents.c.image_id)
    actions = sa.Table(
        "zw_actions", m,
        sa.Column("action_id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("at", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("zone_id", sa.Text),
        sa.Column("instance_id", sa.Text),
        sa.Column("image_id", sa.Text),
        sa.Column("image_name", sa.Text),
        sa.Column("request_id", sa.Text),
        sa.Column("outcome", sa.Text, nullable=False),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("intent_id", sa.String(32)),
        sa.Column("detail", sa.Text),
    )
    sa.Index("zw_actions_account_at", actions.c.account, actions.c.at)
    sa.Table(
        "zw_legacy_imports", m,
        sa.Column("path", sa.Text, primary_key=True),
        sa.Column("imported_at", sa.Text, nullable=False),
        sa.Column("intents", sa.Integer, nullable=False),
    )
    m.create_all(connection, checkfirst=True)


def _v2_policy_runs(connection: sa.Connection) -> None:
    """Version 2 (761e97f): rotation-policy runs and their per-instance steps."""
    m = sa.MetaData()
    runs = sa.Table(
        "zw_policy_runs", m,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("name_prefix", sa.Text, nullable=False),
        sa.Column("stamp", sa.Text, nullable=False),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
        sa.Column("outcome", sa.Text),
        sa.Column("who", sa.Text, nullable=False),
    )
    sa.Index("zw_policy_runs_policy", runs.c.account, runs.c.policy, runs.c.started_at)
    steps = sa.Table(
        "zw_policy_steps", m,
        sa.Column("run_id", sa.String(32), primary_key=True),
        sa.Column("instance_id", sa.Text, primary_key=True),
        sa.Column("policy", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("zone_id", sa.Text, nullable=False),
        sa.Column("image_name", sa.Text),
        sa.Column("image_id", sa.Text),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("deleted", sa.JSON),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    sa.Index("zw_policy_steps_owner", steps.c.account, steps.c.policy, steps.c.zone_id)
    m.create_all(connection, checkfirst=True)


def _v3_policy_leases(connection: sa.Connection) -> None:
    """Version 3 (98ddf0d): a lease (owner, heartbeat) on policy runs, one unfinished run per policy, actions
    tagged with their run. Where two runs of one policy are unfinished, the older ones close as ``superseded``."""
    add_columns(connection, "zw_policy_runs", {"owner": sa.String(32), "owner_host": sa.Text(), "owner_pid": sa.Integer(),
                                               "heartbeat_at": sa.Text()})
    add_columns(connection, "zw_actions", {"run_id": sa.String(32)})
    m = sa.MetaData()
    runs = sa.Table("zw_policy_runs", m, sa.Column("run_id", sa.String(32), primary_key=True), sa.Column("policy", sa.Text),
                    sa.Column("account", sa.Text), sa.Column("started_at", sa.Text), sa.Column("finished_at", sa.Text),
                    sa.Column("outcome", sa.Text))
    actions = sa.Table("zw_actions", m, sa.Column("run_id", sa.String(32)))
    unfinished = connection.execute(sa.select(runs.c.run_id, runs.c.account, runs.c.policy)
                                    .where(runs.c.finished_at.is_(None)).order_by(runs.c.started_at.desc())).all()
    newest: set[tuple[str, str]] = set()
    for run_id, account, policy in unfinished:
        if (account, policy) in newest:
            connection.execute(runs.update().where(runs.c.run_id == run_id).values(finished_at=now_text(), outcome="superseded"))
        newest.add((account, policy))
    create_indexes(connection, [
        sa.Index("zw_one_unfinished_run", runs.c.account, runs.c.policy, unique=True,
                 sqlite_where=runs.c.finished_at.is_(None), postgresql_where=runs.c.finished_at.is_(None)),
        sa.Index("zw_actions_run", actions.c.run_id),
    ])


def _v4_pins(connection: sa.Connection) -> None:
    """Version 4: images an operator pinned (kept out of every rotation policy). Self-contained: the DDL is written
    out here, so a later change to schema.py can never change what this migration did."""
    connection.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS zw_pins ("
        " account TEXT NOT NULL, image_id TEXT NOT NULL, zone_id TEXT, image_name TEXT, reason TEXT NOT NULL,"
        " who TEXT NOT NULL, pinned_at TEXT NOT NULL, PRIMARY KEY (account, image_id))"))


def _v5_image_index_and_owner_process(connection: sa.Connection) -> None:
    """Version 5, two changes in one transaction: ``zw_intents_image`` on the image id alone (5ed285b changed the
    index in schema.py only, so ledgers made before it kept (account, zone, image)); and ``owner_process`` (the
    owner's boot, PID namespace and process start time: core/ledger/ownership.py) on intents and policy runs.

    Accounts: rows filed under a bare endpoint (before accounts carried the access key) are left as they are: no
    key can be attributed to them, so no client's account matches them (see SECURITY.md section 2)."""
    m = sa.MetaData()
    intents = sa.Table("zw_intents", m, sa.Column("image_id", sa.Text))
    replace_index(connection, sa.Index("zw_intents_image", intents.c.image_id))
    add_columns(connection, "zw_intents", {"owner_process": sa.Text()})
    add_columns(connection, "zw_policy_runs", {"owner_process": sa.Text()})


def _v6_operations(connection: sa.Connection) -> None:
    """Version 6: durable operations and their steps (core/operations), as they shipped."""
    m = sa.MetaData()
    operations = sa.Table(
        "zw_operations", m,
        sa.Column("operation_id", sa.String(32), primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("key", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("zone_id", sa.Text),
        sa.Column("instance_id", sa.Text),
        sa.Column("image_id", sa.Text),
        sa.Column("params", sa.JSON),
        sa.Column("facts", sa.JSON),
        sa.Column("outcome", sa.Text),
        sa.Column("error_type", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("who", sa.Text, nullable=False),
        sa.Column("owner", sa.String(32)),
        sa.Column("owner_host", sa.Text),
        sa.Column("owner_pid", sa.Integer),
        sa.Column("owner_process", sa.Text),
        sa.Column("heartbeat_at", sa.Text),
        sa.Column("started_at", sa.Text, nullable=False),
        sa.Column("updated_at", sa.Text, nullable=False),
        sa.Column("finished_at", sa.Text),
    )
    sa.Index("zw_one_unfinished_operation", operations.c.account, operations.c.key, unique=True,
             sqlite_where=operations.c.finished_at.is_(None), postgresql_where=operations.c.finished_at.is_(None))
    sa.Index("zw_operations_key", operations.c.account, operations.c.key, operations.c.started_at)
    sa.Index("zw_operations_image", operations.c.image_id)
    sa.Table(
        "zw_operation_steps", m,
        sa.Column("operation_id", sa.String(32), primary_key=True),
        sa.Column("position", sa.Integer, primary_key=True),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("params", sa.JSON),
        sa.Column("always", sa.Boolean, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("sent_at", sa.Text),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("settle_seconds", sa.Float),
        sa.Column("result", sa.JSON),
        sa.Column("evidence", sa.JSON),
        sa.Column("error_type", sa.Text),
        sa.Column("error_code", sa.Text),
        sa.Column("updated_at", sa.Text, nullable=False),
    )
    m.create_all(connection, checkfirst=True)


def _v7_run_history(connection: sa.Connection) -> None:
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


def _v10_fleet(connection: sa.Connection) -> None:
    """Version 10: fleet runs, their (account, zone) units claimed by workers, and each account's shared request
    token bucket (core/fleet), written out as they shipped."""
    connection.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS zw_fleet_runs ("
        " fleet_id VARCHAR(32) NOT NULL, account TEXT NOT NULL, policy TEXT NOT NULL, run_key TEXT NOT NULL,"
        " started_at TEXT NOT NULL, finished_at TEXT, outcome TEXT, who TEXT NOT NULL, PRIMARY KEY (fleet_id))"))
    connection.execute(sa.text(
        "CREATE UNIQUE INDEX IF NOT EXISTS zw_one_fleet_run_per_key ON zw_fleet_runs (account, policy, run_key)"))
    connection.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS zw_fleet_units ("
        " fleet_id VARCHAR(32) NOT NULL, zone_id TEXT NOT NULL, account TEXT NOT NULL, state TEXT NOT NULL,"
        " attempts INTEGER NOT NULL, owner VARCHAR(32), owner_host TEXT, owner_pid INTEGER, owner_process TEXT,"
        " heartbeat_at TEXT, started_at TEXT, finished_at TEXT, outcome TEXT, detail TEXT,"
        " PRIMARY KEY (fleet_id, zone_id))"))
    connection.execute(sa.text(
        "CREATE TABLE IF NOT EXISTS zw_rate_buckets ("
        " account TEXT NOT NULL, rate FLOAT NOT NULL, capacity FLOAT NOT NULL, tokens FLOAT NOT NULL,"
        " updated_at FLOAT NOT NULL, PRIMARY KEY (account))"))


MIGRATIONS: list[Migration] = [
    (1, "intents, actions and legacy imports", _v1_initial),
    (2, "rotation-policy runs and steps", _v2_policy_runs),
    (3, "policy-run leases, one unfinished run per policy, actions tagged with their run", _v3_policy_leases),
    (4, "pinned images (kept out of rotation policies)", _v4_pins),
    (5, "intents indexed by image id alone; the owner's process identity on intents and policy runs",
     _v5_image_index_and_owner_process),
    (6, "durable operations and their steps", _v6_operations),
    (7, "run history and period windows of unattended runs", _v7_run_history),
    (10, "fleet runs, their zone units and the shared request token buckets", _v10_fleet),
]
LATEST = max(number for number, _, _ in MIGRATIONS)


class SchemaTooNew(RuntimeError):
    """The database was migrated by a newer package."""


def current_version(connection: sa.Connection) -> int:
    """The highest version applied (0 on an empty database)."""
    if not sa.inspect(connection).has_table(_VERSIONS.name):
        return 0
    return connection.execute(sa.select(sa.func.max(_VERSIONS.c.version))).scalar() or 0


def migrate(engine: sa.Engine, *, up_to: int | None = None) -> int:
    """Bring the database to :data:`LATEST` (or to ``up_to``, for tests of older versions); safe when several
    processes start at once. Returns the version."""
    target = LATEST if up_to is None else up_to
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":  # one migrator at a time; the others wait, then find it done
            connection.execute(sa.text("SELECT pg_advisory_xact_lock(7315420211)"))
        # SQLite: the engine's BEGIN IMMEDIATE took the write lock (busy_timeout makes the others wait)
        _VERSIONS.create(connection, checkfirst=True)
        version = current_version(connection)
        if version > LATEST:
            raise SchemaTooNew(f"The ledger's schema is version {version}, newer than this package knows ({LATEST}); "
                               "upgrade zenlayer-widgets.")
        applied = set(connection.execute(sa.select(_VERSIONS.c.version)).scalars())
        for number, name, apply in sorted(MIGRATIONS, key=lambda migration: migration[0]):
            if number not in applied and number <= target:  # a number skipped by an earlier build is applied late
                apply(connection)
                connection.execute(_VERSIONS.insert().values(version=number, name=name, applied_at=now_text()))
                applied.add(number)
    return max(applied, default=0)
