"""The sandbox's simulated contact databases: seeded synthetic events, a day at a time.

Each ``contactSourceId`` is its own universe: its events come from
:func:`bextoolkit.samples.generate_events`, seeded by the sandbox seed, the database id and
the day, so the same sandbox seed gives the same files for the same job, run after run.
Days are generated only when a window asks for them, and the last few are cached.
"""

from __future__ import annotations

import logging
import threading
import zlib
from collections import OrderedDict
from collections.abc import Sequence
from datetime import datetime, timedelta

import numpy as np
import pandas as pd

from bextoolkit import samples

log = logging.getLogger(__name__)

_DAY = timedelta(days=1)


class SimulatedDatabase:
    """Events of simulated contact databases, generated lazily one UTC day at a time.

    Parameters
    ----------
    seed : int
        Seed of the whole sandbox; each database and day derives its own from it.
    n_recipients : int
        Contacts in each simulated database.
    mailings_per_day : int
        Mailings each database sends per day (mailing types cycle as in
        :func:`bextoolkit.samples.campaigns.generate_campaign`).
    cache_days : int
        Generated days kept in memory.

    Notes
    -----
    Every day is generated on its own: events a mailing would cause after midnight (late
    opens, soft bounces) are dropped, and the contacts are drawn afresh each day.

    Examples
    --------
    >>> db = SimulatedDatabase(n_recipients=40, mailings_per_day=1)
    >>> a = db.events("123", "2026-11-02T00:00Z", "2026-11-02T12:00Z")
    >>> b = db.events("123", "2026-11-02T12:00Z", "2026-11-03T00:00Z")
    >>> len(a) + len(b) == len(db.events("123", "2026-11-02T00:00Z", "2026-11-03T00:00Z"))
    True
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        n_recipients: int = 2000,
        mailings_per_day: int = 4,
        cache_days: int = 8,
    ) -> None:
        self.seed = int(seed)
        self.n_recipients = int(n_recipients)
        self.mailings_per_day = int(mailings_per_day)
        self.cache_days = int(cache_days)
        self._cache: OrderedDict[tuple[str, datetime, tuple[str, ...]], pd.DataFrame] = (
            OrderedDict()
        )
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"SimulatedDatabase(seed={self.seed}, n_recipients={self.n_recipients}, "
            f"mailings_per_day={self.mailings_per_day})"
        )

    def events(
        self,
        contact_source_id: str,
        start: str | datetime | pd.Timestamp,
        end: str | datetime | pd.Timestamp,
        *,
        database_columns: Sequence[str] = (),
    ) -> pd.DataFrame:
        """The events of database ``contact_source_id`` with ``start <= timestamp < end``.

        Parameters
        ----------
        contact_source_id : str
            The database (any string; each one is its own universe).
        start, end : str, datetime or pandas.Timestamp
            The window, naive meaning UTC.
        database_columns : sequence of str
            Database columns to include; those the simulation holds
            (:data:`bextoolkit.samples.campaigns.DATABASE_COLUMNS`) are filled, others are left out
            (a file written with them gets empty cells).

        Returns
        -------
        pandas.DataFrame
            An events frame sorted by ``timestamp`` (a new frame: safe to change).
        """
        begin, stop = _utc(start), _utc(end)
        known = tuple(c for c in dict.fromkeys(database_columns) if c in samples.DATABASE_COLUMNS)
        parts = []
        day = begin.normalize()
        while day < stop:
            frame = self._day(str(contact_source_id), day.to_pydatetime(), known)
            stamps = frame["timestamp"]
            parts.append(frame.loc[((stamps >= begin) & (stamps < stop)).to_numpy()])
            day += _DAY
        if not parts:
            return self._day(str(contact_source_id), begin.normalize().to_pydatetime(), known)[:0]
        return pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0].copy()

    def _day(self, source: str, day: datetime, columns: tuple[str, ...]) -> pd.DataFrame:
        key = (source, day, columns)
        with self._lock:
            if key in self._cache:
                self._cache.move_to_end(key)
                return self._cache[key]
            frame = samples.generate_events(
                n_recipients=self.n_recipients,
                n_mailings=self.mailings_per_day,
                start=pd.Timestamp(day),
                days=1.0,
                seed=self._day_seed(source, day),
                database_columns=list(columns),
            )
            log.info(
                "sandbox: simulated %d events of database %s on %s", len(frame), source, day.date()
            )
            self._cache[key] = frame
            while len(self._cache) > self.cache_days:
                self._cache.popitem(last=False)
            return frame

    def _day_seed(self, source: str, day: datetime) -> int:
        sequence = np.random.SeedSequence(
            [self.seed, zlib.crc32(source.encode("utf-8")), day.toordinal()]
        )
        return int(sequence.generate_state(1, dtype=np.uint32)[0])


def _utc(value: str | datetime | pd.Timestamp) -> pd.Timestamp:
    ts = pd.Timestamp(value)
    return ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
