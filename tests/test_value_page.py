"""The Customer value page (issue 15, and issue 16's two points on it): cut-off, model and settings
from the URL, the holdout check and its plain sentence, the horizon in the tile, a margin out of range."""

from datetime import date
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from metrics import clv
from metrics.formatting import format_value
from store import STORE_ENV

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


@pytest.fixture
def value_page(monkeypatch, demo_store):
    def make(**params) -> AppTest:
        monkeypatch.setenv(STORE_ENV, str(demo_store.root))
        app = AppTest.from_file(APP, default_timeout=120)
        app.run()
        app.switch_page("pages/value.py")
        for key, value in params.items():  # a link straight to the page
            app.query_params[key] = value
        app.run()
        assert not app.exception, [e.value for e in app.exception]
        return app

    return make


def shown(element) -> str:
    """Markdown text as the reader sees it (escapes and word joiners removed)."""
    return element.value.replace("\\", "").replace("\u2060", "")


def test_value_page_from_the_url(value_page, demo_store):
    app = value_page(cutoff="2025-07-01", horizon="24", model="bgnbd")
    tiles = {m.label: m.value for m in app.metric}
    con = demo_store.connect()
    frame = clv.customer_predictions(con, horizon_months=24, purchase_model="bgnbd")
    con.close()
    currency = demo_store.currency()
    assert tiles["Expected orders, next 24 months"] == format_value(frame["expected_orders_horizon"].sum(), "count",
                                                                    compact=True)
    assert tiles["Predicted value, next 24 months"] == format_value(frame["predicted_clv"].sum(), "money",
                                                                    currency=currency, compact=True)
    sentence = shown(app.info[0])
    assert "fitted up to 2025-07-01, BG/NBD predicted the repeat orders until 2025-12-31" in sentence
    # the demo's holdout (July to December 2025) holds the November and December peak
    assert any("2025-11, 2025-12, a seasonal peak" in shown(w) for w in app.warning)
    assert app.date_input(key="cutoff").value == date(2025, 7, 1)
    assert app.caption[0].value.startswith("The sidebar filters do not apply here")  # said first
    assert "Predicted with BG/NBD" in app.caption[1].value


def test_value_page_auto_says_which_model_won(value_page, demo_store):
    app = value_page()
    con = demo_store.connect()
    report = clv.ltv_report(con, predictions=False)
    con.close()
    errors = {name: entry["holdout"]["mape_cumulative"] for name, entry in report["models"].items()}
    winner = min(errors, key=errors.get)
    labels = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}
    assert f"{labels[winner]} predicted" in shown(app.info[0]) and "smallest error" in shown(app.info[0])


def test_value_page_margin_out_of_range_is_not_used(value_page):
    app = value_page(value_margin="1.5")
    assert any("1.5 is not between 0 and 1" in e.value for e in app.error)
    assert "30% margin" in app.caption[1].value
    normal = value_page()
    assert {m.label: m.value for m in app.metric} == {m.label: m.value for m in normal.metric}


def test_value_page_in_chinese(value_page):
    app = value_page(lang="中文", horizon="6")
    assert "未来 6 个月预期订单" in [m.label for m in app.metric]
    assert any("检验期包含季节性高峰" in shown(w) for w in app.warning)
    assert any("\u4e00" <= ch <= "\u9fff" for ch in app.info[0].value)


@pytest.mark.parametrize(("language", "expected"), [
    ("English", "Customer value is predicted per customer, and these orders have no customer id. Upload an export "
                "with a customer column to see it."),
    ("中文", "客户价值按客户预测，而这些订单没有客户编号。上传含客户列的导出文件即可查看。"),
])
def test_value_page_on_orders_without_customer_ids_says_why_it_has_nothing(tmp_path, monkeypatch, language, expected):
    """A real Tmall order report has no buyer column: the page once crashed ("no valid orders from
    identified customers") instead of saying so."""
    from ingest import import_file
    from store import Store
    from tests.conftest import open_app

    store = Store(tmp_path / "store")
    import_file(Path(__file__).resolve().parent / "fixtures" / "real" / "tmall_order_report_2000.csv", store)
    assert store.connect().execute("select count(*) from customers").fetchone() == (0,)
    app = open_app(monkeypatch, store.root, "pages/value.py", lang=language)
    assert [i.value for i in app.info] == [expected]
    assert not app.metric and not app.get("plotly_chart")


@pytest.mark.parametrize("page", ["pages/cohorts.py", "pages/customers.py"])
def test_customer_pages_on_orders_without_customer_ids_blame_no_filter(tmp_path, monkeypatch, page):
    """Cohorts and Customers on the Tmall report said "No orders match these filters. Widen the date
    range..." with no filter set."""
    from ingest import import_file
    from store import Store
    from tests.conftest import open_app

    store = Store(tmp_path / "store")
    import_file(Path(__file__).resolve().parent / "fixtures" / "real" / "tmall_order_report_2000.csv", store)
    app = open_app(monkeypatch, store.root, page, lang="中文")
    assert [i.value for i in app.info] == ["这些订单没有客户编号，本页无内容可显示：本页按客户追踪其历次购买。上传含客户列的导出文件即可查看。"]
    assert not app.warning


def test_value_by_tier_in_tier_order(value_page):
    """The tier bars read diamond, gold, none, silver (alphabetical codes) before."""
    import json

    app = value_page(lang="中文")
    chart = next(c for c in app.get("plotly_chart") if c.proto.id and "clv_by_member_tier" in c.proto.id)
    assert json.loads(chart.proto.spec)["data"][0]["y"] == ["非会员", "银卡会员", "金卡会员", "钻石会员"]


