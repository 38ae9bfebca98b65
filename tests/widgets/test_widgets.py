"""Headless tests of the notebook widgets: set values, click buttons, read what is shown.

Calls go over real HTTP to the sandbox API on loopback; no fake client.
"""

from __future__ import annotations

import html
import json
import re
import secrets
from datetime import date
from pathlib import Path
from typing import Any

import ipywidgets as w
import nbformat
import pytest
from browser.widget_helpers import SMALL_EXPORT_NAMES, SMALL_EXPORT_TOTALS, write_small_exports
from nbclient import NotebookClient

from bextoolkit import schema
from bextoolkit.client import BexClient
from bextoolkit.jobs import JobDefinition, Problem, find_problems
from bextoolkit.sandbox.api import SandboxAPI, SandboxCredentials
from bextoolkit.sandbox.sftp import SFTPServer
from bextoolkit.widgets import ConnectForm, ExportBrowser, JobDefinitionForm, JobManager
from bextoolkit.widgets.manager import COLUMNS

NOTEBOOK = Path(__file__).resolve().parents[1] / "browser" / "widgets.ipynb"
VALID = {"database_id": "423251", "admin_email": "admin@example.com"}


# --- fixtures and helpers --------------------------------------------------------------------


@pytest.fixture
def api():
    with SandboxAPI() as server:
        yield server


@pytest.fixture
def client(api):
    with BexClient.from_env(api.env(), sleep=lambda _s: None) as bex:
        yield bex


def text_of(widget: w.HTML) -> str:
    """The visible text of an HTML widget (tags dropped, entities decoded)."""
    return html.unescape(re.sub(r"<[^>]+>", "", widget.value))


def fill(form: JobDefinitionForm, **values: Any) -> None:
    for name, value in {**VALID, **values}.items():
        getattr(form, f"_{name}").value = value


def preview(form: JobDefinitionForm) -> dict[str, Any]:
    return json.loads(text_of(form._preview))


def all_states(widget: w.Widget) -> str:
    """The synced state of a widget and every descendant, as one JSON text."""
    seen: list[dict[str, Any]] = []
    stack = [widget]
    while stack:
        current = stack.pop()
        state = current.get_state()
        seen.append({k: v for k, v in state.items() if k != "layout"})
        stack.extend(c for c in getattr(current, "children", ()) if isinstance(c, w.Widget))
    return json.dumps(seen, default=str)


def buttons(form: JobDefinitionForm) -> dict[str, bool]:
    """Which of the four buttons are enabled."""
    return {
        name: not getattr(form, f"_{name}").disabled
        for name in ("create", "load", "update", "delete")
    }


# --- the form without a server -----------------------------------------------------------------


def test_empty_form_asks_for_the_required_fields_without_marking_them_yet():
    form = JobDefinitionForm()
    assert all(box.value == "" for box in form._field_boxes.values())
    assert text_of(form._summary) == (
        "Fill in Database id and Admin email to enable Create and Update."
    )
    assert [p.path for p in form.problems] == ["contactSourceId", "ftpUserId"]
    assert buttons(form) == dict.fromkeys(("create", "load", "update", "delete"), False)
    assert "Not connected" in text_of(form._status)


def test_required_shows_once_a_field_was_touched():
    form = JobDefinitionForm()
    form._database_id.value = "42"
    form._database_id.value = ""
    assert "required: the id of the database" in text_of(form._field_boxes["database_id"])
    assert form._field_boxes["admin_email"].value == ""
    assert text_of(form._summary) == (
        "Fix the problem marked above and fill in Admin email to enable Create and Update."
    )
    form._admin_email.value = "a"
    assert "must be an email address" in text_of(form._field_boxes["admin_email"])
    assert "Fix the 2 problems marked above" in text_of(form._summary)


def test_messages_are_tied_to_their_fields_with_their_invalid_state():
    form = JobDefinitionForm()
    form._admin_email.value = "not-an-email"
    form.add_column("")
    links = {link["field"]: link for link in form._aria.links}
    assert links[".bex-admin-email"] == {
        "field": ".bex-admin-email",
        "message": ".bex-msg-admin-email",
        "invalid": True,
        "required": True,
    }
    assert links[".bex-database-id"]["invalid"] is False  # untouched: not marked yet
    assert links[".bex-frequency"]["invalid"] is False
    assert links[".bex-column-0"] == {
        "field": ".bex-column-0",
        "message": ".bex-msg-column-0",
        "invalid": True,
        "required": False,
    }
    form._admin_email.value = "admin@example.com"
    assert {link["field"]: link["invalid"] for link in form._aria.links}[
        ".bex-admin-email"
    ] is False
    assert form._aria.live == [".bex-job-status", ".bex-summary"]


def test_problems_are_the_rule_books_own_objects():
    form = JobDefinitionForm()
    fill(form, admin_email="x")
    assert form.problems == find_problems(form.job.to_dict())
    assert [type(p) for p in form.problems] == [Problem]
    assert form.problems[0].path == "ftpUserId"
    assert text_of(form._field_boxes["admin_email"]) == form.problems[0].message


