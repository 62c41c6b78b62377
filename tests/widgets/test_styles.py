"""One stylesheet: every colour is a JupyterLab theme variable in widgets/zenlayer.css, none inline."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from zenlayer_widgets import rules
from zenlayer_widgets.api.models import ImageQuota
from zenlayer_widgets.core.preflight import Check, Preflight
from zenlayer_widgets.studio.explain import Explanation
from zenlayer_widgets.widgets import render
from zenlayer_widgets.widgets.styles import STYLESHEET, StyleSheet

PACKAGE = Path(render.__file__).resolve().parents[1]
COLOUR = re.compile(r"#[0-9a-fA-F]{3,8}\b|\b(?:rgba?|hsla?)\(|(?<![\w-])(?:color|background(?:-color)?)\s*:", re.IGNORECASE)
THEMED = re.compile(r"var\(--jp-[\w-]+(?:\s*,\s*[^()]*)?\)")


@pytest.mark.parametrize(
    "source", sorted(p for folder in ("widgets", "studio") for p in (PACKAGE / folder).iterdir() if p.suffix in (".py", ".js")),
    ids=lambda p: f"{p.parent.name}/{p.name}",
)
def test_no_colour_is_written_in_python_or_javascript(source: Path):
    hits = [f"{source.name}:{n}: {line.strip()}" for n, line in enumerate(source.read_text().splitlines(), 1) if COLOUR.search(line)]
    assert hits == [], "colours belong in zenlayer.css as --jp-* theme variables:\n" + "\n".join(hits)


def test_every_colour_in_the_stylesheet_is_a_theme_variable():
    css = re.sub(r"/\*.*?\*/", "", STYLESHEET.read_text(), flags=re.S)
    leftovers = [line.strip() for line in THEMED.sub("", css).splitlines() if re.search(r"#[0-9a-fA-F]{3,8}\b|rgba?\(", line)]
    assert leftovers == []
    assert len(THEMED.findall(css)) > 20


def test_every_state_a_badge_shows_has_its_colour_class():
    css = STYLESHEET.read_text()
    states = [rules.RUNNING, rules.STOPPED, rules.STOPPING, rules.BOOTING, rules.IMAGING, rules.CREATING, rules.AVAILABLE, rules.UNAVAILABLE]
    missing = [state for state in states if f".zw-state-{state}" not in css]
    assert missing == []
    assert render.badge(rules.RUNNING) == '<span class="zw-badge zw-state-RUNNING">RUNNING</span>'


def test_rendered_parts_carry_classes_not_styles_for_colour():
    preflight = Preflight([Check("name", "Name", False, "too long"), Check("zone", "Zone", True, "ok")])
    parts = [
        render.quota_bar(ImageQuota("HKG-A", 5, 5)),
        render.quota_bar(ImageQuota("HKG-A", 4, 5)),
        render.preflight_list(preflight),
        render.error_html(Explanation("Loading failed", code="X")),
        render.banner_html(True, "http://127.0.0.1:1"),
        render.banner_html(False, "https://console.zenlayer.com"),
    ]
    assert [p for p in parts if COLOUR.search(p)] == []
    assert "zw-fill-full" in parts[0] and "zw-fill-last" in parts[1]
    assert "zw-fail" in parts[2] and "zw-ok" in parts[2]


def test_the_stylesheet_widget_loads_the_one_stylesheet():
    assert StyleSheet()._css == STYLESHEET.read_text()
    from zenlayer_widgets.widgets.name_field import ImageNameField

    assert ImageNameField()._css == STYLESHEET.read_text()
