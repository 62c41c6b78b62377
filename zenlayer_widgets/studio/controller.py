"""The image studio's calls: load the account, keep power states current, stop, delete, create.

:class:`StudioController` is a :class:`~zenlayer_widgets.studio.state.StudioState` (typed traits
views observe) plus the calls that change it. Every call runs as a task on one event loop, every
failure lands in the ``error`` trait (never only in a log), and :class:`Freshness` keeps an
older answer from overwriting a newer one. Tests drive these methods directly, without widgets.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import TYPE_CHECKING, Any

import traitlets as T

from ..core import arguments
from ..core.changes import delete_image_async
from ..core.create import create_image_async, stop_instance_async
from ..core.image_actions import modify_image_async
from ..core.intents import settle_intent_async
from ..core.inventory import load_inventory_async, refresh_images_async
from ..core.ledger import account_of, ledger_for
from ..core.progress import ImageProgress
from ..core.reconcile import CreateOutcomeUnknown, settled
from ..core.restart import RestartFailed, restart_async
from .activity import Activity
from .clock import clock_text
from .explain import Explanation, explain
from .proof_actions import ProofActions
from .rotation import Rotation
from .tasks import Freshness, TaskRunner, current_loop

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient
    from ..api.models import Image


#: The image tables' poll (DescribeImages + DescribeImageQuota, no instance call): every this many seconds while
#: someone uses the studio, IDLE_EVERY once nobody has for IDLE_AFTER seconds; stopped by close().
IMAGES_EVERY = 10.0
IDLE_EVERY = 60.0
IDLE_AFTER = 600.0


def explain_text(error: BaseException, doing: str) -> str:
    """One line for an error next to a row (the same words as the error box)."""
    return explain(error, doing).text()


class StudioController(ProofActions):
    """The studio's state and the calls that change it; views are thin renderings of the traits."""

    def __init__(
        self,
        client: AsyncZenlayerClient,
        *,
        poll_interval: float = 1.0,
        auto_refresh_seconds: float = 10.0,
        wait_timeout: float = 1800.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
        owns_client: bool = False,
        images_every: float = IMAGES_EVERY,
        idle_after: float = IDLE_AFTER,
    ) -> None:
        super().__init__()
        self.client = client
        self.owns_client = owns_client  # closed by close() and by an account switch only when made for the studio
        self.images_every = images_every
        self.idle_after = idle_after
        self._image_task: Any = None
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
        self.activity = Activity(lambda: self.client, names=self._label)  # the account's actions, from the ledger
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
            self.loaded_at = self.images_at = time.time()
            if self.selected_id is None and inventory.instance_list:
                self.selected_id = inventory.instance_list[0].instance_id
            self._clear(self._load_error)
            self._clear(self._status_error)
        self.load_proofs()
        self.activity.reload()
        if not self.creating:  # a restart owed by a create that ended without it (crash, kernel restart)
            self.activity.warn_owed()

    def switch_client(self, client: AsyncZenlayerClient, label: str, *, owned: bool = True) -> None:
        """Use another account: what is shown is dropped, said so, and loaded again from ``client``.

        Answers still on their way from the old client are dropped (they are older than the
        reload). The old client is closed once they have had time to land (its timeout) only if the
        studio made it: a client the notebook holds (and a create running on it) is left alone.
        """
        old, self.client = self.client, client
        old_owned, self.owns_client = self.owns_client, owned
        self.rotation.reset()
        self.set_trait("sandbox", bool(getattr(client, "sandbox", False)))
        self._freshness.accept(self._freshness.ticket())  # anything in flight from the old account is now stale
        with self.hold_trait_notifications():
            self.inventory, self.selected_id = None, None
            self.progress, self.error, self.confirming_stop, self.delete_candidate = None, None, False, None
            self.editing, self.image_note = None, ()
            self.row_action, self.row_price, self.proofs = (), (), {}
            self.notice = f"Switched to {label}: reloading instances, images and quota."
        if old_owned and old is not client:
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

    async def refresh_images(self) -> bool:
        """List every zone's images and quota again (no instance call); True when something changed."""
        if self.inventory is None or self.refreshing or self.creating:
            return False
        ticket = self._freshness.ticket()
        inventory = await refresh_images_async(self.client, self.inventory)
        self.images_at = time.time()
        if inventory is self.inventory or not self._freshness.accept(ticket):
            return False
        self.inventory = inventory
        self.load_proofs()
        return True

    async def follow_images(self) -> None:
        """Keep the image tables current while the studio is open: images made, renamed or deleted elsewhere (cron,
        another notebook, a colleague) show within ``images_every`` seconds; IDLE_EVERY once idle for ``idle_after``."""
        while True:
            pause = self.images_every if self._idle_for < self.idle_after else max(self.images_every, IDLE_EVERY)
            self._idle_for += pause  # counted before the pause: a use of the studio during it resets it
            await self._sleep(pause)
            try:
                await self.refresh_images()
            except Exception as error:  # noqa: BLE001 - shown in the form; the next round tries again
                self._status_error = self.report(error, "Refreshing the image lists")

    def set_image_poll(self, on: bool) -> None:
        """Start or stop :meth:`follow_images`."""
        if on and self._image_task is None:
            self._image_task = self.tasks.spawn(self.follow_images())
        elif not on and self._image_task is not None:
            self._image_task.cancel()
            self._image_task = None

    def set_auto_refresh(self, on: bool) -> None:
        """Start or stop the auto-refresh loop."""
        if on and self._auto_task is None:
            self._auto_task = self.tasks.spawn(self.auto_refresh())
        elif not on and self._auto_task is not None:
            self._auto_task.cancel()
            self._auto_task = None

    # -- one action: busy, then its outcome where it is about ----------------------------------
    async def _run(self, busy: str, doing: str, work: Callable[[], Awaitable[str]], *, image: Image | None = None,
                   working: str = "") -> bool:
        """Run one user action: ``busy`` (a flag of BUSY_FLAGS) while it runs, the previous action's feedback
        dropped; then its outcome (``work``'s sentence, or the error explained as ``doing``) next to what it is
        about: the image's row (``image``; its zone's table once the image is gone), else the form. True: done."""
        with self.hold_trait_notifications():
            setattr(self, busy, True)
            self.image_note = ()
            if image is None:
                self.notice = working
        try:
            done = await work()
        except Exception as error:  # noqa: BLE001 - shown next to what it is about
            if image is None:
                self.notice = ""
                self.report(error, doing)
            else:
                self.image_note = (image.image_id, "error", explain_text(error, doing), image.zone_id or "")
            return False
        finally:
            setattr(self, busy, False)
        if image is None:
            with self.hold_trait_notifications():
                self.notice = done
                self.report(None)
        else:
            self.image_note = (image.image_id, "ok", done, image.zone_id or "")
        return True

    # -- stopping ----------------------------------------------------------------------------
    async def confirm_stop(self) -> None:
        """Stop the chosen instance and follow STOPPING until STOPPED."""
        instance = self.selected_instance
        self.confirming_stop = False
        if instance is None or self.stopping:
            return
        label = instance.instance_name or instance.instance_id

        async def stop() -> str:
            await stop_instance_async(
                self.client,
                instance.instance_id,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
                sleep=self._sleep,
                on_status=lambda status: self._apply_status(instance.instance_id, status),
                force=self.force_stop,
            )
            self.activity.reload()
            return f"{label} is STOPPED."

        await self._run("stopping", f"Stopping {label}", stop, working=f"Stopping {label}…")

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

        async def start() -> str:
            await restart_async(self.client, instance.instance_id, zone_id=instance.zone_id, timeout=self.wait_timeout,
                                poll_interval=self.poll_interval, sleep=self._sleep,
                                on_status=lambda status: self._apply_status(instance.instance_id, status))
            self._apply_status(instance.instance_id, "RUNNING")
            self.activity.finished(f"{label} was started and is RUNNING.")
            return f"{label} is RUNNING."

        await self._run("starting", f"Starting {label}", start, working=f"Starting {label}…")

    async def submit_cycle(self) -> ImageProgress | None:
        """Stop the chosen RUNNING instance (gracefully unless ``force_stop``), create the image, and start it
        again when ``start_after``: only offered where the power state is the one thing in the way."""
        self.confirming_cycle = False
        if not self.can_cycle:
            return None
        instance = self.selected_instance
        assert instance is not None
        return await self._create(instance.instance_id, instance.zone_id, self.image_name, self.description or None,
                                  cycle=True)

    # -- image actions (from the image's row) -------------------------------------------------
    async def recheck_image(self, image_id: str) -> bool:
        """Whether a listed image still exists, asked when its Edit or Delete is clicked: one DescribeImages by id.

        Gone (deleted elsewhere since the last poll): its editor or delete question is closed, "This image is gone"
        is said next to it (under its zone's table once the tables reload), the image lists are reloaded, and no
        delete or rename is sent. A check that fails counts as "still there": the action's own answer tells.
        """
        image = self.image(image_id)
        if image is None or not image.zone_id:
            return image is not None
        try:
            found = await self.client.describe_images(image.zone_id, image_ids=[image_id])
        except Exception:  # noqa: BLE001 - the delete/rename itself then says what is wrong
            return True
        if any(listed.image_id == image_id for listed in found):
            return True
        name = image.image_name or image_id
        with self.hold_trait_notifications():
            if self.delete_candidate == image_id:
                self.delete_candidate = None
            if self.editing == image_id:
                self.editing = None
            self.image_note = (image_id, "error", f"This image is gone: {name} in {image.zone_id} was deleted "
                               "elsewhere (another notebook, cron or a colleague). Nothing was sent.", image.zone_id)
        await self.refresh_images()
        return False

    async def confirm_delete(self, image_id: str | None = None) -> None:
        """DeleteImages for the image awaiting confirmation, then reload (its quota slot is free again)."""
        image_id = image_id or self.delete_candidate
        self.delete_candidate = None
        image = self.image(image_id)
        if image_id is None or image is None or self.deleting:
            return
        label = f"{image.image_name or image_id} in {image.zone_id}"

        async def delete() -> str:
            await delete_image_async(self.client, image.image_id, zone_id=image.zone_id, image_name=image.image_name)
            return f"{image.image_name or image_id} deleted from {image.zone_id} ({image_id})."

        await self._run("deleting", f"Deleting image {label}", delete, image=image)
        await self.refresh()

    async def save_edit(self, image_id: str, name: str, description: str) -> bool:
        """ModifyImagesAttributes with what changed (the create form's rules first), then reload; True when saved."""
        image = self.image(image_id)
        if image is None or self.renaming:
            return False
        problem = self.edit_problem(image_id, name, description)
        if problem:
            self.image_note = (image_id, "error", f"Not saved: {problem}", image.zone_id or "")
            return False
        new_name = name if name != image.image_name else None
        new_description = description if description != (image.image_description or "") else None
        if new_name is None and new_description is None:
            with self.hold_trait_notifications():
                self.editing = None
                self.image_note = (image_id, "ok", "Nothing changed.", image.zone_id or "")
            return False

        async def modify() -> str:
            await modify_image_async(self.client, image_id, name=new_name, description=new_description,
                                     zone_id=image.zone_id, old_name=image.image_name)
            self.editing = None
            return f"{image.image_name}: {f'renamed to {name}' if new_name is not None else 'description saved'}."

        try:
            return await self._run("renaming", f"Renaming image {image.image_name} in {image.zone_id}", modify, image=image)
        finally:
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
        """Only after an unknown outcome, once no request of it can still land (then "none is mine" is safe).

        Read from ``send_again_ready`` (set when the settle window ends): no ledger query while the form renders."""
        return self.unknown is not None and self.send_again_ready and not (self.creating or self.stopping)

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
        if entry is None:
            return
        if entry.sent_at is None:  # never sent: nothing of it can land
            if self.unknown is unknown:
                self.send_again_ready = settled(entry)
            return
        from datetime import datetime, timezone

        ends = datetime.fromisoformat(entry.sent_at).timestamp() + (entry.settle_seconds or 0.0)
        await self._sleep(max(ends - datetime.now(timezone.utc).timestamp(), 0.0) + 0.05)
        if self.unknown is unknown:
            self.send_again_ready = True  # the form offers "send again" from now on

    async def _create(self, instance_id: str, zone_id: str, image_name: str, description: str | None, *,
                      cycle: bool = False) -> ImageProgress | None:
        self._inventory_at_submit = self.inventory  # the checks are judged against the account as it was
        first = ImageProgress("stopping", instance_id, zone_id, image_name, instance_status="RUNNING") if cycle else \
            ImageProgress("submitting", instance_id, zone_id, image_name)
        with self.hold_trait_notifications():
            self.creating = True
            self.report(None)
            self.progress = first
            self.notice, self.image_note = "", ()
            self.unknown, self.send_again_ready = None, False
        started = time.monotonic()
        submitted = False

        def on_progress(progress: ImageProgress) -> None:
            nonlocal submitted
            if progress.instance_status:  # the loop's power states show in the table as they happen
                self._apply_status(instance_id, progress.instance_status)
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
            self.activity.finished(finished_text(self.progress, self._label(instance_id)))
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
            self.report(error, f"Creating image {image_name} of {self._label(instance_id)}")
            if self.progress is not None and not self.progress.image_id:
                self.progress = None  # refused before an image existed: no "submitting… 0 s" left behind
            elif self.progress is not None and self.progress.phase in ("submitting", "reconciling", "stopping"):
                self.progress = replace(self.progress, phase="failed")
            if isinstance(error, RestartFailed):
                self.activity.finished(f"The image is made but {self._label(instance_id)} was not started again: {error}")
            else:
                self.activity.reload()
            return None
        finally:
            self.creating = False
            self._inventory_at_submit = None
            await self.refresh()

    def _label(self, instance_id: str) -> str:
        """An instance as the operator knows it: its name (its id when it has none or is not listed)."""
        instance = self.inventory.instance(instance_id) if self.inventory is not None else None
        return (instance.instance_name if instance is not None else "") or instance_id

    def close(self) -> None:
        """Stop background work (auto-refresh, the image poll, pending calls); close the client only if the studio
        made it (one the notebook holds stays open, with whatever runs on it)."""
        self.set_auto_refresh(False)
        self.set_image_poll(False)
        self.tasks.cancel_all()
        if self.owns_client:
            self.owns_client = False
            self.tasks.spawn(self.client.aclose())


def finished_text(progress: ImageProgress, instance: str | None = None) -> str:
    """What the activity notice says when a create (and a restart) finished; ``instance``: its name."""
    who = instance or progress.instance_id
    text = f"Image {progress.image_name} ({progress.image_id}) is {progress.status} in {progress.zone_id}."
    if progress.stopped_at and progress.downtime is not None:
        text += (f" {who} was offline {progress.downtime:.1f} s: stop sent {clock_text(progress.stopped_at)}, "
                 f"RUNNING again {clock_text(progress.started_at or '')}.")
    elif progress.stopped_at:
        text += f" {who} was stopped at {clock_text(progress.stopped_at)} and left STOPPED."
    return text


__all__ = ["StudioController", "finished_text"]
