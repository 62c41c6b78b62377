"""Apply a policy exactly once and resumably: :func:`apply_rotation_async` / :func:`apply_rotation`.

Every run is recorded (``zw_policy_runs``); before each create its step (instance, chosen name) is
written, so a run interrupted anywhere is resumed by the next: the same names, the made images found
through the ledger, the deletes still to do. Creates go through the exactly-once
:func:`~zenlayer_widgets.core.create.create_image_async`; deletes happen only once the new image is
AVAILABLE, and only of images this policy provably made. Zones are worked in parallel (bounded by
``max_parallel``), the instances of one zone one after another, so no zone's quota is ever exceeded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..._runner import run_sync
from ...api.errors import ZenlayerError
from ...api.models import Instance
from ..changes import delete_image_async
from ..create import create_image_async
from ..ledger import Ledger, account_of, ledger_for
from ..ledger.records import current_run
from ..restart import pending_restart
from ..sync import AnyClient, async_side
from .lease import LeaseLost, claim_run, ensure_held, holding
from .model import Policy
from .naming import next_name, stamp_of
from .plan import CREATE, FAIL, decide, select_instances, zone_state
from .records import (
    CREATED,
    DONE,
    FAILED,
    PLANNED,
    SKIPPED,
    Run,
    Step,
    finish_run,
    owned_images,
    save_step,
    steps_of,
)

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import AsyncZenlayerClient

log = logging.getLogger("zenlayer_widgets.core.policy")

#: ``on_step(instance_id, phase)``: phases "planned", "created" (AVAILABLE, before any delete), "done".
StepCallback = Callable[[str, str], None]


class RotationFailed(ZenlayerError):
    """A policy run ended with failures; ``outcome`` says which instances and why."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        reasons = "; ".join(f"{i.instance_id}: {i.reason}" for i in outcome.failures)
        super().__init__(f"Policy {outcome.policy}: {len(outcome.failures)} failed ({reasons}).")

    def _render_traceback_(self) -> list[str]:  # IPython's hook: the reason is the whole story, no traceback
        return [f"RotationFailed: {self}"]


@dataclass(frozen=True)
class Result:
    instance_id: str
    zone_id: str
    result: str  # created, skipped, failed
    image_name: str | None = None
    image_id: str | None = None
    deleted: tuple[str, ...] = ()
    reason: str = ""
    seconds: float = 0.0


@dataclass
class Outcome:
    policy: str
    run_id: str
    resumed: bool
    results: list[Result] = field(default_factory=list)
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # zone -> (used after the run, max)
    seconds: float = 0.0

    @property
    def failures(self) -> list[Result]:
        return [r for r in self.results if r.result == FAILED]

    @property
    def ok(self) -> bool:
        return not self.failures

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise RotationFailed(self)

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        columns = ["instance_id", "zone", "result", "image_name", "image_id", "deleted", "reason", "seconds"]
        return pd.DataFrame([[r.instance_id, r.zone_id, r.result, r.image_name or "", r.image_id or "", ", ".join(r.deleted),
                              r.reason, round(r.seconds, 2)] for r in self.results], columns=columns)

    def quota_frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([{"zone": z, "used": u, "max": m, "free": m - u} for z, (u, m) in sorted(self.quota.items())],
                            columns=["zone", "used", "max", "free"])

    def summary(self) -> str:
        counts = {k: sum(r.result == k for r in self.results) for k in ("created", SKIPPED, FAILED)}
        deleted = sum(len(r.deleted) for r in self.results)
        return (f"Policy {self.policy}{' (resumed run)' if self.resumed else ''}: {counts['created']} created, {deleted} "
                f"deleted, {counts[SKIPPED]} skipped, {counts[FAILED]} failed in {self.seconds:.1f} s.")


