"""``zw.verify_image``: does an image boot? A throwaway POSTPAID instance is launched from it, waited RUNNING,
probed, then terminated and released: one operation of recorded steps.

Before anything is sent: the image must be AVAILABLE; the shape is the source instance's type where the ledger
knows it, else the cheapest type of the zone, under the cost cap. The plan: price (asked before the one
CreateInstances; over the cap it fails and nothing is launched), launch (tagged with the operation's id and as a
throwaway), wait RUNNING (CREATE_FAILED: did not boot), probe, record the boot (marks the image verified), then
the clean-ups that always run: terminate, release. A re-run after a kill resumes the same operation (the launch is
reconciled by its tag, never sent again blind); orphan throwaways of earlier runs are released first.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..._runner import run_sync
from ...api.vocabulary import DEPLOYING, PENDING, RUNNING
from .. import arguments
from ..ledger import Ledger, account_of, ledger_for
from ..operations import DONE, Operation, StepPlan, store
from ..operations.steps.base import Sleep
from ..operations.steps.instances import TAG_ROLE, THROWAWAY
from ..sync import AnyClient, async_side, shows_signature_of
from .common import OperationFailed, PriceCallback, choose_shape, fetch_image, instance_name_for, make_driver, planned
from .throwaways import release_orphans

KIND = "verify"


@dataclass(frozen=True)
class VerifyResult:
    """What a verification found: ``booted``, ``boot_seconds`` (launch sent to RUNNING seen), the hourly ``price``,
    the throwaway's ``instance_id`` (released by the time this is returned), and the operation's id."""

    image_id: str
    booted: bool
    boot_seconds: float | None
    price: float | None
    instance_id: str | None
    instance_type: str | None
    operation_id: str
    reason: str = ""


def verified(ledger: Ledger, account: str, image_id: str) -> tuple[str, float | None] | None:
    """When the image was last verified to boot and how long it took, or None (never, or it did not boot)."""
    for operation in store.operations(ledger, account, kind=KIND, image_id=image_id):
        if operation.facts.get("booted"):
            return str(operation.facts.get("verified_at")), operation.facts.get("boot_seconds")
    return None


def _plan(image_id: str, zone_id: str, instance_type: str, disk: int | None, cap: float | None,
          timeout: float) -> list[StepPlan]:
    launch = {"zone_id": zone_id, "instance_type": instance_type, "image_id": image_id, "system_disk_size": disk,
              "instance_name": instance_name_for("zw-verify", image_id), "tags": {TAG_ROLE: THROWAWAY},
              "random_password": True}
    return [
        StepPlan("price", {"zone_id": zone_id, "instance_type": instance_type, "system_disk_size": disk, "max_price": cap}),
        StepPlan("launch", launch),
        StepPlan("wait_status", {"status": RUNNING, "passing": [PENDING, DEPLOYING], "timeout": timeout}),
        StepPlan("probe"),
        StepPlan("record_boot"),
        StepPlan("terminate", always=True),
        StepPlan("release", always=True),
    ]


def _result(operation: Operation) -> VerifyResult:
    facts = operation.facts
    failed = operation.failed_step()
    release = operation.step("release")
    if facts.get("instance_id") and (release is None or release.state != DONE):
        raise OperationFailed(operation, f"The throwaway {facts.get('instance_id')} of this verification was not "
                                         "released; run the verification again to release it")
    return VerifyResult(
        image_id=str(operation.image_id), booted=bool(facts.get("booted")), boot_seconds=facts.get("boot_seconds"),
        price=facts.get("price"), instance_id=facts.get("instance_id"),
        instance_type=(operation.step("launch").params.get("instance_type") if operation.step("launch") else None),  # type: ignore[union-attr]
        operation_id=operation.operation_id,
        reason="" if failed is None else f"{failed.kind}: {failed.error_code or failed.error_type}")


async def verify_image_async(
    client: AnyClient, image_id: str, *, probe: Callable[[Any], Any] | None = None, timeout: float = 900.0,
    max_price: float | None = None, ledger: Ledger | None = None, on_price: PriceCallback | None = None,
    sleep: Sleep = asyncio.sleep, poll_interval: float = 2.0,
) -> VerifyResult:
    """Launch a throwaway from ``image_id``, wait RUNNING, run ``probe(instance)`` (False or an exception: failed),
    terminate and release it (module doc). ``max_price``: the hourly cap (default: the cheapest type that fits);
    ``on_price`` is called with the hourly price before the launch. Returns once the throwaway is released."""
    arguments.id_arg(image_id, "image_id")
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    account = account_of(client)
    driver = make_driver(client, ledger, account, sleep, poll_interval, probe=probe, on_price=on_price)
    await release_orphans(driver)
    key = f"{KIND}:{image_id}"
    plan: list[StepPlan] = []
    zone_id = None
    if store.unfinished(ledger, account, key) is None:
        image = await fetch_image(client, image_id)
        shape = await choose_shape(client, ledger, image, max_price)
        zone_id = image.zone_id
        cap = shape.price if max_price is None else max_price
        plan = _plan(image_id, str(image.zone_id), shape.instance_type, image.image_size, cap, timeout)
    operation, owner, _ = driver.claim(KIND, key, planned(plan, 'verification'), zone_id=zone_id, image_id=image_id)
    return _result(await driver.drive(operation, owner))


@shows_signature_of(verify_image_async)
def verify_image(client: AnyClient, image_id: str, **options: Any) -> VerifyResult:
    """:func:`verify_image_async` for synchronous code."""
    return run_sync(verify_image_async(client, image_id, **options))
