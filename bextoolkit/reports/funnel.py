"""The funnel per mailing: sent, delivered, opened, clicked, ... and their rates (:func:`funnel`).

The conventions (the vendor's by default, peers' as named options) are in the package
notes of :mod:`bextoolkit.reports` and in :data:`CONVENTIONS`.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any, Final, Literal

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.sends import (
    BOUNCE_KINDS,
    MAILING_COLUMNS,
    Sends,
    build,
    by_items,
    check_by,
    group_sends,
    match_groups,
)

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
    "people_reached",
    "people_opened",
    "people_clicked",
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
    providers: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Sent, delivered, opens, clicks, bounces and opt-outs with their rates, per group of sends.

    Every count is a number of sends (:func:`bextoolkit.sends`): over one mailing that is
    the number of recipients, over many mailings (a domain, a week, the whole account) it
    adds the mailings' numbers exactly. Distinct people are the ``people_*`` columns.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``; ``bounceType`` for
        the hard/soft split; ``timestamp`` for time buckets and windows). Not modified.
    by : str, list, pd.Grouper or None, default "messageId"
        Groups of sends: ``"messageId"``, any column (its value on the send's row),
        ``"domain"``, ``"provider"`` (the recipient's mailbox provider), ``"mailingType"``,
        a send-time bucket (``"send_hour"``, ``"send_day"``, ``"send_week"``,
        ``"send_month"``, or the same without ``send_``), or ``None`` (one row).
    convention : {"acoustic", "iterable"}, default "acoustic"
        A named set of the three options below (:data:`CONVENTIONS`); ``"acoustic"`` is
        the vendor's own definitions, ``"iterable"`` takes click-to-open over openers or
        clickers. Options given explicitly override the named set.
    click_implies_open : bool, optional
        True: a send that was clicked counts as opened even when no open was tracked
        (images blocked). ``gross_opens`` always counts open events only.
    click_to_open : {"openers", "openers_or_clickers"}, optional
        Denominator of ``click_to_open``: ``unique_opens``, or sends opened or clicked.
    bounce_rate : {"sent", "requests"}, optional
        Denominator of ``bounce_rate``: ``sent``, or requests = sends + suppressed.
    exclude : {"machine_opens", "bot_clicks"}, list of them, True (both), optional
        Leave out opens flagged ``machine_open`` and/or clicks flagged ``bot_click``. The
        flags are taken from those columns when the frame has them, else computed with
        :func:`bextoolkit.reports.quality.flag_machine_opens` / ``flag_bot_clicks`` defaults.
    diagnostics : bool, default False
        Add ``opens_without_send`` and ``clicks_without_send`` (mailing-recipient pairs of
        the group with opens / clicks but no send in the frame) and
        ``events_before_send`` (events timestamped before their own send).
    include_seeds : bool, default False
        Count seed-list and inbox-monitoring recipients too: rows whose RRDE ``Recipient
        Type`` is not ``Normal``. By default they are left out (they are not campaign
        recipients); ``attrs["excluded"]["seeds"]`` counts their events.
    start, end : str or Timestamp, optional
        The sends sent in ``start <= time < end`` (naive values on the timestamps' own
        clock), with all their later events; a program that sends every day under one
        ``messageId`` keeps the part sent in the window. ``attrs["window"]`` says how many
        sends were left out.
    providers : mapping, optional
        Domain -> provider for ``by="provider"`` (default
        :data:`bextoolkit.reports.providers.PROVIDER_DOMAINS`).

    Returns
    -------
    DataFrame
        One row per group with sends or suppressions: the key columns; when ``by``
        includes ``messageId``, ``messageName``, ``subjectLine`` and ``mailingType`` (the
        first value seen per mailing, when the frame has them) and ``sent_at`` (the
        group's first send); then, in this order (counts int64, rates float64, NaN when
        the denominator is 0):

        - ``sent``: sends; ``suppressed``: mailing-recipient pairs suppressed, not sent
        - ``bounced``: sends that bounced, split into ``hard_bounced`` / ``soft_bounced``
          (``bounceType`` containing "hard" / "soft"; a send with both is hard; other
          types count in ``bounced`` only)
        - ``delivered``: ``sent - bounced``
        - ``unique_opens`` / ``unique_clicks``: sends with >= 1 open / click
        - ``gross_opens`` / ``gross_clicks``: open / click events of those sends
        - ``opt_outs``: sends followed by an opt-out
        - ``open_rate`` = unique_opens / delivered; ``click_rate`` = unique_clicks /
          delivered; ``click_to_open`` = unique_clicks / (unique_opens, or sends opened
          or clicked); ``bounce_rate`` = bounced / (sent, or sent + suppressed);
          ``opt_out_rate`` = opt_outs / delivered
        - ``complaints``: sends followed by an ``emailComplaint`` (RRDE's "Reply Abuse");
          ``complaint_rate`` = complaints / delivered
        - ``people_reached``, ``people_opened``, ``people_clicked``: distinct recipients
          sent to, who opened, who clicked (equal to the send counts over one mailing)

        Events of a mailing-recipient pair whose send is not in the frame belong to no
        send: ``attrs["without_send"]`` counts them and ``attrs["notes"]`` says so.
        ``attrs["convention"]`` holds the options used and ``"description"``, a sentence
        saying them; ``attrs["excluded"]`` the number of events left out per flag.

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
    counts = funnel_counts(
        events,
        options,
        by=by,
        exclude=exclude,
        diagnostics=diagnostics,
        include_seeds=include_seeds,
        start=start,
        end=end,
        providers=providers,
    )
    for note in counts.attrs["notes"]:
        log.info("funnel: %s", note)
    return with_rates(counts, options)


#: The counts of :func:`funnel_counts` beyond :data:`FUNNEL_COLUMNS`: sends opened or
#: clicked (the click-to-open base of the "iterable" convention).
OPENED_OR_CLICKED: Final = "opened_or_clicked"
_DIAGNOSTICS: Final = ("opens_without_send", "clicks_without_send", "events_before_send")
_RATES: Final = tuple(c for c in FUNNEL_COLUMNS if c.endswith(("_rate", "_to_open")))


def funnel_counts(
    events: pd.DataFrame,
    options: dict[str, Any],
    *,
    by: k.By,
    exclude: str | Sequence[str] | bool | None,
    diagnostics: bool,
    include_seeds: bool,
    start: k.Moment,
    end: k.Moment,
    providers: Mapping[str, str] | None,
) -> pd.DataFrame:
    """The funnel's keys and counts, without rates: every count adds up over frames whose
    recipients are disjoint (the Dask engine sums them per partition, then
    :func:`with_rates`). ``options``: :func:`_convention`'s, completed here."""

    check_by(events, by)
    mailing_columns = MAILING_COLUMNS if "messageId" in by_items(by) else ()
    built = build(
        events,
        exclude=exclude,
        include_seeds=include_seeds,
        start=start,
        end=end,
        by=by,
        columns=mailing_columns,
        providers=providers,
    )
    options["include_seeds"] = include_seeds
    options["description"] += (
        " Seed and inbox-monitoring recipients (RRDE Recipient Type other than Normal) are "
        + ("counted." if include_seeds else "left out.")
    )
    table, suppressed = built.table, built.suppressed
    both = table
    if len(suppressed):  # requests that were not sent: their groups count them
        keys = [c for c in table.columns if c in suppressed.columns or c == "sent_at"]
        both = pd.concat(
            [table[keys], suppressed.rename(columns={"at": "sent_at"})[keys]], ignore_index=True
        )
    groups = group_sends(both, by)
    n_sends = len(table)
    out = groups.keys.copy()
    if mailing_columns:
        names = [c for c in mailing_columns if c in table.columns]
        firsts = both.groupby(groups.codes, sort=True)[names].first()
        for column in names:
            out[column] = firsts[column].to_numpy()
        out["sent_at"] = _first_sent(groups.codes[:n_sends], table["sent_at"], groups.n)
    m = _funnel_counts(groups.codes[:n_sends], groups.n, built, options)
    m["suppressed"] = k.count_rows(groups.codes[n_sends:], groups.n)
    for name in FUNNEL_COLUMNS:
        if name not in _RATES:
            out[name] = m[name]
    out[OPENED_OR_CLICKED] = m[OPENED_OR_CLICKED]
    if diagnostics:
        orphans = built.without_send
        where = match_groups(groups, orphans.rename(columns={"at": "sent_at"}), by)
        for column, name in (("opens", "opens_without_send"), ("clicks", "clicks_without_send")):
            rows = (where >= 0) & (orphans[column].to_numpy() > 0)
            out[name] = k.count_rows(where[rows], groups.n)
        out["events_before_send"] = np.bincount(
            groups.codes[:n_sends], table["events_before_send"].to_numpy(), minlength=groups.n
        ).astype(np.int64)
    out.attrs = built.attrs()
    out.attrs["convention"] = options
    return out


