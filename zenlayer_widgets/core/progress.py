"""Where an image create stands: the value the workflow reports and the form and runbooks show."""

from __future__ import annotations

from dataclasses import dataclass

from ..api.models import Image
from ..rules import AVAILABLE, UNAVAILABLE


@dataclass(frozen=True)
class ImageProgress:
    """Where an image create stands: ids, status and elapsed time (what the form and runbook show)."""

    phase: str  # "submitting", "reconciling", "submitted", "waiting", "done", "failed", "timeout"
    instance_id: str
    zone_id: str
    image_name: str
    image_id: str | None = None
    request_id: str | None = None
    status: str | None = None
    elapsed: float = 0.0
    adopted: bool = False
    already_made: bool = False  # an earlier run made this image (same instance, name, description): nothing sent
    attempts: int = 0
    image: Image | None = None
    intent_id: str | None = None  # the ledger's intent this create belongs to
    stopped_at: str | None = None  # when this create stopped the instance (UTC ISO text), if it did
    started_at: str | None = None  # when it was RUNNING again afterwards, if this create started it

    @property
    def finished(self) -> bool:
        return self.status in (AVAILABLE, UNAVAILABLE)
