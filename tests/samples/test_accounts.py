"""Realistic accounts (``generate_campaign(realistic=True)``): each property in plain pandas.

No report function is used here: every expectation is computed from the events with
pandas in the test, so the tests hold the generator to what the lead's reports must find.
"""

from __future__ import annotations

import csv
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bextoolkit import read_events
from bextoolkit.exceptions import BexConfigError
from bextoolkit.reports.quality import APPLE_PROXY_USER_AGENTS
from bextoolkit.samples import (
    HOUR_ENGAGEMENT,
    PLANTED_COLUMNS,
    PROVIDER_DOMAINS,
    TYPE_ENGAGEMENT,
    ComplaintSurge,
    generate_campaign,
    mailing_type_of,
    write_exports,
    write_rrde,
)

MPP = "Mozilla/5.0"
SURGE = ComplaintSurge("Yahoo", since="2026-03-04")  # a Wednesday: the surge starts Mon 2 March


@pytest.fixture(scope="module")
def clean():
    """Half a year of an account, nothing planted."""
    return generate_campaign(
        n_recipients=3000, n_mailings=200, days=182, start="2026-01-05", realistic=True, seed=7
    )


@pytest.fixture(scope="module")
def planted():
    return generate_campaign(
        n_recipients=2000, n_mailings=120, days=120, start="2026-01-05", realistic=True, seed=3,
        plant_mailed_after_opt_out=4, plant_mailed_after_hard_bounce=3,
        plant_machine_opens_only=5, plant_complaint_surge=SURGE,
    )  # fmt: skip


def _of(events: pd.DataFrame, code: str) -> pd.DataFrame:
    return events[events["eventType"].astype(str) == code]


def _sends(events: pd.DataFrame) -> pd.DataFrame:
    """One row per send, with whether it bounced and whether it drew a complaint."""
    sends = _of(events, "emailSend")[["messageId", "RECIPIENT_ID", "Email", "timestamp"]]
    sends = sends.astype({"messageId": str})
    key = ["messageId", "RECIPIENT_ID"]

    def pairs(code: str) -> pd.MultiIndex:
        return pd.MultiIndex.from_frame(_of(events, code)[key].astype({"messageId": str}))

    index = pd.MultiIndex.from_frame(sends[key])
    sends["bounced"] = index.isin(pairs("emailBounce"))
    sends["complained"] = index.isin(pairs("emailComplaint"))
    sends["domain"] = sends["Email"].str.split("@").str[1]
    by_domain = {d: p for p, ds in PROVIDER_DOMAINS.items() for d in ds}
    sends["provider"] = sends["domain"].map(by_domain).fillna("other")
    sends["week"] = sends["timestamp"].dt.tz_localize(None).dt.to_period("W").dt.start_time
    return sends


def _first(events: pd.DataFrame, code: str, **match: str) -> pd.Series:
    rows = _of(events, code)
    for column, value in match.items():
        rows = rows[rows[column].astype(str) == value]
    return rows.groupby("RECIPIENT_ID")["timestamp"].min()


def _sent_after(events: pd.DataFrame, when: pd.Series, grace: str = "0s") -> pd.DataFrame:
    sends = _of(events, "emailSend")
    at = sends["RECIPIENT_ID"].map(when)
    late = sends[(sends["timestamp"] > at + pd.Timedelta(grace)).to_numpy()]
    return late.assign(at=at[late.index])


def _machine_only_people(events: pd.DataFrame) -> set[str]:
    opens = _of(events, "emailOpen")
    all_mpp = (opens["userAgent"].astype(str) == MPP).groupby(opens["RECIPIENT_ID"]).all()
    clickers = set(_of(events, "emailClick")["RECIPIENT_ID"])
    return set(all_mpp[all_mpp].index) - clickers


# --- suppression ----------------------------------------------------------------------------
def test_no_send_after_a_hard_bounce_or_an_opt_out(clean):
    ev = clean.events
    hard = _first(ev, "emailBounce", bounceType="Hard")
    opted = _first(ev, "emailOptOut")
    assert len(hard) > 20 and len(opted) > 20  # there is something to suppress
    assert _sent_after(ev, hard).empty
    assert _sent_after(ev, opted).empty
    # one person hard-bounces at most once, opts out at most once
    assert _of(ev, "emailOptOut")["RECIPIENT_ID"].is_unique
    hard_rows = _of(ev, "emailBounce")
    assert hard_rows.loc[hard_rows["bounceType"] == "Hard", "RECIPIENT_ID"].is_unique


