"""The real app in headless Chromium, driven by Playwright (tests/browser_support.py).

Every page in both languages, with and without presentation mode, is checked as drawn; `make screenshots`
also pictures each whole to tests/artifacts/ for a person to look at (other tests picture what they check
there on every run), with the page load times measured in the browser (tests/artifacts/page_times.txt).
"""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_support import (ARTIFACTS, LANGUAGES, REAL_EXPORT_VIEWS, ROOT, axis_ticks, browser,  # noqa: F401
                             column_edges, demo_server, empty_server, one_month_server, page, screenshot_set, serve,
                             store_of, tile, wait_for_app)
from conftest import fixture
from test_chinese import ABBREVIATIONS, data_words

pytestmark = pytest.mark.browser


def test_every_page_in_both_languages(demo_server, demo_store, page):
    """The review set on the demo; the Chinese pages, as drawn, show no English UI word."""
    times = screenshot_set(demo_server, page, allowed_words=ABBREVIATIONS | data_words(demo_store.root))
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


def test_a_quick_range_sets_the_dates_and_a_shared_link_shows_it_chosen(demo_server, demo_store, page):
    con = demo_store.connect()
    (latest_full,) = con.execute("select cast(date_trunc('month', max(order_ts) filter (where is_valid) + interval 1 day)"
                                 " - interval 1 month as date) from orders").fetchone()
    con.close()
    start = latest_full.replace(year=latest_full.year - (latest_full.month <= 5), month=(latest_full.month - 6) % 12 + 1)
    page.goto(f"{demo_server}/customers")
    wait_for_app(page)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("Last 6 months", exact=True).click()
    wait_for_app(page)
    expect(page.get_by_test_id("stAlert").filter(has_text=f"Filters: {start:%Y-%m-%d}")).to_be_visible()
    assert f"from={start:%Y-%m-%d}" in page.url
    page.goto(page.url)  # the shared link: the same range, shown chosen
    wait_for_app(page)
    expect(sidebar.locator("button[aria-checked=true]")).to_have_text("Last 6 months")
    expect(sidebar.get_by_test_id("stDateInputField").first.locator("input")).to_have_value(f"{start:%Y-%m-%d}")


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


def test_due_list_download_holds_every_customer_due_not_only_those_listed(demo_server, demo_store, page):
    """The page lists the 500 most valuable customers due; the CSV, made on the click, holds them all."""
    from metrics.due import due_for_repurchase

    every = due_for_repurchase(demo_store.connect())
    page.goto(f"{demo_server}/customers")
    wait_for_app(page)
    expect(page.get_by_text(f"Due for repurchase: {len(every):,} customers")).to_be_visible()
    expect(page.get_by_text(f"The 500 most valuable are listed here; the downloads hold all {len(every):,}.")).to_be_visible()
    with page.expect_download() as download_info:
        page.get_by_role("button", name="⬇ CSV").last.click()
    lines = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("customer_id,") and len(lines) == len(every) + 1 > 501
    assert [line.split(",")[0] for line in lines[1:]] == every["customer_id"].tolist()


def test_upload_on_data_page_shows_on_overview(empty_server, page):
    page.goto(f"{empty_server}/data")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(fixture("shopify_orders.csv")))
    wait_for_app(page)
    expect(page.get_by_text("Recognised format")).to_be_visible()
    page.get_by_role("button", name="Import").click()
    wait_for_app(page)
    expect(page.get_by_text("Imported 6 orders from 7 rows of shopify_orders.csv")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The file is not in UTF-8")).to_have_count(0)  # it is
    wait_for_app(page)
    page.screenshot(path=ARTIFACTS / "data_after_upload_en.png", full_page=True)
    page.goto(f"{empty_server}/?month=2024-03")
    wait_for_app(page)
    # March 2024: #1006 by carol is the only valid order (bob's two are cancelled)
    expect(tile(page, "Revenue")).to_have_text("$1,250.00")
    expect(tile(page, "New customers")).to_have_text("1")


def test_an_upload_not_in_utf8_says_how_it_was_read(empty_server, page):
    page.goto(f"{empty_server}/data")
    wait_for_app(page)
    page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(fixture("taobao_orders_gbk.csv")))
    wait_for_app(page)
    page.get_by_role("button", name="Import").click()
    wait_for_app(page)
    expect(page.get_by_text("Imported 5 orders from 5 rows of taobao_orders_gbk.csv")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("The file is not in UTF-8: it was read as GB18030.")).to_be_visible()


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
def real_export_store(tmp_path_factory):
    """A store holding two real Etsy exports (2022 to mid-July, and 2023): a gap, a stated currency."""
    return store_of(tmp_path_factory.mktemp("real"), "etsy_sold_orders_2022.csv", "etsy_sold_orders_2023.csv")


