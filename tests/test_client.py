"""BexClient over real HTTP: against the sandbox, and against a scripted loopback server that
answers 401, 429, 5xx, slow answers and dropped connections on cue."""

from __future__ import annotations

import contextlib
import copy
import json
import logging
import socket
import threading
import time
import traceback
from pathlib import Path
from typing import Any

import pytest
from conftest import (
    ACCESS_PREFIX,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    Reply,
    envelope,
    make_client,
    valid_body,
)

from bextoolkit.client import BexClient
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
from bextoolkit.jobs import JOBS_PATH, Channel, JobDefinition
from bextoolkit.sandbox.api import SandboxAPI

SEED = valid_body()


@pytest.fixture
def client(server, sleeps):
    c = make_client(server.base_url, sleeps)
    yield c
    c.close()


def stored(job_id: str = "1001", **changes: Any) -> dict:
    return {**copy.deepcopy(SEED), "id": job_id, **changes}


# --- end to end against the sandbox ----------------------------------------------------------


@pytest.fixture
def sandbox():
    with SandboxAPI() as api:
        yield api


def test_seed_example_created_read_updated_listed_deleted(sandbox):
    client = BexClient.from_env(sandbox.env())
    job = JobDefinition.from_dict(SEED)
    job_id = client.create_job(job)
    assert job_id == "1001"

    back = client.get_job(job_id)
    assert back.id == job_id
    back.id = None
    assert back == job
    assert json.dumps(back.to_dict()) == json.dumps(SEED)

    back.id = job_id
    back.channels[0].job_frequency = 24
    back.channels[0].export_file_format = "TSV"
    assert client.update_job(back) == job_id
    assert client.get_job(job_id).channels[0].job_frequency == 24

    other = JobDefinition(
        contact_source_id="77", ftp_user_id="admin@example.com", channels=[Channel(job_frequency=6)]
    )
    other_id = client.create_job(other.to_dict())  # a plain dict works too
    listed = client.list_jobs()
    assert [(j.id, j.contact_source_id, j.channels[0].job_frequency) for j in listed] == [
        ("1001", "423251", 24),
        (other_id, "77", 6),
    ]

    client.delete_job(job_id)
    with pytest.raises(BexNotFoundError, match="1001"):
        client.get_job(job_id)
    assert [j.id for j in client.list_jobs()] == [other_id]
    # one token for the whole session
    assert sum(1 for _, p, _ in sandbox.request_log if p == "/oauth/token") == 1


def test_sandbox_refuses_a_second_job_for_the_same_database(sandbox):
    client = BexClient.from_env(sandbox.env())
    client.create_job(SEED)
    with pytest.raises(BexConflictError) as info:
        client.create_job(SEED)
    assert info.value.status == 409
    assert "already has job definition 1001" in str(info.value)
    assert "update_job()" in str(info.value)


def test_sandbox_restart_makes_the_token_stale_and_the_client_recovers(tmp_path):
    with SandboxAPI(tmp_path) as api:
        client = BexClient.from_env(api.env())
        job_id = client.create_job(SEED)
        port = api.port
    with SandboxAPI(tmp_path, port=port) as api:
        assert client.get_job(job_id).contact_source_id == "423251"  # 401 -> refresh -> replay
        assert [s for _, p, s in api.request_log] == [401, 200, 200]


# --- validation before any request -------------------------------------------------------------


BROKEN = [
    lambda b: b["channels"][0].update(jobFrequency=5),
    lambda b: b["channels"][0].update(type="SMS"),
    lambda b: b["channels"][0].update(exportFileFormat="XLS"),
    lambda b: b["channels"][0]["eventTypes"].append({"eventType": "emailReply"}),
    lambda b: b["channels"][0]["mailingTypes"].append({"mailingType": "AMG"}),
    lambda b: b["channels"][0]["columnNames"].extend(
        {"columnName": f"x{i}", "columnOrder": i + 2} for i in range(4)
    ),
    lambda b: b["channels"][0]["columnNames"][1].update(columnOrder=0),
    lambda b: b.update(ftpUserId="admin"),
    lambda b: b.update(contactSourceId="list-1"),
    lambda b: b.pop("contactSourceId"),
]


