"""Tests of bextoolkit.sync: incremental sync to a Delta table, event identity, kills, reading."""

from __future__ import annotations

import collections
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.dataset as ds
import pytest
from conftest import export_names, normalized, twelve_events, write_bex, write_rrde

import bextoolkit as bex
from bextoolkit.cli import main
from bextoolkit.exceptions import BexConnectionError, BexError, BexFileError
from bextoolkit.readers import store as _store
from bextoolkit.samples.campaigns import generate_events, write_exports
from bextoolkit.sync import SyncResult, migrate, sync_forever


def sync(src, dest, **options):
    """A sync of files written just now: no settle time, no progress bar."""
    return bex.sync(str(src), str(dest), **{"settle": 0, "progress": False, **options})


def rows(frame: pd.DataFrame) -> collections.Counter:
    """The rows of a frame as a multiset (order-free, duplicates counted)."""
    text = frame.astype("string").fillna("<NA>")
    return collections.Counter(map(tuple, text.itertuples(index=False)))


def assert_same_events(left: pd.DataFrame, right: pd.DataFrame) -> None:
    assert rows(left) == rows(right)
    pd.testing.assert_frame_equal(normalized(left), normalized(right))


def one_file(ev: pd.DataFrame, folder: Path, name: str = "export.csv") -> str:
    """All of ``ev`` in one export file (the day files of write_exports joined)."""
    days = write_exports(ev, str(folder / ".days"), frequency=24, timestamp_format="us")
    texts = [Path(d).read_text().splitlines(keepends=True) for d in days]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(texts[0][0] + "".join(line for t in texts for line in t[1:]))
    shutil.rmtree(folder / ".days")
    return str(folder / name)


def data_lines(path: Path) -> list[str]:
    return path.read_text().splitlines(keepends=True)[1:]


# --- incremental sync -----------------------------------------------------------------------
def test_sync_twice_copies_nothing_the_second_time(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "store"
    first = sync(src, dest)
    n_files = len(export_names(src))
    assert first.files_read == n_files and first.files_listed == n_files
    assert first.events_added == first.dataset_events == len(bex.read_events(str(src)))
    second = sync(src, dest)
    assert (second.files_read, second.files_unchanged, second.events_added) == (0, n_files, 0)
    assert second.table_version == first.table_version  # nothing committed
    assert isinstance(second, SyncResult) and "0 new file(s)" in str(second)


def test_a_sync_result_shows_its_summary_in_a_notebook(src: Path, tmp_path: Path) -> None:
    result = sync(src, tmp_path / "store")
    assert result.summary() in result._repr_html_()
    assert result.summary() in repr(result) and "\n" not in result.summary()
    shown: list[str] = []
    result._repr_pretty_(type("P", (), {"text": lambda self, t: shown.append(t)})(), False)
    assert shown == [result.summary()]


def test_only_new_files_are_read(src: Path, tmp_path: Path, monkeypatch) -> None:
    names = export_names(src)
    held_back = tmp_path / "later"
    held_back.mkdir()
    for name in names[-3:]:
        shutil.move(src / name, held_back / name)
    dest = tmp_path / "store"
    sync(src, dest)
    for name in names[-3:]:
        shutil.move(held_back / name, src / name)

    import bextoolkit.sync._table as sync_module

    seen: list[str] = []
    real = sync_module.read_files

    def spy(urlpath, **kwargs):
        seen.extend(os.path.basename(str(p)) for p in urlpath)
        return real(urlpath, **kwargs)

    monkeypatch.setattr(sync_module, "read_files", spy)
    result = sync(src, dest)
    assert sorted(seen) == names[-3:]
    assert result.files_read == 3 and result.files_unchanged == len(names) - 3
    monkeypatch.undo()
    assert_same_events(bex.read_events(str(dest)), bex.read_events(str(src)))


def test_source_files_are_never_changed(src: Path, tmp_path: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}
    sync(src, tmp_path / "store")
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()} == before


def test_deleted_source_files_keep_their_events(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "store"
    full = sync(src, dest)
    for name in export_names(src)[:5]:
        (src / name).unlink()
    again = sync(src, dest)
    assert again.dataset_events == full.dataset_events == len(bex.read_events(str(dest)))


def test_staging_of_killed_runs_is_removed(src: Path, tmp_path: Path) -> None:
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], check=True,
                          capture_output=True, text=True)  # fmt: skip
    stale = Path(tempfile.gettempdir()) / f"bex-sync-{dead.stdout.strip()}-left"
    (stale / "x").mkdir(parents=True)
    (stale / "x" / "big.csv").write_text("data\n")
    result = sync(src, tmp_path / "store")
    assert result.removed_staging >= 1 and not stale.exists()
    mine = [p for p in Path(tempfile.gettempdir()).glob(f"bex-sync-{os.getpid()}-*")]
    assert mine == []  # this run's own staging is gone too


