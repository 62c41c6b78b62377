"""Image-name and description inputs that validate in the browser on every keystroke.

The browser computes the feedback itself (counter, message, ``zw-invalid``) from the rule sent in
the ``rule`` trait, which is :func:`zenlayer_widgets.rules.browser_rule` (or
:func:`~zenlayer_widgets.rules.browser_description_rule`): no limit, pattern or message lives in
the JavaScript. Every keystroke also syncs ``value`` to the kernel, which recomputes its own
:class:`~zenlayer_widgets.rules.Verdict` and stays the judge of what may be submitted.

React to changes as with any widget::

    field = ImageNameField()
    field.observe(lambda change: print(field.valid, field.message), "value")
"""

from __future__ import annotations

import pathlib
from typing import Any, ClassVar

import anywidget
import traitlets

from zenlayer_widgets import rules

_HERE = pathlib.Path(__file__).parent

#: The feedback shown while the name is valid.
NAME_OK_TEXT = "✓ Zenlayer will accept this name"
#: The feedback shown while the description is valid (empty included: it is optional).
DESCRIPTION_OK_TEXT = "✓ Zenlayer will accept this description"
NAME_PLACEHOLDER = "e.g. web-01_备份"
INVALID_CLASS = "zw-invalid"
#: The naming rules, shown under the empty name field before anything is typed.
NAME_HINT = f"1 to {rules.IMAGE_NAME_MAX_LENGTH} characters: {rules.ALLOWED_CHARACTERS_TEXT}; unique in the zone."


class _RuledTextField(anywidget.AnyWidget):
    """A text input whose browser view checks ``rule`` per keystroke and whose kernel re-checks ``value``."""

    _esm = _HERE / "name_field.js"
    _css = _HERE / "zenlayer.css"

    value = traitlets.Unicode("", help="The text as typed; synced on every keystroke.").tag(sync=True)
    label = traitlets.Unicode("", help="The label shown above the input.").tag(sync=True)
    placeholder = traitlets.Unicode("", help="Grey hint shown while the input is empty.").tag(sync=True)
    disabled = traitlets.Bool(False, help="Whether the input refuses typing.").tag(sync=True)
    valid = traitlets.Bool(False, read_only=True, help="The kernel's verdict on ``value``.").tag(sync=True)
    message = traitlets.Unicode("", read_only=True, help="Every problem with ``value``; empty when valid.").tag(
        sync=True
    )
    ok_text = traitlets.Unicode(help="The feedback shown while the value is valid.").tag(sync=True)
    rule = traitlets.Dict(read_only=True, help="The rule as data, for the browser-side validator.").tag(sync=True)
    hint = traitlets.Unicode("", help="What is allowed, shown (neutral, not red) while the input is empty.").tag(sync=True)
    conflict = traitlets.Dict(
        help="A problem only the kernel knows (a name already used in the zone): {'value': text, 'message': why}; "
        "shown while the input still holds that text."
    ).tag(sync=True)
    kind = traitlets.Unicode(read_only=True, help="Which rule the view applies: 'name' or 'description'.").tag(
        sync=True
    )

    _css_class: ClassVar[str]
    _kind: ClassVar[str]
    _validate: ClassVar[staticmethod[[str], rules.Verdict]]
    _browser_rule: ClassVar[staticmethod[[], dict[str, object]]]

    def __init__(self, value: str = "", **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.set_trait("kind", self._kind)
        self.set_trait("rule", type(self)._browser_rule())
        self.add_class(self._css_class)
        self._verdict = type(self)._validate("")
        self._apply_verdict()
        self.value = value

    @property
    def verdict(self) -> rules.Verdict:
        """The kernel's verdict on the current ``value``."""
        return self._verdict

    @property
    def counter(self) -> str:
        """``"7/24"``: characters used over the limit, as the view shows it."""
        return self._verdict.counter

    @property
    def conflict_message(self) -> str:
        """The kernel-known problem with the current value ("" when none)."""
        conflict = self.conflict
        return str(conflict.get("message", "")) if conflict and conflict.get("value") == self.value else ""

    @property
    def feedback(self) -> str:
        """The text the feedback line shows: the hint while empty, every problem, or :attr:`ok_text` when valid."""
        if not self.value and self.hint:
            return self.hint
        return self._verdict.message or self.conflict_message or self.ok_text

    @property
    def flagged(self) -> bool:
        """Whether the field is shown red: a problem with what was typed (an empty field is neutral)."""
        return bool(self.value) and (not self._verdict.ok or bool(self.conflict_message))

    @traitlets.observe("value")
    def _on_value(self, change: dict[str, Any]) -> None:
        self._verdict = type(self)._validate(change["new"])
        self._apply_verdict()

    @traitlets.observe("conflict")
    def _on_conflict(self, _change: dict[str, Any]) -> None:
        self._apply_verdict()

    def _apply_verdict(self) -> None:
        verdict = self._verdict
        with self.hold_sync():
            self.set_trait("valid", verdict.ok and not self.conflict_message)
            self.set_trait("message", verdict.message or self.conflict_message)
            if not self.flagged:
                self.remove_class(INVALID_CLASS)
            else:
                self.add_class(INVALID_CLASS)


class ImageNameField(_RuledTextField):
    """The image-name input: counter ``n/24``, exact feedback, ``zw-invalid`` while invalid.

    The element carries class ``zw-image-name`` (type into ``.zw-image-name input``); the counter
    is ``.zw-name-counter`` and the feedback ``.zw-name-feedback``.
    """

    _css_class = "zw-image-name"
    _kind = "name"
    _validate = staticmethod(rules.validate_image_name)
    _browser_rule = staticmethod(rules.browser_rule)

    def __init__(
        self, value: str = "", label: str = "Image name", placeholder: str = NAME_PLACEHOLDER, **kwargs: Any
    ) -> None:
        kwargs.setdefault("ok_text", NAME_OK_TEXT)
        kwargs.setdefault("hint", NAME_HINT)
        super().__init__(value, label=label, placeholder=placeholder, **kwargs)


class ImageDescriptionField(_RuledTextField):
    """The optional image description: a textarea with counter ``n/255`` and exact feedback.

    The element carries class ``zw-image-description``; the counter is ``.zw-description-counter``
    and the feedback ``.zw-description-feedback``.
    """

    _css_class = "zw-image-description"
    _kind = "description"
    _validate = staticmethod(rules.validate_image_description)
    _browser_rule = staticmethod(rules.browser_description_rule)

    def __init__(
        self, value: str = "", label: str = "Description (optional)", placeholder: str = "", **kwargs: Any
    ) -> None:
        kwargs.setdefault("ok_text", DESCRIPTION_OK_TEXT)
        super().__init__(value, label=label, placeholder=placeholder, **kwargs)
