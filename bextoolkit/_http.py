"""What :mod:`bextoolkit.auth` and :mod:`bextoolkit.client` share about HTTP.

- :class:`RetryPolicy`: the one retry policy. Idempotent calls only (GET, PUT, DELETE, and
  the token grant, which changes nothing on the server), on connection errors, 429 and 5xx;
  capped exponential backoff with jitter; a ``Retry-After`` on a 429 or 5xx (a 503 during
  maintenance) honoured, and one longer than ``max_retry_after`` raised rather than waited
  for; the sleep injectable so tests are fast.
- :func:`send`: one HTTP exchange, transport failures turned into
  :class:`~bextoolkit.exceptions.BexConnectionError` (``never_sent`` when the connection
  was refused, so even a POST may be tried again).
- :func:`error_for_status`: the one HTTP status -> exception table.
- :func:`read_answer` / :func:`read_envelope`: an answer that is not the JSON a call expects
  (a proxy's HTML sign-in page, plain text, an empty body) is an error, never a value.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

import requests

from bextoolkit.exceptions import (
    BexAPIError,
    BexAuthError,
    BexBadRequestError,
    BexConflictError,
    BexConnectionError,
    BexForbiddenError,
    BexNotFoundError,
    BexRateLimitError,
    BexServerError,
    BexTimeoutError,
    redact,
)

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Methods that may be sent again when their outcome is unknown.
IDEMPOTENT = frozenset({"GET", "PUT", "DELETE"})

#: HTTP status -> exception class; any other 5xx is BexServerError, anything else BexAPIError.
STATUS_ERRORS: dict[int, type[BexAPIError]] = {
    400: BexBadRequestError,
    401: BexAuthError,
    403: BexForbiddenError,
    404: BexNotFoundError,
    409: BexConflictError,
    429: BexRateLimitError,
}

#: What to do about each status, added to the message.
ADVICE: dict[int, str] = {
    400: "fix the fields named and send again",
    401: "check the credentials and that the user is an Org Admin",
    403: "the user must be an Org Admin and the organisation enabled for BEX",
    404: "check the id (list_jobs() shows the ones that exist)",
    409: "a database has one job definition: change it with update_job() or delete it first",
    429: "too many requests: wait and try again",
}
_SERVER_ADVICE = "the service failed; try again later"
#: How much of an unreadable answer an error shows (after the secrets in it are masked).
EXCERPT_CHARS = 200


# --- the retry policy -----------------------------------------------------------------------


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


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before sending a failed call again.

    Parameters
    ----------
    max_retries : int, default 3
        Extra tries after the first.
    backoff_base, backoff_cap : float, default 0.5 and 30
        The n-th retry waits half to all of ``min(cap, base * 2**n)`` seconds.
    max_retry_after : float, default 120
        A ``Retry-After`` longer than this is not waited for: the 429 is raised.
    sleep : callable, default time.sleep
        Injectable so tests are fast.

    Examples
    --------
    >>> waits = []
    >>> policy = RetryPolicy(max_retries=2, sleep=waits.append)
    >>> policy.run(lambda: "done", idempotent=True, what="GET /x")
    'done'
    """

    max_retries: int = 3
    backoff_base: float = 0.5
    backoff_cap: float = 30.0
    max_retry_after: float = 120.0
    sleep: Callable[[float], None] = time.sleep
    rng: Callable[[], float] = random.random

    def wait_before_retry(
        self, error: Exception, attempt: int, *, idempotent: bool
    ) -> float | None:
        """Seconds to wait before retry number ``attempt + 1``, or None to give up."""
        if attempt >= self.max_retries:
            return None
        if isinstance(error, BexConnectionError):
            if not (idempotent or getattr(error, "never_sent", False)):
                return None  # it may have reached the server: not blindly again
        elif not (isinstance(error, BexRateLimitError | BexServerError) and idempotent):
            return None
        hint = getattr(error, "retry_after", None)
        if hint is not None:
            return float(hint) if hint <= self.max_retry_after else None
        return backoff_delay(attempt, base=self.backoff_base, cap=self.backoff_cap, rng=self.rng)

    def run(self, call: Callable[[], T], *, idempotent: bool, what: str) -> T:
        """``call()``, tried again as this policy allows; the last error is raised."""
        attempt = 0
        while True:
            try:
                return call()
            except (BexConnectionError, BexAPIError) as error:
                wait = self.wait_before_retry(error, attempt, idempotent=idempotent)
                if wait is None:
                    raise
                log.warning(
                    "%s failed (%s); retrying in %.2f s (retry %d of %d)",
                    what,
                    _first_line(error),
                    wait,
                    attempt + 1,
                    self.max_retries,
                )
                self.sleep(wait)
                attempt += 1


