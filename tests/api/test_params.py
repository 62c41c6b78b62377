"""None, bytes or a list where an id or a name goes: a plain TypeError/ValueError naming the parameter,
raised before anything is sent (not a JSON-encoding error or an AttributeError from deep inside)."""

from __future__ import annotations

import pytest

from .stub import ok

CALLS = [
    pytest.param("create_image", (b"i-1", "backup"), {}, TypeError, "instance_id must be a string, not bytes", id="create-bytes-id"),
    pytest.param("create_image", (["i-1"], "backup"), {}, TypeError, "instance_id must be a string, not a list", id="create-list-id"),
    pytest.param("create_image", (None, "backup"), {}, ValueError, "instance_id is required", id="create-none-id"),
    pytest.param("create_image", ("  ", "backup"), {}, ValueError, "instance_id must not be empty or blank", id="create-blank-id"),
    pytest.param("create_image", ("i-1", None), {}, TypeError, "image_name must be a string, not None", id="create-none-name"),
    pytest.param("create_image", ("i-1", b"backup"), {}, TypeError, "decode it first", id="create-bytes-name"),
    pytest.param("create_image", ("i-1", "backup", ["d"]), {}, TypeError, "image_description must be a string", id="create-list-desc"),
    pytest.param("start_instances", (None,), {}, TypeError, "instance_ids must be a list of strings, not None", id="start-none"),
    pytest.param("stop_instances", ([b"i-1"],), {}, TypeError, "instance_ids must be non-empty strings; item 0 is bytes",
                 id="stop-bytes-item"),
    pytest.param("delete_images", ([["img-1"]],), {}, TypeError, "item 0 is a list", id="delete-nested-list"),
    pytest.param("delete_images", ("img-1",), {}, TypeError, "not a single string", id="delete-single-string"),
    pytest.param("describe_images", (b"FRA-A",), {}, TypeError, "zone_id must be a string, not bytes", id="images-bytes-zone"),
    pytest.param("describe_images", ("FRA-A",), {"image_name": b"x"}, TypeError, "image_name must be a string", id="images-filter"),
    pytest.param("list_images", (["FRA-A"],), {}, TypeError, "zone_id must be a string, not a list", id="list-images-zone"),
    pytest.param("list_instances", (), {"zone_id": ["FRA-A"]}, TypeError, "zone_id must be a string, not a list", id="instances-zone"),
    pytest.param("describe_instances", (), {"instance_name": b"web"}, TypeError, "instance_name must be a string",
                 id="instances-name"),
    pytest.param("describe_zones", (b"FRA-A",), {}, TypeError, "zone_ids must be a list of strings", id="zones-bytes"),
    pytest.param("describe_image_quota", (5,), {}, TypeError, "zone_ids must be a list of strings, not int", id="quota-int"),
    pytest.param("modify_images_attributes", (["img-1"],), {"image_name": b"x"}, TypeError, "image_name must be a string",
                 id="modify-bytes-name"),
]


@pytest.mark.parametrize(("method", "args", "kwargs", "error", "said"), CALLS)
async def test_wrong_types_for_ids_and_names_are_refused_by_name(make_client, stub, method, args, kwargs, error, said) -> None:
    client = make_client(stub.on(method, ok()))
    with pytest.raises(error) as caught:
        await getattr(client, method)(*args, **kwargs)
    assert said in str(caught.value)
    assert stub.requests == []


@pytest.mark.parametrize("client_class", ["ZenlayerClient", "AsyncZenlayerClient"])
@pytest.mark.parametrize(("name", "value", "error"), [
    pytest.param("timeout", float("nan"), "BadArgument", id="timeout-nan"),
    pytest.param("timeout", float("inf"), "BadArgument", id="timeout-inf"),
    pytest.param("timeout", 0, "BadArgument", id="timeout-zero"),
    pytest.param("timeout", -1, "BadArgument", id="timeout-negative"),
    pytest.param("timeout", "10", "BadArgumentType", id="timeout-text"),
    pytest.param("deadline", float("inf"), "BadArgument", id="deadline-inf"),
])
def test_a_client_refuses_a_non_finite_or_non_positive_timeout_at_construction(client_class, name, value, error) -> None:
    """``timeout=nan`` used to make a client that failed at its first call; now the constructor says which argument."""
    from zenlayer_widgets.api import client, params
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.api.errors import ZenlayerError

    with pytest.raises(getattr(params, error), match=name) as caught:
        getattr(client, client_class)(Credentials("AKID", "secret"), base_url="https://console.zenlayer.test",
                                      **{name: value})
    assert isinstance(caught.value, ZenlayerError)
