"""Benchmark 1: the inventory load, ours (two rounds of concurrent requests; a refresh in one) vs the official SDK's loop.

Against ``python -m zenlayer_widgets.emulator --instances 2000 --latency-ms 50`` (12 zones), rounds
alternate: a fresh Python process that runs ``zw.connect()`` + ``zw.load_inventory()`` (cold, what
a new kernel's Run All pays) and then the same two calls again (the cell re-run); in this process a
new :class:`ZenlayerClient`'s first load (new async twin, new connections), its second (warm) and a
refresh (``load_inventory(client, previous=...)``, one round); then the official SDK doing the same
job in a plain sequential loop (pageSize 1000; DescribeZones, every DescribeInstances page,
DescribeImages CUSTOM_IMAGE per zone, DescribeImageQuota). Every one of them must give the SDK's
results. The floor is two sequential small requests on a warm connection of our client (one for
the refresh). ``python -m benchmarks.inventory_load``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
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


def _timed_load(client: ZenlayerClient, cpu: list[float] | None = None, **options: Any) -> tuple[float, Inventory]:
    """Wall time of one ``load_inventory``; its CPU time (this process, every thread) is appended to ``cpu``."""
    start, start_cpu = time.perf_counter(), time.process_time()
    inventory = load_inventory(client, **options)
    _ = inventory.instances, inventory.images, inventory.quota  # the tables are built on first use: part of a load
    if cpu is not None:
        cpu.append(time.process_time() - start_cpu)
    return time.perf_counter() - start, inventory


#: A new kernel's first cells, timed from inside: the imports (``zenlayer_widgets`` loads its modules
#: on first use, so the two that ``connect`` and ``load_inventory`` need, with httpx and pandas, are
#: imported here), then ``connect()`` + ``load_inventory()`` (cold), then both again (the cell re-run).
#: Prints the times and what was loaded, as JSON.
FRESH_PROCESS = r"""
import json, time
start = time.perf_counter()
import zenlayer_widgets as zw
import zenlayer_widgets.connection, zenlayer_widgets.core.inventory
imported, cpu = time.perf_counter(), time.process_time()
inventory = zw.load_inventory(zw.connect())
cold, cold_cpu = time.perf_counter(), time.process_time()
again = zw.load_inventory(zw.connect())
rerun = time.perf_counter()
def snapshot(inv):
    i, m, q = inv.instances, inv.images, inv.quota
    return {"instances": list(zip(i["instance_id"], i["power_state"])),
            "images": list(zip(m["zone"], m["image_id"], m["name"], m["status"])),
            "quota": [(z, int(u), int(x)) for z, u, x in zip(q["zone"], q["used"], q["max"])], "requests": inv.requests}
print(json.dumps({"import_s": imported - start, "cold_s": cold - imported, "cold_cpu_s": cold_cpu - cpu,
                  "rerun_s": rerun - cold, "cold": snapshot(inventory), "rerun": snapshot(again)}))
"""


def _fresh_process(emulator: EmulatorProcess) -> dict[str, Any]:
    """Run :data:`FRESH_PROCESS` in a new interpreter pointed at ``emulator`` (through ZENLAYER_*)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENLAYER_")} | emulator.kernel_env()
    done = subprocess.run([sys.executable, "-c", FRESH_PROCESS], capture_output=True, text=True, env=env, timeout=120, check=False)
    if done.returncode != 0:
        raise RuntimeError("the fresh-process load failed:\n" + done.stderr[-3000:])
    raw = json.loads(done.stdout.strip().splitlines()[-1])
    for key in ("cold", "rerun"):
        shot = raw[key]
        raw[key] = Snapshot(frozenset(map(tuple, shot["instances"])), frozenset(map(tuple, shot["images"])),
                            frozenset(map(tuple, shot["quota"])), shot["requests"])  # fmt: skip
    return raw


