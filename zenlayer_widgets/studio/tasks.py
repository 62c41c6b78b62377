"""Background work for the form: tasks on one event loop, and a guard against stale results.

Widgets call into controllers from comm callbacks; the calls themselves run as asyncio tasks so
the form never freezes, and :class:`Freshness` makes sure an older answer never overwrites a
newer one.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import itertools
import logging
from collections.abc import Callable, Coroutine
from typing import Any

log = logging.getLogger("zenlayer_widgets")


def current_loop() -> asyncio.AbstractEventLoop:
    """The running loop (a notebook kernel, a test), else the package's background loop."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        from .._runner import background_loop

        return background_loop()


class TaskRunner:
    """Start coroutines as tasks on one loop, keep them referenced, report their failures."""

    def __init__(self, loop: asyncio.AbstractEventLoop, on_error: Callable[[BaseException], None]) -> None:
        self.loop = loop
        self._on_error = on_error
        self._tasks: set[Any] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Future[Any] | concurrent.futures.Future[Any]:
        """Schedule ``coro``; an exception it raises goes to ``on_error`` (never only to a log)."""
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        task = self.loop.create_task(coro) if on_loop else asyncio.run_coroutine_threadsafe(coro, self.loop)
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        return task

    def _finished(self, task: asyncio.Future[Any] | concurrent.futures.Future[Any]) -> None:
        self._tasks.discard(task)
        if task.cancelled():
            return
        error = task.exception()
        if error is not None:
            log.debug("background task failed: %s", type(error).__name__)
            self._on_error(error)

    async def drain(self) -> None:
        """Wait, on the runner's loop, until every task started so far (and those they start) is done."""
        while self._tasks:
            pending = [asyncio.wrap_future(t) if isinstance(t, concurrent.futures.Future) else t for t in list(self._tasks)]
            await asyncio.gather(*pending, return_exceptions=True)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


class Freshness:
    """Tickets in start order: a result is applied only if nothing started later was applied first."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)
        self._applied = 0

    def ticket(self) -> int:
        """Take a ticket when a fetch starts."""
        return next(self._counter)

    def accept(self, ticket: int) -> bool:
        """True (and remember it) when this fetch started after the data now shown."""
        if ticket < self._applied:
            return False
        self._applied = ticket
        return True
