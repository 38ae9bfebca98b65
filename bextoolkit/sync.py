"""Incremental sync of BEX export files into a Parquet dataset, and reading it back.

BEX drops a file every 1-24 hours, forever, and other tools may delete files from the
SFTP folder. :func:`sync` copies only the files it has not synced yet, parses them with
:func:`bextoolkit.read_events`, and appends their events, deduplicated by ``eventId``
across runs, to a Parquet dataset partitioned by event date (UTC). It never changes or
deletes a source file. The dataset format (manifest versions and parts) is described in
:mod:`bextoolkit.readers.store`; a crash or a dropped connection at any point leaves the last
committed state readable, and the next run finishes the work.

:func:`read_dataset` (also reached through ``read_events(DEST)``) reads it back with
column projection and the filters pushed down into Parquet.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit.exceptions import BexConfigError, BexConnectionError, BexFileError
from bextoolkit.readers import read_files
from bextoolkit.readers import store as _dataset

log = logging.getLogger(__name__)

__all__ = ["SyncResult", "sync", "sync_forever"]

#: Names that look like export files (before an optional ``.gz``); ``.zip`` holds RRDE.
EXPORT_SUFFIXES = (".csv", ".psv", ".tsv", ".txt", ".zip")
_CHUNK = 4 * 1024 * 1024
#: Copied files are parsed together once they hold this many bytes (or files).
_GROUP_BYTES = 64 * 1024 * 1024
_GROUP_FILES = 500
_SOURCE = "__bex_source__"


@dataclass
class SourceFile:
    """One file in the source folder, as listed (nothing read yet)."""

    name: str
    path: str
    size: int
    mtime: str | None


@dataclass
class SyncResult:
    """What one :func:`sync` run did.

    Attributes
    ----------
    files_listed : int
        Export files found in the source.
    files_unchanged : int
        Already synced with the same size and modified time: not read.
    files_read : int
        Downloaded and parsed (new or changed files).
    files_redelivered : int
        Downloaded, but byte-identical to a synced file: nothing added.
    files_incomplete : list of str
        Files whose size changed while being copied: left for the next run.
    events_read, events_added : int
        Events parsed from the files read, and those new to the dataset.
    duplicates : int
        Events dropped as duplicates by ``eventId`` (within files, across files and runs).
    skipped_lines : int
        Malformed lines the reader skipped.
    parts_written : int
        Parquet part files committed.
    removed_leftovers : int
        Part files an interrupted run had left, deleted at the start of this one.
    dataset_files, dataset_events : int
        Source files recorded and events visible in DEST after the run.
    seconds : float
        Wall-clock time of the run.
    """

    src: str = ""
    dest: str = ""
    files_listed: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    files_redelivered: int = 0
    files_incomplete: list[str] = field(default_factory=list)
    events_read: int = 0
    events_added: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    parts_written: int = 0
    removed_leftovers: int = 0
    dataset_files: int = 0
    dataset_events: int = 0
    manifest_version: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for a person: what was copied and what DEST holds now."""
        text = (
            f"synced {self.files_read} new file(s) of {self.files_listed} "
            f"({self.files_unchanged} unchanged"
        )
        if self.files_redelivered:
            text += f", {self.files_redelivered} re-delivered"
        if self.files_incomplete:
            text += f", {len(self.files_incomplete)} still being written"
        text += (
            f"): +{self.events_added:,} events ({self.duplicates:,} duplicates dropped"
            f"{f', {self.skipped_lines:,} bad lines skipped' if self.skipped_lines else ''}) "
            f"in {self.seconds:.1f} s; {self.dest} holds {self.dataset_events:,} events "
            f"from {self.dataset_files:,} file(s)"
        )
        return text

    def __str__(self) -> str:
        return self.summary()


# --- listing and copying the source ----------------------------------------------------------
def _mtime_iso(info: Mapping[str, Any]) -> str | None:
    value = info.get("mtime", info.get("LastModified", info.get("created")))
    if value is None:
        return None
    if isinstance(value, int | float):
        value = dt.datetime.fromtimestamp(value, tz=dt.UTC)
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    return str(value)


def _looks_like_export(name: str) -> bool:
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    return lower.endswith(EXPORT_SUFFIXES) and not name.startswith(".")


