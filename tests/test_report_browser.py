"""The HTML report in headless chromium: offline, legible at 1400 and 390 px, accessible, printable.

A 50-mailing month (as in issue 14) is rendered each time. In the browser: no request
and no console error; no two texts of any visible chart overlap and none sticks out of
its chart; chart text is at least 8 px high on a phone; the page never scrolls sideways;
axe-core (bundled by the ``axe-playwright-python`` test dependency) finds no WCAG 2 A/AA
violation; and printed on A4 portrait every table fits the page, no column cut.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser import chromium
from conftest import DATA_SAMPLES

from bextoolkit import funnel, read_events, samples
from bextoolkit.sharing import CampaignReport

pytestmark = pytest.mark.browser
sync_api = chromium.playwright_api()

#: Pairs of overlapping texts, texts outside their chart, and the smallest text height,
#: over the charts that are displayed (the wide or the narrow rendering).
CHART_TEXT_JS = """
() => {
  const clashes = [], outside = [];
  let smallest = 1e9;
  for (const svg of document.querySelectorAll('figure svg')) {
    if (!svg.getClientRects().length) continue;          // display: none
    const frame = svg.getBoundingClientRect();
    const boxes = [...svg.querySelectorAll('text')]
      .filter(t => t.textContent.trim())
      .map(t => [t.textContent.trim(), t.getBoundingClientRect()]);
    for (const [text, b] of boxes) {
      smallest = Math.min(smallest, b.height);
      if (b.left < frame.left - 1 || b.right > frame.right + 1 ||
          b.top < frame.top - 1 || b.bottom > frame.bottom + 1) outside.push(text);
    }
    for (let i = 0; i < boxes.length; i++)
      for (let j = i + 1; j < boxes.length; j++) {
        const [ta, a] = boxes[i], [tb, b] = boxes[j];
        if (a.left < b.right - 1 && b.left < a.right - 1 &&
            a.top < b.bottom - 1 && b.top < a.bottom - 1) clashes.push([ta, tb]);
      }
  }
  return {clashes, outside, smallest,
          charts: [...document.querySelectorAll('figure svg')]
                    .filter(s => s.getClientRects().length).length};
}
"""

TABLES_FIT_JS = """
() => [...document.querySelectorAll('table')]
  .filter(t => t.scrollWidth > t.parentElement.clientWidth + 1 ||
               t.getBoundingClientRect().right > document.documentElement.clientWidth + 1)
  .map(t => (t.caption ? t.caption.textContent : t.rows[0].textContent).slice(0, 60))
