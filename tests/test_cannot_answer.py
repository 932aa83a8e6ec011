"""Files that cannot answer a question say so: no customer ids -> order-level KPIs only and one
sentence; no membership column -> no members section and no "driven by non-members"."""

import csv
import json
import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from conftest import fixture
from ingest import import_file, status_words_in_file
from metrics.narrative import biggest_move
from store import STORE_ENV, Store
from ui.formatting import currency_name

APP = str(Path(__file__).resolve().parent.parent / "dashboard.py")


def _open(monkeypatch, root, page=None, **params) -> AppTest:
    monkeypatch.setenv(STORE_ENV, str(root))
    app = AppTest.from_file(APP, default_timeout=60)
    for key, value in params.items():
        app.query_params[key] = value
    app.run()
    if page:
        app.switch_page(page).run()
    assert not app.exception, [e.value for e in app.exception]
    return app


@pytest.mark.parametrize("language", ["English", "中文"])
def test_overview_without_customer_ids_shows_order_kpis_and_says_why(monkeypatch, tmp_path, language):
    with open(fixture("tmall_order_report_excerpt.csv"), encoding="utf-8", newline="") as handle:
        rows = [{k.strip(): v for k, v in r.items()} for r in csv.DictReader(handle)]
    # valid = paid (a payment time) and something left after refunds; the paid amount is already net
    valid = [Decimal(r["买家实际支付金额"]) for r in rows if r["订单付款时间"].strip() and Decimal(r["买家实际支付金额"]) > 0]
    store = Store(tmp_path / "store")
    import_file(fixture("tmall_order_report_excerpt.csv"), store)

    app = _open(monkeypatch, store.root, month="2020-02", lang=language)

    tiles = {m.label: m.value for m in app.metric}
    if language == "English":
        assert list(tiles) == ["Orders", "Revenue", "AOV"]
        assert tiles["Orders"] == f"{len(valid):,}"
        assert tiles["AOV"] == f"¥{sum(valid) / len(valid):,.2f}"
        assert "repurchase metrics cannot be computed" in app.info[0].value
    else:
        assert list(tiles) == ["订单数", "销售额", "客单价"]
        assert "无法计算复购指标" in app.info[0].value
    assert "–" not in tiles.values()
    assert not any("first year" in c.value or "第一年" in c.value for c in app.caption)


def test_no_membership_column_no_members_section_and_no_non_member_driver(monkeypatch, tmp_path):
    path = tmp_path / "orders.csv"
    # January: two 100 orders; February: web stays at 100, app's order triples to 300 (AOV +100%)
    path.write_text(
        "order id,customer id,order date,amount,channel\n"
        "1,c1,2024-01-05,100,web\n2,c2,2024-01-06,100,app\n"
        "3,c1,2024-02-05,100,web\n4,c3,2024-02-06,300,app\n",
        encoding="utf-8",
    )
    store = Store(tmp_path / "store")
    import_file(path, store)
    con = store.connect()
    move = biggest_move(con, date(2024, 2, 1))
    con.close()
    assert move["driver_dimension"] == "channel" and move["driver_segment"] == "app"

    app = _open(monkeypatch, store.root, "pages/customers.py", to="2024-02-29")
    assert not any("Members vs non-members" in s.value for s in app.subheader)
    overview = _open(monkeypatch, store.root, month="2024-02")
    assert not any("non-members" in m.value for m in overview.markdown)


GAP_ORDERS = """order_id,customer_id,order_date,amount
1,a,2024-01-05,40
2,b,2024-01-09,20
3,a,2024-03-03,50
4,c,2024-03-10,70
5,c,2024-04-05,30
6,d,2024-04-20,100
"""  # no order in February; April to the 10th holds c's return alone


def _bold(app: AppTest) -> list[str]:
    return [m.value for m in app.markdown if m.value.startswith("**")]


