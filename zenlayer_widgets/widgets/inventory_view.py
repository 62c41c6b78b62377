"""Per zone: the zone's custom images, one row each with its proof line (source, verified), Edit, Delete, Verify,
Launch a copy and Restore, beside its quota bar."""

from __future__ import annotations

import html
from collections.abc import Callable

import ipywidgets as W

from ..api.models import Image, Instance
from ..core.inventory import Inventory
from ..rules import zone_supports_images
from ..studio.clock import clock_text
from ..studio.controller import StudioController
from ..studio.image_proof import LAUNCH, RESTORE, VERIFY, launch_question, restore_problem, restore_question, verify_question
from .controls import button
from .lifecycle import close_tree
from .name_field import ImageDescriptionField, ImageNameField
from .render import badge, css_token, quota_bar, zone_title
from .styles import StyleSheet

#: The image row's columns: (heading, CSS class giving its width).
IMAGE_ROW_COLUMNS = (("Name", "zw-col-name"), ("Image ID", "zw-col-id"), ("Status", "zw-col-status"),
                     ("Size (GB)", "zw-col-size"), ("Description", "zw-col-description"))

#: The tooltips of Verify, Launch a copy and Restore when they may be pressed.
ACTION_TIPS = ("Launch a throwaway from this image, see it boot, release it",
               "A new instance from this image, with the settings of one you choose",
               "Rebuild an instance's system disk from this image")


def _same_images(old: Inventory | None, new: Inventory | None) -> bool:
    """Whether two snapshots show the same zones, images and quota (power states aside)."""
    if old is None or new is None:
        return old is new
    return (old.zones, old.image_list, old.quota_list) == (new.zones, new.image_list, new.quota_list)


def _cells(image: Image) -> str:
    values = [image.image_name, image.image_id, None, "" if image.image_size is None else str(image.image_size),
              image.image_description or ""]
    parts = []
    for (_, css), value in zip(IMAGE_ROW_COLUMNS, values, strict=True):
        text = badge(image.image_status) if value is None else html.escape(value)
        title = "" if value is None else f' title="{html.escape(value, quote=True)}"'
        parts.append(f'<span class="zw-cell {css}"{title}>{text}</span>')
    whole = " · ".join(v for v in (image.image_name, image.image_id, image.image_status, image.image_description or "") if v)
    return f'<div class="zw-image-cells-row" title="{html.escape(whole, quote=True)}">' + "".join(parts) + "</div>"


