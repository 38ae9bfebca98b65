"""A campaign report as one standalone HTML file: tables, plots and provenance, no network.

:class:`CampaignReport` gathers the answers of :mod:`bextoolkit.reports` and the plots of
:mod:`bextoolkit.plotting` for one events frame. ``to_html(path)`` writes a single file
(plots embedded as inline SVG, styles inline, nothing fetched when it is opened) that
reads on a laptop screen and in print; in a notebook the object displays itself inline.
"""

from __future__ import annotations

import datetime as dt
import html
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from bextoolkit import plotting, reports
from bextoolkit.exceptions import BexConfigError, BexError, redact
from bextoolkit.reports import quality
from bextoolkit.schema import EVENT_TYPE_COLUMN

if TYPE_CHECKING:
    from matplotlib.axes import Axes

__all__ = ["CampaignReport", "render_notebook"]

_CSS = """
body { font: 15px/1.45 -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1d2433; max-width: 1240px; margin: 2em auto; padding: 0 1.2em; }
h1 { font-size: 1.7em; margin-bottom: .2em; } h2 { margin-top: 1.8em; border-bottom:
     2px solid #dde3ee; padding-bottom: .2em; } .sub { color: #5b6478; }
.wide { overflow-x: auto; } table { border-collapse: collapse; margin: .6em 0; font-size: .85em; }
th, td { padding: .28em .7em; border-bottom: 1px solid #e4e8f0; text-align: right; }
th { background: #f3f6fb; } td:first-child, th:first-child { text-align: left; }
.cards { display: flex; flex-wrap: wrap; gap: .8em; margin: 1em 0; }
.card { background: #f3f6fb; border-radius: 8px; padding: .6em 1em; min-width: 8em; }
.card b { display: block; font-size: 1.5em; } figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; } .note { color: #5b6478; font-size: .9em; }
@media print { body { margin: 0; max-width: none; } h2 { page-break-after: avoid; }
               figure, table { page-break-inside: avoid; } }
"""

_RATE_COLUMNS = ("open_rate", "click_rate", "click_to_open", "bounce_rate", "opt_out_rate")
#: nbconvert's page loads require.js and MathJax from a CDN; a shared report must not.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE)


