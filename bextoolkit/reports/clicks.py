"""``click_urls``: one row per clicked link ."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.sends import Sends, build, check_by, group_sends
from bextoolkit.reports.urls import TRACKING_PARAMS, normalize_url
from bextoolkit.schema import EVENT_TYPE_COLUMN


@accepts_dask
def click_urls(
    events: pd.DataFrame,
    *,
    normalize: bool = True,
    by: k.By = None,
    tracking_params: Sequence[str] = TRACKING_PARAMS,
    exclude: str | Sequence[str] | bool | None = None,
    top: int | None = None,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Which links were clicked, in how many sends, by how many people, how soon after the send.

    One row per (group, link), aggregated over the clicks of sends (:func:`bextoolkit.sends`):
    a click whose send is not in the frame counts apart (``attrs["without_send"]``).

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``clickUrl``, ``RECIPIENT_ID`` or ``Email``;
        ``urlDescription``, ``messageId`` and ``timestamp`` when present). Not modified.
    normalize : bool, default True
        Strip tracking parameters (``tracking_params``), lower-case scheme and host, drop
        the fragment, so one link tagged for different campaigns is one row. False: every
        distinct ``clickUrl`` text is its own row.
    by : str, list, pd.Grouper or None, default None
        Groups of sends, as in :func:`bextoolkit.funnel`, e.g. ``"messageId"`` for links
        per mailing, ``"send_week"``.
    tracking_params : sequence of str, default :data:`bextoolkit.reports.urls.TRACKING_PARAMS`
        Query parameter names to strip (case-insensitive; ``"utm_*"`` is a prefix).
    exclude : {"machine_opens", "bot_clicks"}, list, True, optional
        As in :func:`bextoolkit.funnel`; ``"bot_clicks"`` leaves out scanner clicks.
    top : int, optional
        Keep only the first ``top`` links of each group (most unique clickers);
        ``attrs["links"]`` says how many each group had in all.
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`: seed-list recipients are left out unless True.
    start, end : str or Timestamp, optional
        Only the clicks of sends sent in ``start <= time < end`` (naive values on the
        timestamps' own clock), whenever they clicked.

    Returns
    -------
    DataFrame
        One row per group and link, groups in key order, then most unique clickers
        first (ties: most clicks, then the link's text):
        the key columns, then

        - ``clickUrl`` (string): the link (normalized unless ``normalize=False``);
          clicks without a URL form one row with a missing ``clickUrl``
        - ``urlDescription`` (string): the link's most frequent description
        - ``gross_clicks``: click events on the link
        - ``unique_clicks``: sends in which the link was clicked
        - ``people``: distinct recipients who clicked it (equal to ``unique_clicks`` over
          one mailing)
        - ``click_share``: ``gross_clicks`` / all clicks of the group
        - ``unique_click_rate``: ``unique_clicks`` / the delivered sends of the group's
          mailings in which the link was clicked (a link of one mailing is not divided by
          the sends of 500 others); NaN when nothing was delivered
        - ``first_click`` / ``last_click``: timestamps (the frame's time zone)
        - ``median_time_to_click`` (Timedelta): median over the link's clicks of the time
          from their send
        - ``unique_first_clicks``: sends whose first click was on this link; over the
          links of a group it adds up to ``funnel``'s ``unique_clicks``

        ``attrs`` record ``normalize``, ``tracking_params``, ``excluded`` and
        ``without_send``.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "2", "1", "2", "2"],
    ...     "eventType": ["emailSend", "emailSend", "emailClick", "emailClick", "emailClick"],
    ...     "clickUrl": [None, None, "https://a.com/?utm_source=x", "https://A.com/",
    ...                  "https://b.com/"],
    ...     "timestamp": pd.to_datetime(["2026-01-01 10:00"] * 2 + ["2026-01-01 10:30",
    ...                                 "2026-01-01 11:00", "2026-01-01 12:00"], utc=True)})
    >>> urls = click_urls(ev)
    >>> urls[["clickUrl", "gross_clicks", "unique_clicks", "median_time_to_click"]]
             clickUrl  gross_clicks  unique_clicks median_time_to_click
    0  https://a.com/             2              2      0 days 00:45:00
    1  https://b.com/             1              1      0 days 02:00:00
    >>> urls["unique_click_rate"].tolist()
    [1.0, 0.5]
    """
    check_top(top)
    cells = link_cells(
        events, normalize=normalize, by=by, tracking_params=tracking_params, exclude=exclude,
        include_seeds=include_seeds, start=start, end=end,
    )  # fmt: skip
    out = cells.table
    out["click_share"] = k.ratio(
        out["gross_clicks"].to_numpy(),
        np.bincount(cells.cell_group, out["gross_clicks"], minlength=cells.groups.n)[
            cells.cell_group
        ],
    )
    delivered = _delivered_where_clicked(
        cells.built, cells.groups, cells.cell, cells.cell_group, cells.send
    )
    out["unique_click_rate"] = k.ratio(out["unique_clicks"].to_numpy(), delivered)
    ts = cells.built.ts[cells.rows]
    _timing(out, ts, cells.built.table["sent_at"], cells.send, cells.cell, len(out), cells.built.tz)
    out["unique_first_clicks"] = _first_clicks(cells.send, ts, cells.cell, len(out))
    out.attrs = cells.built.attrs()
    return in_order(out, cells.cell_group, cells.groups.n, top=top, by=by, attrs=out.attrs,
                    normalize=normalize, tracking_params=tracking_params)  # fmt: skip


