"""The activity panel's logic: every action the package took for this account, read from the ledger.

The ledger (:mod:`zenlayer_widgets.core.ledger`) keeps one row per stop, start, create, delete and
rename, so the list survives kernel restarts. :class:`Activity` holds the filters and the rows as
traits; views render them. A start that followed a stop records when the instance was stopped,
which gives the downtime. A rotation-policy run is one entry (``level`` "run": what it made,
deleted, skipped) followed by its own actions (``level`` "step"), which carry the run's id. Verifies, launches and
restores are one row per operation (``zw_operations``), with the verification's throwaway and the hourly price.
The unattended runs (``zw.run_history``: papermill, cron, systemd, jupyter-scheduler) are listed apart in ``runs``,
each with a link to its output notebook (:mod:`.run_links`).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pandas as pd
import traitlets as T

from ..core.ledger import ACTION_KINDS, Action, account_of, ledger_for
from ..core.operations import FAILED, Operation, store
from ..core.owed_start import owed_instances
from ..core.policy.lease import held_by_another
from ..core.policy.records import RunSummary, summaries
from ..core.progress import downtime_between
from ..core.restart import PLANNED, stopped_at_of
from ..core.runs import history_rows
from .run_links import ServerRoot, output_link, this_server

#: The columns the panel shows; the CSV holds them and the policy run (``run``) each row belongs to.
COLUMNS = ["time", "kind", "instance", "image", "image_name", "request_id", "outcome", "downtime_s", "zone", "who",
           "throwaway", "price"]
CSV_COLUMNS = [*COLUMNS, "run", "instance_name"]
#: The kind filter's value (and a run entry's kind) for rotation-policy runs.
POLICY = "policy"
#: The operations listed (one row each): a verification, a launch from an image, a restore.
OPERATION_KINDS = ("verify", "launch", "restore")
#: The columns of the runs list (the run history's), then ``href``: the Lab link to the output ('' = none).
RUN_COLUMNS = ["policy", "started", "ended", "outcome", "output"]
#: Where CSV exports go (relative to the working folder), never the folder itself.
EXPORT_DIR = "exports"


def downtime_seconds(action: Action) -> float | None:
    """Seconds from the stop sent to RUNNING again (a start is recorded once RUNNING, with when the stop was sent):
    the same figure as the form's and the runbook's (:func:`~zenlayer_widgets.core.progress.downtime_between`)."""
    if action.kind != "start" or action.outcome != "done":
        return None
    return downtime_between(stopped_at_of(action), action.at)


def image_label(action: Action) -> str | None:
    """The image's name; a rename shows the old name too (``old → new``)."""
    detail = action.detail or ""
    if action.kind == "rename" and detail.startswith("was "):
        return f"{detail[4:]} → {action.image_name}"
    return action.image_name


def action_row(action: Action, level: str = "", names: Callable[[str], str] | None = None) -> dict[str, Any]:
    name = names(action.instance_id) if names is not None and action.instance_id else ""
    return {"time": action.at, "kind": action.kind, "instance": action.instance_id, "image": action.image_id,
            "image_name": image_label(action), "request_id": action.request_id, "outcome": action.outcome,
            "downtime_s": downtime_seconds(action), "zone": action.zone_id, "who": action.who,
            "run": action.run_id or "", "level": level, "instance_name": name if name != action.instance_id else "",
            "throwaway": "", "price": None}


def operation_outcome(operation: Operation) -> str:
    """Where the operation stands: a verification says whether the image booted."""
    failed = operation.failed_step()
    if operation.kind == "verify" and operation.facts.get("booted"):
        return "booted"
    if operation.kind == "verify" and failed is not None and failed.kind == "wait_status":
        return "did not boot"
    if operation.outcome:
        return operation.outcome if failed is None else f"{FAILED} at {failed.kind}"
    return "unfinished: running it again finishes it"


def operation_instance(operation: Operation) -> str:
    """The instance the operation is about: the one launched (a launch), the one restored; a verification's is
    its throwaway, in its own column."""
    if operation.kind == "launch":
        return str(operation.facts.get("instance_id") or "")
    return "" if operation.kind == "verify" else str(operation.instance_id or "")


def operation_row(operation: Operation, names: Callable[[str], str] | None = None) -> dict[str, Any]:
    """A verify, launch or restore as one row: its throwaway (a verification's), its hourly price."""
    instance = operation_instance(operation)
    name = names(instance) if names is not None and instance else ""
    throwaway = operation.facts.get("instance_id") if operation.kind == "verify" else None
    return {"time": operation.started_at, "kind": operation.kind, "instance": instance, "image": operation.image_id,
            "image_name": None, "request_id": None, "outcome": operation_outcome(operation), "downtime_s": None,
            "zone": operation.zone_id, "who": operation.who, "run": "", "level": "",
            "instance_name": name if name != instance else "", "throwaway": throwaway or "",
            "price": operation.facts.get("price")}


