"""Steps that edit one custom image: its name and description (ModifyImagesAttributes), recorded as a rename."""

from __future__ import annotations

from typing import Any

from ....api.errors import NotFound
from ...recorded import recorded
from .base import Evidence, StepKind, StepRun, register


@register
class ModifyImage(StepKind):
    """ModifyImagesAttributes of ``image_id``: ``name`` and/or ``description`` (only what changes is sent),
    recorded as a ``rename`` (``detail``: the old name, or "description" when only that changes). Landed: the image
    carries them."""

    name = "modify_image"

    async def send(self, run: StepRun) -> dict[str, Any]:
        image_id, name, old_name = run.need("image_id"), run.param("name"), run.param("old_name")
        detail = "description" if name is None else (f"was {old_name}" if old_name else None)
        async with recorded(run.client, "rename", zone_id=run.param("zone_id"), image_id=image_id,
                            image_name=name or old_name, detail=detail, ledger=run.ledger) as action:
            action.request_ids = list(await run.client.modify_images_attributes(
                [image_id], image_name=name, image_description=run.param("description")))
        return {"modify_request_ids": action.request_ids}

    async def look(self, run: StepRun) -> Evidence:
        name, description = run.param("name"), run.param("description")
        try:
            image = await run.client.describe_image(run.need("image_id"))
        except NotFound:
            return Evidence(None, reason="the image is gone")
        seen = {"name": image.image_name, "description": image.image_description}
        if (name is None or image.image_name == name) and (description is None or
                                                           (image.image_description or "") == description):
            return Evidence(True, {"modify_request_ids": []}, "the image carries the new name and description", seen)
        return Evidence(False, reason="the image does not carry them yet", seen=seen)
