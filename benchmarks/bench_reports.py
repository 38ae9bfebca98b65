"""Benchmark: sends and the reports built on them, next to DuckDB SQL answering the same.

Run from the repository root::

    .venv/bin/python benchmarks/bench_reports.py            # 5M events
    .venv/bin/python benchmarks/bench_reports.py --rows 2e6 --repeat 3

It builds one events frame shaped like :func:`bextoolkit.read_events` output (ids and
emails as pandas strings, repetitive text as ``category``), from
:func:`bextoolkit.samples.generate_events` when ``--samples`` is given, otherwise from a
fast numpy generator below. It then times each report and the same question in DuckDB
(which scans the pandas frame in place), checks both give identical numbers, and prints
the median seconds and the peak memory growth of each report (tracemalloc, which sees
NumPy and pandas buffers) beside the frame's own size.
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import bextoolkit as bex


def make_events(n_events: int, *, n_recipients: int | None = None, seed: int = 0) -> pd.DataFrame:
    """About ``n_events`` events of 20 mailings, in the events-frame dtypes, in seconds.

    Per mailing each recipient in a random ~60 % gets a send (mailings are spread so that
    sends are ~45 % of events), 2 % bounce (70 % of them hard, in several spellings), a
    quarter open (some repeatedly), a fifth of openers click links carrying utm tags.
    """
    rng = np.random.default_rng(seed)
    n_mail = 20
    n_rec = n_recipients or max(n_events // 20, 10)
    sends_per_mail = max(int(n_events * 0.6 / n_mail), 1)
    mail = np.repeat(np.arange(n_mail), sends_per_mail)
    rec = np.concatenate([rng.choice(n_rec, sends_per_mail, replace=False) for _ in range(n_mail)])
    base = pd.Timestamp("2026-11-02T08:00:00Z").value
    send_ts = base + mail * 86_400 * 10**9 + rng.integers(0, 3 * 3600, len(mail)) * 10**9
    n_send = len(mail)

    def pick(p: float) -> np.ndarray:
        return np.flatnonzero(rng.random(n_send) < p)

    bounce = pick(0.02)
    opened = np.setdiff1d(pick(0.35), bounce)
    extra = rng.choice(opened, len(opened) // 2)  # repeat opens
    opens = np.concatenate([opened, extra])
    clicked = rng.choice(opened, len(opened) // 5, replace=False)
    clicks = np.concatenate([clicked, rng.choice(clicked, len(clicked) // 2)])
    rest = n_events - n_send - len(bounce) - len(opens) - len(clicks)
    optout = rng.choice(opened, max(min(rest, len(opened) // 50), 0), replace=False)
    kinds = [
        ("emailSend", np.arange(n_send), 0),
        ("emailBounce", bounce, 60),
        ("emailOpen", opens, 3600 * 24),
        ("emailClick", clicks, 3600 * 30),
        ("emailOptOut", optout, 3600 * 40),
    ]
    parts = []
    for name, idx, spread in kinds:
        delay = rng.exponential(max(spread, 1), len(idx)).astype(np.int64) * 10**9
        parts.append((name, idx, send_ts[idx] + delay))
    idx = np.concatenate([p[1] for p in parts])
    etype = np.concatenate([np.full(len(p[1]), i) for i, p in enumerate(parts)])
    ts = np.concatenate([p[2] for p in parts])
    n = len(idx)
    ids = pd.array(np.char.add("10", rec[idx].astype(str)), dtype="str")
    domains = np.array(["gmail.com", "yahoo.com", "outlook.com", "example.org", "web.de"])
    email = pd.array(
        np.char.add(
            np.char.add("u", rec[idx].astype(str)), np.char.add("@", domains[rec[idx] % 5])
        ),
        dtype="str",
    )
    names = [p[0] for p in parts]
    is_click = etype == names.index("emailClick")
    is_bounce = etype == names.index("emailBounce")
    links = [f"https://shop.example.com/p/{i}" for i in range(40)]
    variants = [f"{u}?utm_source=bex&utm_campaign=m{m}" for u in links for m in range(3)]
    url_code = np.where(is_click, rng.integers(0, len(variants), n), -1)
    bt_vals = ["Hard", "hard bounce", "HardBounce", "Soft", "soft"]
    bt_code = np.where(is_bounce, rng.choice(5, n, p=[0.5, 0.1, 0.1, 0.2, 0.1]), -1)
    msg_ids = [str(1_000_000 + m) for m in range(n_mail)]

    def cat(codes: np.ndarray, cats: list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=cats)

    frame = pd.DataFrame(
        {
            "Email": email,
            "RECIPIENT_ID": ids,
            "messageId": cat(mail[idx], msg_ids),
            "messageName": cat(mail[idx], [f"Newsletter {m}" for m in range(n_mail)]),
            "bounceType": cat(bt_code, bt_vals),
            "urlDescription": cat(
                np.where(is_click, url_code // 3, -1), [f"link {i}" for i in range(40)]
            ),
            "clickUrl": cat(url_code, variants),
            "timestamp": pd.to_datetime(ts, utc=True),
            "eventType": cat(etype, names),
        }
    )
    return frame.sample(frac=1.0, random_state=seed).reset_index(drop=True)


def widen(frame: pd.DataFrame, seed: int = 0) -> pd.DataFrame:
    """Add the other BEX columns a real read_events frame carries (per-row ids, agents, ...)."""
    rng = np.random.default_rng(seed)
    n = len(frame)
    rid = frame["RECIPIENT_ID"].to_numpy(dtype=object)
    agents = [f"Mozilla/5.0 (agent {i})" for i in range(30)]
    mails = frame["messageId"].cat.codes.to_numpy()

    def cat(codes: np.ndarray, cats: list[str]) -> pd.Categorical:
        return pd.Categorical.from_codes(codes, categories=cats)

    extra = {
        "ENCODED_RECIPIENT_ID": pd.array(np.char.add("enc", rid.astype(str)), dtype="str"),
        "contactId": pd.array(np.char.add("c", rid.astype(str)), dtype="str"),
        "eventId": pd.array(np.arange(n).astype(str), dtype="str"),
        "userAgent": cat(rng.integers(0, len(agents), n), agents),
        "subjectLine": cat(mails, [f"Subject of mailing {m}, with news" for m in range(20)]),
        "mailingTemplateId": cat(mails, [str(5000 + m) for m in range(20)]),
        "reportId": cat(mails, [str(9000 + m) for m in range(20)]),
        "docType": cat(rng.integers(0, 2, n), ["HTML", "Text"]),
        "sendType": cat(np.zeros(n, np.int8), ["Standard"]),
    }
    return frame.assign(**extra)


# The generated frame has no missing RECIPIENT_ID, so DuckDB may key on it alone (cheaper
# than the Email fallback bextoolkit still checks for): a conservative comparison.
RID = "(SELECT *, RECIPIENT_ID AS rid FROM events)"

# The sends in SQL: one row per (mailing, recipient) with a send, and what followed it. Every
# question below aggregates this, as bextoolkit does (domain.md section 8).
SENDS = f"""
WITH e AS {RID},
s AS (SELECT messageId, rid, min(timestamp) AS sent_at FROM e
      WHERE eventType = 'emailSend' GROUP BY ALL),
