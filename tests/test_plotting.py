"""The plots: assertions on the Axes and the plotted data (never on images).

One mailing worked out by hand (Monday 2026-03-02, UTC, ``Spring sale``):
10 sends at 10:00 (r0..r9); r8 bounces hard and r9 soft at 10:05, so 8 are delivered;
opens r0 11:10, r1 11:20, r2 11:30, r0 11:40, r3 11:50 (4 unique, 5 gross: open rate 50 %);
clicks r0 on A 12:10, r1 on B 12:20, r0 on B 12:30 (2 unique: click rate 25 %;
link B 2 unique = 25 % of delivered, link A 1 = 12.5 %).
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.axes import Axes

from bextoolkit.exceptions import BexConfigError
from bextoolkit.plotting import (
    plot_bounces,
    plot_click_urls,
    plot_engagement,
    plot_funnel,
    plot_heatmap,
    plot_timeline,
)
from bextoolkit.reports import (
    activity_heatmap,
    bounce_breakdown,
    click_urls,
    engagement_curve,
    event_counts,
    funnel,
)

A, B = "https://shop.example/a?utm_source=bex", "https://shop.example/b"


def _rows(mid, name):
    rows = [(f"r{i}", mid, name, "emailSend", "10:00", None, None, None) for i in range(10)]
    rows += [
        ("r8", mid, name, "emailBounce", "10:05", "Hard", None, None),
        ("r9", mid, name, "emailBounce", "10:05", "Soft", None, None),
        ("r0", mid, name, "emailOpen", "11:10", None, None, None),
        ("r1", mid, name, "emailOpen", "11:20", None, None, None),
        ("r2", mid, name, "emailOpen", "11:30", None, None, None),
        ("r0", mid, name, "emailOpen", "11:40", None, None, None),
        ("r3", mid, name, "emailOpen", "11:50", None, None, None),
        ("r0", mid, name, "emailClick", "12:10", None, A, "Shop A"),
        ("r1", mid, name, "emailClick", "12:20", None, B, "Shop B"),
        ("r0", mid, name, "emailClick", "12:30", None, B, "Shop B"),
    ]
    return rows


def _frame(rows):
    columns = ["RECIPIENT_ID", "messageId", "messageName", "eventType", "timestamp"]
    columns += ["bounceType", "clickUrl", "urlDescription"]
    ev = pd.DataFrame(rows, columns=columns)
    ev["timestamp"] = pd.to_datetime("2026-03-02 " + ev["timestamp"], utc=True)
    for col in (
        "messageId",
        "messageName",
        "eventType",
        "bounceType",
        "clickUrl",
        "urlDescription",
    ):
        ev[col] = ev[col].astype("category")
    ev["RECIPIENT_ID"] = ev["RECIPIENT_ID"].astype("string")
    return ev


@pytest.fixture
def events():
    return _frame(_rows("m1", "Spring sale"))


@pytest.fixture
def two_mailings():
    second = [
        (f"r{i}", "m2", "Summer sale", "emailSend", "09:00", None, None, None) for i in range(5)
    ]
    second.append(("r0", "m2", "Summer sale", "emailOpen", "09:30", None, None, None))
    return _frame(_rows("m1", "Spring sale") + second)


def _bar_widths(ax: Axes, i: int = 0) -> list[float]:
    return [patch.get_width() for patch in ax.containers[i]]


def _bar_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.texts]


def _ticks(ax: Axes, axis: str = "y") -> list[str]:
    labels = ax.get_yticklabels() if axis == "y" else ax.get_xticklabels()
    return [t.get_text() for t in labels]


# --- plot_funnel --------------------------------------------------------------------------
def test_funnel_bars_are_the_report_numbers(events):
    ax = plot_funnel(events)
    assert _bar_widths(ax) == [10, 8, 4, 2]
    assert _bar_texts(ax) == [
        "10",
        "8 (80.0% of sent)",
        "4 (50.0% of delivered)",
        "2 (25.0% of delivered)",
    ]
    assert _ticks(ax) == ["Sent", "Delivered", "Unique opens", "Unique clicks"]
    assert ax.get_title() == "Funnel: Spring sale"
    assert ax.get_xlabel() == "Recipients" and ax.get_ylabel() == "Funnel stage"
    assert ax.yaxis_inverted()  # sent on top


def test_funnel_from_the_report_equals_funnel_from_events(events):
    from_report = plot_funnel(funnel(events))
    from_events = plot_funnel(events)
    assert _bar_widths(from_report) == _bar_widths(from_events)
    assert _bar_texts(from_report) == _bar_texts(from_events)


def test_funnel_of_several_mailings_and_one_picked(two_mailings):
    ax = plot_funnel(two_mailings)
    assert len(ax.containers) == 2
    assert _bar_widths(ax, 1) == [5, 5, 1, 0]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["Spring sale", "Summer sale"]
    assert ax.get_title() == "Funnel by mailing"
    picked = plot_funnel(two_mailings, mailing="m2", title="Summer")
    assert _bar_widths(picked) == [5, 5, 1, 0] and picked.get_title() == "Summer"
    assert _bar_texts(picked)[2] == "1 (20.0% of delivered)"


def test_funnel_passes_options_to_the_funnel(events):
    ax = plot_funnel(events, stages=["sent", "opt_outs"], by=None)
    assert _bar_widths(ax) == [10, 0]
    with pytest.raises(BexConfigError, match="apply only to the events"):
        plot_funnel(funnel(events), exclude=True)
    with pytest.raises(BexConfigError, match="no row has messageId"):
        plot_funnel(events, mailing="nope")


# --- where the plot goes ------------------------------------------------------------------
def test_draws_on_the_given_axes_and_makes_no_figure(events):
    _, (left, right) = plt.subplots(1, 2)
    before = plt.get_fignums()
    assert plot_funnel(events, ax=right) is right
    assert plot_bounces(events, ax=left) is left
    assert plt.get_fignums() == before


def test_without_ax_never_draws_on_the_current_axes(events):
    _, current = plt.subplots()
    plots = (
        plot_funnel,
        plot_bounces,
        plot_click_urls,
        plot_engagement,
        plot_heatmap,
        plot_timeline,
    )
    for plot in plots:
        ax = plot(events)
        assert ax is not current and ax.figure is not current.figure
    assert not current.has_data() and not current.containers and current.get_title() == ""


def test_a_frame_that_is_neither_is_refused():
    with pytest.raises(BexConfigError, match="neither an events frame"):
        plot_funnel(pd.DataFrame({"x": [1]}))


# --- plot_bounces -------------------------------------------------------------------------
def test_bounces_bars_and_shares(events):
    ax = plot_bounces(events)
    assert _ticks(ax) == ["hard", "soft"]
    assert _bar_widths(ax) == [1, 1]
    assert _bar_texts(ax) == ["1 (50.0%)", "1 (50.0%)"]
    assert ax.get_title() == "Bounces by bounceType: Spring sale"
    assert ax.get_xlabel() == "Bounce events" and ax.get_ylabel() == "bounceType"
    report = plot_bounces(bounce_breakdown(events))
    assert _bar_widths(report) == [1, 1] and report.get_title() == "Bounces by bounceType"


def test_bounces_top_keeps_the_largest(two_mailings):
    extra = two_mailings.copy()
    extra = pd.concat(
        [extra, _frame([("r7", "m1", "Spring sale", "emailBounce", "10:06", "Hard", None, None)])]
    )
    ax = plot_bounces(extra, top=1)
    assert _ticks(ax) == ["hard"] and _bar_widths(ax) == [2]
    assert _bar_texts(ax) == ["2 (66.7%)"]


# --- plot_click_urls ----------------------------------------------------------------------
def test_click_urls_bars_and_rates(events):
    ax = plot_click_urls(events)
    assert _ticks(ax) == ["Shop B", "Shop A"]
    assert _bar_widths(ax) == [2, 1]
    assert _bar_texts(ax) == ["2 (25.0%)", "1 (12.5%)"]
    assert ax.get_title() == "Top links: Spring sale"
    assert ax.get_xlabel() == "Unique clicks (% of delivered)"
    by_url = plot_click_urls(click_urls(events), label="clickUrl", top=1)
    assert _ticks(by_url) == ["https://shop.example/b"] and _bar_widths(by_url) == [2]


# --- plot_timeline ------------------------------------------------------------------------
def test_timeline_lines_are_event_counts_per_hour(events):
    ax = plot_timeline(events)
    lines = {line.get_label(): line for line in ax.lines}
    assert list(lines) == ["emailSend", "emailOpen", "emailClick", "emailBounce"]
    assert lines["emailSend"].get_ydata().tolist() == [10, 0, 0]
    assert lines["emailOpen"].get_ydata().tolist() == [0, 5, 0]
    assert lines["emailClick"].get_ydata().tolist() == [0, 0, 3]
    assert lines["emailBounce"].get_ydata().tolist() == [2, 0, 0]
    hours = pd.DatetimeIndex(lines["emailOpen"].get_xdata())
    assert [h.hour for h in hours] == [10, 11, 12]
    assert ax.get_ylabel() == "Events per hour" and ax.get_xlabel() == "Time (UTC)"
    assert ax.get_title() == "Events per hour: Spring sale"


def test_timeline_from_event_counts_and_chosen_types(events):
    ax = plot_timeline(event_counts(events, by="hour"), event_types=["emailOpen"])
    assert [line.get_label() for line in ax.lines] == ["emailOpen"]
    assert ax.lines[0].get_ydata().tolist() == [0, 5, 0]
    days = plot_timeline(events, freq="day")
    assert days.lines[0].get_ydata().tolist() == [10]
    with pytest.raises(BexConfigError, match="freq="):
        plot_timeline(events, freq="minute")


# --- plot_engagement ----------------------------------------------------------------------
def test_engagement_curves_are_shares_of_delivered(events):
    ax = plot_engagement(events)
    opened, clicked = ax.lines
    assert (opened.get_label(), clicked.get_label()) == ("opened", "clicked")
    assert opened.get_xdata().tolist() == [0, 1, 2]
    assert opened.get_ydata().tolist() == [0, 0, 0.5]  # 4 of 8 delivered within 2 h
    assert clicked.get_xdata().tolist() == [0, 1, 2, 3]
    assert clicked.get_ydata().tolist() == [0, 0, 0, 0.25]
    assert ax.get_title() == "Engagement after the send: Spring sale"
    assert ax.get_xlabel() == "Hours since the recipient's send"
    assert ax.yaxis.get_major_formatter()(0.5, 0) == "50%"


def test_engagement_from_a_curve_per_mailing(two_mailings):
    curve = engagement_curve(two_mailings, by="messageId", step="30min")
    ax = plot_engagement(curve)
    assert [line.get_label() for line in ax.lines] == ["m1", "m2"]
    m2 = curve[curve["messageId"] == "m2"]
    assert ax.lines[1].get_ydata().tolist() == m2["share"].tolist()
    assert ax.lines[1].get_xdata().tolist()[:2] == [0, 0.5]
    assert ax.get_title() == "Engagement after the send"


# --- plot_heatmap -------------------------------------------------------------------------
def test_heatmap_cells_are_the_table(events):
    ax = plot_heatmap(events)
    values = np.asarray(ax.images[0].get_array())
    assert values.shape == (7, 24)
    assert values[0, 11] == 5 and values[0, 12] == 3 and values.sum() == 8  # Monday
    assert _ticks(ax)[0] == "Monday" and _ticks(ax, "x")[:3] == ["0", "1", "2"]
    assert ax.get_xlabel() == "Hour of day (UTC)" and ax.get_ylabel() == "Weekday"
    assert ax.get_title() == "Activity by weekday and hour: Spring sale"
    shares = np.asarray(plot_heatmap(events, normalize=True).images[0].get_array())
    assert shares[0, 11] == pytest.approx(5 / 8)


def test_heatmap_from_the_report_in_another_time_zone(events):
    table = activity_heatmap(events, tz="Asia/Tokyo", event_types=("emailClick",))
    ax = plot_heatmap(table, tz="Asia/Tokyo")
    values = np.asarray(ax.images[0].get_array())
    assert values[0, 21] == 3  # 12:10-12:30 UTC is 21:xx in Tokyo
    assert ax.get_xlabel() == "Hour of day (Asia/Tokyo)"
