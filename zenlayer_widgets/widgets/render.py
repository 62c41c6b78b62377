"""HTML for the studio's read-only parts, as pure functions (pandas Styler for the tables).

Everything user-supplied is escaped; nothing here touches a widget. No colour is written here:
the markup carries classes (``zw-badge zw-state-RUNNING``, ``zw-quota-full``...) that
``zenlayer.css`` colours with JupyterLab theme variables.
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Hashable, Sequence

import pandas as pd

from ..api.models import ImageQuota
from ..core.preflight import Preflight
from ..core.progress import ImageProgress
from ..rules import AVAILABLE, UNAVAILABLE
from ..studio.clock import clock_text
from ..studio.explain import Explanation

#: In this order so that the power state is seen first on a narrow screen (it is never scrolled away).
INSTANCE_TABLE_COLUMNS = {
    "name": "Name",
    "power_state": "Power state",
    "zone": "Zone",
    "instance_id": "Instance ID",
    "system_disk_gb": "Disk (GB)",
}
IMAGE_TABLE_COLUMNS = {
    "name": "Name",
    "image_id": "Image ID",
    "status": "Status",
    "size_gb": "Size (GB)",
    "description": "Description",
}


def css_token(value: object) -> str:
    """``value`` as one CSS class name: anything but letters, digits, ``-`` and ``_`` becomes ``_``."""
    return re.sub(r"[^A-Za-z0-9_-]", "_", str(value))


def badge(state: str) -> str:
    """A coloured pill for a power or image state (an API-supplied string: escaped; its colour is the state's class in zenlayer.css)."""
    state = state if isinstance(state, str) else ""
    text = html.escape(state or "UNKNOWN")
    return f'<span class="zw-badge zw-state-{css_token(state or "UNKNOWN")}">{text}</span>'


def _cell(value: object) -> str:
    """A table cell's text: escaped, empty for missing values."""
    return "" if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)) else html.escape(str(value))


def frame_table(frame: pd.DataFrame, columns: dict[str, str], badges: Sequence[str], css_class: str) -> str:
    """``frame``'s ``columns`` (key -> heading) as a ``zw-table``: the ``badges`` columns as state pills, every
    other cell escaped."""
    shown = frame[list(columns)].rename(columns=columns)
    labels: list[Hashable] = [columns[key] for key in badges]
    styler = shown.style.hide(axis="index")
    if labels:
        styler = styler.format(lambda state: badge(state if isinstance(state, str) else ""), subset=labels)
    styler = styler.format(_cell, subset=[c for c in shown.columns if c not in labels])
    return styler.set_table_attributes(f'class="dataframe zw-table {css_class}"').to_html()


def instance_table(frame: pd.DataFrame, sort_by: str | None = None, descending: bool = False, selected: str | None = None) -> str:
    """The instance table (one page of it) with power-state badges.

    Each header carries ``data-sort`` (click: sort by it; the sorted one shows an arrow), each row
    ``data-id`` (click: choose it; the chosen one has ``zw-selected``); every cell has its full text
    as a tooltip, so a cell shortened by the layout is never lost.
    """
    if frame.empty:
        return '<p class="zw-empty">No instances match.</p>'
    head = []
    for key, label in INSTANCE_TABLE_COLUMNS.items():
        arrow = (" ▼" if descending else " ▲") if key == sort_by else ""
        aria = f' aria-sort="{"descending" if descending else "ascending"}"' if key == sort_by else ""
        head.append(f'<th class="zw-sortable" data-sort="{key}"{aria} title="Sort by {label}">{html.escape(label)}{arrow}</th>')
    body = []
    for row in frame[["instance_id", *INSTANCE_TABLE_COLUMNS]].itertuples(index=False):
        values = dict(zip(["instance_id", *INSTANCE_TABLE_COLUMNS], row, strict=True))
        cells = []
        for key in INSTANCE_TABLE_COLUMNS:
            value = values[key]
            text = badge(value if isinstance(value, str) else "") if key == "power_state" else _cell(value)
            cells.append(f'<td title="{_cell(value)}">{text}</td>')
        instance_id = html.escape(str(values["instance_id"]), quote=True)
        chosen = ' class="zw-selected" aria-selected="true"' if values["instance_id"] == selected else ""
        body.append(f'<tr data-id="{instance_id}"{chosen}>{"".join(cells)}</tr>')
    return (
        '<table class="dataframe zw-table zw-instance-rows"><thead><tr>' + "".join(head) + "</tr></thead><tbody>"
        + "".join(body) + "</tbody></table>"
    )


