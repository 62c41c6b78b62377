"""One error tree for everything the Zenlayer API (or the way to it) can do wrong.

::

    ZenlayerError
    ├── CredentialsError          no or incomplete credentials (raised before any request)
    ├── ReadOnlyError             a write action asked of a read-only client (raised before any request)
    ├── TransportError            the request or its answer did not make it
    │   ├── ConnectError          never reached the server: nothing can have changed
    │   │   └── CertificateError      the server's TLS certificate was not accepted (not retried)
    │   └── OutcomeUnknown        sent, but no complete answer (timeout, dropped connection)
    └── APIError(code, message, request_id, http_status)
        ├── RateLimited           REQUEST_LIMIT_EXCEEDED (HTTP 429)
        ├── AuthError             signature, key, token or timestamp refused (401/403)
        ├── InvalidParameter      a missing, mistyped or refused parameter (400)
        ├── NotFound              INVALID_*_NOT_FOUND (404)
        ├── QuotaExceeded         LIMIT_EXCEEDED_* (400)
        ├── InvalidState          UNSUPPORTED_OPERATION_*, OPERATION_DENIED_*, INVALID_*_STATUS
        ├── ServerError           any 5xx: the outcome of a change is unknown
        └── UnexpectedResponse    an answer that is not the API's JSON (HTML 502, empty body...)

Codes the reference leaves UNDOCUMENTED (auth and parameter errors) are the ones below; the
emulator answers with exactly these, the client maps them to classes.
"""

from __future__ import annotations

from typing import Any

# Documented business codes.
REQUEST_LIMIT_EXCEEDED = "REQUEST_LIMIT_EXCEEDED"
INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"
INVALID_INSTANCE_NOT_FOUND = "INVALID_INSTANCE_NOT_FOUND"
INVALID_IMAGE_NOT_FOUND = "INVALID_IMAGE_NOT_FOUND"
INVALID_ZONE_NOT_FOUND = "INVALID_ZONE_NOT_FOUND"
INVALID_REGION_NOT_FOUND = "INVALID_REGION_NOT_FOUND"
INVALID_IMAGE_STATUS = "INVALID_IMAGE_STATUS"
LIMIT_EXCEEDED_IMAGE_QUOTA = "LIMIT_EXCEEDED_IMAGE_QUOTA"
UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING = "UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING"
UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT = "UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT"
UNSUPPORTED_OPERATION_DISK_UNAVAILABLE = "UNSUPPORTED_OPERATION_DISK_UNAVAILABLE"
UNSUPPORTED_OPERATION_DISK_MAKING_IMAGE = "UNSUPPORTED_OPERATION_DISK_MAKING_IMAGE"
OPERATION_DENIED_INSTANCE_RECYCLED = "OPERATION_DENIED_INSTANCE_RECYCLED"
OPERATION_DENIED_INSTANCE_NOT_STOPPED = "OPERATION_DENIED_INSTANCE_NOT_STOPPED"
OPERATION_DENIED_INSTANCE_NOT_RUNNING = "OPERATION_DENIED_INSTANCE_NOT_RUNNING"