def test_a_month_after_an_empty_month_is_not_called_the_first_and_a_cut_month_is_said(monkeypatch, tmp_path):
    (tmp_path / "gap.csv").write_text(GAP_ORDERS)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "gap.csv", store, currency="EUR")
    march = _open(monkeypatch, store.root, month="2024-03")
    assert _bold(march) == ["**There are no orders in 2024-02, so 2024-03 has no change on the month before to show.**"]
    # an empty month between two with orders: most often an export not uploaded, which the page suggests
    assert _bold(_open(monkeypatch, store.root, month="2024-02")) == [
        "**There are no orders in 2024-02, though the data has orders in 2024-01 and in 2024-03: "
        "if its export was not uploaded, upload it on the Data page.**"]
    assert _bold(_open(monkeypatch, store.root, month="2024-02", lang="zh")) == [
        "**2024-02 没有订单，但 2024-01 和 2024-03 都有订单：如果该月的导出文件尚未上传，请在“数据”页上传。**"]
    january = _open(monkeypatch, store.root, month="2024-01")
    assert "2024-01 is only partly covered: the data starts on 2024-01-05." in [c.value for c in january.caption]
    assert not [c for c in march.caption if "partly covered" in c.value]
    assert _bold(january) == [
        "**2024-01 is the first month of the data: there is no earlier month to compare with.**"]
    # April against March: one order per customer in both, so frequency is unchanged: "0.0%" under no arrow
    april = {m.label: m.proto for m in _open(monkeypatch, store.root, month="2024-04").metric}
    assert april["Purchase frequency"].delta.startswith("0.0%")
    assert april["Purchase frequency"].direction == april["Purchase frequency"].NONE
    assert april["AOV"].direction == april["AOV"].UP  # 65 against 60
    # April to the 10th: c alone, back after March (repurchase rate 100% against March's 50%: a back, c new);
    # the whole April (c back, d new) holds the rate at 50%
    cut = _open(monkeypatch, store.root, month="2024-04", to="2024-04-10")
    assert "2024-04 is counted to 2024-04-10 only (the date filter's end); its changes compare it with whole months." \
        in [c.value for c in cut.caption]
    # no filter caption unasked (the date boxes hold the data's first and last days) nor for a whole month
    assert not [c for c in january.caption if "date filter" in c.value]
    whole = _open(monkeypatch, store.root, month="2024-04", to="2024-04-20")  # the data's last day
    assert not [c for c in whole.caption if "date filter" in c.value]
    late = _open(monkeypatch, store.root, month="2024-04", **{"from": "2024-04-10"})
    assert "2024-04 is counted whole, from its first day: the date filter's start (2024-04-10) chooses the first month shown." \
        in [c.value for c in late.caption]
    assert _bold(cut)[0].startswith("**Repurchase rate rose 50"), _bold(cut)
    assert "100" in [m for m in cut.metric if m.label == "Repurchase rate"][0].value


def _overview_captions(monkeypatch, root, month: str, containing: str) -> list[str]:
    """The Overview's captions for `month` that hold `containing`."""
    return [c.value for c in _open(monkeypatch, root, month=month).caption if containing in c.value]


def _store_of_orders(tmp_path, rows: str) -> Store:
    """A store of the orders `rows` (order_id,customer_id,order_date,amount lines), in dollars."""
    (tmp_path / "orders.csv").write_text("order_id,customer_id,order_date,amount\n" + rows)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "orders.csv", store, currency="USD")
    return store


def test_an_export_of_a_few_days_inside_one_month_is_said_once(monkeypatch, tmp_path):
    """eBay's sales history of one day: the month is cut at both ends, said in one line."""
    store = Store(tmp_path / "store")
    import_file(Path(__file__).parent / "fixtures" / "real" / "ebay_sales_history.csv", store)
    assert _overview_captions(monkeypatch, store.root, "2016-01", "partly covered") == [
        "2016-01 is only partly covered: the data runs from 2016-01-18 to 2016-01-18."]


