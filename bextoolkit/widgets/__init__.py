"""Notebook widgets for BEX: connect, build and send job definitions, browse and load exports.

Each widget is one composite ipywidgets class; display it as the last expression of a cell.

- :class:`ConnectForm` builds a :class:`~bextoolkit.client.BexClient` from a pod or base URL
  and OAuth credentials (or starts the local sandbox with one click). Secrets stay out of
  the notebook's saved outputs and widget state.
- :class:`JobDefinitionForm` edits one job definition with live checks and a JSON preview,
  and creates, loads, updates or deletes it.
- :class:`JobManager` lists the organisation's job definitions, with edit and delete.
- :class:`ExportBrowser` lists the export files of a folder (local or ``sftp://``), filters
  them by date and loads the selected ones into :attr:`ExportBrowser.events`.

Examples
--------
>>> from bextoolkit import widgets                                     # doctest: +SKIP
>>> connect = widgets.ConnectForm(); connect                           # doctest: +SKIP
>>> form = widgets.JobDefinitionForm(connect.client)                   # doctest: +SKIP
>>> connect.on_connect(form.set_client); form                          # doctest: +SKIP
"""

from __future__ import annotations

from bextoolkit.widgets.connect import ConnectForm
from bextoolkit.widgets.exports import ExportBrowser
from bextoolkit.widgets.job_form import JobDefinitionForm
from bextoolkit.widgets.manager import JobManager

__all__ = ["ConnectForm", "ExportBrowser", "JobDefinitionForm", "JobManager"]
