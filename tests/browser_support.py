"""What the browser tests share: a Streamlit server on a store, headless Chromium (Debian's
/usr/bin/chromium) driven by Playwright, and ways to read the drawn page (tiles, chart axes,
table columns).

The tests fail, never skip, when the browser is missing: `make test` installs it. Test modules
import the fixtures they use from here (pytest finds a fixture by its name in the module).
"""

import os
import re
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from ingest import import_file
from store import STORE_ENV, Store

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"  # screenshots for a person to look at (gitignored)
REAL = ROOT / "tests" / "fixtures" / "real"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
PAGES = {"overview": "", "cohorts": "cohorts", "customers": "customers", "value": "value", "strategy": "strategy",
         "launch": "launch", "playbook": "playbook", "data": "data"}  # in the navigation's order
LANGUAGES = {"en": "English", "zh": "中文"}
# `make screenshots` sets this: the review set's pictures are taken, and every store shows every view
REVIEW = os.environ.get("REVIEW_SCREENSHOTS") == "1"
EVERY_VIEW = [(code, present) for code in LANGUAGES for present in (False, True)]
# a real export's pages in a plain test run: Chinese (English words among real data values) and English
# in presentation mode (the largest fonts beside the longest real labels); the demo's set keeps every view
REAL_EXPORT_VIEWS = [("zh", False), ("en", True)]


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


def serve(store_root: Path):
    """A server on the store for as long as the fixture that yields from this lives."""
    url, process = start_server(store_root)
    yield url
    process.terminate()
    process.wait(timeout=10)


def store_of(root: Path, *exports: str) -> Store:
    """A store at `root` holding the real exports named (files of tests/fixtures/real/)."""
    store = Store(root / "store")
    for name in exports:
        import_file(REAL / name, store)
    return store


@pytest.fixture(scope="module")
def demo_server(demo_store):
    yield from serve(demo_store.root)


@pytest.fixture(scope="module")
def one_month_server(one_month_store):
    yield from serve(one_month_store.root)


@pytest.fixture
def empty_server(tmp_path):
    yield from serve(tmp_path / "store")


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
    """The value of the metric tile labelled `label`."""
    label_element = page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    return page.get_by_test_id("stMetric").filter(has=label_element).get_by_test_id("stMetricValue")


