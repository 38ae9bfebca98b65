"""When to send: rates by hour of send with honest intervals, and each person's usual hour.

The data is observational: the sender chose when each mailing went out (newsletters in the
morning, programs all day), so an hour's rate mixes the hour with what was sent then. A
difference is worth acting on only where the intervals do not overlap, and then as a
hypothesis for an A/B test, not as a fact.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.abtest import wilson_interval
from bextoolkit.reports.sends import build

__all__ = ["engagement_hours", "send_hours"]


@accepts_dask
def send_hours(
    events: pd.DataFrame,
    *,
    tz: str | None = None,
    exclude: Any = True,
    confidence: float = 0.95,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Open and click rates by hour of day of the send, each with a Wilson interval.

    Parameters
    ----------
    events : DataFrame
        The events frame. Not modified.
    tz : str, optional
        The clock the hours are read on (default the timestamps' own).
    exclude : default True
        As in :func:`bextoolkit.funnel`; by default machine opens and bot clicks are left
        out, since an Apple proxy opens at whatever hour the mail arrives.
    confidence : float, default 0.95
        Of the intervals.
    include_seeds, start, end
        As in :func:`bextoolkit.funnel`.

    Returns
    -------
    DataFrame
        One row per hour (0-23) with sends: ``hour``, ``sends``, ``delivered``,
        ``open_rate``, ``open_rate_low``, ``open_rate_high``, ``click_rate``,
        ``click_rate_low``, ``click_rate_high`` (rates over delivered sends), and ``best``:
        True on the hour whose click-rate interval lies wholly above every other hour's
        (at most one; none when the intervals overlap). ``attrs["best_hour"]`` is that hour
        or None, ``attrs["note"]`` says in words what the data can and cannot say.

    Examples
    --------
    >>> import pandas as pd
    >>> hours = [9] * 200 + [15] * 200
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": [str(i) for i in range(400)] + [str(i) for i in range(150)],
    ...     "messageId": "m1",
    ...     "eventType": ["emailSend"] * 400 + ["emailClick"] * 150,
    ...     "timestamp": pd.to_datetime([f"2026-03-02 {h:02d}:00" for h in hours]
    ...                                 + ["2026-03-02 16:00"] * 150, utc=True)})
    >>> out = send_hours(ev, exclude=None)
    >>> out[["hour", "sends", "click_rate", "best"]]
       hour  sends  click_rate   best
    0     9    200        0.75   True
    1    15    200        0.00  False
    """
    counts = hour_counts(
        events, tz=tz, exclude=exclude, include_seeds=include_seeds, start=start, end=end
    )
    return rates_by_hour(counts, confidence)


def hour_counts(events: pd.DataFrame, *, tz: str | None, **options: Any) -> pd.DataFrame:
    """Per hour of send (24 rows): ``hour``, ``sends``, ``delivered``, ``opened`` and
    ``clicked`` (delivered sends opened, clicked); ``attrs`` as the sends'. The counts add
    up over parts of the events that split no send (a Dask frame's partitions)."""
    built = build(events, **options)
    table = built.table
    sent_at = table["sent_at"]
    if tz is not None and sent_at.dt.tz is not None:
        sent_at = sent_at.dt.tz_convert(tz)
    hour = sent_at.dt.hour.to_numpy()
    known = ~np.isnan(hour.astype(float))
    hour = np.where(known, hour, 0).astype(np.int64)
    delivered = (table["bounced"].cat.codes.to_numpy() == 0) & known

    def per_hour(flag: np.ndarray) -> np.ndarray:
        return np.bincount(hour[flag], minlength=24).astype(np.int64)

    out = pd.DataFrame({
        "hour": np.arange(24, dtype=np.int64),
        "sends": per_hour(known),
        "delivered": per_hour(delivered),
        "opened": per_hour(delivered & table["opened"].to_numpy(bool)),
        "clicked": per_hour(delivered & table["clicked"].to_numpy(bool)),
    })  # fmt: skip
    out.attrs = built.attrs()
    return out


