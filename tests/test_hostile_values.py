"""Values from uploaded files are data, never markup (issue 20, item 1).

A store whose channels, tiers, regions, stores, categories, coupons, customer ids, experiments,
variants, strategy and file names are Markdown links, remote images, bold text, HTML tags, code,
formulas, colour directives and icons (tests/hostile.py) is opened on every page in both
languages: through AppTest (every Markdown body and chart string the script sends), in the HTML
report, and in Chromium (what the browser really renders, and every request it makes).
"""

import json
import re
from datetime import date
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from streamlit.testing.v1 import AppTest

from conftest import data_page_app, open_app
from hostile import (BEACON, DERIVED_EXPERIMENT, EMPHASIS_WORDS, EXPERIMENTS, HTML_TOKENS, ORDERS_FILE, TOKENS,
                     VARIANTS, as_read, build_hostile_store)
from metrics.filters import Filters
from store import STORE_ENV
from ui.safe_text import WORD_JOINER, chart_text, markdown_text

PAGES = ["pages/overview.py", "pages/cohorts.py", "pages/customers.py", "pages/value.py", "pages/strategy.py",
         "pages/launch.py", "pages/playbook.py", "pages/data.py"]
LANGUAGE_PARAM = {"en": "English", "zh": "中文"}
# every hostile string as a whole, and the markup pieces inside them
RAW_HOSTILE = [*TOKENS, *EXPERIMENTS.values(), *VARIANTS.values(), DERIVED_EXPERIMENT, ORDERS_FILE,
               "[phish](beacon.invalid)", "![x](b.png)"]
# characters that open Markdown/HTML/formula/directive markup: from data, each must reach the
# renderer escaped (CommonMark: a backslash before ASCII punctuation makes it a literal character)
MARKUP_CHARACTERS = set("[]()!*_`<>$:")
MARKDOWN_KINDS = ("markdown", "caption", "info", "warning", "error", "success", "toast", "title", "header", "subheader")


@pytest.fixture(scope="module")
def hostile_store(tmp_path_factory):
    return build_hostile_store(tmp_path_factory.mktemp("hostile"))


def open_page(monkeypatch, store_root, page: str, **params) -> AppTest:
    return open_app(monkeypatch, store_root, page, timeout=120, **params)


def markdown_bodies(app: AppTest) -> list[str]:
    """Every text the page hands to Streamlit's Markdown renderer."""
    bodies = [element.value for kind in MARKDOWN_KINDS for element in app.get(kind)]
    bodies += [text for metric in app.metric for text in (metric.label, metric.proto.help)]
    bodies += [expander.label for expander in app.get("expander")]
    for table in app.table:  # st.table renders Markdown in its headings and cells
        bodies += [str(text) for text in (*table.value.columns, *table.value.to_numpy().ravel())]
    return bodies


def chart_strings(app: AppTest) -> list[str]:
    """Every string inside every Plotly figure on the page (titles, ticks, names, hover and bar text)."""
    def strings(node):
        if isinstance(node, str):
            yield node
        elif isinstance(node, dict):
            for value in node.values():
                yield from strings(value)
        elif isinstance(node, list):
            for value in node:
                yield from strings(value)

    found = []
    for chart in app.get("plotly_chart"):
        spec = json.loads(chart.proto.spec)
        spec["layout"].pop("template", None)  # Plotly's own theme: no data in it
        found += list(strings(spec))
    return found


def literal_characters(body: str) -> tuple[str, list[bool], list[bool]]:
    """What a Markdown body reads as once backslash escapes are resolved: the text, whether each
    character was escaped, and whether an invisible word joiner follows it."""
    text, escaped, joined = [], [], []
    index = 0
    while index < len(body):
        character = body[index]
        if character == "\\" and index + 1 < len(body) and not body[index + 1].isalnum() and body[index + 1].isascii():
            text.append(body[index + 1]), escaped.append(True), joined.append(False)
            index += 2
            continue
        if character == WORD_JOINER and joined:
            joined[-1] = True
        else:
            text.append(character), escaped.append(False), joined.append(False)
        index += 1
    return "".join(text), escaped, joined


