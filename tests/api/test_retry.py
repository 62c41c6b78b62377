"""Throttling is retried with bounded, jittered backoff; changes are never repeated blindly."""

from __future__ import annotations

import logging

import httpx
import pytest

from zenlayer_widgets.api import ConnectError, NotFound, OutcomeUnknown, RateLimited, RetryPolicy, ServerError, UnexpectedResponse
from zenlayer_widgets.api.retry import RetryState

from .stub import boom, fail, ok, raw

THROTTLED = fail(429, "REQUEST_LIMIT_EXCEEDED", "slow down")


@pytest.mark.parametrize("action", ["DescribeZones", "CreateImage", "StartInstances", "DeleteImages"])
async def test_throttling_is_retried_for_every_action_then_succeeds(make_client, stub, caplog, action) -> None:
    caplog.set_level(logging.WARNING, logger="zenlayer_widgets.api")
    client = make_client(stub.on(action, THROTTLED, THROTTLED, THROTTLED, ok(imageId="img-1", zoneSet=[])))
    answer = await client.call(action, {})
    assert answer["requestId"] == f"T-{action}-OK"
    assert client.request_count == 4
    assert len(client.sleeps) == 3
    for index, delay in enumerate(client.sleeps):  # full jitter: anywhere from 0 to the exponential cap
        assert 0 <= delay <= 0.5 * 2**index
    warnings = [r for r in caplog.records if r.name == "zenlayer_widgets.api" and r.levelno == logging.WARNING]
    assert len(warnings) == 3 and all(action in r.getMessage() and "REQUEST_LIMIT_EXCEEDED" in r.getMessage() for r in warnings)


async def test_a_non_json_429_is_throttling_too(make_client, stub) -> None:
    client = make_client(stub.on("CreateImage", raw(429, "<html>Too Many Requests</html>"), ok(imageId="img-1")))
    assert (await client.create_image("i-1", "n")).image_id == "img-1"
    assert client.request_count == 2


async def test_exhausted_throttling_raises_rate_limited(make_client, stub) -> None:
    client = make_client(stub.on("DescribeImages", THROTTLED), max_throttle_retries=3)
    with pytest.raises(RateLimited) as caught:
        await client.describe_images("FRA-A")
    assert caught.value.code == "REQUEST_LIMIT_EXCEEDED" and caught.value.http_status == 429
    assert caught.value.action == "DescribeImages" and not caught.value.outcome_unknown
    assert client.request_count == 4 and len(client.sleeps) == 3


async def test_throttling_retries_fit_in_the_time_budget(make_client, stub) -> None:
    client = make_client(stub.on("DescribeZones", THROTTLED), max_throttle_retries=50, throttle_budget_seconds=5.0)
    with pytest.raises(RateLimited):
        await client.describe_zones()
    assert sum(client.sleeps) <= 5.0 + 1e-9
    assert client.request_count == len(client.sleeps) + 1 < 51


async def test_retry_after_is_honoured_within_the_budget(make_client, stub) -> None:
    slow = raw(429, '{"code": "REQUEST_LIMIT_EXCEEDED", "message": "x"}', "application/json", headers={"Retry-After": "3"})
    client = make_client(stub.on("DescribeZones", slow, ok(zoneSet=[])))
    await client.describe_zones()
    assert client.sleeps[0] >= 3
    beyond = make_client(stub.on("DescribeZones", slow), throttle_budget_seconds=2)
    with pytest.raises(RateLimited):
        await beyond.describe_zones()
    assert beyond.sleeps == []  # waiting as asked would break the budget: give up at once


@pytest.mark.parametrize(
    "failure",
    [fail(500, "INTERNAL_SERVER_ERROR"), raw(502, "<html>bad gateway</html>"), fail(503, "SERVICE_TEMPORARY_UNAVAILABLE"),
     boom(httpx.ReadTimeout), boom(httpx.RemoteProtocolError), boom(httpx.WriteError)],
    ids=["500", "html-502", "503", "read-timeout", "dropped", "write-error"],
)
@pytest.mark.parametrize(
    ("action", "method", "args"),
    [("CreateImage", "create_image", ("i-1", "name")), ("StartInstances", "start_instances", (["i-1"],)),
     ("StopInstances", "stop_instances", (["i-1"],)), ("DeleteImages", "delete_images", (["img-1"],)),
     ("ModifyImagesAttributes", "modify_images_attributes", (["img-1"], "n"))],
)
async def test_changes_are_never_retried_after_5xx_or_timeouts(make_client, stub, failure, action, method, args) -> None:
    client = make_client(stub.on(action, failure, ok(imageId="img-2")))
    with pytest.raises((ServerError, UnexpectedResponse, OutcomeUnknown)) as caught:
        await getattr(client, method)(*args)
    assert caught.value.outcome_unknown  # the caller must reconcile
    assert stub.actions() == [action] and client.sleeps == []


