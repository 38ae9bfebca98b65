"""The Dask engine: ``read_events(..., engine="dask")``, a lazy frame over files or a store.

Kept thin on purpose: the same file reader and the same Parquet reading code as the
pandas engine run inside Dask tasks (``dask.dataframe.from_map``), one task per ~128 MB
of export files or per ~2M events of the store's data files, so a Dask frame computes to the
pandas frame.

What runs where
---------------
- On the client: listing the files, or reading the store's Delta log; no event data.
- On the workers: for each partition, download and parse the files (or read the
  store's data files with the filters pushed down, and only the columns asked for); for
  export files, the cross-file ``eventId`` deduplication (a shuffle between workers).
- Reports on a Dask frame: see :mod:`bextoolkit.reports._dask`.

Point it at an existing cluster by creating a ``dask.distributed.Client(address)``
before calling; ``storage_options`` travel with each task, so workers reach SFTP or
object stores with the same credentials.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import pyarrow as pa

from bextoolkit.readers import store as _store
from bextoolkit.readers._dedupe import cross_file_duplicates, row_keys

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd

log = logging.getLogger(__name__)

_KEY, _PART, _POS, _ID = "__bex_row_key__", "__bex_partition__", "__bex_row__", "__bex_id__"


def _require_dask() -> Any:
    try:
        import dask.dataframe as dd
    except ImportError as exc:  # pragma: no cover - depends on the environment
        from bextoolkit.exceptions import BexConfigError

        raise BexConfigError("engine='dask' needs Dask: pip install 'bextoolkit[dask]'") from exc
    return dd


# --- reading ---------------------------------------------------------------------------------
class _ReadStoreFiles:
    """One Dask task: read a few data files of the store's Delta table, filters pushed down.

    The files come from the version the client opened (a vacuum keeps them for the
    retention time); ``storage_options`` travel with the task, so workers reach object
    stores too. Its ``columns=`` keyword lets Dask push a projection down:
    ``frame[["a", "b"]]`` makes every task read only those columns.
    """

    def __init__(
        self,
        urlpath: str,
        storage_options: Mapping[str, Any] | None,
        schema: pa.Schema,
        columns: Sequence[str],
        query: Mapping[str, Any],
    ) -> None:
        self.urlpath, self.storage_options = urlpath, dict(storage_options or {})
        self.schema, self.columns, self.query = schema, list(columns), dict(query)

    def __call__(self, paths: Sequence[str], columns: Sequence[str] | None = None) -> pd.DataFrame:
        names = [c for c in self.columns if columns is None or c in columns]
        scan = _store.files_dataset(self.urlpath, self.storage_options, paths, self.schema)
        return _store.to_frame(
            scan.to_table(columns=names, filter=_store.build_filter(**self.query))
        )


#: Events per Dask partition of a synced store (consecutive data files are grouped).
PARTITION_ROWS = 2_000_000


def group_parts(parts: Sequence[Mapping[str, Any]], rows: int) -> list[list[Mapping[str, Any]]]:
    """Consecutive parts (``{"rows": n, ...}``) grouped to about ``rows`` events each.

    Examples
    --------
    >>> [len(g) for g in group_parts([{"rows": 5}, {"rows": 5}, {"rows": 9}], 10)]
    [2, 1]
    """
    groups: list[list[Mapping[str, Any]]] = []
    total = 0
    for part in parts:
        if groups and total + int(part["rows"]) <= rows:
            groups[-1].append(part)
            total += int(part["rows"])
        else:
            groups.append([part])
            total = int(part["rows"])
    return groups


class _ReadFile:
    """One Dask task: read a few export files with the pandas engine's own reader."""

    def __init__(
        self, storage_options: Mapping[str, Any], options: Mapping[str, Any], named: bool
    ) -> None:
        self.storage_options = dict(storage_options)
        self.options = dict(options)
        self.named = named

    def __call__(self, paths: Sequence[str]) -> pd.DataFrame:
        from bextoolkit.readers.files import read_files

        # a list never names a file: files of another kind in it are skipped
        urlpath = paths[0] if self.named else list(paths)
        frame = read_files(urlpath, storage_options=self.storage_options, **self.options)
        frame.attrs.clear()  # attrs do not survive concatenation: keep partitions alike
        return frame


def _first_export(reader: _ReadFile, paths: Sequence[str]) -> pd.DataFrame:
    """The first of ``paths`` that holds events, read (the frame's columns and types: a
    contact list first in name order has none)."""
    for path in paths:
        frame = reader([path])
        if len(frame):
            return frame
    return frame


