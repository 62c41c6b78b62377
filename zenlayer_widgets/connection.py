"""Get a client: the real API when credentials are configured, else the user's shared sandbox.

Credentials come from the chain of :meth:`Credentials.discover` (arguments, a named profile, the
environment in zeno's / Terraform's / our spelling, zeno's profile files). Anything that says a
real account is meant (a base URL, a profile, half a key pair) but gives no usable credentials is
a :class:`CredentialsError` naming what is missing: never a silent fall back to the sandbox.

Sandbox mode finds (or starts) the one emulator server every kernel of this user shares (see
:mod:`.emulator.sandbox`: state persisted under ``ZENLAYER_SANDBOX_DIR``); ``client.sandbox`` is True.
"""

from __future__ import annotations

import os
import threading
import warnings
import weakref
from collections.abc import Hashable
from typing import Any

from .api.client import AsyncZenlayerClient, ZenlayerClient
from .api.credentials import Credentials
from .api.endpoint import env_base_url
from .api.errors import CredentialsError
from .api.profiles import ProfileInfo, list_profiles, profile_network  # noqa: F401  (re-exported)
from .api.read_only import resolve_read_only
from .core import arguments

#: Environment variable: how long STOPPING / BOOTING / CREATING last in the sandbox (seconds).
SANDBOX_TRANSITION_ENV = "ZENLAYER_SANDBOX_TRANSITION_SECONDS"
#: Environment variable: latency added to every sandbox response (milliseconds), to try slow links.
SANDBOX_LATENCY_ENV = "ZENLAYER_SANDBOX_LATENCY_MS"
#: Environment variable: "1" forces sandbox mode even when credentials are configured.
SANDBOX_ENV = "ZENLAYER_SANDBOX"
#: The label a sandbox client's credentials carry.
SANDBOX_SOURCE = "the shared sandbox"

_fallback_lock = threading.Lock()
#: Process-wide (see :mod:`._state`): the in-process emulator standing in when the shared sandbox cannot start.
_fallback: Any = None


def _sandbox_settings() -> tuple[float, float]:
    return float(os.environ.get(SANDBOX_TRANSITION_ENV, "3")), float(os.environ.get(SANDBOX_LATENCY_ENV, "0"))

_clients_lock = threading.Lock()
#: Process-wide (see :mod:`._state`), held weakly: clients :func:`connect` handed out, by what they were made from; one a re-run cell can have again.
_clients: weakref.WeakValueDictionary[Hashable, ZenlayerClient] = weakref.WeakValueDictionary()
#: Options whose values make a client of its own (a transport or a sleep function is never shared).
_UNSHARED = frozenset({"transport", "sleep"})


def sandbox_emulator() -> Any:
    """The user's shared sandbox (found or started; settings from the environment).

    Returns an object with ``url``, ``host_port``, ``access_key_id`` and ``access_key_password``.
    If the shared server cannot be started (a read-only data directory, say), an in-process
    emulator stands in, with a warning that its state is this kernel's alone.
    """
    from .emulator.sandbox import SandboxError, ensure_sandbox

    seconds, latency = _sandbox_settings()
    try:
        return ensure_sandbox(seconds, latency)
    except (SandboxError, OSError, TimeoutError) as error:
        global _fallback
        with _fallback_lock:
            if _fallback is None:
                from .emulator import start_emulator

                warnings.warn(f"The shared sandbox could not start ({error}); this kernel uses its own in-memory "
                              "emulator instead (other kernels will not see its changes).", RuntimeWarning, stacklevel=3)
                _fallback = start_emulator(seed="demo", transition_seconds=seconds, latency_ms=latency)
            return _fallback


def forget_clients() -> None:
    """Forget the clients :func:`connect` handed out and stop the in-process stand-in sandbox (for
    :func:`zenlayer_widgets._state.reset_for_tests`): the next ``connect()`` makes new ones."""
    global _fallback
    with _clients_lock:
        _clients.clear()
    with _fallback_lock:
        fallback, _fallback = _fallback, None
    if fallback is not None:
        fallback.stop()


def reset_sandbox() -> str:
    """Put the shared sandbox back to the demo fleet (kernels stay connected); says what was done."""
    from .emulator.sandbox import reset_sandbox as reset

    return reset()


def _sandbox_client(**client_options: Any) -> ZenlayerClient:
    emulator = sandbox_emulator()
    demo = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password,
                       source=SANDBOX_SOURCE)
    return _client(demo, emulator.url, True, client_options)


