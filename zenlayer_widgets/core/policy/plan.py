"""What a policy run would do, per instance, before anything changes: :func:`plan_rotation_async` / :func:`plan_rotation`."""

from __future__ import annotations

import asyncio
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

from ..._runner import run_sync
from ...api.models import Image, ImageQuota, Instance
from ...rules import (
    AVAILABLE,
    CREATING,
    CUSTOM_IMAGE,
    IMAGE_QUOTA_PER_ZONE,
    RUNNING,
    STOPPED,
    UNAVAILABLE,
    zone_supports_images,
)
from .. import arguments
from ..from_image.verify import verified
from ..ledger import Ledger, account_of, ledger_for
from ..sync import AnyClient, async_side
from .model import Policy
from .naming import name_pattern, next_name, stamp_of
from .pins import pins
from .records import CREATED, PLANNED, OwnedImage, Run, Step, made_by_run, owned_images, steps_of

if TYPE_CHECKING:
    import pandas as pd

    from ...api.client import AsyncZenlayerClient

CREATE, SKIP, FAIL = "create", "skip", "fail"
RUNNING_NOT_ALLOWED = "it is RUNNING and this policy may not stop it"
#: Image id -> (when ``zw.verify_image`` last proved it boots, its boot seconds).
Proven = Mapping[str, tuple[str, float | None]]


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
    kept: tuple[str, ...] = ()  # why images beyond ``keep`` are not deleted (the newest verified: ``keep_verified``)
    quota_before: int | None = None
    quota_after: int | None = None
    quota_max: int | None = None


@dataclass(frozen=True)
class Plan:
    policy: Policy
    items: tuple[PlanItem, ...]
    stamp: str
    quota: dict[str, tuple[int, int]] = field(default_factory=dict)  # zone -> (used now, max)
    max_deletes: int = 0  # the run deletes at most this many images (Policy.max_deletes, default: its instances)

    def name_for(self, instance_id: str) -> str | None:
        """The image name this plan fixed for the instance (apply of this plan creates exactly that name)."""
        return next((i.image_name for i in self.items if i.instance_id == instance_id and i.action == CREATE), None)

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
            "stop_start": i.stop_start, "reason": i.reason, "kept": "; ".join(i.kept),
            "quota_before": _quota_text(i.quota_before, i.quota_max), "quota_after": _quota_text(i.quota_after, i.quota_max),
        } for i in self.items]
        columns = ["instance_id", "instance", "zone", "status", "action", "image_name", "deletes", "delete_first",
                   "stop_start", "reason", "kept", "quota_before", "quota_after"]
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
                f"{counts[FAIL]} failing, of {len(self.items)} instances ({cap_text(self.max_deletes)}).")


def _quota_text(used: int | None, most: int | None) -> str:
    return "" if used is None else f"{used}/{most}"


def rotating(policy: Policy, instance_id: str, zone_images: Sequence[Image], owned: dict[str, OwnedImage],
             pinned: Collection[str]) -> list[OwnedImage]:
    """The instance's images this policy may rotate, oldest first, under their CURRENT names: made by the policy (by
    id), still in the zone, not pinned, and still named by the policy's pattern (an operator's rename takes one out)."""
    pattern = name_pattern(policy.name_prefix)
    mine = [replace(owned[i.image_id], image_name=i.image_name) for i in zone_images
            if i.image_id in owned and owned[i.image_id].instance_id == instance_id and i.image_id not in pinned
            and pattern.match(i.image_name)]
    return sorted(mine, key=lambda o: (o.made_at, o.image_id))


def beyond_keep(mine: Sequence[OwnedImage], status: dict[str, str], keep: int,
                kept: Collection[str] = ()) -> tuple[OwnedImage, ...]:
    """What goes once a new AVAILABLE image is made: failed (UNAVAILABLE) images first, then the oldest AVAILABLE
    ones beyond ``keep`` (the new one counted), never one of ``kept`` (image ids). A CREATING image is never chosen."""
    good = [o for o in mine if status.get(o.image_id) == AVAILABLE]
    failed = [o for o in mine if status.get(o.image_id) == UNAVAILABLE]
    return tuple(o for o in failed + good[:max(0, len(good) - (keep - 1))] if o.image_id not in kept)


