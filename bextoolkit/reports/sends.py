"""One row per send, the unit of every report (:func:`sends`), and the keys reports group by.

A *send* is one mailing to one recipient: a (``messageId``, recipient) pair with an
``emailSend`` event. Everything that follows the send (bounce, opens, clicks, opt-out,
complaint) is a property of that send, so a number over many mailings (a domain, a week, a
link, the whole account) adds sends exactly as a number over one mailing counts them
(domain.md section 8). This module is the one place that decides:

* **who** a recipient is (``RECIPIENT_ID``, else ``Email``: :func:`._kernels.recipients`);
* **which events count**: seed-list recipients are left out unless asked for, flagged
  machine opens and bot clicks when ``exclude=`` says so (:mod:`.quality`);
* **when** a send happened: its earliest ``emailSend``; a window ``start=``/``end=``
  selects sends by that time, and their later events count whenever they happen;
* **what belongs to no send**: opens, clicks, bounces, opt-outs or complaints of a pair
  whose send is not in the frame (the file holding it was not loaded or was deleted).
  They are counted apart (:attr:`Sends.without_send`), never as a send with no time;
* **suppressions**: a pair with ``emailSuppressed`` and no send is a request that was not
  sent; reports count those apart (``funnel``'s ``suppressed``).

Reports call :func:`build` and aggregate its table; :func:`sends` is the public face.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.providers import provider_of
from bextoolkit.reports.quality import EXCLUDABLE, flag_bot_clicks, flag_machine_opens
from bextoolkit.schema import EVENT_TYPE_COLUMN

__all__ = ["BOUNCE_KINDS", "SEND_COLUMNS", "SEND_TIME_BUCKETS", "sends"]

#: The values of the ``bounced`` column: a send bounces once, its worst kind (hard, then
#: soft, then any other ``bounceType``).
BOUNCE_KINDS: Final = ("none", "hard", "soft", "other")

#: The columns of :func:`sends`, in order (``messageName``, ``subjectLine``,
#: ``mailingType`` only when the events say them).
SEND_COLUMNS: Final = (
    "messageId",
    "RECIPIENT_ID",
    "Email",
    "domain",
    "provider",
    "messageName",
    "subjectLine",
    "mailingType",
    "sent_at",
    "bounced",
    "opened",
    "clicked",
    "opted_out",
    "complained",
    "opens",
    "clicks",
    "machine_opens",
    "bot_clicks",
    "first_open",
    "last_open",
    "first_click",
    "last_click",
    "opened_by_machine_only",
    "clicked_by_bot_only",
    "events_before_send",
)

#: ``by=`` names of send-time buckets (the send's own clock): the bare names are aliases.
SEND_TIME_BUCKETS: Final = {
    **{f"send_{name}": freq for name, freq in k.TIME_BUCKETS.items()},
    **k.TIME_BUCKETS,
}

#: Columns a mailing has one value of: taken as the first value seen for the mailing.
MAILING_COLUMNS: Final = ("messageName", "subjectLine", "mailingType")

#: Events that follow a send (a pair with only these has no send in the frame).
_OUTCOMES: Final = (k.OPEN, k.CLICK, k.BOUNCE, k.OPT_OUT, k.COMPLAINT)

_NEVER: Final = np.iinfo(np.int64).max

#: Per event code (and -1 as the last entry), whether it is one of :data:`_OUTCOMES`.
_IS_OUTCOME: Final = np.isin(np.arange(len(schema.EVENT_CODES) + 1), _OUTCOMES)
_IS_OUTCOME[-1] = False


@dataclass
class Sends:
    """The sends of an events frame and how each event row relates to them.

    ``table`` has one row per send (the columns asked for); the arrays are per event row.
    """

    events: pd.DataFrame
    #: One row per send, sorted by mailing then recipient.
    table: pd.DataFrame
    #: Per event row, its event code after exclusions (-1: not counted).
    ev: np.ndarray
    #: Per event row, the position of its send in ``table``; -1 when its pair has no send
    #: in the frame; -2 when its send lies outside the window (or the row has no pair).
    send_of_row: np.ndarray
    #: Per send, the event row of its first ``emailSend`` (where its columns are read).
    send_row: np.ndarray
    #: Per send, the recipient's code in ``recipients``.
    recipient: np.ndarray
    recipients: k.Recipients
    #: Per send, the mailing's code (``messageId`` codes; 0 without the column).
    mailing: np.ndarray
    #: Per event row, the time (int64 ns UTC, NaT as int64 min).
    ts: np.ndarray
    #: Per event row, its ``messageId`` code (0 without the column, -1 when missing).
    row_mailing: np.ndarray
    #: Pairs with a suppression and no send, one row each (``by`` keys, ``at``: the first
    #: suppression).
    suppressed: pd.DataFrame
    #: Pairs with later events but no send, one row each (``by`` keys, ``at``: the first
    #: such event, counts per event type).
    without_send: pd.DataFrame
    #: Per event row, whether it is one of those events (in the window).
    orphan_rows: np.ndarray
    tz: Any = None
    excluded: dict[str, int] = field(default_factory=dict)
    window: str | None = None
    _per_recipient: dict[str, pd.Series] = field(default_factory=dict, repr=False)
    _per_mailing: dict[str, pd.Series | None] = field(default_factory=dict, repr=False)

    @property
    def n(self) -> int:
        return len(self.table)

    def recipient_column(
        self, name: str, providers: Mapping[str, str] | None = None
    ) -> pd.Series | None:
        """Per recipient code: ``Email`` (the first seen on its rows), its ``domain`` or
        ``provider``; None without an ``Email`` column."""
        if "Email" not in self.events.columns:
            return None
        if "Email" not in self._per_recipient:
            email = self.events["Email"]
            rows = first_rows(
                self.recipients.codes, email.notna().to_numpy(bool), self.recipients.size
            )
            emails = pd.Series(email.array.take(rows, allow_fill=True)).astype("string")
            self._per_recipient["Email"] = emails
            self._per_recipient["domain"] = k.email_domains(pd.DataFrame({"Email": emails}))
        if name == "provider":
            return provider_of(self._per_recipient["domain"], providers)
        return self._per_recipient[name]

    def notes(self) -> list[str]:
        """Sentences about events that belong to no send (for ``attrs["notes"]``)."""
        return notes_of(self.summary())

    def summary(self) -> dict[str, int]:
        """How many pairs and events belong to no send, and how many suppressions."""
        orphans = self.without_send
        out = {"pairs": len(orphans), "suppressed": len(self.suppressed)}
        for column in ("opens", "clicks", "bounces", "opt_outs", "complaints"):
            out[column] = int(orphans[column].sum()) if len(orphans) else 0
        return out

    def attrs(self) -> dict[Hashable | None, Any]:
        """The ``attrs`` every report built on these sends carries."""
        out: dict[Hashable | None, Any] = {
            "excluded": dict(self.excluded),
            "without_send": self.summary(),
            "notes": self.notes(),
        }
        if self.window is not None:
            out["window"] = self.window
        return out


@accepts_dask
def sends(
    events: pd.DataFrame,
    *,
    exclude: str | Sequence[str] | bool | None = None,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
    columns: Sequence[str] = (),
    providers: Mapping[str, str] | None = None,
    flags: bool = True,
) -> pd.DataFrame:
    """One row per send: a mailing to a recipient, and everything that followed it.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``; ``messageId``,
        ``timestamp``, ``bounceType``, ``userAgent`` when present). Not modified.
    exclude : {"machine_opens", "bot_clicks"}, list of them, True (both), optional
        Leave out flagged opens / clicks entirely (as in :func:`bextoolkit.funnel`).
        Without it they count, and ``machine_opens`` / ``bot_clicks`` say how many of a
        send's opens and clicks were flagged.
    include_seeds : bool, default False
        Keep seed-list and inbox-monitoring recipients (RRDE ``Recipient Type`` other than
        ``Normal``); by default their events are left out (``attrs["excluded"]``).
    start, end : str or Timestamp, optional
        Only sends whose send time lies in ``start <= sent_at < end`` (naive values on the
        timestamps' own clock); their later events count whenever they happen.
    columns : sequence of str, optional
        More event columns to carry, read from the send's own ``emailSend`` row (e.g. a
        requested database column).
    providers : mapping, optional
        Domain -> mailbox provider for ``provider`` (default
        :data:`bextoolkit.reports.providers.PROVIDER_DOMAINS`).
    flags : bool, default True
        Count the machine opens and bot clicks of each send (the columns
        ``machine_opens``, ``bot_clicks``, ``opened_by_machine_only``,
        ``clicked_by_bot_only``). Flagging reads every user agent and times each event
        from its send, about half the time of this function: pass False when those
        columns are not needed.

    Returns
    -------
    DataFrame
        One row per send, sorted by ``messageId`` then recipient, with :data:`SEND_COLUMNS`:

        - ``messageId``, ``RECIPIENT_ID`` (string; missing for a recipient known only by
          e-mail), ``Email`` (the recipient's first e-mail seen), ``domain``, ``provider``
        - ``messageName``, ``subjectLine``, ``mailingType``: the mailing's (when the
          events carry them; ``mailingType`` from a ``mailingType`` column, else from
          ``originatedFrom`` values that are mailing types)
        - ``sent_at``: the earliest ``emailSend`` of the pair (never missing unless the send
          row itself has no time)
        - ``bounced``: category ``none`` / ``hard`` / ``soft`` / ``other`` (a send with
          several bounces is its worst kind)
        - ``opened``, ``clicked``, ``opted_out``, ``complained`` (bool); ``opens``,
          ``clicks`` (events); ``machine_opens``, ``bot_clicks`` (of those, flagged by
          :func:`bextoolkit.flag_machine_opens` / :func:`bextoolkit.flag_bot_clicks`)
        - ``first_open``, ``last_open``, ``first_click``, ``last_click`` (NaT when none)
        - ``opened_by_machine_only``, ``clicked_by_bot_only``: every open (click) flagged
        - ``events_before_send``: the send's events timestamped before ``sent_at``
        - then ``columns``

        ``attrs["without_send"]`` counts the pairs with events but no send in the frame
        (``pairs``) and their events (``opens``, ``clicks``, ``bounces``, ``opt_outs``,
        ``complaints``) and the suppressed pairs (``suppressed``); ``attrs["notes"]`` says
        it in words; ``attrs["excluded"]`` counts events left out (seeds, flags).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "messageId": ["m1", "m1", "m2", "m2", "m1", "m2"],
    ...     "RECIPIENT_ID": ["1", "2", "1", "2", "1", "2"],
    ...     "eventType": ["emailSend"] * 4 + ["emailOpen", "emailBounce"],
    ...     "bounceType": [None] * 5 + ["Hard"],
    ...     "timestamp": pd.to_datetime(["2026-01-01"] * 2 + ["2026-01-08"] * 2
    ...                                 + ["2026-01-02", "2026-01-08"], utc=True)})
    >>> s = sends(ev)
    >>> s[["messageId", "RECIPIENT_ID", "bounced", "opened"]]
      messageId RECIPIENT_ID bounced  opened
    0        m1            1    none    True
    1        m1            2    none   False
    2        m2            1    none   False
    3        m2            2    hard   False
    """
    built = build(
        events,
        exclude=exclude,
        include_seeds=include_seeds,
        start=start,
        end=end,
        flags=flags,
        describe=True,
        columns=columns,
        providers=providers,
    )
    out = built.table.drop(columns=["recipient_code"])
    out.attrs = built.attrs()
    return out.reset_index(drop=True)


def notes_of(summary: Mapping[str, int]) -> list[str]:
    """Sentences about events that belong to no send, from :meth:`Sends.summary`'s counts."""
    if not summary.get("pairs"):
        return []
    counts = ", ".join(
        f"{summary[c]:,} {c}" for c in ("opens", "clicks", "bounces", "opt_outs", "complaints")
        if summary.get(c)
    )  # fmt: skip
    return [
        f"{summary['pairs']:,} mailing-recipient pair(s) have events but no send in the frame "
        f"({counts}); they are counted apart (attrs['without_send']), in no send's numbers. "
        "Load the files that hold their sends to count them."
    ]