def _first_line(error: BaseException) -> str:
    return str(error).split("\n", 1)[0][:200]


# --- one exchange ---------------------------------------------------------------------------


def send(
    session: requests.Session,
    method: str,
    url: str,
    *,
    timeout: float | tuple[float, float],
    **kwargs: Any,
) -> requests.Response:
    """One HTTP exchange; transport failures become :class:`BexConnectionError`.

    The error's ``never_sent`` attribute is True when the request cannot have reached the
    server (connection refused, host unknown, no connection within the timeout).
    """
    try:
        return session.request(method, url, timeout=timeout, **kwargs)
    except requests.ConnectTimeout:
        error: BexConnectionError = BexTimeoutError(
            f"{method} {url}: could not connect within the timeout ({timeout} s)"
        )
        error.never_sent = True  # type: ignore[attr-defined]
    except requests.Timeout:
        error = BexTimeoutError(f"{method} {url}: no answer within the timeout ({timeout} s)")
    except requests.RequestException as exc:
        error = BexConnectionError(f"{method} {url}: {describe_transport_error(exc)}")
        error.never_sent = _never_sent(exc)  # type: ignore[attr-defined]
    del kwargs  # it may hold a form of secrets: keep it out of the traceback's locals
    raise error from None


def describe_transport_error(exc: BaseException) -> str:
    """A transport failure in a few words (no URL parameters, no headers, no body)."""
    text = str(exc)
    if "Connection refused" in text or "NewConnectionError" in text:
        return "connection refused (is the server running and the base_url or pod right?)"
    if "RemoteDisconnected" in text or "Connection aborted" in text or "reset" in text.lower():
        return "the connection was closed before an answer came"
    if "NameResolution" in text or "getaddrinfo" in text:
        return "the host name does not resolve (check the pod or base_url)"
    return f"connection failed ({type(exc).__name__})"


def _never_sent(exc: requests.RequestException) -> bool:
    text = str(exc)
    return "NewConnectionError" in text or "Connection refused" in text or "NameResolution" in text


def retry_after(resp: requests.Response) -> float | None:
    """The ``Retry-After`` header in seconds (number or HTTP date), or None."""
    value = resp.headers.get("Retry-After")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


# --- status -> exception --------------------------------------------------------------------


def error_for_status(
    status: int,
    *,
    method: str,
    url: str,
    general_errors: Iterable[str] = (),
    field_errors: Mapping[str, str] | None = None,
    request_id: str | None = None,
    retry_after: float | None = None,
    reason: str = "",
    advice: str | None = None,
    refused: type[BexAPIError] | None = None,
) -> BexAPIError:
    """The exception for an error answer: one class per status, a message that says what to do.

    Parameters
    ----------
    status : the HTTP status.
    method, url : the request.
    general_errors, field_errors : the server's words (already redacted).
    request_id, retry_after, reason : from the answer's headers and status line.
    advice : what to do, instead of the status's usual advice.
    refused : the class for a 4xx other than 429 instead of the table's (the token endpoint
        answers bad credentials with 400 or 401: both are :class:`BexAuthError` there).

    Examples
    --------
    >>> error_for_status(404, method="GET", url="http://h/x", general_errors=["no job 9"])
    BexNotFoundError(status=404, method='GET', url='http://h/x', message='no job 9 (check \
the id (list_jobs() shows the ones that exist))', request_id=None)
    """
    general = list(general_errors)
    fields = dict(field_errors or {})
    said = general + [f"{k}: {v}" for k, v in fields.items()]
    cls = STATUS_ERRORS.get(status, BexServerError if status >= 500 else BexAPIError)
    if refused is not None and 400 <= status < 500 and status != 429:
        cls = refused
    if advice is None:
        advice = ADVICE.get(status, _SERVER_ADVICE if status >= 500 else "")
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
    if isinstance(error, BexRateLimitError | BexServerError):
        error.retry_after = retry_after  # a 503's Retry-After is honoured like a 429's
    return error


