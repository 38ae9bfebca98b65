"""read_events / list_exports / parse_export_name: formats, transports, types, bad files."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import socket
import threading
import warnings
import zipfile
from pathlib import Path

import fsspec
import pandas as pd
import pyarrow as pa
import pytest
from conftest import zip_bytes
from pandas.testing import assert_frame_equal

import bextoolkit
from bextoolkit import schema
from bextoolkit.exceptions import (
    BexAuthError,
    BexConfigError,
    BexConnectionError,
    BexFileError,
    BexWarning,
)
from bextoolkit.readers import list_exports, parse_export_name, read_events
from bextoolkit.sandbox.sftp import SFTPServer

pytestmark = pytest.mark.filterwarnings(
    "ignore:The (asyncore|asynchat) module is deprecated:DeprecationWarning"
)

PASSWORD = "s3cret-Passw0rd"
DATA_SAMPLES = Path(__file__).resolve().parents[2] / "data-samples"
HOUR = "Recipient Event Bulk Export_Email_20261101{:02d}0000_1"


# --- building export files by hand -------------------------------------------------------


def _events(n: int = 24, start: int = 0) -> list[dict[str, str]]:
    """``n`` hand-made BEX rows: ids with leading zeros, awkward subjects, 3 mailings."""
    codes = ["emailSend", "emailOpen", "emailClick", "emailBounce", "emailOptOut", "emailSend"]
    subjects = ['Sale, today "only"', "Line one\nline two", "Plain | pipe\ttab"]
    rows = []
    for i in range(start, start + n):
        code = codes[i % len(codes)]
        rows.append(
            {
                "Email": f"user{i % 7}@example.com",
                "RECIPIENT_ID": f"00{1000 + i % 7}",
                "contactId": f"c-{i % 7:04d}",
                "code": code,
                "messageId": f"0{500 + i % 3}",
                "subjectLine": subjects[i % 3],
                "bounceType": "Hard" if code == "emailBounce" else "",
                "clickUrl": "https://example.com/a?utm_source=x" if code == "emailClick" else "",
                "timestamp": f"2026-11-01T{i % 24:02d}:{i % 60:02d}:05Z",
                "eventId": f"ev-{i:06d}",
                "FavoriteColor": ["red", "", "blue"][i % 3],
            }
        )
    return rows


def _text(rows, fmt="CSV", *, columns=None, crlf=False, bom=False) -> bytes:
    columns = columns or list(rows[0]) if rows else columns
    out = io.StringIO(newline="")
    writer = csv.writer(
        out, delimiter=schema.DELIMITERS[fmt], lineterminator="\r\n" if crlf else "\n"
    )
    writer.writerow(columns)
    for row in rows:
        writer.writerow([row.get(c, "") for c in columns])
    return (("\ufeff" if bom else "") + out.getvalue()).encode()


def _write(path: Path, rows, fmt="CSV", *, compress=False, **kwargs) -> Path:
    data = _text(rows, fmt, **kwargs)
    path.write_bytes(gzip.compress(data) if compress else data)
    return path


def _rrde_zip(path: Path, rows) -> Path:
    kinds = {
        "emailSend": "Sent",
        "emailOpen": "Open",
        "emailClick": "Click Through",
        "emailBounce": "Hard Bounce",
        "emailOptOut": "Opt Out ",
    }
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*schema.RRDE_COLUMNS, "FavoriteColor"])
    for row in rows:
        hh, mm = row["timestamp"][11:13], row["timestamp"][14:16]
        values = {
            "Recipient Id": row["RECIPIENT_ID"],
            "Mailing Id": row["messageId"],
            "Email": row["Email"],
            "Event Type": kinds[row["code"]],
            "Event Timestamp": f"11/01/2026 {hh}:{mm}:05",
            "URL": row["clickUrl"],
            "FavoriteColor": row["FavoriteColor"],
        }
        writer.writerow([values.get(c, "") for c in [*schema.RRDE_COLUMNS, "FavoriteColor"]])
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Raw Recipient Data Export.csv", out.getvalue())
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory) -> Path:
    """``root/download/{csv,psv,tsv}/``: the same 48 events, as two overlapping hours each."""
    root = tmp_path_factory.mktemp("exports")
    first, second = _events(30), _events(30, start=18)  # rows 18-29 are in both files
    for fmt, ext, compress in [
        ("CSV", ".csv", False),
        ("PSV", ".psv", False),
        ("TSV", ".tsv.gz", True),
    ]:
        folder = root / "download" / fmt.lower()
        folder.mkdir(parents=True)
        _write(folder / (HOUR.format(1) + ext), first, fmt, compress=compress, crlf=fmt == "PSV")
        _write(folder / (HOUR.format(2) + ext), second, fmt, compress=compress, bom=fmt == "CSV")
    _rrde_zip(
        root / "download" / "Raw Recipient Data Export Nov 01 2026 01-00-00 AM 1.zip", _events(48)
    )
    return root


@pytest.fixture(scope="module")
def sftp_server(exports):
    with SFTPServer(exports, username="admin@example.com", password=PASSWORD) as server:
        yield server


@contextlib.contextmanager
def _ftp(root: Path):
    """A pyftpdlib server on 127.0.0.1 (free port) serving ``root`` read-only, in a thread."""
    from pyftpdlib.authorizers import DummyAuthorizer
    from pyftpdlib.handlers import FTPHandler
    from pyftpdlib.ioloop import IOLoop
    from pyftpdlib.servers import FTPServer

    authorizer = DummyAuthorizer()
    authorizer.add_user("ftpuser", PASSWORD, str(root), perm="elr")
    handler = type("Handler", (FTPHandler,), {"authorizer": authorizer, "banner": "test"})
    server = FTPServer(("127.0.0.1", 0), handler, ioloop=IOLoop())  # own loop: not shared
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"timeout": 0.2, "handle_exit": False}, daemon=True
    )
    thread.start()
    port = server.socket.getsockname()[1]
    try:
        yield {
            "url": f"ftp://127.0.0.1:{port}",
            "options": {"username": "ftpuser", "password": PASSWORD},
        }
    finally:
        server.close_all()
        thread.join(timeout=5)


@pytest.fixture(scope="module")
def ftp_server(exports):
    with _ftp(exports) as server:
        yield server


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.copy()
    out.attrs = {}
    return out


# --- the frame ----------------------------------------------------------------------------


def test_public_names_are_exported():
    for name in ("read_events", "list_exports", "parse_export_name"):
        assert name in bextoolkit.__all__
        assert getattr(bextoolkit, name) is globals()[name]


def test_frame_columns_order_and_dtypes(exports):
    events = read_events(exports / "download" / "csv")
    extra = ["FavoriteColor"]
    assert list(events.columns) == [*schema.BEX_COLUMNS, *extra, "eventType"]
    for column in schema.CATEGORY_COLUMNS:
        assert isinstance(events[column].dtype, pd.CategoricalDtype), column
    for column in (*schema.UNIQUE_TEXT_COLUMNS, "FavoriteColor"):
        assert events[column].dtype == pd.StringDtype(), column
    assert str(events["timestamp"].dtype) == "datetime64[us, UTC]"
    # ids are exact strings: leading zeros kept, never floats
    assert set(events["RECIPIENT_ID"]) == {f"00{1000 + i}" for i in range(7)}
    assert set(events["messageId"].cat.categories) == {"0500", "0501", "0502"}
    # empty cells and absent documented columns are missing
    assert events["ENCODED_RECIPIENT_ID"].isna().all()
    assert events["FavoriteColor"].isna().sum() == 16
    assert events.loc[events["code"] != "emailBounce", "bounceType"].isna().all()


def test_quoted_delimiters_quotes_and_newlines_survive(exports):
    events = read_events(exports / "download" / "csv")
    assert set(events["subjectLine"].cat.categories) == {
        'Sale, today "only"',
        "Line one\nline two",
        "Plain | pipe\ttab",
    }


def test_same_events_in_csv_psv_tsv_gz_give_equal_frames(exports):
    frames = {f: read_events(exports / "download" / f) for f in ("csv", "psv", "tsv")}
    assert len(frames["csv"]) == 48
    assert frames["csv"].attrs["format"] == "CSV"
    assert frames["tsv"].attrs["files"][0]["compression"] == "gzip"
    assert_frame_equal(_plain(frames["csv"]), _plain(frames["psv"]))
    assert_frame_equal(_plain(frames["csv"]), _plain(frames["tsv"]))


@pytest.mark.parametrize("fmt", ["csv", "psv", "tsv"])
def test_sftp_gives_the_local_frame(exports, sftp_server, fmt):
    local = read_events(exports / "download" / fmt)
    remote = read_events(
        f"{sftp_server.url}/download/{fmt}/*", storage_options=sftp_server.storage_options
    )
    assert_frame_equal(_plain(local), _plain(remote))
    assert remote.attrs["files"][0]["path"].startswith(sftp_server.url + "/download/")


def test_chained_simplecache_over_sftp(exports, sftp_server, tmp_path):
    url = f"simplecache::{sftp_server.url}/download/tsv/*.tsv.gz"
    options = {"sftp": sftp_server.storage_options, "simplecache": {"cache_storage": str(tmp_path)}}
    events = read_events(url, storage_options=options)
    assert_frame_equal(_plain(events), _plain(read_events(exports / "download" / "tsv")))
    assert events.attrs["files"][0]["path"].startswith("simplecache::sftp://127.0.0.1:")
    assert any(tmp_path.iterdir())  # the files went through the local cache


@pytest.mark.parametrize("fmt", ["csv", "psv", "tsv"])
def test_ftp_gives_the_local_frame(exports, ftp_server, fmt):
    local = read_events(exports / "download" / fmt)
    remote = read_events(
        f"{ftp_server['url']}/download/{fmt}/", storage_options=ftp_server["options"]
    )
    assert_frame_equal(_plain(local), _plain(remote))
    assert [f["rows"] for f in remote.attrs["files"]] == [30, 30]


def test_rrde_zip_gives_the_same_event_counts(exports):
    bex = read_events(exports / "download" / "csv")
    rrde = read_events(
        exports / "download" / "Raw Recipient Data Export Nov 01 2026 01-00-00 AM 1.zip"
    )
    assert rrde.attrs["files"][0]["kind"] == "RRDE"
    assert rrde.attrs["files"][0]["compression"] == "zip"
    assert rrde["eventType"].value_counts().to_dict() == bex["eventType"].value_counts().to_dict()
    assert rrde["bounceType"].value_counts().to_dict() == {"Hard": 8}
    assert list(rrde.columns[: len(schema.BEX_COLUMNS)]) == list(schema.BEX_COLUMNS)
    assert "Recipient Type" in rrde.columns and "FavoriteColor" in rrde.columns
    assert rrde["RECIPIENT_ID"].str.startswith("00").all()
    assert rrde["timestamp"].min() == pd.Timestamp("2026-11-01 00:00:05", tz="UTC")
    assert_frame_equal(
        rrde.groupby("eventType", observed=True)["RECIPIENT_ID"].nunique().reset_index(),
        bex.groupby("eventType", observed=True)["RECIPIENT_ID"].nunique().reset_index(),
    )


def test_memory_filesystem(exports):
    fs = fsspec.filesystem("memory")
    fs.pipe("/bex/one.psv", _text(_events(5), "PSV"))
    events = read_events("memory://bex/*.psv")
    assert len(events) == 5
    assert events.attrs["files"] == [
        {
            "path": "memory:///bex/one.psv",
            "rows": 5,
            "bytes": fs.size("/bex/one.psv"),
            "format": "PSV",
            "kind": "BEX",
            "compression": None,
            "encoding": "utf-8",
            "columns": [*_events(1)[0], "eventType"],
        }
    ]
    fs.rm("/bex", recursive=True)


# --- duplicates, filters, columns --------------------------------------------------------


def test_overlapping_files_drop_duplicates_once(exports):
    events = read_events(exports / "download" / "psv")
    assert len(events) == 48
    assert events.attrs["duplicates_dropped"] == 12
    assert events["eventId"].is_unique
    kept = read_events(exports / "download" / "psv", dedupe=False)
    assert len(kept) == 60 and kept.attrs["duplicates_dropped"] == 0


def test_duplicates_by_event_id_of_any_width(tmp_path):
    rows = [{**r, "eventId": "x" * (1 + i % 4)} for i, r in enumerate(_events(4))]
    _write(tmp_path / "a.csv", rows)
    _write(tmp_path / "b.csv", [{**rows[1], "eventId": "xx"}, {**rows[0], "eventId": ""}])
    events = read_events(tmp_path)
    assert list(events["eventId"].fillna("-")) == ["x", "xx", "xxx", "xxxx", "-"]
    assert events.attrs["duplicates_dropped"] == 1


def test_full_row_duplicates_where_there_is_no_event_id(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "eventId"} for r in _events(6)]
    _write(tmp_path / "a.csv", rows)
    _write(tmp_path / "b.csv", [*rows[3:], {**rows[0], "timestamp": "2026-11-02T00:00:00Z"}])
    events = read_events(tmp_path)
    assert len(events) == 7
    assert events.attrs["duplicates_dropped"] == 3


def test_event_types_filter(exports):
    events = read_events(exports / "download" / "csv", event_types=["EMAILOPEN", "emailClick"])
    assert set(events["eventType"]) == {"emailOpen", "emailClick"}
    assert len(events) == 16


def test_columns_limits_the_frame(exports):
    wanted = ["RECIPIENT_ID", "messageId", "timestamp"]
    events = read_events(exports / "download" / "tsv", columns=wanted)
    assert list(events.columns) == [*wanted, "eventType"]
    assert len(events) == 48  # duplicates still found by eventId, then eventId dropped
    full = read_events(exports / "download" / "tsv")
    assert_frame_equal(_plain(events), _plain(full[[*wanted, "eventType"]]))


def test_columns_without_event_id_dedupes_on_the_full_row(tmp_path):
    rows = [{k: v for k, v in r.items() if k != "eventId"} for r in _events(12)]
    _write(tmp_path / "a.csv", rows)
    events = read_events(tmp_path / "a.csv", columns=["RECIPIENT_ID", "messageId"])
    assert len(events) == 12  # same recipient and mailing are still different events
    assert list(events.columns) == ["RECIPIENT_ID", "messageId", "eventType"]


def test_columns_absent_documented_is_empty_and_unknown_is_an_error(exports):
    events = read_events(exports / "download" / "csv", columns=["trackingCode"])
    assert list(events.columns) == ["trackingCode", "eventType"]
    assert events["trackingCode"].isna().all()
    with pytest.raises(BexConfigError, match="NoSuchColumn"):
        read_events(exports / "download" / "csv", columns=["NoSuchColumn"])


# --- event type -------------------------------------------------------------------------


def test_explicit_event_type_column_wins(tmp_path):
    rows = [{**r, "code": "200", "event_type": "EmailOpen"} for r in _events(3)]
    _write(tmp_path / "x.csv", rows)
    events = read_events(tmp_path / "x.csv")
    assert list(events["eventType"]) == ["emailOpen"] * 3
    assert "event_type" not in events.columns
    assert list(events["code"]) == ["200"] * 3


def test_event_type_argument(tmp_path):
    rows = [{**r, "code": "200", "kind": "Click"} for r in _events(4)]
    _write(tmp_path / "x.csv", rows)
    with pytest.raises(BexFileError, match=r"x\.csv.*event_type=") as info:
        read_events(tmp_path / "x.csv")
    assert "cannot tell which event" in str(info.value)
    opens = read_events(tmp_path / "x.csv", event_type="emailopen")
    assert list(opens["eventType"]) == ["emailOpen"] * 4
    by_column = read_events(tmp_path / "x.csv", event_type="kind")
    assert list(by_column["eventType"]) == ["emailClick"] * 4


def test_unknown_codes_keep_their_raw_value(tmp_path):
    rows = _events(2)
    rows[1]["code"] = "emailForward"
    _write(tmp_path / "x.csv", rows)
    with pytest.warns(BexWarning, match="unknown event types kept as they are: 'emailForward'"):
        events = read_events(tmp_path / "x.csv")
    assert list(events["eventType"]) == ["emailSend", "emailForward"]


# --- timestamps ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "tz", "expected"),
    [
        (
            ["2026-11-01T01:02:03Z", "2026-11-01T01:02:03.250+02:00"],
            "UTC",
            ["2026-11-01 01:02:03+00:00", "2026-10-31 23:02:03.250+00:00"],
        ),
        (
            ["2026-11-01 01:02:03", "2026-11-01T01:02"],
            "America/New_York",
            ["2026-11-01 01:02:03-04:00", "2026-11-01 01:02:00-04:00"],
        ),
        (
            ["11/01/2026 13:02:03", "12/29/2024 00:00:03"],
            "UTC",
            ["2026-11-01 13:02:03+00:00", "2024-12-29 00:00:03+00:00"],
        ),
        (
            ["06/30/17 11:32 PM", "07/01/17 12:05 AM", "07/01/17 13:05 PM", "07/01/17 12:00 PM"],
            "UTC",
            [
                "2017-06-30 23:32+00:00",
                "2017-07-01 00:05+00:00",
                "2017-07-01 13:05+00:00",
                "2017-07-01 12:00+00:00",
            ],
        ),
        (
            ["2026-11-01T01:00:00Z", "2026-11-01T03:00:00"],
            "Europe/Paris",
            ["2026-11-01 02:00:00+01:00", "2026-11-01 03:00:00+01:00"],
        ),
    ],
)
def test_timestamp_formats(tmp_path, values, tz, expected):
    rows = [{**r, "timestamp": v} for r, v in zip(_events(len(values)), values, strict=True)]
    _write(tmp_path / "t.csv", rows)
    events = read_events(tmp_path / "t.csv", tz=tz)
    assert str(events["timestamp"].dt.tz) == tz
    assert list(events["timestamp"]) == [pd.Timestamp(e).tz_convert(tz) for e in expected]


def test_bad_timezone_is_a_config_error(exports):
    with pytest.raises(BexConfigError, match="Mars/Olympus"):
        read_events(exports / "download" / "csv", tz="Mars/Olympus")


# --- broken files --------------------------------------------------------------------------

_HEADER = "Email,RECIPIENT_ID,code,timestamp,eventId\n"
_GOOD = "a@x.com,001,emailOpen,2026-11-01T00:00:00Z,e{}\n"


# name -> (bytes, error pattern, lines recorded under on_bad_lines="skip" or None if an error)
BROKEN = {
    "extra_field.csv": (
        (
            _HEADER
            + _GOOD.format(1)
            + "a@x.com,002,emailOpen,2026-11-01T00:00:00Z,e2,EXTRA\n"
            + _GOOD.format(3)
        ).encode(),
        r"extra_field\.csv, line 3: expected 5 fields, found 6",
        [3],
        2,
    ),
    "missing_field.csv": (
        (
            _HEADER
            + '"multi\nline",001,emailOpen,2026-11-01T00:00:00Z,e1\n'
            + "a@x.com,002,emailOpen\n"
            + _GOOD.format(3)
        ).encode(),
        r"missing_field\.csv, line 4: expected 5 fields, found 3",
        [4],
        2,
    ),
    "bad_timestamp.csv": (
        (_HEADER + _GOOD.format(1) + "a@x.com,002,emailOpen,yesterday at noon,e2\n").encode(),
        r"bad_timestamp\.csv, line 3: timestamp 'yesterday at noon'",
        [3],
        1,
    ),
    "invalid_utf8.csv": (
        _HEADER.encode()
        + _GOOD.format(1).encode()
        + b"caf\xe9@x.com,002,emailOpen,2026-11-01,e2\n",
        r"invalid_utf8\.csv, line 3: is not valid UTF-8 \(encoding='utf-8' was given\).*'latin-1'",
        [3],
        1,
    ),
    "empty.csv": (b"", r"empty\.csv: is empty.*on_bad_lines='skip'", [None], 0),
    "corrupt.csv.gz": (
        gzip.compress((_HEADER + _GOOD.format(1)).encode())[:-12],
        r"corrupt\.csv\.gz: is not a readable gzip file",
        [None],
        0,
    ),
    "wrong_delimiter.csv": (
        (_HEADER + _GOOD.format(1)).replace(",", ";").encode(),
        r"wrong_delimiter\.csv: is not an event export.*"
        r"'Email;RECIPIENT_ID;code;timestamp;eventId'",
        None,
        None,
    ),
    "unknown_header.csv": (
        b"name,age,city\nann,3,paris\n",
        r"unknown_header\.csv: is not an event export: it looks like some other delimited "
        r"file.*'name', 'age', 'city'",
        None,
        None,
    ),
    "binary.csv": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)),
        r"binary\.csv: is not an event export: it looks like a binary file",
        None,
        None,
    ),
    "contacts_only.zip": (
        zip_bytes({"contacts.csv": b"Email,RECIPIENT_ID,Opt In Date,Opted Out\na@x.com,1,,\n"}),
        r"contacts_only\.zip: is not an event export: it looks like a contact-list export",
        None,
        None,
    ),
    "too_big.csv.gz": (
        gzip.compress((_HEADER + _GOOD.format(1) * 50).encode()),
        r"too_big\.csv\.gz: unpacks to more than 1,000 bytes.*max_uncompressed_bytes",
        [None],
        0,
    ),
}


#: Files broken only under an encoding forced on them (else they are read as Latin-1).
_FORCED = {"invalid_utf8.csv": "utf-8"}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_file_is_a_clear_error(tmp_path, name):
    data, pattern, _, _ = BROKEN[name]
    (tmp_path / name).write_bytes(data)
    with pytest.raises(BexFileError, match=pattern) as info:
        read_events(tmp_path / name, max_uncompressed_bytes=1000, encoding=_FORCED.get(name))
    assert info.value.path.endswith(name)


@pytest.mark.parametrize("name", sorted(n for n, v in BROKEN.items() if v[2] is not None))
def test_broken_lines_are_skipped_and_recorded(tmp_path, name):
    data, _, lines, rows = BROKEN[name]
    (tmp_path / name).write_bytes(data)
    events = read_events(
        tmp_path / name,
        on_bad_lines="skip",
        max_uncompressed_bytes=1000,
        encoding=_FORCED.get(name),
    )
    assert len(events) == rows
    skipped = events.attrs["skipped_lines"]
    assert [s["line"] for s in skipped] == lines
    assert all(s["file"].endswith(name) and s["reason"] for s in skipped)


def test_warn_warns_and_records(tmp_path):
    data = BROKEN["extra_field.csv"][0]
    (tmp_path / "x.csv").write_bytes(data)
    with pytest.warns(UserWarning, match=r"x\.csv: skipped 1 bad line.*line 3"):
        events = read_events(tmp_path / "x.csv", on_bad_lines="warn")
    assert events.attrs["skipped_lines"][0]["line"] == 3


def test_header_only_file_is_fine(tmp_path):
    (tmp_path / "h.tsv").write_bytes(b"Email\tRECIPIENT_ID\tcode\teventId\r\n")
    events = read_events(tmp_path / "h.tsv")
    assert len(events) == 0
    assert list(events.columns) == [*schema.BEX_COLUMNS, "eventType"]
    assert events.attrs["files"][0]["rows"] == 0


def test_wrong_extension_is_sniffed_and_wrong_format_is_named(tmp_path):
    (tmp_path / "x.csv").write_bytes(_text(_events(3), "PSV"))
    assert len(read_events(tmp_path / "x.csv")) == 3
    with pytest.raises(BexFileError, match="pass format='PSV'"):
        read_events(tmp_path / "x.csv", format="CSV")


def test_latin1_with_encoding(tmp_path):
    (tmp_path / "l.csv").write_bytes(
        (_HEADER + "café@x.com,001,emailOpen,2026-11-01,e1\n").encode("latin-1")
    )
    events = read_events(tmp_path / "l.csv", encoding="latin-1")
    assert list(events["Email"]) == ["café@x.com"]


def test_missing_file_passes_fsspec_error_through(tmp_path):
    with pytest.raises(FileNotFoundError):
        read_events(tmp_path / "nope.csv")
    with pytest.raises(FileNotFoundError, match="no files match"):
        read_events(str(tmp_path / "*.psv"))


def test_no_password_in_errors(exports, sftp_server):
    with SFTPServer(exports, username="admin", password=PASSWORD) as server:
        url = f"sftp://admin:{PASSWORD}@127.0.0.1:{server.port}/download/csv/none.csv"
        with pytest.raises(FileNotFoundError) as info:
            read_events(url, storage_options={"look_for_keys": False})
        assert PASSWORD not in str(info.value)
        events = read_events(url.replace("none.csv", "*.csv"))
        assert len(events) == 48
        assert all(PASSWORD not in f["path"] for f in events.attrs["files"])
        assert events.attrs["files"][0]["path"].startswith(f"sftp://127.0.0.1:{server.port}/")
    wrong = {**sftp_server.storage_options, "password": "not-it-" + PASSWORD}
    with pytest.raises(
        BexAuthError,
        match=r"sftp://127\.0\.0\.1:\d+/download/csv/\*\.csv: the login as .* was refused",
    ) as refused:
        read_events(sftp_server.url + "/download/csv/*.csv", storage_options=wrong)
    assert PASSWORD not in str(refused.value) and PASSWORD not in repr(refused.value)


def test_closed_port_names_host_and_port(exports):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    options = {"username": "admin", "password": PASSWORD, "timeout": 5, "look_for_keys": False}
    with pytest.raises(
        BexConnectionError,
        match=rf"sftp://127\.0\.0\.1:{port}/download/: cannot connect \(connection refused\)",
    ):
        read_events(f"sftp://127.0.0.1:{port}/download/", storage_options=options)


def test_missing_sftp_folder_names_its_path(sftp_server):
    url = sftp_server.url + "/download/no-such-folder/"
    with pytest.raises(FileNotFoundError, match=r"download/no-such-folder/: no such file"):
        read_events(url, storage_options=sftp_server.storage_options)


def test_wrong_ftp_password_is_an_auth_error(ftp_server):
    options = {**ftp_server["options"], "password": "wrong"}
    with pytest.raises(
        BexAuthError,
        match=r"ftp://127\.0\.0\.1:\d+/download/csv/: the login as .ftpuser. was refused",
    ):
        read_events(ftp_server["url"] + "/download/csv/", storage_options=options)


def test_progress_bar_when_asked(exports, capsys):
    read_events(exports / "download" / "csv", progress=True)
    assert "reading exports" in capsys.readouterr().err
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        read_events(exports / "download" / "csv")
    assert "reading exports" not in capsys.readouterr().err


# --- names and listings -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "prefix", "channel", "stamp", "frequency"),
    [
        (
            "Recipient Event Bulk Export_Email_20261101010000_1.csv",
            "Recipient Event Bulk Export_",
            "Email",
            "2026-11-01 01:00:00",
            1,
        ),
        (
            "/x/Test_EmailEmail_202611010100_24.tsv.gz",
            "Test_Email",
            "Email",
            "2026-11-01 01:00",
            24,
        ),
        ("Acme_Email_2026-11-01T01-00-00Z_6.psv", "Acme_", "Email", "2026-11-01 01:00:00", 6),
        ("Email_1793494800000_12.csv", "", "Email", "2026-11-01 01:00:00", 12),
        (
            "Recipient Event Bulk Export_Email_20261399999999_1.csv",
            "Recipient Event Bulk Export_",
            "Email",
            None,
            1,
        ),
    ],
)
def test_parse_export_name(name, prefix, channel, stamp, frequency):
    parts = parse_export_name(name)
    assert parts["kind"] == "BEX"
    assert (parts["prefix"], parts["channel"], parts["frequency"]) == (prefix, channel, frequency)
    assert parts["timestamp"] == (pd.Timestamp(stamp, tz="UTC") if stamp else None)
    assert parts["name"] == name.rsplit("/", 1)[-1]


def test_parse_export_name_that_does_not_parse():
    parts = parse_export_name("notes.txt")
    assert parts["kind"] == "other" and parts["timestamp"] is None and parts["format"] is None


def test_list_exports_local_and_sftp(exports, sftp_server):
    local = list_exports(exports / "download" / "tsv")
    assert list(local.columns) == [
        "path",
        "name",
        "size",
        "modified",
        "format",
        "compression",
        "kind",
        "prefix",
        "channel",
        "timestamp",
        "frequency",
    ]
    assert list(local["format"]) == ["TSV", "TSV"]
    assert list(local["compression"]) == ["gzip", "gzip"]
    assert list(local["frequency"]) == [1, 1]
    assert list(local["timestamp"]) == [
        pd.Timestamp(f"2026-11-01 0{h}:00", tz="UTC") for h in (1, 2)
    ]
    assert local["size"].gt(0).all() and local["modified"].notna().all()
    remote = list_exports(
        sftp_server.url + "/download/", storage_options=sftp_server.storage_options
    )
    assert list(remote["kind"]) == ["RRDE"]
    assert remote["size"].iloc[0] == (exports / "download" / remote["name"].iloc[0]).stat().st_size


# --- property: any events written in any format read back equal ---------------------------

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

_cell_text = st.text(
    alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\r\x00"),
    max_size=12,
)
_row = st.fixed_dictionaries(
    {
        "Email": _cell_text,
        "RECIPIENT_ID": st.from_regex(r"\A[0-9]{1,12}\Z"),
        "code": st.sampled_from(schema.EVENT_TYPES),
        "subjectLine": _cell_text,
        "timestamp": st.datetimes(
            min_value=pd.Timestamp("2000-01-01").to_pydatetime(),
            max_value=pd.Timestamp("2099-12-31").to_pydatetime(),
        ),
        "FavoriteColor": _cell_text,
    }
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(_row, min_size=1, max_size=15),
    fmt=st.sampled_from(schema.FILE_FORMATS),
    compress=st.booleans(),
    crlf=st.booleans(),
)
def test_any_events_read_back_equal(tmp_path, rows, fmt, compress, crlf):
    cells = [
        {**r, "timestamp": r["timestamp"].strftime("%Y-%m-%dT%H:%M:%S.%fZ"), "eventId": f"e{i}"}
        for i, r in enumerate(rows)
    ]
    ext = {"CSV": ".csv", "PSV": ".psv", "TSV": ".tsv"}[fmt] + (".gz" if compress else "")
    path = _write(tmp_path / f"prop{ext}", cells, fmt, compress=compress, crlf=crlf)
    events = read_events(path)
    assert len(events) == len(rows)
    for column in ("Email", "RECIPIENT_ID", "code", "subjectLine", "eventId", "FavoriteColor"):
        got = [None if pd.isna(v) else v for v in events[column]]
        assert got == [c[column] or None for c in cells], column
    assert list(events["timestamp"]) == [pd.Timestamp(r["timestamp"], tz="UTC") for r in rows]
    assert list(events["eventType"]) == [r["code"] for r in rows]


# --- the committed data-samples, locally and over SFTP and FTP -----------------------------

needs_samples = pytest.mark.skipif(
    not (DATA_SAMPLES / "csv").is_dir(), reason="data-samples/ not generated yet"
)
SAMPLE_CODES = {
    "emailSend": 2641,
    "emailOpen": 806,
    "emailClick": 145,
    "emailBounce": 74,
    "emailSuppressed": 39,
    "emailOptOut": 9,
}


@pytest.fixture(scope="module")
def samples_local():
    return {f: read_events(DATA_SAMPLES / f) for f in ("csv", "psv", "tsv-gz")}


@needs_samples
def test_data_samples_formats_give_equal_frames(samples_local):
    csv_frame = samples_local["csv"]
    assert len(csv_frame) == sum(SAMPLE_CODES.values())
    assert csv_frame["eventType"].value_counts().to_dict() == SAMPLE_CODES
    assert csv_frame["bounceType"].value_counts().to_dict() == {"Hard": 47, "Soft": 27}
    assert len(csv_frame.attrs["files"]) == 24
    for other in ("psv", "tsv-gz"):
        assert_frame_equal(_plain(csv_frame), _plain(samples_local[other]))


@needs_samples
def test_data_samples_rrde_and_database_columns(samples_local):
    rrde = read_events(DATA_SAMPLES / "rrde")
    assert rrde["eventType"].value_counts().to_dict() == SAMPLE_CODES
    wide = read_events(DATA_SAMPLES / "with-columns")
    extra = ["FirstName", "City", "Country", "LoyaltyTier", "SignupDate"]
    assert list(wide.columns) == [*schema.BEX_COLUMNS, *extra, "eventType"]
    assert_frame_equal(
        _plain(wide[list(samples_local["csv"].columns)]), _plain(samples_local["csv"])
    )


@needs_samples
def test_data_samples_over_sftp_and_ftp(samples_local):
    with (
        SFTPServer(DATA_SAMPLES, username="admin@example.com", password=PASSWORD) as sftp,
        _ftp(DATA_SAMPLES) as ftp,
    ):
        # every format over both transports is covered on small files above; here the
        # 24 hourly files of two formats over SFTP and one over FTP keep the test quick
        for folder, pattern in [("csv", "*.csv"), ("tsv-gz", "*.tsv.gz")]:
            over_sftp = read_events(
                f"{sftp.url}/{folder}/{pattern}", storage_options=sftp.storage_options
            )
            assert_frame_equal(_plain(over_sftp), _plain(samples_local[folder]))
        over_ftp = read_events(f"{ftp['url']}/psv/", storage_options=ftp["options"])
        assert_frame_equal(_plain(over_ftp), _plain(samples_local["psv"]))
        rrde = read_events(f"{sftp.url}/rrde/*.zip", storage_options=sftp.storage_options)
        assert rrde["eventType"].value_counts().to_dict() == SAMPLE_CODES


@needs_samples
def test_list_exports_of_data_samples():
    listing = list_exports(DATA_SAMPLES / "csv")
    assert len(listing) == 24
    assert listing["timestamp"].diff().dropna().eq(pd.Timedelta(hours=1)).all()
    assert listing["timestamp"].iloc[0] == pd.Timestamp("2026-11-02 01:00", tz="UTC")
    assert set(listing["prefix"]) == {"Recipient Event Bulk Export_"}


def test_samples_writer_round_trip(tmp_path):
    from bextoolkit.samples import campaigns as samples

    events = samples.generate_events(n_recipients=120, n_mailings=2, seed=11)
    for fmt, compression in [("CSV", None), ("PSV", None), ("TSV", "gzip")]:
        folder = tmp_path / fmt
        samples.write_exports(events, str(folder), file_format=fmt, compression=compression)
        back = read_events(folder)
        assert_frame_equal(_plain(back), events.reset_index(drop=True), check_categorical=False)


def test_a_file_of_coded_event_types_is_an_error_that_says_how_to_map_them(tmp_path):
    """RRDE's CODED_TYPE_FIELDS writes numbers for Event Type: not a funnel of zeros."""
    rows = _events(6)
    coded = {"Sent": "1", "Open": "2", "Click Through": "3", "Hard Bounce": "4", "Opt Out ": "5"}
    path = _rrde_zip(tmp_path / "Raw Recipient Data Export Nov 01 2026 01-00-00 AM 1.zip", rows)
    with zipfile.ZipFile(path) as archive:
        text = archive.read("Raw Recipient Data Export.csv").decode()
    for word, number in coded.items():
        text = text.replace(f",{word},", f",{number},")
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("Raw Recipient Data Export.csv", text)
    with pytest.raises(BexFileError, match=r"AM 1\.zip: no row has a known event type") as info:
        read_events(path)
    message = str(info.value)
    assert "'1', '2', '3', '4', '5'" in message and "event_types_map=" in message
    assert "'Event Type'" in message and "CODED_TYPE_FIELDS" in message
    names = {"1": "Sent", "2": "Open", "3": "Click Through", "4": "Hard Bounce", "5": "Opt Out"}
    events = read_events(path, event_types_map=names)
    expected = [r["code"] for r in rows]
    assert list(events["eventType"]) == expected