def first_to_go(mine: Sequence[OwnedImage], status: dict[str, str], kept: Collection[str] = ()) -> OwnedImage | None:
    """The image deleted BEFORE a create in a full zone: a failed one, else the oldest AVAILABLE one but never the
    newest (the instance's last good image stays until the new one is AVAILABLE) nor one of ``kept``; None when
    there is none."""
    failed = [o for o in mine if status.get(o.image_id) == UNAVAILABLE]
    good = [o for o in mine if status.get(o.image_id) == AVAILABLE]
    older = [o for o in good[:-1] if o.image_id not in kept]
    return failed[0] if failed else (older[0] if older else None)


def kept_verified(policy: Policy, mine: Sequence[OwnedImage], status: dict[str, str], proven: Proven) -> dict[str, str]:
    """Image id -> why it stays: the newest ``policy.keep_verified`` AVAILABLE images of ``mine`` (oldest first)
    that ``zw.verify_image`` proved to boot."""
    good = [o for o in mine if status.get(o.image_id) == AVAILABLE and o.image_id in proven]
    newest = good[max(0, len(good) - policy.keep_verified):] if policy.keep_verified else []
    which = "the newest verified image" if policy.keep_verified == 1 else \
        f"one of the {policy.keep_verified} newest verified images"
    return {o.image_id: f"{named(o)} is kept: {which} of this instance (verified {proven[o.image_id][0]}, booted in "
                        f"{_seconds(proven[o.image_id][1])}; keep_verified={policy.keep_verified})" for o in newest}


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:.1f} s"


def spared(going: Sequence[OwnedImage], kept: Mapping[str, str]) -> tuple[str, ...]:
    """Why each image of ``going`` (what ``keep`` alone would delete) that ``kept`` holds stays."""
    return tuple(kept[o.image_id] for o in going if o.image_id in kept)


def proven_images(ledger: Ledger, account: str, image_ids: Collection[str]) -> dict[str, tuple[str, float | None]]:
    """The images of ``image_ids`` that ``zw.verify_image`` proved to boot: when, and their boot seconds."""
    found = {}
    for image_id in image_ids:
        seen = verified(ledger, account, image_id)
        if seen is not None:
            found[image_id] = seen
    return found


def named(image: OwnedImage) -> str:
    """An image as an operator reads it: its name and zone."""
    return f"{image.image_name} ({image.zone_id})"