def connect(
    credentials: Credentials | None = None,
    *,
    profile: str | None = None,
    sandbox: bool | None = None,
    base_url: str | None = None,
    **client_options: Any,
) -> ZenlayerClient:
    """A client for the real API if credentials are given or configured, else for the shared sandbox.

    Called again with the same credentials and settings (a re-run cell), it returns the same open
    client, whose connections are still warm; after ``client.close()`` it makes a new one.
    ``profile`` picks a profile of ``~/.zenlayer/credentials.json`` (it must exist); several
    clients of different profiles can live in one kernel. ``sandbox=True`` forces the emulator
    (so does ``ZENLAYER_SANDBOX=1``); ``sandbox=False`` refuses to fall back to it.
    ``read_only=True`` (or ``ZENLAYER_READ_ONLY=1``, or ``"read_only": true`` in the profile) gives a client that
    refuses every write action before sending it (``client.read_only``; see :mod:`.api.read_only`).
    ``proxy="http://host:port"`` and ``verify=<CA file> | False | ssl.SSLContext`` (also read from
    the profile) say how to reach the API; the sandbox, on loopback, is always reached directly.
    """
    _check_connect_arguments(profile, sandbox, base_url, client_options)
    if sandbox is None and os.environ.get(SANDBOX_ENV, "").strip().lower() in {"1", "true", "yes"}:
        sandbox = True
    if sandbox is True:
        if credentials is not None or profile is not None:
            raise ValueError("sandbox=True uses the sandbox's own key pair: give credentials/profile or sandbox=True, not both")
        return _sandbox_client(**client_options)
    found = credentials or Credentials.discover(profile=profile)
    if found is not None:
        if found.profile:  # the profile's proxy / verify, unless given here
            client_options = {**profile_network(found.profile), **client_options}
        return _client(found, base_url, False, client_options)
    from_env = env_base_url(os.environ)
    named_url = ("the base_url argument", base_url) if base_url else (from_env[1], from_env[0]) if from_env else None
    if named_url:
        raise CredentialsError(
            f"{named_url[0]} is set ({named_url[1]}), so a real account is meant, but no credentials were found: run "
            "`zeno configure`, or set ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET (or ZENLAYER_TOKEN). "
            "Not falling back to the sandbox; unset it, or use connect(sandbox=True), for the sandbox."
        )
    if sandbox is False:
        return ZenlayerClient(None, base_url=base_url, **client_options)  # raises CredentialsError
    return _sandbox_client(**client_options)


def _check_connect_arguments(profile: Any, sandbox: Any, base_url: Any, options: dict[str, Any]) -> None:
    """Refuse bad arguments before a sandbox is started or a request sent (``timeout=nan`` would fail at the first call)."""
    arguments.text_arg(profile, "profile", optional=True, empty=True)
    arguments.optional_flag(sandbox, "sandbox")
    arguments.text_arg(base_url, "base_url", optional=True, empty=True)
    for name in ("timeout", "deadline"):
        if options.get(name) is not None:
            arguments.seconds(options[name], name)


def connection_source(client: ZenlayerClient | AsyncZenlayerClient) -> str:
    """Where the client's credentials came from and which profile, never a secret (e.g. for a banner)."""
    credentials = client.credentials
    if client.sandbox:
        return SANDBOX_SOURCE
    return credentials.describe()


def _client(credentials: Credentials, base_url: str | None, sandbox: bool, options: dict[str, Any]) -> ZenlayerClient:
    """The open client made earlier from the same credentials, URL and options (a re-run cell keeps its
    warm connections and async twin), else a new one. A closed client is never handed out again. Read-only mode is
    settled here (argument, ``ZENLAYER_READ_ONLY``, the profile's flag), so a changed setting makes another client."""
    options = {**options, "read_only": resolve_read_only(options.get("read_only"), credentials)}
    if _UNSHARED & options.keys():
        return ZenlayerClient(credentials, base_url=base_url, sandbox=sandbox, **options)
    key = (credentials, base_url or (env_base_url(os.environ) or (None,))[0], sandbox, tuple(sorted(options.items())))
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
    """One line for the screen: sandbox or real, where, and whose credentials (source, profile); read-only said first."""
    read_only = "Read-only (every change is refused before it is sent). " if client.read_only else ""
    if client.sandbox:
        return (f"{read_only}Sandbox: the built-in Zenlayer API emulator at {client.base_url} (demo data, nothing real "
                "is changed; shared by all your kernels, kept across restarts; zw.reset_sandbox() starts it over)")
    return f"{read_only}Zenlayer Cloud API at {client.base_url}, {connection_source(client)}"