# --- building -----------------------------------------------------------------------------
def build(
    events: pd.DataFrame,
    *,
    exclude: str | Sequence[str] | bool | None = None,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
    flags: bool = False,
    times: bool = False,
    describe: bool = False,
    by: k.By = None,
    columns: Sequence[str] = (),
    providers: Mapping[str, str] | None = None,
) -> Sends:
    """The sends of ``events`` with the columns a report needs.

    ``describe``: every descriptive column of :func:`sends` (ids as text, e-mails, names);
    else only the outcomes, ``sent_at`` and what ``by`` and ``columns`` need.
    ``flags``: count flagged machine opens and bot clicks per send. ``times``: the first
    and last open and click of each send.
    """
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="building sends")
    ev = k.event_codes(events)
    machine, bot, excluded = _flags(events, ev, exclude, flags)
    if exclude not in (None, False):
        ev = ev.copy()
        if "machine_opens" in excluded:
            ev[machine & (ev == k.OPEN)] = -1
        if "bot_clicks" in excluded:
            ev[bot & (ev == k.CLICK)] = -1
    if not include_seeds:
        ev, _ = k.leave_out_seeds(events, ev, excluded)
    rec = k.recipients(events)
    mail = k.mailing_codes(events)
    pair = k.pair_keys(mail, rec.codes, rec.size)
    ts = k.timestamps_ns(events, required=start is not None or end is not None)
    window = start is not None or end is not None
    lo, hi = k.bounds(events, start, end) if window else (k.NAT + 1, _NEVER)

    is_send = (ev == k.SEND) & (pair >= 0)
    keys, first_at, first_row = _anchors(pair, ts, is_send)
    send_of_row = k.positions(pair, keys) if len(keys) else np.full(len(pair), -1, np.int64)
    n_all = len(keys)
    if window:
        inside = (first_at >= lo) & (first_at < hi) & (first_at != k.NAT)
        renumber = np.where(inside, np.cumsum(inside) - 1, -2)
        send_of_row = np.where(send_of_row >= 0, renumber[np.maximum(send_of_row, 0)], -1)
        keys, first_at, first_row = keys[inside], first_at[inside], first_row[inside]
    send_of_row[pair < 0] = -2
    n = len(keys)
    width = max(rec.size, 1)
    table = pd.DataFrame(index=pd.RangeIndex(n))
    recipient, mailing = keys % width, keys // width
    table["recipient_code"] = recipient
    _outcomes(
        table, events, ev, ts, send_of_row, first_at, machine, bot, flags=flags,
        times=times or describe, left_out=list(excluded),
    )  # fmt: skip
    tz = _tz(events)
    table.insert(0, "sent_at", _as_time(first_at, tz))
    built = Sends(
        events=events,
        table=table,
        ev=ev,
        send_of_row=send_of_row,
        send_row=first_row,
        recipient=recipient,
        recipients=rec,
        mailing=mailing,
        ts=ts,
        row_mailing=mail,
        suppressed=pd.DataFrame(),
        without_send=pd.DataFrame(),
        orphan_rows=_IS_OUTCOME[ev] & (send_of_row == -1),
        tz=tz,
        excluded=excluded,
        window=_window_note(start, end, n_all - n) if window else None,
    )
    wanted = _wanted_columns(events, by, columns, describe)
    describe_rows(built, table, first_row, recipient, mailing, wanted, providers)
    in_window = (ts >= lo) & (ts < hi) if window else np.ones(len(ts), bool)
    built.suppressed = _apart(
        built, (ev == k.SUPPRESSED) & (send_of_row == -1) & in_window, pair, wanted, providers
    )
    built.orphan_rows &= in_window
    built.without_send = _apart(built, built.orphan_rows, pair, wanted, providers)
    return built


