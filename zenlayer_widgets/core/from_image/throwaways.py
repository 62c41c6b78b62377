"""Orphan throwaways: verification instances (found by their tag) that no unfinished verify will release.

A throwaway whose verify is finished (it failed to release it) is released by a small operation of its own
(terminate, release); one whose verify is unfinished is left to that verify (a re-run resumes and releases
it); one whose operation this ledger does not know is released once it is older than :data:`FOREIGN_AGE_HOURS`
(it may belong to a verify running now on another ledger).
"""

from __future__ import annotations

from datetime import datetime, timezone

from ...api.models import Instance
from ..ledger.records import parse_time
from ..operations import Driver, StepPlan, store
from ..operations.steps.instances import TAG_OPERATION, TAG_ROLE, THROWAWAY

#: A throwaway of an operation this ledger does not know is an orphan after this many hours.
FOREIGN_AGE_HOURS = 6.0


def _age_hours(instance: Instance) -> float:
    if not instance.create_time:
        return float("inf")
    try:
        made = parse_time(instance.create_time.replace("Z", "+00:00"))
    except ValueError:
        return float("inf")
    return (datetime.now(timezone.utc) - made).total_seconds() / 3600


async def throwaways(driver: Driver) -> list[Instance]:
    """Every instance tagged as a verification's throwaway (the recycle bin included)."""
    return list(await driver.client.list_instances(tags={TAG_ROLE: THROWAWAY}))


async def release_orphans(driver: Driver) -> list[str]:
    """Release every orphan throwaway (module doc); the ids released."""
    released: list[str] = []
    for instance in await throwaways(driver):
        operation_id = instance.tags.get(TAG_OPERATION, "")
        operation = store.get(driver.ledger, operation_id) if operation_id else None
        if operation is not None and not operation.finished:
            continue
        if operation is None and _age_hours(instance) < FOREIGN_AGE_HOURS:
            continue
        params = {"instance_id": instance.instance_id}
        key = f"release-throwaway:{instance.instance_id}"
        done = await driver.run("release-throwaway", key, lambda p=params: [  # type: ignore[misc]
            StepPlan("terminate", p, always=True), StepPlan("release", p, always=True)],
            zone_id=instance.zone_id, instance_id=instance.instance_id)
        if done.outcome == "done":
            released.append(instance.instance_id)
    return released
