"""What the headless verify runbook (``notebooks/verify_images.ipynb``) does, so the notebook stays a few lines.

For each chosen instance, the newest AVAILABLE image the ledger knows it was made from is verified
(:func:`~.from_image.verify_image`: a throwaway launched, waited RUNNING, released). The run is recorded in the run
history (:mod:`.runs`); an image that did not boot is alerted ("verification did not boot", :mod:`.alerts`) and
fails the run (:class:`~.runbook.RunFailed`, papermill exits non-zero) once every instance was tried.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from .._runner import run_sync
from ..api.errors import ZenlayerError
from ..api.models import Image, Instance
from ..api.vocabulary import AVAILABLE, CUSTOM_IMAGE
from .alerts import Alert, not_booted, run_failed, send_for
from .from_image import verify_image_async
from .ledger import Ledger, account_of, ledger_for
from .ledger import schema as tables
from .policy.plan import select_instances
from .runbook import RunFailed
from .runs import ERROR as RUN_ERROR
from .runs import FAILED, OK, end_run, run_kind, run_output, start_run
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    import pandas as pd

    from ..api.client import AsyncZenlayerClient

RUNBOOK = "verify_images"
#: The run history's "policy" of these runs.
NAME = "verify-images"
BOOTED, NOT_BOOTED, SKIPPED, ERROR = "booted", "did not boot", "skipped", "error"
COLUMNS = ["instance_id", "instance", "zone", "image_id", "image_name", "result", "boot_seconds", "price",
           "throwaway", "reason"]


@dataclass(frozen=True)
class Choice:
    """Which instances: exact ids, or those whose name contains ``name_contains`` (what :func:`select_instances`
    reads)."""

    instance_ids: tuple[str, ...] = ()
    name_contains: str | None = None
    zones: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checked:
    """One instance's newest image and what its verification found."""

    instance_id: str
    instance: str
    zone: str
    result: str
    image_id: str = ""
    image_name: str = ""
    boot_seconds: float | None = None
    price: float | None = None
    throwaway: str = ""
    reason: str = ""


@dataclass
class VerifyRun:
    """Every chosen instance's verification; ``ok`` unless one did not boot or could not be verified."""

    rows: list[Checked] = field(default_factory=list)

    @property
    def failures(self) -> list[Checked]:
        return [r for r in self.rows if r.result in (NOT_BOOTED, ERROR)]

    @property
    def ok(self) -> bool:
        return not self.failures

    def count(self, result: str) -> int:
        return sum(r.result == result for r in self.rows)

    def summary(self) -> str:
        return (f"Verified the newest image of {len(self.rows)} instance(s): {self.count(BOOTED)} booted, "
                f"{self.count(NOT_BOOTED)} did not boot, {self.count(ERROR)} could not be verified, "
                f"{self.count(SKIPPED)} skipped.")

    def data(self) -> dict[str, Any]:
        """The JSON summary a scheduler reads."""
        return {"ok": self.ok, "booted": self.count(BOOTED), "not_booted": self.count(NOT_BOOTED),
                "errors": self.count(ERROR), "skipped": self.count(SKIPPED), "items": [asdict(r) for r in self.rows]}

    def frame(self) -> pd.DataFrame:
        import pandas as pd

        return pd.DataFrame([asdict(r) for r in self.rows], columns=COLUMNS)

    def raise_for_failures(self) -> None:
        if not self.ok:
            raise RunFailed("; ".join(f"{r.instance} ({r.instance_id}): image {r.image_name or r.image_id} {r.result}"
                                      f"{': ' + r.reason if r.reason else ''}" for r in self.failures))


def images_made_from(ledger: Ledger, account: str, instance_ids: list[str]) -> dict[str, list[tuple[str, str]]]:
    """Per instance, the images the ledger recorded being made from it: (image id, when the create began)."""
    t = tables.intents.c
    rows = ledger._read(sa.select(t.instance_id, t.image_id, t.started_at)
                        .where(t.account == account, t.instance_id.in_(instance_ids), t.image_id.is_not(None)))
    made: dict[str, list[tuple[str, str]]] = {}
    for row in rows:
        made.setdefault(row.instance_id, []).append((row.image_id, row.started_at))
    return made


