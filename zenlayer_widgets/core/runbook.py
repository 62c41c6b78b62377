"""What the headless create runbook does, so the notebook stays a few lines: parameters as papermill
gives them, one create, one line of result, a machine-readable summary, and a failure as one clear line."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from ..api.errors import ZenlayerError
from ..api.params import yes_no
from .progress import ImageProgress
from .sync import AnyClient

_NONE = {"none", "null", "", "default"}


class RunFailed(Exception):
    """The run stopped; the message is the whole reason (IPython and papermill show only this line)."""

    def _render_traceback_(self) -> list[str]:  # IPython's hook: no traceback for a reason already explained
        return [f"RunFailed: {self}"]


def instance_id_text(value: object) -> str:
    """``instance_id`` as text whatever papermill made of it (``-p instance_id 1414024560606`` is an int)."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise RunFailed(f"instance_id must be an instance id (digits or text), not {type(value).__name__} {value!r}.")
    text = str(value).strip()
    if not text or any(c.isspace() for c in text):
        raise RunFailed(f"instance_id {value!r} is not an instance id: pass -p instance_id <INSTANCE_ID>.")
    return text


def flag(value: object, name: str, *, optional: bool = False) -> bool | None:
    """A True/False parameter (papermill gives bools; ``-r`` gives text); None allowed when ``optional``."""
    if value is None and optional:
        return None
    answer = yes_no(value)
    if answer is not None:
        return answer
    if optional and str(value).strip().lower() in _NONE:
        return None
    allowed = "True, False or None" if optional else "True or False"
    raise RunFailed(f"{name} must be {allowed}, not {value!r}.")


def summary(result: ImageProgress) -> dict[str, Any]:
    """The result as JSON-ready data (what a scheduler reads from the output notebook)."""
    return {
        "ok": True, "instance_id": result.instance_id, "zone_id": result.zone_id, "image_name": result.image_name,
        "image_id": result.image_id, "status": result.status, "request_id": result.request_id,
        "adopted": result.adopted, "already_made": result.already_made, "seconds": round(result.elapsed, 1),
        "stopped_at": result.stopped_at, "started_at": result.started_at, "downtime_s": result.downtime,
    }


def to_stdout(line: str, data: Mapping[str, Any]) -> None:
    """The run's one line and its JSON summary (one line) on the process's standard output too: papermill's
    kernel shares it with papermill, so cron mails them and CI logs them (the notebook shows them as well)."""
    stream = sys.__stdout__
    if stream is None or stream is sys.stdout:  # plain Python: the caller's print already went there
        return
    stream.write(f"{line}\n{json.dumps(dict(data), default=str, ensure_ascii=False)}\n")
    stream.flush()


def result_line(result: ImageProgress) -> str:
    """One line: what was made, and the downtime if the run stopped the instance."""
    line = f"Image {result.image_name} ({result.image_id}) is {result.status} in {result.zone_id}"
    if result.already_made:
        line += " (made by an earlier run of this create; nothing was sent)"
    if result.stopped_at:
        line += f"; instance {result.instance_id} stop sent at {result.stopped_at}"
        line += f", RUNNING again at {result.started_at} (downtime {result.downtime:.1f} s)" if result.started_at \
            and result.downtime is not None else ", left STOPPED"
    return line + "."


def run_create(client: AnyClient, instance_id: object, image_name: str, description: str | None = None, *,
               stop_if_running: object = False, start_after: object = None, wait: object = True) -> ImageProgress:
    """:func:`~zenlayer_widgets.core.create.create_image` with papermill's parameters; :class:`RunFailed` (one line)."""
    from .create import create_image
    from .create_errors import PreflightFailed

    ident = instance_id_text(instance_id)
    stop, start, follow = flag(stop_if_running, "stop_if_running"), flag(start_after, "start_after", optional=True), flag(wait, "wait")
    try:
        return create_image(client, ident, image_name, description or None, stop_if_running=bool(stop),
                            start_after=start, wait=bool(follow))
    except PreflightFailed as error:
        raise RunFailed(" ".join(str(error).replace("CreateImage refused before sending:\n", "").split("\n"))) from None
    except (ZenlayerError, TimeoutError) as error:
        raise RunFailed(f"{type(error).__name__}: {error}".replace("\n", " ")) from None
