"""A campaign report as one standalone HTML file: tables, plots and provenance, no network.

:class:`CampaignReport` gathers the answers of :mod:`bextoolkit.reports` and the plots of
:mod:`bextoolkit.plotting` for one events frame. ``to_html(path)`` writes a single file
(plots embedded as inline SVG, styles inline, nothing fetched when it is opened) that
reads on a laptop screen and in print; in a notebook the object displays itself inline.
"""

from __future__ import annotations

import datetime as dt
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import pandas as pd

from bextoolkit import _html, plotting, reports
from bextoolkit.exceptions import BexConfigError, BexError, redact
from bextoolkit.reports._dask import ROW, is_dask_frame
from bextoolkit.reports.abtest import wilson_interval
from bextoolkit.reports.deliverability import provider_notes
from bextoolkit.schema import EVENT_TYPE_COLUMN

__all__ = ["CampaignReport", "render_notebook"]

_CSS = _html.CSS

_RATE_COLUMNS = ("open_rate", "click_rate", "click_to_open", "bounce_rate", "opt_out_rate")
#: nbconvert's page loads require.js and MathJax from a CDN; a shared report must not.
_REMOTE_SCRIPT = re.compile(r"<script[^>]*\bsrc=[\"']https?://[^>]*>\s*</script>", re.IGNORECASE)