def markup_from_data(body: str) -> list[str]:
    """The hostile strings in `body` that would render as markup: one of their markup characters
    is not escaped, or a colon (of a URL, directive or icon) is not broken by a word joiner."""
    problems = [raw for raw in RAW_HOSTILE if raw in body]
    text, escaped, joined = literal_characters(body)
    for token in TOKENS:
        start = text.find(token)
        while start >= 0:
            for offset, character in enumerate(token):
                at = start + offset
                if (character in MARKUP_CHARACTERS and not escaped[at]) or (character == ":" and not joined[at]):
                    problems.append(token)
                    break
            start = text.find(token, start + 1)
    return problems


def test_the_markdown_escape_keeps_every_character_and_spends_none_on_markup():
    for token in RAW_HOSTILE:
        escaped = markdown_text(token)
        assert not markup_from_data(escaped), (token, escaped)
        # what the reader sees: the escape backslashes and word joiners are the only additions
        assert re.sub(r"\\(.)", r"\1", escaped).replace(WORD_JOINER, "") == token
    assert markdown_text("2. half\nof # it") == "2\\. half of \\# it"  # no list, no second block
    assert chart_text('<a href="x">&</a>') == '&lt;a href="x"&gt;&amp;&lt;/a&gt;'


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_no_value_from_the_files_is_markup_on_any_page(monkeypatch, hostile_store, page, language):
    app = open_page(monkeypatch, hostile_store.root, page, lang=LANGUAGE_PARAM[language])
    bodies = markdown_bodies(app)
    assert bodies and not [(body, markup_from_data(body)) for body in bodies if markup_from_data(body)]
    strings = chart_strings(app)
    live_html = [s for s in strings if any(raw in s for raw in HTML_TOKENS + list(VARIANTS.values()))
                 or re.search(r"<(a|img|b)\b[^>]*>[^<]*(" + "|".join(EMPHASIS_WORDS) + ")", s)]
    assert not live_html
    # the hostile values did reach the page, as text (so this test can fail)
    shown = "\n".join(bodies + strings)
    expected = {
        "pages/customers.py": chart_text(TOKENS[4]),  # an <img> tier on the tier chart's axis
        "pages/value.py": chart_text(TOKENS[3]),  # an <a href> tier on the value-by-tier chart
        "pages/strategy.py": markdown_text(EXPERIMENTS["points_double_2025"]),  # the summary names the test
        "pages/playbook.py": chart_text(TOKENS[4]),  # an <img> category in the second-category chart
        "pages/data.py": markdown_text(ORDERS_FILE),  # the batch list names the file
    }
    if page in expected:
        assert expected[page] in shown


@pytest.mark.parametrize("experiment, variant", [(EXPERIMENTS["points_double_2025"], VARIANTS["treatment"]),
                                                 (DERIVED_EXPERIMENT, f"{TOKENS[6]} SAVE20")])
def test_each_experiment_shows_its_variants_as_text(monkeypatch, hostile_store, experiment, variant):
    app = open_page(monkeypatch, hostile_store.root, "pages/strategy.py", experiment=experiment)
    bodies = markdown_bodies(app)
    assert not [body for body in bodies if markup_from_data(body)]
    assert any(as_read(caption.value).startswith(f"{variant}: ") for caption in app.caption)  # "<variant>: n of m matured"
    names = [trace.get("name") for chart in app.get("plotly_chart") for trace in json.loads(chart.proto.spec)["data"]]
    assert chart_text(variant) in names and not [name for name in names if name and "<" in name]  # no live tag


def test_an_upload_with_a_hostile_name_is_reported_as_text(monkeypatch, tmp_path):
    name = "orders [phish](beacon.invalid) ![x](b.png) `c` $x$ __b__ :red[x].csv"
    content = ("order_id,customer_id,order_date,amount,channel\n"
               f"1,[a](https://{BEACON}/c),2024-01-03 10:00,100,**web**\n2,bob,2024-01-10 11:00,50,<b>app</b>\n").encode()
    monkeypatch.setenv(STORE_ENV, str(tmp_path / "store"))
    app = data_page_app()
    app.run()
    app.get("file_uploader")[0].set_value((name, content, "text/csv"))
    app.run()
    app.selectbox(key="upload_currency").set_value("EUR").run()  # the file states no currency
    app.button(key="import_button").click().run()
    assert not app.exception, [e.value for e in app.exception]
    bodies = markdown_bodies(app)
    assert any(as_read(success.value).startswith("Imported 2 orders") for success in app.success)
    pieces = ["[phish](beacon.invalid)", "![x](b.png)", "`c`", "$x$", "__b__"]  # (the stored name has _ for :)
    shown = [body for body in bodies if "phish" in body]
    assert len(shown) >= 2  # the success message and the batch list name the file
    for body in shown:
        text, escaped, joined = literal_characters(body)
        for piece in pieces:
            at = text.find(piece)
            assert at >= 0, (piece, body)
            assert all(escaped[at + i] for i, ch in enumerate(piece) if ch in MARKUP_CHARACTERS), (piece, body)


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data):
        self.text.append(data)


