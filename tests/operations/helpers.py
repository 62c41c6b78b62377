"""Instruments for the operation tests: what the backend applied, a running instance, a fast sleep."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

from zenlayer_widgets.api.retry import RetryPolicy
from zenlayer_widgets.emulator.backend import EmulatorBackend

#: 429 retries that wait milliseconds, not seconds.
FAST_RETRIES = RetryPolicy(max_throttle_retries=12, budget_seconds=10.0, base_delay=0.002, max_delay=0.02)


async def fast_sleep(seconds: float) -> None:
    """The driver's waits (settle looks, backoff, polling), cut to at most 10 ms."""
    await asyncio.sleep(min(seconds, 0.01))


def running_instance(backend: EmulatorBackend) -> Any:
    """A RUNNING instance record of the demo fleet."""
    return next(r for r in backend.instances.values() if r.status == "RUNNING")


class Applied:
    """Counts each wrapped backend method's calls that were applied (whatever became of their answers)."""

    def __init__(self) -> None:
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    def wrap(self, backend: EmulatorBackend, name: str, before: Any = None) -> None:
        original = getattr(backend, name)

        def method(*args: Any, **kwargs: Any) -> Any:
            if before is not None:
                before(*args, **kwargs)
            result = original(*args, **kwargs)
            with self._lock:
                self.counts[name] += 1
            return result

        setattr(backend, name, method)


def throwaways_in(backend: EmulatorBackend) -> list[str]:
    """Instances tagged as a verification's throwaway, whatever their state (the recycle bin included)."""
    from zenlayer_widgets.core.operations.steps.instances import TAG_ROLE

    return [r.instance_id for r in backend.instances.values() if any(k == TAG_ROLE for k, _ in r.tags)]


async def throwaways_listed(client: Any) -> list[str]:
    """The same, asked through DescribeInstances (tags filter)."""
    from zenlayer_widgets.core.operations.steps.instances import TAG_ROLE, THROWAWAY

    return [i.instance_id for i in await client.list_instances(tags={TAG_ROLE: THROWAWAY})]


def custom_image(backend: EmulatorBackend, zone_id: str | None = None) -> Any:
    """An AVAILABLE custom image of the demo fleet (of ``zone_id`` when given)."""
    return next(i for i in backend.images.values() if i.image_type == "CUSTOM_IMAGE" and i.status == "AVAILABLE"
                and (zone_id is None or i.zone_id == zone_id))


def instance_in(backend: EmulatorBackend, zone_id: str, status: str = "RUNNING") -> Any:
    return next(r for r in backend.instances.values() if r.zone_id == zone_id and r.status == status)


class Held:
    """``backend.<name>`` is applied, then its answer is held (the emulator's loop blocked) until released: the
    request landed and the process that sent it can be killed before it reads the answer."""

    def __init__(self, backend: EmulatorBackend, name: str) -> None:
        self.applied = threading.Event()
        self.released = threading.Event()
        original = getattr(backend, name)

        def method(*args: Any, **kwargs: Any) -> Any:
            result = original(*args, **kwargs)
            if not self.applied.is_set():
                self.applied.set()
                self.released.wait(60)
            return result

        setattr(backend, name, method)
