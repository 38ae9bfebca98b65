"""The sandbox: real API + SFTP on loopback, and export files at each job's frequency."""

from __future__ import annotations

import os
import re
import time

import pandas as pd
import paramiko
import pytest
import requests

from bextoolkit import schema
from bextoolkit.client import BexClient
from bextoolkit.exceptions import BexAuthError, BexConfigError
from bextoolkit.jobs import Channel, JobDefinition
from bextoolkit.readers import read_events
from bextoolkit.samples.campaigns import mailing_type_of
from bextoolkit.sandbox import Sandbox
from bextoolkit.sandbox.exports import ExportSpec, select_events

START = pd.Timestamp("2026-11-02T00:00:00Z")


def job_definition(**channel: object) -> JobDefinition:
    options = {"job_frequency": 1, **channel}
    return JobDefinition(
        contact_source_id="423251",
        ftp_user_id="admin@example.com",
        channels=[Channel(**options)],  # type: ignore[arg-type]
    )


@pytest.fixture
def sandbox():
    with Sandbox(n_recipients=400, mailings_per_day=3) as sb:
        yield sb


def test_files_at_the_jobs_frequency_load_over_sftp_with_its_columns_and_events(sandbox):
    job = job_definition(
        job_frequency=2,
        export_file_format="PSV",
        event_types=["emailSend", "emailOpen"],
        columns=[("Country", 1), ("FirstName", 0)],
        export_file_name="Shop_",
    )
    job_id = sandbox.client().create_job(job)

    written = sandbox.advance(hours=12)

    names = [p.name for p in written]
    assert names == [f"Shop_Email_20261102{h:02d}0000_2.psv" for h in range(2, 13, 2)]
    assert [p.name for p in sandbox.files] == names
    events = read_events(
        sandbox.sftp_url + "/*.psv", storage_options=sandbox.storage_options, progress=False
    )
    # The job's columns, in columnOrder, after the documented ones.
    assert list(events.columns) == [*schema.BEX_COLUMNS, "FirstName", "Country", "eventType"]
    assert set(events["eventType"].astype(str)) == {"emailSend", "emailOpen"}
    assert events["timestamp"].min() >= START
    assert events["timestamp"].max() < START + pd.Timedelta(hours=12)
    assert events["Country"].notna().all()
    # Exactly the simulated database's events of those hours and types.
    spec = ExportSpec.from_wire(job_id, sandbox.api.jobs[job_id])[0]
    end = START + pd.Timedelta(hours=12)
    expected = select_events(sandbox.database.events("423251", START, end), spec, START, end)
    assert len(events) == len(expected) > 0
    assert sorted(events["eventId"].astype(str)) == sorted(expected["eventId"].astype(str))


def test_each_file_holds_its_own_window(sandbox):
    sandbox.client().create_job(job_definition(job_frequency=4))
    sandbox.advance(hours=24)
    for path in sandbox.files:
        match = re.search(r"_(\d{14})_4\.csv$", path.name)
        assert match, path.name
        window_end = pd.Timestamp(match.group(1), tz="UTC")
        events = read_events(str(path), progress=False)
        if len(events):
            assert events["timestamp"].min() >= window_end - pd.Timedelta(hours=4)
            assert events["timestamp"].max() < window_end
    assert len(sandbox.files) == 6


def test_advance_is_synchronous_and_writes_only_whole_windows(sandbox):
    sandbox.client().create_job(job_definition())
    assert sandbox.advance(minutes=59) == []
    assert sandbox.files == []
    (path,) = sandbox.advance(minutes=1)
    assert path.exists() and path.name.endswith("_20261102010000_1.csv")
    assert sandbox.now == START + pd.Timedelta(hours=1)