def with_rates(counts: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:
    """The funnel from :func:`funnel_counts`' counts: rates added, columns in order."""
    m = {name: counts[name].to_numpy() for name in counts.columns if name not in _RATES}
    m["open_rate"] = k.ratio(m["unique_opens"], m["delivered"])
    m["click_rate"] = k.ratio(m["unique_clicks"], m["delivered"])
    openers = options["click_to_open"] == "openers"
    m["click_to_open"] = k.ratio(
        m["unique_clicks"], m["unique_opens" if openers else OPENED_OR_CLICKED]
    )
    base = m["sent"] + (m["suppressed"] if options["bounce_rate"] == "requests" else 0)
    m["bounce_rate"] = k.ratio(m["bounced"], base)
    m["opt_out_rate"] = k.ratio(m["opt_outs"], m["delivered"])
    m["complaint_rate"] = k.ratio(m["complaints"], m["delivered"])
    keys = [
        c for c in counts.columns if c not in (*FUNNEL_COLUMNS, OPENED_OR_CLICKED, *_DIAGNOSTICS)
    ]
    out = counts[keys].copy()
    for name in (*FUNNEL_COLUMNS, *(c for c in _DIAGNOSTICS if c in counts.columns)):
        out[name] = m[name]
    out.attrs = counts.attrs
    return out


def _first_sent(groups: np.ndarray, sent_at: pd.Series, n: int) -> pd.Series:
    """The earliest send of each group (the frame's time zone)."""
    ns = sent_at.to_numpy(dtype="datetime64[ns]").view(np.int64)
    first = np.full(n, np.iinfo(np.int64).max, np.int64)
    np.minimum.at(first, groups, ns)
    first[first == np.iinfo(np.int64).max] = k.NAT
    values = pd.DatetimeIndex(first.view("M8[ns]"))
    tz = getattr(sent_at.dt, "tz", None)
    return pd.Series(values.tz_localize("UTC").tz_convert(tz) if tz is not None else values)


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
        f"{name} convention: a send is a mailing to a recipient (RECIPIENT_ID, fallback "
        f"Email) and every count counts sends; delivered = sent - bounced; {opens}; "
        "open and click rates over delivered; "
        f"click-to-open = unique clickers / unique {cto}; "
        f"bounce rate = bounced / {options['bounce_rate']}; sends selected by send time."
    )
    return options


