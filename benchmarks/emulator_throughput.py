"""Benchmark 4: the emulator's own throughput on loopback (requests per second, p50/p99 latency).

``concurrency`` keep-alive connections (one ``httpx.AsyncClient`` each, ZC2-signed requests) send
one action back to back for ``seconds`` against ``python -m zenlayer_widgets.emulator`` (no added
latency); bodies are read but not parsed, so the figures are the server's, not our client's
parsing. ``python -m benchmarks.emulator_throughput [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from dataclasses import dataclass
from typing import Any

import httpx

from zenlayer_widgets.api import Credentials
from zenlayer_widgets.api._wire import DEFAULT_API_VERSION, SERVICE_PATH, build_request

from .common import EmulatorProcess, Result, emulator_process, median, percentile

#: (label, action, payload)
CASES: tuple[tuple[str, str, dict[str, Any]], ...] = (
    ("DescribeInstances pageSize 20", "DescribeInstances", {"pageSize": 20, "pageNum": 1}),
    ("DescribeInstances pageSize 1000", "DescribeInstances", {"pageSize": 1000, "pageNum": 1}),
    ("DescribeInstancesStatus pageSize 1000", "DescribeInstancesStatus", {"pageSize": 1000, "pageNum": 1}),
)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time a process has used so far (from /proc)."""
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    response_bytes: int
    server_busy: float  # the emulator's CPU time over the wall time (1.0: one core saturated)

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds


async def _worker(client: httpx.AsyncClient, url: str, action: str, payload: dict[str, Any], until: float,
                  latencies: list[float], counts: dict[str, int]) -> None:  # fmt: skip
    while time.perf_counter() < until:
        start = time.perf_counter()
        response = await client.send(build_request(url, action, DEFAULT_API_VERSION, payload))
        latencies.append(time.perf_counter() - start)
        counts["bytes"] = len(response.content)
        if response.status_code != 200:
            counts["failures"] += 1


async def measure(emulator: EmulatorProcess, action: str, payload: dict[str, Any], *, concurrency: int, seconds: float) -> Throughput:
    """Requests per second and latencies of ``concurrency`` keep-alive clients for ``seconds``."""
    credentials = Credentials(access_key_id=emulator.access_key_id, access_key_password=emulator.access_key_password)
    url = emulator.url + SERVICE_PATH
    clients = [httpx.AsyncClient(auth=credentials.auth(), trust_env=False) for _ in range(concurrency)]
    try:
        for client in clients:  # open every connection (and warm the emulator's caches) first
            await client.send(build_request(url, action, DEFAULT_API_VERSION, payload))
        latencies: list[float] = []
        counts = {"failures": 0, "bytes": 0}
        cpu_before = cpu_seconds(emulator.pid)
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(*(_worker(c, url, action, payload, until, latencies, counts) for c in clients))
        elapsed = time.perf_counter() - start
        busy = (cpu_seconds(emulator.pid) - cpu_before) / elapsed
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return Throughput(len(latencies), elapsed, latencies, counts["failures"], counts["bytes"], busy)


def run(*, quick: bool = False, instances: int | None = None, concurrency: int = 8, seconds: float | None = None) -> Result:
    instances = instances if instances is not None else (500 if quick else 10_000)
    seconds = seconds if seconds is not None else (0.5 if quick else 3.0)
    result = Result("emulator", f"4. Emulator throughput: loopback ({instances} instances, {concurrency} keep-alive clients, "
                                f"{seconds:g} s per action, no added latency)")  # fmt: skip
    rows = {}
    with emulator_process(instances) as emulator:
        for label, action, payload in CASES:
            measured = asyncio.run(measure(emulator, action, payload, concurrency=concurrency, seconds=seconds))
            rows[label] = measured
            result.figure(label, f"{measured.per_second:,.0f} req/s; latency p50 {median(measured.latencies) * 1000:.1f} ms, "
                                 f"p99 {percentile(measured.latencies, 99) * 1000:.1f} ms; {measured.response_bytes:,} B/response; "
                                 f"emulator CPU {measured.server_busy:.0%} of a core; {measured.failures} failures")  # fmt: skip
    result.note("The load comes from one Python process (the other core) that signs every request and reads every body. "
                "Where the emulator's CPU is well below 100% of a core, the client, not the emulator, set the pace: "
                "the figures are lower bounds of the emulator's capacity.")  # fmt: skip
    result.data = {
        label: {"rps": m.per_second, "p50_s": median(m.latencies), "p99_s": percentile(m.latencies, 99),
                "requests": m.requests, "failures": m.failures, "bytes": m.response_bytes,
                "server_busy": m.server_busy}
        for label, m in rows.items()
    }  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="500 instances, 0.5 s per action")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=None)
    args = parser.parse_args(argv)
    run(quick=args.quick, concurrency=args.concurrency, seconds=args.seconds)


if __name__ == "__main__":
    main()