def test_valid_values_clear_messages_and_preview_the_wire_body():
    form = JobDefinitionForm()
    fill(form)
    form._frequency.value = 6
    form._file_format.value = "PSV"
    assert form.problems == []
    assert all(box.value == "" for box in form._field_boxes.values())
    assert text_of(form._summary) == ""
    assert preview(form) == {
        "channels": [{"exportFileFormat": "PSV", "jobFrequency": 6, "type": "Email"}],
        "contactSourceId": "423251",
        "ftpUserId": "admin@example.com",
    }
    assert form.job == JobDefinition.from_dict(preview(form))


def test_dropdowns_offer_exactly_the_documented_values():
    form = JobDefinitionForm()
    assert [v for _, v in form._frequency.options] == list(schema.JOB_FREQUENCIES)
    assert [v for _, v in form._file_format.options] == list(schema.FILE_FORMATS)
    assert form._file_format.value == "CSV"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("admin_email", "not-an-email", "must be an email address"),
        ("database_id", "12ab", "numeric database id"),
        ("prefix", "a/b_", "without / \\ or control characters"),
    ],
)
def test_each_bad_field_gets_its_message_beside_it_as_typed(field, value, message):
    form = JobDefinitionForm()
    fill(form)
    getattr(form, f"_{field}").value = value
    assert message in text_of(form._field_boxes[field])
    others = [k for k in form._field_boxes if k != field]
    assert all(form._field_boxes[k].value == "" for k in others)
    assert form._create.disabled
    getattr(form, f"_{field}").value = {**VALID, "prefix": "Shop_"}[field]
    assert form._field_boxes[field].value == ""


def test_ticked_types_are_sent_in_documented_order_and_none_means_all():
    form = JobDefinitionForm()
    fill(form)
    assert "eventTypes" not in preview(form)["channels"][0]
    group = next(c for c in form.children if "bex-event-types" in c._dom_classes)
    assert "none ticked = all" in group.children[0].value
    form._event_types["emailBounce"].value = True
    form._event_types["emailSend"].value = True
    form._mailing_types["ABTest"].value = True
    channel = preview(form)["channels"][0]
    assert channel["eventTypes"] == [{"eventType": "emailSend"}, {"eventType": "emailBounce"}]
    assert channel["mailingTypes"] == [{"mailingType": "ABTest"}]


def test_columns_can_be_added_reordered_and_removed_up_to_five():
    form = JobDefinitionForm()
    fill(form)
    for _ in range(5):
        form._add_column.click()
    assert form._add_column.disabled
    form._add_column.click()
    assert len(form._column_rows) == 5
    for row, name in zip(form._column_rows, "ABCDE", strict=True):
        row.name.value = name
    assert form._column_rows[0].up.disabled and form._column_rows[4].down.disabled
    assert [r.name.description for r in form._column_rows] == [f"Column {i}" for i in range(1, 6)]
    form._column_rows[0].down.click()  # B A C D E: the focus follows B down
    assert form._aria.focused == ".bex-column-1 .bex-column-down"
    form._column_rows[4].up.click()  # B A C E D
    assert form._aria.focused == ".bex-column-3 .bex-column-up"
    form._column_rows[1].down.click()  # B C A E D ...
    form._column_rows[2].up.click()  # ... and back: B A C E D
    form._column_rows[3].down.click()  # B A C D E: the last row has no down button
    assert form._aria.focused == ".bex-column-4 input"
    form._column_rows[4].up.click()  # B A C E D
    form._column_rows[2].remove.click()  # B A E D: the focus goes to E, now third
    assert form._aria.focused == ".bex-column-2 input"
    columns = preview(form)["channels"][0]["columnNames"]
    assert columns == [
        {"columnName": n, "columnOrder": i} for i, n in enumerate(["B", "A", "E", "D"])
    ]
    assert not form._add_column.disabled


def test_column_messages_stand_beside_their_row():
    form = JobDefinitionForm()
    fill(form)
    form.add_column("City")
    form.add_column("")
    assert text_of(form._column_rows[1].message) == "type a column name or remove the row"
    form._column_rows[1].name.value = "  "
    assert text_of(form._column_rows[1].message) == "type a column name or remove the row"
    assert form._column_rows[0].message.value == ""
    form._column_rows[1].name.value = "City"
    # numbered as the rows are labelled ("Column 1"), not as a wire index ("[0]")
    assert text_of(form._column_rows[1].message) == "duplicate 'City' (same as column 1)"
    assert form._create.disabled


def test_tick_all_ticks_every_box_of_its_group_and_follows_them():
    form = JobDefinitionForm()
    fill(form)
    form._all_ticks["event_types"].value = True
    assert all(box.value for box in form._event_types.values())
    assert [e["eventType"] for e in preview(form)["channels"][0]["eventTypes"]] == list(
        schema.EVENT_TYPES
    )
    assert not any(box.value for box in form._mailing_types.values())
    form._event_types["emailOpen"].value = False
    assert not form._all_ticks["event_types"].value
    form._event_types["emailOpen"].value = True
    assert form._all_ticks["event_types"].value
    form._all_ticks["event_types"].value = False
    assert "eventTypes" not in preview(form)["channels"][0]


def test_a_prefix_that_runs_into_the_channel_name_is_pointed_out():
    form = JobDefinitionForm()
    form._prefix.value = "Test_Email"  # the seed's prefix: Test_EmailEmail_...
    assert "Test_EmailEmail_" in text_of(form._example)
    assert 'end it with "_" to keep them apart' in text_of(form._example)
    assert preview(form)["channels"][0]["exportFileName"] == "Test_Email"  # sent as typed
    form._prefix.value = "Test_Email_"
    assert "keep them apart" not in text_of(form._example)


