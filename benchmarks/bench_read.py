"""Benchmark: ``read_events`` against pandas, pyarrow and polars on one BEX export file.

Generates ``--events`` synthetic events (1M by default, about 370 MB of CSV) with
:func:`bextoolkit.samples.campaigns.write_campaign` into one CSV file (cached under ``.bench/``),
then times, each in a fresh subprocess so peak memory is its own:

- ``cat``: reading the bytes (the I/O floor);
- ``pandas.read_csv`` with its defaults;
- ``pyarrow.csv.read_csv`` with its defaults (an Arrow table, types inferred);
- ``read_events`` (the full typed events frame);
- a polars ``scan_csv`` pipeline for the funnel's 4 columns (RECIPIENT_ID, messageId,
  code, bounceType: load, then distinct recipients and events per mailing and code);
- ``read_events(columns=...)`` for the same columns, alone and with the same funnel
  aggregation in pandas.

Prints wall time (median of ``--repeat`` round-robin runs), rows/s, MB/s, peak RSS and the result's
bytes per row, then the target ratios. ``--shapes`` instead rewrites the file's timestamps in
each shape the readers take (ISO with ``Z``, naive ISO with milliseconds,
``MM/DD/YYYY HH:MM:SS``, ``MM/DD/YY hh:mm AM/PM``) and times ``read_events`` against
``pyarrow.csv.read_csv`` defaults on each, side by side (target: at most 1.25x).
The shaped files quote a field only where it needs it; ``--quoted`` adds copies whose
every text field is in double quotes, as many CSV writers (Python's
``csv.QUOTE_NONNUMERIC``, Excel) write them, and copies whose every field is (pyarrow's
writer), all timed side by side. Not part of the tests. Run from the
repo root::

    .venv/bin/python benchmarks/bench_read.py --events 1000000
    .venv/bin/python benchmarks/bench_read.py --events 300000 --shapes
    .venv/bin/python benchmarks/bench_read.py --events 300000 --shapes --quoted --repeat 3
    .venv/bin/python benchmarks/bench_read.py --events 3000000 --folder --repeat 3

``--folder`` runs ``bench_folder.py``: a folder of gzipped hourly exports, ``read_events``
(files on threads) against ``pyarrow.csv.read_csv`` file by file (target: at most 1.25x).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

FUNNEL_COLUMNS = ["RECIPIENT_ID", "messageId", "code", "bounceType"]
CONTENDERS = [
    "cat",
    "pandas_defaults",
    "pyarrow_defaults",
    "read_events",
    "polars_funnel",
    "read_events_columns",
    "read_events_columns_funnel",
]


def make_file(n_events: int, folder: Path) -> Path:
    """One CSV with ``n_events`` events (cached: rebuilt only when missing)."""
    target = folder / f"events_{n_events}.csv"
    if target.exists():
        return target
    from bextoolkit import samples

    folder.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=folder) as parts:
        files = samples.write_campaign(parts, n_events=n_events, frequency=24, seed=7)
        partial = target.with_suffix(".part")
        with open(partial, "wb") as out:
            for i, name in enumerate(sorted(files)):
                with open(name, "rb") as handle:
                    header = handle.readline()
                    if i == 0:
                        out.write(header)
                    shutil.copyfileobj(handle, out, 1 << 24)
        partial.rename(target)
    return target


#: Timestamp shapes of ``--shapes``: Arrow strftime format and the unit it is written from.
SHAPES = {
    "iso_z": ("%Y-%m-%dT%H:%M:%SZ", "ms"),
    "naive_iso_ms": ("%Y-%m-%d %H:%M:%S", "ms"),
    "us_24h": ("%m/%d/%Y %H:%M:%S", "s"),
    "us_ampm": ("%m/%d/%y %I:%M %p", "s"),
}


#: How ``--shapes`` files quote (``--quoted`` adds the last two): only where a field needs
#: it (as the generated exports do), every text field (Python's ``csv.QUOTE_NONNUMERIC``,
#: numbers bare), every field (pyarrow's ``write_csv`` of a table of strings: numbers and
#: empty fields too, the only kind this benchmark measured before).
QUOTING = ("minimal", "text", "all")


def make_shaped(base: Path, shape: str, *, kind: str = "minimal") -> Path:
    """``base`` with its timestamps written in ``shape``, quoted as ``kind`` says (see
    :data:`QUOTING`; cached beside it)."""
    target = base.with_name(f"{base.stem}_{shape}_{kind}.csv")
    if target.exists():
        return target
    if kind != "all":
        return _requote(make_shaped(base, shape, kind="all"), target, text=kind == "text")
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.csv as pacsv

    names = pacsv.read_csv(base, read_options=pacsv.ReadOptions(block_size=1 << 20)).column_names
    table = pacsv.read_csv(
        base, convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(names, pa.string()))
    )
    fmt, unit = SHAPES[shape]
    stamps = pc.cast(table["timestamp"], pa.timestamp("ms", tz="UTC"))
    text = pc.strftime(pc.cast(stamps, pa.timestamp(unit, tz="UTC"), safe=False), format=fmt)
    table = table.set_column(names.index("timestamp"), "timestamp", text)
    partial = target.with_suffix(".part")
    pacsv.write_csv(table, partial)  # quotes every string: here every field
    partial.rename(target)
    return target


def _requote(source: Path, target: Path, *, text: bool) -> Path:
    """``source`` rewritten by Python's csv module: ``text``, every text field quoted
    (numbers bare), else only the fields that need it."""
    import csv

    partial = target.with_suffix(".part")
    with (
        open(source, newline="", encoding="utf-8") as src,
        open(partial, "w", newline="", encoding="utf-8") as out,
    ):
        writer = csv.writer(out, quoting=csv.QUOTE_NONNUMERIC if text else csv.QUOTE_MINIMAL)
        for i, row in enumerate(csv.reader(src)):
            writer.writerow(row if i == 0 or not text else [_number_or_text(v) for v in row])
    partial.rename(target)
    return target


def _number_or_text(value: str) -> int | str | None:
    """A field as ``csv.QUOTE_NONNUMERIC`` should see it: ids as numbers (bare), empty
    fields as None (written empty)."""
    if not value:
        return None
    if value.isdigit() and not value.startswith("0"):
        return int(value)
    return value


def run_one(name: str, path: str) -> dict[str, float]:
    """Time one contender in this process; return seconds, rows and bytes of the result."""
    import pandas as pd
    import polars as pl
    import pyarrow.csv as pacsv

    from bextoolkit import read_events

    _reset_peak()  # imports are done: time and peak memory count the read only
    start = time.perf_counter()
    if name == "cat":
        with open(path, "rb") as handle:
            while handle.read(1 << 24):
                pass
        rows, nbytes = 0, 0
    elif name == "pandas_defaults":
        frame = pd.read_csv(path)
        rows, nbytes = len(frame), int(frame.memory_usage(deep=True).sum())
    elif name == "pyarrow_defaults":
        table = pacsv.read_csv(path)
        rows, nbytes = table.num_rows, table.nbytes
    elif name == "read_events":
        frame = read_events(path)
        rows, nbytes = len(frame), int(frame.memory_usage(deep=True).sum())
    elif name == "polars_funnel":
        result = (
            pl.scan_csv(path, schema_overrides={c: pl.String for c in FUNNEL_COLUMNS})
            .select(FUNNEL_COLUMNS)
            .group_by("messageId", "code")
            .agg(pl.col("RECIPIENT_ID").n_unique().alias("unique"), pl.len().alias("events"))
            .collect()
        )
        rows, nbytes = int(result["events"].sum()), int(result.estimated_size())
    elif name in ("read_events_columns", "read_events_columns_funnel"):
        frame = read_events(path, columns=FUNNEL_COLUMNS)
        rows, nbytes = len(frame), int(frame.memory_usage(deep=True).sum())
        if name.endswith("_funnel"):
            grouped = frame.groupby(["messageId", "eventType"], observed=True)
            grouped["RECIPIENT_ID"].agg(["nunique", "size"])
    else:
        raise ValueError(name)
    seconds = time.perf_counter() - start
    return {"seconds": seconds, "rows": rows, "bytes": nbytes, "peak_mb": _peak_mb()}


def _reset_peak() -> None:
    """Reset the peak RSS (Linux ``clear_refs``), so imports and the fork do not count."""
    try:
        with open("/proc/self/clear_refs", "w") as handle:
            handle.write("5")
    except OSError:
        pass


def _peak_mb() -> float:
    """Peak resident memory since :func:`_reset_peak` (``VmHWM``), else ``ru_maxrss``."""
    try:
        with open("/proc/self/status") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def measure(name: str, path: Path) -> dict[str, float]:
    """One timing of ``name`` in a fresh interpreter (its own peak memory)."""
    out = subprocess.run(
        [sys.executable, __file__, "--run", name, "--file", str(path)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def measure_all(names: list[str], path: Path, repeat: int) -> dict[str, dict[str, float]]:
    """Round-robin over contenders ``repeat`` times (so each sees the same machine load);
    the median wall time and the largest peak memory of each."""
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in names}
    for _ in range(repeat):
        for name in names:
            runs[name].append(measure(name, path))
    results = {}
    for name, done in runs.items():
        best = dict(done[0])
        best["seconds"] = statistics.median(r["seconds"] for r in done)
        best["spread"] = max(r["seconds"] for r in done) / min(r["seconds"] for r in done)
        best["peak_mb"] = max(r["peak_mb"] for r in done)
        results[name] = best
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--dir", default=".bench", help="where the generated file is cached")
    parser.add_argument("--repeat", type=int, default=5, help="runs per contender (median)")
    parser.add_argument("--only", nargs="*", choices=CONTENDERS, help="run only these")
    parser.add_argument("--shapes", action="store_true", help="compare timestamp shapes")
    parser.add_argument(
        "--quoted", action="store_true", help="with --shapes: also on files of quoted text"
    )
    parser.add_argument(
        "--folder", action="store_true",
        help="a folder of gzip exports of --events, against pyarrow file by file (bench_folder)",
    )  # fmt: skip
    parser.add_argument("--run", help=argparse.SUPPRESS)
    parser.add_argument("--file", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.run:  # child process: one timing, as JSON on the last line
        print(json.dumps(run_one(args.run, args.file)))
        return 0
    if args.folder:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from bench_folder import main as folder_main

        return folder_main(["--events", str(args.events), "--repeat", str(args.repeat),
                            "--dir", str(Path(args.dir) / "folder")])  # fmt: skip

    t0 = time.perf_counter()
    path = make_file(args.events, Path(args.dir))
    size_mb = path.stat().st_size / 1e6
    print(
        f"file: {path} ({size_mb:.0f} MB, {args.events:,} events; ready in "
        f"{time.perf_counter() - t0:.0f} s)"
    )
    if args.shapes:
        return _compare_shapes(path, args.repeat, quoted=args.quoted)
    run_one("cat", str(path))  # warm the page cache
    names = args.only or CONTENDERS
    results = measure_all(names, path, args.repeat)
    header = f"{'contender':<28}{'wall s':>8}{'M rows/s':>10}{'MB/s':>8}{'peak MB':>9}{'B/row':>7}"
    print(header + f"{'max/min':>9}")
    for name in names:
        r = results[name]
        per_row = r["bytes"] / r["rows"] if r["rows"] else float("nan")
        if name == "polars_funnel":
            per_row = float("nan")  # the result is an aggregate, not a frame of events
        print(
            f"{name:<28}{r['seconds']:>8.2f}{args.events / r['seconds'] / 1e6:>10.2f}"
            f"{size_mb / r['seconds']:>8.0f}{r['peak_mb']:>9.0f}{per_row:>7.0f}"
            f"{r['spread']:>9.2f}"
        )
    print(f"(median of {args.repeat} round-robin runs; load average {os.getloadavg()[0]:.1f})")
    _print_ratios(results)
    return 0


def _compare_shapes(base: Path, repeat: int, *, quoted: bool = False) -> int:
    """``read_events`` / pyarrow defaults on each timestamp shape and each kind of quoting
    (:data:`QUOTING`; only the first without ``quoted``), all round-robin."""
    kinds = list(QUOTING) if quoted else ["minimal"]
    files = {
        (kind, shape): make_shaped(base, shape, kind=kind) for kind in kinds for shape in SHAPES
    }
    runs: dict[tuple[tuple[str, str], str], list[float]] = {}
    for _ in range(repeat):
        for key, path in files.items():
            run_one("cat", str(path))
            for name in ("pyarrow_defaults", "read_events"):
                runs.setdefault((key, name), []).append(measure(name, path)["seconds"])
    print(f"{'quoted':<10}{'shape':<16}{'pyarrow s':>10}{'read_events s':>15}{'ratio':>8}"
          f"{'best-of ratio':>15}   target <= 1.25")  # fmt: skip
    for key in files:
        arrow = statistics.median(runs[key, "pyarrow_defaults"])
        ours = statistics.median(runs[key, "read_events"])
        best = min(runs[key, "read_events"]) / min(runs[key, "pyarrow_defaults"])
        print(f"{key[0]:<10}{key[1]:<16}{arrow:>10.2f}{ours:>15.2f}{ours / arrow:>8.2f}"
              f"{best:>15.2f}")  # fmt: skip
    print(
        f"(median of {repeat} round-robin runs, and the ratio of the fastest runs, which a "
        f"shared machine's load disturbs least; load average {os.getloadavg()[0]:.1f})"
    )
    return 0


def _print_ratios(results: dict[str, dict[str, float]]) -> None:
    def ratio(a: str, b: str) -> float | None:
        if a in results and b in results:
            return results[a]["seconds"] / results[b]["seconds"]
        return None

    print("\ntargets (ratios of wall times, side by side):")
    checks = [
        ("read_events / pyarrow defaults", ratio("read_events", "pyarrow_defaults"), "<= 1.25"),
        ("pandas defaults / read_events", ratio("pandas_defaults", "read_events"), ">= 2.5"),
        ("read_events(columns) / polars", ratio("read_events_columns", "polars_funnel"), "<= 1.5"),
        (
            "read_events(columns)+funnel / polars",
            ratio("read_events_columns_funnel", "polars_funnel"),
            "(info)",
        ),
    ]
    for label, value, target in checks:
        if value is not None:
            print(f"  {label:<40}{value:6.2f}   target {target}")
    if "read_events" in results:
        r = results["read_events"]
        print(f"  {'read_events bytes per row':<40}{r['bytes'] / r['rows']:6.0f}   target <= 200")


if __name__ == "__main__":
    os.environ.setdefault("PYTHONHASHSEED", "0")
    sys.exit(main())
