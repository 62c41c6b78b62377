"""Power actions: stopping an instance (recorded), and waiting for a power state (STOPPED, RUNNING) by polling
DescribeInstancesStatus. The create workflow (:mod:`.create`) and the owed restart (:mod:`.restart`) use them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from .._runner import run_sync
from ..api.errors import NotFound
from ..api.vocabulary import STOP_INSTANCES
from ..rules import STOPPED, STOPPING
from . import arguments
from .preflight import fetch_instance
from .recorded import recorded
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from .ledger import Ledger

Sleep = Callable[[float], Awaitable[None]]


async def wait_for_power_state_async(
    client: AnyClient,
    instance_id: str,
    target: str,
    *,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    sleep: Sleep = asyncio.sleep,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """Poll DescribeInstancesStatus until the instance reaches ``target``; return it or raise TimeoutError."""
    arguments.id_arg(instance_id, "instance_id")
    arguments.text_arg(target, "target")  # a power state name, e.g. "STOPPED"
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    arguments.callback(on_status, "on_status")
    client = async_side(client)
    deadline = time.monotonic() + timeout
    while True:
        statuses = await client.describe_instances_status([instance_id])
        status = next((s.instance_status for s in statuses.items if s.instance_id == instance_id), "")
        if on_status is not None:
            on_status(status)
        if status == target:
            return status
        if time.monotonic() >= deadline:
            raise TimeoutError(f"Instance {instance_id} is still {status or 'unknown'} after {timeout:g} s (waiting for {target}).")
        await sleep(poll_interval)


def wait_for_power_state(
    client: AnyClient,
    instance_id: str,
    target: str,
    *,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """:func:`wait_for_power_state_async` for synchronous code."""
    return run_sync(wait_for_power_state_async(
        client, instance_id, target, timeout=timeout, poll_interval=poll_interval, on_status=on_status
    ))


async def stop_instance_async(
    client: AnyClient,
    instance_id: str,
    *,
    wait: bool = True,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    sleep: Sleep = asyncio.sleep,
    on_status: Callable[[str], None] | None = None,
    force: bool = False,
    ledger: Ledger | None = None,
) -> str:
    """Stop a RUNNING instance and (``wait=True``) follow STOPPING until STOPPED (recorded in ``ledger``, default:
    the client's).

    A graceful shutdown (``forceShutdown: false`` sent explicitly: the API's default is forced) unless
    ``force=True`` (a power-off: what is not yet written to disk is lost)."""
    arguments.id_arg(instance_id, "instance_id")
    arguments.flag(wait, "wait")
    arguments.flag(force, "force")
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    arguments.callback(on_status, "on_status")
    client = async_side(client)
    instance = await fetch_instance(client, instance_id)
    if instance is None:
        raise NotFound("INVALID_INSTANCE_NOT_FOUND", f"Instance {instance_id} was not found.", action=STOP_INSTANCES)
    if instance.instance_status not in (STOPPING, STOPPED):
        async with recorded(client, "stop", zone_id=instance.zone_id, instance_id=instance_id, ledger=ledger) as action:
            action.request_ids = await client.stop_instances([instance_id], force_shutdown=force)  # the API refuses
            # any state it cannot stop from
    if not wait:
        return STOPPED
    return await wait_for_power_state_async(
        client, instance_id, STOPPED, timeout=timeout, poll_interval=poll_interval, sleep=sleep, on_status=on_status
    )


def stop_instance(
    client: AnyClient,
    instance_id: str,
    *,
    wait: bool = True,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    on_status: Callable[[str], None] | None = None,
    force: bool = False,
    ledger: Ledger | None = None,
) -> str:
    """:func:`stop_instance_async` for synchronous code (runbooks, papermill, scripts)."""
    return run_sync(stop_instance_async(
        client, instance_id, wait=wait, timeout=timeout, poll_interval=poll_interval, on_status=on_status, force=force,
        ledger=ledger,
    ))

__all__ = ["stop_instance", "stop_instance_async", "wait_for_power_state", "wait_for_power_state_async"]
