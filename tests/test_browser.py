"""The real app in headless Chromium (Debian's /usr/bin/chromium), driven by Playwright.

These tests fail, never skip, when the browser is missing: `make test` installs it.
Screenshots of every page in both languages, with and without presentation mode (and of the
one-month store), go to tests/artifacts/ for a person to look at,
with the page load times measured in the browser (tests/artifacts/page_times.txt).
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
PAGES = {"overview": "", "cohorts": "cohorts", "customers": "customers", "value": "value", "strategy": "strategy", "launch": "launch",
         "playbook": "playbook", "data": "data"}  # in the navigation's order
LANGUAGES = {"en": "English", "zh": "中文"}

pytestmark = pytest.mark.browser


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(store_root: Path, script: str = "dashboard.py", env: dict | None = None):
    """A Streamlit server on the given store (`script`: dashboard.py, or serve.py with ui/guard.py's
    HTTP rules); returns (url, process)."""
    port = _free_port()
    env = {**os.environ, STORE_ENV: str(store_root), **(env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", script, "--server.port", str(port),
         "--server.address", "127.0.0.1", "--server.headless", "true"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if urllib.request.urlopen(f"{url}/_stcore/health", timeout=2).read() == b"ok":
                return url, process
        except OSError:
            time.sleep(0.3)
    process.kill()
    pytest.fail(f"Streamlit did not start: {process.stdout.read().decode()[-2000:]}")


@pytest.fixture(scope="module")
def demo_server(demo_store):
    url, process = start_server(demo_store.root)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.fixture
def empty_server(tmp_path):
    url, process = start_server(tmp_path / "store")
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


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    page = context.new_page()
    yield page
    context.close()


def wait_for_app(page) -> None:
    """Wait until Streamlit has finished running the script and drawn everything."""
    page.wait_for_selector('[data-testid="stApp"]')
    page.wait_for_selector('[data-testid="stMain"] h1', timeout=60_000)  # every page has a title
    page.wait_for_timeout(200)
    page.wait_for_function(
        """() => document.querySelector('[data-test-script-state="notRunning"]')
               && document.querySelectorAll('[data-stale="true"]').length === 0
               && document.querySelectorAll('[data-testid="stSkeleton"]').length === 0""",
        timeout=60_000,
    )
    page.wait_for_timeout(300)  # plotly draws after the script has finished
    assert page.get_by_test_id("stException").count() == 0, page.get_by_test_id("stException").first.inner_text()


def tile(page, label: str):
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")


def test_every_page_in_both_languages(demo_server, page):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})  # Streamlit scrolls inside: show it all
    times = []
    for name, path in PAGES.items():
        for code, language in LANGUAGES.items():
            for present in (False, True):  # the review set: every page x language x presentation mode
                started = time.monotonic()
                page.goto(f"{demo_server}/{path}?lang={language}" + ("&present=true" if present else ""))
                wait_for_app(page)
                suffix = "_presentation" if present else ""
                times.append(f"{name:10} {code}{suffix}  {time.monotonic() - started:5.2f} s")
                page.screenshot(path=ARTIFACTS / f"{name}_{code}{suffix}.png", full_page=True)
    (ARTIFACTS / "page_times.txt").write_text("\n".join(times) + "\n")
    page.goto(f"{demo_server}/?lang=中文")
    wait_for_app(page)
    expect(page.get_by_role("heading", name="复购指标看板")).to_be_visible()
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{demo_server}/?present=true")
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    page.screenshot(path=ARTIFACTS / "overview_presentation_en.png")


def test_filter_changes_the_tiles_and_lands_in_the_url(demo_server, page):
    page.goto(demo_server)
    wait_for_app(page)
    before = tile(page, "Purchase frequency").inner_text()
    page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Member tier").click()
    page.get_by_role("option", name="diamond").click()
    page.keyboard.press("Escape")
    wait_for_app(page)
    expect(tile(page, "Purchase frequency")).not_to_have_text(before)
    assert "member_tier=diamond" in page.url
    # the shared link reopens the same view
    page.goto(page.url)
    wait_for_app(page)
    expect(tile(page, "Purchase frequency")).not_to_have_text(before)


def test_switch_language(demo_server, page):
    page.goto(demo_server)
    wait_for_app(page)
    page.get_by_test_id("stButtonGroup").get_by_text("中文").click()
    wait_for_app(page)
    expect(page.get_by_role("heading", name="复购指标看板")).to_be_visible()
    expect(page.get_by_test_id("stMetric").filter(has_text="客单价")).to_be_visible()


def test_download_kpi_table_csv(demo_server, page):
    page.goto(demo_server)
    wait_for_app(page)
    page.get_by_text("Monthly KPI table").click()
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_test_id("stExpander").get_by_role("button", name="⬇ CSV").click()
    download = download_info.value
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("period,orders,revenue,customers")
    assert len(text.splitlines()) > 12


def test_upload_on_data_page_shows_on_overview(empty_server, page):
    page.goto(f"{empty_server}/data")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(fixture("shopify_orders.csv")))
    wait_for_app(page)
    expect(page.get_by_text("Recognised format")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    wait_for_app(page)
    expect(page.get_by_text("Imported 6 orders from 7 rows of shopify_orders.csv")).to_be_visible(timeout=30_000)
    wait_for_app(page)
    page.screenshot(path=ARTIFACTS / "data_after_upload_en.png", full_page=True)
    page.goto(f"{empty_server}/?month=2024-03")
    wait_for_app(page)
    # March 2024: #1006 by carol is the only valid order (bob's two are cancelled)
    expect(tile(page, "Revenue")).to_have_text("$1,250.00")
    expect(tile(page, "New customers")).to_have_text("1")


def test_html_report_opens_offline_with_working_charts(demo_server, browser, page, tmp_path):
    page.goto(f"{demo_server}/?month=2025-11")
    wait_for_app(page)
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = tmp_path / "report.html"
    download_info.value.save_as(report)
    html = report.read_text(encoding="utf-8")
    assert "<script src=\"http" not in html  # plotly.js is inline
    offline = browser.new_context(offline=True)
    viewer = offline.new_page()
    viewer.goto(report.as_uri())
    expect(viewer.get_by_role("heading", name="Repurchase report 2025-11")).to_be_visible()
    viewer.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 7", timeout=30_000)
    assert viewer.locator(".js-plotly-plot").count() == 7  # five trends, new vs returning, cohort heatmap
    viewer.screenshot(path=ARTIFACTS / "report_offline_en.png", full_page=True)
    offline.close()


def test_language_round_trip_keeps_money_as_money(demo_server, page, tmp_path):
    """English -> 中文 -> English once turned every amount into "CNY (from the data)212.84"."""
    page.goto(f"{demo_server}/?month=2025-12")
    wait_for_app(page)
    aov = tile(page, "AOV").inner_text()
    assert aov.startswith("¥"), aov
    page.get_by_test_id("stButtonGroup").get_by_text("中文").click()
    wait_for_app(page)
    expect(tile(page, "客单价")).to_have_text(aov)
    currency_box = page.get_by_test_id("stSidebar").get_by_test_id("stSelectbox").filter(has_text="币种")
    expect(currency_box.get_by_role("combobox")).to_have_value("CNY")
    page.get_by_test_id("stButtonGroup").get_by_text("English").click()
    wait_for_app(page)
    expect(tile(page, "AOV")).to_have_text(aov)
    assert "currency=" not in page.url, page.url
    page.get_by_text("Monthly KPI table").click()
    wait_for_app(page)
    table = page.get_by_test_id("stExpander").get_by_test_id("stDataFrame")
    expect(table).not_to_contain_text("from the data")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Download report (HTML)").click()
    report = tmp_path / "report.html"
    download_info.value.save_as(report)
    html = report.read_text(encoding="utf-8")
    assert "from the data" not in html and aov in html


def test_presentation_mode_names_its_filters(demo_server, page):
    """The sidebar is hidden: the screen itself says the 85% is gold members on the app."""
    page.goto(f"{demo_server}/?member_tier=gold&channel=app&present=true")
    wait_for_app(page)
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    line = page.get_by_test_id("stAlert").filter(has_text="Filters")
    expect(line).to_be_visible()
    expect(line).to_contain_text("Member tier: gold members · Channel: app")
    # the line sits above the tiles
    assert line.bounding_box()["y"] < page.get_by_test_id("stMetric").first.bounding_box()["y"]
    for label in page.get_by_test_id("stMetricLabel").all():  # tile labels whole, not cut with an ellipsis
        text = label.inner_text()
        assert label.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), text
    page.screenshot(path=ARTIFACTS / "overview_presentation_filters_en.png")


@pytest.fixture(scope="module")
def one_month_server(one_month_store):
    url, process = start_server(one_month_store.root)
    yield url
    process.terminate()
    process.wait(timeout=10)


def axis_ticks(page) -> list[list[str]]:
    """The tick labels of every axis of every chart on the page, axis by axis."""
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot =>
        [...plot.querySelectorAll('.xaxislayer-above, .yaxislayer-above')].map(layer =>
            [...layer.querySelectorAll('text')].map(t => t.textContent)))""")


