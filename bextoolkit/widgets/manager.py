"""``JobManager``: the organisation's job definitions in a table, with edit and delete."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

import ipywidgets as w

from bextoolkit.jobs import ColumnSpec, JobDefinition
from bextoolkit.widgets._common import error_text, named, status_html
from bextoolkit.widgets.job_form import JobDefinitionForm

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

#: The table's columns: heading and width.
COLUMNS = (
    ("Id", "7em"),
    ("Database", "8em"),
    ("Format", "5em"),
    ("Frequency", "7em"),
    ("Event types", "16em"),
    ("Columns", "14em"),
    ("", "11em"),
)


def job_row(job: JobDefinition) -> list[str]:
    """The cells of one job definition in the table (first channel), as text.

    Examples
    --------
    >>> from bextoolkit.jobs import Channel
    >>> job = JobDefinition(id="7", contact_source_id="42", ftp_user_id="a@b.co",
    ...     channels=[Channel(job_frequency=6, export_file_format="TSV", columns=["City"])])
    >>> job_row(job)
    ['7', '42', 'TSV', 'every 6 h', 'all', 'City']
    """
    channel = job.channels[0] if job.channels else None
    if channel is None:
        return [str(job.id or ""), str(job.contact_source_id or ""), "", "", "", ""]
    columns = [c.name if isinstance(c, ColumnSpec) else str(c) for c in channel.columns]
    return [
        str(job.id or ""),
        str(job.contact_source_id or ""),
        str(channel.export_file_format),
        f"every {channel.job_frequency} h",
        ", ".join(map(str, channel.event_types)) or "all",
        ", ".join(columns) or "none",
    ]


def _cell(text: str, width: str, *, bold: bool = False) -> w.HTML:
    value = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
    return w.HTML(value, layout=w.Layout(width=width, overflow="hidden"))


class JobManager(w.VBox):
    """The job definitions of the organisation, refreshable, each one editable or deletable.

    Edit opens :class:`JobDefinitionForm` with the job loaded; Delete opens it at its
    confirmation step. After the form updates or deletes, the table refreshes.

    Parameters
    ----------
    client : BexClient
        Lists with :meth:`BexClient.list_jobs` (the sandbox answers it; a real pod may not,
        and the table then says so).

    Attributes
    ----------
    jobs : list of JobDefinition
        What the last refresh listed.
    form : JobDefinitionForm or None
        The form opened by the last Edit or Delete.

    Examples
    --------
    >>> JobManager(client)  # doctest: +SKIP
    """

    def __init__(self, client: BexClient) -> None:
        self.client = client
        self.jobs: list[JobDefinition] = []
        self.form: JobDefinitionForm | None = None
        self._refresh = named(w.Button(description="Refresh"), "bex-jobs-refresh")
        self._new = named(w.Button(description="New job definition"), "bex-jobs-new")
        self._table = named(w.VBox(), "bex-jobs-table")
        self._status = named(w.HTML(), "bex-jobs-status")
        self._form_area = named(w.VBox(), "bex-jobs-form-area")
        super().__init__(
            [
                w.HTML("<h3 style='margin: 0.2em 0'>BEX job definitions</h3>"),
                w.HBox([self._refresh, self._new]),
                self._table,
                self._status,
                self._form_area,
            ]
        )
        named(self, "bex-job-manager")
        self._refresh.on_click(lambda _: self.refresh())
        self._new.on_click(lambda _: self.open_form(None))
        self.refresh()

    def refresh(self) -> list[JobDefinition]:
        """List the job definitions again and redraw the table."""
        self._refresh.disabled = True
        try:
            self.jobs = self.client.list_jobs()
        except Exception as exc:
            log.info("listing job definitions failed: %s", exc)
            self._status.value = status_html("error", error_text(exc))
            return self.jobs
        finally:
            self._refresh.disabled = False
        header = w.HBox([_cell(title, width, bold=True) for title, width in COLUMNS])
        rows = [header] + [self._row(job) for job in self.jobs]
        self._table.children = tuple(rows)
        noun = "job definition" if len(self.jobs) == 1 else "job definitions"
        self._status.value = status_html("info", f"{len(self.jobs)} {noun}.")
        return self.jobs

    def _row(self, job: JobDefinition) -> w.HBox:
        cells = [
            _cell(text, width) for text, (_, width) in zip(job_row(job), COLUMNS, strict=False)
        ]
        edit = named(w.Button(description="Edit", layout=w.Layout(width="5em")), "bex-jobs-edit")
        delete = named(
            w.Button(description="Delete", button_style="danger", layout=w.Layout(width="5.5em")),
            "bex-jobs-delete",
        )
        edit.on_click(lambda _, j=job: self.open_form(j))
        delete.on_click(lambda _, j=job: self.open_form(j, delete=True))
        return named(w.HBox([*cells, edit, delete]), "bex-jobs-row", f"bex-jobs-row-{job.id}")

    def open_form(self, job: JobDefinition | None, *, delete: bool = False) -> JobDefinitionForm:
        """Open the form below the table with ``job`` (or empty); ``delete`` asks to confirm."""
        if self.form is not None:
            self.form.close()
        form = JobDefinitionForm(self.client, job)
        form.on_submit(lambda _action, _job: self.refresh())
        if delete:
            form.ask_delete()
        self.form = form
        self._form_area.children = (form,)
        return form
