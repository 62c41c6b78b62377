"""JupyterLab settings for `make lab`: saving a runbook strips its outputs and widget state.

Running a runbook fills it with outputs (tables, the studio's widget state, ids from your account);
saved as-is, the tracked notebook would be dirty after every run and could carry account data
into git. The hook below saves the runbooks in this folder clean: code, markdown and tags only.
"""

from __future__ import annotations

from typing import Any


def strip_outputs(model: dict[str, Any], path: str = "", **_kwargs: Any) -> None:
    """A ContentsManager pre-save hook: empty outputs, execution counts and saved widget state of a notebook."""
    if model.get("type") != "notebook" or "/" in path.strip("/"):  # only the runbooks at the top of this folder
        return
    notebook = model.get("content")
    if not isinstance(notebook, dict):
        return
    notebook.get("metadata", {}).pop("widgets", None)
    for cell in notebook.get("cells", []):
        if cell.get("cell_type") == "code":
            cell["outputs"] = []
            cell["execution_count"] = None
        cell.get("metadata", {}).pop("execution", None)


c = get_config()  # type: ignore[name-defined]  # noqa: F821 - provided by traitlets when this file is loaded
c.FileContentsManager.pre_save_hook = strip_outputs