def test_the_form_says_where_the_database_id_is_and_its_json_can_be_reached(client):
    form = JobDefinitionForm(client)
    assert "Data > Databases" in text_of(form._database_help)
    assert "tabindex='0'" in form._preview.value and "aria-label='JSON body'" in form._preview.value
    assert [".bex-copy-json", ".bex-preview pre"] in form._aria.copies
    form._aria._on_browser_message(form._aria, {"copied": True}, [])
    assert text_of(form._status) == "Copied the JSON body to the clipboard."
    form._aria._on_browser_message(form._aria, {"copied": False, "reason": "NotAllowedError"}, [])
    assert "did not copy (NotAllowedError)" in text_of(form._status)
    assert "campaign-eu-1 is pod 6" in text_of(ConnectForm(env={})._pod_help)


def test_file_name_example_follows_prefix_format_and_frequency():
    form = JobDefinitionForm()
    assert re.search(r"Recipient Event Bulk Export_Email_\d{14}_24\.csv", text_of(form._example))
    form._prefix.value = "Shop_"
    form._file_format.value = "TSV"
    form._frequency.value = 3
    assert re.search(r"Shop_Email_\d{14}_3\.tsv", text_of(form._example))


def test_form_starts_from_a_job_definition():
    job = JobDefinition.from_dict(
        {
            "id": "77",
            "contactSourceId": "9",
            "ftpUserId": "a@b.co",
            "channels": [
                {
                    "jobFrequency": 12,
                    "exportFileFormat": "TSV",
                    "exportFileName": "X_",
                    "eventTypes": [{"eventType": "emailOpen"}],
                    "columnNames": [{"columnName": "Zip", "columnOrder": 0}],
                    "type": "Email",
                }
            ],
        }
    )
    form = JobDefinitionForm(job=job)
    assert form._job_id.value == "77"
    assert form._frequency.value == 12
    assert form._event_types["emailOpen"].value and not form._event_types["emailSend"].value
    assert [r.name.value for r in form._column_rows] == ["Zip"]
    assert form.job.to_dict() == job.to_dict()


UNOFFERED = {
    "contactSourceId": "1",
    "ftpUserId": "a@b.co",
    "channels": [
        {"jobFrequency": 5, "exportFileFormat": "XLS", "type": "Email",
         "columnNames": [{"columnName": f"c{i}", "columnOrder": i} for i in range(7)]}
    ],
}  # fmt: skip


def test_a_job_the_form_cannot_offer_is_shown_as_it_is_marked_and_not_sent():
    form = JobDefinitionForm(job=UNOFFERED)
    # the real values, not the form's defaults, and every one of them marked
    assert (form._frequency.value, form._file_format.value) == (5, "XLS")
    assert ("5 (not allowed: choose another)", 5) in form._frequency.options
    assert [r.name.value for r in form._column_rows] == [f"c{i}" for i in range(7)]
    assert form.body["channels"][0]["jobFrequency"] == 5  # an Update would send what is shown
    invalid = {link["field"]: link["invalid"] for link in form._aria.links}
    assert invalid[".bex-frequency"] and invalid[".bex-file-format"]
    frequency_message = text_of(form._field_boxes["frequency"])
    assert "must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5" in frequency_message
    assert "at most 5 database columns, got 7" in text_of(form._field_boxes["columns"])
    assert text_of(form._status) == (
        "This job definition comes with values the form does not offer (jobFrequency 5; "
        "exportFileFormat 'XLS'; 7 database columns (at most 5)): they are shown and marked; "
        "choose allowed ones before Update."
    )
    assert form._add_column.disabled
    form._frequency.value = 6  # choosing a value takes the unknown one out of the list
    assert [v for _, v in form._frequency.options] == list(schema.JOB_FREQUENCIES)
    assert not invalid_of(form, ".bex-frequency")
    form._file_format.value = "PSV"
    form.remove_column(6)
    assert form.problems and form._aria.focused == ".bex-column-5 input"
    form.remove_column(5)
    assert form.problems == []


def invalid_of(form: JobDefinitionForm, css: str) -> bool:
    return {link["field"]: link["invalid"] for link in form._aria.links}[css]


def test_a_loaded_job_the_form_cannot_offer_keeps_update_off(api, client):
    api._jobs["77"] = {**UNOFFERED, "id": "77"}  # as another tool left it on the server
    form = JobDefinitionForm(client)
    form._job_id.value = "77"
    form._load.click()
    assert "Loaded job definition 77, with values the form does not offer" in text_of(form._status)
    assert form._frequency.value == 5 and form._file_format.value == "XLS"
    assert form._update.disabled and form._create.disabled
    form._update.click()
    assert api.jobs["77"]["channels"][0]["jobFrequency"] == 5


# --- the calls, against the sandbox over HTTP --------------------------------------------------