class ImageRow(W.VBox):
    """One custom image: its cells, Edit and Delete; its proof line (source, verified) with Verify, Launch a copy and
    Restore; the editor, the delete or proof question and the feedback under it.

    Class ``zw-image-row`` and ``zw-image-<id>``. The editor reuses the create form's name and
    description fields (the same live validation); the kernel re-checks before ModifyImagesAttributes.
    """

    def __init__(self, controller: StudioController, image: Image) -> None:
        self.controller = controller
        self.image = image
        self.cells = W.HTML()
        self.cells.add_class("zw-image-cells")
        self.edit_button = button("Edit", "zw-edit-image", icon="pencil", tooltip="Rename or describe this image")
        self.delete_button = button("Delete", "zw-delete-image", icon="trash", tooltip="Delete this image")
        self.verify_button = button("Verify", "zw-verify-image", icon="check", tooltip=ACTION_TIPS[0])
        self.launch_button = button("Launch a copy", "zw-launch-image", icon="rocket", tooltip=ACTION_TIPS[1])
        self.restore_button = button("Restore", "zw-restore-image", icon="undo", tooltip=ACTION_TIPS[2])
        self.line = W.HBox([self.cells, self.edit_button, self.delete_button])
        self.line.add_class("zw-image-line")
        self.proof = W.HTML()
        self.proof.add_class("zw-image-proof")
        self.proof_line = W.HBox([self.proof, self.verify_button, self.launch_button, self.restore_button])
        self.proof_line.add_class("zw-image-proof-line")
        self.action = ProofQuestion(controller, image)
        self.question = W.HTML()
        self.question.add_class("zw-delete-question")
        self.confirm_button = button("Delete image", "zw-confirm-delete", button_style="danger")
        self.cancel_delete_button = button("Cancel", "zw-cancel-delete")
        self.confirm_box = W.HBox([self.question, self.confirm_button, self.cancel_delete_button])
        self.confirm_box.add_class("zw-delete-confirm")
        # the editor is made on the first Edit and is in the page only while open (one name field per page otherwise)
        self.editor: W.VBox | None = None
        self.note = W.HTML()
        self.note.add_class("zw-image-note")
        super().__init__([self.line, self.proof_line, self.note])
        self.add_class("zw-image-row")
        self.add_class(f"zw-image-{css_token(image.image_id)}")
        self.edit_button.on_click(lambda _: self._act(self._open_editor))
        self.delete_button.on_click(lambda _: self._act(lambda: controller.request_delete(self.image.image_id)))
        self.cancel_delete_button.on_click(lambda _: controller.cancel_delete())
        self.confirm_button.on_click(lambda _: controller.tasks.spawn(controller.confirm_delete(self.image.image_id)))
        for kind, clicked in ((VERIFY, self.verify_button), (LAUNCH, self.launch_button), (RESTORE, self.restore_button)):
            clicked.on_click(lambda _, k=kind: controller.tasks.spawn(controller.open_row_action(self.image.image_id, k)))
        self.show(image)

    def close(self) -> None:
        """Close the row and everything in it (the delete question and the editor too, shown or not)."""
        close_tree([self.line, self.proof_line, self.action, self.confirm_box, self.editor, self.note, self.layout])
        super().close()

    def _act(self, open_: Callable[[], None]) -> None:
        """Open the editor or the delete question at once, and re-check that the image still exists (deleted
        elsewhere since the last poll: it closes again and says so; nothing is sent)."""
        open_()
        self.controller.tasks.spawn(self.controller.recheck_image(self.image.image_id))

    def _make_editor(self) -> W.VBox:
        self.name = ImageNameField(label="New name")
        self.description = ImageDescriptionField()
        self.save_button = button("Save", "zw-save-image", button_style="primary")
        self.cancel_edit_button = button("Cancel", "zw-cancel-edit")
        self.cancel_edit_button.on_click(lambda _: self.controller.cancel_edit())
        self.save_button.on_click(lambda _: self._save())
        self.name.observe(lambda _change: self._check_edit(), "value")
        self.description.observe(lambda _change: self._check_edit(), "value")
        editor = W.VBox([self.name, self.description, W.HBox([self.save_button, self.cancel_edit_button])])
        editor.add_class("zw-image-editor")
        return editor

    def _open_editor(self) -> None:
        if self.editor is None:
            self.editor = self._make_editor()
        self.name.value = self.image.image_name
        self.description.value = self.image.image_description or ""
        self.controller.start_edit(self.image.image_id)

    def _check_edit(self) -> str:
        """The create form's checks on what is typed, live: a name taken in the zone is flagged in the field (the
        browser cannot know it) and Save is refused until the problem is gone; the problem ("" = none)."""
        if self.editor is None:
            return ""
        problem = self.controller.edit_problem(self.image.image_id, self.name.value, self.description.value)
        browser_knows = not (self.name.verdict.ok and self.description.verdict.ok)
        conflict = {"value": self.name.value, "message": problem} if problem and not browser_knows else {}
        if self.name.conflict != conflict:
            self.name.conflict = conflict
        self.save_button.disabled = bool(problem) or self.controller.renaming
        self.save_button.tooltip = problem or "Save the new name and description"
        return problem

    def _save(self) -> None:
        self.save_button.disabled = True  # at once: no double save
        self.controller.tasks.spawn(self.controller.save_edit(self.image.image_id, self.name.value, self.description.value))

    def show(self, image: Image) -> None:
        """Show this (possibly updated) image and the controller's state for it."""
        self.image = image
        controller, image_id = self.controller, image.image_id
        creating = image.image_status == "CREATING"
        editing = controller.editing == image_id
        confirming = controller.delete_candidate == image_id
        note = controller.image_note if controller.image_note[:1] == (image_id,) else ()
        gone = controller.image(image_id) is None  # deleted elsewhere (the poll saw it): nothing to act on
        with self.hold_sync():
            self.cells.value = _cells(image)
            self.edit_button.disabled = creating or gone or controller.renaming
            self.delete_button.disabled = creating or gone or controller.deleting
            self.delete_button.tooltip = "Wait until it is AVAILABLE" if creating else "Delete this image"
            self.question.value = f"{html.escape(controller.delete_question(image_id))}&nbsp;" if confirming else ""
            problem = controller.row_blocked(image_id)
            for action, tip in zip((self.verify_button, self.launch_button, self.restore_button), ACTION_TIPS, strict=True):
                action.disabled = bool(problem)
                action.tooltip = problem or tip
            proof = controller.proofs.get(image_id, "")
            self.proof.value = f'<span class="zw-muted">{html.escape(proof)}</span>' if proof else ""
            parts: list[W.Widget] = [self.line, self.proof_line]
            if confirming:
                parts.append(self.confirm_box)
            if controller.row_action[:1] == (image_id,):
                self.action.show(image)
                parts.append(self.action)
            if editing and self.editor is not None:
                parts.append(self.editor)
                self._check_edit()
            parts.append(self.note)
            if list(self.children) != parts:  # type: ignore[has-type]  # a trait of the (untyped) Box
                self.children = parts
            kind = note[1] if note else ""
            self.note.value = f'<div class="zw-note zw-note-{kind}">{html.escape(note[2])}</div>' if note else ""


