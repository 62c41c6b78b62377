"""The package's changes besides CreateImage (start, delete, rename), each recorded in the ledger.

Zenlayer keeps no provenance; the ledger does: every change is one action row with who, when,
the ids, the request id and the outcome (``done``, ``refused`` or ``unknown`` when the answer was
lost). Stop goes through :func:`~zenlayer_widgets.core.create.stop_instance_async`, which records too.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from .._runner import run_sync
from ..api.errors import APIError, TransportError
from . import arguments
from .ledger import account_of, ledger_for
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient
    from .ledger import Ledger

DONE, REFUSED, UNKNOWN = "done", "refused", "unknown"


@dataclass
class _Action:
    request_ids: list[str] = field(default_factory=list)


@asynccontextmanager
async def recorded(client: AsyncZenlayerClient, kind: str, *, zone_id: str | None = None, instance_id: str | None = None,
                   image_id: str | None = None, image_name: str | None = None, detail: str | None = None,
                   ledger: Ledger | None = None) -> AsyncIterator[_Action]:
    """Record the change made inside the block as one action in ``ledger`` (default: the client's), whatever its
    outcome (the error is re-raised)."""
    action = _Action()
    outcome = DONE
    try:
        yield action
    except (TransportError, APIError) as error:
        outcome = UNKNOWN if getattr(error, "outcome_unknown", False) else REFUSED
        detail = getattr(error, "code", None) or type(error).__name__
        raise
    except BaseException as error:
        outcome, detail = UNKNOWN, type(error).__name__
        raise
    finally:
        (ledger_for(client) if ledger is None else ledger).record_action(
            kind, account=account_of(client), outcome=outcome, zone_id=zone_id, instance_id=instance_id, image_id=image_id,
            image_name=image_name, request_id=",".join(action.request_ids) or None, detail=detail)


async def start_instance_async(client: AnyClient, instance_id: str, *, zone_id: str | None = None,
                               detail: str | None = None, ledger: Ledger | None = None) -> list[str]:
    """StartInstances for one instance, recorded (with ``detail``, e.g. when it was stopped); the request ids."""
    arguments.id_arg(instance_id, "instance_id")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(detail, "detail", optional=True, empty=True)
    client = async_side(client)
    async with recorded(client, "start", zone_id=zone_id, instance_id=instance_id, detail=detail, ledger=ledger) as action:
        action.request_ids = await client.start_instances([instance_id])
    return action.request_ids


async def delete_image_async(client: AnyClient, image_id: str, *, zone_id: str | None = None,
                             image_name: str | None = None, ledger: Ledger | None = None) -> list[str]:
    """DeleteImages for one custom image, recorded; the request ids."""
    arguments.id_arg(image_id, "image_id")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(image_name, "image_name", optional=True, empty=True)
    client = async_side(client)
    async with recorded(client, "delete", zone_id=zone_id, image_id=image_id, image_name=image_name,
                        ledger=ledger) as action:
        action.request_ids = await client.delete_images([image_id])
    return action.request_ids


async def rename_image_async(client: AnyClient, image_id: str, new_name: str, *, zone_id: str | None = None,
                             old_name: str | None = None, ledger: Ledger | None = None) -> list[str]:
    """ModifyImagesAttributes (the name) for one custom image, recorded with the old name in ``detail``."""
    arguments.id_arg(image_id, "image_id")
    arguments.image_name(new_name, "new_name")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(old_name, "old_name", optional=True, empty=True)
    client = async_side(client)
    async with recorded(client, "rename", zone_id=zone_id, image_id=image_id, image_name=new_name,
                        detail=None if old_name is None else f"was {old_name}", ledger=ledger) as action:
        action.request_ids = await client.modify_images_attributes([image_id], image_name=new_name)
    return action.request_ids


def start_instance(client: AnyClient, instance_id: str, *, zone_id: str | None = None, detail: str | None = None,
                   ledger: Ledger | None = None) -> list[str]:
    """:func:`start_instance_async` for synchronous code."""
    return run_sync(start_instance_async(client, instance_id, zone_id=zone_id, detail=detail, ledger=ledger))


def delete_image(client: AnyClient, image_id: str, **options: Any) -> list[str]:
    """:func:`delete_image_async` for synchronous code."""
    return run_sync(delete_image_async(client, image_id, **options))


def rename_image(client: AnyClient, image_id: str, new_name: str, **options: Any) -> list[str]:
    """:func:`rename_image_async` for synchronous code."""
    return run_sync(rename_image_async(client, image_id, new_name, **options))
