"""The image-name and description fields without a browser: kernel verdict, traits, classes, JS rule use."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from widgets.name_cases import ALLOWED, DESCRIPTIONS, NAMES
from zenlayer_widgets import rules
from zenlayer_widgets.widgets.name_field import (
    DESCRIPTION_OK_TEXT,
    NAME_HINT,
    NAME_OK_TEXT,
    ImageDescriptionField,
    ImageNameField,
)

JS = Path(rules.__file__).parent / "widgets" / "name_field.js"
FIELDS = {
    "name": (ImageNameField, NAME_OK_TEXT, "zw-image-name"),
    "description": (ImageDescriptionField, DESCRIPTION_OK_TEXT, "zw-image-description"),
}
CASES = [("name", *row) for row in NAMES] + [("description", *row) for row in DESCRIPTIONS]


@pytest.mark.parametrize(("kind", "text", "counter", "expected"), CASES, ids=[f"{c[0]}-{c[1]!r:.30}" for c in CASES])
def test_field_shows_what_an_operator_should_see(kind: str, text: str, counter: str, expected: str | None) -> None:
    widget_class, ok_text, css_class = FIELDS[kind]
    field = widget_class()
    field.value = text
    valid = expected is None
    assert field.valid is valid
    assert field.verdict.ok is valid
    assert field.message == (expected or "")
    empty_name = kind == "name" and text == ""  # neutral before typing: the rules, not a red error
    assert field.feedback == (NAME_HINT if empty_name else expected or ok_text)
    assert field.counter == counter
    assert ("zw-invalid" in field._dom_classes) is not (valid or empty_name)
    assert css_class in field._dom_classes


def test_a_new_name_field_asks_for_a_name_and_a_preset_one_is_checked() -> None:
    empty = ImageNameField()
    assert (empty.label, empty.value, empty.valid) == ("Image name", "", False)
    assert empty.message == "Enter an image name (1 to 24 characters)."
    # neutral before anything is typed (issue 11): not red, and the naming rules are shown
    assert "zw-invalid" not in empty._dom_classes
    assert empty.feedback == NAME_HINT == "1 to 24 characters: Chinese characters, letters, digits, - and _; unique in the zone."
    preset = ImageNameField("网站备份", label="Name")
    assert (preset.label, preset.valid, preset.counter) == ("Name", True, "4/24")
    assert "zw-invalid" not in preset._dom_classes
    assert ImageDescriptionField().label == "Description (optional)"


def test_keystrokes_from_the_browser_reach_the_kernel_verdict() -> None:
    """The view syncs `value` on each input event; the kernel re-judges it and updates its traits."""
    field = ImageNameField()
    seen: list[tuple[str, bool]] = []
    field.observe(lambda change: seen.append((change["new"], field.valid)), "value")
    for typed in ("w", "we", "we ", "we b"):
        field.set_state({"value": typed})  # what the comm does with the browser's update message
    assert seen == [("w", True), ("we", True), ("we ", False), ("we b", False)]
    assert field.message == f"A space at position 3 is not allowed; {ALLOWED}"
    assert "zw-invalid" in field._dom_classes


def test_a_kernel_reset_clears_the_invalid_state() -> None:
    field = ImageNameField("bad name!")
    assert "zw-invalid" in field._dom_classes
    field.value = "good_name"
    assert field.valid and field.message == ""
    assert field._dom_classes == ("zw-image-name",)


def test_the_view_gets_the_rule_as_data() -> None:
    name, description = ImageNameField(), ImageDescriptionField()
    assert name.rule == rules.browser_rule()
    assert description.rule == rules.browser_description_rule()
    state = name.get_state()
    assert state["rule"] == rules.browser_rule()
    assert (state["kind"], state["ok_text"], state["valid"]) == ("name", NAME_OK_TEXT, False)
    assert state["hint"] == NAME_HINT and "zw-invalid" not in state["_dom_classes"]  # empty: neutral
    assert description.get_state()["kind"] == "description"


def test_the_js_hard_codes_no_rule() -> None:
    source = JS.read_text()
    assert not re.search(r"\b(24|255)\b", source), "limits must come from the rule trait"
    for fragment in ("not allowed", "Too long", "Chinese", "invisible character", "Description:", "\\u4e00"):
        assert fragment not in source, f"{fragment!r} belongs in rules.py, not in the JS"


def test_every_rule_key_the_js_reads_exists() -> None:
    """A renamed template in rules.py would show 'undefined' in the browser; catch it here."""
    source = JS.read_text()
    message_keys = set(re.findall(r"messages\.(\w+)", source))
    rule_keys = set(re.findall(r"\brule\.(\w+)", source)) - {"messages"}
    assert {"too_long", "bad_char", "empty", "description_bad_char"} <= message_keys
    assert message_keys <= set(rules.MESSAGES)
    assert rule_keys <= set(rules.browser_rule()) | set(rules.browser_description_rule())
    assert "pattern" in rule_keys and "forbidden_categories" in rule_keys


def test_disabled_and_placeholder_are_synced() -> None:
    field = ImageNameField(placeholder="name it", disabled=True)
    state = field.get_state()
    assert (state["placeholder"], state["disabled"]) == ("name it", True)


@settings(deadline=None)  # Hypothesis' 200 ms per example: a loaded machine's stall, not the field, would fail it
@given(st.text(max_size=40))
def test_kernel_verdict_follows_the_rule_for_any_text(text: str) -> None:
    field = ImageNameField(text)
    verdict = rules.validate_image_name(text)
    assert (field.valid, field.message, field.counter) == (verdict.ok, verdict.message, verdict.counter)
    assert ("zw-invalid" in field._dom_classes) is not (verdict.ok or text == "")  # empty: neutral


def test_a_conflict_from_the_kernel_turns_the_field_red_only_for_that_text() -> None:
    """The checklist says the name is taken: the field must not say "Zenlayer will accept this name"."""
    field = ImageNameField("golden")
    field.conflict = {"value": "golden", "message": "HKG-A already has an image named 'golden'."}
    assert not field.valid and "zw-invalid" in field._dom_classes
    assert field.feedback == "HKG-A already has an image named 'golden'." != NAME_OK_TEXT
    field.value = "golden-2"  # a new name: the old conflict no longer applies
    assert field.valid and field.feedback == NAME_OK_TEXT and "zw-invalid" not in field._dom_classes
