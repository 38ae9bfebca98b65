"""Export files -> one events frame: :func:`read_files`, the file reader behind ``read_events``.

CSV, PSV and TSV exports, gzipped or zipped, local or remote, into one typed pandas frame
(see DESIGN.md, "The events frame"). Parsing is done by ``pyarrow.csv`` with explicit
column types, one file at a time (:mod:`._parsing`), timestamps by :mod:`._timestamps`,
event types by :mod:`._event_types`.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from typing import Any, Final, Literal

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from fsspec.implementations.local import LocalFileSystem

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError, BexFileError, BexWarning
from bextoolkit.readers import _event_types as _events
from bextoolkit.readers import _parsing, _unpack
from bextoolkit.readers._dedupe import (
    cross_file_duplicates,
    cross_shape_duplicates,
    duplicate_ids,
    row_keys,
)
from bextoolkit.readers._names import CaseRegistry
from bextoolkit.readers._provenance import provenance
from bextoolkit.readers._sources import Source, UrlPath, expand
from bextoolkit.readers._timestamps import UNIT, parse_timestamps, resolve_tz

log = logging.getLogger(__name__)

__all__ = ["read_files"]

OnBadLines = Literal["error", "warn", "skip"]
#: The dtype of a category column no file filled (categories of the default ``str`` dtype).
_EMPTY_CATEGORY = pd.CategoricalDtype(pd.Index([], dtype="str"))
EVENT_TYPE = schema.EVENT_TYPE_COLUMN


@dataclass
class _Options:
    format: str | None
    tz: str
    tz_given: bool  # False: the zone of naive timestamps is a guess, said in attrs
    columns: list[str] | None
    event_types: set[str] | None
    event_type: str | None
    vocabulary: _events.Vocabulary
    on_bad_lines: str
    encoding: str | None  # None: UTF-8, else Latin-1, decided per file
    dedupe: bool | str = True
    max_uncompressed_bytes: int = _unpack.MAX_UNCOMPRESSED_BYTES

    @property
    def skip_bad(self) -> bool:
        return self.on_bad_lines != "error"


@dataclass
class _FileResult:
    table: pa.Table | None
    info: dict[str, Any]
    skipped: list[dict[str, Any]]
    all_columns: bool = True  # False when ``columns=`` limited what was parsed
    not_export: _unpack.NotAnExportError | None = None  # skipped: another kind of file
    origin: tuple[Source, int] | None = None  # the file and zip member it was read from
    #: The columns the file carries, which event identity compares (not those the reader
    #: made: RRDE's event words kept as ``code``, its implied ``bounceType``).
    carried: list[str] | None = None


def read_files(
    urlpath: UrlPath,
    *,
    storage_options: Mapping[str, Any] | None = None,
    format: str | None = None,
    tz: str | None = None,
    columns: Sequence[str] | None = None,
    event_types: Iterable[str] | None = None,
    event_type: str | None = None,
    event_types_map: Mapping[str, str] | None = None,
    dedupe: bool | str = True,
    on_bad_lines: OnBadLines = "error",
    progress: bool | None = None,
    encoding: str | None = None,
    max_uncompressed_bytes: int = _unpack.MAX_UNCOMPRESSED_BYTES,
) -> pd.DataFrame:
    r"""Read export files (not a synced store, no row filters) into one events frame.

    The file reader behind :func:`bextoolkit.read_events`, which documents every
    parameter; the Dask engine and :func:`bextoolkit.sync` call it directly.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "export.csv").write_text(
    ...     "Email,RECIPIENT_ID,code,timestamp,eventId\n"
    ...     "a@x.com,001,emailOpen,2026-11-02T08:00:00Z,e1\n")
    >>> events = read_files(folder, tz="UTC")
    >>> events[["RECIPIENT_ID", "eventType", "timestamp"]]
      RECIPIENT_ID  eventType                 timestamp
    0          001  emailOpen 2026-11-02 08:00:00+00:00
    """
    opts = _check_options(
        format, tz, columns, event_types, event_type, event_types_map, on_bad_lines, encoding
    )
    opts.dedupe = _check_dedupe(dedupe)
    opts.max_uncompressed_bytes = max_uncompressed_bytes
    sources = expand(urlpath, storage_options)
    results = _read_sources(sources, opts, progress)
    read = [r for r in results if r.table is not None]
    _unique_ignoring_case(read)
    table = _combine([r.table for r in read], opts, read)
    drop: np.ndarray | None = None
    if opts.dedupe == "eventId":
        drop = _event_id_duplicates(table)
    elif opts.dedupe:
        drop = _repeated_across_files(read, opts)
    if drop is not None and drop.any():
        table = table.filter(pa.array(~drop))
    frame = _to_pandas(table, opts.tz)
    del table
    if opts.columns is not None:
        frame = frame[[c for c in frame.columns if c in opts.columns or c == EVENT_TYPE]]
    frame.attrs = provenance(
        files=[r.info for r in results if not r.not_export],
        duplicates_dropped=0 if drop is None else int(drop.sum()),
        skipped_lines=[line for r in results for line in r.skipped],
        format=",".join(sorted({r.info["format"] for r in read if r.info.get("format")})),
        dedupe=_DEDUPE_NAMES[opts.dedupe],
        skipped_files=_skipped_files(results),
        empty_folders=sources.empty_folders,
        unknown_event_types=_unknown_event_types(read),
        tz=opts.tz,
        **_tz_assumed(read, opts),
    )
    return frame


def _skipped_files(results: list[_FileResult]) -> list[dict[str, Any]]:
    """Files of another kind found in a folder or glob: one record each, logged."""
    skipped = [
        {"path": r.info["path"], "kind": r.not_export.kind, "reason": r.not_export.reason}
        for r in results
        if r.not_export is not None
    ]
    for entry in skipped:
        log.info("skipped %s: it looks like %s", entry["path"], entry["kind"])
    return skipped


def _unknown_event_types(read: list[_FileResult]) -> dict[str, int]:
    """Event values no spelling maps (kept as they are), with their rows; warned once."""
    counts: dict[str, int] = {}
    for result in read:
        for value, n in result.info.get("unknown_event_types", {}).items():
            counts[value] = counts.get(value, 0) + n
    if counts:
        listed = ", ".join(f"{v!r} ({n:,} rows)" for v, n in sorted(counts.items()))
        warnings.warn(
            f"unknown event types kept as they are: {listed}. Reports count them only in "
            "event_counts; map them with read_events(..., event_types_map={value: "
            "'emailClick', ...}) if they are known events. Listed in "
            "df.attrs['unknown_event_types'].",
            BexWarning,
            stacklevel=4,
        )
    return counts


def _tz_assumed(read: list[_FileResult], opts: _Options) -> dict[str, str]:
    """``{"tz_assumed": zone}`` and one warning when naive times were read in a guessed zone."""
    if opts.tz_given or not any(r.info.get("naive_timestamps") for r in read):
        return {}
    warnings.warn(
        f"the files' timestamps carry no UTC offset and were read as {opts.tz}, which the "
        "files do not say (the vendor does not document it; some integrations read them in "
        "the API user's time zone). Pass tz='America/New_York' (say), or set BEX_TZ, to "
        "read them in another zone. Recorded in df.attrs['tz_assumed'].",
        BexWarning,
        stacklevel=4,
    )
    return {"tz_assumed": opts.tz}


#: How ``attrs["dedupe"]`` names each ``dedupe=`` choice.
_DEDUPE_NAMES: dict[bool | str, str] = {
    True: "same row in different files",
    "eventId": "same eventId",
    False: "none",
}


def _check_dedupe(dedupe: bool | str) -> bool | str:
    if dedupe in (True, False, "eventId"):
        return dedupe
    raise BexConfigError(
        f"dedupe={dedupe!r}: pass True (default: a row repeated in another file is one "
        "event), 'eventId' (one event per eventId) or False (keep every row)"
    )


def _check_options(
    format: str | None,
    tz: str | None,
    columns: Sequence[str] | None,
    event_types: Iterable[str] | None,
    event_type: str | None,
    event_types_map: Mapping[str, str] | None,
    on_bad_lines: str,
    encoding: str | None,
) -> _Options:
    if format is not None and format.upper() not in schema.FILE_FORMATS:
        raise BexConfigError(f"format={format!r} is not one of {', '.join(schema.FILE_FORMATS)}")
    if on_bad_lines not in ("error", "warn", "skip"):
        raise BexConfigError(
            f"on_bad_lines={on_bad_lines!r}: pass 'error' (default), 'warn' or 'skip'"
        )
    if isinstance(columns, str):
        columns = [columns]
    if isinstance(event_types, str):
        event_types = [event_types]
    vocab = _events.vocabulary(event_types_map)
    wanted = (
        None if event_types is None else {_events.canonical_event(e, vocab)[0] for e in event_types}
    )
    zone, given = resolve_tz(tz)
    return _Options(
        format=format.upper() if format else None,
        tz=zone,
        tz_given=given,
        columns=list(columns) if columns is not None else None,
        event_types=wanted,
        event_type=event_type,
        vocabulary=vocab,
        on_bad_lines=on_bad_lines,
        encoding=encoding,
    )


#: Local files read at once: Arrow's CSV parser and the gzip inflater (isal) release the
#: GIL, so a folder of files parses on every core. Remote files (SFTP, FTP, ...) are read
#: one after the other: one connection, no guess about a server's limits.
READ_THREADS: Final = min(4, os.cpu_count() or 1)


def _read_sources(
    sources: list[Source], opts: _Options, progress: bool | None
) -> list[_FileResult]:
    """Every file's results, in the files' order (so errors and ``attrs`` are as if read one
    by one); local files are read on :data:`READ_THREADS` threads."""
    shown = _progress(sources, progress)
    local = all(isinstance(s.fs, LocalFileSystem) for s in sources)
    if len(sources) < 2 or READ_THREADS < 2 or not local:
        return [r for s in shown for r in _read_source(s, opts)]
    pool = ThreadPoolExecutor(READ_THREADS, thread_name_prefix="bex-read")
    try:
        futures = [pool.submit(_read_source, s, opts) for s in sources]
        return [r for _, future in zip(shown, futures, strict=True) for r in future.result()]
    finally:
        pool.shutdown(cancel_futures=True)  # a file that failed: the rest are not waited for


def _progress(sources: list[Source], progress: bool | None) -> Iterable[Source]:
    show = progress if progress is not None else (len(sources) > 1 and in_notebook())
    if not show:
        return sources
    from tqdm.auto import tqdm

    return tqdm(sources, desc="reading exports", unit="file")


def in_notebook() -> bool:
    """Whether this runs in a Jupyter kernel, where a progress bar is shown by default.

    A kernel has imported IPython already; where nothing has, importing it only to ask
    would cost about 0.1 s of every script's first read of a folder.
    """
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return shell is not None and type(shell).__name__ == "ZMQInteractiveShell"


# --- one file ---------------------------------------------------------------------------


def _read_source(source: Source, opts: _Options) -> list[_FileResult]:
    """One file (or each member of a zip) -> results; files of another kind are skipped."""
    path = source.display
    raw = source.read()
    info: dict[str, Any] = {"path": path, "rows": 0, "bytes": raw.size}
    try:
        if raw.size == 0:
            raise _unpack.DamagedFileError(path, "is empty (0 bytes, no header row)")
        payloads = _unpack.unwrap(
            raw, source.name, path, max_bytes=opts.max_uncompressed_bytes, encoding=opts.encoding
        )
    except _unpack.DamagedFileError as exc:
        return [_damaged(exc, info, opts)]
    several = len(payloads) > 1
    results = []
    for member, payload in enumerate(payloads):
        where = f"{path}::{payload.name}" if several else path
        member_info = {**info, "path": where} if several else info
        try:
            result = _read_payload(payload, where, member_info, opts)
        except _unpack.NotAnExportError as exc:
            if source.named and not several:
                raise
            result = _FileResult(None, member_info, [], not_export=exc)
        except _unpack.DamagedFileError as exc:
            result = _damaged(exc, member_info, opts)
        result.origin = (source, member)
        results.append(result)
    if source.named and all(r.not_export for r in results):
        kinds = sorted({r.not_export.kind for r in results if r.not_export})
        raise BexFileError(path, f"holds no event export, only: {', '.join(kinds)}")
    return results


def _damaged(exc: _unpack.DamagedFileError, info: dict[str, Any], opts: _Options) -> _FileResult:
    """A file damaged in transfer: an error, or a skip recorded with on_bad_lines='skip'."""
    if not opts.skip_bad:
        raise BexFileError(
            exc.path, f"{exc.reason}; pass on_bad_lines='skip' to skip it", line=exc.line
        ) from exc  # the error's path: a zip member where it is one
    entry = {"file": info["path"], "line": None, "reason": exc.reason}
    return _FileResult(None, info, _skip(opts, [entry]))


def _read_payload(
    payload: _unpack.Payload, path: str, info: dict[str, Any], opts: _Options
) -> _FileResult:
    """One export's uncompressed bytes -> a typed Arrow table in events-frame names.

    The bytes are made UTF-8 first (:func:`._unpack.to_utf8`); a file of open encoding
    that turns out not to be UTF-8 is read again as Latin-1, with one warning naming it.
    """
    if not payload.data[:4096].to_pybytes().strip():
        raise _unpack.DamagedFileError(path, "holds no header row (empty after unpacking)")
    _unpack.to_utf8(payload, path, opts.encoding)
    try:
        result: _FileResult | None = _parse_payload(payload, path, info, opts)
    except _parsing.NotUtf8Error:
        _unpack.transcode(payload, path, _unpack.LATIN1)
        result = None
    if opts.encoding is None and payload.encoding in (_unpack.LATIN1, "latin-1"):
        warnings.warn(
            f"{path} is not UTF-8: read as Latin-1 ({payload.encoding}), as "
            "df.attrs['files'][i]['encoding'] says; pass encoding= to choose one for every file",
            BexWarning,
            stacklevel=5,
        )
    return result or _parse_payload(payload, path, info, opts)


def _parse_payload(
    payload: _unpack.Payload, path: str, info: dict[str, Any], opts: _Options
) -> _FileResult:
    header = _parsing.read_header(payload, path, format=opts.format)
    info.update(
        format=header.format,
        kind=header.kind,
        compression=payload.compression,
        encoding=payload.encoding or "utf-8",
    )
    if header.original is not None:
        info["header"] = header.original
    source_col = _event_source(header, opts)
    include = _include(header, opts, source_col)
    table, skipped = _parsing.parse_table(
        payload, header, path, include=include, skip_bad=opts.skip_bad
    )
    table = table.rename_columns([header.frame_name(n) for n in table.column_names])
    table, bad_ts, naive = _with_timestamps(table, payload, header, path, opts)
    if naive:
        info["naive_timestamps"] = True
    table, unknown = _with_event_type(table, header, path, opts, source_col)
    if unknown:
        info["unknown_event_types"] = unknown
    info["rows"] = table.num_rows
    made = {header.frame_name(n) for n in header.names} | {EVENT_TYPE}
    carried = [c for c in table.column_names if c in made]
    if opts.event_types is not None:
        table = table.filter(_events.keep_mask(table[EVENT_TYPE], opts.event_types))
    skipped = _skip(opts, sorted(skipped + bad_ts, key=_line_key))
    return _FileResult(table, info, skipped, all_columns=include is None, carried=carried)


def _unique_ignoring_case(results: list[_FileResult]) -> None:
    """Rename columns that clash with an earlier name only by case (:mod:`._names`); each
    file's ``info`` records its ``columns`` and, where any changed, ``renamed``."""
    registry = CaseRegistry()
    for result in results:
        assert result.table is not None and result.carried is not None
        renamed = registry.renames(result.table.column_names)
        if renamed:
            names = [renamed.get(n, n) for n in result.table.column_names]
            result.table = result.table.rename_columns(names)
            result.carried = [renamed.get(n, n) for n in result.carried]
            result.info["renamed"] = renamed
        result.info["columns"] = result.carried


