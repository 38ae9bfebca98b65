"""Files shaped like the public artefacts in domain.md sections 6-6d (rows written here).

RRDE event spellings (``Click Through``, ``Reply Abuse``, ``'Soft Bounce '``), headers with
quoted, empty and repeated names, a download/ folder shared with other exports, zips of
several members, naive timestamps, CR line ends.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest
from conftest import zip_bytes

import bextoolkit as bex
from bextoolkit.exceptions import BexConfigError, BexFileError

RRDE_HEADER = (
    '"Recipient Id","Recipient Type","Mailing Id","Report Id","Campaign Id","Email",'
    '"Event Type","Event Timestamp","Body Type","Content Id","Click Name","URL",'
    '"Conversion Action","Conversion Detail","Conversion Amount","Suppression Reason",'
    '"Suppression Reason","Email",,\n'
)


def _rrde_row(rid: int, event: str, minute: int = 0, url: str = "") -> str:
    click = f'"Shop now","{url}"' if url else '"",""'
    return (
        f'"{rid}","Normal","5001","7001","","u{rid}@example.com","{event}",'
        f'"07/03/17 10:{minute:02d} AM","HTML","",{click},"","","","","","",,\n'
    )


RRDE_ROWS = [
    _rrde_row(1, "Sent"),
    _rrde_row(2, "Sent"),
    _rrde_row(3, "Sent"),
    _rrde_row(1, "Open", 5),
    _rrde_row(1, "Click Through", 6, "https://shop.example.com/a?utm_source=x"),
    _rrde_row(2, "Clickthrough", 7, "https://shop.example.com/b"),
    _rrde_row(3, "Soft Bounce ", 9),
    _rrde_row(2, "Reply Abuse", 20),
    _rrde_row(1, "Reply Change Address", 30),
    _rrde_row(2, "Forwarded", 31),
]


@pytest.fixture
def rrde(tmp_path):
    path = tmp_path / "Raw Recipient Data Export Jul 03 2017 00-47-42 AM 1295.zip"
    path.write_bytes(zip_bytes({"1295.csv": RRDE_HEADER + "".join(RRDE_ROWS)}))
    return path


def read_warned(urlpath):
    """``read_events`` on files holding the fixture's one 'Forwarded' row, which it warns of."""
    with pytest.warns(bex.BexWarning, match="unknown event types kept as they are: 'Forwarded'"):
        return bex.read_events(urlpath, tz="UTC")


def test_rrde_spellings_are_counted(rrde):
    with pytest.warns(UserWarning) as caught:
        events = bex.read_events(rrde, tz="UTC")
    unknown = [w for w in caught if "unknown event types" in str(w.message)]
    assert len(unknown) == 1 and "'Forwarded' (1 rows)" in str(unknown[0].message)
    assert events.attrs["unknown_event_types"] == {"Forwarded": 1}
    counts = events["eventType"].astype(str).value_counts().to_dict()
    assert counts == {"emailSend": 3, "emailClick": 2, "emailOpen": 1, "emailBounce": 1,
                      "emailComplaint": 1, "emailReply": 1, "Forwarded": 1}  # fmt: skip
    replies = events[events["eventType"] == "emailReply"]
    assert list(replies["code"]) == ["Reply Change Address"]  # the detail is kept
    assert list(events.loc[events["eventType"] == "emailBounce", "bounceType"]) == ["Soft"]
    funnel = bex.funnel(events)
    assert funnel.loc[0, "unique_clicks"] == 2 and funnel.loc[0, "gross_clicks"] == 2
    assert funnel.loc[0, "complaints"] == 1  # Reply Abuse
    assert len(bex.click_urls(events)) == 2
    assert set(bex.event_counts(events)["eventType"]) >= {"Forwarded", "emailComplaint"}


