"""What platforms mean by their columns (unpaid, refunds, cancellations), currency, and files that
cannot answer a question. Expected figures come from the raw files with plain Python, never
through the importer."""

import csv
import json
from decimal import Decimal

import pytest

from conftest import fixture, stored_orders
from ingest import import_file
from ingest.__main__ import main as ingest_main
from ingest.readers import ImportRefused

TMALL = "tmall_order_report_excerpt.csv"


def _tmall_rows() -> list[dict]:
    with open(fixture(TMALL), encoding="utf-8", newline="") as handle:
        # the export's headers carry trailing spaces ("收货地址 ", "订单付款时间 ")
        return [{k.strip(): v for k, v in row.items()} for row in csv.DictReader(handle)]


def test_real_tmall_report_unpaid_refunds_already_net_and_region(store):
    rows = _tmall_rows()
    unpaid = {r["订单编号"] for r in rows if not r["订单付款时间"].strip()}
    paid = [r for r in rows if r["订单付款时间"].strip()]
    # the file's own columns: total = paid + refund on every paid row, so paid is already net
    assert all(abs(float(r["总金额"]) - float(r["买家实际支付金额"]) - float(r["退款金额"])) < 0.005 for r in paid)
    refunded = {r["订单编号"] for r in paid if float(r["退款金额"]) > 0 and float(r["买家实际支付金额"]) == 0}
    valid = {r["订单编号"]: Decimal(r["买家实际支付金额"]) for r in paid if r["订单编号"] not in refunded}
    partly = [r["订单编号"] for r in paid if float(r["退款金额"]) > 0 and float(r["买家实际支付金额"]) > 0]
    assert len(rows) == 400 and len(unpaid) == 57 and len(refunded) == 71 and len(partly) == 10

    report = import_file(fixture(TMALL), store)

    assert report.preset == "taobao"  # recognised without 买家会员名 or 订单状态
    assert report.mapping["region"] == "收货地址"
    assert report.rows_rejected == 0 and report.issue_counts == {}
    assert report.unpaid_orders == len(unpaid)
    assert report.refunded_orders == len(refunded)
    assert report.refunds == "already_net" and "not subtracted again" in report.refunds_note
    assert report.currency == "CNY" and report.currency_source == "preset"
    orders = stored_orders(store)
    assert {k for k, o in orders.items() if o["status"] == "unpaid"} == unpaid
    assert {k for k, o in orders.items() if o["status"] == "refunded"} == refunded
    assert {k: o["amount"] for k, o in orders.items() if o["status"] == "valid"} == valid
    assert orders["6"]["amount"] == Decimal("148.90")  # total 327.7, refunded 178.8: counts at 148.9
    assert sum(o["amount"] for o in orders.values() if o["status"] == "valid") == sum(valid.values())
    assert {k: o["region"] for k, o in orders.items()} == {r["订单编号"]: r["收货地址"] for r in rows}


def test_no_customer_column_is_said_in_the_report(store):
    report = import_file(fixture(TMALL), store)
    assert report.customer_ids is False
    assert any("repurchase metrics need a customer id" in note for note in report.notes)
    assert report.guest_orders == report.orders_accepted == 400


def test_refund_subtracted_when_total_is_before_refunds_and_reasons_match_values(store, tmp_path):
    path = tmp_path / "refunds.csv"
    path.write_text(
        "order id,customer id,order date,order total,gross amount,refunded amount\n"
        "R1,c1,2024-03-01,100.00,100.00,30.00\n"  # partly refunded: 70 counted
        "R2,c2,2024-03-02,50.00,50.00,50.00\n"  # fully refunded
        "R3,c3,2024-03-03,40.00,40.00,0\n"
        "R4,c4,2024-03-04,10.00,10.00,15.00\n"  # refund larger than the amount paid
        "R5,c5,2024-03-05,-8.00,-8.00,0\n",  # negative amount, no refund
        encoding="utf-8",
    )
    report = import_file(path, store)
    assert report.refunds == "subtracted"
    orders = stored_orders(store)
    assert orders["R1"]["amount"] == Decimal("70.00") and orders["R1"]["status"] == "valid"
    assert orders["R2"]["status"] == "refunded" and report.refunded_orders == 1
    assert orders["R3"]["amount"] == Decimal("40.00")
    issues = {i["row"]: i for i in report.issues}
    assert issues[5]["code"] == "refund_exceeds_amount"
    assert issues[5]["value"] == "paid 10.00, refunded 15.00"
    assert issues[5]["reason"] == "the refund is larger than the amount paid"
    assert issues[6]["code"] == "negative_amount" and issues[6]["value"] == "-8.00"
    assert sorted(orders) == ["R1", "R2", "R3"]


