"""The activity panel's logic: every action the package took for this account, read from the ledger.

The ledger (:mod:`zenlayer_widgets.core.ledger`) keeps one row per stop, start, create, delete and
rename, so the list survives kernel restarts. :class:`Activity` holds the filters and the rows as
traits; views render them. A start that followed a stop records when the instance was stopped,
which gives the downtime.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import traitlets as T

from ..core.ledger import ACTION_KINDS, Action, account_of, ledger_for
from ..core.ledger.records import parse_time
from ..core.restart import stopped_at_of

#: The columns the panel shows and the CSV holds.
COLUMNS = ["time", "kind", "instance", "image", "image_name", "request_id", "outcome", "downtime_s", "zone", "who"]
#: Where CSV exports go (relative to the working folder), never the folder itself.
EXPORT_DIR = "exports"


def downtime_seconds(action: Action) -> float | None:
    """Seconds between the stop and this start (a start recorded with when the instance was stopped)."""
    stopped = stopped_at_of(action)
    if action.kind != "start" or stopped is None or action.outcome != "done":
        return None
    return round((parse_time(action.at) - parse_time(stopped)).total_seconds(), 1)


def action_row(action: Action) -> dict[str, Any]:
    return {"time": action.at, "kind": action.kind, "instance": action.instance_id, "image": action.image_id,
            "image_name": action.image_name, "request_id": action.request_id, "outcome": action.outcome,
            "downtime_s": downtime_seconds(action), "zone": action.zone_id, "who": action.who}


class Activity(T.HasTraits):
    """The account's actions, newest first, filtered by kind and instance; ``notice`` says what just finished."""

    kind = T.Unicode("", help="Only this kind of action ('' = every kind)")
    instance_id = T.Unicode("", help="Only this instance's actions ('' = every instance)")
    rows = T.List(T.Dict(), help="The actions shown, newest first (dicts with COLUMNS)")
    notice = T.Unicode("", help="A create or a restart that just finished")
    error = T.Unicode("", help="Why the ledger could not be read ('' = it could)")

    def __init__(self, client: Callable[[], Any], *, limit: int = 500) -> None:
        super().__init__()
        self._client = client  # the controller's current client (it changes with the account)
        self.limit = limit

    @T.validate("kind")
    def _valid_kind(self, proposal: T.Bunch) -> str:
        kind = proposal["value"]
        if kind and kind not in ACTION_KINDS:
            raise T.TraitError(f"kind must be one of {', '.join(ACTION_KINDS)} or '', not {kind!r}")
        return kind

    @T.observe("kind", "instance_id")
    def _filters_changed(self, _change: T.Bunch) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the account's actions from the ledger again (with the filters)."""
        client = self._client()
        try:
            actions = ledger_for(client).history(
                account_of(client), kinds=[self.kind] if self.kind else None,
                instance_id=self.instance_id.strip() or None, limit=self.limit)
        except Exception as error:  # noqa: BLE001 - shown in the panel
            self.error = f"The activity could not be read from the ledger ({type(error).__name__})."
            return
        self.error = ""
        self.rows = [action_row(action) for action in actions]

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=COLUMNS)

    def export_csv(self, folder: str | Path = EXPORT_DIR, *, now: datetime | None = None) -> Path:
        """Write the rows shown to ``<folder>/activity-<UTC time>.csv``; the path."""
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
        path = Path(folder) / f"activity-{stamp}.csv"
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frame().to_csv(path, index=False)
        self.notice = f"Exported {len(self.rows)} actions to {path}."
        return path

    def finished(self, message: str) -> None:
        """A create or a restart finished: say so and show it."""
        self.reload()
        self.notice = message


__all__ = ["COLUMNS", "EXPORT_DIR", "Activity", "action_row", "downtime_seconds"]
