"""OAuth for Acoustic Campaign: pod hosts, masked credentials, and a cached access token.

The vendor's rules (domain.md section 3): ask ``{base}/oauth/token`` with the refresh-token
grant; a token lives 4 hours; cache it and ask again only shortly before it expires; back
off exponentially on errors. :class:`AccessToken` does exactly that, with one lock so that
many threads refresh once, and an injectable ``sleep`` / ``clock`` so tests are fast.

Secrets live in :class:`Credentials`, whose ``repr`` masks them, and are revealed only
inside the one expression that builds the token request's form. Error text coming back
from the token endpoint is scrubbed of them before it reaches a message.
"""

from __future__ import annotations

import logging
import os
import random
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

import requests

from bextoolkit.exceptions import (
    BexAuthError,
    BexConfigError,
    BexConnectionError,
    BexRateLimitError,
    BexServerError,
    BexTimeoutError,
)

log = logging.getLogger(__name__)

__all__ = [
    "PODS",
    "AccessToken",
    "Credentials",
    "api_base_url",
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
        for secret in (*self.secrets(), *extra):
            if secret:
                text = text.replace(secret, "***")
        return text

    def __repr__(self) -> str:
        return (
            f"Credentials(client_id={self._client_id!r}, "
            f"client_secret={_mask(self._client_secret)}, "
            f"refresh_token={_mask(self._refresh_token)})"
        )

    __str__ = __repr__

    def __reduce__(self) -> Any:
        raise TypeError("Credentials are not picklable: they hold secrets")


def backoff_delay(
    attempt: int, *, base: float, cap: float, rng: Callable[[], float] = random.random
) -> float:
    """Capped exponential backoff with "equal jitter": half to all of ``base * 2**attempt``.

    Examples
    --------
    >>> backoff_delay(0, base=1.0, cap=60.0, rng=lambda: 1.0)
    1.0
    >>> backoff_delay(10, base=1.0, cap=60.0, rng=lambda: 0.0)
    30.0
    """
    ceiling = min(cap, base * (2**attempt))
    return ceiling / 2 + ceiling / 2 * rng()


class AccessToken:
    """A cached OAuth access token, refreshed shortly before it expires.

    Parameters
    ----------
    base_url : str
        The API base URL; the token endpoint is ``{base_url}/oauth/token``.
    credentials : Credentials
    session : requests.Session, optional
        Shared with the client; a new one otherwise.
    timeout : float or (connect, read), default (5, 30)
    refresh_margin : float, default 300
        Ask for a new token this many seconds before the current one expires.
    default_lifetime : float, default 3600
        Assumed lifetime when the server's answer has no ``expires_in``.
    max_attempts : int, default 5
        Tries per refresh on connection errors, 429 and 5xx (wrong credentials fail at once).
    backoff_base, backoff_cap : float, default 1 and 60
        Capped exponential backoff with jitter between tries; a ``Retry-After`` wins.
    sleep, clock : callables
        Injectable for tests (``time.sleep``, ``time.monotonic``).
    """

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        session: requests.Session | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        refresh_margin: float = 300.0,
        default_lifetime: float = 3600.0,
        max_attempts: int = 5,
        backoff_base: float = 1.0,
        backoff_cap: float = 60.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.token_url = base_url.rstrip("/") + "/oauth/token"
        self._credentials = credentials
        self._session = session or requests.Session()
        self._timeout = timeout
        self._margin = refresh_margin
        self._default_lifetime = default_lifetime
        self._max_attempts = max(1, max_attempts)
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        self._sleep = sleep
        self._clock = clock
        self._lock = threading.Lock()
        self._token: str | None = None
        self._expires_at = 0.0
        self._failures_in_row = 0
        self.refresh_count = 0

    def __repr__(self) -> str:
        state = "cached" if self._token else "empty"
        return f"AccessToken(token_url={self.token_url!r}, token={state})"

    @property
    def expires_in(self) -> float:
        """Seconds until the cached token expires (0 when there is none)."""
        return max(0.0, self._expires_at - self._clock()) if self._token else 0.0

    def get(self) -> str:
        """The access token: the cached one while it is fresh, else a new one."""
        with self._lock:
            if self._token is None or self._clock() >= self._expires_at - self._margin:
                self._refresh_locked()
            assert self._token is not None
            return self._token

    def invalidate(self, token: str | None = None) -> None:
        """Forget the cached token (after a 401).

        With ``token``, only if it is still the cached one, so that threads that met the same
        401 refresh once, not once each.
        """
        with self._lock:
            if token is None or token == self._token:
                self._token = None
                self._expires_at = 0.0

    def scrub(self, text: str) -> str:
        """``text`` without any secret or the current access token."""
        return self._credentials.scrub(text, self._token or "")

    def _refresh_locked(self) -> None:
        for attempt in range(self._max_attempts):
            last = attempt == self._max_attempts - 1
            wait = self._try_once(last=last)
            if wait is None:
                return
            log.warning("token request failed; trying again in %.1f s", wait)
            self._sleep(wait)

    def _try_once(self, *, last: bool) -> float | None:
        """One token request: None on success, else the seconds to wait (raises when ``last``)."""
        attempt = self._failures_in_row
        log.debug("requesting an access token from %s", self.token_url)
        try:
            resp = self._session.post(
                self.token_url,
                data=self._credentials.token_form(),
                headers={"Accept": "application/json"},
                timeout=self._timeout,
            )
        except requests.Timeout:
            err: Exception = BexTimeoutError(
                f"POST {self.token_url}: no answer within {self._timeout} s"
            )
        except requests.RequestException as exc:
            err = BexConnectionError(f"POST {self.token_url}: {_describe(exc)}")
        else:
            if resp.ok:
                self._accept(resp)
                self._failures_in_row = 0
                return None
            err = self._error_for(resp)
            if not isinstance(err, BexRateLimitError | BexServerError):
                raise err from None  # wrong credentials: backing off would not help
        self._failures_in_row += 1
        if last:
            raise err from None
        retry_after = getattr(err, "retry_after", None)
        if retry_after is not None:
            return float(retry_after)
        return backoff_delay(attempt, base=self._backoff_base, cap=self._backoff_cap)

    def _accept(self, resp: requests.Response) -> None:
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        if not isinstance(payload, Mapping) or not payload.get("access_token"):
            del payload  # it may echo secrets: keep it out of the traceback's locals
            raise BexAuthError(
                "the token endpoint answered without an access_token: check base_url points at "
                "the Campaign API of your pod",
                method="POST",
                url=self.token_url,
                status=resp.status_code,
            ) from None
        try:
            lifetime = float(payload.get("expires_in", self._default_lifetime))
        except (TypeError, ValueError):
            lifetime = self._default_lifetime
        self._token = str(payload["access_token"])
        self._expires_at = self._clock() + lifetime
        self._credentials.rotate_refresh_token(str(payload.get("refresh_token") or ""))
        self.refresh_count += 1
        log.info("got an access token from %s, valid for %.0f s", self.token_url, lifetime)

    def _error_for(self, resp: requests.Response) -> Exception:
        status = resp.status_code
        try:
            payload = resp.json()
        except ValueError:
            payload = None
        if isinstance(payload, Mapping):
            code = str(payload.get("error") or "")
            detail = str(payload.get("error_description") or payload.get("message") or "")
        else:
            code, detail = "", resp.text[:200]
        said = (
            self._credentials.scrub(": ".join(p for p in (code, detail) if p)) or resp.reason or ""
        )
        url = self.token_url
        if status == 429:
            limited = BexRateLimitError(
                f"the token endpoint is busy ({said})", method="POST", url=url, status=status
            )
            limited.retry_after = _retry_after(resp)
            return limited
        if status >= 500:
            return BexServerError(
                f"the token endpoint is unavailable ({said})", method="POST", url=url, status=status
            )
        return BexAuthError(
            f"the token endpoint refused the credentials ({said}): check BEX_CLIENT_ID, "
            "BEX_CLIENT_SECRET and BEX_REFRESH_TOKEN (or the matching arguments) and the pod",
            method="POST",
            url=url,
            status=status,
        )


def _retry_after(resp: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds (number or HTTP date), or None."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _describe(exc: requests.RequestException) -> str:
    """A transport failure in a few words (no URL parameters, no headers, no body)."""
    text = str(exc)
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused (is the server running and the base_url or pod right?)"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text.lower():
        return "the connection was closed before an answer came"
    if "NameResolution" in text or "getaddrinfo" in text:
        return "the host name does not resolve (check the pod or base_url)"
    return f"connection failed ({type(exc).__name__})"