def test_event_types_map_adds_spellings(rrde):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = bex.read_events(rrde, tz="UTC", event_types_map={"forwarded": "Click Through"})
    assert events.attrs["unknown_event_types"] == {}
    assert (events["eventType"] == "emailClick").sum() == 3
    with pytest.raises(BexConfigError, match=r"'Forwarded'.*is not an event type"):
        bex.read_events(rrde, event_types_map={"Forwarded": "clicked"})


def test_header_with_quoted_empty_and_repeated_names(rrde):
    events = read_warned(rrde)
    assert {"Suppression Reason", "Suppression Reason.1", "Email.1", "column_19",
            "column_20"} <= set(events.columns)  # fmt: skip
    header = events.attrs["files"][0]["header"]
    assert header[-4:] == ["Suppression Reason", "Email", "", ""]
    assert events["Email"].notna().all() and events["Email.1"].isna().all()


def test_recipient_type_is_kept(rrde):
    events = read_warned(rrde)
    assert set(events["Recipient Type"].astype(str)) == {"Normal"}


@pytest.fixture
def download(tmp_path, rrde):
    """A download/ folder as other exports share it (domain.md 6a)."""
    folder = tmp_path / "download"
    folder.mkdir()
    rrde.rename(folder / rrde.name)
    bex_name = "Recipient Event Bulk Export_Email_20261101010000_1.csv"
    (folder / bex_name).write_text(
        "Email,RECIPIENT_ID,code,messageId,timestamp,eventId\n"
        "a@example.com,11,emailSend,9001,2026-11-01T01:00:00Z,Weekly Sale\n"
        "a@example.com,11,emailOpen,9001,2026-11-01T01:05:00Z,Weekly Sale\n"
    )
    (folder / "20170509_noCID - All - Jul 5 2017 06-27-45 AM.csv").write_text(
        "Email,RECIPIENT_ID,Opt In Date,Opted Out,Opt In Details\na@example.com,11,,,\n"
    )
    (folder / "Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv").write_text(
        "Recipient Id,Visitor Key,Page URL,Event Timestamp\n11,v1,https://x,12/29/2024 00:00:03\n"
    )
    (folder / "notes.txt").write_text("nothing to see\n")
    return folder


def test_a_shared_download_folder_reads_the_event_exports_only(download):
    events = read_warned(download)
    assert len(events) == 2 + len(RRDE_ROWS)
    skipped = {s["path"].rsplit("/", 1)[-1]: s["kind"] for s in events.attrs["skipped_files"]}
    assert skipped == {
        "20170509_noCID - All - Jul 5 2017 06-27-45 AM.csv": "contact list",
        "Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv": "Web Tracking",
        "notes.txt": "other",
    }
    assert len(events.attrs["files"]) == 2  # the two event exports
    assert len(bex.read_events(f"{download}/*.csv", tz="UTC")) == 2  # a glob too


def test_a_list_of_files_skips_the_other_kinds(download):
    names = sorted(download.iterdir())
    events = read_warned(names)  # a list, as sync passes it
    assert len(events) == 2 + len(RRDE_ROWS) and len(events.attrs["skipped_files"]) == 3


def test_a_file_named_on_its_own_says_what_it_looks_like(download):
    with pytest.raises(BexFileError, match="looks like a contact-list export"):
        bex.read_events(download / "20170509_noCID - All - Jul 5 2017 06-27-45 AM.csv")
    with pytest.raises(BexFileError, match="looks like a Web Tracking export"):
        bex.read_events(download / "Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv")


def test_list_exports_names_every_kind_in_time_order(download):
    listing = bex.list_exports(download)
    kinds = dict(zip(listing["name"], listing["kind"], strict=True))
    assert kinds["Raw Recipient Data Export Jul 03 2017 00-47-42 AM 1295.zip"] == "RRDE"
    assert kinds["notes.txt"] == "other"
    stamps = listing["timestamp"].dropna()
    assert list(stamps) == sorted(stamps) and len(stamps) == 4
    assert listing["name"].iloc[0].startswith("Raw Recipient Data Export Jul 03 2017")
    assert listing["timestamp"].iloc[0] == pd.Timestamp("2017-07-03 00:47:42", tz="UTC")


