"""``JobDefinitionForm``: build, check and send one BEX job definition from a notebook."""

from __future__ import annotations

import html
import json
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import ipywidgets as w

from bextoolkit import schema
from bextoolkit.exceptions import BexAPIError
from bextoolkit.jobs import JobDefinition, Problem, find_problems
from bextoolkit.widgets._aria import AriaLinks
from bextoolkit.widgets._common import (
    error_text,
    field,
    message_box,
    messages_html,
    named,
    show,
    status_html,
)
from bextoolkit.widgets._job_form_logic import (
    DATABASE_ID_HELP,
    GENERAL,
    REQUIRED_FIELDS,
    FormValues,
    conflict_id,
    example_file_name,
    field_messages,
    frequency_label,
    not_offered_label,
    prefix_hint,
    problem_summary,
    problems_by_field,
    unknown_values,
    values_from_wire,
    wire_body,
)

if TYPE_CHECKING:
    from bextoolkit.client import BexClient

log = logging.getLogger(__name__)

SubmitCallback = Callable[[str, JobDefinition], Any]
_NOT_CONNECTED = "Not connected: pass a BexClient (or use ConnectForm) to send."
_FILE_FORMATS = [("CSV (comma)", "CSV"), ("PSV (pipe)", "PSV"), ("TSV (tab)", "TSV")]
_FREQUENCIES = [(frequency_label(h), h) for h in schema.JOB_FREQUENCIES]
#: Where the focus goes after an action (CSS selectors inside the form).
_STATUS = ".bex-job-status"


def _checkbox(label: str, css: str) -> w.Checkbox:
    # the space after each box's label is wider than the one between a box and its label
    layout = w.Layout(width="auto", margin="2px 1.8em 2px 0")
    return named(w.Checkbox(value=False, description=label, indent=False, layout=layout), css)


def _button(label: str, css: str, *, style: str = "", tooltip: str = "") -> w.Button:
    button = w.Button(description=label, button_style=style, tooltip=tooltip or label)
    return named(button, css)


def _row(*children: w.Widget) -> w.HBox:
    return w.HBox(list(children), layout=w.Layout(align_items="center"))


def _css(key: str) -> str:
    """The CSS name of a field key: ``database_id`` -> ``database-id``."""
    return key.replace("_", "-")


#: The single-value fields, by key: their widgets are ``_<key>`` and their CSS ``bex-<key>``.
_FIELDS = ("database_id", "admin_email", "file_format", "frequency", "prefix", "job_id")
#: The places that hold messages: the fields, the tick groups, the columns and the rest.
_MESSAGE_PLACES = (*_FIELDS, "event_types", "mailing_types", "columns", GENERAL)


class _ColumnRow(w.HBox):
    """One database column row: its name, and up / down / remove buttons."""

    def __init__(self, index: int) -> None:
        self.name = w.Text(
            description=f"Column {index + 1}",
            placeholder="database column name",
            style={"description_width": "5em"},
            layout=w.Layout(width="25em"),
        )
        self.up = _button("↑", "bex-column-up", tooltip="move up")
        self.down = _button("↓", "bex-column-down", tooltip="move down")
        self.remove = _button("✕", "bex-column-remove", tooltip="remove this column")
        for button in (self.up, self.down, self.remove):
            button.layout.width = "2.6em"
        self.message = message_box(f"bex-msg-column-{index}")
        super().__init__([self.name, self.up, self.down, self.remove, self.message])
        named(self, "bex-column", f"bex-column-{index}")

    def close_all(self) -> None:
        """Close the row and every widget in it (ends their comms in the kernel)."""
        for child in self.children:
            child.close()
        self.close()


