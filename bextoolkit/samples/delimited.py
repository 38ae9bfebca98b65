"""Delimited text written fast with Arrow compute (private; used by samples and the sandbox).

Fields follow :mod:`csv` ``QUOTE_MINIMAL`` rules (quoted only when they hold the
delimiter, a double quote or a line break; quotes doubled), missing values are empty
cells, lines end with ``\\n``. Categorical columns are quoted once per category, text
columns are scanned once for special bytes, and rows are joined by Arrow in batches: no
Python loop per row.
"""

from __future__ import annotations

import functools
import gzip
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc


def join_strings(
    *parts: pa.Array | str, sep: str = "", type: pa.DataType | None = None, **options: Any
) -> pa.Array:
    """Arrow's element-wise string join, with plain ``str`` parts taken as constants.

    ``type`` is the string type of the arrays (default ``large_string``).
    """
    type = type or pa.large_string()
    texts = [pa.scalar(p, type) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*texts, pa.scalar(sep, type), **options)


_ROWS_PER_BATCH = 250_000
_LINE_END = "\n"
TIMESTAMP_FORMATS = ("iso", "us")
_MS_SUFFIX_ISO = pa.array([f".{i:03d}Z" for i in range(1000)], type=pa.string())


def _quote(text: str, delimiter: str) -> str:
    """One field with :mod:`csv` ``QUOTE_MINIMAL`` semantics."""
    if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _quote_array(values: pa.Array, delimiter: str) -> pa.Array:
    """Quote the values holding the delimiter, a double quote or a line break."""
    values = values.cast(pa.string())
    specials = np.frombuffer((delimiter + '"\r\n').encode(), np.uint8)
    data = values.buffers()[2]
    if data is None or not np.isin(np.frombuffer(data, np.uint8), specials).any():
        return values  # the common case: one pass over the bytes, nothing to quote
    needs = pc.match_substring_regex(values, "[" + "".join(f"\\x{b:02x}" for b in specials) + "]")
    quoted = join_strings('"', pc.replace_substring(values, '"', '""'), '"', type=pa.string())
    return pc.if_else(needs, quoted, values)


@functools.cache
def _times_of_day() -> pa.Array:
    """``HH:MM:SS`` for every second of a day, built once."""
    return pa.array(
        [f"{h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)],
        type=pa.string(),
    )


def _format_timestamps(values: pd.Series, timestamp_format: str) -> pa.Array:
    """Timestamps as ISO 8601 with milliseconds and ``Z``, or US ``MM/DD/YYYY HH:MM:SS``.

    Dates are formatted once per distinct day and times of day come from a table, so the
    cost per row is a few array lookups.
    """
    if values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = naive.isna().to_numpy()
    ms = naive.to_numpy("datetime64[ms]").astype(np.int64)
    ms[missing] = 0
    seconds = ms // 1000
    days, inverse = np.unique(seconds // 86_400, return_inverse=True)
    pattern, glue = ("%Y-%m-%d", "T") if timestamp_format == "iso" else ("%m/%d/%Y", " ")
    dates = pc.strftime(pa.array(days * 86_400, type=pa.timestamp("s", "UTC")), pattern)
    parts = [
        dates.cast(pa.string()).take(pa.array(inverse, mask=missing)),
        _times_of_day().take(pa.array(seconds % 86_400)),
    ]
    if timestamp_format == "iso":
        parts.append(_MS_SUFFIX_ISO.take(pa.array(ms % 1000)))
    return (
        join_strings(*parts, sep="", type=pa.string())
        if glue == ""
        else join_strings(
            parts[0], join_strings(*parts[1:], type=pa.string()), sep=glue, type=pa.string()
        )
    )


def _column_text(
    values: pd.Series | None, n: int, delimiter: str, timestamp_format: str
) -> pa.Array:
    """One column as quoted Arrow text (missing stays null, written as an empty cell)."""
    if values is None:
        return pa.nulls(n, type=pa.string())
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [_quote(str(c), delimiter) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        return pa.array(cats, type=pa.string()).take(pa.array(codes, mask=codes < 0))
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _format_timestamps(values, timestamp_format)
    return _quote_array(pa.array(values.astype(pd.StringDtype()).array), delimiter)


def encode_rows(
    frame: pd.DataFrame, columns: Sequence[str], delimiter: str, timestamp_format: str
) -> Iterator[memoryview]:
    """The rows of ``frame`` as delimited UTF-8 lines, in batches."""
    for begin in range(0, len(frame), _ROWS_PER_BATCH):
        part = frame.iloc[begin : begin + _ROWS_PER_BATCH]
        texts = [
            _column_text(part[c] if c in part.columns else None, len(part), delimiter,
                         timestamp_format)
            for c in columns
        ]  # fmt: skip
        texts[-1] = join_strings(pc.fill_null(texts[-1], ""), _LINE_END, type=pa.string())
        lines = join_strings(
            *texts, sep=delimiter, type=pa.string(), null_handling="replace", null_replacement=""
        )
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        offsets = offsets[lines.offset : lines.offset + len(lines) + 1]
        yield memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def header_line(columns: Sequence[str], delimiter: str) -> bytes:
    return (delimiter.join(_quote(c, delimiter) for c in columns) + _LINE_END).encode()


def write_text(
    fs: Any,
    path: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    delimiter: str,
    timestamp_format: str,
    gzipped: bool,
) -> None:
    with fs.open(path, "wb") as raw:
        out = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="")
            if gzipped
            else raw
        )
        try:
            out.write(header_line(columns, delimiter))
            for chunk in encode_rows(frame, columns, delimiter, timestamp_format):
                out.write(chunk)
        finally:
            if gzipped:
                out.close()