@dataclass
class CampaignReport:
    """A campaign report over an events frame, to view inline or write as one HTML file.

    Parameters
    ----------
    events : DataFrame
        The events frame of :func:`bextoolkit.read_events` (its ``attrs`` give the
        provenance section). Not modified.
    title : str, default "Campaign report"
    tz : str, default "UTC"
        Time zone for dates, the heatmap and the provenance date range.
    mailings : sequence of str, optional
        ``messageId`` values to keep; default all.
    start, end : str or Timestamp, optional
        Keep events at or after ``start`` and before ``end`` (naive values read in ``tz``).
    top_links : int, default 10
        How many links the click table shows.

    Examples
    --------
    >>> report = CampaignReport(events, tz="Europe/Berlin")  # doctest: +SKIP
    >>> report.to_html("report.html")  # doctest: +SKIP
    """

    events: pd.DataFrame
    title: str = "Campaign report"
    tz: str = "UTC"
    mailings: Sequence[str] | None = None
    start: Any = None
    end: Any = None
    top_links: int = 10
    _selected: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._selected = _select(self.events, self.mailings, self.start, self.end, self.tz)

    def __repr__(self) -> str:
        return (
            f"CampaignReport(title={self.title!r}, events={len(self._selected)}, "
            f"mailings={self._selected['messageId'].nunique()}, tz={self.tz!r})"
        )

    @property
    def funnel(self) -> pd.DataFrame:
        """The funnel per mailing (:func:`bextoolkit.funnel`) the report shows."""
        return reports.funnel(self._selected)

    def to_html(self, path: str | Path | None = None) -> str:
        """Render the report; write it to ``path`` when given. Returns the HTML text."""
        page = (
            "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
            "<meta name='viewport' content='width=device-width, initial-scale=1'>"
            f"<title>{_esc(self.title)}</title><style>{_CSS}</style></head>"
            f"<body>{self._body()}</body></html>\n"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return f"<div class='bextoolkit-report'><style>{_CSS}</style>{self._body()}</div>"

    def _body(self) -> str:
        ev = self._selected
        funnel = reports.funnel(ev)
        whole = reports.funnel(ev, by=None)
        parts = [
            f"<h1>{_esc(self.title)}</h1>",
            f"<p class='sub'>{_esc(_date_range(ev, self.tz))} · generated "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by bextoolkit</p>",
            _cards(whole),
            "<h2>Funnel per mailing</h2>",
            _figure(lambda ax: plotting.plot_funnel(funnel, ax=ax), height=max(3, len(funnel))),
            _table(_funnel_table(funnel)),
            "<h2>Bounces</h2>",
            self._bounces(ev),
            "<h2>Top links</h2>",
            self._links(ev),
            "<h2>When people engage</h2>",
            _figure(lambda ax: plotting.plot_engagement(ev, ax=ax, until="72h")),
            _figure(lambda ax: plotting.plot_heatmap(ev, tz=self.tz, ax=ax), height=3.6),
            "<h2>Quality flags</h2>",
            _quality(ev),
            "<h2>Data and conventions</h2>",
            _provenance(self.events, ev),
            f"<p class='note'>{_esc(_convention_sentence(funnel))}</p>",
        ]
        return "\n".join(parts)

    def _bounces(self, ev: pd.DataFrame) -> str:
        if not (ev[EVENT_TYPE_COLUMN] == "emailBounce").any():
            return "<p>No bounces in these events.</p>"
        breakdown = reports.bounce_breakdown(ev)
        by_domain = reports.bounce_breakdown(ev, by="domain").head(10)
        return (
            _figure(lambda ax: plotting.plot_bounces(breakdown, ax=ax), height=2.6)
            + _table(_percent(breakdown, ("share", "rate")))
            + "<p>Top recipient domains by bounces:</p>"
            + _table(_percent(by_domain, ("share", "rate")))
        )

    def _links(self, ev: pd.DataFrame) -> str:
        if not (ev[EVENT_TYPE_COLUMN] == "emailClick").any():
            return "<p>No clicks in these events.</p>"
        links = reports.click_urls(ev, by=None).head(self.top_links)
        shown = links[["clickUrl", "urlDescription", "gross_clicks", "unique_clicks"]].copy()
        shown["click_share"] = links["click_share"]
        shown["unique_click_rate"] = links["unique_click_rate"]
        shown["median_time_to_click"] = links["median_time_to_click"].map(_duration)
        return _figure(
            lambda ax: plotting.plot_click_urls(links, ax=ax), height=max(3, len(links) * 0.4)
        ) + _table(_percent(shown, ("click_share", "unique_click_rate")))


# --- selection ----------------------------------------------------------------------------
def _select(
    events: pd.DataFrame, mailings: Sequence[str] | None, start: Any, end: Any, tz: str
) -> pd.DataFrame:
    keep = pd.Series(True, index=events.index)
    if mailings is not None:
        keep &= events["messageId"].astype("string").isin([str(m) for m in mailings])
    for bound, inside in ((start, "ge"), (end, "lt")):
        if bound is not None:
            stamp = pd.Timestamp(bound)
            stamp = stamp.tz_localize(tz) if stamp.tzinfo is None else stamp
            keep &= getattr(events["timestamp"], inside)(stamp)
    return events[keep]


# --- pieces of the page -------------------------------------------------------------------
def _esc(text: object) -> str:
    return html.escape(str(text))


def _figure(draw: Callable[[Axes], Axes], *, height: float = 3.2) -> str:
    """Draw on a fresh figure (never pyplot's global state) and inline it as SVG."""
    from matplotlib.figure import Figure  # matplotlib only when a report is drawn

    fig = Figure(figsize=(9, height), layout="constrained")
    draw(fig.add_subplot())
    buffer = io.StringIO()
    fig.savefig(buffer, format="svg")
    svg = buffer.getvalue()
    return f"<figure>{svg[svg.index('<svg') :]}</figure>"


def _percent(frame: pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    shown = frame.copy()
    for column in columns:
        if column in shown.columns:
            shown[column] = shown[column].map(lambda v: "–" if pd.isna(v) else f"{v:.1%}")
    return shown


def _table(frame: pd.DataFrame) -> str:
    html_table = frame.to_html(index=False, na_rep="–", border=0, escape=True)
    return f"<div class='wide'>{html_table}</div>"


def _funnel_table(funnel: pd.DataFrame) -> pd.DataFrame:
    columns = [
        c
        for c in (
            "messageName",
            "sent",
            "delivered",
            "unique_opens",
            "unique_clicks",
            "bounced",
            "opt_outs",
            *_RATE_COLUMNS,
        )
        if c in funnel.columns
    ]
    return _percent(funnel[columns], _RATE_COLUMNS)


def _cards(whole: pd.DataFrame) -> str:
    row = whole.iloc[0] if len(whole) else pd.Series(dtype=object)
    cards = [
        ("Sent", f"{int(row.get('sent', 0)):,}"),
        ("Delivered", f"{int(row.get('delivered', 0)):,}"),
        ("Unique open rate", _rate(row.get("open_rate"))),
        ("Unique click rate", _rate(row.get("click_rate"))),
        ("Click-to-open", _rate(row.get("click_to_open"))),
        ("Bounce rate", _rate(row.get("bounce_rate"))),
    ]
    inner = "".join(f"<div class='card'><b>{v}</b>{_esc(k)}</div>" for k, v in cards)
    caption = "<p class='note'>All mailings together, counting each recipient once.</p>"
    return f"<div class='cards'>{inner}</div>{caption}"


def _rate(value: Any) -> str:
    return "–" if value is None or pd.isna(value) else f"{value:.1%}"


def _duration(value: Any) -> str:
    if pd.isna(value):
        return "–"
    seconds = int(pd.Timedelta(value).total_seconds())
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h {rest // 60:02d}m" if hours else f"{rest // 60}m {rest % 60:02d}s"


def _quality(ev: pd.DataFrame) -> str:
    flagged = quality.flag_bot_clicks(quality.flag_machine_opens(ev))
    opens = int((flagged[EVENT_TYPE_COLUMN] == "emailOpen").sum())
    clicks = int((flagged[EVENT_TYPE_COLUMN] == "emailClick").sum())
    machine = int(flagged["machine_open"].sum())
    bots = int(flagged["bot_click"].sum())
    plain = reports.funnel(flagged, by=None)
    clean = reports.funnel(flagged, by=None, exclude=True)
    compare = pd.DataFrame(
        {
            "metric": ["open_rate", "click_rate", "click_to_open"],
            "all events": [_rate(plain[m].iloc[0]) for m in _RATE_COLUMNS[:3]],
            "without flagged": [_rate(clean[m].iloc[0]) for m in _RATE_COLUMNS[:3]],
        }
    )
    reasons = pd.concat(
        [
            flagged["machine_open_reason"].dropna().value_counts(),
            flagged["bot_click_reason"].dropna().value_counts(),
        ]
    )
    reason_table = reasons.rename_axis("reason").reset_index(name="events")
    return (
        f"<p>{machine:,} of {opens:,} opens look like machine opens (privacy proxies, "
        f"pre-fetch); {bots:,} of {clicks:,} clicks look like security-scanner clicks.</p>"
        + _table(compare)
        + (_table(reason_table) if len(reason_table) else "")
    )


def _date_range(ev: pd.DataFrame, tz: str) -> str:
    if ev.empty:
        return "no events"
    stamps = ev["timestamp"].dt.tz_convert(tz)
    return f"{stamps.min():%Y-%m-%d %H:%M} to {stamps.max():%Y-%m-%d %H:%M} ({tz})"


def _provenance(events: pd.DataFrame, selected: pd.DataFrame) -> str:
    files = events.attrs.get("files") or []
    skipped = events.attrs.get("skipped_lines") or []
    lines = [
        f"{len(selected):,} events shown of {len(events):,} loaded, from {len(files)} file(s); "
        f"{events.attrs.get('duplicates_dropped', 0):,} duplicate events dropped; "
        f"{len(skipped):,} bad line(s) skipped."
    ]
    out = f"<p>{_esc(lines[0])}</p>"
    if files:
        table = pd.DataFrame(
            [{"file": redact(str(f.get("path", ""))), "rows": f.get("rows")} for f in files]
        )
        out += f"<details><summary>Files read</summary>{_table(table)}</details>"
    if skipped:
        table = pd.DataFrame(skipped).astype(str).map(redact)  # no login reaches a shared report
        out += f"<details open><summary>Skipped lines</summary>{_table(table)}</details>"
    return out


def _convention_sentence(funnel: pd.DataFrame) -> str:
    convention = funnel.attrs.get("convention", {})
    described = convention.get("description") if isinstance(convention, dict) else None
    return "Metric conventions: " + (
        described or "Acoustic's own definitions (rates over delivered = sent - bounced)."
    )


# --- a parameterised report notebook, rendered to HTML -------------------------------------
def render_notebook(notebook: str | Path, parameters: dict[str, Any], output: str | Path) -> Path:
    """Run a report notebook with ``parameters`` and write it as HTML without the code.

    The notebook's cell tagged ``parameters`` (papermill's convention) is followed by an
    injected cell that assigns the given values, so papermill and this function agree.

    Raises
    ------
    BexConfigError
        The notebook is missing or has no ``parameters`` cell, or the ``notebook`` extra
        (nbclient, nbconvert, ipykernel) is not installed.
    BexError
        A cell failed; the message gives its error.
    """
    try:
        import nbclient
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError as exc:
        raise BexConfigError(
            f"rendering a notebook needs {exc.name}: pip install 'bextoolkit[notebook]'"
        ) from exc
    path = Path(notebook)
    if not path.is_file():
        raise BexConfigError(f"{path}: no such notebook; pass --notebook PATH")
    nb = nbformat.read(path, as_version=4)
    tagged = [i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", [])]
    if not tagged:
        raise BexConfigError(f"{path}: no cell tagged 'parameters' to inject values after")
    assignments = "\n".join(f"{name} = {value!r}" for name, value in parameters.items())
    injected = nbformat.v4.new_code_cell(
        "# Parameters injected by bextoolkit\n" + assignments,
        metadata={"tags": ["injected-parameters"]},
    )
    nb.cells.insert(tagged[0] + 1, injected)
    client = nbclient.NotebookClient(nb, timeout=600, resources={"metadata": {"path": path.parent}})
    try:
        client.execute()
    except nbclient.exceptions.CellExecutionError as exc:
        raise BexError(f"{path}: a cell failed: {exc.ename}: {exc.evalue}") from None
    body, _ = HTMLExporter(exclude_input=True, exclude_input_prompt=True).from_notebook_node(nb)
    out = Path(output)
    out.write_text(_REMOTE_SCRIPT.sub("", body), encoding="utf-8")
    return out