class ProofQuestion(W.VBox):
    """The question a row's Verify, Launch a copy or Restore asks first (class ``zw-proof-question``): what it costs,
    launches or formats; Launch: the instance to copy and a name; Restore: the instance and its name typed (the
    button stays disabled until it matches)."""

    def __init__(self, controller: StudioController, image: Image) -> None:
        self.controller, self.image = controller, image
        self.ask = W.HTML()
        self.chooser = W.Dropdown(description="Instance", options=[], layout=W.Layout(width="auto"))
        self.chooser.add_class("zw-proof-instance")
        self.new_name = W.Text(description="Name", placeholder="the new instance's name")
        self.new_name.add_class("zw-proof-name")
        self.typed = W.Text(description="Type name", placeholder="the instance's name, to confirm")
        self.typed.add_class("zw-proof-typed")
        self.go_button = button("Go", "zw-proof-go", button_style="primary")
        self.cancel_button = button("Cancel", "zw-proof-cancel")
        self.why = W.HTML()
        self.buttons = W.HBox([self.go_button, self.cancel_button, self.why])
        self._opened: tuple[str, ...] = ()
        self._opening = False
        super().__init__([self.ask, self.go_button])
        self.add_class("zw-proof-question")
        self.cancel_button.on_click(lambda _: controller.cancel_row_action())
        self.go_button.on_click(lambda _: self._go())
        self.chooser.observe(lambda _change: self._chosen(), "value")
        self.new_name.observe(lambda _change: self.show(self.image), "value")
        self.typed.observe(lambda _change: self.show(self.image), "value")

    def close(self) -> None:
        close_tree([self.ask, self.chooser, self.new_name, self.typed, self.buttons, self.layout])
        super().close()

    def _kind(self) -> str:
        action = self.controller.row_action
        return action[1] if action[:1] == (self.image.image_id,) else ""

    def _open(self, kind: str) -> None:
        """A new question: the chooser offers the zone's instances, the image's source first chosen."""
        controller, image_id = self.controller, self.image.image_id
        source = controller.source_of(image_id)
        self._opening = True  # the default chosen here is priced by open_row_action itself
        try:
            with self.hold_sync():
                self.chooser.options = [(f"{i.instance_name or i.instance_id} ({i.instance_id}, {i.instance_status})",
                                         i.instance_id) for i in controller.zone_instances(image_id)]
                ids = [value for _, value in self.chooser.options]
                self.chooser.value = source.instance_id if source is not None and source.instance_id in ids else None
                self.typed.value = ""
                named = kind == LAUNCH and source is not None and bool(source.instance_name)
                self.new_name.value = f"{source.instance_name}-copy"[:64] if named and source is not None else ""
        finally:
            self._opening = False

    def _chosen(self) -> None:
        if self._kind() == LAUNCH and self.chooser.value and not self._opening:
            self.controller.tasks.spawn(self.controller.price_launch(self.image.image_id, self.chooser.value))
        self.show(self.image)

    def _instance(self) -> Instance | None:
        inventory = self.controller.inventory
        return inventory.instance(self.chooser.value) if inventory is not None and self.chooser.value else None

    def show(self, image: Image) -> None:
        """The question for the row's open action, its fields, and whether its button may be pressed."""
        self.image = image
        kind = self._kind()
        if not kind:
            self._opened = ()
            return
        if self._opened != (image.image_id, kind):
            self._opened = (image.image_id, kind)
            self._open(kind)
        controller = self.controller
        price = controller.row_price if controller.row_price[:1] == (image.image_id,) else ()
        instance = self._instance()
        problem = "" if price else "Asking the price…"
        if kind == VERIFY:
            text = verify_question(image, price[1] if price else None, price[2] if price else None)
            fields: list[W.Widget] = []
            label = "Verify (launch a throwaway)"
        elif kind == LAUNCH:
            text = launch_question(image, instance, price[1] if price else None)
            fields = [self.chooser, self.new_name]
            label = "Launch"
            if instance is None:
                problem = "Choose the instance whose settings the copy takes."
            elif not controller.launch_name_ok(self.new_name.value):
                problem = "A name: 1 to 64 letters, digits, '-' or '.'."
        else:
            text = restore_question(image, instance)
            fields = [self.chooser, self.typed]
            label = "Restore (format the system disk)"
            problem = restore_problem(instance, self.typed.value)
        with self.hold_sync():
            self.ask.value = f'<div class="zw-proof-ask">{html.escape(text)}</div>'
            self.go_button.description = label
            self.go_button.button_style = "danger" if kind == RESTORE else "primary"
            self.go_button.disabled = bool(problem) or bool(controller.row_blocked(image.image_id))
            self.go_button.tooltip = problem or label
            self.why.value = f'<span class="zw-muted">{html.escape(problem)}</span>' if problem else ""
            children = [self.ask, *fields, self.buttons]
            if list(self.children) != children:  # type: ignore[has-type]  # a trait of the (untyped) Box
                self.children = children

    def _go(self) -> None:
        kind, controller, image_id = self._kind(), self.controller, self.image.image_id
        self.go_button.disabled = True  # at once: no double launch
        if kind == VERIFY:
            controller.tasks.spawn(controller.verify_row(image_id))
        elif kind == LAUNCH:
            controller.tasks.spawn(controller.launch_row(image_id, self.chooser.value or "", self.new_name.value))
        elif kind == RESTORE:
            controller.tasks.spawn(controller.restore_row(image_id, self.chooser.value or "", self.typed.value))