def test_a_few_unknown_event_values_among_known_ones_are_kept_and_warned(tmp_path):
    rows = _events(3)
    rows[1]["code"] = "emailForward"
    _write(tmp_path / "x.csv", rows)
    with pytest.warns(UserWarning, match=r"'emailForward' \(1 rows\)"):
        events = read_events(tmp_path / "x.csv")
    assert len(events) == 3 and events.attrs["unknown_event_types"] == {"emailForward": 1}


def test_a_requested_column_that_differs_from_a_bex_column_only_by_case_is_renamed(tmp_path):
    """Delta, DuckDB and Spark match names without case: ContactID next to contactId."""
    rows = _events(6)
    _write(tmp_path / "a.csv", rows)
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    header = [*schema.RRDE_COLUMNS, "ContactID", "Country", "COUNTRY"]
    writer.writerow(header)
    for i, row in enumerate(rows):
        values = {"Recipient Id": row["RECIPIENT_ID"], "Mailing Id": row["messageId"],
                  "Event Type": "Open", "Event Timestamp": "11/01/2026 23:00:05",
                  "ContactID": f"C{i}", "Country": "DE", "COUNTRY": "Germany"}  # fmt: skip
        writer.writerow([values.get(c, "") for c in header])
    with zipfile.ZipFile(tmp_path / "b.zip", "w") as archive:
        archive.writestr("Raw Recipient Data Export.csv", out.getvalue())
    events = read_events(tmp_path, tz="UTC")
    lowered = [c.lower() for c in events.columns]
    assert len(set(lowered)) == len(lowered)
    assert events["ContactID_2"].dropna().tolist() == [f"C{i}" for i in range(6)]
    assert events["COUNTRY_2"].dropna().unique().tolist() == ["Germany"]
    rrde = events.attrs["files"][1]
    assert rrde["renamed"] == {"ContactID": "ContactID_2", "COUNTRY": "COUNTRY_2"}
    assert "ContactID_2" in rrde["columns"] and "renamed" not in events.attrs["files"][0]
    assert events["contactId"].notna().sum() == 6  # the BEX column keeps its own values
    asked = read_events(tmp_path, tz="UTC", columns=["RECIPIENT_ID", "ContactID_2"])
    assert asked["ContactID_2"].dropna().tolist() == [f"C{i}" for i in range(6)]