def test_a_window_without_events_still_gets_a_header_only_file(sandbox):
    # A/B tests are batch mailings sent in the day: none is sent between midnight and 1 am.
    job = job_definition(event_types=["emailSend"], mailing_types=["ABTest"])
    sandbox.client().create_job(job)
    (path,) = sandbox.advance(hours=1)
    header = path.read_text(encoding="utf-8")
    assert header == ",".join(schema.BEX_COLUMNS) + "\n"
    assert read_events(str(path), progress=False).empty


def test_mailing_types_filter_the_export(sandbox):
    sandbox.client().create_job(job_definition(job_frequency=24, mailing_types=["Programs"]))
    (path,) = sandbox.advance(hours=24)
    events = read_events(str(path), progress=False)
    assert len(events) > 0
    assert set(mailing_type_of(events).astype(str)) == {"Programs"}


def test_windows_start_at_the_hour_the_job_was_created(sandbox):
    sandbox.advance(hours=2, minutes=30)  # no job yet: nothing to write
    assert sandbox.files == []
    sandbox.client().create_job(job_definition(job_frequency=3))
    written = sandbox.advance(hours=6)  # created 02:30 -> windows end 05:00 and 08:00
    assert [p.name[-21:] for p in written] == ["_20261102050000_3.csv", "_20261102080000_3.csv"]


def test_updates_and_deletes_take_effect_from_then_on(sandbox):
    client = sandbox.client()
    job_id = client.create_job(job_definition(job_frequency=1))
    assert len(sandbox.advance(hours=2)) == 2
    job = client.get_job(job_id)
    job.channels[0].job_frequency = 2
    job.channels[0].export_file_format = "TSV"
    client.update_job(job)
    written = sandbox.advance(hours=4)
    assert [p.name[-21:] for p in written] == ["_20261102040000_2.tsv", "_20261102060000_2.tsv"]
    client.delete_job(job_id)
    assert sandbox.advance(hours=6) == []
    assert len(sandbox.files) == 4


def test_the_same_seed_gives_the_same_files(tmp_path):
    contents = []
    for _ in range(2):
        with Sandbox(n_recipients=200, seed=5) as sb:
            sb.client().create_job(job_definition(job_frequency=24))
            (path,) = sb.advance(hours=24)
            contents.append(path.read_bytes())
    assert contents[0] == contents[1]
    assert contents[0].count(b"\n") > 100


def test_speed_moves_sandbox_time_in_the_background():
    with Sandbox(speed=36_000, n_recipients=200) as sb:  # ten sandbox hours a second
        sb.client().create_job(job_definition())
        deadline = time.monotonic() + 20
        while len(sb.files) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(sb.files) >= 3
        assert sb.now > START + pd.Timedelta(hours=3)


def test_wrong_credentials_are_refused(sandbox):
    creds = sandbox.credentials
    wrong = BexClient(
        base_url=sandbox.base_url,
        client_id=creds.client_id,
        client_secret="not-the-secret",
        refresh_token=creds.refresh_token,
        max_retries=0,
    )
    with pytest.raises(BexAuthError):
        wrong.list_jobs()
    answer = requests.get(sandbox.base_url + "/rest/bulkeventexport/jobdefinition", timeout=5)
    assert answer.status_code == 401
    options = sandbox.storage_options
    transport = paramiko.Transport((options["host"], options["port"]))
    try:
        with pytest.raises(paramiko.AuthenticationException):
            transport.connect(username=options["username"], password="not-the-password")
    finally:
        transport.close()
    assert sandbox.client().list_jobs() == []


def test_listens_on_loopback_only_and_leaves_nothing_behind(tmp_path):
    with pytest.raises(BexConfigError, match="loopback"):
        Sandbox(tmp_path / "state", host="0.0.0.0")
    assert not (tmp_path / "state").exists()
    with Sandbox() as sb:
        root = sb.root
        assert sb.base_url.startswith("http://127.0.0.1:")
        assert sb.sftp_url.startswith("sftp://127.0.0.1:") and sb.sftp_url.endswith("/download")
    assert not root.exists()


