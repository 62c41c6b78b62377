"""Checks of the arguments the public API takes: a TypeError/ValueError that names the parameter.

Used where a caller's value enters (client methods, ``preflight``, ``create_image``), so that None,
bytes or a list where an id or a name goes fails at once and says so, not deep inside JSON
encoding or a string method. The errors are :class:`BadArgumentType` (a TypeError) and
:class:`BadArgument` (a ValueError), both also the package's own ``ZenlayerError``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from .errors import ZenlayerError

_SHOWN = 40


class BadArgumentType(ZenlayerError, TypeError):
    """An argument of the wrong type (None, bytes, a list, a string where a number goes); nothing was sent."""


class BadArgument(ZenlayerError, ValueError):
    """An argument of the right type but out of range (an empty id, a negative timeout...); nothing was sent."""


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _SHOWN else text[: _SHOWN - 1] + "…"


def described_type(value: Any) -> str:
    """What ``value`` is, for a message saying it is of the wrong type (a short, clipped repr included)."""
    if value is None:
        return "None"
    if isinstance(value, (bytes, bytearray)):
        return f"bytes ({_shown(value)}); decode it first, e.g. value.decode('utf-8')"
    if isinstance(value, (list, tuple, set, frozenset, dict)):
        return f"a {type(value).__name__} ({_shown(value)}); pass one string"
    return f"{type(value).__name__} ({_shown(value)})"


def text_arg(value: Any, name: str, *, optional: bool = False, empty: bool = False) -> str | None:
    """``value`` if it is a string (None too when ``optional``; "" only when ``empty``), else a plain error.

    TypeError for the wrong type (None, bytes, a list...), ValueError for an empty or blank id.
    """
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise BadArgumentType(f"{name} must be a string, not {described_type(value)}")
    if not empty and not value.strip():
        raise BadArgument(f"{name} must not be empty or blank")
    return value


def id_arg(value: Any, name: str) -> str:
    """A required, non-empty id (``instance_id``, ``zone_id``...)."""
    return text_arg(value, name)  # type: ignore[return-value]


def seconds_arg(value: Any, name: str) -> float:
    """A duration: a finite number of seconds above 0 (``timeout``, ``deadline``...), as a float."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise BadArgumentType(f"{name} must be a number of seconds, not {described_type(value)}")
    if not math.isfinite(value) or value <= 0:
        raise BadArgument(f"{name} must be a finite number of seconds above 0, not {value!r}")
    return float(value)


def id_list_arg(values: Any, name: str) -> list[str]:
    """A list (any iterable but a string) of non-empty string ids, without duplicates (first kept)."""
    if isinstance(values, (str, bytes, bytearray)):
        raise BadArgumentType(f"{name} must be a list of strings, not a single string: {_shown(values)}")
    if values is None or not isinstance(values, Iterable) or isinstance(values, dict):
        raise BadArgumentType(f"{name} must be a list of strings, not {described_type(values)}")
    items = list(values)
    for index, item in enumerate(items):
        if not isinstance(item, str) or not item.strip():
            what = "an empty string" if isinstance(item, str) else described_type(item)
            raise BadArgumentType(f"{name} must be non-empty strings; item {index} is {what}")
    return list(dict.fromkeys(items))


def tags_arg(value: Any, name: str) -> dict[str, str]:
    """Tags as a mapping of non-empty string keys to string values."""
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of tag keys to values ({{'key': 'value'}}), not {described_type(value)}")
    for key, item in value.items():
        if not isinstance(key, str) or not key.strip():
            raise TypeError(f"{name} keys must be non-empty strings; got {_shown(key)}")
        if not isinstance(item, str):
            raise TypeError(f"{name}[{key!r}] must be a string, not {described_type(item)}")
    return dict(value)


_YES, _NO = frozenset({"true", "yes", "1", "on"}), frozenset({"false", "no", "0", "off"})


def yes_no(value: object) -> bool | None:
    """A bool, or text meaning one (true/false, yes/no, 1/0, on/off, any case); None when it means neither."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    return True if text in _YES else False if text in _NO else None