def test_a_folder_read_on_threads_equals_reading_it_file_by_file(tmp_path, monkeypatch):
    """Local files are read on several threads; the frame, its attrs and the first error
    are exactly those of reading one file after the other."""
    from bextoolkit.readers import files
    from bextoolkit.samples import campaigns as samples

    events = samples.generate_events(n_recipients=300, n_mailings=3, days=1, seed=12)
    samples.write_exports(events, str(tmp_path / "gz"), compression="gzip")
    assert len(list((tmp_path / "gz").iterdir())) > 4
    seen: set[str] = set()
    read_one = files._read_source

    def recording(source, opts):
        seen.add(threading.current_thread().name)
        return read_one(source, opts)

    monkeypatch.setattr(files, "_read_source", recording)
    monkeypatch.setattr(files, "READ_THREADS", 2)
    together = read_events(tmp_path / "gz", tz="UTC")
    assert seen and all(name.startswith("bex-read") for name in seen)
    monkeypatch.setattr(files, "READ_THREADS", 1)
    one_by_one = read_events(tmp_path / "gz", tz="UTC")
    pd.testing.assert_frame_equal(together, one_by_one)
    assert together.attrs["files"] == one_by_one.attrs["files"]
    broken = sorted((tmp_path / "gz").iterdir())[2]
    broken.write_bytes(broken.read_bytes()[:40])  # a cut gzip
    monkeypatch.setattr(files, "READ_THREADS", 4)
    with pytest.raises(BexFileError) as threaded:
        read_events(tmp_path / "gz", tz="UTC")
    monkeypatch.setattr(files, "READ_THREADS", 1)
    with pytest.raises(BexFileError) as serial:
        read_events(tmp_path / "gz", tz="UTC")
    assert str(threaded.value) == str(serial.value) and broken.name in str(serial.value)


