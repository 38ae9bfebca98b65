"""The whole BEX loop on this machine, end to end: what ``bextoolkit demo`` runs.

:func:`run_demo` starts a :class:`~bextoolkit.sandbox.Sandbox` (Acoustic's API and SFTP
drop folder on 127.0.0.1), creates a job definition through
:class:`~bextoolkit.client.BexClient`, lets sandbox time run so the sandbox writes a day
or more of hourly export files, loads them over SFTP with
:func:`~bextoolkit.read_events`, computes :func:`~bextoolkit.funnel`
and writes a campaign report. The servers are stopped whatever happens, Ctrl-C included.
"""

from __future__ import annotations

import logging
import math
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import pandas as pd

if TYPE_CHECKING:
    from bextoolkit.client import BexClient
    from bextoolkit.jobs import JobDefinition

log = logging.getLogger(__name__)

__all__ = ["DEMO_JOB", "DemoResult", "format_summary", "run_demo"]

#: The job definition the demo creates (wire JSON): hourly CSV files of every event type,
#: with two database columns.
DEMO_JOB: dict[str, Any] = {
    "channels": [
        {
            "columnNames": [
                {"columnName": "FirstName", "columnOrder": 0},
                {"columnName": "Country", "columnOrder": 1},
            ],
            "exportFileFormat": "CSV",
            "jobFrequency": 1,
            "type": "Email",
        }
    ],
    "contactSourceId": "423251",
    "ftpUserId": "admin@example.com",
}


@dataclass
class DemoResult:
    """What :func:`run_demo` made.

    Attributes
    ----------
    report : Path
        The HTML report.
    job_id : str
        The job definition created in the sandbox.
    files : list of str
        Names of the export files the sandbox wrote (and the demo read).
    events : pandas.DataFrame
        The events read over SFTP.
    funnel : pandas.DataFrame
        :func:`bextoolkit.funnel` of ``events``: the numbers printed and reported.
    """

    report: Path
    job_id: str
    files: list[str]
    events: pd.DataFrame = field(repr=False)
    funnel: pd.DataFrame = field(repr=False)


def run_demo(
    output: str | os.PathLike[str] = "report.html",
    *,
    hours: int = 24,
    state_dir: str | os.PathLike[str] | None = None,
    seed: int = 0,
    n_recipients: int = 2000,
    echo: Callable[[str], None] | None = None,
) -> DemoResult:
    """Run the sandbox demo: job definition, ``hours`` of hourly exports, SFTP, report.

    Parameters
    ----------
    output : str or path, default "report.html"
        Where to write the HTML report.
    hours : int, default 24
        Sandbox hours to let pass (one export file per hour).
    state_dir : str or path, optional
        Keep the sandbox folder (export files under ``sftp/download/``, job definitions,
        credentials) there instead of a temporary folder that is deleted at the end. A job
        definition left there by an earlier run is updated rather than created again.
    seed : int, default 0
        Seed of the simulated database: the same seed gives the same numbers.
    n_recipients : int, default 2000
        Contacts in the simulated database.
    echo : callable, optional
        Called with each progress line (the command line passes ``print``); by default
        the lines are logged at INFO level.

    Returns
    -------
    DemoResult

    Raises
    ------
    BexError
        When a step fails; the sandbox is stopped first.
    """
    from bextoolkit.jobs import JobDefinition
    from bextoolkit.readers import read_events
    from bextoolkit.reports import funnel
    from bextoolkit.sandbox import Sandbox

    say = echo or log.info
    if hours < 1:
        raise ValueError(f"hours={hours}: let at least one hour pass")
    output = Path(output)
    say("Starting the sandbox: Acoustic's BEX API and SFTP drop folder on 127.0.0.1 ...")
    with Sandbox(state_dir, seed=seed, n_recipients=n_recipients) as sb:
        say(f"  API  {sb.base_url}   SFTP {sb.sftp_url}   sandbox time {_when(sb.now)}")
        with sb.client() as client:
            job_id = _submit(client, JobDefinition.from_dict(DEMO_JOB))
            job = client.get_job(job_id)
        channel = job.channels[0]
        events_wanted = ", ".join(map(str, channel.event_types)) or "all event types"
        columns = ", ".join(c.name if hasattr(c, "name") else str(c) for c in channel.columns)
        say(
            f"Created job definition {job_id} through the API: database "
            f"{job.contact_source_id}, every {channel.job_frequency} h, "
            f"{channel.export_file_format}, {events_wanted}, columns {columns}"
        )
        say(f"Letting {hours} hours of sandbox time pass ...")
        written = 0
        step = max(1, math.ceil(hours / 4))
        for done in range(step, hours + step, step):
            advance = min(step, hours - (done - step))
            written += len(sb.advance(hours=advance))
            say(f"  {_when(sb.now)}: {written} export files in {sb.sftp_url}")
        say("Loading the export files over SFTP ...")
        events = read_events(
            f"{sb.sftp_url}/*.csv", storage_options=sb.storage_options, progress=False
        )
        files = [p.name for p in sb.files]
        say(f"  {len(events):,} events from {len(files)} files")
    table = funnel(events)
    for line in format_summary(table, totals=True).splitlines():
        say(line)
    report = _write_report(events, output)
    say(f"Report written to {report}")
    return DemoResult(report=report, job_id=job_id, files=files, events=events, funnel=table)


