"""Run the core's async functions from synchronous code (runbooks, scripts, papermill)."""

from __future__ import annotations

import weakref
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from ..api.client import AsyncZenlayerClient, ZenlayerClient

T = TypeVar("T")

_async_twins: weakref.WeakKeyDictionary[ZenlayerClient, AsyncZenlayerClient] = weakref.WeakKeyDictionary()


def async_twin(client: ZenlayerClient) -> AsyncZenlayerClient:
    """The async client with ``client``'s settings that lives on the background loop (cached)."""
    twin = _async_twins.get(client)
    if twin is None:
        twin = client.to_async()
        _async_twins[client] = twin
    return twin


def run_on_twin(function: Callable[..., Coroutine[Any, Any, T]], client: ZenlayerClient, *args: Any, **kwargs: Any) -> T:
    """Run the coroutine function ``function(twin, *args, **kwargs)`` from synchronous code, with
    ``client``'s async twin on the background loop (how every sync wrapper of the core works)."""
    from .._runner import run_sync

    return run_sync(function(async_twin(client), *args, **kwargs))
