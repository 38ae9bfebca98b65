"""BEX job definitions: the :class:`JobDefinition` / :class:`Channel` model and its rules.

The model mirrors the wire JSON of the vendor's page (``POST /rest/bulkeventexport/
jobdefinition``): :meth:`JobDefinition.from_dict` reads it, :meth:`JobDefinition.to_dict`
writes exactly it. The documented rules live in one function, :func:`find_problems`, which
checks a *wire payload* (any JSON value) and names every problem by its wire path, such as
``channels[0].jobFrequency``. The client calls it before sending and the sandbox server
calls it to answer 400 with the same paths, so the two can never disagree.

Defaults as documented: ``type`` ``"Email"`` (the only channel type), ``exportFileFormat``
``"CSV"``; ``exportFileName`` left out means the platform's ``"Recipient Event Bulk
Export_"``; empty ``eventTypes`` / ``mailingTypes`` mean all of them. :meth:`~JobDefinition.
to_dict` always writes ``type`` and ``exportFileFormat`` and leaves out empty lists and an
unset file name. Fields the model does not know are kept in ``extras`` (so any body
round-trips) and reported by the rules as unknown.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, TypeGuard

from bextoolkit.exceptions import BexValidationError
from bextoolkit.schema import (
    CHANNEL_TYPES,
    DEFAULT_EXPORT_FILE_NAME,
    DEFAULT_FILE_FORMAT,
    EVENT_TYPES,
    FILE_FORMATS,
    JOB_FREQUENCIES,
    MAILING_TYPES,
    MAX_DATABASE_COLUMNS,
)

__all__ = [
    "CHANNEL_TYPES",
    "DEFAULT_EXPORT_FILE_NAME",
    "DEFAULT_FILE_FORMAT",
    "EVENT_TYPES",
    "FILE_FORMATS",
    "JOBS_PATH",
    "JOB_FREQUENCIES",
    "MAILING_TYPES",
    "MAX_DATABASE_COLUMNS",
    "Channel",
    "ColumnSpec",
    "JobDefinition",
    "Problem",
    "find_problems",
]

#: The REST path of job definitions (POST here; GET, PUT, DELETE at ``{JOBS_PATH}/{id}``).
JOBS_PATH = "/rest/bulkeventexport/jobdefinition"

_TOP_KEYS = ("channels", "contactSourceId", "ftpUserId")
_CHANNEL_KEYS = (
    "eventTypes",
    "columnNames",
    "mailingTypes",
    "exportFileName",
    "exportFileFormat",
    "jobFrequency",
    "type",
)
# Used with fullmatch: a trailing newline never slips through (``$`` would match before it).
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s.]+")
_DIGITS = re.compile(r"[0-9]+")
_BAD_FILE_NAME = re.compile(r"[/\\\x00-\x1f\x7f]")
_MAX_FILE_NAME = 200


class Problem(NamedTuple):
    """One broken rule: the wire ``path`` of the field and what is wrong with it.

    Examples
    --------
    >>> body = {"contactSourceId": "1", "ftpUserId": "x", "channels": [{"jobFrequency": 1}]}
    >>> [problem.path for problem in find_problems(body)]
    ['channels[0].type', 'ftpUserId']
    >>> find_problems(body)[1].message
    "must be an email address (the Org Admin's login), got 'x'"
    """

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}"


# --- the rules ---------------------------------------------------------------------------


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _one_of(allowed: Iterable[Any]) -> str:
    return ", ".join(str(a) for a in allowed)


def vendor_spelling(value: Any, allowed: Sequence[str]) -> Any:
    """``value`` in the vendor's spelling when it matches one of ``allowed`` ignoring case
    and surrounding spaces; anything else unchanged (the rules then report it).

    Examples
    --------
    >>> vendor_spelling("EMAIL", ["Email"]), vendor_spelling(" emailopen", ["emailOpen"])
    ('Email', 'emailOpen')
    >>> vendor_spelling("SMS", ["Email"])
    'SMS'
    """
    if isinstance(value, str):
        key = value.strip().casefold()
        for choice in allowed:
            if choice.casefold() == key:
                return choice
    return value


def _check_unknown(
    obj: Mapping[str, Any], known: Sequence[str], path: str, out: list[Problem]
) -> None:
    for key in obj:
        if key not in known:
            where = f"{path}.{key}" if path else str(key)
            out.append(Problem(where, f"unknown field; known fields here are {_one_of(known)}"))


def _check_first(value: Any, seen: dict[Any, int], i: int, where: str, out: list[Problem]) -> None:
    """Remember that ``value`` is at ``[i]``, or report it as a duplicate of an earlier one."""
    if value in seen:
        out.append(Problem(where, f"duplicate {value!r} (already at [{seen[value]}])"))
    else:
        seen[value] = i


def _check_items(
    items: Any, path: str, key: str, allowed: Sequence[str], out: list[Problem]
) -> None:
    """Check an ``eventTypes`` / ``mailingTypes`` list of ``{key: value}`` objects."""
    if not isinstance(items, list):
        out.append(
            Problem(path, f'must be a list of objects like {{"{key}": ...}}, got {_show(items)}')
        )
        return
    seen: dict[Any, int] = {}
    for i, item in enumerate(items):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            out.append(
                Problem(
                    where, f'must be an object like {{"{key}": "{allowed[0]}"}}, got {_show(item)}'
                )
            )
            continue
        _check_unknown(item, (key,), where, out)
        if key not in item:
            out.append(Problem(f"{where}.{key}", "required"))
            continue
        value = vendor_spelling(item[key], allowed)
        if value not in allowed:
            out.append(
                Problem(f"{where}.{key}", f"must be one of {_one_of(allowed)}, got {_show(value)}")
            )
        else:
            _check_first(value, seen, i, f"{where}.{key}", out)


def _check_columns(columns: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(columns, list):
        out.append(
            Problem(
                path, f"must be a list of {{columnName, columnOrder}} objects, got {_show(columns)}"
            )
        )
        return
    if len(columns) > MAX_DATABASE_COLUMNS:
        out.append(
            Problem(path, f"at most {MAX_DATABASE_COLUMNS} database columns, got {len(columns)}")
        )
    names: dict[str, int] = {}
    orders: dict[int, int] = {}
    for i, item in enumerate(columns):
        where = f"{path}[{i}]"
        if not isinstance(item, Mapping):
            out.append(
                Problem(
                    where,
                    'must be an object like {"columnName": "City", "columnOrder": 0}, '
                    f"got {_show(item)}",
                )
            )
            continue
        _check_unknown(item, ("columnName", "columnOrder"), where, out)
        name = item.get("columnName")
        if "columnName" not in item:
            out.append(Problem(f"{where}.columnName", "required"))
        elif not isinstance(name, str) or not name.strip():
            out.append(
                Problem(f"{where}.columnName", f"must be a database column name, got {_show(name)}")
            )
        else:
            _check_first(name, names, i, f"{where}.columnName", out)
        order = item.get("columnOrder")
        if "columnOrder" not in item:
            out.append(Problem(f"{where}.columnOrder", "required when columnName is given"))
        elif not _is_int(order) or order < 0:
            out.append(
                Problem(
                    f"{where}.columnOrder", f"must be a non-negative integer, got {_show(order)}"
                )
            )
        else:
            _check_first(order, orders, i, f"{where}.columnOrder", out)


def _check_channel(channel: Any, path: str, out: list[Problem]) -> None:
    if not isinstance(channel, Mapping):
        out.append(Problem(path, f"must be an object, got {_show(channel)}"))
        return
    _check_unknown(channel, _CHANNEL_KEYS, path, out)
    if "type" not in channel:
        out.append(
            Problem(f"{path}.type", f"required; the only channel type is {CHANNEL_TYPES[0]!r}")
        )
    elif vendor_spelling(channel["type"], CHANNEL_TYPES) not in CHANNEL_TYPES:
        out.append(
            Problem(
                f"{path}.type",
                f"must be one of {_one_of(CHANNEL_TYPES)}, got {_show(channel['type'])}",
            )
        )
    if "jobFrequency" not in channel:
        out.append(
            Problem(
                f"{path}.jobFrequency",
                f"required: hours between exports, one of {_one_of(JOB_FREQUENCIES)}",
            )
        )
    else:
        freq = channel["jobFrequency"]
        if not _is_int(freq) or freq not in JOB_FREQUENCIES:
            out.append(
                Problem(
                    f"{path}.jobFrequency",
                    f"must be one of {_one_of(JOB_FREQUENCIES)}, got {_show(freq)}",
                )
            )
    if (
        "exportFileFormat" in channel
        and vendor_spelling(channel["exportFileFormat"], FILE_FORMATS) not in FILE_FORMATS
    ):
        fmt = channel["exportFileFormat"]
        out.append(
            Problem(
                f"{path}.exportFileFormat",
                f"must be one of {_one_of(FILE_FORMATS)}, got {_show(fmt)}",
            )
        )
    if "exportFileName" in channel:
        name = channel["exportFileName"]
        if not isinstance(name, str) or not name.strip():
            out.append(
                Problem(
                    f"{path}.exportFileName",
                    f"must be a non-empty text (or left out for {DEFAULT_EXPORT_FILE_NAME!r}), "
                    f"got {_show(name)}",
                )
            )
        elif _BAD_FILE_NAME.search(name) or len(name) > _MAX_FILE_NAME:
            out.append(
                Problem(
                    f"{path}.exportFileName",
                    f"must be a plain file name prefix of at most {_MAX_FILE_NAME} characters "
                    f"without / \\ or control characters, got {_show(name)}",
                )
            )
    if "eventTypes" in channel:
        _check_items(channel["eventTypes"], f"{path}.eventTypes", "eventType", EVENT_TYPES, out)
    if "mailingTypes" in channel:
        _check_items(
            channel["mailingTypes"], f"{path}.mailingTypes", "mailingType", MAILING_TYPES, out
        )
    if "columnNames" in channel:
        _check_columns(channel["columnNames"], f"{path}.columnNames", out)


def find_problems(payload: Any, *, for_update: bool = False) -> list[Problem]:
    """Check a wire payload against every documented rule and return all problems found.

    This is the one rule book: :meth:`JobDefinition.validate`, the client and the sandbox
    server all call it.

    Parameters
    ----------
    payload : Any
        The JSON body as decoded (normally a dict); any value is accepted and judged.
    for_update : bool, default False
        Check a PUT body: ``id`` is then required. On a create, ``id`` must be absent.

    Returns
    -------
    list of Problem
        Empty when the payload follows every rule; each problem names its wire path.

    Examples
    --------
    >>> body = {"channels": [{"jobFrequency": 5, "type": "Email"}],
    ...         "contactSourceId": "423251", "ftpUserId": "admin@example.com"}
    >>> [str(p) for p in find_problems(body)]
    ['channels[0].jobFrequency: must be one of 1, 2, 3, 4, 6, 8, 12, 24, got 5']
    """
    out: list[Problem] = []
    if not isinstance(payload, Mapping):
        return [Problem("(body)", f"must be a JSON object, got {_show(payload)}")]
    known = (*_TOP_KEYS, "id") if for_update else _TOP_KEYS
    _check_unknown({k: v for k, v in payload.items() if k != "id"}, known, "", out)
    if for_update:
        ident = payload.get("id")
        if "id" not in payload:
            out.append(Problem("id", "required for an update: the id create_job returned"))
        elif not (_is_int(ident) or (isinstance(ident, str) and ident.strip())):
            out.append(Problem("id", f"must be a job definition id, got {_show(ident)}"))
    elif "id" in payload:
        out.append(
            Problem(
                "id",
                "must not be set when creating; "
                "use update_job to change an existing job definition",
            )
        )
    channels = payload.get("channels")
    if "channels" not in payload:
        out.append(Problem("channels", 'required: a list with one {"type": "Email", ...} channel'))
    elif not isinstance(channels, list) or not channels:
        out.append(
            Problem(
                "channels", f"must be a non-empty list of channel objects, got {_show(channels)}"
            )
        )
    else:
        seen_types: dict[Any, int] = {}
        for i, channel in enumerate(channels):
            _check_channel(channel, f"channels[{i}]", out)
            kind = channel.get("type") if isinstance(channel, Mapping) else None
            if isinstance(kind, str) and kind in seen_types:
                out.append(
                    Problem(
                        f"channels[{i}].type",
                        f"duplicate channel {kind!r} (already at channels[{seen_types[kind]}])",
                    )
                )
            elif isinstance(kind, str):
                seen_types[kind] = i
    source = payload.get("contactSourceId")
    if _blank(source):
        out.append(Problem("contactSourceId", "required: the id of the database to export"))
    elif not (
        (_is_int(source) and source >= 0) or (isinstance(source, str) and _DIGITS.fullmatch(source))
    ):
        out.append(
            Problem(
                "contactSourceId",
                f"must be a numeric database id such as '423251', got {_show(source)}",
            )
        )
    user = payload.get("ftpUserId")
    if _blank(user):
        out.append(Problem("ftpUserId", "required: the Org Admin's login email"))
    elif not isinstance(user, str) or not _EMAIL.fullmatch(user):
        out.append(
            Problem(
                "ftpUserId", f"must be an email address (the Org Admin's login), got {_show(user)}"
            )
        )
    return out


# --- the model ---------------------------------------------------------------------------


@dataclass
class ColumnSpec:
    """One requested database column: its ``name`` and its ``order`` in the export.

    Examples
    --------
    >>> Channel(job_frequency=1, columns=[ColumnSpec("City", 0)]).to_dict()["columnNames"]
    [{'columnName': 'City', 'columnOrder': 0}]
    """

    name: str
    order: int

    def to_dict(self) -> dict[str, Any]:
        """The wire item ``{"columnName": ..., "columnOrder": ...}``."""
        return {"columnName": self.name, "columnOrder": self.order}


def _blank(value: Any) -> bool:
    """Absent, null or only whitespace: a required field the user has not filled in."""
    return value is None or (isinstance(value, str) and not value.strip())


def _item_value(item: Any, key: str) -> Any:
    """``{"eventType": "emailOpen"}`` -> ``"emailOpen"``; anything odd is kept as it is."""
    if isinstance(item, Mapping) and set(item) == {key}:
        return item[key]
    return item


def _item_wire(value: Any, key: str) -> Any:
    return {key: value} if isinstance(value, str) else value


def _column(item: Any, index: int) -> Any:
    if isinstance(item, ColumnSpec):
        return item
    if isinstance(item, str):
        return ColumnSpec(item, index)
    if isinstance(item, tuple) and len(item) == 2:
        return ColumnSpec(item[0], item[1])
    if (
        isinstance(item, Mapping)
        and set(item) == {"columnName", "columnOrder"}
        and isinstance(item["columnName"], str)
        and _is_int(item["columnOrder"])
    ):
        return ColumnSpec(item["columnName"], item["columnOrder"])
    return item  # kept as it is; the rules report it


@dataclass(repr=False)
class Channel:
    """One export channel of a job definition (BEX supports only ``"Email"``).

    Parameters
    ----------
    job_frequency : int
        Hours between exports, one of :data:`JOB_FREQUENCIES` (``jobFrequency``).
    type : str, default "Email"
        The channel type (``type``); ``"Email"`` is the only one.
    export_file_format : str, default "CSV"
        ``"CSV"``, ``"PSV"`` or ``"TSV"`` (``exportFileFormat``).
    export_file_name : str, optional
        File name prefix (``exportFileName``); None means the platform's default
        ``"Recipient Event Bulk Export_"``.
    event_types, mailing_types : list of str
        Events and mailing types to export; empty means all.
    columns : list of ColumnSpec, str or (name, order)
        Up to 5 database columns (``columnNames``); a bare name gets its list position as
        order.
    extras : dict
        Fields the model does not know, kept so a body round-trips.

    Examples
    --------
    >>> channel = Channel(job_frequency=6, export_file_format="PSV", event_types=["emailOpen"])
    >>> channel.to_dict()
    {'eventTypes': [{'eventType': 'emailOpen'}], 'exportFileFormat': 'PSV', 'jobFrequency': 6, \
'type': 'Email'}
    """

    job_frequency: int | None = None
    type: str = CHANNEL_TYPES[0]
    export_file_format: str = DEFAULT_FILE_FORMAT
    export_file_name: str | None = None
    event_types: list[str] = field(default_factory=list)
    mailing_types: list[str] = field(default_factory=list)
    columns: list[ColumnSpec] = field(default_factory=list)
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        # Enumerations are matched ignoring case and kept in the vendor's spelling.
        self.type = vendor_spelling(self.type, CHANNEL_TYPES)
        self.export_file_format = vendor_spelling(self.export_file_format, FILE_FORMATS)
        self.event_types = [
            vendor_spelling(_item_value(v, "eventType"), EVENT_TYPES) for v in self.event_types
        ]
        self.mailing_types = [
            vendor_spelling(_item_value(v, "mailingType"), MAILING_TYPES)
            for v in self.mailing_types
        ]
        self.columns = [_column(c, i) for i, c in enumerate(self.columns)]

    @property
    def file_name_prefix(self) -> str:
        """The prefix the platform will use: ``export_file_name`` or the documented default."""
        return self.export_file_name or DEFAULT_EXPORT_FILE_NAME

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> Channel:
        """Build a channel from its wire object (items may also be bare strings)."""
        if not isinstance(payload, Mapping):
            raise BexValidationError([f"channel: must be a JSON object, got {_show(payload)}"])
        known = {
            "jobFrequency": "job_frequency",
            "type": "type",
            "exportFileFormat": "export_file_format",
            "exportFileName": "export_file_name",
        }
        kwargs: dict[str, Any] = {
            py: payload[wire] for wire, py in known.items() if wire in payload
        }
        for wire, py in (
            ("eventTypes", "event_types"),
            ("mailingTypes", "mailing_types"),
            ("columnNames", "columns"),
        ):
            if wire in payload:
                value = payload[wire]
                if isinstance(value, list):
                    kwargs[py] = list(value)
                else:
                    kwargs.setdefault("extras", {})[wire] = value
        kwargs.setdefault("extras", {}).update(
            {k: v for k, v in payload.items() if k not in _CHANNEL_KEYS}
        )
        return cls(**kwargs)

    def to_dict(self) -> dict[str, Any]:
        """The wire object, keys in the order of the vendor's example."""
        out: dict[str, Any] = {}
        if self.event_types:
            out["eventTypes"] = [_item_wire(v, "eventType") for v in self.event_types]
        if self.columns:
            out["columnNames"] = [
                c.to_dict() if isinstance(c, ColumnSpec) else c for c in self.columns
            ]
        if self.mailing_types:
            out["mailingTypes"] = [_item_wire(v, "mailingType") for v in self.mailing_types]
        if self.export_file_name is not None:
            out["exportFileName"] = self.export_file_name
        out["exportFileFormat"] = self.export_file_format
        if self.job_frequency is not None:
            out["jobFrequency"] = self.job_frequency
        out["type"] = self.type
        out.update(self.extras)
        return out

    def __repr__(self) -> str:
        parts = [f"job_frequency={self.job_frequency!r}"]
        if self.type != CHANNEL_TYPES[0]:
            parts.append(f"type={self.type!r}")
        if self.export_file_format != DEFAULT_FILE_FORMAT:
            parts.append(f"export_file_format={self.export_file_format!r}")
        if self.export_file_name is not None:
            parts.append(f"export_file_name={self.export_file_name!r}")
        for name in ("event_types", "mailing_types", "columns", "extras"):
            value = getattr(self, name)
            if value:
                parts.append(f"{name}={value!r}")
        return f"Channel({', '.join(parts)})"


