"""``ImageStudio``: the whole form — instances, create form, inventory — over one controller."""

from __future__ import annotations

import ipywidgets as W

from ..api.client import AsyncZenlayerClient, ZenlayerClient
from ..connection import connect
from ..studio.controller import StudioController
from ..studio.tasks import current_loop
from .create_form import CreateForm
from .instances import InstanceTable
from .inventory_view import InventoryView
from .render import banner_html


class ImageStudio(W.VBox):
    """Instances with power state, live name validation, CreateImage with progress, inventory and quota.

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
        self._own_client: ZenlayerClient | None = None
        if controller is None:
            if client is None:
                client = self._own_client = connect()  # made here, so closed by close()
            loop = current_loop()  # the controller's tasks run here: its async counterpart must too
            aclient = client.async_client(loop) if isinstance(client, ZenlayerClient) else client
            controller = StudioController(aclient)
        self.controller = controller
        self.banner = W.HTML(banner_html(controller.sandbox, str(controller.client.base_url)))
        self.banner.add_class("zw-sandbox-banner" if controller.sandbox else "zw-connection")
        self.instances = InstanceTable(controller, auto_refresh=auto_refresh)
        self.form = CreateForm(controller, self.instances)
        self.inventory = InventoryView(controller)
        left = W.VBox([W.HTML("<h4 style='margin:4px 0'>Instances</h4>"), self.instances], layout=W.Layout(flex="1 1 auto", margin="0 24px 0 0", overflow="auto"))
        super().__init__(
            [self.banner, W.HBox([left, self.form], layout=W.Layout(justify_content="space-between")), self.inventory],
        )
        self.add_class("zw-studio")
        if load:
            controller.tasks.spawn(controller.refresh())

    def close(self) -> None:
        self.controller.close()
        if self._own_client is not None:
            self._own_client.close()
        super().close()
