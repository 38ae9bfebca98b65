"""User-agent classification and client_mix, on hand-counted frames."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import events_frame

from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports.user_agents import (
    DEVICE_TYPES,
    ClientInfo,
    classify_user_agent,
    classify_user_agents,
    client_mix,
)

IPHONE_MAIL = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Mobile/15E148"
)
OUTLOOK = "Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17928; Pro)"
EDGE = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0"
)
ANDROID_GMAIL = (
    "Mozilla/5.0 (Linux; Android 14; SM-S918B Build/UP1A.231005.007; wv) AppleWebKit/537.36 "
    "(KHTML, like Gecko) Version/4.0 Chrome/130.0.6723.102 Mobile Safari/537.36"
)
GMAIL_PROXY = (
    "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)"
)
YAHOO_PROXY = "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html"
HEADLESS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/119.0.6045.105 Safari/537.36"
)


@pytest.mark.parametrize(
    ("agent", "expected"),
    [
        ("Mozilla/5.0", ("Apple Mail Privacy Protection", "Unknown", "proxy")),
        (GMAIL_PROXY, ("Google Image Proxy", "Unknown", "proxy")),
        (YAHOO_PROXY, ("Yahoo Mail Proxy", "Unknown", "proxy")),
        (IPHONE_MAIL, ("iOS Mail/WebView", "iOS", "mobile")),
        (ANDROID_GMAIL, ("Chrome Mobile WebView", "Android", "mobile")),
        (OUTLOOK, ("Outlook", "Windows", "desktop")),
        (
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 "
            "(KHTML, like Gecko)",
            ("Apple Mail", "Mac OS X", "desktop"),
        ),
        (EDGE, ("Edge", "Windows", "webmail")),
        (HEADLESS, ("HeadlessChrome", "Windows", "bot")),
        ("python-requests/2.31.0", ("Python Requests", "Other", "bot")),
        ("Barracuda Sentinel (EE)", ("Scanner/bot", "Other", "bot")),
        (None, ("Unknown", "Unknown", "unknown")),
        ("   ", ("Unknown", "Unknown", "unknown")),
        ("zzz", ("Unknown", "Unknown", "unknown")),
    ],
)
def test_classify_user_agent(agent, expected):
    assert classify_user_agent(agent) == ClientInfo(*expected)


def test_classify_user_agents_parses_each_distinct_agent_once():
    classify_user_agent.cache_clear()
    agents = pd.Series([OUTLOOK, EDGE, OUTLOOK, None, EDGE] * 1000, dtype="category")
    out = classify_user_agents(agents)
    assert classify_user_agent.cache_info().misses == 3  # two agents and the missing value
    assert out.index.equals(agents.index)
    assert out["device_type"].iloc[:5].tolist() == [
        "desktop",
        "webmail",
        "desktop",
        "unknown",
        "webmail",
    ]
    assert list(out["device_type"].cat.categories) == list(DEVICE_TYPES)


@pytest.fixture
def events():
    rows = [
        # recipient, mailing, event, agent
        ("1", "m1", "emailOpen", "Mozilla/5.0"),
        ("1", "m1", "emailOpen", "Mozilla/5.0"),
        ("2", "m1", "emailOpen", IPHONE_MAIL),
        ("3", "m1", "emailOpen", OUTLOOK),
        ("4", "m2", "emailOpen", GMAIL_PROXY),
        ("4", "m2", "emailOpen", IPHONE_MAIL),
        ("5", "m2", "emailClick", EDGE),
        ("5", "m2", "emailSend", None),
    ]
    return events_frame(rows, ("RECIPIENT_ID", "messageId", "eventType", "userAgent"))


def test_client_mix_by_device_type(events):
    out = client_mix(events)
    # 6 opens: proxy 3 (MPP 2 by one recipient, Gmail 1), mobile 2, desktop 1
    # only the device types seen: no rows of zeros for unseen categories (observed=True)
    assert out["device_type"].tolist() == ["proxy", "mobile", "desktop"]
    assert out["events"].tolist() == [3, 2, 1]
    assert out["recipients"].tolist() == [2, 2, 1]
    assert out["share"].tolist() == pytest.approx([3 / 6, 2 / 6, 1 / 6])


def test_client_mix_by_mailing_and_client(events):
    out = client_mix(events, by="messageId", level="client")
    m1 = out[out["messageId"] == "m1"]
    assert m1["client"].tolist() == ["Apple Mail Privacy Protection", "Outlook", "iOS Mail/WebView"]
    assert m1["events"].tolist() == [2, 1, 1]
    assert m1["share"].tolist() == pytest.approx([0.5, 0.25, 0.25])
    m2 = out[out["messageId"] == "m2"]
    assert sorted(m2["client"]) == ["Google Image Proxy", "iOS Mail/WebView"]
    assert m2["share"].sum() == pytest.approx(1.0)


def test_client_mix_of_clicks(events):
    out = client_mix(events, event_types=("emailClick",), level="os")
    assert out.loc[out["events"] > 0, ["os", "events", "share"]].values.tolist() == [
        ["Windows", 1, 1.0]
    ]


def test_client_mix_does_not_mutate_and_checks_inputs(events):
    before = events.copy()
    client_mix(events)
    pd.testing.assert_frame_equal(events, before)
    with pytest.raises(BexConfigError, match="level"):
        client_mix(events, level="browser")
    with pytest.raises(BexConfigError, match="userAgent"):
        client_mix(events.drop(columns="userAgent"))


def test_client_mix_of_no_events_is_empty_but_shaped(events):
    out = client_mix(events, event_types=("emailBounce",))
    assert out["events"].sum() == 0
    assert out["share"].isna().all()