class InventoryView(W.VBox):
    """Every zone's images (a row each, with its actions) and quota (class ``zw-inventory``)."""

    def __init__(self, controller: StudioController) -> None:
        super().__init__()
        self.add_class("zw-inventory")
        self.controller = controller
        self.rows: dict[str, ImageRow] = {}  # kept across reloads, so an open editor keeps what was typed
        # per zone, the outcome of an action on an image no longer listed (a delete): it stays until the next action
        self.zone_notes: dict[str, W.HTML] = {}
        self.as_of = W.HTML()
        self.as_of.add_class("zw-images-as-of")
        self._parts: dict[str, W.Widget] = {}  # each zone's boxes and texts, kept across renders (see _part)
        self._used: set[str] = set()
        # one for the view's life: anywidget's page code reports "Failed to initialize model" for a model closed
        # before its module loaded, which a stylesheet made per render and closed by the next one can be
        self.stylesheet = StyleSheet()
        controller.observe(self._inventory_changed, "inventory")
        controller.observe(lambda _change: self._show_rows(), ["delete_candidate", "editing", "image_note", "deleting", "renaming",
                                                               "row_action", "row_price", "proofs", "verifying",
                                                               "launching", "restoring"])
        controller.observe(lambda _change: self._show_as_of(), "images_at")
        self.render()

    def _show_as_of(self) -> None:
        at = self.controller.images_at
        every = self.controller.loading.images_every
        follows = f" · checked every {every:g} s while the studio is open" if every else ""
        self.as_of.value = "" if at is None else f'<span class="zw-muted">As of {html.escape(clock_text(at))}{follows}</span>'

    def _zone_note(self, zone_id: str) -> W.HTML:
        note = self.zone_notes.get(zone_id)
        if note is None:
            note = self.zone_notes[zone_id] = W.HTML()
            note.add_class("zw-zone-note")
        return note

    def _show_zone_notes(self) -> None:
        """The last action's outcome under its zone's table when its image is gone (a delete): kept, not flashed."""
        note = self.controller.image_note
        for zone_id, widget in self.zone_notes.items():
            shown = len(note) > 3 and note[3] == zone_id and note[0] not in self.rows
            value = f'<div class="zw-note zw-note-{note[1]}">{html.escape(note[2])}</div>' if shown else ""
            if widget.value != value:
                widget.value = value

    def _inventory_changed(self, change: dict[str, Inventory | None]) -> None:
        if not _same_images(change["old"], change["new"]):  # a power-state update leaves this view alone
            self.render()

    def _show_rows(self) -> None:
        for row in self.rows.values():
            row.show(row.image)
        self._show_zone_notes()

    def _row(self, image: Image) -> ImageRow:
        row = self.rows.get(image.image_id)
        if row is None:
            row = self.rows[image.image_id] = ImageRow(self.controller, image)
        else:
            row.show(image)
        return row

    def _part(self, key: str, make: Callable[[], W.Widget]) -> W.Widget:
        """The widget ``key`` of the last render, else a new one from ``make``: a render updates the widgets the page
        already has rather than making and closing them (a box whose child is closed before the page has built it
        fails there with "widget model not found")."""
        widget = self._parts.get(key)
        if widget is None:
            widget = self._parts[key] = make()
        self._used.add(key)
        return widget

    def _html(self, key: str, value: str, css: str = "") -> W.HTML:
        widget = self._part(key, lambda: W.HTML())
        assert isinstance(widget, W.HTML)
        if css:
            widget.add_class(css)
        if widget.value != value:
            widget.value = value
        return widget

    def _box(self, key: str, kind: type[W.Box], children: list[W.Widget], *css: str) -> W.Box:
        widget = self._part(key, lambda: kind(layout=W.Layout(padding="4px 0")) if key.endswith(":box") else kind())
        assert isinstance(widget, W.Box)
        for name in css:
            widget.add_class(name)
        if list(widget.children) != children:
            widget.children = children
        return widget

    def render(self) -> None:
        inventory = self.controller.inventory
        self._used = set()
        if inventory is None:
            loading = self._html("loading", "<h4>Images and quota per zone</h4><p>Loading…</p>")
            self._show([loading, self.stylesheet])
            return
        self._show_as_of()
        heading = self._html("heading", "<h4 style='margin:8px 0 4px'>Images and quota per zone</h4>")
        rows: list[W.Widget] = [self._box("top", W.VBox, [heading, self.as_of]), self.stylesheet]
        listed: set[str] = set()
        head = "".join(f'<span class="zw-cell {css}">{html.escape(label)}</span>' for label, css in IMAGE_ROW_COLUMNS)
        for zone in inventory.zones:
            key, supports = zone.zone_id, zone_supports_images(zone.zone_id)
            title = self._html(f"{key}:title", zone_title(zone.zone_id, zone.zone_name, supports))
            quota = self._html(f"{key}:quota", quota_bar(inventory.quota_for(zone.zone_id), supports), "zw-quota")
            images = [image for image in inventory.image_list if image.zone_id == zone.zone_id]
            listed.update(image.image_id for image in images)
            if not supports:
                cells: list[W.Widget] = []
            elif images:
                cells = [self._html(f"{key}:head", f'<div class="zw-image-head">{head}</div>'),
                         *(self._row(image) for image in images)]
            else:
                cells = [self._html(f"{key}:empty", '<p class="zw-empty">No custom images.</p>')]
            table = self._box(f"{key}:table", W.VBox, [*cells, self._zone_note(key)] if supports else cells,
                              "zw-zone-images")
            body = self._box(f"{key}:body", W.HBox, [table, quota], "zw-zone-body")
            box = self._box(f"{key}:box", W.VBox, [title, body], "zw-zone", f"zw-zone-{css_token(key)}",
                            *(() if supports else ("zw-zone-refuses",)))
            rows.append(box)
        gone = [self.rows.pop(image_id) for image_id in set(self.rows) - listed]
        self._show(rows)
        for row in gone:
            row.close()
        self._show_zone_notes()

    def _show(self, children: list[W.Widget]) -> None:
        """Show ``children``; close the parts this render did not use (a zone no longer listed, the "Loading…"
        text): nothing leaks across reloads, and nothing the page is still building is closed under it."""
        if list(self.children) != children:  # type: ignore[has-type]  # a trait of the (untyped) Box
            self.children = children
        unused = [key for key in self._parts if key not in self._used]
        close_tree([self._parts.pop(key) for key in unused],
                   keep=[*self.rows.values(), *self.zone_notes.values(), self.as_of])

    def zone_box(self, zone_id: str) -> W.VBox | None:
        """The box of one zone (for tests and notebooks)."""
        css = f"zw-zone-{css_token(zone_id)}"
        return next((box for box in self.children if css in getattr(box, "_dom_classes", ())), None)

    def zone_text(self, zone_id: str) -> str:
        """What one zone's box says (its images' cells and its quota), as HTML."""
        box = self.zone_box(zone_id)
        if box is None:
            return ""
        table, quota = box.children[1].children
        parts = [w.cells.value if isinstance(w, ImageRow) else getattr(w, "value", "") for w in table.children
                 if w not in self.zone_notes.values()]
        return "".join(parts) + quota.value