o AS (SELECT messageId, rid,
             count(*) FILTER (eventType = 'emailOpen') AS opens,
             count(*) FILTER (eventType = 'emailClick') AS clicks,
             max(timestamp) FILTER (eventType = 'emailOpen') AS last_open,
             max(timestamp) FILTER (eventType = 'emailClick') AS last_click,
             bool_or(eventType = 'emailBounce') AS bounced,
             bool_or(eventType = 'emailBounce' AND lower(bounceType) LIKE '%hard%') AS hard,
             bool_or(eventType = 'emailBounce' AND lower(bounceType) LIKE '%soft%') AS soft,
             bool_or(eventType = 'emailOptOut') AS opted_out
      FROM e WHERE eventType <> 'emailSend' GROUP BY ALL),
sends AS (SELECT s.messageId, s.rid, s.sent_at, coalesce(opens, 0) AS opens,
                 coalesce(clicks, 0) AS clicks, last_open, last_click,
                 coalesce(bounced, false) AS bounced, coalesce(hard, false) AS hard,
                 coalesce(soft AND NOT hard, false) AS soft,
                 coalesce(opted_out, false) AS opted_out
          FROM s LEFT JOIN o USING (messageId, rid))
"""

DUCK_SENDS = SENDS + "SELECT * FROM sends"

DUCK_FUNNEL = (
    SENDS
    + """
SELECT CAST(messageId AS VARCHAR) AS messageId, count(*) AS sent,
       count(*) FILTER (bounced) AS bounced, count(*) FILTER (hard) AS hard_bounced,
       count(*) FILTER (soft) AS soft_bounced,
       count(*) - count(*) FILTER (bounced) AS delivered,
       count(*) FILTER (opens > 0) AS unique_opens, count(*) FILTER (clicks > 0) AS unique_clicks,
       sum(opens) AS gross_opens, sum(clicks) AS gross_clicks,
       count(*) FILTER (opted_out) AS opt_outs,
       count(DISTINCT rid) AS people_reached
