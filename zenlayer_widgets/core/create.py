"""The create-image workflow in plain Python: preflight, submit exactly once, wait; and stop-and-wait.

Each ``*_async`` function takes either client and has a sync form of the same name without the
suffix (``create_image``, ``wait_for_image``, ``stop_instance``, ``wait_for_power_state``).

CreateImage is not idempotent and the API has no client token. When its outcome is unknown
(timeout, dropped connection, 5xx, garbled answer) :func:`submit_image` first looks the name up
in the zone (preflight made it unique there): it adopts the image it finds, and sends the
request again only once it is sure none was made. It never retries blindly.
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
from ..rules import AVAILABLE, CREATING, CUSTOM_IMAGE, STOPPED, STOPPING, UNAVAILABLE
from .journal import GONE, NOT_MADE, UNKNOWN, Journal, journal_for
from .preflight import Preflight, check_arguments, fetch_instance, preflight_async
from .progress import ImageProgress
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[["ImageProgress"], None]

#: How many times CreateImage may be sent for one intent (each after a reconcile proved no image exists).
MAX_CREATE_ATTEMPTS = 3
#: How many times the reconcile lookup is tried before the outcome is declared unknown.
RECONCILE_LOOKUPS = 4


class CreateImageError(ZenlayerError):
    """Base of the workflow's own errors."""


class PreflightFailed(CreateImageError):
    """A check failed; nothing was sent. ``preflight`` holds every check and its reason."""

    def __init__(self, preflight: Preflight) -> None:
        self.preflight = preflight
        super().__init__("CreateImage refused before sending:\n" + preflight.summary())


class ImageCreationFailed(CreateImageError):
    """The image became UNAVAILABLE."""

    def __init__(self, progress: ImageProgress) -> None:
        self.progress = progress
        super().__init__(f"Image {progress.image_id} ({progress.image_name}) became {progress.status}.")


class ImageWaitTimeout(CreateImageError):
    """The image did not reach a final state in time; it still exists and keeps its id."""

    def __init__(self, progress: ImageProgress, timeout: float) -> None:
        self.progress = progress
        self.image_id = progress.image_id
        self.last_status = progress.status
        super().__init__(
            f"Image {progress.image_id} ({progress.image_name}) was still {progress.status} after {timeout:g} s; "
            f"it was created (request id {progress.request_id or 'unknown'}) and may still become AVAILABLE: "
            "follow it with zenlayer_widgets.wait_for_image(client, error.progress) (in async code: "
            "await zenlayer_widgets.wait_for_image_async(client, error.progress)) instead of creating it again."
        )


class CreateOutcomeUnknown(CreateImageError):
    """CreateImage may or may not have made an image, and the lookup could not tell."""

    def __init__(self, zone_id: str, image_name: str, cause: BaseException) -> None:
        self.zone_id = zone_id
        self.image_name = image_name
        super().__init__(
            f"Could not confirm whether image {image_name!r} was created in {zone_id} ({cause}). "
            f"Look for it in {zone_id} before trying again."
        )


def _outcome_unknown(error: BaseException) -> bool:
    return isinstance(error, (TransportError, APIError)) and bool(getattr(error, "outcome_unknown", False))


async def find_custom_image(client: AsyncZenlayerClient, zone_id: str, image_name: str) -> Image | None:
    """The zone's custom image with exactly this name, if there is one."""
    images = await client.list_images(zone_id, image_name=image_name, image_type=CUSTOM_IMAGE)
    return next((image for image in images if image.image_name == image_name), None)


async def _reconcile(client: AsyncZenlayerClient, zone_id: str, image_name: str, cause: BaseException, sleep: Sleep) -> Image | None:
    """Look the name up until the answer is certain; raise CreateOutcomeUnknown when it never is."""
    last: BaseException = cause
    for attempt in range(RECONCILE_LOOKUPS):
        try:
            return await find_custom_image(client, zone_id, image_name)
        except (TransportError, APIError) as error:
            last = error
            if attempt + 1 < RECONCILE_LOOKUPS:  # no wait after the last lookup
                await sleep(min(0.5 * 2**attempt, 4.0))
    raise CreateOutcomeUnknown(zone_id, image_name, last)


