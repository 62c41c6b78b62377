"""Rename, re-describe and delete one custom image: the checks, then one call each (what the studio's rows call).

Each call is recorded in the ledger (:func:`.changes.recorded`); delete is :func:`.changes.delete_image_async`.
"""

from __future__ import annotations

from ..rules import validate_image_description, validate_image_name
from .changes import recorded
from .sync import AnyClient, async_side


def check_edit(
    name: str, description: str, *, current_name: str, zone: str = "This zone", taken: set[str] | frozenset[str] = frozenset()
) -> str:
    """Why this rename/re-describe would be refused ("" when it may go out): the create form's rules."""
    verdict = validate_image_name(name)
    if not verdict.ok:
        return verdict.message
    described = validate_image_description(description)
    if not described.ok:
        return described.message
    if name != current_name and name in taken:
        return f"{zone} already has an image named {name!r}."
    return ""


async def modify_image_async(
    client: AnyClient, image_id: str, *, name: str | None = None, description: str | None = None,
    zone_id: str | None = None, old_name: str | None = None,
) -> list[str]:
    """ModifyImagesAttributes for one image (only what changed is sent), recorded in the ledger as a
    ``rename`` (``detail``: the old name, or "description" when only that changed); the request ids."""
    client = async_side(client)
    detail = "description" if name is None else (f"was {old_name}" if old_name else None)
    async with recorded(client, "rename", zone_id=zone_id, image_id=image_id, image_name=name or old_name,
                        detail=detail) as action:
        action.request_ids = list(await client.modify_images_attributes([image_id], image_name=name,
                                                                         image_description=description))
    return action.request_ids


__all__ = ["check_edit", "modify_image_async"]
