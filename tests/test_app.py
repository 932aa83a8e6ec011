"""Every page through Streamlit's AppTest: demo store, empty store, filters from the URL, both languages."""

from datetime import date

import pytest
from streamlit.testing.v1 import AppTest

from metrics.filters import Filters
from metrics.formatting import format_value
from metrics.kpis import kpi_row
from conftest import fixture, open_app
from hostile import as_read

PAGES = ["pages/overview.py", "pages/cohorts.py", "pages/customers.py", "pages/value.py", "pages/strategy.py",
         "pages/playbook.py", "pages/data.py"]
LANGUAGE_PARAM = {"en": "English", "zh": "中文"}


@pytest.fixture
def open_page(monkeypatch):
    def make(store_root, page="pages/overview.py", **params) -> AppTest:
        return open_app(monkeypatch, store_root, page, **params)

    return make


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("language", ["en", "zh"])
def test_every_page_renders_on_demo_store(open_page, demo_store, page, language):
    app = open_page(demo_store.root, page, lang=LANGUAGE_PARAM[language])
    title = app.title[0].value
    assert title and (any("\u4e00" <= ch <= "\u9fff" for ch in title) == (language == "zh"))
    if page not in ("pages/data.py", "pages/value.py"):
        assert not app.warning and not app.info


@pytest.mark.parametrize("page", PAGES)
def test_every_page_explains_an_empty_store(open_page, tmp_path, page):
    app = open_page(tmp_path / "empty", page)
    if page == "pages/data.py":
        assert app.get("file_uploader")  # the way to fill it
    else:
        assert "No orders yet" in app.info[0].value


@pytest.mark.parametrize("page", PAGES[:3])
def test_a_filter_that_selects_nothing_says_so(open_page, demo_store, page):
    app = open_page(demo_store.root, page, **{"from": "2023-01-01", "to": "2023-01-01", "member_tier": "diamond",
                                              "channel": "store", "region": "Northwest"})
    assert app.warning and "No orders match" in app.warning[0].value


def test_overview_tiles_match_the_metric_layer_and_follow_url_filters(open_page, demo_store):
    con = demo_store.connect()
    month = date(2025, 12, 1)
    overall = kpi_row(con, month)
    gold = kpi_row(con, month, Filters(member_tier=("gold",)))
    app = open_page(demo_store.root, month="2025-12")
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["Repurchase rate"] == format_value(overall["repurchase_rate"], "rate")
    assert tiles["AOV"] == format_value(overall["aov"], "money")
    filtered = open_page(demo_store.root, month="2025-12", member_tier="gold")
    tiles = {m.label: m.value for m in filtered.metric}
    assert tiles["Purchase frequency"] == format_value(gold["frequency"], "ratio")
    assert gold["frequency"] != overall["frequency"]
    sentence = [m.value for m in filtered.markdown if m.value.startswith("**")][0]
    assert " to " in sentence or "No headline KPI" in sentence


def test_presentation_mode_shows_one_kpi_set(open_page, demo_store):
    app = open_page(demo_store.root, present="true")
    assert [m.label for m in app.metric] == ["Repurchase rate", "Purchase frequency", "AOV", "Revenue per customer"]
    assert not app.get("plotly_chart")


def test_tile_deltas_carry_their_sign_in_both_languages(open_page, demo_store):
    """st.metric colours a delta by its leading sign, so the number must come first in Chinese too."""
    for language in ("English", "中文"):
        app = open_page(demo_store.root, month="2025-12", lang=language)
        deltas = [m.proto.delta for m in app.metric if m.proto.delta]
        assert deltas and all(d[0] in "+-" for d in deltas), deltas


