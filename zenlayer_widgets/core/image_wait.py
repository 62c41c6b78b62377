"""Following a submitted image until AVAILABLE (or UNAVAILABLE, or the timeout), and recording where it ended."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .._runner import run_sync
from ..api.errors import APIError, ConnectError, RateLimited, TransportError
from ..rules import AVAILABLE, UNAVAILABLE
from . import arguments
from .create_errors import ImageCreationFailed, ImageWaitTimeout
from .intents import notify
from .ledger import account_of
from .progress import ImageProgress
from .submit import outcome_unknown
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from .ledger import Ledger

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[[ImageProgress], None]


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
            if not (outcome_unknown(error) or isinstance(error, (ConnectError, RateLimited))):
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

async def follow_to_available(client: AnyClient, ledger: Ledger, progress: ImageProgress, *, timeout: float,
                              poll_interval: float, sleep: Sleep = asyncio.sleep,
                              on_progress: ProgressCallback | None = None) -> ImageProgress:
    """:func:`wait_for_image_async` for a create's intent, its end recorded in ``ledger`` (a failure to write warns);
    an image already AVAILABLE (adopted, or made by an earlier run) is not looked up again."""
    if progress.finished and progress.image is not None:
        return progress
    intent_id, account = progress.intent_id, account_of(client)
    try:
        progress = await wait_for_image_async(client, progress, timeout=timeout, poll_interval=poll_interval,
                                              sleep=sleep, on_progress=on_progress)
    except (ImageCreationFailed, ImageWaitTimeout) as error:
        if intent_id is not None:
            ledger.record_progress(intent_id, error.progress, account=account)
        raise
    if intent_id is not None:
        ledger.record_progress(intent_id, progress, account=account)
    return progress


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

