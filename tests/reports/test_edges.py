"""Every report on an empty frame, with mailing ids given as ints, and on RRDE-only events."""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest

import bextoolkit as bex
from bextoolkit import samples

BY = [None, "messageId", "domain", "day", ["messageId", "day"]]


@pytest.fixture(scope="module")
def events() -> pd.DataFrame:
    return samples.generate_events(n_recipients=300, n_mailings=3, days=2, seed=5)


REPORTS = {
    "event_counts": lambda ev, by: bex.event_counts(ev, by=by),
    "funnel": lambda ev, by: bex.funnel(ev, by=by),
    "bounce_breakdown": lambda ev, by: bex.bounce_breakdown(ev, by=by or "bounceType"),
    "click_urls": lambda ev, by: bex.click_urls(ev, by=by),
    "recipient_engagement": lambda ev, by: bex.recipient_engagement(ev),
    "time_to_engage": lambda ev, by: bex.time_to_engage(ev),
    "engagement_curve": lambda ev, by: bex.engagement_curve(
        ev,
        by=by if by in (None, "messageId") else None,  # it takes only these two
    ),
    "activity_heatmap": lambda ev, by: bex.activity_heatmap(ev),
    "client_mix": lambda ev, by: bex.client_mix(ev),
    "flag_machine_opens": lambda ev, by: bex.flag_machine_opens(ev),
    "flag_bot_clicks": lambda ev, by: bex.flag_bot_clicks(ev),
}


@pytest.mark.parametrize("by", BY, ids=str)
@pytest.mark.parametrize("name", sorted(REPORTS))
def test_every_report_takes_an_empty_frame(events, name, by):
    result = REPORTS[name](events.iloc[:0], by)
    assert isinstance(result, pd.DataFrame)
    counts = result.select_dtypes(
        "integer", exclude="timedelta"
    )  # a fixed grid (hours x days, ...) holds zeros
    assert (counts.to_numpy() == 0).all(), result
    if by is not None and name in ("event_counts", "funnel", "bounce_breakdown", "click_urls"):
        assert len(result) == 0


@pytest.mark.parametrize(
    "plot",
    [
        bex.plot_funnel,
        bex.plot_bounces,
        bex.plot_click_urls,
        bex.plot_timeline,
        bex.plot_engagement,
        bex.plot_heatmap,
    ],
)
def test_every_plot_takes_an_empty_frame(events, plot):
    ax = plot(events.iloc[:0])
    assert ax.figure is not None
    plt.close("all")


def test_mailing_ids_may_be_ints(events):
    ids = sorted(events["messageId"].astype(str).unique())
    a, b = int(ids[0]), int(ids[1])
    as_text = bex.compare(events, ids[0], ids[1], min_sample=1, min_successes=0)
    as_ints = bex.compare(events, a, b, min_sample=1, min_successes=0)
    pd.testing.assert_frame_equal(as_ints.arms, as_text.arms)
    report = bex.CampaignReport(events, mailings=[a])
    assert report.funnel["messageId"].astype(str).tolist() == [ids[0]]
    ax = bex.plot_funnel(bex.funnel(events), mailing=a)
    assert ax is not None


def test_complaints_count_and_seed_recipients_stay_out_unless_asked():
    ev = pd.DataFrame({
        "messageId": ["m"] * 8,
        "RECIPIENT_ID": ["1", "2", "3", "9", "9", "1", "2", "9"],
        "eventType": ["emailSend"] * 4 + ["emailOpen", "emailComplaint", "emailReply",
                                          "emailComplaint"],
        "Recipient Type": ["Normal"] * 3
        + ["Seed", "Seed ", "Normal", "Normal", "Inbox Monitoring"],
    })  # fmt: skip
    f = bex.funnel(ev)
    assert f.loc[0, ["sent", "delivered", "unique_opens", "complaints"]].tolist() == [3, 3, 0, 1]
    assert f.loc[0, "complaint_rate"] == pytest.approx(1 / 3)
    assert f.attrs["excluded"] == {"seeds": 3}
    assert f.attrs["convention"]["include_seeds"] is False
    assert "Seed and inbox-monitoring recipients" in f.attrs["convention"]["description"]
    with_seeds = bex.funnel(ev, include_seeds=True)
    assert with_seeds.loc[0, ["sent", "unique_opens", "complaints"]].tolist() == [4, 1, 2]
    assert with_seeds.loc[0, "complaint_rate"] == pytest.approx(2 / 4)
    counts = bex.event_counts(ev).set_index("eventType")["events"].to_dict()
    assert counts == {"emailSend": 4, "emailOpen": 1, "emailComplaint": 2, "emailReply": 1}


# --- recipient ids read as numbers --------------------------------------------------------
def test_ids_that_read_as_one_number_stay_apart():
    """Text ids are compared as text: "5", "05", "0x5", "-5" are four people, not one."""
    ids = ["5", "05", "0x5", "-5", "5", "99999999999999999999"]
    ev = pd.DataFrame({
        "RECIPIENT_ID": pd.array(ids, dtype="str"),
        "messageId": "m1",
        "eventType": "emailSend",
    })  # fmt: skip
    people = bex.recipient_engagement(ev)
    assert sorted(people["RECIPIENT_ID"]) == sorted(set(ids))
    assert people.set_index("RECIPIENT_ID").loc["5", "mailings_sent"] == 1
    assert bex.funnel(ev)["sent"].iloc[0] == 5


