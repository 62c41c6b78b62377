"""httpx authentication for the Zenlayer API: ZC2-HMAC-SHA256 signatures and bearer tokens.

The signature covers the request exactly as it goes out: the raw body bytes and the ``Host``
header httpx will send (port included). Neither class shows its secret in ``repr``, and neither
sends a header value HTTP cannot carry (a token with a stray newline): the refusal names the
header and the character, never the value, and no request leaves.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Generator

import httpx

from . import signing
from .errors import CredentialsError

JSON_CONTENT_TYPE = "application/json"


def _bad_character(char: str) -> str | None:
    """How to name ``char`` if an HTTP header value may not hold it (visible ASCII and space only), else None."""
    if " " <= char <= "~":
        return None
    kind = "a control character" if ord(char) < 0x20 or 0x7F <= ord(char) <= 0x9F else "a non-ASCII character"
    return f"{kind} (U+{ord(char):04X})"


def check_header_text(value: str, what: str, header: str = "Authorization") -> None:
    """:class:`CredentialsError` if ``value`` (a credential bound for ``header``) holds a character HTTP cannot carry.

    The message names the character and its position, never the value: it may be a secret.
    """
    for position, char in enumerate(value, 1):
        named = _bad_character(char)
        if named is not None:
            raise CredentialsError(
                f"The {what} contains {named} at position {position}, which the {header} header cannot carry; "
                "nothing was sent. Check the credentials for a stray newline or a paste error."
            )


def check_request_headers(request: httpx.Request) -> None:
    """Refuse to send a request with a control character in any header value (named by header, value not shown)."""
    for name, value in request.headers.raw:
        for byte in value:
            if byte < 0x20 and byte != 0x09 or byte == 0x7F:
                header = name.decode("ascii", "replace")
                raise CredentialsError(
                    f"The {header} header contains a control character (U+{byte:04X}); nothing was sent (the value is not shown)."
                )


class ZC2Auth(httpx.Auth):
    """Sign each request with ZC2-HMAC-SHA256; ``clock`` (Unix seconds) is injectable to pin the timestamp."""

    requires_request_body = True

    def __init__(self, access_key_id: str, access_key_password: str, clock: Callable[[], float] = time.time) -> None:
        if not access_key_id or not access_key_password:
            raise CredentialsError("ZC2Auth needs both an access key id and an access key password.")
        check_header_text(access_key_id, "access key id")
        self.access_key_id = access_key_id
        self._password = access_key_password
        #: Unix seconds; the clients replace it to sign with a clock corrected for skew.
        self.clock = clock

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        timestamp = str(int(self.clock()))
        content_type = request.headers.setdefault("Content-Type", JSON_CONTENT_TYPE)
        host = request.headers["Host"]
        sig = signing.signature(self._password, timestamp, content_type, host, request.content)
        request.headers["X-ZC-Timestamp"] = timestamp
        request.headers["X-ZC-Signature-Method"] = signing.SIGNATURE_METHOD
        request.headers["Authorization"] = signing.authorization_header(self.access_key_id, sig)
        check_request_headers(request)
        yield request

    def __repr__(self) -> str:
        return f"ZC2Auth(access_key_id={self.access_key_id!r})"


class BearerAuth(httpx.Auth):
    """``Authorization: Bearer <token>`` (a console access token)."""

    def __init__(self, token: str) -> None:
        if not token:
            raise CredentialsError("BearerAuth needs a non-empty token.")
        check_header_text(token, "bearer token")
        self._token = token

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        request.headers["Authorization"] = f"Bearer {self._token}"
        check_request_headers(request)
        yield request

    def __repr__(self) -> str:
        return "BearerAuth(token=<hidden>)"