def _line_key(entry: dict[str, Any]) -> int:
    return entry["line"] or 0


def _skip(opts: _Options, skipped: list[dict[str, Any]]) -> list[dict[str, Any]]:
    if skipped and opts.on_bad_lines == "warn":
        first = skipped[0]
        where = f"line {first['line']}" if first["line"] else "the whole file"
        warnings.warn(
            f"{first['file']}: skipped {len(skipped)} bad line(s), first {where}: "
            f"{first['reason']}; all are listed in df.attrs['skipped_lines']",
            BexWarning,
            stacklevel=4,
        )
    if skipped:
        log.info("%s: skipped %d bad line(s)", skipped[0]["file"], len(skipped))
    for entry in skipped:
        log.debug("skipped %s line %s: %s", entry["file"], entry["line"], entry["reason"])
    return skipped


def _event_source(header: _parsing.Header, opts: _Options) -> str | None:
    """The file column that says each row's event, if any (file names, not frame names)."""
    if opts.event_type is not None and opts.event_type in header.names:
        return opts.event_type
    for name in header.names:
        if name.strip().lower() in _parsing.EVENT_TYPE_NAMES:
            return name
    return None


def _include(header: _parsing.Header, opts: _Options, source_col: str | None) -> list[str] | None:
    """File columns to parse for ``columns=``; None means all of them."""
    if opts.columns is None:
        return None
    frame_names = {header.frame_name(n): n for n in header.names}
    if opts.dedupe == "eventId" and "eventId" not in frame_names:
        return None  # duplicates can then only be told by the full row
    wanted = set(opts.columns) | {"code", "eventId", "timestamp"}
    if header.kind == "RRDE":
        wanted.add("bounceType")
    # ``ContactID_2`` is a ``ContactID`` renamed for its case only after all are read
    renamed = {c.rsplit("_", 1)[0].lower() for c in opts.columns if c.rsplit("_", 1)[-1].isdigit()}
    keep = [
        n
        for n in header.names
        if header.frame_name(n) in wanted or n == source_col or n.lower() in renamed
    ]
    if header.kind == "RRDE" and "bounceType" in wanted:
        keep += [n for n in header.names if header.frame_name(n) == EVENT_TYPE and n not in keep]
    return keep


