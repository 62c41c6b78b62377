"""The rotation panel: a policy's fields, Preview, the plan, Apply… -> Confirm, progress and outcome (a thin view of
studio.rotation)."""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from typing import Any

import ipywidgets as W
import pandas as pd
import traitlets

from ..rules import zone_supports_images
from ..studio.rotation import Rotation, plural
from .controls import button
from .render import frame_table
from .styles import StyleSheet

#: Four columns, so the plan fits the studio's narrowest layout (the zone's quota is the table under it); both tables
#: keep this order (zenlayer.css: the instance and images cells keep their lines, "Why" wraps).
PLAN_COLUMNS = {"instance": "Instance", "action": "Action", "images": "Images", "why": "Why"}
OUTCOME_COLUMNS = {"instance": "Instance", "result": "Result", "images": "Images", "why": "Why"}
PLAN_QUOTA_COLUMNS = {"zone": "Zone", "used_before": "Used now", "used_after": "After", "max": "Max"}
OUTCOME_QUOTA_COLUMNS = {"zone": "Zone", "used": "Used", "max": "Max", "free": "Free"}
#: The traits the panel shows (the fields are synced with their inputs separately).
SHOWN = ["plan", "plan_rows", "plan_summary", "plan_quota", "stale", "previewing", "applying", "confirming", "progress",
         "outcome", "outcome_rows", "outcome_summary", "outcome_quota", "error", "notice", "stop_if_running"]
EXPLAINED = ("One image per instance per run, named <i>&lt;prefix&gt;-&lt;UTC time&gt;</i>; the newest <i>keep</i> images "
             "this policy made are kept, older ones it made are deleted (images it did not make never are). "
             "Preview changes nothing.")


def _images(made: str, deleted: Sequence[str]) -> str:
    """One image per line: ``+ made``, ``− deleted``."""
    return "\n".join([f"+ {made}"] * bool(made) + [f"− {name}" for name in deleted if name])


def _where(row: Mapping[str, Any]) -> str:
    """The instance's name, its zone on the next line."""
    name, zone = row.get("instance") or row.get("instance_id") or "", row.get("zone") or ""
    return f"{name}\n{zone}" if zone else str(name)


def plan_table(rows: Sequence[Mapping[str, Any]], *, start_after: bool = True) -> str:
    """The preview per instance (every value escaped); a stop the create needs is said in "Why"."""
    if not rows:
        return ""

    def why(row: Mapping[str, Any]) -> str:
        stop = ("stopped for the image, started again" if start_after else "stopped for the image, left STOPPED") \
            if row.get("stop_start") else ""
        return "; ".join(part for part in (row.get("reason") or "", stop) if part)

    frame = pd.DataFrame([{"instance": _where(row), "action": row.get("action") or "", "why": why(row),
                           "images": _images(row.get("image_name") or "", str(row.get("deletes") or "").split(", "))}
                          for row in rows])
    return frame_table(frame, PLAN_COLUMNS, ["action"], "zw-rotation-rows")


def outcome_table(rows: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None,
                  image_names: Mapping[str, str] | None = None) -> str:
    """The apply's result per instance (every value escaped); deleted images by name where the preview named them."""
    if not rows:
        return ""
    names, images = labels or {}, image_names or {}
    frame = pd.DataFrame([{
        "instance": _where({**row, "instance": names.get(str(row["instance_id"])) or row["instance_id"]}),
        "result": row.get("result") or "", "why": row.get("reason") or "",
        "images": _images(row.get("image_name") or "", [images.get(i, i) for i in str(row.get("deleted") or "").split(", ")]),
    } for row in rows])
    return frame_table(frame, OUTCOME_COLUMNS, ["result"], "zw-rotation-rows")


def quota_table(rows: Sequence[Mapping[str, Any]], columns: dict[str, str]) -> str:
    """Custom images per zone (before/after a preview, or after an apply); a zone without images says so rather
    than "0 0 0" (which reads like an empty zone)."""
    if not rows:
        return ""
    numbers = [key for key in columns if key != "zone"]
    shown = [row if zone_supports_images(str(row.get("zone", ""))) else
             {**row, **{key: "" for key in numbers}, numbers[0]: "images not supported"} for row in rows]
    return frame_table(pd.DataFrame(shown), columns, [], "zw-rotation-quota")


