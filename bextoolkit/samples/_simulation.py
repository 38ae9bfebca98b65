"""The simulation behind :mod:`bextoolkit.samples.campaigns` (private): contacts, mailings, events.

Everything is vectorised with numpy: one Python loop per mailing, none per event. Events
travel as parallel arrays (``rec``, ``mail``, ``kind``, ``t`` in epoch milliseconds,
``agent``, ``link``, ``bounce``, ``optout``, ``doc``: indices into the pools) until
:func:`to_frame` turns them into the events frame.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples import _data as pools
from bextoolkit.samples.delimited import join_strings

#: Where the generator stores the mailing type (BEX documents no column for it).
MAILING_TYPE_COLUMN = "originatedFrom"
MS_PER_HOUR = 3_600_000

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
EVENTS_PER_RECIPIENT_DAY = 2.4

SEND, OPEN, CLICK, OPT_OUT, SUPPRESSED, BOUNCE, COMPLAINT = range(7)
_CODES = (
    "emailSend", "emailOpen", "emailClick", "emailOptOut", "emailSuppressed", "emailBounce",
    schema.COMPLAINT,
)  # fmt: skip
_BOUNCE_TYPES = ("Hard", "Soft")
_DOC_TYPES = ("HTML", "Text")


# --- recipients ---------------------------------------------------------------------------
@dataclass
class Recipients:
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
    domain_names: tuple[str, ...] = tuple(d for d, _, _ in pools.DOMAINS)


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


def _choice(
    rng: np.random.Generator, weights: Sequence[float] | np.ndarray, size: int
) -> np.ndarray:
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


def make_recipients(
    n: int,
    rng: np.random.Generator,
    start_ms: int,
    domain_pool: Sequence[tuple[str, int, str]] = pools.DOMAINS,
) -> Recipients:
    ordinals = np.arange(n, dtype=np.uint64)
    ids = 100_000_000 + np.cumsum(rng.integers(1, 40, size=n))
    domain = _choice(rng, [w for _, w, _ in domain_pool], n)
    kinds = np.array([pools.DOMAIN_KINDS.index(k) for _, _, k in domain_pool])[domain]
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
    domains = _strings([d for d, _, _ in domain_pool]).take(pa.array(domain))
    email = join_strings(head, sep, last_ascii, number, "@", domains)

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
    return Recipients(
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
        domain_names=tuple(d for d, _, _ in domain_pool),
    )


def provider_codes(rcp: Recipients) -> np.ndarray:
    """Each recipient's mailbox provider, as an index into ``pools.PROVIDERS``."""
    other = len(pools.PROVIDERS) - 1
    by_domain = {d: i for i, ds in enumerate(pools.PROVIDER_DOMAINS.values()) for d in ds}
    table = np.array([by_domain.get(d, other) for d in rcp.domain_names], dtype=np.int8)
    return table[rcp.domain]


