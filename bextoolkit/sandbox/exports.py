"""The sandbox's export clock: sandbox time, and the files each job definition makes.

Acoustic runs every BEX job definition every ``jobFrequency`` hours and drops one file per
run in the admin's SFTP ``download/`` folder. :class:`ExportClock` does the same on the
sandbox timeline: whenever sandbox time passes a window end of a job (every
``jobFrequency`` hours from the job's creation, aligned to whole hours), it writes that
window's events of the job's database, filtered by the job's ``eventTypes`` and
``mailingTypes``, with the job's ``columnNames`` in ``columnOrder``, in the job's
``exportFileFormat``, named with its ``exportFileName`` prefix.

The events come from :class:`SimulatedDatabase`: one seeded synthetic universe per
``contactSourceId``, generated a day at a time by :func:`bextoolkit.samples.generate_events`.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import fsspec
import pandas as pd

from bextoolkit import schema

log = logging.getLogger(__name__)

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def parse_time(value: str | datetime | pd.Timestamp) -> datetime:
    """Return ``value`` as an aware UTC :class:`~datetime.datetime` (naive means UTC).

    Examples
    --------
    >>> parse_time("2026-11-02T00:00:00Z").isoformat()
    '2026-11-02T00:00:00+00:00'
    """
    ts = pd.Timestamp(value)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return ts.to_pydatetime()


def floor_hour(moment: datetime) -> datetime:
    """Return ``moment`` with minutes, seconds and microseconds dropped.

    Examples
    --------
    >>> floor_hour(parse_time("2026-11-02T05:59:59Z")).isoformat()
    '2026-11-02T05:00:00+00:00'
    """
    return moment.replace(minute=0, second=0, microsecond=0)


@dataclass(frozen=True)
class ExportSpec:
    """What one channel of a job definition exports: read from the wire JSON.

    Empty ``event_types`` or ``mailing_types`` mean all of them, as in the documentation.

    Examples
    --------
    >>> channel = {"jobFrequency": 6, "exportFileFormat": "TSV",
    ...            "eventTypes": [{"eventType": "emailOpen"}]}
    >>> spec, = ExportSpec.from_wire("1001", {"contactSourceId": "423251", "channels": [channel]})
    >>> spec.frequency, spec.file_format, spec.event_types, spec.mailing_types  # () means all
    (6, 'TSV', ('emailOpen',), ())
    """

    job_id: str
    contact_source_id: str
    frequency: int
    event_types: tuple[str, ...] = ()
    mailing_types: tuple[str, ...] = ()
    database_columns: tuple[str, ...] = ()
    file_format: str = schema.DEFAULT_FILE_FORMAT
    prefix: str = schema.DEFAULT_EXPORT_FILE_NAME
    channel: str = "Email"

    @classmethod
    def from_wire(cls, job_id: str, job: Mapping[str, Any]) -> list[ExportSpec]:
        """Return one spec per channel of the job definition ``job`` (the wire JSON).

        Examples
        --------
        >>> wire = {"contactSourceId": "42", "ftpUserId": "a@b.c", "channels": [{
        ...     "type": "Email", "jobFrequency": 2, "exportFileFormat": "psv",
        ...     "eventTypes": [{"eventType": "emailOpen"}],
        ...     "columnNames": [{"columnName": "b", "columnOrder": 1},
        ...                     {"columnName": "a", "columnOrder": 0}]}]}
        >>> spec, = ExportSpec.from_wire("7", wire)
        >>> spec.frequency, spec.event_types, spec.database_columns, spec.file_format
        (2, ('emailOpen',), ('a', 'b'), 'PSV')
        """
        from bextoolkit.jobs import JobDefinition  # the wire format is read in one place

        definition = JobDefinition.from_dict(job)
        return [
            cls(
                job_id=str(job_id),
                contact_source_id=str(definition.contact_source_id or ""),
                frequency=int(channel.job_frequency or 24),
                event_types=tuple(channel.event_types),
                mailing_types=tuple(channel.mailing_types),
                database_columns=tuple(
                    c.name for c in sorted(channel.columns, key=lambda c: int(c.order))
                ),
                file_format=str(channel.export_file_format).upper(),
                prefix=channel.file_name_prefix,
                channel=channel.type,
            )
            for channel in definition.channels
        ]


def select_events(
    events: pd.DataFrame, spec: ExportSpec, start: datetime, end: datetime
) -> pd.DataFrame:
    """The events one job exports for the window ``[start, end)``: a filtered copy.

    Keeps the window's events whose ``eventType`` is among ``spec.event_types`` and whose
    mailing type (:func:`bextoolkit.samples.campaigns.mailing_type_of`) is among
    ``spec.mailing_types`` (empty means all), sorted by time. The input is not changed.
    """
    from bextoolkit.samples.campaigns import mailing_type_of

    stamps = events["timestamp"]
    in_window = (stamps >= pd.Timestamp(start)) & (stamps < pd.Timestamp(end))
    keep = in_window.to_numpy(dtype=bool, copy=True)
    if spec.event_types:
        codes = events[schema.EVENT_TYPE_COLUMN].astype("string")
        keep &= codes.isin(spec.event_types).fillna(False).to_numpy(dtype=bool)
    if spec.mailing_types:
        types = mailing_type_of(events).astype("string")
        keep &= types.isin(spec.mailing_types).fillna(False).to_numpy(dtype=bool)
    return events.loc[keep].sort_values("timestamp", kind="stable")


def write_export_file(
    events: pd.DataFrame, folder: str | os.PathLike[str], spec: ExportSpec, window_end: datetime
) -> Path:
    """Write one export file of ``spec`` for the window ending at ``window_end``.

    The file is named as :func:`bextoolkit.samples.campaigns.export_file_name` names it, holds the
    header (``schema.BEX_COLUMNS`` then ``spec.database_columns``; columns the events lack
    are empty) and one row per event, even when there is none (a header-only file, as a
    run with no events still makes). It appears atomically: written under a hidden name
    and renamed, so a reader listing the folder never sees half a file.
    """
    from bextoolkit import samples
    from bextoolkit.samples.delimited import write_text

    name = samples.export_file_name(
        pd.Timestamp(window_end),
        file_format=spec.file_format,
        frequency=spec.frequency,
        prefix=spec.prefix,
        channel=spec.channel,
    )
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    final, partial = folder / name, folder / f".{name}.part"
    write_text(
        fsspec.filesystem("file"),
        str(partial),
        events,
        [*schema.BEX_COLUMNS, *spec.database_columns],
        delimiter=schema.DELIMITERS[spec.file_format],
        timestamp_format="iso",
        gzipped=False,
    )
    os.replace(partial, final)
    return final


#: The events of a job's database in a window: ``(spec, start, end) -> frame``.
WindowEvents = Callable[[ExportSpec, datetime, datetime], pd.DataFrame]
#: Writes one window of one job: ``(spec, events, window_end) -> path``.
WindowWriter = Callable[[ExportSpec, pd.DataFrame, datetime], Path]


class ExportClock:
    """Sandbox time, and the export files of every job definition as that time passes.

    Parameters
    ----------
    jobs : callable
        Returns the current job definitions, ``{job_id: wire JSON}``; called on every tick,
        so jobs created, updated or deleted through the API take effect from then on.
    window_events : callable
        ``(spec, start, end) -> events frame``: the job's database in that window
        (:func:`select_events` then applies the job's filters).
    write_window : callable
        ``(spec, events, window_end) -> path``: writes one window's filtered events.
    start : str or datetime
        Sandbox time when the clock is made.
    speed : float
        Sandbox seconds per real second; 0 (the default) means time moves only through
        :meth:`advance`.
    created_at : callable, optional
        ``job_id -> datetime or None``: when the API recorded the job's creation. Without
        it (or when it answers None) a job counts as created when the clock first sees it.
    tick : float
        Real seconds between two background catch-ups when ``speed > 0``.

    Examples
    --------
    >>> import pandas as pd
    >>> from pathlib import Path
    >>> no_events = pd.DataFrame({"timestamp": pd.Series([], dtype="datetime64[ns, UTC]")})
    >>> clock = ExportClock(
    ...     jobs=lambda: {"1001": {"contactSourceId": "1", "channels": [{"jobFrequency": 6}]}},
    ...     window_events=lambda spec, start, end: no_events,
    ...     write_window=lambda spec, events, end: Path(f"{spec.job_id}_{end:%Y%m%d%H}.csv"))
    >>> clock.now().isoformat()
    '2026-11-02T00:00:00+00:00'
    >>> [path.name for path in clock.advance(hours=12)]  # a file every 6 hours
    ['1001_2026110206.csv', '1001_2026110212.csv']
    """

    def __init__(
        self,
        *,
        jobs: Callable[[], Mapping[str, Mapping[str, Any]]],
        window_events: WindowEvents,
        write_window: WindowWriter,
        start: str | datetime = "2026-11-02T00:00:00Z",
        speed: float = 0.0,
        created_at: Callable[[str], datetime | None] | None = None,
        tick: float = 0.1,
    ) -> None:
        if speed < 0:
            raise ValueError(f"speed must be >= 0 sandbox seconds per real second, got {speed}")
        self._jobs = jobs
        self._window_events = window_events
        self._write_window = write_window
        self._created_at = created_at
        self.speed = float(speed)
        self.tick = tick
        self._origin = parse_time(start)
        self._real_origin = time.monotonic()
        self._offset = timedelta(0)
        self._processed = self._origin
        #: (job id, channel index) -> end of the last window written (the next one's start)
        self._anchors: dict[tuple[str, int], datetime] = {}
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._error: BaseException | None = None
        self.written: list[Path] = []

    # --- time ---------------------------------------------------------------------------
    def now(self) -> datetime:
        """Return the current sandbox time (aware, UTC)."""
        elapsed = (time.monotonic() - self._real_origin) * self.speed
        return self._origin + self._offset + timedelta(seconds=elapsed)

    def advance(self, hours: float = 0.0, *, minutes: float = 0.0, days: float = 0.0) -> list[Path]:
        """Move sandbox time forward and write every file that became due, then return them.

        Synchronous: when it returns, the files are in the download folder.
        """
        step = timedelta(days=days, hours=hours, minutes=minutes)
        if step < timedelta(0):
            raise ValueError(f"sandbox time only moves forward; got a step of {step}")
        with self._lock:
            self._offset += step
            return self.catch_up()

    def catch_up(self) -> list[Path]:
        """Write every file due up to the current sandbox time; return the new paths."""
        with self._lock:
            target = self.now()
            written = self._run_until(target)
            self._processed = max(self._processed, target)
            return written

    # --- saving and resuming -------------------------------------------------------------
    def state(self) -> dict[str, Any]:
        """Sandbox time and each job's last window end, as JSON-ready values."""
        with self._lock:
            return {
                "now": self.now().isoformat(),
                "anchors": [
                    [job, index, end.isoformat()] for (job, index), end in self._anchors.items()
                ],
            }

    def restore(self, state: Mapping[str, Any]) -> None:
        """Resume from :meth:`state`: time goes on from there, no window is written twice."""
        with self._lock:
            now = parse_time(state["now"])
            self._origin, self._offset, self._real_origin = now, timedelta(0), time.monotonic()
            self._processed = now
            self._anchors = {(str(j), int(i)): parse_time(end) for j, i, end in state["anchors"]}

    # --- the background clock -----------------------------------------------------------
    def start(self) -> None:
        """Start the background thread that keeps exports current when ``speed > 0``."""
        if self.speed <= 0 or self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="bex-sandbox-clock", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the background thread (if any) and wait for it."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self.tick):
            try:
                self.catch_up()
            except Exception as exc:  # keep the sandbox alive; report through the log
                if self._error is None:
                    log.exception("sandbox export clock failed; exports may be missing")
                self._error = exc

    # --- the schedule -------------------------------------------------------------------
    def _specs(self) -> dict[tuple[str, int], ExportSpec]:
        specs: dict[tuple[str, int], ExportSpec] = {}
        for job_id, job in list(self._jobs().items()):
            for index, spec in enumerate(ExportSpec.from_wire(str(job_id), job)):
                specs[(str(job_id), index)] = spec
        return specs

    def _anchor(self, job_id: str) -> datetime:
        created = self._created_at(job_id) if self._created_at else None
        moment = parse_time(created) if created is not None else self._processed
        return floor_hour(moment)

    def _run_until(self, target: datetime) -> list[Path]:
        specs = self._specs()
        for key in set(self._anchors) - set(specs):
            log.info("job %s channel %d is gone: no more exports for it", *key)
            del self._anchors[key]
        for key in specs:
            self._anchors.setdefault(key, self._anchor(key[0]))
        due: list[tuple[datetime, tuple[str, int]]] = []
        for key, spec in specs.items():
            step = timedelta(hours=spec.frequency)
            end = self._anchors[key] + step
            while end <= target:
                due.append((end, key))
                end += step
        written = []
        for end, key in sorted(due):
            spec = specs[key]
            start = end - timedelta(hours=spec.frequency)
            events = select_events(self._window_events(spec, start, end), spec, start, end)
            path = self._write_window(spec, events, end)
            log.info("job %s: wrote %s (%d events)", spec.job_id, path.name, len(events))
            self._anchors[key] = end
            written.append(path)
        self.written.extend(written)
        return written
