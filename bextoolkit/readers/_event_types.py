"""Private helpers of :mod:`.files`: the ``eventType`` column, on Arrow dictionaries.

Work is done on each chunk's dictionary (a handful of distinct values), then applied to
the integer indices with one ``take``: no per-row Python.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit import schema
from bextoolkit.readers._parsing import CATEGORY

_CANONICAL = {code.lower(): code for code in schema.EVENT_TYPES}


def canonical_event(value: str) -> tuple[str, str | None]:
    """One raw event value -> (eventType, bounceType implied by it, or None).

    Examples
    --------
    >>> canonical_event(" EmailOpen ")
    ('emailOpen', None)
    >>> canonical_event("Soft Bounce ")
    ('emailBounce', 'Soft')
    >>> canonical_event("Reply Abuse")
    ('Reply Abuse', None)
    """
    key = value.strip().lower()
    if key in _CANONICAL:
        return _CANONICAL[key], None
    if key in schema.RRDE_EVENT_TYPES:
        return schema.RRDE_EVENT_TYPES[key]
    return value.strip(), None


def canonical_names(event_types: Iterable[str]) -> list[str]:
    """User-given event types (any case, RRDE words too) -> canonical codes."""
    return [canonical_event(e)[0] for e in event_types]


def has_vocabulary(column: pa.ChunkedArray) -> bool:
    """True if any value of ``column`` is an emailXxx event code (any case)."""
    return any(v is not None and v.strip().lower() in _CANONICAL for v in _distinct(column))


def recode(column: pa.ChunkedArray, func: Callable[[str], str | None]) -> pa.ChunkedArray:
    """Map every distinct value through ``func`` (None -> null); result is a dictionary array."""
    chunks = []
    for chunk in column.chunks:
        if not pa.types.is_dictionary(chunk.type):
            chunk = chunk.dictionary_encode()
        mapped = [func(v) if v is not None else None for v in chunk.dictionary.to_pylist()]
        uniq = list(dict.fromkeys(m for m in mapped if m is not None))
        position = {value: i for i, value in enumerate(uniq)}
        remap = pa.array([position.get(m) if m is not None else None for m in mapped], pa.int32())
        indices = pc.take(remap, chunk.indices.cast(pa.int32()))
        chunks.append(pa.DictionaryArray.from_arrays(indices, pa.array(uniq, pa.string())))
    return pa.chunked_array(chunks, type=CATEGORY)


def constant(value: str, length: int) -> pa.ChunkedArray:
    """A dictionary column holding ``value`` on every row."""
    indices = pa.array(np.zeros(length, dtype=np.int32))
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(indices, pa.array([value], pa.string()))], type=CATEGORY
    )


def keep_mask(column: pa.ChunkedArray, wanted: set[str]) -> pa.ChunkedArray:
    """Boolean mask: rows whose (dictionary) value is in ``wanted``; nulls are dropped."""
    chunks = []
    for chunk in column.chunks:
        keep = pa.array([v in wanted for v in chunk.dictionary.to_pylist()], pa.bool_())
        chunks.append(pc.fill_null(pc.take(keep, chunk.indices), False))
    return pa.chunked_array(chunks, type=pa.bool_())


def _distinct(column: pa.ChunkedArray) -> list[str | None]:
    values: list[str | None] = []
    for chunk in column.chunks:
        if pa.types.is_dictionary(chunk.type):
            values.extend(chunk.dictionary.to_pylist())
        else:
            values.extend(pc.unique(chunk).to_pylist())
    return values