@pytest.mark.parametrize("path", ["", "cohorts", "customers"])
def test_one_month_of_data_draws_readable_axes(one_month_server, page, path):
    """One month once drew "23:59:59.999 May 31" time axes and a bar axis reading "1 1 1 0 0 0"."""
    page.goto(f"{one_month_server}/{path}")
    wait_for_app(page)
    for ticks in axis_ticks(page):
        assert not any(":" in tick for tick in ticks), ticks
        assert len(ticks) == len(set(ticks)), ticks  # each tick says something different
    page.screenshot(path=ARTIFACTS / f"one_month_{path or 'overview'}_en.png", full_page=True)


def test_a_refused_upload_leaves_the_rest_of_the_data_page(one_month_server, page, tmp_path):
    """A picture renamed .csv is refused with a reason; the stored batches and the activity log stay."""
    picture = tmp_path / "picture.csv"
    picture.write_bytes((ROOT / "ui" / "favicon.png").read_bytes())
    page.goto(f"{one_month_server}/data")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(picture))
    wait_for_app(page)
    expect(page.get_by_test_id("stAlert").filter(has_text="Not imported")).to_contain_text("image")
    expect(page.get_by_text("Stored batches", exact=True).first).to_be_visible()
    expect(page.get_by_text("may.csv · Orders")).to_be_visible()
    expect(page.get_by_text("Activity log", exact=True).first).to_be_visible()