@pytest.mark.parametrize("breaks", BROKEN)
def test_each_broken_rule_is_refused_before_any_request(server, client, breaks):
    body = copy.deepcopy(SEED)
    breaks(body)
    with pytest.raises(BexValidationError):
        client.create_job(body)
    with pytest.raises(BexValidationError):
        client.update_job({**body, "id": "1001"})
    assert server.requests == []


def test_update_without_id_and_bad_ids_are_refused_before_any_request(server, client):
    with pytest.raises(BexValidationError, match="id: required for an update"):
        client.update_job(SEED)
    for bad in ("", "  ", None, True):
        with pytest.raises(BexValidationError, match="id: must be a job definition id"):
            client.get_job(bad)  # type: ignore[arg-type]
    assert server.requests == []


# --- 401, 429, 5xx, timeouts ------------------------------------------------------------------


def test_401_refreshes_once_and_replays(server, client):
    server.queue(Reply(401, envelope(general=["token expired"])), Reply(200, envelope(stored())))
    assert client.get_job("1001").id == "1001"
    auth = [h.get("Authorization") for _, p, h, _ in server.requests if p != "/oauth/token"]
    assert auth == [f"Bearer {ACCESS_PREFIX}1", f"Bearer {ACCESS_PREFIX}2"]
    assert server.token_count() == 2


def test_a_second_401_is_raised_not_looped(server, client):
    server.queue(Reply(401), Reply(401, envelope(general=["not an Org Admin"])))
    with pytest.raises(BexAuthError, match="not an Org Admin") as info:
        client.get_job("1001")
    assert info.value.status == 401
    assert server.token_count() == 2
    assert len(server.api_requests()) == 2


def test_401_on_post_is_replayed_once(server, client):
    server.queue(Reply(401), Reply(200, envelope({"id": "55"})))
    assert client.create_job(SEED) == "55"
    assert server.api_requests() == [("POST", JOBS_PATH), ("POST", JOBS_PATH)]


def test_429_honours_retry_after(server, client, sleeps):
    server.queue(Reply(429, headers={"Retry-After": "7"}), Reply(200, envelope(stored())))
    client.get_job("1001")
    assert sleeps == [7.0]
    assert len(server.api_requests()) == 2


def test_429_with_a_very_long_retry_after_is_raised(server, client, sleeps):
    server.queue(Reply(429, envelope(general=["slow down"]), headers={"Retry-After": "3600"}))
    with pytest.raises(BexRateLimitError) as info:
        client.get_job("1001")
    assert info.value.retry_after == 3600.0
    assert sleeps == []


def test_429_on_post_is_not_replayed(server, client):
    server.queue(Reply(429, headers={"Retry-After": "1"}))
    with pytest.raises(BexRateLimitError):
        client.create_job(SEED)
    assert server.api_requests() == [("POST", JOBS_PATH)]


def test_500_on_get_is_retried_with_backoff(server, client, sleeps):
    server.queue(Reply(500), Reply(503), Reply(200, envelope(stored())))
    assert client.get_job("1001").id == "1001"
    assert len(server.api_requests()) == 3
    assert len(sleeps) == 2
    assert 0.25 <= sleeps[0] <= 0.5 and 0.5 <= sleeps[1] <= 1.0  # base 0.5, doubling, jitter


def test_5xx_on_get_gives_up_after_max_retries(server, client, sleeps):
    server.queue(*[Reply(502, envelope(general=["bad gateway"]))] * 4)
    with pytest.raises(BexServerError, match="bad gateway") as info:
        client.get_job("1001")
    assert info.value.status == 502
    assert len(server.api_requests()) == 4 and len(sleeps) == 3


