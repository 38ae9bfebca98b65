"""The sandbox's HTTP API: Acoustic's OAuth token endpoint and BEX job-definition CRUD.

A real HTTP server (``http.server.ThreadingHTTPServer`` in a background thread) that
listens on loopback only and behaves as domain.md describes the real service:

- ``POST /oauth/token`` (form-encoded refresh-token grant) answers ``{"access_token",
  "token_type", "refresh_token", "expires_in"}``; wrong client id or secret -> 401
  ``invalid_client``, wrong refresh token -> 400 ``invalid_grant``. Asked again while the
  token has more than a quarter of its life left, it returns the same token (as Acoustic
  does within 3 of 4 hours).
- ``/rest/bulkeventexport/jobdefinition``: ``POST`` creates (answer ``data: {"id": "..."}``),
  ``GET`` without an id lists (``data: [...]``; the real API documents no list call),
  ``GET|PUT|DELETE .../{id}`` read, replace and remove; ``PUT`` without an id in the path
  takes it from the body, as the vendor's page shows.
- Every answer is the envelope ``{"meta": {"generalErrors": [...], "fieldErrors": {...}},
  "data": ...}``. A missing, wrong or expired token -> 401; a body that breaks a rule ->
  400 with ``fieldErrors`` keyed by wire path (the rules are :func:`bextoolkit.jobs.
  find_problems`, the same the client checks); an unknown id -> 404.
- One job definition per database: a second POST for the same ``contactSourceId`` (or a
  PUT moving a job onto a database that has one) -> **409 Conflict**, naming the existing
  id and saying to update or delete it.
- More than 10 requests in flight -> 429 with ``Retry-After: 1`` (the vendor's limit).

Given ``state_dir``, the job definitions and the credentials are kept in
``state_dir/api-state.json`` and survive a restart; access tokens do not (clients meet a
401, refresh once, and go on).
"""

from __future__ import annotations

import contextlib
import ipaddress
import json
import logging
import os
import re
import secrets
import socket
import threading
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from bextoolkit.exceptions import BexConfigError
from bextoolkit.jobs import JOBS_PATH, find_problems

log = logging.getLogger(__name__)

__all__ = ["JOBS_PATH", "SandboxAPI", "SandboxCredentials"]

TOKEN_PATH = "/oauth/token"
STATE_FILE = "api-state.json"
MAX_IN_FLIGHT = 10
MAX_BODY = 1 << 20
_JOB_URL = re.compile(rf"^{re.escape(JOBS_PATH)}(?:/(?P<id>[^/]*))?/?$")

#: ``listener(event, job_id, job)``: event is "created", "updated" or "deleted"; job is the
#: wire JSON (None for "deleted").
JobListener = Callable[[str, str, "dict[str, Any] | None"], None]


@dataclass(frozen=True, repr=False)
class SandboxCredentials:
    """The OAuth values the sandbox accepts (made per sandbox; masked in ``repr``).

    Examples
    --------
    >>> SandboxCredentials("sandbox-app", "s3cret", "r3fresh")
    SandboxCredentials(client_id='sandbox-app', client_secret=***, refresh_token=***)
    """

    client_id: str
    client_secret: str
    refresh_token: str

    def __repr__(self) -> str:
        return (
            f"SandboxCredentials(client_id={self.client_id!r}, "
            "client_secret=***, refresh_token=***)"
        )

    @classmethod
    def generate(cls) -> SandboxCredentials:
        return cls(
            client_id=f"sandbox-{secrets.token_hex(4)}",
            client_secret=secrets.token_urlsafe(24),
            refresh_token=secrets.token_urlsafe(32),
        )


def _envelope(
    data: Any = None, general: list[str] | None = None, fields: Mapping[str, str] | None = None
) -> dict[str, Any]:
    return {
        "meta": {"generalErrors": list(general or []), "fieldErrors": dict(fields or {})},
        "data": data,
    }


def _check_loopback(host: str) -> None:
    if host == "localhost":
        return
    try:
        loopback = ipaddress.ip_address(host).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise BexConfigError(
            f"the sandbox listens on loopback only; got host={host!r}: use 127.0.0.1 (the default)"
        )