@pytest.mark.parametrize(
    "failure",
    [fail(500, "INTERNAL_SERVER_ERROR"), raw(504, "<html>timeout</html>"), boom(httpx.ReadTimeout), boom(httpx.RemoteProtocolError)],
    ids=["500", "html-504", "read-timeout", "dropped"],
)
async def test_reads_are_retried_after_5xx_or_timeouts(make_client, stub, failure) -> None:
    client = make_client(stub.on("DescribeImageQuota", failure, failure, ok(images=[])))
    assert await client.describe_image_quota() == []
    assert client.request_count == 3 and len(client.sleeps) == 2
    stubborn = make_client(stub.on("DescribeImageQuota", failure))
    with pytest.raises((ServerError, UnexpectedResponse, OutcomeUnknown)):
        await stubborn.describe_image_quota()
    assert stubborn.request_count == 3  # two retries, then the error


async def test_a_connection_never_made_is_retried_even_for_create_image(make_client, stub) -> None:
    client = make_client(stub.on("CreateImage", boom(httpx.ConnectError), ok(imageId="img-1")))
    assert (await client.create_image("i-1", "n")).image_id == "img-1"
    assert len(client.sleeps) == 1 and client.request_count == 1  # the refused attempt sent nothing
    down = make_client(stub.on("CreateImage", boom(httpx.ConnectError)))
    with pytest.raises(ConnectError):
        await down.create_image("i-1", "n")
    assert len(down.sleeps) == 2


async def test_client_errors_are_not_retried(make_client, stub) -> None:
    client = make_client(stub.on("DescribeImages", fail(404, "INVALID_ZONE_NOT_FOUND"), ok(dataSet=[])))
    with pytest.raises(NotFound):
        await client.describe_images("NOPE")
    assert client.request_count == 1 and client.sleeps == []


async def test_a_malformed_200_is_not_retried(make_client, stub) -> None:
    client = make_client(stub.on("DescribeZones", raw(200, "<html>portal</html>"), ok(zoneSet=[])))
    with pytest.raises(UnexpectedResponse):
        await client.describe_zones()
    assert client.request_count == 1


def test_backoff_is_exponential_with_full_jitter_and_capped() -> None:
    top = RetryPolicy(jitter=lambda low, high: high, max_delay=5.0)
    assert [top.backoff(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 5.0, 5.0]
    bottom = RetryPolicy(jitter=lambda low, high: low)
    assert bottom.backoff(4) == 0.0


def test_retry_state_counts_reasons_separately_and_uses_wall_time() -> None:
    from zenlayer_widgets.api.errors import ConnectError as Refused
    from zenlayer_widgets.api.errors import RateLimited as Throttled

    now = [100.0]
    policy = RetryPolicy(max_throttle_retries=1, max_connect_retries=1, budget_seconds=10, jitter=lambda low, high: high)
    state = RetryState(policy, "DescribeZones", clock=lambda: now[0])
    throttled = Throttled("REQUEST_LIMIT_EXCEEDED", "x", None, 429)
    assert state.next_delay(throttled) == ("throttled", 0.5)
    assert state.next_delay(Refused("x")) == ("not connected", 0.5)
    assert state.next_delay(throttled) is None
    late = RetryState(policy, "DescribeZones", clock=lambda: now[0])
    now[0] += 10.5  # real time already spent
    assert late.next_delay(throttled) is None


@pytest.mark.parametrize("kwargs", [{"max_throttle_retries": -1}, {"budget_seconds": -1}])
def test_negative_retry_settings_are_refused(kwargs) -> None:
    with pytest.raises(ValueError):
        RetryPolicy(**kwargs)
