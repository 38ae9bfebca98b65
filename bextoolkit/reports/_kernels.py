"""Integer keys behind every report: event codes, recipient codes, groups, distinct counts.

The reports never call ``groupby().nunique()`` on text: it is several times slower than
DuckDB on millions of rows. Instead every text key becomes dense integer codes once
(category codes, ``pd.factorize``, or the numbers themselves for ids written as whole
numbers), keys are combined into one ``int64`` by mixed radix, and a distinct count marks
those keys in a table of booleans when it is small enough, else sorts them and compares
each with its neighbour (``np.unique`` and hashing were 5-10x slower here).

The recipient
-------------
A recipient is ``RECIPIENT_ID``. Where it is missing, the row's ``Email`` (trimmed,
lower-cased) is looked up among the rows that carry both, and takes that recipient's
``RECIPIENT_ID`` when found; otherwise the email itself is the recipient (kept apart from
ids, so an email never collides with an id that happens to read the same). A row with
neither is an unknown recipient: it counts in gross counts, never in distinct counts.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.schema import EVENT_CODES, EVENT_TYPE_COLUMN

SEND, OPEN, CLICK, OPT_OUT, SUPPRESSED, BOUNCE, COMPLAINT = (EVENT_CODES.index(e) for e in (
    "emailSend", "emailOpen", "emailClick", "emailOptOut", "emailSuppressed", "emailBounce",
    schema.COMPLAINT,
))  # fmt: skip

#: Names a ``by=`` may use for a time bucket of the event's own ``timestamp``.
TIME_BUCKETS: Final = {"hour": "h", "day": "D", "week": "W-MON", "month": "MS"}

#: The ``by=`` name of the recipient's email domain (the part after ``@``, lower-cased).
DOMAIN: Final = "domain"

#: The int64 stand-in for a missing time (NaT) in the kernels' nanosecond arrays.
NAT: Final = np.iinfo(np.int64).min

#: Denominators a bounce rate may use: sends, or requests (sends or suppressions).
RATE_BASES: Final = ("sent", "requests")

By = str | pd.Grouper | Sequence[str | pd.Grouper] | None


def require_columns(events: pd.DataFrame, columns: Sequence[str], *, what: str) -> None:
    """Raise one error naming every column ``what`` needs that ``events`` lacks."""
    missing = [c for c in columns if c not in events.columns]
    if missing:
        raise BexConfigError(
            f"{what} needs the column(s) {', '.join(map(repr, missing))}, which the events "
            f"frame lacks (it has: {', '.join(map(str, events.columns[:30]))}). Load the "
            "frame with bextoolkit.read_events, or add the missing column(s)."
        )


def _categories_and_codes(values: pd.Series, *, sort: bool = False) -> tuple[pd.Index, np.ndarray]:
    """Distinct values and per-row codes (-1 = missing), reusing category codes for free.

    ``sort``: codes follow the values' sort order (only the categories are sorted).
    """
    if not isinstance(values.dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, sort=sort, use_na_sentinel=True)
        return pd.Index(uniques), codes.astype(np.int64, copy=False)
    categories, codes = values.cat.categories, values.cat.codes.to_numpy().astype(np.int64)
    if sort and not categories.is_monotonic_increasing:
        order = categories.argsort()
        rank = np.empty(len(order) + 1, np.int64)
        rank[order] = np.arange(len(order))
        rank[-1] = -1  # code -1, missing, stays missing
        categories, codes = categories.take(order), rank[codes]
    return categories, codes


def event_codes(events: pd.DataFrame) -> np.ndarray:
    """Per row, the index of ``eventType`` in :data:`schema.EVENT_CODES`, or -1 (int8).

    Matching trims and ignores case, so hand-built frames with ``"EmailOpen "`` still count.
    """
    require_columns(events, [EVENT_TYPE_COLUMN], what="counting events")
    uniques, codes = _categories_and_codes(events[EVENT_TYPE_COLUMN])
    canonical = {e.lower(): i for i, e in enumerate(EVENT_CODES)}
    lookup = np.array(
        [canonical.get(str(u).strip().lower(), -1) for u in uniques] + [-1], dtype=np.int8
    )
    return lookup[codes]


def seed_rows(events: pd.DataFrame) -> np.ndarray:
    """Rows of seed-list or inbox-monitoring recipients: an RRDE ``Recipient Type`` other
    than ``Normal`` (BEX files have no such column: no row is a seed)."""
    if schema.RECIPIENT_TYPE_COLUMN not in events.columns:
        return np.zeros(len(events), dtype=np.bool_)
    kind = events[schema.RECIPIENT_TYPE_COLUMN].astype("string").str.strip().str.lower()
    normal = schema.NORMAL_RECIPIENT_TYPE.lower()
    return (kind.notna() & (kind != normal)).to_numpy(dtype=np.bool_)


def leave_out_seeds(
    events: pd.DataFrame, ev: np.ndarray, excluded: dict[str, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``ev`` with the events of seed recipients made unknown (-1), and those rows; their
    count goes to ``excluded["seeds"]``."""
    seeds = seed_rows(events) & (ev >= 0)
    if seeds.any():
        ev = np.where(seeds, np.int8(-1), ev)
        excluded["seeds"] = int(seeds.sum())
    return ev, seeds


