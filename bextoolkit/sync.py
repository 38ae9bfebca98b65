"""Incremental sync of BEX export files into a Delta Lake table, partitioned by event date.

BEX drops a file every 1-24 hours, forever, and other tools may delete files from the
SFTP folder. :func:`sync` copies the files it has not synced yet (or that changed) into a
staging folder, parses them with :func:`bextoolkit.readers.read_files`, and commits their
events to the Delta table at ``DEST`` (layout: :mod:`bextoolkit.readers.store`). It never
changes or deletes a source file.

Event identity is the readers' (:mod:`bextoolkit.readers._dedupe`): two rows are the same
event only when every column is equal and they come from different files. The table
holds, for each distinct row, as many copies as the most any one source file has; the
sources table keeps each file's row keys and counts, so a later run (a re-delivery, an
overlapping file, a file that changed) is compared against the whole table. A file that
changed has its rows replaced in one transaction.

Each batch is two Delta commits: the sources table first (tagged with the events version
it goes with), then the events table. A run killed between the two leaves a sources
commit no events version matches; the next run rolls it back. Only one sync writes to a
``DEST`` at a time (a lock under ``DEST``).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import hashlib
import html
import logging
import os
import shutil
import socket
import sys
import tempfile
import time
import types
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit.exceptions import BexConfigError, BexConnectionError, BexError, BexFileError, redact
from bextoolkit.readers import read_files
from bextoolkit.readers import store as _store
from bextoolkit.readers._dedupe import cross_file_duplicates, row_keys
from bextoolkit.readers._sources import Source, expand
from bextoolkit.readers.listing import modified_time

log = logging.getLogger(__name__)

__all__ = ["SyncResult", "migrate", "sync", "sync_forever"]

_CHUNK = 4 * 1024 * 1024
#: Staged files are parsed together once they hold this many bytes (or files).
_GROUP_BYTES = 64 * 1024 * 1024
_GROUP_FILES = 500
#: A date partition with more files than this is compacted (``optimize``) after a sync.
MAX_FILES_PER_DATE = 8
#: The sources table is compacted once it has more files than this.
MAX_SOURCE_FILES = 32
_STAGING_PREFIX = "bex-sync-"


@dataclass(repr=False)
class SyncResult:
    """What one :func:`sync` run did; ``str()`` and the notebook repr are a one-line summary.

    Attributes
    ----------
    files_listed : int
        Export files found in the source.
    files_unchanged : int
        Already synced with the same size and modified time (or the same bytes): not parsed.
    files_read : int
        Parsed: new files and files that changed.
    files_replaced : int
        Of those, files synced before whose rows were replaced (grown, rewritten).
    files_redelivered : int
        Byte-identical copies of a synced file under another path: nothing added.
    files_pending : list of str
        Files modified less than ``settle`` seconds ago, not ending in a newline, or still
        growing while copied: left for the next run.
    files_skipped : list of dict
        Files the reader skipped as not being exports (``path``, ``reason``).
    events_read, events_added, events_removed : int
        Events parsed, added to the table, and removed from it (old rows of changed files).
    duplicates : int
        Parsed events already in the table (delivered by another file).
    skipped_lines : int
        Malformed lines the reader skipped.
    table_version : int
        The events table's version after the run (-1: no table yet).
    dataset_files, dataset_events : int
        Source files recorded and events in DEST after the run.
    removed_staging : int
        Staging folders of killed runs removed at the start.
    compacted_dates : int
        Date partitions compacted (``optimize``) after the run.
    seconds : float
        Wall-clock time of the run.
    """

    src: str = ""
    dest: str = ""
    files_listed: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    files_replaced: int = 0
    files_redelivered: int = 0
    files_pending: list[str] = field(default_factory=list)
    files_skipped: list[dict[str, Any]] = field(default_factory=list)
    events_read: int = 0
    events_added: int = 0
    events_removed: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    table_version: int = -1
    dataset_files: int = 0
    dataset_events: int = 0
    removed_staging: int = 0
    compacted_dates: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for a person: what was copied and what DEST holds now."""
        notes = [f"{self.files_unchanged} unchanged"]
        if self.files_replaced:
            notes.append(f"{self.files_replaced} changed")
        if self.files_redelivered:
            notes.append(f"{self.files_redelivered} re-delivered")
        if self.files_pending:
            notes.append(f"{len(self.files_pending)} pending")
        if self.files_skipped:
            notes.append(f"{len(self.files_skipped)} not exports")
        removed = f", -{self.events_removed:,} replaced" if self.events_removed else ""
        bad = f", {self.skipped_lines:,} bad lines skipped" if self.skipped_lines else ""
        return (
            f"synced {self.files_read} new file(s) of {self.files_listed} ({', '.join(notes)})"
            f": +{self.events_added:,} events{removed} ({self.duplicates:,} duplicates "
            f"dropped{bad}) in {self.seconds:.1f} s; {self.dest} holds "
            f"{self.dataset_events:,} events from {self.dataset_files:,} file(s), "
            f"version {self.table_version}"
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<SyncResult: {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(self.summary())}</code>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())


