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
