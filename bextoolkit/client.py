"""``BexClient``: create, read, list, update and delete BEX job definitions over REST.

One ``requests.Session``, one private :meth:`BexClient._request` that every call goes
through: a timeout on every call; a 401 refreshes the token once and replays; GET, PUT and
DELETE are retried on connection errors, 429 (honouring ``Retry-After``) and 5xx with
capped, jittered exponential backoff; a POST is never replayed blindly (when its outcome is
unknown the client looks for the job before creating again); at most 10 requests are in
flight per client, the vendor's limit per organisation.

Answers are read tolerantly: the Campaign envelope ``{"meta": {"generalErrors": [...],
"fieldErrors": {...}}, "data": ...}``, a bare object, or a bare id. Errors become one
exception class per status (:func:`error_for_status`).

Listing: the vendor documents no list call. :meth:`BexClient.list_jobs` sends ``GET
/rest/bulkeventexport/jobdefinition`` (no id), which the sandbox answers; a real pod may
not, and then a clear :class:`~bextoolkit.exceptions.BexAPIError` says so.
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from bextoolkit._http import (
    IDEMPOTENT,
    RetryPolicy,
    error_for_status,
    error_from_answer,
    read_answer,
    read_envelope,
    send,
)
from bextoolkit.auth import (
    ENV_BASE_URL,
    ENV_POD,
    ENV_SFTP_HOST,
    ENV_SFTP_PORT,
    AccessToken,
    Credentials,
    DiskTokenCache,
    api_base_url,
    disk_cache_wanted,
    sftp_host,
    sftp_host_of,
)
from bextoolkit.exceptions import (
    BexAPIError,
    BexConfigError,
    BexConnectionError,
    BexError,
    BexServerError,
    BexTimeoutError,
    BexValidationError,
)
from bextoolkit.jobs import JOBS_PATH, JobDefinition

log = logging.getLogger(__name__)

__all__ = ["JOBS_PATH", "BexClient", "error_for_status", "read_envelope"]

MAX_IN_FLIGHT = 10
#: The user name that logs into a pod's SFTP host with an access token (domain.md 6c).
SFTP_OAUTH_USER = "oauth"


#: What a job definition id looks like: a short token (digits on a pod, in the sandbox).
_JOB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,63}")


def _job_id(data: Any) -> str | None:
    """The job id an answer holds, or None: a short token, never an HTML page or a sentence.

    Examples
    --------
    >>> _job_id({"data": {"id": 1001}}), _job_id("  42 "), _job_id("<!DOCTYPE html><html>")
    ('1001', '42', None)
    """
    if isinstance(data, bool):
        return None
    if isinstance(data, int | str):
        text = str(data).strip()
        return text if _JOB_ID.fullmatch(text) else None
    if isinstance(data, Mapping):
        for key in ("id", "jobId", "jobDefinitionId", "jobID"):
            if data.get(key) not in (None, ""):
                return _job_id(data[key])
        for value in data.values():
            if isinstance(value, Mapping):
                found = _job_id(value)
                if found:
                    return found
    return None


def _job_payload(data: Any) -> Mapping[str, Any] | None:
    if isinstance(data, Mapping):
        if "channels" in data:
            return data
        for value in data.values():
            if isinstance(value, Mapping) and "channels" in value:
                return value
    return None


def _job_from_answer(data: Any, *, job_id: str | None = None) -> JobDefinition:
    payload = _job_payload(data)
    if payload is None:
        raise BexAPIError(f"the answer holds no job definition (got {str(data)[:100]!r})")
    job = JobDefinition.from_dict(payload)
    if job.extras:
        log.debug("dropping fields the model does not know: %s", sorted(job.extras))
        job.extras = {}
    for channel in job.channels:
        channel.extras = {}
    if job.id is None:
        job.id = job_id
    elif not isinstance(job.id, str):
        job.id = str(job.id)
    return job


# --- the client --------------------------------------------------------------------------


class _Unknown(Exception):
    """A POST was (maybe) sent but no answer came back: its outcome is unknown."""

    def __init__(self, error: BexConnectionError) -> None:
        self.error = error


class _TokenFailed(Exception):
    """No access token (after the token's own retries): the call must not retry on top."""

    def __init__(self, error: BexError) -> None:
        self.error = error


class BexClient:
    """Job definition CRUD against one Acoustic Campaign pod (or the sandbox).

    Parameters
    ----------
    pod : str or int, optional
        The Campaign pod (1-9, A, B); or set ``BEX_POD``.
    base_url : str, optional
        The API base URL, overriding ``pod`` (e.g. the sandbox's); or set ``BEX_BASE_URL``.
    client_id, client_secret, refresh_token : str, optional
        OAuth credentials; each falls back to ``BEX_CLIENT_ID``, ``BEX_CLIENT_SECRET``,
        ``BEX_REFRESH_TOKEN``.
    timeout : float or (connect, read), default (5, 30)
        Seconds for every request.
    max_retries : int, default 3
        Extra tries for GET, PUT and DELETE on connection errors, 429 and 5xx.
    backoff_base, backoff_cap : float, default 0.5 and 30
        Capped exponential backoff with jitter between tries.
    max_retry_after : float, default 120
        A ``Retry-After`` longer than this is not waited for: the 429 is raised.
    sleep : callable, default time.sleep
        Injectable so tests are fast.
    disk_token_cache : bool, optional
        Keep the access token on disk too (:class:`~bextoolkit.auth.DiskTokenCache`), so
        other processes with the same credentials reuse it. Default: on when the
        ``BEX_TOKEN_CACHE`` variable is 1, else off. Tokens are always shared in memory
        by every client of the process.
    sftp_host, sftp_port : optional
        Where the pod's export files are (for :meth:`sftp_storage_options`); default the
        pod's transfer host, port 22, or ``BEX_SFTP_HOST`` / ``BEX_SFTP_PORT``.
    env : mapping, optional
        Where to read ``BEX_*`` variables (default ``os.environ``).
    session : requests.Session, optional

    Examples
    --------
    >>> client = BexClient.from_env()  # doctest: +SKIP
    >>> job_id = client.create_job(job)  # doctest: +SKIP
    """

    def __init__(
        self,
        pod: str | int | None = None,
        *,
        base_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
        refresh_token: str | None = None,
        timeout: float | tuple[float, float] = (5.0, 30.0),
        max_retries: int = 3,
        backoff_base: float = 0.5,
        backoff_cap: float = 30.0,
        max_retry_after: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
        disk_token_cache: bool | None = None,
        sftp_host: str | None = None,
        sftp_port: int | None = None,
        env: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        env = os.environ if env is None else env
        try:
            self.base_url = _resolve_base_url(pod, base_url, env)
            self.sftp_host, self.sftp_port = _resolve_sftp(
                pod, self.base_url, sftp_host, sftp_port, env
            )
            credentials = Credentials.resolve(client_id, client_secret, refresh_token, env=env)
        except BexConfigError as exc:
            # A fresh error from this frame only, with no secret left among its locals.
            message = str(exc)
            del env, client_id, client_secret, refresh_token, exc
            raise BexConfigError(message) from None
        del client_secret, refresh_token
        self.timeout = timeout
        self.retry = RetryPolicy(
            max_retries=max_retries,
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
            max_retry_after=max_retry_after,
            sleep=sleep,
        )
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        if disk_token_cache is None:
            disk_token_cache = disk_cache_wanted(env)
        self.token = AccessToken(
            self.base_url,
            credentials,
            session=self._session,
            timeout=timeout,
            retry=self.retry,
            disk_cache=DiskTokenCache() if disk_token_cache else None,
        )

    @property
    def max_retries(self) -> int:
        """Extra tries for GET, PUT and DELETE (and token requests)."""
        return self.retry.max_retries

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **kwargs: Any) -> BexClient:
        """A client configured by the ``BEX_*`` environment variables (or ``env``).

        Raises
        ------
        BexConfigError
            When a value is missing, naming the argument and the variable that give it.
        """
        try:
            return cls(env=os.environ if env is None else env, **kwargs)
        except BexConfigError as exc:
            message = str(exc)
            del env, kwargs, exc  # no secret among the locals a traceback shows
            raise BexConfigError(message) from None

    def __repr__(self) -> str:
        return f"BexClient(base_url={getattr(self, 'base_url', None)!r})"

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def check_connection(self, timeout: float = 5.0) -> None:
        """Get an access token within about ``timeout`` seconds, with no retries.

        For interactive use (a form's Connect button): a wrong URL or a refused connection
        fails fast. Later calls of this client keep the full retry policy.
        """
        quick = RetryPolicy(max_retries=0, sleep=self.retry.sleep)
        self.token.get(retry=quick, timeout=(min(2.0, timeout / 2), timeout / 2))

    def sftp_storage_options(self) -> dict[str, Any]:
        """fsspec options to read the pod's export files with this client's OAuth login.

        User ``oauth`` and the current access token as password on the pod's transfer host
        (domain.md 6c), so the one OAuth application serves both the API and the files::

            bex.read_events(f"sftp://{client.sftp_host}/download/*.csv",
                            storage_options=client.sftp_storage_options())

        The token is the one cached now; ask again for a fresh one before a long job.
        A separate SFTP user and password work too: pass those instead.

        Raises
        ------
        BexConfigError
            The client does not know the SFTP host (a custom ``base_url``): pass
            ``sftp_host=`` or set ``BEX_SFTP_HOST``.
        """
        if not self.sftp_host:
            raise BexConfigError(
                f"the SFTP host of {self.base_url} is not known: pass sftp_host= (and "
                f"sftp_port=) to BexClient, or set {ENV_SFTP_HOST} (and {ENV_SFTP_PORT})"
            )
        return {
            "host": self.sftp_host,
            "port": self.sftp_port,
            "username": SFTP_OAUTH_USER,
            "password": self.token.get(),
            "look_for_keys": False,
            "allow_agent": False,
        }

    def __enter__(self) -> BexClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- public calls ---------------------------------------------------------------------

    def create_job(self, job: JobDefinition | Mapping[str, Any]) -> str:
        """Create a job definition and return its id.

        The job is validated first (nothing is sent when it breaks a rule). If the POST's
        outcome is unknown (the connection dropped after sending, or no answer in time), the
        client lists the job definitions to look for one on the same database before
        creating again, and raises a clear error when it cannot tell.

        Raises
        ------
        BexValidationError
            Before any request, listing every problem.
        BexConflictError
            The database already has a job definition.
        """
        job = _as_job(job).validate()
        body = job.to_dict()
        try:
            data = self._request("POST", JOBS_PATH, json=body)
        except _Unknown as unknown:
            existing = self._look_for(job, unknown.error)
            if existing is not None:
                return existing
            log.warning(
                "no job definition for database %s after an unknown POST; creating again",
                job.contact_source_id,
            )
            try:
                data = self._request("POST", JOBS_PATH, json=body)
            except _Unknown as again:
                raise _outcome_unknown(again.error, "and again on the second try") from None
        job_id = _job_id(data)
        if job_id is None:
            raise BexAPIError(
                f"the service accepted the job definition but its answer holds no id (an id "
                f"is a short token; got {self.token.scrub(str(data))[:100]!r}): find it with "
                "list_jobs(), and check base_url or the pod if the answer is a web page",
                method="POST",
                url=self._url(JOBS_PATH),
            )
        log.info("created job definition %s for database %s", job_id, job.contact_source_id)
        return job_id

    def get_job(self, job_id: str | int) -> JobDefinition:
        """Read one job definition by id."""
        ident = _check_id(job_id)
        data = self._request("GET", f"{JOBS_PATH}/{quote(ident, safe='')}")
        return _job_from_answer(data, job_id=ident)

    def list_jobs(self) -> list[JobDefinition]:
        """All job definitions of the organisation.

        The vendor documents no list call: this sends ``GET {JOBS_PATH}`` without an id,
        which the sandbox answers. A real pod may not.

        Raises
        ------
        BexAPIError
            When the server answers 404 or 405: it does not offer a list.
        """
        try:
            data = self._request("GET", JOBS_PATH)
        except BexAPIError as exc:
            if exc.status in (404, 405):
                raise BexAPIError(
                    "this server offers no list of job definitions (the BEX API documents "
                    "none): keep the ids create_job() returns and read each with get_job(id)",
                    method="GET",
                    url=self._url(JOBS_PATH),
                    status=exc.status,
                ) from None
            raise
        if isinstance(data, Mapping):
            data = next((v for v in data.values() if isinstance(v, list)), [])
        if not isinstance(data, list):
            raise BexAPIError(
                f"the list answer holds no list of job definitions (got {str(data)[:100]!r})"
            )
        return [_job_from_answer(item) for item in data if _job_payload(item) is not None]

    def update_job(self, job: JobDefinition | Mapping[str, Any]) -> str:
        """Replace a job definition (``job.id`` says which); returns its id."""
        job = _as_job(job).validate(for_update=True)
        ident = _check_id(job.id)
        self._request("PUT", f"{JOBS_PATH}/{quote(ident, safe='')}", json=job.to_dict())
        log.info("updated job definition %s", ident)
        return ident

    def delete_job(self, job_id: str | int) -> None:
        """Delete a job definition by id."""
        ident = _check_id(job_id)
        self._request("DELETE", f"{JOBS_PATH}/{quote(ident, safe='')}")
        log.info("deleted job definition %s", ident)

    # --- the one request path --------------------------------------------------------------

    def _url(self, path: str) -> str:
        return self.base_url + path

    def _request(self, method: str, path: str, *, json: Any = None) -> Any:
        """Send one call; return the answer's ``data``. Retries, 401 and errors live here."""
        url = self._url(path)
        idempotent = method in IDEMPOTENT
        refreshed: list[bool] = []  # a 401 refreshes the token once per call, not per try

        def exchange() -> Any:
            while True:
                try:
                    self.token.get()
                except BexError as exc:  # already retried by the token: not again on top
                    raise _TokenFailed(exc) from None
                with self._slots:  # at most 10 in flight, the vendor's limit
                    resp = send(
                        self._session,
                        method,
                        url,
                        json=json,
                        auth=_Bearer(self.token),
                        timeout=self.timeout,
                    )
                if resp.status_code == 401 and not refreshed:
                    log.info("%s %s -> 401; refreshing the access token once", method, url)
                    self.token.invalidate(resp.request.headers.get("Authorization", "")[7:] or None)
                    refreshed.append(True)
                    continue
                return self._answer(resp, method, url)

        try:
            return self.retry.run(exchange, idempotent=idempotent, what=f"{method} {url}")
        except _TokenFailed as failed:
            raise failed.error from None
        except BexConnectionError as exc:
            if not idempotent and not getattr(exc, "never_sent", False):
                raise _Unknown(exc) from None
            raise
        except BexServerError as exc:
            if not idempotent:
                exc.message += (
                    "; a POST is not retried automatically: check list_jobs() before creating again"
                )
            raise

    def _answer(self, resp: requests.Response, method: str, url: str) -> Any:
        """The ``data`` of an answer, or the error it is."""
        scrub = self.token.scrub
        if not resp.ok:
            raise error_from_answer(resp, method=method, url=url, scrub=scrub)
        body = read_answer(
            resp, method=method, url=url, scrub=scrub, empty_ok=method in ("PUT", "DELETE")
        )
        data, general, _ = read_envelope(body)
        if general and data in (None, "", {}):  # an error that came with status 200
            raise error_from_answer(resp, method=method, url=url, scrub=scrub)
        return data

    def _look_for(self, job: JobDefinition, error: BexConnectionError) -> str | None:
        """After an unknown POST: the id of a job on the same database, None if there is none."""
        log.warning(
            "%s; looking for job definitions of database %s before creating again",
            error,
            job.contact_source_id,
        )
        try:
            existing = self.list_jobs()
        except BexError as exc:
            raise _outcome_unknown(error, f"and listing to check failed: {exc}") from None
        for other in existing:
            if str(other.contact_source_id) == str(job.contact_source_id) and other.id:
                log.warning(
                    "found job definition %s for database %s: it was created",
                    other.id,
                    job.contact_source_id,
                )
                return other.id
        return None


class _Bearer(requests.auth.AuthBase):
    """Sets ``Authorization: Bearer ...`` at send time, so no caller frame holds the token.

    It sends the token the request has just got (:meth:`AccessToken.current`), so a token
    is asked for once per request, never twice.
    """

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + (self._token.current() or self._token.get())
        return request

    def __repr__(self) -> str:
        return "_Bearer(***)"


def _outcome_unknown(error: BexConnectionError, detail: str) -> BexConnectionError:
    cls = type(error) if isinstance(error, BexTimeoutError) else BexConnectionError
    return cls(
        f"{error}; the job definition may or may not have been created ({detail}): "
        "check with list_jobs() or in Acoustic Campaign before creating again"
    )


def _as_job(job: JobDefinition | Mapping[str, Any]) -> JobDefinition:
    return job if isinstance(job, JobDefinition) else JobDefinition.from_dict(job)


def _check_id(job_id: Any) -> str:
    if isinstance(job_id, bool) or not isinstance(job_id, int | str) or not str(job_id).strip():
        raise BexValidationError(
            [f"id: must be a job definition id (as create_job returned), got {job_id!r}"]
        )
    return str(job_id).strip()


def _resolve_base_url(pod: str | int | None, base_url: str | None, env: Mapping[str, str]) -> str:
    if base_url:
        url = base_url
    elif pod not in (None, ""):
        url = api_base_url(pod)
    elif env.get(ENV_BASE_URL):
        url = env[ENV_BASE_URL]
    elif env.get(ENV_POD):
        url = api_base_url(env[ENV_POD])
    else:
        raise BexConfigError(
            f"no Acoustic Campaign pod given: pass pod= (1-9, A, B) or base_url= to BexClient, "
            f"or set the environment variable {ENV_POD} or {ENV_BASE_URL}"
        )
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise BexConfigError(f"base_url must look like https://host[:port], got {url!r}")
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        log.warning("base_url %s is plain http: credentials travel unencrypted", url)
    return url.rstrip("/")


def _resolve_sftp(
    pod: str | int | None,
    base_url: str,
    host: str | None,
    port: int | None,
    env: Mapping[str, str],
) -> tuple[str | None, int]:
    """The SFTP host and port of the pod: argument, else environment, else from the pod."""
    host = host or env.get(ENV_SFTP_HOST) or None
    if host is None:
        host = sftp_host(pod) if pod not in (None, "") else sftp_host_of(base_url)
    raw = port if port is not None else env.get(ENV_SFTP_PORT) or 22
    try:
        return host, int(raw)
    except (TypeError, ValueError):
        raise BexConfigError(f"SFTP port must be a number, got {raw!r}") from None
