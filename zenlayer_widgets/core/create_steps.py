"""The step kinds of a create operation (:mod:`.create_plan`): stop, make the image, follow it, start again.

Each kind is idempotent to the driver because its own evidence decides what a re-run does: the stop and the
start look at the instance's status first (nothing is sent to one already on its way), and the create-image step
is the intent machinery (:mod:`.submit`, :mod:`.intents`, :mod:`.reconcile`): the intent row, written before
CreateImage is sent, is the step's evidence record, so a re-run takes the intent up and never sends blind.

What the steps share in memory (the progress the caller sees, its callbacks, the rich error of a failed step)
is a :class:`CreateRun` in the driver's extras. A step that must leave the operation unfinished (an outcome
unknown, a wait that timed out, ``wait=False``) raises :class:`Pause`, which the driver does not catch.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from typing import Any

from ..api.errors import APIError, ZenlayerError
from ..rules import AVAILABLE, CREATING, RUNNING, STOPPED, STOPPING
from .create_errors import CreateImageError, ImageCreationFailed, ImageWaitTimeout
from .create_plan import FOLLOW, MAKE, START, STOP
from .image_wait import follow_to_available
from .intents import notify, resume_intent
from .ledger import AVAILABLE_OUTCOME, IntentConflict
from .ledger.records import now_text
from .operations import StepFailed
from .operations.steps.base import StepKind, StepRun, register
from .owed_start import settle
from .power import stop_instance_async
from .preflight import Preflight
from .progress import ImageProgress
from .restart import CANCELLED, RestartFailed, close_restart, start_again
from .submit import make_image, outcome_unknown

ProgressCallback = Callable[[ImageProgress], None]


class Pause(Exception):  # noqa: N818 - not an error: the operation stays unfinished
    """Leave the operation unfinished here (the next run of the same create goes on); the caller raises ``error``
    (an unknown outcome, a wait that timed out) or, when there is none (``wait=False``), returns the progress."""

    def __init__(self, error: BaseException | None = None) -> None:
        self.error = error
        super().__init__(str(error or "paused"))


@dataclass
class CreateRun:
    """One call of ``create_image_async``: its options and what its steps learnt, in memory."""

    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    on_progress: ProgressCallback | None = None
    wait: bool = True
    timeout: float = 1800.0
    poll_interval: float = 2.0
    power_timeout: float = 600.0
    start_after: bool | None = None
    zone_id: str | None = None
    checks: Preflight | None = None  # the preflight this run made to plan (no stop since): not made again
    progress: ImageProgress | None = None
    error: BaseException | None = None  # the first failed step's error, raised once the clean-ups ran
    done: set[str] = field(default_factory=set)  # the kinds this run finished (a ledger failure goes on from here)
    started: float = field(default_factory=time.monotonic)

    def fail(self, error: BaseException) -> StepFailed:
        """Keep ``error`` for the caller; the step fails with its class as the code."""
        self.error = self.error or error
        return StepFailed(type(error).__name__, str(error))

    def show(self, progress: ImageProgress) -> ImageProgress:
        self.progress = progress
        notify(self.on_progress, progress)
        return progress


def memory(run: StepRun) -> CreateRun:
    found = run.extras.get("create")
    return found if isinstance(found, CreateRun) else CreateRun(sleep=run.sleep)


def _power_seen(memo: CreateRun, step: ImageProgress) -> Callable[[str], None]:
    """An ``on_status`` that reports each power state seen while stopping or starting as part of ``step``."""
    def seen(status: str) -> None:
        if status:
            notify(memo.on_progress, replace(step, instance_status=status))
    return seen


def _blank(run: StepRun) -> ImageProgress:
    """The progress as the operation's facts have it (a resumed run: what the earlier run's steps learnt)."""
    made = run.param("image_status") == AVAILABLE
    return ImageProgress("done" if made else "submitting", str(run.operation.instance_id),
                         str(run.param("zone_id") or run.operation.zone_id or ""),
                         str(run.operation.params.get("image_name", "")), image_id=run.param("image_id"),
                         status=AVAILABLE if made else None, intent_id=run.param("intent_id"),
                         stopped_at=run.param("stopped_at"))


@register
class StopForImage(StepKind):
    """Stop the instance (graceful unless ``force``) and wait STOPPED; nothing is sent to one STOPPING or STOPPED."""

    name = STOP
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        memo = memory(run)
        stopping = memo.show(replace(_blank(run), phase="stopping", instance_status=STOPPING, stopped_at=now_text()))
        try:
            await stop_instance_async(run.client, run.need("instance_id"), timeout=memo.power_timeout, sleep=memo.sleep,
                                      force=bool(run.param("force")), ledger=run.ledger,
                                      on_status=_power_seen(memo, stopping))
        except (ZenlayerError, TimeoutError) as error:
            raise memo.fail(error) from None
        memo.done.add(STOP)
        return {"stopped_at": stopping.stopped_at}


@register
class MakeImage(StepKind):
    """CreateImage through an intent (:func:`.submit.make_image`): an earlier run's intent taken up, else the
    preflight and one submit. A definite refusal fails the step; an unknown outcome pauses the operation."""

    name = MAKE
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        memo = memory(run)
        instance_id, image_name = run.need("instance_id"), run.need("image_name")
        try:
            progress = await make_image(run.client, run.ledger, instance_id, image_name, run.param("description"),
                                        since=run.operation.started_at, sleep=memo.sleep, on_progress=memo.on_progress,
                                        checks=memo.checks)
        except (CreateImageError, IntentConflict) as error:
            raise memo.fail(error) from None
        except APIError as error:
            if outcome_unknown(error):
                raise Pause(error) from None
            raise memo.fail(error) from None
        except ZenlayerError as error:  # CreateOutcomeUnknown, a connection that failed: the next run looks again
            raise Pause(error) from None
        memo.show(replace(progress, elapsed=time.monotonic() - memo.started, stopped_at=run.param("stopped_at")))
        memo.done.add(MAKE)
        return {"image_id": progress.image_id, "intent_id": progress.intent_id, "zone_id": progress.zone_id}


async def _taken_up(run: StepRun, memo: CreateRun) -> ImageProgress:
    """Where the image of a make step finished by an earlier run stands: its open intent followed, or the image
    its closed intent made (a closed intent whose image did not become AVAILABLE fails the step)."""
    instance_id, image_name = str(run.operation.instance_id), str(run.operation.params.get("image_name", ""))
    progress = await resume_intent(run.client, run.ledger, instance_id, image_name, sleep=memo.sleep,
                                   on_progress=memo.on_progress)
    if progress is not None:
        return progress
    entry = run.ledger.get(str(run.param("intent_id")))
    if entry is None or entry.outcome != AVAILABLE_OUTCOME:
        raise StepFailed("NOT_AVAILABLE", f"The image of {image_name!r} is {entry.outcome if entry else 'unknown'}.")
    return replace(_blank(run), phase="submitted", image_id=entry.image_id, request_id=entry.request_id,
                   status=CREATING, intent_id=entry.intent_id)


@register
class FollowImage(StepKind):
    """Follow the made image until AVAILABLE (UNAVAILABLE fails the step; a timeout pauses the operation)."""

    name = FOLLOW
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        memo = memory(run)
        if memo.progress is None or memo.progress.image_id is None:
            memo.progress = replace(await _taken_up(run, memo), stopped_at=run.param("stopped_at"))
            notify(memo.on_progress, memo.progress)
        if not memo.wait:
            raise Pause()
        try:
            progress = await follow_to_available(run.client, run.ledger, memo.progress, timeout=memo.timeout,
                                                 poll_interval=memo.poll_interval, sleep=memo.sleep,
                                                 on_progress=memo.on_progress)
        except ImageCreationFailed as error:
            raise memo.fail(error) from None
        except ImageWaitTimeout as error:
            raise Pause(error) from None
        memo.progress = replace(progress, stopped_at=run.param("stopped_at"))
        memo.done.add(FOLLOW)
        return {"image_status": AVAILABLE}


@register
class StartOwed(StepKind):
    """Start the instance again and wait RUNNING (a clean-up: also after a failed stop or create); nothing is sent
    to one BOOTING or RUNNING. ``start_after=False`` on a re-run cancels it."""

    name = START
    idempotent = True

    async def send(self, run: StepRun) -> dict[str, Any]:
        memo = memory(run)
        instance_id, zone_id = run.need("instance_id"), run.operation.zone_id
        if memo.start_after is False:
            close_restart(run.ledger, run.client, instance_id, zone_id, CANCELLED, "start_after=False")
            return {"start": CANCELLED}
        progress = memo.progress or _blank(run)
        gave_back = memo.error is not None
        starting = replace(progress, phase="starting", instance_status=STOPPED)
        if not gave_back:
            notify(memo.on_progress, starting)
        try:
            started_at = await start_again(run.client, run.ledger, instance_id, zone_id=zone_id,
                                           stopped_at=run.param("stopped_at"), timeout=memo.power_timeout,
                                           sleep=memo.sleep, on_status=_power_seen(memo, starting))
        except RestartFailed as error:
            if gave_back:
                memo.error = RestartFailed(f"The create failed and {error}")
                memo.error.__cause__ = error
                raise StepFailed(type(error).__name__, str(error)) from None
            error.progress = progress
            raise memo.fail(error) from None
        settle(run.ledger, run.account, instance_id, besides=run.operation.operation_id)
        if not gave_back:
            memo.show(replace(progress, phase="done", started_at=started_at, instance_status=RUNNING))
        memo.done.add(START)
        return {"started_at": started_at}
