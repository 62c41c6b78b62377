"""The image studio's state as typed, observable traits, and what follows from it (no calls, no widgets).

One trait per piece of state; a view observes the traits it shows (``state.observe(fn, "progress")``)
and calls the input methods below; :class:`~zenlayer_widgets.studio.controller.StudioController`
adds the parts whose calls change the account (each shares this state). Everything derived (the
chosen instance, the checks, whether a submit may go out, the filtered instances) is a property of
the traits, never stored, and none of them reads the ledger (what the ledger says is loaded on refresh).
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

import pandas as pd
import traitlets as T

from ..api.models import Image, ImageQuota, Instance
from ..core.image_actions import check_edit
from ..core.inventory import Inventory, filter_instances
from ..core.preflight import FIX_STOP_INSTANCE, Preflight, evaluate_preflight
from ..core.progress import ImageProgress
from ..core.reconcile import CreateOutcomeUnknown
from ..rules import STOPPED, TRANSITIONAL_INSTANCE_STATES
from .explain import Explanation, explain


@dataclass(frozen=True)
class InstanceFilters:
    """Which instances the table and the picker show: a zone, a power state, a name/id fragment ("" = any)."""

    zone: str = ""
    state: str = ""
    name: str = ""

    def apply(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The rows of ``frame`` (an instance table) that pass."""
        if frame.empty or self == InstanceFilters():
            return frame
        return filter_instances(frame, zone=self.zone, state=self.state, name=self.name)


#: Names of the busy flags, for views that disable a button while a call of that kind runs.
BUSY_FLAGS = ("refreshing", "creating", "stopping", "deleting", "renaming", "starting", "verifying", "launching",
              "restoring")


