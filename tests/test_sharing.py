"""The standalone HTML campaign report: its numbers, its filters, no network, no secrets."""

from __future__ import annotations

import re

import pandas as pd
import pytest

import bextoolkit as bex
from bextoolkit import samples
from bextoolkit.sharing import CampaignReport, render_notebook


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    frame = samples.generate_events(n_recipients=600, n_mailings=3, seed=7)
    frame.attrs.update(
        files=[{"path": "sftp://admin:hunter2secret@127.0.0.1:2222/download/a.csv", "rows": 3}],
        duplicates_dropped=2,
        skipped_lines=[{"file": "a.csv", "line": 7, "reason": "expected 25 fields, saw 26"}],
    )
    return frame


@pytest.fixture(scope="module")
def page(events) -> str:
    return CampaignReport(events, title="Weekly mailings").to_html()


def _cells(html: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td>(.*?)</td>", html, re.S)]


def test_the_funnel_table_shows_the_funnel_numbers(events, page):
    cells = _cells(page)
    for row in bex.funnel(events).itertuples():
        name_at = cells.index(row.messageName)
        shown = cells[name_at + 1 : name_at + 5]
        assert shown == [
            str(row.sent),
            str(row.delivered),
            str(row.unique_opens),
            str(row.unique_clicks),
        ]
        assert f"{row.open_rate:.1%}" in cells[name_at : name_at + 14]


def test_the_summary_cards_are_the_whole_frame_funnel(events, page):
    whole = bex.funnel(events, by=None).iloc[0]
    assert f"<b>{int(whole.sent):,}</b>Sent" in page
    assert f"<b>{int(whole.delivered):,}</b>Delivered" in page
    assert f"<b>{whole.open_rate:.1%}</b>Unique open rate" in page


def test_the_page_is_standalone(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script" not in page
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<svg") == 5  # funnel, bounces, links, engagement, heatmap


def test_provenance_and_conventions_are_stated_without_secrets(page):
    assert "duplicate events dropped" in page and "1 bad line(s) skipped" in page
    assert "expected 25 fields, saw 26" in page
    assert "sftp://127.0.0.1:2222/download/a.csv" in page
    assert "hunter2secret" not in page and "admin:" not in page
    assert "Metric conventions:" in page


def test_mailings_and_dates_filter_the_report(events):
    first = sorted(events["messageId"].astype(str).unique())[0]
    report = CampaignReport(events, mailings=[first])
    assert report.funnel["messageId"].astype(str).tolist() == [first]
    start = events["timestamp"].min() + pd.Timedelta(hours=6)
    later = CampaignReport(events, start=start.tz_convert(None), end=None)
    assert later.funnel["sent"].sum() < bex.funnel(events)["sent"].sum()
    assert "events=" in repr(later) and "hunter2" not in repr(later)


def test_a_frame_without_bounces_or_clicks_still_renders(events):
    quiet = events[events["eventType"].isin(["emailSend", "emailOpen"])]
    page = CampaignReport(quiet).to_html()
    assert "No bounces in these events." in page
    assert "No clicks in these events." in page


def test_a_failing_report_notebook_is_one_clear_error(tmp_path):
    from bextoolkit.exceptions import BexConfigError

    with pytest.raises(BexConfigError, match="no such notebook"):
        render_notebook(tmp_path / "missing.ipynb", {}, tmp_path / "out.html")


def test_a_failing_cell_is_one_clear_error(tmp_path):
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["parameters"]}),
        nbformat.v4.new_code_cell("1 / x"),
    ]
    path = tmp_path / "broken.ipynb"
    nbformat.write(nb, path)
    with pytest.raises(bex.BexError, match="a cell failed: ZeroDivisionError"):
        render_notebook(path, {"x": 0}, tmp_path / "out.html")
