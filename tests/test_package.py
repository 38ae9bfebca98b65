"""The package as a whole: its public names, its layers and its API reference."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import bextoolkit


def test_every_public_name_imports():
    for name in bextoolkit.__all__:
        assert getattr(bextoolkit, name) is not None, name


def test_all_is_sorted_and_unique():
    assert len(set(bextoolkit.__all__)) == len(bextoolkit.__all__)


# --- the layer rule: pyproject.toml's import-linter contracts --------------------------------

REPO = Path(__file__).resolve().parents[1]


def lint_imports(cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``lint-imports`` on the repo's contracts, analysing the package found from ``cwd``."""
    command = Path(sys.executable).with_name("lint-imports")
    if not command.exists():
        pytest.skip("import-linter is not installed (pip install -e '.[test]')")
    return subprocess.run(
        [str(command), "--config", str(REPO / "pyproject.toml"), "--no-cache", "--no-logo"],
        cwd=cwd,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_imports_follow_the_layers_and_no_subpackage_has_a_cycle():
    done = lint_imports(REPO)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 kept, 0 broken" in done.stdout


def test_the_contract_sees_an_upward_import_inside_a_function(tmp_path):
    """A copy of the package where the reports call a widget from inside a function."""
    shutil.copytree(REPO / "bextoolkit", tmp_path / "bextoolkit")
    funnel = tmp_path / "bextoolkit" / "reports" / "funnel.py"
    funnel.write_text(
        funnel.read_text(encoding="utf-8")
        + "\n\ndef _upward():\n    from bextoolkit.widgets import job_form  # noqa\n",
        encoding="utf-8",
    )
    done = lint_imports(tmp_path, PYTHONPATH=str(tmp_path))
    assert done.returncode == 1, done.stdout + done.stderr
    assert "bextoolkit.reports is not allowed to import bextoolkit.widgets" in done.stdout
    assert "bextoolkit.reports.funnel -> bextoolkit.widgets.job_form" in done.stdout
