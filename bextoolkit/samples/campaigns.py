"""A seeded synthetic e-mail campaign, written as BEX export files and RRDE zips.

:func:`generate_campaign` simulates a contact database and a few mailings and returns the
events in exactly the shape :func:`bextoolkit.read_events` produces (see "The events
frame" in the README). :func:`write_exports` writes any events frame as BEX would (one file
per frequency window), :func:`write_rrde` as an RRDE zip, :func:`write_campaign` streams
tens of millions of events to hourly files in time-ordered chunks, and
:func:`write_samples` rebuilds the committed ``data-samples/`` folder.

What the simulation does (all vectorised with numpy; no Python loop per event):

- Recipients: numeric-looking ``RECIPIENT_ID``, opaque ``ENCODED_RECIPIENT_ID`` and
  ``contactId``, e-mail addresses on webmail and corporate domains, database columns from
  :data:`DATABASE_COLUMNS`. About 1.2 % are on a suppression list: they get
  ``emailSuppressed`` instead of ``emailSend``.
- Mailings: the mailing type (one of ``schema.MAILING_TYPES``) is carried in the
  ``originatedFrom`` column (a guess: BEX documents no mailing-type column; read it back
  with :func:`mailing_type_of`). SendExperience and ABTest mailings go to 60-95 % of the
  database in a batch spread over 1-3 hours (``sendType`` "Scheduled"); Programs,
  AutoResponder and AMG mailings go to 4-12 %, one by one over the whole window
  (``sendType`` "Triggered").
- Of the sent: 2 % hard bounces within a minute, 1.5 % soft bounces after hours of retries
  (``bounceType`` "Hard"/"Soft"); the rest is delivered. About a quarter of delivered
  recipients open, some several times, seconds to days later; Apple Mail Privacy
  Protection opens (user agent ``Mozilla/5.0``) come within minutes of delivery. 3-5 %
  click, mostly after opening, over the mailing's links (``utm_*`` tagged); about 1 % of
  deliveries to corporate mailboxes meet a security scanner that follows every link within
  seconds of the send. About 0.3 % opt out. Text-only recipients (4 %) never open.
- No event precedes its send. Events after ``start + days`` are dropped, as an export
  covering that window would not hold them yet.
"""

from __future__ import annotations

import inspect
import logging
import posixpath
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples import _account as account
from bextoolkit.samples import _simulation as sim
from bextoolkit.samples._account import HOUR_ENGAGEMENT, TYPE_ENGAGEMENT
from bextoolkit.samples._data import PROVIDER_DOMAINS, PROVIDERS
from bextoolkit.samples._plants import (
    PLANTED_COLUMNS,
    ComplaintSurge,
    Plants,
    check_plants,
    empty_planted,
)
from bextoolkit.samples._readme import samples_readme
from bextoolkit.samples.delimited import TIMESTAMP_FORMATS, encode_rows, header_line, write_text

log = logging.getLogger(__name__)

__all__ = [
    "DATABASE_COLUMNS",
    "HOUR_ENGAGEMENT",
    "PLANTED_COLUMNS",
    "PROVIDERS",
    "PROVIDER_DOMAINS",
    "TYPE_ENGAGEMENT",
    "Campaign",
    "ComplaintSurge",
    "generate_campaign",
    "generate_events",
    "mailing_type_of",
    "write_campaign",
    "write_exports",
    "write_rrde",
    "write_samples",
]

#: Database columns the simulated contact database holds (ask for at most 5 of them).
DATABASE_COLUMNS = sim.pools.DATABASE_COLUMNS

#: Where the generator stores the mailing type (BEX documents no column for it).
MAILING_TYPE_COLUMN = sim.MAILING_TYPE_COLUMN

#: Kept for the sandbox, which writes single export files through it.
_write_text = write_text

_RRDE_NAMES = {
    ("emailSend", None): "Sent",
    ("emailOpen", None): "Open",
    ("emailClick", None): "Click Through",  # the real spelling (domain.md, section 6)
    ("emailOptOut", None): "Opt Out",
    ("emailSuppressed", None): "Suppressed",
    ("emailBounce", "Hard"): "Hard Bounce",
    ("emailBounce", "Soft"): "Soft Bounce",
    (schema.COMPLAINT, None): "Reply Abuse",  # RRDE's spam complaint
}
#: Event codes an RRDE carries but BEX does not export: write_exports leaves them out.
_NOT_IN_BEX = (schema.COMPLAINT, schema.REPLY)


