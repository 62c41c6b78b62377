"""Launching, restoring, the recycle bin: every section-9 action through the official SDK, over a socket."""

from __future__ import annotations

import json

import pytest

from .helpers import VERSIONS, bearer_post, call, instance_id, request, sdk, sdk_error


def public_image(emulator, name: str = "Ubuntu Server 22.04 LTS x86 64-bit") -> str:
    return next(i.image_id for i in emulator.backend.images.values() if i.image_name == name)


def launch(emulator, client, models, **fields):
    """CreateInstances through the SDK, tags in the SDK's own nested TagAssociation shape."""
    tags = fields.pop("tags", None)
    defaults = {"zoneId": "HKG-A", "instanceType": "z2a.c2m4", "imageId": public_image(emulator), "instanceChargeType": "POSTPAID",
                "internetChargeType": "ByBandwidth", "internetMaxBandwidthOut": 10, "instanceName": "verify-1",
                "password": "Launch-Pass-123"}
    req = request(models, "CreateInstances", **{**defaults, **fields})
    if tags is not None:
        association = models.TagAssociation()
        association.tags = []
        for key, value in tags.items():
            tag = models.Tag()
            tag.key, tag.value = key, value
            association.tags.append(tag)
        req.tags = association
    return client.CreateInstances(req)


def status(client, models, iid: str) -> str:
    return call(client, models, "DescribeInstancesStatus", instanceIds=[iid]).dataSet[0].instanceStatus


@pytest.mark.parametrize("version", VERSIONS)
def test_create_instances_boots_on_the_clock_and_describes_every_field(emulator, version):
    client, models = sdk(emulator, version)
    emulator.backend.transition_seconds = 3600
    disk = models.SystemDisk()
    disk.diskSize, disk.diskCategory = 40, "SSD"
    answer = launch(emulator, client, models, systemDisk=disk, subnetId="subnet-x", securityGroupId="sg-x",
                    tags={"intent": "op-1", "role": "verify"}, initScript="#!/bin/sh\necho hi\n")
    assert answer.orderNumber and answer.requestId
    (iid,) = answer.instanceIdSet
    assert status(client, models, iid) == "PENDING"
    emulator.backend.advance(3600)
    assert status(client, models, iid) == "DEPLOYING"
    emulator.backend.advance(3600)
    assert status(client, models, iid) == "RUNNING"
    (instance,) = call(client, models, "DescribeInstances", instanceIds=[iid]).dataSet
    assert instance.imageId == public_image(emulator) and instance.imageName == "Ubuntu Server 22.04 LTS x86 64-bit"
    assert (instance.instanceType, instance.cpuCount, instance.memory) == ("z2a.c2m4", 2, 4)
    assert instance.subnetId == "subnet-x" and instance.securityGroupIds == ["sg-x"]
    assert (instance.instanceChargeType, instance.internetChargeType, instance.internetMaxBandwidthOut) == ("POSTPAID", "ByBandwidth", 10)
    assert instance.systemDisk.diskSize == 40 and instance.createTime.endswith("Z") and instance.instanceName == "verify-1"
    assert {(t.key, t.value) for t in instance.tags.tags} == {("intent", "op-1"), ("role", "verify")}


def test_one_advance_carries_a_launch_to_running(emulator):
    client, models = sdk(emulator)
    emulator.backend.transition_seconds = 100
    (iid,) = launch(emulator, client, models).instanceIdSet
    emulator.backend.advance(200)
    assert status(client, models, iid) == "RUNNING"


def test_several_instances_are_numbered_by_the_name_pattern(emulator):
    client, models = sdk(emulator)
    answer = launch(emulator, client, models, instanceName="web_[7,2]", instanceCount=3)
    names = [i.instanceName for i in call(client, models, "DescribeInstances", instanceIds=answer.instanceIdSet).dataSet]
    assert sorted(names) == ["web07", "web08", "web09"]


@pytest.mark.parametrize(("fields", "code"), [
    ({"zoneId": "NOPE-Z"}, "INVALID_ZONE_NOT_FOUND"),
    ({"instanceType": "z9.huge"}, "INVALID_INSTANCE_TYPE_NOT_FOUND"),
    ({"imageId": "img-missing"}, "INVALID_IMAGE_NOT_FOUND"),
    ({"instanceChargeType": "MONTHLY"}, "INVALID_PARAMETER"),
    ({"keyId": "key-1"}, "INVALID_PARAMETER"),  # a password too: exactly one
    ({"instanceName": "bad name!"}, "INVALID_PARAMETER"),
    ({"instanceCount": 101}, "INVALID_PARAMETER"),
])
def test_create_instances_refuses_bad_requests_and_launches_nothing(emulator, fields, code):
    client, models = sdk(emulator)
    before = len(emulator.backend.instances)
    error = sdk_error(lambda: launch(emulator, client, models, **fields))
    assert error.code == code
    assert len(emulator.backend.instances) == before


