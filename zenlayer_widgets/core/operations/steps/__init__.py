"""The step kinds, one module per family; importing this package registers them all in :data:`KINDS`."""

from . import edits, images, instances, power
from .base import KINDS, Evidence, StepKind, StepRun, register

__all__ = ["KINDS", "Evidence", "StepKind", "StepRun", "edits", "images", "instances", "power", "register"]
