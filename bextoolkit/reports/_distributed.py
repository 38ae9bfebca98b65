"""Reports computed where the data is: a Dask frame shuffled by recipient, partial sums.

Every event of a recipient is moved to one partition (:func:`by_recipient`), so every
send, with everything that followed it, lies in one partition, and each partition is a
pandas events frame the pandas reports run on unchanged (:func:`.sends.build`). Each
report then returns per partition only additive partial aggregates (counts per group;
distinct people per group are sums too, since each person lives in one partition); the
client adds them up and derives the rates. Only those aggregates travel to the client.

The recipient key is the one :func:`._kernels.recipients` uses: ``RECIPIENT_ID``, else
the trimmed, lower-cased ``Email``. A row with an ``Email`` but no id whose e-mail is
seen beside an id on another row belongs to that id (the first such row in frame order,
as pandas decides): the workers first list the e-mails of rows without an id (only those
come to the client; none in an export whose rows all carry ids), then the first id seen
beside each, and such rows travel to that id's partition. A row with neither belongs to
no one and goes anywhere. Rows keep the frame's order within each partition (a global
row number travels with them), so "first seen" values are pandas' own.

Time buckets and windows are exact: bounds are global values, buckets are computed per
send, and key categories are united across partitions before the partials are added.
"""

from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import ON_DASK, ROW
from bextoolkit.reports.bounces import bounce_breakdown
from bextoolkit.reports.clicks import (
    _first_clicks,
    _timing,
    check_top,
    in_order,
    link_cells,
)
from bextoolkit.reports.counts import _event_type_order, event_counts
from bextoolkit.reports.deliverability import (
    PROVIDER_COUNTS,
    mailed_after_hard_bounce,
    mailed_after_opt_out,
    provider_counts,
    provider_table,
)
from bextoolkit.reports.engagement import (
    _check_curve,
    _last_event,
    activity_heatmap,
    curve_counts,
    curve_extent,
    curve_of_counts,
    curve_steps,
    time_to_engage,
)
from bextoolkit.reports.funnel import _convention, funnel_counts, with_rates
from bextoolkit.reports.quality import clicked_links, flag_bot_clicks, flag_counts
from bextoolkit.reports.recipients import recipient_engagement
from bextoolkit.reports.segments import segments
from bextoolkit.reports.send_hours import engagement_hours, hour_counts, rates_by_hour
from bextoolkit.reports.sends import (
    MAILING_COLUMNS,
    SEND_COLUMNS,
    SEND_TIME_BUCKETS,
    _mailing_types,
    by_items,
    check_by,
    events_of_sends,
    notes_of,
    sends,
)
from bextoolkit.reports.urls import TRACKING_PARAMS

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd

log = logging.getLogger(__name__)

#: The recipient's hash (:data:`ROW`: the row's place in the frame before the shuffle).
_KEY: Final = "_bex_recipient"
_ROWS_PER_PARTITION: Final = 1 << 40
#: Partitions after the shuffle per partition before it: smaller pieces for the pandas
#: reports, whose working memory is several times the events'.
SPLIT: Final = 4


# --- the shuffle --------------------------------------------------------------------------
def by_recipient(frame: dd.DataFrame) -> dd.DataFrame:
    """``frame`` with every event of a recipient on one partition, rows in frame order.

    Every report on a Dask frame does this first. With ``clickUrl``, the clicks are
    flagged here (``bot_click``, ``bot_click_reason``: :func:`.quality.flag_bot_clicks`
    with each mailing's links counted over the whole frame, which no partition could do
    alone). The result is lazy; a frame it returned is returned as it is (it carries the
    column :data:`ROW`, the row's place in ``frame``), so shuffle once and ``persist()``
    to run many reports without shuffling again::

        events = by_recipient(events).persist()
        bex.funnel(events), bex.click_urls(events)  # no shuffle: the workers hold it

    Examples
    --------
    >>> import dask.dataframe as dd
    >>> import bextoolkit as bex
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "2", "1", "2"], "messageId": "m1",
    ...     "eventType": ["emailSend", "emailSend", "emailOpen", "emailOpen"],
    ...     "timestamp": pd.to_datetime(["2026-03-02 09:00"] * 4, utc=True)})
    >>> shuffled = by_recipient(dd.from_pandas(ev, npartitions=2, sort=False))
    >>> by_recipient(shuffled) is shuffled
    True
    >>> bex.funnel(shuffled)[["sent", "unique_opens"]]
       sent  unique_opens
    0     2             2
    """
    if ROW in frame.columns:  # shuffled already
        return frame
    numbered = frame.map_partitions(_number_rows, meta=frame._meta.assign(**{ROW: np.int64(0)}))
    if frame.npartitions == 1:  # every recipient already on the one partition
        return numbered
    aliases = email_aliases(numbered)
    keyed = numbered.map_partitions(
        _with_key, aliases, meta=numbered._meta.assign(**{_KEY: np.uint64(0)})
    )
    # Dask's P2P shuffle cannot unite category columns whose codes outgrow int8 (Arrow's
    # "These dictionaries cannot be combined"); the task shuffle unites them as pandas does.
    shuffled = keyed.shuffle(on=_KEY, npartitions=frame.npartitions * SPLIT, shuffle_method="tasks")
    ordered = shuffled.map_partitions(_in_order, meta=numbered._meta)
    if "clickUrl" not in frame.columns or "bot_click" in frame.columns:
        return ordered
    # The all-links bot rule counts each mailing's links over every recipient: count them
    # over the whole frame, then flag each partition's clicks with those counts.
    links = reduced(frame.to_delayed(), _report_task, _distinct, clicked_links, {})
    per_mailing = links.groupby("messageId").size().to_dict()
    meta = flag_bot_clicks(ordered._meta)
    return ordered.map_partitions(flag_bot_clicks, links_per_mailing=per_mailing, meta=meta)