@pytest.fixture(scope="module")
def real_export_server(tmp_path_factory):
    """A store holding two real Etsy exports (2022 to mid-July, and 2023): a gap, a stated currency."""
    store = Store(tmp_path_factory.mktemp("real") / "store")
    for name in ("etsy_sold_orders_2022.csv", "etsy_sold_orders_2023.csv"):
        import_file(ROOT / "tests" / "fixtures" / "real" / name, store)
    url, process = start_server(store.root)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_screenshots_of_a_real_export(real_export_server, page):
    """The review set on a real export: every page x language x presentation mode, no error."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})
    for name, path in PAGES.items():
        for code, language in LANGUAGES.items():
            for present in (False, True):
                page.goto(f"{real_export_server}/{path}?lang={language}" + ("&present=true" if present else ""))
                wait_for_app(page)
                for ticks in axis_ticks(page):
                    assert len(ticks) == len(set(ticks)), (name, code, ticks)
                suffix = "_presentation" if present else ""
                page.screenshot(path=ARTIFACTS / f"real_{name}_{code}{suffix}.png", full_page=True)


def column_edges(page, frame) -> list[float]:
    """The x (in the page) of each visible column's right edge in a st.dataframe's header row, read
    from the pixels: the grid draws its header on a canvas, one thin vertical line between columns
    (a column cut off by the table's right border has none)."""
    from io import BytesIO

    from PIL import Image

    box = frame.bounding_box()
    picture = Image.open(BytesIO(page.screenshot(clip={"x": box["x"], "y": box["y"] + 3, "width": box["width"],
                                                        "height": 1}))).convert("L")
    row = [picture.getpixel((x, 0)) for x in range(picture.width)]
    background = max(set(row), key=row.count)
    lines = [x for x in range(6, len(row) - 6) if row[x] < background - 8]  # not the table's own border
    edges = [x for i, x in enumerate(lines) if i == 0 or x - lines[i - 1] > 3]  # one per line, however thick
    return [box["x"] + x for x in edges]


@pytest.mark.parametrize("language", LANGUAGES.values())
def test_strategy_interval_columns_are_in_view_at_1440_px(demo_server, page, language):
    """The scorecard's and the results table's confidence intervals once sat off-screen at 1440 px:
    now one "95% CI" column, whose right edge is inside the window."""
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{demo_server}/strategy?lang={language}")
    wait_for_app(page)
    for index in range(2):  # the scorecard and the chosen experiment's results, each once its header is drawn
        page.get_by_test_id("stDataFrame").nth(index).locator("th").first.wait_for(state="attached", timeout=60000)
    frames = [f for f in page.get_by_test_id("stDataFrame").all()
              if f.locator("th").filter(has_text="95%").count()]
    assert len(frames) == 2, [f.locator("th").all_inner_texts() for f in page.get_by_test_id("stDataFrame").all()]  # the scorecard and the chosen experiment's results
    for frame in frames:
        frame.scroll_into_view_if_needed()
        headers = [h.inner_text() for h in frame.locator("th").all()]
        at = next(i for i, h in enumerate(headers) if h.startswith("95%"))
        edges = column_edges(page, frame)
        assert len(edges) > at, (headers, edges)  # the line after the interval column is drawn: all of it in view
        assert edges[at] <= 1440, (headers, edges)
    page.screenshot(path=ARTIFACTS / f"strategy_1440_{language}.png")