def check_top(top: Any) -> None:
    """Raise the clear error for a ``top=`` that is not a whole number >= 1 or None."""
    if top is not None and (not isinstance(top, int | np.integer) or top < 1):
        raise BexConfigError(f"top={top!r}: give a whole number of links >= 1, or None for all.")


@dataclass
class LinkCells:
    """The clicks of a frame's sends and their (group, link) cells, before any number:
    ``table`` has the keys, ``clickUrl``, ``urlDescription``, ``gross_clicks``,
    ``unique_clicks`` and ``people`` per cell; the arrays are per click (``rows``,
    ``send``, ``cell``) or per cell (``cell_group``)."""

    built: Sends
    groups: k.Groups
    table: pd.DataFrame
    rows: np.ndarray
    send: np.ndarray
    cell: np.ndarray
    cell_group: np.ndarray


def link_cells(
    events: pd.DataFrame,
    *,
    normalize: bool,
    by: k.By,
    tracking_params: Sequence[str],
    exclude: str | Sequence[str] | bool | None,
    include_seeds: bool,
    start: k.Moment,
    end: k.Moment,
) -> LinkCells:
    """Each click of a send, its (group, link) cell, and the additive counts per cell."""
    k.require_columns(events, [EVENT_TYPE_COLUMN, "clickUrl"], what="click_urls")
    check_by(events, by)
    built = build(events, exclude=exclude, include_seeds=include_seeds, start=start, end=end, by=by)
    groups = group_sends(built.table, by)
    rows = np.flatnonzero((built.ev == k.CLICK) & (built.send_of_row >= 0))
    send = built.send_of_row[rows]  # the send each click follows
    g = groups.codes[send]
    link, labels = _links(events["clickUrl"].take(rows), normalize, tracking_params)
    width = len(labels)
    present, cell = k.dense_codes(g * width + link)
    cells = len(present)
    cell_group, cell_link = present // width, present % width
    out = groups.keys.take(cell_group).reset_index(drop=True)
    out["clickUrl"] = labels.take(cell_link).astype("string")
    out["urlDescription"] = _descriptions(events, rows, cell, cells)
    out["gross_clicks"] = k.count_rows(cell, cells)
    out["unique_clicks"] = k.count_distinct(cell, cells, send)
    out["people"] = k.count_distinct(cell, cells, built.recipient[send])
    return LinkCells(built, groups, out, rows, send, cell, cell_group)


def in_order(
    out: pd.DataFrame,
    cell_group: np.ndarray,
    n_groups: int,
    *,
    top: int | None,
    by: k.By,
    attrs: Mapping[Any, Any],
    normalize: bool,
    tracking_params: Sequence[str],
) -> pd.DataFrame:
    """The links of each group (groups in key order, ``cell_group``: each row's group),
    most unique clicks first (ties: most clicks, then the link's text), the ``top`` of
    each group, with their ``attrs``."""
    texts = np.array(["\uffff" if pd.isna(x) else str(x) for x in out["clickUrl"]])
    label_rank = np.argsort(np.argsort(texts, kind="stable"), kind="stable")
    unique, gross = out["unique_clicks"].to_numpy(), out["gross_clicks"].to_numpy()
    order = np.lexsort((label_rank, -gross, -unique, cell_group))
    out = out.iloc[order].reset_index(drop=True)
    links_per_group = np.bincount(cell_group, minlength=n_groups)
    if top is not None:
        rank = np.arange(len(out)) - np.searchsorted(cell_group[order], cell_group[order])
        out = out[rank < top].reset_index(drop=True)
    out.attrs = dict(attrs)
    out.attrs.update(normalize=normalize, tracking_params=list(tracking_params))
    out.attrs["links"] = int(links_per_group.sum()) if by is None else links_per_group.tolist()
    return out