def test_suppression_is_silent_and_the_suppression_list_is_not(clean):
    """Hard-bounced and opted-out people get no event; the suppression list gets emailSuppressed."""
    ev = clean.events
    suppressed = set(_of(ev, "emailSuppressed")["RECIPIENT_ID"])
    listed = set(clean.recipients.loc[clean.recipients["suppressed"], "RECIPIENT_ID"])
    assert suppressed and suppressed <= listed
    assert not suppressed & set(_of(ev, "emailSend")["RECIPIENT_ID"])
    # the people who left receive fewer sends than those who stayed
    left = set(_first(ev, "emailOptOut").index) | set(
        _first(ev, "emailBounce", bounceType="Hard").index
    )
    per_person = _of(ev, "emailSend")["RECIPIENT_ID"].value_counts()
    assert per_person[per_person.index.isin(left)].median() < per_person.median() / 2


def test_one_send_per_mailing_and_person(clean):
    sends = _of(clean.events, "emailSend")
    assert not sends.duplicated(["messageId", "RECIPIENT_ID"]).any()
    assert len(sends) > 200_000  # hundreds of mailings to the same people
    assert sends["RECIPIENT_ID"].value_counts().median() > 100


# --- programs, names, providers --------------------------------------------------------------
def test_daily_programs_send_every_day_under_one_message_id(clean):
    ev = clean.events
    sends = _of(ev, "emailSend")
    types = mailing_type_of(sends).astype(str)
    for kind in ("Programs", "AutoResponder"):
        ids = sends.loc[types == kind, "messageId"].astype(str).unique()
        assert len(ids) == 1, kind
        days = sends.loc[sends["messageId"].astype(str) == ids[0], "timestamp"].dt.date
        assert days.nunique() > 150, kind  # of 182 days
    assert set(clean.mailings.loc[clean.mailings["sendType"] == "Triggered", "mailingType"]) == {
        "Programs",
        "AutoResponder",
    }


def test_mailing_names_repeat_on_different_dates(clean):
    table = clean.mailings
    deals = table[table["messageName"] == "Weekly Deals"]
    assert len(deals) > 50 and deals["messageId"].is_unique
    assert deals["send_start"].dt.date.nunique() > 40
    per_name = table.groupby("messageName")["messageId"].nunique()
    assert (per_name[per_name.index != "Weekly Deals"] > 3).sum() >= 8
    assert not table["messageName"].str.contains(r"\d{4}-\d\d-\d\d").any()  # no date in names


def test_domains_spread_over_the_mailbox_providers(clean):
    domains = set(clean.recipients["domain"].astype(str))
    for provider, names in PROVIDER_DOMAINS.items():
        assert len(set(names) & domains) >= 2, provider  # several domains of each provider
    assert {"contoso.com", "gmx.de"} <= domains
    by_domain = {d: p for p, ds in PROVIDER_DOMAINS.items() for d in ds}
    expected = clean.recipients["domain"].astype(str).map(by_domain).fillna("other")
    assert (clean.recipients["provider"].astype(str) == expected).all()
    shares = expected.value_counts(normalize=True)
    assert shares["Google"] > 0.25 and shares["other"] > 0.2 and shares["Apple"] > 0.05


# --- performance by type and hour --------------------------------------------------------------
def _genuine_rates(clean) -> pd.DataFrame:
    """Per delivered HTML send: a genuine (non-MPP) open or not, its type and UTC hour."""
    ev = clean.events
    sends = _sends(ev)
    html = _of(ev, "emailSend")["docType"].astype(str).to_numpy() == "HTML"
    sends = sends[html & ~sends["bounced"].to_numpy()]
    opens = _of(ev, "emailOpen")
    genuine = opens[opens["userAgent"].astype(str) != MPP]
    pairs = pd.MultiIndex.from_frame(genuine[["messageId", "RECIPIENT_ID"]].astype(str))
    key = pd.MultiIndex.from_frame(sends[["messageId", "RECIPIENT_ID"]])
    types = clean.mailings.set_index("messageId")["mailingType"]
    return pd.DataFrame(
        {
            "opened": key.isin(pairs),
            "type": sends["messageId"].map(types).to_numpy(),
            "hour": sends["timestamp"].dt.hour.to_numpy(),
        }
    )


