"""Benchmark 1: the inventory load, ours (two rounds of concurrent requests) vs the official SDK's loop.

Against ``python -m zenlayer_widgets.emulator --instances 2000 --latency-ms 50`` (12 zones), rounds
alternate: a fresh :class:`ZenlayerClient`'s first :func:`load_inventory` (cold: new async twin, new
connections), its second call (warm, what an operator reopening the studio gets), then the official
SDK doing the same job in a plain sequential loop (pageSize 1000; DescribeZones, every
DescribeInstances page, DescribeImages CUSTOM_IMAGE per zone, DescribeImageQuota). The floor is two
sequential small requests on a warm connection of our client. ``python -m benchmarks.inventory_load``.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from typing import Any

from zenlayercloud.common.config import Config
from zenlayercloud.common.credential import Credential
from zenlayercloud.vm.v20230313 import models as sdk
from zenlayercloud.vm.v20230313.vm_client import VmClient

from zenlayer_widgets import rules
from zenlayer_widgets._runner import run_sync
from zenlayer_widgets.api import Credentials, ZenlayerClient
from zenlayer_widgets.core.inventory import Inventory, load_inventory

from .common import EmulatorProcess, Result, emulator_process, median, ms

PAGE_SIZE = 1000


@dataclass(frozen=True)
class Snapshot:
    """What both loaders must agree on: instance states, images and quota."""

    instances: frozenset[tuple[str, str]]
    images: frozenset[tuple[str, str, str, str]]
    quota: frozenset[tuple[str, int, int]]
    requests: int

    def differences(self, other: Snapshot) -> list[str]:
        return [
            f"{what}: {len(mine - theirs)} only in ours, {len(theirs - mine)} only in the SDK's"
            for what, mine, theirs in (
                ("instances (id, state)", self.instances, other.instances),
                ("images (zone, id, name, status)", self.images, other.images),
                ("quota (zone, used, max)", self.quota, other.quota),
            )
            if mine != theirs
        ]


def ours_snapshot(inventory: Inventory) -> Snapshot:
    frame = inventory.instances
    images = inventory.images
    quota = inventory.quota
    return Snapshot(
        instances=frozenset(zip(frame["instance_id"], frame["power_state"], strict=True)),
        images=frozenset(zip(images["zone"], images["image_id"], images["name"], images["status"], strict=True)),
        quota=frozenset(zip(quota["zone"], quota["used"].astype(int), quota["max"].astype(int), strict=True)),
        requests=inventory.requests,
    )


# -- the official SDK, as a user would write it ----------------------------------------------
class CountingVmClient(VmClient):
    """The SDK's ``VmClient`` that counts the HTTP requests it sends."""

    def __init__(self, credential: Credential, config: Config) -> None:
        super().__init__(credential, config)
        self.request_count = 0
        send = self.proxy.request

        def counted(req: Any) -> Any:
            self.request_count += 1
            return send(req)

        self.proxy.request = counted  # type: ignore[method-assign]


def sdk_client(emulator: EmulatorProcess) -> CountingVmClient:
    credential = Credential(emulator.access_key_id, emulator.access_key_password)
    return CountingVmClient(credential, Config(scheme="http", domain=emulator.host_port))


def _pages(call: Any, request: Any) -> list[Any]:
    """Every item of a paged Describe* call, page by page (pageSize 1000)."""
    items: list[Any] = []
    request.pageSize, request.pageNum = PAGE_SIZE, 1
    while True:
        response = call(request)
        items += response.dataSet or []
        if not response.dataSet or len(items) >= (response.totalCount or 0):
            return items
        request.pageNum += 1


def sdk_load(client: CountingVmClient) -> Snapshot:
    """Zones, every instance, every zone's custom images and the quota: one call after another."""
    before = client.request_count
    zones = [zone.zoneId for zone in client.DescribeZones(sdk.DescribeZonesRequest()).zoneSet]
    instances = _pages(client.DescribeInstances, sdk.DescribeInstancesRequest())
    images = []
    for zone in zones:
        request = sdk.DescribeImagesRequest()
        request.zoneId, request.imageType = zone, rules.CUSTOM_IMAGE
        images += [(zone, i.imageId, i.imageName, i.imageStatus) for i in _pages(client.DescribeImages, request)]
    request = sdk.DescribeImageQuotaRequest()
    request.zoneIds = zones
    quota = client.DescribeImageQuota(request).images
    return Snapshot(
        instances=frozenset((i.instanceId, i.instanceStatus) for i in instances),
        images=frozenset(images),
        quota=frozenset((q.zoneId, int(q.count), int(q.maxCount)) for q in quota),
        requests=client.request_count - before,
    )