def _window_note(start: k.Moment, end: k.Moment, left_out: int) -> str:
    since = f"from {start}" if start is not None else "from the first"
    until = f"before {end}" if end is not None else "to the last"
    return f"sends sent {since} {until}; {left_out:,} send(s) outside the window left out"


def _flags(
    events: pd.DataFrame, ev: np.ndarray, exclude: Any, wanted: bool
) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """Per row: flagged machine opens, flagged bot clicks (all False unless asked for),
    and the number of events ``exclude`` leaves out per flag."""
    if exclude is None or exclude is False:
        names: list[str] = []
    elif exclude is True:
        names = list(EXCLUDABLE)
    else:
        names = [exclude] if isinstance(exclude, str) else list(exclude)
    unknown = [x for x in names if x not in EXCLUDABLE]
    if unknown:
        raise BexConfigError(
            f"exclude={unknown!r} is unknown; use 'machine_opens', 'bot_clicks', a list of "
            "them, or True for both."
        )
    n = len(events)
    machine = bot = np.zeros(n, bool)
    if wanted or "machine_opens" in names:
        machine = _flag(events, "machine_open", flag_machine_opens) & (ev == k.OPEN)
    if wanted or "bot_clicks" in names:
        bot = _flag(events, "bot_click", flag_bot_clicks) & (ev == k.CLICK)
    counts = {}
    if "machine_opens" in names:
        counts["machine_opens"] = int(machine.sum())
    if "bot_clicks" in names:
        counts["bot_clicks"] = int(bot.sum())
    return machine, bot, counts


