"""``ZenlayerClient`` and ``AsyncZenlayerClient``: the Zenlayer Cloud API v2 (vm) over httpx's keep-alive pools.

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
import threading
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, Concatenate, Generic, ParamSpec, TypeVar, cast, overload

import httpx

from . import _actions, _deadline, _flows, _network
from ._flows import DEFAULT_MAX_LISTING_BYTES, DEFAULT_MAX_PAGES, Flow, Sleep
from ._network import Verify
from ._network import forget_tls_contexts as forget_tls_contexts  # for zenlayer_widgets._state
from ._wire import (
    DEFAULT_MAX_RESPONSE_BYTES,
    BodyReader,
    Redactor,
    nothing_sent,
    past_deadline,
    retry_after,
)
from .auth import ZC2Auth
from .credentials import Credentials, credentials_key
from .endpoint import DEFAULT_BASE_URL, env_base_url, normalize_base_url
from .errors import CredentialsError
from .params import seconds_arg
from .read_only import resolve_read_only
from .retry import RetryPolicy
from .throttle import RateLimiter, check_limiter, env_rate, shared_bucket
from .vocabulary import API_VERSIONS, DEFAULT_API_VERSION, SERVICE_PATH

#: Without an explicit ``deadline``, one exchange may take this many times ``timeout`` in all.
DEADLINE_FACTOR = 2.0

P = ParamSpec("P")
R = TypeVar("R")

NO_CREDENTIALS_HELP = (
    "No Zenlayer credentials found. Run `zeno configure` (profiles in ~/.zenlayer/credentials.json), set "
    "ZENLAYER_ACCESS_KEY_ID and ZENLAYER_ACCESS_KEY_SECRET (or Terraform's ZENLAYERCLOUD_ACCESS_KEY_ID and "
    "ZENLAYERCLOUD_ACCESS_KEY_PASSWORD, or ZENLAYER_TOKEN), or pass Credentials(...); "
    "zenlayer_widgets.connect(sandbox=True) uses the built-in sandbox emulator."
)


#: Connections per client: an inventory load of 10,000 instances sends 25 requests at once; all stay
#: alive for the next load (httpx's default keeps 20 of at most 100).
POOL_LIMITS = httpx.Limits(max_connections=32, max_keepalive_connections=32)


class _Operation(Generic[P, R]):
    """An API operation defined once as a flow: a method on ZenlayerClient, a coroutine method on AsyncZenlayerClient."""

    def __init__(self, flow: Callable[Concatenate[Any, P], Flow[R]]) -> None:
        self.flow = flow
        functools.update_wrapper(self, flow)  # type: ignore[arg-type]  # an instance stands in for the function
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
        deadline: float | None = None,
        max_response_bytes: int = DEFAULT_MAX_RESPONSE_BYTES,
        max_pages: int = DEFAULT_MAX_PAGES,
        max_listing_bytes: int = DEFAULT_MAX_LISTING_BYTES,
        max_throttle_retries: int = 5,
        throttle_budget_seconds: float = 60.0,
        sleep: Callable[[float], Any] | None = None,
        transport: httpx.BaseTransport | httpx.AsyncBaseTransport | None = None,
        sandbox: bool = False,
        clock: Callable[[], float] | None = None,
        read_only: bool | None = None,
        proxy: str | None = None,
        verify: Verify = True,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        if credentials is None:
            credentials = Credentials.discover()
            if credentials is None:
                raise CredentialsError(NO_CREDENTIALS_HELP)
        if not isinstance(credentials, Credentials):
            raise TypeError(f"credentials must be a Credentials, not {type(credentials).__name__}")
        if api_version not in API_VERSIONS:
            raise ValueError(f"api_version must be one of {', '.join(API_VERSIONS)}, not {api_version!r}")
        timeout = seconds_arg(timeout, "timeout")  # nan, inf, 0 or "10" refused here, not at the first call
        if deadline is not None:
            deadline = seconds_arg(deadline, "deadline")
        for name, value in (("max_response_bytes", max_response_bytes), ("max_pages", max_pages),
                            ("max_listing_bytes", max_listing_bytes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive integer, not {value!r}")
        #: The proxy asked for (None: the environment's, see :mod:`._network`) and the TLS trust.
        self.proxy = _network.check_proxy(proxy)
        self.verify = _network.check_verify(verify)
        if transport is not None and self.proxy is not None:
            raise ValueError("give proxy= or transport=, not both (a custom transport chooses its own way to the server)")
        self.credentials = credentials
        #: Only Describe*/Inquiry* actions are sent; any other is refused with ReadOnlyError (nothing sent).
        self.read_only = resolve_read_only(read_only, credentials)
        self.base_url = normalize_base_url(base_url or (env_base_url(os.environ) or (DEFAULT_BASE_URL,))[0])
        self.endpoint = self.base_url + SERVICE_PATH
        _network.warn_if_cleartext(self.base_url, has_credentials=True)
        self.api_version = api_version
        self.timeout = float(timeout)
        #: Seconds one HTTP exchange may take in all (connect, send, the whole answer); ``timeout`` is per read.
        self.deadline = float(deadline) if deadline is not None else DEADLINE_FACTOR * self.timeout
        self.max_response_bytes = max_response_bytes
        self.max_pages = max_pages
        self.max_listing_bytes = max_listing_bytes
        self.sandbox = bool(sandbox)
        #: Paces every request (retries too) and hears of every 429: given, else the process's shared bucket of this
        #: account when ``ZENLAYER_RATE_LIMIT`` is set, else None (not paced).
        self.rate_limiter = check_limiter(rate_limiter)
        if self.rate_limiter is None and (rate := env_rate(os.environ)) is not None:
            self.rate_limiter = shared_bucket(f"{self.base_url} {credentials_key(credentials)}", rate)
        self.retry_policy = RetryPolicy(max_throttle_retries=max_throttle_retries, budget_seconds=throttle_budget_seconds)
        self.redact = Redactor([credentials.access_key_password, credentials.token])
        #: HTTP requests actually sent (retries included; connections never made are not counted).
        self.request_count = 0
        #: This computer's clock (Unix seconds; injectable) and the correction learnt from the server's
        #: ``Date`` after a request was refused as expired: requests are signed at ``clock() + clock_offset``.
        self.clock: Callable[[], float] = clock or time.time
        self.clock_offset = 0.0
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
            "deadline": self.deadline,
            "max_response_bytes": self.max_response_bytes,
            "max_pages": self.max_pages,
            "max_listing_bytes": self.max_listing_bytes,
            "max_throttle_retries": self.retry_policy.max_throttle_retries,
            "throttle_budget_seconds": self.retry_policy.budget_seconds,
            "sandbox": self.sandbox,
            "clock": self.clock,
            "read_only": self.read_only,
            "proxy": self.proxy,
            "verify": self.verify,
            "rate_limiter": self.rate_limiter,
        }

    def signing_time(self) -> float:
        """The Unix time a request is signed with: this computer's clock, corrected for a skew the server showed."""
        return self.clock() + self.clock_offset

    def _auth(self) -> httpx.Auth:
        auth = self.credentials.auth()
        if isinstance(auth, ZC2Auth):
            auth.clock = self.signing_time
        return auth

    @staticmethod
    def _step(flow: Flow[Any], reply: Any, error: httpx.HTTPError | None) -> tuple[bool, Any]:
        """Advance ``flow`` with the last reply (or error): ``(True, result)`` when done, else ``(False, effect)``."""
        try:
            return False, (flow.throw(error) if error is not None else flow.send(reply))
        except StopIteration as stop:
            return True, stop.value

    def _count(self, reply: httpx.Response | None, error: httpx.HTTPError | None = None) -> None:
        if error is None or not nothing_sent(error):
            self.request_count += 1
        if reply is not None and reply.status_code == 429 and self.rate_limiter is not None:
            self.rate_limiter.throttled(retry_after(reply))  # every user of the limiter backs off, not only this call

    def __repr__(self) -> str:
        sandbox = ", sandbox=True" if self.sandbox else ""
        read_only = ", read_only=True" if self.read_only else ""
        return (f"{type(self).__name__}({self.credentials!r}, base_url={self.base_url!r}, api_version={self.api_version!r}"
                f"{sandbox}{read_only})")

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
    describe_image = _Operation(_actions.describe_image)
    describe_image_quota = _Operation(_actions.describe_image_quota)
    create_image = _Operation(_actions.create_image)
    delete_images = _Operation(_actions.delete_images)
    modify_images_attributes = _Operation(_actions.modify_images_attributes)
    create_instances = _Operation(_actions.create_instances)
    describe_zone_instance_config_infos = _Operation(_actions.describe_zone_instance_config_infos)
    inquiry_price_create_instance = _Operation(_actions.inquiry_price_create_instance)
    reset_instance = _Operation(_actions.reset_instance)
    terminate_instance = _Operation(_actions.terminate_instance)
    release_instances = _Operation(_actions.release_instances)


