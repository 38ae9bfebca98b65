"""The funnel per mailing: sent, delivered, opened, clicked, ... and their rates (:func:`funnel`).

The conventions (the vendor's by default, peers' as named options) are in the package
notes of :mod:`bextoolkit.reports` and in :data:`CONVENTIONS`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.quality import exclude_flagged
from bextoolkit.schema import EVENT_TYPE_COLUMN

log = logging.getLogger(__name__)

__all__ = ["CONVENTIONS", "FUNNEL_COLUMNS", "funnel"]

#: The metric columns of :func:`funnel`, in order (after the key columns).
FUNNEL_COLUMNS: Final = (
    "sent",
    "suppressed",
    "bounced",
    "hard_bounced",
    "soft_bounced",
    "delivered",
    "unique_opens",
    "unique_clicks",
    "gross_opens",
    "gross_clicks",
    "opt_outs",
    "open_rate",
    "click_rate",
    "click_to_open",
    "bounce_rate",
    "opt_out_rate",
    "complaints",
    "complaint_rate",
)

#: Named conventions: how peers differ (domain.md section 7). Keyword options override.
CONVENTIONS: Final = {
    "acoustic": {
        "click_implies_open": False,
        "click_to_open": "openers",
        "bounce_rate": "sent",
    },
    "iterable": {
        "click_implies_open": False,
        "click_to_open": "openers_or_clickers",
        "bounce_rate": "sent",
    },
}


# --- funnel -------------------------------------------------------------------------------
@accepts_dask
def funnel(
    events: pd.DataFrame,
    *,
    by: k.By = "messageId",
    convention: Literal["acoustic", "iterable"] = "acoustic",
    click_implies_open: bool | None = None,
    click_to_open: Literal["openers", "openers_or_clickers"] | None = None,
    bounce_rate: Literal["sent", "requests"] | None = None,
    exclude: str | Sequence[str] | bool | None = None,
    diagnostics: bool = False,
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
) -> pd.DataFrame:
    """Sent, delivered, opens, clicks, bounces and opt-outs with their rates, per group.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``; ``bounceType`` for
        the hard/soft split; ``timestamp`` for time buckets and diagnostics). Not modified.
    by : str, list, pd.Grouper or None, default "messageId"
        Groups, as in the module notes. A time bucket groups each event by its own time.
    convention : {"acoustic", "iterable"}, default "acoustic"
        A named set of the three options below (:data:`CONVENTIONS`); ``"acoustic"`` is
        the vendor's own definitions, ``"iterable"`` takes click-to-open over openers or
        clickers. Options given explicitly override the named set.
    click_implies_open : bool, optional
        True: a recipient who clicked counts as an opener even when no open was tracked
        (images blocked), so ``unique_opens`` = distinct openers-or-clickers.
        ``gross_opens`` always counts open events only.
    click_to_open : {"openers", "openers_or_clickers"}, optional
        Denominator of ``click_to_open``: ``unique_opens`` (so with
        ``click_implies_open`` it already includes clickers), or distinct recipients who
        opened or clicked.
    bounce_rate : {"sent", "requests"}, optional
        Denominator of ``bounce_rate``: ``sent``, or requests = distinct recipients with
        an ``emailSend`` or an ``emailSuppressed`` (a recipient with both counts once).
    exclude : {"machine_opens", "bot_clicks"}, list of them, True (both), optional
        Leave out opens flagged ``machine_open`` and/or clicks flagged ``bot_click``. The
        flags are taken from those columns when the frame has them, else computed with
        :func:`bextoolkit.reports.quality.flag_machine_opens` / ``flag_bot_clicks`` defaults.
    diagnostics : bool, default False
        Add ``opens_without_send`` and ``clicks_without_send`` (distinct recipients who
        opened/clicked a mailing whose send to them is not in the frame) and
        ``events_before_send`` (events timestamped before the recipient's own send of
        that mailing) after the metric columns.
    include_seeds : bool, default False
        Count seed-list and inbox-monitoring recipients too: rows whose RRDE ``Recipient
        Type`` is not ``Normal``. By default they are left out (they are not campaign
        recipients); ``attrs["excluded"]["seeds"]`` counts their events.
    start, end : str or Timestamp, optional
        The mailings first sent in ``start <= time < end`` (naive values on the
        timestamps' own clock), with all their events, also those after ``end``; events
        of no mailing (or of a mailing whose send is not in the frame) count when they
        lie in the window. ``attrs["window"]`` says how many events were left out.

    Returns
    -------
    DataFrame
        One row per group: the key columns; ``messageName`` and ``subjectLine`` (string,
        the first value seen per mailing) when ``by`` includes ``messageId`` and the
        frame has them; then, in this order (counts int64, rates float64, NaN when the
        denominator is 0):

        - ``sent``: distinct recipients with ``emailSend``
        - ``suppressed``: distinct recipients with ``emailSuppressed``
        - ``bounced``: distinct recipients with ``emailBounce``
        - ``hard_bounced`` / ``soft_bounced``: of those, with a hard / soft ``bounceType``
          (any spelling containing "hard"/"soft"); other or missing types count in
          ``bounced`` only, and a recipient with both kinds counts in each
        - ``delivered``: ``sent - bounced``, never below 0 (bounces whose send is not in
          the frame can outnumber sends)
        - ``unique_opens`` / ``unique_clicks``: distinct recipients with >= 1 open / click
        - ``gross_opens`` / ``gross_clicks``: open / click events
        - ``opt_outs``: distinct recipients with ``emailOptOut``
        - ``open_rate`` = unique_opens / delivered; ``click_rate`` = unique_clicks /
          delivered; ``click_to_open`` = unique_clicks / (openers, or openers-or-clickers);
          ``bounce_rate`` = bounced / (sent, or requests); ``opt_out_rate`` = opt_outs /
          delivered
        - ``complaints``: distinct recipients with ``emailComplaint`` (RRDE's "Reply
          Abuse", a spam complaint); ``complaint_rate`` = complaints / delivered

        ``attrs["convention"]`` holds the options used and ``"description"``, a sentence
        saying them; ``attrs["excluded"]`` the number of events left out per flag;
        ``attrs["notes"]`` sentences about opens/clicks without a send.

    Raises
    ------
    BexConfigError
        A needed column is missing, ``by`` names no column, or an option is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "messageId": ["m1"] * 6,
    ...     "RECIPIENT_ID": ["1", "2", "3", "1", "1", "3"],
    ...     "eventType": ["emailSend"] * 3 + ["emailOpen", "emailClick", "emailBounce"],
    ...     "bounceType": [None] * 5 + ["Hard"]})
    >>> f = funnel(ev)
    >>> f[["messageId", "sent", "bounced", "delivered", "unique_opens", "open_rate"]]
      messageId  sent  bounced  delivered  unique_opens  open_rate
    0        m1     3        1          2             1        0.5
    >>> f.attrs["convention"]["click_to_open"]
    'openers'
    """
    options = _convention(convention, click_implies_open, click_to_open, bounce_rate)
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="funnel")
    events = k.mailings_sent_in(events, start, end)
    ev = k.event_codes(events)
    ev, excluded = exclude_flagged(events, ev, exclude)
    if not include_seeds:
        ev, _ = k.leave_out_seeds(events, ev, excluded)
    options["include_seeds"] = include_seeds
    options["description"] += (
        " Seed and inbox-monitoring recipients (RRDE Recipient Type other than Normal) are "
        + ("counted." if include_seeds else "left out.")
    )
    groups = k.group_rows(events, by)
    rec = k.recipients(events)
    hard, soft = k.is_hard_soft(events)
    m = _funnel_counts(groups, rec.codes, ev, hard, soft, options)
    out = groups.keys.copy()
    if "messageId" in out.columns:
        for column in ("messageName", "subjectLine"):
            if column in events.columns:
                out[column] = _first_per_mailing(events, column, out["messageId"])
    for name in FUNNEL_COLUMNS:
        out[name] = m[name]
    notes, diag = _without_send(events, groups, rec, ev, diagnostics)
    if diagnostics:
        for name, values in diag.items():
            out[name] = values
    out.attrs["convention"] = options
    out.attrs["excluded"] = excluded
    out.attrs["notes"] = notes
    if "window" in events.attrs:
        out.attrs["window"] = events.attrs["window"]
    for note in notes:
        log.info("funnel: %s", note)
    return out


def _convention(
    name: str,
    click_implies_open: bool | None,
    click_to_open: str | None,
    bounce_rate: str | None,
) -> dict[str, Any]:
    if name not in CONVENTIONS:
        raise BexConfigError(
            f"convention={name!r} is unknown; use one of {sorted(CONVENTIONS)} and adjust "
            "click_implies_open=, click_to_open= or bounce_rate= as needed."
        )
    options: dict[str, Any] = {"name": name, **CONVENTIONS[name]}
    given = {
        "click_implies_open": click_implies_open,
        "click_to_open": click_to_open,
        "bounce_rate": bounce_rate,
    }
    options.update({key: value for key, value in given.items() if value is not None})
    allowed = {"click_to_open": ("openers", "openers_or_clickers"), "bounce_rate": k.RATE_BASES}
    for key, values in allowed.items():
        if options[key] not in values:
            raise BexConfigError(f"{key}={options[key]!r} is unknown; use one of {values}.")
    opens = (
        "a click counts as an open"
        if options["click_implies_open"]
        else "opens counted as tracked (a click does not imply an open)"
    )
    cto = "openers" if options["click_to_open"] == "openers" else "openers or clickers"
    options["description"] = (
        f"{name} convention: a recipient is RECIPIENT_ID (fallback Email); "
        f"delivered = sent - bounced; {opens}; open and click rates over delivered; "
        f"click-to-open = unique clickers / unique {cto}; "
        f"bounce rate = bounced / {options['bounce_rate']}."
    )
    return options


def _funnel_counts(
    groups: k.Groups,
    rec: np.ndarray,
    ev: np.ndarray,
    hard: np.ndarray,
    soft: np.ndarray,
    options: dict[str, Any],
) -> dict[str, np.ndarray]:
    g, n = groups.codes, groups.n

    def distinct(where: np.ndarray) -> np.ndarray:
        return k.count_distinct(g, n, rec, where)

    is_open, is_click, is_send = ev == k.OPEN, ev == k.CLICK, ev == k.SEND
    is_bounce = ev == k.BOUNCE
    m: dict[str, np.ndarray] = {
        "sent": distinct(is_send),
        "suppressed": distinct(ev == k.SUPPRESSED),
        "bounced": distinct(is_bounce),
        "hard_bounced": distinct(is_bounce & hard),
        "soft_bounced": distinct(is_bounce & soft),
        "unique_clicks": distinct(is_click),
        "gross_opens": k.count_rows(g, n, is_open),
        "gross_clicks": k.count_rows(g, n, is_click),
        "opt_outs": distinct(ev == k.OPT_OUT),
        "complaints": distinct(ev == k.COMPLAINT),
    }
    openers = distinct(is_open)
    needs_either = options["click_implies_open"] or options["click_to_open"] != "openers"
    either = distinct(is_open | is_click) if needs_either else openers
    m["unique_opens"] = either if options["click_implies_open"] else openers
    m["delivered"] = np.maximum(m["sent"] - m["bounced"], 0)
    m["open_rate"] = k.ratio(m["unique_opens"], m["delivered"])
    m["click_rate"] = k.ratio(m["unique_clicks"], m["delivered"])
    cto_base = m["unique_opens"] if options["click_to_open"] == "openers" else either
    m["click_to_open"] = k.ratio(m["unique_clicks"], cto_base)
    if options["bounce_rate"] == "sent":
        m["bounce_rate"] = k.ratio(m["bounced"], m["sent"])
    else:
        m["bounce_rate"] = k.ratio(m["bounced"], distinct(is_send | (ev == k.SUPPRESSED)))
    m["opt_out_rate"] = k.ratio(m["opt_outs"], m["delivered"])
    m["complaint_rate"] = k.ratio(m["complaints"], m["delivered"])
    return m


def _first_per_mailing(events: pd.DataFrame, column: str, mailings: pd.Series) -> pd.Series:
    """The first non-missing ``column`` value seen per ``messageId``, aligned to ``mailings``."""
    pairs = events[["messageId", column]].dropna(subset=[column])
    first = pairs.drop_duplicates("messageId").set_index("messageId")[column]
    first.index = first.index.astype(object)
    values = mailings.astype(object).map(first)
    return values.astype("string")


def _without_send(
    events: pd.DataFrame,
    groups: k.Groups,
    rec: k.Recipients,
    ev: np.ndarray,
    diagnostics: bool,
) -> tuple[list[str], dict[str, np.ndarray]]:
    """Opens/clicks whose (mailing, recipient) has no send in the frame; early events."""
    mail = k.mailing_codes(events)
    pairs = k.pair_keys(mail, rec.codes, rec.size)
    no_send = ~k.is_member(pairs, pairs[ev == k.SEND]) & (pairs >= 0)
    notes, diag = [], {}
    for code, word in ((k.OPEN, "opens"), (k.CLICK, "clicks")):
        rows = no_send & (ev == code)
        if rows.any():
            notes.append(
                f"{int(rows.sum())} {word[:-1]} events come from recipients whose send of "
                f"that mailing is not in the frame; they are counted in unique_{word}."
            )
        if diagnostics:
            diag[f"{word}_without_send"] = k.count_distinct(groups.codes, groups.n, rec.codes, rows)
    if diagnostics:
        ts = k.timestamps_ns(events)
        table = k.first_times(pairs, ts, ev == k.SEND)
        send_at = k.lookup_times(table, pairs)
        early = (ev >= 0) & (ev != k.SEND) & (send_at != np.iinfo(np.int64).min) & (ts < send_at)
        early &= ts != np.iinfo(np.int64).min
        diag["events_before_send"] = k.count_rows(groups.codes, groups.n, early)
    return notes, diag
