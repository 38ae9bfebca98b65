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
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import quote, urlsplit

import requests

from bextoolkit.auth import (
    ENV_BASE_URL,
    ENV_POD,
    AccessToken,
    Credentials,
    _describe,
    _retry_after,
    api_base_url,
    backoff_delay,
)
from bextoolkit.exceptions import (
    BexAPIError,
    BexAuthError,
    BexBadRequestError,
    BexConfigError,
    BexConflictError,
    BexConnectionError,
    BexError,
    BexForbiddenError,
    BexNotFoundError,
    BexRateLimitError,
    BexServerError,
    BexTimeoutError,
    BexValidationError,
)
from bextoolkit.jobs import JOBS_PATH, JobDefinition

log = logging.getLogger(__name__)

__all__ = ["JOBS_PATH", "BexClient", "error_for_status", "read_envelope"]

MAX_IN_FLIGHT = 10
_IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})

#: HTTP status -> exception class; 5xx and anything else are handled in error_for_status.
STATUS_ERRORS: dict[int, type[BexAPIError]] = {
    400: BexBadRequestError,
    401: BexAuthError,
    403: BexForbiddenError,
    404: BexNotFoundError,
    409: BexConflictError,
    429: BexRateLimitError,
}

_ADVICE = {
    400: "fix the fields named and send again",
    401: "check the credentials and that the user is an Org Admin",
    403: "the user must be an Org Admin and the organisation enabled for BEX",
    404: "check the id (list_jobs() shows the ones that exist)",
    409: "a database has one job definition: change it with update_job() or delete it first",
    429: "too many requests: wait and try again",
}


# --- reading answers ---------------------------------------------------------------------


