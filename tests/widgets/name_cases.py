"""The table of image names and descriptions both checks share: the kernel's fields (test_name_field.py) and the
browser's algorithm run under node (test_name_rule_parity.py)."""

from __future__ import annotations

ALLOWED = "use only Chinese characters, letters, digits, - and _."

# name, counter shown, feedback an operator should read (None: the OK text).
NAMES = [
    ("web-server_01", "13/24", None),
    ("网站备份", "4/24", None),
    ("web备份-2024_v1", "13/24", None),
    ("a" * 24, "24/24", None),
    ("备" * 24, "24/24", None),
    ("a" * 25, "25/24", "Too long: 25 characters, 1 character over the limit of 24."),
    ("备" * 26, "26/24", "Too long: 26 characters, 2 characters over the limit of 24."),
    ("", "0/24", "Enter an image name (1 to 24 characters)."),
    ("my image", "8/24", f"A space at position 3 is not allowed; {ALLOWED}"),
    ("web ", "4/24", f"A space at position 4 is not allowed; {ALLOWED}"),
    ("web😀01", "6/24", f'"😀" (U+1F600) at position 4 is not allowed; {ALLOWED}'),
    ("v1.0", "4/24", f'"." (U+002E) at position 3 is not allowed; {ALLOWED}'),
    ("备份！", "3/24", f'"！" (U+FF01) at position 3 is not allowed; {ALLOWED}'),
    ("Ｗeb", "3/24", f'"Ｗ" (U+FF37) at position 1 is not allowed; {ALLOWED}'),
    ("café", "4/24", f'"é" (U+00E9) at position 4 is not allowed; {ALLOWED}'),
    ("ab\u200bcd", "5/24", f"An invisible character (U+200B) at position 3 is not allowed; {ALLOWED}"),
    ("cafe\u0301", "5/24", f"An invisible character (U+0301) at position 5 is not allowed; {ALLOWED}"),
    (
        "ab c" * 7,
        "28/24",
        f"Too long: 28 characters, 4 characters over the limit of 24. A space at position 3 is not allowed; {ALLOWED}",
    ),
]

DESCRIPTIONS = [
    ("", "0/255", None),
    ("Nightly backup of web-01, before the 2.3 upgrade.\nSecond line\tindented", "70/255", None),
    ("夜间备份 😀", "6/255", None),
    ("x" * 255, "255/255", None),
    ("x" * 256, "256/255", "Description: Too long: 256 characters, 1 character over the limit of 255."),
    ("备" * 300, "300/255", "Description: Too long: 300 characters, 45 characters over the limit of 255."),
    ("bad\x00byte", "8/255", "An invisible character (U+0000) at position 4 is not allowed in a description."),
    ("\x1b[31mred", "8/255", "An invisible character (U+001B) at position 1 is not allowed in a description."),
]

#: More texts for the parity check only (no expected message: the two implementations must simply agree).
PARITY_ONLY = [
    "-", "_", "-_-", "_-_", "a-b_c", " ", "  ", "\t", "a\nb", "a" * 23, "a" * 26, "备" * 25, "😀", "😀" * 24,
    "👍🏽", "a😀" * 12, "a😀" * 13, "\u0000", "\ud800", "a\ud800b", "\u2028", "\u3000", "Ａ", "٣", "ß", "Σ", "ǅ",
    "\u3400", "\u9fff", "\ua000", "\U00020000", "x\u200d", "\ufeffname",
]
