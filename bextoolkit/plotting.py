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

In an Axes of your own figure without a layout engine (a plain ``plt.subplots(1, 2)``),
a plot makes its title, labels, legend and notes fit inside its cell of the figure's grid
(halfway to the neighbouring cells) by narrowing that one Axes, a smaller title font or
a longer x axis, so a plain ``fig.savefig(path)`` cuts nothing; your other Axes do not
move. Figures with ``layout="constrained"`` (the plots' own) are left to their engine.

Mailings
--------
A mailing keeps one colour in a plot (its opens and its clicks alike) and one legend
entry; past the palette's 7 colours the smaller mailings are drawn thin and grey under
one entry ("5 other mailings"). Names that repeat get the send date, then the
``messageId`` ("Survey · 2026-09-01 · 37087901"), as the report's tables do.

Each title names the mailing when the data is about one mailing (its ``messageName``);
``title=`` replaces it. Percentages appear where readers expect them: the funnel's rates,
each bounce group's share, each link's unique click rate.
"""

from __future__ import annotations

import logging
import re
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
    "plot_deliverability",
    "plot_engagement",
    "plot_funnel",
    "plot_heatmap",
    "plot_timeline",
    "plot_trend",
]

#: Funnel stages drawn by default: (column, label, column the percentage is taken over).
FUNNEL_STAGES: Final = (
    ("sent", "Sent", None),
    ("delivered", "Delivered", "sent"),
    ("unique_opens", "Unique opens", "delivered"),
    ("unique_clicks", "Unique clicks", "delivered"),
)
_REPORT_KEYS: Final = ("messageName", "subjectLine", "sent_at")

#: Okabe & Ito's colour-blind-safe colours (without their yellow, too pale on white), in
#: the order series get them. A plot never needs more: beyond that many series it shows
#: the largest and says how many it left out.
PALETTE: Final = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000")
#: Grey for what is summarised or not observed.
GREY: Final = "#8C8C8C"


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
    """``title``, else ``"<what>: <name>"`` with the name shortened to fit the Axes' room."""
    if title is None and name:
        room = int(_room_width(ax) * 7)
        if len(what) + 2 + len(str(name)) <= room:
            title = f"{what}: {name}"
        else:  # the name on a line of its own
            title = f"{what}:\n{_shorten(str(name), room)}"
    ax.set_title(title if title is not None else what)


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


def _figure_width(ax: Axes) -> float:
    """The width in inches of the figure ``ax`` is drawn in (a subfigure's parent's)."""
    return float(ax.get_figure(root=True).get_figwidth())  # type: ignore[union-attr]


def _width_in(ax: Axes) -> float:
    """The Axes' width in inches (before any layout engine moves it)."""
    return float(_figure_width(ax) * ax.get_position().width)


def _room_width(ax: Axes) -> float:
    """The width in inches ``ax`` may draw in: its cell of the figure's grid (the whole
    figure for a figure of one Axes, or an Axes placed by hand)."""
    return float(_room(ax).width / ax.get_figure(root=True).dpi)  # type: ignore[union-attr]


def _fit(text: str, ax: Axes, share: float = 0.35) -> str:
    """``text`` shortened to what fits in ``share`` of the Axes' room at 10 pt; the name
    is cut before what tells it apart (``"Our surv… · 2026-09-01"``, see :func:`_distinct`)."""
    width = max(12, int(_room_width(ax) * share * 14))
    head, sep, tail = text.partition(" · ")
    if sep and len(text) > width and len(tail) + 6 <= width:
        return _shorten(head, width - len(tail) - len(sep)) + sep + tail
    return _shorten(text, width)


def _fit_all(texts: Sequence[str], ax: Axes, share: float = 0.35) -> list[str]:
    """Each text as :func:`_fit` shortens it; where that would make two alike, cut in the
    middle instead, keeping the ends (a name's start, and the date or id that tells it apart)."""
    fitted = [_fit(t, ax, share) for t in texts]
    if len(set(fitted)) == len(set(texts)):
        return fitted
    width = max(12, int(_room_width(ax) * share * 14))
    head = width * 5 // 10
    return [t if len(t) <= width else f"{t[:head]}…{t[-(width - head - 1) :]}" for t in texts]


def _narrow(ax: Axes) -> bool:
    """Whether the Axes' room is phone-narrow (under 6 inches): shorter texts then."""
    return bool(_room_width(ax) < 6)


def _shown_note(ax: Axes, shown: int, total: int, what: str, how: str) -> str:
    """``"\\n15 of 18 groups shown (most bounces)"`` when a plot cuts, else ``""``.

    Narrow figures leave out the parenthesis.
    """
    if shown >= total:
        return ""
    return f"\n{shown} of {total} {what} shown" + ("" if _narrow(ax) else f" ({how})")


#: Column names in the words a plot uses for them.
_WORDS: Final = {
    "messageId": "mailing",
    "messageName": "mailing",
    "bounceType": "bounce type",
    "domain": "recipient domain",
    "provider": "mailbox provider",
    "mailingType": "mailing type",
    "code": "bounce code",
    "eventType": "event type",
    "clickUrl": "link",
    **{f"send_{b}": f"{b} of send" for b in ("hour", "day", "week", "month")},
    **{b: f"{b} of send" for b in ("hour", "day", "week", "month")},
}


def _words(name: str) -> str:
    """A column name as words: "bounceType" -> "bounce type", "LoyaltyTier" -> "loyalty tier"."""
    if name in _WORDS:
        return _WORDS[name]
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ")
    return spaced.lower() if not spaced.isupper() else spaced


def _thousands(axis: Any) -> None:
    """Counts on ``axis`` with thousands separators ("120,000", never "120000")."""
    from matplotlib.ticker import FuncFormatter

    axis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))