def mentions(operation: Operation, instance_id: str) -> bool:
    """Whether the operation is about ``instance_id`` (restored, launched like it or from it, or its throwaway)."""
    return instance_id in (operation.instance_id, operation.facts.get("instance_id"))


def run_state(summary: RunSummary) -> str:
    run = summary.run
    if run.outcome:
        return run.outcome
    return "running" if held_by_another(run) else "unfinished: the next apply resumes it"


def run_row(summary: RunSummary) -> dict[str, Any]:
    """A policy run as one entry: its summary in ``text``, its instances and zones."""
    run = summary.run
    return {"time": run.started_at, "kind": POLICY, "instance": ", ".join(summary.instances), "image": "",
            "image_name": ", ".join(summary.created), "request_id": "", "outcome": run_state(summary),
            "downtime_s": None, "zone": ", ".join(summary.zones), "who": run.who, "run": run.run_id, "level": "run",
            "text": f"Policy {run.policy} · {run_state(summary)} · {summary.text()}"}


def run_history_row(row: dict[str, Any], server: ServerRoot | None) -> dict[str, Any]:
    """A run of the run history as the panel lists it: its output notebook's Lab link when the server serves it."""
    return {**{column: row[column] for column in RUN_COLUMNS}, "kind": row["kind"], "detail": row["detail"],
            "run_id": row["run_id"], "href": output_link(row["output"], server) or ""}


def latest_of_each(actions: list[Action]) -> list[Action]:
    """One row per action, where it stands now (``actions`` newest first): a create's outcomes (submitted, then
    available or failed) share its intent, so only the newest is kept; a start planned before a stop is dropped
    once a later start of that instance is recorded (done, failed or planned again)."""
    intents: set[str] = set()
    started: set[str] = set()
    kept: list[Action] = []
    for action in actions:
        if action.kind == "create" and action.intent_id:
            if action.intent_id in intents:
                continue
            intents.add(action.intent_id)
        if action.kind == "start" and action.instance_id:
            if action.outcome == PLANNED and action.instance_id in started:
                continue
            started.add(action.instance_id)
        kept.append(action)
    return kept


def grouped_rows(actions: list[Action], summaries: list[RunSummary], *, instance_id: str = "",
                 names: Callable[[str], str] | None = None, operations: list[Operation] | None = None) -> list[dict[str, Any]]:
    """Newest first: actions outside any run as they are; each run as its entry, then its actions; each operation
    (verify, launch, restore) as one row. A run sits where its latest action (or its start) puts it. Each action is
    one row (:func:`latest_of_each`)."""
    actions = latest_of_each(actions)
    known = {s.run.run_id for s in summaries}
    steps: dict[str, list[dict[str, Any]]] = {run_id: [] for run_id in known}
    entries: list[tuple[str, list[dict[str, Any]]]] = []
    for action in actions:  # newest first
        if action.run_id in known:
            steps[action.run_id].append(action_row(action, "step", names))
        else:
            entries.append((action.at, [action_row(action, names=names)]))
    for summary in summaries:
        mine = steps[summary.run.run_id]
        if instance_id and not mine and instance_id not in summary.instances:
            continue
        latest = max([summary.run.started_at] + [row["time"] for row in mine])
        entries.append((latest, [run_row(summary), *mine]))
    entries += [(operation.started_at, [operation_row(operation, names)]) for operation in operations or ()]
    entries.sort(key=lambda entry: entry[0], reverse=True)
    return [row for _, rows in entries for row in rows]


