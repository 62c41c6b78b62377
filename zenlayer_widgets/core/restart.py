"""Starting an instance again after imaging it; the start a create owes is its operation's pending start step.

A create that stops an instance plans its start in the ledger before the stop is sent (:mod:`.owed_start`); so
:func:`pending_restart` says whether a restart is still owed, also after a crash or a kernel restart. The start
itself appends a ``start`` action with its real outcome (``done``, ``refused``, ``unknown``) or
``cancelled``/``not_needed``, with when the instance was stopped (the Activity's downtime). Each create also
writes a ``planned`` start action when it plans the start: history only (the Activity's line), never the state.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from .._runner import run_sync
from ..api.errors import ZenlayerError
from ..rules import BOOTING, RUNNING, STOPPED
from . import arguments, owed_start
from .create_plan import KIND, create_key, plan_steps
from .ledger import Action, Ledger, account_of, ledger_for
from .ledger.ownership import new_owner
from .ledger.records import now_text
from .operations import store
from .owed_start import STOPPED_AT
from .power import wait_for_power_state_async
from .preflight import fetch_instance
from .recorded import recorded
from .sync import AnyClient, async_side

Sleep = Callable[[float], Awaitable[None]]

PLANNED = owed_start.PLANNED_OUTCOME  # a start is owed once the image is made (the history row's outcome)
CANCELLED = "cancelled"  # the owed start will not happen (asked not to, or nothing was stopped)
NOT_NEEDED = "not_needed"  # the instance was RUNNING again already
STARTING = "STARTING"  # what the studio shows between the start request and RUNNING


class RestartFailed(ZenlayerError):
    """The image was made (or the create failed) but the instance could not be started again."""

    def __init__(self, message: str, progress: object | None = None) -> None:
        self.progress = progress
        super().__init__(message)


def note_planned(ledger: Ledger, account: str, instance_id: str, zone_id: str | None, image_name: str,
                 stopped_at: str | None = None) -> None:
    """The Activity's history line for a planned start (a failure to write warns)."""
    ledger.record_action("start", account=account, outcome=PLANNED, zone_id=zone_id, instance_id=instance_id,
                         image_name=image_name, detail=None if stopped_at is None else STOPPED_AT + stopped_at)


def plan_restart(ledger: Ledger, client: AnyClient, instance_id: str, zone_id: str, image_name: str,
                 stopped_at: str | None = None) -> None:
    """Record that ``instance_id`` is to be started again once ``image_name`` is made: the create of that name
    owes the start (an unfinished operation; re-running the create, or a start by hand, settles it)."""
    account = account_of(client)
    key = create_key(instance_id, image_name)
    if store.unfinished(ledger, account, key) is None:
        plan = plan_steps(instance_id, image_name, None, stop=False, force=False, start=True)
        store.begin(ledger, account, KIND, key, plan, owner=new_owner(), zone_id=zone_id,
                    instance_id=instance_id, params={"image_name": image_name},
                    facts={} if stopped_at is None else {"stopped_at": stopped_at})
    note_planned(ledger, account, instance_id, zone_id, image_name, stopped_at)


def pending_restart(ledger: Ledger, client: AnyClient, instance_id: str) -> Action | None:
    """The planned start of ``instance_id`` that has not happened yet, if there is one (as a ``planned`` action)."""
    owing = owed_start.owing(ledger, account_of(client), instance_id)
    return owed_start.as_action(owing[0]) if owing else None


def stopped_at_of(action: Action | None) -> str | None:
    """When the instance was stopped, as a planned or done start records it."""
    detail = (action.detail or "") if action is not None else ""
    return detail[len(STOPPED_AT):] if detail.startswith(STOPPED_AT) else None


def close_restart(ledger: Ledger, client: AnyClient, instance_id: str, zone_id: str | None, outcome: str,
                  detail: str | None = None) -> None:
    """Record that an owed start will not be made (``cancelled`` or ``not_needed``)."""
    ledger.record_action("start", account=account_of(client), outcome=outcome, zone_id=zone_id, instance_id=instance_id,
                         detail=detail)


async def start_again(client: AnyClient, ledger: Ledger, instance_id: str, *, zone_id: str | None = None,
                      stopped_at: str | None = None, timeout: float = 600.0, poll_interval: float = 1.0,
                      sleep: Sleep = asyncio.sleep, on_status: Callable[[str], None] | None = None) -> str:
    """Start the instance unless its status shows it is (being) started already, and wait until RUNNING; when it
    was. Safe to run again after a kill: the status decides, so StartInstances is never sent to a booting one."""
    client = async_side(client)
    instance = await fetch_instance(client, instance_id)
    if instance is None:
        raise RestartFailed(f"Instance {instance_id} was not found; it could not be started again.")
    state, zone = instance.instance_status, zone_id or instance.zone_id
    detail = None if stopped_at is None else STOPPED_AT + stopped_at
    try:
        if state == RUNNING:
            close_restart(ledger, client, instance_id, zone, NOT_NEEDED, "already RUNNING")
            return now_text()
        if state == BOOTING:  # an earlier run's start landed: follow it, record it
            await wait_for_power_state_async(client, instance_id, RUNNING, timeout=timeout, poll_interval=poll_interval,
                                             sleep=sleep, on_status=on_status)
            ledger.record_action("start", account=account_of(client), outcome="done", zone_id=zone,
                                 instance_id=instance_id, detail=detail)
            return now_text()
        if state != STOPPED:
            await wait_for_power_state_async(client, instance_id, STOPPED, timeout=timeout, poll_interval=poll_interval,
                                             sleep=sleep)
        # the start is recorded once RUNNING (or failed): its time is the end of the downtime, one figure everywhere
        async with recorded(client, "start", zone_id=zone, instance_id=instance_id, ledger=ledger,
                            detail=detail) as action:
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


async def restart_async(client: AnyClient, instance_id: str, *, zone_id: str | None = None,
                        stopped_at: str | None = None, timeout: float = 600.0, poll_interval: float = 1.0,
                        sleep: Sleep = asyncio.sleep, ledger: Ledger | None = None,
                        on_status: Callable[[str], None] | None = None) -> str:
    """Start a STOPPED instance and wait until RUNNING; the time it was (when the start is recorded, settling any
    start a create owes it: the Activity's downtime ends there too). ``on_status`` sees each power state on the way.

    An instance already RUNNING settles the owed start as ``not_needed``. :class:`RestartFailed` says why otherwise.
    """
    arguments.id_arg(instance_id, "instance_id")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(stopped_at, "stopped_at", optional=True)
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    at = await start_again(client, ledger, instance_id, zone_id=zone_id, stopped_at=stopped_at, timeout=timeout,
                           poll_interval=poll_interval, sleep=sleep, on_status=on_status)
    owed_start.settle(ledger, account_of(client), instance_id)
    return at


def restart(client: AnyClient, instance_id: str, *, zone_id: str | None = None, stopped_at: str | None = None,
            timeout: float = 600.0, poll_interval: float = 1.0) -> str:
    """:func:`restart_async` for synchronous code."""
    return run_sync(restart_async(client, instance_id, zone_id=zone_id, stopped_at=stopped_at, timeout=timeout,
                                  poll_interval=poll_interval))
