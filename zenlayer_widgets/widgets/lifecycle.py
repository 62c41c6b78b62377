"""Closing a view with everything it made: a Box's children, recursively, and each widget's Layout and Style.

``Widget.close()`` closes one model; its layout, its style and a box's children stay alive (in the kernel and
in the page). Views that re-render (the inventory after every change of images) close what they replaced
with :func:`close_tree`, so a long session does not pile up widgets.
"""

from __future__ import annotations

from collections.abc import Iterable

import ipywidgets as W


def close_tree(roots: Iterable[W.Widget | None], *, keep: Iterable[W.Widget] = ()) -> None:
    """Close every widget in ``roots``, their descendants and their layouts and styles, except those in ``keep``
    (and what is under them)."""
    kept = {id(widget) for widget in keep}
    seen: set[int] = set()
    stack = [widget for widget in roots if widget is not None]
    while stack:
        widget = stack.pop()
        if id(widget) in seen or id(widget) in kept:
            continue
        seen.add(id(widget))
        stack.extend(getattr(widget, "children", ()))
        for part in (getattr(widget, "layout", None), getattr(widget, "style", None)):
            if isinstance(part, W.Widget):
                stack.append(part)
        widget.close()