@dataclass
class CampaignReport:
    """A campaign report over an events frame, to view inline or write as one HTML file.

    Parameters
    ----------
    events : DataFrame or dask.dataframe.DataFrame
        The events frame of :func:`bextoolkit.read_events` (its ``attrs`` give the
        provenance section). Not modified. A Dask frame stays on the workers: it is
        shuffled by recipient once and persisted there
        (:func:`bextoolkit.reports.by_recipient`), every section is computed from
        partial counts, and the page is the one pandas gives.
    title : str, default "Campaign report"
    tz : str, default "UTC"
        Time zone for dates, the heatmap and the provenance date range.
    mailings : sequence of str, optional
        ``messageId`` values to keep; default all.
    start, end : str or Timestamp, optional
        Show the sends sent at or after ``start`` and before ``end`` (naive values read in
        ``tz``) with all their later events, as every report's ``start=``/``end=`` does:
        the report and ``bex.funnel(events, start=..., end=...)`` give the same mailings
        and totals.
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
    _attrs: dict = field(init=False, repr=False)
    _base: pd.DataFrame = field(init=False, repr=False)
    _selected: pd.DataFrame = field(init=False, repr=False)
    _whole: pd.DataFrame = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._attrs = dict(getattr(self.events, "attrs", None) or {})
        if is_dask_frame(self.events):  # shuffled once; every section reads it on the workers
            self.events = reports.by_recipient(self.events).persist()  # type: ignore[arg-type]
        self._base = _select(self.events, self.mailings)
        window = {"start": _moment(self.start, self.tz), "end": _moment(self.end, self.tz)}
        self._selected = reports.events_of_sends(
            self._base, start=window["start"], end=window["end"]
        )
        if is_dask_frame(self._selected):  # every section reads it: select once
            self._selected = self._selected.persist()  # type: ignore[operator]
        self._whole = reports.funnel(self._base, by=None, **window)

    def __repr__(self) -> str:
        events, mailings = _computed(self._selected.shape[0], self._selected["messageId"].nunique())
        return (
            f"CampaignReport(title={self.title!r}, events={events}, "
            f"mailings={mailings}, tz={self.tz!r})"
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
            f"<body><main>{self._body()}</main>"
            f"<script>{_html.SORT_SCRIPT}</script></body></html>\n"
        )
        if path is not None:
            Path(path).write_text(page, encoding="utf-8")
        return page

    def _repr_html_(self) -> str:
        return f"<div class='bextoolkit-report'><style>{_CSS}</style>{self._body()}</div>"

    def _body(self) -> str:
        ev = self._selected
        charts = _html.Charts()
        funnel = per_mailing(ev)
        whole = self._whole
        seen = _seen(self.events, ev)
        parts = [
            f"<h1>{_esc(self.title)}</h1>",
            f"<p class='sub'>{_esc(_date_range(seen, self.tz))} · generated "
            f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC by bextoolkit</p>",
            _headline(funnel, whole, complaints_known=seen.has("emailComplaint")),
            "<h2>Funnel per mailing</h2>",
            self._mailings(ev, funnel, charts),
            "<h2>Bounces</h2>",
            self._bounces(ev, charts, seen),
            "<h2>Mailbox providers</h2>",
            self._providers(ev, charts, seen),
            "<h2>Top links</h2>",
            self._links(ev, charts, seen),
            "<h2>When people engage</h2>",
            self._engagement(ev, charts, seen),
            "<h2>Quality flags</h2>",
            _quality(ev),
            "<h2>Data and conventions</h2>",
            _provenance(self._attrs, seen, whole),
            f"<p class='note'>{_esc(_convention_sentence(funnel))}</p>",
        ]
        return "\n".join(parts)

    def _mailings(self, ev: pd.DataFrame, funnel: pd.DataFrame, charts: _html.Charts) -> str:
        if funnel.empty:
            return "<p>No mailings in these events.</p>"
        many = len(funnel) > MANY_MAILINGS
        out = self._at_a_glance(ev, funnel, charts) if many else self._each(funnel, charts)
        table = _mailing_table(funnel, self.tz)
        if many:  # folded: the page stays short at any number of mailings
            table = f"<details><summary>Every mailing ({len(funnel):,})</summary>{table}</details>"
        return out + table

    def _each(self, funnel: pd.DataFrame, charts: _html.Charts) -> str:
        """A few mailings: one nested bar per mailing."""
        description = (
            f"Nested bars per mailing in send order ({len(funnel)}): sent, delivered, unique "
            "opens and unique clicks, each row labelled with its open and click rates. The "
            "table below has every mailing."
        )
        labelled = funnel.assign(messageName=_names(funnel, self.tz, dated=False))
        return charts.figure(
            lambda ax: plotting.plot_funnel(labelled, ax=ax, top=MANY_MAILINGS),
            height=(2.6 if len(funnel) == 1 else 1.8 + 0.3 * len(funnel)),
            description=description,
        )

    def _at_a_glance(self, ev: pd.DataFrame, funnel: pd.DataFrame, charts: _html.Charts) -> str:
        """Many mailings: the trend, best and worst, types, and this period against the last."""
        weekly = reports.funnel(ev, by="send_week")
        out = charts.figure(
            lambda ax: plotting.plot_trend(weekly, ax=ax),
            height=3.4,
            description="Sends per week of send (bars) and the open and click rates of "
            "delivered sends (lines), with the average of the whole span (dashed).",
        )
        best, worst = _best_and_worst(funnel, self.tz)
        labels = {"click_rate_low": "Low (95 %)", "click_rate_high": "High (95 %)"}
        rates = ["click_rate_low", "click_rate_high"]
        ranked = f"of mailings with {MIN_DELIVERED:,}+ delivered sends"
        for rows, word in ((best, "Best"), (worst, "Worst")):
            if len(rows):
                caption = f"{word} {len(rows)} by click rate ({ranked})"
                out += _html.table(rows, caption=caption, labels=labels, rates=rates)
        for column, caption, label, missing in _GROUPS:
            table = _by_group(ev, funnel, column, missing)
            if table is not None:
                out += _html.table(table, caption=caption,
                                   labels={column: label, "mailings": "Mailings"})  # fmt: skip
        return out + _this_and_previous(self._base, self.start, self.end, self.tz)

    def _bounces(self, ev: pd.DataFrame, charts: _html.Charts, seen: _Seen) -> str:
        if not seen.has("emailBounce"):
            return "<p>No bounces in these events.</p>"
        breakdown = reports.bounce_breakdown(ev)
        by_domain = reports.bounce_breakdown(ev, by="domain")
        out = charts.figure(
            lambda ax: plotting.plot_bounces(breakdown, ax=ax),
            height=1.6 + 0.45 * min(len(breakdown), 15),
            description="Bounced sends per bounce type, most first, with their share; "
            "the numbers are in the table below.",
        ) + _html.table(breakdown, caption="Bounced sends by type (rate of sends)")
        if seen.last - seen.first > pd.Timedelta(days=2):
            over_time = reports.bounce_breakdown(ev, by=["day", "bounceType"])
            out += charts.figure(
                lambda ax: plotting.plot_bounces(over_time, ax=ax),
                height=3.4,
                description="Bounced sends per day of send, stacked by bounce type.",
            )
            daily = over_time.pivot_table(
                index="day", columns="bounceType", values="bounces", aggfunc="sum",
                fill_value=0, observed=True,
            )  # fmt: skip
            daily.columns = [str(c) for c in daily.columns]
            out += (
                "<details><summary>Bounces per day, as a table</summary>"
                + _html.table(
                    daily.reset_index(), caption="Bounced sends per day of send", tz=self.tz
                )
                + "</details>"
            )
        shown = by_domain.head(10)
        caption = f"Top recipient domains by bounced sends ({len(shown)} of {len(by_domain)})"
        return out + _html.table(shown, caption=caption)

    def _providers(self, ev: pd.DataFrame, charts: _html.Charts, seen: _Seen) -> str:
        """Gmail's, Yahoo's and Microsoft's published limits, per provider and week."""
        table = reports.deliverability(ev, tz=self.tz)
        if table.empty:
            return "<p>No sends in these events.</p>"
        known = seen.has("emailComplaint")
        metric = "complaint_rate" if known else "hard_bounce_rate"
        what = "spam-complaint rate" if known else "hard-bounce rate"
        chart = charts.figure(
            lambda ax: plotting.plot_deliverability(table, metric=metric, ax=ax),
            height=3.4,
            description=f"The {what} of each mailbox provider per week of send"
            + (", with dashed lines at Gmail's 0.1 % and Gmail's and Yahoo's 0.3 %." if known
               else "; the files carry no complaint events, so the complaint rate is unknown.")
            + " The numbers are in the table below.",
        )  # fmt: skip
        late_opt_out = int(table["mailed_after_opt_out"].sum())
        late_bounce = int(table["mailed_after_hard_bounce"].sum())
        crossed = table[table["status"] != ("ok" if known else "complaints unknown")]
        columns = ["period", "provider", "sends", "delivered", "hard_bounce_rate",
                   "complaint_rate", "opt_out_rate", "peak_daily_sends", "status"]  # fmt: skip
        labels = {"period": "Week of send", "peak_daily_sends": "Most sends in a day"}
        weeks = _html.table(table[columns], labels=labels, tz=self.tz,
                            caption="Every provider and week")  # fmt: skip
        out = (
            "<p>"
            + _esc(
                f"{late_opt_out:,} send(s) reached people more than 2 days after they "
                f"opted out, and {late_bounce:,} reached people after a hard bounce "
                "(Gmail and Yahoo require an unsubscribe to be honoured within 2 days; the "
                "lists, one row per send: bex.mailed_after_opt_out(events) and "
                "bex.mailed_after_hard_bounce(events), as in notebook 06-list-hygiene)."
            )
            + "</p>"
            + chart
        )
        if len(crossed):
            caption = f"Weeks over a published limit ({len(crossed):,})"
            out += _html.table(crossed[columns], labels=labels, tz=self.tz, caption=caption)
        out += f"<details><summary>Every provider and week ({len(table):,})</summary>"
        out += f"{weeks}</details>"
        notes = " ".join(provider_notes(known))
        return out + f"<p class='note'>{_esc(notes)}</p>"

    def _links(self, ev: pd.DataFrame, charts: _html.Charts, seen: _Seen) -> str:
        if not seen.has("emailClick"):
            return "<p>No clicks in these events.</p>"
        links = reports.click_urls(ev, by=None, top=self.top_links)
        total = links.attrs.get("links", len(links))
        shown = links[["clickUrl", "urlDescription", "unique_clicks", "gross_clicks"]].copy()
        for column in ("click_share", "unique_click_rate", "median_time_to_click"):
            shown[column] = links[column]
        chart = charts.figure(
            lambda ax: plotting.plot_click_urls(links, ax=ax, top=self.top_links),
            height=1.6 + 0.4 * len(links),
            description=f"The {len(links)} links with the most unique clickers (of {total}), "
            "most first, with the unique click rate over delivered; the table below lists "
            "them in the same order.",
        )
        return chart + _html.table(shown, caption=f"Top links ({len(links)} of {total})")

    def _engagement(self, ev: pd.DataFrame, charts: _html.Charts, seen: _Seen) -> str:
        if not seen.has("emailSend"):
            return "<p>No sends in these events, so no time since the send.</p>"
        curves = {
            word: reports.engagement_curve(ev, event=event, until="72h")
            for word, event in (("opened", "emailOpen"), ("clicked", "emailClick"))
        }
        horizon = curves["opened"]["elapsed"].iloc[-1]
        chart = charts.figure(
            lambda ax: plotting.plot_engagement(list(curves.values()), ax=ax),
            height=3.4,
            description="Share of delivered recipients who opened and who clicked, by hours "
            f"since their own send, up to {_html.duration(horizon)} where the data stops.",
        )
        marks = [pd.Timedelta(hours=h) for h in (1, 6, 24, 72) if pd.Timedelta(hours=h) <= horizon]
        rows = []
        for mark in marks or [horizon]:
            row: dict[str, Any] = {"within": _html.duration(mark)}
            for word, curve in curves.items():
                at = curve[curve["elapsed"] <= mark].iloc[-1]
                row[word] = at["share"]
                row[f"{word}_watched"] = (
                    at["observed"] / at["delivered"] if at["delivered"] else None
                )
            rows.append(row)
        table = _html.table(
            pd.DataFrame(rows)[["within", "opened", "clicked", "opened_watched"]],
            caption="Share of delivered recipients engaged within a time of their send",
            labels={
                "within": "Within",
                "opened": "Opened",
                "clicked": "Clicked",
                "opened_watched": "Recipients watched this long",
            },
            rates=["opened", "clicked", "opened_watched"],
        )
        heat = reports.activity_heatmap(ev, tz=self.tz)
        heatmap = charts.figure(
            lambda ax: plotting.plot_heatmap(heat, tz=self.tz, ax=ax),
            height=3.6,
            description=f"Opens and clicks per weekday and hour of day ({self.tz}); darker "
            f"is more. Busiest: {_busiest(heat)}. The numbers are in the table below.",
        )
        numbers = heat.copy()
        numbers.columns = [f"{h:02d}" for h in numbers.columns]
        heat_table = (
            "<details><summary>Opens and clicks per weekday and hour, as a table</summary>"
            + _html.table(
                numbers.reset_index(),
                labels={"weekday": "Weekday"},
                caption=f"Opens and clicks per weekday and hour of day ({self.tz})",
            )
            + "</details>"
        )
        return chart + table + heatmap + heat_table


