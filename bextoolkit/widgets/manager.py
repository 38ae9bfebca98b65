"""``JobManager``: the organisation's job definitions in a table, with edit and delete."""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

import ipywidgets as w

from bextoolkit.jobs import ColumnSpec, JobDefinition
from bextoolkit.widgets._aria import AriaLinks
from bextoolkit.widgets._common import error_text, named, status_html
from bextoolkit.widgets.job_form import JobDefinitionForm

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

#: The table's columns: heading and how much of the row each takes (flex grow).
COLUMNS = (
    ("Id", 1),
    ("Database", 1),
    ("Format", 1),
    ("Frequency", 1),
    ("Event types", 3),
    ("Columns", 2),
)
_STATUS = ".bex-jobs-status"
_NOT_CONNECTED = (
    "Not connected: connect first (ConnectForm, then connect.on_connect(manager.set_client))."
)
#: Roles that make the rows of widgets a table for screen readers.
_TABLE_ROLES = {
    ".bex-jobs-table": {"role": "table", "aria-label": "BEX job definitions"},
    ".bex-jobs-head, .bex-jobs-row, .bex-jobs-confirm": {"role": "row"},
    ".bex-jobs-head > *": {"role": "columnheader"},
    ".bex-jobs-row > *, .bex-jobs-confirm > *": {"role": "cell"},
    ".bex-jobs-confirm-text": {"role": "alert"},
}


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


def _cell(text: str, grow: int, *, bold: bool = False) -> w.HTML:
    value = f"<b>{html.escape(text)}</b>" if bold else html.escape(text)
    layout = w.Layout(flex=f"{grow} 1 0", min_width="3.5em", margin="0 0.4em 0 0")
    return w.HTML(f"<span style='overflow-wrap: anywhere'>{value}</span>", layout=layout)


def _button(label: str, css: str, *, style: str = "") -> w.Button:
    """A button as wide as its words (readable in a narrow notebook)."""
    button = w.Button(description=label, button_style=style, layout=w.Layout(width="auto"))
    return named(button, css)


def _actions(*children: w.Widget) -> w.HBox:
    return w.HBox(list(children), layout=w.Layout(flex="0 0 auto", flex_flow="row wrap"))


