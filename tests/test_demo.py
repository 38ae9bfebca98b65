"""`bextoolkit demo`: sandbox, job definition, a day of hourly files over SFTP, report."""

from __future__ import annotations

import re
import socket

import pandas as pd
import pytest

from bextoolkit.demo import format_summary, run_demo


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