def _flag(events: pd.DataFrame, column: str, compute: Any) -> np.ndarray:
    """The flag column of the events, else computed with the quality defaults (without
    the all-links rule when the frame has no ``clickUrl`` to apply it to)."""
    if column in events.columns:
        values = events[column]
    elif compute is flag_bot_clicks and "clickUrl" not in events.columns:
        values = compute(events, all_links_seconds=None)[column]
    else:
        values = compute(events)[column]
    return values.fillna(False).to_numpy(dtype=bool)


def _anchors(
    pair: np.ndarray, ts: np.ndarray, rows: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct pair keys among ``rows`` (sorted), each one's earliest time (NaT when
    none of its rows has one) and its first row in frame order."""
    where = np.flatnonzero(rows)
    keys, rank = k.dense_codes(pair[where])
    times = ts[where]
    earliest = np.full(len(keys), _NEVER, np.int64)
    timed = times != k.NAT
    np.minimum.at(earliest, rank[timed], times[timed])
    earliest[earliest == _NEVER] = k.NAT
    first_row = np.empty(len(keys), np.int64)
    first_row[rank[::-1]] = where[::-1]  # the first row written last, wins
    return keys, earliest, first_row


def _outcomes(
    table: pd.DataFrame,
    events: pd.DataFrame,
    ev: np.ndarray,
    ts: np.ndarray,
    send_of_row: np.ndarray,
    sent_at: np.ndarray,
    machine: np.ndarray,
    bot: np.ndarray,
    *,
    flags: bool,
    times: bool,
    left_out: Sequence[str] = (),
) -> None:
    """Add what followed each send: bounce, opens, clicks, opt-out, complaint (and their
    times when ``times``), read from the rows of each send other than the send itself.
    ``left_out``: the flag counts (``"machine_opens"``, ``"bot_clicks"``) whose events
    ``ev`` no longer counts."""
    n = len(table)
    rows = np.flatnonzero((send_of_row >= 0) & (ev >= 0) & (ev != k.SEND))
    send, kind, at = send_of_row[rows], ev[rows], ts[rows]

    def count(where: np.ndarray) -> np.ndarray:
        return np.bincount(send[where], minlength=n).astype(np.int64)

    bounce = kind == k.BOUNCE
    worst = np.zeros(n, np.int8)  # 0 none; then the kind with the lowest rank wins
    if bounce.any():
        classes = pd.Series(np.full(int(bounce.sum()), pd.NA, object))
        if "bounceType" in events.columns:
            classes = k.bounce_classes(events["bounceType"].take(rows[bounce])).astype(object)
        rank = np.where(classes == "hard", 1, np.where(classes == "soft", 2, 3)).astype(np.int8)
        worst[:] = 4
        np.minimum.at(worst, send[bounce], rank)
        worst[worst == 4] = 0
    table["bounced"] = pd.Categorical.from_codes(worst, categories=pd.Index(BOUNCE_KINDS))
    opens, clicks = count(kind == k.OPEN), count(kind == k.CLICK)
    table["opened"] = opens > 0
    table["clicked"] = clicks > 0
    table["opted_out"] = count(kind == k.OPT_OUT) > 0
    table["complained"] = count(kind == k.COMPLAINT) > 0
    table["opens"] = opens
    table["clicks"] = clicks
    if flags:  # flagged events count here even when exclude= leaves them out of the rest
        mine = send_of_row >= 0
        table["machine_opens"] = np.bincount(send_of_row[machine & mine], minlength=n)
        table["bot_clicks"] = np.bincount(send_of_row[bot & mine], minlength=n)
    if times:
        tz = _tz(events)
        for code, word in ((k.OPEN, "open"), (k.CLICK, "click")):
            mine = (kind == code) & (at != k.NAT)
            for first, name in ((True, f"first_{word}"), (False, f"last_{word}")):
                table[name] = _as_time(_extreme(send[mine], at[mine], n, first=first), tz)
    if flags:  # every open (click) flagged: no other open (click) of the send counted
        for word, flagged, counted in (("opened_by_machine_only", "machine_opens", opens),
                                       ("clicked_by_bot_only", "bot_clicks", clicks)):  # fmt: skip
            others = counted if flagged in left_out else counted - table[flagged].to_numpy()
            table[word] = (table[flagged].to_numpy() > 0) & (others == 0)
    early = (at != k.NAT) & (at < sent_at[send])
    table["events_before_send"] = count(early)


def _extreme(who: np.ndarray, ts: np.ndarray, n: int, *, first: bool) -> np.ndarray:
    """Per send, the earliest (``first``) or latest of ``ts``; NaT (int64 min) when none."""
    if first:
        out = np.full(n, _NEVER, np.int64)
        np.minimum.at(out, who, ts)
        out[out == _NEVER] = k.NAT
        return out
    out = np.full(n, k.NAT, np.int64)
    np.maximum.at(out, who, ts)
    return out


def _tz(events: pd.DataFrame) -> Any:
    return getattr(getattr(events.get("timestamp"), "dt", None), "tz", None)


def _as_time(ns: np.ndarray, tz: Any) -> pd.DatetimeIndex:
    values = pd.DatetimeIndex(np.asarray(ns, np.int64).view("M8[ns]"))
    return values.tz_localize("UTC").tz_convert(tz) if tz is not None else values


# --- describing sends: ids, e-mails, domains, mailing names, by= columns -------------------
def _wanted_columns(
    events: pd.DataFrame, by: k.By, columns: Sequence[str], describe: bool
) -> list[str]:
    """The descriptive columns to build: all of them (``describe``), else what ``by`` reads."""
    wanted = (
        ["messageId", "RECIPIENT_ID", "Email", "domain", "provider", *MAILING_COLUMNS]
        if describe
        else []
    )
    for item in by_items(by):
        if isinstance(item, pd.Grouper):
            continue
        if item in ("domain", "provider", "messageId", *MAILING_COLUMNS) or item in events:
            wanted.append(str(item))
    wanted.extend(columns)
    return list(dict.fromkeys(wanted))


def describe_rows(
    built: Sends,
    table: pd.DataFrame,
    rows: np.ndarray,
    recipient: np.ndarray,
    mailing: np.ndarray,
    wanted: Sequence[str],
    providers: Mapping[str, str] | None,
) -> None:
    """Add the ``wanted`` columns to ``table``, whose i-th row is the pair of event row
    ``rows[i]``, recipient code ``recipient[i]`` and mailing code ``mailing[i]``."""
    events, rec = built.events, built.recipients
    position = 0
    for name in wanted:
        if name == "RECIPIENT_ID":
            labels = pd.Series(rec.labels.take(recipient), dtype="string")
            values: Any = labels.where(recipient < rec.n_ids).array
        elif name in ("Email", "domain", "provider"):
            per_recipient = built.recipient_column(name, providers)
            if per_recipient is None:
                continue
            values = per_recipient.array.take(recipient, allow_fill=True)
        elif name in MAILING_COLUMNS:
            if name not in built._per_mailing:
                built._per_mailing[name] = _per_mailing(built, name)
            per_mailing = built._per_mailing[name]
            if per_mailing is None:
                continue
            values = per_mailing.array.take(mailing, allow_fill=True)
        elif name in events.columns:
            values = events[name].array.take(rows, allow_fill=True)
        else:
            continue
        table.insert(position, name, values)
        position += 1


def first_rows(codes: np.ndarray, has: np.ndarray, size: int) -> np.ndarray:
    """Per code 0..size-1, the first row (in frame order) among rows ``has``; -1 if none."""
    rows = np.flatnonzero(has & (codes >= 0))[::-1]  # the first row written last, wins
    out = np.full(size, -1, np.int64)
    out[codes[rows]] = rows
    return out


def _per_mailing(built: Sends, name: str) -> pd.Series | None:
    """Per ``messageId`` code, the first non-missing ``name`` (``mailingType`` falls back
    to ``originatedFrom`` values that are mailing types); None when the events lack it."""
    events = built.events
    if name in events.columns:
        source = events[name]
    elif name == "mailingType" and "originatedFrom" in events.columns:
        source = _mailing_types(events["originatedFrom"])
        if source.isna().all():
            return None
    else:
        return None
    mail = built.row_mailing
    found = first_rows(mail, source.notna().to_numpy(bool), int(mail.max(initial=-1)) + 1)
    return pd.Series(source.array.take(found, allow_fill=True)).astype("string")


def _mailing_types(values: pd.Series) -> pd.Series:
    """The values that name a mailing type (:data:`schema.MAILING_TYPES`), else missing,
    worked out once per distinct value."""
    uniques, codes = k._categories_and_codes(values)
    types = pd.Index(schema.MAILING_TYPES)
    lookup = np.append(types.get_indexer(pd.Index([str(u).strip() for u in uniques])), -1)
    return pd.Series(pd.Categorical.from_codes(lookup[codes], categories=types), index=values.index)


def _apart(
    built: Sends,
    rows: np.ndarray,
    pair: np.ndarray,
    wanted: Sequence[str],
    providers: Mapping[str, str] | None,
) -> pd.DataFrame:
    """One row per pair among ``rows`` (suppressions, or events without a send): the time
    of its first such row (``at``), counts per event type, and the ``wanted`` columns."""
    keys, first_at, first_row = _anchors(pair, built.ts, rows)
    if not len(keys):
        columns = ["at", "opens", "clicks", "bounces", "opt_outs", "complaints"]
        return pd.DataFrame({c: pd.Series(dtype="int64") for c in columns})
    width = max(built.recipients.size, 1)
    table = pd.DataFrame(index=pd.RangeIndex(len(keys)))
    where = np.flatnonzero(rows)
    rank = k.dense_codes(pair[where])[1]
    for code, name in zip(_OUTCOMES, ("opens", "clicks", "bounces", "opt_outs", "complaints"),
                          strict=True):  # fmt: skip
        table[name] = np.bincount(rank[built.ev[where] == code], minlength=len(keys))
    table.insert(0, "at", _as_time(first_at, built.tz))
    describe_rows(built, table, first_row, keys % width, keys // width, wanted, providers)
    return table


# --- grouping sends -----------------------------------------------------------------------
def by_items(by: k.By) -> list[Any]:
    """``by`` as a list of items (empty for None)."""
    return [] if by is None else [by] if isinstance(by, str | pd.Grouper) else list(by)


def key_frame(table: pd.DataFrame, by: k.By, *, time: str = "sent_at") -> tuple[pd.DataFrame, bool]:
    """The ``by`` keys of each row of a sends-like ``table``, one column per key, and
    whether any key is a time bucket.

    Time buckets (``"hour"``, ``"day"``, ``"week"``, ``"month"``, their ``send_``
    aliases, or a ``pd.Grouper`` on ``timestamp``) bucket the ``time`` column: a send is
    placed by the time it was sent.
    """
    columns: dict[Hashable, pd.Series] = {}
    timed = False
    for item in by_items(by):
        if isinstance(item, pd.Grouper):
            freq = getattr(item, "freq", None)
            name = item.key or "timestamp"
            values = table[time] if name in ("timestamp", "sent_at") else _column(table, name)
            columns[name] = k.time_bucket(values, freq) if freq is not None else values
            timed |= freq is not None
        elif item in table.columns:
            columns[item] = table[item]
        elif item in SEND_TIME_BUCKETS:
            columns[item] = k.time_bucket(table[time], SEND_TIME_BUCKETS[item])
            timed = True
        else:
            _column(table, item)
    return pd.DataFrame(columns, index=table.index), timed


def _column(table: pd.DataFrame, item: Any) -> pd.Series:
    if item in table.columns:
        return table[item]
    raise BexConfigError(
        f"by={item!r} is neither a column of the events frame nor one of "
        f"{sorted(SEND_TIME_BUCKETS)}, 'domain' or 'provider'. Pass a column name (for "
        "example 'messageId'), a list of them, a send-time bucket such as 'send_week', or "
        "pd.Grouper(key='timestamp', freq='D')."
    )


def group_sends(table: pd.DataFrame, by: k.By, *, time: str = "sent_at") -> k.Groups:
    """Group the rows of a sends-like table by ``by`` (see :func:`key_frame`)."""
    if by is None:
        return k.group_rows(table, None)
    keys, timed = key_frame(table, by, time=time)
    groups = k.group_rows(keys, list(keys.columns))
    return k.Groups(groups.codes, groups.keys, timed)


def check_by(events: pd.DataFrame, by: k.By) -> None:
    """Raise the one clear error for a ``by`` item that names nothing known."""
    for item in by_items(by):
        if isinstance(item, pd.Grouper):
            continue
        known = ("domain", "provider", "messageId", *MAILING_COLUMNS, *SEND_TIME_BUCKETS)
        if item not in events.columns and item not in known:
            _column(pd.DataFrame(), item)


def match_groups(groups: k.Groups, table: pd.DataFrame, by: k.By) -> np.ndarray:
    """Per row of another sends-like ``table``, the code of the group of ``groups`` with the
    same ``by`` keys; -1 where there is none."""
    if by is None or len(table) == 0:
        return np.zeros(len(table), np.int64)
    keys, _ = key_frame(table, by)
    names = list(keys.columns)
    labelled = groups.keys.assign(_group=np.arange(groups.n))
    merged = keys.reset_index(drop=True).merge(labelled, on=names, how="left", sort=False)
    return merged["_group"].fillna(-1).to_numpy(np.int64)


@accepts_dask
def events_of_sends(
    events: pd.DataFrame,
    *,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """The events that belong to a send sent in ``start <= time < end``: the sends and
    everything that followed them, whenever it happened.

    Every report run on the result without a window gives the numbers the same report
    gives on ``events`` with the window; events of no send are left out (a report with the
    window counts them in ``attrs["without_send"]``).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "messageId": ["m1", "m1", "m2", "m2"], "RECIPIENT_ID": ["1", "1", "1", "1"],
    ...     "eventType": ["emailSend", "emailOpen", "emailSend", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-01-01", "2026-01-09", "2026-01-08",
    ...                                  "2026-01-09"], utc=True)})
    >>> events_of_sends(ev, end="2026-01-05")["messageId"].tolist()
    ['m1', 'm1']
    """
    built = build(events, include_seeds=include_seeds, start=start, end=end)
    out = events[built.send_of_row >= 0]
    out.attrs = dict(events.attrs)  # a copy: the input is never modified
    out.attrs.update(built.attrs())
    return out
