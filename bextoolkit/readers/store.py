"""The synced store: a Delta Lake table of events, and the provenance of its source files.

Layout of a synced ``DEST`` (a local folder, or ``s3://``, ``gs://``, ``az://`` through
``deltalake``)::

    DEST/_delta_log/                           the Delta log: any Delta reader (Spark, DuckDB,
                                               polars, Trino, ...) sees exactly the events
    DEST/event_date=2026-11-02/part-*.parquet  the events, partitioned by their UTC date
    DEST/_bex_sources/                         a second Delta table: one row per source file
                                               (provenance and the keys of its rows)
    DEST/_bex_sync.lock                        held while a sync runs

The events table has the columns of :func:`bextoolkit.read_events` (text as strings, the
time as ``timestamp[us, UTC]``) plus the partition column ``event_date``. Each commit of
the sources table records in its commit metadata (``bextoolkit.table_version``) the
version of the events table it describes, so ``read_events(DEST, version=N)`` shows the
provenance of version ``N`` and a sync killed between the two commits is rolled back.

A folder written by bextoolkit before 0.2 (``_bex_manifest/``) is recognised, and the error
says how to convert it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Collection, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from bextoolkit.exceptions import BexFileError
from bextoolkit.readers._provenance import provenance
from bextoolkit.readers._timestamps import UNIT
from bextoolkit.schema import BEX_COLUMNS, CATEGORY_COLUMNS, EVENT_TYPE_COLUMN

log = logging.getLogger(__name__)

DATE_COLUMN = "event_date"
SOURCES_DIR = "_bex_sources"
LOCK_NAME = "_bex_sync.lock"
#: Commit metadata key of the sources table: the events-table version a commit goes with.
VERSION_KEY = "bextoolkit.table_version"
#: The folder of the manifest format written before the Delta store.
OLD_MANIFEST_DIR = "_bex_manifest"
#: Provenance columns of the sources table (besides the row keys ``keys`` and ``counts``).
SOURCE_COLUMNS = (
    "source", "name", "size", "mtime", "sha256", "rows", "duplicates", "skipped_lines",
    "skipped_reason", "table_version", "synced_at",
)  # fmt: skip
_CATEGORIES = frozenset(CATEGORY_COLUMNS)


# --- where the store is ---------------------------------------------------------------------
def delta_uri(urlpath: str | os.PathLike[str]) -> str:
    """The URI deltalake opens: an absolute local path, or the URL as given.

    Examples
    --------
    >>> delta_uri("s3://bucket/bex")
    's3://bucket/bex'
    >>> delta_uri("file:///tmp/bex")
    '/tmp/bex'
    """
    url = os.fspath(urlpath)
    if url.startswith("file://"):
        url = url[len("file://") :]
    if "://" in url:
        return url.rstrip("/")
    return os.path.abspath(os.path.expanduser(url))


def delta_options(storage_options: Mapping[str, Any] | None) -> dict[str, str] | None:
    """``storage_options`` as deltalake takes them (text values)."""
    if not storage_options:
        return None
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in storage_options.items()}


def sources_uri(uri: str) -> str:
    """The sources (provenance) table beside the events table at ``uri``."""
    return f"{uri.rstrip('/')}/{SOURCES_DIR}"


def is_delta_table(uri: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    if "://" not in uri and not os.path.isdir(os.path.join(uri, "_delta_log")):
        return False  # a local path without a Delta log: no need to load deltalake
    from deltalake import DeltaTable

    try:
        return bool(DeltaTable.is_deltatable(uri, storage_options=delta_options(storage_options)))
    except Exception:  # an unreachable store is not a table; the caller reports the real error
        return False


def is_old_store(urlpath: str, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether ``urlpath`` holds a store of the manifest format bextoolkit wrote before 0.2."""
    try:
        fs, root = fsspec.core.url_to_fs(os.fspath(urlpath), **dict(storage_options or {}))
        return bool(fs.isdir(f"{root.rstrip('/')}/{OLD_MANIFEST_DIR}"))
    except Exception:  # not reachable through fsspec with these options: not an old store
        return False


