"""Every CreateImage / lifecycle / quota rule and every documented business error code, via the official SDK."""

from __future__ import annotations

import pytest

from zenlayer_widgets import rules
from zenlayer_widgets.api import errors

from .helpers import bearer_post, call, instance_id, sdk, sdk_error, snapshot, wait_for


def create(client, models, emulator, name: str, image_name: str, **extra):
    return call(client, models, "CreateImage", instanceId=instance_id(emulator, name), imageName=image_name, **extra)


def test_image_name_rule_is_the_shared_rule(emulator):
    client, models = sdk(emulator)
    before = snapshot(emulator)
    for bad in ("", "has space", "x" * 25, "dot.name", "emoji🙂"):
        error = sdk_error(lambda: create(client, models, emulator, "build-hkg-01", bad))
        assert error.code == errors.INVALID_IMAGE_NAME
        assert error.message == rules.validate_image_name(bad).message
    assert snapshot(emulator) == before
    assert create(client, models, emulator, "build-hkg-01", "中文名称-ok_" + "x" * 12).imageId


def test_image_description_rule(emulator):
    client, models = sdk(emulator)
    too_long = "d" * 256
    error = sdk_error(lambda: create(client, models, emulator, "build-hkg-01", "fine", imageDescription=too_long))
    assert error.code == errors.INVALID_IMAGE_DESCRIPTION
    assert error.message == rules.validate_image_description(too_long).message
    control = sdk_error(lambda: create(client, models, emulator, "build-hkg-01", "fine", imageDescription="a\x00b"))
    assert control.code == errors.INVALID_IMAGE_DESCRIPTION
    assert create(client, models, emulator, "build-hkg-01", "fine", imageDescription="d" * 255).imageId


def test_unknown_instance_is_404(emulator):
    client, models = sdk(emulator)
    for action, fields in (("CreateImage", {"instanceId": "999", "imageName": "x"}),
                           ("StartInstances", {"instanceIds": ["999"]}), ("StopInstances", {"instanceIds": ["999"]})):
        assert sdk_error(lambda: call(client, models, action, **fields)).code == errors.INVALID_INSTANCE_NOT_FOUND
    assert bearer_post(emulator, "StartInstances", {"instanceIds": ["999"]}).status_code == 404


def test_instance_must_be_stopped(emulator):
    client, models = sdk(emulator)
    error = sdk_error(lambda: create(client, models, emulator, "web-hkg-01", "from-running"))
    assert error.code == errors.UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING
    assert bearer_post(emulator, "CreateImage", {"instanceId": instance_id(emulator, "web-hkg-01"),
                                                 "imageName": "x"}).status_code == 400


def test_stopping_instance_is_not_stopped_yet(slow_emulator):
    client, models = sdk(slow_emulator)
    call(client, models, "StopInstances", instanceIds=[instance_id(slow_emulator, "web-hkg-01")])
    error = sdk_error(lambda: create(client, models, slow_emulator, "web-hkg-01", "too-early"))
    assert error.code == errors.UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING
    slow_emulator.backend.advance(3600)
    assert create(client, models, slow_emulator, "web-hkg-01", "now-ok").imageId


@pytest.mark.parametrize("name", ["edge-sin-01", "media-lax-02"])
def test_sin_e_and_lax_a_refuse_images(emulator, name):
    client, models = sdk(emulator)
    error = sdk_error(lambda: create(client, models, emulator, name, "refused"))
    assert error.code == errors.UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT


def test_zone_is_checked_before_state(emulator):
    client, models = sdk(emulator)
    error = sdk_error(lambda: create(client, models, emulator, "edge-sin-02", "running-in-sin"))
    assert error.code == errors.UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT


def test_quota_of_five_per_zone(emulator):
    client, models = sdk(emulator)
    full = sdk_error(lambda: create(client, models, emulator, "api-fra-01", "sixth"))
    assert full.code == errors.LIMIT_EXCEEDED_IMAGE_QUOTA
    assert "5 of 5" in full.message
    create(client, models, emulator, "app-sel-02", "fifth")  # SEL-A: 4 -> 5 (still CREATING)
    quota = call(client, models, "DescribeImageQuota", zoneIds=["SEL-A"]).images[0]
    assert (quota.count, quota.maxCount) == (5, 5)


