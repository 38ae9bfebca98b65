"""Shared fixtures: sample frames, loopback servers, and a clean pyplot state."""

from __future__ import annotations

import copy
from pathlib import Path

import matplotlib
import pandas as pd
import pytest

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