def test_every_event_export_in_a_zip_is_read(tmp_path):
    bex_text = "RECIPIENT_ID,code,timestamp\n{0},emailSend,2026-11-01T0{0}:00:00Z\n"
    path = tmp_path / "exports.zip"
    path.write_bytes(zip_bytes({"a.csv": bex_text.format(1), "b.csv": bex_text.format(2),
                           "list.csv": "Email,Opt In Date\na@x.com,\n"}))  # fmt: skip
    events = bex.read_events(path)
    assert list(events["RECIPIENT_ID"]) == ["1", "2"]
    assert [f["path"].rsplit("::", 1)[-1] for f in events.attrs["files"]] == ["a.csv", "b.csv"]
    assert events.attrs["skipped_files"][0]["path"].endswith("exports.zip::list.csv")


NAIVE = "RECIPIENT_ID,code,timestamp\n1,emailSend,2026-11-01 10:00:00.250\n"


def test_naive_times_read_as_utc_say_so_once(tmp_path, monkeypatch):
    monkeypatch.delenv("BEX_TZ", raising=False)
    (tmp_path / "a.csv").write_text(NAIVE)
    (tmp_path / "b.csv").write_text(NAIVE.replace("10:00", "11:00"))
    with pytest.warns(UserWarning, match="no UTC offset.*read as UTC.*tz=.*BEX_TZ") as caught:
        events = bex.read_events(tmp_path)
    assert len([w for w in caught if "UTC offset" in str(w.message)]) == 1
    assert events.attrs["tz_assumed"] == "UTC"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        given = bex.read_events(tmp_path, tz="America/New_York")
    assert "tz_assumed" not in given.attrs
    assert given["timestamp"].iloc[0] == pd.Timestamp(
        "2026-11-01 10:00:00.250", tz="America/New_York"
    )
    monkeypatch.setenv("BEX_TZ", "Europe/Berlin")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        from_env = bex.read_events(tmp_path)
    assert from_env.attrs["tz"] == "Europe/Berlin" and "tz_assumed" not in from_env.attrs


def test_times_with_an_offset_need_no_zone(tmp_path, monkeypatch):
    monkeypatch.delenv("BEX_TZ", raising=False)
    (tmp_path / "a.csv").write_text(
        "RECIPIENT_ID,code,timestamp\n1,emailSend,2026-11-01T10:00:00Z\n"
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = bex.read_events(tmp_path / "a.csv")
    assert "tz_assumed" not in events.attrs


def test_cr_only_line_ends_are_read(tmp_path):
    rows = ["RECIPIENT_ID,code,timestamp", "1,emailSend,2026-11-01T10:00:00Z",
            "2,emailOpen,2026-11-01T10:01:00Z"]  # fmt: skip
    text = "\r".join(rows) + "\r"
    (tmp_path / "mac.csv").write_bytes(text.encode())
    events = bex.read_events(tmp_path / "mac.csv")
    assert list(events["RECIPIENT_ID"]) == ["1", "2"]
    assert list(events["eventType"]) == ["emailSend", "emailOpen"]


def test_header_only_without_a_final_newline_is_empty(tmp_path):
    (tmp_path / "h.csv").write_bytes(b"Email,RECIPIENT_ID,code,timestamp,eventId")
    events = bex.read_events(tmp_path / "h.csv")
    assert len(events) == 0 and events.attrs["files"][0]["rows"] == 0


def test_a_folder_without_exports_warns_and_is_recorded(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "a.csv").write_text(
        "RECIPIENT_ID,code,timestamp\n1,emailSend,2026-11-01T10:00:00Z\n"
    )
    with pytest.warns(UserWarning, match=r"empty holds no export files"):
        events = bex.read_events([tmp_path / "empty", tmp_path / "full"])
    assert len(events) == 1
    assert events.attrs["empty_folders"] == [str(tmp_path / "empty")]
