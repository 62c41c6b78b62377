"""The create-image workflow in plain Python: preflight, submit exactly once, wait; and stop-and-wait.

CreateImage is not idempotent and the API has no client token. Every create is an *intent* in the
ledger (:mod:`.ledger`), written with a snapshot of the zone before anything is sent. When an
outcome is unknown (timeout, dropped connection, 5xx, garbled answer, an interrupt, a crash) the
evidence decides (:mod:`.reconcile`): the image is adopted only when it is provably this intent's,
CreateImage is sent again only once no lost request can still land, and otherwise the run stops
with :class:`CreateOutcomeUnknown`. It never retries blindly, and never adopts a colleague's image.

Each ``*_async`` function takes either client and has a sync form of the same name without the
suffix (``create_image``, ``wait_for_image``, ``stop_instance``, ``wait_for_power_state``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .._runner import run_sync
from ..api.errors import APIError, ConnectError, NotFound, RateLimited, TransportError, ZenlayerError
from ..api.models import Image, Instance
from ..api.vocabulary import STOP_INSTANCES
from ..rules import AVAILABLE, CREATING, CUSTOM_IMAGE, RUNNING, STOPPED, STOPPING, UNAVAILABLE
from . import arguments
from .after_send import or_memory
from .changes import recorded
from .create_errors import CreateConflict as CreateConflict  # this module's API too
from .create_errors import CreateImageError as CreateImageError
from .create_errors import ImageCreationFailed as ImageCreationFailed
from .create_errors import ImageWaitTimeout as ImageWaitTimeout
from .create_errors import InstanceRunning as InstanceRunning
from .create_errors import PreflightFailed as PreflightFailed
from .intents import (  # noqa: F401 - resume_intent and settle_intent are part of this module's API too
    adopted,
    follow_recorded,
    notify,
    resume_intent,
    settle_intent,
    settle_intent_async,
)
from .ledger import (
    NOT_MADE,
    UNKNOWN,
    Action,
    IntentConflict,
    Ledger,
    LedgerEntry,
    NotOwner,
    account_of,
    ledger_for,
)
from .ledger.ownership import new_owner, working
from .ledger.records import now_text
from .power import wait_for_power_state, wait_for_power_state_async  # noqa: F401 - part of this API too
from .preflight import FIX_STOP_INSTANCE, Preflight, check_arguments, fetch_instance, local_preflight, preflight_async
from .progress import ImageProgress
from .reconcile import CreateOutcomeUnknown, reconcile, settle_seconds, take_snapshot
from .rerun import made_before, made_since
from .restart import CANCELLED, RestartFailed, close_restart, pending_restart, plan_restart, restart_async, stopped_since
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[["ImageProgress"], None]

#: How many times CreateImage may be sent for one intent (each after the evidence proved no image was made).
MAX_CREATE_ATTEMPTS = 3


def _outcome_unknown(error: BaseException) -> bool:
    return isinstance(error, (TransportError, APIError)) and bool(getattr(error, "outcome_unknown", False))


async def find_custom_image(client: AsyncZenlayerClient, zone_id: str, image_name: str) -> Image | None:
    """The zone's (first) custom image with exactly this name, if there is one."""
    images = await client.list_images(zone_id, image_name=image_name, image_type=CUSTOM_IMAGE)
    return next((image for image in images if image.image_name == image_name), None)


def _close_if_open(ledger: Ledger, entry: LedgerEntry, outcome: str, error: BaseException, account: str) -> None:
    """Record how a send ended unless the intent was closed already (the error being raised matters more)."""
    try:
        latest = ledger.get(entry.intent_id)
    except Exception:  # noqa: BLE001 - the ledger itself failing: the next run reconciles the open intent
        return
    if latest is not None and latest.open:
        ledger.record(entry.intent_id, outcome, account=account, error=error)


