"""The responses layer: parse each action's parameters, call the backend, render wire objects.

:func:`resolve` picks an action's handler; a handler ``(backend, body, version)`` returns the inner
``response`` object without its ``requestId`` (the pipeline adds the envelope) or raises a named
:class:`~.exceptions.EmulatorError`. :func:`render_success` / :func:`render_failure` write the bytes.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..api import vocabulary as A
from . import launch
from .backend import EmulatorBackend
from .exceptions import EmulatorError, InvalidAction, InvalidVersion, MissingParameter
from .joined import PAGES
from .params import PAGE, Param, page_of, parse_params
from .records import ImageRecord, InstanceRecord, ZoneRecord

VERSION_2023, VERSION_2026 = A.VERSION_2023, A.VERSION_2026
VERSIONS = A.API_VERSIONS
#: The version assumed when X-ZC-Version is absent (the bearer-token curl example sends none).
DEFAULT_VERSION = VERSION_2026


def zone_wire(zone: ZoneRecord, version: str) -> dict[str, Any]:
    wire: dict[str, Any] = {
        "zoneId": zone.zone_id,
        "zoneName": zone.zone_name,
        "supportSecurityGroup": zone.support_security_group,
        "supportNetworkType": zone.support_network_type,
        "supportIpv6": zone.support_ipv6,
        "supportCpuPassThrough": zone.support_cpu_pass_through,
    }
    if version != VERSION_2023:
        wire["networkLineType"] = zone.network_line_type
    return wire


def instance_wire(record: InstanceRecord) -> dict[str, Any]:
    return {
        "instanceId": record.instance_id,
        "zoneId": record.zone_id,
        "instanceName": record.instance_name,
        "instanceType": record.instance_type,
        "cpuCount": record.cpu_count,
        "memory": record.memory,
        "imageId": record.image_id,
        "imageName": record.image_name,
        "instanceChargeType": record.instance_charge_type,
        "internetMaxBandwidthOut": record.internet_max_bandwidth_out,
        "internetChargeType": record.internet_charge_type,
        "period": record.period,
        "publicIpAddresses": list(record.public_ips),
        "publicIpv6Addresses": list(record.public_ipv6),
        "privateIpAddresses": list(record.private_ips),
        "subnetId": record.subnet_id,
        "createTime": record.create_time,
        "expiredTime": record.expired_time,
        "resourceGroupId": record.resource_group_id,
        "resourceGroupName": record.resource_group_name,
        "instanceStatus": record.status,
        "trafficPackageSize": None,
        "securityGroupIds": list(record.security_group_ids),
        "systemDisk": {"diskId": record.system_disk_id, "diskSize": record.system_disk_size, "diskCategory": record.system_disk_category},
        "dataDisks": [{"diskId": d, "diskSize": size, "diskName": f"{record.instance_name}-data-{n}", "diskCategory": category,
                       "portable": True} for n, (d, size, category) in enumerate(record.data_disks, 1)],
        "autoRenew": record.auto_renew,
        "keyId": record.key_id,
        "nic": {"wanName": "eth0", "lanName": "eth1"},
        "tags": {"tags": [{"key": k, "value": v} for k, v in record.tags]},
    }


def instance_json(record: InstanceRecord) -> bytes:
    """An instance as compact ASCII JSON, cached on the record until its next change of state."""
    if record.cached_json is None:
        record.cached_json = compact_json(instance_wire(record)).encode("ascii")
    return record.cached_json


class RawJsonArray(list):
    """A list of already-serialized JSON values (ASCII bytes), spliced into the response as an array."""


def compact_json(document: Any) -> str:
    return json.dumps(document, ensure_ascii=True, separators=(",", ":"))


def render_success(request_id: str, fields: dict[str, Any]) -> bytes:
    """``{"requestId": id, "response": {"requestId": id, ...fields}}`` as ASCII JSON bytes.

    A :class:`RawJsonArray` field (a page of 1,000 instances: 900 KB) is joined as bytes (once while its
    rows stay the same: :mod:`.joined`) and the body put together in one more copy: built as text, the
    same body took 1.7 ms (every resize of a string that size meets fresh pages).
    """
    raw = {key: value for key, value in fields.items() if isinstance(value, RawJsonArray)}
    inner = compact_json({"requestId": request_id, **{k: v for k, v in fields.items() if k not in raw}})
    head = f'{{"requestId":{compact_json(request_id)},"response":'.encode("ascii")
    if not raw:
        return head + inner.encode("ascii") + b"}"
    parts = [head, inner[:-1].encode("ascii")]
    for key, value in raw.items():
        parts += [f",{compact_json(key)}:[".encode("ascii"), PAGES.join(value), b"]"]
    parts.append(b"}}")
    return b"".join(parts)


def render_failure(request_id: str, failure: EmulatorError) -> bytes:
    """The flat error body ``{requestId, code, message}``."""
    return compact_json({"requestId": request_id, "code": failure.code, "message": failure.message}).encode("ascii")


def image_wire(image: ImageRecord) -> dict[str, Any]:
    return {
        "imageId": image.image_id,
        "imageName": image.image_name,
        "imageType": image.image_type,
        "imageSize": str(image.size_gb),
        "imageDescription": image.description,
        "imageVersion": image.image_version,
        "imageStatus": image.status,
        "category": image.category,
        "osType": image.os_type,
    }


IDS = Param("instanceIds", "str_list")
REQUIRED_IDS = Param("instanceIds", "str_list", required=True, nonempty=True)
REQUIRED_IMAGE_IDS = Param("imageIds", "str_list", required=True, nonempty=True)
INSTANCE_FILTERS = (
    IDS, Param("zoneId"), Param("resourceGroupId"), Param("instanceType"), Param("internetChargeType"),
    Param("imageId"), Param("keyId"), Param("subnetId"), Param("instanceStatus"), Param("instanceName"),
    Param("securityGroupId"), Param("publicIpAddresses", "str_list"), Param("privateIpAddresses", "str_list"),
    Param("tagKeys", "str_list", max_items=20), Param("tags", "tags", max_items=20),
)
IMAGE_FILTERS = (
    Param("imageIds", "str_list"), Param("imageName"), Param("category"), Param("imageType"),
    Param("osType"), Param("imageStatus"),
)


def _describe_zones(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("zoneIds", "str_list"),))
    return {"zoneSet": [zone_wire(z, version) for z in backend.describe_zones(params.get("zoneIds"))]}


def _describe_instances(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, INSTANCE_FILTERS + PAGE)
    page_num, page_size = page_of(params)
    total, rendered = backend.describe_instances(params, page_num, page_size, render=instance_json)
    return {"totalCount": total, "dataSet": RawJsonArray(rendered)}


def _describe_instances_status(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (IDS,) + PAGE)
    page_num, page_size = page_of(params)
    filters = {"instanceIds": params["instanceIds"]} if params.get("instanceIds") else {}
    total, rows = backend.describe_instances(filters, page_num, page_size, render=_status_row)
    return {"totalCount": total, "dataSet": rows}


def _status_row(record: InstanceRecord) -> dict[str, str]:
    return {"instanceId": record.instance_id, "instanceStatus": record.status}


def _start_instances(backend: EmulatorBackend, body: dict, version: str) -> dict:
    backend.start_instances(parse_params(body, (REQUIRED_IDS,))["instanceIds"])
    return {}


def _stop_instances(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (REQUIRED_IDS, Param("forceShutdown", "bool")))
    backend.stop_instances(params["instanceIds"], params.get("forceShutdown", True))
    return {}


def _describe_images(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("zoneId", required=True, nonempty=True),) + IMAGE_FILTERS + PAGE)
    page_num, page_size = page_of(params)
    total, images = backend.describe_images(params["zoneId"], params, page_num, page_size)
    return {"totalCount": total, "dataSet": [image_wire(i) for i in images]}


def _describe_image_quota(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("zoneIds", "str_list"),))
    quotas = backend.image_quota(params.get("zoneIds"))
    return {"images": [{"zoneId": z, "count": c, "maxCount": m} for z, c, m in quotas]}


def _create_image(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (Param("instanceId", required=True), Param("imageName", required=True), Param("imageDescription")))
    image = backend.create_image(params["instanceId"], params["imageName"], params.get("imageDescription"))
    return {"imageId": image.image_id}


def _delete_images(backend: EmulatorBackend, body: dict, version: str) -> dict:
    backend.delete_images(parse_params(body, (REQUIRED_IMAGE_IDS,))["imageIds"])
    return {}


def _modify_images(backend: EmulatorBackend, body: dict, version: str) -> dict:
    params = parse_params(body, (REQUIRED_IMAGE_IDS, Param("imageName"), Param("imageDescription")))
    if "imageName" not in params and "imageDescription" not in params:
        raise MissingParameter("Give `imageName`, `imageDescription` or both.")
    backend.modify_images(params["imageIds"], params.get("imageName"), params.get("imageDescription"))
    return {}


def _describe_image(backend: EmulatorBackend, body: dict, version: str) -> dict:
    """DescribeImage (the Go SDK's singular action): the image's fields beside the requestId (our reading)."""
    image = backend.describe_image(parse_params(body, (Param("imageId", required=True, nonempty=True),))["imageId"])
    return {**image_wire(image), "zoneId": image.zone_id}


Handler = Callable[[EmulatorBackend, dict, str], dict]

ACTIONS: dict[str, Handler] = {
    A.DESCRIBE_ZONES: _describe_zones,
    A.DESCRIBE_INSTANCES: _describe_instances,
    A.DESCRIBE_INSTANCES_STATUS: _describe_instances_status,
    A.START_INSTANCES: _start_instances,
    A.STOP_INSTANCES: _stop_instances,
    A.DESCRIBE_IMAGES: _describe_images,
    A.DESCRIBE_IMAGE_QUOTA: _describe_image_quota,
    A.CREATE_IMAGE: _create_image,
    A.DELETE_IMAGES: _delete_images,
    A.MODIFY_IMAGES_ATTRIBUTES: _modify_images,
    A.DESCRIBE_IMAGE: _describe_image,
    A.CREATE_INSTANCES: launch.create_instances,
    A.DESCRIBE_ZONE_INSTANCE_CONFIG_INFOS: launch.describe_zone_instance_config_infos,
    A.INQUIRY_PRICE_CREATE_INSTANCE: launch.inquiry_price_create_instance,
    A.RESET_INSTANCE: launch.reset_instance,
    A.TERMINATE_INSTANCE: launch.terminate_instance,
    A.RELEASE_INSTANCES: launch.release_instances,
}


def resolve(action: str | None, version: str | None) -> tuple[Handler, str]:
    """The handler and the API version for these headers; 400 INVALID_ACTION / INVALID_VERSION."""
    version = version or DEFAULT_VERSION
    if version not in VERSIONS:
        raise InvalidVersion(f"X-ZC-Version must be one of {', '.join(VERSIONS)}.")
    if not action:
        raise InvalidAction("The header X-ZC-Action is missing.")
    handler = ACTIONS.get(action)
    if handler is None:
        raise InvalidAction("The action in X-ZC-Action is not supported by the vm service emulator.")
    return handler, version