def _texts(value: Any) -> list[str]:
    """Error entries as text: strings, or objects with a message-like key."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out = []
    for item in items:
        if isinstance(item, Mapping):
            text = item.get("message") or item.get("description") or item.get("error") or item
            out.append(str(text))
        elif item not in ("", None):
            out.append(str(item))
    return out


def _field_errors(value: Any) -> dict[str, str]:
    """``{"path": "msg" | ["msg"]}`` or ``[{"field": ..., "message": ...}]`` -> path -> text."""
    if isinstance(value, Mapping):
        return {str(k): "; ".join(_texts(v)) for k, v in value.items()}
    out: dict[str, str] = {}
    if isinstance(value, list):
        for item in value:
            if isinstance(item, Mapping):
                key = str(item.get("field") or item.get("path") or item.get("name") or "?")
                out[key] = "; ".join(_texts(item.get("message") or item.get("messages") or item))
    return out


def read_envelope(body: Any) -> tuple[Any, list[str], dict[str, str]]:
    """Split a decoded answer into ``(data, general_errors, field_errors)``.

    Accepts the Campaign envelope, a bare object and a bare value (an id).

    Examples
    --------
    >>> read_envelope({"meta": {"generalErrors": [], "fieldErrors": {}}, "data": {"id": "7"}})
    ({'id': '7'}, [], {})
    >>> read_envelope(7)
    (7, [], {})
    >>> read_envelope({"meta": {"generalErrors": ["no"], "fieldErrors": {"ftpUserId": ["bad"]}}})
    (None, ['no'], {'ftpUserId': 'bad'})
    """
    if isinstance(body, Mapping) and ("meta" in body or "data" in body):
        meta = body.get("meta") or {}
        if not isinstance(meta, Mapping):
            meta = {}
        general = _texts(meta.get("generalErrors") or meta.get("errors"))
        fields = _field_errors(meta.get("fieldErrors"))
        return body.get("data"), general, fields
    if (
        isinstance(body, Mapping)
        and ("error" in body or "errors" in body)
        and "channels" not in body
    ):
        general = [
            *_texts(body.get("errors")),
            ": ".join(str(body[k]) for k in ("error", "error_description") if body.get(k)),
        ]
        return None, [g for g in general if g], _field_errors(body.get("fieldErrors"))
    return body, [], {}


def error_for_status(
    status: int,
    *,
    method: str,
    url: str,
    general_errors: list[str] | None = None,
    field_errors: Mapping[str, str] | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
    reason: str = "",
) -> BexAPIError:
    """The exception for an error answer: one class per status, a message that says what to do."""
    general = list(general_errors or [])
    fields = dict(field_errors or {})
    said = general + [f"{k}: {v}" for k, v in fields.items()]
    cls: type[BexAPIError]
    if status in STATUS_ERRORS:
        cls = STATUS_ERRORS[status]
    elif status >= 500:
        cls = BexServerError
    else:
        cls = BexAPIError
    advice = _ADVICE.get(status, "the service failed; try again later" if status >= 500 else "")
    message = "; ".join(said) or reason or f"HTTP {status}"
    if advice:
        message = f"{message} ({advice})"
    error = cls(
        message,
        method=method,
        url=url,
        status=status,
        general_errors=general,
        field_errors=fields,
        request_id=request_id,
    )
    if isinstance(error, BexRateLimitError):
        error.retry_after = retry_after
    return error


def _job_id(data: Any) -> str | None:
    if isinstance(data, bool):
        return None
    if isinstance(data, int | str) and str(data).strip():
        return str(data).strip()
    if isinstance(data, Mapping):
        for key in ("id", "jobId", "jobDefinitionId", "jobID"):
            if data.get(key) not in (None, ""):
                return str(data[key])
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
        env: Mapping[str, str] | None = None,
        session: requests.Session | None = None,
    ) -> None:
        env = os.environ if env is None else env
        try:
            self.base_url = _resolve_base_url(pod, base_url, env)
            credentials = Credentials.resolve(client_id, client_secret, refresh_token, env=env)
        except BexConfigError as exc:
            # A fresh error from this frame only, with no secret left among its locals.
            message = str(exc)
            del env, client_id, client_secret, refresh_token, exc
            raise BexConfigError(message) from None
        del client_secret, refresh_token
        self.timeout = timeout
        self.max_retries = max_retries
        self._backoff = (backoff_base, backoff_cap)
        self._max_retry_after = max_retry_after
        self._sleep = sleep
        self._session = session or requests.Session()
        self._session.headers.update({"Accept": "application/json"})
        self._slots = threading.BoundedSemaphore(MAX_IN_FLIGHT)
        self.token = AccessToken(
            self.base_url, credentials, session=self._session, timeout=timeout, sleep=sleep
        )

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
                f"the service accepted the job definition but its answer holds no id "
                f"(got {str(data)[:100]!r}); find it with list_jobs()",
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
        retryable = method in _IDEMPOTENT
        refreshed = False
        attempt = 0
        while True:
            self.token.get()  # token failures raise here, after the token's own backoff
            try:
                resp = self._send(method, url, json)
            except BexConnectionError as exc:
                if not retryable and not _never_sent(exc):
                    raise _Unknown(exc) from None
                if attempt >= self.max_retries:
                    raise
                self._pause(attempt, None, str(exc))
                attempt += 1
                continue
            status = resp.status_code
            if status == 401 and not refreshed:
                log.info(
                    "%s %s -> 401; refreshing the access token once and replaying", method, url
                )
                self.token.invalidate(resp.request.headers.get("Authorization", "")[7:] or None)
                refreshed = True
                continue
            if resp.ok:
                data, general, fields = _decode(resp, self.token.scrub)
                if general and data in (None, "", {}):
                    raise error_for_status(
                        status, method=method, url=url, general_errors=general, field_errors=fields
                    )
                return data
            error = self._error(resp, method, url)
            wait = error.retry_after if isinstance(error, BexRateLimitError) else None
            transient = status == 429 or status >= 500
            if not (retryable and transient) or attempt >= self.max_retries:
                if not retryable and status >= 500:
                    error.message += (
                        "; a POST is not retried automatically: "
                        "check list_jobs() before creating again"
                    )
                raise error
            if wait is not None and wait > self._max_retry_after:
                raise error
            self._pause(attempt, wait, f"{method} {url} -> {status}")
            attempt += 1

    def _send(self, method: str, url: str, json: Any) -> requests.Response:
        """One HTTP exchange holding one of the 10 slots; transport errors -> BexConnectionError."""
        auth = _Bearer(self.token)
        with self._slots:
            try:
                return self._session.request(
                    method, url, json=json, auth=auth, timeout=self.timeout
                )
            except requests.ConnectTimeout:
                error: BexConnectionError = BexTimeoutError(
                    f"{method} {url}: could not connect within the timeout ({self.timeout} s)"
                )
                error.never_sent = True  # type: ignore[attr-defined]
            except requests.Timeout:
                error = BexTimeoutError(
                    f"{method} {url}: no answer within the timeout ({self.timeout} s)"
                )
            except requests.ConnectionError as exc:
                error = BexConnectionError(f"{method} {url}: {_describe(exc)}")
                error.never_sent = _refused(exc)  # type: ignore[attr-defined]
        raise error from None

    def _pause(self, attempt: int, retry_after: float | None, what: str) -> None:
        delay = (
            retry_after
            if retry_after is not None
            else backoff_delay(attempt, base=self._backoff[0], cap=self._backoff[1])
        )
        log.warning(
            "%s; retrying in %.2f s (retry %d of %d)", what, delay, attempt + 1, self.max_retries
        )
        self._sleep(delay)

    def _error(self, resp: requests.Response, method: str, url: str) -> BexAPIError:
        try:
            _, general, fields = _decode(resp, self.token.scrub)
        except BexAPIError:
            general, fields = [], {}
        return error_for_status(
            resp.status_code,
            method=method,
            url=url,
            general_errors=general,
            field_errors=fields,
            request_id=resp.headers.get("X-Request-Id") or resp.headers.get("X-Request-ID"),
            retry_after=_retry_after(resp),
            reason=resp.reason or "",
        )

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
    """Sets ``Authorization: Bearer ...`` at send time, so no caller frame holds the token."""

    def __init__(self, token: AccessToken) -> None:
        self._token = token

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers["Authorization"] = "Bearer " + self._token.get()
        return request

    def __repr__(self) -> str:
        return "_Bearer(***)"


def _decode(
    resp: requests.Response, scrub: Callable[[str], str]
) -> tuple[Any, list[str], dict[str, str]]:
    text = resp.text
    if not text.strip():
        return None, [], {}
    try:
        body = resp.json()
    except ValueError:
        if resp.ok:
            return text.strip(), [], {}  # a bare id as plain text
        return None, [scrub(text.strip()[:200])], {}
    data, general, fields = read_envelope(body)
    return data, [scrub(g) for g in general], {k: scrub(v) for k, v in fields.items()}


def _refused(exc: requests.ConnectionError) -> bool:
    text = str(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolution" in text


def _never_sent(exc: BexConnectionError) -> bool:
    return bool(getattr(exc, "never_sent", False))


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
