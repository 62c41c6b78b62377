"""The emulator's errors, named (moto's ``AWSError`` shape): each carries its HTTP status and wire code.

The backend and the request steps raise these by name (``raise InstanceNotFound(instance_id)``);
only this module knows which status a kind of refusal travels with. The renderer turns any of
them into the flat ``{requestId, code, message}`` body. A class fixes the status and a default
code; the families whose code varies (``OperationDenied``, ``UnsupportedOperation``,
``AuthFailure``...) take the exact code from :mod:`zenlayer_widgets.api.errors`.
"""

from __future__ import annotations

from typing import ClassVar

from ..api import errors


class EmulatorError(Exception):
    """An error answer: rendered as the flat ``{requestId, code, message}`` body with ``status``.

    ``EmulatorError(status, code, message)`` builds one directly; the subclasses below are the named errors and fix
    the status themselves.
    """

    status: int
    code: str

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class _Named(EmulatorError):
    """A named error: ``Kind(message)`` or ``Kind(message, code=...)`` for the families with several codes."""

    STATUS: ClassVar[int] = 400
    CODE: ClassVar[str] = errors.INVALID_PARAMETER

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(self.STATUS, code or self.CODE, message)


# ----------------------------------------------------------------------- 400: the request
class InvalidRequestBody(_Named):
    CODE = errors.INVALID_REQUEST_BODY


class InvalidAction(_Named):
    CODE = errors.INVALID_ACTION


class InvalidVersion(_Named):
    CODE = errors.INVALID_VERSION


class InvalidParameter(_Named):
    """Wrong type, range or format (the image name and description rules have their own codes)."""

    CODE = errors.INVALID_PARAMETER


class MissingParameter(_Named):
    CODE = errors.MISSING_PARAMETER


class ImageNameDuplicate(_Named):
    CODE = errors.IMAGE_NAME_DUPLICATE


class InvalidImageStatus(_Named):
    CODE = errors.INVALID_IMAGE_STATUS


class ImageQuotaExceeded(_Named):
    CODE = errors.LIMIT_EXCEEDED_IMAGE_QUOTA


class UnsupportedOperation(_Named):
    """The zone, the disk or the instance's state does not allow it (``UNSUPPORTED_OPERATION_*``)."""

    CODE = errors.UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING


# ----------------------------------------------------------------- 401 / 403: who and when
class AuthFailure(_Named):
    """Missing, malformed, unknown, mismatched or expired credentials (``AUTH_FAILURE_*``)."""

    STATUS = 401
    CODE = errors.AUTH_FAILURE_MISSING


class OperationDenied(_Named):
    """The instance's state forbids the power action (``OPERATION_DENIED_*``)."""

    STATUS = 403
    CODE = errors.OPERATION_DENIED_INSTANCE_NOT_RUNNING


class ControlForbidden(_Named):
    """A control endpoint refused a request that may come from another site."""

    STATUS = 403
    CODE = errors.INVALID_ACTION


# ------------------------------------------------------------------------------ 404
class NotFound(_Named):
    STATUS = 404
    CODE = errors.INVALID_ACTION


class InstanceNotFound(NotFound):
    CODE = errors.INVALID_INSTANCE_NOT_FOUND

    def __init__(self, instance_id: str) -> None:
        super().__init__(f"The instance `{instance_id}` is not found.")


class ImageNotFound(NotFound):
    CODE = errors.INVALID_IMAGE_NOT_FOUND

    def __init__(self, image_id: str) -> None:
        super().__init__(f"The image `{image_id}` is not found.")


class InstanceTypeNotFound(NotFound):
    CODE = errors.INVALID_INSTANCE_TYPE_NOT_FOUND

    def __init__(self, instance_type: str, zone_id: str) -> None:
        super().__init__(f"The instance type `{instance_type}` is not offered in zone {zone_id}.")


class ZoneNotFound(NotFound):
    CODE = errors.INVALID_ZONE_NOT_FOUND

    def __init__(self, zone_id: str, *, code: str | None = None) -> None:
        super().__init__(f"The zone `{zone_id}` is not found.", code=code)


# ------------------------------------------------------------ 405 / 413 / 415 / 429 / 500
class MethodNotAllowed(_Named):
    STATUS = 405
    CODE = errors.INVALID_ACTION


class RequestTooLarge(_Named):
    STATUS = 413
    CODE = errors.REQUEST_TOO_LARGE


class UnsupportedMediaType(_Named):
    STATUS = 415
    CODE = errors.INVALID_REQUEST_BODY


class Throttled(_Named):
    STATUS = 429
    CODE = errors.REQUEST_LIMIT_EXCEEDED


class InternalError(_Named):
    STATUS = 500
    CODE = errors.INTERNAL_SERVER_ERROR
