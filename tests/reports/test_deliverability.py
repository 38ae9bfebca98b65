"""Mailbox providers' rules from the events: deliverability, compliance lists, segments.

Every frame here is built by hand so the answer is known: complaint rates on either side
of the published 0.1 % and 0.3 %, sends on either side of the 2-day unsubscribe grace, and
one person per segment.
"""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import events_frame

import bextoolkit as bex

MONDAY = pd.Timestamp("2026-03-02", tz="UTC")


def provider_weeks() -> pd.DataFrame:
    """Week 1: 1,000 sends to gmail.com (2 complaints: 0.2 %), 500 to yahoo.com (none).
    Week 2: 1,000 to gmail.com (4 complaints: 0.4 %), 10 hard bounces, 6,000 sends to
    outlook.com on one day (a bulk sender)."""
    rows = []

    def mail(m: str, n: int, domain: str, day: int, offset: int = 0) -> None:
        for i in range(n):
            rows.append((m, f"{domain}-{offset + i}", "emailSend", pd.Timedelta(days=day),
                         {"Email": f"u{offset + i}@{domain}"}))  # fmt: skip

    mail("w1", 1000, "gmail.com", 0)
    mail("w1", 500, "yahoo.com", 1)
    mail("w2", 1000, "gmail.com", 7)
    mail("w2", 6000, "outlook.com", 8)
    for i in range(2):
        rows.append(("w1", f"gmail.com-{i}", "emailComplaint", pd.Timedelta(days=1)))
    for i in range(4):
        rows.append(("w2", f"gmail.com-{i}", "emailComplaint", pd.Timedelta(days=8)))
    for i in range(10, 20):
        rows.append(("w2", f"gmail.com-{i}", "emailBounce", pd.Timedelta(days=7, minutes=1),
                     {"bounceType": "Hard"}))  # fmt: skip
    return events_frame(rows, start=MONDAY)


def test_deliverability_by_provider_and_week_by_hand():
    d = bex.deliverability(provider_weeks())
    d = d.set_index([d["period"].dt.strftime("%m-%d"), d["provider"].astype(str)])
    assert d.index.tolist() == [
        ("03-02", "Google"), ("03-02", "Yahoo"), ("03-09", "Google"), ("03-09", "Microsoft"),
    ]  # fmt: skip
    g1, y1, g2, ms = (d.iloc[i] for i in range(4))
    assert (g1.sends, g1.delivered, g1.complaints) == (1000, 1000, 2)
    assert g1.complaint_rate == pytest.approx(0.002)
    assert g1.status == "complaints over 0.1 %"
    assert (y1.complaint_rate, y1.status) == (0.0, "ok")
    assert (g2.sends, g2.delivered, g2.complaints) == (1000, 990, 4)
    assert g2.complaint_rate == pytest.approx(4 / 990)
    assert g2.hard_bounce_rate == pytest.approx(0.01)
    assert g2.status == "complaints over 0.3 %"
    assert (ms.peak_daily_sends, ms.bulk_sender, g2.bulk_sender) == (6000, True, False)
    assert d["sends"].sum() == len(bex.sends(provider_weeks()))  # every send in one row
    assert any("SPF, DKIM and DMARC" in note for note in d.attrs["notes"])


def test_deliverability_daily_and_without_complaint_data():
    ev = provider_weeks()
    daily = bex.deliverability(ev, freq="D")
    assert daily["period"].dt.strftime("%d").tolist() == ["02", "03", "09", "10"]
    assert daily["provider"].astype(str).tolist() == ["Google", "Yahoo", "Google", "Microsoft"]
    assert daily["sends"].sum() == 8500
    bex_only = ev[ev["eventType"] != "emailComplaint"]  # BEX documents no complaint event
    d = bex.deliverability(bex_only)
    assert d["complaint_rate"].isna().all()
    assert set(d["status"]) == {"complaints unknown"}
    assert any("unknown, not 0" in note for note in d.attrs["notes"])
    with pytest.raises(bex.BexConfigError, match="freq"):
        bex.deliverability(ev, freq="fortnightly")


