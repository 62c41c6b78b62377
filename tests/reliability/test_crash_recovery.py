"""A process that dies between sending CreateImage and writing its outcome, then the run again.

The emulator holds its answer to the first CreateImage (already applied) until the test has
killed the process that sent it: the ledger then holds the intent and no outcome, exactly as a
crash leaves it. The next run must adopt that image, never make a second one.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import nbformat
import papermill
import psutil
import pytest

from shared import ids_by_name
from zenlayer_widgets.core.create import create_image_async
from zenlayer_widgets.core.ledger import AVAILABLE_OUTCOME, Ledger
from zenlayer_widgets.emulator import start_emulator

from .helpers import allow_duplicate_names, async_client, custom_images_named, fast_sleep

RUNBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "create_image.ipynb"
HOLD_SECONDS = 60


class HeldCreate:
    """The first CreateImage is applied, then its answer is held until ``release()``."""

    def __init__(self, backend) -> None:  # noqa: ANN001
        self.applied = threading.Event()
        self._release = threading.Event()
        self.image_ids: list[str] = []
        original = backend.create_image

        def create_image(*args, **kwargs):  # noqa: ANN202
            image = original(*args, **kwargs)
            self.image_ids.append(image.image_id)
            if len(self.image_ids) == 1:
                self.applied.set()
                self._release.wait(HOLD_SECONDS)  # blocks the emulator's loop: nothing answers meanwhile
            return image

        backend.create_image = create_image

    def release(self) -> None:
        self._release.set()


def finish_once_adopted(emulator, ledger_path: Path, stop: threading.Event) -> None:
    """Images take a minute here (the instance stays IMAGING: the evidence a re-run needs, as on the real
    API); once the ledger holds an image id for the intent, the clock jumps so the wait ends at once."""
    while not stop.wait(0.05):
        if ledger_path.exists() and any(e.image_id for e in Ledger(ledger_path).entries()):
            emulator.backend.advance(120)
            return


@pytest.fixture
def held(tmp_path):
    with start_emulator(transition_seconds=60) as emulator:
        allow_duplicate_names(emulator.backend)  # so a second create would really make a second image
        hold = HeldCreate(emulator.backend)
        stop = threading.Event()
        watcher = threading.Thread(target=finish_once_adopted, args=(emulator, tmp_path / "ledger.sqlite3", stop))
        watcher.start()
        try:
            yield emulator, hold
        finally:
            hold.release()
            stop.set()
            watcher.join(10)


def run_env(emulator, tmp_path: Path) -> dict[str, str]:
    """What a real-account run sees: a key pair, the endpoint, a ledger file (and an empty HOME)."""
    return {
        "ZENLAYER_ACCESS_KEY_ID": emulator.access_key_id,
        "ZENLAYER_ACCESS_KEY_PASSWORD": emulator.access_key_password,
        "ZENLAYER_BASE_URL": emulator.url,
        "ZENLAYER_JOURNAL": str(tmp_path / "ledger.sqlite3"),
        "HOME": str(tmp_path),
    }


def kill_when_applied(hold: HeldCreate, process: psutil.Process | subprocess.Popen) -> None:
    """SIGKILL ``process`` once its CreateImage was applied (its answer still held), then let the emulator go on."""
    assert hold.applied.wait(90), "CreateImage never reached the emulator"
    process.send_signal(signal.SIGKILL)
    process.wait(10)
    hold.release()


async def test_a_killed_process_leaves_an_open_intent_and_the_rerun_adopts(held, tmp_path):
    emulator, hold = held
    build = ids_by_name(emulator)["build-hkg-01"]
    script = "import sys, zenlayer_widgets as zw; zw.create_image(zw.connect(), sys.argv[1], sys.argv[2])"
    child = subprocess.Popen([sys.executable, "-c", script, build, "killed-mid-create"],
                             env={**os.environ, **run_env(emulator, tmp_path)}, stderr=subprocess.PIPE)
    kill_when_applied(hold, child)
    assert child.returncode == -signal.SIGKILL
    ledger = Ledger(tmp_path / "ledger.sqlite3")
    [entry] = ledger.entries()
    assert (entry.image_name, entry.outcome, entry.open) == ("killed-mid-create", None, True)

    async with async_client(emulator) as client:
        result = await create_image_async(client, build, "killed-mid-create", poll_interval=0.1, sleep=fast_sleep,
                                          ledger=ledger)
    assert result.adopted and result.status == "AVAILABLE"
    assert hold.image_ids == [result.image_id] == custom_images_named(emulator.backend, "killed-mid-create")
    assert [e.outcome for e in ledger.entries()] == [AVAILABLE_OUTCOME]


def test_papermill_rerun_after_the_kernel_died_adopts_the_image(held, tmp_path, monkeypatch):
    emulator, hold = held
    for name, value in run_env(emulator, tmp_path).items():
        monkeypatch.setenv(name, value)
    parameters = {"interactive": False, "instance_id": ids_by_name(emulator)["build-hkg-01"], "image_name": "runbook-镜像"}

    def run(out: Path) -> None:
        papermill.execute_notebook(str(RUNBOOK), str(out), parameters=parameters, kernel_name="python3",
                                   progress_bar=False, cwd=str(tmp_path))

    failures: list[BaseException] = []

    def first_run() -> None:
        try:
            run(tmp_path / "interrupted.ipynb")
        except BaseException as error:  # noqa: BLE001 - the kernel is killed on purpose
            failures.append(error)

    started = time.time()
    runner = threading.Thread(target=first_run)
    runner.start()
    assert hold.applied.wait(90), "CreateImage never reached the emulator"
    # papermill's kernel is a child of this process (JupyterLab's kernels, if any, are the servers' children)
    kernels = [p for p in psutil.Process().children() if p.create_time() >= started - 1
               and "ipykernel" in " ".join(p.cmdline())]
    assert len(kernels) == 1, kernels
    kill_when_applied(hold, kernels[0])
    runner.join(60)
    assert failures and not runner.is_alive()  # the first run died with its kernel
    assert Ledger(tmp_path / "ledger.sqlite3").entries()[-1].outcome is None

    run(tmp_path / "rerun.ipynb")
    text = "\n".join(str(output) for cell in nbformat.read(tmp_path / "rerun.ipynb", as_version=4).cells
                     for output in cell.get("outputs", []))
    [image_id] = hold.image_ids
    assert image_id in text and "AVAILABLE" in text and "runbook-镜像" in text
    assert custom_images_named(emulator.backend, "runbook-镜像") == [image_id]
    assert [(e.outcome, e.adopted) for e in Ledger(tmp_path / "ledger.sqlite3").entries()] == [(AVAILABLE_OUTCOME, True)]
