"""Work a rotation as one of many workers: :func:`work_units` / :func:`work_units_async`.

Every worker (cron on several machines, jupyter-scheduler, an Airflow task per unit) calls the same function with
the same policy and ledger (PostgreSQL for several machines). The first to come begins the fleet run with one unit
per zone of the policy's instances (:mod:`.units`); every worker then claims units until none is left, applying the
policy to each unit's zone with :func:`~zenlayer_widgets.core.policy.apply_rotation_async` (its exactly-once creates,
resumable steps and deletes only after the new image is AVAILABLE). A unit's policy run is recorded as
``<policy>@<zone>``; the policy's ownership of its images covers those runs too. A worker killed mid-unit leaves its
unit and that zone's policy run unfinished: another worker claims it once its owner is gone (at once on the same
host, else when its heartbeat is older than the lease) and resumes it, so no image is made twice.

``rate_limit`` (requests per second) paces every request of the worker through the account's shared token bucket
in the ledger (:class:`.bucket.LedgerBucket`), so the workers together stay under the account's limit.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..._runner import run_sync
from ...api.errors import ZenlayerError
from ...api.throttle import RateLimiter
from .. import arguments
from ..ledger import Ledger, account_of, ledger_for
from ..ledger.ownership import live_owners, new_owner, working
from ..policy import Outcome, Policy, PolicyBusy, apply_rotation_async
from ..policy.lease import HEARTBEAT_SECONDS, LEASE_SECONDS
from ..policy.plan import select_instances
from ..policy.records import UNIT_SEPARATOR
from ..sync import AnyClient, async_side
from ..windows import parse_period, window_start
from . import units as store
from .bucket import LedgerBucket

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import AsyncZenlayerClient

log = logging.getLogger("zenlayer_widgets.core.fleet")

#: How often a worker with nothing to claim looks again (for units to take over) while others still work.
IDLE_POLL_SECONDS = 2.0


def unit_policy(policy: Policy, zone_id: str) -> Policy:
    """The policy as applied to one unit: only ``zone_id``'s instances, its run recorded as ``<name>@<zone>``."""
    return dataclasses.replace(policy, zones=(zone_id,), name=f"{policy.name}{UNIT_SEPARATOR}{zone_id}", period="", catch_up=False)