def test_a_change_on_a_month_the_data_covers_only_in_part_says_so(monkeypatch, tmp_path):
    """A café's first export starts on 22 May: June's "+550% on the month before" compares with nine days."""
    store = _store_of_orders(tmp_path, "1,a,2026-05-22,5\n2,b,2026-06-03,6\n3,a,2026-06-20,7\n4,c,2026-07-02,8\n")
    assert _overview_captions(monkeypatch, store.root, "2026-06", "compare with") == [
        "The changes on the month before compare with 2026-05, which the data covers only from 2026-05-22."]
    assert _overview_captions(monkeypatch, store.root, "2026-07", "compare with") == []


def test_a_month_of_mostly_guest_orders_says_whose_the_customer_figures_are(monkeypatch, tmp_path):
    """A café's till: 3 of 4 June orders paid in cash, without a customer id."""
    store = _store_of_orders(tmp_path, "1,a,2026-06-02,5\n2,,2026-06-03,6\n3,,2026-06-20,7\n4,,2026-06-21,8\n"
                                       "5,b,2026-07-02,8\n")
    assert _overview_captions(monkeypatch, store.root, "2026-06", "no customer id") == [
        "75.0% of the orders in 2026-06 have no customer id (guests, cash): the customer figures describe the "
        "customers who were identified, not every buyer."]
    assert _overview_captions(monkeypatch, store.root, "2026-07", "no customer id") == []


def test_customer_value_says_the_filters_do_not_apply_even_when_no_model_can_be_fitted(monkeypatch, tmp_path):
    (tmp_path / "gap.csv").write_text(GAP_ORDERS)
    store = Store(tmp_path / "store")
    import_file(tmp_path / "gap.csv", store, currency="EUR")
    app = _open(monkeypatch, store.root, "pages/value.py", to="2024-03-31")
    assert [w.value for w in app.warning] and app.warning[0].value.startswith("The model could not be fitted: Too few")
    assert "The sidebar filters do not apply here: the model is fitted on every customer." in [c.value for c in app.caption]


def _data_page(monkeypatch, root) -> AppTest:
    """The Data page alone under st.navigation (as tests/test_auth.py's only_page: AppTest loses a
    button click when the dashboard's first run leaves Streamlit's pages/-folder mode)."""
    monkeypatch.setenv(STORE_ENV, str(root))
    page = str(Path(APP).parent / "pages" / "data.py")
    app = AppTest.from_string(f"import streamlit as st\nst.navigation([st.Page({page!r})]).run()\n", default_timeout=60)
    app.run()
    return app


def test_data_page_asks_the_currency_and_waits_until_it_is_chosen(monkeypatch, tmp_path):
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    assert "Nothing stored yet: each file imported above is listed here." in [c.value for c in app.caption]
    app.file_uploader(key="upload").set_value(
        ("plain.csv", b"order id,customer id,order date,amount\nO1,c1,2024-03-01,12.50\n", "text/csv")).run()
    question = app.selectbox(key="upload_currency")
    assert question.value is None and app.button(key="import_button").disabled  # the import waits
    question.set_value("GBP").run()
    assert not app.button(key="import_button").disabled
    app.button(key="import_button").click().run()
    assert not app.exception and "Imported 1 order" in app.success[0].value
    assert store.currency() == "GBP" and store.batches()[0]["currency_source"] == "chosen"
    assert not [c for c in app.caption if c.value.startswith("Nothing stored yet")]
    # the store now holds pounds: amounts of unknown currency would be added into them, so "not stated" is gone
    app.file_uploader(key="upload").set_value(
        ("more.csv", b"order id,customer id,order date,amount\nO2,c2,2024-03-02,7.50\n", "text/csv")).run()
    assert app.selectbox(key="upload_currency").options == ["GBP · British Pound"]  # any other would be refused
    # an empty currency column states nothing: still asked
    app.file_uploader(key="upload").set_value(
        ("empty_currency.csv", b"order id,customer id,order date,amount,currency\nO3,c3,2024-03-03,4.00,\n",
         "text/csv")).run()
    assert app.selectbox(key="upload_currency").options == ["GBP · British Pound"]
    app.selectbox(key="upload_currency").set_value("GBP").run()
    app.button(key="import_button").click().run()
    assert not app.exception and [s for s in app.success if "Imported 1 order" in s.value]


