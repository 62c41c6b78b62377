"""The activity panel: every action the package took for this account, and the unattended runs with a link to each
output notebook (a thin view of studio.activity)."""

from __future__ import annotations

import html
import os

import ipywidgets as W

from ..core.ledger import ACTION_KINDS
from ..studio.activity import COLUMNS, OPERATION_KINDS, POLICY, RUN_COLUMNS, Activity
from ..studio.clock import clock_text

_HEADINGS = {"time": "Time (UTC, then local)", "kind": "Action", "instance": "Instance", "image": "Image", "image_name": "Image name",
             "request_id": "Request id", "outcome": "Outcome", "downtime_s": "Downtime (s)", "zone": "Zone", "who": "Who",
             "throwaway": "Throwaway", "price": "Price (/h)"}

_RUN_HEADINGS = {"policy": "Policy", "started": "Started (UTC, then local)", "ended": "Ended", "outcome": "Outcome",
                 "output": "Output notebook"}


def _cell(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _shown(row: dict[str, object], column: str) -> str:
    """A cell as the operator reads it: times in UTC with local time beside, instances by name (id under it)."""
    value = row.get(column)
    if column == "time" and isinstance(value, str) and value:
        return _cell(clock_text(value, date=True))
    if column == "instance" and row.get("instance_name"):
        return f'{_cell(row["instance_name"])}<br><span class="zw-muted">{_cell(value)}</span>'
    return _cell(value)


def _row(row: dict[str, object]) -> str:
    """One row: a policy run's entry spans the table with its summary; its actions are indented under it."""
    kind, run = _cell(row["kind"]), _cell(row.get("run"))
    if row.get("level") == "run":  # one cell: its text stays in view (and wraps) when the table scrolls sideways
        return (f'<tr class="zw-activity-row zw-activity-run" data-kind="{kind}" data-run="{run}">'
                f'<td colspan="{len(COLUMNS)}"><div class="zw-activity-run-text">'
                f'<span class="zw-activity-run-time">{_shown(row, "time")}</span> {_cell(row.get("text"))}</div></td></tr>')
    step = row.get("level") == "step"
    cells = "".join(f"<td>{_shown(row, c)}</td>" for c in COLUMNS)
    if step:
        cells = cells.replace("<td>", '<td><span class="zw-activity-indent" aria-hidden="true">↳</span>', 1)
    css = "zw-activity-row zw-activity-step" if step else "zw-activity-row"
    return f'<tr class="{css}" data-kind="{kind}" data-run="{run}">{cells}</tr>'


def activity_table(rows: list[dict[str, object]]) -> str:
    """The rows as an HTML table (every value escaped)."""
    if not rows:
        return '<div class="zw-activity-empty">No actions recorded yet.</div>'
    head = "".join(f"<th>{_HEADINGS[c]}</th>" for c in COLUMNS)
    body = "".join(_row(row) for row in rows)
    return (f'<div class="zw-activity-scroll"><table class="zw-table zw-activity-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def _run_cell(run: dict[str, object], column: str) -> str:
    """A run's cell: times in UTC with local time beside; the output as a Lab link, else its absolute path."""
    value = run.get(column)
    if column in ("started", "ended") and isinstance(value, str) and value:  # wraps between date and time, not inside
        return " ".join(f'<span class="zw-run-time">{_cell(part)}</span>' for part in clock_text(value, date=True).split(" "))
    if column == "output" and value and run.get("href"):
        return (f'<a class="zw-run-output" href="{html.escape(str(run["href"]), quote=True)}" target="_blank" '
                f'title="{html.escape(str(value), quote=True)}">{_cell(os.path.basename(str(value)))}</a>')
    if column == "output":
        return f'<code class="zw-run-output-path">{_cell(value)}</code>' if value else "none recorded"
    if column == "outcome" and run.get("detail"):
        return f'<span title="{html.escape(str(run["detail"]), quote=True)}">{_cell(value)}</span>'
    return _cell(value)


def runs_table(runs: list[dict[str, object]]) -> str:
    """The run history (policy, started, ended, outcome, output notebook) as an HTML table (every value escaped)."""
    if not runs:
        return '<div class="zw-activity-empty">No runs recorded yet (papermill, cron, systemd, jupyter-scheduler).</div>'
    head = "".join(f"<th>{_RUN_HEADINGS[c]}</th>" for c in RUN_COLUMNS)
    body = "".join(f'<tr class="zw-run-row" data-run="{_cell(run.get("run_id"))}">'
                   + "".join(f"<td>{_run_cell(run, c)}</td>" for c in RUN_COLUMNS) + "</tr>" for run in runs)
    return (f'<div class="zw-activity-scroll"><table class="zw-table zw-runs-table"><thead><tr>{head}</tr></thead>'
            f'<tbody>{body}</tbody></table></div>')


def export_link(activity: Activity) -> str:
    """A link to the last export when the notice is about it (relative to the notebook: Lab opens it)."""
    path = activity.exported
    if not path or path not in activity.notice:
        return ""
    try:
        href = os.path.relpath(path)
    except ValueError:  # another drive
        href = path
    return f' <a class="zw-export-link" href="{html.escape(href, quote=True)}" target="_blank">Open the CSV</a>'


class ActivityView(W.VBox):
    """Filter by kind and instance, refresh, export as CSV (under ``exports/``), and the latest notice."""

    def __init__(self, activity: Activity) -> None:
        self.activity = activity
        kinds = [(k, k) for k in (*ACTION_KINDS, *OPERATION_KINDS)]
        self.kind = W.Dropdown(options=[("every action", ""), *kinds, ("policy runs", POLICY)], description="Kind")
        self.instance = W.Text(placeholder="instance id", description="Instance")
        self.refresh = W.Button(description="Refresh", icon="refresh")
        self.export = W.Button(description="Export CSV", icon="download")
        self.notice = W.HTML()
        self.table = W.HTML()
        self.runs = W.HTML()
        for widget, css in [(self.runs, "zw-activity-runs"), (self.kind, "zw-activity-kind"), (self.instance, "zw-activity-instance"),
                            (self.refresh, "zw-activity-refresh"), (self.export, "zw-activity-export"),
                            (self.notice, "zw-activity-notice"), (self.table, "zw-activity")]:
            widget.add_class(css)
        filters = W.HBox([self.kind, self.instance, self.refresh, self.export])
        filters.add_class("zw-activity-filters")  # wraps on a narrow page
        super().__init__([W.HTML("<h4 style='margin:4px 0'>Activity</h4>"), filters, self.notice, self.table,
                          W.HTML("<h4 style='margin:8px 0 4px'>Runs</h4>"), self.runs])
        self.add_class("zw-activity-panel")
        self.kind.observe(lambda change: setattr(activity, "kind", change["new"]), "value")
        self.instance.observe(lambda change: setattr(activity, "instance_id", change["new"]), "value")
        self.refresh.on_click(lambda _: activity.reload())
        self.export.on_click(lambda _: activity.export_csv())
        activity.observe(lambda _change: self.render(), ["rows", "runs", "notice", "error"])
        self.render()

    def render(self) -> None:
        with self.hold_sync():
            message = self.activity.error or self.activity.notice
            self.notice.value = f'<div class="zw-notice">{html.escape(message)}{export_link(self.activity)}</div>' \
                if message else ""
            self.table.value = activity_table(self.activity.rows)
            self.runs.value = runs_table(self.activity.runs)
