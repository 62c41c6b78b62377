"""The account's instances, custom images and image quota as pandas DataFrames.

:func:`load_inventory_async` fetches everything in two rounds of concurrent requests, the floor
the API allows: first the zones, the first 1,000 instances and the instance count (a one-row
page, which answers before those rows are downloaded and parsed); then, as soon as the zones
answer, the images of every zone and the quota of all zones, and as soon as the count answers,
every other page of instances. Given the ``previous`` inventory, a refresh is one round: its zones
and page count are known, so every page, image list and the quota go out at once, beside a
DescribeZones and the pages' own counts that show whether the fleet changed in between (then it
is a full load after all). The rows are decoded into typed models as they arrive; an
:class:`Inventory` keeps the models and derives its tables from them, column by column, once
(the instance table as soon as its pages are in). It also keeps each page's rows as the API
sent them: a refresh decodes only the pages whose bytes changed, and reuses the last tables
when nothing they are made of did. The builders are pure functions of the typed models, so
they are tested without any network.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from functools import cached_property
from typing import TYPE_CHECKING, Any

import msgspec
import pandas as pd

from .._runner import run_sync
from ..api.models import Image, ImageQuota, Instance, Page, Zone
from ..api.vocabulary import MAX_PAGE_SIZE
from ..rules import CUSTOM_IMAGE, IMAGE_QUOTA_PER_ZONE, zone_supports_images
from . import arguments
from .sync import AnyClient, async_side

if TYPE_CHECKING:
    from ..api.client import AsyncZenlayerClient

INSTANCE_COLUMNS = [
    "instance_id",
    "name",
    "zone",
    "power_state",
    "system_disk_gb",
    "zone_supports_images",
    "instance_type",
    "cpu",
    "memory_gb",
    "public_ip",
    "created",
]
IMAGE_COLUMNS = ["zone", "image_id", "name", "type", "status", "size_gb", "description"]
QUOTA_COLUMNS = ["zone", "used", "max", "free", "supports_images"]


@dataclass(frozen=True, eq=False)
class Inventory:
    """A snapshot of the account: the typed models the API returned, and pandas tables of them.

    ``instance_list``, ``image_list`` (custom images of all zones) and ``quota_list`` are the
    models; ``instances``, ``images`` and ``quota`` are DataFrames derived from them (built once,
    on first use; a refresh that finds them unchanged starts from copies of the last ones). Snapshots
    compare by identity: a new load is a new snapshot.
    """

    zones: tuple[Zone, ...]
    instance_list: tuple[Instance, ...] = ()
    image_list: tuple[Image, ...] = ()
    quota_list: tuple[ImageQuota, ...] = ()
    loaded_at: datetime = field(default_factory=lambda: datetime.now(timezone.utc))
    requests: int = 0
    #: What a refresh needs of this load: the images it listed (CUSTOM_IMAGE, or None for all) and
    #: the instance count the API gave (its pages are the refresh's plan).
    image_type: str | None = CUSTOM_IMAGE
    instance_total: int = 0
    #: True when this inventory came from a one-round refresh (False: a full load).
    refreshed: bool = False
    #: The pages of instances as the API sent them, each with its rows' bytes (``Page.raw``): a refresh
    #: reuses the models of every page that comes back byte for byte the same.
    pages: tuple[Page[Instance], ...] = field(default=(), repr=False)

    @cached_property
    def instances(self) -> pd.DataFrame:
        """One row per instance (:func:`instances_frame`)."""
        return instances_frame(self.instance_list)

    @cached_property
    def images(self) -> pd.DataFrame:
        """One row per image, tagged with its zone (:func:`images_frame`)."""
        return images_frame(self.image_list)

    @cached_property
    def quota(self) -> pd.DataFrame:
        """Used / max / free per zone, in zone order (:func:`quota_frame`)."""
        return quota_frame(self.quota_list, self.zones)

    @cached_property
    def _instances_by_id(self) -> dict[str, Instance]:
        return {instance.instance_id: instance for instance in self.instance_list}

    @property
    def zone_ids(self) -> list[str]:
        return [zone.zone_id for zone in self.zones]

    def instance(self, instance_id: str) -> Instance | None:
        """The instance with this id, as the API described it (``None`` when it is not listed)."""
        return self._instances_by_id.get(instance_id)

    def images_in(self, zone_id: str) -> pd.DataFrame:
        """The images of one zone (without the zone column), in the order the API listed them."""
        frame = self.images[self.images["zone"] == zone_id]
        return frame.drop(columns=["zone"]).reset_index(drop=True)

    def image_names_in(self, zone_id: str) -> set[str]:
        """The names of the zone's images."""
        return {image.image_name for image in self.image_list if image.zone_id == zone_id}

    def images_by_zone(self) -> dict[str, pd.DataFrame]:
        """Every zone's image table, zones in DescribeZones order (empty tables included)."""
        return {zone_id: self.images_in(zone_id) for zone_id in self.zone_ids}

    def quota_for(self, zone_id: str) -> ImageQuota:
        """The quota of one zone (0 of 5 when the API did not report it)."""
        found = next((quota for quota in self.quota_list if quota.zone_id == zone_id), None)
        return found if found is not None else ImageQuota(zone_id=zone_id, count=0, max_count=IMAGE_QUOTA_PER_ZONE)

    def with_statuses(self, statuses: Mapping[str, str]) -> Inventory:
        """This snapshot with the power states in ``statuses`` (instance id -> state) applied.

        Returns ``self`` when nothing changes; unknown ids and empty states are ignored. Zones,
        images and quota are shared with this snapshot; an instance table already built is
        updated in its one column rather than rebuilt.
        """
        by_id = self._instances_by_id
        changed = {
            instance_id: status
            for instance_id, status in statuses.items()
            if status and instance_id in by_id and by_id[instance_id].instance_status != status
        }
        if not changed:
            return self
        models = tuple(
            msgspec.structs.replace(i, instance_status=changed[i.instance_id]) if i.instance_id in changed else i
            for i in self.instance_list
        )
        updated = replace(self, instance_list=models)
        built = self.__dict__
        for name in ("images", "quota"):
            if name in built:
                updated.__dict__[name] = built[name]
        if "instances" in built:
            updated.__dict__["instances"] = built["instances"].assign(power_state=[i.instance_status for i in models])
        return updated


