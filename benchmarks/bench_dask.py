"""Benchmark: reports on the Dask workers over a synced Delta table, at two sizes.

Run (the machine it was measured on had 2 shared cores; see README "Out of core")::

    .venv/bin/python benchmarks/bench_dask.py --sizes 1e6,4e6 --memory-limit 1GiB

Per size: a year of hourly export files (``write_campaign``) synced with ``bextoolkit.sync``
to a Delta table, then, each in its own fresh process so its peak memory is its own:

- ``dask``: a ``LocalCluster`` of 2 worker processes with ``--memory-limit`` each, over
  the store read by ``read_store_dask(DEST, partition_rows=...)``: the events shuffled by
  recipient once and persisted on the workers (``bex.reports.by_recipient(...).persist()``),
  then the funnel per mailing, the funnel per domain, ``click_urls`` and
  ``bounce_breakdown``, then the whole ``CampaignReport`` page. Measured: the client's
  peak RSS and its peak of Python allocations (``tracemalloc``), each worker's peak RSS,
  the bytes the workers spilled to disk, and the seconds per million events. The
  allocations' peak is also given per phase (starting the cluster, the shuffle, the 4
  reports, the page), with the partitions read and after the shuffle.
- ``pandas`` (the smallest size only): the same reports and page on
  ``read_events(DEST)``; the ``dask`` step checks its results equal these exactly (the
  page up to its "Data and conventions" section, which lists the files pandas read).
- ``duckdb``: the funnel per mailing in DuckDB over the table's current Parquet files
  (``DeltaTable.file_uris()``), the same send-level SQL as ``bench_reports.py``.
"""

from __future__ import annotations

import argparse
import json
import math
import resource
import shutil
import sys
import time
from pathlib import Path

REPORTS = {
    "funnel": {},
    "funnel_domain": {"by": "domain"},
    "click_urls": {},
    "bounce_breakdown": {},
}


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def _run_reports(events: object) -> tuple[dict, dict]:
    """Each report's result and its seconds."""
    import bextoolkit as bex

    results, seconds = {}, {}
    for name, options in REPORTS.items():
        started = time.perf_counter()
        results[name] = getattr(bex, name.split("_domain")[0])(events, **options)
        seconds[name] = round(time.perf_counter() - started, 2)
    return results, seconds


def step_prepare(args: argparse.Namespace) -> dict:
    import bextoolkit as bex
    from bextoolkit.samples.campaigns import write_campaign

    files = write_campaign(
        args.src, n_events=args.events, chunk_events=math.ceil(args.events / 365),
        mailings_per_day=4, frequency=1,
    )  # fmt: skip
    result = bex.sync(args.src, args.dest, progress=False, settle=0)
    shutil.rmtree(args.src)  # only the table is read
    return {"files": len(files), "events": result.dataset_events}


def step_pandas(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    started = time.perf_counter()
    events = bex.read_events(args.dest)
    loaded = time.perf_counter()
    results, each = _run_reports(events)
    seconds = time.perf_counter() - started
    for name, frame in results.items():
        frame.to_pickle(Path(args.workdir) / f"{name}.pkl")
    page_seconds = _write_page(events, Path(args.workdir) / "pandas.html")
    return {"report_seconds": seconds, "read_seconds": loaded - started, "each": each,
            "page_seconds": page_seconds}  # fmt: skip


def _write_page(events: object, path: Path) -> float:
    """Write the CampaignReport page of ``events`` (without its generated-at stamps)."""
    import re

    from bextoolkit.sharing import CampaignReport

    started = time.perf_counter()
    page = CampaignReport(events, tz="Europe/Berlin").to_html()  # type: ignore[arg-type]
    seconds = time.perf_counter() - started
    page = re.sub(r"generated [\d-]+ [\d:]+ UTC", "", page)
    path.write_text(re.sub(r"<dc:date>[^<]*</dc:date>", "", page))
    return seconds


def _head(path: Path) -> str:
    """The page up to its provenance section (a Dask frame lists no files read)."""
    return path.read_text().split("<h2>Data and conventions</h2>")[0]


def step_dask(args: argparse.Namespace) -> dict:
    import tracemalloc

    import pandas as pd
    from distributed import Client, LocalCluster

    tracemalloc.start()
    phases: dict[str, float] = {}

    def phase(name: str) -> None:
        """The client's peak of Python allocations since the previous phase, in MB."""
        phases[name] = round(tracemalloc.get_traced_memory()[1] / 2**20, 1)
        tracemalloc.reset_peak()

    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit=args.memory_limit, silence_logs=40,
    )  # fmt: skip
    with cluster, Client(cluster) as client:
        from distributed import wait

        import bextoolkit as bex
        from bextoolkit.readers.dask import read_store_dask

        phase("cluster")
        started = time.perf_counter()
        lazy = read_store_dask(args.dest, partition_rows=args.partition_rows)
        events = bex.reports.by_recipient(lazy).persist()
        wait(events)
        shuffled = time.perf_counter()
        phase("shuffle")
        results, each = _run_reports(events)
        seconds = time.perf_counter() - started
        phase("reports")
        page_seconds = _write_page(events, Path(args.workdir) / "dask.html")
        phase("page")
        workers = client.run(_peak_mb)
        spilled = client.run(_spilled)
        alive = len(client.scheduler_info()["workers"])
    same = None
    pandas_dir = Path(args.pandas_dir) if args.pandas_dir else None
    if pandas_dir is not None and (pandas_dir / "funnel.pkl").exists():
        for name, frame in results.items():
            expected = pd.read_pickle(pandas_dir / f"{name}.pkl")
            pd.testing.assert_frame_equal(_canonical(frame), _canonical(expected))
        assert _head(pandas_dir / "pandas.html") == _head(Path(args.workdir) / "dask.html")
        same = True
    return {
        "report_seconds": seconds,
        "shuffle_seconds": shuffled - started,
        "page_seconds": page_seconds,
        "each": each,
        "client_traced_peak_mb": max(phases.values()),
        "client_traced_peak_mb_by_phase": phases,
        "partitions": [lazy.npartitions, events.npartitions],
        "worker_peak_mb": sorted(round(v) for v in workers.values()),
        "worker_spilled_mb": sorted(round(v / 2**20) for v in spilled.values()),
        "workers_alive": alive,
        "same_as_pandas": same,
        "rows_returned": {name: len(frame) for name, frame in results.items()},
    }


