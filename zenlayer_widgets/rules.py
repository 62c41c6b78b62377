"""Zenlayer's CreateImage rules: the one copy the client, the widgets and the emulator share.

Image name (CreateImage / ModifyImagesAttributes): at most 24 characters, only Chinese
characters, letters, digits, ``-`` and ``_``. The reference leaves the details open; we chose:

* length counts Unicode code points, not bytes (a Chinese name may have 24 characters);
* "Chinese characters" are the CJK Unified Ideographs block U+4E00..U+9FFF;
* "letters" and "digits" are ASCII (``A-Z``, ``a-z``, ``0-9``);
* a name needs at least one character; there is no rule on the first character.

Image description: at most 255 code points, any characters except control characters
(the reference has no charset rule; NUL and other C0/C1 controls are refused).

The browser checks the same rule from :data:`IMAGE_NAME_PATTERN` and the limits below; the kernel
(and the server) stay the judge of what may be submitted.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# State names and image types: the API's vocabulary, re-exported (the rules speak it).
from .api.vocabulary import (
    AVAILABLE as AVAILABLE,
)
from .api.vocabulary import (
    BOOTING as BOOTING,
)
from .api.vocabulary import (
    CREATING as CREATING,
)
from .api.vocabulary import (
    CUSTOM_IMAGE as CUSTOM_IMAGE,
)
from .api.vocabulary import (
    IMAGING as IMAGING,
)
from .api.vocabulary import (
    PUBLIC_IMAGE as PUBLIC_IMAGE,
)
from .api.vocabulary import (
    RUNNING as RUNNING,
)
from .api.vocabulary import (
    STOPPED as STOPPED,
)
from .api.vocabulary import (
    STOPPING as STOPPING,
)
from .api.vocabulary import (
    TRANSITIONAL_INSTANCE_STATES as TRANSITIONAL_INSTANCE_STATES,
)
from .api.vocabulary import (
    UNAVAILABLE as UNAVAILABLE,
)

IMAGE_NAME_MAX_LENGTH = 24
IMAGE_DESCRIPTION_MAX_LENGTH = 255
IMAGE_QUOTA_PER_ZONE = 5
ZONES_WITHOUT_IMAGES = frozenset({"SIN-E", "LAX-A"})

#: One allowed character, written so that Python ``re`` and JavaScript ``RegExp`` read it alike.
IMAGE_NAME_CHAR_CLASS = r"[\u4e00-\u9fffA-Za-z0-9_-]"
#: The whole name, for both Python and JavaScript (JS: ``new RegExp(p, "u")``).
IMAGE_NAME_PATTERN = rf"^{IMAGE_NAME_CHAR_CLASS}{{1,{IMAGE_NAME_MAX_LENGTH}}}$"
ALLOWED_CHARACTERS_TEXT = "Chinese characters, letters, digits, - and _"

_ALLOWED_CHAR = re.compile(IMAGE_NAME_CHAR_CLASS)
_NAME = re.compile(IMAGE_NAME_PATTERN)


@dataclass(frozen=True)
class Verdict:
    """The outcome of a check: ``ok`` and, when not ok, every problem in plain words."""

    ok: bool
    problems: tuple[str, ...] = field(default_factory=tuple)
    length: int = 0
    limit: int = 0

    @property
    def message(self) -> str:
        """The problems joined into one sentence list, or ``""`` when ok."""
        return " ".join(self.problems)

    @property
    def counter(self) -> str:
        """``"7/24"``: characters used over the limit, as the form shows it."""
        return f"{self.length}/{self.limit}"


#: Unicode general categories shown by code point only (invisible, combining or unassigned).
INVISIBLE_CATEGORIES = ("Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp", "Zs", "Mn", "Me")

#: Message templates, filled the same way in Python and in the browser.
MESSAGES = {
    "empty": "Enter an image name (1 to {limit} characters).",
    "too_long": "Too long: {length} characters, {over} {noun} over the limit of {limit}.",
    "bad_char": "{char} at position {position} is not allowed; use only {allowed}.",
    "space": "a space",
    "visible": '"{char}" ({code})',
    "invisible": "an invisible character ({code})",
    "one_character": "character",
    "many_characters": "characters",
    "description_prefix": "Description: ",
    "description_bad_char": "{char} at position {position} is not allowed in a description.",
}

#: Characters a description refuses: these general categories, except the listed controls.
DESCRIPTION_FORBIDDEN_CATEGORIES = ("Cc", "Cs")
DESCRIPTION_ALLOWED_CONTROLS = "\t\n"


def describe_character(char: str) -> str:
    """Name a character so an operator can find it: ``"!" (U+0021)``, ``a space``, ``an invisible character (U+200B)``."""
    if char == " ":
        return MESSAGES["space"]
    code = f"U+{ord(char):04X}"
    if unicodedata.category(char) in INVISIBLE_CATEGORIES:
        return MESSAGES["invisible"].format(code=code)
    return MESSAGES["visible"].format(char=char, code=code)


def _too_long(length: int, limit: int) -> str:
    over = length - limit
    noun = MESSAGES["one_character"] if over == 1 else MESSAGES["many_characters"]
    return MESSAGES["too_long"].format(length=length, over=over, noun=noun, limit=limit)


def _capitalised(text: str) -> str:
    return text[0].upper() + text[1:]


def first_disallowed_character(name: str) -> tuple[int, str] | None:
    """The 1-based position and the character of the first character the name rule refuses."""
    for index, char in enumerate(name):
        if not _ALLOWED_CHAR.fullmatch(char):
            return index + 1, char
    return None


def validate_image_name(name: str) -> Verdict:
    """Check an image name against Zenlayer's rule; each problem says exactly what is wrong."""
    length = len(name)
    problems: list[str] = []
    if length == 0:
        problems.append(MESSAGES["empty"].format(limit=IMAGE_NAME_MAX_LENGTH))
    elif length > IMAGE_NAME_MAX_LENGTH:
        problems.append(_too_long(length, IMAGE_NAME_MAX_LENGTH))
    bad = first_disallowed_character(name)
    if bad is not None:
        position, char = bad
        text = MESSAGES["bad_char"].format(
            char=describe_character(char), position=position, allowed=ALLOWED_CHARACTERS_TEXT
        )
        problems.append(_capitalised(text))
    ok = not problems and bool(_NAME.fullmatch(name))
    return Verdict(ok=ok, problems=tuple(problems), length=length, limit=IMAGE_NAME_MAX_LENGTH)


