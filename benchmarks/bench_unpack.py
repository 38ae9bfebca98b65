"""Benchmark: compressed exports, the real and the hostile, through ``read_events``.

Each case runs in a fresh subprocess (so its peak RSS is its own), ``--repeat`` times
round-robin; medians are printed with the ratio to a baseline measured in the same run:

- ``bomb_nul``: a ~1 MB gzip of 1 GiB of NUL bytes. ``read_events`` (refuses it as binary)
  against ``zlib`` inflating it whole, which is what the reader did before it streamed.
- ``bomb_line``: a real header, then 1 GiB without a line end. ``read_events`` (refuses the
  line past 16 MiB) against the same full inflation.
- ``export_gz``: a gzipped export of ``--events`` generated events. ``read_events`` against
  ``pyarrow.csv.read_csv`` reading the same ``.gz`` with its defaults (the streaming unpack
  must not make a real file slower than that).

Not part of the tests. Run from the repo root::

    .venv/bin/python benchmarks/bench_unpack.py --events 1000000
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import time
import zlib
from pathlib import Path

MiB = 1024**2


def _member(data: bytes) -> bytes:
    out = zlib.compressobj(9, zlib.DEFLATED, 31)
    return out.compress(data) + out.flush()


def make_files(folder: Path, n_events: int) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    files = {"bomb_nul": folder / "bomb_nul.csv.gz", "bomb_line": folder / "bomb_line.csv.gz"}
    header = b"Email,RECIPIENT_ID,code,timestamp,eventId\na@x.com,1,emailOpen,2026-11-01,e1\n"
    if not files["bomb_nul"].exists():
        files["bomb_nul"].write_bytes(_member(b"\0" * MiB) * 1024)
    if not files["bomb_line"].exists():
        files["bomb_line"].write_bytes(_member(header) + _member(b"a" * MiB) * 1024)
    export = folder / f"export_{n_events}.csv.gz"
    if not export.exists():
        import gzip

        from bench_read import make_file  # the same generated export bench_read times

        with open(make_file(n_events, folder), "rb") as src, gzip.open(export, "wb", 6) as out:
            shutil.copyfileobj(src, out, 1 << 24)
    files["export_gz"] = export
    return files


def run_one(case: str, contender: str, path: str) -> dict[str, float | str]:
    """Runs inside a fresh process: one contender on one file."""
    started = time.perf_counter()
    outcome = "ok"
    if contender == "read_events":
        import bextoolkit as bex

        try:
            bex.read_events(path, tz="UTC")
        except bex.BexFileError as exc:
            outcome = f"refused: {exc.reason[:60]}"
    elif contender == "inflate_all":
        inflater = zlib.decompressobj(wbits=31)
        data, out = Path(path).read_bytes(), 0
        while data:
            out += len(inflater.decompress(data))
            data = inflater.unused_data
            inflater = zlib.decompressobj(wbits=31) if data else inflater
        outcome = f"inflated {out / MiB:,.0f} MiB"
    else:  # pyarrow
        import pyarrow.csv as pacsv

        pacsv.read_csv(path)
    seconds = time.perf_counter() - started
    # VmHWM, not ru_maxrss: Linux keeps the parent's maxrss across fork and exec
    status = Path("/proc/self/status").read_text()
    peak = int(next(line for line in status.splitlines() if line.startswith("VmHWM")).split()[1])
    peak /= 1024
    return {"seconds": seconds, "peak_mb": peak, "outcome": outcome}


CASES = {
    "bomb_nul": ("read_events", "inflate_all"),
    "bomb_line": ("read_events", "inflate_all"),
    "export_gz": ("read_events", "pyarrow"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--folder", default=".bench/unpack")
    parser.add_argument("--one", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        print(json.dumps(run_one(*args.one)))
        return
    files = make_files(Path(args.folder), args.events)
    results: dict[tuple[str, str], list[dict]] = {}
    for _ in range(args.repeat):
        for case, contenders in CASES.items():
            for contender in contenders:
                done = subprocess.run(
                    [sys.executable, __file__, "--one", case, contender, str(files[case])],
                    capture_output=True, text=True, check=True,
                )  # fmt: skip
                results.setdefault((case, contender), []).append(json.loads(done.stdout))
    print(f"{'case':10} {'contender':12} {'median s':>9} {'peak MB':>8}  outcome")
    for case, (ours, base) in CASES.items():
        medians = {}
        for contender in (ours, base):
            runs = results[(case, contender)]
            medians[contender] = statistics.median(r["seconds"] for r in runs)
            peak = max(r["peak_mb"] for r in runs)
            print(
                f"{case:10} {contender:12} {medians[contender]:9.2f} {peak:8.0f}  "
                f"{runs[0]['outcome']}"
            )
        print(f"{case:10} ratio read_events / {base}: {medians[ours] / medians[base]:.3f}")


if __name__ == "__main__":
    main()