def _spilled(dask_worker: object = None) -> int:
    """Bytes this worker spilled to disk: its spill buffer's, plus the P2P shuffle's files."""
    data = getattr(dask_worker, "data", None)
    total = getattr(getattr(data, "spilled_total", None), "disk", 0) or 0
    metrics = getattr(dask_worker, "digests_total", {}) or {}
    for key, value in metrics.items():
        if "disk-write" in str(key) and "bytes" in str(key):
            total += value
    return int(total)


def _canonical(frame: object) -> object:
    import pandas as pd

    out = frame.copy()  # type: ignore[attr-defined]
    for name in out.columns:
        if isinstance(out[name].dtype, pd.CategoricalDtype):
            out[name] = out[name].astype("string")
    keys = [c for c in out.columns if not pd.api.types.is_numeric_dtype(out[c])]
    return out.sort_values(keys, kind="stable").reset_index(drop=True)


def step_duckdb(args: argparse.Namespace) -> dict:
    import duckdb
    from deltalake import DeltaTable

    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_reports import DUCK_FUNNEL

    files = DeltaTable(args.dest).file_uris()
    con = duckdb.connect()
    con.execute(f"CREATE VIEW events AS SELECT * FROM read_parquet({files!r})")
    started = time.perf_counter()
    result = con.execute(DUCK_FUNNEL).df()
    return {"report_seconds": time.perf_counter() - started, "mailings": len(result)}


STEPS = {"prepare": step_prepare, "pandas": step_pandas, "dask": step_dask, "duckdb": step_duckdb}


def run_step(
    args: argparse.Namespace, step: str, workdir: Path, events: int, pandas_dir: str = ""
) -> dict:
    from bench_sync import child_result  # the benchmarks folder is the script's own

    command = [
        sys.executable, __file__, "--child", step, "--workdir", str(workdir), "--sizes",
        str(events), "--memory-limit", args.memory_limit, "--pandas-dir", pandas_dir,
        "--partition-rows", str(args.partition_rows),
    ]  # fmt: skip
    return child_result(command, step)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="5e6,20e6", help="events per year, comma-separated")
    parser.add_argument(
        "--workdir", default=str(Path(__file__).resolve().parent.parent / ".bench_dask")
    )
    parser.add_argument("--memory-limit", default="1GiB", help="per worker process")
    parser.add_argument(
        "--partition-rows", type=int, default=500_000, help="events per partition read"
    )
    parser.add_argument("--child", dest="step", help=argparse.SUPPRESS)
    parser.add_argument("--pandas-dir", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    if args.step:
        args.events = sizes[0]
        work = Path(args.workdir)
        args.src, args.dest = str(work / "download"), str(work / "dataset")
        started = time.perf_counter()
        out = STEPS[args.step](args)
        out["seconds"] = time.perf_counter() - started
        out["client_peak_rss_mb"] = _peak_mb()
        print("RESULT " + json.dumps(out))
        return
    results: dict[str, dict] = {}
    for index, events in enumerate(sizes):
        work = Path(args.workdir) / f"{events}"
        if not (work / "dataset").is_dir():
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir(parents=True)
            results[f"{events} prepare"] = run_step(args, "prepare", work, events)
        pandas_dir = ""
        if index == 0:
            results[f"{events} pandas"] = run_step(args, "pandas", work, events)
            pandas_dir = str(work)
        results[f"{events} dask"] = run_step(args, "dask", work, events, pandas_dir)
        results[f"{events} duckdb"] = run_step(args, "duckdb", work, events)
        dask_s, duck_s = results[f"{events} dask"], results[f"{events} duckdb"]
        per_m = 1e6 / events
        print(
            f"{events:>11,} events: dask shuffle {dask_s['shuffle_seconds']:.1f} s, then 4 "
            f"reports {dask_s['report_seconds'] - dask_s['shuffle_seconds']:.1f} s, the page "
            f"{dask_s['page_seconds']:.1f} s; funnel "
            f"{dask_s['each']['funnel'] * per_m:.1f} s per M events (duckdb "
            f"{duck_s['report_seconds'] * per_m:.2f} s per M, ratio "
            f"{dask_s['each']['funnel'] / duck_s['report_seconds']:.0f}x); client peak RSS "
            f"{dask_s['client_peak_rss_mb']:.0f} MB, Python allocations peak "
            f"{dask_s['client_traced_peak_mb']:.1f} MB (by phase "
            f"{dask_s['client_traced_peak_mb_by_phase']}, partitions read and shuffled "
            f"{dask_s['partitions']}); workers peak {dask_s['worker_peak_mb']} "
            f"MB, spilled {dask_s['worker_spilled_mb']} MB, alive {dask_s['workers_alive']}/2; "
            f"same as pandas: {dask_s['same_as_pandas']}",
            flush=True,
        )
    Path(args.workdir, "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
