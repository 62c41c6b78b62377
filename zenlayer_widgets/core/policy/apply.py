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
from ...api.models import Image, Instance
from ...rules import AVAILABLE, CREATING, UNAVAILABLE
from .. import arguments
from ..changes import delete_image_async
from ..create import ImageCreationFailed, create_image_async
from ..ledger import Ledger, account_of, ledger_for
from ..ledger.records import current_run
from ..restart import pending_restart
from ..sync import AnyClient, async_side
from .lease import LeaseLost, claim_run, ensure_held, holding
from .model import Policy
from .naming import stamp_of
from .pins import pins
from .plan import (
    CREATE,
    FAIL,
    DeleteBudget,
    Plan,
    beyond_keep,
    cap_text,
    decide,
    delete_cap,
    free_name,
    full_and_capped,
    kept_verified,
    named,
    proven_images,
    resumed_image,
    rotating,
    select_instances,
    spared,
    zone_state,
)
from .records import (
    CREATED,
    DONE,
    FAILED,
    PLANNED,
    SKIPPED,
    SUBMITTED,
    OwnedImage,
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
    from ..progress import ImageProgress

log = logging.getLogger("zenlayer_widgets.core.policy")

#: ``on_step(instance_id, phase)``: phases "planned", "submitted" (CreateImage answered, the image CREATING; its id
#: recorded), "created" (AVAILABLE, before any delete), "done".
StepCallback = Callable[[str, str], None]


class RotationFailed(ZenlayerError):
    """A policy run ended with failures; ``outcome`` says which instances and why."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        reasons = "; ".join(f"{i.instance}: {i.reason}" for i in outcome.failures)
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
    instance_name: str = ""

    @property
    def instance(self) -> str:
        """The instance as an operator reads it: its name, then its id."""
        return f"{self.instance_name} ({self.instance_id})" if self.instance_name else self.instance_id


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

        columns = ["instance_id", "instance", "zone", "result", "image_name", "image_id", "deleted", "reason", "seconds"]
        return pd.DataFrame([[r.instance_id, r.instance_name, r.zone_id, r.result, r.image_name or "", r.image_id or "", ", ".join(r.deleted),
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
                  poll_interval: float, on_made: Callable[[str], None]) -> str:
    """The exactly-once create (stopping a RUNNING instance gracefully and starting it again when the policy says
    so; a start owed by an interrupted run is finished there too), followed to its end; the image id.
    ``on_made(image_id)`` as soon as CreateImage answered (the image is CREATING)."""
    noted: set[str] = set()

    def progressed(progress: ImageProgress) -> None:
        if progress.image_id is not None and progress.image_id not in noted:
            noted.add(progress.image_id)
            on_made(progress.image_id)

    progress = await create_image_async(client, instance.instance_id, name, policy.image_description,
                                        stop_if_running=policy.stop_if_running, start_after=policy.start_after,
                                        ledger=ledger, poll_interval=poll_interval, on_progress=progressed)
    assert progress.image_id is not None
    return progress.image_id


async def _one(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, run: Run, instance: Instance,
               step: Step | None, on_step: StepCallback | None, poll_interval: float, budget: DeleteBudget,
               planned: str | None) -> Result:
    """One instance of the run, with the zone as it is now. Nothing is deleted (the zone-full case aside, which
    never takes the newest AVAILABLE image) until this run's new image for the instance is AVAILABLE."""
    started = time.monotonic()
    account, zone = run.account, instance.zone_id

    def result(kind: str, **values: object) -> Result:
        return Result(instance.instance_id, zone, kind, seconds=time.monotonic() - started,
                      instance_name=instance.instance_name, **values)  # type: ignore[arg-type]

    if step is not None and step.state == DONE:
        return result("created", image_name=step.image_name, image_id=step.image_id, deleted=tuple(step.deleted or ()),
                      reason="done earlier in this run")
    images, used, most = await zone_state(client, zone)
    owned, pinned = owned_images(ledger, account, policy.name), set(pins(ledger, account))
    made = resumed_image(ledger, run, step, instance, owned)
    taken = {i.image_name for i in images}
    name = step.image_name if step is not None and step.image_name and step.state in (PLANNED, CREATED) else planned
    if name is None or (made is None and name in taken):  # a name taken meanwhile (by hand, say) is not ours
        name = free_name(policy, run.stamp, taken)
    proven = proven_images(ledger, account, [i.image_id for i in images if i.image_id in owned])
    item = decide(policy, instance, images, used, most, owned, name=name, made=made, pinned=pinned, proven=proven)
    if item.action != CREATE:
        state = FAILED if item.action == FAIL else SKIPPED
        save_step(ledger, run, instance.instance_id, zone, state, reason=item.reason)
        return result(state, reason=item.reason, image_id=made.image_id if made else None)
    assert item.image_name is not None
    image_name = item.image_name
    save_step(ledger, run, instance.instance_id, zone, PLANNED, image_name=image_name)  # before anything is sent
    _call(on_step, instance.instance_id, PLANNED)
    deleted: list[str] = []
    notes: list[str] = [item.reason] if item.reason else []
    if item.delete_first and item.made is None:  # the documented window with one image fewer
        oldest = item.deletes[0]
        if not budget.take():
            reason = full_and_capped(zone, budget.most)
            save_step(ledger, run, instance.instance_id, zone, FAILED, reason=reason)
            return result(FAILED, reason=reason)
        ensure_held(ledger, run)
        await delete_image_async(client, oldest.image_id, zone_id=zone, image_name=oldest.image_name, ledger=ledger)
        deleted.append(oldest.image_id)
        save_step(ledger, run, instance.instance_id, zone, PLANNED, deleted=deleted)

    def made_now(image_id: str) -> None:  # recorded at create time: the policy owns this id, whatever its name
        save_step(ledger, run, instance.instance_id, zone, PLANNED, image_id=image_id)
        _call(on_step, instance.instance_id, SUBMITTED)

    made_status = _status(images, item.made)
    if item.made is None or made_status != AVAILABLE or pending_restart(ledger, client, instance.instance_id) is not None:
        # a new create; or the interrupted run's image followed to its end (and a start still owed finished)
        try:
            image_id = await _create(client, instance, image_name, policy, ledger, poll_interval, made_now)
        except ImageCreationFailed as error:
            reason = (f"the new image {image_name} ({zone}) ended {error.progress.status or UNAVAILABLE}; nothing "
                      "deleted, the older images are kept")
            save_step(ledger, run, instance.instance_id, zone, FAILED, reason=reason)
            return result(FAILED, image_name=image_name, image_id=error.progress.image_id, deleted=tuple(deleted),
                          reason=reason)
    else:
        image_id = item.made.image_id
    images, used, most = await zone_state(client, zone)  # fresh: the new image must be AVAILABLE before any delete
    status = next((i.image_status for i in images if i.image_id == image_id), None)
    if status != AVAILABLE:
        ended = "is gone" if status is None else f"is still {status}" if status == CREATING else f"ended {status}"
        reason = f"the new image {image_name} ({zone}) {ended}, never AVAILABLE; nothing deleted, the older images are kept"
        save_step(ledger, run, instance.instance_id, zone, FAILED, image_id=image_id, reason=reason)
        return result(FAILED, image_name=image_name, image_id=image_id, deleted=tuple(deleted), reason=reason)
    save_step(ledger, run, instance.instance_id, zone, CREATED, image_id=image_id)
    _call(on_step, instance.instance_id, CREATED)
    # the new image is AVAILABLE: only now the oldest owned ones beyond keep go (counted afresh, current names)
    owned, pinned = owned_images(ledger, account, policy.name), set(pins(ledger, account))
    mine = [o for o in rotating(policy, instance.instance_id, images, owned, pinned) if o.image_id != image_id]
    status_now = {i.image_id: i.image_status for i in images}
    verified_kept = kept_verified(policy, mine, status_now, proven_images(ledger, account, [o.image_id for o in mine]))
    notes.extend(spared(beyond_keep(mine, status_now, policy.keep), verified_kept))
    going = beyond_keep(mine, status_now, policy.keep, verified_kept)
    for old in going:
        if not budget.take():
            kept = [named(o) for o in going if o.image_id not in deleted]
            notes.append(f"{cap_text(budget.most)}: {', '.join(kept)} kept for a later run")
            break
        ensure_held(ledger, run)  # a fence: an apply that lost its run to another deletes nothing
        await delete_image_async(client, old.image_id, zone_id=zone, image_name=old.image_name, ledger=ledger)
        deleted.append(old.image_id)
        save_step(ledger, run, instance.instance_id, zone, CREATED, deleted=deleted)
    save_step(ledger, run, instance.instance_id, zone, DONE, deleted=deleted)
    _call(on_step, instance.instance_id, DONE)
    return result("created", image_name=image_name, image_id=image_id, deleted=tuple(deleted), reason="; ".join(notes))


def _status(images: list[Image], image: OwnedImage | None) -> str | None:
    """The zone's status of ``image`` (None: no image, or not in the zone)."""
    if image is None:
        return None
    return next((i.image_status for i in images if i.image_id == image.image_id), None)


def _call(callback: StepCallback | None, instance_id: str, phase: str) -> None:
    if callback is not None:
        callback(instance_id, phase)


async def apply_rotation_async(
    client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
    on_step: StepCallback | None = None, poll_interval: float = 2.0, plan: Plan | None = None,
) -> Outcome:
    """Run ``policy`` once (or finish its interrupted run): per instance create, then, once the new image is
    AVAILABLE, delete the oldest owned images beyond ``keep`` (at most ``policy.max_deletes`` in the run); skips and
    failures are in the :class:`Outcome` (``raise_for_failures`` raises them). ``plan``: a preview of this policy
    (:func:`~.plan.plan_rotation`); its image names are the ones created (the minute may have changed since).
    An interrupt (or a crash) leaves the run unfinished in the ledger: the next call resumes it. While a run is
    applied its lease is held (:mod:`.lease`): a second apply of the same policy raises :class:`PolicyBusy` and
    changes nothing."""
    arguments.of_type(policy, Policy, "policy")
    arguments.optional_of_type(ledger, Ledger, "ledger")
    arguments.whole(max_parallel, "max_parallel", 1)
    arguments.callback(on_step, "on_step")
    arguments.poll_interval(poll_interval)
    arguments.optional_of_type(plan, Plan, "plan")
    if plan is not None and plan.policy != policy:
        raise ValueError(f"The plan is of another policy ({plan.policy.name}, or its settings changed): preview "
                         "again; nothing was sent")
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    account = account_of(client)
    begun = time.monotonic()
    stamp = plan.stamp if plan is not None else stamp_of()
    run, resumed = claim_run(ledger, account, policy.name, policy.name_prefix, stamp)  # PolicyBusy: nothing done
    names = {i.instance_id: i.image_name for i in plan.items if i.image_name} if plan is not None else {}
    async with holding(ledger, run):
        tag = current_run.set(run.run_id)  # every action of the run (its tasks inherit it) says which run it was
        try:
            return await _apply_run(client, policy, ledger, run, resumed, begun, max_parallel, on_step, poll_interval,
                                    names if run.stamp == stamp else {})
        finally:
            current_run.reset(tag)


async def _apply_run(client: AsyncZenlayerClient, policy: Policy, ledger: Ledger, run: Run, resumed: bool, begun: float,
                     max_parallel: int, on_step: StepCallback | None, poll_interval: float,
                     names: dict[str, str]) -> Outcome:
    steps = steps_of(ledger, run.run_id)
    instances, missing = await select_instances(client, policy)
    budget = DeleteBudget(delete_cap(policy, len(instances)))
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
                                           poll_interval, budget, names.get(instance.instance_id)))
                except (ZenlayerError, TimeoutError, ValueError) as error:
                    reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
                    if not isinstance(error, LeaseLost):  # the run's steps are the other apply's now
                        save_step(ledger, run, instance.instance_id, instance.zone_id, FAILED, reason=reason)
                    done.append(Result(instance.instance_id, instance.zone_id, FAILED, reason=reason,
                                       instance_name=instance.instance_name))
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
                   on_step: StepCallback | None = None, poll_interval: float = 2.0, plan: Plan | None = None) -> Outcome:
    """:func:`apply_rotation_async` for synchronous code (runbooks, cron via papermill)."""
    return run_sync(apply_rotation_async(client, policy, ledger, max_parallel=max_parallel, on_step=on_step,
                                         poll_interval=poll_interval, plan=plan))
