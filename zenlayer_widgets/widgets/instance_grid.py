"""``InstanceGrid``: the instance table's HTML in the page, with header clicks (sort) and row clicks (choose)."""

from __future__ import annotations

import pathlib
from collections.abc import Callable
from typing import Any

import anywidget
import traitlets

_HERE = pathlib.Path(__file__).parent


class InstanceGrid(anywidget.AnyWidget):
    """Shows ``value`` (from :func:`~zenlayer_widgets.widgets.render.instance_table`); calls back on clicks.

    ``on_sort(column)`` for a click on a ``th[data-sort]``, ``on_select(instance_id)`` for a click on
    a ``tr[data-id]``; anything else the browser sends is ignored.
    """

    _esm = _HERE / "instance_grid.js"
    _css = _HERE / "zenlayer.css"

    value = traitlets.Unicode("", help="The table's HTML").tag(sync=True)

    def __init__(self, on_sort: Callable[[str], None], on_select: Callable[[str], None], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._on_sort, self._on_select = on_sort, on_select
        self.on_msg(self._message)

    def _message(self, _widget: object, content: dict[str, Any], _buffers: object) -> None:
        if not isinstance(content, dict):
            return
        if content.get("kind") == "sort" and isinstance(content.get("column"), str):
            self._on_sort(content["column"])
        elif content.get("kind") == "select" and isinstance(content.get("id"), str):
            self._on_select(content["id"])

    def click_header(self, column: str) -> None:
        """What a click on a column's header does (for tests and notebooks)."""
        self._message(self, {"kind": "sort", "column": column}, None)

    def click_row(self, instance_id: str) -> None:
        """What a click on an instance's row does."""
        self._message(self, {"kind": "select", "id": instance_id}, None)


__all__ = ["InstanceGrid"]
