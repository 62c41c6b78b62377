"""The responses layer of launching, restoring and the recycle bin (reference section 9).

Each handler ``(backend, body, version)`` checks its parameters (types, ranges, the reference's
rules for names, tags, charge types, passwords and keys) and calls the backend, which checks
what depends on the state (zone, instance type, image, the instance's status). A password is
checked and then forgotten: it is never stored, rendered or logged.
"""

from __future__ import annotations

import re
from typing import Any

from ..api import vocabulary as A
from .backend import EmulatorBackend
from .exceptions import InvalidParameter, MissingParameter
from .params import Param, parse_nested, parse_params
from .pricing import launch_prices
from .records import InstanceTypeRecord, LaunchSpec

#: instanceName: letters, digits, ``-`` and ``.`` (``stem_[begin,bits]`` numbers several instances).
NAME = re.compile(r"^[A-Za-z0-9.-]+$")
NAME_PATTERN_SUFFIX = re.compile(r"_\[\d+,\d+\]$")
DISK_CATEGORIES = ("SSD", "STANDARD")
MIN_SYSTEM_DISK_GB, MAX_SYSTEM_DISK_GB = 20, 2048
MAX_DATA_DISKS, MAX_DATA_DISK_GB = 10, 16384
MAX_PREPAID_MONTHS = 36
MAX_BANDWIDTH_MBPS = 10000

CHARGE = (Param("instanceChargeType", required=True, nonempty=True), Param("instanceChargePrepaid", "object"))
NETWORK = (Param("internetChargeType"), Param("internetMaxBandwidthOut", "int", minimum=0, maximum=MAX_BANDWIDTH_MBPS),
           Param("trafficPackageSize", "int", minimum=0))
DISKS = (Param("systemDisk", "object"), Param("dataDisks", "object_list", max_items=MAX_DATA_DISKS))
LOGIN = (Param("password"), Param("keyId"))
CREATE = (
    Param("zoneId", required=True, nonempty=True), Param("instanceType", required=True, nonempty=True),
    Param("imageId", required=True, nonempty=True), Param("instanceName"), Param("resourceGroupId"),
    Param("instanceCount", "int", minimum=1, maximum=A.MAX_INSTANCE_COUNT), Param("subnetId"), Param("securityGroupId"),
    Param("initScript"), Param("enableIpv4", "bool"), Param("enableIpv6", "bool"), Param("tags", "object"),
) + CHARGE + NETWORK + DISKS + LOGIN


def _one_of(value: str, allowed: tuple[str, ...], name: str) -> str:
    if value not in allowed:
        raise InvalidParameter(f"The parameter `{name}` must be one of {', '.join(allowed)}; got {value!r}.")
    return value


def _charge(params: dict[str, Any]) -> tuple[str, int | None]:
    """``(instanceChargeType, months)``: PREPAID needs ``instanceChargePrepaid.period``."""
    charge = _one_of(params["instanceChargeType"], A.INSTANCE_CHARGE_TYPES, "instanceChargeType")
    if charge != A.PREPAID:
        return charge, None
    prepaid = parse_nested(params.get("instanceChargePrepaid") or {}, "instanceChargePrepaid",
                           (Param("period", "int", required=True, minimum=1, maximum=MAX_PREPAID_MONTHS),))
    return charge, prepaid["period"]


def _disk(item: dict[str, Any], name: str, low: int, high: int, required: bool) -> tuple[int | None, str]:
    disk = parse_nested(item, name, (Param("diskSize", "int", required=required, minimum=low, maximum=high), Param("diskCategory")))
    return disk.get("diskSize"), _one_of(disk.get("diskCategory", "SSD"), DISK_CATEGORIES, f"{name}.diskCategory")


def _disks(params: dict[str, Any]) -> tuple[int | None, str, list[tuple[int, str]]]:
    """``(system disk GB or None, its category, [(data disk GB, category)])``."""
    size, category = _disk(params.get("systemDisk") or {}, "systemDisk", MIN_SYSTEM_DISK_GB, MAX_SYSTEM_DISK_GB, False)
    data = [_disk(item, "dataDisks", MIN_SYSTEM_DISK_GB, MAX_DATA_DISK_GB, True) for item in params.get("dataDisks", [])]
    return size, category, [(int(s or 0), c) for s, c in data]


def _tags(association: dict[str, Any]) -> list[tuple[str, str]]:
    """The nested ``TagAssociation`` ``{"tags": [{key, value}]}``: keys 1-64 characters and unique."""
    tags = parse_nested(association, "tags", (Param("tags", "tags", max_items=A.MAX_TAGS),)).get("tags", [])
    check_tags(tags)
    return tags


def check_tags(tags: list[tuple[str, str]]) -> None:
    """Keys 1-64 characters and unique; values at most 64 characters."""
    for key, value in tags:
        if not 1 <= len(key) <= A.MAX_TAG_LENGTH or len(value) > A.MAX_TAG_LENGTH:
            raise InvalidParameter(f"Tag keys must be 1-{A.MAX_TAG_LENGTH} characters and values at most "
                                   f"{A.MAX_TAG_LENGTH}; got key {key[:80]!r}.")
    keys = [key for key, _ in tags]
    if len(set(keys)) != len(keys):
        raise InvalidParameter("Tag keys must be unique.")


