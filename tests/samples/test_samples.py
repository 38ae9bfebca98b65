"""Tests of the synthetic campaign generator and its BEX / RRDE writers."""

from __future__ import annotations

import csv
import gzip
import io
import re
import zipfile
from pathlib import Path
from typing import Any

import fsspec
import numpy as np
import pandas as pd
import pytest

from bextoolkit import schema
from bextoolkit.exceptions import BexConfigError
from bextoolkit.samples.campaigns import (
    DATABASE_COLUMNS,
    export_file_name,
    generate_campaign,
    generate_events,
    mailing_type_of,
    write_campaign,
    write_exports,
    write_rrde,
    write_samples,
)

REPO = Path(__file__).resolve().parents[2]
MPP = "Mozilla/5.0"
NAME = re.compile(r"^Recipient Event Bulk Export_Email_(\d{14})_(\d+)\.(csv|psv|tsv)(\.gz)?$")


def _window_end(path: str) -> str:
    match = NAME.match(Path(path).name)
    assert match, path
    return match.group(1)


@pytest.fixture(scope="module")
def campaign():
    """A week-long window so that late opens and soft bounces are all inside it."""
    return generate_campaign(n_recipients=20_000, n_mailings=4, days=7, seed=11)


@pytest.fixture(scope="module")
def small():
    return generate_events(
        n_recipients=400, n_mailings=3, seed=5, database_columns=["FirstName", "City"]
    )


def _cells(events: pd.DataFrame, columns, timestamp_format="iso") -> list[list[str]]:
    """What each cell of a written file must read as, computed independently of the writer."""
    out = pd.DataFrame(index=events.index)
    for c in columns:
        if c == "timestamp":
            ts = events[c].dt.tz_convert("UTC")
            if timestamp_format == "iso":
                out[c] = ts.dt.strftime("%Y-%m-%dT%H:%M:%S.%f").str[:-3] + "Z"
            else:
                out[c] = ts.dt.strftime("%m/%d/%Y %H:%M:%S")
        elif c in events.columns:
            out[c] = events[c].astype("string").fillna("")
        else:
            out[c] = ""
    return out.astype(str).to_numpy().tolist()


def _read_rows(path: str, delimiter: str) -> list[list[str]]:
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rt", encoding="utf-8", newline="") as handle:
        return list(csv.reader(handle, delimiter=delimiter))


# --- the events frame ----------------------------------------------------------------------
def test_same_seed_same_events_other_seed_other_events():
    a = generate_events(n_recipients=300, seed=3, database_columns=["Country"])
    b = generate_events(n_recipients=300, seed=3, database_columns=["Country"])
    pd.testing.assert_frame_equal(a, b)
    c = generate_events(n_recipients=300, seed=4, database_columns=["Country"])
    assert not a["eventId"].equals(c["eventId"])


def test_frame_has_the_reader_shape(small):
    assert list(small.columns) == [*schema.BEX_COLUMNS, "FirstName", "City", "eventType"]
    for col in (*schema.UNIQUE_TEXT_COLUMNS, "FirstName", "City"):
        assert small[col].dtype == pd.StringDtype(), col
    for col in schema.CATEGORY_COLUMNS:
        assert isinstance(small[col].dtype, pd.CategoricalDtype), col
        assert small[col].cat.categories.dtype == "str", col
    assert str(small["timestamp"].dt.tz) == "UTC"
    assert small["timestamp"].is_monotonic_increasing
    assert small["eventId"].is_unique and small["eventId"].notna().all()
    assert (small["code"].astype(str) == small["eventType"].astype(str)).all()
    assert set(small["eventType"].cat.categories) <= set(schema.EVENT_TYPES)


def test_ids_are_strings_and_recipients_look_real(campaign):
    events = campaign.events
    assert events["RECIPIENT_ID"].str.fullmatch(r"[1-9]\d{8,}").all()
    for col in ("messageId", "mailingTemplateId", "reportId"):
        assert all(isinstance(v, str) and v.isdigit() for v in events[col].cat.categories)
    domains = events["Email"].str.split("@").str[1].value_counts()
    assert {"gmail.com", "yahoo.com", "outlook.com", "icloud.com", "contoso.com"} <= set(
        domains.index
    )
    # one recipient keeps one identity across events
    per_id = events.groupby("RECIPIENT_ID")[
        ["Email", "ENCODED_RECIPIENT_ID", "contactId"]
    ].nunique()
    assert (per_id == 1).all().all()


