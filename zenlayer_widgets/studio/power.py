"""The studio's Stop instance and Start instance buttons (confirmed first, followed until the state is reached).

A part of :class:`~zenlayer_widgets.studio.controller.StudioController` (``controller.power``): each call runs
through :func:`~zenlayer_widgets.studio.outcome.run_action`, and every power state it sees shows in the table at once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..core.create import stop_instance_async
from ..core.restart import restart_async
from .outcome import run_action

if TYPE_CHECKING:
    from .controller import StudioController


class Power:
    """Stop the chosen instance (after its confirmation), start a STOPPED one."""

    def __init__(self, studio: StudioController) -> None:
        self.studio = studio

    async def confirm_stop(self) -> None:
        """Stop the chosen instance and follow STOPPING until STOPPED."""
        studio = self.studio
        instance = studio.selected_instance
        studio.confirming_stop = False
        if instance is None or studio.stopping:
            return
        label = instance.instance_name or instance.instance_id

        async def stop() -> str:
            await stop_instance_async(studio.client, instance.instance_id, timeout=studio.wait_timeout,
                                      poll_interval=studio.poll_interval, sleep=studio.sleep, force=studio.force_stop,
                                      on_status=lambda status: studio.loading.apply_status(instance.instance_id, status))
            studio.activity.reload()
            return f"{label} is STOPPED."

        await run_action(studio, "stopping", f"Stopping {label}", stop, working=f"Stopping {label}…")

    async def start_selected(self) -> None:
        """Start the chosen STOPPED instance and follow it until RUNNING (recorded; closes an owed restart)."""
        studio = self.studio
        instance = studio.selected_instance
        if instance is None or not studio.can_start:
            return
        label = instance.instance_name or instance.instance_id

        async def start() -> str:
            await restart_async(studio.client, instance.instance_id, zone_id=instance.zone_id, timeout=studio.wait_timeout,
                                poll_interval=studio.poll_interval, sleep=studio.sleep,
                                on_status=lambda status: studio.loading.apply_status(instance.instance_id, status))
            studio.loading.apply_status(instance.instance_id, "RUNNING")
            studio.activity.finished(f"{label} was started and is RUNNING.")
            return f"{label} is RUNNING."

        await run_action(studio, "starting", f"Starting {label}", start, working=f"Starting {label}…")


__all__ = ["Power"]
