"""recipient_engagement, start=/end= on every report, click_urls top=, engagement horizon.

The small frames are worked out by hand in the comments; the generated ones are realistic
months of mailings (``bextoolkit.samples``) checked against plain pandas.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import bextoolkit as bex
from bextoolkit import samples
from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import (
    activity_heatmap,
    bounce_breakdown,
    click_urls,
    client_mix,
    engagement_curve,
    event_counts,
    funnel,
    recipient_engagement,
    time_to_engage,
)

COLUMNS = ["RECIPIENT_ID", "Email", "messageId", "eventType", "timestamp", "bounceType"]


def hand_frame() -> pd.DataFrame:
    """Three mailings a week apart (m1 Jan 1, m2 Jan 8, m3 Jan 15, sends at 10:00 UTC).

    r1 (a@x.org): sent m1 m2 m3; opens m1 twice (Jan 1 11:00, Jan 2 09:00), m2 once (Jan 8
    12:00); clicks m1 (Jan 1 11:05).      -> sent 3, opened 2, clicked 1
    r2 (b@x.org): sent m1 m2; m2 hard bounce (Jan 8 10:01).  -> sent 2, hard_bounced
    r3 (c@x.org): sent m1; a machine open of m1 (Jan 1 10:00:30); opts out of m1 (Jan 3).
    d@x.org, no id: opens m3 (Jan 15 13:00), its send not in the frame.
    one event with neither id nor e-mail: unattributed.
    """
    rows = [
        ("r1", "a@x.org", "m1", "emailSend", "2026-01-01 10:00", None),
        ("r1", "a@x.org", "m2", "emailSend", "2026-01-08 10:00", None),
        ("r1", "A@x.org ", "m3", "emailSend", "2026-01-15 10:00", None),
        ("r1", "a@x.org", "m1", "emailOpen", "2026-01-01 11:00", None),
        ("r1", "a@x.org", "m1", "emailClick", "2026-01-01 11:05", None),
        ("r1", "a@x.org", "m1", "emailOpen", "2026-01-02 09:00", None),
        ("r1", "a@x.org", "m2", "emailOpen", "2026-01-08 12:00", None),
        ("r2", "b@x.org", "m1", "emailSend", "2026-01-01 10:00", None),
        ("r2", "b@x.org", "m2", "emailSend", "2026-01-08 10:00", None),
        ("r2", "b@x.org", "m2", "emailBounce", "2026-01-08 10:01", "HardBounce"),
        ("r3", "c@x.org", "m1", "emailSend", "2026-01-01 10:00", None),
        ("r3", "c@x.org", "m1", "emailOpen", "2026-01-01 10:00:30", None),
        ("r3", "c@x.org", "m1", "emailOptOut", "2026-01-03 08:00", None),
        (None, "d@x.org", "m3", "emailOpen", "2026-01-15 13:00", None),
        (None, None, "m3", "emailOpen", "2026-01-15 14:00", None),
    ]
    ev = pd.DataFrame(rows, columns=COLUMNS)
    ev["timestamp"] = pd.to_datetime(ev["timestamp"], utc=True, format="ISO8601")
    ev["machine_open"] = [False] * 11 + [True] + [False] * 3
    for column in ("messageId", "eventType", "bounceType"):
        ev[column] = ev[column].astype("category")
    return ev.astype({"RECIPIENT_ID": "string", "Email": "string"})


# --- recipient_engagement ------------------------------------------------------------------
def test_recipient_engagement_by_hand():
    out = recipient_engagement(hand_frame())
    assert list(out.columns) == list(bex.reports.RECIPIENT_COLUMNS)
    assert out["RECIPIENT_ID"].tolist()[:3] == ["r1", "r2", "r3"]
    assert out["RECIPIENT_ID"].isna().tolist() == [False, False, False, True]
    assert out["Email"].tolist() == ["a@x.org", "b@x.org", "c@x.org", "d@x.org"]
    assert out["mailings_sent"].tolist() == [3, 2, 1, 0]
    assert out["mailings_opened"].tolist() == [2, 0, 1, 0]  # d's open has no send: apart
    assert out.attrs["without_send"]["opens"] == 1
    assert out["mailings_clicked"].tolist() == [1, 0, 0, 0]
    assert out["first_sent"].iloc[0] == pd.Timestamp("2026-01-01 10:00", tz="UTC")
    assert pd.isna(out["first_sent"].iloc[3])
    assert out["last_open"].tolist()[:1] == [pd.Timestamp("2026-01-08 12:00", tz="UTC")]
    assert out["last_click"].iloc[0] == pd.Timestamp("2026-01-01 11:05", tz="UTC")
    assert out["hard_bounced"].tolist() == [False, True, False, False]
    assert out["opted_out"].tolist() == [False, False, True, False]
    assert out.attrs["unattributed"] == 1


def test_recipient_engagement_excludes_machine_opens_and_windows():
    ev = hand_frame()
    clean = recipient_engagement(ev, exclude="machine_opens")
    assert clean["mailings_opened"].tolist() == [2, 0, 0, 0]
    assert pd.isna(clean["last_open"].iloc[2])
    assert clean.attrs["excluded"] == {"machine_opens": 1}
    # the second week only: r1's m2 send and open, r2's m2 send and bounce
    week2 = recipient_engagement(ev, start="2026-01-08", end="2026-01-15")
    assert week2["RECIPIENT_ID"].tolist() == ["r1", "r2"]
    assert week2["mailings_sent"].tolist() == [1, 1]
    assert week2["mailings_opened"].tolist() == [1, 0]
    assert week2["hard_bounced"].tolist() == [False, True]
    assert "left out" in week2.attrs["window"]


def test_recipient_engagement_is_exported_and_chains():
    ev = hand_frame()
    pd.testing.assert_frame_equal(ev.bex.recipient_engagement(), bex.recipient_engagement(ev))
    assert "recipient_engagement" in bex.__all__ and "recipient_engagement" in bex.reports.__all__


def test_recipient_engagement_agrees_with_plain_pandas_on_a_month():
    ev = samples.generate_events(n_recipients=300, n_mailings=30, days=30, seed=11)
    out = recipient_engagement(ev).set_index("RECIPIENT_ID")
    kind = ev["eventType"].astype(str)
    for code, column in (
        ("emailSend", "mailings_sent"),
        ("emailOpen", "mailings_opened"),
        ("emailClick", "mailings_clicked"),
    ):
        want = ev[kind == code].groupby("RECIPIENT_ID", observed=True)["messageId"].nunique()
        got = out[column]
        assert got[got > 0].sort_index().to_dict() == want[want > 0].sort_index().to_dict()
    last = ev[kind == "emailOpen"].groupby("RECIPIENT_ID", observed=True)["timestamp"].max()
    assert (out.loc[last.index, "last_open"] == last).all()
    # a CRM CSV says "9 mailings" where the person got 9, not a 0/1 flag
    assert out["mailings_sent"].max() > 1


# --- start= / end= ------------------------------------------------------------------------
def test_funnel_window_keeps_mailings_sent_in_it_with_their_later_events():
    ev = hand_frame()
    # m1 sent Jan 1: its opens on Jan 2 and opt-out on Jan 3 count although after `end`
    first_day = funnel(ev, start="2026-01-01", end="2026-01-01 12:00")
    assert first_day["messageId"].astype(str).tolist() == ["m1"]
    row = first_day.iloc[0]
    assert (row.sent, row.unique_opens, row.gross_opens, row.opt_outs) == (3, 2, 3, 1)
    assert "sends sent from" in first_day.attrs["window"]
    # m3's send is Jan 15; d@x.org's open of m3 has no send in the frame: counted apart
    later = funnel(ev, start="2026-01-10")
    assert later["messageId"].astype(str).tolist() == ["m3"]
    assert later["unique_opens"].tolist() == [0]
    assert later["gross_opens"].tolist() == [0]
    assert later.attrs["without_send"]["pairs"] == 1
    assert later.attrs["without_send"]["opens"] == 1  # the other open has no recipient


def test_every_report_takes_start_and_end():
    ev = hand_frame()
    ev["userAgent"] = "Mozilla/5.0 (iPhone)"
    ev["clickUrl"] = pd.Series([None] * 4 + ["https://a.example/"] + [None] * 10, dtype="string")
    window = {"start": "2026-01-08", "end": "2026-01-09"}  # m2's send, bounce and open
    counts = event_counts(ev, **window)
    assert dict(zip(counts["eventType"], counts["events"], strict=True)) == {
        "emailSend": 2,
        "emailOpen": 1,
        "emailBounce": 1,
    }
    assert bounce_breakdown(ev, **window)["rate"].tolist() == [0.5]
    assert click_urls(ev, **window).empty  # the one click was on Jan 1
    assert len(click_urls(ev, start="2026-01-01", end="2026-01-02")) == 1
    assert time_to_engage(ev, **window)["recipient"].tolist() == ["r1"]  # r2 bounced
    assert int(activity_heatmap(ev, **window).to_numpy().sum()) == 1
    assert client_mix(ev, **window)["events"].tolist() == [1]
    assert engagement_curve(ev, **window)["share"].iloc[-1] == 1.0
    # a naive bound is read on the timestamps' own clock: Berlin is UTC+1 in January
    berlin = ev.assign(timestamp=ev["timestamp"].dt.tz_convert("Europe/Berlin"))
    local = event_counts(berlin, start="2026-01-08 11:00", end="2026-01-08 11:30")
    assert local["events"].tolist() == [2, 1]  # the two sends at 10:00 UTC, the bounce
    with pytest.raises(BexConfigError, match="start="):
        funnel(ev, start="not a date")


# --- click_urls: sorted by unique clickers, top= --------------------------------------------
def test_click_urls_sorted_by_unique_clickers_with_top():
    # link a: r1 clicks 3 times (3 gross, 1 unique); link b: r1 and r2 once (2 gross, 2 unique)
    rows = [("r1", "emailSend"), ("r2", "emailSend")]
    rows += [("r1", "a")] * 3 + [("r1", "b"), ("r2", "b")]
    ev = pd.DataFrame(
        {
            "RECIPIENT_ID": [r for r, _ in rows],
            "eventType": ["emailSend" if k == "emailSend" else "emailClick" for _, k in rows],
            "clickUrl": [None if k == "emailSend" else f"https://{k}.example/" for _, k in rows],
        }
    )
    urls = click_urls(ev)
    assert urls["clickUrl"].tolist() == ["https://b.example/", "https://a.example/"]
    assert urls["unique_clicks"].tolist() == [2, 1]
    one = click_urls(ev, top=1)
    assert one["clickUrl"].tolist() == ["https://b.example/"] and one.attrs["links"] == 2
    with pytest.raises(BexConfigError, match="top="):
        click_urls(ev, top=0)


# --- engagement_curve on a month of mailings ------------------------------------------------
@pytest.fixture(scope="module")
def month() -> pd.DataFrame:
    """About 50 mailings over 34 days, as in issue 14."""
    return samples.generate_events(n_recipients=400, n_mailings=50, days=34, seed=3)


def test_engagement_curve_until_shorter_than_the_data_does_not_crash(month):
    # issue 14: ValueError: cannot reshape array of size 129 into shape (1,74)
    curve = engagement_curve(month, until="72h")
    assert len(curve) == 73 and curve["elapsed"].iloc[-1] == pd.Timedelta("72h")
    delays = time_to_engage(month)["time_to_engage"]
    for hours in (0, 1, 24, 72):
        want = int((delays <= pd.Timedelta(hours=hours)).sum())
        assert curve["engaged"].iloc[hours] == want
    assert (curve["delivered"] == len(delays)).all()
    per_mailing = engagement_curve(month, by="messageId", until="72h")
    assert per_mailing["messageId"].nunique() == month["messageId"].nunique()


def test_engagement_curve_stops_where_the_data_stops():
    ev = hand_frame()
    m1 = ev[ev["messageId"] == "m1"]
    # m1's last event is the opt-out Jan 3 08:00: 46 h after the 10:00 sends
    curve = engagement_curve(m1, until="72h")
    assert curve["elapsed"].iloc[-1] == pd.Timedelta("46h")
    assert curve.attrs["horizon"] == pd.Timedelta("46h")
    # r1 and r3 delivered (r2's bounce is m2's), both watched the whole 46 h
    assert curve["delivered"].iloc[0] == 3 and curve["observed"].tolist() == [3] * 47
    # two sends 24 h apart, data ends 30 h after the first: the later one is watched 6 h
    two = pd.DataFrame(
        {
            "RECIPIENT_ID": ["1", "2", "2"],
            "eventType": ["emailSend", "emailSend", "emailOpen"],
            "timestamp": pd.to_datetime(
                ["2026-01-01 00:00", "2026-01-02 00:00", "2026-01-02 06:00"], utc=True
            ),
        }
    )
    curve = engagement_curve(two, step="6h", until="72h")
    assert curve["elapsed"].dt.total_seconds().div(3600).tolist() == [0, 6, 12, 18, 24, 30]
    assert curve["observed"].tolist() == [2, 2, 1, 1, 1, 1]
    assert curve["share"].tolist() == [0, 0.5, 0.5, 0.5, 0.5, 0.5]


# --- 1 to 500 mailings, a day to a year ------------------------------------------------------
@pytest.mark.parametrize(
    ("n_mailings", "days", "n_recipients"),
    [(1, 1, 200), (4, 1, 300), (50, 34, 300), (200, 120, 150), (500, 365, 60)],
)
def test_every_report_on_many_mailings(n_mailings, days, n_recipients):
    ev = samples.generate_events(
        n_recipients=n_recipients, n_mailings=n_mailings, days=days, seed=n_mailings
    )
    f = funnel(ev)
    assert len(f) == ev["messageId"].nunique()
    assert (
        f["sent"].sum()
        == ev[ev["eventType"] == "emailSend"]
        .groupby("messageId", observed=True)["RECIPIENT_ID"]
        .nunique()
        .sum()
    )
    assert len(event_counts(ev, by="week")) > 0
    assert bounce_breakdown(ev, by=["day", "bounceType"])["bounces"].sum() == int(
        (ev["eventType"] == "emailBounce").sum()
    )
    assert click_urls(ev, top=5).groupby("clickUrl", dropna=False).size().max() >= 1
    assert engagement_curve(ev, until="72h")["share"].between(0, 1).all()
    per_mailing = engagement_curve(ev, by="messageId", until="72h")
    assert per_mailing["messageId"].nunique() == int((f["delivered"] > 0).sum())
    people = recipient_engagement(ev)
    assert people["mailings_sent"].sum() == f["sent"].sum()


def test_events_before_the_send_and_mailings_without_opens():
    # m1: r1's open is stamped 5 minutes before its send (clock skew); m2: nobody opens
    ev = pd.DataFrame(
        {
            "RECIPIENT_ID": ["r1", "r1", "r2", "r1", "r2"],
            "messageId": ["m1", "m1", "m1", "m2", "m2"],
            "eventType": ["emailSend", "emailOpen", "emailSend", "emailSend", "emailSend"],
            "timestamp": pd.to_datetime(
                ["2026-01-01 10:00", "2026-01-01 09:55", "2026-01-01 10:00"]
                + ["2026-01-05 10:00"] * 2,
                utc=True,
            ),
        }
    )
    f = funnel(ev, diagnostics=True)
    assert f["unique_opens"].tolist() == [1, 0] and f["events_before_send"].tolist() == [1, 0]
    assert f["open_rate"].tolist() == [0.5, 0.0]
    curve = engagement_curve(ev, by="messageId", until="24h")
    assert curve.groupby("messageId")["engaged"].first().tolist() == [1, 0]  # at 0: early
    assert np.isnan(funnel(ev.iloc[:0])["open_rate"]).all()
