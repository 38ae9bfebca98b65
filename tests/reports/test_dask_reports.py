"""Reports on a Dask frame computed on the workers (a real ``LocalCluster`` of 2 worker
processes): every number equals pandas', and only aggregates reach the client."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pytest
from conftest import canonical

import bextoolkit as bex
from bextoolkit.exceptions import BexPerformanceWarning
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports._distributed import SPLIT
from bextoolkit.samples.campaigns import generate_events

distributed = pytest.importorskip("distributed", reason="pip install -e '.[dask]'")
dd = pytest.importorskip("dask.dataframe", reason="pip install -e '.[dask]'")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, silence_logs=40,
        dashboard_address=":0",  # any free port: another cluster may hold 8787
    )  # fmt: skip
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def account() -> pd.DataFrame:
    """Many mailings over three weeks to the same 500 people; some rows carry only an
    e-mail (written in another case, with spaces) whose id other rows know, some an
    e-mail no id goes with."""
    events = generate_events(n_recipients=500, n_mailings=12, days=21, seed=19)
    rng = np.random.default_rng(19)
    ids = events["RECIPIENT_ID"].astype("string")
    emails = events["Email"].astype("string")
    drop = rng.random(len(events)) < 0.05
    events["RECIPIENT_ID"] = ids.mask(drop)
    events["Email"] = emails.where(~drop, " " + emails.str.upper() + " ")
    stranger = rng.random(len(events)) < 0.01
    events.loc[stranger, "RECIPIENT_ID"] = pd.NA
    events.loc[stranger, "Email"] = "nobody-knows@example.org"
    return events


@pytest.fixture(scope="module")
def lazy(account: pd.DataFrame):
    return dd.from_pandas(account, npartitions=5, sort=False)


WINDOW = {"start": "2026-11-06", "end": "2026-11-16"}
REPORTS = [
    ("funnel", {}),
    ("funnel", {"by": "domain"}),
    ("funnel", {"by": "send_week", "convention": "iterable"}),
    ("funnel", {"by": ["messageId", "send_day"], "diagnostics": True, **WINDOW}),
    ("funnel", {"by": None, "bounce_rate": "requests", "click_implies_open": True}),
    ("funnel", {"by": "provider", "exclude": True}),
    ("funnel", {"by": "mailingType"}),
    ("funnel", {"by": pd.Grouper(key="timestamp", freq="W-MON"), **WINDOW}),
    ("bounce_breakdown", {}),
    ("bounce_breakdown", {"by": "domain", "bounce_rate": "requests"}),
    ("bounce_breakdown", {"by": ["messageId", "bounceType"], **WINDOW}),
    ("bounce_breakdown", {"by": "send_week"}),
    ("click_urls", {}),
    ("click_urls", {"by": "messageId", "normalize": False, "top": 3}),
    ("click_urls", {"by": ["domain", "send_week"], "exclude": "bot_clicks", **WINDOW}),
    ("event_counts", {"by": "messageId"}),
    ("event_counts", {"by": ["day", "domain"], **WINDOW}),
    ("event_counts", {}),
    ("recipient_engagement", {}),
    ("recipient_engagement", {"exclude": "machine_opens", **WINDOW}),
]


@pytest.mark.parametrize(("name", "options"), REPORTS)
def test_reports_on_the_workers_equal_pandas(client, account, lazy, name, options) -> None:
    report = getattr(bex, name)
    expected = report(account, **options)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BexPerformanceWarning)  # nothing gathered
        got = report(lazy, **options)
    assert len(expected) > 0
    pd.testing.assert_frame_equal(canonical(got), canonical(expected))
    assert got.attrs == expected.attrs


def test_time_buckets_and_order_are_pandas_own(client, account, lazy) -> None:
    """Without canonical sorting: weeks in time order, bounce groups most first."""
    for name, options in (("funnel", {"by": "send_week"}), ("bounce_breakdown", {})):
        report = getattr(bex, name)
        pd.testing.assert_frame_equal(
            report(lazy, **options), report(account, **options), check_categorical=False
        )


def test_an_email_without_id_joins_the_id_known_from_another_row(client) -> None:
    """Rows of one person split over partitions, some carrying only the e-mail: the
    shuffle sends them to the id's partition, so the person is counted once."""
    ts = pd.to_datetime(["2026-11-02T10:00Z"] * 3 + ["2026-11-02T11:00Z"] * 3, utc=True)
    events = pd.DataFrame({
        "RECIPIENT_ID": ["7", pd.NA, "8", pd.NA, pd.NA, "8"],
        "Email": ["a@x.org", pd.NA, "b@x.org", " A@X.org", "c@x.org", pd.NA],
        "messageId": ["m1", "m1", "m1", "m2", "m2", "m2"],
        "eventType": ["emailSend", "emailSend", "emailSend", "emailSend", "emailSend",
                      "emailOpen"],
        "timestamp": ts,
    })  # fmt: skip
    lazy = dd.from_pandas(events, npartitions=3, sort=False)
    for report in (bex.funnel, bex.recipient_engagement):  # Dask makes text string[pyarrow]
        got, expected = canonical(report(lazy)), canonical(report(events))
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)
    people = bex.recipient_engagement(lazy)
    assert people["mailings_sent"].tolist() == [2, 1, 1]  # id 7 (also " A@X.org"), 8, c@


