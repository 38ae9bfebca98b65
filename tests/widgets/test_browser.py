"""The widgets in a real browser, as a person uses them: Voila + Debian chromium + Playwright.

One Voila server for the module serves ``tests/browser/widgets.ipynb`` on 127.0.0.1; its
kernels talk to the sandbox API started here, so the test can check on the server what
the page did. Screenshots go to ``artifacts/browser/``.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import socket
import time
from pathlib import Path

import pytest
from browser import chromium
from browser.widget_helpers import SMALL_EXPORT_TOTALS, VoilaServer, write_small_exports

from bextoolkit import schema
from bextoolkit.client import BexClient
from bextoolkit.sandbox.api import SandboxAPI

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parents[1]
ARTIFACTS = chromium.ARTIFACTS / "browser"
NOTEBOOK = "widgets.ipynb"
#: Voila runs every cell before the page shows the widgets: allow for a slow, shared CI box.
PAGE_TIMEOUT_MS = 60_000
STEP_TIMEOUT_MS = 20_000

sync_api = chromium.playwright_api()
pytest.importorskip("voila", reason="voila (test extra) is missing: pip install -e '.[test]'")


@pytest.fixture(scope="module")
def api():
    with SandboxAPI() as server:
        yield server


@pytest.fixture(scope="module")
def voila(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("voila")
    shutil.copy(HERE / "browser" / NOTEBOOK, folder / NOTEBOOK)
    exports = write_small_exports(folder / "download")
    env = {**api.env(), "BEX_EXPORTS": str(exports) + "/", "PYTHONUNBUFFERED": "1"}
    server = VoilaServer(folder, env, ARTIFACTS / "voila.log").start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, voila, request):
    context = browser.new_context(viewport={"width": 1280, "height": 2600})
    page = context.new_page()
    page.set_default_timeout(STEP_TIMEOUT_MS)
    page.goto(voila.url_for(NOTEBOOK), timeout=PAGE_TIMEOUT_MS)
    page.locator(".bex-connect").wait_for(timeout=PAGE_TIMEOUT_MS)
    yield page
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{request.node.name}.png"), full_page=True)
    context.close()


@pytest.fixture
def client(api):
    with BexClient.from_env(api.env(), sleep=lambda _s: None) as bex:
        yield bex


def connect(page) -> None:
    page.locator(".bex-connect").click()
    sync_api.expect(page.locator(".bex-connect-status .bex-status-ok")).to_contain_text(
        "Connected to http://127.0.0.1:"
    )


def job_posts(api: SandboxAPI) -> int:
    return sum(
        1 for method, path, _ in api.request_log if method == "POST" and "jobdefinition" in path
    )


def test_fill_the_form_create_and_see_the_job_id(page, api, client):
    expect = sync_api.expect
    connect(page)
    page.locator(".bex-database-id input").fill("423251")
    page.locator(".bex-admin-email input").fill("admin@example.com")
    page.locator(".bex-frequency select").select_option(label="every 6 hours")
    page.locator(".bex-file-format select").select_option(label="TSV (tab)")
    page.locator(".bex-event-emailOpen input").check()
    page.locator(".bex-event-emailClick input").check()
    page.locator(".bex-add-column").click()
    page.locator(".bex-column-0 input").fill("Country")
    page.locator(".bex-prefix input").fill("Shop_")
    expect(page.locator(".bex-example-name")).to_contain_text(
        re.compile(r"Shop_Email_\d{14}_6\.tsv")
    )
    expect(page.locator(".bex-preview")).to_contain_text('"columnName": "Country"')
    create = page.locator(".bex-create")
    expect(create).to_be_enabled()
    create.click()

    status = page.locator(".bex-job-status .bex-status-ok")
    expect(status).to_contain_text(re.compile(r"Created job definition \d+"))
    job_id = re.search(r"Created job definition (\d+)", status.inner_text()).group(1)
    expect(page.locator(".bex-job-id input")).to_have_value(job_id)
    job = client.get_job(job_id).to_dict()
    assert job["contactSourceId"] == "423251" and job["ftpUserId"] == "admin@example.com"
    assert job["channels"][0] == {
        "eventTypes": [{"eventType": "emailOpen"}, {"eventType": "emailClick"}],
        "columnNames": [{"columnName": "Country", "columnOrder": 0}],
        "exportFileName": "Shop_",
        "exportFileFormat": "TSV",
        "jobFrequency": 6,
        "type": "Email",
    }
    client.delete_job(job_id)


def test_an_invalid_field_shows_its_message_and_nothing_is_sent(page, api):
    expect = sync_api.expect
    connect(page)
    posts_before = job_posts(api)
    page.locator(".bex-database-id input").fill("423251")
    page.locator(".bex-admin-email input").fill("not-an-email")
    expect(page.locator(".bex-msg-admin-email")).to_contain_text("must be an email address")
    expect(page.locator(".bex-msg-database-id")).to_have_text("")
    expect(page.locator(".bex-create")).to_be_disabled()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "invalid_email_message.png"), full_page=True)
    page.locator(".bex-create").click(force=True)  # a disabled button does nothing
    page.wait_for_timeout(500)
    assert job_posts(api) == posts_before
    assert all(job["ftpUserId"] != "not-an-email" for job in api.jobs.values())
    page.locator(".bex-admin-email input").fill("admin@example.com")
    expect(page.locator(".bex-msg-admin-email")).to_have_text("")
    expect(page.locator(".bex-create")).to_be_enabled()


def test_the_export_browser_loads_files(page):
    expect = sync_api.expect
    files = page.locator(".bex-export-files select option")
    expect(files).to_have_count(3)
    expect(files.first).to_contain_text("2026-11-01 01:00 UTC  ·  every 1 h  ·  CSV")
    page.locator(".bex-export-select-all").click()
    page.locator(".bex-export-load").click()
    rows = SMALL_EXPORT_TOTALS["rows"]
    expect(page.locator(".bex-export-status .bex-status-ok")).to_have_text(
        f"Loaded {rows} rows from 3 files; 1 duplicate dropped; 1 skipped line. "
        "The events are in this browser's .events."
    )
    expect(page.locator(".bex-export-progress")).to_contain_text("3/3")
    expect(page.locator(".bex-export-event-counts")).to_contain_text("emailClick")


def test_a_failed_connect_says_why_quickly_and_keeps_the_typed_secret(page, api):
    expect = sync_api.expect
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed = sock.getsockname()[1]  # nothing listens here once closed
    secret = api.credentials.client_secret
    page.locator(".bex-base-url input").fill(f"http://127.0.0.1:{closed}")
    page.locator(".bex-client-secret input").fill(secret)
    started = time.monotonic()
    page.locator(".bex-connect").click()
    error = page.locator(".bex-connect-status .bex-status-error")
    expect(error).to_contain_text("connection refused", timeout=5_000)
    assert time.monotonic() - started < 5
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "connect_failed.png"), full_page=True)
    assert secret not in error.inner_text()
    expect(page.locator(".bex-client-secret input")).to_have_value(secret)  # not retyped
    expect(page.locator(".bex-connect")).to_be_enabled()

    page.locator(".bex-base-url input").fill(api.base_url)  # fix the one wrong field
    page.locator(".bex-connect").click()
    expect(page.locator(".bex-connect-status .bex-status-ok")).to_contain_text(
        f"Connected to {api.base_url}"
    )
    expect(page.locator(".bex-client-secret input")).to_have_value("")


# --- issue 14: what the form shows, and what a screen reader is told ----------------------------


def test_messages_are_tied_to_their_fields_and_status_is_announced(page):
    expect = sync_api.expect
    email = page.locator(".bex-admin-email input")
    database = page.locator(".bex-database-id input")
    expect(page.locator(".bex-summary")).to_contain_text("Fill in Database id and Admin email")
    expect(page.locator(".bex-msg-database-id")).to_have_text("")  # not touched yet
    expect(database).to_have_attribute("aria-invalid", "false")
    email.fill("not-an-email")
    expect(page.locator(".bex-msg-admin-email")).to_contain_text("must be an email address")
    expect(email).to_have_attribute("aria-invalid", "true")
    described_by = email.get_attribute("aria-describedby")
    assert described_by
    message = page.locator(f"#{described_by}")
    expect(message).to_contain_text("must be an email address")
    assert "bex-msg-admin-email" in (message.get_attribute("class") or "")
    expect(email).to_have_attribute("aria-required", "true")
    for status in (".bex-job-status", ".bex-summary"):
        expect(page.locator(status)).to_have_attribute("aria-live", "polite")
        expect(page.locator(status)).to_have_attribute("role", "status")
    database.fill("1")
    database.fill("")
    expect(page.locator(".bex-msg-database-id")).to_contain_text("required")
    expect(database).to_have_attribute("aria-invalid", "true")
    email.fill("admin@example.com")
    expect(email).to_have_attribute("aria-invalid", "false")
    expect(page.locator(".bex-msg-admin-email")).to_have_text("")
    ids = page.evaluate("[...document.querySelectorAll('[id]')].map(e => e.id)")
    assert len(ids) == len(set(ids)), "an id is repeated on the page"


def test_an_empty_column_row_says_what_to_do_and_is_tied_to_its_input(page):
    expect = sync_api.expect
    page.locator(".bex-add-column").click()
    row = page.locator(".bex-column-0")
    expect(row.locator(".bex-msg-column-0")).to_have_text("type a column name or remove the row")
    expect(row.locator("input")).to_have_attribute("aria-invalid", "true")
    row.locator("input").fill("City")
    expect(row.locator(".bex-msg-column-0")).to_have_text("")
    expect(row.locator("input")).to_have_attribute("aria-invalid", "false")
    row.locator(".bex-column-remove").click()
    expect(page.locator(".bex-column")).to_have_count(0)


#: The widest text of a <select>'s options and the room the select gives it (px).
_SELECT_ROOM = """select => {
  const style = getComputedStyle(select);
  const context = document.createElement("canvas").getContext("2d");
  context.font = style.font;
  const widest = Math.max(...[...select.options].map(o => context.measureText(o.text).width));
  const padding = parseFloat(style.paddingLeft) + parseFloat(style.paddingRight);
  return {widest, room: select.clientWidth - padding};
}"""


def test_the_dropdowns_show_their_whole_text(page):
    for css in (".bex-frequency select", ".bex-file-format select"):
        size = page.locator(css).evaluate(_SELECT_ROOM)
        # the arrow takes about 20 px of the room on the right
        assert size["widest"] + 20 <= size["room"], (css, size)


#: For each checkbox: its box, its own label and the next checkbox's box, as x ranges.
_CHECKBOX_GAPS = """boxes => boxes.map(box => {
  const input = box.querySelector("input").getBoundingClientRect();
  const label = box.querySelector(".widget-label-basic span").getBoundingClientRect();
  return {input: [input.left, input.right, input.top], label: [label.left, label.right]};
})"""


def test_each_checkbox_sits_by_its_own_label(page):
    for group in (".bex-event-emailSend", ".bex-mailing-ABTest"):
        boxes = page.locator(group).locator("xpath=..").locator(".widget-checkbox")
        places = boxes.evaluate_all(_CHECKBOX_GAPS)
        assert len(places) >= 5
        for this, after in itertools.pairwise(places):
            own_gap = this["label"][0] - this["input"][1]
            assert 0 <= own_gap < 12, this  # the label starts right after its box
            if after["input"][2] == this["input"][2]:  # the next box on the same line
                next_gap = after["input"][0] - this["label"][1]
                assert next_gap >= 2 * own_gap, (this, after)  # clearly apart from the next


# --- issue 23: the manager in a narrow notebook, and Copy JSON ----------------------------------

#: Buttons whose words do not fit them, or that stand outside the window.
_CUT_BUTTONS = """buttons => buttons
  .filter(b => b.scrollWidth > b.clientWidth + 1 || b.getBoundingClientRect().right > innerWidth)
  .map(b => b.textContent)"""


def test_manager_buttons_are_readable_at_640_px(browser, voila, client):
    job_id = client.create_job(
        {"contactSourceId": "640", "ftpUserId": "a@b.co",
         "channels": [{"jobFrequency": 1, "type": "Email",
                       "eventTypes": [{"eventType": t} for t in schema.EVENT_TYPES]}]}
    )  # fmt: skip
    context = browser.new_context(viewport={"width": 640, "height": 1600})
    try:
        page = context.new_page()
        page.goto(voila.url_for(NOTEBOOK), timeout=PAGE_TIMEOUT_MS)
        page.locator(".bex-connect").wait_for(timeout=PAGE_TIMEOUT_MS)
        connect(page)  # the manager follows the ConnectForm
        row = page.locator(f".bex-jobs-row-{job_id}")
        sync_api.expect(row.locator(".bex-jobs-edit")).to_have_text(f"Edit job {job_id}")
        row.locator(".bex-jobs-delete").click()
        confirm = page.locator(".bex-jobs-confirm")
        sync_api.expect(confirm).to_contain_text(f"Delete job definition {job_id}?")
        cut = page.locator(".bex-job-manager button").evaluate_all(_CUT_BUTTONS)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "manager-640px.png"), full_page=True)
        assert cut == []
        # the question stands right below its row
        below = page.evaluate(
            "([row, confirm]) => document.querySelector(confirm).getBoundingClientRect().top"
            " - document.querySelector(row).getBoundingClientRect().bottom",
            [f".bex-jobs-row-{job_id}", ".bex-jobs-confirm"],
        )
        assert 0 <= below < 10
    finally:
        context.close()
        client.delete_job(job_id)


def test_copy_json_puts_the_body_on_the_clipboard(page):
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator(".bex-database-id input").fill("423251")
    sync_api.expect(page.locator(".bex-preview")).to_contain_text('"423251"')
    page.locator(".bex-copy-json").click()
    sync_api.expect(page.locator(".bex-job-status")).to_have_text(
        "Copied the JSON body to the clipboard."
    )
    copied = page.evaluate("navigator.clipboard.readText()")
    assert json.loads(copied) == json.loads(page.locator(".bex-preview pre").inner_text())
    assert json.loads(copied)["contactSourceId"] == "423251"
