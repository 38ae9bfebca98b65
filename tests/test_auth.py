"""Pods, masked credentials and the token caches (against the sandbox's real endpoint and
the scripted loopback server)."""

from __future__ import annotations

import json
import os
import stat
import threading

import pytest
from conftest import (
    ACCESS_PREFIX,
    CLIENT_SECRET,
    REFRESH_TOKEN,
    Reply,
    ScriptedServer,
    envelope,
    make_client,
)

from bextoolkit._http import RetryPolicy
from bextoolkit.auth import (
    PODS,
    AccessToken,
    Credentials,
    DiskTokenCache,
    api_base_url,
    forget_tokens,
    refresh_margin,
    sftp_host,
    token_cache_dir,
)
from bextoolkit.exceptions import BexAuthError, BexConfigError
from bextoolkit.sandbox.api import SandboxAPI


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def api():
    with SandboxAPI() as server:
        yield server


def credentials_of(api: SandboxAPI) -> Credentials:
    c = api.credentials
    return Credentials(c.client_id, c.client_secret, c.refresh_token)


def token_requests(api: SandboxAPI) -> int:
    return sum(1 for _, path, _ in api.request_log if path == "/oauth/token")


# --- pods ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pod", "region"),
    [
        ("1", "us-1"), ("2", "us-2"), ("3", "us-3"), ("4", "us-4"), ("5", "us-5"),
        ("6", "eu-1"), ("7", "ap-2"), ("8", "ca-1"), ("9", "us-6"), ("A", "ap-1"), ("B", "ap-3"),
    ],
)  # fmt: skip
def test_every_pod_maps_to_its_documented_hosts(pod, region):
    assert api_base_url(pod) == f"https://api-campaign-{region}.goacoustic.com"
    assert sftp_host(pod) == f"transfer-campaign-{region}.goacoustic.com"
    assert api_base_url(pod.lower()) == api_base_url(pod)


def test_pods_from_6_on_are_not_us():
    assert api_base_url(6) == "https://api-campaign-eu-1.goacoustic.com"
    assert all(region != f"us-{pod}" for pod, region in PODS.items() if pod not in "12345")


@pytest.mark.parametrize("pod", ["0", "C", "10", "", "us-1"])
def test_unknown_pod_names_the_valid_ones(pod):
    with pytest.raises(
        BexConfigError, match=r"use one of 1, 2, 3, 4, 5, 6, 7, 8, 9, A, B .*base_url="
    ):
        api_base_url(pod)


# --- credentials ------------------------------------------------------------------------------


def test_credentials_repr_masks_secrets():
    creds = Credentials("app", "the-client-secret", "the-refresh-token")
    for text in (repr(creds), str(creds), f"{creds}"):
        assert "the-client-secret" not in text and "the-refresh-token" not in text
        assert "app" in text
    with pytest.raises(TypeError, match="not picklable"):
        import pickle

        pickle.dumps(creds)


def test_credentials_scrub_removes_every_secret():
    creds = Credentials("app", "the-client-secret", "the-refresh-token")
    assert creds.scrub("bad the-refresh-token for the-client-secret") == "bad *** for ***"


def test_credentials_come_from_arguments_before_environment():
    env = {
        "BEX_CLIENT_ID": "env-id",
        "BEX_CLIENT_SECRET": "env-secret",
        "BEX_REFRESH_TOKEN": "env-rt",
    }
    creds = Credentials.resolve("arg-id", None, None, env=env)
    form = creds.token_form()
    assert form == {
        "grant_type": "refresh_token",
        "client_id": "arg-id",
        "client_secret": "env-secret",
        "refresh_token": "env-rt",
    }


def test_missing_credentials_name_both_ways():
    with pytest.raises(BexConfigError) as info:
        Credentials.resolve("id", None, None, env={"BEX_REFRESH_TOKEN": "x"})
    message = str(info.value)
    assert "client_secret=" in message and "BEX_CLIENT_SECRET" in message
    assert "refresh_token" not in message.split("pass")[1].split(" to ")[0]  # only what is missing


# --- the token cache ---------------------------------------------------------------------------