def instances_frame(instances: Iterable[Instance]) -> pd.DataFrame:
    """One row per instance with its power state and whether its zone can hold images."""
    rows = list(instances)
    if not rows:
        return pd.DataFrame(columns=INSTANCE_COLUMNS).astype({"system_disk_gb": "Int64", "cpu": "Int64", "memory_gb": "Int64"})
    supports = {zone: zone_supports_images(zone) for zone in {i.zone_id for i in rows}}
    columns = {  # built column by column: fleets of 10,000 load on every refresh
        "instance_id": [i.instance_id for i in rows],
        "name": [i.instance_name for i in rows],
        "zone": [i.zone_id for i in rows],
        "power_state": [i.instance_status for i in rows],
        "system_disk_gb": pd.array([i.system_disk_size for i in rows], dtype="Int64"),
        "zone_supports_images": [supports[i.zone_id] for i in rows],
        "instance_type": [i.instance_type for i in rows],
        "cpu": pd.array([i.cpu_count for i in rows], dtype="Int64"),
        "memory_gb": pd.array([i.memory for i in rows], dtype="Int64"),
        "public_ip": [", ".join(i.public_ip_addresses) for i in rows],
        "created": [i.create_time for i in rows],
    }
    return pd.DataFrame(columns, columns=INSTANCE_COLUMNS)


