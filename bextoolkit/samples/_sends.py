"""The candidate-send table of a realistic account (private): times, and per-person order.

Times are epoch milliseconds (int64); weeks run Monday to Sunday in UTC, as pandas'
``freq="W"``. Sends are kept sorted by person, then time, so per-person questions ("the
earliest hard bounce before this send") are running reductions over contiguous groups.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from bextoolkit.samples import _simulation as sim

HOUR: Final = sim.MS_PER_HOUR
DAY: Final = 24 * HOUR
WEEK: Final = 7 * DAY
#: 1970-01-05, the first Monday of the epoch: weeks run Monday to Sunday, in UTC.
MONDAY: Final = 4 * DAY
NEVER = np.iinfo(np.int64).max // 4


def group_starts(person: np.ndarray) -> np.ndarray:
    """True where a new person begins in an array sorted by person."""
    starts = np.ones(len(person), dtype=bool)
    starts[1:] = person[1:] != person[:-1]
    return starts


def earlier_minimum(person: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per row, the minimum of ``values`` over the same person's earlier rows (sorted)."""
    running = pd.Series(values).groupby(person).cummin().to_numpy()
    out = np.empty_like(values)
    out[0:1] = NEVER
    out[1:] = running[:-1]
    out[group_starts(person)] = NEVER
    return out


@dataclass
class Sends:
    """Candidate sends, sorted by person and time, and what follows each."""

    person: np.ndarray
    mail: np.ndarray
    t: np.ndarray
    hard: np.ndarray
    t_hard: np.ndarray
    soft: np.ndarray
    t_soft: np.ndarray
    genuine: np.ndarray
    t_open: np.ndarray
    machine: np.ndarray
    t_machine: np.ndarray
    quits: np.ndarray
    t_quit: np.ndarray

    def take(self, index: np.ndarray) -> Sends:
        return Sends(**{k: v[index] for k, v in vars(self).items()})


def weeks(t: np.ndarray) -> np.ndarray:
    return (t - MONDAY) // WEEK


def times(ms: np.ndarray) -> pd.Series:
    return pd.Series(pd.to_datetime(ms, unit="ms", utc=True).as_unit("us"))
