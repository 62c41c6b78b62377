"""The package's changes besides CreateImage (start, delete, rename), each recorded in the ledger.

Zenlayer keeps no provenance; the ledger does: every change is one action row with who, when,
the ids, the request id and the outcome (``done``, ``refused`` or ``unknown`` when the answer was
lost). Stop goes through :func:`~zenlayer_widgets.core.create.stop_instance_async`, which records too.

The in-use guard: an image that live instances run (``DescribeInstances(imageId=...)``) is never deleted here
(the path of ``zw.delete_image``, the studio row's Delete and a rotation's deletes): :class:`ImageInUse`,
nothing sent, unless ``force=True`` with a ``reason``, which the delete's action row records.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .._runner import run_sync
from ..api.errors import NotFound, ZenlayerError
from ..api.vocabulary import RECYCLED_STATES, RELEASING
from . import arguments
from .ledger import ledger_for
from .one_step import change_key, run_change
from .operations import StepPlan
from .recorded import DONE as DONE  # this module's API too
from .recorded import REFUSED as REFUSED
from .recorded import UNKNOWN as UNKNOWN
from .recorded import recorded as recorded
from .sync import AnyClient, async_side, shows_signature_of

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient
    from ..api.models import Instance
    from .ledger import Ledger

#: States of an instance that no longer runs its image (the recycle bin, on its way out).
NOT_LIVE = RECYCLED_STATES | {RELEASING}


class ImageInUse(ZenlayerError):
    """The image is run by live instances; it was not deleted. ``instances`` are those instances."""

    def __init__(self, image_id: str, instances: list[Instance]) -> None:
        self.image_id = image_id
        self.instances = tuple(instances)
        named = ", ".join(f"{i.instance_name or '?'} ({i.instance_id})" for i in instances[:5])
        more = f" and {len(instances) - 5} more" if len(instances) > 5 else ""
        super().__init__(f"Image {image_id} is in use by {len(instances)} live instance(s): {named}{more}. Nothing was "
                         "deleted. Delete or rebuild those instances first, or pass force=True with reason='...' (the "
                         "reason is recorded in the ledger).")


async def live_instances_of(client: AsyncZenlayerClient, image_id: str) -> list[Instance]:
    """The live instances built from ``image_id`` (DescribeInstances with imageId; the recycle bin left out)."""
    return [i for i in await client.list_instances(image_id=image_id) if i.instance_status not in NOT_LIVE]


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
                             image_name: str | None = None, ledger: Ledger | None = None, force: bool = False,
                             reason: str | None = None) -> list[str]:
    """DeleteImages for one custom image, as a one-step operation (:mod:`.one_step`), recorded; the request ids. :class:`ImageInUse` (nothing sent) when live
    instances run it, unless ``force=True`` with a ``reason`` (recorded in the action's detail)."""
    arguments.id_arg(image_id, "image_id")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(image_name, "image_name", optional=True, empty=True)
    reason = (reason or "").strip() or None
    if force and reason is None:
        raise ValueError("force=True needs reason='why this image may go although instances run it' (it is recorded "
                         "in the ledger); nothing was deleted.")
    client = async_side(client)
    users = await live_instances_of(client, image_id)
    if users and not force:
        raise ImageInUse(image_id, users)
    detail = None if not force else (
        f"forced while in use by {','.join(i.instance_id for i in users)}: {reason}" if users else f"forced: {reason}")
    ledger = ledger_for(client) if ledger is None else ledger
    zone_id = zone_id or await _zone_of(client, image_id)
    params = {"image_id": image_id, "zone_id": zone_id, "image_name": image_name, "reason": detail}
    done = await run_change(client, ledger, "delete", f"delete:{image_id}",  # one unfinished delete per image
                            StepPlan("delete_image", params), zone_id=zone_id, image_id=image_id)
    return _request_ids(done.facts.get("delete_request_id"))


async def _zone_of(client: AsyncZenlayerClient, image_id: str) -> str | None:
    """The image's zone (None when it is not found: the delete is then refused by the API, and recorded so)."""
    try:
        return (await client.describe_image(image_id)).zone_id
    except NotFound:
        return None


def _request_ids(joined: object) -> list[str]:
    return [part for part in str(joined or "").split(",") if part]


async def rename_image_async(client: AnyClient, image_id: str, new_name: str, *, zone_id: str | None = None,
                             old_name: str | None = None, ledger: Ledger | None = None) -> list[str]:
    """ModifyImagesAttributes (the name) for one custom image, as a one-step operation (:mod:`.one_step`),
    recorded with the old name in ``detail``."""
    arguments.id_arg(image_id, "image_id")
    arguments.image_name(new_name, "new_name")
    arguments.optional_id(zone_id, "zone_id")
    arguments.text_arg(old_name, "old_name", optional=True, empty=True)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    params = {"image_id": image_id, "zone_id": zone_id, "name": new_name, "old_name": old_name}
    done = await run_change(client, ledger, "rename", change_key("rename", image_id, params),
                            StepPlan("modify_image", params), zone_id=zone_id, image_id=image_id)
    return list(done.facts.get("modify_request_ids") or [])


def start_instance(client: AnyClient, instance_id: str, *, zone_id: str | None = None, detail: str | None = None,
                   ledger: Ledger | None = None) -> list[str]:
    """:func:`start_instance_async` for synchronous code."""
    return run_sync(start_instance_async(client, instance_id, zone_id=zone_id, detail=detail, ledger=ledger))


@shows_signature_of(delete_image_async)
def delete_image(client: AnyClient, image_id: str, **options: Any) -> list[str]:
    """:func:`delete_image_async` for synchronous code."""
    return run_sync(delete_image_async(client, image_id, **options))


@shows_signature_of(rename_image_async)
def rename_image(client: AnyClient, image_id: str, new_name: str, **options: Any) -> list[str]:
    """:func:`rename_image_async` for synchronous code."""
    return run_sync(rename_image_async(client, image_id, new_name, **options))