def test_sends_is_a_dask_frame_of_the_same_sends(client, account, lazy) -> None:
    got = bex.sends(lazy, **WINDOW)
    assert bex.reports._dask.is_dask_frame(got)
    expected = bex.sends(account, **WINDOW)
    keys = ["messageId", "RECIPIENT_ID", "Email"]
    computed = got.compute().sort_values(keys, ignore_index=True)
    pd.testing.assert_frame_equal(
        canonical(computed), canonical(expected.sort_values(keys, ignore_index=True))
    )


def test_only_aggregates_come_back_to_the_client(client, monkeypatch) -> None:
    """Count the rows of every frame the workers hand to the client: a few per group and
    partition, not the events (the former gather-everything path brought all of them).
    Every row carries an id here: no e-mail has to be looked up."""
    import dask

    account = generate_events(n_recipients=3000, n_mailings=12, days=21, seed=19)
    lazy = dd.from_pandas(account, npartitions=5, sort=False)

    real = dask.compute
    received: list[int] = []

    def counting(*args, **kwargs):
        results = real(*args, **kwargs)
        for item in results[0] if len(results) == 1 and isinstance(results[0], tuple) else results:
            for piece in item if isinstance(item, tuple) else (item,):
                received.append(len(piece) if hasattr(piece, "__len__") else 1)
        return results

    monkeypatch.setattr(dask, "compute", counting)
    result = bex.funnel(lazy, by="messageId")
    assert received, "the report computed nothing on the workers"
    # per partition after the shuffle: a row per mailing, and its name, subject and type
    assert sum(received) <= lazy.npartitions * SPLIT * 4 * len(result)
    assert sum(received) < len(account) / 20

    @accepts_dask
    def mailings(events: pd.DataFrame) -> pd.DataFrame:  # a report with no partial sums
        return events[["messageId"]].drop_duplicates()

    with pytest.warns(BexPerformanceWarning, match="gathers the events"):
        assert len(mailings(lazy)) == 12  # computed on the client: it says so