@pytest.fixture(scope="module")
def real_export_server(real_export_store):
    yield from serve(real_export_store.root)


def test_screenshots_of_a_real_export(real_export_server, real_export_store, page):
    """The review set on a real export (two views a page; every view under `make screenshots`): no error,
    no English UI word on the Chinese pages."""
    screenshot_set(real_export_server, page, "real_", allowed_words=ABBREVIATIONS | data_words(real_export_store.root),
                   views=REAL_EXPORT_VIEWS)


def table_fits(frame) -> tuple[list[str], list[int]]:
    """A st.dataframe's column headers and its grid's [scrollWidth, clientWidth]: the grid draws every
    column whole, header included, and clips the ones past its right border (then it scrolls sideways)."""
    frame.locator("th").first.wait_for(state="attached", timeout=60_000)
    frame.scroll_into_view_if_needed()
    headers = [h.inner_text() for h in frame.locator("th").all()]
    return headers, frame.evaluate("f => [f.querySelector('.dvn-scroller').scrollWidth,"
                                   " f.querySelector('.dvn-scroller').clientWidth]")


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
@pytest.mark.parametrize("language", LANGUAGES.values())
def test_strategy_tables_fit_at_1400_px(demo_server, page, language, present):
    """With CUPED on, the results table once scrolled sideways at 1440 px for its three CUPED columns, the
    scorecard's last header "Customers (control / variant)" was cut at 1400 px, and later the results
    table's (13 px). Now "Customers per arm"; the scorecard, the results (95% CI column on screen) and the
    CUPED adjustment, a table of its own, fit at 1400 px: no table scrolls sideways."""
    page.set_viewport_size({"width": 1400, "height": 900})
    page.goto(f"{demo_server}/strategy?lang={language}&cuped=true" + ("&present=true" if present else ""))
    wait_for_app(page)
    frames = page.get_by_test_id("stDataFrame")
    headers, widths = table_fits(frames.nth(0))  # the scorecard
    assert headers[-1] in ("Customers per arm", "人数（对照组 / 实验组）"), headers
    assert widths[0] <= widths[1] + 1, (headers, widths)
    interval = ("95% CI", "95% 置信区间")
    tables = [table_fits(frame) for frame in frames.all()[1:3]]  # the chosen experiment's results, its CUPED lift
    assert len(tables) == 2 and all(set(interval) & set(headers) for headers, _ in tables), tables
    assert not [h for headers, _ in tables for h in headers if h.startswith("cuped")], tables  # every header worded
    for (headers, widths), frame in zip(tables, frames.all()[1:3]):
        assert widths[0] <= widths[1] + 1, (headers, widths)  # every column in view: nothing to scroll to
        at = [i for i, h in enumerate(headers) if h in interval][0]
        edges = column_edges(page, frame)
        assert len(edges) > at and edges[at] <= 1400, (headers, edges)  # the interval's right edge is drawn, on screen
    suffix = "_presentation" if present else ""
    page.screenshot(path=ARTIFACTS / f"strategy_cuped_1400_{'zh' if language == '中文' else 'en'}{suffix}.png")


