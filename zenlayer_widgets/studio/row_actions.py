"""An image row's Edit (rename, re-describe) and Delete: checked against the account first, the outcome at the row.

A part of :class:`~zenlayer_widgets.studio.controller.StudioController` (``controller.row_actions``); the row's
Verify, Launch a copy and Restore are the other row part (:mod:`~zenlayer_widgets.studio.proof_actions`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.changes import delete_image_async
from ..core.image_actions import modify_image_async
from .outcome import run_action

if TYPE_CHECKING:
    from .controller import StudioController


class RowActions:
    """Rename/re-describe and delete one listed image; an image gone since the last poll is said so, nothing sent."""

    def __init__(self, studio: StudioController) -> None:
        self.studio = studio

    async def recheck_image(self, image_id: str) -> bool:
        """Whether a listed image still exists, asked when its Edit or Delete is clicked: one DescribeImages by id.

        Gone (deleted elsewhere since the last poll): its editor or delete question is closed, "This image is gone"
        is said next to it (under its zone's table once the tables reload), the image lists are reloaded, and no
        delete or rename is sent. A check that fails counts as "still there": the action's own answer tells.
        """
        studio = self.studio
        image = studio.image(image_id)
        if image is None or not image.zone_id:
            return image is not None
        try:
            found = await studio.client.describe_images(image.zone_id, image_ids=[image_id])
        except Exception:  # noqa: BLE001 - the delete/rename itself then says what is wrong
            return True
        if any(listed.image_id == image_id for listed in found):
            return True
        name = image.image_name or image_id
        with studio.hold_trait_notifications():
            if studio.delete_candidate == image_id:
                studio.delete_candidate = None
            if studio.editing == image_id:
                studio.editing = None
            studio.image_note = (image_id, "error", f"This image is gone: {name} in {image.zone_id} was deleted "
                                 "elsewhere (another notebook, cron or a colleague). Nothing was sent.", image.zone_id)
        await studio.loading.refresh_images()
        return False

    async def confirm_delete(self, image_id: str | None = None) -> None:
        """DeleteImages for the image awaiting confirmation, then reload (its quota slot is free again)."""
        studio = self.studio
        image_id = image_id or studio.delete_candidate
        studio.delete_candidate = None
        image = studio.image(image_id)
        if image_id is None or image is None or studio.deleting:
            return
        label = f"{image.image_name or image_id} in {image.zone_id}"

        async def delete() -> str:
            await delete_image_async(studio.client, image.image_id, zone_id=image.zone_id, image_name=image.image_name)
            return f"{image.image_name or image_id} deleted from {image.zone_id} ({image_id})."

        await run_action(studio, "deleting", f"Deleting image {label}", delete, image=image)
        await studio.loading.refresh()

    async def save_edit(self, image_id: str, name: str, description: str) -> bool:
        """ModifyImagesAttributes with what changed (the create form's rules first), then reload; True when saved."""
        studio = self.studio
        image = studio.image(image_id)
        if image is None or studio.renaming:
            return False
        problem = studio.edit_problem(image_id, name, description)
        if problem:
            studio.image_note = (image_id, "error", f"Not saved: {problem}", image.zone_id or "")
            return False
        new_name = name if name != image.image_name else None
        new_description = description if description != (image.image_description or "") else None
        if new_name is None and new_description is None:
            with studio.hold_trait_notifications():
                studio.editing = None
                studio.image_note = (image_id, "ok", "Nothing changed.", image.zone_id or "")
            return False

        async def modify() -> str:
            await modify_image_async(studio.client, image_id, name=new_name, description=new_description,
                                     zone_id=image.zone_id, old_name=image.image_name)
            studio.editing = None
            return f"{image.image_name}: {f'renamed to {name}' if new_name is not None else 'description saved'}."

        try:
            return await run_action(studio, "renaming", f"Renaming image {image.image_name} in {image.zone_id}", modify,
                                    image=image)
        finally:
            await studio.loading.refresh()


__all__ = ["RowActions"]
