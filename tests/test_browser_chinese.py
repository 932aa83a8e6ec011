"""In the browser: a shared ?lang=zh link opens in Chinese, a refused upload says why in Chinese,
and the screenshot review set on a real Tmall export (tests/artifacts/real_tmall_*.png).

Uses the browser, page and server helpers of tests/test_browser.py.
"""

from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from ingest import import_file
from store import Store
from test_browser import (ARTIFACTS, LANGUAGES, PAGES, ROOT, axis_ticks, browser, one_month_server, page,  # noqa: F401
                          start_server, wait_for_app)

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def demo_server(demo_store):
    url, process = start_server(demo_store.root)
    yield url
    process.terminate()
    process.wait(timeout=10)


@pytest.mark.parametrize(("asked", "path", "heading"), [("zh", "", "复购指标看板"), ("zh-CN", "customers", "客户"),
                                                        ("en", "cohorts", "Cohorts")])
def test_a_shared_link_names_the_language_by_its_code(demo_server, page, asked, path, heading):
    page.goto(f"{demo_server}/{path}?lang={asked}")
    wait_for_app(page)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    if asked.startswith("zh"):  # it stays Chinese on the next page and after a rerun; the switch still works
        page.get_by_role("link", name="同期群").click()  # the top navigation
        wait_for_app(page)
        expect(page.get_by_role("heading", name="同期群", exact=True)).to_be_visible()
        page.get_by_text("演示模式", exact=True).click()  # presentation mode: a rerun
        wait_for_app(page)
        expect(page.get_by_role("heading", name="同期群", exact=True)).to_be_visible()
        assert "lang=中文" in unquote(page.url), page.url  # a copied link says so the way the switch does
        page.get_by_test_id("stButtonGroup").get_by_text("English").click()
        wait_for_app(page)
        expect(page.get_by_role("heading", name="Cohorts", exact=True)).to_be_visible()
        page.screenshot(path=ARTIFACTS / f"lang_link_{asked}_then_english.png")


def test_a_refused_upload_in_chinese_says_why_in_chinese(one_month_server, page, tmp_path):  # noqa: F811
    picture = tmp_path / "picture.csv"
    picture.write_bytes((ROOT / "ui" / "favicon.png").read_bytes())
    page.goto(f"{one_month_server}/data?lang=中文")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(picture))
    wait_for_app(page)
    alert = page.get_by_test_id("stAlert").filter(has_text="未导入")
    expect(alert).to_have_text("未导入：picture.csv：文件是图片，不是导出文件；请将订单导出为 CSV 或 Excel。")
    page.screenshot(path=ARTIFACTS / "data_refused_zh.png", full_page=True)


@pytest.fixture(scope="module")
def tmall_server(tmp_path_factory):
    """A store holding a real Tmall order report: one month, no buyer column, currency not stated."""
    store = Store(tmp_path_factory.mktemp("tmall") / "store")
    import_file(ROOT / "tests" / "fixtures" / "real" / "tmall_order_report_2000.csv", store)
    url, process = start_server(store.root)
    yield url
    process.terminate()
    process.wait(timeout=10)


def test_screenshots_of_a_real_tmall_export(tmall_server, page):
    """The review set on a real Tmall export: every page x language x presentation mode, no error,
    no axis that repeats a tick."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.set_viewport_size({"width": 1400, "height": 2400})
    for name, path in PAGES.items():
        for code, language in LANGUAGES.items():
            for present in (False, True):
                page.goto(f"{tmall_server}/{path}?lang={language}" + ("&present=true" if present else ""))
                wait_for_app(page)
                for ticks in axis_ticks(page):
                    assert len(ticks) == len(set(ticks)), (name, code, ticks)
                suffix = "_presentation" if present else ""
                page.screenshot(path=ARTIFACTS / f"real_tmall_{name}_{code}{suffix}.png", full_page=True)