# --- the source files --------------------------------------------------------------------
def _mtime(info: Mapping[str, Any]) -> tuple[str | None, float | None]:
    """A listed file's modified time: (ISO text in UTC, POSIX seconds)."""
    stamp = modified_time(info)
    return (None, None) if stamp is None else (stamp.isoformat(), stamp.timestamp())


@dataclass
class _File:
    """One source file of this run, and what was learnt about it."""

    source: Source
    key: str  # the full path or URL, no password: one source per key
    size: int
    mtime: str | None
    local: str = ""
    sha256: str = ""
    keys: np.ndarray | None = None  # distinct row keys (uint64) and their counts
    counts: np.ndarray | None = None
    dates: set[Any] = field(default_factory=set)  # the event dates of its rows
    mailings: set[str] = field(default_factory=set)  # the messageIds of its rows
    rows: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    skipped_reason: str | None = None
    table_version: int | None = None  # kept from an earlier run when only its stat changed
    batch_index: int = -1  # its number among the files of one reader call


def _copy(file: _File, folder: str) -> None:
    """Copy one source file into its own folder under ``folder``, hashing it."""
    own = tempfile.mkdtemp(dir=folder)
    file.local = os.path.join(own, file.source.name)
    digest = hashlib.sha256()
    size = 0
    with file.source.fs.open(file.source.path, "rb") as remote, open(file.local, "wb") as out:
        if hasattr(remote, "prefetch"):  # paramiko: pipeline the reads
            remote.prefetch(file.size or None)
        while chunk := remote.read(_CHUNK):
            digest.update(chunk)
            out.write(chunk)
            size += len(chunk)
    file.sha256 = digest.hexdigest()
    file.size = size


def _still_being_written(file: _File, listed_size: int) -> str | None:
    """Why a copied file looks incomplete (else None)."""
    if file.size != listed_size:
        return f"{listed_size} bytes listed, {file.size} copied"
    lower = file.source.name.lower()
    if lower.endswith((".gz", ".zip")):
        return None
    with open(file.local, "rb") as handle:
        if file.size:
            handle.seek(-1, os.SEEK_END)
        if handle.read(1) != b"\n":
            return "does not end with a newline"
    return None


# --- staging and the lock ----------------------------------------------------------------
def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - another user's process
        return True
    return True


def remove_stale_staging(folder: str | None = None) -> int:
    """Delete staging folders left by killed syncs (their process is gone); how many."""
    folder = folder or tempfile.gettempdir()
    removed = 0
    for name in os.listdir(folder):
        if not name.startswith(_STAGING_PREFIX):
            continue
        pid_text = name[len(_STAGING_PREFIX) :].split("-", 1)[0]
        if pid_text.isdigit() and not _pid_alive(int(pid_text)):
            shutil.rmtree(os.path.join(folder, name), ignore_errors=True)
            removed += 1
    return removed


@contextlib.contextmanager
def _staging() -> Iterator[str]:
    folder = tempfile.mkdtemp(prefix=f"{_STAGING_PREFIX}{os.getpid()}-")
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextlib.contextmanager
def _lock(uri: str, wait: float) -> Iterator[None]:
    """Hold DEST's sync lock; another sync waits up to ``wait`` seconds, then BexError.

    On a local DEST the lock is an ``flock`` on ``DEST/_bex_sync.lock``: the system drops
    it when its process ends, even when killed. On an object store Delta's own commit
    protocol refuses a conflicting commit (:class:`BexError` too).
    """
    if "://" in uri:
        yield
        return
    os.makedirs(uri, exist_ok=True)
    path = os.path.join(uri, _store.LOCK_NAME)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    handle.seek(0)
                    holder = handle.read().strip() or "another process"
                    raise BexError(
                        f"{uri}: another sync is writing to this store ({holder}); wait for "
                        f"it to finish, or pass wait=SECONDS (CLI: --wait) to queue behind it"
                    ) from None
                time.sleep(0.2)
        handle.seek(0)
        handle.truncate()
        started = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        handle.write(f"pid {os.getpid()} on {socket.gethostname()} since {started}")
        handle.flush()
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


