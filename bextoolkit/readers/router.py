""":func:`read_events`, the one entry to the readers: it picks the reader for each call.

A synced store (a folder written by :func:`bextoolkit.sync`) is read by
:mod:`.store` with the filters pushed down; export files by :func:`.files.read_files`,
then the row filters of :func:`apply_filters`; ``engine="dask"`` returns a Dask
DataFrame over either (:mod:`.dask`). No reader calls back into this module.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.readers import store as _dataset
from bextoolkit.readers._event_types import canonical_names
from bextoolkit.readers._sources import UrlPath, expand, with_login
from bextoolkit.readers._timestamps import resolve_tz
from bextoolkit.readers._unpack import MAX_UNCOMPRESSED_BYTES
from bextoolkit.readers.files import OnBadLines, read_files

ENGINES = ("pandas", "dask")


def synced_root(urlpath: Any, storage_options: Mapping[str, Any] | None) -> str | None:
    """``urlpath`` if it is one synced store (either format), else None (never raises)."""
    if _dataset.is_synced_store(urlpath, storage_options):
        return os.fspath(urlpath)
    return None


def read_events(
    urlpath: UrlPath,
    *,
    storage_options: Mapping[str, Any] | None = None,
    format: str | None = None,
    tz: str | None = None,
    columns: Sequence[str] | None = None,
    event_types: Iterable[str] | None = None,
    event_type: str | None = None,
    event_types_map: Mapping[str, str] | None = None,
    dedupe: bool | str = True,
    on_bad_lines: OnBadLines = "error",
    progress: bool | None = None,
    encoding: str | None = None,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
    start: Any = None,
    end: Any = None,
    messageId: str | Sequence[str] | None = None,
    engine: str = "pandas",
    version: int | None = None,
) -> pd.DataFrame:
    """Read BEX or RRDE export files into one events frame.

    Parameters
    ----------
    urlpath : str, path, or list of them
        A file, a glob (``download/*.csv``), a folder (its ``.csv/.psv/.tsv/.txt``, ``.gz``
        and ``.zip`` files), or any fsspec URL: ``sftp://host/download/*.csv``,
        ``ftp://``, ``memory://``, ``https://``, ``s3://``, ``simplecache::sftp://...``.
        Files a folder or glob finds that are not event exports (contact lists, Web
        Tracking exports, anything else, told by their header) are skipped and listed
        in ``attrs["skipped_files"]``; a file named on its own must be an event export.
        Every member of a zip that is an event export is read.
    storage_options : dict, optional
        Passed to fsspec (``host``, ``port``, ``username``, ``password``, ...).
    format : {"CSV", "PSV", "TSV"}, optional
        Forces the delimiter. By default it comes from the file extension, or is sniffed
        from the header when the extension does not fit it.
    tz : str, optional
        Time zone of the ``timestamp`` column; file values without a UTC offset are
        read in it. Default: the ``BEX_TZ`` environment variable, else UTC; as the
        vendor does not say which zone naive times are in, reading them in UTC without
        being told records ``attrs["tz_assumed"]`` and warns once.
    columns : list of str, optional
        Read only these columns (events-frame names). The frame then holds exactly these
        columns, in events-frame order, followed by ``eventType``; columns read only to
        derive ``eventType`` or to find duplicates are dropped again. Documented columns
        a file lacks come back empty; an unknown name raises :class:`BexConfigError`.
    event_types : list of str, optional
        Keep only rows of these event types (``"emailOpen"``, ...; any case).
    event_type : str, optional
        How to tell the event of each row when a file has neither an event-type column
        nor ``code`` values of the emailXxx vocabulary: the name of a column holding it
        (used first when present), or one event type for every row of such files.
    event_types_map : dict, optional
        More spellings of event types, or other meanings for known ones: raw value (any
        case) -> event type or known spelling, e.g. ``{"Bounced": "emailBounce"}``.
        Built in: the emailXxx codes and the RRDE words (``Click Through``, ``Opt Out``,
        ``Hard Bounce``, ``Reply Abuse`` -> ``emailComplaint``, other ``Reply ...`` ->
        ``emailReply`` with the exact value kept in ``code``). Values no spelling maps
        are kept as they are, listed in ``attrs["unknown_event_types"]`` and warned about.
    dedupe : True, "eventId" or False, default True
        Events delivered twice by overlapping files: by default two rows are the same
        event only when they come from different files and agree on every column both
        files carry, a missing value agreeing only with a missing value (a row repeated
        inside one file is kept: two real opens in one minute; a row repeated k times in
        each of two files is kept k times). Files of different columns (an RRDE with and
        without requested columns, a job whose columns changed, BEX next to RRDE) are
        compared on the columns they share; the copy with more columns is kept.
        ``"eventId"`` keeps one row per ``eventId`` (the same full row where it is
        empty) and warns when the ids are shared by different recipients or event
        types; ``False`` keeps every row.
        ``attrs["dedupe"]`` names the rule used, ``attrs["duplicates_dropped"]`` counts.
    on_bad_lines : {"error", "warn", "skip"}, default "error"
        A line with the wrong number of fields, invalid UTF-8, an unreadable timestamp,
        or an empty or damaged (gzip/zip) file raises :class:`BexFileError` naming the
        file and line; ``"warn"`` and ``"skip"`` go on and list every skipped line in
        ``df.attrs["skipped_lines"]`` (``"warn"`` also warns).
    progress : bool, optional
        Show a ``tqdm`` bar over files; default: on in Jupyter for several files.
    encoding : str, optional
        Text encoding of every file. By default each file decides: a byte order mark
        (UTF-8, UTF-16) says it by itself, UTF-16 without one is told by its NUL bytes,
        else UTF-8; a file that is not valid UTF-8 is read as Latin-1 (cp1252, as RRDE's
        ``iso-8859-1`` option writes it) for that file only, with one warning naming it.
        ``attrs["files"][i]["encoding"]`` says what each file was read as.
    max_uncompressed_bytes : int, default 16 GiB
        The most one gzip or zip file may unpack to. Decompression streams, and stops with
        a :class:`BexFileError` past this, at binary content, or at a line longer than
        16 MiB, whatever this says: a small "bomb" is refused within
        its first megabytes.
    start, end : datetime-like, optional
        Keep events with ``start <= timestamp < end`` (naive values are in ``tz``).
    messageId : str or list of str, optional
        Keep these mailings only.
    engine : {"pandas", "dask"}, default "pandas"
        ``"dask"`` returns a lazy Dask DataFrame (one partition per file or Parquet
        part), parsed on the workers of the current ``dask.distributed`` client.
    version : int, optional
        For a store written by :func:`bextoolkit.sync`: read this earlier version of its
        Delta table (``df.attrs["version"]`` says which one was read).

    A store written by :func:`bextoolkit.sync` (a Delta table) is read with only the
    columns asked for, and ``start``/``end``/``messageId``/``event_types`` pushed down
    into the scan (date partitions and files pruned).

    Returns
    -------
    pandas.DataFrame
        ``schema.BEX_COLUMNS`` in order, then extra database columns, then ``eventType``.
        Column names are unique ignoring case: a requested column equal to an earlier
        name only by case (RRDE ``ContactID`` next to BEX ``contactId``) is kept as
        ``ContactID_2``. ``df.attrs`` holds ``files`` (``path``, ``rows``, ``bytes``,
        ``format``, ``kind``, ``columns`` it carries, ``renamed`` where a name clashed by
        case, and ``header`` where names were made unique: empty ones become
        ``column_<n>``, repeated ones ``<name>.1``), ``duplicates_dropped`` and ``dedupe``,
        ``skipped_lines`` (``file``, ``line``, ``reason``), ``skipped_files`` (``path``,
        ``kind``, ``reason``), ``empty_folders``, ``unknown_event_types``, ``format``,
        ``tz`` and, when the zone was a guess, ``tz_assumed``.

    Raises
    ------
    BexFileError
        A file that cannot be read as it is; the message names the file, the line and
        what to pass to get on.
    BexAuthError, BexConnectionError
        An SFTP or FTP server refused the login, or could not be reached (the message
        names the host and port).
    FileNotFoundError, PermissionError, OSError
        A missing file or folder (named), or what fsspec raised.

    Examples
    --------
    >>> events = read_events("sftp://127.0.0.1:2222/download/*.csv",
    ...                      storage_options={"username": "me", "password": "..."})
    ... # doctest: +SKIP
    """
    if engine not in ENGINES:
        raise BexConfigError(f"engine={engine!r} is unknown: use 'pandas' or 'dask'")
    if event_types is not None:
        event_types = canonical_names(
            [event_types] if isinstance(event_types, str) else event_types
        )
    zone = resolve_tz(tz)[0]
    start = None if start is None else _stamp(start, zone)
    end = None if end is None else _stamp(end, zone)
    query = {"start": start, "end": end, "messageId": messageId, "event_types": event_types}
    root = synced_root(urlpath, storage_options)
    if root is not None:
        from bextoolkit.readers.dask import read_store_dask
        from bextoolkit.readers.store import read_store

        read_synced: Callable[..., Any] = read_store_dask if engine == "dask" else read_store
        frame = read_synced(
            root, columns=_with_event_type(columns), storage_options=storage_options,
            version=version, **query,
        )  # fmt: skip
        return _in_tz(frame, zone)
    if version is not None:
        raise BexConfigError(f"version={version}: only a synced store has versions")
    filtered = not (start is None and end is None and messageId is None)
    wider = _filter_columns(columns, filtered=filtered, messageId=messageId, start=start, end=end)
    options: dict[str, Any] = {
        "format": format, "event_type": event_type, "event_types_map": event_types_map,
        "dedupe": dedupe, "on_bad_lines": on_bad_lines, "encoding": encoding,
        "max_uncompressed_bytes": max_uncompressed_bytes,
    }  # fmt: skip
    if engine == "dask":
        return _read_files_dask(urlpath, storage_options, tz, wider, event_types, query, options,
                                columns=columns, filtered=filtered)  # fmt: skip
    files = read_files(
        urlpath, storage_options=storage_options, tz=tz, columns=wider,
        event_types=event_types, progress=progress, **options,
    )  # fmt: skip
    if not filtered:
        return files
    kept = apply_filters(files, start=start, end=end, messageId=messageId)
    if columns is not None:
        kept = kept[_with_event_type(columns) or []]
    kept.attrs = dict(files.attrs)
    return kept


def _read_files_dask(
    urlpath: Any,
    storage_options: Mapping[str, Any] | None,
    tz: str | None,
    wider: list[str] | None,
    event_types: Any,
    query: Mapping[str, Any],
    options: Mapping[str, Any],
    *,
    columns: Sequence[str] | None,
    filtered: bool,
) -> Any:
    from bextoolkit.readers.dask import read_files_dask

    sources = expand(urlpath, storage_options, details=True)
    paths = [with_login(urlpath, s.display) for s in sources]
    sizes = [int(s.info.get("size") or 0) for s in sources]
    frame = read_files_dask(
        paths, sizes=sizes, storage_options=storage_options, tz=tz, columns=wider,
        event_types=event_types, progress=False, named=len(sources) == 1 and sources[0].named,
        **options,
    )  # fmt: skip
    if filtered:
        filters = {k: query[k] for k in ("start", "end", "messageId")}
        frame = frame.map_partitions(apply_filters, **filters, meta=frame._meta)
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