def image_table(frame: pd.DataFrame) -> str:
    """One zone's images with status badges."""
    if frame.empty:
        return '<p class="zw-empty">No custom images.</p>'
    return frame_table(frame, IMAGE_TABLE_COLUMNS, ["status"], "zw-image-rows")


def zone_title(zone_id: str, zone_name: str, supports_images: bool = True) -> str:
    """A zone's heading: its id in bold and its name, both escaped (the API supplies them)."""
    note = "" if supports_images else " <i>(images not supported)</i>"
    return f"<b>{html.escape(zone_id)}</b> {html.escape(zone_name)}{note}"


def stop_question(instance_name: str, zone_id: str, force: bool = False) -> str:
    """The confirmation asked before stopping an instance: its name and zone (escaped), and what happens."""
    how = "be forced off (what is not yet on disk is lost)" if force else "shut down gracefully"
    return (f"Stop <b>{html.escape(instance_name)}</b> ({html.escape(zone_id)})? It will {how} and stay STOPPED, "
            "offline, until you start it.&nbsp;")


def quota_bar(quota: ImageQuota, supports_images: bool = True) -> str:
    """``used / max`` with a bar; red when full."""
    if not supports_images:
        return '<div class="zw-quota-text zw-refuses">Custom images are not supported in this zone.</div>'
    full = quota.count >= quota.max_count
    fill = "zw-fill-full" if full else ("zw-fill-last" if quota.free == 1 else "zw-fill-room")
    width = 0 if quota.max_count <= 0 else min(100, round(100 * quota.count / quota.max_count))
    state = "zw-quota-full" if full else "zw-quota-ok"
    return (
        f'<div class="zw-quota-text {state}"><b>{quota.count} / {quota.max_count}</b> custom images'
        f'{" — full" if full else f" — {quota.free} free"}</div>'
        f'<div class="zw-quota-bar"><div class="zw-quota-fill {fill}" style="width:{width}%"></div></div>'
    )


def preflight_list(preflight: Preflight, pending: frozenset[str] = frozenset(), live: dict[str, str] | None = None) -> str:
    """Every check with a tick or a cross and its reason; a check in ``pending`` (nothing typed yet) is neutral;
    one in ``live`` (a step of stop-create-start under way) says that step instead of what was checked before."""
    items = []
    for check in preflight.checks:
        now = (live or {}).get(check.key)
        waiting = check.key in pending and not check.ok
        mark = "…" if now else "·" if waiting else "✓" if check.ok else "✗"
        state = "zw-live" if now else "zw-pending" if waiting else "zw-ok" if check.ok else "zw-fail"
        items.append(
            f'<li class="zw-check zw-check-{check.key} {state}">'
            f'<span class="zw-mark">{mark}</span> <b>{html.escape(check.label)}</b>: '
            f"{html.escape(now or check.reason)}</li>"
        )
    return '<ul class="zw-checks">' + "".join(items) + "</ul>"


#: The steps of stop-create-start, in order: (key, what the operator reads).
LOOP_STEPS = (("stopping", "Stopping"), ("stopped", "Stopped"), ("imaging", "Imaging"), ("starting", "Starting"),
              ("running", "RUNNING again"))


def loop_step(progress: ImageProgress | None) -> str | None:
    """Where a stop-create-start stands (a key of :data:`LOOP_STEPS`); None for a plain create."""
    if progress is None or not (progress.stopped_at or progress.phase == "stopping"):
        return None
    if progress.phase == "stopping":
        return "stopped" if progress.instance_status == "STOPPED" else "stopping"
    if progress.phase == "starting":
        return "starting"
    if progress.started_at:
        return "running"
    return "imaging"


def loop_steps_html(progress: ImageProgress | None) -> str:
    """The loop's steps, the one under way marked, those done ticked ("" for a plain create)."""
    step = loop_step(progress)
    if step is None or progress is None:
        return ""
    keys = [key for key, _ in LOOP_STEPS]
    at = keys.index(step)
    done_all = step == "running" or (progress.finished and not progress.started_at and progress.phase == "done")
    items = []
    for index, (key, label) in enumerate(LOOP_STEPS):
        state = "done" if index < at or done_all else "now" if index == at else "todo"
        mark = {"done": "✓", "now": "…", "todo": "·"}[state]
        current = ' aria-current="step"' if state == "now" else ""
        items.append(f'<li class="zw-step zw-step-{key} zw-step-{state}"{current}>{mark} {label}</li>')
    return '<ol class="zw-loop-steps">' + "".join(items) + "</ol>"


