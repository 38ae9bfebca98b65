"""`bextoolkit demo`: sandbox, job definition, a day of hourly files over SFTP, report."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import time
from html.parser import HTMLParser

import pandas as pd
import pytest

from bextoolkit import cli
from bextoolkit.demo import format_summary, run_demo
from bextoolkit.readers import read_events
from bextoolkit.reports import funnel


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
    assert format_summary(expected, funnel(events, by=None)) in output
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


def test_the_demo_stops_its_servers_when_interrupted(tmp_path):
    seen: list[str] = []

    def echo(line: str) -> None:
        seen.append(line)
        if line.startswith("Letting"):
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_demo(tmp_path / "report.html", echo=echo)
    ports = [int(p) for p in re.findall(r"127\.0\.0\.1:(\d+)", seen[1])]
    assert len(ports) == 2  # the API and SFTP ports it printed
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    assert not (tmp_path / "report.html").exists()


def test_summary_formats_missing_rates_as_not_available():
    table = pd.DataFrame(
        {"messageId": ["9"], "messageName": ["Empty"], "sent": [0], "delivered": [0],
         "open_rate": [float("nan")], "click_rate": [float("nan")]}
    )  # fmt: skip
    assert format_summary(table).splitlines()[1].split()[-2:] == ["n/a", "n/a"]