def _percent(value: float) -> str:
    return "" if pd.isna(value) else f"{value:.1%}"


def _shorten(text: str, width: int = 48) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _distinct(names: Sequence[str], dates: Sequence[Any], ids: Sequence[Any]) -> list[str]:
    """Mailing names that tell mailings apart: a name that repeats gets its send date
    (``"Survey · 2026-09-01"``), and one that still repeats its ``messageId`` as well.

    >>> _distinct(["A", "B", "B", "B"], [None, "2026-09-01", "2026-09-01", "2026-09-08"],
    ...           ["1", "2", "3", "4"])
    ['A', 'B · 2026-09-01 · 2', 'B · 2026-09-01 · 3', 'B · 2026-09-08']
    """
    labels = list(names)
    for extra in (dates, ids):
        repeated = pd.Series(labels).duplicated(keep=False).to_numpy()
        if not repeated.any():
            break
        for i in map(int, np.flatnonzero(repeated)):
            value = extra[i]
            if value is None or pd.isna(value):
                continue
            text = value.strftime("%Y-%m-%d") if hasattr(value, "strftime") else str(value)
            if not re.search(rf"(?<![\w-]){re.escape(text)}(?![\w-])", labels[i]):
                labels[i] = f"{labels[i]} · {text}"  # (not twice: names may hold the date)
    return labels


def _keep_inside(ax: Axes, *, tries: int = 6) -> None:
    """Shrink ``ax`` until its title, labels, ticks, legend and notes lie inside its room:
    its cell of the figure's grid (halfway to the neighbouring cells) and the figure.

    Only for a figure without a layout engine (a plain ``plt.subplots()``, where a plain
    ``savefig`` would cut what sticks out); constrained and tight layouts place the Axes
    themselves. Only ``ax`` (and its twins) move: the user's other Axes stay where they are.
    """
    root = ax.get_figure(root=True)
    if root is None or root.get_layout_engine() is not None:
        return
    from matplotlib.transforms import Bbox

    renderer = root.canvas.get_renderer()  # type: ignore[attr-defined]
    room = _room(ax)
    to_display = ax.figure.transSubfigure
    start = ax.get_position().transformed(to_display)
    for _ in range(tries):
        _widen_for_labels(ax, renderer)
        _title_fits(ax, renderer, room)
        boxes = [a.get_tightbbox(renderer) for a in (ax, *_twins(ax))]
        drawn = Bbox.union([b for b in boxes if b is not None])
        over = (room.x0 - drawn.x0, room.y0 - drawn.y0, drawn.x1 - room.x1, drawn.y1 - room.y1)
        if max(over) <= 0:
            return
        cut = [o + 2.0 if o > 0 else 0.0 for o in over]  # 2 px to spare: ticks may move
        now = ax.get_position().transformed(to_display)
        moved = Bbox.from_extents(
            now.x0 + cut[0], now.y0 + cut[1], now.x1 - cut[2], now.y1 - cut[3]
        )
        if moved.width < 0.25 * start.width or moved.height < 0.25 * start.height:
            log.warning("the plot does not fit its place in the figure: make the figure larger")
            return
        ax.set_position(moved.transformed(to_display.inverted()))


def _title_fits(ax: Axes, renderer: Any, room: Any) -> None:
    """A smaller title font where the title, centred over the Axes, is wider than its room."""
    drawn = ax.title.get_window_extent(renderer)
    centre = ax.get_window_extent(renderer).x0 + ax.get_window_extent(renderer).width / 2
    allowed = 2 * min(centre - room.x0, room.x1 - centre)
    if ax.title.get_text() and drawn.width > allowed > 0:
        size = float(ax.title.get_fontsize())
        ax.title.set_fontsize(max(6.0, size * 0.97 * allowed / drawn.width))


def _widen_for_labels(ax: Axes, renderer: Any) -> None:
    """Extend the x axis (from 0) until the bar labels and notes beside the bars end
    inside the Axes, so a narrow Axes keeps them rather than shrinking for them."""
    lo, hi = ax.get_xlim()
    if lo != 0 or hi <= 0 or ax.get_xscale() != "linear":
        return
    box = ax.get_window_extent(renderer)
    need = 1.0
    for text in ax.texts:
        drawn = text.get_window_extent(renderer)
        if text.get_visible() and drawn.x1 > box.x1 and drawn.width < 0.8 * box.width:
            start, width = (drawn.x0 - box.x0) / box.width, drawn.width / box.width
            need = max(need, 1.02 * start / (1 - width))
    if need > 1:
        ax.set_xlim(0, hi * need)


def _twins(ax: Axes) -> list[Axes]:
    """The Axes sharing ``ax``'s place (``twinx``/``twiny``), other than ``ax``."""
    return [a for a in ax.figure.axes if a is not ax and a.bbox.bounds == ax.bbox.bounds]


def _room(ax: Axes) -> Any:
    """The display box ``ax`` may draw in: its grid cell, halfway into the gaps to its
    neighbours (the whole figure or subfigure for an Axes placed by hand)."""
    from matplotlib.transforms import Bbox

    fig = ax.figure
    spec = ax.get_subplotspec()
    if spec is None:
        return fig.bbox
    spec = spec.get_topmost_subplotspec()
    rows, columns = spec.get_gridspec().get_geometry()
    bottoms, tops, lefts, rights = spec.get_gridspec().get_grid_positions(fig)  # type: ignore[arg-type]
    r0, r1 = spec.rowspan.start, spec.rowspan.stop - 1
    c0, c1 = spec.colspan.start, spec.colspan.stop - 1
    x0 = (rights[c0 - 1] + lefts[c0]) / 2 if c0 > 0 else 0.0
    x1 = (rights[c1] + lefts[c1 + 1]) / 2 if c1 < columns - 1 else 1.0
    y1 = (bottoms[r0 - 1] + tops[r0]) / 2 if r0 > 0 else 1.0
    y0 = (bottoms[r1] + tops[r1 + 1]) / 2 if r1 < rows - 1 else 0.0
    return Bbox.from_extents(x0, y0, x1, y1).transformed(fig.transSubfigure)