# --- the same frame, the same provenance ------------------------------------------------------
def test_read_events_on_the_store_equals_reading_the_files(src: Path, tmp_path: Path) -> None:
    dest = str(tmp_path / "store")
    sync(src, dest, batch_rows=50)  # several batches, several commits
    from_csv = bex.read_events(str(src))
    from_delta = bex.read_events(dest)
    assert list(from_delta.columns) == list(from_csv.columns)
    assert from_delta.dtypes.astype(str).tolist() == from_csv.dtypes.astype(str).tolist()
    assert_same_events(from_delta, from_csv)
    for name in from_delta.select_dtypes("category"):  # whatever order the files came in
        categories = from_delta[name].cat.categories
        assert categories.is_monotonic_increasing, name
        assert categories.dtype == from_csv[name].cat.categories.dtype, name


def test_a_store_tells_its_provenance_like_the_files(src: Path, tmp_path: Path) -> None:
    dest = str(tmp_path / "store")
    result = sync(src, dest)
    from_csv, from_delta = bex.read_events(str(src)), bex.read_events(dest)
    files = from_delta.attrs["files"]
    assert sorted(Path(f["path"]).name for f in files) == sorted(
        Path(f["path"]).name for f in from_csv.attrs["files"]
    )
    assert sum(f["rows"] for f in files) == sum(f["rows"] for f in from_csv.attrs["files"])
    import hashlib

    for f in files:
        assert f["sha256"] == hashlib.sha256(Path(f["path"]).read_bytes()).hexdigest()
        assert f["bytes"] == Path(f["path"]).stat().st_size
        assert f["table_version"] == result.table_version and f["mtime"]
    assert from_delta.attrs["skipped_lines"] == [] and from_delta.attrs["duplicates_dropped"] == 0
    assert from_delta.attrs["version"] == result.table_version
    page = bex.CampaignReport(from_delta).to_html()
    assert f"from {len(files)} file(s)" in page
    assert from_delta["eventType"].attrs["files"] is files  # shared, not deep-copied


def test_filters_are_pushed_down_and_match_the_files(
    src: Path, tmp_path: Path, events: pd.DataFrame
) -> None:
    dest = str(tmp_path / "store")
    sync(src, dest)
    mailing = str(events["messageId"].iloc[0])
    query = {
        "start": "2026-11-02T12:00:00",
        "end": "2026-11-03T06:00:00Z",
        "messageId": mailing,
        "event_types": ["emailOpen", "emailClick"],
        "columns": ["RECIPIENT_ID", "timestamp", "eventId"],
    }
    got = bex.read_events(dest, **query)
    assert list(got.columns) == ["RECIPIENT_ID", "timestamp", "eventId", "eventType"]
    assert set(got["eventType"].astype(str)) <= {"emailOpen", "emailClick"}
    assert got["timestamp"].min() >= pd.Timestamp("2026-11-02T12:00:00Z")
    assert got["timestamp"].max() < pd.Timestamp("2026-11-03T06:00:00Z")
    expected = events[
        (events["messageId"].astype(str) == mailing)
        & events["eventType"].astype(str).isin(["emailOpen", "emailClick"])
        & (events["timestamp"] >= pd.Timestamp("2026-11-02T12:00:00Z"))
        & (events["timestamp"] < pd.Timestamp("2026-11-03T06:00:00Z"))
    ]
    assert len(got) == len(expected) > 0
    assert_same_events(got, bex.read_events(str(src), **query))


