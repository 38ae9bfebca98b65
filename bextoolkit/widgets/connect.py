"""``ConnectForm``: pod or base URL and OAuth credentials in, a :class:`BexClient` out.

Secrets never enter what a notebook saves. Values found in the environment stay in the
kernel (the password fields only say where they come from); values typed into the password
fields are cleared once a connection works (and kept after a failed one, so a person fixes
one field rather than pasting all again); no status line ever repeats a secret.

Connect answers within about 5 s: it asks for a token once, with a short timeout and no
backoff. The client it hands on keeps the library's full retry policy.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from typing import Any

import ipywidgets as w

from bextoolkit import auth
from bextoolkit.client import BexClient
from bextoolkit.exceptions import BexConfigError
from bextoolkit.widgets._common import error_text, field, named, show, status_html

log = logging.getLogger(__name__)

ConnectCallback = Callable[[BexClient], Any]
_OTHER = "other"
#: Seconds an interactive Connect may take before it says what went wrong.
CONNECT_TIMEOUT = 5.0


def pod_options() -> list[tuple[str, str]]:
    """The pod dropdown: ``("6 (eu-1)", "6")`` for every pod, then a custom base URL.

    Examples
    --------
    >>> pod_options()[5], pod_options()[-1]
    (('6 (eu-1)', '6'), ('other: type the base URL', 'other'))
    """
    return [(f"{pod} ({region})", pod) for pod, region in auth.PODS.items()] + [
        ("other: type the base URL", _OTHER)
    ]


def secret_placeholder(env: Mapping[str, str], variable: str) -> str:
    """What an empty password field says: where its value will come from.

    Examples
    --------
    >>> secret_placeholder({"BEX_CLIENT_SECRET": "x"}, "BEX_CLIENT_SECRET")
    'from BEX_CLIENT_SECRET; type to override'
    >>> secret_placeholder({}, "BEX_CLIENT_SECRET")
    'or set BEX_CLIENT_SECRET'
    """
    if env.get(variable):
        return f"from {variable}; type to override"
    return f"or set {variable}"


class ConnectForm(w.VBox):
    """Connect a notebook to Acoustic Campaign, or to a local sandbox with one click.

    The pod (or a base URL) is pre-filled from ``BEX_POD`` / ``BEX_BASE_URL``. The client
    id, client secret and refresh token are read from ``BEX_CLIENT_ID``,
    ``BEX_CLIENT_SECRET`` and ``BEX_REFRESH_TOKEN`` when their fields are left empty (the
    fields say so); those values are never put into a widget, so they cannot reach the
    notebook's saved widget state. Typed secrets are cleared once the client is built.

    Parameters
    ----------
    env : mapping, optional
        Where ``BEX_*`` variables are read (default ``os.environ``).
    sandbox_options : dict, optional
        Keyword arguments for :class:`bextoolkit.sandbox.Sandbox` when Use the sandbox is
        clicked (e.g. ``{"speed": 3600}`` for an hour of exports a second).

    Attributes
    ----------
    client : BexClient or None
        The connected client, after Connect or Use the sandbox.
    sandbox : Sandbox or None
        The sandbox started by Use the sandbox (``sandbox.stop()`` ends it); its
        ``sftp_url`` and ``storage_options`` open its drop folder.

    Examples
    --------
    >>> connect = ConnectForm()  # doctest: +SKIP
    >>> form = JobDefinitionForm(); connect.on_connect(form.set_client)  # doctest: +SKIP
    """

    def __init__(
        self,
        *,
        env: Mapping[str, str] | None = None,
        sandbox_options: Mapping[str, Any] | None = None,
    ) -> None:
        self._env = os.environ if env is None else env
        self._sandbox_options = dict(sandbox_options or {})
        self.client: BexClient | None = None
        self.sandbox: Any = None
        self._callbacks: list[ConnectCallback] = []

        pod = str(self._env.get(auth.ENV_POD, "")).strip().upper()
        base_url = self._env.get(auth.ENV_BASE_URL, "")
        # BEX_BASE_URL wins (as in BexClient), then BEX_POD, then the first real pod.
        choice = _OTHER if base_url else pod if pod in auth.PODS else next(iter(auth.PODS))
        self._pod = field(
            w.Dropdown, "bex-pod", description="Pod", options=pod_options(), value=choice
        )
        self._base_url = field(
            w.Text,
            "bex-base-url",
            description="Base URL",
            value=base_url,
            placeholder="https://api-campaign-us-1.goacoustic.com",
        )
        self._client_id = field(
            w.Text,
            "bex-client-id",
            description="Client id",
            placeholder=secret_placeholder(self._env, auth.ENV_CLIENT_ID),
        )
        self._client_secret = field(
            w.Password,
            "bex-client-secret",
            description="Client secret",
            placeholder=secret_placeholder(self._env, auth.ENV_CLIENT_SECRET),
        )
        self._refresh_token = field(
            w.Password,
            "bex-refresh-token",
            description="Refresh token",
            placeholder=secret_placeholder(self._env, auth.ENV_REFRESH_TOKEN),
        )
        self._connect = named(
            w.Button(description="Connect", button_style="primary"), "bex-connect"
        )
        self._use_sandbox = named(
            w.Button(
                description="Use the sandbox",
                tooltip="start a local stand-in for Acoustic on 127.0.0.1 and connect to it",
            ),
            "bex-use-sandbox",
        )
        self._status = named(w.HTML(), "bex-connect-status")
        super().__init__(
            [
                w.HTML("<h3 style='margin: 0.2em 0'>Connect to Acoustic Campaign</h3>"),
                self._pod,
                self._base_url,
                self._client_id,
                self._client_secret,
                self._refresh_token,
                w.HBox([self._connect, self._use_sandbox]),
                self._status,
            ]
        )
        named(self, "bex-connect-form")
        self._pod.observe(lambda _: self._show_base_url(), names="value")
        self._connect.on_click(lambda _: self.connect())
        self._use_sandbox.on_click(lambda _: self.use_sandbox())
        self._show_base_url()
        self._say("info", "Not connected.")

    def on_connect(self, callback: ConnectCallback, *, remove: bool = False) -> None:
        """Call ``callback(client)`` each time a client is connected."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)
            if self.client is not None:
                callback(self.client)

    def connect(self) -> BexClient | None:
        """Build the client from the form (and the environment) and check it gets a token.

        Fails within about :data:`CONNECT_TIMEOUT` seconds; the typed secrets stay in their
        fields after a failure and are cleared after a success.
        """
        missing = self._missing()
        if missing:
            self._say("error", missing)
            return None
        self._busy(True)
        self._say("busy", "Connecting…")
        try:
            use_url = self._pod.value == _OTHER
            client = BexClient(
                pod=None if use_url else self._pod.value,
                base_url=self._base_url.value.strip() if use_url else None,
                client_id=self._client_id.value.strip() or None,
                client_secret=self._client_secret.value or None,
                refresh_token=self._refresh_token.value or None,
                env=self._env,
            )
            client.check_connection(timeout=CONNECT_TIMEOUT)
        except Exception as exc:  # shown on the form; never holds a secret
            log.info("connect failed: %s", exc)
            self._say("error", error_text(exc))
            return None
        finally:
            self._busy(False)
        self._forget_typed_secrets()
        return self._connected(client, f"Connected to {client.base_url}.")

    def sftp_storage_options(self) -> dict[str, Any]:
        """fsspec options for the pod's SFTP files, logged in with the client's access token.

        See :meth:`bextoolkit.client.BexClient.sftp_storage_options`; ``ExportBrowser(
        client=connect.client)`` uses the same.

        Raises
        ------
        BexConfigError
            Not connected yet.
        """
        if self.client is None:
            raise BexConfigError("not connected yet: press Connect (or Use the sandbox) first")
        return self.client.sftp_storage_options()

    def _missing(self) -> str:
        """What a person still has to fill in, in their words; "" when nothing is missing."""
        if self._pod.value == _OTHER and not self._base_url.value.strip():
            return (
                "Choose your pod (the number in your Campaign login address), or type the API "
                "base URL, such as https://api-campaign-us-1.goacoustic.com."
            )
        fields = (
            (self._client_id, auth.ENV_CLIENT_ID, "client id"),
            (self._client_secret, auth.ENV_CLIENT_SECRET, "client secret"),
            (self._refresh_token, auth.ENV_REFRESH_TOKEN, "refresh token"),
        )
        empty = [
            name for box, var, name in fields if not box.value.strip() and not self._env.get(var)
        ]
        if not empty:
            return ""
        names = " and ".join([", ".join(empty[:-1]), empty[-1]] if len(empty) > 1 else empty)
        return (
            f"Paste the {names} of your OAuth application (Campaign: Settings > Organization "
            "settings > Application account access)."
        )

    def use_sandbox(self) -> BexClient | None:
        """Start a local sandbox (once) and connect to it."""
        self._busy(True)
        self._say("busy", "Starting the sandbox…")
        try:
            if self.sandbox is None:
                self.sandbox = _start_sandbox(self._sandbox_options)
            client = self.sandbox.client()
            client.token.get()
        except Exception as exc:
            log.info("sandbox failed: %s", exc)
            self._say("error", error_text(exc))
            return None
        finally:
            self._busy(False)
        self._pod.value = _OTHER
        self._base_url.value = client.base_url
        return self._connected(
            client,
            f"Connected to the sandbox at {client.base_url} "
            "(it runs in this kernel; .sandbox.stop() ends it).",
        )

    def _connected(self, client: BexClient, message: str) -> BexClient:
        self.client = client
        self._say("ok", message)
        for callback in list(self._callbacks):
            callback(client)
        return client

    def _forget_typed_secrets(self) -> None:
        self._client_secret.value = ""
        self._refresh_token.value = ""

    def _show_base_url(self) -> None:
        show(self._base_url, self._pod.value == _OTHER)

    def _busy(self, busy: bool) -> None:
        self._connect.disabled = busy
        self._use_sandbox.disabled = busy

    def _say(self, kind: str, text: str) -> None:
        self._status.value = status_html(kind, text)


def _start_sandbox(options: Mapping[str, Any]) -> Any:
    """A started :class:`bextoolkit.sandbox.Sandbox` (HTTP API, SFTP folder, export clock)."""
    from bextoolkit.sandbox import Sandbox

    return Sandbox(**options).start()
