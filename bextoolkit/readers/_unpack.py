"""Private helpers of :mod:`bextoolkit.readers.files`: a file's bytes -> UTF-8 text payloads.

Two steps before any parsing:

- :func:`unwrap` undoes gzip and zip (told by magic bytes, not by name) as a stream with
  bounded memory: binary content and a line longer than :data:`MAX_LINE_BYTES` stop it
  within the first megabytes, whatever ``max_uncompressed_bytes`` allows, so a small
  "bomb" cannot fill the memory or take minutes to refuse.
- :func:`to_utf8` decides each payload's encoding: a byte order mark (UTF-8, UTF-16) says
  it by itself; ``encoding=`` forces one; otherwise UTF-8, and a file that is not valid
  UTF-8 is read as Latin-1 (cp1252) by :func:`transcode`, for that file only. Everything
  after this step reads UTF-8.
"""

from __future__ import annotations

import codecs
import io
import types
import zipfile
import zlib
from dataclasses import dataclass

import pyarrow as pa

from bextoolkit.exceptions import BexFileError


def _inflater() -> types.ModuleType:
    """python-isal's ``isal_zlib``: zlib's interface, inflating gzip about twice as fast
    (0.37 s against 0.81 s for the 276 MB of bench_folder's 48 files); zlib where isal
    has no wheel."""
    try:
        from isal import isal_zlib
    except ImportError:  # pragma: no cover - a platform without isal's wheel
        return zlib
    return isal_zlib


inflating = _inflater()
INFLATE_ERRORS: tuple[type[Exception], ...] = tuple({zlib.error, inflating.error})

GZIP_MAGIC = b"\x1f\x8b"
ZIP_MAGICS = (b"PK\x03\x04", b"PK\x05\x06")
#: Byte order marks and the encodings they announce.
BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
#: The largest uncompressed size read from one compressed file, unless told otherwise.
MAX_UNCOMPRESSED_BYTES = 16 * 1024**3
#: The longest line a compressed file may hold while it is unpacked. A BEX row is well
#: under a kilobyte (a long click URL a few); a longer "line" is binary or damaged data.
MAX_LINE_BYTES = 16 * 1024**2
#: What a Latin-1 export is read as: Windows' superset of ISO-8859-1 (curly quotes, the euro).
LATIN1 = "cp1252"
_IN = 256 * 1024  # compressed bytes fed to zlib at a time
_OUT = 1024 * 1024  # uncompressed bytes checked at a time
_HEAD = 4096  # bytes looked at to tell text from binary


class DamagedFileError(BexFileError):
    """A file damaged in transfer (empty, bad gzip/zip): skipped with on_bad_lines='skip'."""


#: How messages describe each kind of file that is not an event export.
LOOKS_LIKE = {
    "Web Tracking": "a Web Tracking export",
    "contact list": "a contact-list export (ExportList)",
    "binary": "a binary file (it holds NUL bytes)",
    "other": "some other delimited file",
}


class NotAnExportError(BexFileError):
    """A readable file that is not an event export (a contact list, Web Tracking, ...)."""

    def __init__(self, path: str, kind: str, detail: str) -> None:
        looks_like = LOOKS_LIKE.get(kind, kind)
        super().__init__(path, f"is not an event export: it looks like {looks_like}. {detail}")
        self.kind = kind


@dataclass
class Payload:
    """The uncompressed bytes of one export file and what was learnt unwrapping them.

    ``encoding`` is what the file was written in once :func:`to_utf8` has run (``data``
    is then UTF-8); None until then, and for a file read as UTF-8 that may still turn out
    to be Latin-1.
    """

    data: pa.Buffer
    name: str
    compression: str | None = None
    encoding: str | None = None


def unwrap(
    raw: pa.Buffer, name: str, path: str, *, max_bytes: int, encoding: str | None = None
) -> list[Payload]:
    """Undo gzip / zip (told by magic bytes, not by name): one payload per file or member.

    A zip gives one payload per member (folders and ``__MACOSX/`` aside). Decompression
    streams; it stops with an error past ``max_bytes``, at binary content (NUL bytes at
    the start of a file that is not UTF-16) and at a line longer than
    :data:`MAX_LINE_BYTES`, so a damaged or hostile file cannot fill the memory.
    """
    head = raw[:4].to_pybytes()
    if head[:2] == GZIP_MAGIC:
        data = _gunzip(raw, path, _Guard(path, max_bytes, encoding))
        inner = name[:-3] if name.lower().endswith(".gz") else name
        return [Payload(data, inner, "gzip")]
    if head in ZIP_MAGICS:
        return [
            Payload(data, member, "zip") for member, data in _unzip(raw, path, max_bytes, encoding)
        ]
    return [Payload(raw, name)]


