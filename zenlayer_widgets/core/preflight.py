"""The checks CreateImage must pass (``preflight``), as data: the form shows them, the runbook enforces them.

:func:`evaluate_preflight` is a pure function of what is known (the name, the description, the
instance, its zone's quota and image names); :func:`preflight_async` fetches those in two rounds.
"""

from __future__ import annotations

import asyncio
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .._runner import run_sync
from ..api.errors import NotFound
from ..api.models import Image, ImageQuota, Instance
from ..api.params import text_arg
from ..rules import (
    BOOTING,
    CUSTOM_IMAGE,
    IMAGING,
    RUNNING,
    STOPPED,
    STOPPING,
    validate_image_description,
    validate_image_name,
    zone_supports_images,
)
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    import pandas as pd

    from ..api.client import AsyncZenlayerClient

#: The ``fix`` of a running instance: the form offers a "Stop instance" button for it.
FIX_STOP_INSTANCE = "stop_instance"


@dataclass(frozen=True)
class Check:
    """One precondition: whether it holds, why (in an operator's words) and a fix if one exists."""

    key: str
    label: str
    ok: bool
    reason: str
    fix: str | None = None


@dataclass(frozen=True)
class Preflight:
    """Every check for one intended image; ``ok`` only when all hold."""

    checks: tuple[Check, ...]
    instance: Instance | None = None
    quota: ImageQuota | None = None

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)

    @property
    def failures(self) -> tuple[Check, ...]:
        return tuple(check for check in self.checks if not check.ok)

    def check(self, key: str) -> Check | None:
        return next((check for check in self.checks if check.key == key), None)

    def to_frame(self) -> pd.DataFrame:
        """The checks as a table (check, ok, reason) for runbook outputs."""
        import pandas as pd

        return pd.DataFrame(
            [{"check": c.label, "ok": c.ok, "reason": c.reason} for c in self.checks], columns=["check", "ok", "reason"]
        )

    def summary(self) -> str:
        """The reasons that block the create, one per line ("" when ok)."""
        return "\n".join(f"{check.label}: {check.reason}" for check in self.failures)


def _power_check(instance: Instance) -> Check:
    state = instance.instance_status
    label = "Instance is shut down"
    if state == STOPPED:
        return Check("power_state", label, True, f"{instance.instance_name or instance.instance_id} is STOPPED.")
    if state == RUNNING:
        return Check(
            "power_state",
            label,
            False,
            "The instance is RUNNING; Zenlayer copies the system disk, so stop the instance first.",
            FIX_STOP_INSTANCE,
        )
    if state == STOPPING:
        reason = "The instance is STOPPING; wait until it is STOPPED."
    elif state == BOOTING:
        reason = "The instance is BOOTING; wait until it is RUNNING, then stop it."
    elif state == IMAGING:
        reason = "An image of this instance's system disk is being created; wait until it is AVAILABLE."
    else:
        reason = f"The instance is {state or 'in an unknown state'}; it must be STOPPED."
    return Check("power_state", label, False, reason)


def text_checks(image_name: str, description: str | None) -> tuple[Check, Check]:
    """The name and description checks: the local rules alone (nothing is looked up)."""
    name = validate_image_name(image_name)
    desc = validate_image_description(description)
    return (Check("name", "Image name", name.ok, name.message or f"{name.counter} characters, accepted."),
            Check("description", "Description", desc.ok, desc.message or f"{desc.counter} characters, accepted."))


def local_preflight(instance_id: str, image_name: str, description: str | None) -> Preflight:
    """What can be refused before anything is sent: the name and description rules, and a missing instance id.
    Not ``ok`` means CreateImage is refused without a lookup (:func:`preflight` still reports every reason)."""
    checks = list(text_checks(image_name, description))
    if not instance_id.strip():
        checks.append(Check("instance", "Instance", False, "Choose an instance."))
    return Preflight(tuple(checks))