# Chosen where the reference is silent (see docs/api-choices.md).
AUTH_FAILURE_MISSING = "AUTH_FAILURE_MISSING_AUTHORIZATION"  # 401: no or malformed Authorization / X-ZC-* header
AUTH_FAILURE_ACCESS_KEY = "AUTH_FAILURE_INVALID_ACCESS_KEY"  # 401: unknown access key id
AUTH_FAILURE_SIGNATURE = "AUTH_FAILURE_SIGNATURE_MISMATCH"  # 401: signature does not match
AUTH_FAILURE_EXPIRED = "AUTH_FAILURE_REQUEST_EXPIRED"  # 401: X-ZC-Timestamp outside +-300 s
AUTH_FAILURE_TOKEN = "AUTH_FAILURE_INVALID_TOKEN"  # 401: bearer token unknown or empty
INVALID_ACTION = "INVALID_ACTION"  # 400: unknown X-ZC-Action
INVALID_VERSION = "INVALID_VERSION"  # 400: unknown X-ZC-Version
INVALID_REQUEST_BODY = "INVALID_REQUEST_BODY"  # 400: not a JSON object, not UTF-8
REQUEST_TOO_LARGE = "REQUEST_ENTITY_TOO_LARGE"  # 413: body over 1 MiB
MISSING_PARAMETER = "MISSING_PARAMETER"  # 400: a required parameter is absent
INVALID_PARAMETER = "INVALID_PARAMETER"  # 400: wrong type, range or format
INVALID_IMAGE_NAME = "INVALID_PARAMETER_IMAGE_NAME"  # 400: the image name rule
INVALID_IMAGE_DESCRIPTION = "INVALID_PARAMETER_IMAGE_DESCRIPTION"  # 400: the description rule
IMAGE_NAME_DUPLICATE = "INVALID_PARAMETER_IMAGE_NAME_DUPLICATE"  # 400: name already used in the zone
INVALID_INSTANCE_TYPE_NOT_FOUND = "INVALID_INSTANCE_TYPE_NOT_FOUND"  # 404: no such instance type in the zone
INVALID_SYSTEM_DISK_SIZE = "INVALID_PARAMETER_SYSTEM_DISK_SIZE"  # 400: the system disk is smaller than the image
OPERATION_DENIED_INSTANCE_OPERATING = "OPERATION_DENIED_INSTANCE_OPERATING"  # 403: in a transitional state
OPERATION_DENIED_INSTANCE_NOT_RECYCLED = "OPERATION_DENIED_INSTANCE_NOT_RECYCLED"  # 403: release needs the recycle bin

# Client-side codes (never sent by a server).
UNEXPECTED_RESPONSE = "UNEXPECTED_RESPONSE"  # the answer is not the API's JSON (HTML 502, empty body...)
SECURITY_CHALLENGE = "SECURITY_CHALLENGE"  # HTTP 403 + cf-mitigated: challenge (a CDN/WAF, as in the SDK)
REQUEST_BLOCKED = "REQUEST_BLOCKED"  # HTTP 451 (a network-layer block, as in the SDK)


class ZenlayerError(Exception):
    """Base of every error this package raises about the Zenlayer API."""


class CredentialsError(ZenlayerError):
    """No usable credentials were given or found; no request was sent."""


class ReadOnlyError(ZenlayerError):
    """A write action asked of a read-only client (``connect(read_only=True)``); nothing was sent."""

    def __init__(self, action: str) -> None:
        self.action = action
        super().__init__(
            f"{action} refused: this client is read-only (read_only=True, ZENLAYER_READ_ONLY=1 or the profile's "
            "read_only flag), so it only sends Describe*/Inquiry* actions. Nothing was sent; connect without "
            "read-only to change anything.")


class TransportError(ZenlayerError):
    """The request or its answer did not make it across the network.

    ``outcome_unknown`` is True when the request may have reached the server (so a change it
    asked for may or may not have happened); False when it certainly did not.
    """

    outcome_unknown: bool = True

    def __init__(self, message: str, *, action: str | None = None) -> None:
        super().__init__(message)
        self.action = action


class ConnectError(TransportError):
    """The server could not be reached; nothing was sent."""

    outcome_unknown = False


class CertificateError(ConnectError):
    """The server's TLS certificate was not accepted; nothing was sent, and retrying would fail the same way."""


class OutcomeUnknown(TransportError):
    """The request was sent but no complete answer came back (timeout, dropped connection)."""

    outcome_unknown = True