class Activity(T.HasTraits):
    """The account's actions, newest first, filtered by kind and instance; ``notice`` says what just finished."""

    kind = T.Unicode("", help="Only this kind of action ('' = every kind)")
    instance_id = T.Unicode("", help="Only this instance's actions ('' = every instance)")
    rows = T.List(T.Dict(), help="The actions shown, newest first (dicts with COLUMNS)")
    runs = T.List(T.Dict(), help="The run history, newest first (dicts with RUN_COLUMNS and href)")
    notice = T.Unicode("", help="A create or a restart that just finished")
    exported = T.Unicode("", help="The absolute path of the last CSV export ('' = none yet)")
    error = T.Unicode("", help="Why the ledger could not be read ('' = it could)")

    def __init__(self, client: Callable[[], Any], *, limit: int = 500, names: Callable[[str], str] | None = None,
                 server: Callable[[], ServerRoot | None] | None = None) -> None:
        super().__init__()
        self._client = client  # the controller's current client (it changes with the account)
        self.limit = limit
        self._names = names  # instance id -> the name the operator knows it by (the loaded inventory's)
        self._server = server  # the Jupyter server serving this kernel (None: found among the running ones once)
        self._found_server: tuple[ServerRoot | None] | None = None

    def server(self) -> ServerRoot | None:
        """The server the runs' output links point into (None: no links, absolute paths)."""
        if self._server is not None:
            return self._server()
        if self._found_server is None:
            self._found_server = (this_server(),)
        return self._found_server[0]

    @T.validate("kind")
    def _valid_kind(self, proposal: T.Bunch) -> str:
        kind = proposal["value"]
        if kind and kind not in (*ACTION_KINDS, POLICY, *OPERATION_KINDS):
            raise T.TraitError(f"kind must be one of {', '.join((*ACTION_KINDS, POLICY, *OPERATION_KINDS))} or '', "
                               f"not {kind!r}")
        return kind

    @T.observe("kind", "instance_id")
    def _filters_changed(self, _change: T.Bunch) -> None:
        self.reload()

    def reload(self) -> None:
        """Read the account's actions from the ledger again (with the filters)."""
        client = self._client()
        instance = self.instance_id.strip()
        try:
            ledger, account = ledger_for(client), account_of(client)
            kinds = [self.kind] if self.kind and self.kind != POLICY else None
            operations = self._operations(ledger, account, instance)
            actions = [] if self.kind in OPERATION_KINDS else ledger.history(
                account, kinds=kinds, instance_id=instance or None, limit=self.limit,
                with_unattributed=True)  # rows from before accounts had keys: shown, never acted on
            runs = summaries(ledger, account, limit=self.limit) if kinds is None else []
            history = history_rows(ledger, account, limit=self.limit) if self.kind in ("", POLICY) else []
        except Exception as error:  # noqa: BLE001 - shown in the panel
            self.error = f"The activity could not be read from the ledger ({type(error).__name__})."
            return
        if self.kind == POLICY:
            actions = [action for action in actions if action.run_id]
        server = self.server() if history else None
        with self.hold_trait_notifications():
            self.error = ""
            self.rows = grouped_rows(actions, runs, instance_id=instance, names=self._names, operations=operations)
            self.runs = [run_history_row(row, server) for row in history]

    def _operations(self, ledger: Any, account: str, instance: str) -> list[Operation]:
        """The verifies, launches and restores the filters let through."""
        if self.kind and self.kind not in OPERATION_KINDS:
            return []
        kinds = [self.kind] if self.kind else list(OPERATION_KINDS)
        found = [op for kind in kinds for op in store.operations(ledger, account, kind=kind, limit=self.limit)]
        return [op for op in found if not instance or mentions(op, instance)]

    def owed_restarts(self) -> list[str]:
        """Instances a create stopped and has not started again yet (a crash or a kernel restart in between): the
        creates whose start step has not run (the operation is the state; the ``planned`` rows are history)."""
        client = self._client()
        try:
            return owed_instances(ledger_for(client), account_of(client))
        except Exception:  # noqa: BLE001 - reload() says the ledger is unreadable
            return []

    def warn_owed(self) -> None:
        """Say which instances still wait for their restart (the form's "Start instance" does it)."""
        owed = self.owed_restarts()
        if owed:
            self.notice = (f"Not started again yet after an image was made: {', '.join(owed)}. Select it and click "
                           "Start instance (or re-run the same create with stop_if_running).")

    def frame(self) -> pd.DataFrame:
        return pd.DataFrame(self.rows, columns=CSV_COLUMNS)

    def export_csv(self, folder: str | Path = EXPORT_DIR, *, now: datetime | None = None) -> Path:
        """Write the rows shown to ``<folder>/activity-<UTC time>.csv``; the path."""
        stamp = (now or datetime.now(timezone.utc)).strftime("%Y%m%dT%H%M%S%fZ")
        path = (Path(folder) / f"activity-{stamp}.csv").resolve()
        path.parent.mkdir(parents=True, exist_ok=True)
        self.frame().to_csv(path, index=False)
        with self.hold_trait_notifications():
            self.exported = str(path)
            self.notice = f"Exported {len(self.rows)} rows to {path}."
        return path

    def finished(self, message: str) -> None:
        """A create or a restart finished: say so and show it."""
        self.reload()
        self.notice = message


__all__ = ["COLUMNS", "CSV_COLUMNS", "EXPORT_DIR", "OPERATION_KINDS", "POLICY", "RUN_COLUMNS", "Activity", "action_row",
           "downtime_seconds", "grouped_rows", "latest_of_each", "operation_row", "run_history_row", "run_row"]
