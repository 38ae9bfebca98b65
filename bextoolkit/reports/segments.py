"""List-hygiene segments: one row per person, the segment they are in and the evidence.

Since Apple's Mail Privacy Protection (2021) an open is no longer a person reading: Apple's
proxy fetches every image of mail to Apple Mail users (domain.md section 10). A segment
built on opens alone keeps the inactive forever. Here engagement is a *genuine* open (not
flagged by :func:`bextoolkit.flag_machine_opens`) or a click (not flagged by
:func:`bextoolkit.flag_bot_clicks`); a person whose only opens are machine opens is
"machine opens only": unknown, never engaged.
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.deliverability import person_first
from bextoolkit.reports.sends import build

__all__ = ["SEGMENTS", "segments"]

#: The segments, in the order a person is tested for them (the first that fits wins).
SEGMENTS: Final = (
    "opted out",
    "hard bounced",
    "engaged",
    "at risk",
    "inactive",
    "machine opens only",
    "never engaged",
)


@accepts_dask
def segments(
    events: pd.DataFrame,
    *,
    now: k.Moment = None,
    engaged_within: str | pd.Timedelta = "90D",
    inactive_after: int = 6,
    include_seeds: bool = False,
) -> pd.DataFrame:
    """Sort every person into one list-hygiene segment, with the events that put them there.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``, ``timestamp``;
        ``userAgent`` for machine opens and bot clicks). Not modified.
    now : str or Timestamp, optional
        The moment the segments are for; default the latest event in the frame (the
        data's own clock, so a notebook re-run next month gives the same answer).
    engaged_within : str or Timedelta, default "90D"
        A genuine open or a click this recent makes a person "engaged".
    inactive_after : int, default 6
        A person who engaged once, but not within ``engaged_within``, is "inactive" after
        this many mailings since, else "at risk".
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`.

    Returns
    -------
    DataFrame
        One row per person with a send, or with an open, click, bounce, opt-out or
        complaint whose send is not in the frame (people only ever suppressed, who were
        never mailed, have no row), sorted as :func:`bextoolkit.recipient_engagement`:

        - ``RECIPIENT_ID``, ``Email``
        - ``segment`` (category, :data:`SEGMENTS`), the first that fits: "opted out" (any
          opt-out), "hard bounced" (any hard bounce), "engaged" (genuine open or click
          within ``engaged_within`` of ``now``), "at risk" / "inactive" (engaged before,
          fewer / at least ``inactive_after`` mailings since), "machine opens only"
          (never engaged, but machine opens: unknown), "never engaged"
        - ``reason``: the evidence in words
        - ``sends``, ``last_send``, ``last_genuine_open``, ``last_click``,
          ``mailings_since_engagement`` (sends after the last engagement; all sends when
          none), ``machine_opens``, ``opted_out_at``, ``hard_bounced_at``

        ``attrs["now"]`` and ``attrs["rules"]`` record the parameters. A contact list for
        Acoustic's import (a CSV with a header row; map its ``Email`` column)::

            seg.loc[seg["segment"] == "inactive", ["Email"]].to_csv("inactive.csv",
                                                                    index=False)

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "2", "1", "2"], "messageId": ["m1", "m1", "m1", "m1"],
    ...     "eventType": ["emailSend", "emailSend", "emailClick", "emailOpen"],
    ...     "userAgent": [None, None, "Outlook 16", "Mozilla/5.0"],
    ...     "timestamp": pd.to_datetime(["2026-03-02 09:00", "2026-03-02 09:00",
    ...                                  "2026-03-02 11:00", "2026-03-02 12:00"], utc=True)})
    >>> segments(ev)[["RECIPIENT_ID", "segment", "machine_opens"]]
      RECIPIENT_ID             segment  machine_opens
    0            1             engaged              0
    1            2  machine opens only              1
    """
    within = _duration(engaged_within, "engaged_within")
    if not isinstance(inactive_after, int | np.integer) or inactive_after < 1:
        raise BexConfigError(f"inactive_after={inactive_after!r}: give a whole number >= 1.")
    built = build(events, exclude=True, include_seeds=include_seeds, flags=True, times=True)
    rec, table, who = built.recipients, built.table, built.recipient
    n = rec.size
    scope = (built.send_of_row >= 0) | built.orphan_rows
    row_who = np.where(scope, rec.codes, -1)
    present = np.flatnonzero(
        np.bincount(who, minlength=n) + np.bincount(row_who[row_who >= 0], minlength=n)
    )

    def latest(column: str) -> np.ndarray:
        ns = _ns(table[column])
        out = np.full(n, k.NAT, np.int64)
        np.maximum.at(out, who, ns)
        return out

    last_open, last_click, last_send = latest("last_open"), latest("last_click"), latest("sent_at")
    engaged_at = np.maximum(last_open, last_click)
    after = _ns(table["sent_at"]) > engaged_at[who]
    since = np.bincount(who[after], minlength=n)
    machine = np.bincount(who, table["machine_opens"].to_numpy(np.float64), minlength=n)
    sends = np.bincount(who, minlength=n)
    opted, bounced = person_first(built, "opt_out"), person_first(built, "hard_bounce")
    ts = built.ts[built.ts != k.NAT]
    now_ns = _now(now, built.tz, int(ts.max()) if len(ts) else k.NAT)
    recent = (engaged_at != k.NAT) & (now_ns - engaged_at <= within.value)
    choices = [
        opted != k.NAT,
        bounced != k.NAT,
        recent,
        (engaged_at != k.NAT) & (since < inactive_after),
        engaged_at != k.NAT,
        machine > 0,
    ]
    segment = np.select(choices, np.arange(len(choices)), default=len(choices))[present]
    out = pd.DataFrame(
        {
            "RECIPIENT_ID": pd.Series(rec.labels.take(present), dtype="string").where(
                present < rec.n_ids
            ),
            "Email": _emails(built, present),
            "segment": pd.Categorical.from_codes(segment, categories=pd.Index(SEGMENTS)),
            "sends": sends[present].astype(np.int64),
            "last_send": _time(last_send[present], built.tz),
            "last_genuine_open": _time(last_open[present], built.tz),
            "last_click": _time(last_click[present], built.tz),
            "mailings_since_engagement": since[present].astype(np.int64),
            "machine_opens": machine[present].astype(np.int64),
            "opted_out_at": _time(opted[present], built.tz),
            "hard_bounced_at": _time(bounced[present], built.tz),
        }
    )
    out.insert(3, "reason", [_reason(row, within, inactive_after) for row in out.itertuples()])
    out.attrs = built.attrs()
    out.attrs["now"] = _time(np.array([now_ns]), built.tz)[0]
    out.attrs["rules"] = {"engaged_within": str(within), "inactive_after": int(inactive_after)}
    return out


def _duration(value: Any, name: str) -> pd.Timedelta:
    try:
        return pd.Timedelta(value)
    except ValueError as exc:
        raise BexConfigError(f"{name}={value!r} is not a duration; use '90D' (say).") from exc


def _now(now: k.Moment, tz: Any, latest: int) -> int:
    if now is None:
        return latest
    stamp = pd.Timestamp(now)
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz or "UTC")
    return int(stamp.as_unit("ns").value)


def _ns(times: pd.Series) -> np.ndarray:
    return times.to_numpy(dtype="datetime64[ns]").view(np.int64)


def _time(ns: np.ndarray, tz: Any) -> pd.Series:
    values = pd.DatetimeIndex(np.asarray(ns, np.int64).view("M8[ns]"))
    return pd.Series(values.tz_localize("UTC").tz_convert(tz) if tz is not None else values)


def _emails(built: Any, present: np.ndarray) -> pd.Series:
    emails = built.recipient_column("Email")
    if emails is None:
        labels = pd.Series(built.recipients.labels.take(present), dtype="string")
        return labels.mask(present < built.recipients.n_ids)
    return pd.Series(emails.array.take(present))


def _day(value: Any) -> str:
    return f"{value:%Y-%m-%d}"


def _reason(row: Any, within: pd.Timedelta, inactive_after: int) -> str:
    """The evidence for one person's segment, in words."""
    segment = row.segment
    if segment == "opted out":
        return f"opted out on {_day(row.opted_out_at)}"
    if segment == "hard bounced":
        return f"hard bounce on {_day(row.hard_bounced_at)}"
    engaged = [t for t in (row.last_genuine_open, row.last_click) if not pd.isna(t)]
    if engaged:
        last = max(engaged)
        how = "click" if last == row.last_click else "genuine open"
        sentence = f"last {how} on {_day(last)}, {row.mailings_since_engagement} mailing(s) since"
        if segment == "engaged":
            return f"{sentence} (within {within.days} days)"
        return f"{sentence} (none within {within.days} days; inactive from {inactive_after})"
    if segment == "machine opens only":
        return f"{row.machine_opens} machine open(s) only, no genuine open or click: unknown"
    return f"no open or click in {row.sends} mailing(s)"
