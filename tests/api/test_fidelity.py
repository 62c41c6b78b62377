"""What real answers do that the reference does not show: dotted codes, an outer-only requestId,
``totalCount: 0`` beside full pages, DescribeImage; and filter names we do not know are refused."""

from __future__ import annotations

import httpx
import pytest

from zenlayer_widgets.api import InvalidParameter, InvalidState, NotFound, QuotaExceeded

from .stub import fail, ok, paged
from .test_operations import instances


@pytest.mark.parametrize(("code", "status", "kind"), [
    ("Invalid.Image.Not.Found", 404, NotFound),
    ("Invalid.Instance.Not.Found", 400, NotFound),
    ("Limit.Exceeded.Image.Quota", 400, QuotaExceeded),
    ("Unsupported.Operation.Instance.State.Starting", 400, InvalidState),
    ("Invalid.Parameter", 400, InvalidParameter),
])
async def test_dotted_error_codes_map_to_the_right_class(make_client, stub, code, status, kind) -> None:
    client = make_client(stub.on("DeleteImages", fail(status, code)))
    with pytest.raises(kind) as caught:
        await client.delete_images(["img-1"])
    assert caught.value.code == code  # the code as the server sent it


async def test_the_outer_request_id_stands_in_for_a_missing_inner_one(make_client, stub) -> None:
    reply = lambda request: httpx.Response(200, json={"requestId": "T-OUTER", "response": {"imageId": "img-9"}})  # noqa: E731
    client = make_client(stub.on("CreateImage", reply))
    assert (await client.create_image("i-1", "name")).request_id == "T-OUTER"


async def test_paging_goes_on_when_total_count_is_zero_beside_full_pages(make_client, stub) -> None:
    client = make_client(stub.on("DescribeInstances", paged(instances(2500), total=0)))
    found = await client.list_instances()
    assert len(found) == 2500 and len(stub.requests) == 3
    page = await client.describe_instances(page_size=10)
    assert page.total_count == 10  # not 0: at least what came back


@pytest.mark.parametrize("call", ["describe_instances", "list_instances"])
async def test_an_unknown_instance_filter_is_refused_before_sending(make_client, stub, call) -> None:
    client = make_client(stub.on("DescribeInstances", paged(instances(3))))
    with pytest.raises(TypeError, match=r"unknown instance filter\(s\) \['zone'\].*zone_id"):
        await getattr(client, call)(zone="FRA-A")
    assert stub.requests == []
    assert len(await getattr(client, call)(image_id="img-1")) == 3  # a known filter goes through


async def test_describe_image(make_client, stub) -> None:
    wire = {"imageId": "img-1", "imageName": "web", "imageType": "CUSTOM_IMAGE", "imageStatus": "UNAVAILABLE",
            "imageSize": "40", "zoneId": "HKG-A"}
    client = make_client(stub.on("DescribeImage", ok(**wire)))
    image = await client.describe_image("img-1")
    assert (image.image_id, image.image_status, image.image_size, image.zone_id) == ("img-1", "UNAVAILABLE", 40, "HKG-A")
    assert stub.bodies() == [{"imageId": "img-1"}]
    with pytest.raises(ValueError):
        await client.describe_image("")
