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

import functools
import gzip
import logging
import posixpath
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit import _samples_data as pools
from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError

log = logging.getLogger(__name__)

__all__ = [
    "DATABASE_COLUMNS",
    "Campaign",
    "generate_campaign",
    "generate_events",
    "mailing_type_of",
    "write_campaign",
    "write_exports",
    "write_rrde",
    "write_samples",
]

#: Database columns the simulated contact database holds (ask for at most 5 of them).
DATABASE_COLUMNS = pools.DATABASE_COLUMNS

#: Where the generator stores the mailing type (BEX documents no column for it).
MAILING_TYPE_COLUMN = "originatedFrom"

# Rates of the simulation (shares of the audience, of sent, or of delivered).
_SUPPRESSED_SHARE = 0.012
_HARD_BOUNCE_RATE = 0.02
_SOFT_BOUNCE_RATE = 0.015
_TEXT_SHARE = 0.04
_MPP_SHARE = {"apple": 0.65}  # other kinds: _MPP_SHARE_OTHER
_MPP_SHARE_OTHER = 0.12
_MPP_OPEN_PROB = 0.6
_ENGAGEMENT_BETA = (0.5, 2.2)  # human open probability per mailing, mean ~0.19
_CLICK_PROB = {"opener": 0.16, "mpp": 0.05, "blind": 0.005, "text": 0.03}
_SCANNER_SHARE_CORPORATE = 0.025
_OPT_OUT_PROB = {"opener": 0.009, "other": 0.0012}
_BATCH_TYPES = ("SendExperience", "ABTest")
_DEFAULT_TYPES = ("SendExperience", "Programs", "ABTest", "AutoResponder", "SendExperience", "AMG")
#: Roughly how many events one recipient yields per mailing type per day (sizing chunks).
_EVENTS_PER_RECIPIENT_DAY = 2.4

_MS_PER_HOUR = 3_600_000
_SEND, _OPEN, _CLICK, _OPT_OUT, _SUPPRESSED, _BOUNCE = range(6)
_CODES = ("emailSend", "emailOpen", "emailClick", "emailOptOut", "emailSuppressed", "emailBounce")
_BOUNCE_TYPES = ("Hard", "Soft")
_DOC_TYPES = ("HTML", "Text")
_RRDE_NAMES = {
    ("emailSend", None): "Sent",
    ("emailOpen", None): "Open",
    ("emailClick", None): "Click",
    ("emailOptOut", None): "Opt Out",
    ("emailSuppressed", None): "Suppressed",
    ("emailBounce", "Hard"): "Hard Bounce",
    ("emailBounce", "Soft"): "Soft Bounce",
}


@dataclass(frozen=True)
class Campaign:
    """A simulated campaign: the events and the tables they were drawn from.

    Attributes
    ----------
    events : pandas.DataFrame
        The events frame, as :func:`bextoolkit.read_events` returns it.
    mailings : pandas.DataFrame
        One row per mailing: ``messageId``, ``messageName``, ``subjectLine``,
        ``mailingType``, ``sendType``, ``send_start``, ``send_end``, ``audience``, ``links``.
    recipients : pandas.DataFrame
        The simulated database: ids, ``Email``, ``domain``, ``suppressed`` and the
        database columns.
    """

    events: pd.DataFrame
    mailings: pd.DataFrame
    recipients: pd.DataFrame


# --- recipients ---------------------------------------------------------------------------
@dataclass
class _Recipients:
    n: int
    recipient_id: pa.Array
    encoded_id: pa.Array
    contact_id: pa.Array
    email: pa.Array
    domain: np.ndarray  # index into pools.DOMAINS
    kind: np.ndarray  # index into pools.DOMAIN_KINDS
    text: np.ndarray
    mpp: np.ndarray
    engagement: np.ndarray
    open_agent: np.ndarray  # index into _AGENTS
    click_agent: np.ndarray
    scanner_agent: np.ndarray  # -1 where no scanner
    suppressed: np.ndarray
    columns: dict[str, pa.Array]


def _dedupe(values: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(values))


_AGENTS = _dedupe(
    (pools.APPLE_MPP_AGENT, *pools.OPEN_AGENTS, *pools.CLICK_AGENTS, *pools.SCANNER_AGENTS)
)
_OPEN_AGENT_IDX = np.array([_AGENTS.index(a) for a in pools.OPEN_AGENTS])
_CLICK_AGENT_IDX = np.array([_AGENTS.index(a) for a in pools.CLICK_AGENTS])
_SCANNER_AGENT_IDX = np.array([_AGENTS.index(a) for a in pools.SCANNER_AGENTS])
_MPP_AGENT_IDX = _AGENTS.index(pools.APPLE_MPP_AGENT)