def evaluate_preflight(
    *,
    image_name: str,
    description: str | None,
    instance: Instance | None,
    instance_id: str | None = None,
    quota: ImageQuota | None = None,
    zone_image_names: Collection[str] = (),
) -> Preflight:
    """Evaluate every check from what is known; nothing here talks to the API."""
    name = validate_image_name(image_name)
    checks = list(text_checks(image_name, description))
    if instance is None:
        reason = f"Instance {instance_id} was not found." if instance_id else "Choose an instance."
        checks.append(Check("instance", "Instance", False, reason))
        return Preflight(tuple(checks), None, quota)
    checks.append(_power_check(instance))
    zone = instance.zone_id
    if zone_supports_images(zone):
        checks.append(Check("zone", "Zone supports images", True, f"{zone} supports custom images."))
    else:
        checks.append(
            Check("zone", "Zone supports images", False, f"Zone {zone} does not support custom images (SIN-E and LAX-A do not).")
        )
    if not zone_supports_images(zone):
        pass  # no quota to speak of: the zone check already says why
    elif quota is None:
        checks.append(Check("quota", "Image quota", False, f"The image quota of {zone} is unknown."))
    elif quota.count >= quota.max_count:
        checks.append(
            Check(
                "quota",
                "Image quota",
                False,
                f"{zone} already has {quota.count} of {quota.max_count} custom images (images still CREATING count); "
                "delete one first.",
            )
        )
    else:
        checks.append(Check("quota", "Image quota", True, f"{quota.count} of {quota.max_count} used in {zone}; {quota.free} free."))
    if not image_name:
        checks.append(Check("unique_name", "Name not used in zone", True, "Checked once a name is entered."))
    elif not name.ok:
        checks.append(Check("unique_name", "Name not used in zone", True, "Checked once the name is valid."))
    elif image_name in zone_image_names:
        checks.append(Check("unique_name", "Name not used in zone", False, f"{zone} already has an image named {image_name!r}."))
    else:
        checks.append(Check("unique_name", "Name not used in zone", True, f"No image named {image_name!r} in {zone} yet."))
    return Preflight(tuple(checks), instance, quota)


async def fetch_instance(client: AsyncZenlayerClient, instance_id: str) -> Instance | None:
    """The instance with this id, or None when it does not exist."""
    try:
        page = await client.describe_instances(instance_ids=[instance_id])
    except NotFound:
        return None
    return next((i for i in page.items if i.instance_id == instance_id), None)


async def zone_facts(client: AsyncZenlayerClient, zone_id: str, image_name: str) -> tuple[ImageQuota | None, set[str]]:
    """The zone's quota and the names of its custom images called ``image_name`` (one round trip)."""
    if not zone_supports_images(zone_id):
        return None, set()
    quotas, images = await asyncio.gather(
        client.describe_image_quota([zone_id]),
        client.list_images(zone_id, image_name=image_name, image_type=CUSTOM_IMAGE) if image_name else _no_images(),
    )
    quota = next((q for q in quotas if q.zone_id == zone_id), None)
    return quota, {image.image_name for image in images}


async def _no_images() -> list[Image]:
    return []


def check_arguments(instance_id: str, image_name: str, description: str | None) -> None:
    """A plain TypeError naming the parameter for None, bytes or a list where an id or a name goes.

    Empty strings pass: the checks say "Choose an instance" / "Enter an image name".
    """
    text_arg(instance_id, "instance_id", empty=True)
    text_arg(image_name, "image_name", empty=True)
    text_arg(description, "description", optional=True, empty=True)


async def preflight_async(
    client: AnyClient, instance_id: str, image_name: str, description: str | None = None
) -> Preflight:
    """Fetch what the checks need (instance, then quota and same-name images) and evaluate them.

    A name that breaks the name rule is never sent: its uniqueness is checked once it is valid."""
    check_arguments(instance_id, image_name, description)
    client = async_side(client)
    instance = await fetch_instance(client, instance_id) if instance_id else None
    quota: ImageQuota | None = None
    names: set[str] = set()
    if instance is not None:
        valid_name = image_name if validate_image_name(image_name).ok else ""
        quota, names = await zone_facts(client, instance.zone_id, valid_name)
    return evaluate_preflight(
        image_name=image_name,
        description=description,
        instance=instance,
        instance_id=instance_id,
        quota=quota,
        zone_image_names=names,
    )


def preflight(client: AnyClient, instance_id: str, image_name: str, description: str | None = None) -> Preflight:
    """:func:`preflight_async` for synchronous code."""
    return run_sync(preflight_async(client, instance_id, image_name, description))
