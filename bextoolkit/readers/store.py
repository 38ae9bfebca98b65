"""The synced dataset: Parquet parts by event date, made visible by an atomic manifest.

Layout of a synced ``DEST`` (local or any fsspec URL)::

    DEST/_bex_manifest/v00000007.json       the committed state (the highest valid version)
    DEST/date=2026-11-01/part-<uuid>.parquet  zstd Parquet, one per batch and event date (UTC)

A part becomes visible only when a manifest version that lists it is committed. A manifest
version is written under a temporary name and renamed to a name that did not exist, so a
reader sees either the old version or the new one, never half of one. Parts a crashed run
left behind are listed by no manifest: readers never see them and the next sync deletes
them. Readers take the highest version that parses, so even a store without atomic renames
falls back to the last good state.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from bextoolkit.exceptions import BexFileError
from bextoolkit.readers._provenance import provenance
from bextoolkit.schema import BEX_COLUMNS, EVENT_TYPE_COLUMN, sorted_categorical

log = logging.getLogger(__name__)

FORMAT_NAME = "bextoolkit-sync"
FORMAT_VERSION = 1
MANIFEST_DIR = "_bex_manifest"
#: Manifest versions kept besides the newest, for readers that opened an older one.
MANIFESTS_KEPT = 4
COMPRESSION = "zstd"
UNKNOWN_DATE = "unknown"

_VERSION_NAME = re.compile(r"^v(\d{8,})\.json$")
_PART_NAME = re.compile(r"^part-[0-9a-f]{32}\.parquet$")


# --- the manifest ---------------------------------------------------------------------------
@dataclass
class Manifest:
    """One committed state of a synced dataset.

    Attributes
    ----------
    version : int
        The manifest version (0 for a dataset not yet written).
    sources : dict
        Source file name -> record: ``name``, ``path``, ``size``, ``mtime`` (ISO, UTC),
        ``checksum`` (``sha256:<hex>``), ``rows``, ``duplicates``, ``new_events``,
        ``skipped_lines``, ``synced_at`` and, for a re-delivered copy, ``same_as``.
    parts : list of dict
        The visible Parquet parts: ``path`` (relative to DEST), ``date``, ``rows``.
    schema : pyarrow.Schema or None
        The unified Arrow schema of the parts, with pandas metadata.
    dtypes : dict
        Column -> pandas dtype name of the events frame, in column order.
    """

    version: int = 0
    sources: dict[str, dict[str, Any]] = field(default_factory=dict)
    parts: list[dict[str, Any]] = field(default_factory=list)
    schema: pa.Schema | None = None
    dtypes: dict[str, str] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        """Events visible in the dataset."""
        return sum(int(p["rows"]) for p in self.parts)

    def parts_by_date(self) -> dict[str, list[str]]:
        """Event date -> relative paths of its parts, in commit order."""
        out: dict[str, list[str]] = {}
        for part in self.parts:
            out.setdefault(part["date"], []).append(part["path"])
        return out

    def to_json(self) -> str:
        schema = None
        if self.schema is not None:
            schema = base64.b64encode(self.schema.serialize().to_pybytes()).decode("ascii")
        body = {
            "format": FORMAT_NAME,
            "format_version": FORMAT_VERSION,
            "version": self.version,
            "committed_at": _now_iso(),
            "rows": self.rows,
            "dtypes": self.dtypes,
            "arrow_schema": schema,
            "parts": self.parts,
            "sources": self.sources,
        }
        return json.dumps(body, indent=1, sort_keys=False)

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        body = json.loads(text)
        if body.get("format") != FORMAT_NAME:
            raise ValueError(f"not a {FORMAT_NAME} manifest")
        if int(body.get("format_version", 0)) > FORMAT_VERSION:
            raise ValueError(
                f"manifest format {body['format_version']} is newer than this bextoolkit "
                f"understands ({FORMAT_VERSION}): upgrade bextoolkit"
            )
        schema = None
        if body.get("arrow_schema"):
            schema = pa.ipc.read_schema(pa.py_buffer(base64.b64decode(body["arrow_schema"])))
        return cls(
            version=int(body["version"]),
            sources=dict(body.get("sources") or {}),
            parts=list(body.get("parts") or []),
            schema=schema,
            dtypes=dict(body.get("dtypes") or {}),
        )


def _now_iso() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _join(root: str, *names: str) -> str:
    return "/".join([root.rstrip("/"), *names])


def _manifest_versions(fs: fsspec.AbstractFileSystem, root: str) -> list[tuple[int, str]]:
    """(version, path) of every manifest file under ``root``, newest first."""
    folder = _join(root, MANIFEST_DIR)
    try:
        names = fs.ls(folder, detail=False)
    except (FileNotFoundError, NotADirectoryError):
        return []
    found = []
    for path in names:
        match = _VERSION_NAME.match(path.rstrip("/").rsplit("/", 1)[-1])
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found, reverse=True)


def is_synced_dataset(urlpath: str, fs: fsspec.AbstractFileSystem | None = None) -> bool:
    """Whether ``urlpath`` is a folder written by :func:`bextoolkit.sync`.

    Parameters
    ----------
    urlpath : str
        A local path or fsspec URL (when ``fs`` is given: a path on ``fs``).
    fs : fsspec.AbstractFileSystem, optional
        The filesystem ``urlpath`` lives on; resolved from the URL when omitted.

    Examples
    --------
    >>> is_synced_dataset("/nonexistent/folder")
    False
    """
    if fs is None:
        fs, urlpath = fsspec.core.url_to_fs(urlpath)
    if any(ch in urlpath for ch in "*?["):
        return False
    try:
        return bool(_manifest_versions(fs, urlpath))
    except OSError:
        return False


def load_manifest(fs: fsspec.AbstractFileSystem, root: str) -> Manifest:
    """The newest manifest version under ``root`` that parses (an empty one if none).

    A version that does not parse (a store without atomic renames, cut mid-write) is
    skipped with a warning: the one before it is the last good state.
    """
    for version, path in _manifest_versions(fs, root):
        try:
            manifest = Manifest.from_json(fs.cat_file(path).decode("utf-8"))
        except (ValueError, KeyError, UnicodeDecodeError, pa.ArrowInvalid) as exc:
            log.warning("skipping unreadable manifest %s: %s", path, exc)
            continue
        manifest.version = version
        return manifest
    return Manifest()


def next_version(fs: fsspec.AbstractFileSystem, root: str) -> int:
    """One more than the highest manifest version present, readable or not."""
    versions = _manifest_versions(fs, root)
    return versions[0][0] + 1 if versions else 1


def commit_manifest(fs: fsspec.AbstractFileSystem, root: str, manifest: Manifest) -> Manifest:
    """Publish ``manifest`` as a new version: write a temporary file, then rename it.

    Returns the manifest with its new ``version``. Old versions beyond
    :data:`MANIFESTS_KEPT` and stray temporary files are removed afterwards.
    """
    folder = _join(root, MANIFEST_DIR)
    fs.makedirs(folder, exist_ok=True)
    manifest.version = next_version(fs, root)
    final = _join(folder, f"v{manifest.version:08d}.json")
    temp = _join(folder, f".tmp-{uuid.uuid4().hex}.json")
    with fs.open(temp, "wb") as out:
        out.write(manifest.to_json().encode("utf-8"))
    fs.mv(temp, final)
    log.info("committed %s (%d parts, %d rows)", final, len(manifest.parts), manifest.rows)
    _prune_manifests(fs, root)
    return manifest


def _prune_manifests(fs: fsspec.AbstractFileSystem, root: str) -> None:
    for _, path in _manifest_versions(fs, root)[MANIFESTS_KEPT + 1 :]:
        _remove_quietly(fs, path)
    for path in fs.ls(_join(root, MANIFEST_DIR), detail=False):
        if path.rstrip("/").rsplit("/", 1)[-1].startswith(".tmp-"):
            _remove_quietly(fs, path)


def _remove_quietly(fs: fsspec.AbstractFileSystem, path: str) -> None:
    try:
        fs.rm_file(path)
    except (FileNotFoundError, OSError) as exc:  # pragma: no cover - racing cleaners
        log.debug("could not remove %s: %s", path, exc)


def remove_unlisted_parts(fs: fsspec.AbstractFileSystem, root: str, manifest: Manifest) -> int:
    """Delete part files no retained manifest lists (left by a crashed run).

    Only one sync may write to a DEST at a time: a part being written by another sync
    right now would look unlisted too.
    """
    listed = {p["path"] for p in manifest.parts}
    for _, path in _manifest_versions(fs, root)[1:]:
        try:
            older = Manifest.from_json(fs.cat_file(path).decode("utf-8"))
        except (ValueError, KeyError, UnicodeDecodeError, pa.ArrowInvalid):
            continue
        listed.update(p["path"] for p in older.parts)
    removed = 0
    root_stripped = fs._strip_protocol(root).rstrip("/")
    for path in fs.glob(_join(root, "date=*", "*")):
        relative = path[len(root_stripped) + 1 :] if path.startswith(root_stripped) else path
        name = relative.rsplit("/", 1)[-1]
        if relative not in listed and (_PART_NAME.match(name) or name.startswith(".tmp-")):
            log.info("removing %s, left by an interrupted sync", path)
            _remove_quietly(fs, path)
            removed += 1
    return removed


# --- writing parts --------------------------------------------------------------------------
def event_dates(timestamps: pd.Series) -> pd.Series:
    """The UTC date (``YYYY-MM-DD``) of each timestamp, ``"unknown"`` where missing."""
    ts = timestamps
    if isinstance(ts.dtype, pd.DatetimeTZDtype):
        ts = ts.dt.tz_convert("UTC")
    dates = ts.dt.strftime("%Y-%m-%d")
    return dates.fillna(UNKNOWN_DATE).astype(object)


def to_arrow(frame: pd.DataFrame) -> pa.Table:
    """The events frame as an Arrow table with stable types across batches.

    Categories become ``dictionary<int32, large_string>`` (so parts written from batches
    with few or many categories share one type); text becomes ``large_string``.
    """
    table = pa.Table.from_pandas(frame, preserve_index=False)
    fields = []
    for fld in table.schema:
        typ = fld.type
        if pa.types.is_dictionary(typ):
            typ = pa.dictionary(pa.int32(), pa.large_string())
        elif pa.types.is_string(typ) or pa.types.is_null(typ):
            typ = pa.large_string()
        fields.append(pa.field(fld.name, typ))
    return table.cast(pa.schema(fields, metadata=table.schema.metadata))


#: A part records its mailings (for pruning) when it holds at most this many.
MAX_RECORDED_MAILINGS = 64


def write_part(
    fs: fsspec.AbstractFileSystem, root: str, date: str, table: pa.Table
) -> dict[str, Any]:
    """Write one Parquet part for ``date``; invisible until a manifest lists it.

    Returns its manifest entry: ``path``, ``date``, ``rows`` and, when it holds few
    mailings, ``messageIds`` (so a read of one mailing skips the other parts).
    """
    relative = f"date={date}/part-{uuid.uuid4().hex}.parquet"
    path = _join(root, relative)
    fs.makedirs(_join(root, f"date={date}"), exist_ok=True)
    with fs.open(path, "wb") as out:
        pq.write_table(table, out, compression=COMPRESSION)
    entry: dict[str, Any] = {"path": relative, "date": date, "rows": table.num_rows}
    if "messageId" in table.column_names:
        ids = table.column("messageId").cast(pa.large_string()).unique().drop_null()
        if len(ids) <= MAX_RECORDED_MAILINGS:
            entry["messageIds"] = sorted(ids.to_pylist())
    return entry


def unify_schema(old: pa.Schema | None, new: pa.Schema) -> pa.Schema:
    """The schema of the parts so far and a new part, columns in events-frame order."""
    if old is None:
        merged = new
    else:
        merged = pa.unify_schemas([old.remove_metadata(), new.remove_metadata()])
    names = ordered_columns(merged.names)
    metadata = new.metadata or (old.metadata if old is not None else None)
    return pa.schema([merged.field(n) for n in names], metadata=metadata)


def ordered_columns(names: Iterable[str]) -> list[str]:
    """Documented BEX columns first, then database columns, then ``eventType`` last."""
    names = list(names)
    bex = [c for c in BEX_COLUMNS if c in names]
    extra = [c for c in names if c not in BEX_COLUMNS and c != EVENT_TYPE_COLUMN]
    tail = [EVENT_TYPE_COLUMN] if EVENT_TYPE_COLUMN in names else []
    return bex + extra + tail


def committed_event_ids(
    fs: fsspec.AbstractFileSystem, root: str, manifest: Manifest, date: str
) -> pa.Array:
    """Every committed ``eventId`` of one date partition (reads that one column only)."""
    paths = manifest.parts_by_date().get(date, [])
    chunks: list[pa.Array] = []
    for relative in paths:
        with fs.open(_join(root, relative), "rb") as handle:
            column = pq.read_table(handle, columns=["eventId"]).column("eventId")
        chunks.extend(c.cast(pa.large_string()) for c in column.chunks)
    if not chunks:
        return pa.array([], type=pa.large_string())
    return pa.concat_arrays(chunks)


def row_keys(frame: pd.DataFrame) -> pd.Series:
    """A stable key per row from all its values, for events without an ``eventId``.

    Values are compared as text, so a category and a string column holding the same
    values give the same key; columns are taken in name order.
    """
    text = frame[sorted(frame.columns)].astype("string")
    hashes = pd.util.hash_pandas_object(text, index=False).to_numpy()
    return pd.Series([f"\x00row:{h:016x}" for h in hashes], index=frame.index, dtype=object)


def committed_row_keys(
    fs: fsspec.AbstractFileSystem,
    root: str,
    manifest: Manifest,
    date: str,
    columns: Sequence[str],
) -> list[str]:
    """:func:`row_keys` of the committed events of ``date`` that have no ``eventId``."""
    paths = manifest.parts_by_date().get(date, [])
    if not paths or manifest.schema is None:
        return []
    single = Manifest(
        parts=[{"path": p, "date": date, "rows": 0} for p in paths],
        schema=manifest.schema,
        dtypes=manifest.dtypes,
    )
    present = [c for c in columns if c in manifest.schema.names]
    table = read_table(fs, root, single, columns=present, no_event_id=True)
    if table.num_rows == 0:
        return []
    frame = to_events_frame(table, manifest.dtypes)
    for name in columns:
        if name not in frame.columns:
            frame[name] = pd.Series(pd.NA, index=frame.index, dtype="string")
    return list(row_keys(frame[list(columns)]))


# --- reading --------------------------------------------------------------------------------
def _as_utc(value: Any) -> pd.Timestamp | None:
    if value is None:
        return None
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tzinfo is None else stamp.tz_convert("UTC")


def _as_list(value: Any) -> list[str] | None:
    if value is None:
        return None
    if isinstance(value, str | int):
        return [str(value)]
    return [str(v) for v in value]


def select_parts(
    manifest: Manifest,
    *,
    start: Any = None,
    end: Any = None,
    message_ids: Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The parts that can hold events in ``[start, end)`` of the given mailings.

    Dates come from the partition; mailings from the ``messageIds`` a part records
    (parts with many mailings record none and are always read).
    """
    lo, hi = _as_utc(start), _as_utc(end)
    wanted = None if message_ids is None else set(message_ids)
    chosen = []
    for part in manifest.parts:
        if wanted is not None and "messageIds" in part and not wanted & set(part["messageIds"]):
            continue
        date = part["date"]
        if date == UNKNOWN_DATE:
            if lo is None and hi is None:
                chosen.append(part)
            continue
        day = pd.Timestamp(date, tz="UTC")
        if lo is not None and day + pd.Timedelta(days=1) <= lo:
            continue
        if hi is not None and day >= hi:
            continue
        chosen.append(part)
    return chosen