async def _create(client: AsyncZenlayerClient, instance: Instance, name: str, policy: Policy, ledger: Ledger,
                  poll_interval: float) -> str:
    """The exactly-once create (stopping a RUNNING instance gracefully and starting it again when the policy says
    so; a start owed by an interrupted run is finished there too), followed to AVAILABLE; the image id."""
    progress = await create_image_async(client, instance.instance_id, name, policy.image_description,
                                        stop_if_running=policy.stop_if_running, start_after=policy.start_after,
                                        ledger=ledger, poll_interval=poll_interval)
    assert progress.image_id is not None
    return progress.image_id


async def _one(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, run: Run, instance: Instance,
               step: Step | None, on_step: StepCallback | None, poll_interval: float) -> Result:
    """One instance of the run, with the zone as it is now."""
    started = time.monotonic()
    account, zone = run.account, instance.zone_id

    def result(kind: str, **values: object) -> Result:
        return Result(instance.instance_id, zone, kind, seconds=time.monotonic() - started, **values)  # type: ignore[arg-type]

    if step is not None and step.state == DONE:
        return result("created", image_name=step.image_name, image_id=step.image_id, deleted=tuple(step.deleted or ()),
                      reason="done earlier in this run")
    images, used, most = await zone_state(client, zone)
    owned = owned_images(ledger, account, policy.name)
    name = step.image_name if step is not None and step.image_name else None
    made = next((o for o in owned.values() if o.image_name == name and o.instance_id == instance.instance_id), None)
    if name is None:
        try:
            name = next_name(policy.name_prefix, run.stamp, {i.image_name for i in images})
        except ValueError:
            name = None
    item = decide(policy, instance, images, used, most, owned, name=name, made=made)
    if item.action != CREATE:
        state = FAILED if item.action == FAIL else SKIPPED
        save_step(ledger, run, instance.instance_id, zone, state, reason=item.reason)
        return result(state, reason=item.reason)
    assert item.image_name is not None
    save_step(ledger, run, instance.instance_id, zone, PLANNED, image_name=item.image_name)  # before anything is sent
    _call(on_step, instance.instance_id, PLANNED)
    deleted: list[str] = []
    if item.delete_first and item.made is None:  # the documented window with one image fewer
        oldest = item.deletes[0]
        ensure_held(ledger, run)
        await delete_image_async(client, oldest.image_id, zone_id=zone, image_name=oldest.image_name, ledger=ledger)
        deleted.append(oldest.image_id)
        save_step(ledger, run, instance.instance_id, zone, PLANNED, deleted=deleted)
    if item.made is None or pending_restart(ledger, client, instance.instance_id) is not None:
        # (a made image with a start still owed: the create workflow finds the image and finishes the start)
        image_id = await _create(client, instance, item.image_name, policy, ledger, poll_interval)
    else:
        image_id = item.made.image_id
    save_step(ledger, run, instance.instance_id, zone, CREATED, image_id=image_id)
    _call(on_step, instance.instance_id, CREATED)
    # the new image is AVAILABLE: only now the oldest owned ones beyond keep go (counted afresh)
    images, used, most = await zone_state(client, zone)
    owned = owned_images(ledger, account, policy.name)
    mine = sorted((owned[i.image_id] for i in images if i.image_id in owned and i.image_id != image_id
                   and owned[i.image_id].instance_id == instance.instance_id), key=lambda o: (o.made_at, o.image_id))
    for old in mine[:max(0, len(mine) - (policy.keep - 1))]:
        ensure_held(ledger, run)  # a fence: an apply that lost its run to another deletes nothing
        await delete_image_async(client, old.image_id, zone_id=zone, image_name=old.image_name, ledger=ledger)
        deleted.append(old.image_id)
        save_step(ledger, run, instance.instance_id, zone, CREATED, deleted=deleted)
    save_step(ledger, run, instance.instance_id, zone, DONE, deleted=deleted)
    _call(on_step, instance.instance_id, DONE)
    return result("created", image_name=item.image_name, image_id=image_id, deleted=tuple(deleted), reason=item.reason)


