"""``zw.launch_from_image``: one new instance from an image, with the settings of an existing one (``like``).

One operation: price (shown first), launch (tagged with the operation's id: a lost answer is reconciled by the
tag, never sent again blind), wait RUNNING. Its key is (image, like, name): run again with the same three, it
resumes the unfinished operation or returns the instance the finished one made, never a second.
"""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass
from typing import Any

from ..._runner import run_sync
from ...api.vocabulary import DEPLOYING, MAX_INSTANCE_NAME_LENGTH, PENDING, RUNNING
from .. import arguments
from ..ledger import Ledger, account_of, ledger_for
from ..operations import SUCCEEDED, Operation, StepPlan, store
from ..operations.steps.base import Sleep
from ..sync import AnyClient, async_side, shows_signature_of
from .common import OperationFailed, OperationRefused, PriceCallback, fetch_existing, fetch_image, make_driver, planned

KIND = "launch"


@dataclass(frozen=True)
class LaunchResult:
    """The launched instance, its hourly price, and the operation (``reused``: an earlier run had launched it)."""

    instance_id: str
    image_id: str
    price: float | None
    instance_type: str | None
    operation_id: str
    reused: bool = False


def _result(operation: Operation, reused: bool) -> LaunchResult:
    launch = operation.step("launch")
    return LaunchResult(str(operation.facts["instance_id"]), str(operation.image_id), operation.facts.get("price"),
                        None if launch is None else launch.params.get("instance_type"), operation.operation_id, reused)


_NAME = re.compile(rf"^[A-Za-z0-9.-]{{1,{MAX_INSTANCE_NAME_LENGTH}}}$")


def check_instance_name(name: str) -> str:
    """An instance name the API takes: 1 to 64 letters, digits, ``-`` and ``.``."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise ValueError(f"name must be 1 to {MAX_INSTANCE_NAME_LENGTH} letters, digits, '-' or '.', not {name!r}; "
                         "nothing was sent.")
    return name


async def launch_from_image_async(
    client: AnyClient, image_id: str, *, like: str, name: str, password: str | None = None, key_id: str | None = None,
    timeout: float = 900.0, ledger: Ledger | None = None, on_price: PriceCallback | None = None,
    sleep: Sleep = asyncio.sleep, poll_interval: float = 2.0,
) -> LaunchResult:
    """Launch one instance named ``name`` from ``image_id`` with ``like``'s type, subnet, security group, bandwidth
    and charge types (POSTPAID), logging in with ``like``'s key pair, else ``key_id`` or ``password`` (never
    recorded); wait until RUNNING. :class:`OperationRefused` (nothing sent) for an image not AVAILABLE or of another zone."""
    check_instance_name(name)
    arguments.id_arg(image_id, "image_id")
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    account = account_of(client)
    key = f"{KIND}:{image_id}:{like}:{name}"
    made = store.latest(ledger, account, key, outcome=SUCCEEDED)
    if made is not None:
        return _result(made, reused=True)
    driver = make_driver(client, ledger, account, sleep, poll_interval, password=password, on_price=on_price)
    plan: list[StepPlan] = []
    zone_id = None
    if store.unfinished(ledger, account, key) is None:
        image = await fetch_image(client, image_id)
        model = await fetch_existing(client, like)
        if model.zone_id != image.zone_id:
            raise OperationRefused(f"Image {image_id} is in {image.zone_id} and {like} in {model.zone_id}: an instance is launched "
                          "in its image's zone; nothing was sent.")
        login = model.key_id or key_id
        if login is None and password is None:
            raise OperationRefused(f"{like} has no key pair: give key_id=... or password=... for the new instance; nothing was sent.")
        zone_id = model.zone_id
        shape = {"zone_id": model.zone_id, "instance_type": model.instance_type,
                 "internet_charge_type": model.internet_charge_type,
                 "internet_max_bandwidth_out": model.internet_max_bandwidth_out,
                 "system_disk_size": model.system_disk_size}
        plan = [StepPlan("price", shape),
                StepPlan("launch", {**shape, "image_id": image_id, "instance_name": name, "subnet_id": model.subnet_id,
                                    "security_group_id": next(iter(model.security_group_ids), None), "key_id": login}),
                StepPlan("wait_status", {"status": RUNNING, "passing": [PENDING, DEPLOYING], "timeout": timeout})]
    operation, owner, _ = driver.claim(KIND, key, planned(plan, "launch"), zone_id=zone_id, image_id=image_id,
                                       instance_id=like, params={"like": like, "name": name})
    done = await driver.drive(operation, owner)
    if done.outcome != SUCCEEDED:
        made_id = done.facts.get("instance_id")
        raise OperationFailed(done, f"The launch of {name!r} from {image_id} failed"
                                    + (f"; instance {made_id} was made and is left as it is" if made_id else ""))
    return _result(done, reused=False)


@shows_signature_of(launch_from_image_async)
def launch_from_image(client: AnyClient, image_id: str, **options: Any) -> LaunchResult:
    """:func:`launch_from_image_async` for synchronous code."""
    return run_sync(launch_from_image_async(client, image_id, **options))