def test_put_and_delete_are_retried_too(server, client):
    server.queue(
        Reply(500),
        Reply(200, envelope({"id": "1001"})),
        Reply(503),
        Reply(200, envelope({"id": "1001"})),
    )
    client.update_job(stored())
    client.delete_job("1001")
    assert server.api_requests() == [
        ("PUT", f"{JOBS_PATH}/1001"),
        ("PUT", f"{JOBS_PATH}/1001"),
        ("DELETE", f"{JOBS_PATH}/1001"),
        ("DELETE", f"{JOBS_PATH}/1001"),
    ]


def test_500_on_post_is_not_replayed(server, client, sleeps):
    server.queue(Reply(500, envelope(general=["internal error"])))
    with pytest.raises(BexServerError, match="not retried automatically: check list_jobs"):
        client.create_job(SEED)
    assert server.api_requests() == [("POST", JOBS_PATH)]
    assert sleeps == []


def test_read_timeout_is_retried_then_raised(server, sleeps):
    client = make_client(server.base_url, sleeps, timeout=(2.0, 0.2), max_retries=1)
    server.queue(
        Reply(200, envelope(stored()), delay=0.6), Reply(200, envelope(stored()), delay=0.6)
    )
    started = time.monotonic()
    with pytest.raises(BexTimeoutError, match="no answer within the timeout") as info:
        client.get_job("1001")
    assert time.monotonic() - started < 2.0
    assert isinstance(info.value, TimeoutError) and isinstance(info.value, OSError)
    assert len(server.api_requests()) == 2 and len(sleeps) == 1


def test_post_timeout_looks_before_creating_again_and_finds_it(server, sleeps):
    client = make_client(server.base_url, sleeps, timeout=(2.0, 0.2))
    server.queue(
        Reply(200, envelope({"id": "1001"}), delay=0.6),  # created, but the answer came too late
        Reply(200, envelope([stored("1001")])),  # the list shows it
    )
    assert client.create_job(SEED) == "1001"
    assert server.api_requests() == [("POST", JOBS_PATH), ("GET", JOBS_PATH)]


def test_dropped_post_with_no_job_found_creates_again(server, client):
    other = stored("9", contactSourceId="1")
    server.queue(
        Reply(drop=True), Reply(200, envelope([other])), Reply(200, envelope({"id": "1002"}))
    )
    assert client.create_job(SEED) == "1002"
    assert server.api_requests() == [("POST", JOBS_PATH), ("GET", JOBS_PATH), ("POST", JOBS_PATH)]


def test_unknown_post_outcome_that_cannot_be_checked_says_so(server, client):
    server.queue(Reply(drop=True), Reply(404, envelope(general=["no such resource"])))
    with pytest.raises(BexConnectionError, match="may or may not have been created") as info:
        client.create_job(SEED)
    assert "before creating again" in str(info.value)
    assert server.api_requests() == [("POST", JOBS_PATH), ("GET", JOBS_PATH)]


def test_connection_refused_is_retried_even_for_post(server, client, sleeps):
    server.queue(Reply(200, envelope(stored())))
    client.get_job("1001")  # holds a token now
    server.close()
    client._session.close()  # drop the pooled keep-alive connection: the next one is refused
    with pytest.raises(BexConnectionError, match="connection refused") as info:
        client.create_job(SEED)  # never sent, so safe to try again
    assert "may or may not" not in str(info.value)
    assert len(sleeps) == client.max_retries


def test_token_endpoint_refusing_connections_backs_off_then_raises(sleeps):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # nothing listens here once closed
    client = make_client(f"http://127.0.0.1:{port}", sleeps)
    with pytest.raises(BexConnectionError, match="oauth/token: connection refused"):
        client.get_job("1")
    # the token's tries follow the client's policy; the API call is not retried on top
    assert len(sleeps) == client.max_retries


