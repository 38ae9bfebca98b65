"""Which reader serves a ``read_events`` call: export files or a synced dataset, pandas or Dask.

:func:`bextoolkit.read_events` asks :func:`route` first. A synced dataset (a folder
written by :func:`bextoolkit.sync`) is read from Parquet with the filters pushed down;
``engine="dask"`` returns a Dask DataFrame over the files or the dataset. Anything else
(export files with the pandas engine) is left to ``read_events`` itself, which then
applies the row filters with :func:`apply_filters`.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from typing import Any

import fsspec
import pandas as pd

from bextoolkit import _dataset
from bextoolkit.exceptions import BexConfigError

ENGINES = ("pandas", "dask")
_URL = re.compile(r"^(?P<proto>(?:[\w+.-]+::)*[\w+.-]+://)(?P<netloc>[^/]*)")


def synced_root(urlpath: Any, storage_options: Mapping[str, Any] | None) -> str | None:
    """``urlpath`` if it is one synced dataset folder, else None (never raises)."""
    if not isinstance(urlpath, str | os.PathLike):
        return None
    url = os.fspath(urlpath)
    try:
        fs, path = fsspec.core.url_to_fs(url, **dict(storage_options or {}))
        return url if _dataset.is_synced_dataset(path, fs) else None
    except Exception:  # not reachable as a dataset: the file reader raises the real error
        return None


def route(
    urlpath: Any,
    *,
    engine: str,
    storage_options: Mapping[str, Any] | None,
    columns: Sequence[str] | None,
    event_types: Any,
    start: Any,
    end: Any,
    messageId: Any,
    tz: str,
    read_options: Mapping[str, Any],
) -> Any:
    """The frame for a synced dataset or the Dask engine; None: read the files with pandas."""
    if engine not in ENGINES:
        raise BexConfigError(f"engine={engine!r} is unknown: use 'pandas' or 'dask'")
    if event_types is not None:
        from bextoolkit._events import canonical_names

        event_types = canonical_names(
            [event_types] if isinstance(event_types, str) else event_types
        )
    start = None if start is None else _stamp(start, tz)
    end = None if end is None else _stamp(end, tz)
    query = {"start": start, "end": end, "messageId": messageId, "event_types": event_types}
    root = synced_root(urlpath, storage_options)
    frame: Any
    if root is not None:
        if engine == "dask":
            from bextoolkit._dask_engine import read_dataset_dask

            frame = read_dataset_dask(
                root, columns=_with_event_type(columns), storage_options=storage_options, **query
            )
        else:
            from bextoolkit.sync import read_dataset

            frame = read_dataset(
                root, columns=_with_event_type(columns), storage_options=storage_options, **query
            )
        return _in_tz(frame, tz)
    filtered = not (start is None and end is None and messageId is None)
    wider = _filter_columns(columns, filtered=filtered, messageId=messageId, start=start, end=end)
    if engine == "pandas":
        if not filtered:
            return None  # export files, no row filter: read_events does it all
        from bextoolkit.readers import read_events

        frame = read_events(
            urlpath, storage_options=storage_options, tz=tz, columns=wider,
            event_types=event_types, **read_options,
        )  # fmt: skip
        attrs = dict(frame.attrs)
        frame = apply_filters(frame, start=start, end=end, messageId=messageId)
        frame = frame[_with_event_type(columns)] if columns is not None else frame
        frame.attrs = attrs
        return frame
    from bextoolkit._dask_engine import read_files_dask
    from bextoolkit._sources import expand

    sources = expand(urlpath, storage_options, details=True)
    paths = [_file_url(urlpath, s.display) for s in sources]
    sizes = [int(s.info.get("size") or 0) for s in sources]
    options = {k: v for k, v in read_options.items() if k != "progress"}
    frame = read_files_dask(
        paths, sizes=sizes, storage_options=storage_options, tz=tz, columns=wider,
        event_types=event_types, progress=False, **options,
    )  # fmt: skip
    if filtered:
        meta = frame._meta
        frame = frame.map_partitions(
            apply_filters, start=start, end=end, messageId=messageId, meta=meta
        )
        if columns is not None:
            frame = frame[_with_event_type(columns)]
    return frame


def _filter_columns(
    columns: Sequence[str] | None, *, filtered: bool, messageId: Any, start: Any, end: Any
) -> list[str] | None:
    """``columns`` plus those the row filters need (dropped again after filtering)."""
    if columns is None or not filtered:
        return None if columns is None else list(columns)
    wider = [columns] if isinstance(columns, str) else list(columns)
    if messageId is not None and "messageId" not in wider:
        wider.append("messageId")
    if (start is not None or end is not None) and "timestamp" not in wider:
        wider.append("timestamp")
    return wider


def _with_event_type(columns: Sequence[str] | None) -> list[str] | None:
    """``columns=`` as read_events means it: those columns, then ``eventType``."""
    if columns is None:
        return None
    names = [columns] if isinstance(columns, str) else list(columns)
    order = _dataset.ordered_columns(dict.fromkeys([*names, "eventType"]))
    return order


def _file_url(urlpath: Any, display: str) -> str:
    """The display URL of a file with the ``user@`` of the URL the user gave back in."""
    url = os.fspath(urlpath) if isinstance(urlpath, str | os.PathLike) else ""
    match = _URL.match(url)
    if match and "@" in match["netloc"]:
        host = match["netloc"].rsplit("@", 1)[-1]
        return display.replace(f"{match['proto']}{host}", f"{match['proto']}{match['netloc']}", 1)
    return display


def _in_tz(frame: Any, tz: str) -> Any:
    if tz == "UTC" or "timestamp" not in frame.columns:
        return frame
    converted = frame["timestamp"].dt.tz_convert(tz)
    return frame.assign(timestamp=converted)


def apply_filters(
    frame: pd.DataFrame, *, start: Any = None, end: Any = None, messageId: Any = None
) -> pd.DataFrame:
    """Keep events with ``start <= timestamp < end`` of the given mailings.

    Naive ``start``/``end`` are read in the frame's own time zone.

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"messageId": ["1", "2", "1"],
    ...     "timestamp": pd.to_datetime(["2026-11-01 10:00", "2026-11-01 11:00",
    ...                                  "2026-11-02 09:00"], utc=True)})
    >>> len(apply_filters(ev, start="2026-11-01", end="2026-11-02", messageId="1"))
    1
    """
    if start is None and end is None and messageId is None:
        return frame
    keep = pd.Series(True, index=frame.index)
    if start is not None or end is not None:
        ts = frame["timestamp"]
        tz = getattr(ts.dtype, "tz", None)
        if start is not None:
            keep &= (ts >= _stamp(start, tz)).fillna(False)
        if end is not None:
            keep &= (ts < _stamp(end, tz)).fillna(False)
    if messageId is not None:
        ids = [messageId] if isinstance(messageId, str | int) else list(messageId)
        keep &= frame["messageId"].astype("string").isin([str(i) for i in ids]).fillna(False)
    out = frame[keep.to_numpy()].reset_index(drop=True)
    for name in out.columns:  # as a filtered read of a synced dataset gives them
        if isinstance(out[name].dtype, pd.CategoricalDtype) and len(out[name].cat.categories):
            out[name] = out[name].cat.remove_unused_categories()
    return out


def _stamp(value: Any, tz: Any) -> pd.Timestamp:
    stamp = pd.Timestamp(value)
    if tz is None:
        return stamp.tz_localize(None) if stamp.tzinfo is not None else stamp
    return stamp.tz_localize(tz) if stamp.tzinfo is None else stamp.tz_convert(tz)