class StudioState(T.HasTraits):
    """What the studio shows: the loaded account, the user's choices, and the state of each call."""

    inventory = T.Instance(Inventory, allow_none=True, help="The latest snapshot (typed models; power states kept current)")
    instances = T.Instance(
        pd.DataFrame, args=(), read_only=True, help="inventory.instances: the instance table (empty before the first load)"
    )
    loaded_at = T.Float(None, allow_none=True, help="time.time() of the latest full load")
    images_at = T.Float(None, allow_none=True, help="time.time() the image lists were last read (the tables' 'as of')")
    selected_id = T.Unicode(None, allow_none=True, help="The instance to image")
    image_name = T.Unicode("", help="The new image's name as typed")
    description = T.Unicode("", help="The new image's description as typed")
    filters = T.Instance(InstanceFilters, args=(), help="What the instance table and the picker show")
    progress = T.Instance(ImageProgress, allow_none=True, help="The latest create, while and after it runs")
    error = T.Instance(Explanation, allow_none=True, help="The error shown in the form (None: none)")
    notice = T.Unicode("", help="A one-line message under the form (a stop finished, a click refused...)")
    confirming_stop = T.Bool(False, help="The stop button was clicked once: ask before stopping")
    delete_candidate = T.Unicode(None, allow_none=True, help="The image id awaiting a confirmed delete")
    editing = T.Unicode(None, allow_none=True, help="The image id whose name/description is being edited")
    image_note = T.Tuple((), help="(image id, 'ok' or 'error', text, zone id): the last image action's outcome, next "
                         "to its row (under its zone's table once the image is gone), kept until the next action")
    confirming_cycle = T.Bool(False, help="Stop-create-start was clicked once: ask before stopping")
    refreshing = T.Bool(False, help="A full load is in flight")
    creating = T.Bool(False, help="A create is in flight")
    stopping = T.Bool(False, help="A stop is in flight")
    deleting = T.Bool(False, help="A delete is in flight")
    starting = T.Bool(False, help="A start is in flight")
    start_after = T.Bool(True, help="Stop-create-start: start the instance again when the image is ready")
    force_stop = T.Bool(False, help="Stop with a forced power-off instead of a graceful shutdown (explicit choice)")
    unknown = T.Instance(CreateOutcomeUnknown, allow_none=True,
                         help="The last create's outcome when the evidence could not tell (the form offers 'check again')")
    send_again_ready = T.Bool(False, help="The unknown create's settle window is over: 'send again' may be offered")
    renaming = T.Bool(False, help="A rename/re-describe is in flight")
    verifying = T.Bool(False, help="A row's Verify is in flight")
    launching = T.Bool(False, help="A row's Launch a copy is in flight")
    restoring = T.Bool(False, help="A row's Restore is in flight")
    row_action = T.Tuple((), help="(image id, 'verify', 'launch' or 'restore'): the row action asking first")
    row_price = T.Tuple((), help="(image id, hourly price or None, instance type or None): the price the open "
                        "question shows, once asked")
    proofs = T.Dict(help="image id -> the row's proof line (source instance, verified at / boot time)")

    sandbox = T.Bool(False, read_only=True, help="Whether the client talks to the built-in emulator")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._filtered: tuple[pd.DataFrame, InstanceFilters, pd.DataFrame] | None = None
        self.inventory_at_submit: Inventory | None = None  # what the checks are judged against while a create runs
        self.idle_for = 0.0  # seconds since someone used the studio, as the image poll counts them

    @T.observe("inventory")
    def _derive_instances(self, change: T.Bunch) -> None:
        inventory: Inventory | None = change["new"]
        self.set_trait("instances", pd.DataFrame() if inventory is None else inventory.instances)

    # -- derived state -----------------------------------------------------------------------
    @property
    def busy(self) -> frozenset[str]:
        """The kinds of call in flight (names from :data:`BUSY_FLAGS`)."""
        return frozenset(flag for flag in BUSY_FLAGS if getattr(self, flag))

    @property
    def selected_instance(self) -> Instance | None:
        """The chosen instance, as listed (with its current power state)."""
        if self.selected_id is None or self.inventory is None:
            return None
        return self.inventory.instance(self.selected_id)

    def quota_for(self, zone_id: str) -> ImageQuota | None:
        return None if self.inventory is None else self.inventory.quota_for(zone_id)

    @property
    def preflight(self) -> Preflight:
        """Every check for the current choices, from what is loaded (no call per keystroke)."""
        instance = self.selected_instance
        quota = names = None
        # while a create runs, its own image (its name, its quota slot, the IMAGING instance) must not
        # turn the checks red: they are judged against the account as it was when it was submitted
        inventory = self.inventory_at_submit if self.creating and self.inventory_at_submit else self.inventory
        if instance is not None and inventory is not None:
            instance = inventory.instance(instance.instance_id) or instance
            quota = inventory.quota_for(instance.zone_id)
            names = inventory.image_names_in(instance.zone_id)
        return evaluate_preflight(
            image_name=self.image_name,
            description=self.description,
            instance=instance,
            instance_id=self.selected_id,
            quota=quota,
            zone_image_names=names or (),
        )

    @property
    def only_power_blocks(self) -> bool:
        """The chosen instance is RUNNING and every other check holds: stopping it is what makes the image possible."""
        failures = self.preflight.failures
        return len(failures) == 1 and failures[0].key == "power_state" and failures[0].fix == FIX_STOP_INSTANCE

    @property
    def can_cycle(self) -> bool:
        """Whether "Stop, create the image and start it again" may be offered (never where another check blocks)."""
        return self.only_power_blocks and not (self.creating or self.stopping or self.starting)

    @property
    def can_start(self) -> bool:
        """Whether "Start instance" may be offered: the chosen instance is STOPPED and nothing is in flight."""
        instance = self.selected_instance
        return instance is not None and instance.instance_status == STOPPED and not (
            self.creating or self.stopping or self.starting)

    @property
    def can_submit(self) -> bool:
        """Only when every check holds and no create or stop is in flight (no double submit)."""
        return self.preflight.ok and not (self.creating or self.stopping)

    @property
    def can_send_again(self) -> bool:
        """Only after an unknown outcome, once no request of it can still land (then "none is mine" is safe).

        Read from ``send_again_ready`` (set when the settle window ends): no ledger query while the form renders."""
        return self.unknown is not None and self.send_again_ready and not (self.creating or self.stopping)

    def label(self, instance_id: str) -> str:
        """An instance as the operator knows it: its name (its id when it has none or is not listed)."""
        instance = self.inventory.instance(instance_id) if self.inventory is not None else None
        return (instance.instance_name if instance is not None else "") or instance_id

    def filtered_instances(self) -> pd.DataFrame:
        """The instances that pass :attr:`filters` (what the table pages through and the picker offers)."""
        frame, filters = self.instances, self.filters
        cached = self._filtered
        if cached is None or cached[0] is not frame or cached[1] != filters:
            cached = self._filtered = (frame, filters, filters.apply(frame))
        return cached[2]

    def deletable_images(self) -> list[tuple[str, str]]:
        """(label, image id) of the custom images that can be deleted (not while CREATING)."""
        if self.inventory is None:
            return []
        return [
            (f"{image.zone_id} · {image.image_name} · {image.image_id}", image.image_id)
            for image in self.inventory.image_list
            if image.image_status != "CREATING"
        ]

    def image(self, image_id: str | None) -> Image | None:
        """The listed custom image with this id (None: not listed)."""
        if self.inventory is None or image_id is None:
            return None
        return next((image for image in self.inventory.image_list if image.image_id == image_id), None)

    def images_creating(self) -> bool:
        """Whether an image is still CREATING (then the studio reloads the tables until it is not)."""
        return self.inventory is not None and any(i.image_status == "CREATING" for i in self.inventory.image_list)

    def delete_question(self, image_id: str) -> str:
        """What the confirmation asks: the image with its zone and id, that it cannot be undone, the slot it frees."""
        image = self.image(image_id)
        if image is None:
            return f"Delete image {image_id}? This cannot be undone."
        zone = image.zone_id or "its zone"
        quota = self.quota_for(image.zone_id) if image.zone_id else None
        frees = f" Frees 1 of {quota.max_count} image slots in {zone}." if quota is not None and quota.max_count else ""
        return (f"Delete {image.image_name or image.image_id} in {zone} ({image.image_id})? "
                f"This cannot be undone.{frees}")

    def edit_problem(self, image_id: str, name: str, description: str) -> str:
        """Why the rename editor's name or description would be refused ("" = it would not): the create form's
        checks, the name already taken in the image's zone included (judged on what is loaded, no call)."""
        image = self.image(image_id)
        if image is None:
            return "This image is no longer listed (deleted elsewhere?)."
        taken = self.inventory.image_names_in(image.zone_id) if self.inventory is not None and image.zone_id else set()
        return check_edit(name, description, current_name=image.image_name, zone=image.zone_id or "This zone",
                          taken=taken) or ""

    @property
    def cycle_label(self) -> str:
        """The stop-create-start button's words, following the choices."""
        verb = "Force off" if self.force_stop else "Stop"
        return f"{verb}, create the image and start it again" if self.start_after else \
            f"{verb}, create the image and leave it STOPPED"

    def cycle_question(self) -> str:
        """What the confirmation of stop-create-start says: the instance, and what happens to it (plain text)."""
        instance = self.selected_instance
        if instance is None:
            return ""
        name = f"{instance.instance_name or instance.instance_id} ({instance.zone_id})"
        how = "forced off (unsaved data is lost)" if self.force_stop else "shut down gracefully"
        after = "then started again once the image is ready" if self.start_after else "and left STOPPED afterwards"
        return f"{name} will be {how}, imaged, {after}. It is offline from the stop until it is RUNNING again."

    def transitional(self) -> bool:
        """Whether any instance is between states (then the studio polls fast)."""
        return self.inventory is not None and any(
            i.instance_status in TRANSITIONAL_INSTANCE_STATES for i in self.inventory.instance_list
        )

    # -- inputs ------------------------------------------------------------------------------
    def touch(self) -> None:
        """Someone used the studio (the image poll keeps its quick pace)."""
        self.idle_for = 0.0

    def select(self, instance_id: str | None) -> None:
        """Choose the instance to image (a pending confirmation is dropped; the last create's progress and the
        last notice belong to the instance they were about, so they go unless a create still runs)."""
        self.touch()
        if instance_id == self.selected_id:
            return
        with self.hold_trait_notifications():
            self.selected_id = instance_id
            self.confirming_stop = self.confirming_cycle = False
            if not (self.creating or self.stopping or self.starting):
                self.progress, self.notice = None, ""

    def set_name(self, name: str) -> None:
        self.image_name = name

    def set_description(self, description: str) -> None:
        self.description = description

    def set_filters(self, **changes: str) -> None:
        """Change some of the filters (``zone=``, ``state=``, ``name=``); unknown names are refused."""
        unknown = set(changes) - {f.name for f in fields(InstanceFilters)}
        if unknown:
            raise TypeError(f"unknown filter(s): {', '.join(sorted(unknown))}")
        with self.hold_trait_notifications():
            self.filters = replace(self.filters, **changes)
            matches = self.filtered_instances()
            if self.filters != InstanceFilters() and len(matches) == 1:  # one match: that is the one meant
                self.select(str(matches["instance_id"].iloc[0]))

    def report(self, error: BaseException | None, doing: str | None = None) -> Explanation | None:
        """Show an error in the form (``None`` clears it); returns what is shown, to clear it by identity later."""
        self.error = None if error is None else explain(error, doing)
        return self.error

    def request_stop(self) -> None:
        """First click of "Stop instance": ask for confirmation."""
        self.touch()
        self.confirming_stop = True

    def request_cycle(self) -> None:
        """First click of stop-create-start: ask for confirmation (it starts an outage)."""
        self.touch()
        self.confirming_cycle = True

    def cancel_cycle(self) -> None:
        self.confirming_cycle = False

    def cancel_stop(self) -> None:
        self.confirming_stop = False

    def request_delete(self, image_id: str | None) -> None:
        """First click of "Delete image": ask for confirmation."""
        self.touch()
        self.delete_candidate = image_id

    def cancel_delete(self) -> None:
        self.delete_candidate = None

    def start_edit(self, image_id: str) -> None:
        """Open the rename/description editor of one image (closes a pending delete)."""
        self.touch()
        with self.hold_trait_notifications():
            self.delete_candidate = None
            self.editing = image_id

    def cancel_edit(self) -> None:
        self.editing = None


__all__ = ["BUSY_FLAGS", "InstanceFilters", "StudioState"]
