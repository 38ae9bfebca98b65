"""The command line, every command in one place: ``bextoolkit jobs | sync | report | demo |
sandbox | samples``, run as a user would (in-process through ``main`` or as a subprocess),
against the sandbox, a real asyncssh SFTP server and the scripted HTTP server on loopback.

Every error is one line on stderr with exit status 2; 1 means "ran and found problems".
"""

from __future__ import annotations

import contextlib
import copy
import csv
import gzip
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import warnings
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests
from conftest import DATA_SAMPLES, REPO, Reply, ScriptedServer, export_names, valid_body

import bextoolkit as bex
from bextoolkit import cli, schema
from bextoolkit.cli import main
from bextoolkit.client import BexClient
from bextoolkit.demo import format_summary
from bextoolkit.jobs import Channel, JobDefinition
from bextoolkit.readers import read_events
from bextoolkit.reports import funnel
from bextoolkit.samples.campaigns import SAMPLE_COLUMNS
from bextoolkit.sandbox.api import SandboxAPI
from bextoolkit.sandbox.sftp import SFTPServer

SEED = valid_body()


def stored(job_id: str = "1001", **changes: object) -> dict:
    return {**copy.deepcopy(SEED), "id": job_id, **changes}


def job_definition(**channel: object) -> JobDefinition:
    options = {"job_frequency": 1, **channel}
    return JobDefinition(
        contact_source_id="423251",
        ftp_user_id="admin@example.com",
        channels=[Channel(**options)],  # type: ignore[arg-type]
    )


