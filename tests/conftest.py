"""Shared fixtures: sample frames, loopback servers, and a clean pyplot state."""

from __future__ import annotations

import copy
import json
import os
import socket
import threading
import time
import zipfile
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

from bextoolkit import schema

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
DATA_SAMPLES = REPO / "data-samples"

# The vendor's example body, verbatim from bex-seed-doc.txt (its ftpUserId is the web
# page's e-mail obfuscation: a literal that is not an e-mail address).
SEED_BODY = {
    "channels": [
        {
            "eventTypes": [
                {"eventType": "emailSend"},
                {"eventType": "emailOpen"},
                {"eventType": "emailClick"},
                {"eventType": "emailOptOut"},
                {"eventType": "emailSuppressed"},
                {"eventType": "emailBounce"},
            ],
            "columnNames": [
                {"columnName": "column1", "columnOrder": 0},
                {"columnName": "column2", "columnOrder": 1},
            ],
            "mailingTypes": [
                {"mailingType": "SendExperience"},
                {"mailingType": "Programs"},
                {"mailingType": "AutoResponder"},
                {"mailingType": "AMG"},
                {"mailingType": "ABTest"},
            ],
            "exportFileName": "Test_Email",
            "exportFileFormat": "CSV",
            "jobFrequency": 1,
            "type": "Email",
        }
    ],
    "contactSourceId": "423251",
    "ftpUserId": "[email protected]",
}


def valid_body() -> dict:
    """A fresh copy of the seed body with a real ftpUserId, so it passes every rule."""
    body = copy.deepcopy(SEED_BODY)
    body["ftpUserId"] = "admin@example.com"
    return body


@pytest.fixture(autouse=True)
def _fresh_tokens(monkeypatch, tmp_path_factory):
    """No access token crosses tests, and the on-disk token cache stays off and sandboxed."""
    from bextoolkit.auth import forget_tokens

    monkeypatch.delenv("BEX_TOKEN_CACHE", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("cache")))
    forget_tokens()
    yield
    forget_tokens()


@pytest.fixture(autouse=True, scope="session")
def _files_say_utc():
    """Tests read naive timestamps as UTC on purpose (BEX_TZ, set before any fixture reads a
    file), so the "read as UTC" notice appears only where a test asks for it: it deletes
    BEX_TZ with monkeypatch and asserts the warning."""
    before = os.environ.get("BEX_TZ")
    os.environ["BEX_TZ"] = "UTC"
    yield
    if before is None:
        os.environ.pop("BEX_TZ", None)
    else:
        os.environ["BEX_TZ"] = before


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def canonical(result: pd.DataFrame) -> pd.DataFrame:
    """A report's rows in key order, category keys as text (to compare engines).

    Reports sort groups by category order, and a frame read from CSV keeps categories in
    order of first appearance while the synced dataset sorts them: same rows, same
    numbers, possibly another row order.
    """
    out = result.copy()
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("string")
    keys = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by eventId, categories as the sorted values present: order-free comparison."""
    out = frame.sort_values("eventId", kind="stable").reset_index(drop=True)
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and len(col.cat.categories):
            col = col.cat.remove_unused_categories()
            out[name] = col.cat.set_categories(col.cat.categories.sort_values())
    out.attrs = {}
    return out


# --- a scripted loopback HTTP server (OAuth + API) for the client, auth and CLI tests -------

CLIENT_SECRET = "cl1ent-SECRET-do-not-show"
REFRESH_TOKEN = "refr3sh-TOKEN-do-not-show"
ACCESS_PREFIX = "acc3ss-TOKEN-do-not-show-"


@dataclass
class Reply:
    """One scripted answer: JSON ``body`` (str is sent raw, as ``text/plain`` unless
    ``content_type`` says otherwise), ``delay`` before answering, or ``drop`` the connection
    without answering."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    drop: bool = False
    content_type: str | None = None


def envelope(data: Any = None, general=(), fields=None) -> dict:
    return {
        "meta": {"generalErrors": list(general), "fieldErrors": dict(fields or {})},
        "data": data,
    }


