"""The HTML report in headless chromium: it renders, makes no request, and logs no error."""

from __future__ import annotations

import pytest
from browser import chromium
from conftest import DATA_SAMPLES

from bextoolkit import funnel, read_events
from bextoolkit.sharing import CampaignReport

pytestmark = pytest.mark.browser
sync_api = chromium.playwright_api()


def test_the_report_opens_offline_without_errors(tmp_path):
    events = read_events(DATA_SAMPLES / "csv", progress=False)
    path = tmp_path / "report.html"
    CampaignReport(events, title="Sample day").to_html(path)
    requests: list[str] = []
    errors: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("request", lambda r: requests.append(r.url))
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(path.as_uri())
        page.wait_for_load_state("load")
        heading = page.locator("h1").inner_text()
        figures = page.locator("figure svg").count()
        sent = page.locator(".card b").first.inner_text()
        chromium.ARTIFACTS.mkdir(exist_ok=True)
        page.screenshot(path=str(chromium.ARTIFACTS / "report.png"), full_page=True)
        browser.close()
    assert heading == "Sample day"
    assert figures == 5
    assert sent == f"{int(funnel(events, by=None)['sent'].iloc[0]):,}"
    assert requests == [path.as_uri()], f"the report fetched {requests[1:]}"
    assert errors == []