@dataclass(frozen=True)
class Campaign:
    """A simulated campaign: the events and the tables they were drawn from.

    Attributes
    ----------
    events : pandas.DataFrame
        The events frame, as :func:`bextoolkit.read_events` returns it.
    mailings : pandas.DataFrame
        One row per mailing: ``messageId``, ``messageName``, ``subjectLine``,
        ``mailingTemplateId``, ``reportId``, ``sendType``, ``mailingType``,
        ``messageGroupId``, ``programId``, ``trackingCode``, ``send_start``, ``send_end``
        and ``links`` (a list of ``(urlDescription, clickUrl)``).
    recipients : pandas.DataFrame
        The simulated database: ids, ``Email``, ``domain``, ``provider`` (Google, Yahoo,
        Microsoft, Apple or other, from :data:`PROVIDER_DOMAINS`), ``suppressed`` (on the
        suppression list) and the database columns.
    planted : dict of str to pandas.DataFrame
        What the ``plant_*`` parameters of :func:`generate_campaign` put in, read from the
        final events; every key is always there, without rows when nothing was planted
        (columns in :data:`PLANTED_COLUMNS`):

        ``"mailed_after_opt_out"``
            One row per send to a planted person more than 3 days after their opt-out:
            ``messageId``, ``RECIPIENT_ID``, ``Email``, ``opted_out_at`` (their only
            opt-out), ``sent_at``, ``lag``; sorted by person and time.
        ``"mailed_after_hard_bounce"``
            The same after a hard bounce: ``bounced_at`` is their first hard bounce
            (later sends bounce hard too).
        ``"machine_opens_only"``
            One row per planted person whose every open is an Apple MPP open (user agent
            ``Mozilla/5.0``) and who never clicks: ``RECIPIENT_ID``, ``Email``,
            ``domain``, ``provider``, ``machine_opens``, ``sends``.
        ``"complaint_surge"``
            One row per week (Monday 00:00 UTC, as pandas' ``freq="W"``) from the surge
            on: ``provider``, ``week``, ``sends``, ``delivered`` (sends without a
            bounce), ``complaints`` (delivered sends with an ``emailComplaint``) and
            ``complaint_rate`` = complaints / delivered.
    """

    events: pd.DataFrame
    mailings: pd.DataFrame
    recipients: pd.DataFrame
    planted: dict[str, pd.DataFrame] = field(default_factory=empty_planted)