def _with_timestamps(
    table: pa.Table,
    payload: _unpack.Payload,
    header: _parsing.Header,
    path: str,
    opts: _Options,
) -> tuple[pa.Table, list[dict[str, Any]], bool]:
    """Parse ``timestamp``; also the bad lines and whether values had no UTC offset."""
    if "timestamp" not in table.column_names:
        return table, [], False
    parsed, bad, naive = parse_timestamps(table["timestamp"], opts.tz)
    index = table.column_names.index("timestamp")
    table = table.set_column(index, "timestamp", parsed)
    if len(bad) == 0:
        return table, [], naive
    lines = _parsing.record_lines(payload.data, header)
    value = _raw_cell(payload, header, opts, int(bad[0]))
    line_of = (lambda i: lines[i]) if len(lines) == table.num_rows else (lambda i: None)
    if not opts.skip_bad:
        raise BexFileError(
            path,
            f"timestamp {value!r} is not in a known format (ISO 8601, MM/DD/YYYY HH:MM:SS, "
            "MM/DD/YY hh:mm AM/PM); pass on_bad_lines='skip' to skip such lines",
            line=line_of(int(bad[0])),
        )
    keep = np.ones(table.num_rows, dtype=bool)
    keep[bad] = False
    skipped = [
        {"file": path, "line": line_of(int(i)), "reason": "timestamp not in a known format"}
        for i in bad
    ]
    return table.filter(pa.array(keep)), skipped, naive


