"""The Delta tables a sync writes: their state, event identity across runs, one batch."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit.exceptions import BexFileError
from bextoolkit.readers import read_files
from bextoolkit.readers import store as _store
from bextoolkit.readers._dedupe import cross_file_duplicates, cross_shape_duplicates, row_keys
from bextoolkit.readers._names import CaseRegistry
from bextoolkit.sync._files import File
from bextoolkit.sync._result import SyncResult

log = logging.getLogger(__name__)

#: A date partition with more files than this is compacted (``optimize``) after a sync.
MAX_FILES_PER_DATE = 8
#: The sources table is compacted once it has more files than this.
MAX_SOURCE_FILES = 32


# --- the store's state -------------------------------------------------------------------
class Store:
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
        self.opened_at = self.version

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
    def commit(self, files: list[File], add: pa.Table | None, removals: dict[int, int]) -> None:
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
        old = _rows_of_dates(self, dates)
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
        if self.version != self.opened_at:
            # Readers then replay one Parquet file, not every commit since the last
            # checkpoint: opening a table of 17 commits took 12 ms instead of 24.
            for table in (self.events, sources):
                table.update_incremental()
                table.create_checkpoint()
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


def _source_record(f: File, version: int) -> dict[str, Any]:
    assert f.keys is not None and f.counts is not None
    return {
        "source": f.key, "name": f.source.name, "size": f.size, "mtime": f.mtime,
        "sha256": f.sha256, "rows": f.rows, "duplicates": f.duplicates,
        "skipped_lines": f.skipped_lines, "skipped_reason": f.skipped_reason,
        "table_version": version if f.table_version is None else f.table_version,
        "synced_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "keys": f.keys.view(np.int64), "counts": f.counts, "dates": sorted(f.dates, key=str),
        "mailings": sorted(f.mailings), "columns": f.columns,
        "renamed": json.dumps(f.renamed) if f.renamed else None,
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
def parse_batch(store: Store, files: list[File], options: Mapping[str, Any]) -> pa.Table | None:
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
    # names unique ignoring case across runs too: the table's spelling came first
    store_renames = CaseRegistry(store.columns()).renames(frame.columns)
    if store_renames:
        frame = frame.rename(columns=store_renames)
    order = [by_local[str(i["path"])] for i in attrs.get("files") or []]
    for i, file in enumerate(order):
        info = attrs["files"][i]
        file.batch_index = i
        file.rows = int(info.get("rows") or 0)
        carried, by_reader = info.get("columns") or [], info.get("renamed") or {}
        file.columns = [store_renames.get(c, c) for c in carried]
        file.renamed = {old: store_renames.get(new, new) for old, new in by_reader.items()}
        given = set(by_reader.values())
        clashed = [c for c in carried if c in store_renames and c not in given]
        file.renamed |= {c: store_renames[c] for c in clashed}
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


def plan_batch(
    store: Store, files: list[File], events: pa.Table | None, result: SyncResult
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
        take &= ~covered_by_other_columns(store, files, events, take)
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


def covered_by_other_columns(
    store: Store, files: list[File], events: pa.Table, take: np.ndarray
) -> np.ndarray:
    """Rows of ``take`` that a row of another column set holds already (in the table, or
    earlier in this batch): the readers' identity across column sets
    (:func:`~bextoolkit.readers._dedupe.cross_shape_duplicates`).

    A row's column set is its source file's. Only when the batch and the files synced on
    the same event dates carry more than one set are those dates read back; files synced
    before column sets were recorded count as the batch's own set.
    """
    covered = np.zeros(len(take), dtype=np.bool_)
    by_index = {f.batch_index: f for f in files if f.batch_index >= 0}
    mine = {i: tuple(f.columns) for i, f in by_index.items() if f.columns is not None}
    dates = {d for f in by_index.values() for d in f.dates}
    stored = {
        name: tuple(record["columns"])
        for name, record in store.records.items()
        if record.get("columns") and dates & set(record.get("dates") or ())
        and name not in {f.key for f in files}
    }  # fmt: skip
    kinds = sorted({*mine.values(), *stored.values()}, key=lambda s: (-len(s), s))
    if len(kinds) < 2 or not take.any():
        return covered
    rows = np.flatnonzero(take)
    batch = events.take(pa.array(rows))
    shape = [kinds.index(mine[i]) if i in mine else -1 for i in range(len(files))]
    batch_shapes = np.asarray(shape)[batch.column(_FILE).to_numpy()]
    parts = [batch.drop_columns([_FILE, "__bex_key__"])]
    shapes, held = [batch_shapes], [np.zeros(len(rows), dtype=np.bool_)]
    if stored and store.events is not None:
        old = _rows_of_dates(store, dates)
        keys = event_keys(old, store.columns(parts[0]))
        old_shape = np.full(old.num_rows, -1)
        for name, columns in sorted(stored.items(), key=lambda kv: len(kv[1])):
            old_shape[np.isin(keys, store.keys[name][0])] = kinds.index(columns)
        parts.append(old)
        shapes.append(old_shape)
        held.append(np.ones(old.num_rows, dtype=np.bool_))
    table = pa.concat_tables(parts, promote_options="permissive")
    shape_of = np.concatenate(shapes)
    known = shape_of >= 0
    found = cross_shape_duplicates(
        table.filter(pa.array(known)),
        shape_of[known],
        [list(k) for k in kinds],
        np.zeros(int(known.sum()), dtype=np.bool_),
        stored=np.concatenate(held)[known],
    )
    in_batch = np.zeros(len(shape_of), dtype=np.bool_)
    in_batch[np.flatnonzero(known)] = found
    covered[rows] = in_batch[: len(rows)]
    return covered


def _rows_of_dates(store: Store, dates: set[Any]) -> pa.Table:
    """The table's rows on the event dates ``dates``."""
    expr = _store.ds.field(_store.DATE_COLUMN).isin([d for d in dates if d is not None])
    if None in dates:
        expr = expr | _store.ds.field(_store.DATE_COLUMN).is_null()
    return store.events.to_pyarrow_dataset().to_table(filter=expr)