def _distinct(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(parts, ignore_index=True).drop_duplicates()


def _number_rows(
    part: pd.DataFrame, partition_info: Mapping[str, Any] | None = None
) -> pd.DataFrame:
    number = 0 if partition_info is None else int(partition_info["number"])
    rows = np.arange(len(part), dtype=np.int64) + number * _ROWS_PER_PARTITION
    return part.assign(**{ROW: rows})


def _in_order(part: pd.DataFrame) -> pd.DataFrame:
    out = part.sort_values(ROW, kind="stable").drop(columns=[_KEY])
    return out.reset_index(drop=True)


def _clean_emails(part: pd.DataFrame) -> pd.Series:
    email = part["Email"].astype("string").str.strip().str.lower()
    return email.mask(email == "")


def _ids(part: pd.DataFrame) -> pd.Series:
    ids = part["RECIPIENT_ID"].astype("string")
    return ids.mask(ids == "")


def _lone_emails(part: pd.DataFrame) -> set[str]:
    """The e-mails of rows without a ``RECIPIENT_ID``."""
    email = _clean_emails(part)
    return set(email[_ids(part).isna() & email.notna()].unique())


def _first_ids(part: pd.DataFrame, emails: set[str]) -> pd.DataFrame:
    """Per e-mail of ``emails``, the first row carrying it beside an id: e-mail, id, row."""
    email, ids = _clean_emails(part), _ids(part)
    found = email.isin(emails) & ids.notna()
    pairs = pd.DataFrame({"email": email[found], "id": ids[found], "row": part.loc[found, ROW]})
    return pairs.drop_duplicates("email")


def email_aliases(frame: dd.DataFrame) -> dict[str, str]:
    """E-mail -> ``RECIPIENT_ID`` for rows with an e-mail but no id, where another row
    (the first in frame order) carries the e-mail beside an id; computed on the workers."""
    if not {"RECIPIENT_ID", "Email"} <= set(frame.columns):
        return {}
    import dask

    parts = frame[["RECIPIENT_ID", "Email", ROW]].to_delayed()
    lone = set().union(*dask.compute(*[dask.delayed(_lone_emails)(p) for p in parts]))
    if not lone:
        return {}
    log.info("%d e-mail(s) appear on rows without RECIPIENT_ID: looking up their ids", len(lone))
    found = dask.compute(*[dask.delayed(_first_ids)(p, lone) for p in parts])
    pairs = pd.concat(found).sort_values("row", kind="stable").drop_duplicates("email")
    return dict(zip(pairs["email"], pairs["id"], strict=True))


def _with_key(part: pd.DataFrame, aliases: Mapping[str, str]) -> pd.DataFrame:
    """Add the hash of each row's recipient (id, else e-mail mapped to its id, else e-mail;
    a row with neither: its own row number)."""
    key = pd.Series(pd.NA, index=part.index, dtype="string")
    if "RECIPIENT_ID" in part.columns:
        key = "i:" + _ids(part)
    if "Email" in part.columns:
        email = _clean_emails(part)
        lone = key.isna() & email.notna()
        if lone.any():
            mapped = email[lone].map(aliases).astype("string")
            key[lone] = ("i:" + mapped).fillna("e:" + email[lone])
    nobody = key.isna()
    if nobody.any():
        key[nobody] = "r:" + part.loc[nobody, ROW].astype("string")
    hashed = pd.util.hash_pandas_object(key, index=False).to_numpy(np.uint64)
    return part.assign(**{_KEY: hashed})


# --- running a report per partition -------------------------------------------------------
def per_partition(frame: dd.DataFrame, task: Callable[..., Any], *args: Any) -> list[Any]:
    """``task(partition, *args)`` on every partition on the workers; the results."""
    import dask

    return list(dask.compute(*[dask.delayed(task)(p, *args) for p in frame.to_delayed()]))


#: Partial results a worker combines into one, per step of :func:`reduced`'s tree.
FAN_IN: Final = 8


def reduced(
    parts: Sequence[Any], task: Callable[..., Any], combine: Callable[..., Any], *args: Any
) -> Any:
    """``task(part, *args)`` on every part (a partition's ``to_delayed()``, or any lazy
    value on the workers), then ``combine(results)`` on the workers, :data:`FAN_IN`
    results at a time, until one is left: only that one comes to the client, so its
    memory does not grow with the partitions. ``combine`` takes a list of results and
    returns one of the same shape (it runs at least once)."""
    import dask

    level = [dask.delayed(task)(p, *args) for p in parts]
    while True:
        level = [dask.delayed(combine)(level[i : i + FAN_IN]) for i in range(0, len(level), FAN_IN)]
        if len(level) == 1:
            return dask.compute(level[0])[0]


def added(parts: Sequence[tuple[pd.DataFrame, ...]], specs: Sequence[tuple]) -> tuple:
    """Partial results (tuples of frames) as one: frame ``i`` added up per group of its
    first ``specs[i][0]`` columns, ``specs[i][1]`` summed, ``specs[i][2]`` the least (a
    partial of the same columns); ``attrs`` united (:func:`add_attrs`)."""
    out = []
    for i, (n_keys, sums, *mins) in enumerate(specs):
        frames = [part[i] for part in parts]
        sample = next((f for f in frames if len(f)), frames[0])
        total, _ = add_up(frames, list(sample.columns[:n_keys]), sums, mins=mins[0] if mins else ())
        total.attrs = add_attrs(frames)
        out.append(total)
    return tuple(out)


def _plain(part: pd.DataFrame) -> pd.DataFrame:
    return part.drop(columns=[ROW]) if ROW in part.columns else part


def unite(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    """The partial frames as one. A category column keeps its categories where every
    partial has the same (a fixed order, such as the providers'), else takes the sorted
    union (as the pandas reader of a synced store gives them)."""
    from dask.dataframe.methods import concat

    # Empty partials (partitions without the report's rows) may type their columns
    # differently (object): they add nothing, so leave them out.
    frames = [p for p in parts if len(p) and len(p.columns)] or [
        p for p in parts[:1] if len(p.columns)
    ]
    out = concat(list(frames), ignore_index=True) if frames else pd.DataFrame()
    for name in out.columns:
        dtype = out[name].dtype
        if isinstance(dtype, pd.CategoricalDtype) and not dtype.ordered:
            if all(f[name].dtype == frames[0][name].dtype for f in frames):
                continue
            categories = out[name].cat.categories
            out[name] = out[name].cat.reorder_categories(categories.sort_values())
    return out


def add_up(
    parts: Sequence[pd.DataFrame],
    keys: Sequence[str],
    sums: Sequence[str],
    *,
    mins: Sequence[str] = (),
    maxs: Sequence[str] = (),
) -> tuple[pd.DataFrame, np.ndarray]:
    """One row per distinct ``keys`` (in pandas' group order, missing last): ``sums``
    added, ``mins`` / ``maxs`` the extremes. Also each input row's group."""
    frame = unite(parts)
    groups = k.group_rows(frame, list(keys) if keys else None)
    n = groups.n if keys else (1 if len(frame) else 0)
    out = groups.keys.copy() if keys else pd.DataFrame(index=range(n))
    for name in sums:
        values = frame[name].to_numpy(np.float64)
        out[name] = np.bincount(groups.codes, values, minlength=n).astype(np.int64)
    for name, how in [*((m, "min") for m in mins), *((m, "max") for m in maxs)]:
        extreme = frame[name].groupby(groups.codes).agg(how).reindex(range(n))
        out[name] = extreme.reset_index(drop=True)
    return out.reset_index(drop=True), groups.codes


#: The number a window note gives of what it left out.
_LEFT_OUT: Final = re.compile(r"([\d,]+) ((?:send|event)\(s\) outside)")
#: ``attrs`` entries that are counts: the partials' add up.
_COUNTED: Final = ("unattributed", "complaint_events")


def add_attrs(parts: Sequence[pd.DataFrame]) -> dict:
    """The ``attrs`` of the partials as one: counts added, notes and window said again."""
    out: dict[str, Any] = {}
    left_out = 0
    for part in parts:
        for name, value in part.attrs.items():
            key = str(name)
            if key in ("without_send", "excluded"):
                total = out.setdefault(key, {})
                for name, count in value.items():
                    total[name] = total.get(name, 0) + count
            elif key in _COUNTED:
                out[key] = out.get(key, 0) + value
            elif key == "window":
                found = _LEFT_OUT.search(value)
                left_out += int(found.group(1).replace(",", "")) if found else 0
                out.setdefault(key, value)
            else:
                out.setdefault(key, value)
    if "without_send" in out:
        out["notes"] = notes_of(out["without_send"])
    if "window" in out:
        out["window"] = _LEFT_OUT.sub(lambda m: f"{left_out:,} {m.group(2)}", out["window"])
    return out


# --- the reports --------------------------------------------------------------------------
def _funnel_task(
    part: pd.DataFrame, options: dict, kwargs: dict
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The partition's funnel counts, and the first name, subject and type of each of its
    mailings (with their row numbers)."""
    by = kwargs.get("by", "messageId")
    counts = funnel_counts(_plain(part), dict(options), **{**_FUNNEL_DEFAULTS, **kwargs, "by": by})
    firsts = _mailing_firsts(part) if "messageId" in by_items(by) else pd.DataFrame()
    return counts, firsts


def _funnel_columns(counts: pd.DataFrame, n_keys: int) -> tuple[list[str], ...]:
    """The keys, the mailing's descriptions, the sums and ``sent_at`` (a minimum)."""
    keys = list(counts.columns[:n_keys])
    described = [c for c in MAILING_COLUMNS if c in counts.columns and c not in keys]
    sums = [c for c in counts.columns[n_keys:] if c not in (*described, "sent_at")]
    return keys, described, sums, (["sent_at"] if "sent_at" in counts.columns else [])


def _funnel_parts(
    parts: Sequence[tuple[pd.DataFrame, pd.DataFrame]], n_keys: int
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Partial funnels as one of the same columns: counts added per group (descriptions
    left missing: they come from the firsts), each mailing's first descriptions kept."""
    counts = [c for c, _ in parts]
    sample = next((c for c in counts if len(c)), counts[0])
    keys, described, sums, mins = _funnel_columns(sample, n_keys)
    out, _ = add_up(counts, keys, sums, mins=mins)
    if mins:
        tz = getattr(sample["sent_at"].dt, "tz", None)
        out["sent_at"] = pd.DatetimeIndex(out["sent_at"]).as_unit("ns")
        if tz is not None and out["sent_at"].dt.tz is None:
            out["sent_at"] = out["sent_at"].dt.tz_localize("UTC").dt.tz_convert(tz)
    for name in described:
        out[name] = pd.Series(pd.NA, index=out.index).astype(sample[name].dtype)
    out = out[list(sample.columns)]
    out.attrs = add_attrs(counts)
    firsts = pd.concat([f for _, f in parts], ignore_index=True)
    if len(firsts):
        firsts = firsts.sort_values("row", kind="stable").drop_duplicates(["messageId", "column"])
    return out, firsts


_FUNNEL_DEFAULTS: Final = {
    "exclude": None,
    "diagnostics": False,
    "include_seeds": False,
    "start": None,
    "end": None,
    "providers": None,
}


def _mailing_firsts(part: pd.DataFrame) -> pd.DataFrame:
    """Per ``messageId``, the first value of each mailing column (with its row number)."""
    if "messageId" not in part.columns:
        return pd.DataFrame()
    out = []
    for name in MAILING_COLUMNS:
        if name in part.columns:
            values = part[name]
        elif name == "mailingType" and "originatedFrom" in part.columns:
            values = _mailing_types(part["originatedFrom"])
        else:
            continue
        seen = values.notna() & part["messageId"].notna()
        rows = pd.DataFrame({
            "messageId": part.loc[seen, "messageId"].astype("string"),
            "column": name,
            "value": values[seen].astype("string"),
            "row": part.loc[seen, ROW],
        })  # fmt: skip
        out.append(rows.drop_duplicates("messageId"))
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


def funnel_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.funnel` from partial counts per partition (see the module notes)."""
    names = ("convention", "click_implies_open", "click_to_open", "bounce_rate")
    option_args = {name: kwargs.pop(name, None) for name in names}
    options = _convention(option_args["convention"] or "acoustic", *[
        option_args[n] for n in names[1:]
    ])  # fmt: skip
    by = kwargs.get("by", "messageId")
    check_by(frame._meta, by)
    n_keys = len(by_items(by))
    combine = functools.partial(_funnel_parts, n_keys=n_keys)
    out, firsts = reduced(_parts(frame), _funnel_task, combine, options, kwargs)
    _, described, _, _ = _funnel_columns(out, n_keys)
    for name in described:
        values = _first_of_mailing(firsts, name, out["messageId"])
        out[name] = values.astype(out[name].dtype)
    return with_rates(out, options)


def _first_of_mailing(firsts: pd.DataFrame, name: str, mailings: pd.Series) -> pd.Series:
    if firsts.empty:
        return pd.Series(pd.NA, index=mailings.index, dtype="string")
    mine = firsts[firsts["column"] == name].sort_values("row", kind="stable")
    per_mailing = mine.drop_duplicates("messageId").set_index("messageId")["value"]
    return pd.Series(mailings.astype("string").map(per_mailing).to_numpy(), dtype="string")


def _bounce_task(
    part: pd.DataFrame, kwargs: dict, send_items: list
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The partition's bounce breakdown, and its sends and suppressions per send group."""
    part = _plain(part)
    sent = funnel_counts(
        part,
        _convention("acoustic", None, None, None),
        by=send_items or None,
        exclude=None,
        diagnostics=False,
        include_seeds=kwargs.get("include_seeds", False),
        start=kwargs.get("start"),
        end=kwargs.get("end"),
        providers=kwargs.get("providers"),
    )
    breakdown = bounce_breakdown(part, **kwargs)
    counts = breakdown.drop(columns=["share", "rate"])
    counts.attrs = breakdown.attrs
    return counts, sent[[*sent.columns[: len(send_items)], "sent", "suppressed"]]


def bounce_breakdown_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.bounce_breakdown` from partial counts per partition."""
    from bextoolkit.reports.bounces import _BOUNCE_ONLY_KEYS

    items = by_items(kwargs.get("by", "bounceType"))
    send_items = [i for i in items if not (isinstance(i, str) and i in _BOUNCE_ONLY_KEYS)]
    specs = [(len(items), ["bounces", "unique_recipients"]),
             (len(send_items), ["sent", "suppressed"])]  # fmt: skip
    combine = functools.partial(added, specs=specs)
    out, sent = reduced(_parts(frame), _bounce_task, combine, kwargs, send_items)
    keys, send_keys = list(out.columns[: len(items)]), list(sent.columns[: len(send_items)])
    bounces = out["bounces"].to_numpy()
    out["share"] = k.ratio(bounces, np.full(len(bounces), bounces.sum()))
    base = sent["sent"] + (sent["suppressed"] if kwargs.get("bounce_rate") == "requests" else 0)
    if send_keys:
        per_key = sent[send_keys].assign(base=base)
        matched = out[send_keys].merge(per_key, on=send_keys, how="left")["base"]
        denominator = matched.fillna(0).to_numpy(np.int64)
    else:
        denominator = np.full(len(out), int(base.sum()))
    out["rate"] = k.ratio(out["bounces"].to_numpy(), denominator)
    timed = _is_time(items)
    if not timed:
        out = out.iloc[np.argsort(-out["bounces"].to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    for column in keys:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].cat.remove_unused_categories()
    return out


def _is_time(items: Sequence[Any]) -> bool:
    return any(
        (isinstance(i, pd.Grouper) and getattr(i, "freq", None) is not None)
        or (isinstance(i, str) and i in SEND_TIME_BUCKETS)
        for i in items
    )


def event_counts_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.event_counts` from partial counts per partition."""
    n_keys = len(by_items(kwargs.get("by")))
    combine = functools.partial(added, specs=[(n_keys + 1, ["events", "unique_recipients"])])
    (out,) = reduced(_parts(frame), _one_report_task, combine, event_counts, kwargs)
    keys = list(out.columns[:n_keys])
    types = pd.Index(out["eventType"].astype(object).unique())
    rank = np.empty(len(types), np.int64)
    rank[_event_type_order(types)] = np.arange(len(types))
    type_rank = rank[types.get_indexer(out["eventType"].astype(object))]
    group = k.group_rows(out, keys).codes if keys else np.zeros(len(out), np.int64)
    out = out.iloc[np.lexsort((type_rank, group))].reset_index(drop=True)
    out["eventType"] = out["eventType"].astype("string")
    return out


def recipient_engagement_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.recipient_engagement`: partitions hold disjoint people, so their
    rows are concatenated (every person's row comes to the client: it is the answer)."""
    return _people(frame, recipient_engagement, kwargs)


def _people(frame: dd.DataFrame, report: Callable[..., pd.DataFrame], kwargs: dict) -> pd.DataFrame:
    """A report with one row per person, from every partition's people, in pandas' order:
    ids (as numbers when all are), then people known by e-mail only."""
    parts = per_partition(by_recipient(frame), _report_task, report, kwargs)
    out = unite(parts)
    ids = out["RECIPIENT_ID"]
    numbers = pd.to_numeric(ids, errors="coerce")
    numeric = bool(ids.dropna().str.fullmatch(r"[1-9]\d*").all())
    email = out["Email"].astype("string").str.strip().str.lower()
    order = pd.DataFrame({
        "known": ids.isna().to_numpy(),
        "id": (numbers if numeric else ids).to_numpy(),
        "email": email.to_numpy(),
    })  # fmt: skip
    rows = order.sort_values(["known", "id", "email"], kind="stable", na_position="last").index
    result = out.take(rows.to_numpy()).reset_index(drop=True)
    result.attrs = add_attrs(parts)
    return result


def _report_task(part: pd.DataFrame, report: Callable[..., Any], kwargs: dict) -> Any:
    return report(_plain(part), **kwargs)


def _one_report_task(part: pd.DataFrame, report: Callable[..., Any], kwargs: dict) -> tuple:
    return (_report_task(part, report, kwargs),)


def _parts(frame: dd.DataFrame) -> list[Any]:
    """The partitions of ``frame`` shuffled by recipient, as lazy values."""
    return list(by_recipient(frame).to_delayed())


def _sends_task(part: pd.DataFrame, kwargs: dict, meta: pd.DataFrame | None = None) -> pd.DataFrame:
    out = sends.__wrapped__(_plain(part), **kwargs)  # type: ignore[attr-defined]
    if meta is None or list(out.columns) == list(meta.columns):
        return out
    return out.reindex(columns=meta.columns).astype(meta.dtypes.to_dict())


def sends_on_dask(frame: dd.DataFrame, **kwargs: Any) -> dd.DataFrame:
    """:func:`bextoolkit.sends` as a Dask frame: each partition's sends (the sends of the
    recipients living there, sorted by mailing then recipient within it). Its ``attrs``
    are not kept: run a report for the counts of events without a send. ``mailingType``
    is a column whenever the events have ``mailingType`` or ``originatedFrom`` (pandas
    leaves it out when no value names a mailing type)."""
    shuffled = by_recipient(frame)
    meta = _sends_task(shuffled._meta, kwargs)
    if "mailingType" not in meta.columns and "originatedFrom" in frame.columns:
        position = sum(c in meta.columns for c in SEND_COLUMNS[: SEND_COLUMNS.index("mailingType")])
        meta.insert(position, "mailingType", pd.Series(dtype="string"))
    return shuffled.map_partitions(_sends_task, kwargs, meta, meta=meta)


#: The additive counts of a (group, link) cell.
_LINK_SUMS: Final = ["gross_clicks", "unique_clicks", "people", "unique_first_clicks"]


def _clicks_task(part: pd.DataFrame, options: dict) -> dict[str, Any]:
    """The partition's link cells (``table``: one row per group and link, additive
    counts) and what the rest needs: description counts and the mailings each link was
    clicked in (by row of ``table``: ``cell``), the delivered sends per group and
    mailing, the groups of sends, and each click's delay from its send beside its link."""
    part = _plain(part)
    cells = link_cells(part, **options)
    built, table = cells.built, cells.table
    ts = built.ts[cells.rows]
    _timing(table, ts, built.table["sent_at"], cells.send, cells.cell, len(table), built.tz)
    table["unique_first_clicks"] = _first_clicks(cells.send, ts, cells.cell, len(table))
    sent = built.table["sent_at"].to_numpy(dtype="datetime64[ns]").view(np.int64)[cells.send]
    valid = (ts != k.NAT) & (sent != k.NAT)
    links = _as_objects(table, _link_names(table, len(cells.groups.keys.columns)))
    delays = links.take(cells.cell[valid]).reset_index(drop=True)
    delays["delay"] = (ts - sent)[valid]
    described = pd.DataFrame(
        {"cell": cells.cell, "text": _column_at(part, "urlDescription", cells.rows)}
    )
    described = described.dropna().value_counts().rename("n").reset_index()
    mailing = _column_at(part, "messageId", built.send_row)
    clicked = pd.DataFrame({"cell": cells.cell, "_mailing": mailing.take(cells.send).to_numpy()})
    delivered = built.table["bounced"].cat.codes.to_numpy() == 0
    per_mailing = pd.DataFrame(
        {"group": cells.groups.codes[delivered], "_mailing": mailing[delivered].to_numpy()}
    )
    per_mailing = per_mailing.value_counts(dropna=False).rename("delivered").reset_index()
    keys = cells.groups.keys.take(per_mailing["group"].to_numpy()).reset_index(drop=True)
    per_mailing = pd.concat([keys, per_mailing[["_mailing", "delivered"]]], axis=1)
    table.attrs.update(built.attrs())
    return {
        "table": table.drop(columns=["median_time_to_click"]),
        "delays": delays,
        "described": described,
        "clicked": clicked.drop_duplicates(),
        "delivered": per_mailing,
        "groups": cells.groups.keys,
    }


def _link_names(table: pd.DataFrame, n_keys: int) -> list[str]:
    """The columns that name a cell: the group's keys, then ``clickUrl``."""
    return [*table.columns[:n_keys], "clickUrl"]


def _combined_clicks(parts: Sequence[dict[str, Any]], n_keys: int) -> dict[str, Any]:
    """Results of :func:`_clicks_task` (without their delays) as one of the same shape:
    the cells added up, the other parts' cells numbered as the new ``table``'s rows."""
    tables = [p["table"] for p in parts]
    names = _link_names(tables[0], n_keys)
    table, codes = add_up(tables, names, _LINK_SUMS, mins=["first_click"], maxs=["last_click"])
    table.attrs = add_attrs(tables)
    offsets = np.cumsum([0] + [len(t) for t in tables])

    def renumbered(name: str) -> pd.DataFrame:
        pieces = [p[name].assign(cell=codes[offsets[i] + p[name]["cell"].to_numpy(np.int64)])
                  for i, p in enumerate(parts)]  # fmt: skip
        return pd.concat(pieces, ignore_index=True)

    keys, groups = names[:-1], unite([p["groups"] for p in parts])
    return {
        "table": table,
        "described": renumbered("described").groupby(["cell", "text"])["n"].sum().reset_index(),
        "clicked": renumbered("clicked").drop_duplicates(),
        "delivered": add_up([p["delivered"] for p in parts], [*keys, "_mailing"], ["delivered"])[0],
        "groups": k.group_rows(groups, keys).keys if keys else groups,
    }


def _column_at(part: pd.DataFrame, name: str, rows: np.ndarray) -> pd.Series:
    """``name`` at ``rows`` as text (missing everywhere without the column)."""
    if name not in part.columns:
        return pd.Series(pd.NA, index=range(len(rows)), dtype="string")
    return pd.Series(part[name].array.take(rows, allow_fill=True)).astype("string")


def click_urls_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.click_urls` from partial counts per partition, added up on the
    workers (:func:`reduced`). The median time to click is not additive: each click's
    delay from its send stays on the workers (the partitions' results are persisted
    there), is shuffled by link and the medians come back, one per link."""
    top = kwargs.pop("top", None)
    check_top(top)
    options = {
        "normalize": kwargs.get("normalize", True), "by": kwargs.get("by"),
        "tracking_params": kwargs.get("tracking_params", TRACKING_PARAMS),
        "exclude": kwargs.get("exclude"), "include_seeds": kwargs.get("include_seeds", False),
        "start": kwargs.get("start"), "end": kwargs.get("end"),
    }  # fmt: skip
    check_by(frame._meta, options["by"])
    import dask

    parts = by_recipient(frame).to_delayed()
    kept = dask.persist(*[dask.delayed(_clicks_task)(p, options) for p in parts])
    n_keys = len(by_items(options["by"]))
    combine = functools.partial(_combined_clicks, n_keys=n_keys)
    total = reduced(kept, _without_delays, combine)
    out = total["table"]
    keys, n = list(out.columns[:n_keys]), len(out)
    ranked = total["described"].sort_values(["cell", "n", "text"], ascending=[True, False, True])
    best = ranked.drop_duplicates("cell").set_index("cell")["text"]
    group, n_groups = np.zeros(n, np.int64), 1
    if keys:  # every group of sends, with links or not (attrs["links"] counts per group)
        every = k.group_rows(unite([total["groups"], out[keys]]), keys)
        group, n_groups = every.codes[len(every.codes) - n :], every.n
    gross = out["gross_clicks"].to_numpy()
    result = out[[*keys, "clickUrl"]].copy()
    result["clickUrl"] = result["clickUrl"].astype("string")
    result["urlDescription"] = pd.Series(best.reindex(range(n)).to_numpy(), dtype="string")
    for name in ("gross_clicks", "unique_clicks", "people"):
        result[name] = out[name]
    result["click_share"] = k.ratio(gross, np.bincount(group, gross, minlength=n_groups)[group])
    delivered = _delivered_where_clicked_on_dask(total, keys)
    result["unique_click_rate"] = k.ratio(out["unique_clicks"].to_numpy(), delivered)
    for name in ("first_click", "last_click"):
        result[name] = out[name]
    result["median_time_to_click"] = _median_delays(kept, out, n_keys)
    result["unique_first_clicks"] = out["unique_first_clicks"]
    return in_order(
        result, group, n_groups, top=top, by=options["by"], attrs=out.attrs,
        normalize=options["normalize"], tracking_params=options["tracking_params"],
    )  # fmt: skip


def _without_delays(result: dict[str, Any]) -> dict[str, Any]:
    return {name: value for name, value in result.items() if name != "delays"}


def _delays(result: dict[str, Any]) -> pd.DataFrame:
    return result["delays"]


def _median_delays(kept: Sequence[Any], links: pd.DataFrame, n_keys: int) -> np.ndarray:
    """The median delay of each of ``links`` (rows of the added-up link table) over the
    persisted partition results ``kept``: their delays are shuffled by link on the
    workers, and one median per link comes back."""
    import dask
    import dask.dataframe as dd

    names = _link_names(links, n_keys)
    named = _as_objects(links, names)
    meta = named.iloc[:0].assign(delay=np.int64(0))
    delays = dd.from_delayed([dask.delayed(_delays)(r) for r in kept], meta=meta, verify_meta=False)
    if delays.npartitions > 1:
        delays = delays.shuffle(on=names)
    median_meta = named.iloc[:0].assign(delay=pd.Series(dtype="m8[ns]"))
    medians = delays.map_partitions(_median_per_link, names, meta=median_meta).compute()
    found = named.merge(medians, on=names, how="left")["delay"]
    return pd.to_timedelta(found).to_numpy()


def _median_per_link(delays: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """The median delay of each link: every delay of a link is in this partition."""
    values = pd.Series(delays["delay"].to_numpy().view("m8[ns]"), name="delay")
    keys = [delays[name].to_numpy() for name in names]
    medians = values.groupby(keys, dropna=False, sort=False).median()
    return medians.rename_axis(names).reset_index()


def _delivered_where_clicked_on_dask(total: dict[str, Any], keys: list[str]) -> np.ndarray:
    """Per cell of the added-up ``total``, the delivered sends of its group's mailings in
    which its link was clicked."""
    out, pairs, per_mailing = total["table"], total["clicked"], total["delivered"]
    wanted = out[keys].take(pairs["cell"].to_numpy()).reset_index(drop=True)
    wanted["_mailing"] = pairs["_mailing"].to_numpy()
    names = [*keys, "_mailing"]
    left, right = _as_objects(wanted, names), _as_objects(per_mailing, names)
    matched = left.merge(right.assign(_n=per_mailing["delivered"]), on=names, how="left")["_n"]
    weights = matched.fillna(0).to_numpy(np.float64)
    return np.bincount(pairs["cell"].to_numpy(), weights, minlength=len(out)).astype(np.int64)


def _as_objects(frame: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``names`` of ``frame``, categories and mailings as plain objects (missing: None),
    so frames whose categories differ match and hash alike."""
    out = frame[names].copy()
    for name in names:
        if isinstance(out[name].dtype, pd.CategoricalDtype) or name == "_mailing":
            out[name] = out[name].astype(object).where(out[name].notna(), None)
    return out


# --- the mailbox-provider checks, send hours and engagement in time ----------------------
def deliverability_on_dask(
    frame: dd.DataFrame, *, freq: str = "W", tz: str | None = None, **options: Any
) -> pd.DataFrame:
    """:func:`bextoolkit.deliverability` from the counts per period, provider and day."""
    combine = functools.partial(added, specs=[(2, PROVIDER_COUNTS), (3, ["sends"])])
    options = {"freq": freq, "tz": tz, **options}
    counts, per_day = reduced(_parts(frame), _report_task, combine, provider_counts, options)
    return provider_table(counts, per_day)


def send_hours_on_dask(
    frame: dd.DataFrame, *, confidence: float = 0.95, **options: Any
) -> pd.DataFrame:
    """:func:`bextoolkit.send_hours` from the counts per hour of send."""
    options = {"tz": None, "exclude": True, **options}
    combine = functools.partial(added, specs=[(1, ["sends", "delivered", "opened", "clicked"])])
    (counts,) = reduced(_parts(frame), _one_report_task, combine, hour_counts, options)
    return rates_by_hour(counts, confidence)


def _offending_sends(report: Callable[..., pd.DataFrame]) -> Callable[..., pd.DataFrame]:
    """:func:`bextoolkit.mailed_after_opt_out` (or ``_hard_bounce``): every partition's
    offending sends (a person's sends and opt-outs share a partition), in send order."""

    def on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
        parts = per_partition(by_recipient(frame), _report_task, report, kwargs)
        out = unite(parts).sort_values(["sent_at", "RECIPIENT_ID"], kind="stable")
        out = out.reset_index(drop=True)
        out.attrs = add_attrs(parts)
        return out

    return on_dask


def segments_on_dask(frame: dd.DataFrame, *, now: Any = None, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.segments`: each partition's people, ``now`` the latest event of
    the whole frame (found first, on the workers, without a shuffle)."""
    if now is None:
        latest = max(per_partition(frame, _report_task, _last_event, {}), default=k.NAT)
        now = None if latest == k.NAT else pd.Timestamp(latest, unit="ns", tz="UTC")
    return _people(frame, segments, {"now": now, **kwargs})


def engagement_hours_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.reports.engagement_hours`: each partition's people."""
    return _people(frame, engagement_hours, kwargs)


def activity_heatmap_on_dask(frame: dd.DataFrame, **kwargs: Any) -> pd.DataFrame:
    """:func:`bextoolkit.activity_heatmap`: the partitions' 7 x 24 counts added (distinct
    people too, with ``unique=True``: each person lives in one partition)."""
    return reduced(_parts(frame), _report_task, _summed, activity_heatmap, kwargs)


def _summed(parts: Sequence[pd.DataFrame]) -> pd.DataFrame:
    return sum(parts[1:], parts[0])


def flag_counts_on_dask(frame: dd.DataFrame) -> pd.DataFrame:
    """:func:`bextoolkit.reports.flag_counts`: the partitions' counts added."""
    combine = functools.partial(added, specs=[(2, ["events"])])
    (out,) = reduced(_parts(frame), _one_report_task, combine, flag_counts, {})
    out["eventType"] = out["eventType"].astype("string")
    out["reason"] = out["reason"].astype("string")
    return out


def engagement_curve_on_dask(
    frame: dd.DataFrame,
    *,
    event: Any = "emailOpen",
    by: str | None = None,
    step: Any = "1h",
    until: Any = None,
    start: Any = None,
    end: Any = None,
) -> pd.DataFrame:
    """:func:`bextoolkit.engagement_curve`: each partition's delays to engage (one per
    delivered send) stay on the workers; the grid's extent comes to the client, then the
    counts per grid point."""
    import dask

    step_ns = _check_curve(frame._meta, by, step)
    parts = by_recipient(frame).to_delayed()
    inputs = dask.persist(*[dask.delayed(_curve_inputs)(p, event, start, end) for p in parts])
    extents = dask.compute(*[dask.delayed(_extent)(i) for i in inputs])
    longest = max(e[0] for e in extents)
    first = min((e[1] for e in extents if e[1] != k.NAT), default=k.NAT)
    last = max(e[2] for e in extents)
    steps = curve_steps(step, until, longest, first, last)
    n_keys = 1 if by is None else 2
    combine = functools.partial(added, specs=[(n_keys, ["newly_engaged", "watched"])])
    (counts,) = reduced(inputs, _curve_part, combine, last, step_ns, steps, by)
    out = curve_of_counts(counts, step_ns, steps, by)
    attrs = counts.attrs
    horizon = max(last - first, 0) if first != k.NAT else 0
    out.attrs = {"event": event, "horizon": pd.Timedelta(horizon)}
    if "window" in attrs:
        out.attrs["window"] = attrs["window"]
    return out


def _curve_inputs(part: pd.DataFrame, event: Any, start: Any, end: Any) -> tuple:
    """The partition's delays to engage, its last event and its window note."""
    events = k.in_window(_plain(part), start, end)
    return time_to_engage(events, event=event), _last_event(events), events.attrs


def _extent(inputs: tuple) -> tuple[int, int, int]:
    delays, last, _ = inputs
    return curve_extent(delays, last)


def _curve_part(
    inputs: tuple, last: int, step_ns: int, steps: int, by: str | None
) -> tuple[pd.DataFrame]:
    delays, _, attrs = inputs
    out = curve_counts(delays, last, step_ns, steps, by)
    out.attrs = dict(attrs)
    return (out,)


def events_of_sends_on_dask(frame: dd.DataFrame, **kwargs: Any) -> dd.DataFrame:
    """:func:`bextoolkit.reports.events_of_sends` as a lazy Dask frame, shuffled by
    recipient (a person's sends and their events share a partition)."""
    shuffled = by_recipient(frame)
    return shuffled.map_partitions(_events_of_sends_task, kwargs, meta=shuffled._meta)


def _events_of_sends_task(part: pd.DataFrame, kwargs: dict) -> pd.DataFrame:
    kept = events_of_sends.__wrapped__(_plain(part), **kwargs)  # type: ignore[attr-defined]
    return part.loc[kept.index]


# The reports computed from partial aggregates, by name.
ON_DASK.update(
    {
        "funnel": funnel_on_dask,
        "bounce_breakdown": bounce_breakdown_on_dask,
        "event_counts": event_counts_on_dask,
        "recipient_engagement": recipient_engagement_on_dask,
        "sends": sends_on_dask,
        "events_of_sends": events_of_sends_on_dask,
        "click_urls": click_urls_on_dask,
        "deliverability": deliverability_on_dask,
        "send_hours": send_hours_on_dask,
        "mailed_after_opt_out": _offending_sends(mailed_after_opt_out),
        "mailed_after_hard_bounce": _offending_sends(mailed_after_hard_bounce),
        "segments": segments_on_dask,
        "engagement_hours": engagement_hours_on_dask,
        "activity_heatmap": activity_heatmap_on_dask,
        "flag_counts": flag_counts_on_dask,
        "engagement_curve": engagement_curve_on_dask,
    }
)
