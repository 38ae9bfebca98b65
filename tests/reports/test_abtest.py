"""compare(): Wilson intervals, the pooled two-proportion test and the verdict, by hand."""

from __future__ import annotations

import math

import pandas as pd
import pytest
from conftest import events_frame

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports.abtest import Comparison, compare, two_proportion_test, wilson_interval

SEND_AT = pd.Timestamp("2026-03-02 10:00:00", tz="UTC")


def _mailing(mid, sent, clicks=0, *, bounces=0, opens=0, bot_clicks=0):
    """Recipients 0..sent-1 get a send; the first ``clicks`` click an hour later, the next
    ``bot_clicks`` click 5 s after the send; the last ``bounces`` bounce; the first
    ``opens`` open."""
    rows = [(str(r), mid, "emailSend", SEND_AT) for r in range(sent)]
    rows += [(str(r), mid, "emailOpen", SEND_AT + pd.Timedelta("30min")) for r in range(opens)]
    rows += [(str(r), mid, "emailClick", SEND_AT + pd.Timedelta("1h")) for r in range(clicks)]
    rows += [
        (str(r), mid, "emailClick", SEND_AT + pd.Timedelta("5s"))
        for r in range(clicks, clicks + bot_clicks)
    ]
    rows += [(str(r), mid, "emailBounce", SEND_AT) for r in range(sent - bounces, sent)]
    return rows


def _events(*mailings):
    rows = [(*row, {"clickUrl": "https://shop.example/a"}) for m in mailings for row in m]
    ev = events_frame(rows, ("RECIPIENT_ID", "messageId", "eventType", "timestamp"))
    return ev.assign(messageName=ev["messageId"].map({"mA": "Spring sale", "mB": "Spring sale v2"}))


def test_wilson_interval_by_hand():
    # p = 0.15, n = 200, z = 1.959964: centre 0.156596, half-width 0.049460
    low, high = wilson_interval(30, 200)
    assert (low, high) == pytest.approx((0.107136, 0.206056), abs=1e-6)
    assert wilson_interval(0, 10)[0] == 0.0
    assert all(math.isnan(v) for v in wilson_interval(0, 0))
    narrower = wilson_interval(30, 200, confidence=0.80)
    assert low < narrower[0] < narrower[1] < high


def test_two_proportion_test_by_hand():
    # 30/200 vs 50/200: pooled 0.2, se = sqrt(0.2*0.8*(2/200)) = 0.04, z = -0.10/0.04
    z, p = two_proportion_test(30, 200, 50, 200)
    assert z == pytest.approx(-2.5)
    assert p == pytest.approx(math.erfc(2.5 / math.sqrt(2)))  # 0.012419
    assert two_proportion_test(0, 100, 0, 100) == (0.0, 1.0)
    assert all(math.isnan(v) for v in two_proportion_test(1, 0, 1, 10))


def test_b_wins_on_click_rate():
    result = compare(_events(_mailing("mA", 200, 30), _mailing("mB", 200, 50)), "mA", "mB")
    assert isinstance(result, Comparison)
    assert result.arms["successes"].tolist() == [30, 50]
    assert result.arms["trials"].tolist() == [200, 200]
    assert result.arms["rate"].tolist() == pytest.approx([0.15, 0.25])
    assert result.arms.loc["B", ["ci_low", "ci_high"]].tolist() == pytest.approx(
        [0.195082, 0.314341], abs=1e-6
    )
    assert result.z == pytest.approx(-2.5)
    assert result.p_value == pytest.approx(0.012419, abs=1e-6)
    assert result.winner == "B"
    assert result.verdict.startswith("B (Spring sale v2 (mB)) wins on click_rate: 15.00% vs 25.00%")
    assert result.difference == pytest.approx(0.10)


def test_no_winner_without_a_significant_difference():
    # 30/200 vs 34/200: z = -0.02/sqrt(0.16*0.84/100) = -0.5455, p = 0.5854
    result = compare(_events(_mailing("mA", 200, 30), _mailing("mB", 200, 34)), "mA", "mB")
    assert result.winner is None
    assert result.p_value == pytest.approx(0.5854, abs=1e-4)
    assert result.verdict.startswith("no significant difference in click_rate")


