"""Whether a row's owner is still at work: a host name and a pid prove nothing on their own (another PID namespace
or container may share both, and pids are reused); the boot, PID namespace and process start time recorded with
the pid (``owner_process``) do. Checked through the policy lease, which a live apply must keep."""

from __future__ import annotations

import os
import socket
import subprocess
import sys

import pytest

import zenlayer_widgets as zw
from shared import held_rotation_run
from zenlayer_widgets.core.ledger import Ledger
from zenlayer_widgets.core.ledger.ownership import at_work, live_owners, process_identity
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.policy import lease

ACCOUNT = "https://console.zenlayer.com#key=AK"


def held_run(ledger: Ledger, pid: int, process: str) -> None:
    """An unfinished run of "nightly" whose owner has this host's name, ``pid`` and ``process``, heartbeat now."""
    held_rotation_run(ledger, ACCOUNT, host=socket.gethostname(), pid=pid, heartbeat=now_text(), process=process,
                      who="ops@container")


def claim(ledger: Ledger) -> bool:
    """Whether this apply may take the run over now (False: PolicyBusy)."""
    try:
        run, _ = lease.claim_run(ledger, ACCOUNT, "nightly", "nightly", "20261201T0100")
    except zw.PolicyBusy:
        return False
    live_owners.discard(run.owner)
    return True


def free_pid() -> int:
    done = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True, check=True)
    return int(done.stdout)


def test_a_live_apply_in_another_pid_namespace_with_this_host_name_is_not_taken_over(ledger_url):
    """Its pid is free here (it lives in the container's namespace): its heartbeat alone decides."""
    ledger = Ledger(ledger_url)
    boot, namespace, started = process_identity().split("/")
    held_run(ledger, free_pid(), f"{boot}/pid:[1]/{started}")
    assert not claim(ledger)
    ledger.close()


def test_a_reused_pid_does_not_keep_a_dead_owners_run(ledger_url):
    """The recorded pid now belongs to another process (started at another time): the owner is gone, its run is
    resumed at once although its last heartbeat is fresh."""
    ledger = Ledger(ledger_url)
    boot, namespace, started = process_identity().split("/")
    held_run(ledger, os.getpid(), f"{boot}/{namespace}/{float(started) - 3600:.2f}")
    assert claim(ledger)
    ledger.close()


def test_a_live_owner_process_on_this_host_keeps_its_run(ledger_url):
    ledger = Ledger(ledger_url)
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        held_run(ledger, other.pid, process_identity(other.pid))
        assert not claim(ledger)
    finally:
        other.kill()
        other.wait()
    assert claim(ledger)  # gone now: resumed at once
    ledger.close()


@pytest.mark.parametrize("process", [None, "other-boot/pid:[4026531836]/1.00"])
def test_without_a_matching_identity_only_the_heartbeat_counts(process):
    """A row from before version 5 (no identity) or from another boot: never declared gone by its pid."""
    pid, host = free_pid(), socket.gethostname()
    assert at_work("b" * 32, host, pid, now_text(), 30.0, process=process)
    assert not at_work("b" * 32, host, pid, "2026-01-01T00:00:00.000+00:00", 30.0, process=process)