def _name(params: dict[str, Any]) -> str:
    name = params.get("instanceName") or f"{params['zoneId'].lower()}-instance"
    stem = NAME_PATTERN_SUFFIX.sub("", name)
    if len(name) > A.MAX_INSTANCE_NAME_LENGTH or not NAME.match(stem):
        raise InvalidParameter(f"The parameter `instanceName` must be at most {A.MAX_INSTANCE_NAME_LENGTH} letters, digits, "
                               "`-` and `.` (or `name_[begin,bits]` to number several).")
    return name


def _login(params: dict[str, Any]) -> str | None:
    """Exactly one of ``password`` and ``keyId``; returns the key id (the password is dropped here)."""
    given = [name for name in ("password", "keyId") if params.get(name)]
    if len(given) != 1:
        problem = "both were given" if given else "neither was given"
        raise (InvalidParameter if given else MissingParameter)(f"Give exactly one of `password` and `keyId`; {problem}.")
    return params.get("keyId")


def _network(params: dict[str, Any]) -> tuple[str, int]:
    charge = _one_of(params.get("internetChargeType", "ByBandwidth"), A.INTERNET_CHARGE_TYPES, "internetChargeType")
    return charge, params.get("internetMaxBandwidthOut", 1)


def create_instances(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, CREATE)
    charge, period = _charge(params)
    internet, bandwidth = _network(params)
    disk_size, disk_category, data_disks = _disks(params)
    init_script = params.get("initScript") or ""
    if len(init_script.encode("utf-8")) > A.MAX_INIT_SCRIPT_BYTES:
        raise InvalidParameter(f"The parameter `initScript` is over {A.MAX_INIT_SCRIPT_BYTES // 1024} KB.")
    spec = LaunchSpec(
        zone_id=params["zoneId"], instance_type=params["instanceType"], image_id=params["imageId"], instance_name=_name(params),
        instance_count=params.get("instanceCount", 1), instance_charge_type=charge, period=period,
        internet_charge_type=internet, internet_max_bandwidth_out=bandwidth, subnet_id=params.get("subnetId"),
        security_group_id=params.get("securityGroupId"), resource_group_id=params.get("resourceGroupId"),
        key_id=_login(params), system_disk_size=disk_size, system_disk_category=disk_category, data_disks=data_disks,
        tags=_tags(params.get("tags") or {}),
    )
    order, ids = backend.create_instances(spec)
    return {"orderNumber": order, "instanceIdSet": ids}


def _type_wire(offered: InstanceTypeRecord) -> dict[str, Any]:
    return {
        "zoneId": offered.zone_id, "instanceType": offered.instance_type, "cpuCount": offered.cpu_count,
        "memory": offered.memory, "frequency": offered.frequency,
        "internetMaxBandwidthOutLimit": offered.internet_max_bandwidth_out_limit,
        "instanceTypeName": f"{offered.cpu_count} vCPU {offered.memory} GiB",
        "internetChargeTypes": ["ByBandwidth", "ByTrafficPackage"],
    }


def describe_zone_instance_config_infos(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("instanceChargeType"), Param("zoneId"), Param("instanceType")))
    if "instanceChargeType" in params:
        _one_of(params["instanceChargeType"], A.INSTANCE_CHARGE_TYPES, "instanceChargeType")
    offered = backend.instance_types(params.get("zoneId"), params.get("instanceType"))
    return {"instanceTypeQuotaSet": [_type_wire(t) for t in offered]}


def inquiry_price_create_instance(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("zoneId", required=True, nonempty=True), Param("instanceType", required=True, nonempty=True))
                          + CHARGE + NETWORK + DISKS)
    charge, period = _charge(params)
    internet, bandwidth = _network(params)
    disk_size, _, data_disks = _disks(params)
    offered = backend.instance_type(params["zoneId"], params["instanceType"])
    return launch_prices(offered, charge, period, internet, bandwidth, disk_size or MIN_SYSTEM_DISK_GB, [s for s, _ in data_disks])


def reset_instance(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("instanceId", required=True, nonempty=True), Param("imageId"), Param("instanceName"),
                                 Param("wanName"), Param("lanName"), Param("initScript")) + LOGIN)
    key_id = _login(params)
    name = params.get("instanceName")
    if name is not None and (len(name) > A.MAX_INSTANCE_NAME_LENGTH or not NAME.match(name)):
        raise InvalidParameter(f"The parameter `instanceName` must be at most {A.MAX_INSTANCE_NAME_LENGTH} letters, digits, `-` and `.`.")
    backend.reset_instance(params["instanceId"], params.get("imageId") or None, key_id, name)
    return {}


def terminate_instance(backend: EmulatorBackend, body: dict, version: str) -> dict:
    backend.terminate_instance(parse_params(body, (Param("instanceId", required=True, nonempty=True),))["instanceId"])
    return {}


def release_instances(backend: EmulatorBackend, body: dict, version: str) -> dict:
    backend.release_instances(parse_params(body, (Param("instanceIds", "str_list", required=True, nonempty=True),))["instanceIds"])
    return {}
