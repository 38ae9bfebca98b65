"""A real SFTP server on loopback (asyncssh), serving one folder to one user.

Stands in for Acoustic's SFTP drop folder (``transfer-campaign-<pod>.goacoustic.com``) in
tests, notebooks and the sandbox: password login only, the user sees ``root`` as ``/``
(so ``root/download/x.csv`` is ``/download/x.csv``), and a fresh host key is generated at
every start (never written to disk). The server runs in a background thread with its own
event loop, so it works from scripts, tests and Jupyter alike.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import asyncssh

log = logging.getLogger(__name__)


#: The user name that logs in with an OAuth access token as password (domain.md 6c).
OAUTH_USER = "oauth"
TokenCheck = Callable[[str], bool]


class _PasswordServer(asyncssh.SSHServer):
    """Password authentication for one user (and ``oauth`` with a valid access token)."""

    def __init__(
        self,
        username: str,
        password: str,
        connections: set[Any],
        token_check: TokenCheck | None = None,
    ) -> None:
        self._username = username
        self._password = password
        self._connections = connections
        self._token_check = token_check
        self._conn: Any = None

    def connection_made(self, conn: Any) -> None:
        self._conn = conn
        self._connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        self._connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True  # always ask for a password, even for unknown users

    def password_auth_supported(self) -> bool:
        return True

    def public_key_auth_supported(self) -> bool:
        return False

    def kbdint_auth_supported(self) -> bool:
        return False

    def validate_password(self, username: str, password: str) -> bool:
        if username == OAUTH_USER and self._token_check is not None:
            ok = bool(password) and self._token_check(password)
            if not ok:
                log.info("SFTP login refused for user %r: not a valid access token", username)
            return ok
        user_ok = hmac.compare_digest(username.encode(), self._username.encode())
        password_ok = hmac.compare_digest(password.encode(), self._password.encode())
        if not (user_ok and password_ok):
            log.info("SFTP login refused for user %r", username)
        return user_ok and password_ok


class SFTPServer:
    """An SFTP server on loopback serving ``root`` to one password-protected user.

    Parameters
    ----------
    root : str or path
        The folder the user sees as ``/``. It must exist.
    username, password : str
        The only login accepted.
    host : str, default "127.0.0.1"
        Address to listen on.
    port : int, default 0
        Port to listen on; 0 picks a free one (read it from :attr:`port` after start).
    token_check : callable, optional
        ``token_check(password) -> bool``: when given, user ``oauth`` logs in with any
        password it accepts (a current OAuth access token, as Acoustic's transfer hosts do).

    Examples
    --------
    >>> with SFTPServer("data-samples", username="me", password="s3cret") as server:
    ...     events = read_events(server.url + "/*.csv", storage_options=server.storage_options)
    ... # doctest: +SKIP
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        username: str,
        password: str,
        host: str = "127.0.0.1",
        port: int = 0,
        token_check: TokenCheck | None = None,
    ) -> None:
        self.root = Path(root).resolve()
        self._token_check = token_check
        self.username = username
        self._password = password
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._acceptor: Any = None
        self._connections: set[Any] = set()

    def __repr__(self) -> str:
        state = f"url={self.url!r}" if self.running else "stopped"
        return f"SFTPServer(root={str(self.root)!r}, username={self.username!r}, {state})"

    @property
    def running(self) -> bool:
        return self._acceptor is not None

    @property
    def url(self) -> str:
        """``sftp://HOST:PORT`` (no credentials); add a path such as ``/download/*.csv``."""
        self._require_running()
        return f"sftp://{self.host}:{self.port}"

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec options to log in: host, port, username, password, and no local keys."""
        self._require_running()
        return {
            "host": self.host,
            "port": self.port,
            "username": self.username,
            "password": self._password,
            "look_for_keys": False,
            "allow_agent": False,
        }

    def start(self) -> SFTPServer:
        """Start listening (idempotent); returns the server so ``SFTPServer(...).start()`` works."""
        if self.running:
            return self
        if not self.root.is_dir():
            raise FileNotFoundError(f"SFTP root folder {self.root} does not exist; create it first")
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="bextoolkit-sftp", daemon=True)
        thread.start()
        try:
            future = asyncio.run_coroutine_threadsafe(self._listen(), loop)
            self._acceptor = future.result(timeout=30)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join(timeout=5)
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        self.port = self._acceptor.get_port()
        log.info("SFTP server serving %s at %s", self.root, self.url)
        return self

    async def _listen(self) -> Any:
        key = asyncssh.generate_private_key("ssh-ed25519")
        username, password, root = self.username, self._password, str(self.root)
        connections, token_check = self._connections, self._token_check
        return await asyncssh.listen(
            self.host,
            self._requested_port,
            server_host_keys=[key],
            server_factory=lambda: _PasswordServer(username, password, connections, token_check),
            sftp_factory=lambda chan: asyncssh.SFTPServer(chan, chroot=os.fsencode(root)),
            allow_scp=False,
            agent_forwarding=False,
            x11_forwarding=False,
            login_timeout=30,
        )

    def stop(self) -> None:
        """Close the listener and open sessions, and end the background thread."""
        if not self.running or self._loop is None:
            return
        loop, acceptor = self._loop, self._acceptor

        connections = self._connections

        async def close() -> None:
            acceptor.close()
            await acceptor.wait_closed()
            for conn in list(connections):
                conn.close()
            current = asyncio.current_task()
            tasks = [t for t in asyncio.all_tasks() if t is not current]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        try:
            asyncio.run_coroutine_threadsafe(close(), loop).result(timeout=10)
        finally:
            loop.call_soon_threadsafe(loop.stop)
            if self._thread is not None:
                self._thread.join(timeout=10)
            loop.close()
            self._acceptor = self._loop = self._thread = None
            log.info("SFTP server for %s stopped", self.root)

    def __enter__(self) -> SFTPServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _require_running(self) -> None:
        if not self.running:
            raise RuntimeError("the SFTP server is not running; call start() first")
