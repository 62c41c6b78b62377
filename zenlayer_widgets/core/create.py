"""The create-image workflow: one durable operation of the engine, planned in the ledger before anything is sent.

The plan (:mod:`.create_plan`): [stop, wait STOPPED,] create the image, follow it to AVAILABLE[, start again].
Its step kinds (:mod:`.create_steps`) keep the create's guarantees: the image is sent through an *intent*
(:mod:`.submit`), reconciled on evidence after an unknown outcome (:mod:`.reconcile`), never resent blind; a
re-run of the same create (instance and name) takes the unfinished operation up where it stopped, so a kill
between the stop and the create ends in one image and the instance started again, with no second stop.

Each ``*_async`` function takes either client and has a sync form of the same name without the
suffix (``create_image``, ``wait_for_image``, ``stop_instance``, ``wait_for_power_state``).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from sqlalchemy.exc import SQLAlchemyError

from .._runner import run_sync
from . import arguments
from .after_send import warn_ledger
from .create_errors import CreateConflict as CreateConflict  # this module's API too
from .create_errors import CreateImageError as CreateImageError
from .create_errors import ImageCreationFailed as ImageCreationFailed
from .create_errors import ImageWaitTimeout as ImageWaitTimeout
from .create_errors import InstanceRunning as InstanceRunning
from .create_errors import PreflightFailed as PreflightFailed
from .create_plan import FOLLOW, KIND, START, STOP, create_key, plan_steps
from .create_steps import CreateRun, Pause
from .image_wait import follow_to_available
from .image_wait import wait_for_image as wait_for_image
from .image_wait import wait_for_image_async as wait_for_image_async
from .intents import IN_PROGRESS_WAIT_SECONDS, resume_intent
from .intents import settle_intent as settle_intent
from .intents import settle_intent_async as settle_intent_async
from .ledger import IntentConflict as IntentConflict
from .ledger import Ledger, LedgerError, account_of, ledger_for
from .operations import SUCCEEDED, Driver, Operation, OperationBusy, StepPlan, held_by_another, store
from .operations.steps import KINDS, StepRun
from .owed_start import owing
from .power import stop_instance as stop_instance
from .power import stop_instance_async as stop_instance_async
from .power import wait_for_power_state as wait_for_power_state
from .power import wait_for_power_state_async as wait_for_power_state_async
from .preflight import check_arguments, local_preflight, preflight_async
from .progress import ImageProgress
from .reconcile import CreateOutcomeUnknown as CreateOutcomeUnknown
from .rerun import made_before
from .restart import note_planned
from .submit import find_custom_image as find_custom_image
from .submit import only_running
from .submit import submit_image as submit_image
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

Sleep = Callable[[float], Awaitable[None]]
ProgressCallback = Callable[["ImageProgress"], None]


async def create_image_async(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    stop_if_running: bool = False,
    start_after: bool | None = None,
    force_stop: bool = False,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    power_timeout: float = 600.0,
    sleep: Sleep = asyncio.sleep,
    on_progress: ProgressCallback | None = None,
    ledger: Ledger | None = None,
) -> ImageProgress:
    """Preflight, then CreateImage exactly once, then (``wait=True``) follow it to AVAILABLE: one operation.

    A RUNNING instance fails the preflight (:class:`InstanceRunning`, nothing changed) unless
    ``stop_if_running``: then it is stopped gracefully (``force_stop=True``: a forced power-off), waited
    STOPPED, imaged, and once the image is AVAILABLE started again and waited RUNNING when
    ``start_after`` (default: when this call stopped it). The whole plan, the start included, is written
    to ``ledger`` (default: :func:`~zenlayer_widgets.core.ledger.ledger_for` the client) before the stop is
    sent, so a re-run of the same create after a crash goes on from the step it reached (no second stop,
    no second image) and still starts the instance. The result's ``stopped_at``/``started_at`` are the
    downtime. The image goes through an intent (with a snapshot of the zone) taken up, not resent, by a
    re-run (:func:`resume_intent`); a finished create re-run returns its image (``already_made``).

    A name or description that breaks the local rules (or an empty instance id) is refused before anything is
    read or sent: that :class:`PreflightFailed` holds those checks alone (:func:`preflight` lists every reason).

    Raises :class:`PreflightFailed` (nothing sent), :class:`ImageCreationFailed`,
    :class:`ImageWaitTimeout` (with the image id and last status), :class:`CreateOutcomeUnknown`
    (with the candidates), :class:`IntentConflict` (another run's create holds the name or instance)
    or :class:`~zenlayer_widgets.core.restart.RestartFailed` (the image is made, the start failed).
    """
    check_arguments(instance_id, image_name, description)  # before the ledger or the API sees them
    _check_options(stop_if_running, start_after, force_stop, wait, timeout, poll_interval, power_timeout, on_progress)
    local = local_preflight(instance_id, image_name, description)
    if not local.ok:  # the local rules: refused before the ledger is read or anything is sent
        raise PreflightFailed(local)
    client = async_side(client)
    ledger = ledger_for(client) if ledger is None else ledger
    memo = CreateRun(sleep, on_progress, wait, timeout, poll_interval, power_timeout, start_after)
    account, key = account_of(client), create_key(instance_id, image_name)
    plan = None
    if store.unfinished(ledger, account, key) is None:  # else: an earlier run's operation, taken up where it stopped
        planned = await _plan(client, ledger, memo, instance_id, image_name, description, stop_if_running, force_stop)
        if isinstance(planned, ImageProgress):
            return planned  # made by an earlier run (already_made): nothing sent
        plan = planned
    driver = Driver(client, ledger, account, sleep=sleep, extras={"create": memo, "poll": poll_interval})
    try:
        operation, owner = _claim(driver, key, plan, memo, instance_id, image_name, description)
    except OperationBusy as busy:
        return await _follow_other_run(client, ledger, memo, busy, instance_id, image_name)
    if plan is not None and operation.step(START) is not None:
        note_planned(ledger, account, instance_id, operation.zone_id, image_name)  # the Activity's line
    try:
        done = await driver.drive(operation, owner)
    except Pause as pause:  # unfinished: the next run of this create goes on
        if pause.error is not None:
            raise pause.error from None
        return _result(memo)
    except (LedgerError, SQLAlchemyError) as error:
        return await _from_memory(client, ledger, driver, operation, memo, error)
    if done.outcome != SUCCEEDED:
        raise memo.error or _failed(done)
    return _result(memo)


def _failed(operation: Operation) -> CreateImageError:
    step = operation.failed_step()
    why = f" at step {step.kind} ({step.error_code or step.error_type})" if step is not None else ""
    return CreateImageError(f"The create of {operation.params.get('image_name')!r} failed{why}; operation "
                            f"{operation.operation_id} in the ledger has every step.")


def _claim(driver: Driver, key: str, plan: list[StepPlan] | None, memo: CreateRun, instance_id: str,
           image_name: str, description: str | None) -> tuple[Operation, str]:
    """The operation, written with its plan before anything is sent (or the unfinished one, taken over); a ledger
    that fails here is a clear error (nothing sent)."""

    def planned() -> list[StepPlan]:
        if plan is None:  # an unfinished operation existed when this run looked and finished since
            raise CreateImageError("Another run finished this create a moment ago; nothing was sent. Run it again.")
        return plan

    try:
        operation, owner, _ = driver.claim(KIND, key, planned, instance_id=instance_id, zone_id=memo.zone_id,
                                           params={"image_name": image_name, "description": description})
    except SQLAlchemyError as error:
        raise LedgerError(f"The create's operation could not be written to the ledger ({type(error).__name__}); "
                          "nothing was sent.") from None
    return operation, owner


async def _plan(client: AsyncZenlayerClient, ledger: Ledger, memo: CreateRun, instance_id: str, image_name: str,
                description: str | None, stop_if_running: bool, force_stop: bool) -> list[StepPlan] | ImageProgress:
    """The steps of a new create (nothing sent yet), or the image an earlier run of it made (``already_made``).
    An open intent for this instance and name is taken up by the create step; otherwise the preflight decides:
    :class:`InstanceRunning` unless ``stop_if_running`` (the one blocker), :class:`PreflightFailed`."""
    running = False
    entry = ledger.open_intent(account_of(client), instance_id, image_name)
    if entry is None:
        made = await made_before(client, ledger, instance_id, image_name, description)  # a finished re-run
        if made is not None:
            return made
        checks = await preflight_async(client, instance_id, image_name, description)
        running = only_running(checks)
        if running and not stop_if_running:
            raise InstanceRunning(checks)
        if not running and (not checks.ok or checks.instance is None):
            raise PreflightFailed(checks)
        memo.checks = None if running else checks
        memo.zone_id = checks.instance.zone_id if checks.instance is not None else None
    else:
        memo.zone_id = entry.zone_id
    owed = any(not held_by_another(op) for op in owing(ledger, account_of(client), instance_id))  # an earlier one's
    start = memo.start_after is True or (memo.start_after is None and (running or owed))
    return plan_steps(instance_id, image_name, description, stop=running, force=force_stop, start=start)


async def _follow_other_run(client: AsyncZenlayerClient, ledger: Ledger, memo: CreateRun, busy: OperationBusy,
                            instance_id: str, image_name: str) -> ImageProgress:
    """The same create run by another live kernel: follow its image (its intent, once written), never send."""
    deadline = time.monotonic() + IN_PROGRESS_WAIT_SECONDS
    while ledger.open_intent(account_of(client), instance_id, image_name) is None:
        if time.monotonic() >= deadline:
            raise busy
        await memo.sleep(0.2)
    progress = await resume_intent(client, ledger, instance_id, image_name, sleep=memo.sleep,
                                   on_progress=memo.on_progress)
    if progress is None:
        raise busy
    if not memo.wait:
        return progress
    return await follow_to_available(client, ledger, progress, timeout=memo.timeout, poll_interval=memo.poll_interval,
                                     sleep=memo.sleep, on_progress=memo.on_progress)


async def _from_memory(client: AsyncZenlayerClient, ledger: Ledger, driver: Driver, operation: Operation,
                       memo: CreateRun, error: Exception) -> ImageProgress:
    """The ledger failed while the operation ran. Before CreateImage was sent: a clear error. After: a warning,
    and the remaining steps run from what this run knows (nothing of them is recorded in the operation)."""
    ledger_error = error if isinstance(error, LedgerError) else LedgerError(
        f"The ledger {ledger} cannot be written ({type(error).__name__}).")
    if memo.progress is None or memo.progress.image_id is None:
        sent = "The instance was stopped; CreateImage was not sent." if STOP in memo.done else "Nothing was sent."
        raise LedgerError(f"{ledger_error} {sent}") from None
    warn_ledger(ledger_error, "keeping the create's operation")
    for step in operation.steps:
        if step.kind in memo.done or step.kind not in (FOLLOW, START):
            continue
        run = StepRun(client, ledger, driver.account, operation, step, memo.sleep, driver.extras)
        try:
            await KINDS[step.kind].send(run)
        except Pause as pause:
            if pause.error is not None:
                raise pause.error from None
            return _result(memo)
        except Exception:
            if memo.error is not None:
                raise memo.error from None
            raise
    return _result(memo)


def _result(memo: CreateRun) -> ImageProgress:
    assert memo.progress is not None, "a create that returns has its progress"
    return memo.progress


def _check_options(stop_if_running: object, start_after: object, force_stop: object, wait: object, timeout: object,
                   poll_interval: object, power_timeout: object, on_progress: object) -> None:
    """:func:`create_image_async`'s options, checked before anything is read or sent."""
    for name, value in (("stop_if_running", stop_if_running), ("force_stop", force_stop), ("wait", wait)):
        arguments.flag(value, name)
    arguments.optional_flag(start_after, "start_after")
    arguments.seconds(timeout, "timeout")
    arguments.seconds(power_timeout, "power_timeout")
    arguments.poll_interval(poll_interval)
    arguments.callback(on_progress, "on_progress")


def create_image(
    client: AnyClient,
    instance_id: str,
    image_name: str,
    description: str | None = None,
    *,
    stop_if_running: bool = False,
    start_after: bool | None = None,
    force_stop: bool = False,
    wait: bool = True,
    timeout: float = 1800.0,
    poll_interval: float = 2.0,
    power_timeout: float = 600.0,
    on_progress: ProgressCallback | None = None,
    ledger: Ledger | None = None,
) -> ImageProgress:
    """:func:`create_image_async` for synchronous code (runbooks, papermill, scripts)."""
    return run_sync(create_image_async(
        client, instance_id, image_name, description, stop_if_running=stop_if_running, start_after=start_after,
        force_stop=force_stop, wait=wait, timeout=timeout, poll_interval=poll_interval, power_timeout=power_timeout,
        on_progress=on_progress, ledger=ledger,
    ))

