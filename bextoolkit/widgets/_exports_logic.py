"""The plain logic behind :class:`~bextoolkit.widgets.ExportBrowser`.

Labels for the file list, the date filter and the load summary are pure functions of the
:func:`~bextoolkit.readers.files.list_exports` frame and the loaded events, tested without widgets.
"""

from __future__ import annotations

import math
import posixpath
from datetime import date
from typing import Any

import pandas as pd


def human_size(size: Any) -> str:
    """A byte count as people read it.

    Examples
    --------
    >>> [human_size(n) for n in (0, 999, 1536, 5 * 1024**3, None)]
    ['0 B', '999 B', '1.5 kB', '5.0 GB', '?']
    """
    if size is None or (isinstance(size, float) and math.isnan(size)) or size is pd.NA:
        return "?"
    value = float(size)
    for unit in ("B", "kB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{int(value)} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _when(value: Any) -> str:
    if value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value)):
        return "?"
    ts = pd.Timestamp(value)
    if ts.tzinfo is not None:
        ts = ts.tz_convert("UTC")
    return ts.strftime("%Y-%m-%d %H:%M")


def file_time(listing: pd.DataFrame) -> pd.Series:
    """When each file's window ended: the time in its name, else its modification time (UTC).

    Examples
    --------
    >>> frame = pd.DataFrame({"timestamp": [pd.Timestamp("2026-11-01 01:00", tz="UTC"), pd.NaT],
    ...                       "modified": pd.to_datetime(["2026-11-03", "2026-11-02"], utc=True)})
    >>> file_time(frame).dt.strftime("%Y-%m-%d %H:%M").tolist()
    ['2026-11-01 01:00', '2026-11-02 00:00']
    """
    stamp = _as_utc(listing["timestamp"]) if "timestamp" in listing else None
    modified = _as_utc(listing["modified"]) if "modified" in listing else None
    if stamp is None and modified is None:
        return pd.Series(pd.NaT, index=listing.index, dtype="datetime64[ns, UTC]")
    if stamp is None:
        return modified  # type: ignore[return-value]
    if modified is None:
        return stamp
    return stamp.fillna(modified)


def _as_utc(values: pd.Series) -> pd.Series:
    converted = pd.to_datetime(values, errors="coerce", utc=True)
    return converted


def file_label(row: pd.Series) -> str:
    """One line of the file list: name, window end, frequency, format, size.

    Examples
    --------
    >>> row = pd.Series({"path": "/x/S_Email_20261101010000_1.csv.gz", "size": 2048,
    ...                  "timestamp": pd.Timestamp("2026-11-01 01:00", tz="UTC"),
    ...                  "frequency": 1, "format": "CSV", "compression": "gzip"})
    >>> file_label(row)
    'S_Email_20261101010000_1.csv.gz  ·  2026-11-01 01:00 UTC  ·  every 1 h  ·  CSV gzip  ·  2.0 kB'
    """
    name = posixpath.basename(str(row.get("path", "")).rstrip("/"))
    when = _when(row.get("timestamp"))
    if when == "?":
        when = _when(row.get("modified")) + " (modified)"
    frequency = row.get("frequency")
    every = f"every {frequency} h" if _present(frequency) else "every ? h"
    kind = " ".join(str(v) for v in (row.get("format"), row.get("compression")) if _present(v))
    return f"{name}  ·  {when} UTC  ·  {every}  ·  {kind or '?'}  ·  {human_size(row.get('size'))}"


def _present(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return False
    return not (isinstance(value, float) and math.isnan(value)) and str(value) != ""


def between_dates(
    listing: pd.DataFrame, start: date | None = None, end: date | None = None
) -> pd.DataFrame:
    """The files whose window ended on a day from ``start`` to ``end`` (both included, UTC).

    Examples
    --------
    >>> from datetime import date
    >>> frame = pd.DataFrame({"path": ["a", "b", "c"], "timestamp": pd.to_datetime(
    ...     ["2026-11-01 05:00", "2026-11-02 23:00", "2026-11-03 00:00"], utc=True)})
    >>> between_dates(frame, date(2026, 11, 2), date(2026, 11, 2))["path"].tolist()
    ['b']
    >>> between_dates(frame, None, date(2026, 11, 2))["path"].tolist()
    ['a', 'b']
    """
    times = file_time(listing)
    keep = pd.Series(True, index=listing.index)
    if start is not None:
        keep &= times >= pd.Timestamp(start, tz="UTC")
    if end is not None:
        keep &= times < pd.Timestamp(end, tz="UTC") + pd.Timedelta(days=1)
    return listing[keep.fillna(False).astype(bool)]


def load_summary(events: pd.DataFrame) -> str:
    """What a load did: rows, files, duplicates dropped and skipped lines (from ``attrs``).

    Examples
    --------
    >>> frame = pd.DataFrame({"x": range(1234)})
    >>> frame.attrs.update(files=["a", "b"], duplicates_dropped=5, skipped_lines=[])
    >>> load_summary(frame)
    'Loaded 1,234 rows from 2 files; 5 duplicates dropped; 0 skipped lines.'
    >>> frame.attrs.update(files=["a"], duplicates_dropped=1, skipped_lines=[{"line": 4}])
    >>> load_summary(frame.head(1))
    'Loaded 1 row from 1 file; 1 duplicate dropped; 1 skipped line.'
    """
    files = events.attrs.get("files")
    n_files = len(files) if isinstance(files, list | tuple) else files
    dropped = _count(events.attrs.get("duplicates_dropped", 0))
    skipped = _count(events.attrs.get("skipped_lines", 0))
    return (
        f"Loaded {_plural(len(events), 'row')} from "
        f"{_plural(n_files, 'file') if n_files is not None else '? files'}; "
        f"{_plural(dropped, 'duplicate')} dropped; {_plural(skipped, 'skipped line')}."
    )


def _plural(count: int, noun: str) -> str:
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def _count(value: Any) -> int:
    """A count given as a number or as the list of the things counted."""
    if value is None:
        return 0
    if isinstance(value, int | float):
        return int(value)
    try:
        return len(value)
    except TypeError:
        return 0