def read_store_dask(
    urlpath: str,
    *,
    columns: Sequence[str] | None = None,
    start: Any = None,
    end: Any = None,
    messageId: Any = None,
    event_types: Any = None,
    storage_options: Mapping[str, Any] | None = None,
    version: int | None = None,
    partition_rows: int = PARTITION_ROWS,
) -> dd.DataFrame:
    r"""A synced store as a Dask DataFrame: one partition per ~``partition_rows`` events.

    On the client only the Delta log is read: the data files of the version are pruned by
    date partition and by their statistics (mailings, times) against the filters. Each
    partition then reads its files on a worker, filters pushed down; selecting columns of
    the result (``frame[[...]]``) reads only those columns.

    Examples
    --------
    >>> import tempfile
    >>> from bextoolkit.samples import generate_events, write_exports
    >>> from bextoolkit.sync import sync
    >>> folder = tempfile.mkdtemp()
    >>> events = generate_events(n_recipients=50, n_mailings=1, seed=1)
    >>> _ = write_exports(events, f"{folder}/src")
    >>> _ = sync(f"{folder}/src", f"{folder}/store", settle=0, progress=False)
    >>> opens = read_store_dask(f"{folder}/store", event_types=["emailOpen"])
    >>> len(opens.compute()) == int((events["eventType"] == "emailOpen").sum())  # pushed down
    True
    """
    dd = _require_dask()
    table = _store.open_table(urlpath, storage_options, version)
    names = _store.check_columns(_store.event_columns(table), columns)
    sources = _store.read_sources(urlpath, table.version(), storage_options, with_index=True)
    query = {
        "start": start,
        "end": end,
        "message_ids": _store.as_list(messageId),
        "event_types": _store.as_list(event_types),
    }
    dates = _store.mailing_dates(sources, query["message_ids"])
    files = _store.select_files(
        table, start=start, end=end, message_ids=query["message_ids"], dates=dates
    )
    schema = _store.scan_schema(table)
    meta = _store.to_frame(schema.empty_table().select(names))
    if not files:
        return dd.from_pandas(meta, npartitions=1)
    reader = _ReadStoreFiles(urlpath, storage_options, schema, names, query)
    parts = [{"path": path, "rows": rows} for path, rows in files]
    groups = [[p["path"] for p in g] for g in group_parts(parts, partition_rows)]
    return dd.from_map(reader, groups, meta=meta, enforce_metadata=False)


#: Bytes of export files parsed by one Dask task (one partition).
PARTITION_BYTES = 128 * 1024 * 1024


def read_files_dask(
    paths: Sequence[str],
    *,
    sizes: Sequence[int] | None = None,
    partition_bytes: int = PARTITION_BYTES,
    storage_options: Mapping[str, Any] | None = None,
    dedupe: bool | str = True,
    named: bool = False,
    **read_options: Any,
) -> dd.DataFrame:
    r"""Export files as a Dask DataFrame, parsed on the workers.

    Consecutive files are grouped into partitions of about ``partition_bytes`` (hourly
    files are small); each partition is one :func:`~bextoolkit.readers.read_files` call
    on a worker, which also drops duplicates within it.

    Parameters
    ----------
    paths : sequence of str
        Full URLs of the files, in name order.
    sizes : sequence of int, optional
        Their sizes in bytes (default: one file per partition).
    partition_bytes : int
        Target bytes of files per partition.
    storage_options : mapping, optional
        fsspec options; they travel with each task to the workers.
    dedupe : True, "eventId" or False, default True
        As :func:`bextoolkit.read_events` means it, across partitions too (a shuffle).
    named : bool, default False
        ``paths`` is the one file the user named: a file of another kind (a contact
        list, Web Tracking) is an error, as in :func:`bextoolkit.read_events`. Otherwise
        such files are skipped, as in a folder.
    **read_options
        Passed to :func:`~bextoolkit.readers.read_files`.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> header = "Email,RECIPIENT_ID,code,timestamp,eventId\n"
    >>> send = "a@x.com,1,emailSend,2026-11-02T08:00:00Z,e1\n"
    >>> _ = (folder / "a.csv").write_text(header + send)
    >>> open_ = send.replace("Send", "Open").replace("e1", "e2")
    >>> _ = (folder / "b.csv").write_text(header + send + open_)
    >>> paths = [str(folder / "a.csv"), str(folder / "b.csv")]  # b.csv delivers the send again
    >>> events = read_files_dask(paths, tz="UTC")  # one partition per file here
    >>> events.npartitions, len(events.compute())  # the send once
    (2, 2)
    """
    dd = _require_dask()
    if not paths:
        raise FileNotFoundError("no export files to read")
    groups = group_files(paths, sizes, partition_bytes)
    reader = _ReadFile(storage_options or {}, {**read_options, "dedupe": dedupe}, named)
    meta = _first_export(reader, groups[0]).iloc[:0]
    frame = dd.from_map(reader, groups, meta=meta, enforce_metadata=False)
    if len(groups) > 1 and dedupe == "eventId" and "eventId" in meta.columns:
        frame = drop_repeated_event_ids(frame)
    elif len(groups) > 1 and dedupe:
        frame = drop_duplicate_events(frame)
    return frame


