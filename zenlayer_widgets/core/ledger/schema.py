"""The ledger's tables (SQLAlchemy Core): intents of CreateImage, every action taken, the schema version.

What the latest migration (migrations.py, where each version's DDL is written out) arrives at; used for queries.

Times are ISO-8601 UTC text with milliseconds (``2026-12-01T18:00:00.123+00:00``): one format on
SQLite and PostgreSQL, sortable as text. Partial unique indexes are the whole concurrency story:
at most one *open* intent per (account, zone, image name) and per (account, instance), and at most
one unfinished run per rotation policy.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

#: One row per migration applied (see migrations.py).
schema_version = sa.Table(
    "zw_schema_version", metadata,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.Text, nullable=False),
    sa.Column("applied_at", sa.Text, nullable=False),
)

#: One row per CreateImage intent, updated in place as it moves on (open -> closed).
intents = sa.Table(
    "zw_intents", metadata,
    sa.Column("intent_id", sa.String(32), primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("zone_id", sa.Text, nullable=False),
    sa.Column("instance_id", sa.Text, nullable=False),
    sa.Column("image_name", sa.Text, nullable=False),
    sa.Column("description", sa.Text),
    sa.Column("is_open", sa.Boolean, nullable=False, default=True),
    sa.Column("outcome", sa.Text),
    sa.Column("image_id", sa.Text),
    sa.Column("request_id", sa.Text),
    sa.Column("status", sa.Text),
    sa.Column("adopted", sa.Boolean, nullable=False, default=False),
    sa.Column("error_type", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("owner", sa.String(32), nullable=False),  # the run that may send; another takes over only when it is stale
    sa.Column("owner_host", sa.Text),  # where the owner runs, and its process id: a dead process on this host is stale
    sa.Column("owner_pid", sa.Integer),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("heartbeat_at", sa.Text, nullable=False),
    sa.Column("sent_at", sa.Text),  # written BEFORE each CreateImage is sent; NULL: never sent
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("settle_seconds", sa.Float),  # how long after sent_at a lost request may still land
    sa.Column("snapshot", sa.JSON),  # before sending: {"image_ids": [...], "instance_status": ..., "disk_size": ...}
    sa.Column("evidence", sa.JSON),  # after an unknown outcome: {"seen_imaging": true, "candidates": [...]}
    sa.Column("owner_process", sa.Text),  # version 5: the owner's boot, PID namespace and start time (ownership.py)
)
sa.Index("zw_one_open_per_name", intents.c.account, intents.c.zone_id, intents.c.image_name, unique=True,
         sqlite_where=intents.c.is_open, postgresql_where=intents.c.is_open)
sa.Index("zw_one_open_per_instance", intents.c.account, intents.c.instance_id, unique=True,
         sqlite_where=intents.c.is_open, postgresql_where=intents.c.is_open)
sa.Index("zw_intents_closed_age", intents.c.is_open, intents.c.updated_at)
sa.Index("zw_intents_image", intents.c.image_id)  # which intent owns an image (near-unique ids; version 5)

#: Append-only: one row per action the package took (stop, start, create, delete, rename).
actions = sa.Table(
    "zw_actions", metadata,
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
    sa.Column("run_id", sa.String(32)),  # the rotation-policy run it was part of (version 3)
)
sa.Index("zw_actions_account_at", actions.c.account, actions.c.at)
sa.Index("zw_actions_run", actions.c.run_id)

#: Legacy JSON-lines journals already imported (by resolved path), so each is imported once.
legacy_imports = sa.Table(
    "zw_legacy_imports", metadata,
    sa.Column("path", sa.Text, primary_key=True),
    sa.Column("imported_at", sa.Text, nullable=False),
    sa.Column("intents", sa.Integer, nullable=False),
)

#: Rotation-policy runs as versions 2 to 7 wrote them. Read and written by nothing since version 9, which carried
#: every run and step into ``zw_operations`` (kinds ``rotation`` and ``rotate``, core/policy/records.py); kept as
#: they were, so an upgrade deletes nothing.
policy_runs = sa.Table(
    "zw_policy_runs", metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("name_prefix", sa.Text, nullable=False),
    sa.Column("stamp", sa.Text, nullable=False),  # the timestamp part of the run's image names
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("outcome", sa.Text),
    sa.Column("who", sa.Text, nullable=False),
    # version 3: the lease of the process applying it (heartbeat); a run whose owner is gone may be resumed
    sa.Column("owner", sa.String(32)),
    sa.Column("owner_host", sa.Text),
    sa.Column("owner_pid", sa.Integer),
    sa.Column("heartbeat_at", sa.Text),
    sa.Column("owner_process", sa.Text),  # version 5 (as on intents)
)
sa.Index("zw_policy_runs_policy", policy_runs.c.account, policy_runs.c.policy, policy_runs.c.started_at)
#: At most one unfinished run per (account, policy): two applies at once cannot both begin one.
sa.Index("zw_one_unfinished_run", policy_runs.c.account, policy_runs.c.policy, unique=True,
         sqlite_where=policy_runs.c.finished_at.is_(None), postgresql_where=policy_runs.c.finished_at.is_(None))

#: One row per instance of a policy run (versions 2 to 7; carried into ``zw_operations`` by version 9, see above).
policy_steps = sa.Table(
    "zw_policy_steps", metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("instance_id", sa.Text, primary_key=True),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("zone_id", sa.Text, nullable=False),
    sa.Column("image_name", sa.Text),
    sa.Column("image_id", sa.Text),
    sa.Column("state", sa.Text, nullable=False),  # planned, created, done, skipped, failed
    sa.Column("reason", sa.Text),
    sa.Column("deleted", sa.JSON),  # image ids deleted by this step
    sa.Column("updated_at", sa.Text, nullable=False),
)
sa.Index("zw_policy_steps_owner", policy_steps.c.account, policy_steps.c.policy, policy_steps.c.zone_id)

#: Images kept out of every rotation policy by an operator (``zw.pin_image``; version 4): a policy never deletes a pinned
#: image, even one it made. (An image a policy made and an operator renamed leaves the policy too, without a row here.)
pins = sa.Table(
    "zw_pins", metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("image_id", sa.Text, primary_key=True),
    sa.Column("zone_id", sa.Text),
    sa.Column("image_name", sa.Text),  # its name when it was pinned
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("pinned_at", sa.Text, nullable=False),
)

#: One row per durable operation (core/operations): a named plan of steps, written before anything is sent
#: (version 6); a rotation run and each of its instances too (version 9). ``finished_at`` NULL while unfinished: the next run with the same ``key`` resumes it.
operations = sa.Table(
    "zw_operations", metadata,
    sa.Column("operation_id", sa.String(32), primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),  # verify, launch, restore, ...
    sa.Column("key", sa.Text, nullable=False),  # what makes a re-run the same operation (e.g. launch:<image>:<like>:<name>)
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("zone_id", sa.Text),
    sa.Column("instance_id", sa.Text),
    sa.Column("image_id", sa.Text),
    sa.Column("params", sa.JSON),
    sa.Column("facts", sa.JSON),  # what the steps learnt (the launched instance's id, the price, boot seconds)
    sa.Column("outcome", sa.Text),  # None while unfinished; done, failed, refused
    sa.Column("error_type", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("who", sa.Text, nullable=False),
    sa.Column("owner", sa.String(32)),
    sa.Column("owner_host", sa.Text),
    sa.Column("owner_pid", sa.Integer),
    sa.Column("owner_process", sa.Text),  # boot, PID namespace and start time (core/ledger/ownership.py)
    sa.Column("heartbeat_at", sa.Text),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("updated_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
)
sa.Index("zw_one_unfinished_operation", operations.c.account, operations.c.key, unique=True,
         sqlite_where=operations.c.finished_at.is_(None), postgresql_where=operations.c.finished_at.is_(None))
sa.Index("zw_operations_key", operations.c.account, operations.c.key, operations.c.started_at)
sa.Index("zw_operations_image", operations.c.image_id)

#: The steps of an operation in order: planned -> sent (written BEFORE the request goes out) -> done | failed | skipped.
operation_steps = sa.Table(
    "zw_operation_steps", metadata,
    sa.Column("operation_id", sa.String(32), primary_key=True),
    sa.Column("position", sa.Integer, primary_key=True),
    sa.Column("kind", sa.Text, nullable=False),
    sa.Column("params", sa.JSON),
    sa.Column("always", sa.Boolean, nullable=False, default=False),  # a clean-up: runs after an earlier step failed too
    sa.Column("state", sa.Text, nullable=False),
    sa.Column("sent_at", sa.Text),
    sa.Column("attempts", sa.Integer, nullable=False, default=0),
    sa.Column("settle_seconds", sa.Float),
    sa.Column("result", sa.JSON),
    sa.Column("evidence", sa.JSON),
    sa.Column("error_type", sa.Text),
    sa.Column("error_code", sa.Text),
    sa.Column("updated_at", sa.Text, nullable=False),
)

#: Version 7: one row per unattended run (a runbook under papermill or a scheduler, the studio's rotation apply):
#: its parameters, start, end, outcome and the output notebook it wrote (core/runs.py).
run_history = sa.Table(
    "zw_run_history", metadata,
    sa.Column("run_id", sa.String(32), primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("runbook", sa.Text, nullable=False),  # rotate_images, the studio, ...
    sa.Column("kind", sa.Text, nullable=False),  # papermill, scheduler, studio, python
    sa.Column("parameters", sa.JSON),
    sa.Column("window_start", sa.Text),  # the period window the run claimed (NULL: none)
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("ended_at", sa.Text),
    sa.Column("outcome", sa.Text),  # NULL while running; ok, failed, dry run, skipped, error
    sa.Column("output", sa.Text),  # the output notebook's path, when known
    sa.Column("detail", sa.Text),
    sa.Column("who", sa.Text, nullable=False),
)
sa.Index("zw_run_history_started", run_history.c.account, run_history.c.policy, run_history.c.started_at)

#: Version 7: the period windows of a policy (core/windows.py): a run claims its window by inserting this row, so two
#: schedulers firing the same window run it once; a window nobody ran is written as ``missed`` (reported once).
run_windows = sa.Table(
    "zw_run_windows", metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("policy", sa.Text, primary_key=True),
    sa.Column("window_start", sa.Text, primary_key=True),
    sa.Column("period", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # claimed, missed, caught up
    sa.Column("run_id", sa.String(32)),
    sa.Column("at", sa.Text, nullable=False),
)

#: Version 10: a run shared by several workers (core/fleet): one per (account, policy, key: the period window, or the
#: run itself while it is unfinished).
fleet_runs = sa.Table(
    "zw_fleet_runs", metadata,
    sa.Column("fleet_id", sa.String(32), primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("policy", sa.Text, nullable=False),
    sa.Column("run_key", sa.Text, nullable=False),
    sa.Column("started_at", sa.Text, nullable=False),
    sa.Column("finished_at", sa.Text),
    sa.Column("outcome", sa.Text),
    sa.Column("who", sa.Text, nullable=False),
)
sa.Index("zw_one_fleet_run_per_key", fleet_runs.c.account, fleet_runs.c.policy, fleet_runs.c.run_key, unique=True)

#: Version 10: a fleet run's units of work, one per (account, zone), claimed ``FOR UPDATE SKIP LOCKED`` by a worker that
#: then heartbeats it (the owner columns of core/ledger/ownership.py); a unit whose worker is gone is taken over.
fleet_units = sa.Table(
    "zw_fleet_units", metadata,
    sa.Column("fleet_id", sa.String(32), primary_key=True),
    sa.Column("zone_id", sa.Text, primary_key=True),
    sa.Column("account", sa.Text, nullable=False),
    sa.Column("state", sa.Text, nullable=False),  # waiting, working, done, failed
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("owner", sa.String(32)),
    sa.Column("owner_host", sa.Text),
    sa.Column("owner_pid", sa.Integer),
    sa.Column("owner_process", sa.Text),
    sa.Column("heartbeat_at", sa.Text),
    sa.Column("started_at", sa.Text),
    sa.Column("finished_at", sa.Text),
    sa.Column("outcome", sa.Text),
    sa.Column("detail", sa.Text),
)

#: Version 10: each account's request token bucket, shared by every worker on this ledger (core/fleet/bucket.py):
#: ``tokens`` at ``updated_at`` (Unix seconds, the database's clock), refilled at ``rate`` up to ``capacity``.
rate_buckets = sa.Table(
    "zw_rate_buckets", metadata,
    sa.Column("account", sa.Text, primary_key=True),
    sa.Column("rate", sa.Float, nullable=False),
    sa.Column("capacity", sa.Float, nullable=False),
    sa.Column("tokens", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
)
