"""Quality flags: machine (pre-fetch) opens and bot (security-scanner) clicks, each explained.

Apple Mail Privacy Protection (MPP) fetches every image of a message when it reaches the
device, whether or not a person reads it, so opens from Apple Mail are inflated; security
scanners (mail gateways, link checkers) follow every link seconds after delivery, so clicks
are inflated too. The two functions here mark such events with a boolean column and a
short human reason, so that :func:`bextoolkit.funnel` can show rates with and without them.

Every rule is a keyword parameter with a documented default; pass ``None`` or an empty
tuple to switch a rule off. The first rule that matches gives the reason.

What was decided, and why
-------------------------
* **Apple MPP** fetches through a proxy that sends the bare user agent ``Mozilla/5.0``
  and nothing else, while Apple Mail itself sends a full WebKit string. An open whose
  user agent is exactly one of ``apple_user_agents`` is flagged, at any time by default,
  or only within ``apple_within_seconds`` of the recipient's send when that is given.
* **Image-caching proxies** (Gmail's ``GoogleImageProxy`` "via ggpht.com", Yahoo's
  ``YahooMailProxy``) fetch the images when the person opens the message and then serve
  them from a cache: their opens are human, only repeat opens go missing. So a proxy open
  is *not* machine by default; it is flagged only when it comes within
  ``proxy_within_seconds`` of the send, which is a pre-fetch rather than a reader.
  :func:`bextoolkit.client_mix` shows proxies as their own bucket either way.
* **Scanner user agents** (``scanner_markers``, matched case-insensitively as substrings)
  mark both opens and clicks.
* Timing rules compare an event with the *same recipient's* ``emailSend`` of the same
  mailing (the earliest, when there are several). Without a send in the frame (for example
  the send is in an older file that was not loaded) timing rules cannot fire.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit.reports import _kernels as _keys
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.urls import normalize_url

log = logging.getLogger(__name__)

__all__ = [
    "APPLE_PROXY_USER_AGENTS",
    "IMAGE_PROXY_MARKERS",
    "SCANNER_MARKERS",
    "clicked_links",
    "flag_bot_clicks",
    "flag_counts",
    "flag_machine_opens",
]

#: The exact user agents of Apple Mail Privacy Protection's image proxy.
APPLE_PROXY_USER_AGENTS: Final = ("Mozilla/5.0",)

#: Substrings of image-caching proxies' user agents (Gmail, Yahoo).
IMAGE_PROXY_MARKERS: Final = ("GoogleImageProxy", "ggpht.com", "YahooMailProxy")

#: Substrings (case-insensitive) of security scanners', crawlers' and scripts' user agents.
SCANNER_MARKERS: Final = (
    "barracuda",
    "mimecast",
    "proofpoint",
    "symantec",
    "messagelabs",
    "trend micro",
    "trendmicro",
    "forcepoint",
    "sophos",
    "ironport",
    "fireeye",
    "zscaler",
    "safelinks",
    "scanner",
    "spider",
    "crawler",
    "bot/",
    "bot;",
    "headlesschrome",
    "phantomjs",
    "python-requests",
    "python-urllib",
    "go-http-client",
    "curl/",
    "wget/",
    "java/",
)

APPLE_REASON: Final = "Apple Mail Privacy Protection user agent"
SCANNER_REASON: Final = "security scanner user agent"


# --- helpers (recipients, mailings and times as in the reports, via ._kernels) ---
def map_distinct(values: pd.Series, func: Callable[[str | None], Any]) -> np.ndarray:
    """Apply ``func`` once per distinct value (``None`` for missing) and spread the answers.

    Fast on millions of rows with few distinct values (user agents as ``category``).
    """
    if isinstance(values.dtype, pd.CategoricalDtype):
        uniques = [str(c) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
    else:
        codes, found = pd.factorize(values, use_na_sentinel=True)
        uniques = [str(v) for v in found]
    answers = np.empty(len(uniques) + 1, dtype=object)
    answers[:-1] = [func(u) for u in uniques]
    answers[-1] = func(None)  # code -1 (missing) picks the last answer
    return answers[codes]


def pair_key(events: pd.DataFrame) -> np.ndarray:
    """One int64 per row for (mailing, recipient), recipients as the reports count them."""
    who = _keys.recipients(events)
    return _keys.pair_keys(_keys.mailing_codes(events), who.codes, who.size)


def seconds_after_send(events: pd.DataFrame, key: np.ndarray | None = None) -> pd.Series:
    """Seconds from the recipient's earliest ``emailSend`` of the mailing to each event.

    NaN where the frame holds no such send (or the event has no time).
    """
    if key is None:
        key = pair_key(events)
    ts = _keys.timestamps_ns(events)
    sends = _keys.first_times(key, ts, _keys.event_codes(events) == _keys.SEND)
    sent = _keys.lookup_times(sends, key)
    known = (sent != _keys.NAT) & (ts != _keys.NAT)
    seconds = np.full(len(events), np.nan)
    seconds[known] = (ts[known] - sent[known]) / 1e9
    return pd.Series(seconds, index=events.index)


def _contains_any(markers: Sequence[str]) -> Callable[[str | None], bool]:
    lowered = tuple(m.lower() for m in markers)

    def match(agent: str | None) -> bool:
        return agent is not None and any(m in agent.lower() for m in lowered)

    return match


def _is_event(events: pd.DataFrame, code: int) -> np.ndarray:
    return _keys.event_codes(events) == code


def _user_agents(events: pd.DataFrame) -> pd.Series:
    if "userAgent" in events.columns:
        return events["userAgent"]
    log.info("the events have no userAgent column: user-agent rules cannot fire")
    return pd.Series(pd.NA, index=events.index, dtype="string")


def _within(seconds: pd.Series, limit: float | None) -> np.ndarray:
    if limit is None:
        return np.zeros(len(seconds), dtype=bool)
    return ((seconds >= 0) & (seconds <= limit)).fillna(False).to_numpy(dtype=bool)


def _apply(
    events: pd.DataFrame,
    rows: np.ndarray,
    rules: list[tuple[np.ndarray | pd.Series, str | pd.Series]],
    flag: str,
) -> pd.DataFrame:
    """A copy of ``events`` with ``flag`` and ``flag_reason``: first matching rule wins."""
    reason = np.full(len(events), None, dtype=object)
    for hit, why in rules:
        take = rows & np.asarray(hit, dtype=bool) & pd.isna(reason)
        reason[take] = why.to_numpy(dtype=object)[take] if isinstance(why, pd.Series) else why
    flagged = ~pd.isna(reason)
    log.info("%s: %d of %d rows flagged", flag, int(flagged.sum()), int(rows.sum()))
    # assign() copies (lazily under pandas' copy-on-write): the input is never modified
    added: dict[str, Any] = {
        flag: flagged,
        f"{flag}_reason": pd.array(reason, dtype=pd.StringDtype()),
    }
    return events.assign(**added)


# --- the public flags ----------------------------------------------------------------------
def flag_machine_opens(
    events: pd.DataFrame,
    *,
    apple_user_agents: Sequence[str] = APPLE_PROXY_USER_AGENTS,
    apple_within_seconds: float | None = None,
    image_proxy_markers: Sequence[str] = IMAGE_PROXY_MARKERS,
    proxy_within_seconds: float | None = 60.0,
    scanner_markers: Sequence[str] = SCANNER_MARKERS,
    any_within_seconds: float | None = None,
) -> pd.DataFrame:
    """Mark the opens that a machine made: privacy proxies, pre-fetches and scanners.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``timestamp``, ``userAgent``, ``messageId`` and
        ``RECIPIENT_ID`` or ``Email``). Not modified.
    apple_user_agents : sequence of str, default ``("Mozilla/5.0",)``
        Exact user agents (trimmed, case-insensitive) of Apple's MPP proxy.
        Reason ``"Apple Mail Privacy Protection user agent"``. Empty: rule off.
    apple_within_seconds : float, optional
        When given, an MPP open is flagged only within this many seconds of the send.
    image_proxy_markers : sequence of str, default :data:`IMAGE_PROXY_MARKERS`
        Substrings of caching image proxies (Gmail, Yahoo). Their opens count as human
        unless they come within ``proxy_within_seconds`` of the send.
    proxy_within_seconds : float or None, default 60
        A proxy open (MPP or caching proxy) this soon after the send is a pre-fetch.
        Reason ``"opened within 60 s of send by proxy"``. None: rule off.
    scanner_markers : sequence of str, default :data:`SCANNER_MARKERS`
        Substrings (case-insensitive) of scanners' user agents.
        Reason ``"security scanner user agent"``.
    any_within_seconds : float, optional
        Off by default: flag any open this soon after the send, whatever its user agent.
        Reason ``"opened within N s of send"``.

    Returns
    -------
    DataFrame
        A copy of ``events`` plus ``machine_open`` (bool, True only on flagged
        ``emailOpen`` rows) and ``machine_open_reason`` (string, NA where not flagged).
        Rules are tried in the order scanner, Apple MPP, proxy timing, any timing.

    Raises
    ------
    BexConfigError
        When a needed column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "2"], "messageId": ["m", "m", "m"],
    ...     "eventType": ["emailSend", "emailOpen", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-01-01 10:00:00", "2026-01-01 10:00:05",
    ...                                  "2026-01-01 11:00:00"], utc=True),
    ...     "userAgent": [None, "Mozilla/5.0", "Microsoft Outlook 16.0"]})
    >>> flag_machine_opens(ev)[["machine_open", "machine_open_reason"]]
       machine_open                       machine_open_reason
    0         False                                      <NA>
    1          True  Apple Mail Privacy Protection user agent
    2         False                                      <NA>
    """
    opens = _is_event(events, _keys.OPEN)
    agents = _user_agents(events)
    apple = {a.strip().lower() for a in apple_user_agents}

    def kind(agent: str | None) -> str:
        if agent is None:
            return ""
        if is_scanner(agent):
            return "scanner"
        if agent.strip().lower() in apple:
            return "apple"
        if is_proxy(agent):
            return "proxy"
        return ""

    is_scanner = _contains_any(scanner_markers)
    is_proxy = _contains_any(image_proxy_markers)
    kinds = map_distinct(agents, kind)
    scanner, is_apple, proxy = (kinds == "scanner"), (kinds == "apple"), (kinds == "proxy")

    timed = any(s is not None for s in (apple_within_seconds, any_within_seconds)) or (
        proxy_within_seconds is not None and bool((opens & (is_apple | proxy)).any())
    )
    seconds = (
        seconds_after_send(events) if timed else pd.Series(np.nan, index=events.index, dtype=float)
    )
    apple_hit = (
        is_apple
        if apple_within_seconds is None
        else is_apple & _within(seconds, apple_within_seconds)
    )
    rules: list[tuple[np.ndarray | pd.Series, str | pd.Series]] = [
        (scanner, SCANNER_REASON),
        (apple_hit, APPLE_REASON),
    ]
    if proxy_within_seconds is not None:
        rules.append(
            (
                (is_apple | proxy) & _within(seconds, proxy_within_seconds),
                f"opened within {proxy_within_seconds:g} s of send by proxy",
            )
        )
    if any_within_seconds is not None:
        rules.append(
            (
                _within(seconds, any_within_seconds),
                f"opened within {any_within_seconds:g} s of send",
            )
        )
    return _apply(events, opens, rules, "machine_open")


def flag_bot_clicks(
    events: pd.DataFrame,
    *,
    scanner_markers: Sequence[str] = SCANNER_MARKERS,
    within_seconds: float | None = 30.0,
    all_links_seconds: float | None = 30.0,
    all_links_min: int = 3,
    link_column: str = "clickUrl",
    links_per_mailing: Mapping[str, int] | None = None,
) -> pd.DataFrame:
    """Mark the clicks that a security scanner made, not a person.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``timestamp``, ``messageId``, ``RECIPIENT_ID`` or
        ``Email``, ``userAgent``, ``clickUrl``). Not modified.
    scanner_markers : sequence of str, default :data:`SCANNER_MARKERS`
        Substrings (case-insensitive) of scanners' user agents.
        Reason ``"security scanner user agent"``. Empty: rule off.
    within_seconds : float or None, default 30
        A click this soon after the recipient's send of the mailing: nobody reads that
        fast, a gateway scanning the message at delivery does.
        Reason ``"clicked within 30 s of send"``. None: rule off.
    all_links_seconds : float or None, default 30
        A recipient who clicked every link of the mailing (every distinct ``link_column``
        value clicked by anyone in the frame, tracking parameters such as ``utm_*``
        stripped), at least ``all_links_min`` of them, with
        all first clicks within this many seconds: the clicks from the first to the last
        of those first clicks are flagged (later repeat clicks are not).
        Reason ``"clicked all N links of the mailing within 30 s"``. None: rule off.
    all_links_min : int, default 3
        Mailings with fewer links than this never trigger the all-links rule (one person
        can click both links of a two-link mailing quickly).
    link_column : str, default ``"clickUrl"``
        The column that tells links apart.
    links_per_mailing : mapping of str to int, optional
        ``messageId`` -> its number of links for the all-links rule; default counted
        from ``events`` (:func:`clicked_links`). Give it when ``events`` hold only some
        of the mailings' recipients (a Dask partition): the count is the mailing's.

    Returns
    -------
    DataFrame
        A copy of ``events`` plus ``bot_click`` (bool, True only on flagged
        ``emailClick`` rows) and ``bot_click_reason`` (string, NA where not flagged).
        Rules are tried in the order scanner user agent, time after send, all links.

    Raises
    ------
    BexConfigError
        When a needed column is missing.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "1", "1"], "messageId": ["m", "m", "m"],
    ...     "eventType": ["emailSend", "emailClick", "emailClick"],
    ...     "timestamp": pd.to_datetime(["2026-01-01 10:00:00", "2026-01-01 10:00:04",
    ...                                  "2026-01-01 12:00:00"], utc=True),
    ...     "clickUrl": [None, "https://a.example", "https://a.example"]})
    >>> flag_bot_clicks(ev)["bot_click_reason"].tolist()
    [<NA>, 'clicked within 30 s of send', <NA>]
    """
    clicks = _is_event(events, _keys.CLICK)
    is_scanner = _contains_any(scanner_markers)
    scanner = map_distinct(_user_agents(events), is_scanner).astype(bool)
    rules: list[tuple[np.ndarray | pd.Series, str | pd.Series]] = [(scanner, SCANNER_REASON)]
    key = pair_key(events) if (within_seconds, all_links_seconds) != (None, None) else None
    if within_seconds is not None and clicks.any():
        seconds = seconds_after_send(events, key)
        rules.append(
            (_within(seconds, within_seconds), f"clicked within {within_seconds:g} s of send")
        )
    if all_links_seconds is not None and clicks.any() and key is not None:
        options = (all_links_seconds, all_links_min, link_column, links_per_mailing)
        rules.append(_all_links_rule(events, clicks, key, *options))
    return _apply(events, clicks, rules, "bot_click")


def clicked_links(events: pd.DataFrame, link_column: str = "clickUrl") -> pd.DataFrame:
    """The distinct (``messageId``, ``link``) pairs of the clicks, tracking parameters
    stripped from the links: what the all-links rule of :func:`flag_bot_clicks` counts
    per mailing. Pairs of parts of the events unite into the whole's."""
    clicks = _is_event(events, _keys.CLICK)
    links = pd.Series(_links(events, link_column), dtype=object)[clicks]
    mailings = _mailing_labels(events)[clicks]
    pairs = pd.DataFrame({"messageId": mailings, "link": links.to_numpy()}).dropna()
    return pairs.drop_duplicates().reset_index(drop=True)


