"""The README's papermill and cron lines, run as written on a fresh copy of the tracked files (sandbox mode).

Only what a reader must change is changed: ``<INSTANCE_ID>`` becomes a demo instance, the cron line's
``cd /srv/zenlayer-widgets`` the fresh copy, and cron's ``\\%`` the ``%`` cron hands to the shell.
"""

from __future__ import annotations

import json
import re
import subprocess
from datetime import date
from pathlib import Path

from notebooks.test_runbooks_headless import demo_id, sandbox_env  # noqa: F401 - the fixture

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def block_after(marker: str, language: str) -> str:
    """The first ``language`` code block after ``marker`` in the README."""
    start = README.index(marker)
    found = re.search(rf"```{language}\n(.*?)```", README[start:], re.S)
    assert found, f"no {language} block after {marker!r}"
    return found.group(1)


def fresh_checkout(tmp_path: Path) -> Path:
    """The tracked files a clone has (no runs/, no notebooks/work/), with the venv of this one."""
    tracked = subprocess.run(["git", "ls-files", "notebooks"], cwd=ROOT, capture_output=True, text=True, check=True)
    repo = tmp_path / "checkout"
    for name in tracked.stdout.split():
        target = repo / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes((ROOT / name).read_bytes())
    (repo / ".venv").symlink_to(ROOT / ".venv")
    return repo


def run(command: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["sh", "-c", command], cwd=cwd, capture_output=True, text=True, timeout=600)


def json_lines(stdout: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith("{")]


def test_the_readme_papermill_lines_run_as_written_each_into_its_own_output(sandbox_env, tmp_path):  # noqa: F811
    repo = fresh_checkout(tmp_path)
    block = block_after("Headless with papermill", "bash").replace("<INSTANCE_ID>", demo_id("build-hkg-01"))
    commands = re.sub(r"\\\n\s*", "", block).strip().splitlines()  # a continued line is one command
    assert commands[0] == "mkdir -p runs" and len(commands) == 4
    results = [run(command, repo) for command in commands]
    for command, result in zip(commands, results, strict=True):
        assert result.returncode == 0, f"{command}\n{result.stderr[-2000:]}"
        assert "Unable to parse" not in result.stderr
    first, second = (json_lines(result.stdout) for result in results[1:3])
    assert results[1].stdout.startswith("Image web-backup-01 (") and first[0]["image_name"] == "web-backup-01"
    assert second[0]["image_name"] == "web-backup-02" and second[0]["status"] == "AVAILABLE"
    outputs = sorted(p.name for p in (repo / "runs").glob("*.ipynb"))
    assert outputs == ["inventory.ipynb", "web-backup-01.ipynb", "web-backup-02.ipynb"]  # none overwrote another


def test_the_readme_cron_line_runs_as_written_on_a_fresh_checkout(sandbox_env, tmp_path):  # noqa: F811
    repo = fresh_checkout(tmp_path)
    line = block_after("Nightly with cron and papermill", "cron").strip()
    schedule, command = line.split(" ", 5)[:5], line.split(" ", 5)[5]
    assert schedule == ["0", "3", "*", "*", "*"]
    command = command.replace("cd /srv/zenlayer-widgets", f"cd {repo}").replace("\\%", "%")  # what cron runs
    assert not (repo / "runs").exists()
    result = run(command, repo.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert "Unable to parse" not in result.stderr
    assert result.stdout.startswith("Policy nightly (applied): ")
    summary = json_lines(result.stdout)[0]
    assert summary["ok"] is True and summary["applied"] is True and summary["policy"] == "nightly"
    assert (repo / "runs" / f"rotate-{date.today():%F}.ipynb").exists()


def test_the_rotation_runbook_as_shipped_says_what_to_set_in_one_line(sandbox_env, tmp_path):  # noqa: F811
    repo = fresh_checkout(tmp_path)
    result = run(".venv/bin/papermill notebooks/rotate_images.ipynb out.ipynb", repo)
    assert result.returncode != 0
    assert "RunFailed: No instances chosen: set instance_ids" in result.stderr + (repo / "out.ipynb").read_text()
    assert "ValueError" not in (repo / "out.ipynb").read_text()
