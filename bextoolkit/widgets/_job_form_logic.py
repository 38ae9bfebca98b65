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
from bextoolkit.jobs import Channel, ColumnSpec, JobDefinition

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
_CHANNEL_PATH = re.compile(r"^channels(?:\[\d+\])?\.(\w+)(?:\[(\d+)\])?")


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


def field_of_problem(problem: str) -> tuple[str, str]:
    """Which place on the form a validation problem concerns, and the words to show there.

    Problems start with their wire path (``channels[0].jobFrequency: ...``); the field key
    is one of the form's (``database_id``, ``frequency``, ``column_2``, ...) or
    ``"general"``.

    Examples
    --------
    >>> field_of_problem("ftpUserId: required; give the admin's login email")
    ('admin_email', "required; give the admin's login email")
    >>> field_of_problem("channels[0].columnNames[2].columnName: must not be empty")
    ('column_2', 'must not be empty')
    >>> field_of_problem("channels[0].columnNames: at most 5 columns")
    ('columns', 'at most 5 columns')
    >>> field_of_problem("something odd")
    ('general', 'something odd')
    """
    path, sep, message = problem.partition(": ")
    if not sep or " " in path:
        return GENERAL, problem
    top = re.match(r"^(\w+)", path)
    if top and top.group(1) in _TOP_FIELDS and path == top.group(1):
        return _TOP_FIELDS[top.group(1)], message
    match = _CHANNEL_PATH.match(path)
    if match:
        name, index = match.groups()
        if name == "columnNames" and index is not None:
            return f"column_{index}", message
        return _CHANNEL_FIELDS.get(name, GENERAL), message
    return GENERAL, problem


def problems_by_field(problems: Iterable[str]) -> dict[str, list[str]]:
    """Group validation problems by the form field they concern (see :func:`field_of_problem`).

    Examples
    --------
    >>> problems_by_field(["contactSourceId: required", "id: unknown", "odd"])
    {'database_id': ['required'], 'job_id': ['unknown'], 'general': ['odd']}
    """
    grouped: dict[str, list[str]] = {}
    for problem in problems:
        key, message = field_of_problem(problem)
        grouped.setdefault(key, []).append(message)
    return grouped


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


def problem_summary(problems: Sequence[str]) -> str:
    """The line next to the buttons while the form cannot be sent.

    Examples
    --------
    >>> problem_summary([])
    ''
    >>> problem_summary(["a", "b"])
    'Fix the 2 problems marked above to enable Create and Update.'
    """
    if not problems:
        return ""
    noun = "problem" if len(problems) == 1 else f"{len(problems)} problems"
    return f"Fix the {noun} marked above to enable Create and Update."
