"""Launching, restoring and the recycle bin on the wire: payloads as the API takes them, typed results (sync and async)."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api import CreateInstancesResult, InstancePrice, InstanceTypeInfo, UnexpectedResponse

from .stub import PASSWORD, fail, ok, paged

PRICE = {"unitPrice": 0.03, "discountUnitPrice": 0.03, "chargeUnit": "HOUR", "discount": 100}


async def test_create_instances_sends_the_sdk_shape_and_returns_the_ids(make_client, stub) -> None:
    client = make_client(stub.on("CreateInstances", ok(orderNumber="42", instanceIdSet=["i-1"])))
    result = await client.create_instances(
        "HKG-A", "z2a.c2m4", "img-1", instance_name="verify-1", password="Launch-Pass-123", subnet_id="subnet-1",
        security_group_id="sg-1", internet_charge_type="ByBandwidth", internet_max_bandwidth_out=10, system_disk_size=40,
        init_script="#!/bin/sh\n", tags={"intent": "op-1"},
    )
    assert result == CreateInstancesResult(instance_ids=("i-1",), order_number="42", request_id="T-CreateInstances-OK")
    assert stub.bodies("CreateInstances") == [{
        "zoneId": "HKG-A", "instanceType": "z2a.c2m4", "imageId": "img-1", "instanceName": "verify-1", "instanceCount": 1,
        "subnetId": "subnet-1", "securityGroupId": "sg-1", "initScript": "#!/bin/sh\n",
        "tags": {"tags": [{"key": "intent", "value": "op-1"}]}, "instanceChargeType": "POSTPAID",
        "internetChargeType": "ByBandwidth", "internetMaxBandwidthOut": 10, "systemDisk": {"diskSize": 40},
        "password": "Launch-Pass-123",
    }]


async def test_create_instances_prepaid_sends_the_period(make_client, stub) -> None:
    client = make_client(stub.on("CreateInstances", ok(orderNumber="1", instanceIdSet=["i-1", "i-2"])))
    result = await client.create_instances("HKG-A", "z2a.c1m2", "img-1", key_id="key-1", instance_count=2,
                                           instance_charge_type="PREPAID", period=3)
    assert result.instance_ids == ("i-1", "i-2")
    (body,) = stub.bodies()
    assert body["instanceChargePrepaid"] == {"period": 3} and body["keyId"] == "key-1" and "password" not in body


@pytest.mark.parametrize(("kwargs", "error"), [
    ({}, ValueError),  # neither password nor key_id
    ({"password": "x-12345678", "key_id": "key-1"}, ValueError),
    ({"key_id": "key-1", "instance_charge_type": "MONTHLY"}, ValueError),
    ({"key_id": "key-1", "instance_charge_type": "PREPAID"}, ValueError),  # no period
    ({"key_id": "key-1", "instance_count": 0}, ValueError),
    ({"key_id": "key-1", "tags": [("intent", "x")]}, TypeError),
    ({"key_id": "key-1", "internet_charge_type": "ByTheByte"}, ValueError),
])
async def test_create_instances_refuses_bad_arguments_before_sending(make_client, stub, kwargs, error) -> None:
    client = make_client(stub)
    with pytest.raises(error):
        await client.create_instances("HKG-A", "z2a.c1m2", "img-1", **kwargs)
    assert stub.requests == []


async def test_a_password_never_appears_in_an_argument_error(make_client, stub) -> None:
    client = make_client(stub)
    with pytest.raises(ValueError) as info:
        await client.create_instances("HKG-A", "z2a.c1m2", "img-1", password=PASSWORD, key_id="key-1")
    assert PASSWORD not in str(info.value)


async def test_create_instances_is_not_retried_after_a_5xx(make_client, stub) -> None:
    client = make_client(stub.on("CreateInstances", fail(500, "INTERNAL_SERVER_ERROR"), ok(instanceIdSet=["i-1"])))
    with pytest.raises(Exception, match="INTERNAL_SERVER_ERROR"):
        await client.create_instances("HKG-A", "z2a.c1m2", "img-1", key_id="key-1")
    assert stub.actions() == ["CreateInstances"]


async def test_create_instances_without_ids_is_unexpected(make_client, stub) -> None:
    client = make_client(stub.on("CreateInstances", ok(orderNumber="1")))
    with pytest.raises(UnexpectedResponse):
        await client.create_instances("HKG-A", "z2a.c1m2", "img-1", key_id="key-1")


async def test_zone_instance_config_infos(make_client, stub) -> None:
    item = {"zoneId": "FRA-A", "instanceType": "z2a.c2m4", "cpuCount": 2, "memory": 4, "frequency": "2.5GHz",
            "internetMaxBandwidthOutLimit": 1000, "instanceTypeName": "2 vCPU 4 GiB", "internetChargeTypes": ["ByBandwidth"],
            "newField": True}
    client = make_client(stub.on("DescribeZoneInstanceConfigInfos", ok(instanceTypeQuotaSet=[item])))
    (info,) = await client.describe_zone_instance_config_infos(zone_id="FRA-A", instance_charge_type="POSTPAID")
    assert info == InstanceTypeInfo(zone_id="FRA-A", instance_type="z2a.c2m4", cpu_count=2, memory=4, frequency="2.5GHz",
                                    internet_max_bandwidth_out_limit=1000, instance_type_name="2 vCPU 4 GiB",
                                    internet_charge_types=("ByBandwidth",))
    assert stub.bodies() == [{"zoneId": "FRA-A", "instanceChargeType": "POSTPAID"}]


async def test_inquiry_price_reads_the_hourly_price_and_is_retried_like_a_read(make_client, stub) -> None:
    answer = ok(instancePrice=PRICE, bandwidthPrice=[{**PRICE, "unitPrice": 0.002, "discountUnitPrice": 0.002}],
                eipPrice={**PRICE, "unitPrice": 0.0, "discountUnitPrice": 0.0},
                systemDiskPrice={**PRICE, "unitPrice": 0.004, "discountUnitPrice": 0.004})
    client = make_client(stub.on("InquiryPriceCreateInstance", fail(503, "INTERNAL_SERVER_ERROR"), answer))
    price = await client.inquiry_price_create_instance("HKG-A", "z2a.c2m4", system_disk_size=40)
    assert isinstance(price, InstancePrice)
    assert price.instance_price.unit_price == 0.03 and price.instance_price.charge_unit == "HOUR"
    assert price.hourly_total == pytest.approx(0.036)
    assert stub.actions() == ["InquiryPriceCreateInstance"] * 2
    assert stub.bodies()[0] == {"zoneId": "HKG-A", "instanceType": "z2a.c2m4", "instanceChargeType": "POSTPAID",
                                "systemDisk": {"diskSize": 40}}


async def test_reset_terminate_release(make_client, stub) -> None:
    client = make_client(stub.on("ResetInstance", ok()).on("TerminateInstance", ok()).on("ReleaseInstances", ok(), ok()))
    assert await client.reset_instance("i-1", "img-2", key_id="key-1") == "T-ResetInstance-OK"
    assert await client.terminate_instance("i-1") == "T-TerminateInstance-OK"
    ids = [f"i-{n}" for n in range(150)]
    assert await client.release_instances(ids) == ["T-ReleaseInstances-OK"] * 2
    bodies = stub.bodies()
    assert bodies[0] == {"instanceId": "i-1", "imageId": "img-2", "keyId": "key-1"}
    assert bodies[1] == {"instanceId": "i-1"}
    assert [len(b["instanceIds"]) for b in bodies[2:]] == [100, 50]


async def test_reset_instance_needs_exactly_one_login(make_client, stub) -> None:
    client = make_client(stub)
    with pytest.raises(ValueError, match="exactly one"):
        await client.reset_instance("i-1", "img-2")
    assert stub.requests == []


async def test_describe_instances_by_image_and_tags_sends_the_flat_list(make_client, stub) -> None:
    row = {"instanceId": "i-1", "instanceName": "v", "zoneId": "HKG-A", "instanceStatus": "RUNNING", "imageId": "img-1",
           "subnetId": "subnet-1", "securityGroupIds": ["sg-1"], "internetChargeType": "ByBandwidth", "internetMaxBandwidthOut": 10,
           "tags": {"tags": [{"key": "intent", "value": "op-1"}]}}
    client = make_client(stub.on("DescribeInstances", paged([row])))
    page = await client.describe_instances(image_id="img-1", tags={"intent": "op-1"}, tag_keys=["intent"])
    (instance,) = page.items
    assert instance.tags == {"intent": "op-1"} and instance.image_id == "img-1"
    assert (instance.subnet_id, instance.security_group_ids, instance.internet_max_bandwidth_out) == ("subnet-1", ("sg-1",), 10)
    body = stub.bodies()[0]
    assert body["tags"] == [{"key": "intent", "value": "op-1"}] and body["imageId"] == "img-1" and body["tagKeys"] == ["intent"]


async def test_describe_instances_refuses_tags_that_are_not_a_mapping(make_client, stub) -> None:
    client = make_client(stub)
    with pytest.raises(TypeError, match="tags"):
        await client.describe_instances(tags="intent=op-1")
    assert stub.requests == []
