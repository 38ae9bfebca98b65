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
from matplotlib.colors import to_hex
from matplotlib.figure import Figure
from matplotlib.text import Text

from bextoolkit import samples
from bextoolkit.exceptions import BexConfigError
from bextoolkit.plotting import (
    GREY,
    PALETTE,
    plot_bounces,
    plot_click_urls,
    plot_deliverability,
    plot_engagement,
    plot_funnel,
    plot_heatmap,
    plot_timeline,
    plot_trend,
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


def drawn_texts(fig: Figure) -> list[Text]:
    """Every piece of text the figure draws: titles, labels, tick labels, legends, notes."""
    fig.canvas.draw()
    texts: list[Text] = []
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            if not axis.get_visible():  # a twin's shared axis is not drawn
                continue
            for tick in axis._update_ticks():  # only the ticks inside the view are drawn
                texts += [t for t in (tick.label1, tick.label2) if t.get_visible()]
            texts += [axis.label, axis.get_offset_text()]
        texts += [ax.title, ax._left_title, ax._right_title, *ax.texts]
        legend = ax.get_legend()
        if legend is not None:
            texts += [legend.get_title(), *legend.get_texts()]
    texts += list(fig.texts)
    return [t for t in texts if t.get_visible() and t.get_text().strip()]


def overlapping_texts(fig: Figure) -> list[tuple[str, str]]:
    """Pairs of drawn texts whose boxes overlap (by more than a pixel), by their text."""
    renderer = fig.canvas.get_renderer()
    boxes = [
        (t.get_text(), t.get_window_extent(renderer).expanded(1, 1).padded(-1))
        for t in drawn_texts(fig)
    ]
    clashes = []
    for i, (text_a, a) in enumerate(boxes):
        for text_b, b in boxes[i + 1 :]:
            if a.overlaps(b):
                clashes.append((text_a, text_b))
    return clashes


def texts_outside(fig: Figure) -> list[str]:
    """The drawn texts that stick out of the figure (a plain savefig would cut them)."""
    renderer = fig.canvas.get_renderer()
    outside = []
    for text in drawn_texts(fig):
        box = text.get_window_extent(renderer)
        if box.x0 < -1 or box.y0 < -1 or box.x1 > fig.bbox.x1 + 1 or box.y1 > fig.bbox.y1 + 1:
            outside.append(text.get_text())
    return outside


def legend_inside_figure(ax: Axes) -> bool:
    """Whether the legend is drawn wholly inside the figure (a plain savefig keeps it)."""
    fig = ax.figure
    fig.canvas.draw()
    box = ax.get_legend().get_window_extent(fig.canvas.get_renderer())
    return box.x0 >= 0 and box.y0 >= 0 and box.x1 <= fig.bbox.x1 and box.y1 <= fig.bbox.y1


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
    assert ax.get_xlabel() == "Sends" and ax.get_ylabel() == "Funnel stage"
    assert ax.yaxis_inverted()  # sent on top


def test_funnel_from_the_report_equals_funnel_from_events(events):
    from_report = plot_funnel(funnel(events))
    from_events = plot_funnel(events)
    assert _bar_widths(from_report) == _bar_widths(from_events)
    assert _bar_texts(from_report) == _bar_texts(from_events)


def test_funnel_of_several_mailings_and_one_picked(two_mailings):
    ax = plot_funnel(two_mailings)
    # one container per stage, one bar per mailing, nested: sent, delivered, opens, clicks
    assert len(ax.containers) == 4
    assert [_bar_widths(ax, i) for i in range(4)] == [[10, 5], [8, 5], [4, 1], [2, 0]]
    assert _ticks(ax) == ["Spring sale", "Summer sale"]
    legend = [t.get_text() for t in ax.get_legend().get_texts()]
    assert legend == ["Sent", "Delivered", "Unique opens", "Unique clicks"]
    assert _bar_texts(ax) == ["50.0% open · 25.0% click", "20.0% open · 0.0% click"]
    assert ax.get_title() == "Funnel by mailing"
    colours = {to_hex(ax.containers[i][0].get_facecolor()) for i in range(4)}
    assert colours == {c.lower() for c in PALETTE[:4]}
    picked = plot_funnel(two_mailings, mailing="m2", title="Summer")
    assert _bar_widths(picked) == [5, 5, 1, 0] and picked.get_title() == "Summer"
    assert _bar_texts(picked)[2] == "1 (20.0% of delivered)"


def test_funnel_of_many_mailings_is_bounded_and_says_what_it_cut():
    ev = samples.generate_events(n_recipients=120, n_mailings=50, days=34, seed=5)
    table = funnel(ev)
    ax = plot_funnel(table)
    assert len(ax.get_yticklabels()) == 20
    assert ax.get_title() == "Funnel by mailing\n20 of 50 mailings shown (largest by sends)"
    largest = table.nlargest(20, "sent", keep="first")
    assert sorted(_bar_widths(ax, 0)) == sorted(largest["sent"].astype(float))
    assert ax.figure.get_figheight() <= 9
    assert overlapping_texts(ax.figure) == []
    assert legend_inside_figure(ax)


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
    assert ax.get_title() == "Bounces by bounce type: Spring sale"  # words, not a column
    assert ax.get_xlabel() == "Bounced sends" and ax.get_ylabel() == "Bounce type"
    report = plot_bounces(bounce_breakdown(events))
    assert _bar_widths(report) == [1, 1] and report.get_title() == "Bounces by bounce type"


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


# --- many mailings: what a plot cuts it says, stacked bounces over time, names, fit ---------
@pytest.fixture(scope="module")
def month() -> pd.DataFrame:
    return samples.generate_events(n_recipients=300, n_mailings=50, days=34, seed=3)


def test_bounces_over_time_are_stacked_and_drop_nothing(month):
    table = bounce_breakdown(month, by=["day", "bounceType"])
    ax = plot_bounces(table)
    heights = sum(np.array([p.get_height() for p in c]) for c in ax.containers)
    assert heights.sum() == table["bounces"].sum()  # every bounce drawn
    days = pd.date_range(table["day"].min(), table["day"].max(), freq="D")
    assert all(len(c) == len(days) for c in ax.containers)  # every day, in time order
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["hard", "soft"]
    assert ax.get_title() == "Bounces per day of send" and ax.get_ylabel() == "Bounced sends"
    # labels are dates, not full timestamps
    assert not any("00:00:00" in t.get_text() for t in ax.get_xticklabels())
    assert overlapping_texts(ax.figure) == []


def test_bounces_say_how_many_groups_they_cut(month):
    by_domain = bounce_breakdown(month, by="domain")
    ax = plot_bounces(by_domain, top=3)
    assert len(ax.get_yticklabels()) == 3
    assert ax.get_title().endswith(f"\n3 of {len(by_domain)} groups shown (most bounces)")


def test_engagement_names_mailings_fits_its_axis_and_shades_the_unobserved(month):
    first_two = month[month["messageId"].isin(month["messageId"].unique()[:2])]
    ax = plot_engagement(first_two, by="messageId", events=["emailOpen"], until="72h")
    names = first_two.drop_duplicates("messageId")["messageName"].astype(str).tolist()
    ids = first_two.drop_duplicates("messageId")["messageId"].astype(str).tolist()
    labels = [line.get_label() for line in ax.lines]
    assert sorted(labels) == sorted(names)
    assert len({to_hex(line.get_color()) for line in ax.lines}) == 2
    top = max(np.nanmax(line.get_ydata()) for line in ax.lines)
    assert top < 0.9 and ax.get_ylim()[1] == pytest.approx(top * 1.15)
    assert not set(labels) & set(ids)
    # all mailings, data stopping 34 days in: 72 h is watched for nearly everyone
    whole = plot_engagement(month, until="72h")
    assert whole.get_xlim()[1] == 72 and not whole.patches
    # one day of data: the curve stops where the data stops, the late sends shaded
    day = month[month["timestamp"] < month["timestamp"].min() + pd.Timedelta("1D")]
    short = plot_engagement(day, until="72h")
    assert short.get_xlim()[1] <= 24
    assert [p.get_label() for p in short.patches] == [
        "over 10% of recipients not watched this long yet"
    ]
    many = plot_engagement(month, by="messageId", events=["emailOpen"], until="24h")
    assert len(many.lines) == len(PALETTE)
    assert many.get_title().endswith("\n7 of 50 mailings shown (most delivered)")


def test_click_urls_say_how_many_links_they_cut(month):
    urls = click_urls(month)
    ax = plot_click_urls(urls, top=3)
    assert ax.get_title().endswith(f"\n3 of {len(urls)} links shown (most unique clicks)")
    assert _bar_widths(ax) == urls["unique_clicks"].head(3).astype(float).tolist()


@pytest.mark.parametrize("width", [9.0, 4.2])
@pytest.mark.parametrize("n_mailings", [1, 4, 50, 200])
def test_no_two_labels_overlap_in_any_plot(width, n_mailings):
    days = {1: 1, 4: 1, 50: 34, 200: 120}[n_mailings]
    ev = samples.generate_events(n_recipients=150, n_mailings=n_mailings, days=days, seed=9)
    draws = {
        "funnel": lambda ax: plot_funnel(funnel(ev), ax=ax),
        "bounces": lambda ax: plot_bounces(ev, ax=ax),
        "bounces by day": lambda ax: plot_bounces(ev, by=["day", "bounceType"], ax=ax),
        "links": lambda ax: plot_click_urls(ev, ax=ax),
        "engagement": lambda ax: plot_engagement(ev, ax=ax, until="72h"),
        "per mailing": lambda ax: plot_engagement(ev, by="messageId", ax=ax, until="72h"),
        "heatmap": lambda ax: plot_heatmap(ev, ax=ax),
        "timeline": lambda ax: plot_timeline(ev, freq="day", ax=ax),
    }
    for name, draw in draws.items():
        fig = plt.figure(figsize=(width, 4.5), layout="constrained")
        draw(fig.add_subplot())
        assert overlapping_texts(fig) == [], name
        assert texts_outside(fig) == [], name
        plt.close(fig)


# --- one colour and one legend entry per mailing; names that tell mailings apart ----------
def _same_name(ev: pd.DataFrame, n: int = 3, name: str = "Our survey") -> pd.DataFrame:
    """``ev`` with its first ``n`` mailings all named ``name``."""
    ids = ev["messageId"].unique()[:n]
    renamed = ev["messageName"].astype(object).where(~ev["messageId"].isin(ids), name)
    return ev.assign(messageName=renamed.astype("category"))


def test_funnel_tells_apart_mailings_that_share_a_name(month):
    ev = _same_name(month[month["messageId"].isin(month["messageId"].unique()[:5])])
    ax = plot_funnel(ev)
    labels = _ticks(ax)
    assert len(labels) == 5 and len(set(labels)) == 5
    surveys = [label for label in labels if label.startswith("Our survey")]
    assert len(surveys) == 3 and all(" · " in label for label in surveys)


def test_funnel_adds_the_message_id_where_name_and_date_both_repeat(month):
    table = funnel(month).head(3).assign(messageName="Survey Q4 2026-09-01")
    table["sent_at"] = table["sent_at"].iloc[0]
    labels = _ticks(plot_funnel(table))
    ids = table["messageId"].astype(str).tolist()
    assert labels == [
        f"Survey Q4 2026-09-01 · {table['sent_at'].iloc[0]:%Y-%m-%d} · {i}" for i in ids
    ]


def _legend_texts(ax: Axes) -> list[str]:
    return [t.get_text() for t in ax.get_legend().get_texts()]


def test_engagement_has_one_colour_and_one_legend_entry_per_mailing(month):
    ev = _same_name(month)
    ax = plot_engagement(ev, by="messageId", top=4, until="24h")  # opens and clicks
    legend = _legend_texts(ax)
    mailings = legend[:4]
    assert len(set(mailings)) == 4  # once each, even the ones named alike
    assert legend[4:6] == ["opened", "clicked"]  # the line styles, once each
    colours: dict[str, set[str]] = {}
    for line in ax.lines:
        colours.setdefault(line.get_label().rsplit(": ", 1)[0], set()).add(to_hex(line.get_color()))
    assert len(colours) == 4 and all(len(c) == 1 for c in colours.values())  # same both curves
    assert len({next(iter(c)) for c in colours.values()}) == 4  # and no two alike


def test_engagement_past_the_palette_folds_the_rest_into_one_grey_entry(month):
    ax = plot_engagement(month, by="messageId", events=["emailOpen"], top=12, until="24h")
    assert len(ax.lines) == 12
    colours = [to_hex(line.get_color()) for line in ax.lines]
    coloured = [c for c in colours if c != to_hex(GREY)]
    assert len(coloured) == len(PALETTE) - 1 == len(set(coloured))
    legend = _legend_texts(ax)
    assert legend[-1] == f"{12 - len(coloured)} other mailings"
    assert len(legend) == len(PALETTE)


# --- a layout that survives ax= and a plain savefig ---------------------------------------
@pytest.mark.parametrize(
    "draw",
    [
        pytest.param(lambda ev, ax: plot_funnel(ev, ax=ax), id="funnel"),
        pytest.param(
            lambda ev, ax: plot_funnel(ev, mailing=ev["messageId"].iloc[0], ax=ax), id="funnel one"
        ),
        pytest.param(lambda ev, ax: plot_bounces(ev, ax=ax), id="bounces"),
        pytest.param(
            lambda ev, ax: plot_bounces(ev, by=["day", "bounceType"], ax=ax), id="bounces by day"
        ),
        pytest.param(lambda ev, ax: plot_click_urls(ev, ax=ax), id="links"),
        pytest.param(lambda ev, ax: plot_timeline(ev, freq="day", ax=ax), id="timeline"),
        pytest.param(
            lambda ev, ax: plot_engagement(ev, by="messageId", ax=ax, until="72h"), id="engagement"
        ),
        pytest.param(lambda ev, ax: plot_heatmap(ev, ax=ax), id="heatmap"),
        pytest.param(lambda ev, ax: plot_trend(ev, ax=ax), id="trend"),
        pytest.param(lambda ev, ax: plot_deliverability(ev, ax=ax), id="deliverability"),
    ],
)
@pytest.mark.parametrize(("rows", "size"), [(1, None), (2, (9.0, 7.0))])
def test_a_plot_in_the_users_subplot_survives_a_plain_savefig(draw, rows, size, month, tmp_path):
    ev = month[month["messageId"].isin(month["messageId"].unique()[:8])]
    # no layout engine: what a plain savefig keeps is all there is
    fig, grid = plt.subplots(rows, 2, figsize=size, squeeze=False)
    axes = list(grid.flat)
    others = [a.get_position().bounds for a in axes[1:]]
    draw(ev, axes[0])
    assert [a.get_position().bounds for a in axes[1:]] == others  # the others stay put
    for ax in axes[1:]:
        draw(ev, ax)
    fig.savefig(tmp_path / "plots.png")  # no bbox_inches="tight"
    assert (tmp_path / "plots.png").stat().st_size > 0
    renderer = fig.canvas.get_renderer()
    for ax in axes:  # every title, label, tick label, legend and note inside the image
        box = ax.get_tightbbox(renderer)
        assert fig.bbox.x0 <= box.x0 and box.x1 <= fig.bbox.x1, ax.get_title()
        assert fig.bbox.y0 <= box.y0 and box.y1 <= fig.bbox.y1, ax.get_title()
    assert texts_outside(fig) == []
    # no two texts overlap, but for two dated axes in a 3-inch cell whose label meets the
    # date offset (not solved: "Day (UTC)" / "2026-Nov-15 00:00")
    clashes = overlapping_texts(fig)
    assert all("UTC" in a or "Period" in a for a, _ in clashes), clashes
    # and each plot stays out of its right and lower neighbours' way
    first = axes[0].get_tightbbox(renderer)
    assert first.x1 <= axes[1].get_window_extent(renderer).x0
    if rows == 2:
        assert first.y0 >= axes[2].get_window_extent(renderer).y1
    plt.close(fig)


def test_names_cut_to_fit_a_narrow_axes_still_tell_mailings_apart(month):
    long = "Quarterly customer satisfaction survey, second reminder"
    ev = _same_name(month[month["messageId"].isin(month["messageId"].unique()[:4])], name=long)
    fig = plt.figure(figsize=(4.2, 4))
    ax = plot_funnel(ev, ax=fig.add_subplot())
    labels = _ticks(ax)
    assert len(set(labels)) == 4 and max(map(len, labels)) < len(long)
    fig = plt.figure(figsize=(4.2, 4))
    ax = plot_engagement(ev, by="messageId", events=["emailOpen"], ax=fig.add_subplot())
    legend = _legend_texts(ax)[:4]
    assert len(set(legend)) == 4 and max(map(len, legend)) < len(long)
    plt.close("all")