def _delivered_where_clicked(
    built: Sends, groups: k.Groups, cell: np.ndarray, cell_group: np.ndarray, send: np.ndarray
) -> np.ndarray:
    """Per (group, link) cell, the delivered sends of the group's mailings in which the
    link was clicked (``cell``, ``send``: per click; ``cell_group``: per cell)."""
    n_mail = int(built.mailing.max(initial=0)) + 1
    delivered = built.table["bounced"].cat.codes.to_numpy() == 0
    known, per_pair = k.dense_codes((groups.codes * n_mail + built.mailing)[delivered])
    counts = np.bincount(per_pair, minlength=len(known))
    clicked = k.unique_sorted(cell * n_mail + built.mailing[send])  # (cell, mailing) pairs
    cell_of, mailing_of = clicked // n_mail, clicked % n_mail
    if not (len(known) and len(clicked)):
        return np.zeros(len(cell_group), np.int64)
    where = k.positions(cell_group[cell_of] * n_mail + mailing_of, known)
    found = where >= 0
    return np.bincount(cell_of[found], counts[where[found]], minlength=len(cell_group)).astype(
        np.int64
    )


def _links(
    urls: pd.Series, normalize: bool, tracking_params: Sequence[str]
) -> tuple[np.ndarray, pd.Index]:
    """Per-row link codes (missing URL = the last label, NA) and the link labels."""
    uniques, codes = k._categories_and_codes(urls)
    if normalize:
        texts = [normalize_url(str(u), tracking_params=tracking_params) for u in uniques]
        link_codes, link_uniques = pd.factorize(pd.Index(texts, dtype=object))
        labels = pd.Index(np.asarray(link_uniques, dtype=object))
        lookup = link_codes.astype(np.int64)
    else:
        labels = pd.Index(np.asarray(uniques, dtype=object))
        lookup = np.arange(len(uniques), dtype=np.int64)
    lookup = np.append(lookup, len(labels))  # code -1 (missing URL) -> the NA label
    return lookup[codes], labels.append(pd.Index([None], dtype=object))


def _descriptions(
    events: pd.DataFrame, rows: np.ndarray, cell: np.ndarray, cells: int
) -> pd.Series:
    """The most frequent ``urlDescription`` of each cell (ties: the first in sort order)."""
    if "urlDescription" not in events.columns:
        return pd.Series(pd.NA, index=range(cells), dtype="string")
    uniques, codes = k._categories_and_codes(events["urlDescription"].take(rows))
    pairs = pd.DataFrame({"cell": cell, "desc": codes})
    pairs = pairs[pairs["desc"] >= 0]
    counts = pairs.value_counts().reset_index(name="n")
    counts["text"] = np.asarray(uniques, dtype=object)[counts["desc"].to_numpy()]
    ranked = counts.sort_values(["cell", "n", "text"], ascending=[True, False, True])
    best = ranked.drop_duplicates("cell").set_index("cell")["text"]
    return pd.Series(best.reindex(range(cells)).to_numpy(), dtype="string")


def _timing(
    out: pd.DataFrame,
    ts: np.ndarray,
    sent_at: pd.Series,
    send: np.ndarray,
    cell: np.ndarray,
    cells: int,
    tz: Any,
) -> None:
    """Add ``first_click``, ``last_click`` and ``median_time_to_click`` (from the send)."""
    sent = sent_at.to_numpy(dtype="datetime64[ns]").view(np.int64)[send]
    valid = (ts != k.NAT) & (sent != k.NAT)
    delay = np.where(valid, ts - sent, k.NAT)
    frame = pd.DataFrame({"t": ts.view("M8[ns]"), "d": delay.view("m8[ns]")})
    stats = frame.groupby(cell).agg(first=("t", "min"), last=("t", "max"), d=("d", "median"))
    stats = stats.reindex(range(cells))
    for name, column in (("first_click", "first"), ("last_click", "last")):
        values = pd.DatetimeIndex(stats[column])
        out[name] = values.tz_localize("UTC").tz_convert(tz) if tz is not None else values
    out["median_time_to_click"] = pd.to_timedelta(stats["d"].to_numpy())


def _first_clicks(send: np.ndarray, ts: np.ndarray, cell: np.ndarray, cells: int) -> np.ndarray:
    """Per cell: sends whose earliest click was on this cell's link."""
    order = np.lexsort((ts, send))
    s, c = send[order], cell[order]
    first = np.ones(len(s), bool)
    first[1:] = s[1:] != s[:-1]
    return np.bincount(c[first], minlength=cells).astype(np.int64)
