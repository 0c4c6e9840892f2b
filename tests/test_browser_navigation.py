"""A reader in a real browser: Debian's headless Chromium, driven by Selenium, against the production server.

From the home page the reader follows links — to the reports and the seed report JRC126501, to a case, to the cases
of a country by clicking it on the map — and sees the titles the graph gives them. Needs the Debian packages
``chromium`` and ``chromium-driver``; Selenium is kept offline (no selenium-manager download) and the browser
resolves no host but 127.0.0.1. Screenshots of each step are left in the temporary directory.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
from conftest import BROWSER_WAIT_S

pytestmark = pytest.mark.slow

SCREENSHOTS = Path(tempfile.gettempdir())
BASE = "https://w3id.org/aiwatch/"


def _click_and_wait(driver, element, path_prefix: str) -> None:
    """Follow a link and wait until the browser shows a page under ``path_prefix``."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()
    WebDriverWait(driver, BROWSER_WAIT_S).until(lambda d: urlsplit(d.current_url).path.startswith(path_prefix)
                                        and d.execute_script("return document.readyState") == "complete")


def _heading(driver) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.CSS_SELECTOR, "h1").text


def _title_of(kg, iri: str) -> str:
    rows = kg.select(f"SELECT ?t WHERE {{ <{iri}> <http://purl.org/dc/terms/title> ?t }}")
    assert len(rows) == 1, iri
    return rows[0]["t"]


def _no_console_errors(driver) -> None:
    severe = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    assert not severe, severe  # a stylesheet or link that failed to load would show here


def test_home_to_the_seed_report(browser, live_server, kg) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/")
    assert "AI Watch knowledge graph" in browser.title
    assert _heading(browser) == "AI in European public services"
    browser.save_screenshot(str(SCREENSHOTS / "browse-home.png"))

    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, 'a[data-stat="Reports"]'), "/browse/report")
    assert _heading(browser).startswith("Reports")
    report = browser.find_element(By.CSS_SELECTOR, 'a.item-title[href$="/doc/report/jrc126501"]')
    title = _title_of(kg, BASE + "id/report/jrc126501")
    assert report.text == title

    _click_and_wait(browser, report, "/doc/report/jrc126501")
    assert _heading(browser) == title
    assert browser.title.startswith(title)
    browser.save_screenshot(str(SCREENSHOTS / "browse-report-jrc126501.png"))
    _no_console_errors(browser)


def test_home_to_a_case(browser, live_server, kg) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/")
    _click_and_wait(browser, browser.find_element(By.CSS_SELECTOR, 'a[data-stat="Cases"]'), "/browse/case")
    first = browser.find_element(By.CSS_SELECTOR, "a.item-title")
    listed = first.text
    _click_and_wait(browser, first, "/doc/case/")
    key = urlsplit(browser.current_url).path.removeprefix("/doc/case/")
    assert _heading(browser) == listed == _title_of(kg, f"{BASE}id/case/{key}")
    browser.save_screenshot(str(SCREENSHOTS / "browse-case.png"))
    _no_console_errors(browser)


def test_map_to_the_cases_of_a_country(browser, live_server, kg) -> None:
    from selenium.webdriver.common.by import By

    browser.get(live_server.url + "/")
    spain = browser.find_element(By.CSS_SELECTOR, 'a[data-code="ESP"] path')
    _click_and_wait(browser, spain, "/browse/case")
    assert dict(parse_qsl(urlsplit(browser.current_url).query)) == {"member-state": "esp"}
    expected = kg.select(
        f"SELECT (COUNT(DISTINCT ?c) AS ?n) WHERE {{ ?c a <{BASE}def/aiwatch#AIUseCase> ; "
        f"<{BASE}def/aiwatch#memberState> <{BASE}id/member-state/esp> }}")[0]["n"]
    total = browser.find_element(By.CSS_SELECTOR, "h1 [data-total]").get_attribute("data-total")
    assert total == expected
    assert "Spain" in browser.find_element(By.CSS_SELECTOR, ".active-filters").text
    browser.save_screenshot(str(SCREENSHOTS / "browse-cases-spain.png"))

    # The charts page draws in the browser too: the map, the bars, the columns and the timeline.
    browser.get(live_server.url + "/charts")
    charts = {svg.get_attribute("data-chart"): svg.size for svg in browser.find_elements(By.CSS_SELECTOR, "svg.chart")}
    assert set(charts) == {"map", "bars", "columns", "timeline"}
    assert all(size["width"] > 300 and size["height"] > 100 for size in charts.values())
    browser.save_screenshot(str(SCREENSHOTS / "browse-charts.png"))
    _no_console_errors(browser)
