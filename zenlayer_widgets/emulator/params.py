"""Strict, declarative checks of an action's JSON parameters (types, presence, sizes).

Every wrong type is a 400 ``INVALID_PARAMETER`` naming the parameter; an absent (or ``null``)
required one is a 400 ``MISSING_PARAMETER``. Unknown parameters are ignored, as the SDKs send
fields the emulator does not model.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from ..api.vocabulary import DEFAULT_PAGE_SIZE, MAX_IDS_PER_REQUEST, MAX_PAGE_SIZE
from .exceptions import InvalidParameter, MissingParameter

Kind = Literal["str", "int", "bool", "str_list", "tags", "object", "object_list"]

#: Default cap on any array parameter (the reference: at most 100 ids per request).
MAX_ITEMS = MAX_IDS_PER_REQUEST


@dataclass(frozen=True)
class Param:
    """One parameter: its wire name, kind and limits."""

    name: str
    kind: Kind = "str"
    required: bool = False
    nonempty: bool = False  # a required string or array may not be empty
    max_items: int = MAX_ITEMS
    minimum: int | None = None
    maximum: int | None = None


PAGE = (
    Param("pageSize", "int", minimum=1, maximum=MAX_PAGE_SIZE),
    Param("pageNum", "int", minimum=1),
)


def _invalid(name: str, expected: str) -> InvalidParameter:
    return InvalidParameter(f"The parameter `{name}` must be {expected}.")


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_str_list(param: Param, value: Any) -> list[str]:
    if not isinstance(value, list):
        raise _invalid(param.name, "an array of strings")
    if len(value) > param.max_items:
        raise InvalidParameter(
            f"The parameter `{param.name}` has {len(value)} items; at most {param.max_items} are allowed."
        )
    if not all(isinstance(item, str) for item in value):
        raise _invalid(param.name, "an array of strings")
    return list(dict.fromkeys(value))  # duplicates count once, order kept


def _check_tags(param: Param, value: Any) -> list[tuple[str, str]]:
    if not isinstance(value, list) or len(value) > param.max_items:
        raise _invalid(param.name, f"an array of at most {param.max_items} {{key, value}} objects")
    tags = []
    for item in value:
        if not isinstance(item, dict) or not isinstance(item.get("key"), str) or not isinstance(item.get("value", ""), str):
            raise _invalid(param.name, "an array of {key, value} objects with string members")
        tags.append((item["key"], item.get("value", "")))
    return tags


def _check(param: Param, value: Any) -> Any:
    if param.kind == "object":
        if not isinstance(value, dict):
            raise _invalid(param.name, "a JSON object")
        return value
    if param.kind == "object_list":
        if not isinstance(value, list) or len(value) > param.max_items or not all(isinstance(v, dict) for v in value):
            raise _invalid(param.name, f"an array of at most {param.max_items} JSON objects")
        return value
    if param.kind == "str":
        if not isinstance(value, str):
            raise _invalid(param.name, "a string")
        return value
    if param.kind == "bool":
        if not isinstance(value, bool):
            raise _invalid(param.name, "a boolean (true or false)")
        return value
    if param.kind == "int":
        if not _is_int(value):
            raise _invalid(param.name, "an integer")
        if (param.minimum is not None and value < param.minimum) or (param.maximum is not None and value > param.maximum):
            low = param.minimum if param.minimum is not None else "-inf"
            high = param.maximum if param.maximum is not None else "inf"
            raise InvalidParameter(f"The parameter `{param.name}` must be between {low} and {high}; got {value}.")
        return value
    if param.kind == "str_list":
        return _check_str_list(param, value)
    return _check_tags(param, value)


def parse_params(body: Mapping[str, Any], spec: Sequence[Param]) -> dict[str, Any]:
    """Check ``body`` against ``spec``; returns the present parameters by wire name (``null`` = absent)."""
    out: dict[str, Any] = {}
    for param in spec:
        value = body.get(param.name)
        if value is None:
            if param.required:
                raise MissingParameter(f"The parameter `{param.name}` is required.")
            continue
        value = _check(param, value)
        if param.nonempty and len(value) == 0:
            raise MissingParameter(f"The parameter `{param.name}` may not be empty.")
        out[param.name] = value
    return out


def parse_nested(body: Mapping[str, Any], name: str, spec: Sequence[Param]) -> dict[str, Any]:
    """:func:`parse_params` for the object parameter ``name`` (``systemDisk``...): errors name ``name.member``."""
    try:
        return parse_params(body, spec)
    except (InvalidParameter, MissingParameter) as error:
        member = error.message.split("`")[1] if "`" in error.message else ""
        raise type(error)(error.message.replace(f"`{member}`", f"`{name}.{member}`", 1)) from None


def page_of(params: Mapping[str, Any]) -> tuple[int, int]:
    """``(pageNum, pageSize)`` with the documented defaults (1, 20)."""
    return params.get("pageNum", 1), params.get("pageSize", DEFAULT_PAGE_SIZE)