def opt_outs_and_bounces() -> pd.DataFrame:
    """r1 opts out of m1 on day 0 at 12:00; m2 reaches r1 on day 1 (within 2 days), m3 on
    day 2 at 12:00 (exactly 2 days: allowed), m4 on day 5 (listed). r2 hard-bounces m1;
    m2 on day 1 reaches r2 (listed). r3 is clean."""
    day = pd.Timedelta(days=1)
    rows = []
    for m, at in (("m1", 0 * day), ("m2", day), ("m3", 2 * day + pd.Timedelta(hours=12)),
                  ("m4", 5 * day)):  # fmt: skip
        for r in ("r1", "r2", "r3"):
            rows.append((m, r, "emailSend", at))
    rows.append(("m1", "r1", "emailOptOut", pd.Timedelta(hours=12)))
    rows.append(("m1", "r2", "emailBounce", pd.Timedelta(minutes=1), {"bounceType": "Hard"}))
    return events_frame(rows, start=MONDAY)


def test_mailed_after_opt_out_lists_exactly_the_sends_past_the_grace():
    late = bex.mailed_after_opt_out(opt_outs_and_bounces())
    assert list(late.columns) == ["messageId", "RECIPIENT_ID", "Email", "opted_out_at",
                                  "sent_at", "lag"]  # fmt: skip
    assert late["messageId"].astype(str).tolist() == ["m4"]
    assert late["RECIPIENT_ID"].tolist() == ["r1"]
    assert late["lag"].iloc[0] == pd.Timedelta(days=4, hours=12)
    strict = bex.mailed_after_opt_out(opt_outs_and_bounces(), grace="0s")
    assert strict["messageId"].astype(str).tolist() == ["m2", "m3", "m4"]


def test_mailed_after_hard_bounce_lists_every_later_send():
    late = bex.mailed_after_hard_bounce(opt_outs_and_bounces())
    assert late["messageId"].astype(str).tolist() == ["m2", "m3", "m4"]
    assert (late["RECIPIENT_ID"] == "r2").all()
    assert (late["lag"] > pd.Timedelta(0)).all()
    d = bex.deliverability(opt_outs_and_bounces(), freq="D")
    assert d["mailed_after_opt_out"].sum() == 1
    assert "mailed after opt-out" in d["status"].iloc[-1]


def test_a_clean_account_has_no_offenders():
    from bextoolkit.samples import campaigns as samples

    ev = samples.generate_events(n_recipients=200, n_mailings=3, days=3, seed=4)
    kind = ev["eventType"].astype(str)
    stop = ev[kind.isin(["emailOptOut", "emailBounce"])]["RECIPIENT_ID"].unique()
    clean = ev[~(ev["RECIPIENT_ID"].isin(stop) & (ev["messageId"] != ev["messageId"].iloc[0]))]
    first = clean[clean["messageId"] == clean["messageId"].iloc[0]]
    assert bex.mailed_after_opt_out(first).empty
    assert bex.mailed_after_hard_bounce(first).empty


# --- segments ------------------------------------------------------------------------------
def one_person_per_segment() -> pd.DataFrame:
    """Ten weekly mailings w0..w9 (day 0, 7, ... 63) to seven people; now = day 70.

    opt: opts out of w0; hard: hard-bounces w0; fresh: clicks w9; risky: a genuine open of
    w5 (35 days before now: out of a 30-day window, 4 mailings since); gone: clicks w0 only
    (9 mailings since); apple: only Apple MPP opens; cold: nothing at all.
    """
    rows = []
    people = ("opt", "hard", "fresh", "risky", "gone", "apple", "cold")
    for w in range(10):
        for p in people:
            rows.append((f"w{w}", p, "emailSend", pd.Timedelta(days=7 * w)))
    rows += [
        ("w0", "opt", "emailOptOut", pd.Timedelta(hours=3)),
        ("w0", "hard", "emailBounce", pd.Timedelta(minutes=1), {"bounceType": "Hard"}),
        ("w9", "fresh", "emailClick", pd.Timedelta(days=63, hours=2),
         {"clickUrl": "https://shop.example/", "userAgent": "Outlook 16"}),
        ("w5", "risky", "emailOpen", pd.Timedelta(days=35, hours=5), {"userAgent": "Outlook"}),
        ("w0", "gone", "emailClick", pd.Timedelta(hours=5),
         {"clickUrl": "https://shop.example/", "userAgent": "Outlook 16"}),
    ]  # fmt: skip
    for w in range(10):
        rows.append((f"w{w}", "apple", "emailOpen", pd.Timedelta(days=7 * w, hours=4),
                     {"userAgent": "Mozilla/5.0"}))  # fmt: skip
    return events_frame(rows, start=MONDAY)