class JobDefinitionForm(w.VBox):
    """A form for one BEX job definition: every field, live checks, and the four calls.

    Fields are checked with :func:`~bextoolkit.jobs.find_problems` as they change; each
    message stands next to its field (and is tied to it for screen readers), a required
    field says so once it was touched, a JSON preview shows the body, and the buttons Create
    (POST), Load (GET by id), Update (PUT) and Delete (after a confirmation) are disabled
    while their call runs and whenever the form cannot be sent.

    Parameters
    ----------
    client : BexClient, optional
        Sends the calls. Without one the form still builds and checks job definitions;
        set :attr:`client` later (``ConnectForm.on_connect(form.set_client)``).
    job : JobDefinition or dict, optional
        A job definition (or its wire JSON) to start from.

    Examples
    --------
    >>> form = JobDefinitionForm()  # doctest: +SKIP
    >>> form  # doctest: +SKIP
    """

    def __init__(
        self, client: BexClient | None = None, job: JobDefinition | dict | None = None
    ) -> None:
        self._client = client
        self._busy: str | None = None
        self._filling = False
        self._callbacks: list[SubmitCallback] = []
        self._problems: list[Problem] = []
        self._touched: set[str] = set()
        self._build_fields()
        self._build_columns()
        self._build_actions()
        self._field_boxes = {key: message_box(f"bex-msg-{_css(key)}") for key in _MESSAGE_PLACES}
        self._aria = AriaLinks(
            ".bex-job-form",
            live=(_STATUS, ".bex-summary"),
            attributes={".bex-confirm-text": {"role": "alert"}},
            escape=[(".bex-confirm", ".bex-cancel-delete")],
            copy=[(".bex-copy-json", ".bex-preview pre")],
        )
        super().__init__(self._layout())
        named(self, "bex-job-form")
        self._wire()
        if job is not None:
            notes = self._fill(job if isinstance(job, dict) else job.to_dict())
            if notes:
                self._say("error", f"This job definition comes {_not_offered_text(notes)}")
        self._refresh()

    # -- building ---------------------------------------------------------------------------
    def _build_fields(self) -> None:
        def text(label: str, key: str, placeholder: str) -> w.Text:
            return field(w.Text, f"bex-{_css(key)}", description=label, placeholder=placeholder)

        self._database_id = text("Database id", "database_id", "e.g. 423251")
        self._admin_email = text("Admin email", "admin_email", "the Org Admin's login email")
        self._database_help = named(
            w.HTML(f"<span style='margin-left: 11.5em; font-size: 90%'>{DATABASE_ID_HELP}</span>"),
            "bex-database-id-help",
        )
        self._file_format = field(
            w.Dropdown,
            "bex-file-format",
            description="File format",
            options=_FILE_FORMATS,
            value=schema.DEFAULT_FILE_FORMAT,
        )
        self._frequency = field(
            w.Dropdown, "bex-frequency", description="Frequency", options=_FREQUENCIES, value=24
        )
        self._prefix = text("File name prefix", "prefix", schema.DEFAULT_EXPORT_FILE_NAME)
        self._example = named(w.HTML(), "bex-file-name-example")
        self._event_types = {t: _checkbox(t, f"bex-event-{t}") for t in schema.EVENT_TYPES}
        self._mailing_types = {t: _checkbox(t, f"bex-mailing-{t}") for t in schema.MAILING_TYPES}
        self._all_ticks = {
            "event_types": _checkbox("tick all", "bex-event-all"),
            "mailing_types": _checkbox("tick all", "bex-mailing-all"),
        }
        self._job_id = text("Job id", "job_id", "set by Create, or type one to Load")

    def _build_columns(self) -> None:
        self._column_rows: list[_ColumnRow] = []
        self._columns = named(w.VBox(), "bex-columns")
        self._add_column = _button("+ Add column", "bex-add-column")
        self._preview = named(w.HTML(), "bex-preview")
        self._copy_json = _button("Copy JSON", "bex-copy-json", tooltip="copy the JSON body")

    def _build_actions(self) -> None:
        self._create = _button("Create", "bex-create", style="primary", tooltip="POST a new job")
        self._load = _button("Load", "bex-load", tooltip="GET the job with this id")
        self._update = _button("Update", "bex-update", tooltip="PUT the form over this job")
        self._delete = _button("Delete", "bex-delete", style="danger", tooltip="DELETE this job")
        self._confirm_text = named(w.HTML(), "bex-confirm-text")
        self._confirm = _button("Yes, delete", "bex-confirm-delete", style="danger")
        self._cancel = _button("Cancel", "bex-cancel-delete")
        self._confirm_box = named(
            w.HBox([self._confirm_text, self._confirm, self._cancel]), "bex-confirm"
        )
        show(self._confirm_box, False)
        self._summary = named(w.HTML(), "bex-summary")
        self._status = named(w.HTML(), "bex-job-status")

    def _layout(self) -> list[w.Widget]:
        boxes = self._field_boxes

        def ticks(title: str, ticks: dict[str, w.Checkbox], key: str) -> w.VBox:
            head = w.HTML(f"<b>{title}</b> <i>(none ticked = all of them)</i>")
            every = [self._all_ticks[key], *ticks.values()]
            body = w.HBox(every, layout=w.Layout(flex_flow="row wrap"))
            return named(w.VBox([head, body, boxes[key]]), f"bex-{_css(key)}")

        return [
            w.HTML("<h3 style='margin: 0.2em 0'>BEX job definition</h3>"),
            _row(self._database_id, boxes["database_id"]),
            self._database_help,
            *(_row(getattr(self, f"_{key}"), boxes[key]) for key in _FIELDS[1:5]),
            self._example,
            ticks("Event types", self._event_types, "event_types"),
            ticks("Mailing types", self._mailing_types, "mailing_types"),
            w.HTML(
                f"<b>Database columns</b> <i>(up to {schema.MAX_DATABASE_COLUMNS}, "
                "exported in this order)</i>"
            ),
            self._columns,
            _row(self._add_column, boxes["columns"]),
            _row(
                w.HTML("<b>JSON body</b> <i>(Create POSTs it; Update PUTs it with the id)</i>"),
                self._copy_json,
            ),
            self._preview,
            _row(self._job_id, boxes["job_id"]),
            _row(self._create, self._load, self._update, self._delete),
            self._confirm_box,
            boxes[GENERAL],
            self._summary,
            self._status,
            self._aria,
        ]

    def _wire(self) -> None:
        for key in _FIELDS:
            self._watch(getattr(self, f"_{key}"), key)
        for key, group in (("event_types", self._event_types),
                           ("mailing_types", self._mailing_types)):  # fmt: skip
            for box in group.values():
                self._watch(box, key)
            self._all_ticks[key].observe(
                lambda change, group=group: self._tick_all(group, change["new"]), names="value"
            )
        self._add_column.on_click(lambda _: self.add_column())
        self._create.on_click(lambda _: self.create())
        self._load.on_click(lambda _: self.load())
        self._update.on_click(lambda _: self.update())
        self._delete.on_click(lambda _: self.ask_delete())
        self._confirm.on_click(lambda _: self.delete())
        self._cancel.on_click(lambda _: self.cancel_delete())
        self._aria.on_copied(self._copied)

    def _watch(self, widget: w.ValueWidget, key: str) -> None:
        widget.observe(lambda _change: self._on_change(key), names="value")

    def _tick_all(self, group: dict[str, w.Checkbox], ticked: bool) -> None:
        if self._filling:
            return
        self._filling = True
        try:
            for box in group.values():
                box.value = ticked
        finally:
            self._filling = False
        self._refresh()

    def _copied(self, ok: bool, reason: str) -> None:
        if ok:
            self._say("ok", "Copied the JSON body to the clipboard.")
        else:
            self._say("error", f"The browser did not copy ({reason}): select the JSON and copy.")

    # -- what the form holds ----------------------------------------------------------------
    @property
    def client(self) -> BexClient | None:
        """The client that sends the calls; assigning one enables the buttons."""
        return self._client

    @client.setter
    def client(self, client: BexClient | None) -> None:
        self._client = client
        self._refresh()

    def set_client(self, client: BexClient | None) -> None:
        """Same as assigning :attr:`client`; handy as a callback (``connect.on_connect``)."""
        self.client = client

    @property
    def values(self) -> FormValues:
        """The values on the form, in its own terms."""
        return FormValues(
            database_id=self._database_id.value,
            admin_email=self._admin_email.value,
            file_format=self._file_format.value,
            frequency=self._frequency.value,
            prefix=self._prefix.value,
            event_types=tuple(t for t, box in self._event_types.items() if box.value),
            mailing_types=tuple(t for t, box in self._mailing_types.items() if box.value),
            columns=[r.name.value for r in self._column_rows],
            job_id=self._job_id.value.strip(),
        )

    @property
    def body(self) -> dict[str, Any]:
        """The wire JSON of the form (with ``"id"`` when a job id is set)."""
        return wire_body(self.values, with_id=True)

    @property
    def job(self) -> JobDefinition:
        """The :class:`JobDefinition` on the form, valid or not (see :attr:`problems`)."""
        return JobDefinition.from_dict(self.body)

    @property
    def problems(self) -> list[Problem]:
        """Every rule the form breaks now (each with its wire path); empty when valid."""
        return list(self._problems)

    def on_submit(self, callback: SubmitCallback, *, remove: bool = False) -> None:
        """Call ``callback(action, job)`` after each successful create, update or delete.

        ``action`` is ``"create"``, ``"update"`` or ``"delete"``; ``job`` the job definition
        as sent (with its id).
        """
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    # -- columns ------------------------------------------------------------------------------
    def add_column(self, name: str = "") -> None:
        """Add a database column row at the end (at most five); its name takes the focus."""
        if len(self._column_rows) >= schema.MAX_DATABASE_COLUMNS:
            return
        self._append_row(name)
        self._aria.move_focus(f".bex-column-{len(self._column_rows) - 1} input")

    def _append_row(self, name: str) -> None:
        row = _ColumnRow(len(self._column_rows))
        row.name.value = name
        self._watch(row.name, "columns")
        row.up.on_click(lambda _, r=row: self._move_column(r, -1))
        row.down.on_click(lambda _, r=row: self._move_column(r, +1))
        row.remove.on_click(lambda _, r=row: self.remove_column(self._column_rows.index(r)))
        self._column_rows.append(row)
        self._columns.children = tuple(self._column_rows)
        self._refresh()

    def remove_column(self, index: int) -> None:
        """Remove the column row at ``index``; the rows below move up.

        The focus goes to the row that took its place, else the row above, else
        + Add column.
        """
        names = [r.name.value for r in self._column_rows]
        del names[index]
        self._set_columns(names)
        if names:
            self._aria.move_focus(f".bex-column-{min(index, len(names) - 1)} input")
        else:
            self._aria.move_focus(".bex-add-column")

    def _move_column(self, row: _ColumnRow, step: int) -> None:
        index = self._column_rows.index(row)
        target = index + step
        if 0 <= target < len(self._column_rows):
            names = [r.name.value for r in self._column_rows]
            names[index], names[target] = names[target], names[index]
            self._set_columns(names)
            moved = self._column_rows[target]  # the focus follows the column
            button = moved.up if step < 0 else moved.down
            where = "input" if button.disabled else f".bex-column-{'up' if step < 0 else 'down'}"
            self._aria.move_focus(f".bex-column-{target} {where}")

    def _set_columns(self, names: Sequence[str]) -> None:
        filling, self._filling = self._filling, True
        try:
            names = list(names)
            while len(self._column_rows) > len(names):
                self._column_rows.pop().close_all()
            self._columns.children = tuple(self._column_rows)
            while len(self._column_rows) < len(names):
                self._append_row("")
            for row, name in zip(self._column_rows, names, strict=True):
                row.name.value = name
        finally:
            self._filling = filling
        self._refresh()

    # -- keeping the view true ----------------------------------------------------------------
    def _fill(self, body: dict[str, Any]) -> list[str]:
        """Show ``body`` on the form, values it does not offer included and marked.

        Returns what the form does not offer (see :func:`unknown_values`).
        """
        values = values_from_wire(body)
        self._touched.update(REQUIRED_FIELDS)  # a job given or loaded shows all it breaks
        self._filling = True
        try:
            self._database_id.value = values.database_id
            self._admin_email.value = values.admin_email
            _choose(self._file_format, _FILE_FORMATS, values.file_format)
            _choose(self._frequency, _FREQUENCIES, values.frequency)
            self._prefix.value = values.prefix
            for name, box in self._event_types.items():
                box.value = name in values.event_types
            for name, box in self._mailing_types.items():
                box.value = name in values.mailing_types
            self._set_columns(values.columns)
            self._job_id.value = values.job_id
        finally:
            self._filling = False
        self._refresh()
        return unknown_values(values)

    def _on_change(self, key: str) -> None:
        if self._filling:
            return
        self._touched.add(key)
        if key in ("file_format", "frequency"):  # a value chosen: the unknown one goes
            self._filling = True
            try:
                _choose(self._file_format, _FILE_FORMATS, self._file_format.value)
                _choose(self._frequency, _FREQUENCIES, self._frequency.value)
            finally:
                self._filling = False
        self._refresh()

    def _refresh(self) -> None:
        if self._filling:
            return
        values = self.values
        self._problems = _problems_of(values)
        grouped = problems_by_field(self._problems)
        waiting = [key for key in REQUIRED_FIELDS if key in grouped and key not in self._touched]
        shown = self._show_messages({k: v for k, v in grouped.items() if k not in waiting})
        summary = problem_summary(shown, [REQUIRED_FIELDS[key] for key in waiting])
        if not summary and values.job_id:
            summary = (
                f"Job id {values.job_id} is set: Update changes that job definition; "
                "clear Job id to create a new one."
            )
        self._summary.value = status_html("info", summary)
        self._filling = True
        try:
            for key, group in (("event_types", self._event_types),
                               ("mailing_types", self._mailing_types)):  # fmt: skip
                self._all_ticks[key].value = all(box.value for box in group.values())
        finally:
            self._filling = False
        for index, row in enumerate(self._column_rows):
            row.up.disabled = index == 0
            row.down.disabled = index == len(self._column_rows) - 1
        self._add_column.disabled = len(self._column_rows) >= schema.MAX_DATABASE_COLUMNS
        when = (datetime.now(UTC) + timedelta(hours=1)).replace(minute=0, second=0, microsecond=0)
        name = example_file_name(values.prefix, values.file_format, values.frequency, when=when)
        hint = prefix_hint(values.prefix)
        self._example.value = (
            "<span style='margin-left: 11.5em'>Files will be named like "
            f"<code class='bex-example-name'>{html.escape(name)}</code></span>"
            + (f"<div class='bex-prefix-hint' style='margin-left: 11.5em'>{html.escape(hint)}"
               "</div>" if hint else "")
        )  # fmt: skip
        preview = json.dumps(wire_body(values), indent=2)
        self._preview.value = (
            "<pre tabindex='0' role='region' aria-label='JSON body' style='max-height: 18em; "
            "overflow: auto; font-size: 85%; line-height: 1.3; margin: 0; "
            f"background: rgba(127,127,127,0.08); padding: 0.4em'>{html.escape(preview)}</pre>"
        )
        self._refresh_buttons()

    def _show_messages(self, grouped: dict[str, list[Problem]]) -> int:
        """Show the problems beside their fields, tie them to the inputs; return how many."""
        links = []
        for key, box in self._field_boxes.items():
            box.value = messages_html(field_messages(key, grouped.get(key, [])))
            if key in _FIELDS:
                links.append((f".bex-{_css(key)}", f".bex-msg-{_css(key)}", key in grouped,
                              key in REQUIRED_FIELDS))  # fmt: skip
        for index, row in enumerate(self._column_rows):
            found = grouped.get(f"column_{index}", [])
            row.message.value = messages_html(field_messages(f"column_{index}", found,
                                                             value=row.name.value))  # fmt: skip
            links.append((f".bex-column-{index}", f".bex-msg-column-{index}", bool(found), False))
        self._aria.link(links)
        return sum(len(found) for found in grouped.values())

    def _refresh_buttons(self) -> None:
        idle = self._busy is None and self._client is not None
        has_id = bool(self._job_id.value.strip())
        valid = not self._problems
        self._create.disabled = not (idle and valid and not has_id)
        self._load.disabled = not (idle and has_id)
        self._update.disabled = not (idle and valid and has_id)
        self._delete.disabled = not (idle and has_id)
        self._confirm.disabled = not (idle and has_id)
        if self._client is None and not self._status.value:
            self._say("info", _NOT_CONNECTED)
        elif self._client is not None and _NOT_CONNECTED in self._status.value:
            self._say("info", "Connected: ready to send.")

    # -- the calls ----------------------------------------------------------------------------
    def create(self) -> str | None:
        """POST the form as a new job definition; show and return its id (None on failure)."""
        job = JobDefinition.from_dict(wire_body(self.values))
        job_id = self._call("create", lambda client: client.create_job(job))
        if job_id is not None:
            self._set_job_id(str(job_id))
            self._say("ok", f"Created job definition {job_id}: change it with Update.")
            self._notify("create", self.job)
        self._refresh()
        self._aria.move_focus(_STATUS)
        return None if job_id is None else str(job_id)

    def _set_job_id(self, job_id: str) -> None:
        self._filling = True
        try:
            self._job_id.value = job_id
        finally:
            self._filling = False

    def load(self, job_id: str | None = None) -> JobDefinition | None:
        """GET the job definition ``job_id`` (default: the id on the form) into the form."""
        job_id = (job_id or self._job_id.value).strip()
        job = self._call("load", lambda client: client.get_job(job_id))
        if job is not None:
            body = job.to_dict()
            body.setdefault("id", job_id)
            notes = self._fill(body)
            if notes:
                self._say("error", f"Loaded job definition {job_id}, {_not_offered_text(notes)}")
            else:
                self._say("ok", f"Loaded job definition {job_id}.")
        self._aria.move_focus(_STATUS)
        return job

    def update(self) -> bool:
        """PUT the form over the job definition with the id on the form."""
        job = self.job
        done = self._call("update", lambda client: client.update_job(job) or True)
        if done is not None:
            self._say("ok", f"Updated job definition {self._job_id.value.strip()}.")
            self._notify("update", job)
        self._aria.move_focus(_STATUS)
        return done is not None

    def ask_delete(self) -> None:
        """Show the confirmation step of Delete (what the Delete button does)."""
        job_id = self._job_id.value.strip()
        self._confirm_text.value = status_html(
            "error", f"Delete job definition {job_id}? Its exports stop. This cannot be undone."
        )
        show(self._confirm_box, True)
        self._aria.move_focus(".bex-cancel-delete")  # the safe choice first

    def cancel_delete(self) -> None:
        """Close the confirmation step; the focus returns to Delete (what Cancel does)."""
        show(self._confirm_box, False)
        self._aria.move_focus(".bex-delete")

    def delete(self) -> bool:
        """DELETE the job definition with the id on the form (the confirmed step)."""
        show(self._confirm_box, False)
        job = self.job
        job_id = self._job_id.value.strip()

        def send(client: BexClient) -> bool:
            client.delete_job(job_id)
            return True

        done = self._call("delete", send)
        if done is not None:
            self._set_job_id("")
            self._say("ok", f"Deleted job definition {job_id}.")
            self._notify("delete", job)
            self._refresh()
        self._aria.move_focus(_STATUS)
        return done is not None

    def _call(self, action: str, send: Callable[[BexClient], Any]) -> Any:
        if self._client is None or self._busy is not None:
            return None
        self._busy = action
        self._refresh_buttons()
        self._say("busy", f"{action.capitalize()}: waiting for the server…")
        try:
            return send(self._client)
        except Exception as exc:  # shown on the form: the person decides what to do
            log.info("%s failed: %s", action, exc)
            if action == "create" and isinstance(exc, BexAPIError) and exc.status == 409:
                self._conflict(exc)
            else:
                self._say("error", error_text(exc))
            return None
        finally:
            self._busy = None
            self._refresh_buttons()

    def _conflict(self, exc: BexAPIError) -> None:
        """A Create the server refused because the database has a job: point at Update."""
        database = self._database_id.value.strip()
        existing = conflict_id(exc.message)
        if existing is None:
            self._say(
                "error",
                f"Database {database} already has a job definition (the server answered 409): "
                "type its id in Job id, then Load it or Update it.",
            )
            return
        self._set_job_id(existing)
        self._say(
            "error",
            f"Database {database} already has job definition {existing} (the server answered "
            "409): its id is now in Job id; Load shows it, Update replaces it with this form.",
        )

    def _say(self, kind: str, text: str) -> None:
        self._status.value = status_html(kind, text)

    def _notify(self, action: str, job: JobDefinition) -> None:
        for callback in list(self._callbacks):
            callback(action, job)


def _not_offered_text(notes: list[str]) -> str:
    return (
        f"with values the form does not offer ({'; '.join(notes)}): they are shown and "
        "marked; choose allowed ones before Update."
    )


def _choose(dropdown: w.Dropdown, options: list[tuple[str, Any]], value: Any) -> None:
    """Show ``value`` in ``dropdown``: one of ``options``, or added as not allowed."""
    offered = [v for _, v in options]
    wanted = options if value in offered else [*options, (not_offered_label(value), value)]
    if list(dropdown.options) != wanted:
        dropdown.options = wanted
    dropdown.value = value


def _problems_of(values: FormValues) -> list[Problem]:
    """The problems of the form as a create body: the job id is a field apart."""
    return find_problems(wire_body(values))
