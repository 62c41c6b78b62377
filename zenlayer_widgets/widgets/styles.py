"""``StyleSheet``: puts the package's one stylesheet (``zenlayer.css``) into the page; shows nothing.

The read-only parts of the studio are plain ``ipywidgets.HTML`` whose markup carries classes
(``zw-badge``, ``zw-quota-full``...), never inline colours. Every view includes a StyleSheet, so
the classes are styled wherever a view is shown (JupyterLab, Voila), alone or in the studio;
anywidget adds the stylesheet to the page once per widget class.
"""

from __future__ import annotations

import pathlib
from typing import Any

import anywidget
import ipywidgets as W

STYLESHEET = pathlib.Path(__file__).parent / "zenlayer.css"


class StyleSheet(anywidget.AnyWidget):
    """An invisible widget whose only job is to load ``zenlayer.css``."""

    _esm = "export default { render() {} };"
    _css = STYLESHEET

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("layout", W.Layout(display="none"))
        super().__init__(**kwargs)


__all__ = ["STYLESHEET", "StyleSheet"]
