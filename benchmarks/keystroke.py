"""Benchmark 2: keystroke -> validation feedback in a real JupyterLab, in headless Chromium.

The page records ``performance.now()`` at a capture-phase ``keydown`` for the image-name input
and at every mutation of the feedback line (``.zw-name-feedback``) and of an HTML widget the
kernel updates on each value change (``.zw-bench-echo``). Each key is paired with the first
mutation that shows what that key must produce: the browser-side feedback (target: p95 at most
16 ms, one frame at 60 Hz) and, for contrast, the kernel's echo (the kernel round trip).
``python -m benchmarks.keystroke [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import time

from tests.browser.harness.lab import open_notebook, run_all
from zenlayer_widgets import rules
from zenlayer_widgets.widgets.name_field import NAME_OK_TEXT

from .browser import NOTEBOOKS, lab_session
from .common import Result, median, percentile

NOTEBOOK = NOTEBOOKS / "keystroke.ipynb"
FRAME_MS = 1000 / 60
#: Valid and invalid characters, Backspaces, and a name that grows past 24 characters, so the
#: message changes often (space / '.' / '!' / '@' are refused; 25 characters are too long).
KEYS = (
    list("web-01") + [" ", "Backspace", ".", "Backspace", "_"] + list("app") + ["!", "Backspace"]
    + list("server2025xyz") + ["@", "Backspace", "Backspace"] + list("AB")
    + ["Backspace"] * 4 + list("Q-_9") + [" ", "Backspace", "Backspace", "Backspace"] + list("xyz") + ["Backspace"]
)  # fmt: skip

WATCH_JS = """() => {
  const field = document.querySelector('.zw-image-name');
  const input = field.querySelector('input');
  const feedback = field.querySelector('.zw-name-feedback');
  const echo = document.querySelector('.zw-bench-echo');
  const bench = window.__bench = {keys: [], feedback: [], echo: []};
  document.addEventListener('keydown', (event) => {
    if (event.target === input) bench.keys.push(performance.now());
  }, {capture: true});
  const watch = (node, into) => new MutationObserver(() => into.push([performance.now(), node.textContent]))
    .observe(node, {childList: true, characterData: true, subtree: true});
  watch(feedback, bench.feedback);
  watch(echo, bench.echo);
}"""
ECHO_IS_JS = """(value) => {
  const text = document.querySelector('.zw-bench-echo').textContent;
  try { return JSON.parse(text).value === value; } catch (e) { return false; }
}"""


def expected_values(keys: list[str]) -> list[str]:
    """The input's value after each key."""
    values, value = [], ""
    for key in keys:
        value = value[:-1] if key == "Backspace" else value + key
        values.append(value)
    return values


def _first_after(events: list[list], start: float, end: float, matches) -> float | None:  # noqa: ANN001
    """The time of the first event in (start, end] whose text ``matches``."""
    for when, text in events:
        if start < when <= end and matches(text):
            return when
    return None


def _echo_value(text: str) -> str | None:
    try:
        return json.loads(text)["value"]
    except (ValueError, KeyError, TypeError):
        return None


def pair(bench: dict, values: list[str]) -> tuple[list[float], list[float], int]:
    """Per key: ms until the right feedback, ms until the kernel's echo; and how many keys had none."""
    keys = bench["keys"]
    if len(keys) != len(values):
        raise RuntimeError(f"{len(keys)} keydowns recorded for {len(values)} keys")
    feedback_ms, kernel_ms, missing = [], [], 0
    for i, (start, value) in enumerate(zip(keys, values, strict=True)):
        end = keys[i + 1] if i + 1 < len(keys) else float("inf")
        wanted = rules.validate_image_name(value).message or NAME_OK_TEXT
        shown = _first_after(bench["feedback"], start, end, lambda text, wanted=wanted: text == wanted)
        echoed = _first_after(bench["echo"], start, float("inf"), lambda text, value=value: _echo_value(text) == value)
        if shown is None or echoed is None:
            missing += 1
            continue
        feedback_ms.append(shown - start)
        kernel_ms.append(echoed - start)
    return feedback_ms, kernel_ms, missing


def run(*, quick: bool = False, pause_ms: float = 40) -> Result:
    keys = KEYS[:10] if quick else KEYS
    result = Result("keystroke", f"2. Keystroke feedback: keystroke -> validation message in JupyterLab + headless Chromium ({len(keys)} keystrokes)")
    with lab_session() as session:
        page = session.page
        open_notebook(page, session.lab, NOTEBOOK)
        run_all(page)
        box = page.locator(".zw-image-name input")
        box.wait_for()
        box.click()
        for key in ["w", "a", "r", "m", "Backspace", "Backspace", "Backspace", "Backspace"]:  # warm-up, not measured
            page.keyboard.press(key)
        page.wait_for_function(ECHO_IS_JS, arg="")
        page.evaluate(WATCH_JS)
        values = expected_values(keys)
        for key, value in zip(keys, values, strict=True):
            page.keyboard.press(key)
            page.wait_for_function(ECHO_IS_JS, arg=value)  # one key at a time: no queueing behind the previous one
            time.sleep(pause_ms / 1000)
        bench = page.evaluate("window.__bench")
    feedback_ms, kernel_ms, missing = pair(bench, values)
    messages = len({rules.validate_image_name(v).message for v in values})
    result.figure("keystrokes measured", f"{len(feedback_ms)} of {len(keys)} ({messages} different messages; {missing} unpaired)")
    result.figure("browser feedback: median / p95 / max",
                  f"{median(feedback_ms):.1f} / {percentile(feedback_ms, 95):.1f} / {max(feedback_ms):.1f} ms")
    result.figure("kernel round trip (echo from the kernel): median / p95 / max",
                  f"{median(kernel_ms):.1f} / {percentile(kernel_ms, 95):.1f} / {max(kernel_ms):.1f} ms")
    p95 = percentile(feedback_ms, 95)
    result.target("keystroke -> feedback p95 at most 16 ms", p95 <= FRAME_MS and not missing, f"p95 {p95:.1f} ms")
    result.data = {"feedback_ms": feedback_ms, "kernel_ms": kernel_ms, "missing": missing, "keys": len(keys)}
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10 keystrokes")
    args = parser.parse_args(argv)
    run(quick=args.quick)


if __name__ == "__main__":
    main()