# --- the store's state -------------------------------------------------------------------
class _Store:
    """The events table, the sources table, and the row keys of every source file."""

    def __init__(self, dest: str, options: Mapping[str, Any] | None) -> None:
        from deltalake import DeltaTable

        self.dest, self.uri = dest, _store.delta_uri(dest)
        self.sources_uri = _store.sources_uri(self.uri)
        self.options = _store.delta_options(options)
        self.events: Any = None
        if DeltaTable.is_deltatable(self.uri, storage_options=self.options):
            self.events = DeltaTable(self.uri, storage_options=self.options)
        self.records: dict[str, dict[str, Any]] = {}
        self.keys: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        self._index: tuple[list[str], np.ndarray, np.ndarray, np.ndarray] | None = None
        self._roll_back_orphans()
        self._load_sources()

    @property
    def version(self) -> int:
        return -1 if self.events is None else int(self.events.version())

    def _commit(self, version: int) -> Any:
        from deltalake import CommitProperties

        return CommitProperties(custom_metadata={_store.VERSION_KEY: str(version)})

    def _roll_back_orphans(self) -> None:
        """Undo a sources commit whose events commit never happened (a killed run)."""
        from deltalake import DeltaTable

        if not DeltaTable.is_deltatable(self.sources_uri, storage_options=self.options):
            return
        sources = DeltaTable(self.sources_uri, storage_options=self.options)
        newest = sources.history(1)[0].get(_store.VERSION_KEY)
        if newest is None or int(newest) <= self.version:
            return
        good = _store.sources_version(sources, self.version)
        log.warning("rolling back the sources table to match events version %d", self.version)
        if good is None:
            empty = _store.source_schema().empty_table()
            self.write_sources(empty, self.version, mode="overwrite")
        else:
            sources.restore(good, commit_properties=self._commit(self.version))

    def _load_sources(self) -> None:
        table = _store.read_sources(self.dest, self.version, self.options, with_keys=True)
        keys, counts = table.column("keys").to_pylist(), table.column("counts").to_pylist()
        records = table.drop_columns(["keys", "counts"]).to_pylist()
        for record, k, c in zip(records, keys, counts, strict=True):
            self.records[record["source"]] = record
            self.keys[record["source"]] = (
                np.asarray(k or [], dtype=np.int64).view(np.uint64),
                np.asarray(c or [], dtype=np.int32),
            )

    def write_sources(
        self, table: pa.Table, version: int, *, mode: str, predicate: str | None = None
    ) -> None:
        _write(
            self.sources_uri, table, mode=mode, predicate=predicate,
            storage_options=self.options, commit_properties=self._commit(version),
            schema_mode="merge",
        )  # fmt: skip

    # -- the table count of each row key -----------------------------------------------------
    def counts_of(self, wanted: np.ndarray, *, without: Sequence[str] = ()) -> np.ndarray:
        """The table count of each (distinct) key in ``wanted``: the max over source files."""
        if self._index is None:
            names = list(self.keys)
            parts = [self.keys[n] for n in names]
            self._index = (
                names,
                np.concatenate([k for k, _ in parts] or [np.zeros(0, np.uint64)]),
                np.concatenate([c for _, c in parts] or [np.zeros(0, np.int32)]),
                np.repeat(np.arange(len(names)), [len(k) for k, _ in parts]),
            )
        names, keys, counts, owner = self._index
        best = np.zeros(len(wanted), dtype=np.int64)
        at = pd.Index(wanted).get_indexer(keys)
        hit = at >= 0
        if without:
            hit &= ~np.isin(owner, [names.index(n) for n in without if n in names])
        np.maximum.at(best, at[hit], counts[hit])
        return best

    def columns(self, batch: pa.Table | None = None) -> list[str]:
        """The event columns row keys are computed over: the table's and the batch's."""
        names = set(batch.column_names if batch is not None else [])
        if self.events is not None:
            names |= set(self.events.schema().to_arrow().names)
        names -= {_store.DATE_COLUMN, _FILE}
        return _store.ordered_columns(sorted(names))

    # -- committing ------------------------------------------------------------------------
    def commit(self, files: list[_File], add: pa.Table | None, removals: dict[int, int]) -> None:
        """One batch: the sources rows first, then the events (append, or replace dates)."""
        from deltalake import WriterProperties

        changes_events = (add is not None and add.num_rows > 0) or bool(removals)
        target = self.version + 1 if changes_events else self.version
        records = [_source_record(f, target) for f in files]
        rows = pa.Table.from_pylist(records, schema=_store.source_schema())
        replacing = [f.key for f in files if f.key in self.records]
        if replacing:
            quoted = ", ".join("'" + k.replace("'", "''") + "'" for k in replacing)
            self.write_sources(rows, target, mode="overwrite", predicate=f"source IN ({quoted})")
        else:
            self.write_sources(rows, target, mode="append")
        dates = set().union(*(self.records[k]["dates"] or [] for k in replacing))
        for file, record in zip(files, records, strict=True):
            assert file.keys is not None and file.counts is not None
            self.records[file.key] = {
                k: v for k, v in record.items() if k not in ("keys", "counts")
            }
            self.keys[file.key] = (file.keys, file.counts)
        self._index = None
        if not changes_events:
            return
        common = {
            "storage_options": self.options,
            "writer_properties": WriterProperties(compression="ZSTD"),
            "schema_mode": "merge",
            "partition_by": [_store.DATE_COLUMN],
        }
        if removals:  # rewrite the dates of the old and new rows in one transaction
            if add is not None:
                dates |= set(pc.unique(add[_store.DATE_COLUMN]).to_pylist())
            new = self._replace_dates(add, removals, dates)
            predicate = _dates_predicate(dates)
            _write(self.uri, new, mode="overwrite", predicate=predicate, **common)
        else:
            _write(self.uri, add, mode="append", **common)
        self._reload()

    def _reload(self) -> None:
        from deltalake import DeltaTable

        if self.events is None:
            self.events = DeltaTable(self.uri, storage_options=self.options)
        else:
            self.events.update_incremental()

    def _replace_dates(
        self, add: pa.Table | None, removals: dict[int, int], dates: set[Any]
    ) -> pa.Table:
        """The new content of the partitions ``dates``: old rows minus removals, plus ``add``."""
        expr = _store.ds.field(_store.DATE_COLUMN).isin([d for d in dates if d is not None])
        if None in dates:
            expr = expr | _store.ds.field(_store.DATE_COLUMN).is_null()
        old = self.events.to_pyarrow_dataset().to_table(filter=expr)
        keys = event_keys(old, self.columns(add))
        old = old.filter(pa.array(_drop_copies(keys, removals)))
        if add is None or not add.num_rows:
            return old
        return pa.concat_tables([old, add], promote_options="permissive")

    def row_count(self) -> int:
        if self.events is None:
            return 0
        actions = pa.table(self.events.get_add_actions(flatten=True))
        return int(pc.sum(actions["num_records"]).as_py() or 0)

    def maintain(self, dates: set[Any], retention_hours: float | None) -> int:
        """Compact crowded date partitions and the sources table; vacuum both."""
        from deltalake import DeltaTable, WriterProperties

        if self.events is None:
            return 0
        actions = pa.table(self.events.get_add_actions(flatten=True))
        per_date = pd.Series(actions[f"partition.{_store.DATE_COLUMN}"].to_pylist()).value_counts()
        touched = {str(d) for d in dates if d is not None}
        crowded = sorted(
            str(d) for d, n in per_date.items() if n > MAX_FILES_PER_DATE and str(d) in touched
        )
        if crowded:
            self.events.optimize.compact(
                partition_filters=[(_store.DATE_COLUMN, "in", crowded)],
                writer_properties=WriterProperties(compression="ZSTD"),
            )
            self._reload()
        sources = DeltaTable(self.sources_uri, storage_options=self.options)
        if len(sources.file_uris()) > MAX_SOURCE_FILES:
            sources.optimize.compact(commit_properties=self._commit(self.version))
        if retention_hours is not None:
            hours = int(retention_hours)
            self.events.vacuum(hours, dry_run=False, enforce_retention_duration=False)
            sources.update_incremental()
            sources.vacuum(
                hours, dry_run=False, enforce_retention_duration=False,
                commit_properties=self._commit(self.version),
            )  # fmt: skip
        return len(crowded)


