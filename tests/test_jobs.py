"""JobDefinition / Channel: the wire format both ways, and every documented rule."""

from __future__ import annotations

import copy
import json

import pytest
from conftest import SEED_BODY, valid_body

import bextoolkit as bex
from bextoolkit.exceptions import BexValidationError
from bextoolkit.jobs import (
    CHANNEL_TYPES,
    EVENT_TYPES,
    FILE_FORMATS,
    JOB_FREQUENCIES,
    MAILING_TYPES,
    Channel,
    ColumnSpec,
    JobDefinition,
    find_problems,
)


def paths(body, **kw) -> list[str]:
    return [p.path for p in find_problems(body, **kw)]


# --- the wire format ---------------------------------------------------------------------


def test_seed_example_round_trips_unchanged_key_order_too():
    job = JobDefinition.from_dict(SEED_BODY)
    assert json.dumps(job.to_dict()) == json.dumps(SEED_BODY)
    assert job.to_dict() is not SEED_BODY


def test_from_dict_reads_the_seed_into_python_fields():
    job = JobDefinition.from_dict(SEED_BODY)
    ch = job.channels[0]
    assert job.contact_source_id == "423251"
    assert ch.job_frequency == 1
    assert ch.event_types == list(EVENT_TYPES)
    assert ch.mailing_types == ["SendExperience", "Programs", "AutoResponder", "AMG", "ABTest"]
    assert ch.columns == [ColumnSpec("column1", 0), ColumnSpec("column2", 1)]
    assert ch.export_file_name == "Test_Email"


def test_keyword_construction_gives_documented_defaults_and_minimal_wire():
    job = JobDefinition(
        contact_source_id="42", ftp_user_id="a@example.com", channels=[Channel(job_frequency=24)]
    )
    assert job.channels[0].type == "Email"
    assert job.channels[0].export_file_format == "CSV"
    assert job.channels[0].file_name_prefix == "Recipient Event Bulk Export_"
    assert job.to_dict() == {
        "channels": [{"exportFileFormat": "CSV", "jobFrequency": 24, "type": "Email"}],
        "contactSourceId": "42",
        "ftpUserId": "a@example.com",
    }
    assert job.validate() is job


def test_columns_accept_names_pairs_and_wire_objects():
    ch = Channel(
        job_frequency=1,
        columns=["City", ("Zip", 4), {"columnName": "Age", "columnOrder": 2}],
    )
    assert ch.columns == [ColumnSpec("City", 0), ColumnSpec("Zip", 4), ColumnSpec("Age", 2)]
    assert ch.to_dict()["columnNames"][1] == {"columnName": "Zip", "columnOrder": 4}


def test_items_accept_bare_strings_and_write_objects():
    ch = Channel(job_frequency=2, event_types=["emailOpen"], mailing_types=[{"mailingType": "AMG"}])
    assert ch.event_types == ["emailOpen"]
    assert ch.mailing_types == ["AMG"]
    wire = ch.to_dict()
    assert wire["eventTypes"] == [{"eventType": "emailOpen"}]
    assert wire["mailingTypes"] == [{"mailingType": "AMG"}]


def test_unknown_fields_round_trip_and_are_reported():
    body = valid_body()
    body["comment"] = "x"
    body["channels"][0]["jobFrequncy"] = 2
    job = JobDefinition.from_dict(body)
    assert job.to_dict() == body
    assert job.problems() == [
        "comment: unknown field; known fields here are channels, contactSourceId, ftpUserId",
        "channels[0].jobFrequncy: unknown field; known fields here are eventTypes, columnNames, "
        "mailingTypes, exportFileName, exportFileFormat, jobFrequency, type",
    ]


def test_from_dict_refuses_what_it_cannot_hold():
    with pytest.raises(BexValidationError, match=r"\(body\): must be a JSON object"):
        JobDefinition.from_dict(["not", "a", "job"])  # type: ignore[arg-type]
    with pytest.raises(BexValidationError, match="channels: must be a list of channel objects"):
        JobDefinition.from_dict({"channels": "Email"})


def test_update_body_carries_the_id_after_the_documented_fields():
    job = JobDefinition.from_dict({**valid_body(), "id": "1001"})
    assert list(job.to_dict()) == ["channels", "contactSourceId", "ftpUserId", "id"]
    job.validate(for_update=True)


# --- the rules -----------------------------------------------------------------------------


def test_a_valid_body_has_no_problems():
    assert find_problems(valid_body()) == []


@pytest.mark.parametrize("freq", [0, 5, 7, 48, "1", 1.0, True, None])
def test_job_frequency_outside_the_documented_values(freq):
    body = valid_body()
    body["channels"][0]["jobFrequency"] = freq
    (problem,) = find_problems(body)
    assert problem.path == "channels[0].jobFrequency"
    assert "must be one of 1, 2, 3, 4, 6, 8, 12, 24" in problem.message


def test_the_issue_example_message_exactly():
    body = valid_body()
    body["channels"][0]["jobFrequency"] = 5
    assert [str(p) for p in find_problems(body)] == [
        "channels[0].jobFrequency: must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5"
    ]


