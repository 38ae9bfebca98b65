"""Reports on a Dask DataFrame: the workers project the columns, the client runs the report.

:func:`accepts_dask` decorates a pandas report. Given a Dask frame, the workers keep only
the columns the report reads (:data:`REPORT_COLUMNS`, e.g. 8 of 26 for a funnel); the
client gathers that reduced frame and runs the unchanged pandas report on it, so every
number is the pandas number. The reduced frame must fit in the client's memory (about 60
bytes per event for a funnel). Dask is imported only when a Dask frame comes in.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import pandas as pd

from bextoolkit.reports._kernels import DOMAIN, TIME_BUCKETS
from bextoolkit.schema import sorted_categorical

if TYPE_CHECKING:  # pragma: no cover
    import dask.dataframe as dd

log = logging.getLogger(__name__)


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


def accepts_dask(report: Callable[..., Any]) -> Callable[..., Any]:
    """Decorate a pandas report so it also takes a Dask DataFrame, with the same numbers.

    With a Dask frame, the workers read and project the columns the report needs
    (:func:`report_columns`), the client computes that reduced frame and runs the pandas
    report on it. With anything else the report runs as it is.
    """

    @functools.wraps(report)
    def wrapper(events: Any, *args: Any, **kwargs: Any) -> Any:
        if not is_dask_frame(events):
            return report(events, *args, **kwargs)
        columns = report_columns(report.__name__, kwargs)
        reduced = events.compute() if columns is None else None
        if reduced is None:
            reduced = reduce_for_report(events, columns=columns or [])
        log.info("%s on Dask: %d events brought to the client", report.__name__, len(reduced))
        return report(reduced, *args, **kwargs)

    return wrapper