def test_the_html_report_shows_hostile_filters_as_text(hostile_store):
    from ui import data
    from ui.context import PageContext
    from ui.report import month_report_html

    version = data.store_version(hostile_store)
    facts = data.inventory(str(hostile_store.root), version)
    con = hostile_store.connect()
    channels = tuple(value for (value,) in con.sql("select distinct channel from orders where channel is not null "
                                                   "order by 1").fetchall())
    con.close()
    ctx = PageContext(language="en", filters=Filters(channel=channels), presentation=False, store=hostile_store,
                      version=version, currency="CNY", facts=facts)
    table = data.kpi_table(ctx.root, version, ctx.filters)
    document = month_report_html(ctx, date(2025, 11, 1), table)
    parsed = _Tags()
    parsed.feed(document)
    tags = [tag for tag, _ in parsed.tags]
    assert "a" not in tags and "img" not in tags and "b" not in tags
    assert all("src" not in attrs for tag, attrs in parsed.tags if tag == "script")
    # no hostile tag in the page nor in a chart's data (Markdown means nothing in HTML: it may stay)
    assert not [raw for raw in RAW_HOSTILE if "<" in raw and raw in document]
    text = "".join(parsed.text)
    for channel in channels:  # the filter line names each channel, as the characters it is made of
        assert channel in text
    assert f'href="https://{BEACON}' not in document and f"src=\"https://{BEACON}" not in document


# ---- in the browser ------------------------------------------------------------------------

# run in the page: every link, image, emphasis, code span, formula, coloured text or icon that the
# hostile values would have produced, had they been read as markup; and every reference to the beacon
AUDIT = """([emphasis, codes]) => {
  const found = [];
  const own = (url) => !url || url.startsWith("#") || url.startsWith("data:") || url.startsWith("blob:")
                       || url.startsWith("/") || url.startsWith(location.origin) || url.startsWith("./");
  for (const el of document.querySelectorAll("a")) {
    const href = el.getAttribute("href") || el.getAttribute("xlink:href") || "";
    if (!own(href)) found.push("link " + href);
  }
  for (const el of document.querySelectorAll("img, image, source, video, audio, iframe")) {
    const src = el.getAttribute("src") || el.getAttribute("href") || el.getAttribute("xlink:href") || "";
    if (!own(src)) found.push("image " + src);
  }
  for (const el of document.querySelectorAll("b, strong, em, i, tspan")) {
    const text = el.textContent.trim();
    const bold = el.tagName.toLowerCase() !== "tspan" || /bold|italic/.test(el.getAttribute("style") || "");
    if (bold && emphasis.includes(text)) found.push("emphasis " + el.tagName + " " + text);
  }
  for (const el of document.querySelectorAll("code")) {
    if (codes.includes(el.textContent.trim())) found.push("code " + el.textContent);
  }
  for (const el of document.querySelectorAll(".katex, [aria-label='warning icon']")) {
    found.push("markup " + el.className + " " + el.textContent);
  }
  for (const el of document.querySelectorAll(".stMarkdownColoredText")) {  // the app colours its own deltas
    if (el.textContent.trim() === "x") found.push("coloured " + el.textContent);
  }
  for (const el of document.querySelectorAll("*")) {
    for (const attribute of el.attributes) {
      const text = ["title", "aria-label", "value"].includes(attribute.name) || attribute.name.startsWith("data-");
      if (attribute.value.includes("beacon.invalid") && !text)  // a select box's value is text
        found.push("attribute " + el.tagName + " " + attribute.name + "=" + attribute.value);
    }
  }
  return found;
}"""
EMPHASIS = [*EMPHASIS_WORDS, "points", "treat", "b"]  # what **bold**, <b>hostile-b</b>, __under__ ... would make bold
CODES = ["code", "aa", "c"]  # what `code`, `aa`, `c` would make code spans


