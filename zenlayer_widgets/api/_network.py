"""How a client reaches its endpoint: the proxy, the TLS trust, and httpx's transports held to the exchange deadline.

A client talks to one base URL, so its proxy is chosen once, for that URL: ``proxy=`` when given,
else the environment as httpx and curl read it (``HTTPS_PROXY``/``HTTP_PROXY``/``ALL_PROXY``,
``NO_PROXY``). A loopback endpoint (the sandbox, a local emulator) is always reached directly.
``verify`` is ``True`` (the system's trust as httpx builds it: certifi, or ``SSL_CERT_FILE`` /
``SSL_CERT_DIR``), a CA file or folder, ``False``, or an ``ssl.SSLContext``. Verified contexts are
shared between clients while the files they were built from are unchanged, so a variable set (or
a CA file written) after the first client takes effect for the next one.
"""

from __future__ import annotations

import functools
import importlib.util
import ipaddress
import os
import ssl
import urllib.request
import warnings
from typing import Union

import httpx

from . import _deadline, _trust

#: What ``verify=`` accepts.
Verify = Union[bool, str, "os.PathLike[str]", ssl.SSLContext]
#: Proxy schemes httpx speaks (SOCKS needs ``httpx[socks]``).
PROXY_SCHEMES = ("http", "https", "socks5", "socks5h")
#: Whether HTTP/2 can be offered (``httpx[http2]`` installed): then a server that offers it through ALPN gets it.
HTTP2 = importlib.util.find_spec("h2") is not None
#: The trust environment variables (as httpx reads them).
CERT_FILE_ENV = "SSL_CERT_FILE"
CERT_DIR_ENV = "SSL_CERT_DIR"


class InsecureTransportWarning(UserWarning):
    """Credentials would travel over plain ``http://`` to a host that is not this computer."""


def is_loopback(host: str) -> bool:
    """``localhost`` (and ``*.localhost``) or a loopback address: this computer."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def shown_proxy(proxy: str) -> str:
    """A proxy URL for messages: a user name and password in it are not shown."""
    try:
        url = httpx.URL(proxy)
    except (httpx.InvalidURL, TypeError):
        return "<a proxy URL that does not parse>"
    return str(url.copy_with(username=None, password=None)) if url.userinfo else str(url)


def check_proxy(proxy: object) -> str | None:
    """``proxy`` as given (None: none asked for); ValueError with a clear message when it is not a proxy URL."""
    if proxy is None:
        return None
    if not isinstance(proxy, str) or not proxy.strip():
        raise ValueError(f"proxy must be a URL such as 'http://proxy.example.com:3128', not {type(proxy).__name__}")
    try:
        url = httpx.URL(proxy.strip())
    except httpx.InvalidURL:
        raise ValueError(f"proxy {shown_proxy(proxy)} is not a URL; give one such as 'http://proxy.example.com:3128'") from None
    if url.scheme not in PROXY_SCHEMES or not url.host:
        raise ValueError(f"proxy must be an {', '.join(PROXY_SCHEMES)} URL with a host, such as "
                         f"'http://proxy.example.com:3128', not {shown_proxy(proxy)}")
    return proxy.strip()


def environment_proxy(url: httpx.URL) -> str | None:
    """The proxy the environment names for ``url`` (``HTTPS_PROXY`` or ``HTTP_PROXY`` by its scheme, else
    ``ALL_PROXY``; lower case first, as curl), None when ``NO_PROXY`` covers its host or none is set."""
    proxies = urllib.request.getproxies_environment()
    chosen = proxies.get(url.scheme) or proxies.get("all")
    if not chosen:
        return None
    if bypassed(url, proxies.get("no", "")):
        return None
    return chosen if "://" in chosen else f"http://{chosen}"


def bypassed(url: httpx.URL, no_proxy: str) -> bool:
    """Whether ``NO_PROXY`` (comma-separated: ``*``, host names that also cover their subdomains, with or
    without a leading dot, addresses, each optionally with ``:port``) says to reach ``url`` directly."""
    host = url.host.rstrip(".").lower()
    port = url.port or {"http": 80, "https": 443}.get(url.scheme)
    for entry in (part.strip().lower() for part in no_proxy.split(",")):
        if entry == "*":
            return True
        name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        name = name.strip("[]").lstrip(".").rstrip(".")
        if not name or (entry_port and entry_port != str(port)):
            continue
        if host == name or host.endswith("." + name):
            return True
    return False


def proxy_for(base_url: str, proxy: str | None) -> str | None:
    """The proxy a client of ``base_url`` goes through: none for loopback, else ``proxy``, else the environment's."""
    url = httpx.URL(base_url)
    if is_loopback(url.host):
        return None
    if proxy is not None:
        return proxy
    found = environment_proxy(url)
    return check_proxy(found) if found else None


