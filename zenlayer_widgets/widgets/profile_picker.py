"""``ProfilePicker``: which account the studio works on (zeno's profiles, or the sandbox).

Shown only when there is a choice (more than one profile). Picking one calls ``on_pick(name)``
(``None`` for the sandbox); the studio swaps its client and reloads everything.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ipywidgets as W

from ..api.profiles import ProfileInfo

#: The dropdown value of the sandbox entry (no profile can be named with a leading NUL).
SANDBOX = "\0sandbox"


class ProfilePicker(W.HBox):
    """A Dropdown of the profiles (name, kind, key id; never a secret) and the sandbox."""

    def __init__(self, profiles: Sequence[ProfileInfo], current: str | None, on_pick: Callable[[str | None], None]) -> None:
        options = [(str(p), p.name) for p in profiles if p.kind != "incomplete"]
        options.append(("Sandbox (the built-in emulator, demo data)", SANDBOX))
        self.dropdown = W.Dropdown(options=options, value=current if current in dict(options).values() else SANDBOX,
                                   description="Account", layout=W.Layout(width="520px"),
                                   style={"description_width": "initial"})
        self.dropdown.add_class("zw-profile-picker")
        self._on_pick = on_pick
        self._settling = False
        self.dropdown.observe(self._picked, names="value")
        super().__init__([self.dropdown])
        self.layout.display = "" if len(profiles) > 1 else "none"

    def _picked(self, change: dict) -> None:
        if self._settling:
            return
        self._on_pick(None if change["new"] == SANDBOX else change["new"])

    def show(self, value: str | None) -> None:
        """Show ``value`` as picked without calling back (after a refused switch)."""
        self._settling = True
        try:
            self.dropdown.value = SANDBOX if value is None else value
        finally:
            self._settling = False