FROM sends GROUP BY 1
"""
)


def duck_funnel(con: object, sql: str = DUCK_FUNNEL) -> pd.DataFrame:
    """The DuckDB funnel with its rates (NaN on zero)."""
    out = con.execute(sql).df()  # type: ignore[attr-defined]
    den = out["delivered"].replace(0, np.nan)
    out["open_rate"] = out["unique_opens"] / den
    out["click_rate"] = out["unique_clicks"] / den
    out["click_to_open"] = out["unique_clicks"] / out["unique_opens"].replace(0, np.nan)
    out["bounce_rate"] = out["bounced"] / out["sent"].replace(0, np.nan)
    return out


DUCK_FUNNEL_BY_DOMAIN = DUCK_FUNNEL.replace(
    "CAST(messageId AS VARCHAR) AS messageId", "regexp_extract(e.Email, '@(.*)$', 1) AS domain"
).replace(
    "FROM sends GROUP BY 1",
    "FROM sends JOIN (SELECT DISTINCT rid, Email FROM e) e USING (rid) GROUP BY 1",
)

# The same link with different utm tags is one link (in the generated and sample links the
# utm tags come after any other query parameter, so dropping each "?utm_..."/"&utm_..." works).
# A link's rate is over the delivered sends of the mailings it was clicked in.
DUCK_CLICKS = (
    SENDS
    + """,
c AS (SELECT regexp_replace(CAST(e.clickUrl AS VARCHAR), '[?&]utm_[^&]*', '', 'g') AS clickUrl,
             e.messageId, e.rid, e.timestamp, e.timestamp - s.sent_at AS delay
      FROM e JOIN sends s USING (messageId, rid) WHERE e.eventType = 'emailClick'),
dm AS (SELECT messageId, count(*) FILTER (NOT bounced) AS delivered FROM sends GROUP BY 1),
ld AS (SELECT clickUrl, sum(delivered) AS delivered
       FROM (SELECT DISTINCT clickUrl, messageId FROM c) JOIN dm USING (messageId) GROUP BY 1)
SELECT clickUrl, count(*) AS gross_clicks, count(DISTINCT (messageId, rid)) AS unique_clicks,
  count(DISTINCT rid) AS people, count(*) / sum(count(*)) OVER () AS click_share,
  count(DISTINCT (messageId, rid)) / any_value(ld.delivered) AS unique_click_rate,
  min(timestamp) AS first_click, max(timestamp) AS last_click,
  median(delay) AS median_time_to_click
FROM c JOIN ld USING (clickUrl) GROUP BY 1 ORDER BY 2 DESC, 1
"""
)

DUCK_BOUNCES = (
    SENDS
    + """
SELECT CASE WHEN hard THEN 'hard' ELSE 'soft' END AS bounceType,
  count(*) AS bounces, count(DISTINCT rid) AS unique_recipients,
  count(*) / sum(count(*)) OVER () AS share,
  count(*) / (SELECT count(*) FROM sends) AS rate
FROM sends WHERE bounced GROUP BY 1 ORDER BY 2 DESC
"""
)

DUCK_RECIPIENTS = (
    SENDS
    + """
SELECT rid AS RECIPIENT_ID, count(*) AS mailings_sent,
       count(*) FILTER (opens > 0) AS mailings_opened,
       count(*) FILTER (clicks > 0) AS mailings_clicked,
       min(sent_at) AS first_sent, max(last_open) AS last_open, max(last_click) AS last_click,
       bool_or(hard) AS hard_bounced, bool_or(opted_out) AS opted_out
