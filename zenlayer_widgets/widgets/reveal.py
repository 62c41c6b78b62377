"""``Reveal``: scrolls the view it sits in (the studio) into view once, when it first shows; shows nothing.

After Run All, JupyterLab leaves the page at the notebook's last cell, below the studio. Reveal brings
the studio to the top of the view for a few seconds after it first renders, and stops at once when the
person scrolls, types or clicks (reveal.js).
"""

from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import ipywidgets as W

_HERE = pathlib.Path(__file__).parent


class Reveal(anywidget.AnyWidget):
    """An invisible widget that brings its ``.zw-studio`` ancestor into view once per page."""

    _esm = _HERE / "reveal.js"

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("layout", W.Layout(display="none"))
        super().__init__(**kwargs)


__all__ = ["Reveal"]