def test_hkg_fills_up_after_four_more_images(slow_emulator):
    """HKG-A: 1 existing + 4 created = 5 of 5; the sixth is refused."""
    client, models = sdk(slow_emulator)
    backend = slow_emulator.backend
    for number in range(4):
        create(client, models, slow_emulator, "db-hkg-01", f"round-{number}")
        backend.advance(3600)  # finish this one so the disk is free for the next
    call(client, models, "StopInstances", instanceIds=[instance_id(slow_emulator, "web-hkg-01")])
    backend.advance(3600)
    assert backend.custom_image_count("HKG-A") == 5
    error = sdk_error(lambda: create(client, models, slow_emulator, "web-hkg-01", "one-too-many"))
    assert error.code == errors.LIMIT_EXCEEDED_IMAGE_QUOTA


def test_an_image_still_creating_counts_against_the_quota(slow_emulator):
    client, models = sdk(slow_emulator)
    backend = slow_emulator.backend
    fifth = create(client, models, slow_emulator, "app-sel-02", "fills-sel").imageId  # SEL-A 5 of 5, CREATING for an hour
    backend.transition_seconds = 0  # the stop below finishes at once; the image keeps its hour
    call(client, models, "StopInstances", instanceIds=[instance_id(slow_emulator, "app-sel-01")])
    assert backend.instance_named("app-sel-01").status == "STOPPED"
    error = sdk_error(lambda: create(client, models, slow_emulator, "app-sel-01", "sixth-sel"))
    assert error.code == errors.LIMIT_EXCEEDED_IMAGE_QUOTA
    assert backend.images[fifth].status == "CREATING"


def test_disk_already_being_imaged(slow_emulator):
    client, models = sdk(slow_emulator)
    create(client, models, slow_emulator, "build-hkg-01", "first")
    assert slow_emulator.backend.instance_named("build-hkg-01").status == "IMAGING"
    error = sdk_error(lambda: create(client, models, slow_emulator, "build-hkg-01", "second"))
    assert error.code == errors.UNSUPPORTED_OPERATION_DISK_MAKING_IMAGE


def test_recycled_instance(emulator):
    client, models = sdk(emulator)
    old = instance_id(emulator, "old-nyc-01")
    assert sdk_error(lambda: create(client, models, emulator, "old-nyc-01", "x")).code == errors.UNSUPPORTED_OPERATION_DISK_UNAVAILABLE
    for action in ("StartInstances", "StopInstances"):
        assert sdk_error(lambda: call(client, models, action, instanceIds=[old])).code == errors.OPERATION_DENIED_INSTANCE_RECYCLED


def test_duplicate_name_in_a_zone_but_not_across_zones(emulator):
    client, models = sdk(emulator)
    error = sdk_error(lambda: create(client, models, emulator, "build-hkg-01", "web-golden-2025"))
    assert error.code == errors.IMAGE_NAME_DUPLICATE
    assert create(client, models, emulator, "ci-nyc-01", "web-golden-2025").imageId  # NYC-A: another zone


def test_image_lifecycle_and_instance_imaging(emulator):
    client, models = sdk(emulator)
    emulator.backend.transition_seconds = 3600  # CREATING / IMAGING until the test moves the clock
    image_id = create(client, models, emulator, "build-hkg-01", "cycle").imageId
    backend = emulator.backend
    assert backend.images[image_id].status == "CREATING"
    assert backend.instance_named("build-hkg-01").status == "IMAGING"
    start = sdk_error(lambda: call(client, models, "StartInstances", instanceIds=[instance_id(emulator, "build-hkg-01")]))
    assert start.code == errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED
    backend.advance(3600)
    wait_for(lambda: backend.images[image_id].status == "AVAILABLE")
    assert backend.instance_named("build-hkg-01").status == "STOPPED"
    assert backend.images[image_id].size_gb == backend.instance_named("build-hkg-01").system_disk_size == 60


def test_start_and_stop_need_the_right_state(emulator):
    client, models = sdk(emulator)
    running, stopped = instance_id(emulator, "web-hkg-01"), instance_id(emulator, "db-hkg-01")
    assert sdk_error(lambda: call(client, models, "StartInstances", instanceIds=[running])).code == errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED
    assert sdk_error(lambda: call(client, models, "StopInstances", instanceIds=[stopped])).code == errors.OPERATION_DENIED_INSTANCE_NOT_RUNNING
    assert bearer_post(emulator, "StopInstances", {"instanceIds": [stopped]}).status_code == 403


