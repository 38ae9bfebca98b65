"""Plants (private): faults put into a realistic account on purpose, and their truth.

Each plant changes the fate of a few chosen people before suppression is applied
(:mod:`._account`), and the truth tables are read from the final events, after the window
cut, so they say exactly what a report can find there.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples import _data as pools
from bextoolkit.samples import _simulation as sim
from bextoolkit.samples._sends import (
    DAY,
    HOUR,
    MONDAY,
    NEVER,
    WEEK,
    Sends,
    group_starts,
    times,
    weeks,
)

#: How long a planted person's opt-out or hard bounce is honoured before it is lost.
PLANT_HONOURED_MS: Final = 3 * DAY
_PLANT_MPP_OPEN_PROB = 0.9


@dataclass(frozen=True)
class ComplaintSurge:
    """A mailbox provider whose spam complaints rise from one week on (a plant).

    Parameters
    ----------
    provider : str
        One of ``"Google"``, ``"Yahoo"``, ``"Microsoft"``, ``"Apple"``, ``"other"``.
    since : str or pandas.Timestamp
        A day; the surge starts on the Monday (00:00 UTC) of its week.
    rate : float
        Complaints per delivered send in every week of the surge (at least this: the
        count is rounded up), default 0.6 % (Gmail's and Yahoo's limit is 0.3 %).
    """

    provider: str
    since: str | pd.Timestamp
    rate: float = 0.006


@dataclass(frozen=True)
class Plants:
    """What to plant; every count 0 and no surge is a clean account."""

    mailed_after_opt_out: int = 0
    mailed_after_hard_bounce: int = 0
    machine_opens_only: int = 0
    complaint_surge: ComplaintSurge | None = None


#: The truth tables' columns, by key of ``Campaign.planted``.
PLANTED_COLUMNS: Final = {
    "mailed_after_opt_out": (
        "messageId", "RECIPIENT_ID", "Email", "opted_out_at", "sent_at", "lag",
    ),
    "mailed_after_hard_bounce": (
        "messageId", "RECIPIENT_ID", "Email", "bounced_at", "sent_at", "lag",
    ),
    "machine_opens_only": (
        "RECIPIENT_ID", "Email", "domain", "provider", "machine_opens", "sends",
    ),
    "complaint_surge": (
        "provider", "week", "sends", "delivered", "complaints", "complaint_rate",
    ),
}  # fmt: skip


def empty_planted() -> dict[str, pd.DataFrame]:
    """The truth of a clean account: every table, without rows."""
    return {key: pd.DataFrame(columns=list(cols)) for key, cols in PLANTED_COLUMNS.items()}


def check_plants(plants: Plants) -> None:
    for name in ("mailed_after_opt_out", "mailed_after_hard_bounce", "machine_opens_only"):
        value = getattr(plants, name)
        if not isinstance(value, (int, np.integer)) or value < 0:
            raise BexConfigError(f"plant_{name}={value!r}: give a whole number, 0 or more")
    surge = plants.complaint_surge
    if surge is not None:
        if surge.provider not in pools.PROVIDERS:
            raise BexConfigError(
                f"plant_complaint_surge: provider {surge.provider!r} is unknown; "
                f"use one of {list(pools.PROVIDERS)}"
            )
        if not 0 < surge.rate <= 1:
            raise BexConfigError(
                f"plant_complaint_surge: rate={surge.rate} must be above 0 and at most 1"
            )


def choose_plants(
    rng: np.random.Generator, rcp: sim.Recipients, s: Sends, plants: Plants, end_ms: int
) -> dict[str, np.ndarray]:
    """Distinct people for each plant, with sends late enough for the plant to show."""
    starts = np.flatnonzero(group_starts(s.person))
    first_t = s.t[starts]
    sizes = np.diff(np.r_[starts, len(s.t)])
    last_t = s.t[starts + sizes - 1]
    second_t = np.where(sizes > 1, s.t[np.minimum(starts + 1, len(s.t) - 1)], NEVER)
    who = s.person[starts]
    clean = ~rcp.suppressed[who]
    late = last_t > first_t + PLANT_HONOURED_MS + 7 * HOUR
    eligible = {
        "mailed_after_opt_out": (clean & late, "sends more than 3 days apart"),
        "mailed_after_hard_bounce": (
            clean & late & (second_t > first_t + 60_000),
            "sends more than 3 days apart",
        ),
        "machine_opens_only": (
            clean & ~rcp.text[who] & (first_t < end_ms - HOUR),
            "an HTML send an hour before the end",
        ),
    }
    taken = np.zeros(rcp.n, dtype=bool)
    chosen: dict[str, np.ndarray] = {}
    for name, (ok, need) in eligible.items():
        count = int(getattr(plants, name))
        pool = who[ok & ~taken[who]]
        if count > len(pool):
            raise BexConfigError(
                f"plant_{name}={count}: only {len(pool)} people can carry it (they need "
                f"{need}, and no other plant); give more days, mailings or recipients"
            )
        chosen[name] = np.sort(rng.choice(pool, size=count, replace=False))
        taken[chosen[name]] = True
    return chosen


def apply_plants(
    rng: np.random.Generator, s: Sends, chosen: Mapping[str, np.ndarray], n: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Change the chosen people's fates; return (kind per person, honour start, honour end).

    kind: 0 none, 1 opt-out plant, 2 hard-bounce plant, 3 machine-opens-only plant.
    """
    kind = np.zeros(n, dtype=np.int8)
    for code, name in enumerate(chosen, start=1):
        kind[chosen[name]] = code
    row_kind = kind[s.person]
    planted = row_kind > 0
    s.quits[planted] = False
    first = group_starts(s.person)
    # opt-out plant: delivered first send, opted out 5 min - 6 h later
    opt_first = first & (row_kind == 1)
    s.hard[row_kind == 1] = False
    s.soft[opt_first] = False
    s.quits[opt_first] = True
    s.t_quit[opt_first] = s.t[opt_first] + rng.integers(5 * 60_000, 6 * HOUR, opt_first.sum())
    # hard-bounce plant: an address dead from the first send on, bouncing within 30 s
    s.hard[row_kind == 2] = True
    s.soft[row_kind == 2] = False
    s.t_hard[row_kind == 2] = s.t[row_kind == 2] + rng.integers(1000, 30_000, (row_kind == 2).sum())
    # machine-opens-only plant: never a genuine open, a click or an opt-out; first send lands
    three = row_kind == 3
    s.hard[three] = False
    s.soft[three & first] = False
    s.genuine[three] = False
    s.machine[three] = ~s.soft[three] & (rng.random(three.sum()) < _PLANT_MPP_OPEN_PROB)
    honour_from = np.full(n, NEVER, dtype=np.int64)
    honour_from[kind == 1] = s.t_quit[opt_first]
    hard_first = first & (row_kind == 2)
    honour_from[kind == 2] = s.t_hard[hard_first]
    return kind, honour_from, honour_from + np.where(honour_from < NEVER, PLANT_HONOURED_MS, 0)


