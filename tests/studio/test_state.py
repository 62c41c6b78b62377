"""The studio's state as traits: what views observe and what follows from it (no network, no widgets)."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api.models import Image, ImageQuota, Instance, Zone
from zenlayer_widgets.core.inventory import Inventory
from zenlayer_widgets.studio.state import InstanceFilters, StudioState


def snapshot() -> Inventory:
    instances = (
        Instance("i-1", "web-hkg", "HKG-A", "RUNNING", system_disk_size=40),
        Instance("i-2", "db-hkg", "HKG-A", "STOPPED", system_disk_size=80),
        Instance("i-3", "cache-sel", "SEL-A", "STOPPED", system_disk_size=20),
    )
    images = (Image("img-a", "golden", "CUSTOM_IMAGE", "AVAILABLE", 40, zone_id="HKG-A"),)
    return Inventory((Zone("HKG-A", "Hong Kong"), Zone("SEL-A", "Seoul")), instances, images, (ImageQuota("HKG-A", 1, 5),))


def changes(state: StudioState, *names: str) -> list[str]:
    seen: list[str] = []
    state.observe(lambda change: seen.append(change["name"]), list(names))
    return seen


def test_loading_a_snapshot_derives_the_instance_table_and_tells_its_observers():
    state = StudioState()
    seen = changes(state, "inventory", "instances")
    assert state.instances.empty and state.selected_instance is None
    state.inventory = snapshot()
    assert sorted(seen) == ["instances", "inventory"]
    assert state.instances is state.inventory.instances and len(state.instances) == 3


def test_the_chosen_instance_is_the_listed_model_and_the_checks_use_it():
    state = StudioState(inventory=snapshot())
    state.select("i-2")
    assert state.selected_instance is state.inventory.instance("i-2")
    state.set_name("golden")
    assert not state.preflight.check("unique_name").ok and not state.can_submit
    state.set_name("db-backup")
    assert state.can_submit, state.preflight.summary()
    state.creating = True
    assert not state.can_submit and state.busy == {"creating"}


def test_choosing_another_instance_drops_a_pending_stop_confirmation():
    state = StudioState(inventory=snapshot(), selected_id="i-1")
    state.request_stop()
    seen = changes(state, "selected_id", "confirming_stop")
    state.select("i-2")
    assert not state.confirming_stop and sorted(seen) == ["confirming_stop", "selected_id"]


def test_filters_live_in_the_state_and_unknown_ones_are_refused():
    state = StudioState(inventory=snapshot())
    seen = changes(state, "filters")
    state.set_filters(zone="HKG-A", state="STOPPED")
    assert state.filters == InstanceFilters(zone="HKG-A", state="STOPPED")
    assert state.filtered_instances()["instance_id"].tolist() == ["i-2"]
    state.set_filters(zone="HKG-A")  # the same value again: no change to tell
    assert seen == ["filters"]
    with pytest.raises(TypeError, match="unknown filter"):
        state.set_filters(colour="red")
    assert state.filters == InstanceFilters(zone="HKG-A", state="STOPPED")
    state.set_filters(zone="", state="", name="CACHE")
    assert state.filtered_instances()["name"].tolist() == ["cache-sel"]


def test_power_state_updates_reach_the_chosen_instance_and_the_table():
    state = StudioState(inventory=snapshot(), selected_id="i-1")
    assert not state.transitional()
    state.inventory = state.inventory.with_statuses({"i-1": "STOPPING"})
    assert state.selected_instance.instance_status == "STOPPING" and state.transitional()
    assert state.instances.set_index("instance_id").loc["i-1", "power_state"] == "STOPPING"
    assert not state.preflight.check("power_state").ok


def test_deletable_images_leave_out_images_still_creating():
    inventory = snapshot()
    creating = Image("img-b", "new", "CUSTOM_IMAGE", "CREATING", None, zone_id="HKG-A")
    state = StudioState(inventory=Inventory(inventory.zones, inventory.instance_list, (*inventory.image_list, creating)))
    assert state.deletable_images() == [("HKG-A · golden · img-a", "img-a")]
