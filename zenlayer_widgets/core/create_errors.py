"""The create workflow's own errors (:mod:`.create` raises them; each says what happened and what to do)."""

from __future__ import annotations

from ..api.errors import ZenlayerError
from .preflight import Preflight
from .progress import ImageProgress


class CreateImageError(ZenlayerError):
    """Base of the workflow's own errors."""


class PreflightFailed(CreateImageError):
    """A check failed; nothing was sent. ``preflight`` holds every check and its reason."""

    def __init__(self, preflight: Preflight) -> None:
        self.preflight = preflight
        super().__init__("CreateImage refused before sending:\n" + preflight.summary())


class ImageCreationFailed(CreateImageError):
    """The image became UNAVAILABLE."""

    def __init__(self, progress: ImageProgress) -> None:
        self.progress = progress
        super().__init__(f"Image {progress.image_id} ({progress.image_name}) became {progress.status}.")


class ImageWaitTimeout(CreateImageError):
    """The image did not reach a final state in time; it still exists and keeps its id."""

    def __init__(self, progress: ImageProgress, timeout: float) -> None:
        self.progress = progress
        self.image_id = progress.image_id
        self.last_status = progress.status
        super().__init__(
            f"Image {progress.image_id} ({progress.image_name}) was still {progress.status} after {timeout:g} s; "
            f"it was created (request id {progress.request_id or 'unknown'}) and may still become AVAILABLE: "
            "follow it with zenlayer_widgets.wait_for_image(client, error.progress) (in async code: "
            "await zenlayer_widgets.wait_for_image_async(client, error.progress)) instead of creating it again."
        )


class InstanceRunning(PreflightFailed):
    """The instance is RUNNING and ``stop_if_running`` was not given: nothing was changed."""

    def __init__(self, preflight: Preflight) -> None:
        self.preflight = preflight
        check = preflight.check("power_state")
        CreateImageError.__init__(
            self,
            f"{check.reason if check else 'The instance is RUNNING.'} Nothing was changed. Pass stop_if_running=True "
            "(papermill: -p stop_if_running True) to stop it gracefully, image it and start it again.")




class CreateConflict(CreateImageError):
    """The name was used by an earlier create of this ledger for another instance or description: nothing was sent."""

    def __init__(self, image_id: str, zone_id: str, image_name: str, made_from: str, made_with: str | None,
                 instance_id: str, description: str | None) -> None:
        self.image_id, self.zone_id, self.image_name = image_id, zone_id, image_name
        self.made_from, self.made_with = made_from, made_with
        differs = (f"instance {made_from}, not {instance_id}" if made_from != instance_id
                   else f"instance {made_from} with description {made_with or ''!r}, not {description or ''!r}")
        super().__init__(
            f"Image {image_name!r} ({image_id}) in {zone_id} was already made by an earlier create from {differs}. "
            "Nothing was sent. Choose another name, or re-run with that instance and description to get that image.")