def test_open_rates_differ_by_type_and_hour_as_configured(clean):
    rates = _genuine_rates(clean)
    factor = rates["type"].map(TYPE_ENGAGEMENT) * np.asarray(HOUR_ENGAGEMENT)[rates["hour"]]
    rates["factor"] = factor.to_numpy()
    # opens / expected factor is one constant (the mean engagement) for every type and hour
    base = rates["opened"].sum() / rates["factor"].sum()
    by_type = rates.groupby("type")[["opened", "factor"]].sum()
    assert np.allclose(by_type["opened"] / by_type["factor"], base, rtol=0.08), by_type
    by_hour = rates.groupby("hour")[["opened", "factor"]].sum()
    big = rates["hour"].value_counts()
    by_hour = by_hour[by_hour.index.isin(big[big > 5000].index)]
    assert np.allclose(by_hour["opened"] / by_hour["factor"], base, rtol=0.1), by_hour
    # so the raw rates order as configured: types, and 10:00 UTC is the best hour
    raw_type = rates.groupby("type")["opened"].mean()
    assert list(raw_type.sort_values().index) == sorted(TYPE_ENGAGEMENT, key=TYPE_ENGAGEMENT.get)
    batch = rates[rates["type"] == "SendExperience"]
    raw_hour = batch.groupby("hour")["opened"].mean()
    assert raw_hour.idxmax() in (9, 10, 11)
    assert raw_hour[10] > 1.15 * raw_hour[7] and raw_hour[10] > 1.15 * raw_hour[13]


def test_engagement_factors_are_parameters():
    flat = generate_campaign(
        n_recipients=1500, n_mailings=40, days=40, start="2026-01-05", realistic=True, seed=2,
        mailing_types=["SendExperience", "AMG"], engagement_by_type={"AMG": 2.0},
        engagement_by_hour=[1.0] * 24,
    )  # fmt: skip
    rates = _genuine_rates(flat).groupby("type")["opened"].mean()
    assert 1.8 < rates["AMG"] / rates["SendExperience"] < 2.2
    with pytest.raises(BexConfigError, match="engagement_by_hour: give 24"):
        generate_campaign(realistic=True, engagement_by_hour=[1.0] * 12)
    with pytest.raises(BexConfigError, match="unknown mailing type"):
        generate_campaign(realistic=True, engagement_by_type={"Newsletter": 1.0})


# --- complaints -------------------------------------------------------------------------------
def test_complaints_at_the_rate_on_delivered_sends(clean):
    sends = _sends(clean.events)
    delivered = sends[~sends["bounced"]]
    assert not sends.loc[sends["bounced"], "complained"].any()
    rate = delivered["complained"].sum() / len(delivered)
    assert 0.0004 < rate < 0.0006  # complaint_rate defaults to 0.05 %
    complaints = _of(clean.events, "emailComplaint")
    assert (complaints["code"].astype(str) == "emailComplaint").all()
    sent = sends.set_index(["messageId", "RECIPIENT_ID"])["timestamp"]
    at = sent.reindex(
        pd.MultiIndex.from_frame(complaints[["messageId", "RECIPIENT_ID"]].astype(str))
    )
    assert (complaints["timestamp"].to_numpy() > at.to_numpy()).all()


def test_a_clean_account_has_no_provider_week_over_the_limit(clean):
    sends = _sends(clean.events)
    weeks = sends[~sends["bounced"]].groupby(["provider", "week"])["complained"].mean()
    assert weeks.max() < 0.003
    assert weeks.groupby("provider").max().min() > 0  # every provider has complaints


def test_complaint_rate_is_a_parameter():
    quiet = generate_campaign(n_recipients=300, n_mailings=5, days=7, realistic=True,
                              complaint_rate=0.0, seed=1)  # fmt: skip
    assert _of(quiet.events, "emailComplaint").empty
    loud = generate_campaign(n_recipients=600, n_mailings=10, days=14, realistic=True,
                             complaint_rate=0.02, seed=1)  # fmt: skip
    sends = _sends(loud.events)
    assert 0.017 < sends.loc[~sends["bounced"], "complained"].mean() < 0.023


