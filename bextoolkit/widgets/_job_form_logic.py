"""The plain logic behind :class:`~bextoolkit.widgets.JobDefinitionForm`.

Turning the values of the form into the wire body, a loaded job back into values, a
validation problem into the field it concerns, and a prefix into an example file name are
pure functions here, tested without any widget.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bextoolkit import schema
from bextoolkit.jobs import Channel, ColumnSpec, JobDefinition, Problem

#: Keys of the places on the form where messages are shown.
GENERAL = "general"

_CHANNEL_FIELDS = {
    "jobFrequency": "frequency",
    "exportFileFormat": "file_format",
    "exportFileName": "prefix",
    "eventTypes": "event_types",
    "mailingTypes": "mailing_types",
    "columnNames": "columns",
    "type": GENERAL,
}
_TOP_FIELDS = {"contactSourceId": "database_id", "ftpUserId": "admin_email", "id": "job_id"}

#: What an empty database column row says (instead of the rule it breaks).
EMPTY_COLUMN = "type a column name or remove the row"

#: Where a person finds the values Acoustic asks for (shown under the fields).
DATABASE_ID_HELP = (
    "The database's id: in Campaign, Data > Databases, open the database; its id is on its "
    "Summary tab (also in the page address)."
)

#: The fields a person must fill in, by key, with their labels on the form.
REQUIRED_FIELDS = {"database_id": "Database id", "admin_email": "Admin email"}


@dataclass
class FormValues:
    """What a person entered on the form, in the form's own terms."""

    database_id: str = ""
    admin_email: str = ""
    file_format: str = schema.DEFAULT_FILE_FORMAT
    frequency: int = 24
    prefix: str = ""
    event_types: tuple[str, ...] = ()
    mailing_types: tuple[str, ...] = ()
    columns: list[str] = field(default_factory=list)
    job_id: str = ""


def wire_body(values: FormValues, *, with_id: bool = False) -> dict[str, Any]:
    """The job definition JSON the form stands for, in the documented wire shape.

    Text is stripped; an empty prefix is left out (the server's default applies); ticked
    event and mailing types keep the documented order; columns keep the order of the rows
    and are numbered from 0. ``with_id`` adds ``"id"`` (what a PUT sends).

    Examples
    --------
    >>> body = wire_body(FormValues(database_id=" 42 ", admin_email="a@b.c", frequency=6,
    ...                             event_types=("emailOpen",), columns=["Country"]))
    >>> body["contactSourceId"], body["channels"][0]["jobFrequency"]
    ('42', 6)
    >>> body["channels"][0]["eventTypes"], body["channels"][0]["columnNames"]
    ([{'eventType': 'emailOpen'}], [{'columnName': 'Country', 'columnOrder': 0}])
    """
    ticked_events, ticked_mailings = set(values.event_types), set(values.mailing_types)
    job = JobDefinition(
        contact_source_id=values.database_id.strip(),
        ftp_user_id=values.admin_email.strip(),
        channels=[
            Channel(
                job_frequency=values.frequency,
                export_file_format=values.file_format,
                export_file_name=values.prefix.strip() or None,
                event_types=[t for t in schema.EVENT_TYPES if t in ticked_events],
                mailing_types=[t for t in schema.MAILING_TYPES if t in ticked_mailings],
                columns=[
                    ColumnSpec(name.strip(), order) for order, name in enumerate(values.columns)
                ],
            )
        ],
        id=(values.job_id.strip() or None) if with_id else None,
    )
    return job.to_dict()


def values_from_wire(body: Mapping[str, Any]) -> FormValues:
    """The form values that show the job definition ``body`` (wire JSON, first channel).

    Examples
    --------
    >>> v = values_from_wire({"id": 7, "contactSourceId": "42", "ftpUserId": "a@b.c",
    ...     "channels": [{"jobFrequency": 12, "exportFileFormat": "TSV",
    ...                   "columnNames": [{"columnName": "B", "columnOrder": 1},
    ...                                   {"columnName": "A", "columnOrder": 0}]}]})
    >>> v.job_id, v.frequency, v.file_format, v.columns
    ('7', 12, 'TSV', ['A', 'B'])
    """
    job = JobDefinition.from_dict(body)
    channel = job.channels[0] if job.channels else Channel()
    return FormValues(
        database_id=_text(job.contact_source_id),
        admin_email=_text(job.ftp_user_id),
        file_format=channel.export_file_format,
        frequency=int(channel.job_frequency or 24),
        prefix=_text(channel.export_file_name),
        event_types=tuple(channel.event_types),
        mailing_types=tuple(channel.mailing_types),
        columns=[c.name for c in sorted(channel.columns, key=lambda c: int(c.order))],
        job_id=_text(job.id),
    )


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def _path_steps(path: str) -> list[str | int]:
    """The keys and indexes of a wire path: ``a[0].b[2].c`` -> ``["a", 0, "b", 2, "c"]``."""
    steps: list[str | int] = []
    for part in path.split("."):
        name, *indexes = part.split("[")
        steps.append(name)
        steps.extend(int(i.rstrip("]")) for i in indexes if i.rstrip("]").isdigit())
    return steps


