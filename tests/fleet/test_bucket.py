"""The account's token bucket in a PostgreSQL ledger (core/fleet/bucket.py): workers that each open it share one
rate, a token is never handed out twice, and a 429 one worker saw holds back the others."""

from __future__ import annotations

import threading
import time

import pytest

from zenlayer_widgets.core.fleet import LedgerBucket
from zenlayer_widgets.core.ledger import Ledger


def test_workers_on_one_ledger_never_take_more_than_the_rate_allows(pg_url):
    rate = 10.0
    buckets = [LedgerBucket(Ledger(pg_url), "acct", rate) for _ in range(4)]  # four workers, four connections
    granted = [0] * 4
    stop = time.monotonic() + 1.5

    def work(n: int) -> None:
        while time.monotonic() < stop:
            if buckets[n].take() == 0.0:
                granted[n] += 1

    started = time.monotonic()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    assert sum(granted) <= buckets[0].capacity + rate * elapsed + 1  # the burst plus the rate, whoever asked
    assert sum(granted) >= rate  # and the budget was used, not lost
    assert sum(b.granted for b in buckets) == sum(granted)


def test_a_429_one_worker_saw_holds_back_the_others(pg_url):
    seen, other = LedgerBucket(Ledger(pg_url), "acct", 5), LedgerBucket(Ledger(pg_url), "acct", 5)
    assert other.take() == 0.0
    seen.throttled(retry_after=2)
    assert other.take() > 1.5  # the other worker waits out the server's Retry-After too
    assert LedgerBucket(Ledger(pg_url), "another account", 5).take() == 0.0  # accounts do not share


def test_a_bad_rate_is_refused_before_anything_is_written(pg_url):
    with pytest.raises(ValueError, match="finite number"):
        LedgerBucket(Ledger(pg_url), "acct", float("inf"))
    from zenlayer_widgets.core.ledger import schema

    assert Ledger(pg_url)._read(schema.rate_buckets.select()) == []