def is_synced_store(urlpath: Any, storage_options: Mapping[str, Any] | None = None) -> bool:
    """Whether ``urlpath`` is a folder written by :func:`bextoolkit.sync` (either format).

    Examples
    --------
    >>> is_synced_store("/nonexistent/folder")
    False
    """
    if not isinstance(urlpath, str | os.PathLike) or any(c in os.fspath(urlpath) for c in "*?["):
        return False
    uri = delta_uri(urlpath)
    return is_delta_table(uri, storage_options) or is_old_store(os.fspath(urlpath), storage_options)


def old_store_error(old: str, *, new: str | None = None) -> BexFileError:
    """The error for a store of the old manifest format: how to convert it."""
    target = new or f"{os.fspath(old).rstrip('/')}-delta"
    return BexFileError(
        old,
        "this folder was synced by an older bextoolkit (Parquet parts with a _bex_manifest/), "
        "which other engines read wrongly. Convert it once with "
        f"`bextoolkit sync --migrate {old} {target}` (or bextoolkit.sync.migrate(...)), "
        "then sync into and read the new folder; or sync again from the source into a new "
        "folder",
    )


# --- the events table's columns ------------------------------------------------------------
def arrow_type(name: str) -> pa.DataType:
    """The Arrow type a column is stored as in the events table (by its name)."""
    if name == "timestamp":
        return pa.timestamp(UNIT, tz="UTC")
    if name == DATE_COLUMN:
        return pa.date32()
    return pa.string()  # Delta has one text type; categories are dictionary-encoded pages


def ordered_columns(names: Collection[str]) -> list[str]:
    """Documented BEX columns first, then database columns, then ``eventType`` last."""
    bex = [c for c in BEX_COLUMNS if c in names]
    extra = [c for c in names if c not in BEX_COLUMNS and c not in (EVENT_TYPE_COLUMN, DATE_COLUMN)]
    tail = [EVENT_TYPE_COLUMN] if EVENT_TYPE_COLUMN in names else []
    return bex + extra + tail


def event_dates(timestamps: pa.ChunkedArray | pa.Array) -> pa.Array:
    """The UTC date of each event (null where the time is missing)."""
    return pc.cast(pc.cast(timestamps, pa.timestamp(UNIT, tz="UTC")), pa.date32())


def to_arrow(events: pa.Table) -> pa.Table:
    """Parsed events (as :func:`bextoolkit.readers.read_files` builds them) for the table.

    Text and categories become strings, the time ``timestamp[us, UTC]``, and the partition
    column ``event_date`` is added.
    """
    columns = [c for c in ordered_columns(events.column_names) if c in events.column_names]
    arrays = [cast_column(events.column(c), arrow_type(c)) for c in columns]
    table = pa.Table.from_arrays(arrays, names=columns)
    if "timestamp" not in columns:
        raise BexFileError("", "the events have no timestamp column: they cannot be partitioned")
    return table.append_column(DATE_COLUMN, event_dates(table.column("timestamp")))


