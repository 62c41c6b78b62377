"""The image studio: its state and the parts that change it, each owning one job.

:class:`StudioController` is a :class:`~zenlayer_widgets.studio.state.StudioState` (typed traits views observe)
composed of parts that share it: ``loading`` (the load, the power-state auto-refresh, the image poll), ``power``
(Stop/Start), ``creates`` (the create loop, stop-image-start included), ``row_actions`` (rename, delete),
``proof_actions`` (verify, launch a copy, restore), ``rotation`` and ``activity``. Every call runs as a task on one
event loop through :func:`~zenlayer_widgets.studio.outcome.run_action` or :func:`~.outcome.attempt` (busy flag,
then the outcome where it is about; a failure is never only in a log). The parts' calls are reachable here under
the names views, tests and notebooks use (``controller.refresh()``, ``controller.submit()``...).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import traitlets as T

from ..core import arguments
from .activity import Activity
from .create_loop import CreateLoop
from .loading import IDLE_AFTER, IMAGES_EVERY, Loading
from .power import Power
from .proof_actions import ProofActions
from .rotation import Rotation
from .row_actions import RowActions
from .state import StudioState
from .tasks import TaskRunner, current_loop

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient


class StudioController(StudioState):
    """The studio's state and its parts; views are thin renderings of the traits."""

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
        self.poll_interval = arguments.poll_interval(poll_interval)  # refused here, not at the first create
        self.wait_timeout = arguments.seconds(wait_timeout, "wait_timeout")
        self.sleep = sleep
        self.tasks = TaskRunner(current_loop(), self._task_failed)
        self.set_trait("sandbox", bool(getattr(client, "sandbox", False)))
        self.activity = Activity(lambda: self.client, names=self.label)  # the account's actions, from the ledger
        self.rotation = Rotation(lambda: self.client, self.tasks, after_apply=self._rotation_applied, poll_interval=poll_interval)
        self.observe(lambda change: self.rotation.follow(change["new"]), "selected_id")
        self.observe(self._offer_instances, "inventory")

        loading = self.loading = Loading(self, auto_refresh_seconds=auto_refresh_seconds, images_every=images_every,
                                         idle_after=idle_after)
        power = self.power = Power(self)
        creates = self.creates = CreateLoop(self)
        rows = self.row_actions = RowActions(self)
        proofs = self.proof_actions = ProofActions(self)
        # the parts' calls, under the names views, tests and notebooks use
        self.refresh, self.refresh_statuses, self.refresh_images = loading.refresh, loading.refresh_statuses, loading.refresh_images
        self.auto_refresh, self.follow_images = loading.auto_refresh, loading.follow_images
        self.set_auto_refresh, self.set_image_poll = loading.set_auto_refresh, loading.set_image_poll
        self.confirm_stop, self.start_selected = power.confirm_stop, power.start_selected
        self.submit, self.submit_cycle = creates.submit, creates.submit_cycle
        self.check_again, self.send_again = creates.check_again, creates.send_again
        self.recheck_image, self.confirm_delete, self.save_edit = rows.recheck_image, rows.confirm_delete, rows.save_edit
        self.load_proofs, self.source_of, self.zone_instances = proofs.load_proofs, proofs.source_of, proofs.zone_instances
        self.launch_name_ok, self.row_blocked = proofs.launch_name_ok, proofs.row_blocked
        self.open_row_action, self.cancel_row_action, self.price_launch = proofs.open_row_action, proofs.cancel_row_action, proofs.price_launch
        self.verify_row, self.launch_row, self.restore_row = proofs.verify_row, proofs.launch_row, proofs.restore_row

    def _task_failed(self, error: BaseException) -> None:
        self.report(error)  # a failed background task shows in the form

    def _offer_instances(self, change: T.Bunch) -> None:
        """The rotation panel's chooser offers the loaded instances (an unchanged list notifies no one)."""
        self.rotation.set_choices(change["new"].instance_list if change["new"] is not None else ())

    async def _rotation_applied(self, summary: str) -> None:
        """A rotation ran: reload the inventory (its new and deleted images, the quota) and the activity."""
        await self.refresh()
        self.activity.finished(summary)

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
        self.loading.drop_in_flight()  # anything in flight from the old account is now stale
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
        await self.sleep(getattr(client, "timeout", 30.0))
        await client.aclose()

    def close(self) -> None:
        """Stop background work (auto-refresh, the image poll, pending calls); close the client only if the studio
        made it (one the notebook holds stays open, with whatever runs on it)."""
        self.set_auto_refresh(False)
        self.set_image_poll(False)
        self.tasks.cancel_all()
        if self.owns_client:
            self.owns_client = False
            self.tasks.spawn(self.client.aclose())


__all__ = ["StudioController"]
