"""The snake_case operations: wire payloads, typed results, page walking and id chunking (sync and async)."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api import CreateImageResult, Image, ImageQuota, Instance, InstanceStatus, Page, UnexpectedResponse, Zone

from .stub import ok, paged


def instances(count: int) -> list[dict]:
    return [
        {"instanceId": f"i-{n:04d}", "instanceName": f"web-{n}", "zoneId": "FRA-A", "instanceStatus": "RUNNING",
         "systemDisk": {"diskId": f"d-{n}", "diskSize": 40}, "futureField": n}
        for n in range(count)
    ]


async def test_headers_and_endpoint(make_client, stub) -> None:
    client = make_client(stub.on("DescribeZones", ok(zoneSet=[])), api_version="2026-04-01")
    await client.describe_zones()
    request = stub.requests[0]
    assert request.method == "POST" and str(request.url) == "https://api.test:8443/api/v2/vm"
    assert request.headers["x-zc-action"] == "DescribeZones"
    assert request.headers["x-zc-version"] == "2026-04-01"
    assert request.headers["x-zc-service"] == "vm"
    assert request.headers["content-type"] == "application/json"
    assert request.content == b"{}"


async def test_call_returns_the_inner_response(make_client, stub) -> None:
    client = make_client(stub.on("DescribeVncUrl", ok(url="vnc://x")))
    answer = await client.call("DescribeVncUrl", {"instanceId": "i-1"})
    assert answer == {"requestId": "T-DescribeVncUrl-OK", "url": "vnc://x"}
    assert stub.bodies() == [{"instanceId": "i-1"}]


async def test_describe_zones(make_client, stub) -> None:
    zone = {"zoneId": "FRA-A", "zoneName": "Frankfurt A", "supportIpv6": True, "networkLineType": "BGP", "brandNew": 1}
    client = make_client(stub.on("DescribeZones", ok(zoneSet=[zone])))
    zones = await client.describe_zones(["FRA-A"])
    assert zones == [Zone(zone_id="FRA-A", zone_name="Frankfurt A", support_ipv6=True, network_line_type="BGP")]
    # an unknown field is skipped, not an error; the raw answer still has it
    assert (await client.call("DescribeZones", {"zoneIds": ["FRA-A"]}))["zoneSet"][0]["brandNew"] == 1
    assert stub.bodies() == [{"zoneIds": ["FRA-A"]}] * 2


async def test_describe_instances_one_page_with_filters(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", paged(instances(45))))
    page = await client.describe_instances(zone_id="FRA-A", instance_name="web-*", page_num=2, page_size=20,
                                           resource_group_id="rg-1", tag_keys=["env"])
    assert isinstance(page, Page) and page.total_count == 45 and len(page) == 20
    assert [i.instance_id for i in page][:2] == ["i-0020", "i-0021"]
    assert isinstance(page.items[0], Instance) and page.items[0].system_disk_size == 40
    assert page.items[0].system_disk_id == "d-20"  # systemDisk flattened; the unknown futureField is skipped
    assert stub.bodies() == [{"zoneId": "FRA-A", "instanceName": "web-*", "resourceGroupId": "rg-1", "tagKeys": ["env"],
                              "pageNum": 2, "pageSize": 20}]


async def test_list_instances_walks_every_page(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", paged(instances(2345))))
    listed = await client.list_instances(instance_status="RUNNING")
    assert [i.instance_id for i in listed] == [f"i-{n:04d}" for n in range(2345)]
    assert [(b["pageNum"], b["pageSize"], b["instanceStatus"]) for b in stub.bodies()] == [
        (1, 1000, "RUNNING"), (2, 1000, "RUNNING"), (3, 1000, "RUNNING")]
    assert client.request_count == 3


async def test_list_instances_with_an_exact_multiple_stops_without_an_extra_request(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", paged(instances(40))))
    assert len(await client.list_instances(page_size=20)) == 40
    assert client.request_count == 2


async def test_a_server_that_clamps_page_size_is_still_walked_to_the_end(make_client, stub) -> None:
    """Whether pageSize over the maximum is clamped is undocumented: walking follows totalCount, not page length."""
    rows = instances(250)

    def clamping(request):
        from .stub import body_of

        body = body_of(request)
        start = (body["pageNum"] - 1) * 100
        return ok(dataSet=rows[start:start + 100], totalCount=250)(request)

    client = make_client(stub.on("DescribeInstances", clamping))
    assert len(await client.list_instances()) == 250


async def test_a_server_ignoring_page_num_does_not_loop_forever(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", ok(dataSet=instances(20), totalCount=500)))
    assert len(await client.list_instances(page_size=20)) == 20
    assert client.request_count == 2


async def test_list_instances_chunks_ids_by_100(make_client, stub) -> None:
    rows = instances(250)
    ids = [row["instanceId"] for row in rows]
    client = make_client(stub.on("DescribeInstances", paged(rows)))
    listed = await client.list_instances(instance_ids=ids + ids[:5], zone_id="FRA-A")  # duplicates are sent once
    assert [i.instance_id for i in listed] == ids
    sent = stub.bodies()
    assert [len(body["instanceIds"]) for body in sent] == [100, 100, 50]
    assert sum((body["instanceIds"] for body in sent), []) == ids
    assert all(body["zoneId"] == "FRA-A" for body in sent)


async def test_describe_instances_refuses_more_than_100_ids(make_client, stub) -> None:
    client = make_client(stub)
    with pytest.raises(ValueError, match="list_"):
        await client.describe_instances(instance_ids=[f"i-{n}" for n in range(101)])
    assert stub.requests == []


@pytest.mark.parametrize(
    ("method", "args"),
    [("describe_instances", {"instance_ids": []}), ("list_instances", {"instance_ids": []}),
     ("describe_instances_status", {"instance_ids": []}), ("list_instance_statuses", {"instance_ids": []}),
     ("describe_zones", {"zone_ids": []}), ("describe_image_quota", {"zone_ids": []}),
     ("start_instances", {"instance_ids": []}), ("stop_instances", {"instance_ids": []}),
     ("delete_images", {"image_ids": []}), ("list_images", {"zone_id": "FRA-A", "image_ids": []})],
)
async def test_an_empty_id_list_sends_nothing(make_client, stub, method, args) -> None:
    """An empty filter would mean "everything" to the API; an empty list means nothing here."""
    client = make_client(stub)
    result = await getattr(client, method)(**args)
    assert len(result) == 0
    assert stub.requests == []


@pytest.mark.parametrize(("page_num", "page_size"), [(0, 20), (1, 0), (1, 1001), (-1, 10)])
async def test_paging_arguments_are_checked_before_sending(make_client, stub, page_num, page_size) -> None:
    client = make_client(stub)
    with pytest.raises(ValueError):
        await client.describe_instances(page_num=page_num, page_size=page_size)
    assert stub.requests == []


async def test_a_bare_string_is_not_taken_for_a_list_of_ids(make_client, stub) -> None:
    client = make_client(stub)
    with pytest.raises(TypeError, match="single string"):
        await client.start_instances("i-1234")
    assert stub.requests == []


async def test_statuses(make_client, stub) -> None:
    rows = [{"instanceId": f"i-{n:04d}", "instanceStatus": "STOPPED" if n % 2 else "RUNNING"} for n in range(1500)]
    client = make_client(stub.on("DescribeInstancesStatus", paged(rows)))
    page = await client.describe_instances_status(["i-0001", "i-0002"])
    assert list(page) == [InstanceStatus("i-0001", "STOPPED"), InstanceStatus("i-0002", "RUNNING")]
    everything = await client.list_instance_statuses()
    assert len(everything) == 1500 and everything[1] == InstanceStatus("i-0001", "STOPPED")
    chosen = await client.list_instance_statuses([row["instanceId"] for row in rows[:150]])
    assert len(chosen) == 150
    assert [len(b.get("instanceIds", [])) for b in stub.bodies()] == [2, 0, 0, 100, 50]


async def test_start_and_stop_send_one_request_per_100_ids(make_client, stub) -> None:
    client = make_client(stub.on("StartInstances", ok()).on("StopInstances", ok()))
    ids = [f"i-{n}" for n in range(201)]
    assert await client.start_instances(ids) == ["T-StartInstances-OK"] * 3
    assert await client.stop_instances(ids[:3], force_shutdown=False) == ["T-StopInstances-OK"]
    await client.stop_instances(ids[:1])
    bodies = stub.bodies()
    assert [len(b["instanceIds"]) for b in bodies[:3]] == [100, 100, 1]
    assert bodies[3] == {"instanceIds": ["i-0", "i-1", "i-2"], "forceShutdown": False}
    assert bodies[4] == {"instanceIds": ["i-0"]}  # no forceShutdown: the API's default


async def test_images_carry_their_zone(make_client, stub) -> None:
    rows = [{"imageId": f"img-{n}", "imageName": f"n{n}", "imageType": "CUSTOM_IMAGE", "imageSize": "30",
             "imageStatus": "AVAILABLE", "osType": "linux"} for n in range(1205)]
    client = make_client(stub.on("DescribeImages", paged(rows)))
    page = await client.describe_images("FRA-A", image_type="CUSTOM_IMAGE", os_type="linux", page_size=3)
    assert [image.zone_id for image in page] == ["FRA-A"] * 3
    assert page.items[0] == Image(image_id="img-0", image_name="n0", image_type="CUSTOM_IMAGE", image_status="AVAILABLE",
                                  image_size=30, os_type="linux", zone_id="FRA-A")
    listed = await client.list_images("SEL-A", image_status="AVAILABLE")
    assert len(listed) == 1205 and {image.zone_id for image in listed} == {"SEL-A"}
    assert stub.bodies()[0] == {"zoneId": "FRA-A", "imageType": "CUSTOM_IMAGE", "osType": "linux", "pageNum": 1, "pageSize": 3}
    assert [b["pageSize"] for b in stub.bodies()[1:]] == [1000, 1000]


async def test_describe_images_needs_a_zone(make_client, stub) -> None:
    with pytest.raises(ValueError, match="zone_id"):
        await make_client(stub).describe_images("")


async def test_quota_create_delete_modify(make_client, stub) -> None:
    stub.on("DescribeImageQuota", ok(images=[{"zoneId": "FRA-A", "count": 2, "maxCount": 5}]))
    stub.on("CreateImage", ok(imageId="img-new"))
    stub.on("DeleteImages", ok())
    stub.on("ModifyImagesAttributes", ok())
    client = make_client(stub)
    assert await client.describe_image_quota(["FRA-A"]) == [ImageQuota("FRA-A", 2, 5)]
    assert await client.create_image("i-1", "镜像_backup-1") == CreateImageResult("img-new", "T-CreateImage-OK")
    assert await client.create_image("i-1", "b", "why") == CreateImageResult("img-new", "T-CreateImage-OK")
    assert await client.delete_images(["img-1", "img-2"]) == ["T-DeleteImages-OK"]
    assert await client.modify_images_attributes(["img-1"], image_description="") == ["T-ModifyImagesAttributes-OK"]
    assert stub.bodies() == [
        {"zoneIds": ["FRA-A"]},
        {"instanceId": "i-1", "imageName": "镜像_backup-1"},
        {"instanceId": "i-1", "imageName": "b", "imageDescription": "why"},
        {"imageIds": ["img-1", "img-2"]},
        {"imageIds": ["img-1"], "imageDescription": ""},
    ]
    assert "镜像".encode() in stub.requests[1].content  # UTF-8 on the wire, not \\u escapes
    with pytest.raises(ValueError):
        await client.modify_images_attributes(["img-1"])


async def test_create_image_without_an_image_id_is_unexpected(make_client, stub) -> None:
    client = make_client(stub.on("CreateImage", ok()))
    with pytest.raises(UnexpectedResponse) as caught:
        await client.create_image("i-1", "x")
    assert caught.value.outcome_unknown and caught.value.request_id == "T-CreateImage-OK"


async def test_list_images_refuses_an_unknown_filter(make_client, stub) -> None:
    with pytest.raises(TypeError, match="image_status"):
        await make_client(stub).list_images("FRA-A", status="AVAILABLE")
    assert stub.requests == []