def test_segments_by_hand(tmp_path):
    ev = one_person_per_segment()
    seg = bex.segments(ev, now=MONDAY + pd.Timedelta(days=70), engaged_within="30D")
    got = dict(zip(seg["RECIPIENT_ID"], seg["segment"].astype(str), strict=True))
    assert got == {
        "opt": "opted out", "hard": "hard bounced", "fresh": "engaged", "risky": "at risk",
        "gone": "inactive", "apple": "machine opens only", "cold": "never engaged",
    }  # fmt: skip
    by = seg.set_index("RECIPIENT_ID")
    assert by.loc["risky", "mailings_since_engagement"] == 4  # w6..w9
    assert by.loc["gone", "mailings_since_engagement"] == 9
    assert by.loc["apple", "machine_opens"] == 10
    assert pd.isna(by.loc["apple", "last_genuine_open"])  # machine opens are not engagement
    assert "10 machine open(s) only" in by.loc["apple", "reason"]
    assert by.loc["gone", "reason"].startswith("last click on 2026-03-02, 9 mailing(s) since")
    assert by.loc["opt", "reason"] == "opted out on 2026-03-02"
    assert seg.attrs["rules"] == {"engaged_within": "30 days 00:00:00", "inactive_after": 6}
    # the documented one-liner writes a contact list Acoustic's import takes
    path = tmp_path / "inactive.csv"
    seg.loc[seg["segment"] == "inactive", ["Email"]].to_csv(path, index=False)
    assert path.read_text().splitlines() == ["Email", "gone@example.com"]


def test_segments_default_now_is_the_latest_event_and_rules_are_checked():
    ev = one_person_per_segment()
    seg = bex.segments(ev)  # now = day 63 02:00, 90 days: risky is engaged then
    assert seg.attrs["now"] == MONDAY + pd.Timedelta(days=63, hours=4)
    assert seg.set_index("RECIPIENT_ID").loc["risky", "segment"] == "engaged"
    with pytest.raises(bex.BexConfigError, match="inactive_after"):
        bex.segments(ev, inactive_after=0)
    with pytest.raises(bex.BexConfigError, match="engaged_within"):
        bex.segments(ev, engaged_within="lately")


def test_segments_cover_every_person_once():
    from bextoolkit.samples import campaigns as samples

    ev = samples.generate_events(n_recipients=300, n_mailings=12, days=30, seed=9)
    seg = bex.segments(ev)
    assert seg["RECIPIENT_ID"].is_unique
    mailed = ev[ev["eventType"] != "emailSuppressed"]  # suppressed only: never mailed
    assert set(seg["RECIPIENT_ID"]) == set(mailed["RECIPIENT_ID"].dropna())
    assert seg["sends"].sum() == len(bex.sends(ev))
    machine_only = seg[seg["segment"] == "machine opens only"]
    assert (
        machine_only["last_genuine_open"].isna().all() and (machine_only["machine_opens"] > 0).all()
    )
    engaged = seg[seg["segment"] == "engaged"]
    assert (engaged["last_genuine_open"].notna() | engaged["last_click"].notna()).all()


def test_the_report_has_a_mailbox_providers_section():
    page = bex.CampaignReport(provider_weeks()).to_html()
    assert "<h2>Mailbox providers</h2>" in page
    assert "Weeks over a published limit (2)" in page  # Google, both weeks
    assert "complaints over 0.3 %" in page and "0.40%" in page
    assert "SPF, DKIM and DMARC" in page
    tiles = page[page.index("class='cards'") : page.index("class='cards people'")]
    assert "Opt-out rate" in tiles and "Complaint rate" in tiles
    bex_only = provider_weeks()
    bex_only = bex_only[bex_only["eventType"] != "emailComplaint"]
    plain = bex.CampaignReport(bex_only).to_html()
    tiles = plain[plain.index("class='cards'") : plain.index("class='cards people'")]
    assert "<b>unknown</b>Complaint rate" in tiles
    assert "the complaint rate is unknown" in plain
    late = bex.CampaignReport(opt_outs_and_bounces()).to_html()
    assert "1 send(s) reached people more than 2 days after they opted out" in late
    assert "and 3 reached people after a hard bounce" in late