def _raw_cell(payload: _unpack.Payload, header: _parsing.Header, opts: _Options, row: int) -> str:
    """The raw ``timestamp`` text of one data row, for an error message."""
    file_name = next(n for n in header.names if header.frame_name(n) == "timestamp")
    table, _ = _parsing.parse_table(payload, header, "", include=[file_name], skip_bad=True)
    value = table.column(0)[row]
    return value.as_py() if value.is_valid else ""


def _with_event_type(
    table: pa.Table, header: _parsing.Header, path: str, opts: _Options, source_col: str | None
) -> tuple[pa.Table, dict[str, int]]:
    """Add the canonical ``eventType`` (and RRDE's implied ``bounceType``) last.

    Also returns the rows per event value the vocabulary does not know. An explicit
    event-type column (RRDE's ``Event Type``) is kept as ``code`` where the file has none,
    so details such as "Reply Mail Block" survive the mapping.
    """
    source_name = header.frame_name(source_col) if source_col else None
    if source_name is not None:
        source = table[source_name]
        if "code" in table.column_names:
            table = table.drop_columns([source_name])
        else:
            table = table.rename_columns(
                ["code" if n == source_name else n for n in table.column_names]
            )
    elif "code" in table.column_names and (
        table.num_rows == 0 or _events.has_vocabulary(table["code"])
    ):
        source = table["code"]
    elif opts.event_type is not None:
        code = _events.canonical_event(opts.event_type, opts.vocabulary)[0]
        return table.append_column(EVENT_TYPE, _events.constant(code, table.num_rows)), {}
    elif table.num_rows == 0:
        return table.append_column(EVENT_TYPE, pa.nulls(0, _parsing.CATEGORY)), {}
    else:
        raise BexFileError(
            path,
            "cannot tell which event each row is: no event-type column (eventType) and no "
            f"'code' values such as {', '.join(schema.EVENT_TYPES)}. Pass "
            "event_type='<column>' naming the column that holds it, or "
            "event_type='emailOpen' (say) if every row of the file is that event",
        )
    vocab = opts.vocabulary
    table = table.append_column(
        EVENT_TYPE, _events.recode(source, lambda v: _events.canonical_event(v, vocab)[0])
    )
    if "bounceType" not in table.column_names and header.kind == "RRDE":
        bounce = _events.recode(source, lambda v: _events.canonical_event(v, vocab)[1])
        table = table.append_column("bounceType", bounce)
    unknown = _events.unknown_values(source, vocab)
    if unknown and sum(unknown.values()) == len(source) - source.null_count:
        raise _all_unknown(path, source_col or "code", unknown)
    return table, unknown