def test_a_line_level_refund_larger_than_the_lines_is_named_as_such(store, tmp_path):
    """A Shopee line (value 0, refund 142,079) was rejected as a negative amount, quoting -142079 under a
    column that holds 0: it is the refund that is too large, worded as an order-level file's is, and an order
    refunded in full is not also warned about as a zero amount."""
    path = tmp_path / "lines.csv"
    path.write_text(
        "Order ID,Order Date,Status,SKU,Quantity,Line Total,Refund Amount\n"
        "A1,2026-04-01,completed,S1,1,50.00,\n"
        "A1,2026-04-01,completed,S2,1,30.00,\n"
        "B2,2026-04-02,completed,S1,1,0,100.00\n"  # the refund above the lines
        "C3,2026-04-03,completed,S1,1,40.00,10.00\n",  # partly refunded: 30 counted
        encoding="utf-8",
    )
    report = import_file(path, store, currency="USD")
    assert [(i["row"], i["code"], i["column_name"], i["value"]) for i in report.issues] == [
        (4, "refund_exceeds_amount", "Refund Amount", "paid 0.00, refunded 100.00")]
    assert report.issues[0]["reason"] == "the refund is larger than the amount the lines add up to"
    orders = stored_orders(store)
    assert {k: o["amount"] for k, o in orders.items()} == {"A1": Decimal("80.00"), "C3": Decimal("30.00")}
    totals = tmp_path / "totals.csv"
    totals.write_text("order id,customer id,order date,amount,refunded amount\n"
                      "B2,c1,2026-04-02,0,100.00\nD4,c2,2026-04-05,20.00,\n", encoding="utf-8")
    assert [i["code"] for i in import_file(totals, store, currency="USD").issues] == ["refund_exceeds_amount"]


def test_payment_time_column_marks_unpaid_orders(store, tmp_path):
    path = tmp_path / "paid.csv"
    path.write_text(
        "order id,customer id,order date,payment time,amount,status\n"
        "P1,c1,2024-03-01 10:00,2024-03-01 10:01,20,交易成功\n"
        "P2,c1,2024-03-02 10:00,,35,交易关闭\n"  # closed before payment
        "P3,c2,2024-03-03 10:00,,0,等待买家付款\n",
        encoding="utf-8",
    )
    report = import_file(path, store)
    assert report.mapping["paid_at"] == "payment time"
    orders = stored_orders(store)
    assert {k: o["status"] for k, o in orders.items()} == {"P1": "valid", "P2": "unpaid", "P3": "unpaid"}
    assert report.unpaid_orders == 2 and report.rows_rejected == 0 and report.warnings == 0


def test_uci_cancellations_are_reported_as_cancellations_in_gbp(store):
    with open(fixture("uci_online_retail.csv"), encoding="utf-8", newline="") as handle:
        cancelled = {r["InvoiceNo"] for r in csv.DictReader(handle) if r["InvoiceNo"].startswith("C")}
    report = import_file(fixture("uci_online_retail.csv"), store)
    assert report.cancelled_orders == len(cancelled) == 1
    assert not any(i["code"] == "negative_amount" for i in report.issues)
    assert report.currency == "GBP" and report.currency_source == "preset"


