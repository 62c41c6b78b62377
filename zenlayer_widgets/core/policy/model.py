"""A rotation policy: which instances, how many images each keeps, how they are named, may it stop them."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...api.params import text_arg
from ...rules import IMAGE_QUOTA_PER_ZONE, validate_image_description
from ..arguments import whole
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
    (proven by the ledger, by image id) are never deleted, nor are pinned ones (``zw.pin_image``, or renamed
    away from the policy's names), nor an instance's newest AVAILABLE image, nor the newest ``keep_verified`` (default
    1; 0: none) of its AVAILABLE images that ``zw.verify_image`` proved to boot: they are kept beside the newest
    ``keep``, and the plan says why. ``name`` identifies the policy in
    the ledger (default: the prefix). ``keep`` is 1 to 5 (a zone holds 5 custom images). ``max_deletes``: the
    most images one run deletes (default: the number of its instances). Every argument is checked here, before
    anything is sent.
    ``period`` (``"12h"``, ``"1d"``...; empty: none) cuts time into windows a run claims in the ledger
    (:mod:`..windows`): a second scheduler firing the same window runs nothing; a window nobody ran is reported,
    and run once late when ``catch_up``.
    """

    name_prefix: str
    keep: int = 2
    keep_verified: int = 1
    instance_ids: tuple[str, ...] = ()
    name_contains: str | None = None
    zones: tuple[str, ...] = ()
    stop_if_running: bool = False
    start_after: bool | None = None
    delete_first_when_full: bool = False
    description: str | None = None
    name: str = field(default="")
    max_deletes: int | None = None
    period: str = ""
    catch_up: bool = False

    def __post_init__(self) -> None:
        text_arg(self.name_prefix, "name_prefix")
        check_prefix(self.name_prefix)
        whole(self.keep, "keep", 1, IMAGE_QUOTA_PER_ZONE, f": a zone holds at most {IMAGE_QUOTA_PER_ZONE} custom images")
        whole(self.keep_verified, "keep_verified", 0, IMAGE_QUOTA_PER_ZONE,
               f": a zone holds at most {IMAGE_QUOTA_PER_ZONE} custom images")
        if self.max_deletes is not None:
            whole(self.max_deletes, "max_deletes", 0)
        for flag in ("stop_if_running", "delete_first_when_full"):
            if not isinstance(getattr(self, flag), bool):
                raise TypeError(f"{flag} must be True or False, not {getattr(self, flag)!r}")
        if self.start_after is not None and not isinstance(self.start_after, bool):
            raise TypeError(f"start_after must be True, False or None, not {self.start_after!r}")
        text_arg(self.name_contains, "name_contains", optional=True)
        text_arg(self.name, "name", empty=True)
        text_arg(self.description, "description", optional=True, empty=True)
        if isinstance(self.instance_ids, (bytes, bytearray)) or not isinstance(self.instance_ids, (str, tuple, list)):
            raise TypeError(f"instance_ids must be an id or a list of ids, not {type(self.instance_ids).__name__}")
        if isinstance(self.zones, (bytes, bytearray)) or not isinstance(self.zones, (str, tuple, list)):
            raise TypeError(f"zones must be a zone id or a list of them, not {type(self.zones).__name__}")
        for zone in (self.zones,) if isinstance(self.zones, str) else self.zones:
            text_arg(zone, "zones")
        self._normalise()

    def _normalise(self) -> None:
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