FROM sends GROUP BY rid
"""
)


def frame_bytes(frame: pd.DataFrame) -> int:
    return int(frame.memory_usage(deep=True).sum())


def measure(func: Callable[[], object], repeat: int) -> tuple[float, int, object]:
    """Median seconds over ``repeat`` runs and the peak traced memory growth of one run."""
    times = []
    result = None
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        result = func()
        times.append(time.perf_counter() - start)
    gc.collect()
    tracemalloc.start()
    func()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak, result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=float, default=5e6, help="events to generate")
    parser.add_argument("--repeat", type=int, default=3, help="timed runs per question")
    parser.add_argument("--samples", action="store_true", help="use bextoolkit.samples.campaigns")
    parser.add_argument(
        "--wide", action="store_true", help="add the other BEX columns (realistic frame size)"
    )
    parser.add_argument("--only", nargs="*", help="only these questions (e.g. funnel sends)")
    args = parser.parse_args(argv)
    import duckdb

    start = time.perf_counter()
    tag = "-wide" if args.wide else ""
    cache = (
        Path(__file__).resolve().parent.parent / ".bench" / f"events-{int(args.rows)}{tag}.parquet"
    )
    if cache.exists() and not args.samples:
        events = pd.read_parquet(cache)
    elif args.samples:
        from bextoolkit.samples.campaigns import generate_events

        events = generate_events(n_recipients=int(args.rows / 20), n_mailings=20, seed=1)
    else:
        events = make_events(int(args.rows))
        if args.wide:
            events = widen(events)
        cache.parent.mkdir(exist_ok=True)
        events.to_parquet(cache)
    size = frame_bytes(events)
    print(
        f"frame: {len(events):,} events, {size / 2**20:,.0f} MiB "
        f"(built in {time.perf_counter() - start:.1f} s)"
    )
    con = duckdb.connect()
    con.execute("SET threads TO 2")
    con.register("events", events)
    questions = [
        (
            "sends",
            lambda: bex.reports.sends(events, flags=False),
            lambda: con.execute(DUCK_SENDS).df(),
        ),
        ("funnel", lambda: bex.funnel(events), lambda: duck_funnel(con)),
        (
            "funnel_by_domain",
            lambda: bex.funnel(events, by="domain"),
            lambda: duck_funnel(con, DUCK_FUNNEL_BY_DOMAIN),
        ),
        ("click_urls", lambda: bex.click_urls(events), lambda: con.execute(DUCK_CLICKS).df()),
        (
            "bounce_breakdown",
            lambda: bex.bounce_breakdown(events),
            lambda: con.execute(DUCK_BOUNCES).df(),
        ),
        (
            "recipient_engagement",
            lambda: bex.recipient_engagement(events),
            lambda: con.execute(DUCK_RECIPIENTS).df(),
        ),
    ]
    print(f"{'question':21} {'bextoolkit s':>12} {'duckdb s':>9} {'ratio':>6} {'peak MiB':>9}")
    for name, ours, theirs in questions:
        if args.only and name not in args.only:
            continue
        ours_s, peak, result = measure(ours, args.repeat)
        duck_s, _, duck = measure(theirs, args.repeat)
        check(name, result, duck)
        print(f"{name:21} {ours_s:12.2f} {duck_s:9.2f} {ours_s / duck_s:6.2f} {peak / 2**20:9.0f}")
    print(f"(memory growth is compared with the frame's own {size / 2**20:,.0f} MiB)")
    return 0


def check(name: str, ours: pd.DataFrame, duck: pd.DataFrame) -> None:
    """Assert that both answers agree on every column DuckDB computed."""
    if name == "sends":  # one row per send: compare the totals
        for ours_col, duck_col in (("opens", "opens"), ("clicks", "clicks")):
            if int(ours[ours_col].sum()) != int(duck[duck_col].sum()):
                raise AssertionError(f"sends.{ours_col}: bextoolkit and DuckDB disagree")
        if len(ours) != len(duck) or int(ours["bounced"].ne("none").sum()) != int(
            duck["bounced"].sum()
        ):
            raise AssertionError("sends: bextoolkit and DuckDB have different sends")
        return
    key = {
        "funnel": "messageId",
        "funnel_by_domain": "domain",
        "click_urls": "clickUrl",
        "bounce_breakdown": "bounceType",
        "recipient_engagement": "RECIPIENT_ID",
    }[name]
    left = ours.assign(**{key: ours[key].astype(str)}).set_index(key).sort_index()
    right = duck.assign(**{key: duck[key].astype(str)}).set_index(key).sort_index()
    if list(left.index) != list(right.index):
        raise AssertionError(f"{name}: bextoolkit and DuckDB have different rows")
    for column in right.columns:
        got, want = left[column], right[column]
        if pd.api.types.is_float_dtype(want):
            same = np.allclose(got.to_numpy(float), want.to_numpy(float), equal_nan=True)
        elif pd.api.types.is_datetime64_any_dtype(want) or column.startswith(("first_", "last_")):
            g, w = pd.to_datetime(got, utc=True), pd.to_datetime(want, utc=True)
            same = ((g == w) | (g.isna() & w.isna())).all()
        elif column == "median_time_to_click":
            diff = (pd.to_timedelta(got) - pd.to_timedelta(want)).abs()
            same = (diff <= pd.Timedelta("1s")).all()
        else:
            same = np.array_equal(got.to_numpy(np.int64), want.to_numpy(np.int64))
        if not same:
            raise AssertionError(f"{name}.{column}: bextoolkit and DuckDB disagree")


if __name__ == "__main__":
    sys.exit(main())
