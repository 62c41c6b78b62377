"""The ledger's record of rotation runs, on the durable-operation engine (core/operations).

A run is one operation of kind ``rotation`` (key ``rotation:<policy>``: its lease, and one unfinished run per
policy); each instance of it is one operation of kind ``rotate`` (key ``rotate:<run id>:<instance id>``), whose
``image_id`` is written as soon as its create answers. Runs and steps written before version 9 were carried into
these by migration 9 (an unfinished step of theirs is a ``moved`` operation: the resuming apply plans it again).

Ownership is by image id, never by name: an image is a policy's when one of the policy's operations recorded that
image id as the one its own create made (a process killed before that note is matched through the create's ledger
action, tagged with the run). An image made by hand under a name a step had planned is therefore foreign. The
cloud keeps no provenance, so nothing else counts. Which owned images a policy may *delete* is narrower (see
:func:`.plan.rotating`): not pinned (:mod:`.pins`), and still named by the policy's pattern (a rename takes it out).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..ledger import Ledger
from ..ledger import schema as tables
from ..operations import SUCCEEDED, Operation, store

PLANNED, CREATED, DONE, SKIPPED, FAILED = "planned", "created", "done", "skipped", "failed"
SUBMITTED = "submitted"  # an on_step phase only (the operation is unfinished, with the image id, until AVAILABLE)
#: An instance's step carried over from before version 9 that its run had not finished: planned again on resume.
MOVED = "moved"
RUN_KIND, INSTANCE_KIND = "rotation", "rotate"
#: Step kinds of an instance's operation (core/policy/steps.py).
CREATE_STEP, WAIT_STEP, CREATED_STEP, DELETE_STEP = "rotate_image", "rotate_wait", "rotate_created", "rotate_delete"


def run_key(policy: str) -> str:
    return f"rotation:{policy}"


def instance_key(run_id: str, instance_id: str) -> str:
    return f"rotate:{run_id}:{instance_id}"
#: Between a policy's name and a zone in the name of one unit's run (``nightly@FRA-A``: core/fleet).
UNIT_SEPARATOR = "@"


@dataclass(frozen=True)
class Run:
    """A policy run as the ledger holds it (its ``rotation`` operation)."""

    run_id: str
    policy: str
    account: str
    name_prefix: str
    stamp: str
    started_at: str
    finished_at: str | None = None
    outcome: str | None = None
    who: str = ""
    owner: str | None = None  # the lease (the operation's): who applies it now, and its last heartbeat
    owner_host: str | None = None
    owner_pid: int | None = None
    heartbeat_at: str | None = None
    owner_process: str | None = None  # the owner's boot, PID namespace and start time (core/ledger/ownership.py)


def run_of(operation: Operation | sa.Row[Any]) -> Run:
    """The run a ``rotation`` operation (or its row) records."""
    params = operation.params or {}
    return Run(operation.operation_id, params.get("policy", ""), operation.account, params.get("name_prefix", ""),
               params.get("stamp", ""), operation.started_at, operation.finished_at, operation.outcome, operation.who,
               operation.owner, operation.owner_host, operation.owner_pid, operation.heartbeat_at, operation.owner_process)


@dataclass(frozen=True)
class Step:
    """One instance of a run, as its latest operation says."""

    run_id: str
    instance_id: str
    policy: str
    account: str
    zone_id: str
    image_name: str | None
    image_id: str | None
    state: str
    reason: str | None
    deleted: list[str] | None
    updated_at: str


def deleted_of(operation: Operation) -> list[str]:
    """The images an instance's operation deleted (a carried-over step lists them in its facts)."""
    carried = list(operation.facts.get("deleted") or [])
    return carried + [s.result["deleted_image_id"] for s in operation.steps
                      if s.kind == DELETE_STEP and s.state == DONE and s.result and s.result.get("deleted_image_id")]


def kept_of(operation: Operation) -> list[str]:
    """Why planned deletes did not happen (the guards checked right before each delete)."""
    return [s.result["kept"] for s in operation.steps if s.kind == DELETE_STEP and s.result and s.result.get("kept")]