_HEX = np.frombuffer(b"".join(f"{i:02x}".encode() for i in range(256)), np.uint16)
_ALNUM = np.frombuffer(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", np.uint8)


def _fixed_width_strings(chars: np.ndarray) -> pa.Array:
    """An (n, width) uint8 array of ASCII codes as an Arrow string array, without copies."""
    n, width = chars.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    data = np.ascontiguousarray(chars)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _mix64(x: np.ndarray, key: int) -> np.ndarray:
    """A bijection on uint64 (splitmix64's finaliser): distinct inputs stay distinct."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(key) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def _uuids(ordinals: np.ndarray, key: int) -> pa.Array:
    """UUID-shaped hex strings, unique because the first half is a bijection of ordinals."""
    n = len(ordinals)
    halves = np.empty((n, 2), dtype=np.uint64)
    halves[:, 0] = _mix64(ordinals, key)
    halves[:, 1] = _mix64(ordinals, key + 1)
    hexes = _HEX[halves.astype(">u8").view(np.uint8).reshape(n, 16)].view(np.uint8)
    out = np.full((n, 36), ord("-"), dtype=np.uint8)
    for src, dst, width in ((0, 0, 8), (8, 9, 4), (12, 14, 4), (16, 19, 4), (20, 24, 12)):
        out[:, dst : dst + width] = hexes[:, src : src + width]
    return _fixed_width_strings(out)


def _choice(rng: np.random.Generator, weights: Sequence[float], size: int) -> np.ndarray:
    p = np.asarray(weights, dtype=float)
    return rng.choice(len(p), size=size, p=p / p.sum())


def _choice_by_row(rng: np.random.Generator, table: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Draw one column index per element of ``rows`` with the weights in ``table[row]``."""
    cum = np.cumsum(table, axis=1)
    cum = cum / cum[:, -1:]
    u = rng.random(len(rows))
    return (u[:, None] > cum[rows]).sum(axis=1)


def _strings(values: Sequence[str | None]) -> pa.Array:
    return pa.array(values, type=pa.large_string())


def _join(
    *parts: pa.Array | str, sep: str = "", type: pa.DataType | None = None, **options: Any
) -> pa.Array:
    """Arrow's element-wise string join, with plain ``str`` parts taken as constants.

    ``type`` is the string type of the arrays (default ``large_string``).
    """
    type = type or pa.large_string()
    texts = [pa.scalar(p, type) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*texts, pa.scalar(sep, type), **options)


def _make_recipients(n: int, rng: np.random.Generator, start_ms: int) -> _Recipients:
    ordinals = np.arange(n, dtype=np.uint64)
    ids = 100_000_000 + np.cumsum(rng.integers(1, 40, size=n))
    domain = _choice(rng, [w for _, w, _ in pools.DOMAINS], n)
    kinds = np.array([pools.DOMAIN_KINDS.index(k) for _, _, k in pools.DOMAINS])[domain]
    first = rng.integers(0, len(pools.FIRST_NAMES), n)
    last = rng.integers(0, len(pools.LAST_NAMES), n)
    place = _choice(rng, pools.PLACE_WEIGHTS, n)

    pattern = rng.integers(0, 4, n)
    first_ascii = _strings([a for _, a in pools.FIRST_NAMES]).take(pa.array(first))
    initials = _strings([a[0] for _, a in pools.FIRST_NAMES]).take(pa.array(first))
    last_ascii = _strings([a for _, a in pools.LAST_NAMES]).take(pa.array(last))
    head = pc.if_else(pa.array(pattern == 2), initials, first_ascii)
    sep = _strings([".", "_", "", ""]).take(pa.array(pattern))
    number = pa.array(ids % 100_000).cast(pa.large_string())
    domains = _strings([d for d, _, _ in pools.DOMAINS]).take(pa.array(domain))
    email = _join(head, sep, last_ascii, number, "@", domains)

    apple = kinds == pools.DOMAIN_KINDS.index("apple")
    mpp = rng.random(n) < np.where(apple, _MPP_SHARE["apple"], _MPP_SHARE_OTHER)
    corporate = kinds == pools.DOMAIN_KINDS.index("corporate")
    scanner = corporate & (rng.random(n) < _SCANNER_SHARE_CORPORATE)
    scanner_agent = np.where(
        scanner, _SCANNER_AGENT_IDX[rng.integers(0, len(_SCANNER_AGENT_IDX), n)], -1
    )
    open_w = np.asarray(pools.OPEN_AGENT_WEIGHTS, dtype=float)
    click_w = np.asarray(pools.CLICK_AGENT_WEIGHTS, dtype=float)

    signup_days = start_ms // 86_400_000 - rng.integers(30, 11 * 365, n)
    uniq_days, inverse = np.unique(signup_days, return_inverse=True)
    day_text = np.datetime_as_string(uniq_days.astype("datetime64[D]"))
    missing = rng.random((n, 3))
    columns = {
        "FirstName": _strings([f for f, _ in pools.FIRST_NAMES]).take(
            pa.array(first, mask=missing[:, 0] < 0.03)
        ),
        "LastName": _strings([last_ for last_, _ in pools.LAST_NAMES]).take(
            pa.array(last, mask=missing[:, 1] < 0.02)
        ),
        "City": _strings([c for c, _, _ in pools.PLACES]).take(pa.array(place)),
        "Country": _strings([c for _, c, _ in pools.PLACES]).take(pa.array(place)),
        "Language": _strings([lang for _, _, lang in pools.PLACES]).take(pa.array(place)),
        "LoyaltyTier": _strings(pools.LOYALTY_TIERS).take(
            pa.array(_choice(rng, pools.LOYALTY_WEIGHTS, n), mask=missing[:, 2] < 0.25)
        ),
        "SignupDate": _strings(list(day_text)).take(pa.array(inverse)),
    }
    return _Recipients(
        n=n,
        recipient_id=pa.array(ids).cast(pa.large_string()),
        encoded_id=_fixed_width_strings(_ALNUM[rng.integers(0, len(_ALNUM), (n, 20))]),
        contact_id=_uuids(ordinals, key=int(rng.integers(1, 2**62))),
        email=email,
        domain=domain,
        kind=kinds,
        text=rng.random(n) < _TEXT_SHARE,
        mpp=mpp,
        engagement=rng.beta(*_ENGAGEMENT_BETA, n),
        open_agent=_OPEN_AGENT_IDX[_choice_by_row(rng, open_w, kinds)],
        click_agent=_CLICK_AGENT_IDX[_choice_by_row(rng, click_w, kinds)],
        scanner_agent=scanner_agent,
        suppressed=rng.random(n) < _SUPPRESSED_SHARE,
        columns=columns,
    )


# --- mailings -----------------------------------------------------------------------------
def _plan_mailings(
    rng: np.random.Generator,
    types: Sequence[str],
    *,
    first_index: int,
    start_ms: int,
    window_ms: int,
    id_base: int,
) -> list[dict[str, Any]]:
    """Schedule and describe mailings ``first_index ...`` inside one window."""
    n_batch = sum(t in _BATCH_TYPES for t in types)
    batch_rank = 0
    day = pd.Timestamp(start_ms, unit="ms", tz="UTC").strftime("%Y-%m-%d")
    mailings = []
    for offset, mailing_type in enumerate(types):
        index = first_index + offset
        name, subject, slug = pools.MAILINGS[index % len(pools.MAILINGS)]
        if mailing_type in _BATCH_TYPES:
            position = 0.25 + 0.45 * batch_rank / max(n_batch - 1, 1)
            batch_rank += 1
            begin = start_ms + int(window_ms * position + rng.integers(0, 15) * 60_000)
            begin -= begin % 60_000
            duration = int(rng.uniform(1.0, 3.0) * _MS_PER_HOUR)
            share = rng.uniform(0.6, 0.95)
            send_type = "Scheduled"
        else:
            begin, duration = start_ms, window_ms
            share = rng.uniform(0.04, 0.12)
            send_type = "Triggered"
        n_links = int(rng.integers(3, 7))
        picks = rng.choice(len(pools.LINKS), size=n_links, replace=False)
        links = []
        for slot, pick in enumerate(picks):
            description, path = pools.LINKS[pick]
            if not path:
                links.append((description, pools.SOCIAL_URL))
                continue
            glue = "&" if "?" in path else "?"
            content = description.lower().replace(" ", "-").replace(":", "").replace("&", "and")
            links.append(
                (
                    description,
                    f"{pools.SHOP_URL}{path}{glue}utm_source=acoustic&utm_medium=email"
                    f"&utm_campaign={slug}&utm_content={slot + 1}-{content}",
                )
            )
        mailings.append(
            {
                "messageId": str(id_base + 7919 * index),
                "messageName": f"{name} {day}",
                "subjectLine": subject,
                "mailingTemplateId": str(id_base // 10 + 31 * index + 3),
                "reportId": str(id_base * 3 + 104_729 * index),
                "sendType": send_type,
                "mailingType": mailing_type,
                "messageGroupId": str(id_base // 7 + index) if mailing_type == "ABTest" else None,
                "programId": str(20_000 + 17 * index) if mailing_type == "Programs" else None,
                "trackingCode": f"EM{day[2:4]}{day[5:7]}-{slug}",
                "send_start": begin,
                "send_end": begin + duration,
                "share": share,
                "links": links,
            }
        )
    return mailings


# --- the simulation -----------------------------------------------------------------------
_FIELDS = ("rec", "mail", "kind", "t", "agent", "link", "bounce", "optout", "doc")


def _lognormal_ms(rng: np.random.Generator, median_s: float, sigma: float, size: int) -> np.ndarray:
    return rng.lognormal(np.log(median_s * 1000.0), sigma, size)


def _repeat_times(
    rng: np.random.Generator,
    first: np.ndarray,
    counts: np.ndarray,
    gap_median_s: float,
    gap_sigma: float,
) -> np.ndarray:
    """Times of ``counts[i]`` events per row: the first at ``first[i]``, then later gaps."""
    total = int(counts.sum())
    gaps = _lognormal_ms(rng, gap_median_s, gap_sigma, total)
    starts = np.cumsum(counts) - counts
    gaps[starts] = 0.0
    cum = np.cumsum(gaps)
    return np.repeat(first - cum[starts], counts) + cum


def _events(kind: int, rec: np.ndarray, mail: int, t: np.ndarray, **cols: Any) -> dict:
    n = len(rec)
    out = {
        "rec": rec,
        "mail": np.full(n, mail, dtype=np.int32),
        "kind": np.full(n, kind, dtype=np.int8),
        "t": np.asarray(t, dtype=np.int64),
        "agent": np.full(n, -1, dtype=np.int16),
        "link": np.full(n, -1, dtype=np.int32),
        "bounce": np.full(n, -1, dtype=np.int8),
        "optout": np.full(n, -1, dtype=np.int8),
        "doc": np.full(n, -1, dtype=np.int8),
    }
    for name, value in cols.items():
        out[name][:] = value
    return out


def _simulate_mailing(
    rng: np.random.Generator, rcp: _Recipients, mailing: dict, mail: int, link_base: int
) -> list[dict]:
    audience = np.flatnonzero(rng.random(rcp.n) < mailing["share"])
    audience = rng.permutation(audience)
    span = mailing["send_end"] - mailing["send_start"]
    t_send = mailing["send_start"] + (rng.random(len(audience)) * span).astype(np.int64)
    blocked = rcp.suppressed[audience]
    parts = [_events(_SUPPRESSED, audience[blocked], mail, t_send[blocked])]
    sent, t_send = audience[~blocked], t_send[~blocked]
    doc = rcp.text[sent].astype(np.int8)
    parts.append(_events(_SEND, sent, mail, t_send, doc=doc))

    u = rng.random(len(sent))
    hard = u < _HARD_BOUNCE_RATE
    soft = (u >= _HARD_BOUNCE_RATE) & (u < _HARD_BOUNCE_RATE + _SOFT_BOUNCE_RATE)
    t_hard = t_send[hard] + 1000 + rng.exponential(20_000, hard.sum())
    t_soft = t_send[soft] + rng.uniform(0.5, 8.0, soft.sum()) * _MS_PER_HOUR
    parts.append(_events(_BOUNCE, sent[hard], mail, t_hard, bounce=0, doc=doc[hard]))
    parts.append(_events(_BOUNCE, sent[soft], mail, t_soft, bounce=1, doc=doc[soft]))

    ok = ~(hard | soft)
    dlv, t_dlv, doc = sent[ok], t_send[ok], doc[ok]
    text, mpp = rcp.text[dlv], rcp.mpp[dlv] & ~rcp.text[dlv]
    p_open = np.where(text, 0.0, np.where(mpp, _MPP_OPEN_PROB, rcp.engagement[dlv]))
    opened = rng.random(len(dlv)) < p_open
    human = opened & ~mpp
    first_open = t_dlv + np.where(
        mpp,
        3000 + rng.exponential(120_000, len(dlv)),
        np.clip(_lognormal_ms(rng, 5400, 1.6, len(dlv)), 4000, 6 * 86_400_000),
    )
    for who, gap_median, gap_sigma, extra, agent in (
        (human, 3600, 1.8, rng.geometric(0.6, len(dlv)) - 1, rcp.open_agent[dlv]),
        (opened & mpp, 8 * 3600, 0.7, (rng.random(len(dlv)) < 0.2).astype(int), _MPP_AGENT_IDX),
    ):
        counts = 1 + extra[who]
        times = _repeat_times(rng, first_open[who], counts, gap_median, gap_sigma)
        agents = np.repeat(np.broadcast_to(agent, len(dlv))[who], counts)
        doc_rep = np.repeat(doc[who], counts)
        parts.append(_events(_OPEN, np.repeat(dlv[who], counts), mail, times, agent=agents,
                             doc=doc_rep))  # fmt: skip

    p_click = np.select(
        [text, mpp, opened],
        [_CLICK_PROB["text"], _CLICK_PROB["mpp"], _CLICK_PROB["opener"]],
        _CLICK_PROB["blind"],
    )
    clicked = rng.random(len(dlv)) < p_click
    base = np.where(human, first_open, t_dlv + _lognormal_ms(rng, 3600, 1.5, len(dlv)))
    first_click = base + 2000 + _lognormal_ms(rng, 40, 1.0, len(dlv))
    counts = 1 + (rng.geometric(0.65, len(dlv)) - 1)[clicked]
    times = _repeat_times(rng, first_click[clicked], counts, 60, 1.2)
    n_links = len(mailing["links"])
    link_w = 1.0 / np.arange(1, n_links + 1) ** 1.1
    links = link_base + _choice(rng, link_w, int(counts.sum()))
    who = np.repeat(dlv[clicked], counts)
    parts.append(_events(_CLICK, who, mail, times, agent=rcp.click_agent[who], link=links,
                         doc=np.repeat(doc[clicked], counts)))  # fmt: skip

    scanned = rcp.scanner_agent[dlv] >= 0
    who = np.repeat(dlv[scanned], n_links)
    times = np.repeat(t_dlv[scanned], n_links) + rng.uniform(800, 15_000, len(who))
    links = np.tile(link_base + np.arange(n_links), int(scanned.sum()))
    parts.append(_events(_CLICK, who, mail, times, agent=rcp.scanner_agent[who], link=links,
                         doc=np.repeat(doc[scanned], n_links)))  # fmt: skip

    quits = rng.random(len(dlv)) < np.where(opened, _OPT_OUT_PROB["opener"], _OPT_OUT_PROB["other"])
    t_quit = np.where(opened, first_open, t_dlv) + _lognormal_ms(rng, 45, 1.2, len(dlv))
    detail = _choice(rng, pools.OPT_OUT_WEIGHTS, int(quits.sum()))
    parts.append(_events(_OPT_OUT, dlv[quits], mail, t_quit[quits], optout=detail,
                         doc=doc[quits]))  # fmt: skip
    return parts


def _simulate(
    rng: np.random.Generator,
    rcp: _Recipients,
    mailings: Sequence[dict],
    *,
    first_mail: int = 0,
    link_base: int = 0,
) -> dict[str, np.ndarray]:
    """Every event of ``mailings``, unsorted, as parallel arrays.

    ``mail`` and ``link`` index the mailings and their links counted from ``first_mail``
    and ``link_base``, so chunks of a long campaign share one numbering.
    """
    parts: list[dict] = []
    for offset, mailing in enumerate(mailings):
        parts.extend(_simulate_mailing(rng, rcp, mailing, first_mail + offset, link_base))
        link_base += len(mailing["links"])
    return {f: np.concatenate([p[f] for p in parts]) for f in _FIELDS} if parts else _empty()


def _empty() -> dict[str, np.ndarray]:
    return _events(_SEND, np.empty(0, dtype=np.int64), 0, np.empty(0))


def _concat(*chunks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f: np.concatenate([c[f] for c in chunks]) for f in _FIELDS}


def _select(arrays: Mapping[str, np.ndarray], index: Any) -> dict[str, np.ndarray]:
    return {f: arrays[f][index] for f in _FIELDS}


# --- arrays -> the events frame -------------------------------------------------------------
def _categorical(codes: np.ndarray, values: Sequence[str | None]) -> pd.Categorical:
    """``values[codes]`` as a Categorical with sorted, used, distinct string categories."""
    values = list(values)
    used = np.bincount(codes + 1, minlength=len(values) + 1)[1:] > 0  # slot 0 counts -1
    cats = sorted({v for i, v in enumerate(values) if used[i] and v is not None and v != ""})
    lookup = {v: i for i, v in enumerate(cats)}
    table = np.array([lookup.get(v, -1) if v else -1 for v in values] + [-1], dtype=np.int32)
    return pd.Categorical.from_codes(table[codes], categories=pd.Index(cats, dtype="str"))


def _string_column(values: pa.Array) -> pd.arrays.ArrowStringArray:
    return pd.array(values, dtype=pd.StringDtype())


def _to_frame(
    ev: Mapping[str, np.ndarray],
    rcp: _Recipients,
    mailings: Sequence[dict],
    database_columns: Sequence[str],
    *,
    first_event: int,
    id_key: int,
) -> pd.DataFrame:
    n = len(ev["t"])
    rec = pa.array(ev["rec"])
    mail = ev["mail"]
    links = [link for m in mailings for link in m["links"]]

    def per_mailing(field: str) -> pd.Categorical:
        return _categorical(mail, [m[field] for m in mailings])

    cols: dict[str, Any] = {
        "Email": _string_column(rcp.email.take(rec)),
        "RECIPIENT_ID": _string_column(rcp.recipient_id.take(rec)),
        "ENCODED_RECIPIENT_ID": _string_column(rcp.encoded_id.take(rec)),
        "contactId": _string_column(rcp.contact_id.take(rec)),
        "code": _categorical(ev["kind"], _CODES),
        "messageId": per_mailing("messageId"),
        "userAgent": _categorical(ev["agent"], _AGENTS),
        "messageName": per_mailing("messageName"),
        "mailingTemplateId": per_mailing("mailingTemplateId"),
        "subjectLine": per_mailing("subjectLine"),
        "docType": _categorical(ev["doc"], _DOC_TYPES),
        "reportId": per_mailing("reportId"),
        "sendType": per_mailing("sendType"),
        "bounceType": _categorical(ev["bounce"], _BOUNCE_TYPES),
        "urlDescription": _categorical(ev["link"], [d for d, _ in links]),
        "clickUrl": _categorical(ev["link"], [u for _, u in links]),
        "optOutDetails": _categorical(ev["optout"], pools.OPT_OUT_DETAILS),
        "messageGroupId": per_mailing("messageGroupId"),
        "programId": per_mailing("programId"),
        "timestamp": pd.DatetimeIndex(ev["t"].astype("datetime64[ms]"))
        .tz_localize("UTC")
        .as_unit("us"),
        MAILING_TYPE_COLUMN: per_mailing("mailingType"),
        "eventId": _string_column(
            _uuids(np.arange(first_event, first_event + n, dtype=np.uint64), id_key)
        ),
        "externalSystemName": _categorical(np.full(n, -1), []),
        "externalSystemReferenceId": _categorical(np.full(n, -1), []),
        "trackingCode": per_mailing("trackingCode"),
    }
    for name in database_columns:
        cols[name] = _string_column(rcp.columns[name].take(rec))
    cols[schema.EVENT_TYPE_COLUMN] = cols["code"].copy()
    return pd.DataFrame(cols)


# --- public: generation ---------------------------------------------------------------------
def _check_database_columns(names: Sequence[str] | None) -> list[str]:
    names = list(names or [])
    unknown = [c for c in names if c not in DATABASE_COLUMNS]
    if unknown:
        raise BexConfigError(
            f"database_columns: unknown column(s) {unknown}; choose from {list(DATABASE_COLUMNS)}"
        )
    if len(names) > schema.MAX_DATABASE_COLUMNS or len(set(names)) != len(names):
        raise BexConfigError(
            f"database_columns: {names} must be at most {schema.MAX_DATABASE_COLUMNS} "
            "distinct names; drop some"
        )
    return names


def _mailing_types(n_mailings: int, mailing_types: Sequence[str] | None) -> list[str]:
    if n_mailings < 0:
        raise BexConfigError(f"n_mailings={n_mailings}: give 0 or more mailings")
    cycle = list(mailing_types) if mailing_types else list(_DEFAULT_TYPES)
    bad = [t for t in cycle if t not in schema.MAILING_TYPES]
    if bad:
        raise BexConfigError(
            f"mailing_types: unknown {bad}; choose from {list(schema.MAILING_TYPES)}"
        )
    return [cycle[i % len(cycle)] for i in range(n_mailings)]


def _start_ms(start: str | pd.Timestamp) -> int:
    ts = pd.Timestamp(start)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value) // 1_000_000


def generate_campaign(
    *,
    n_recipients: int = 1000,
    n_mailings: int = 4,
    start: str | pd.Timestamp = "2026-11-02T08:00:00Z",
    days: float = 1.0,
    seed: int = 0,
    database_columns: Sequence[str] | None = None,
    mailing_types: Sequence[str] | None = None,
) -> Campaign:
    """Simulate a contact database, a few mailings and every event they cause.

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
        SendExperience, Programs, ABTest, AutoResponder, SendExperience, AMG.

    Returns
    -------
    Campaign
        ``events`` sorted by timestamp, plus the ``mailings`` and ``recipients`` tables.

    Raises
    ------
    BexConfigError
        On an unknown database column or mailing type, or more than 5 columns.

    Examples
    --------
    >>> c = generate_campaign(n_recipients=50, n_mailings=2, seed=1)
    >>> list(c.mailings["mailingType"])
    ['SendExperience', 'Programs']
    >>> c.events["timestamp"].is_monotonic_increasing
    True
    """
    columns = _check_database_columns(database_columns)
    types = _mailing_types(n_mailings, mailing_types)
    if days <= 0:
        raise BexConfigError(f"days={days}: give a positive window length")
    rng = np.random.default_rng(seed)
    start_ms = _start_ms(start)
    window_ms = int(days * 86_400_000)
    rcp = _make_recipients(int(n_recipients), rng, start_ms)
    id_base = int(rng.integers(10_000_000, 40_000_000))
    mailings = _plan_mailings(
        rng, types, first_index=0, start_ms=start_ms, window_ms=window_ms, id_base=id_base
    )
    ev = _simulate(rng, rcp, mailings)
    keep = np.flatnonzero(ev["t"] < start_ms + window_ms)
    ev = _select(ev, keep[np.argsort(ev["t"][keep], kind="stable")])
    events = _to_frame(ev, rcp, mailings, columns, first_event=0, id_key=seed + 17)
    log.info("generated %d events for %d mailings", len(events), len(mailings))
    return Campaign(
        events=events, mailings=_mailings_table(mailings), recipients=_recipients_table(rcp)
    )


def _mailings_table(mailings: Sequence[dict]) -> pd.DataFrame:
    table = pd.DataFrame(
        [{k: v for k, v in m.items() if k not in ("share",)} for m in mailings],
        columns=[
            "messageId", "messageName", "subjectLine", "mailingTemplateId", "reportId",
            "sendType", "mailingType", "messageGroupId", "programId", "trackingCode",
            "send_start", "send_end", "links",
        ],
    )  # fmt: skip
    for col in ("send_start", "send_end"):
        table[col] = pd.to_datetime(table[col], unit="ms", utc=True)
    return table


def _recipients_table(rcp: _Recipients) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "RECIPIENT_ID": _string_column(rcp.recipient_id),
            "ENCODED_RECIPIENT_ID": _string_column(rcp.encoded_id),
            "contactId": _string_column(rcp.contact_id),
            "Email": _string_column(rcp.email),
            "domain": pd.Categorical.from_codes(
                rcp.domain, categories=pd.Index([d for d, _, _ in pools.DOMAINS], dtype="str")
            ),
            "suppressed": rcp.suppressed,
        }
    )
    for name, values in rcp.columns.items():
        table[name] = _string_column(values)
    return table


