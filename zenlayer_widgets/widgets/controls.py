"""Small controls every view builds the same way."""

from __future__ import annotations

from typing import Any

import ipywidgets as W


def button(description: str, css: str, **kwargs: Any) -> W.Button:
    """A button as wide as its text, with the class ``css`` (what tests and the stylesheet find it by)."""
    made = W.Button(description=description, layout=W.Layout(width="auto"), **kwargs)
    made.add_class(css)
    return made
