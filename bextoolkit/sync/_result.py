"""What a sync run did: :class:`SyncResult`."""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any


@dataclass(repr=False)
class SyncResult:
    """What one :func:`sync` run did; ``str()`` and the notebook repr are a one-line summary.

    Attributes
    ----------
    files_listed : int
        Export files found in the source.
    files_unchanged : int
        Already synced with the same size and modified time (or the same bytes): not parsed.
    files_read : int
        Parsed: new files and files that changed.
    files_replaced : int
        Of those, files synced before whose rows were replaced (grown, rewritten).
    files_redelivered : int
        Byte-identical copies of a synced file under another path: nothing added.
    files_pending : list of str
        Files modified less than ``settle`` seconds ago, not ending in a newline, or still
        growing while copied: left for the next run.
    files_skipped : list of dict
        Files the reader skipped as not being exports (``path``, ``reason``).
    events_read, events_added, events_removed : int
        Events parsed, added to the table, and removed from it (old rows of changed files).
    duplicates : int
        Parsed events already in the table (delivered by another file).
    skipped_lines : int
        Malformed lines the reader skipped.
    table_version : int
        The events table's version after the run (-1: no table yet).
    dataset_files, dataset_events : int
        Source files recorded and events in DEST after the run.
    removed_staging : int
        Staging folders of killed runs removed at the start.
    compacted_dates : int
        Date partitions compacted (``optimize``) after the run.
    seconds : float
        Wall-clock time of the run.

    Examples
    --------
    >>> result = SyncResult(src="sftp://host/download", dest="data/bex", files_listed=3,
    ...     files_read=2, files_unchanged=1, events_read=100, events_added=98, duplicates=2,
    ...     dataset_events=98, dataset_files=2, table_version=0)
    >>> print(result)
    synced 2 new file(s) of 3 (1 unchanged): +98 events (2 duplicates dropped) in 0.0 s; \
data/bex holds 98 events from 2 file(s), version 0
    """

    src: str = ""
    dest: str = ""
    files_listed: int = 0
    files_unchanged: int = 0
    files_read: int = 0
    files_replaced: int = 0
    files_redelivered: int = 0
    files_pending: list[str] = field(default_factory=list)
    files_skipped: list[dict[str, Any]] = field(default_factory=list)
    events_read: int = 0
    events_added: int = 0
    events_removed: int = 0
    duplicates: int = 0
    skipped_lines: int = 0
    table_version: int = -1
    dataset_files: int = 0
    dataset_events: int = 0
    removed_staging: int = 0
    compacted_dates: int = 0
    seconds: float = 0.0

    def summary(self) -> str:
        """One line for a person: what was copied and what DEST holds now."""
        notes = [f"{self.files_unchanged} unchanged"]
        if self.files_replaced:
            notes.append(f"{self.files_replaced} changed")
        if self.files_redelivered:
            notes.append(f"{self.files_redelivered} re-delivered")
        if self.files_pending:
            notes.append(f"{len(self.files_pending)} pending")
        if self.files_skipped:
            notes.append(f"{len(self.files_skipped)} not exports")
        removed = f", -{self.events_removed:,} replaced" if self.events_removed else ""
        bad = f", {self.skipped_lines:,} bad lines skipped" if self.skipped_lines else ""
        return (
            f"synced {self.files_read} new file(s) of {self.files_listed} ({', '.join(notes)})"
            f": +{self.events_added:,} events{removed} ({self.duplicates:,} duplicates "
            f"dropped{bad}) in {self.seconds:.1f} s; {self.dest} holds "
            f"{self.dataset_events:,} events from {self.dataset_files:,} file(s), "
            f"version {self.table_version}"
        )

    def __str__(self) -> str:
        return self.summary()

    def __repr__(self) -> str:
        return f"<SyncResult: {self.summary()}>"

    def _repr_html_(self) -> str:
        return f"<code>{html.escape(self.summary())}</code>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(self.summary())
