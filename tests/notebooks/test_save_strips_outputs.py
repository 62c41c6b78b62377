"""Running a runbook in `make lab` does not leave the tracked notebook dirty: the save hook strips outputs."""

from __future__ import annotations

import json
import re
from pathlib import Path

import nbformat
from jupyter_server.services.contents.filemanager import FileContentsManager
from traitlets.config import Config, PyFileConfigLoader

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "notebooks" / "jupyter_server_config.py"


def lab_config() -> Config:
    return PyFileConfigLoader(CONFIG.name, path=str(CONFIG.parent)).load_config()


def run_notebook() -> nbformat.NotebookNode:
    """The runbook as JupyterLab holds it after a run: outputs, counts and the studio's widget state."""
    notebook = nbformat.read(ROOT / "notebooks" / "create_image.ipynb", as_version=4)
    for count, cell in enumerate(c for c in notebook.cells if c.cell_type == "code"):
        cell.execution_count = count + 1
        cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="instance 7700112233445 in HKG-A\n")]
    notebook.metadata["widgets"] = {"application/vnd.jupyter.widget-state+json": {"state": {"abc": {}}}}
    return notebook


def test_saving_a_run_runbook_writes_it_back_clean(tmp_path):
    manager = FileContentsManager(root_dir=str(tmp_path), config=lab_config())
    run = run_notebook()
    manager.save({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(run))}, "create_image.ipynb")
    saved = nbformat.read(tmp_path / "create_image.ipynb", as_version=4)
    code = [cell for cell in saved.cells if cell.cell_type == "code"]
    assert code and all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert "widgets" not in saved.metadata and "7700112233445" not in (tmp_path / "create_image.ipynb").read_text()
    # what makes it a runbook survives: the sources, the parameters tag, the notebook-only tags
    original = nbformat.read(ROOT / "notebooks" / "create_image.ipynb", as_version=4)
    assert [cell.source for cell in saved.cells] == [cell.source for cell in original.cells]
    assert [cell.metadata.get("tags") for cell in saved.cells] == [cell.metadata.get("tags") for cell in original.cells]


def test_notebooks_in_subfolders_keep_their_outputs(tmp_path):
    (tmp_path / "reports").mkdir()
    manager = FileContentsManager(root_dir=str(tmp_path), config=lab_config())
    manager.save({"type": "notebook", "format": "json", "content": json.loads(nbformat.writes(run_notebook()))}, "reports/run.ipynb")
    assert "7700112233445" in (tmp_path / "reports" / "run.ipynb").read_text()


def test_make_lab_uses_the_hook():
    recipe = re.search(r"^lab:.*?\n((?:\t.*\n)+)", (ROOT / "Makefile").read_text(), re.M)
    assert recipe and "cd $(LAB_DIR)" in recipe.group(1)  # the working copies (tests/browser: git status stays clean)
    assert "--config=$(abspath notebooks/jupyter_server_config.py)" in recipe.group(1)