def generate_campaign(
    *,
    n_recipients: int = 1000,
    n_mailings: int = 4,
    start: str | pd.Timestamp = "2026-11-02T08:00:00Z",
    days: float = 1.0,
    seed: int = 0,
    database_columns: Sequence[str] | None = None,
    mailing_types: Sequence[str] | None = None,
    realistic: bool = False,
    complaint_rate: float | None = None,
    engagement_by_type: Mapping[str, float] | None = None,
    engagement_by_hour: Sequence[float] | None = None,
    plant_mailed_after_opt_out: int = 0,
    plant_mailed_after_hard_bounce: int = 0,
    plant_machine_opens_only: int = 0,
    plant_complaint_surge: ComplaintSurge | None = None,
) -> Campaign:
    """Simulate a contact database, a few mailings and every event they cause.

    By default (``realistic=False``) every mailing is drawn on its own, as the module
    docstring says: good for one day, but over many mailings the same people bounce
    and opt out again and again. ``realistic=True`` simulates an account: one list
    mailed for months, as Acoustic sends it.

    - **Suppression.** After a hard bounce or an opt-out a person gets no further send,
      and no event for it: Acoustic leaves opted-out and hard-bounced contacts out of a
      mailing's audience (domain.md sections 7 and 9), while ``emailSuppressed`` stays
      what it is in the default simulation, the sends held back for people on a
      suppression list (1.2 %). 1.5 % of addresses are invalid and bounce hard on their
      first send; others die at random (about 10 % a year). Soft bounces (1 % of sends)
      suppress nothing. A complaint suppresses nothing either (what Acoustic does with
      one is not documented).
    - **Daily programs.** Programs and AutoResponder mailings send every day of the
      window under one ``messageId``, each to 30 % of the database over the window,
      every person at most once (so a send is still one ``messageId`` x person).
    - **Repeated names.** ``messageName`` is the series name without a date: every
      third batch mailing is "Weekly Deals", the others one of 10 names at random; the two
      programs are "Welcome series #1" and "Cart reminder".
    - **Schedule.** Batch mailings (SendExperience, ABTest, AMG) start at a random hour
      between 06:00 and 20:00 UTC on a random day (in messageId order) and send for
      1-3 hours (AMG: half an hour to an hour, to 10-30 % of the list; the others to
      60-95 %). By default the first mailing is a Programs one, the second an
      AutoResponder, then SendExperience, SendExperience, ABTest, SendExperience, AMG
      in turn.
    - **Performance by type and hour.** A person's chance of a genuine open per
      delivered send is their engagement (0.48 x Beta(1.2, 1.4), mean 0.22) times
      ``engagement_by_type[mailing type]`` times ``engagement_by_hour[UTC hour of the
      send]``. The defaults, :data:`TYPE_ENGAGEMENT` (SendExperience 1.0, ABTest 1.15,
      AMG 0.75, Programs 1.4, AutoResponder 1.6) and :data:`HOUR_ENGAGEMENT` (1.3 at
      10:00 UTC, the true best hour; 1.26 at 09:00 and 11:00; 1.0 at 07:00 and 13:00;
      0.55 at night), never push a chance above 1, so the genuine open rates of two
      types or hours differ by exactly the ratio of their factors (up to chance). A
      genuine opener clicks with 16 % chance, anyone else with 0.5 % (text-only 3 %).
    - **Providers.** Addresses spread over Google (gmail.com, googlemail.com), Yahoo
      (yahoo.com, aol.com, ymail.com, yahoo.co.uk, rocketmail.com), Microsoft
      (outlook.com, hotmail.com, live.com, msn.com), Apple (icloud.com, me.com,
      mac.com), national webmails and corporate domains ("other").
    - **Machine opens.** Apple MPP users' devices open every delivered message within
      minutes (user agent ``Mozilla/5.0``, 60 % of sends); they open genuinely like
      anyone else. Genuine opens come 90 s or more after the send, clicks 60 s or more.
      Every person whose opens are all MPP opens is given one genuine open in a
      browser, so that "machine opens only" people are exactly the planted ones.
    - **Complaints** (``emailComplaint``): per mailbox provider and week of send,
      ``round(complaint_rate x delivered sends)`` delivered sends get one, hours later;
      with a rate up to 0.15 % no provider-week reaches 0.3 % (daily rates on small
      volumes can). :func:`write_exports` leaves them out (BEX has no complaint event);
      :func:`write_rrde` writes them as ``Reply Abuse``.

    Parameters
    ----------
    n_recipients : int
        Contacts in the simulated database (each mailing goes to a share of them).
    n_mailings : int
        Mailings sent within the window.
    start : str or pandas.Timestamp
        Start of the window (naive means UTC).
    days : float
        Length of the window; events after it are dropped.
    seed : int
        Seed of the random generator: the same arguments give the same events.
    database_columns : sequence of str, optional
        At most 5 names from :data:`DATABASE_COLUMNS`, added after the BEX columns.
    mailing_types : sequence of str, optional
        Mailing types (``schema.MAILING_TYPES``) cycled over the mailings; by default
        SendExperience, Programs, ABTest, AutoResponder, SendExperience, AMG (realistic:
        see above).
    realistic : bool
        Simulate an account as described above. Everything below needs it.
    complaint_rate : float, optional
        Complaints per delivered send; default 0.0005 (0.05 %) when realistic.
    engagement_by_type : mapping of str to float, optional
        Factors by mailing type, replacing those of :data:`TYPE_ENGAGEMENT` it names.
    engagement_by_hour : sequence of 24 floats, optional
        Factors by UTC hour of the send, instead of :data:`HOUR_ENGAGEMENT`.
    plant_mailed_after_opt_out : int
        People whose opt-out (on their first send) is honoured for 3 days and then lost,
        as after a re-import: every later send is in ``planted["mailed_after_opt_out"]``.
        They opt out once and never hard-bounce.
    plant_mailed_after_hard_bounce : int
        People whose address is dead from their first send on; the bounce is honoured for
        3 days, then every send goes out again (and bounces hard again).
    plant_machine_opens_only : int
        People (not text-only) whose only opens are Apple MPP opens (90 % of their
        delivered sends) and who never click, opt out or bounce hard.
    plant_complaint_surge : ComplaintSurge, optional
        A provider whose complaints rise to ``rate`` (default 0.6 %) of its delivered
        sends in every week from the Monday of ``since`` on.

    Returns
    -------
    Campaign
        ``events`` sorted by timestamp, plus the ``mailings``, ``recipients`` and
        ``planted`` tables.

    Raises
    ------
    BexConfigError
        On an unknown database column or mailing type, more than 5 columns, a
        realistic-only parameter without ``realistic=True``, a bad factor or plant, or a
        plant the account cannot carry (too few people mailed over more than 3 days).

    Examples
    --------
    >>> c = generate_campaign(n_recipients=50, n_mailings=2, seed=1)
    >>> list(c.mailings["mailingType"])
    ['SendExperience', 'Programs']
    >>> c.events["timestamp"].is_monotonic_increasing
    True
    >>> year = generate_campaign(n_recipients=300, n_mailings=60, days=90, realistic=True,
    ...                          plant_mailed_after_opt_out=2, seed=1)
    >>> year.planted["mailed_after_opt_out"]["RECIPIENT_ID"].nunique()
    2
    >>> int((year.mailings["messageName"] == "Weekly Deals").sum())  # 58 batch mailings
    20
    """
    columns = sim.check_database_columns(database_columns)
    if days <= 0:
        raise BexConfigError(f"days={days}: give a positive window length")
    plants = Plants(
        mailed_after_opt_out=plant_mailed_after_opt_out,
        mailed_after_hard_bounce=plant_mailed_after_hard_bounce,
        machine_opens_only=plant_machine_opens_only,
        complaint_surge=plant_complaint_surge,
    )
    if realistic:
        return _generate_account(
            n_recipients=n_recipients, n_mailings=n_mailings, start=start, days=days,
            seed=seed, columns=columns, mailing_types=mailing_types,
            complaint_rate=0.0005 if complaint_rate is None else complaint_rate,
            factors=account.check_factors(engagement_by_type, engagement_by_hour),
            plants=plants,
        )  # fmt: skip
    given = {
        "complaint_rate": complaint_rate,
        "engagement_by_type": engagement_by_type,
        "engagement_by_hour": engagement_by_hour,
        "plant_complaint_surge": plant_complaint_surge,
    }
    given = {k: v for k, v in given.items() if v is not None}
    given |= {f"plant_{k}": v for k, v in vars(plants).items() if v and k != "complaint_surge"}
    if given:
        raise BexConfigError(
            f"{', '.join(given)} need an account: pass realistic=True (the default "
            "simulation draws every mailing on its own, without suppression)"
        )
    types = sim.mailing_types_for(n_mailings, mailing_types)
    rng = np.random.default_rng(seed)
    start_ms = sim.to_epoch_ms(start)
    window_ms = int(days * 86_400_000)
    rcp = sim.make_recipients(int(n_recipients), rng, start_ms)
    id_base = int(rng.integers(10_000_000, 40_000_000))
    mailings = sim.plan_mailings(
        rng, types, first_index=0, start_ms=start_ms, window_ms=window_ms, id_base=id_base
    )
    ev = sim.simulate(rng, rcp, mailings)
    keep = np.flatnonzero(ev["t"] < start_ms + window_ms)
    ev = sim.select_events(ev, keep[np.argsort(ev["t"][keep], kind="stable")])
    events = sim.to_frame(ev, rcp, mailings, columns, first_event=0, id_key=seed + 17)
    log.info("generated %d events for %d mailings", len(events), len(mailings))
    return Campaign(
        events=events, mailings=sim.mailings_table(mailings), recipients=sim.recipients_table(rcp)
    )