def list_sources(fs: fsspec.AbstractFileSystem, path: str) -> list[SourceFile]:
    """The export files at ``path`` (a folder, a glob or one file), sorted by name.

    In a folder only names that look like export files count (``.csv``, ``.psv``,
    ``.tsv``, ``.txt``, ``.zip``, each optionally ``.gz``); a glob takes what it matches.
    """
    if any(ch in path for ch in "*?["):
        infos = list(fs.glob(path, detail=True).values())
        explicit = True
    elif fs.isdir(path):
        infos = fs.ls(path, detail=True)
        explicit = False
    else:
        infos = [fs.info(path)]
        explicit = True
    files = []
    for info in infos:
        kind = info.get("type")
        if kind != "file" and not (info.get("islink") and kind != "directory"):
            continue  # folders; a link to a file reads as the file
        name = info["name"].rstrip("/").rsplit("/", 1)[-1]
        if not explicit and not _looks_like_export(name):
            continue
        files.append(SourceFile(name, info["name"], int(info.get("size") or 0), _mtime_iso(info)))
    return sorted(files, key=lambda f: f.name)


def _copy(fs: fsspec.AbstractFileSystem, source: SourceFile, folder: str) -> tuple[str, str, int]:
    """Copy one source file into ``folder``; its local path, sha256 and size in bytes."""
    local = os.path.join(folder, source.name)
    digest = hashlib.sha256()
    size = 0
    with fs.open(source.path, "rb") as remote, open(local, "wb") as out:
        if hasattr(remote, "prefetch"):  # paramiko: pipeline the reads
            remote.prefetch(source.size or None)
        while chunk := remote.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    return local, f"sha256:{digest.hexdigest()}", size


# --- one batch of files -------------------------------------------------------------------
@dataclass
class _Batch:
    tables: list[pa.Table] = field(default_factory=list)
    records: list[dict[str, Any]] = field(default_factory=list)
    rows: int = 0

    def __bool__(self) -> bool:
        return bool(self.records)


def _frame_to_table(frame: pd.DataFrame, sources: np.ndarray) -> pa.Table:
    """The parsed events as Arrow, each row tagged with its file's index in the batch."""
    table = _dataset.to_arrow(frame)
    return table.append_column(_SOURCE, pa.array(sources.astype(np.int32)))


def _event_keys(table: pa.Table, dtypes: Mapping[str, Any]) -> tuple[pd.Series, list[str]]:
    """The dedupe key of each row: its ``eventId``, else a key from all its values.

    Returns the keys and, when some rows have no ``eventId``, the columns their row keys
    were computed from (else an empty list).
    """
    ids = table.column("eventId").to_pandas().astype(object)
    missing = ids.isna().to_numpy()
    if not missing.any():
        return ids, []
    columns = [c for c in table.column_names if c != _SOURCE]
    rows = table.filter(pa.array(missing)).select(columns)
    frame = _dataset.to_events_frame(rows, {k: _dataset.dtype_name(v) for k, v in dtypes.items()})
    ids[missing] = _dataset.row_keys(frame).to_numpy()
    return ids, columns


#: A date partition holding this many parts is rewritten as one part by the next sync that
#: adds to it (hourly syncs would otherwise leave 24 small parts a day). The parts it
#: replaces are deleted once no retained manifest lists them.
MAX_PARTS_PER_DATE = 8


def _merged_with(
    fs: fsspec.AbstractFileSystem,
    root: str,
    manifest: _dataset.Manifest,
    date: str,
    new: pa.Table,
) -> pa.Table:
    """The committed events of ``date`` and ``new`` in one table, by time."""
    parts = [p for p in manifest.parts if p["date"] == date]
    scope = _dataset.Manifest(parts=parts, schema=manifest.schema, dtypes=manifest.dtypes)
    old = _dataset.read_table(fs, root, scope).replace_schema_metadata(new.schema.metadata)
    merged = pa.concat_tables([old, new], promote_options="permissive")
    merged = merged.take(pc.sort_indices(merged, sort_keys=[("timestamp", "ascending")]))
    return merged.combine_chunks()


_UNITS_PER_DAY = {"s": 86_400, "ms": 86_400_000, "us": 86_400_000_000, "ns": 86_400_000_000_000}