def build_filter(
    *,
    start: Any = None,
    end: Any = None,
    message_ids: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    schema: pa.Schema | None = None,
) -> ds.Expression | None:
    """A pyarrow dataset filter for the events frame's standard filters."""
    expr: ds.Expression | None = None

    def both(a: ds.Expression | None, b: ds.Expression) -> ds.Expression:
        return b if a is None else a & b

    lo, hi = _as_utc(start), _as_utc(end)
    if lo is not None or hi is not None:
        unit = "us"
        if schema is not None and "timestamp" in schema.names:
            unit = getattr(schema.field("timestamp").type, "unit", "us")
        typ = pa.timestamp(unit, tz="UTC")
        if lo is not None:
            expr = both(expr, ds.field("timestamp") >= pa.scalar(lo, type=typ))
        if hi is not None:
            expr = both(expr, ds.field("timestamp") < pa.scalar(hi, type=typ))
    if message_ids is not None:
        expr = both(expr, ds.field("messageId").isin(list(message_ids)))
    if event_types is not None:
        expr = both(expr, ds.field(EVENT_TYPE_COLUMN).isin(list(event_types)))
    return expr


def part_paths(
    fs: fsspec.AbstractFileSystem, root: str, parts: Iterable[Mapping[str, Any]]
) -> list[str]:
    """Full paths (on ``fs``) of the given parts."""
    return [_join(root, p["path"]) for p in parts]