def images_frame(images: Iterable[Image]) -> pd.DataFrame:
    """One row per image, tagged with its zone."""
    rows = list(images)
    columns = {
        "zone": [i.zone_id for i in rows],
        "image_id": [i.image_id for i in rows],
        "name": [i.image_name for i in rows],
        "type": [i.image_type for i in rows],
        "status": [i.image_status for i in rows],
        "size_gb": pd.array([i.image_size for i in rows], dtype="Int64"),
        "description": [i.image_description or "" for i in rows],
    }
    return pd.DataFrame(columns, columns=IMAGE_COLUMNS)


def quota_frame(quotas: Iterable[ImageQuota], zones: Sequence[Zone]) -> pd.DataFrame:
    """Used / max / free per zone, in zone order; a zone the API did not report shows 0 of 5."""
    by_zone = {quota.zone_id: quota for quota in quotas}
    rows = []
    for zone in zones:
        quota = by_zone.get(zone.zone_id, ImageQuota(zone.zone_id, 0, IMAGE_QUOTA_PER_ZONE))
        rows.append(
            {
                "zone": zone.zone_id,
                "used": quota.count,
                "max": quota.max_count,
                "free": quota.free,
                "supports_images": zone_supports_images(zone.zone_id),
            }
        )
    return pd.DataFrame(rows, columns=QUOTA_COLUMNS)


def _page_count(total: int) -> int:
    return math.ceil(total / MAX_PAGE_SIZE)


async def load_inventory_async(
    client: AnyClient, *, image_type: str | None = CUSTOM_IMAGE, previous: Inventory | None = None
) -> Inventory:
    """Fetch instances, images (custom only, unless ``image_type=None``) and quota in two rounds.

    With ``previous`` (the last inventory of the same account and ``image_type``), one round: see
    :func:`refresh_inventory_async`.
    """
    arguments.text_arg(image_type, "image_type", optional=True)
    if previous is not None and not isinstance(previous, Inventory):
        raise arguments.BadArgumentType(f"previous must be an Inventory (or None), not {type(previous).__name__}")
    client = async_side(client)
    if previous is not None and previous.image_type == image_type and previous.zones:
        return await refresh_inventory_async(client, previous)
    before = client.request_count
    # Round one, in this order: the instance count (a one-row page: it answers before the first 1,000
    # rows are made, downloaded and parsed), the zones, the first 1,000 rows. A server answers in the
    # order it was asked, so the other pages, which take it longest, go out first in round two.
    count = asyncio.ensure_future(client.describe_instances(page_num=1, page_size=1))
    zones_asked = asyncio.ensure_future(client.describe_zones())
    first = asyncio.ensure_future(client.describe_instances(page_num=1, page_size=MAX_PAGE_SIZE, keep_raw=True))

    async def zones_images_quota() -> tuple[list[Zone], list[ImageQuota], list[Image]]:
        zones = await zones_asked
        quotas, images = await _images_and_quota(client, [zone.zone_id for zone in zones], image_type)
        return zones, quotas, images

    async def all_instances() -> _Instances:
        counted = _page_count((await count).total_count)
        rest = await _instance_pages(client, range(2, counted + 1))
        pages = [await first, *rest]
        # the fleet grew between the count and the pages: fetch the pages the count did not cover
        total = max(page.total_count for page in pages)
        pages += await _instance_pages(client, range(max(counted, 1) + 1, _page_count(total) + 1))
        return _Instances.of(pages)  # built while the last images and the quota may still be on their way

    try:
        instances, (zones, quotas, images) = await asyncio.gather(all_instances(), zones_images_quota())
    finally:  # after a failure: nothing left running, no error left unread
        _settle([count, zones_asked, first])
    return _inventory(zones, instances, images, quotas, image_type, client.request_count - before, refreshed=False)