def request_id(resp: requests.Response) -> str | None:
    """The server's request id header, when it sent one."""
    return resp.headers.get("X-Request-Id") or resp.headers.get("X-Request-ID")


# --- reading answers ------------------------------------------------------------------------


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

    Accepts the Campaign envelope, an OAuth error (``error`` / ``error_description``), a
    bare object and a bare value (an id).

    Examples
    --------
    >>> read_envelope({"meta": {"generalErrors": [], "fieldErrors": {}}, "data": {"id": "7"}})
    ({'id': '7'}, [], {})
    >>> read_envelope(7)
    (7, [], {})
    >>> read_envelope({"meta": {"generalErrors": ["no"], "fieldErrors": {"ftpUserId": ["bad"]}}})
    (None, ['no'], {'ftpUserId': 'bad'})
    >>> read_envelope({"error": "invalid_grant", "error_description": "expired"})
    (None, ['invalid_grant: expired'], {})
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


def _is_json_type(content_type: str) -> bool:
    media = content_type.split(";", 1)[0].strip().lower()
    return not media or media == "application/json" or media.endswith("+json")


def read_answer(
    resp: requests.Response,
    *,
    method: str,
    url: str,
    scrub: Callable[[str], str] = redact,
    empty_ok: bool = False,
    error: type[BexAPIError] = BexAPIError,
) -> Any:
    """The decoded JSON of a successful answer, or an ``error`` naming what came instead.

    Parameters
    ----------
    resp : a 2xx answer.
    method, url : the request (the error names the URL's path).
    scrub : redacts the excerpt of the body the error shows (a callable, so that no secret
        sits among the locals of a traceback).
    empty_ok : whether an empty body is a fine answer (PUT, DELETE, 204); it reads as None.
    error : the class raised.

    Raises
    ------
    BexAPIError
        The answer is not JSON: HTML (a proxy's or captive portal's page), text, an empty
        body, a JSON-less content type. Names the method, path, status, content type and
        the first 200 characters of the body, secrets redacted.
    """
    content_type = resp.headers.get("Content-Type", "")
    text = resp.text
    if not text.strip() and (empty_ok or resp.status_code == 204):
        return None
    problem = ""
    body: Any = None
    if not text.strip():
        problem = "an empty body"
    elif not _is_json_type(content_type):
        problem = content_type.split(";", 1)[0].strip()
    else:
        try:
            body = resp.json()
        except ValueError:
            problem = "a body that is not valid JSON"
    if not problem:
        return body
    excerpt = scrub(text.strip())[:EXCERPT_CHARS]  # masked whole, then cut: no half secret
    del text, body  # they may hold secrets: keep them out of the traceback's locals
    raise error(
        f"expected JSON, got {problem} (Content-Type: {content_type or 'none'}): {excerpt!r}. "
        "The BEX API answers JSON, so something else answered (a proxy's or network's "
        "sign-in page?): check base_url or the pod and your network",
        method=method,
        url=url,
        status=resp.status_code,
        request_id=request_id(resp),
        body=excerpt,
        content_type=content_type or None,
    )


def error_from_answer(
    resp: requests.Response,
    *,
    method: str,
    url: str,
    scrub: Callable[[str], str] = redact,
    context: str = "",
    advice: str | None = None,
    refused: type[BexAPIError] | None = None,
) -> BexAPIError:
    """The exception for an error answer, with the server's words (redacted) in it.

    ``context`` (such as "the token endpoint refused the credentials") leads the message,
    with the server's words after it in brackets.
    """
    try:
        decoded: Any = resp.json()
    except ValueError:
        decoded = None
    fields: dict[str, str] = {}
    if decoded is None:
        general = [scrub(resp.text.strip())[:EXCERPT_CHARS]] if resp.text.strip() else []
    else:
        _, general, fields = read_envelope(decoded)
    general = [scrub(g) for g in general]
    fields = {k: scrub(v) for k, v in fields.items()}
    if context:
        said = "; ".join(general + [f"{k}: {v}" for k, v in fields.items()]) or resp.reason
        general, fields = [f"{context} ({said})" if said else context], {}
    return error_for_status(
        resp.status_code,
        method=method,
        url=url,
        general_errors=general,
        field_errors=fields,
        request_id=request_id(resp),
        retry_after=retry_after(resp),
        reason=resp.reason or "",
        advice=advice,
        refused=refused,
    )
