"""Shared fixtures: sample frames, loopback servers, and a clean pyplot state."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import pandas as pd
import pytest

from bextoolkit import schema

matplotlib.use("Agg")

REPO = Path(__file__).resolve().parent.parent
DATA_SAMPLES = REPO / "data-samples"

# The vendor's example body, verbatim from bex-seed-doc.txt (its ftpUserId is the web
# page's e-mail obfuscation: a literal that is not an e-mail address).
SEED_BODY = {
    "channels": [
        {
            "eventTypes": [
                {"eventType": "emailSend"},
                {"eventType": "emailOpen"},
                {"eventType": "emailClick"},
                {"eventType": "emailOptOut"},
                {"eventType": "emailSuppressed"},
                {"eventType": "emailBounce"},
            ],
            "columnNames": [
                {"columnName": "column1", "columnOrder": 0},
                {"columnName": "column2", "columnOrder": 1},
            ],
            "mailingTypes": [
                {"mailingType": "SendExperience"},
                {"mailingType": "Programs"},
                {"mailingType": "AutoResponder"},
                {"mailingType": "AMG"},
                {"mailingType": "ABTest"},
            ],
            "exportFileName": "Test_Email",
            "exportFileFormat": "CSV",
            "jobFrequency": 1,
            "type": "Email",
        }
    ],
    "contactSourceId": "423251",
    "ftpUserId": "[email protected]",
}


def valid_body() -> dict:
    """A fresh copy of the seed body with a real ftpUserId, so it passes every rule."""
    body = copy.deepcopy(SEED_BODY)
    body["ftpUserId"] = "admin@example.com"
    return body


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    import matplotlib.pyplot as plt

    plt.close("all")


def normalized(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows by eventId, categories as the sorted values present: order-free comparison."""
    out = frame.sort_values("eventId", kind="stable").reset_index(drop=True)
    for name in out.columns:
        col = out[name]
        if isinstance(col.dtype, pd.CategoricalDtype) and len(col.cat.categories):
            col = col.cat.remove_unused_categories()
            out[name] = col.cat.set_categories(col.cat.categories.sort_values())
    out.attrs = {}
    return out


# --- one builder for small events frames ------------------------------------------------------

#: What a compact row holds, unless a test says otherwise.
ROW_COLUMNS = ("messageId", "RECIPIENT_ID", "eventType", "timestamp")
#: Time zero of the compact rows: a number in ``timestamp`` is minutes after it.
T0 = pd.Timestamp("2026-11-02 08:00", tz="UTC")


def events_frame(
    rows: Sequence[Sequence[Any]],
    columns: Sequence[str] = ROW_COLUMNS,
    *,
    start: pd.Timestamp = T0,
    missing: Sequence[str] = ("bounceType", "clickUrl", "urlDescription"),
) -> pd.DataFrame:
    """An events frame typed like ``read_events``' from compact rows.

    Each row holds the values of ``columns`` in order, optionally followed by a dict of
    further columns (``("m1", "r5", "emailBounce", 10, {"bounceType": "Hard"})``). A number
    in ``timestamp`` is minutes after ``start``, a ``Timedelta`` an offset from it, anything
    else a time in UTC. ``Email`` is made from ``RECIPIENT_ID`` when not given, and the
    ``missing`` columns are added empty. Low-cardinality text becomes ``category`` and
    identifiers strings, as :mod:`bextoolkit.schema` says.
    """
    records = []
    for values in rows:
        extra = values[len(columns)] if len(values) > len(columns) else {}
        record = dict(zip(columns, values[: len(columns)], strict=True)) | extra
        if "timestamp" in record:
            record["timestamp"] = _time(record["timestamp"], start)
        if "RECIPIENT_ID" in record and "Email" not in record:
            rid = record["RECIPIENT_ID"]
            record["Email"] = None if rid is None else f"{rid}@example.com"
        records.append(record)
    out = pd.DataFrame.from_records(records)
    for name in missing:
        if name not in out.columns:
            out[name] = None
    for name in out.columns:
        if name in schema.CATEGORY_COLUMNS:
            out[name] = out[name].astype("category")
        elif name in schema.UNIQUE_TEXT_COLUMNS or name in schema.ID_COLUMNS:
            out[name] = out[name].astype("string")
    return out


def _time(value: Any, start: pd.Timestamp) -> pd.Timestamp:
    if isinstance(value, int | float):
        return start + pd.Timedelta(minutes=value)
    if isinstance(value, pd.Timedelta):
        return start + value
    stamp = pd.Timestamp(value)
    return stamp.tz_localize("UTC") if stamp.tz is None else stamp