def test_create_instances_refuses_another_zones_custom_image_and_a_small_disk(emulator):
    client, models = sdk(emulator)
    fra_image = next(i.image_id for i in emulator.backend.images.values() if i.image_name == "api-release-5")
    assert sdk_error(lambda: launch(emulator, client, models, imageId=fra_image)).code == "INVALID_IMAGE_NOT_FOUND"
    hkg_image = next(i for i in emulator.backend.images.values() if i.image_name == "web-golden-2025")  # 40 GB
    disk = models.SystemDisk()
    disk.diskSize = 20
    error = sdk_error(lambda: launch(emulator, client, models, imageId=hkg_image.image_id, systemDisk=disk))
    assert error.code == "INVALID_PARAMETER_SYSTEM_DISK_SIZE"


@pytest.mark.parametrize("version", VERSIONS)
def test_zone_instance_config_infos_lists_types_with_cpu_and_memory(emulator, version):
    client, models = sdk(emulator, version)
    answer = call(client, models, "DescribeZoneInstanceConfigInfos", zoneId="FRA-A", instanceChargeType="POSTPAID")
    types = {t.instanceType: t for t in answer.instanceTypeQuotaSet}
    assert len(types) >= 3 and {t.zoneId for t in answer.instanceTypeQuotaSet} == {"FRA-A"}
    assert (types["z2a.c4m8"].cpuCount, types["z2a.c4m8"].memory) == (4, 8)
    one = call(client, models, "DescribeZoneInstanceConfigInfos", zoneId="FRA-A", instanceType="z2a.c1m2")
    assert [t.instanceType for t in one.instanceTypeQuotaSet] == ["z2a.c1m2"]


@pytest.mark.parametrize("version", VERSIONS)
def test_inquiry_price_prices_postpaid_by_the_hour(emulator, version):
    client, models = sdk(emulator, version)
    small = call(client, models, "InquiryPriceCreateInstance", zoneId="HKG-A", instanceType="z2a.c1m2", instanceChargeType="POSTPAID",
                 internetChargeType="ByBandwidth", internetMaxBandwidthOut=10)
    big = call(client, models, "InquiryPriceCreateInstance", zoneId="HKG-A", instanceType="z2a.c8m16", instanceChargeType="POSTPAID")
    assert small.instancePrice.chargeUnit == "HOUR" and 0 < small.instancePrice.unitPrice < big.instancePrice.unitPrice
    assert small.bandwidthPrice[0].unitPrice > 0 and small.systemDiskPrice.chargeUnit == "HOUR"
    prepaid_terms = models.ChargePrepaid()
    prepaid_terms.period = 3
    prepaid = call(client, models, "InquiryPriceCreateInstance", zoneId="HKG-A", instanceType="z2a.c1m2", instanceChargeType="PREPAID",
                   instanceChargePrepaid=prepaid_terms)
    assert prepaid.instancePrice.chargeUnit == "MONTH" and prepaid.instancePrice.originalPrice > small.instancePrice.unitPrice


def test_reset_instance_refused_on_running_then_rebuilds_a_stopped_one(emulator):
    client, models = sdk(emulator)
    emulator.backend.transition_seconds = 3600
    web = instance_id(emulator, "web-hkg-01")  # RUNNING
    image = next(i.image_id for i in emulator.backend.images.values() if i.image_name == "web-golden-2025")
    error = sdk_error(lambda: call(client, models, "ResetInstance", instanceId=web, imageId=image, password="Reset-Pass-123"))
    assert error.code == "OPERATION_DENIED_INSTANCE_NOT_STOPPED"
    assert emulator.backend.instances[web].image_id != image and status(client, models, web) == "RUNNING"
    build = instance_id(emulator, "build-hkg-01")  # STOPPED, 60 GB disk
    call(client, models, "ResetInstance", instanceId=build, imageId=image, keyId="key-ops")
    assert status(client, models, build) == "REBUILDING"
    emulator.backend.advance(3600)
    (instance,) = call(client, models, "DescribeInstances", instanceIds=[build]).dataSet
    assert (instance.instanceStatus, instance.imageId, instance.imageName, instance.keyId) == ("RUNNING", image, "web-golden-2025", "key-ops")