def field_of_problem(problem: Problem) -> str:
    """Which place on the form a validation problem concerns, from its wire path.

    The key is one of the form's (``database_id``, ``frequency``, ``column_2``, ...) or
    ``"general"`` for a rule about the whole body.

    Examples
    --------
    >>> field_of_problem(Problem("ftpUserId", "required: the Org Admin's login email"))
    'admin_email'
    >>> field_of_problem(Problem("channels[0].columnNames[2].columnName", "must be ..."))
    'column_2'
    >>> field_of_problem(Problem("channels[0].columnNames", "at most 5 columns"))
    'columns'
    >>> field_of_problem(Problem("(body)", "must be a JSON object"))
    'general'
    """
    steps = _path_steps(problem.path)
    if len(steps) == 1 and steps[0] in _TOP_FIELDS:
        return _TOP_FIELDS[str(steps[0])]
    if steps[0] != "channels":
        return GENERAL
    rest = steps[2:] if len(steps) > 1 and isinstance(steps[1], int) else steps[1:]
    if not rest or not isinstance(rest[0], str):
        return GENERAL
    if rest[0] == "columnNames" and len(rest) > 1 and isinstance(rest[1], int):
        return f"column_{rest[1]}"
    return _CHANNEL_FIELDS.get(rest[0], GENERAL)


def problems_by_field(problems: Iterable[Problem]) -> dict[str, list[Problem]]:
    """Group validation problems by the form field they concern (see :func:`field_of_problem`).

    Examples
    --------
    >>> grouped = problems_by_field([Problem("contactSourceId", "required"),
    ...                              Problem("id", "unknown"), Problem("(body)", "odd")])
    >>> {key: [p.message for p in found] for key, found in grouped.items()}
    {'database_id': ['required'], 'job_id': ['unknown'], 'general': ['odd']}
    """
    grouped: dict[str, list[Problem]] = {}
    for problem in problems:
        grouped.setdefault(field_of_problem(problem), []).append(problem)
    return grouped


def field_messages(key: str, problems: Sequence[Problem], *, value: str | None = None) -> list[str]:
    """The words shown at the place ``key`` on the form for its ``problems``.

    Beside a field, the message without its wire path; in the general place, the whole
    problem. A column row with nothing typed in it says what to do instead of quoting the
    rule (``value`` is the row's text).

    Examples
    --------
    >>> field_messages("admin_email", [Problem("ftpUserId", "required")])
    ['required']
    >>> field_messages("general", [Problem("(body)", "must be a JSON object")])
    ['(body): must be a JSON object']
    >>> field_messages("column_0", [Problem("channels[0].columnNames[0].columnName", "x")],
    ...                value=" ")
    ['type a column name or remove the row']
    """
    if key.startswith("column_") and value is not None and not value.strip() and problems:
        return [EMPTY_COLUMN]
    if key == GENERAL:
        return [str(p) for p in problems]
    if key.startswith("column_"):
        return [_rows_as_numbered(p.message) for p in problems]
    return [p.message for p in problems]


def _rows_as_numbered(message: str) -> str:
    """``already at [0]`` as the rows read on the form: ``same as column 1``.

    Examples
    --------
    >>> _rows_as_numbered("duplicate 'City' (already at [0])")
    "duplicate 'City' (same as column 1)"
    """
    return re.sub(r"already at \[(\d+)\]", lambda m: f"same as column {int(m[1]) + 1}", message)