def test_create_sends_the_body_shows_the_id_and_disables_buttons_in_flight(api, client):
    form = JobDefinitionForm(client)
    fill(form)
    form._event_types["emailOpen"].value = True
    form.add_column("Country")
    assert buttons(form) == {"create": True, "load": False, "update": False, "delete": False}
    seen_in_flight: list[dict[str, bool]] = []
    submitted: list[tuple[str, JobDefinition]] = []
    form.on_submit(lambda action, job: submitted.append((action, job)))
    real_create = client.create_job

    def watching_create(job):
        seen_in_flight.append(buttons(form))
        return real_create(job)

    client.create_job = watching_create  # type: ignore[method-assign]
    sent_body = preview(form)
    form._create.click()

    assert seen_in_flight == [dict.fromkeys(("create", "load", "update", "delete"), False)]
    job_id = form._job_id.value
    assert job_id in api.jobs
    assert api.jobs[job_id] == {**sent_body, "id": job_id}
    assert f"Created job definition {job_id}: change it with Update" in text_of(form._status)
    # the form now stands for that job: a second Create would only meet a 409
    assert buttons(form) == {"create": False, "load": True, "update": True, "delete": True}
    assert f"Job id {job_id} is set: Update changes" in text_of(form._summary)
    assert [(a, j.id) for a, j in submitted] == [("create", job_id)]
    assert form._aria.focused == ".bex-job-status"
    form._job_id.value = ""
    assert buttons(form)["create"]


def test_load_fills_the_form_from_the_server(client):
    job_id = client.create_job(
        {
            "contactSourceId": "55",
            "ftpUserId": "x@y.org",
            "channels": [
                {"jobFrequency": 8, "type": "Email", "exportFileFormat": "PSV",
                 "mailingTypes": [{"mailingType": "Programs"}],
                 "columnNames": [{"columnName": "B", "columnOrder": 1},
                                 {"columnName": "A", "columnOrder": 0}]}
            ],
        }
    )  # fmt: skip
    form = JobDefinitionForm(client)
    form._job_id.value = job_id
    assert buttons(form) == {"create": False, "load": True, "update": False, "delete": True}
    form._load.click()
    assert (form._database_id.value, form._admin_email.value) == ("55", "x@y.org")
    assert (form._frequency.value, form._file_format.value) == (8, "PSV")
    assert form._mailing_types["Programs"].value
    assert [r.name.value for r in form._column_rows] == ["A", "B"]
    assert f"Loaded job definition {job_id}" in text_of(form._status)


def test_update_puts_the_changed_form(api, client):
    form = JobDefinitionForm(client)
    fill(form)
    form.create()
    job_id = form._job_id.value
    form._frequency.value = 2
    form._prefix.value = "Weekly_"
    form._update.click()
    stored = api.jobs[job_id]["channels"][0]
    assert (stored["jobFrequency"], stored["exportFileName"]) == (2, "Weekly_")
    assert f"Updated job definition {job_id}" in text_of(form._status)


def test_delete_asks_first_and_cancel_keeps_the_job(api, client):
    form = JobDefinitionForm(client)
    fill(form)
    job_id = form.create()
    form._delete.click()
    assert form._confirm_box.layout.display != "none"
    assert f"Delete job definition {job_id}?" in text_of(form._confirm_text)
    assert job_id in api.jobs
    form._cancel.click()
    assert form._confirm_box.layout.display == "none"
    assert job_id in api.jobs
    form._delete.click()
    form._confirm.click()
    assert job_id not in api.jobs
    assert f"Deleted job definition {job_id}" in text_of(form._status)
    assert form._job_id.value == ""
    assert buttons(form) == {"create": True, "load": False, "update": False, "delete": False}


def test_server_errors_are_shown_on_the_form_and_buttons_come_back(api, client):
    first = JobDefinitionForm(client)
    fill(first)
    existing = first.create()
    second = JobDefinitionForm(client)
    fill(second)
    second._create.click()
    status = text_of(second._status)
    assert status == (
        f"Database 423251 already has job definition {existing} (the server answered 409): "
        "its id is now in Job id; Load shows it, Update replaces it with this form."
    )
    assert "PUT" not in status and len(status) < 200
    assert second._job_id.value == existing
    assert buttons(second) == {"create": False, "load": True, "update": True, "delete": True}
    second._job_id.value = "999999"
    second._load.click()
    assert "404" in text_of(second._status) and "no job definition with id '999999'" in text_of(
        second._status
    )
    assert buttons(second) == {"create": False, "load": True, "update": True, "delete": True}
    assert len(api.jobs) == 1


def test_assigning_a_client_enables_the_form(client):
    form = JobDefinitionForm()
    fill(form)
    assert form._create.disabled
    form.client = client
    assert not form._create.disabled
    assert "Not connected" not in text_of(form._status)


# --- ConnectForm -----------------------------------------------------------------------------


def test_connect_prefills_from_env_but_never_puts_env_secrets_in_widgets(api):
    env = api.env()
    connect = ConnectForm(env=env)
    assert connect._pod.value == "other" and connect._base_url.value == api.base_url
    assert connect._client_id.value == ""
    assert connect._client_secret.value == "" and connect._refresh_token.value == ""
    assert "from BEX_CLIENT_ID" in connect._client_id.placeholder
    assert "from BEX_CLIENT_SECRET" in connect._client_secret.placeholder
    client = connect.connect()
    assert client is not None and client.list_jobs() == []
    assert f"Connected to {api.base_url}" in text_of(connect._status)
    state = all_states(connect)
    for secret in (env["BEX_CLIENT_ID"], env["BEX_CLIENT_SECRET"], env["BEX_REFRESH_TOKEN"]):
        assert secret not in state