def test_data_page_says_a_file_in_another_currency_is_refused_before_the_import(monkeypatch, tmp_path):
    """The real UCI Online Retail II workbook (its preset: pounds) into a dollar store: the Import button was
    enabled, and the refusal after the click gave the command line's option as the way out."""
    store = Store(tmp_path / "store")
    (tmp_path / "usd.csv").write_text("order id,customer id,order date,amount\nO1,c1,2024-03-01,12.50\n")
    import_file(tmp_path / "usd.csv", store, currency="USD")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("online_retail_II.xlsx", fixture("real/uci_online_retail_ii_2x499.xlsx").read_bytes(),
         "application/octet-stream")).run()
    assert [e.value.replace("\\", "").replace("\u2060", "") for e in app.error] == [  # as Markdown shows it
        "Not imported: online_retail_II.xlsx: amounts are in GBP but the store holds USD orders; a store holds one "
        "currency, so convert the amounts to USD first, or import this file into a separate store (a dashboard "
        "started on another store folder, or --store on the command line)."]
    assert app.button(key="import_button").disabled and not [s for s in app.selectbox if s.key == "upload_currency"]
    assert len(store.batches()) == 1


def test_data_page_warns_when_the_rows_shown_are_in_another_currency_but_lets_the_file_decide(monkeypatch, tmp_path):
    """The rows shown are only the file's first: its main currency decides on import (here dollars, after 20
    rows in euros, which are rejected), so the page warns and lets the import run."""
    store = Store(tmp_path / "store")
    (tmp_path / "usd.csv").write_text("order id,customer id,order date,amount\nO1,c1,2024-03-01,12.50\n")
    import_file(tmp_path / "usd.csv", store, currency="USD")
    rows = [f"E{i},c{i},2024-03-02,€7.50" for i in range(20)] + [f"D{i},d{i},2024-03-03,$5.00" for i in range(30)]
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("mixed.csv", ("order id,customer id,order date,amount\n" + "\n".join(rows) + "\n").encode(), "text/csv")).run()
    assert [w.value for w in app.warning if w.value.startswith("The rows shown are in EUR, but the store holds USD")]
    assert not app.error and not app.button(key="import_button").disabled
    app.button(key="import_button").click().run()
    assert not app.exception and [s for s in app.success if "Imported 30 orders" in s.value]
    assert store.batches()[-1]["currency"] == "USD"


@pytest.mark.parametrize(("language", "warning"), [
    ("English", "Not ready to import: no column is mapped to Amount paid (or Line amount, or Quantity and Unit price)."),
    ("中文", "尚不能导入：没有列映射到实付金额（或行金额，或数量与单价）。"),
])
def test_data_page_says_a_missing_amount_before_asking_anything(monkeypatch, tmp_path, language, warning):
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.session_state["lang"] = language
    app.file_uploader(key="upload").set_value(
        ("no_amount.csv", b"order id,customer id,order date,status\nO1,c1,2024-03-01,delivered\n", "text/csv")).run()
    assert [w.value for w in app.warning if w.value.startswith(warning)], [w.value for w in app.warning]
    box = app.selectbox(key="map_order_ts")  # fields named in words, the data model's code in the help
    assert box.label == {"English": "Order time", "中文": "下单时间"}[language] and "`order_ts`" in box.help
    assert not [s for s in app.selectbox if s.key == "upload_currency"]  # no question before the mapping can work
    assert app.button(key="import_button").disabled
    app.selectbox(key="map_amount").set_value("status").run()  # a column mapped: the import may run (and check it)
    assert not [w for w in app.warning if w.value.startswith(warning)]
    assert [s for s in app.selectbox if s.key == "upload_currency"]