class ScriptedServer:
    """Answers API calls from ``replies`` and token calls from ``token_replies`` (or with a
    fresh token each time); records every request."""

    def __init__(self, token_lifetime: int = 14400) -> None:
        self.token_lifetime = token_lifetime
        self.replies: deque[Reply] = deque()
        self.token_replies: deque[Reply] = deque()
        self.requests: list[tuple[str, str, dict[str, str], str]] = []
        self.tokens = 0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                outer._handle(self, "GET")

            def do_POST(self) -> None:
                outer._handle(self, "POST")

            def do_PUT(self) -> None:
                outer._handle(self, "PUT")

            def do_DELETE(self) -> None:
                outer._handle(self, "DELETE")

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base_url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def queue(self, *replies: Reply) -> None:
        self.replies.extend(replies)

    def api_requests(self) -> list[tuple[str, str]]:
        return [(m, p) for m, p, _, _ in self.requests if p != "/oauth/token"]

    def token_count(self) -> int:
        return sum(1 for _, p, _, _ in self.requests if p == "/oauth/token")

    def _handle(self, handler: BaseHTTPRequestHandler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length).decode() if length else ""
        with self._lock:
            self.requests.append((method, handler.path, dict(handler.headers), body))
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            if handler.path == "/oauth/token":
                if self.token_replies:
                    reply = self.token_replies.popleft()
                else:
                    self.tokens += 1
                    reply = Reply(
                        200,
                        {
                            "access_token": f"{ACCESS_PREFIX}{self.tokens}",
                            "token_type": "bearer",
                            "expires_in": self.token_lifetime,
                        },
                    )
            else:
                reply = (
                    self.replies.popleft()
                    if self.replies
                    else Reply(500, envelope(general=["script exhausted"]))
                )
        try:
            time.sleep(reply.delay)
            if reply.drop:
                handler.close_connection = True
                handler.connection.shutdown(socket.SHUT_RDWR)
                return
            raw = (
                reply.body
                if isinstance(reply.body, str)
                else ("" if reply.body is None else json.dumps(reply.body))
            )
            data = raw.encode()
            handler.send_response(reply.status)
            default_type = "text/plain" if isinstance(reply.body, str) else "application/json"
            handler.send_header("Content-Type", reply.content_type or default_type)
            handler.send_header("Content-Length", str(len(data)))
            for k, v in reply.headers.items():
                handler.send_header(k, v)
            handler.end_headers()
            handler.wfile.write(data)
        except OSError:
            pass  # the client gave up (timeout test)
        finally:
            with self._lock:
                self.in_flight -= 1

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_client(base_url: str, sleeps: list[float], **kw: Any) -> Any:
    """A BexClient of the scripted server's credentials whose sleeps land in ``sleeps``."""
    options: dict[str, Any] = {
        "base_url": base_url,
        "client_id": "app-id",
        "client_secret": CLIENT_SECRET,
        "refresh_token": REFRESH_TOKEN,
        "sleep": sleeps.append,
        "timeout": (2.0, 2.0),
        "env": {},
    }
    options.update(kw)
    from bextoolkit.client import BexClient

    return BexClient(**options)


# --- one builder for small events frames ------------------------------------------------------

#: What a compact row holds, unless a test says otherwise.
ROW_COLUMNS = ("messageId", "RECIPIENT_ID", "eventType", "timestamp")
#: Time zero of the compact rows: a number in ``timestamp`` is minutes after it.
T0 = pd.Timestamp("2026-11-02 08:00", tz="UTC")