def live_power_reason(progress: ImageProgress | None) -> str | None:
    """What the checklist's power line says while stop-create-start runs (None: nothing under way)."""
    step = loop_step(progress)
    if step is None or progress is None or progress.finished and step != "starting":
        return None
    said = {"stopping": "being stopped (STOPPING)", "stopped": "STOPPED: the image request goes out next",
            "imaging": "STOPPED and being imaged", "starting": "being started again (STARTING)",
            "running": "RUNNING again"}
    return f"The instance is {said[step]}."


def progress_html(progress: ImageProgress | None, notice: str = "") -> str:
    """The create's progress: image id, request id, status and elapsed time (a stop-create-start's step first)."""
    parts = []
    if notice:
        parts.append(f'<div class="zw-notice">{html.escape(notice)}</div>')
    if progress is not None:
        step = loop_step(progress)
        if step in ("stopping", "stopped"):
            status = "stopping the instance" if step == "stopping" else "instance stopped, sending the image request"
        else:
            status = progress.status or ("reconciling" if progress.phase == "reconciling" else "submitting")
        line = [f"Image <b>{html.escape(progress.image_name)}</b>"]
        line.append(f"id <code>{html.escape(progress.image_id or '…')}</code>")
        line.append(f"request <code>{html.escape(progress.request_id or ('adopted after reconcile' if progress.adopted else '…'))}</code>")
        line.append(badge(status.upper()) if progress.status else html.escape(status + "…"))
        line.append(f"{progress.elapsed:.0f} s")
        if progress.status == AVAILABLE:
            line.append("✓ ready")
        elif progress.status == UNAVAILABLE:
            line.append("✗ failed")
        parts.append('<div class="zw-progress-line">' + " · ".join(line) + "</div>")
        parts.append(loop_steps_html(progress))
    return "".join(parts)


def error_html(error: Explanation | None) -> str:
    """The error box ("" when there is none)."""
    if error is None:
        return ""
    return (
        '<div class="zw-error-box">'
        f"{html.escape(error.text())}</div>"
    )


def banner_html(sandbox: bool, base_url: str, source: str | None = None, profile: str | None = None) -> str:
    """The connection banner: loud in sandbox mode; otherwise where, and whose credentials (``source``:
    where they came from and the profile, never a secret)."""
    if sandbox:
        return (
            '<div class="zw-banner-sandbox">'
            "<b>SANDBOX MODE</b> — the built-in Zenlayer API emulator with demo data "
            f"(<code>{html.escape(base_url)}</code>), shared by your kernels and kept across restarts; nothing real "
            "is changed. Run <code>zeno configure</code> or set ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET "
            "(or ZENLAYER_TOKEN) to use your account.</div>"
        )
    account = f" · profile {html.escape(profile)}" if profile else " · environment credentials"
    whose = f' with <span class="zw-source">{html.escape(source)}</span>' if source else ""
    return (
        f'<div class="zw-banner-connected"><b>LIVE ACCOUNT{account}</b> — changes here are real. '
        f"Connected to the Zenlayer Cloud API at <code>{html.escape(base_url)}</code>{whose}.</div>"
    )


def downtime_html(progress: ImageProgress | None) -> str:
    """When the stop was sent and when the instance was RUNNING again, and the downtime between (the one figure
    the Activity, its CSV and the runbook give too); "" when the create did not stop the instance."""
    if progress is None or not progress.stopped_at:
        return ""
    stopped = html.escape(clock_text(progress.stopped_at))
    if progress.started_at and progress.downtime is not None:
        tail = (f"RUNNING again at <b>{html.escape(clock_text(progress.started_at))}</b> · "
                f"downtime <b>{progress.downtime:.1f} s</b>")
    elif progress.phase == "starting":
        tail = "starting it again…"
    elif progress.finished:
        tail = "left STOPPED"
    else:
        tail = "not started again (yet)"
    return f'<div class="zw-downtime">Stop sent at <b>{stopped}</b> · {tail}</div>'
