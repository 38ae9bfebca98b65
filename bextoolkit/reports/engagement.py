"""Engagement in time: how soon after their own send recipients open or click, and when.

Re-exported by :mod:`bextoolkit.reports`. The clock of each recipient starts at their own
earliest ``emailSend`` of the mailing, not at the campaign's start, so a send spread over
hours does not blur the curve. Recipients who never engaged stay in the denominator as
"not yet" (``NaT``), never dropped; bounced recipients are not delivered and are left out.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.schema import EVENT_TYPE_COLUMN, EVENT_TYPES

WEEKDAYS: Final = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")

#: Most rows per group :func:`engagement_curve` will build before asking for a coarser step.
MAX_STEPS: Final = 100_000


def _event_indices(event: str | Sequence[str]) -> list[int]:
    names = [event] if isinstance(event, str) else list(event)
    bad = [e for e in names if e not in EVENT_TYPES]
    if bad or not names:
        raise BexConfigError(
            f"event={bad or names!r} is not an event type; use one or more of {EVENT_TYPES}, "
            "for example 'emailOpen' or ('emailOpen', 'emailClick')."
        )
    return [EVENT_TYPES.index(e) for e in names]


def _tz(events: pd.DataFrame) -> Any:
    return getattr(pd.to_datetime(events["timestamp"].iloc[:0]).dt, "tz", None)


def _as_time(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    values = pd.DatetimeIndex(ns.view("M8[ns]"))
    return values.tz_localize("UTC").tz_convert(tz) if tz is not None else values


def time_to_engage(
    events: pd.DataFrame,
    *,
    event: str | Sequence[str] = "emailOpen",
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Each delivered recipient's delay from their own send to their first open or click.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``timestamp``, ``RECIPIENT_ID`` or ``Email``,
        ``messageId`` when there are several mailings). Not modified.
    event : str or sequence of str, default "emailOpen"
        The engagement: ``"emailClick"``, or ``("emailOpen", "emailClick")`` for
        whichever comes first.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock); ``attrs["window"]`` says how many were left out.

    Returns
    -------
    DataFrame
        One row per (mailing, recipient) with a send and no bounce in the frame, sorted:
        ``messageId`` (when the frame has it), ``recipient`` (the id, or email fallback),
        ``sent_at`` (their earliest send), ``engaged_at`` (their earliest such event,
        NaT if none), ``time_to_engage`` (Timedelta, NaT for "not yet"; negative when
        the event is timestamped before the send, which is kept, not dropped).
        Engagement without a send in the frame is not in this table.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "1"],
    ...     "eventType": ["emailSend", "emailSend", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:05",
    ...                                  "2026-01-01 12:30"], utc=True)})
    >>> time_to_engage(ev)[["recipient", "time_to_engage"]]
      recipient  time_to_engage
    0         1 0 days 02:30:00
    1         2             NaT
    """
    targets = _event_indices(event)
    k.require_columns(events, [EVENT_TYPE_COLUMN, "timestamp"], what="time_to_engage")
    events = k.in_window(events, start, end)
    ev = k.event_codes(events)
    rec = k.recipients(events)
    ts = k.timestamps_ns(events)
    mail = k.mailing_codes(events)
    width = max(rec.size, 1)
    pairs = k.pair_keys(mail, rec.codes, width)
    sent_keys, sent_at = k.first_times(pairs, ts, ev == k.SEND)
    delivered = ~k.is_member(sent_keys, pairs[ev == k.BOUNCE])
    sent_keys, sent_at = sent_keys[delivered], sent_at[delivered]
    engaged_at = k.lookup_times(k.first_times(pairs, ts, np.isin(ev, targets)), sent_keys)
    elapsed = np.where(engaged_at != k.NAT, engaged_at - sent_at, k.NAT)
    tz = _tz(events)
    out = pd.DataFrame(index=range(len(sent_keys)))
    if "messageId" in events.columns:
        uniques = k._categories_and_codes(events["messageId"])[0]
        out["messageId"] = pd.Index(uniques).take(sent_keys // width)
    out["recipient"] = rec.labels.take(sent_keys % width).astype("string")
    out["sent_at"] = _as_time(sent_at, tz)
    out["engaged_at"] = _as_time(engaged_at, tz)
    out["time_to_engage"] = pd.to_timedelta(elapsed.view("m8[ns]"))
    out.attrs["event"] = event
    return out


@accepts_dask
def engagement_curve(
    events: pd.DataFrame,
    *,
    event: str | Sequence[str] = "emailOpen",
    by: str | None = None,
    step: str | pd.Timedelta = "1h",
    until: str | pd.Timedelta | None = None,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """The share of delivered recipients engaged within each elapsed time since their send.

    Parameters
    ----------
    events : DataFrame
        As for :func:`time_to_engage`. Not modified.
    event : str or sequence of str, default "emailOpen"
        As for :func:`time_to_engage`.
    by : {None, "messageId"}, default None
        One curve for everything, or one per mailing.
    step : str or Timedelta, default "1h"
        Spacing of the elapsed-time grid.
    until : str or Timedelta, optional
        End of the grid; default the longest observed delay, rounded up to a step. The
        grid never runs past where the data stops: the time from the earliest send to the
        last event of the frame (``attrs["horizon"]``), rounded up to a step.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (as for :func:`time_to_engage`).

    Returns
    -------
    DataFrame
        For each group (``messageId`` first when ``by="messageId"``), one row per grid
        point ``elapsed`` = 0, step, 2 step, ...: ``newly_engaged`` (recipients whose
        delay falls in (previous point, elapsed]; at 0: delay <= 0), ``engaged``
        (cumulative: delay <= elapsed), ``delivered`` (the denominator, every delivered
        recipient, engaged or not), ``share`` = engaged / delivered (NaN when 0) and
        ``observed``: the delivered recipients watched into the step that ends at
        ``elapsed`` (their send lies more than ``elapsed - step`` before the frame's last
        event). Where ``observed < delivered`` some recipients have not been watched
        that long yet, so ``share`` there is a lower bound.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "1"],
    ...     "eventType": ["emailSend", "emailSend", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-01-01 10:00", "2026-01-01 10:05",
    ...                                  "2026-01-01 11:30"], utc=True)})
    >>> engagement_curve(ev)
              elapsed  newly_engaged  engaged  delivered  share  observed
    0 0 days 00:00:00              0        0          2    0.0         2
    1 0 days 01:00:00              0        0          2    0.0         2
    2 0 days 02:00:00              1        1          2    0.5         2
    """
    step_ns = _check_curve(events, by, step)
    events = k.in_window(events, start, end)
    delays = time_to_engage(events, event=event)
    last = _last_event(events)
    steps = curve_steps(step, until, *curve_extent(delays, last))
    out = curve_of_counts(curve_counts(delays, last, step_ns, steps, by), step_ns, steps, by)
    out.attrs["event"] = event
    out.attrs["horizon"] = pd.Timedelta(max(last - _first_send(delays), 0) if len(delays) else 0)
    if "window" in events.attrs:
        out.attrs["window"] = events.attrs["window"]
    return out


def _check_curve(events: pd.DataFrame, by: str | None, step: str | pd.Timedelta) -> int:
    """The step in ns, once ``by`` and ``step`` are known to be valid."""
    if by not in (None, "messageId"):
        raise BexConfigError(f"by={by!r}: engagement_curve groups by None or 'messageId' only.")
    if by is not None:
        k.require_columns(events, [by], what="engagement_curve(by='messageId')")
    step_ns = pd.Timedelta(step).value
    if step_ns <= 0:
        raise BexConfigError(f"step={step!r} must be a positive duration such as '1h'.")
    return int(step_ns)


def _last_event(events: pd.DataFrame) -> int:
    """The latest timestamp of the frame in ns (NaT when none)."""
    ts = k.timestamps_ns(events)
    return int(ts[ts != k.NAT].max()) if (ts != k.NAT).any() else k.NAT


def _first_send(delays: pd.DataFrame) -> int:
    sent = delays["sent_at"].to_numpy(dtype="M8[ns]").view(np.int64)
    return int(sent.min()) if len(sent) else k.NAT


def _delays_ns(delays: pd.DataFrame) -> np.ndarray:
    return delays["time_to_engage"].to_numpy(dtype="m8[ns]").view(np.int64)


def curve_extent(delays: pd.DataFrame, last: int) -> tuple[int, int, int]:
    """What fixes the grid of a curve: the longest delay to engage, the earliest send and
    the last event (ns; the longest delay is -1 with no engagement, the send NaT with no
    send). The first is a maximum, the second a minimum over any parts of the events."""
    d = _delays_ns(delays)
    engaged = d[d != k.NAT]
    return (int(engaged.max()) if len(engaged) else -1), _first_send(delays), last


def curve_steps(
    step: str | pd.Timedelta, until: str | pd.Timedelta | None, longest: int, first: int, last: int
) -> int:
    """The number of grid points: up to ``until`` (else the longest delay), never past
    where the data stops (the earliest send to the last event)."""
    step_ns = pd.Timedelta(step).value
    top = pd.Timedelta(until).value if until is not None else max(longest, 0)
    if first != k.NAT:
        top = min(top, max(last - first, 0))
    steps = max(-(-top // step_ns), 0) + 1
    if steps > MAX_STEPS:
        raise BexConfigError(
            f"step={step!r} gives {steps} grid points up to {pd.Timedelta(top)}; pass a "
            "coarser step= or an until=."
        )
    return int(steps)


def curve_counts(
    delays: pd.DataFrame, last: int, step_ns: int, steps: int, by: str | None
) -> pd.DataFrame:
    """Per group (``messageId`` with ``by``) and grid point ``point``: ``newly_engaged``
    (delay in (previous point, this one]) and ``watched`` (delivered sends watched into
    the step ending here and no further). Counts that add up over parts of the events."""
    d = _delays_ns(delays)
    engaged = d != k.NAT
    sent = delays["sent_at"].to_numpy(dtype="M8[ns]").view(np.int64)
    horizon = np.maximum(last - sent, 0)
    if by is None:
        group, keys = np.zeros(len(d), np.int64), pd.DataFrame(index=range(1))
    else:
        codes, uniques = pd.factorize(delays["messageId"], sort=True, use_na_sentinel=False)
        group, keys = codes.astype(np.int64), pd.DataFrame({"messageId": uniques})
    n = len(keys)
    # ceil(delay / step), at least 0; later than the grid (or never): the slot "beyond".
    bucket = np.where(engaged, np.clip(-(-d // step_ns), 0, steps), steps)
    hist = np.bincount(group * (steps + 1) + bucket, minlength=n * (steps + 1))
    # watched into the step ending at point i when horizon > (i - 1) step: i <= ceil(h / step)
    reach = np.minimum(-(-horizon // step_ns), steps - 1)
    watched = np.bincount(group * steps + reach, minlength=n * steps)
    out = keys.take(np.repeat(np.arange(n), steps)).reset_index(drop=True)
    out["point"] = np.tile(np.arange(steps, dtype=np.int64), n)
    out["newly_engaged"] = hist.reshape(n, steps + 1)[:, :steps].ravel().astype(np.int64)
    out["watched"] = watched.astype(np.int64)
    return out


def curve_of_counts(counts: pd.DataFrame, step_ns: int, steps: int, by: str | None) -> pd.DataFrame:
    """:func:`engagement_curve` from :func:`curve_counts` (one block of ``steps`` rows per
    group, points in order)."""
    n = len(counts) // steps if steps else 0
    hist = counts["newly_engaged"].to_numpy().reshape(n, steps)
    watched = counts["watched"].to_numpy().reshape(n, steps)
    out = counts[[by]].copy() if by is not None else pd.DataFrame(index=counts.index)
    out["elapsed"] = pd.to_timedelta(counts["point"].to_numpy() * step_ns, unit="ns")
    out["newly_engaged"] = hist.ravel().astype(np.int64)
    out["engaged"] = np.cumsum(hist, axis=1).ravel().astype(np.int64)
    # every delivered send is watched up to exactly one point: the sum is the denominator
    out["delivered"] = np.repeat(watched.sum(axis=1), steps).astype(np.int64)
    out["share"] = k.ratio(out["engaged"].to_numpy(), out["delivered"].to_numpy())
    out["observed"] = np.cumsum(watched[:, ::-1], axis=1)[:, ::-1].ravel().astype(np.int64)
    return out.reset_index(drop=True)


@accepts_dask
def activity_heatmap(
    events: pd.DataFrame,
    *,
    tz: str = "UTC",
    event_types: Sequence[str] = ("emailOpen", "emailClick"),
    unique: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Events per weekday and hour of day, on the clock of time zone ``tz``.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``timestamp``; naive timestamps are taken as
        UTC). Not modified.
    tz : str, default "UTC"
        The time zone whose wall clock gives the weekday and hour (e.g. "Europe/Berlin").
    event_types : sequence of str, default ("emailOpen", "emailClick")
        Which ``eventType`` values count (any value, canonical or not).
    unique : bool, default False
        Count distinct recipients per cell instead of events.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock); ``attrs["window"]`` says how many were left out.

    Returns
    -------
    DataFrame
        Always 7 x 24 int64: index ``weekday`` ("Monday" .. "Sunday"), columns ``hour``
        (0 .. 23), zeros where nothing happened.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"eventType": ["emailOpen", "emailSend"],
    ...     "timestamp": pd.to_datetime(["2026-01-05 23:30", "2026-01-05 10:00"], utc=True)})
    >>> h = activity_heatmap(ev, tz="Europe/Berlin")
    >>> int(h.loc["Tuesday", 0]), int(h.to_numpy().sum())
    (1, 1)
    """
    k.require_columns(events, [EVENT_TYPE_COLUMN, "timestamp"], what="activity_heatmap")
    events = k.in_window(events, start, end)
    canonical = [EVENT_TYPES.index(e) for e in event_types if e in EVENT_TYPES]
    others = [e for e in event_types if e not in EVENT_TYPES]
    mask = np.isin(k.event_codes(events), canonical)
    if others:
        mask |= events[EVENT_TYPE_COLUMN].isin(others).to_numpy(bool)
    local = pd.to_datetime(events["timestamp"][mask], utc=True).dt.tz_convert(tz)
    ok = local.notna().to_numpy()
    cell = (local.dt.day_of_week.to_numpy()[ok] * 24 + local.dt.hour.to_numpy()[ok]).astype(
        np.int64
    )
    if unique:
        rec = k.recipients(events).codes[mask][ok]
        counts = k.count_distinct(cell, 7 * 24, rec)
    else:
        counts = k.count_rows(cell, 7 * 24)
    return pd.DataFrame(
        counts.reshape(7, 24),
        index=pd.Index(list(WEEKDAYS), name="weekday"),
        columns=pd.RangeIndex(24, name="hour"),
    )
