"""Private helpers of :mod:`.files`: the ``eventType`` column, on Arrow dictionaries.

Work is done once on the column's dictionary (a handful of distinct values, shared by
every chunk: :func:`one_dictionary`), then applied to the integer indices with ``take``:
no per-row Python, nor per-chunk Python for a file's hundred parse blocks.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.readers._parsing import CATEGORY

_CANONICAL = {code.lower(): code for code in schema.EVENT_CODES}

#: Raw event value (trimmed, lower-cased) -> (eventType, bounceType implied by it).
Vocabulary = Mapping[str, tuple[str, str | None]]

#: The built-in spellings: the event codes themselves and the RRDE words.
VOCABULARY: Vocabulary = {
    **{key: (code, None) for key, code in _CANONICAL.items()},
    **schema.RRDE_EVENT_TYPES,
}


def vocabulary(event_types_map: Mapping[str, str] | None = None) -> Vocabulary:
    """The built-in spellings plus ``event_types_map`` (raw value -> event type or spelling).

    Examples
    --------
    >>> vocab = vocabulary({"Bounced (soft)": "Soft Bounce", "Complaint": "emailComplaint"})
    >>> vocab["bounced (soft)"], vocab["complaint"]
    (('emailBounce', 'Soft'), ('emailComplaint', None))
    """
    merged = dict(VOCABULARY)
    for raw, target in (event_types_map or {}).items():
        key = str(target).strip().lower()
        if key not in VOCABULARY:
            raise BexConfigError(
                f"event_types_map[{raw!r}] = {target!r} is not an event type; map to one of "
                f"{', '.join(schema.EVENT_CODES)} or to a known spelling such as 'Soft Bounce'"
            )
        merged[str(raw).strip().lower()] = VOCABULARY[key]
    return merged


def canonical_event(value: str, vocab: Vocabulary = VOCABULARY) -> tuple[str, str | None]:
    """One raw event value -> (eventType, bounceType implied by it, or None).

    Unknown values come back trimmed, as they are.

    Examples
    --------
    >>> canonical_event(" EmailOpen ")
    ('emailOpen', None)
    >>> canonical_event("Soft Bounce ")
    ('emailBounce', 'Soft')
    >>> canonical_event("Click Through")
    ('emailClick', None)
    >>> canonical_event("Reply Abuse")
    ('emailComplaint', None)
    >>> canonical_event("Forwarded")
    ('Forwarded', None)
    """
    return vocab.get(value.strip().lower(), (value.strip(), None))


def canonical_names(event_types: Iterable[str]) -> list[str]:
    """User-given event types (any case, RRDE words too) -> canonical codes."""
    return [canonical_event(e)[0] for e in event_types]


def one_dictionary(column: pa.ChunkedArray) -> pa.ChunkedArray:
    """``column`` as dictionary chunks that all share one dictionary (values in order of
    first appearance), so each distinct value is looked at once."""
    if not pa.types.is_dictionary(column.type):
        column = column.dictionary_encode()
    return column.unify_dictionaries()


def _words(column: pa.ChunkedArray) -> list[str | None]:
    """The shared dictionary of a :func:`one_dictionary` column, as Python values."""
    return column.chunk(0).dictionary.to_pylist() if column.num_chunks else []


def unknown_values(column: pa.ChunkedArray, vocab: Vocabulary) -> dict[str, int]:
    """Rows per value of ``column`` that ``vocab`` does not know (missing values aside)."""
    column = one_dictionary(column)
    words = _words(column)
    unknown = [
        (i, w.strip())
        for i, w in enumerate(words)
        if w is not None and w.strip().lower() not in vocab
    ]
    if not unknown:
        return {}
    indices = pa.chunked_array([c.indices for c in column.chunks], type=column.type.index_type)
    per_word = np.bincount(pc.drop_null(indices).to_numpy(), minlength=len(words))
    counts: dict[str, int] = {}
    for i, word in unknown:
        if per_word[i]:
            counts[word] = counts.get(word, 0) + int(per_word[i])
    return counts


def has_vocabulary(column: pa.ChunkedArray) -> bool:
    """True if any value of ``column`` is an emailXxx event code (any case)."""
    words = _words(one_dictionary(column))
    return any(v is not None and v.strip().lower() in _CANONICAL for v in words)


def recode(column: pa.ChunkedArray, func: Callable[[str], str | None]) -> pa.ChunkedArray:
    """Map every distinct value through ``func`` (None -> null); result is a dictionary array."""
    column = one_dictionary(column)
    mapped = [func(v) if v is not None else None for v in _words(column)]
    uniq = list(dict.fromkeys(m for m in mapped if m is not None))
    position = {value: i for i, value in enumerate(uniq)}
    remap = pa.array([position.get(m) if m is not None else None for m in mapped], pa.int32())
    values = pa.array(uniq, pa.string())
    chunks = [
        pa.DictionaryArray.from_arrays(pc.take(remap, chunk.indices.cast(pa.int32())), values)
        for chunk in column.chunks
    ]
    return pa.chunked_array(chunks, type=CATEGORY)


def constant(value: str, length: int) -> pa.ChunkedArray:
    """A dictionary column holding ``value`` on every row."""
    indices = pa.array(np.zeros(length, dtype=np.int32))
    return pa.chunked_array(
        [pa.DictionaryArray.from_arrays(indices, pa.array([value], pa.string()))], type=CATEGORY
    )


def keep_mask(column: pa.ChunkedArray, wanted: set[str]) -> pa.ChunkedArray:
    """Boolean mask: rows whose (dictionary) value is in ``wanted``; nulls are dropped."""
    column = one_dictionary(column)
    keep = pa.array([v in wanted for v in _words(column)], pa.bool_())
    chunks = [pc.fill_null(pc.take(keep, chunk.indices), False) for chunk in column.chunks]
    return pa.chunked_array(chunks, type=pa.bool_())