def events_frame(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str] = ROW_COLUMNS,
    *,
    start: pd.Timestamp = T0,
    missing: Sequence[str] = ("bounceType", "clickUrl", "urlDescription"),
) -> pd.DataFrame:
    """An events frame typed like ``read_events``' from compact rows.

    Each row holds the values of ``columns`` in order, optionally followed by a dict of
    further columns (``("m1", "r5", "emailBounce", 10, {"bounceType": "Hard"})``). A number
    in ``timestamp`` is minutes after ``start``, a ``Timedelta`` an offset from it, anything
    else a time in UTC. ``Email`` is made from ``RECIPIENT_ID`` when not given, and the
    ``missing`` columns are added empty. Low-cardinality text becomes ``category`` and
    identifiers strings, as :mod:`bextoolkit.schema` says.
    """
    records = []
    for values in rows:
        extra = values[len(columns)] if len(values) > len(columns) else {}
        record = dict(zip(columns, values[: len(columns)], strict=True)) | extra
        if "timestamp" in record:
            record["timestamp"] = _time(record["timestamp"], start)
        if "RECIPIENT_ID" in record and "Email" not in record:
            rid = record["RECIPIENT_ID"]
            record["Email"] = None if rid is None else f"{rid}@example.com"
        records.append(record)
    out = pd.DataFrame.from_records(records)
    for name in missing:
        if name not in out.columns:
            out[name] = None
    for name in out.columns:
        if name in schema.CATEGORY_COLUMNS:
            out[name] = out[name].astype("category")
        elif name in schema.UNIQUE_TEXT_COLUMNS or name in schema.ID_COLUMNS:
            out[name] = out[name].astype("string")
    return out


def _time(value: Any, start: pd.Timestamp) -> pd.Timestamp:
    if isinstance(value, int | float):
        return start + pd.Timedelta(minutes=value)
    if isinstance(value, pd.Timedelta):
        return start + value
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp


def zip_bytes(members: dict[str, str | bytes]) -> bytes:
    """A zip archive in memory holding ``members`` (name -> text or bytes)."""
    import io
    import zipfile

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


# --- a small generated campaign as hourly export files (sync and CLI tests) ----------------------


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    """Three mailings to 300 recipients over two days (a module may define its own)."""
    from bextoolkit.samples import generate_events

    return generate_events(n_recipients=300, n_mailings=3, days=2, seed=7)


@pytest.fixture
def src(tmp_path: Path, events: pd.DataFrame) -> Path:
    """``events`` written as hourly CSV exports into ``tmp_path/download``."""
    from bextoolkit.samples import write_exports

    folder = tmp_path / "download"
    write_exports(events, str(folder), timestamp_format="us")
    return folder


def export_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- the same events in files of different columns (event identity) ---------------------
_CODES = ["emailSend", "emailOpen", "emailClick", "emailOpen"]
_RRDE_WORDS = {"emailSend": "Sent", "emailOpen": "Open", "emailClick": "Click Through"}


def twelve_events() -> list[dict[str, str]]:
    """12 events of 3 people: a send, an open, a click and a second open each."""
    return [
        {
            "who": str(who),
            "code": code,
            "url": "https://example.com/a" if code == "emailClick" else "",
            "minute": f"{who * 4 + i:02d}",
            "City": ["Berlin", "Paris", "Rome"][who],
            "Plan": ["gold", "", "free"][who],
        }
        for who in range(3)
        for i, code in enumerate(_CODES)
    ]


def write_bex(path, events, extra=()) -> None:
    header = ["Email", "RECIPIENT_ID", "code", "messageId", "clickUrl", "timestamp", *extra]
    lines = [",".join(header)]
    for e in events:
        row = [f"u{e['who']}@example.com", f"100{e['who']}", e["code"], "17288904", e["url"],
               f"2026-11-01T10:{e['minute']}:00Z", *(e[c] for c in extra)]  # fmt: skip
        lines.append(",".join(row))
    path.write_text("\n".join(lines) + "\n")


def write_rrde(path, events, extra=()) -> None:
    header = ["Recipient Id", "Mailing Id", "Email", "Event Type", "Event Timestamp", "URL",
              *extra]  # fmt: skip
    lines = [",".join(header)]
    for e in events:
        row = [f"100{e['who']}", "17288904", f"u{e['who']}@example.com", _RRDE_WORDS[e["code"]],
               f"11/01/2026 10:{e['minute']}:00", e["url"], *(e[c] for c in extra)]  # fmt: skip
        lines.append(",".join(row))
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Raw Recipient Data Export.csv", "\r\n".join(lines) + "\r\n")