def test_token_endpoint_failing_backs_off_exponentially(server, client, sleeps):
    server.token_replies.extend([Reply(503), Reply(429, headers={"Retry-After": "3"}), Reply(502)])
    server.queue(Reply(200, envelope(stored())))
    assert client.get_job("1001").id == "1001"
    assert server.token_count() == 4
    assert len(sleeps) == 3  # base 0.5, doubling, jitter; Retry-After wins
    assert 0.25 <= sleeps[0] <= 0.5 and sleeps[1] == 3.0 and 1.0 <= sleeps[2] <= 2.0


def test_token_endpoint_down_for_good_raises_after_max_attempts(server, client, sleeps):
    server.token_replies.extend([Reply(503, {"error": "temporarily_unavailable"})] * 4)
    with pytest.raises(BexServerError, match="token endpoint is unavailable"):
        client.get_job("1001")
    assert server.token_count() == 4 and len(sleeps) == 3
    assert server.api_requests() == []


def test_token_is_reused_across_calls(server, client):
    server.queue(*[Reply(200, envelope(stored()))] * 5)
    for _ in range(5):
        client.get_job("1001")
    assert server.token_count() == 1


# --- reading answers tolerantly ---------------------------------------------------------------


@pytest.mark.parametrize(
    "reply",
    [
        Reply(200, envelope({"id": "77"})),
        Reply(200, {"id": 77}),
        Reply(200, 77),
        Reply(200, '"77"', content_type="application/json"),
        Reply(201, envelope({"jobDefinitionId": "77"})),
        Reply(200, {"data": {"jobId": 77}}),
    ],
)
def test_create_reads_the_id_from_any_answer_shape(server, client, reply):
    server.queue(reply)
    assert client.create_job(SEED) == "77"


def test_get_reads_a_bare_object_and_nested_data(server, client):
    server.queue(
        Reply(200, stored("5")), Reply(200, envelope({"jobDefinition": stored("6", serverField=1)}))
    )
    assert client.get_job("5").id == "5"
    job = client.get_job("6")
    assert job.id == "6" and job.extras == {}  # fields the model does not know are dropped


def test_list_reads_a_wrapped_list(server, client):
    server.queue(
        Reply(200, envelope({"jobDefinitions": [stored("1"), stored("2", contactSourceId="2")]}))
    )
    assert [j.id for j in client.list_jobs()] == ["1", "2"]


@pytest.mark.parametrize("status", [404, 405])
def test_list_on_a_server_without_it_is_a_clear_error(server, client, status):
    server.queue(Reply(status))
    with pytest.raises(BexAPIError, match=r"offers no list of job definitions.*get_job") as info:
        client.list_jobs()
    assert info.value.status == status


def test_400_field_errors_reach_the_exception(server, client):
    server.queue(
        Reply(
            400,
            envelope(general=["invalid"], fields={"ftpUserId": ["user never logged into SFTP"]}),
        )
    )
    with pytest.raises(BexBadRequestError) as info:
        client.create_job(SEED)
    assert info.value.field_errors == {"ftpUserId": "user never logged into SFTP"}
    assert info.value.general_errors == ["invalid"]
    assert "ftpUserId: user never logged into SFTP" in str(info.value)
    assert info.value.method == "POST" and info.value.url.endswith(JOBS_PATH)


def test_error_statuses_over_http(server, client):
    server.queue(
        Reply(403, envelope(general=["not enabled for BEX"]), headers={"X-Request-Id": "req-9"}),
        Reply(404, "Not Found"),
        Reply(418, {"error": "teapot"}),
    )
    with pytest.raises(BexForbiddenError, match="not enabled for BEX") as info:
        client.get_job("1")
    assert info.value.request_id == "req-9"
    with pytest.raises(BexNotFoundError, match="Not Found"):
        client.get_job("2")
    with pytest.raises(BexAPIError, match="teapot") as other:
        client.delete_job("3")
    assert type(other.value) is BexAPIError and other.value.status == 418


