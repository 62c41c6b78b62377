"""httpx authentication for the Zenlayer API: ZC2-HMAC-SHA256 signatures and bearer tokens.

The signature covers the request exactly as it goes out: the raw body bytes and the ``Host``
header httpx will send (port included). Neither class shows its secret in ``repr``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from . import signing
from .errors import CredentialsError

JSON_CONTENT_TYPE = "application/json"


class ZC2Auth(httpx.Auth):
    """Sign each request with ZC2-HMAC-SHA256; ``clock`` (Unix seconds) is injectable to pin the timestamp."""

    requires_request_body = True

    def __init__(self, access_key_id: str, access_key_password: str, clock: Callable[[], float] = time.time) -> None:
        if not access_key_id or not access_key_password:
            raise CredentialsError("ZC2Auth needs both an access key id and an access key password.")
        self.access_key_id = access_key_id
        self._password = access_key_password
        self._clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = str(int(self._clock()))
        content_type = request.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        host = request.headers["Host"]
        sig = signing.signature(self._password, timestamp, content_type, host, request.content)
        request.headers["X-ZC-Timestamp"] = timestamp
        request.headers["X-ZC-Signature-Method"] = signing.SIGNATURE_METHOD
        request.headers["Authorization"] = signing.authorization_header(self.access_key_id, sig)
        yield request

    def __repr__(self) -> str:
        return f"ZC2Auth(access_key_id={self.access_key_id!r})"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (a console access token)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise CredentialsError("BearerAuth needs a non-empty token.")
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"
