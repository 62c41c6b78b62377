"""Per zone: the zone's custom images as a pandas table beside its quota bar."""

from __future__ import annotations

import ipywidgets as W

from ..controller import StudioController
from .render import image_table, quota_bar


class InventoryView(W.VBox):
    """Every zone's image table and quota (class ``zw-inventory``); re-rendered after each change."""

    def __init__(self, controller: StudioController) -> None:
        super().__init__()
        self.add_class("zw-inventory")
        self.controller = controller
        controller.subscribe(lambda topic: self.render() if topic == "inventory" else None)
        self.render()

    def render(self) -> None:
        inventory = self.controller.inventory
        if inventory is None:
            self.children = [W.HTML("<h4>Images and quota per zone</h4><p>Loading…</p>")]
            return
        rows: list[W.Widget] = [W.HTML("<h4 style='margin:8px 0 4px'>Images and quota per zone</h4>")]
        for zone in inventory.zones:
            supports = zone.supports_images
            title = f"<b>{zone.zone_id}</b> {zone.zone_name}" + ("" if supports else " <i>(images not supported)</i>")
            quota = W.HTML(quota_bar(inventory.quota_for(zone.zone_id), supports))
            quota.add_class("zw-quota")
            table = W.HTML(image_table(inventory.images_in(zone.zone_id)) if supports else "", layout=W.Layout(margin="0 24px 0 0"))
            table.add_class("zw-zone-images")
            box = W.VBox(
                [W.HTML(title), W.HBox([table, quota], layout=W.Layout(align_items="flex-start"))],
                layout=W.Layout(border_top="1px solid #d0d7de", padding="4px 0"),
            )
            box.add_class("zw-zone")
            box.add_class(f"zw-zone-{zone.zone_id}")
            if not supports:
                box.add_class("zw-zone-refuses")
            rows.append(box)
        self.children = rows
