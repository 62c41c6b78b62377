"""Alerts of unattended runs through Apprise: one message per event, to every URL of ``ZENLAYER_ALERT_URLS``.

Events: a run failed, a run missed (a period window nobody ran), an image stuck CREATING past a limit, a zone
full, a verification that did not boot. Each :class:`Alert` names the policy, the zone and the instances (by
name) and says what to do. The URLs (Slack, Teams, ``mailto://``, ``json://``...) come from
``ZENLAYER_ALERT_URLS`` (comma or space separated), else the ``alert_urls`` of the profile in use. A message is
built from names and one-line reasons only, then passed through the client's redactor: never a secret. The URLs
themselves may hold webhook tokens: they are never printed, logged or kept.
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..api.errors import CredentialsError

if TYPE_CHECKING:
    from .policy import Outcome

log = logging.getLogger("zenlayer_widgets.core.alerts")

#: Environment variable: the Apprise URLs alerts go to.
ENV_ALERT_URLS = "ZENLAYER_ALERT_URLS"
#: The key of a profile in ``~/.zenlayer/credentials.json`` holding its alert URLs (a list or one text).
PROFILE_KEY = "alert_urls"

RUN_FAILED = "run failed"
RUN_MISSED = "run missed"
IMAGE_STUCK = "image stuck CREATING"
ZONE_FULL = "zone full"
NOT_BOOTED = "verification did not boot"
EVENTS = (RUN_FAILED, RUN_MISSED, IMAGE_STUCK, ZONE_FULL, NOT_BOOTED)
_FULL = re.compile(r"^zone (\S+) is full \(|LIMIT_EXCEEDED_IMAGE_QUOTA|^QuotaExceeded")


@dataclass(frozen=True)
class Alert:
    """One event: what happened (``what``), where (``policy``, ``zone``, ``instances`` by name), what to do."""

    event: str
    policy: str
    what: str
    todo: str
    zone: str = ""
    instances: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.event not in EVENTS:
            raise ValueError(f"event must be one of {', '.join(EVENTS)}, not {self.event!r}")

    @property
    def title(self) -> str:
        where = f" in {self.zone}" if self.zone else ""
        return f"Zenlayer: {self.event}, policy {self.policy}{where}"

    @property
    def body(self) -> str:
        lines = [f"Policy: {self.policy}"]
        if self.zone:
            lines.append(f"Zone: {self.zone}")
        if self.instances:
            lines.append(f"Instances: {', '.join(self.instances)}")
        lines += [f"What happened: {self.what}", f"What to do: {self.todo}"]
        return "\n".join(lines)


def _split(value: object) -> list[str]:
    items = value if isinstance(value, (list, tuple)) else [value] if isinstance(value, str) else []
    return [url for item in items if isinstance(item, str) for url in re.split(r"[\s,]+", item) if url]


def alert_urls(profile: str | None = None, environ: Mapping[str, str] = os.environ) -> list[str]:
    """``ZENLAYER_ALERT_URLS``, else the ``alert_urls`` of ``profile`` (default: the current one); may be empty."""
    urls = _split(environ.get(ENV_ALERT_URLS, ""))
    if urls:
        return urls
    from ..api.profiles import profile_option

    try:
        return _split(profile_option(profile, PROFILE_KEY, environ))
    except CredentialsError:
        return []


def send_alerts(alerts: Iterable[Alert], urls: Sequence[str] | None = None, *,
                redact: Callable[[str], str] | None = None) -> int:
    """Notify every URL of each alert (one message per alert); the number of alerts delivered. No URL: nothing is
    sent. A delivery that fails is logged (without the URL) and does not raise: an alert never hides the run's own
    outcome. ``redact`` (a client's ``redact``) blanks any secret a reason might quote."""
    alerts = list(alerts)
    targets = alert_urls() if urls is None else list(urls)
    if not alerts or not targets:
        return 0
    import apprise

    notifier = apprise.Apprise()
    added = sum(bool(notifier.add(url)) for url in targets)
    if added < len(targets):
        log.warning("%d of %d alert URL(s) were not understood by Apprise (check %s)", len(targets) - added,
                    len(targets), ENV_ALERT_URLS)
    clean = redact or (lambda text: text)
    delivered = 0
    for alert in alerts:
        if notifier.notify(title=clean(alert.title), body=clean(alert.body)):
            delivered += 1
        else:
            log.warning("alert %r of policy %s could not be delivered to every URL", alert.event, alert.policy)
    return delivered


def send_for(client: object, alerts: Sequence[Alert]) -> int:
    """Send ``alerts`` to the URLs of ``ZENLAYER_ALERT_URLS``, else of the client's own profile, through the client's
    redactor; the number delivered."""
    if not alerts:
        return 0
    profile = getattr(getattr(client, "credentials", None), "profile", None)
    return send_alerts(alerts, alert_urls(profile), redact=getattr(client, "redact", None))


def rotation_alerts(outcome: Outcome, names: Mapping[str, str] | None = None) -> list[Alert]:
    """The alerts of a rotation run's outcome: one "zone full" per full zone, one "run failed" for the other
    failures. ``names`` maps instance ids to names (else the ids are shown)."""
    names = names or {}
    full: dict[str, list[str]] = {}
    other: list[str] = []
    zones: set[str] = set()
    for failure in outcome.failures:
        label = names.get(failure.instance_id) or failure.instance_id
        if _FULL.search(failure.reason):
            full.setdefault(failure.zone_id, []).append(label)
        else:
            other.append(f"{label}: {failure.reason}")
            zones.add(failure.zone_id)
    alerts = [Alert(ZONE_FULL, outcome.policy, f"the zone has no free custom-image slot; {len(members)} instance(s) "
                    "got no new image and nothing was deleted", "delete images in the zone that are no longer needed "
                    "(or set delete_first_when_full=True for this policy), then run the policy again",
                    zone, tuple(members)) for zone, members in sorted(full.items())]
    if other:
        where = ", ".join(sorted(z for z in zones if z))
        alerts.append(Alert(RUN_FAILED, outcome.policy, f"run {outcome.run_id[:8]} ended with {len(other)} failure(s): "
                            + "; ".join(other), "read the output notebook of the run, fix the cause, then run again "
                            "(a rerun resumes the run: nothing is created twice)", where,
                            tuple(o.split(":", 1)[0] for o in other)))
    return alerts


def run_failed(policy: str, reason: str, output: str | None = None) -> Alert:
    """A run that stopped with an error before it had an outcome (the ledger, the API, a bad parameter...)."""
    where = f"; output notebook: {output}" if output else ""
    return Alert(RUN_FAILED, policy, f"the run stopped: {reason}{where}", "read the output notebook, fix the cause, "
                 "then run again (a rerun resumes the run: nothing is created twice)")


def run_missed(policy: str, period: str, windows: Sequence[str], caught_up: str | None) -> Alert:
    """Windows of a policy's period that nobody ran."""
    then = f"; {caught_up} is caught up once now" if caught_up else "; they are not caught up (catch_up=False)"
    return Alert(RUN_MISSED, policy, f"no run in {len(windows)} window(s) of {period}: {', '.join(windows)}{then}",
                 "check that the scheduler (cron, systemd timer, jupyter-scheduler) is running on its machine")


def image_stuck(policy: str, zone: str, image_name: str, minutes: float, instances: Sequence[str] = ()) -> Alert:
    """An image still CREATING ``minutes`` after it was asked for."""
    return Alert(IMAGE_STUCK, policy, f"image {image_name} is still CREATING after {minutes:.0f} min", "open a "
                 "ticket with Zenlayer support naming the image; the policy skips the instance until it settles",
                 zone, tuple(instances))


def not_booted(policy: str, zone: str, instances: Sequence[str], detail: str) -> Alert:
    """A verification whose test instance did not boot from the image."""
    return Alert(NOT_BOOTED, policy, f"a test instance did not boot from the image: {detail}", "do not rely on this "
                 "image for a restore; make a new one and verify it again", zone, tuple(instances))