def test_a_stated_currency_cannot_be_relabelled_in_the_url(open_page, demo_store):
    """Amounts are never converted: yuan shown with a dollar sign would be wrong numbers on a shared screen."""
    tiles = {m.label: m.value for m in open_page(demo_store.root, month="2025-12").metric}
    assert tiles["AOV"].startswith("¥")  # the demo store's own currency (CNY)
    app = open_page(demo_store.root, month="2025-12", currency="USD")
    assert {m.label: m.value for m in app.metric}["AOV"].startswith("¥")
    box = app.selectbox(key="currency")
    assert box.options == ["CNY"] and box.disabled


def test_counts_in_sentences_read_naturally():
    from ui.i18n import count, t

    assert [count(1, "row"), count(7, "row"), count(1234, "order"), count(1, "row", "zh")] == ["1 row", "7 rows",
                                                                                              "1,234 orders", "1"]
    assert t("imported", orders=count(5, "order"), rows=count(6, "row"), file="jan.csv", rejected=count(1, "row"),
             warnings=count(0, "warning")) == "Imported 5 orders from 6 rows of jan.csv; 1 row rejected, 0 warnings."


def test_the_active_filters_are_named_above_the_numbers(open_page, demo_store):
    """Presentation mode hides the sidebar: the screen itself must say it shows gold members on the app."""
    for present in ("true", "false"):
        app = open_page(demo_store.root, member_tier="gold", channel="app", present=present)
        named = [as_read(i.value) for i in app.info]
        assert any("Member tier: gold members" in n and "Channel: app" in n for n in named), named
    chinese = open_page(demo_store.root, member_tier="gold", channel="app", lang="中文")
    assert any("会员等级：金卡会员" in as_read(i.value) for i in chinese.info), [i.value for i in chinese.info]
    for page in ("pages/cohorts.py", "pages/customers.py"):
        assert any("Channel: app" in as_read(i.value) for i in open_page(demo_store.root, page, channel="app").info)
    assert not open_page(demo_store.root).info  # no filter, no line


def test_one_month_of_data_reads_right(open_page, one_month_store):
    """An old export of 1-20 May 2024: no trend lines of one point, no claim about a last month that
    does not exist, and no 'its numbers will still change' for a month years ago."""
    app = open_page(one_month_store.root)
    charts = [c.proto.id for c in app.get("plotly_chart")]
    assert not charts, charts
    captions = [c.value for c in app.caption]
    assert any("Trends need at least two months" in c for c in captions), captions
    assert any("2024-05 is only partly covered: the data ends on 2024-05-20" in c for c in captions), captions
    assert not [w.value for w in app.warning if "not complete yet" in w.value]
    bold = [m.value for m in app.markdown if m.value.startswith("**")]
    assert bold == ["**2024-05 is the first month of the data: there is no earlier month to compare with.**"], bold
    # no "– vs last year" under each tile, no slider choosing how many of the one month to show
    assert not [m.value for m in app.markdown if "last year" in m.value], [m.value for m in app.markdown]
    assert not app.slider
    cohorts = open_page(one_month_store.root, "pages/cohorts.py")
    assert len(cohorts.get("plotly_chart")) == 1  # the heatmap; no empty retention curves
    assert any("Retention curves need" in c.value for c in cohorts.caption)


def test_a_month_not_in_the_data_is_named_not_skipped(open_page, one_month_store):
    app = open_page(one_month_store.root, month="2023-02")
    warnings = [as_read(w.value) for w in app.warning]
    assert any("no orders in 2023-02" in w and "showing 2024-05" in w for w in warnings), warnings
    assert app.subheader[0].value == "Headline KPIs for 2024-05"