def _generate_account(
    *,
    n_recipients: int,
    n_mailings: int,
    start: str | pd.Timestamp,
    days: float,
    seed: int,
    columns: list[str],
    mailing_types: Sequence[str] | None,
    complaint_rate: float,
    factors: tuple[dict[str, float], np.ndarray],
    plants: Plants,
) -> Campaign:
    """``generate_campaign(realistic=True)``: see there."""
    if not 0 <= complaint_rate <= 1:
        raise BexConfigError(f"complaint_rate={complaint_rate}: give a share from 0 to 1")
    check_plants(plants)
    types = account.account_types(n_mailings, mailing_types)
    rng = np.random.default_rng(seed)
    start_ms = sim.to_epoch_ms(start)
    end_ms = start_ms + int(days * 86_400_000)
    rcp = sim.make_recipients(int(n_recipients), rng, start_ms, sim.pools.ACCOUNT_DOMAINS)
    id_base = int(rng.integers(10_000_000, 40_000_000))
    mailings, ev, planted = account.simulate_account(
        rng, rcp, types, start_ms=start_ms, end_ms=end_ms, id_base=id_base, factors=factors,
        complaint_rate=complaint_rate, plants=plants,
    )  # fmt: skip
    events = sim.to_frame(ev, rcp, mailings, columns, first_event=0, id_key=seed + 17)
    log.info("generated %d events for %d mailings of an account", len(events), len(mailings))
    return Campaign(
        events=events,
        mailings=sim.mailings_table(mailings),
        recipients=sim.recipients_table(rcp),
        planted=planted,
    )


def generate_events(**options: Any) -> pd.DataFrame:
    """The events frame of :func:`generate_campaign` (the same keyword parameters), nothing else.

    Examples
    --------
    >>> events = generate_events(n_recipients=50, n_mailings=1, seed=3)
    >>> list(events.columns[-3:])
    ['externalSystemReferenceId', 'trackingCode', 'eventType']
    >>> events["eventId"].is_unique
    True
    """
    return generate_campaign(**options).events


generate_events.__signature__ = inspect.signature(generate_campaign).replace(  # type: ignore[attr-defined]
    return_annotation=pd.DataFrame
)


def mailing_type_of(events: pd.DataFrame, *, column: str = MAILING_TYPE_COLUMN) -> pd.Series:
    """The mailing type of each event, as the generator and the sandbox record it.

    BEX documents no mailing-type column; the generator writes the type
    (SendExperience, Programs, AMG, AutoResponder, ABTest) to ``originatedFrom``.

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame.
    column : str
        The column holding the type.

    Returns
    -------
    pandas.Series
        Named ``mailingType``, categorical over ``schema.MAILING_TYPES``; other values
        (and missing ones) are missing.

    Examples
    --------
    >>> frame = pd.DataFrame({"originatedFrom": ["ABTest", "web form", None]})
    >>> mailing_type_of(frame).tolist()
    ['ABTest', nan, nan]
    """
    if column not in events.columns:
        raise BexConfigError(
            f"events have no {column!r} column to read the mailing type from; "
            "pass column= naming the one that holds it"
        )
    values = events[column].astype("string").str.strip()
    values = values.where(values.isin(schema.MAILING_TYPES).fillna(False).to_numpy(dtype=bool))
    types = pd.Categorical(values, categories=pd.Index(schema.MAILING_TYPES, dtype="str"))
    return pd.Series(types, index=events.index, name="mailingType")


