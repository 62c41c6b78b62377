"""Fault injection: ``ACTION:KIND:PROBABILITY`` rules drawn from a seeded (deterministic) RNG.

Kinds, applied per request after authentication:

* ``throttle``: 429 ``REQUEST_LIMIT_EXCEEDED``; the action is not applied.
* ``error``: 500 ``INTERNAL_SERVER_ERROR``; the action is not applied (our choice: a clean
  failure, so a client may retry; ``lost_response`` is the "did it happen?" case).
* ``lost_response``: the action is applied, then the connection is closed without a single
  byte of response.
* ``unavailable`` (CreateImage only): the request succeeds, but the image ends ``UNAVAILABLE``
  instead of ``AVAILABLE`` (a failed image, as the real API reports one); the instance is STOPPED again.
* ``boot_failure`` (CreateInstances only): the request succeeds, but the next instance it
  launches never reaches RUNNING: PENDING, DEPLOYING, then ``CREATE_FAILED`` (it stays listed
  until TerminateInstance and ReleaseInstances remove it, like a failed launch on the real API).
* ``late``: the connection is closed at once without a byte of response, and the action is
  applied ``late_seconds`` later (the backend's setting, default 2 s): a request that was still on
  its way when the client gave up. Its result, refusal or not, reaches nobody.

``ACTION`` is one of the emulated action names or ``*`` (every action).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from ..api import vocabulary as A

THROTTLE = "throttle"
ERROR = "error"
LOST_RESPONSE = "lost_response"
UNAVAILABLE = "unavailable"
LATE = "late"
BOOT_FAILURE = "boot_failure"
KINDS = (THROTTLE, ERROR, LOST_RESPONSE, UNAVAILABLE, LATE, BOOT_FAILURE)
#: Kinds that apply to one action only.
ONLY_FOR = {UNAVAILABLE: A.CREATE_IMAGE, BOOT_FAILURE: A.CREATE_INSTANCES}

#: The actions the emulator answers (a fault may name any of them, or ``*``).
ACTIONS = A.ACTIONS


@dataclass(frozen=True)
class FaultRule:
    """Fail ``action`` (or ``*``) with ``kind`` on a fraction ``probability`` of requests."""

    action: str
    kind: str
    probability: float

    def matches(self, action: str) -> bool:
        return self.action in ("*", action)


def parse_fault(text: str) -> FaultRule:
    """Parse ``ACTION:KIND:PROBABILITY`` (e.g. ``CreateImage:lost_response:1``); ValueError when malformed."""
    parts = text.strip().split(":")
    if len(parts) != 3:
        raise ValueError(f"fault {text!r}: expected ACTION:KIND:PROBABILITY, e.g. CreateImage:throttle:0.5")
    action, kind, raw = (part.strip() for part in parts)
    if action != "*" and action not in ACTIONS:
        raise ValueError(f"fault {text!r}: unknown action {action!r}; use * or one of {', '.join(ACTIONS)}")
    if kind not in KINDS:
        raise ValueError(f"fault {text!r}: unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    if kind in ONLY_FOR and action != ONLY_FOR[kind]:
        raise ValueError(f"fault {text!r}: the {kind} kind applies to {ONLY_FOR[kind]} only")
    try:
        probability = float(raw)
    except ValueError:
        raise ValueError(f"fault {text!r}: probability {raw!r} is not a number") from None
    if not 0.0 <= probability <= 1.0:
        raise ValueError(f"fault {text!r}: probability must be between 0 and 1")
    return FaultRule(action, kind, probability)


def parse_faults(items: Iterable[str | FaultRule]) -> tuple[FaultRule, ...]:
    """Parse several faults (rules pass through unchanged)."""
    return tuple(item if isinstance(item, FaultRule) else parse_fault(item) for item in items)


class FaultInjector:
    """Decides, per request, which fault (if any) hits it; deterministic for a given seed."""

    def __init__(self, rules: Iterable[str | FaultRule] = (), *, seed: int | str = 0) -> None:
        self._lock = threading.Lock()
        self._seed = seed
        self.set_rules(rules)

    @property
    def rules(self) -> tuple[FaultRule, ...]:
        return self._rules

    def set_rules(self, rules: Iterable[str | FaultRule]) -> None:
        """Replace the rules and restart the random sequence (so runs stay reproducible)."""
        parsed = parse_faults(rules)
        with self._lock:
            self._rules = parsed
            self._rng = random.Random(f"faults:{self._seed}")

    def draw(self, action: str) -> str | None:
        """The fault kind for one request of ``action``, or None. The first matching rule that fires wins."""
        with self._lock:
            for rule in self._rules:
                if rule.matches(action) and self._rng.random() < rule.probability:
                    return rule.kind
        return None