def _funnel_counts(
    g: np.ndarray, n: int, built: Sends, options: dict[str, Any]
) -> dict[str, np.ndarray]:
    """The funnel's counts per group from the sends (``g``: each send's group)."""
    table = built.table

    def sends_where(flag: np.ndarray) -> np.ndarray:
        return k.count_rows(g, n, flag)

    def people(flag: np.ndarray | None = None) -> np.ndarray:
        return k.count_distinct(g, n, built.recipient, flag)

    kind = table["bounced"].cat.codes.to_numpy()
    opened, clicked = table["opened"].to_numpy(bool), table["clicked"].to_numpy(bool)
    either = opened | clicked
    m: dict[str, np.ndarray] = {
        "sent": k.count_rows(g, n),
        "bounced": sends_where(kind > 0),
        "hard_bounced": sends_where(kind == BOUNCE_KINDS.index("hard")),
        "soft_bounced": sends_where(kind == BOUNCE_KINDS.index("soft")),
        "unique_clicks": sends_where(clicked),
        "gross_opens": _sums(g, n, table["opens"]),
        "gross_clicks": _sums(g, n, table["clicks"]),
        "opt_outs": sends_where(table["opted_out"].to_numpy(bool)),
        "complaints": sends_where(table["complained"].to_numpy(bool)),
    }
    m["unique_opens"] = sends_where(either if options["click_implies_open"] else opened)
    m["delivered"] = m["sent"] - m["bounced"]
    m[OPENED_OR_CLICKED] = sends_where(either)
    m["people_reached"] = people()
    m["people_opened"] = people(either if options["click_implies_open"] else opened)
    m["people_clicked"] = people(clicked)
    return m


def _sums(g: np.ndarray, n: int, values: pd.Series) -> np.ndarray:
    return np.bincount(g, values.to_numpy(np.float64), minlength=n).astype(np.int64)
