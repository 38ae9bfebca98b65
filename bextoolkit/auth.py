"""OAuth for Acoustic Campaign: pod hosts, masked credentials, one cached access token.

The vendor's rules (domain.md section 3): ask ``{base}/oauth/token`` with the refresh-token
grant; a token lives 4 hours; cache it and ask again only shortly before it expires; back
off exponentially on errors, or the vendor blocks the client.

So there is one token cache per process, keyed by (token URL, client id, a SHA-256 of the
client secret and refresh token) and shared by every :class:`AccessToken`, client and
thread: five clients with the same credentials ask once. A token is asked for again
``min(300 s, expires_in / 10)`` before it expires, so a short-lived token is still asked
for once per lifetime. An opt-in on-disk cache (:class:`DiskTokenCache`, ``BEX_TOKEN_CACHE=1``)
lets successive processes, such as ``bextoolkit jobs`` commands, reuse one token.

Secrets live in :class:`Credentials`, whose ``repr`` masks them, and are revealed only
inside the one expression that builds the token request's form. Error text coming back
from the token endpoint is redacted (:func:`bextoolkit.exceptions.redact`) before it
reaches a message.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from bextoolkit._http import RetryPolicy, error_from_answer, read_answer, send
from bextoolkit.exceptions import BexAuthError, BexConfigError, redact

log = logging.getLogger(__name__)

__all__ = [
    "PODS",
    "AccessToken",
    "Credentials",
    "DiskTokenCache",
    "api_base_url",
    "forget_tokens",
    "sftp_host",
]

#: Acoustic Campaign pod -> region part of its host names (never ``us-<pod>``).
PODS: dict[str, str] = {
    "1": "us-1",
    "2": "us-2",
    "3": "us-3",
    "4": "us-4",
    "5": "us-5",
    "6": "eu-1",
    "7": "ap-2",
    "8": "ca-1",
    "9": "us-6",
    "A": "ap-1",
    "B": "ap-3",
}

ENV_POD = "BEX_POD"
ENV_BASE_URL = "BEX_BASE_URL"
ENV_CLIENT_ID = "BEX_CLIENT_ID"
ENV_CLIENT_SECRET = "BEX_CLIENT_SECRET"
ENV_REFRESH_TOKEN = "BEX_REFRESH_TOKEN"
ENV_TOKEN_CACHE = "BEX_TOKEN_CACHE"
ENV_SFTP_HOST = "BEX_SFTP_HOST"
ENV_SFTP_PORT = "BEX_SFTP_PORT"


def _region(pod: str | int) -> str:
    key = str(pod).strip().upper()
    if key not in PODS:
        raise BexConfigError(
            f"unknown Acoustic Campaign pod {str(pod)!r}: use one of {', '.join(PODS)} "
            "(the number in your Campaign login URL), or pass base_url= instead"
        )
    return PODS[key]


def api_base_url(pod: str | int) -> str:
    """The REST API base URL of a pod.

    Examples
    --------
    >>> api_base_url(1)
    'https://api-campaign-us-1.goacoustic.com'
    >>> api_base_url("6")
    'https://api-campaign-eu-1.goacoustic.com'
    """
    return f"https://api-campaign-{_region(pod)}.goacoustic.com"


def sftp_host(pod: str | int) -> str:
    """The SFTP host (port 22) where a pod drops export files.

    Examples
    --------
    >>> sftp_host("b")
    'transfer-campaign-ap-3.goacoustic.com'
    """
    return f"transfer-campaign-{_region(pod)}.goacoustic.com"


def sftp_host_of(base_url: str) -> str | None:
    """The SFTP host that belongs to an API base URL of a real pod, else None.

    Examples
    --------
    >>> sftp_host_of("https://api-campaign-eu-1.goacoustic.com")
    'transfer-campaign-eu-1.goacoustic.com'
    >>> sftp_host_of("http://127.0.0.1:8080") is None
    True
    """
    match = re.fullmatch(r"https?://api-campaign-([a-z]+-\d+)\.goacoustic\.com/?", base_url)
    return f"transfer-campaign-{match[1]}.goacoustic.com" if match else None


def _mask(value: str) -> str:
    return "***" if value else "''"


class Credentials:
    """The three OAuth values, kept out of every ``repr``, ``str`` and log line.

    Parameters
    ----------
    client_id, client_secret, refresh_token : str
        From the Campaign "Application account access" page.

    Examples
    --------
    >>> Credentials("my-app", "s3cret-value", "r3fresh-value")
    Credentials(client_id='my-app', client_secret=***, refresh_token=***)
    """

    __slots__ = ("_client_id", "_client_secret", "_refresh_token")

    def __init__(self, client_id: str, client_secret: str, refresh_token: str) -> None:
        self._client_id = client_id
        self._client_secret = client_secret
        self._refresh_token = refresh_token

    @classmethod
    def resolve(
        cls,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        *,
        env: Mapping[str, str] | None = None,
    ) -> Credentials:
        """Take each value from its argument, else its ``BEX_*`` environment variable.

        Raises
        ------
        BexConfigError
            Naming every value that is missing and both ways to give it.
        """
        env = os.environ if env is None else env
        given = {
            ENV_CLIENT_ID: (client_id, "client_id"),
            ENV_CLIENT_SECRET: (client_secret, "client_secret"),
            ENV_REFRESH_TOKEN: (refresh_token, "refresh_token"),
        }
        values: dict[str, str] = {}
        missing = []
        for var, (arg, name) in given.items():
            value = arg if arg else env.get(var, "")
            if not value:
                missing.append((name, var))
            values[name] = value
        if missing:
            args = ", ".join(f"{n}=" for n, _ in missing)
            envs = ", ".join(v for _, v in missing)
            del client_id, client_secret, refresh_token, env, given, values, arg, value
            raise BexConfigError(
                f"missing OAuth credentials: pass {args} to BexClient, or set the environment "
                f"variable(s) {envs} (values from Campaign's Application account access page)"
            )
        return cls(values["client_id"], values["client_secret"], values["refresh_token"])

    @property
    def client_id(self) -> str:
        """The client id (not secret: it names the application)."""
        return self._client_id

    def token_form(self) -> dict[str, str]:
        """The form of the refresh-token grant. Holds secrets: pass it straight to the request."""
        return {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }

    def rotate_refresh_token(self, new: str) -> None:
        """Keep a new refresh token the server handed out (some OAuth servers rotate it)."""
        if new:
            self._refresh_token = new

    def secrets(self) -> tuple[str, ...]:
        """The secret values, for scrubbing text (never for display)."""
        return tuple(s for s in (self._client_secret, self._refresh_token) if s)

    def scrub(self, text: str, *extra: str) -> str:
        """``text`` with every secret (and each of ``extra``) replaced by ``***``."""
        return redact(text, (*self.secrets(), *extra))

    def cache_key(self, token_url: str) -> str:
        """The token cache's key: a SHA-256 of the token URL, client id, secret and token.

        Two clients share a cached token only when all four are equal, so a wrong client
        secret never rides on a token someone else got. The hash reveals none of them.
        """
        parts = (token_url, self._client_id, self._client_secret, self._refresh_token)
        return hashlib.sha256("\0".join(parts).encode()).hexdigest()

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self._client_id!r}, "
            f"client_secret={_mask(self._client_secret)}, "
            f"refresh_token={_mask(self._refresh_token)})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Credentials are not picklable: they hold secrets")


# --- the token caches -----------------------------------------------------------------------


def refresh_margin(lifetime: float) -> float:
    """Seconds before expiry to ask for a new token: 300, or a tenth of a short lifetime.

    Examples
    --------
    >>> refresh_margin(14223), refresh_margin(100)
    (300.0, 10.0)
    """
    return min(300.0, max(0.0, lifetime) / 10)


@dataclass
class _Entry:
    """One cached token of the process, and the lock its refreshes take turns on."""

    lock: threading.Lock = field(default_factory=threading.Lock)
    token: str | None = None
    expires_at: float = 0.0  # clock seconds
    refresh_at: float = 0.0  # clock seconds

    def __repr__(self) -> str:
        return f"_Entry(token={'***' if self.token else None}, expires_at={self.expires_at:.0f})"


_ENTRIES: dict[str, _Entry] = {}
_ENTRIES_LOCK = threading.Lock()


def _entry(key: str) -> _Entry:
    with _ENTRIES_LOCK:
        return _ENTRIES.setdefault(key, _Entry())


def forget_tokens() -> None:
    """Forget every access token cached in this process (the disk cache is left alone).

    Examples
    --------
    >>> forget_tokens()  # the next call of every client asks the token endpoint again
    """
    with _ENTRIES_LOCK:
        _ENTRIES.clear()


def token_cache_dir(env: Mapping[str, str] | None = None) -> Path:
    """``$XDG_CACHE_HOME/bextoolkit/tokens``, else ``~/.cache/bextoolkit/tokens``."""
    env = os.environ if env is None else env
    base = env.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "bextoolkit" / "tokens"


def disk_cache_wanted(env: Mapping[str, str] | None = None) -> bool:
    """Whether ``BEX_TOKEN_CACHE`` asks for the on-disk token cache (1, true, yes, on)."""
    env = os.environ if env is None else env
    return str(env.get(ENV_TOKEN_CACHE, "")).strip().lower() in ("1", "true", "yes", "on")


class DiskTokenCache:
    """Access tokens kept on disk between processes: opt-in, owner-only.

    One JSON file per cache key, ``<key>.json`` with mode 0600 in a 0700 folder, holding
    exactly ``{"key", "access_token", "expires_at", "refresh_at"}`` (the key is the SHA-256
    of :meth:`Credentials.cache_key`; times are Unix seconds). No client secret, no refresh
    token. A damaged or stale file is ignored and replaced.

    Parameters
    ----------
    folder : str or Path, optional
        Default :func:`token_cache_dir`.
    wall : callable, default time.time
        The wall clock (files outlive a process's monotonic clock).

    Examples
    --------
    >>> import tempfile
    >>> cache = DiskTokenCache(tempfile.mkdtemp())
    >>> cache.save("k" * 64, "an-access-token", expires_in=3600, refresh_in=3300)
    >>> token, expires_in, refresh_in = cache.load("k" * 64)
    >>> token, round(expires_in, -2), round(refresh_in, -2)
    ('an-access-token', 3600.0, 3300.0)
    >>> cache.discard("k" * 64); cache.load("k" * 64) is None
    True
    """

    def __init__(
        self, folder: str | os.PathLike[str] | None = None, *, wall: Callable[[], float] = time.time
    ) -> None:
        self.folder = Path(folder) if folder is not None else token_cache_dir()
        self._wall = wall

    def __repr__(self) -> str:
        return f"DiskTokenCache(folder={str(self.folder)!r})"

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.json"

    def load(self, key: str) -> tuple[str, float, float] | None:
        """``(token, seconds to expiry, seconds to refresh)`` of a fresh cached token, or None."""
        try:
            stored = json.loads(self.path(key).read_text(encoding="utf-8"))
            token, expires_at = str(stored["access_token"]), float(stored["expires_at"])
            refresh_at = float(stored["refresh_at"])
            if stored["key"] != key:
                return None
        except (OSError, ValueError, KeyError, TypeError):
            return None
        now = self._wall()
        if refresh_at <= now or not token:
            return None
        return token, expires_at - now, refresh_at - now

    def save(self, key: str, token: str, expires_in: float, refresh_in: float) -> None:
        """Keep ``token`` for ``key`` (failures to write are logged, never raised)."""
        now = self._wall()
        state = {
            "key": key,
            "access_token": token,
            "expires_at": now + expires_in,
            "refresh_at": now + refresh_in,
        }
        try:
            self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            partial = self.path(key).with_suffix(f".{os.getpid()}.tmp")
            fd = os.open(partial, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                json.dump(state, handle)
            os.replace(partial, self.path(key))
        except OSError as exc:
            log.warning("cannot keep the access token in %s: %s", self.folder, exc.strerror)

    def discard(self, key: str) -> None:
        """Forget the token of ``key`` (after the server refused it)."""
        try:
            self.path(key).unlink()
        except FileNotFoundError:
            pass
        except OSError as exc:
            log.warning("cannot remove the cached token in %s: %s", self.folder, exc.strerror)


def _lifetime(expires_in: Any, default: float, url: str) -> float:
    """The token's lifetime in seconds: ``expires_in``, or ``default`` when it is no use.

    A missing, unreadable, zero or negative ``expires_in`` cannot be planned with (it would
    make every call ask for a new token); the token is kept for ``default`` seconds instead,
    and a 401 still refreshes it once.

    Examples
    --------
    >>> _lifetime(14223, 3600.0, "u"), _lifetime(None, 3600.0, "u"), _lifetime("0", 3600.0, "u")
    (14223.0, 3600.0, 3600.0)
    """
    if expires_in is None:
        return default
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        lifetime = float("nan")
    if not lifetime > 0 or lifetime == float("inf"):
        log.warning(
            "%s gave the token a lifetime of %r s; keeping it %.0f s (a 401 refreshes it)",
            url,
            expires_in,
            default,
        )
        return default
    return lifetime


# --- the access token -------------------------------------------------------------------------


class AccessToken:
    """The access token of one set of credentials, from the process-wide cache.

    Every ``AccessToken`` with the same token URL and credentials shares one cached token
    and one lock: whichever instance or thread finds it stale asks for a new one, once.

    Parameters
    ----------
    base_url : str
        The API base URL; the token endpoint is ``{base_url}/oauth/token``.
    credentials : Credentials
    session : requests.Session, optional
        Shared with the client; a new one otherwise.
    timeout : float or (connect, read), default (5, 30)
    retry : RetryPolicy, optional
        Tries on connection errors, 429 and 5xx (wrong credentials fail at once). Default:
        4 retries, backoff from 1 s up to 60 s.
    default_lifetime : float, default 3600
        Assumed lifetime when the server's answer has no ``expires_in``.
    disk_cache : DiskTokenCache, optional
        Also keep the token on disk for other processes (off by default).
    clock : callable, default time.monotonic
        Injectable for tests.

    Examples
    --------
    >>> from bextoolkit.sandbox.api import SandboxAPI
    >>> with SandboxAPI() as api:  # a real OAuth endpoint on 127.0.0.1
    ...     env = api.env()
    ...     credentials = Credentials(
    ...         env["BEX_CLIENT_ID"], env["BEX_CLIENT_SECRET"], env["BEX_REFRESH_TOKEN"])
    ...     token = AccessToken(env["BEX_BASE_URL"], credentials)
    ...     first = token.get()
    ...     print(token.get() == first, token.refresh_count, token.expires_in > 3600)
    True 1 True
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        retry: RetryPolicy | None = None,
        default_lifetime: float = 3600.0,
        disk_cache: DiskTokenCache | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = base_url.rstrip("/") + "/oauth/token"
        self._credentials = credentials
        self._key = credentials.cache_key(self.token_url)
        self._entry = _entry(self._key)
        self._session = session or requests.Session()
        self._timeout = timeout
        self.retry = retry or RetryPolicy(max_retries=4, backoff_base=1.0, backoff_cap=60.0)
        self._default_lifetime = default_lifetime
        self._disk = disk_cache
        self._clock = clock
        #: Token requests this instance sent that got a token.
        self.refresh_count = 0

    def __repr__(self) -> str:
        state = "cached" if self._entry.token else "empty"
        return f"AccessToken(token_url={self.token_url!r}, token={state})"

    @property
    def expires_in(self) -> float:
        """Seconds until the cached token expires (0 when there is none)."""
        entry = self._entry
        return max(0.0, entry.expires_at - self._clock()) if entry.token else 0.0

    def get(
        self,
        *,
        retry: RetryPolicy | None = None,
        timeout: float | tuple[float, float] | None = None,
    ) -> str:
        """The access token: the cached one while it is fresh, else a new one.

        ``retry`` and ``timeout`` replace this token's own for this call (an interactive
        check wants a quick answer, not the full backoff).
        """
        entry = self._entry
        with entry.lock:
            stale = entry.token is None or self._clock() >= entry.refresh_at
            if stale and not self._load_from_disk():
                (retry or self.retry).run(
                    lambda: self._request_once(timeout or self._timeout),
                    idempotent=True,  # the grant changes nothing on the server
                    what=f"POST {self.token_url}",
                )
            assert entry.token is not None
            return entry.token

    def current(self) -> str | None:
        """The cached token as it is, without asking for one (None when there is none).

        A request that has just called :meth:`get` sends this, so the token is asked for
        once per request, not once by the caller and again by the ``Authorization`` header.
        """
        return self._entry.token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (after a 401), here and on disk.

        With ``token``, only if it is still the cached one, so that threads that met the same
        401 refresh once, not once each.
        """
        entry = self._entry
        with entry.lock:
            if token is None or token == entry.token:
                entry.token = None
                entry.expires_at = entry.refresh_at = 0.0
                if self._disk is not None:
                    self._disk.discard(self._key)

    def scrub(self, text: str) -> str:
        """``text`` without any secret or the current access token."""
        return self._credentials.scrub(text, self._entry.token or "")

    def _load_from_disk(self) -> bool:
        if self._disk is None:
            return False
        found = self._disk.load(self._key)
        if found is None:
            return False
        token, expires_in, refresh_in = found
        self._keep(token, expires_in, refresh_in)
        log.info("using the access token cached in %s", self._disk.folder)
        return True

    def _keep(self, token: str, expires_in: float, refresh_in: float) -> None:
        now = self._clock()
        entry = self._entry
        entry.token, entry.expires_at, entry.refresh_at = token, now + expires_in, now + refresh_in

    def _request_once(self, timeout: float | tuple[float, float]) -> None:
        """One token request; the token is kept on success, a BexError raised otherwise."""
        log.debug("requesting an access token from %s", self.token_url)
        url = self.token_url
        resp = send(
            self._session,
            "POST",
            url,
            data=self._credentials.token_form(),
            headers={"Accept": "application/json"},
            timeout=timeout,
        )
        if not resp.ok:
            status = resp.status_code
            if status == 429:
                context, advice = "the token endpoint is busy", None
            elif status >= 500:
                context, advice = "the token endpoint is unavailable", None
            else:
                context = "the token endpoint refused the credentials"
                advice = (
                    "check BEX_CLIENT_ID, BEX_CLIENT_SECRET and BEX_REFRESH_TOKEN (or the "
                    "matching arguments) and the pod"
                )
            raise error_from_answer(
                resp,
                method="POST",
                url=url,
                scrub=self._credentials.scrub,
                context=context,
                advice=advice,
                refused=BexAuthError,
            )
        payload = read_answer(
            resp, method="POST", url=url, scrub=self._credentials.scrub, error=BexAuthError
        )
        if not isinstance(payload, Mapping) or not payload.get("access_token"):
            del payload  # it may echo secrets: keep it out of the traceback's locals
            raise BexAuthError(
                "the token endpoint answered without an access_token: check base_url points at "
                "the Campaign API of your pod",
                method="POST",
                url=url,
                status=resp.status_code,
            )
        lifetime = _lifetime(payload.get("expires_in"), self._default_lifetime, url)
        token = str(payload["access_token"])
        self._credentials.rotate_refresh_token(str(payload.get("refresh_token") or ""))
        del payload
        refresh_in = lifetime - refresh_margin(lifetime)
        self._keep(token, lifetime, refresh_in)
        if self._disk is not None:
            self._disk.save(self._key, token, lifetime, refresh_in)
        self.refresh_count += 1
        log.info("got an access token from %s, valid for %.0f s", url, lifetime)
