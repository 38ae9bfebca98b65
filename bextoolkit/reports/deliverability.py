"""What mailbox providers demand of bulk senders, from the sender's own events.

Gmail and Yahoo (from February 2024) and Microsoft's Outlook.com (from May 2025) publish
rules for bulk senders (domain.md section 9): a spam-complaint rate kept below 0.1 % and
never reaching 0.3 %, an unsubscribe honoured within 2 days, and a bulk sender is one that
sends about 5,000 messages a day to the provider's consumer mailboxes. These functions
answer, per provider and period and per offending send, what the events can show.

What the events cannot show: SPF, DKIM and DMARC (they are in the message headers and DNS,
not in any export), and inbox versus spam-folder placement. Complaints are in RRDE files
("Reply Abuse"); BEX documents no complaint event, so where the files carry none the
complaint rate is unknown (NaN), never 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.sends import Sends, build

__all__ = [
    "BULK_SENDER_DAILY",
    "COMPLAINT_LIMITS",
    "deliverability",
    "mailed_after_hard_bounce",
    "mailed_after_opt_out",
]

#: Published spam-complaint rates, highest first: (rate, what ``status`` says).
COMPLAINT_LIMITS: Final = (
    (0.003, "complaints over 0.3 %"),  # Gmail, Yahoo: never reach it
    (0.001, "complaints over 0.1 %"),  # Gmail: keep below it
)

#: Sends in one day to a provider from which Gmail (and Microsoft) treat a sender as bulk.
BULK_SENDER_DAILY: Final = 5000

#: How long Gmail and Yahoo give a sender to honour an unsubscribe.
UNSUBSCRIBE_GRACE: Final = "2D"


@accepts_dask
def deliverability(
    events: pd.DataFrame,
    *,
    freq: str = "W",
    providers: Mapping[str, str] | None = None,
    tz: str | None = None,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Per period and mailbox provider: volume, bounces, complaints, opt-outs, and the
    published limits crossed.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``, ``Email`` for the
        provider, ``timestamp``, ``bounceType``). Not modified.
    freq : str, default "W"
        The period: ``"D"`` (Gmail measures daily), ``"W"`` (weeks starting Monday),
        ``"M"`` (months) or any pandas frequency. Sends are placed by their send time.
    providers : mapping, optional
        Domain -> provider (default :data:`bextoolkit.reports.providers.PROVIDER_DOMAINS`:
        Google, Yahoo, Microsoft, Apple; every other domain, corporate ones included, is
        "other").
    tz : str, optional
        Time zone of the periods and days (default the timestamps' own).
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`.
    start, end : str or Timestamp, optional
        Only sends sent in ``start <= time < end``.

    Returns
    -------
    DataFrame
        One row per period and provider with sends, in time order then provider order:

        - ``period`` (the period's first day), ``provider``
        - ``sends``, ``delivered`` (sends without a bounce)
        - ``hard_bounce_rate``, ``soft_bounce_rate``: hard / soft bounced sends / sends
        - ``complaints``: sends followed by a spam complaint; ``complaint_rate`` =
          complaints / delivered (NaN when the files carry no complaint events at all)
        - ``opt_outs``, ``opt_out_rate`` (over delivered)
        - ``peak_daily_sends``: the most sends to the provider on one day of the period;
          ``bulk_sender``: that peak reached :data:`BULK_SENDER_DAILY`
        - ``mailed_after_opt_out``: sends of the period to people who had opted out more
          than 2 days before (:func:`mailed_after_opt_out`)
        - ``mailed_after_hard_bounce``: sends of the period to people after a hard bounce
          of theirs (:func:`mailed_after_hard_bounce`)
        - ``status``: the published limits crossed, joined by "; " ("complaints over 0.3
          %", "complaints over 0.1 %", "mailed after opt-out"), "complaints unknown" when
          the files carry none, else "ok"

        ``attrs["notes"]`` says what the events cannot show (SPF, DKIM, DMARC) and,
        without complaint events, that the rate is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": [str(i) for i in range(4)] + ["0"],
    ...     "Email": ["a@gmail.com", "b@gmail.com", "c@yahoo.com", "d@corp.example",
    ...               "a@gmail.com"],
    ...     "messageId": "m1",
    ...     "eventType": ["emailSend"] * 4 + ["emailComplaint"],
    ...     "timestamp": pd.to_datetime(["2026-03-02 09:00"] * 5, utc=True)})
    >>> d = deliverability(ev)
    >>> d[["provider", "sends", "complaints", "complaint_rate", "status"]]
      provider  sends  complaints  complaint_rate                 status
    0   Google      2           1             0.5  complaints over 0.3 %
    1    Yahoo      1           0             0.0                     ok
    2    other      1           0             0.0                     ok
    """
    counts, per_day = provider_counts(
        events, freq=freq, providers=providers, tz=tz, include_seeds=include_seeds,
        start=start, end=end,
    )  # fmt: skip
    return provider_table(counts, per_day)


