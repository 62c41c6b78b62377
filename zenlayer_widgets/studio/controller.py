"""The image studio's calls: load the account, keep power states current, stop, delete, create.

:class:`StudioController` is a :class:`~zenlayer_widgets.studio.state.StudioState` (typed traits
views observe) plus the calls that change it. Every call runs as a task on one event loop, every
failure lands in the ``error`` trait (never only in a log), and :class:`Freshness` keeps an
older answer from overwriting a newer one. Tests drive these methods directly, without widgets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import traitlets as T

from ..core import arguments
from ..core.changes import delete_image_async
from ..core.create import create_image_async, stop_instance_async
from ..core.image_actions import check_edit, modify_image_async
from ..core.intents import settle_intent_async
from ..core.inventory import load_inventory_async
from ..core.ledger import account_of, ledger_for
from ..core.progress import ImageProgress
from ..core.reconcile import CreateOutcomeUnknown, settled
from ..core.restart import RestartFailed, restart_async
from .activity import Activity
from .explain import Explanation, explain
from .rotation import Rotation
from .state import StudioState
from .tasks import Freshness, TaskRunner, current_loop

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient


def explain_text(error: BaseException, doing: str) -> str:
    """One line for an error next to a row (the same words as the error box)."""
    return explain(error, doing).text()


class StudioController(StudioState):
    """The studio's state and the calls that change it; views are thin renderings of the traits."""

    def __init__(
        self,
        client: AsyncZenlayerClient,
        *,
        poll_interval: float = 1.0,
        auto_refresh_seconds: float = 10.0,
        wait_timeout: float = 1800.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        super().__init__()
        self.client = client
        self.poll_interval = arguments.poll_interval(poll_interval)  # refused here, not at the first create
        arguments.seconds(wait_timeout, "wait_timeout")
        self.auto_refresh_seconds = auto_refresh_seconds
        self.wait_timeout = wait_timeout
        self._sleep = sleep
        self._unknown_description: str | None = None  # what the unknown create was sent with
        self._freshness = Freshness()
        self._auto_task: Any = None
        self._load_error: Explanation | None = None  # shown by a failed load: the next good load clears it
        self._status_error: Explanation | None = None  # likewise for the power-state refresh
        self.tasks = TaskRunner(current_loop(), self._task_failed)
        self.set_trait("sandbox", bool(getattr(client, "sandbox", False)))
        self.activity = Activity(lambda: self.client)  # the account's actions, from the ledger
        self.rotation = Rotation(lambda: self.client, self.tasks, after_apply=self._rotation_applied, poll_interval=poll_interval)
        self.observe(lambda change: self.rotation.follow(change["new"]), "selected_id")
        self.observe(self._offer_instances, "inventory")

    def _task_failed(self, error: BaseException) -> None:
        self.report(error)

    def _offer_instances(self, change: T.Bunch) -> None:
        """The rotation panel's chooser offers the loaded instances (an unchanged list notifies no one)."""
        self.rotation.set_choices(change["new"].instance_list if change["new"] is not None else ())

    async def _rotation_applied(self, summary: str) -> None:
        """A rotation ran: reload the inventory (its new and deleted images, the quota) and the activity."""
        await self.refresh()
        self.activity.finished(summary)

    def _clear(self, shown: Explanation | None) -> None:
        """Clear the error if it is still the one ``shown`` (a newer error stays)."""
        if shown is not None and self.error is shown:
            self.error = None

    # -- loading -----------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload instances, images and quota; an answer older than the one shown is dropped."""
        ticket = self._freshness.ticket()
        self.refreshing = True
        try:
            inventory = await load_inventory_async(self.client, previous=self.inventory)  # one round trip once loaded
        except Exception as error:  # noqa: BLE001 - shown in the form
            self._load_error = self.report(error, "Loading the inventory")
            return
        finally:
            self.refreshing = False
        if not self._freshness.accept(ticket):
            return
        with self.hold_trait_notifications():
            self.inventory = inventory
            self.loaded_at = time.time()
            if self.selected_id is None and inventory.instance_list:
                self.selected_id = inventory.instance_list[0].instance_id
            self._clear(self._load_error)
            self._clear(self._status_error)
        self.activity.reload()
        if not self.creating:  # a restart owed by a create that ended without it (crash, kernel restart)
            self.activity.warn_owed()

    def switch_client(self, client: AsyncZenlayerClient, label: str) -> None:
        """Use another account: what is shown is dropped, said so, and loaded again from ``client``.

        Answers still on their way from the old client are dropped (they are older than the
        reload); it is closed once they have had time to land (its timeout).
        """
        old, self.client = self.client, client
        self.rotation.reset()
        self.set_trait("sandbox", bool(getattr(client, "sandbox", False)))
        self._freshness.accept(self._freshness.ticket())  # anything in flight from the old account is now stale
        with self.hold_trait_notifications():
            self.inventory, self.selected_id = None, None
            self.progress, self.error, self.confirming_stop, self.delete_candidate = None, None, False, None
            self.editing, self.image_note = None, ()
            self.notice = f"Switched to {label}: reloading instances, images and quota."
        self.tasks.spawn(self._close_later(old))
        self.tasks.spawn(self.refresh())

    async def _close_later(self, client: AsyncZenlayerClient) -> None:
        await self._sleep(getattr(client, "timeout", 30.0))
        await client.aclose()

    async def refresh_statuses(self) -> None:
        """Update only the power states (one cheap call per 1,000 instances)."""
        if self.inventory is None or not self.inventory.instance_list:
            return
        ticket = self._freshness.ticket()
        statuses = await self.client.list_instance_statuses()
        if not self._freshness.accept(ticket):
            return
        self._apply_statuses({s.instance_id: s.instance_status for s in statuses})
        self._clear(self._status_error)

    def _apply_statuses(self, statuses: Mapping[str, str]) -> bool:
        """Put these power states into the snapshot; True when one changed."""
        if self.inventory is None:
            return False
        updated = self.inventory.with_statuses(statuses)
        if updated is self.inventory:
            return False
        self.inventory = updated
        return True

    async def auto_refresh(self, interval: float | None = None) -> None:
        """Keep power states current: every ``interval`` seconds, every poll interval while something moves."""
        interval = interval or self.auto_refresh_seconds
        while True:
            creating = self.images_creating() and not self.creating  # a create of ours reloads by itself
            await self._sleep(self.poll_interval if self.transitional() or creating else interval)
            try:
                if creating:
                    await self.refresh()  # the image tables and quota follow CREATING -> AVAILABLE
                else:
                    await self.refresh_statuses()
            except Exception as error:  # noqa: BLE001
                self._status_error = self.report(error, "Refreshing power states")

    def set_auto_refresh(self, on: bool) -> None:
        """Start or stop the auto-refresh loop."""
        if on and self._auto_task is None:
            self._auto_task = self.tasks.spawn(self.auto_refresh())
        elif not on and self._auto_task is not None:
            self._auto_task.cancel()
            self._auto_task = None

    # -- stopping ----------------------------------------------------------------------------
    async def confirm_stop(self) -> None:
        """Stop the chosen instance and follow STOPPING until STOPPED."""
        instance = self.selected_instance
        self.confirming_stop = False
        if instance is None or self.stopping:
            return
        label = instance.instance_name or instance.instance_id
        with self.hold_trait_notifications():
            self.stopping = True
            self.notice = f"Stopping {label}…"
        try:
            await stop_instance_async(
                self.client,
                instance.instance_id,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
                sleep=self._sleep,
                on_status=lambda status: self._apply_status(instance.instance_id, status),
                force=self.force_stop,
            )
            self.notice = f"{label} is STOPPED."
            self.activity.reload()
            self.report(None)
        except Exception as error:  # noqa: BLE001
            self.notice = ""
            self.report(error, f"Stopping {label}")
        finally:
            self.stopping = False

    def _apply_status(self, instance_id: str, status: str) -> None:
        if self._apply_statuses({instance_id: status}):
            self._freshness.accept(self._freshness.ticket())  # newer than any fetch still in flight

    # -- starting ---------------------------------------------------------------------------
    async def start_selected(self) -> None:
        """Start the chosen STOPPED instance and follow it until RUNNING (recorded; closes an owed restart)."""
        instance = self.selected_instance
        if instance is None or not self.can_start:
            return
        label = instance.instance_name or instance.instance_id
        with self.hold_trait_notifications():
            self.starting = True
            self.notice = f"Starting {label}…"
        try:
            await restart_async(self.client, instance.instance_id, zone_id=instance.zone_id, timeout=self.wait_timeout,
                                poll_interval=self.poll_interval, sleep=self._sleep)
            self._apply_status(instance.instance_id, "RUNNING")
            self.notice = f"{label} is RUNNING."
            self.activity.finished(f"{label} was started and is RUNNING.")
            self.report(None)
        except Exception as error:  # noqa: BLE001
            self.notice = ""
            self.report(error, f"Starting {label}")
        finally:
            self.starting = False

    async def submit_cycle(self) -> ImageProgress | None:
        """Stop the chosen RUNNING instance (gracefully unless ``force_stop``), create the image, and start it
        again when ``start_after``: only offered where the power state is the one thing in the way."""
        if not self.can_cycle:
            return None
        instance = self.selected_instance
        assert instance is not None
        return await self._create(instance.instance_id, instance.zone_id, self.image_name, self.description or None,
                                  cycle=True)

    # -- image actions (from the image's row) -------------------------------------------------
    def _image_facts(self, image_id: str) -> dict[str, str | None]:
        """The zone and name of a loaded image (what the ledger records beside its id)."""
        images = self.inventory.image_list if self.inventory is not None else ()
        image = next((i for i in images if i.image_id == image_id), None)
        return {} if image is None else {"zone_id": image.zone_id, "image_name": image.image_name}

    async def confirm_delete(self, image_id: str | None = None) -> None:
        """DeleteImages for the image awaiting confirmation, then reload (its quota slot is free again)."""
        image_id = image_id or self.delete_candidate
        self.delete_candidate = None
        if image_id is None or self.deleting:
            return
        image = self.image(image_id)
        label = image.image_name if image is not None and image.image_name else image_id
        self.deleting = True
        try:
            facts = self._image_facts(image_id)
            await delete_image_async(self.client, image_id, zone_id=facts.get("zone_id"), image_name=facts.get("image_name"))
            self.notice = f"Image {label} ({image_id}) deleted."
            self.image_note = (image_id, "ok", f"{label} deleted.")
            self.report(None)
        except Exception as error:  # noqa: BLE001
            shown = self.report(error, f"Deleting image {label}")
            self.image_note = (image_id, "error", shown.text() if shown else str(error))
        finally:
            self.deleting = False
        await self.refresh()

    async def save_edit(self, image_id: str, name: str, description: str) -> bool:
        """ModifyImagesAttributes with what changed (the create form's rules first), then reload; True when saved."""
        image = self.image(image_id)
        if image is None or self.renaming:
            return False
        taken = self.inventory.image_names_in(image.zone_id) if self.inventory is not None and image.zone_id else set()
        problem = check_edit(name, description, current_name=image.image_name, zone=image.zone_id or "This zone", taken=taken)
        if problem:
            self.image_note = (image_id, "error", f"Not saved: {problem}")
            return False
        new_name = name if name != image.image_name else None
        new_description = description if description != (image.image_description or "") else None
        if new_name is None and new_description is None:
            with self.hold_trait_notifications():
                self.editing = None
                self.image_note = (image_id, "ok", "Nothing changed.")
            return False
        self.renaming = True
        try:
            await modify_image_async(self.client, image_id, name=new_name, description=new_description,
                                     zone_id=image.zone_id, old_name=image.image_name)
            what = f"renamed to {name}" if new_name is not None else "description saved"
            with self.hold_trait_notifications():
                self.editing = None
                self.image_note = (image_id, "ok", f"{image.image_name}: {what}.")
            return True
        except Exception as error:  # noqa: BLE001
            shown = explain_text(error, f"Renaming image {image.image_name}")
            self.image_note = (image_id, "error", shown)
            return False
        finally:
            self.renaming = False
            await self.refresh()

    # -- creating ----------------------------------------------------------------------------
    async def submit(self) -> ImageProgress | None:
        """CreateImage for the current choices (server-side preflight first), then follow it."""
        if not self.can_submit:
            return None
        instance = self.selected_instance
        assert instance is not None
        name, description = self.image_name, self.description
        return await self._create(instance.instance_id, instance.zone_id, name, description or None)
    @property
    def can_send_again(self) -> bool:
        """Only after an unknown outcome, once no request of it can still land (then "none is mine" is safe)."""
        if self.unknown is None or self.creating or self.stopping:
            return False
        entry = ledger_for(self.client).open_intent(account_of(self.client), self.unknown.instance_id or "",
                                                    self.unknown.image_name)
        return entry is not None and settled(entry)

    async def check_again(self) -> ImageProgress | None:
        """After :class:`CreateOutcomeUnknown`: look at the evidence again (never sends while it is unsure)."""
        unknown = self.unknown
        if unknown is None or self.creating:
            return None
        return await self._create(unknown.instance_id or "", unknown.zone_id, unknown.image_name, self._unknown_description)

    async def send_again(self) -> ImageProgress | None:
        """After :class:`CreateOutcomeUnknown`, once sure: none of the candidates is this create's; close it, create anew."""
        unknown = self.unknown
        if unknown is None or not self.can_send_again:
            return None
        try:
            await settle_intent_async(self.client, unknown.instance_id or "", unknown.image_name, None)
        except Exception as error:  # noqa: BLE001 - shown in the form
            self.report(error, "Sending again")
            return None
        return await self._create(unknown.instance_id or "", unknown.zone_id, unknown.image_name, self._unknown_description)

    async def _announce_settled(self, unknown: CreateOutcomeUnknown) -> None:
        """Re-render once the unknown create's settle window is over ("send again" becomes possible)."""
        entry = ledger_for(self.client).open_intent(account_of(self.client), unknown.instance_id or "", unknown.image_name)
        if entry is None or entry.sent_at is None:
            return
        from datetime import datetime, timezone

        ends = datetime.fromisoformat(entry.sent_at).timestamp() + (entry.settle_seconds or 0.0)
        await self._sleep(max(ends - datetime.now(timezone.utc).timestamp(), 0.0) + 0.05)
        if self.unknown is unknown:
            self.send_again_ready = True  # the form offers "send again" from now on

    async def _create(self, instance_id: str, zone_id: str, image_name: str, description: str | None, *,
                      cycle: bool = False) -> ImageProgress | None:
        self._inventory_at_submit = self.inventory  # the checks are judged against the account as it was
        with self.hold_trait_notifications():
            self.creating = True
            self.report(None)
            self.progress = ImageProgress("submitting", instance_id, zone_id, image_name)
            self.notice = ""
            self.unknown, self.send_again_ready = None, False
        started = time.monotonic()
        submitted = False

        def on_progress(progress: ImageProgress) -> None:
            nonlocal submitted
            self.progress = replace(progress, elapsed=time.monotonic() - started)
            if progress.image_id and not submitted:
                submitted = True
                self.tasks.spawn(self.refresh())  # the new image and the quota show at once

        try:
            result = await create_image_async(
                self.client,
                instance_id,
                image_name,
                description,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
                sleep=self._sleep,
                on_progress=on_progress,
                stop_if_running=cycle,
                start_after=self.start_after if cycle else None,
                force_stop=self.force_stop,
            )
            self.progress = replace(result, elapsed=time.monotonic() - started)
            self.activity.finished(finished_text(self.progress))
            with self.hold_trait_notifications():  # ready for the next image; the progress line stays
                if self.image_name == image_name:  # a name typed while it ran is the user's next one: kept
                    self.image_name = ""
                if self.description == (description or ""):
                    self.description = ""
            return self.progress
        except Exception as error:  # noqa: BLE001
            if isinstance(error, CreateOutcomeUnknown):  # the form offers "check again" (and later "send again")
                self.unknown, self._unknown_description = error, description
                self.tasks.spawn(self._announce_settled(error))
            self.report(error, "Creating the image")
            if self.progress is not None and not self.progress.image_id:
                self.progress = None  # refused before an image existed: no "submitting… 0 s" left behind
            elif self.progress is not None and self.progress.phase in ("submitting", "reconciling", "stopping"):
                self.progress = replace(self.progress, phase="failed")
            if isinstance(error, RestartFailed):
                self.activity.finished(f"The image is made but the instance was not started again: {error}")
            else:
                self.activity.reload()
            return None
        finally:
            self.creating = False
            self._inventory_at_submit = None
            await self.refresh()

    def close(self) -> None:
        """Stop background work (auto-refresh, pending calls)."""
        self.set_auto_refresh(False)
        self.tasks.cancel_all()


def finished_text(progress: ImageProgress) -> str:
    """What the activity notice says when a create (and a restart) finished."""
    text = f"Image {progress.image_name} ({progress.image_id}) is {progress.status}."
    if progress.stopped_at and progress.started_at:
        text += f" Instance {progress.instance_id} stopped at {progress.stopped_at}, RUNNING again at {progress.started_at}."
    elif progress.stopped_at:
        text += f" Instance {progress.instance_id} stopped at {progress.stopped_at} and left STOPPED."
    return text


__all__ = ["StudioController", "finished_text"]
