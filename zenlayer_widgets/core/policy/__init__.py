"""Image rotation policies: make a new image per instance, keep the newest ``keep`` the policy made.

:class:`Policy` says what; :func:`plan_rotation` shows it (changes nothing); :func:`apply_rotation`
does it exactly once and resumably, one apply of a policy at a time (:class:`PolicyBusy`); :func:`mark_policy_images` adds ``policy`` and ``age`` to an
inventory's images table (and ``pinned``). Ownership is the image id the policy's own step recorded (see
:mod:`.records`), never a name; :func:`pin_image` keeps an image out of every policy.
"""

from .apply import Outcome, Result, RotationFailed, apply_rotation, apply_rotation_async
from .lease import PolicyBusy
from .mark import mark_policy_images
from .model import Policy, parse_instance_ids
from .pins import Pin, pin_image, pin_image_async, pins, pins_frame, unpin_image
from .plan import Plan, PlanItem, plan_rotation, plan_rotation_async
from .records import OwnedImage, owned_images, runs, runs_frame

__all__ = ["OwnedImage", "Outcome", "Pin", "Plan", "PlanItem", "Policy", "PolicyBusy", "pin_image", "pin_image_async",
           "pins", "pins_frame", "unpin_image", "Result", "RotationFailed", "apply_rotation_async",
           "apply_rotation", "mark_policy_images", "owned_images", "parse_instance_ids", "plan_rotation_async", "plan_rotation", "runs", "runs_frame"]
