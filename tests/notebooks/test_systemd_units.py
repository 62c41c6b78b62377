"""contrib/systemd's service + timer pair: checked by ``systemd-analyze verify`` and the service's ExecStart run as
written on a fresh checkout (sandbox mode), as systemd would run it.

No systemd runs as PID 1 here, so the timer never fires and systemd itself never starts the service: what is
exercised is the units' syntax and references (verify), and the command line with systemd's own unescaping
(``%%`` -> ``%``, ``$$`` -> ``$``), working directory and environment.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path

from notebooks.test_readme_commands import README, ROOT, fresh_checkout, json_lines
from notebooks.test_runbooks_headless import sandbox_env  # noqa: F401 - the fixture
from zenlayer_widgets.core.ledger import open_ledger
from zenlayer_widgets.core.runs import history_rows

UNITS = ROOT / "contrib" / "systemd"
SERVICE, TIMER = UNITS / "zenlayer-rotate.service", UNITS / "zenlayer-rotate.timer"


def settings(unit: Path) -> dict[str, list[str]]:
    """Each ``Key=value`` of a unit file (comments and section headers left out), values in order."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", ";", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key.strip(), []).append(value.strip())
    return found


def unescaped(value: str) -> str:
    """What systemd makes of an ExecStart value with no specifier or variable but ``%%`` and ``$$``."""
    assert not re.search(r"%[^%]", value.replace("%%", "")), "a specifier the test does not expand"
    assert not re.search(r"\$[^$]", value.replace("$$", "")), "a variable systemd would substitute"
    return value.replace("%%", "%").replace("$$", "$")


def test_the_readme_shows_the_units_as_shipped():
    start = README.index("**systemd timers.**")
    blocks = re.findall(r"```ini\n(.*?)```", README[start:start + 6000], re.S)[:2]
    assert blocks == [SERVICE.read_text(encoding="utf-8"), TIMER.read_text(encoding="utf-8")]


def test_the_units_pass_systemd_analyze_verify(tmp_path):
    for unit in (SERVICE, TIMER):
        shutil.copy(unit, tmp_path / unit.name)
    result = subprocess.run(["systemd-analyze", "verify", SERVICE.name, TIMER.name], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), result.stdout + result.stderr
    timer = settings(TIMER)
    assert timer["OnCalendar"] == ["hourly"] and timer["Persistent"] == ["true"]
    assert timer["WantedBy"] == ["timers.target"]


def test_the_service_execstart_runs_as_written_on_a_fresh_checkout(sandbox_env):  # noqa: F811
    repo = fresh_checkout(sandbox_env)
    unit = settings(SERVICE)
    assert unit["Type"] == ["oneshot"] and unit["WorkingDirectory"] == ["/srv/zenlayer-widgets"]
    assert unit["EnvironmentFile"] == ["-/etc/zenlayer-widgets/rotate.env"]  # "-": none is no error
    env = dict(os.environ, **dict(item.split("=", 1) for item in unit["Environment"]))
    [command] = unit["ExecStart"]
    argv = shlex.split(unescaped(command))
    assert argv[:2] == ["/bin/sh", "-c"]
    first, second = (subprocess.run(argv, cwd=repo, env=env, capture_output=True, text=True, timeout=300)
                     for _ in range(2))  # the timer's first firing of the day, then the next hour's
    assert first.returncode == 0, first.stderr[-2000:]
    assert first.stdout.startswith("Policy nightly (applied): ") and json_lines(first.stdout)[0]["ok"] is True
    assert second.returncode == 0, second.stderr[-2000:]  # systemd logs success, no failed unit
    assert second.stdout.startswith("Policy nightly (skipped): Window ") and "nothing to do (exit 0)" in second.stdout
    outputs = sorted((repo / "runs").glob("rotate-*.ipynb"))
    assert len(outputs) == 2 and all(re.fullmatch(r"rotate-\d{8}T\d{6}\.ipynb", path.name) for path in outputs)
    ledger = open_ledger(str(Path(os.environ["ZENLAYER_SANDBOX_DIR"]) / "ledger.sqlite3"))  # the sandbox's, as the run's
    rows = history_rows(ledger)  # newest first
    assert [(row["policy"], row["kind"], row["outcome"]) for row in rows] == [
        ("nightly", "systemd", "skipped"), ("nightly", "systemd", "ok")]
    assert [row["output"] for row in rows] == [str(path) for path in reversed(outputs)]
    assert rows[0]["window"] == rows[1]["window"] != ""  # period 1d: both firings fell in one UTC day