async def _send(
    client: AsyncZenlayerClient, ledger: Ledger, entry: LedgerEntry, owner: str, sleep: Sleep,
    on_progress: ProgressCallback | None, unknown_before: bool = False,
) -> ImageProgress:
    """Send CreateImage for ``entry`` (owned by ``owner``) at most :data:`MAX_CREATE_ATTEMPTS` times, each resend
    only after the evidence proved nothing was made; record every outcome in the ledger."""
    progress = ImageProgress("submitting", entry.instance_id, entry.zone_id, entry.image_name, intent_id=entry.intent_id)
    sent, account = entry.sent_at is not None, account_of(client)
    try:
        for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
            progress = replace(progress, phase="submitting", attempts=attempt)
            notify(on_progress, progress)
            ledger.mark_sent(entry.intent_id, owner)  # before the request: it may land from now on
            sent = True
            try:
                result = await client.create_image(entry.instance_id, entry.image_name, entry.description)
            except ConnectError as failure:
                if attempt == MAX_CREATE_ATTEMPTS and not unknown_before:
                    raise
                if attempt < MAX_CREATE_ATTEMPTS:
                    await sleep(0.5 * attempt)  # nothing was sent: safe to send again
                    continue
                error: BaseException = failure  # this one never left, but an earlier one may still show up
            except (TransportError, APIError) as failure:
                if not (_outcome_unknown(failure) or unknown_before):
                    raise  # a definite refusal, and no earlier attempt may have landed
                error = failure
            else:
                progress = replace(progress, phase="submitted", image_id=result.image_id, request_id=result.request_id,
                                   status=CREATING)
                ledger.record_progress(entry.intent_id, progress, account=account)
                return progress
            # unknown, or a refusal (name taken, disk imaging) after an attempt that may have landed
            unknown_before = True
            notify(on_progress, replace(progress, phase="reconciling"))
            verdict = await reconcile(client, ledger, entry.intent_id, owner, error, sleep, known=entry)
            if verdict.image is not None:
                progress = adopted(progress, verdict.image)
                ledger.record_progress(entry.intent_id, progress, account=account)
                return progress
            if attempt == MAX_CREATE_ATTEMPTS:
                ledger.record(entry.intent_id, NOT_MADE, account=account, error=error)  # proven: nothing was made
                raise error
    except CreateOutcomeUnknown as error:
        ledger.record(entry.intent_id, UNKNOWN, account=account, error=error)  # stays open: the next run reconciles it
        raise
    except NotOwner:
        raise IntentConflict(or_memory(lambda: ledger.get(entry.intent_id), None, "reading the intent") or entry) from None
    except ZenlayerError as error:
        _close_if_open(ledger, entry, UNKNOWN if unknown_before else NOT_MADE, error, account)
        raise
    except BaseException as error:  # an interrupt, a bug: if anything went out, the next run reconciles it
        _close_if_open(ledger, entry, UNKNOWN if sent else NOT_MADE, error, account)
        raise
    raise AssertionError("unreachable")  # pragma: no cover


async def submit_image(
    client: AsyncZenlayerClient,
    instance: Instance,
    image_name: str,
    description: str | None = None,
    *,
    ledger: Ledger | None = None,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
) -> ImageProgress:
    """Begin an intent (with the zone's snapshot) in ``ledger`` (default: a private in-memory one) and send
    CreateImage once per intent, reconciling every unknown outcome on evidence before any resend."""
    ledger = Ledger(None) if ledger is None else ledger
    snapshot = await take_snapshot(client, instance, sleep)
    owner = new_owner()
    entry = ledger.begin(account_of(client), instance.instance_id, instance.zone_id, image_name, description,
                         snapshot=snapshot, settle_seconds=settle_seconds(client), owner=owner)
    with working(owner):
        return await _send(client, ledger, entry, owner, sleep, on_progress)