def per_mailing(events: pd.DataFrame) -> pd.DataFrame:
    """The funnel per mailing (with ``sent_at``, its first send), in send order."""
    funnel = reports.funnel(events)
    if "sent_at" not in funnel.columns or funnel.empty:
        return funnel
    order = funnel["sent_at"].argsort(kind="stable")
    return funnel.iloc[order].reset_index(drop=True)


# --- selection ----------------------------------------------------------------------------
def _select(events: pd.DataFrame, mailings: Sequence[str] | None) -> pd.DataFrame:
    if mailings is None:
        return events
    return events[events["messageId"].astype("string").isin([str(m) for m in mailings])]


def _moment(bound: Any, tz: str) -> pd.Timestamp | None:
    """``bound`` as a time; a naive one is read in ``tz``."""
    if bound is None:
        return None
    stamp = pd.Timestamp(bound)
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp


# --- pieces of the page -------------------------------------------------------------------
def _esc(text: object) -> str:
    return _html.esc(text)


def _mailing_table(funnel: pd.DataFrame, tz: str) -> str:
    columns = [
        c
        for c in (
            "messageName",
            "messageId",
            "mailingType",
            "sent_at",
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
    totals = funnel_totals(funnel)
    footer = {columns[0]: "All mailings", **{c: totals[c] for c in columns if c in totals}}
    caption = f"Every mailing, in send order ({len(funnel):,}); sort by any column"
    labels = {"mailingType": "Type"}
    return _html.table(
        funnel[columns], caption=caption, footer=footer, tz=tz, labels=labels, sortable=True
    )


def _names(funnel: pd.DataFrame, tz: str, *, dated: bool = True) -> pd.Series:
    """Each mailing's name (its id when it has none), with its send date when ``dated`` or
    when names repeat ("Weekly Deals · 02 Mar")."""
    given = funnel["messageName"] if "messageName" in funnel else funnel["messageId"]
    names = given.astype(str).where(given.notna(), funnel["messageId"].astype(str))
    if not (dated or names.duplicated().any()):
        return names
    stamps = funnel["sent_at"]
    stamps = stamps.dt.tz_convert(tz) if stamps.dt.tz is not None else stamps
    return names + " · " + stamps.dt.strftime("%d %b").fillna("")


#: The groups of mailings the many-mailings report has a table for, where the events carry
#: them: (column, caption, column label, label of the mailings without one). A program
#: (an automated Acoustic Program) is known only by its ``programId``: BEX has no name for it.
_GROUPS: Final = (
    ("mailingType", "By mailing type", "Mailing type", "(no type)"),
    ("programId", "By program (programId)", "Program", "Not a program"),
)


def _first_per_mailing(events: pd.DataFrame, column: str) -> pd.Series:
    """``messageId`` -> the first value of ``column`` in the frame's order; on a Dask
    frame from each (mailing, value)'s first row number, computed on the workers."""
    if not is_dask_frame(events):
        first = events[["messageId", column]].dropna().drop_duplicates("messageId")
        return first.set_index("messageId")[column]
    rows = events[["messageId", column, ROW]].dropna()
    (pairs,) = _computed(rows.groupby(["messageId", column], observed=True)[ROW].min())
    ordered = pairs.reset_index().sort_values(ROW, kind="stable")
    return ordered.drop_duplicates("messageId").set_index("messageId")[column]


def _by_group(
    events: pd.DataFrame, funnel: pd.DataFrame, column: str, missing: str
) -> pd.DataFrame | None:
    """``funnel(events, by=column)`` with each group's number of mailings, the mailings
    without a value as one row labelled ``missing``; None when no mailing has a value."""
    if column in funnel.columns:
        of_mailing = funnel[column]
    elif column in events.columns:
        of_mailing = funnel["messageId"].map(_first_per_mailing(events, column))
    else:
        return None
    if not of_mailing.notna().any():
        return None
    table = reports.funnel(events, by=column)
    keys = table[column].astype(object).where(table[column].notna(), missing).astype(str)
    counts = of_mailing.astype(object).where(of_mailing.notna(), missing).astype(str)
    table = table.assign(**{column: keys, "mailings": keys.map(counts.value_counts())})
    table["mailings"] = table["mailings"].fillna(0).astype(int)
    columns = [column, "mailings", "sent", "delivered", "open_rate", "click_rate",
               "bounce_rate", "opt_out_rate"]  # fmt: skip
    return table[columns]


#: From this many mailings on, the report shows the trend, the best and the worst, and
#: folds the table of every mailing.
MANY_MAILINGS: Final = 12
#: Mailings with fewer delivered sends are not ranked: their click rate is too uncertain.
MIN_DELIVERED: Final = 100


def _best_and_worst(funnel: pd.DataFrame, tz: str, n: int = 5) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The ``n`` mailings with the highest and the lowest click rate, with Wilson intervals,
    among those with at least :data:`MIN_DELIVERED` delivered sends."""
    ranked = funnel[funnel["delivered"] >= MIN_DELIVERED].copy()
    bounds = [
        wilson_interval(int(c), int(d))
        for c, d in zip(ranked["unique_clicks"], ranked["delivered"], strict=True)
    ]
    ranked["click_rate_low"] = [b[0] for b in bounds]
    ranked["click_rate_high"] = [b[1] for b in bounds]
    ranked["messageName"] = _names(ranked, tz) if len(ranked) else pd.Series(dtype=str)
    columns = ["messageName", "messageId", "delivered", "click_rate", "click_rate_low",
               "click_rate_high"]  # fmt: skip
    ranked = ranked[columns].sort_values("click_rate", ascending=False, kind="stable")
    return ranked.head(n), ranked.tail(n).iloc[::-1]


def _this_and_previous(events: pd.DataFrame, start: Any, end: Any, tz: str) -> str:
    """This period's totals against the previous period of the same length, with deltas.

    The period is the report's window, else the last 28 days of sends."""
    (latest,) = _computed(reports.sends(events, flags=False)["sent_at"].max())
    if pd.isna(latest):
        return ""
    hi = _moment(end, tz) or latest + pd.Timedelta(seconds=1)
    lo = _moment(start, tz) or hi - pd.Timedelta(days=28)
    span = hi - lo
    now = reports.funnel(events, by=None, start=lo, end=hi).iloc[0]
    before = reports.funnel(events, by=None, start=lo - span, end=lo).iloc[0]
    if before["sent"] == 0:
        return ""
    rows = []
    for column, label in (("sent", "Sends"), ("delivered", "Delivered"), ("open_rate", "Open rate"),
                          ("click_rate", "Click rate"), ("bounce_rate", "Bounce rate"),
                          ("opt_out_rate", "Opt-out rate")):  # fmt: skip
        a, b = now[column], before[column]
        if column.endswith("_rate"):
            change = "–" if pd.isna(a) or pd.isna(b) else f"{(a - b) * 100:+.1f} pp"
            a, b = _html.percent(a), _html.percent(b)
        else:
            change = f"{(a - b) / b:+.1%}" if b else "–"
            a, b = f"{int(a):,}", f"{int(b):,}"
        rows.append({"metric": label, "this": a, "previous": b, "change": change})
    caption = (f"This period ({lo:%d %b %Y} to {hi - pd.Timedelta(seconds=1):%d %b %Y}) "
               f"against the {span.days} days before")  # fmt: skip
    labels = {"metric": "Metric", "this": "This period", "previous": "Previous", "change": "Change"}
    return _html.table(pd.DataFrame(rows), caption=caption, labels=labels)


def funnel_totals(funnel: pd.DataFrame) -> dict[str, float]:
    """Sums of the per-mailing counts and the rates of those sums (totals over totals)."""
    counts = ("sent", "delivered", "unique_opens", "unique_clicks", "bounced", "opt_outs",
              "complaints")  # fmt: skip
    totals: dict[str, float] = {c: int(funnel[c].sum()) for c in counts if c in funnel.columns}

    def rate(num: str, den: str) -> float:
        return totals[num] / totals[den] if totals.get(den) else float("nan")

    totals.update(
        open_rate=rate("unique_opens", "delivered"),
        click_rate=rate("unique_clicks", "delivered"),
        click_to_open=rate("unique_clicks", "unique_opens"),
        bounce_rate=rate("bounced", "sent"),
        opt_out_rate=rate("opt_outs", "delivered"),
        complaint_rate=rate("complaints", "delivered"),
    )
    return totals


@dataclass(frozen=True)
class _Seen:
    """What several sections ask of the events, found in one pass (on a Dask frame, one
    computation on the workers): the event types, the first and last timestamps, and
    the events loaded and selected."""

    types: frozenset[str]
    first: Any
    last: Any
    loaded: int
    selected: int

    def has(self, event_type: str) -> bool:
        """Whether the selected events hold one of this type (``"emailComplaint"``: the
        files carry spam complaints at all, RRDE's "Reply Abuse")."""
        return event_type in self.types


def _seen(events: Any, selected: Any) -> _Seen:
    types, first, last, loaded, n = _computed(
        selected[EVENT_TYPE_COLUMN].astype(str).unique(),
        selected["timestamp"].min(),
        selected["timestamp"].max(),
        events.shape[0],
        selected.shape[0],
    )
    return _Seen(frozenset(types), first, last, int(loaded), int(n))


def _computed(*values: Any) -> tuple:
    """``values``, Dask ones computed on the workers (together, in one pass)."""
    if not any(hasattr(v, "__dask_graph__") for v in values):
        return values
    import dask

    return tuple(dask.compute(*values))


def _headline(funnel: pd.DataFrame, whole: pd.DataFrame, *, complaints_known: bool) -> str:
    totals = funnel_totals(funnel) if len(funnel) else {}
    people = whole.iloc[0] if len(whole) else pd.Series(dtype=object)

    def count(value: Any) -> str:
        return f"{int(value):,}" if value is not None and not pd.isna(value) else "–"

    tiles = _html.cards(
        [
            ("Sends", count(totals.get("sent", 0))),
            ("Delivered", count(totals.get("delivered", 0))),
            ("Unique opens", count(totals.get("unique_opens", 0))),
            ("Unique clicks", count(totals.get("unique_clicks", 0))),
            ("Open rate", _rate(totals.get("open_rate"))),
            ("Click rate", _rate(totals.get("click_rate"))),
            ("Click-to-open", _rate(totals.get("click_to_open"))),
            ("Bounce rate", _rate(totals.get("bounce_rate"))),
            ("Opt-out rate", _rate(totals.get("opt_out_rate"))),
            (
                "Complaint rate",
                _rate(totals.get("complaint_rate")) if complaints_known else "unknown",
            ),
        ]
    )
    distinct = _html.cards(
        [
            ("People reached", count(people.get("people_reached", 0))),
            ("People who opened any mailing", count(people.get("people_opened", 0))),
            ("People who clicked any mailing", count(people.get("people_clicked", 0))),
        ],
        "cards people",
    )
    return (
        tiles
        + "<p class='note'>Totals add up the mailings in the table below (a person sent three "
        "mailings counts three times); rates are totals over totals.</p>"
        + distinct
        + "<p class='note'>Distinct people: each person counted once, whatever the number of "
        "mailings they got.</p>"
    )


def _busiest(heat: pd.DataFrame) -> str:
    if not heat.to_numpy().any():
        return "no opens or clicks"
    day, hour = heat.stack().idxmax()  # type: ignore[misc]  # a (weekday, hour) pair
    return f"{day} {int(hour):02d}:00-{int(hour) + 1:02d}:00"


def _rate(value: Any) -> str:
    return _html.percent(value)


def _quality(ev: pd.DataFrame) -> str:
    counts = reports.flag_counts(ev)
    opens, clicks = (counts[counts["eventType"] == kind] for kind in ("emailOpen", "emailClick"))
    flagged = [part[part["reason"].notna()] for part in (opens, clicks)]
    plain = reports.funnel(ev, by=None)
    clean = reports.funnel(ev, by=None, exclude=True)
    names = {"open_rate": "Open rate", "click_rate": "Click rate", "click_to_open": "Click-to-open"}
    compare = pd.DataFrame(
        {
            "metric": list(names.values()),
            "all events": [plain[m].iloc[0] for m in names],
            "without flagged": [clean[m].iloc[0] for m in names],
        }
    )
    reasons = [f.sort_values("events", ascending=False, kind="stable") for f in flagged]
    reason_table = pd.concat(reasons, ignore_index=True)[["reason", "events"]]
    labels = {"metric": "Metric", "all events": "All events", "without flagged": "Without flagged",
              "reason": "Reason", "events": "Events"}  # fmt: skip
    as_rates = _html.table(
        compare,
        labels=labels,
        rates=["all events", "without flagged"],
        caption="Rates with and without the flagged events",
    )
    machine, bots = (int(f["events"].sum()) for f in flagged)
    return (
        f"<p>{machine:,} of {int(opens['events'].sum()):,} opens look like machine opens "
        f"(privacy proxies, pre-fetch); {bots:,} of {int(clicks['events'].sum()):,} clicks "
        "look like security-scanner clicks.</p>"
        + as_rates
        + (_html.table(reason_table, labels=labels, caption="Why") if len(reason_table) else "")
    )


def _date_range(seen: _Seen, tz: str) -> str:
    if pd.isna(seen.first):
        return "no events"
    first, last = (pd.Timestamp(t).tz_convert(tz) for t in (seen.first, seen.last))
    return f"{first:%Y-%m-%d %H:%M} to {last:%Y-%m-%d %H:%M} ({tz})"


def _provenance(attrs: dict, seen: _Seen, whole: pd.DataFrame) -> str:
    files = attrs.get("files") or []
    skipped = attrs.get("skipped_lines") or []
    line = (
        f"{seen.selected:,} events of the sends shown, of {seen.loaded:,} loaded, from "
        f"{len(files)} file(s); {attrs.get('duplicates_dropped', 0):,} duplicate events "
        f"dropped; {len(skipped):,} bad line(s) skipped."
    )
    apart = whole.attrs.get("without_send", {})
    if apart.get("pairs"):
        line += (
            f" {apart['opens']:,} opens, {apart['clicks']:,} clicks, {apart['bounces']:,} "
            f"bounces and {apart['opt_outs']:,} opt-outs of {apart['pairs']:,} "
            "mailing-recipient pairs have no send in these files: they are counted apart, "
            "in no number above."
        )
    out = f"<p>{_esc(line)}</p>"
    if files:
        names = _shown_paths([str(f.get("path", "")) for f in files])
        table = pd.DataFrame(
            [{"file": redact(n), "rows": f.get("rows")} for n, f in zip(names, files, strict=True)]
        )
        listed = _html.table(table, caption=f"Files read ({len(files):,})")
        out += f"<details><summary>Files read</summary>{listed}</details>"
    if skipped:
        table = pd.DataFrame(skipped).astype(str).map(redact)  # no login reaches a shared report
        listed = _html.table(table, caption=f"Skipped lines ({len(skipped):,})")
        out += f"<details open><summary>Skipped lines</summary>{listed}</details>"
    return out


def _shown_paths(paths: list[str]) -> list[str]:
    """Paths as a shared report shows them: local files relative to the folder they share
    (never the machine's absolute paths), URLs as they are.

    Examples
    --------
    >>> _shown_paths(["/home/ana/exports/a.csv", "/home/ana/exports/2026/b.csv"])
    ['a.csv', '2026/b.csv']
    """
    local = [p for p in paths if os.path.isabs(p.split("::")[0])]
    if not local:
        return paths
    root = os.path.commonpath([os.path.dirname(p.split("::")[0]) for p in local])
    return [os.path.relpath(p, root) if p in local else p for p in paths]


def _convention_sentence(funnel: pd.DataFrame) -> str:
    convention = funnel.attrs.get("convention", {})
    described = convention.get("description") if isinstance(convention, dict) else None
    return "Metric conventions: " + (
        described or "Acoustic's own definitions (rates over delivered = sent - bounced)."
    )


# --- a parameterised report notebook, rendered to HTML -------------------------------------
#: Cells with one of these tags are for the notebook's developer, not for the report.
HIDDEN_TAGS = ("developer", "remove-cell")


def _find_notebook(path: Path) -> Path:
    """``path``, or the same relative path in the checkout this package runs from."""
    if path.is_file():
        return path
    if not path.is_absolute():
        checkout = Path(__file__).resolve().parent.parent / path
        if checkout.is_file():
            return checkout
    raise BexConfigError(f"{path}: no such notebook; pass --notebook PATH")


def render_notebook(notebook: str | Path, parameters: dict[str, Any], output: str | Path) -> Path:
    """Run a report notebook with ``parameters`` and write it as HTML without the code.

    The notebook's cell tagged ``parameters`` (papermill's convention) is followed by an
    injected cell that assigns the given values, so papermill and this function agree.
    Cells tagged ``developer`` (or ``remove-cell``) are left out of the report, and so are
    the code and the ``In``/``Out`` prompts: the page reads as a manager's report.
    A relative ``notebook`` that does not exist from the current folder is looked up
    from the checkout bextoolkit runs from, so the default
    ``notebooks/05-shareable-report.ipynb`` works from the repository root and from
    ``notebooks/``.

    Raises
    ------
    BexConfigError
        The notebook is missing or has no ``parameters`` cell, or the ``notebook`` extra
        (nbclient, nbconvert, ipykernel) is not installed.
    BexError
        A cell failed; the message gives its error.

    Examples
    --------
    >>> render_notebook("report.ipynb", {"sources": ["exports/"]}, "report.html")  # doctest: +SKIP
    """
    try:
        import nbclient
        import nbformat
        from nbconvert import HTMLExporter
    except ImportError as exc:
        raise BexConfigError(
            f"rendering a notebook needs {exc.name}: pip install 'bextoolkit[notebook]'"
        ) from exc
    path = _find_notebook(Path(notebook))
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
    nb.cells = [c for c in nb.cells if not set(c.metadata.get("tags", [])) & set(HIDDEN_TAGS)]
    client = nbclient.NotebookClient(
        nb,
        timeout=600,
        resources={"metadata": {"path": path.parent}},
        # the kernel's notices (e.g. "running over TCP without encryption" on loopback) are
        # not the report reader's business; its errors still reach the terminal
        extra_arguments=["--IPKernelApp.log_level=ERROR"],
    )
    try:
        # the kernel's debugger otherwise warns about frozen modules on the terminal
        client.execute(env={**os.environ, "PYDEVD_DISABLE_FILE_VALIDATION": "1"})
    except nbclient.exceptions.CellExecutionError as exc:
        raise BexError(f"{path}: a cell failed: {exc.ename}: {exc.evalue}") from None
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    body, _ = exporter.from_notebook_node(nb)
    out = Path(output)
    out.write_text(_REMOTE_SCRIPT.sub("", body), encoding="utf-8")
    return out