@pytest.mark.parametrize(
    ("values", "short_year"),
    [
        (
            ["06/30/17 11:32 PM", "07/01/17 12:05 AM", "7/1/17 12:00 pm", None, "07/01/17 1:05 am"],
            True,
        ),
        (["11/01/2026 13:02:03", "12/29/2024 00:00:03", None], False),
        (["11/01/26 13:02", "1/2/26 0:00"], True),
    ],
)
def test_one_shape_of_us_timestamps_parses_in_one_pass_alike(values, short_year):
    from bextoolkit.readers._timestamps import _localize, _parse_us, _parse_us_as_first

    arr = pa.array(values, pa.string())
    fast = _parse_us_as_first(arr, values[0], short_year=short_year)
    assert fast is not None  # one strptime pass, no trimming nor regex edits
    slow = _parse_us(arr, "America/New_York", short_year=short_year)
    assert _localize(fast, "America/New_York").equals(slow)


@pytest.mark.parametrize(
    "values",
    [
        ["07/01/17 11:32 PM", "07/01/17 13:05 PM"],  # a 24-hour hour before PM
        ["07/01/17 11:32 PM", " 07/01/17 11:32 PM "],  # padding
        ["07/01/17 11:32 PM", "07/01/17 11:32"],  # a mix of clocks
    ],
)
def test_a_mix_of_us_shapes_falls_back_to_the_general_parse(values):
    from bextoolkit.readers._timestamps import _parse_us_as_first, parse_timestamps

    assert _parse_us_as_first(pa.array(values), values[0], short_year=True) is None
    parsed, bad, _ = parse_timestamps(pa.array(values), "UTC")
    assert len(bad) == 0 and parsed.null_count == 0