def reason_of(operation: Operation) -> str:
    """Why an instance's operation ended as it did, in an operator's words, from the ledger alone."""
    if operation.facts.get("reason"):
        return str(operation.facts["reason"])
    failed = operation.failed_step()
    name, zone = operation.params.get("image_name"), operation.zone_id
    if failed is not None:
        code = failed.error_code or failed.error_type or "FAILED"
        if failed.kind in (CREATE_STEP, WAIT_STEP):
            why = code if failed.error_type in (None, "StepFailed") else f"{failed.error_type}: {code}"
            return (f"the new image {name} ({zone}) failed ({why}), never AVAILABLE; nothing deleted, the older images "
                    "are kept")
        return f"step {failed.kind} failed ({code})"
    return "; ".join([*operation.params.get("notes", []), *kept_of(operation)])


def _state(operation: Operation) -> str:
    if operation.finished:
        return {SUCCEEDED: DONE, SKIPPED: SKIPPED, MOVED: PLANNED}.get(operation.outcome or "", FAILED)
    wait = operation.step(WAIT_STEP)
    return CREATED if wait is not None and wait.state == DONE else PLANNED


def step_of(operation: Operation) -> Step:
    params = operation.params
    return Step(params.get("run_id", ""), operation.instance_id or "", params.get("policy", ""), operation.account,
                operation.zone_id or "", params.get("image_name"), operation.image_id, _state(operation),
                reason_of(operation) or None, deleted_of(operation), operation.updated_at)


_ops = tables.operations


def unfinished_run(ledger: Ledger, account: str, policy: str) -> Run | None:
    """The run of ``policy`` that never finished (interrupted), if any."""
    found = store.unfinished(ledger, account, run_key(policy))
    return run_of(found) if found is not None else None


def get_run(ledger: Ledger, run_id: str) -> Run | None:
    found = store.get(ledger, run_id)
    return run_of(found) if found is not None and found.kind == RUN_KIND else None


def runs(ledger: Ledger, account: str | None = None, policy: str | None = None, *, limit: int | None = None) -> list[Run]:
    """Runs, newest first (the ``limit`` newest)."""
    query = sa.select(_ops).where(_ops.c.kind == RUN_KIND).order_by(_ops.c.started_at.desc()).limit(limit)
    if account is not None:
        query = query.where(_ops.c.account == account)
    if policy is not None:
        query = query.where(_ops.c.key == run_key(policy))
    return [run_of(row) for row in ledger._read(query)]


def operations_of(ledger: Ledger, run_id: str) -> dict[str, Operation]:
    """The run's latest operation per instance id."""
    return _instance_operations(ledger, [run_id]).get(run_id, {})


def _instance_operations(ledger: Ledger, run_ids: list[str]) -> dict[str, dict[str, Operation]]:
    """Run id -> instance id -> its latest operation, for every run of ``run_ids`` (three reads per 100 runs)."""
    found: dict[str, dict[str, Operation]] = {}
    for start in range(0, len(run_ids), 100):  # a short OR per read (SQLite limits an expression's depth)
        batch = run_ids[start:start + 100]
        rows = ledger._read(sa.select(_ops.c.operation_id).where(
            _ops.c.kind == INSTANCE_KIND, sa.or_(*(_ops.c.key.like(instance_key(run_id, "%")) for run_id in batch)))
            .order_by(_ops.c.started_at, _ops.c.updated_at))
        for operation in store.get_many(ledger, [row.operation_id for row in rows]):
            if operation.instance_id:
                found.setdefault(operation.params.get("run_id", ""), {})[operation.instance_id] = operation
    return found


def steps_of(ledger: Ledger, run_id: str) -> dict[str, Step]:
    """The run's steps by instance id."""
    return {instance_id: step_of(operation) for instance_id, operation in operations_of(ledger, run_id).items()}


@dataclass(frozen=True)
class OwnedImage:
    """An image a policy made, as the ledger proves it."""

    image_id: str
    image_name: str
    instance_id: str
    zone_id: str
    made_at: str  # when the create's intent was begun (the image's age)
    policy: str


def owned_images(ledger: Ledger, account: str, policy: str | None = None) -> dict[str, OwnedImage]:
    """Image id -> :class:`OwnedImage` for every image a policy's operation recorded as made by its own create (the
    name is the one it planned; whether the image still exists, and its current name, are for the caller to check
    against the zone)."""
    o, i = _ops.c, tables.intents.c
    query = (sa.select(o.image_id, o.params, o.instance_id, o.zone_id, o.started_at, i.started_at.label("made_at"))
             .select_from(_ops.outerjoin(tables.intents, sa.and_(i.account == o.account, i.image_id == o.image_id)))
             .where(o.account == account, o.kind == INSTANCE_KIND, o.image_id.is_not(None))
             .order_by(o.started_at))
    found: dict[str, OwnedImage] = {}
    for row in ledger._read(query):
        params = row.params or {}
        if policy is None or of_policy(params.get("policy"), row.zone_id, policy):
            found[row.image_id] = OwnedImage(row.image_id, params.get("image_name") or "", row.instance_id or "",
                                             row.zone_id or "", row.made_at or row.started_at, params.get("policy", ""))
    return found