def _links(events: pd.DataFrame, link_column: str) -> np.ndarray:
    """Per row, the link with tracking parameters stripped (one link, one value)."""
    return map_distinct(events[link_column], lambda u: None if u is None else normalize_url(u))


def _mailing_labels(events: pd.DataFrame) -> np.ndarray:
    """Per row, the ``messageId`` as text (None without one, or without the column)."""
    if "messageId" not in events.columns:
        return np.full(len(events), None, dtype=object)
    ids = events["messageId"].astype("string")
    return ids.astype(object).where(ids.notna(), None).to_numpy()


def _all_links_rule(
    events: pd.DataFrame,
    clicks: np.ndarray,
    key: np.ndarray,
    window: float,
    min_links: int,
    link_column: str,
    given: Mapping[str, int] | None,
) -> tuple[np.ndarray, pd.Series]:
    """Rows inside an every-link burst, and the reason for each."""
    _keys.require_columns(events, [link_column], what="the all-links bot rule")
    # one link, one code: tracking parameters (utm_*, spUserID, ...) do not split it
    clean = _links(events, link_column)
    link = pd.factorize(pd.Series(clean, dtype=object), use_na_sentinel=True)[0]
    mailing = _keys.mailing_codes(events)
    take = clicks & (key >= 0) & (link >= 0)
    timestamp = pd.to_datetime(events["timestamp"], utc=True).dt.tz_localize(None)
    frame = pd.DataFrame(
        {
            "key": key[take],
            "mailing": mailing[take],
            "link": link[take],
            "ts": timestamp.iloc[np.flatnonzero(take)].to_numpy(),
        }
    )
    links_per_mailing = frame.groupby("mailing")["link"].nunique()
    if given is not None:  # the mailings' own counts, by mailing code
        labels = pd.Series(_mailing_labels(events)).groupby(mailing).first()
        links_per_mailing = labels.map(dict(given)).fillna(0).astype(np.int64)
    first = frame.groupby(["key", "link"], sort=False).agg(
        mailing=("mailing", "first"), ts=("ts", "min")
    )
    per = first.groupby(level="key").agg(
        mailing=("mailing", "first"), links=("ts", "size"), start=("ts", "min"), end=("ts", "max")
    )
    needed = per["mailing"].map(links_per_mailing)
    span = (per["end"] - per["start"]).dt.total_seconds()
    bursts = per[(per["links"] >= needed) & (per["links"] >= min_links) & (span <= window)]
    hit = np.zeros(len(events), dtype=bool)
    reason = pd.Series(pd.NA, index=events.index, dtype="string")
    if bursts.empty:
        return hit, reason
    row_key = pd.Series(key, index=events.index)
    start = row_key.map(bursts["start"])
    end = row_key.map(bursts["end"])
    inside = (timestamp >= start) & (timestamp <= end)
    hit = take & inside.fillna(False).to_numpy(dtype=bool)
    links = row_key.map(bursts["links"])
    reason[hit] = [
        f"clicked all {int(n)} links of the mailing within {window:g} s" for n in links[hit]
    ]
    return hit, reason


