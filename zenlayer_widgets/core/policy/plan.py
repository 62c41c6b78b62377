"""What a policy run would do, per instance, before anything changes: :func:`plan_rotation_async` / :func:`plan_rotation`."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..._runner import run_sync
from ...api.models import Image, ImageQuota, Instance
from ...rules import CREATING, CUSTOM_IMAGE, IMAGE_QUOTA_PER_ZONE, RUNNING, STOPPED, zone_supports_images
from ..ledger import Ledger, account_of, ledger_for
from ..sync import AnyClient, async_side
from .model import Policy
from .naming import next_name, stamp_of
from .records import OwnedImage, Run, owned_images, steps_of

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import AsyncZenlayerClient

CREATE, SKIP, FAIL = "create", "skip", "fail"
RUNNING_NOT_ALLOWED = "running and not allowed to stop (stop_if_running=False)"


@dataclass(frozen=True)
class PlanItem:
    """One instance: ``action`` create, skip (with ``reason``) or fail (the run would fail here: ``reason``)."""

    instance_id: str
    instance_name: str
    zone_id: str
    status: str
    action: str
    reason: str = ""
    image_name: str | None = None
    deletes: tuple[OwnedImage, ...] = ()
    delete_first: bool = False  # the zone is full: the oldest owned image goes before the create
    stop_start: bool = False  # RUNNING: stopped for the image (and started again when start_after)
    made: OwnedImage | None = None  # a resumed run already made this image
    quota_before: int | None = None
    quota_after: int | None = None
    quota_max: int | None = None


@dataclass(frozen=True)
class Plan:
    policy: Policy
    items: tuple[PlanItem, ...]
    stamp: str
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # zone -> (used now, max)

    @property
    def creates(self) -> list[PlanItem]:
        return [item for item in self.items if item.action == CREATE]

    @property
    def ok(self) -> bool:
        """Whether nothing in the plan would fail (skips are fine)."""
        return all(item.action != FAIL for item in self.items)

    def frame(self) -> pd.DataFrame:
        """One row per instance: what would be created, deleted, skipped and why, the zone's quota before/after."""
        import pandas as pd

        rows = [{
            "instance_id": i.instance_id, "instance": i.instance_name, "zone": i.zone_id, "status": i.status,
            "action": i.action, "image_name": i.image_name or "",
            "deletes": ", ".join(d.image_name for d in i.deletes), "delete_first": i.delete_first,
            "stop_start": i.stop_start, "reason": i.reason,
            "quota_before": _quota_text(i.quota_before, i.quota_max), "quota_after": _quota_text(i.quota_after, i.quota_max),
        } for i in self.items]
        columns = ["instance_id", "instance", "zone", "status", "action", "image_name", "deletes", "delete_first",
                   "stop_start", "reason", "quota_before", "quota_after"]
        return pd.DataFrame(rows, columns=columns)

    def quota_frame(self) -> pd.DataFrame:
        """Per zone: custom images used now, after the plan, and the maximum."""
        import pandas as pd

        after = dict((zone, used) for zone, (used, _) in self.quota.items())
        for item in self.items:
            if item.quota_after is not None:
                after[item.zone_id] = item.quota_after
        return pd.DataFrame([{"zone": z, "used_before": u, "used_after": after[z], "max": m}
                             for z, (u, m) in sorted(self.quota.items())], columns=["zone", "used_before", "used_after", "max"])

    def summary(self) -> str:
        counts = {a: sum(i.action == a for i in self.items) for a in (CREATE, SKIP, FAIL)}
        deletes = sum(len(i.deletes) for i in self.items)
        return (f"Policy {self.policy.name}: {counts[CREATE]} to create, {deletes} to delete, {counts[SKIP]} skipped, "
                f"{counts[FAIL]} failing, of {len(self.items)} instances.")


def _quota_text(used: int | None, most: int | None) -> str:
    return "" if used is None else f"{used}/{most}"


