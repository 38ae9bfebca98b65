"""Unpacking and decoding export bytes: bombs refused early, long lines, UTF-16, Latin-1, and
RRDE's optional mailing name and subject columns (issue 22)."""

from __future__ import annotations

import gzip
import io
import tracemalloc
import warnings
import zipfile
import zlib
from pathlib import Path

import pytest

from bextoolkit import read_events
from bextoolkit.exceptions import BexFileError, BexWarning

HEADER = "Email,RECIPIENT_ID,code,timestamp,eventId,messageName\n"
ROW = "{email},00{n},emailOpen,2026-11-01T00:00:0{n}Z,e{n},{name}\n"
MiB = 1024**2
MAX_LINE_BYTES = 16 * MiB  # the documented bound (read_events, max_uncompressed_bytes)


def rows(n: int = 3, *, email: str = "a@x.com", name: str = "Sale") -> str:
    return HEADER + "".join(ROW.format(email=email, n=i, name=name) for i in range(n))


def gzip_member(data: bytes) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    return out.compress(data) + out.flush()


def bomb(prefix: bytes, fill: bytes, gib: float = 1.0) -> bytes:
    """``prefix`` then ``gib`` GiB of ``fill`` as concatenated gzip members (~1 MB)."""
    member = gzip_member(fill * (MiB // len(fill)))
    return gzip_member(prefix) + member * int(gib * 1024)


def peak_mib(call) -> tuple[BaseException | None, float]:
    """Run ``call``; the error it raised and its peak of Python-allocated memory in MiB."""
    tracemalloc.start()
    try:
        call()
    except BaseException as exc:
        error: BaseException | None = exc
    else:
        error = None
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    return error, peak / MiB


# --- 5. decompression with bounded memory ----------------------------------------------------


def test_a_gzip_bomb_of_nul_bytes_is_refused_as_binary_in_its_first_megabyte(tmp_path):
    path = tmp_path / "bomb.csv.gz"
    path.write_bytes(bomb(b"", b"\0"))  # 1 GiB of NUL bytes in about a megabyte
    assert path.stat().st_size < 2 * MiB
    error, peak = peak_mib(lambda: read_events(path, tz="UTC"))
    assert isinstance(error, BexFileError)
    assert "binary" in str(error) and "bomb.csv.gz" in str(error)
    assert peak < 64  # main inflated the whole GiB (2.2 GB peak) before refusing it


def test_a_gzip_bomb_of_one_endless_line_stops_past_the_line_bound(tmp_path):
    path = tmp_path / "long.csv.gz"
    path.write_bytes(bomb(rows(2).encode(), b"a"))  # a real header, then 1 GiB without a line end
    error, peak = peak_mib(lambda: read_events(path, tz="UTC", max_uncompressed_bytes=64 * 1024**3))
    assert isinstance(error, BexFileError)
    assert "longer than 16 MiB" in str(error) and "long.csv.gz" in str(error)
    assert peak < 3 * MAX_LINE_BYTES / MiB  # whatever max_uncompressed_bytes allows


def test_a_zip_member_with_an_endless_line_stops_past_the_line_bound(tmp_path):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("export.csv", rows(1).encode() + b"a" * (64 * MiB))
    path = tmp_path / "long.zip"
    path.write_bytes(out.getvalue())
    error, peak = peak_mib(lambda: read_events(path, tz="UTC"))
    assert isinstance(error, BexFileError) and "long.zip::export.csv" in str(error)
    assert "longer than 16 MiB" in str(error)
    assert peak < 3 * MAX_LINE_BYTES / MiB


@pytest.fixture(params=["isal", "zlib"])
def inflater(request, monkeypatch) -> str:
    """A gzip test run with python-isal (a dependency) and with zlib (the fallback where
    isal has no wheel)."""
    from bextoolkit.readers import _unpack

    if request.param == "zlib":
        monkeypatch.setattr(_unpack, "inflating", zlib)
        monkeypatch.setattr(_unpack, "INFLATE_ERRORS", (zlib.error,))
    else:
        assert _unpack.inflating is not zlib
    return request.param


def test_many_gzip_members_and_zero_padding_still_read(tmp_path, inflater):
    text = rows(4).encode()
    lines = text.splitlines(keepends=True)
    data = b"".join(gzip_member(line) for line in lines) + b"\0" * 1024
    (tmp_path / "members.csv.gz").write_bytes(data)
    events = read_events(tmp_path / "members.csv.gz", tz="UTC")
    assert list(events["eventId"]) == ["e0", "e1", "e2", "e3"]


def test_a_cut_gzip_is_still_a_damaged_file(tmp_path, inflater):
    (tmp_path / "cut.csv.gz").write_bytes(gzip.compress(rows(50).encode())[:-40])
    with pytest.raises(BexFileError, match=r"not a readable gzip file.*cut download"):
        read_events(tmp_path / "cut.csv.gz", tz="UTC")


def test_a_gzip_damaged_inside_is_a_damaged_file_named_with_what_to_do(tmp_path, inflater):
    data = bytearray(gzip.compress(rows(200).encode()))
    data[len(data) // 2 : len(data) // 2 + 8] = b"\xff" * 8  # bytes changed in transfer
    (tmp_path / "bad.csv.gz").write_bytes(bytes(data))
    with pytest.raises(
        BexFileError, match=r"bad\.csv\.gz.*not a readable gzip file.*download it again"
    ):
        read_events(tmp_path / "bad.csv.gz", tz="UTC")


# --- 9. a line longer than pyarrow's block ---------------------------------------------------


@pytest.mark.parametrize("compress", [False, True])
def test_a_line_longer_than_pyarrows_block_is_read(tmp_path, compress):
    long_name = "x" * (3 * MiB)  # pyarrow's block is 1 MiB: main said "straddling object"
    data = rows(2).encode() + ROW.format(email="b@x.com", n=7, name=long_name).encode()
    path = tmp_path / ("wide.csv.gz" if compress else "wide.csv")
    path.write_bytes(gzip.compress(data, 1) if compress else data)
    events = read_events(path, tz="UTC")
    assert len(events) == 3 and events["messageName"].iloc[2] == long_name


def test_a_line_over_the_bound_names_the_file_the_line_and_what_to_do(tmp_path):
    data = rows(2).encode() + b"b@x.com,009," + b"y" * (MAX_LINE_BYTES + 10) + b"\n"
    (tmp_path / "huge.csv").write_bytes(data + rows(1).encode().split(b"\n", 1)[1])
    with pytest.raises(BexFileError) as info:
        read_events(tmp_path / "huge.csv", tz="UTC")
    assert info.value.line == 4 and info.value.path.endswith("huge.csv")
    assert "over the 16 MiB a line may have" in str(info.value)
    assert "check it or download it again" in str(info.value)


# --- 6. UTF-16 ------------------------------------------------------------------------------


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-le", "utf-16-be"])
@pytest.mark.parametrize("compress", [False, True])
def test_utf16_is_read_by_its_byte_order_mark_or_its_nul_bytes(tmp_path, codec, compress):
    text = rows(3, email="zoë@x.com", name="Größe")
    data = text.encode(codec)  # "utf-16" writes a BOM; -le/-be write none
    path = tmp_path / ("u.csv.gz" if compress else "u.csv")
    path.write_bytes(gzip.compress(data) if compress else data)
    events = read_events(path, tz="UTC")
    assert list(events["Email"]) == ["zoë@x.com"] * 3
    assert set(events["messageName"]) == {"Größe"}
    assert events.attrs["files"][0]["encoding"].startswith("utf-16")


def test_utf16_with_the_encoding_given(tmp_path):
    (tmp_path / "u.csv").write_bytes(rows(2, name="Ünïcode").encode("utf-16"))
    events = read_events(tmp_path / "u.csv", tz="UTC", encoding="utf-16")
    assert list(events["messageName"]) == ["Ünïcode"] * 2  # main: "a binary file"


def test_a_utf8_bom_is_dropped_whatever_the_encoding_says(tmp_path):
    (tmp_path / "b.csv").write_bytes(b"\xef\xbb\xbf" + rows(1, name="café").encode())
    events = read_events(tmp_path / "b.csv", tz="UTC", encoding="latin-1")
    assert list(events["messageName"]) == ["café"]
    assert events.attrs["files"][0]["encoding"] == "utf-8"


# --- 7. Latin-1 exports ----------------------------------------------------------------------


def test_a_latin1_file_is_read_as_latin1_for_that_file_only_with_one_warning(tmp_path):
    folder = tmp_path / "download"
    folder.mkdir()
    (folder / "a_latin1.csv").write_bytes(
        rows(3, email="josé@x.com", name="Prix 5 €").encode("cp1252")
    )
    (folder / "b_utf8.csv").write_bytes(rows(2, email="zoë@x.com", name="Größe").encode())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        events = read_events(folder, tz="UTC")
    said = [str(w.message) for w in caught if "UTF-8" in str(w.message)]
    assert len(said) == 1 and "a_latin1.csv is not UTF-8: read as Latin-1 (cp1252)" in said[0]
    assert sorted(set(events["Email"])) == ["josé@x.com", "zoë@x.com"]
    assert set(events["messageName"]) == {"Prix 5 €", "Größe"}
    assert [f["encoding"] for f in events.attrs["files"]] == ["cp1252", "utf-8"]
    assert len(events) == 5  # no row lost


def test_bytes_cp1252_leaves_undefined_fall_back_to_iso_8859_1(tmp_path):
    data = rows(1, name="A\x81B").encode("latin-1")  # 0x81 has no cp1252 character
    (tmp_path / "l.csv").write_bytes(data)
    with pytest.warns(BexWarning, match="read as Latin-1 \\(latin-1\\)"):
        events = read_events(tmp_path / "l.csv", tz="UTC")
    assert list(events["messageName"]) == ["A\x81B"]


def test_a_latin1_header_is_told_at_once(tmp_path):
    text = (
        "Email,RECIPIENT_ID,code,timestamp,eventId,Stadt\na@x.com,1,emailOpen,2026-11-01,e1,Köln\n"
    )
    (tmp_path / "h.csv").write_bytes(text.replace("Stadt", "Straße").encode("cp1252"))
    with pytest.warns(BexWarning):
        events = read_events(tmp_path / "h.csv", tz="UTC")
    assert list(events["Straße"]) == ["Köln"]


def test_encoding_given_forces_one_for_every_file(tmp_path):
    (tmp_path / "l.csv").write_bytes(rows(2, name="Café").encode("cp1252"))
    with pytest.raises(BexFileError, match=r"line 2: is not valid UTF-8 \(encoding='utf-8'"):
        read_events(tmp_path / "l.csv", tz="UTC", encoding="utf-8")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # forced: no warning
        events = read_events(tmp_path / "l.csv", tz="UTC", encoding="latin-1")
    assert list(events["messageName"]) == ["Café"] * 2
    assert events.attrs["files"][0]["encoding"] == "latin-1"
    with pytest.raises(BexFileError, match=r"l\.csv, line 2: is not valid ascii"):
        read_events(tmp_path / "l.csv", tz="UTC", encoding="ascii")


# --- 10. RRDE's Mailing Name and Subject ---------------------------------------------------------

RRDE_HEADER = (
    "Recipient Id,Recipient Type,Mailing Id,Report Id,Campaign Id,Email,Event Type,"
    "Event Timestamp,Body Type,Content Id,Click Name,URL,Conversion Action,Conversion Detail,"
    "Conversion Amount,Suppression Reason,Mailing Name,Subject"
)


def _rrde(path: Path, extra_header: str = "", extra: str = "") -> Path:
    line = "1,Normal,{m},9,,a{r}@x.com,Sent,11/01/2026 00:00:05,HTML,,,,,,,,{name},{subject}"
    body = [
        line.format(m="17", r=1, name="November sale", subject='"Up to 50%, today"'),
        line.format(m="18", r=2, name="Welcome", subject="Hello"),
    ]
    text = RRDE_HEADER + extra_header + "\r\n" + "".join(b + extra + "\r\n" for b in body)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Raw Recipient Data Export.csv", text)
    return path


def test_rrde_mailing_name_and_subject_fill_message_name_and_subject_line(tmp_path):
    events = read_events(_rrde(tmp_path / "rrde.zip"), tz="UTC")
    assert list(events["messageName"]) == ["November sale", "Welcome"]
    assert list(events["subjectLine"]) == ["Up to 50%, today", "Hello"]
    assert "Mailing Name" not in events.columns and "Subject" not in events.columns


def test_rrde_keeps_its_own_message_name_column_where_the_file_has_one(tmp_path):
    path = _rrde(tmp_path / "rrde.zip", ",messageName", ",From the database")
    events = read_events(path, tz="UTC")
    assert list(events["messageName"]) == ["From the database"] * 2
    assert list(events["Mailing Name"]) == ["November sale", "Welcome"]
    assert list(events["subjectLine"]) == ["Up to 50%, today", "Hello"]