def test_the_same_export_uploaded_again_says_its_orders_replace_the_stored_ones(monkeypatch, tmp_path):
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    for attempt in range(2):
        app.file_uploader(key="upload").set_value(
            ("tmall.csv", fixture("tmall_order_report_excerpt.csv").read_bytes(), "text/csv")).run()
        app.button(key="import_button").click().run()
        assert not app.exception and [s for s in app.success if "Imported 400 orders" in s.value]
        before = [i.value for i in app.info if "imported before" in i.value]
        assert len(before) == attempt and all("Importing it again replaces those orders" in b for b in before)
        replaced = [i.value for i in app.info if "already stored" in i.value.lower()]
        assert replaced == ([] if attempt == 0 else [
            "Already stored from earlier uploads: 400 orders of this file. Each is now counted once, as this file has it."])
    con = store.connect()
    assert con.execute("select count(*), count(distinct order_id) from orders").fetchone() == (400, 400)
    con.close()


def test_a_second_file_is_mapped_from_its_own_headers(monkeypatch, tmp_path):
    """A field the first file lacked (or the user cleared) is mapped again when the next file has it."""
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("a.csv", b"order id,order date,amount\nO1,2024-03-01,5\n", "text/csv")).run()
    assert app.selectbox(key="map_customer_id").value is None
    app.selectbox(key="map_amount").set_value(None).run()  # cleared by the user
    app.file_uploader(key="upload").set_value(
        ("b.csv", b"order id,customer id,order date,amount\nO2,c2,2024-03-02,7\n", "text/csv")).run()
    assert app.selectbox(key="map_customer_id").value == "customer id"
    assert app.selectbox(key="map_amount").value == "amount"


def test_data_page_does_not_ask_when_the_preset_states_the_currency(monkeypatch, tmp_path):
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("uci.csv", fixture("uci_online_retail.csv").read_bytes(), "text/csv")).run()
    assert not [s for s in app.selectbox if s.key == "upload_currency"]
    app.button(key="import_button").click().run()
    assert store.currency() == "GBP"
    assert any("1 cancelled" in i.value for i in app.info)


def test_data_page_does_not_ask_when_the_amounts_carry_the_currency(monkeypatch, tmp_path):
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("euro.csv", "order id;customer id;order date;amount\nO1;c1;2024-03-01;175,19 €\nO2;c2;2024-03-02;8,00 €\n"
         .encode(), "text/csv")).run()
    assert not [s for s in app.selectbox if s.key == "upload_currency"]  # nothing to answer: the € says it
    assert any(c.value == "Currency of the amounts: EUR, written in the amounts themselves." for c in app.caption)
    assert not app.button(key="import_button").disabled
    app.button(key="import_button").click().run()
    assert not app.exception and "Imported 2 orders" in app.success[0].value
    assert store.currency() == "EUR" and store.batches()[0]["currency_source"] == "file"


