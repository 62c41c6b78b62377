"""One sync story for the core: every coroutine function takes either client, and has a sync form.

``*_async`` functions (and ``wait_for_image_async``) accept a :class:`ZenlayerClient` or an
:class:`AsyncZenlayerClient`: a sync client lends the async counterpart it owns for the running
loop (:meth:`ZenlayerClient.async_client`, closed with it). Each sync form is
``_runner.run_sync(the_async_form(client, ...))``: the coroutine runs on the package's background loop, so
it works inside a notebook whose loop is already running, and an interrupted cell cancels it.
"""

from __future__ import annotations

from ..api.client import AsyncZenlayerClient, ZenlayerClient

AnyClient = ZenlayerClient | AsyncZenlayerClient


def async_side(client: AnyClient) -> AsyncZenlayerClient:
    """``client`` itself when it is async, else the async counterpart it owns for the running loop."""
    if isinstance(client, ZenlayerClient):
        return client.async_client()
    return client

