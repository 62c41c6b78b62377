"""Checks on text handed to the package as a secret or a name."""

from __future__ import annotations

import unicodedata

#: Unicode categories that never belong in a key, a token or a profile value (a pasted newline, an escape).
CONTROL_CATEGORIES = ("Cc", "Cf", "Zl", "Zp")


def has_control_character(value: str) -> bool:
    """Whether ``value`` holds a control, format or line/paragraph separator character."""
    return any(unicodedata.category(ch) in CONTROL_CATEGORIES for ch in value)