def typed_connect(api: SandboxAPI) -> tuple[ConnectForm, JobDefinitionForm]:
    """A ConnectForm with the credentials typed in, followed by a JobDefinitionForm."""
    env = api.env()
    connect = ConnectForm(env={"BEX_BASE_URL": env["BEX_BASE_URL"]})
    connect._client_id.value = env["BEX_CLIENT_ID"]
    connect._client_secret.value = env["BEX_CLIENT_SECRET"]
    connect._refresh_token.value = env["BEX_REFRESH_TOKEN"]
    form = JobDefinitionForm()
    connect.on_connect(form.set_client)
    return connect, form


def test_typed_secrets_are_cleared_after_connecting(api):
    env = api.env()
    connect, form = typed_connect(api)
    connect._connect.click()
    assert form.client is connect.client is not None
    assert connect._client_secret.value == "" and connect._refresh_token.value == ""
    assert env["BEX_CLIENT_SECRET"] not in all_states(connect)


def test_wrong_credentials_show_the_server_answer_without_the_secret(api):
    env = {**api.env(), "BEX_CLIENT_SECRET": "wrong-secret-value-123"}
    connect = ConnectForm(env=env)
    assert connect.connect() is None
    invalid = links_of(connect)
    assert invalid[".bex-client-secret"] and invalid[".bex-refresh-token"]
    assert not invalid[".bex-base-url"]
    status = text_of(connect._status)
    assert "401" in status and "refused the credentials" in status
    assert "wrong-secret-value-123" not in status and env["BEX_REFRESH_TOKEN"] not in status
    assert connect.client is None and not connect._connect.disabled


def test_the_pod_list_starts_on_a_real_pod():
    assert ConnectForm(env={})._pod.value == "1"
    assert ConnectForm(env={"BEX_POD": "b"})._pod.value == "B"
    assert ConnectForm(env={"BEX_POD": "Z"})._pod.value == "1"
    with_url = ConnectForm(env={"BEX_BASE_URL": "https://x.example", "BEX_POD": "6"})
    assert with_url._pod.value == "other" and with_url._base_url.value == "https://x.example"


def test_missing_settings_speak_to_the_person_at_the_form():
    connect = ConnectForm(env={})
    assert connect.connect() is None
    said = text_of(connect._status)
    assert "Paste the client id, client secret and refresh token" in said
    assert "BexClient" not in said and "pod=" not in said
    connect._client_secret.value = "typed-secret"
    connect.connect()
    assert "Paste the client id and refresh token" in text_of(connect._status)
    connect._pod.value = "other"
    assert connect._base_url.layout.display != "none"
    connect.connect()
    assert "Choose your pod" in text_of(connect._status)
    connect._pod.value = "6"
    assert connect._base_url.layout.display == "none"
    assert connect._client_secret.value == "typed-secret"  # nothing was cleared meanwhile


def links_of(widget: Any) -> dict[str, bool]:
    """Which inputs the widget's AriaLinks marks invalid, by CSS selector."""
    return {link["field"]: link["invalid"] for link in widget._aria.links}


def test_connect_marks_the_fields_it_needs_and_its_status_is_announced():
    connect = ConnectForm(env={})
    assert connect._aria.live == [".bex-connect-status"]
    assert not any(links_of(connect).values())
    connect.connect()
    invalid = links_of(connect)
    assert invalid[".bex-client-id"] and invalid[".bex-client-secret"]
    assert invalid[".bex-refresh-token"] and not invalid[".bex-base-url"]
    assert {link["message"] for link in connect._aria.links} == {".bex-connect-status"}
    assert connect._aria.focused == ".bex-connect-status"
    connect._client_id.value = "id"
    connect.connect()
    assert not links_of(connect)[".bex-client-id"] and links_of(connect)[".bex-client-secret"]


def test_connect_again_while_connected_checks_the_connection_and_disconnect_tells_all(api):
    connect, form = typed_connect(api)
    assert connect._disconnect.layout.display == "none"
    client = connect.connect()
    assert client is not None and connect._disconnect.layout.display != "none"
    connect._connect.click()  # the typed secrets are gone: still connected, no red line
    assert connect.client is client
    assert text_of(connect._status) == f"Still connected to {api.base_url}."
    assert "bex-status-ok" in connect._status.value
    connect._disconnect.click()
    assert connect.client is None and form.client is None
    assert text_of(connect._status) == "Disconnected."
    assert connect._aria.focused == ".bex-connect"
    assert connect._disconnect.layout.display == "none"
    assert form._create.disabled
    connect.connect()  # now the secrets must be pasted again, and the form says which
    assert "Paste the client secret and refresh token" in text_of(connect._status)