def _all_unknown(path: str, column: str, unknown: dict[str, int]) -> BexFileError:
    """A file none of whose event values is known: coded types, not events of other kinds."""
    values = sorted(unknown, key=lambda v: (-unknown[v], v))
    shown = ", ".join(repr(v) for v in values[:8]) + (", ..." if len(values) > 8 else "")
    example = ", ".join(f"{v!r}: '<event type>'" for v in values[:2])
    return BexFileError(
        path,
        f"no row has a known event type: the {column!r} values are {shown}. Numbers here "
        "mean the export was made with coded types (RRDE's CODED_TYPE_FIELDS option); say "
        f"what each value means with read_events(..., event_types_map={{{example}, ...}}) "
        f"(event types: {', '.join(schema.EVENT_TYPES)}), or export again without codes",
    )


# --- all files -> one frame ----------------------------------------------------------------


def _frame_columns(tables: list[pa.Table], opts: _Options, results: list[_FileResult]) -> list[str]:
    seen: dict[str, None] = {}
    for table in tables:
        seen.update(dict.fromkeys(table.column_names))
    extras = [c for c in seen if c not in schema.BEX_COLUMNS and c != EVENT_TYPE]
    names = [*schema.BEX_COLUMNS, *extras]
    if opts.columns is not None:
        unknown = [c for c in opts.columns if c not in names and c != EVENT_TYPE]
        if unknown and tables:
            raise BexConfigError(
                f"columns= names {unknown}, which no file has; the files have {', '.join(names)}"
            )
        if not any(r.all_columns for r in results if r.table is not None):
            names = [c for c in names if c in opts.columns or c in seen]
    return [*names, EVENT_TYPE]