def read_table(
    fs: fsspec.AbstractFileSystem,
    root: str,
    manifest: Manifest,
    *,
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    message_ids: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    no_event_id: bool = False,
) -> pa.Table:
    """The committed events as one Arrow table, partitions pruned and filters pushed down.

    ``no_event_id=True`` keeps only the events without an ``eventId``.
    """
    schema = manifest.schema
    if schema is None:
        raise BexFileError(root, "the synced dataset has no events yet: run a sync first")
    wanted = list(schema.names) if columns is None else ordered_subset(schema.names, columns)
    parts = select_parts(manifest, start=start, end=end, message_ids=message_ids)
    paths = part_paths(fs, root, parts)
    filesystem = None if _is_local(fs) else fs
    dataset = ds.dataset(paths, schema=schema, format="parquet", filesystem=filesystem)
    expr = build_filter(
        start=start, end=end, message_ids=message_ids, event_types=event_types, schema=schema
    )
    if no_event_id:
        missing = ds.field("eventId").is_null()
        expr = missing if expr is None else expr & missing
    table = dataset.to_table(columns=wanted, filter=expr)
    return table.replace_schema_metadata(schema.metadata)


def ordered_subset(available: Sequence[str], columns: Sequence[str]) -> list[str]:
    """``columns`` checked against ``available``, in the order the user gave them."""
    missing = [c for c in columns if c not in available]
    if missing:
        raise KeyError(
            f"column(s) {missing} are not in the synced dataset; available: {list(available)}"
        )
    return list(dict.fromkeys(columns))