def _write(uri: str, data: pa.Table, **options: Any) -> None:
    """One Delta commit (``deltalake.write_deltalake``)."""
    from deltalake import write_deltalake

    write_deltalake(uri, data, **options)


def _dates_predicate(dates: set[Any]) -> str:
    known = sorted(str(d) for d in dates if d is not None)
    parts = [f"{_store.DATE_COLUMN} IN ({', '.join(repr(d) for d in known)})"] if known else []
    if None in dates:
        parts.append(f"{_store.DATE_COLUMN} IS NULL")
    return " OR ".join(parts)


def _source_record(f: _File, version: int) -> dict[str, Any]:
    assert f.keys is not None and f.counts is not None
    return {
        "source": f.key, "name": f.source.name, "size": f.size, "mtime": f.mtime,
        "sha256": f.sha256, "rows": f.rows, "duplicates": f.duplicates,
        "skipped_lines": f.skipped_lines, "skipped_reason": f.skipped_reason,
        "table_version": version if f.table_version is None else f.table_version,
        "synced_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "keys": f.keys.view(np.int64), "counts": f.counts, "dates": sorted(f.dates, key=str),
        "mailings": sorted(f.mailings),
    }  # fmt: skip


_FILE = "__bex_file__"


def event_keys(events: pa.Table, columns: Sequence[str]) -> np.ndarray:
    """The readers' row keys of ``events`` over ``columns`` (absent ones as missing).

    Every key of a store is computed over the same columns, so an event gets the same
    key whichever file, batch or run it came from.
    """
    n = events.num_rows
    arrays = [
        events.column(c)
        if c in events.column_names
        else pa.chunked_array([pa.nulls(n, pa.string())])
        for c in columns
    ]
    return row_keys(pa.Table.from_arrays(arrays, names=list(columns)))


