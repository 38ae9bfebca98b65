"""Benchmark: reports on the Dask workers over a synced Delta table, at two sizes.

Run (the machine it was measured on had 2 shared cores; see README "Out of core")::

    .venv/bin/python benchmarks/bench_dask.py --sizes 1e6,4e6 --memory-limit 1GiB

Per size: a year of hourly export files (``write_campaign``) synced with ``bextoolkit.sync``
to a Delta table, then, each in its own fresh process so its peak memory is its own:

- ``dask``: a ``LocalCluster`` of 2 worker processes with ``--memory-limit`` each; the
  funnel per mailing, the funnel per domain, ``click_urls`` and ``bounce_breakdown`` on
  the store read by ``read_store_dask(DEST, partition_rows=...)``. Measured: the
  client's peak RSS and its peak of Python allocations (``tracemalloc``), each worker's
  peak RSS, the bytes the workers spilled to disk, and the seconds per million events.
- ``pandas`` (the smallest size only): the same reports on ``read_events(DEST)``; the
  ``dask`` step checks its results equal these exactly.
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
    results, each = _run_reports(bex.read_events(args.dest))
    seconds = time.perf_counter() - started
    for name, frame in results.items():
        frame.to_pickle(Path(args.workdir) / f"{name}.pkl")
    return {"report_seconds": seconds, "each": each}


def step_dask(args: argparse.Namespace) -> dict:
    import tracemalloc

    import pandas as pd
    from distributed import Client, LocalCluster

    tracemalloc.start()
    cluster = LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None,
        memory_limit=args.memory_limit, silence_logs=40,
    )  # fmt: skip
    with cluster, Client(cluster) as client:
        started = time.perf_counter()
        from bextoolkit.readers.dask import read_store_dask

        lazy = read_store_dask(args.dest, partition_rows=args.partition_rows)
        results, each = _run_reports(lazy)
        seconds = time.perf_counter() - started
        workers = client.run(_peak_mb)
        spilled = client.run(_spilled)
        alive = len(client.scheduler_info()["workers"])
    _, traced_peak = tracemalloc.get_traced_memory()
    same = None
    pandas_dir = Path(args.pandas_dir) if args.pandas_dir else None
    if pandas_dir is not None and (pandas_dir / "funnel.pkl").exists():
        for name, frame in results.items():
            expected = pd.read_pickle(pandas_dir / f"{name}.pkl")
            pd.testing.assert_frame_equal(_canonical(frame), _canonical(expected))
        same = True
    return {
        "report_seconds": seconds,
        "each": each,
        "client_traced_peak_mb": traced_peak / 2**20,
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
            f"{events:>11,} events: dask 4 reports {dask_s['report_seconds']:.1f} s, funnel "
            f"{dask_s['each']['funnel'] * per_m:.1f} s per M events (duckdb "
            f"{duck_s['report_seconds'] * per_m:.2f} s per M, ratio "
            f"{dask_s['each']['funnel'] / duck_s['report_seconds']:.0f}x); client peak RSS "
            f"{dask_s['client_peak_rss_mb']:.0f} MB, Python allocations peak "
            f"{dask_s['client_traced_peak_mb']:.1f} MB; workers peak {dask_s['worker_peak_mb']} "
            f"MB, spilled {dask_s['worker_spilled_mb']} MB, alive {dask_s['workers_alive']}/2; "
            f"same as pandas: {dask_s['same_as_pandas']}",
            flush=True,
        )
    Path(args.workdir, "results.json").write_text(json.dumps(results, indent=1))
    print(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
