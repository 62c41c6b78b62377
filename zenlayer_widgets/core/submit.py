"""Sending CreateImage for one intent: written before the send, reconciled on evidence after an unknown outcome.

CreateImage is not idempotent and the API has no client token. Every create is an *intent* in the
ledger (:mod:`.ledger`), written with a snapshot of the zone before anything is sent. When an
outcome is unknown (timeout, dropped connection, 5xx, garbled answer, an interrupt, a crash) the
evidence decides (:mod:`.reconcile`): the image is adopted only when it is provably this intent's,
CreateImage is sent again only once no lost request can still land, and otherwise the run stops
with :class:`CreateOutcomeUnknown`. It never retries blindly, and never adopts a colleague's image.
:func:`make_image` is what one create (the create-image step of :mod:`.create`) does: take up what an
earlier run left, or preflight and submit.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from ..api.errors import APIError, ConnectError, TransportError, ZenlayerError
from ..api.models import Image, Instance
from ..rules import CREATING, CUSTOM_IMAGE
from .after_send import or_memory
from .create_errors import InstanceRunning, PreflightFailed
from .intents import adopted, follow_recorded, notify, resume_intent
from .ledger import NOT_MADE, UNKNOWN, IntentConflict, Ledger, LedgerEntry, NotOwner, account_of
from .ledger.ownership import new_owner, working
from .preflight import FIX_STOP_INSTANCE, Preflight, preflight_async
from .progress import ImageProgress
from .reconcile import CreateOutcomeUnknown, reconcile, settle_seconds, take_snapshot
from .rerun import made_since

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[[ImageProgress], None]


#: How many times CreateImage may be sent for one intent (each after the evidence proved no image was made).
MAX_CREATE_ATTEMPTS = 3


def outcome_unknown(error: BaseException) -> bool:
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
                if not (outcome_unknown(failure) or unknown_before):
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


async def submit_or_follow(client: AsyncZenlayerClient, ledger: Ledger, instance: Instance, image_name: str,
                            description: str | None, sleep: Sleep, on_progress: ProgressCallback | None) -> ImageProgress:
    """Submit the create; when another open intent holds the name or the instance, follow or report it."""
    try:
        return await submit_image(client, instance, image_name, description, ledger=ledger, sleep=sleep,
                                  on_progress=on_progress)
    except IntentConflict as conflict:
        return await _after_conflict(client, ledger, conflict, instance, image_name, description, sleep, on_progress)


def only_running(checks: Preflight) -> bool:
    """Whether the power state (RUNNING) is the one check that blocks the create."""
    failures = checks.failures
    return len(failures) == 1 and failures[0].key == "power_state" and failures[0].fix == FIX_STOP_INSTANCE


async def make_image(client: AsyncZenlayerClient, ledger: Ledger, instance_id: str, image_name: str,
                     description: str | None, *, since: str | None = None, sleep: Sleep = asyncio.sleep,
                     on_progress: ProgressCallback | None = None, checks: Preflight | None = None) -> ImageProgress:
    """One create of ``image_name`` from ``instance_id``: the intent an earlier run left open taken up, or the image
    an intent of this create made since ``since`` (a crash before the steps after it), or else the preflight
    (:class:`InstanceRunning` / :class:`PreflightFailed`, nothing sent; ``checks``: one made just now) and one
    submit."""
    progress = await resume_intent(client, ledger, instance_id, image_name, sleep=sleep, on_progress=on_progress)
    if progress is None and since is not None:
        progress = made_since(ledger, client, instance_id, image_name, since)
    if progress is not None:
        return progress
    if checks is None or not checks.ok:
        checks = await preflight_async(client, instance_id, image_name, description)
    if not checks.ok or checks.instance is None:
        raise InstanceRunning(checks) if only_running(checks) else PreflightFailed(checks)
    return await submit_or_follow(client, ledger, checks.instance, image_name, description, sleep, on_progress)