# --- mailings -----------------------------------------------------------------------------
def plan_mailings(
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
            duration = int(rng.uniform(1.0, 3.0) * MS_PER_HOUR)
            share = rng.uniform(0.6, 0.95)
            send_type = "Scheduled"
        else:
            begin, duration = start_ms, window_ms
            share = rng.uniform(0.04, 0.12)
            send_type = "Triggered"
        mailings.append(
            describe_mailing(
                rng, index, mailing_type, (f"{name} {day}", subject, slug), day=day,
                begin=begin, duration=duration, share=share, send_type=send_type,
                id_base=id_base,
            )
        )  # fmt: skip
    return mailings


def describe_mailing(
    rng: np.random.Generator,
    index: int,
    mailing_type: str,
    series: tuple[str, str, str],
    *,
    day: str,
    begin: int,
    duration: int,
    share: float,
    send_type: str,
    id_base: int,
) -> dict[str, Any]:
    """One mailing's description: ids from ``index``, 3-6 ``utm_*``-tagged links drawn."""
    name, subject, slug = series
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
    return {
        "messageId": str(id_base + 7919 * index),
        "messageName": name,
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
    rng: np.random.Generator, rcp: Recipients, mailing: dict, mail: int, link_base: int
) -> list[dict]:
    audience = np.flatnonzero(rng.random(rcp.n) < mailing["share"])
    audience = rng.permutation(audience)
    span = mailing["send_end"] - mailing["send_start"]
    t_send = mailing["send_start"] + (rng.random(len(audience)) * span).astype(np.int64)
    blocked = rcp.suppressed[audience]
    parts = [_events(SUPPRESSED, audience[blocked], mail, t_send[blocked])]
    sent, t_send = audience[~blocked], t_send[~blocked]
    doc = rcp.text[sent].astype(np.int8)
    parts.append(_events(SEND, sent, mail, t_send, doc=doc))

    u = rng.random(len(sent))
    hard = u < _HARD_BOUNCE_RATE
    soft = (u >= _HARD_BOUNCE_RATE) & (u < _HARD_BOUNCE_RATE + _SOFT_BOUNCE_RATE)
    t_hard = t_send[hard] + 1000 + rng.exponential(20_000, hard.sum())
    t_soft = t_send[soft] + rng.uniform(0.5, 8.0, soft.sum()) * MS_PER_HOUR
    parts.append(_events(BOUNCE, sent[hard], mail, t_hard, bounce=0, doc=doc[hard]))
    parts.append(_events(BOUNCE, sent[soft], mail, t_soft, bounce=1, doc=doc[soft]))

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
        parts.append(_events(OPEN, np.repeat(dlv[who], counts), mail, times, agent=agents,
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
    parts.append(_events(CLICK, who, mail, times, agent=rcp.click_agent[who], link=links,
                         doc=np.repeat(doc[clicked], counts)))  # fmt: skip

    scanned = rcp.scanner_agent[dlv] >= 0
    who = np.repeat(dlv[scanned], n_links)
    times = np.repeat(t_dlv[scanned], n_links) + rng.uniform(800, 15_000, len(who))
    links = np.tile(link_base + np.arange(n_links), int(scanned.sum()))
    parts.append(_events(CLICK, who, mail, times, agent=rcp.scanner_agent[who], link=links,
                         doc=np.repeat(doc[scanned], n_links)))  # fmt: skip

    quits = rng.random(len(dlv)) < np.where(opened, _OPT_OUT_PROB["opener"], _OPT_OUT_PROB["other"])
    t_quit = np.where(opened, first_open, t_dlv) + _lognormal_ms(rng, 45, 1.2, len(dlv))
    detail = _choice(rng, pools.OPT_OUT_WEIGHTS, int(quits.sum()))
    parts.append(_events(OPT_OUT, dlv[quits], mail, t_quit[quits], optout=detail,
                         doc=doc[quits]))  # fmt: skip
    return parts


def simulate(
    rng: np.random.Generator,
    rcp: Recipients,
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
    return {f: np.concatenate([p[f] for p in parts]) for f in _FIELDS} if parts else empty_events()


def empty_events() -> dict[str, np.ndarray]:
    return _events(SEND, np.empty(0, dtype=np.int64), 0, np.empty(0))


def concat_events(*chunks: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {f: np.concatenate([c[f] for c in chunks]) for f in _FIELDS}


def select_events(arrays: Mapping[str, np.ndarray], index: Any) -> dict[str, np.ndarray]:
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


def to_frame(
    ev: Mapping[str, np.ndarray],
    rcp: Recipients,
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


def check_database_columns(names: Sequence[str] | None) -> list[str]:
    names = list(names or [])
    unknown = [c for c in names if c not in pools.DATABASE_COLUMNS]
    if unknown:
        raise BexConfigError(
            f"database_columns: unknown column(s) {unknown}; "
            f"choose from {list(pools.DATABASE_COLUMNS)}"
        )
    if len(names) > schema.MAX_DATABASE_COLUMNS or len(set(names)) != len(names):
        raise BexConfigError(
            f"database_columns: {names} must be at most {schema.MAX_DATABASE_COLUMNS} "
            "distinct names; drop some"
        )
    return names


def mailing_types_for(n_mailings: int, mailing_types: Sequence[str] | None) -> list[str]:
    if n_mailings < 0:
        raise BexConfigError(f"n_mailings={n_mailings}: give 0 or more mailings")
    cycle = list(mailing_types) if mailing_types else list(_DEFAULT_TYPES)
    bad = [t for t in cycle if t not in schema.MAILING_TYPES]
    if bad:
        raise BexConfigError(
            f"mailing_types: unknown {bad}; choose from {list(schema.MAILING_TYPES)}"
        )
    return [cycle[i % len(cycle)] for i in range(n_mailings)]


def to_epoch_ms(start: str | pd.Timestamp) -> int:
    ts = pd.Timestamp(start)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts.tz_convert("UTC")
    return int(ts.as_unit("ns").value) // 1_000_000


def mailings_table(mailings: Sequence[dict]) -> pd.DataFrame:
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


def recipients_table(rcp: Recipients) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "RECIPIENT_ID": _string_column(rcp.recipient_id),
            "ENCODED_RECIPIENT_ID": _string_column(rcp.encoded_id),
            "contactId": _string_column(rcp.contact_id),
            "Email": _string_column(rcp.email),
            "domain": pd.Categorical.from_codes(
                rcp.domain, categories=pd.Index(rcp.domain_names, dtype="str")
            ),
            "provider": pd.Categorical.from_codes(
                provider_codes(rcp), categories=pd.Index(pools.PROVIDERS, dtype="str")
            ),
            "suppressed": rcp.suppressed,
        }
    )
    for name, values in rcp.columns.items():
        table[name] = _string_column(values)
    return table
