"""Benchmark: a year of hourly BEX files, synced to a Delta table, read back, reported on.

Run (2M events takes about 10 minutes and 1 GB of disk)::

    .venv/bin/python benchmarks/bench_sync.py --events 2e6
    .venv/bin/python benchmarks/bench_sync.py --events 20e6 --rounds 1   # the full year

Every step runs in its own fresh Python process, so its peak memory (``ru_maxrss``) is
its own; the Dask step adds the peak of each worker process. Steps:

1. ``generate``: a year (365 days) of hourly export files for one database.
2. ``sync first``: ``bextoolkit.sync(SRC, DEST)`` from nothing.
3. ``sync again``: the same, nothing changed (lists, compares, commits nothing).
4. Side by side, round-robin, ``--rounds`` times each, medians: ``read store``
   (``read_events(DEST)``, all columns), ``pyarrow files`` (pyarrow reading the table's
   current Parquet files into pandas: the floor), ``read CSV`` (``read_events(SRC)``);
   ``one mailing store`` (``read_events(DEST, messageId=M)``) and ``one mailing CSV``
   (``read_events(SRC, messageId=M)``).
5. ``funnel one mailing``: ``funnel(read_events(DEST, messageId=M, columns=...))``.
6. ``funnel pandas`` vs ``funnel dask``: the funnel of every mailing of the year, from
   the dataset, on pandas and on a ``LocalCluster`` of 2 worker processes.

Results are printed as a table and written to ``WORKDIR/results.json``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

#: The columns funnel() reads: what the pandas steps read, and what Dask brings back.
FUNNEL_COLUMNS = [
    "Email", "RECIPIENT_ID", "bounceType", "messageId", "messageName", "subjectLine",
    "timestamp", "eventType",
]  # fmt: skip


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


# --- the steps, each run in a child process -------------------------------------------------
def step_generate(args: argparse.Namespace) -> dict:
    from bextoolkit.samples.campaigns import write_campaign

    os.makedirs(args.src, exist_ok=True)
    files = write_campaign(
        args.src,
        n_events=args.events,
        chunk_events=math.ceil(args.events / 365),
        mailings_per_day=args.mailings_per_day,
        frequency=1,
        timestamp_format=args.timestamp_format,
    )
    size = sum(os.path.getsize(f) for f in files)
    return {"files": len(files), "bytes": size}


def step_sync(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    result = bex.sync(args.src, args.dest, progress=False, settle=0)
    return {"summary": result.summary(), "events": result.dataset_events}


def step_read_dataset(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    frame = bex.read_events(args.dest)
    return {"rows": len(frame)}


def step_pyarrow_files(args: argparse.Namespace) -> dict:
    import pyarrow.dataset as ds
    from deltalake import DeltaTable

    files = DeltaTable(args.dest).file_uris()  # the table's current files, as Delta lists them
    frame = ds.dataset(files, format="parquet").to_table().to_pandas()
    return {"rows": len(frame)}


def step_one_mailing_store(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    return {"rows": len(bex.read_events(args.dest, messageId=args.mailing))}


def step_one_mailing_csv(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    return {"rows": len(bex.read_events(args.src, messageId=args.mailing))}


def step_read_csv(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    frame = bex.read_events(args.src)
    return {"rows": len(frame)}


def step_read_dataset_columns(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    return {"rows": len(bex.read_events(args.dest, columns=FUNNEL_COLUMNS))}


def step_read_csv_columns(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    return {"rows": len(bex.read_events(args.src, columns=FUNNEL_COLUMNS))}


def _busiest_mailing(args: argparse.Namespace) -> str:
    import bextoolkit as bex

    ids = bex.read_events(args.dest, columns=["messageId"], event_types=["emailSend"])
    counts = ids["messageId"].value_counts()
    return str(counts.index[len(counts) // 2])  # a typical mailing, not the largest


def step_funnel_one(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    started = time.perf_counter()
    frame = bex.read_events(args.dest, messageId=args.mailing, columns=FUNNEL_COLUMNS)
    result = bex.funnel(frame)
    return {
        "rows_read": len(frame),
        "sent": int(result["sent"].iloc[0]),
        "open_rate": round(float(result["open_rate"].iloc[0]), 4),
        "inner_seconds": time.perf_counter() - started,
    }


def step_funnel_pandas(args: argparse.Namespace) -> dict:
    import bextoolkit as bex

    result = bex.funnel(bex.read_events(args.dest, columns=FUNNEL_COLUMNS))
    result.to_parquet(Path(args.workdir) / "funnel_pandas.parquet")
    return {"mailings": len(result), "sent": int(result["sent"].sum())}


def step_funnel_dask(args: argparse.Namespace) -> dict:
    import pandas as pd
    from distributed import Client, LocalCluster

    import bextoolkit as bex

    with (
        LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter()
        lazy = bex.read_events(args.dest, engine="dask")
        result = bex.funnel(lazy)
        inner = time.perf_counter() - started
        workers = client.run(_peak_mb)
    expected = pd.read_parquet(Path(args.workdir) / "funnel_pandas.parquet")
    pd.testing.assert_frame_equal(result.reset_index(drop=True), expected, check_dtype=False)
    return {
        "mailings": len(result),
        "same_as_pandas": True,
        "inner_seconds": inner,
        "worker_peak_mb": sorted(round(v) for v in workers.values()),
    }


STEPS = {
    "generate": step_generate,
    "sync first": step_sync,
    "sync again": step_sync,
    "read store": step_read_dataset,
    "pyarrow files": step_pyarrow_files,
    "read CSV": step_read_csv,
    "one mailing store": step_one_mailing_store,
    "one mailing CSV": step_one_mailing_csv,
    "read dataset, 8 cols": step_read_dataset_columns,
    "read CSV, 8 cols": step_read_csv_columns,
    "funnel one mailing": step_funnel_one,
    "funnel pandas": step_funnel_pandas,
    "funnel dask": step_funnel_dask,
}


def run_child(args: argparse.Namespace) -> None:
    import bextoolkit  # noqa: F401 - imports are not what is measured

    if args.step == "funnel dask":
        import distributed  # noqa: F401
    started = time.perf_counter()
    if args.step == "mailing":
        out: dict = {"mailing": _busiest_mailing(args)}
    else:
        out = STEPS[args.step](args)
    out["seconds"] = time.perf_counter() - started
    out["peak_mb"] = _peak_mb()
    print("RESULT " + json.dumps(out))


# --- the driver ----------------------------------------------------------------------------
def run_step(args: argparse.Namespace, step: str, mailing: str = "") -> dict:
    command = [
        sys.executable, __file__, "--child", step, "--workdir", args.workdir,
        "--events", str(args.events), "--mailings-per-day", str(args.mailings_per_day),
        "--timestamp-format", args.timestamp_format, "--mailing", mailing,
    ]  # fmt: skip
    return child_result(command, step)


def child_result(command: list[str], step: str) -> dict:
    """Run a step's child process; the JSON it printed after ``RESULT``."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("RESULT ")]
    if done.returncode != 0 or not lines:
        raise SystemExit(f"step {step!r} failed:\n{done.stderr[-4000:]}")
    return json.loads(lines[-1][len("RESULT ") :])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=float, default=20e6, help="events in the year")
    parser.add_argument("--workdir", default=str(Path(__file__).resolve().parent.parent / ".bench"))
    parser.add_argument("--mailings-per-day", type=int, default=4)
    parser.add_argument("--timestamp-format", default="iso", choices=["iso", "us"])
    parser.add_argument("--keep", action="store_true", help="reuse generated files if present")
    parser.add_argument("--rounds", type=int, default=3, help="round-robin rounds of the reads")
    parser.add_argument("--child", dest="step", help=argparse.SUPPRESS)
    parser.add_argument("--mailing", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.events = int(args.events)
    work = Path(args.workdir)
    args.src, args.dest = str(work / "download"), str(work / "dataset")
    if args.step:
        run_child(args)
        return

    results: dict[str, dict] = {}
    if not (args.keep and (work / "download").is_dir()):
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        results["generate"] = run_step(args, "generate")
    shutil.rmtree(args.dest, ignore_errors=True)
    for step in ("sync first", "sync again"):
        results[step] = run_step(args, step)
        print(f"{step:20s} {results[step]['seconds']:8.1f} s  {results[step]['peak_mb']:8.0f} MB")
    mailing = run_step(args, "mailing")["mailing"]
    side_by_side = (
        "read store",
        "pyarrow files",
        "read CSV",
        "one mailing store",
        "one mailing CSV",
    )
    times: dict[str, list[float]] = {step: [] for step in side_by_side}
    for round_number in range(args.rounds):  # round-robin: each round runs every step once
        for step in side_by_side:
            out = run_step(args, step, mailing)
            times[step].append(out["seconds"])
            results[step] = out
            print(f"round {round_number + 1} {step:20s} {out['seconds']:8.2f} s")
            sys.stdout.flush()
    for step in side_by_side:
        results[step]["seconds"] = statistics.median(times[step])
    for step in ("read dataset, 8 cols", "read CSV, 8 cols", "funnel one mailing", "funnel pandas",
                 "funnel dask"):  # fmt: skip
        results[step] = run_step(args, step, mailing)
        print(f"{step:20s} {results[step]['seconds']:8.1f} s  {results[step]['peak_mb']:8.0f} MB")

    seconds = {step: results[step]["seconds"] for step in results}
    ratios = {
        "store / pyarrow files (target <= 1.25)": seconds["read store"] / seconds["pyarrow files"],
        "CSV / store (target >= 5)": seconds["read CSV"] / seconds["read store"],
        "one mailing: CSV / store (target >= 100)": (
            seconds["one mailing CSV"] / seconds["one mailing store"]
        ),
        "8 columns: CSV / store": seconds["read CSV, 8 cols"] / seconds["read dataset, 8 cols"],
    }
    report = {"events": args.events, "cpu_count": os.cpu_count(), "rounds": args.rounds,
              "steps": results, "ratios": ratios, "times": times}  # fmt: skip
    (work / "results.json").write_text(json.dumps(report, indent=1))
    print()
    print(f"{'step':20s} {'seconds':>9s} {'peak MB':>9s}  notes")
    for step, out in results.items():
        notes = {k: v for k, v in out.items() if k not in ("seconds", "peak_mb", "summary")}
        print(f"{step:20s} {out['seconds']:9.2f} {out['peak_mb']:9.0f}  {notes}")
    print()
    for name, value in ratios.items():
        print(f"{name:45s} {value:8.2f}")
    print(results["sync first"]["summary"])
    print(results["sync again"]["summary"])


if __name__ == "__main__":
    main()