def test_each_column_is_filled_only_where_it_applies(campaign):
    ev = campaign.events
    code = ev["code"].astype(str)
    assert ev.loc[code == "emailBounce", "bounceType"].notna().all()
    assert ev.loc[code != "emailBounce", "bounceType"].isna().all()
    assert set(ev["bounceType"].dropna()) == {"Hard", "Soft"}
    clicks = ev[code == "emailClick"]
    assert clicks["clickUrl"].notna().all() and clicks["urlDescription"].notna().all()
    assert ev.loc[code != "emailClick", "clickUrl"].isna().all()
    assert ev.loc[code.isin(["emailOpen", "emailClick"]), "userAgent"].notna().all()
    assert ev.loc[code == "emailOptOut", "optOutDetails"].notna().all()
    assert ev.loc[code == "emailSuppressed", "docType"].isna().all()
    assert set(ev["docType"].dropna()) == {"HTML", "Text"}


def test_shares_are_realistic(campaign):
    ev = campaign.events
    code, who, mail = ev["code"].astype(str), ev["RECIPIENT_ID"], ev["messageId"].astype(str)

    def pairs(mask) -> int:
        return len(pd.MultiIndex.from_arrays([mail[mask], who[mask]]).unique())

    sent, suppressed = pairs(code == "emailSend"), pairs(code == "emailSuppressed")
    hard = pairs((code == "emailBounce") & (ev["bounceType"] == "Hard"))
    soft = pairs((code == "emailBounce") & (ev["bounceType"] == "Soft"))
    delivered = sent - hard - soft
    assert 0.016 < hard / sent < 0.024
    assert 0.011 < soft / sent < 0.019
    assert 0.008 < suppressed / (sent + suppressed) < 0.016
    assert 0.21 < pairs(code == "emailOpen") / delivered < 0.29
    assert 0.03 < pairs(code == "emailClick") / delivered < 0.05
    assert 0.0015 < pairs(code == "emailOptOut") / delivered < 0.0045
    opens = ev[code == "emailOpen"]
    assert len(opens) > 1.2 * pairs(code == "emailOpen")  # some open more than once
    assert 0.15 < (opens["userAgent"] == MPP).mean() < 0.5


def test_no_event_before_its_send_and_none_after_a_bounce(campaign):
    ev = campaign.events
    code = ev["code"].astype(str)
    key = [ev["messageId"].astype(str), ev["RECIPIENT_ID"]]
    send = ev[code == "emailSend"].groupby([k[code == "emailSend"] for k in key])["timestamp"].min()
    rest = ev[code.isin(["emailOpen", "emailClick", "emailBounce", "emailOptOut"])]
    rest_key = pd.MultiIndex.from_arrays([k[rest.index] for k in key])
    send_time = send.reindex(rest_key)
    assert send_time.notna().all(), "an event of a recipient who was never sent the mailing"
    assert (rest["timestamp"].to_numpy() > send_time.to_numpy()).all()
    # suppressed recipients are never sent; bounced ones never open or click
    supp = set(zip(*[k[code == "emailSuppressed"] for k in key], strict=True))
    sends = set(zip(*[k[code == "emailSend"] for k in key], strict=True))
    assert supp and not supp & sends
    bounced = set(zip(*[k[code == "emailBounce"] for k in key], strict=True))
    engaged = set(zip(*[k[code.isin(["emailOpen", "emailClick"])] for k in key], strict=True))
    assert bounced and not bounced & engaged


def test_open_delays_span_seconds_to_days_and_mpp_opens_come_first(campaign):
    ev = campaign.events
    code = ev["code"].astype(str)
    sends = ev[code == "emailSend"].set_index(["messageId", "RECIPIENT_ID"])["timestamp"]
    opens = ev[code == "emailOpen"]
    at_send = sends.reindex(pd.MultiIndex.from_frame(opens[["messageId", "RECIPIENT_ID"]]))
    delay = (opens["timestamp"].to_numpy() - at_send.to_numpy()) / np.timedelta64(1, "s")
    assert delay.min() < 60 and delay.max() > 2 * 86_400
    mpp = (opens["userAgent"] == MPP).to_numpy()
    assert np.median(delay[mpp]) < 600 < np.median(delay[~mpp])
    assert opens.loc[~mpp, "userAgent"].astype(str).str.len().max() > 80


