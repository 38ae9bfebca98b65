"""Every notebook runs top to bottom, offline, and its saved outputs hold no secret.

Each notebook runs in a fresh kernel whose sandbox keeps its state (and so its credentials)
in a folder of the test's (``BEX_SANDBOX_DIR``), and whose environment carries made-up
Acoustic credentials, as a user's would. Afterwards the saved notebook, outputs and widget
state included, is searched for every one of those secrets.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import nbformat
import pytest
from conftest import REPO
from nbclient import NotebookClient

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))
USER_SECRETS = {
    "BEX_CLIENT_ID": "user-client-id-6b1f",
    "BEX_CLIENT_SECRET": "user-client-secret-Qx93kLm2",
    "BEX_REFRESH_TOKEN": "user-refresh-token-Zt8vN4pW",
}


def _sandbox_secrets(state_dir: Path) -> list[str]:
    """Every credential the notebook's sandboxes made, read from their state files."""
    found: list[str] = []
    for state in state_dir.rglob("*.json"):
        text = state.read_text(encoding="utf-8")
        for key in ("client_secret", "refresh_token", "password", "sftp_password"):
            found += [v for v in _values(json.loads(text), key) if len(v) >= 8]
    return found


def _values(node: object, key: str) -> list[str]:
    if isinstance(node, dict):
        hits = [str(v) for k, v in node.items() if k == key and v]
        return hits + [h for v in node.values() for h in _values(v, key)]
    if isinstance(node, list):
        return [h for v in node for h in _values(v, key)]
    return []


def test_there_are_numbered_notebooks():
    names = [p.name for p in NOTEBOOKS]
    assert names[:6] == [
        "01-set-up-the-export.ipynb",
        "02-load-exports.ipynb",
        "03-campaign-report.ipynb",
        "04-compare-mailings.ipynb",
        "05-shareable-report.ipynb",
        "06-list-hygiene.ipynb",
    ]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_without_outputs(path):
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "widgets" not in nb.metadata


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_and_leaks_no_secret(path, tmp_path, monkeypatch):
    state_dir = tmp_path / "sandbox"
    monkeypatch.setenv("BEX_SANDBOX_DIR", str(state_dir))
    for name, value in USER_SECRETS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb,
        timeout=300,
        kernel_name="python3",
        resources={"metadata": {"path": str(path.parent)}},
        store_widget_state=True,
    )
    client.execute()  # raises CellExecutionError, naming the cell, if any cell fails
    saved = tmp_path / path.name
    nbformat.write(nb, saved)
    text = saved.read_text(encoding="utf-8")
    made = _sandbox_secrets(state_dir)
    if "Sandbox(" in text or "use_sandbox()" in text:  # the search must have something to find
        assert len(made) >= 3, "the sandbox's secret, refresh token and SFTP password"
    secrets = [*USER_SECRETS.values(), *made]
    leaked = [s for s in secrets if s in text]
    assert not leaked, f"{path.name} shows {len(leaked)} secret(s) in its saved outputs"
    assert os.environ["BEX_CLIENT_SECRET"] not in json.dumps(nb.metadata)