def _submit(client: BexClient, job: JobDefinition) -> str:
    """Create the demo's job, or update the one an earlier run left in ``state_dir``."""
    from bextoolkit.exceptions import BexConflictError

    try:
        return client.create_job(job)
    except BexConflictError:
        existing = next(
            j for j in client.list_jobs() if str(j.contact_source_id) == str(job.contact_source_id)
        )
        job.id = existing.id
        return client.update_job(job)


def _when(moment: datetime) -> str:
    return pd.Timestamp(moment).strftime("%Y-%m-%d %H:%M UTC")


def format_summary(table: pd.DataFrame, *, totals: bool = False) -> str:
    """The demo's summary: sent, delivered, open rate and click rate per mailing.

    Parameters
    ----------
    table : pandas.DataFrame
        A :func:`bextoolkit.funnel` result by ``messageId``.
    totals : bool, default False
        Add an "all mailings" line: the sums of the lines above and the rates of those
        sums, as the report's headline counts them.

    Returns
    -------
    str
        A heading and one line per mailing (and one for all mailings).

    Examples
    --------
    >>> t = pd.DataFrame({"messageId": ["7"], "messageName": ["Sale"], "sent": [1000],
    ...                   "delivered": [970], "open_rate": [0.25], "click_rate": [0.04]})
    >>> print(format_summary(t))
    Mailing                                           sent  delivered  open rate  click rate
    7 Sale                                           1,000        970      25.0%        4.0%
    """
    lines = [f"{'Mailing':<46}{'sent':>8}{'delivered':>11}{'open rate':>11}{'click rate':>12}"]
    rows: list[tuple[str, Any]] = [
        (_clip(f"{r.messageId} {getattr(r, 'messageName', '') or ''}".strip(), 44), r)
        for r in table.itertuples(index=False)
    ]
    if totals:
        from bextoolkit.sharing import funnel_totals

        rows.append(("all mailings", SimpleNamespace(**funnel_totals(table))))
    for name, row in rows:
        lines.append(
            f"{name:<46}{row.sent:>8,}{row.delivered:>11,}"
            f"{_percent(row.open_rate):>11}{_percent(row.click_rate):>12}"
        )
    return "\n".join(lines)


def _percent(rate: Any) -> str:
    return "n/a" if pd.isna(rate) else f"{rate:.1%}"


def _write_report(events: pd.DataFrame, path: Path) -> Path:
    """Write the campaign report of ``events`` (:class:`bextoolkit.sharing.CampaignReport`)."""
    from bextoolkit.sharing import CampaignReport

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    CampaignReport(events, title="Campaign report: bextoolkit sandbox demo").to_html(path)
    return path.resolve()


def _clip(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
