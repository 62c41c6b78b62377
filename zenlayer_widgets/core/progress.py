"""Where an image create stands: the value the workflow reports and the form and runbooks show."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

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
    stopped_at: str | None = None  # when this create sent the stop (UTC ISO text): the downtime starts there
    started_at: str | None = None  # when it was RUNNING again afterwards, if this create started it
    instance_status: str | None = None  # the instance's power state as last seen by a stop-create-start

    @property
    def downtime(self) -> float | None:
        """Seconds from the stop sent to RUNNING again (None: not stopped, or not started again yet)."""
        return downtime_between(self.stopped_at, self.started_at)

    @property
    def finished(self) -> bool:
        return self.status in (AVAILABLE, UNAVAILABLE)


def downtime_between(stopped_at: str | None, running_at: str | None) -> float | None:
    """Seconds (one decimal) from the stop sent to RUNNING again: the one downtime figure (form, Activity, CSV, runbook)."""
    if not stopped_at or not running_at:
        return None
    return round((datetime.fromisoformat(running_at) - datetime.fromisoformat(stopped_at)).total_seconds(), 1)
