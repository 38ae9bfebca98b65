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
from bextoolkit.reports.sends import build
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
        Only sends sent in ``start <= time < end`` (naive values on the timestamps' own
        clock), with their later events.

    Returns
    -------
    DataFrame
        One row per recipient (as in the funnel: ``RECIPIENT_ID``, else the e-mail),
        sorted by ``RECIPIENT_ID`` (as numbers when every id is one), then the recipients
        known only by e-mail, by e-mail:

        - ``RECIPIENT_ID`` (string; missing for a recipient known only by e-mail)
        - ``Email`` (string): the first e-mail seen for the recipient
        - ``mailings_sent``: their sends (mailings sent to them, :func:`bextoolkit.sends`)
        - ``mailings_opened`` / ``mailings_clicked``: of those, the sends they opened /
          clicked
        - ``first_sent``: their earliest send; ``last_open`` / ``last_click``: their latest
          open / click of a send (NaT when none)
        - ``hard_bounced``: any hard bounce (``bounceType`` containing "hard");
          ``opted_out``: any ``emailOptOut`` (booleans; events whose send is not in the
          frame count here too, so a person who opted out of an older mailing has a row)

        Events with neither id nor e-mail belong to no one: ``attrs["unattributed"]``
        counts them. ``attrs["excluded"]`` counts the events left out per flag;
        ``attrs["without_send"]`` the events whose send is not in the frame.

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
    built = build(
        events, exclude=exclude, include_seeds=include_seeds, start=start, end=end, times=True
    )
    rec, table, who = built.recipients, built.table, built.recipient
    n = rec.size
    scope = (built.send_of_row >= 0) | built.orphan_rows  # rows of a send, or of no send
    row_who = np.where(scope, rec.codes, -1)
    present = np.flatnonzero(
        np.bincount(who, minlength=n) + np.bincount(row_who[row_who >= 0], minlength=n)
    )

    def per_person(values: pd.Series | None = None) -> np.ndarray:
        weights = None if values is None else values.to_numpy(np.float64)
        return np.bincount(who, weights, minlength=n)[present].astype(np.int64)

    def flag(where: np.ndarray) -> np.ndarray:
        rows = where & (row_who >= 0)
        return np.bincount(row_who[rows], minlength=n)[present] > 0

    def moment(column: str, *, first: bool = False) -> pd.DatetimeIndex:
        ns = table[column].to_numpy(dtype="datetime64[ns]").view(np.int64)
        return _as_time(_extreme(who, ns, ns != k.NAT, n, first=first)[present], built.tz)

    hard, _ = k.is_hard_soft(events)
    labels = pd.Series(rec.labels.take(present), dtype="string")
    emails = built.recipient_column("Email")
    out = pd.DataFrame(
        {
            "RECIPIENT_ID": labels.where(present < rec.n_ids),
            "Email": labels.mask(present < rec.n_ids)
            if emails is None
            else pd.Series(emails.array.take(present)),
            "mailings_sent": per_person(),
            "mailings_opened": per_person(table["opened"]),
            "mailings_clicked": per_person(table["clicked"]),
            "first_sent": moment("sent_at", first=True),
            "last_open": moment("last_open"),
            "last_click": moment("last_click"),
            "hard_bounced": flag((built.ev == k.BOUNCE) & hard),
            "opted_out": flag(built.ev == k.OPT_OUT),
        }
    )
    out.attrs = built.attrs()
    out.attrs["unattributed"] = int(((rec.codes < 0) & (built.ev >= 0)).sum())
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