#: ``exclude=`` names and the flag column of :mod:`bextoolkit.reports.quality` each one reads.
EXCLUDABLE: Final = {"machine_opens": "machine_open", "bot_clicks": "bot_click"}


@accepts_dask
def flag_counts(events: pd.DataFrame) -> pd.DataFrame:
    """Opens and clicks per quality flag, with the default rules of
    :func:`flag_machine_opens` and :func:`flag_bot_clicks` (or the frame's own
    ``machine_open_reason`` and ``bot_click_reason`` columns).

    Parameters
    ----------
    events : DataFrame
        The events frame. Not modified.

    Returns
    -------
    DataFrame
        One row per event type (``"emailOpen"``, ``"emailClick"``) and ``reason`` (the
        flag's reason; missing for the events not flagged), sorted by both (missing
        last): ``eventType``, ``reason``, ``events``.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "2"], "eventType": ["emailOpen"] * 2,
    ...     "userAgent": ["Mozilla/5.0", "Thunderbird"],
    ...     "timestamp": pd.to_datetime(["2026-01-01"] * 2, utc=True)})
    >>> flag_counts(ev)
       eventType                                    reason  events
    0  emailOpen  Apple Mail Privacy Protection user agent       1
    1  emailOpen                                      <NA>       1
    """
    flagged = events
    for flag, compute in (("machine_open", flag_machine_opens), ("bot_click", flag_bot_clicks)):
        if f"{flag}_reason" not in flagged.columns:  # flags in the frame are used as they are
            flagged = compute(flagged)
    codes = _keys.event_codes(events)
    pieces = []
    for code, kind, column in (
        (_keys.OPEN, "emailOpen", "machine_open_reason"),
        (_keys.CLICK, "emailClick", "bot_click_reason"),
    ):
        reasons = flagged.loc[codes == code, column].astype("string")
        counts = reasons.value_counts(dropna=False).rename("events").reset_index()
        pieces.append(counts.rename(columns={column: "reason"}).assign(eventType=kind))
    out = pd.concat(pieces, ignore_index=True)[["eventType", "reason", "events"]]
    out["eventType"] = out["eventType"].astype("string")
    out["events"] = out["events"].astype(np.int64)
    return out.sort_values(["eventType", "reason"], na_position="last").reset_index(drop=True)