def test_scanners_click_every_link_within_seconds(campaign):
    ev = campaign.events
    clicks = ev[ev["code"] == "emailClick"]
    sends = ev[ev["code"] == "emailSend"].set_index(["messageId", "RECIPIENT_ID"])["timestamp"]
    at_send = sends.reindex(pd.MultiIndex.from_frame(clicks[["messageId", "RECIPIENT_ID"]]))
    delay = (clicks["timestamp"].to_numpy() - at_send.to_numpy()) / np.timedelta64(1, "s")
    fast = clicks[delay < 20]
    assert 0 < fast["RECIPIENT_ID"].nunique() < 0.03 * ev["RECIPIENT_ID"].nunique()
    links = clicks.groupby("messageId", observed=True)["clickUrl"].nunique()
    per_scan = fast.groupby(["messageId", "RECIPIENT_ID"], observed=True)["clickUrl"].nunique()
    share_all = (per_scan == links.reindex(per_scan.index.get_level_values(0)).to_numpy()).mean()
    assert share_all > 0.9
    assert (links >= 3).all()


def test_mailings_have_subjects_links_and_types(campaign):
    ev = campaign.events
    subjects = list(ev["subjectLine"].cat.categories)
    assert any("," in s for s in subjects)
    assert any('"' in s for s in subjects)
    assert any(not s.isascii() for s in subjects)
    assert any("Última oportunidad" in s for s in subjects)
    urls = ev["clickUrl"].dropna().astype(str)
    assert urls.str.contains("utm_source=").mean() > 0.5
    assert set(mailing_type_of(ev).dropna()) == {
        "SendExperience",
        "Programs",
        "ABTest",
        "AutoResponder",
    }
    table = campaign.mailings
    assert list(table["mailingType"]) == ["SendExperience", "Programs", "ABTest", "AutoResponder"]
    batch = table[table["sendType"] == "Scheduled"]
    span = batch["send_end"] - batch["send_start"]
    assert (span >= pd.Timedelta("1h")).all()


def test_mailing_types_and_database_columns_are_checked():
    ev = generate_events(n_recipients=200, n_mailings=2, mailing_types=["AMG"], seed=1)
    assert set(mailing_type_of(ev).dropna()) == {"AMG"}
    with pytest.raises(BexConfigError, match="choose from"):
        generate_events(mailing_types=["Newsletter"])
    with pytest.raises(BexConfigError, match="choose from"):
        generate_events(database_columns=["ShoeSize"])
    with pytest.raises(BexConfigError, match="at most 5"):
        generate_events(database_columns=list(DATABASE_COLUMNS[:6]))


def test_mailing_type_of_reads_other_frames():
    frame = pd.DataFrame({"originatedFrom": [" Programs ", "web form", None]})
    assert mailing_type_of(frame).tolist()[0] == "Programs"
    assert mailing_type_of(frame).isna().tolist() == [False, True, True]
    with pytest.raises(BexConfigError, match="originatedFrom"):
        mailing_type_of(pd.DataFrame({"x": [1]}))


def test_days_window_drops_later_events():
    ev = generate_events(n_recipients=500, start="2026-11-02T08:00:00Z", days=0.5, seed=2)
    assert ev["timestamp"].min() >= pd.Timestamp("2026-11-02T08:00:00Z")
    assert ev["timestamp"].max() < pd.Timestamp("2026-11-02T20:00:00Z")


# --- write_exports ---------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("file_format", "compression"), [("CSV", None), ("PSV", None), ("TSV", "gzip")]
)
def test_files_parse_back_to_the_same_cells(small, tmp_path, file_format, compression):
    files = write_exports(small, str(tmp_path), file_format=file_format, compression=compression)
    columns = [*schema.BEX_COLUMNS, "FirstName", "City"]
    rows = []
    for path in files:
        got = _read_rows(path, schema.DELIMITERS[file_format])
        assert got[0] == columns
        rows += got[1:]
    assert rows == _cells(small, columns)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(Path(f).name for f in files)


def test_quoting_follows_the_csv_module(small, tmp_path):
    [path] = write_exports(small.iloc[:50], str(tmp_path), frequency=24, database_columns=[])
    text = Path(path).read_bytes().decode("utf-8")
    assert "\r" not in text
    expected = io.StringIO()
    writer = csv.writer(expected, lineterminator="\n")
    writer.writerow(schema.BEX_COLUMNS)
    writer.writerows(_cells(small.iloc[:50], schema.BEX_COLUMNS))
    assert text == expected.getvalue()


