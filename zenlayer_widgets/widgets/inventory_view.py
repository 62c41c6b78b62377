"""Per zone: the zone's custom images as a pandas table beside its quota bar."""

from __future__ import annotations

import html

import ipywidgets as W

from ..core.inventory import Inventory
from ..rules import zone_supports_images
from ..studio.controller import StudioController
from .render import css_token, image_table, quota_bar, zone_title
from .styles import StyleSheet


def _same_images(old: Inventory | None, new: Inventory | None) -> bool:
    """Whether two snapshots show the same zones, images and quota (power states aside)."""
    if old is None or new is None:
        return old is new
    return (old.zones, old.image_list, old.quota_list) == (new.zones, new.image_list, new.quota_list)


class DeleteImageBar(W.HBox):
    """Pick a custom image and delete it after a confirmation (frees its zone's quota slot)."""

    def __init__(self, controller: StudioController) -> None:
        self.controller = controller
        self.picker = W.Dropdown(description="Delete", style={"description_width": "50px"}, layout=W.Layout(width="460px"))
        self.delete_button = W.Button(description="Delete image…", icon="trash")
        self.confirm_text = W.HTML()
        self.confirm_button = W.Button(description="Yes, delete it", button_style="danger")
        self.cancel_button = W.Button(description="Cancel")
        for widget, css in [
            (self.picker, "zw-delete-picker"), (self.delete_button, "zw-delete-image"),
            (self.confirm_button, "zw-confirm-delete"), (self.cancel_button, "zw-cancel-delete"),
        ]:
            widget.add_class(css)
        super().__init__(
            [self.picker, self.delete_button, self.confirm_text, self.confirm_button, self.cancel_button, StyleSheet()]
        )
        self.delete_button.on_click(lambda _: controller.request_delete(self.picker.value))
        self.cancel_button.on_click(lambda _: controller.cancel_delete())
        self.confirm_button.on_click(lambda _: controller.tasks.spawn(controller.confirm_delete()))
        controller.observe(self._inventory_changed, "inventory")
        controller.observe(lambda _change: self.render(), ["delete_candidate", "deleting"])
        self.render()

    def _inventory_changed(self, change: dict[str, Inventory | None]) -> None:
        if not _same_images(change["old"], change["new"]):
            self.render()

    def render(self) -> None:
        controller = self.controller
        options = controller.deletable_images()
        with self.hold_sync():
            if list(self.picker.options) != options:
                keep = self.picker.value
                self.picker.options = options
                self.picker.value = keep if keep in dict(options).values() else None
            confirming = controller.delete_candidate is not None
            self.delete_button.disabled = not options or controller.deleting
            self.delete_button.layout.display = "none" if confirming else ""
            for widget in (self.confirm_text, self.confirm_button, self.cancel_button):
                widget.layout.display = "" if confirming else "none"
            label = dict((v, k) for k, v in options).get(controller.delete_candidate or "", "")
            self.confirm_text.value = f"&nbsp;Delete <b>{html.escape(label)}</b> for good?&nbsp;" if confirming else ""


class InventoryView(W.VBox):
    """Every zone's image table and quota (class ``zw-inventory``); re-rendered after each change."""

    def __init__(self, controller: StudioController) -> None:
        super().__init__()
        self.add_class("zw-inventory")
        self.controller = controller
        self.delete_bar = DeleteImageBar(controller)
        controller.observe(self._inventory_changed, "inventory")
        self.render()

    def _inventory_changed(self, change: dict[str, Inventory | None]) -> None:
        if not _same_images(change["old"], change["new"]):  # a power-state update leaves this view alone
            self.render()

    def render(self) -> None:
        inventory = self.controller.inventory
        if inventory is None:
            self.children = [W.HTML("<h4>Images and quota per zone</h4><p>Loading…</p>")]
            return
        rows: list[W.Widget] = [W.HTML("<h4 style='margin:8px 0 4px'>Images and quota per zone</h4>"), self.delete_bar]
        for zone in inventory.zones:
            supports = zone_supports_images(zone.zone_id)
            title = zone_title(zone.zone_id, zone.zone_name, supports)
            quota = W.HTML(quota_bar(inventory.quota_for(zone.zone_id), supports))
            quota.add_class("zw-quota")
            table = W.HTML(
                image_table(inventory.images_in(zone.zone_id)) if supports else "",
                layout=W.Layout(margin="0 24px 0 0", width="720px", overflow="auto"),
            )
            table.add_class("zw-zone-images")
            box = W.VBox(
                [W.HTML(title), W.HBox([table, quota], layout=W.Layout(align_items="flex-start"))],
                layout=W.Layout(padding="4px 0"),
            )
            box.add_class("zw-zone")
            box.add_class(f"zw-zone-{css_token(zone.zone_id)}")
            if not supports:
                box.add_class("zw-zone-refuses")
            rows.append(box)
        self.children = rows