def _arrow_type(name: str, tz: str) -> pa.DataType:
    if name == "timestamp":
        return pa.timestamp(UNIT, tz=tz)
    return _parsing.column_type(name)


def _as_type(column: pa.ChunkedArray, target: pa.DataType) -> pa.ChunkedArray:
    return column if column.type == target else column.cast(target)


def _combine(tables: list[pa.Table], opts: _Options, results: list[_FileResult]) -> pa.Table:
    """One Arrow table in the frame's column order and types (absent columns as nulls)."""
    names = _frame_columns(tables, opts, results)
    types = {n: _arrow_type(n, opts.tz) for n in names}
    aligned = []
    for table in tables:
        present = set(table.column_names)
        arrays = [
            _as_type(table[n], types[n]) if n in present else pa.nulls(table.num_rows, types[n])
            for n in names
        ]
        aligned.append(pa.Table.from_arrays(arrays, names=names))
    if not aligned:
        aligned = [pa.Table.from_arrays([pa.nulls(0, types[n]) for n in names], names=names)]
    return pa.concat_tables(aligned)


def _to_pandas(table: pa.Table, tz: str) -> pd.DataFrame:
    mapping = {pa.large_string(): pd.StringDtype(), pa.string(): pd.StringDtype()}
    frame = table.to_pandas(types_mapper=mapping.get, split_blocks=True, self_destruct=True)
    for name in frame.columns:  # all-empty category columns come back with object categories
        column = frame[name]
        if isinstance(column.dtype, pd.CategoricalDtype) and len(column.cat.categories) == 0:
            codes = np.full(len(frame), -1, dtype=np.int8)
            frame[name] = pd.Categorical.from_codes(codes, dtype=_EMPTY_CATEGORY)
    return frame