def of_policy(recorded: str | None, zone_id: str | None, policy: str) -> bool:
    """Whether a step recorded under ``recorded`` (in ``zone_id``) is ``policy``'s: its own, one of its units' runs
    (``<policy>@<zone>``: workers sharing a fleet run, core/fleet) in that unit's zone, and, for a unit, the whole
    policy's. One policy owns the same images however its runs were split."""
    base, unit, _ = policy.rpartition(UNIT_SEPARATOR)
    names = (policy, base) if unit else (policy,)
    return recorded in names or any(recorded == f"{name}{UNIT_SEPARATOR}{zone_id}" for name in names)


def made_by_run(ledger: Ledger, run: Run, step: Step | None, instance_id: str) -> str | None:
    """The image id this run's create made for ``instance_id``: the step's record, else (a process killed between
    the create's answer and the note) the create's ledger action tagged with this run."""
    if step is not None and step.image_id:
        return step.image_id
    a = tables.actions.c
    rows = ledger._read(sa.select(a.image_id).where(a.run_id == run.run_id, a.kind == "create", a.instance_id == instance_id,
                                                    a.account == run.account, a.image_id.is_not(None))
                        .order_by(a.action_id.desc()).limit(1))
    return rows[0].image_id if rows else None


@dataclass(frozen=True)
class RunSummary:
    """What one run did, from its steps: the images it made, the ones it deleted, what it skipped or failed."""

    run: Run
    instances: tuple[str, ...]
    zones: tuple[str, ...]
    created: tuple[str, ...]  # image names
    deleted: tuple[str, ...]  # image ids
    skipped: int
    failed: int

    def text(self) -> str:
        made = f"{len(self.created)} created" + (f" ({', '.join(self.created)})" if self.created else "")
        gone = f"{len(self.deleted)} deleted" + (f" ({', '.join(self.deleted)})" if self.deleted else "")
        return f"{made}, {gone}, {self.skipped} skipped, {self.failed} failed, of {len(self.instances)} instances"


def summaries(ledger: Ledger, account: str | None = None, policy: str | None = None, *,
              limit: int | None = None) -> list[RunSummary]:
    """What each run did, newest first (four reads in all)."""
    chosen = runs(ledger, account, policy, limit=limit)
    by_run = _instance_operations(ledger, [run.run_id for run in chosen])
    return [_summary(run, [step_of(o) for o in by_run.get(run.run_id, {}).values()]) for run in chosen]


def _summary(run: Run, steps: list[Step]) -> RunSummary:
    steps = sorted(steps, key=lambda s: (s.zone_id, s.instance_id))
    return RunSummary(
        run, tuple(s.instance_id for s in steps), tuple(sorted({s.zone_id for s in steps})),
        tuple(s.image_name or "" for s in steps if s.state in (CREATED, DONE) and s.image_id),
        tuple(i for s in steps for i in (s.deleted or [])),
        sum(s.state == SKIPPED for s in steps), sum(s.state == FAILED for s in steps))


def runs_frame(ledger: Ledger, account: str | None = None, policy: str | None = None) -> Any:
    """Policy runs as one row each, newest first, with their creates and deletes (what an activity view lists)."""
    import pandas as pd

    rows = []
    for done in summaries(ledger, account, policy):
        run = done.run
        rows.append({
            "started": run.started_at, "finished": run.finished_at or "(unfinished: the next run resumes it)",
            "policy": run.policy, "outcome": run.outcome or "", "created": ", ".join(done.created),
            "deleted": ", ".join(done.deleted), "skipped": done.skipped, "failed": done.failed,
            "who": run.who, "run_id": run.run_id,
        })
    columns = ["started", "finished", "policy", "outcome", "created", "deleted", "skipped", "failed", "who", "run_id"]
    return pd.DataFrame(rows, columns=columns)