def test_a_typed_base_url_with_its_sftp_host_leads_to_the_export_files(tmp_path):
    from bextoolkit.sandbox import Sandbox

    with Sandbox(tmp_path / "sandbox") as sandbox:
        connect = ConnectForm(env=sandbox.api.env())  # the API's URL and no SFTP host
        assert connect._pod.value == "other"
        assert connect._sftp_host.layout.display != "none"
        client = connect.connect()
        assert client is not None and client.sftp_host is None
        said = text_of(connect._status)
        assert said.endswith("fill in SFTP host to browse its export files.")
        browser = ExportBrowser(client=client)  # says what to do instead of raising
        assert "SFTP host" in text_of(browser._status) and "ConnectForm" in text_of(browser._status)
        connect._sftp_host.value = f"127.0.0.1:{sandbox.sftp.port}"
        client = connect.connect()
        assert client is not None and client.sftp_port == sandbox.sftp.port
        assert f"export files at sftp://127.0.0.1:{sandbox.sftp.port}/download/" in text_of(
            connect._status
        )
        client.create_job(
            {"contactSourceId": "1", "ftpUserId": "a@b.co",
             "channels": [{"jobFrequency": 1, "type": "Email"}]}
        )  # fmt: skip
        sandbox.advance(hours=2)
        browser.set_client(client)
        assert "2 of 2 files shown" in text_of(browser._count)
        assert browser._status.value == ""


def _closed_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_typed_secrets_survive_a_failed_connect_and_go_after_a_good_one(api):
    env = api.env()
    connect = ConnectForm(env={"BEX_CLIENT_ID": env["BEX_CLIENT_ID"]})
    connect._pod.value = "other"
    connect._base_url.value = f"http://127.0.0.1:{_closed_port()}"
    connect._client_secret.value = env["BEX_CLIENT_SECRET"]
    connect._refresh_token.value = env["BEX_REFRESH_TOKEN"]
    assert connect.connect() is None
    assert "connection refused" in text_of(connect._status)
    assert links_of(connect)[".bex-base-url"] and not links_of(connect)[".bex-client-secret"]
    connect._sftp_host.value = "127.0.0.1:port"
    assert connect.connect() is None
    assert (
        text_of(connect._status)
        == "SFTP host '127.0.0.1:port': the port after ':' must be a number"
    )
    assert links_of(connect)[".bex-sftp-host"] and not links_of(connect)[".bex-base-url"]
    connect._sftp_host.value = ""
    assert connect._client_secret.value == env["BEX_CLIENT_SECRET"]
    assert connect._refresh_token.value == env["BEX_REFRESH_TOKEN"]
    assert env["BEX_CLIENT_SECRET"] not in text_of(connect._status)
    connect._base_url.value = api.base_url  # fix the one wrong field, press Connect again
    assert connect.connect() is not None
    assert connect._client_secret.value == "" and connect._refresh_token.value == ""


def test_an_interactive_connect_gives_up_within_5_s_but_the_client_keeps_its_retries(api):
    import socket
    import time

    with socket.socket() as silent:  # accepts connections (backlog) and never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        env = {**api.env(), "BEX_BASE_URL": f"http://127.0.0.1:{silent.getsockname()[1]}"}
        connect = ConnectForm(env=env)
        started = time.monotonic()
        assert connect.connect() is None
        assert 1 < time.monotonic() - started < 5
    assert "no answer within the timeout" in text_of(connect._status)
    good = ConnectForm(env=api.env()).connect()
    assert good is not None and good.max_retries == 3 and good.timeout == (5.0, 30.0)


def test_use_the_sandbox_with_one_click():
    connect = ConnectForm(env={})
    connect._use_sandbox.click()
    try:
        assert connect.client is not None, text_of(connect._status)
        assert "Connected to the sandbox at http://127.0.0.1:" in text_of(connect._status)
        form = JobDefinitionForm(connect.client)
        fill(form)
        assert form.create() is not None
        connect.sandbox.advance(hours=24)
        options = connect.sftp_storage_options()  # the client's token opens the files
        assert options["username"] == "oauth" and options["port"] == connect.sandbox.sftp.port
        browser = ExportBrowser(client=connect.client)  # the pod's download/ folder
        assert browser.urlpath == f"sftp://127.0.0.1:{connect.sandbox.sftp.port}/download/"
        assert len(labels(browser)) == len(connect.sandbox.files) > 0
        browser._select_all.click()
        browser._load.click()
        assert browser.events is not None and len(browser.events) > 0
        assert options["password"] not in all_states(browser) + all_states(connect)
    finally:
        if connect.sandbox is not None:
            connect.sandbox.stop()


# --- JobManager ------------------------------------------------------------------------------


def test_manager_says_when_the_server_cannot_be_reached(api, client):
    api.stop()
    manager = JobManager(client)
    assert "connection refused" in text_of(manager._status)
    assert manager.jobs == [] and not manager._refresh.disabled


def rows_of(manager: JobManager) -> list[w.HBox]:
    return [r for r in manager._table.children if "bex-jobs-row" in r._dom_classes]


def cells_of(row: w.HBox) -> list[str]:
    return [text_of(c) for c in row.children[:-1]]


def button_of(row: w.HBox, css: str) -> w.Button:
    return next(b for b in row.children[-1].children if css in b._dom_classes)


