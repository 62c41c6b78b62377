"""A create run again after it finished: the image the ledger says it made, instead of a second CreateImage.

A runbook re-run after a partial failure (the start after the image failed, a notebook cell run twice)
must report the image it made, not fail at a step that is done. The ledger's intents say which
instance, name and description made which image id; the image is looked up by that id (a read), so
one deleted or renamed since no longer counts.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from ..rules import AVAILABLE
from .create_errors import CreateConflict
from .ledger import AVAILABLE_OUTCOME, Ledger, LedgerEntry, account_of
from .preflight import fetch_instance
from .progress import ImageProgress
from .sync import AnyClient

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient
    from ..api.models import Image


def _made(ledger: Ledger, client: AnyClient, image_name: str) -> list[LedgerEntry]:
    """This account's intents that made an AVAILABLE image called ``image_name``, newest first."""
    return [e for e in reversed(ledger.entries(account_of(client)))
            if e.image_name == image_name and e.outcome == AVAILABLE_OUTCOME and e.image_id]


def _progress(entry: LedgerEntry) -> ImageProgress:
    return ImageProgress("done", entry.instance_id, entry.zone_id, entry.image_name, image_id=entry.image_id,
                         request_id=entry.request_id, status=AVAILABLE, intent_id=entry.intent_id)


def made_since(ledger: Ledger, client: AnyClient, instance_id: str, image_name: str, since: str) -> ImageProgress | None:
    """The AVAILABLE image an intent for this instance and name made after ``since`` (a crash before the restart)."""
    made = [e for e in _made(ledger, client, image_name) if e.instance_id == instance_id and e.started_at >= since]
    return _progress(made[0]) if made else None


async def _still_named(client: AsyncZenlayerClient, entry: LedgerEntry) -> Image | None:
    """The entry's image if it still exists under the entry's name."""
    assert entry.image_id is not None
    page = await client.describe_images(entry.zone_id, image_ids=[entry.image_id])
    return next((i for i in page.items if i.image_id == entry.image_id and i.image_name == entry.image_name), None)


async def made_before(client: AsyncZenlayerClient, ledger: Ledger, instance_id: str, image_name: str,
                      description: str | None) -> ImageProgress | None:
    """The AVAILABLE image an earlier create of this instance, name and description made (``already_made``);
    :class:`CreateConflict` when the name's image in the instance's zone came from another instance or
    description; None when the ledger knows of no such image that still carries the name."""
    made = _made(ledger, client, image_name)
    if not made:
        return None
    zone_id = next((e.zone_id for e in made if e.instance_id == instance_id), None)
    if zone_id is None:
        instance = await fetch_instance(client, instance_id)
        if instance is None:
            return None  # the preflight says so
        zone_id = instance.zone_id
    for entry in (e for e in made if e.zone_id == zone_id):
        image = await _still_named(client, entry)
        if image is None or image.image_status != AVAILABLE:
            continue  # deleted or renamed since (or broken): it does not hold the name for this create
        if entry.instance_id != instance_id or (entry.description or "") != (description or ""):
            assert entry.image_id is not None
            raise CreateConflict(entry.image_id, zone_id, image_name, entry.instance_id, entry.description,
                                 instance_id, description)
        return replace(_progress(entry), already_made=True, image=image)
    return None
