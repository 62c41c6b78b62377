"""The studio's create loop: CreateImage for the chosen instance, or stop-image-start once confirmed, each step shown.

A part of :class:`~zenlayer_widgets.studio.controller.StudioController` (``controller.creates``). Every step core
reports (stopping, stopped, imaging, starting...) shows in the form's progress and the instance table as it
happens; an outcome core cannot tell (:class:`CreateOutcomeUnknown`) offers "check again", and "send again" once
no request of it can still land. Core's ``create_image_async`` does the work and the recording.
"""

from __future__ import annotations

import time
from dataclasses import replace
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from ..core.create import create_image_async
from ..core.intents import settle_intent_async
from ..core.ledger import account_of, ledger_for
from ..core.progress import ImageProgress
from ..core.reconcile import CreateOutcomeUnknown, settled
from ..core.restart import RestartFailed
from .clock import clock_text
from .outcome import attempt

if TYPE_CHECKING:
    from .controller import StudioController


def finished_text(progress: ImageProgress, instance: str | None = None) -> str:
    """What the activity notice says when a create (and a restart) finished; ``instance``: its name."""
    who = instance or progress.instance_id
    text = f"Image {progress.image_name} ({progress.image_id}) is {progress.status} in {progress.zone_id}."
    if progress.stopped_at and progress.downtime is not None:
        text += (f" {who} was offline {progress.downtime:.1f} s: stop sent {clock_text(progress.stopped_at)}, "
                 f"RUNNING again {clock_text(progress.started_at or '')}.")
    elif progress.stopped_at:
        text += f" {who} was stopped at {clock_text(progress.stopped_at)} and left STOPPED."
    return text


class CreateLoop:
    """Create an image of the chosen instance (plain, or stop-image-start), and settle an unknown outcome."""

    def __init__(self, studio: StudioController) -> None:
        self.studio = studio
        self._unknown_description: str | None = None  # what the unknown create was sent with

    async def submit(self) -> ImageProgress | None:
        """CreateImage for the current choices (server-side preflight first), then follow it."""
        studio = self.studio
        if not studio.can_submit:
            return None
        instance = studio.selected_instance
        assert instance is not None
        return await self._create(instance.instance_id, instance.zone_id, studio.image_name, studio.description or None)

    async def submit_cycle(self) -> ImageProgress | None:
        """Stop the chosen RUNNING instance (gracefully unless ``force_stop``), create the image, and start it
        again when ``start_after``: only offered where the power state is the one thing in the way."""
        studio = self.studio
        studio.confirming_cycle = False
        if not studio.can_cycle:
            return None
        instance = studio.selected_instance
        assert instance is not None
        return await self._create(instance.instance_id, instance.zone_id, studio.image_name, studio.description or None,
                                  cycle=True)

    async def check_again(self) -> ImageProgress | None:
        """After :class:`CreateOutcomeUnknown`: look at the evidence again (never sends while it is unsure)."""
        unknown = self.studio.unknown
        if unknown is None or self.studio.creating:
            return None
        return await self._create(unknown.instance_id or "", unknown.zone_id, unknown.image_name, self._unknown_description)

    async def send_again(self) -> ImageProgress | None:
        """After :class:`CreateOutcomeUnknown`, once sure: none of the candidates is this create's; close it, create anew."""
        studio = self.studio
        unknown = studio.unknown
        if unknown is None or not studio.can_send_again:
            return None
        try:
            await settle_intent_async(studio.client, unknown.instance_id or "", unknown.image_name, None)
        except Exception as error:  # noqa: BLE001 - shown in the form
            studio.report(error, "Sending again")
            return None
        return await self._create(unknown.instance_id or "", unknown.zone_id, unknown.image_name, self._unknown_description)

    async def announce_settled(self, unknown: CreateOutcomeUnknown) -> None:
        """Set ``send_again_ready`` once the unknown create's settle window is over (the form then offers "send
        again"): the ledger is read here, once, never while the form renders."""
        studio = self.studio
        entry = ledger_for(studio.client).open_intent(account_of(studio.client), unknown.instance_id or "", unknown.image_name)
        if entry is None:
            return
        if entry.sent_at is None:  # never sent: nothing of it can land
            if studio.unknown is unknown:
                studio.send_again_ready = settled(entry)
            return
        ends = datetime.fromisoformat(entry.sent_at).timestamp() + (entry.settle_seconds or 0.0)
        await studio.sleep(max(ends - datetime.now(timezone.utc).timestamp(), 0.0) + 0.05)
        if studio.unknown is unknown:
            studio.send_again_ready = True  # the form offers "send again" from now on

    async def _create(self, instance_id: str, zone_id: str, image_name: str, description: str | None, *,
                      cycle: bool = False) -> ImageProgress | None:
        studio = self.studio
        label = studio.label(instance_id)
        first = ImageProgress("stopping", instance_id, zone_id, image_name, instance_status="RUNNING") if cycle else \
            ImageProgress("submitting", instance_id, zone_id, image_name)
        started = time.monotonic()
        submitted = False

        def begin() -> None:
            studio.inventory_at_submit = studio.inventory  # the checks are judged against the account as it was
            studio.report(None)
            studio.progress = first
            studio.notice, studio.image_note = "", ()
            studio.unknown, studio.send_again_ready = None, False

        def on_progress(progress: ImageProgress) -> None:
            nonlocal submitted
            if progress.instance_status:  # the loop's power states show in the table as they happen
                studio.loading.apply_status(instance_id, progress.instance_status)
            studio.progress = replace(progress, elapsed=time.monotonic() - started)
            if progress.image_id and not submitted:
                submitted = True
                studio.tasks.spawn(studio.loading.refresh())  # the new image and the quota show at once

        async def create() -> ImageProgress:
            result = await create_image_async(
                studio.client, instance_id, image_name, description, timeout=studio.wait_timeout,
                poll_interval=studio.poll_interval, sleep=studio.sleep, on_progress=on_progress, stop_if_running=cycle,
                start_after=studio.start_after if cycle else None, force_stop=studio.force_stop)
            progress = studio.progress = replace(result, elapsed=time.monotonic() - started)
            studio.activity.finished(finished_text(progress, label))
            with studio.hold_trait_notifications():  # ready for the next image; the progress line stays
                if studio.image_name == image_name:  # a name typed while it ran is the user's next one: kept
                    studio.image_name = ""
                if studio.description == (description or ""):
                    studio.description = ""
            return progress

        def failed(error: BaseException) -> None:
            if isinstance(error, CreateOutcomeUnknown):  # the form offers "check again" (and later "send again")
                studio.unknown, self._unknown_description = error, description
                studio.tasks.spawn(self.announce_settled(error))
            studio.report(error, f"Creating image {image_name} of {label}")
            if studio.progress is not None and not studio.progress.image_id:
                studio.progress = None  # refused before an image existed: no "submitting… 0 s" left behind
            elif studio.progress is not None and studio.progress.phase in ("submitting", "reconciling", "stopping"):
                studio.progress = replace(studio.progress, phase="failed")
            if isinstance(error, RestartFailed):
                studio.activity.finished(f"The image is made but {label} was not started again: {error}")
            else:
                studio.activity.reload()

        def done() -> None:
            studio.inventory_at_submit = None

        _, progress = await attempt(studio, "creating", create, failed=failed, start=begin, then=done)
        await studio.loading.refresh()
        return progress


__all__ = ["CreateLoop", "finished_text"]
