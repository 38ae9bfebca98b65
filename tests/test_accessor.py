"""The ``DataFrame.bex`` accessor: the same answers as the functions, chained."""

from __future__ import annotations

import pandas as pd
import pytest

import bextoolkit as bex


@pytest.fixture
def events() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "messageId": pd.Categorical(["m1", "m1", "m1", "m1", "m2"]),
            "RECIPIENT_ID": pd.array(["1", "2", "1", "1", "1"], dtype="string"),
            "eventType": pd.Categorical(
                ["emailSend", "emailSend", "emailOpen", "emailClick", "emailBounce"]
            ),
            "bounceType": pd.Categorical([None, None, None, None, "Soft"]),
            "clickUrl": pd.Categorical([None, None, None, "https://a.com/?utm_source=x", None]),
            "timestamp": pd.to_datetime(
                [
                    "2026-11-02 08:00",
                    "2026-11-02 08:00",
                    "2026-11-02 09:00",
                    "2026-11-02 09:05",
                    "2026-11-02 10:00",
                ],
                utc=True,
            ),
        }
    )


@pytest.mark.parametrize(
    ("name", "options"),
    [
        ("event_counts", {"by": "messageId"}),
        ("funnel", {}),
        ("funnel", {"by": None, "click_to_open": "openers_or_clickers"}),
        ("bounce_breakdown", {}),
        ("click_urls", {"normalize": False}),
        ("time_to_engage", {"event": "emailClick"}),
        ("engagement_curve", {"step": "30min"}),
        ("activity_heatmap", {"tz": "Europe/Berlin"}),
    ],
)
def test_methods_equal_functions(events, name, options):
    got = getattr(events.bex, name)(**options)
    want = getattr(bex, name)(events, **options)
    pd.testing.assert_frame_equal(got, want)
    assert got.attrs == want.attrs


def test_chaining_after_query(events):
    out = events.query("messageId == 'm1'").bex.funnel()
    assert out["messageId"].astype(str).tolist() == ["m1"]
    assert out.loc[0, "open_rate"] == 0.5


def test_forwards_quality_functions_lazily(events):
    from bextoolkit.reports import quality

    flagged = events.assign(userAgent=pd.Categorical(["x"] * 5)).bex.flag_machine_opens()
    assert "machine_open" in flagged.columns
    want = quality.flag_machine_opens(events.assign(userAgent=pd.Categorical(["x"] * 5)))
    pd.testing.assert_frame_equal(flagged, want)
    assert flagged.bex.funnel(exclude="machine_opens").attrs["excluded"] == {"machine_opens": 0}


def test_unknown_names_raise_attribute_error(events):
    with pytest.raises(AttributeError, match="no attribute 'nonsense'"):
        events.bex.nonsense  # noqa: B018
    with pytest.raises(AttributeError, match="plot_nothing"):
        events.bex.plot_nothing  # noqa: B018
    assert {"funnel", "click_urls", "flag_machine_opens", "compare"} <= set(dir(events.bex))


def test_plot_functions_are_forwarded_with_the_frame_first(events):
    import matplotlib.pyplot as plt

    _, ax = plt.subplots()
    assert events.bex.plot_funnel(ax=ax) is ax
    assert {"plot_funnel", "plot_bounces", "plot_click_urls"} <= set(dir(events.bex))
