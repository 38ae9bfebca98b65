"""The standalone HTML campaign report: its numbers, its filters, no network, no secrets."""

from __future__ import annotations

import html as htmllib
import re

import pandas as pd
import pytest

import bextoolkit as bex
from bextoolkit import samples
from bextoolkit.sharing import CampaignReport, render_notebook


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    frame = samples.generate_events(n_recipients=600, n_mailings=6, days=5, seed=7)
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
    return [
        htmllib.unescape(re.sub(r"<[^>]+>", "", c)).strip()
        for c in re.findall(r"<td[^>]*>(.*?)</td>", html, re.S)
    ]


def _table_rows(page: str, caption: str) -> list[list[str]]:
    """The body rows (and footer) of the table with this caption, cell texts."""
    start = page.index(f"<caption>{caption}")
    table = page[start : page.index("</table>", start)]
    return [_cells(row) for row in re.findall(r"<tr>(.*?)</tr>", table, re.S)[1:]]


def test_the_mailing_table_shows_the_funnel_in_send_order(events, page):
    rows = _table_rows(page, "Every mailing, in send order")
    funnel = bex.funnel(events)
    body, total = rows[:-1], rows[-1]
    assert len(body) == len(funnel)
    # name, id and type beside every mailing, then the send time
    assert [r[1] for r in body] == funnel.sort_values("sent_at")["messageId"].astype(str).tolist()
    sent_at = [r[3] for r in body]
    assert sent_at == sorted(sent_at)  # send order, with a "sent at" column
    for row in funnel.itertuples():
        shown = next(r for r in body if r[1] == row.messageId)
        assert shown[0] == row.messageName and shown[2] == row.mailingType
        assert shown[4:8] == [
            f"{row.sent:,}",
            f"{row.delivered:,}",
            f"{row.unique_opens:,}",
            f"{row.unique_clicks:,}",
        ]
        assert shown[10] == f"{row.open_rate:.1%}"
    # the footer: sums of the rows, rates over those sums
    assert total[0] == "All mailings" and total[4] == f"{funnel['sent'].sum():,}"
    assert total[10] == f"{funnel['unique_opens'].sum() / funnel['delivered'].sum():.1%}"
    assert "<button type='button' class='sort'>Mailing</button>" in page
    assert "Unique opens</button>" in page
    assert "unique_opens" not in re.sub(r"<svg.*?</svg>", "", page, flags=re.S)


def test_the_headline_agrees_with_the_table_and_counts_people_apart(events, page):
    funnel = bex.funnel(events)
    whole = bex.funnel(events, by=None).iloc[0]
    sends, delivered = funnel["sent"].sum(), funnel["delivered"].sum()
    assert f"<b>{sends:,}</b>Sends" in page
    assert f"<b>{delivered:,}</b>Delivered" in page
    assert f"<b>{funnel['unique_opens'].sum() / delivered:.1%}</b>Open rate" in page
    assert f"<b>{funnel['bounced'].sum() / sends:.1%}</b>Bounce rate" in page
    assert f"<b>{int(whole.sent):,}</b>Sends" in page  # the whole frame adds the mailings
    assert f"<b>{int(whole.people_reached):,}</b>People reached" in page
    assert f"<b>{int(whole.people_opened):,}</b>People who opened any mailing" in page
    assert (
        whole.people_reached == events["RECIPIENT_ID"][events["eventType"] == "emailSend"].nunique()
    )
    # a rate of all mailings lies between the mailings' own rates
    rate = funnel["unique_opens"].sum() / delivered
    assert funnel["open_rate"].min() <= rate <= funnel["open_rate"].max()


def test_the_page_is_standalone_and_its_charts_are_named(page):
    assert page.startswith("<!DOCTYPE html>")
    assert "<script src" not in page and page.count("<script>") == 1  # the sort, inline
    assert not re.search(r"""(src|href)=["']?(https?:)?//""", page)
    assert page.count("<main>") == 1
    svgs = re.findall(r"<svg[^>]*>", page)
    # funnel, bounces, bounces per day, providers, links, engagement, heatmap
    assert len(svgs) == 2 * 7
    assert all("role='img'" in tag and "aria-labelledby" in tag for tag in svgs)
    assert page.count("<figcaption>") == 7
    assert "<text" in page  # text kept as text, not drawn as shapes