@dataclass(repr=False)
class JobDefinition:
    """A BEX job definition: which database to export, for whom, how often, and what.

    Parameters
    ----------
    contact_source_id : str
        The database id (``contactSourceId``), digits such as ``"423251"``.
    ftp_user_id : str
        The Org Admin's login email (``ftpUserId``); files land in that user's SFTP folder.
    channels : list of Channel
        The export channels; BEX has one, ``"Email"``.
    id : str, optional
        The job definition id, set for one read from the service and required to update.
    extras : dict
        Top-level fields the model does not know, kept so a body round-trips.

    Examples
    --------
    >>> job = JobDefinition(contact_source_id="423251", ftp_user_id="admin@example.com",
    ...                     channels=[Channel(job_frequency=24, event_types=["emailOpen"])])
    >>> job.to_dict()["channels"][0]  # doctest: +NORMALIZE_WHITESPACE
    {'eventTypes': [{'eventType': 'emailOpen'}], 'exportFileFormat': 'CSV',
     'jobFrequency': 24, 'type': 'Email'}
    >>> JobDefinition.from_dict(job.to_dict()) == job
    True
    """

    contact_source_id: str | None = None
    ftp_user_id: str | None = None
    channels: list[Channel] = field(default_factory=list)
    id: str | None = None
    extras: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.channels = [
            Channel.from_dict(c) if isinstance(c, Mapping) else c for c in self.channels
        ]

    @classmethod
    def from_dict(cls, payload: Mapping[str, Any]) -> JobDefinition:
        """Build a job definition from its wire JSON (what the API takes and answers).

        Raises
        ------
        BexValidationError
            When ``payload`` is not an object or ``channels`` is not a list of objects: the
            rest is judged later by :meth:`validate`.
        """
        if not isinstance(payload, Mapping):
            raise BexValidationError([f"(body): must be a JSON object, got {_show(payload)}"])
        channels = payload.get("channels", [])
        if not isinstance(channels, list) or not all(isinstance(c, Mapping) for c in channels):
            raise BexValidationError(
                [f"channels: must be a list of channel objects, got {_show(channels)}"]
            )
        known = (*_TOP_KEYS, "id")
        return cls(
            contact_source_id=payload.get("contactSourceId"),
            ftp_user_id=payload.get("ftpUserId"),
            channels=[Channel.from_dict(c) for c in channels],
            id=payload.get("id"),
            extras={k: v for k, v in payload.items() if k not in known},
        )

    def to_dict(self) -> dict[str, Any]:
        """The wire JSON, keys in the order of the vendor's example (``id`` after them)."""
        out: dict[str, Any] = {"channels": [c.to_dict() for c in self.channels]}
        if self.contact_source_id is not None:
            out["contactSourceId"] = self.contact_source_id
        if self.ftp_user_id is not None:
            out["ftpUserId"] = self.ftp_user_id
        if self.id is not None:
            out["id"] = self.id
        out.update(self.extras)
        return out

    def problems(self, *, for_update: bool = False) -> list[str]:
        """Every broken rule as ``"<wire path>: <what is wrong>"``; empty when valid."""
        return [str(p) for p in find_problems(self.to_dict(), for_update=for_update)]

    def validate(self, *, for_update: bool = False) -> JobDefinition:
        """Check every documented rule at once.

        Parameters
        ----------
        for_update : bool, default False
            Judge it as the body of an update (``id`` required) rather than a create
            (``id`` absent).

        Returns
        -------
        JobDefinition
            ``self``, so calls chain.

        Raises
        ------
        BexValidationError
            Listing every problem, each naming its wire path.
        """
        problems = self.problems(for_update=for_update)
        if problems:
            raise BexValidationError(problems)
        return self

    def __repr__(self) -> str:
        parts = []
        if self.id is not None:
            parts.append(f"id={self.id!r}")
        parts += [
            f"contact_source_id={self.contact_source_id!r}",
            f"ftp_user_id={self.ftp_user_id!r}",
            f"channels={self.channels!r}",
        ]
        if self.extras:
            parts.append(f"extras={self.extras!r}")
        return f"JobDefinition({', '.join(parts)})"

    def _repr_html_(self) -> str:
        esc = html.escape
        rows = [
            ("id", self.id if self.id is not None else "(not created yet)"),
            ("contactSourceId", self.contact_source_id),
            ("ftpUserId", self.ftp_user_id),
        ]
        for i, ch in enumerate(self.channels):
            p = f"channels[{i}]."
            columns = [
                f"{c.name} (#{c.order})" if isinstance(c, ColumnSpec) else str(c)
                for c in ch.columns
            ]
            rows += [
                (p + "type", ch.type),
                (p + "jobFrequency", f"every {ch.job_frequency} h"),
                (p + "exportFileFormat", ch.export_file_format),
                (p + "exportFileName", ch.file_name_prefix),
                (p + "eventTypes", ", ".join(map(str, ch.event_types)) or "all"),
                (p + "mailingTypes", ", ".join(map(str, ch.mailing_types)) or "all"),
                (p + "columnNames", ", ".join(columns) or "none"),
            ]
        cell = "style='text-align:left'"
        body = "".join(
            f"<tr><th {cell}>{esc(k)}</th><td {cell}>{esc(str(v))}</td></tr>" for k, v in rows
        )
        problems = self.problems(for_update=self.id is not None)
        note = ""
        if problems:
            items = "".join(f"<li>{esc(p)}</li>" for p in problems)
            note = f"<div style='color:#b00'>Not valid:<ul>{items}</ul></div>"
        return f"<div><b>BEX job definition</b><table>{body}</table>{note}</div>"
