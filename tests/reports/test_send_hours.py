"""Send hours: rates by hour of send with Wilson intervals, and each person's usual hour."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import events_frame

import bextoolkit as bex
from bextoolkit.reports import engagement_hours
from bextoolkit.samples import generate_campaign

MONDAY = pd.Timestamp("2026-03-02", tz="UTC")


def two_hours(clicks_at_9: int, clicks_at_15: int, n: int = 100) -> pd.DataFrame:
    rows = []
    for i in range(n):
        rows.append(("m1", f"a{i}", "emailSend", pd.Timedelta(hours=9)))
        rows.append(("m2", f"b{i}", "emailSend", pd.Timedelta(hours=15)))
    for i in range(clicks_at_9):
        rows.append(("m1", f"a{i}", "emailClick", pd.Timedelta(hours=20), {"clickUrl": "u"}))
    for i in range(clicks_at_15):
        rows.append(("m2", f"b{i}", "emailClick", pd.Timedelta(hours=20), {"clickUrl": "u"}))
    return events_frame(rows, start=MONDAY)


def test_the_best_hour_only_where_its_interval_clears_the_others():
    clear = bex.send_hours(two_hours(40, 10), exclude=None)
    assert clear["hour"].tolist() == [9, 15]
    assert clear["click_rate"].tolist() == [0.4, 0.1]
    assert (clear["click_rate_low"] < clear["click_rate"]).all()
    assert (clear["click_rate"] < clear["click_rate_high"]).all()
    assert clear["best"].tolist() == [True, False] and clear.attrs["best_hour"] == 9
    close = bex.send_hours(two_hours(14, 10), exclude=None)
    assert not close["best"].any() and close.attrs["best_hour"] is None
    assert "hypothesis" in close.attrs["note"]


def test_hours_follow_the_clock_asked_for():
    berlin = bex.send_hours(two_hours(40, 10), tz="Europe/Berlin", exclude=None)
    assert berlin["hour"].tolist() == [10, 16]  # UTC+1 in March


@pytest.fixture(scope="module")
def account():
    return generate_campaign(n_recipients=800, n_mailings=40, days=90, seed=8, realistic=True)


def test_send_hours_add_up_to_the_sends(account):
    ev = account.events
    hours = bex.send_hours(ev)
    sends = bex.sends(ev, exclude=True, flags=False)
    assert hours["sends"].sum() == len(sends)
    delivered = sends[sends["bounced"] == "none"]
    by_hour = delivered.groupby(delivered["sent_at"].dt.hour)
    assert hours.set_index("hour")["delivered"].to_dict() == by_hour.size().to_dict()
    want = by_hour["clicked"].mean()
    pd.testing.assert_series_equal(
        hours.set_index("hour")["click_rate"], want.rename("click_rate"), check_names=False,
        check_index_type=False,
    )  # fmt: skip


def test_engagement_hours_rest_on_genuine_events(account):
    ev = account.events
    people = engagement_hours(ev)
    assert people["RECIPIENT_ID"].is_unique
    assert ((people["hour"] >= 0) & (people["hour"] < 24)).all()
    assert ((people["share"] > 0) & (people["share"] <= 1)).all()
    sends = bex.sends(ev, exclude=True)
    assert people["events"].sum() == sends["opens"].sum() + sends["clicks"].sum()
