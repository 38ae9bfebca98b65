"""Realistic accounts (private to :mod:`samples`): one list mailed for months, as Acoustic does.

:func:`simulate_account` is ``generate_campaign(realistic=True)``. Unlike the one-day
simulation of :mod:`._simulation`, every mailing is drawn at once over all candidate
sends, and suppression is applied afterwards in one pass: a send survives when it is
earlier than every hard bounce and opt-out of the same person's earlier sends (sorted by
person and time, an exclusive running minimum). That equals sending mailing by mailing in
time order, because a send that did not go out was later than a suppression that did.

Plants (:mod:`._plants`) change the fate of a few chosen people before that pass; the
candidate-send table and its per-person helpers are in :mod:`._sends`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

import numpy as np
import pandas as pd

from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples import _data as pools
from bextoolkit.samples import _simulation as sim
from bextoolkit.samples._plants import (
    ComplaintSurge,
    Plants,
    apply_plants,
    choose_plants,
    read_truth,
)
from bextoolkit.samples._sends import (
    DAY,
    HOUR,
    NEVER,
    Sends,
    earlier_minimum,
    group_starts,
    weeks,
)

#: How much more (or less) likely a person is to open and click, by mailing type.
TYPE_ENGAGEMENT: Final = {
    "SendExperience": 1.0,
    "ABTest": 1.15,
    "AMG": 0.75,
    "Programs": 1.4,
    "AutoResponder": 1.6,
}
#: The same by the hour of the send (UTC, index 0-23): best at 10:00, 0.55 at night.
HOUR_ENGAGEMENT: Final = (
    0.55, 0.56, 0.57, 0.6, 0.65, 0.74, 0.86, 1.0, 1.15, 1.26, 1.3, 1.26,
    1.15, 1.0, 0.86, 0.74, 0.65, 0.6, 0.57, 0.56, 0.55, 0.55, 0.55, 0.55,
)  # fmt: skip
#: The highest chance of a genuine open per send before the factors (0.48 x Beta(1.2, 1.4),
#: mean 0.22): with the default factors no product exceeds 1, so rates keep their ratios.
ENGAGEMENT_CEILING: Final = 0.48
#: Batch mailings start at one of these UTC hours (and send for 1-3 hours).
SEND_HOURS: Final = tuple(range(6, 21))
#: Mailing types sent every day under one messageId.
DAILY_TYPES: Final = ("Programs", "AutoResponder")

_INVALID_SHARE = 0.015  # addresses that bounce hard on their first send
_DEAD_MEAN_DAYS = 3650.0  # other addresses die at this mean age (about 10 % a year)
_SOFT_RATE = 0.01
_MPP_OPEN_PROB = 0.6
_OPT_OUT = {"opener": 0.0012, "other": 0.0003}
_CLICK = {"opener": 0.16, "text": 0.03, "blind": 0.005}
_DAILY_SHARE = 0.3  # of the database, over the whole window, each person once
_SHARES = {"SendExperience": (0.6, 0.95), "ABTest": (0.6, 0.95), "AMG": (0.1, 0.3)}
_DURATION_H = {"SendExperience": (1.0, 3.0), "ABTest": (1.0, 3.0), "AMG": (0.5, 1.0)}


def check_factors(
    by_type: Mapping[str, float] | None, by_hour: Sequence[float] | None
) -> tuple[dict[str, float], np.ndarray]:
    """The engagement factors to use, checked: every type known, 24 hours, none negative."""
    types = dict(TYPE_ENGAGEMENT)
    if by_type is not None:
        unknown = [t for t in by_type if t not in TYPE_ENGAGEMENT]
        if unknown:
            raise BexConfigError(
                f"engagement_by_type: unknown mailing type(s) {unknown}; "
                f"use keys from {list(TYPE_ENGAGEMENT)}"
            )
        types.update({k: float(v) for k, v in by_type.items()})
    hours = np.asarray(HOUR_ENGAGEMENT if by_hour is None else list(by_hour), dtype=float)
    if hours.shape != (24,):
        raise BexConfigError(
            f"engagement_by_hour: give 24 factors (UTC hours 0-23), got {hours.size}"
        )
    if (hours < 0).any() or min(types.values()) < 0:
        raise BexConfigError("engagement factors must be 0 or more; fix the negative ones")
    return types, hours


# --- the schedule -----------------------------------------------------------------------------
def plan_account(
    rng: np.random.Generator, types: Sequence[str], start_ms: int, end_ms: int, id_base: int
) -> list[dict[str, Any]]:
    """Daily programs over the whole window; batch mailings at random slots, in time order."""
    batch = [i for i, t in enumerate(types) if t not in DAILY_TYPES]
    slots = np.arange(-(-start_ms // HOUR) * HOUR, end_ms - 3 * HOUR, HOUR, dtype=np.int64)
    daytime = slots[np.isin((slots // HOUR) % 24, SEND_HOURS)]
    slots = daytime if len(daytime) else slots
    if not len(slots):
        slots = np.array([start_ms], dtype=np.int64)
    picks = np.sort(rng.choice(slots, size=len(batch), replace=len(batch) > len(slots)))
    when = dict(zip(batch, picks.tolist(), strict=True))
    mailings = []
    n_daily = 0
    for index, mailing_type in enumerate(types):
        if mailing_type in DAILY_TYPES:
            series = pools.PROGRAM_SERIES[n_daily % len(pools.PROGRAM_SERIES)]
            n_daily += 1
            begin, duration = start_ms, end_ms - start_ms
            share, send_type = _DAILY_SHARE, "Triggered"
        else:
            rank = int(np.searchsorted(batch, index))
            other = pools.BATCH_SERIES[int(rng.integers(len(pools.BATCH_SERIES)))]
            series = pools.WEEKLY_DEALS if rank % 3 == 0 else other
            begin = when[index] + int(rng.integers(0, 15)) * 60_000
            low, high = _DURATION_H[mailing_type]
            duration = int(rng.uniform(low, high) * HOUR)
            share = rng.uniform(*_SHARES[mailing_type])
            send_type = "Scheduled"
        day = pd.Timestamp(begin, unit="ms", tz="UTC").strftime("%Y-%m-%d")
        record = sim.describe_mailing(
            rng, index, mailing_type, series, day=day, begin=begin, duration=duration,
            share=share, send_type=send_type, id_base=id_base,
        )  # fmt: skip
        record["send_end"] = min(record["send_end"], end_ms)
        mailings.append(record)
    return mailings


def account_types(n_mailings: int, mailing_types: Sequence[str] | None) -> list[str]:
    """Given types cycle; by default one Programs and one AutoResponder, then batches."""
    if mailing_types or n_mailings < 0:
        return sim.mailing_types_for(n_mailings, mailing_types)
    head = ["Programs", "AutoResponder"][: max(n_mailings - 1, 0)]
    cycle = ["SendExperience", "SendExperience", "ABTest", "SendExperience", "AMG"]
    return head + [cycle[i % len(cycle)] for i in range(n_mailings - len(head))]


# --- the simulation ---------------------------------------------------------------------------
def _candidate_sends(
    rng: np.random.Generator, rcp: sim.Recipients, mailings: Sequence[dict]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    people, mails, times = [], [], []
    for mail, m in enumerate(mailings):
        audience = np.flatnonzero(rng.random(rcp.n) < m["share"])
        span = max(m["send_end"] - m["send_start"], 1)
        t = m["send_start"] + (rng.random(len(audience)) * span).astype(np.int64)
        people.append(audience)
        mails.append(np.full(len(audience), mail, dtype=np.int32))
        times.append(t)
    if not people:
        return np.empty(0, np.int64), np.empty(0, np.int32), np.empty(0, np.int64)
    return np.concatenate(people), np.concatenate(mails), np.concatenate(times)


def _draw_fates(
    rng: np.random.Generator,
    rcp: sim.Recipients,
    mailings: Sequence[dict],
    person: np.ndarray,
    mail: np.ndarray,
    t: np.ndarray,
    dead_at: np.ndarray,
    engagement: np.ndarray,
    factors: tuple[dict[str, float], np.ndarray],
) -> Sends:
    m = len(t)
    by_type, by_hour = factors
    type_factor = np.array([by_type[x["mailingType"]] for x in mailings], dtype=float)
    factor = type_factor[mail] * by_hour[(t // HOUR) % 24] if m else np.empty(0)
    hard = t >= dead_at[person]
    soft = ~hard & (rng.random(m) < _SOFT_RATE)
    delivered = ~hard & ~soft
    text = rcp.text[person]
    mpp = rcp.mpp[person] & ~text
    genuine = delivered & ~text & (rng.random(m) < np.minimum(engagement[person] * factor, 1.0))
    t_open = t + np.clip(sim._lognormal_ms(rng, 5400, 1.6, m), 90_000, 6 * DAY).astype(np.int64)
    machine = delivered & mpp & (rng.random(m) < _MPP_OPEN_PROB)
    t_machine = t + (3000 + rng.exponential(120_000, m)).astype(np.int64)
    p_quit = np.where(genuine, _OPT_OUT["opener"], _OPT_OUT["other"])
    quits = delivered & (rng.random(m) < p_quit)
    t_quit = np.where(genuine, t_open, t) + sim._lognormal_ms(rng, 45, 1.2, m).astype(np.int64)
    return Sends(
        person=person, mail=mail, t=t, hard=hard,
        t_hard=t + (1000 + rng.exponential(20_000, m)).astype(np.int64),
        soft=soft, t_soft=t + (rng.uniform(0.5, 8.0, m) * HOUR).astype(np.int64),
        genuine=genuine, t_open=t_open, machine=machine, t_machine=t_machine,
        quits=quits, t_quit=t_quit,
    )  # fmt: skip


def _survivors(
    s: Sends, kind: np.ndarray, honour_from: np.ndarray, honour_to: np.ndarray
) -> np.ndarray:
    """Which candidate sends go out: none after a hard bounce or an opt-out (but plants)."""
    stop = np.minimum(np.where(s.hard, s.t_hard, NEVER), np.where(s.quits, s.t_quit, NEVER))
    row_kind = kind[s.person]
    stop[(row_kind == 1) | (row_kind == 2)] = NEVER  # their suppression is lost later
    keep = s.t < earlier_minimum(s.person, stop)
    lo, hi = honour_from[s.person], honour_to[s.person]
    return keep & ~((s.t > lo) & (s.t <= hi))


# --- sends -> events ----------------------------------------------------------------------------
def _within_window(t: np.ndarray, after: np.ndarray, end_ms: int) -> np.ndarray:
    """``t``, pulled back into the window where it would fall after its end."""
    late = t >= end_ms
    if late.any():
        t = t.copy()
        t[late] = after[late] + ((end_ms - after[late]) * 0.5).astype(np.int64)
    return t


def _link_events(
    rng: np.random.Generator,
    who: np.ndarray,
    mail: np.ndarray,
    first: np.ndarray,
    counts: np.ndarray,
    link_base: np.ndarray,
    n_links: np.ndarray,
    agent: np.ndarray,
    doc: np.ndarray,
) -> dict:
    times = sim._repeat_times(rng, first, counts, 60, 1.2)
    mail_rep = np.repeat(mail, counts)
    slot = np.minimum((n_links[mail_rep] * rng.random(len(times)) ** 1.6).astype(int),
                      n_links[mail_rep] - 1)  # fmt: skip
    return sim._events(
        sim.CLICK, np.repeat(who, counts), 0, times, agent=np.repeat(agent, counts),
        link=link_base[mail_rep] + slot, doc=np.repeat(doc, counts),
    ) | {"mail": mail_rep.astype(np.int32)}  # fmt: skip


def _events_of(
    rng: np.random.Generator,
    rcp: sim.Recipients,
    mailings: Sequence[dict],
    s: Sends,
    kind: np.ndarray,
) -> list[dict]:
    """Every event of the sends that went out (``s`` holds only those)."""
    n_links = np.array([len(m["links"]) for m in mailings], dtype=np.int64)
    link_base = np.r_[0, np.cumsum(n_links)[:-1]].astype(np.int64)
    doc = rcp.text[s.person].astype(np.int8)
    delivered = ~s.hard & ~s.soft

    def events(code: int, mask: np.ndarray, t: np.ndarray, **cols: Any) -> dict:
        out = sim._events(code, s.person[mask], 0, t[mask], doc=doc[mask], **cols)
        out["mail"] = s.mail[mask].astype(np.int32)
        return out

    parts = [
        events(sim.SEND, np.ones(len(s.t), dtype=bool), s.t),
        events(sim.BOUNCE, s.hard, s.t_hard, bounce=0),
        events(sim.BOUNCE, s.soft, s.t_soft, bounce=1),
    ]
    for mask, first, extra, gap, sigma, agent in (
        (s.genuine, s.t_open, rng.geometric(0.6, len(s.t)) - 1, 3600, 1.8,
         rcp.open_agent[s.person]),
        (s.machine, s.t_machine, (rng.random(len(s.t)) < 0.2).astype(int), 8 * 3600, 0.7,
         np.full(len(s.t), sim._MPP_AGENT_IDX)),
    ):  # fmt: skip
        counts = 1 + extra[mask]
        times = sim._repeat_times(rng, first[mask], counts, gap, sigma)
        part = sim._events(
            sim.OPEN, np.repeat(s.person[mask], counts), 0, times,
            agent=np.repeat(agent[mask], counts), doc=np.repeat(doc[mask], counts),
        )  # fmt: skip
        part["mail"] = np.repeat(s.mail[mask], counts).astype(np.int32)
        parts.append(part)

    text = rcp.text[s.person]
    p_click = np.select([text, s.genuine], [_CLICK["text"], _CLICK["opener"]], _CLICK["blind"])
    clicked = delivered & (kind[s.person] != 3) & (rng.random(len(s.t)) < p_click)
    base = np.where(s.genuine, s.t_open, s.t + sim._lognormal_ms(rng, 3600, 1.5, len(s.t)))
    first_click = np.maximum(base + 2000 + sim._lognormal_ms(rng, 40, 1.0, len(s.t)),
                             s.t + 60_000).astype(np.int64)  # fmt: skip
    counts = rng.geometric(0.65, len(s.t))[clicked]
    parts.append(_link_events(
        rng, s.person[clicked], s.mail[clicked], first_click[clicked], counts, link_base,
        n_links, rcp.click_agent[s.person[clicked]], doc[clicked],
    ))  # fmt: skip

    scanned = delivered & (rcp.scanner_agent[s.person] >= 0) & (kind[s.person] != 3)
    per = n_links[s.mail[scanned]]
    who = np.repeat(s.person[scanned], per)
    slot = np.arange(int(per.sum())) - np.repeat(np.cumsum(per) - per, per)
    scan = sim._events(
        sim.CLICK, who, 0, np.repeat(s.t[scanned], per) + rng.uniform(800, 15_000, len(who)),
        agent=rcp.scanner_agent[who], link=np.repeat(link_base[s.mail[scanned]], per) + slot,
        doc=np.repeat(doc[scanned], per),
    )  # fmt: skip
    scan["mail"] = np.repeat(s.mail[scanned], per).astype(np.int32)
    parts.append(scan)

    detail = sim._choice(rng, pools.OPT_OUT_WEIGHTS, int(s.quits.sum()))
    parts.append(events(sim.OPT_OUT, s.quits, s.t_quit, optout=detail))
    return parts


def _complaints(
    rng: np.random.Generator,
    rcp: sim.Recipients,
    s: Sends,
    rate: float,
    surge: ComplaintSurge | None,
    end_ms: int,
) -> dict:
    """Complaints on delivered sends, counted per provider and week of send.

    Each provider-week gets ``round(rate x delivered)`` of them (so with a rate up to
    0.15 % no provider-week reaches 0.3 %), the surge provider from its week on
    ``ceil(surge.rate x delivered)``.
    """
    delivered = np.flatnonzero(~s.hard & ~s.soft)
    provider = sim.provider_codes(rcp)[s.person[delivered]].astype(np.int64)
    week = weeks(s.t[delivered])
    group = provider * 1_000_000 + (week - (week.min() if len(week) else 0))
    shuffled = rng.permutation(len(group))
    order = shuffled[np.argsort(group[shuffled], kind="stable")]  # random within each group
    group = group[order]
    uniq, start, size = np.unique(group, return_index=True, return_counts=True)
    want = np.floor(rate * size + 0.5)
    if surge is not None:
        since = weeks(np.array([sim.to_epoch_ms(surge.since)]))[0]
        g_provider, g_week = uniq // 1_000_000, uniq % 1_000_000 + (week.min() if len(week) else 0)
        hot = (g_provider == pools.PROVIDERS.index(surge.provider)) & (g_week >= since)
        want = np.where(hot, np.ceil(surge.rate * size - 1e-9), want)
    rank = np.arange(len(group)) - np.repeat(start, size)
    pick = delivered[order[rank < np.repeat(want, size)]]
    t = s.t[pick] + sim._lognormal_ms(rng, 6 * 3600, 1.0, len(pick)).astype(np.int64)
    t = _within_window(t, s.t[pick], end_ms)
    out = sim._events(sim.COMPLAINT, s.person[pick], 0, t,
                      doc=rcp.text[s.person[pick]].astype(np.int8))  # fmt: skip
    out["mail"] = s.mail[pick].astype(np.int32)
    return out


def _ensure_genuine_opens(
    ev: dict[str, np.ndarray], rcp: sim.Recipients, kind: np.ndarray, end_ms: int
) -> dict[str, np.ndarray]:
    """Give every unplanted person whose opens are all Apple MPP one genuine open.

    An hour after their first MPP open (sooner near the window's end), in their browser
    (never a proxy or MPP user agent): so the people whose opens are machine opens only
    are exactly the planted ones. A planted person without any open gets an MPP open on
    their first delivered send.
    """
    opens = ev["kind"] == sim.OPEN
    mpp = opens & (ev["agent"] == sim._MPP_AGENT_IDX)
    has_open = np.bincount(ev["rec"][opens], minlength=rcp.n) > 0
    has_genuine = np.bincount(ev["rec"][opens & ~mpp], minlength=rcp.n) > 0
    lonely = has_open & ~has_genuine & (kind != 3)
    rows = np.flatnonzero(mpp & lonely[ev["rec"]])
    rows = rows[np.lexsort((ev["t"][rows], ev["rec"][rows]))]
    firsts = rows[group_starts(ev["rec"][rows])] if len(rows) else rows
    o = ev["t"][firsts]
    extra = sim.select_events(ev, firsts)
    extra["t"] = o + np.minimum(HOUR, (end_ms - o) // 2)
    extra["agent"] = rcp.click_agent[extra["rec"]].astype(np.int16)
    parts = [ev, extra]
    missing = (kind == 3) & ~has_open
    if missing.any():
        sends = np.flatnonzero((ev["kind"] == sim.SEND) & missing[ev["rec"]])
        bounced = _bounced_pairs(ev, rcp.n)
        pair = ev["mail"][sends].astype(np.int64) * rcp.n + ev["rec"][sends]
        sends = sends[~np.isin(pair, bounced)]
        sends = sends[np.lexsort((ev["t"][sends], ev["rec"][sends]))]
        sends = sends[group_starts(ev["rec"][sends])] if len(sends) else sends
        fix = sim.select_events(ev, sends)
        fix["kind"][:] = sim.OPEN
        fix["t"] = np.minimum(fix["t"] + 5000, end_ms - 1)
        fix["agent"][:] = sim._MPP_AGENT_IDX
        parts.append(fix)
    return sim.concat_events(*parts)


def _bounced_pairs(ev: Mapping[str, np.ndarray], n: int) -> np.ndarray:
    """(mailing, person) of every bounce, as ``mail * n + person``."""
    b = ev["kind"] == sim.BOUNCE
    return ev["mail"][b].astype(np.int64) * n + ev["rec"][b]


# --- the account ---------------------------------------------------------------------------------
def simulate_account(
    rng: np.random.Generator,
    rcp: sim.Recipients,
    types: Sequence[str],
    *,
    start_ms: int,
    end_ms: int,
    id_base: int,
    factors: tuple[dict[str, float], np.ndarray],
    complaint_rate: float,
    plants: Plants,
) -> tuple[list[dict], dict[str, np.ndarray], dict[str, pd.DataFrame]]:
    """Mailings, every event (sorted by time, inside the window) and the planted truth."""
    n = rcp.n
    engagement = ENGAGEMENT_CEILING * rng.beta(1.2, 1.4, n)
    dead_at = np.where(
        rng.random(n) < _INVALID_SHARE,
        start_ms - 1,
        start_ms + (rng.exponential(_DEAD_MEAN_DAYS, n) * DAY).astype(np.int64),
    )
    mailings = plan_account(rng, types, start_ms, end_ms, id_base)
    person, mail, t = _candidate_sends(rng, rcp, mailings)
    blocked = rcp.suppressed[person]
    suppressed = sim._events(sim.SUPPRESSED, person[blocked], 0, t[blocked])
    suppressed["mail"] = mail[blocked]
    order = np.flatnonzero(~blocked)
    order = order[np.lexsort((t[order], person[order]))]
    s = _draw_fates(
        rng, rcp, mailings, person[order], mail[order], t[order], dead_at, engagement, factors
    )
    chosen = choose_plants(rng, rcp, s, plants, end_ms)
    kind, honour_from, honour_to = apply_plants(rng, s, chosen, n)
    s = s.take(_survivors(s, kind, honour_from, honour_to))
    parts = [suppressed, *_events_of(rng, rcp, mailings, s, kind)]
    parts.append(_complaints(rng, rcp, s, complaint_rate, plants.complaint_surge, end_ms))
    ev = sim.concat_events(*parts)
    ev = sim.select_events(ev, ev["t"] < end_ms)
    ev = _ensure_genuine_opens(ev, rcp, kind, end_ms)
    ev = sim.select_events(ev, np.argsort(ev["t"], kind="stable"))
    planted = read_truth(ev, rcp, mailings, kind, honour_from, plants.complaint_surge)
    return mailings, ev, planted