# --- answers that are not the JSON a call expects ---------------------------------------------

PORTAL = (
    "<html><head><title>Sign in to the guest network</title></head><body><form>"
    f"<input name=token value={ACCESS_PREFIX}1>" + "x" * 400 + "</form></body></html>"
)


@pytest.mark.parametrize(
    ("call", "reply", "said"),
    [
        ("create", Reply(200, PORTAL, content_type="text/html; charset=utf-8"), "text/html"),
        ("get", Reply(200, PORTAL, content_type="text/html"), "text/html"),
        ("get", Reply(200, "1001", content_type="text/plain"), "text/plain"),
        ("create", Reply(200, "", content_type="application/json"), "an empty body"),
        ("get", Reply(200, "{half", content_type="application/json"), "a body that is not valid"),
        ("list", Reply(200, '{"data": []}', content_type="text/html"), "text/html"),
    ],
)
def test_an_answer_that_is_not_json_is_an_error_never_a_value(server, client, call, reply, said):
    server.queue(reply)
    run = {
        "create": lambda: client.create_job(SEED),
        "get": lambda: client.get_job("1001"),
        "list": lambda: client.list_jobs(),
    }[call]
    with pytest.raises(BexAPIError) as info:
        run()
    error = info.value
    assert type(error) is BexAPIError and error.status == 200
    text = str(error)
    method = "POST" if call == "create" else "GET"
    assert text.startswith(f"{method} {server.base_url}{JOBS_PATH}")
    assert "-> 200: expected JSON, got " + said in text
    assert "Content-Type:" in text and "proxy" in text
    if reply.body:
        assert error.body == reply.body.strip().replace(f"{ACCESS_PREFIX}1", "***")[:200]
        assert ACCESS_PREFIX not in text and len(error.body) <= 200
    assert len(server.api_requests()) == 1  # never replayed, never read as an id


def test_an_empty_answer_to_put_or_delete_is_fine(server, client):
    server.queue(Reply(200, ""), Reply(204, ""))
    assert client.update_job(stored()) == "1001"
    client.delete_job("1001")


def test_the_token_endpoint_answering_html_is_a_clear_error(server, client):
    server.token_replies.append(Reply(200, PORTAL, content_type="text/html"))
    with pytest.raises(
        BexAuthError, match=r"POST .*/oauth/token -> 200: expected JSON, got text/html"
    ):
        client.get_job("1")
    assert server.api_requests() == []


# --- limits and configuration ---------------------------------------------------------------


def test_at_most_ten_requests_in_flight(server, client):
    server.queue(*[Reply(200, envelope(stored()), delay=0.15) for _ in range(25)])
    client.get_job("0")  # take the token first
    errors: list[Exception] = []

    def work() -> None:
        try:
            client.get_job("1001")
        except Exception as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(24)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert 1 < server.max_in_flight <= 10  # never more than the limit, and truly parallel


def test_from_env_reads_pod_and_credentials():
    env = {"BEX_POD": "7", "BEX_CLIENT_ID": "i", "BEX_CLIENT_SECRET": "s", "BEX_REFRESH_TOKEN": "r"}
    client = BexClient.from_env(env)
    assert client.base_url == "https://api-campaign-ap-2.goacoustic.com"
    assert BexClient.from_env(env, pod="B").base_url == "https://api-campaign-ap-3.goacoustic.com"
    env["BEX_BASE_URL"] = "http://127.0.0.1:9/"
    assert BexClient.from_env(env).base_url == "http://127.0.0.1:9"
    assert BexClient(base_url="https://proxy.example", env=env).base_url == "https://proxy.example"


