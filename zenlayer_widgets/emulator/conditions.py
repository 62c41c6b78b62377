"""What the network between a client and the emulator does: injected faults, added latency, and the
account's rate limit.

Kept outside the backend (which holds only the account's state and rules): the request pipeline
draws a fault for each request, asks the rate limit to admit it, and puts the latency on its
reply; the server or the in-process transport waits that long before answering.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from .faults import FaultInjector, FaultRule
from .ratelimit import TokenBucket, check_rate


class Conditions:
    """Fault rules (``ACTION:KIND:PROBABILITY``, drawn from a seeded RNG), latency in milliseconds, and
    ``rate_limit`` (requests per second for the account; None: unlimited)."""

    def __init__(self, faults: Iterable[str | FaultRule] = (), *, latency_ms: float = 0.0, seed: int | str = "demo",
                 rate_limit: float | None = None) -> None:
        self._initial = tuple(faults)
        self._injector = FaultInjector(self._initial, seed=seed)
        self.latency_ms = latency_ms
        self.rate_limit = rate_limit
        #: Authenticated API requests the rate limit let through, and the ones it refused 429, since start
        #: (injected throttle faults are not counted).
        self.admitted = 0
        self.rate_limited = 0

    @property
    def rate_limit(self) -> float | None:
        return self._bucket.rate if self._bucket is not None else None

    @rate_limit.setter
    def rate_limit(self, value: float | None) -> None:
        """Set (a full bucket) or remove (None) the limit; ValueError unless a finite number > 0."""
        rate = check_rate(value)
        self._bucket = TokenBucket(rate) if rate is not None else None

    def admit(self, now: float) -> bool:
        """Whether the rate limit lets a request through at clock time ``now`` (takes a token); each refusal is
        counted in :attr:`rate_limited` (what a benchmark or test reads as "429s seen at the emulator"), each admission in
        :attr:`admitted`."""
        if self._bucket is None or self._bucket.take(now):
            self.admitted += 1
            return True
        self.rate_limited += 1
        return False

    @property
    def latency_ms(self) -> float:
        return self._latency_ms

    @latency_ms.setter
    def latency_ms(self, value: float) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
            raise ValueError(f"latency_ms must be a finite number >= 0, not {value!r}")
        self._latency_ms = float(value)

    @property
    def faults(self) -> tuple[FaultRule, ...]:
        return self._injector.rules

    def set_faults(self, faults: Iterable[str | FaultRule]) -> None:
        """Replace the fault rules (``["CreateImage:lost_response:1"]``); ValueError when malformed."""
        self._injector.set_rules(faults)

    def draw(self, action: str) -> str | None:
        """The fault kind that hits this request of ``action``, or None."""
        return self._injector.draw(action)

    def reset(self) -> None:
        """Back to the faults given at start (the latency stays)."""
        self._injector.set_rules(self._initial)

    def __repr__(self) -> str:
        rules = ", ".join(f"{r.action}:{r.kind}:{r.probability:g}" for r in self.faults)
        limit = f", rate_limit={self.rate_limit:g}" if self.rate_limit is not None else ""
        return f"Conditions(faults=[{rules}], latency_ms={self.latency_ms:g}{limit})"
