"""Helpers of the widget tests: a small export folder with known numbers, Voila and JupyterLab
on loopback.

Imported by ``tests/widgets/test_widgets.py``, ``test_browser.py`` (Voila) and ``test_lab.py``
(JupyterLab) as ``browser.widget_helpers``.
"""

from __future__ import annotations

import csv
import json
import os
import secrets
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Self

from bextoolkit import schema

HERE = Path(__file__).resolve().parent

#: The files of :func:`write_small_exports` and what loading them all must show.
SMALL_EXPORT_NAMES = (
    "Recipient Event Bulk Export_Email_20261101010000_1.csv",
    "Recipient Event Bulk Export_Email_20261101020000_1.csv",
    "Shop_Email_20261102010000_1.psv",
)
#: 5 events, one of them repeated in the second file, and one broken line: 4 rows load.
SMALL_EXPORT_TOTALS = {"rows": 4, "duplicates_dropped": 1, "skipped_lines": 1}
DAY1 = "2026-11-01"


def _event(i: int, code: str, ts: str = "") -> dict[str, str]:
    return {
        "Email": f"person{i}@example.org",
        "RECIPIENT_ID": str(1000 + i),
        "code": code,
        "messageId": "7001",
        "timestamp": ts,
        "eventId": f"ev-{i}-{code}",
    }


def write_small_exports(folder: str | os.PathLike[str]) -> Path:
    """Write three tiny BEX exports over two days into ``folder``; return the folder.

    Day 1 (two hourly CSV files): two sends, then one open, a repeat of a send already in
    the first file, and a broken line. Day 2 (one PSV file): one click.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    send_1, send_2 = (
        _event(1, "emailSend", f"{DAY1}T00:10:00Z"),
        _event(2, "emailSend", f"{DAY1}T00:11:00Z"),
    )
    files = {
        SMALL_EXPORT_NAMES[0]: ([send_1, send_2], False),
        SMALL_EXPORT_NAMES[1]: ([_event(1, "emailOpen", f"{DAY1}T01:10:00Z"), send_2], True),
        SMALL_EXPORT_NAMES[2]: ([_event(3, "emailClick", "2026-11-02T00:10:00Z")], False),
    }  # fmt: skip
    for name, (rows, broken) in files.items():
        delimiter = "|" if name.endswith(".psv") else ","
        with open(folder / name, "w", newline="", encoding="utf-8") as handle:
            writer = csv.writer(handle, delimiter=delimiter)
            writer.writerow(schema.BEX_COLUMNS)
            for row in rows:
                writer.writerow([row.get(c, "") for c in schema.BEX_COLUMNS])
            if broken:
                handle.write(delimiter.join(["too", "few", "fields"]) + "\n")
    return folder


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class _LoopbackServer:
    """A Jupyter web server on 127.0.0.1, as a subprocess, its output in ``log_path``.

    Parameters
    ----------
    folder : path
        The notebooks' folder (the server's root and working directory).
    env : mapping
        Extra environment for the server and its kernels (sandbox URL, credentials, paths).
    """

    def __init__(
        self, folder: str | os.PathLike[str], env: Mapping[str, str], log_path: Path
    ) -> None:
        self.folder = Path(folder)
        self.port = free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        raise NotImplementedError

    def start(self, *, timeout: float = 60.0) -> Self:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 - closed by the process's end
        self._process = subprocess.Popen(
            self.command(), env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=self.folder
        )
        name = type(self).__name__
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"{name} exited early; see {self.log_path}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"{name} did not listen within {timeout} s; see {self.log_path}")

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class VoilaServer(_LoopbackServer):
    """Voila serving the notebooks of a folder on 127.0.0.1 (``url_for("name.ipynb")``)."""

    def url_for(self, notebook: str) -> str:
        return f"{self.base_url}/voila/render/{notebook}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "voila", "--no-browser",
            f"--port={self.port}", "--Voila.ip=127.0.0.1", "--ServerApp.ip=127.0.0.1",
            "--Voila.tornado_settings={'disable_check_xsrf': True}",
            "--show_tracebacks=True",
            "--preheat_kernel=True",
            "--pool_size=1",
            str(self.folder),
        ]  # fmt: skip


class JupyterLabServer(_LoopbackServer):
    """JupyterLab on 127.0.0.1 with a token of its own, settings and workspaces in ``home``.

    The token reaches the server through ``JUPYTER_TOKEN`` (not the command line) and is
    never printed: the server's log, which shows its URLs, stays in ``home`` and is
    copied to ``log_path`` with the token masked (:meth:`stop`). The page exposes the
    application as ``window.jupyterapp`` (to run the cells and read the notebook's model);
    the news prompt is off so that no toast takes the focus.
    """

    def __init__(
        self, folder: str | os.PathLike[str], env: Mapping[str, str], log_path: Path, home: Path
    ) -> None:
        self.token = secrets.token_hex(24)
        self.home = Path(home)
        config = self.home / "config"
        (config / "labconfig").mkdir(parents=True, exist_ok=True)
        disabled = {"@jupyterlab/apputils-extension:announcements": True}
        (config / "labconfig" / "page_config.json").write_text(
            json.dumps({"disabledExtensions": disabled})
        )
        lab_env = {
            "JUPYTER_TOKEN": self.token,
            "JUPYTER_CONFIG_DIR": str(config),
            "JUPYTER_RUNTIME_DIR": str(self.home / "runtime"),
            "JUPYTERLAB_SETTINGS_DIR": str(self.home / "settings"),
            "JUPYTERLAB_WORKSPACES_DIR": str(self.home / "workspaces"),
            **env,
        }
        super().__init__(folder, lab_env, self.home / "jupyterlab.log")
        self.public_log = log_path

    def url_for(self, notebook: str) -> str:
        """The notebook's page, logged in by the token (keep it out of messages)."""
        return f"{self.base_url}/lab/tree/{notebook}?token={self.token}"

    def command(self) -> list[str]:
        return [
            sys.executable, "-m", "jupyter", "lab", "--no-browser",
            f"--ServerApp.port={self.port}", "--ServerApp.ip=127.0.0.1",
            f"--ServerApp.root_dir={self.folder}",
            "--LabApp.expose_app_in_browser=True",
            "--LabApp.news_url=None",
            "--LabApp.extension_manager=readonly",
            "--ServerApp.port_retries=0",
            "--allow-root",
        ]  # fmt: skip

    def masked(self, text: str) -> str:
        return text.replace(self.token, "<token>")

    def stop(self) -> None:
        super().stop()
        if self.log_path.exists():
            self.public_log.parent.mkdir(parents=True, exist_ok=True)
            self.public_log.write_text(self.masked(self.log_path.read_text(errors="replace")))
