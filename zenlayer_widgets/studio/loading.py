"""The studio's loading and refreshing: the full load, the power-state auto-refresh, the idle-aware image poll.

A part of :class:`~zenlayer_widgets.studio.controller.StudioController` (``controller.loading``): it writes the
loaded account into the shared state, keeps an older answer from overwriting a newer one (:class:`Freshness`),
and puts a failed load or refresh in the error box, cleared by the next good one.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine, Mapping
from typing import TYPE_CHECKING, Any

from ..core.inventory import load_inventory_async, refresh_images_async
from .explain import Explanation
from .outcome import attempt
from .tasks import Freshness

if TYPE_CHECKING:
    from .controller import StudioController

#: The image tables' poll (DescribeImages + DescribeImageQuota, no instance call): every this many seconds while
#: someone uses the studio, IDLE_EVERY once nobody has for IDLE_AFTER seconds; stopped by close().
IMAGES_EVERY = 10.0
IDLE_EVERY = 60.0
IDLE_AFTER = 600.0


class Loading:
    """Load the account, keep power states and the image tables current; stop both loops on close."""

    def __init__(self, studio: StudioController, *, auto_refresh_seconds: float, images_every: float, idle_after: float) -> None:
        self.studio = studio
        self.auto_refresh_seconds = auto_refresh_seconds
        self.images_every = images_every
        self.idle_after = idle_after
        self.freshness = Freshness()
        self.auto_task: Any = None
        self.image_task: Any = None
        self._load_error: Explanation | None = None  # shown by a failed load: the next good load clears it
        self._status_error: Explanation | None = None  # likewise for the power-state and image refreshes

    def _clear(self, shown: Explanation | None) -> None:
        """Clear the error if it is still the one ``shown`` (a newer error stays)."""
        if shown is not None and self.studio.error is shown:
            self.studio.error = None

    def _load_failed(self, error: BaseException) -> None:
        self._load_error = self.studio.report(error, "Loading the inventory")

    async def refresh(self) -> None:
        """Reload instances, images and quota; an answer older than the one shown is dropped."""
        studio = self.studio
        ticket = self.freshness.ticket()
        loaded, inventory = await attempt(studio, "refreshing", lambda: load_inventory_async(studio.client, previous=studio.inventory),
                                          failed=self._load_failed)  # one round trip once loaded
        if not loaded or inventory is None or not self.freshness.accept(ticket):
            return
        with studio.hold_trait_notifications():
            studio.inventory = inventory
            studio.loaded_at = studio.images_at = time.time()
            if studio.selected_id is None and inventory.instance_list:
                studio.selected_id = inventory.instance_list[0].instance_id
            self._clear(self._load_error)
            self._clear(self._status_error)
        studio.proof_actions.load_proofs()
        studio.activity.reload()
        if not studio.creating:  # a restart owed by a create that ended without it (crash, kernel restart)
            studio.activity.warn_owed()

    def drop_in_flight(self) -> None:
        """Whatever is still on its way (from an old account, or older than a status just seen) is now stale."""
        self.freshness.accept(self.freshness.ticket())

    async def refresh_statuses(self) -> None:
        """Update only the power states (one cheap call per 1,000 instances)."""
        studio = self.studio
        if studio.inventory is None or not studio.inventory.instance_list:
            return
        ticket = self.freshness.ticket()
        statuses = await studio.client.list_instance_statuses()
        if not self.freshness.accept(ticket):
            return
        self.apply_statuses({s.instance_id: s.instance_status for s in statuses})
        self._clear(self._status_error)

    def apply_statuses(self, statuses: Mapping[str, str]) -> bool:
        """Put these power states into the snapshot; True when one changed."""
        studio = self.studio
        if studio.inventory is None:
            return False
        updated = studio.inventory.with_statuses(statuses)
        if updated is studio.inventory:
            return False
        studio.inventory = updated
        return True

    def apply_status(self, instance_id: str, status: str) -> None:
        """A power state seen by one of the studio's own calls (newer than any fetch still in flight)."""
        if self.apply_statuses({instance_id: status}):
            self.drop_in_flight()

    async def auto_refresh(self, interval: float | None = None) -> None:
        """Keep power states current: every ``interval`` seconds, every poll interval while something moves."""
        studio = self.studio
        interval = interval or self.auto_refresh_seconds
        while True:
            creating = studio.images_creating() and not studio.creating  # a create of ours reloads by itself
            await studio.sleep(studio.poll_interval if studio.transitional() or creating else interval)
            try:
                if creating:
                    await self.refresh()  # the image tables and quota follow CREATING -> AVAILABLE
                else:
                    await self.refresh_statuses()
            except Exception as error:  # noqa: BLE001
                self._status_error = studio.report(error, "Refreshing power states")

    async def refresh_images(self) -> bool:
        """List every zone's images and quota again (no instance call); True when something changed."""
        studio = self.studio
        if studio.inventory is None or studio.refreshing or studio.creating:
            return False
        ticket = self.freshness.ticket()
        inventory = await refresh_images_async(studio.client, studio.inventory)
        studio.images_at = time.time()
        if inventory is studio.inventory or not self.freshness.accept(ticket):
            return False
        studio.inventory = inventory
        studio.proof_actions.load_proofs()
        return True

    async def follow_images(self) -> None:
        """Keep the image tables current while the studio is open: images made, renamed or deleted elsewhere (cron,
        another notebook, a colleague) show within ``images_every`` seconds; IDLE_EVERY once idle for ``idle_after``."""
        studio = self.studio
        while True:
            pause = self.images_every if studio.idle_for < self.idle_after else max(self.images_every, IDLE_EVERY)
            studio.idle_for += pause  # counted before the pause: a use of the studio during it resets it
            await studio.sleep(pause)
            try:
                await self.refresh_images()
            except Exception as error:  # noqa: BLE001 - shown in the form; the next round tries again
                self._status_error = studio.report(error, "Refreshing the image lists")

    def set_image_poll(self, on: bool) -> None:
        """Start or stop :meth:`follow_images`."""
        self.image_task = self._toggle(on, self.image_task, self.follow_images)

    def set_auto_refresh(self, on: bool) -> None:
        """Start or stop the auto-refresh loop."""
        self.auto_task = self._toggle(on, self.auto_task, self.auto_refresh)

    def _toggle(self, on: bool, running: Any, loop: Callable[[], Coroutine[Any, Any, None]]) -> Any:
        """Start ``loop`` as a task (none running) or cancel the one running; returns the task running now."""
        if on and running is None:
            return self.studio.tasks.spawn(loop())
        if not on and running is not None:
            running.cancel()
            return None
        return running


__all__ = ["IDLE_AFTER", "IDLE_EVERY", "IMAGES_EVERY", "Loading"]
