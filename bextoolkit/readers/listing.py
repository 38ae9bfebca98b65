"""Export file names and listings: :func:`parse_export_name` and :func:`list_exports`.

Both are exported by :mod:`bextoolkit.readers` (and the package); names are parsed
loosely because their timestamp shape is undocumented (domain.md, section 4).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from bextoolkit import schema
from bextoolkit.readers import _parsing
from bextoolkit.readers._sources import UrlPath, expand

_CHANNELS = "|".join(schema.CHANNEL_TYPES)
_NAME_PATTERNS = (
    re.compile(
        rf"^(?P<prefix>.*?)(?P<channel>{_CHANNELS})_(?P<ts>[0-9][0-9TZ:. -]*?)_(?P<freq>\d{{1,2}})$"
    ),
    re.compile(
        r"^(?P<prefix>(?:.*_)?)(?P<channel>[A-Za-z]+)_(?P<ts>[0-9][0-9TZ:. -]*?)_(?P<freq>\d{1,2})$"
    ),
)
_TS_FORMATS = {14: "%Y%m%d%H%M%S", 12: "%Y%m%d%H%M", 10: "%Y%m%d%H", 8: "%Y%m%d"}


def parse_export_name(name: str) -> dict[str, Any]:
    """Parse an export file name loosely into its parts.

    BEX names are ``{prefix}{channel}_{timestamp}_{frequency}{ext}``; the timestamp shape
    is undocumented, so 8-14 digit stamps (with or without ``-``, ``T``, ``:``) and epoch
    milliseconds are tried, read as UTC. Parts that do not parse are None; nothing raises.

    Parameters
    ----------
    name : str
        A file name or path (only the last part is used).

    Returns
    -------
    dict
        ``name``, ``kind`` ("BEX", "RRDE", "Web Tracking", "contact list" or "other";
        by the name alone, see :func:`read_events` for what the header says), ``prefix``,
        ``channel``,
        ``timestamp`` (UTC ``pandas.Timestamp``), ``timestamp_raw``, ``frequency`` (int),
        ``format`` ("CSV", "PSV", "TSV") and ``compression`` ("gzip", "zip").

    Examples
    --------
    >>> parts = parse_export_name("Recipient Event Bulk Export_Email_20261101010000_1.csv.gz")
    >>> parts["prefix"], parts["channel"], parts["frequency"], parts["format"]
    ('Recipient Event Bulk Export_', 'Email', 1, 'CSV')
    >>> parts["timestamp"], parts["compression"]
    (Timestamp('2026-11-01 01:00:00+0000', tz='UTC'), 'gzip')
    >>> rrde = parse_export_name("Raw Recipient Data Export Jul 03 2017 00-47-42 AM 1295.zip")
    >>> rrde["kind"], rrde["timestamp"]
    ('RRDE', Timestamp('2017-07-03 00:47:42+0000', tz='UTC'))
    >>> parse_export_name("Web Tracking Data Export Dec 30 2024 11-27-51 PM 901.csv")["timestamp"]
    Timestamp('2024-12-30 23:27:51+0000', tz='UTC')
    """
    base = name.rstrip("/").rsplit("/", 1)[-1]
    stem, fmt, compression = _parsing.split_ext(base)
    parts: dict[str, Any] = dict.fromkeys(
        ("kind", "prefix", "channel", "timestamp", "timestamp_raw", "frequency")
    )
    parts.update(name=base, format=fmt, compression=compression)
    for pattern in _NAME_PATTERNS:
        match = pattern.match(stem)
        if match and not _DATED_NAME.search(stem):
            parts.update(
                kind="BEX",
                prefix=match["prefix"],
                channel=match["channel"],
                timestamp_raw=match["ts"],
                timestamp=_name_timestamp(match["ts"]),
                frequency=int(match["freq"]),
            )
            return parts
    parts["kind"] = _parsing.file_kind(base)
    dated = _DATED_NAME.search(stem)
    if dated:
        prefix = stem[: dated.start()].strip(" -")
        parts.update(prefix=prefix or None, timestamp_raw=dated.group(0))
        parts["timestamp"] = _dated_name_timestamp(dated)
    return parts


#: ``Jul 03 2017 00-47-42 AM``: RRDE, Web Tracking and contact-list export names.
_DATED_NAME = re.compile(
    r"(?P<mon>[A-Z][a-z]{2}) (?P<day>\d{1,2}) (?P<year>\d{4}) "
    r"(?P<h>\d{1,2})-(?P<m>\d{2})-(?P<s>\d{2}) ?(?P<ampm>[AP]M)?"
)


def _dated_name_timestamp(match: re.Match[str]) -> pd.Timestamp | None:
    """The time in a dated export name, read as UTC (the zone is not in the name).

    The hour is 12-hour with AM/PM in some names and 24-hour beside an AM/PM in others
    (``00-47-42 AM``); both read right if PM adds 12 to hours below 12 and AM makes 12
    midnight.
    """
    hour = int(match["h"])
    if match["ampm"] == "PM" and hour < 12:
        hour += 12
    elif match["ampm"] == "AM" and hour == 12:
        hour = 0
    text = f"{match['mon']} {match['day']} {match['year']} {hour}:{match['m']}:{match['s']}"
    try:
        return pd.Timestamp(datetime.strptime(text, "%b %d %Y %H:%M:%S"), tz="UTC")
    except ValueError:
        return None


def _name_timestamp(raw: str) -> pd.Timestamp | None:
    digits = re.sub(r"\D", "", raw)
    candidates = []
    if len(digits) in _TS_FORMATS:
        candidates.append(lambda: datetime.strptime(digits, _TS_FORMATS[len(digits)]))
    if len(digits) in (10, 13):
        scale = 1000 if len(digits) == 13 else 1
        candidates.append(lambda: datetime.fromtimestamp(int(digits) / scale, tz=UTC))
    for candidate in candidates:
        try:
            value = candidate()
        except (ValueError, OverflowError, OSError):
            continue
        stamp = pd.Timestamp(value)
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return None


def list_exports(
    urlpath: UrlPath, *, storage_options: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    """List export files with their size, modified time, format and parsed name parts.

    Parameters
    ----------
    urlpath : str, path, or list of them
        As for :func:`read_events`: files, globs, folders, any fsspec URL.
    storage_options : dict, optional
        Passed to fsspec.

    Returns
    -------
    pandas.DataFrame
        One row per file, sorted by name timestamp then path: ``path``, ``name``,
        ``size``, ``modified`` (UTC), ``format``, ``compression``, ``kind``, ``prefix``,
        ``channel``, ``timestamp`` (UTC, from the name), ``frequency``.

    Examples
    --------
    >>> list_exports("sftp://127.0.0.1:2222/download/", storage_options={})  # doctest: +SKIP
    """
    rows = []
    for source in expand(urlpath, storage_options, details=True):
        parts = parse_export_name(source.name)
        rows.append(
            {
                "path": source.display,
                "name": parts["name"],
                "size": source.info.get("size"),
                "modified": modified_time(source.info),
                "format": parts["format"],
                "compression": parts["compression"],
                "kind": parts["kind"],
                "prefix": parts["prefix"],
                "channel": parts["channel"],
                "timestamp": parts["timestamp"],
                "frequency": parts["frequency"],
            }
        )
    columns = ["path", "name", "size", "modified", "format", "compression", "kind", "prefix"]
    frame = pd.DataFrame(rows, columns=[*columns, "channel", "timestamp", "frequency"])
    frame = frame.astype(
        {
            c: pd.StringDtype()
            for c in ["path", "name", "format", "compression", "kind", "prefix", "channel"]
        }
        | {"size": "Int64", "frequency": "Int64"}
    )
    frame["modified"] = pd.to_datetime(frame["modified"], utc=True)
    frame["timestamp"] = pd.to_datetime(frame["timestamp"], utc=True)
    return frame.sort_values(["timestamp", "path"], na_position="last", ignore_index=True)


def modified_time(info: Mapping[str, Any]) -> pd.Timestamp | None:
    """A file's modified time (UTC) from an fsspec ``info`` dict, whatever the backend."""
    for key in ("mtime", "modified", "LastModified", "last_modified", "modify", "created"):
        value = info.get(key)
        if value is None:
            continue
        try:
            if isinstance(value, int | float):
                return pd.Timestamp(value, unit="s", tz="UTC")
            if isinstance(value, str) and value.isdigit() and len(value) == 14:
                return pd.Timestamp(datetime.strptime(value, "%Y%m%d%H%M%S"), tz="UTC")
            stamp = pd.Timestamp(value)
        except (ValueError, TypeError):
            continue
        return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")
    return None