class ZenlayerClient(_BaseClient):
    """The blocking client: one ``httpx.Client`` (keep-alive pool) per instance; a context manager.

    It owns its async counterpart (:meth:`async_client`), on which the package's functions run
    (``load_inventory``, ``create_image``, ...); :meth:`close` closes both.

    ``credentials`` None means :meth:`Credentials.discover` (environment, then profile file);
    ``sleep`` waits between retries (injectable for tests); ``transport`` replaces the network
    (e.g. ``httpx.MockTransport``); ``sandbox`` only labels a client of the built-in emulator.
    ``proxy`` (``"http://host:port"``) overrides the environment's ``HTTPS_PROXY``/``ALL_PROXY``
    (loopback is always direct); ``verify`` is ``True``, a CA file, ``False`` or an ``ssl.SSLContext``.
    ``timeout`` bounds each read, ``deadline`` (default 2 x ``timeout``) each whole exchange;
    ``max_response_bytes`` caps an answer, ``max_pages`` and ``max_listing_bytes`` a ``list_*`` walk; ``clock`` (Unix
    seconds) is what requests are signed with, corrected once the server shows it is off.
    ``read_only`` (default: ``ZENLAYER_READ_ONLY``, else the profile's ``read_only`` flag) refuses every
    action but ``Describe*``/``Inquiry*`` with :class:`~.errors.ReadOnlyError` before anything is sent.
    ``rate_limiter`` (:class:`~.throttle.RateLimiter`; default: with ``ZENLAYER_RATE_LIMIT`` set, the process's one
    token bucket for this account) paces every request and makes all its users back off after a 429.
    """

    def _default_sleep(self) -> Callable[[float], Any]:
        return time.sleep

    def _open(self, transport: httpx.BaseTransport | None) -> httpx.Client:
        # the pool, and the async counterparts it will own (one per event loop, see async_client)
        self._async_lock = threading.Lock()
        self._async_clients: dict[asyncio.AbstractEventLoop, AsyncZenlayerClient] = {}
        self._closing: set[Any] = set()
        transport = transport or _network.sync_transport(self.base_url, verify=self.verify, proxy=self.proxy, limits=POOL_LIMITS)
        return httpx.Client(auth=self._auth(), timeout=self.timeout, transport=transport, trust_env=False)

    def _send(self, request: httpx.Request) -> httpx.Response:
        """One exchange within the deadline, its answer read up to ``max_response_bytes``."""
        token = _deadline.DEADLINE.set(time.monotonic() + self.deadline)
        try:
            response = self._http.send(request, stream=True)
            try:
                body = BodyReader(response, self.max_response_bytes)
                if not body.in_memory():
                    for chunk in response.iter_raw():
                        body.add(chunk)
            finally:
                response.close()
            return body.complete()
        except httpx.TimeoutException as error:
            if _deadline.passed():
                raise past_deadline(error, self.deadline) from None
            raise
        finally:
            _deadline.DEADLINE.reset(token)

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
                    return cast(R, effect)
                reply, error = None, None
                if isinstance(effect, Sleep):
                    self._sleep(effect.seconds)
                    continue
                if self.rate_limiter is not None:
                    self.rate_limiter.acquire_blocking()
                try:
                    reply = self._send(effect.request)
                except httpx.HTTPError as exc:
                    error = exc
                self._count(reply, error)

    def _async_transport(self) -> httpx.AsyncBaseTransport | None:
        """The transport an async counterpart shares, or None for httpx's default; refuses a sync-only one."""
        transport = self._transport
        if transport is None or isinstance(transport, httpx.AsyncBaseTransport):
            return transport
        raise TypeError(
            f"ZenlayerClient(transport={type(transport).__name__}(...)) is sync-only, but the package's functions "
            "(load_inventory, preflight, create_image, ...) run on the client's async counterpart. Give a transport "
            "that also implements httpx.AsyncBaseTransport (httpx.MockTransport and "
            "zenlayer_widgets.emulator.EmulatorTransport do), or call the client's own methods only."
        )

    def to_async(self) -> AsyncZenlayerClient:
        """A new :class:`AsyncZenlayerClient` with the same credentials, settings and transport (its own
        pool; the caller closes it). A sync-only custom transport is refused with ``TypeError``."""
        twin = AsyncZenlayerClient(self.credentials, transport=self._async_transport(), **self._settings())
        twin.retry_policy = self.retry_policy
        twin.clock_offset = self.clock_offset
        return twin

    def async_client(self, loop: asyncio.AbstractEventLoop | None = None) -> AsyncZenlayerClient:
        """The async counterpart this client owns for ``loop`` (default: the running one).

        Built on first use with the same credentials, settings, retry policy and transport (a
        sync-only custom transport is refused with ``TypeError``), kept for the next call on that
        loop and closed by :meth:`close`. One per loop: an asyncio connection cannot move between loops.
        """
        if loop is None:
            loop = asyncio.get_running_loop()  # RuntimeError outside a coroutine: name the loop
        with self._async_lock:
            if self.closed:
                raise RuntimeError("This ZenlayerClient is closed; open a new one (zenlayer_widgets.connect()).")
            for known in [k for k in self._async_clients if k.is_closed()]:
                del self._async_clients[known]
            counterpart = self._async_clients.get(loop)
            if counterpart is None or counterpart.closed:
                counterpart = self._async_clients[loop] = self.to_async()
            return counterpart

    def close(self) -> None:
        """Close the connection pool and every async counterpart (each on its own loop)."""
        self._http.close()
        with self._async_lock:
            owned, self._async_clients = self._async_clients, {}
        for loop, counterpart in owned.items():
            _close_on(loop, counterpart, self._closing)

    @property
    def closed(self) -> bool:
        return bool(self._http.is_closed)

    def __enter__(self) -> ZenlayerClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


