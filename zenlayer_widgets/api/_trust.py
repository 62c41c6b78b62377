"""The default TLS trust (certifi's CA bundle, httpx's default) loaded in a background thread.

Parsing the bundle's 150-odd certificates takes 16-20 ms of CPU, and a client of an https URL needs
them only at its first TLS handshake, which comes after resolving the host name and a TCP connect
(a round trip to the API). So the context is made at once and its certificates load in a thread
(OpenSSL runs without the GIL meanwhile); every handshake of the clients' transports waits until
the load is done (:func:`wait`, :func:`await_loaded`, called by :mod:`._deadline`'s streams). A
handshake that did not wait would find no CA and refuse the server, never accept it.
"""

from __future__ import annotations

import asyncio
import os
import ssl
import sys
import threading
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

import httpcore


class BackgroundTrust(ssl.SSLContext):
    """``ssl.create_default_context(cafile=certifi.where())``, its CA certificates loading in a background thread."""

    loaded: Future[None]


def _load(context: BackgroundTrust) -> None:
    try:
        import certifi

        context.load_verify_locations(cafile=certifi.where())
    except BaseException as error:  # noqa: BLE001  (handed to every handshake, which then fails with it)
        context.loaded.set_exception(error)
    else:
        context.loaded.set_result(None)


def default_context() -> BackgroundTrust:
    """What ``ssl.create_default_context(cafile=certifi.where())`` makes (hostname checked, a certificate required,
    ``SSLKEYLOGFILE`` honoured), returned before its CA certificates are loaded."""
    context = BackgroundTrust(ssl.PROTOCOL_TLS_CLIENT)
    context.verify_mode = ssl.CERT_REQUIRED
    context.check_hostname = True
    if sys.version_info >= (3, 13):  # as create_default_context from 3.13 on
        context.verify_flags |= ssl.VERIFY_X509_PARTIAL_CHAIN | ssl.VERIFY_X509_STRICT
    keylog = os.environ.get("SSLKEYLOGFILE")
    if keylog and not sys.flags.ignore_environment:
        context.keylog_filename = keylog
    context.loaded = Future()
    context.loaded.set_running_or_notify_cancel()  # cannot be cancelled by a waiter that gives up
    threading.Thread(target=_load, args=(context,), name="zenlayer-widgets-ca-load", daemon=True).start()
    return context


def wait(context: object, timeout: float | None) -> None:
    """Before a handshake with ``context``: until its CA certificates are loaded (a connect error or timeout if not)."""
    if not isinstance(context, BackgroundTrust):
        return
    try:
        context.loaded.result(timeout)
    except FutureTimeout:
        raise httpcore.ConnectTimeout("timed out while loading the CA certificates") from None
    except Exception as error:
        raise httpcore.ConnectError(f"the CA certificates to verify the server with could not be loaded ({error})") from error


async def await_loaded(context: object, timeout: float | None) -> None:
    """:func:`wait` for a coroutine: the event loop runs on meanwhile."""
    if isinstance(context, BackgroundTrust) and not context.loaded.done():
        try:
            await asyncio.wait_for(asyncio.wrap_future(context.loaded), timeout)
        except asyncio.TimeoutError:
            raise httpcore.ConnectTimeout("timed out while loading the CA certificates") from None
        except Exception:  # noqa: BLE001, S110  (the load's own failure: raised by wait() below)
            pass
    wait(context, 0)
