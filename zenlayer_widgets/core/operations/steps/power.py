"""Steps that change or wait for an instance's power state: stop (graceful), start, wait for a status."""

from __future__ import annotations

import time
from typing import Any

from ....api.vocabulary import BOOTING, RUNNING, STOPPED, STOPPING
from ...ledger.records import now_text
from ...recorded import recorded
from ..model import StepFailed
from .base import Evidence, StepKind, StepRun, register, request_id


async def instance_status(run: StepRun, instance_id: str) -> str | None:
    """The instance's status now (None: not listed)."""
    statuses = await run.client.describe_instances_status([instance_id])
    return next((s.instance_status for s in statuses.items if s.instance_id == instance_id), None)


async def status_evidence(run: StepRun, landed: frozenset[str], result: dict[str, Any], *,
                          gone: bool | None = None) -> Evidence:
    """Evidence from the instance's status alone: landed when it is in ``landed``; an instance no longer listed
    counts as ``gone`` (landed True, or None: ambiguous); any other status: not landed (yet)."""
    status = await instance_status(run, run.need("instance_id"))
    if status in landed or (status is None and gone):
        return Evidence(True, result, f"the instance is {status or 'gone'}", {"status": status})
    if status is None:
        return Evidence(None, reason="the instance is no longer listed")
    return Evidence(False, reason=f"the instance is {status}", seen={"status": status})


class PowerChange(StepKind):
    """StopInstances / StartInstances of ``instance_id`` (recorded as an action). Landed: the instance is in one of
    ``landed`` (also checked before sending: nothing is sent when it is there already)."""

    landed: frozenset[str] = frozenset()

    async def _send(self, run: StepRun, instance_id: str) -> list[str]:
        raise NotImplementedError

    async def send(self, run: StepRun) -> dict[str, Any]:
        instance_id = run.need("instance_id")
        if await instance_status(run, instance_id) in self.landed:
            return {f"{self.name}_request_id": None}
        async with recorded(run.client, self.name, zone_id=run.param("zone_id"), instance_id=instance_id,
                            ledger=run.ledger) as action:
            action.request_ids = await self._send(run, instance_id)
        return {f"{self.name}_request_id": request_id(action.request_ids)}

    async def look(self, run: StepRun) -> Evidence:
        return await status_evidence(run, self.landed, {f"{self.name}_request_id": None})


@register
class Stop(PowerChange):
    """StopInstances, graceful (``force`` param for a power-off). Landed: the instance is STOPPING or STOPPED."""

    name = "stop"
    landed = frozenset({STOPPING, STOPPED})

    async def _send(self, run: StepRun, instance_id: str) -> list[str]:
        return await run.client.stop_instances([instance_id], force_shutdown=bool(run.param("force")))


@register
class Start(PowerChange):
    """StartInstances. Landed: the instance is BOOTING or RUNNING."""

    name = "start"
    landed = frozenset({BOOTING, RUNNING})

    async def _send(self, run: StepRun, instance_id: str) -> list[str]:
        return await run.client.start_instances([instance_id])


@register
class WaitStatus(StepKind):
    """Poll until the instance (``instance_id``) is ``status``; a read, so safe to run again. Fails (code
    ``NOT_<STATUS>``) when the instance settles in a status outside ``passing`` (the transitional ones), or
    ``TIMEOUT``. Its result: ``<status>_at``, when it was seen (e.g. ``running_at``)."""

    name = "wait_status"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        instance_id, target = run.need("instance_id"), str(run.need("status"))
        passing = set(run.param("passing") or ())
        timeout = float(run.param("timeout") or 600.0)
        poll = float(run.extras.get("poll", 1.0))
        started = time.monotonic()
        while True:
            status = await instance_status(run, instance_id)
            if status == target:
                return {f"{target.lower()}_at": now_text()}
            if status is None or (status not in passing and passing):
                raise StepFailed(f"NOT_{target}", f"Instance {instance_id} is {status or 'not listed'}, not {target}.")
            if time.monotonic() - started > timeout:
                raise StepFailed("TIMEOUT", f"Instance {instance_id} is still {status} after {timeout:g} s.")
            await run.sleep(poll)
