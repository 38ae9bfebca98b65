"""The local sandbox: a stand-in for Acoustic Campaign on loopback (OAuth + BEX REST API + SFTP).

:class:`Sandbox` starts, on 127.0.0.1 only:

- the OAuth token endpoint and the BEX job-definition API (:class:`SandboxAPI`), refusing
  wrong credentials as the real service does;
- an SFTP server (:class:`SFTPServer`, password login) whose ``download/`` folder receives
  the export files;
- an export clock (:class:`ExportClock`): for every job definition, a file every
  ``jobFrequency`` hours of *sandbox* time, with the job's event types, mailing types,
  database columns, file format and file name prefix, from a simulated database
  (:class:`SimulatedDatabase`).

Sandbox time stands still unless you move it (``sb.advance(hours=24)``), or runs ``speed``
times faster than the clock (``Sandbox(speed=3600)``: an hour a second).

Examples
--------
>>> import bextoolkit as bex
>>> with Sandbox() as sb:  # doctest: +SKIP
...     client = sb.client()
...     client.create_job(bex.JobDefinition(contact_source_id="423251",
...         ftp_user_id="admin@example.com", channels=[bex.Channel(job_frequency=1)]))
...     sb.advance(hours=24)
...     events = bex.read_events(sb.sftp_url + "/*.csv", storage_options=sb.storage_options)
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
import tempfile
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bextoolkit.exceptions import BexConfigError
from bextoolkit.sandbox.api import SandboxAPI, SandboxCredentials
from bextoolkit.sandbox.database import SimulatedDatabase
from bextoolkit.sandbox.exports import ExportClock, ExportSpec, write_export_file
from bextoolkit.sandbox.sftp import SFTPServer

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

__all__ = [
    "DEFAULT_START",
    "ExportClock",
    "ExportSpec",
    "SFTPServer",
    "Sandbox",
    "SandboxAPI",
    "SandboxCredentials",
    "SimulatedDatabase",
]

#: Sandbox time when a sandbox starts, unless told otherwise (a Monday, 00:00 UTC).
DEFAULT_START = "2026-11-02T00:00:00Z"
#: The SFTP login of the sandbox (the password is made per sandbox).
SFTP_USERNAME = "sandbox"
DOWNLOAD_FOLDER = "download"
SFTP_HOME = "sftp"
_SFTP_STATE = "sftp-login.json"
_CLOCK_STATE = "clock-state.json"


class Sandbox:
    """Acoustic's BEX on loopback: REST API, SFTP drop folder and export clock, together.

    Parameters
    ----------
    state_dir : str or Path, optional
        Folder for everything the sandbox keeps: ``sftp/download/`` (the SFTP drop
        folder, ``/download`` over SFTP), the job definitions and the credentials, which
        then survive a restart. By default the folder named by the ``BEX_SANDBOX_DIR``
        environment variable when it is set, else a temporary folder, deleted by
        :meth:`stop`.
    speed : float, default 0
        Sandbox seconds per real second. 0 means sandbox time moves only through
        :meth:`advance`; 3600 makes an hour pass every second.
    start : str or datetime, optional
        Sandbox time at start. By default where the last run in ``state_dir`` stopped
        (no window is written twice), else 2026-11-02T00:00:00Z.
    seed : int, default 0
        Seed of the simulated databases: the same seed gives the same files.
    n_recipients : int, default 2000
        Contacts in each simulated database.
    mailings_per_day : int, default 4
        Mailings each simulated database sends per day.
    host : str, default "127.0.0.1"
        A loopback address; anything else is refused.
    api_port, sftp_port : int, default 0
        Ports to listen on; 0 picks free ones.

    Examples
    --------
    >>> with Sandbox() as sb:  # doctest: +SKIP
    ...     job_id = sb.client().create_job(job)
    ...     sb.advance(hours=6)  # six hourly files appear in sb.download_dir
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        speed: float = 0.0,
        start: str | datetime | None = None,
        seed: int = 0,
        n_recipients: int = 2000,
        mailings_per_day: int = 4,
        host: str = "127.0.0.1",
        api_port: int = 0,
        sftp_port: int = 0,
    ) -> None:
        if speed < 0:
            raise BexConfigError(f"speed={speed}: give 0 (manual time) or a positive factor")
        if state_dir is None:
            state_dir = os.environ.get("BEX_SANDBOX_DIR") or None
        # The API first: it refuses a host that is not loopback before anything is made.
        self.api = SandboxAPI(state_dir, host=host, port=api_port)
        self._own_root = state_dir is None
        self.root = Path(
            tempfile.mkdtemp(prefix="bex-sandbox-") if state_dir is None else state_dir
        )
        self.root.mkdir(parents=True, exist_ok=True)
        # SFTP serves its own home folder, so the state files beside it stay out of reach.
        self.sftp_home = self.root / SFTP_HOME
        self.download_dir = self.sftp_home / DOWNLOAD_FOLDER
        self.download_dir.mkdir(parents=True, exist_ok=True)
        self.host = host
        self._sftp_password = self._sftp_login()
        self.sftp = SFTPServer(
            self.sftp_home,
            username=SFTP_USERNAME,
            password=self._sftp_password,
            host=host,
            port=sftp_port,
            token_check=self.api.token_is_valid,  # user "oauth" + an access token works too
        )
        self.database = SimulatedDatabase(
            seed=seed, n_recipients=n_recipients, mailings_per_day=mailings_per_day
        )
        self._created: dict[str, datetime] = {}
        self.clock = ExportClock(
            jobs=lambda: self.api.jobs,
            window_events=self._window_events,
            write_window=lambda spec, events, end: write_export_file(
                events, self.download_dir, spec, end
            ),
            start=start or DEFAULT_START,
            speed=speed,
            created_at=self._created.get,
        )
        self.api.subscribe(self._on_job_change)
        self._running = False
        if start is None:
            self._resume()

    # --- lifecycle ----------------------------------------------------------------------
    def start(self) -> Sandbox:
        """Start the API, the SFTP server and (when ``speed > 0``) the clock; returns self."""
        if self._running:
            return self
        try:
            self.api.start()
            self.sftp.start()
            self.clock.start()
        except BaseException:
            self.stop()  # what did start stops again, and a temporary folder goes
            raise
        self._running = True
        log.info("sandbox running: API %s, SFTP %s", self.base_url, self.sftp_url)
        return self

    def stop(self) -> None:
        """Stop every server and thread; delete the folder unless it was ``state_dir``."""
        self._running = False
        self._shutdown()
        if self._own_root:
            shutil.rmtree(self.root, ignore_errors=True)
        else:
            _write_private(self.root / _CLOCK_STATE, self.clock.state())

    def _shutdown(self) -> None:
        for part in (self.clock, self.sftp, self.api):
            try:
                part.stop()
            except Exception:  # stop the others whatever happens to one
                log.exception("sandbox: stopping %s failed", type(part).__name__)

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        if not self._running:
            return f"Sandbox(stopped, root={str(self.root)!r})"
        return (
            f"Sandbox(base_url={self.base_url!r}, sftp_url={self.sftp_url!r}, "
            f"client_id={self.credentials.client_id!r}, client_secret=***, "
            f"refresh_token=***, sftp_password=***, now={self.now.isoformat()!r}, "
            f"jobs={len(self.api.jobs)})"
        )

    # --- what a user needs --------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """The API base URL, ``http://127.0.0.1:PORT``."""
        return self.api.base_url

    @property
    def credentials(self) -> SandboxCredentials:
        """The OAuth client id, client secret and refresh token the sandbox accepts."""
        return self.api.credentials

    @property
    def sftp_url(self) -> str:
        """The drop folder, ``sftp://127.0.0.1:PORT/download``; add ``/*.csv`` to read."""
        return f"{self.sftp.url}/{DOWNLOAD_FOLDER}"

    @property
    def sftp_username(self) -> str:
        return SFTP_USERNAME

    @property
    def sftp_password(self) -> str:
        """The SFTP password (sandbox-only; never shown in ``repr``)."""
        return self._sftp_password

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec options for :func:`bextoolkit.read_events` over :attr:`sftp_url`."""
        return self.sftp.storage_options

    def env(self) -> dict[str, str]:
        """The ``BEX_*`` variables of the sandbox: ``BexClient.from_env(sb.env())``.

        Besides the API's, ``BEX_SFTP_HOST`` and ``BEX_SFTP_PORT`` name its SFTP server, so
        ``client.sftp_storage_options()`` logs into it as user ``oauth`` with the token.
        """
        env = self.api.env()
        if self.sftp.running:
            env |= {"BEX_SFTP_HOST": self.sftp.host, "BEX_SFTP_PORT": str(self.sftp.port)}
        return env

    def client(self, **kwargs: Any) -> BexClient:
        """A :class:`~bextoolkit.client.BexClient` logged in to this sandbox.

        Keyword arguments go to ``BexClient`` (``timeout``, ``max_retries``, ...).
        """
        from bextoolkit.client import BexClient

        creds = self.credentials
        sftp = {"sftp_host": self.sftp.host, "sftp_port": self.sftp.port}
        return BexClient(
            base_url=self.base_url,
            client_id=creds.client_id,
            client_secret=creds.client_secret,
            refresh_token=creds.refresh_token,
            **(sftp if self.sftp.running else {}) | kwargs,
        )

    # --- time ---------------------------------------------------------------------------
    @property
    def now(self) -> datetime:
        """Current sandbox time (aware, UTC)."""
        return self.clock.now()

    @property
    def speed(self) -> float:
        return self.clock.speed

    def advance(self, hours: float = 0.0, *, minutes: float = 0.0, days: float = 0.0) -> list[Path]:
        """Move sandbox time forward; returns the export files written meanwhile.

        Synchronous: when it returns, every file due by the new time is in
        :attr:`download_dir` (and so on SFTP).
        """
        return self.clock.advance(hours, minutes=minutes, days=days)

    @property
    def files(self) -> list[Path]:
        """The export files in the drop folder, by name."""
        return sorted(p for p in self.download_dir.iterdir() if not p.name.startswith("."))

    # --- internals ----------------------------------------------------------------------
    def _window_events(self, spec: ExportSpec, start: datetime, end: datetime) -> Any:
        return self.database.events(
            spec.contact_source_id, start, end, database_columns=spec.database_columns
        )

    def _on_job_change(self, event: str, job_id: str, job: dict[str, Any] | None) -> None:
        if event == "created":
            self._created[job_id] = self.clock.now()
        elif event == "deleted":
            self._created.pop(job_id, None)

    def _sftp_login(self) -> str:
        """The SFTP password: kept in ``state_dir`` (owner-only) when there is one."""
        if self._own_root:
            return secrets.token_urlsafe(18)
        path = self.root / _SFTP_STATE
        if path.exists():
            return str(_read_state(path, "SFTP login")["password"])
        password = secrets.token_urlsafe(18)
        _write_private(path, {"username": SFTP_USERNAME, "password": password})
        return password

    def _resume(self) -> None:
        path = self.root / _CLOCK_STATE
        if self._own_root or not path.exists():
            return
        try:
            self.clock.restore(_read_state(path, "clock"))
        except (KeyError, ValueError, TypeError) as exc:
            raise BexConfigError(
                f"{path}: the sandbox clock state is damaged ({type(exc).__name__}); "
                "delete the file to start again at the default time"
            ) from None
        log.info("sandbox: resuming at %s from %s", self.clock.now().isoformat(), path)


def _read_state(path: Path, what: str) -> dict[str, Any]:
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(state, dict):
            raise TypeError("not a JSON object")
        return state
    except (OSError, ValueError, TypeError) as exc:
        raise BexConfigError(
            f"{path}: cannot read the sandbox {what} ({type(exc).__name__}); "
            "delete the file to start that part afresh"
        ) from None


def _write_private(path: Path, state: dict[str, Any]) -> None:
    """Write ``state`` as JSON readable by its owner only, replacing the file atomically."""
    partial = path.with_name(path.name + ".tmp")
    fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        json.dump(state, fh, indent=1)
    os.replace(partial, path)
