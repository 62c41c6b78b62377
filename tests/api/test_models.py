"""Answers decoded straight into the typed models: lenient where the API is, precise where it is wrong."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api import Image, Instance, UnexpectedResponse, Zone

from .stub import ok, raw


async def test_nulls_numbers_in_strings_and_unknown_fields(make_client, stub) -> None:
    row = {"instanceId": "i-1", "instanceName": None, "zoneId": "FRA-A", "instanceStatus": None, "cpuCount": "4",
           "publicIpAddresses": None, "systemDisk": {"diskId": "d-1", "diskSize": "40", "diskCategory": "SSD"},
           "brandNewField": {"nested": [1, 2]}}
    client = make_client(stub.on("DescribeInstances", ok(dataSet=[row], totalCount="1")))
    page = await client.describe_instances()
    assert page.total_count == 1
    assert page.items == (Instance("i-1", "", "FRA-A", "", cpu_count=4, system_disk_size=40, system_disk_id="d-1",
                                   system_disk_category="SSD"),)
    assert page.items[0].public_ip_addresses == () and page.items[0].system_disk is None


async def test_an_image_size_that_is_not_a_number_is_unknown(make_client, stub) -> None:
    rows = [{"imageId": "img-1", "imageSize": "30"}, {"imageId": "img-2", "imageSize": "n/a"}, {"imageId": "img-3"}]
    client = make_client(stub.on("DescribeImages", ok(dataSet=rows, totalCount=3)))
    assert [image.image_size for image in await client.describe_images("FRA-A")] == [30, None, None]
    assert Image.from_wire({"imageId": "img-4", "imageSize": "8"}, zone_id="SEL-A") == Image("img-4", image_size=8, zone_id="SEL-A")
    assert Zone.from_wire({"zoneId": "SEL-A", "zoneName": None, "later": 1}) == Zone("SEL-A")


async def test_a_wrong_type_names_the_field(make_client, stub) -> None:
    rows = [{"instanceId": "i-1", "cpuCount": "four"}]
    client = make_client(stub.on("DescribeInstances", ok(dataSet=rows, totalCount=1)), max_throttle_retries=0)
    with pytest.raises(UnexpectedResponse) as caught:
        await client.describe_instances()
    assert "dataSet[0].cpuCount" in str(caught.value) and caught.value.request_id == "T-DescribeInstances-OK"


@pytest.mark.parametrize("number", ["NaN", "Infinity", "-Infinity", "1e999"])
async def test_non_finite_numbers_are_refused(make_client, stub, number) -> None:
    body = f'{{"requestId": "T-X", "response": {{"requestId": "T-X", "dataSet": [], "totalCount": {number}}}}}'
    client = make_client(stub.on("DescribeInstances", raw(200, body, "application/json")).on("DescribeVncUrl", raw(200, body, "application/json")),
                         max_throttle_retries=0)
    for call in (client.describe_instances(), client.call("DescribeVncUrl")):
        with pytest.raises(UnexpectedResponse):
            await call


# -- pages kept as sent (``keep_raw``) and recognised when they come back unchanged (``known``) --------------
ROW = {"instanceId": "i-1", "instanceName": "web", "zoneId": "FRA-A", "instanceStatus": "RUNNING", "cpuCount": 4}


async def test_a_page_that_comes_back_byte_for_byte_keeps_its_models(make_client, stub) -> None:
    stopped = {**ROW, "instanceStatus": "STOPPED"}
    client = make_client(stub.on("DescribeInstances", ok(dataSet=[ROW], totalCount=1), ok(dataSet=[ROW], totalCount=1),
                                 ok(dataSet=[stopped], totalCount=1)))
    first = await client.describe_instances(page_size=1000, keep_raw=True)
    assert first.raw is not None and b'"instanceId":"i-1"' in first.raw.replace(b" ", b"")
    again = await client.describe_instances(page_size=1000, known=first)
    assert again.items is first.items and again.raw == first.raw  # not decoded again
    changed = await client.describe_instances(page_size=1000, known=again)
    assert changed.items is not first.items and changed.items[0].instance_status == "STOPPED"  # one byte differs: decoded
    assert (await client.describe_instances(page_size=1000)).raw is None  # kept only when asked


async def test_a_kept_page_that_does_not_fit_names_the_field(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", ok(dataSet=[{"instanceId": "i-1", "cpuCount": "four"}], totalCount=1),
                                 ok(dataSet=5, totalCount=1)), max_throttle_retries=0)
    with pytest.raises(UnexpectedResponse) as caught:
        await client.describe_instances(keep_raw=True)
    assert "dataSet[0].cpuCount" in str(caught.value) and caught.value.request_id == "T-DescribeInstances-OK"
    with pytest.raises(UnexpectedResponse, match="at `dataSet`"):
        await client.describe_instances(keep_raw=True)
