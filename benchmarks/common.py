"""What every benchmark shares: results with targets, statistics, the emulator as a subprocess, the machine."""

from __future__ import annotations

import contextlib
import os
import platform
import re
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import numpy as np

from zenlayer_widgets.emulator import DEMO_ACCESS_KEY_ID, DEMO_ACCESS_KEY_PASSWORD

REPO = Path(__file__).resolve().parents[1]
#: Load average (1 min) above which the machine is too busy for trustworthy figures.
QUIET_LOAD = 1.5
PACKAGES = (
    "httpx", "tornado", "pandas", "ipywidgets", "anywidget", "jupyterlab", "ipykernel",
    "zenlayercloud-sdk-python", "requests", "playwright",
)  # fmt: skip


# -- results ---------------------------------------------------------------------------------
@dataclass
class Target:
    """A goal from the issue and whether this run met it."""

    goal: str
    met: bool
    detail: str

    def line(self) -> str:
        return f"{'MET   ' if self.met else 'MISSED'} {self.goal}: {self.detail}"


@dataclass
class Result:
    """One benchmark's figures (label, formatted value), targets, notes and raw numbers."""

    key: str
    title: str
    figures: list[tuple[str, str]] = field(default_factory=list)
    targets: list[Target] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    data: dict[str, Any] = field(default_factory=dict)
    load_before: float = 0.0
    load_after: float = 0.0
    seconds: float = 0.0

    def figure(self, label: str, value: str) -> None:
        """Add a figure and print it at once (a long benchmark shows progress)."""
        self.figures.append((label, value))
        print(f"  {label}: {value}", flush=True)

    def target(self, goal: str, met: bool, detail: str) -> None:
        self.targets.append(Target(goal, met, detail))
        print(f"  {self.targets[-1].line()}", flush=True)

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}", flush=True)

    def to_dict(self) -> dict[str, Any]:
        """Everything, for ``run_all --json`` (and ``--render``)."""
        return {**vars(self), "targets": [vars(t) for t in self.targets]}

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Result:
        fields = {**raw, "targets": [Target(**t) for t in raw["targets"]], "figures": [tuple(f) for f in raw["figures"]]}
        return cls(**fields)

    def markdown(self) -> str:
        """A README section: figures as a table, then targets and notes."""
        lines = [f"## {self.title}", "", "| figure | value |", "| --- | --- |"]
        lines += [f"| {label} | {value} |" for label, value in self.figures]
        if self.targets:
            lines += ["", "| target | met | this run |", "| --- | --- | --- |"]
            lines += [f"| {t.goal} | {'yes' if t.met else '**no**'} | {t.detail} |" for t in self.targets]
        if self.notes:
            lines += [""] + [f"- {note}" for note in self.notes]
        lines += ["", f"Load average (1 min) before / after: {self.load_before:.2f} / {self.load_after:.2f}; "
                      f"took {self.seconds:.0f} s.", ""]  # fmt: skip
        return "\n".join(lines)


# -- statistics ------------------------------------------------------------------------------
def median(values: Sequence[float]) -> float:
    return float(np.median(values))


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (linear interpolation between closest ranks)."""
    return float(np.percentile(values, q))


def ms(seconds: float) -> str:
    """``0.0123`` -> ``"12.3 ms"``."""
    return f"{seconds * 1000:.1f} ms"


# -- the machine -----------------------------------------------------------------------------
def load_average() -> float:
    """The 1-minute load average."""
    return os.getloadavg()[0]


def wait_for_quiet(limit: float = QUIET_LOAD, timeout: float = 120.0, poll: float = 5.0) -> float:
    """Wait (up to ``timeout`` s) for the 1-minute load average to drop to ``limit``; returns it."""
    deadline = time.monotonic() + timeout
    load = load_average()
    while load > limit and time.monotonic() < deadline:
        print(f"  (load average {load:.2f} > {limit}; waiting for a quieter moment)", flush=True)
        time.sleep(poll)
        load = load_average()
    return load


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def _memory_gib() -> float:
    with contextlib.suppress(OSError, ValueError):
        match = re.search(r"MemTotal:\s+(\d+) kB", Path("/proc/meminfo").read_text())
        if match:
            return int(match.group(1)) / 1024**2
    return float("nan")


def _chromium_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        out = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True, timeout=20).stdout
        match = re.search(r"Chromium [\d.]+", out)
        if match:
            return match.group(0)
    return "not found"


def machine_info() -> dict[str, str]:
    """nproc, CPU model, memory, OS, Python and the versions of the packages that matter."""
    info = {
        "nproc": str(os.cpu_count()),
        "CPU": _cpu_model(),
        "memory": f"{_memory_gib():.1f} GiB",
        "OS": platform.platform(),
        "Python": platform.python_version(),
        "Chromium": _chromium_version(),
    }
    for name in PACKAGES:
        try:
            info[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            info[name] = "not installed"
    return info


# -- the emulator ----------------------------------------------------------------------------
@dataclass(frozen=True)
class EmulatorProcess:
    """``python -m zenlayer_widgets.emulator`` running in a subprocess (its demo key pair)."""

    url: str
    pid: int
    access_key_id: str = DEMO_ACCESS_KEY_ID
    access_key_password: str = DEMO_ACCESS_KEY_PASSWORD

    @property
    def host_port(self) -> str:
        """What the official SDK wants as ``Config(domain=...)``."""
        return self.url.split("://", 1)[1]

    def kernel_env(self) -> dict[str, str]:
        """Environment that points :func:`zenlayer_widgets.connect` (e.g. in a kernel) at this emulator."""
        return {
            "ZENLAYER_BASE_URL": self.url,
            "ZENLAYER_ACCESS_KEY_ID": self.access_key_id,
            "ZENLAYER_ACCESS_KEY_PASSWORD": self.access_key_password,
        }


@contextlib.contextmanager
def emulator_process(instances: int, latency_ms: float = 0, *, timeout: float = 60.0) -> Iterator[EmulatorProcess]:
    """Start the emulator CLI on a free loopback port with a synthetic fleet; stop it on exit."""
    argv = [sys.executable, "-m", "zenlayer_widgets.emulator", "--port", "0", "--instances", str(instances),
            "--latency-ms", str(latency_ms)]  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZENLAYER_")}
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, cwd=REPO, env=env)  # noqa: S603
    try:
        url = _ready_url(proc, timeout)
        yield EmulatorProcess(url=url, pid=proc.pid)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def _ready_url(proc: subprocess.Popen[str], timeout: float) -> str:
    """The URL from the emulator's "listening on" line (it is printed once it accepts connections)."""
    assert proc.stdout is not None
    deadline = time.monotonic() + timeout
    seen: list[str] = []
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        seen.append(line)
        match = re.search(r"listening on (http://\S+)", line)
        if match:
            return match.group(1)
    raise RuntimeError("the emulator did not start:\n" + "".join(seen))