def test_reset_instance_checks_the_image(emulator):
    client, models = sdk(emulator)
    build = instance_id(emulator, "build-hkg-01")
    other_zone = next(i.image_id for i in emulator.backend.images.values() if i.image_name == "api-release-5")
    windows = public_image(emulator, "Windows Server 2022 Datacenter 64-bit")  # 40 GB
    edge = instance_id(emulator, "edge-sin-01")  # STOPPED, 30 GB disk
    for iid, image, code in ((build, other_zone, "INVALID_IMAGE_NOT_FOUND"), (build, "img-nope", "INVALID_IMAGE_NOT_FOUND"),
                             (edge, windows, "INVALID_PARAMETER_SYSTEM_DISK_SIZE")):
        error = sdk_error(lambda iid=iid, image=image: call(client, models, "ResetInstance", instanceId=iid, imageId=image, password="P-12345678"))
        assert error.code == code
    assert status(client, models, build) == "STOPPED"


def test_terminate_moves_to_the_recycle_bin_and_release_removes(emulator):
    client, models = sdk(emulator)
    emulator.backend.transition_seconds = 3600
    web = instance_id(emulator, "web-hkg-01")
    error = sdk_error(lambda: call(client, models, "ReleaseInstances", instanceIds=[web]))
    assert error.code == "OPERATION_DENIED_INSTANCE_NOT_RECYCLED" and status(client, models, web) == "RUNNING"
    call(client, models, "TerminateInstance", instanceId=web)
    assert status(client, models, web) == "RECYCLING"
    emulator.backend.advance(3600)
    assert status(client, models, web) == "RECYCLE"
    for action, fields in (("StartInstances", {"instanceIds": [web]}), ("TerminateInstance", {"instanceId": web}),
                           ("ResetInstance", {"instanceId": web, "password": "P-12345678"})):
        assert sdk_error(lambda a=action, f=fields: call(client, models, a, **f)).code == "OPERATION_DENIED_INSTANCE_RECYCLED"
    call(client, models, "ReleaseInstances", instanceIds=[web])
    assert call(client, models, "DescribeInstances", instanceIds=[web]).totalCount == 0
    assert web not in emulator.backend.instances
    assert sdk_error(lambda: call(client, models, "ReleaseInstances", instanceIds=[web])).code == "INVALID_INSTANCE_NOT_FOUND"


def test_release_is_all_or_nothing_and_at_most_100(emulator):
    client, models = sdk(emulator)
    old = instance_id(emulator, "old-nyc-01")  # RECYCLE
    ci = instance_id(emulator, "ci-nyc-01")  # STOPPED
    assert sdk_error(lambda: call(client, models, "ReleaseInstances", instanceIds=[old, ci])).code == "OPERATION_DENIED_INSTANCE_NOT_RECYCLED"
    assert old in emulator.backend.instances
    too_many = [str(n) for n in range(101)]
    assert sdk_error(lambda: call(client, models, "ReleaseInstances", instanceIds=too_many)).code == "INVALID_PARAMETER"


def test_describe_instances_filters_by_image_and_tags(emulator):
    client, models = sdk(emulator)
    ubuntu = public_image(emulator)
    (iid,) = launch(emulator, client, models, tags={"intent": "op-7"}).instanceIdSet
    built = call(client, models, "DescribeInstances", imageId=ubuntu, pageSize=100)
    expected = {i.instance_id for i in emulator.backend.instances.values() if i.image_id == ubuntu}
    assert {i.instanceId for i in built.dataSet} == expected and iid in expected
    tag = models.Tag()
    tag.key, tag.value = "intent", "op-7"
    assert [i.instanceId for i in call(client, models, "DescribeInstances", tags=[tag]).dataSet] == [iid]
    tag.value = "op-8"
    assert call(client, models, "DescribeInstances", tags=[tag]).totalCount == 0
    assert [i.instanceId for i in call(client, models, "DescribeInstances", tagKeys=["intent"]).dataSet] == [iid]


def test_the_launch_password_is_never_kept_or_shown(emulator):
    client, models = sdk(emulator)
    secret = "Launch-Secret-Pass-9z"
    (iid,) = launch(emulator, client, models, password=secret).instanceIdSet
    build = instance_id(emulator, "build-hkg-01")
    call(client, models, "ResetInstance", instanceId=build, password=secret)
    assert secret not in json.dumps(emulator.backend.export_state())
    listed = bearer_post(emulator, "DescribeInstances", {"instanceIds": [iid, build]})
    assert listed.status_code == 200 and secret not in listed.text
    refused = bearer_post(emulator, "CreateInstances", {"zoneId": "HKG-A", "instanceType": "z2a.c1m2", "imageId": "img-x",
                                                        "instanceChargeType": "POSTPAID", "password": secret, "keyId": "k"})
    assert refused.status_code == 400 and secret not in refused.text
