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


@accepts_dask
def recipient_engagement(
    events: pd.DataFrame,
    *,
    exclude: str | Sequence[str] | bool | None = None,
    include_seeds: bool = False,
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
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`: seed-list and inbox-monitoring recipients (an
        RRDE ``Recipient Type`` other than ``Normal``) get no row unless True;
        ``attrs["excluded"]["seeds"]`` counts their events.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock).

    Returns
    -------
    DataFrame
        One row per recipient (as in the funnel: ``RECIPIENT_ID``, else the e-mail),
        sorted by ``RECIPIENT_ID`` (as numbers when every id is one), then the recipients
        known only by e-mail, by e-mail:

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
    seeds = np.zeros(len(ev), bool)
    if not include_seeds:
        ev, seeds = k.leave_out_seeds(events, ev, excluded)
    rec = k.recipients(events)
    who, n = rec.codes, rec.size
    known = (who >= 0) & ~seeds
    mail = k.mailing_codes(events)
    ts = k.timestamps_ns(events, required=False)
    hard, _ = k.is_hard_soft(events)
    present = np.flatnonzero(np.bincount(who[known], minlength=n))  # codes with events

    def mailings(code: int) -> np.ndarray:
        return k.count_distinct(who, n, mail, known & (ev == code))[present]

    def flag(where: np.ndarray) -> np.ndarray:
        return np.bincount(who[known & where], minlength=n)[present] > 0

    tz = getattr(getattr(events.get("timestamp"), "dt", None), "tz", None)

    def moment(code: int, *, first: bool = False) -> pd.DatetimeIndex:
        return _as_time(_extreme(who, ts, known & (ev == code), n, first=first)[present], tz)

    labels = pd.Series(rec.labels.take(present), dtype="string")
    is_id = present < rec.n_ids
    out = pd.DataFrame(
        {
            "RECIPIENT_ID": labels.where(is_id),
            "Email": _first_emails(events, who, present, labels.mask(is_id)),
            "mailings_sent": mailings(k.SEND),
            "mailings_opened": mailings(k.OPEN),
            "mailings_clicked": mailings(k.CLICK),
            "first_sent": moment(k.SEND, first=True),
            "last_open": moment(k.OPEN),
            "last_click": moment(k.CLICK),
            "hard_bounced": flag((ev == k.BOUNCE) & hard),
            "opted_out": flag(ev == k.OPT_OUT),
        }
    )
    out.attrs["unattributed"] = int((who < 0).sum())
    out.attrs["excluded"] = excluded
    if "window" in events.attrs:
        out.attrs["window"] = events.attrs["window"]
    return out


def _extreme(
    who: np.ndarray, ts: np.ndarray, where: np.ndarray, n: int, *, first: bool
) -> np.ndarray:
    """Per recipient the earliest (``first``) or latest time among rows ``where``; NaT if none."""
    keep = where & (ts != k.NAT)
    if not first:
        latest = np.full(n, k.NAT, np.int64)  # NaT is the smallest int64: any time beats it
        np.maximum.at(latest, who[keep], ts[keep])
        return latest
    never = np.iinfo(np.int64).max
    earliest = np.full(n, never, np.int64)
    np.minimum.at(earliest, who[keep], ts[keep])
    earliest[earliest == never] = k.NAT
    return earliest


def _as_time(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    values = pd.DatetimeIndex(ns.view("M8[ns]"))
    return values.tz_localize("UTC").tz_convert(tz) if tz is not None else values


def _first_emails(
    events: pd.DataFrame, who: np.ndarray, present: np.ndarray, fallback: pd.Series
) -> pd.Series:
    """For the recipients ``present``, the first non-missing ``Email`` of their rows (else
    ``fallback``: the e-mail a recipient without id is known by)."""
    if "Email" not in events.columns:
        return fallback
    has = events["Email"].notna().to_numpy(bool) & (who >= 0)
    rows = np.flatnonzero(has)[::-1]  # the first row written last, wins
    first_row = np.full(int(who.max(initial=-1)) + 1, -1, np.int64)
    first_row[who[rows]] = rows
    first_row = first_row[present]
    found = first_row >= 0
    emails = fallback.copy()
    emails[found] = events["Email"].iloc[first_row[found]].astype("string").to_numpy()
    return emails
