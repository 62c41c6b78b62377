"""Image names of a policy: ``<prefix>-<YYYYMMDDTHHMM>`` (UTC) plus one letter when the name is taken."""

from __future__ import annotations

import re
import string
from collections.abc import Collection
from datetime import datetime, timezone

from ...rules import IMAGE_NAME_MAX_LENGTH, validate_image_name

STAMP_FORMAT = "%Y%m%dT%H%M"
STAMP_LENGTH = 13
#: Letters appended, in order, when the plain name is already used in the zone.
SUFFIXES = ("",) + tuple(string.ascii_lowercase)
#: The longest prefix that leaves room for ``-``, the stamp and a suffix letter.
MAX_PREFIX_LENGTH = IMAGE_NAME_MAX_LENGTH - 1 - STAMP_LENGTH - 1


def stamp_of(moment: datetime | None = None) -> str:
    """The run's timestamp as it appears in names (UTC, to the minute)."""
    return (moment or datetime.now(timezone.utc)).astimezone(timezone.utc).strftime(STAMP_FORMAT)


def check_prefix(prefix: str) -> None:
    """ValueError, saying why, when names made from ``prefix`` could be invalid."""
    if len(prefix) > MAX_PREFIX_LENGTH:
        raise ValueError(f"name_prefix {prefix!r} is {len(prefix)} characters; at most {MAX_PREFIX_LENGTH} leave room "
                         f"for '-{'9' * 8}T{'9' * 4}' and a letter within the {IMAGE_NAME_MAX_LENGTH}-character limit.")
    verdict = validate_image_name(f"{prefix}-{stamp_of()}a")
    if not prefix or not verdict.ok:
        raise ValueError(f"name_prefix {prefix!r} cannot make a valid image name: {verdict.message or 'it is empty.'}")


def name_pattern(prefix: str) -> re.Pattern[str]:
    """Names this prefix makes (an image matching it is the policy's only with the ledger's record too)."""
    return re.compile(rf"^{re.escape(prefix)}-\d{{8}}T\d{{4}}[a-z]?$")


def next_name(prefix: str, stamp: str, taken: Collection[str]) -> str:
    """The first of ``prefix-stamp``, ``prefix-stampa``, ... not in ``taken``; ValueError when all are."""
    for suffix in SUFFIXES:
        name = f"{prefix}-{stamp}{suffix}"
        if name not in taken:
            return name
    raise ValueError(f"Every name {prefix}-{stamp}[a-z] is taken in the zone; run again in a minute.")
