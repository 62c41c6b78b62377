"""The preflight checks as an operator reads them, from known facts (no network)."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api.models import ImageQuota, Instance
from zenlayer_widgets.core.preflight import FIX_STOP_INSTANCE, evaluate_preflight


def instance(status: str = "STOPPED", zone: str = "HKG-A") -> Instance:
    return Instance(instance_id="ins-1", instance_name="web-1", zone_id=zone, instance_status=status)


def run(**overrides):
    facts = dict(
        image_name="backup-1",
        description="",
        instance=instance(),
        quota=ImageQuota("HKG-A", 2, 5),
        zone_image_names={"other"},
    )
    facts.update(overrides)
    return evaluate_preflight(**facts)


def test_all_checks_pass_for_a_stopped_instance_with_room():
    result = run()
    assert result.ok
    assert [c.key for c in result.checks] == ["name", "description", "power_state", "zone", "quota", "unique_name"]
    assert result.summary() == ""


def test_running_instance_is_refused_with_the_stop_fix():
    result = run(instance=instance("RUNNING"))
    assert not result.ok
    power = result.check("power_state")
    assert power.fix == FIX_STOP_INSTANCE
    assert "RUNNING" in power.reason and "stop the instance" in power.reason


@pytest.mark.parametrize(
    "status, words",
    [("STOPPING", "wait until it is STOPPED"), ("BOOTING", "BOOTING"), ("IMAGING", "being created")],
)
def test_transitional_states_say_to_wait_and_offer_no_stop(status, words):
    power = run(instance=instance(status)).check("power_state")
    assert not power.ok and words in power.reason and power.fix is None


@pytest.mark.parametrize("zone", ["SIN-E", "LAX-A"])
def test_zones_without_images_are_refused(zone):
    result = run(instance=instance(zone=zone), quota=None)
    assert not result.check("zone").ok
    assert zone in result.check("zone").reason


def test_full_quota_counts_creating_images_and_says_so():
    check = run(quota=ImageQuota("HKG-A", 5, 5)).check("quota")
    assert not check.ok
    assert "5 of 5" in check.reason and "CREATING" in check.reason


def test_name_already_used_in_the_zone_is_refused():
    check = run(zone_image_names={"backup-1"}).check("unique_name")
    assert not check.ok and "backup-1" in check.reason


def test_bad_name_and_long_description_carry_the_rule_messages():
    result = run(image_name="my image", description="x" * 256)
    assert result.check("name").reason.startswith("A space at position 3 is not allowed")
    assert "1 character over the limit of 255" in result.check("description").reason
    assert len(result.failures) == 2


def test_no_instance_chosen_or_unknown_instance():
    assert run(instance=None).check("instance").reason == "Choose an instance."
    assert "ins-9 was not found" in run(instance=None, instance_id="ins-9").check("instance").reason


def test_to_frame_lists_every_check():
    frame = run(instance=instance("RUNNING")).to_frame()
    assert list(frame.columns) == ["check", "ok", "reason"]
    assert frame["ok"].tolist().count(False) == 1
