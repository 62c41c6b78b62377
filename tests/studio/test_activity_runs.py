"""The activity panel lists the unattended runs (the run history: policy, started, ended, outcome) with a link to each
run's output notebook: a JupyterLab link when the notebook is under the server's root, else its absolute path."""

from __future__ import annotations

import itertools
import json
import os
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser

import pytest

from zenlayer_widgets.core import runs as run_records
from zenlayer_widgets.core.ledger import account_of, ledger_for
from zenlayer_widgets.core.ledger.records import now_text
from zenlayer_widgets.core.runs import FAILED, OK, end_run, start_run
from zenlayer_widgets.studio.activity import POLICY, Activity
from zenlayer_widgets.studio.run_links import ServerRoot, output_link, this_server
from zenlayer_widgets.widgets.activity_view import ActivityView


class Links(HTMLParser):
    """The anchors (href, text) and code spans of a rendered table."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, str]] = []
        self.codes: list[str] = []
        self._in: str | None = None
        self._href = ""

    def handle_starttag(self, tag, attrs):
        if tag in ("a", "code"):
            self._in, self._href = tag, dict(attrs).get("href") or ""

    def handle_data(self, data):
        if self._in == "a":
            self.links.append((self._href, data))
        elif self._in == "code":
            self.codes.append(data)

    def handle_endtag(self, tag):
        self._in = None


@pytest.fixture(autouse=True)
def ticking(monkeypatch):
    """Each start and end a minute after the last: "newest first" never rests on two runs' milliseconds."""
    start = datetime(2026, 12, 7, 3, 0, tzinfo=timezone.utc)
    minutes = itertools.count()
    monkeypatch.setattr(run_records, "now_text", lambda: now_text(start + timedelta(minutes=next(minutes))))


def record(client, policy, output, outcome=None, detail=None, kind="cron"):
    ledger = ledger_for(client)
    run_id = start_run(ledger, account_of(client), policy, runbook="rotate_images.ipynb", kind=kind,
                       parameters={"apply": True}, output=output)
    if outcome:
        end_run(ledger, run_id, outcome, detail)
    return run_id


def test_the_panel_lists_each_run_with_a_lab_link_to_its_output_or_its_path(mock_client, tmp_path):
    root = tmp_path / "server root"
    inside = root / "runs" / "rotate 2026-12-07.ipynb"
    outside = tmp_path / "staging" / "job-1" / "rotate_images-2026-12-07.ipynb"
    ok = record(mock_client, "nightly", str(inside), OK)
    failed = record(mock_client, "verify-images", str(outside), FAILED, "web-1 did not boot", kind="jupyter-scheduler")
    running = record(mock_client, "nightly", None)
    activity = Activity(lambda: mock_client, server=lambda: ServerRoot(str(root), "/user/alice/"))
    view = ActivityView(activity)
    activity.reload()

    assert [run["run_id"] for run in activity.runs] == [running, failed, ok]  # newest first
    assert [(run["policy"], run["outcome"]) for run in activity.runs] == [
        ("nightly", "running"), ("verify-images", "failed"), ("nightly", "ok")]
    assert all(run["started"] for run in activity.runs) and activity.runs[0]["ended"] == ""
    assert activity.runs[2]["ended"] >= activity.runs[2]["started"]
    assert activity.runs[2]["href"] == "/user/alice/lab/tree/runs/rotate%202026-12-07.ipynb"
    assert activity.runs[1]["href"] == ""  # not under the server's root: the path is shown instead

    links = Links()
    links.feed(view.runs.value)
    assert links.links == [("/user/alice/lab/tree/runs/rotate%202026-12-07.ipynb", "rotate 2026-12-07.ipynb")]
    assert links.codes == [str(outside)]
    assert "did not boot" in view.runs.value and "none recorded" in view.runs.value  # the reason; the running run
    assert view.runs.value.index("verify-images") < view.runs.value.index(links.links[0][0])


def test_the_runs_follow_the_kind_filter_and_a_new_run_shows_on_refresh(mock_client, tmp_path):
    activity = Activity(lambda: mock_client, server=lambda: None)
    view = ActivityView(activity)
    activity.reload()
    assert activity.runs == [] and "No runs recorded yet" in view.runs.value
    record(mock_client, "nightly", str(tmp_path / "a.ipynb"), OK)
    view.refresh.click()
    assert [run["policy"] for run in activity.runs] == ["nightly"] and activity.runs[0]["href"] == ""
    assert f"<code class=\"zw-run-output-path\">{tmp_path / 'a.ipynb'}</code>" in view.runs.value  # no server: the path
    activity.kind = "create"
    assert activity.runs == []
    activity.kind = POLICY
    assert len(activity.runs) == 1


def test_a_link_only_for_a_notebook_under_the_root():
    server = ServerRoot("/srv/lab", "/")
    assert output_link("/srv/lab/runs/x.ipynb", server) == "/lab/tree/runs/x.ipynb"
    assert output_link("/srv/lab/../elsewhere/x.ipynb", server) is None
    assert output_link("/srv/laboratory/x.ipynb", server) is None
    assert output_link("/srv/lab/runs/x.ipynb", ServerRoot("/srv/lab", "/hub/user/bo")) == "/hub/user/bo/lab/tree/runs/x.ipynb"
    assert output_link("", server) is None and output_link("/srv/lab/x.ipynb", None) is None


def test_the_server_is_the_running_one_whose_root_holds_the_kernel(tmp_path, monkeypatch):
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(runtime))
    outer, inner = tmp_path / "home", tmp_path / "home" / "team"
    (inner / "notebooks").mkdir(parents=True)
    for name, root, base in (("1", outer, "/"), ("2", inner, "/team/")):  # this process stands in for both servers
        (runtime / f"jpserver-{name}.json").write_text(json.dumps({"pid": os.getpid(), "root_dir": str(root),
                                                                   "base_url": base}))
    assert this_server(str(inner / "notebooks")) == ServerRoot(str(inner), "/team/")  # the deepest root
    assert this_server(str(outer)) == ServerRoot(str(outer), "/")
    assert this_server(str(tmp_path / "elsewhere")) is None