class SandboxAPI:
    """Acoustic's OAuth endpoint and BEX job-definition API, on loopback.

    Parameters
    ----------
    state_dir : str or Path, optional
        Keep job definitions and credentials in ``state_dir/api-state.json`` so they survive
        a restart. Without it, everything lives in memory.
    host : str, default "127.0.0.1"
        A loopback address; anything else is refused.
    port : int, default 0
        0 picks a free port; read :attr:`base_url` after :meth:`start`.
    token_lifetime : float, default 14400
        Seconds an access token lives (4 hours, as Acoustic's).
    clock : callable, default time.time
        Wall-clock seconds; inject one to expire tokens in tests.
    credentials : SandboxCredentials, optional
        The accepted credentials; generated (or read back from ``state_dir``) otherwise.

    Examples
    --------
    >>> with SandboxAPI() as api:  # doctest: +SKIP
    ...     client = BexClient.from_env(api.env())
    ...     job_id = client.create_job(job)
    """

    def __init__(
        self,
        state_dir: str | os.PathLike[str] | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token_lifetime: float = 14400.0,
        clock: Callable[[], float] = time.time,
        credentials: SandboxCredentials | None = None,
    ) -> None:
        _check_loopback(host)
        self.host = host
        self.port = port
        self.token_lifetime = float(token_lifetime)
        self.clock = clock
        self.state_dir = Path(state_dir) if state_dir is not None else None
        self._lock = threading.RLock()
        self._jobs: dict[str, dict[str, Any]] = {}
        self._created: dict[str, float] = {}
        self._next_id = 1001
        self._tokens: dict[str, float] = {}  # access token -> expiry (clock seconds)
        self._in_flight = 0
        self._listeners: list[JobListener] = []
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        #: ``(method, path, status)`` of recent requests, newest last.
        self.request_log: deque[tuple[str, str, int]] = deque(maxlen=2000)
        stored = self._load()
        self.credentials = credentials or stored or SandboxCredentials.generate()
        self._save()

    # --- lifecycle --------------------------------------------------------------------------

    def start(self) -> SandboxAPI:
        """Start serving in a background thread; returns ``self``."""
        if self._server is not None:
            return self
        server = _Server((self.host, self.port), _Handler)
        server.api = self  # type: ignore[attr-defined]
        self._server = server
        self.port = server.server_address[1]
        self._thread = threading.Thread(
            target=server.serve_forever, args=(0.05,), name="bex-sandbox-api", daemon=True
        )
        self._thread.start()
        log.info("sandbox API listening on %s", self.base_url)
        return self

    def stop(self) -> None:
        """Stop serving and close the socket (the state stays on disk)."""
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.server_close()
        server.close_connections()  # keep-alive connections must not outlive the server
        if self._thread is not None:
            self._thread.join(timeout=5)
        log.info("sandbox API stopped")

    def __enter__(self) -> SandboxAPI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def __repr__(self) -> str:
        where = self.base_url if self._server else "stopped"
        return f"SandboxAPI({where}, jobs={len(self._jobs)})"

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>``: pass it as ``BexClient(base_url=...)``."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The ``BEX_*`` variables a client needs: ``BexClient.from_env(api.env())``."""
        return {
            "BEX_BASE_URL": self.base_url,
            "BEX_CLIENT_ID": self.credentials.client_id,
            "BEX_CLIENT_SECRET": self.credentials.client_secret,
            "BEX_REFRESH_TOKEN": self.credentials.refresh_token,
        }

    # --- what the rest of the sandbox reads ---------------------------------------------------

    @property
    def jobs(self) -> dict[str, dict[str, Any]]:
        """A snapshot ``{job_id: wire JSON}`` of the job definitions (safe to keep)."""
        with self._lock:
            return json.loads(json.dumps(self._jobs))

    def created_at(self, job_id: str) -> datetime | None:
        """When the job definition was created (UTC), or None for an unknown id."""
        with self._lock:
            stamp = self._created.get(str(job_id))
        return None if stamp is None else datetime.fromtimestamp(stamp, UTC)

    def subscribe(self, listener: JobListener) -> None:
        """Call ``listener(event, job_id, job)`` after every create, update and delete."""
        self._listeners.append(listener)

    def token_is_valid(self, token: str) -> bool:
        """Whether ``token`` is an access token this API issued and that has not expired.

        The sandbox's SFTP server asks this to let user ``oauth`` log in with a token.
        """
        with self._lock:
            expiry = self._tokens.get(token)
        return expiry is not None and expiry > self.clock()

    # --- OAuth ------------------------------------------------------------------------------

    def _issue_token(self, form: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        if form.get("grant_type") != "refresh_token":
            return 400, {
                "error": "unsupported_grant_type",
                "error_description": "use grant_type=refresh_token",
            }
        creds = self.credentials
        if not (
            secrets.compare_digest(form.get("client_id", ""), creds.client_id)
            and secrets.compare_digest(form.get("client_secret", ""), creds.client_secret)
        ):
            return 401, {
                "error": "invalid_client",
                "error_description": "unknown client id or wrong client secret",
            }
        if not secrets.compare_digest(form.get("refresh_token", ""), creds.refresh_token):
            return 400, {
                "error": "invalid_grant",
                "error_description": "the refresh token is not valid",
            }
        now = self.clock()
        with self._lock:
            self._tokens = {t: exp for t, exp in self._tokens.items() if exp > now}
            fresh = [
                (t, exp) for t, exp in self._tokens.items() if exp - now > self.token_lifetime / 4
            ]
            if fresh:
                token, expiry = max(fresh, key=lambda item: item[1])
            else:
                token, expiry = secrets.token_urlsafe(24), now + self.token_lifetime
                self._tokens[token] = expiry
        return 200, {
            "access_token": token,
            "token_type": "bearer",
            "refresh_token": creds.refresh_token,
            "expires_in": int(expiry - now),
        }

    def _authorized(self, header: str | None) -> bool:
        if not header or not header.lower().startswith("bearer "):
            return False
        return self.token_is_valid(header[7:].strip())

    # --- job definitions --------------------------------------------------------------------

    def _handle_jobs(
        self, method: str, job_id: str | None, body: Any
    ) -> tuple[int, dict[str, Any]]:
        if method == "GET":
            with self._lock:
                if job_id is None:
                    return 200, _envelope([self._jobs[k] for k in sorted(self._jobs, key=int)])
                if job_id not in self._jobs:
                    return 404, self._not_found(job_id)
                return 200, _envelope(self._jobs[job_id])
        if method == "POST":
            if job_id is not None:
                return 405, _envelope(
                    general=[
                        f"POST goes to {JOBS_PATH} without an id; to change job {job_id} use PUT"
                    ]
                )
            return self._create(body)
        if method == "PUT":
            return self._update(job_id, body)
        if method == "DELETE":
            if job_id is None:
                return 405, _envelope(general=[f"DELETE needs an id: {JOBS_PATH}/{{id}}"])
            with self._lock:
                if job_id not in self._jobs:
                    return 404, self._not_found(job_id)
                del self._jobs[job_id]
                self._created.pop(job_id, None)
                self._save()
            self._notify("deleted", job_id, None)
            return 200, _envelope({"id": job_id})
        return 405, _envelope(general=[f"method {method} is not allowed here"])

    def _create(self, body: Any) -> tuple[int, dict[str, Any]]:
        problems = find_problems(body, for_update=False)
        if problems:
            return 400, self._invalid(problems)
        with self._lock:
            source = str(body["contactSourceId"])
            other = self._job_for_database(source)
            if other is not None:
                return 409, self._conflict(source, other)
            job_id = str(self._next_id)
            self._next_id += 1
            stored = {**body, "id": job_id}
            self._jobs[job_id] = stored
            self._created[job_id] = self.clock()
            self._save()
        log.info("sandbox: created job definition %s for database %s", job_id, source)
        self._notify("created", job_id, stored)
        return 200, _envelope({"id": job_id})

    def _update(self, path_id: str | None, body: Any) -> tuple[int, dict[str, Any]]:
        problems = find_problems(body, for_update=True)
        if problems:
            return 400, self._invalid(problems)
        body_id = str(body["id"])
        if path_id is not None and body_id != path_id:
            msg = f"must match the id in the URL ({path_id}), got {body_id!r}"
            return 400, _envelope(general=["the job definition has 1 problem"], fields={"id": msg})
        with self._lock:
            if body_id not in self._jobs:
                return 404, self._not_found(body_id)
            source = str(body["contactSourceId"])
            other = self._job_for_database(source)
            if other is not None and other != body_id:
                return 409, self._conflict(source, other)
            stored = {**body, "id": body_id}
            self._jobs[body_id] = stored
            self._save()
        self._notify("updated", body_id, stored)
        return 200, _envelope({"id": body_id})

    def _job_for_database(self, source: str) -> str | None:
        return next(
            (k for k, job in self._jobs.items() if str(job.get("contactSourceId")) == source), None
        )

    @staticmethod
    def _invalid(problems: list[Any]) -> dict[str, Any]:
        fields: dict[str, str] = {}
        for p in problems:
            fields[p.path] = f"{fields[p.path]}; {p.message}" if p.path in fields else p.message
        noun = "problem" if len(problems) == 1 else "problems"
        return _envelope(general=[f"the job definition has {len(problems)} {noun}"], fields=fields)

    @staticmethod
    def _not_found(job_id: str) -> dict[str, Any]:
        return _envelope(general=[f"no job definition with id {job_id!r}"])

    @staticmethod
    def _conflict(source: str, other: str) -> dict[str, Any]:
        return _envelope(
            general=[
                f"database {source} already has job definition {other}: one job definition per "
                f"database; change it with PUT {JOBS_PATH}/{other} or delete it first"
            ],
            fields={"contactSourceId": f"already used by job definition {other}"},
        )

    def _notify(self, event: str, job_id: str, job: dict[str, Any] | None) -> None:
        for listener in list(self._listeners):
            try:
                listener(event, job_id, json.loads(json.dumps(job)) if job else None)
            except Exception:
                log.exception("sandbox: a job listener failed on %s of %s", event, job_id)

    # --- state on disk ----------------------------------------------------------------------

    def _load(self) -> SandboxCredentials | None:
        if self.state_dir is None:
            return None
        path = self.state_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            state = json.loads(path.read_text(encoding="utf-8"))
            self._jobs = {str(k): v for k, v in state["jobs"].items()}
            self._created = {str(k): float(v) for k, v in state.get("created", {}).items()}
            self._next_id = int(state.get("next_id", self._next_id))
            creds = state.get("credentials")
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise BexConfigError(
                f"{path}: cannot read the sandbox state ({type(exc).__name__}: {exc}); "
                "delete the file to start afresh"
            ) from None
        log.info("sandbox: loaded %d job definitions from %s", len(self._jobs), path)
        return SandboxCredentials(**creds) if isinstance(creds, dict) else None

    def _save(self) -> None:
        if self.state_dir is None:
            return
        with self._lock:
            state = {
                "next_id": self._next_id,
                "jobs": self._jobs,
                "created": self._created,
                "credentials": {
                    "client_id": self.credentials.client_id,
                    "client_secret": self.credentials.client_secret,
                    "refresh_token": self.credentials.refresh_token,
                },
            }
            self.state_dir.mkdir(parents=True, exist_ok=True)
            path = self.state_dir / STATE_FILE
            tmp = path.with_suffix(".tmp")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(state, fh, indent=1)
            os.replace(tmp, path)


class _Server(ThreadingHTTPServer):
    """A threading HTTP server that can close its open (keep-alive) connections."""

    daemon_threads = True

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._open_lock:
            open_now, self._open = list(self._open), set()
        for sock in open_now:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    """Routes one request to the :class:`SandboxAPI` held by the server."""

    server_version = "BexSandbox/1.0"
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in two writes: no 40 ms stalls

    @property
    def api(self) -> SandboxAPI:
        return self.server.api  # type: ignore[attr-defined]

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("sandbox %s - " + format, self.address_string(), *args)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        api = self.api
        path = urlsplit(self.path).path
        with api._lock:
            api._in_flight += 1
            busy = api._in_flight > MAX_IN_FLIGHT
        try:
            raw = self._read_body()
            if raw is None:
                status, payload = (
                    413,
                    _envelope(general=[f"the body is larger than {MAX_BODY} bytes"]),
                )
            elif busy:
                status, payload = (
                    429,
                    _envelope(general=[f"more than {MAX_IN_FLIGHT} requests at once; slow down"]),
                )
            else:
                status, payload = self._route(method, path, raw)
        except Exception:  # the sandbox must answer, whatever happened
            log.exception("sandbox: %s %s failed", method, path)
            status, payload = 500, _envelope(general=["the sandbox failed; see its log"])
        finally:
            with api._lock:
                api._in_flight -= 1
        api.request_log.append((method, path, status))
        self._answer(status, payload, retry_after=1 if status == 429 else None)

    def _read_body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _route(self, method: str, path: str, raw: bytes) -> tuple[int, dict[str, Any]]:
        api = self.api
        if path.rstrip("/") == TOKEN_PATH:
            if method != "POST":
                return 405, {
                    "error": "invalid_request",
                    "error_description": "POST the token request",
                }
            form = {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
            return api._issue_token(form)
        match = _JOB_URL.match(path)
        if not match:
            return 404, _envelope(general=[f"no such resource: {path}"])
        if not api._authorized(self.headers.get("Authorization")):
            return 401, _envelope(
                general=[
                    "the access token is missing, wrong or expired: ask /oauth/token for a new one"
                ]
            )
        job_id = unquote(match.group("id")) if match.group("id") else None
        body: Any = None
        if method in ("POST", "PUT"):
            try:
                body = json.loads(raw.decode("utf-8")) if raw else None
            except (UnicodeDecodeError, ValueError) as exc:
                return 400, _envelope(general=[f"the body is not valid JSON: {exc}"])
        return api._handle_jobs(method, job_id, body)

    def _answer(self, status: int, payload: Any, *, retry_after: int | None = None) -> None:
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        if retry_after is not None:
            self.send_header("Retry-After", str(retry_after))
        if status == 401:
            self.send_header("WWW-Authenticate", 'Bearer error="invalid_token"')
        self.end_headers()
        self.wfile.write(data)