@pytest.mark.parametrize("code", LANGUAGES)
def test_customer_value_lists_fit_at_1440_px(demo_server, page, code):
    """The most valuable and the slipping customers had 14 columns and scrolled sideways at 1440 px: on
    screen now the eight a manager acts on, whole, normal and presentation mode; the CSV keeps all 14."""
    shown = {"en": ["Customer", "Member tier", "Last order", "Repeat orders", "Historical revenue", "P(alive)",
                    "Expected next order", "Predicted value, 12 months"],
             "zh": ["客户", "会员等级", "最近下单日", "复购次数", "历史消费", "存活概率", "预计下次下单", "12 个月预测价值"]}
    page.set_viewport_size({"width": 1440, "height": 900})
    for present in (False, True):
        page.goto(f"{demo_server}/value?lang={LANGUAGES[code]}" + ("&present=true" if present else ""))
        wait_for_app(page)
        lists = page.get_by_test_id("stDataFrame").all()[:2]  # the slipping and the most valuable customers
        for frame in lists:
            headers, widths = table_fits(frame)
            assert widths[0] <= widths[1] + 1, (present, headers, widths)  # nothing to scroll to
            assert headers == shown[code], headers
    page.screenshot(path=ARTIFACTS / f"value_lists_1440_{code}_presentation.png")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="⬇ CSV").last.click()
    header = Path(download_info.value.path()).read_text(encoding="utf-8-sig").splitlines()[0]
    assert header.split(",") == ["customer_id", "member_tier", "first_channel", "last_purchase", "x", "historical_revenue",
                                 "p_alive", "risk_band", "expected_orders_90", "expected_orders_365",
                                 "expected_next_order", "expected_aov", "predicted_clv", "total_clv"], header


@pytest.mark.parametrize("present", [False, True], ids=["normal", "presentation"])
@pytest.mark.parametrize("code", LANGUAGES)
def test_playbook_sentences_are_whole_at_1440_px(demo_server, demo_store, page, code, present):
    """The seven strategies' sentences were cut off at the screen's right edge (st.dataframe does not
    wrap): every cell now shows its whole sentence inside a 1440 px window, normal and presentation."""
    from metrics.playbook import playbook
    from ui.playbook_text import strategy_table

    assert not (demo_store.root / "launches.json").exists()  # no saved launch: the evidence below is all there is
    con = demo_store.connect()
    expected = strategy_table(playbook(con), code)
    con.close()
    page.set_viewport_size({"width": 1440, "height": 900})
    page.goto(f"{demo_server}/playbook?lang={LANGUAGES[code]}" + ("&present=true" if present else ""))
    wait_for_app(page)
    table = page.get_by_test_id("stTable").first
    cells = table.locator("tbody tr").evaluate_all(
        "rows => rows.map(row => [...row.querySelectorAll('td, th')].map(cell => ({text: cell.innerText,"
        " right: cell.getBoundingClientRect().right, cut: cell.scrollWidth > cell.clientWidth + 1})))")
    shown = [[" ".join(cell["text"].replace("\u2060", "").split()) for cell in row] for row in cells]  # joiners: unseen
    assert shown == [[" ".join(str(v).split()) for v in row] for row in expected.itertuples(index=False)]
    assert all(cell["right"] <= 1440 and not cell["cut"] for row in cells for cell in row), cells
    assert table.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # no sideways scrolling either
    page.screenshot(path=ARTIFACTS / f"playbook_1440_{code}{'_presentation' if present else ''}.png")


@pytest.mark.parametrize("code", LANGUAGES)
def test_launch_page_shows_a_change_that_rounds_to_zero_as_0_00(demo_server, demo_store, page, code):
    """Region Northwest from 2024-06-01 over 60 days: a DiD of -0.0017, once "-0.00" on the tile."""
    from datetime import date

    from metrics.launch import evaluate_launch

    con = demo_store.connect()
    did = evaluate_launch(con, date(2024, 6, 1), "region", ["Northwest"], 60, False)["did"]["estimate"]
    con.close()
    assert -0.005 < did < 0  # the case this test is about
    page.set_viewport_size({"width": 1400, "height": 2600})
    page.goto(f"{demo_server}/launch?lang={LANGUAGES[code]}&launch_at=2024-06-01&launch_column=region"
              "&launch_values=Northwest&launch_window=60")
    wait_for_app(page)
    values = page.get_by_test_id("stMetricValue").all_inner_texts()
    assert len(values) == 2 and values[1] == "0.00", values  # naive change, then the DiD
    text = page.locator('[data-testid="stMain"]').inner_text()
    assert not re.search(r"(?<![\d.])[-−]\s?[¥$]?0\.0+(?![\d.])", text), text
    page.screenshot(path=ARTIFACTS / f"launch_result_{code}.png", full_page=True)
