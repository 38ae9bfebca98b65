"""flag_machine_opens / flag_bot_clicks on small frames whose answers were worked out by hand."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import events_frame

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports.quality import (
    APPLE_PROXY_USER_AGENTS,
    flag_bot_clicks,
    flag_machine_opens,
)

APPLE_MAIL = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko)"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.4266; Pro)"
CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/119.0.0.0 Safari/537.36"
)


def _frame(rows):
    """Events of 2 March 2026 from (recipient, mailing, event, "HH:MM:SS", agent, url)."""
    columns = ("RECIPIENT_ID", "messageId", "eventType", "timestamp", "userAgent", "clickUrl")
    return events_frame(
        [(*row[:3], pd.Timedelta(row[3]), *row[4:]) for row in rows],
        columns,
        start=pd.Timestamp("2026-03-02", tz="UTC"),
    )


@pytest.fixture
def opens():
    # sends at 10:00:00; the expected flag and reason of each row is in the comment.
    return _frame(
        [
            ("r1", "m1", "emailSend", "10:00:00", None, None),  # not an open
            ("r2", "m1", "emailSend", "10:00:00", None, None),  # not an open
            ("r3", "m1", "emailSend", "10:00:00", None, None),  # not an open
            ("r4", "m1", "emailSend", "10:00:00", None, None),  # not an open
            ("r1", "m1", "emailOpen", "10:00:05", "Mozilla/5.0", None),  # Apple MPP
            ("r1", "m1", "emailOpen", "12:00:00", APPLE_MAIL, None),  # human Apple Mail
            ("r2", "m1", "emailOpen", "10:00:30", GMAIL_PROXY, None),  # proxy 30 s after send
            ("r2", "m1", "emailOpen", "11:00:00", GMAIL_PROXY, None),  # proxy an hour later: human
            ("r3", "m1", "emailOpen", "13:00:00", "Barracuda Sentinel (EE)", None),  # scanner
            ("r4", "m1", "emailOpen", "10:00:02", OUTLOOK, None),  # fast but a real client
            ("r1", "m1", "emailClick", "12:01:00", "Mozilla/5.0", "https://a.example/x"),  # click
            ("r1", "m1", "emailOpen", "15:00:00", " mozilla/5.0 ", None),  # MPP re-fetch, late
        ]
    )


APPLE = "Apple Mail Privacy Protection user agent"
PROXY60 = "opened within 60 s of send by proxy"
SCANNER = "security scanner user agent"


def test_machine_opens_default_rules(opens):
    out = flag_machine_opens(opens)
    expected = [None, None, None, None, APPLE, None, PROXY60, None, SCANNER, None, None, APPLE]
    assert out["machine_open_reason"].tolist() == [pd.NA if e is None else e for e in expected]
    assert out["machine_open"].tolist() == [e is not None for e in expected]
    assert out["machine_open"].dtype == bool
    assert out["machine_open_reason"].dtype == "string"


def test_machine_opens_never_mutates_the_input(opens):
    before = opens.copy()
    out = flag_machine_opens(opens)
    pd.testing.assert_frame_equal(opens, before)
    assert out is not opens
    assert list(out.columns) == [*opens.columns, "machine_open", "machine_open_reason"]


def test_machine_opens_apple_only_within_a_window(opens):
    out = flag_machine_opens(opens, apple_within_seconds=60)
    # the 10:00:05 bare-agent open stays flagged, the 15:00 re-fetch does not
    assert out["machine_open_reason"].iloc[4] == APPLE
    assert not out["machine_open"].iloc[11]


def test_machine_opens_rules_can_be_switched_off_and_tuned(opens):
    out = flag_machine_opens(
        opens, apple_user_agents=(), proxy_within_seconds=None, scanner_markers=()
    )
    assert not out["machine_open"].any()
    out = flag_machine_opens(opens, proxy_within_seconds=10, any_within_seconds=5)
    assert pd.isna(out["machine_open_reason"].iloc[6])  # the proxy came at 30 s > 10 s
    assert out["machine_open_reason"].iloc[9] == "opened within 5 s of send"  # Outlook at 2 s


def test_machine_opens_tolerates_object_and_category_text(opens):
    as_object = opens.astype({"RECIPIENT_ID": object, "userAgent": object, "eventType": object})
    as_category = opens.astype({"userAgent": "category"})
    expected = flag_machine_opens(opens)["machine_open"].tolist()
    assert flag_machine_opens(as_object)["machine_open"].tolist() == expected
    assert flag_machine_opens(as_category)["machine_open"].tolist() == expected


def test_machine_opens_without_the_send_cannot_time(opens):
    no_sends = opens[opens["eventType"] != "emailSend"]
    out = flag_machine_opens(no_sends)
    reasons = out["machine_open_reason"].dropna().tolist()
    assert PROXY60 not in reasons  # without the send the proxy open is not timed
    assert reasons.count(APPLE) == 2 and reasons.count(SCANNER) == 1


def test_machine_opens_names_the_missing_column():
    with pytest.raises(BexConfigError, match="eventType"):
        flag_machine_opens(pd.DataFrame({"userAgent": ["Mozilla/5.0"]}))


def test_apple_proxy_agent_is_the_bare_mozilla_string():
    assert APPLE_PROXY_USER_AGENTS == ("Mozilla/5.0",)


def test_timing_matches_the_send_by_email_when_the_id_is_missing():
    ev = pd.DataFrame(
        {
            "RECIPIENT_ID": ["7", None],
            "Email": ["ann@example.com", " Ann@Example.com"],
            "messageId": ["m", "m"],
            "eventType": ["emailSend", "emailOpen"],
            "timestamp": pd.to_datetime(["2026-03-02 10:00:00", "2026-03-02 10:00:20"], utc=True),
            "userAgent": [None, "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy"],
        }
    )
    assert flag_machine_opens(ev)["machine_open_reason"].tolist() == [pd.NA, PROXY60]


@pytest.fixture
def clicks():
    a, b, c = "https://shop.example/a", "https://shop.example/b", "https://shop.example/c"
    return _frame(
        [
            ("r1", "m2", "emailSend", "09:00:00", None, None),
            ("r2", "m2", "emailSend", "09:00:00", None, None),
            ("r3", "m2", "emailSend", "09:00:00", None, None),
            ("r4", "m2", "emailSend", "09:00:00", None, None),
            ("r1", "m2", "emailClick", "09:00:10", CHROME, a),  # 10 s after send
            ("r2", "m2", "emailClick", "10:00:00", CHROME, a),  # all three links ...
            ("r2", "m2", "emailClick", "10:00:02", CHROME, b),  # ... within 4 s
            ("r2", "m2", "emailClick", "10:00:04", CHROME, c),
            ("r2", "m2", "emailClick", "11:00:00", CHROME, a),  # later: a person
            ("r3", "m2", "emailClick", "12:00:00", "python-requests/2.31.0", a),  # script
            ("r3", "m2", "emailClick", "12:30:00", CHROME, b),  # a person
            ("r4", "m2", "emailClick", "13:00:00", CHROME, a),  # all three links ...
            ("r4", "m2", "emailClick", "13:20:00", CHROME, b),  # ... over 40 minutes
            ("r4", "m2", "emailClick", "13:40:00", CHROME, c),
            ("r4", "m2", "emailOpen", "09:00:01", "python-requests/2.31.0", None),  # an open
        ]
    )


ALL3 = "clicked all 3 links of the mailing within 30 s"


def test_bot_clicks_default_rules(clicks):
    out = flag_bot_clicks(clicks)
    expected = [None] * 4 + ["clicked within 30 s of send", ALL3, ALL3, ALL3, None]
    expected += [SCANNER, None, None, None, None, None]
    assert out["bot_click_reason"].tolist() == [pd.NA if e is None else e for e in expected]
    assert out["bot_click"].tolist() == [e is not None for e in expected]
    assert list(out.columns) == [*clicks.columns, "bot_click", "bot_click_reason"]


def test_bot_clicks_tuned(clicks):
    out = flag_bot_clicks(clicks, within_seconds=5, all_links_min=4)
    assert out["bot_click"].sum() == 1  # only the script is left
    out = flag_bot_clicks(clicks, all_links_seconds=3)
    assert out["bot_click"].iloc[5:8].tolist() == [False, False, False]  # span 4 s > 3 s
    out = flag_bot_clicks(clicks, all_links_seconds=3600, within_seconds=None)
    # r4's three links within 40 min now count; r1's quick click no longer does
    assert (
        out["bot_click"].tolist()[4:14]
        == [False, True, True, True, False] + [True] + [False] + [True] * 3
    )


def test_bot_clicks_count_links_per_mailing(clicks):
    other = _frame([("r9", "m3", "emailClick", "08:00:00", CHROME, "https://elsewhere.example")])
    both = pd.concat([clicks, other], ignore_index=True)
    out = flag_bot_clicks(both)
    assert out["bot_click_reason"].iloc[5] == ALL3  # m3's link does not count for m2
    assert not out["bot_click"].iloc[-1]  # one-link mailing: below all_links_min


def test_bot_clicks_never_mutates_the_input(clicks):
    before = clicks.copy()
    flag_bot_clicks(clicks)
    pd.testing.assert_frame_equal(clicks, before)


def test_all_links_ignores_tracking_parameters(clicks):
    tagged = clicks.copy()
    url = "https://shop.example/a?utm_source=bex&spUserID=r2"
    tagged["clickUrl"] = tagged["clickUrl"].cat.add_categories([url])
    tagged.loc[5, "clickUrl"] = url
    assert flag_bot_clicks(tagged)["bot_click_reason"].iloc[5:8].tolist() == [ALL3] * 3