class _Guard:
    """Collects uncompressed output and refuses it as soon as it cannot be an export."""

    def __init__(self, path: str, max_bytes: int, encoding: str | None) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.encoding = encoding
        self.out = bytearray()
        self.line = 0  # bytes since the last line end
        self.head_checked = False

    def add(self, chunk: bytes) -> None:
        self.out += chunk
        if len(self.out) > self.max_bytes:
            raise _too_big(self.path, self.max_bytes)
        if not self.head_checked and len(self.out) >= _HEAD:
            self.check_head()
        end = max(chunk.rfind(b"\n"), chunk.rfind(b"\r"))
        self.line = self.line + len(chunk) if end < 0 else len(chunk) - end - 1
        if self.line > MAX_LINE_BYTES:
            raise DamagedFileError(
                self.path,
                f"holds a line longer than {MAX_LINE_BYTES // 1024**2} MiB (at byte "
                f"{len(self.out) - self.line:,} of the unpacked data): an export row is "
                "a few hundred bytes, so this is not an event export (damaged, or not text); "
                "check the file or download it again",
            )

    def check_head(self) -> None:
        self.head_checked = True
        head = bytes(self.out[:_HEAD])
        if b"\0" in head and not _utf16(head, self.encoding):
            raise NotAnExportError(self.path, "binary", "Only delimited text exports can be read.")

    def done(self) -> pa.Buffer:
        if not self.head_checked:
            self.check_head()
        return pa.py_buffer(self.out)


def _too_big(path: str, max_bytes: int) -> DamagedFileError:
    return DamagedFileError(
        path,
        f"unpacks to more than {max_bytes:,} bytes; if that is expected, pass a larger "
        "max_uncompressed_bytes=",
    )


def _gunzip(raw: pa.Buffer, path: str, guard: _Guard) -> pa.Buffer:
    """Stream-decompress every gzip member of ``raw`` through ``guard``."""
    view = memoryview(raw)
    pos = 0
    inflater = inflating.decompressobj(wbits=31)
    pending: bytes | memoryview = b""
    try:
        while True:
            if not pending:
                if pos >= len(view):
                    tail = b"" if inflater.eof else inflater.decompress(b"", _OUT)
                    if not tail:
                        break
                    guard.add(tail)
                    continue
                pending = view[pos : pos + _IN]
                pos += len(pending)
            if inflater.eof:  # the next gzip member, or the zero padding after the last
                rest = bytes(pending).lstrip(b"\0")
                pending = b""
                if not rest:
                    continue
                inflater, pending = inflating.decompressobj(wbits=31), rest
            guard.add(inflater.decompress(pending, _OUT))
            pending = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
        if not inflater.eof:
            raise zlib.error("the data ends before the gzip stream does (a cut download?)")
    except INFLATE_ERRORS as exc:
        raise DamagedFileError(
            path, f"is not a readable gzip file ({exc}); download it again"
        ) from exc
    return guard.done()


def gzip_complete(handle: io.BufferedIOBase) -> bool:
    """Whether a gzip file holds at least one whole gzip stream (not cut in transfer).

    Reads and inflates the file (nothing is kept); used by ``sync`` to leave an upload in
    progress for the next run.
    """
    inflater = inflating.decompressobj(wbits=31)
    try:
        while block := handle.read(_IN):
            while block:
                if inflater.eof:  # a further member: start it again
                    block = block.lstrip(b"\0")
                    if not block:
                        break
                    inflater = inflating.decompressobj(wbits=31)
                inflater.decompress(block, _OUT)
                block = inflater.unused_data if inflater.eof else inflater.unconsumed_tail
    except INFLATE_ERRORS:
        return False
    return inflater.eof


