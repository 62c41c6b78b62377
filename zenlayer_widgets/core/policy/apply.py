"""Apply a policy exactly once and resumably: :func:`apply_rotation_async` / :func:`apply_rotation`.

A run is one ``rotation`` operation (its lease: one apply of a policy at a time, :mod:`.lease`) and a group of
``rotate`` operations, one per instance (:mod:`.rotate`), each written with its whole plan before anything is sent
and driven by the engine's one driver (core/operations): so a run interrupted anywhere is resumed, or taken over,
by the next apply: the same names, the made images followed to their end first, the deletes still to do. Creates go
through the exactly-once :func:`~zenlayer_widgets.core.create.create_image_async`; deletes happen only once the new
image is AVAILABLE, and only of images this policy provably made (:mod:`.steps`). Zones are worked in parallel
(bounded by ``max_parallel``), the instances of one zone one after another, so no zone's quota is ever exceeded.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..._runner import run_sync
from ...api.errors import ZenlayerError
from ...api.models import Instance
from .. import arguments
from ..ledger import Ledger, account_of, ledger_for
from ..ledger.records import current_run
from ..operations import Driver
from ..sync import AnyClient, async_side
from . import steps as _steps  # noqa: F401 - registers the rotation's step kinds with the driver
from .lease import LeaseLost, claim_run, finish_run, holding
from .model import Policy
from .naming import stamp_of
from .plan import DeleteBudget, Plan, delete_cap, select_instances, zone_state
from .records import FAILED, SKIPPED, Run
from .rotate import InstanceRotation, Result, StepCallback, by_zone, record

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import AsyncZenlayerClient

log = logging.getLogger("zenlayer_widgets.core.policy")

__all__ = ["Outcome", "Result", "RotationFailed", "StepCallback", "apply_rotation", "apply_rotation_async"]


class RotationFailed(ZenlayerError):
    """A policy run ended with failures; ``outcome`` says which instances and why."""

    def __init__(self, outcome: Outcome) -> None:
        self.outcome = outcome
        reasons = "; ".join(f"{i.instance}: {i.reason}" for i in outcome.failures)
        super().__init__(f"Policy {outcome.policy}: {len(outcome.failures)} failed ({reasons}).")

    def _render_traceback_(self) -> list[str]:  # IPython's hook: the reason is the whole story, no traceback
        return [f"RotationFailed: {self}"]


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
    _check(policy, ledger, max_parallel, on_step, poll_interval, plan)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    begun, stamp = time.monotonic(), plan.stamp if plan is not None else stamp_of()
    run, resumed = claim_run(ledger, account_of(client), policy.name, policy.name_prefix, stamp)  # PolicyBusy: nothing done
    async with _applying(ledger, run):
        instances, missing = await select_instances(client, policy)
        rotation = InstanceRotation(_driver(client, ledger, run, policy, on_step, poll_interval), run, policy,
                                    DeleteBudget(delete_cap(policy, len(instances))),
                                    _names(plan) if run.stamp == stamp else {}, on_step)
        results = await by_zone(instances, max_parallel, lambda instance: _one(rotation, instance))
        outcome = Outcome(policy.name, run.run_id, resumed, _ordered(missing, instances, results))
        outcome.quota = await _quota(client, sorted({i.zone_id for i in instances}))
        outcome.seconds = time.monotonic() - begun
        if not finish_run(ledger, run, "ok" if outcome.ok else "failed"):
            log.warning("policy %s: run %s was taken over before it finished; that apply closes it", policy.name,
                        run.run_id[:8])
    return outcome


def _check(policy: object, ledger: object, max_parallel: object, on_step: object, poll_interval: object,
           plan: object) -> None:
    """The arguments, checked before anything is sent."""
    arguments.of_type(policy, Policy, "policy")
    arguments.optional_of_type(ledger, Ledger, "ledger")
    arguments.whole(max_parallel, "max_parallel", 1)
    arguments.callback(on_step, "on_step")
    arguments.poll_interval(poll_interval)
    arguments.optional_of_type(plan, Plan, "plan")
    if isinstance(plan, Plan) and plan.policy != policy:
        raise ValueError(f"The plan is of another policy ({plan.policy.name}, or its settings changed): preview "
                         "again; nothing was sent")


@asynccontextmanager
async def _applying(ledger: Ledger, run: Run) -> AsyncIterator[None]:
    """The run's lease kept alive, and every action of the run (its tasks inherit it) tagged with its id."""
    async with holding(ledger, run):
        tag = current_run.set(run.run_id)
        try:
            yield
        finally:
            current_run.reset(tag)


def _driver(client: AsyncZenlayerClient, ledger: Ledger, run: Run, policy: Policy, on_step: StepCallback | None,
            poll_interval: float) -> Driver:
    extras = {"policy": policy, "run": run, "on_step": on_step, "poll": poll_interval, "messages": {}}
    return Driver(client, ledger, run.account, extras=extras)


def _names(plan: Plan | None) -> dict[str, str]:
    return {i.instance_id: i.image_name for i in plan.items if i.image_name} if plan is not None else {}


async def _one(rotation: InstanceRotation, instance: Instance) -> Result:
    """One instance; an error fails it alone (recorded, unless its operation is left for the next apply to resume)."""
    try:
        return await rotation(instance)
    except (ZenlayerError, TimeoutError, ValueError) as error:
        reason = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
        if not isinstance(error, LeaseLost):  # the run is the other apply's now
            record(rotation.ledger, rotation.run, instance, FAILED, reason)
        return Result(instance.instance_id, instance.zone_id, FAILED, reason=reason, instance_name=instance.instance_name)


def _ordered(missing: list[str], instances: list[Instance], results: list[Result]) -> list[Result]:
    order = {i.instance_id: n for n, i in enumerate(instances)}
    return [Result(i, "", FAILED, reason="no such instance") for i in missing] + \
        sorted(results, key=lambda r: order.get(r.instance_id, -1))


async def _quota(client: AsyncZenlayerClient, zones: list[str]) -> dict[str, tuple[int, int]]:
    states = await asyncio.gather(*(zone_state(client, z) for z in zones))
    return {z: (used, most) for z, (_, used, most) in zip(zones, states, strict=True) if most}


def apply_rotation(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, max_parallel: int = 4,
                   on_step: StepCallback | None = None, poll_interval: float = 2.0, plan: Plan | None = None) -> Outcome:
    """:func:`apply_rotation_async` for synchronous code (runbooks, cron via papermill)."""
    return run_sync(apply_rotation_async(client, policy, ledger, max_parallel=max_parallel, on_step=on_step,
                                         poll_interval=poll_interval, plan=plan))