def test_refuses_a_winner_below_the_minimum_sample():
    small = _events(_mailing("mA", 60, 6), _mailing("mB", 200, 50))
    result = compare(small, "mA", "mB")
    assert result.winner is None
    assert result.verdict == "not enough data: arm A has 60 delivered (< 100)"
    few = compare(_events(_mailing("mA", 200, 5), _mailing("mB", 200, 50)), "mA", "mB")
    assert few.verdict == (
        "not enough data: arm A has 5 successes and 195 failures (each must be >= 10)"
    )
    # with the rule relaxed the same data does name a winner
    relaxed = compare(small, "mA", "mB", min_sample=50, min_successes=5)
    assert relaxed.winner == "B"


def test_lower_is_better_for_bounce_rate():
    # 40/200 vs 15/200 bounced: pooled 0.1375, z = 0.125/0.034437 = 3.63
    ev = _events(_mailing("mA", 200, bounces=40), _mailing("mB", 200, bounces=15))
    result = compare(ev, "mA", "mB", metric="bounce_rate")
    assert result.arms["rate"].tolist() == pytest.approx([0.2, 0.075])
    assert result.z == pytest.approx(0.125 / math.sqrt(0.1375 * 0.8625 * 0.01))
    assert result.winner == "B"


def test_groups_of_mailings_are_pooled():
    ev = _events(_mailing("mA", 100, 10), _mailing("mA2", 100, 20), _mailing("mB", 200, 50))
    result = compare(ev, ["mA", "mA2"], "mB")
    assert result.arms.loc["A", ["successes", "trials"]].tolist() == [30, 200]
    assert result.arms.loc["A", "label"] == "mA, mA2"
    assert result.winner == "B"


def test_click_to_open_and_exclude_reach_the_funnel():
    # B: 50 real clicks + 20 clicks 5 s after the send (a scanner)
    ev = _events(
        _mailing("mA", 200, 50, opens=150), _mailing("mB", 200, 50, bot_clicks=20, opens=150)
    )
    raw = compare(ev, "mA", "mB", metric="click_to_open")
    assert raw.arms["successes"].tolist() == [50, 70]
    assert raw.arms["trials"].tolist() == [150, 150]
    clean = compare(ev, "mA", "mB", metric="click_to_open", exclude="bot_clicks")
    assert clean.arms["successes"].tolist() == [50, 50]
    assert clean.winner is None


def test_click_to_open_when_clickers_outnumber_openers():
    # B: 60 openers (0..59), 70 clickers (0..69): 10 clicked with images off
    ev = _events(_mailing("mA", 200, 50, opens=150), _mailing("mB", 200, 70, opens=60))
    acoustic = compare(ev, "mA", "mB", metric="click_to_open")
    assert acoustic.arms["successes"].tolist() == [50, 70]
    assert acoustic.arms["trials"].tolist() == [150, 60]
    assert acoustic.winner is None
    assert acoustic.verdict.startswith("cannot compare: arm B has 70 successes out of 60")
    # iterable: over openers or clickers, 70 for B
    iterable = compare(ev, "mA", "mB", metric="click_to_open", convention="iterable")
    assert iterable.arms["trials"].tolist() == [150, 70]
    assert iterable.arms.loc["B", "ci_high"] == 1.0
    assert iterable.verdict == "not enough data: arm B has 70 openers_or_clickers (< 100)"


def test_bad_requests_say_what_to_do():
    ev = _events(_mailing("mA", 200, 30), _mailing("mB", 200, 50))
    with pytest.raises(BexConfigError, match="metric='ctr' is not one of"):
        compare(ev, "mA", "mB", metric="ctr")
    with pytest.raises(BexConfigError, match=r"arm B .*matches no events"):
        compare(ev, "mA", "nope")
    with pytest.raises(BexConfigError, match="share values"):
        compare(ev, ["mA", "mB"], "mB")
    with pytest.raises(BexConfigError, match="confidence"):
        compare(ev, "mA", "mB", confidence=95)


def test_shows_well_in_a_notebook():
    result = compare(_events(_mailing("mA", 200, 30), _mailing("mB", 200, 50)), "mA", "mB")
    text = repr(result)
    assert "Comparison of click_rate" in text
    assert "A  Spring sale (mA): 15.00% (30/200), 95% CI 10.71%-20.61%" in text
    assert result.verdict in text
    html = result._repr_html_()
    assert "<table" in html and "Spring sale v2 (mB)" in html and "wins" in html
    frame = result.to_frame()
    assert frame.attrs["winner"] == "B" and list(frame.index) == ["A", "B"]
    frame.loc["A", "rate"] = 0
    assert result.arms.loc["A", "rate"] == pytest.approx(0.15)  # a copy
