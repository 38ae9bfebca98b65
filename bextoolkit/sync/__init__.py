"""Incremental sync of BEX export files into a Delta Lake table, partitioned by event date.

BEX drops a file every 1-24 hours, forever, and other tools may delete files from the
SFTP folder. :func:`sync` copies the files it has not synced yet (or that changed) into a
staging folder, parses them with :func:`bextoolkit.readers.read_files`, and commits their
events to the Delta table at ``DEST`` (layout: :mod:`bextoolkit.readers.store`). It never
changes or deletes a source file.

Event identity is the readers' (:mod:`bextoolkit.readers._dedupe`): two rows are the same
event only when they come from different files and agree on every column both files carry
(each source's columns are recorded; a file of other columns is compared with the rows on
its dates). The table
holds, for each distinct row, as many copies as the most any one source file has; the
sources table keeps each file's row keys and counts, so a later run (a re-delivery, an
overlapping file, a file that changed) is compared against the whole table. A file that
changed has its rows replaced in one transaction.

Each batch is two Delta commits: the sources table first (tagged with the events version
it goes with), then the events table. A run killed between the two leaves a sources
commit no events version matches; the next run rolls it back. Only one sync writes to a
``DEST`` at a time (a lock under ``DEST``).

This module holds the entry points (:func:`sync`, :func:`sync_forever`, :func:`migrate`);
:mod:`._files` lists, stages and locks, :mod:`._table` keeps the tables' state and plans
and parses one batch, :mod:`._result` is what a run reports.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import sys
import time
import types
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit.exceptions import BexConfigError, BexConnectionError, BexError, BexFileError, redact
from bextoolkit.readers import store as _store
from bextoolkit.readers._sources import Source, expand
from bextoolkit.sync._files import (
    File,
    copy_file,
    listed_mtime,
    lock,
    remove_stale_staging,
    staging,
    still_being_written,
)
from bextoolkit.sync._result import SyncResult
from bextoolkit.sync._table import Store, event_keys, parse_batch, plan_batch

log = logging.getLogger(__name__)

__all__ = ["SyncResult", "migrate", "sync", "sync_forever"]

#: Staged files are parsed together once they hold this many bytes (or files).
_GROUP_BYTES = 64 * 1024 * 1024
_GROUP_FILES = 500


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
        Another sync is writing to ``dest``, or another writer (Spark, ...) committed a
        change that conflicts with this run's commit.

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
    with lock(uri, wait):
        store = Store(dest, dest_storage_options)
        touched = _run(store, src, storage_options, options, batch_rows, settle, progress, result)
        result.compacted_dates = store.maintain(touched, retention_hours)
        result.table_version = store.version
        result.dataset_files = sum(1 for r in store.records.values() if not r["skipped_reason"])
        result.dataset_events = store.row_count()
    result.seconds = time.perf_counter() - started
    log.info("%s", result.summary())
    return result


def _run(
    store: Store,
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
    todo: list[File] = []
    for source in listed:
        size = int(source.info.get("size") or 0)
        mtime, seconds = listed_mtime(source.info)
        file = File(source, redact(source.display), size, mtime)
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
        with staging() as folder:
            batch: list[File] = []
            staged_bytes = read_bytes = 0
            bytes_per_row = 300  # a first guess, then measured: batches of ~batch_rows events
            for file in todo:
                listed_size = file.size
                try:
                    copy_file(file, folder)
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
                why = still_being_written(file, listed_size)
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


def _known_bytes(store: Store, file: File, by_sha: dict[str, str], result: SyncResult) -> bool:
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
    file.columns, file.renamed = old.get("columns"), json.loads(old.get("renamed") or "{}")
    if same == file.key:  # touched: the same bytes, a new modified time
        file.duplicates, file.table_version = int(old["duplicates"]), int(old["table_version"])
        result.files_unchanged += 1
    else:
        file.duplicates = file.rows
        result.files_redelivered += 1
        result.duplicates += file.rows
    plan_batch(store, [file], None, result)
    return True


def _flush(
    store: Store, batch: list[File], options: Mapping[str, Any], result: SyncResult
) -> set[Any]:
    """Parse and commit one batch of staged files; the event dates it touched."""
    if not batch:
        return set()
    events = parse_batch(store, batch, options)
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
    plan_batch(store, batch, events, result)
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
    with lock(uri, 0):
        store = Store(new, dest_storage_options)
        files = []
        for record in records:
            path = str(record.get("path") or record["name"])
            file = File(Source(fs, path, path), redact(path), int(record.get("size") or 0),
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
        everything = File(Source(fs, old, old), f"bextoolkit-migrate:{redact(old)}", 0, None)
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