def test_partitions_outside_the_dates_are_not_read(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "store"
    sync(src, dest)
    dates = sorted(p.name for p in dest.glob(f"{_store.DATE_COLUMN}=*"))
    assert dates[0] == f"{_store.DATE_COLUMN}=2026-11-02" and len(dates) >= 3
    table = _store.open_table(str(dest))
    files = _store.select_files(table, start="2026-11-03", end="2026-11-03T12:00")
    chosen = {Path(path).parent.name for path, _ in files}
    assert chosen == {f"{_store.DATE_COLUMN}=2026-11-03"}


# --- event identity ------------------------------------------------------------------------
def test_redelivered_and_overlapping_files_add_no_events(
    src: Path, tmp_path: Path, events: pd.DataFrame
) -> None:
    dest = str(tmp_path / "store")
    first = sync(src, dest)
    names = export_names(src)
    shutil.copy(src / names[3], src / "copy of an export.csv")  # byte-identical
    overlap = events.iloc[100:300]  # parts of several hours, in one file per day
    resent = write_exports(overlap, str(tmp_path / "overlap"), frequency=24, timestamp_format="us")
    for path in resent:
        shutil.copy(path, src / ("re-sent " + os.path.basename(path)))
    result = sync(src, dest)
    assert result.files_redelivered == 1 and result.files_read == len(resent)
    copied = len(bex.read_events(str(src / names[3])))
    assert result.events_added == 0 and result.duplicates == len(overlap) + copied
    store = bex.read_events(dest)
    assert len(store) == first.dataset_events == len(events)
    assert store.attrs["duplicates_dropped"] == len(overlap) + copied


def test_a_row_repeated_in_one_file_is_kept_and_across_files_kept_once(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=40, n_mailings=1, seed=3)
    src = tmp_path / "src"
    path = one_file(ev, src)
    lines = data_lines(Path(path))
    header = Path(path).read_text().splitlines(keepends=True)[0]
    # Two real opens in one minute: the same row twice in one file.
    Path(path).write_text(header + "".join(lines) + lines[0] + lines[0])
    dest = tmp_path / "store"
    first = sync(src, dest)
    assert first.events_added == len(lines) + 2
    # A later, overlapping delivery has that row twice too, and once more another row.
    (src / "later.csv").write_text(header + lines[0] + lines[0] + lines[1] + lines[-1])
    second = sync(src, dest)
    assert second.events_added == 0 and second.duplicates == 4
    # A third file has the first row four times: two more copies than any file before.
    (src / "third.csv").write_text(header + lines[0] * 4)
    third = sync(src, dest)
    assert third.events_added == 1 and third.duplicates == 3
    got = rows(bex.read_events(str(dest)))
    assert sum(got.values()) == len(lines) + 3
    assert got == rows(bex.read_events(str(src)))  # the readers' identity, the same numbers


def test_a_shared_event_id_does_not_make_events_one(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=30, n_mailings=1, seed=5)
    ev["eventId"] = "same-id-for-all"  # an id of the event's type, not of the event
    src = tmp_path / "src"
    write_exports(ev, str(src), timestamp_format="us")
    result = sync(src, tmp_path / "store")
    assert result.events_added == len(ev) == len(bex.read_events(str(tmp_path / "store")))


def test_an_event_seen_again_on_another_date_and_run_is_not_doubled(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=60, n_mailings=1, days=2, seed=9)
    src = tmp_path / "src"
    one_file(ev.iloc[:50], src)
    dest = tmp_path / "store"
    sync(src, dest)
    # A later file: the first file's last event plus events of later dates.
    one_file(ev.iloc[49:], src, "later.csv")
    result = sync(src, dest)
    assert result.events_added == len(ev) - 50 and result.duplicates == 1
    assert len(bex.read_events(str(dest))) == len(ev)


def test_same_named_files_in_different_folders_are_separate_sources(
    tmp_path: Path, events: pd.DataFrame
) -> None:
    one_file(events.iloc[:200], tmp_path / "src" / "a")  # the same name in both folders
    one_file(events.iloc[200:], tmp_path / "src" / "b")
    result = sync(tmp_path / "src" / "*" / "*.csv", tmp_path / "store")
    assert result.files_read == 2 and result.dataset_files == 2
    store = bex.read_events(str(tmp_path / "store"))
    assert len(store) == len(events)
    assert len({f["path"] for f in store.attrs["files"]}) == 2


# --- changed, growing and pending files ------------------------------------------------------
def test_a_rewritten_file_has_its_rows_replaced_in_one_transaction(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=60, n_mailings=1, seed=4)
    src = tmp_path / "src"
    path = one_file(ev, src)
    dest = tmp_path / "store"
    first = sync(src, dest)
    header, lines = Path(path).read_text().splitlines(keepends=True)[0], data_lines(Path(path))
    kept = lines[: len(lines) // 2]
    Path(path).write_text(header + "".join(kept))  # the platform re-wrote the file, shorter
    result = sync(src, dest)
    assert result.files_replaced == 1 and result.events_removed == len(lines) - len(kept)
    assert result.table_version == first.table_version + 1  # one commit of the events
    assert rows(bex.read_events(str(dest))) == rows(bex.read_events(str(src)))
    older = bex.read_events(str(dest), version=first.table_version)
    assert len(older) == len(lines) and older.attrs["version"] == first.table_version
    assert older.attrs["files"][0]["rows"] == len(lines)


def test_a_file_being_uploaded_is_pending_until_complete(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=80, n_mailings=1, seed=6)
    full_dir = tmp_path / "full"
    path = one_file(ev, full_dir)
    content = Path(path).read_bytes()
    src = tmp_path / "src"
    src.mkdir()
    partial = src / Path(path).name
    cut = content.rindex(b"emailSend") + 7  # inside the last send's row: 'emailSe'
    partial.write_bytes(content[:cut])
    dest = tmp_path / "store"
    first = sync(src, dest)
    assert first.files_pending == [str(partial)] and first.events_added == 0
    # The upload goes on, now cut just after a newline: a recent file waits for settle=.
    partial.write_bytes(content[: content.rindex(b"\n", 0, cut) + 1])
    waiting = bex.sync(str(src), str(dest), settle=60, progress=False)
    assert waiting.files_pending == [str(partial)] and waiting.files_read == 0
    partial.write_bytes(content)  # upload completed
    done = sync(src, dest)
    assert done.files_read == 1 and done.files_pending == []
    store = bex.read_events(str(dest))
    assert rows(store) == rows(bex.read_events(str(full_dir)))
    assert (store["eventType"] == "emailSend").sum() == (ev["eventType"] == "emailSend").sum()


def test_a_file_that_grew_after_a_sync_adds_only_its_new_rows(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=80, n_mailings=1, seed=8)
    src = tmp_path / "src"
    path = one_file(ev, src)
    text = Path(path).read_text().splitlines(keepends=True)
    Path(path).write_text("".join(text[: len(text) // 2]))
    dest = tmp_path / "store"
    sync(src, dest)
    Path(path).write_text("".join(text))
    grown = sync(src, dest)
    assert grown.files_replaced == 1 and grown.events_removed == 0
    assert grown.events_added == len(text) - len(text) // 2
    assert rows(bex.read_events(str(dest))) == rows(bex.read_events(str(src)))


# --- concurrency, kills, dropped connections ---------------------------------------------------
SLOW_SYNC = textwrap.dedent(
    """
    import sys, time
    import bextoolkit.sync, bextoolkit.sync._table as table
    real = table.read_files

    def slow(*args, **kwargs):
        print("READING", flush=True)
        time.sleep(float(sys.argv[3]))
        return real(*args, **kwargs)

    table.read_files = slow
    print(bextoolkit.sync(sys.argv[1], sys.argv[2], settle=0, progress=False).summary())
    """
)


def test_a_second_sync_on_the_same_store_stops_with_a_clear_error(
    src: Path, tmp_path: Path
) -> None:
    dest = tmp_path / "store"
    other = subprocess.Popen([sys.executable, "-c", SLOW_SYNC, str(src), str(dest), "4"],
                             stdout=subprocess.PIPE, text=True)  # fmt: skip
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "READING"
        with pytest.raises(BexError, match="another sync is writing to this store"):
            sync(src, dest)
        queued = sync(src, dest, wait=60)  # waits for the first, then finds nothing to do
    finally:
        other.wait(timeout=60)
    assert other.returncode == 0
    assert queued.files_read == 0 and queued.dataset_events == len(bex.read_events(str(src)))
    assert_same_events(bex.read_events(str(dest)), bex.read_events(str(src)))


def test_a_commit_refused_by_another_writer_is_a_clear_error(src: Path, tmp_path: Path) -> None:
    """A writer that is not bextoolkit (Spark, say) ignores the lock: Delta refuses the
    conflicting commit, and the sync says what happened and what to do."""
    from deltalake import DeltaTable

    from bextoolkit.sync._files import lock

    dest = tmp_path / "store"
    sync(src, dest)
    uri = str(dest)
    ours, theirs = DeltaTable(uri), DeltaTable(uri)
    actions = pa.table(ours.get_add_actions(flatten=True))
    day = actions.column(f"partition.{_store.DATE_COLUMN}")[0].as_py()
    predicate = f"{_store.DATE_COLUMN} = '{day}'"
    theirs.delete(predicate)
    refused = r"another writer changed the table.*run the sync again"
    with pytest.raises(BexError, match=refused), lock(uri, 0):
        ours.delete(predicate)  # read before their delete: a real conflict


KILLABLE_SYNC = textwrap.dedent(
    """
    import sys
    import bextoolkit.sync as s
    print("READY", flush=True)
    s.sync(sys.argv[1], sys.argv[2], settle=0, progress=False, batch_rows=int(sys.argv[3]))
    """
)


@pytest.mark.slow
def test_random_kills_lose_and_double_nothing(src: Path, tmp_path: Path) -> None:
    expected = rows(bex.read_events(str(src)))
    clean = tmp_path / "clean"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", KILLABLE_SYNC, str(src), str(clean), "150"], check=True)
    span = time.perf_counter() - started
    dest = tmp_path / "killed"
    rng = random.Random(13)
    kills = 0
    while kills < 20:
        child = subprocess.Popen([sys.executable, "-c", KILLABLE_SYNC, str(src), str(dest), "150"],
                                 stdout=subprocess.PIPE, text=True)  # fmt: skip
        assert child.stdout is not None and child.stdout.readline().strip() == "READY"
        time.sleep(rng.uniform(0, span * 0.6))
        child.kill()
        child.wait()
        kills += child.returncode == -9
        if _store.is_delta_table(str(dest)):  # what a reader sees right after the kill
            visible = rows(bex.read_events(str(dest)))
            assert not visible - expected, "an event doubled or invented"
    done = sync(src, dest, batch_rows=150)
    assert rows(bex.read_events(str(dest))) == expected  # 0 lost, 0 doubled
    assert done.dataset_events == sum(expected.values())
    on_disk = ds.dataset(str(dest), format="parquet", exclude_invalid_files=True,
                         partitioning="hive", ignore_prefixes=["_", "."])  # fmt: skip
    assert on_disk.count_rows() >= sum(expected.values())  # old files wait for the vacuum


def test_a_killed_run_between_its_two_commits_is_rolled_back(src: Path, tmp_path: Path) -> None:
    from deltalake import DeltaTable, write_deltalake

    dest = tmp_path / "store"
    names = export_names(src)
    first = sync(src / names[0], dest)
    sources = _store.sources_uri(str(dest))
    orphan = DeltaTable(sources).to_pyarrow_table()
    orphan = pa.table(orphan).set_column(0, "source", pa.array(["ghost.csv"] * len(orphan)))
    from deltalake import CommitProperties

    version = {_store.VERSION_KEY: str(first.table_version + 1)}  # its events never came
    write_deltalake(
        sources, orphan, mode="append", commit_properties=CommitProperties(custom_metadata=version)
    )
    assert "ghost.csv" not in {f["path"] for f in bex.read_events(str(dest)).attrs["files"]}
    sync(src, dest)
    files = {Path(f["path"]).name for f in bex.read_events(str(dest)).attrs["files"]}
    assert files == set(names)
    assert_same_events(bex.read_events(str(dest)), bex.read_events(str(src)))


class _DroppingSFTPServer:
    """The sandbox SFTP server, but every connection dies after ``limit`` bytes read."""

    def __init__(self, root: Path, limit: int) -> None:
        import asyncssh

        from bextoolkit.sandbox.sftp import SFTPServer

        self.server = SFTPServer(root, username="bex", password="pw")
        limit_box = {"limit": limit}
        self.limit = limit_box

        class Dropping(asyncssh.SFTPServer):
            sent = 0

            def read(self, file_obj, offset, size):
                data = super().read(file_obj, offset, size)
                Dropping.sent += len(data)
                if Dropping.sent > limit_box["limit"]:
                    self.channel.get_connection().abort()
                return data

        self.Dropping = Dropping
        original = self.server._listen

        async def listen():
            import unittest.mock as mock

            real_listen = asyncssh.listen

            async def patched(*args, **kwargs):
                kwargs["sftp_factory"] = lambda chan: Dropping(chan, chroot=str(root))
                return await real_listen(*args, **kwargs)

            with mock.patch.object(asyncssh, "listen", patched):
                return await original()

        self.server._listen = listen

    def __enter__(self):
        self.server.start()
        return self

    def __exit__(self, *exc):
        self.server.stop()


def test_a_dropped_sftp_connection_mid_file_is_completed_by_the_next_run(
    src: Path, tmp_path: Path
) -> None:
    expected = bex.read_events(str(src))
    dest = tmp_path / "store"
    total = sum(p.stat().st_size for p in src.iterdir())
    with _DroppingSFTPServer(src.parent, limit=total // 2) as dropping:
        url = dropping.server.url + "/download"
        options = dropping.server.storage_options
        with pytest.raises(BexConnectionError, match="run the sync again"):
            sync(url, dest, storage_options=options, batch_rows=10**9)
        part_done = bex.read_events(str(dest))
        assert 0 < len(part_done) < len(expected)
        dropping.limit["limit"] = 10**12
        dropping.Dropping.sent = 0
        rerun = sync(url, dest, storage_options=options)
    assert rerun.files_unchanged > 0 and rerun.dataset_events == len(expected)
    assert_same_events(bex.read_events(str(dest)), expected)


# --- interop, compaction, versions ----------------------------------------------------------
def test_many_small_syncs_with_compaction_read_alike_in_every_engine(
    src: Path, tmp_path: Path
) -> None:
    import polars as pl
    from deltalake import DeltaTable

    from bextoolkit.sync._table import MAX_FILES_PER_DATE

    names = export_names(src)
    day = [n for n in names if "_20261103" in n]
    dest = tmp_path / "store"
    compacted = 0
    for name in day:  # hourly syncs, one file each
        compacted += sync(src / name, dest, retention_hours=0).compacted_dates
    assert len(day) > MAX_FILES_PER_DATE and compacted >= 1
    sync(src, dest, retention_hours=0)
    expected = len(bex.read_events(str(src)))
    partition = dest / f"{_store.DATE_COLUMN}=2026-11-03"
    assert len(list(partition.glob("*.parquet"))) <= MAX_FILES_PER_DATE  # vacuumed
    assert len(DeltaTable(str(dest)).to_pyarrow_table()) == expected
    assert pl.scan_delta(str(dest)).select(pl.len()).collect().item() == expected
    assert len(bex.read_events(str(dest))) == expected
    # After the vacuum even a plain Parquet scan of the folder counts right.
    plain = ds.dataset(str(dest), format="parquet", partitioning="hive", ignore_prefixes=["_"])
    assert plain.count_rows() == expected


def test_an_old_manifest_store_is_recognised_and_migrated(
    src: Path, tmp_path: Path, capsys
) -> None:
    import pyarrow.parquet as pq

    old = tmp_path / "old"
    expected = bex.read_events(str(src))
    part = old / "date=2026-11-02" / "part-0.parquet"
    part.parent.mkdir(parents=True)
    pq.write_table(pa.Table.from_pandas(expected, preserve_index=False), part)
    (old / "date=2026-11-02" / "part-left-by-compaction.parquet").write_bytes(part.read_bytes())
    sources = {
        p.name: {"name": p.name, "path": str(p), "size": p.stat().st_size, "rows": 1,
                 "mtime": None, "checksum": "sha256:00", "duplicates": 0}
        for p in src.iterdir()
    }  # fmt: skip
    manifest = {"format": "bextoolkit-sync", "version": 1, "sources": sources,
                "parts": [{"path": "date=2026-11-02/part-0.parquet", "date": "2026-11-02",
                           "rows": len(expected)}]}  # fmt: skip
    (old / "_bex_manifest").mkdir()
    (old / "_bex_manifest" / "v00000001.json").write_text(json.dumps(manifest))
    with pytest.raises(BexFileError, match="--migrate"):
        bex.read_events(str(old))
    with pytest.raises(BexFileError, match="--migrate"):
        sync(src, old)
    new = tmp_path / "new"
    assert main(["sync", "--migrate", str(old), str(new)]) == 0
    assert "holds" in capsys.readouterr().out
    assert_same_events(bex.read_events(str(new)), expected)  # the listed part only
    again = sync(src, new)  # the migrated events are known: nothing doubles
    assert again.events_added == 0 and len(bex.read_events(str(new))) == len(expected)
    assert isinstance(migrate, type(sync))


# --- progress, CLI, --watch, options ------------------------------------------------------------
def test_progress_is_on_by_default_in_a_notebook(src: Path, tmp_path: Path, monkeypatch, capsys):
    import bextoolkit.readers.files as files

    monkeypatch.setattr(files, "in_notebook", lambda: True)
    bex.sync(str(src), str(tmp_path / "store"), settle=0)
    assert "sync" in capsys.readouterr().err


def test_watch_runs_again_and_survives_a_failed_run(src: Path, tmp_path: Path) -> None:
    naps: list[float] = []
    outcomes = list(
        sync_forever(str(tmp_path / "missing"), str(tmp_path / "store"), every_minutes=5,
                     max_runs=2, sleep=naps.append, progress=False)
    )  # fmt: skip
    assert [type(o) for o in outcomes] == [FileNotFoundError, FileNotFoundError]
    assert len(naps) == 1 and 299 < naps[0] <= 300
    ok = list(sync_forever(str(src), str(tmp_path / "d2"), every_minutes=1, max_runs=1,
                           progress=False, settle=0))  # fmt: skip
    assert isinstance(ok[0], SyncResult) and ok[0].files_read > 0


def test_cli_takes_the_sftp_password_from_the_environment(
    src: Path, tmp_path: Path, monkeypatch, capsys
) -> None:
    from bextoolkit.sandbox.sftp import SFTPServer

    dest = tmp_path / "store"
    with SFTPServer(src.parent, username="bex", password="s3cret-pw") as server:
        monkeypatch.setenv("BEX_SFTP_PASSWORD", "s3cret-pw")
        url = f"sftp://bex@127.0.0.1:{server.port}/download"
        argv = ["sync", url, str(dest), "--no-progress", "--settle", "0"]
        assert main([*argv, "-o", "look_for_keys=false", "-o", "allow_agent=false"]) == 0
        in_url = f"sftp://bex:s3cret-pw@127.0.0.1:{server.port}/download"
        options = {"look_for_keys": False, "allow_agent": False}
        again = sync(in_url, dest, storage_options=options)
    out = capsys.readouterr().out
    assert out.startswith(f"synced {len(export_names(src))} new file(s)")
    assert again.files_read == 0 and again.files_unchanged == len(export_names(src))
    provenance = json.dumps(bex.read_events(str(dest)).attrs["files"])
    assert "s3cret-pw" not in out + repr(again) + str(again) + provenance


def test_a_database_column_added_later_does_not_double_old_events(tmp_path: Path) -> None:
    folder = tmp_path / "download"
    folder.mkdir()
    rows = "1,emailSend,2026-11-02T10:00:00Z\n2,emailOpen,2026-11-02T10:05:00Z\n"
    (folder / "a.csv").write_text("RECIPIENT_ID,code,timestamp\n" + rows)
    sync(folder, tmp_path / "store")
    # the job definition now asks for City: the same hour is delivered again, City empty
    wider = rows.replace("Z\n", "Z,\n")
    (folder / "b.csv").write_text("RECIPIENT_ID,code,timestamp,City\n" + wider)
    result = sync(folder, tmp_path / "store")
    assert result.events_added == 0
    assert len(bex.read_events(str(tmp_path / "store"))) == 2


def test_other_exports_in_the_folder_are_skipped_and_recorded(src: Path, tmp_path: Path) -> None:
    contacts = src / "Main Contact Table - All - Mar 3 2022 07-42-20 AM.csv"
    contacts.write_text("Email,RECIPIENT_ID,Opt In Date,Opted Out\nann@example.com,1,,\n")
    (src / "Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv").write_text(
        "Recipient Id,Visitor Key,Page URL,Event Timestamp\n1,v,https://x,12/29/2024 00:00:03\n"
    )
    result = sync(src, tmp_path / "store")
    assert sorted(s["path"].rsplit("/", 1)[-1][:4] for s in result.files_skipped) == [
        "Main",
        "Web ",
    ]
    stored = bex.read_events(str(tmp_path / "store"))
    assert_same_events(stored, bex.read_events(str(src)))
    again = sync(src, tmp_path / "store")  # the skipped files are remembered, not parsed again
    assert again.files_read == 0 and again.events_added == 0


def test_naive_file_times_are_read_in_the_zone_given(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv("BEX_TZ", raising=False)
    folder = tmp_path / "download"
    folder.mkdir()
    (folder / "a.csv").write_text("RECIPIENT_ID,code,timestamp\n1,emailSend,11/02/2026 10:00:00\n")
    with pytest.warns(UserWarning, match="no UTC offset"):
        sync(folder, tmp_path / "guessed")
    sync(folder, tmp_path / "told", read_options={"tz": "America/New_York"})
    told = bex.read_events(str(tmp_path / "told"))["timestamp"].iloc[0]
    assert told == pd.Timestamp("2026-11-02 15:00", tz="UTC")  # 10:00 in New York


def test_read_options_that_would_drop_events_are_refused(src: Path, tmp_path: Path) -> None:
    with pytest.raises(bex.BexConfigError, match="keeps every event"):
        sync(src, tmp_path / "d", read_options={"event_types": ["emailOpen"]})
    with pytest.raises(bex.BexConfigError, match="engine"):
        bex.read_events(str(src), engine="spark")
    with pytest.raises(bex.BexConfigError, match="version"):
        bex.read_events(str(src), version=1)


def test_a_read_of_one_mailing_opens_only_its_files(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "store"
    ev = generate_events(n_recipients=300, n_mailings=6, days=6, seed=7)
    write_exports(ev, str(src), timestamp_format="us")  # a week of mailings
    sync(src, dest)
    full = bex.read_events(str(src))
    mailing = "20221349"  # sent on the 5th day
    table = _store.open_table(str(dest))
    every = _store.select_files(table)
    sources = _store.read_sources(str(dest), 0, with_index=True)
    dates = _store.mailing_dates(sources, [mailing])
    chosen = _store.select_files(table, message_ids=[mailing], dates=dates)
    assert 0 < len(chosen) < len(every)
    skipped = {p for p, _ in every} - {p for p, _ in chosen}
    for path in skipped:  # the files it skips hold none of that mailing's events
        assert mailing not in set(pd.read_parquet(dest / path)["messageId"].astype(str))
    got = bex.read_events(str(dest), messageId=mailing)
    assert_same_events(got, full[full["messageId"] == mailing])


# --- identity across column sets, names unique ignoring case -----------------------------
@pytest.mark.parametrize("together", [False, True])
def test_events_in_another_column_set_are_not_doubled_by_a_sync(
    tmp_path: Path, together: bool
) -> None:
    folder, dest = tmp_path / "download", tmp_path / "store"
    folder.mkdir()
    events = twelve_events()
    write_bex(folder / "a.csv", events)
    if not together:
        assert sync(folder, dest).events_added == 12
    write_rrde(folder / "b.zip", events, ("City",))  # the same events, other columns
    write_bex(folder / "c.csv", events, ("City", "Plan"))
    result = sync(folder, dest, read_options={"tz": "UTC"})
    assert result.events_added == (12 if together else 0)
    assert result.duplicates == 24
    stored = bex.read_events(str(dest))
    assert len(stored) == 12 == len(bex.read_events(str(folder), tz="UTC"))
    if together:  # the copy with more columns is kept
        assert stored["Plan"].notna().sum() == 8
    # a new file of a third column set, and a re-sync: still nothing new
    write_rrde(folder / "d.zip", events)
    assert sync(folder, dest, read_options={"tz": "UTC"}).events_added == 0
    assert sync(folder, dest, read_options={"tz": "UTC"}).files_read == 0
    assert len(bex.read_events(str(dest))) == 12


def test_a_sync_keeps_an_event_whose_shared_column_differs(tmp_path: Path) -> None:
    folder, dest = tmp_path / "download", tmp_path / "store"
    folder.mkdir()
    events = twelve_events()
    write_bex(folder / "a.csv", events, ("City",))
    sync(folder, dest)
    changed = [{**e, "City": ""} if e["who"] == "0" else e for e in events]
    write_bex(folder / "b.csv", changed, ("City", "Plan"))
    assert sync(folder, dest).events_added == 4  # City empty here, filled there: other events
    assert len(bex.read_events(str(dest))) == len(bex.read_events(str(folder))) == 16


def _bex_and_rrde_with_contact_id(folder: Path) -> None:
    events = twelve_events()
    for e in events:
        e["ContactID"] = f"C{e['who']}"
    write_bex(folder / "a.csv", events[:6])
    write_rrde(folder / "b.zip", events[6:], ("ContactID",))


def test_a_column_that_differs_from_a_bex_column_only_by_case_syncs(tmp_path: Path) -> None:
    """Delta refused it: "Duplicate field name (case-insensitive)"."""
    folder, dest = tmp_path / "download", tmp_path / "store"
    folder.mkdir()
    _bex_and_rrde_with_contact_id(folder)
    sync(folder, dest, read_options={"tz": "UTC"})
    stored = bex.read_events(str(dest))
    files = bex.read_events(str(folder), tz="UTC")
    assert len(stored) == len(files) == 12
    assert stored["ContactID_2"].dropna().tolist() == files["ContactID_2"].dropna().tolist()
    renamed = {f["path"].rsplit("/", 1)[-1]: f.get("renamed") for f in stored.attrs["files"]}
    assert renamed == {"a.csv": None, "b.zip": {"ContactID": "ContactID_2"}}
    # a later file spelling a column the store already has in another case
    (folder / "c.csv").write_text(
        "RECIPIENT_ID,code,timestamp,CONTACTID_2\n9,emailSend,2026-11-01T11:00:00Z,X\n"
    )
    sync(folder, dest)
    names = [n.lower() for n in bex.read_events(str(dest)).columns]
    assert len(names) == len(set(names))
    last = [f for f in bex.read_events(str(dest)).attrs["files"] if f["path"].endswith("c.csv")]
    assert last[0]["renamed"] == {"CONTACTID_2": "CONTACTID_2_2"}


def _duckdb_with_delta() -> object:
    """DuckDB with its Delta reader loaded from the ``duckdb-extension-delta`` wheel: no
    network (automatic installs and loads are off)."""
    duckdb = pytest.importorskip("duckdb", reason="the test extra installs duckdb")
    wheel = pytest.importorskip("duckdb_extension_delta", reason="the test extra installs it")
    path = Path(wheel.__file__).parent / "extensions" / f"v{duckdb.__version__}"
    extension = path / "delta.duckdb_extension"
    assert extension.exists(), f"no duckdb-extension-delta build for duckdb {duckdb.__version__}"
    con = duckdb.connect(
        config={"autoinstall_known_extensions": "false", "autoload_known_extensions": "false"}
    )
    con.execute(f"LOAD '{extension}'")
    return con


def test_every_engine_counts_what_read_events_counts_after_replacements_and_optimize(
    src: Path, tmp_path: Path
) -> None:
    import dask
    import dask.dataframe as dd
    import polars as pl
    from deltalake import DeltaTable

    _bex_and_rrde_with_contact_id(src)  # ContactID next to contactId
    dest = tmp_path / "store"
    sync(src, dest, retention_hours=None, read_options={"tz": "UTC"})
    rewritten = src / export_names(src)[3]
    header, *lines = rewritten.read_text().splitlines(keepends=True)
    rewritten.write_text(header + "".join(lines[: len(lines) // 2]))  # re-written, shorter
    assert sync(src, dest, retention_hours=None, read_options={"tz": "UTC"}).files_replaced == 1
    DeltaTable(str(dest)).optimize.compact()
    expected = len(bex.read_events(str(dest)))
    assert expected == len(bex.read_events(str(src), tz="UTC"))

    table = DeltaTable(str(dest))
    assert "ContactID_2" in table.schema().to_arrow().names
    assert table.to_pyarrow_dataset().count_rows() == expected
    assert pl.scan_delta(str(dest)).select(pl.len()).collect().item() == expected
    con = _duckdb_with_delta()
    assert con.execute(f"SELECT count(*) FROM delta_scan('{dest}')").fetchone()[0] == expected
    with dask.config.set(scheduler="synchronous"):
        assert len(dd.read_parquet(table.file_uris())) == expected
        assert len(bex.read_events(str(dest), engine="dask")) == expected
    # A plain Parquet scan of the folder also counts the replaced rows, until a vacuum.
    plain = ds.dataset(str(dest), format="parquet", partitioning="hive", ignore_prefixes=["_"])
    assert plain.count_rows() > expected
    table.vacuum(0, dry_run=False, enforce_retention_duration=False)
    plain = ds.dataset(str(dest), format="parquet", partitioning="hive", ignore_prefixes=["_"])
    assert plain.count_rows() == expected