def test_manager_lists_edits_and_deletes(api, client):
    ids = [
        client.create_job(
            {"contactSourceId": str(db), "ftpUserId": "a@b.co",
             "channels": [{"jobFrequency": freq, "type": "Email",
                           "eventTypes": [{"eventType": "emailClick"}]}]}
        )
        for db, freq in ((11, 1), (12, 24))
    ]  # fmt: skip
    manager = JobManager(client)
    head = manager._table.children[0]
    assert "bex-jobs-head" in head._dom_classes
    assert [text_of(c) for c in head.children[:-1]] == [t for t, _ in COLUMNS]
    assert [cells_of(r)[0] for r in rows_of(manager)] == ids
    assert cells_of(rows_of(manager)[0]) == [ids[0], "11", "CSV", "every 1 h", "emailClick", "none"]
    # every button says which job it acts on
    assert [b.description for b in rows_of(manager)[1].children[-1].children] == [
        f"Edit job {ids[1]}",
        f"Delete job {ids[1]}",
    ]
    roles = {a["selector"]: a["attributes"].get("role") for a in manager._aria.attributes}
    assert roles[".bex-jobs-table"] == "table" and roles[".bex-jobs-head > *"] == "columnheader"
    button_of(rows_of(manager)[1], "bex-jobs-edit").click()
    form = manager.form
    assert form is not None and form._job_id.value == ids[1] and form._frequency.value == 24
    assert manager._aria.focused == ".bex-jobs-form-area .bex-database-id"
    form._frequency.value = 4
    form._update.click()
    assert cells_of(rows_of(manager)[1])[3] == "every 4 h"


def test_manager_asks_below_the_row_and_cancel_returns_to_its_delete_button(api, client):
    job_id = client.create_job(
        {"contactSourceId": "11", "ftpUserId": "a@b.co",
         "channels": [{"jobFrequency": 1, "type": "Email"}]}
    )  # fmt: skip
    other = client.create_job(
        {"contactSourceId": "12", "ftpUserId": "a@b.co",
         "channels": [{"jobFrequency": 1, "type": "Email"}]}
    )  # fmt: skip
    manager = JobManager(client)
    button_of(rows_of(manager)[0], "bex-jobs-delete").click()
    table = manager._table.children
    assert "bex-jobs-row-" + job_id in table[1]._dom_classes
    assert "bex-jobs-confirm" in table[2]._dom_classes  # right below its row
    assert f"Delete job definition {job_id}?" in text_of(table[2].children[0].children[0])
    assert manager._aria.focused == ".bex-jobs-cancel"
    assert [".bex-jobs-confirm", ".bex-jobs-cancel"] in manager._aria.escape
    next(b for b in table[2].children[0].children if "bex-jobs-cancel" in b._dom_classes).click()
    assert not any("bex-jobs-confirm" in r._dom_classes for r in manager._table.children)
    assert manager._aria.focused == f".bex-jobs-row-{job_id} .bex-jobs-delete"
    assert job_id in api.jobs
    button_of(rows_of(manager)[0], "bex-jobs-delete").click()
    confirm = manager._table.children[2].children[0]
    next(b for b in confirm.children if "bex-jobs-yes" in b._dom_classes).click()
    assert job_id not in api.jobs and other in api.jobs
    assert [cells_of(r)[0] for r in rows_of(manager)] == [other]
    assert text_of(manager._status) == f"Deleted job definition {job_id}."
    assert manager._aria.focused == ".bex-jobs-status"


def test_a_manager_without_a_client_says_connect_first_and_follows_connect(api):
    manager = JobManager(None)  # once an AttributeError on None
    assert text_of(manager._status).startswith("Not connected: connect first (ConnectForm")
    assert manager._new.disabled and manager.jobs == []
    connect = ConnectForm(env=api.env())
    connect.on_connect(manager.set_client)
    form = JobDefinitionForm()
    connect.on_connect(form.set_client)
    connect.connect()
    assert text_of(manager._status) == "0 job definitions." and not manager._new.disabled
    manager.watch(form)
    fill(form)
    job_id = form.create()  # created in another form: listed without Refresh
    assert [cells_of(r)[0] for r in rows_of(manager)] == [job_id]
    connect.disconnect()
    assert rows_of(manager) == [] and "Not connected" in text_of(manager._status)


# --- ExportBrowser ---------------------------------------------------------------------------


@pytest.fixture
def exports(tmp_path):
    return write_small_exports(tmp_path / "download")


def labels(browser: ExportBrowser) -> list[str]:
    return [label for label, _ in browser._files.options]


def test_export_browser_lists_files_with_the_parts_of_their_names(exports):
    browser = ExportBrowser(str(exports))
    assert [label.split("  ·  ")[0] for label in labels(browser)] == list(SMALL_EXPORT_NAMES)
    first = labels(browser)[0].split("  ·  ")
    size = (exports / SMALL_EXPORT_NAMES[0]).stat().st_size
    assert first[1:] == ["2026-11-01 01:00 UTC", "every 1 h", "CSV", f"{size} B"]
    assert "3 of 3 files shown" in text_of(browser._count)
    assert browser._load.disabled


def test_export_browser_filters_by_date_range(exports):
    browser = ExportBrowser(str(exports))
    browser._start.value = date(2026, 11, 2)
    assert [label.split("  ·  ")[0] for label in labels(browser)] == [SMALL_EXPORT_NAMES[2]]
    browser._start.value = None
    browser._end.value = date(2026, 11, 1)
    assert len(labels(browser)) == 2
    assert "2 of 3 files shown" in text_of(browser._count)


def test_the_date_filter_says_when_it_unselects_files(exports):
    browser = ExportBrowser(str(exports))
    browser._select_all.click()
    browser._start.value = date(2026, 11, 2)
    assert browser.selected == [str(exports / SMALL_EXPORT_NAMES[2])]
    assert text_of(browser._count).endswith(
        "2 selected files are outside these dates and were unselected."
    )
    browser._select_all.click()
    browser._start.value = None  # nothing selected was hidden this time
    assert "unselected" not in text_of(browser._count) and len(browser.selected) == 1


