"""The name and description fields in a real JupyterLab: the browser's feedback is Python's, word for word."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Locator, Page, expect

from zenlayer_widgets import rules
from zenlayer_widgets.widgets.name_field import DESCRIPTION_OK_TEXT, NAME_HINT, NAME_OK_TEXT

from .harness.lab import open_notebook, run_all, screenshot
from .harness.servers import LabServer

NOTEBOOK = Path(__file__).parent / "fixtures" / "name_field.ipynb"
REPO = Path(__file__).resolve().parents[2]
KERNEL_ENV = {"PYTHONPATH": str(REPO)}  # the kernel imports this checkout, installed or not

NAME = ".zw-image-name"
DESCRIPTION = ".zw-image-description"
INVALID = re.compile(r"\bzw-invalid\b")

NAMES = [
    "web-server_01",
    "网站备份_2024",
    "a" * 24,
    "a" * 25,
    "备" * 30,
    "my image",
    "web😀01",
    "👍🏽",
    "v1.0",
    "备份！",
    "Ｗeb",
    "café",
    "ab\u200bcd",
    "cafe\u0301",
    "ab c" * 7,
    "-_-",
]


def _open(page: Page, lab_server: LabServer) -> None:
    open_notebook(page, lab_server, NOTEBOOK, env=KERNEL_ENV)
    run_all(page)
    expect(page.locator(f"{NAME} input")).to_be_visible()


def _echo(name: str, description: str = "") -> str:
    """What the fixture's hidden HTML shows once the kernel has received these values."""
    state = {
        "name": name,
        "valid": rules.validate_image_name(name).ok,
        "description": description,
        "description_valid": rules.validate_image_description(description).ok,
    }
    return json.dumps(state)


def _expect_exact(locator: Locator, text: str) -> None:
    expect(locator).to_have_text(text)
    assert locator.text_content() == text  # to_have_text normalises whitespace; this does not


def _expect_feedback(page: Page, kind: str, verdict: rules.Verdict) -> None:
    """The field of this kind ('name' or 'description') shows `verdict` exactly as Python words it."""
    field = page.locator(NAME if kind == "name" else DESCRIPTION)
    ok_text = NAME_OK_TEXT if kind == "name" else DESCRIPTION_OK_TEXT
    empty = kind == "name" and verdict.counter.startswith("0/")  # issue 11: neutral, the naming rules shown
    _expect_exact(field.locator(f".zw-{kind}-feedback"), NAME_HINT if empty else verdict.message or ok_text)
    _expect_exact(field.locator(f".zw-{kind}-counter"), verdict.counter)
    if verdict.ok or empty:
        expect(field).not_to_have_class(INVALID)
    else:
        expect(field).to_have_class(INVALID)


def _expect_name_feedback(page: Page, name: str) -> None:
    _expect_feedback(page, "name", rules.validate_image_name(name))


@pytest.mark.browser
def test_typing_shows_exact_feedback_and_reaches_the_kernel(page: Page, lab_server: LabServer) -> None:
    _open(page, lab_server)
    box = page.locator(f"{NAME} input")
    feedback = page.locator(f"{NAME} .zw-name-feedback")
    _expect_exact(feedback, NAME_HINT)  # before typing: the rules, neutral (issue 11)
    expect(page.locator(NAME)).not_to_have_class(INVALID)

    box.press_sequentially("my image!")
    expect(box).to_have_value("my image!")  # late kernel echoes never overwrite what is being typed
    _expect_exact(
        feedback,
        "A space at position 3 is not allowed; use only Chinese characters, letters, digits, - and _.",
    )
    _expect_exact(page.locator(".zw-name-counter"), "9/24")
    expect(page.locator(NAME)).to_have_class(INVALID)
    expect(page.locator(".zw-test-echo")).to_have_text(_echo("my image!"))
    screenshot(page.locator(".zw-test-fields"), "name-field-invalid")

    box.fill("网站备份_2024")
    _expect_exact(feedback, NAME_OK_TEXT)
    _expect_exact(page.locator(".zw-name-counter"), "9/24")
    expect(page.locator(NAME)).not_to_have_class(INVALID)
    expect(page.locator(".zw-test-echo")).to_have_text(_echo("网站备份_2024"))
    screenshot(page.locator(".zw-test-fields"), "name-field-valid")


@pytest.mark.browser
def test_browser_feedback_equals_python_for_every_name(page: Page, lab_server: LabServer) -> None:
    _open(page, lab_server)
    box = page.locator(f"{NAME} input")
    for name in NAMES:
        box.fill(name)
        _expect_name_feedback(page, name)
        expect(page.locator(".zw-test-echo")).to_have_text(_echo(name))


@pytest.mark.browser
def test_description_feedback_kernel_reset_and_disable(page: Page, lab_server: LabServer) -> None:
    _open(page, lab_server)
    area = page.locator(f"{DESCRIPTION} textarea")
    feedback = page.locator(f"{DESCRIPTION} .zw-description-feedback")
    counter = page.locator(f"{DESCRIPTION} .zw-description-counter")
    _expect_exact(feedback, DESCRIPTION_OK_TEXT)
    _expect_exact(counter, "0/255")

    area.press_sequentially("夜间备份 v2")
    _expect_exact(counter, "7/255")
    expect(page.locator(DESCRIPTION)).not_to_have_class(INVALID)
    for text in ("备" * 256, "colour \x1b[31mred", "line one\nline two\ttabbed"):
        area.fill(text)
        _expect_feedback(page, "description", rules.validate_image_description(text))
    assert "Description: Too long: 256 characters" in rules.validate_image_description("备" * 256).message

    page.locator(f"{NAME} input").fill("web 01")
    expect(page.locator(".zw-test-echo")).to_have_text(_echo("web 01", "line one\nline two\ttabbed"))
    page.locator("button.zw-test-reset").click()  # the kernel sets both values
    expect(page.locator(f"{NAME} input")).to_have_value("")
    expect(area).to_have_value("")
    _expect_name_feedback(page, "")
    _expect_exact(feedback, DESCRIPTION_OK_TEXT)

    page.locator("button.zw-test-disable").click()
    expect(page.locator(f"{NAME} input")).to_be_disabled()
    expect(area).to_be_disabled()


@pytest.mark.browser
def test_ime_composition_is_checked_once_committed(page: Page, lab_server: LabServer) -> None:
    """Pinyin typed through an IME: the half-composed Latin letters are neither judged nor sent."""
    _open(page, lab_server)
    box = page.locator(f"{NAME} input")
    box.press_sequentially("ab")
    expect(page.locator(".zw-test-echo")).to_have_text(_echo("ab"))
    cdp = page.context.new_cdp_session(page)
    cdp.send("Input.imeSetComposition", {"text": "wang zhan", "selectionStart": 9, "selectionEnd": 9})
    expect(box).to_have_value("abwang zhan")
    _expect_exact(page.locator(".zw-name-counter"), "2/24")  # a composing space is no error yet
    expect(page.locator(NAME)).not_to_have_class(INVALID)
    cdp.send("Input.insertText", {"text": "网站"})
    expect(box).to_have_value("ab网站")
    _expect_name_feedback(page, "ab网站")
    expect(page.locator(".zw-test-echo")).to_have_text(_echo("ab网站"))