def test_currency_not_stated_shows_amounts_without_a_symbol_and_says_so(monkeypatch, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text("order id,customer id,order date,amount\n1,c1,2024-01-05,100\n2,c2,2024-01-06,50\n",
                    encoding="utf-8")
    store = Store(tmp_path / "store")
    assert import_file(path, store).currency is None
    app = _open(monkeypatch, store.root, month="2024-01")
    tiles = {m.label: m.value for m in app.metric}
    assert tiles["AOV"] == "75.00"  # (100 + 50) / 2, no ¥ or $ in front
    assert any("currency of these amounts is not stated" in c.value for c in app.caption)
    currency_picker = next(s for s in app.sidebar.selectbox if s.key == "currency")
    # in both languages at once: a label that changed with the language would be sent back stale
    assert currency_picker.format_func(currency_picker.value) == "not stated / 未注明"
    assert not currency_picker.disabled  # nobody stated it: the user may name the symbol to show
    chosen = _open(monkeypatch, store.root, month="2024-01", currency="USD")
    assert {m.label: m.value for m in chosen.metric}["AOV"] == "$75.00"


def test_a_shop_in_dong_finds_its_currency_and_its_tiles_fit(monkeypatch, tmp_path):
    """The Data page offered six currencies; a Vietnamese or Pakistani shop could only say "not stated". Every
    currency in use is offered, named in the page's language, and a tile's amount behind a three-letter code
    is shortened from 1,000 (PKR22,21… was cut off at 1400 px)."""
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("dong.csv", b"order id,customer id,order date,amount\nO1,c1,2024-03-01,22210.27\n", "text/csv")).run()
    question = app.selectbox(key="upload_currency")
    codes = [label.split(" · ")[0] for label in question.options[1:]]  # after "not stated"
    assert {"VND", "PKR", "INR", "IDR", "BRL"} <= set(codes) and len(codes) > 100
    assert codes[:6] == ["CNY", "USD", "EUR", "GBP", "JPY", "HKD"]  # the common ones first
    assert "VND · Vietnamese Dong" in question.options and currency_name("VND", "zh") == "VND · 越南盾"
    question.set_value("PKR").run()
    app.button(key="import_button").click().run()
    assert not app.exception and store.currency() == "PKR"
    overview = _open(monkeypatch, store.root, "pages/overview.py", month="2024-03")
    tiles = {m.label: m.value for m in overview.metric}
    assert tiles["AOV"] == "PKR22.2K" and tiles["Revenue"] == "PKR22.2K", tiles


VIETNAMESE_ORDERS = ("Order ID,Status,Order Date,Amount,Customer\n"
                     "V1,Hoàn thành,2026-04-01 10:00,100.00,c1\n"
                     "V2,Đã hủy,2026-04-02 10:00,50.00,c1\n"         # cancelled
                     "V3,Đang chờ xử lý,2026-04-03 10:00,70.00,c2\n"  # waiting: never paid
                     "V4,hoàn thành,2026-04-04 10:00,30.00,c2\n"
                     "V5,Completed,2026-04-05 10:00,20.00,c3\n")


def test_the_data_page_asks_what_unknown_status_words_mean_and_saves_the_answers(monkeypatch, tmp_path):
    """A Shopee export's Vietnamese statuses were all unknown: its cancelled orders counted as sales, one warning
    per row, and only a hand-written preset could say otherwise. The page now asks, one box per unknown word
    (most rows first), imports by the answers, and saves them with the mapping for --preset."""
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(("vn.csv", VIETNAMESE_ORDERS.encode(), "text/csv")).run()
    assert any(c.value == "Status words read as: Completed → a sale (valid order)." for c in app.caption)
    boxes = [b for b in app.selectbox if b.key.startswith("status_word_")]
    assert [b.label for b in boxes] == ["Hoàn thành · 2 rows", "Đang chờ xử lý · 1 row", "Đã hủy · 1 row"]
    assert all(b.value is None for b in boxes)  # unanswered: a sale with a warning, as before
    boxes[1].set_value("unpaid")
    boxes[2].set_value("cancelled")
    app.selectbox(key="upload_currency").set_value("VND").run()
    app.text_input(key="preset_name").input("shopee_vn").run()
    app.button(key="save_preset").click().run()
    saved = json.loads((tmp_path / "store" / "presets" / "shopee_vn.json").read_text(encoding="utf-8"))
    assert saved["status_words"] == {"đang chờ xử lý": "unpaid", "đã hủy": "cancelled"}  # as the import compares
    app.button(key="import_button").click().run()
    assert not app.exception
    stored = {row["order_id"]: row["status"] for row in
              store.connect().execute("select order_id, status from orders").df().to_dict("records")}
    assert stored == {"V1": "valid", "V2": "cancelled", "V3": "unpaid", "V4": "valid", "V5": "valid"}
    # "Hoàn thành" was left unanswered: counted valid, with a warning on each of its two rows
    report = import_file(_written(tmp_path / "again.csv", VIETNAMESE_ORDERS.replace("V", "W")), store,
                         preset_name="shopee_vn", currency="VND")
    assert (report.cancelled_orders, report.unpaid_orders, report.warnings) == (1, 1, 2)