"""

#: Numbers and words split over two lines inside a table cell (a run of letters, digits and
#: the marks inside numbers: "7,962" over two lines is one).
SPLIT_CELLS_JS = r"""
() => { const split = []; let seen = 0;
  for (const cell of document.querySelectorAll('td, th')) {
    const walker = document.createTreeWalker(cell, NodeFilter.SHOW_TEXT); let text;
    while ((text = walker.nextNode())) {
      for (const m of text.data.matchAll(/[\p{L}\p{N},.%:]+/gu)) {
        seen += 1;
        const range = document.createRange();
        range.setStart(text, m.index); range.setEnd(text, m.index + m[0].length);
        const lines = new Set([...range.getClientRects()].filter(r => r.width > 0)
                                .map(r => Math.round(r.top)));
        if (lines.size > 1) split.push(m[0]);
      }
    }
  }
  return {split, seen};
}
"""


@pytest.fixture(scope="module")
def month_report(tmp_path_factory) -> Path:
    events = samples.generate_events(n_recipients=400, n_mailings=50, days=34, seed=3)
    path = tmp_path_factory.mktemp("report") / "month.html"
    CampaignReport(events, title="A month of mailings").to_html(path)
    return path


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        instance = chromium.launch(playwright)
        yield instance
        instance.close()


def _open(browser, path: Path, width: int):
    page = browser.new_page(viewport={"width": width, "height": 900})
    requests: list[str] = []
    errors: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    return page, requests, errors


def test_the_report_opens_offline_without_errors(tmp_path, browser):
    events = read_events(DATA_SAMPLES / "csv", progress=False)
    path = tmp_path / "report.html"
    CampaignReport(events, title="Sample day").to_html(path)
    page, requests, errors = _open(browser, path, 1280)
    heading = page.locator("h1").inner_text()
    figures = page.locator("figure svg:visible").count()
    sends = page.locator(".card b").first.inner_text()
    chromium.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(chromium.ARTIFACTS / "report.png"), full_page=True)
    page.close()
    assert heading == "Sample day"
    # funnel, bounces, providers, links, engagement, heatmap (one day: no bounces per day)
    assert figures == 6
    assert sends == f"{int(funnel(events)['sent'].sum()):,}"
    assert requests == [path.as_uri()], f"the report fetched {requests[1:]}"
    assert errors == []


@pytest.mark.parametrize("width", [1400, 390])
def test_a_month_reads_well_on_a_laptop_and_on_a_phone(month_report, browser, width):
    page, requests, errors = _open(browser, month_report, width)
    found = page.evaluate(CHART_TEXT_JS)
    sideways = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    main = page.locator("main").count()
    chromium.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(chromium.ARTIFACTS / f"report-month-{width}.png"), full_page=True)
    page.close()
    assert found["charts"] == 7  # the trend instead of a bar per mailing, and the providers
    assert found["clashes"] == [], f"overlapping chart texts at {width} px"
    assert found["outside"] == [], f"chart texts cut off at {width} px"
    assert found["smallest"] >= 8, f"chart text only {found['smallest']:.1f} px high"
    assert sideways <= 0, "the page scrolls sideways"
    assert main == 1
    assert requests == [month_report.as_uri()] and errors == []


@pytest.mark.parametrize("report", ["month_report", "year_report"])
def test_axe_finds_no_accessibility_violation(report, browser, request):
    axe = pytest.importorskip(
        "axe_playwright_python", reason="pip install axe-playwright-python (in the test extra)"
    )
    script = Path(axe.__file__).with_name("axe.min.js")
    page, _, _ = _open(browser, request.getfixturevalue(report), 1400)
    for summary in page.locator("summary").all():  # the folded tables too
        summary.click()
    page.add_script_tag(path=str(script))
    result = page.evaluate(
        "async () => await axe.run(document, {runOnly: ['wcag2a', 'wcag2aa', 'best-practice']})"
    )
    page.close()
    violations = {v["id"]: [n["target"] for n in v["nodes"]][:3] for v in result["violations"]}
    assert violations == {}
    assert len(result["passes"]) > 10


@pytest.mark.parametrize("report", ["month_report", "year_report"])
def test_every_table_fits_an_a4_portrait_page(report, browser, request):
    # A4 portrait at 96 dpi, 12 mm margins: 210 - 24 mm = 703 px of text width
    path = request.getfixturevalue(report)
    page, _, _ = _open(browser, path, 703)
    page.emulate_media(media="print")
    cut = page.evaluate(TABLES_FIT_JS)
    words = page.evaluate(SPLIT_CELLS_JS)
    wide_charts = page.locator(".wide-chart svg:visible").count()
    chromium.ARTIFACTS.mkdir(exist_ok=True)
    page.pdf(path=str(chromium.ARTIFACTS / f"{report}-a4.pdf"), format="A4")
    page.close()
    assert cut == [], f"tables wider than an A4 page: {cut}"
    assert words["seen"] > 1000  # every cell's words were looked at
    assert words["split"] == [], f"numbers or words split in a cell: {words['split'][:10]}"
    assert wide_charts == 7


@pytest.fixture(scope="module")
def year_report(tmp_path_factory) -> Path:
    account = samples.generate_campaign(
        n_recipients=1500, n_mailings=300, days=365, seed=4, realistic=True
    )
    path = tmp_path_factory.mktemp("report") / "year.html"
    CampaignReport(account.events, title="A year of 300 mailings").to_html(path)
    return path


@pytest.mark.parametrize(("width", "tallest"), [(1400, 12_000), (390, 16_000)])
def test_300_mailings_fit_a_short_page(year_report, browser, width, tallest):
    page, requests, errors = _open(browser, year_report, width)
    height = page.evaluate("document.documentElement.scrollHeight")
    found = page.evaluate(CHART_TEXT_JS)
    folded = page.locator("details:has(table.sortable)").get_attribute("open")
    page.locator("summary", has_text="Every mailing").click()
    page_tables_fit = width < 1000 or page.evaluate(TABLES_FIT_JS) == []
    chromium.ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(chromium.ARTIFACTS / f"report-year-{width}.png"), full_page=True)
    page.close()
    assert height <= tallest, f"{height} px tall at {width} px"
    assert page_tables_fit, "a table wider than its box"
    assert folded is None  # every mailing is one click away, not on the page
    assert found["clashes"] == [] and found["outside"] == []
    assert requests == [year_report.as_uri()] and errors == []


def test_the_mailing_table_sorts_by_keyboard(year_report, browser):
    page, _, errors = _open(browser, year_report, 1400)
    page.locator("summary", has_text="Every mailing").focus()
    page.keyboard.press("Enter")  # unfold
    button = page.locator("table.sortable th button.sort", has_text="Click rate")
    button.focus()
    page.keyboard.press("Enter")
    rates = page.locator("table.sortable tbody tr td:nth-child(12)").all_inner_texts()
    ascending = button.locator("xpath=..").get_attribute("aria-sort")
    page.keyboard.press("Enter")
    again = page.locator("table.sortable tbody tr td:nth-child(12)").all_inner_texts()
    header = page.locator("table.sortable thead th").all_inner_texts()
    page.close()
    assert header[:4] == ["Mailing", "Mailing id", "Type", "Sent at"]
    assert header[11] == "Click rate"
    values = [float(r.rstrip("%")) for r in rates if r != "–"]
    assert values == sorted(values) and ascending == "ascending"
    assert [float(r.rstrip("%")) for r in again if r != "–"] == sorted(values, reverse=True)
    assert errors == []
