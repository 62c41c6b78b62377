"""``ImageStudio``: the whole form — instances, create form, inventory — over one controller."""

from __future__ import annotations

import ipywidgets as W

from ..api.client import AsyncZenlayerClient, ZenlayerClient
from ..api.errors import CredentialsError
from ..api.profiles import list_profiles
from ..connection import connect
from ..studio.controller import StudioController
from ..studio.tasks import current_loop
from .activity_view import ActivityView
from .create_form import CreateForm
from .instances import InstanceTable
from .inventory_view import InventoryView
from .profile_picker import ProfilePicker
from .render import banner_html
from .reveal import Reveal
from .rotation_view import RotationView

#: Above the connection banner of a read-only studio.
READ_ONLY_HTML = ('<div class="zw-banner-read-only"><b>READ-ONLY</b> — this studio only looks: creating, deleting, '
                  "renaming, stopping and starting are off, and the client refuses them before anything is sent.</div>")


class ImageStudio(W.VBox):
    """Instances with power state, live name validation, CreateImage with progress, inventory and quota, a rotation
    policy (preview, then a confirmed apply) and the activity.

    ``ImageStudio()`` connects by itself (the sandbox emulator when no credentials are set). Its
    parts are usable alone: ``InstanceTable``, ``ImageNameField``, ``CreateForm``, ``InventoryView``,
    each over a :class:`~zenlayer_widgets.studio.controller.StudioController`.
    """

    def __init__(
        self,
        client: ZenlayerClient | AsyncZenlayerClient | None = None,
        *,
        auto_refresh: bool = True,
        controller: StudioController | None = None,
        load: bool = True,
    ) -> None:
        if controller is None:
            if client is None:  # connect() may return the client the notebook holds: the studio makes its own twin
                controller = StudioController(connect().to_async(), owns_client=True)  # closed by close()
            else:  # the notebook's client (or its async counterpart, which it owns): never closed here
                loop = current_loop()  # the controller's tasks run here: its async counterpart must too
                aclient = client.async_client(loop) if isinstance(client, ZenlayerClient) else client
                controller = StudioController(aclient)
        self.controller = controller
        self.banner = W.HTML()
        self._show_connection()
        self.picker = self._profile_picker()
        self.instances = InstanceTable(controller, auto_refresh=auto_refresh)
        self.form = CreateForm(controller)
        self.inventory = InventoryView(controller)
        self.rotation = RotationView(controller.rotation)
        self.activity = ActivityView(controller.activity)
        left = W.VBox([W.HTML("<h4 style='margin:4px 0'>Instances</h4>"), self.instances])
        left.add_class("zw-left")
        columns = W.HBox([left, self.form])  # side by side; stacked below the width where the list would be squeezed
        columns.add_class("zw-columns")
        self.reveal = Reveal()  # Run All leaves the page at the last cell: the studio brings itself into view once
        super().__init__([self.reveal, self.banner, self.picker, columns, self.inventory, self.rotation, self.activity])
        self.add_class("zw-studio")
        self._show_read_only()
        if load:
            controller.tasks.spawn(controller.refresh())
        if auto_refresh:  # images made, renamed or deleted elsewhere show without a click
            controller.set_image_poll(True)

    @property
    def read_only(self) -> bool:
        """The client refuses every change (``connect(read_only=True)``, ``ZENLAYER_READ_ONLY=1``, a profile flag)."""
        return bool(getattr(self.controller.client, "read_only", False))

    def _show_read_only(self) -> None:
        """Read-only: no create form, no rotation panel, no image edit/delete (zenlayer.css, ``.zw-read-only``)."""
        hidden = "none" if self.read_only else None
        self.form.layout.display = self.rotation.layout.display = hidden
        (self.add_class if self.read_only else self.remove_class)("zw-read-only")

    def _show_connection(self) -> None:
        client, sandbox = self.controller.client, self.controller.sandbox
        source = None if sandbox or not hasattr(client, "credentials") else client.credentials.describe()
        self.banner.value = (READ_ONLY_HTML if self.read_only else "") + banner_html(
            sandbox, str(client.base_url), source, self._current_profile())
        self.banner.remove_class("zw-connection" if sandbox else "zw-sandbox-banner")
        self.banner.add_class("zw-sandbox-banner" if sandbox else "zw-connection")

    def _current_profile(self) -> str | None:
        credentials = getattr(self.controller.client, "credentials", None)
        return None if self.controller.sandbox or credentials is None else credentials.profile

    def _profile_picker(self) -> ProfilePicker:
        try:
            profiles = list_profiles()
        except CredentialsError as error:  # a broken file: no picker, and the reason in the form
            self.controller.report(error, "Listing the profiles")
            profiles = []
        return ProfilePicker(profiles, self._current_profile(), self.switch_account)

    def switch_account(self, profile: str | None) -> None:
        """Work on another account (a profile of ~/.zenlayer/credentials.json, or None: the sandbox)."""
        try:
            client = connect(profile=profile) if profile is not None else connect(sandbox=True)
        except (CredentialsError, ValueError) as error:
            self.controller.report(error, "Switching accounts")
            self.picker.show(self._current_profile())
            return
        # a twin of its own: connect() returns the notebook's client when it asks for the same account, and that
        # client (with a create running on it) must stay open; the twin is the studio's, closed with it
        self.controller.switch_client(client.to_async(), f"profile '{profile}'" if profile else "the sandbox", owned=True)
        self._show_connection()
        self._show_read_only()

    def close(self) -> None:
        """Stop the studio's background work and close the clients it made (never one the notebook holds)."""
        self.controller.close()
        super().close()
