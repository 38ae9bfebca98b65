"""Reports on a Dask DataFrame: computed on the workers, or gathered with a warning.

:func:`accepts_dask` decorates a pandas report. Given a Dask frame, the workers keep only
the columns the report reads (:data:`REPORT_COLUMNS`, e.g. 8 of 26 for a funnel). A report
in :data:`ON_DASK` then runs on the workers after a shuffle by recipient and only its
partial sums come to the client (:mod:`._distributed`); any other report gathers that
reduced frame to the client (about 60 bytes per event for a funnel), warns
(:class:`~bextoolkit.exceptions.BexPerformanceWarning`) and runs the unchanged pandas
report. Either way every number is the pandas number. Dask is imported only when a Dask
frame comes in.
"""

from __future__ import annotations

import functools
import logging
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import pandas as pd

from bextoolkit.exceptions import BexPerformanceWarning
from bextoolkit.reports._kernels import DOMAIN, TIME_BUCKETS
from bextoolkit.schema import sorted_categorical

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd

log = logging.getLogger(__name__)

#: The column a frame shuffled by recipient carries (``._distributed.by_recipient``): each
#: row's place in the frame before the shuffle (partition number x 2**40 + row).
ROW: Final = "_bex_row"


def is_dask_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Dask DataFrame (without importing Dask when it is not loaded).

    Examples
    --------
    >>> import pandas as pd
    >>> is_dask_frame(pd.DataFrame())
    False
    """
    module = type(obj).__module__ or ""
    return module.startswith(("dask.", "dask_expr")) and hasattr(obj, "npartitions")


def reduce_for_report(
    frame: dd.DataFrame,
    *,
    columns: Sequence[str],
    event_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Project (and filter) the Dask frame on the workers, then compute it as pandas.

    Only ``columns`` (those present) and, when given, only ``event_types`` travel back to
    the client, as one pandas frame the pandas report runs on.
    """
    keep = [c for c in frame.columns if c in set(columns)]
    reduced = frame[keep]
    if event_types is not None and "eventType" in keep:
        reduced = reduced[reduced["eventType"].isin(list(event_types))]
    import dask
    from dask.dataframe.methods import concat

    # Gather the partitions to the client one by one: ``compute()`` would first
    # concatenate them all on one worker, which then needs the memory twice. Dask's
    # concat unites categories (pandas' would turn differing ones into strings).
    pieces = dask.compute(*reduced.to_delayed())
    result = concat(list(pieces), ignore_index=True) if pieces else reduced._meta
    for name in result.columns:  # sorted, as the pandas reader of a synced dataset gives them
        if isinstance(result[name].dtype, pd.CategoricalDtype):
            values_dtype = str(frame._meta[name].dtype.categories.dtype)
            result[name] = sorted_categorical(result[name], values_dtype)
    return result


#: Columns each report reads (besides ``by=`` keys); the rest stays on the workers.
_RECIPIENT = ("RECIPIENT_ID", "Email")
REPORT_COLUMNS: dict[str, tuple[str, ...]] = {
    "event_counts": (*_RECIPIENT, "eventType", "timestamp"),
    "funnel": (
        *_RECIPIENT, "eventType", "bounceType", "messageId", "messageName", "subjectLine",
        "mailingType", "originatedFrom", "timestamp", "machine_open", "bot_click",
        "Recipient Type",
    ),
    "bounce_breakdown": (
        *_RECIPIENT, "eventType", "bounceType", "code", "messageId", "timestamp",
        "Recipient Type",
    ),
    "click_urls": (
        *_RECIPIENT, "eventType", "bounceType", "clickUrl", "urlDescription", "messageId",
        "timestamp", "bot_click", "Recipient Type",
    ),
    "recipient_engagement": (
        *_RECIPIENT, "eventType", "bounceType", "messageId", "timestamp", "machine_open",
        "bot_click", "Recipient Type",
    ),
}  # fmt: skip


def report_columns(name: str, kwargs: Mapping[str, Any]) -> list[str] | None:
    """The columns report ``name`` reads with these options; None means every column.

    Examples
    --------
    >>> report_columns("event_counts", {"by": "messageId"})
    ['RECIPIENT_ID', 'Email', 'eventType', 'timestamp', 'messageId']
    >>> report_columns("funnel", {"exclude": "machine_opens"}) is None
    True
    """
    if name not in REPORT_COLUMNS or kwargs.get("exclude") not in (None, False):
        return None  # unknown report, or quality flags computed from many columns
    columns = list(REPORT_COLUMNS[name])
    by = kwargs.get("by")
    items = [] if by is None else [by] if isinstance(by, str | pd.Grouper) else list(by)
    for item in items:
        key = (item.key or "timestamp") if isinstance(item, pd.Grouper) else item
        if isinstance(key, str) and key not in columns and key not in (*TIME_BUCKETS, DOMAIN):
            columns.append(key)
    return columns


#: Report name -> its Dask implementation from partial sums (:mod:`._distributed` fills it).
ON_DASK: dict[str, Callable[..., Any]] = {}


def accepts_dask(report: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a pandas report so it also takes a Dask DataFrame, with the same numbers.

    With a Dask frame, a report of :data:`ON_DASK` runs on the workers per
    partition after a shuffle by recipient and only its partial aggregates come to the
    client (:mod:`._distributed`). Any other report: the workers project the columns it
    needs (:func:`report_columns`), the client gathers that reduced frame and runs the
    pandas report on it, with a warning that says so. With anything else the report
    runs as it is.
    """

    @functools.wraps(report)
    def wrapper(events: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_dask_frame(events):
            return report(events, *args, **kwargs)
        columns = report_columns(report.__name__, kwargs)
        if report.__name__ in ON_DASK and not args:
            projected = (
                events
                if columns is None
                else events[[c for c in events.columns if c in {*columns, ROW}]]
            )
            return ON_DASK[report.__name__](projected, **kwargs)
        if ROW in events.columns:
            events = events.drop(columns=[ROW])
        warnings.warn(
            f"{report.__name__} on a Dask frame gathers the events it reads to the client "
            f"(about 60 bytes per event for {len(columns) if columns else 'all'} columns): "
            "it must fit in this process's memory.",
            BexPerformanceWarning,
            stacklevel=2,
        )
        reduced = events.compute() if columns is None else None
        if reduced is None:
            reduced = reduce_for_report(events, columns=columns or [])
        log.info("%s on Dask: %d events brought to the client", report.__name__, len(reduced))
        return report(reduced, *args, **kwargs)

    return wrapper
