"""Pinned images: kept out of every rotation policy, recorded in the ledger (table ``zw_pins``).

``zw.pin_image(client, image_id, reason=...)`` checks that the account has that custom image, then
records the pin; no policy deletes a pinned image, even one it made. ``zw.unpin_image`` gives it back
to the policy that made it (if any). Renaming a policy image away from the policy's name pattern pins
it too, without a row here (see :func:`.plan.rotating`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as sa

from ..._runner import run_sync
from ...rules import CUSTOM_IMAGE, zone_supports_images
from ..arguments import id_arg, optional_of_type, text_arg
from ..ledger import Ledger, account_of, ledger_for
from ..ledger import schema as tables
from ..ledger.records import now_text, who_am_i
from ..sync import AnyClient, async_side

if TYPE_CHECKING:
    import pandas as pd

    from ...api.models import Image


@dataclass(frozen=True)
class Pin:
    """An image an operator kept out of rotation: its id, zone and name when pinned, why, who and when."""

    account: str
    image_id: str
    zone_id: str | None
    image_name: str | None
    reason: str
    who: str
    pinned_at: str


def pins(ledger: Ledger, account: str) -> dict[str, Pin]:
    """Image id -> :class:`Pin` of the account's pinned images."""
    t = tables.pins.c
    return {row.image_id: Pin(**row._mapping) for row in ledger._read(sa.select(tables.pins).where(t.account == account))}


async def _find(client: AnyClient, image_id: str) -> Image | None:
    """The account's custom image ``image_id`` (every zone that holds custom images is asked at once)."""
    aclient = async_side(client)
    zones = [z.zone_id for z in await aclient.describe_zones() if zone_supports_images(z.zone_id)]
    found = await asyncio.gather(*(aclient.list_images(z, image_ids=[image_id], image_type=CUSTOM_IMAGE) for z in zones))
    return next((image for batch in found for image in batch if image.image_id == image_id), None)


async def pin_image_async(client: AnyClient, image_id: str, *, reason: str, ledger: Ledger | None = None) -> Pin:
    """Keep ``image_id`` out of every rotation policy (no policy deletes it), with ``reason``; the pin.
    ValueError (nothing recorded) when the account has no such custom image."""
    id_arg(image_id, "image_id")
    text_arg(reason, "reason")
    optional_of_type(ledger, Ledger, "ledger")
    image_id, reason = image_id.strip(), reason.strip()
    ledger = ledger_for(client) if ledger is None else ledger
    image = await _find(client, image_id)
    if image is None:
        raise ValueError(f"This account has no custom image {image_id!r}; nothing was pinned.")
    pin = Pin(account_of(client), image_id, image.zone_id, image.image_name, reason, who_am_i(), now_text())
    t = tables.pins.c
    with ledger._lock, ledger.engine.begin() as connection:
        connection.execute(tables.pins.delete().where(t.account == pin.account, t.image_id == image_id))
        connection.execute(tables.pins.insert().values(**pin.__dict__))
    return pin


def pin_image(client: AnyClient, image_id: str, *, reason: str, ledger: Ledger | None = None) -> Pin:
    """:func:`pin_image_async` for synchronous code."""
    return run_sync(pin_image_async(client, image_id, reason=reason, ledger=ledger))


def unpin_image(client: AnyClient, image_id: str, *, ledger: Ledger | None = None) -> bool:
    """Give ``image_id`` back to rotation (the policy that made it may delete it again); whether it was pinned."""
    id_arg(image_id, "image_id")
    optional_of_type(ledger, Ledger, "ledger")
    ledger = ledger_for(client) if ledger is None else ledger
    t = tables.pins.c
    return ledger._write(tables.pins.delete().where(t.account == account_of(client), t.image_id == image_id.strip())).rowcount > 0


def pins_frame(ledger: Ledger, account: str) -> pd.DataFrame:
    """The account's pins, one row each, newest first."""
    import pandas as pd

    columns = ["image_id", "zone", "name_when_pinned", "reason", "who", "pinned_at"]
    rows = [[p.image_id, p.zone_id or "", p.image_name or "", p.reason, p.who, p.pinned_at]
            for p in sorted(pins(ledger, account).values(), key=lambda p: p.pinned_at, reverse=True)]
    return pd.DataFrame(rows, columns=columns)
