"""Reports on small frames whose answers were worked out by hand, plus a cross-check.

The hand frame ``campaign`` (mailing m1, then m2 which has opens but no sends):

=====  =======================================================================
m1     sends r1..r5; r5 bounces "Hard", r4 bounces "soft bounce";
       r1 opens twice, r2 once; r1 and r3 click (r3 never opened);
       r2 opts out; r6 is suppressed; r1 has an unknown "replyAbuse" event
m2     r1 opens (no send of m2 in the frame)
=====  =======================================================================

m1: sent 5, bounced 2 (hard 1, soft 1), delivered 3, unique_opens 2, gross_opens 3,
unique_clicks 2, opt_outs 1, suppressed 1; open_rate 2/3, click_rate 2/3,
click_to_open 2/2, bounce_rate 2/5, opt_out_rate 1/3.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from conftest import T0, events_frame

import bextoolkit as bex
from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports import FUNNEL_COLUMNS


@pytest.fixture
def campaign() -> pd.DataFrame:
    rows = [("m1", f"r{i}", "emailSend", i) for i in range(1, 6)]
    rows += [
        ("m1", "r5", "emailBounce", 10, {"bounceType": "Hard"}),
        ("m1", "r4", "emailBounce", 10, {"bounceType": "soft bounce"}),
        ("m1", "r1", "emailOpen", 30),
        ("m1", "r1", "emailOpen", 90),
        ("m1", "r2", "emailOpen", 62),
        ("m1", "r1", "emailClick", 31, {"clickUrl": "https://a.com/x?utm_source=bex"}),
        ("m1", "r3", "emailClick", 63, {"clickUrl": "https://A.com/x?utm_medium=mail#top"}),
        ("m1", "r2", "emailOptOut", 70),
        ("m1", "r6", "emailSuppressed", 0),
        ("m1", "r1", "replyAbuse", 100),
        ("m2", "r1", "emailOpen", 200),
    ]
    return events_frame(rows)


def row(result: pd.DataFrame, **keys) -> pd.Series:
    mask = np.ones(len(result), bool)
    for key, value in keys.items():
        mask &= (result[key].astype(object) == value).to_numpy()
    assert mask.sum() == 1, keys
    return result[mask].iloc[0]


# --- event_counts -------------------------------------------------------------------------
def test_event_counts_gross_and_unique_with_unknown_types(campaign):
    out = bex.event_counts(campaign)
    assert list(out.columns) == ["eventType", "events", "unique_recipients"]
    got = dict(
        zip(
            out["eventType"], zip(out["events"], out["unique_recipients"], strict=True), strict=True
        )
    )
    assert got == {
        "emailSend": (5, 5),
        "emailOpen": (4, 2),
        "emailClick": (2, 2),
        "emailOptOut": (1, 1),
        "emailSuppressed": (1, 1),
        "emailBounce": (2, 2),
        "replyAbuse": (1, 1),
    }
    assert list(out["eventType"])[:6] == list(bex.EVENT_TYPES)  # canonical order first


def test_event_counts_by_mailing_and_by_day(campaign):
    out = bex.event_counts(campaign, by="messageId")
    assert list(out.columns[:2]) == ["messageId", "eventType"]
    assert row(out, messageId="m2", eventType="emailOpen")[
        ["events", "unique_recipients"]
    ].tolist() == [1, 1]
    assert row(out, messageId="m1", eventType="emailOpen")["events"] == 3
    daily = bex.event_counts(campaign, by="day")
    assert daily["day"].nunique() == 1 and daily["events"].sum() == len(campaign)


def test_event_counts_keeps_missing_event_type():
    ev = events_frame([("m1", "r1", "emailSend", 0), ("m1", "r1", None, 1)])
    out = bex.event_counts(ev)
    assert out["events"].sum() == 2
    assert out["eventType"].isna().iloc[-1]


# --- funnel -------------------------------------------------------------------------------
def test_funnel_by_hand(campaign):
    out = bex.funnel(campaign)
    assert list(out.columns) == ["messageId", "sent_at", *FUNNEL_COLUMNS]
    m1 = row(out, messageId="m1")
    expected = {
        "sent": 5, "suppressed": 1, "bounced": 2, "hard_bounced": 1, "soft_bounced": 1,
        "delivered": 3, "unique_opens": 2, "unique_clicks": 2, "gross_opens": 3,
        "gross_clicks": 2, "opt_outs": 1,
    }  # fmt: skip
    assert {k: int(m1[k]) for k in expected} == expected
    assert m1["open_rate"] == pytest.approx(2 / 3)
    assert m1["click_rate"] == pytest.approx(2 / 3)
    assert m1["click_to_open"] == pytest.approx(1.0)
    assert m1["bounce_rate"] == pytest.approx(2 / 5)
    assert m1["opt_out_rate"] == pytest.approx(1 / 3)
    assert out["sent"].dtype == np.int64 and out["open_rate"].dtype == np.float64


def test_funnel_mailing_without_sends_is_counted_apart_never_a_row(campaign):
    out = bex.funnel(campaign)
    assert out["messageId"].astype(str).tolist() == ["m1"]  # m2 has an open, no send
    assert out.attrs["without_send"] == {
        "pairs": 1, "suppressed": 1, "opens": 1, "clicks": 0, "bounces": 0, "opt_outs": 0,
        "complaints": 0,
    }  # fmt: skip
    assert any("no send in the frame" in note for note in out.attrs["notes"])
    assert out["sent_at"].notna().all()


def test_funnel_suppressions_only_mailing_has_nan_rates():
    ev = events_frame([("m1", "r1", "emailSuppressed", 0), ("m1", "r2", "emailSuppressed", 0)])
    m1 = bex.funnel(ev).iloc[0]
    assert (m1["sent"], m1["suppressed"], m1["delivered"]) == (0, 2, 0)
    for rate in ("open_rate", "click_rate", "click_to_open", "bounce_rate", "opt_out_rate"):
        assert math.isnan(m1[rate]), rate
    assert bex.funnel(ev, bounce_rate="requests").iloc[0]["bounce_rate"] == 0.0


def test_funnel_zero_delivered_is_nan_not_error():
    ev = events_frame(
        [("m1", "r1", "emailSend", 0), ("m1", "r1", "emailBounce", 1, {"bounceType": "HARD"})]
    )
    m1 = bex.funnel(ev).iloc[0]
    assert (m1["sent"], m1["bounced"], m1["delivered"]) == (1, 1, 0)
    assert math.isnan(m1["open_rate"]) and m1["bounce_rate"] == 1.0


def test_funnel_empty_frame_whole():
    ev = events_frame([("m1", "r1", "emailSend", 0)]).iloc[:0]
    out = bex.funnel(ev, by=None)
    assert len(out) == 1 and out["sent"].iloc[0] == 0 and math.isnan(out["open_rate"].iloc[0])
    assert len(bex.funnel(ev)) == 0


def test_funnel_conventions(campaign):
    implied = row(bex.funnel(campaign, click_implies_open=True), messageId="m1")
    assert implied["unique_opens"] == 3  # r3 clicked without an open
    assert implied["gross_opens"] == 3  # still open events only
    assert implied["open_rate"] == pytest.approx(1.0)
    assert implied["click_to_open"] == pytest.approx(2 / 3)
    either = bex.funnel(campaign, click_to_open="openers_or_clickers")
    assert row(either, messageId="m1")["click_to_open"] == pytest.approx(2 / 3)
    assert row(either, messageId="m1")["unique_opens"] == 2
    requests = row(bex.funnel(campaign, bounce_rate="requests"), messageId="m1")
    assert requests["bounce_rate"] == pytest.approx(2 / 6)  # r1..r5 sent + r6 suppressed
    iterable = bex.funnel(campaign, convention="iterable")
    assert iterable.attrs["convention"]["click_to_open"] == "openers_or_clickers"
    assert row(iterable, messageId="m1")["click_to_open"] == pytest.approx(2 / 3)


def test_funnel_records_convention(campaign):
    attrs = bex.funnel(campaign).attrs["convention"]
    assert attrs["name"] == "acoustic"
    assert attrs["click_implies_open"] is False
    assert attrs["click_to_open"] == "openers" and attrs["bounce_rate"] == "sent"
    assert "bounced / sent" in attrs["description"]


def test_funnel_rejects_unknown_options(campaign):
    with pytest.raises(BexConfigError, match="convention"):
        bex.funnel(campaign, convention="mailchimp")
    with pytest.raises(BexConfigError, match="bounce_rate"):
        bex.funnel(campaign, bounce_rate="delivered")
    with pytest.raises(BexConfigError, match="nosuchcolumn"):
        bex.funnel(campaign, by="nosuchcolumn")
    with pytest.raises(BexConfigError, match="eventType"):
        bex.funnel(campaign.drop(columns="eventType"))


def test_funnel_does_not_mutate_input(campaign):
    before = campaign.copy(deep=True)
    bex.funnel(campaign, diagnostics=True, by=["messageId", "day"])
    bex.event_counts(campaign, by="domain")
    bex.click_urls(campaign)
    bex.bounce_breakdown(campaign, by="domain")
    bex.time_to_engage(campaign)
    pd.testing.assert_frame_equal(campaign, before)


def test_funnel_whole_frame_list_and_time_bucket(campaign):
    whole = bex.funnel(campaign, by=None)
    assert len(whole) == 1 and "messageId" not in whole.columns
    assert whole["unique_opens"].iloc[0] == 2  # r1 (both mailings) and r2
    both = bex.funnel(campaign, by=["messageId", "bounceType"])
    assert both["bounced"].sum() == 2
    by_hour = bex.funnel(campaign, by="hour")  # sends are placed by their send time
    assert list(by_hour["hour"]) == [T0]
    assert by_hour["gross_opens"].tolist() == [3]  # m1's opens; m2's has no send
    assert bex.funnel(campaign, by="send_hour")["send_hour"].tolist() == [T0]
    grouper = bex.funnel(campaign, by=pd.Grouper(key="timestamp", freq="D"))
    assert grouper["timestamp"].tolist() == [T0.normalize()]
    # T0 is Monday 2 November: weeks start on the Monday, months on the 1st
    assert bex.funnel(campaign, by="week")["week"].tolist() == [T0.normalize()]
    assert bex.funnel(campaign, by="month")["month"].tolist() == [
        pd.Timestamp("2026-11-01", tz="UTC")
    ]
    quarters = bex.funnel(campaign, by=pd.Grouper(key="timestamp", freq="QE"))
    assert quarters["timestamp"].tolist() == [pd.Timestamp("2026-10-01", tz="UTC")]


def test_funnel_mailing_text_alongside():
    ev = events_frame([
        ("m1", "r1", "emailSend", 0, {"messageName": "Winter", "subjectLine": "Hi, there"}),
        ("m1", "r1", "emailOpen", 5),
    ])  # fmt: skip
    out = bex.funnel(ev)
    assert list(out.columns[:3]) == ["messageId", "messageName", "subjectLine"]
    assert out.loc[0, "subjectLine"] == "Hi, there"


def test_funnel_duplicates_count_gross_not_unique(campaign):
    doubled = pd.concat([campaign, campaign], ignore_index=True)
    m1 = row(bex.funnel(doubled), messageId="m1")
    assert (m1["gross_opens"], m1["unique_opens"], m1["sent"]) == (6, 2, 5)


def test_funnel_opens_without_send_and_events_before_send():
    ev = events_frame([
        ("m1", "r1", "emailSend", 10),
        ("m1", "r1", "emailOpen", 5),  # before the send: counted, and shown
        ("m1", "r2", "emailOpen", 20),  # no send of m1 to r2 in the frame
        ("m1", "r2", "emailClick", 21, {"clickUrl": "https://a.com/"}),
    ])  # fmt: skip
    out = bex.funnel(ev, diagnostics=True)
    m1 = out.iloc[0]
    assert (m1["unique_opens"], m1["unique_clicks"], m1["sent"]) == (1, 0, 1)
    assert (m1["opens_without_send"], m1["clicks_without_send"]) == (1, 1)  # r2's pair
    assert m1["events_before_send"] == 1
    assert list(out.columns[-3:]) == [
        "opens_without_send",
        "clicks_without_send",
        "events_before_send",
    ]
    assert any("1 opens, 1 clicks" in note for note in out.attrs["notes"])
    assert "opens_without_send" not in bex.funnel(ev).columns


def test_funnel_recipient_falls_back_to_email():
    ev = events_frame([("m1", "r1", "emailSend", 0), ("m1", "r9", "emailSend", 0)])
    extra = events_frame([("m1", None, "emailOpen", 5), ("m1", None, "emailOpen", 6)])
    extra["Email"] = pd.array([" R1@Example.com", "new@example.com"], dtype="string")
    ev = pd.concat([ev, extra], ignore_index=True)
    m1 = bex.funnel(ev).iloc[0]
    assert m1["unique_opens"] == 1  # r1 via its email; new@example.com was never sent m1
    # the open matched to r1 has a send; the other one has none
    assert bex.funnel(ev, diagnostics=True).iloc[0]["opens_without_send"] == 1
    no_ids = ev.drop(columns="RECIPIENT_ID")
    assert bex.funnel(no_ids).iloc[0]["sent"] == 2


def test_funnel_neither_id_nor_email_is_clear_error(campaign):
    with pytest.raises(BexConfigError, match="RECIPIENT_ID"):
        bex.funnel(campaign.drop(columns=["RECIPIENT_ID", "Email"]))


def test_funnel_object_and_plain_string_columns(campaign):
    plain = campaign.astype(
        {c: object for c in ("messageId", "eventType", "bounceType", "RECIPIENT_ID")}
    )
    pd.testing.assert_frame_equal(
        bex.funnel(plain).drop(columns="messageId"),
        bex.funnel(campaign).drop(columns="messageId"),
    )


def test_funnel_exclude_uses_flag_columns(campaign):
    flagged = campaign.assign(
        machine_open=(campaign["eventType"] == "emailOpen") & (campaign["RECIPIENT_ID"] == "r2"),
        bot_click=(campaign["eventType"] == "emailClick") & (campaign["RECIPIENT_ID"] == "r3"),
    )
    out = bex.funnel(flagged, exclude=True)
    m1 = row(out, messageId="m1")
    assert (m1["unique_opens"], m1["gross_opens"], m1["unique_clicks"]) == (1, 2, 1)
    assert out.attrs["excluded"] == {"machine_opens": 1, "bot_clicks": 1}
    only = bex.funnel(flagged, exclude="bot_clicks")
    assert row(only, messageId="m1")["unique_opens"] == 2
    with pytest.raises(BexConfigError, match="exclude"):
        bex.funnel(flagged, exclude="spam")


def test_funnel_exclude_computes_flags_with_quality(campaign):
    ev = campaign.assign(userAgent=pd.Series("Mozilla/5.0", index=campaign.index, dtype="category"))
    out = bex.funnel(ev, exclude="machine_opens")
    assert "machine_opens" in out.attrs["excluded"]
    assert row(out, messageId="m1")["gross_opens"] <= 3


# --- bounce_breakdown ---------------------------------------------------------------------
def test_bounce_breakdown_by_type(campaign):
    out = bex.bounce_breakdown(campaign)
    assert list(out.columns) == ["bounceType", "bounces", "unique_recipients", "share", "rate"]
    assert set(out["bounceType"]) == {"hard", "soft"}
    hard = row(out, bounceType="hard")
    assert (hard["bounces"], hard["unique_recipients"]) == (1, 1)
    assert hard["share"] == 0.5 and hard["rate"] == pytest.approx(1 / 5)
    raw = bex.bounce_breakdown(campaign, classify=False)
    assert set(raw["bounceType"]) == {"Hard", "soft bounce"}


def test_bounce_breakdown_spellings_domain_and_requests():
    """Sends a-d (a, b, c at x.org; d at example.com), e suppressed. a bounces twice (one
    bounced send), b soft, c "mailbox full", d with no type."""
    ev = events_frame([
        ("m1", "a", "emailSend", 0, {"Email": "a@X.org"}),
        ("m1", "b", "emailSend", 0, {"Email": "b@x.org"}),
        ("m1", "c", "emailSend", 0, {"Email": "c@x.org "}),
        ("m1", "d", "emailSend", 0), ("m1", "e", "emailSuppressed", 0),
        ("m1", "a", "emailBounce", 1, {"bounceType": "HardBounce"}),
        ("m1", "a", "emailBounce", 2, {"bounceType": " hard bounce "}),
        ("m1", "b", "emailBounce", 1, {"bounceType": "SOFT"}),
        ("m1", "c", "emailBounce", 1, {"bounceType": "mailbox full"}),
        ("m1", "d", "emailBounce", 1),
    ])  # fmt: skip
    out = bex.bounce_breakdown(ev)
    assert out["bounceType"].astype(object).tolist()[:3] == ["hard", "mailbox full", "soft"]
    assert out["bounceType"].isna().iloc[-1]  # missing type: its own row, not dropped
    hard = row(out, bounceType="hard")
    assert (hard["bounces"], hard["unique_recipients"], hard["share"]) == (1, 1, 0.25)
    assert hard["rate"] == pytest.approx(1 / 4)  # 1 bounced send of 4 sends
    assert bex.bounce_breakdown(ev, bounce_rate="requests")["rate"].iloc[0] == pytest.approx(1 / 5)
    domains = bex.bounce_breakdown(ev, by="domain")
    x = row(domains, domain="x.org")
    assert (x["bounces"], x["unique_recipients"], x["rate"]) == (3, 3, 1.0)
    assert row(domains, domain="example.com")["rate"] == 1.0
    funnel = bex.funnel(ev).iloc[0]
    assert (funnel["hard_bounced"], funnel["soft_bounced"], funnel["bounced"]) == (1, 1, 4)


def test_bounce_breakdown_by_mailing_and_day(campaign):
    by_mail = bex.bounce_breakdown(campaign, by=["messageId", "bounceType"])
    assert row(by_mail, messageId="m1", bounceType="soft")["rate"] == pytest.approx(1 / 5)
    daily = bex.bounce_breakdown(campaign, by="day")
    assert daily["bounces"].tolist() == [2] and daily["rate"].iloc[0] == pytest.approx(2 / 5)
    assert bex.bounce_breakdown(campaign.iloc[:0]).empty


# --- click_urls ---------------------------------------------------------------------------
def test_click_urls_normalized(campaign):
    out = bex.click_urls(campaign)
    assert list(out.columns) == [
        "clickUrl", "urlDescription", "gross_clicks", "unique_clicks", "people", "click_share",
        "unique_click_rate", "first_click", "last_click", "median_time_to_click",
        "unique_first_clicks",
    ]  # fmt: skip
    assert len(out) == 1
    link = out.iloc[0]
    assert link["clickUrl"] == "https://a.com/x"
    assert (link["gross_clicks"], link["unique_clicks"], link["click_share"]) == (2, 2, 1.0)
    assert link["unique_click_rate"] == pytest.approx(2 / 3)  # over delivered 3
    assert link["first_click"] == T0 + pd.Timedelta(minutes=31)
    assert link["last_click"] == T0 + pd.Timedelta(minutes=63)
    # r1: send at +1, click +31 -> 30 min; r3: send +3, click +63 -> 60 min; median 45
    assert link["median_time_to_click"] == pd.Timedelta(minutes=45)
    assert link["unique_first_clicks"] == 2


def test_click_urls_not_normalized_and_descriptions():
    x = {"clickUrl": "https://a.com/?utm_source=x", "urlDescription": "Shop"}
    y = {"clickUrl": "https://a.com/?utm_source=y", "urlDescription": "Shop now"}
    ev = events_frame([
        ("m1", "r1", "emailSend", 0), ("m1", "r2", "emailSend", 0),
        ("m1", "r1", "emailClick", 1, x),
        ("m1", "r1", "emailClick", 2, y),
        ("m1", "r2", "emailClick", 3, y),
        ("m1", "r2", "emailClick", 4, {"clickUrl": "https://b.com/p?id=1&gclid=9"}),
    ])  # fmt: skip
    out = bex.click_urls(ev)
    assert out["clickUrl"].tolist() == ["https://a.com/", "https://b.com/p?id=1"]
    a = out.iloc[0]
    assert (a["gross_clicks"], a["unique_clicks"], a["urlDescription"]) == (3, 2, "Shop now")
    assert a["click_share"] == pytest.approx(3 / 4)
    # per recipient, first clicks: r1 -> a (min 1), r2 -> a (min 3): a 2, b 0
    assert out["unique_first_clicks"].tolist() == [2, 0]
    assert out["unique_first_clicks"].sum() == bex.funnel(ev).loc[0, "unique_clicks"]
    raw = bex.click_urls(ev, normalize=False)
    assert len(raw) == 3
    assert row(raw, clickUrl="https://a.com/?utm_source=y")["unique_clicks"] == 2
    custom = bex.click_urls(ev, tracking_params=["utm_*"])
    assert "https://b.com/p?id=1&gclid=9" in custom["clickUrl"].tolist()


def test_click_urls_per_mailing_and_no_send():
    ev = events_frame([
        ("m1", "r1", "emailSend", 0),
        ("m1", "r1", "emailClick", 10, {"clickUrl": "https://a.com/"}),
        ("m2", "r1", "emailClick", 10, {"clickUrl": "https://a.com/"}),
        ("m2", "r2", "emailClick", 10, {"clickUrl": None}),
    ])  # fmt: skip
    out = bex.click_urls(ev, by="messageId")
    assert out["messageId"].astype(str).tolist() == ["m1"]  # m2 was never sent: apart
    assert out.attrs["without_send"]["clicks"] == 2
    assert out.iloc[0]["median_time_to_click"] == pd.Timedelta(minutes=10)
    no_url = events_frame([
        ("m1", "r1", "emailSend", 0), ("m1", "r2", "emailSend", 0),
        ("m1", "r1", "emailClick", 10, {"clickUrl": None}),
        ("m1", "r2", "emailBounce", 1, {"bounceType": "Hard"}),
    ])  # fmt: skip
    only = bex.click_urls(no_url).iloc[0]  # clicks without a URL: one row, kept
    assert pd.isna(only["clickUrl"]) and only["unique_click_rate"] == 1.0  # 1 delivered


def test_click_urls_needs_click_url(campaign):
    with pytest.raises(BexConfigError, match="clickUrl"):
        bex.click_urls(campaign.drop(columns="clickUrl"))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "HTTPS://Shop.Example.com/Sale?utm_source=bex&id=7#top",
            "https://shop.example.com/Sale?id=7",
        ),
        ("https://a.com/x?q=a%20b&UTM_Medium=e&spMailingID=3", "https://a.com/x?q=a%20b"),
        ("https://a.com/?fbclid=1", "https://a.com/"),
        ("https://User@Host.COM:8080/P", "https://User@host.com:8080/P"),
        ("not a url", "not a url"),
    ],
)
def test_normalize_url(url, expected):
    assert bex.normalize_url(url) == expected


# --- engagement ---------------------------------------------------------------------------
def test_time_to_engage_keeps_never_as_nat(campaign):
    out = bex.time_to_engage(campaign)
    assert list(out.columns) == [
        "messageId",
        "recipient",
        "sent_at",
        "engaged_at",
        "time_to_engage",
    ]
    assert out["recipient"].tolist() == ["r1", "r2", "r3"]  # r4, r5 bounced: not delivered
    assert out["time_to_engage"].tolist()[:2] == [
        pd.Timedelta(minutes=29),
        pd.Timedelta(minutes=60),
    ]
    assert pd.isna(out["time_to_engage"].iloc[2])  # r3 never opened: not yet
    clicks = bex.time_to_engage(campaign, event="emailClick")
    assert clicks["time_to_engage"].tolist()[0] == pd.Timedelta(minutes=30)
    either = bex.time_to_engage(campaign, event=("emailOpen", "emailClick"))
    assert either["time_to_engage"].notna().sum() == 3
    with pytest.raises(BexConfigError, match="event"):
        bex.time_to_engage(campaign, event="open")


def test_engagement_curve_counts_not_yet(campaign):
    curve = bex.engagement_curve(campaign, step="30min")
    assert curve["elapsed"].tolist() == [pd.Timedelta(minutes=m) for m in (0, 30, 60)]
    assert curve["engaged"].tolist() == [0, 1, 2]
    assert curve["newly_engaged"].tolist() == [0, 1, 1]
    assert curve["delivered"].tolist() == [3, 3, 3]
    assert curve["share"].tolist() == pytest.approx([0, 1 / 3, 2 / 3])
    per_mail = bex.engagement_curve(campaign, by="messageId", step="1h", until="2h")
    assert per_mail["messageId"].astype(str).unique().tolist() == ["m1"]
    assert per_mail["engaged"].tolist() == [0, 2, 2]


def test_engagement_curve_before_send_counts_at_zero():
    ev = events_frame([("m1", "r1", "emailSend", 10), ("m1", "r1", "emailOpen", 5)])
    curve = bex.engagement_curve(ev, step="1h")
    assert curve["engaged"].tolist() == [1] and curve["share"].tolist() == [1.0]


def test_activity_heatmap_time_zone_and_unique(campaign):
    utc = bex.activity_heatmap(campaign)
    assert utc.shape == (7, 24) and utc.index.name == "weekday" and utc.columns.name == "hour"
    assert int(utc.to_numpy().sum()) == 6  # 4 opens + 2 clicks
    assert utc.loc["Monday", 8] == 2 and utc.loc["Monday", 9] == 3  # 2026-11-02 is a Monday
    ny = bex.activity_heatmap(campaign, tz="America/New_York")
    assert ny.loc["Monday", 3] == 2  # 08:xx UTC = 03:xx EST
    unique = bex.activity_heatmap(campaign, unique=True)
    assert unique.loc["Monday", 9] == 3  # r1, r2, r3
    sends = bex.activity_heatmap(campaign, event_types=("emailSend", "replyAbuse"))
    assert int(sends.to_numpy().sum()) == 6


# --- cross-check on a generated campaign --------------------------------------------------
def numpy_events(seed: int = 7, n: int = 3000) -> pd.DataFrame:
    """A random frame with every oddity: unknown types, odd bounce spellings, many links."""
    rng = np.random.default_rng(seed)
    kinds = np.array([*bex.EVENT_TYPES, "replyAbuse"])
    who = rng.integers(0, 300, n)
    urls = [f"https://a.com/{i}?utm_source={j}" for i in range(5) for j in range(2)]
    return pd.DataFrame(
        {
            "messageId": pd.Categorical(rng.choice(["1", "2", "3"], n)),
            "RECIPIENT_ID": pd.array(who.astype(str), dtype="string"),
            "Email": pd.array(np.char.add(who.astype(str), "@x.com"), dtype="string"),
            "eventType": pd.Categorical(
                rng.choice(kinds, n, p=[0.4, 0.3, 0.1, 0.05, 0.05, 0.08, 0.02])
            ),
            "bounceType": pd.Categorical(rng.choice(["Hard", "soft bounce", "other", None], n)),
            "clickUrl": pd.Categorical(rng.choice(urls, n)),
            "timestamp": T0 + pd.to_timedelta(rng.integers(0, 10**6, n), unit="s"),
        }
    )


@pytest.fixture(params=["samples", "numpy"])
def generated(request) -> pd.DataFrame:
    """A generated campaign (bextoolkit.samples.campaigns, and a numpy one); some ids missing."""
    if request.param == "samples":
        from bextoolkit.samples import campaigns as samples

        events = samples.generate_events(n_recipients=400, n_mailings=3, seed=7)
    else:
        events = numpy_events()
    events = events.copy()
    events.loc[events.index[::37], "RECIPIENT_ID"] = pd.NA  # the Email fallback matters
    return events


def python_funnel(events: pd.DataFrame) -> dict[str, dict[str, int]]:
    """The funnel counts with plain Python sets (a different recipient rule implementation)."""
    email_to_id: dict[str, str] = {}
    for rid, email in zip(events["RECIPIENT_ID"], events["Email"], strict=True):
        if not pd.isna(rid) and not pd.isna(email):
            email_to_id.setdefault(str(email).strip().lower(), "id:" + str(rid))
    sets: dict[str, dict[str, set]] = {}
    gross: dict[str, dict[tuple[str, bool], int]] = {}
    pending: list[tuple[str, str, str]] = []
    for msg, rid, email, event, btype in zip(
        events["messageId"].astype(str), events["RECIPIENT_ID"], events["Email"],
        events["eventType"].astype(str), events["bounceType"], strict=True,
    ):  # fmt: skip
        if pd.isna(rid):
            e = str(email).strip().lower()
            who = email_to_id.get(e, "email:" + e)
        else:
            who = "id:" + str(rid)
        s = sets.setdefault(msg, {})
        s.setdefault(event, set()).add(who)
        if event == "emailBounce" and not pd.isna(btype):
            kind = (
                "hard"
                if "hard" in str(btype).lower()
                else "soft"
                if "soft" in str(btype).lower()
                else None
            )
            if kind:
                s.setdefault(kind, set()).add(who)
        pending.append((msg, who, event))
    for msg, who, event in pending:
        was_sent = who in sets[msg].get("emailSend", set())
        per = gross.setdefault(msg, {})
        per[(event, was_sent)] = per.get((event, was_sent), 0) + 1
    # Every count is of sends: events of a (mailing, recipient) without a send count apart,
    # a suppressed recipient who was also sent counts as sent, a send bounces once (hard first).
    out = {}
    for msg, s in sets.items():
        sent = s.get("emailSend", set())
        counted = {e: members & sent for e, members in s.items()}
        counted["soft"] = counted.get("soft", set()) - counted.get("hard", set())
        counted["emailSuppressed"] = s.get("emailSuppressed", set()) - sent
        if not sent and not counted["emailSuppressed"]:
            continue
        get = lambda e, c=counted: len(c.get(e, set()))  # noqa: E731
        out[msg] = {
            "sent": get("emailSend"), "suppressed": get("emailSuppressed"),
            "bounced": get("emailBounce"), "hard_bounced": get("hard"),
            "soft_bounced": get("soft"), "unique_opens": get("emailOpen"),
            "unique_clicks": get("emailClick"), "opt_outs": get("emailOptOut"),
            "gross_opens": gross[msg].get(("emailOpen", True), 0),
            "gross_clicks": gross[msg].get(("emailClick", True), 0),
        }  # fmt: skip
        out[msg]["delivered"] = out[msg]["sent"] - out[msg]["bounced"]
    return out


def test_funnel_agrees_with_plain_python_sets(generated):
    events = generated
    expected = python_funnel(events)
    out = bex.funnel(events)
    assert sorted(out["messageId"].astype(str)) == sorted(expected)
    for _, r in out.iterrows():
        want = expected[str(r["messageId"])]
        assert {k: int(r[k]) for k in want} == want
        assert r["open_rate"] == pytest.approx(want["unique_opens"] / want["delivered"])


def test_click_urls_agree_with_duckdb(generated):
    duckdb = pytest.importorskip("duckdb", reason="duckdb (test extra) is missing")
    events = generated
    events = events[events["RECIPIENT_ID"].notna()]  # SQL below keys on the id alone
    ours = bex.click_urls(events, normalize=False, by="messageId")
    con = duckdb.connect()
    con.register("ev", events)
    sql = """
        WITH s AS (SELECT messageId, RECIPIENT_ID, min(timestamp) AS sent_at FROM ev
                   WHERE eventType = 'emailSend' GROUP BY ALL),
        b AS (SELECT DISTINCT messageId, RECIPIENT_ID FROM ev WHERE eventType = 'emailBounce'),
        d AS (SELECT s.messageId, count(*) - count(b.RECIPIENT_ID) AS delivered
              FROM s LEFT JOIN b USING (messageId, RECIPIENT_ID) GROUP BY ALL)
        SELECT CAST(c.messageId AS VARCHAR) AS messageId, CAST(c.clickUrl AS VARCHAR) AS clickUrl,
               count(*) AS gross_clicks, count(DISTINCT c.RECIPIENT_ID) AS unique_clicks,
               count(DISTINCT c.RECIPIENT_ID) / any_value(d.delivered) AS unique_click_rate,
               min(c.timestamp) AS first_click, max(c.timestamp) AS last_click,
               median(epoch_us(c.timestamp) - epoch_us(s.sent_at)) AS median_time_to_click
        FROM ev c JOIN s USING (messageId, RECIPIENT_ID) JOIN d USING (messageId)
        WHERE c.eventType = 'emailClick' GROUP BY ALL ORDER BY 1, 2
    """
    theirs = con.execute(sql).df()
    mine = ours.assign(
        messageId=ours["messageId"].astype(str), clickUrl=ours["clickUrl"].astype(str)
    )
    mine = mine.sort_values(["messageId", "clickUrl"]).reset_index(drop=True)
    assert len(mine) == len(theirs) > 0
    assert mine["clickUrl"].tolist() == theirs["clickUrl"].tolist()
    for col in ("gross_clicks", "unique_clicks"):
        assert mine[col].tolist() == theirs[col].tolist(), col
    np.testing.assert_allclose(mine["unique_click_rate"], theirs["unique_click_rate"].astype(float))
    assert (
        pd.to_datetime(mine["first_click"], utc=True)
        == pd.to_datetime(theirs["first_click"], utc=True)
    ).all()
    # microseconds as numbers: DuckDB 1.5 takes the lower middle of an INTERVAL median
    theirs_median = pd.to_timedelta(theirs["median_time_to_click"], unit="us")
    gap = (mine["median_time_to_click"] - theirs_median).abs()
    assert (gap.fillna(pd.Timedelta(0)) <= pd.Timedelta("1ms")).all()


def test_groups_are_sorted_by_value_whatever_the_category_order():
    events = pd.DataFrame(
        {
            "messageId": pd.Categorical(["m2", "m1", "m2", "m1"], categories=["m2", "m1"]),
            "RECIPIENT_ID": ["1", "2", "1", "2"],
            "eventType": ["emailSend", "emailSend", "emailOpen", "emailOpen"],
        }
    )
    resorted = events.assign(messageId=events["messageId"].cat.reorder_categories(["m1", "m2"]))
    first, second = bex.funnel(events), bex.funnel(resorted)
    assert first["messageId"].astype(str).tolist() == ["m1", "m2"]
    pd.testing.assert_frame_equal(first, second)
