"""The account's request rate limit (``--rate-limit N``): a token bucket on the emulator's clock.

The bucket holds at most ``N`` tokens (a burst of one second's worth, at least 1) and gains ``N``
per second of the backend's clock (so ``backend.advance`` refills it as real time does). Each
authenticated API request takes one; a request that finds none is answered 429
``REQUEST_LIMIT_EXCEEDED`` and not applied. The emulator is one account, so it has one bucket.
"""

from __future__ import annotations

import math
import threading


def check_rate(value: float | None) -> float | None:
    """``value`` as requests per second (None: no limit); ValueError unless a finite number > 0."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < math.inf:
        raise ValueError(f"rate_limit must be a finite number of requests per second > 0 (or None), not {value!r}")
    return float(value)


class TokenBucket:
    """``rate`` tokens per second, at most ``max(rate, 1)`` held; starts full."""

    def __init__(self, rate: float) -> None:
        self.rate = float(rate)
        self.capacity = max(self.rate, 1.0)
        self._tokens = self.capacity
        self._last: float | None = None
        self._lock = threading.Lock()

    def take(self, now: float) -> bool:
        """Take one token at clock time ``now``; False when the bucket is empty (the request is refused)."""
        with self._lock:
            if self._last is not None:
                self._tokens = min(self.capacity, self._tokens + max(now - self._last, 0.0) * self.rate)
            self._last = now
            if self._tokens >= 1.0:
                self._tokens -= 1.0
                return True
            return False
