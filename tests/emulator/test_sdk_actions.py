"""Every action through the official SDK, in both API versions it ships for vm."""

from __future__ import annotations

import re

import pytest

from zenlayer_widgets import rules

from .helpers import VERSIONS, call, instance_id, sdk, wait_for

REQUEST_ID = re.compile(r"^T[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$")


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_zones_lists_the_demo_zones(emulator, version):
    client, models = sdk(emulator, version)
    answer = call(client, models, "DescribeZones")
    ids = [zone.zoneId for zone in answer.zoneSet]
    assert {"HKG-A", "SEL-A", "FRA-A", "SIN-E", "LAX-A"} <= set(ids)
    assert REQUEST_ID.match(answer.requestId)
    hkg = next(zone for zone in answer.zoneSet if zone.zoneId == "HKG-A")
    assert hkg.zoneName == "Hong Kong A" and hkg.supportNetworkType == "VPC"
    if version == "2026-04-01":
        assert hkg.networkLineType in {"BGP", "CN2", "Cogent"}


def test_zone_info_gains_network_line_type_only_in_2026(emulator):
    import httpx

    for version, present in (("2023-03-13", False), ("2026-04-01", True)):
        response = httpx.post(emulator.url + "/api/v2/vm", json={"zoneIds": ["FRA-A"]}, headers={
            "Authorization": f"Bearer {emulator.token}", "X-ZC-Action": "DescribeZones", "X-ZC-Version": version})
        (zone,) = response.json()["response"]["zoneSet"]
        assert ("networkLineType" in zone) is present


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_zones_filters_by_id(emulator, version):
    client, models = sdk(emulator, version)
    answer = call(client, models, "DescribeZones", zoneIds=["FRA-A", "SIN-E", "NOPE-Z"])
    assert sorted(zone.zoneId for zone in answer.zoneSet) == ["FRA-A", "SIN-E"]


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_instances_shows_the_demo_fleet(emulator, version):
    client, models = sdk(emulator, version)
    answer = call(client, models, "DescribeInstances", zoneId="HKG-A")
    by_name = {i.instanceName: i for i in answer.dataSet}
    assert answer.totalCount == len(answer.dataSet) == 4
    assert by_name["web-hkg-01"].instanceStatus == "RUNNING"
    assert by_name["build-hkg-01"].instanceStatus == "STOPPED"
    assert by_name["db-hkg-01"].instanceStatus == "STOPPED"
    build = by_name["build-hkg-01"]
    assert build.systemDisk.diskSize == 60 and build.zoneId == "HKG-A"
    assert build.publicIpAddresses and build.privateIpAddresses and build.createTime.endswith("Z")


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_instances_filters(emulator, version):
    client, models = sdk(emulator, version)
    exact = call(client, models, "DescribeInstances", instanceName="web-hkg-01")
    assert [i.instanceName for i in exact.dataSet] == ["web-hkg-01"]
    no_prefix_without_star = call(client, models, "DescribeInstances", instanceName="web")
    assert no_prefix_without_star.totalCount == 0
    fuzzy = call(client, models, "DescribeInstances", instanceName="app-sel*")
    assert sorted(i.instanceName for i in fuzzy.dataSet) == ["app-sel-01", "app-sel-02"]
    stopped = call(client, models, "DescribeInstances", instanceStatus="STOPPED", pageSize=100)
    assert stopped.totalCount == len(stopped.dataSet) > 0
    assert all(i.instanceStatus == "STOPPED" for i in stopped.dataSet)
    wanted = [instance_id(emulator, "db-hkg-01"), instance_id(emulator, "edge-sin-01")]
    by_ids = call(client, models, "DescribeInstances", instanceIds=wanted)
    assert sorted(i.instanceId for i in by_ids.dataSet) == sorted(wanted)
    combined = call(client, models, "DescribeInstances", instanceIds=wanted, zoneId="SIN-E")
    assert [i.instanceName for i in combined.dataSet] == ["edge-sin-01"]


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_instances_paginates_with_default_20(version):
    from zenlayer_widgets.emulator import start_emulator

    with start_emulator(instances=45) as emulator:
        client, models = sdk(emulator, version)
        first = call(client, models, "DescribeInstances")
        assert first.totalCount == 45 and len(first.dataSet) == 20
        seen = []
        for page in (1, 2, 3, 4):
            answer = call(client, models, "DescribeInstances", pageNum=page, pageSize=15)
            seen += [i.instanceId for i in answer.dataSet]
        assert len(seen) == len(set(seen)) == 45
        beyond = call(client, models, "DescribeInstances", pageNum=99, pageSize=20)
        assert beyond.totalCount == 45 and beyond.dataSet == []


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_instances_status(emulator, version):
    client, models = sdk(emulator, version)
    everything = call(client, models, "DescribeInstancesStatus", pageSize=1000)
    assert everything.totalCount == len(everything.dataSet) == len(emulator.backend.instances)
    one = call(client, models, "DescribeInstancesStatus", instanceIds=[instance_id(emulator, "web-hkg-01")])
    assert [(s.instanceId, s.instanceStatus) for s in one.dataSet] == [(instance_id(emulator, "web-hkg-01"), "RUNNING")]
    paged = call(client, models, "DescribeInstancesStatus", pageSize=2, pageNum=2)
    assert len(paged.dataSet) == 2 and paged.totalCount == everything.totalCount


