"""Waiting for an instance's power state (STOPPED, RUNNING) by polling DescribeInstancesStatus.

Its own module because both the create workflow (:mod:`.create`) and the owed restart (:mod:`.restart`) wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from .._runner import run_sync
from . import arguments
from .sync import AnyClient, async_side

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


__all__ = ["wait_for_power_state", "wait_for_power_state_async"]
