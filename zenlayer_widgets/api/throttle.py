"""The account's request rate, kept on the client side: a limiter every request of a client waits on first.

A :class:`RateLimiter` hands out one token per request (the clients call :meth:`~RateLimiter.acquire` before each
send, retries included) and hears of every 429 (:meth:`~RateLimiter.throttled`), after which all its users back off
together rather than each finding the limit on its own. :class:`TokenBucket` is the in-process one;
:func:`shared_bucket` gives one per account and process, so every task and client of a process draws on the same
budget. Limiters shared by several processes (a token bucket row in a PostgreSQL ledger) implement the same protocol
outside this package (``zenlayer_widgets.core.fleet``) and are given to a client as ``rate_limiter=``.

``ZENLAYER_RATE_LIMIT`` (requests per second) gives every client without a ``rate_limiter`` the process's shared
bucket for its account; unset, requests are not paced (a 429 is still retried by :mod:`.retry`).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Protocol, runtime_checkable

RATE_LIMIT_ENV = "ZENLAYER_RATE_LIMIT"


@runtime_checkable
class RateLimiter(Protocol):
    """What a client needs of a rate limiter."""

    async def acquire(self) -> None:
        """Wait until one request may be sent (takes a token)."""

    def acquire_blocking(self) -> None:
        """:meth:`acquire` for blocking code (the sync client)."""

    def throttled(self, retry_after: float | None = None) -> None:
        """A request was answered 429: every user of this limiter waits ``retry_after`` (or a token's time) first."""


def check_rate(value: object, what: str = "rate_limit") -> float:
    """``value`` as requests per second; ValueError unless a finite number > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"{what} must be a finite number of requests per second > 0, not {value!r}")
    return float(value)


class TakingLimiter:
    """A limiter built on :meth:`take`: :meth:`acquire` and :meth:`acquire_blocking` wait the seconds it asks for,
    then ask again."""

    def take(self) -> float:
        """Take a token: 0.0 when taken, else the seconds to wait before asking again."""
        raise NotImplementedError

    async def acquire(self) -> None:
        while (wait := self.take()) > 0:
            await asyncio.sleep(wait)

    def acquire_blocking(self) -> None:
        while (wait := self.take()) > 0:
            time.sleep(wait)


class TokenBucket(TakingLimiter):
    """``rate`` tokens per second, at most ``capacity`` (default: one second's worth, at least 1) held; starts full.

    Thread-safe; :meth:`acquire` sleeps on the running loop, :meth:`acquire_blocking` on the thread. ``clock``
    (monotonic seconds) is injectable for tests.
    """

    def __init__(self, rate: float, capacity: float | None = None, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = check_rate(rate)
        self.capacity = max(self.rate, 1.0) if capacity is None else check_rate(capacity, "capacity")
        self._clock = clock
        self._tokens = self.capacity
        self._last = clock()
        self._paused_until = 0.0
        self._lock = threading.Lock()
        #: Requests let through, and 429s heard of (for reports and tests).
        self.granted = 0
        self.throttles = 0

    def take(self) -> float:
        """Take a token now: 0.0 when taken, else the seconds to wait before asking again."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + max(now - self._last, 0.0) * self.rate)
            self._last = now
            if now < self._paused_until:
                return self._paused_until - now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                self.granted += 1
                return 0.0
            return (1.0 - self._tokens) / self.rate

    def throttled(self, retry_after: float | None = None) -> None:
        with self._lock:
            self.throttles += 1
            self._tokens = 0.0
            self._last = now = self._clock()
            self._paused_until = max(self._paused_until, now + max(retry_after or 0.0, 1.0 / self.rate))

    def __repr__(self) -> str:
        return f"TokenBucket(rate={self.rate:g}, capacity={self.capacity:g})"


_shared: dict[tuple[str, float], TokenBucket] = {}
_shared_lock = threading.Lock()


def shared_bucket(account: str, rate: float) -> TokenBucket:
    """The process's one :class:`TokenBucket` for ``account`` at ``rate`` (made on first use)."""
    rate = check_rate(rate)
    with _shared_lock:
        bucket = _shared.get((account, rate))
        if bucket is None:
            bucket = _shared[(account, rate)] = TokenBucket(rate)
        return bucket


def forget_buckets() -> None:
    """Forget the shared buckets (zenlayer_widgets._state.reset_for_tests): the next client makes a full one."""
    with _shared_lock:
        _shared.clear()


def env_rate(environ: Mapping[str, str]) -> float | None:
    """``ZENLAYER_RATE_LIMIT`` as requests per second (None: unset or empty); ValueError naming the variable."""
    text = (environ.get(RATE_LIMIT_ENV) or "").strip()
    if not text:
        return None
    try:
        return check_rate(float(text), RATE_LIMIT_ENV)
    except ValueError:
        raise ValueError(f"{RATE_LIMIT_ENV} must be a number of requests per second > 0, not {text!r}") from None


def check_limiter(value: object) -> RateLimiter | None:
    """``value`` if it is a :class:`RateLimiter` (or None); TypeError otherwise."""
    if value is not None and not isinstance(value, RateLimiter):
        raise TypeError(f"rate_limiter must have acquire(), acquire_blocking() and throttled(), not {type(value).__name__}")
    return value