def _database_columns_of(events: pd.DataFrame, requested: Sequence[str] | None) -> list[str]:
    """The extra columns to write: as requested, or every non-BEX column of the frame."""
    if requested is None:
        known = set(schema.BEX_COLUMNS) | {schema.EVENT_TYPE_COLUMN}
        requested = [c for c in events.columns if c not in known]
    names = list(requested)
    missing = [c for c in names if c not in events.columns]
    if missing:
        raise BexConfigError(
            f"database_columns: {missing} not in the events frame; generate the events "
            f"with database_columns={names} or ask for fewer columns"
        )
    if len(names) > schema.MAX_DATABASE_COLUMNS:
        raise BexConfigError(
            f"database_columns: BEX exports at most {schema.MAX_DATABASE_COLUMNS} database "
            f"columns, got {len(names)}; pass database_columns= with 5 or fewer"
        )
    return names


def _event_codes(events: pd.DataFrame) -> pd.Series:
    column = schema.EVENT_TYPE_COLUMN if schema.EVENT_TYPE_COLUMN in events.columns else "code"
    if column not in events.columns:
        raise BexConfigError("events have neither an 'eventType' nor a 'code' column")
    return events[column].astype("string")


def _timestamp_ms(events: pd.DataFrame) -> np.ndarray:
    if "timestamp" not in events.columns:
        raise BexConfigError("events have no 'timestamp' column; BEX files need one")
    stamps = pd.to_datetime(events["timestamp"], utc=True)
    if stamps.isna().any():
        raise BexConfigError(
            f"{int(stamps.isna().sum())} events have no timestamp; drop or fill them first"
        )
    return stamps.dt.tz_localize(None).to_numpy("datetime64[ms]").astype(np.int64)


def _open_dest(dest: str, storage_options: Mapping[str, Any] | None) -> tuple[Any, str]:
    import fsspec

    fs, root = fsspec.core.url_to_fs(dest, **dict(storage_options or {}))
    fs.makedirs(root, exist_ok=True)
    return fs, root


def export_file_name(
    window_end: pd.Timestamp,
    *,
    file_format: str = schema.DEFAULT_FILE_FORMAT,
    frequency: int = 1,
    prefix: str = schema.DEFAULT_EXPORT_FILE_NAME,
    channel: str = "Email",
    compression: str | None = None,
) -> str:
    """The name the generator gives the export of the window ending at ``window_end``.

    Examples
    --------
    >>> export_file_name(pd.Timestamp("2026-11-01 01:00", tz="UTC"))
    'Recipient Event Bulk Export_Email_20261101010000_1.csv'
    """
    ext = schema.EXTENSIONS[file_format.upper()] + (".gz" if compression == "gzip" else "")
    return f"{prefix}{channel}_{window_end:%Y%m%d%H%M%S}_{frequency}{ext}"


