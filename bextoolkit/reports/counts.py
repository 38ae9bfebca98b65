"""How many events of each type, and how many people had them: :func:`event_counts`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.schema import EVENT_TYPE_COLUMN, EVENT_TYPES

__all__ = ["event_counts"]


@accepts_dask
def event_counts(
    events: pd.DataFrame, *, by: k.By = None, start: k.Moment = None, end: k.Moment = None
) -> pd.DataFrame:
    """Gross and unique-recipient counts of every event type, optionally per group.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType`` and ``RECIPIENT_ID`` or ``Email``). Not modified.
    by : str, list, pd.Grouper or None, default None
        Groups, as in the module notes: ``"messageId"``, ``"day"``, any column.
    start, end : str or Timestamp, optional
        Only events with ``start <= timestamp < end`` (naive values on the timestamps'
        own clock); ``attrs["window"]`` says how many were left out.

    Returns
    -------
    DataFrame
        One row per group and event type seen: the key columns, then
        ``eventType`` (the six canonical codes first in :data:`schema.EVENT_TYPES` order,
        then any other value as it is, missing last), ``events`` (rows, int64) and
        ``unique_recipients`` (distinct recipients, int64).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({"RECIPIENT_ID": ["1", "1", "2", "2"],
    ...                    "eventType": ["emailSend", "emailOpen", "emailOpen", "replyAbuse"]})
    >>> event_counts(ev)
        eventType  events  unique_recipients
    0   emailSend       1                  1
    1   emailOpen       2                  2
    2  replyAbuse       1                  1
    """
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="event_counts")
    events = k.in_window(events, start, end)
    groups = k.group_rows(events, by)
    recipients = k.recipients(events)
    codes, uniques = pd.factorize(events[EVENT_TYPE_COLUMN], use_na_sentinel=False)
    order = _event_type_order(pd.Index(uniques))
    rank = np.empty(len(order), np.int64)
    rank[order] = np.arange(len(order))
    n_types = max(len(uniques), 1)
    present, cell = k.dense_codes(groups.codes * n_types + rank[codes])
    n = len(present)
    out = groups.keys.take(present // n_types).reset_index(drop=True)
    out[EVENT_TYPE_COLUMN] = pd.Index(uniques).take(order).take(present % n_types).astype("string")
    out["events"] = k.count_rows(cell, n)
    out["unique_recipients"] = k.count_distinct(cell, n, recipients.codes)
    return out


def _event_type_order(uniques: pd.Index) -> np.ndarray:
    """Positions of ``uniques`` sorted: canonical event types first, others by name, NA last."""

    def rank(value: Any) -> tuple[int, str]:
        if pd.isna(value):
            return (len(EVENT_TYPES) + 1, "")
        text = str(value)
        if text in EVENT_TYPES:
            return (EVENT_TYPES.index(text), "")
        return (len(EVENT_TYPES), text)

    return np.array(sorted(range(len(uniques)), key=lambda i: rank(uniques[i])), np.int64)
