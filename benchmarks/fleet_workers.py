"""Benchmark 5: one rotation run shared by 1 worker vs 4 worker processes on one PostgreSQL ledger, under the
account's rate limit (issue 22, item 5).

200 instances in 20 zones (10 each, all RUNNING); a stop-image-start policy (``stop_if_running``, keep 1) over 5 of
each zone's 10 (100 instances: a zone holds 5 custom images, so one new image for each of 10 instances cannot fit,
and 5 of them would only fail "zone full"); the emulator at ``--rate-limit 20`` in this process (its STOPPING,
BOOTING and CREATING shortened by ``transition_seconds``). Each worker is its own process (``python -m benchmarks.fleet_workers --worker ...``)
calling :func:`zenlayer_widgets.work_units` with ``rate_limit=20`` (the ledger's shared token bucket) and
``max_parallel`` zones at a time. Figures: wall time from the first worker's start to the last one's end, the
ideal the rate limit allows (requests the emulator admitted during the run / 20 per s), 429s counted at the
emulator, and duplicate images (an instance with more than one new image: must be 0). A fresh emulator and a fresh
ledger schema for each case. PostgreSQL: ``ZENLAYER_TEST_POSTGRES_URL``, else a throwaway cluster (tests/pg_cluster.py).
``python -m benchmarks.fleet_workers [--quick]``.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from zenlayer_widgets.rules import IMAGE_QUOTA_PER_ZONE

from .common import Result

ZONES = 20
PER_ZONE = 10
RATE = 20.0
PREFIX = "bench"
TESTS = Path(__file__).resolve().parent.parent / "tests"


@contextmanager
def postgres() -> Iterator[str]:
    """A PostgreSQL server URL: the one ``ZENLAYER_TEST_POSTGRES_URL`` names, else a throwaway cluster."""
    sys.path.insert(0, str(TESTS))
    import pg_cluster

    given = os.environ.get(pg_cluster.ENV_URL)
    if given:
        yield given
        return
    cluster = pg_cluster.start_cluster()
    try:
        yield cluster.url
    finally:
        cluster.stop()


def fresh_schema(base_url: str) -> str:
    import pg_cluster

    return str(pg_cluster.fresh_schema_url(base_url))


def twenty_zones(state: dict[str, Any], zones: int, per_zone: int) -> list[str]:
    """Rewrite an exported emulator state: ``zones`` zones that take images, ``per_zone`` RUNNING instances in each,
    no custom images; the ids of the policy's instances (the first :data:`IMAGE_QUOTA_PER_ZONE` of each zone)."""
    template = next(z for z in state["zones"] if z["zone_id"] == "FRA-A")
    state["zones"] = [{**template, "zone_id": f"Z{n:02d}-A", "zone_name": f"Bench zone {n:02d}"} for n in range(zones)]
    state["custom_images"], state["pending"] = [], []
    instances = state["instances"][: zones * per_zone]
    for n, instance in enumerate(instances):
        instance.update(zone_id=f"Z{n % zones:02d}-A", status="RUNNING", instance_name=f"bench-{n:03d}")
    state["instances"] = instances
    return [i["instance_id"] for n, i in enumerate(instances) if n // zones < IMAGE_QUOTA_PER_ZONE]


def run_case(base_url: str, workers: int, *, zones: int, per_zone: int, transition: float, max_parallel: int,
             poll: float) -> dict[str, Any]:
    """One fleet run with ``workers`` worker processes on a fresh emulator and ledger; its figures."""
    from zenlayer_widgets.emulator import start_emulator

    ledger_url = fresh_schema(base_url)
    with start_emulator(instances=zones * per_zone, transition_seconds=transition, rate_limit=RATE) as emulator:
        state = emulator.backend.export_state()
        ids = twenty_zones(state, zones, per_zone)
        emulator.backend.import_state(state)
        env = {**os.environ, "ZW_BENCH_KEY_ID": emulator.access_key_id, "ZW_BENCH_PASSWORD": emulator.access_key_password}
        ids_file = Path(os.environ.get("TMPDIR", "/tmp")) / f"zw-bench-ids-{os.getpid()}.txt"
        ids_file.write_text(",".join(ids))
        admitted, limited = emulator.conditions.admitted, emulator.conditions.rate_limited
        started = time.monotonic()
        procs = [subprocess.Popen([sys.executable, "-m", "benchmarks.fleet_workers", "--worker", emulator.url, ledger_url,
                                   str(ids_file), str(max_parallel), str(poll)], env=env, cwd=TESTS.parent,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(workers)]
        outputs = [p.communicate(timeout=3600) for p in procs]
        wall = time.monotonic() - started
        ids_file.unlink(missing_ok=True)
        failed = [f"worker {n}: exit {p.returncode}: {(err or out).strip().splitlines()[-1:]}"
                  for n, (p, (out, err)) in enumerate(zip(procs, outputs, strict=True)) if p.returncode != 0]
        requests = emulator.conditions.admitted - admitted
        throttled = emulator.conditions.rate_limited - limited
        made = Counter(i.source_instance_id for i in emulator.backend.images.values()
                       if i.image_name.startswith(PREFIX + "-") and i.source_instance_id in set(ids))
        running = sum(emulator.backend.instances[i].status == "RUNNING" for i in ids)
    return {"workers": workers, "wall": wall, "requests": requests, "ideal": requests / RATE, "throttled": throttled,
            "imaged": len(made), "duplicates": sum(n - 1 for n in made.values() if n > 1), "running": running,
            "instances": len(ids), "fleet": zones * per_zone, "failed": failed}


def worker(url: str, ledger_url: str, ids_file: str, max_parallel: str, poll: str) -> int:
    """One worker process: the shared run of the bench policy, paced by the ledger's bucket."""
    import zenlayer_widgets as zw
    from zenlayer_widgets.api.client import ZenlayerClient
    from zenlayer_widgets.api.credentials import Credentials
    from zenlayer_widgets.core.ledger import Ledger

    credentials = Credentials(access_key_id=os.environ["ZW_BENCH_KEY_ID"], access_key_password=os.environ["ZW_BENCH_PASSWORD"])
    ids = tuple(Path(ids_file).read_text().split(","))
    with ZenlayerClient(credentials, base_url=url) as client:
        policy = zw.Policy(PREFIX, keep=1, instance_ids=ids, stop_if_running=True)
        outcome = zw.work_units(client, policy, Ledger(ledger_url), max_parallel=int(max_parallel), rate_limit=RATE,
                                poll_interval=float(poll))
    print(outcome.summary(), flush=True)
    return 0 if outcome.ok else 1


def run(quick: bool = False, *, transition: float = 12.0, max_parallel: int = 5, poll: float = 12.0) -> Result:
    zones, per_zone = (4, 3) if quick else (ZONES, PER_ZONE)
    if quick:  # a smoke test: short transitions, a poll to match
        transition, poll = 0.5, 0.25
    result = Result("workers", f"5. Fleet workers: 1 vs 4 worker processes on one PostgreSQL ledger "
                               f"({zones * per_zone} instances, {zones} zones, rate limit {RATE:g}/s)")
    chosen = min(per_zone, IMAGE_QUOTA_PER_ZONE)
    result.figure("fleet / policy", f"{zones * per_zone} RUNNING instances, {per_zone} per zone / stop-image-start "
                                    f"(stop_if_running, keep 1) of {chosen} per zone ({zones * chosen} instances: a zone "
                                    f"holds {IMAGE_QUOTA_PER_ZONE} custom images)")
    result.figure("emulator", f"in this process, --rate-limit {RATE:g}; STOPPING, BOOTING and CREATING take {transition:g} s")
    result.figure("each worker", f"its own process, work_units(rate_limit={RATE:g}, max_parallel={max_parallel}, "
                                 f"poll_interval={poll:g})")
    cases = {}
    with postgres() as base_url:
        for count in (1, 4):
            case = cases[count] = run_case(base_url, count, zones=zones, per_zone=per_zone, transition=transition,
                                           max_parallel=max_parallel, poll=poll)
            result.data[f"workers_{count}"] = case
            result.figure(f"{count} worker{'s' if count > 1 else ''}: wall time", f"{case['wall']:.1f} s")
            result.figure(f"{count} worker{'s' if count > 1 else ''}: requests admitted / ideal at {RATE:g}/s",
                          f"{case['requests']} / {case['ideal']:.1f} s")
            result.figure(f"{count} worker{'s' if count > 1 else ''}: 429s counted at the emulator", str(case["throttled"]))
            result.figure(f"{count} worker{'s' if count > 1 else ''}: instances imaged / duplicate images / RUNNING after",
                          f"{case['imaged']} of {case['instances']} / {case['duplicates']} / {case['running']}")
            for line in case["failed"]:
                result.note(line)
    one, four = cases[1], cases[4]
    speedup = one["wall"] / four["wall"]
    result.target("4 workers at least 3x faster than 1", speedup >= 3, f"{speedup:.2f}x ({one['wall']:.1f} s vs {four['wall']:.1f} s)")
    result.target("4 workers within 1.3x of the ideal the rate limit allows", four["wall"] <= 1.3 * four["ideal"],
                  f"{four['wall'] / four['ideal']:.2f}x ({four['wall']:.1f} s vs {four['ideal']:.1f} s)")
    result.target("0 duplicate images, every instance imaged once",
                  one["duplicates"] == four["duplicates"] == 0 and one["imaged"] == four["imaged"] == one["instances"],
                  f"duplicates {one['duplicates']} and {four['duplicates']}; imaged {one['imaged']} and {four['imaged']}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="12 instances in 4 zones, 3 each (a smoke test)")
    parser.add_argument("--transition", type=float, default=12.0, help="emulator transition seconds (default 12)")
    parser.add_argument("--max-parallel", type=int, default=5, help="zones each worker works at once (default 5)")
    parser.add_argument("--poll", type=float, default=12.0, help="the workers' poll interval in seconds (default 12: once per transition)")
    parser.add_argument("--worker", nargs=5, metavar=("URL", "LEDGER", "IDS", "PARALLEL", "POLL"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        raise SystemExit(worker(*args.worker))
    run(args.quick, transition=args.transition, max_parallel=args.max_parallel, poll=args.poll)


if __name__ == "__main__":
    main()
