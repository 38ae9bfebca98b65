"""The widgets in a real JupyterLab, by keyboard only: JupyterLab + chromium + Playwright.

One JupyterLab server for the module (on 127.0.0.1, with a token of its own that is never
printed) opens ``tests/browser/widgets.ipynb``; its kernel talks to the sandbox API started
here. The cells are run once through JupyterLab's own command; from then on the tests press
keys (Tab, Shift+Tab, arrows, Home, Space, Enter, Escape and the characters of the values)
and check after every action where the focus is, that no notebook cell changed, and what
the server holds. Screenshots go to ``artifacts/lab/``.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from browser import chromium
from browser.widget_helpers import JupyterLabServer, write_small_exports

from bextoolkit.client import BexClient
from bextoolkit.sandbox.api import SandboxAPI

pytestmark = pytest.mark.browser

HERE = Path(__file__).resolve().parents[1]
ARTIFACTS = chromium.ARTIFACTS / "lab"
NOTEBOOK = "widgets.ipynb"
#: JupyterLab loads, starts a kernel and runs every cell: allow for a slow, shared CI box.
PAGE_TIMEOUT_MS = 120_000
STEP_TIMEOUT_MS = 20_000
#: The vendor's example job (the seed page), as the form must send it.
SEED_JOB = {
    "contactSourceId": "423251",
    "ftpUserId": "admin@example.com",
    "channels": [
        {
            "eventTypes": [
                {"eventType": t}
                for t in ("emailSend", "emailOpen", "emailClick", "emailOptOut",
                          "emailSuppressed", "emailBounce")
            ],
            "columnNames": [
                {"columnName": "column1", "columnOrder": 0},
                {"columnName": "column2", "columnOrder": 1},
            ],
            "mailingTypes": [
                {"mailingType": t}
                for t in ("SendExperience", "Programs", "AMG", "AutoResponder", "ABTest")
            ],
            "exportFileName": "Test_Email",
            "exportFileFormat": "CSV",
            "jobFrequency": 1,
            "type": "Email",
        }
    ],
}  # fmt: skip

sync_api = chromium.playwright_api()
pytest.importorskip("jupyterlab", reason="jupyterlab (notebook extra) is missing")

#: The notebook's cells as JupyterLab's model holds them: type and source.
CELLS_JS = """() => window.jupyterapp.shell.currentWidget.content.model.sharedModel.cells
    .map(cell => [cell.cell_type, cell.getSource()])"""
ACTIVE_CELL_JS = "() => window.jupyterapp.shell.currentWidget.content.activeCellIndex"
#: Whether the focused element sits inside ``selector`` (an ipywidget's box or the element).
FOCUS_IN_JS = """selector => {
  const active = document.activeElement;
  return Boolean(active && active.closest(selector));
}"""
WHERE_JS = """() => {
  const active = document.activeElement;
  const owner = active && active.closest("[class*='bex-']");
  return active ? active.tagName + " in " + (owner ? owner.className : "the page") : "none";
}"""


@pytest.fixture(scope="module")
def api():
    with SandboxAPI() as server:
        yield server


@pytest.fixture(scope="module")
def lab(api, tmp_path_factory):
    folder = tmp_path_factory.mktemp("lab")
    shutil.copy(HERE / "browser" / NOTEBOOK, folder / NOTEBOOK)
    exports = write_small_exports(folder / "download")
    env = {**api.env(), "BEX_EXPORTS": str(exports) + "/", "PYTHONUNBUFFERED": "1"}
    home = tmp_path_factory.mktemp("lab-home")
    server = JupyterLabServer(folder, env, ARTIFACTS / "jupyterlab.log", home).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def page(lab):
    """The notebook open in JupyterLab with every cell run: one page for the module."""
    with sync_api.sync_playwright() as playwright:
        browser = chromium.launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 1600})
        context.grant_permissions(["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.set_default_timeout(STEP_TIMEOUT_MS)
        try:
            page.goto(lab.url_for(NOTEBOOK), timeout=PAGE_TIMEOUT_MS)
        except Exception as exc:  # its message would hold the URL, token included
            raise AssertionError(lab.masked(str(exc))) from None
        page.wait_for_function(
            "() => { const nb = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
            " return nb && nb.sessionContext && nb.sessionContext.session"
            " && nb.sessionContext.session.kernel; }",
            timeout=PAGE_TIMEOUT_MS,
        )
        page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
        page.locator(".bex-export-files select").wait_for(timeout=PAGE_TIMEOUT_MS)
        yield page
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab.png"), full_page=True)
        browser.close()


@pytest.fixture(scope="module")
def client(api):
    with BexClient.from_env(api.env(), sleep=lambda _s: None) as bex:
        yield bex


class Keys:
    """Presses keys on the page and counts them: every key, every character typed."""

    def __init__(self, page) -> None:  # type: ignore[no-untyped-def]
        self.page = page
        self.presses = 0
        self.characters = 0

    @property
    def total(self) -> int:
        return self.presses + self.characters

    def press(self, key: str, times: int = 1) -> None:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.presses += 1

    def type(self, text: str) -> None:
        self.page.keyboard.type(text)
        self.characters += len(text)


def focus_is_in(page, selector: str) -> None:  # type: ignore[no-untyped-def]
    """Wait until the focus is inside ``selector``; fail saying where it is instead."""
    try:
        page.wait_for_function(FOCUS_IN_JS, arg=selector, timeout=STEP_TIMEOUT_MS)
    except Exception:
        raise AssertionError(f"focus is not in {selector}: {page.evaluate(WHERE_JS)}") from None


def axe_violations(page, selectors: list[str]) -> dict[str, list]:  # type: ignore[no-untyped-def]
    """axe-core's WCAG 2.1 A/AA violations inside the widgets (JupyterLab's own UI aside)."""
    axe = pytest.importorskip("axe_playwright_python", reason="axe-playwright-python (test extra)")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.add_script_tag(path=str(Path(axe.__file__).with_name("axe.min.js")))
    result = page.evaluate(
        """async selectors => await axe.run(
            {include: selectors.map(s => [s])},
            {runOnly: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]})""",
        selectors,
    )
    assert len(result["passes"]) > 10  # it did look at the widgets
    return {v["id"]: [n["target"] for n in v["nodes"]][:3] for v in result["violations"]}


WIDGETS = [".bex-connect-form", ".bex-job-form", ".bex-job-manager", ".bex-export-browser"]


def test_the_seed_job_by_keyboard_only_from_connect_to_export(page, api, client):
    expect = sync_api.expect
    cells = page.evaluate(CELLS_JS)
    keys = Keys(page)
    page.locator(".bex-pod select").focus()  # the way in: the first field of the first widget

    # connect: the pod is "other" with the sandbox's URL from the environment
    keys.press("Tab", 6)
    focus_is_in(page, ".bex-connect")
    keys.press("Enter")
    expect(page.locator(".bex-connect-status .bex-status-ok")).to_contain_text("Connected to")
    focus_is_in(page, ".bex-connect-status")

    # the seed's job definition
    connect_keys = keys.total
    keys.press("Tab")
    focus_is_in(page, ".bex-database-id")
    keys.type("423251")
    keys.press("Tab")
    keys.type("admin@example.com")
    keys.press("Tab", 2)
    focus_is_in(page, ".bex-frequency")
    keys.press("Home")  # every hour: the arrows and Home stay in the dropdown
    keys.press("Tab")
    keys.type("Test_Email")
    expect(page.locator(".bex-prefix-hint")).to_contain_text('end it with "_"')
    keys.press("Tab")
    focus_is_in(page, ".bex-event-all")
    keys.press("Space")
    keys.press("Tab", 7)
    focus_is_in(page, ".bex-mailing-all")
    keys.press("Space")
    keys.press("Tab", 6)
    focus_is_in(page, ".bex-add-column")
    keys.press("Enter")
    focus_is_in(page, ".bex-column-0")
    keys.type("column1")
    keys.press("Tab", 2)  # past the row's remove button
    focus_is_in(page, ".bex-add-column")
    keys.press("Enter")
    focus_is_in(page, ".bex-column-1")
    keys.type("column2")
    # as a person would, look before moving on: the form has checked what was typed
    expect(page.locator(".bex-preview")).to_contain_text('"column2"')
    expect(page.locator(".bex-create")).to_be_enabled()
    keys.press("Tab", 7)  # up, remove, + Add column, Copy JSON, the JSON, Job id, Create
    focus_is_in(page, ".bex-create")
    keys.press("Enter")
    status = page.locator(".bex-job-status .bex-status-ok")
    expect(status).to_contain_text("Created job definition")
    focus_is_in(page, ".bex-job-status")
    seed_keys = (keys.total, keys.presses, keys.characters, keys.total - connect_keys)
    (job_id,) = api.jobs
    assert api.jobs[job_id] == {**SEED_JOB, "id": job_id}
    expect(page.locator(".bex-create")).to_be_disabled()  # no second POST, no 409
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "seed-job-keys.txt").write_text(
        f"{seed_keys[0]} key actions from the Connect form to Create: {seed_keys[1]} keys and "
        f"{seed_keys[2]} characters; {seed_keys[3]} of them in the job form\n"
    )
    # the manager lists it without Refresh, and axe finds nothing with the form full
    expect(page.locator(f".bex-jobs-row-{job_id}")).to_be_visible()
    assert axe_violations(page, WIDGETS) == {}

    # Delete asks; Escape closes the question and the focus returns to Delete
    keys.press("Shift+Tab")
    focus_is_in(page, ".bex-delete")
    keys.press("Enter")
    expect(page.locator(".bex-confirm-text")).to_have_attribute("role", "alert")
    focus_is_in(page, ".bex-cancel-delete")
    keys.press("Escape")
    expect(page.locator(".bex-confirm")).to_be_hidden()
    focus_is_in(page, ".bex-delete")
    keys.press("Enter")
    focus_is_in(page, ".bex-cancel-delete")
    keys.press("Enter")  # Cancel
    focus_is_in(page, ".bex-delete")
    keys.press("Shift+Tab")  # Update: PUT the form as it is
    focus_is_in(page, ".bex-update")
    keys.press("Enter")
    expect(page.locator(".bex-job-status .bex-status-ok")).to_contain_text("Updated job")
    focus_is_in(page, ".bex-job-status")
    keys.press("Shift+Tab", 3)
    focus_is_in(page, ".bex-load")
    keys.press("Enter")
    expect(page.locator(".bex-job-status .bex-status-ok")).to_contain_text("Loaded job")
    focus_is_in(page, ".bex-job-status")

    # the manager: its delete question sits below the row; Yes deletes
    keys.press("Tab", 4)
    focus_is_in(page, f".bex-jobs-row-{job_id} .bex-jobs-delete")
    expect(page.locator(".bex-jobs-table")).to_have_attribute("role", "table")
    keys.press("Enter")
    focus_is_in(page, ".bex-jobs-cancel")
    expect(page.locator(".bex-jobs-confirm-text")).to_have_attribute("role", "alert")
    keys.press("Escape")
    focus_is_in(page, f".bex-jobs-row-{job_id} .bex-jobs-delete")
    keys.press("Enter")
    focus_is_in(page, ".bex-jobs-cancel")
    keys.press("Shift+Tab")
    focus_is_in(page, ".bex-jobs-yes")
    keys.press("Enter")
    expect(page.locator(".bex-jobs-status")).to_contain_text(f"Deleted job definition {job_id}")
    focus_is_in(page, ".bex-jobs-status")
    assert api.jobs == {}

    # the export files: into the list, arrows pick, Load selected loads
    for _ in range(16):  # past the date pickers (three stops each)
        if page.evaluate(FOCUS_IN_JS, ".bex-export-files"):
            break
        keys.press("Tab")
    focus_is_in(page, ".bex-export-files")
    active = page.evaluate(ACTIVE_CELL_JS)
    keys.press("ArrowDown")
    keys.press("Shift+End")
    expect(page.locator(".bex-export-files select option:checked")).to_have_count(3)
    assert page.evaluate(ACTIVE_CELL_JS) == active  # the arrows did not move between cells
    # the kernel saw the whole selection (the button says how many it will load)
    expect(page.locator(".bex-export-load")).to_contain_text("Load selected (3)")
    expect(page.locator(".bex-export-load")).to_be_enabled()
    keys.press("Tab", 3)
    focus_is_in(page, ".bex-export-load")
    keys.press("Enter")
    expect(page.locator(".bex-export-status .bex-status-ok")).to_contain_text(
        "Loaded 4 rows from 3 files"
    )
    focus_is_in(page, ".bex-export-status")

    assert page.evaluate(CELLS_JS) == cells  # no key reached the notebook
    assert axe_violations(page, WIDGETS) == {}


def test_notebook_command_keys_pressed_in_a_widget_stay_there(page):
    cells = page.evaluate(CELLS_JS)
    for selector in (".bex-file-format select", ".bex-event-emailOpen input", ".bex-jobs-new"):
        page.locator(selector).focus()  # JupyterLab makes the widget's cell the active one
        active = page.evaluate(ACTIVE_CELL_JS)
        # m: to Markdown; y: to code; a / b: insert a cell; d d: delete it; z: undo
        for key in ("m", "y", "a", "b", "d", "d", "z", "ArrowDown", "ArrowUp", "j", "k"):
            page.keyboard.press(key)
        focus_is_in(page, selector)
        assert page.evaluate(ACTIVE_CELL_JS) == active, selector
    page.wait_for_timeout(300)
    assert page.evaluate(CELLS_JS) == cells


def test_removing_a_column_row_gives_the_focus_to_the_row_that_took_its_place(page):
    expect = sync_api.expect
    cells = page.evaluate(CELLS_JS)
    form = page.locator(".bex-job-form")
    rows = form.locator(".bex-column")
    while rows.count():  # set up by mouse: two rows, "first" and "second"
        count = rows.count()
        form.locator(".bex-column-0 .bex-column-remove").click()
        expect(rows).to_have_count(count - 1)
    for index, name in enumerate(("first", "second")):
        form.locator(".bex-add-column").click()
        form.locator(f".bex-column-{index} input").fill(name)
    expect(form.locator(".bex-preview")).to_contain_text('"second"')
    form.locator(".bex-column-0 .bex-column-remove").focus()
    page.keyboard.press("Enter")
    focus_is_in(page, ".bex-job-form .bex-column-0 input")
    expect(form.locator(".bex-column-0 input")).to_have_value("second")
    page.keyboard.press("Tab")  # the only row has no up or down: its remove button
    focus_is_in(page, ".bex-job-form .bex-column-0 .bex-column-remove")
    page.keyboard.press("Enter")
    focus_is_in(page, ".bex-job-form .bex-add-column")
    expect(rows).to_have_count(0)
    assert page.evaluate(CELLS_JS) == cells
