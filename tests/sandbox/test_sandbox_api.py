"""The sandbox's HTTP API over real HTTP on loopback, spoken to with plain ``requests``."""

from __future__ import annotations

import copy
import json
import socket

import pytest
import requests

from bextoolkit.exceptions import BexConfigError
from bextoolkit.sandbox.api import JOBS_PATH, SandboxAPI, SandboxCredentials

BODY = {
    "channels": [
        {
            "eventTypes": [{"eventType": "emailSend"}, {"eventType": "emailOpen"}],
            "columnNames": [{"columnName": "City", "columnOrder": 0}],
            "exportFileFormat": "PSV",
            "jobFrequency": 4,
            "type": "Email",
        }
    ],
    "contactSourceId": "423251",
    "ftpUserId": "admin@example.com",
}


class Clock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock():
    return Clock()


@pytest.fixture
def api(clock):
    with SandboxAPI(clock=clock) as server:
        yield server


def token_for(api: SandboxAPI, **override) -> requests.Response:
    creds = api.credentials
    form = {
        "grant_type": "refresh_token",
        "client_id": creds.client_id,
        "client_secret": creds.client_secret,
        "refresh_token": creds.refresh_token,
        **override,
    }
    return requests.post(api.base_url + "/oauth/token", data=form, timeout=5)


@pytest.fixture
def http(api):
    """A session holding a valid bearer token for ``api``."""
    session = requests.Session()
    token = token_for(api).json()["access_token"]
    session.headers["Authorization"] = f"Bearer {token}"
    yield session
    session.close()


def test_token_grant_answers_the_documented_shape(api):
    resp = token_for(api)
    assert resp.status_code == 200
    payload = resp.json()
    assert set(payload) == {"access_token", "token_type", "refresh_token", "expires_in"}
    assert payload["token_type"] == "bearer"
    assert payload["expires_in"] == 14400


def test_token_is_reused_for_three_quarters_of_its_life(api, clock):
    first = token_for(api).json()
    clock.now += 3 * 3600 - 1
    again = token_for(api).json()
    assert again["access_token"] == first["access_token"]
    assert again["expires_in"] == 3601
    clock.now += 2
    fresh = token_for(api).json()
    assert fresh["access_token"] != first["access_token"]
    assert fresh["expires_in"] == 14400


@pytest.mark.parametrize(
    ("override", "status", "error"),
    [
        ({"client_secret": "wrong"}, 401, "invalid_client"),
        ({"client_id": "someone-else"}, 401, "invalid_client"),
        ({"refresh_token": "wrong"}, 400, "invalid_grant"),
        ({"grant_type": "password"}, 400, "unsupported_grant_type"),
    ],
)
def test_wrong_credentials_are_refused(api, override, status, error):
    resp = token_for(api, **override)
    assert resp.status_code == status
    assert resp.json()["error"] == error
    assert api.credentials.client_secret not in resp.text


def test_calls_without_a_valid_token_get_401_in_the_envelope(api, clock, http):
    url = api.base_url + JOBS_PATH
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic abc"}):
        resp = requests.get(url, headers=headers, timeout=5)
        assert resp.status_code == 401
        assert resp.json()["meta"]["generalErrors"] == [
            "the access token is missing, wrong or expired: ask /oauth/token for a new one"
        ]
    assert http.get(url, timeout=5).status_code == 200
    clock.now += 14400
    assert http.get(url, timeout=5).status_code == 401  # expired


def test_crud_round_trip_with_the_envelope(api, http):
    url = api.base_url + JOBS_PATH
    created = http.post(url, json=BODY, timeout=5)
    assert created.status_code == 200
    assert created.json() == {
        "meta": {"generalErrors": [], "fieldErrors": {}},
        "data": {"id": "1001"},
    }

    got = http.get(f"{url}/1001", timeout=5).json()["data"]
    assert got == {**BODY, "id": "1001"}
    assert http.get(url + "/", timeout=5).json()["data"] == [got]

    changed = copy.deepcopy(got)
    changed["channels"][0]["jobFrequency"] = 24
    assert http.put(f"{url}/1001", json=changed, timeout=5).status_code == 200
    assert http.get(f"{url}/1001", timeout=5).json()["data"]["channels"][0]["jobFrequency"] == 24

    # The vendor's page shows PUT to the collection URL with the id in the body.
    changed["channels"][0]["jobFrequency"] = 12
    assert http.put(url + "/", json=changed, timeout=5).status_code == 200
    assert api.jobs["1001"]["channels"][0]["jobFrequency"] == 12

    assert http.delete(f"{url}/1001", timeout=5).json()["data"] == {"id": "1001"}
    assert http.get(f"{url}/1001", timeout=5).status_code == 404
    assert api.jobs == {}


def test_invalid_body_gets_400_with_field_errors_by_wire_path(api, http):
    body = copy.deepcopy(BODY)
    body["channels"][0]["jobFrequency"] = 5
    body["ftpUserId"] = "admin"
    resp = http.post(api.base_url + JOBS_PATH, json=body, timeout=5)
    assert resp.status_code == 400
    meta = resp.json()["meta"]
    assert meta["generalErrors"] == ["the job definition has 2 problems"]
    assert meta["fieldErrors"] == {
        "channels[0].jobFrequency": "must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5",
        "ftpUserId": "must be an email address (the Org Admin's login), got 'admin'",
    }
    assert api.jobs == {}


