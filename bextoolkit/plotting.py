"""Plots of the campaign reports: each takes the events frame *or* the ready report frame.

Habits (seaborn's): data first, options keyword-only, every drawing through ``ax.*``, the
Axes returned, never ``show()`` nor ``savefig()``.

Where a plot goes
-----------------
Pass ``ax=`` to draw into an Axes of your own (a subplot of a bigger figure). Without it,
every function draws on a **new** figure of its own (``plt.subplots()``) and never on
pyplot's current Axes, so a plot never lands on top of another one by accident. A new
pyplot figure (rather than a bare ``matplotlib.figure.Figure``) is what makes the plot
show up in a notebook by itself; close it with ``plt.close(ax.figure)`` when drawing many.

Each title names the mailing when the data is about one mailing (its ``messageName``);
``title=`` replaces it. Percentages appear where readers expect them: the funnel's rates,
each bounce group's share, each link's unique click rate.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.schema import EVENT_TYPE_COLUMN, EVENT_TYPES

if TYPE_CHECKING:
    from matplotlib.axes import Axes

log = logging.getLogger(__name__)

__all__ = [
    "plot_bounces",
    "plot_click_urls",
    "plot_engagement",
    "plot_funnel",
    "plot_heatmap",
    "plot_timeline",
]

#: Funnel stages drawn by default: (column, label, column the percentage is taken over).
FUNNEL_STAGES: Final = (
    ("sent", "Sent", None),
    ("delivered", "Delivered", "sent"),
    ("unique_opens", "Unique opens", "delivered"),
    ("unique_clicks", "Unique clicks", "delivered"),
)
_REPORT_KEYS: Final = ("messageName", "subjectLine")


# --- helpers ------------------------------------------------------------------------------
def _axes(ax: Axes | None, figsize: tuple[float, float]) -> Axes:
    """``ax``, or the Axes of a new figure (never pyplot's current Axes).

    matplotlib is imported here, on first use, so ``import bextoolkit`` stays quick.
    """
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt

    _, new = plt.subplots(figsize=figsize, layout="constrained")
    return new


def _is_events(data: pd.DataFrame, report_columns: Sequence[str]) -> bool:
    """True for an events frame, False for a report frame that has ``report_columns``."""
    if not isinstance(data, pd.DataFrame):
        raise BexConfigError(
            f"expected a pandas DataFrame (the events or a report), got {type(data).__name__}"
        )
    if all(c in data.columns for c in report_columns):
        return False
    if EVENT_TYPE_COLUMN in data.columns:
        return True
    raise BexConfigError(
        f"the frame is neither an events frame (no {EVENT_TYPE_COLUMN!r} column) nor the "
        f"report this plot draws (it needs {', '.join(report_columns)}); pass the events "
        "from bextoolkit.read_events or the report function's result."
    )


def _report(
    data: pd.DataFrame,
    report_columns: Sequence[str],
    compute: Callable[..., pd.DataFrame],
    /,
    **options: Any,
) -> tuple[pd.DataFrame, str | None]:
    """The report to draw, and the one mailing the events are about (else None).

    ``data`` itself when it is already the report (it has ``report_columns``), else
    ``compute(data, **options)``.
    """
    if not _is_events(data, report_columns):
        return data, None
    return compute(data, **options), _mailing_name(data)


def _mailing_name(frame: pd.DataFrame) -> str | None:
    """The one ``messageName`` (or ``messageId``) the frame is about, else None."""
    for column in ("messageName", "messageId"):
        if column in frame.columns:
            values = frame[column].dropna().unique()
            if len(values) == 1:
                return str(values[0])
            return None
    return None


def _title(ax: Axes, title: str | None, what: str, name: str | None) -> None:
    ax.set_title(title if title is not None else f"{what}: {name}" if name else what)


def _key_columns(report: pd.DataFrame, metrics: Sequence[str]) -> list[str]:
    """The report's key columns: every column before the first metric column."""
    columns = [str(c) for c in report.columns]
    first = min(columns.index(m) for m in metrics if m in columns)
    return [c for c in columns[:first] if c not in _REPORT_KEYS]


def _row_labels(report: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    if not keys:
        return ["all"] * len(report)
    parts = report[list(keys)].astype(object).where(report[list(keys)].notna(), "(missing)")
    return [" / ".join(map(str, row)) for row in parts.itertuples(index=False)]


def _percent(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1%}"


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


# --- plot_funnel --------------------------------------------------------------------------
def plot_funnel(
    data: pd.DataFrame,
    *,
    mailing: Any = None,
    stages: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    **funnel_options: Any,
) -> Axes:
    """Horizontal bars of sent, delivered, unique opens and unique clicks, with rates.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.funnel` result, or the events frame (then ``funnel(data,
        **funnel_options)`` is computed, per ``messageId`` unless ``by=`` says otherwise).
    mailing : optional
        Draw only the row whose first key (e.g. ``messageId``) equals this.
    stages : sequence of str, optional
        Funnel columns to draw, top to bottom; default sent, delivered, unique_opens,
        unique_clicks. Percentages: delivered over sent, opens and clicks over delivered
        (the open and click rates), other stages over sent; each bar is labelled
        ``"728 (97.2% of sent)"``. Several mailings: grouped bars, one colour each (keep
        it to a handful; pick one with ``mailing=``).
    ax : matplotlib Axes, optional
        Where to draw; default a new figure (see the module notes).
    title : str, optional
        Default ``"Funnel: <messageName>"`` for one mailing, ``"Funnel by mailing"`` else.
    **funnel_options
        Passed to :func:`bextoolkit.funnel` when ``data`` is the events (``by``,
        ``convention``, ``exclude``, ...).

    Returns
    -------
    matplotlib Axes
        One bar container per row of the funnel (one per mailing).
    """
    if _is_events(data, ("sent", "delivered")):
        from bextoolkit.reports import funnel

        data = funnel(data, **funnel_options)
    elif funnel_options:
        raise BexConfigError(
            f"plot_funnel: {sorted(funnel_options)} apply only to the events frame; the "
            "funnel given is already computed (compute it again with those options)."
        )
    keys = _key_columns(data, ("sent",))
    if mailing is not None:
        if not keys:
            raise BexConfigError("plot_funnel: mailing= needs a funnel computed per mailing")
        data = data[data[keys[0]].astype(str) == str(mailing)]
        if data.empty:
            raise BexConfigError(f"plot_funnel: no row has {keys[0]} = {mailing!r}")
    defaults = {column: (label, base) for column, label, base in FUNNEL_STAGES}
    chosen = list(stages) if stages is not None else list(defaults)
    missing = [s for s in chosen if s not in data.columns]
    if missing:
        raise BexConfigError(f"plot_funnel: the funnel has no column(s) {missing}")
    width = 7.5 if len(data) == 1 else 10.5  # room for the legend
    ax = _axes(ax, (width, 1.2 + 0.7 * len(chosen) * max(1, min(len(data), 4)) ** 0.5))
    names = (
        data["messageName"].astype(object).where(data["messageName"].notna())
        if "messageName" in data.columns
        else pd.Series([None] * len(data), index=data.index)
    )
    labels = [
        str(name) if isinstance(name, str) and name else key
        for name, key in zip(names, _row_labels(data, keys), strict=True)
    ]
    n = max(len(data), 1)
    height = 0.8 / n
    y = np.arange(len(chosen), dtype=float)
    for i, (label, (_, row)) in enumerate(zip(labels, data.iterrows(), strict=True)):
        values = [float(row[s]) for s in chosen]
        bars = ax.barh(y - 0.4 + height * (i + 0.5), values, height=height * 0.95, label=label)
        texts = []
        for stage, value in zip(chosen, values, strict=True):
            base = defaults.get(stage, (stage, "sent"))[1]
            share = value / float(row[base]) if base and row.get(base, 0) else np.nan
            texts.append(f"{value:,.0f}" + (f" ({_percent(share)} of {base})" if base else ""))
        ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
    ax.set_yticks(y, [defaults.get(s, (s.replace("_", " ").capitalize(), None))[0] for s in chosen])
    ax.invert_yaxis()
    ax.set_xlabel("Recipients")
    ax.set_ylabel("Funnel stage")
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * 1.35)  # room for the labels
    if len(data) > 1:
        legend_title = "Mailing" if "messageName" in data.columns else (keys[0] if keys else None)
        ax.legend(title=legend_title, fontsize="small", loc="upper left", bbox_to_anchor=(1.01, 1))
    name = labels[0] if len(data) == 1 and keys else None
    by_what = "mailing" if keys and keys[0] == "messageId" else (keys[0] if keys else "")
    what = "Funnel" if len(data) == 1 or not keys else f"Funnel by {by_what}"
    _title(ax, title, what, name)
    return ax


# --- plot_bounces -------------------------------------------------------------------------
def plot_bounces(
    data: pd.DataFrame,
    *,
    top: int = 15,
    ax: Axes | None = None,
    title: str | None = None,
    **breakdown_options: Any,
) -> Axes:
    """Bounce events per bounce type (or per ``by=`` group), labelled with their share.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.bounce_breakdown` result, or the events frame (then the
        breakdown is computed with ``**breakdown_options``, e.g. ``by="domain"``).
    top : int, default 15
        Draw the groups with the most bounces, at most this many.
    ax, title
        As in :func:`plot_funnel`; default title ``"Bounces by <key>"`` (plus the mailing
        name when the events are one mailing's).

    Returns
    -------
    matplotlib Axes
        One horizontal bar per group (largest on top), width = ``bounces``, labelled
        ``"<bounces> (<share>)"``.
    """
    from bextoolkit.reports import bounce_breakdown

    data, name = _report(data, ("bounces", "share"), bounce_breakdown, **breakdown_options)
    keys = _key_columns(data, ("bounces",))
    shown = data.nlargest(top, "bounces", keep="first") if len(data) > top else data
    labels = _row_labels(shown, keys)
    ax = _axes(ax, (7.0, 1.5 + 0.4 * max(len(shown), 1)))
    bars = ax.barh(labels, shown["bounces"].to_numpy(dtype=float), color="tab:red")
    texts = [
        f"{b:,.0f} ({_percent(s)})" for b, s in zip(shown["bounces"], shown["share"], strict=True)
    ]
    ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("Bounce events")
    ax.set_ylabel(" / ".join(keys) if keys else "")
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * 1.2)
    _title(ax, title, f"Bounces by {' / '.join(keys)}" if keys else "Bounces", name)
    return ax