def write_exports(
    events: pd.DataFrame,
    dest: str,
    *,
    file_format: str = schema.DEFAULT_FILE_FORMAT,
    frequency: int = 1,
    prefix: str = schema.DEFAULT_EXPORT_FILE_NAME,
    channel: str = "Email",
    compression: str | None = None,
    database_columns: Sequence[str] | None = None,
    event_types: Sequence[str] | None = None,
    storage_options: Mapping[str, Any] | None = None,
    timestamp_format: str = "iso",
) -> list[str]:
    """Write events as BEX does: one delimited file per ``frequency``-hour window.

    Windows are aligned on UTC midnight; a window without events gets no file. A file is
    named ``{prefix}{channel}_{window end, UTC, YYYYMMDDHHMMSS}_{frequency}{ext}[.gz]``,
    holds a header row (``schema.BEX_COLUMNS`` then the database columns) and one row per
    event, UTF-8, ``\\n`` line ends, fields quoted only where they hold the delimiter, a
    double quote or a line break (quotes doubled), as the :mod:`csv` module does. Missing
    values are empty cells.

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame (hand-made ones too: any text dtype, naive timestamps as UTC).
    dest : str
        A folder, local or any fsspec URL; created if needed.
    file_format : {"CSV", "PSV", "TSV"}
        Delimiter ``,``, ``|`` or tab.
    frequency : int
        Hours per file, one of ``schema.JOB_FREQUENCIES``.
    prefix, channel : str
        The start of the file name.
    compression : {None, "gzip"}
        Gzip each file (reproducibly: no time stamp in the gzip header).
    database_columns : sequence of str, optional
        Extra columns, in order; default every column of the frame that is neither a BEX
        column nor ``eventType``. At most 5.
    event_types : sequence of str, optional
        Keep only these event codes (``schema.EVENT_TYPES``); default all. Events BEX
        does not export, spam complaints (``emailComplaint``) and replies
        (``emailReply``), are always left out, and the log says how many (an RRDE
        carries them: :func:`write_rrde`).
    storage_options : mapping, optional
        Passed to fsspec.
    timestamp_format : {"iso", "us"}
        ``2026-11-02T08:00:03.123Z`` or ``11/02/2026 08:00:03`` (UTC, no zone).

    Returns
    -------
    list of str
        The files written, as ``dest`` joined with each name, in time order.

    Raises
    ------
    BexConfigError
        On an unknown format, frequency, compression, event type or timestamp format,
        missing or too many database columns, or events without a timestamp.
    """
    fmt = str(file_format).upper()
    if fmt not in schema.FILE_FORMATS:
        raise BexConfigError(f"file_format={file_format!r}: use one of {schema.FILE_FORMATS}")
    if frequency not in schema.JOB_FREQUENCIES:
        raise BexConfigError(f"frequency={frequency!r}: use one of {schema.JOB_FREQUENCIES}")
    if compression not in (None, "gzip"):
        raise BexConfigError(f"compression={compression!r}: use None or 'gzip'")
    if timestamp_format not in TIMESTAMP_FORMATS:
        raise BexConfigError(
            f"timestamp_format={timestamp_format!r}: use one of {TIMESTAMP_FORMATS}"
        )
    extra = _database_columns_of(events, database_columns)
    if event_types is not None:
        bad = [t for t in event_types if t not in schema.EVENT_TYPES]
        if bad:
            hint = (
                "; BEX exports no complaint or reply event (write_rrde writes them)"
                if set(bad) & set(_NOT_IN_BEX)
                else ""
            )
            raise BexConfigError(
                f"event_types: unknown {bad}; choose from {list(schema.EVENT_TYPES)}{hint}"
            )
        events = events[_event_codes(events).isin(list(event_types)).fillna(False).to_numpy()]
    events = _without_rrde_only_events(events)
    columns = [*schema.BEX_COLUMNS, *extra]
    if events.empty:
        return []

    ms = _timestamp_ms(events)
    window_ms = frequency * sim.MS_PER_HOUR
    window = ms // window_ms
    if not (np.diff(window) >= 0).all():
        order = np.argsort(window, kind="stable")
        events, window = events.iloc[order], window[order]
    cuts = np.flatnonzero(np.diff(window)) + 1
    bounds = zip(np.r_[0, cuts], np.r_[cuts, len(window)], strict=True)

    fs, root = _open_dest(dest, storage_options)
    written = []
    for begin, end in bounds:
        window_end = pd.Timestamp((int(window[begin]) + 1) * window_ms, unit="ms", tz="UTC")
        name = export_file_name(
            window_end, file_format=fmt, frequency=frequency, prefix=prefix,
            channel=channel, compression=compression,
        )  # fmt: skip
        write_text(
            fs, posixpath.join(root, name), events.iloc[begin:end], columns,
            delimiter=schema.DELIMITERS[fmt], timestamp_format=timestamp_format,
            gzipped=compression == "gzip",
        )  # fmt: skip
        written.append(f"{str(dest).rstrip('/')}/{name}")
    log.info("wrote %d events to %d %s files in %s", len(events), len(written), fmt, dest)
    return written


def _without_rrde_only_events(events: pd.DataFrame) -> pd.DataFrame:
    """The events without complaints and replies, which BEX has no event type for."""
    column = schema.EVENT_TYPE_COLUMN if schema.EVENT_TYPE_COLUMN in events.columns else "code"
    dtype = events[column].dtype if column in events.columns else None
    if isinstance(dtype, pd.CategoricalDtype) and not set(dtype.categories) & set(_NOT_IN_BEX):
        return events  # nothing to look for, row by row
    rrde_only = _event_codes(events).isin(_NOT_IN_BEX).fillna(False).to_numpy()
    if rrde_only.any():
        counts = _event_codes(events)[rrde_only].value_counts()
        log.info(
            "left out %s: BEX exports no such event (write_rrde writes them)",
            ", ".join(f"{n} {code} events" for code, n in counts.items()),
        )
        events = events[~rrde_only]
    return events


# --- RRDE -----------------------------------------------------------------------------------
def _rrde_event_types(events: pd.DataFrame) -> pd.Series:
    codes = _event_codes(events).fillna("")
    bounce = events["bounceType"] if "bounceType" in events.columns else None
    bounce = (
        bounce.astype("string").str.strip().str.lower().fillna("")
        if bounce is not None
        else pd.Series("", index=events.index)
    )
    kind = np.where(bounce.str.contains("soft").to_numpy(), "Soft", "Hard")
    keys = pd.Series(
        np.where(codes.to_numpy() == "emailBounce", "emailBounce|" + kind, codes.to_numpy()),
        index=events.index,
    )
    names = {f"{c}|{b}" if b else c: name for (c, b), name in _RRDE_NAMES.items()}
    mapped = keys.map(names).fillna(codes)  # anything else keeps its own value
    mapped = mapped.astype("string")
    return mapped.mask(mapped == "").astype("category")


