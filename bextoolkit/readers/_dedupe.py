"""Event identity: which rows are the same event delivered twice (shared by readers and sync).

By default two rows are the same event only when they come from different files and
agree on every column both files carry (overlapping deliveries, domain.md 6b): identical
rows inside one file are kept (two real opens in one minute), and a row that appears k
times in each of two overlapping files is kept k times. A missing value agrees only with
a missing value: a shared column empty in one file and filled in the other makes two
events, as it does between two files of one column set (losing an event to a guess is
worse than showing a duplicate, and the rule stays a hash, exact and fast).
:func:`row_keys` gives each row a 64-bit hash of all its values (stable across runs and
across category/string dtypes); :func:`cross_file_duplicates` applies the rule among files
of one column set, :func:`cross_shape_duplicates` between column sets (on the columns
both carry, widest set first). ``eventId`` decides alone
only when the user asks (``dedupe="eventId"``, :func:`duplicate_ids`).

Hashing a million string ids through a hash table costs about a quarter of parsing the
whole file. Event ids are usually fixed-width (UUIDs), so this hashes the raw bytes as
64-bit words with numpy, finds repeated hashes with an integer hash table, and checks
only the rows whose hash repeats by their exact text: the result is exact, hash
collisions cannot drop an event. Other ids fall back to Arrow's dictionary encoding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

_MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)


def duplicate_ids(ids: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """(rows whose id already appeared in an earlier row, rows that have an id).

    Examples
    --------
    >>> dup, has = duplicate_ids(pa.chunked_array([["a", "b", None, "a"]]))
    >>> dup.tolist(), has.tolist()
    ([False, False, False, True], [True, True, False, True])
    """
    hashes = []
    for chunk in ids.chunks:
        hashed_chunk = _fixed_width_hash(chunk)
        if hashed_chunk is None:
            return _by_dictionary(ids)
        hashes.append(hashed_chunk)
    if not hashes:
        return _by_dictionary(ids)
    hashed = np.concatenate(hashes) if len(hashes) > 1 else hashes[0]
    has_id = np.ones(len(hashed), dtype=np.bool_)
    candidates = pd.Series(hashed).duplicated(keep=False).to_numpy()
    dup = np.zeros(len(hashed), dtype=np.bool_)
    if candidates.any():  # exact check among rows whose hash repeats
        rows = np.flatnonzero(candidates)
        subset = ids.take(pa.array(rows))
        dup[rows] = _by_dictionary(subset)[0]
    return dup, has_id


def _by_dictionary(ids: pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    encoded = pc.dictionary_encode(ids)  # one dictionary over all chunks
    codes = np.concatenate(
        [pc.fill_null(c.indices, -1).to_numpy(zero_copy_only=False) for c in encoded.chunks]
        or [np.array([], dtype=np.int32)]
    )
    has_id = codes >= 0
    return pd.Series(codes).duplicated().to_numpy() & has_id, has_id


def _fixed_width_hash(chunk: pa.Array) -> np.ndarray | None:
    """A 64-bit hash per value if every value has the same byte length and none is null."""
    if chunk.null_count or not (
        pa.types.is_string(chunk.type) or pa.types.is_large_string(chunk.type)
    ):
        return None
    n = len(chunk)
    if n == 0:
        return np.zeros(0, dtype=np.uint64)
    offset_type = np.int64 if pa.types.is_large_string(chunk.type) else np.int32
    _, offsets_buf, data_buf = chunk.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=offset_type)[chunk.offset : chunk.offset + n + 1]
    width = int(offsets[1] - offsets[0])
    if (
        width == 0
        or int(offsets[-1] - offsets[0]) != width * n
        or np.any(np.diff(offsets) != width)
    ):
        return None
    data = np.frombuffer(data_buf, dtype=np.uint8)[int(offsets[0]) : int(offsets[-1])]
    rows = data.reshape(n, width)
    full = width // 8
    value = np.full(n, np.uint64(width), dtype=np.uint64)
    columns = [rows[:, : full * 8].view(np.uint64)[:, i] for i in range(full)]
    if width % 8:
        tail = np.zeros((n, 8), dtype=np.uint8)
        tail[:, : width % 8] = rows[:, full * 8 :]
        columns.append(tail.view(np.uint64)[:, 0])
    with np.errstate(over="ignore"):
        for word in columns:
            value = (value ^ word) * _MULTIPLIER
            value ^= value >> np.uint64(29)
    return value


#: The hash of a missing value in :func:`row_keys` (pandas' own, distinct from "").
_NULL_HASH = np.uint64(np.iinfo(np.uint64).max)


def row_keys(table: pa.Table) -> np.ndarray:
    """A ``uint64`` hash per row over every column's value.

    Equal rows give equal keys whatever the column order or whether a text column is a
    category or a string; timestamps are hashed as instants, so the display time zone does
    not matter. A missing value counts as if its column were absent (so rows read before
    a database column was added to the export still match), and differs from an empty
    string.

    Examples
    --------
    >>> t = pa.table({"a": ["x", "x", "y", None], "b": [1, 1, 1, 1]})
    >>> k = row_keys(t)
    >>> empty = row_keys(pa.table({"a": [""], "b": [1]}))[0]
    >>> bool(k[0] == k[1]), bool(k[0] == k[2]), bool(k[3] == empty)
    (True, False, False)
    >>> wider = row_keys(pa.table({"b": [1], "a": ["x"], "c": pa.array([None], pa.string())}))
    >>> bool(wider[0] == k[0])
    True
    """
    keys = np.zeros(table.num_rows, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for name in table.column_names:  # each column adds its part: the order is free
            cells = _column_hash(table[name])
            part = (cells ^ pd.util.hash_array(np.array([name], dtype=object))[0]) * _MULTIPLIER
            part ^= part >> np.uint64(29)
            keys += np.where(cells == _NULL_HASH, np.uint64(0), part)
        keys = (keys ^ (keys >> np.uint64(31))) * _MULTIPLIER
    return keys


def _column_hash(column: pa.ChunkedArray) -> np.ndarray:
    if column.num_chunks == 0:
        return np.zeros(0, dtype=np.uint64)
    if pa.types.is_dictionary(column.type):
        parts = [_dictionary_hash(chunk) for chunk in column.chunks]
        return np.concatenate(parts)
    if pa.types.is_timestamp(column.type) or pa.types.is_integer(column.type):
        ints = pc.cast(column, pa.int64()) if not pa.types.is_integer(column.type) else column
        values = pc.fill_null(ints, 0).to_numpy()
        hashed = pd.util.hash_array(values.astype(np.int64, copy=False))
    else:
        values = pc.cast(column, pa.large_string()).to_numpy(zero_copy_only=False)
        return pd.util.hash_array(values.astype(object, copy=False))
    if column.null_count:
        hashed[pc.is_null(column).to_numpy(zero_copy_only=False)] = _NULL_HASH
    return hashed


def _dictionary_hash(chunk: pa.DictionaryArray) -> np.ndarray:
    words = pd.util.hash_array(np.asarray(chunk.dictionary.to_pylist(), dtype=object))
    words = np.append(words, _NULL_HASH)  # index -1: missing
    indices = pc.fill_null(chunk.indices, -1).to_numpy(zero_copy_only=False)
    return words[indices]


def cross_file_duplicates(keys: np.ndarray, files: np.ndarray) -> np.ndarray:
    """Rows to drop: copies of an event that an earlier file already delivered.

    For each key, a file's rows are kept past the number of copies an earlier file
    (lower ``files`` value) already had: the result keeps, per key, the largest count
    any single file has, and never drops a row repeated inside one file.

    Parameters
    ----------
    keys : ndarray of uint64
        :func:`row_keys` of the rows.
    files : ndarray of int
        The file each row comes from, in reading order.

    Examples
    --------
    >>> keys = np.array([7, 7, 7, 7, 7, 9], dtype=np.uint64)
    >>> files = np.array([0, 0, 1, 1, 1, 1])
    >>> cross_file_duplicates(keys, files).tolist()
    [False, False, True, True, False, False]
    """
    n = len(keys)
    drop = np.zeros(n, dtype=np.bool_)
    if n == 0 or len(np.unique(files)) < 2:
        return drop
    order = np.lexsort((np.arange(n), files, keys))
    k, f = keys[order], files[order]
    new_key = np.r_[True, k[1:] != k[:-1]]
    new_group = new_key | np.r_[True, f[1:] != f[:-1]]
    starts = np.flatnonzero(new_group)  # groups: one (key, file) each, in order
    group = np.cumsum(new_group) - 1
    copy_number = np.arange(n) - starts[group]
    sizes = np.diff(np.r_[starts, n])
    # the largest size among the earlier files' groups of the same key: a running maximum
    # that restarts at each key (each key is lifted above every size of the keys before)
    key = np.cumsum(new_key)[starts] - 1
    lift = key * (int(sizes.max()) + 1)
    running = np.maximum.accumulate(sizes + lift) - lift
    earlier = np.r_[0, running[:-1]]
    earlier[new_key[starts]] = 0
    drop[order] = copy_number < earlier[group]
    return drop


def cross_shape_duplicates(
    table: pa.Table,
    shapes: np.ndarray,
    columns: Sequence[Sequence[str]],
    dropped: np.ndarray,
    *,
    stored: np.ndarray | None = None,
) -> np.ndarray:
    """More rows to drop: events a file of another column set already delivered.

    Two rows of files with different columns are the same event when they agree on every
    column both files carry (a missing value agrees only with a missing value, as inside
    one column set). Column sets are taken widest first, so the copy that carries more
    columns is the one kept; per event, as many copies are kept as the column set with
    the most has. Rows of one column set were already compared by
    :func:`cross_file_duplicates` (``dropped``).

    Parameters
    ----------
    table : pyarrow.Table
        The rows, with every column of every set (absent ones as nulls).
    shapes : ndarray of int
        Each row's column set: a position in ``columns``.
    columns : sequence of sequences of str
        The columns each set carries.
    dropped : ndarray of bool
        Rows already dropped; they hold no event.
    stored : ndarray of bool, optional
        Rows that stay whatever this finds (a store's rows): taken before all others.

    Returns
    -------
    ndarray of bool
        The rows to drop besides ``dropped``.

    Examples
    --------
    The same open in a file without and a file with a database column ``City``:

    >>> t = pa.table({"id": ["1", "2", "1", "3"], "City": [None, None, "Berlin", None]})
    >>> shapes = np.array([0, 0, 1, 1])
    >>> cross_shape_duplicates(t, shapes, [["id"], ["id", "City"]], np.zeros(4, bool)).tolist()
    [True, False, False, False]
    """
    n = table.num_rows
    stored = np.zeros(n, dtype=np.bool_) if stored is None else stored
    kept = ~dropped
    drop = np.zeros(n, dtype=np.bool_)
    # Rows can only be one event at the same instant: hash only rows whose time the other
    # set also has (overlapping files share an hour or two, not their whole span).
    times = None
    if "timestamp" in table.column_names:
        times = pc.fill_null(pc.cast(table["timestamp"], pa.int64()), -1).to_numpy()
    widest = sorted(range(len(columns)), key=lambda s: (-len(columns[s]), s))
    done: list[tuple[int, np.ndarray]] = [(s, stored & (shapes == s)) for s in widest]
    for shape in widest:
        mine = kept & ~stored & (shapes == shape)
        carried = set(columns[shape])
        for other, theirs in done:
            shared = [c for c in columns[other] if c in carried]
            if other == shape or not shared or not mine.any():
                continue
            theirs = theirs & kept
            if times is not None and "timestamp" in shared:
                theirs = theirs & np.isin(times, times[mine])
            if not theirs.any():
                continue
            have = pd.Series(row_keys(table.select(shared).filter(pa.array(theirs)))).value_counts()
            rows = np.flatnonzero(mine)
            if times is not None and "timestamp" in shared:
                rows = rows[np.isin(times[rows], times[theirs])]
            keys = row_keys(table.select(shared).take(pa.array(rows)))
            rank = pd.Series(keys).groupby(keys).cumcount().to_numpy()
            covered = rank < have.reindex(keys, fill_value=0).to_numpy()
            drop[rows[covered]] = True
            kept[rows[covered]] = False
            mine[rows[covered]] = False
        done.append((shape, mine.copy()))
    return drop