def run_cli(*argv: str, env: dict[str, str] | None = None, timeout: float = 300):
    """``python -m bextoolkit.cli ARGV`` in the repository, as a user runs it."""
    return subprocess.run(
        [sys.executable, "-m", "bextoolkit.cli", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=timeout,
        env=None if env is None else {**os.environ, **env},
    )


def one_error_line(err: str, command: str) -> str:
    """The single line an error must be: no traceback, prefixed by the command."""
    assert "Traceback" not in err
    assert err.count("\n") == 1 and err.endswith("\n"), err
    assert err.startswith(f"bextoolkit {command}: "), err
    return err


@pytest.fixture
def sandbox():
    with SandboxAPI() as api:
        yield api


@pytest.fixture
def sandbox_env(sandbox, monkeypatch):
    for key, value in sandbox.env().items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("BEX_POD", raising=False)
    return sandbox


def _read_rows(path: str, delimiter: str) -> list[list[str]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


# --- bextoolkit jobs ----------------------------------------------------------------------


def test_cli_jobs_create_list_get_update_delete(sandbox_env, tmp_path, capsys):
    path = tmp_path / "job.json"
    path.write_text(json.dumps(SEED))

    assert main(["jobs", "validate", "--file", str(path)]) == 0
    assert capsys.readouterr().out == "valid\n"
    assert main(["jobs", "create", "--file", str(path)]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "1001"}
    assert main(["jobs", "get", "1001"]) == 0
    assert json.loads(capsys.readouterr().out) == stored("1001")
    changed = stored("1001")
    changed["channels"][0]["jobFrequency"] = 12
    path.write_text(json.dumps(changed))
    assert main(["jobs", "update", "-f", str(path)]) == 0
    capsys.readouterr()
    assert main(["jobs", "list"]) == 0
    assert [j["channels"][0]["jobFrequency"] for j in json.loads(capsys.readouterr().out)] == [12]
    assert main(["jobs", "delete", "1001"]) == 0
    assert json.loads(capsys.readouterr().out) == {"deleted": "1001"}


def test_cli_jobs_errors_are_one_line_and_non_zero(sandbox_env, tmp_path, monkeypatch, capsys):
    sandbox = sandbox_env
    assert main(["jobs", "get", "424242"]) == 2
    err = capsys.readouterr().err
    assert (
        err.startswith("bextoolkit jobs: GET ")
        and "-> 404: no job definition with id '424242'" in err
    )
    assert err.count("\n") == 1

    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    assert main(["jobs", "create", "--file", str(bad)]) == 2
    assert "bad.json: not valid JSON" in capsys.readouterr().err
    assert main(["jobs", "create", "--file", str(tmp_path / "missing.json")]) == 2
    assert "cannot read" in capsys.readouterr().err
    broken = copy.deepcopy(SEED)
    broken["channels"][0]["jobFrequency"] = 5
    broken["ftpUserId"] = "admin"
    bad.write_text(json.dumps(broken))
    for action in ("validate", "create"):
        # validate ran and found problems (1); create could not create anything (2)
        assert main(["jobs", action, "--file", str(bad)]) == (1 if action == "validate" else 2)
        err = capsys.readouterr().err
        assert err == (
            f"bextoolkit jobs: {bad}: 2 problems: channels[0].jobFrequency: must be one of 1, 2, "
            "3, 4, 6, 8, 12, 24, got 5; ftpUserId: must be an email address (the Org Admin's "
            "login), got 'admin'\n"
        )
    assert sandbox.jobs == {}

    monkeypatch.setenv("BEX_CLIENT_SECRET", "wrong-secret-for-the-cli")
    assert main(["jobs", "list"]) == 2
    err = capsys.readouterr().err
    assert "token endpoint refused the credentials" in err and "wrong-secret-for-the-cli" not in err
    for key in ("BEX_BASE_URL", "BEX_POD"):
        monkeypatch.delenv(key, raising=False)
    assert main(["jobs", "list"]) == 2
    assert "BEX_POD or BEX_BASE_URL" in capsys.readouterr().err


def test_two_commands_in_a_row_share_one_token_with_the_disk_cache(sandbox, tmp_path):
    env = {**sandbox.env(), "BEX_TOKEN_CACHE": "1", "XDG_CACHE_HOME": str(tmp_path)}
    for _ in range(2):  # two processes, as a user types two commands
        done = run_cli("jobs", "list", env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout) == []
    assert sum(1 for _, path, _ in sandbox.request_log if path == "/oauth/token") == 1
    [cached] = (tmp_path / "bextoolkit" / "tokens").glob("*.json")
    assert cached.stat().st_mode & 0o777 == 0o600
    text = cached.read_text()
    for secret in (sandbox.credentials.client_secret, sandbox.credentials.refresh_token):
        assert secret not in text
    without = {**env, "BEX_TOKEN_CACHE": "0", "XDG_CACHE_HOME": str(tmp_path / "other")}
    assert run_cli("jobs", "list", env=without, timeout=120).returncode == 0
    assert sum(1 for _, path, _ in sandbox.request_log if path == "/oauth/token") == 2
    assert not (tmp_path / "other").exists()


def test_a_proxy_page_instead_of_json_is_one_line(monkeypatch, capsys):
    server = ScriptedServer()
    try:
        server.queue(Reply(200, "<html>Sign in to the hotel wifi</html>", content_type="text/html"))
        env = {"BEX_BASE_URL": server.base_url, "BEX_CLIENT_ID": "i"}
        env |= {"BEX_CLIENT_SECRET": "s", "BEX_REFRESH_TOKEN": "r"}
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        assert main(["jobs", "get", "7"]) == 2
    finally:
        server.close()
    err = one_error_line(capsys.readouterr().err, "jobs")
    assert "-> 200: expected JSON, got text/html" in err and "hotel wifi" in err


def test_debug_shows_the_traceback_and_unexpected_errors_are_one_line(
    sandbox_env, monkeypatch, capsys
):
    assert main(["--debug", "jobs", "get", "424242"]) == 2
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "BexNotFoundError" in err
    assert err.splitlines()[-1].startswith("bextoolkit jobs: GET ")

    def broken(args):  # a bug, not a user error: a branch no server can make the CLI take
        raise RuntimeError("something inside broke")

    monkeypatch.setattr(cli, "_cmd_jobs", broken)
    assert main(["jobs", "list"]) == 2
    err = one_error_line(capsys.readouterr().err, "jobs")
    assert "unexpected RuntimeError: something inside broke" in err and "--debug" in err


# --- bextoolkit sync ----------------------------------------------------------------------


def test_cli_sync_prints_a_summary(src: Path, tmp_path: Path, capsys) -> None:
    dest = str(tmp_path / "dataset")
    assert main(["sync", str(src), dest, "--no-progress", "--settle", "0"]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith(f"synced {len(export_names(src))} new file(s)")
    assert main(["sync", str(src), dest, "--no-progress", "--settle", "0"]) == 0
    assert capsys.readouterr().out.startswith("synced 0 new file(s)")


# --- SFTP failures: one line naming host, port and path, exit status 2 --------------------------

SFTP_PASSWORD = "the-right-sftp-pw"


@pytest.fixture
def sftp(src):
    with SFTPServer(src.parent, username="bex", password=SFTP_PASSWORD) as server:
        yield server


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]  # nothing listens here once closed


NO_KEYS = ["look_for_keys=false", "allow_agent=false"]


@pytest.mark.parametrize("command", ["sync", "report"])
@pytest.mark.parametrize("fault", ["wrong password", "closed port", "missing folder"])
def test_sftp_failures_are_one_line_naming_host_port_and_path(
    command, fault, sftp, tmp_path, capsys
):
    port = closed_port() if fault == "closed port" else sftp.port
    folder = "/nowhere" if fault == "missing folder" else "/download"
    password = "a-wrong-sftp-pw" if fault == "wrong password" else SFTP_PASSWORD
    url = f"sftp://bex@127.0.0.1:{port}{folder}"
    options = [f"password={password}", *NO_KEYS]
    if command == "sync":
        argv = ["sync", url, str(tmp_path / "dataset"), "--no-progress"]
        argv += [a for o in options for a in ("-o", o)]
    else:
        argv = ["report", url + ("/*.csv" if fault != "missing folder" else ""), "-o"]
        argv += [str(tmp_path / "r.html"), *[a for o in options for a in ("--option", o)]]
    assert main(argv) == 2
    err = one_error_line(capsys.readouterr().err, command)
    assert f"sftp://127.0.0.1:{port}{folder}" in err
    assert password not in err and "paramiko" not in err
    expected = {
        "wrong password": "the login as 'bex' was refused",
        "closed port": "cannot connect (connection refused)",
        "missing folder": "no such file or folder",
    }[fault]
    assert expected in err, err
    assert not (tmp_path / "r.html").exists()


def test_an_sftp_failure_with_debug_shows_the_traceback(sftp, tmp_path, capsys):
    url = f"sftp://bex@127.0.0.1:{sftp.port}/download"
    argv = ["--debug", "sync", url, str(tmp_path / "d"), "--no-progress", "-o", "password=nope"]
    assert main([*argv, "-o", NO_KEYS[0], "-o", NO_KEYS[1]]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "AuthenticationException" in err
    assert err.splitlines()[-1].startswith(f"bextoolkit sync: sftp://127.0.0.1:{sftp.port}/")


# --- bextoolkit report ---------------------------------------------------------------------


def test_the_report_command_reads_files_and_writes_html(tmp_path):
    out = tmp_path / "r.html"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bextoolkit.cli",
            "report",
            str(DATA_SAMPLES / "csv"),
            "-o",
            str(out),
            "--tz",
            "Europe/Berlin",
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert f"report written to {out}" in done.stdout
    events = bex.read_events(DATA_SAMPLES / "csv")
    assert f"<b>{bex.funnel(events)['sent'].sum():,}</b>Sends" in out.read_text()


def test_the_report_command_names_a_missing_source(tmp_path):
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bextoolkit.cli",
            "report",
            str(tmp_path / "nope"),
            "-o",
            str(tmp_path / "r.html"),
        ],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=120,
    )
    assert done.returncode == 2
    assert "nope" in one_error_line(done.stderr, "report")


@pytest.mark.slow
def test_the_report_notebook_renders_without_code_or_remote_scripts(tmp_path):
    out = tmp_path / "nb.html"
    done = subprocess.run(
        [sys.executable, "-m", "bextoolkit.cli", "report", "data-samples/csv", "--notebook",
         "--title", "From the notebook", "--mailing", "15908422", "-o", str(out)],
        capture_output=True, text=True, cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert "<h1>From the notebook</h1>" in page
    assert "import bextoolkit" not in page
    assert not re.search(r"""<script[^>]*src=["']https?://""", page)
    events = bex.read_events(DATA_SAMPLES / "csv", messageId="15908422")
    assert f"<b>{int(bex.funnel(events)['sent'].sum()):,}</b>Sends" in page


@pytest.mark.slow
def test_the_notebook_command_works_from_notebooks_and_reads_as_a_managers_report(tmp_path):
    # notebook 05's own command, from notebooks/: the default notebook is found anyway
    out = tmp_path / "nb.html"
    done = subprocess.run(
        [sys.executable, "-m", "bextoolkit.cli", "report", "../data-samples/csv",
         "--notebook", "-o", str(out)],
        capture_output=True, text=True, cwd=REPO / "notebooks", timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""  # no kernel warnings on the terminal
    page = out.read_text()
    visible = re.sub(r"<style.*?</style>", "", page, flags=re.S)
    assert "Out[" not in visible and "In [" not in visible
    assert "bextoolkit report" not in visible  # the developer cell is left out
    assert "<h1>Campaign report</h1>" in visible


# --- bextoolkit samples, sandbox, demo ---------------------------------------------------------


def test_cli_samples_writes_the_set(tmp_path, capsys):
    assert main(["samples", str(tmp_path), "--recipients", "300", "--seed", "9"]) == 0
    assert "wrote" in capsys.readouterr().out
    for folder, count in (("csv", 24), ("psv", 24), ("tsv-gz", 24), ("with-columns", 1)):
        assert len(list((tmp_path / folder).iterdir())) == count, folder
    assert len(list((tmp_path / "rrde").glob("*.zip"))) == 1
    readme = (tmp_path / "README.md").read_text(encoding="utf-8")
    assert "bextoolkit samples data-samples --recipients 300 --seed 9" in readme
    [daily] = (tmp_path / "with-columns").iterdir()
    header = _read_rows(str(daily), ",")[0]
    assert header == [*schema.BEX_COLUMNS, *SAMPLE_COLUMNS]


def test_the_command_prints_what_a_user_needs_and_stops_on_ctrl_c(tmp_path):
    command = [sys.executable, "-m", "bextoolkit.cli", "sandbox", "--speed", "36000"]
    command += ["--state", str(tmp_path)]
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        lines = []
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            line = proc.stdout.readline()  # type: ignore[union-attr]
            if not line:
                break
            lines.append(line)
            if "Ctrl-C" in line:
                break
        text = "".join(lines)
        assert "sandbox" in text.lower() and "only" in text
        wanted = r"^  (API base URL|client id|client secret|refresh token)\s+(\S+)$"
        values = dict(re.findall(wanted, text, re.M))
        assert set(values) == {"API base URL", "client id", "client secret", "refresh token"}
        assert re.search(r"sftp://127\.0\.0\.1:\d+/download", text)
        client = BexClient(
            base_url=values["API base URL"],
            client_id=values["client id"],
            client_secret=values["client secret"],
            refresh_token=values["refresh token"],
        )
        client.create_job(job_definition())
        deadline = time.monotonic() + 20
        while not list((tmp_path / "sftp" / "download").glob("*.csv")):
            assert time.monotonic() < deadline, "no export file appeared"
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    with pytest.raises(requests.ConnectionError):
        requests.get(values["API base URL"], timeout=2)


class _Cells(HTMLParser):
    """Rows of every HTML table in a page, as lists of cell texts."""

    def __init__(self) -> None:
        super().__init__()
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self._cell = []

    def handle_endtag(self, tag):
        if tag in ("td", "th") and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


def _numbers(cells: list[str]) -> set[int]:
    found = set()
    for cell in cells:
        text = cell.replace(",", "").replace("\u202f", "").replace("\xa0", "").strip()
        if re.fullmatch(r"\d+", text):
            found.add(int(text))
    return found


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("demo")
    report, state = tmp / "report.html", tmp / "state"
    begin = time.monotonic()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        status = cli.main(["demo", "-o", str(report), "--state", str(state), "--hours", "24"])
    return status, time.monotonic() - begin, out.getvalue(), report, state


def test_demo_runs_within_a_minute_and_writes_the_report(demo_run):
    status, seconds, output, report, state = demo_run
    assert status == 0
    assert seconds < 60
    assert report.is_file()
    assert f"Report written to {report.resolve()}" in output
    files = sorted((state / "sftp" / "download").glob("*.csv"))
    assert len(files) == 24  # a day of hourly exports
    assert files[0].name == "Recipient Event Bulk Export_Email_20261102010000_1.csv"
    for step in ("Starting the sandbox", "Created job definition", "export files", "over SFTP"):
        assert step in output


def test_printed_and_reported_numbers_equal_funnel_on_the_same_files(demo_run):
    _, _, output, report, state = demo_run
    events = read_events(str(state / "sftp" / "download" / "*.csv"), progress=False)
    expected = funnel(events)
    assert len(expected) >= 3 and expected["sent"].sum() > 1000

    # The summary printed is exactly the one of funnel() on the files.
    assert format_summary(expected, totals=True) in output
    total = next(line for line in output.splitlines() if line.startswith("all mailings"))
    assert total.split()[2:4] == [f"{expected['sent'].sum():,}", f"{expected['delivered'].sum():,}"]
    assert f"{len(events):,} events from 24 files" in output

    # The report holds, on each mailing's row, that mailing's funnel counts.
    parser = _Cells()
    parser.feed(report.read_text(encoding="utf-8"))
    for row in expected.itertuples(index=False):
        keys = {str(row.messageId), str(row.messageName)}
        matches = [cells for cells in parser.rows if keys & set(cells)]
        assert matches, f"no row for mailing {row.messageId} in the report"
        counts = {row.sent, row.delivered, row.unique_opens, row.unique_clicks}
        rates = {f"{row.open_rate:.1%}", f"{row.click_rate:.1%}"}
        assert any(counts <= _numbers(cells) and rates <= set(cells) for cells in matches), (
            row,
            matches,
        )


# --- output pipes ------------------------------------------------------------------------


def test_cli_stops_quietly_when_the_reader_of_its_output_has_gone(tmp_path):
    # ``bextoolkit ... | head``: the pipe's reader is gone before the command prints
    path = tmp_path / "job.json"
    path.write_text(json.dumps(valid_body()))
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from bextoolkit.cli import main; sys.exit(main())",
                "jobs",
                "validate",
                "--file",
                str(path),
            ],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=60,
            check=False,
        )
    finally:
        os.close(write_end)
    assert done.stderr == ""
    assert done.returncode == 141


# --- small ones of issue 22 -------------------------------------------------------------------


def test_report_on_a_folder_with_no_exports_exits_1_with_a_sentence(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    (tmp_path / "contacts").mkdir()
    (tmp_path / "contacts" / "list.csv").write_text("Email,RECIPIENT_ID,Opt In Date\na@x,1,\n")
    for folder in ("empty", "contacts"):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert main(["report", str(tmp_path / folder), "-o", str(tmp_path / "r.html")]) == 1
        notices = [w for w in caught if "holds no export files" in str(w.message)]
        assert len(notices) == (folder == "empty")  # read_events' notice of an empty folder
        err = capsys.readouterr().err
        assert f"no event exports in {tmp_path / folder}, so no report was written" in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize("value", ["nan", "-1", "inf"])
def test_sync_refuses_a_settle_that_is_not_a_number_of_seconds(tmp_path, capsys, value):
    src = tmp_path / "src"
    src.mkdir()
    assert main(["sync", str(src), str(tmp_path / "dest"), "--settle", value]) == 2
    assert f"settle={float(value)!r}: give the seconds" in capsys.readouterr().err
    assert not (tmp_path / "dest").exists()


def test_sync_into_a_dest_that_is_a_file_names_it(tmp_path, capsys):
    (tmp_path / "src").mkdir()
    (tmp_path / "dest").write_text("not a folder")
    assert main(["sync", str(tmp_path / "src"), str(tmp_path / "dest")]) == 2
    err = capsys.readouterr().err
    assert f"DEST {tmp_path / 'dest'} is a file, not a folder" in err and "Errno" not in err
