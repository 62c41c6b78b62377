"""A rotation run nobody watches, as the runbook does it: claim the window, record the run, alert on what went wrong.

::

    run = begin_run(client, policy, ledger, apply=True, parameters={...}, output="runs/rotate-0300.ipynb")
    print(run.message)                      # claimed / already run by another scheduler (exit 0) / dry run
    if run.go:
        outcome = run.apply(lambda: apply_rotation(client, policy, ledger), names=plan.names)

:func:`begin_run` claims the policy's period window (:mod:`.windows`) and alerts once about windows nobody ran;
:meth:`RotationRun.apply` runs the catch-up window (when the policy says so) and then this one, each recorded
in the run history (:mod:`.runs`) and each failure (or full zone) sent as an alert (:mod:`.alerts`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .._runner import run_sync
from ..api.errors import ZenlayerError
from ..api.vocabulary import CREATING
from .alerts import Alert, image_stuck, rotation_alerts, run_failed, run_missed, send_for
from .ledger import Ledger, account_of, ledger_for
from .ledger.records import parse_time
from .policy.records import OwnedImage, owned_images
from .runs import DRY_RUN, ERROR, FAILED, OK, SKIPPED, end_run, new_run_id, run_kind, run_output, start_run
from .sync import async_side
from .windows import WindowClaim, claim_window

if TYPE_CHECKING:
    from .policy import Outcome, Policy
    from .sync import AnyClient

log = logging.getLogger("zenlayer_widgets.core.unattended")
RUNBOOK = "rotate_images"
#: An image of the policy still CREATING this long after its create was begun is alerted as stuck.
STUCK_AFTER_MINUTES = 60.0


async def stuck_images_async(client: AnyClient, ledger: Ledger, policy: str, *, after_minutes: float = STUCK_AFTER_MINUTES,
                             now: datetime | None = None, names: Mapping[str, str] | None = None) -> list[Alert]:
    """One :data:`~.alerts.IMAGE_STUCK` alert per image the policy made that is still CREATING ``after_minutes``
    after its create was begun (the ledger's time; the zone's images as the API shows them now)."""
    moment = now or datetime.now(timezone.utc)
    old = [o for o in owned_images(ledger, account_of(client), policy).values()
           if (moment - parse_time(o.made_at)).total_seconds() >= after_minutes * 60]
    by_zone: dict[str, list[OwnedImage]] = {}
    for image in old:
        by_zone.setdefault(image.zone_id, []).append(image)
    found = async_side(client)
    alerts = []
    for zone, members in sorted(by_zone.items()):
        creating = {i.image_id for i in await found.list_images(zone, image_ids=[m.image_id for m in members],
                                                                image_status=CREATING)}
        alerts += [image_stuck(policy, zone, m.image_name, (moment - parse_time(m.made_at)).total_seconds() / 60,
                               [(names or {}).get(m.instance_id) or m.instance_id])
                   for m in members if m.image_id in creating]
    return alerts


@dataclass
class RotationRun:
    """One firing of the rotation runbook: whether it may apply (``go``), what it says (``message``), its runs."""

    client: Any
    policy: Policy
    ledger: Ledger
    account: str
    apply_requested: bool
    kind: str
    output: str | None
    parameters: dict[str, Any]
    claim: WindowClaim | None
    run_id: str
    message: str
    outcomes: list[Outcome] = field(default_factory=list)
    now: datetime | None = None  # the firing's time (injectable; None: the clock at each check)

    @property
    def go(self) -> bool:
        """Apply now: asked to, and the window (if the policy has a period) is this firing's."""
        return self.apply_requested and (self.claim is None or self.claim.claimed)

    def _alert(self, alerts: list[Any]) -> None:
        send_for(self.client, alerts)  # to the URLs of ZENLAYER_ALERT_URLS, else of the client's own profile

    def apply(self, work: Callable[[], Outcome], names: Mapping[str, str] | None = None) -> Outcome:
        """Run ``work`` (the apply) for the catch-up window first, if any, then for this one; every run recorded,
        failures and full zones alerted. An exception is recorded, alerted and raised again."""
        if not self.go:
            raise RuntimeError(f"This firing may not apply: {self.message}")
        windows = self.claim.windows if self.claim is not None else (None,)
        outcome: Outcome | None = None
        for window in windows:
            catching_up = self.claim is not None and window == self.claim.catch_up
            run_id = new_run_id() if catching_up else self.run_id
            if catching_up:
                start_run(self.ledger, self.account, self.policy.name, runbook=RUNBOOK, kind=f"{self.kind} (catch-up)",
                          parameters=self.parameters, output=self.output, window=window, run_id=run_id)
            try:
                outcome = work()
            except BaseException as error:  # recorded whatever it is; alerted unless it is an interrupt
                reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
                end_run(self.ledger, run_id, ERROR, reason)
                if isinstance(error, Exception):
                    self._alert([run_failed(self.policy.name, reason, self.output)])
                raise
            self.outcomes.append(outcome)
            end_run(self.ledger, run_id, OK if outcome.ok else FAILED, outcome.summary())
            try:
                stuck = run_sync(stuck_images_async(self.client, self.ledger, self.policy.name, now=self.now,
                                                    names=names))
            except (ZenlayerError, TimeoutError) as error:  # the run's own outcome stands; the next run checks again
                log.warning("policy %s: images still CREATING could not be checked (%s)", self.policy.name,
                            type(error).__name__)
                stuck = []
            self._alert(rotation_alerts(outcome, names) + stuck)
        assert outcome is not None
        return outcome


def begin_run(client: AnyClient, policy: Policy, ledger: Ledger | None = None, *, apply: bool,
              parameters: Mapping[str, Any] | None = None, output: object = None,
              now: datetime | None = None) -> RotationRun:
    """Record this firing and, when it applies a policy with a ``period``, claim the window (alerting once about
    windows nobody ran). A window another firing holds makes ``go`` False and ``message`` say so (the runbook
    then ends without error). A dry run claims nothing and is recorded as such."""
    ledger = ledger_for(client) if ledger is None else ledger
    account, where = account_of(client), run_output(output)
    kind, run_id, params = run_kind(where), new_run_id(), dict(parameters or {})
    claim = claim_window(ledger, account, policy.name, policy.period, run_id, catch_up=policy.catch_up,
                         now=now) if apply else None
    window = claim.window if claim is not None else None
    start_run(ledger, account, policy.name, runbook=RUNBOOK, kind=kind, parameters=params, output=where,
              window=window, run_id=run_id)
    run = RotationRun(client, policy, ledger, account, apply, kind, where, params, claim, run_id, "", now=now)
    if not apply:
        run.message = "Dry run (apply = False): nothing is changed and no window is claimed."
        end_run(ledger, run_id, DRY_RUN)
    elif claim is None:
        run.message = f"Policy {policy.name} has no period: this run applies it (no window to claim)."
    else:
        run.message = claim.message()
        if not claim.claimed:
            end_run(ledger, run_id, SKIPPED, run.message)
        elif claim.missed:
            run._alert([run_missed(policy.name, policy.period, claim.missed, claim.catch_up)])
    return run