def decide(
    policy: Policy, instance: Instance, zone_images: Sequence[Image], used: int, most: int, owned: dict[str, OwnedImage],
    *, name: str | None, made: OwnedImage | None = None,
) -> PlanItem:
    """The policy's verdict for one instance given its zone now (``used`` of ``most`` slots, its custom images)."""
    base = PlanItem(instance.instance_id, instance.instance_name, instance.zone_id, instance.instance_status, SKIP,
                    quota_before=used, quota_max=most)
    if not zone_supports_images(instance.zone_id):
        return _with(base, reason=f"zone {instance.zone_id} does not support custom images", quota_before=None)
    mine = sorted((owned[i.image_id] for i in zone_images
                   if i.image_id in owned and owned[i.image_id].instance_id == instance.instance_id),
                  key=lambda o: (o.made_at, o.image_id))
    status = {i.image_id: i.image_status for i in zone_images}
    if made is not None and made.image_id in status:  # a resumed run made it already: only the deletes are left
        older = [o for o in mine if o.image_id != made.image_id]
        deletes = tuple(older[:max(0, len(older) - (policy.keep - 1))])
        return _with(base, action=CREATE, image_name=made.image_name, made=made, deletes=deletes,
                     reason="made by the interrupted run; finishing it", quota_after=used - len(deletes))
    creating = [o for o in mine if status.get(o.image_id) == CREATING]
    if creating:
        return _with(base, reason=f"an image of this policy ({creating[0].image_name}) is still CREATING")
    if instance.instance_status == RUNNING and not policy.stop_if_running:
        return _with(base, reason=RUNNING_NOT_ALLOWED)
    if instance.instance_status not in (RUNNING, STOPPED):
        return _with(base, reason=f"the instance is {instance.instance_status or 'in an unknown state'}")
    if name is None:
        return _with(base, action=FAIL, reason=f"every name {policy.name_prefix}-<stamp>[a-z] is taken in the zone")
    image_name = name
    deletes = tuple(mine[:max(0, len(mine) - (policy.keep - 1))])  # counted after the new one
    first = False
    if used >= most:
        if not mine:
            return _with(base, action=FAIL, reason=f"zone {instance.zone_id} is full ({used}/{most}) of images this "
                                                   "policy does not own; nothing deleted")
        if not policy.delete_first_when_full:
            return _with(base, action=FAIL, reason=f"zone {instance.zone_id} is full ({used}/{most}); the oldest image "
                                                   "of this policy is deleted first only with delete_first_when_full=True")
        first = True
        deletes = deletes or (mine[0],)
    return _with(base, action=CREATE, image_name=image_name, deletes=deletes, delete_first=first,
                 stop_start=instance.instance_status == RUNNING, quota_after=used + 1 - len(deletes),
                 reason="zone full: the oldest owned image is deleted before the create" if first else "")


def _with(item: PlanItem, **changes: object) -> PlanItem:
    from dataclasses import replace

    return replace(item, **changes)  # type: ignore[arg-type]


async def select_instances(client: AsyncZenlayerClient, policy: Policy) -> tuple[list[Instance], list[str]]:
    """The policy's instances (sorted by zone, id) and the ids it names that do not exist."""
    if policy.instance_ids:
        found = await client.list_instances(instance_ids=list(policy.instance_ids))
        by_id = {i.instance_id: i for i in found}
        missing = [i for i in policy.instance_ids if i not in by_id]
        chosen = [by_id[i] for i in policy.instance_ids if i in by_id]
    else:
        chosen, missing = await client.list_instances(), []
    if policy.name_contains is not None:
        chosen = [i for i in chosen if policy.name_contains in i.instance_name]
    if policy.zones:
        chosen = [i for i in chosen if i.zone_id in policy.zones]
    return sorted(chosen, key=lambda i: (i.zone_id, i.instance_id)), missing


async def zone_state(client: AsyncZenlayerClient, zone_id: str) -> tuple[list[Image], int, int]:
    """The zone's custom images, slots used and the maximum (fresh from the API)."""
    if not zone_supports_images(zone_id):
        return [], 0, 0
    images, quotas = await asyncio.gather(client.list_images(zone_id, image_type=CUSTOM_IMAGE),
                                          client.describe_image_quota([zone_id]))
    quota: ImageQuota | None = next((q for q in quotas if q.zone_id == zone_id), None)
    return images, (quota.count if quota else len(images)), (quota.max_count if quota else IMAGE_QUOTA_PER_ZONE)


async def plan_rotation_async(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, run: Run | None = None) -> Plan:
    """Per instance: the image to create, the owned images to delete (oldest beyond ``keep``), or why it is skipped
    or would fail, with the zone's quota before and after. Changes nothing."""
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    instances, missing = await select_instances(client, policy)
    zones = sorted({i.zone_id for i in instances})
    states = dict(zip(zones, await asyncio.gather(*(zone_state(client, z) for z in zones)), strict=True))
    owned = owned_images(ledger, account_of(client), policy.name)
    steps = steps_of(ledger, run.run_id) if run is not None else {}
    stamp = run.stamp if run is not None else stamp_of()
    items = [PlanItem(i, "", "", "", FAIL, reason="no such instance") for i in missing]
    used = {z: states[z][1] for z in zones}
    taken = {z: {image.image_name for image in states[z][0]} for z in zones}
    for instance in instances:
        images, _, most = states[instance.zone_id]
        step = steps.get(instance.instance_id)
        made = _made_by(step.image_name if step else None, instance.instance_id, owned)
        name = step.image_name if step is not None and step.image_name else None
        if name is None:
            try:
                name = next_name(policy.name_prefix, stamp, taken[instance.zone_id])
            except ValueError:
                name = None
        item = decide(policy, instance, images, used[instance.zone_id], most, owned, name=name, made=made)
        if item.action == CREATE and item.quota_after is not None:
            used[instance.zone_id] = item.quota_after
            taken[instance.zone_id].add(item.image_name or "")
        items.append(item)
    return Plan(policy, tuple(items), stamp, {z: (states[z][1], states[z][2]) for z in zones if zone_supports_images(z)})


def _made_by(image_name: str | None, instance_id: str, owned: dict[str, OwnedImage]) -> OwnedImage | None:
    if image_name is None:
        return None
    return next((o for o in owned.values() if o.image_name == image_name and o.instance_id == instance_id), None)


def plan_rotation(client: AnyClient, policy: Policy, ledger: Ledger | None = None) -> Plan:
    """:func:`plan_rotation_async` for synchronous code (runbooks)."""
    return run_sync(plan_rotation_async(client, policy, ledger))