async def submit_image(
    client: AsyncZenlayerClient,
    instance: Instance,
    image_name: str,
    description: str | None = None,
    *,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
) -> ImageProgress:
    """Send CreateImage once per intent: reconcile every unknown outcome before any resend."""
    progress = ImageProgress("submitting", instance.instance_id, instance.zone_id, image_name)
    for attempt in range(1, MAX_CREATE_ATTEMPTS + 1):
        progress = replace(progress, phase="submitting", attempts=attempt)
        _notify(on_progress, progress)
        try:
            result = await client.create_image(instance.instance_id, image_name, description)
        except ConnectError:
            if attempt == MAX_CREATE_ATTEMPTS:
                raise
            await sleep(0.5 * attempt)  # nothing was sent: safe to send again
            continue
        except (TransportError, APIError) as error:
            if not _outcome_unknown(error):
                raise
            _notify(on_progress, replace(progress, phase="reconciling"))
            found = await _reconcile(client, instance.zone_id, image_name, error, sleep)
            if found is not None:
                return replace(
                    progress, phase="submitted", image_id=found.image_id, status=found.image_status, adopted=True, image=found
                )
            if attempt == MAX_CREATE_ATTEMPTS:
                raise
            continue
        return replace(progress, phase="submitted", image_id=result.image_id, request_id=result.request_id, status=CREATING)
    raise AssertionError("unreachable")  # pragma: no cover


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
    if progress.image_id is None:
        raise ValueError("wait_for_image needs the progress of a submitted create (it has no image id)")
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
            _notify(on_progress, progress)
            return progress
        if progress.status == UNAVAILABLE:
            progress = replace(progress, phase="failed")
            _notify(on_progress, progress)
            raise ImageCreationFailed(progress)
        if progress.elapsed >= timeout:
            progress = replace(progress, phase="timeout")
            _notify(on_progress, progress)
            raise ImageWaitTimeout(progress, timeout)
        _notify(on_progress, progress)
        await sleep(min(poll_interval, max(timeout - progress.elapsed, 0.0)))


async def resume_intent(
    client: AsyncZenlayerClient,
    journal: Journal,
    instance_id: str,
    image_name: str,
    *,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
) -> tuple[str, ImageProgress] | None:
    """Adopt the image of an intent an earlier run left open in ``journal`` (same endpoint, instance, name).

    Open means no final outcome: a crash or interrupt after the intent was written, an unknown
    outcome, a wait that timed out. The zone is looked up by name (:class:`CreateOutcomeUnknown`
    when the lookup keeps failing, never a blind resend). Found: ``(intent id, adopted progress)``.
    Not found (or another image has taken the name since): the intent is closed and None returned.
    """
    entry = journal.open_intent(client.base_url, instance_id, image_name)
    if entry is None:
        return None
    progress = ImageProgress("reconciling", instance_id, entry.zone_id, image_name, request_id=entry.request_id)
    _notify(on_progress, progress)
    cause = RuntimeError("an earlier run left this create unfinished")
    found = await _reconcile(client, entry.zone_id, image_name, cause, sleep)
    if found is None or (entry.image_id is not None and found.image_id != entry.image_id):
        journal.record(entry.intent_id, GONE if entry.image_id else NOT_MADE, image_id=entry.image_id)
        return None
    progress = replace(progress, phase="submitted", image_id=found.image_id, status=found.image_status, adopted=True, image=found)
    journal.record_progress(entry.intent_id, progress)
    return entry.intent_id, progress


async def _submit_journaled(
    client: AsyncZenlayerClient, journal: Journal, instance: Instance, image_name: str, description: str | None,
    sleep: Sleep, on_progress: ProgressCallback | None,
) -> tuple[str, ImageProgress]:
    """:func:`submit_image` between an intent written first and its outcome written after."""
    intent = journal.begin(client.base_url, instance.instance_id, instance.zone_id, image_name, description)
    try:
        progress = await submit_image(client, instance, image_name, description, sleep=sleep, on_progress=on_progress)
    except CreateOutcomeUnknown as error:
        journal.record(intent.intent_id, UNKNOWN, error=error)  # stays open: the next run reconciles it
        raise
    except ZenlayerError as error:  # submit_image raises these only when it is sure no image was made
        journal.record(intent.intent_id, NOT_MADE, error=error)
        raise
    except Exception as error:  # anything unforeseen: not sure, so the next run reconciles it
        journal.record(intent.intent_id, UNKNOWN, error=error)
        raise
    journal.record_progress(intent.intent_id, progress)
    return intent.intent_id, progress


