"""What verify, launch and restore share: their errors, reading the image and its source, choosing a shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from ...api.errors import NotFound, ZenlayerError
from ...api.models import Image, Instance
from ...api.vocabulary import AVAILABLE, POSTPAID
from ..ledger import Ledger
from ..ledger import schema as tables
from ..operations import Driver, Operation
from ..operations.steps.base import Sleep
from ..preflight import fetch_instance

if TYPE_CHECKING:
    from ...api.client import AsyncZenlayerClient

PriceCallback = Callable[[float | None], None]


class OperationRefused(ZenlayerError):
    """Verify, launch or restore refused before sending anything (the message says why and what to do)."""


class OperationFailed(ZenlayerError):
    """A verify, launch or restore ended failed; ``operation`` is its record (steps, the failing step's code)."""

    def __init__(self, operation: Operation, message: str) -> None:
        self.operation = operation
        failed = operation.failed_step()
        why = f" (step {failed.kind}: {failed.error_code or failed.error_type})" if failed is not None else ""
        super().__init__(f"{message}{why}. Operation {operation.operation_id} in the ledger has every step.")


def make_driver(client: AsyncZenlayerClient, ledger: Ledger, account: str, sleep: Sleep, poll: float,
                **extras: Any) -> Driver:
    return Driver(client, ledger, account, sleep=sleep, extras={"poll": poll, **extras})


async def fetch_image(client: AsyncZenlayerClient, image_id: str) -> Image:
    """The image, AVAILABLE, with its zone; :class:`OperationRefused` otherwise."""
    try:
        image = await client.describe_image(image_id)
    except NotFound:
        raise OperationRefused(f"Image {image_id} was not found; nothing was sent.") from None
    if image.image_status != AVAILABLE:
        raise OperationRefused(f"Image {image_id} is {image.image_status or 'in an unknown state'}, not AVAILABLE; nothing was "
                      "sent. Wait until it is AVAILABLE.")
    return image


async def fetch_existing(client: AsyncZenlayerClient, instance_id: str) -> Instance:
    instance = await fetch_instance(client, instance_id)
    if instance is None:
        raise OperationRefused(f"Instance {instance_id} was not found; nothing was sent.")
    return instance


def source_instance_id(ledger: Ledger, image_id: str) -> str | None:
    """The instance the ledger says the image was made from (its create intent), if it knows."""
    t = tables.intents.c
    rows = ledger._read(sa.select(t.instance_id).where(t.image_id == image_id).limit(1))
    return rows[0].instance_id if rows else None


@dataclass(frozen=True)
class Shape:
    """What a throwaway is launched as: its type and its hourly price, and why that type."""

    instance_type: str
    price: float | None
    why: str


async def _price(client: AsyncZenlayerClient, zone_id: str, instance_type: str, disk: int | None) -> float | None:
    quote = await client.inquiry_price_create_instance(zone_id, instance_type, system_disk_size=disk)
    return quote.hourly_total


async def choose_shape(client: AsyncZenlayerClient, ledger: Ledger, image: Image, max_price: float | None) -> Shape:
    """The source instance's type where the ledger knows it, else the cheapest POSTPAID type of the zone; the cap
    (default: the cheapest type's price) is kept: over it, the cheapest type (default cap) or :class:`OperationRefused`."""
    zone_id = str(image.zone_id)
    types = await client.describe_zone_instance_config_infos(zone_id=zone_id, instance_charge_type=POSTPAID)
    priced = [(await _price(client, zone_id, t.instance_type, image.image_size), t.instance_type) for t in types]
    known = sorted((p, name) for p, name in priced if p is not None)
    if not known:
        raise OperationRefused(f"No instance type with an hourly price is offered in {zone_id}; nothing was sent.")
    cheapest = Shape(known[0][1], known[0][0], "the cheapest type of the zone")
    cap = cheapest.price if max_price is None else float(max_price)
    source_id = source_instance_id(ledger, image.image_id)
    source = None if source_id is None else await fetch_instance(client, source_id)
    if source is not None and source.instance_type:
        price = next((p for p, name in priced if name == source.instance_type), None)
        if price is not None and cap is not None and price <= cap:
            return Shape(source.instance_type, price, f"the type of {source.instance_id}, the image's source")
        if max_price is None:
            return Shape(cheapest.instance_type, cheapest.price,
                         f"the cheapest type: the source's {source.instance_type} costs {price} per hour")
    if cap is not None and cheapest.price is not None and cheapest.price > cap:
        raise OperationRefused(f"The cheapest type in {zone_id} ({cheapest.instance_type}) costs {cheapest.price} per hour, above "
                      f"max_price={max_price}; nothing was sent.")
    return cheapest


_NAME_CHARACTERS = re.compile(r"[^A-Za-z0-9.-]")


def instance_name_for(*parts: str) -> str:
    """An instance name the API takes (letters, digits, ``-``, ``.``; at most 64) made of ``parts``."""
    return _NAME_CHARACTERS.sub("-", "-".join(parts))[:64]


def planned(plan: list[Any], what: str) -> Callable[[], list[Any]]:
    """The plan to begin an operation with; when it was not made (an unfinished one existed when this run looked,
    and has finished since), :class:`OperationRefused`: run again."""

    def make() -> list[Any]:
        if not plan:
            raise OperationRefused(f"Another run finished this {what} a moment ago; nothing was sent. Run it again if needed.")
        return plan

    return make
