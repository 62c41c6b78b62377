"""The instance list: filters, a paged table with power-state badges, refresh and auto-refresh."""

from __future__ import annotations

import ipywidgets as W
import pandas as pd

from ..core.inventory import page_of
from ..studio.controller import StudioController
from .instance_grid import InstanceGrid
from .render import INSTANCE_TABLE_COLUMNS, instance_table
from .styles import StyleSheet

ALL = ""
PAGE_SIZE = 12
#: A Dropdown with tens of thousands of options is slow to send and to use: filter to narrow it.
PICKER_LIMIT = 500


def more_label(hidden: int) -> str:
    """The picker's last entry when it holds only the first :data:`PICKER_LIMIT`."""
    return f"… {hidden:,} more not listed: type in Find (or click a row in the table)"


def picker_label(name: str, zone: str, state: str) -> str:
    """What the picker shows for an instance: name, zone and power state."""
    return f"{name} · {zone} · {state}"


class InstanceTable(W.VBox):
    """Filter by zone / state / name, page through the instances, refresh by hand or automatically.

    The filters are the controller's ``filters`` trait (the picker follows them too); this view
    only edits and shows them.
    """

    def __init__(self, controller: StudioController, *, page_size: int = PAGE_SIZE, auto_refresh: bool = True) -> None:
        self.controller = controller
        self.page_size = page_size
        self.page = 0
        self.sort_by: str | None = None  # a column of INSTANCE_TABLE_COLUMNS; None: as listed
        self.descending = False
        narrow = {"description_width": "36px"}
        self.zone = W.Dropdown(options=[("All zones", ALL)], value=ALL, description="Zone", style=narrow, layout=W.Layout(width="150px"))
        self.state = W.Dropdown(options=[("All states", ALL)], value=ALL, description="State", style=narrow, layout=W.Layout(width="170px"))
        self.name = W.Text(placeholder="name or id contains…", description="Find", style=narrow, continuous_update=True, layout=W.Layout(width="210px"))
        self.refresh_button = W.Button(description="Refresh", icon="refresh", tooltip="Reload instances, images and quota")
        self.auto = W.Checkbox(value=auto_refresh, description="Auto-refresh power states", indent=False)
        self.table = InstanceGrid(on_sort=self.sort, on_select=controller.select)
        self.previous_button = W.Button(description="‹ Previous", layout=W.Layout(width="100px"))
        self.next_button = W.Button(description="Next ›", layout=W.Layout(width="100px"))
        self.page_label = W.HTML()
        self.jump = W.BoundedIntText(value=1, min=1, max=1, description="Page", style=narrow, layout=W.Layout(width="130px"))
        for widget, css in [
            (self.zone, "zw-filter-zone"), (self.state, "zw-filter-state"), (self.name, "zw-filter-name"),
            (self.refresh_button, "zw-refresh"), (self.auto, "zw-auto-refresh"), (self.table, "zw-instance-table"),
            (self.previous_button, "zw-page-previous"), (self.next_button, "zw-page-next"), (self.page_label, "zw-page-label"),
            (self.jump, "zw-page-jump"),
        ]:
            widget.add_class(css)
        bars = [W.HBox([self.zone, self.state, self.name]), W.HBox([self.refresh_button, self.auto]),
                W.HBox([self.previous_button, self.page_label, self.next_button, self.jump])]
        for bar in bars:
            bar.add_class("zw-toolbar")  # wraps on a narrow screen instead of pushing the table aside
        super().__init__([bars[0], bars[1], self.table, bars[2], StyleSheet()])
        self.add_class("zw-instances")
        for widget, key in ((self.zone, "zone"), (self.state, "state"), (self.name, "name")):
            widget.observe(lambda change, key=key: controller.set_filters(**{key: change["new"]}), "value")
        self.refresh_button.on_click(lambda _: controller.tasks.spawn(controller.refresh()))
        self.auto.observe(lambda change: controller.set_auto_refresh(change["new"]), "value")
        self.previous_button.on_click(lambda _: self._turn(-1))
        self.next_button.on_click(lambda _: self._turn(+1))
        self.jump.observe(self._jumped, "value")
        controller.observe(lambda _change: self.render(), "selected_id")
        controller.observe(self._instances_changed, "instances")
        controller.observe(self._filters_changed, "filters")
        controller.observe(lambda change: setattr(self.refresh_button, "disabled", change["new"]), "refreshing")
        self._update_filter_options()
        self._show_filters()
        self.render()
        if auto_refresh:
            controller.set_auto_refresh(True)

    def _filters_changed(self, _change: object) -> None:
        self.page = 0
        self._show_filters()
        self.render()

    def _show_filters(self) -> None:
        """The filter inputs show the controller's filters (a value the options lack shows as "all")."""
        filters = self.controller.filters
        for dropdown, value in ((self.zone, filters.zone), (self.state, filters.state)):
            if dropdown.value != value and value in dict(dropdown.options).values():
                dropdown.value = value
        if self.name.value != filters.name:
            self.name.value = filters.name

    def _turn(self, step: int) -> None:
        self.page += step
        self.render()

    def _jumped(self, change: dict[str, object]) -> None:
        page = int(change["new"]) - 1  # type: ignore[call-overload]
        if page != self.page:
            self.page = page
            self.render()

    def sort(self, column: str) -> None:
        """Sort by ``column`` (a header click); the same column again reverses the order. Back to page 1."""
        if column not in INSTANCE_TABLE_COLUMNS:
            return
        self.descending = not self.descending if column == self.sort_by else False
        self.sort_by = column
        self.page = 0
        self.render()

    def rows(self) -> pd.DataFrame:
        """The filtered instances in the table's order."""
        frame = self.controller.filtered_instances()
        if self.sort_by is None or frame.empty:
            return frame
        return frame.sort_values(self.sort_by, ascending=not self.descending, kind="stable", na_position="last")

    def _instances_changed(self, _change: object) -> None:
        self._update_filter_options()
        self._show_filters()  # a filter set before its zone or state was listed shows now
        self.render()

    def _update_filter_options(self) -> None:
        frame = self.controller.instances
        if frame.empty:
            return
        zones = [("All zones", ALL)] + [(z, z) for z in sorted(frame["zone"].unique())]
        states = [("All states", ALL)] + [(s, s) for s in sorted(frame["power_state"].unique())]
        for dropdown, options in ((self.zone, zones), (self.state, states)):
            if list(dropdown.options) != options:
                keep = dropdown.value
                with dropdown.hold_trait_notifications():
                    dropdown.options = options
                    dropdown.value = keep if keep in dict(options).values() else ALL

    def render(self) -> None:
        frame = self.rows()
        self.page = max(0, min(self.page, max(1, -(-len(frame) // self.page_size)) - 1))
        rows, pages = page_of(frame, self.page, self.page_size)
        self.page = min(self.page, pages - 1)
        if self.controller.instances.empty:
            self.table.value = '<p class="zw-empty">Loading instances…</p>'
        else:
            self.table.value = instance_table(rows, self.sort_by, self.descending, self.controller.selected_id)
        first = self.page * self.page_size + 1 if len(frame) else 0
        last = self.page * self.page_size + len(rows)
        self.page_label.value = f"&nbsp;{first}–{last} of {len(frame)} instances&nbsp;"
        self.previous_button.disabled = self.page == 0
        self.next_button.disabled = self.page >= pages - 1
        with self.jump.hold_trait_notifications():
            self.jump.max = max(1, pages)
            self.jump.value = self.page + 1


class InstancePicker(W.Dropdown):
    """Choose the instance to image; labels show name, zone and power state (class ``zw-instance-picker``).

    Offers the instances that pass the controller's filters (all of them when none passes), at
    most :data:`PICKER_LIMIT`, and always the chosen one.
    """

    def __init__(self, controller: StudioController) -> None:
        super().__init__(description="Instance", layout=W.Layout(width="420px"), style={"description_width": "90px"})
        self.add_class("zw-instance-picker")
        self.controller = controller
        self._syncing = False
        self.observe(self._picked, "value")
        controller.observe(lambda _change: self.render(), ["instances", "selected_id", "filters"])
        self.render()

    def _picked(self, change: dict[str, object]) -> None:
        if not self._syncing and isinstance(change["new"], str) and change["new"]:
            self.controller.select(change["new"])

    def render(self) -> None:
        controller = self.controller
        frame = controller.filtered_instances()
        if frame.empty:
            frame = controller.instances
        if frame.empty:
            options: list[tuple[str, str]] = []
        else:
            shown = frame.head(PICKER_LIMIT)
            if controller.selected_id and controller.selected_id not in set(shown["instance_id"]):
                chosen = controller.instances[controller.instances["instance_id"] == controller.selected_id]
                shown = pd.concat([shown, chosen])
            options = [
                (picker_label(str(r.name), str(r.zone), str(r.power_state)), str(r.instance_id))
                for r in shown[["name", "zone", "power_state", "instance_id"]].itertuples(index=False)
            ]
            hidden = len(frame) - PICKER_LIMIT
            if hidden > 0:  # never a silent cut: the list says what it leaves out and how to reach it
                options.append((more_label(hidden), ""))
        self._syncing = True
        try:
            with self.hold_sync():
                if list(self.options) != options:  # type: ignore[has-type]  # a trait of the (untyped) Dropdown
                    self.options = options
                values = [value for _, value in options]
                self.value = controller.selected_id if controller.selected_id in values else None
        finally:
            self._syncing = False


__all__ = ["InstancePicker", "InstanceTable", "more_label", "picker_label"]
