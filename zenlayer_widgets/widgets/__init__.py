"""Thin ipywidgets views that observe the traits of a :class:`~zenlayer_widgets.studio.controller.StudioController`."""

from .activity_view import ActivityView
from .create_form import CreateForm
from .credentials_form import CredentialsForm
from .instances import InstancePicker, InstanceTable
from .inventory_view import InventoryView
from .name_field import ImageDescriptionField, ImageNameField
from .profile_picker import ProfilePicker
from .rotation_view import RotationView
from .studio import ImageStudio

__all__ = [
    "ActivityView",
    "CreateForm",
    "CredentialsForm",
    "ImageDescriptionField",
    "ImageNameField",
    "ImageStudio",
    "InstancePicker",
    "InstanceTable",
    "InventoryView",
    "ProfilePicker",
    "RotationView",
]
