"""The create form: instance picker, name and description, preflight checks, stop fix, submit, progress."""

from __future__ import annotations

import html

import ipywidgets as W
import traitlets

from ..studio.controller import StudioController
from .instances import InstancePicker
from .name_field import ImageDescriptionField, ImageNameField
from .render import downtime_html, error_html, live_power_reason, preflight_list, progress_html, stop_question
from .styles import StyleSheet

#: The controller's traits the checks, the stop button and the submit button depend on.
FORM_TRAITS = ["image_name", "description", "selected_id", "instances", "inventory", "creating", "stopping", "confirming_stop",
               "starting", "confirming_cycle", "start_after", "force_stop"]
#: The one-line explanation beside the "force" choice (graceful is the default).
FORCE_EXPLAINED = "Force a power-off (like pulling the plug: what is not yet on disk is lost; only if a graceful stop hangs)"


class CreateForm(W.VBox):
    """Everything between choosing an instance and a ready image; state lives in the controller."""

    def __init__(self, controller: StudioController) -> None:
        self.controller = controller
        self.picker = InstancePicker(controller)
        self.name = ImageNameField()
        self.description = ImageDescriptionField()
        self.checks = W.HTML()
        self.stop_button = W.Button(description="Stop instance", icon="stop", button_style="warning")
        self.confirm_text = W.HTML()
        self.confirm_button = W.Button(description="Yes, stop it", button_style="danger")
        self.cancel_button = W.Button(description="Cancel")
        self.confirm_box = W.HBox([self.confirm_text, self.confirm_button, self.cancel_button])
        self.cycle_button = W.Button(description=controller.cycle_label, icon="camera",
                                     button_style="primary", layout=W.Layout(width="auto"))
        self.start_after = W.Checkbox(description="Start the instance again when the image is ready", indent=False)
        self.force_stop = W.Checkbox(description=FORCE_EXPLAINED, indent=False, layout=W.Layout(width="auto"))
        self.cycle_question = W.HTML()
        self.cycle_confirm_button = W.Button(description="Yes, stop it and create the image", button_style="danger",
                                             layout=W.Layout(width="auto"))
        self.cycle_cancel_button = W.Button(description="Cancel")
        self.cycle_confirm = W.VBox([self.cycle_question, W.HBox([self.cycle_confirm_button, self.cycle_cancel_button])])
        self.cycle_box = W.VBox([self.cycle_button, self.start_after, self.force_stop, self.cycle_confirm])
        self.start_button = W.Button(description="Start instance", icon="play")
        self.downtime = W.HTML()
        self.submit = W.Button(description="Create image", button_style="primary", icon="camera", disabled=True)
        self.progress = W.HTML()
        self.error = W.HTML()
        self.check_again = W.Button(description="Check again", icon="refresh")
        self.send_again = W.Button(description="None is mine: send again", button_style="danger", disabled=True)
        self.unknown_box = W.HBox([self.check_again, self.send_again])
        for widget, css in [
            (self.checks, "zw-preflight"), (self.stop_button, "zw-stop-instance"), (self.confirm_box, "zw-confirm"),
            (self.confirm_button, "zw-confirm-stop"), (self.cancel_button, "zw-cancel-stop"), (self.submit, "zw-submit"),
            (self.progress, "zw-progress"), (self.error, "zw-error"), (self.check_again, "zw-check-again"),
            (self.send_again, "zw-send-again"), (self.cycle_button, "zw-cycle"), (self.start_after, "zw-start-after"),
            (self.force_stop, "zw-force-stop"), (self.start_button, "zw-start-instance"), (self.downtime, "zw-downtime-box"),
            (self.cycle_confirm, "zw-cycle-confirm"), (self.cycle_question, "zw-cycle-question"),
            (self.cycle_confirm_button, "zw-confirm-cycle"), (self.cycle_cancel_button, "zw-cancel-cycle"),
        ]:
            widget.add_class(css)
        super().__init__(
            [
                W.HTML("<h4 style='margin:4px 0'>Create a custom image</h4>"),
                self.picker,
                self.name,
                self.description,
                self.checks,
                self.stop_button,
                self.confirm_box,
                self.cycle_box,
                self.start_button,
                self.submit,
                self.progress,
                self.downtime,
                self.error,
                self.unknown_box,
                StyleSheet(),
            ],
        )
        self.add_class("zw-create-form")
        self._links = [  # typed text and the controller's state are one value (cleared after a create)
            traitlets.link((controller, "image_name"), (self.name, "value")),
            traitlets.link((controller, "description"), (self.description, "value")),
            traitlets.link((controller, "start_after"), (self.start_after, "value")),
            traitlets.link((controller, "force_stop"), (self.force_stop, "value")),
        ]
        self.cycle_button.on_click(lambda _: controller.request_cycle())  # an outage: asked first, like Stop
        self.cycle_cancel_button.on_click(lambda _: controller.cancel_cycle())
        self.cycle_confirm_button.on_click(lambda _: controller.tasks.spawn(controller.submit_cycle()))
        self.start_button.on_click(lambda _: controller.tasks.spawn(controller.start_selected()))
        self.stop_button.on_click(lambda _: controller.request_stop())
        self.cancel_button.on_click(lambda _: controller.cancel_stop())
        self.confirm_button.on_click(lambda _: controller.tasks.spawn(controller.confirm_stop()))
        self.submit.on_click(self._submit_clicked)
        controller.observe(lambda _change: self.render(), FORM_TRAITS)
        controller.observe(lambda _change: self._show_progress(), ["progress", "notice"])
        controller.observe(lambda _change: self._show_checks(), "progress")
        controller.observe(lambda _change: self._show_error(), "error")
        controller.observe(lambda _change: self.render(), ["unknown", "send_again_ready"])
        self.check_again.on_click(lambda _: controller.tasks.spawn(controller.check_again()))
        self.send_again.on_click(lambda _: controller.tasks.spawn(controller.send_again()))
        self.render()

    def _submit_clicked(self, _button: W.Button) -> None:
        if self.controller.can_submit:
            self.submit.disabled = True  # at once, before the task even starts: no double submit
            self.controller.tasks.spawn(self.controller.submit())
        else:  # a click that raced a change of the form: say why nothing was sent
            self.controller.notice = "Not submitted: " + (self.controller.preflight.summary() or "a call is in flight.")

    def _show_progress(self) -> None:
        self.progress.value = progress_html(self.controller.progress, self.controller.notice)
        self.downtime.value = downtime_html(self.controller.progress)

    def _show_error(self) -> None:
        self.error.value = error_html(self.controller.error)

    def _show_checks(self) -> None:
        """The checklist; while stop-create-start runs its power line says the step under way."""
        controller = self.controller
        live = live_power_reason(controller.progress) if controller.creating else None
        self.checks.value = preflight_list(controller.preflight, frozenset() if controller.image_name else frozenset({"name"}),
                                           {"power_state": live} if live else None)

    def render(self) -> None:
        controller = self.controller
        preflight = controller.preflight
        with self.hold_sync():
            self._show_checks()
            unique = preflight.check("unique_name")  # the field and the checklist say the same about the name
            taken = {} if unique is None or unique.ok else {"value": controller.image_name, "message": unique.reason}
            if self.name.conflict != taken:
                self.name.conflict = taken
            can_stop = controller.only_power_blocks and not controller.stopping  # never where another check blocks
            self.stop_button.layout.display = "" if can_stop and not controller.confirming_stop else "none"
            self.confirm_box.layout.display = "" if controller.confirming_stop else "none"
            instance = controller.selected_instance
            if instance is not None:
                self.confirm_text.value = stop_question(instance.instance_name or instance.instance_id, instance.zone_id,
                                                      controller.force_stop)
            self.submit.disabled = not controller.can_submit
            self.cycle_box.layout.display = "" if controller.can_cycle else "none"
            self.cycle_button.description = controller.cycle_label
            self.cycle_button.layout.display = "none" if controller.confirming_cycle else ""
            self.cycle_confirm.layout.display = "" if controller.confirming_cycle else "none"
            self.cycle_question.value = f'<div class="zw-confirm-text">{html.escape(controller.cycle_question())}</div>'
            self.cycle_confirm_button.description = "Yes, force it off and create the image" if controller.force_stop \
                else "Yes, stop it and create the image"
            self.start_button.layout.display = "" if controller.can_start else "none"
            self.unknown_box.layout.display = "" if controller.unknown is not None else "none"
            self.check_again.disabled = controller.creating
            self.send_again.disabled = not controller.can_send_again
            self._show_progress()
            self._show_error()
