"""``click_urls``: one row per clicked link ."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.quality import exclude_flagged
from bextoolkit.reports.urls import TRACKING_PARAMS, normalize_url
from bextoolkit.schema import EVENT_TYPE_COLUMN

_COLUMNS = ("RECIPIENT_ID", "Email", "messageId", "clickUrl", "urlDescription", "timestamp")


@accepts_dask
def click_urls(
    events: pd.DataFrame,
    *,
    normalize: bool = True,
    by: k.By = None,
    tracking_params: Sequence[str] = TRACKING_PARAMS,
    exclude: str | Sequence[str] | bool | None = None,
    top: int | None = None,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Which links were clicked, how often, by how many, and how soon after the send.

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
        Groups (see :mod:`bextoolkit.reports`), e.g. ``"messageId"`` for links per mailing.
    tracking_params : sequence of str, default :data:`bextoolkit.reports.urls.TRACKING_PARAMS`
        Query parameter names to strip (case-insensitive; ``"utm_*"`` is a prefix).
    exclude : {"machine_opens", "bot_clicks"}, list, True, optional
        As in :func:`bextoolkit.funnel`; ``"bot_clicks"`` leaves out scanner clicks.
    top : int, optional
        Keep only the first ``top`` links of each group (most unique clickers);
        ``attrs["links"]`` says how many each group had in all.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock); ``attrs["window"]`` says how many were left out.

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
        - ``unique_clicks``: per-link uniqueness, distinct recipients who clicked this link
        - ``click_share``: ``gross_clicks`` / all clicks of the group
        - ``unique_click_rate``: ``unique_clicks`` / delivered of the group (sent minus
          bounced, as in :func:`bextoolkit.funnel`); NaN when nothing was delivered
        - ``first_click`` / ``last_click``: timestamps (the frame's time zone)
        - ``median_time_to_click`` (Timedelta): median over the link's clicks of the time
          from the recipient's own earliest send of that mailing (NaT if none in the frame)
        - ``unique_first_clicks``: per-recipient uniqueness, recipients whose first click
          in the group was on this link; over the links of a group it adds up to the
          group's distinct clickers (``funnel``'s ``unique_clicks``)

        ``attrs`` record ``normalize``, ``tracking_params`` and ``excluded``.

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
    k.require_columns(events, [EVENT_TYPE_COLUMN, "clickUrl"], what="click_urls")
    if top is not None and (not isinstance(top, int | np.integer) or top < 1):
        raise BexConfigError(f"top={top!r}: give a whole number of links >= 1, or None for all.")
    events = k.in_window(events, start, end)
    ev = k.event_codes(events)
    ev, excluded = exclude_flagged(events, ev, exclude)
    rows = np.flatnonzero(np.isin(ev, (k.CLICK, k.SEND, k.BOUNCE)))
    sub = k.take_rows(events, rows, _COLUMNS, by)
    ev = ev[rows]
    groups = k.group_rows(sub, by)
    rec = k.recipients(sub)
    g, n, r = groups.codes, groups.n, rec.codes
    delivered = np.maximum(
        k.count_distinct(g, n, r, ev == k.SEND) - k.count_distinct(g, n, r, ev == k.BOUNCE), 0
    )
    clicks = ev == k.CLICK
    link, labels = _links(sub["clickUrl"], normalize, tracking_params)
    width = len(labels)
    present, cell = k.dense_codes(g[clicks] * width + link[clicks])
    cells = len(present)
    cell_group, cell_link = present // width, present % width
    rc = r[clicks]
    gross = k.count_rows(cell, cells)
    out = groups.keys.take(cell_group).reset_index(drop=True)
    out["clickUrl"] = labels.take(cell_link).astype("string")
    out["urlDescription"] = _descriptions(sub, clicks, cell, cells)
    out["gross_clicks"] = gross
    out["unique_clicks"] = k.count_distinct(cell, cells, rc)
    out["click_share"] = k.ratio(gross, np.bincount(cell_group, gross, minlength=n)[cell_group])
    out["unique_click_rate"] = k.ratio(out["unique_clicks"].to_numpy(), delivered[cell_group])
    _timing(out, sub, ev, rec, clicks, cell, cells)
    out["unique_first_clicks"] = _first_clicks(
        g[clicks], rc, k.timestamps_ns(sub, required=False)[clicks], cell, cells
    )
    texts = np.array(["\uffff" if pd.isna(x) else str(x) for x in labels])  # missing last
    label_rank = np.argsort(np.argsort(texts, kind="stable"))
    unique = out["unique_clicks"].to_numpy()
    order = np.lexsort((label_rank[cell_link], -gross, -unique, cell_group))
    out = out.iloc[order].reset_index(drop=True)
    links_per_group = np.bincount(cell_group, minlength=n)
    if top is not None:
        rank = np.arange(len(out)) - np.searchsorted(cell_group[order], cell_group[order])
        out = out[rank < top].reset_index(drop=True)
    out.attrs.update(normalize=normalize, tracking_params=list(tracking_params), excluded=excluded)
    out.attrs["links"] = int(links_per_group.sum()) if by is None else links_per_group.tolist()
    if "window" in events.attrs:
        out.attrs["window"] = events.attrs["window"]
    return out


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


def _descriptions(sub: pd.DataFrame, clicks: np.ndarray, cell: np.ndarray, cells: int) -> pd.Series:
    """The most frequent ``urlDescription`` of each cell (ties: the first in sort order)."""
    if "urlDescription" not in sub.columns:
        return pd.Series(pd.NA, index=range(cells), dtype="string")
    uniques, codes = k._categories_and_codes(sub["urlDescription"])
    pairs = pd.DataFrame({"cell": cell, "desc": codes[clicks]})
    pairs = pairs[pairs["desc"] >= 0]
    counts = pairs.value_counts().reset_index(name="n")
    counts["text"] = np.asarray(uniques, dtype=object)[counts["desc"].to_numpy()]
    ranked = counts.sort_values(["cell", "n", "text"], ascending=[True, False, True])
    best = ranked.drop_duplicates("cell").set_index("cell")["text"]
    return pd.Series(best.reindex(range(cells)).to_numpy(), dtype="string")


def _timing(
    out: pd.DataFrame,
    sub: pd.DataFrame,
    ev: np.ndarray,
    rec: k.Recipients,
    clicks: np.ndarray,
    cell: np.ndarray,
    cells: int,
) -> None:
    """Add ``first_click``, ``last_click`` and ``median_time_to_click`` to ``out``."""
    ts = k.timestamps_ns(sub, required=False)
    pairs = k.pair_keys(k.mailing_codes(sub), rec.codes, rec.size)
    sends = (ev == k.SEND) & k.is_member(pairs, pairs[clicks])  # only the sends clicks need
    send_at = k.lookup_times(k.first_times(pairs, ts, sends), pairs[clicks])
    tc = ts[clicks]
    valid = (tc != k.NAT) & (send_at != k.NAT)
    delay = np.where(valid, tc - send_at, k.NAT)
    frame = pd.DataFrame({"t": tc.view("M8[ns]"), "d": delay.view("m8[ns]")})
    stats = frame.groupby(cell).agg(first=("t", "min"), last=("t", "max"), d=("d", "median"))
    stats = stats.reindex(range(cells))
    tz = getattr(getattr(sub.get("timestamp"), "dt", None), "tz", None)
    for name, column in (("first_click", "first"), ("last_click", "last")):
        values = pd.DatetimeIndex(stats[column])
        out[name] = values.tz_localize("UTC").tz_convert(tz) if tz is not None else values
    out["median_time_to_click"] = pd.to_timedelta(stats["d"].to_numpy())


def _first_clicks(
    groups: np.ndarray, rec: np.ndarray, ts: np.ndarray, cell: np.ndarray, cells: int
) -> np.ndarray:
    """Per cell: recipients whose earliest click in the group was on this cell's link."""
    keep = rec >= 0
    g, r, t, c = groups[keep], rec[keep], ts[keep], cell[keep]
    order = np.lexsort((t, r, g))
    g, r, c = g[order], r[order], c[order]
    first = np.ones(len(g), bool)
    first[1:] = (g[1:] != g[:-1]) | (r[1:] != r[:-1])
    return np.bincount(c[first], minlength=cells).astype(np.int64)