def cast_column(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    if column.type == target:
        return column
    if pa.types.is_dictionary(column.type):
        column = pc.cast(column, column.type.value_type)
    return column if column.type == target else column.cast(target)


# --- opening a version ------------------------------------------------------------------------
def open_table(
    urlpath: str, storage_options: Mapping[str, Any] | None = None, version: int | None = None
) -> Any:
    """The events table (a ``deltalake.DeltaTable``), at ``version`` or the newest."""
    from deltalake import DeltaTable
    from deltalake.exceptions import TableNotFoundError

    uri = delta_uri(urlpath)
    try:
        table = DeltaTable(uri, storage_options=delta_options(storage_options))
    except TableNotFoundError as exc:
        if is_old_store(urlpath, storage_options):
            raise old_store_error(urlpath) from exc
        raise BexFileError(
            urlpath, "not a synced store: run `bextoolkit sync SRC DEST` first"
        ) from exc
    if version is not None:
        newest = table.version()
        try:
            table.load_as_version(int(version))
        except Exception as exc:
            raise BexFileError(
                urlpath,
                f"version {version} cannot be read (the table is at version {newest}; old "
                f"versions go when their log is cleaned up): {exc}",
            ) from exc
    return table


def sources_version(sources: Any, table_version: int) -> int | None:
    """The newest version of the sources table that describes events version ``table_version``.

    None when no commit of the sources table does (a sync killed before its first commit
    of the events table).
    """
    for limit in (8, None):
        history = sources.history(limit)
        for commit in history:  # newest first
            value = commit.get(VERSION_KEY)
            if value is not None and int(value) <= table_version:
                return int(commit["version"])
        if limit is None or len(history) < limit:
            return None
    return None  # pragma: no cover - the loop always returns


def read_sources(
    urlpath: str,
    table_version: int,
    storage_options: Mapping[str, Any] | None = None,
    *,
    with_keys: bool = False,
    with_index: bool = False,
) -> pa.Table:
    """The provenance rows that go with events version ``table_version`` (maybe empty);
    ``with_index`` adds each file's ``dates`` and ``mailings``, ``with_keys`` everything."""
    from deltalake import DeltaTable

    uri = sources_uri(delta_uri(urlpath))
    options = delta_options(storage_options)
    if not DeltaTable.is_deltatable(uri, storage_options=options):
        return source_schema().empty_table()
    sources = DeltaTable(uri, storage_options=options)
    version = sources_version(sources, table_version)
    if version is None:
        return source_schema().empty_table()
    if version != sources.version():
        sources.load_as_version(version)
    names = list(source_schema().names if with_keys else [*SOURCE_COLUMNS, "renamed"])
    if with_index and not with_keys:
        names += ["dates", "mailings"]
    schema = pa.schema(sources.schema().to_arrow())
    scan = files_dataset(uri, storage_options, data_files(sources), schema)
    return scan.to_table(columns=[n for n in names if n in schema.names])


def data_files(table: Any) -> list[str]:
    """The data files of a Delta table's loaded version (paths relative to the table)."""
    paths = pa.table(table.get_add_actions(flatten=True)).column("path").to_pylist()
    return [unquote(str(p)) for p in paths]


def source_schema() -> pa.Schema:
    """The sources table: one row per source file, with the keys and counts of its rows."""
    return pa.schema(
        [
            ("source", pa.string()),  # the full path or URL (no password): the identity
            ("name", pa.string()),
            ("size", pa.int64()),
            ("mtime", pa.string()),
            ("sha256", pa.string()),
            ("rows", pa.int64()),
            ("duplicates", pa.int64()),
            ("skipped_lines", pa.int64()),
            ("skipped_reason", pa.string()),  # why the reader skipped the whole file
            ("table_version", pa.int64()),
            ("synced_at", pa.string()),
            ("keys", pa.list_(pa.int64())),  # distinct row keys (uint64 seen as int64)
            ("counts", pa.list_(pa.int32())),  # how often each key occurs in the file
            ("dates", pa.list_(pa.date32())),  # the event dates of its rows
            ("mailings", pa.list_(pa.string())),  # its messageIds: prunes dates for a mailing
            ("columns", pa.list_(pa.string())),  # the columns it carries: event identity
            ("renamed", pa.string()),  # JSON {name: new name} of columns that clashed by case
        ]
    )


# --- reading --------------------------------------------------------------------------------
def _as_utc(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return [str(value)]
    return [str(v) for v in value]


def build_filter(
    *,
    start: Any = None,
    end: Any = None,
    message_ids: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
) -> ds.Expression | None:
    """The row filter of a query, pushed down into the Parquet scan."""
    parts: list[ds.Expression] = []
    lo, hi = _as_utc(start), _as_utc(end)
    stamp = pa.timestamp(UNIT, tz="UTC")
    if lo is not None:
        parts.append(ds.field("timestamp") >= pa.scalar(lo, stamp))
    if hi is not None:
        parts.append(ds.field("timestamp") < pa.scalar(hi, stamp))
    if message_ids is not None:
        parts.append(ds.field("messageId").isin(list(message_ids)))
    if event_types is not None:
        parts.append(ds.field(EVENT_TYPE_COLUMN).isin(list(event_types)))
    if not parts:
        return None
    expr = parts[0]
    for part in parts[1:]:
        expr = expr & part
    return expr


def select_files(
    table: Any,
    *,
    start: Any = None,
    end: Any = None,
    message_ids: Sequence[str] | None = None,
    dates: set[Any] | None = None,
) -> list[tuple[str, int]]:
    """(path relative to the table, rows) of the data files that can hold the query's
    events: pruned by date partition (``dates``, and the days of ``[start, end)``) and by
    the files' statistics of ``timestamp`` and ``messageId``."""
    actions = pa.table(table.get_add_actions(flatten=True))
    keep = np.ones(actions.num_rows, dtype=bool)
    day = actions.column(f"partition.{DATE_COLUMN}")
    day = day if day.type == pa.date32() else pc.cast(day, pa.date32())
    if dates is not None:
        known = pa.array([d for d in dates if d is not None], pa.date32())
        hit = pc.fill_null(pc.is_in(day, value_set=known), None in dates)
        keep &= hit.to_numpy(zero_copy_only=False)
    stamp = pa.timestamp(UNIT, tz="UTC")
    lo, hi = _as_utc(start), _as_utc(end)
    for bound, column, test in ((lo, "max.timestamp", pc.greater_equal),
                                (hi, "min.timestamp", pc.less)):  # fmt: skip
        if bound is None or column not in actions.column_names:
            continue
        ok = test(pc.cast(actions.column(column), stamp), pa.scalar(bound, stamp))
        keep &= pc.fill_null(ok, False).to_numpy(zero_copy_only=False)
    if message_ids and "min.messageId" in actions.column_names:
        low, high = actions.column("min.messageId"), actions.column("max.messageId")
        near = np.zeros(actions.num_rows, dtype=bool)
        for mailing in message_ids:
            inside = pc.and_(pc.less_equal(low, mailing), pc.greater_equal(high, mailing))
            near |= pc.fill_null(inside, False).to_numpy(zero_copy_only=False)
        keep &= near
    chosen = actions.filter(pa.array(keep)).select(["path", "num_records"]).to_pylist()
    return [(unquote(str(a["path"])), int(a["num_records"])) for a in chosen]


def scan_schema(table: Any) -> pa.Schema:
    """The schema data files are read with: category columns as dictionaries (their
    Parquet dictionary pages become pandas categories without a copy)."""
    fields = []
    for fld in pa.schema(table.schema().to_arrow()):
        if fld.name == DATE_COLUMN:
            continue
        if fld.name in _CATEGORIES:
            fld = fld.with_type(pa.dictionary(pa.int32(), fld.type))
        fields.append(fld)
    return pa.schema(fields)


def files_dataset(
    urlpath: str,
    storage_options: Mapping[str, Any] | None,
    paths: Sequence[str],
    schema: pa.Schema,
) -> ds.Dataset:
    """Data files of the table at ``urlpath`` (paths relative to it) as a pyarrow dataset."""
    uri = delta_uri(urlpath)
    categories = {f.name for f in schema if pa.types.is_dictionary(f.type)}
    fmt = ds.ParquetFileFormat(read_options=ds.ParquetReadOptions(dictionary_columns=categories))
    if "://" not in uri:
        return ds.dataset([os.path.join(uri, p) for p in paths], schema=schema, format=fmt)
    import pyarrow.fs as pa_fs
    from deltalake.fs import DeltaStorageHandler

    handler = DeltaStorageHandler(uri, delta_options(storage_options))
    return ds.dataset(list(paths), schema=schema, format=fmt,
                      filesystem=pa_fs.PyFileSystem(handler))  # fmt: skip


def event_columns(table: Any) -> list[str]:
    """The events-frame columns of the table, in events-frame order."""
    return ordered_columns(table.schema().to_arrow().names if table else [])


def check_columns(available: Sequence[str], columns: Sequence[str] | None) -> list[str]:
    """``columns`` (default: all) checked against the table, in events-frame order."""
    if columns is None:
        return list(available)
    missing = [c for c in columns if c not in available]
    if missing:
        raise KeyError(f"column(s) {missing} are not in the synced store; available: {available}")
    return [c for c in available if c in set(columns)]


def to_frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table read from the store as an events frame, dtypes as ``read_events``.

    Dictionary columns (the categories, see :func:`scan_schema`) become categories of the
    values present, sorted, so a frame read from the store has the same categories
    whatever files and versions its rows came from.
    """
    names = table.column_names
    categories = {
        name: sorted_categories(column)
        for name, column in zip(names, table.columns, strict=True)
        if pa.types.is_dictionary(column.type)
    }
    text = table.drop_columns(list(categories))
    del table
    mapping = {pa.large_string(): pd.StringDtype(), pa.string(): pd.StringDtype()}
    frame = text.to_pandas(types_mapper=mapping.get, split_blocks=True, self_destruct=True)
    for position, name in enumerate(names):
        if name in categories:
            frame.insert(position, name, categories[name])
    return frame


def sorted_categories(column: pa.ChunkedArray) -> pd.Categorical[Any]:
    """A dictionary column as a categorical of only the values it uses, sorted (``str``).

    The same as :func:`bextoolkit.schema.sorted_categorical` gives, computed on the Arrow
    dictionaries and indices: pandas' own conversion of thousands of chunks, each with
    its own dictionary, took most of the time of a full read.
    """
    column = _without_null_words(column).unify_dictionaries()
    value_type = column.type.value_type
    dictionary = column.chunk(0).dictionary if column.num_chunks else pa.array([], value_type)
    indices = pa.chunked_array([c.indices for c in column.chunks], column.type.index_type)
    values = pd.Index(np.asarray(dictionary.to_pylist(), dtype=object), dtype="str")
    used = pc.unique(indices).drop_null().to_numpy()
    wanted = values[used].sort_values()
    position = np.full(len(values) + 1, -1, dtype=np.int32)  # the last: missing (-1) stays -1
    position[used] = wanted.get_indexer(values[used])
    codes = position[pc.fill_null(indices, -1).to_numpy()]
    return pd.Categorical.from_codes(codes, dtype=pd.CategoricalDtype(wanted), validate=False)


def _without_null_words(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """Re-encode the chunks whose dictionary holds a null (Parquet gives those for pages
    of nulls), which Arrow cannot unify with the others."""
    chunks = [
        pc.dictionary_encode(pc.cast(c, c.type.value_type)) if c.dictionary.null_count else c
        for c in column.chunks
    ]
    return pa.chunked_array(chunks, type=column.type)


def read_store(
    urlpath: str,
    *,
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    messageId: str | Sequence[str] | None = None,
    event_types: str | Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> pd.DataFrame:
    """Read a store written by :func:`bextoolkit.sync` as an events frame.

    Date partitions outside ``[start, end)`` are skipped, files whose statistics exclude
    the mailings are skipped, and the filters are pushed down into the Parquet scan.

    Parameters
    ----------
    urlpath : str
        The store (a local folder, or an ``s3://``, ``gs://``, ``az://`` URL).
    columns : sequence of str, optional
        Columns to read (default: all, in events-frame order).
    start, end : datetime-like, optional
        Keep events with ``start <= timestamp < end`` (naive values are UTC).
    messageId : str or sequence of str, optional
        Keep these mailings only.
    event_types : str or sequence of str, optional
        Keep these event types only (``"emailClick"``, ...).
    storage_options : mapping, optional
        deltalake storage options (``AWS_REGION``, ``AWS_ENDPOINT_URL``, ...).
    version : int, optional
        Read this version of the table (default: the newest).

    Returns
    -------
    pandas.DataFrame
        The events frame with the dtypes :func:`bextoolkit.read_events` gives; ``attrs``
        has ``files``, ``duplicates_dropped``, ``skipped_lines`` (and ``skipped_files``)
        of the source files synced into this version, and ``version``.
    """
    table = open_table(urlpath, storage_options, version)
    names = check_columns(event_columns(table), columns)
    ids, types = as_list(messageId), as_list(event_types)
    sources = read_sources(urlpath, table.version(), storage_options, with_index=ids is not None)
    files = select_files(
        table, start=start, end=end, message_ids=ids, dates=mailing_dates(sources, ids)
    )
    schema = scan_schema(table)
    expr = build_filter(start=start, end=end, message_ids=ids, event_types=types)
    # The provenance of thousands of files is Python work: done while Arrow scans.
    with ThreadPoolExecutor(1) as pool:
        attrs = pool.submit(store_provenance, urlpath, table.version(), sources)
        try:
            scan = files_dataset(urlpath, storage_options, [p for p, _ in files], schema)
            arrow = scan.to_table(columns=names, filter=expr)
        except FileNotFoundError as exc:
            raise BexFileError(
                urlpath,
                f"a data file of version {table.version()} is gone (removed by a vacuum?): "
                f"read a newer version ({exc})",
            ) from exc
        frame = to_frame(arrow)
        frame.attrs = attrs.result()
    return frame


def mailing_dates(sources: pa.Table, message_ids: Sequence[str] | None) -> set[Any] | None:
    """The event dates of the source files that hold these mailings (None: any date)."""
    if message_ids is None or "mailings" not in sources.column_names:
        return None
    mailings = sources["mailings"].combine_chunks()
    words = pc.list_flatten(mailings)
    hit = pc.is_in(words, value_set=pa.array(list(message_ids), words.type))
    files = pc.unique(pc.list_parent_indices(mailings).filter(hit))
    return set(pc.unique(pc.list_flatten(sources["dates"].take(files))).to_pylist())


def store_provenance(urlpath: str, table_version: int, sources: pa.Table) -> dict[Any, Any]:
    """``attrs`` of a frame read from the store: the files synced into ``table_version``."""
    ordered = sources.take(pc.sort_indices(sources["source"]))
    col = {name: ordered[name].to_pylist() for name in SOURCE_COLUMNS}  # by column: fast
    paths, reasons = col["source"], col["skipped_reason"]
    renamed = (
        ordered["renamed"].to_pylist() if "renamed" in ordered.column_names else [None] * len(paths)
    )
    read = zip(
        paths, col["rows"], col["size"], col["mtime"], col["sha256"], col["duplicates"],
        col["table_version"], reasons, renamed, strict=True,
    )  # fmt: skip
    return provenance(
        files=[
            {
                "path": path,
                "rows": rows,
                "bytes": size,
                "mtime": mtime,
                "sha256": sha256,
                "duplicates": duplicates,
                "table_version": version,
                **({"renamed": json.loads(names)} if names else {}),
            }
            for path, rows, size, mtime, sha256, duplicates, version, reason, names in read
            if not reason
        ],
        duplicates_dropped=sum(int(n or 0) for n in col["duplicates"]),
        skipped_lines=[
            {"file": path, "line": None, "reason": f"{n} line(s) skipped when synced"}
            for path, n in zip(paths, col["skipped_lines"], strict=True)
            if n
        ],
        skipped_files=[
            {"path": path, "reason": reason}
            for path, reason in zip(paths, reasons, strict=True)
            if reason
        ],
        source=urlpath,
        version=table_version,
    )


# --- the old format, for --migrate only -------------------------------------------------------
def old_store_contents(urlpath: str, storage_options: Mapping[str, Any] | None = None) -> Any:
    """(Parquet part paths, source records, fs) of the newest readable old manifest."""
    fs, root = fsspec.core.url_to_fs(os.fspath(urlpath), **dict(storage_options or {}))
    folder = f"{root.rstrip('/')}/{OLD_MANIFEST_DIR}"
    names = sorted(
        (p for p in fs.ls(folder, detail=False) if p.rsplit("/", 1)[-1].startswith("v")),
        reverse=True,
    )
    for path in names:  # the newest that parses: a cut newest version falls back
        try:
            body = json.loads(fs.cat_file(path).decode("utf-8"))
            parts = [f"{root.rstrip('/')}/{p['path']}" for p in body["parts"]]
            return parts, list((body.get("sources") or {}).values()), fs
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            log.warning("skipping unreadable manifest %s: %s", path, exc)
    raise BexFileError(urlpath, "no readable manifest in _bex_manifest/: re-sync from the source")


def distinct_counts(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(distinct keys, how often each occurs).

    Examples
    --------
    >>> k, n = distinct_counts(np.array([5, 3, 5], dtype=np.uint64))
    >>> k.tolist(), n.tolist()
    ([3, 5], [1, 2])
    """
    values, counts = np.unique(keys, return_counts=True)
    return values, counts.astype(np.int32)
