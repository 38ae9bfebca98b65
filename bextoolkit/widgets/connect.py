"""``ConnectForm``: pod or base URL and OAuth credentials in, a :class:`BexClient` out.

Secrets never enter what a notebook saves. Values found in the environment stay in the
kernel (the password fields only say where they come from); values typed into the password
fields are cleared once a connection works (and kept after a failed one, so a person fixes
one field rather than pasting all again); no status line ever repeats a secret.

Connect answers within about 5 s: it asks for a token once, with a short timeout and no
backoff. The client it hands on keeps the library's full retry policy. Disconnect forgets
it, and every widget that follows the form (``connect.on_connect(widget.set_client)``) is
told (``None``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

import ipywidgets as w

from bextoolkit import auth
from bextoolkit.client import BexClient
from bextoolkit.exceptions import (
    BexAuthError,
    BexBadRequestError,
    BexConfigError,
    BexConnectionError,
)
from bextoolkit.widgets._aria import AriaLinks
from bextoolkit.widgets._common import error_text, field, named, show, status_html

log = logging.getLogger(__name__)

ConnectCallback = Callable[[BexClient | None], Any]
T = TypeVar("T")
_OTHER = "other"
#: Seconds an interactive Connect may take before it says what went wrong.
CONNECT_TIMEOUT = 5.0
#: Where the pod is found, shown under the dropdown.
POD_HELP = (
    "Your pod is in the address you log in to Campaign at: campaign-us-1 is pod 1, "
    "campaign-eu-1 is pod 6 (the list names each pod's region)."
)
_STATUS = ".bex-connect-status"
#: The fields, by CSS name, that a person may have to fill in.
_INPUTS = ("bex-base-url", "bex-sftp-host", "bex-client-id", "bex-client-secret",
           "bex-refresh-token")  # fmt: skip


def parse_host_port(text: str) -> tuple[str | None, int | None]:
    """``"host:2222"`` -> ``("host", 2222)``; ``"host"`` -> ``("host", None)``; ``""`` -> Nones.

    Examples
    --------
    >>> parse_host_port(" 127.0.0.1:2222 "), parse_host_port("sftp.example.com")
    (('127.0.0.1', 2222), ('sftp.example.com', None))
    >>> parse_host_port("h:x")
    Traceback (most recent call last):
    ...
    bextoolkit.exceptions.BexConfigError: SFTP host 'h:x': the port after ':' must be a number
    """
    text = text.strip()
    if not text:
        return None, None
    host, colon, port = text.rpartition(":") if ":" in text else (text, "", "")
    if not colon:
        return text, None
    if not port.isdigit():
        raise BexConfigError(f"SFTP host {text!r}: the port after ':' must be a number")
    return host, int(port)


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
        self._connected_to: tuple[str, ...] = ()
        self._blamed: list[str] = []
        self.sandbox: Any = None
        self._callbacks: list[ConnectCallback] = []

        pod = str(self._env.get(auth.ENV_POD, "")).strip().upper()
        base_url = self._env.get(auth.ENV_BASE_URL, "")
        # BEX_BASE_URL wins (as in BexClient), then BEX_POD, then the first real pod.
        choice = _OTHER if base_url else pod if pod in auth.PODS else next(iter(auth.PODS))
        self._pod = field(
            w.Dropdown, "bex-pod", description="Pod", options=pod_options(), value=choice
        )
        self._pod_help = named(
            w.HTML(f"<span style='margin-left: 11.5em; font-size: 90%'>{POD_HELP}</span>"),
            "bex-pod-help",
        )
        self._base_url = field(
            w.Text,
            "bex-base-url",
            description="Base URL",
            value=base_url,
            placeholder="https://api-campaign-us-1.goacoustic.com",
        )
        sftp = self._env.get(auth.ENV_SFTP_HOST, "")
        sftp_port = self._env.get(auth.ENV_SFTP_PORT, "")
        self._sftp_host = field(
            w.Text,
            "bex-sftp-host",
            description="SFTP host",
            value=f"{sftp}:{sftp_port}" if sftp and sftp_port else sftp,
            placeholder="where its export files are: host or host:port",
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
        self._disconnect = named(w.Button(description="Disconnect"), "bex-disconnect")
        self._status = named(w.HTML(), "bex-connect-status")
        self._aria = AriaLinks(".bex-connect-form", live=(_STATUS,))
        super().__init__(
            [
                w.HTML("<h3 style='margin: 0.2em 0'>Connect to Acoustic Campaign</h3>"),
                self._pod,
                self._pod_help,
                self._base_url,
                self._sftp_host,
                self._client_id,
                self._client_secret,
                self._refresh_token,
                w.HBox([self._connect, self._use_sandbox, self._disconnect]),
                self._status,
                self._aria,
            ]
        )
        named(self, "bex-connect-form")
        self._pod.observe(lambda _: self._show_base_url(), names="value")
        self._connect.on_click(lambda _: self.connect())
        self._use_sandbox.on_click(lambda _: self.use_sandbox())
        self._disconnect.on_click(lambda _: self.disconnect())
        self._show_base_url()
        show(self._disconnect, False)
        self._mark_invalid(())
        self._say("info", "Not connected.")

    def on_connect(self, callback: ConnectCallback, *, remove: bool = False) -> None:
        """Call ``callback(client)`` each time a client is connected, ``callback(None)`` after
        Disconnect; at once with the client when one is connected already."""
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)
            if self.client is not None:
                callback(self.client)

    def connect(self) -> BexClient | None:
        """Build the client from the form (and the environment) and check it gets a token.

        Fails within about :data:`CONNECT_TIMEOUT` seconds; the typed secrets stay in their
        fields after a failure and are cleared after a success. Pressed again while
        connected, with no secret typed, it checks the connection it has.
        """
        self._aria.move_focus(_STATUS)
        same = self._target() == self._connected_to
        if self.client is not None and same and not self._typed_secrets():
            return self._check_again(self.client)
        missing, fields = self._missing()
        self._mark_invalid(fields)
        if missing:
            self._say("error", missing)
            return None
        client = self._attempt("connect", "Connecting…", self._new_client)
        if client is None:
            self._mark_invalid(self._blamed)
            return None
        self._forget_typed_secrets()
        self._mark_invalid(())
        return self._connected(client, f"Connected to {client.base_url}{_files_at(client)}.")

    def _new_client(self) -> BexClient:
        """A client built from the form (and the environment) that got a token."""
        use_url = self._pod.value == _OTHER
        host, port = parse_host_port(self._sftp_host.value) if use_url else (None, None)
        client = BexClient(
            pod=None if use_url else self._pod.value,
            base_url=self._base_url.value.strip() if use_url else None,
            client_id=self._client_id.value.strip() or None,
            client_secret=self._client_secret.value or None,
            refresh_token=self._refresh_token.value or None,
            sftp_host=host,
            sftp_port=port,
            env=self._env,
        )
        client.check_connection(timeout=CONNECT_TIMEOUT)
        return client

    def _attempt(self, action: str, busy: str, call: Callable[[], T]) -> T | None:
        """Run ``call`` with the buttons off; a failure is said on the form (None)."""
        self._busy(True)
        self._say("busy", busy)
        try:
            return call()
        except Exception as exc:  # shown on the form; never holds a secret
            log.info("%s failed: %s", action, exc)
            self._say("error", error_text(exc))
            self._blamed = fields_to_blame(exc, typed_url=self._pod.value == _OTHER)
            return None
        finally:
            self._busy(False)

    def _target(self) -> tuple[str, ...]:
        """What the form points at, secrets aside: a change means a new connection."""
        return (self._pod.value, self._base_url.value.strip(), self._sftp_host.value.strip(),
                self._client_id.value.strip())  # fmt: skip

    def disconnect(self) -> None:
        """Forget the client; the widgets that follow this form are told (``None``).

        A sandbox started here keeps running (Use the sandbox connects to it again).
        """
        client, self.client = self.client, None
        if client is not None:
            client.close()
        show(self._disconnect, False)
        self._say("info", "Disconnected.")
        for callback in list(self._callbacks):
            callback(None)
        self._aria.move_focus(".bex-connect")

    def _check_again(self, client: BexClient) -> BexClient | None:
        def check() -> BexClient:
            client.check_connection(timeout=CONNECT_TIMEOUT)
            return client

        if self._attempt("connection check", "Checking the connection…", check) is None:
            return None
        self._say("ok", f"Still connected to {client.base_url}.")
        return client

    def _typed_secrets(self) -> bool:
        return bool(self._client_secret.value or self._refresh_token.value)

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

    def _missing(self) -> tuple[str, list[str]]:
        """What a person still has to fill in, in their words ("" when nothing is missing),
        and the CSS names of those fields."""
        if self._pod.value == _OTHER and not self._base_url.value.strip():
            return (
                "Choose your pod (the number in your Campaign login address), or type the API "
                "base URL, such as https://api-campaign-us-1.goacoustic.com.",
                ["bex-base-url"],
            )
        fields = (
            (self._client_id, auth.ENV_CLIENT_ID, "client id", "bex-client-id"),
            (self._client_secret, auth.ENV_CLIENT_SECRET, "client secret", "bex-client-secret"),
            (self._refresh_token, auth.ENV_REFRESH_TOKEN, "refresh token", "bex-refresh-token"),
        )
        empty = [
            (name, css)
            for box, var, name, css in fields
            if not box.value.strip() and not self._env.get(var)
        ]
        if not empty:
            return "", []
        names = [name for name, _ in empty]
        said = " and ".join([", ".join(names[:-1]), names[-1]] if len(names) > 1 else names)
        again = " again (they are cleared once connected)" if self.client is not None else ""
        return (
            f"Paste the {said} of your OAuth application{again} (Campaign: Settings > "
            "Organization settings > Application account access).",
            [css for _, css in empty],
        )

    def _mark_invalid(self, fields: Iterable[str]) -> None:
        """Tie every input to the status line; mark ``fields`` (CSS names) invalid."""
        invalid = set(fields)
        self._aria.link((f".{css}", _STATUS, css in invalid, False) for css in _INPUTS)

    def use_sandbox(self) -> BexClient | None:
        """Start a local sandbox (once) and connect to it."""

        def start() -> BexClient:
            if self.sandbox is None:
                self.sandbox = _start_sandbox(self._sandbox_options)
            client: BexClient = self.sandbox.client()
            client.token.get()
            return client

        client = self._attempt("sandbox", "Starting the sandbox…", start)
        if client is None:
            return None
        self._pod.value = _OTHER
        self._base_url.value = client.base_url
        self._sftp_host.value = f"{client.sftp_host}:{client.sftp_port}"
        self._mark_invalid(())
        self._aria.move_focus(_STATUS)
        return self._connected(
            client,
            f"Connected to the sandbox at {client.base_url} "
            "(it runs in this kernel; .sandbox.stop() ends it).",
        )

    def _connected(self, client: BexClient, message: str) -> BexClient:
        if self.client is not None and self.client is not client:
            self.client.close()
        self.client = client
        self._connected_to = self._target()
        show(self._disconnect, True)
        self._say("ok", message)
        for callback in list(self._callbacks):
            callback(client)
        return client

    def _forget_typed_secrets(self) -> None:
        self._client_secret.value = ""
        self._refresh_token.value = ""

    def _show_base_url(self) -> None:
        show(self._base_url, self._pod.value == _OTHER)
        show(self._sftp_host, self._pod.value == _OTHER)

    def _busy(self, busy: bool) -> None:
        self._connect.disabled = busy
        self._use_sandbox.disabled = busy

    def _say(self, kind: str, text: str) -> None:
        self._status.value = status_html(kind, text)


def fields_to_blame(exc: BaseException, *, typed_url: bool) -> list[str]:
    """The fields (CSS names) a failed Connect points at: marked invalid on the form.

    Refused credentials point at the three OAuth fields; a bad SFTP host at its field; an
    address that does not answer (or is not one) at the base URL, when it was typed.

    Examples
    --------
    >>> from bextoolkit.exceptions import BexAuthError, BexConnectionError
    >>> fields_to_blame(BexAuthError("refused", status=401), typed_url=False)
    ['bex-client-id', 'bex-client-secret', 'bex-refresh-token']
    >>> fields_to_blame(BexConnectionError("connection refused"), typed_url=True)
    ['bex-base-url']
    >>> fields_to_blame(ValueError("odd"), typed_url=True)
    []
    """
    if isinstance(exc, BexAuthError | BexBadRequestError):
        return ["bex-client-id", "bex-client-secret", "bex-refresh-token"]
    if isinstance(exc, BexConfigError) and str(exc).startswith("SFTP host"):
        return ["bex-sftp-host"]
    if typed_url and isinstance(exc, BexConnectionError | BexConfigError):
        return ["bex-base-url"]
    return []


def _files_at(client: BexClient) -> str:
    """Where the export files are, or what to do when that is not known."""
    if client.sftp_host:
        return f"; export files at sftp://{client.sftp_host}:{client.sftp_port}/download/"
    return "; fill in SFTP host to browse its export files"


def _start_sandbox(options: Mapping[str, Any]) -> Any:
    """A started :class:`bextoolkit.sandbox.Sandbox` (HTTP API, SFTP folder, export clock)."""
    from bextoolkit.sandbox import Sandbox

    return Sandbox(**options).start()