def run(*, quick: bool = False, instances: int | None = None, rounds: int | None = None, latency_ms: float = 50) -> Result:
    """Alternate ours (fresh process, new client, warm, refresh) and the SDK for ``rounds`` rounds; medians and targets."""
    instances = instances if instances is not None else (300 if quick else 2000)
    rounds = rounds if rounds is not None else (1 if quick else 7)
    result = Result("inventory", f"1. Inventory load: ours vs the official SDK ({instances} instances, {latency_ms:g} ms latency)")
    t: dict[str, list[float]] = {key: [] for key in (
        "fresh", "fresh_cpu", "rerun", "import", "cold", "warm", "warm_cpu", "refresh", "refresh_cpu", "sdk")}  # fmt: skip
    one_round = 0
    mismatches: list[str] = []
    with emulator_process(instances, latency_ms) as emulator:
        credentials = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
        sdk = sdk_client(emulator)
        for number in range(rounds):
            fresh = _fresh_process(emulator)
            t["fresh"].append(fresh["cold_s"])
            t["fresh_cpu"].append(fresh["cold_cpu_s"])
            t["rerun"].append(fresh["rerun_s"])
            t["import"].append(fresh["import_s"])
            with ZenlayerClient(credentials, base_url=emulator.url) as client:
                seconds, cold = _timed_load(client)
                t["cold"].append(seconds)
                seconds, inventory = _timed_load(client, t["warm_cpu"])
                t["warm"].append(seconds)
                seconds, refreshed = _timed_load(client, t["refresh_cpu"], previous=inventory)
                t["refresh"].append(seconds)
                one_round += refreshed.refreshed
                if number == 0:
                    singles, pairs = run_sync(_two_round_trips(client, 5 if quick else 15))
            start = time.perf_counter()
            theirs = sdk_load(sdk)
            t["sdk"].append(time.perf_counter() - start)
            ours = {"fresh process, cold": fresh["cold"], "fresh process, re-run": fresh["rerun"], "new client": ours_snapshot(cold),
                    "warm": ours_snapshot(inventory), "refresh": ours_snapshot(refreshed)}  # fmt: skip
            for label, snapshot in ours.items():
                mismatches += [f"{label}: {difference}" for difference in snapshot.differences(theirs)]
            print(f"  round {number + 1}/{rounds}: fresh process {ms(t['fresh'][-1])} (re-run {ms(t['rerun'][-1])}), "
                  f"new client {ms(t['cold'][-1])}, warm {ms(t['warm'][-1])}, refresh {ms(t['refresh'][-1])}, "
                  f"SDK {ms(t['sdk'][-1])}", flush=True)  # fmt: skip
    m = {key: median(values) for key, values in t.items()}
    warm_snapshot, refresh_snapshot = ours["warm"], ours["refresh"]
    zones = len({zone for zone, _, _ in warm_snapshot.quota})
    floor, single = median(pairs), median(singles)
    result.figure("fleet", f"{len(warm_snapshot.instances)} instances, {zones} zones, {len(warm_snapshot.images)} custom images")
    result.figure("rounds (alternated: fresh process, new client, warm, refresh, SDK)", str(rounds))
    result.figure("cold: `connect()` + `load_inventory()` in a fresh process: median (fastest)", f"{ms(m['fresh'])} ({ms(min(t['fresh']))})")
    result.figure("re-run of that cell in the same process: median", ms(m["rerun"]))
    result.figure("(before it, the imports: zenlayer_widgets with its connection and inventory modules, httpx, pandas: median)",
                  ms(m["import"]))
    result.figure("a new `ZenlayerClient` in a warm process, first load: median", ms(m["cold"]))
    result.figure("warm: the same client's next load: median (fastest)", f"{ms(m['warm'])} ({ms(min(t['warm']))})")
    result.figure("refresh: `load_inventory(client, previous=...)`: median (fastest)", f"{ms(m['refresh'])} ({ms(min(t['refresh']))})")
    result.figure("refreshes done in one round (the others fell back to a full load)", f"{one_round} of {rounds}")
    result.figure("client CPU per load (every thread of the process): warm / refresh / cold in a fresh process (medians)",
                  f"{ms(m['warm_cpu'])} / {ms(m['refresh_cpu'])} / {ms(m['fresh_cpu'])}")
    result.figure("official SDK, sequential loop: median (fastest round)", f"{ms(m['sdk'])} ({ms(min(t['sdk']))})")
    result.figure("SDK / ours: cold (fresh process) / re-run / warm / refresh",
                  " / ".join(f"{m['sdk'] / m[key]:.1f}x" for key in ("fresh", "rerun", "warm", "refresh")))
    result.figure("requests: ours load / ours refresh / SDK", f"{warm_snapshot.requests} / {refresh_snapshot.requests} / {theirs.requests}")
    result.figure("one small request on a warm connection (median)", ms(single))
    result.figure("floor: two sequential small requests, warm (median)", ms(floor))
    result.figure("cold (fresh process) / floor; warm / floor; refresh / one request",
                  f"{m['fresh'] / floor:.2f}x; {m['warm'] / floor:.2f}x; {m['refresh'] / single:.2f}x")
    cold_ratio = m["sdk"] / m["fresh"]
    result.target("cold (`connect()` + load, fresh process) at least 6x faster than the SDK loop", cold_ratio >= 6, f"{cold_ratio:.1f}x")
    result.target("cold within 1.4x of the two-round-trip floor", m["fresh"] <= 1.4 * floor,
                  f"{m['fresh'] / floor:.2f}x ({ms(m['fresh'])} vs {ms(floor)})")
    result.target("refresh within 1.45x of one round trip", m["refresh"] <= 1.45 * single,
                  f"{m['refresh'] / single:.2f}x ({ms(m['refresh'])} vs {ms(single)})")
    result.target("client CPU per warm load under 50 ms", m["warm_cpu"] < 0.050, ms(m["warm_cpu"]))
    result.target("same instances, images and quota as the SDK (every load of every round)", not mismatches,
                  "equal in every round" if not mismatches else "; ".join(sorted(set(mismatches))))
    if mismatches:
        print("  RESULTS DIFFER between ours and the SDK: " + "; ".join(sorted(set(mismatches))), flush=True)
    result.data = {"fresh_s": t["fresh"], "fresh_cpu_s": t["fresh_cpu"], "rerun_s": t["rerun"], "import_s": t["import"],
                   "cold_s": t["cold"], "warm_s": t["warm"], "warm_cpu_s": t["warm_cpu"], "refresh_s": t["refresh"],
                   "refresh_cpu_s": t["refresh_cpu"], "refreshed_in_one_round": one_round, "sdk_s": t["sdk"],
                   "floor_pairs_s": pairs, "singles_s": singles, "requests_ours": warm_snapshot.requests,
                   "requests_refresh": refresh_snapshot.requests, "requests_sdk": theirs.requests, "equal": not mismatches,
                   "instances": len(warm_snapshot.instances), "zones": zones}  # fmt: skip
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