# --- plot_funnel --------------------------------------------------------------------------
def plot_funnel(
    data: pd.DataFrame,
    *,
    mailing: Any = None,
    stages: Sequence[str] | None = None,
    top: int = 20,
    ax: Axes | None = None,
    title: str | None = None,
    **funnel_options: Any,
) -> Axes:
    """The funnel: sent, delivered, unique opens and unique clicks, with their rates.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.funnel` result, or the events frame (then ``funnel(data,
        **funnel_options)`` is computed, per ``messageId`` unless ``by=`` says otherwise).
    mailing : optional
        Draw only the row whose first key (e.g. ``messageId``) equals this.
    stages : sequence of str, optional
        Funnel columns to draw, top to bottom (one row) or longest to shortest (several);
        default sent, delivered, unique_opens, unique_clicks.
    top : int, default 20
        With several rows: draw at most this many, the largest by ``sent``, in the
        order of the frame (the report passes them in send order); the title says how
        many were left out.
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
        One row (mailing): one bar per stage, labelled ``"728 (97.2% of sent)"``
        (delivered over sent, opens and clicks over delivered: the open and click
        rates). Several rows: one line per mailing (labelled with its name) holding the
        stages as nested bars, one colour per stage (``ax.containers[i]`` is stage
        ``i``, one bar per mailing), each row labelled with its open and click rates.
        The height grows with the rows up to ``top``.

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_funnel(events)  # one row per mailing, labelled by its name
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['BF26 Early Access 2026-11-02', 'Newsletter Nov - "Winter Edit" 2026-11-02']
    >>> len(ax.containers)  # one bar series per stage: sent, delivered, opens, clicks
    4
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
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
    names = _mailing_labels(data, keys)
    by_what = _words(keys[0]) if keys else ""
    if len(data) <= 1:
        ax = _axes(ax, (7.5, 1.2 + 0.7 * len(chosen)))
        row = data.iloc[0] if len(data) else pd.Series(0, index=chosen)
        values = [float(row[s]) for s in chosen]
        bars = ax.barh(np.arange(len(chosen)), values, height=0.7, color=PALETTE[0])
        texts = []
        for stage, value in zip(chosen, values, strict=True):
            base = defaults.get(stage, (stage, "sent"))[1]
            share = value / float(row[base]) if base and row.get(base, 0) else np.nan
            texts.append(f"{value:,.0f}" + (f" ({_percent(share)} of {base})" if base else ""))
        ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
        ax.set_yticks(np.arange(len(chosen)), [_stage_label(s) for s in chosen])
        ax.set_ylabel("Funnel stage")
        ax.set_xlim(0, max(ax.get_xlim()[1], 1) * (2.0 if _narrow(ax) else 1.45))  # labels
        ax.invert_yaxis()
        ax.set_xlabel("Sends")
        _thousands(ax.xaxis)
        name = names[0] if len(data) == 1 and keys else None
        _title(ax, title, "Funnel", name)
        _keep_inside(ax)
        return ax
    total = len(data)
    if total > top:
        largest = data["sent"].to_numpy(dtype=float).argsort(kind="stable")[::-1][:top]
        keep = np.sort(largest)
        data, names = data.iloc[keep], [names[i] for i in keep]
    ax = _axes(ax, (9.0, 1.6 + 0.32 * len(data)))
    y = np.arange(len(data), dtype=float)
    for i, stage in enumerate(chosen):
        height = 0.8 * (1 - i / (len(chosen) + 0.5))
        ax.barh(
            y,
            data[stage].to_numpy(dtype=float),
            height=height,
            color=PALETTE[i % len(PALETTE)],
            label=_stage_label(stage),
        )
    digits = 0 if _narrow(ax) else 1
    rates = [
        " · ".join(
            f"{row[r]:.{digits}%} {w}"
            for r, w in (("open_rate", "open"), ("click_rate", "click"))
            if r in data.columns and not pd.isna(row[r])
        )
        for _, row in data.iterrows()
    ]
    for yi, width, text in zip(
        y, data[chosen].max(axis=1).to_numpy(dtype=float), rates, strict=True
    ):
        ax.annotate(text, (width, yi), xytext=(4, 0), textcoords="offset points",
                    va="center", fontsize="small")  # fmt: skip
    ax.set_yticks(y, _fit_all(names, ax, 0.28 if _narrow(ax) else 0.35))
    ax.invert_yaxis()
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * (2.1 if _narrow(ax) else 1.4))
    ax.set_xlabel("Sends")
    _thousands(ax.xaxis)
    ax.set_ylabel(by_what.capitalize() if by_what else "")
    columns = 4 if _width_in(ax) >= 5.5 else 2
    # above the bars; in a narrow room from the right edge, over the names, not past it
    ax.legend(loc="lower right" if _narrow(ax) else "lower left",
              bbox_to_anchor=(1, 1.01) if _narrow(ax) else (0, 1.01), ncols=columns,
              frameon=False, fontsize="small", borderaxespad=0, handlelength=1.2)  # fmt: skip
    note = _shown_note(ax, len(data), total, f"{by_what or 'row'}s", "largest by sends")
    what = f"Funnel by {by_what}" if keys else "Funnel"
    legend_lines = -(-len(chosen) // columns)
    ax.set_title((title if title is not None else what) + note, pad=6 + 15 * legend_lines)
    _keep_inside(ax)
    return ax


def _stage_label(stage: str) -> str:
    defaults = {column: label for column, label, _ in FUNNEL_STAGES}
    return defaults.get(stage, stage.replace("_", " ").capitalize())


def _mailing_labels(data: pd.DataFrame, keys: Sequence[str]) -> list[str]:
    """Each row's ``messageName`` where it has one, else its key values; names that
    repeat get their send date, then their ``messageId`` (see :func:`_distinct`)."""
    names = (
        data["messageName"].astype(object).where(data["messageName"].notna())
        if "messageName" in data.columns
        else pd.Series([None] * len(data), index=data.index)
    )
    labels = [
        str(name) if isinstance(name, str) and name else key
        for name, key in zip(names, _row_labels(data, keys), strict=True)
    ]
    dates = data["sent_at"].tolist() if "sent_at" in data.columns else [None] * len(data)
    ids = data["messageId"].tolist() if "messageId" in data.columns else _row_labels(data, keys)
    return _distinct(labels, dates, ids)


# --- plot_bounces -------------------------------------------------------------------------
def plot_bounces(
    data: pd.DataFrame,
    *,
    top: int = 15,
    ax: Axes | None = None,
    title: str | None = None,
    **breakdown_options: Any,
) -> Axes:
    """Bounced sends per bounce type (or per ``by=`` group), labelled with their share.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.bounce_breakdown` result, or the events frame (then the
        breakdown is computed with ``**breakdown_options``, e.g. ``by="domain"``).
    top : int, default 15
        Draw the groups with the most bounces, at most this many; the title says how
        many were left out ("15 of 18 shown"). Over time: at most ``top`` - 1 series
        (and at most the palette's 7), the rest summed as "other".
    ax, title
        As in :func:`plot_funnel`; default title ``"Bounces by <key>"`` (plus the mailing
        name when the events are one mailing's).

    Returns
    -------
    matplotlib Axes
        Without a time bucket in ``by``: one horizontal bar per group (most bounces on
        top), width = ``bounces``, labelled ``"<bounces> (<share>)"``. With a time
        bucket (``by=["day", "bounceType"]``): bounces over time, one stacked bar
        series per value of the other keys (``ax.containers``, in time order, every
        bucket between the first and the last), nothing dropped.

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_bounces(events)
    >>> [label.get_text() for label in ax.get_yticklabels()], ax.get_xlabel()
    (['hard', 'soft'], 'Bounced sends')
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from bextoolkit.reports import bounce_breakdown

    data, name = _report(data, ("bounces", "share"), bounce_breakdown, **breakdown_options)
    keys = _key_columns(data, ("bounces",))
    time_keys = [k for k in keys if pd.api.types.is_datetime64_any_dtype(data[k])]
    if time_keys:
        return _bounces_over_time(data, keys, time_keys[0], top, ax, title, name)
    shown = data.nlargest(top, "bounces", keep="first") if len(data) > top else data
    labels = [_shorten(label, 40) for label in _row_labels(shown, keys)]
    ax = _axes(ax, (7.0, 1.5 + 0.4 * max(len(shown), 1)))
    bars = ax.barh(range(len(shown)), shown["bounces"].to_numpy(dtype=float), color=PALETTE[3])
    ax.set_yticks(range(len(shown)), labels)
    texts = [
        f"{b:,.0f} ({_percent(s)})" for b, s in zip(shown["bounces"], shown["share"], strict=True)
    ]
    ax.bar_label(bars, labels=texts, padding=3, fontsize="small")
    ax.invert_yaxis()
    ax.set_xlabel("Bounced sends")
    _thousands(ax.xaxis)
    ax.set_ylabel(" / ".join(_words(k).capitalize() for k in keys) if keys else "")
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * (1.5 if _narrow(ax) else 1.25))
    what = f"Bounces by {' / '.join(_words(k) for k in keys)}" if keys else "Bounces"
    note = _shown_note(ax, len(shown), len(data), "groups", "most bounces")
    _title(ax, title, what, name)
    ax.set_title(ax.get_title() + note)
    _keep_inside(ax)
    return ax


_STEPS: Final = {"hour": "h", "day": "D", "week": "7D", "month": "MS"}


def _bounces_over_time(
    data: pd.DataFrame,
    keys: Sequence[str],
    time_key: str,
    top: int,
    ax: Axes | None,
    title: str | None,
    name: str | None,
) -> Axes:
    """Stacked bars of bounces per time bucket, one series per value of the other keys."""
    others = [k for k in keys if k != time_key]
    series = pd.Series(_row_labels(data, others), index=data.index) if others else None
    frame = pd.DataFrame(
        {
            "t": data[time_key],
            "s": series if series is not None else "bounces",
            "n": data["bounces"],
        }
    )
    totals = frame.groupby("s")["n"].sum().sort_values(ascending=False, kind="stable")
    limit = max(min(top, len(PALETTE)), 2)
    kept = list(totals.index[: limit - 1]) if len(totals) > limit else list(totals.index)
    frame["s"] = frame["s"].where(frame["s"].isin(kept), "other")
    table = frame.pivot_table(index="t", columns="s", values="n", aggfunc="sum", fill_value=0)
    step = _STEPS.get(time_key)
    if step and len(table):
        full = pd.date_range(table.index.min(), table.index.max(), freq=step)
        table = table.reindex(table.index.union(full), fill_value=0)
    order = [s for s in kept if s in table.columns] + (["other"] if "other" in table else [])
    ax = _axes(ax, (9.0, 3.6))
    width = _bar_width_days(table.index)
    bottom = np.zeros(len(table))
    for i, column in enumerate(order):
        values = table[column].to_numpy(dtype=float)
        color = GREY if column == "other" else PALETTE[i % len(PALETTE)]
        ax.bar(table.index, values, width=width, bottom=bottom, color=color,
               label=str(column), align="edge")  # fmt: skip
        bottom += values
    ax.set_ylabel("Bounced sends")
    _thousands(ax.yaxis)
    tz = getattr(table.index, "tz", None)
    when = _words(time_key).split(" of ")[0].capitalize()  # "Day": the title says "of send"
    ax.set_xlabel(f"{when} ({tz})" if tz is not None else when)
    _date_axis(ax, tz)
    if others:
        legend = " / ".join(_words(o).capitalize() for o in others)
        ax.legend(title=legend, fontsize="small", title_fontsize="small",
                  loc="upper left", bbox_to_anchor=(1.01, 1), borderaxespad=0)  # fmt: skip
    note = _shown_note(ax, len(kept), len(totals), "series", "the rest summed as other")
    _title(ax, title, f"Bounces per {_words(time_key)}", name)
    ax.set_title(ax.get_title() + note)
    _keep_inside(ax)
    return ax


def _bar_width_days(index: pd.Index) -> float:
    """A bar width (in days, matplotlib's date unit) of 80 % of the smallest bucket step."""
    if len(index) < 2:
        return 0.8
    steps = np.diff(pd.DatetimeIndex(index).as_unit("ns").asi8) / 86_400e9
    return float(steps[steps > 0].min() * 0.8) if (steps > 0).any() else 0.8


def _date_axis(ax: Axes, tz: Any) -> None:
    import matplotlib.dates as mdates

    locator = mdates.AutoDateLocator(minticks=2, maxticks=max(4, int(_width_in(ax) * 1.2)))
    locator.intervald[mdates.HOURLY] = [1, 2, 3, 4, 6, 12, 24]  # narrow plots of two days
    locator.intervald[mdates.MINUTELY] = [1, 5, 10, 15, 30, 60]
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator, tz=tz))
    if _narrow(ax):  # the axis label at the left, clear of the date offset at the right
        ax.xaxis.label.set(x=0, horizontalalignment="left")


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

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_click_urls(events, top=3)
    >>> [label.get_text() for label in ax.get_yticklabels()]
    ['Men', 'Women', 'Hero banner']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    from bextoolkit.reports import click_urls

    data, name = _report(data, ("clickUrl", "unique_clicks"), click_urls, **click_options)
    ranked = data.sort_values(["unique_clicks", "gross_clicks"], ascending=False, kind="stable")
    shown = ranked.head(top)
    total = data.attrs.get("links", len(data))
    total = total if isinstance(total, int) else len(data)
    urls = shown["clickUrl"].astype(object).where(shown["clickUrl"].notna(), "(no URL)")
    given = shown[label] if label in shown.columns else pd.Series(pd.NA, index=shown.index)
    ax = _axes(ax, (8.0, 1.5 + 0.4 * max(len(shown), 1)))
    names = [
        _fit(str(g) if isinstance(g, str) and g.strip() else str(u), ax)
        for g, u in zip(given.astype(object), urls, strict=True)
    ]
    rate_col = "unique_click_rate" if "unique_click_rate" in shown.columns else "click_share"
    rates = shown[rate_col] if rate_col in shown.columns else pd.Series(np.nan, index=shown.index)
    bars = ax.barh(
        range(len(shown)), shown["unique_clicks"].to_numpy(dtype=float), color=PALETTE[0]
    )
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
    ax.set_xlim(0, max(ax.get_xlim()[1], 1) * (1.6 if _narrow(ax) else 1.3))
    _title(ax, title, "Top links", name or _mailing_name(data))
    ax.set_title(
        ax.get_title()
        + _shown_note(ax, len(shown), max(total, len(data)), "links", "most unique clicks")
    )
    _keep_inside(ax)
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

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_timeline(events, freq="day")
    >>> ax.get_title(), [line.get_label() for line in ax.lines][:3]
    ('Events per day', ['emailSend', 'emailOpen', 'emailClick'])
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
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
    for i, event_type in enumerate(e for e in wanted if e in present):
        column = table.columns[present.index(event_type)]
        ax.plot(table.index, table[column].to_numpy(dtype=float), label=event_type, marker=".",
                color=PALETTE[i % len(PALETTE)])  # fmt: skip
    tz = getattr(table.index, "tz", None)
    ax.set_xlabel(f"Time ({tz})" if tz is not None else "Time")
    ax.set_ylabel(f"Events per {_BUCKET_WORDS[freq]}")
    ax.set_ylim(bottom=0)
    if ax.lines:
        ax.legend(title="Event type", fontsize="small")
    _title(ax, title, f"Events per {_BUCKET_WORDS[freq]}", name)
    _date_axis(ax, tz)
    _keep_inside(ax)
    return ax


# --- plot_engagement ----------------------------------------------------------------------
_LINE_STYLES: Final = ("-", "--", ":", "-.")
_EVENT_WORDS: Final = {"emailOpen": "opened", "emailClick": "clicked"}


def _event_word(event: Any) -> str:
    if isinstance(event, str):
        return _EVENT_WORDS.get(event, event)
    return " or ".join(_EVENT_WORDS.get(e, e) for e in event)


def plot_engagement(
    data: pd.DataFrame | list[pd.DataFrame],
    *,
    events: Sequence[str] = ("emailOpen", "emailClick"),
    by: str | None = None,
    step: str | pd.Timedelta = "1h",
    until: str | pd.Timedelta | None = None,
    top: int = len(PALETTE),
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Cumulative share of delivered recipients who opened / clicked, by time since send.

    Parameters
    ----------
    data : DataFrame or list of DataFrame
        The events frame, or :func:`bextoolkit.engagement_curve` results (columns
        ``elapsed`` and ``share``, and ``messageId`` for one curve per mailing): one, or a
        list (one per event type, as ``events=`` draws them).
    events : sequence of str, default ("emailOpen", "emailClick")
        With the events frame: one curve per event type (solid, then dashed, ...).
    by : {None, "messageId"}, default None
        With the events frame: one curve per mailing (and event type), named by its
        ``messageName``, one colour per mailing.
    step, until
        Passed to :func:`bextoolkit.engagement_curve` (grid spacing and end); the
        curves never run past where the data stops.
    top : int, default 7
        At most this many mailings (those with the most delivered); the title says how
        many were left out.
    ax, title
        As in :func:`plot_funnel`; default title ``"Engagement after the send: <name>"``.

    Returns
    -------
    matplotlib Axes
        One line per curve: x = hours since the recipient's own send, y = share of
        delivered recipients engaged by then (in percent, the axis fitted to the data).
        Where over a tenth of the recipients have not been watched that long yet (the
        curve's ``observed`` < 90 % of ``delivered``: their send came shortly before the
        data ends), the background is shaded grey: the share there is a lower bound.

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_engagement(events)
    >>> [line.get_label() for line in ax.lines]
    ['opened', 'clicked']
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
    """
    name = None
    if isinstance(data, list):
        curves = data
    elif _is_events(data, ("elapsed", "share")):
        from bextoolkit.reports import engagement_curve

        name = _mailing_name(data)
        curves = [engagement_curve(data, event=e, by=by, step=step, until=until) for e in events]
    else:
        curves = [data]
    ax = _axes(ax, (8.0, 4.0))
    several = len(curves) > 1
    styles = _LINE_STYLES
    per_mailing = "messageId" in curves[0].columns
    chosen, total, colours = [], 0, {}
    if per_mailing:
        size = curves[0].groupby("messageId", sort=True, observed=True)["delivered"].first()
        total = len(size)
        ranked = list(size.sort_values(ascending=False, kind="stable").index)
        chosen = sorted(ranked[:top], key=list(size.index).index)
        # one colour per mailing; past the palette the smaller ones share one grey
        room = len(PALETTE) if len(chosen) <= len(PALETTE) else len(PALETTE) - 1
        coloured = set(ranked[:room])
        colours = {m: PALETTE[k] for k, m in enumerate(m for m in chosen if m in coloured)}
    source = curves[0] if isinstance(data, list) else data
    names = _names_by_id(source, among=chosen if per_mailing else None)
    shade_from = np.inf
    top_share = 0.0
    for c, curve in enumerate(curves):
        word = _event_word(curve.attrs.get("event", "engaged"))
        if per_mailing:
            parts = [(m, curve[curve["messageId"] == m]) for m in chosen]
        else:
            parts = [(None, curve)]
        for key, part in parts:
            label = word if key is None else names.get(str(key), str(key))
            if key is not None and several:
                label = f"{_fit(label, ax, 0.25)}: {word}"
            hours = part["elapsed"].dt.total_seconds().to_numpy(dtype=float) / 3600
            share = part["share"].to_numpy(dtype=float)
            color = PALETTE[c % len(PALETTE)] if key is None else colours.get(key, GREY)
            thin = key is not None and key not in colours
            ax.plot(hours, share, label=label, color=color, linestyle=styles[c % len(styles)],
                    linewidth=0.8 if thin else 1.5, zorder=1.5 if thin else 2)  # fmt: skip
            if len(share) and not np.isnan(share).all():
                top_share = max(top_share, float(np.nanmax(share)))
            if "observed" in part.columns:
                # shaded where over a tenth of the recipients were not watched this long
                short = (part["observed"] < 0.9 * part["delivered"]).to_numpy()
                if short.any():
                    first = int(np.argmax(short))
                    shade_from = min(shade_from, hours[max(first - 1, 0)])
    from matplotlib.ticker import PercentFormatter

    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=None))
    ax.set_ylim(0, min(1.0, top_share * 1.15) if top_share > 0 else 0.05)
    xs = [np.asarray(line.get_xdata(), dtype=float) for line in ax.lines]
    ends = [float(x.max()) for x in xs if x.size]
    right = max(ends) if ends and max(ends) > 0 else 1.0
    ax.set_xlim(0, right)
    if np.isfinite(shade_from) and shade_from < right:
        ax.axvspan(shade_from, right, color=GREY, alpha=0.18, linewidth=0,
                   label="over 10% of recipients not watched this long yet")  # fmt: skip
        ax.set_xlim(0, right)
    ax.set_xlabel("Hours since the recipient's send")
    ax.set_ylabel("Share of delivered recipients")
    if ax.lines:  # curves rise and level off: the lower right is free
        handles = _engagement_legend(ax, chosen, colours, names, curves if several else [])
        outside = len(handles) > 4 and _width_in(ax) >= 6
        ax.legend(handles=handles, fontsize="small" if len(handles) <= 4 else "x-small",
                  loc="upper left" if outside else "lower right",
                  bbox_to_anchor=(1.01, 1) if outside else None)  # fmt: skip
    if name is None and per_mailing:
        name = _mailing_name(curves[0])
    _title(ax, title, "Engagement after the send", names.get(str(name), name) if name else None)
    ax.set_title(ax.get_title() + _shown_note(ax, len(chosen), total, "mailings", "most delivered"))
    _keep_inside(ax)
    return ax


def _engagement_legend(
    ax: Axes,
    chosen: Sequence[Any],
    colours: dict[Any, str],
    names: dict[str, str],
    styled: Sequence[pd.DataFrame],
) -> list[Any]:
    """One legend entry per mailing (its colour), one for the mailings drawn grey, one per
    event type when there are several (its line style), and the shading."""
    from matplotlib.lines import Line2D

    if not chosen:
        return [a for a in (*ax.lines, *ax.patches) if not str(a.get_label()).startswith("_")]
    shown = [m for m in chosen if m in colours]
    labels = _fit_all([names.get(str(m), str(m)) for m in shown], ax, 0.3)
    handles: list[Any] = [
        Line2D([], [], color=colours[m], label=label)
        for m, label in zip(shown, labels, strict=True)
    ]
    others = len(chosen) - len(colours)
    if others:
        handles.append(Line2D([], [], color=GREY, linewidth=0.8, label=f"{others} other mailings"))
    for c, curve in enumerate(styled):
        word = _event_word(curve.attrs.get("event", "engaged"))
        style: Any = _LINE_STYLES[c % len(_LINE_STYLES)]
        handles.append(Line2D([], [], color="#333333", linestyle=style, label=word))
    if _narrow(ax) and ax.patches:  # the shading's label in a few words
        from matplotlib.patches import Patch

        shade = ax.patches[0]
        return [*handles, Patch(color=shade.get_facecolor(), label="not all watched yet")]
    return handles + list(ax.patches)


def _names_by_id(frame: pd.DataFrame, among: Sequence[Any] | None = None) -> dict[str, str]:
    """``messageId`` -> its first ``messageName`` (empty without those columns), for the
    mailings ``among`` (default all); names that repeat among them get their first send's
    date, then their ``messageId`` (:func:`_distinct`)."""
    if not {"messageId", "messageName"} <= set(frame.columns):
        return {}
    pairs = frame[["messageId", "messageName"]].dropna().drop_duplicates("messageId")
    if among is not None:
        pairs = pairs[pairs["messageId"].astype(str).isin([str(m) for m in among])]
    ids = [str(m) for m in pairs["messageId"]]
    sent: dict[str, Any] = {}
    repeated = pairs["messageName"].astype(str).duplicated().any()  # else names suffice
    if repeated and {EVENT_TYPE_COLUMN, "timestamp"} <= set(frame.columns):
        mine = frame["messageId"].isin(pairs["messageId"]) if among is not None else True
        sends = frame.loc[
            (frame[EVENT_TYPE_COLUMN] == "emailSend") & mine, ["messageId", "timestamp"]
        ]
        first = sends.groupby("messageId", observed=True)["timestamp"].min()
        sent = {str(m): t for m, t in first.items()}
    elif repeated and "sent_at" in frame.columns:
        sent = {
            str(m): t for m, t in frame.groupby("messageId", observed=True)["sent_at"].min().items()
        }
    labels = _distinct([str(n) for n in pairs["messageName"]], [sent.get(m) for m in ids], ids)
    return dict(zip(ids, labels, strict=True))


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

    Examples
    --------
    >>> from bextoolkit.samples import generate_events
    >>> events = generate_events(n_recipients=200, n_mailings=2, seed=1)
    >>> ax = plot_heatmap(events, tz="Europe/Berlin")
    >>> ax.images[0].get_array().shape, ax.get_xlabel()  # weekdays x hours
    ((7, 24), 'Hour of day (Europe/Berlin)')
    >>> import matplotlib.pyplot as plt
    >>> plt.close("all")
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
    width = _width_in(ax)  # narrow figures: every third hour, or every sixth
    every = 1 if width >= 6 else 3 if width >= 3 else 6
    hours = list(range(0, values.shape[1], every))
    ax.set_xticks(hours, [str(data.columns[h]) for h in hours])
    ax.set_yticks(range(values.shape[0]), [str(d) for d in data.index])
    what = "Share of events" if normalize else "Recipients" if unique else "Events"
    bar = ax.figure.colorbar(image, ax=ax, label=what)
    if normalize:
        from matplotlib.ticker import PercentFormatter

        bar.ax.yaxis.set_major_formatter(PercentFormatter(1.0))
    ax.set_xlabel(f"Hour of day ({tz})")
    ax.set_ylabel("Weekday")
    _title(ax, title, "Activity by weekday and hour", name)
    _keep_inside(ax)
    return ax


# --- plot_deliverability ------------------------------------------------------------------
def plot_deliverability(
    data: pd.DataFrame,
    *,
    metric: str = "complaint_rate",
    ax: Axes | None = None,
    title: str | None = None,
    **options: Any,
) -> Axes:
    """A rate per mailbox provider over time, with the providers' published limits.

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.deliverability` result, or the events frame (then it is
        computed with ``**options``, e.g. ``freq="D"``).
    metric : str, default "complaint_rate"
        The rate to draw (``"hard_bounce_rate"``, ``"opt_out_rate"``, ...). For the
        complaint rate, dashed lines mark Gmail's 0.1 % and Gmail's and Yahoo's 0.3 %.
    ax, title
        As in :func:`plot_funnel`.

    Returns
    -------
    matplotlib Axes
        One line per provider (``ax.lines``, in the providers' order, then the limit
        lines), the rate in percent on the y axis.

    Examples
    --------
    >>> import pandas as pd
    >>> table = pd.DataFrame({
    ...     "period": pd.to_datetime(["2026-03-02", "2026-03-09"] * 2, utc=True),
    ...     "provider": ["Google", "Google", "Yahoo", "Yahoo"],
    ...     "sends": [1000] * 4, "complaint_rate": [0.002, 0.004, 0.0, 0.0005]})
    >>> ax = plot_deliverability(table)
    >>> [line.get_label() for line in ax.lines]
    ['Google', 'Yahoo', 'limit 0.1 %', 'limit 0.3 %']
    """
    from matplotlib.ticker import PercentFormatter

    from bextoolkit.reports import deliverability
    from bextoolkit.reports.deliverability import COMPLAINT_LIMITS

    data, name = _report(data, ("period", "provider", metric), deliverability, **options)
    ax = _axes(ax, (7.0, 3.4))
    providers = list(pd.unique(data["provider"].astype(str)))
    for i, provider in enumerate(providers[: len(PALETTE)]):
        rows = data[data["provider"].astype(str) == provider].sort_values("period")
        ax.plot(rows["period"], rows[metric] * 100, marker="o", color=PALETTE[i], label=provider)
    if metric == "complaint_rate":
        for limit, _label in sorted(COMPLAINT_LIMITS):
            label = f"limit {limit:.1%}".replace("%", " %")
            ax.axhline(limit * 100, color=GREY, linestyle="--", label=label)
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=2))
    ax.set_ylim(bottom=0)
    periods = pd.to_datetime(data["period"])
    if periods.nunique() == 1:  # one period: a week either side, not years of empty axis
        from matplotlib.dates import date2num

        week = pd.Timedelta(days=7)
        ax.set_xlim(
            float(date2num(periods.iloc[0] - week)), float(date2num(periods.iloc[0] + week))
        )
    _date_axis(ax, getattr(periods.dt, "tz", None))
    ax.set_xlabel("Period of send")
    ax.set_ylabel(metric.replace("_", " ").capitalize())
    ax.legend(loc="upper left", fontsize="small", frameon=False)
    what = f"{metric.replace('_', ' ').capitalize()} by mailbox provider"
    _title(ax, title, what, name)
    _keep_inside(ax)
    return ax


# --- plot_trend ---------------------------------------------------------------------------
def plot_trend(
    data: pd.DataFrame,
    *,
    freq: str = "send_week",
    ax: Axes | None = None,
    title: str | None = None,
) -> Axes:
    """Sends per period (bars) and the open and click rates over delivered sends (lines),
    with the account's average rate over the whole span (dashed).

    Parameters
    ----------
    data : DataFrame
        A :func:`bextoolkit.funnel` result by a send-time bucket, or the events frame (then
        ``funnel(events, by=freq)`` is computed).
    freq : {"send_week", "send_day", "send_month"}, default "send_week"
        The period, when ``data`` is the events frame.
    ax, title
        As in :func:`plot_funnel`.

    Returns
    -------
    matplotlib Axes
        The rates' Axes (``ax.lines``: open rate, click rate, then their averages); the
        sends are bars on a twin Axes behind it.

    Examples
    --------
    >>> import pandas as pd
    >>> weeks = pd.DataFrame({
    ...     "send_week": pd.to_datetime(["2026-03-02", "2026-03-09"], utc=True),
    ...     "sent": [1000, 1200], "delivered": [980, 1190], "unique_opens": [200, 250],
    ...     "unique_clicks": [30, 40], "open_rate": [200 / 980, 250 / 1190],
    ...     "click_rate": [30 / 980, 40 / 1190]})
    >>> ax = plot_trend(weeks)
    >>> [line.get_label() for line in ax.lines][:2]
    ['Open rate', 'Click rate']
    """
    from matplotlib.ticker import FuncFormatter, PercentFormatter

    from bextoolkit.reports import funnel

    data, _ = _report(data, ("sent", "open_rate", "click_rate"), funnel, by=freq)
    key = _key_columns(data, ("sent",))[0]
    data = data.sort_values(key)
    ax = _axes(ax, (7.0, 3.4))
    when = pd.to_datetime(data[key])
    bars = ax.twinx()
    step = when.diff().median() if len(when) > 1 else pd.Timedelta(days=7)
    width = 0.8 * step / pd.Timedelta(days=1)  # dates are days on a matplotlib axis
    bars.bar(when, data["sent"], width=width, color=PALETTE[5], alpha=0.35, label="Sends")
    bars.set_ylabel("Sends")
    bars.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{v:,.0f}"))
    ax.set_zorder(bars.get_zorder() + 1)
    ax.patch.set_visible(False)
    delivered = data["delivered"].sum()
    rates = (("open_rate", "Open rate"), ("click_rate", "Click rate"))
    for i, (column, label) in enumerate(rates):
        ax.plot(when, data[column] * 100, marker="o", color=PALETTE[i], label=label)
    for i, (count, label) in enumerate((("unique_opens", "open"), ("unique_clicks", "click"))):
        if delivered:
            average = data[count].sum() / delivered * 100
            ax.axhline(average, color=PALETTE[i], linestyle="--", linewidth=1,
                       label=f"Average {label} rate")  # fmt: skip
    ax.yaxis.set_major_formatter(PercentFormatter(decimals=0))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("Rate of delivered sends")
    names = {"send_week": "Week of send", "send_day": "Day of send"}
    ax.set_xlabel(names.get(key, "Month of send"))
    _date_axis(ax, getattr(when.dt, "tz", None))
    wide = _room_width(ax) >= 5
    ax.legend(loc="upper left", fontsize="small" if wide else "x-small", frameon=False,
              ncols=2 if wide else 1)  # fmt: skip
    ax.set_title(title if title is not None else "Sends and rates over time")
    _keep_inside(ax)
    return ax