def _event_id_duplicates(table: pa.Table) -> np.ndarray:
    """``dedupe="eventId"``: rows repeating an earlier ``eventId``; rows without one, the
    same full row. Warns when the ids are shared by different recipients or events."""
    if "eventId" not in table.column_names or table["eventId"].null_count == table.num_rows:
        return _full_row_repeats(table, np.ones(table.num_rows, dtype=np.bool_))
    dup, has_id = duplicate_ids(table["eventId"])
    if not has_id.all():
        dup = dup | _full_row_repeats(table, ~has_id)
    if dup.any():
        _warn_if_not_a_key(table, dup)
    return dup


def _full_row_repeats(table: pa.Table, rows: np.ndarray) -> np.ndarray:
    """Among ``rows``, those equal in every column to an earlier one."""
    keys = row_keys(table.filter(pa.array(rows)))
    dup = np.zeros(table.num_rows, dtype=np.bool_)
    dup[np.flatnonzero(rows)] = pd.Series(keys).duplicated().to_numpy()
    return dup


def _warn_if_not_a_key(table: pa.Table, dup: np.ndarray) -> None:
    """Warn when one ``eventId`` stands for rows of different recipients or event types."""
    shared = pc.is_in(table["eventId"], value_set=pc.unique(table["eventId"].filter(dup)))
    rows = table.filter(shared)
    names = [c for c in ("eventId", "RECIPIENT_ID", "Email", EVENT_TYPE) if c in rows.column_names]
    distinct = rows.select(names).group_by(names).aggregate([])
    per_id = distinct.group_by("eventId").aggregate([("eventId", "count")])
    if pc.max(per_id["eventId_count"]).as_py() > 1:
        warnings.warn(
            "eventId is not an event key in these files: one eventId is shared by different "
            "recipients or event types, so dedupe='eventId' dropped distinct events. Use the "
            "default dedupe=True (a row repeated in another file is one event).",
            BexWarning,
            stacklevel=4,
        )