def test_every_id_in_the_page_is_unique_and_every_reference_resolves(page):
    ids = re.findall(r"""\bid=["']([^"']+)["']""", page)
    assert len(ids) == len(set(ids)) and len(ids) > 100
    refs = set(re.findall(r"""(?:url\(|href=["'])#([^"')]+)""", page))
    assert refs and refs <= set(ids)
    for labelled in re.findall(r"aria-labelledby='([^']+)'", page):
        assert set(labelled.split()) <= set(ids)


def test_tables_format_numbers_and_label_columns():
    ev = samples.generate_events(n_recipients=2500, n_mailings=1, seed=4)
    page = CampaignReport(ev).to_html()
    sent = bex.funnel(ev)["sent"].iloc[0]
    assert sent >= 1000 and f"<td class='num'>{sent:,}</td>" in page
    assert "<th scope='col'>Bounce type</th>" in page and "bounceType</th>" not in page
    links = _table_rows(page, "Top links")
    uniques = [int(r[2].replace(",", "")) for r in links]
    assert uniques == sorted(uniques, reverse=True)  # the chart's order: unique clickers
    assert "When people engage" in page
    assert _table_rows(page, "Share of delivered recipients engaged")[0][0] == "1h 00m"


@pytest.mark.parametrize(("n_mailings", "days"), [(1, 1), (50, 34), (200, 120), (500, 365)])
def test_the_report_builds_for_1_to_500_mailings(n_mailings, days):
    ev = samples.generate_events(n_recipients=80, n_mailings=n_mailings, days=days, seed=2)
    page = CampaignReport(ev, title="Many").to_html()
    assert len(_table_rows(page, "Every mailing, in send order")) == ev["messageId"].nunique() + 1
    assert page.count("<figure>") >= 4


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


def test_a_mailing_is_sent_when_its_first_real_recipient_gets_it():
    """A seed-list copy goes out before the mailing; "sent at" is the first real send."""
    ev = pd.DataFrame({
        "messageId": ["m1", "m1", "m1", "m2"],
        "RECIPIENT_ID": ["9", "1", "2", "1"],
        "eventType": "emailSend",
        "timestamp": pd.to_datetime(
            ["2026-11-01 08:00", "2026-11-02 09:00", "2026-11-02 09:01", "2026-11-01 12:00"],
            utc=True,
        ),
        "Recipient Type": ["Seed", "Normal", "Normal", "Normal"],
    })  # fmt: skip
    table = bex.sharing.per_mailing(ev)
    assert table["messageId"].tolist() == ["m2", "m1"]
    assert table["sent_at"].tolist() == [
        pd.Timestamp("2026-11-01 12:00", tz="UTC"),
        pd.Timestamp("2026-11-02 09:00", tz="UTC"),
    ]
    assert table["sent"].tolist() == [1, 2]


def test_files_read_are_shown_relative_to_their_folder_never_as_machine_paths():
    from conftest import DATA_SAMPLES

    events = bex.read_events(DATA_SAMPLES / "csv", progress=False, tz="UTC")
    page = CampaignReport(events).to_html()
    assert str(DATA_SAMPLES) not in page and "/work/" not in page
    files = page[page.index("<summary>Files read") :]
    names = sorted(p.name for p in (DATA_SAMPLES / "csv").glob("*.csv"))
    assert all(f"<td>{name}</td>" in files for name in names)


def test_many_mailings_get_a_table_per_program_where_the_events_carry_program_ids():
    ev = samples.generate_events(n_recipients=120, n_mailings=30, days=20, seed=4)
    programs = ev.loc[ev["programId"].notna(), "programId"].astype(str).unique()
    assert len(programs) >= 2  # the generator gives Programs mailings a programId
    page = CampaignReport(ev, title="Programs").to_html()
    rows = _table_rows(page, "By program (programId)")
    by_program = bex.funnel(ev, by="programId")  # by= takes the column as it is
    assert [r[0] for r in rows] == [
        str(p) if not pd.isna(p) else "Not a program" for p in by_program["programId"]
    ]
    assert [int(r[2].replace(",", "")) for r in rows] == by_program["sent"].tolist()
    mailings = ev.drop_duplicates("messageId")["programId"].astype(object)
    assert sum(int(r[1]) for r in rows) == ev["messageId"].nunique()  # every mailing once
    assert int(rows[-1][1]) == mailings.isna().sum()
    assert "By mailing type" in page  # beside the types
    # events without program ids (a column all empty, or none): no program table
    for without in (ev.assign(programId=None), ev.drop(columns="programId")):
        assert "By program" not in CampaignReport(without, title="None").to_html()