def _call(callback: StepCallback | None, instance_id: str, phase: str) -> None:
    if callback is not None:
        callback(instance_id, phase)


async def apply_rotation_async(
    client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
    on_step: StepCallback | None = None, poll_interval: float = 2.0,
) -> Outcome:
    """Run ``policy`` once (or finish its interrupted run): per instance create, then delete the oldest owned images
    beyond ``keep``; skips and failures are in the :class:`Outcome` (``raise_for_failures`` raises them).
    An interrupt (or a crash) leaves the run unfinished in the ledger: the next call resumes it. While a run is
    applied its lease is held (:mod:`.lease`): a second apply of the same policy raises :class:`PolicyBusy` and
    changes nothing."""
    if max_parallel < 1:
        raise ValueError("max_parallel must be at least 1")
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    account = account_of(client)
    begun = time.monotonic()
    run, resumed = claim_run(ledger, account, policy.name, policy.name_prefix, stamp_of())  # PolicyBusy: nothing done
    async with holding(ledger, run):
        tag = current_run.set(run.run_id)  # every action of the run (its tasks inherit it) says which run it was
        try:
            return await _apply_run(client, policy, ledger, run, resumed, begun, max_parallel, on_step, poll_interval)
        finally:
            current_run.reset(tag)


async def _apply_run(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, run: Run, resumed: bool, begun: float,
                     max_parallel: int, on_step: StepCallback | None, poll_interval: float) -> Outcome:
    steps = steps_of(ledger, run.run_id)
    instances, missing = await select_instances(client, policy)
    outcome = Outcome(policy.name, run.run_id, resumed)
    outcome.results.extend(Result(i, "", FAILED, reason="no such instance") for i in missing)
    gate = asyncio.Semaphore(max_parallel)
    by_zone: dict[str, list[Instance]] = {}
    for instance in instances:
        by_zone.setdefault(instance.zone_id, []).append(instance)

    async def zone_worker(members: list[Instance]) -> list[Result]:
        done = []
        for instance in members:  # one at a time per zone: the quota is counted afresh for each
            async with gate:
                try:
                    done.append(await _one(client, policy, ledger, run, instance, steps.get(instance.instance_id), on_step,
                                           poll_interval))
                except (ZenlayerError, TimeoutError, ValueError) as error:
                    reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                    if not isinstance(error, LeaseLost):  # the run's steps are the other apply's now
                        save_step(ledger, run, instance.instance_id, instance.zone_id, FAILED, reason=reason)
                    done.append(Result(instance.instance_id, instance.zone_id, FAILED, reason=reason))
        return done

    workers = [asyncio.ensure_future(zone_worker(m)) for m in by_zone.values()]
    try:
        for results in await asyncio.gather(*workers):
            outcome.results.extend(results)
    except BaseException:  # an interrupt (or a crash) in one zone stops the others too: the next run resumes them
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
    order = {i.instance_id: n for n, i in enumerate(instances)}
    outcome.results.sort(key=lambda r: order.get(r.instance_id, -1))
    states = await asyncio.gather(*(zone_state(client, z) for z in sorted(by_zone)))
    outcome.quota = {z: (used, most) for z, (_, used, most) in zip(sorted(by_zone), states, strict=True) if most}
    outcome.seconds = time.monotonic() - begun
    if not finish_run(ledger, run, "ok" if outcome.ok else "failed"):
        log.warning("policy %s: run %s was taken over before it finished; that apply closes it", policy.name,
                    run.run_id[:8])
    return outcome


def apply_rotation(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
                   on_step: StepCallback | None = None, poll_interval: float = 2.0) -> Outcome:
    """:func:`apply_rotation_async` for synchronous code (runbooks, cron via papermill)."""
    return run_sync(apply_rotation_async(client, policy, ledger, max_parallel=max_parallel, on_step=on_step,
                                poll_interval=poll_interval))