# --- planted accounts: what the generator hides, the reports find exactly -------------------
@pytest.fixture(scope="module")
def planted():
    from bextoolkit.samples import ComplaintSurge, generate_campaign

    return generate_campaign(
        n_recipients=2000, n_mailings=30, days=120, seed=21, realistic=True,
        plant_mailed_after_opt_out=6, plant_mailed_after_hard_bounce=4,
        plant_machine_opens_only=7,
        plant_complaint_surge=ComplaintSurge("Yahoo", "2026-12-14", rate=0.006),
    )  # fmt: skip


def _pairs(frame: pd.DataFrame) -> list[tuple[str, str, pd.Timestamp]]:
    rows = zip(frame["messageId"].astype(str), frame["RECIPIENT_ID"].astype(str),
               pd.to_datetime(frame["sent_at"], utc=True), strict=True)  # fmt: skip
    return sorted(rows)


def test_planted_offending_sends_are_found_exactly(planted):
    truth = planted.planted
    assert len(truth["mailed_after_opt_out"]) > 0 and len(truth["mailed_after_hard_bounce"]) > 0
    found = bex.mailed_after_opt_out(planted.events)
    assert _pairs(found) == _pairs(truth["mailed_after_opt_out"])
    found = bex.mailed_after_hard_bounce(planted.events)
    assert _pairs(found) == _pairs(truth["mailed_after_hard_bounce"])
    weekly = bex.deliverability(planted.events, freq="W")  # the same sends, counted
    assert weekly["mailed_after_opt_out"].sum() == len(truth["mailed_after_opt_out"])
    assert weekly["mailed_after_hard_bounce"].sum() == len(truth["mailed_after_hard_bounce"])


def test_planted_machine_opens_only_people_are_found_exactly(planted):
    seg = bex.segments(planted.events)
    machine_only = seg.loc[seg["segment"] == "machine opens only", "RECIPIENT_ID"]
    want = planted.planted["machine_opens_only"]["RECIPIENT_ID"].astype(str)
    assert sorted(machine_only) == sorted(want)
    assert not seg["segment"].isin(["engaged"]).loc[seg["RECIPIENT_ID"].isin(want)].any()


def test_planted_complaint_surge_is_found_exactly(planted):
    d = bex.deliverability(planted.events, freq="W")
    over = d[d["status"].str.contains("0.3 %")]
    surge = planted.planted["complaint_surge"]
    assert len(surge) >= 3 and set(surge["provider"]) == {"Yahoo"}
    got = over[["provider", "period", "complaints"]].astype({"provider": str})
    want = surge[["provider", "week", "complaints"]].rename(columns={"week": "period"})
    got = got.assign(period=got["period"].dt.strftime("%Y-%m-%d")).reset_index(drop=True)
    want = want.assign(period=pd.to_datetime(want["period"], utc=True).dt.strftime("%Y-%m-%d"))
    pd.testing.assert_frame_equal(
        got, want.reset_index(drop=True).astype(got.dtypes.to_dict()), check_dtype=False
    )


def test_a_clean_realistic_account_has_nothing_to_find():
    from bextoolkit.samples import generate_campaign

    clean = generate_campaign(n_recipients=1500, n_mailings=20, days=90, seed=22, realistic=True)
    assert bex.mailed_after_opt_out(clean.events).empty
    assert bex.mailed_after_hard_bounce(clean.events).empty
    weekly = bex.deliverability(clean.events, freq="W")
    assert not weekly["status"].str.contains("0.3 %").any()
    seg = bex.segments(clean.events)
    assert (seg["segment"] == "machine opens only").sum() == 0