def test_token_is_cached_until_shortly_before_expiry(api):
    clock = Clock()
    token = AccessToken(api.base_url, credentials_of(api), clock=clock)
    before = token_requests(api)
    first = token.get()
    assert token.get() == first
    clock.now += 14400 - 301  # still more than the 5-minute margin left
    assert token.get() == first
    assert token_requests(api) == before + 1
    clock.now += 2  # now inside the margin: ask again (the sandbox may hand the same token)
    token.get()
    assert token_requests(api) == before + 2
    assert token.refresh_count == 2
    assert 14000 < token.expires_in <= 14400


def test_invalidate_only_drops_the_token_it_was_given(api):
    token = AccessToken(api.base_url, credentials_of(api))
    current = token.get()
    token.invalidate("some-older-token")
    assert token.expires_in > 0
    token.invalidate(current)
    assert token.expires_in == 0
    before = token_requests(api)
    token.get()
    assert token_requests(api) == before + 1


def test_concurrent_callers_refresh_once(api):
    token = AccessToken(api.base_url, credentials_of(api))
    before = token_requests(api)
    barrier = threading.Barrier(12)
    seen: list[str] = []

    def work() -> None:
        barrier.wait()
        seen.append(token.get())

    threads = [threading.Thread(target=work) for _ in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(seen)) == 1 and len(seen) == 12
    assert token_requests(api) == before + 1


def test_wrong_credentials_fail_at_once_without_backoff(api):
    sleeps: list[float] = []
    c = api.credentials
    token = AccessToken(
        api.base_url,
        Credentials(c.client_id, "wrong-secret-xyz", c.refresh_token),
        retry=RetryPolicy(sleep=sleeps.append),
    )
    with pytest.raises(BexAuthError) as info:
        token.get()
    assert sleeps == []
    assert info.value.status == 401
    assert "invalid_client" in str(info.value) and "BEX_CLIENT_SECRET" in str(info.value)
    assert "wrong-secret-xyz" not in str(info.value) + repr(info.value) + repr(token)


def test_a_wrong_secret_never_rides_on_a_cached_token(api):
    good = AccessToken(api.base_url, credentials_of(api))
    good.get()
    c = api.credentials
    wrong = AccessToken(api.base_url, Credentials(c.client_id, "wrong-secret", c.refresh_token))
    with pytest.raises(BexAuthError, match="refused the credentials"):
        wrong.get()


# --- one token per process, shared by every client and thread ---------------------------------


@pytest.fixture
def scripted():
    s = ScriptedServer()
    yield s
    s.close()


def test_five_clients_with_the_same_credentials_ask_once(scripted, sleeps):
    scripted.queue(*[Reply(200, envelope({"id": "1", "channels": []}))] * 5)
    clients = [make_client(scripted.base_url, sleeps) for _ in range(5)]
    for client in clients:
        client.get_job("1")
    assert scripted.token_count() == 1
    other = make_client(scripted.base_url, sleeps, client_id="another-app")
    other.token.get()
    assert scripted.token_count() == 2  # other credentials, another token