def _unzip(
    raw: pa.Buffer, path: str, max_bytes: int, encoding: str | None
) -> list[tuple[str, pa.Buffer]]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(raw))
    except zipfile.BadZipFile as exc:
        raise DamagedFileError(
            path, f"is not a readable zip file ({exc}); download it again"
        ) from exc
    members = [
        m for m in archive.infolist() if not m.is_dir() and not m.filename.startswith("__MACOSX/")
    ]
    if not members:
        raise DamagedFileError(path, "is a zip file with nothing in it")
    out = []
    for member in members:
        where = f"{path}::{member.filename}"
        if member.file_size > max_bytes:
            raise _too_big(where, max_bytes)
        guard = _Guard(where, max_bytes, encoding)
        try:
            with archive.open(member) as handle:
                while chunk := handle.read(_OUT):
                    guard.add(chunk)
        except (zipfile.BadZipFile, OSError, zlib.error, EOFError) as exc:
            raise DamagedFileError(
                path, f"zip member {member.filename!r} is damaged ({exc}); download it again"
            ) from exc
        out.append((member.filename, guard.done()))
    return out


# --- encodings ------------------------------------------------------------------------------


def _utf16(head: bytes, encoding: str | None) -> str | None:
    """The UTF-16 codec ``head`` is written in (a BOM, ``encoding=``, or ASCII text with
    every other byte NUL), else None."""
    for bom, name in BOMS[1:]:
        if head.startswith(bom):
            return name
    if encoding and codecs.lookup(encoding).name.startswith(("utf-16", "utf-32")):
        return codecs.lookup(encoding).name
    sample = head[: len(head) // 2 * 2][:1024]
    if len(sample) >= 8:
        even, odd = sample[0::2], sample[1::2]
        if odd.count(0) == len(odd) and even.count(0) == 0:
            return "utf-16-le"
        if even.count(0) == len(even) and odd.count(0) == 0:
            return "utf-16-be"
    return None


def to_utf8(payload: Payload, path: str, encoding: str | None) -> None:
    """Make ``payload.data`` UTF-8 and set ``payload.encoding`` to what the file was in.

    A byte order mark decides (UTF-8: dropped; UTF-16: transcoded); then ``encoding=``
    when given; then UTF-16 told by its NUL bytes. Otherwise the data is taken as UTF-8 as
    it is (no copy) and ``payload.encoding`` stays None: the parser finds out whether it
    is, and :func:`transcode` reads it as Latin-1 if not. A first line that is not UTF-8
    decides that at once.

    Raises
    ------
    BexFileError
        The bytes are not valid in the encoding given or announced (names the line).
    """
    head = payload.data[:_HEAD].to_pybytes()
    for bom, name in BOMS:
        if head.startswith(bom):
            payload.data = payload.data.slice(len(bom))
            if name == "utf-8":
                payload.encoding = "utf-8"
            else:
                transcode(payload, path, name, announced="its byte order mark")
            return
    forced = codecs.lookup(encoding).name if encoding else None
    if forced == "utf-8":
        payload.encoding = "utf-8"
    elif forced is not None:
        transcode(payload, path, forced, announced=f"encoding={encoding!r}")
        payload.encoding = encoding  # as the caller spelt it
    elif (utf16 := _utf16(head, None)) is not None:
        transcode(payload, path, utf16, announced="its NUL bytes")
    elif not _valid_utf8(_first_line(head)):
        transcode(payload, path, LATIN1)


def _first_line(head: bytes) -> bytes:
    ends = [i for i in (head.find(b"\n"), head.find(b"\r")) if i >= 0]
    return head[: min(ends)] if ends else head[:-4]  # a cut multi-byte character is fine


def _valid_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def transcode(payload: Payload, path: str, encoding: str, *, announced: str = "") -> None:
    """Re-encode ``payload.data`` from ``encoding`` to UTF-8 (Latin-1: cp1252, else latin-1).

    Raises
    ------
    BexFileError
        The bytes are not valid ``encoding``; names the line and what announced it.
    """
    raw = payload.data.to_pybytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as exc:
        if encoding == LATIN1:  # the five bytes cp1252 leaves undefined: plain ISO-8859-1
            text, encoding = raw.decode("latin-1"), "latin-1"
        else:
            line = raw[: exc.start].count(b"\n") + 1
            said = f" ({announced} says so)" if announced else ""
            raise BexFileError(
                path,
                f"is not valid {encoding}{said}: {exc.reason} at byte {exc.start:,}; pass the "
                "encoding it is written in as encoding=",
                line=line,
            ) from None
    del raw
    payload.data = pa.py_buffer(text.encode("utf-8"))
    payload.encoding = encoding