async def create_image_async(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
    journal: Journal | None = None,
) -> ImageProgress:
    """Preflight, then CreateImage exactly once, then (``wait=True``) follow it to AVAILABLE.

    The intent goes into ``journal`` (default: :func:`~zenlayer_widgets.core.journal.journal_for` the
    client) before anything is sent, its outcome after. An intent for the same instance and name
    that an earlier run left open (crash, interrupt, unknown outcome, wait timeout) is reconciled
    first: its image is adopted and followed instead of made again (:func:`resume_intent`).

    Raises :class:`PreflightFailed` (nothing sent), :class:`ImageCreationFailed`,
    :class:`ImageWaitTimeout` (with the image id and last status) or :class:`CreateOutcomeUnknown`.
    """
    check_arguments(instance_id, image_name, description)  # before the journal sees them
    client = async_side(client)
    journal = journal_for(client) if journal is None else journal
    started = time.monotonic()
    resumed = await resume_intent(client, journal, instance_id, image_name, sleep=sleep, on_progress=on_progress)
    if resumed is None:
        checks = await preflight_async(client, instance_id, image_name, description)
        if not checks.ok or checks.instance is None:
            raise PreflightFailed(checks)
        started = time.monotonic()
        resumed = await _submit_journaled(client, journal, checks.instance, image_name, description, sleep, on_progress)
    intent_id, progress = resumed
    progress = replace(progress, elapsed=time.monotonic() - started)
    _notify(on_progress, progress)
    if not wait:
        return progress
    try:
        progress = await wait_for_image_async(
            client, progress, timeout=timeout, poll_interval=poll_interval, sleep=sleep, on_progress=on_progress
        )
    except (ImageCreationFailed, ImageWaitTimeout) as error:
        journal.record_progress(intent_id, error.progress)
        raise
    journal.record_progress(intent_id, progress)
    return progress


def create_image(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    on_progress: ProgressCallback | None = None,
    journal: Journal | None = None,
) -> ImageProgress:
    """:func:`create_image_async` for synchronous code (runbooks, papermill, scripts)."""
    return run_sync(create_image_async(
        client, instance_id, image_name, description,
        wait=wait, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress, journal=journal,
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


async def stop_instance_async(
    client: AnyClient,
    instance_id: str,
    *,
    wait: bool = True,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    sleep: Sleep = asyncio.sleep,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """Stop a RUNNING instance and (``wait=True``) follow STOPPING until STOPPED."""
    client = async_side(client)
    instance = await fetch_instance(client, instance_id)
    if instance is None:
        raise NotFound("INVALID_INSTANCE_NOT_FOUND", f"Instance {instance_id} was not found.", action=STOP_INSTANCES)
    if instance.instance_status not in (STOPPING, STOPPED):
        await client.stop_instances([instance_id])  # the API refuses any state it cannot stop from
    if not wait:
        return STOPPED
    return await wait_for_power_state_async(
        client, instance_id, STOPPED, timeout=timeout, poll_interval=poll_interval, sleep=sleep, on_status=on_status
    )


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


def stop_instance(
    client: AnyClient,
    instance_id: str,
    *,
    wait: bool = True,
    timeout: float = 600.0,
    poll_interval: float = 1.0,
    on_status: Callable[[str], None] | None = None,
) -> str:
    """:func:`stop_instance_async` for synchronous code (runbooks, papermill, scripts)."""
    return run_sync(stop_instance_async(
        client, instance_id, wait=wait, timeout=timeout, poll_interval=poll_interval, on_status=on_status
    ))


def _notify(callback: ProgressCallback | None, progress: ImageProgress) -> None:
    if callback is not None:
        callback(progress)
