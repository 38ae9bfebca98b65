"""Benchmark: a folder of gzipped hourly exports, read_events against pyarrow file by file.

Run from the repository root::

    .venv/bin/python benchmarks/bench_folder.py --events 3000000 --repeat 3

It writes the generated events as gzipped hourly CSV exports (once, cached in ``--dir``),
then times, round-robin and each in a fresh process: ``read_events(folder)`` (files read
on threads), the same with one thread (``READ_THREADS = 1``, the reader before), and
``pyarrow.csv.read_csv`` on each ``.gz`` one after the other (pyarrow decompresses
itself; default type inference), concatenated. It prints the median seconds and the
ratios against pyarrow.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

CONTENDERS = ("read_events", "read_events, one thread", "pyarrow file by file")


def run(contender: str, folder: Path) -> float:
    """Seconds one contender takes, in this process (imports before the clock starts)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    from bextoolkit.readers import files, read_events

    if contender == "read_events, one thread":
        files.READ_THREADS = 1
    paths = sorted(folder.glob("*.gz"))
    start = time.perf_counter()
    if contender.startswith("read_events"):
        frame = read_events(folder, tz="UTC")
        rows = len(frame)
    else:
        tables = [pacsv.read_csv(p) for p in paths]
        rows = pa.concat_tables(tables, promote_options="permissive").num_rows
    seconds = time.perf_counter() - start
    print(f"{rows}", file=sys.stderr)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=3_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--dir", default=".bench/folder")
    parser.add_argument("--one", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.one:
        print(run(args.one[0], Path(args.one[1])))
        return 0
    folder = Path(args.dir) / f"gz-{args.events}"
    if not folder.exists():
        from bextoolkit.samples.campaigns import generate_events, write_exports

        n_recipients = max(args.events // 30, 100)
        events = generate_events(n_recipients=n_recipients, n_mailings=12, days=2, seed=3)
        write_exports(events, str(folder), compression="gzip")
    files = sorted(folder.glob("*.gz"))
    size = sum(p.stat().st_size for p in files)
    print(f"{len(files)} gzip files, {size / 2**20:,.0f} MiB compressed")
    times: dict[str, list[float]] = {c: [] for c in CONTENDERS}
    for _ in range(args.repeat):
        for contender in CONTENDERS:
            out = subprocess.run(
                [sys.executable, __file__, "--one", contender, str(folder)],
                check=True, capture_output=True, text=True,
            )  # fmt: skip
            times[contender].append(float(out.stdout.strip()))
    base = statistics.median(times["pyarrow file by file"])
    for contender in CONTENDERS:
        median = statistics.median(times[contender])
        print(f"{contender:26} {median:6.2f} s  {median / base:5.2f}x pyarrow")
    return 0


if __name__ == "__main__":
    sys.exit(main())
