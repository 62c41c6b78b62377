"""``zw.restore_instance``: rebuild an instance's system disk from an image of its zone (ResetInstance).

OperationRefused before anything is sent unless ``confirm`` is the instance's name, the image is AVAILABLE, in the
instance's zone and fits its disk, and the instance is STOPPED (or RUNNING with ``stop=True``: stopped
gracefully first). By default an image of the current disk is made first when the zone has a free image slot
(the result says when it had none). One operation: [stop, wait STOPPED,] [image of the current disk,] reset
(exactly one ResetInstance: a lost answer is reconciled on evidence), wait RUNNING, check it runs the image.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from ..._runner import run_sync
from ...api.vocabulary import REBUILDING, RUNNING, STOPPED, STOPPING
from .. import arguments
from ..ledger import Ledger, account_of, ledger_for
from ..operations import SUCCEEDED, Operation, StepPlan, store
from ..operations.steps.base import Sleep
from ..sync import AnyClient, async_side, shows_signature_of
from .common import OperationFailed, OperationRefused, fetch_existing, fetch_image, make_driver, planned

KIND = "restore"


@dataclass(frozen=True)
class RestoreResult:
    """The instance, RUNNING on the image; the image of its former disk (None: not made, ``note`` says why)."""

    instance_id: str
    image_id: str
    backup_image_id: str | None
    note: str
    operation_id: str


def _result(operation: Operation) -> RestoreResult:
    return RestoreResult(str(operation.instance_id), str(operation.image_id), operation.facts.get("backup_image_id"),
                         str(operation.params.get("note", "")), operation.operation_id)


async def _backup_plan(client: Any, instance_id: str, zone_id: str) -> tuple[list[StepPlan], str]:
    quotas = await client.describe_image_quota([zone_id])
    free = next((q.free for q in quotas if q.zone_id == zone_id), 0)
    if free < 1:
        return [], f"No image of the current disk was made: {zone_id} has no free custom-image slot."
    name = "restore-" + datetime.now(timezone.utc).strftime("%y%m%d%H%M%S")
    return ([StepPlan("create_image", {"instance_id": instance_id, "image_name": name,
                                        "description": f"Disk of {instance_id} before a restore"})],
            f"The current disk was saved first as the image {name}.")


async def restore_instance_async(
    client: AnyClient, instance_id: str, image_id: str, *, confirm: str, stop: bool = False, backup: bool = True,
    password: str | None = None, key_id: str | None = None, timeout: float = 1800.0, ledger: Ledger | None = None,
    sleep: Sleep = asyncio.sleep, poll_interval: float = 2.0,
) -> RestoreResult:
    """Restore ``instance_id`` from ``image_id`` (module doc). Its system disk is formatted. ``confirm``: the
    instance's name, typed. ``password`` (never recorded) or ``key_id``: the login after the rebuild (default: the
    instance's key pair). Returns once the instance is RUNNING on the image."""
    arguments.id_arg(instance_id, "instance_id")
    arguments.id_arg(image_id, "image_id")
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    account = account_of(client)
    key = f"{KIND}:{instance_id}:{image_id}"
    instance = await fetch_existing(client, instance_id)
    if confirm != instance.instance_name:
        raise OperationRefused(f"Restoring formats the system disk of {instance_id}: type its name ({instance.instance_name!r}) "
                      "as confirm=...; nothing was sent.")
    plan: list[StepPlan] = []
    note = ""
    if store.unfinished(ledger, account, key) is None:
        image = await fetch_image(client, image_id)
        if image.zone_id != instance.zone_id:
            raise OperationRefused(f"Image {image_id} is in {image.zone_id}, instance {instance_id} in {instance.zone_id}: a restore "
                          "takes an image of the instance's zone; nothing was sent.")
        if image.image_size is not None and instance.system_disk_size is not None and image.image_size > instance.system_disk_size:
            raise OperationRefused(f"Image {image_id} ({image.image_size} GB) does not fit the {instance.system_disk_size} GB system "
                          f"disk of {instance_id}; nothing was sent.")
        status = instance.instance_status
        if status == RUNNING and not stop:
            raise OperationRefused(f"Instance {instance_id} is RUNNING: pass stop=True to stop it gracefully first; nothing was sent.")
        if status not in (RUNNING, STOPPED):
            raise OperationRefused(f"Instance {instance_id} is {status}; a restore starts from STOPPED (or RUNNING with stop=True). "
                          "Nothing was sent.")
        login = key_id or instance.key_id
        if login is None and password is None:
            raise OperationRefused(f"{instance_id} has no key pair: give password=... or key_id=... for the rebuilt disk; nothing "
                          "was sent.")
        target = {"instance_id": instance_id}
        if status == RUNNING:
            plan += [StepPlan("stop", target), StepPlan("wait_status", {**target, "status": STOPPED, "passing": [STOPPING]})]
        if backup:
            steps, note = await _backup_plan(client, instance_id, str(instance.zone_id))
            plan += steps
        plan += [StepPlan("reset", {**target, "image_id": image_id, "key_id": login}),
                 StepPlan("wait_status", {**target, "status": RUNNING, "passing": [REBUILDING], "timeout": timeout}),
                 StepPlan("on_image", {**target, "image_id": image_id})]
    driver = make_driver(client, ledger, account, sleep, poll_interval, password=password)
    operation, owner, _ = driver.claim(KIND, key, planned(plan, "restore"), zone_id=instance.zone_id,
                                       instance_id=instance_id, image_id=image_id,
                                       params={"instance_name": instance.instance_name, "note": note})
    done = await driver.drive(operation, owner)
    if done.outcome != SUCCEEDED:
        raise OperationFailed(done, f"The restore of {instance_id} from {image_id} failed")
    return _result(done)


@shows_signature_of(restore_instance_async)
def restore_instance(client: AnyClient, instance_id: str, image_id: str, **options: Any) -> RestoreResult:
    """:func:`restore_instance_async` for synchronous code."""
    return run_sync(restore_instance_async(client, instance_id, image_id, **options))