def test_write_exports_leaves_complaints_out_and_rrde_writes_reply_abuse(tmp_path, caplog):
    events = generate_campaign(n_recipients=600, n_mailings=10, days=14, realistic=True,
                               complaint_rate=0.02, seed=4).events  # fmt: skip
    n_complaints = len(_of(events, "emailComplaint"))
    assert n_complaints > 20
    with caplog.at_level("INFO", logger="bextoolkit.samples.campaigns"):
        files = write_exports(events, str(tmp_path / "bex"), frequency=24)
    assert f"left out {n_complaints} emailComplaint events" in caplog.text
    codes = []
    for path in files:
        with open(path, encoding="utf-8", newline="") as handle:
            codes += [row["code"] for row in csv.DictReader(handle)]
    assert len(codes) == len(events) - n_complaints and "emailComplaint" not in codes
    with pytest.raises(BexConfigError, match="no complaint or reply event"):
        write_exports(events, str(tmp_path / "x"), event_types=["emailComplaint"])

    path = write_rrde(events, str(tmp_path / "rrde"))
    with zipfile.ZipFile(path) as zf:
        text = zf.read(zf.namelist()[0]).decode("utf-8").splitlines()
    assert sum(line.count(",Reply Abuse,") for line in text) == n_complaints
    back = read_events(str(Path(path)), tz="UTC")
    assert (back["eventType"].astype(str) == "emailComplaint").sum() == n_complaints


# --- plants -----------------------------------------------------------------------------------
def test_planted_sends_after_an_opt_out_are_exactly_the_truth(planted):
    ev, truth = planted.events, planted.planted["mailed_after_opt_out"]
    assert list(truth.columns) == list(PLANTED_COLUMNS["mailed_after_opt_out"])
    assert truth["RECIPIENT_ID"].nunique() == 4
    opted = _first(ev, "emailOptOut")
    late = _sent_after(ev, opted, grace="2D")
    got = late[["messageId", "RECIPIENT_ID", "timestamp"]].astype({"messageId": str})
    want = truth[["messageId", "RECIPIENT_ID", "sent_at"]].rename(columns={"sent_at": "timestamp"})
    key = ["RECIPIENT_ID", "timestamp"]
    pd.testing.assert_frame_equal(
        got.sort_values(key).reset_index(drop=True),
        want.astype({"messageId": str, "RECIPIENT_ID": got["RECIPIENT_ID"].dtype})
        .sort_values(key)
        .reset_index(drop=True),
    )
    assert (truth["opted_out_at"] == truth["RECIPIENT_ID"].map(opted).to_numpy()).all()
    assert (truth["lag"] > pd.Timedelta("3D")).all()
    assert len(_sent_after(ev, opted)) == len(truth)  # nothing within the grace period
    email = ev.drop_duplicates("RECIPIENT_ID").set_index("RECIPIENT_ID")["Email"]
    assert (truth["Email"] == truth["RECIPIENT_ID"].map(email).to_numpy()).all()


def test_planted_sends_after_a_hard_bounce_are_exactly_the_truth(planted):
    ev, truth = planted.events, planted.planted["mailed_after_hard_bounce"]
    assert list(truth.columns) == list(PLANTED_COLUMNS["mailed_after_hard_bounce"])
    assert truth["RECIPIENT_ID"].nunique() == 3
    bounced = _first(ev, "emailBounce", bounceType="Hard")
    late = _sent_after(ev, bounced)
    assert sorted(zip(late["messageId"].astype(str), late["RECIPIENT_ID"], strict=True)) == sorted(
        zip(truth["messageId"], truth["RECIPIENT_ID"], strict=True)
    )
    assert (truth["bounced_at"] == truth["RECIPIENT_ID"].map(bounced).to_numpy()).all()
    assert (truth["sent_at"] > truth["bounced_at"]).all()


