"""The send is the unit: bex.sends by hand, and every report as an aggregation of sends.

A test on one mailing cannot tell people from sends, so most frames here send many
mailings to the same people, and every total is checked against a plain pandas sum over
one row per (mailing, recipient) written in the test.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import T0, events_frame
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import bextoolkit as bex
from bextoolkit.reports import FUNNEL_COLUMNS, SEND_COLUMNS
from bextoolkit.samples import campaigns as samples

#: The funnel's counts of sends (rates and people do not add up over groups).
COUNTS = [
    c
    for c in FUNNEL_COLUMNS
    if not c.endswith(("_rate", "_to_open")) and not c.startswith("people")
]


def two_mailings_to_100_people() -> pd.DataFrame:
    """m1 and m2 to the same 100 people (50 gmail.com, 50 example.org); in each mailing
    2 people hard-bounce (one per domain), 10 open, 4 click."""
    rows = []
    for m, minutes in (("m1", 0), ("m2", 60 * 24 * 7)):
        for i in range(100):
            domain = "gmail.com" if i % 2 else "example.org"
            email = {"Email": f"p{i}@{domain}"}
            rows.append((m, f"{i + 1}", "emailSend", minutes, email))
            hard = {**email, "bounceType": "Hard"}
            link = {**email, "clickUrl": "https://shop.example/"}
            if i in (10, 11):
                rows.append((m, f"{i + 1}", "emailBounce", minutes + 1, hard))
            if 20 <= i < 30:
                rows.append((m, f"{i + 1}", "emailOpen", minutes + 30, email))
            if 20 <= i < 24:
                rows.append((m, f"{i + 1}", "emailClick", minutes + 31, link))
    return events_frame(rows)


def test_two_mailings_to_the_same_people_by_hand():
    ev = two_mailings_to_100_people()
    by_domain = bex.funnel(ev, by="domain").set_index("domain")
    assert by_domain["sent"].to_dict() == {"example.org": 100, "gmail.com": 100}
    assert by_domain["bounced"].to_dict() == {"example.org": 2, "gmail.com": 2}
    assert by_domain["bounce_rate"].tolist() == [0.02, 0.02]
    assert by_domain["people_reached"].tolist() == [50, 50]
    whole = bex.funnel(ev, by=None).iloc[0]
    assert (whole.sent, whole.bounced, whole.delivered, whole.unique_opens) == (200, 4, 196, 20)
    assert whole.open_rate == pytest.approx(20 / 196)
    assert (whole.people_reached, whole.people_opened, whole.people_clicked) == (100, 10, 4)
    bounces = bex.bounce_breakdown(ev).iloc[0]
    assert (bounces.bounces, bounces.unique_recipients, bounces.rate) == (4, 2, 0.02)
    assert bex.bounce_breakdown(ev, by="domain")["rate"].tolist() == [0.02, 0.02]
    link = bex.click_urls(ev).iloc[0]
    assert (link.unique_clicks, link.people, link.gross_clicks) == (8, 4, 8)
    assert link.unique_click_rate == pytest.approx(8 / 196)  # both mailings' delivered sends
    month = bex.funnel(ev, by="month").iloc[0]
    assert (month.sent, month.bounce_rate) == (200, 0.02)
    people = bex.recipient_engagement(ev)
    assert people["mailings_sent"].sum() == 200 and (people["mailings_sent"] == 2).all()


def test_sends_by_hand():
    ev = events_frame([
        ("m1", "r1", "emailSend", 0),
        ("m1", "r1", "emailSend", 2),  # a second send row of the same pair: one send
        ("m1", "r1", "emailOpen", 10, {"userAgent": "Mozilla/5.0"}),  # Apple MPP
        ("m1", "r1", "emailOpen", 20, {"userAgent": "Mozilla/5.0"}),
        ("m1", "r2", "emailSend", 0),
        ("m1", "r2", "emailBounce", 1, {"bounceType": "Soft"}),
        ("m1", "r2", "emailBounce", 900, {"bounceType": "Hard"}),  # hard wins
        ("m1", "r3", "emailSend", 0),
        ("m1", "r3", "emailOpen", -5, {"userAgent": "Outlook 16"}),  # before the send
        ("m1", "r3", "emailClick", 30, {"clickUrl": "https://a.example/"}),
        ("m1", "r3", "emailOptOut", 31),
        ("m1", "r3", "emailComplaint", 40),
        ("m2", "r1", "emailOpen", 50),  # m2 was never sent to r1 in these files
        ("m2", "r4", "emailSuppressed", 0),
    ])  # fmt: skip
    s = bex.sends(ev)
    mailing_text = ("messageName", "subjectLine", "mailingType")  # not in these events
    assert list(s.columns) == [c for c in SEND_COLUMNS if c not in mailing_text]
    assert s["messageId"].astype(str).tolist() == ["m1"] * 3
    assert s["RECIPIENT_ID"].tolist() == ["r1", "r2", "r3"]
    assert s["domain"].astype(str).tolist() == ["example.com"] * 3
    assert s["provider"].astype(str).tolist() == ["other"] * 3
    assert s["sent_at"].tolist() == [T0] * 3
    assert s["bounced"].astype(str).tolist() == ["none", "hard", "none"]
    assert s["opened"].tolist() == [True, False, True]
    assert s["opens"].tolist() == [2, 0, 1]
    assert s["machine_opens"].tolist() == [2, 0, 0]
    assert s["opened_by_machine_only"].tolist() == [True, False, False]
    assert s["clicked"].tolist() == [False, False, True]
    assert s["opted_out"].tolist() == [False, False, True]
    assert s["complained"].tolist() == [False, False, True]
    assert s["first_open"].iloc[0] == T0 + pd.Timedelta(minutes=10)
    assert s["last_open"].iloc[0] == T0 + pd.Timedelta(minutes=20)
    assert s["events_before_send"].tolist() == [0, 0, 1]
    assert s.attrs["without_send"] == {
        "pairs": 1, "suppressed": 1, "opens": 1, "clicks": 0, "bounces": 0, "opt_outs": 0,
        "complaints": 0,
    }  # fmt: skip
    assert s["sent_at"].notna().all()
    # exclude= leaves the flagged opens out entirely
    clean = bex.sends(ev, exclude="machine_opens")
    assert clean["opened"].tolist() == [False, False, True]
    assert clean.attrs["excluded"] == {"machine_opens": 2}
    f = bex.funnel(ev)
    f.index = f["messageId"].astype(str)
    m1 = f.loc["m1"]
    assert (m1.sent, m1.hard_bounced, m1.soft_bounced, m1.delivered) == (3, 1, 0, 2)
    assert (m1.unique_opens, m1.complaints, m1.complaint_rate) == (2, 1, 0.5)
    assert f.loc["m2", "suppressed"] == 1 and f.loc["m2", "sent"] == 0


def test_no_sends_at_all():
    ev = events_frame([("m1", "r1", "emailOpen", 5), ("m1", "r2", "emailClick", 6)])
    s = bex.sends(ev)
    assert s.empty and s.attrs["without_send"]["pairs"] == 2
    assert bex.funnel(ev).empty
    assert bex.funnel(ev, by=None)["sent"].tolist() == [0]
    assert math.isnan(bex.funnel(ev, by=None)["open_rate"].iloc[0])
    assert bex.click_urls(ev.assign(clickUrl="https://a.example/")).empty
    assert bex.bounce_breakdown(ev).empty
    assert bex.recipient_engagement(ev)["mailings_sent"].tolist() == [0, 0]
    empty = ev.iloc[:0]
    assert bex.sends(empty).empty and bex.funnel(empty).empty


def test_duplicate_events_count_once_per_send_and_gross_as_given():
    ev = two_mailings_to_100_people()
    doubled = pd.concat([ev, ev], ignore_index=True)
    once, twice = bex.funnel(ev, by=None).iloc[0], bex.funnel(doubled, by=None).iloc[0]
    for column in ("sent", "bounced", "delivered", "unique_opens", "unique_clicks"):
        assert once[column] == twice[column], column
    assert twice.gross_opens == 2 * once.gross_opens
    assert len(bex.sends(doubled)) == len(bex.sends(ev)) == 200


# --- windows: one selection everywhere -----------------------------------------------------
def daily_program() -> pd.DataFrame:
    """A program mailing (one messageId) sent every day from 1 to 10 January to a new
    person each day, who opens it the next day; a newsletter m2 on 5 January to r1..r3."""
    rows = []
    for day in range(10):
        at = pd.Timedelta(days=day)
        rows.append(("prog", f"p{day}", "emailSend", at))
        rows.append(("prog", f"p{day}", "emailOpen", at + pd.Timedelta(days=1)))
    for i in range(1, 4):
        rows.append(("m2", f"r{i}", "emailSend", pd.Timedelta(days=4)))
    return events_frame(rows, start=pd.Timestamp("2026-01-01", tz="UTC"))


def test_a_window_holds_the_part_of_a_daily_program_sent_in_it():
    ev = daily_program()
    window = {"start": "2026-01-03", "end": "2026-01-06"}  # sends of 3, 4 and 5 January
    f = bex.funnel(ev, **window).set_index("messageId")
    assert f.loc["prog", "sent"] == 3 and f.loc["prog", "unique_opens"] == 3
    assert f.loc["m2", "sent"] == 3
    assert f.loc["prog", "sent_at"] == pd.Timestamp("2026-01-03", tz="UTC")
    assert "7 send(s) outside the window" in f.attrs["window"]
    assert len(bex.sends(ev, **window)) == 6
    assert bex.recipient_engagement(ev, **window)["mailings_sent"].sum() == 6


def test_the_report_and_the_api_give_the_same_mailings_and_totals_for_a_window(tmp_path):
    ev = daily_program()
    window = {"start": "2026-01-03", "end": "2026-01-06"}
    api = bex.funnel(ev, **window)
    report = bex.CampaignReport(ev, **window)
    shown = report.funnel
    assert sorted(shown["messageId"].astype(str)) == sorted(api["messageId"].astype(str))
    for column in COUNTS:
        assert shown[column].sum() == api[column].sum(), column
    page = report.to_html(tmp_path / "r.html")
    assert "NaT" not in page
    assert f"<b>{api['sent'].sum():,}</b>Sends" in page


def test_the_cli_report_selects_the_same_sends(tmp_path):
    from bextoolkit.cli import main

    generated = samples.generate_events(n_recipients=200, n_mailings=6, days=6, seed=2)
    bex.write_exports(generated, str(tmp_path / "exports"))
    ev = bex.read_events(str(tmp_path / "exports"), tz="UTC")
    window = {"start": "2026-11-04", "end": "2026-11-06"}
    api = bex.funnel(ev, **window)
    assert 0 < len(api) < ev["messageId"].nunique()
    out = tmp_path / "r.html"
    code = main(["report", str(tmp_path / "exports"), "-o", str(out), "--tz", "UTC",
                 "--start", window["start"], "--end", window["end"]])  # fmt: skip
    assert code == 0
    page = out.read_text()
    assert f"<b>{api['sent'].sum():,}</b>Sends" in page and "NaT" not in page
    assert f"Every mailing, in send order ({len(api):,})" in page


# --- realistic accounts: hundreds of mailings to the same people ---------------------------
@pytest.fixture(scope="module")
def account() -> pd.DataFrame:
    """A year of 300 mailings (weekly newsletters, daily programs under one messageId) to
    the same 400 people, hard bounces and opt-outs suppressed from then on as Acoustic
    does it: no send after either."""
    campaign = samples.generate_campaign(
        n_recipients=400, n_mailings=300, days=365, seed=5, realistic=True
    )
    return campaign.events


def plain_sends(ev: pd.DataFrame) -> pd.DataFrame:
    """One row per (messageId, RECIPIENT_ID) with a send, in plain pandas."""
    kind = ev["eventType"].astype(str)
    keys = ["messageId", "RECIPIENT_ID"]
    sends = (
        ev[kind == "emailSend"]
        .groupby(keys, observed=True)
        .agg(sent_at=("timestamp", "min"), Email=("Email", "first"))
    )

    def has(mask: pd.Series) -> pd.Series:
        hit = ev[mask].groupby(keys, observed=True).size()
        return sends.index.isin(hit.index)

    def count(mask: pd.Series) -> np.ndarray:
        hit = ev[mask].groupby(keys, observed=True).size()
        return hit.reindex(sends.index, fill_value=0).to_numpy()

    bounce = kind == "emailBounce"
    sends["hard"] = has(bounce & (ev["bounceType"] == "Hard"))
    sends["bounced"] = has(bounce)
    sends["opened"] = has(kind == "emailOpen")
    sends["clicked"] = has(kind == "emailClick")
    sends["opted_out"] = has(kind == "emailOptOut")
    sends["opens"] = count(kind == "emailOpen")
    sends["domain"] = sends["Email"].str.split("@").str[-1].str.lower()
    return sends.reset_index()


def test_a_realistic_account_adds_up_to_plain_pandas_sums(account):
    ev = account
    assert ev["messageId"].nunique() == 300
    truth = plain_sends(ev)
    s = bex.sends(ev)
    assert len(s) == len(truth)
    assert s["bounced"].ne("none").sum() == truth["bounced"].sum()
    assert s["opened"].sum() == truth["opened"].sum()
    per_mailing = bex.funnel(ev)
    whole = bex.funnel(ev, by=None).iloc[0]
    for column in COUNTS:
        assert per_mailing[column].sum() == whole[column], column
    assert whole.sent == len(truth) and whole.bounced == truth["bounced"].sum()
    assert whole.gross_opens == truth["opens"].sum()
    assert whole.people_reached == truth["RECIPIENT_ID"].nunique()
    for by in ("domain", "provider", "month", "send_week", "mailingType", "send_hour"):
        grouped = bex.funnel(ev, by=by)
        for column in COUNTS:
            assert grouped[column].sum() == whole[column], (by, column)
    by_domain = bex.funnel(ev, by="domain").set_index("domain")
    want = truth.groupby("domain").agg(sent=("sent_at", "size"), bounced=("bounced", "sum"))
    for domain, row in want.iterrows():
        assert by_domain.loc[domain, "sent"] == row["sent"]
        assert by_domain.loc[domain, "bounce_rate"] == pytest.approx(row["bounced"] / row["sent"])
    assert by_domain["bounce_rate"].max() < 0.15  # 3.5 % of sends bounce, whatever the domain
    bounces = bex.bounce_breakdown(ev)
    assert bounces["bounces"].sum() == truth["bounced"].sum()
    assert bounces["rate"].sum() == pytest.approx(truth["bounced"].sum() / len(truth))
    links = bex.click_urls(ev, by="messageId")
    assert links["unique_first_clicks"].sum() == truth["clicked"].sum()
    assert (links["unique_click_rate"] <= 1).all()
    people = bex.recipient_engagement(ev)
    assert people["mailings_sent"].sum() == len(truth)
    assert people["mailings_opened"].sum() == truth["opened"].sum()
    assert people["hard_bounced"].sum() == truth.loc[truth["hard"], "RECIPIENT_ID"].nunique()
    # suppression as Acoustic does it: no one is sent a mailing after a hard bounce
    last_send = truth.groupby("RECIPIENT_ID")["sent_at"].max()
    hard_at = truth[truth["hard"]].groupby("RECIPIENT_ID")["sent_at"].min()
    assert (last_send.reindex(hard_at.index) <= hard_at).all()


def test_rates_over_many_mailings_stay_rates(account):
    """The symptoms of the people-based numbers: rates above 1 and bounce rates that grow
    with the number of mailings."""
    whole = bex.funnel(account, by=None).iloc[0]
    few = bex.funnel(account[account["messageId"].isin(account["messageId"].unique()[:4])], by=None)
    assert whole.bounce_rate == pytest.approx(few["bounce_rate"].iloc[0], abs=0.03)
    for by in ("domain", "month", None):
        f = bex.funnel(account, by=by)
        for rate in ("open_rate", "click_rate", "bounce_rate", "click_to_open"):
            assert (f[rate].dropna() <= 1).all(), (by, rate)
    links = bex.click_urls(account)
    assert (links["unique_click_rate"] <= 1).all()


# --- property: any grouping of sends adds up to the whole ----------------------------------
EVENTS = ("emailSend", "emailOpen", "emailClick", "emailBounce", "emailOptOut", "emailSuppressed")


@st.composite
def small_accounts(draw) -> pd.DataFrame:
    n = draw(st.integers(0, 40))
    rows = []
    for _ in range(n):
        m = draw(st.sampled_from(["m1", "m2", "m3"]))
        r = draw(st.sampled_from(["1", "2", "3", "4", "5"]))
        event = draw(st.sampled_from(EVENTS))
        minute = draw(st.integers(-60, 60 * 24 * 40))
        extra = {}
        if event == "emailBounce":
            extra["bounceType"] = draw(st.sampled_from(["Hard", "Soft", None]))
        extra["Email"] = f"{r}@{draw(st.sampled_from(['gmail.com', 'x.org']))}"
        rows.append((m, r, event, minute, extra))
    if not rows:
        return events_frame([("m1", "1", "emailSend", 0)]).iloc[:0]
    return events_frame(rows)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_accounts())
def test_every_grouping_adds_up_to_the_whole(ev):
    whole = bex.funnel(ev, by=None).iloc[0]
    s = bex.sends(ev)
    assert whole.sent == len(s)
    assert whole.bounced == s["bounced"].ne("none").sum()
    assert whole.unique_opens == s["opened"].sum()
    assert whole.gross_opens == s["opens"].sum()
    for by in ("messageId", "domain", "send_day", ["messageId", "provider"]):
        grouped = bex.funnel(ev, by=by)
        for column in COUNTS:
            assert grouped[column].sum() == whole[column], (by, column)
        assert not grouped.isna()[["sent"]].any().any()
    bounces = bex.bounce_breakdown(ev)
    assert bounces["bounces"].sum() == whole.bounced
    assert bex.recipient_engagement(ev)["mailings_sent"].sum() == whole.sent
