"""The rotation panel's logic: a policy's fields, a preview (what a run would do), a confirmed apply, its outcome.

:class:`Rotation` holds everything the panel shows as traits; the studio controller owns one
(``controller.rotation``), follows account switches through its ``client`` callable and runs the
async calls on the controller's task runner. A preview changes nothing on the account. Apply needs
a current preview (any change to a field makes it stale) and a confirmation that says what will
happen; a second confirm while an apply runs does nothing. Errors land in ``error`` as one line.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import asdict
from typing import TYPE_CHECKING

import traitlets as T

from ..api.models import Instance
from ..core.ledger import Ledger
from ..core.policy import Outcome, Plan, Policy, RotationFailed, apply_rotation_async, plan_rotation_async
from ..core.policy.plan import CREATE, FAIL, SKIP
from ..core.runs import recorded_run
from .explain import explain
from .outcome import attempt
from .tasks import TaskRunner

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

#: The fields of the policy: a change to any of them makes the preview stale.
FIELDS = ("name_prefix", "keep", "instance_ids", "stop_if_running", "start_after", "delete_first_when_full")
#: What ``progress`` says per instance for each step the apply reports.
PHASES = {"waiting": "waiting", "planned": "creating the image…", "submitted": "image CREATING…",
          "created": "image AVAILABLE, deleting the oldest beyond keep…", "done": "done"}
#: How many instances the chooser lists (a huge fleet: the studio's selection still works).
CHOICES_LIMIT = 500


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _names(values: Iterable[str]) -> str:
    listed = [v for v in values if v]
    return f" ({', '.join(listed)})" if listed else ""


def confirmation(plan: Plan) -> str:
    """What Apply will do, named: the creates (by instance), the deletes (by image name), the stops."""
    policy = plan.policy
    creates = plan.creates
    deletes = [d.image_name for item in creates for d in item.deletes]
    stops = [item.instance_name or item.instance_id for item in creates if item.stop_start]
    restart = "stop and restart" if policy.start_after is not False else "stop (and leave STOPPED)"
    text = (f"Apply policy {policy.name}: create {plural(len(creates), 'image')}{_names(i.instance_name or i.instance_id for i in creates)}, "
            f"delete {plural(len(deletes), 'image')}{_names(deletes)}, {restart} {plural(len(stops), 'instance')}{_names(stops)}.")
    if any(item.delete_first for item in creates):
        text += " Where a zone is full, its oldest policy image is deleted before the create."
    failing = [item for item in plan.items if item.action == FAIL]
    skipped = [item for item in plan.items if item.action == SKIP]
    if skipped:
        text += f" {plural(len(skipped), 'instance')} skipped."
    if failing:
        text += f" {plural(len(failing), 'instance')} will fail{_names(i.instance_name or i.instance_id for i in failing)}."
    return text


def has_work(plan: Plan) -> bool:
    """Whether applying the plan would create or delete anything."""
    return any(item.action == CREATE or item.deletes for item in plan.items)


class Rotation(T.HasTraits):
    """A rotation policy's fields, its preview, a confirmed apply and its outcome, for one studio."""

    name_prefix = T.Unicode("", help="Images are named <prefix>-<YYYYMMDDTHHMM> (UTC); the prefix names the policy")
    keep = T.Int(2, help="How many of its own images per instance the policy keeps")
    instance_ids = T.Tuple(help="The instances it applies to, by id (the studio's selection until chosen here)")
    follow_selection = T.Bool(True, help="instance_ids follows the studio's selected instance (until instances are chosen)")
    stop_if_running = T.Bool(False, help="Stop a RUNNING instance gracefully for its image (else it is skipped)")
    start_after = T.Bool(True, help="Start the instances this run stopped again (False: leave them STOPPED)")
    delete_first_when_full = T.Bool(False, help="A full zone: delete the oldest policy image before the create")
    choices = T.List(T.Tuple(), help="(label, instance id) the chooser offers")

    plan = T.Instance(Plan, allow_none=True, help="The latest preview")
    plan_rows = T.List(T.Dict(), help="The preview per instance (Plan.frame() as records)")
    plan_summary = T.Unicode("", help="Plan.summary() of the latest preview")
    plan_quota = T.List(T.Dict(), help="Per zone: used before, after, max (Plan.quota_frame() as records)")
    stale = T.Bool(False, help="A field changed after the preview: preview again before Apply")
    previewing = T.Bool(False, help="A preview is in flight")
    applying = T.Bool(False, help="An apply is in flight")
    confirming = T.Unicode("", help="The pending confirmation: what Apply will do ('' = none pending)")
    progress = T.Dict(help="Instance id -> where its step of the apply is (PHASES' words)")
    outcome = T.Instance(Outcome, allow_none=True, help="The latest apply's outcome")
    outcome_rows = T.List(T.Dict(), help="Outcome.frame() as records")
    outcome_summary = T.Unicode("", help="Outcome.summary()")
    outcome_quota = T.List(T.Dict(), help="Per zone after the apply: used, max, free")
    error = T.Unicode("", help="Why the last preview or apply did not work, one line ('' = none)")
    notice = T.Unicode("", help="A one-line message (an apply finished, a click refused...)")

    def __init__(
        self,
        client: Callable[[], AsyncZenlayerClient],
        tasks: TaskRunner,
        *,
        after_apply: Callable[[str], Awaitable[None]] | None = None,
        poll_interval: float = 2.0,
        ledger: Ledger | None = None,
    ) -> None:
        super().__init__()
        self._client = client  # the controller's current client (it changes with the account)
        self.tasks = tasks
        self._after_apply = after_apply
        self.poll_interval = poll_interval
        self.ledger = ledger  # None: the client's own (ledger_for)
        self._edits = 0  # counts field changes: a preview that saw an older count is stale
        self._epoch = 0  # counts account switches: an answer from the old account is dropped
        self._labels: dict[str, str] = {}
        self.image_names: dict[str, str] = {}  # image id -> name, of the images a preview said it deletes

    @T.observe(*FIELDS)
    def _field_changed(self, _change: T.Bunch) -> None:
        self._edits += 1
        with self.hold_trait_notifications():
            if self.plan is not None:
                self.stale = True
            self.confirming = ""

    # -- inputs --------------------------------------------------------------------------------
    def follow(self, instance_id: str | None) -> None:
        """The studio's selection changed: the policy applies to it while nothing was chosen here."""
        if self.follow_selection:
            self.instance_ids = (instance_id,) if instance_id else ()

    def choose(self, instance_ids: Sequence[str]) -> None:
        """Apply the policy to these instances (by id); the studio's selection no longer changes them."""
        with self.hold_trait_notifications():
            self.follow_selection = False
            self.instance_ids = tuple(dict.fromkeys(str(i) for i in instance_ids))

    def set_choices(self, instances: Sequence[Instance]) -> None:
        """What the chooser offers: the first :data:`CHOICES_LIMIT` instances and every chosen one."""
        listed = list(instances[:CHOICES_LIMIT])
        shown = {i.instance_id for i in listed}
        listed += [i for i in instances[CHOICES_LIMIT:] if i.instance_id in self.instance_ids and i.instance_id not in shown]
        self.choices = [(f"{i.instance_name or i.instance_id} · {i.zone_id}", i.instance_id) for i in listed]

    def policy(self) -> Policy:
        """The policy the fields describe; ValueError (saying what to fix) when they describe none."""
        if not self.name_prefix.strip():
            raise ValueError("Type a name prefix: the images are named <prefix>-<YYYYMMDDTHHMM> (UTC).")
        if not self.instance_ids:
            raise ValueError("Choose at least one instance for the policy.")
        try:
            return Policy(self.name_prefix, keep=self.keep, instance_ids=self.instance_ids, stop_if_running=self.stop_if_running,
                          start_after=None if self.start_after else False, delete_first_when_full=self.delete_first_when_full)
        except TypeError as error:
            raise ValueError(str(error)) from None

    # -- derived -------------------------------------------------------------------------------
    @property
    def can_apply(self) -> bool:
        """A current preview with something to create or delete, and no preview or apply in flight."""
        return self.apply_blocked == ""

    @property
    def apply_blocked(self) -> str:
        """Why Apply is disabled ('' = it is not)."""
        if self.applying:
            return "An apply is running."
        if self.previewing:
            return "A preview is running."
        if self.plan is None:
            return "Preview first: Apply does what the preview shows."
        if self.stale:
            return "Changed since the preview: preview again."
        if not has_work(self.plan):
            return "Nothing to create or delete."
        return ""

    def label(self, instance_id: str) -> str:
        """An instance's name as the last preview listed it (else its id)."""
        return self._labels.get(instance_id) or instance_id

    # -- calls ---------------------------------------------------------------------------------
    async def preview(self) -> Plan | None:
        """What a run would do per instance, the quota before and after; changes nothing on the account."""
        if self.previewing or self.applying:
            return None
        try:
            policy = self.policy()
        except ValueError as error:  # the preview shown (if any) stays, and so does its staleness
            with self.hold_trait_notifications():
                self.error, self.notice, self.confirming = f"Not previewed: {error}", "", ""
            return None
        edits, epoch = self._edits, self._epoch

        def begin() -> None:
            self.error, self.notice, self.confirming = "", "", ""

        def failed(error: BaseException) -> None:
            self.error = explain(error, f"Previewing policy {policy.name}").text()

        done, plan = await attempt(self, "previewing", lambda: plan_rotation_async(self._client(), policy, self.ledger),
                                   failed=failed, start=begin, current=lambda: epoch == self._epoch)
        if not done or plan is None or epoch != self._epoch:  # failed, or the account was switched meanwhile
            return None
        with self.hold_trait_notifications():
            self.plan = plan
            self.plan_rows = plan.frame().to_dict("records")
            self.plan_summary = plan.summary()
            self.plan_quota = plan.quota_frame().to_dict("records")
            self._labels.update({item.instance_id: item.instance_name for item in plan.items if item.instance_name})
            self.image_names.update({d.image_id: d.image_name for item in plan.items for d in item.deletes})
            self.stale = edits != self._edits  # a field changed while it ran
        return plan

    def ask_apply(self) -> str:
        """First click of "Apply…": the question naming what will happen ('' and a notice when Apply is not possible)."""
        blocked = self.apply_blocked
        if blocked:
            self.notice = f"Not applied: {blocked}"
            return ""
        assert self.plan is not None
        with self.hold_trait_notifications():
            self.notice = ""
            self.confirming = confirmation(self.plan)
        return self.confirming

    def cancel(self) -> None:
        """Drop the pending confirmation (nothing was sent)."""
        self.confirming = ""

    async def confirm_apply(self) -> Outcome | None:
        """Run the previewed policy once; the outcome, the quota after, and a refreshed studio.

        Only with a pending confirmation of a current preview; a second call while one runs does nothing.
        """
        if not self.confirming or not self.can_apply:
            return None
        plan = self.plan
        assert plan is not None
        policy, epoch = plan.policy, self._epoch
        outcome: Outcome | None = None

        def begin() -> None:  # with ``applying`` set before the first await: a double click finds it set
            self.confirming, self.error = "", ""
            self.notice = f"Applying policy {policy.name}…"
            self.progress = {item.instance_id: PHASES["waiting"] for item in plan.creates}
            self.outcome, self.outcome_rows, self.outcome_summary, self.outcome_quota = None, [], "", []

        async def apply() -> None:
            nonlocal outcome
            client = self._client()
            with recorded_run(client, policy.name, asdict(policy), kind="studio", runbook="studio", ledger=self.ledger) as run:
                outcome = await apply_rotation_async(client, policy, self.ledger, poll_interval=self.poll_interval, plan=plan,
                                                     on_step=lambda instance_id, phase: self._step(epoch, instance_id, phase))
                run.done(outcome.ok, outcome.summary())

        def failed(error: BaseException) -> None:  # PolicyBusy, API errors, the ledger...
            with self.hold_trait_notifications():
                self.error = explain(error, f"Applying policy {policy.name}").text()
                self.notice = ""

        await attempt(self, "applying", apply, failed=failed, start=begin, then=lambda: self._show_outcome(outcome),
                      current=lambda: epoch == self._epoch)
        if self._after_apply is not None and epoch == self._epoch:
            await self._after_apply(self.outcome_summary or self.error)
        return outcome

    def _show_outcome(self, outcome: Outcome | None) -> None:
        # the account changed: the preview is spent (Apply waits for a new one)
        self.plan, self.plan_rows, self.plan_summary, self.plan_quota, self.stale = None, [], "", [], False
        if outcome is None:
            return
        self.outcome = outcome
        self.outcome_rows = outcome.frame().to_dict("records")
        self.outcome_summary = outcome.summary()
        self.outcome_quota = outcome.quota_frame().to_dict("records")
        self.notice = ""  # the outcome's summary says it
        if not outcome.ok:
            self.error = str(RotationFailed(outcome))

    def _step(self, epoch: int, instance_id: str, phase: str) -> None:
        if epoch == self._epoch:
            self.progress = {**self.progress, instance_id: PHASES.get(phase, phase)}

    def reset(self) -> None:
        """Another account: drop what was shown (answers still on their way from the old one are dropped too)."""
        self._epoch += 1
        with self.hold_trait_notifications():
            self.plan, self.plan_rows, self.plan_summary, self.plan_quota, self.stale = None, [], "", [], False
            self.outcome, self.outcome_rows, self.outcome_summary, self.outcome_quota = None, [], "", []
            self.confirming, self.error, self.notice, self.progress = "", "", "", {}
            self.previewing = self.applying = False
            self.follow_selection, self.instance_ids, self.choices = True, (), []


__all__ = ["CHOICES_LIMIT", "FIELDS", "PHASES", "Rotation", "confirmation", "has_work", "plural"]