def _is_local(fs: fsspec.AbstractFileSystem) -> bool:
    protocol = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
    return protocol in ("file", "local")


def dtype_name(dtype: Any) -> str:
    """A pandas dtype as the manifest records it; categories keep their values' dtype.

    Examples
    --------
    >>> dtype_name(pd.CategoricalDtype(pd.Index(["a"], dtype="string")))
    'category[string]'
    >>> dtype_name(pd.StringDtype())
    'string'
    """
    if isinstance(dtype, pd.CategoricalDtype):
        return f"category[{dtype.categories.dtype}]"
    return str(dtype)


def to_events_frame(table: pa.Table, dtypes: Mapping[str, str]) -> pd.DataFrame:
    """The Arrow table as an events frame with the dtypes the manifest recorded.

    Categories are rebuilt from the values present, sorted, so a frame read from the
    dataset has the same categories whatever batches its parts came from.
    """
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    del table
    for name in frame.columns:
        want = dtypes.get(name, "")
        col = frame[name]
        if want.startswith("category") or isinstance(col.dtype, pd.CategoricalDtype):
            frame[name] = sorted_categorical(col, want[len("category[") : -1] or None)
        elif want and str(col.dtype) != want:
            frame[name] = col.astype(want)
    return frame


def not_committed(batch_ids: pa.Array, committed: pa.Array) -> pa.Array:
    """A boolean mask over ``batch_ids``: True where the id is not committed yet.

    A missing ``eventId`` never matches: such events cannot be recognised again.
    """
    if len(committed) == 0:
        return pa.array(np.ones(len(batch_ids), dtype=bool))
    hits = pc.is_in(batch_ids, value_set=committed.drop_null(), skip_nulls=True)
    return pc.invert(pc.fill_null(hits, False))