async def refresh_inventory_async(client: AnyClient, previous: Inventory) -> Inventory:
    """``previous`` brought up to date in one round of concurrent requests, else by a full load.

    Sent at once: every page of instances ``previous`` had (by its count), the images of each of
    its zones, the quota of those zones and a DescribeZones. The answers are used only if they fit
    together: the same zones, every page reporting the same count, that count covered by the pages
    sent and matched by the distinct instances received. A fleet that grew past a page or shrank by
    one, or a zone added, fails that check, and the inventory is loaded in full instead.

    A page whose rows are byte for byte those of ``previous``'s page keeps its models (not decoded
    again); when every instance, image and quota is ``previous``'s, so are the tables already built.
    """
    client = async_side(client)
    before = client.request_count
    zone_ids = previous.zone_ids
    pages_sent = max(_page_count(previous.instance_total), 1)
    known = {page.page_num: page for page in previous.pages if page.page_size == MAX_PAGE_SIZE and page.raw is not None}
    # the pages first: a server answers in the order it was asked, and they take longest to make and to read
    asked = [
        asyncio.ensure_future(client.describe_instances(page_num=n, page_size=MAX_PAGE_SIZE, known=known.get(n), keep_raw=True))
        for n in range(1, pages_sent + 1)
    ]

    async def all_instances() -> _Instances:
        return _Instances.of(await asyncio.gather(*asked), previous)  # built while the small answers still come in

    try:
        zones, (quotas, images), instances = await asyncio.gather(
            client.describe_zones(), _images_and_quota(client, zone_ids, previous.image_type), all_instances()
        )
    finally:  # after a failure: nothing left running, no error left unread
        _settle(asked)
    fits = instances.consistent and _page_count(instances.total) <= pages_sent and instances.distinct == instances.total
    if [zone.zone_id for zone in zones] != zone_ids or not fits:
        full = await load_inventory_async(client, image_type=previous.image_type)
        counted = dataclasses.replace(full, requests=client.request_count - before)
        counted.__dict__["instances"] = full.instances  # the table built with the pages, not built twice
        return counted
    refreshed = _inventory(zones, instances, images, quotas, previous.image_type, client.request_count - before, refreshed=True)
    return _reuse_tables(refreshed, previous)


def _settle(tasks: Iterable[asyncio.Future[Any]]) -> None:
    """Cancel what is still running; read the error of what failed (so none is reported as never retrieved)."""
    for task in tasks:
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()


async def refresh_images_async(client: AnyClient, previous: Inventory) -> Inventory:
    """``previous`` with its zones' images and quota listed again (no instance call: the studio's light poll).

    Returns ``previous`` itself when nothing changed; else a new snapshot (instances shared, ``loaded_at`` now).
    """
    client = async_side(client)
    zone_ids = [zone.zone_id for zone in previous.zones]
    if not zone_ids:
        return previous
    quotas, images = await _images_and_quota(client, zone_ids, previous.image_type)
    if tuple(images) == previous.image_list and tuple(quotas) == previous.quota_list:
        return previous
    updated = replace(previous, image_list=tuple(images), quota_list=tuple(quotas),
                      loaded_at=datetime.now(timezone.utc), requests=len(zone_ids) + 1)
    if "instances" in previous.__dict__:  # the instance table is unchanged: shared, not rebuilt
        updated.__dict__["instances"] = previous.__dict__["instances"]
    return updated


async def _images_and_quota(
    client: AsyncZenlayerClient, zone_ids: list[str], image_type: str | None
) -> tuple[list[ImageQuota], list[Image]]:
    """The quota of ``zone_ids`` and the images of each, all at once."""
    quotas, *image_lists = await asyncio.gather(
        client.describe_image_quota(zone_ids), *(client.list_images(zone, image_type=image_type) for zone in zone_ids)
    )
    return quotas, [image for batch in image_lists for image in batch]


async def _instance_pages(client: AsyncZenlayerClient, numbers: Iterable[int]) -> list[Page[Instance]]:
    pages = (client.describe_instances(page_num=n, page_size=MAX_PAGE_SIZE, keep_raw=True) for n in numbers)
    return list(await asyncio.gather(*pages))