def decide(
    policy: Policy, instance: Instance, zone_images: Sequence[Image], used: int, most: int, owned: dict[str, OwnedImage],
    *, name: str | None, made: OwnedImage | None = None, pinned: Collection[str] = (), proven: Proven | None = None,
) -> PlanItem:
    """The policy's verdict for one instance given its zone now (``used`` of ``most`` slots, its custom images);
    ``proven``: the images verified to boot (:func:`proven_images`), of which the newest are kept."""
    base = PlanItem(instance.instance_id, instance.instance_name, instance.zone_id, instance.instance_status, SKIP,
                    quota_before=used, quota_max=most)
    zone = instance.zone_id
    if not zone_supports_images(zone):
        return _with(base, reason=f"zone {zone} does not support custom images", quota_before=None)
    status = {i.image_id: i.image_status for i in zone_images}
    mine = rotating(policy, instance.instance_id, zone_images, owned, pinned)
    kept = kept_verified(policy, mine, status, proven or {})
    if made is not None and made.image_id in status:  # a resumed run made it already: followed to its end first
        made = replace(made, image_name=next(i.image_name for i in zone_images if i.image_id == made.image_id))
        made_status = status[made.image_id]
        if made_status not in (AVAILABLE, CREATING):
            return _with(base, action=FAIL, made=made, reason=f"the new image {named(made)} made by the interrupted run "
                                                              f"ended {made_status}; nothing deleted, the older images are kept")
        others = [o for o in mine if o.image_id != made.image_id]
        deletes = beyond_keep(others, status, policy.keep, kept)
        waiting = "" if made_status == AVAILABLE else ", once it is AVAILABLE (it is CREATING)"
        return _with(base, action=CREATE, image_name=made.image_name, made=made, deletes=deletes,
                     kept=spared(beyond_keep(others, status, policy.keep), kept),
                     reason=f"made by the interrupted run; finishing it{waiting}", quota_after=used - len(deletes))
    creating = [o for o in mine if status.get(o.image_id) == CREATING]
    if creating:
        return _with(base, reason=f"an image of this policy, {named(creating[0])}, is still CREATING")
    if instance.instance_status == RUNNING and not policy.stop_if_running:
        return _with(base, reason=RUNNING_NOT_ALLOWED)
    if instance.instance_status not in (RUNNING, STOPPED):
        return _with(base, reason=f"the instance is {instance.instance_status or 'in an unknown state'}")
    if name is None:
        return _with(base, action=FAIL, reason=f"every name {policy.name_prefix}-<this minute>[a-z] is taken in zone {zone}; "
                                               "run again in a minute")
    deletes = beyond_keep(mine, status, policy.keep, kept)  # counted after the new one
    spare = spared(beyond_keep(mine, status, policy.keep), kept)
    first = False
    if used >= most:
        if not mine:
            return _with(base, action=FAIL, reason=f"zone {zone} is full ({used}/{most}) of images this policy does not "
                                                   "own; nothing deleted")
        if not policy.delete_first_when_full:
            return _with(base, action=FAIL, reason=f"zone {zone} is full ({used}/{most}); this policy is not allowed to "
                                                   "delete its oldest image before making the new one; nothing deleted")
        oldest = first_to_go(mine, status, kept)
        if oldest is None and first_to_go(mine, status) is not None:
            return _with(base, action=FAIL, kept=tuple(kept.values()),
                         reason=f"zone {zone} is full ({used}/{most}) and this instance's older images of the policy are "
                                "kept (keep_verified); nothing deleted")
        if oldest is None:
            return _with(base, action=FAIL, reason=f"zone {zone} is full ({used}/{most}) and this instance's only image "
                                                   f"of the policy, {named(mine[-1])}, is its newest good one: it is kept; "
                                                   "nothing deleted")
        first = True
        deletes = (oldest,) + tuple(d for d in deletes if d.image_id != oldest.image_id)
    return _with(base, action=CREATE, image_name=name, deletes=deletes, delete_first=first, kept=spare,
                 stop_start=instance.instance_status == RUNNING, quota_after=used + 1 - len(deletes),
                 reason=f"zone {zone} is full: the oldest image of this policy, {named(deletes[0])}, is deleted before "
                        "the create" if first else "")


def _with(item: PlanItem, **changes: object) -> PlanItem:
    return replace(item, **changes)  # type: ignore[arg-type]


class Chooser(Protocol):
    """What chooses instances: a :class:`Policy`, or the verify runbook's choice."""

    @property
    def instance_ids(self) -> tuple[str, ...]: ...
    @property
    def name_contains(self) -> str | None: ...
    @property
    def zones(self) -> tuple[str, ...]: ...


async def select_instances(client: AsyncZenlayerClient, policy: Chooser) -> tuple[list[Instance], list[str]]:
    """The chosen instances (sorted by zone, id) and the ids named that do not exist."""
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


class DeleteBudget:
    """The run's cap on deletes (``Policy.max_deletes``, default: the number of its instances), shared by its zones."""

    def __init__(self, most: int) -> None:
        self.most = self.left = most

    def take(self) -> bool:
        """One delete, if the cap allows it."""
        if self.left <= 0:
            return False
        self.left -= 1
        return True

    def cap(self, item: PlanItem) -> PlanItem:
        """``item`` with only the deletes the cap still allows (the rest named in its reason, kept for a later run)."""
        allowed = [d for d in item.deletes if self.take()]
        if len(allowed) == len(item.deletes):
            return item
        if item.delete_first and not allowed:  # a full zone with no delete left: the create cannot happen
            return _with(item, action=FAIL, deletes=(), delete_first=False, stop_start=False, quota_after=None,
                         reason=full_and_capped(item.zone_id, self.most))
        kept = item.deletes[len(allowed):]
        note = f"{cap_text(self.most)}: {', '.join(named(d) for d in kept)} kept for a later run"
        after = None if item.quota_after is None else item.quota_after + len(kept)
        return _with(item, deletes=tuple(allowed), quota_after=after, reason=f"{item.reason}; {note}" if item.reason else note)


