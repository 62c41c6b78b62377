"""Instruments for the operation tests: what the backend applied, a running instance, a fast sleep."""

from __future__ import annotations

import asyncio
import threading
from collections import Counter
from typing import Any

from zenlayer_widgets.emulator.backend import EmulatorBackend


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