def write_rrde(
    events: pd.DataFrame,
    path: str,
    *,
    storage_options: Mapping[str, Any] | None = None,
    database_columns: Sequence[str] | None = None,
    export_id: int = 1295,
) -> str:
    """Write events as a RawRecipientDataExport (RRDE) zip holding one CSV.

    The CSV has the RRDE header (``schema.RRDE_COLUMNS``, then the database columns),
    ``Event Type`` as Sent/Open/Click Through/Opt Out/Hard Bounce/Soft Bounce/Suppressed (and
    ``emailComplaint`` as Reply Abuse) and
    ``Event Timestamp`` as ``12/29/2024 00:00:03`` (UTC).

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame.
    path : str
        A ``.zip`` path, or a folder: then the zip is named like
        ``Raw Recipient Data Export Nov 02 2026 08-00-00 AM 1295.zip`` after the hour of
        the first event (the current time when there is none) and ``export_id``.
    storage_options : mapping, optional
        Passed to fsspec.
    database_columns : sequence of str, optional
        Extra columns; default every non-BEX column of the frame.
    export_id : int
        The number at the end of the name.

    Returns
    -------
    str
        The zip written.
    """
    extra = _database_columns_of(events, database_columns)
    ms = _timestamp_ms(events)
    if len(ms):
        first = pd.Timestamp(int(ms.min()), unit="ms", tz="UTC").floor("h")
    else:  # nothing to date the export by: it is made now
        first = pd.Timestamp.now(tz="UTC").floor("s")
    stem = f"Raw Recipient Data Export {first:%b %d %Y %I-%M-%S %p} {export_id}"

    def col(name: str) -> pd.Series | None:
        return events[name] if name in events.columns else None

    frame = pd.DataFrame(
        {
            "Recipient Id": col("RECIPIENT_ID"),
            "Recipient Type": pd.Categorical.from_codes(
                np.zeros(len(events), dtype=np.int8), categories=pd.Index(["Normal"])
            ),
            "Mailing Id": col("messageId"),
            "Report Id": col("reportId"),
            "Email": col("Email"),
            "Event Type": _rrde_event_types(events),
            "Event Timestamp": col("timestamp"),
            "Body Type": col("docType"),
            "Click Name": col("urlDescription"),
            "URL": col("clickUrl"),
            **{c: events[c] for c in extra},
        },
        index=events.index,
    )
    columns = [*schema.RRDE_COLUMNS, *extra]
    if str(path).lower().endswith(".zip"):
        import fsspec

        fs, target = fsspec.core.url_to_fs(str(path), **dict(storage_options or {}))
        fs.makedirs(posixpath.dirname(target), exist_ok=True)
        url = str(path)
    else:
        fs, root = _open_dest(str(path), storage_options)
        target, url = posixpath.join(root, stem + ".zip"), f"{str(path).rstrip('/')}/{stem}.zip"
    info = zipfile.ZipInfo(f"{stem}.csv", date_time=first.timetuple()[:6])
    info.compress_type = zipfile.ZIP_DEFLATED
    with (
        fs.open(target, "wb") as raw,
        zipfile.ZipFile(raw, "w") as zf,
        zf.open(info, "w", force_zip64=len(events) > 2_000_000) as out,
    ):
        out.write(header_line(columns, ","))
        for chunk in encode_rows(frame, columns, ",", "us"):
            out.write(chunk)
    log.info("wrote %d events to %s", len(events), url)
    return url


