"""Steps on custom images: delete (landed: the image is gone or DELETING), wait until AVAILABLE, create (through
core/submit.py's intents)."""

from __future__ import annotations

import time
from typing import Any

from ....api.vocabulary import AVAILABLE, CREATING
from ...create_errors import CreateImageError
from ...image_wait import follow_to_available
from ...recorded import recorded
from ...submit import make_image
from ..model import StepFailed
from .base import Evidence, StepKind, StepRun, register, request_id

DELETING = "DELETING"


async def image_status(run: StepRun, zone_id: str, image_id: str) -> str | None:
    page = await run.client.describe_images(zone_id, image_ids=[image_id])
    return next((i.image_status or "" for i in page.items if i.image_id == image_id), None)


@register
class DeleteImage(StepKind):
    """DeleteImages for ``image_id`` in ``zone_id``, recorded as a delete action (with ``image_name`` and the
    ``reason``, when given)."""

    name = "delete_image"

    async def send(self, run: StepRun) -> dict[str, Any]:
        image_id = run.need("image_id")
        async with recorded(run.client, "delete", zone_id=run.param("zone_id"), image_id=image_id,
                            image_name=run.param("image_name"), detail=run.param("reason"), ledger=run.ledger) as action:
            action.request_ids = await run.client.delete_images([image_id])
        return {"delete_request_id": request_id(action.request_ids)}

    async def look(self, run: StepRun) -> Evidence:
        status = await image_status(run, run.need("zone_id"), run.need("image_id"))
        if status is None or status == DELETING:
            return Evidence(True, {"delete_request_id": None}, f"the image is {status or 'gone'}")
        return Evidence(False, reason=f"the image is {status}", seen={"status": status})


@register
class WaitImage(StepKind):
    """Poll until ``image_id`` is AVAILABLE (a read). Fails ``NOT_AVAILABLE`` / ``TIMEOUT``."""

    name = "wait_image"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        zone_id, image_id = run.need("zone_id"), run.need("image_id")
        timeout = float(run.param("timeout") or 1800.0)
        started = time.monotonic()
        while True:
            status = await image_status(run, zone_id, image_id)
            if status == AVAILABLE:
                return {}
            if status != CREATING:
                raise StepFailed("NOT_AVAILABLE", f"Image {image_id} is {status or 'gone'}, not AVAILABLE.")
            if time.monotonic() - started > timeout:
                raise StepFailed("TIMEOUT", f"Image {image_id} is still CREATING after {timeout:g} s.")
            await run.sleep(float(run.extras.get("poll", 1.0)))


@register
class CreateImage(StepKind):
    """CreateImage of ``instance_id`` named ``image_name``, waited AVAILABLE, through core/submit.py (its own intent:
    written before the send, reconciled on evidence). Run again after a kill, the same instance and name resume
    that intent, never a second image: so, to this driver, the step is idempotent."""

    name = "create_image"
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        try:
            progress = await make_image(run.client, run.ledger, run.need("instance_id"), run.need("image_name"),
                                        run.param("description"), sleep=run.sleep)
            progress = await follow_to_available(run.client, run.ledger, progress, timeout=1800.0,
                                                 poll_interval=float(run.extras.get("poll", 2.0)), sleep=run.sleep)
        except CreateImageError as error:
            raise StepFailed(type(error).__name__, str(error)) from None
        if progress.status != AVAILABLE:
            raise StepFailed("NOT_AVAILABLE", f"Image {progress.image_id} is {progress.status}, not AVAILABLE.")
        return {"backup_image_id": progress.image_id}
