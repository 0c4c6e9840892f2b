"""The query UI in a real browser: Debian's headless Chromium, driven by Selenium, against the production server.

Needs the Debian packages ``chromium`` and ``chromium-driver`` (scripts/system-deps.sh installs them). Selenium is
pointed at /usr/bin/chromedriver and kept offline (no selenium-manager download); the browser may resolve no host
but 127.0.0.1, so a page that tried to load anything from elsewhere would fail here, not reach the Internet.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from conftest import BROWSER_WAIT_S

pytestmark = pytest.mark.slow

SCREENSHOT_DIR = Path(tempfile.gettempdir())


def _visible(driver, css: str) -> list:
    from selenium.webdriver.common.by import By

    return [element for element in driver.find_elements(By.CSS_SELECTOR, css) if element.is_displayed()]


def _result_rows(driver) -> list[str]:
    """The text of each row of the visible YASR results table, once there are rows."""
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, BROWSER_WAIT_S).until(lambda d: _visible(d, ".tabPanel.active .yasr tbody tr td"))
    return [row.text for row in _visible(driver, ".tabPanel.active .yasr tbody tr")]


def _same_origin_only(driver, origin: str) -> None:
    loaded = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert loaded, "the page loaded nothing?"
    assert all(url.startswith(origin + "/") for url in loaded), loaded
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not errors, errors


def test_a_stable_example_link_runs_the_example_and_shows_its_rows(browser, live_server):
    browser.get(f"{live_server.url}/sparql/examples/cases-per-member-state?run=1")
    rows = _result_rows(browser)
    browser.save_screenshot(str(SCREENSHOT_DIR / "query-ui-cases-per-member-state.png"))
    assert len(rows) >= 20  # EU-27 and the associated countries that have cases
    assert any("Spain" in row for row in rows) and any("Germany" in row for row in rows)
    assert "AI use cases per member state" in browser.title
    _same_origin_only(browser, live_server.url)


def test_picking_an_example_and_pressing_run_shows_the_authors_in_order(browser, live_server):
    from selenium.webdriver.common.by import By

    browser.get(f"{live_server.url}/sparql")  # what a browser gets from the endpoint itself
    browser.find_element(By.CSS_SELECTOR, "li[data-slug=reports-with-dois-and-authors] a.example-link").click()
    assert browser.current_url == f"{live_server.url}/sparql/examples/reports-with-dois-and-authors"
    _visible(browser, ".tabPanel.active .yasqe_queryButton")[0].click()
    rows = [row for row in _result_rows(browser) if "10.2760/162795" in row]
    browser.save_screenshot(str(SCREENSHOT_DIR / "query-ui-reports-with-dois-and-authors.png"))
    assert [row.split("\n")[-1] for row in rows][:2] == ["C. van Noordt", "A. Alishani"]
    _same_origin_only(browser, live_server.url)


def test_typing_a_project_prefix_declares_it_and_classes_complete_from_the_graph(browser, live_server):
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait

    browser.get(f"{live_server.url}/sparql/ui")
    editor = WebDriverWait(browser, BROWSER_WAIT_S).until(lambda d: _visible(d, ".tabPanel.active .CodeMirror"))[0]
    browser.execute_script("arguments[0].CodeMirror.setValue('')", editor)
    typing = editor.find_element("css selector", "textarea")
    typing.send_keys("SELECT * WHERE { ?workshop a aiw:")
    WebDriverWait(browser, BROWSER_WAIT_S).until(
        lambda d: "PREFIX aiw: <https://w3id.org/aiwatch/def/aiwatch#>"
        in d.execute_script("return arguments[0].CodeMirror.getValue()", editor))
    typing.send_keys("Works")
    typing.send_keys(Keys.CONTROL, " ")
    hints = WebDriverWait(browser, BROWSER_WAIT_S).until(lambda d: _visible(d, ".CodeMirror-hint"))
    assert "aiw:Workshop" in [hint.text for hint in hints]
    _same_origin_only(browser, live_server.url)
