"""The pieces of the HTML report: styles, tables with human labels, charts as inline SVG.

Private to :mod:`bextoolkit.sharing`. Tables are written here rather than with
``DataFrame.to_html`` so that numbers get thousands separators and right alignment, text
stays left-aligned, and column names read as words. Charts are drawn twice (a wide
rendering for screens and print, a narrow one for phones, switched by CSS), their text
kept as text (``svg.fonttype: none``), every SVG id made unique in the page, and each
chart named for screen readers by a ``<title>`` and ``<desc>``.
"""

from __future__ import annotations

import html
import io
import itertools
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

if TYPE_CHECKING:
    from matplotlib.axes import Axes

CSS: Final = """
body { font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2433; max-width: 1240px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom:
     2px solid #dde3ee; padding-bottom: .2em; } .sub { color: #4f586b; }
.scroll { overflow-x: auto; } table { border-collapse: collapse; margin: .6em 0; font-size: .85em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; }
th, td { padding: .28em .45em; border-bottom: 1px solid #e4e8f0; text-align: left;
         vertical-align: top; }
th { background: #f3f6fb; } td:first-child { min-width: 9em; }
button.sort { font: inherit; font-weight: 600; background: none; border: 0; padding: 0;
              cursor: pointer; text-align: inherit; color: inherit; white-space: normal; }
button.sort::after { content: " \\2195"; color: #8c8c8c; }
button.sort:focus-visible { outline: 2px solid #0072B2; }
.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
 tfoot td { font-weight: 600; border-top: 2px solid #c9d1e0; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0 .4em; }
.card { background: #f3f6fb; border-radius: 8px; padding: .6em 1em; min-width: 8em; }
.card b { display: block; font-size: 1.5em; } .people .card { background: #eef6f1; }
figure { margin: 1em 0; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption, .note { color: #4f586b; font-size: .9em; }
.narrow-chart { display: none; }
@media (max-width: 640px) {
  body { padding: 0 .6em; margin: 1em auto; } .wide-chart { display: none; }
  .narrow-chart { display: block; } .card { min-width: 40%; }
}
@page { size: A4 portrait; margin: 12mm; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  .wide-chart { display: block; } .narrow-chart { display: none; }
  h2 { break-after: avoid; } figure, tr { break-inside: avoid; }
  .scroll { overflow: visible; }
  table { width: 100%; font-size: 6.2pt; table-layout: auto; }
  th, td { padding: .15em .2em; overflow-wrap: normal; word-break: normal; }
  td:first-child { min-width: 5em; }
  .num { white-space: nowrap; }  /* no number or date is ever split over two lines */
  button.sort::after { content: none; }
  details { display: block; } details > summary { display: none; }
}
"""

#: How the report names columns.
LABELS: Final = {
    "messageName": "Mailing",
    "messageId": "Mailing id",
    "sent_at": "Sent at",
    "sent": "Sent",
    "delivered": "Delivered",
    "unique_opens": "Unique opens",
    "unique_clicks": "Unique clicks",
    "gross_opens": "Opens",
    "gross_clicks": "Clicks",
    "bounced": "Bounced",
    "opt_outs": "Opt\u2011outs",
    "open_rate": "Open rate",
    "click_rate": "Click rate",
    "click_to_open": "Click\u2011to\u2011open",  # non-breaking hyphens: one word in print
    "bounce_rate": "Bounce rate",
    "opt_out_rate": "Opt\u2011out rate",
    "bounceType": "Bounce type",
    "domain": "Recipient domain",
    "bounces": "Bounced sends",
    "unique_recipients": "People",
    "share": "Share of bounces",
    "rate": "Rate (of sends)",
    "clickUrl": "Link",
    "urlDescription": "Description",
    "click_share": "Share of clicks",
    "unique_click_rate": "Unique click rate",
    "median_time_to_click": "Median time to click",
    "day": "Day",
    "provider": "Mailbox provider",
    "period": "Period",
    "sends": "Sends",
    "hard_bounce_rate": "Hard bounces",
    "soft_bounce_rate": "Soft bounces",
    "complaints": "Complaints",
    "complaint_rate": "Complaint rate",
    "status": "Published limits",
    "people": "People",
}
RATES: Final = frozenset(
    {"open_rate", "click_rate", "click_to_open", "bounce_rate", "opt_out_rate", "share", "rate",
     "click_share", "unique_click_rate", "hard_bounce_rate", "soft_bounce_rate",
     "complaint_rate"}
)  # fmt: skip
#: Rates compared with limits of a tenth of a percent: shown with two decimals.
FINE_RATES: Final = frozenset({"complaint_rate"})
DASH: Final = "–"