@dataclass
class FleetOutcome:
    """What this worker did in the fleet run ``fleet_id`` (``units``: the outcome of each unit it finished)."""

    policy: str
    fleet_id: str
    began: bool
    units: dict[str, Outcome] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # zone -> why its unit failed without an outcome
    ledger: Ledger | None = field(default=None, repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors and all(o.ok for o in self.units.values())

    def summary(self) -> str:
        made = sum(r.result == "created" for o in self.units.values() for r in o.results)
        failed = sum(len(o.failures) for o in self.units.values()) + len(self.errors)
        return (f"Policy {self.policy}, fleet run {self.fleet_id[:8]}: this worker finished {len(self.units) + len(self.errors)} "
                f"unit(s) ({', '.join(sorted([*self.units, *self.errors])) or 'none'}): {made} created, {failed} failed.")

    def frame(self) -> pd.DataFrame:
        """One row per instance of the units this worker finished."""
        import pandas as pd

        frames = [o.frame() for o in self.units.values()]
        return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()

    def units_frame(self) -> pd.DataFrame:
        """Every unit of the fleet run (all workers'), as the ledger has them now."""
        assert self.ledger is not None
        frame: pd.DataFrame = store.units_frame(self.ledger, self.fleet_id)
        return frame

    def raise_for_failures(self) -> None:
        for outcome in self.units.values():
            outcome.raise_for_failures()
        if self.errors:
            raise FleetUnitFailed(self)


class FleetUnitFailed(ZenlayerError):
    """A unit of the fleet run failed before its rotation could say what happened."""

    def __init__(self, outcome: FleetOutcome) -> None:
        self.outcome = outcome
        super().__init__("; ".join(f"{zone}: {why}" for zone, why in sorted(outcome.errors.items())))


def run_key(policy: Policy) -> str:
    """Which firings share a run: the policy's current period window, else whichever run is unfinished."""
    period = parse_period(policy.period)
    if period is None:
        return store.UNFINISHED_KEY
    return f"window:{window_start(datetime.now(timezone.utc), period).isoformat()}"


@contextlib.asynccontextmanager
async def _paced(client: AsyncZenlayerClient, limiter: RateLimiter | None) -> AsyncIterator[None]:
    if limiter is None:
        yield
        return
    before, client.rate_limiter = client.rate_limiter, limiter
    try:
        yield
    finally:
        client.rate_limiter = before


async def _heartbeat(ledger: Ledger, unit: store.Unit) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        try:
            if not store.beat(ledger, unit):
                log.warning("unit %s of fleet run %s was taken over by another worker", unit.zone_id, unit.fleet_id[:8])
                return
        except ZenlayerError as error:  # LedgerError: the next beat tries again
            log.warning("unit %s: the heartbeat could not be written (%s)", unit.zone_id, type(error).__name__)


async def _apply_unit(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, unit: store.Unit,
                      poll_interval: float) -> Outcome:
    """The zone's rotation; waits out a policy run still held by the unit's previous (dying) owner."""
    waited = 0.0
    while True:
        try:
            return await apply_rotation_async(client, unit_policy(policy, unit.zone_id), ledger, max_parallel=1,
                                              poll_interval=poll_interval)
        except PolicyBusy:
            if waited > 2 * LEASE_SECONDS:
                raise
            await asyncio.sleep(IDLE_POLL_SECONDS)
            waited += IDLE_POLL_SECONDS


async def _work_one(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, unit: store.Unit, poll_interval: float,
                    result: FleetOutcome) -> None:
    assert unit.owner is not None
    with working(unit.owner):  # claimed as live already (work_units_async); released when the unit ends
        beat = asyncio.ensure_future(_heartbeat(ledger, unit))
        try:
            outcome = await _apply_unit(client, policy, ledger, unit, poll_interval)
        except (ZenlayerError, TimeoutError, ValueError) as error:
            reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
            result.errors[unit.zone_id] = reason
            store.finish_unit(ledger, unit, store.FAILED, store.FAILED_RUN, reason)
            return
        finally:
            beat.cancel()
            await asyncio.gather(beat, return_exceptions=True)
        result.units[unit.zone_id] = outcome
        state = store.DONE if outcome.ok else store.FAILED
        store.finish_unit(ledger, unit, state, store.OK if outcome.ok else store.FAILED_RUN, outcome.summary())


async def work_units_async(
    client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
    rate_limit: float | None = None, zone: str | None = None, poll_interval: float = 2.0, wait: bool = True,
) -> FleetOutcome:
    """Work ``policy``'s shared fleet run as one worker: begin it (one unit per zone) or join it, then claim and apply
    units, ``max_parallel`` at a time, until none is left. ``zone``: only that zone's unit (one Airflow task per unit).
    ``rate_limit``: requests per second for the account, shared with every worker through the ledger. ``wait``: stay
    until the other workers' units end too (to take over one whose worker dies); False: leave when nothing is left
    to claim. Failures are in the :class:`FleetOutcome` (``raise_for_failures`` raises them)."""
    arguments.of_type(policy, Policy, "policy")
    arguments.optional_of_type(ledger, Ledger, "ledger")
    arguments.whole(max_parallel, "max_parallel", 1)
    arguments.poll_interval(poll_interval)
    if zone is not None:
        arguments.of_type(zone, str, "zone")
    aclient = async_side(client)
    ledger = ledger_for(aclient) if ledger is None else ledger
    account = account_of(aclient)
    limiter = LedgerBucket(ledger, account, rate_limit) if rate_limit is not None else None
    key = run_key(policy)
    async with _paced(aclient, limiter):
        fleet = store.find_run(ledger, account, policy.name, key)
        began = False
        if fleet is None:
            instances, missing = await select_instances(aclient, policy)
            if missing:
                log.warning("policy %s: no such instance(s): %s", policy.name, ", ".join(missing))
            fleet, began = store.open_run(ledger, account, policy.name, key, [i.zone_id for i in instances])
        result = FleetOutcome(policy.name, fleet.fleet_id, began, ledger=ledger)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while True:
                while len(tasks) < max_parallel:
                    owner = new_owner()
                    live_owners.add(owner)  # at work from the claim on: this process's next claim must skip the unit
                    unit = store.claim_unit(ledger, fleet.fleet_id, owner, zone)
                    if unit is None:
                        live_owners.discard(owner)
                        break
                    log.info("policy %s: unit %s claimed (attempt %d)", policy.name, unit.zone_id, unit.attempts)
                    tasks.add(asyncio.ensure_future(_work_one(aclient, policy, ledger, unit, poll_interval, result)))
                if not tasks:
                    left = [u for u in store.units(ledger, fleet.fleet_id)
                            if u.state in (store.WAITING, store.WORKING) and (zone is None or u.zone_id == zone)]
                    if not left or not wait:
                        break
                    # a unit still waiting was only locked by another worker's claim: look again soon
                    await asyncio.sleep(0.2 if any(u.state == store.WAITING for u in left) else IDLE_POLL_SECONDS)
                    continue
                done, tasks = await asyncio.wait(tasks, timeout=IDLE_POLL_SECONDS, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    task.result()
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        store.close_run_if_complete(ledger, fleet.fleet_id)
    return result


def work_units(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
               rate_limit: float | None = None, zone: str | None = None, poll_interval: float = 2.0,
               wait: bool = True) -> FleetOutcome:
    """:func:`work_units_async` for synchronous code (runbooks, cron via papermill, an Airflow task)."""
    return run_sync(work_units_async(client, policy, ledger, max_parallel=max_parallel, rate_limit=rate_limit, zone=zone,
                                     poll_interval=poll_interval, wait=wait))


def fleet_units(client: AnyClient, policy: Policy, ledger: Ledger | None = None) -> list[str]:
    """The zones of ``policy``'s current fleet run still to work (waiting or working), beginning the run when none
    is open: what an orchestrator maps its tasks over (Airflow's dynamic task mapping)."""
    return run_sync(fleet_units_async(client, policy, ledger))


async def fleet_units_async(client: AnyClient, policy: Policy, ledger: Ledger | None = None) -> list[str]:
    """:func:`fleet_units` for async code."""
    aclient = async_side(client)
    ledger = ledger_for(aclient) if ledger is None else ledger
    account, key = account_of(aclient), run_key(policy)
    fleet = store.find_run(ledger, account, policy.name, key)
    if fleet is None:
        instances, _ = await select_instances(aclient, policy)
        fleet, _ = store.open_run(ledger, account, policy.name, key, [i.zone_id for i in instances])
    return [u.zone_id for u in store.units(ledger, fleet.fleet_id) if u.state in (store.WAITING, store.WORKING)]
