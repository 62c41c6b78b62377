"""Taking up an intent another run left open: follow its image, wait for a live owner, take over a dead one.

Every run that may send owns its intent with a token (this process's id + a random part). A
token of this process that is no longer running, a process id gone from this host, or a
heartbeat older than the intent's settle window: the owner is dead and its intent may be taken
over (a compare-and-set on the token). The operator's own verdict goes through :func:`settle_intent`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from .._runner import run_sync
from ..api.errors import APIError, TransportError
from ..api.models import Image
from ..rules import AVAILABLE
from . import arguments
from . import reconcile as _reconcile_module
from .ledger import ADOPTED, AVAILABLE_OUTCOME, GONE, NOT_MADE, UNKNOWN, IntentConflict, Ledger, LedgerEntry, account_of, ledger_for
from .ledger.ownership import at_work, new_owner, working
from .progress import ImageProgress
from .reconcile import CreateOutcomeUnknown, Verdict, reconcile
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[[ImageProgress], None]

#: How long a run waits for another live run's open intent (same instance and name) before saying so.
IN_PROGRESS_WAIT_SECONDS = 10.0


def adopted(progress: ImageProgress, image: Image) -> ImageProgress:
    """``progress`` once ``image`` is known to be this intent's (submitted, adopted)."""
    return replace(progress, phase="submitted", image_id=image.image_id, status=image.image_status, adopted=True, image=image)


def notify(callback: ProgressCallback | None, progress: ImageProgress) -> None:
    """Hand ``progress`` to ``callback``, if there is one."""
    if callback is not None:
        callback(progress)


def _fresh(entry: LedgerEntry) -> bool:
    """Whether the run that owns ``entry`` may still be working on it (alive in this process, or a recent heartbeat)."""
    return at_work(entry.owner, entry.owner_host, entry.owner_pid, entry.heartbeat_at, max(entry.settle_seconds or 0.0, 1.0),
                   process=entry.owner_process)


async def _wait_for_other_run(ledger: Ledger, entry: LedgerEntry, sleep: Sleep) -> LedgerEntry:
    """Wait (briefly) while another live run owns ``entry`` and has no image id yet; then the latest entry.
    :class:`IntentConflict` (naming that run) when it is still working on it."""
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while True:
        latest = ledger.get(entry.intent_id) or entry
        if latest.image_id is not None or not latest.open or not _fresh(latest):
            return latest
        if time.monotonic() >= deadline:
            raise IntentConflict(latest)
        await sleep(0.2)


async def follow_recorded(
    client: AsyncZenlayerClient, ledger: Ledger, entry: LedgerEntry, progress: ImageProgress, sleep: Sleep,
) -> ImageProgress | None:
    """The intent has an image id: that image (adopted), or None once it is gone (the intent closed as gone)."""
    assert entry.image_id is not None, "only an intent with an image id is followed"
    failures = 0
    while True:
        try:
            page = await client.describe_images(entry.zone_id, image_ids=[entry.image_id])
            break
        except (TransportError, APIError) as error:
            failures += 1
            if failures >= _reconcile_module.RECONCILE_LOOKUPS:
                raise CreateOutcomeUnknown(entry.zone_id, entry.image_name, error, (), entry.instance_id) from None
            await sleep(min(0.5 * 2 ** (failures - 1), 4.0))
    image = next((i for i in page.items if i.image_id == entry.image_id), None)
    if image is None:
        ledger.record(entry.intent_id, GONE, account=account_of(client), image_id=entry.image_id)
        return None
    progress = adopted(replace(progress, request_id=entry.request_id), image)
    ledger.record_progress(entry.intent_id, progress, account=account_of(client))
    return progress


async def resume_intent(
    client: AsyncZenlayerClient,
    ledger: Ledger,
    instance_id: str,
    image_name: str,
    *,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
) -> ImageProgress | None:
    """Take up the intent an earlier (or another) run left open in ``ledger`` for this instance and name.

    With an image id: follow that image (never one found by name). Without one: wait briefly while
    another live run owns it, else take it over and let the evidence decide: the image that is
    provably this intent's is adopted; proven not made, the intent closes (None: create afresh);
    otherwise :class:`CreateOutcomeUnknown`. None too when there is no open intent.
    """
    account = account_of(client)
    entry = ledger.open_intent(account, instance_id, image_name)
    if entry is None:
        return None
    progress = ImageProgress("reconciling", instance_id, entry.zone_id, image_name, request_id=entry.request_id,
                             intent_id=entry.intent_id)
    notify(on_progress, progress)
    if entry.image_id is None and _fresh(entry):
        entry = await _wait_for_other_run(ledger, entry, sleep)
    if entry.image_id is not None:
        return await follow_recorded(client, ledger, entry, progress, sleep)
    if not entry.open:
        return None
    owner = new_owner()
    if not ledger.take_over(entry, owner, account=account):
        raise IntentConflict(ledger.get(entry.intent_id) or entry)
    with working(owner):
        if entry.sent_at is None:  # the run died before sending: nothing can land
            ledger.record(entry.intent_id, NOT_MADE, account=account)
            return None
        try:
            verdict: Verdict = await reconcile(client, ledger, entry.intent_id, owner,
                                               "an earlier run left this create unfinished", sleep, known=entry)
        except CreateOutcomeUnknown as error:
            ledger.record(entry.intent_id, UNKNOWN, account=account, error=error)
            raise
        if verdict.image is None:
            ledger.record(entry.intent_id, NOT_MADE, account=account)
            return None
        progress = adopted(progress, verdict.image)
        ledger.record_progress(entry.intent_id, progress, account=account)
        return progress


async def settle_intent_async(
    client: AnyClient, instance_id: str, image_name: str, image_id: str | None, *, ledger: Ledger | None = None,
) -> LedgerEntry:
    """The operator's verdict on an intent left unknown: ``image_id`` is ours (it is checked to exist and carry
    the name), or None: none of the candidates is ours and nothing can land any more (the intent closes
    as not made, so the next create may send). Refused while a request of it may still land."""
    from .reconcile import settled

    arguments.id_arg(instance_id, "instance_id")
    arguments.id_arg(image_name, "image_name")
    arguments.optional_id(image_id, "image_id")
    client = async_side(client)
    ledger, account = ledger or ledger_for(client), account_of(client)
    entry = ledger.open_intent(account, instance_id, image_name)
    if entry is None:
        raise ValueError(f"There is no open intent for image {image_name!r} of instance {instance_id}.")
    if image_id is None:
        if not settled(entry):
            raise ValueError("A request of this intent may still land; check again once its settle window is over.")
        ledger.record(entry.intent_id, NOT_MADE, account=account)
    else:
        page = await client.describe_images(entry.zone_id, image_ids=[image_id])
        image = next((i for i in page.items if i.image_id == image_id and i.image_name == image_name), None)
        if image is None:
            raise ValueError(f"{entry.zone_id} has no image {image_id} named {image_name!r}.")
        ledger.record(entry.intent_id, AVAILABLE_OUTCOME if image.image_status == AVAILABLE else ADOPTED, account=account,
                      image_id=image_id, status=image.image_status, adopted=True)
    return ledger.get(entry.intent_id) or entry


def settle_intent(client: AnyClient, instance_id: str, image_name: str, image_id: str | None, *,
                  ledger: Ledger | None = None) -> LedgerEntry:
    """:func:`settle_intent_async` for synchronous code."""
    return run_sync(settle_intent_async(client, instance_id, image_name, image_id, ledger=ledger))