def esc(text: object) -> str:
    return html.escape(str(text))


def percent(value: Any) -> str:
    return DASH if value is None or pd.isna(value) else f"{value:.1%}"


def duration(value: Any) -> str:
    if value is None or pd.isna(value):
        return DASH
    seconds = int(pd.Timedelta(value).total_seconds())
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    if days:
        return f"{days}d {hours}h"
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def cell(
    value: Any, column: str, tz: str | None = None, rates: frozenset[str] = RATES
) -> tuple[str, bool]:
    """A value as text, and whether it is a number (right-aligned)."""
    if column in FINE_RATES and not (value is None or pd.isna(value)):
        return f"{value:.2%}", True
    if column in rates:
        return percent(value), True
    if isinstance(value, pd.Timedelta):
        return duration(value), True
    if isinstance(value, pd.Timestamp):
        if pd.isna(value):
            return DASH, True
        stamp = value.tz_convert(tz) if tz and value.tzinfo is not None else value
        return f"{stamp:%Y-%m-%d %H:%M}", True
    if isinstance(value, bool):
        return ("yes" if value else "no"), False
    if value is None or value is pd.NA or (isinstance(value, float) and pd.isna(value)):
        return DASH, False
    if isinstance(value, int | float) or hasattr(value, "dtype"):
        number = float(value)
        return (f"{number:,.0f}" if number.is_integer() else f"{number:,.2f}"), True
    return str(value), False


def table(
    frame: pd.DataFrame,
    *,
    caption: str | None = None,
    labels: Mapping[str, str] | None = None,
    footer: Mapping[str, Any] | None = None,
    tz: str | None = None,
    rates: Sequence[str] = (),
    sortable: bool = False,
) -> str:
    """An HTML table: human column labels, formatted numbers right-aligned, text left.

    Columns named in :data:`RATES` or ``rates`` show as percentages. ``sortable``: every
    column head is a button that sorts the rows by it (:data:`SORT_SCRIPT`, by mouse or
    keyboard, offline); cells carry the raw value to sort by.
    """
    names = {**LABELS, **(labels or {})}
    as_rates = RATES | frozenset(rates)
    columns = [str(c) for c in frame.columns]
    head = "".join(
        f"<th scope='col'{_num_class(frame, c, as_rates)}>"
        + (
            f"<button type='button' class='sort'>{esc(names.get(c, c))}</button>"
            if sortable
            else esc(names.get(c, c))
        )
        + "</th>"
        for c in columns
    )
    rows = []
    for values in frame.itertuples(index=False):
        cells = []
        for column, value in zip(columns, values, strict=True):
            text, numeric = cell(value, column, tz, as_rates)
            key = f" data-v='{esc(_sort_key(value))}'" if sortable and numeric else ""
            cells.append(
                f"<td class='num'{key}>{esc(text)}</td>" if numeric else f"<td>{esc(text)}</td>"
            )
        rows.append("<tr>" + "".join(cells) + "</tr>")
    foot = ""
    if footer is not None:
        cells = []
        for column in columns:
            if column in footer:
                text, numeric = cell(footer[column], column, tz, as_rates)
            else:
                text, numeric = "", False
            cells.append(
                f"<td class='num'>{esc(text)}</td>" if numeric else f"<td>{esc(text)}</td>"
            )
        foot = "<tfoot><tr>" + "".join(cells) + "</tr></tfoot>"
    cap = f"<caption>{esc(caption)}</caption>" if caption else ""
    kind = " class='sortable'" if sortable else ""
    return (
        f"<div class='scroll' tabindex='0' role='region' aria-label='{esc(caption or 'Table')}'>"
        f"<table{kind}>{cap}<thead><tr>{head}</tr></thead>"
        f"<tbody>{''.join(rows)}</tbody>{foot}</table></div>"
    )


def _sort_key(value: Any) -> str:
    """A number to sort a numeric cell by (times as epoch seconds, missing last)."""
    if value is None or value is pd.NA or (not isinstance(value, str) and pd.isna(value)):
        return "Infinity"
    if isinstance(value, pd.Timestamp):
        return f"{value.timestamp():.0f}"
    if isinstance(value, pd.Timedelta):
        return f"{value.total_seconds():.0f}"
    return f"{float(value):.10g}"


