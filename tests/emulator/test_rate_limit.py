"""The account's rate limit (``--rate-limit N``, ``rate_limit=N``): a token bucket on the emulator's clock, 429 beyond."""

from __future__ import annotations

import subprocess
import sys

import httpx
import pytest

from zenlayer_widgets.api import RateLimited, errors
from zenlayer_widgets.emulator import start_emulator
from zenlayer_widgets.emulator.ratelimit import TokenBucket

from .helpers import bearer_post, call, instance_id, sdk, sdk_error, snapshot
from .test_cli import start_cli


def test_token_bucket_allows_a_second_of_burst_then_refills_on_the_clock():
    bucket = TokenBucket(20)
    assert [bucket.take(100.0) for _ in range(21)] == [True] * 20 + [False]
    assert bucket.take(100.04) is False  # 0.8 of a token
    assert bucket.take(100.06) is True
    assert [bucket.take(200.0) for _ in range(21)].count(True) == 20  # never more than a second's worth


def test_rate_limit_answers_429_request_limit_exceeded_and_applies_nothing():
    # one request per 1,000 s: the second request is refused however fast or slow the machine is
    with start_emulator(rate_limit=0.001) as emulator:
        client, models = sdk(emulator)
        assert call(client, models, "DescribeZones").zoneSet
        before = snapshot(emulator)
        error = sdk_error(lambda: call(client, models, "StopInstances", instanceIds=[instance_id(emulator, "web-hkg-01")]))
        assert error.code == errors.REQUEST_LIMIT_EXCEEDED
        response = bearer_post(emulator, "DescribeZones")
        assert (response.status_code, response.json()["code"]) == (429, errors.REQUEST_LIMIT_EXCEEDED)
        assert snapshot(emulator) == before
        emulator.backend.advance(1000)  # the bucket refills on the emulator's clock
        assert call(client, models, "DescribeZones").zoneSet


def test_rate_limit_through_our_client_in_process(mock_emulator):
    mock_emulator.conditions.rate_limit = 0.001
    client = mock_emulator.client(max_throttle_retries=0)
    client.describe_zones()
    with pytest.raises(RateLimited):
        client.describe_zones()
    mock_emulator.backend.advance(1000)
    assert client.describe_zones()


def test_rate_limit_set_and_removed_through_the_control_api(emulator):
    answer = httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": 0.001}).json()["response"]
    assert answer["rateLimit"] == 0.001
    assert bearer_post(emulator, "DescribeZones").status_code == 200
    assert bearer_post(emulator, "DescribeZones").status_code == 429
    assert httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": 0}).status_code == 400
    httpx.post(emulator.url + "/_emulator/faults", json={"rateLimit": None})
    assert [bearer_post(emulator, "DescribeZones").status_code for _ in range(5)] == [200] * 5


def test_rate_limit_cli_flag():
    process, url, banner = start_cli("--rate-limit", "0.001")
    try:
        assert "requests/s" in banner
        headers = {"Authorization": "Bearer demo-emulator-token-not-a-secret", "X-ZC-Action": "DescribeZones"}
        codes = [httpx.post(url + "/api/v2/vm", json={}, headers=headers).status_code for _ in range(2)]
        assert codes == [200, 429]
    finally:
        process.terminate()
        assert process.wait(10) == 0
    refused = subprocess.run([sys.executable, "-m", "zenlayer_widgets.emulator", "--rate-limit", "0"], capture_output=True, text=True)
    assert refused.returncode == 2 and "must be a finite number > 0" in refused.stderr


def test_unauthenticated_requests_do_not_spend_the_accounts_tokens():
    with start_emulator(rate_limit=0.001) as emulator:
        assert bearer_post(emulator, "DescribeZones", token="wrong-token").status_code == 401
        assert bearer_post(emulator, "DescribeZones").status_code == 200