async def wait_for_image_async(
    client: AnyClient,
    progress: ImageProgress,
    *,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> ImageProgress:
    """Poll the image until AVAILABLE (returned) or UNAVAILABLE / timeout (raised, with its id)."""
    if not isinstance(progress, ImageProgress):
        raise arguments.BadArgumentType(f"progress must be an ImageProgress (e.g. error.progress), not {type(progress).__name__}")
    if progress.image_id is None:
        raise arguments.BadArgument("wait_for_image needs the progress of a submitted create (it has no image id)")
    arguments.seconds(timeout, "timeout")
    arguments.poll_interval(poll_interval)
    arguments.callback(on_progress, "on_progress")
    image_id = progress.image_id
    client = async_side(client)
    started = clock() - progress.elapsed
    while True:
        try:
            page = await client.describe_images(progress.zone_id, image_ids=[image_id])
            image = next((i for i in page.items if i.image_id == progress.image_id), None)
            if image is not None:
                progress = replace(progress, status=image.image_status, image=image)
        except (TransportError, APIError) as error:
            if not (_outcome_unknown(error) or isinstance(error, (ConnectError, RateLimited))):
                raise  # a definite refusal; passing hiccups only delay the next poll
        progress = replace(progress, phase="waiting", elapsed=clock() - started)
        if progress.status == AVAILABLE:
            progress = replace(progress, phase="done")
            notify(on_progress, progress)
            return progress
        if progress.status == UNAVAILABLE:
            progress = replace(progress, phase="failed")
            notify(on_progress, progress)
            raise ImageCreationFailed(progress)
        if progress.elapsed >= timeout:
            progress = replace(progress, phase="timeout")
            notify(on_progress, progress)
            raise ImageWaitTimeout(progress, timeout)
        notify(on_progress, progress)
        await sleep(min(poll_interval, max(timeout - progress.elapsed, 0.0)))


async def _after_conflict(
    client: AsyncZenlayerClient, ledger: Ledger, conflict: IntentConflict, instance: Instance, image_name: str,
    description: str | None, sleep: Sleep, on_progress: ProgressCallback | None,
) -> ImageProgress:
    """Another open intent holds the name or the instance. The same create begun by another kernel meanwhile:
    follow it. One whose image has finished since (a wait that timed out, never re-run): close it and go on.
    Anything else: the conflict, naming who holds it (nothing was sent)."""
    existing = conflict.existing
    if (existing.instance_id, existing.image_name) == (instance.instance_id, image_name):
        progress = await resume_intent(client, ledger, instance.instance_id, image_name, sleep=sleep, on_progress=on_progress)
        if progress is not None:
            return progress
    elif existing.image_id is not None:
        stale = ImageProgress("reconciling", existing.instance_id, existing.zone_id, existing.image_name,
                              intent_id=existing.intent_id)
        followed = await follow_recorded(client, ledger, existing, stale, sleep)  # records AVAILABLE, FAILED or GONE
        if followed is None or followed.finished:
            return await submit_image(client, instance, image_name, description, ledger=ledger, sleep=sleep,
                                      on_progress=on_progress)
    raise conflict


async def create_image_async(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    stop_if_running: bool = False,
    start_after: bool | None = None,
    force_stop: bool = False,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    power_timeout: float = 600.0,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
    ledger: Ledger | None = None,
) -> ImageProgress:
    """Preflight, then CreateImage exactly once, then (``wait=True``) follow it to AVAILABLE.

    A RUNNING instance fails the preflight (:class:`InstanceRunning`, nothing changed) unless
    ``stop_if_running``: then it is stopped gracefully (``force_stop=True``: a forced power-off), waited
    STOPPED, imaged, and once the image is AVAILABLE started again and waited RUNNING when
    ``start_after`` (default: when this call stopped it). The start is owed in the ledger before the
    stop is sent (:mod:`.restart`), so a re-run after a crash still starts it. The result's
    ``stopped_at``/``started_at`` are the downtime.

    The intent goes into ``ledger`` (default: :func:`~zenlayer_widgets.core.ledger.ledger_for` the
    client) before anything is sent, with a snapshot of the zone; its
    outcomes after. An intent for the same instance and name that an earlier run left open (crash,
    interrupt, unknown outcome, wait timeout) is taken up first (:func:`resume_intent`).

    A name or description that breaks the local rules (or an empty instance id) is refused before anything is
    read or sent: that :class:`PreflightFailed` holds those checks alone (:func:`preflight` lists every reason).

    Raises :class:`PreflightFailed` (nothing sent), :class:`ImageCreationFailed`,
    :class:`ImageWaitTimeout` (with the image id and last status), :class:`CreateOutcomeUnknown`
    (with the candidates), :class:`IntentConflict` (another run's create holds the name or instance)
    or :class:`~zenlayer_widgets.core.restart.RestartFailed` (the image is made, the start failed).
    """
    check_arguments(instance_id, image_name, description)  # before the ledger or the API sees them
    _check_options(stop_if_running, start_after, force_stop, wait, timeout, poll_interval, power_timeout, on_progress)
    local = local_preflight(instance_id, image_name, description)
    if not local.ok:  # the local rules: refused before the ledger is read or anything is sent
        raise PreflightFailed(local)
    client = async_side(client)
    if ledger is None:
        ledger = ledger_for(client)
    owed = pending_restart(ledger, client, instance_id)  # an earlier run stopped it and still owes the start
    stopped_at = stopped_since(ledger, client, instance_id, owed)
    started = time.monotonic()
    progress = await _earlier_run(client, ledger, instance_id, image_name, description, owed, sleep, on_progress)
    if progress is None:
        checks = await preflight_async(client, instance_id, image_name, description)
        if _only_running(checks):
            if not stop_if_running:
                raise InstanceRunning(checks)
            assert checks.instance is not None
            if start_after is not False:
                plan_restart(ledger, client, instance_id, checks.instance.zone_id, image_name)
            stopping = ImageProgress("stopping", instance_id, checks.instance.zone_id, image_name,
                                     instance_status=STOPPING, stopped_at=now_text())  # the downtime starts here
            notify(on_progress, stopping)
            try:
                await stop_instance_async(client, instance_id, timeout=power_timeout, sleep=sleep, force=force_stop,
                                          ledger=ledger, on_status=_power_step(on_progress, stopping))
            except (ZenlayerError, TimeoutError):
                await _give_back(client, ledger, instance_id, None, start_after, power_timeout, sleep)
                raise
            stopped_at = stopping.stopped_at
            checks = await preflight_async(client, instance_id, image_name, description)
        elif start_after and checks.ok and checks.instance is not None and pending_restart(ledger, client, instance_id) is None:
            plan_restart(ledger, client, instance_id, checks.instance.zone_id, image_name)
        if not checks.ok or checks.instance is None:
            await _give_back(client, ledger, instance_id, stopped_at, start_after, power_timeout, sleep)
            raise PreflightFailed(checks)
        started = time.monotonic()
        try:
            progress = await _submit_or_follow(client, ledger, checks.instance, image_name, description, sleep,
                                               on_progress)
        except (APIError, IntentConflict) as error:
            if not _outcome_unknown(error):  # definitely nothing made: give the instance back
                await _give_back(client, ledger, instance_id, stopped_at, start_after, power_timeout, sleep)
            raise
    intent_id = progress.intent_id
    assert intent_id is not None
    progress = replace(progress, elapsed=time.monotonic() - started, stopped_at=stopped_at)
    notify(on_progress, progress)
    if not wait:
        return progress
    if not progress.finished or progress.image is None:
        try:
            progress = await wait_for_image_async(
                client, progress, timeout=timeout, poll_interval=poll_interval, sleep=sleep, on_progress=on_progress
            )
        except ImageCreationFailed as error:
            ledger.record_progress(intent_id, error.progress, account=account_of(client))
            await _give_back(client, ledger, instance_id, stopped_at, start_after, power_timeout, sleep)
            raise
        except ImageWaitTimeout as error:
            ledger.record_progress(intent_id, error.progress, account=account_of(client))
            raise
        ledger.record_progress(intent_id, progress, account=account_of(client))
    progress = replace(progress, stopped_at=stopped_at)
    if _start_owed(ledger, client, instance_id, stopped_at, start_after):
        if start_after is False:
            close_restart(ledger, client, instance_id, progress.zone_id, CANCELLED, "start_after=False")
        else:
            starting = replace(progress, phase="starting", instance_status=STOPPED)
            notify(on_progress, starting)
            try:
                started_at = await restart_async(client, instance_id, zone_id=progress.zone_id, stopped_at=stopped_at,
                                                 timeout=power_timeout, sleep=sleep, ledger=ledger,
                                                 on_status=_power_step(on_progress, starting))
            except RestartFailed as error:
                error.progress = progress
                raise
            progress = replace(progress, phase="done", started_at=started_at, instance_status=RUNNING)
            notify(on_progress, progress)
    return progress


def _check_options(stop_if_running: object, start_after: object, force_stop: object, wait: object, timeout: object,
                   poll_interval: object, power_timeout: object, on_progress: object) -> None:
    """:func:`create_image_async`'s options, checked before anything is read or sent."""
    for name, value in (("stop_if_running", stop_if_running), ("force_stop", force_stop), ("wait", wait)):
        arguments.flag(value, name)
    arguments.optional_flag(start_after, "start_after")
    arguments.seconds(timeout, "timeout")
    arguments.seconds(power_timeout, "power_timeout")
    arguments.poll_interval(poll_interval)
    arguments.callback(on_progress, "on_progress")


async def _earlier_run(client: AsyncZenlayerClient, ledger: Ledger, instance_id: str, image_name: str,
                       description: str | None, owed: Action | None, sleep: Sleep,
                       on_progress: ProgressCallback | None) -> ImageProgress | None:
    """What an earlier run of this create left: its open intent taken up, the image it made before a crash
    cut the owed start, or the image a finished run made (``already_made``); None: create afresh."""
    progress = await resume_intent(client, ledger, instance_id, image_name, sleep=sleep, on_progress=on_progress)
    if progress is None and owed is not None:
        progress = made_since(ledger, client, instance_id, image_name, owed.at)  # crashed after AVAILABLE
    if progress is None:
        progress = await made_before(client, ledger, instance_id, image_name, description)  # a finished re-run
    return progress


async def _submit_or_follow(client: AsyncZenlayerClient, ledger: Ledger, instance: Instance, image_name: str,
                            description: str | None, sleep: Sleep, on_progress: ProgressCallback | None) -> ImageProgress:
    """Submit the create; when another open intent holds the name or the instance, follow or report it."""
    try:
        return await submit_image(client, instance, image_name, description, ledger=ledger, sleep=sleep,
                                  on_progress=on_progress)
    except IntentConflict as conflict:
        return await _after_conflict(client, ledger, conflict, instance, image_name, description, sleep, on_progress)


def _power_step(on_progress: ProgressCallback | None, step: ImageProgress) -> Callable[[str], None]:
    """An ``on_status`` that reports each power state seen while stopping or starting as part of ``step``."""
    def seen(status: str) -> None:
        if status:
            notify(on_progress, replace(step, instance_status=status))
    return seen


def _only_running(checks: Preflight) -> bool:
    """Whether the power state (RUNNING) is the one check that blocks the create."""
    failures = checks.failures
    return len(failures) == 1 and failures[0].key == "power_state" and failures[0].fix == FIX_STOP_INSTANCE


def _start_owed(ledger: Ledger, client: AnyClient, instance_id: str, stopped_at: str | None,
                start_after: bool | None) -> bool:
    """Whether a start is owed (the ledger's planned start); if the ledger cannot say, what this run knows:
    it stopped the instance (and was not told to leave it stopped), or was told to start it."""
    remembered = start_after is True or (stopped_at is not None and start_after is not False)
    return or_memory(lambda: pending_restart(ledger, client, instance_id) is not None, remembered,
                     "reading whether a start is owed")


async def _give_back(client: AsyncZenlayerClient, ledger: Ledger, instance_id: str, stopped_at: str | None,
                     start_after: bool | None, timeout: float, sleep: Sleep) -> None:
    """After a create that made nothing: start the instance again if a start is owed (a failure to is noted)."""
    if not _start_owed(ledger, client, instance_id, stopped_at, start_after):
        return
    if start_after is False:
        close_restart(ledger, client, instance_id, None, CANCELLED, "start_after=False")
        return
    try:
        await restart_async(client, instance_id, stopped_at=stopped_at, timeout=timeout, sleep=sleep, ledger=ledger)
    except RestartFailed as error:
        raise RestartFailed(f"The create failed and {error}") from error


def create_image(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    stop_if_running: bool = False,
    start_after: bool | None = None,
    force_stop: bool = False,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    power_timeout: float = 600.0,
    on_progress: ProgressCallback | None = None,
    ledger: Ledger | None = None,
) -> ImageProgress:
    """:func:`create_image_async` for synchronous code (runbooks, papermill, scripts)."""
    return run_sync(create_image_async(
        client, instance_id, image_name, description, stop_if_running=stop_if_running, start_after=start_after,
        force_stop=force_stop, wait=wait, timeout=timeout, poll_interval=poll_interval, power_timeout=power_timeout,
        on_progress=on_progress, ledger=ledger,
    ))


def wait_for_image(
    client: AnyClient,
    progress: ImageProgress,
    *,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    on_progress: ProgressCallback | None = None,
) -> ImageProgress:
    """:func:`wait_for_image_async` for synchronous code: follow an image (e.g. ``ImageWaitTimeout.progress``)."""
    return run_sync(wait_for_image_async(client, progress, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress))


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