def validate_image_description(description: str | None) -> Verdict:
    """Check an image description: at most 255 characters, no control characters."""
    text = description or ""
    length = len(text)
    problems: list[str] = []
    if length > IMAGE_DESCRIPTION_MAX_LENGTH:
        problems.append(MESSAGES["description_prefix"] + _too_long(length, IMAGE_DESCRIPTION_MAX_LENGTH))
    for index, char in enumerate(text):
        if unicodedata.category(char) in DESCRIPTION_FORBIDDEN_CATEGORIES and char not in DESCRIPTION_ALLOWED_CONTROLS:
            bad = MESSAGES["description_bad_char"].format(char=describe_character(char), position=index + 1)
            problems.append(_capitalised(bad))
            break
    return Verdict(ok=not problems, problems=tuple(problems), length=length, limit=IMAGE_DESCRIPTION_MAX_LENGTH)


def zone_supports_images(zone_id: str) -> bool:
    """Whether CreateImage is supported in this zone (not in SIN-E and LAX-A)."""
    return zone_id not in ZONES_WITHOUT_IMAGES


def browser_rule() -> dict[str, object]:
    """The rule as data for the browser-side validator (one source of truth)."""
    return {
        "pattern": IMAGE_NAME_PATTERN,
        "char_class": IMAGE_NAME_CHAR_CLASS,
        "max_length": IMAGE_NAME_MAX_LENGTH,
        "allowed_text": ALLOWED_CHARACTERS_TEXT,
        "invisible_categories": list(INVISIBLE_CATEGORIES),
        "messages": dict(MESSAGES),
    }


def browser_description_rule() -> dict[str, object]:
    """The description rule as data for the browser-side validator (one source of truth)."""
    return {
        "max_length": IMAGE_DESCRIPTION_MAX_LENGTH,
        "forbidden_categories": list(DESCRIPTION_FORBIDDEN_CATEGORIES),
        "allowed_controls": DESCRIPTION_ALLOWED_CONTROLS,
        "invisible_categories": list(INVISIBLE_CATEGORIES),
        "messages": dict(MESSAGES),
    }
