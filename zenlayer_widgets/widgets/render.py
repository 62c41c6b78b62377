"""HTML for the studio's read-only parts, as pure functions (pandas Styler for the tables).

Everything user-supplied is escaped; nothing here touches a widget. No colour is written here:
the markup carries classes (``zw-badge zw-state-RUNNING``, ``zw-quota-full``...) that
``zenlayer.css`` colours with JupyterLab theme variables.
"""

from __future__ import annotations

import html
import math
import re

import pandas as pd

from ..api.models import ImageQuota
from ..core.preflight import Preflight
from ..core.progress import ImageProgress
from ..rules import AVAILABLE, UNAVAILABLE
from ..studio.explain import Explanation

INSTANCE_TABLE_COLUMNS = {
    "name": "Name",
    "instance_id": "Instance ID",
    "zone": "Zone",
    "power_state": "Power state",
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


def _table_html(frame: pd.DataFrame, columns: dict[str, str], badge_column: str, css_class: str) -> str:
    shown = frame[list(columns)].rename(columns=columns)
    badge_label = columns[badge_column]
    styler = (
        shown.style.hide(axis="index")
        .format(lambda state: badge(state if isinstance(state, str) else ""), subset=[badge_label])
        .format(_cell, subset=[c for c in shown.columns if c != badge_label])
        .set_table_attributes(f'class="dataframe zw-table {css_class}"')
    )
    return styler.to_html()


def instance_table(frame: pd.DataFrame) -> str:
    """The instance table (one page of it) with power-state badges."""
    if frame.empty:
        return '<p class="zw-empty">No instances match.</p>'
    return _table_html(frame, INSTANCE_TABLE_COLUMNS, "power_state", "zw-instance-rows")


def image_table(frame: pd.DataFrame) -> str:
    """One zone's images with status badges."""
    if frame.empty:
        return '<p class="zw-empty">No custom images.</p>'
    return _table_html(frame, IMAGE_TABLE_COLUMNS, "status", "zw-image-rows")


def zone_title(zone_id: str, zone_name: str, supports_images: bool = True) -> str:
    """A zone's heading: its id in bold and its name, both escaped (the API supplies them)."""
    note = "" if supports_images else " <i>(images not supported)</i>"
    return f"<b>{html.escape(zone_id)}</b> {html.escape(zone_name)}{note}"


def stop_question(instance_name: str, zone_id: str) -> str:
    """The confirmation asked before stopping an instance (its name and zone escaped)."""
    return f"Stop <b>{html.escape(instance_name)}</b> ({html.escape(zone_id)})? It will shut down.&nbsp;"


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


def preflight_list(preflight: Preflight) -> str:
    """Every check with a tick or a cross and its reason."""
    items = []
    for check in preflight.checks:
        mark = "✓" if check.ok else "✗"
        items.append(
            f'<li class="zw-check zw-check-{check.key} {"zw-ok" if check.ok else "zw-fail"}">'
            f'<span class="zw-mark">{mark}</span> <b>{html.escape(check.label)}</b>: '
            f"{html.escape(check.reason)}</li>"
        )
    return '<ul class="zw-checks">' + "".join(items) + "</ul>"


def progress_html(progress: ImageProgress | None, notice: str = "") -> str:
    """The create's progress: image id, request id, status and elapsed time."""
    parts = []
    if notice:
        parts.append(f'<div class="zw-notice">{html.escape(notice)}</div>')
    if progress is not None:
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
    return "".join(parts)


def error_html(error: Explanation | None) -> str:
    """The error box ("" when there is none)."""
    if error is None:
        return ""
    return (
        '<div class="zw-error-box">'
        f"{html.escape(error.text())}</div>"
    )


def banner_html(sandbox: bool, base_url: str, source: str | None = None) -> str:
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
    whose = f' <span class="zw-source">({html.escape(source)})</span>' if source else ""
    return f'<div class="zw-banner-connected">Connected to the Zenlayer Cloud API at <code>{html.escape(base_url)}</code>{whose}</div>'


def downtime_html(progress: ImageProgress | None) -> str:
    """Stopped at / started at of a create that stopped the instance ("" when it did not)."""
    if progress is None or not progress.stopped_at:
        return ""
    stopped = html.escape(progress.stopped_at[11:19])
    if progress.started_at:
        from datetime import datetime

        seconds = (datetime.fromisoformat(progress.started_at) - datetime.fromisoformat(progress.stopped_at)).total_seconds()
        tail = f"started again at <b>{html.escape(progress.started_at[11:19])}</b> UTC · downtime {seconds:.0f} s"
    elif progress.phase == "starting":
        tail = "starting it again…"
    else:
        tail = "not started again (yet)"
    return f'<div class="zw-downtime">Instance stopped at <b>{stopped}</b> UTC · {tail}</div>'
