"""The arguments of the public workflow functions, checked before anything is sent.

Each check returns the value (a number as a float) or raises :class:`~..api.params.BadArgumentType`
(a TypeError) or :class:`~..api.params.BadArgument` (a ValueError), both ``ZenlayerError``, naming
the parameter: ``timeout='10'`` or ``poll_interval=0`` must fail here, not after CreateImage went out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from ..api.params import BadArgument, BadArgumentType, described_type, id_arg, text_arg
from ..api.params import seconds_arg as seconds
from ..rules import validate_image_name

T = TypeVar("T")

#: The shortest poll interval (seconds): a shorter one floods the API with lookups.
MIN_POLL_INTERVAL = 0.1

__all__ = [
    "BadArgument", "BadArgumentType", "MIN_POLL_INTERVAL", "callback", "flag", "id_arg", "image_name", "of_type",
    "optional_flag", "optional_id", "optional_of_type", "poll_interval", "seconds", "text_arg", "whole",
]


def poll_interval(value: Any, name: str = "poll_interval") -> float:
    """How long to wait between lookups: finite, at least :data:`MIN_POLL_INTERVAL` seconds."""
    number = seconds(value, name)
    if number < MIN_POLL_INTERVAL:
        raise BadArgument(f"{name} must be at least {MIN_POLL_INTERVAL:g} s (shorter floods the API), not {value!r}")
    return number


def flag(value: Any, name: str) -> bool:
    """True or False, nothing else (not "no", which is truthy)."""
    if not isinstance(value, bool):
        raise BadArgumentType(f"{name} must be True or False, not {described_type(value)}")
    return value


def optional_flag(value: Any, name: str) -> bool | None:
    """True, False or None."""
    return None if value is None else flag(value, name)


def optional_id(value: Any, name: str) -> str | None:
    """None or a non-empty id."""
    return None if value is None else id_arg(value, name)


def callback(value: Any, name: str) -> Callable[..., Any] | None:
    """None or something callable (``on_progress``, ``on_status``)."""
    if value is None:
        return None
    if not callable(value):
        raise BadArgumentType(f"{name} must be a function (or None), not {described_type(value)}")
    function: Callable[..., Any] = value
    return function


def image_name(value: Any, name: str = "image_name") -> str:
    """A string that passes Zenlayer's image name rule (checked here, so a bad name never reaches the API)."""
    text = text_arg(value, name, empty=True)
    assert text is not None
    verdict = validate_image_name(text)
    if not verdict.ok:
        raise BadArgument(f"{name} is not a valid image name: {verdict.message or 'it breaks the name rule'}")
    return text


def whole(value: Any, name: str, least: int, most: int | None = None, above: str = "") -> int:
    """A whole number from ``least`` to ``most`` (``above``: why not more, said when it is)."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise BadArgumentType(f"{name} must be a whole number, not {described_type(value)}")
    if value < least or (most is not None and value > most):
        span = f"from {least} to {most}" if most is not None else f"at least {least}"
        raise BadArgument(f"{name} must be {span}, not {value}{above if most is not None and value > most else ''}")
    return value


def of_type(value: Any, kind: type[T], name: str) -> T:
    """``value`` if it is a ``kind`` (a :class:`Policy`, a :class:`Ledger`...), else a BadArgumentType naming both."""
    if not isinstance(value, kind):
        raise BadArgumentType(f"{name} must be a {kind.__name__}, not {described_type(value)}")
    return value


def optional_of_type(value: Any, kind: type[T], name: str) -> T | None:
    """None or a ``kind`` (e.g. ``ledger=None``: the client's)."""
    if value is None:
        return None
    if not isinstance(value, kind):
        raise BadArgumentType(f"{name} must be a {kind.__name__} (or None), not {described_type(value)}")
    return value
