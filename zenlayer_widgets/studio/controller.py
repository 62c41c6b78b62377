"""The image studio's state and calls, in plain Python (no widgets): what the views show and do.

Views subscribe with :meth:`StudioController.subscribe` and re-render the part named by the
topic; tests drive the same methods directly. Every call runs as a task on one event loop, every
failure lands in :attr:`StudioController.error` (never only in a log), and :class:`Freshness`
keeps an older answer from overwriting a newer one.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pandas as pd

from ..api.models import ImageQuota, Instance
from .explain import Explanation, explain
from ..core.inventory import Inventory, load_inventory_async
from ..core.create import ImageProgress, create_image_async, stop_instance_async
from ..core.preflight import Preflight, evaluate_preflight
from ..rules import AVAILABLE, TRANSITIONAL_INSTANCE_STATES, UNAVAILABLE
from .tasks import Freshness, TaskRunner, current_loop

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Listener = Callable[[str], None]

#: Topics a view can listen to ("reset": the name and description were cleared after a create).
TOPICS = ("instances", "inventory", "selection", "form", "busy", "progress", "error", "stop", "reset", "filters", "delete")


class StudioController:
    """Holds the studio's state and performs its calls; views are thin renderings of it."""

    def __init__(
        self,
        client: AsyncZenlayerClient,
        *,
        poll_interval: float = 1.0,
        auto_refresh_seconds: float = 10.0,
        wait_timeout: float = 1800.0,
        sleep: Callable[[float], Any] = asyncio.sleep,
    ) -> None:
        self.client = client
        self.poll_interval = poll_interval
        self.auto_refresh_seconds = auto_refresh_seconds
        self.wait_timeout = wait_timeout
        self._sleep = sleep
        self.inventory: Inventory | None = None
        self.instances: pd.DataFrame = pd.DataFrame()
        self.selected_id: str | None = None
        self.image_name = ""
        self.description = ""
        self.busy: frozenset[str] = frozenset()
        self.progress: ImageProgress | None = None
        self.error: Explanation | None = None
        self.notice = ""
        self.confirming_stop = False
        self.delete_candidate: str | None = None  # image id awaiting confirmation
        self.loaded_at: float | None = None
        self._listeners: list[Listener] = []
        self._freshness = Freshness()
        self._auto_task: Any = None
        self.tasks = TaskRunner(current_loop(), self._task_failed)

    # -- observing ---------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> None:
        """Call ``listener(topic)`` whenever the part of the state named by ``topic`` changes."""
        self._listeners.append(listener)

    def _emit(self, *topics: str) -> None:
        for topic in topics:
            for listener in list(self._listeners):
                listener(topic)

    def filters_changed(self) -> None:
        """A view changed the instance filters: parts that follow them (the picker) re-render."""
        self._emit("filters")

    def _task_failed(self, error: BaseException) -> None:
        self.report(error)

    def report(self, error: BaseException | None, doing: str | None = None) -> None:
        """Show an error in the form (``None`` clears it)."""
        self.error = None if error is None else explain(error, doing)
        self._emit("error")

    def _set_busy(self, what: str, on: bool) -> None:
        self.busy = self.busy | {what} if on else self.busy - {what}
        self._emit("busy")

    # -- derived state -----------------------------------------------------------------------
    @property
    def sandbox(self) -> bool:
        return bool(getattr(self.client, "sandbox", False))

    @property
    def selected_instance(self) -> Instance | None:
        """The chosen instance as the checks need it (from the latest list)."""
        if self.selected_id is None or self.instances.empty:
            return None
        rows = self.instances[self.instances["instance_id"] == self.selected_id]
        if rows.empty:
            return None
        row = rows.iloc[0]
        return Instance(
            instance_id=row["instance_id"],
            instance_name=row["name"],
            zone_id=row["zone"],
            instance_status=row["power_state"],
            system_disk_size=None if pd.isna(row["system_disk_gb"]) else int(row["system_disk_gb"]),
        )

    def quota_for(self, zone_id: str) -> ImageQuota | None:
        return None if self.inventory is None else self.inventory.quota_for(zone_id)

    @property
    def preflight(self) -> Preflight:
        """Every check for the current choices, from what is loaded (no call per keystroke)."""
        instance = self.selected_instance
        quota = names = None
        if instance is not None and self.inventory is not None:
            quota = self.quota_for(instance.zone_id)
            names = set(self.inventory.images_in(instance.zone_id)["name"])
        return evaluate_preflight(
            image_name=self.image_name,
            description=self.description,
            instance=instance,
            instance_id=self.selected_id,
            quota=quota,
            zone_image_names=names or (),
        )

    @property
    def can_submit(self) -> bool:
        """Only when every check holds and no create or stop is in flight (no double submit)."""
        return self.preflight.ok and not ({"create", "stop"} & self.busy)

    # -- inputs ------------------------------------------------------------------------------
    def select(self, instance_id: str | None) -> None:
        if instance_id == self.selected_id:
            return
        self.selected_id = instance_id
        self.confirming_stop = False
        self._emit("selection", "form", "stop")

    def set_name(self, name: str) -> None:
        if name != self.image_name:
            self.image_name = name
            self._emit("form")

    def set_description(self, description: str) -> None:
        if description != self.description:
            self.description = description
            self._emit("form")

    # -- loading -----------------------------------------------------------------------------
    async def refresh(self) -> None:
        """Reload instances, images and quota; an answer older than the one shown is dropped."""
        ticket = self._freshness.ticket()
        self._set_busy("refresh", True)
        try:
            inventory = await load_inventory_async(self.client, previous=self.inventory)  # one round trip once loaded
        except Exception as error:  # noqa: BLE001 - shown in the form
            self.report(error, "Loading the inventory")
            return
        finally:
            self._set_busy("refresh", False)
        if not self._freshness.accept(ticket):
            return
        self.inventory = inventory
        self.instances = inventory.instances
        self.loaded_at = time.time()
        if self.selected_id is None and not inventory.instances.empty:
            self.selected_id = str(inventory.instances.iloc[0]["instance_id"])
        if self.error is not None and self.error.headline.startswith("Loading"):
            self.error = None
            self._emit("error")
        self._emit("instances", "inventory", "selection", "form")

    async def refresh_statuses(self) -> None:
        """Update only the power states (one cheap call per 1,000 instances)."""
        if self.instances.empty:
            return
        ticket = self._freshness.ticket()
        statuses = await self.client.list_instance_statuses()
        if not self._freshness.accept(ticket):
            return
        mapping = {s.instance_id: s.instance_status for s in statuses}
        current = self.instances["power_state"]
        updated = self.instances["instance_id"].map(mapping).fillna(current)
        if not updated.equals(current):
            self.instances = self.instances.assign(power_state=updated)
            self._emit("instances", "selection", "form")

    def transitional(self) -> bool:
        """Whether any instance is between states (then the studio polls fast)."""
        return bool(not self.instances.empty and self.instances["power_state"].isin(TRANSITIONAL_INSTANCE_STATES).any())

    async def auto_refresh(self, interval: float | None = None) -> None:
        """Keep power states current: every ``interval`` seconds, every poll interval while something moves."""
        interval = interval or self.auto_refresh_seconds
        while True:
            await self._sleep(self.poll_interval if self.transitional() else interval)
            try:
                await self.refresh_statuses()
            except Exception as error:  # noqa: BLE001
                self.report(error, "Refreshing power states")

    def set_auto_refresh(self, on: bool) -> None:
        """Start or stop the auto-refresh loop."""
        if on and self._auto_task is None:
            self._auto_task = self.tasks.spawn(self.auto_refresh())
        elif not on and self._auto_task is not None:
            self._auto_task.cancel()
            self._auto_task = None

    # -- stopping ----------------------------------------------------------------------------
    def request_stop(self) -> None:
        """First click of "Stop instance": ask for confirmation."""
        self.confirming_stop = True
        self._emit("stop")

    def cancel_stop(self) -> None:
        self.confirming_stop = False
        self._emit("stop")

    async def confirm_stop(self) -> None:
        """Stop the chosen instance and follow STOPPING until STOPPED."""
        instance = self.selected_instance
        self.confirming_stop = False
        self._emit("stop")
        if instance is None or "stop" in self.busy:
            return
        self._set_busy("stop", True)
        self.notice = f"Stopping {instance.instance_name or instance.instance_id}…"
        self._emit("progress")
        try:
            await stop_instance_async(
                self.client,
                instance.instance_id,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
                sleep=self._sleep,
                on_status=lambda status: self._apply_status(instance.instance_id, status),
            )
            self.notice = f"{instance.instance_name or instance.instance_id} is STOPPED."
            self.report(None)
        except Exception as error:  # noqa: BLE001
            self.notice = ""
            self.report(error, f"Stopping {instance.instance_name or instance.instance_id}")
        finally:
            self._set_busy("stop", False)
            self._emit("progress", "form")

    def _apply_status(self, instance_id: str, status: str) -> None:
        if not status or self.instances.empty:
            return
        mask = self.instances["instance_id"] == instance_id
        if mask.any() and (self.instances.loc[mask, "power_state"] != status).any():
            frame = self.instances.copy()
            frame.loc[mask, "power_state"] = status
            self.instances = frame
            self._freshness.accept(self._freshness.ticket())  # newer than any fetch still in flight
            self._emit("instances", "selection", "form")

    # -- deleting ---------------------------------------------------------------------------
    def deletable_images(self) -> list[tuple[str, str]]:
        """(label, image id) of the custom images that can be deleted (not while CREATING)."""
        if self.inventory is None:
            return []
        frame = self.inventory.images
        frame = frame[frame["status"] != "CREATING"]
        return [(f"{row.zone} · {row.name} · {row.image_id}", row.image_id) for row in frame.itertuples(index=False)]

    def request_delete(self, image_id: str | None) -> None:
        """First click of "Delete image": ask for confirmation."""
        self.delete_candidate = image_id
        self._emit("delete")

    def cancel_delete(self) -> None:
        self.delete_candidate = None
        self._emit("delete")

    async def confirm_delete(self) -> None:
        """DeleteImages for the image awaiting confirmation, then reload (its quota slot is free again)."""
        image_id, self.delete_candidate = self.delete_candidate, None
        self._emit("delete")
        if image_id is None or "delete" in self.busy:
            return
        self._set_busy("delete", True)
        try:
            await self.client.delete_images([image_id])
            self.notice = f"Image {image_id} deleted."
            self.report(None)
        except Exception as error:  # noqa: BLE001
            self.report(error, f"Deleting image {image_id}")
        finally:
            self._set_busy("delete", False)
            self._emit("progress")
        await self.refresh()

    # -- creating ----------------------------------------------------------------------------
    async def submit(self) -> ImageProgress | None:
        """CreateImage for the current choices (server-side preflight first), then follow it."""
        if not self.can_submit:
            return None
        instance = self.selected_instance
        assert instance is not None
        self._set_busy("create", True)
        self.report(None)
        self.progress = ImageProgress("submitting", instance.instance_id, instance.zone_id, self.image_name)
        self.notice = ""
        self._emit("progress")
        started = time.monotonic()
        submitted = False

        def on_progress(progress: ImageProgress) -> None:
            nonlocal submitted
            self.progress = replace(progress, elapsed=time.monotonic() - started)
            if progress.image_id and not submitted:
                submitted = True
                self.tasks.spawn(self.refresh())  # the new image and the quota show at once
            self._emit("progress")

        try:
            result = await create_image_async(
                self.client,
                instance.instance_id,
                self.image_name,
                self.description or None,
                timeout=self.wait_timeout,
                poll_interval=self.poll_interval,
                sleep=self._sleep,
                on_progress=on_progress,
            )
            self.progress = replace(result, elapsed=time.monotonic() - started)
            self.image_name = self.description = ""  # ready for the next image; the progress line stays
            self._emit("reset", "form")
            return self.progress
        except Exception as error:  # noqa: BLE001
            self.report(error, "Creating the image")
            if self.progress is not None and self.progress.phase in ("submitting", "reconciling"):
                self.progress = replace(self.progress, phase="failed")
            return None
        finally:
            self._set_busy("create", False)
            self._emit("progress")
            await self.refresh()

    @property
    def progress_finished(self) -> bool:
        return self.progress is not None and self.progress.status in (AVAILABLE, UNAVAILABLE)

    def close(self) -> None:
        """Stop background work (auto-refresh, pending calls)."""
        self.set_auto_refresh(False)
        self.tasks.cancel_all()


__all__ = ["StudioController", "TOPICS"]