# -- the floor -------------------------------------------------------------------------------
async def _two_round_trips(owner: ZenlayerClient, repeats: int) -> tuple[list[float], list[float]]:
    """Times of one small request and of two sequential ones, on a warm connection (the async
    counterpart ``load_inventory`` uses)."""
    client = owner.async_client()
    await client.describe_zones()  # warm the connection
    singles, pairs = [], []
    for _ in range(repeats):
        start = time.perf_counter()
        await client.describe_zones()
        middle = time.perf_counter()
        await client.describe_zones()
        pairs.append(time.perf_counter() - start)
        singles.append(middle - start)
    return singles, pairs


def _timed_load(client: ZenlayerClient, cpu: list[float] | None = None) -> tuple[float, Inventory]:
    """Wall time of one ``load_inventory``; its CPU time (this process) is appended to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    inventory = load_inventory(client)
    _ = inventory.instances, inventory.images, inventory.quota  # the tables are built on first use: part of a load
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start, inventory


def run(*, quick: bool = False, instances: int | None = None, rounds: int | None = None, latency_ms: float = 50) -> Result:
    """Alternate ours (cold, warm) and the SDK for ``rounds`` rounds; report medians and targets."""
    instances = instances if instances is not None else (300 if quick else 2000)
    rounds = rounds if rounds is not None else (1 if quick else 7)
    result = Result("inventory", f"1. Inventory load: ours vs the official SDK ({instances} instances, {latency_ms:g} ms latency)")
    cold: list[float] = []
    warm: list[float] = []
    warm_cpu: list[float] = []
    sdk_times: list[float] = []
    mismatches: list[str] = []
    with emulator_process(instances, latency_ms) as emulator:
        credentials = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
        sdk = sdk_client(emulator)
        for number in range(rounds):
            with ZenlayerClient(credentials, base_url=emulator.url) as client:
                seconds, _ = _timed_load(client)
                cold.append(seconds)
                seconds, inventory = _timed_load(client, warm_cpu)
                warm.append(seconds)
                ours = ours_snapshot(inventory)
                if number == 0:
                    singles, pairs = run_sync(_two_round_trips(client, 5 if quick else 15))
            start = time.perf_counter()
            theirs = sdk_load(sdk)
            sdk_times.append(time.perf_counter() - start)
            mismatches += ours.differences(theirs)
            print(f"  round {number + 1}/{rounds}: cold {ms(cold[-1])}, warm {ms(warm[-1])}, SDK {ms(sdk_times[-1])}", flush=True)
    zones = len({zone for zone, _, _ in ours.quota})
    floor = median(pairs)
    ratio = median(sdk_times) / median(warm)
    result.figure("fleet", f"{len(ours.instances)} instances, {zones} zones, {len(ours.images)} custom images")
    result.figure("rounds (alternated: ours cold, ours warm, SDK)", str(rounds))
    result.figure("ours, warm: median (fastest round)", f"{ms(median(warm))} ({ms(min(warm))})")
    result.figure("ours, cold: fresh client, first call (median)", ms(median(cold)))
    result.figure("ours, warm: CPU time of this process per load (median)", ms(median(warm_cpu)))
    result.figure("official SDK, sequential loop: median (fastest round)", f"{ms(median(sdk_times))} ({ms(min(sdk_times))})")
    result.figure("SDK / ours warm", f"{ratio:.1f}x")
    result.figure("SDK / ours cold", f"{median(sdk_times) / median(cold):.1f}x")
    result.figure("requests: ours / SDK", f"{ours.requests} / {theirs.requests}")
    result.figure("one small request on a warm connection (median)", ms(median(singles)))
    result.figure("floor: two sequential small requests, warm (median)", ms(floor))
    result.figure("ours warm / floor", f"{median(warm) / floor:.2f}x")
    result.figure("ours cold / floor", f"{median(cold) / floor:.2f}x")
    result.target("ours (warm) at least 6x faster than the SDK loop", ratio >= 6, f"{ratio:.1f}x")
    result.target("ours (warm) within 1.5x of the two-round-trip floor", median(warm) <= 1.5 * floor,
                  f"{median(warm) / floor:.2f}x ({ms(median(warm))} vs {ms(floor)})")
    result.target("same instances, images and quota as the SDK", not mismatches,
                  "equal in every round" if not mismatches else "; ".join(sorted(set(mismatches))))
    if mismatches:
        print("  RESULTS DIFFER between ours and the SDK: " + "; ".join(sorted(set(mismatches))), flush=True)
    result.data = {"cold_s": cold, "warm_s": warm, "warm_cpu_s": warm_cpu, "sdk_s": sdk_times, "floor_pairs_s": pairs, "singles_s": singles,
                   "requests_ours": ours.requests, "requests_sdk": theirs.requests, "equal": not mismatches,
                   "instances": len(ours.instances), "zones": zones}  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one round, 300 instances")
    parser.add_argument("--instances", type=int, default=None)
    parser.add_argument("--rounds", type=int, default=None)
    args = parser.parse_args(argv)
    print(f"== {run.__module__}", flush=True)
    run(quick=args.quick, instances=args.instances, rounds=args.rounds)


if __name__ == "__main__":
    main()