@pytest.mark.parametrize("freq", JOB_FREQUENCIES)
def test_every_documented_frequency_is_valid(freq):
    body = valid_body()
    body["channels"][0]["jobFrequency"] = freq
    assert find_problems(body) == []


@pytest.mark.parametrize(
    ("mutate", "path", "words"),
    [
        (lambda b: b.pop("contactSourceId"), "contactSourceId", "required"),
        (lambda b: b.pop("ftpUserId"), "ftpUserId", "required"),
        (lambda b: b.pop("channels"), "channels", "required"),
        (lambda b: b.update(channels=[]), "channels", "non-empty list"),
        (lambda b: b["channels"][0].pop("jobFrequency"), "channels[0].jobFrequency", "required"),
        (lambda b: b["channels"][0].pop("type"), "channels[0].type", "required"),
        (lambda b: b["channels"][0].update(type="SMS"), "channels[0].type", "one of Email"),
        (
            lambda b: b["channels"][0].update(exportFileFormat="XLSX"),
            "channels[0].exportFileFormat",
            "CSV, PSV, TSV",
        ),
        (
            lambda b: b["channels"][0].update(exportFileName=""),
            "channels[0].exportFileName",
            "non-empty",
        ),
        (
            lambda b: b["channels"][0].update(exportFileName="../etc/x"),
            "channels[0].exportFileName",
            "without /",
        ),
        (lambda b: b.update(contactSourceId="db-7"), "contactSourceId", "numeric database id"),
        (lambda b: b.update(contactSourceId=-1), "contactSourceId", "numeric database id"),
        (lambda b: b.update(contactSourceId=""), "contactSourceId", "required"),
        (lambda b: b.update(contactSourceId=None), "contactSourceId", "required"),
        (lambda b: b.update(ftpUserId="  "), "ftpUserId", "required"),
        (lambda b: b.update(ftpUserId="admin"), "ftpUserId", "email address"),
        (lambda b: b.update(ftpUserId="[email protected]"), "ftpUserId", "email address"),
        (lambda b: b.update(id="5"), "id", "must not be set when creating"),
        (
            lambda b: b["channels"][0]["eventTypes"].append({"eventType": "emailReply"}),
            "channels[0].eventTypes[6].eventType",
            "must be one of emailSend",
        ),
        (
            lambda b: b["channels"][0]["eventTypes"].append({"eventType": "emailOpen"}),
            "channels[0].eventTypes[6].eventType",
            "duplicate 'emailOpen' (already at [1])",
        ),
        (
            lambda b: b["channels"][0]["eventTypes"].append("emailOpen"),
            "channels[0].eventTypes[6]",
            "must be an object",
        ),
        (
            lambda b: b["channels"][0]["mailingTypes"].append({"mailingType": "Transactional"}),
            "channels[0].mailingTypes[5].mailingType",
            "must be one of SendExperience",
        ),
        (
            lambda b: b["channels"][0]["mailingTypes"].append({"mailingType": "AMG"}),
            "channels[0].mailingTypes[5].mailingType",
            "duplicate 'AMG'",
        ),
        (
            lambda b: b["channels"][0]["columnNames"].append(
                {"columnName": "column1", "columnOrder": 2}
            ),
            "channels[0].columnNames[2].columnName",
            "duplicate 'column1'",
        ),
        (
            lambda b: b["channels"][0]["columnNames"].append(
                {"columnName": "c3", "columnOrder": 1}
            ),
            "channels[0].columnNames[2].columnOrder",
            "duplicate 1",
        ),
        (
            lambda b: b["channels"][0]["columnNames"].append(
                {"columnName": "c3", "columnOrder": -1}
            ),
            "channels[0].columnNames[2].columnOrder",
            "non-negative integer",
        ),
        (
            lambda b: b["channels"][0]["columnNames"].append({"columnName": "c3"}),
            "channels[0].columnNames[2].columnOrder",
            "required when columnName",
        ),
        (
            lambda b: b["channels"][0]["columnNames"].append({"columnName": " ", "columnOrder": 3}),
            "channels[0].columnNames[2].columnName",
            "database column name",
        ),
        (
            lambda b: b["channels"].append(copy.deepcopy(b["channels"][0])),
            "channels[1].type",
            "duplicate channel 'Email'",
        ),
    ],
)
def test_each_rule_names_its_wire_path(mutate, path, words):
    body = valid_body()
    mutate(body)
    problems = find_problems(body)
    assert [p.path for p in problems] == [path], problems
    assert words in problems[0].message


def test_at_most_five_database_columns():
    body = valid_body()
    body["channels"][0]["columnNames"] = [
        {"columnName": f"c{i}", "columnOrder": i} for i in range(6)
    ]
    assert [str(p) for p in find_problems(body)] == [
        "channels[0].columnNames: at most 5 database columns, got 6"
    ]
    body["channels"][0]["columnNames"].pop()
    assert find_problems(body) == []


