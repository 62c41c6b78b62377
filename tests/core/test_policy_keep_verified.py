"""Rotation's ``keep_verified``: the newest image ``zw.verify_image`` proved to boot is never deleted by a rotation
(default 1), the plan says why it is kept, and 0 lets it go like any other."""

from __future__ import annotations

import pytest

import zenlayer_widgets as zw
from zenlayer_widgets.core.ledger import Ledger

FAST = 0.1  # poll interval: the emulator's transitions take 0.2 s


@pytest.fixture
def ledger(tmp_path) -> Ledger:
    return Ledger(tmp_path / "ledger.sqlite3")


def rotate(client, ledger: Ledger, **options) -> zw.apply_rotation:  # noqa: ANN001, ANN003
    policy = zw.Policy("nightly", keep=1, **options)
    outcome = zw.apply_rotation(client, policy, ledger, poll_interval=FAST)
    assert outcome.ok, outcome.frame()
    return outcome


def test_the_newest_verified_image_outlives_keep_and_the_plan_says_why(mock_emulator, ledger) -> None:
    client = mock_emulator.client()
    instance = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    first = rotate(client, ledger, instance_ids=instance).results[0]
    result = zw.verify_image(client, first.image_id, ledger=ledger, poll_interval=FAST)
    assert result.booted

    plan = zw.plan_rotation(client, zw.Policy("nightly", keep=1, instance_ids=instance), ledger)
    row = plan.frame().iloc[0]
    assert row["deletes"] == "" and first.image_name in row["kept"] and "newest verified image" in row["kept"]
    second = rotate(client, ledger, instance_ids=instance).results[0]
    assert second.deleted == () and first.image_id in mock_emulator.backend.images and "newest verified image" in second.reason

    third = rotate(client, ledger, instance_ids=instance).results[0]  # the unverified one goes, the verified stays
    assert third.deleted == (second.image_id,) and {first.image_id, third.image_id} <= set(mock_emulator.backend.images)

    fourth = rotate(client, ledger, instance_ids=instance, keep_verified=0).results[0]  # one delete per run (the cap)
    assert fourth.deleted == (first.image_id,) and first.image_id not in mock_emulator.backend.images


def test_a_newer_verification_moves_the_keep_to_the_newer_image(mock_emulator, ledger) -> None:
    client = mock_emulator.client()
    instance = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    first = rotate(client, ledger, instance_ids=instance).results[0]
    assert zw.verify_image(client, first.image_id, ledger=ledger, poll_interval=FAST).booted
    second = rotate(client, ledger, instance_ids=instance).results[0]
    assert zw.verify_image(client, second.image_id, ledger=ledger, poll_interval=FAST).booted
    third = rotate(client, ledger, instance_ids=instance).results[0]
    assert third.deleted == (first.image_id,) and second.image_id in mock_emulator.backend.images


def test_a_zone_full_of_kept_images_fails_and_deletes_nothing(mock_emulator, ledger) -> None:
    client = mock_emulator.client()
    instance = mock_emulator.backend.instance_named("build-hkg-01").instance_id
    policy = zw.Policy("nightly", keep=1, keep_verified=5, instance_ids=instance, delete_first_when_full=True)
    while mock_emulator.backend.custom_image_count("HKG-A") < 5:  # fill the zone with verified images of the policy
        image = zw.apply_rotation(client, policy, ledger, poll_interval=FAST).results[0].image_id
        assert zw.verify_image(client, image, ledger=ledger, poll_interval=FAST).booted
    before = set(mock_emulator.backend.images)
    plan = zw.plan_rotation(client, policy, ledger)
    assert not plan.ok and "keep_verified" in plan.items[0].reason and plan.items[0].kept
    assert zw.apply_rotation(client, policy, ledger, poll_interval=FAST).failures
    assert set(mock_emulator.backend.images) == before


def test_keep_verified_is_checked_before_anything_is_sent() -> None:
    with pytest.raises(ValueError, match="keep_verified must be from 0 to 5"):
        zw.Policy("nightly", keep_verified=6, instance_ids=("1",))
    with pytest.raises(TypeError, match="keep_verified must be a whole number"):
        zw.Policy("nightly", keep_verified=True, instance_ids=("1",))