def rates_by_hour(counts: pd.DataFrame, confidence: float) -> pd.DataFrame:
    """:func:`send_hours` from :func:`hour_counts`: the hours with sends, their rates,
    intervals and the best hour."""
    present = counts[counts["sends"] > 0].reset_index(drop=True)
    out = present[["hour", "sends", "delivered"]].copy()
    base = present["delivered"].to_numpy()
    for name, hits in (("open_rate", present["opened"]), ("click_rate", present["clicked"])):
        out[name] = k.ratio(hits.to_numpy(), base)
        bounds = [
            wilson_interval(int(h), int(d), confidence=confidence)
            for h, d in zip(hits, base, strict=True)
        ]
        out[f"{name}_low"] = [b[0] for b in bounds]
        out[f"{name}_high"] = [b[1] for b in bounds]
    best = _best(out)
    out["best"] = out["hour"] == best if best is not None else False
    out.attrs = dict(counts.attrs)
    out.attrs["best_hour"] = best
    out.attrs["note"] = _note(best, confidence)
    return out


def _best(out: pd.DataFrame) -> int | None:
    """The hour whose click-rate interval lies wholly above every other hour's, if any."""
    if len(out) < 2 or out["click_rate"].isna().all():
        return None
    top = int(out["click_rate"].fillna(-1).to_numpy().argmax())
    others = out.drop(index=out.index[top])
    if (out["click_rate_low"].iloc[top] > others["click_rate_high"].fillna(0)).all():
        return int(out["hour"].iloc[top])
    return None


def _note(best: int | None, confidence: float) -> str:
    caveat = (
        "The hours were chosen by the sender, not at random: treat a difference as a "
        "hypothesis to test, not a fact."
    )
    if best is None:
        return f"No hour's {confidence:.0%} click-rate interval clears all the others. {caveat}"
    return (
        f"{best:02d}:00 has the highest click rate and its {confidence:.0%} interval lies "
        f"above every other hour's. {caveat}"
    )


@accepts_dask
def engagement_hours(
    events: pd.DataFrame, *, tz: str | None = None, include_seeds: bool = False
) -> pd.DataFrame:
    """Per person, the hour of day they usually engage (genuine opens and clicks).

    Parameters
    ----------
    events : DataFrame
        The events frame. Not modified.
    tz : str, optional
        The clock the hours are read on (default the timestamps' own).
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`.

    Returns
    -------
    DataFrame
        One row per person with a genuine open or click of a send: ``RECIPIENT_ID``,
        ``Email``, ``hour`` (the most frequent hour of their engagement; ties: the earliest),
        ``events`` (how many opens and clicks it rests on) and ``share`` (of those, the
        share in that hour). Machine opens and bot clicks are left out.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "1", "1"], "messageId": ["m1", "m1", "m2", "m2"],
    ...     "eventType": ["emailSend", "emailOpen", "emailSend", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-03-02 06:00", "2026-03-02 19:10",
    ...                                  "2026-03-09 06:00", "2026-03-09 19:40"], utc=True)})
    >>> engagement_hours(ev)[["RECIPIENT_ID", "hour", "events", "share"]]
      RECIPIENT_ID  hour  events  share
    0            1    19       2    1.0
    """
    built = build(events, exclude=True, include_seeds=include_seeds)
    ev, rows = built.ev, np.flatnonzero(built.send_of_row >= 0)
    rows = rows[np.isin(ev[rows], (k.OPEN, k.CLICK)) & (built.ts[rows] != k.NAT)]
    who = built.recipients.codes[rows]
    stamps = pd.Series(pd.DatetimeIndex(built.ts[rows].view("M8[ns]")).tz_localize("UTC"))
    zone = tz or built.tz
    hour = (stamps.dt.tz_convert(zone) if zone is not None else stamps).dt.hour.to_numpy()
    counts = pd.DataFrame({"who": who, "hour": hour}).value_counts().rename("n").reset_index()
    counts = counts.sort_values(["who", "n", "hour"], ascending=[True, False, True])
    total = counts.groupby("who")["n"].sum()
    top = counts.drop_duplicates("who").set_index("who")
    present = top.index.to_numpy(np.int64)
    rec = built.recipients
    labels = pd.Series(rec.labels.take(present), dtype="string")
    emails = built.recipient_column("Email")
    out = pd.DataFrame(
        {
            "RECIPIENT_ID": labels.where(present < rec.n_ids),
            "Email": labels.mask(present < rec.n_ids)
            if emails is None
            else pd.Series(emails.array.take(present)),
            "hour": top["hour"].to_numpy(np.int64),
            "events": total.reindex(present).to_numpy(np.int64),
        }
    )
    out["share"] = top["n"].to_numpy() / out["events"].to_numpy()
    return out
