"""Whether a CreateImage whose answer never came made an image, judged on evidence, not one lookup.

Before CreateImage is sent the intent records a *snapshot*: the zone's custom image ids and the
instance's status and disk size. After an unknown outcome an image counts as the intent's only if

* it is **new** since the snapshot (its id was not in the zone then),
* it carries the **name and description** that were sent,
* it **fits** the instance (an image cannot be larger than the disk it was made from),
* no other intent of the ledger owns it,

and the instance was **seen IMAGING** after the send (evidence that a create landed on *this*
instance: Zenlayer's image records do not name their source). One such image: adopted. None, the
instance not imaging and the *settle window* over (a lost request can no longer land): proven not
made. Anything else (two candidates, a candidate without the IMAGING evidence, lookups failing)
stays **unknown**: :class:`CreateOutcomeUnknown` lists the candidates and what to do.

The settle window is ``SETTLE_FACTOR × client timeout + SETTLE_MARGIN_SECONDS`` after the last send
(65 s with the default 30 s timeout): the client gives up after its timeout, and a request still
in flight then (a slow proxy, a retransmit) has had as long again to reach the API.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import partial
from typing import TYPE_CHECKING, Any

from ..api.errors import APIError, TransportError, ZenlayerError
from ..api.models import Image, Instance
from ..rules import CUSTOM_IMAGE, IMAGING
from .after_send import or_memory
from .ledger import Ledger, LedgerEntry, LedgerError
from .ledger.records import now_text, parse_time

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]

#: How many lookups in a row may fail before the outcome is declared unknown.
RECONCILE_LOOKUPS = 4
#: The settle window: this many client timeouts after the last send, plus the margin (seconds).
SETTLE_FACTOR = 2.0
SETTLE_MARGIN_SECONDS = 5.0
#: How long a reconcile keeps looking while the instance is imaging with no candidate yet, in settle windows.
MAX_RECONCILE_WINDOWS = 3


def settle_seconds(client: AsyncZenlayerClient) -> float:
    """How long after it was sent a CreateImage whose answer was lost may still land (see the module doc)."""
    return SETTLE_FACTOR * float(getattr(client, "timeout", 30.0)) + SETTLE_MARGIN_SECONDS


class CreateOutcomeUnknown(ZenlayerError):
    """CreateImage may or may not have made an image, and the evidence cannot tell which (if any) is ours."""

    def __init__(self, zone_id: str, image_name: str, cause: BaseException | str, candidates: tuple[Image, ...] = (),
                 instance_id: str | None = None) -> None:
        self.zone_id = zone_id
        self.image_name = image_name
        self.candidates = candidates
        self.instance_id = instance_id
        listed = "; ".join(f"{c.image_id} ({c.image_status or '?'}, {c.image_size if c.image_size is not None else '?'} GB)"
                           for c in candidates)
        found = f" Images named {image_name!r} that appeared since: {listed}." if candidates else ""
        super().__init__(
            f"Could not confirm whether image {image_name!r} was created in {zone_id} ({cause}).{found} "
            f"Look for it in {zone_id} before trying again: re-run the same create to check again (it never sends "
            "while a request may still land); once you are sure, settle it with "
            "zw.settle_intent(client, instance_id, image_name, image_id=<yours> or None)."
        )


@dataclass(frozen=True)
class Verdict:
    """What the evidence says: ``image`` adopted, ``not_made`` proven, or neither (unknown)."""

    image: Image | None = None
    not_made: bool = False
    candidates: tuple[Image, ...] = ()
    reason: str = ""
    evidence: dict[str, Any] = field(default_factory=dict)


async def take_snapshot(client: AsyncZenlayerClient, instance: Instance, sleep: Sleep) -> dict[str, Any]:
    """What the zone and the instance look like before CreateImage is sent (the lookup is tried
    :data:`RECONCILE_LOOKUPS` times: nothing has been sent yet, so a failure here only stops the create)."""
    for attempt in range(RECONCILE_LOOKUPS):
        try:
            images = await client.list_images(instance.zone_id, image_type=CUSTOM_IMAGE)
            break
        except (TransportError, APIError):
            if attempt + 1 == RECONCILE_LOOKUPS:
                raise
            await sleep(min(0.5 * 2**attempt, 4.0))
    return {"image_ids": sorted(i.image_id for i in images), "instance_status": instance.instance_status,
            "disk_size": instance.system_disk_size, "taken_at": now_text()}


def _seconds_since(text: str | None) -> float:
    if not text:
        return float("inf")
    return (datetime.now(timezone.utc) - parse_time(text)).total_seconds()


def settled(entry: LedgerEntry) -> bool:
    """Whether a lost request of this intent can no longer land (never sent counts as settled)."""
    return _seconds_since(entry.sent_at) > (entry.settle_seconds or 0.0)


def _new(image: Image, entry: LedgerEntry) -> bool:
    """Not in the zone when the snapshot was taken (without a snapshot: every image may be new)."""
    return entry.snapshot is None or image.image_id not in set(entry.snapshot.get("image_ids") or ())


def _size_fits(image: Image, entry: LedgerEntry) -> bool:
    """Not larger than the instance's disk (an image cannot be larger than the disk it was made from)."""
    disk = (entry.snapshot or {}).get("disk_size")
    return disk is None or image.image_size is None or image.image_size <= disk


def _fits(image: Image, entry: LedgerEntry) -> bool:
    same_text = image.image_name == entry.image_name and (image.image_description or "") == (entry.description or "")
    return _new(image, entry) and same_text and _size_fits(image, entry)