def _close_on(loop: asyncio.AbstractEventLoop, client: AsyncZenlayerClient, pending: set[Any]) -> None:
    """Close ``client`` on the loop it belongs to: awaited there, scheduled when that loop is this
    thread's running one (``pending`` keeps the task referenced), nothing once the loop is closed."""
    if loop.is_closed() or client.closed:
        return
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        task = loop.create_task(client.aclose())
        pending.add(task)
        task.add_done_callback(pending.discard)
    elif loop.is_running():
        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(client.aclose(), loop).result(10)
    else:
        with contextlib.suppress(Exception):
            loop.run_until_complete(client.aclose())


class AsyncZenlayerClient(_BaseClient):
    """The asyncio client: the same constructor and operations as :class:`ZenlayerClient`, as coroutines.

    ``sleep`` is an async sleep (default :func:`asyncio.sleep`); ``transport`` an
    ``httpx.AsyncBaseTransport``. Use ``async with`` or call :meth:`aclose`.
    """

    def _default_sleep(self) -> Callable[[float], Awaitable[Any]]:
        return asyncio.sleep

    def _open(self, transport: httpx.AsyncBaseTransport | None) -> httpx.AsyncClient:
        transport = transport or _network.async_transport(self.base_url, verify=self.verify, proxy=self.proxy, limits=POOL_LIMITS)
        return httpx.AsyncClient(auth=self._auth(), timeout=self.timeout, transport=transport, trust_env=False)

    async def _send(self, request: httpx.Request) -> httpx.Response:
        """One exchange within the deadline, its answer read up to ``max_response_bytes``."""
        token = _deadline.DEADLINE.set(time.monotonic() + self.deadline)
        try:
            response = await self._http.send(request, stream=True)
            try:
                body = BodyReader(response, self.max_response_bytes)
                if not body.in_memory():
                    async for chunk in response.aiter_raw():
                        body.add(chunk)
            finally:
                await response.aclose()
            return body.complete()
        except httpx.TimeoutException as error:
            if _deadline.passed():
                raise past_deadline(error, self.deadline) from None
            raise
        finally:
            _deadline.DEADLINE.reset(token)

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
                    return cast(R, effect)
                reply, error = None, None
                if isinstance(effect, Sleep):
                    await self._sleep(effect.seconds)
                    continue
                if self.rate_limiter is not None:
                    await self.rate_limiter.acquire()
                try:
                    reply = await self._send(effect.request)
                except httpx.HTTPError as exc:
                    error = exc
                self._count(reply, error)

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    @property
    def closed(self) -> bool:
        return bool(self._http.is_closed)

    async def __aenter__(self) -> AsyncZenlayerClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()


__all__ = ["AsyncZenlayerClient", "ZenlayerClient"]