def _people(rcp: sim.Recipients, rec: np.ndarray) -> dict[str, pd.Series]:
    import pyarrow as pa

    rec_arr = pa.array(rec)
    return {
        "RECIPIENT_ID": pd.Series(rcp.recipient_id.take(rec_arr).to_pylist(), dtype="string"),
        "Email": pd.Series(rcp.email.take(rec_arr).to_pylist(), dtype="string"),
    }


def read_truth(
    ev: Mapping[str, np.ndarray],
    rcp: sim.Recipients,
    mailings: Sequence[dict],
    kind: np.ndarray,
    honour_from: np.ndarray,
    surge: ComplaintSurge | None,
) -> dict[str, pd.DataFrame]:
    """The planted tables, read from the final events."""
    ids = np.array([m["messageId"] for m in mailings], dtype=object)
    planted = empty_planted()
    send = ev["kind"] == sim.SEND
    for code, key, when in ((1, "mailed_after_opt_out", "opted_out_at"),
                            (2, "mailed_after_hard_bounce", "bounced_at")):  # fmt: skip
        rows = np.flatnonzero(send & (kind[ev["rec"]] == code))
        rows = rows[ev["t"][rows] > honour_from[ev["rec"][rows]]]
        rows = rows[np.lexsort((ev["t"][rows], ev["rec"][rows]))]
        rec = ev["rec"][rows]
        at, sent = times(honour_from[rec]), times(ev["t"][rows])
        planted[key] = pd.DataFrame(
            {"messageId": pd.Series(ids[ev["mail"][rows]], dtype="string"),
             **_people(rcp, rec), when: at, "sent_at": sent, "lag": sent - at}
        )  # fmt: skip
    machine = (ev["kind"] == sim.OPEN) & (ev["agent"] == sim._MPP_AGENT_IDX)
    who = np.flatnonzero(kind == 3)
    domains = np.array(rcp.domain_names, dtype=object)
    planted["machine_opens_only"] = pd.DataFrame(
        {
            **_people(rcp, who),
            "domain": pd.Series(domains[rcp.domain[who]], dtype="string"),
            "provider": pd.Series(
                np.array(pools.PROVIDERS, dtype=object)[sim.provider_codes(rcp)[who]],
                dtype="string",
            ),
            "machine_opens": np.bincount(ev["rec"][machine], minlength=rcp.n)[who],
            "sends": np.bincount(ev["rec"][send], minlength=rcp.n)[who],
        }
    )
    if surge is not None:
        planted["complaint_surge"] = surge_truth(ev, rcp, surge)
    return planted


def surge_truth(
    ev: Mapping[str, np.ndarray], rcp: sim.Recipients, surge: ComplaintSurge
) -> pd.DataFrame:
    """Per week of the surge: the provider's sends, delivered sends, complaints and rate."""
    pair = ev["mail"].astype(np.int64) * rcp.n + ev["rec"]
    send = ev["kind"] == sim.SEND
    target = sim.provider_codes(rcp)[ev["rec"]] == pools.PROVIDERS.index(surge.provider)
    since = weeks(np.array([sim.to_epoch_ms(surge.since)]))[0]
    rows = np.flatnonzero(send & target & (weeks(ev["t"]) >= since))
    sends = pd.DataFrame({"week": weeks(ev["t"][rows]), "pair": pair[rows]})
    sends["delivered"] = ~np.isin(sends["pair"], pair[ev["kind"] == sim.BOUNCE])
    sends["complaints"] = np.isin(sends["pair"], pair[ev["kind"] == sim.COMPLAINT])
    table = sends.groupby("week").agg(
        sends=("pair", "size"), delivered=("delivered", "sum"), complaints=("complaints", "sum")
    )
    table = table.reset_index()
    week = times(table["week"].to_numpy() * WEEK + MONDAY)
    return pd.DataFrame(
        {
            "provider": pd.Series(surge.provider, index=table.index, dtype="string"),
            "week": week,
            "sends": table["sends"].astype(np.int64),
            "delivered": table["delivered"].astype(np.int64),
            "complaints": table["complaints"].astype(np.int64),
            "complaint_rate": table["complaints"] / table["delivered"],
        }
    )