def test_threads_of_many_clients_refresh_once(scripted, sleeps):
    clients = [make_client(scripted.base_url, sleeps) for _ in range(3)]
    barrier = threading.Barrier(12)
    seen: list[str] = []

    def work(n: int) -> None:
        barrier.wait()
        seen.append(clients[n % 3].token.get())

    threads = [threading.Thread(target=work, args=(n,)) for n in range(12)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 12 and len(set(seen)) == 1
    assert scripted.token_count() == 1


def test_the_margin_shrinks_for_short_lived_tokens():
    assert refresh_margin(14400) == 300 and refresh_margin(14223) == 300
    assert refresh_margin(100) == 10 and refresh_margin(0) == 0


def test_short_lived_tokens_are_asked_for_once_per_lifetime(sleeps):
    server = ScriptedServer(token_lifetime=100)  # under the old 300 s margin
    try:
        clock = Clock()
        token = AccessToken(
            server.base_url, Credentials("app-id", CLIENT_SECRET, REFRESH_TOKEN), clock=clock
        )
        for _ in range(200):  # 200 calls over 100 s: the token is renewed once, at 90 s
            token.get()
            clock.now += 0.5
        assert server.token_count() == 2
        forget_tokens()
        server.queue(*[Reply(200, envelope({"id": "1", "channels": []}))] * 200)
        client = make_client(server.base_url, sleeps)
        before = server.token_count()
        for _ in range(200):
            client.get_job("1")
        assert 1 <= server.token_count() - before <= 2
    finally:
        server.close()


# --- the opt-in on-disk cache ------------------------------------------------------------------


def test_the_disk_cache_is_off_unless_asked_for(scripted, sleeps):
    folder = token_cache_dir()
    assert folder == token_cache_dir({"XDG_CACHE_HOME": os.environ["XDG_CACHE_HOME"]})
    assert str(folder).endswith(os.path.join("bextoolkit", "tokens"))
    make_client(scripted.base_url, sleeps).token.get()
    assert not folder.exists()
    forget_tokens()
    make_client(scripted.base_url, sleeps, env={"BEX_TOKEN_CACHE": "1"}).token.get()
    assert len(list(folder.glob("*.json"))) == 1


def test_the_disk_cache_reuses_a_token_across_processes(scripted, sleeps):
    first = make_client(scripted.base_url, sleeps, disk_token_cache=True)
    token = first.token.get()
    [path] = token_cache_dir().glob("*.json")
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    stored = json.loads(path.read_text())
    assert set(stored) == {"key", "access_token", "expires_at", "refresh_at"}
    assert stored["access_token"] == token and path.stem == stored["key"]
    text = path.read_text()
    for secret in (CLIENT_SECRET, REFRESH_TOKEN, "app-id"):
        assert secret not in text

    forget_tokens()  # what a new process starts with
    second = make_client(scripted.base_url, sleeps, disk_token_cache=True)
    assert second.token.get() == token
    assert scripted.token_count() == 1

    forget_tokens()
    other = make_client(scripted.base_url, sleeps, disk_token_cache=True, client_id="other-app")
    assert other.token.get() != token  # another key, another file
    assert len(list(token_cache_dir().glob("*.json"))) == 2


def test_a_refused_disk_token_is_dropped_and_replaced(scripted, sleeps):
    make_client(scripted.base_url, sleeps, disk_token_cache=True).token.get()
    forget_tokens()
    client = make_client(scripted.base_url, sleeps, disk_token_cache=True)
    scripted.queue(Reply(401), Reply(200, envelope({"id": "1", "channels": []})))
    client.get_job("1")  # the cached token is refused once, a new one is asked for and kept
    assert scripted.token_count() == 2
    [path] = token_cache_dir().glob("*.json")
    assert json.loads(path.read_text())["access_token"] == client.token.get()


def test_a_damaged_cache_file_is_ignored(tmp_path):
    cache = DiskTokenCache(tmp_path)
    cache.path("k").write_text("{not json")
    assert cache.load("k") is None
    cache.save("k", "tok", 100, 90)
    assert cache.load("k")[0] == "tok"
    cache.save("k", "tok", 100, -1)  # due for renewal: not handed out
    assert cache.load("k") is None


@pytest.mark.parametrize("lifetime", [0, -5])
def test_a_token_without_a_usable_lifetime_is_asked_for_once_not_twice_per_call(
    lifetime, sleeps, caplog
):
    server = ScriptedServer(token_lifetime=lifetime)
    try:
        server.queue(*[Reply(200, envelope({"id": "1", "channels": []}))] * 50)
        client = make_client(server.base_url, sleeps)
        for _ in range(50):
            client.get_job("1")
        # at most one per call (it was 2: once by the call, once more by its header)
        assert 1 <= server.token_count() <= 50
        assert server.token_count() == 1  # kept for the default lifetime; a 401 renews it
        assert f"lifetime of {lifetime}" in caplog.text
    finally:
        server.close()


def test_each_request_asks_for_its_token_once_even_when_it_is_due(sleeps):
    server = ScriptedServer(token_lifetime=100)
    try:
        clock = Clock()
        server.queue(*[Reply(200, envelope({"id": "1", "channels": []}))] * 3)
        client = make_client(server.base_url, sleeps)
        client.token._clock = clock
        for _ in range(3):
            client.get_job("1")
            clock.now += 95  # past the refresh point: the next call asks once
        assert server.token_count() == 3
        sent = [h["Authorization"] for m, p, h, _ in server.requests if p != "/oauth/token"]
        assert sent == [f"Bearer {ACCESS_PREFIX}{n}" for n in (1, 2, 3)]
    finally:
        server.close()