def warn_if_cleartext(base_url: str, has_credentials: bool) -> None:
    """Warn when credentials would go out over plain http:// to another computer (anyone on the path reads them)."""
    url = httpx.URL(base_url)
    if has_credentials and url.scheme == "http" and not is_loopback(url.host):
        warnings.warn(
            f"{base_url} is plain http:// to another computer: every request's signature or bearer token, and every "
            "answer, can be read (a token can be replayed) by anyone on the network path. Use https://.",
            InsecureTransportWarning,
            stacklevel=3,
        )


def check_verify(verify: object) -> Verify:
    """``verify`` as given; ValueError (nothing opened) when it is none of the accepted kinds or names no file."""
    if isinstance(verify, (bool, ssl.SSLContext)):
        return verify
    if isinstance(verify, (str, os.PathLike)):
        path = os.fspath(verify)
        if isinstance(path, str) and path.strip() and os.path.exists(path):
            return path
        raise ValueError(f"verify={path!r}: no such CA file or folder (give a PEM file of the CA certificates to trust)")
    raise ValueError(f"verify must be True, False, a CA file path or an ssl.SSLContext, not {type(verify).__name__}")


def tls_context(verify: Verify, https: bool) -> ssl.SSLContext:
    """The TLS settings for ``verify``; shared between clients while the files they come from are unchanged."""
    if isinstance(verify, ssl.SSLContext):
        return verify
    if verify is False:
        return httpx.create_ssl_context(verify=False)
    if verify is True:
        if not https:  # plain http: nothing is loaded for a connection that never uses TLS (a proxy's aside)
            return _no_ca_context()
        cert_file, cert_dir = os.environ.get(CERT_FILE_ENV, ""), os.environ.get(CERT_DIR_ENV, "")
        return _default_context(cert_file, cert_dir, _stamp(cert_file or cert_dir))
    path = os.fspath(verify)
    return _ca_context(path, _stamp(path))


def _stamp(path: str) -> tuple[int, int] | None:
    """What tells a changed CA file apart (its size and change time), None without one."""
    try:
        status = os.stat(path) if path else None
    except OSError:
        return None
    return (status.st_mtime_ns, status.st_size) if status else None


# Process-wide (zenlayer_widgets._state): the verified contexts below, shared by every client of the process.
@functools.lru_cache(maxsize=8)
def _default_context(cert_file: str, cert_dir: str, stamp: tuple[int, int] | None) -> ssl.SSLContext:
    del stamp  # a key only: a new context once the file changed
    if cert_file:  # the user's: loaded now, so a bad one is said when the client is made
        return ssl.create_default_context(cafile=cert_file)
    if cert_dir:
        return ssl.create_default_context(capath=cert_dir)
    return _trust.default_context()  # certifi's bundle (httpx's default), loaded in the background


@functools.lru_cache(maxsize=8)
def _ca_context(path: str, stamp: tuple[int, int] | None) -> ssl.SSLContext:
    del stamp
    if os.path.isdir(path):
        return ssl.create_default_context(capath=path)
    return ssl.create_default_context(cafile=path)


@functools.cache
def _no_ca_context() -> ssl.SSLContext:
    return ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)


def forget_tls_contexts() -> None:
    """Drop the shared TLS contexts (process-wide, see :mod:`zenlayer_widgets._state`); the next client builds anew."""
    for cache in (_default_context, _ca_context, _no_ca_context):
        cache.cache_clear()


def sync_transport(base_url: str, *, verify: Verify, proxy: str | None, limits: httpx.Limits) -> httpx.HTTPTransport:
    """httpx's transport to ``base_url`` (through its proxy, HTTP/2 when offered), held to the exchange deadline."""
    https = base_url.startswith("https:")
    return _deadline.transport(verify=tls_context(verify, https), limits=limits, http2=HTTP2 and https,
                               proxy=proxy_for(base_url, proxy))


def async_transport(base_url: str, *, verify: Verify, proxy: str | None, limits: httpx.Limits) -> httpx.AsyncHTTPTransport:
    """httpx's async transport to ``base_url``, as :func:`sync_transport`."""
    https = base_url.startswith("https:")
    return _deadline.async_transport(verify=tls_context(verify, https), limits=limits, http2=HTTP2 and https,
                                     proxy=proxy_for(base_url, proxy))


def certificate_failure(error: BaseException) -> ssl.SSLCertVerificationError | None:
    """The certificate verification failure behind an httpx connect error, if that is what it is."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        if isinstance(current, ssl.SSLCertVerificationError):
            return current
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return None


def certificate_help(error: ssl.SSLCertVerificationError) -> str:
    """What a certificate failure means and how to trust a private CA (never retried: it would fail the same way)."""
    reason = error.verify_message or error.reason or str(error)
    return (f"the server's TLS certificate was not accepted ({reason}); nothing was sent. If a proxy or gateway of your "
            "organisation signs with its own CA, trust that CA: zw.connect(..., verify='/path/to/ca.pem'), \"verify\" in "
            f"the profile, or {CERT_FILE_ENV}=/path/to/ca.pem (verify=False turns checking off: only for a test server)")
