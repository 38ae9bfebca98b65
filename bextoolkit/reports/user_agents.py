"""Email client and device mix, read from ``userAgent`` with the maintained ``ua-parser``.

Each distinct user agent is parsed once (and cached across calls), so a frame of millions
of events with a few thousand distinct agents is classified in about a second.

Device types
------------
``proxy``    Apple Mail Privacy Protection and the image-caching proxies of Gmail and Yahoo:
             the real client behind them is hidden, so they are a bucket of their own.
``bot``      security scanners, crawlers and scripts (:data:`.quality.SCANNER_MARKERS`,
             or ua-parser's ``Spider`` device).
``mobile``   phones and tablets (iOS, iPadOS, Android and other mobile systems).
``webmail``  a web browser on a desktop system. For opens that is webmail (Outlook.com,
             Gmail without its proxy, ...); for clicks it is the browser the link opened in.
``desktop``  a desktop mail application (Outlook, Apple Mail on macOS, Thunderbird, ...)
             or another agent on a desktop system.
``unknown``  no user agent, or one nothing could be read from.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Sequence
from typing import Final, NamedTuple

import pandas as pd

from bextoolkit.reports import _kernels as _keys
from bextoolkit.reports.quality import APPLE_PROXY_USER_AGENTS, SCANNER_MARKERS, map_distinct
from bextoolkit.schema import EVENT_TYPE_COLUMN

log = logging.getLogger(__name__)

__all__ = [
    "DEVICE_TYPES",
    "ClientInfo",
    "classify_user_agent",
    "classify_user_agents",
    "client_mix",
]

#: The device buckets of :func:`client_mix`, in display order.
DEVICE_TYPES: Final = ("desktop", "mobile", "webmail", "proxy", "bot", "unknown")

_MOBILE_OS: Final = frozenset(
    {"iOS", "iPadOS", "Android", "Windows Phone", "BlackBerry OS", "KaiOS", "Tizen", "HarmonyOS"}
)
_DESKTOP_OS: Final = frozenset(
    {"Windows", "Mac OS X", "macOS", "Linux", "Ubuntu", "Chrome OS", "Fedora", "Debian", "FreeBSD"}
)
_BROWSERS: Final = frozenset(
    {"Chrome", "Chromium", "Firefox", "Edge", "Safari", "Opera", "IE", "Brave", "Vivaldi"}
)
_BOT_FAMILIES: Final = frozenset({"Python Requests", "curl", "Wget", "HeadlessChrome", "PhantomJS"})
_RENAME: Final = {"Mobile Safari UI/WKWebView": "iOS Mail/WebView"}
_PROXIES: Final = (
    ("googleimageproxy", "Google Image Proxy"),
    ("ggpht.com", "Google Image Proxy"),
    ("yahoomailproxy", "Yahoo Mail Proxy"),
)
_LEVELS: Final = ("device_type", "client", "os")


class ClientInfo(NamedTuple):
    """What one user agent says: the client (app or browser), its OS and the device type."""

    client: str
    os: str
    device_type: str


_UNKNOWN: Final = ClientInfo("Unknown", "Unknown", "unknown")


@functools.lru_cache(maxsize=65536)
def classify_user_agent(user_agent: str | None) -> ClientInfo:
    """Classify one user agent into client, OS and device type (see the module docstring).

    Examples
    --------
    >>> classify_user_agent("Mozilla/5.0")
    ClientInfo(client='Apple Mail Privacy Protection', os='Unknown', device_type='proxy')
    >>> classify_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
    ...                     "AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148")
    ClientInfo(client='iOS Mail/WebView', os='iOS', device_type='mobile')
    """
    agent = (user_agent or "").strip()
    if not agent:
        return _UNKNOWN
    lowered = agent.lower()
    if agent.lower() in {a.lower() for a in APPLE_PROXY_USER_AGENTS}:
        return ClientInfo("Apple Mail Privacy Protection", "Unknown", "proxy")
    for marker, name in _PROXIES:
        if marker in lowered:
            return ClientInfo(name, "Unknown", "proxy")

    import ua_parser  # imported here: loading its rules takes a moment

    parsed = ua_parser.parse(agent)
    family = parsed.user_agent.family if parsed.user_agent else "Other"
    os_family = parsed.os.family if parsed.os else "Other"
    device = parsed.device.family if parsed.device else "Other"
    client = _RENAME.get(family, family)
    if any(m in lowered for m in SCANNER_MARKERS) or device == "Spider" or family in _BOT_FAMILIES:
        return ClientInfo(client if family != "Other" else "Scanner/bot", os_family, "bot")
    if os_family in _MOBILE_OS or device in {"iPhone", "iPad"} or "Mobile" in family:
        return ClientInfo(client, os_family, "mobile")
    if family in _BROWSERS and os_family in _DESKTOP_OS:
        return ClientInfo(client, os_family, "webmail")
    if os_family in _DESKTOP_OS or family in {"Outlook", "Apple Mail", "Thunderbird"}:
        return ClientInfo(client, os_family, "desktop")
    if family == "Other" and os_family == "Other":
        return _UNKNOWN
    return ClientInfo(client, os_family, "unknown")


def classify_user_agents(user_agents: pd.Series) -> pd.DataFrame:
    """Classify a column of user agents, parsing each distinct value once.

    Parameters
    ----------
    user_agents : Series
        Text of any dtype (``category`` is fastest); missing values are ``unknown``.

    Returns
    -------
    DataFrame
        Aligned with ``user_agents``: ``client``, ``os``, ``device_type`` as ``category``
        (``device_type`` with the categories :data:`DEVICE_TYPES`, in that order).

    Examples
    --------
    >>> import pandas as pd
    >>> classify_user_agents(pd.Series(["Mozilla/5.0", None]))["device_type"].tolist()
    ['proxy', 'unknown']
    """
    infos = map_distinct(user_agents, classify_user_agent)
    columns = {name: [info[i] for info in infos] for i, name in enumerate(ClientInfo._fields)}
    out = pd.DataFrame(columns, index=user_agents.index)
    out["client"] = out["client"].astype("category")
    out["os"] = out["os"].astype("category")
    out["device_type"] = pd.Categorical(out["device_type"], categories=list(DEVICE_TYPES))
    return out


def client_mix(
    events: pd.DataFrame,
    *,
    event_types: Sequence[str] = ("emailOpen",),
    by: str | Sequence[str] | None = None,
    level: str = "device_type",
    start: _keys.Moment = None,
    end: _keys.Moment = None,
) -> pd.DataFrame:
    """Counts and shares of events per device type, client or OS.

    Parameters
    ----------
    events : DataFrame
        The events frame (``userAgent``, ``eventType``, and ``RECIPIENT_ID`` or ``Email``).
    event_types : sequence of str, default ``("emailOpen",)``
        Which events to count; ``("emailClick",)`` gives the browsers links opened in.
    by : str or list of str, optional
        Group columns (such as ``"messageId"``); shares add up to 1 within each group.
    level : {"device_type", "client", "os"}, default ``"device_type"``
        What to count by. ``client`` is the app or browser (with the proxies named).
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock).

    Returns
    -------
    DataFrame
        One row per group and ``level`` value with ``events`` (event count),
        ``recipients`` (distinct recipients) and ``share`` (events over the group's
        events), largest first within each group. Only values seen appear (no rows of
        zeros for unseen categories).

    Raises
    ------
    BexConfigError
        When a needed column is missing or ``level`` is unknown.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "2"],
    ...                    "eventType": ["emailOpen"] * 3,
    ...                    "userAgent": ["Mozilla/5.0", "Mozilla/5.0", None]})
    >>> client_mix(ev).head(2)
      device_type  events  recipients     share
    0       proxy       2           2  0.666667
    1     unknown       1           1  0.333333
    """
    from bextoolkit.exceptions import BexConfigError

    if level not in _LEVELS:
        raise BexConfigError(f"client_mix: level={level!r} is not one of {', '.join(_LEVELS)}")
    keys = [by] if isinstance(by, str) else list(by or [])
    _keys.require_columns(events, ["userAgent", EVENT_TYPE_COLUMN, *keys], what="client_mix")
    events = _keys.in_window(events, start, end)
    wanted = events[EVENT_TYPE_COLUMN].astype("string").isin(list(event_types)).fillna(False)
    chosen = events.loc[wanted.to_numpy(dtype=bool)]
    classes = classify_user_agents(chosen["userAgent"])
    frame = pd.DataFrame({k: chosen[k] for k in keys})
    frame[level] = classes[level]
    who = _keys.recipients(chosen).codes
    frame["recipient"] = pd.Series(who, index=chosen.index).where(who >= 0)
    grouped = frame.groupby([*keys, level], observed=True)
    out = grouped.agg(events=("recipient", "size"), recipients=("recipient", "nunique"))
    out = out.reset_index()
    if keys:
        totals = out.groupby(keys, observed=True)["events"].transform("sum")
    else:
        totals = pd.Series(out["events"].sum(), index=out.index)
    out["share"] = out["events"] / totals.where(totals > 0)
    out = out.sort_values([*keys, "events"], ascending=[True] * len(keys) + [False], kind="stable")
    out[level] = out[level].astype(str)
    return out.reset_index(drop=True)
