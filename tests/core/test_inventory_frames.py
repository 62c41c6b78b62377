"""Models -> DataFrames, filters and paging (pure functions)."""

from __future__ import annotations

from zenlayer_widgets.api.models import Image, ImageQuota, Instance, Zone
from zenlayer_widgets.core.inventory import filter_instances, images_frame, instances_frame, page_of, quota_frame


def fleet():
    return [
        Instance("i-1", "web-hkg", "HKG-A", "RUNNING", system_disk_size=40),
        Instance("i-2", "db-hkg", "HKG-A", "STOPPED", system_disk_size=80),
        Instance("i-3", "cache-sin", "SIN-E", "STOPPED", system_disk_size=20),
    ]


def test_instances_frame_has_power_state_disk_and_zone_support():
    frame = instances_frame(fleet())
    assert frame.loc[0, "power_state"] == "RUNNING"
    assert frame["system_disk_gb"].tolist() == [40, 80, 20]
    assert frame["zone_supports_images"].tolist() == [True, True, False]


def test_images_frame_and_quota_frame_in_zone_order():
    images = images_frame([Image("img-a", "a", "CUSTOM_IMAGE", "AVAILABLE", 40, zone_id="HKG-A")])
    assert images.loc[0, "size_gb"] == 40 and images.loc[0, "description"] == ""
    zones = [Zone("SEL-A"), Zone("HKG-A"), Zone("SIN-E")]
    quota = quota_frame([ImageQuota("HKG-A", 2, 5), ImageQuota("SEL-A", 5, 5)], zones)
    assert quota["zone"].tolist() == ["SEL-A", "HKG-A", "SIN-E"]
    assert quota["free"].tolist() == [0, 3, 5]
    assert quota["supports_images"].tolist() == [True, True, False]


def test_filter_by_zone_state_and_name_case_insensitive():
    frame = instances_frame(fleet())
    assert filter_instances(frame, zone="HKG-A")["instance_id"].tolist() == ["i-1", "i-2"]
    assert filter_instances(frame, state="STOPPED")["instance_id"].tolist() == ["i-2", "i-3"]
    assert filter_instances(frame, name="HKG")["instance_id"].tolist() == ["i-1", "i-2"]
    assert filter_instances(frame, zone="HKG-A", state="STOPPED", name="db")["instance_id"].tolist() == ["i-2"]
    assert filter_instances(frame, name="i-3")["name"].tolist() == ["cache-sin"]


def test_page_of_clamps_and_counts_pages():
    frame = instances_frame(fleet())
    rows, pages = page_of(frame, 1, 2)
    assert pages == 2 and rows["instance_id"].tolist() == ["i-3"]
    rows, pages = page_of(frame, 9, 2)
    assert rows["instance_id"].tolist() == ["i-3"]
    rows, pages = page_of(frame.iloc[0:0], 0, 2)
    assert pages == 1 and rows.empty


def test_inventory_keeps_the_models_and_derives_its_tables():
    from zenlayer_widgets.core.inventory import Inventory

    zones = (Zone("HKG-A", "Hong Kong"), Zone("SIN-E", "Singapore"))
    image = Image("img-a", "golden", "CUSTOM_IMAGE", "AVAILABLE", 40, zone_id="HKG-A")
    inventory = Inventory(zones, tuple(fleet()), (image,), (ImageQuota("HKG-A", 1, 5),))
    assert inventory.instance("i-2") is inventory.instance_list[1]  # the model itself, not rebuilt from a row
    assert inventory.instance("i-404") is None
    assert inventory.instances["instance_id"].tolist() == ["i-1", "i-2", "i-3"]
    assert inventory.instances is inventory.instances  # built once
    assert inventory.images_in("HKG-A")["name"].tolist() == ["golden"] and inventory.image_names_in("SIN-E") == set()
    assert (inventory.quota_for("HKG-A").count, inventory.quota_for("SIN-E").count) == (1, 0)
    assert inventory.quota["zone"].tolist() == ["HKG-A", "SIN-E"]


def test_power_states_update_the_models_and_the_table_in_a_new_snapshot():
    from zenlayer_widgets.core.inventory import Inventory

    inventory = Inventory((Zone("HKG-A", "Hong Kong"),), tuple(fleet()))
    table = inventory.instances
    assert inventory.with_statuses({"i-1": "RUNNING", "i-404": "STOPPED", "i-2": ""}) is inventory  # nothing changed
    updated = inventory.with_statuses({"i-1": "STOPPING"})
    assert updated.instance("i-1").instance_status == "STOPPING" and updated.instance("i-1").system_disk_size == 40
    assert updated.instances["power_state"].tolist() == ["STOPPING", "STOPPED", "STOPPED"]
    assert inventory.instance("i-1").instance_status == "RUNNING" and table["power_state"][0] == "RUNNING"  # old one kept
    assert updated.instance("i-2") is inventory.instance("i-2") and updated.loaded_at == inventory.loaded_at