def test_month_axes_name_months_in_both_languages():
    import pandas as pd

    from ui import charts

    frame = pd.DataFrame({"period": [pd.Timestamp("2024-05-01")], "aov": [159.3], "is_complete": [True]})
    for language, label in (("en", "May<br>2024"), ("zh", "5月<br>2024年")):
        figure = charts.trend(frame, "aov", "AOV", language, "CNY")
        assert list(figure.layout.xaxis.ticktext) == [label]
        low, high = (pd.Timestamp(v) for v in figure.layout.xaxis.range)
        assert low < pd.Timestamp("2024-05-01") < high and (high - low).days >= 30  # a month, not milliseconds
        assert figure.layout.yaxis.tickprefix == "¥"  # revenue-like axes carry the currency
    # a year: the year named under the first month and under January only (2024年 under each ran together)
    year = pd.DataFrame({"period": pd.date_range("2024-03-01", "2025-02-01", freq="MS"), "aov": 1.0,
                         "is_complete": True})
    ticks = list(charts.trend(year, "aov", "AOV", "zh", "CNY").layout.xaxis.ticktext)
    assert ticks[:3] == ["3月<br>2024年", "4月", "5月"] and ticks[-2:] == ["1月<br>2025年", "2月"]


def test_numbers_read_as_people_write_them():
    """No '-0.0%', no p of 0.000000000000001, downloads with whole counts and months as 2023-01."""
    import pandas as pd

    from metrics.formatting import format_change, format_p
    from ui.tables import for_download

    assert format_change(-0.00001, "money") == "0.0%" and format_value(-0.0000004, "rate") == "0.0%"
    assert format_change(-0.0004, "rate") == "0.0 pt" and format_change(-0.021, "rate") == "-2.1 pt"
    assert [format_p(1e-15), format_p(0.0009), format_p(0.96667)] == ["< 0.001", "< 0.001", "0.967"]
    frame = pd.DataFrame({"period": pd.to_datetime(["2023-01-01", "2023-02-01"]), "orders": [1344.0, None],
                          "aov": [12.5, 13.0]})
    csv = for_download(frame).to_csv(index=False)
    assert csv.splitlines() == ["period,orders,aov", "2023-01,1344,12.5", "2023-02,,13.0"]


@pytest.mark.parametrize(("value", "english", "chinese"), [
    (7_960_000, "¥7.96M", "¥796万"),  # was ¥8M: 7.95M and 8.04M read the same
    (10_400, "¥10.4K", "¥1.04万"),  # was ¥1万 in Chinese, whose unit is 10,000
    (426_935, "¥427K", "¥42.7万"),
    (999_600, "¥1M", "¥100万"),  # rounded before the unit is chosen, never 1000K
    (99_600, "¥99.6K", "¥9.96万"),  # rounding did not add a digit: not ¥100K
    (9_960_000, "¥9.96M", "¥996万"),
    (12_340_000, "¥12.3M", "¥1230万"),  # 万 up to 9,999万: the fourth digit is the rounded value's own
    (-12_345, "-¥12.3K", "-¥1.23万"),
])
def test_large_amounts_on_tiles_keep_three_significant_digits_in_both_languages(value, english, chinese):
    assert format_value(value, "money", "en", "CNY", compact=True) == english
    assert format_value(value, "money", "zh", "CNY", compact=True) == chinese
    assert format_value(abs(value), "count", "zh", compact=True) == chinese.lstrip("-¥")


def test_tiers_in_tier_order_and_tables_in_chinese(open_page, demo_store):
    app = open_page(demo_store.root, "pages/customers.py", lang="中文")
    segments = [list(d.value["segment"]) for d in app.dataframe if "segment" in d.value.columns]
    assert ["非会员", "银卡", "金卡", "钻石"] in segments, segments


def test_strategy_tables_show_readable_p_values_and_counts(open_page, demo_store):
    app = open_page(demo_store.root, "pages/strategy.py")
    tables = [d.value for d in app.dataframe]
    results = [t for t in tables if "abs_lift" in t.columns][0]
    assert all(p == "< 0.001" or len(p.split(".")[-1]) == 3 for p in results["p_holm"]), results["p_holm"]
    totals = [t for t in tables if "matured" in t.columns][0]
    assert {"sum_y", "sum_y2"}.isdisjoint(totals.columns) and {"n", "mean"} <= set(totals.columns)
    summaries = [m.value for m in app.markdown if m.value.startswith("- **")]
    assert summaries and all("Holm" in s for s in summaries), summaries