def test_missing_configuration_names_both_ways():
    with pytest.raises(
        BexConfigError, match=r"pass pod= .* or base_url= .*BEX_POD or BEX_BASE_URL"
    ):
        BexClient.from_env(
            {"BEX_CLIENT_ID": "i", "BEX_CLIENT_SECRET": "s", "BEX_REFRESH_TOKEN": "r"}
        )
    with pytest.raises(
        BexConfigError,
        match=r"client_secret=, refresh_token= to BexClient.*BEX_CLIENT_SECRET, BEX_REFRESH_TOKEN",
    ):
        BexClient(pod=1, client_id="i", env={})


# --- no secret anywhere ----------------------------------------------------------------------


def _error_texts(exc: BaseException) -> list[str]:
    texts = [str(exc), repr(exc), repr(exc.args)]
    texts += [
        repr(getattr(exc, k, None)) for k in ("body", "general_errors", "field_errors", "message")
    ]
    texts += traceback.format_exception(exc)
    tests_dir = str(Path(__file__).parent)
    for frame, _ in traceback.walk_tb(exc.__traceback__):
        if frame.f_code.co_filename.startswith(tests_dir):
            continue  # the test itself holds the secrets on purpose
        for name, value in frame.f_locals.items():
            with contextlib.suppress(Exception):  # a broken repr cannot leak
                texts.append(f"{frame.f_code.co_name}.{name}={value!r}")
    return texts


def test_no_secret_in_any_repr_message_log_or_traceback_local(server, sleeps, caplog):
    caplog.set_level(logging.DEBUG)
    echo = f"bad refresh_token {REFRESH_TOKEN} for secret {CLIENT_SECRET}"
    errors: list[BaseException] = []

    def expect(call) -> None:
        try:
            call()
        except BexError as exc:
            errors.append(exc)
        else:  # pragma: no cover - a path that did not fail is a broken test
            raise AssertionError("expected a BexError")

    client = make_client(server.base_url, sleeps, timeout=(2.0, 0.2), max_retries=1)
    full_env = {
        "BEX_CLIENT_ID": "i",
        "BEX_CLIENT_SECRET": CLIENT_SECRET,
        "BEX_REFRESH_TOKEN": REFRESH_TOKEN,
    }

    # configuration
    expect(lambda: BexClient.from_env(full_env))
    expect(
        lambda: BexClient(pod="Z", client_secret=CLIENT_SECRET, refresh_token=REFRESH_TOKEN, env={})
    )
    expect(
        lambda: BexClient(
            pod=1, client_secret=CLIENT_SECRET, env={"BEX_REFRESH_TOKEN": REFRESH_TOKEN}
        )
    )
    # the token endpoint refusing, echoing the secrets, failing, answering nonsense
    server.token_replies.extend([Reply(400, {"error": "invalid_grant", "error_description": echo})])
    expect(lambda: client.get_job("1"))
    server.token_replies.extend([Reply(401, echo)])
    expect(lambda: client.get_job("1"))
    server.token_replies.extend([Reply(200, {"refresh_token": REFRESH_TOKEN})])
    expect(lambda: client.get_job("1"))
    server.token_replies.extend([Reply(503, {"error": echo})] * 2)
    expect(lambda: client.get_job("1"))
    # API errors, one echoing the access token
    server.queue(Reply(401), Reply(401, envelope(general=[f"token {ACCESS_PREFIX}2 refused"])))
    expect(lambda: client.get_job("1"))
    server.queue(Reply(400, envelope(general=[echo], fields={"ftpUserId": echo})))
    expect(lambda: client.create_job(SEED))
    for status in (403, 404, 409):
        server.queue(Reply(status, envelope(general=["no"])))
        expect(lambda: client.delete_job("1"))
    server.queue(Reply(429, headers={"Retry-After": "999"}))
    expect(lambda: client.get_job("1"))
    server.queue(Reply(500), Reply(500))
    expect(lambda: client.get_job("1"))
    server.queue(Reply(500))
    expect(lambda: client.create_job(SEED))
    # transport: timeouts, a dropped POST that cannot be checked, a refused connection
    server.queue(Reply(200, delay=0.5), Reply(200, delay=0.5))
    expect(lambda: client.get_job("1"))
    server.queue(Reply(drop=True), Reply(405))
    expect(lambda: client.create_job(SEED))
    server.queue(Reply(404))
    expect(lambda: client.list_jobs())
    expect(lambda: client.update_job(SEED))
    dead = make_client("http://127.0.0.1:9", sleeps, max_retries=0)
    expect(lambda: dead.get_job("1"))

    issued = [f"{ACCESS_PREFIX}{n}" for n in range(1, server.tokens + 1)]
    assert issued, "the scenario must have issued access tokens"
    secrets_ = [CLIENT_SECRET, REFRESH_TOKEN, *issued]
    texts = [
        repr(client),
        repr(client.token),
        repr(client.token._credentials),
        str(client.token._credentials),
    ]
    for exc in errors:
        texts += _error_texts(exc)
    texts += [r.getMessage() for r in caplog.records]
    texts += [caplog.text]
    assert len(errors) == 20
    for secret in secrets_:
        leaks = [t for t in texts if secret in t]
        assert leaks == [], f"{secret!r} leaked: {leaks[:3]}"