def test_negative_line_order_names_its_amount(store, tmp_path, parsed_kept):
    path = tmp_path / "adjust.csv"
    path.write_text(
        "InvoiceNo,StockCode,Description,Quantity,InvoiceDate,UnitPrice,CustomerID,Country\n"
        "A563185,B,Adjust bad debt,1,8/12/2011 14:50,-11062.06,,United Kingdom\n"
        "563186,22423,REGENCY CAKESTAND,2,8/12/2011 14:51,12.75,17850,United Kingdom\n",
        encoding="utf-8",
    )
    report = import_file(path, store)
    issue = next(i for i in report.issues if i["code"] == "negative_amount")
    assert issue["row"] == 2 and Decimal(issue["value"]) == Decimal("-11062.06")
    assert "negative amount" in issue["reason"]


def _plain_orders(tmp_path, extra_header="", extra_value=""):
    path = tmp_path / "plain.csv"
    path.write_text(
        f"order id,customer id,order date,amount{extra_header}\n"
        f"O1,c1,2024-03-01,12.50{extra_value}\nO2,c2,2024-03-02,7.50{extra_value}\n",
        encoding="utf-8",
    )
    return path


def test_currency_not_stated_is_left_unknown_or_taken_from_the_user(store, tmp_path):
    path = _plain_orders(tmp_path)
    report = import_file(path, store)
    assert report.currency is None and report.currency_source is None
    other = store.__class__(tmp_path / "other")
    report = import_file(path, other, currency="gbp")
    assert report.currency == "GBP" and report.currency_source == "chosen"
    assert other.currency() == "GBP"


def test_currency_choice_never_overrides_the_file(store, tmp_path):
    path = _plain_orders(tmp_path, ",currency", ",USD")
    with pytest.raises(ImportRefused, match="in USD, not EUR"):
        import_file(path, store, currency="EUR")
    assert import_file(path, store, currency="USD").currency_source == "file"
    with pytest.raises(ImportRefused, match="not a currency code"):
        import_file(path, store, currency="pounds")


def test_cli_currency_flag(tmp_path, capsys):
    path = _plain_orders(tmp_path)
    assert ingest_main([str(path), "--store", str(tmp_path / "s"), "--json", "--currency", "JPY"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["currency"] == "JPY" and report["currency_source"] == "chosen"
    assert report["unpaid_orders"] == 0 and report["refunds"] is None


def test_taobao_address_gives_the_province(store, tmp_path):
    path = tmp_path / "taobao.csv"
    path.write_text(
        "订单编号,买家会员名,买家实际支付金额,订单状态,订单创建时间,订单付款时间,收货地址\n"
        "9001,张三,88.00,交易成功,2024-01-05 10:00:00,2024-01-05 10:01:00,浙江省 杭州市 西湖区 文三路1号\n"
        "9002,李四,66.00,交易成功,2024-01-06 10:00:00,2024-01-06 10:01:00,广东省\u3000深圳市 南山区\n",
        encoding="utf-8",
    )
    report = import_file(path, store)
    assert report.preset == "taobao"
    orders = stored_orders(store)
    assert orders["9001"]["region"] == "浙江省" and orders["9002"]["region"] == "广东省"


def test_edited_mapping_keeps_the_recognised_formats_rules(store):
    """The Data page always sends its column choices; the preset's rules (C invoices cancelled,
    GBP) must still apply, or cancellations show up as negative amounts with no value."""
    from ingest.pipeline import preview

    _, mapping = preview(fixture("uci_online_retail.csv"), store)
    report = import_file(fixture("uci_online_retail.csv"), store, columns=dict(mapping.columns))
    assert report.preset == "uci_online_retail"
    assert stored_orders(store)["C536379"]["status"] == "cancelled"
    assert report.issue_counts == {} and report.cancelled_orders == 1
    assert report.currency == "GBP"


def test_taobao_preset_needs_its_distinctive_paid_amount_column(store, tmp_path):
    path = tmp_path / "generic_cn.csv"
    # four of the Taobao signature's generic headers, but not 买家实际支付金额: not a Taobao report,
    # so the customer column (客户id) is still found by its synonym
    path.write_text("订单编号,客户id,订单创建时间,总金额,退款金额,订单状态\n"
                    "1,k1,2024-01-05 10:00:00,50,0,交易成功\n", encoding="utf-8")
    report = import_file(path, store)
    assert report.preset is None
    assert report.mapping["customer_id"] == "客户id" and report.mapping["amount"] == "总金额"