def _line(css: str, text: str) -> str:
    return f'<div class="{css}">{html.escape(text)}</div>' if text else ""


class RotationView(W.VBox):
    """Name prefix, keep, instances and the three choices; Preview; Apply… -> Confirm / Cancel; plan, progress, outcome."""

    def __init__(self, rotation: Rotation) -> None:
        self.rotation = rotation
        wide = {"description_width": "84px"}
        self.prefix = W.Text(placeholder="e.g. nightly", description="Name prefix", style=wide, layout=W.Layout(width="250px"),
                             tooltip="At most 9 characters: the UTC time and a letter follow")
        self.keep = W.BoundedIntText(value=rotation.keep, min=1, max=99, description="Keep", style={"description_width": "40px"},
                                     layout=W.Layout(width="110px"))
        self.instances = W.SelectMultiple(options=[], rows=5, description="Instances", style=wide, layout=W.Layout(width="360px"))
        self.stop = W.Checkbox(description="Stop a RUNNING instance for its image (graceful); otherwise it is skipped", indent=False,
                               layout=W.Layout(width="auto"))
        self.start_after = W.Checkbox(description="Start the instances it stopped again", indent=False, layout=W.Layout(width="auto"))
        self.delete_first = W.Checkbox(description="Zone full: delete this policy's oldest image before the create (one image "
                                       "fewer meanwhile)", indent=False, layout=W.Layout(width="auto"))
        self.preview_button = button("Preview", "zw-rotation-preview", icon="eye", button_style="primary",
                                      tooltip="Show what a run would do (changes nothing)")
        self.apply_button = button("Apply…", "zw-rotation-apply", icon="play", button_style="warning")
        self.question = W.HTML()
        self.question.add_class("zw-rotation-question")
        self.confirm_button = button("Confirm", "zw-rotation-confirm", button_style="danger")
        self.cancel_button = button("Cancel", "zw-rotation-cancel")
        self.confirm_box = W.HBox([self.question, self.confirm_button, self.cancel_button])
        self.confirm_box.add_class("zw-rotation-confirm-box")
        self.status = W.HTML()
        self.plan = W.HTML()
        self.progress = W.HTML()
        self.outcome = W.HTML()
        for widget, css in [(self.prefix, "zw-rotation-prefix"), (self.keep, "zw-rotation-keep"),
                            (self.instances, "zw-rotation-instances"), (self.stop, "zw-rotation-stop"),
                            (self.start_after, "zw-rotation-start-after"), (self.delete_first, "zw-rotation-delete-first"),
                            (self.status, "zw-rotation-status"), (self.plan, "zw-rotation-plan"),
                            (self.progress, "zw-rotation-progress"), (self.outcome, "zw-rotation-outcome")]:
            widget.add_class(css)
        fields = W.HBox([self.prefix, self.keep])
        choices = W.VBox([self.stop, self.start_after, self.delete_first])
        actions = W.HBox([self.preview_button, self.apply_button])
        for box in (fields, actions):
            box.add_class("zw-toolbar")
        super().__init__([W.HTML("<h4 style='margin:8px 0 4px'>Rotation policy</h4>"), W.HTML(f'<div class="zw-rotation-help">{EXPLAINED}</div>'),
                          fields, self.instances, choices, actions, self.confirm_box, self.status, self.plan, self.progress,
                          self.outcome, StyleSheet()])
        self.add_class("zw-rotation")
        self._syncing = False
        self._links = [traitlets.link((rotation, "name_prefix"), (self.prefix, "value")),
                       traitlets.link((rotation, "keep"), (self.keep, "value")),
                       traitlets.link((rotation, "stop_if_running"), (self.stop, "value")),
                       traitlets.link((rotation, "start_after"), (self.start_after, "value")),
                       traitlets.link((rotation, "delete_first_when_full"), (self.delete_first, "value"))]
        self.instances.observe(self._chosen, "value")
        rotation.observe(lambda _change: self._show_choices(), ["choices", "instance_ids"])
        rotation.observe(lambda _change: self.render(), SHOWN)
        self.preview_button.on_click(lambda _: rotation.tasks.spawn(rotation.preview()))
        self.apply_button.on_click(lambda _: rotation.ask_apply())
        self.cancel_button.on_click(lambda _: rotation.cancel())
        self.confirm_button.on_click(self._confirm_clicked)
        self._show_choices()
        self.render()

    def _chosen(self, change: dict[str, Any]) -> None:
        if not self._syncing and tuple(change["new"]) != self.rotation.instance_ids:
            self.rotation.choose(change["new"])

    def _show_choices(self) -> None:
        """The chooser's options and selection from the model (its own change events ignored meanwhile)."""
        rotation = self.rotation
        options = [(str(label), str(value)) for label, value in rotation.choices]
        listed = {value for _, value in options}
        self._syncing = True
        try:
            with self.instances.hold_sync():
                if list(self.instances.options) != options:
                    self.instances.options = options
                self.instances.value = tuple(i for i in rotation.instance_ids if i in listed)
        finally:
            self._syncing = False

    def _confirm_clicked(self, _button: W.Button) -> None:
        self.confirm_button.disabled = True  # at once, before the task even starts: no double apply
        self.rotation.tasks.spawn(self.rotation.confirm_apply())

    def render(self) -> None:
        rotation = self.rotation
        busy = rotation.previewing or rotation.applying
        with self.hold_sync():
            for widget in (self.prefix, self.keep, self.instances, self.stop, self.delete_first):
                widget.disabled = rotation.applying
            self.start_after.disabled = rotation.applying or not rotation.stop_if_running
            self.preview_button.disabled = busy
            self.preview_button.description = "Previewing…" if rotation.previewing else "Preview"
            self.apply_button.disabled = not rotation.can_apply
            self.apply_button.tooltip = rotation.apply_blocked or "Asks before anything is changed"
            self.apply_button.description = "Applying…" if rotation.applying else "Apply…"
            confirming = bool(rotation.confirming)
            self.apply_button.layout.display = "none" if confirming else ""
            self.confirm_box.layout.display = "" if confirming else "none"
            self.question.value = _line("zw-rotation-ask", rotation.confirming)
            self.confirm_button.disabled = not rotation.can_apply
            self.confirm_button.description = self._confirm_words()
            self.status.value = _line("zw-error-box", rotation.error) + _line("zw-notice", rotation.notice)
            self.plan.value = self._plan_html()
            self.progress.value = self._progress_html()
            self.outcome.value = self._outcome_html()

    def _confirm_words(self) -> str:
        plan = self.rotation.plan
        if plan is None:
            return "Confirm"
        deletes = sum(len(item.deletes) for item in plan.creates)
        return f"Confirm: create {len(plan.creates)}, delete {deletes}"

    def _plan_html(self) -> str:
        rotation = self.rotation
        if rotation.plan is None:
            return ""
        stale = _line("zw-rotation-stale", "Changed since this preview: click Preview again before Apply.") if rotation.stale else ""
        return (stale + _line("zw-rotation-summary", rotation.plan_summary)
                + f'<div class="zw-rotation-scroll">{plan_table(rotation.plan_rows, start_after=rotation.plan.policy.start_after is not False)}</div>'
                + f'<div class="zw-rotation-scroll">{quota_table(rotation.plan_quota, PLAN_QUOTA_COLUMNS)}</div>')

    def _progress_html(self) -> str:
        rotation = self.rotation
        if not rotation.applying or not rotation.progress:
            return ""
        items = "".join(f"<li><b>{html.escape(rotation.label(instance_id))}</b>: {html.escape(str(phase))}</li>"
                        for instance_id, phase in rotation.progress.items())
        return f'<div class="zw-rotation-steps">Applying to {plural(len(rotation.progress), "instance")}:<ul>{items}</ul></div>'

    def _outcome_html(self) -> str:
        rotation = self.rotation
        if rotation.outcome is None:
            return ""
        labels = {str(row["instance_id"]): rotation.label(str(row["instance_id"])) for row in rotation.outcome_rows}
        table = outcome_table(rotation.outcome_rows, labels, rotation.image_names)
        return (_line("zw-rotation-summary", rotation.outcome_summary)
                + f'<div class="zw-rotation-scroll">{table}</div>'
                + f'<div class="zw-rotation-scroll">{quota_table(rotation.outcome_quota, OUTCOME_QUOTA_COLUMNS)}</div>')