@dataclass(frozen=True)
class _Instances:
    """Every page of instances as one table (an instance seen twice kept once) and what the pages said."""

    pages: tuple[Page[Instance], ...]
    models: tuple[Instance, ...]
    frame: pd.DataFrame
    total: int  # the largest count a page reported
    consistent: bool  # every page reported the same count
    distinct: int

    @classmethod
    def of(cls, pages: Sequence[Page[Instance]], previous: Inventory | None = None) -> _Instances:
        """The pages as one table; ``previous``'s models and table when they are the very same instances (a refresh
        whose pages all came back unchanged)."""
        unique: dict[str, Instance] = {}
        for page in pages:
            for instance in page.items:
                unique.setdefault(instance.instance_id, instance)
        totals = {page.total_count for page in pages}
        models = tuple(unique.values())
        frame = None
        if previous is not None and _same_objects(models, previous.instance_list) and "instances" in previous.__dict__:
            models, frame = previous.instance_list, previous.instances.copy()  # a copy: 0.1 ms, building it again 1.5-4 ms
        return cls(tuple(pages), models, instances_frame(models) if frame is None else frame, max(totals), len(totals) == 1, len(unique))


def _same_objects(one: Sequence[Any], other: Sequence[Any]) -> bool:
    """The same objects in the same order (identity, not equality: what was decoded from the same bytes)."""
    return len(one) == len(other) and all(map(operator.is_, one, other))


def _reuse_tables(refreshed: Inventory, previous: Inventory) -> Inventory:
    """``refreshed`` with copies of ``previous``'s image and quota tables where what they are made of is equal."""
    built = previous.__dict__
    if refreshed.image_list == previous.image_list and "images" in built:
        refreshed.__dict__["images"] = built["images"].copy()
    if refreshed.quota_list == previous.quota_list and refreshed.zones == previous.zones and "quota" in built:
        refreshed.__dict__["quota"] = built["quota"].copy()
    return refreshed


def _inventory(
    zones: Sequence[Zone],
    instances: _Instances,
    images: Sequence[Image],
    quotas: Sequence[ImageQuota],
    image_type: str | None,
    requests: int,
    *,
    refreshed: bool,
) -> Inventory:
    """The snapshot; the instance table was built once its pages were in, the small ones are built on first use."""
    inventory = Inventory(
        zones=tuple(zones),
        instance_list=instances.models,
        image_list=tuple(images),
        quota_list=tuple(quotas),
        requests=requests,
        image_type=image_type,
        instance_total=instances.total,
        refreshed=refreshed,
        pages=instances.pages,
    )
    inventory.__dict__["instances"] = instances.frame  # built once, while the last small answers were arriving
    return inventory


def load_inventory(
    client: AnyClient, *, image_type: str | None = CUSTOM_IMAGE, previous: Inventory | None = None
) -> Inventory:
    """:func:`load_inventory_async` for synchronous code (runbooks, scripts, papermill).

    ``load_inventory(client, previous=inventory)`` refreshes ``inventory`` in one round trip.
    """
    return run_sync(load_inventory_async(client, image_type=image_type, previous=previous))


def filter_instances(
    frame: pd.DataFrame, *, zone: str | None = None, state: str | None = None, name: str = ""
) -> pd.DataFrame:
    """The instances in ``zone`` with power ``state`` whose name or id contains ``name`` (case-insensitive)."""
    mask = pd.Series(True, index=frame.index)
    if zone:
        mask &= frame["zone"] == zone
    if state:
        mask &= frame["power_state"] == state
    text = name.strip().lower()
    if text:
        mask &= frame["name"].str.lower().str.contains(text, regex=False) | frame["instance_id"].str.lower().str.contains(
            text, regex=False
        )
    return frame[mask]


def page_of(frame: pd.DataFrame, page: int, size: int) -> tuple[pd.DataFrame, int]:
    """Rows of 0-based ``page`` (clamped) and the number of pages (at least 1)."""
    pages = max(1, math.ceil(len(frame) / size))
    page = min(max(page, 0), pages - 1)
    return frame.iloc[page * size : (page + 1) * size], pages