def is_hard_soft(events: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Boolean arrays: rows whose ``bounceType`` reads as hard, and as soft.

    Tolerant of spelling (see :func:`classify_bounce`). Missing column: all False.
    """
    n = len(events)
    if "bounceType" not in events.columns:
        return np.zeros(n, bool), np.zeros(n, bool)
    classes = bounce_classes(events["bounceType"])
    return (classes == "hard").to_numpy(bool), (classes == "soft").to_numpy(bool)


def classify_bounce(value: Any) -> Any:
    """``"hard"``, ``"soft"``, the trimmed value itself for anything else, NA when missing.

    "Hard", "HardBounce", "hard bounce", "HARD_BOUNCE" are all hard: the value contains
    "hard" (any case) and not "soft"; likewise soft.
    """
    if value is None or value is pd.NA or (isinstance(value, float) and np.isnan(value)):
        return pd.NA
    text = str(value).strip()
    lowered = text.lower()
    has_hard, has_soft = "hard" in lowered, "soft" in lowered
    if has_hard != has_soft:
        return "hard" if has_hard else "soft"
    return text or pd.NA


def bounce_classes(values: pd.Series) -> pd.Series:
    """:func:`classify_bounce` of every row as a category Series, computed once per value."""
    uniques, codes = _categories_and_codes(values)
    labels = pd.Series([classify_bounce(u) for u in uniques], dtype="string")
    label_codes, label_uniques = pd.factorize(labels, use_na_sentinel=True)
    lookup = np.append(label_codes.astype(np.int64), -1)
    categories = pd.Index(np.asarray(label_uniques, dtype=object))
    return pd.Series(
        pd.Categorical.from_codes(lookup[codes], categories=categories), index=values.index
    )


@dataclass(frozen=True)
class Recipients:
    """Per-row recipient codes (-1 = unknown) and the recipient each code stands for.

    Codes follow the ids' order (as numbers when they are numbers, else as text), then
    the e-mails' order.
    """

    codes: np.ndarray
    #: The distinct ``RECIPIENT_ID`` values (codes 0..): int64 numbers, or text.
    ids: np.ndarray | pd.Index
    #: The e-mails of recipients known by no id (the codes after the ids).
    emails: pd.Index = field(default_factory=lambda: pd.Index([], dtype=object))

    @property
    def n_ids(self) -> int:
        return len(self.ids)

    @property
    def size(self) -> int:
        return len(self.ids) + len(self.emails)

    @cached_property
    def labels(self) -> pd.Index:
        """The recipient of each code as text: the ids, then the e-mails (built on demand)."""
        ids = self.ids
        if isinstance(ids, np.ndarray):  # numbers: Arrow writes them as text quickly
            ids = pd.Index(pd.array(pa.array(ids).cast(pa.string()), dtype="str"))
        return ids.append(self.emails)


def recipients(events: pd.DataFrame, numbers: np.ndarray | None = None) -> Recipients:
    """Dense integer recipient codes: ``RECIPIENT_ID``, else ``Email`` (see module docs).

    ``numbers``: the ids as :func:`_whole_numbers` read them, when already read.
    """
    has_id, has_email = "RECIPIENT_ID" in events.columns, "Email" in events.columns
    if not (has_id or has_email):
        require_columns(events, ["RECIPIENT_ID", "Email"], what="identifying recipients")
    if has_id:
        ids, codes = _id_codes(events["RECIPIENT_ID"], numbers)
    else:
        ids, codes = pd.Index([], dtype=object), np.full(len(events), -1, dtype=np.int64)
    missing = codes < 0
    if not (has_email and missing.any()):
        return Recipients(codes=codes, ids=ids)
    emails, email_codes = _emails(events["Email"])
    # An email seen beside an id elsewhere takes that id.
    known = ~missing & (email_codes >= 0)
    email_to_id = np.full(len(emails), -1, dtype=np.int64)
    email_to_id[email_codes[known][::-1]] = codes[known][::-1]  # first occurrence wins
    fill = missing & (email_codes >= 0)
    mapped = email_to_id[email_codes[fill]]
    own = mapped < 0
    mapped[own] = len(ids) + email_codes[fill][own]
    codes = codes.copy()
    codes[fill] = mapped
    return Recipients(codes=codes, ids=ids, emails=pd.Index(emails.astype(object)))


def recipient_keys(events: pd.DataFrame) -> np.ndarray:
    """Per-row int64 keys, equal exactly for the same recipient (-1: unknown), to count
    distinct recipients: not dense like :func:`recipients` codes, so cheaper to build.

    When every row has a ``RECIPIENT_ID`` written as a whole number (no ``Email`` fallback)
    and the numbers lie close together, the keys are the numbers less the smallest; else
    the codes of :func:`recipients`.
    """
    has_id = "RECIPIENT_ID" in events.columns
    numbers = _whole_numbers(events["RECIPIENT_ID"]) if has_id else None
    if numbers is not None and len(numbers) and numbers.min() >= 0:
        low = int(numbers.min())
        if int(numbers.max()) - low <= max(4 * len(numbers), 1 << 20):
            return numbers - low
    return recipients(events, numbers).codes


def _id_codes(
    values: pd.Series, numbers: np.ndarray | None = None
) -> tuple[np.ndarray | pd.Index, np.ndarray]:
    """Distinct ``RECIPIENT_ID`` values and per-row codes (-1 = missing).

    Acoustic's ids are whole numbers ("100012406"): when every id is written as a positive
    number without a leading zero, the numbers are the keys, several times faster than
    hashing the text. Any other id: the text is factorized.
    """
    if numbers is None:
        numbers = _whole_numbers(values)
    if numbers is None:
        ids, codes = _categories_and_codes(values, sort=True)
        return pd.Index(ids.astype(object)), codes
    present = numbers >= 0
    if present.all():
        return dense_codes(numbers)
    distinct, ranks = dense_codes(numbers[present])
    codes = np.full(len(numbers), -1, np.int64)
    codes[present] = ranks
    return distinct, codes


def _whole_numbers(values: pd.Series) -> np.ndarray | None:
    """Arrow-backed text that is all whole numbers as int64 (missing: -1), else None.

    The two halves of the column are read on two threads (Arrow releases the GIL).
    """
    if not (isinstance(values.dtype, pd.StringDtype) and values.dtype.storage == "pyarrow"):
        return None
    text = pa.array(values.array)  # no copy: the Arrow data behind the column
    if text.null_count == len(text):
        return None
    middle = len(text) // 2
    with ThreadPoolExecutor(2) as pool:
        first, second = pool.map(_numbers, [text.slice(0, middle), text.slice(middle)])
    if first is None or second is None:
        return None
    return np.concatenate([first, second])


def _numbers(text: pa.ChunkedArray) -> np.ndarray | None:
    """Text as positive int64 numbers (missing: -1); None unless every value is written
    as one, without a leading zero (as numbers, "0", "-5", "007", "0x7" would collide)."""
    try:
        numbers = pc.cast(text, pa.int64())
    except pa.ArrowInvalid:  # not a number, or too large for int64
        return None
    low = pc.min(numbers).as_py()
    if (low is not None and low <= 0) or pc.any(pc.starts_with(text, "0")).as_py():
        return None
    return pc.fill_null(numbers, -1).to_numpy()


def _emails(values: pd.Series) -> tuple[pd.Index, np.ndarray]:
    """Trimmed, lower-cased distinct emails and per-row codes (-1 = missing or blank)."""
    uniques, codes = _categories_and_codes(values)
    cleaned = pd.Series(uniques.astype(object), dtype="string").str.strip().str.lower()
    cleaned = cleaned.mask(cleaned == "")
    new_codes, new_uniques = pd.factorize(cleaned, sort=True, use_na_sentinel=True)
    lookup = np.append(new_codes.astype(np.int64), -1)
    return pd.Index(new_uniques), lookup[codes]


def email_domains(events: pd.DataFrame) -> pd.Series:
    """The lower-cased part of ``Email`` after the last ``@`` (missing when none), as category."""
    require_columns(events, ["Email"], what=f"by={DOMAIN!r}")
    uniques, codes = _categories_and_codes(events["Email"])
    text = pc.utf8_lower(pc.utf8_trim_whitespace(pa.array(uniques.astype(object), pa.string())))
    found = pc.extract_regex(text, r"@(?P<domain>[^@]*)$").field("domain")
    domains = pd.Series(found.to_pandas(types_mapper=pd.ArrowDtype), dtype="string")
    domains = domains.mask(domains == "")
    cats = pd.Index(domains.dropna().unique())
    lookup = np.append(cats.get_indexer(domains.astype(object)), -1)
    return pd.Series(pd.Categorical.from_codes(lookup[codes], categories=cats), index=events.index)


def timestamps_ns(events: pd.DataFrame, *, required: bool = True) -> np.ndarray:
    """``timestamp`` as int64 nanoseconds since the epoch, UTC (naive taken as UTC); NaT = min.

    Without a ``timestamp`` column: an error, or all NaT when ``required=False``.
    """
    if not required and "timestamp" not in events.columns:
        return np.full(len(events), NAT, np.int64)
    require_columns(events, ["timestamp"], what="timing")
    ts = pd.to_datetime(events["timestamp"], utc=True)
    return ts.to_numpy(dtype="datetime64[ns]").view(np.int64)


# --- groups -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Groups:
    """Per-row dense group codes (0..n-1, sorted like the keys) and one row of keys per group."""

    codes: np.ndarray
    keys: pd.DataFrame
    is_time: bool

    @property
    def n(self) -> int:
        return len(self.keys)


def group_rows(events: pd.DataFrame, by: By) -> Groups:
    """Group the rows of ``events`` by ``by`` (see ``funnel`` for what ``by`` may be).

    Missing key values form their own group (sorted last), so no event is ever dropped.
    Only observed combinations of keys become groups. ``by=None`` is one group, always.
    """
    if by is None:
        return Groups(np.zeros(len(events), np.int64), pd.DataFrame(index=range(1)), False)
    items = [by] if isinstance(by, str | pd.Grouper) else list(by)
    names, columns, is_time = [], [], False
    for item in items:
        name, values, timed = _key_values(events, item)
        names.append(name)
        columns.append(values)
        is_time |= timed
    coded = [_sorted_codes(values) for values in columns]
    combined = coded[0][0]
    for codes, uniques in coded[1:]:
        combined = combined * max(len(uniques), 1) + codes
    uniques_per_key = [uniques for _, uniques in coded]
    present, dense = dense_codes(combined)
    keys = {}
    for name, uniques in zip(reversed(names), reversed(uniques_per_key), strict=True):
        radix = max(len(uniques), 1)
        keys[name] = pd.Index(uniques).take(present % radix)
        present = present // radix
    frame = pd.DataFrame({n: keys[n] for n in names})
    return Groups(dense, frame.reset_index(drop=True), is_time)


def _sorted_codes(values: pd.Series) -> tuple[np.ndarray, pd.Index]:
    """Each row's code and the value of each code; codes follow the values' sort order
    (an ordered category's own order), missing last."""
    dtype = values.dtype
    if not isinstance(dtype, pd.CategoricalDtype):
        codes, uniques = pd.factorize(values, sort=True, use_na_sentinel=False)
        return codes.astype(np.int64, copy=False), pd.Index(uniques)
    categories, codes = _categories_and_codes(values, sort=not dtype.ordered)
    n = len(categories)
    codes[codes < 0] = n  # missing: after every value
    dtype = pd.CategoricalDtype(categories, ordered=dtype.ordered)
    return codes, pd.Index(pd.Categorical.from_codes(np.append(np.arange(n), -1), dtype=dtype))


def take_rows(
    events: pd.DataFrame, rows: np.ndarray, columns: Sequence[str], by: By
) -> pd.DataFrame:
    """Rows ``rows`` of just the ``columns`` (those present) and the columns ``by`` reads.

    Copies only what a report reads, not the whole frame; ``Email`` only when ``by`` needs
    it or some ``RECIPIENT_ID`` is missing (the fallback).
    """
    wanted = list(columns)
    if "RECIPIENT_ID" in events.columns and not events["RECIPIENT_ID"].isna().any():
        wanted = [c for c in wanted if c != "Email"]
    items = [] if by is None else [by] if isinstance(by, str | pd.Grouper) else list(by)
    for item in items:
        if isinstance(item, pd.Grouper):
            wanted.append(item.key or "timestamp")
        elif item in events.columns:
            wanted.append(item)
        elif item in TIME_BUCKETS:
            wanted.append("timestamp")
        elif item == DOMAIN:
            wanted.append("Email")
    present = list(dict.fromkeys(c for c in wanted if c in events.columns))
    return events[present].iloc[rows]


def _key_values(events: pd.DataFrame, item: Hashable) -> tuple[str, pd.Series, bool]:
    if isinstance(item, pd.Grouper):
        key = item.key or "timestamp"
        freq = getattr(item, "freq", None)
        require_columns(events, [key], what="the time bucket")
        if freq is None:
            return key, events[key], False
        return key, time_bucket(events[key], freq), True
    if item in events.columns:
        return str(item), events[item], False
    if item in TIME_BUCKETS:
        require_columns(events, ["timestamp"], what=f"by={item!r}")
        return str(item), time_bucket(events["timestamp"], TIME_BUCKETS[str(item)]), True
    if item == DOMAIN:
        return DOMAIN, email_domains(events), False
    raise BexConfigError(
        f"by={item!r} is neither a column of the events frame nor one of "
        f"{sorted(TIME_BUCKETS)} or {DOMAIN!r}. Pass a column name (for example "
        "'messageId'), a list of them, a time bucket, or pd.Grouper(key='timestamp', freq='D')."
    )


def time_bucket(values: pd.Series, freq: Any) -> pd.Series:
    """The start of the calendar bucket of each timestamp, on the local wall clock.

    Fixed frequencies ("h", "15min", "D", "2D") floor. Calendar ones start each bucket on
    the offset's anchor on or before the day ("W-MON": the Monday, "MS": the 1st, "QS",
    "YS"); an end-anchored offset ("ME", "QE", "YE") closes its bucket on the anchor, so
    the bucket starts the day after the previous one (the month's, quarter's, year's
    first day). Buckets keep the timestamps' own time zone.

    Examples
    --------
    >>> ts = pd.Series(pd.to_datetime(["2026-01-07 10:00", "2026-02-28 23:00"]))
    >>> time_bucket(ts, "W-MON").dt.strftime("%a %d %b").tolist()
    ['Mon 05 Jan', 'Mon 23 Feb']
    >>> time_bucket(ts, "ME").dt.strftime("%d %b").tolist()
    ['01 Jan', '01 Feb']
    """
    ts = pd.to_datetime(values)
    tz = getattr(ts.dt, "tz", None)
    wall = ts.dt.tz_localize(None) if tz is not None else ts
    offset = pd.tseries.frequencies.to_offset(freq)
    if isinstance(offset, pd.offsets.Tick | pd.offsets.Day):
        bucket = wall.dt.floor(offset)
    else:
        day = wall.dt.floor("D")
        days = pd.DatetimeIndex(day.dropna().unique())
        if type(offset).__name__.endswith("End"):  # MonthEnd, QuarterEnd, YearEnd, ...
            one_day = pd.Timedelta(days=1)
            starts = [offset.rollback(d - one_day) + one_day for d in days]
        else:
            starts = [offset.rollback(d) for d in days]
        lookup = pd.DatetimeIndex([*starts, pd.NaT]).as_unit(day.dt.unit)  # -1 (NaT): NaT
        bucket = pd.Series(lookup[days.get_indexer(pd.Index(day))], index=day.index)
    bucket = pd.to_datetime(bucket)
    if tz is not None:
        bucket = bucket.dt.tz_localize(tz, ambiguous="NaT", nonexistent="shift_forward")
    return bucket


def dense_codes(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The sorted distinct values of non-negative int64 ``keys`` and each row's rank among them."""
    if len(keys) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    low = int(keys.min())  # ids often start far from 0: a table from the smallest on
    top = int(keys.max()) - low + 1
    if top <= max(4 * len(keys), 1 << 20):
        shifted = keys - low if low else keys
        seen = np.zeros(top, bool)
        seen[shifted] = True
        rank = np.cumsum(seen) - 1
        return np.flatnonzero(seen).astype(np.int64) + low, rank[shifted]
    codes, uniques = pd.factorize(keys, sort=True)
    return np.asarray(uniques, np.int64), codes.astype(np.int64)


# --- counting -----------------------------------------------------------------------------
def count_rows(groups: np.ndarray, n: int, where: np.ndarray | None = None) -> np.ndarray:
    """How many rows each group has (optionally only rows where ``where`` holds)."""
    selected = groups if where is None else groups[where]
    return np.bincount(selected, minlength=n).astype(np.int64)


def count_distinct(
    groups: np.ndarray, n: int, values: np.ndarray, where: np.ndarray | None = None
) -> np.ndarray:
    """Distinct non-negative ``values`` per group, by sorting combined int64 keys."""
    keep = values >= 0 if where is None else where & (values >= 0)
    if not keep.any():
        return np.zeros(n, np.int64)
    v = values[keep]
    width = int(v.max()) + 1
    fits = max(8 * len(v), 1 << 22)
    if n * width > fits and width <= fits:  # sparse keys (recipient_keys): make them dense
        v = dense_codes(v)[1]
        width = int(v.max()) + 1
    if n * width <= fits:  # a table of every (group, value): no sort
        seen = np.zeros(n * width, bool)
        seen[groups[keep] * width + v] = True
        return seen.reshape(n, width).sum(axis=1, dtype=np.int64)
    if n * width < 2**62:
        key = groups[keep].astype(np.int64, copy=False)  # one copy, then all in place
        key *= width
        key += v
        del v
        key.sort()
        first = np.empty(len(key), bool)
        first[0] = True
        np.not_equal(key[1:], key[:-1], out=first[1:])
        key = key[first]
        key //= width
        return np.bincount(key, minlength=n).astype(np.int64)
    g = groups[keep]
    pairs = pd.DataFrame({"g": g, "v": v}).drop_duplicates()
    return np.bincount(pairs["g"].to_numpy(), minlength=n).astype(np.int64)


def n_distinct(values: np.ndarray, where: np.ndarray | None = None) -> int:
    """How many distinct non-negative ``values`` there are (among rows ``where``)."""
    v = values if where is None else values[where]
    if len(v) == 0:
        return 0
    top = int(v.max()) + 1
    if top > max(8 * len(v), 1 << 22):
        return len(unique_sorted(v[v >= 0]))
    seen = np.zeros(top + 1, bool)  # the last slot takes -1, the unknown: not counted
    seen[v] = True
    return int(np.count_nonzero(seen[:-1]))


def unique_sorted(values: np.ndarray) -> np.ndarray:
    """The sorted distinct values of an int64 array (a sort, not ``np.unique``: faster here)."""
    s = np.sort(values)
    if len(s) == 0:
        return s
    first = np.empty(len(s), bool)
    first[0] = True
    np.not_equal(s[1:], s[:-1], out=first[1:])
    return s[first]


def is_member(values: np.ndarray, members: np.ndarray) -> np.ndarray:
    """Whether each of the int64 ``values`` is among the int64 ``members`` (in any order,
    repeats allowed); -1, a missing key, never is.

    A direct lookup table when the keys are small enough (sorting the members, or a random
    binary search over millions of rows, is cache-hostile: 10x slower here), else hashing.
    """
    members = members[members >= 0]
    if len(members) == 0 or len(values) == 0:
        return np.zeros(len(values), bool)
    top = int(max(members.max(), values.max())) + 1
    if values.min() >= -1 and top <= max(8 * len(values), 1 << 22):
        seen = np.zeros(top + 1, bool)  # the extra slot answers value -1: False
        seen[members] = True
        return seen[values]
    return pd.Index(pd.unique(members)).get_indexer(values) >= 0


def positions(values: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Index of each of ``values`` in the sorted distinct non-negative ``table``, -1 if absent."""
    top = int(max(table[-1], values.max())) + 1
    if table[0] >= 0 and values.min() >= -1 and top <= max(8 * len(values), 1 << 22):
        where = np.full(top + 1, -1, np.int64)  # the extra slot answers value -1
        where[table] = np.arange(len(table))
        return where[values]
    return pd.Index(table).get_indexer(values).astype(np.int64)


def pair_keys(mailing: np.ndarray, recipient: np.ndarray, width: int) -> np.ndarray:
    """One int64 per row for (mailing, recipient); -1 when either is missing."""
    key = mailing * max(width, 1) + recipient
    key[(mailing < 0) | (recipient < 0)] = -1
    return key


def first_times(
    keys: np.ndarray, ts: np.ndarray, where: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct ``keys`` among rows ``where`` (with a time) and each one's earliest time."""
    keep = where & (keys >= 0) & (ts != NAT)
    earliest = pd.Series(ts[keep]).groupby(keys[keep], sort=True).min()
    return earliest.index.to_numpy(np.int64), earliest.to_numpy(np.int64)


def lookup_times(table: tuple[np.ndarray, np.ndarray], keys: np.ndarray) -> np.ndarray:
    """The time of each ``keys`` in a :func:`first_times` table; NaT (int64 min) when absent."""
    known, times = table
    if len(known) == 0 or len(keys) == 0:
        return np.full(len(keys), NAT, np.int64)
    pos = positions(keys, known)
    return np.where(pos >= 0, times[pos], NAT)


def mailing_codes(events: pd.DataFrame) -> np.ndarray:
    """Per-row codes of ``messageId`` (-1 missing); all 0 when the column is absent."""
    if "messageId" not in events.columns:
        return np.zeros(len(events), np.int64)
    return _categories_and_codes(events["messageId"])[1]


def ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    """``numerator / denominator`` as float64, NaN where the denominator is 0."""
    num = np.asarray(numerator, dtype=np.float64)
    den = np.asarray(denominator, dtype=np.float64)
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


# --- the window of events -----------------------------------------------------------------
Moment = str | pd.Timestamp | dt.datetime | None


def _bound_ns(bound: Any, tz: Any, name: str) -> int:
    """``bound`` as int64 ns UTC; a naive value is read on the timestamps' own clock."""
    try:
        stamp = pd.Timestamp(bound)
    except (TypeError, ValueError) as exc:
        raise BexConfigError(
            f"{name}={bound!r} is not a moment; pass a date or time such as '2026-11-02' "
            "or '2026-11-02T08:00:00Z', or a pandas Timestamp."
        ) from exc
    if stamp is pd.NaT:
        raise BexConfigError(f"{name}={bound!r} is not a moment; pass a date such as '2026-11-02'.")
    if stamp.tzinfo is None:
        stamp = stamp.tz_localize(tz) if tz is not None else stamp.tz_localize("UTC")
    return int(stamp.as_unit("ns").value)


def bounds(events: pd.DataFrame, start: Moment, end: Moment) -> tuple[int, int]:
    """``[start, end)`` as int64 ns UTC (open ends as the int64 extremes)."""
    require_columns(events, ["timestamp"], what="start=/end=")
    tz = getattr(pd.to_datetime(events["timestamp"].iloc[:0]).dt, "tz", None)
    lo = _bound_ns(start, tz, "start") if start is not None else NAT + 1
    hi = _bound_ns(end, tz, "end") if end is not None else np.iinfo(np.int64).max
    return lo, hi


def window_mask(events: pd.DataFrame, start: Moment, end: Moment) -> np.ndarray | None:
    """Rows with ``start <= timestamp < end``; None when neither bound is given.

    Naive bounds are read on the timestamps' own clock (UTC for naive timestamps). Rows
    without a timestamp are outside every window.
    """
    if start is None and end is None:
        return None
    lo, hi = bounds(events, start, end)
    ts = timestamps_ns(events)
    return (ts >= lo) & (ts < hi)


def in_window(events: pd.DataFrame, start: Moment, end: Moment) -> pd.DataFrame:
    """The events with ``start <= timestamp < end`` (the frame itself when no bound is given).

    ``attrs["window"]`` of the result says the window and how many events it left out.
    """
    keep = window_mask(events, start, end)
    if keep is None:
        return events
    out = events[keep]
    out.attrs = {**events.attrs, "window": window_note(start, end, len(events) - len(out))}
    return out


def mailings_sent_in(events: pd.DataFrame, start: Moment, end: Moment) -> pd.DataFrame:
    """Every event of the mailings whose first send lies in ``[start, end)``.

    The funnel's window: a mailing sent inside it keeps its later opens and clicks, and
    its events before ``start``. Events without a ``messageId``, or of a mailing with no
    send in the frame, are kept when they lie in the window themselves. A frame without
    ``messageId`` is simply the window of events.
    """
    if start is None and end is None:
        return events
    if "messageId" not in events.columns:
        return in_window(events, start, end)
    lo, hi = bounds(events, start, end)
    ts = timestamps_ns(events)
    mail = mailing_codes(events)
    sends = (event_codes(events) == SEND) & (mail >= 0) & (ts != NAT)
    never = np.iinfo(np.int64).max
    first = np.full(int(mail.max(initial=-1)) + 2, never, np.int64)  # last slot: code -1
    order = np.argsort(ts[sends], kind="stable")[::-1]  # the earliest written last, wins
    first[mail[sends][order]] = ts[sends][order]
    chosen = (first >= lo) & (first < hi)
    unsent = first == never
    keep = chosen[mail] | (unsent[mail] & (ts >= lo) & (ts < hi))
    out = events[keep]
    note = window_note(start, end, len(events) - len(out), mailings=True)
    out.attrs = {**events.attrs, "window": note}
    return out


def window_note(start: Moment, end: Moment, left_out: int, *, mailings: bool = False) -> str:
    what = "mailings first sent" if mailings else "events"
    since = f"from {start}" if start is not None else "from the first"
    until = f"before {end}" if end is not None else "to the last"
    return f"{what} {since} {until}; {left_out:,} event(s) outside the window left out"
