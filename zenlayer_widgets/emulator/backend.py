"""The emulator's state and rules, moto-style: plain Python methods, no HTTP.

Lifecycles run on an injectable monotonic clock (``advance(seconds)`` moves it forward); each
step lasts ``transition_seconds``: StopInstances: STOPPING, then STOPPED; StartInstances: BOOTING,
then RUNNING; CreateImage: the image is CREATING and its instance IMAGING, then AVAILABLE
(UNAVAILABLE under the ``unavailable`` fault) and STOPPED; CreateInstances: PENDING, DEPLOYING,
then RUNNING (CREATE_FAILED under the ``boot_failure`` fault); ResetInstance: REBUILDING, then
RUNNING; TerminateInstance: RECYCLING, then RECYCLE (the recycle bin, until ReleaseInstances
removes it). Due transitions are applied lazily (a heap of deadlines) at the start of every call,
so nothing runs in the background; a step that follows another is due one ``transition_seconds``
after the step before it was due, so one ``advance`` can carry an instance through several.

Every public method takes the backend's lock: tests may call it from any thread while the
HTTP app serves requests. Failures are named errors (:mod:`.exceptions`) that carry their HTTP
status and code; faults and latency are not the backend's business (:mod:`.conditions`), except
that an ``unavailable`` fault marks the next image to fail (:meth:`fail_next_image`).
``on_change`` is called after every change (the shared sandbox saves ``export_state()`` to disk
there; ``import_state`` loads it back).
"""

from __future__ import annotations

import copy
import heapq
import itertools
import math
import re
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TypeVar

from .. import rules
from ..api import errors
from ..api import vocabulary as A
from . import persist
from .exceptions import (
    EmulatorError,
    ImageNameDuplicate,
    ImageNotFound,
    ImageQuotaExceeded,
    InstanceNotFound,
    InstanceTypeNotFound,
    InvalidImageStatus,
    InvalidParameter,
    NotFound,
    OperationDenied,
    UnsupportedOperation,
    ZoneNotFound,
)
from .filters import instance_checks, name_matches, page
from .records import ImageRecord, InstanceRecord, InstanceTypeRecord, LaunchSpec, ZoneRecord
from .seed import IdFactory, build_fleet, custom_image, instance_types

Clock = Callable[[], float]
#: States in which an instance's system disk cannot be imaged (UNSUPPORTED_OPERATION_DISK_UNAVAILABLE).
DISK_UNAVAILABLE_STATES = frozenset({A.RECYCLE, A.RECYCLING, A.RELEASING, A.CREATE_FAILED})
RECYCLED_STATES = A.RECYCLED_STATES
#: TerminateInstance takes instances in these states (not while an operation is under way).
TERMINABLE_STATES = frozenset({A.RUNNING, A.STOPPED, A.CREATE_FAILED})
#: ``name_[begin,bits]``: CreateInstances numbers several instances (``web_[1,2]`` -> web01, web02, ...).
NAME_PATTERN = re.compile(r"^(?P<stem>.*)_\[(?P<begin>\d+),(?P<bits>\d+)\]$")
T = TypeVar("T")