HOSTILE_CHANNEL = f"{TOKENS[3]} web"  # the report is filtered to this channel


def visible_text(page) -> str:
    """The page's text as a reader sees it: without the invisible word joiners that keep "https:" in data
    from becoming a link."""
    return page.evaluate("document.body.textContent").replace(WORD_JOINER, "")


@pytest.fixture(scope="module")
def browser_walk(hostile_store, tmp_path_factory):
    """Every page in both languages, an open filter list and the downloaded report, in Chromium:
    {problems: what the audit found, foreign: requests to other hosts, texts: page text by (page, language),
    report_text}."""
    from playwright.sync_api import sync_playwright

    from browser_support import CHROMIUM, CHROMIUM_ARGS
    from browser_support import PAGES as PAGE_PATHS
    from browser_support import start_server, wait_for_app

    assert Path(CHROMIUM).exists(), f"{CHROMIUM} is missing: run `make browser` (apt-get install chromium)"
    url, process = start_server(hostile_store.root)
    host = urlparse(url).hostname
    walk = {"problems": [], "foreign": [], "texts": {}}

    def audit(page, where: str) -> None:
        walk["problems"] += [f"{where}: {found}" for found in page.evaluate(AUDIT, [EMPHASIS, CODES])]

    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            context = browser.new_context(viewport={"width": 1400, "height": 2400}, accept_downloads=True)
            context.on("request", lambda request: walk["foreign"].append(request.url)
                       if urlparse(request.url).scheme not in ("data", "blob", "about", "file")
                       and urlparse(request.url).hostname != host else None)
            page = context.new_page()
            for name, path in PAGE_PATHS.items():
                for code, language in LANGUAGE_PARAM.items():
                    page.goto(f"{url}/{path}?lang={language}")
                    wait_for_app(page)
                    page.wait_for_timeout(500)  # remote images and fonts would be requested by now
                    audit(page, f"{name} {code}")
                    walk["texts"][name, code] = visible_text(page)
            # the sidebar's channel filter, opened: its options are the hostile channels
            page.goto(url)
            wait_for_app(page)
            page.get_by_test_id("stSidebar").get_by_test_id("stMultiSelect").filter(has_text="Channel").click()
            page.wait_for_timeout(500)
            audit(page, "channel filter")
            walk["texts"]["channel filter", "en"] = visible_text(page)
            page.keyboard.press("Escape")
            # the report of a month filtered to a hostile channel, opened as a file
            page.goto(f"{url}/?month=2025-11&channel={quote(HOSTILE_CHANNEL)}")
            wait_for_app(page)
            with page.expect_download() as download_info:
                page.get_by_role("button", name="Download report (HTML)").click()
            report = tmp_path_factory.mktemp("report") / "report.html"
            download_info.value.save_as(report)
            viewer = context.new_page()
            viewer.goto(report.as_uri())
            viewer.wait_for_function("document.querySelectorAll('.js-plotly-plot .main-svg').length >= 7", timeout=30_000)
            viewer.wait_for_timeout(500)
            audit(viewer, "report")
            walk["report_text"] = visible_text(viewer)
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
    return walk


@pytest.mark.browser
def test_the_browser_shows_hostile_values_as_text(browser_walk):
    assert not browser_walk["problems"], "\n".join(browser_walk["problems"])
    # the hostile values were on the screen, as the characters they are made of
    texts = browser_walk["texts"]
    assert ORDERS_FILE in texts["data", "en"]
    assert EXPERIMENTS["points_double_2025"] in texts["strategy", "zh"]
    assert VARIANTS["treatment"] in texts["strategy", "en"]
    assert f"{TOKENS[4]} silver" in texts["customers", "en"]  # an <img> tier as a tick label
    assert f"{TOKENS[0]} app" in texts["channel filter", "en"]  # a Markdown link as a filter option
    assert HOSTILE_CHANNEL in browser_walk["report_text"]


@pytest.mark.browser
def test_the_pages_and_the_report_fetch_nothing_from_other_hosts(browser_walk):
    """No beacon from data, and nothing else either: every request goes to the app's own server."""
    assert not browser_walk["foreign"], sorted(set(browser_walk["foreign"]))
