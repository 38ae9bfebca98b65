"""One link, one row: strip tracking parameters so campaign tags do not split a link."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final
from urllib.parse import unquote_plus, urlsplit, urlunsplit

#: Query parameters removed by default (case-insensitive; a trailing ``*`` is a prefix):
#: Google Analytics ``utm_*``, ad click ids, Acoustic/Silverpop web tracking ``sp*`` ids,
#: and the tags Mailchimp and HubSpot add.
TRACKING_PARAMS: Final = (
    "utm_*",
    "gclid",
    "dclid",
    "fbclid",
    "msclkid",
    "spMailingID",
    "spUserID",
    "spJobID",
    "spReportId",
    "mc_cid",
    "mc_eid",
    "_hsenc",
    "_hsmi",
)


def _is_tracking(name: str, params: Sequence[str]) -> bool:
    lowered = name.lower()
    for p in params:
        p = p.lower()
        if (p.endswith("*") and lowered.startswith(p[:-1])) or lowered == p:
            return True
    return False


def normalize_url(url: str, *, tracking_params: Sequence[str] = TRACKING_PARAMS) -> str:
    """The link without tracking parameters, with a lower-case scheme and host, no fragment.

    Other query parameters keep their order and their exact text; the path keeps its case. A value
    that does not parse as a URL is returned trimmed and otherwise unchanged.

    Examples
    --------
    >>> normalize_url("HTTPS://Shop.Example.com/Sale?utm_source=bex&id=7#top")
    'https://shop.example.com/Sale?id=7'
    >>> normalize_url("https://example.com/?utm_campaign=a")
    'https://example.com/'
    """
    text = url.strip()
    try:
        parts = urlsplit(text)
    except ValueError:
        return text
    netloc = parts.netloc
    if "@" in netloc:
        userinfo, _, host = netloc.rpartition("@")
        netloc = f"{userinfo}@{host.lower()}"
    else:
        netloc = netloc.lower()
    query = parts.query
    if query:
        kept = [
            piece
            for piece in query.split("&")
            if piece and not _is_tracking(unquote_plus(piece.split("=", 1)[0]), tracking_params)
        ]
        query = "&".join(kept)
    return urlunsplit((parts.scheme.lower(), netloc, parts.path, query, ""))
