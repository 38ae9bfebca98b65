"""``bounce_breakdown``: bounced sends by type, code, domain, provider, mailing or send day."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import _kernels as k
from bextoolkit.reports._dask import accepts_dask
from bextoolkit.reports.sends import (
    Sends,
    build,
    by_items,
    check_by,
    first_rows,
    group_sends,
)
from bextoolkit.schema import EVENT_TYPE_COLUMN

#: Keys that describe only the bounce itself: the rate's denominator ignores them.
_BOUNCE_ONLY_KEYS: Final = ("bounceType", "code", EVENT_TYPE_COLUMN)


@accepts_dask
def bounce_breakdown(
    events: pd.DataFrame,
    *,
    by: k.By = "bounceType",
    classify: bool = True,
    bounce_rate: Literal["sent", "requests"] = "sent",
    include_seeds: bool = False,
    start: k.Moment = None,
    end: k.Moment = None,
    providers: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Bounced sends per bounce type, or per code, recipient domain, provider, mailing, day.

    Parameters
    ----------
    events : DataFrame
        The events frame (``eventType``, ``RECIPIENT_ID`` or ``Email``, and the columns
        ``by`` needs: ``bounceType``, ``code``, ``Email`` for ``"domain"``,
        ``timestamp`` for send-time buckets). Not modified.
    by : str, list, pd.Grouper or None, default "bounceType"
        Groups, as in :func:`bextoolkit.funnel`. ``bounceType`` and ``code`` are read
        from the send's bounce; every other key (``"domain"``, ``"provider"``,
        ``"messageId"``, ``"day"``: the day of the send, ...) from the send.
    classify : bool, default True
        Show ``bounceType`` as ``"hard"`` / ``"soft"`` whatever its spelling ("Hard",
        "HardBounce", "hard bounce"); other values trimmed, as they are. False: raw values.
    bounce_rate : {"sent", "requests"}, default "sent"
        Denominator of ``rate``: sends, or sends plus suppressed pairs (requests).
    include_seeds : bool, default False
        As in :func:`bextoolkit.funnel`: seed-list recipients are left out unless True.
    start, end : str or Timestamp, optional
        Only sends sent in ``start <= time < end`` (naive values on the timestamps' own
        clock), with their bounces whenever they came; ``attrs["window"]`` says how many
        sends were left out.
    providers : mapping, optional
        Domain -> provider for ``by="provider"``.

    Returns
    -------
    DataFrame
        One row per group that has bounces, most bounces first (time buckets: in time
        order): the key columns, then

        - ``bounces``: sends that bounced (a send bounces once: its worst kind, hard
          before soft)
        - ``unique_recipients``: distinct people among them
        - ``share``: ``bounces`` / all bounced sends (the shares add up to 1)
        - ``rate``: ``bounces`` / the sends of the same group, taken without the keys that
          only describe a bounce (``bounceType``, ``code``, ``eventType``):
          ``by="bounceType"`` divides by every send, ``by=["messageId", "bounceType"]`` by
          that mailing's sends, ``by="domain"`` by the domain's sends. NaN when 0.

        ``attrs["rate"]`` says the denominator in words; ``attrs["without_send"]`` counts
        bounces whose send is not in the frame (in no row).

    Examples
    --------
    >>> import pandas as pd
    >>> ev = pd.DataFrame({
    ...     "RECIPIENT_ID": ["1", "2", "3", "4", "1", "2", "3"],
    ...     "eventType": ["emailSend"] * 4 + ["emailBounce"] * 3,
    ...     "bounceType": [None] * 4 + ["Hard", "hard bounce", "SoftBounce"]})
    >>> bounce_breakdown(ev)
      bounceType  bounces  unique_recipients     share  rate
    0       hard        2                  2  0.666667  0.50
    1       soft        1                  1  0.333333  0.25
    """
    if bounce_rate not in k.RATE_BASES:
        raise BexConfigError(f"bounce_rate={bounce_rate!r} is unknown; use one of {k.RATE_BASES}.")
    k.require_columns(events, [EVENT_TYPE_COLUMN], what="bounce_breakdown")
    items = by_items(by)
    bounce_keys = [i for i in items if isinstance(i, str) and i in _BOUNCE_ONLY_KEYS]
    send_items = [i for i in items if not (isinstance(i, str) and i in _BOUNCE_ONLY_KEYS)]
    check_by(events, send_items)
    built = build(
        events,
        include_seeds=include_seeds,
        start=start,
        end=end,
        by=send_items,
        providers=providers,
    )
    table = built.table
    bounced = np.flatnonzero(table["bounced"].cat.codes.to_numpy() > 0)
    rows = table.iloc[bounced].reset_index(drop=True)
    for key in bounce_keys:
        rows[key] = _bounce_values(built, key, classify)[bounced]
    groups = group_sends(rows, by)
    bounces = k.count_rows(groups.codes, groups.n)
    out = groups.keys.copy()
    out["bounces"] = bounces
    out["unique_recipients"] = k.count_distinct(groups.codes, groups.n, built.recipient[bounced])
    out["share"] = k.ratio(bounces, bounces.sum())
    base = table
    if bounce_rate == "requests":
        base = pd.concat([table, built.suppressed.rename(columns={"at": "sent_at"})])
    out["rate"] = k.ratio(bounces, _sent_per_group(base, groups, send_items))
    if not groups.is_time:
        out = out.iloc[np.argsort(-out["bounces"].to_numpy(), kind="stable")]
    out = out.reset_index(drop=True)
    for column in out.columns[: groups.keys.shape[1]]:
        if isinstance(out[column].dtype, pd.CategoricalDtype):
            out[column] = out[column].cat.remove_unused_categories()
    keys = ", ".join(map(str, send_items)) if send_items else "the whole frame"
    base_words = "sends" if bounce_rate == "sent" else "sends and suppressed requests"
    out.attrs = built.attrs()
    out.attrs["rate"] = f"bounced sends / {base_words} per {keys}"
    return out


def _bounce_values(built: Sends, key: str, classify: bool) -> np.ndarray:
    """Per send, ``key`` as its first bounce event says it (``bounceType`` classified as
    the send's own kind when ``classify``)."""
    events = built.events
    if key == EVENT_TYPE_COLUMN:
        return np.full(built.n, "emailBounce", dtype=object)
    k.require_columns(events, [key], what=f"by={key!r}")
    is_bounce = (built.ev == k.BOUNCE) & (built.send_of_row >= 0)
    rows = first_rows(built.send_of_row, is_bounce, built.n)
    values = pd.Series(events[key].array.take(rows, allow_fill=True))
    if key == "bounceType" and classify:
        values = k.bounce_classes(values).astype(object)
        kind = built.table["bounced"].astype(object)
        values = values.where(~kind.isin(("hard", "soft")).to_numpy(), kind.to_numpy())
    return values.to_numpy(dtype=object)


def _sent_per_group(base: pd.DataFrame, groups: k.Groups, send_items: list) -> np.ndarray:
    """Per bounce group, the sends (rows of ``base``) sharing its ``send_items`` keys."""
    if not send_items:
        return np.full(groups.n, len(base))
    sends = group_sends(base, send_items)
    per_key = sends.keys.assign(sent=k.count_rows(sends.codes, sends.n))
    names = list(sends.keys.columns)
    matched = groups.keys[names].merge(per_key, on=names, how="left")
    return matched["sent"].fillna(0).to_numpy(np.int64)