def full_and_capped(zone: str, most: int) -> str:
    """Why an instance in a full zone fails once the run's delete cap is spent."""
    return (f"zone {zone} is full and this run may delete no more images ({cap_text(most)}); "
            "nothing deleted")


def cap_text(most: int) -> str:
    """The delete cap in words."""
    return f"at most {most} delete{'' if most == 1 else 's'} per run"


def delete_cap(policy: Policy, instances: int) -> int:
    """The most images one run of ``policy`` deletes."""
    return policy.max_deletes if policy.max_deletes is not None else instances


async def plan_rotation_async(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, run: Run | None = None) -> Plan:
    """Per instance: the image to create (its name fixed here: apply of this plan uses it), the owned images to
    delete (beyond ``keep``, within the run's delete cap), or why it is skipped or would fail, with the zone's quota
    before and after. Changes nothing. The arguments are checked before anything is sent."""
    arguments.of_type(policy, Policy, "policy")
    arguments.optional_of_type(ledger, Ledger, "ledger")
    arguments.optional_of_type(run, Run, "run")
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    instances, missing = await select_instances(client, policy)
    zones = sorted({i.zone_id for i in instances})
    states = dict(zip(zones, await asyncio.gather(*(zone_state(client, z) for z in zones)), strict=True))
    account = account_of(client)
    owned, pinned = owned_images(ledger, account, policy.name), set(pins(ledger, account))
    proven = proven_images(ledger, account, [i.image_id for z in zones for i in states[z][0] if i.image_id in owned])
    steps = steps_of(ledger, run.run_id) if run is not None else {}
    stamp = run.stamp if run is not None else stamp_of()
    budget = DeleteBudget(delete_cap(policy, len(instances)))
    items = [PlanItem(i, "", "", "", FAIL, reason="no such instance") for i in missing]
    used = {z: states[z][1] for z in zones}
    taken = {z: {image.image_name for image in states[z][0]} for z in zones}
    for instance in instances:
        images, _, most = states[instance.zone_id]
        step = steps.get(instance.instance_id)
        made = resumed_image(ledger, run, step, instance, owned)
        name = step.image_name if step is not None and step.image_name and step.state in (PLANNED, CREATED) else None
        if name is None or (made is None and name in taken[instance.zone_id]):
            name = free_name(policy, stamp, taken[instance.zone_id])
        item = budget.cap(decide(policy, instance, images, used[instance.zone_id], most, owned, name=name, made=made,
                                 pinned=pinned, proven=proven))
        if item.action == CREATE and item.quota_after is not None:
            used[instance.zone_id] = item.quota_after
            taken[instance.zone_id].add(item.image_name or "")
        items.append(item)
    return Plan(policy, tuple(items), stamp, {z: (states[z][1], states[z][2]) for z in zones if zone_supports_images(z)},
                budget.most)


def free_name(policy: Policy, stamp: str, taken: Collection[str]) -> str | None:
    """The run's next free name in a zone (None: every letter is taken)."""
    try:
        return next_name(policy.name_prefix, stamp, taken)
    except ValueError:
        return None


def resumed_image(ledger: Ledger, run: Run | None, step: Step | None, instance: Instance,
          owned: dict[str, OwnedImage]) -> OwnedImage | None:
    """The image this run's create already made for the instance (by id), if any."""
    if run is None or step is None or step.state not in (PLANNED, CREATED):
        return None
    image_id = made_by_run(ledger, run, step, instance.instance_id)
    if image_id is None:
        return None
    return owned.get(image_id) or OwnedImage(image_id, step.image_name or "", instance.instance_id, instance.zone_id,
                                             step.updated_at, run.policy)


def plan_rotation(client: AnyClient, policy: Policy, ledger: Ledger | None = None) -> Plan:
    """:func:`plan_rotation_async` for synchronous code (runbooks)."""
    return run_sync(plan_rotation_async(client, policy, ledger))
