"""The ledger's record of policy runs and steps (tables ``zw_policy_runs`` / ``zw_policy_steps``).

Ownership is by image id, never by name: an image is a policy's when one of the policy's steps recorded
that image id as the one its own create made (the step notes it as soon as CreateImage answers; a step
killed before that is matched through the create's ledger action, tagged with the run). An image made
by hand under a name a step had planned is therefore foreign. The cloud keeps no provenance, so nothing
else counts. Which owned images a policy may *delete* is narrower (see :func:`rotating`): not pinned
(:mod:`.pins`), and still named by the policy's pattern (an operator's rename takes it out).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from ..ledger import Ledger
from ..ledger import schema as tables
from ..ledger.ownership import owner_fields
from ..ledger.records import now_text, who_am_i

PLANNED, CREATED, DONE, SKIPPED, FAILED = "planned", "created", "done", "skipped", "failed"
SUBMITTED = "submitted"  # an on_step phase only (the step stays "planned", with the image id, until AVAILABLE)
#: Between a policy's name and a zone in the name of one unit's run (``nightly@FRA-A``: core/fleet).
UNIT_SEPARATOR = "@"


@dataclass(frozen=True)
class Run:
    run_id: str
    policy: str
    account: str
    name_prefix: str
    stamp: str
    started_at: str
    finished_at: str | None = None
    outcome: str | None = None
    who: str = ""
    owner: str | None = None  # the lease (core/policy/lease.py): who applies it now, and its last heartbeat
    owner_host: str | None = None
    owner_pid: int | None = None
    heartbeat_at: str | None = None
    owner_process: str | None = None  # the owner's boot, PID namespace and start time (core/ledger/ownership.py)


@dataclass(frozen=True)
class Step:
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


@dataclass(frozen=True)
class OwnedImage:
    """An image a policy made, as the ledger proves it."""

    image_id: str
    image_name: str
    instance_id: str
    zone_id: str
    made_at: str  # when the create's intent was begun (the image's age)
    policy: str


def unfinished_run(ledger: Ledger, account: str, policy: str) -> Run | None:
    """The latest run of ``policy`` that never finished (interrupted), if any."""
    t = tables.policy_runs.c
    rows = ledger._read(sa.select(tables.policy_runs).where(t.account == account, t.policy == policy, t.finished_at.is_(None))
                        .order_by(t.started_at.desc()).limit(1))
    return Run(**rows[0]._mapping) if rows else None


def begin_run(ledger: Ledger, account: str, policy: str, name_prefix: str, stamp: str, *, owner: str | None = None) -> Run:
    """Insert a new unfinished run (``sqlalchemy.exc.IntegrityError`` when the policy already has one)."""
    started = now_text()
    run = Run(uuid.uuid4().hex, policy, account, name_prefix, stamp, started, who=who_am_i(),
              **(owner_fields(owner, at=started) if owner else {}))
    ledger._write(tables.policy_runs.insert().values(**run.__dict__))
    return run


def finish_run(ledger: Ledger, run: Run, outcome: str) -> bool:
    """Close the run with ``outcome``, if it is still this run's owner's (False: another apply took it over)."""
    t = tables.policy_runs.c
    result = ledger._write(tables.policy_runs.update().where(t.run_id == run.run_id, t.owner.is_(None) if run.owner is None
                                                             else t.owner == run.owner)
                           .values(finished_at=now_text(), outcome=outcome))
    return result.rowcount == 1


def get_run(ledger: Ledger, run_id: str) -> Run | None:
    rows = ledger._read(sa.select(tables.policy_runs).where(tables.policy_runs.c.run_id == run_id))
    return Run(**rows[0]._mapping) if rows else None


def runs(ledger: Ledger, account: str | None = None, policy: str | None = None, *, limit: int | None = None) -> list[Run]:
    """Runs, newest first (the ``limit`` newest)."""
    t = tables.policy_runs.c
    query = sa.select(tables.policy_runs).order_by(t.started_at.desc()).limit(limit)
    if account is not None:
        query = query.where(t.account == account)
    if policy is not None:
        query = query.where(t.policy == policy)
    return [Run(**row._mapping) for row in ledger._read(query)]


def steps_of(ledger: Ledger, run_id: str) -> dict[str, Step]:
    """The run's steps by instance id."""
    t = tables.policy_steps.c
    return {row.instance_id: Step(**row._mapping) for row in ledger._read(sa.select(tables.policy_steps).where(t.run_id == run_id))}


def save_step(ledger: Ledger, run: Run, instance_id: str, zone_id: str, state: str, **values: Any) -> None:
    """Insert or update the run's step for ``instance_id``."""
    t = tables.policy_steps.c
    row = {"state": state, "updated_at": now_text(), **values}
    with ledger._lock, ledger.engine.begin() as connection:
        updated = connection.execute(tables.policy_steps.update().where(t.run_id == run.run_id, t.instance_id == instance_id)
                                     .values(**row)).rowcount
        if not updated:
            connection.execute(tables.policy_steps.insert().values(
                run_id=run.run_id, instance_id=instance_id, policy=run.policy, account=run.account, zone_id=zone_id, **row))


def owned_images(ledger: Ledger, account: str, policy: str | None = None) -> dict[str, OwnedImage]:
    """Image id -> :class:`OwnedImage` for every image a policy's step recorded as made by its own create (the name
    is the one the step planned; whether the image still exists, and its current name, are for the caller to check
    against the zone)."""
    s, i = tables.policy_steps.c, tables.intents.c
    query = (sa.select(s.image_id, s.image_name, s.instance_id, s.zone_id, s.updated_at, s.policy, i.started_at)
             .select_from(tables.policy_steps.outerjoin(tables.intents, sa.and_(i.account == s.account,
                                                                                 i.image_id == s.image_id)))
             .where(s.account == account, s.image_id.is_not(None)))
    found: dict[str, OwnedImage] = {}
    for row in ledger._read(query):
        if policy is not None and not of_policy(row.policy, row.zone_id, policy):
            continue
        found[row.image_id] = OwnedImage(row.image_id, row.image_name or "", row.instance_id, row.zone_id,
                                         row.started_at or row.updated_at, row.policy)
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
    the create's answer and the step's note) the create's ledger action tagged with this run."""
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
    """What each run did, newest first, from two queries (the runs, then all their steps)."""
    chosen = runs(ledger, account, policy, limit=limit)
    t = tables.policy_steps.c
    by_run: dict[str, list[Step]] = {run.run_id: [] for run in chosen}
    if chosen:
        for row in ledger._read(sa.select(tables.policy_steps).where(t.run_id.in_(list(by_run)))):
            by_run[row.run_id].append(Step(**row._mapping))
    return [_summary(run, by_run[run.run_id]) for run in chosen]


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
