"""Event identity: a row repeated in another file is one event; eventId decides only on request."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from conftest import twelve_events, write_bex, write_rrde

from bextoolkit.exceptions import BexConfigError
from bextoolkit.readers import read_events
from bextoolkit.readers._dedupe import cross_file_duplicates

HEADER = "Email,RECIPIENT_ID,code,messageId,clickUrl,timestamp,eventId\n"


def _row(who: int, code: str = "emailOpen", minute: int = 0, url: str = "") -> str:
    return (
        f"u{who}@example.com,{1000 + who},{code},17288904,{url},"
        f"2026-11-01T10:{minute:02d}:00Z,Weekly Sale\n"
    )


def _write(path, rows) -> None:
    path.write_text(HEADER + "".join(rows))


def test_an_event_id_shared_by_many_events_keeps_every_row(tmp_path):
    rows = [_row(1, "emailSend"), _row(2, "emailSend"), _row(1), _row(2), _row(1, minute=1),
            _row(3, "emailSend"), _row(3, "emailClick", url="https://example.com/a")]  # fmt: skip
    _write(tmp_path / "a.csv", rows)
    events = read_events(tmp_path / "a.csv")
    assert len(events) == 7
    assert events.attrs["duplicates_dropped"] == 0
    assert events.attrs["dedupe"] == "same row in different files"


def test_dedupe_by_event_id_on_request_warns_when_it_is_not_a_key(tmp_path):
    _write(tmp_path / "a.csv", [_row(1, "emailSend"), _row(2, "emailSend"), _row(1)])
    with pytest.warns(UserWarning, match="eventId is not an event key"):
        events = read_events(tmp_path / "a.csv", dedupe="eventId")
    assert len(events) == 1 and events.attrs["duplicates_dropped"] == 2


def test_identical_rows_inside_one_file_are_kept(tmp_path):
    _write(tmp_path / "a.csv", [_row(1), _row(1), _row(2)])  # two real opens in one minute
    assert len(read_events(tmp_path / "a.csv")) == 3


def test_a_row_repeated_in_overlapping_files_keeps_the_largest_count(tmp_path):
    _write(tmp_path / "a.csv", [_row(1), _row(1), _row(2), _row(4, minute=5)])
    _write(tmp_path / "b.csv", [_row(1), _row(1), _row(1), _row(2), _row(3)])
    events = read_events(tmp_path)
    opens = events.groupby("RECIPIENT_ID", observed=True).size().to_dict()
    assert opens == {"1001": 3, "1002": 1, "1003": 1, "1004": 1}
    assert events.attrs["duplicates_dropped"] == 3
    assert len(read_events(tmp_path, dedupe=False)) == 9


def test_columns_subset_finds_the_same_duplicates_as_a_full_read(tmp_path):
    _write(tmp_path / "a.csv", [_row(1), _row(2, url="x"), _row(2, url="y")])
    _write(tmp_path / "b.csv", [_row(2, url="x"), _row(2, url="y"), _row(2, url="z")])
    part = read_events(tmp_path, columns=["RECIPIENT_ID"])
    assert len(part) == len(read_events(tmp_path)) == 4
    assert part.attrs["duplicates_dropped"] == 2


def test_files_apart_in_time_are_not_compared(tmp_path):
    _write(tmp_path / "a.csv", [_row(1), _row(1)])
    _write(tmp_path / "b.csv", [_row(1, minute=30), _row(1, minute=30)])
    assert len(read_events(tmp_path)) == 4


def test_unknown_dedupe_value_is_a_clear_error(tmp_path):
    _write(tmp_path / "a.csv", [_row(1)])
    with pytest.raises(BexConfigError, match="dedupe='row'"):
        read_events(tmp_path / "a.csv", dedupe="row")


def test_no_warning_when_event_ids_are_a_key(tmp_path):
    rows = [_row(i).replace("Weekly Sale", f"ev-{i}") for i in range(3)]
    _write(tmp_path / "a.csv", rows)
    _write(tmp_path / "b.csv", rows[:1])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        events = read_events(tmp_path, dedupe="eventId")
    assert len(events) == 3 and events.attrs["duplicates_dropped"] == 1


@pytest.mark.parametrize("seed", range(20))
def test_cross_file_rule_matches_a_brute_force_count(seed):
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, 5, 60).astype(np.uint64)
    files = rng.integers(0, 4, 60)
    drop = cross_file_duplicates(keys, files)
    for key in np.unique(keys):
        mine = keys == key
        assert (~drop[mine]).sum() == np.bincount(files[mine]).max()
    for f in np.unique(files):  # nothing is ever dropped inside the first file of a key
        first = {k: files[keys == k].min() for k in np.unique(keys)}
        rows = (files == f) & np.array([first[k] == f for k in keys])
        assert not drop[rows].any()


def test_a_column_added_later_does_not_make_old_events_new(tmp_path):
    """A database column added to the export: the old file's rows equal the new file's."""
    _write(tmp_path / "a.csv", [_row(1), _row(2)])
    wider = (
        HEADER.replace("\n", ",City\n")
        + _row(1).replace("\n", ",\n")
        + _row(3).replace("\n", ",Berlin\n")
    )
    (tmp_path / "b.csv").write_text(wider)
    events = read_events(tmp_path)
    assert sorted(events["RECIPIENT_ID"]) == ["1001", "1002", "1003"]
    assert events.attrs["duplicates_dropped"] == 1


# --- identity across column sets ----------------------------------------------------------


def _counts(events) -> dict[tuple[str, str], int]:
    return events.groupby(["RECIPIENT_ID", "eventType"], observed=True).size().to_dict()


@pytest.mark.parametrize(
    ("narrow", "wide"),
    [
        (("bex", ()), ("bex", ("City",))),  # a database column requested later
        (("bex", ("City",)), ("bex", ("City", "Plan"))),  # a job whose columns changed
        (("rrde", ()), ("rrde", ("City", "Plan"))),  # an RRDE with and without columns
        (("bex", ()), ("rrde", ("City",))),  # BEX next to RRDE
        (("rrde", ()), ("bex", ("City", "Plan"))),
    ],
)
def test_twelve_events_in_two_column_sets_read_as_twelve(tmp_path, narrow, wide):
    events = twelve_events()
    writers = {"bex": (write_bex, "csv"), "rrde": (write_rrde, "zip")}
    for name, (kind, extra) in (("a", narrow), ("b", wide)):
        write, ext = writers[kind]
        write(tmp_path / f"{name}.{ext}", events, extra)
    read = read_events(tmp_path, tz="UTC")
    assert len(read) == 12 and read.attrs["duplicates_dropped"] == 12
    alone = read_events(tmp_path / f"a.{writers[narrow[0]][1]}", tz="UTC")
    assert _counts(read) == _counts(alone)
    if narrow[0] == wide[0]:  # the copy with more columns is the one kept
        assert list(read.sort_values("timestamp")["City"]) == [e["City"] for e in events]
    assert len(read_events(tmp_path, dedupe=False, tz="UTC")) == 24


def test_identical_rows_inside_one_file_stay_next_to_another_column_set(tmp_path):
    events = twelve_events()
    write_bex(tmp_path / "a.csv", events + events[1:2])  # two real opens in one minute
    write_bex(tmp_path / "b.csv", events, ("City",))
    read = read_events(tmp_path)
    assert len(read) == 13
    assert _counts(read)[("1000", "emailOpen")] == 3


def test_a_shared_column_empty_in_one_file_and_filled_in_the_other_is_two_events(tmp_path):
    """The rule: a missing value agrees only with a missing value (as in one column set)."""
    events = twelve_events()
    write_bex(tmp_path / "a.csv", events, ("City",))
    changed = [{**e, "City": ""} if e["who"] == "0" else e for e in events]
    write_bex(tmp_path / "b.csv", changed, ("City", "Plan"))
    read = read_events(tmp_path)
    assert len(read) == 16  # person 0's four events differ in City: kept from both files
    assert read.attrs["files"][0]["columns"] != read.attrs["files"][1]["columns"]


def test_column_sets_are_compared_when_only_some_columns_are_read(tmp_path):
    events = twelve_events()
    write_bex(tmp_path / "a.csv", events)
    write_rrde(tmp_path / "b.zip", events, ("City",))
    part = read_events(tmp_path, columns=["RECIPIENT_ID", "eventType"], tz="UTC")
    assert len(part) == 12 and list(part.columns) == ["RECIPIENT_ID", "eventType"]
