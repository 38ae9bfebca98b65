"""``bounce_breakdown``: bounces by type, code, domain, mailing or day (see reports)."""

from __future__ import annotations

from typing import Final, Literal

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.schema import EVENT_TYPE_COLUMN

#: Keys that describe only the bounce itself: the rate's denominator ignores them.
_BOUNCE_ONLY_KEYS: Final = ("bounceType", "code", EVENT_TYPE_COLUMN)


@accepts_dask
def bounce_breakdown(
    events: pd.DataFrame,
    *,
    by: k.By = "bounceType",
    classify: bool = True,
    bounce_rate: Literal["sent", "requests"] = "sent",
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Bounces per bounce type, or per code, recipient domain, mailing, day, any column.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``, and the columns
        ``by`` needs: ``bounceType``, ``code``, ``Email`` for ``"domain"``,
        ``timestamp`` for time buckets). Not modified.
    by : str, list, pd.Grouper or None, default "bounceType"
        Groups, as in the module notes; ``"domain"`` is the recipient's email domain.
    classify : bool, default True
        Show ``bounceType`` as ``"hard"`` / ``"soft"`` whatever its spelling ("Hard",
        "HardBounce", "hard bounce"); other values trimmed, as they are. False: raw values.
    bounce_rate : {"sent", "requests"}, default "sent"
        Denominator of ``rate``: distinct recipients with ``emailSend``, or with
        ``emailSend`` or ``emailSuppressed`` (requests).
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock); ``attrs["window"]`` says how many were left out.

    Returns
    -------
    DataFrame
        One row per group that has bounces, most bounces first (time buckets: in time
        order): the key columns, then

        - ``bounces``: bounce events (int64)
        - ``unique_recipients``: distinct recipients who bounced (int64)
        - ``share``: ``bounces`` / all bounce events in the frame (the shares add up to 1)
        - ``rate``: ``unique_recipients`` / the recipients sent to in the same group, where
          the group is taken without the keys that only describe a bounce (``bounceType``,
          ``code``, ``eventType``): ``by="bounceType"`` divides by everyone sent to,
          ``by=["messageId", "bounceType"]`` by those sent that mailing. NaN when 0.

        ``attrs["rate"]`` says the denominator in words.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "2", "3", "4", "1", "2", "3"],
    ...     "eventType": ["emailSend"] * 4 + ["emailBounce"] * 3,
    ...     "bounceType": [None] * 4 + ["Hard", "hard bounce", "SoftBounce"]})
    >>> bounce_breakdown(ev)
      bounceType  bounces  unique_recipients     share  rate
    0       hard        2                  2  0.666667  0.50
    1       soft        1                  1  0.333333  0.25
    """
    if bounce_rate not in k.RATE_BASES:
        raise BexConfigError(f"bounce_rate={bounce_rate!r} is unknown; use one of {k.RATE_BASES}.")
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="bounce_breakdown")
    events = k.in_window(events, start, end)
    ev = k.event_codes(events)
    base = (ev == k.SEND) | ((ev == k.SUPPRESSED) if bounce_rate == "requests" else False)
    rows = np.flatnonzero((ev == k.BOUNCE) | base)
    # recipient codes of the whole column: cheaper than copying the id strings of the rows
    rec = k.recipients(events).codes[rows]
    sub = k.take_rows(events, rows, ("bounceType",), by)
    ev, base = ev[rows], base[rows]
    items = [] if by is None else [by] if isinstance(by, str | pd.Grouper) else list(by)
    if classify and "bounceType" in items and "bounceType" in sub.columns:
        sub = sub.assign(bounceType=k.bounce_classes(sub["bounceType"]))
    groups = k.group_rows(sub, by)
    is_bounce = ev == k.BOUNCE
    send_items = [
        item
        for item in items
        if not (isinstance(item, str) and item in _BOUNCE_ONLY_KEYS)
        and not (isinstance(item, str) and item in sub.columns and sub[item][base].isna().all())
    ]
    rate_groups = k.group_rows(sub, send_items or None)
    bounces = k.count_rows(groups.codes, groups.n, is_bounce)
    unique = k.count_distinct(groups.codes, groups.n, rec, is_bounce)
    sent = k.count_distinct(rate_groups.codes, rate_groups.n, rec, base)
    rate_group_of = np.zeros(groups.n, np.int64)
    rate_group_of[groups.codes[is_bounce]] = rate_groups.codes[is_bounce]
    out = groups.keys.copy()
    out["bounces"] = bounces
    out["unique_recipients"] = unique
    out["share"] = k.ratio(bounces, bounces.sum())
    out["rate"] = k.ratio(unique, sent[rate_group_of])
    out = out[bounces > 0]
    if not groups.is_time:
        out = out.iloc[np.argsort(-out["bounces"].to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    for column in out.columns[: groups.keys.shape[1]]:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].cat.remove_unused_categories()
    keys = ", ".join(map(str, send_items)) if send_items else "the whole frame"
    base_words = "a send" if bounce_rate == "sent" else "a send or a suppression"
    out.attrs["rate"] = f"unique_recipients / distinct recipients with {base_words} per {keys}"
    return out
