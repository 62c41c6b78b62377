"""One instance of a rotation run: decide with the zone as it is now, write the instance's operation (its whole
plan) before anything is sent, and drive it with the engine's driver; or resume the one an interrupted run left.

The plan of a create: ``[rotate_delete (a full zone's oldest, when allowed)], rotate_image, rotate_wait,
rotate_created, rotate_delete...`` (core/policy/steps.py). The driver runs it step by step; after a failed step nothing but
clean-ups runs, so nothing is deleted unless the new image was seen AVAILABLE.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ...api.models import Instance
from ..ledger import Ledger
from ..ledger.ownership import new_owner
from ..operations import SUCCEEDED, Driver, Operation, OperationError, StepPlan, store
from ..operations.driver import claim
from .model import Policy
from .pins import pins
from .plan import CREATE, FAIL, DeleteBudget, PlanItem, decide, free_name, proven_images, zone_state
from .records import (
    CREATE_STEP,
    CREATED_STEP,
    DELETE_STEP,
    DONE,
    FAILED,
    INSTANCE_KIND,
    MOVED,
    PLANNED,
    SKIPPED,
    WAIT_STEP,
    OwnedImage,
    Run,
    deleted_of,
    instance_key,
    owned_images,
    reason_of,
)

if TYPE_CHECKING:
    from ...api.client import AsyncZenlayerClient

#: ``on_step(instance_id, phase)``: phases "planned", "submitted" (CreateImage answered, the image CREATING; its id
#: recorded), "created" (AVAILABLE, before any delete), "done".
StepCallback = Callable[[str, str], None]
__all__ = ["InstanceRotation", "Result", "StepCallback", "by_zone", "plan_steps", "record"]


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


def plan_steps(item: PlanItem) -> list[StepPlan]:
    """The instance's operation for a ``create`` verdict."""
    first = item.delete_first and item.made is None  # the documented window with one image fewer
    later = item.deletes[1:] if first else item.deletes
    return [*([StepPlan(DELETE_STEP, {"delete_image_id": item.deletes[0].image_id, "first": True})] if first else []),
            StepPlan(CREATE_STEP, {"made_image_id": item.made.image_id if item.made else None}),
            StepPlan(WAIT_STEP), StepPlan(CREATED_STEP),
            *(StepPlan(DELETE_STEP, {"delete_image_id": d.image_id}) for d in later)]


def _carried(operation: Operation | None) -> OwnedImage | None:
    """The image an interrupted run made, from a step carried over from before version 9."""
    if operation is None or operation.outcome != MOVED or not operation.image_id:
        return None
    return OwnedImage(operation.image_id, operation.params.get("image_name") or "", operation.instance_id or "",
                      operation.zone_id or "", operation.updated_at, operation.params.get("policy", ""))