def _rank_in_key(keys: np.ndarray) -> np.ndarray:
    """For each row, how many earlier rows have the same key (0, 1, 2, ...)."""
    return pd.Series(keys).groupby(keys).cumcount().to_numpy()


def _drop_copies(keys: np.ndarray, removals: Mapping[int, int]) -> np.ndarray:
    """A keep-mask dropping the first ``removals[k]`` rows of each key ``k``."""
    wanted = pd.Series(keys).map(removals).fillna(0).to_numpy()
    return _rank_in_key(keys) >= wanted


# --- one batch ---------------------------------------------------------------------------
def _parse(store: _Store, files: list[_File], options: Mapping[str, Any]) -> pa.Table | None:
    """Parse staged files in one reader call: the events in the store's form, with each
    row's file (column ``__bex_file__``); each file's ``rows`` and row keys are set."""
    by_local = {f.local: f for f in files}
    try:
        frame = read_files([f.local for f in files], dedupe=False, **options)
    except BexFileError as exc:
        file = by_local.get(exc.path)
        if file is None:
            raise
        raise BexFileError(file.key, exc.reason, line=exc.line) from exc
    attrs = frame.attrs
    for skipped in attrs.get("skipped_files") or []:
        file = by_local.get(str(skipped.get("path")))
        if file is not None:
            file.skipped_reason = str(skipped.get("reason") or "not an export file")
    for line in attrs.get("skipped_lines") or []:
        if isinstance(line, dict) and line.get("file") in by_local:
            by_local[line["file"]].skipped_lines += 1
    order = [by_local[str(i["path"])] for i in attrs.get("files") or []]
    for i, file in enumerate(order):
        file.batch_index = i
        file.rows = int(attrs["files"][i].get("rows") or 0)
    if sum(f.rows for f in order) != len(frame):  # pragma: no cover - the reader's contract
        raise RuntimeError("read_files did not report the rows of each file")
    for file in files:
        file.keys, file.counts = np.zeros(0, np.uint64), np.zeros(0, np.int32)
    if not len(frame):
        return None
    parsed = pa.Table.from_pandas(frame, preserve_index=False)  # categories stay dictionaries
    del frame
    keys = event_keys(parsed, store.columns(parsed))  # hashed on dictionaries: fast
    events = _store.to_arrow(parsed)
    index = np.repeat(np.arange(len(order)), [f.rows for f in order])
    dates = events.column(_store.DATE_COLUMN)
    mailings = events.column("messageId") if "messageId" in events.column_names else None
    for i, file in enumerate(order):
        mine = pa.array(index == i)
        file.keys, file.counts = _store.distinct_counts(keys[index == i])
        file.dates = set(pc.unique(dates.filter(mine)).to_pylist())
        if mailings is not None:
            file.mailings = set(pc.unique(mailings.filter(mine)).drop_null().to_pylist())
    events = events.append_column(_FILE, pa.array(index.astype(np.int32)))
    return events.append_column("__bex_key__", pa.array(keys))


