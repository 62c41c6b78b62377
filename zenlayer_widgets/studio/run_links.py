"""Where a run's output notebook opens: a JupyterLab link when it lies under the server's root, else its path.

The studio runs in a kernel of some Jupyter server; :func:`this_server` finds it among the running servers (the one
whose root holds the kernel's working folder, the notebook's) so a link reaches ``<base_url>lab/tree/<path>``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote


@dataclass(frozen=True)
class ServerRoot:
    """A Jupyter server's root folder and base URL (``/`` or ``/user/alice/``)."""

    root_dir: str
    base_url: str = "/"


def output_link(output: str, server: ServerRoot | None) -> str | None:
    """The JupyterLab URL (path only, same origin) that opens ``output``, or None when there is no server or the
    notebook is not under its root (then the absolute path is all there is)."""
    if not output or server is None:
        return None
    path, root = Path(output).resolve(), Path(server.root_dir).expanduser().resolve()
    if not path.is_relative_to(root):
        return None
    base = server.base_url if server.base_url.endswith("/") else server.base_url + "/"
    return f"{base}lab/tree/{quote(path.relative_to(root).as_posix())}"


def this_server(cwd: str | None = None) -> ServerRoot | None:
    """The running Jupyter server whose root holds ``cwd`` (default: the working folder), the deepest root when
    several do; None outside Jupyter or when none is found."""
    try:
        from jupyter_server.serverapp import list_running_servers
    except ImportError:
        return None
    here = Path(cwd or os.getcwd()).resolve()
    found: list[ServerRoot] = []
    try:
        for info in list_running_servers():
            root = info.get("root_dir") or info.get("notebook_dir")
            if root and here.is_relative_to(Path(root).expanduser().resolve()):
                found.append(ServerRoot(str(root), str(info.get("base_url") or "/")))
    except (OSError, ValueError):  # an unreadable runtime file: no link, the path is shown
        return None
    return max(found, key=lambda server: len(Path(server.root_dir).parts), default=None)


__all__ = ["ServerRoot", "output_link", "this_server"]