class JobManager(w.VBox):
    """The job definitions of the organisation, refreshable, each one editable or deletable.

    A table (for screen readers too: rows, column headers, cells) with one row per job
    and buttons named with the job ("Edit job 7", "Delete job 7"). Edit opens
    :class:`JobDefinitionForm` below with the job loaded; Delete asks for confirmation in
    a row right below the job's (announced; Escape or Cancel closes it). After a form
    creates, updates or deletes a job, the table refreshes: the manager's own form and
    any form given to :meth:`watch`.

    Parameters
    ----------
    client : BexClient, optional
        Lists with :meth:`BexClient.list_jobs` (the sandbox answers it; a real pod may not,
        and the table then says so). Without one the manager says to connect first;
        :meth:`set_client` (``connect.on_connect(manager.set_client)``) fills it later.

    Attributes
    ----------
    jobs : list of JobDefinition
        What the last refresh listed.
    form : JobDefinitionForm or None
        The form opened by the last Edit or New job definition.

    Examples
    --------
    >>> manager = JobManager(client)  # doctest: +SKIP
    >>> manager.watch(form)  # jobs the form creates appear without Refresh  # doctest: +SKIP
    """

    def __init__(self, client: BexClient | None = None) -> None:
        self.client = client
        self.jobs: list[JobDefinition] = []
        self.form: JobDefinitionForm | None = None
        self._confirming: str | None = None
        self._refresh = named(w.Button(description="Refresh"), "bex-jobs-refresh")
        self._new = named(w.Button(description="New job definition"), "bex-jobs-new")
        self._table = named(w.VBox(), "bex-jobs-table")
        self._status = named(w.HTML(), "bex-jobs-status")
        self._form_area = named(w.VBox(), "bex-jobs-form-area")
        self._aria = AriaLinks(
            ".bex-job-manager",
            live=(_STATUS,),
            attributes=_TABLE_ROLES,
            escape=[(".bex-jobs-confirm", ".bex-jobs-cancel")],
        )
        super().__init__(
            [
                w.HTML("<h3 style='margin: 0.2em 0'>BEX job definitions</h3>"),
                w.HBox([self._refresh, self._new], layout=w.Layout(flex_flow="row wrap")),
                self._table,
                self._status,
                self._form_area,
                self._aria,
            ]
        )
        named(self, "bex-job-manager")
        self._refresh.on_click(lambda _: self.refresh(focus=True))
        self._new.on_click(lambda _: self.open_form(None))
        self.refresh()

    def set_client(self, client: BexClient | None) -> None:
        """Use ``client`` from now on and list its jobs (``None``: not connected)."""
        self.client = client
        if self.form is not None:
            self.form.client = client
        self.refresh()

    def watch(self, form: JobDefinitionForm) -> None:
        """Refresh the table whenever ``form`` creates, updates or deletes a job."""
        form.on_submit(lambda _action, _job: self.refresh())

    def refresh(self, *, focus: bool = False) -> list[JobDefinition]:
        """List the job definitions again and redraw the table (``focus``: then the status)."""
        self._confirming = None
        if focus:
            self._aria.move_focus(_STATUS)
        if self.client is None:
            self.jobs = []
            self._table.children = ()
            self._new.disabled = True
            self._status.value = status_html("info", _NOT_CONNECTED)
            return self.jobs
        self._new.disabled = False
        self._refresh.disabled = True
        try:
            self.jobs = self.client.list_jobs()
        except Exception as exc:
            log.info("listing job definitions failed: %s", exc)
            self._status.value = status_html("error", error_text(exc))
            return self.jobs
        finally:
            self._refresh.disabled = False
        self._draw()
        noun = "job definition" if len(self.jobs) == 1 else "job definitions"
        self._status.value = status_html("info", f"{len(self.jobs)} {noun}.")
        return self.jobs

    def _draw(self) -> None:
        head = named(
            w.HBox([_cell(title, grow, bold=True) for title, grow in COLUMNS]
                   + [_actions(w.HTML("<b>Actions</b>"))]),
            "bex-jobs-head",
        )  # fmt: skip
        rows: list[w.Widget] = [head]
        for job in self.jobs:
            rows.append(self._row(job))
            if self._confirming is not None and str(job.id) == self._confirming:
                rows.append(self._confirm_row(self._confirming))
        self._table.children = tuple(rows)

    def _row(self, job: JobDefinition) -> w.HBox:
        cells = [_cell(text, grow) for text, (_, grow) in zip(job_row(job), COLUMNS, strict=True)]
        edit = _button(f"Edit job {job.id}", "bex-jobs-edit")
        delete = _button(f"Delete job {job.id}", "bex-jobs-delete", style="danger")
        edit.on_click(lambda _, j=job: self.open_form(j))
        delete.on_click(lambda _, j=job: self.ask_delete(str(j.id)))
        row = w.HBox([*cells, _actions(edit, delete)], layout=w.Layout(align_items="center"))
        return named(row, "bex-jobs-row", f"bex-jobs-row-{job.id}")

    def _confirm_row(self, job_id: str) -> w.HBox:
        text = named(
            w.HTML(status_html("error", f"Delete job definition {job_id}? Its exports stop. "
                                        "This cannot be undone.")),
            "bex-jobs-confirm-text",
        )  # fmt: skip
        yes = _button("Yes, delete", "bex-jobs-yes", style="danger")
        cancel = _button("Cancel", "bex-jobs-cancel")
        yes.on_click(lambda _: self.delete(job_id))
        cancel.on_click(lambda _: self.cancel_delete())
        body = w.HBox([text, yes, cancel], layout=w.Layout(flex_flow="row wrap", flex="1 1 0"))
        return named(w.HBox([body]), "bex-jobs-confirm", f"bex-jobs-confirm-{job_id}")

    # -- delete, asked first ------------------------------------------------------------------
    def ask_delete(self, job_id: str) -> None:
        """Ask below the job's row whether to delete it; the focus goes to Cancel."""
        self._confirming = job_id
        self._draw()
        self._aria.move_focus(".bex-jobs-cancel")

    def cancel_delete(self) -> None:
        """Close the question; the focus returns to the Delete button that asked it."""
        job_id, self._confirming = self._confirming, None
        self._draw()
        if job_id is not None:
            self._aria.move_focus(f".bex-jobs-row-{job_id} .bex-jobs-delete")

    def delete(self, job_id: str) -> bool:
        """Delete the job definition ``job_id`` (the confirmed step) and list again."""
        self._confirming = None
        self._aria.move_focus(_STATUS)
        if self.client is None:
            return False
        try:
            self.client.delete_job(job_id)
        except Exception as exc:
            log.info("deleting job definition %s failed: %s", job_id, exc)
            self._draw()
            self._status.value = status_html("error", error_text(exc))
            return False
        if self.form is not None and self.form.values.job_id == job_id:
            self.form.close()
            self.form = None
            self._form_area.children = ()
        self.refresh()
        self._status.value = status_html("ok", f"Deleted job definition {job_id}.")
        return True

    def open_form(self, job: JobDefinition | None) -> JobDefinitionForm:
        """Open the form below the table with ``job`` (or empty); its first field takes the
        focus."""
        if self.form is not None:
            self.form.close()
        form = JobDefinitionForm(self.client, job)
        self.watch(form)
        self.form = form
        self._form_area.children = (form,)
        self._aria.move_focus(".bex-jobs-form-area .bex-database-id")
        return form