#: The few lines that make ``table(sortable=True)`` sort, offline: a click (or Enter /
#: Space on the focused button) sorts by that column, again to reverse; ``aria-sort`` says
#: which way for screen readers. Text compares as text, numbers by their raw ``data-v``.
SORT_SCRIPT: Final = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th button.sort').forEach(function (button, column) {
    button.addEventListener('click', function () {
      var th = button.parentNode, up = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach(function (h) { h.removeAttribute('aria-sort'); });
      th.setAttribute('aria-sort', up ? 'ascending' : 'descending');
      var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows);
      function key(row) { var c = row.cells[column]; return c.dataset.v !== undefined ?
        parseFloat(c.dataset.v) : c.textContent.toLowerCase(); }
      rows.sort(function (a, b) { var x = key(a), y = key(b);
        return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1); });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""


def _num_class(frame: pd.DataFrame, column: str, rates: frozenset[str]) -> str:
    numeric = column in rates or pd.api.types.is_numeric_dtype(frame[column])
    numeric |= pd.api.types.is_datetime64_any_dtype(frame[column])
    numeric |= pd.api.types.is_timedelta64_dtype(frame[column])
    return " class='num'" if numeric and not pd.api.types.is_bool_dtype(frame[column]) else ""


# --- charts -------------------------------------------------------------------------------
_ID = re.compile(r"""\bid=(["'])([^"']+)\1""")


class Charts:
    """Renders charts as inline SVG with ids unique across one page."""

    #: (width, height factor) of the wide (screen, print) and narrow (phone) renderings.
    WIDE: Final = 9.0
    NARROW: Final = 4.2

    def __init__(self) -> None:
        self._count = itertools.count(1)

    def figure(
        self,
        draw: Callable[[Axes], Axes],
        *,
        height: float,
        description: str,
        caption: str | None = None,
    ) -> str:
        """``<figure>`` holding the wide and narrow renderings of ``draw``, named for readers."""
        wide, title = self._svg(draw, self.WIDE, height, description)
        narrow, _ = self._svg(draw, self.NARROW, max(height * 1.15, 3.2), description)
        text = caption if caption is not None else description
        return (
            f"<figure><div class='wide-chart'>{wide}</div>"
            f"<div class='narrow-chart'>{narrow}</div>"
            f"<figcaption>{esc(title)}. {esc(text)}</figcaption></figure>"
        )

    def _svg(
        self, draw: Callable[[Axes], Axes], width: float, height: float, description: str
    ) -> tuple[str, str]:
        import matplotlib
        from matplotlib.figure import Figure  # matplotlib only when a report is drawn

        with matplotlib.rc_context({"svg.fonttype": "none", "svg.hashsalt": "bextoolkit"}):
            fig = Figure(figsize=(width, height), layout="constrained")
            ax = draw(fig.add_subplot())
            buffer = io.StringIO()
            fig.savefig(buffer, format="svg")
        title = " ".join(ax.get_title().split()) or "Chart"
        svg = buffer.getvalue()
        svg = svg[svg.index("<svg") :]
        prefix = f"c{next(self._count)}-"
        svg = unique_ids(svg, prefix)
        end = svg.index(">")
        svg = (
            f"{svg[:end]} role='img' aria-labelledby='{prefix}title {prefix}desc'>"
            f"<title id='{prefix}title'>{esc(title)}</title>"
            f"<desc id='{prefix}desc'>{esc(description)}</desc>{svg[end + 1 :]}"
        )
        return svg, title


def unique_ids(svg: str, prefix: str) -> str:
    """Every ``id`` of ``svg`` and every reference to it (``#id``) prefixed with ``prefix``."""
    ids = {match.group(2) for match in _ID.finditer(svg)}
    if not ids:
        return svg
    svg = _ID.sub(lambda m: f"id={m.group(1)}{prefix}{m.group(2)}{m.group(1)}", svg)
    pattern = re.compile(
        r"#(" + "|".join(map(re.escape, sorted(ids, key=len, reverse=True))) + r")(?=[\"')])"
    )
    return pattern.sub(lambda m: f"#{prefix}{m.group(1)}", svg)


def cards(items: Sequence[tuple[str, str]], css_class: str = "cards") -> str:
    inner = "".join(f"<div class='card'><b>{esc(v)}</b>{esc(k)}</div>" for k, v in items)
    return f"<div class='{css_class}'>{inner}</div>"
