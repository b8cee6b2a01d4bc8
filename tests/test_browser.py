"""The pages, in a real browser: headless Chromium from Debian's packages, driven by Selenium
with the system chromedriver (no browser download). `make test` installs both first."""

from __future__ import annotations

import os
import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from flask import Flask
from werkzeug.serving import make_server

from rotor_leads.mock_server import create_app
from tests import loopback

SCREENSHOTS = Path(__file__).resolve().parent.parent / "build" / "screenshots"
CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
if not (CHROMIUM and CHROMEDRIVER) and not os.environ.get("CI"):
    pytest.skip("Chromium is not installed: `make browser-deps` installs it", allow_module_level=True)

from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.support import expected_conditions as ec  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

WAIT_SECONDS = 20


@pytest.fixture(scope="session")
def app() -> Flask:
    return create_app(leads=80, seed=3)


@pytest.fixture(scope="session")
def server(app: Flask) -> Iterator[str]:
    httpd = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()


@pytest.fixture(scope="session")
def browser() -> Iterator[webdriver.Chrome]:
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1280,1000",
    ):
        options.add_argument(flag)
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT_SECONDS)
    yield driver
    driver.quit()


def _wait(browser: webdriver.Chrome) -> WebDriverWait:  # type: ignore[type-arg]
    return WebDriverWait(browser, WAIT_SECONDS)


def _execute(browser: webdriver.Chrome) -> str:
    """Press Execute on GET /leads and return the status Swagger UI shows for the live answer."""
    browser.find_element(By.CSS_SELECTOR, ".opblock-get .execute").click()
    cell = _wait(browser).until(
        ec.visibility_of_element_located(
            (By.CSS_SELECTOR, ".opblock-get .live-responses-table tbody .response-col_status")
        )
    )
    return str(cell.text.strip())


def test_docs__opens_without_a_warning_and_tries_get_leads(server: str, browser: webdriver.Chrome) -> None:
    browser.get(f"{server}/docs")
    summary = _wait(browser).until(
        ec.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-get .opblock-summary"))
    )
    assert not browser.find_elements(By.CSS_SELECTOR, ".errors-wrapper")  # Swagger UI's warning box
    description = browser.find_element(By.CSS_SELECTOR, ".info .description").text
    assert (
        "demo-key" in description
        and "shared/reference" not in description
        and "Schemathesis" not in description
    )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "docs.png"))  # the page as it first opens
    summary.click()
    _wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-get .execute")))
    assert _execute(browser) == "200"
    answer = browser.find_element(By.CSS_SELECTOR, ".opblock-get .live-responses-table .highlight-code")
    assert '"pagination"' in answer.text and '"status": "success"' in answer.text
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", answer)
    browser.save_screenshot(str(SCREENSHOTS / "docs-try.png"))

    Select(browser.find_element(By.ID, "demo-key")).select_by_value("demo-key-no-scope")
    browser.find_element(By.CSS_SELECTOR, ".opblock-get .btn-clear").click()
    _wait(browser).until(ec.element_to_be_clickable((By.CSS_SELECTOR, ".opblock-get .execute")))
    assert _execute(browser) == "403"


def test_admin__shows_state_and_switches_a_scenario(server: str, browser: webdriver.Chrome) -> None:
    loopback.get(f"{server}/leads?limit=3", headers={"x-api-key": "demo-key"}, timeout=5)
    long_search = "x" * 300  # a 300-character query stays on screen, whole on hover
    loopback.get(f"{server}/leads?search={long_search}", headers={"x-api-key": "demo-key"}, timeout=5)
    browser.get(f"{server}/__admin")
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "leads"), "80"))
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "requests"), "limit=3"))
    assert browser.execute_script("return document.documentElement.scrollWidth <= window.innerWidth")
    cells = browser.find_elements(By.CSS_SELECTOR, "#requests td")
    assert any((cell.get_attribute("title") or "").startswith(f"search={'x' * 200}") for cell in cells)
    quotas = browser.find_element(By.ID, "quotas").text
    assert "demo-key leads:read 1000" in quotas and "demo-key-exhausted leads:read 1000 1000 0" in quotas

    browser.find_element(By.ID, "scenario-429").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "scenario"), "429"))
    assert loopback.get(f"{server}/leads", headers={"x-api-key": "demo-key"}, timeout=5).status_code == 429
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "admin.png"))

    browser.find_element(By.ID, "scenario-off").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "scenario"), "off"))
    browser.find_element(By.ID, "reset-quotas").click()
    _wait(browser).until(ec.text_to_be_present_in_element((By.ID, "message"), "quotas reset"))
    assert loopback.get(f"{server}/leads", headers={"x-api-key": "demo-key"}, timeout=5).status_code == 200


ANOTHER_ORIGIN = """<!doctype html><p id="out">waiting</p><script>
fetch("{mock}/leads?limit=2", {{headers: {{
  "x-api-key": "demo-key", "rotor-api-version": "1.1.0", "X-Stainless-Lang": "js",
  "X-Stainless-Package-Version": "1.0.0", "X-Stainless-Retry-Count": "0"}}}})
  .then(r => r.json().then(b => document.getElementById("out").textContent =
    r.status + " " + b.data.length + " " + r.headers.get("X-RateLimit-Remaining")))
  .catch(e => document.getElementById("out").textContent = "failed: " + e);
</script>"""


def test_cors__a_page_on_another_origin_calls_with_sdk_headers(
    server: str, browser: webdriver.Chrome
) -> None:
    page = ANOTHER_ORIGIN.format(mock=server).encode()

    def app(environ: dict[str, object], start_response: Callable[..., object]) -> list[bytes]:
        start_response("200 OK", [("Content-Type", "text/html"), ("Content-Length", str(len(page)))])
        return [page]

    # Another port: another origin. Threaded, so that a connection Chromium opens ahead and
    # leaves idle holds no one up (one thread would wait for it, and shutdown() with it).
    other = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=other.serve_forever, daemon=True)
    thread.start()
    try:
        browser.get(f"http://127.0.0.1:{other.server_port}/")
        _wait(browser).until(lambda b: b.find_element(By.ID, "out").text != "waiting")
        assert browser.find_element(By.ID, "out").text.startswith("200 2 ")
    finally:
        other.shutdown()