def group_files(
    paths: Sequence[str], sizes: Sequence[int] | None, partition_bytes: int
) -> list[list[str]]:
    """Consecutive paths grouped to about ``partition_bytes`` each.

    Examples
    --------
    >>> group_files(["a", "b", "c"], [60, 50, 10], 100)
    [['a'], ['b', 'c']]
    >>> group_files(["a", "b"], None, 100)
    [['a'], ['b']]
    """
    if sizes is None:
        return [[p] for p in paths]
    groups: list[list[str]] = []
    total = 0
    for path, size in zip(paths, sizes, strict=True):
        if groups and total + size <= partition_bytes:
            groups[-1].append(path)
            total += size
        else:
            groups.append([path])
            total = size
    return groups


def drop_duplicate_events(frame: dd.DataFrame) -> dd.DataFrame:
    r"""Drop events that an earlier partition already delivered: the pandas engine's rule.

    Each partition already applied it among its own files (``read_files``, column sets
    included); across partitions the rows are shuffled by :func:`row_keys` and, per key,
    the largest count of any one partition is kept: there, rows of files with other
    columns are the same event only when their full rows are equal (not done yet: the
    comparison on the columns both carry). The max over partitions of per-partition maxima is the
    max over files, so the numbers equal the pandas engine's.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> rows = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "1"], "eventId": ["e1", "e2", "e1"]})
    >>> twice = dd.from_pandas(rows.astype("string"), npartitions=2)  # e1 in both partitions
    >>> sorted(drop_duplicate_events(twice).compute()["eventId"])
    ['e1', 'e2']
    """

    def keyed(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        out = part.copy()
        table = pa.Table.from_pandas(part, preserve_index=False)
        out[_KEY] = row_keys(table).view(np.int64)
        out[_PART] = (partition_info or {}).get("number", 0)
        out[_POS] = np.arange(len(part))
        return out

    def drop(part: pd.DataFrame) -> pd.DataFrame:
        part = part.sort_values([_PART, _POS], kind="stable")
        keys = part[_KEY].to_numpy().view(np.uint64)
        dropped = cross_file_duplicates(keys, part[_PART].to_numpy())
        return part[~dropped].drop(columns=[_KEY, _PART, _POS])

    extra = {_KEY: pd.Series(dtype="int64"), _PART: pd.Series(dtype="int64"),
             _POS: pd.Series(dtype="int64")}  # fmt: skip
    shuffled = frame.map_partitions(keyed, meta=frame._meta.assign(**extra)).shuffle(
        _KEY, npartitions=frame.npartitions
    )
    deduped = shuffled.map_partitions(drop, meta=frame._meta)
    # The shuffle goes through Arrow, which loses the dtype of empty categories.
    return deduped.map_partitions(like_meta, frame._meta, meta=frame._meta)


def drop_repeated_event_ids(frame: dd.DataFrame) -> dd.DataFrame:
    r"""``dedupe="eventId"``: the first event of each ``eventId`` across partitions.

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> rows = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "3"], "eventId": ["e1", "e2", "e1"]})
    >>> shared = dd.from_pandas(rows.astype("string"), npartitions=2)
    >>> drop_repeated_event_ids(shared).compute()["RECIPIENT_ID"].tolist()  # e1's first only
    ['1', '2']
    """

    def with_key(part: pd.DataFrame, partition_info: dict | None = None) -> pd.DataFrame:
        number = (partition_info or {}).get("number", 0)
        ids = part["eventId"].astype("string")
        own = pd.Series([f"\x00{number}:{i}" for i in range(len(part))], index=part.index)
        out = part.copy()
        out[_ID] = ids.where(ids.notna(), own.astype("string"))
        return out

    meta = frame._meta.assign(**{_ID: pd.Series(dtype="string")})
    keyed = frame.map_partitions(with_key, meta=meta)
    deduped = keyed.drop_duplicates(subset=[_ID], keep="first", split_out=frame.npartitions)
    deduped = deduped.drop(columns=[_ID])
    return deduped.map_partitions(like_meta, frame._meta, meta=frame._meta)


def like_meta(part: pd.DataFrame, meta: pd.DataFrame) -> pd.DataFrame:
    """``part`` with the dtypes of ``meta`` (category values' dtype included).

    Examples
    --------
    >>> import pandas as pd
    >>> meta = pd.DataFrame({"RECIPIENT_ID": pd.Series([], dtype="string"),
    ...                      "eventType": pd.Series([], dtype="category")})
    >>> part = pd.DataFrame({"RECIPIENT_ID": pd.array(["1"], dtype=object),
    ...                      "eventType": pd.Categorical(["emailOpen"])})
    >>> like_meta(part, meta).dtypes.astype(str).tolist()
    ['string', 'category']
    """
    out = part
    for name in meta.columns:
        want, have = meta[name].dtype, part[name].dtype
        if isinstance(want, pd.CategoricalDtype) and isinstance(have, pd.CategoricalDtype):
            cats = have.categories
            if cats.dtype != want.categories.dtype:
                out = out.assign(
                    **{
                        name: part[name].astype(
                            pd.CategoricalDtype(cats.astype(want.categories.dtype))
                        )
                    }
                )
        elif want != have:
            out = out.assign(**{name: part[name].astype(want)})
    return out
