"""The API reference (docs/) builds from the docstrings with warnings as errors, as in CI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_the_api_reference_builds_without_a_warning(tmp_path):
    pytest.importorskip("sphinx", reason="the docs extra is missing: pip install -e '.[docs]'")
    pytest.importorskip("numpydoc", reason="the docs extra is missing: pip install -e '.[docs]'")
    out = tmp_path / "html"
    done = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html",
         "-d", str(tmp_path / "doctrees"), str(REPO / "docs"), str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    index = re.sub(r"<[^>]+>", "", (out / "index.html").read_text(encoding="utf-8"))
    assert "A short tour" in index and "bex.read_events(" in index  # the README's tour
    for page, name in {
        "readers": "bextoolkit.readers.read_events",
        "reports": "bextoolkit.reports.funnel",
        "plotting": "bextoolkit.plotting.plot_funnel",
        "sharing": "bextoolkit.sharing.CampaignReport",
        "jobs": "bextoolkit.client.BexClient",
        "sync": "bextoolkit.sync.sync",
        "widgets": "bextoolkit.widgets.JobDefinitionForm",
        "sandbox": "bextoolkit.sandbox.Sandbox",
        "samples": "bextoolkit.samples.generate_events",
    }.items():
        html = (out / "api" / f"{page}.html").read_text(encoding="utf-8")
        assert f'id="{name}"' in html, f"{name} is missing from api/{page}.html"
    funnel = (out / "api" / "reports.html").read_text(encoding="utf-8")
    assert "Parameters" in funnel  # numpydoc turned the docstring's sections into fields