@pytest.mark.parametrize("version", VERSIONS)
def test_stop_then_start_walks_the_power_lifecycle(emulator, version):
    client, models = sdk(emulator, version)
    web = instance_id(emulator, "web-hkg-01")
    emulator.backend.transition_seconds = 3600  # STOPPING / BOOTING until the test moves the clock

    def status() -> str:
        return call(client, models, "DescribeInstancesStatus", instanceIds=[web]).dataSet[0].instanceStatus

    answer = call(client, models, "StopInstances", instanceIds=[web], forceShutdown=False)
    assert answer.requestId
    assert status() == "STOPPING"
    emulator.backend.advance(3600)
    wait_for(lambda: status() == "STOPPED")
    call(client, models, "StartInstances", instanceIds=[web])
    assert status() == "BOOTING"
    emulator.backend.advance(3600)
    wait_for(lambda: status() == "RUNNING")


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_images_public_everywhere_custom_per_zone(emulator, version):
    client, models = sdk(emulator, version)
    hkg = call(client, models, "DescribeImages", zoneId="HKG-A", pageSize=100)
    sin = call(client, models, "DescribeImages", zoneId="SIN-E", pageSize=100)
    public = {i.imageId for i in hkg.dataSet if i.imageType == "PUBLIC_IMAGE"}
    assert public and public == {i.imageId for i in sin.dataSet if i.imageType == "PUBLIC_IMAGE"}
    assert [i.imageName for i in hkg.dataSet if i.imageType == "CUSTOM_IMAGE"] == ["web-golden-2025"]
    assert all(isinstance(i.imageSize, str) and i.imageSize.isdigit() for i in hkg.dataSet)
    custom = call(client, models, "DescribeImages", zoneId="FRA-A", imageType="CUSTOM_IMAGE")
    assert custom.totalCount == 5
    linux = call(client, models, "DescribeImages", zoneId="FRA-A", osType="linux", pageSize=3)
    assert len(linux.dataSet) == 3 and all(i.osType == "linux" for i in linux.dataSet) and linux.totalCount > 3
    windows = call(client, models, "DescribeImages", zoneId="FRA-A", category="Windows")
    assert [i.category for i in windows.dataSet] == ["Windows"]
    named = call(client, models, "DescribeImages", zoneId="FRA-A", imageName="api-release*")
    assert named.totalCount == 5
    by_id = call(client, models, "DescribeImages", zoneId="FRA-A", imageIds=[named.dataSet[0].imageId])
    assert [i.imageName for i in by_id.dataSet] == [named.dataSet[0].imageName]
    other_zone = call(client, models, "DescribeImages", zoneId="HKG-A", imageIds=[named.dataSet[0].imageId])
    assert other_zone.totalCount == 0
    available = call(client, models, "DescribeImages", zoneId="SEL-A", imageStatus="AVAILABLE", imageType="CUSTOM_IMAGE")
    assert available.totalCount == 4


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_image_quota(emulator, version):
    client, models = sdk(emulator, version)
    named = call(client, models, "DescribeImageQuota", zoneIds=["FRA-A", "SEL-A", "HKG-A"])
    assert [(q.zoneId, q.count, q.maxCount) for q in named.images] == [("FRA-A", 5, 5), ("SEL-A", 4, 5), ("HKG-A", 1, 5)]
    every = call(client, models, "DescribeImageQuota")
    zones = [q.zoneId for q in every.images]
    assert "SIN-E" not in zones and "LAX-A" not in zones and {"HKG-A", "SEL-A", "FRA-A"} <= set(zones)
    refused = call(client, models, "DescribeImageQuota", zoneIds=["SIN-E"])
    assert [(q.zoneId, q.count, q.maxCount) for q in refused.images] == [("SIN-E", 0, 0)]