def _plan_batch(
    store: _Store, files: list[_File], events: pa.Table | None, result: SyncResult
) -> None:
    """What this batch adds to and removes from the table (by the readers' event identity),
    then commit it: per distinct row, the table ends with the most copies any one source
    file has."""
    replaced = [f.key for f in files if f.key in store.records]
    keys = np.zeros(0, np.uint64) if events is None else events.column("__bex_key__").to_numpy()
    old_keys = [store.keys[k][0] for k in replaced]
    new_keys = [f.keys for f in files if f.keys is not None]
    affected = np.unique(np.concatenate([keys, *old_keys, *new_keys]))
    before = store.counts_of(affected)
    after = store.counts_of(affected, without=replaced)
    position = pd.Index(affected)
    for file in files:
        assert file.keys is not None and file.counts is not None
        np.maximum.at(after, position.get_indexer(file.keys), file.counts)
    removals = {int(k): int(n) for k, n in zip(affected, before - after, strict=True) if n > 0}
    add = None
    if events is not None:
        adds = pd.Series(np.maximum(after - before, 0), index=position)
        index = events.column(_FILE).to_numpy()
        drop = cross_file_duplicates(keys, index)  # the earliest copies are kept
        rank = np.full(len(keys), np.iinfo(np.int64).max)
        rank[~drop] = _rank_in_key(keys[~drop])
        take = rank < adds.reindex(keys).to_numpy()
        added = np.bincount(index[take], minlength=len(files))
        for file in files:
            if file.batch_index >= 0:
                file.duplicates = file.rows - int(added[file.batch_index])
        add = events.filter(pa.array(take)).drop_columns([_FILE, "__bex_key__"])
        add = add.take(pc.sort_indices(add, [("timestamp", "ascending")]))
        result.events_added += add.num_rows
        result.duplicates += len(keys) - add.num_rows
    result.events_removed += sum(removals.values())
    store.commit(files, add, removals)


# --- the public entry points ----------------------------------------------------------------
def sync(
    src: str,
    dest: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    dest_storage_options: Mapping[str, Any] | None = None,
    read_options: Mapping[str, Any] | None = None,
    batch_rows: int = 2_000_000,
    settle: float = 120,
    wait: float = 0,
    retention_hours: float | None = 168,
    progress: bool | None = None,
) -> SyncResult:
    """Copy the export files not synced yet from ``src`` into the Delta table ``dest``.

    Parameters
    ----------
    src : str
        The folder BEX drops files into, a glob, or one file: a local path or any fsspec
        URL (``sftp://user@host/download``). Its files are only read, never changed.
    dest : str
        The Delta table (created if missing): a local folder, or ``s3://``, ``gs://``,
        ``az://``.
    storage_options : mapping, optional
        fsspec options for ``src`` (for SFTP: ``password``, ``port``, ...).
    dest_storage_options : mapping, optional
        deltalake storage options for ``dest`` (``AWS_REGION``, ...).
    read_options : mapping, optional
        Extra keyword arguments for the reader (``format=``, ``encoding=``,
        ``on_bad_lines=``, ``tz=``: the zone of file times without a UTC offset, else
        ``BEX_TZ``, else UTC with a warning, as :func:`bextoolkit.read_events`). The store
        holds every event and column, its times as UTC instants.
    batch_rows : int, default 2,000,000
        Events parsed before a batch is committed; bounds the memory a run needs.
    settle : float, default 120
        Files modified less than this many seconds ago are left for the next run (an
        upload may be in progress), as are files not ending in a newline.
    wait : float, default 0
        Seconds to wait for another sync on the same ``dest`` to finish; then
        :class:`BexError`.
    retention_hours : float or None, default 168
        ``vacuum`` the table after the run, deleting files older versions needed for
        longer than this (readers of older versions need them; ``None``: no vacuum).
    progress : bool, optional
        Show a progress bar (default: in a terminal and in a notebook).

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
        A source file cannot be parsed (the message names the file and line), or
        ``dest`` holds a store of the old format (the message says how to convert it).
    BexError
        Another sync is writing to ``dest``.

    Examples
    --------
    >>> result = bex.sync("sftp://me@host/download", "data/bex")  # doctest: +SKIP
    >>> result  # doctest: +SKIP
    synced 3 new file(s) of 420 (417 unchanged): +41,230 events ...
    """
    started = time.perf_counter()
    uri = _store.delta_uri(dest)
    if not _store.is_delta_table(uri, dest_storage_options) and _store.is_old_store(dest):
        raise _store.old_store_error(dest)
    options = _read_options(read_options)
    result = SyncResult(src=redact(src), dest=redact(dest))  # no password in a repr
    result.removed_staging = remove_stale_staging()
    with _lock(uri, wait):
        store = _Store(dest, dest_storage_options)
        touched = _run(store, src, storage_options, options, batch_rows, settle, progress, result)
        result.compacted_dates = store.maintain(touched, retention_hours)
        result.table_version = store.version
        result.dataset_files = sum(1 for r in store.records.values() if not r["skipped_reason"])
        result.dataset_events = store.row_count()
    result.seconds = time.perf_counter() - started
    log.info("%s", result.summary())
    return result


