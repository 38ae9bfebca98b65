"""Debian's chromium driven by Playwright: one place for its path, flags and skip rule.

Under CI a missing browser or Playwright fails the run; elsewhere the browser tests skip
with the reason. Screenshots go to ``artifacts/`` at the top of the checkout.
"""

from __future__ import annotations

import os
from pathlib import Path
from types import ModuleType

import pytest

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "artifacts"
#: No sandbox (root), and no background traffic: this machine's network is closed.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def playwright_api() -> ModuleType:
    """``playwright.sync_api``, or a module-level skip outside CI when it cannot run."""
    if os.environ.get("CI"):
        import playwright.sync_api as sync_api

        return sync_api
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)", allow_module_level=True)
    return pytest.importorskip(
        "playwright.sync_api", reason="playwright (test extra) is missing: pip install -e '.[test]'"
    )


def launch(playwright):  # type: ignore[no-untyped-def]
    return playwright.chromium.launch(
        executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
    )
