"""Check a request's credentials: ZC2-HMAC-SHA256 over the raw body and the Host as received, or a bearer token.

Both signature forms are accepted: the sign page's (header values lower-cased and trimmed) and
the official Python SDK's (values verbatim). The timestamp must be within
``window_seconds`` of the server's clock, either way. Failures are 401 with the codes chosen in
``zenlayer_widgets.api.errors``; messages never contain a secret.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..api import errors, signing
from .exceptions import AuthFailure

DEFAULT_WINDOW_SECONDS = 300


@dataclass(frozen=True)
class AuthConfig:
    """The one accepted key pair and bearer token, and the timestamp window."""

    access_key_id: str
    access_key_password: str = field(repr=False)
    token: str | None = field(default=None, repr=False)
    window_seconds: float = DEFAULT_WINDOW_SECONDS


def _refuse(code: str, message: str) -> AuthFailure:
    return AuthFailure(message, code=code)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def _check_bearer(token: str, config: AuthConfig) -> None:
    if not token or not config.token or not _same(token, config.token):
        raise _refuse(errors.AUTH_FAILURE_TOKEN, "The bearer token is not valid.")


def _check_hmac(authorization: str, headers: Mapping[str, str], body: bytes, config: AuthConfig, now: float) -> None:
    parsed = signing.parse_authorization(authorization)
    if parsed is None:
        raise _refuse(errors.AUTH_FAILURE_MISSING,
                      "Malformed Authorization header; expected `ZC2-HMAC-SHA256 Credential=..., SignedHeaders=content-type;host, Signature=...`.")
    key_id, signed_headers, received = parsed
    if signed_headers.lower() != signing.SIGNED_HEADERS:
        raise _refuse(errors.AUTH_FAILURE_MISSING, f"SignedHeaders must be `{signing.SIGNED_HEADERS}`.")
    method = headers.get("x-zc-signature-method")
    if method != signing.SIGNATURE_METHOD:
        raise _refuse(errors.AUTH_FAILURE_MISSING, f"The header X-ZC-Signature-Method must be `{signing.SIGNATURE_METHOD}`.")
    timestamp = headers.get("x-zc-timestamp") or ""
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):
        raise _refuse(errors.AUTH_FAILURE_MISSING, "The header X-ZC-Timestamp must be Unix time in seconds.")
    content_type, host = headers.get("content-type") or "", headers.get("host") or ""
    if not content_type.strip() or not host.strip():
        raise _refuse(errors.AUTH_FAILURE_MISSING, "The signed headers Content-Type and Host are required.")
    if not _same(key_id, config.access_key_id):
        raise _refuse(errors.AUTH_FAILURE_ACCESS_KEY, "The access key id is not known.")
    expected = (
        signing.signature(config.access_key_password, timestamp, content_type, host, body, normalize=True),
        signing.signature(config.access_key_password, timestamp, content_type, host, body, normalize=False),
    )
    if not any(signing.signatures_match(candidate, received) for candidate in expected):
        raise _refuse(errors.AUTH_FAILURE_SIGNATURE, "The request signature does not match.")
    skew = int(timestamp) - now
    if abs(skew) > config.window_seconds:
        raise _refuse(errors.AUTH_FAILURE_EXPIRED,
                      f"X-ZC-Timestamp is {abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} the server clock; "
                      f"at most {config.window_seconds:g} s are allowed.")


def verify(headers: Mapping[str, str], body: bytes, config: AuthConfig, now: float) -> str:
    """Accept or refuse a request; returns ``"hmac"`` or ``"bearer"``. ``headers`` keys must be lower case."""
    authorization = (headers.get("authorization") or "").strip()
    if not authorization:
        raise _refuse(errors.AUTH_FAILURE_MISSING, "The Authorization header is missing.")
    scheme, _, rest = authorization.partition(" ")
    if scheme.lower() == "bearer":
        _check_bearer(rest.strip(), config)
        return "bearer"
    _check_hmac(authorization, headers, body, config, now)
    return "hmac"
