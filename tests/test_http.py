"""The one retry policy and the one HTTP status -> exception table (bextoolkit._http)."""

from __future__ import annotations

import pytest

from bextoolkit._http import (
    ADVICE,
    STATUS_ERRORS,
    RetryPolicy,
    backoff_delay,
    error_for_status,
)
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

# Every status the table maps, the 5xx it treats alike, and statuses it does not know.
STATUSES = [
    (400, BexBadRequestError),
    (401, BexAuthError),
    (403, BexForbiddenError),
    (404, BexNotFoundError),
    (409, BexConflictError),
    (429, BexRateLimitError),
    (500, BexServerError),
    (502, BexServerError),
    (503, BexServerError),
    (504, BexServerError),
    (599, BexServerError),
    (200, BexAPIError),
    (405, BexAPIError),
    (418, BexAPIError),
]


def test_the_table_is_tested_for_every_status_it_maps():
    assert set(STATUS_ERRORS) <= {status for status, _ in STATUSES}
    assert set(ADVICE) == set(STATUS_ERRORS)


@pytest.mark.parametrize(("status", "cls"), STATUSES)
def test_one_exception_class_per_status(status, cls):
    error = error_for_status(
        status, method="GET", url="http://x/y", general_errors=["said"], retry_after=2.0
    )
    assert type(error) is cls
    assert error.status == status and error.method == "GET" and error.url == "http://x/y"
    assert str(error).startswith(f"GET http://x/y -> {status}: said")
    advice = ADVICE.get(status) or ("try again later" if status >= 500 else None)
    if advice:
        assert advice in str(error)
    if cls is BexRateLimitError:
        assert error.retry_after == 2.0


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_the_token_endpoint_makes_every_refusal_an_auth_error(status):
    error = error_for_status(status, method="POST", url="u", refused=BexAuthError, advice="fix")
    assert type(error) is BexAuthError and str(error).endswith("(fix)")
    assert type(error_for_status(429, method="POST", url="u", refused=BexAuthError)) is (
        BexRateLimitError
    )


def test_field_errors_and_reason_reach_the_message():
    error = error_for_status(
        400, method="POST", url="u", field_errors={"ftpUserId": "unknown"}, request_id="r-1"
    )
    assert "ftpUserId: unknown" in str(error) and error.field_errors == {"ftpUserId": "unknown"}
    assert error.request_id == "r-1"
    assert "I'm a teapot" in str(
        error_for_status(418, method="GET", url="u", reason="I'm a teapot")
    )


# --- the retry policy -------------------------------------------------------------------------


def test_backoff_is_capped_exponential_with_jitter():
    lows = [backoff_delay(n, base=1.0, cap=60.0, rng=lambda: 0.0) for n in range(8)]
    highs = [backoff_delay(n, base=1.0, cap=60.0, rng=lambda: 1.0) for n in range(8)]
    assert highs == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert lows == [h / 2 for h in highs]
    assert 0.5 <= backoff_delay(0, base=1.0, cap=60.0) <= 1.0


def _limited(after: float | None) -> BexRateLimitError:
    error = BexRateLimitError("busy", status=429)
    error.retry_after = after
    return error


def _refused() -> BexConnectionError:
    error = BexConnectionError("refused")
    error.never_sent = True  # type: ignore[attr-defined]
    return error


@pytest.mark.parametrize(
    ("error", "idempotent", "retried"),
    [
        (BexConnectionError("reset"), True, True),
        (BexTimeoutError("slow"), True, True),
        (BexServerError("down", status=503), True, True),
        (_limited(None), True, True),
        (BexConnectionError("reset"), False, False),  # a POST may have arrived: not again
        (BexServerError("down", status=503), False, False),
        (_limited(1.0), False, False),
        (_refused(), False, True),  # never sent: safe even for a POST
        (BexNotFoundError("no", status=404), True, False),
        (BexAuthError("no", status=401), True, False),
        (BexBadRequestError("no", status=400), True, False),
    ],
)
def test_what_is_retried(error, idempotent, retried):
    policy = RetryPolicy(rng=lambda: 1.0)
    wait = policy.wait_before_retry(error, 0, idempotent=idempotent)
    assert (wait is not None) is retried


def test_retry_after_is_honoured_and_a_long_one_is_not_waited_for():
    policy = RetryPolicy(max_retry_after=120)
    assert policy.wait_before_retry(_limited(7), 0, idempotent=True) == 7.0
    assert policy.wait_before_retry(_limited(121), 0, idempotent=True) is None


def test_run_retries_up_to_max_then_raises_the_last_error():
    waits: list[float] = []
    calls: list[int] = []

    def failing() -> str:
        calls.append(1)
        raise BexServerError(f"down {len(calls)}", status=503)

    policy = RetryPolicy(max_retries=3, backoff_base=0.5, sleep=waits.append, rng=lambda: 1.0)
    with pytest.raises(BexServerError, match="down 4"):
        policy.run(failing, idempotent=True, what="GET /x")
    assert len(calls) == 4 and waits == [0.5, 1.0, 2.0]

    outcomes = iter([BexConnectionError("reset"), "ok"])

    def flaky() -> str:
        outcome = next(outcomes)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome

    assert policy.run(flaky, idempotent=True, what="GET /x") == "ok"


# --- redaction ----------------------------------------------------------------------------------


def test_redact_drops_logins_tokens_and_known_secrets():
    text = "sftp://me:pw@h:22/d ftp://u@h/x https://h/x?access_token=abc&password=p s3cret"
    assert redact(text, ["s3cret"]) == (
        "sftp://h:22/d ftp://h/x https://h/x?access_token=***&password=*** ***"
    )