def test_an_export_browser_without_a_folder_waits_for_a_client(exports):
    browser = ExportBrowser()  # once an AttributeError or a BexConfigError
    assert text_of(browser._status).startswith("Not connected: connect first (ConnectForm")
    assert browser._files.options == () and browser._load.disabled
    attributes = {a["selector"]: a["attributes"] for a in browser._aria.attributes}
    assert attributes[".bex-export-files select"]["aria-label"].startswith("Export files")


def test_export_browser_loads_the_selection_and_says_what_it_did(exports):
    browser = ExportBrowser(str(exports))
    loaded: list[Any] = []
    browser.on_load(loaded.append)
    browser._select_all.click()
    assert not browser._load.disabled
    browser._load.click()
    events = browser.events
    assert events is not None and loaded == [events]
    assert len(events) == SMALL_EXPORT_TOTALS["rows"]
    assert events.attrs["duplicates_dropped"] == SMALL_EXPORT_TOTALS["duplicates_dropped"]
    assert text_of(browser._status) == (
        "Loaded 4 rows from 3 files; 1 duplicate dropped; 1 skipped line. "
        "The events are in this browser's .events."
    )
    assert browser._aria.focused == ".bex-export-status"
    counts = text_of(browser._counts)
    assert "emailSend2" in counts and "emailOpen1" in counts and "emailClick1" in counts


def test_export_browser_loads_only_what_is_selected(exports):
    browser = ExportBrowser(str(exports))
    browser.select([browser._files.options[2][1]])
    browser._load.click()
    assert browser.events is not None
    assert browser.events["eventType"].astype(str).tolist() == ["emailClick"]
    assert text_of(browser._status).startswith("Loaded 1 row from 1 file;")


def test_export_browser_shows_a_missing_folder_instead_of_raising(tmp_path):
    browser = ExportBrowser(str(tmp_path / "nowhere" / "*.csv"))
    assert "no files match" in text_of(browser._status)
    assert browser._files.options == () and browser._load.disabled


def test_export_browser_over_sftp_never_shows_the_password(exports):
    password = "sftp-pass-4f9c2e71"
    with SFTPServer(exports.parent, username="admin", password=password) as server:
        browser = ExportBrowser(server.url + "/download/", storage_options=server.storage_options)
        assert len(labels(browser)) == 3
        browser._select_all.click()
        browser._load.click()
        assert browser.events is not None and len(browser.events) == 4
    assert password not in all_states(browser)


# --- the notebook keeps no secret --------------------------------------------------------------

#: Cells appended to the test notebook: what a person does with the widgets, as code.
_USE_THE_WIDGETS = [
    # a person types the secrets instead of relying on the environment, then connects
    'connect._client_secret.value = os.environ["BEX_CLIENT_SECRET"]\n'
    'connect._refresh_token.value = os.environ["BEX_REFRESH_TOKEN"]\n'
    "connect._connect.click()\n"
    "connect.client, connect.client.token, connect",
    'form._database_id.value = "423251"\n'
    'form._admin_email.value = "admin@example.com"\n'
    "form._create.click()\n"
    "form.job",
    "exports._select_all.click()\nexports._load.click()\nexports.events.head(3)",
    "form, exports, connect.client.list_jobs()",
]


def test_the_widget_notebook_saves_no_secret(tmp_path, exports, monkeypatch):
    """Run the notebook as a kernel would, save it with widget state, grep for every secret."""
    credentials = SandboxCredentials(
        client_id="ci-" + secrets.token_hex(12),
        client_secret="cs-" + secrets.token_hex(12),
        refresh_token="rt-" + secrets.token_hex(12),
    )
    password = "pw-" + secrets.token_hex(12)
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    notebook.cells += [nbformat.v4.new_code_cell(code) for code in _USE_THE_WIDGETS]
    with (
        SandboxAPI(credentials=credentials) as api,
        SFTPServer(exports.parent, username="admin", password=password) as sftp,
    ):
        env = {
            **api.env(),
            "BEX_EXPORTS": sftp.url + "/download/",
            "BEX_SFTP_USER": "admin",
            "BEX_SFTP_PASSWORD": password,
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        NotebookClient(
            notebook,
            timeout=120,
            kernel_name="python3",
            resources={"metadata": {"path": str(tmp_path)}},
            store_widget_state=True,
        ).execute()
        with BexClient.from_env(api.env()) as bex:
            access_token = bex.token.get()  # the sandbox hands out the kernel's token again
        created = list(api.jobs)
    saved = tmp_path / "executed.ipynb"
    nbformat.write(notebook, saved)
    text = saved.read_text(encoding="utf-8")

    assert created, "the notebook created no job definition: it did not run as intended"
    assert f"Created job definition {created[0]}" in text
    assert "Loaded 4 rows from 3 files" in text
    assert "application/vnd.jupyter.widget-state+json" in text
    assert "BEX job definition" in text  # JobDefinition's rich display
    for name, secret in {
        "client id": credentials.client_id,
        "client secret": credentials.client_secret,
        "refresh token": credentials.refresh_token,
        "access token": access_token,
        "SFTP password": password,
    }.items():
        assert secret not in text, f"the saved notebook holds the {name}"