def test_planted_machine_opens_only_people_are_exactly_the_truth(planted, clean):
    assert MPP in APPLE_PROXY_USER_AGENTS  # the readers' machine-open rule knows this agent
    truth = planted.planted["machine_opens_only"]
    assert list(truth.columns) == list(PLANTED_COLUMNS["machine_opens_only"])
    assert _machine_only_people(planted.events) == set(truth["RECIPIENT_ID"])
    assert len(truth) == 5
    opens = _of(planted.events, "emailOpen")
    counts = opens[opens["RECIPIENT_ID"].isin(truth["RECIPIENT_ID"])]["RECIPIENT_ID"].value_counts()
    machine = truth.set_index("RECIPIENT_ID")["machine_opens"]
    assert machine.to_dict() == counts.to_dict()
    assert _machine_only_people(clean.events) == set()
    # MPP opens are common in the account all the same
    assert (opens["userAgent"].astype(str) == MPP).mean() > 0.1


def test_planted_complaint_surge_is_exactly_the_truth(planted):
    truth = planted.planted["complaint_surge"]
    assert list(truth.columns) == list(PLANTED_COLUMNS["complaint_surge"])
    sends = _sends(planted.events)
    weeks = sends.groupby(["provider", "week"]).agg(
        sends=("bounced", "size"),
        delivered=("bounced", lambda b: int((~b).sum())),
        complaints=("complained", "sum"),
    )
    weeks["rate"] = weeks["complaints"] / weeks["delivered"]
    over = weeks[weeks["rate"] > 0.003]
    assert set(over.index.get_level_values("provider")) == {"Yahoo"}
    yahoo = weeks.loc["Yahoo"]
    assert yahoo.index[yahoo["rate"] > 0.003].min() == pd.Timestamp("2026-03-02")
    assert (yahoo.loc["2026-03-02":, "rate"] > 0.003).all()
    got = yahoo.loc["2026-03-02":].reset_index()
    assert got["week"].dt.tz_localize("UTC").tolist() == truth["week"].tolist()
    for column in ("sends", "delivered", "complaints"):
        assert got[column].tolist() == truth[column].tolist(), column
    assert np.allclose(truth["complaint_rate"], got["rate"])


def test_a_clean_account_has_nothing_planted(clean):
    for key, table in clean.planted.items():
        assert table.empty and list(table.columns) == list(PLANTED_COLUMNS[key]), key


def test_plants_and_realism_are_checked():
    with pytest.raises(BexConfigError, match="realistic=True"):
        generate_campaign(plant_machine_opens_only=3)
    with pytest.raises(BexConfigError, match="realistic=True"):
        generate_campaign(complaint_rate=0.01)
    with pytest.raises(BexConfigError, match="more than 3 days"):
        generate_campaign(n_recipients=200, n_mailings=4, days=2, realistic=True,
                          plant_mailed_after_opt_out=1)  # fmt: skip
    with pytest.raises(BexConfigError, match="provider 'Gmail' is unknown"):
        generate_campaign(
            realistic=True, plant_complaint_surge=ComplaintSurge("Gmail", "2026-11-02")
        )
    with pytest.raises(BexConfigError, match="whole number"):
        generate_campaign(realistic=True, plant_machine_opens_only=-1)


def test_realistic_accounts_are_reproducible_and_readable(tmp_path):
    a = generate_campaign(n_recipients=300, n_mailings=12, days=10, realistic=True, seed=9,
                          database_columns=["Country"])  # fmt: skip
    b = generate_campaign(n_recipients=300, n_mailings=12, days=10, realistic=True, seed=9,
                          database_columns=["Country"])  # fmt: skip
    pd.testing.assert_frame_equal(a.events, b.events)
    assert a.events["timestamp"].is_monotonic_increasing and a.events["eventId"].is_unique
    files = write_exports(a.events, str(tmp_path), file_format="PSV")
    back = read_events(str(tmp_path))
    assert len(back) == len(a.events) - len(_of(a.events, "emailComplaint")) and files


@pytest.mark.parametrize("kwargs", [{"n_recipients": 0}, {"n_mailings": 0}, {"days": 0.2}])
def test_tiny_accounts_are_frames_of_the_same_shape(kwargs):
    small = generate_campaign(realistic=True, **{"n_recipients": 200, **kwargs})
    reference = generate_campaign(n_recipients=0)
    assert list(small.events.columns) == list(reference.events.columns)
    assert small.events["timestamp"].is_monotonic_increasing
    assert all(table.empty for table in small.planted.values())
