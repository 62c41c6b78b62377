"""``ZenlayerClient`` and ``AsyncZenlayerClient``: the Zenlayer Cloud API v2 (vm) over one keep-alive pool.

Both share :class:`_BaseClient` (settings, credentials, the retry policy) and every operation,
which is written once as a flow in :mod:`._actions`; they differ only in how a flow's effects are
carried out (blocking ``httpx.Client`` / ``time.sleep`` vs ``httpx.AsyncClient`` / ``asyncio.sleep``)::

    with ZenlayerClient() as client:              # credentials from the environment or profile
        for instance in client.list_instances(zone_id="FRA-A"):
            print(instance.instance_name, instance.instance_status)

    async with AsyncZenlayerClient() as client:
        zones = await client.describe_zones()
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import os
import ssl
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, overload

import httpx

from . import _actions, _flows
from ._flows import Flow, Sleep
from ._pool import async_transport
from ._wire import (
    API_VERSIONS,
    DEFAULT_API_VERSION,
    DEFAULT_BASE_URL,
    ENV_BASE_URL,
    SERVICE_PATH,
    Redactor,
    nothing_sent,
    normalize_base_url,
)
from .credentials import Credentials
from .errors import CredentialsError
from .retry import RetryPolicy

P = ParamSpec("P")
R = TypeVar("R")

NO_CREDENTIALS_HELP = (
    "No Zenlayer credentials found. Pass Credentials(access_key_id=..., access_key_password=...) or "
    "Credentials(token=...), set ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_PASSWORD (or ZENLAYER_TOKEN), "
    "or write them to ~/.zenlayer/credentials; zenlayer_widgets.connect(sandbox=True) uses the built-in emulator."
)


#: Connections per client: an inventory load of 10,000 instances sends 25 requests at once; all stay
#: alive for the next load (httpx's default keeps 20 of at most 100).
POOL_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)


@functools.lru_cache(maxsize=None)
def tls_context(https: bool) -> ssl.SSLContext:
    """The TLS settings of every client in this process, built on first use and then shared.

    For https, httpx's verified context (certifi's CAs, ``SSL_CERT_FILE``/``SSL_CERT_DIR`` as they
    were at first use): loading the CAs is what made each client cost tens of milliseconds. An
    http:// endpoint (the emulator) gets a context without CAs, which verifies certificates and so
    refuses any TLS peer: nothing is loaded for a connection that never uses TLS.
    """
    return httpx.create_ssl_context() if https else ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


class _Operation(Generic[P, R]):
    """An API operation defined once as a flow: a method on ZenlayerClient, a coroutine method on AsyncZenlayerClient."""

    def __init__(self, flow: Callable[Concatenate[Any, P], Flow[R]]) -> None:
        self.flow = flow
        functools.update_wrapper(self, flow)
        signature = inspect.signature(flow)
        parameters = list(signature.parameters.values())[1:]  # without the client
        returns = signature.return_annotation  # "Flow[X]" -> "X": what the method gives back
        if isinstance(returns, str) and returns.startswith("Flow[") and returns.endswith("]"):
            returns = returns[len("Flow[") : -1]
        self.__signature__ = signature.replace(parameters=parameters, return_annotation=returns)

    @overload
    def __get__(self, client: None, owner: type | None = None) -> _Operation[P, R]: ...
    @overload
    def __get__(self, client: AsyncZenlayerClient, owner: type | None = None) -> Callable[P, Coroutine[Any, Any, R]]: ...
    @overload
    def __get__(self, client: ZenlayerClient, owner: type | None = None) -> Callable[P, R]: ...

    def __get__(self, client: Any, owner: type | None = None) -> Any:
        if client is None:
            return self
        method = client._bind(self.flow)
        functools.update_wrapper(method, self.flow)
        method.__signature__ = self.__signature__
        return method


class _BaseClient:
    """Settings, credentials and operations shared by the sync and async clients."""

    def __init__(
        self,
        credentials: Credentials | None = None,
        *,
        base_url: str | None = None,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 30.0,
        max_throttle_retries: int = 5,
        throttle_budget_seconds: float = 60.0,
        sleep: Callable[[float], Any] | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        sandbox: bool = False,
    ) -> None:
        if credentials is None:
            credentials = Credentials.discover()
            if credentials is None:
                raise CredentialsError(NO_CREDENTIALS_HELP)
        if not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be a Credentials, not {type(credentials).__name__}")
        if api_version not in API_VERSIONS:
            raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)}, not {api_version!r}")
        if not timeout or timeout <= 0:
            raise ValueError(f"timeout must be a positive number of seconds, not {timeout!r}")
        self.credentials = credentials
        self.base_url = normalize_base_url(base_url or os.environ.get(ENV_BASE_URL) or DEFAULT_BASE_URL)
        self.endpoint = self.base_url + SERVICE_PATH
        self.api_version = api_version
        self.timeout = float(timeout)
        self.sandbox = bool(sandbox)
        self.retry_policy = RetryPolicy(max_throttle_retries=max_throttle_retries, budget_seconds=throttle_budget_seconds)
        self.redact = Redactor([credentials.access_key_password, credentials.token])
        #: HTTP requests actually sent (retries included; connections never made are not counted).
        self.request_count = 0
        self._transport = transport
        self._sleep = sleep or self._default_sleep()
        self._http = self._open(transport)

    # Subclasses: how to sleep and which httpx client to use.
    def _default_sleep(self) -> Callable[[float], Any]:
        raise NotImplementedError

    def _open(self, transport: Any) -> Any:
        raise NotImplementedError

    def _bind(self, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        raise NotImplementedError

    def _settings(self) -> dict[str, Any]:
        return {
            "base_url": self.base_url,
            "api_version": self.api_version,
            "timeout": self.timeout,
            "max_throttle_retries": self.retry_policy.max_throttle_retries,
            "throttle_budget_seconds": self.retry_policy.budget_seconds,
            "sandbox": self.sandbox,
        }

    @staticmethod
    def _step(flow: Flow[Any], reply: Any, error: httpx.HTTPError | None) -> tuple[bool, Any]:
        """Advance ``flow`` with the last reply (or error): ``(True, result)`` when done, else ``(False, effect)``."""
        try:
            return False, (flow.throw(error) if error is not None else flow.send(reply))
        except StopIteration as stop:
            return True, stop.value

    def _count(self, error: httpx.HTTPError | None = None) -> None:
        if error is None or not nothing_sent(error):
            self.request_count += 1

    def __repr__(self) -> str:
        sandbox = ", sandbox=True" if self.sandbox else ""
        return f"{type(self).__name__}({self.credentials!r}, base_url={self.base_url!r}, api_version={self.api_version!r}{sandbox})"

    call = _Operation(_flows.call)
    describe_zones = _Operation(_actions.describe_zones)
    describe_instances = _Operation(_actions.describe_instances)
    list_instances = _Operation(_actions.list_instances)
    describe_instances_status = _Operation(_actions.describe_instances_status)
    list_instance_statuses = _Operation(_actions.list_instance_statuses)
    start_instances = _Operation(_actions.start_instances)
    stop_instances = _Operation(_actions.stop_instances)
    describe_images = _Operation(_actions.describe_images)
    list_images = _Operation(_actions.list_images)
    describe_image_quota = _Operation(_actions.describe_image_quota)
    create_image = _Operation(_actions.create_image)
    delete_images = _Operation(_actions.delete_images)
    modify_images_attributes = _Operation(_actions.modify_images_attributes)


class ZenlayerClient(_BaseClient):
    """The blocking client: one ``httpx.Client`` (keep-alive pool) per instance; a context manager.

    ``credentials`` None means :meth:`Credentials.discover` (environment, then profile file);
    ``sleep`` waits between retries (injectable for tests); ``transport`` replaces the network
    (e.g. ``httpx.MockTransport``); ``sandbox`` only labels a client of the built-in emulator.
    """

    def _default_sleep(self) -> Callable[[float], Any]:
        return time.sleep

    def _open(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        return httpx.Client(auth=self.credentials.auth(), timeout=self.timeout, transport=transport,
                            verify=tls_context(self.base_url.startswith("https:")), limits=POOL_LIMITS)

    def _bind(self, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        def method(*args: Any, **kwargs: Any) -> Any:
            return self._run(flow(self, *args, **kwargs))

        return method

    def _run(self, flow: Flow[R]) -> R:
        reply: Any = None
        error: httpx.HTTPError | None = None
        with contextlib.closing(flow):
            while True:
                done, effect = self._step(flow, reply, error)
                if done:
                    return effect
                reply, error = None, None
                if isinstance(effect, Sleep):
                    self._sleep(effect.seconds)
                    continue
                try:
                    reply = self._http.send(effect.request)
                except httpx.HTTPError as exc:
                    error = exc
                self._count(error)

    def to_async(self) -> AsyncZenlayerClient:
        """An :class:`AsyncZenlayerClient` with the same credentials and settings (its own pool).

        The transport is shared only if it also works asynchronously (``httpx.MockTransport`` does).
        """
        transport = self._transport if isinstance(self._transport, httpx.AsyncBaseTransport) else None
        twin = AsyncZenlayerClient(self.credentials, transport=transport, **self._settings())
        twin.retry_policy = self.retry_policy
        return twin

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    def __enter__(self) -> ZenlayerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class AsyncZenlayerClient(_BaseClient):
    """The asyncio client: the same constructor and operations as :class:`ZenlayerClient`, as coroutines.

    ``sleep`` is an async sleep (default :func:`asyncio.sleep`); ``transport`` an
    ``httpx.AsyncBaseTransport``. Use ``async with`` or call :meth:`aclose`.
    """

    def _default_sleep(self) -> Callable[[float], Awaitable[Any]]:
        return asyncio.sleep

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        tls = tls_context(self.base_url.startswith("https:"))
        return httpx.AsyncClient(auth=self.credentials.auth(), timeout=self.timeout, verify=tls, limits=POOL_LIMITS,
                                 transport=transport or async_transport(tls, POOL_LIMITS))

    def _bind(self, flow: Callable[..., Flow[Any]]) -> Callable[..., Any]:
        async def method(*args: Any, **kwargs: Any) -> Any:
            return await self._run(flow(self, *args, **kwargs))

        return method

    async def _run(self, flow: Flow[R]) -> R:
        reply: Any = None
        error: httpx.HTTPError | None = None
        with contextlib.closing(flow):
            while True:
                done, effect = self._step(flow, reply, error)
                if done:
                    return effect
                reply, error = None, None
                if isinstance(effect, Sleep):
                    await self._sleep(effect.seconds)
                    continue
                try:
                    reply = await self._http.send(effect.request)
                except httpx.HTTPError as exc:
                    error = exc
                self._count(error)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return self._http.is_closed

    async def __aenter__(self) -> AsyncZenlayerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


__all__ = ["AsyncZenlayerClient", "ZenlayerClient"]
