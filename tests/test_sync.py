"""Tests of bextoolkit.sync: incremental sync to Parquet, crash safety, reading it back."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pandas as pd
import pytest
from conftest import normalized

import bextoolkit as bex
from bextoolkit.exceptions import BexConnectionError
from bextoolkit.readers import store as _dataset
from bextoolkit.readers.store import read_dataset
from bextoolkit.samples.campaigns import generate_events, write_exports
from bextoolkit.sync import SyncResult, sync_forever

sync = bex.sync


def assert_same_events(left: pd.DataFrame, right: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(normalized(left), normalized(right))


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return generate_events(n_recipients=300, n_mailings=3, days=2, seed=7)


@pytest.fixture
def src(tmp_path: Path, events: pd.DataFrame) -> Path:
    folder = tmp_path / "download"
    write_exports(events, str(folder), timestamp_format="us")
    return folder


def export_names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# --- incremental sync -----------------------------------------------------------------------
def test_sync_twice_copies_nothing_the_second_time(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dataset"
    first = sync(str(src), str(dest), progress=False)
    n_files = len(export_names(src))
    assert first.files_read == n_files and first.files_listed == n_files
    assert first.events_added == first.dataset_events == len(bex.read_events(str(src)))
    second = sync(str(src), str(dest), progress=False)
    assert (second.files_read, second.files_unchanged, second.events_added) == (0, n_files, 0)
    assert second.manifest_version == first.manifest_version  # nothing committed
    assert isinstance(second, SyncResult) and "0 new file(s)" in str(second)


def test_only_new_files_are_read(src: Path, tmp_path: Path, monkeypatch) -> None:
    names = export_names(src)
    held_back = tmp_path / "later"
    held_back.mkdir()
    for name in names[-3:]:
        shutil.move(src / name, held_back / name)
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, progress=False)
    for name in names[-3:]:
        shutil.move(held_back / name, src / name)

    import bextoolkit.sync as sync_module

    seen: list[str] = []
    real = sync_module.read_files

    def spy(urlpath, **kwargs):
        paths = [urlpath] if isinstance(urlpath, str) else urlpath
        seen.extend(os.path.basename(str(p)) for p in paths)
        return real(urlpath, **kwargs)

    monkeypatch.setattr(sync_module, "read_files", spy)
    result = sync(str(src), dest, progress=False)
    assert sorted(seen) == names[-3:]
    assert result.files_read == 3 and result.files_unchanged == len(names) - 3
    monkeypatch.undo()
    assert_same_events(bex.read_events(dest), bex.read_events(str(src)))


def test_source_files_are_never_changed(src: Path, tmp_path: Path) -> None:
    before = {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()}
    sync(str(src), str(tmp_path / "dataset"), progress=False)
    assert {p.name: (p.stat().st_mtime_ns, p.read_bytes()) for p in src.iterdir()} == before


def test_deleted_source_files_keep_their_events(src: Path, tmp_path: Path) -> None:
    dest = str(tmp_path / "dataset")
    full = sync(str(src), dest, progress=False)
    for name in export_names(src)[:5]:
        (src / name).unlink()
    again = sync(str(src), dest, progress=False)
    assert again.dataset_events == full.dataset_events
    assert len(read_dataset(dest)) == full.dataset_events


# --- the same frame -------------------------------------------------------------------------
def test_read_events_on_dataset_equals_reading_the_files(src: Path, tmp_path: Path) -> None:
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, batch_rows=50, progress=False)  # several batches, several parts
    from_csv = bex.read_events(str(src))
    from_parquet = bex.read_events(dest)
    assert list(from_parquet.columns) == list(from_csv.columns)
    assert from_parquet.dtypes.astype(str).tolist() == from_csv.dtypes.astype(str).tolist()
    assert_same_events(from_parquet, from_csv)
    for name in from_parquet.select_dtypes("category"):  # whatever order the parts came in
        categories = from_parquet[name].cat.categories
        assert categories.is_monotonic_increasing, name
        assert categories.dtype == from_csv[name].cat.categories.dtype, name


def test_a_dataset_tells_its_provenance_like_the_files(src: Path, tmp_path: Path) -> None:
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, progress=False)
    from_csv, from_parquet = bex.read_events(str(src)), bex.read_events(dest)
    files = from_parquet.attrs["files"]
    assert sorted(Path(f["path"]).name for f in files) == sorted(
        Path(f["path"]).name for f in from_csv.attrs["files"]
    )
    assert sum(f["rows"] for f in files) == sum(f["rows"] for f in from_csv.attrs["files"])
    assert from_parquet.attrs["skipped_lines"] == []
    page = bex.CampaignReport(from_parquet).to_html()
    assert f"from {len(files)} file(s)" in page
    # provenance is shared, not deep-copied, by every frame derived from the events
    assert from_parquet["eventType"].attrs["files"] is files


def test_filters_are_pushed_down_and_match_the_files(
    src: Path, tmp_path: Path, events: pd.DataFrame
) -> None:
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, progress=False)
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
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, progress=False)
    fs, root = _dataset.fsspec.core.url_to_fs(dest)
    manifest = _dataset.load_manifest(fs, root)
    dates = sorted({p["date"] for p in manifest.parts})
    assert dates[0] == "2026-11-02" and all((Path(dest) / f"date={d}").is_dir() for d in dates)
    chosen = _dataset.select_parts(manifest, start="2026-11-03", end="2026-11-03T12:00")
    assert {p["date"] for p in chosen} == {"2026-11-03"}


# --- duplicates -----------------------------------------------------------------------------
def test_redelivered_and_overlapping_files_add_no_events(
    src: Path, tmp_path: Path, events: pd.DataFrame
) -> None:
    dest = str(tmp_path / "dataset")
    first = sync(str(src), dest, progress=False)
    names = export_names(src)
    # A byte-identical copy under another name, and a file overlapping two hours.
    shutil.copy(src / names[3], src / "copy of an export.csv")
    overlap = events.iloc[100:300]  # parts of several hours, in one file per day
    resent = write_exports(overlap, str(tmp_path / "overlap"), frequency=24, timestamp_format="us")
    for path in resent:
        shutil.copy(path, src / ("re-sent " + os.path.basename(path)))
    result = sync(str(src), dest, progress=False)
    assert result.files_redelivered == 1 and result.files_read == len(resent)
    assert result.events_added == 0 and result.duplicates == len(overlap) + len(
        bex.read_events(str(src / names[3]))
    )
    dataset = bex.read_events(dest)
    assert len(dataset) == first.dataset_events == len(events)
    assert dataset["eventId"].is_unique


def test_events_without_event_id_are_deduplicated_by_the_whole_row(tmp_path: Path) -> None:
    ev = generate_events(n_recipients=60, n_mailings=1, seed=3)
    ev["eventId"] = ev["eventId"].astype("string")
    ev.loc[ev.index[:10], "eventId"] = pd.NA
    src = tmp_path / "src"
    write_exports(ev, str(src), timestamp_format="us")
    dest = str(tmp_path / "dataset")
    sync(str(src), dest, progress=False)
    first = export_names(src)[0]
    shutil.copy(src / first, src / "again.csv")
    with open(src / "again.csv", "a") as fh:  # different bytes: parsed, not skipped
        fh.write("\n")
    result = sync(str(src), dest, progress=False)
    assert result.files_read == 1 and result.events_added == 0
    got = read_dataset(dest)
    assert int(got["eventId"].isna().sum()) == 10
    assert_same_events(got, bex.read_events(str(src)))


# --- crashes and dropped connections ---------------------------------------------------------
CRASHING_SYNC = textwrap.dedent(
    """
    import os, signal, sys
    import fsspec.implementations.local as local
    from bextoolkit.sync import sync

    src, dest, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    writes = 0
    real_write = local.LocalFileOpener.write

    def write(self, data):
        global writes
        writes += 1
        if writes == kill_at:  # die mid-write: half the bytes reach the file, then SIGKILL
            real_write(self, data[: len(data) // 2])
            self.flush()
            os.kill(os.getpid(), signal.SIGKILL)
        return real_write(self, data)

    local.LocalFileOpener.write = write
    sync(src, dest, batch_rows=200, progress=False)
    """
)


def run_crashing_sync(src: Path, dest: Path, kill_at: int) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-c", CRASHING_SYNC, str(src), str(dest), str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_a_sync_killed_mid_write_is_completed_by_the_next_run(
    src: Path, tmp_path: Path, monkeypatch
) -> None:
    import random

    import fsspec.implementations.local as local

    writes = []
    real_write = local.LocalFileOpener.write

    def counting(self, data):
        writes.append(len(data))
        return real_write(self, data)

    monkeypatch.setattr(local.LocalFileOpener, "write", counting)
    clean = tmp_path / "clean"
    sync(str(src), str(clean), batch_rows=200, progress=False)  # the same writes, counted
    monkeypatch.undo()
    expected = read_dataset(str(clean))
    assert len(writes) > 10
    points = sorted(random.Random(5).sample(range(1, len(writes) + 1), 3))
    for kill_at in points:
        dest = tmp_path / f"killed-at-{kill_at}"
        crashed = run_crashing_sync(src, dest, kill_at)
        assert crashed.returncode == -9, (kill_at, crashed.stderr)
        if _dataset.is_synced_dataset(str(dest)):  # what a reader sees right after the crash
            visible = read_dataset(str(dest))
            assert visible["eventId"].is_unique
            assert set(visible["eventId"]) <= set(expected["eventId"])
        rerun = sync(str(src), str(dest), batch_rows=200, progress=False)
        assert rerun.dataset_events == len(expected), kill_at
        assert_same_events(read_dataset(str(dest)), expected)
        leftovers = {p.name for p in dest.glob("date=*/*")} - {
            Path(p["path"]).name for p in _manifest(dest).parts
        }
        assert not leftovers, (kill_at, leftovers)


def _manifest(dest: Path) -> _dataset.Manifest:
    fs, root = _dataset.fsspec.core.url_to_fs(str(dest))
    return _dataset.load_manifest(fs, root)


def test_a_damaged_newest_manifest_falls_back_to_the_one_before(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dataset"
    names = export_names(src)
    first = sync(str(src / names[0]), str(dest), progress=False)
    sync(str(src), str(dest), progress=False)
    newest = sorted((dest / "_bex_manifest").glob("v*.json"))[-1]
    newest.write_text(newest.read_text()[:100])  # as a store without atomic rename might
    assert len(read_dataset(str(dest))) == first.dataset_events
    rerun = sync(str(src), str(dest), progress=False)
    assert rerun.dataset_events == len(bex.read_events(str(src)))
    assert_same_events(read_dataset(str(dest)), bex.read_events(str(src)))


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
    root = src.parent
    dest = tmp_path / "dataset"
    total = sum(p.stat().st_size for p in src.iterdir())
    with _DroppingSFTPServer(root, limit=total // 2) as dropping:
        url = dropping.server.url + "/download"
        options = dropping.server.storage_options
        with pytest.raises(BexConnectionError, match="run the sync again"):
            sync(url, str(dest), storage_options=options, batch_rows=10**9, progress=False)
        part_done = read_dataset(str(dest))
        assert 0 < len(part_done) < len(expected)
        dropping.limit["limit"] = 10**12
        dropping.Dropping.sent = 0
        rerun = sync(url, str(dest), storage_options=options, progress=False)
    assert rerun.files_unchanged > 0 and rerun.dataset_events == len(expected)
    assert_same_events(bex.read_events(str(dest)), expected)


# --- fsspec destinations, the CLI and --watch -----------------------------------------------
def test_sync_to_an_fsspec_url(src: Path) -> None:
    import uuid

    dest = f"memory://bex-{uuid.uuid4().hex}"
    result = sync(str(src), dest, progress=False)
    assert result.dataset_events > 0
    assert _dataset.is_synced_dataset(dest)
    assert_same_events(bex.read_events(dest), bex.read_events(str(src)))


def test_watch_runs_again_and_survives_a_failed_run(src: Path, tmp_path: Path) -> None:
    naps: list[float] = []
    outcomes = list(
        sync_forever(
            str(tmp_path / "missing"),
            str(tmp_path / "dataset"),
            every_minutes=5,
            max_runs=2,
            sleep=naps.append,
            progress=False,
        )
    )
    assert [type(o) for o in outcomes] == [FileNotFoundError, FileNotFoundError]
    assert len(naps) == 1 and 299 < naps[0] <= 300
    ok = list(
        sync_forever(str(src), str(tmp_path / "d2"), every_minutes=1, max_runs=1, progress=False)
    )
    assert isinstance(ok[0], SyncResult) and ok[0].files_read > 0


def test_hourly_syncs_keep_few_parts_per_date(src: Path, tmp_path: Path) -> None:
    from bextoolkit.sync import MAX_PARTS_PER_DATE

    names = export_names(src)
    day = [n for n in names if "_20261103" in n]  # the files of one day, synced one by one
    dest = tmp_path / "dataset"
    for name in day:
        sync(str(src / name), str(dest), progress=False)
    parts = [p for p in _manifest(dest).parts if p["date"] == "2026-11-03"]
    assert len(day) > MAX_PARTS_PER_DATE and 1 <= len(parts) <= MAX_PARTS_PER_DATE
    sync(str(src), str(dest), progress=False)
    assert_same_events(read_dataset(str(dest)), bex.read_events(str(src)))
    on_disk = {p.name for p in dest.glob("date=*/*.parquet")}
    listed = set()
    for path in (dest / "_bex_manifest").glob("v*.json"):
        listed |= {
            Path(p["path"]).name for p in _dataset.Manifest.from_json(path.read_text()).parts
        }
    assert on_disk == listed  # replaced parts are deleted once no kept manifest lists them


def test_read_options_that_would_drop_events_are_refused(src: Path, tmp_path: Path) -> None:
    with pytest.raises(bex.BexConfigError, match="keeps every event"):
        sync(str(src), str(tmp_path / "d"), read_options={"event_types": ["emailOpen"]})
    with pytest.raises(bex.BexConfigError, match="engine"):
        bex.read_events(str(src), engine="spark")


def test_a_read_of_one_mailing_opens_only_its_parts(src: Path, tmp_path: Path) -> None:
    dest = tmp_path / "dataset"
    sync(str(src), str(dest), progress=False)
    manifest = _manifest(dest)
    mailing = manifest.parts[-1]["messageIds"][0]
    chosen = _dataset.select_parts(manifest, message_ids=[mailing])
    assert 0 < len(chosen) <= len(manifest.parts)
    assert all(mailing in p["messageIds"] for p in chosen)
    skipped = {p["path"] for p in manifest.parts} - {p["path"] for p in chosen}
    full = bex.read_events(str(src))
    assert not full[full["messageId"] == mailing].empty
    for relative in skipped:  # the parts it skips hold none of that mailing's events
        assert mailing not in set(pd.read_parquet(dest / relative)["messageId"].astype(str))
    got = bex.read_events(str(dest), messageId=mailing)
    assert_same_events(got, full[full["messageId"] == mailing])