def _rows_by_date(timestamps: pa.ChunkedArray) -> Iterator[tuple[str, np.ndarray]]:
    """(UTC date, row numbers sorted by time) for each event date; missing times last."""
    unit = getattr(timestamps.type, "unit", "ns")
    ticks = pc.cast(timestamps, pa.int64()).to_numpy(zero_copy_only=False)
    missing = pc.is_null(timestamps).to_numpy(zero_copy_only=False)
    ticks = np.where(missing, np.iinfo(np.int64).max, np.nan_to_num(ticks).astype(np.int64))
    days = np.where(missing, np.iinfo(np.int64).max, ticks // _UNITS_PER_DAY[unit])
    order = np.lexsort((ticks, days))  # stable: by day, then time, then file order
    ordered_days = days[order]
    starts = np.flatnonzero(np.r_[True, ordered_days[1:] != ordered_days[:-1]])
    for begin, end in zip(starts, [*starts[1:], len(order)], strict=True):
        day = ordered_days[begin]
        if day == np.iinfo(np.int64).max:
            date = _dataset.UNKNOWN_DATE
        else:
            date = str(np.datetime64(int(day), "D"))
        yield date, order[begin:end]


def _dtypes(frame_dtypes: Mapping[str, Any], old: Mapping[str, str]) -> dict[str, str]:
    merged = dict(old)
    for name, dtype in frame_dtypes.items():
        merged[name] = _dataset.dtype_name(dtype)
    return {n: merged[n] for n in _dataset.ordered_columns(merged)}


def _commit_batch(
    fs: fsspec.AbstractFileSystem,
    root: str,
    manifest: _dataset.Manifest,
    batch: _Batch,
    dtypes: Mapping[str, Any],
    result: SyncResult,
) -> _dataset.Manifest:
    """Dedupe the batch against itself and DEST, write its parts, commit a new manifest."""
    new_parts: list[dict[str, Any]] = []
    replaced: set[str] = set()
    schema = manifest.schema
    if batch.tables:
        table = pa.concat_tables(batch.tables, promote_options="default")
        keys, row_columns = _event_keys(table, dtypes)
        keep = ~keys.duplicated(keep="first").to_numpy()
        kept_rows = 0
        for date, rows in _rows_by_date(table.column("timestamp")):
            committed = _dataset.committed_event_ids(fs, root, manifest, date)
            if row_columns and keys.iloc[rows].str.startswith("\x00row:").any():
                extra = _dataset.committed_row_keys(fs, root, manifest, date, row_columns)
                if extra:
                    committed = pa.concat_arrays(
                        [committed, pa.array(extra, type=pa.large_string())]
                    )
            if len(committed):
                batch_keys = pa.array(keys.iloc[rows].to_numpy(), type=pa.large_string())
                fresh = _dataset.not_committed(batch_keys, committed)
                keep[rows] &= fresh.to_numpy(zero_copy_only=False)
            rows = rows[keep[rows]]
            if len(rows):
                part = table.take(pa.array(rows)).drop_columns([_SOURCE])
                kept_rows += len(rows)
                earlier = manifest.parts_by_date().get(date, [])
                if len(earlier) >= MAX_PARTS_PER_DATE:  # compact: one part for the date
                    part = _merged_with(fs, root, manifest, date, part)
                    replaced.update(earlier)
                new_parts.append(_dataset.write_part(fs, root, date, part))
                schema = _dataset.unify_schema(schema, part.schema)
        sources = table.column(_SOURCE).to_numpy()
        dropped = np.bincount(sources[~keep], minlength=len(batch.records))
        for index, record in enumerate(batch.records):
            if "rows" in record and not record.get("same_as"):
                record["duplicates"] += int(dropped[index])
                record["new_events"] = record["rows"] - int(dropped[index])
        result.duplicates += int((~keep).sum())
        result.events_added += kept_rows
    updated = _dataset.Manifest(
        sources={**manifest.sources, **{r["name"]: r for r in batch.records}},
        parts=[*(p for p in manifest.parts if p["path"] not in replaced), *new_parts],
        schema=schema,
        dtypes=_dtypes(dtypes, manifest.dtypes) if batch.tables else dict(manifest.dtypes),
    )
    committed = _dataset.commit_manifest(fs, root, updated)
    result.parts_written += len(new_parts)
    return committed


class _Run:
    """The state of one sync run: files copied but not parsed, the batch, the manifest.

    Copied files are parsed in groups (one ``read_events`` call per ``_GROUP_BYTES`` of
    files: hourly files are small, and a call per file would cost more than the
    parsing), then deduplicated and committed in batches of about ``batch_rows`` events.
    """

    def __init__(
        self,
        fs: fsspec.AbstractFileSystem,
        root: str,
        manifest: _dataset.Manifest,
        result: SyncResult,
        options: Mapping[str, Any],
        batch_rows: int,
        read_events: Callable[..., pd.DataFrame],
    ) -> None:
        self.fs, self.root, self.manifest, self.result = fs, root, manifest, result
        self.options, self.batch_rows, self.read_events = dict(options), batch_rows, read_events
        self.batch = _Batch()
        self.pending: list[tuple[SourceFile, str, dict[str, Any]]] = []
        self.pending_bytes = 0
        self.dtypes: dict[str, Any] = {}

    def add(
        self, source: SourceFile, local: str, checksum: str, by_checksum: dict[str, str]
    ) -> None:
        """Take one copied file: parse it later, or record it as a copy of a synced one."""
        record: dict[str, Any] = {
            "name": source.name,
            "path": source.path,
            "size": source.size,
            "mtime": source.mtime,
            "checksum": checksum,
            "synced_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        same_as = by_checksum.get(checksum)
        if same_as is not None:
            os.remove(local)
            earlier = self.manifest.sources.get(same_as) or self._recorded(same_as)
            if same_as == source.name:  # touched, same bytes: note the new stat only
                self.batch.records.append({**earlier, "size": source.size, "mtime": source.mtime})
                self.result.files_unchanged += 1
                return
            rows = int(earlier.get("rows", 0))
            record.update(rows=rows, duplicates=rows, new_events=0, skipped_lines=0)
            record["same_as"] = same_as
            self.result.files_redelivered += 1
            self.result.duplicates += rows
            self.batch.records.append(record)
            return
        by_checksum[checksum] = source.name
        self.pending.append((source, local, record))
        self.pending_bytes += source.size
        if self.pending_bytes >= _GROUP_BYTES or len(self.pending) >= _GROUP_FILES:
            self.parse_pending()

    def _recorded(self, name: str) -> dict[str, Any]:
        for record in self.batch.records:
            if record["name"] == name:
                return record
        for _, _, record in self.pending:
            if record["name"] == name:
                self.parse_pending()  # its rows are known once it is parsed
                return record
        raise KeyError(name)  # pragma: no cover - by_checksum only names recorded files

    def parse_pending(self) -> None:
        """Parse the copied files in one ``read_events`` call; commit if the batch is full."""
        if not self.pending:
            return
        paths = [local for _, local, _ in self.pending]
        try:
            frame = self.read_events(paths, dedupe=False, **self.options)
        except BexFileError as exc:
            source = next((s for s, local, _ in self.pending if local == exc.path), None)
            if source is None:
                raise
            raise BexFileError(source.path, exc.reason, line=exc.line) from exc
        finally:
            for path in paths:
                os.remove(path)
        files = frame.attrs.get("files") or []
        skipped = frame.attrs.get("skipped_lines") or []
        if len(files) != len(self.pending):  # pragma: no cover - the reader's contract
            raise RuntimeError("read_events did not report one entry per file")
        counts = np.array([int(f.get("rows", 0)) for f in files], dtype=np.int64)
        for (_, local, record), rows in zip(self.pending, counts, strict=True):
            lost = [s for s in skipped if isinstance(s, dict) and s.get("file") == local]
            record.update(rows=int(rows), duplicates=0, new_events=int(rows))
            record["skipped_lines"] = len(lost)
            self.result.skipped_lines += len(lost)
        first = len(self.batch.records)
        sources = np.repeat(np.arange(first, first + len(counts)), counts)
        self.batch.records.extend(record for _, _, record in self.pending)
        self.result.files_read += len(self.pending)
        self.result.events_read += len(frame)
        self.pending, self.pending_bytes = [], 0
        if len(frame):
            self.dtypes.update({str(k): v for k, v in frame.dtypes.items()})
            self.batch.tables.append(_frame_to_table(frame, sources))
            self.batch.rows += len(frame)
        if self.batch.rows >= self.batch_rows:
            self.commit()

    def commit(self) -> None:
        if self.batch or not self.manifest.version:
            self.manifest = _commit_batch(
                self.fs, self.root, self.manifest, self.batch, self.dtypes, self.result
            )
        self.batch = _Batch()

    def finish(self) -> None:
        """Parse what is copied and commit it: everything before this point is synced."""
        self.parse_pending()
        self.commit()


# --- the public entry points ----------------------------------------------------------------
def sync(
    src: str,
    dest: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    dest_storage_options: Mapping[str, Any] | None = None,
    read_options: Mapping[str, Any] | None = None,
    batch_rows: int = 2_000_000,
    progress: bool | None = None,
) -> SyncResult:
    """Copy the export files not synced yet from ``src`` into the Parquet dataset ``dest``.

    Parameters
    ----------
    src : str
        The folder BEX drops files into, a glob, or one file: a local path or any fsspec
        URL (``sftp://user@host/download``). Its files are only read, never changed.
    dest : str
        The dataset folder (created if missing), local or any fsspec URL.
    storage_options : mapping, optional
        fsspec options for ``src`` (for SFTP: ``password``, ``port``, ...).
    dest_storage_options : mapping, optional
        fsspec options for ``dest``; by default ``storage_options`` when ``dest`` uses the
        same protocol as ``src``, else none.
    read_options : mapping, optional
        Extra keyword arguments for :func:`bextoolkit.read_events` (``format=``,
        ``columns``-independent options such as ``encoding=``). Timestamps are kept in UTC.
    batch_rows : int, default 2,000,000
        Events parsed before a batch is committed; bounds the memory a run needs.
    progress : bool, optional
        Show a progress bar (default: only on a terminal).

    Returns
    -------
    SyncResult
        Counts of files and events; ``str(result)`` is a one-line summary.

    Raises
    ------
    BexConnectionError
        The source dropped the connection mid-file. Everything before that file is
        committed; run the sync again to resume.
    BexFileError
        A source file cannot be parsed (the message names the file and line).

    Notes
    -----
    A source file counts as synced when a file of the same name, size and modified time
    is recorded in the manifest. A file whose size or modified time changed is read
    again; its events already in DEST are dropped by ``eventId``, and a byte-identical
    copy of a synced file (same sha256) adds nothing. Only one sync may write to a DEST
    at a time.

    Examples
    --------
    >>> result = bex.sync("sftp://me@host/download", "data/bex")  # doctest: +SKIP
    >>> print(result)  # doctest: +SKIP
    synced 3 new file(s) of 420 (417 unchanged): +41,230 events ...
    """
    from tqdm.auto import tqdm

    started = time.perf_counter()
    src_options = dict(storage_options or {})
    # A fresh connection every run: a cached one may have been dropped by the last run.
    src_fs, src_path = fsspec.core.url_to_fs(src, skip_instance_cache=True, **src_options)
    if dest_storage_options is None:
        same = fsspec.core.split_protocol(dest)[0] == fsspec.core.split_protocol(src)[0]
        dest_storage_options = src_options if same and src_options else {}
    dest_fs, root = fsspec.core.url_to_fs(dest, **dict(dest_storage_options))
    from bextoolkit.exceptions import redact

    result = SyncResult(src=redact(src), dest=redact(dest))  # no password in a repr
    manifest = _dataset.load_manifest(dest_fs, root)
    result.removed_leftovers = _dataset.remove_unlisted_parts(dest_fs, root, manifest)

    listed = list_sources(src_fs, src_path)
    result.files_listed = len(listed)
    todo = []
    for source in listed:
        record = manifest.sources.get(source.name)
        if record and record["size"] == source.size and record["mtime"] == source.mtime:
            result.files_unchanged += 1
        else:
            todo.append(source)
    by_checksum = {r["checksum"]: r["name"] for r in manifest.sources.values()}
    options = _read_options(read_options)

    run = _Run(dest_fs, root, manifest, result, options, batch_rows, read_files)
    hide = not _is_terminal() if progress is None else not progress
    bar = tqdm(total=len(todo), unit="file", desc="sync", disable=hide)
    try:
        with tempfile.TemporaryDirectory(prefix="bex-sync-") as folder:
            for source in todo:
                try:
                    local, checksum, size = _copy(src_fs, source, folder)
                except FileNotFoundError:
                    log.warning("%s vanished before it was copied; skipped", source.path)
                    bar.update(1)
                    continue
                except Exception as exc:  # any failure of the transfer itself (paramiko, ...)
                    run.finish()
                    raise BexConnectionError(
                        f"{source.path}: the transfer failed ({type(exc).__name__}: {exc}); "
                        f"the files before it are synced: run the sync again to resume"
                    ) from exc
                bar.update(1)
                if size != source.size:
                    log.warning(
                        "%s: %d bytes listed, %d copied: still being written? left for the "
                        "next run",
                        source.path,
                        source.size,
                        size,
                    )
                    result.files_incomplete.append(source.name)
                    os.remove(local)
                    continue
                run.add(source, local, checksum, by_checksum)
                bar.set_postfix(parsed=f"{result.events_read:,} events", refresh=False)
            run.finish()
            bar.set_postfix(parsed=f"{result.events_read:,} events")
    finally:
        bar.close()
    if run.manifest.version != manifest.version:  # parts replaced by compaction, no longer listed
        _dataset.remove_unlisted_parts(dest_fs, root, run.manifest)
    manifest = run.manifest
    result.dataset_files = len(manifest.sources)
    result.dataset_events = manifest.rows
    result.manifest_version = manifest.version
    result.seconds = time.perf_counter() - started
    log.info("%s", result.summary())
    return result


#: read_events options a sync decides itself: the dataset holds every event, in UTC.
_OWN_OPTIONS = ("columns", "event_types", "tz", "start", "end", "messageId", "engine")


def _read_options(given: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(given or {})
    fixed = sorted(set(options) & set(_OWN_OPTIONS))
    if fixed:
        raise BexConfigError(
            f"read_options={fixed} cannot be set for a sync: the dataset keeps every event "
            "and column, in UTC. Pass them to read_events(DEST, ...) when reading it."
        )
    options.pop("dedupe", None)  # the sync drops duplicates itself, across runs too
    return {**options, "tz": "UTC", "progress": False}


def _is_terminal() -> bool:
    import sys

    return bool(getattr(sys.stderr, "isatty", lambda: False)())


def sync_forever(
    src: str,
    dest: str,
    *,
    every_minutes: float,
    on_result: Callable[[SyncResult | Exception], None] | None = None,
    max_runs: int | None = None,
    sleep: Callable[[float], None] = time.sleep,
    **options: Any,
) -> Iterator[SyncResult | Exception]:
    """Run :func:`sync` every ``every_minutes`` minutes; yields each run's result.

    A run that fails (a dropped connection, an unreadable file) yields its exception and
    the loop goes on: the next run completes the work. Stop it with Ctrl-C, or give
    ``max_runs``. ``options`` go to :func:`sync`; ``sleep`` is injectable for tests.
    """
    if every_minutes <= 0:
        raise ValueError(f"every_minutes must be positive, got {every_minutes}")
    runs = 0
    while max_runs is None or runs < max_runs:
        started = time.monotonic()
        outcome: SyncResult | Exception
        try:
            outcome = sync(src, dest, **options)
        except (BexConnectionError, BexFileError, OSError) as exc:
            log.warning("sync failed, retrying in %s min: %s", every_minutes, exc)
            outcome = exc
        runs += 1
        if on_result is not None:
            on_result(outcome)
        yield outcome
        if max_runs is not None and runs >= max_runs:
            return
        sleep(max(0.0, every_minutes * 60 - (time.monotonic() - started)))


class _SyncModule(types.ModuleType):
    """This module, callable as :func:`sync`: ``bextoolkit.sync`` stays the module (so
    ``import bextoolkit.sync`` and ``bextoolkit.sync.SyncResult`` work) while
    ``bex.sync(src, dest)`` stays the function."""

    def __call__(self, *args: Any, **kwargs: Any) -> SyncResult:
        return sync(*args, **kwargs)


sys.modules[__name__].__class__ = _SyncModule
