"""Export files and synced stores -> the events frame.

The flow: :func:`read_events` (:mod:`.router`, the only entry) picks a reader for each
call: :func:`.files.read_files` for export files (:mod:`._sources` lists and opens them,
:mod:`._parsing` unwraps and parses one, :mod:`._timestamps` and :mod:`._event_types`
type its columns, :mod:`._dedupe` finds events repeated across files), :mod:`.store` for
a folder written by :func:`bextoolkit.sync`, :mod:`.dask` for ``engine="dask"``.
:mod:`.listing` lists export files with the parts of their names.
"""

from __future__ import annotations

from bextoolkit.readers._sources import as_bex_error
from bextoolkit.readers.files import read_files
from bextoolkit.readers.listing import list_exports, parse_export_name
from bextoolkit.readers.router import apply_filters, read_events

__all__ = [
    "apply_filters",
    "as_bex_error",
    "list_exports",
    "parse_export_name",
    "read_events",
    "read_files",
]