# --- plot_click_urls ----------------------------------------------------------------------
def plot_click_urls(
    data: pd.DataFrame,
    *,
    top: int = 10,
    label: str = "urlDescription",
    ax: Axes | None = None,
    title: str | None = None,
    **click_options: Any,
) -> Axes:
    """The most clicked links: unique clicks per link, labelled with the unique click rate.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.click_urls` result, or the events frame (then ``click_urls``
        is computed with ``**click_options``, e.g. ``exclude="bot_clicks"``).
    top : int, default 10
        How many links, most unique clicks first.
    label : str, default "urlDescription"
        The column naming each bar; the link itself (shortened) where it is missing.
    ax, title
        As in :func:`plot_funnel`; default title ``"Top links: <messageName>"``.

    Returns
    -------
    matplotlib Axes
        One horizontal bar per link (most clicked on top), width = ``unique_clicks``,
        labelled ``"<unique_clicks> (<unique_click_rate>)"`` (rate over delivered).
    """
    from bextoolkit.reports import click_urls

    data, name = _report(data, ("clickUrl", "unique_clicks"), click_urls, **click_options)
    shown = data.sort_values("unique_clicks", ascending=False, kind="stable").head(top)
    urls = shown["clickUrl"].astype(object).where(shown["clickUrl"].notna(), "(no URL)")
    given = shown[label] if label in shown.columns else pd.Series(pd.NA, index=shown.index)
    names = [
        _shorten(str(g)) if isinstance(g, str) and g.strip() else _shorten(str(u))
        for g, u in zip(given.astype(object), urls, strict=True)
    ]
    rate_col = "unique_click_rate" if "unique_click_rate" in shown.columns else "click_share"
    rates = shown[rate_col] if rate_col in shown.columns else pd.Series(np.nan, index=shown.index)
    ax = _axes(ax, (8.0, 1.5 + 0.4 * max(len(shown), 1)))
    bars = ax.barh(range(len(shown)), shown["unique_clicks"].to_numpy(dtype=float))
    ax.set_yticks(range(len(shown)), names)
    texts = [
        f"{c:,.0f}" + (f" ({_percent(r)})" if not pd.isna(r) else "")
        for c, r in zip(shown["unique_clicks"], rates, strict=True)
    ]
    ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel(
        "Unique clicks (% of delivered)" if rate_col == "unique_click_rate" else "Unique clicks"
    )
    ax.set_ylabel("Link")
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * 1.2)
    _title(ax, title, "Top links", name or _mailing_name(data))
    return ax


