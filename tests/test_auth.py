"""Pods, masked credentials and the cached access token (against the sandbox's real endpoint)."""

from __future__ import annotations

import threading

import pytest

from bextoolkit.auth import (
    PODS,
    AccessToken,
    Credentials,
    api_base_url,
    backoff_delay,
    sftp_host,
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
        sleep=sleeps.append,
    )
    with pytest.raises(BexAuthError) as info:
        token.get()
    assert sleeps == []
    assert info.value.status == 401
    assert "invalid_client" in str(info.value) and "BEX_CLIENT_SECRET" in str(info.value)
    assert "wrong-secret-xyz" not in str(info.value) + repr(info.value) + repr(token)


def test_backoff_is_capped_exponential_with_jitter():
    lows = [backoff_delay(n, base=1.0, cap=60.0, rng=lambda: 0.0) for n in range(8)]
    highs = [backoff_delay(n, base=1.0, cap=60.0, rng=lambda: 1.0) for n in range(8)]
    assert highs == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert lows == [h / 2 for h in highs]
    assert 0.5 <= backoff_delay(0, base=1.0, cap=60.0) <= 1.0