def test_not_json_and_wrong_shapes_are_400(api, http):
    url = api.base_url + JOBS_PATH
    resp = http.post(url, data=b"{nope", headers={"Content-Type": "application/json"}, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["meta"]["generalErrors"][0].startswith("the body is not valid JSON")
    assert http.post(url, json=[1], timeout=5).json()["meta"]["fieldErrors"] == {
        "(body)": "must be a JSON object, got [1]"
    }


def test_unknown_id_is_404_everywhere(api, http):
    url = api.base_url + JOBS_PATH + "/999"
    assert http.get(url, timeout=5).status_code == 404
    assert http.delete(url, timeout=5).status_code == 404
    resp = http.put(url, json={**BODY, "id": "999"}, timeout=5)
    assert resp.status_code == 404
    assert resp.json()["meta"]["generalErrors"] == ["no job definition with id '999'"]


def test_put_id_must_match_the_url(api, http):
    url = api.base_url + JOBS_PATH
    http.post(url, json=BODY, timeout=5)
    resp = http.put(f"{url}/1001", json={**BODY, "id": "1002"}, timeout=5)
    assert resp.status_code == 400
    assert resp.json()["meta"]["fieldErrors"] == {
        "id": "must match the id in the URL (1001), got '1002'"
    }
    assert http.put(f"{url}/1001", json=BODY, timeout=5).json()["meta"]["fieldErrors"] == {
        "id": "required for an update: the id create_job returned"
    }


def test_one_job_definition_per_database_409(api, http):
    url = api.base_url + JOBS_PATH
    assert http.post(url, json=BODY, timeout=5).status_code == 200
    second = http.post(url, json=BODY, timeout=5)
    assert second.status_code == 409
    meta = second.json()["meta"]
    assert "database 423251 already has job definition 1001" in meta["generalErrors"][0]
    assert meta["fieldErrors"] == {"contactSourceId": "already used by job definition 1001"}
    other = {**BODY, "contactSourceId": "5"}
    assert http.post(url, json=other, timeout=5).json()["data"] == {"id": "1002"}
    # moving job 1002 onto database 423251 is refused too
    assert http.put(f"{url}/1002", json={**BODY, "id": "1002"}, timeout=5).status_code == 409


def test_unknown_paths_and_methods(api, http):
    assert http.get(api.base_url + "/rest/other", timeout=5).status_code == 404
    assert http.post(api.base_url + JOBS_PATH + "/7", json=BODY, timeout=5).status_code == 405
    assert http.delete(api.base_url + JOBS_PATH, timeout=5).status_code == 405
    assert requests.get(api.base_url + "/oauth/token", timeout=5).status_code == 405


def test_state_survives_a_restart(tmp_path, clock):
    with SandboxAPI(tmp_path, clock=clock) as first:
        creds = first.credentials
        session = requests.Session()
        session.headers["Authorization"] = "Bearer " + token_for(first).json()["access_token"]
        session.post(first.base_url + JOBS_PATH, json=BODY, timeout=5)
        old_token = session.headers["Authorization"]
    state = json.loads((tmp_path / "api-state.json").read_text())
    assert list(state["jobs"]) == ["1001"]
    with SandboxAPI(tmp_path, clock=clock) as second:
        assert second.credentials == creds  # the same credentials still work
        assert second.jobs == {"1001": {**BODY, "id": "1001"}}
        assert second.created_at("1001").timestamp() == clock.now
        # tokens do not survive: the old one is refused, a new one works
        url = second.base_url + JOBS_PATH
        assert requests.get(url, headers={"Authorization": old_token}, timeout=5).status_code == 401
        token = token_for(second).json()["access_token"]
        resp = requests.post(
            url,
            json={**BODY, "contactSourceId": "9"},
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
        assert resp.json()["data"] == {"id": "1002"}  # ids keep counting


def test_corrupt_state_is_a_clear_error(tmp_path):
    (tmp_path / "api-state.json").write_text("{not json")
    with pytest.raises(BexConfigError, match=r"cannot read the sandbox state.*delete the file"):
        SandboxAPI(tmp_path)


def test_loopback_only():
    with pytest.raises(BexConfigError, match="loopback only"):
        SandboxAPI(host="0.0.0.0")
    with SandboxAPI(host="127.0.0.1") as api:
        assert api.base_url.startswith("http://127.0.0.1:")
        with socket.create_connection(("127.0.0.1", api.port), timeout=2):
            pass


def test_listeners_hear_every_change(api, http):
    heard = []
    api.subscribe(
        lambda event, job_id, job: heard.append(
            (event, job_id, job and job["channels"][0]["jobFrequency"])
        )
    )
    url = api.base_url + JOBS_PATH
    http.post(url, json=BODY, timeout=5)
    http.put(f"{url}/1001", json={**BODY, "id": "1001"}, timeout=5)
    http.delete(f"{url}/1001", timeout=5)
    assert heard == [("created", "1001", 4), ("updated", "1001", 4), ("deleted", "1001", None)]


def test_jobs_snapshot_is_a_copy(api, http):
    http.post(api.base_url + JOBS_PATH, json=BODY, timeout=5)
    snapshot = api.jobs
    snapshot["1001"]["ftpUserId"] = "changed@example.com"
    assert api.jobs["1001"]["ftpUserId"] == "admin@example.com"


def test_credentials_are_masked_and_env_is_complete(api):
    text = repr(api.credentials) + repr(api)
    assert api.credentials.client_secret not in text
    assert api.credentials.refresh_token not in text
    assert set(api.env()) == {
        "BEX_BASE_URL",
        "BEX_CLIENT_ID",
        "BEX_CLIENT_SECRET",
        "BEX_REFRESH_TOKEN",
    }
    fixed = SandboxCredentials("id", "secret", "refresh")
    with SandboxAPI(credentials=fixed) as other:
        assert token_for(other).status_code == 200


def test_request_log_records_statuses(api, http):
    http.get(api.base_url + JOBS_PATH + "/1", timeout=5)
    assert list(api.request_log)[-2:] == [
        ("POST", "/oauth/token", 200),
        ("GET", JOBS_PATH + "/1", 404),
    ]