# --- plot_timeline ------------------------------------------------------------------------
_BUCKET_WORDS: Final = {"hour": "hour", "day": "day", "week": "week", "month": "month"}


def plot_timeline(
    data: pd.DataFrame,
    *,
    freq: str = "hour",
    event_types: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Events per hour (or day, week, month), one line per event type.

    Parameters
    ----------
    data : DataFrame
        The events frame, or an :func:`bextoolkit.event_counts` result computed with
        ``by=freq`` (columns ``<freq>``, ``eventType``, ``events``).
    freq : {"hour", "day", "week", "month"}, default "hour"
        The time bucket.
    event_types : sequence of str, optional
        Which event types to draw (default: every type present, canonical ones first).
    ax, title
        As in :func:`plot_funnel`; default title ``"Events per hour: <messageName>"``.

    Returns
    -------
    matplotlib Axes
        One line per event type, x = the bucket start (every bucket between the first and
        the last, empty ones at 0), y = event count, labelled with the event type.
    """
    if freq not in _BUCKET_WORDS:
        raise BexConfigError(f"plot_timeline: freq={freq!r} is not one of {list(_BUCKET_WORDS)}")
    from bextoolkit.reports import event_counts

    data, name = _report(data, (freq, "events"), event_counts, by=freq)
    table = data.pivot_table(
        index=freq, columns=EVENT_TYPE_COLUMN, values="events", aggfunc="sum", observed=True
    )
    if len(table):
        step = {"hour": "h", "day": "D", "week": "7D", "month": "MS"}[freq]
        full = pd.date_range(table.index.min(), table.index.max(), freq=step)
        table = table.reindex(table.index.union(full))
    table = table.fillna(0)
    present = [str(c) for c in table.columns]
    order = [e for e in EVENT_TYPES if e in present] + sorted(
        p for p in present if p not in EVENT_TYPES
    )
    wanted = list(event_types) if event_types is not None else order
    ax = _axes(ax, (9.0, 4.0))
    for event_type in wanted:
        if event_type in present:
            column = table.columns[present.index(event_type)]
            ax.plot(table.index, table[column].to_numpy(dtype=float), label=event_type, marker=".")
    tz = getattr(table.index, "tz", None)
    ax.set_xlabel(f"Time ({tz})" if tz is not None else "Time")
    ax.set_ylabel(f"Events per {_BUCKET_WORDS[freq]}")
    ax.set_ylim(bottom=0)
    if ax.lines:
        ax.legend(title="Event type", fontsize="small")
    _title(ax, title, f"Events per {_BUCKET_WORDS[freq]}", name)
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator()
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    return ax


# --- plot_engagement ----------------------------------------------------------------------
_EVENT_WORDS: Final = {"emailOpen": "opened", "emailClick": "clicked"}


def _event_word(event: Any) -> str:
    if isinstance(event, str):
        return _EVENT_WORDS.get(event, event)
    return " or ".join(_EVENT_WORDS.get(e, e) for e in event)


def plot_engagement(
    data: pd.DataFrame,
    *,
    events: Sequence[str] = ("emailOpen", "emailClick"),
    by: str | None = None,
    step: str | pd.Timedelta = "1h",
    until: str | pd.Timedelta | None = None,
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Cumulative share of delivered recipients who opened / clicked, by time since send.

    Parameters
    ----------
    data : DataFrame
        The events frame, or an :func:`bextoolkit.engagement_curve` result (columns
        ``elapsed`` and ``share``, and ``messageId`` for one curve per mailing).
    events : sequence of str, default ("emailOpen", "emailClick")
        With the events frame: one curve per event type.
    by : {None, "messageId"}, default None
        With the events frame: one curve per mailing (and event type).
    step, until
        Passed to :func:`bextoolkit.engagement_curve` (grid spacing and end).
    ax, title
        As in :func:`plot_funnel`; default title ``"Engagement after the send: <name>"``.

    Returns
    -------
    matplotlib Axes
        One line per curve: x = hours since the recipient's own send, y = share of
        delivered recipients engaged by then (the y axis in percent).
    """
    name = None
    if _is_events(data, ("elapsed", "share")):
        from bextoolkit.reports import engagement_curve

        name = _mailing_name(data)
        curves = [engagement_curve(data, event=e, by=by, step=step, until=until) for e in events]
    else:
        curves = [data]
    ax = _axes(ax, (8.0, 4.0))
    several = len(curves) > 1
    for curve in curves:
        word = _event_word(curve.attrs.get("event", "engaged"))
        groups = (
            curve.groupby("messageId", sort=True, observed=True)
            if "messageId" in curve.columns
            else [(None, curve)]
        )
        for key, part in groups:
            label = word if key is None else str(key) + (f": {word}" if several else "")
            hours = part["elapsed"].dt.total_seconds().to_numpy(dtype=float) / 3600
            ax.plot(hours, part["share"].to_numpy(dtype=float), label=label)
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.set_xlabel("Hours since the recipient's send")
    ax.set_ylabel("Share of delivered recipients")
    if ax.lines:
        ax.legend(fontsize="small")
    if name is None and "messageId" in curves[0].columns:
        name = _mailing_name(curves[0])
    _title(ax, title, "Engagement after the send", name)
    return ax


# --- plot_heatmap -------------------------------------------------------------------------
def plot_heatmap(
    data: pd.DataFrame,
    *,
    tz: str = "UTC",
    event_types: Sequence[str] = ("emailOpen", "emailClick"),
    unique: bool = False,
    normalize: bool = False,
    cmap: str = "Blues",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """When people engage: events per weekday (rows) and hour of day (columns).

    Parameters
    ----------
    data : DataFrame
        The events frame, or an :func:`bextoolkit.activity_heatmap` result (7 weekdays x
        24 hours).
    tz, event_types, unique
        Passed to :func:`bextoolkit.activity_heatmap` with the events frame: the wall
        clock's time zone, which events count, distinct recipients instead of events.
    normalize : bool, default False
        Show each cell as its share of all the events in the table (colour bar in
        percent) instead of counts.
    cmap : str, default "Blues"
        A matplotlib colour map.
    ax, title
        As in :func:`plot_funnel`; default title ``"Activity by weekday and hour: <name>"``.

    Returns
    -------
    matplotlib Axes
        Holding one image (``ax.images[0]``) whose array is the 7 x 24 table (or its
        shares), with a colour bar beside it.
    """
    name = None
    if EVENT_TYPE_COLUMN in data.columns:
        from bextoolkit.reports import activity_heatmap

        name = _mailing_name(data)
        data = activity_heatmap(data, tz=tz, event_types=event_types, unique=unique)
    values = data.to_numpy(dtype=float)
    total = values.sum()
    if normalize:
        values = values / total if total else np.full_like(values, np.nan)
    ax = _axes(ax, (10.0, 3.8))
    image = ax.imshow(values, aspect="auto", cmap=cmap, interpolation="nearest")
    ax.set_xticks(range(values.shape[1]), [str(h) for h in data.columns])
    ax.set_yticks(range(values.shape[0]), [str(d) for d in data.index])
    what = "Share of events" if normalize else "Recipients" if unique else "Events"
    bar = ax.figure.colorbar(image, ax=ax, label=what)
    if normalize:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"Hour of day ({tz})")
    ax.set_ylabel("Weekday")
    _title(ax, title, "Activity by weekday and hour", name)
    return ax