def test_report_command_on_a_dask_scheduler_writes_the_pandas_page(client, tmp_path) -> None:
    """``bextoolkit report --engine dask --scheduler ADDRESS``: the same page as pandas
    (the generated-at line aside), computed on the workers: no warning of a gather."""
    import re
    import subprocess
    import sys

    from bextoolkit.samples.campaigns import write_exports

    src = tmp_path / "download"
    write_exports(generate_events(n_recipients=300, n_mailings=3, days=3, seed=5), str(src))
    pages = {}
    for engine in ("pandas", "dask"):
        out = tmp_path / f"{engine}.html"
        argv = [sys.executable, "-m", "bextoolkit.cli", "report", str(src), "-o", str(out),
                "--tz", "Europe/Berlin", "--engine", engine]  # fmt: skip
        if engine == "dask":
            argv += ["--scheduler", client.scheduler.address]
        done = subprocess.run(argv, capture_output=True, text=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr
        assert "BexPerformanceWarning" not in done.stderr
        page = re.sub(r"generated [\d-]+ [\d:]+ UTC", "", out.read_text())
        pages[engine] = re.sub(r"<dc:date>[^<]*</dc:date>", "", page)  # SVG stamps
    data = "<h2>Data and conventions</h2>"  # a Dask frame carries no list of files read
    assert pages["dask"].split(data)[0] == pages["pandas"].split(data)[0]
    assert data in pages["dask"]


def _page(report) -> str:
    import re

    page = re.sub(r"generated [\d-]+ [\d:]+ UTC", "", report.to_html())
    return re.sub(r"<dc:date>[^<]*</dc:date>", "", page)  # SVG stamps


def _rows(result) -> int:
    """The rows of a computed result: frames and series by length, containers summed."""
    if isinstance(result, pd.DataFrame | pd.Series):
        return len(result)
    if isinstance(result, dict):
        return sum(_rows(v) for v in result.values())
    if isinstance(result, list | tuple | set):
        return sum(_rows(v) for v in result) if isinstance(result, list | tuple) else len(result)
    return 1


def _counting_computes(monkeypatch) -> list[int]:
    """A list that gets the rows of every result ``dask.compute`` brings to the client."""
    import dask

    real, received = dask.compute, []

    def counting(*args, **kwargs):
        results = real(*args, **kwargs)
        received.extend(_rows(r) for r in results)
        return results

    monkeypatch.setattr(dask, "compute", counting)
    return received


@pytest.mark.parametrize(
    ("name", "options"),
    [("click_urls", {}), ("click_urls", {"by": "messageId"}), ("funnel", {"by": "domain"}),
     ("bounce_breakdown", {}), ("deliverability", {}), ("send_hours", {})],
)  # fmt: skip
def test_what_reaches_the_client_does_not_grow_with_the_partitions(
    client, account, monkeypatch, name, options
):
    """Partials are added up on the workers: 2 or 16 partitions, the client receives the
    same rows (one partial per partition would bring 8x)."""
    received = _counting_computes(monkeypatch)
    rows, results = [], []
    for n in (2, 16):
        shuffled = bex.reports.by_recipient(dd.from_pandas(account, npartitions=n, sort=False))
        shuffled = shuffled.persist()
        received.clear()
        results.append(canonical(getattr(bex, name)(shuffled, **options)))
        rows.append(sum(received))
    pd.testing.assert_frame_equal(results[0], results[1])
    assert rows[0] == rows[1], rows


def test_the_report_of_many_mailings_is_built_on_the_workers(client, monkeypatch):
    """A CampaignReport of a Dask frame (16 mailings: the at-a-glance page, with a window):
    the page pandas gives, nothing gathered, and what reaches the client does not grow
    with the events: 8x the people (and events) bring back at most 1.5x the rows."""
    from bextoolkit.sharing import CampaignReport

    options = {"tz": "Europe/Berlin", "start": "2026-11-03", "end": "2026-11-30"}
    received = _counting_computes(monkeypatch)
    rows = []
    account, bigger = (generate_events(n_recipients=n, n_mailings=16, days=28, seed=19)
                       for n in (500, 4000))  # fmt: skip
    for events in (account, bigger):
        received.clear()
        with warnings.catch_warnings():
            warnings.simplefilter("error", BexPerformanceWarning)  # nothing gathered
            report = CampaignReport(dd.from_pandas(events, npartitions=4, sort=False), **options)
            page = _page(report)
        rows.append(sum(received))
        data = "<h2>Data and conventions</h2>"  # a Dask frame carries no list of files read
        assert page.split(data)[0] == _page(CampaignReport(events, **options)).split(data)[0]
        assert "Every mailing (1" in page  # folded: more than 12 mailings
    assert len(bigger) > 8 * len(account)
    # what grows is the answer, not the events: more people click more of the mailings'
    # links (the distinct links clicked per mailing: 65 -> 124 rows)
    assert rows[1] < 1.5 * rows[0], rows


def test_scheduler_without_the_dask_engine_is_a_clear_error(tmp_path, capsys) -> None:
    from bextoolkit.cli import main

    assert main(["report", str(tmp_path), "--scheduler", "tcp://127.0.0.1:1"]) != 0
    assert "--scheduler needs --engine dask" in capsys.readouterr().err


CHECKS = [
    ("deliverability", {"freq": "W"}),
    ("deliverability", {"freq": "D", "tz": "America/New_York", **WINDOW}),
    ("mailed_after_opt_out", {"grace": "0s"}),
    ("mailed_after_hard_bounce", {}),
    ("segments", {}),
    ("segments", {"now": "2026-12-01", "engaged_within": "7D"}),
    ("send_hours", {}),
    ("send_hours", {"tz": "Asia/Tokyo", "exclude": None, **WINDOW}),
    ("reports.engagement_hours", {}),
    ("activity_heatmap", {"tz": "Europe/Berlin"}),
    ("activity_heatmap", {"unique": True, **WINDOW}),
    ("reports.flag_counts", {}),
    ("engagement_curve", {}),
    ("engagement_curve", {"by": "messageId", "event": ("emailOpen", "emailClick"), **WINDOW}),
    ("engagement_curve", {"until": "72h", "step": "30min"}),
]


def _report(name: str):
    return getattr(bex.reports, name.split(".")[-1])


@pytest.mark.parametrize(("name", "options"), CHECKS)
def test_mailbox_provider_checks_and_engagement_in_time_on_the_workers_equal_pandas(
    client, account, lazy, name, options
):
    """Computed from partial counts on the workers, nothing gathered: exactly the pandas
    answer (attrs included)."""
    report = _report(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", BexPerformanceWarning)  # nothing gathered
        on_dask = report(lazy, **options)
    on_pandas = report(account, **options)
    assert len(on_pandas) > 0 or name.startswith("mailed_after")
    pd.testing.assert_frame_equal(canonical(on_dask), canonical(on_pandas))
    assert on_dask.attrs.keys() == on_pandas.attrs.keys()
    for key, value in on_pandas.attrs.items():
        assert str(on_dask.attrs[key]) == str(value), key


def test_events_of_sends_stays_on_the_workers(client, account, lazy) -> None:
    got = bex.reports.events_of_sends(lazy, **WINDOW)
    assert bex.reports._dask.is_dask_frame(got)
    expected = bex.reports.events_of_sends(account, **WINDOW)
    assert len(got) == len(expected)
    pd.testing.assert_frame_equal(bex.funnel(got), bex.funnel(expected), check_dtype=False)


def test_a_persisted_shuffle_is_not_shuffled_again(client, account, lazy) -> None:
    """``by_recipient(events).persist()``: reports on it shuffle nothing more (no shuffle
    task in their graph) and give the same numbers."""
    from bextoolkit.reports._distributed import by_recipient

    shuffled = by_recipient(lazy).persist()
    assert by_recipient(shuffled) is shuffled
    names = {str(key[0] if isinstance(key, tuple) else key) for key in
             bex.sends(shuffled).__dask_graph__()}  # fmt: skip
    assert not [n for n in names if "shuffle" in n]
    pd.testing.assert_frame_equal(
        canonical(bex.funnel(shuffled, by="domain")), canonical(bex.funnel(account, by="domain"))
    )


def test_the_all_links_bot_rule_counts_each_mailing_over_every_partition(client) -> None:
    """Person 1 clicks links a, b and c of m1 within 5 s, a minute after the send. Person 8
    clicked d in m1: m1 has 4 links, so person 1 did not click them all and is no bot (a
    partition without person 8 would see 3 links and flag them). In m2 nobody else
    clicked: a, b, c are all its links and person 1's burst is flagged."""
    send = pd.Timestamp("2026-11-02T10:00Z")
    rows = [(str(p), m, "emailSend", send, None) for p in range(1, 9) for m in ("m1", "m2")]
    for m in ("m1", "m2"):
        rows += [("1", m, "emailClick", send + pd.Timedelta(seconds=60 + i), f"https://x.org/{u}")
                 for i, u in enumerate("abc")]  # fmt: skip
    rows.append(("8", "m1", "emailClick", send + pd.Timedelta(hours=2), "https://x.org/d"))
    events = pd.DataFrame(
        rows, columns=["RECIPIENT_ID", "messageId", "eventType", "timestamp", "clickUrl"]
    )
    expected = bex.reports.flag_counts(events)
    flagged = expected.dropna(subset=["reason"])
    assert flagged["events"].tolist() == [3]  # m2's burst only
    lazy = dd.from_pandas(events, npartitions=4, sort=False)
    pd.testing.assert_frame_equal(bex.reports.flag_counts(lazy), expected)
    for report in (bex.funnel, bex.click_urls):
        got, want = report(lazy, exclude="bot_clicks"), report(events, exclude="bot_clicks")
        pd.testing.assert_frame_equal(canonical(got), canonical(want), check_dtype=False)
