"""The Dask engine on a real ``dask.distributed.LocalCluster`` with 2 worker processes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from conftest import canonical, normalized

import bextoolkit as bex
from bextoolkit.readers.dask import read_files_dask
from bextoolkit.reports._dask import is_dask_frame, report_columns
from bextoolkit.samples.campaigns import generate_events, write_exports

_NO_DASK = "the dask extra is missing: pip install -e '.[dask]'"
distributed = pytest.importorskip("distributed", reason=_NO_DASK)
dd = pytest.importorskip("dask.dataframe", reason=_NO_DASK)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=":0",  # any free port: another cluster may hold 8787
        silence_logs=40,
    )
    with cluster, distributed.Client(cluster) as dask_client:
        yield dask_client


@pytest.fixture(scope="module")
def data(tmp_path_factory) -> dict[str, str]:
    root = tmp_path_factory.mktemp("dask")
    events = generate_events(n_recipients=400, n_mailings=3, days=2, seed=11)
    src = root / "download"
    names = write_exports(events, str(src), timestamp_format="us")
    # A re-delivered hour under another name: every engine must drop its events again.
    Path(names[5]).with_name("re-delivered.csv").write_bytes(Path(names[5]).read_bytes())
    dest = root / "dataset"
    bex.sync(str(src), str(dest), batch_rows=400, progress=False, settle=0)
    return {"root": str(root), "src": str(src), "dest": str(dest)}


def test_read_events_with_dask_over_files_equals_pandas(client, data) -> None:
    lazy = bex.read_events(data["src"], engine="dask")
    assert is_dask_frame(lazy) and not is_dask_frame(pd.DataFrame())
    assert lazy.npartitions == 1  # small hourly files are grouped into one task
    expected = bex.read_events(data["src"])
    got = lazy.compute()
    assert len(got) == len(expected)  # the re-delivered file's events dropped across files
    pd.testing.assert_frame_equal(normalized(got), normalized(expected))


def test_duplicates_across_partitions_are_dropped_by_a_shuffle(client, data) -> None:
    from bextoolkit.readers.dask import read_files_dask

    paths = sorted(str(p) for p in Path(data["src"]).iterdir())
    lazy = read_files_dask(paths, sizes=[1] * len(paths), partition_bytes=10)  # 4 partitions
    assert lazy.npartitions >= 4
    expected = bex.read_events(data["src"])
    got = lazy.compute()
    assert len(got) == len(expected) and got["eventId"].is_unique
    pd.testing.assert_frame_equal(normalized(got), normalized(expected))


def test_partitions_follow_the_pandas_identity_not_event_ids(client, tmp_path) -> None:
    """eventId names the event's type here; a row repeated k times per file stays k times."""
    header = "RECIPIENT_ID,code,timestamp,eventId\n"
    row = "{},emailOpen,2026-11-01T10:0{}:00Z,Weekly Sale\n"
    files = {"a.csv": [row.format(1, 0)] * 2 + [row.format(2, 0)],
             "b.csv": [row.format(1, 0)] * 3 + [row.format(3, 1)],
             "c.csv": [row.format(2, 0), row.format(4, 2)]}  # fmt: skip
    for name, rows in files.items():
        (tmp_path / name).write_text(header + "".join(rows))
    from bextoolkit.readers.dask import read_files_dask

    paths = [str(tmp_path / name) for name in files]
    got = read_files_dask(paths, sizes=[1, 1, 1], partition_bytes=1).compute()  # 3 partitions
    expected = bex.read_events(tmp_path)
    assert len(expected) == 6  # recipient 1 three times (b's count), 2 once, 3, 4
    counts = got.groupby("RECIPIENT_ID", observed=True).size().to_dict()
    assert counts == {"1": 3, "2": 1, "3": 1, "4": 1}
    pd.testing.assert_frame_equal(
        normalized(got.sort_values(["RECIPIENT_ID", "timestamp"], ignore_index=True)),
        normalized(expected.sort_values(["RECIPIENT_ID", "timestamp"], ignore_index=True)),
    )


def test_read_events_with_dask_over_the_synced_dataset_pushes_filters_down(client, data) -> None:
    full = bex.read_events(data["dest"])
    mailing = str(full["messageId"].cat.categories[0])
    query = {
        "messageId": mailing,
        "event_types": ["emailOpen"],
        "start": "2026-11-02T10:00Z",
        "columns": ["RECIPIENT_ID", "messageId", "eventId"],
    }
    lazy = bex.read_events(data["dest"], engine="dask", **query)
    got = lazy.compute()
    assert list(got.columns) == ["RECIPIENT_ID", "messageId", "eventId", "eventType"]
    assert 0 < len(got) < len(full)
    pd.testing.assert_frame_equal(
        normalized(got), normalized(bex.read_events(data["src"], **query))
    )
    pd.testing.assert_frame_equal(
        normalized(bex.read_events(data["dest"], engine="dask").compute()), normalized(full)
    )


REPORTS = [
    ("funnel", {}),
    ("funnel", {"by": ["messageId", "day"], "convention": "iterable"}),
    ("event_counts", {"by": "messageId"}),
    ("bounce_breakdown", {}),
    ("bounce_breakdown", {"by": "domain"}),
    ("click_urls", {}),
    ("click_urls", {"by": "messageId", "normalize": False}),
]


