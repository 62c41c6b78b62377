"""Benchmark 4: the emulator's own throughput on loopback (requests per second, p50/p99 latency).

``concurrency`` keep-alive connections (one ``httpx.AsyncClient`` each, ZC2-signed requests) send
one action back to back for ``seconds`` against ``python -m zenlayer_widgets.emulator`` (no added
latency); bodies are read but not parsed, so the figures are the server's, not our client's
parsing. ``python -m benchmarks.emulator_throughput [--quick]``.
"""

from __future__ import annotations

import argparse
import asyncio
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


@dataclass(frozen=True)
class Throughput:
    requests: int
    seconds: float
    latencies: list[float]
    failures: int
    response_bytes: int

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
        start = time.perf_counter()
        until = start + seconds
        await asyncio.gather(*(_worker(c, url, action, payload, until, latencies, counts) for c in clients))
        elapsed = time.perf_counter() - start
    finally:
        await asyncio.gather(*(client.aclose() for client in clients))
    return Throughput(len(latencies), elapsed, latencies, counts["failures"], counts["bytes"])


def run(*, quick: bool = False, instances: int | None = None, concurrency: int = 8, seconds: float | None = None) -> Result:
    instances = instances if instances is not None else (500 if quick else 10_000)
    seconds = seconds if seconds is not None else (0.5 if quick else 3.0)
    result = Result("emulator", f"4. Emulator throughput on loopback ({instances} instances, {concurrency} keep-alive clients, "
                                f"{seconds:g} s per action, no added latency)")  # fmt: skip
    rows = {}
    with emulator_process(instances) as emulator:
        for label, action, payload in CASES:
            measured = asyncio.run(measure(emulator, action, payload, concurrency=concurrency, seconds=seconds))
            rows[label] = measured
            result.figure(label, f"{measured.per_second:,.0f} req/s; latency p50 {median(measured.latencies) * 1000:.1f} ms, "
                                 f"p99 {percentile(measured.latencies, 99) * 1000:.1f} ms; {measured.response_bytes:,} B/response; "
                                 f"{measured.failures} failures")  # fmt: skip
    result.note("The client (one Python process on the other core) signs every request and reads every body; "
                "it shares the machine with the emulator, so these are lower bounds of the emulator's capacity.")  # fmt: skip
    result.data = {
        label: {"rps": m.per_second, "p50_s": median(m.latencies), "p99_s": percentile(m.latencies, 99),
                "requests": m.requests, "failures": m.failures, "bytes": m.response_bytes}
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
