"""Starting an instance again after imaging it: the restart is an intent in the ledger.

Before a create stops an instance (or whenever it is to start it afterwards) a ``start`` action
with outcome ``planned`` goes into the ledger. The start itself appends a ``start`` action with its
real outcome (``done``, ``refused``, ``unknown``) or ``cancelled``/``not_needed``; so the newest
``start`` action of an instance says whether a restart is still owed, also after a crash or a
kernel restart (:func:`pending_restart`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._runner import run_sync
from ..api.errors import ZenlayerError
from ..rules import RUNNING, STOPPED
from . import arguments
from .changes import recorded
from .ledger import Action, Ledger, account_of, ledger_for
from .ledger.records import now_text
from .power import wait_for_power_state_async
from .preflight import fetch_instance
from .sync import AnyClient, async_side

Sleep = Callable[[float], Awaitable[None]]

PLANNED = "planned"  # a start is owed once the image is made
CANCELLED = "cancelled"  # the owed start will not happen (asked not to, or nothing was stopped)
NOT_NEEDED = "not_needed"  # the instance was RUNNING again already
_STOPPED_AT = "stopped at "
STARTING = "STARTING"  # what the studio shows between the start request and RUNNING


class RestartFailed(ZenlayerError):
    """The image was made (or the create failed) but the instance could not be started again."""

    def __init__(self, message: str, progress: object | None = None) -> None:
        self.progress = progress
        super().__init__(message)


def plan_restart(ledger: Ledger, client: AnyClient, instance_id: str, zone_id: str, image_name: str,
                 stopped_at: str | None = None) -> None:
    """Record that ``instance_id`` is to be started again once ``image_name`` is made."""
    ledger.record_action("start", account=account_of(client), outcome=PLANNED, zone_id=zone_id, instance_id=instance_id,
                         image_name=image_name, detail=None if stopped_at is None else _STOPPED_AT + stopped_at)


def pending_restart(ledger: Ledger, client: AnyClient, instance_id: str) -> Action | None:
    """The planned start of ``instance_id`` that has not happened yet, if there is one."""
    latest = ledger.history(account_of(client), kinds=["start"], instance_id=instance_id, limit=1)
    return latest[0] if latest and latest[0].outcome == PLANNED else None


def stopped_at_of(action: Action | None) -> str | None:
    """When the instance was stopped, as a planned or done start records it."""
    detail = (action.detail or "") if action is not None else ""
    return detail[len(_STOPPED_AT):] if detail.startswith(_STOPPED_AT) else None


def stopped_since(ledger: Ledger, client: AnyClient, instance_id: str, plan: Action | None) -> str | None:
    """When the instance a planned start is owed to was stopped: the plan's note, else the stop recorded after it."""
    if plan is None:
        return None
    noted = stopped_at_of(plan)
    if noted is not None:
        return noted
    stops = [a for a in ledger.history(account_of(client), kinds=["stop"], instance_id=instance_id, limit=5)
             if a.at >= plan.at and a.outcome == "done"]
    return stops[-1].at if stops else None


def close_restart(ledger: Ledger, client: AnyClient, instance_id: str, zone_id: str | None, outcome: str,
                  detail: str | None = None) -> None:
    """Close an owed start without starting (``cancelled`` or ``not_needed``)."""
    ledger.record_action("start", account=account_of(client), outcome=outcome, zone_id=zone_id, instance_id=instance_id,
                         detail=detail)


async def restart_async(client: AnyClient, instance_id: str, *, zone_id: str | None = None,
                        stopped_at: str | None = None, timeout: float = 600.0, poll_interval: float = 1.0,
                        sleep: Sleep = asyncio.sleep, ledger: Ledger | None = None,
                        on_status: Callable[[str], None] | None = None) -> str:
    """Start a STOPPED instance and wait until RUNNING; the time it was (when the start is recorded, closing any
    planned start: the Activity's downtime ends there too). ``on_status`` sees each power state on the way.

    An instance already RUNNING closes the plan as ``not_needed``. :class:`RestartFailed` says why otherwise.
    """
    arguments.id_arg(instance_id, "instance_id")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(stopped_at, "stopped_at", optional=True)
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    instance = await fetch_instance(client, instance_id)
    if instance is None:
        raise RestartFailed(f"Instance {instance_id} was not found; it could not be started again.")
    state = instance.instance_status
    if state == RUNNING:
        close_restart(ledger, client, instance_id, instance.zone_id, NOT_NEEDED, "already RUNNING")
        return now_text()
    if state != STOPPED:
        state = await wait_for_power_state_async(client, instance_id, STOPPED, timeout=timeout,
                                                 poll_interval=poll_interval, sleep=sleep)
    zone = zone_id or instance.zone_id
    try:  # the start is recorded once RUNNING (or failed): its time is the end of the downtime, one figure everywhere
        async with recorded(client, "start", zone_id=zone, instance_id=instance_id, ledger=ledger,  # closes the plan
                            detail=None if stopped_at is None else _STOPPED_AT + stopped_at) as action:
            action.request_ids = await client.start_instances([instance_id])
            if on_status is not None:
                on_status(STARTING)
            await wait_for_power_state_async(client, instance_id, RUNNING, timeout=timeout, poll_interval=poll_interval,
                                             sleep=sleep, on_status=on_status)
    except (ZenlayerError, TimeoutError) as error:
        raise RestartFailed(f"Instance {instance_id} could not be started again: {error}. "
                            "Start it from the studio or with zenlayer_widgets.start_instance(client, instance_id).") from error
    latest = ledger.history(account_of(client), kinds=["start"], instance_id=instance_id, limit=1)
    return latest[0].at if latest and latest[0].outcome == "done" else now_text()


def restart(client: AnyClient, instance_id: str, *, zone_id: str | None = None, stopped_at: str | None = None,
            timeout: float = 600.0, poll_interval: float = 1.0) -> str:
    """:func:`restart_async` for synchronous code."""
    return run_sync(restart_async(client, instance_id, zone_id=zone_id, stopped_at=stopped_at, timeout=timeout,
                                  poll_interval=poll_interval))