def unknown_values(values: FormValues) -> list[str]:
    """What a job holds that the form does not offer, in the wire's words ([] when none).

    The form shows such values as they are and marks them; Create and Update stay off
    until the person chooses allowed ones, so the server's values are never overwritten
    by a default the form picked.

    Examples
    --------
    >>> unknown_values(FormValues(frequency=5, file_format="XLS", columns=list("abcdefg")))
    ['jobFrequency 5', "exportFileFormat 'XLS'", '7 database columns (at most 5)']
    >>> unknown_values(FormValues())
    []
    """
    found = []
    if values.frequency not in schema.JOB_FREQUENCIES:
        found.append(f"jobFrequency {values.frequency!r}")
    if values.file_format not in schema.FILE_FORMATS:
        found.append(f"exportFileFormat {values.file_format!r}")
    if len(values.columns) > schema.MAX_DATABASE_COLUMNS:
        found.append(
            f"{len(values.columns)} database columns (at most {schema.MAX_DATABASE_COLUMNS})"
        )
    return found


def not_offered_label(value: Any) -> str:
    """How a dropdown shows a value the server holds but the form does not offer.

    Examples
    --------
    >>> not_offered_label(5)
    '5 (not allowed: choose another)'
    """
    return f"{value} (not allowed: choose another)"


def conflict_id(message: str) -> str | None:
    """The id of the job definition a 409 says the database already has, if it names one.

    Examples
    --------
    >>> conflict_id("database 42 already has job definition 7: one job definition per ...")
    '7'
    >>> conflict_id("conflict") is None
    True
    """
    match = re.search(r"job definition (\w+)", message)
    return match[1] if match else None


def prefix_hint(prefix: str) -> str:
    """What to know about a file name prefix: "" unless it runs into the channel name.

    Acoustic puts the channel (``Email``) right after the prefix, so ``Test_Email`` gives
    ``Test_EmailEmail_...``; a prefix ending in ``_``, ``-``, ``.`` or a space does not.

    Examples
    --------
    >>> prefix_hint("Test_Email")
    'The prefix runs straight into the channel name: end it with "_" to keep them apart.'
    >>> prefix_hint("Shop_"), prefix_hint("")
    ('', '')
    """
    prefix = prefix.strip()
    if not prefix or prefix[-1] in "_-. ":
        return ""
    return 'The prefix runs straight into the channel name: end it with "_" to keep them apart.'


def example_file_name(prefix: str, file_format: str, frequency: int, *, when: datetime) -> str:
    """An example of the name the export files will get: prefix, channel, time, frequency.

    The time format is not documented; this follows the sandbox's files
    (``YYYYMMDDHHMMSS`` of the window end, UTC). An empty prefix means the default.

    Examples
    --------
    >>> from datetime import datetime
    >>> example_file_name("", "PSV", 6, when=datetime(2026, 11, 1, 6))
    'Recipient Event Bulk Export_Email_20261101060000_6.psv'
    >>> example_file_name("Shop_", "CSV", 1, when=datetime(2026, 11, 1, 1))
    'Shop_Email_20261101010000_1.csv'
    """
    prefix = prefix.strip() or schema.DEFAULT_EXPORT_FILE_NAME
    extension = schema.EXTENSIONS.get(file_format, ".csv")
    channel = schema.CHANNEL_TYPES[0]
    return f"{prefix}{channel}_{when:%Y%m%d%H%M%S}_{frequency}{extension}"


def frequency_label(hours: int) -> str:
    """How a job frequency reads in the dropdown.

    Examples
    --------
    >>> [frequency_label(h) for h in (1, 6, 24)]
    ['every hour', 'every 6 hours', 'every 24 hours (daily)']
    """
    if hours == 1:
        return "every hour"
    return f"every {hours} hours" + (" (daily)" if hours == 24 else "")


def problem_summary(shown: int, untouched: Sequence[str] = ()) -> str:
    """The line next to the buttons while the form cannot be sent.

    ``shown`` counts the problems marked on the form; ``untouched`` names the fields that
    still need a value but were not touched yet (their "required" is not shown until then).

    Examples
    --------
    >>> problem_summary(0)
    ''
    >>> problem_summary(2)
    'Fix the 2 problems marked above to enable Create and Update.'
    >>> problem_summary(0, ["Database id", "Admin email"])
    'Fill in Database id and Admin email to enable Create and Update.'
    >>> problem_summary(1, ["Admin email"])
    'Fix the problem marked above and fill in Admin email to enable Create and Update.'
    """
    fill = " and ".join([", ".join(untouched[:-1]), untouched[-1]] if len(untouched) > 1
                        else list(untouched))  # fmt: skip
    noun = "problem" if shown == 1 else f"{shown} problems"
    if shown and fill:
        return f"Fix the {noun} marked above and fill in {fill} to enable Create and Update."
    if shown:
        return f"Fix the {noun} marked above to enable Create and Update."
    if fill:
        return f"Fill in {fill} to enable Create and Update."
    return ""
