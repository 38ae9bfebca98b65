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
    rec = k.recipient_keys(events)
    rows = np.flatnonzero(ev == k.BOUNCE)
    bounced = k.take_rows(events, rows, ("bounceType",), by)
    items = [] if by is None else [by] if isinstance(by, str | pd.Grouper) else list(by)
    if classify and "bounceType" in items and "bounceType" in bounced.columns:
        bounced = bounced.assign(bounceType=k.bounce_classes(bounced["bounceType"]))
    groups = k.group_rows(bounced, by)
    bounces = k.count_rows(groups.codes, groups.n)
    unique = k.count_distinct(groups.codes, groups.n, rec[rows])
    send_items = [
        item
        for item in items
        if not (isinstance(item, str) and item in _BOUNCE_ONLY_KEYS)
        and not (isinstance(item, str) and item in events and events[item][base].isna().all())
    ]
    sent = _sent_per_group(events, base, rec, groups, send_items)
    out = groups.keys.copy()
    out["bounces"] = bounces
    out["unique_recipients"] = unique
    out["share"] = k.ratio(bounces, bounces.sum())
    out["rate"] = k.ratio(unique, sent)
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


def _sent_per_group(
    events: pd.DataFrame, base: np.ndarray, rec: np.ndarray, groups: k.Groups, send_items: list
) -> np.ndarray:
    """Per bounce group, the distinct recipients with a ``base`` event (a send, or a
    suppression) that share the group's ``send_items`` keys (all of them when none)."""
    if not send_items:
        return np.full(groups.n, k.n_distinct(rec, base))
    rows = np.flatnonzero(base)
    sends = k.group_rows(k.take_rows(events, rows, (), send_items), send_items)
    per_key = sends.keys.assign(sent=k.count_distinct(sends.codes, sends.n, rec[rows]))
    names = list(sends.keys.columns)
    matched = groups.keys[names].merge(per_key, on=names, how="left")
    return matched["sent"].fillna(0).to_numpy(np.int64)