def _imaging_explained_otherwise(ledger: Ledger, entry: LedgerEntry, zone_images: list[Image],
                                 candidates: tuple[Image, ...]) -> list[str]:
    """What else could make the instance IMAGING: another open intent for it (any account of the ledger), or an
    image new since the snapshot that is no candidate, could come from its disk, and no other intent owns."""
    others = [f"open intent {e.intent_id[:8]} ({e.image_name!r})" for e in ledger.entries(None, open_only=True)
              if e.instance_id == entry.instance_id and e.intent_id != entry.intent_id]
    if entry.snapshot is None:
        return others  # without a snapshot nothing shows which images are new
    ours = {c.image_id for c in candidates}
    new = [i for i in zone_images if i.image_id not in ours and _new(i, entry) and _size_fits(i, entry)]
    claimed = ledger.claimed_image_ids(entry.account, entry.zone_id, [i.image_id for i in new], besides=entry.intent_id)
    return others + [f"image {i.image_id} ({i.image_name!r})" for i in new if i.image_id not in claimed]


async def look(client: AsyncZenlayerClient, ledger: Ledger, entry: LedgerEntry) -> Verdict:
    """One round of evidence (two lookups); raises the API error when a lookup fails.

    IMAGING counts as evidence only while nothing else could account for it (see
    :func:`_imaging_explained_otherwise`): a colleague's same-named image is never adopted because our
    instance happens to be imaging for another create."""
    zone_images = await client.list_images(entry.zone_id, image_type=CUSTOM_IMAGE)
    statuses = await client.describe_instances_status([entry.instance_id])
    status = next((s.instance_status for s in statuses.items if s.instance_id == entry.instance_id), "")
    fitting = [i for i in zone_images if _fits(i, entry)]
    seen_imaging = bool((entry.evidence or {}).get("seen_imaging")) or status == IMAGING
    try:
        claimed = ledger.claimed_image_ids(entry.account, entry.zone_id, [i.image_id for i in fitting],
                                           besides=entry.intent_id)
        candidates = tuple(i for i in fitting if i.image_id not in claimed)
        decoys = _imaging_explained_otherwise(ledger, entry, zone_images, candidates) if seen_imaging else []
    except LedgerError as error:  # whose the images are cannot be read: nothing is proven, every fitting one named
        raise CreateOutcomeUnknown(entry.zone_id, entry.image_name, error, tuple(fitting), entry.instance_id) from None
    evidence = {"seen_imaging": seen_imaging, "instance_status": status, "looked_at": now_text(),
                "candidates": [c.image_id for c in candidates], "imaging_explained_by": decoys}
    if len(candidates) == 1 and seen_imaging and not decoys:
        return Verdict(image=candidates[0], candidates=candidates, reason="one new image and the instance seen IMAGING",
                       evidence=evidence)
    if not candidates and status != IMAGING and settled(entry):
        return Verdict(not_made=True, reason="no new image, the instance not imaging, and the settle window is over",
                       evidence=evidence)
    if len(candidates) > 1:
        reason = f"{len(candidates)} new images carry this name and description"
    elif candidates and decoys:
        reason = (f"a new image carries this name, and the instance was seen IMAGING, but {', '.join(decoys)} "
                  "could account for that")
    elif candidates:
        reason = "a new image carries this name, but nothing shows it was made from this instance"
    elif status == IMAGING:
        reason = "the instance is IMAGING but no image with this name is listed yet"
    else:
        reason = "a request sent moments ago may still land"
    return Verdict(candidates=candidates, reason=reason, evidence=evidence)


async def reconcile(
    client: AsyncZenlayerClient, ledger: Ledger, intent_id: str, owner: str, cause: BaseException | str, sleep: Sleep,
    *, poll: float = 1.0, clock: Callable[[], float] = time.monotonic, known: LedgerEntry | None = None,
) -> Verdict:
    """Gather evidence until it decides (adopt or not made); :class:`CreateOutcomeUnknown` when it cannot.

    While a lost request may still land, or the instance is imaging, it keeps looking (the owner's
    heartbeat goes on, so no other run takes the intent over). Ambiguity that waiting cannot lift
    (two candidates, a candidate without IMAGING evidence once settled) ends as unknown at once. A ledger that
    fails meanwhile is a warning (``known``: the intent as this run has it), except where it must prove whose
    a candidate is: then the outcome is unknown, with the candidates named."""
    failures, last_error = 0, cause
    entry = or_memory(lambda: ledger.get(intent_id), None, "reading the intent") or known
    assert entry is not None, "reconcile needs the intent (from the ledger or the run)"
    started = clock()
    budget = MAX_RECONCILE_WINDOWS * max(entry.settle_seconds or 0.0, 1.0)
    verdict = Verdict()
    while True:
        try:
            verdict = await look(client, ledger, entry)
            failures = 0
        except (TransportError, APIError) as error:
            failures += 1
            last_error = error
            if failures >= RECONCILE_LOOKUPS:
                raise CreateOutcomeUnknown(entry.zone_id, entry.image_name, last_error, verdict.candidates,
                                           entry.instance_id) from None
            await sleep(min(0.5 * 2 ** (failures - 1), 4.0))
            continue
        known = replace(entry, evidence={**(entry.evidence or {}), **verdict.evidence})
        or_memory(partial(ledger.note_evidence, intent_id, verdict.evidence), None, "noting the evidence")
        entry = or_memory(lambda: ledger.get(intent_id), None, "reading the intent back") or known
        if verdict.image is not None or verdict.not_made:
            return verdict
        if len(verdict.candidates) > 1 or (verdict.candidates and settled(entry)) or clock() - started > budget:
            raise CreateOutcomeUnknown(entry.zone_id, entry.image_name, verdict.reason, verdict.candidates, entry.instance_id)
        or_memory(lambda: ledger.touch(intent_id, owner), False, "the heartbeat")
        wait = max((entry.settle_seconds or 0.0) / 10, 0.05)
        await sleep(min(poll, wait))
