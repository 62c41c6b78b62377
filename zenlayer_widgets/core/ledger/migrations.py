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
the owner's process identity (``owner_process``) on intents and policy runs; 6 durable operations; 7 run history
and period windows; 8 (data only) each start owed in the old form (an instance whose newest ``start`` action is
``planned``) becomes an unfinished ``create`` operation owing it, so an upgrade loses no owed start (the action rows
stay, as history); 9 policy runs and steps carried into operations (rotation runs on the engine); 10 fleet
runs, their zone units and the shared request token buckets.
"""

from __future__ import annotations

import uuid
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


def _v8_owed_starts(connection: sa.Connection) -> None:
    """Version 8 (data only): a start owed in the old form (the newest ``start`` action of an instance is
    ``planned``) becomes an unfinished ``create`` operation (key ``create:<instance>:<image name>``) whose steps
    make_image, follow_image and start_owed (a clean-up) are planned: re-running that create takes it up, and a start
    by hand settles it. The ``zw_actions`` rows are kept as they are (the Activity's history). Tables and columns
    as they were at version 8, written out here."""
    actions = sa.table("zw_actions", *[sa.column(name) for name in (
        "action_id", "at", "kind", "account", "zone_id", "instance_id", "image_name", "outcome", "who", "detail")])
    operations = sa.table(
        "zw_operations", *[sa.column(name) for name in (
            "operation_id", "kind", "key", "account", "zone_id", "instance_id", "who", "started_at", "updated_at")],
        sa.column("params", sa.JSON), sa.column("facts", sa.JSON), sa.column("finished_at"))
    steps = sa.table("zw_operation_steps", *[sa.column(name) for name in (
        "operation_id", "position", "kind", "always", "state", "attempts", "updated_at")], sa.column("params", sa.JSON))
    rows = connection.execute(sa.select(actions).where(actions.c.kind == "start", actions.c.instance_id.is_not(None))
                              .order_by(actions.c.action_id.desc())).all()
    newest: dict[tuple[str, str], Any] = {}
    for row in rows:
        newest.setdefault((row.account, row.instance_id), row)
    stamp = now_text()
    for (account, instance_id), row in sorted(newest.items()):
        if row.outcome != "planned":
            continue
        key = f"create:{instance_id}:{row.image_name or ''}"
        unfinished = connection.execute(sa.select(operations.c.operation_id).where(
            operations.c.account == account, operations.c.key == key, operations.c.finished_at.is_(None))).first()
        if unfinished is not None:
            continue
        detail = row.detail or ""
        facts = {"stopped_at": detail[len("stopped at "):]} if detail.startswith("stopped at ") else {}
        operation_id = uuid.uuid5(uuid.NAMESPACE_URL, f"zw-owed-start:{account}:{row.action_id}").hex
        connection.execute(operations.insert().values(
            operation_id=operation_id, kind="create", key=key, account=account, zone_id=row.zone_id,
            instance_id=instance_id, who=row.who, started_at=row.at, updated_at=stamp,
            params={"image_name": row.image_name, "migrated_from_action": row.action_id}, facts=facts))
        target = {"instance_id": instance_id}
        plan = [("make_image", {**target, "image_name": row.image_name, "description": None}, False),
                ("follow_image", {}, False), ("start_owed", target, True)]
        for position, (kind, params, always) in enumerate(plan):
            connection.execute(steps.insert().values(operation_id=operation_id, position=position, kind=kind,
                                                     params=params, always=always, state="planned", attempts=0,
                                                     updated_at=stamp))


def _v9_rotation_operations(connection: sa.Connection) -> None:
    """Version 9: rotation runs move onto the durable-operation engine. Each policy run (``zw_policy_runs``) becomes
    a ``rotation`` operation of the same id (key ``rotation:<policy>``; its lease, outcome and times kept: an
    unfinished run stays unfinished, for the next apply to resume), each of its steps (``zw_policy_steps``) a finished
    ``rotate`` operation (key ``rotate:<run id>:<instance id>``) holding the image id it recorded (so the policy
    still owns exactly those images), its name, reason and deletes; a step its run had not finished is ``moved``
    (the resuming apply follows its image to its end). The old tables stay as they were, read by nothing."""
    m = sa.MetaData()
    present = {column["name"] for column in sa.inspect(connection).get_columns("zw_policy_runs")}  # 3 and 5 may lag
    runs = sa.Table("zw_policy_runs", m, *(sa.Column(n, sa.Integer if n == "owner_pid" else sa.Text) for n in (
        "run_id", "policy", "account", "name_prefix", "stamp", "started_at", "finished_at", "outcome", "who", "owner",
        "owner_host", "owner_pid", "heartbeat_at", "owner_process") if n in present))
    steps = sa.Table("zw_policy_steps", m, *(sa.Column(n, sa.Text) for n in (
        "run_id", "instance_id", "policy", "account", "zone_id", "image_name", "image_id", "state", "reason",
        "updated_at")), sa.Column("deleted", sa.JSON))
    operations = sa.Table("zw_operations", m, *(sa.Column(n, sa.Text) for n in (
        "operation_id", "kind", "key", "account", "zone_id", "instance_id", "image_id", "outcome", "who", "owner",
        "owner_host", "owner_process", "heartbeat_at", "started_at", "updated_at", "finished_at")),
        sa.Column("owner_pid", sa.Integer), sa.Column("params", sa.JSON), sa.Column("facts", sa.JSON))
    done = set(connection.execute(sa.select(operations.c.operation_id).where(operations.c.kind == "rotation")).scalars())
    by_run = {}
    for run in connection.execute(sa.select(runs)).mappings():
        by_run[run["run_id"]] = run
        if run["run_id"] in done:
            continue
        connection.execute(operations.insert().values(
            operation_id=run["run_id"], kind="rotation", key=f"rotation:{run['policy']}", account=run["account"],
            params={"policy": run["policy"], "name_prefix": run["name_prefix"], "stamp": run["stamp"]}, facts={},
            outcome=run["outcome"], who=run["who"], owner=run.get("owner"), owner_host=run.get("owner_host"),
            owner_pid=run.get("owner_pid"), owner_process=run.get("owner_process"), heartbeat_at=run.get("heartbeat_at"),
            started_at=run["started_at"], finished_at=run["finished_at"],
            updated_at=run.get("heartbeat_at") or run["finished_at"] or run["started_at"]))
    outcomes = {"done": "done", "skipped": "skipped", "failed": "failed"}
    for step in connection.execute(sa.select(steps).where(steps.c.run_id.not_in(done) if done else sa.true())).mappings():
        owner_run = by_run.get(step["run_id"])
        connection.execute(operations.insert().values(
            operation_id=uuid.uuid4().hex, kind="rotate", key=f"rotate:{step['run_id']}:{step['instance_id']}",
            account=step["account"], zone_id=step["zone_id"], instance_id=step["instance_id"], image_id=step["image_id"],
            params={"run_id": step["run_id"], "policy": step["policy"], "image_name": step["image_name"], "notes": []},
            facts={"reason": step["reason"], "deleted": list(step["deleted"] or []), "image_name": step["image_name"]},
            outcome=outcomes.get(step["state"], "moved"), who=owner_run["who"] if owner_run is not None else "",
            started_at=step["updated_at"], updated_at=step["updated_at"], finished_at=step["updated_at"]))
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
    (8, "starts owed in the old form (a planned start action) become unfinished create operations", _v8_owed_starts),
    (9, "rotation runs and steps carried into durable operations", _v9_rotation_operations),
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