async def newest_images(client: AsyncZenlayerClient, ledger: Ledger, instances: list[Instance]) -> dict[str, Image]:
    """Per instance, the newest of its images (by the ledger) that is AVAILABLE in its zone now."""
    made = images_made_from(ledger, account_of(client), [i.instance_id for i in instances])
    newest: dict[str, Image] = {}
    for zone in sorted({i.zone_id for i in instances}):
        available = {image.image_id: image for image in await client.list_images(zone, image_type=CUSTOM_IMAGE)
                     if image.image_status == AVAILABLE}
        for instance in (i for i in instances if i.zone_id == zone):
            mine = sorted((when, image_id) for image_id, when in made.get(instance.instance_id, ()) if image_id in available)
            if mine:
                newest[instance.instance_id] = available[mine[-1][1]]
    return newest


async def verify_newest_async(client: AnyClient, choice: Choice, *, ledger: Ledger | None = None,
                              max_price: float | None = None, timeout: float = 900.0,
                              poll_interval: float = 2.0) -> VerifyRun:
    """Verify the newest AVAILABLE image of each chosen instance, one after another (module doc); the alerts of
    the ones that did not boot are sent. Changes nothing but the throwaways, each released before the next."""
    aclient = async_side(client)
    ledger = ledger_for(aclient) if ledger is None else ledger
    instances, missing = await select_instances(aclient, choice)
    run = VerifyRun([Checked(i, "", "", SKIPPED, reason="no such instance") for i in missing])
    newest = await newest_images(aclient, ledger, instances)
    alerts: list[Alert] = []
    for instance in instances:
        base = Checked(instance.instance_id, instance.instance_name, instance.zone_id, SKIPPED)
        image = newest.get(instance.instance_id)
        if image is None:
            run.rows.append(_with(base, reason="no AVAILABLE image made from it is known to the ledger"))
            continue
        base = _with(base, image_id=image.image_id, image_name=image.image_name)
        try:
            found = await verify_image_async(aclient, image.image_id, ledger=ledger, max_price=max_price,
                                             timeout=timeout, poll_interval=poll_interval)
        except (ZenlayerError, TimeoutError, ValueError) as error:
            reason = f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}"
            run.rows.append(_with(base, result=ERROR, reason=reason))
            alerts.append(run_failed(NAME, f"{instance.instance_name}: {reason}"))
            continue
        row = _with(base, result=BOOTED if found.booted else NOT_BOOTED, boot_seconds=found.boot_seconds,
                    price=found.price, throwaway=found.instance_id or "", reason=found.reason)
        run.rows.append(row)
        if not found.booted:
            alerts.append(not_booted(NAME, instance.zone_id, [instance.instance_name or instance.instance_id],
                                     f"image {image.image_name} ({image.image_id}): {found.reason or 'not RUNNING'}"))
    send_for(aclient, alerts)
    return run


def _with(row: Checked, **changes: Any) -> Checked:
    return Checked(**{**asdict(row), **changes})


def run_verify(client: AnyClient, *, instance_ids: tuple[str, ...], name_contains: str | None,
               parameters: Mapping[str, Any], output: object = None, ledger: Ledger | None = None,
               max_price: float | None = None, timeout: float = 900.0, poll_interval: float = 2.0) -> VerifyRun:
    """:func:`verify_newest_async` recorded in the run history (ok, failed, or error with its first line)."""
    if not instance_ids and not name_contains:
        raise RunFailed("No instances chosen: set instance_ids (papermill: -p instance_ids \"id1,id2\") or "
                        "name_contains in the parameters cell, then run again.")
    ledger = ledger_for(client) if ledger is None else ledger
    where = run_output(output)
    run_id = start_run(ledger, account_of(client), NAME, runbook=RUNBOOK, kind=run_kind(where),
                       parameters=dict(parameters), output=where)
    try:
        found = run_sync(verify_newest_async(client, Choice(instance_ids, name_contains or None), ledger=ledger,
                                             max_price=max_price, timeout=timeout, poll_interval=poll_interval))
    except BaseException as error:
        end_run(ledger, run_id, RUN_ERROR, f"{type(error).__name__}: {(str(error).splitlines() or [''])[0]}")
        raise
    end_run(ledger, run_id, OK if found.ok else FAILED, found.summary())
    return found
