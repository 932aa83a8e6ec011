"""The real app in headless Chromium (Debian's /usr/bin/chromium), driven by Playwright.

These tests fail, never skip, when the browser is missing: `make test` installs it.
Screenshots are written to tests/artifacts/ for a person to look at.
"""

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

from conftest import fixture
from ingest import import_file
from store import STORE_ENV, Store

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """A Streamlit server on a store holding the Shopify fixture; yields its base URL."""
    store = Store(tmp_path_factory.mktemp("browser") / "store")
    import_file(fixture("shopify_orders.csv"), store)
    port = _free_port()
    env = {**os.environ, STORE_ENV: str(store.root)}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard.py", "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                break
        except OSError:
            time.sleep(0.3)
    else:
        process.kill()
        pytest.fail(f"Streamlit did not start: {process.stdout.read().decode()[-2000:]}")
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture(scope="module")
def browser():
    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script and drawn everything."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_function(
        """() => !document.querySelector('[data-testid="stStatusWidget"]')
               && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0""",
        timeout=30_000,
    )


def test_overview_shows_the_stored_orders(server, browser):
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    page.goto(server)
    wait_for_app(page)
    orders_tile = page.get_by_test_id("stMetric").filter(has_text="Valid orders")
    expect(orders_tile).to_contain_text("4")  # #1001, #1002, #1003, #1006
    expect(page.get_by_test_id("stMetric").filter(has_text="Customers")).to_contain_text("2")
    expect(page.get_by_text("orders from 2024-01-15 to 2024-03-10")).to_be_visible()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=ARTIFACTS / "overview_en.png", full_page=True)
    page.close()