# --- long campaigns, written chunk by chunk ---------------------------------------------------
def write_campaign(
    dest: str,
    *,
    n_events: int,
    chunk_events: int = 1_000_000,
    n_recipients: int | None = None,
    mailings_per_day: int = 4,
    start: str | pd.Timestamp = "2026-11-02T00:00:00Z",
    seed: int = 0,
    database_columns: Sequence[str] | None = None,
    mailing_types: Sequence[str] | None = None,
    file_format: str = schema.DEFAULT_FILE_FORMAT,
    frequency: int = 1,
    prefix: str = schema.DEFAULT_EXPORT_FILE_NAME,
    channel: str = "Email",
    compression: str | None = None,
    timestamp_format: str = "iso",
    storage_options: Mapping[str, Any] | None = None,
) -> list[str]:
    """Write exactly ``n_events`` events of a long campaign to export files, day by day.

    One contact database receives ``mailings_per_day`` mailings every day from ``start``.
    Each day is simulated on its own; the events that fall before the last window
    boundary of the day are written (through :func:`write_exports`) and the later ones
    (late opens, soft bounces) are carried into the next day, so every file is written
    once, complete, and memory holds about one day. Writing stops at the ``n_events``-th
    event in time order (the last file is cut there, as a download in the middle of a
    window would be).

    Parameters
    ----------
    dest : str
        Folder or fsspec URL for the files.
    n_events : int
        Events to write in total.
    chunk_events : int
        About how many events a day should hold; sets the database size when
        ``n_recipients`` is not given (about ``chunk_events / 2.4`` contacts).
    n_recipients : int, optional
        Contacts in the database.
    mailings_per_day, start, seed, database_columns, mailing_types
        As for :func:`generate_campaign` (``mailing_types`` cycle within each day).
    file_format, frequency, prefix, channel, compression, timestamp_format, storage_options
        As for :func:`write_exports`.

    Returns
    -------
    list of str
        The files written, in time order.

    Examples
    --------
    >>> write_campaign("/tmp/bex", n_events=5_000_000)  # doctest: +SKIP
    """
    columns = sim.check_database_columns(database_columns)
    types = sim.mailing_types_for(mailings_per_day, mailing_types)
    if frequency not in schema.JOB_FREQUENCIES:
        raise BexConfigError(f"frequency={frequency!r}: use one of {schema.JOB_FREQUENCIES}")
    if n_recipients is None:
        per_day = sim.EVENTS_PER_RECIPIENT_DAY * max(len(types), 1) / 4
        n_recipients = max(100, int(chunk_events / per_day))
    rng = np.random.default_rng(seed)
    start_ms = sim.to_epoch_ms(start)
    rcp = sim.make_recipients(int(n_recipients), rng, start_ms)
    id_base = int(rng.integers(10_000_000, 40_000_000))
    window_ms = frequency * sim.MS_PER_HOUR
    day_ms = 86_400_000

    mailings: list[dict] = []
    carry = sim.empty_events()
    files: list[str] = []
    written = idle_days = day = 0
    while written < n_events:
        day_start = start_ms + day * day_ms
        todays = sim.plan_mailings(
            rng, types, first_index=len(mailings), start_ms=day_start, window_ms=day_ms,
            id_base=id_base,
        )  # fmt: skip
        link_base = sum(len(m["links"]) for m in mailings)
        new = sim.simulate(rng, rcp, todays, first_mail=len(mailings), link_base=link_base)
        mailings.extend(todays)
        pending = sim.concat_events(carry, new)
        pending = sim.select_events(pending, np.argsort(pending["t"], kind="stable"))
        boundary = day_start + day_ms
        boundary -= boundary % window_ms
        ready = int(np.searchsorted(pending["t"], boundary))
        ready = min(ready, n_events - written)
        carry = sim.select_events(pending, slice(ready, None))
        if ready:
            frame = sim.to_frame(
                sim.select_events(pending, slice(0, ready)), rcp, mailings, columns,
                first_event=written, id_key=seed + 17,
            )  # fmt: skip
            files += write_exports(
                frame, dest, file_format=file_format, frequency=frequency, prefix=prefix,
                channel=channel, compression=compression, database_columns=columns,
                storage_options=storage_options, timestamp_format=timestamp_format,
            )  # fmt: skip
            written += ready
            log.info("day %d: %d events written, %d in total", day, ready, written)
        idle_days = 0 if len(new["t"]) else idle_days + 1
        if idle_days >= 30:
            raise BexConfigError(
                f"n_recipients={n_recipients} yields no events; give more recipients"
            )
        day += 1
    return files


# --- the committed data-samples folder ----------------------------------------------------------
SAMPLE_COLUMNS = ("FirstName", "City", "Country", "LoyaltyTier", "SignupDate")
_SAMPLE_START = "2026-11-02T00:00:00Z"
_SAMPLE_FOLDERS = ("csv", "psv", "tsv-gz", "with-columns", "rrde")


def write_samples(dest: str, *, n_recipients: int = 1500, seed: int = 2026) -> list[str]:
    """Rebuild the ``data-samples`` set: one simulated day in every file shape.

    Writes ``csv/`` (hourly CSV), ``psv/`` (the same events, PSV), ``tsv-gz/`` (the same,
    gzipped TSV), ``with-columns/`` (the same events with 5 database columns, one daily
    CSV), ``rrde/`` (the same events as an RRDE zip) and ``README.md`` with the expected
    counts. Earlier export files in those folders are removed first.

    Parameters
    ----------
    dest : str
        The folder (local path).
    n_recipients : int
        Contacts in the simulated database.
    seed : int
        Seed of the simulation.

    Returns
    -------
    list of str
        Every file written.
    """
    import fsspec

    fs, root = fsspec.core.url_to_fs(dest)
    for folder in _SAMPLE_FOLDERS:
        pattern = posixpath.join(root, folder, "*")
        for old in fs.glob(pattern):
            name = posixpath.basename(old)
            if name.startswith((schema.DEFAULT_EXPORT_FILE_NAME, "Raw Recipient Data Export")):
                fs.rm(old)
    campaign = generate_campaign(
        n_recipients=n_recipients, n_mailings=4, start=_SAMPLE_START, days=1.0, seed=seed,
        database_columns=SAMPLE_COLUMNS,
    )  # fmt: skip
    events = campaign.events
    plain = events.drop(columns=list(SAMPLE_COLUMNS))
    base = str(dest).rstrip("/")
    files = write_exports(plain, f"{base}/csv")
    files += write_exports(plain, f"{base}/psv", file_format="PSV")
    files += write_exports(plain, f"{base}/tsv-gz", file_format="TSV", compression="gzip")
    files += write_exports(events, f"{base}/with-columns", frequency=24)
    files.append(write_rrde(events, f"{base}/rrde"))
    readme = f"{base}/README.md"
    with fsspec.open(readme, "w", encoding="utf-8", newline="\n") as out:
        out.write(
            samples_readme(
                campaign.events,
                campaign.mailings,
                files,
                base,
                n_recipients=n_recipients,
                seed=seed,
                sample_columns=SAMPLE_COLUMNS,
                folders=_SAMPLE_FOLDERS,
            )
        )
    return [*files, readme]
