"""The client-side rate limiter (api/throttle.py): every request of a client waits on it, every 429 makes all its
users back off, one bucket per account per process with ``ZENLAYER_RATE_LIMIT``; the bucket's arithmetic."""

from __future__ import annotations

import pytest

from zenlayer_widgets.api import AsyncZenlayerClient, Credentials, ZenlayerClient
from zenlayer_widgets.api.throttle import TokenBucket, shared_bucket

from .stub import BASE_URL, KEY_ID, PASSWORD, fail, ok, raw

THROTTLED = fail(429, "REQUEST_LIMIT_EXCEEDED", "slow down")


class Recorder:
    """A limiter that lets everything through and writes down what the client told it."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.retry_afters: list[float | None] = []

    async def acquire(self) -> None:
        self.calls.append("acquire")

    def acquire_blocking(self) -> None:
        self.calls.append("acquire")

    def throttled(self, retry_after: float | None = None) -> None:
        self.calls.append("throttled")
        self.retry_afters.append(retry_after)


async def test_every_request_retries_included_waits_on_the_limiter_and_a_429_is_told_to_it(make_client, stub) -> None:
    limiter = Recorder()
    slow = raw(429, '{"code": "REQUEST_LIMIT_EXCEEDED", "message": "x"}', "application/json", headers={"Retry-After": "2"})
    client = make_client(stub.on("DescribeZones", THROTTLED, slow, ok(zoneSet=[])), rate_limiter=limiter)
    await client.describe_zones()
    assert client.request_count == 3
    assert limiter.calls == ["acquire", "throttled", "acquire", "throttled", "acquire"]
    assert limiter.retry_afters == [None, 2.0]


def test_a_limiter_that_is_not_one_is_refused_at_once(credentials) -> None:
    with pytest.raises(TypeError, match="rate_limiter must have acquire"):
        ZenlayerClient(credentials, base_url=BASE_URL, rate_limiter=object())  # type: ignore[arg-type]


async def test_zenlayer_rate_limit_gives_every_client_of_an_account_one_shared_bucket(monkeypatch) -> None:
    monkeypatch.setenv("ZENLAYER_RATE_LIMIT", "20")
    mine = Credentials(access_key_id=KEY_ID, access_key_password=PASSWORD)
    other = Credentials(access_key_id="AKID-OTHER", access_key_password=PASSWORD)
    with ZenlayerClient(mine, base_url=BASE_URL) as sync_client:
        async with AsyncZenlayerClient(mine, base_url=BASE_URL) as async_client, \
                AsyncZenlayerClient(other, base_url=BASE_URL) as other_client:
            assert isinstance(sync_client.rate_limiter, TokenBucket) and sync_client.rate_limiter.rate == 20
            assert async_client.rate_limiter is sync_client.rate_limiter  # one budget for the account in this process
            assert sync_client.async_client().rate_limiter is sync_client.rate_limiter  # the tasks' counterpart too
            assert other_client.rate_limiter is not sync_client.rate_limiter  # another account has its own
    monkeypatch.setenv("ZENLAYER_RATE_LIMIT", "fast")
    with pytest.raises(ValueError, match="ZENLAYER_RATE_LIMIT must be a number"):
        ZenlayerClient(mine, base_url=BASE_URL)
    monkeypatch.delenv("ZENLAYER_RATE_LIMIT")
    with ZenlayerClient(mine, base_url=BASE_URL) as unpaced:
        assert unpaced.rate_limiter is None


def test_the_bucket_lets_a_second_through_at_its_rate_and_pauses_everyone_after_a_429() -> None:
    now = [100.0]
    bucket = TokenBucket(4, clock=lambda: now[0])
    assert [bucket.take() for _ in range(4)] == [0.0] * 4  # a full second's worth at once
    assert bucket.take() == pytest.approx(0.25)  # then one every 1/4 s
    now[0] += 0.25
    assert bucket.take() == 0.0 and bucket.granted == 5
    now[0] += 10
    bucket.throttled(retry_after=3)  # the server said wait 3 s: nobody sends before
    assert bucket.take() == pytest.approx(3.0)
    now[0] += 3
    assert bucket.take() == 0.0 and bucket.throttles == 1


def test_shared_buckets_are_per_account_and_rate() -> None:
    assert shared_bucket("a", 5) is shared_bucket("a", 5)
    assert shared_bucket("a", 5) is not shared_bucket("b", 5)
    with pytest.raises(ValueError, match="finite number"):
        shared_bucket("a", 0)