def generate_events(
    *,
    n_recipients: int = 1000,
    n_mailings: int = 4,
    start: str | pd.Timestamp = "2026-11-02T08:00:00Z",
    days: float = 1.0,
    seed: int = 0,
    database_columns: Sequence[str] | None = None,
    mailing_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """The events frame of :func:`generate_campaign` (same parameters), nothing else.

    Examples
    --------
    >>> events = generate_events(n_recipients=50, n_mailings=1, seed=3)
    >>> list(events.columns[-3:])
    ['externalSystemReferenceId', 'trackingCode', 'eventType']
    >>> events["eventId"].is_unique
    True
    """
    return generate_campaign(
        n_recipients=n_recipients,
        n_mailings=n_mailings,
        start=start,
        days=days,
        seed=seed,
        database_columns=database_columns,
        mailing_types=mailing_types,
    ).events


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


# --- writing delimited text fast -------------------------------------------------------------
_ROWS_PER_BATCH = 250_000
_LINE_END = "\n"
_TIMESTAMP_FORMATS = ("iso", "us")
_MS_SUFFIX_ISO = pa.array([f".{i:03d}Z" for i in range(1000)], type=pa.string())


def _quote(text: str, delimiter: str) -> str:
    """One field with :mod:`csv` ``QUOTE_MINIMAL`` semantics."""
    if any(ch in text for ch in (delimiter, '"', "\r", "\n")):
        return '"' + text.replace('"', '""') + '"'
    return text


def _quote_array(values: pa.Array, delimiter: str) -> pa.Array:
    """Quote the values holding the delimiter, a double quote or a line break."""
    values = values.cast(pa.string())
    specials = np.frombuffer((delimiter + '"\r\n').encode(), np.uint8)
    data = values.buffers()[2]
    if data is None or not np.isin(np.frombuffer(data, np.uint8), specials).any():
        return values  # the common case: one pass over the bytes, nothing to quote
    needs = pc.match_substring_regex(values, "[" + "".join(f"\\x{b:02x}" for b in specials) + "]")
    quoted = _join('"', pc.replace_substring(values, '"', '""'), '"', type=pa.string())
    return pc.if_else(needs, quoted, values)


@functools.cache
def _times_of_day() -> pa.Array:
    """``HH:MM:SS`` for every second of a day, built once."""
    return pa.array(
        [f"{h:02d}:{m:02d}:{sec:02d}" for h in range(24) for m in range(60) for sec in range(60)],
        type=pa.string(),
    )


def _format_timestamps(values: pd.Series, timestamp_format: str) -> pa.Array:
    """Timestamps as ISO 8601 with milliseconds and ``Z``, or US ``MM/DD/YYYY HH:MM:SS``.

    Dates are formatted once per distinct day and times of day come from a table, so the
    cost per row is a few array lookups.
    """
    if values.dt.tz is None:
        values = values.dt.tz_localize("UTC")
    naive = values.dt.tz_convert("UTC").dt.tz_localize(None)
    missing = naive.isna().to_numpy()
    ms = naive.to_numpy("datetime64[ms]").astype(np.int64)
    ms[missing] = 0
    seconds = ms // 1000
    days, inverse = np.unique(seconds // 86_400, return_inverse=True)
    pattern, glue = ("%Y-%m-%d", "T") if timestamp_format == "iso" else ("%m/%d/%Y", " ")
    dates = pc.strftime(pa.array(days * 86_400, type=pa.timestamp("s", "UTC")), pattern)
    parts = [
        dates.cast(pa.string()).take(pa.array(inverse, mask=missing)),
        _times_of_day().take(pa.array(seconds % 86_400)),
    ]
    if timestamp_format == "iso":
        parts.append(_MS_SUFFIX_ISO.take(pa.array(ms % 1000)))
    return (
        _join(*parts, sep="", type=pa.string())
        if glue == ""
        else _join(parts[0], _join(*parts[1:], type=pa.string()), sep=glue, type=pa.string())
    )


def _column_text(
    values: pd.Series | None, n: int, delimiter: str, timestamp_format: str
) -> pa.Array:
    """One column as quoted Arrow text (missing stays null, written as an empty cell)."""
    if values is None:
        return pa.nulls(n, type=pa.string())
    if isinstance(values.dtype, pd.CategoricalDtype):
        cats = [_quote(str(c), delimiter) for c in values.cat.categories]
        codes = values.cat.codes.to_numpy()
        return pa.array(cats, type=pa.string()).take(pa.array(codes, mask=codes < 0))
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        return _format_timestamps(values, timestamp_format)
    return _quote_array(pa.array(values.astype(pd.StringDtype()).array), delimiter)


def _encode_rows(
    frame: pd.DataFrame, columns: Sequence[str], delimiter: str, timestamp_format: str
) -> Iterator[memoryview]:
    """The rows of ``frame`` as delimited UTF-8 lines, in batches."""
    for begin in range(0, len(frame), _ROWS_PER_BATCH):
        part = frame.iloc[begin : begin + _ROWS_PER_BATCH]
        texts = [
            _column_text(part[c] if c in part.columns else None, len(part), delimiter,
                         timestamp_format)
            for c in columns
        ]  # fmt: skip
        texts[-1] = _join(pc.fill_null(texts[-1], ""), _LINE_END, type=pa.string())
        lines = _join(
            *texts, sep=delimiter, type=pa.string(), null_handling="replace", null_replacement=""
        )
        offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
        offsets = offsets[lines.offset : lines.offset + len(lines) + 1]
        yield memoryview(lines.buffers()[2])[offsets[0] : offsets[-1]]


def _header(columns: Sequence[str], delimiter: str) -> bytes:
    return (delimiter.join(_quote(c, delimiter) for c in columns) + _LINE_END).encode()


def _write_text(
    fs: Any,
    path: str,
    frame: pd.DataFrame,
    columns: Sequence[str],
    *,
    delimiter: str,
    timestamp_format: str,
    gzipped: bool,
) -> None:
    with fs.open(path, "wb") as raw:
        out = (
            gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=6, mtime=0, filename="")
            if gzipped
            else raw
        )
        try:
            out.write(_header(columns, delimiter))
            for chunk in _encode_rows(frame, columns, delimiter, timestamp_format):
                out.write(chunk)
        finally:
            if gzipped:
                out.close()


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
        Keep only these event codes (``schema.EVENT_TYPES``); default all.
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
    if timestamp_format not in _TIMESTAMP_FORMATS:
        raise BexConfigError(
            f"timestamp_format={timestamp_format!r}: use one of {_TIMESTAMP_FORMATS}"
        )
    extra = _database_columns_of(events, database_columns)
    if event_types is not None:
        bad = [t for t in event_types if t not in schema.EVENT_TYPES]
        if bad:
            raise BexConfigError(
                f"event_types: unknown {bad}; choose from {list(schema.EVENT_TYPES)}"
            )
        events = events[_event_codes(events).isin(list(event_types)).fillna(False).to_numpy()]
    columns = [*schema.BEX_COLUMNS, *extra]
    if events.empty:
        return []

    ms = _timestamp_ms(events)
    window_ms = frequency * _MS_PER_HOUR
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
        _write_text(
            fs, posixpath.join(root, name), events.iloc[begin:end], columns,
            delimiter=schema.DELIMITERS[fmt], timestamp_format=timestamp_format,
            gzipped=compression == "gzip",
        )  # fmt: skip
        written.append(f"{str(dest).rstrip('/')}/{name}")
    log.info("wrote %d events to %d %s files in %s", len(events), len(written), fmt, dest)
    return written


# --- RRDE -----------------------------------------------------------------------------------
def _rrde_event_types(events: pd.DataFrame) -> pd.Categorical:
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
    return pd.Categorical(mapped.astype("string").replace("", pd.NA))


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
    ``Event Type`` as Sent/Open/Click/Opt Out/Hard Bounce/Soft Bounce/Suppressed and
    ``Event Timestamp`` as ``12/29/2024 00:00:03`` (UTC).

    Parameters
    ----------
    events : pandas.DataFrame
        An events frame.
    path : str
        A ``.zip`` path, or a folder: then the zip is named like
        ``Raw Recipient Data Export Nov 02 2026 08-00-00 AM 1295.zip`` after the hour of
        the first event and ``export_id``.
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
    first = pd.Timestamp(int(ms.min()) if len(ms) else 0, unit="ms", tz="UTC").floor("h")
    stem = f"Raw Recipient Data Export {first:%b %d %Y %I-%M-%S %p} {export_id}"

    def col(name: str) -> pd.Series | None:
        return events[name] if name in events.columns else None

    frame = pd.DataFrame(
        {
            "Recipient Id": col("RECIPIENT_ID"),
            "Recipient Type": pd.Categorical(["Normal"] * len(events)),
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
        fs, _ = _open_dest(posixpath.dirname(str(path)) or ".", storage_options)
        target, url = fs._strip_protocol(str(path)), str(path)
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
        out.write(_header(columns, ","))
        for chunk in _encode_rows(frame, columns, ",", "us"):
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
    columns = _check_database_columns(database_columns)
    types = _mailing_types(mailings_per_day, mailing_types)
    if frequency not in schema.JOB_FREQUENCIES:
        raise BexConfigError(f"frequency={frequency!r}: use one of {schema.JOB_FREQUENCIES}")
    if n_recipients is None:
        per_day = _EVENTS_PER_RECIPIENT_DAY * max(len(types), 1) / 4
        n_recipients = max(100, int(chunk_events / per_day))
    rng = np.random.default_rng(seed)
    start_ms = _start_ms(start)
    rcp = _make_recipients(int(n_recipients), rng, start_ms)
    id_base = int(rng.integers(10_000_000, 40_000_000))
    window_ms = frequency * _MS_PER_HOUR
    day_ms = 86_400_000

    mailings: list[dict] = []
    carry = _empty()
    files: list[str] = []
    written = idle_days = day = 0
    while written < n_events:
        day_start = start_ms + day * day_ms
        todays = _plan_mailings(
            rng, types, first_index=len(mailings), start_ms=day_start, window_ms=day_ms,
            id_base=id_base,
        )  # fmt: skip
        link_base = sum(len(m["links"]) for m in mailings)
        new = _simulate(rng, rcp, todays, first_mail=len(mailings), link_base=link_base)
        mailings.extend(todays)
        pending = _concat(carry, new)
        pending = _select(pending, np.argsort(pending["t"], kind="stable"))
        boundary = day_start + day_ms
        boundary -= boundary % window_ms
        ready = int(np.searchsorted(pending["t"], boundary))
        ready = min(ready, n_events - written)
        carry = _select(pending, slice(ready, None))
        if ready:
            frame = _to_frame(
                _select(pending, slice(0, ready)), rcp, mailings, columns,
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
        out.write(_samples_readme(campaign, files, base, n_recipients=n_recipients, seed=seed))
    return [*files, readme]


def _headline(events: pd.DataFrame) -> pd.DataFrame:
    """Per mailing: sent, bounces, delivered, unique opens and clicks, opt-outs."""
    who = events["RECIPIENT_ID"].astype("string")
    code = events["code"].astype("string")
    bounce = events["bounceType"].astype("string")
    mailing = events["messageId"].astype("string")

    def distinct(mask: pd.Series) -> pd.Series:
        return who[mask].groupby(mailing[mask]).nunique()

    table = (
        pd.DataFrame(
            {
                "sent": distinct(code == "emailSend"),
                "suppressed": distinct(code == "emailSuppressed"),
                "hard_bounced": distinct((code == "emailBounce") & (bounce == "Hard")),
                "soft_bounced": distinct((code == "emailBounce") & (bounce == "Soft")),
                "unique_opens": distinct(code == "emailOpen"),
                "unique_clicks": distinct(code == "emailClick"),
                "opt_outs": distinct(code == "emailOptOut"),
            }
        )
        .fillna(0)
        .astype(int)
    )
    table.insert(4, "delivered", table["sent"] - table["hard_bounced"] - table["soft_bounced"])
    return table


def _samples_readme(
    campaign: Campaign, files: Sequence[str], base: str, *, n_recipients: int, seed: int
) -> str:
    events = campaign.events
    counts = events["code"].astype("string").value_counts().reindex(list(schema.EVENT_TYPES))
    bounces = events["bounceType"].astype("string").value_counts()
    heads = _headline(events)
    mailings = campaign.mailings.set_index("messageId")
    lines = [
        "# data-samples",
        "",
        "Synthetic Acoustic Campaign exports made by `bextoolkit.samples` (no real person or",
        "company is in them). One simulated day, 2026-11-02 00:00 to 2026-11-03 00:00 UTC, of",
        f"{len(campaign.mailings)} mailings to a database of {n_recipients} contacts, "
        f"{len(events)} events, written in every shape the readers must take.",
        "",
        "Regenerate them (byte for byte, with the same numpy and pyarrow) with:",
        "",
        "```",
        f"bextoolkit samples data-samples --recipients {n_recipients} --seed {seed}",
        "```",
        "",
        "or `bextoolkit.samples.write_samples('data-samples', "
        f"n_recipients={n_recipients}, seed={seed})`.",
        "",
        "| folder | what |",
        "|---|---|",
        "| `csv/` | BEX export, CSV, one file per hour (`jobFrequency` 1), 24 files |",
        "| `psv/` | the same events as PSV (`|` delimiter) |",
        "| `tsv-gz/` | the same events as gzipped TSV (`.tsv.gz`) |",
        f"| `with-columns/` | the same events in one daily CSV (`jobFrequency` 24) with the "
        f"database columns {', '.join(SAMPLE_COLUMNS)} after the BEX columns |",
        "| `rrde/` | the same events as a RawRecipientDataExport zip (one CSV inside, "
        "with the same database columns) |",
        "",
        "## How the files are written",
        "",
        "- Names: `{prefix}{channel}_{window end, UTC, YYYYMMDDHHMMSS}_{frequency}{ext}`, e.g.",
        "  `Recipient Event Bulk Export_Email_20261102010000_1.csv` holds 00:00-01:00 UTC.",
        "- Header row: the 25 documented BEX columns, then any database columns. UTF-8, `\\n`",
        "  line ends. Fields are quoted only when they hold the delimiter, a double quote or",
        "  a line break; quotes inside are doubled (Python `csv` semantics). Empty cell =",
        "  missing value.",
        "- The event type is in `code` (emailSend, emailOpen, emailClick, emailBounce,",
        "  emailOptOut, emailSuppressed). `bounceType` is `Hard` or `Soft`.",
        "- `timestamp`: ISO 8601 UTC with milliseconds, e.g. `2026-11-02T06:00:03.123Z`; in the",
        "  RRDE file `11/02/2026 06:00:03` (UTC).",
        "- The mailing type (SendExperience, Programs, ABTest, AutoResponder, AMG) is in",
        "  `originatedFrom` (BEX documents no column for it); `sendType` is `Scheduled` for",
        "  batch mailings and `Triggered` for the others.",
        "- Subjects hold commas, double quotes, `|`, non-ASCII letters and emoji; user agents",
        "  are long real-world strings; Apple Mail Privacy Protection opens carry the bare",
        "  agent `Mozilla/5.0` and come minutes after delivery; security scanners click every",
        "  link of a mailing seconds after delivery.",
        "- Events after the end of the day are not in the files (late opens of the evening",
        "  mailing would arrive in the next day's exports).",
        "",
        "## Expected numbers (check a reader against these)",
        "",
        "Events per `code` (every file set holds the same events):",
        "",
        "| code | events |",
        "|---|---|",
        *[f"| {code} | {int(n)} |" for code, n in counts.fillna(0).items()],
        f"| **total** | {len(events)} |",
        "",
        f"Bounces: {int(bounces.get('Hard', 0))} Hard, {int(bounces.get('Soft', 0))} Soft.",
        "",
        "Per mailing (distinct `RECIPIENT_ID`; delivered = sent - hard - soft bounces):",
        "",
        "| messageId | type | subjectLine | sent | suppressed | hard | soft | delivered "
        "| unique opens | unique clicks | opt-outs |",
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for message_id, row in heads.iterrows():
        info = mailings.loc[message_id]
        subject = str(info["subjectLine"]).replace("|", "\\|")
        lines.append(
            f"| {message_id} | {info['mailingType']} | {subject} | {row['sent']} "
            f"| {row['suppressed']} | {row['hard_bounced']} | {row['soft_bounced']} "
            f"| {row['delivered']} | {row['unique_opens']} | {row['unique_clicks']} "
            f"| {row['opt_outs']} |"
        )
    lines += ["", "## Files", "", "| folder | files | first file |", "|---|---|---|"]
    for folder in _SAMPLE_FOLDERS:
        names = sorted(f[len(base) + 1 :] for f in files if f.startswith(f"{base}/{folder}/"))
        lines.append(f"| `{folder}/` | {len(names)} | `{posixpath.basename(names[0])}` |")
    return "\n".join(lines) + "\n"