def test_hand_made_frame_with_awkward_text(tmp_path):
    frame = pd.DataFrame(
        {
            "Email": ["a@x.com", "b@y.org"],
            "RECIPIENT_ID": [1, 2],
            "code": ["emailOpen", "emailClick"],
            "subjectLine": ['Line one\nline "two"', "tab\there|pipe"],
            "timestamp": pd.to_datetime(
                ["2026-11-02 08:00:01.5", "2026-11-02 09:30:00"], format="ISO8601"
            ),
            "Note": ["x,y", None],
        }
    )
    files = write_exports(frame, str(tmp_path), file_format="TSV", timestamp_format="us")
    assert [_window_end(f) for f in files] == [
        "20261102090000",
        "20261102100000",
    ]
    rows = [_read_rows(f, "\t")[1] for f in files]
    header = [*schema.BEX_COLUMNS, "Note"]
    as_dict = [dict(zip(header, r, strict=True)) for r in rows]
    assert as_dict[0]["subjectLine"] == 'Line one\nline "two"'
    assert as_dict[1]["subjectLine"] == "tab\there|pipe"
    assert as_dict[0]["timestamp"] == "11/02/2026 08:00:01"
    assert as_dict[0]["RECIPIENT_ID"] == "1" and as_dict[0]["Note"] == "x,y"
    assert as_dict[1]["Note"] == "" and as_dict[1]["messageId"] == ""


def test_file_names_and_windows(small, tmp_path):
    files = write_exports(small, str(tmp_path), frequency=3, prefix="Shop_", compression="gzip")
    ends = []
    for path in files:
        name = Path(path).name
        match = re.fullmatch(r"Shop_Email_(\d{14})_3\.csv\.gz", name)
        assert match, name
        end = pd.Timestamp(match.group(1), tz="UTC")
        assert end.hour % 3 == 0 and end.minute == 0
        with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
            stamps = pd.to_datetime([r["timestamp"] for r in csv.DictReader(handle)], utc=True)
        assert ((stamps >= end - pd.Timedelta("3h")) & (stamps < end)).all()
        ends.append(end)
    assert ends == sorted(ends)
    assert (
        export_file_name(ends[0], frequency=3, prefix="Shop_", compression="gzip")
        == Path(files[0]).name
    )


def test_gzip_output_is_reproducible(small, tmp_path):
    one = write_exports(small, str(tmp_path / "a"), compression="gzip")
    two = write_exports(small, str(tmp_path / "b"), compression="gzip")
    assert [Path(p).read_bytes() for p in one] == [Path(p).read_bytes() for p in two]


def test_event_types_filter_and_fsspec_url(small):
    url = "memory://bex-samples-test/out"
    files = write_exports(small, url, event_types=["emailOpen", "emailClick"], database_columns=[])
    codes = []
    for f in files:
        assert f.startswith(url + "/")
        with fsspec.open(f, "rt", encoding="utf-8", newline="") as handle:
            codes += [r["code"] for r in csv.DictReader(handle)]
    assert set(codes) == {"emailOpen", "emailClick"}
    assert len(codes) == small["code"].isin(["emailOpen", "emailClick"]).sum()
    fsspec.filesystem("memory").rm("/bex-samples-test", recursive=True)


def test_writer_rejects_bad_options(small, tmp_path):
    cases: list[tuple[dict[str, Any], str]] = [
        ({"file_format": "XLS"}, "file_format"),
        ({"frequency": 5}, "frequency"),
        ({"compression": "bz2"}, "compression"),
        ({"timestamp_format": "epoch"}, "timestamp_format"),
        ({"event_types": ["emailReply"]}, "event_types"),
        ({"database_columns": ["Country"]}, "not in the events frame"),
    ]
    for kwargs, words in cases:
        with pytest.raises(BexConfigError, match=words):
            write_exports(small, str(tmp_path), **kwargs)
    assert write_exports(small.iloc[:0], str(tmp_path)) == []


