"""A create as an operation's plan: [stop, wait STOPPED,] create the image, follow it to AVAILABLE[, start].

The step kinds are :mod:`.create_steps`; the orchestrator is :func:`~zenlayer_widgets.core.create.create_image_async`.
"""

from __future__ import annotations

from .operations import StepPlan

#: The operation kind of a create (with its stop and start) and its step kinds.
KIND = "create"
STOP, MAKE, FOLLOW, START = "stop_for_image", "make_image", "follow_image", "start_owed"


def create_key(instance_id: str, image_name: str) -> str:
    """What makes a re-run the same create operation: the instance and the image name (as for its intent)."""
    return f"{KIND}:{instance_id}:{image_name}"


def plan_steps(instance_id: str, image_name: str, description: str | None, *, stop: bool, force: bool,
               start: bool) -> list[StepPlan]:
    """The steps, planned before anything is sent. The start is a clean-up (``always``): a create that fails after
    the stop still gives the instance back."""
    target = {"instance_id": instance_id}
    plan = [StepPlan(STOP, {**target, "force": force})] if stop else []
    plan += [StepPlan(MAKE, {**target, "image_name": image_name, "description": description}), StepPlan(FOLLOW, {})]
    if start:
        plan.append(StepPlan(START, target, always=True))
    return plan
