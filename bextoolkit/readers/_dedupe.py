"""Private helper of :mod:`bextoolkit.readers.files`: which rows repeat an earlier ``eventId``.

Hashing a million string ids through a hash table costs about a quarter of parsing the
whole file. Event ids are usually fixed-width (UUIDs), so this hashes the raw bytes as
64-bit words with numpy, finds repeated hashes with an integer hash table, and checks
only the rows whose hash repeats by their exact text: the result is exact, hash
collisions cannot drop an event. Other ids fall back to Arrow's dictionary encoding.
"""

from __future__ import annotations

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