def _written(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_the_status_words_asked_are_the_words_the_import_compares(tmp_path):
    """The page grouped words by Python's rule and the import by SQL's: a no-break space, a ="quoted" Excel
    cell or a known word written that way got answers the import ignored, or questions it had no need of.
    The words are now read with the import's own macros; too long values and repeated headers are not asked."""
    path = _written(tmp_path / "odd.csv",
                    "Order ID,Status,Order Date,Amount\n"
                    "A1,Đã\u00a0hủy,2026-04-01,10.00\n"        # a no-break space stays inside the word
                    "A2,đã hủy,2026-04-02,10.00\n"
                    'A3,"=""Bị hủy""",2026-04-03,10.00\n'       # an Excel formula cell: the word is Bị hủy
                    'A4,"=""交易关闭""",2026-04-04,10.00\n'      # known: cancelled
                    f"A5,{'x' * 1001},2026-04-05,10.00\n"       # too long to import: rejected, never asked
                    "Order ID,Status,Order Date,Amount\n"       # the header again: skipped, never asked
                    "A6,Đã hủy,2026-04-06,10.00\n")
    store = Store(tmp_path / "store")
    columns = {"order_id": "Order ID", "status": "Status", "order_ts": "Order Date", "amount": "Amount"}
    read = status_words_in_file(path, store, columns)
    assert [(w["word"], w["rows"], w["meaning"]) for w in read["words"]] == [
        ("Đã hủy", 2, None), ("Bị hủy", 1, None), ("Đã\u00a0hủy", 1, None), ("交易关闭", 1, "cancelled")]
    assert read["distinct"] == 4
    report = import_file(path, store, columns=columns, currency="USD",
                         status_words={w["key"]: "cancelled" for w in read["words"] if not w["meaning"]})
    assert report.cancelled_orders == 5 and "unknown_status" not in report.issue_counts


def test_a_rejected_row_s_empty_cells_show_empty_not_none(monkeypatch, tmp_path):
    """pandas 3 reads the rejected rows' text back with its own string dtype, which the check for empty text
    cells missed: a cash sale's empty card showed as Streamlit's English "None" on every page language."""
    store = Store(tmp_path / "store")
    app = _data_page(monkeypatch, store.root)
    app.file_uploader(key="upload").set_value(
        ("rej.csv", b"order id,customer id,order date,amount,channel\nO1,,2024-03-01,abc,\nO2,c2,2024-03-02,5.00,web\n",
         "text/csv")).run()
    app.selectbox(key="upload_currency").set_value("USD").run()
    app.button(key="import_button").click().run()
    assert not app.exception
    rejected = next(d.value for d in app.dataframe if "reasons" in d.value.columns)
    assert rejected[["customer id", "channel"]].values.tolist() == [["", ""]]


def test_a_saved_preset_is_described_in_the_page_s_language(monkeypatch, tmp_path):
    """The Chinese Data page listed a saved mapping as "taidi · saved from meal_order_info.csv"."""
    from ingest import preset_to_save, saved_preset_path

    store = Store(tmp_path / "store")
    preset_to_save("taidi", "meal_order_info.csv", {"order_id": "order_id"}).save(saved_preset_path(store.root, "taidi"))
    app = _open(monkeypatch, store.root, "pages/data.py", lang="中文")
    assert any("taidi** · 保存自 meal\\_order\\_info.csv" in m.value for m in app.markdown), [m.value for m in app.markdown]


def test_the_activity_log_says_when_in_words_a_person_reads(monkeypatch, tmp_path):
    """The log showed 2026-12-06T19:08:45+00:00."""
    store = Store(tmp_path / "store")
    import_file(_written(tmp_path / "a.csv", "order id,customer id,order date,amount\nO1,c1,2024-03-01,5.00\n"), store,
                currency="USD")
    app = _open(monkeypatch, store.root, "pages/data.py")
    log = next(d.value for d in app.dataframe if "action" in d.value.columns)
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", log["at"].iloc[0]), log["at"].iloc[0]
