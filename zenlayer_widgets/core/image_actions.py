"""Rename, re-describe and delete one custom image: the checks, then one call each (what the studio's rows call).

Kept in one place so an action ledger can record each call (the request ids are returned).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..rules import validate_image_description, validate_image_name

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient


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
    client: AsyncZenlayerClient, image_id: str, *, name: str | None = None, description: str | None = None
) -> list[str]:
    """ModifyImagesAttributes for one image (only what changed is sent); returns the request ids."""
    return list(await client.modify_images_attributes([image_id], image_name=name, image_description=description))


async def delete_image_async(client: AsyncZenlayerClient, image_id: str) -> list[str]:
    """DeleteImages for one image; returns the request ids."""
    return list(await client.delete_images([image_id]))


__all__ = ["check_edit", "delete_image_async", "modify_image_async"]