@dataclass
class InstanceRotation:
    """Rotates the instances of one run, one call per instance (the zone's quota counted afresh each time)."""

    driver: Driver
    run: Run
    policy: Policy
    budget: DeleteBudget
    names: dict[str, str] = field(default_factory=dict)  # a preview's names (apply of a plan creates exactly those)
    on_step: StepCallback | None = None

    @property
    def client(self) -> AsyncZenlayerClient:
        return self.driver.client

    @property
    def ledger(self) -> Ledger:
        return self.driver.ledger

    async def __call__(self, instance: Instance) -> Result:
        started = time.monotonic()
        key = instance_key(self.run.run_id, instance.instance_id)
        latest = store.latest(self.ledger, self.run.account, key)
        if latest is not None and latest.finished and latest.outcome == SUCCEEDED:
            return self._result(latest, instance, started, "done earlier in this run")
        resumed = latest is not None and not latest.finished
        item = None if resumed else await self._decide(instance, latest)
        if item is not None and item.action != CREATE:
            return self._verdict(instance, item, started)
        assert resumed or item is not None
        operation, owner, _ = claim(self.ledger, self.run.account, INSTANCE_KIND, key, lambda: self._plan(item),
                                    zone_id=instance.zone_id, instance_id=instance.instance_id,
                                    params=self._params(item), facts=self._facts(instance, item))
        if resumed:  # its deletes still to do count against this run's cap too
            for _ in (s for s in operation.steps if s.kind == DELETE_STEP and s.state not in (DONE, SKIPPED)):
                self.budget.take()
        else:
            self._call(instance.instance_id, PLANNED)
        operation = await self.driver.drive(operation, owner)
        if operation.outcome == SUCCEEDED:
            self._call(instance.instance_id, DONE)
        return self._result(operation, instance, started)

    async def _decide(self, instance: Instance, latest: Operation | None) -> PlanItem:
        account, zone = self.run.account, instance.zone_id
        images, used, most = await zone_state(self.client, zone)
        owned, pinned = owned_images(self.ledger, account, self.policy.name), set(pins(self.ledger, account))
        made = _carried(latest)
        taken = {i.image_name for i in images}
        name = made.image_name if made is not None else self.names.get(instance.instance_id)
        if name is None or (made is None and name in taken):  # a name taken meanwhile (by hand, say) is not ours
            name = free_name(self.policy, self.run.stamp, taken)
        proven = proven_images(self.ledger, account, [i.image_id for i in images if i.image_id in owned])
        return self.budget.cap(decide(self.policy, instance, images, used, most, owned, name=name, made=made,
                                      pinned=pinned, proven=proven))

    def _plan(self, item: PlanItem | None) -> Sequence[StepPlan]:
        if item is None:  # the interrupted operation finished meanwhile (another apply): nothing to plan blind
            raise OperationError("The instance's operation finished while this apply looked at it; apply again.")
        return plan_steps(item)

    def _params(self, item: PlanItem | None) -> dict[str, object]:
        return {"run_id": self.run.run_id, "policy": self.policy.name, "image_name": item.image_name if item else None,
                "notes": [n for n in ((item.reason,) + item.kept if item else ()) if n]}

    def _facts(self, instance: Instance, item: PlanItem | None) -> dict[str, object]:
        return {"instance_id": instance.instance_id, "zone_id": instance.zone_id,
                "image_name": item.image_name if item else None}

    def _verdict(self, instance: Instance, item: PlanItem, started: float) -> Result:
        """A skip or a failure decided before anything was sent, recorded as a finished operation of no steps."""
        state = FAILED if item.action == FAIL else SKIPPED
        record(self.ledger, self.run, instance, state, item.reason, item.made.image_id if item.made else None)
        return Result(instance.instance_id, instance.zone_id, state, reason=item.reason,
                      image_id=item.made.image_id if item.made else None, seconds=time.monotonic() - started,
                      instance_name=instance.instance_name)

    def _result(self, operation: Operation, instance: Instance, started: float, reason: str | None = None) -> Result:
        messages = self.driver.extras.get("messages", {})
        ok = operation.outcome == SUCCEEDED
        return Result(instance.instance_id, instance.zone_id, "created" if ok else FAILED,
                      image_name=operation.params.get("image_name"),
                      image_id=operation.facts.get("image_id") or operation.image_id,
                      deleted=tuple(deleted_of(operation)),
                      reason=reason or (reason_of(operation) if ok else messages.get(operation.operation_id) or reason_of(operation)),
                      seconds=time.monotonic() - started, instance_name=instance.instance_name)

    def _call(self, instance_id: str, phase: str) -> None:
        if self.on_step is not None:
            self.on_step(instance_id, phase)


def record(ledger: Ledger, run: Run, instance: Instance, outcome: str, reason: str, image_id: str | None = None) -> None:
    """An instance's verdict (skipped, failed) as a finished operation of no steps; nothing when the instance's latest
    operation is unfinished (its resume decides) or done (another apply finished it)."""
    key = instance_key(run.run_id, instance.instance_id)
    latest = store.latest(ledger, run.account, key)
    if latest is not None and (not latest.finished or latest.outcome == SUCCEEDED):
        return
    owner = new_owner()
    try:
        operation = store.begin(ledger, run.account, INSTANCE_KIND, key, [], owner=owner, zone_id=instance.zone_id,
                                instance_id=instance.instance_id, image_id=image_id,
                                params={"run_id": run.run_id, "policy": run.policy}, facts={"reason": reason})
    except Exception as error:
        if store.is_integrity_error(error):  # another apply began one meanwhile
            return
        raise
    store.finish(ledger, operation, owner, outcome)


async def by_zone(instances: Sequence[Instance], max_parallel: int,
                  work: Callable[[Instance], Awaitable[Result]]) -> list[Result]:
    """``work`` for every instance: zones in parallel (at most ``max_parallel`` at once), the instances of one zone one
    after another (so no zone's quota is exceeded). An interrupt in one zone stops the others too."""
    gate = asyncio.Semaphore(max_parallel)
    zones: dict[str, list[Instance]] = {}
    for instance in instances:
        zones.setdefault(instance.zone_id, []).append(instance)

    async def zone_worker(members: list[Instance]) -> list[Result]:
        done = []
        for instance in members:
            async with gate:
                done.append(await work(instance))
        return done

    workers = [asyncio.ensure_future(zone_worker(m)) for m in zones.values()]
    try:
        return [result for results in await asyncio.gather(*workers) for result in results]
    except BaseException:  # the next run resumes them
        for worker in workers:
            worker.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        raise