def axis_ticks(page) -> list[list[str]]:
    """The tick labels of every axis of every chart on the page, axis by axis, each as a reader takes it: a
    month axis names the year once, under its first month (Jan2024, Apr, Jul...), so a tick without a year
    reads as of the last year named (Apr is Apr 2024)."""
    axes = page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].flatMap(plot =>
        [...plot.querySelectorAll('.xaxislayer-above, .yaxislayer-above')].map(layer =>
            [...layer.querySelectorAll('text')].map(t => t.textContent)))""")
    return [_with_years(ticks) for ticks in axes]


def _with_years(ticks: list[str]) -> list[str]:
    named = [re.search(r"(?:19|20)\d\d", tick) for tick in ticks]
    if not named or not named[0] or len(ticks) < 2:  # not a month axis that names its year once
        return ticks
    year, read = "", []
    for tick, found in zip(ticks, named):
        year = found.group() if found else year
        read.append(tick if found else f"{tick} {year}")
    return read


# Streamlit's own words in its widgets (the file uploader, number inputs), English in every language
STREAMLIT_WORDS = {"English",  # the language switch names each language in its own
                   "Drag", "and", "drop", "file", "here", "Limit", "MB", "per", "Browse", "files", "CSV", "TXT",
                   "TSV", "XLSX", "XLS", "PARQUET", "Upload", "upload", "Press", "Enter", "to", "apply"}


def shown_text(page) -> str:
    """What the page says in words: the main area's and the sidebar's text and every chart's text;
    without code spans (column keys a CRM import needs, named as such) and icons (Streamlit writes
    a Material icon as its name, "keyboard_arrow_right", in the page's text)."""
    return page.evaluate("""() => {
        const parts = [];
        for (const selector of ['[data-testid="stMain"]', '[data-testid="stSidebar"]']) {
            const area = document.querySelector(selector);
            if (!area || !area.checkVisibility()) continue;
            const copy = area.cloneNode(true);
            copy.querySelectorAll('code, [data-testid="stIconMaterial"], .js-plotly-plot').forEach(e => e.remove());
            document.body.appendChild(copy);  // innerText needs a laid-out element
            parts.push(copy.innerText);
            copy.remove();
        }
        document.querySelectorAll('.js-plotly-plot svg text').forEach(t => parts.push(t.textContent));
        return parts.join('\\n');
    }""")


def chart_problems(page) -> list[list[str]]:
    """Chart texts a reader cannot read: a title, axis title, tick label or legend entry cut off at the
    figure's edge, or a chart title drawn over an axis title or tick label (the cohort heatmap's once)."""
    return page.evaluate("""() => {
  const problems = [];
  const overlap = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
  for (const plot of document.querySelectorAll('.js-plotly-plot')) {
    const svg = plot.querySelector('.main-svg').getBoundingClientRect();
    const inside = (r) => r.left >= svg.left - 1 && r.right <= svg.right + 1 && r.top >= svg.top - 1 && r.bottom <= svg.bottom + 1;
    const title = plot.querySelector('.gtitle');
    const name = title ? title.textContent : '?';
    const texts = [...plot.querySelectorAll('.xaxislayer-above text, .yaxislayer-above text, .xtitle, .ytitle, .legendtext')];
    for (const text of [title, ...texts].filter(Boolean))
      if (text.textContent && !inside(text.getBoundingClientRect())
          && overlap(text.getBoundingClientRect(), svg)) problems.push(['cut', name, text.textContent]);  // wholly outside: not drawn
    if (title) for (const other of texts)
      if (overlap(title.getBoundingClientRect(), other.getBoundingClientRect())) problems.push(['overlap', name, other.textContent]);
  }
  return problems;
}""")


def whole_page_screenshot(page, path: Path) -> None:
    """A picture of the whole page: Streamlit scrolls inside its main area, which a full-page screenshot
    would cut at the window's height, so the window grows to the page for the picture."""
    size = page.viewport_size
    height = page.evaluate("() => document.querySelector('[data-testid=\"stMain\"]').scrollHeight")
    if height > size["height"]:
        page.set_viewport_size({"width": size["width"], "height": min(height + 40, 16_000)})
        page.wait_for_timeout(800)  # charts redraw at the new size
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(size)


def screenshot_set(server: str, page, prefix: str = "", allowed_words: set[str] | None = None,
                   views: list[tuple[str, bool]] = EVERY_VIEW) -> list[str]:
    """The review set: every page in each of `views` (language code, presentation mode; every view
    under `make screenshots`), 1400 px wide. Under `make screenshots` each page is also pictured whole
    (however long) to tests/artifacts/{prefix}{page}_{lang}[_presentation].png, for a person to look at.

    No page may raise, no chart axis may repeat a tick, no chart text may be cut off or overlap the
    title, no tile label may be cut off; with
    `allowed_words` (data values, abbreviations), no Chinese page may show another Latin word
    (tests/test_chinese.py's rule, here on what the browser drew). Returns each page's load time.
    """
    from test_chinese import english_words

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})
    times, english = [], []
    for name, path in PAGES.items():
        for code, present in EVERY_VIEW if REVIEW else views:
            language = LANGUAGES[code]
            started = time.monotonic()
            page.goto(f"{server}/{path}?lang={language}" + ("&present=true" if present else ""))
            wait_for_app(page)
            suffix = "_presentation" if present else ""
            times.append(f"{name:10} {code}{suffix}  {time.monotonic() - started:5.2f} s")
            for ticks in axis_ticks(page):
                assert len(ticks) == len(set(ticks)), (name, code, present, ticks)
            problems = chart_problems(page)
            assert not problems, (name, code, present, problems)
            cut = page.get_by_test_id("stMetricLabel").evaluate_all(
                "labels => labels.filter(e => e.scrollWidth > e.clientWidth + 1).map(e => e.innerText)")
            assert not cut, (name, code, present, cut)
            if code == "zh" and allowed_words is not None:
                english += [(name, present, word, text) for _, word, text in
                            english_words([("page", shown_text(page))], allowed_words | STREAMLIT_WORDS)]
            if REVIEW:
                whole_page_screenshot(page, ARTIFACTS / f"{prefix}{name}_{code}{suffix}.png")
    assert not english, "\n".join(map(str, english))
    return times


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
