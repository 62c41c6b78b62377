"""``CredentialsForm``: type an access key pair (or a token) for this kernel session only.

For when the secret must not sit in an environment variable or a profile file. The secret goes
from the browser to the kernel once: the kernel takes it out of the widget at once (the box
empties), never echoes it back to the browser (ipywidgets echoes every received value by
default; :class:`SecretField` turns that off), so it is never in the notebook's saved widget
state. Optional: the studio does not need it::

    form = zw.CredentialsForm(then=zw.ImageStudio)   # the studio replaces the form once connected
    form                                             # (or read form.client in a later cell)
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W
from traitlets import Unicode

from ..api.client import ZenlayerClient
from ..api.credentials import Credentials
from ..api.errors import CredentialsError
from ..studio.explain import explain
from ..studio.tasks import TaskRunner, current_loop


class SecretField(W.Password):
    """A password box whose value is synced on Enter or blur only and never echoed back to the browser."""

    value = Unicode(help="The typed secret; the kernel clears it as soon as it arrives").tag(sync=True, echo_update=False)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("continuous_update", False)  # no partial secret per keystroke
        super().__init__(**kwargs)


class CredentialsForm(W.VBox):
    """An access key id and password, or a bearer token, typed in; ``client`` once connected.

    ``base_url`` defaults to ``ZENLAYER_BASE_URL`` or the real API. ``then(client)`` builds a
    widget that replaces the form once the credentials were accepted (e.g. ``zw.ImageStudio``);
    ``on_connect(client)`` is called then too. The credentials are checked with one DescribeZones.
    """

    def __init__(
        self,
        *,
        base_url: str | None = None,
        then: Callable[[ZenlayerClient], W.Widget] | None = None,
        on_connect: Callable[[ZenlayerClient], None] | None = None,
        **client_options: Any,
    ) -> None:
        self.base_url = base_url
        self.client: ZenlayerClient | None = None
        self._then = then
        self._on_connect = on_connect
        self._client_options = client_options
        self._typed: dict[str, str] = {}
        self._tasks = TaskRunner(current_loop(), self._failed)
        self.key_id = W.Text(placeholder="Access key id", description="Key id", continuous_update=False)
        self.password = SecretField(placeholder="Access key password", description="Password")
        self.token = SecretField(placeholder="or a bearer token", description="Token")
        self.connect_button = W.Button(description="Connect", button_style="primary", icon="sign-in")
        self.status = W.HTML("Typed secrets stay in this kernel: the boxes empty as soon as the kernel has them.")
        for widget, css in [(self.key_id, "zw-key-id"), (self.password, "zw-key-password"), (self.token, "zw-token"),
                            (self.connect_button, "zw-connect"), (self.status, "zw-credentials-status")]:
            widget.add_class(css)
        self.password.observe(lambda change: self._take("password", change["new"]), "value")
        self.token.observe(lambda change: self._take("token", change["new"]), "value")
        self.connect_button.on_click(lambda _: self.connect())
        super().__init__([self.key_id, self.password, self.token, self.connect_button, self.status])
        self.add_class("zw-credentials-form")

    def _take(self, which: str, value: str) -> None:
        """Move a typed secret out of its widget into the kernel, and empty the box."""
        if not value:
            return
        self._typed[which] = value
        (self.password if which == "password" else self.token).value = ""
        received = " and ".join(name for name in ("password", "token") if name in self._typed)
        self._show(f"Received the {received} (kept in the kernel, not in the notebook).")

    def _show(self, text: str, css: str = "") -> None:
        self.status.value = f"<span class='{css}'>{html.escape(text)}</span>" if css else html.escape(text)

    def credentials(self) -> Credentials:
        """The typed credentials (a complete key pair wins over a token); the typed secrets are forgotten.

        :class:`CredentialsError` (naming what is missing, never a secret) when incomplete.
        """
        password, token = self._typed.pop("password", None), self._typed.pop("token", None)
        return Credentials(access_key_id=self.key_id.value.strip() or None, access_key_password=password, token=token)

    def connect(self) -> Any:
        """Check the typed credentials with one DescribeZones; returns the task (a future) doing it."""
        try:
            credentials = self.credentials()
        except CredentialsError as error:
            self._show(str(error), "zw-credentials-error")
            return None
        client = ZenlayerClient(credentials, base_url=self.base_url, **self._client_options)
        self.connect_button.disabled = True
        self._show(f"Connecting to {client.base_url}…")
        return self._tasks.spawn(self._verify(client))

    async def _verify(self, client: ZenlayerClient) -> None:
        try:
            zones = await client.async_client().describe_zones()
        except Exception as error:
            client.close()  # and its async counterpart
            self.connect_button.disabled = False
            self._show(explain(error, "Signing in").text(), "zw-credentials-error")
            return
        self.client = client
        self._show(f"Connected to {client.base_url} ({len(zones)} zones).", "zw-credentials-ok")
        if self._on_connect is not None:
            self._on_connect(client)
        if self._then is not None:
            self.children = (self.status, self._then(client))

    def _failed(self, error: BaseException) -> None:
        self.connect_button.disabled = False
        self._show(explain(error, "Signing in").text(), "zw-credentials-error")
