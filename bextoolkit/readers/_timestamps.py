"""Vectorised parsing of export timestamps into tz-aware Arrow timestamps.

The timestamp format of BEX files is not documented (domain.md, section 5); the shapes
seen in sibling exports are ISO 8601 (with or without an offset, ``Z`` or a fraction),
``MM/DD/YYYY HH:MM:SS`` and ``MM/DD/YY hh:mm AM/PM`` (sometimes with a 24-hour clock
before the AM/PM). Every shape is parsed by Arrow compute kernels, never row by row.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit.exceptions import BexConfigError

#: The timestamp unit of the events frame.
UNIT = "us"

_ISO = re.compile(r"^\s*\d{4}-\d{2}-\d{2}")
_US = re.compile(r"^\s*\d{1,2}/\d{1,2}/(\d{2,4})")
_AMPM = re.compile(r"[AaPp]\.?[Mm]\.?\s*$")
_OFFSET_REGEX = r"(?:[Zz]|[+-]\d{2}(?::?\d{2})?)\s*$"
_OFFSET = re.compile(r"T?\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?" + _OFFSET_REGEX)
_US_FORMATS = (
    "%m/%d/%Y %H:%M:%S",
    "%m/%d/%y %H:%M:%S",
    "%m/%d/%Y %H:%M",
    "%m/%d/%y %H:%M",
    "%m/%d/%Y",
    "%m/%d/%y",
)
_HOUR = 3_600 * {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}[UNIT]  # in UNIT


def resolve_tz(tz: str | None, env: Mapping[str, str] = os.environ) -> tuple[str, bool]:
    """The zone naive timestamps are read in, and whether the user chose it.

    ``tz=`` wins, then the ``BEX_TZ`` environment variable; otherwise UTC, a guess the
    reader reports (``attrs["tz_assumed"]``) when the files carry naive times.

    Examples
    --------
    >>> resolve_tz(None, env={}), resolve_tz(None, env={"BEX_TZ": "Europe/Berlin"})
    (('UTC', False), ('Europe/Berlin', True))
    """
    if tz is None and env.get("BEX_TZ"):
        return check_tz(env["BEX_TZ"]), True
    return (check_tz(tz), True) if tz is not None else ("UTC", False)


def check_tz(tz: str) -> str:
    """Return ``tz`` if it names an IANA time zone, else raise :class:`BexConfigError`."""
    try:
        ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise BexConfigError(
            f"tz={tz!r} is not a time zone name; pass an IANA name such as 'UTC' or "
            "'America/New_York'"
        ) from exc
    return tz


def parse_timestamps(
    values: pa.ChunkedArray | pa.Array, tz: str
) -> tuple[pa.Array, np.ndarray, bool]:
    """Parse timestamp strings into ``timestamp[us, tz]``.

    Parameters
    ----------
    values : pyarrow string array
        The raw cells; nulls stay null.
    tz : str
        Time zone for values without an offset, and of the result.

    Returns
    -------
    parsed : pyarrow.Array
        ``timestamp[us, tz]``, null where the cell was empty or did not parse.
    bad : numpy.ndarray
        Positions of non-empty cells that did not parse (empty when all did).
    naive : bool
        Whether any value had no UTC offset (and was therefore read in ``tz``).

    Examples
    --------
    >>> import pyarrow as pa
    >>> ts, bad, naive = parse_timestamps(pa.array(["2026-11-01T01:00:00Z", None]), "UTC")
    >>> str(ts[0]), ts[1].is_valid, len(bad), naive
    ('2026-11-01 01:00:00+00:00', False, 0, False)
    >>> parse_timestamps(pa.array(["11/01/2026 01:00:00"]), "Europe/Berlin")[0][0]
    <pyarrow.TimestampScalar: '2026-11-01T01:00:00.000000+0100'>
    """
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    arr = arr.cast(pa.string())
    target = pa.timestamp(UNIT, tz=tz)
    valid = arr.drop_null()
    if len(valid) == 0:
        return pa.nulls(len(arr), target), np.array([], dtype=np.int64), False
    sample = valid[0].as_py()
    us = _US.match(sample)
    naive = True
    if us:
        short_year = len(us.group(1)) == 2
        fast = _parse_us_as_first(arr, sample, short_year=short_year)
        parsed = (
            _localize(fast, tz) if fast is not None else _parse_us(arr, tz, short_year=short_year)
        )
    elif _ISO.match(sample):
        parsed, naive = _parse_iso(arr, tz, offset_first=bool(_OFFSET.search(sample)))
    else:
        parsed = pa.nulls(len(arr), target)
    parsed = parsed.cast(target)
    failed = pc.and_(pc.is_valid(arr), pc.is_null(parsed))
    bad = np.flatnonzero(failed.to_numpy(zero_copy_only=False))
    return parsed, bad, naive


def _parse_iso(arr: pa.Array, tz: str, *, offset_first: bool) -> tuple[pa.Array, bool]:
    """ISO 8601: all with offsets, all naive, or a mix (split by a regex mask).

    The cast the first value suggests is tried first: a cast that fails does so only
    after parsing most of the column (about 1.4 s per 300k rows, perf-notes.md).
    """
    aware, naive = pa.timestamp(UNIT, tz="UTC"), pa.timestamp(UNIT)
    for target in (aware, naive) if offset_first else (naive, aware):
        try:
            cast = arr.cast(target)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
        return (cast, False) if target == aware else (_localize(cast, tz), True)
    trimmed = pc.utf8_trim_whitespace(arr)
    has_offset = pc.fill_null(pc.match_substring_regex(trimmed, _OFFSET_REGEX), False)
    aware = _cast_or_null(pc.if_else(has_offset, trimmed, None), pa.timestamp(UNIT, tz="UTC"))
    naive = _cast_or_null(pc.if_else(has_offset, None, trimmed), pa.timestamp(UNIT))
    mixed = pc.if_else(has_offset, aware, _localize(naive, tz).cast(pa.timestamp(UNIT, "UTC")))
    return mixed, not pc.all(has_offset).as_py()


def _cast_or_null(arr: pa.Array, target: pa.DataType) -> pa.Array:
    """Cast element-wise, null where a cell does not parse (slow path, mixed files only)."""
    try:
        return arr.cast(target)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        out = []
        for value in arr.to_pylist():
            try:
                out.append(pa.scalar(value).cast(target).value if value is not None else None)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                out.append(None)
        return pa.array(out, pa.int64()).cast(target)


def _parse_us_as_first(arr: pa.Array, sample: str, *, short_year: bool) -> pa.Array | None:
    """Every cell parsed with the one format the first cell has (``%I:%M %p`` for AM/PM),
    or None when any cell does not fit it (then :func:`_parse_us` takes every mix).

    One ``strptime`` pass where :func:`_parse_us` trims, matches and edits every cell first:
    a file whose cells share one shape (as an export's do) parses about twice as fast.
    """
    ampm = bool(_AMPM.search(sample))
    for fmt in _US_FORMATS:
        if ("%y" in fmt) != short_year or (ampm and "%H" not in fmt):
            continue
        fmt = fmt.replace("%H", "%I") + " %p" if ampm else fmt
        if pc.strptime(pa.array([sample]), format=fmt, unit=UNIT, error_is_null=True)[0].is_valid:
            parsed = pc.strptime(arr, format=fmt, unit=UNIT, error_is_null=True)
            return parsed if parsed.null_count == arr.null_count else None
    return None


def _parse_us(arr: pa.Array, tz: str, *, short_year: bool) -> pa.Array:
    """US dates with a 24-hour clock, or hh:mm with AM/PM (a 24-hour hour before AM/PM too)."""
    trimmed = pc.utf8_trim_whitespace(arr)
    is_ampm = pc.fill_null(pc.match_substring_regex(trimmed, _AMPM.pattern), False)
    any_ampm = pc.any(is_ampm).as_py()
    if any_ampm:
        is_pm = pc.fill_null(pc.match_substring_regex(trimmed, r"[Pp]\.?[Mm]\.?\s*$"), False)
        trimmed = pc.utf8_trim_whitespace(pc.replace_substring_regex(trimmed, _AMPM.pattern, ""))
    best: pa.Array | None = None
    best_nulls = len(arr) + 1
    for fmt in _US_FORMATS:
        if ("%y" in fmt) != short_year:
            continue
        parsed = pc.strptime(trimmed, format=fmt, unit=UNIT, error_is_null=True)
        nulls = parsed.null_count
        if nulls < best_nulls:
            best, best_nulls = parsed, nulls
        if nulls == trimmed.null_count:
            break
    assert best is not None
    if any_ampm:
        hours = pc.hour(best)
        ns = best.cast(pa.int64())
        add = pc.and_(is_pm, pc.less(hours, 12))
        sub = pc.and_(pc.and_(is_ampm, pc.invert(is_pm)), pc.equal(hours, 12))
        ns = pc.add(ns, pc.multiply(add.cast(pa.int64()), 12 * _HOUR))
        ns = pc.subtract(ns, pc.multiply(sub.cast(pa.int64()), 12 * _HOUR))
        best = ns.cast(pa.timestamp(UNIT))
    return _localize(best, tz)


def _localize(naive: pa.Array, tz: str) -> pa.Array:
    """Read naive wall-clock times in ``tz`` (ambiguous and skipped times take the earliest)."""
    if tz == "UTC":
        return naive.cast(pa.timestamp(UNIT, tz="UTC"))
    return pc.assume_timezone(naive, timezone=tz, ambiguous="earliest", nonexistent="earliest")
