"""Private helpers of :mod:`bextoolkit.readers.files`: one export's UTF-8 text -> an Arrow table.

Steps, each a small function (after :mod:`._unpack` has unwrapped and decoded the bytes):
read the header, tell BEX from RRDE and the delimiter, build explicit Arrow column types,
parse with ``pyarrow.csv``, and find the physical line of any bad row.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from bextoolkit import schema
from bextoolkit.exceptions import BexFileError
from bextoolkit.readers._unpack import MAX_LINE_BYTES, NotAnExportError, Payload

#: File extensions that name a format (besides ``.gz`` / ``.zip`` around them).
FORMAT_BY_EXT = {".csv": "CSV", ".psv": "PSV", ".tsv": "TSV", ".txt": None}
#: Header names accepted as an explicit event-type column (compared lower-cased, trimmed).
EVENT_TYPE_NAMES = ("eventtype", "event_type", "event type")

STRING = pa.string()
UNIQUE = pa.large_string()
CATEGORY = pa.dictionary(pa.int32(), pa.string())
_BEX_KEY = set(schema.BEX_COLUMNS) - {"Email"}
_RRDE_KEY = set(schema.RRDE_COLUMNS) - {"Email"}
_KNOWN = set(schema.BEX_COLUMNS) | set(schema.RRDE_COLUMNS) | {schema.EVENT_TYPE_COLUMN}


@dataclass
class Header:
    """A parsed header: the names as in the file, the kind, and the delimiter."""

    names: list[str]
    kind: str  # "BEX" or "RRDE"
    format: str  # "CSV", "PSV" or "TSV"
    renames: dict[str, str] = field(default_factory=dict)  # file name -> frame name
    original: list[str] | None = None  # the header as written, where names were changed

    @property
    def delimiter(self) -> str:
        return schema.DELIMITERS[self.format]

    def frame_name(self, name: str) -> str:
        return self.renames.get(name, name)


_READABLE = re.compile(r"\.(csv|psv|tsv|txt)(\.gz)?$|\.zip$", re.IGNORECASE)


def readable_name(name: str) -> bool:
    """Whether a folder's file may hold exports, by its name: ``.csv``, ``.psv``, ``.tsv``,
    ``.txt``, each optionally ``.gz``, or ``.zip``. Its header decides what it is.

    Examples
    --------
    >>> [readable_name(n) for n in ["a.csv", "b.TSV.gz", "c.zip", "d.txt", "e.json", "f.gz"]]
    [True, True, True, True, False, False]
    """
    return bool(_READABLE.search(name))


def split_ext(name: str) -> tuple[str, str | None, str | None]:
    """``'a_1.tsv.gz'`` -> ``('a_1', 'TSV', 'gzip')``: the stem, format and compression."""
    base = name.rsplit("/", 1)[-1]
    compression = None
    lower = base.lower()
    if lower.endswith(".gz"):
        base, compression = base[:-3], "gzip"
    elif lower.endswith(".zip"):
        base, compression = base[:-4], "zip"
    stem, dot, ext = base.rpartition(".")
    if dot and "." + ext.lower() in FORMAT_BY_EXT:
        return stem, FORMAT_BY_EXT["." + ext.lower()], compression
    return base, None, compression


def read_header(payload: Payload, path: str, *, format: str | None) -> Header:
    """Read and classify the header row; choose the delimiter.

    The delimiter comes from ``format=``, else from the file extension, else from the
    header itself (the one that splits it into the most known column names). Empty
    names become ``column_<n>`` and repeated ones ``<name>.1``, ``<name>.2``, ...
    (``Header.original`` keeps the header as written). Raises
    :class:`NotAnExportError` for any other kind of file.
    """
    if b"\0" in payload.data[:4096].to_pybytes():
        raise NotAnExportError(path, "binary", "Only delimited text exports can be read.")
    first = _first_line(payload.data)
    if not first.strip():
        raise BexFileError(path, "has no header row (the first line is empty)", line=1)
    _, ext_format, _ = split_ext(payload.name)
    candidates = {f: _split_header(first, schema.DELIMITERS[f]) for f in schema.FILE_FORMATS}
    sniffed = max(
        schema.FILE_FORMATS, key=lambda f: (len(_KNOWN & set(candidates[f])), len(candidates[f]))
    )
    chosen = format or ext_format or sniffed
    written = candidates[chosen]
    kind = classify(written)
    if kind is None and format is None and classify(candidates[sniffed]):
        chosen, written, kind = sniffed, candidates[sniffed], classify(candidates[sniffed])
    if kind is None:
        hint = ""
        if classify(candidates[sniffed]) and sniffed != chosen:
            hint = f" The header splits into known columns with {sniffed}: pass format={sniffed!r}."
        shown = ", ".join(repr(n) for n in written[:12]) + (", ..." if len(written) > 12 else "")
        raise NotAnExportError(
            path,
            file_kind(payload.name, written),
            f"Read as {chosen}, its columns are {shown}; a BEX header has columns such as "
            "RECIPIENT_ID, code, messageId, timestamp, eventId, an RRDE header Recipient Id, "
            f"Mailing Id, Event Type.{hint}",
        )
    names = unique_names(written)
    renames = _rrde_renames(names) if kind == "RRDE" else {}
    original = written if names != written else None
    return Header(names=names, kind=kind, format=chosen, renames=renames, original=original)


def _rrde_renames(names: list[str]) -> dict[str, str]:
    """RRDE header -> frame names; ``Mailing Name`` and ``Subject`` fill ``messageName`` and
    ``subjectLine`` only where the file has no such column.

    Examples
    --------
    >>> _rrde_renames(["Mailing Id", "Mailing Name", "Subject", "subjectLine"])["Mailing Name"]
    'messageName'
    >>> "Subject" in _rrde_renames(["Mailing Id", "Subject", "subjectLine"])
    False
    """
    present = set(names)
    return {
        name: frame
        for name, frame in schema.RRDE_TO_BEX.items()
        if name not in schema.RRDE_OPTIONAL_RENAMES or frame not in present
    }


def unique_names(names: list[str]) -> list[str]:
    """Empty names -> ``column_<n>`` (1-based position), repeats -> ``<name>.1``, ...

    Examples
    --------
    >>> unique_names(["Email", "Suppression Reason", "Email", "", "Suppression Reason", ""])
    ['Email', 'Suppression Reason', 'Email.1', 'column_4', 'Suppression Reason.1', 'column_6']
    """
    seen: dict[str, int] = {}
    out = []
    for position, name in enumerate(names, start=1):
        name = name or f"column_{position}"
        count = seen.get(name, 0)
        seen[name] = count + 1
        out.append(f"{name}.{count}" if count else name)
    return out


#: What a file that is not an event export looks like, by name, then by header.
_OTHER_KINDS = (
    (re.compile(r"^Web Tracking Data Export", re.I), "Web Tracking", None),
    (re.compile(r" - All - [A-Z][a-z]{2} \d{1,2} \d{4}", re.I), "contact list", None),
    (None, "contact list", {"opt in date", "opted out", "opt in details", "last modified date"}),
    (None, "Web Tracking", {"visitor key", "page url", "web tracking"}),
)


def file_kind(name: str, header: list[str] | None = None) -> str:
    """What an export file is: "BEX", "RRDE", "Web Tracking", "contact list" or "other".

    By the header when it is given, else by the file name only (loosely: names are not
    documented for every kind, domain.md 6a).

    Examples
    --------
    >>> file_kind("Recipient Event Bulk Export_Email_20261101010000_1.csv")
    'BEX'
    >>> file_kind("Raw Recipient Data Export Jul 03 2017 00-47-42 AM 1295.zip")
    'RRDE'
    >>> file_kind("Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv")
    'Web Tracking'
    >>> file_kind("20170509_noCID - All - Jul 5 2017 06-27-45 AM.csv")
    'contact list'
    """
    if header is not None and (kind := classify(header)):
        return kind
    base = name.rsplit("/", 1)[-1]
    lowered = {h.strip().lower() for h in header or ()}
    for pattern, kind, columns in _OTHER_KINDS:
        if (pattern is not None and pattern.search(base)) or (columns and lowered & columns):
            return kind
    if header is None and re.match(r"^Raw Recipient Data Export", base, re.I):
        return "RRDE"
    if header is None and re.search(r"_\d{8,14}_\d{1,2}\.", base):
        return "BEX"
    return "other"


def classify(names: list[str]) -> str | None:
    """``'BEX'``, ``'RRDE'`` or None: at least two known column names, one of which says
    what event a row is (BEX: ``code``, ``messageId``, ``eventId`` or an event-type
    column; RRDE: ``Event Type``), so Web Tracking and contact lists do not pass.

    Examples
    --------
    >>> classify(["RECIPIENT_ID", "code", "timestamp"]), classify(["Recipient Id", "Event Type"])
    ('BEX', 'RRDE')
    >>> classify(["Recipient Id", "Visitor Key", "Event Timestamp"]) is None
    True
    """
    present = set(names)
    rrde, bex = len(present & _RRDE_KEY), len(present & _BEX_KEY)
    event_column = any(n.strip().lower() in EVENT_TYPE_NAMES for n in names)
    if rrde >= 2 and rrde >= bex and "Event Type" in present:
        return "RRDE"
    if bex >= 2 and (event_column or present & {"code", "messageId", "eventId"}):
        return "BEX"
    return None


def _first_line(data: pa.Buffer) -> str:
    chunk = data[: 1 << 16].to_pybytes()
    line = re.split(rb"\r\n|\r|\n", chunk, maxsplit=1)[0]  # old Mac files end lines in CR
    return line.decode("utf-8", errors="replace")


def _split_header(line: str, delimiter: str) -> list[str]:
    row = next(csv.reader([line], delimiter=delimiter), [])
    return [name.strip() for name in row]


def column_type(frame_name: str) -> pa.DataType:
    """The Arrow type a column is parsed as, by its events-frame name."""
    if frame_name in schema.CATEGORY_COLUMNS:
        return CATEGORY
    if frame_name == "timestamp":
        return STRING
    return UNIQUE


def parse_table(
    payload: Payload,
    header: Header,
    path: str,
    *,
    include: list[str] | None,
    skip_bad: bool,
    block_size: int | None = None,
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Parse the rows of one file (UTF-8); return the table and the rows skipped as bad.

    Raises :class:`BexFileError` naming the line of the first bad row unless ``skip_bad``,
    and :class:`NotUtf8Error` for a file whose encoding is still open
    (``payload.encoding`` None) that is not valid UTF-8.
    """
    data = payload.data
    types = {name: column_type(header.frame_name(name)) for name in header.names}
    if _header_only(data):
        names = [n for n in header.names if include is None or n in include]
        return pa.table({n: pa.array([], types[n]) for n in names}), []
    # Fast pass: quoted newlines are still parsed, but a block boundary inside quotes would
    # break a row; such breaks always leave a row with the wrong field count, so any bad
    # row in a file with quotes sends it to the slower, quote-aware chunker. The file is
    # scanned for quotes only then: most files pass at once.
    failure: pa.ArrowInvalid | None = None
    try:
        table, invalid = _read(data, header, types, include, block_size, newlines=False)
    except pa.ArrowInvalid as exc:
        table, invalid, failure = None, ["?"], exc
    if invalid and _has_quote(data):
        try:
            table, invalid = _read(data, header, types, include, block_size, newlines=True)
        except pa.ArrowInvalid as exc:
            return _parse_failed(payload, header, path, include, skip_bad, block_size, exc)
    elif failure is not None:
        return _parse_failed(payload, header, path, include, skip_bad, block_size, failure)
    assert table is not None
    if invalid and not skip_bad:
        bad = find_bad_rows(data, header)
        raise BexFileError(
            path,
            f"{bad[0]['reason'] if bad else 'wrong number of fields'}; fix the file, or pass "
            "on_bad_lines='skip' (or 'warn') to skip such lines and list them in "
            "df.attrs['skipped_lines']",
            line=bad[0]["line"] if bad else None,
        )
    skipped: list[dict[str, Any]] = []
    if invalid:
        bad = find_bad_rows(data, header)
        if len(bad) != len(invalid):  # the two parsers disagree: keep what pyarrow saw
            bad = [{"line": None, "reason": f"wrong number of fields: {t[:80]!r}"} for t in invalid]
        skipped = [{"file": path, **b} for b in bad]
    return table, skipped