def test_batches_are_all_or_nothing(emulator):
    client, models = sdk(emulator)
    before = snapshot(emulator)
    mixed = [instance_id(emulator, "web-hkg-01"), instance_id(emulator, "db-hkg-01")]
    assert sdk_error(lambda: call(client, models, "StopInstances", instanceIds=mixed)).code == errors.OPERATION_DENIED_INSTANCE_NOT_RUNNING
    with_unknown = [instance_id(emulator, "web-hkg-01"), "999"]
    assert sdk_error(lambda: call(client, models, "StopInstances", instanceIds=with_unknown)).code == errors.INVALID_INSTANCE_NOT_FOUND
    fra = [i.image_id for i in emulator.backend.images.values() if i.zone_id == "FRA-A"]
    assert sdk_error(lambda: call(client, models, "DeleteImages", imageIds=fra[:2] + ["img-nope"])).code == errors.INVALID_IMAGE_NOT_FOUND
    assert snapshot(emulator) == before


def test_delete_frees_quota(emulator):
    client, models = sdk(emulator)
    fra = [i.image_id for i in emulator.backend.images.values() if i.zone_id == "FRA-A"]
    assert sdk_error(lambda: create(client, models, emulator, "api-fra-01", "new-release")).code == errors.LIMIT_EXCEEDED_IMAGE_QUOTA
    call(client, models, "DeleteImages", imageIds=fra[:1])
    quota = call(client, models, "DescribeImageQuota", zoneIds=["FRA-A"]).images[0]
    assert (quota.count, quota.maxCount) == (4, 5)
    assert create(client, models, emulator, "api-fra-01", "new-release").imageId


def test_public_and_creating_images_cannot_be_deleted_or_modified(slow_emulator):
    client, models = sdk(slow_emulator)
    public = next(i.image_id for i in slow_emulator.backend.images.values() if i.image_type == "PUBLIC_IMAGE")
    creating = create(client, models, slow_emulator, "build-hkg-01", "in-progress").imageId
    before = snapshot(slow_emulator)
    for image_id in (public, creating):
        assert sdk_error(lambda: call(client, models, "DeleteImages", imageIds=[image_id])).code == errors.INVALID_IMAGE_STATUS
        error = sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=[image_id], imageName="renamed"))
        assert error.code == errors.INVALID_IMAGE_STATUS
    assert snapshot(slow_emulator) == before


def test_modify_rules(emulator):
    client, models = sdk(emulator)
    sel = sorted((i.image_name, i.image_id) for i in emulator.backend.images.values() if i.zone_id == "SEL-A")
    ids = [image_id for _, image_id in sel]
    assert sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=ids[:1], imageName="bad name")).code == errors.INVALID_IMAGE_NAME
    assert sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=ids[:1], imageName=sel[1][0])).code == errors.IMAGE_NAME_DUPLICATE
    assert sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=ids[:2], imageName="same-for-two")).code == errors.IMAGE_NAME_DUPLICATE
    assert sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=["img-nope"], imageName="x")).code == errors.INVALID_IMAGE_NOT_FOUND
    assert sdk_error(lambda: call(client, models, "ModifyImagesAttributes", imageIds=ids[:1])).code == errors.MISSING_PARAMETER
    call(client, models, "ModifyImagesAttributes", imageIds=ids[:1], imageName=sel[0][0])  # its own name: fine
    call(client, models, "ModifyImagesAttributes", imageIds=ids, imageDescription="same for all")
    assert {emulator.backend.images[i].description for i in ids} == {"same for all"}


def test_unknown_zones(emulator):
    client, models = sdk(emulator)
    assert sdk_error(lambda: call(client, models, "DescribeImages", zoneId="XXX-Z")).code == errors.INVALID_ZONE_NOT_FOUND
    assert sdk_error(lambda: call(client, models, "DescribeImageQuota", zoneIds=["XXX-Z"])).code == errors.INVALID_REGION_NOT_FOUND
    assert bearer_post(emulator, "DescribeImages", {"zoneId": "XXX-Z"}).status_code == 404