@pytest.mark.parametrize(("name", "options"), REPORTS)
def test_reports_agree_on_csv_parquet_and_dask(client, data, name, options) -> None:
    report = getattr(bex, name)
    on_csv = report(bex.read_events(data["src"]), **options)
    on_parquet = report(bex.read_events(data["dest"]), **options)
    on_dask_files = report(bex.read_events(data["src"], engine="dask"), **options)
    on_dask_parquet = report(bex.read_events(data["dest"], engine="dask"), **options)
    assert len(on_csv) > 0
    pd.testing.assert_frame_equal(on_dask_parquet, on_parquet)  # same input order: identical
    for other in (on_parquet, on_dask_files):
        pd.testing.assert_frame_equal(canonical(other), canonical(on_csv))


def test_funnel_numbers_are_the_distinct_recipients(client, data) -> None:
    events = bex.read_events(data["dest"])
    result = bex.funnel(bex.read_events(data["dest"], engine="dask")).set_index("messageId")
    sends = events[events["eventType"] == "emailSend"]
    expected = sends.groupby("messageId", observed=True)["RECIPIENT_ID"].nunique()
    assert result["sent"].to_dict() == expected.to_dict()
    opens = events[events["eventType"] == "emailOpen"].groupby("messageId", observed=True)
    assert result["gross_opens"].to_dict() == opens.size().to_dict()


def test_only_the_columns_a_report_needs_reach_the_client() -> None:
    assert report_columns("bounce_breakdown", {"by": "day"}) == [
        "RECIPIENT_ID", "Email", "eventType", "bounceType", "code", "messageId", "timestamp",
        "Recipient Type",
    ]  # fmt: skip
    assert report_columns("funnel", {"exclude": True}) is None  # flags need every column


def test_storage_options_reach_the_workers(client, data) -> None:
    from bextoolkit.sandbox.sftp import SFTPServer

    with SFTPServer(data["root"], username="bex", password="pw") as server:
        lazy = bex.read_events(
            server.url + "/download/*.csv",
            storage_options=server.storage_options,
            engine="dask",
        )
        remote = lazy.compute()  # parsed in the worker processes, over SFTP
    pd.testing.assert_frame_equal(normalized(remote), normalized(bex.read_events(data["src"])))


def test_reports_on_many_partitions_equal_pandas(client, data) -> None:
    from bextoolkit.readers.dask import read_store_dask

    lazy = read_store_dask(data["dest"], partition_rows=1)  # one data file per partition
    assert lazy.npartitions > 1
    for report in (bex.funnel, bex.click_urls, bex.bounce_breakdown):
        pd.testing.assert_frame_equal(report(lazy), report(bex.read_events(data["dest"])))


def test_dask_prunes_the_store_by_partition_and_column(client, data) -> None:
    from bextoolkit.readers.dask import read_store_dask

    every = read_store_dask(data["dest"], partition_rows=1)
    one_day = read_store_dask(data["dest"], start="2026-11-03", end="2026-11-04", partition_rows=1)
    assert 0 < one_day.npartitions < every.npartitions  # other dates' files are not read
    seen: list[list[str] | None] = []
    narrow = one_day[["messageId", "eventType"]]
    got = narrow.compute()
    expected = bex.read_events(
        data["dest"], start="2026-11-03", end="2026-11-04", columns=["messageId"]
    )
    pd.testing.assert_frame_equal(normalized_rows(got), normalized_rows(expected))
    from bextoolkit.readers import dask as dask_module

    real = dask_module._ReadStoreFiles.__call__

    def spy(self, paths, columns=None):
        seen.append(None if columns is None else list(columns))
        return real(self, paths, columns=columns)

    dask_module._ReadStoreFiles.__call__ = spy  # type: ignore[method-assign]
    try:
        narrow.compute(scheduler="sync")  # in this process, to see what the tasks read
    finally:
        dask_module._ReadStoreFiles.__call__ = real  # type: ignore[method-assign]
    assert seen and all(c is not None and set(c) <= {"messageId", "eventType"} for c in seen)


def normalized_rows(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.astype("string").sort_values(list(frame.columns)).reset_index(drop=True)
    out.attrs = {}
    return out


def test_other_exports_in_the_folder_are_skipped_by_both_engines(client, tmp_path) -> None:
    """A contact list first in name order (it gave the partitions' columns, and a lone
    file of a partition counted as named) and a Web Tracking export beside the BEX files:
    skipped by Dask as by pandas; the one file named is an error in both."""
    events = generate_events(n_recipients=60, n_mailings=2, days=1, seed=3)
    write_exports(events, str(tmp_path))
    contacts = tmp_path / "Main Contact Table revision 3 - All - Mar 3 2022 07-42-20 AM.CSV"
    contacts.write_text("Email,Opt In Date,First Name\na@x.org,2022-01-01,Ann\n")
    (tmp_path / "Web Tracking Data Export Dec 30 2024 00-27-51 AM 901.csv").write_text(
        "Recipient Id,Site,Visit Date\n1,x.org,2024-12-30\n"
    )
    expected = bex.read_events(tmp_path, progress=False)
    assert len(expected.attrs["skipped_files"]) == 2
    lazy = bex.read_events(tmp_path, engine="dask", progress=False)
    pd.testing.assert_frame_equal(normalized(lazy.compute()), normalized(expected))
    paths = sorted(str(p) for p in tmp_path.iterdir())
    one_each = read_files_dask(paths, partition_bytes=1)  # a partition per file
    assert one_each.npartitions == len(paths)
    pd.testing.assert_frame_equal(normalized(one_each.compute()), normalized(expected))
    for engine in ("pandas", "dask"):
        with pytest.raises(bex.BexFileError, match="contact-list export"):
            bex.read_events(contacts, engine=engine)
