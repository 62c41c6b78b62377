"""One sync story for the core: every coroutine function takes either client, and has a sync form.

``*_async`` functions (and ``wait_for_image_async``) accept a :class:`ZenlayerClient` or an
:class:`AsyncZenlayerClient`: a sync client lends the async counterpart it owns for the running
loop (:meth:`ZenlayerClient.async_client`, closed with it). Each sync form is
``_runner.run_sync(the_async_form(client, ...))``: the coroutine runs on the package's background loop, so
it works inside a notebook whose loop is already running, and an interrupted cell cancels it.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any, TypeVar

from ..api.client import AsyncZenlayerClient, ZenlayerClient

AnyClient = ZenlayerClient | AsyncZenlayerClient


def async_side(client: AnyClient) -> AsyncZenlayerClient:
    """``client`` itself when it is async, else the async counterpart it owns for the running loop."""
    if isinstance(client, ZenlayerClient):
        return client.async_client()
    return client



F = TypeVar("F", bound=Callable[..., Any])


def shows_signature_of(async_form: Callable[..., Any]) -> Callable[[F], F]:
    """Decorator for a sync form that passes ``**options`` on: it shows ``async_form``'s parameters (``help()``,
    Tab completion, ``inspect.signature``) instead of ``**options``."""

    def mark(function: F) -> F:
        setattr(function, "__signature__", inspect.signature(async_form))  # noqa: B010 - mypy: no such attribute
        return function

    return mark
