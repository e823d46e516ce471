"""The docs site and the report in headless Chromium: they render, the lineage graph works,
nothing logs an error and nothing is fetched from outside. Screenshots go to
target/test-artifacts/.

Needs Debian's chromium and chromium-driver: when either is missing, the suite runs
scripts/setup-browser.sh once (apt-get, as root or through sudo; a minute or two), as it
prepares the BigQuery emulator, so that the README's test command passes on a fresh machine.
Where they cannot be installed these tests fail with the reason, never skip, so CI cannot
pass without having looked.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from helpers import SampleWarehouse, isolated
from olist_cli.docsite import build_site, make_server
from olist_cli.engine import load_project
from olist_cli.lineage import build_lineage
from olist_cli.report import build_report
from olist_cli.warehouse.duckdb import DuckDBWarehouse

REPO = Path(__file__).resolve().parents[1]
ARTIFACTS = REPO / "target" / "test-artifacts"
SETUP = REPO / "scripts" / "setup-browser.sh"
INSTALL_TIMEOUT_S = 1800  # apt-get update and install on a slow mirror
# No background traffic: on a closed network Chromium's own calls home fail and log errors.
FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1440,1000",
)


NETWORK = ("http:", "https:", "ws:", "wss:", "ftp:")  # file:, data: and chrome: stay local


def _installed() -> tuple[str, str] | None:
    """The paths of chromium and chromedriver, if both are on PATH."""
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    return (chromium, chromedriver) if chromium and chromedriver else None


def _say(config: pytest.Config, line: str) -> None:
    """A line on the terminal at once, past pytest's capture (and -q): installing is slow."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")
    if reporter is not None and capture is not None:
        with capture.global_and_fixture_disabled():
            reporter.write_line(line)


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> tuple[str, str]:
    """(chromium, chromedriver), installed by scripts/setup-browser.sh if either is missing;
    the tests FAIL (never skip) with the reason when they cannot be installed."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        pytest.fail("selenium is not installed: pip install -e '.[dev]'", pytrace=False)
    found = _installed()
    if found is not None:
        return found
    _say(request.config, f"chromium or chromedriver is missing: running {SETUP.name} (apt-get)")
    started = time.monotonic()
    try:
        done = subprocess.run(
            ["bash", str(SETUP)],
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=INSTALL_TIMEOUT_S,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        pytest.fail(
            f"headless Chromium is missing and {SETUP.name} did not run: {exc}", pytrace=False
        )
    if done.returncode != 0:
        reason = done.stderr.strip()[-2000:] or done.stdout.strip()[-2000:]
        pytest.fail(
            f"headless Chromium is missing and {SETUP.name} failed "
            f"(exit {done.returncode}): {reason}",
            pytrace=False,
        )
    found = _installed()
    if found is None:
        pytest.fail(f"{SETUP.name} ran, but chromium or chromedriver is not on PATH", pytrace=False)
    _say(request.config, f"{done.stdout.strip()} (in {time.monotonic() - started:.0f} s)")
    return found


@pytest.fixture(scope="module")
def outputs(
    sample_warehouse: SampleWarehouse, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, Path, int]:
    """The docs site and the report of a small sample warehouse; and the graph's node count."""
    settings = sample_warehouse.settings
    with isolated(tmp_path_factory.mktemp("browser")) as work:
        warehouse = DuckDBWarehouse(settings.duckdb_file)
        try:
            project = load_project(settings, warehouse.dialect)
            site = build_site(settings, warehouse, project, work / "docs").parent
            report = build_report(settings, warehouse, work / "report.html")
        finally:
            warehouse.close()
    return site, report, len(build_lineage(project).nodes)