def test_update_needs_an_id():
    assert paths(valid_body(), for_update=True) == ["id"]
    assert paths({**valid_body(), "id": ""}, for_update=True) == ["id"]
    assert paths({**valid_body(), "id": 17}, for_update=True) == []


def test_all_problems_are_reported_at_once():
    job = JobDefinition(
        contact_source_id="abc",
        ftp_user_id="nobody",
        channels=[
            Channel(job_frequency=5, type="SMS", export_file_format="XLS", event_types=["x"])
        ],
    )
    with pytest.raises(BexValidationError) as info:
        job.validate()
    assert info.value.problems == [
        "channels[0].type: must be one of Email, got 'SMS'",
        "channels[0].jobFrequency: must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5",
        "channels[0].exportFileFormat: must be one of CSV, PSV, TSV, got 'XLS'",
        "channels[0].eventTypes[0].eventType: must be one of emailSend, emailOpen, emailClick, "
        "emailOptOut, emailSuppressed, emailBounce, got 'x'",
        "contactSourceId: must be a numeric database id such as '423251', got 'abc'",
        "ftpUserId: must be an email address (the Org Admin's login), got 'nobody'",
    ]
    assert str(info.value).startswith("job definition has 6 problems:\n  - channels[0].type")


def test_an_empty_definition_lists_every_required_field():
    assert JobDefinition().problems() == [
        "channels: must be a non-empty list of channel objects, got []",
        "contactSourceId: required: the id of the database to export",
        "ftpUserId: required: the Org Admin's login email",
    ]
    assert paths({"channels": [{}]}) == [
        "channels[0].type",
        "channels[0].jobFrequency",
        "contactSourceId",
        "ftpUserId",
    ]


def test_a_non_object_body_is_one_problem():
    assert [str(p) for p in find_problems([1, 2])] == ["(body): must be a JSON object, got [1, 2]"]


def test_numeric_contact_source_id_is_accepted_and_kept():
    body = {**valid_body(), "contactSourceId": 423251}
    assert find_problems(body) == []
    assert JobDefinition.from_dict(body).to_dict()["contactSourceId"] == 423251


# --- display -------------------------------------------------------------------------------


def test_repr_is_readable_and_evaluates_back():
    job = JobDefinition.from_dict({**valid_body(), "id": "7"})
    text = repr(job)
    assert text.startswith("JobDefinition(id='7', contact_source_id='423251'")
    assert "job_frequency=1" in text and "export_file_format" not in text  # defaults left out
    assert (
        eval(text, {"JobDefinition": JobDefinition, "Channel": Channel, "ColumnSpec": ColumnSpec})
        == job
    )


def test_repr_html_shows_fields_and_problems():
    good = JobDefinition.from_dict(valid_body())._repr_html_()
    assert (
        "<table>" in good and "423251" in good and "every 1 h" in good and "Not valid" not in good
    )
    bad = JobDefinition(contact_source_id="<x>", channels=[Channel(job_frequency=5)])._repr_html_()
    assert "Not valid" in bad and "&lt;x&gt;" in bad and "<x>" not in bad
    assert "got 5" in bad


def test_vocabularies_are_the_schema_constants():
    from bextoolkit import schema

    assert EVENT_TYPES is schema.EVENT_TYPES
    assert MAILING_TYPES is schema.MAILING_TYPES
    assert FILE_FORMATS is schema.FILE_FORMATS
    assert CHANNEL_TYPES == ("Email",)
    assert bex.JobDefinition is JobDefinition and bex.Channel is Channel


# --- full matches and case-insensitive enumerations (issue 12, item 5) -------------------------


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("contactSourceId", "423251\n"),
        ("contactSourceId", "423251 "),
        ("ftpUserId", "admin@example.com\n"),
        ("ftpUserId", "\nadmin@example.com"),
    ],
)
def test_a_trailing_newline_never_slips_through(field, value):
    body = valid_body()
    body[field] = value
    assert [p.path for p in find_problems(body)] == [field]


def test_enumerations_match_any_case_and_are_written_in_the_vendors_spelling():
    body = valid_body()
    channel = body["channels"][0]
    channel["type"] = "EMAIL"
    channel["exportFileFormat"] = "psv"
    channel["eventTypes"] = [{"eventType": "EMAILOPEN"}, {"eventType": " emailclick"}]
    channel["mailingTypes"] = [{"mailingType": "abtest"}]
    assert find_problems(body) == []
    wire = JobDefinition.from_dict(body).validate().to_dict()["channels"][0]
    assert wire["type"] == "Email" and wire["exportFileFormat"] == "PSV"
    assert wire["eventTypes"] == [{"eventType": "emailOpen"}, {"eventType": "emailClick"}]
    assert wire["mailingTypes"] == [{"mailingType": "ABTest"}]
    channel["eventTypes"].append({"eventType": "emailopen"})  # the same one twice
    assert [p.path for p in find_problems(body)] == ["channels[0].eventTypes[2].eventType"]
    channel["type"] = "SMS"
    assert "channels[0].type" in [p.path for p in find_problems(body)]