def test_repr_masks_every_secret(sandbox):
    text = repr(sandbox)
    creds = sandbox.credentials
    assert sandbox.base_url in text and creds.client_id in text
    for secret in (creds.client_secret, creds.refresh_token, sandbox.sftp_password):
        assert secret not in text


def test_state_dir_keeps_jobs_credentials_and_files(tmp_path):
    with Sandbox(tmp_path, n_recipients=200) as sb:
        job_id = sb.client().create_job(job_definition())
        sb.advance(hours=1)
        secret, password = sb.credentials.client_secret, sb.sftp_password
    assert (tmp_path / "sftp" / "download").is_dir()
    with Sandbox(tmp_path, n_recipients=200) as sb:
        assert (sb.credentials.client_secret, sb.sftp_password) == (secret, password)
        assert [j.id for j in sb.client().list_jobs()] == [job_id]
        assert len(sb.files) == 1
        # Time goes on from where it stopped: the next window, none written twice.
        assert sb.now == START + pd.Timedelta(hours=1)
        (path,) = sb.advance(hours=1)
        assert path.name.endswith("_20261102020000_1.csv")
    assert tmp_path.exists()
    if os.name == "posix":
        assert (tmp_path / "sftp-login.json").stat().st_mode & 0o077 == 0


def test_a_failed_start_stops_what_started_and_removes_its_folder():
    with Sandbox() as first:
        taken = first.sftp.port
        assert taken is not None
        second = Sandbox(sftp_port=taken)  # the API starts, then SFTP cannot
        with pytest.raises(OSError):
            second.start()
        assert not second.root.exists()
        with pytest.raises(requests.ConnectionError):
            requests.get(second.base_url, timeout=2)


# --- one OAuth application for the API and the files (domain.md 6c) --------------------------


def test_the_client_reads_the_files_with_its_access_token(sandbox):
    client = BexClient.from_env(sandbox.env())  # BEX_SFTP_HOST/PORT name the sandbox's SFTP
    client.create_job(job_definition())
    sandbox.advance(hours=2)
    options = client.sftp_storage_options()
    assert options["username"] == "oauth" and options["password"] == client.token.get()
    assert (options["host"], options["port"]) == (sandbox.sftp.host, sandbox.sftp.port)
    url = f"sftp://{options['host']}:{options['port']}/download/*.csv"
    events = read_events(url, storage_options=options, progress=False)
    assert len(events) > 0 and len(events.attrs["files"]) == 2
    assert sandbox.client().sftp_storage_options()["port"] == sandbox.sftp.port
    # the separate SFTP password still works, and a made-up token does not
    assert len(read_events(url, storage_options=sandbox.storage_options, progress=False)) == len(
        events
    )
    with paramiko.SSHClient() as ssh:
        ssh.set_missing_host_key_policy(paramiko.AutoAddPolicy())
        with pytest.raises(paramiko.AuthenticationException):
            ssh.connect(
                options["host"],
                options["port"],
                username="oauth",
                password="not-a-token",
                look_for_keys=False,
                allow_agent=False,
            )


def test_the_sftp_host_of_a_pod_and_of_a_custom_url():
    creds = {"client_id": "i", "client_secret": "s", "refresh_token": "r", "env": {}}
    client = BexClient(pod="6", **creds)
    assert (client.sftp_host, client.sftp_port) == ("transfer-campaign-eu-1.goacoustic.com", 22)
    by_url = BexClient(base_url="https://api-campaign-ap-3.goacoustic.com", **creds)
    assert by_url.sftp_host == "transfer-campaign-ap-3.goacoustic.com"
    proxy = BexClient(base_url="https://proxy.example", **creds)
    with pytest.raises(BexConfigError, match=r"pass sftp_host= .* BEX_SFTP_HOST"):
        proxy.sftp_storage_options()
    given = BexClient(base_url="https://proxy.example", sftp_host="h", sftp_port=2222, **creds)
    assert (given.sftp_host, given.sftp_port) == ("h", 2222)