class EmulatorBackend:
    """Zones, instances, images and quotas of one emulated account."""

    def __init__(
        self,
        *,
        seed: str = "demo",
        instances: int | None = None,
        transition_seconds: float = 3.0,
        clock: Clock = time.monotonic,
        allow_duplicate_names: bool = False,
        late_seconds: float = 2.0,
    ) -> None:
        if not 0 <= transition_seconds < math.inf:
            raise ValueError("transition_seconds must be a finite number >= 0")
        self._lock = threading.RLock()
        self._seed = seed
        self._instance_count = instances
        self._clock = clock
        self._offset = 0.0
        self.transition_seconds = float(transition_seconds)
        #: Called (under the lock) after every change of state: the shared sandbox saves a snapshot.
        self.on_change: Callable[[], None] | None = None
        self._fail_next_image = False
        self._fail_next_boot = False
        #: Whether two custom images of a zone may share a name (the reference does not say the real API refuses it).
        self.allow_duplicate_names = bool(allow_duplicate_names)
        if not 0 <= late_seconds < math.inf:
            raise ValueError("late_seconds must be a finite number >= 0")
        #: How long after its connection was dropped a request hit by the ``late`` fault is applied.
        self.late_seconds = float(late_seconds)
        self._late: list[threading.Timer] = []
        self.reset()

    # ----------------------------------------------------------------- state and clock

    def reset(self) -> None:
        """Back to the seeded fleet (the clock keeps running)."""
        with self._lock:
            self._ids = IdFactory(self._seed)
            fleet = build_fleet(self._ids, self._seed, self._instance_count)
            self._zones: dict[str, ZoneRecord] = {z.zone_id: z for z in fleet.zones}
            self._instances: dict[str, InstanceRecord] = {i.instance_id: i for i in fleet.instances}
            self._instance_order: list[str] = list(self._instances)
            self._by_zone: dict[str, list[str]] = {zone_id: [] for zone_id in self._zones}
            for record in fleet.instances:
                self._by_zone[record.zone_id].append(record.instance_id)
            self._public: dict[str, ImageRecord] = {i.image_id: i for i in fleet.public_images}
            self._custom: dict[str, ImageRecord] = {i.image_id: i for i in fleet.custom_images}
            self._pending: list[tuple[float, int, str, str, int]] = []
            self._sequence = itertools.count()
            self._changed()

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change()

    @property
    def seed(self) -> str:
        return self._seed

    def export_state(self) -> dict:
        """Everything the account holds, as JSON-able data (pending transitions as seconds left)."""
        with self._lock:
            now = self.now()
            return persist.to_json(persist.BackendState(
                seed=self._seed,
                zones=list(self._zones.values()),
                instances=[self._instances[i] for i in self._instance_order],
                public_images=list(self._public.values()),
                custom_images=list(self._custom.values()),
                pending=[(max(deadline - now, 0.0), kind, target) for deadline, _, kind, target, generation in sorted(self._pending)
                         if kind == "image" or (target in self._instances and self._instances[target].generation == generation)],
                ids=set(self._ids.seen),
            ))

    def import_state(self, state: dict) -> None:
        """Replace the account's state with one :meth:`export_state` gave (ValueError when malformed)."""
        loaded = persist.from_json(state)
        with self._lock:
            now = self.now()
            self._ids = IdFactory.restored(loaded.seed, loaded.ids)
            self._zones = {z.zone_id: z for z in loaded.zones}
            self._instances = {i.instance_id: i for i in loaded.instances}
            self._instance_order = [i.instance_id for i in loaded.instances]
            self._by_zone = {zone_id: [] for zone_id in self._zones}
            for record in loaded.instances:
                self._by_zone.setdefault(record.zone_id, []).append(record.instance_id)
            self._public = {i.image_id: i for i in loaded.public_images}
            self._custom = {i.image_id: i for i in loaded.custom_images}
            self._pending = []
            self._sequence = itertools.count()
            for left, kind, target in loaded.pending:
                generation = self._instances[target].generation if kind != "image" else 0
                heapq.heappush(self._pending, (now + left, next(self._sequence), kind, target, generation))

    def now(self) -> float:
        """The backend's clock (monotonic seconds plus everything ``advance`` added)."""
        return self._clock() + self._offset

    def advance(self, seconds: float) -> None:
        """Move the clock forward (tests: finish STOPPING / BOOTING / CREATING without waiting)."""
        with self._lock:
            self._offset += seconds
            self._settle()

    def _settle(self) -> None:
        now = self.now()
        while self._pending and self._pending[0][0] <= now:
            deadline, _, kind, target, generation = heapq.heappop(self._pending)
            if kind == "image":
                self._finish_image(target)
            else:
                instance = self._instances.get(target)
                if instance is not None and instance.generation == generation:
                    self._set_status(instance, kind, then=self._next_step(instance, kind), start=deadline)

    @staticmethod
    def _next_step(instance: InstanceRecord, status: str) -> str | None:
        """The state a launch or a move to the recycle bin goes on to after ``status``."""
        if status == A.DEPLOYING:
            return A.CREATE_FAILED if instance.boot_failure else A.RUNNING
        return A.RECYCLE if status == A.RECYCLING else None

    def _schedule(self, kind: str, target: str, generation: int = 0, start: float | None = None) -> None:
        deadline = (self.now() if start is None else start) + self.transition_seconds
        heapq.heappush(self._pending, (deadline, next(self._sequence), kind, target, generation))

    def _set_status(self, instance: InstanceRecord, status: str, then: str | None = None, start: float | None = None) -> None:
        instance.status = status
        instance.generation += 1
        instance.cached_json = None
        if then is not None:
            self._schedule(then, instance.instance_id, instance.generation, start)

    def _finish_image(self, image_id: str) -> None:
        image = self._custom.get(image_id)
        if image is None or image.status != rules.CREATING:
            return
        image.status = image.final_status or rules.AVAILABLE
        source = self._instances.get(image.source_instance_id or "")
        if source is not None and source.status == rules.IMAGING:
            self._set_status(source, rules.STOPPED)

    # ------------------------------------------------------ direct access (tests, seeding)

    @property
    def zones(self) -> dict[str, ZoneRecord]:
        """A snapshot of the zones by id."""
        with self._lock:
            return {k: copy.copy(v) for k, v in self._zones.items()}

    @property
    def instances(self) -> dict[str, InstanceRecord]:
        """A snapshot of every instance by id (copies: changing them changes nothing)."""
        with self._lock:
            self._settle()
            return {k: copy.copy(v) for k, v in self._instances.items()}

    @property
    def images(self) -> dict[str, ImageRecord]:
        """A snapshot of every image by id, public ones (``zone_id`` None) included."""
        with self._lock:
            self._settle()
            return {k: copy.copy(v) for k, v in itertools.chain(self._public.items(), self._custom.items())}

    def instance_named(self, name: str) -> InstanceRecord:
        """The (first) instance called ``name``: a copy; KeyError if none."""
        with self._lock:
            self._settle()
            for record in self._instances.values():
                if record.instance_name == name:
                    return copy.copy(record)
        raise KeyError(name)

    def custom_image_count(self, zone_id: str) -> int:
        """Custom images in a zone, CREATING ones included (what the quota counts)."""
        with self._lock:
            return sum(1 for image in self._custom.values() if image.zone_id == zone_id)

    # ---------------------------------------------------------------------------- faults

    def fail_next_image(self) -> None:
        """The next image CreateImage makes ends UNAVAILABLE (the ``unavailable`` fault)."""
        with self._lock:
            self._fail_next_image = True

    def fail_next_boot(self) -> None:
        """The next instance CreateInstances launches ends CREATE_FAILED (the ``boot_failure`` fault)."""
        with self._lock:
            self._fail_next_boot = True

    def apply_later(self, apply: Callable[[], object]) -> None:
        """Run ``apply`` (a request hit by the ``late`` fault) ``late_seconds`` from now, on a timer thread;
        its answer or refusal goes nowhere."""
        def run() -> None:
            try:
                apply()
            except EmulatorError:
                pass  # refused when it landed; the client had already given up

        timer = threading.Timer(self.late_seconds, run)
        timer.daemon = True
        self._late = [t for t in self._late if t.is_alive()] + [timer]
        timer.start()

    def land_late_requests(self, timeout: float = 30.0) -> None:
        """Wait until every late request so far has been applied (tests)."""
        for timer in list(self._late):
            timer.join(timeout)

    # ------------------------------------------------------------------------ zones

    def describe_zones(self, zone_ids: Sequence[str] | None = None) -> list[ZoneRecord]:
        """Zones in a fixed order; unknown ids in ``zone_ids`` are skipped (a filter)."""
        with self._lock:
            if not zone_ids:
                return list(self._zones.values())
            wanted = set(zone_ids)
            return [zone for zone in self._zones.values() if zone.zone_id in wanted]

    def _require_zone(self, zone_id: str, code: str = errors.INVALID_ZONE_NOT_FOUND) -> ZoneRecord:
        zone = self._zones.get(zone_id)
        if zone is None:
            raise ZoneNotFound(zone_id, code=code)
        return zone

    # -------------------------------------------------------------------- instances

    def describe_instances(
        self, filters: dict | None = None, page_num: int = 1, page_size: int = 20,
        render: Callable[[InstanceRecord], T] = copy.copy,  # type: ignore[assignment]
    ) -> tuple[int, list[T]]:
        """``(totalCount, page)`` of instances matching the DescribeInstances filters (wire names).

        Each instance of the page is passed through ``render`` under the lock (default: a copy).
        A zone filter uses the per-zone index; without filters only the page is touched.
        """
        filters = filters or {}
        with self._lock:
            self._settle()
            ids = filters.get("instanceIds")
            zone_id = filters.get("zoneId")
            if ids:
                order: Sequence[str] = [i for i in ids if i in self._instances]
            elif zone_id is not None:
                order = self._by_zone.get(zone_id, [])
            else:
                order = self._instance_order
            checks = instance_checks({k: v for k, v in filters.items() if k != "zoneId" or ids})
            if not checks:
                return len(order), [render(self._instances[i]) for i in page(order, page_num, page_size)]
            candidates = list(map(self._instances.__getitem__, order))
            for check in checks:  # one pass per filter: cheaper than all() over a generator
                candidates = [r for r in candidates if check(r)]
            return len(candidates), [render(r) for r in page(candidates, page_num, page_size)]

    def _require_instances(self, instance_ids: Sequence[str]) -> list[InstanceRecord]:
        """Every id must exist and be out of the recycle bin (checked for all before any change)."""
        missing = [i for i in instance_ids if i not in self._instances]
        if missing:
            raise InstanceNotFound(missing[0])
        records = [self._instances[i] for i in instance_ids]
        for record in records:
            if record.status in RECYCLED_STATES:
                raise OperationDenied(f"The instance `{record.instance_id}` is in the recycle bin.",
                                      code=errors.OPERATION_DENIED_INSTANCE_RECYCLED)
        return records

    def _power(self, instance_ids: Sequence[str], needed: str, denied_code: str, verb: str, during: str, after: str) -> None:
        """Move every instance from ``needed`` through ``during`` to ``after``; all or nothing."""
        with self._lock:
            self._settle()
            records = self._require_instances(instance_ids)
            for record in records:
                if record.status != needed:
                    raise OperationDenied(f"The instance `{record.instance_id}` is {record.status}; only {needed} instances can be {verb}.",
                                          code=denied_code)
            for record in records:
                self._set_status(record, during, then=after)
            self._changed()

    def start_instances(self, instance_ids: Sequence[str]) -> None:
        """STOPPED -> BOOTING -> RUNNING; all or nothing (every id is checked first)."""
        self._power(instance_ids, rules.STOPPED, errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED, "started", rules.BOOTING, rules.RUNNING)

    def stop_instances(self, instance_ids: Sequence[str], force_shutdown: bool = True) -> None:
        """RUNNING -> STOPPING -> STOPPED; all or nothing. ``force_shutdown`` changes nothing here."""
        self._power(instance_ids, rules.RUNNING, errors.OPERATION_DENIED_INSTANCE_NOT_RUNNING, "stopped", rules.STOPPING, rules.STOPPED)

    # ----------------------------------------------------------------------- images

    def _zone_images(self, zone_id: str) -> list[ImageRecord]:
        return [image for image in self._custom.values() if image.zone_id == zone_id]

    def describe_images(self, zone_id: str, filters: dict | None = None, page_num: int = 1, page_size: int = 20) -> tuple[int, list[ImageRecord]]:
        """Public images (in every zone) then the zone's custom images, filtered; 404 for an unknown zone."""
        filters = filters or {}
        with self._lock:
            self._settle()
            self._require_zone(zone_id)
            images = list(self._public.values()) + self._zone_images(zone_id)
            if filters.get("imageIds"):
                wanted = set(filters["imageIds"])
                images = [i for i in images if i.image_id in wanted]
            if "imageName" in filters:
                images = [i for i in images if name_matches(filters["imageName"], i.image_name)]
            for wire, attr in (("category", "category"), ("imageType", "image_type"), ("imageStatus", "status")):
                if wire in filters:
                    images = [i for i in images if getattr(i, attr) == filters[wire]]
            if "osType" in filters:
                images = [i for i in images if i.os_type.lower() == filters["osType"].lower()]
            return len(images), [copy.copy(i) for i in page(images, page_num, page_size)]

    def image_quota(self, zone_ids: Sequence[str] | None = None) -> list[tuple[str, int, int]]:
        """``(zoneId, count, maxCount)``: every zone that supports images when ``zone_ids`` is empty.

        A zone that refuses images (SIN-E, LAX-A) reports ``maxCount`` 0 when asked by name;
        an unknown zone is 404 ``INVALID_REGION_NOT_FOUND`` (as the reference documents).
        """
        with self._lock:
            if zone_ids:
                for zone_id in zone_ids:
                    self._require_zone(zone_id, errors.INVALID_REGION_NOT_FOUND)
                chosen = list(zone_ids)
            else:
                chosen = [z for z in self._zones if rules.zone_supports_images(z)]
            counts: dict[str, int] = {}
            for image in self._custom.values():
                counts[image.zone_id or ""] = counts.get(image.zone_id or "", 0) + 1
            return [
                (zone_id, counts.get(zone_id, 0), rules.IMAGE_QUOTA_PER_ZONE if rules.zone_supports_images(zone_id) else 0)
                for zone_id in chosen
            ]

    @staticmethod
    def _check_name_and_description(name: str | None, description: str | None) -> None:
        if name is not None:
            verdict = rules.validate_image_name(name)
            if not verdict.ok:
                raise InvalidParameter(verdict.message, code=errors.INVALID_IMAGE_NAME)
        if description is not None:
            verdict = rules.validate_image_description(description)
            if not verdict.ok:
                raise InvalidParameter(verdict.message, code=errors.INVALID_IMAGE_DESCRIPTION)

    def _name_taken(self, zone_id: str, name: str, ignore: set[str] = frozenset()) -> bool:  # type: ignore[assignment]
        if self.allow_duplicate_names:
            return False
        return any(i.image_name == name and i.image_id not in ignore for i in self._zone_images(zone_id))

    def create_image(self, instance_id: str, image_name: str, image_description: str | None = None) -> ImageRecord:
        """Image an instance's system disk. Checks, in order: name and description rules, the
        instance exists, the zone supports images, the disk is available (not in the recycle
        bin), it is not being imaged already, the instance is STOPPED, the zone's quota
        (CREATING images count), the name is unused in the zone."""
        with self._lock:
            self._settle()
            self._check_name_and_description(image_name, image_description)
            instance = self._instances.get(instance_id)
            if instance is None:
                raise InstanceNotFound(instance_id)
            zone_id = instance.zone_id
            if not rules.zone_supports_images(zone_id):
                raise UnsupportedOperation(f"Creating images is not supported in zone {zone_id}.",
                                           code=errors.UNSUPPORTED_OPERATION_ZONE_NOT_SUPPORT)
            if instance.status in DISK_UNAVAILABLE_STATES:
                raise UnsupportedOperation(f"The system disk of instance `{instance_id}` is unavailable ({instance.status}).",
                                           code=errors.UNSUPPORTED_OPERATION_DISK_UNAVAILABLE)
            if instance.status == rules.IMAGING:
                raise UnsupportedOperation(f"The system disk of instance `{instance_id}` is already being imaged.",
                                           code=errors.UNSUPPORTED_OPERATION_DISK_MAKING_IMAGE)
            if instance.status != rules.STOPPED:
                raise UnsupportedOperation(f"The instance `{instance_id}` is {instance.status}; shut it down before creating an image.",
                                           code=errors.UNSUPPORTED_OPERATION_INSTANCE_STATE_STARTING)
            used = len(self._zone_images(zone_id))
            if used >= rules.IMAGE_QUOTA_PER_ZONE:
                raise ImageQuotaExceeded(f"Zone {zone_id} already has {used} of {rules.IMAGE_QUOTA_PER_ZONE} custom images.")
            if self._name_taken(zone_id, image_name):
                raise ImageNameDuplicate(f"An image named `{image_name}` already exists in zone {zone_id}.")
            image = custom_image(self._ids, image_name, instance, self._public.get(instance.image_id),
                                 image_description, rules.CREATING)
            if self._fail_next_image:
                image.final_status, self._fail_next_image = rules.UNAVAILABLE, False
            self._custom[image.image_id] = image
            self._set_status(instance, rules.IMAGING)
            self._schedule("image", image.image_id)
            self._changed()
            return copy.copy(image)

    def _require_custom_images(self, image_ids: Sequence[str]) -> list[ImageRecord]:
        """Every id must be a custom image that is not CREATING (checked for all before any change)."""
        records = []
        for image_id in image_ids:
            public = self._public.get(image_id)
            if public is not None:
                raise InvalidImageStatus(f"The image `{image_id}` is a public image and cannot be changed.")
            record = self._custom.get(image_id)
            if record is None:
                raise ImageNotFound(image_id)
            if record.status == rules.CREATING:
                raise InvalidImageStatus(f"The image `{image_id}` is still CREATING; wait until it is AVAILABLE.")
            records.append(record)
        return records

    def delete_images(self, image_ids: Sequence[str]) -> None:
        """Delete custom images (frees quota); all or nothing."""
        with self._lock:
            self._settle()
            for record in self._require_custom_images(image_ids):
                del self._custom[record.image_id]
            self._changed()

    def modify_images(self, image_ids: Sequence[str], image_name: str | None = None, image_description: str | None = None) -> None:
        """Give every listed custom image this name and/or description; all or nothing."""
        with self._lock:
            self._settle()
            self._check_name_and_description(image_name, image_description)
            records = self._require_custom_images(image_ids)
            if image_name is not None:
                zones = [r.zone_id or "" for r in records]
                for zone_id in zones:
                    if zones.count(zone_id) > 1 or self._name_taken(zone_id, image_name, ignore=set(image_ids)):
                        raise ImageNameDuplicate(f"An image named `{image_name}` would exist twice in zone {zone_id}.")
            for record in records:
                if image_name is not None:
                    record.image_name = image_name
                if image_description is not None:
                    record.description = image_description
            self._changed()

    def describe_image(self, image_id: str) -> ImageRecord:
        """One image by id (DescribeImage), public or custom; 404 INVALID_IMAGE_NOT_FOUND."""
        with self._lock:
            self._settle()
            image = self._public.get(image_id) or self._custom.get(image_id)
            if image is None:
                raise ImageNotFound(image_id)
            return copy.copy(image)

    # ------------------------------------------------ launching, restoring, the recycle bin

    def instance_types(self, zone_id: str | None = None, instance_type: str | None = None) -> list[InstanceTypeRecord]:
        """The instance types of one zone (404 for an unknown zone) or of every zone, optionally one type only."""
        with self._lock:
            zones = [self._require_zone(zone_id).zone_id] if zone_id is not None else list(self._zones)
        types = [t for zone in zones for t in instance_types(zone)]
        return [t for t in types if instance_type is None or t.instance_type == instance_type]

    def instance_type(self, zone_id: str, instance_type: str) -> InstanceTypeRecord:
        """One instance type of a zone (404 INVALID_ZONE_NOT_FOUND / INVALID_INSTANCE_TYPE_NOT_FOUND)."""
        with self._lock:
            return self._require_type(zone_id, instance_type)

    def _require_type(self, zone_id: str, instance_type: str) -> InstanceTypeRecord:
        self._require_zone(zone_id)
        for offered in instance_types(zone_id):
            if offered.instance_type == instance_type:
                return offered
        raise InstanceTypeNotFound(instance_type, zone_id)

    def _require_boot_image(self, image_id: str, zone_id: str, disk_size: int | None) -> ImageRecord:
        """An AVAILABLE public image or custom image of ``zone_id`` that fits a ``disk_size`` GB system disk."""
        image = self._public.get(image_id) or self._custom.get(image_id)
        if image is None:
            raise ImageNotFound(image_id)
        if image.zone_id not in (None, zone_id):
            raise NotFound(f"The image `{image_id}` is not found in zone {zone_id} (it is in {image.zone_id}).",
                           code=errors.INVALID_IMAGE_NOT_FOUND)
        if image.status != rules.AVAILABLE:
            raise InvalidImageStatus(f"The image `{image_id}` is {image.status}; only AVAILABLE images can be used.")
        if disk_size is not None and disk_size < image.size_gb:
            raise InvalidParameter(f"The system disk ({disk_size} GB) is smaller than the image `{image_id}` ({image.size_gb} GB).",
                                   code=errors.INVALID_SYSTEM_DISK_SIZE)
        return image

    @staticmethod
    def _names(name: str, count: int) -> list[str]:
        """``count`` instance names: the pattern ``stem_[begin,bits]`` numbered, any other name repeated."""
        match = NAME_PATTERN.match(name)
        if match is None:
            return [name] * count
        begin, bits = int(match["begin"]), int(match["bits"])
        return [f"{match['stem']}{str(begin + n).zfill(bits)}" for n in range(count)]

    def _wall_time(self) -> str:
        return datetime.fromtimestamp(time.time() + self._offset, timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")

    def create_instances(self, spec: LaunchSpec) -> tuple[str, list[str]]:
        """Launch ``spec.instance_count`` instances: ``(orderNumber, instance ids)``; each is PENDING, then
        DEPLOYING, then RUNNING (CREATE_FAILED for the first one after the ``boot_failure`` fault).
        Checks, in order: the zone, the instance type in it, the image (AVAILABLE, public or of the zone,
        fitting the system disk)."""
        with self._lock:
            self._settle()
            offered = self._require_type(spec.zone_id, spec.instance_type)
            image = self._require_boot_image(spec.image_id, spec.zone_id, spec.system_disk_size)
            zone_index = list(self._zones).index(spec.zone_id)
            ids: list[str] = []
            for name in self._names(spec.instance_name, spec.instance_count):
                number = len(self._instance_order) + 1
                disk_id = self._ids.disk_id()
                record = InstanceRecord(
                    instance_id=self._ids.instance_id(), instance_name=name, zone_id=spec.zone_id, status=A.PENDING,
                    instance_type=offered.instance_type, cpu_count=offered.cpu_count, memory=offered.memory,
                    image_id=image.image_id, image_name=image.image_name, system_disk_id=disk_id,
                    system_disk_size=spec.system_disk_size or max(image.size_gb, 20), system_disk_category=spec.system_disk_category,
                    public_ips=[f"198.51.{100 + number // 250 % 100}.{number % 250 + 1}"],
                    private_ips=[f"10.{zone_index}.{200 + number // 250 % 50}.{number % 250 + 2}"],
                    subnet_id=spec.subnet_id or f"subnet-{spec.zone_id.lower()}-default",
                    security_group_ids=[spec.security_group_id or f"sg-{spec.zone_id.lower()}-default"],
                    key_id=spec.key_id, create_time=self._wall_time(), instance_charge_type=spec.instance_charge_type,
                    internet_charge_type=spec.internet_charge_type, internet_max_bandwidth_out=spec.internet_max_bandwidth_out,
                    resource_group_id=spec.resource_group_id or "rg-default", tags=list(spec.tags),
                    data_disks=[(f"{disk_id}-d{n}", size, category) for n, (size, category) in enumerate(spec.data_disks, 1)],
                    period=spec.period,
                )
                if self._fail_next_boot:
                    record.boot_failure, self._fail_next_boot = True, False
                self._instances[record.instance_id] = record
                self._instance_order.append(record.instance_id)
                self._by_zone.setdefault(spec.zone_id, []).append(record.instance_id)
                self._set_status(record, A.PENDING, then=A.DEPLOYING)
                ids.append(record.instance_id)
            self._changed()
            return self._ids.order_number(), ids

    def _require_instance(self, instance_id: str) -> InstanceRecord:
        """One instance out of the recycle bin (404 / 403 otherwise)."""
        return self._require_instances([instance_id])[0]

    def reset_instance(self, instance_id: str, image_id: str | None = None, key_id: str | None = None,
                       instance_name: str | None = None) -> None:
        """Rebuild a STOPPED instance's system disk from ``image_id`` (default: its current image):
        REBUILDING, then RUNNING on that image. The image must be AVAILABLE, public or of the
        instance's zone, and fit its system disk. ``key_id`` None: a password login (never kept)."""
        with self._lock:
            self._settle()
            instance = self._require_instance(instance_id)
            if instance.status != A.STOPPED:
                raise OperationDenied(f"The instance `{instance_id}` is {instance.status}; only STOPPED instances can be reset.",
                                      code=errors.OPERATION_DENIED_INSTANCE_NOT_STOPPED)
            image = self._require_boot_image(image_id or instance.image_id, instance.zone_id, instance.system_disk_size)
            instance.image_id, instance.image_name, instance.key_id = image.image_id, image.image_name, key_id
            if instance_name is not None:
                instance.instance_name = instance_name
            self._set_status(instance, A.REBUILDING, then=A.RUNNING)
            self._changed()

    def terminate_instance(self, instance_id: str) -> None:
        """Move a RUNNING, STOPPED or CREATE_FAILED instance to the recycle bin: RECYCLING, then RECYCLE."""
        with self._lock:
            self._settle()
            instance = self._require_instance(instance_id)
            if instance.status not in TERMINABLE_STATES:
                raise OperationDenied(f"The instance `{instance_id}` is {instance.status}; wait until the operation under way ends.",
                                      code=errors.OPERATION_DENIED_INSTANCE_OPERATING)
            self._set_status(instance, A.RECYCLING, then=A.RECYCLE)
            self._changed()

    def release_instances(self, instance_ids: Sequence[str]) -> None:
        """Remove instances in the recycle bin (RECYCLE or RECYCLING) for good; all or nothing."""
        with self._lock:
            self._settle()
            missing = [i for i in instance_ids if i not in self._instances]
            if missing:
                raise InstanceNotFound(missing[0])
            for instance_id in instance_ids:
                status = self._instances[instance_id].status
                if status not in RECYCLED_STATES:
                    raise OperationDenied(f"The instance `{instance_id}` is {status}; only instances in the recycle bin can be released.",
                                          code=errors.OPERATION_DENIED_INSTANCE_NOT_RECYCLED)
            gone = set(instance_ids)
            for instance_id in gone:
                record = self._instances.pop(instance_id)
                self._by_zone[record.zone_id].remove(instance_id)
            self._instance_order = [i for i in self._instance_order if i not in gone]
            self._changed()
