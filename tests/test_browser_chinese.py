"""In the browser: a shared ?lang=zh link opens in Chinese, a refused upload says why in Chinese,
and the screenshot review set on a real Tmall export (tests/artifacts/real_tmall_*.png).

Uses the browser, page and server helpers of tests/browser_support.py.
"""

from urllib.parse import unquote

import pytest
from playwright.sync_api import expect

from browser_support import (ARTIFACTS, REAL_EXPORT_VIEWS, ROOT, browser, demo_server, one_month_server,  # noqa: F401
                             page, screenshot_set, serve, store_of, wait_for_app)
from test_chinese import ABBREVIATIONS, data_words

pytestmark = pytest.mark.browser


def test_switching_to_chinese_mid_upload_redraws_every_choice_in_chinese(one_month_server, page):  # noqa: F811
    """The browser keeps the label a radio or selectbox showed last: after a switch of language, the
    "File holds" radio had nothing chosen and the unmapped fields still read "(not in this file)"."""
    page.goto(f"{one_month_server}/data")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(ROOT / "tests" / "fixtures"
                                                                           / "tmall_order_report_excerpt.csv"))
    wait_for_app(page)
    expect(page.get_by_placeholder("(not in this file)").first).to_be_visible()
    page.get_by_test_id("stButtonGroup").get_by_text("中文").click()
    wait_for_app(page)
    expect(page.get_by_role("radio", name="订单")).to_be_checked()
    expect(page.get_by_placeholder("（文件中没有）").first).to_be_visible()
    expect(page.get_by_placeholder("(not in this file)")).to_have_count(0)
    expect(page.get_by_text("(not in this file)")).to_have_count(0)
    expect(page.get_by_test_id("stSelectbox").filter(has_text="订单号").locator("input")).to_have_value("订单编号")


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
def tmall_store(tmp_path_factory):
    """A store holding a real Tmall order report: one month, no buyer column, currency not stated."""
    return store_of(tmp_path_factory.mktemp("tmall"), "tmall_order_report_2000.csv")


@pytest.fixture(scope="module")
def tmall_server(tmall_store):
    yield from serve(tmall_store.root)


def test_screenshots_of_a_real_tmall_export(tmall_server, tmall_store, page):
    """The review set on a real Tmall export (two views a page; every view under `make screenshots`): no
    error, no axis that repeats a tick, no English UI word on the Chinese pages as the browser drew them."""
    screenshot_set(tmall_server, page, "real_tmall_", allowed_words=ABBREVIATIONS | data_words(tmall_store.root),
                   views=REAL_EXPORT_VIEWS)