@pytest.fixture(scope="module")
def browser(chromium: tuple[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    binary, chromedriver = chromium
    os.environ.setdefault("SE_OFFLINE", "true")  # selenium-manager must not download drivers
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(chromedriver), options=options)
    driver.set_page_load_timeout(30)
    driver.get("about:blank")
    _problems(driver, ())  # drop what the start page logged: the tests read only their own
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield driver
    driver.quit()


def _problems(driver: Any, allowed: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """Console errors, and network requests to anything but ``allowed``, since last read."""
    errors = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    outside = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            url = message["params"]["request"]["url"]
            if url.startswith(NETWORK) and not url.startswith(allowed):
                outside.append(url)
    return errors, outside


def _wait_ready(driver: Any) -> Any:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    WebDriverWait(driver, 10).until(
        lambda d: d.find_element(By.CSS_SELECTOR, ".lineage").get_attribute("data-ready") == "true"
    )
    return driver.find_element(By.CSS_SELECTOR, ".lineage")


def _full_page_screenshot(driver: Any, path: Path) -> None:
    height = driver.execute_script("return document.documentElement.scrollHeight")
    driver.set_window_size(1440, min(int(height) + 40, 16000))
    driver.save_screenshot(str(path))
    driver.set_window_size(1440, 1000)


def test_docs_site_served_on_localhost(browser: Any, outputs: tuple[Path, Path, int]) -> None:
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By

    site, _, node_count = outputs
    server = make_server(site, "127.0.0.1", 0)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        browser.get(base + "index.html")
        panel = _wait_ready(browser)
        nodes = panel.find_elements(By.CSS_SELECTOR, "svg .node")
        assert int(panel.get_attribute("data-nodes")) == len(nodes) == node_count
        assert all(n.rect["width"] > 20 and n.rect["height"] > 10 for n in nodes), "drawn"
        status = panel.find_element(By.CSS_SELECTOR, ".lineage-status").text
        assert status.startswith(f"{node_count} nodes")

        # Hover: the node's whole lineage lights up, unrelated nodes do not.
        stg_orders = panel.find_element(By.CSS_SELECTOR, '.node[data-id="model:stg_orders"]')
        ActionChains(browser).move_to_element(stg_orders).perform()
        lit = {
            n.get_attribute("data-id") for n in panel.find_elements(By.CSS_SELECTOR, ".node.lit")
        }
        assert "highlighting" in panel.get_attribute("class")
        assert {"source:orders_raw", "model:fact_orders", "model:dim_customer"} <= lit
        assert "model:stg_payments" not in lit
        browser.save_screenshot(str(ARTIFACTS / "docs-index-hover-stg_orders.png"))

        viewport = panel.find_element(By.CSS_SELECTOR, ".viewport")
        panel.find_element(By.CSS_SELECTOR, '[data-zoom="in"]').click()
        assert "scale(1.25" in viewport.get_attribute("transform")
        # Drag from the graph's top-left corner (no node there): it pans, it opens nothing.
        svg = panel.find_element(By.CSS_SELECTOR, "svg.lineage-svg")
        before = viewport.get_attribute("transform")
        drag = ActionChains(browser).move_to_element_with_offset(
            svg, -svg.rect["width"] / 2 + 8, -svg.rect["height"] / 2 + 8
        )
        drag.click_and_hold().move_by_offset(90, 40).release().perform()
        assert viewport.get_attribute("transform") != before
        assert browser.current_url == base + "index.html"
        panel.find_element(By.CSS_SELECTOR, '[data-zoom="fit"]').click()
        browser.set_window_size(1440, 1280)  # tall enough for the stats and the whole graph
        browser.save_screenshot(str(ARTIFACTS / "docs-index.png"))
        browser.set_window_size(1440, 1000)

        # Click a node: its page opens, with its own graph.
        node = panel.find_element(By.CSS_SELECTOR, '.node[data-id="model:fact_orders"]')
        ActionChains(browser).move_to_element(node).click().perform()
        assert browser.current_url == base + "models/fact_orders.html"
        _wait_ready(browser)
        browser.save_screenshot(str(ARTIFACTS / "docs-model-fact_orders.png"))
        errors, outside = _problems(browser, (base,))
    finally:
        server.shutdown()
        server.server_close()
    assert not errors, errors
    assert not outside, f"requests left localhost: {outside}"


def test_docs_site_works_from_file_urls(browser: Any, outputs: tuple[Path, Path, int]) -> None:
    site, _, _ = outputs
    browser.get((site / "sources" / "products_raw.html").as_uri())
    _wait_ready(browser)
    browser.save_screenshot(str(ARTIFACTS / "docs-source-products_raw.png"))
    errors, outside = _problems(browser, ())
    assert not errors, errors
    assert not outside, outside


def test_report_renders_every_chart(browser: Any, outputs: tuple[Path, Path, int]) -> None:
    _, report, _ = outputs
    browser.get(report.as_uri())
    images = browser.execute_script(
        "return Array.from(document.images).map(i => [i.complete, i.naturalWidth, i.width]);"
    )
    assert len(images) == 7
    assert all(done and natural >= 1000 and shown > 300 for done, natural, shown in images)
    _full_page_screenshot(browser, ARTIFACTS / "report.png")
    errors, outside = _problems(browser, ())
    assert not errors, errors
    assert not outside, outside
    assert (ARTIFACTS / "report.png").stat().st_size > 100_000
