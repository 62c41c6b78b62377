"""When to retry a failed call, and how long to wait first (no I/O here: the clients sleep).

* Throttling (``REQUEST_LIMIT_EXCEEDED`` / HTTP 429) is retried for every action: the server
  refused the request before doing anything.
* A connection that was never made (nothing sent) is retried for every action, a few times; not
  a refused TLS certificate (:class:`~.errors.CertificateError`), which would be refused again.
* 5xx answers, timeouts and dropped connections are retried only for read-only ``Describe*`` (and ``InquiryPrice*``)
  actions; a change (CreateImage, Start/Stop, Delete, Modify) may have been applied, so the
  caller must reconcile instead.

Waits are exponential backoff with full jitter (``uniform(0, min(max_delay, base * 2**n))``),
at least a numeric ``Retry-After`` when the server sends one, and all waits of one call fit in
``budget_seconds``.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .errors import CertificateError, ConnectError, OutcomeUnknown, RateLimited, ServerError, UnexpectedResponse, ZenlayerError

THROTTLED = "throttled"
NOT_CONNECTED = "not connected"
TRANSIENT = "transient failure"


def is_read_only(action: str) -> bool:
    """``Describe*`` and ``InquiryPrice*`` actions change nothing, so repeating them is always safe."""
    return action.startswith(("Describe", "InquiryPrice"))


def retry_reason(action: str, error: ZenlayerError) -> str | None:
    """Why ``error`` may be retried for ``action`` (one of the constants above), or None."""
    if isinstance(error, RateLimited) or getattr(error, "http_status", None) == 429:
        return THROTTLED
    if isinstance(error, ConnectError):
        return None if isinstance(error, CertificateError) else NOT_CONNECTED
    if not is_read_only(action):
        return None
    if isinstance(error, (OutcomeUnknown, ServerError)):
        return TRANSIENT
    if isinstance(error, UnexpectedResponse) and (error.http_status or 0) >= 500:
        return TRANSIENT
    return None


@dataclass(frozen=True)
class RetryPolicy:
    """How many retries each kind of failure gets, the backoff curve, and the time budget of one call."""

    max_throttle_retries: int = 5
    budget_seconds: float = 60.0
    max_connect_retries: int = 2
    max_transient_retries: int = 2
    base_delay: float = 0.5
    max_delay: float = 20.0
    #: ``uniform(0, cap)``; replaceable for deterministic tests.
    jitter: Callable[[float, float], float] = field(default=random.uniform, compare=False)

    def __post_init__(self) -> None:
        if min(self.max_throttle_retries, self.max_connect_retries, self.max_transient_retries) < 0:
            raise ValueError("retry counts must be >= 0")
        if self.budget_seconds < 0 or self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("retry delays and budget must be >= 0")

    def limit(self, reason: str) -> int:
        return {THROTTLED: self.max_throttle_retries, NOT_CONNECTED: self.max_connect_retries}.get(
            reason, self.max_transient_retries
        )

    def backoff(self, retry_index: int) -> float:
        """Full-jitter exponential backoff before retry number ``retry_index`` (0-based)."""
        cap = min(self.max_delay, self.base_delay * 2**retry_index)
        return self.jitter(0.0, cap)


class RetryState:
    """The retries of one call: counts per reason and time spent, against a :class:`RetryPolicy`."""

    def __init__(self, policy: RetryPolicy, action: str, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.action = action
        self._clock = clock
        self._started = clock()
        self._slept = 0.0
        self._counts: dict[str, int] = {}

    def attempts(self, reason: str) -> int:
        """Retries made so far for ``reason``."""
        return self._counts.get(reason, 0)

    def next_delay(self, error: ZenlayerError, retry_after: float | None = None) -> tuple[str, float] | None:
        """``(reason, seconds to wait)`` before retrying after ``error``, or None to give up."""
        reason = retry_reason(self.action, error)
        if reason is None:
            return None
        done = self.attempts(reason)
        if done >= self.policy.limit(reason):
            return None
        # Wall time when sleeping really waits, the sum of the sleeps when it is faked: the larger.
        elapsed = max(self._clock() - self._started, self._slept)
        remaining = self.policy.budget_seconds - elapsed
        delay = max(self.policy.backoff(done), retry_after or 0.0)
        if remaining <= 0 or (retry_after or 0.0) > remaining:
            return None
        delay = min(delay, remaining)
        self._counts[reason] = done + 1
        self._slept += delay
        return reason, delay