def test_numeric_ids_sort_as_numbers_then_people_known_by_email():
    ev = pd.DataFrame({
        "RECIPIENT_ID": pd.array(["100", "9", None, "10", "9", None], dtype="str"),
        "Email": pd.array(["c@x", "a@x", "z@x", "b@x", "a@x", "y@x"], dtype="str"),
        "messageId": ["m1", "m1", "m1", "m1", "m2", "m1"],
        "eventType": "emailSend",
    })  # fmt: skip
    people = bex.recipient_engagement(ev)
    assert people["RECIPIENT_ID"].tolist()[:3] == ["9", "10", "100"]
    assert people["Email"].tolist() == ["a@x", "b@x", "c@x", "y@x", "z@x"]
    assert people["mailings_sent"].tolist() == [2, 1, 1, 1, 1]


@pytest.mark.parametrize("by", ["bounceType", ["messageId", "bounceType"], "domain"], ids=str)
def test_bounce_breakdown_agrees_with_plain_pandas_on_a_month(by):
    """40 mailings to the same 400 people: every figure is a count of sends, written here
    in plain pandas (one row per mailing and recipient)."""
    ev = samples.generate_events(n_recipients=400, n_mailings=40, days=30, seed=3)
    got = bex.bounce_breakdown(ev, by=by, classify=False)
    keys = [by] if isinstance(by, str) else by
    ev = ev.assign(domain=ev["Email"].str.split("@").str[-1].str.lower())
    assert ev["RECIPIENT_ID"].notna().all()
    sends = ev[ev["eventType"] == "emailSend"].drop_duplicates(["messageId", "RECIPIENT_ID"])
    bounces = ev[ev["eventType"] == "emailBounce"].drop_duplicates(["messageId", "RECIPIENT_ID"])
    bounced = bounces[["messageId", "RECIPIENT_ID", "bounceType"]].merge(
        sends.drop(columns="bounceType"), on=["messageId", "RECIPIENT_ID"]
    )
    per_group = bounced.groupby(keys, observed=True, dropna=False)["RECIPIENT_ID"]
    want = per_group.agg(["size", "nunique"])
    send_keys = [key for key in keys if key != "bounceType"]
    if send_keys:
        want = want.join(
            sends.groupby(send_keys, observed=True).size().rename("sent"), on=send_keys
        )
    else:
        want["sent"] = len(sends)
    got = got.astype({key: str for key in keys}).set_index(keys).sort_index()
    want = want.reset_index().astype({key: str for key in keys}).set_index(keys).sort_index()
    assert got["bounces"].tolist() == want["size"].tolist()
    assert got["unique_recipients"].tolist() == want["nunique"].tolist()
    np.testing.assert_allclose(got["rate"], want["size"] / want["sent"])
    assert got["rate"].max() < 0.1  # 2 % hard + 1.5 % soft per send, whatever the grouping


@pytest.mark.parametrize("spread", [50, 1_000_000, 10**12], ids=["close", "sparse", "far"])
def test_distinct_counts_whatever_the_keys_look_like(spread):
    """The kernels' three ways (a table, dense codes then a table, a sort) agree with pandas."""
    from bextoolkit.reports import _kernels as k

    rng = np.random.default_rng(1)
    groups = rng.integers(0, 10, 5_000)
    values = rng.integers(0, spread, 5_000)
    values[::7] = -1  # unknown: never counted
    where = rng.random(5_000) < 0.8
    frame = pd.DataFrame({"g": groups, "v": values})[where & (values >= 0)]
    want = frame.groupby("g")["v"].nunique().reindex(range(10), fill_value=0)
    assert k.count_distinct(groups, 10, values, where).tolist() == want.tolist()
    assert k.n_distinct(values, where) == frame["v"].nunique()


def test_a_bounce_known_only_by_email_counts_with_numeric_ids():
    ev = pd.DataFrame({
        "RECIPIENT_ID": pd.array(["1", "2", None, "2"], dtype="str"),
        "Email": pd.array(["a@x", "b@x", "A@x ", "b@x"], dtype="str"),
        "eventType": ["emailSend", "emailSend", "emailBounce", "emailBounce"],
        "bounceType": [None, None, "Hard", "Hard"],
    })  # fmt: skip
    out = bex.bounce_breakdown(ev).iloc[0]
    assert (out["bounces"], out["unique_recipients"], out["rate"]) == (2, 2, 1.0)


def test_seed_recipients_get_no_row_unless_asked():
    ev = pd.DataFrame({
        "messageId": ["m"] * 4,
        "RECIPIENT_ID": pd.array(["1", "2", "9", "9"], dtype="str"),
        "eventType": ["emailSend", "emailSend", "emailSend", "emailOpen"],
        "Recipient Type": ["Normal", "Normal", "Seed", "Seed"],
    })  # fmt: skip
    people = bex.recipient_engagement(ev)
    assert people["RECIPIENT_ID"].tolist() == ["1", "2"]
    assert people["mailings_sent"].sum() == bex.funnel(ev)["sent"].sum() == 2
    assert people.attrs["excluded"] == {"seeds": 2}
    everyone = bex.recipient_engagement(ev, include_seeds=True)
    assert everyone["RECIPIENT_ID"].tolist() == ["1", "2", "9"]
    assert everyone["mailings_opened"].tolist() == [0, 0, 1]
