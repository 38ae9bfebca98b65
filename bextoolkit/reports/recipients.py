"""One row per recipient: how many mailings each person got, opened and clicked (CRM view).

:func:`funnel` counts recipients per mailing; a CRM team asks the other way round: for
each person, how many mailings reached them and how many they engaged with. A funnel
``by="RECIPIENT_ID"`` cannot answer that (its counts are distinct recipients, so 0 or 1).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.quality import exclude_flagged
from bextoolkit.schema import EVENT_TYPE_COLUMN

__all__ = ["RECIPIENT_COLUMNS", "recipient_engagement"]

#: The columns of :func:`recipient_engagement`, in order.
RECIPIENT_COLUMNS = (
    "RECIPIENT_ID",
    "Email",
    "mailings_sent",
    "mailings_opened",
    "mailings_clicked",
    "first_sent",
    "last_open",
    "last_click",
    "hard_bounced",
    "opted_out",
)
_NAT = np.iinfo(np.int64).min


@accepts_dask
def recipient_engagement(
    events: pd.DataFrame,
    *,
    exclude: str | Sequence[str] | bool | None = None,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Per recipient: mailings sent, opened and clicked, last activity, bounce and opt-out.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``; ``messageId``,
        ``timestamp`` and ``bounceType`` when present). Not modified.
    exclude : {"machine_opens", "bot_clicks"}, list of them, True (both), optional
        As in :func:`bextoolkit.funnel`: flagged opens / clicks do not count as engagement
        (neither in ``mailings_opened`` / ``mailings_clicked`` nor in ``last_open`` /
        ``last_click``).
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock).

    Returns
    -------
    DataFrame
        One row per recipient (as in the funnel: ``RECIPIENT_ID``, else the e-mail),
        sorted by ``RECIPIENT_ID`` then ``Email``:

        - ``RECIPIENT_ID`` (string; missing for a recipient known only by e-mail)
        - ``Email`` (string): the first e-mail seen for the recipient
        - ``mailings_sent``: distinct mailings (``messageId``) with an ``emailSend`` to them
        - ``mailings_opened`` / ``mailings_clicked``: distinct mailings they opened /
          clicked (whether or not the send is in the frame)
        - ``first_sent``: their earliest send; ``last_open`` / ``last_click``: their latest
          open / click (NaT when none)
        - ``hard_bounced``: any hard bounce (``bounceType`` containing "hard");
          ``opted_out``: any ``emailOptOut`` (booleans)

        Events with neither id nor e-mail belong to no one: ``attrs["unattributed"]``
        counts them. ``attrs["excluded"]`` counts the events left out per flag.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "1", "1", "2"],
    ...     "Email": ["a@x.org"] * 4 + ["b@x.org"],
    ...     "messageId": ["m1", "m2", "m1", "m1", "m1"],
    ...     "eventType": ["emailSend", "emailSend", "emailOpen", "emailOpen", "emailSend"],
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-08", "2026-01-02",
    ...                                  "2026-01-03", "2026-01-01"], utc=True)})
    >>> recipient_engagement(ev)[["RECIPIENT_ID", "mailings_sent", "mailings_opened"]]
      RECIPIENT_ID  mailings_sent  mailings_opened
    0            1              2                1
    1            2              1                0
    """
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="recipient_engagement")
    events = k.in_window(events, start, end)
    ev = k.event_codes(events)
    ev, excluded = exclude_flagged(events, ev, exclude)
    rec = k.recipients(events)
    who = rec.codes
    n = rec.size
    known = who >= 0
    mail = k.mailing_codes(events)
    ts = _times(events)
    hard, _ = k.is_hard_soft(events)

    def mailings(code: int) -> np.ndarray:
        return k.count_distinct(who, n, mail, known & (ev == code))

    def flag(where: np.ndarray) -> np.ndarray:
        return np.bincount(who[known & where], minlength=n) > 0

    out = pd.DataFrame(index=range(n))
    ids = rec.labels.to_numpy(dtype=object)
    is_id = np.arange(n) < rec.n_ids
    out["RECIPIENT_ID"] = pd.array(np.where(is_id, ids, np.array(None)), dtype="string")
    out["Email"] = _first_emails(events, who, n, np.where(is_id, np.array(None), ids))
    out["mailings_sent"] = mailings(k.SEND)
    out["mailings_opened"] = mailings(k.OPEN)
    out["mailings_clicked"] = mailings(k.CLICK)
    tz = getattr(getattr(events.get("timestamp"), "dt", None), "tz", None)
    out["first_sent"] = _as_time(_extreme(who, ts, known & (ev == k.SEND), n, first=True), tz)
    out["last_open"] = _as_time(_extreme(who, ts, known & (ev == k.OPEN), n, first=False), tz)
    out["last_click"] = _as_time(_extreme(who, ts, known & (ev == k.CLICK), n, first=False), tz)
    out["hard_bounced"] = flag((ev == k.BOUNCE) & hard)
    out["opted_out"] = flag(ev == k.OPT_OUT)
    present = np.bincount(who[known], minlength=n) > 0  # categories never seen: no row
    out = out[present]
    out = out.sort_values(["RECIPIENT_ID", "Email"], kind="stable", na_position="last")
    out = out.reset_index(drop=True)
    out.attrs["unattributed"] = int((~known).sum())
    out.attrs["excluded"] = excluded
    if "window" in events.attrs:
        out.attrs["window"] = events.attrs["window"]
    return out


def _times(events: pd.DataFrame) -> np.ndarray:
    if "timestamp" not in events.columns:
        return np.full(len(events), _NAT, np.int64)
    return k.timestamps_ns(events)


def _extreme(
    who: np.ndarray, ts: np.ndarray, where: np.ndarray, n: int, *, first: bool
) -> np.ndarray:
    """Per recipient the earliest (``first``) or latest time among rows ``where``; NaT if none."""
    keep = where & (ts != _NAT)
    out = np.full(n, _NAT, np.int64)
    if not keep.any():
        return out
    w, t = who[keep], ts[keep]
    order = np.argsort(t, kind="stable")
    if first:
        order = order[::-1]  # assignment keeps the last write: make it the earliest
    out[w[order]] = t[order]
    return out


def _as_time(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    values = pd.DatetimeIndex(ns.view("M8[ns]"))
    return values.tz_localize("UTC").tz_convert(tz) if tz is not None else values


def _first_emails(
    events: pd.DataFrame, who: np.ndarray, n: int, fallback: np.ndarray
) -> pd.api.extensions.ExtensionArray:
    """The first non-missing ``Email`` of each recipient's rows (else the email it is known by)."""
    emails = np.asarray(fallback, dtype=object)
    if "Email" in events.columns:
        has = events["Email"].notna().to_numpy(bool) & (who >= 0)
        rows = np.flatnonzero(has)[::-1]  # the first row written last, wins
        first_row = np.full(n, -1, np.int64)
        first_row[who[rows]] = rows
        found = first_row >= 0
        values = events["Email"].iloc[first_row[found]].astype(object).to_numpy()
        emails = emails.copy()
        emails[found] = values
    return pd.array(emails, dtype="string")
