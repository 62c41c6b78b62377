"""A rotation policy: which instances, how many images each keeps, how they are named, may it stop them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...api.params import text_arg
from ...rules import validate_image_description
from ..windows import parse_period
from .naming import check_prefix


@dataclass(frozen=True)
class Policy:
    """Make one image per instance per run and keep the newest ``keep`` this policy made.

    Instances: ``instance_ids`` (exact ids), or every instance whose name contains ``name_contains``
    (optionally only in ``zones``). Image names are ``<name_prefix>-<YYYYMMDDTHHMM>`` (UTC, the run's
    start) plus one letter when that name is taken in the zone. ``stop_if_running``: a RUNNING instance
    is stopped gracefully, imaged and (``start_after``, default: when it was running) started again;
    otherwise it is skipped. ``delete_first_when_full``: when the zone has no free slot and this
    instance's own policy images fill it, the oldest is deleted *before* the create (a window with one
    image fewer); otherwise that instance fails and nothing is deleted. Images the policy did not make
    (proven by the ledger) are never deleted. ``name`` identifies the policy in the ledger
    (default: the prefix). ``period`` (``"12h"``, ``"1d"``...; empty: none) cuts time into windows a run claims
    in the ledger (:mod:`..windows`): a second scheduler firing the same window runs nothing; a window nobody ran
    is reported, and run once late when ``catch_up``.
    """

    name_prefix: str
    keep: int = 2
    instance_ids: tuple[str, ...] = ()
    name_contains: str | None = None
    zones: tuple[str, ...] = ()
    stop_if_running: bool = False
    start_after: bool | None = None
    delete_first_when_full: bool = False
    description: str | None = None
    name: str = field(default="")
    period: str = ""
    catch_up: bool = False

    def __post_init__(self) -> None:
        text_arg(self.name_prefix, "name_prefix")
        check_prefix(self.name_prefix)
        if isinstance(self.keep, bool) or not isinstance(self.keep, int) or self.keep < 1:
            raise ValueError(f"keep must be a whole number of at least 1, not {self.keep!r}")
        ids = (self.instance_ids,) if isinstance(self.instance_ids, str) else tuple(self.instance_ids)
        for value in ids:
            text_arg(value, "instance_ids")
        object.__setattr__(self, "instance_ids", tuple(dict.fromkeys(i.strip() for i in ids if i.strip())))
        zones = (self.zones,) if isinstance(self.zones, str) else tuple(self.zones)
        object.__setattr__(self, "zones", zones)
        if not self.instance_ids and self.name_contains is None and not self.zones:
            raise ValueError("A policy needs instance_ids, or name_contains / zones to choose instances by.")
        if self.description is not None:
            verdict = validate_image_description(self.description)
            if not verdict.ok:
                raise ValueError(f"description: {verdict.message}")
        if not self.name:
            object.__setattr__(self, "name", self.name_prefix)
        parse_period(self.period)  # ValueError naming the forms allowed
        if not isinstance(self.catch_up, bool):
            raise ValueError(f"catch_up must be True or False, not {self.catch_up!r}")

    @property
    def image_description(self) -> str:
        """What the images are described as (says which policy made them; ownership is the ledger's, not this)."""
        return self.description if self.description is not None else f"Rotation policy {self.name}"


def parse_instance_ids(value: object) -> tuple[str, ...]:
    """Instance ids from a runbook parameter: comma-separated text, one id, or a list (papermill passes ids that look
    like numbers as ints: they become text)."""
    if value is None:
        return ()
    if isinstance(value, bool):
        raise TypeError("instance_ids must be text, a number or a list of them, not True/False")
    if isinstance(value, (str, int)):
        items: list[object] = list(str(value).replace("\n", ",").split(","))
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise TypeError(f"instance_ids must be comma-separated text or a list, not {type(value).__name__}")
    ids = []
    for item in items:
        if isinstance(item, bool) or not isinstance(item, (str, int)):
            raise TypeError(f"an instance id must be text or a number, not {item!r}")
        if str(item).strip():
            ids.append(str(item).strip())
    return tuple(dict.fromkeys(ids))
