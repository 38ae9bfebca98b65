"""Benchmark: the sample generator, a realistic account next to the default simulation.

Run from the repository root::

    .venv/bin/python benchmarks/bench_samples.py                      # 5,000 people, 500 mailings
    .venv/bin/python benchmarks/bench_samples.py --recipients 20000 --repeat 3

Times ``generate_campaign(n_recipients, n_mailings, days=365)`` with ``realistic=True``
(suppression, daily programs, complaints, every plant) and with the default simulation
(each mailing on its own), round-robin, and prints the median seconds, events per second
and the ratio realistic / default of the same run.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bextoolkit.samples import ComplaintSurge, generate_campaign


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=5000)
    parser.add_argument("--mailings", type=int, default=500)
    parser.add_argument("--days", type=float, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    common = {"n_recipients": args.recipients, "n_mailings": args.mailings, "days": args.days,
              "start": "2026-01-05"}  # fmt: skip
    contenders = {
        "default": dict(common),
        "realistic": dict(common, realistic=True),
        "realistic + plants": dict(
            common,
            realistic=True,
            plant_mailed_after_opt_out=10,
            plant_mailed_after_hard_bounce=10,
            plant_machine_opens_only=10,
            plant_complaint_surge=ComplaintSurge("Yahoo", "2026-06-01"),
        ),
    }
    times: dict[str, list[float]] = {name: [] for name in contenders}
    sizes: dict[str, int] = {}
    for round_ in range(args.repeat):
        for name, kwargs in contenders.items():
            began = time.perf_counter()
            campaign = generate_campaign(seed=round_, **kwargs)
            times[name].append(time.perf_counter() - began)
            sizes[name] = len(campaign.events)
            del campaign
    base = statistics.median(times["default"])
    print(f"{args.recipients:,} people, {args.mailings} mailings, {args.days:g} days, "
          f"median of {args.repeat} round-robin runs")  # fmt: skip
    print(f"{'contender':<20} {'seconds':>8} {'events':>11} {'M events/s':>11} {'ratio':>6}")
    for name, runs in times.items():
        median = statistics.median(runs)
        print(
            f"{name:<20} {median:>8.2f} {sizes[name]:>11,} "
            f"{sizes[name] / median / 1e6:>11.2f} {median / base:>6.2f}"
        )


if __name__ == "__main__":
    main()