# --- RRDE --------------------------------------------------------------------------------------
def test_rrde_zip(small, tmp_path):
    path = write_rrde(small, str(tmp_path))
    first = small["timestamp"].min().floor("h")
    assert Path(path).name == f"Raw Recipient Data Export {first:%b %d %Y %I-%M-%S %p} 1295.zip"
    assert re.fullmatch(
        r"Raw Recipient Data Export [A-Z][a-z]{2} \d\d \d{4} \d\d-\d\d-\d\d [AP]M 1295\.zip",
        Path(path).name,
    )
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None
        [member] = zf.namelist()
        assert member.endswith(".csv")
        text = zf.read(member).decode("utf-8")
    rows = list(csv.DictReader(io.StringIO(text, newline="")))
    assert list(rows[0]) == [*schema.RRDE_COLUMNS, "FirstName", "City"]
    assert len(rows) == len(small)
    got = pd.Series([r["Event Type"] for r in rows]).value_counts()
    code = small["code"].astype(str)
    bounce = small["bounceType"].astype("string")
    assert got["Sent"] == (code == "emailSend").sum()
    assert got["Hard Bounce"] == (bounce == "Hard").sum()
    assert got["Soft Bounce"] == (bounce == "Soft").sum()
    assert set(got.index) <= {k.title() for k in schema.RRDE_EVENT_TYPES}
    assert all(re.fullmatch(r"\d\d/\d\d/\d{4} \d\d:\d\d:\d\d", r["Event Timestamp"]) for r in rows)
    assert [r["Recipient Id"] for r in rows] == small["RECIPIENT_ID"].tolist()
    named = write_rrde(small, str(tmp_path / "export.zip"))
    assert named.endswith("export.zip") and zipfile.is_zipfile(named)
    url = write_rrde(small, "memory://bex-samples-rrde/sub/export.zip")
    with fsspec.open(url, "rb") as handle:
        assert zipfile.is_zipfile(handle)
    fsspec.filesystem("memory").rm("/bex-samples-rrde", recursive=True)


def test_rrde_of_no_events_is_a_header(tmp_path):
    path = write_rrde(generate_events(n_recipients=0), str(tmp_path))
    with zipfile.ZipFile(path) as zf:
        [member] = zf.namelist()
        assert zf.read(member).decode().splitlines() == [",".join(schema.RRDE_COLUMNS)]


def test_rrde_names_agree_with_schema():
    from bextoolkit.samples.campaigns import _RRDE_NAMES

    for (code, bounce), name in _RRDE_NAMES.items():  # the writer's words read back as written
        assert schema.RRDE_EVENT_TYPES[name.lower()] == (code, bounce)
    assert _RRDE_NAMES["emailClick", None] == "Click Through"  # the spelling real files use


# --- write_campaign ------------------------------------------------------------------------------
def test_write_campaign_writes_exactly_n_events_in_order(tmp_path):
    files = write_campaign(str(tmp_path), n_events=12_000, chunk_events=4_000, seed=3)
    assert len(files) == len(set(files)) > 24  # more than one day of hourly files
    total, ids, last = 0, set[str](), None
    for path in files:
        window_end = pd.Timestamp(_window_end(path), tz="UTC")
        with open(path, encoding="utf-8", newline="") as handle:
            rows = list(csv.DictReader(handle))
        stamps = pd.to_datetime([r["timestamp"] for r in rows], utc=True)
        assert stamps.is_monotonic_increasing
        assert (stamps >= window_end - pd.Timedelta("1h")).all() and (stamps < window_end).all()
        assert last is None or stamps[0] >= last
        last = stamps[-1]
        total += len(rows)
        ids.update(r["eventId"] for r in rows)
    assert total == 12_000 == len(ids)


def test_write_campaign_daily_files_with_columns(tmp_path):
    files = write_campaign(
        str(tmp_path), n_events=8_000, n_recipients=1_500, frequency=24, file_format="PSV",
        database_columns=["Country"], start="2026-11-02T08:00:00Z",
    )  # fmt: skip
    rows = [r for f in files for r in _read_rows(f, "|")[1:]]
    assert len(rows) == 8_000
    assert all(Path(f).name.endswith("_24.psv") for f in files)
    assert _read_rows(files[0], "|")[0][-1] == "Country"


# --- the data-samples folder ---------------------------------------------------------------------


def test_committed_data_samples_match_the_generator(tmp_path):
    committed = REPO / "data-samples"
    readme = (committed / "README.md").read_text(encoding="utf-8")
    match = re.search(r"bextoolkit samples data-samples --recipients (\d+) --seed (\d+)", readme)
    assert match, "data-samples/README.md must give the command that made it"
    write_samples(str(tmp_path), n_recipients=int(match.group(1)), seed=int(match.group(2)))
    fresh = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file())
    kept = sorted(
        p.relative_to(committed)
        for p in committed.rglob("*")
        if p.is_file() and p.name != ".gitkeep"
    )
    assert fresh == kept
    for rel in fresh:
        if rel.suffix in (".csv", ".psv", ".md"):
            assert (tmp_path / rel).read_bytes() == (committed / rel).read_bytes(), rel
    counts = re.findall(r"^\| (email\w+) \| (\d+) \|$", readme, flags=re.M)
    assert len(counts) == 6
    events = pd.concat(
        pd.read_csv(p, dtype=str, keep_default_na=False)
        for p in sorted(committed.glob("csv/*.csv"))
    )
    assert {k: int(v) for k, v in counts} == events["code"].value_counts().to_dict()