def read_dataset(
    urlpath: str,
    *,
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    messageId: str | Sequence[str] | None = None,
    event_types: str | Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Read a dataset written by :func:`sync` as an events frame.

    Only the committed parts are read; date partitions outside ``[start, end)`` are
    skipped and the other filters are pushed down into the Parquet scan, so a question
    about one mailing reads a fraction of the data.

    Parameters
    ----------
    urlpath : str
        The dataset folder (local or fsspec URL).
    columns : sequence of str, optional
        Columns to read (default: all, in events-frame order).
    start, end : datetime-like, optional
        Keep events with ``start <= timestamp < end`` (naive values are UTC).
    messageId : str or sequence of str, optional
        Keep these mailings only.
    event_types : str or sequence of str, optional
        Keep these event types only (``"emailClick"``, ...).
    storage_options : mapping, optional
        fsspec options for ``urlpath``.

    Returns
    -------
    pandas.DataFrame
        The events frame, with the dtypes :func:`bextoolkit.read_events` gives.
    """
    fs, root = fsspec.core.url_to_fs(urlpath, **dict(storage_options or {}))
    manifest = load_manifest(fs, root)
    if not manifest.version:
        raise BexFileError(urlpath, "not a synced dataset: run `bextoolkit sync SRC DEST` first")
    table = read_table(
        fs,
        root,
        manifest,
        columns=columns,
        start=start,
        end=end,
        message_ids=_as_list(messageId),
        event_types=_as_list(event_types),
    )
    frame = to_events_frame(table, manifest.dtypes)
    # The same shape as read_events' attrs; the manifest keeps counts of skipped lines only.
    sources = sorted(manifest.sources.items())
    frame.attrs = provenance(
        files=[
            {"path": name, "rows": r.get("rows"), "bytes": r.get("size")} for name, r in sources
        ],
        duplicates_dropped=sum(int(r.get("duplicates", 0)) for _, r in sources),
        skipped_lines=[
            {"file": name, "line": None, "reason": f"{n} line(s) skipped when synced"}
            for name, r in sources
            if (n := int(r.get("skipped_lines", 0)))
        ],
        source=urlpath,
    )
    return frame
