"""A fleet run and its units of work in the ledger (``zw_fleet_runs``, ``zw_fleet_units``).

A fleet run is one rotation of a policy shared by any number of workers; its units are the (account, zone) pairs
of the policy's instances (zones never contend for quota, so they are independent). A worker claims a unit with
``SELECT ... FOR UPDATE SKIP LOCKED`` (two claimers never wait on, nor take, the same row) and owns it with the owner
columns of :mod:`..ledger.ownership`, heartbeating while it works. A unit whose owner is no longer at work (its
process gone from this host, or its heartbeat older than the policy lease, :data:`..policy.lease.LEASE_SECONDS`) is
claimed again by another worker, which resumes the zone's policy run where it stopped.

The run key says which firings share a run: the period window (``window:<start>``) when the policy has a period,
else ``unfinished`` (renamed ``finished:<id>`` once every unit ended), so workers that start while a run is
unfinished join it and a worker that starts after it finished begins the next one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy import exc

from ..ledger import Ledger
from ..ledger import schema as tables
from ..ledger.ownership import at_work, owner_fields
from ..ledger.records import now_text, who_am_i
from ..policy.lease import LEASE_SECONDS

WAITING, WORKING, DONE, FAILED = "waiting", "working", "done", "failed"
UNFINISHED_KEY = "unfinished"
OK, FAILED_RUN = "ok", "failed"


@dataclass(frozen=True)
class FleetRun:
    fleet_id: str
    account: str
    policy: str
    run_key: str
    started_at: str
    finished_at: str | None = None
    outcome: str | None = None
    who: str = ""


@dataclass(frozen=True)
class Unit:
    fleet_id: str
    zone_id: str
    account: str
    state: str
    attempts: int
    owner: str | None = None
    owner_host: str | None = None
    owner_pid: int | None = None
    owner_process: str | None = None
    heartbeat_at: str | None = None
    started_at: str | None = None
    finished_at: str | None = None
    outcome: str | None = None
    detail: str | None = None

    def held(self) -> bool:
        """Whether a live worker (of this process or another) is at work on this unit."""
        if self.state != WORKING or self.owner is None or self.heartbeat_at is None:
            return False
        return at_work(self.owner, self.owner_host, self.owner_pid, self.heartbeat_at, LEASE_SECONDS,
                       process=self.owner_process)


def _run(ledger: Ledger, account: str, policy: str, run_key: str) -> FleetRun | None:
    t = tables.fleet_runs.c
    rows = ledger._read(sa.select(tables.fleet_runs).where(t.account == account, t.policy == policy, t.run_key == run_key))
    return FleetRun(**rows[0]._mapping) if rows else None


def find_run(ledger: Ledger, account: str, policy: str, run_key: str = UNFINISHED_KEY) -> FleetRun | None:
    """The fleet run of ``policy`` under ``run_key``, if one was begun."""
    return _run(ledger, account, policy, run_key)


def get_run(ledger: Ledger, fleet_id: str) -> FleetRun | None:
    rows = ledger._read(sa.select(tables.fleet_runs).where(tables.fleet_runs.c.fleet_id == fleet_id))
    return FleetRun(**rows[0]._mapping) if rows else None


def open_run(ledger: Ledger, account: str, policy: str, run_key: str, zones: list[str]) -> tuple[FleetRun, bool]:
    """``(the fleet run, whether this call began it)``: the one under ``run_key``, else a new one with a waiting unit
    per zone, written in one transaction (a worker that loses the race to begin it joins the winner's)."""
    found = _run(ledger, account, policy, run_key)
    if found is not None:
        return found, False
    run = FleetRun(uuid.uuid4().hex, account, policy, run_key, now_text(), who=who_am_i())
    try:
        with ledger._lock, ledger.engine.begin() as connection:
            connection.execute(tables.fleet_runs.insert().values(**run.__dict__))
            if zones:
                connection.execute(tables.fleet_units.insert(), [
                    {"fleet_id": run.fleet_id, "zone_id": zone, "account": account, "state": WAITING, "attempts": 0}
                    for zone in sorted(set(zones))])
    except exc.IntegrityError:  # another worker began it first: join that one
        found = _run(ledger, account, policy, run_key)
        if found is None:
            raise
        return found, False
    return run, True


def units(ledger: Ledger, fleet_id: str) -> list[Unit]:
    """The run's units, by zone."""
    t = tables.fleet_units.c
    return [Unit(**row._mapping) for row in ledger._read(sa.select(tables.fleet_units).where(t.fleet_id == fleet_id)
                                                         .order_by(t.zone_id))]


def claim_unit(ledger: Ledger, fleet_id: str, owner: str, zone_id: str | None = None) -> Unit | None:
    """Claim the run's first unit that is waiting, or working for an owner no longer at work (taken over), for
    ``owner``; None when every other unit is done, failed or held. ``zone_id``: only that unit. Rows another claimer
    has locked are skipped (``FOR UPDATE SKIP LOCKED``; SQLite's one writer makes that moot)."""
    t = tables.fleet_units.c
    query = (sa.select(tables.fleet_units).where(t.fleet_id == fleet_id, t.state.in_([WAITING, WORKING]))
             .order_by(t.zone_id).with_for_update(skip_locked=True))
    if zone_id is not None:
        query = query.where(t.zone_id == zone_id)
    with ledger._lock, ledger.engine.begin() as connection:
        for row in connection.execute(query).all():
            unit = Unit(**row._mapping)
            if unit.held():
                continue
            now = now_text()
            values: dict[str, Any] = {**owner_fields(owner, at=now), "state": WORKING, "attempts": unit.attempts + 1,
                                      "started_at": now}
            connection.execute(tables.fleet_units.update().where(t.fleet_id == fleet_id, t.zone_id == unit.zone_id)
                               .values(**values))
            return Unit(**{**unit.__dict__, **values})
    return None


def beat(ledger: Ledger, unit: Unit) -> bool:
    """Renew ``unit``'s heartbeat; False when another worker has taken it over."""
    t = tables.fleet_units.c
    result = ledger._write(tables.fleet_units.update()
                           .where(t.fleet_id == unit.fleet_id, t.zone_id == unit.zone_id, t.owner == unit.owner,
                                  t.state == WORKING)
                           .values(heartbeat_at=now_text()))
    return result.rowcount == 1


def finish_unit(ledger: Ledger, unit: Unit, state: str, outcome: str, detail: str = "") -> bool:
    """Close ``unit`` (``done`` or ``failed``) if this worker still owns it; then close the run when no unit is left."""
    t = tables.fleet_units.c
    result = ledger._write(tables.fleet_units.update()
                           .where(t.fleet_id == unit.fleet_id, t.zone_id == unit.zone_id, t.owner == unit.owner,
                                  t.state == WORKING)
                           .values(state=state, outcome=outcome, detail=detail[:2000], finished_at=now_text(),
                                   heartbeat_at=now_text()))
    close_run_if_complete(ledger, unit.fleet_id)
    return result.rowcount == 1


def close_run_if_complete(ledger: Ledger, fleet_id: str) -> bool:
    """Finish the fleet run once none of its units is waiting or working (ok unless a unit failed); an
    ``unfinished`` key becomes ``finished:<id>``, so the next firing begins a new run."""
    r, u = tables.fleet_runs.c, tables.fleet_units.c
    left = sa.exists().where(u.fleet_id == fleet_id, u.state.in_([WAITING, WORKING]))
    failed = sa.exists().where(u.fleet_id == fleet_id, u.state == FAILED)
    rows = ledger._read(sa.select(failed))
    outcome = FAILED_RUN if rows and rows[0][0] else OK
    key = sa.case((r.run_key == UNFINISHED_KEY, sa.literal(f"finished:{fleet_id}")), else_=r.run_key)
    result = ledger._write(tables.fleet_runs.update().where(r.fleet_id == fleet_id, r.finished_at.is_(None), ~left)
                           .values(finished_at=now_text(), outcome=outcome, run_key=key))
    return result.rowcount == 1


def units_frame(ledger: Ledger, fleet_id: str) -> Any:
    """The run's units as a DataFrame (zone, state, attempts, who works on it, outcome)."""
    import pandas as pd

    columns = ["zone", "state", "attempts", "owner_host", "owner_pid", "heartbeat_at", "outcome", "detail"]
    return pd.DataFrame([[u.zone_id, u.state, u.attempts, u.owner_host or "", u.owner_pid, u.heartbeat_at or "",
                          u.outcome or "", u.detail or ""] for u in units(ledger, fleet_id)], columns=columns)
