"""The one exception the emulator raises for an API error: it carries the wire status, code and message."""

from __future__ import annotations


class ApiFailure(Exception):
    """An error answer: rendered as the flat ``{requestId, code, message}`` body with ``status``."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