class APIError(ZenlayerError):
    """The API answered with an error: its ``code``, ``message``, ``request_id`` and HTTP status."""

    #: Whether the request may have changed something although it failed.
    outcome_unknown: bool = False

    def __init__(
        self,
        code: str,
        message: str,
        request_id: str | None = None,
        http_status: int | None = None,
        *,
        action: str | None = None,
    ) -> None:
        self.code = code
        self.message = message
        self.request_id = request_id
        self.http_status = http_status
        self.action = action
        super().__init__(str(self))

    def __str__(self) -> str:
        where = f" [{self.action}]" if self.action else ""
        status = f" HTTP {self.http_status}" if self.http_status is not None else ""
        request = f" (request id {self.request_id})" if self.request_id else ""
        return f"{self.code}{where}:{status} {self.message}{request}".replace(":  ", ": ")

    def __reduce__(self) -> tuple[Any, ...]:  # keep pickling (multiprocessing, papermill) working with keyword args
        return (_rebuild_api_error, (type(self), self.code, self.message, self.request_id, self.http_status, self.action))


def _rebuild_api_error(
    cls: type[APIError], code: str, message: str, request_id: str | None, http_status: int | None, action: str | None
) -> APIError:
    return cls(code, message, request_id, http_status, action=action)


class RateLimited(APIError):
    """REQUEST_LIMIT_EXCEEDED (HTTP 429): the request was refused before it did anything."""


class AuthError(APIError):
    """The credentials were refused: wrong key, secret, token, or a timestamp outside the window."""


class InvalidParameter(APIError):
    """A parameter is missing, of the wrong type or refused by a rule (HTTP 400)."""


class NotFound(APIError):
    """The instance, image or zone does not exist (INVALID_*_NOT_FOUND, HTTP 404)."""


class QuotaExceeded(APIError):
    """A quota is full (LIMIT_EXCEEDED_*), e.g. 5 custom images in a zone."""


class InvalidState(APIError):
    """The resource is not in a state that allows the operation (running instance, zone...)."""


class ServerError(APIError):
    """A 5xx answer: the server failed, and a change it was asked for may or may not have happened."""

    outcome_unknown = True


class UnexpectedResponse(APIError):
    """An answer that is not the API's JSON: an HTML error page, an empty body, a missing field."""

    outcome_unknown = True


_BY_CODE: dict[str, type[APIError]] = {
    REQUEST_LIMIT_EXCEEDED: RateLimited,
    INVALID_IMAGE_STATUS: InvalidState,
    REQUEST_TOO_LARGE: InvalidParameter,
    UNEXPECTED_RESPONSE: UnexpectedResponse,
    SECURITY_CHALLENGE: UnexpectedResponse,
    REQUEST_BLOCKED: UnexpectedResponse,
}


def error_class_for(code: str, http_status: int | None) -> type[APIError]:
    """Pick the most specific :class:`APIError` subclass for a wire ``code`` and HTTP status.

    Dotted codes (the Go SDK's ``Invalid.Image.Not.Found``) are read as their UPPER_SNAKE twins.
    """
    code = code.replace(".", "_").upper()
    if code in _BY_CODE:
        return _BY_CODE[code]
    if code.startswith("AUTH_FAILURE") or http_status in (401, 403) and not code.startswith("OPERATION_DENIED"):
        return AuthError
    if code.endswith("_NOT_FOUND") or http_status == 404:
        return NotFound
    if code.startswith("LIMIT_EXCEEDED"):
        return QuotaExceeded
    if code.startswith(("UNSUPPORTED_OPERATION", "OPERATION_DENIED")) or code.endswith("_STATUS"):
        return InvalidState
    if code.startswith(("INVALID_", "MISSING_")):
        return InvalidParameter
    if http_status == 429:
        return RateLimited
    if http_status is not None and http_status >= 500:
        return ServerError
    return APIError


def api_error(
    code: str, message: str, request_id: str | None, http_status: int | None, *, action: str | None = None
) -> APIError:
    """Build the right :class:`APIError` subclass for an error the server sent."""
    return error_class_for(code, http_status)(code, message, request_id, http_status, action=action)
