"""The emulator keeps answering when it runs out of file descriptors (issue 10).

Reproduced as found, scaled down: the CLI emulator in a subprocess with RLIMIT_NOFILE lowered to
128 gets 300 idle connections (found: 1,100 under ``ulimit -n 1024`` made it spin at full CPU and
write 36 MB of tracebacks). It must say so in one log line, not spin, close idle connections to
make room, and answer a new client.
"""

from __future__ import annotations

import os
import re
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time

import httpx

from zenlayer_widgets.emulator import API_PATH, DEMO_TOKEN

LIMIT = 128
IDLE = 300


def _cpu_seconds(pid: int) -> float:
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime + stime


def _lower_fd_limit() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (LIMIT, LIMIT))


def test_out_of_descriptors_one_log_line_no_spin_and_still_answering() -> None:
    stderr = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-m", "zenlayer_widgets.emulator", "--port", "0"],
        stdout=subprocess.PIPE, stderr=stderr, text=True, preexec_fn=_lower_fd_limit,
    )
    idle: list[socket.socket] = []
    try:
        match = re.search(r"listening on http://127\.0\.0\.1:(\d+)", process.stdout.readline())
        assert match, "the emulator did not start"
        port = int(match.group(1))
        for _ in range(IDLE):  # connect and say nothing: each takes one of the emulator's descriptors
            sock = socket.socket()
            sock.setblocking(False)  # the accept queue fills up: do not wait for each handshake
            sock.connect_ex(("127.0.0.1", port))
            idle.append(sock)
        time.sleep(1.0)  # the emulator meets EMFILE while accepting these
        before = _cpu_seconds(process.pid)
        time.sleep(1.5)
        spent = _cpu_seconds(process.pid) - before
        assert spent < 0.2, f"the emulator used {spent:.2f} s of CPU in 1.5 s while out of descriptors: it spins"

        started = time.monotonic()
        with httpx.Client(timeout=10) as client:
            response = client.post(
                f"http://127.0.0.1:{port}{API_PATH}", json={},
                headers={"Authorization": f"Bearer {DEMO_TOKEN}", "X-ZC-Action": "DescribeZones"},
            )
        assert response.status_code == 200 and response.json()["response"]["zoneSet"]
        assert time.monotonic() - started < 10
        assert process.poll() is None
    finally:
        for sock in idle:
            sock.close()
        process.send_signal(signal.SIGINT)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    stderr.seek(0)
    log = stderr.read().decode("utf-8", "replace")
    assert len(log) < 2000, f"{len(log)} bytes on stderr: {log[:400]!r}"
    assert "Traceback" not in log
    lines = [line for line in log.splitlines() if "file descriptors" in line]
    assert len(lines) == 1, log
    assert "idle connection" in lines[0]
