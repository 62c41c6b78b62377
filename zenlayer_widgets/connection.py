"""Get a client: the real API when credentials are configured, else the sandbox emulator.

Sandbox mode starts the package's own emulator (demo fleet) on a free loopback port inside this
process, once, and returns a client that says so (``client.sandbox is True``).
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Hashable
from typing import Any

from .api._wire import ENV_BASE_URL
from .api.client import AsyncZenlayerClient, ZenlayerClient
from .api.credentials import Credentials
from .core.sync import async_twin, run_on_twin  # noqa: F401  (re-exported)

#: Environment variable: how long STOPPING / BOOTING / CREATING last in the sandbox (seconds).
SANDBOX_TRANSITION_ENV = "ZENLAYER_SANDBOX_TRANSITION_SECONDS"
#: Environment variable: latency added to every sandbox response (milliseconds), to try slow links.
SANDBOX_LATENCY_ENV = "ZENLAYER_SANDBOX_LATENCY_MS"
#: Environment variable: "1" forces sandbox mode even when credentials are configured.
SANDBOX_ENV = "ZENLAYER_SANDBOX"

_sandbox_lock = threading.Lock()
_sandbox: Any = None

_clients_lock = threading.Lock()
#: Clients :func:`connect` handed out, by what they were made from; one a re-run cell can have again.
_clients: "weakref.WeakValueDictionary[Hashable, ZenlayerClient]" = weakref.WeakValueDictionary()
#: Options whose values make a client of its own (a transport or a sleep function is never shared).
_UNSHARED = frozenset({"transport", "sleep"})


def sandbox_emulator() -> Any:
    """The process-wide sandbox emulator (started on first use, demo fleet)."""
    global _sandbox
    with _sandbox_lock:
        if _sandbox is None:
            from .emulator import start_emulator

            seconds = float(os.environ.get(SANDBOX_TRANSITION_ENV, "3"))
            latency = float(os.environ.get(SANDBOX_LATENCY_ENV, "0"))
            _sandbox = start_emulator(seed="demo", transition_seconds=seconds, latency_ms=latency)
        return _sandbox


def connect(
    credentials: Credentials | None = None,
    *,
    sandbox: bool | None = None,
    base_url: str | None = None,
    **client_options: Any,
) -> ZenlayerClient:
    """A client for the real API if credentials are given or configured, else for the sandbox.

    ``sandbox=True`` forces the emulator; ``sandbox=False`` refuses to fall back to it (a
    :class:`~zenlayer_widgets.api.errors.CredentialsError` is raised when nothing is configured).
    Called again with the same credentials and settings (a re-run cell), it returns the same open
    client, whose connections are still warm; after ``client.close()`` it makes a new one.
    Credentials come from ``credentials``, then ``ZENLAYER_ACCESS_KEY_ID`` /
    ``ZENLAYER_ACCESS_KEY_PASSWORD`` or ``ZENLAYER_TOKEN``, then the profile file.
    """
    if sandbox is None and os.environ.get(SANDBOX_ENV, "").strip().lower() in {"1", "true", "yes"}:
        sandbox = True
    if sandbox is not True:
        found = credentials or Credentials.discover()
        if found is not None:
            return _client(found, base_url, False, client_options)
        if sandbox is False:
            return ZenlayerClient(None, base_url=base_url, **client_options)  # raises CredentialsError
    emulator = sandbox_emulator()
    demo = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
    return _client(demo, emulator.url, True, client_options)


def _client(credentials: Credentials, base_url: str | None, sandbox: bool, options: dict[str, Any]) -> ZenlayerClient:
    """The open client made earlier from the same credentials, URL and options (a re-run cell keeps its
    warm connections and async twin), else a new one. A closed client is never handed out again."""
    if _UNSHARED & options.keys():
        return ZenlayerClient(credentials, base_url=base_url, sandbox=sandbox, **options)
    key = (credentials, base_url or os.environ.get(ENV_BASE_URL), sandbox, tuple(sorted(options.items())))
    try:
        hash(key)
    except TypeError:  # an option value that cannot be compared: not shared
        return ZenlayerClient(credentials, base_url=base_url, sandbox=sandbox, **options)
    with _clients_lock:
        client = _clients.get(key)
        if client is None or client.closed:
            client = _clients[key] = ZenlayerClient(credentials, base_url=base_url, sandbox=sandbox, **options)
        return client


def describe_connection(client: ZenlayerClient | AsyncZenlayerClient) -> str:
    """One line for the screen: sandbox or real, and where."""
    if client.sandbox:
        return f"Sandbox: the built-in Zenlayer API emulator at {client.base_url} (demo data, nothing real is changed)"
    return f"Zenlayer Cloud API at {client.base_url}"