def test_tables_show_no_english_none_for_missing_values(open_page, tmp_path):
    """Etsy exports have no member tier: the due-for-repurchase table showed "None" in every row, in 中文 too,
    then "非会员" (non-member), a claim the data does not make: the column is left out."""
    from ingest import import_file
    from store import Store

    store = Store(tmp_path / "store")
    for name in ("etsy_sold_orders_2022.csv", "etsy_sold_orders_2023.csv"):
        import_file(fixture("real") / name, store)
    app = open_page(store.root, "pages/customers.py", lang="中文")
    due = next(d.value for d in app.dataframe if "days_overdue" in d.value.columns)
    assert "member_tier" not in due.columns
    for table in (d.value for d in app.dataframe):  # numbers and dates too: Streamlit draws a missing one "None"
        for column in table.columns:
            assert not table[column].isna().any(), column


def test_strategy_tables_show_the_interval_as_one_column(open_page, demo_store):
    """ci_low and ci_high on screen as one "95% CI" column ("-2.1% to +5.3%") around the lift."""
    import re

    app = open_page(demo_store.root, "pages/strategy.py")
    tables = [d.value for d in app.dataframe if "rel_lift" in d.value.columns]
    assert len(tables) == 2  # the scorecard and the chosen experiment's results
    for table in tables:
        assert "ci" in table.columns and not {"ci_low", "ci_high"} & set(table.columns)
        for lift, interval in zip(table["rel_lift"], table["ci"]):  # the screen's percentages are in percent
            low, high = (float(v.replace(",", ""))
                         for v in re.fullmatch(r"([+-]?[\d.,]+)% to ([+-]?[\d.,]+)%", interval).groups())
            assert low - 0.05 <= lift <= high + 0.05, (lift, interval)


def test_the_due_list_shows_its_most_valuable_500_and_counts_them_all(open_page, demo_store):
    """At 100M orders 2.6M customers were due, and the page took every one of them into the table."""
    from metrics.due import due_for_repurchase

    every = due_for_repurchase(demo_store.connect())
    assert len(every) > 500  # the demo has more due than the page lists
    app = open_page(demo_store.root, "pages/customers.py")
    assert f"Due for repurchase: {len(every):,} customers" in [h.value for h in app.subheader]
    assert f"The 500 most valuable are listed here; the downloads hold all {len(every):,}." in [
        c.value for c in app.caption]
    shown = next(d.value for d in app.dataframe if "days_overdue" in d.value.columns)
    assert shown["customer_id"].tolist() == every["customer_id"].head(500).tolist()
    assert {"due_table_csv", "due_table_xlsx"} <= {b.key for b in app.get("download_button")}


@pytest.mark.parametrize(("value", "language", "currency", "text"), [
    (2_150.27, "en", "PKR", "PKR2.15K"),      # behind a code the short form starts at 1,000 in English...
    (2_150.27, "zh", "PKR", "PKR2,150.27"),   # ...not in Chinese, whose short form has no unit below 万
    (1_234.50, "zh", "HKD", "HK$1,234.50"),
    (12_345.60, "zh", "PKR", "PKR1.23万"),
    (250_000, "en", "VND", "₫250K"),
    (9_999.50, "en", "USD", "$9,999.50"),      # a one-character symbol: short from 10,000 only
])
def test_tile_amounts_are_short_only_where_the_short_form_says_so(value, language, currency, text):
    assert format_value(value, "money", language, currency, compact=True) == text


def test_amounts_keep_their_currency_s_own_decimals():
    """Dong and yen have no minor unit: ₫250,000.00 and ¥1,200.00 read as if they had."""
    assert format_value(250_000, "money", "en", "VND") == "₫250,000"
    assert format_value(1_200, "money", "en", "JPY").endswith("1,200")
    assert format_value(12.5, "money", "en", "USD") == "$12.50"