def _read(
    data: pa.Buffer,
    header: Header,
    types: dict[str, pa.DataType],
    include: list[str] | None,
    block_size: int | None,
    *,
    newlines: bool,
) -> tuple[pa.Table, list[str]]:
    """One ``pyarrow.csv`` parse that skips rows with the wrong field count, collecting them."""
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    table = pacsv.read_csv(
        pa.BufferReader(data),
        read_options=pacsv.ReadOptions(
            column_names=header.names, skip_rows=1, block_size=block_size or _BLOCK
        ),
        parse_options=pacsv.ParseOptions(
            delimiter=header.delimiter, newlines_in_values=newlines, invalid_row_handler=on_invalid
        ),
        convert_options=pacsv.ConvertOptions(
            column_types=types,
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
            include_columns=include,
        ),
    )
    return table, invalid


def _parse_failed(
    payload: Payload,
    header: Header,
    path: str,
    include: list[str] | None,
    skip_bad: bool,
    block_size: int | None,
    exc: Exception,
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """pyarrow gave up on the file: a line longer than its block (parsed again with a block
    that holds it), invalid UTF-8 (Latin-1 when the encoding is open, else skippable by
    line) or a parse error."""
    if "straddling" in str(exc):
        line, length = longest_line(payload.data)
        if length > MAX_LINE_BYTES or (block_size or 0) > length:
            raise BexFileError(
                path,
                f"is {length:,} bytes long, over the {MAX_LINE_BYTES // 1024**2} MiB a line "
                "may have: an export row is a few hundred bytes, so the file is damaged or not "
                "an export (a missing line end, binary data?); check it or download it again",
                line=line,
            ) from exc
        bigger = 1 << (2 * length).bit_length()
        return parse_table(
            payload, header, path, include=include, skip_bad=skip_bad, block_size=bigger
        )
    if "UTF8" in str(exc) and payload.encoding is None:
        raise NotUtf8Error(path, "is not valid UTF-8") from exc
    if "UTF8" not in str(exc) and "UTF-8" not in str(exc):
        raise BexFileError(
            path,
            f"cannot be parsed as {header.format} ({exc}); check the file, or pass format= if "
            "the delimiter is not the one its extension says",
        ) from exc
    lines = bad_utf8_lines(payload.data)
    if not skip_bad or not lines or 1 in lines:
        raise BexFileError(
            path,
            "is not valid UTF-8 (encoding='utf-8' was given); if it is Latin-1, pass "
            "encoding='latin-1' (or no encoding: a file that is not UTF-8 is then read as "
            "Latin-1), or pass on_bad_lines='skip' to skip the lines that are not UTF-8",
            line=lines[0] if lines else None,
        ) from exc
    dropped = set(lines)
    kept_numbers, kept = [], []
    for number, line in enumerate(payload.data.to_pybytes().split(b"\n"), start=1):
        if number not in dropped:
            kept_numbers.append(number)
            kept.append(line)
    cleaned = Payload(
        pa.py_buffer(b"\n".join(kept)), payload.name, payload.compression, payload.encoding
    )
    table, skipped = parse_table(cleaned, header, path, include=include, skip_bad=skip_bad)
    for entry in skipped:  # lines of the cleaned text -> lines of the file
        if entry["line"] is not None:
            entry["line"] = kept_numbers[entry["line"] - 1]
    utf8 = [{"file": path, "line": n, "reason": "not valid UTF-8"} for n in lines]
    return table, sorted(utf8 + skipped, key=lambda e: e["line"] or 0)


#: pyarrow's own block size; a file with a longer line is parsed again with a larger one.
_BLOCK = 1 << 20


class NotUtf8Error(BexFileError):
    """A file of open encoding is not UTF-8: the reader reads it again as Latin-1."""


def longest_line(data: pa.Buffer) -> tuple[int, int]:
    r"""The 1-based number and length in bytes of the longest line of ``data``.

    Examples
    --------
    >>> longest_line(pa.py_buffer(b"a,b\nlonger line\r\nx"))
    (2, 12)
    """
    view = np.frombuffer(data, dtype=np.uint8)
    ends = np.flatnonzero(view == ord("\n"))
    bounds = np.concatenate(([-1], ends, [view.size]))
    lengths = np.diff(bounds) - 1
    index = int(np.argmax(lengths))
    return index + 1, int(lengths[index])


def _header_only(data: pa.Buffer) -> bool:
    """True for a file of one line (the header), with or without a final line end."""
    head = data[: 1 << 16].to_pybytes()
    return len(head) < 1 << 16 and not re.search(rb"[\r\n]", head.rstrip(b"\r\n"))


def _has_quote(data: pa.Buffer) -> bool:
    """Quoted newlines need pyarrow's slower chunker; only files with a quote can hold one."""
    view = np.frombuffer(data, dtype=np.uint8)
    step = 1 << 24
    return any(bool((view[i : i + step] == ord('"')).any()) for i in range(0, view.size, step))


def _records(data: pa.Buffer, header: Header) -> Iterator[tuple[int, list[str]]]:
    """Every non-empty data record (the header skipped) and the line it starts on."""
    text = data.to_pybytes().decode("utf-8", errors="replace")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=header.delimiter)
    start = 1
    for index, record in enumerate(reader):
        if index > 0 and record:
            yield start, record
        start = reader.line_num + 1


def find_bad_rows(data: pa.Buffer, header: Header) -> list[dict[str, Any]]:
    """Re-scan with the csv module: every record whose field count differs from the header.

    Slow (pure Python), so only used once pyarrow has reported a problem.
    """
    expected = len(header.names)
    return [
        {"line": start, "reason": f"expected {expected} fields, found {len(record)}"}
        for start, record in _records(data, header)
        if len(record) != expected
    ]


def bad_utf8_lines(data: pa.Buffer) -> list[int]:
    """1-based numbers of the physical lines that are not valid UTF-8."""
    lines = data.to_pybytes().split(b"\n")
    bad = []
    for number, line in enumerate(lines, start=1):
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            bad.append(number)
    return bad


def record_lines(data: pa.Buffer, header: Header) -> list[int]:
    """The first line of every well-formed data record, in order (row i -> line)."""
    expected = len(header.names)
    return [start for start, record in _records(data, header) if len(record) == expected]