@pytest.mark.parametrize("version", VERSIONS)
def test_create_modify_delete_image(emulator, version):
    client, models = sdk(emulator, version)
    build = instance_id(emulator, "build-hkg-01")
    emulator.backend.transition_seconds = 3600  # CREATING until the test moves the clock
    created = call(client, models, "CreateImage", instanceId=build, imageName="build-base",
                   imageDescription="Build server base")
    assert re.fullmatch(r"img-[A-Za-z0-9]{25}", created.imageId) and created.requestId

    def image():
        return call(client, models, "DescribeImages", zoneId="HKG-A", imageIds=[created.imageId]).dataSet[0]

    first = image()
    assert (first.imageStatus, first.imageType, first.imageSize) == ("CREATING", "CUSTOM_IMAGE", "60")
    assert first.imageDescription == "Build server base" and first.osType == "linux"
    emulator.backend.advance(3600)
    wait_for(lambda: image().imageStatus == "AVAILABLE")
    call(client, models, "ModifyImagesAttributes", imageIds=[created.imageId], imageName="build-base-v2",
         imageDescription="renamed")
    assert (image().imageName, image().imageDescription) == ("build-base-v2", "renamed")
    call(client, models, "DeleteImages", imageIds=[created.imageId])
    assert call(client, models, "DescribeImages", zoneId="HKG-A", imageIds=[created.imageId]).totalCount == 0


def test_sdk_with_a_scheme_in_its_domain_signs_that_host(emulator):
    """The SDK sends ``Host: http://127.0.0.1:PORT`` when its domain has a scheme; it must still verify."""
    client, models = sdk(emulator, domain=emulator.url)
    assert call(client, models, "DescribeImageQuota", zoneIds=["HKG-A"]).images[0].count == 1
    build = instance_id(emulator, "build-hkg-01")
    assert call(client, models, "CreateImage", instanceId=build, imageName="via-scheme").imageId


def test_sdk_sends_unicode_names_escaped_and_they_round_trip(emulator):
    client, models = sdk(emulator)
    build = instance_id(emulator, "build-hkg-01")
    created = call(client, models, "CreateImage", instanceId=build, imageName="镜像-备份_01")
    found = call(client, models, "DescribeImages", zoneId="HKG-A", imageIds=[created.imageId]).dataSet[0]
    assert found.imageName == "镜像-备份_01"
    assert rules.validate_image_name(found.imageName).ok


@pytest.mark.parametrize("version", VERSIONS)
def test_describe_instances_tag_and_address_filters(emulator, version):
    client, models = sdk(emulator, version)
    everything = call(client, models, "DescribeInstances", pageSize=100)
    tagged = call(client, models, "DescribeInstances", tagKeys=["env"], pageSize=100)
    assert tagged.totalCount == everything.totalCount
    prod = models.Tag()
    prod.key, prod.value = "env", "prod"
    production = call(client, models, "DescribeInstances", tags=[prod], pageSize=100)
    assert 0 < production.totalCount < everything.totalCount
    assert all({"key": "env", "value": "prod"} in [vars(t) for t in i.tags.tags] for i in production.dataSet)
    target = everything.dataSet[3]
    by_ip = call(client, models, "DescribeInstances", privateIpAddresses=target.privateIpAddresses)
    assert [i.instanceId for i in by_ip.dataSet] == [target.instanceId]
    assert call(client, models, "DescribeInstances", tagKeys=["no-such-key"]).totalCount == 0
