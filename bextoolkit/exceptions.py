"""The one exception tree of bextoolkit, rooted at :class:`BexError`.

Every error a user can meet derives from ``BexError``; API errors carry the method, URL,
status and the server's own message, transport failures are also ``OSError``. No instance
ever holds a secret (tokens, client secret, passwords) in its message or ``repr``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

#: ``scheme://user:password@`` in a URL: what sits between ``://`` and ``@`` is a login.
_LOGIN_IN_URL = re.compile(r"(?P<scheme>[a-z][a-z0-9+.-]*://)[^/@\s]*@", re.IGNORECASE)
#: ``access_token=...``, ``password=...`` and the like in a query string or form.
_SECRET_PARAM = re.compile(
    r"(?P<name>\b(?:access_token|refresh_token|client_secret|password|token|secret)=)[^&\s]+",
    re.IGNORECASE,
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` fit for a message, log line or report: no login, token or password in it.

    The one place bextoolkit scrubs text: it drops ``user:password@`` from URLs, masks
    ``password=``-like parameters, and replaces each of ``secrets`` (exact values the
    caller knows, such as a client secret or an access token) by ``***``.

    Examples
    --------
    >>> redact("sftp://me:pw@host:22/download and ftp://anon@h/x")
    'sftp://host:22/download and ftp://h/x'
    >>> redact("GET /x?access_token=abc&y=1")
    'GET /x?access_token=***&y=1'
    >>> redact("bad grant s3cret for app", ["s3cret", ""])
    'bad grant *** for app'
    """
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    text = _LOGIN_IN_URL.sub(r"\g<scheme>", text)
    return _SECRET_PARAM.sub(r"\g<name>***", text)


class BexError(Exception):
    """Root of every error raised by bextoolkit."""


class BexWarning(UserWarning):
    """A notice about the data bextoolkit read: a guessed time zone, skipped lines, a
    Latin-1 file, an empty folder, unknown event types. The data was read; the message says
    how to be explicit (and tests turn an unexpected one into an error)."""


class BexConfigError(BexError, ValueError):
    """Missing or inconsistent configuration, such as credentials given neither way."""


class BexValidationError(BexError, ValueError):
    """A job definition breaks documented rules; ``problems`` lists every one of them."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        noun = "problem" if len(self.problems) == 1 else "problems"
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"job definition has {len(self.problems)} {noun}:\n{lines}")


class BexFileError(BexError, ValueError):
    """An export file that cannot be read as it is: names the file and, where known, the line."""

    def __init__(self, path: str, message: str, *, line: int | None = None) -> None:
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}, line {line}" if line is not None else path
        super().__init__(f"{where}: {message}")


class BexAPIError(BexError):
    """The BEX REST API answered with an error status.

    Attributes
    ----------
    method, url, status : the request and the HTTP status of the answer.
    message : the server's own words (general errors and field errors joined).
    general_errors, field_errors : as read from the response envelope.
    request_id : the server's request id header, when it sent one.
    body : the start of an answer that could not be read (secrets redacted), else None.
    content_type : the answer's ``Content-Type``, when it matters to the error.
    """

    def __init__(
        self,
        message: str,
        *,
        method: str = "",
        url: str = "",
        status: int | None = None,
        general_errors: Sequence[str] = (),
        field_errors: Mapping[str, Any] | None = None,
        request_id: str | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> None:
        self.message = message
        self.method = method
        self.url = url
        self.status = status
        self.general_errors = list(general_errors)
        self.field_errors = dict(field_errors or {})
        self.request_id = request_id
        self.body = body
        self.content_type = content_type
        super().__init__(message)

    def __str__(self) -> str:
        where = f"{self.method} {self.url} -> {self.status}: " if self.method else ""
        return f"{where}{self.message}"

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(status={self.status!r}, method={self.method!r}, "
            f"url={self.url!r}, message={self.message!r}, request_id={self.request_id!r})"
        )


class BexBadRequestError(BexAPIError):
    """400: the server refused the body; see ``field_errors``."""


class BexAuthError(BexAPIError):
    """401, or the token endpoint refused the credentials."""


class BexForbiddenError(BexAPIError):
    """403: the user is not an Org Admin, or the org is not enabled for BEX."""


class BexNotFoundError(BexAPIError):
    """404: no job definition with that id."""


class BexConflictError(BexAPIError):
    """409: a job definition already exists for that database."""


class BexRateLimitError(BexAPIError):
    """429: too many requests; ``retry_after`` holds the server's hint in seconds."""

    retry_after: float | None = None


class BexServerError(BexAPIError):
    """5xx: the service failed; idempotent calls were retried before this was raised.

    ``retry_after`` holds the server's ``Retry-After`` hint in seconds (a 503's), else None.
    """

    retry_after: float | None = None


class BexConnectionError(BexError, OSError):
    """The request never got an answer: refused connection, DNS, TLS, reset."""


class BexTimeoutError(BexConnectionError, TimeoutError):
    """No answer within the timeout."""


class BexPerformanceWarning(UserWarning):
    """A computation that works but costs more than the user may expect (say, a report on
    a Dask frame that gathers the events to the client)."""