def _repeated_across_files(read: list[_FileResult], opts: _Options) -> np.ndarray | None:
    """The default identity: rows another file already delivered (``_dedupe``'s rule).

    Only files whose time spans overlap can share an event, so the rest cost nothing.
    Files read with only some columns are read again whole to compare every column.
    """
    tables: list[pa.Table] = [r.table for r in read if r.table is not None]
    overlapping = _overlapping([_time_span(t) for t in tables])
    if not overlapping:
        return None
    whole_opts = replace(opts, columns=None, on_bad_lines="skip" if opts.skip_bad else "error")
    results, again = [], []
    for position in overlapping:
        result = read[position]
        if not result.all_columns and result.origin is not None:
            source, member = result.origin
            result = _read_source(source, whole_opts)[member]
            if result.table is None:
                result = replace(result, table=tables[position][:0], carried=[])
            again.append(result)
        results.append(result)
    _unique_ignoring_case(again)  # with columns= every file is read again: named as one
    whole = [r.table for r in results if r.table is not None]
    combined = _combine(whole, whole_opts, [])
    files = np.repeat(np.arange(len(whole)), [t.num_rows for t in whole])
    dropped = cross_file_duplicates(row_keys(combined), files)
    shapes = [tuple(r.carried or ()) for r in results]
    if len(set(shapes)) > 1:  # files of other column sets: compare the columns both carry
        kinds = list(dict.fromkeys(shapes))
        shape_of = np.repeat([kinds.index(s) for s in shapes], [t.num_rows for t in whole])
        dropped |= cross_shape_duplicates(combined, shape_of, kinds, dropped)
    per_file = [np.zeros(t.num_rows, dtype=np.bool_) for t in tables]
    bounds = np.cumsum([0, *(t.num_rows for t in whole)])
    for k, position in enumerate(overlapping):
        per_file[position] = dropped[bounds[k] : bounds[k + 1]]
    return np.concatenate(per_file)


def _time_span(table: pa.Table) -> tuple[int, int] | None:
    """(first, last) timestamp of a file as integers; None: unknown (overlaps anything)."""
    if "timestamp" not in table.column_names or table.num_rows == 0:
        return (0, -1) if table.num_rows == 0 else None
    ts = table["timestamp"]
    if ts.null_count:
        return None
    bounds = pc.min_max(pc.cast(ts, pa.int64()))
    return bounds["min"].as_py(), bounds["max"].as_py()


def _overlapping(spans: list[tuple[int, int] | None]) -> list[int]:
    """Positions of the spans that overlap another span (an unknown span overlaps all)."""
    known = sorted((s[0], s[1], i) for i, s in enumerate(spans) if s is not None and s[0] <= s[1])
    if len(spans) > 1 and None in spans:
        return sorted({i for i, s in enumerate(spans) if s is None} | {i for *_, i in known})
    hits: set[int] = set()
    reach, holder = None, -1  # the latest end so far, and whose it is
    for first, last, i in known:
        if reach is not None and first <= reach:
            hits.update((i, holder))
        if reach is None or last > reach:
            reach, holder = last, i
    return sorted(hits)