#: The counts of :func:`provider_counts` per period and provider.
PROVIDER_COUNTS: Final = (
    "sends", "delivered", "hard", "soft", "complaints", "opt_outs", "mailed_after_opt_out",
    "mailed_after_hard_bounce",
)  # fmt: skip


def provider_counts(
    events: pd.DataFrame, *, freq: str, tz: str | None, **options: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The counts :func:`deliverability` derives its table from: per ``period`` and
    ``provider`` the sends and their outcomes (:data:`PROVIDER_COUNTS`), and per period,
    provider and ``day`` the sends. Both add up over parts of the events that split no
    person (a Dask frame's partitions). ``attrs``: the sends', ``freq``, and
    ``complaint_events`` (how many complaint events the files carry)."""
    built = build(events, by="provider", **options)
    table = built.table
    sent_at = _in_zone(table["sent_at"], tz)
    try:
        period = k.time_bucket(sent_at, _offset(freq))
    except ValueError as exc:
        raise BexConfigError(
            f"freq={freq!r} is not a pandas frequency; use 'D', 'W' or 'M'."
        ) from exc
    keys = pd.DataFrame({"period": period, "provider": table["provider"]})
    groups = k.group_rows(keys, ["period", "provider"])
    g, n = groups.codes, groups.n
    kind = table["bounced"].astype(str).to_numpy()
    flags = {
        "sends": None,
        "delivered": kind == "none",
        "hard": kind == "hard",
        "soft": kind == "soft",
        "complaints": table["complained"].to_numpy(bool),
        "opt_outs": table["opted_out"].to_numpy(bool),
        "mailed_after_opt_out": _late_sends(built, "opt_out", pd.Timedelta(UNSUBSCRIBE_GRACE)),
        "mailed_after_hard_bounce": _late_sends(built, "hard_bounce", pd.Timedelta(0)),
    }
    counts = groups.keys.copy()
    for name, flag in flags.items():
        counts[name] = k.count_rows(g, n, flag)
    days = keys.assign(day=sent_at.dt.floor("D")).value_counts(dropna=False, sort=False)
    per_day = days.rename("sends").reset_index()
    counts.attrs = built.attrs()
    counts.attrs["freq"] = freq
    counts.attrs["complaint_events"] = int((k.event_codes(events) == k.COMPLAINT).sum())
    return counts, per_day


def provider_table(counts: pd.DataFrame, per_day: pd.DataFrame) -> pd.DataFrame:
    """:func:`deliverability` from :func:`provider_counts`."""
    has_complaints = counts.attrs.get("complaint_events", 0) > 0
    out = counts[["period", "provider", "sends", "delivered"]].copy()
    sends, delivered = out["sends"].to_numpy(), out["delivered"].to_numpy()
    out["hard_bounce_rate"] = k.ratio(counts["hard"].to_numpy(), sends)
    out["soft_bounce_rate"] = k.ratio(counts["soft"].to_numpy(), sends)
    out["complaints"] = counts["complaints"]
    rate = k.ratio(counts["complaints"].to_numpy(), delivered)
    out["complaint_rate"] = rate if has_complaints else np.nan
    out["opt_outs"] = counts["opt_outs"]
    out["opt_out_rate"] = k.ratio(counts["opt_outs"].to_numpy(), delivered)
    keys = ["period", "provider"]
    dated = per_day[per_day["day"].notna()]
    peak = dated.groupby(keys, observed=True, dropna=False)["sends"].max().rename("peak")
    matched = out[keys].merge(peak.reset_index(), on=keys, how="left")["peak"]
    out["peak_daily_sends"] = matched.fillna(0).to_numpy(np.int64)
    out["bulk_sender"] = out["peak_daily_sends"] >= BULK_SENDER_DAILY
    out["mailed_after_opt_out"] = counts["mailed_after_opt_out"]
    out["mailed_after_hard_bounce"] = counts["mailed_after_hard_bounce"]
    out["status"] = [
        _status(r, c, has_complaints)
        for r, c in zip(out["complaint_rate"], out["mailed_after_opt_out"], strict=True)
    ]
    out.attrs = {k_: v for k_, v in counts.attrs.items() if k_ != "complaint_events"}
    out.attrs["notes"] = [*out.attrs.get("notes", []), *provider_notes(has_complaints)]
    return out


def _in_zone(times: pd.Series, tz: str | None) -> pd.Series:
    if tz is None:
        return times
    if times.dt.tz is None:
        return times.dt.tz_localize("UTC").dt.tz_convert(tz)
    return times.dt.tz_convert(tz)


def _offset(freq: str) -> str:
    return {"W": "W-MON", "M": "MS", "ME": "MS"}.get(freq, freq)


def _status(rate: float, late: int, known: bool) -> str:
    crossed = [label for limit, label in COMPLAINT_LIMITS if known and rate >= limit][:1]
    if late:
        crossed.append("mailed after opt-out")
    if crossed:
        return "; ".join(crossed)
    return "ok" if known else "complaints unknown"


def provider_notes(has_complaints: bool) -> list[str]:
    """What the events cannot show (SPF, DKIM, DMARC) and, without complaint events, that
    the complaint rate is unknown: sentences for a report."""
    notes = [
        "SPF, DKIM and DMARC, which Gmail, Yahoo and Microsoft require of bulk senders, are "
        "in the messages' headers and DNS, not in the events: check them in the providers' "
        "tools (Google Postmaster Tools, Yahoo Sender Hub, Microsoft SNDS)."
    ]
    if not has_complaints:
        notes.append(
            "The files carry no spam-complaint events (BEX documents none; RRDE exports "
            "carry them as 'Reply Abuse'), so the complaint rate is unknown, not 0."
        )
    return notes


# --- the sends that should not have been sent ----------------------------------------------
def person_first(built: Sends, what: str) -> np.ndarray:
    """Per recipient code, the first opt-out (``what="opt_out"``) or hard bounce
    (``"hard_bounce"``), as int64 ns (NaT: never), from every event of the person, with or
    without a send."""
    rec, ev, ts = built.recipients, built.ev, built.ts
    if what == "opt_out":
        rows = ev == k.OPT_OUT
    else:
        hard, _ = k.is_hard_soft(built.events)
        rows = (ev == k.BOUNCE) & hard
    rows &= (rec.codes >= 0) & (ts != k.NAT)
    never = np.iinfo(np.int64).max
    first = np.full(rec.size, never, np.int64)
    np.minimum.at(first, rec.codes[rows], ts[rows])
    first[first == never] = k.NAT
    return first


def _late_sends(built: Sends, what: str, grace: pd.Timedelta) -> np.ndarray:
    """Per send, whether it was sent more than ``grace`` after its recipient opted out
    (or hard-bounced)."""
    since = person_first(built, what)[built.recipient]
    sent = built.table["sent_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)
    return (since != k.NAT) & (sent != k.NAT) & (sent - since > grace.value)


def _offenders(
    events: pd.DataFrame,
    what: str,
    grace: str | pd.Timedelta,
    include_seeds: bool,
    start: k.Moment,
    end: k.Moment,
) -> pd.DataFrame:
    try:
        lag = pd.Timedelta(grace)
    except ValueError as exc:
        raise BexConfigError(f"grace={grace!r} is not a duration; use '2D' or '0s'.") from exc
    built = build(
        events, include_seeds=include_seeds, start=start, end=end,
        columns=("messageId", "RECIPIENT_ID", "Email"),
    )  # fmt: skip
    late = _late_sends(built, what, lag)
    since = person_first(built, what)[built.recipient[late]]
    table = built.table
    label = "opted_out_at" if what == "opt_out" else "bounced_at"
    out = pd.DataFrame(
        {
            "messageId": table["messageId"][late].to_numpy() if "messageId" in table else pd.NA,
            "RECIPIENT_ID": table["RECIPIENT_ID"][late].to_numpy(),
            "Email": table["Email"][late].to_numpy() if "Email" in table else pd.NA,
            label: _as_series(since, built.tz),
            "sent_at": table["sent_at"][late].reset_index(drop=True),
        }
    )
    out["lag"] = out["sent_at"] - out[label]
    out = out.sort_values(["sent_at", "RECIPIENT_ID"], kind="stable").reset_index(drop=True)
    out.attrs = built.attrs()
    out.attrs["grace"] = str(lag)
    return out


def _as_series(ns: np.ndarray, tz: Any) -> pd.Series:
    values = pd.DatetimeIndex(np.asarray(ns, np.int64).view("M8[ns]"))
    return pd.Series(values.tz_localize("UTC").tz_convert(tz) if tz is not None else values)


@accepts_dask
def mailed_after_opt_out(
    events: pd.DataFrame,
    *,
    grace: str | pd.Timedelta = UNSUBSCRIBE_GRACE,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Every send to a person more than ``grace`` after they opted out.

    Gmail and Yahoo require an unsubscribe to be honoured within 2 days. Acoustic
    suppresses opted-out contacts, so such a send usually means a second database, a
    re-import or a program outside the suppression.

    Parameters
    ----------
    events : DataFrame
        The events frame. Not modified.
    grace : str or Timedelta, default "2D"
        Sends up to this long after the opt-out are allowed; later ones are listed.
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`.
    start, end : str or Timestamp, optional
        Only sends sent in the window (the opt-out may be earlier).

    Returns
    -------
    DataFrame
        One row per offending send, in send order: ``messageId``, ``RECIPIENT_ID``,
        ``Email``, ``opted_out_at`` (the person's first opt-out, from any mailing),
        ``sent_at`` and ``lag`` (``sent_at - opted_out_at``, always more than ``grace``).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "1", "1"], "messageId": ["m1", "m1", "m2", "m3"],
    ...     "eventType": ["emailSend", "emailOptOut", "emailSend", "emailSend"],
    ...     "timestamp": pd.to_datetime(["2026-03-01 00:00", "2026-03-01 12:00",
    ...                                  "2026-03-02 00:00", "2026-03-09 00:00"], utc=True)})
    >>> mailed_after_opt_out(ev)[["messageId", "lag"]]
      messageId             lag
    0        m3 7 days 12:00:00
    """
    return _offenders(events, "opt_out", grace, include_seeds, start, end)


@accepts_dask
def mailed_after_hard_bounce(
    events: pd.DataFrame,
    *,
    grace: str | pd.Timedelta = "0s",
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Every send to a person after a hard bounce of theirs (Acoustic suppresses at once).

    Parameters
    ----------
    events : DataFrame
        The events frame (``bounceType`` says which bounces are hard). Not modified.
    grace : str or Timedelta, default "0s"
        Sends up to this long after the bounce are allowed.
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`.
    start, end : str or Timestamp, optional
        Only sends sent in the window (the bounce may be earlier).

    Returns
    -------
    DataFrame
        One row per offending send, in send order: ``messageId``, ``RECIPIENT_ID``,
        ``Email``, ``bounced_at`` (the person's first hard bounce), ``sent_at``, ``lag``.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "1"], "messageId": ["m1", "m1", "m2"],
    ...     "eventType": ["emailSend", "emailBounce", "emailSend"],
    ...     "bounceType": [None, "Hard", None],
    ...     "timestamp": pd.to_datetime(["2026-03-01 00:00", "2026-03-01 00:01",
    ...                                  "2026-03-05 00:00"], utc=True)})
    >>> mailed_after_hard_bounce(ev)[["messageId", "RECIPIENT_ID"]]
      messageId RECIPIENT_ID
    0        m2            1
    """
    return _offenders(events, "hard_bounce", grace, include_seeds, start, end)