# --- the command line: bextoolkit jobs ... ---------------------------------------------------


# --- the second adversarial pass (issue 22) ---------------------------------------------------


@pytest.mark.parametrize("status", [200, 502])
def test_a_secret_echoed_near_the_end_of_an_error_excerpt_never_shows_in_part(
    server, sleeps, status
):
    # the excerpt is 200 characters: put the secret at every offset across the cut
    client = make_client(server.base_url, sleeps, max_retries=0)
    for offset in range(200 - len(CLIENT_SECRET) - 2, 203):
        body = "x" * offset + CLIENT_SECRET + " and more text after it"
        server.queue(Reply(status, body, content_type="text/html"))
        with pytest.raises(BexAPIError) as info:
            client.get_job("1001")
        for text in _error_texts(info.value):
            for n in range(6, len(CLIENT_SECRET) + 1):  # no prefix of it either
                assert CLIENT_SECRET[:n] not in text, (offset, text[-60:])
        assert "*" in str(info.value) or offset >= 200  # masked, then cut


@pytest.mark.parametrize(
    "answer",
    [
        "<!DOCTYPE html><html><body>Sign in to continue</body></html>",
        {"data": {"id": "<html>oops</html>"}},
        "the job definition was created",
        "x" * 65,
    ],
)
def test_create_job_refuses_an_answer_that_is_not_a_short_id(server, client, answer):
    server.queue(
        Reply(
            200,
            json.dumps(answer) if isinstance(answer, str) else answer,
            content_type="application/json",
        )
    )
    with pytest.raises(BexAPIError, match=r"holds no id.*short token"):
        client.create_job(SEED)


def test_create_job_takes_an_id_as_a_number_a_string_or_in_an_object(server, client):
    server.queue(
        Reply(200, 1001),
        Reply(200, '" 1002 "', content_type="application/json"),
        Reply(200, envelope({"jobDefinitionId": "abc-3"})),
    )
    assert [client.create_job(SEED) for _ in range(3)] == ["1001", "1002", "abc-3"]


def test_503_honours_retry_after_capped(server, client, sleeps):
    server.queue(
        Reply(503, headers={"Retry-After": "2"}),
        Reply(200, envelope(stored())),
    )
    client.get_job("1001")
    assert sleeps == [2.0]
    server.queue(Reply(503, envelope(general=["maintenance"]), headers={"Retry-After": "3600"}))
    with pytest.raises(BexServerError, match="maintenance") as info:
        client.get_job("1001")  # longer than max_retry_after: raised, not waited for
    assert info.value.retry_after == 3600.0 and sleeps == [2.0]