def _run(
    store: _Store,
    src: str,
    storage_options: Mapping[str, Any] | None,
    options: Mapping[str, Any],
    batch_rows: int,
    settle: float,
    progress: bool | None,
    result: SyncResult,
) -> set[Any]:
    """List, copy, parse and commit; the event dates touched."""
    from tqdm.auto import tqdm

    # A fresh connection every run: a cached one may have been dropped by the last run.
    listed = expand(src, {**dict(storage_options or {}), "skip_instance_cache": True}, details=True)
    result.files_listed = len(listed)
    now = time.time()
    todo: list[_File] = []
    for source in listed:
        size = int(source.info.get("size") or 0)
        mtime, seconds = _mtime(source.info)
        file = _File(source, redact(source.display), size, mtime)
        record = store.records.get(file.key)
        if record and record["size"] == size and record["mtime"] == mtime:
            result.files_unchanged += 1
        elif seconds is not None and now - seconds < settle:
            result.files_pending.append(file.key)
        else:
            todo.append(file)
    by_sha = {r["sha256"]: name for name, r in store.records.items() if r["sha256"]}
    show = progress if progress is not None else _interactive()
    bar = tqdm(total=len(todo), unit="file", desc="sync", disable=not show)
    touched: set[Any] = set()
    # Changed files first, each batch on its own: their commits rewrite date partitions.
    todo.sort(key=lambda f: f.key not in store.records)
    try:
        with _staging() as folder:
            batch: list[_File] = []
            staged_bytes = read_bytes = 0
            bytes_per_row = 300  # a first guess, then measured: batches of ~batch_rows events
            for file in todo:
                listed_size = file.size
                try:
                    _copy(file, folder)
                except FileNotFoundError:
                    log.warning("%s vanished before it was copied; skipped", file.key)
                    bar.update(1)
                    continue
                except Exception as exc:  # any failure of the transfer itself (paramiko, ...)
                    touched |= _flush(store, batch, options, result)
                    raise BexConnectionError(
                        f"{file.key}: the transfer failed ({type(exc).__name__}: {exc}); "
                        f"the files before it are synced: run the sync again to resume"
                    ) from exc
                bar.update(1)
                why = _still_being_written(file, listed_size)
                if why:
                    log.info("%s: %s: left for the next run", file.key, why)
                    result.files_pending.append(file.key)
                    continue
                replacing = file.key in store.records
                if not _known_bytes(store, file, by_sha, result):
                    batch.append(file)
                    staged_bytes += file.size
                    read_bytes += file.size
                    by_sha[file.sha256] = file.key
                limit = min(_GROUP_BYTES, batch_rows * bytes_per_row)
                if replacing or staged_bytes >= limit or len(batch) >= _GROUP_FILES:
                    touched |= _flush(store, batch, options, result)
                    batch, staged_bytes = [], 0
                    if result.events_read:
                        bytes_per_row = max(1, read_bytes // result.events_read)
                bar.set_postfix(parsed=f"{result.events_read:,} events", refresh=False)
            touched |= _flush(store, batch, options, result)
    finally:
        bar.close()
    return touched


def _known_bytes(store: _Store, file: _File, by_sha: dict[str, str], result: SyncResult) -> bool:
    """Commit a file whose bytes are already synced (touched, or re-delivered); True if so."""
    same = by_sha.get(file.sha256)
    old = store.records.get(same or "")
    if old is None:  # new bytes (or the same bytes earlier in this run: parse them again)
        return False
    os.remove(file.local)
    file.keys, file.counts = store.keys[same or ""]
    file.dates, file.mailings = set(old["dates"] or []), set(old["mailings"] or [])
    file.rows, file.skipped_lines = int(old["rows"]), int(old["skipped_lines"])
    file.skipped_reason = old["skipped_reason"]
    if same == file.key:  # touched: the same bytes, a new modified time
        file.duplicates, file.table_version = int(old["duplicates"]), int(old["table_version"])
        result.files_unchanged += 1
    else:
        file.duplicates = file.rows
        result.files_redelivered += 1
        result.duplicates += file.rows
    _plan_batch(store, [file], None, result)
    return True


def _flush(
    store: _Store, batch: list[_File], options: Mapping[str, Any], result: SyncResult
) -> set[Any]:
    """Parse and commit one batch of staged files; the event dates it touched."""
    if not batch:
        return set()
    events = _parse(store, batch, options)
    for file in batch:
        with contextlib.suppress(FileNotFoundError):
            os.remove(file.local)
    result.files_read += len(batch)
    result.files_replaced += sum(1 for f in batch if f.key in store.records)
    result.events_read += 0 if events is None else events.num_rows
    result.skipped_lines += sum(f.skipped_lines for f in batch)
    result.files_skipped += [
        {"path": f.key, "reason": f.skipped_reason} for f in batch if f.skipped_reason
    ]
    _plan_batch(store, batch, events, result)
    return set().union(*(f.dates for f in batch))


#: read_events options a sync decides itself: the store holds every event and column.
_OWN_OPTIONS = ("columns", "event_types", "start", "end", "messageId", "engine", "dedupe")


def _read_options(given: Mapping[str, Any] | None) -> dict[str, Any]:
    options = dict(given or {})
    fixed = sorted(set(options) & set(_OWN_OPTIONS))
    if fixed:
        raise BexConfigError(
            f"read_options={fixed} cannot be set for a sync: the store keeps every event "
            "and column. Pass them to read_events(DEST, ...) when reading it."
        )
    return {**options, "progress": False}


def _interactive() -> bool:
    """A terminal or a notebook: where a progress bar is seen."""
    from bextoolkit.readers.files import in_notebook

    return bool(getattr(sys.stderr, "isatty", lambda: False)()) or in_notebook()


def migrate(
    old: str,
    new: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    dest_storage_options: Mapping[str, Any] | None = None,
) -> SyncResult:
    """Convert a store of the old manifest format at ``old`` into a Delta table at ``new``.

    The events of the newest readable manifest version are copied (parts no version
    lists, left by compaction or crashes, are not); the source files recorded there keep
    their provenance. ``old`` is not changed. Syncs then go to ``new``.
    """
    import pyarrow.parquet as pq

    started = time.perf_counter()
    if not _store.is_old_store(old, storage_options):
        raise BexFileError(old, "not a store of the old format (no _bex_manifest/ folder)")
    uri = _store.delta_uri(new)
    if _store.is_delta_table(uri, dest_storage_options):
        raise BexConfigError(f"{new} already holds a Delta table: migrate into a new folder")
    parts, records, fs = _store.old_store_contents(old, storage_options)
    tables = []
    for path in parts:
        with fs.open(path, "rb") as handle:
            tables.append(_store.to_arrow(pq.read_table(handle)))
    result = SyncResult(src=redact(old), dest=redact(new))
    with _lock(uri, 0):
        store = _Store(new, dest_storage_options)
        files = []
        for record in records:
            path = str(record.get("path") or record["name"])
            file = _File(Source(fs, path, path), redact(path), int(record.get("size") or 0),
                         record.get("mtime"))  # fmt: skip
            file.sha256 = str(record.get("checksum", "")).removeprefix("sha256:")
            file.rows, file.duplicates = (
                int(record.get("rows") or 0),
                int(record.get("duplicates") or 0),
            )
            file.skipped_lines, file.table_version = int(record.get("skipped_lines") or 0), 0
            file.keys, file.counts = np.zeros(0, np.uint64), np.zeros(0, np.int32)
            files.append(file)
        # The keys of every migrated event, as one pseudo source: later syncs compare with them.
        everything = _File(Source(fs, old, old), f"bextoolkit-migrate:{redact(old)}", 0, None)
        everything.skipped_reason = "the events migrated from the old store (not a file)"
        events = pa.concat_tables(tables, promote_options="default") if tables else None
        keys = np.zeros(0, np.uint64)
        if events is not None:
            keys = event_keys(events, store.columns(events))
            everything.dates = set(pc.unique(events[_store.DATE_COLUMN]).to_pylist())
            if "messageId" in events.column_names:
                ids = pc.unique(events["messageId"]).drop_null()
                everything.mailings = set(ids.to_pylist())
        everything.keys, everything.counts = _store.distinct_counts(keys)
        files.append(everything)
        store.commit(files, events, {})
        result.table_version = store.version
        result.dataset_files = len(records)
        result.dataset_events = result.events_added = store.row_count()
    result.seconds = time.perf_counter() - started
    return result


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
        except (BexError, OSError) as exc:
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
