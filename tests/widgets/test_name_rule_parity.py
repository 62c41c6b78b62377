"""The browser's name and description check (widgets/name_field.js) gives Python's verdict (rules.py), word for word,
run under node on one table of cases (widgets/name_cases.py) and on seeded random texts: no browser needed.

node is Debian's ``nodejs`` (``make node``; .ci/run installs it); without it this test fails, saying so.
"""

from __future__ import annotations

import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from widgets.name_cases import DESCRIPTIONS, NAMES, PARITY_ONLY
from zenlayer_widgets import rules

JS = Path(rules.__file__).parent / "widgets" / "name_field.js"
#: Imports the module from its source (a data: URL: name_field.js is an ES module, not a package file) and
#: prints, for each case, what its compile(kind, rule) check returns.
RUNNER = """
let input = "";
for await (const chunk of process.stdin) input += chunk;
const { source, cases } = JSON.parse(input);
const module = await import("data:text/javascript;base64," + Buffer.from(source).toString("base64"));
const out = cases.map(({ kind, rule, texts }) => texts.map(module.compile(kind, rule)));
process.stdout.write(JSON.stringify(out));
"""
#: Characters the random texts are drawn from: allowed ones, the edges of the CJK block, separators, marks, emoji.
ALPHABET = list("aZ09-_ .!备网\u4e00\u9fff\u3400\ua000é\u0301\u200b\u3000\t\n\x00\x1b😀👍🏽Ｗ") + ["\U00020000", "\ud800"]


def js_verdicts(source: str, cases: list[tuple[str, list[str]]]) -> list[list[dict[str, Any]]]:
    node = shutil.which("node") or shutil.which("nodejs")
    if node is None:
        pytest.fail("node is not installed: `make node` (Debian's nodejs) runs the JS check without a browser")
    rule = {"name": rules.browser_rule(), "description": rules.browser_description_rule()}
    payload = json.dumps({"source": source, "cases": [{"kind": k, "rule": rule[k], "texts": t} for k, t in cases]})
    done = subprocess.run([node, "--input-type=module", "-e", RUNNER], input=payload, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def python_verdict(kind: str, text: str) -> dict[str, Any]:
    verdict = rules.validate_image_name(text) if kind == "name" else rules.validate_image_description(text)
    return {"ok": verdict.ok, "problems": list(verdict.problems), "length": verdict.length, "limit": verdict.limit}


def random_texts(seed: int, count: int = 300) -> list[str]:
    pick = random.Random(seed)
    return ["".join(pick.choices(ALPHABET, k=pick.choice([0, 1, 3, 23, 24, 25, 40]))) for _ in range(count)]


def table() -> list[tuple[str, list[str]]]:
    names = [text for text, *_ in NAMES] + PARITY_ONLY + random_texts(23)
    descriptions = [text for text, *_ in DESCRIPTIONS] + PARITY_ONLY + [t * 11 for t in random_texts(24, 100)]
    return [("name", names), ("description", descriptions)]


def mismatches(source: str) -> list[tuple[str, str, dict[str, Any], dict[str, Any]]]:
    cases = table()
    return [(kind, text, expected, got)
            for (kind, texts), verdicts in zip(cases, js_verdicts(source, cases), strict=True)
            for text, got in zip(texts, verdicts, strict=True)
            if got != (expected := python_verdict(kind, text))]


def test_the_browser_check_gives_pythons_verdict_word_for_word() -> None:
    found = mismatches(JS.read_text(encoding="utf-8"))
    assert found == [], f"{len(found)} texts judged differently; the first: {found[0]!r}"


@pytest.mark.parametrize(("change", "kind"), [
    (("chars.length > limit) problems.push(tooLong", "chars.length >= limit) problems.push(tooLong"), "name"),
    (("const chars = Array.from(text);", "const chars = text.split(\"\");"), "name"),  # UTF-16 units, not characters
    (("!controls.includes(char)", "true"), "description"),
])
def test_the_check_sees_a_changed_algorithm(change: tuple[str, str], kind: str) -> None:
    """The check itself can fail: an off-by-one limit, counting UTF-16 units, refusing a tab."""
    source = JS.read_text(encoding="utf-8")
    assert change[0] in source
    assert any(found[0] == kind for found in mismatches(source.replace(*change)))