def test_a_model_at_its_boundary_predicts_with_its_limit_and_says_so(tmp_path, monkeypatch):
    """On two real Etsy exports BG/NBD's parameters run off (a = 7e10, b = 1.6e10). The page first showed
    "-$∞" (its NaN error sorted first), then "Not usable", then "$0.00". None was true: its likelihood is
    highest where a and b grow together, the common-dropout limit (checked by hand in
    tests/test_clv_common_dropout.py), which predicts finite, positive orders."""
    import json

    from ingest import import_file
    from store import Store
    from tests.conftest import open_app

    store = Store(tmp_path / "store")
    for name in ("etsy_sold_orders_2022.csv", "etsy_sold_orders_2023.csv"):
        import_file(Path(__file__).resolve().parent / "fixtures" / "real" / name, store)
    con = store.connect()
    report = clv.ltv_report(con, predictions=False)
    frame = clv.customer_predictions(con, purchase_model="bgnbd")
    con.close()
    labels = {"bgnbd": "BG/NBD", "mbgnbd": "MBG/NBD", "paretonbd": "Pareto/NBD"}
    errors = {name: entry["holdout"]["mape_cumulative"] for name, entry in report["models"].items()}
    assert all(np.isfinite(v) for v in errors.values()), errors  # no model blows up on this store any more

    chosen = open_app(monkeypatch, store.root, "pages/value.py", timeout=180, lang="English")
    tiles = [m.value for m in chosen.metric]
    assert tiles[0].startswith("$") and not any("∞" in v or v == "–" for v in tiles), tiles
    assert f"{report['cutoff']}, {labels[min(errors, key=errors.get)]} " in shown(chosen.info[0])
    # Etsy has no tiers: a chart with the one bar "non-members" compared nothing (UCI showed it too)
    assert not [c for c in chosen.get("plotly_chart") if "clv_by_member_tier" in (c.proto.id or "")]
    assert [c for c in chosen.get("plotly_chart") if "clv_by_rfm_segment" in (c.proto.id or "")]

    asked = open_app(monkeypatch, store.root, "pages/value.py", timeout=180, lang="English", model="bgnbd")
    tiles = {m.label: m.value for m in asked.metric}
    assert tiles["Expected orders, next 12 months"] == format_value(frame["expected_orders_horizon"].sum(), "count",
                                                                    compact=True)
    assert frame["expected_orders_horizon"].sum() > 1 and frame["predicted_clv"].sum() > 0
    assert tiles["Predicted value, next 12 months"] == format_value(frame["predicted_clv"].sum(), "money",
                                                                    currency=store.currency(), compact=True)
    assert f"{report['cutoff']}, BG/NBD " in shown(asked.info[0]) and not asked.info[0].value.startswith("Not usable")
    assert any(shown(w).startswith("Customers do not differ in how likely they are to stop: the BG/NBD likelihood is "
                                   "highest at its boundary") for w in asked.warning), [w.value for w in asked.warning]
    # one boundary note: the check's fit (to the cut-off) and the predictions' fit (every order) both reach the
    # limit with other parameters; two such notes side by side read as a contradiction
    boundary = [w for w in asked.warning if "likelihood is highest at its boundary" in shown(w)]
    assert len(boundary) == 1, [w.value for w in boundary]


def test_customers_who_never_stop_get_one_no_dropout_note(tmp_path, monkeypatch):
    """Customers who buy at their own steady rate and never stop (no dropout, planted): the fit to the
    cut-off and the fit on every order both reach the NBD limit, with different parameters. On UCI Online
    Retail the page showed both notes, each "No dropout detected in the calibration period: the BG/NBD
    likelihood is highest at its boundary" with other numbers, which reads as a contradiction."""
    import csv
    from datetime import datetime, timedelta

    from ingest import import_file
    from store import Store
    from tests.conftest import open_app

    rng = np.random.default_rng(7)
    start, end = datetime(2023, 1, 1), datetime(2024, 12, 31)
    path = tmp_path / "steady.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["order_id", "customer_id", "order_ts", "amount"])
        order = 0
        for customer in range(600):
            rate = rng.gamma(1.5, 1 / 40)  # orders per day: a mean gap of ~27 days, differing by customer
            when = start + timedelta(days=float(rng.uniform(0, 180)))
            while when <= end:
                order += 1
                writer.writerow([f"o{order}", f"c{customer}", when.strftime("%Y-%m-%d %H:%M:%S"),
                                 f"{rng.gamma(4, 10):.2f}"])
                when += timedelta(days=float(rng.exponential(1 / rate)))
    store = Store(tmp_path / "store")
    import_file(path, store)

    app = open_app(monkeypatch, store.root, "pages/value.py", timeout=180, lang="English", model="bgnbd")
    boundary = [shown(w) for w in app.warning if "No dropout detected" in shown(w)]
    assert len(boundary) == 1, boundary
    # no membership and no channel in the file: no one-bar charts for them
    charts = [c.proto.id or "" for c in app.get("plotly_chart")]
    assert not [c for c in charts if "clv_by_member_tier" in c or "clv_by_first_channel" in c], charts
    # nobody is slipping away when nobody stops: a sentence, not an empty grid reading "empty"
    assert any(c.value.startswith("No valuable customer is below 50% P(alive)") for c in app.caption)
    customer_lists = [d for d in app.dataframe if "customer_id" in d.value.columns]
    assert len(customer_lists) == 1 and len(customer_lists[0].value) > 0  # the top customers only
    # no membership: no tier column ("non-member" for everyone was a claim the data does not make)
    assert "member_tier" not in customer_lists[0].value.columns
