"""Instances from images, each one durable operation (core/operations): verify an image boots, launch a copy,
restore an instance. See README "Restore and proof"."""

from .common import OperationFailed, OperationRefused
from .launch import LaunchResult, launch_from_image, launch_from_image_async
from .restore import RestoreResult, restore_instance, restore_instance_async
from .throwaways import release_orphans
from .verify import VerifyResult, verified, verify_image, verify_image_async

__all__ = [
    "LaunchResult", "OperationFailed", "OperationRefused", "RestoreResult", "VerifyResult", "launch_from_image",
    "launch_from_image_async", "release_orphans", "restore_instance", "restore_instance_async", "verified",
    "verify_image", "verify_image_async",
]
