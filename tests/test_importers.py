"""Every importer and preset on small fixture files whose right answer is worked out by hand."""

import codecs
import csv
import io
from decimal import Decimal

import pandas as pd
import pytest

from conftest import fixture, stored_orders
from ingest import ImportRefused, import_file
from ingest.pipeline import batch_problems


def test_generic_csv_reports_every_problem_with_row_and_column(store, parsed_kept):
    report = import_file(fixture("generic_orders.csv"), store)
    issues = {(i["row"], i["code"]): i for i in report.issues}
    assert issues[(5, "bad_date")]["column_name"] == "Order Date"
    assert issues[(5, "bad_date")]["value"] == "not a date"
    assert issues[(6, "negative_amount")]["column_name"] == "Amount"
    assert (9, "duplicate_conflict") in issues and (10, "duplicate_conflict") in issues
    assert issues[(8, "duplicate_row")]["severity"] == "warning"  # A6 twice, identical: counted once
    assert issues[(11, "missing_order_id")]["severity"] == "rejected"
    assert issues[(12, "future_date")]["value"] == "2999-01-01"
    assert issues[(13, "bad_amount")]["value"] == "abc"
    assert issues[(13, "unknown_status")]["severity"] == "warning"
    assert issues[(15, "currency_mismatch")]["value"] == "EUR"
    assert all(i["file"] == "generic_orders.csv" for i in report.issues)

    orders = stored_orders(store)
    assert sorted(orders) == ["A1", "A10", "A2", "A3", "A6"]
    assert orders["A2"]["amount"] == Decimal("1200.50")  # thousands separator
    assert orders["A10"]["amount"] == Decimal("20.00")  # currency symbol stripped
    assert orders["A6"]["status"] == "cancelled"
    assert orders["A3"]["customer_id"] is None  # guest order kept
    assert report.guest_orders == 1
    assert report.rows_read == 14
    assert report.rows_rejected == 8  # rows 5, 6, 9, 10, 11, 12, 13, 15
    assert report.currency == "CNY"
    _, rejected = batch_problems(store, report.batch_id)
    assert list(rejected["Order ID"].fillna("")) == ["A4", "A5", "A7", "A7", "", "A8", "A9", "A11"]
    assert rejected["reasons"].iloc[0] == "unparseable date (expected e.g. 2024-03-31 14:05)"
    assert not list(store.root.rglob("*.duckdb*"))  # the typed rows' database is gone with the upload


def test_gb18030_taobao_export_is_detected_and_cleaned(store):
    report = import_file(fixture("taobao_orders_gbk.csv"), store)
    assert report.encoding == "gb18030"
    assert report.preset == "taobao"
    assert report.rows_rejected == 0 and report.warnings == 0  # every status word known
    orders = stored_orders(store)
    assert sorted(orders) == ["3001", "3002", "3003", "3004", "3005"]  # ="..." unwrapped
    assert orders["3002"]["amount"] == Decimal("1024.50")  # "1,024.50元"
    assert orders["3005"]["amount"] == Decimal("30.00")  # 50元 paid, 20元 refunded
    assert orders["3003"]["status"] == "cancelled"  # 交易关闭
    assert orders["3004"]["status"] == "valid"  # 买家已付款，等待卖家发货
    assert orders["3001"]["customer_id"] == "张三"
    assert orders["3002"]["order_ts"] == pd.Timestamp("2024-01-06 11:00")  # 2024/01/06 11:00
    assert report.currency == "CNY"


def test_shopify_line_items_roll_up_to_orders(store, parsed_kept):
    report = import_file(fixture("shopify_orders.csv"), store)
    assert report.preset == "shopify"
    assert report.rows_read == 7 and report.rows_rejected == 0, report.issues
    assert not list(store.root.rglob("parsed.*"))  # the typed rows kept on disk are not kept in the store
    orders = stored_orders(store)
    assert len(orders) == 6
    assert orders["#1001"]["amount"] == Decimal("110.00")  # order Total (tax included), not the lines
    assert orders["#1001"]["order_ts"] == pd.Timestamp("2024-01-15 10:20:30")  # wall time as exported
    assert orders["#1001"]["region"] == "New York"
    assert orders["#1002"]["customer_id"] is None  # no email: guest
    assert orders["#1003"]["customer_id"] == "alice@example.com"  # same customer, any case
    assert orders["#1003"]["amount"] == Decimal("150.00")  # Total 200 - refunded 50
    assert orders["#1004"]["status"] == "cancelled"  # Cancelled at is set
    assert orders["#1005"]["status"] == "unpaid"  # financial status pending: never paid, not an order
    assert report.unpaid_orders == 1 and report.cancelled_orders == 1
    assert orders["#1006"]["amount"] == Decimal("1250.00")
    con = store.connect()
    lines = con.sql("select order_id, sku, quantity from order_lines order by source_row").fetchall()
    assert len(lines) == 7
    assert lines[1] == ("#1001", "SKU-B", Decimal("2.000"))
    customers = con.sql("select customer_id, valid_orders from customers order by 1").fetchall()
    assert customers == [("alice@example.com", 2), ("carol@example.com", 1)]


def test_shopify_header_versions_match_by_name_not_position(store, tmp_path):
    rows = list(csv.reader(open(fixture("shopify_orders.csv"), newline="", encoding="utf-8")))
    header = rows[0]
    dropped = {"Payment ID", "Payment Terms Name", "Next Payment Due At", "Payment References", "Duties", "Receipt Number"}
    keep = [i for i, h in enumerate(header) if h not in dropped][::-1]  # 73 columns, reversed order
    out = io.StringIO()
    csv.writer(out).writerows([[row[i] for i in keep] for row in rows])
    older = tmp_path / "shopify_older_version.csv"
    older.write_text(out.getvalue(), encoding="utf-8")
    assert len(keep) == 73

    report = import_file(older, store)
    assert report.preset == "shopify"
    orders = stored_orders(store)
    assert orders["#1003"]["amount"] == Decimal("150.00")
    assert len(orders) == 6


def test_uci_online_retail_lines_and_cancellations(store):
    report = import_file(fixture("uci_online_retail.csv"), store)
    assert report.preset == "uci_online_retail"
    assert report.date_order == "month/day/year"
    orders = stored_orders(store)
    assert orders["536365"]["amount"] == Decimal("35.64")  # 6 x 2.55 + 6 x 3.39
    assert orders["536365"]["customer_id"] == "17850"
    assert orders["536367"]["amount"] == Decimal("54.08")
    assert orders["C536379"]["status"] == "cancelled"
    assert orders["C536379"]["amount"] == Decimal("-27.50")
    assert orders["536380"]["customer_id"] is None
    assert orders["536380"]["order_ts"] == pd.Timestamp("2010-12-13 09:41")
    assert orders["536380"]["region"] == "France"
    assert report.lines_accepted == 6


def test_woocommerce_analytics_export(store):
    report = import_file(fixture("woocommerce_orders.csv"), store)
    assert report.preset == "woocommerce"
    orders = stored_orders(store)
    assert {k: v["status"] for k, v in orders.items()} == {
        "1201": "valid", "1202": "valid", "1203": "refunded", "1204": "unpaid"  # Pending payment
    }
    assert orders["1201"]["amount"] == Decimal("40.00")
    assert orders["1202"]["coupon_code"] == "save10"
    assert report.currency == "USD"


def test_a_workbook_whose_rows_are_on_its_second_sheet_is_refused_naming_it(store, tmp_path):
    """Only the first sheet is read: a first sheet with just its header was refused as an export without
    data, with no word of the sheet that holds the orders."""
    import xlsxwriter

    path = tmp_path / "orders.xlsx"
    book = xlsxwriter.Workbook(path)
    book.add_worksheet("Summary").write_row(0, 0, ["order id", "order date", "amount"])
    orders = book.add_worksheet("Orders 2024")
    orders.write_row(0, 0, ["order id", "order date", "amount"])
    orders.write_row(1, 0, ["A1", "2024-05-01", 10])
    book.close()
    with pytest.raises(ImportRefused) as refused:
        import_file(path, store)
    assert refused.value.code == "first_sheet_empty" and "'Orders 2024' hold rows" in str(refused.value)
    assert store.batches() == []


def test_xlsx_with_real_dates_and_numeric_ids(store, tmp_path):
    import datetime

    import xlsxwriter

    path = tmp_path / "orders.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    date_format = book.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    sheet.write_row(0, 0, ["订单号", "客户ID", "下单时间", "实付金额", "会员等级"])
    rows = [
        (1001, 501, datetime.datetime(2024, 5, 1, 9, 30), 88.8, "gold"),
        (1002, 502, datetime.datetime(2024, 5, 2, 10, 0), 120, None),
        (1003, 501, datetime.datetime(2024, 6, 3, 11, 15), 42.5, "gold"),
    ]
    for r, (oid, cid, ts, amount, tier) in enumerate(rows, start=1):
        sheet.write_number(r, 0, oid)
        sheet.write_number(r, 1, cid)
        sheet.write_datetime(r, 2, ts, date_format)
        sheet.write_number(r, 3, amount)
        if tier:
            sheet.write_string(r, 4, tier)
    book.close()

    report = import_file(path, store)
    assert report.rows_rejected == 0
    orders = stored_orders(store)
    assert sorted(orders) == ["1001", "1002", "1003"]  # not "1001.0"
    assert orders["1001"]["customer_id"] == "501"
    assert orders["1003"]["order_ts"] == pd.Timestamp("2024-06-03 11:15")
    assert orders["1001"]["amount"] == Decimal("88.80")
    assert orders["1001"]["member_tier"] == "gold"


def test_parquet_with_typed_columns(store, tmp_path):
    frame = pd.DataFrame({
        "order_id": ["P1", "P2"],
        "customer_id": ["x", None],
        "order_ts": pd.to_datetime(["2024-07-01 08:00", "2024-07-02 09:00"]),
        "amount": [10.5, 20.0],
    })
    path = tmp_path / "orders.parquet"
    frame.to_parquet(path)
    report = import_file(path, store)
    assert report.orders_accepted == 2 and report.guest_orders == 1
    assert stored_orders(store)["P1"]["amount"] == Decimal("10.50")


def _export_past_one_mb(tmp_path, last_row: bytes, chinese: bool = True):
    """A UTF-8 export (of Chinese customer names, or ASCII only) longer than the first MB that decides its
    encoding, with one more row of bytes at the end."""
    header, customer = ("订单编号,客户,订单日期,金额", "顾客") if chinese else ("order_id,customer_id,order_date,amount", "c")
    rows = [header] + [f"{n},{customer}{n % 97},2024-01-{1 + n % 28:02d},{n % 50}.5" for n in range(50_000)]
    data = "\n".join(rows).encode("utf-8") + b"\n" + last_row + b"\n"
    assert len(data) > 1 << 20 and data[:1 << 20].isascii() is not chinese
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    return path, data


def test_utf8_past_the_first_megabyte_is_read_whole(store, tmp_path):
    path, _ = _export_past_one_mb(tmp_path, "50000,张三,2024-02-01,7".encode("utf-8"))
    report = import_file(path, store)
    assert report.encoding == "utf-8" and report.orders_accepted == 50_001 and report.rows_rejected == 0
    orders = stored_orders(store)
    assert orders["50000"]["customer_id"] == "张三" and orders["49999"]["customer_id"] == f"顾客{49_999 % 97}"


def test_ascii_then_gb18030_past_the_first_megabyte_is_read_as_gb18030(store, tmp_path):
    path, _ = _export_past_one_mb(tmp_path, "50000,张三,2024-02-01,7".encode("gb18030"), chinese=False)
    report = import_file(path, store)
    assert report.encoding == "gb18030" and report.orders_accepted == 50_001 and report.rows_rejected == 0
    assert stored_orders(store)["50000"]["customer_id"] == "张三"


@pytest.mark.parametrize(("last_row", "chinese"), [
    ("50000,张三,2024-02-01,7".encode("gb18030"), True),  # UTF-8 Chinese, then GB18030
    ("50000,Café,2024-02-01,7".encode("cp1252"), False),  # ASCII, then bytes GB18030 does not read either
    ("50000,Müller,2024-02-01,7".encode("cp1252"), False),  # ... or reads as a rare character: M黮ler
    ("50000,李四,2024-02-01,7\n".encode("utf-8") + "50001,张三,2024-02-01,7".encode("gb18030"), False),  # ASCII, UTF-8, GB
])
def test_a_second_encoding_past_the_first_megabyte_refuses_the_file(store, tmp_path, last_row, chinese):
    path, data = _export_past_one_mb(tmp_path, last_row, chinese)
    with pytest.raises(ImportRefused) as refused:
        import_file(path, store)
    assert refused.value.code == "mixed_encodings"
    with pytest.raises(UnicodeDecodeError) as not_utf8:  # Python's decoder names the byte, reading all at once
        data.decode("utf-8")
    assert refused.value.values["byte"] == not_utf8.value.start
    assert store.batches() == []


def test_gb18030_character_across_the_first_megabyte_is_read_as_gb18030(store, tmp_path):
    """ASCII, then Chinese in GB18030 whose first character's two bytes sit either side of the first MB."""
    data = b"order_id,customer_id,order_date,amount\n"
    n = 0
    while len(data) < (1 << 20) - 60:
        data += f"{n},c{n % 97},2024-01-05,1.5\n".encode()
        n += 1
    row_start = f"{n},".encode()
    data += row_start + b"x" * ((1 << 20) - 1 - len(data) - len(row_start) - 1) + b"-"  # the customer id
    data += "张三,2024-02-01,7\n".encode("gb18030")
    assert data[(1 << 20) - 1] >= 0x80 and data[1 << 20] >= 0x80
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    report = import_file(path, store)
    assert report.encoding == "gb18030" and report.orders_accepted == n + 1
    assert stored_orders(store)[str(n)]["customer_id"].endswith("-张三")


def test_small_windows_1252_file_ending_in_an_accent_is_not_taken_for_utf8(store, tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes("order_id,customer_id,order_date,amount\n1,Zoë,2024-01-05,1.5\n2,José".encode("cp1252")
                     + b",2024-01-06,2.5\n3,Andr\xe9")  # the last byte would start a UTF-8 character
    report = import_file(path, store)
    assert report.orders_accepted == 2 and report.rows_rejected == 1  # row 3 has no date
    assert stored_orders(store)["2"]["customer_id"] == "José"


def test_a_byte_after_a_utf8_bom_is_named_by_its_place_in_the_file(store, tmp_path):
    data = codecs.BOM_UTF8 + "订单编号,客户,订单日期,金额\n1,甲,2024-01-05,1\n".encode("utf-8") + b"2,\xff,2024-01-05,1\n"
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as refused:
        import_file(path, store)
    assert refused.value.code == "mixed_encodings" and refused.value.values["byte"] == data.index(b"\xff")


@pytest.mark.parametrize("orders", [30, 3000])
def test_windows_1252_export_keeps_its_accented_names(store, tmp_path, orders):
    """What Excel on a Western-European Windows saves as CSV. charset_normalizer read it as Windows-1250
    ("Søren Ødegård" came out as "Sřren Ődegĺrd") or, at 3,000 rows, as Mac Greek."""
    names = ["Müller", "José García", "Françoise Dubois", "Søren Ødegård", "Zoë Brontë", "Jürgen Groß", "Ana Muñoz",
             "Ingrid Åberg"]
    rows = ["Bestellnummer;Kunde;Datum;Betrag"] + [f"{n};{names[n % len(names)]};2024-01-{1 + n % 28:02d};{n % 90},50 €"
                                                   for n in range(orders)]
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(rows).encode("cp1252") + b"\n")
    report = import_file(path, store, columns={"order_id": "Bestellnummer", "customer_id": "Kunde",
                                               "order_ts": "Datum", "amount": "Betrag"})
    assert report.encoding == "cp1252" and report.orders_accepted == orders
    stored = stored_orders(store)
    assert {stored[str(n)]["customer_id"] for n in range(len(names))} == set(names)
    assert stored["3"]["amount"] == Decimal("3.50")


@pytest.mark.parametrize(("encoding", "names"), [
    ("cp1250", ["Dvořák", "Łucja Wójcik", "Štěpán Novák", "Żaneta Kowalczyk"]),
    ("cp1251", ["Иван Петров", "Ольга Смирнова", "Дмитрий Кузнецов"]),
    ("cp1253", ["Γιώργος Παπαδόπουλος", "Ελένη Νικολάου"]),
    ("cp932", ["山田太郎", "佐藤花子", "鈴木一郎"]),
    ("cp949", ["김철수", "이영희", "박민수"]),
    ("big5", ["王小明", "陳美麗", "林志豪"]),
])
def test_an_export_in_a_regional_code_page_keeps_its_names(store, tmp_path, encoding, names):
    rows = ["order_id,customer_id,order_date,amount"] + [f"{n},{names[n % len(names)]},2024-01-{1 + n % 28:02d},{n % 90}.5"
                                                         for n in range(200)]
    path = tmp_path / "export.csv"
    path.write_bytes("\n".join(rows).encode(encoding) + b"\n")
    report = import_file(path, store)
    assert report.orders_accepted == 200 and report.rows_rejected == 0
    assert {order["customer_id"] for order in stored_orders(store).values()} == set(names)


def test_a_byte_gb18030_cannot_read_is_named_by_its_place_in_the_file(store, tmp_path):
    """The file is copied as UTF-8 in chunks of 4M characters: the byte named is the file's, past the first chunk."""
    rows = ["订单编号,客户,订单日期,金额"] + [f"{n},顾客{n % 97},2024-01-{1 + n % 28:02d},{n % 50}.5" for n in range(200_000)]
    data = "\n".join(rows).encode("gb18030") + b"\n200000,\xff,2024-02-01,7\n"
    assert len(data) > 5 << 20
    path = tmp_path / "export.csv"
    path.write_bytes(data)
    with pytest.raises(ImportRefused) as refused:
        import_file(path, store)
    assert refused.value.code == "mixed_encodings" and refused.value.values["encoding"] == "gb18030"
    assert refused.value.values["byte"] == data.index(b"\xff")


@pytest.mark.parametrize(
    ("delimiter", "encoding", "line_end"),
    [(";", "utf-8-sig", "\r\n"), ("\t", "utf-8", "\n"), ("|", "utf-8", "\r\n"), (",", "gb18030", "\r\n")],
)
def test_csv_dialects_and_encodings(store, tmp_path, delimiter, encoding, line_end):
    lines = [["订单编号 ", " 客户ID", "订单日期", "金额"], ["1", "甲", "2011-12-09 12:50", "\"1,234.50\""], ["2", "乙", "2011/12/09", "9"]]
    path = tmp_path / "export.csv"
    path.write_bytes(line_end.join(delimiter.join(row) for row in lines).encode(encoding) + line_end.encode())
    report = import_file(path, store)
    assert report.rows_rejected == 0, report.issues
    orders = stored_orders(store)
    assert orders["1"]["amount"] == Decimal("1234.50")
    assert orders["1"]["customer_id"] == "甲"
    assert orders["2"]["order_ts"] == pd.Timestamp("2011-12-09")


@pytest.mark.parametrize(
    ("dates", "order", "expected"),
    [
        (["12/9/2011 12:50", "1/31/2012 08:00"], "month/day/year", "2011-12-09 12:50"),
        (["12/9/2011 12:50", "31/1/2012 08:00"], "day/month/year", "2011-09-12 12:50"),
        (["09.12.2011 12:50", "31.01.2012 08:00"], "day/month/year", "2011-12-09 12:50"),
        (["2011-12-09T12:50:00Z", "2012-01-31T08:00:00+08:00"], "iso", "2011-12-09 12:50"),
        (["2011年12月9日 12:50", "2012年1月31日"], "iso", "2011-12-09 12:50"),
        # dates without a time: the year after a dash is not a time-zone offset
        (["09-12-2011", "31-01-2012"], "day/month/year", "2011-12-09"),
        (["12-09-2011", "01-31-2012"], "month/day/year", "2011-12-09"),
        (["2012-01-31 08:00 UTC", "2012-01-31 09:00:00.5-0800"], "iso", "2012-01-31 08:00"),
        # two-digit years, read in the file's day/month order; UCI as re-saved by R mixes them with four-digit ones
        (["2/20/11 11:39", "12/06/2010 10:08"], "month/day/year", "2011-02-20 11:39"),
        (["04-30-22", "12-31-21"], "month/day/year", "2022-04-30"),  # Amazon Seller Central
        (["07/16/22 9:05 PM", "1/2/23"], "month/day/year", "2022-07-16 21:05"),
        (["20/02/11", "01/03/11 10:00"], "day/month/year", "2011-02-20"),
        (["20.02.11 10:00:05", "1.3.2011"], "day/month/year", "2011-02-20 10:00:05"),
        # fits the ISO form as the year 12 (12-11-22 10:00:05): read as day-month-year, like the rest
        (["12-11-22 10:00:05", "13-11-22 10:00:05"], "day/month/year", "2022-11-12 10:00:05"),
    ],
)
def test_date_layouts(store, tmp_path, dates, order, expected):
    path = tmp_path / "dates.csv"
    path.write_text("order_id,order_date,amount\n" + "".join(f"o{i},{d},1\n" for i, d in enumerate(dates)))
    report = import_file(path, store)
    assert report.rows_rejected == 0, report.issues
    assert report.date_order == order
    assert stored_orders(store)["o0"]["order_ts"] == pd.Timestamp(expected)


@pytest.mark.parametrize("local", ["MONTH_FIRST", "DAY_FIRST"])
def test_local_date_forms_tried_first_read_every_date_as_before(local):
    """The file's own day/month form is tried before the year-first ones (3x faster for such files).
    Only a text with a one- or two-digit year can match both kinds, and then both readings fall
    before 1970, which rejects the row either way: no accepted date changes."""
    import itertools

    import duckdb

    from ingest import normalise

    formats = getattr(normalise, local)
    parts = ["1", "09", "12", "13", "31", "2011", "11", "1999"]
    texts = [f"{a}{sep}{b}{sep}{c}{time}" for a, b, c in itertools.product(parts, repeat=3)
             for sep in "/-." for time in ("", " 10:00", " 10:00:05")]
    con = duckdb.connect()
    con.execute(normalise.MACROS)
    rows = con.execute(
        "select v, try_strptime(date_text(v), $year_first), try_strptime(date_text(v), $local_first) "
        "from unnest($texts) as t(v)",
        {"texts": texts, "year_first": normalise.ISO_FORMATS + formats, "local_first": formats + normalise.ISO_FORMATS},
    ).fetchall()
    accepted = 0
    for text, before, after in rows:
        if before != after:
            assert before.year < 1970 and after.year < 1970, (text, before, after)
        elif before is not None and before.year >= 1970:
            accepted += 1
    assert accepted > 100  # the grid holds plenty of real dates


def test_two_digit_year_century(store, tmp_path):
    """00-69 are 2000-2069, 70-99 are 1970-1999 (docs/importing.md): 12/31/69 is in the future."""
    path = tmp_path / "dates.csv"
    path.write_text("order_id,order_date,amount\nA,1/1/00,1\nB,12/31/69,1\nC,1/1/70,1\nD,12/31/99 23:59,1\n")
    report = import_file(path, store)
    assert {(i["row"], i["code"]) for i in report.issues} == {(3, "future_date")}
    orders = stored_orders(store)
    assert orders["A"]["order_ts"] == pd.Timestamp("2000-01-01")
    assert orders["C"]["order_ts"] == pd.Timestamp("1970-01-01")
    assert orders["D"]["order_ts"] == pd.Timestamp("1999-12-31 23:59")


@pytest.mark.parametrize("local", ["MONTH_FIRST", "DAY_FIRST"])
def test_two_digit_years_change_no_date_read_before(local):
    """On a grid of 3,072 date texts: every date accepted before two-digit years were read reads the
    same; the dates that now read differently are exactly those with a two-digit year after day and
    month, and each reads as the date worked out here with datetime and the century rule."""
    import itertools
    import re
    from datetime import datetime

    import duckdb

    from ingest import normalise

    formats = getattr(normalise, local) + normalise.ISO_FORMATS
    parts = ["1", "09", "12", "13", "31", "2011", "11", "1999"]
    times = {"": "", " 10:00": " %H:%M", " 10:00:05": " %H:%M:%S"}
    texts = [f"{a}{sep}{b}{sep}{c}{time}" for a, b, c in itertools.product(parts, repeat=3)
             for sep in "/-." for time in times]
    con = duckdb.connect()
    con.execute(normalise.MACROS)
    query = "select v, try_strptime(date_text(v), $formats) from unnest($texts) as t(v)"
    now = dict(con.execute(query, {"texts": texts, "formats": formats}).fetchall())
    con.execute("create or replace temp macro four_digit_year(v) as v")  # date_text as it was before
    before = dict(con.execute(query, {"texts": texts, "formats": formats}).fetchall())

    two_digit_year = re.compile(r"(\d{1,2})([/.\-])(\d{1,2})\2(\d{2})( .*)?")
    changed = 0
    for text in texts:
        if before[text] is not None and before[text].year >= 1970:
            assert now[text] == before[text], text
        if now[text] == before[text]:
            continue
        changed += 1
        first, sep, second, year, time = two_digit_year.fullmatch(text).groups()
        month, day = (first, second) if local == "MONTH_FIRST" else (second, first)
        full_year = 2000 + int(year) if int(year) < 70 else 1900 + int(year)
        try:
            expected = datetime.strptime(f"{full_year}-{month}-{day}{time or ''}", "%Y-%m-%d" + times[time or ""])
        except ValueError:  # no such day or month: still unreadable
            expected = None
        if local == "MONTH_FIRST" and sep == ".":  # 1.2.11 is only ever day.month.year
            expected = None
        assert now[text] == expected, text
    assert changed > 100  # the grid holds plenty of two-digit years


def test_line_level_problems_reject_the_whole_order(store, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(
        "order_id,customer_id,order_date,sku,quantity,unit_price,refunded_amount\n"
        "L1,c1,2024-01-01,A,2,5.00,\n"        # row 2: fine, order L1 = 10
        "L1,c1,2024-01-01,B,1,2.50,\n"        # row 3: fine, order L1 = 12.50
        "L2,c2,2024-01-02,A,two,5.00,\n"      # row 4: bad quantity
        "L2,c2,2024-01-02,B,1,3.00,\n"        # row 5: sibling of a rejected row
        "L3,c3,2024-01-03,A,1,cheap,\n"       # row 6: bad unit price
        "L4,c4,2024-01-04,A,1,4.00,lots\n"    # row 7: bad refund
        "L5,c5,,A,1,4.00,\n"                  # row 8: no row of L5 has a date
        "L6,c6,2024-01-06,A,-3,4.00,\n"       # row 9: negative total on a valid order
        "L7,c7,2024-01-07,A,1,0,\n"           # row 10: zero is allowed for lines
    )
    report = import_file(path, store)
    codes = {(i["row"], i["code"]) for i in report.issues}
    assert {(4, "bad_quantity"), (5, "sibling_rejected"), (6, "bad_unit_price"), (7, "bad_refund"),
            (8, "missing_date"), (9, "negative_amount")} <= codes
    orders = stored_orders(store)
    assert sorted(orders) == ["L1", "L7"]
    assert orders["L1"]["amount"] == Decimal("12.50")
    con = store.connect()
    assert con.sql("select count(*) from order_lines where order_id = 'L1'").fetchall() == [(2,)]


def test_missing_value_markers_are_no_customer_or_dimension(store, tmp_path):
    """R / pandas / Excel write NA, N/A, NaN, null, None, #N/A or - for a missing value: a whole value
    in any case is empty (a guest order, no region); a real value that merely contains one is kept. A member
    tier keeps `none`: the word for non-members."""
    path = tmp_path / "r_export.csv"
    path.write_text(
        "order_id,customer_id,order_date,amount,region,member_tier\n"
        "A1,NA,2024-01-01,10,N/A,NA\n"
        "A2, na ,2024-01-02,10,-,None\n"
        "A3,NaN,2024-01-03,10,None,none\n"
        "A4,null,2024-01-04,10,NULL,#N/A\n"
        "A5,#N/A,2024-01-05,10,nan,gold\n"
        "A6,-,2024-01-06,10,,\n"
        "A7,None,2024-01-07,10,East,-\n"
        "A8,Nadia,2024-01-08,10,NA North,\n"
        "A9,--,2024-01-09,10,N/A-1,\n"
        "NA,c1,2024-01-10,10,East,\n"
    )
    report = import_file(path, store)
    assert {(i["row"], i["code"]) for i in report.issues if i["severity"] == "rejected"} == {(11, "missing_order_id")}
    orders = stored_orders(store)
    assert sorted(orders) == [f"A{i}" for i in range(1, 10)]
    assert [o for o, v in orders.items() if v["customer_id"] is None] == [f"A{i}" for i in range(1, 8)]
    assert report.guest_orders == 7
    assert orders["A8"]["customer_id"] == "Nadia" and orders["A9"]["customer_id"] == "--"
    assert [orders[f"A{i}"]["region"] for i in range(1, 10)] == [None] * 6 + ["East", "NA North", "N/A-1"]
    assert [orders[f"A{i}"]["member_tier"] for i in range(1, 8)] == [None, "None", "none", None, "gold", None, None]

def test_order_level_missing_values_and_zero_amount(store, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_date,amount\n"
        "O1,c1,,10\n"            # row 2: missing date
        "O2,c1,2024-01-02,\n"    # row 3: missing amount
        "O3,c1,2024-01-03,0\n"   # row 4: zero amount, kept with a warning
    )
    report = import_file(path, store)
    issues = {(i["row"], i["code"]): i["severity"] for i in report.issues}
    assert issues == {(2, "missing_date"): "rejected", (3, "missing_amount"): "rejected", (4, "zero_amount"): "warning"}
    assert sorted(stored_orders(store)) == ["O3"]


def test_line_level_zero_amount_is_warned_once_but_a_refunded_order_is_not(store, tmp_path):
    path = tmp_path / "lines.csv"
    path.write_text(
        "order_id,customer_id,order_date,sku,quantity,unit_price,refunded_amount\n"
        "F1,c1,2024-01-02,A,1,0,\n"       # rows 2-3: free items, lines add up to 0: warned once, on row 2
        "F1,c1,2024-01-02,B,2,0,\n"
        "R1,c2,2024-01-03,A,1,60,100\n"   # rows 4-5: 60 + 40, all of it refunded: a refund, not a zero amount
        "R1,c2,2024-01-03,B,1,40,100\n"
        "P1,c3,2024-01-04,A,1,5,\n"
    )
    report = import_file(path, store)
    assert [(i["row"], i["code"], i["severity"], i["value"]) for i in report.issues] == [(2, "zero_amount", "warning", "0.00")]
    orders = stored_orders(store)
    assert sorted(orders) == ["F1", "P1", "R1"] and report.refunded_orders == 1
    assert [orders[o]["status"] for o in ("F1", "P1", "R1")] == ["valid", "valid", "refunded"]


def test_a_line_level_order_is_valid_when_any_line_is_and_its_cancelled_lines_are_left_out(store, tmp_path):
    """Wayfair states each line's status: an order of two cancelled lines and a shipped one was stored as
    cancelled at the sum of all three (the first line decided), and a shipped line beside a cancelled unit
    was counted with it."""
    path = tmp_path / "po.csv"
    path.write_text(
        "PO Number,PO Date,Order Status,Quantity,Wholesale Price,SKU,Ship To Name\n"
        "W1,07/06/2022,Cancelled,6,71.05,A,c1\n"   # rows 2-4: valid (row 4 shipped), 7 x 71.05 = 497.35
        "W1,07/06/2022,Cancelled,7,71.05,A,c1\n"
        "W1,07/06/2022,Shipped,7,71.05,A,c1\n"
        "W2,07/30/2022,Shipped,2,142,B,c2\n"       # rows 5-6: 2 x 142 = 284.00
        "W2,07/30/2022,Cancelled,1,142,B,c2\n"
        "W3,07/31/2022,Cancelled,1,10,C,c3\n"      # rows 7-8: every line cancelled: cancelled, 30.00
        "W3,07/31/2022,Cancelled,2,10,C,c3\n"
    )
    report = import_file(path, store)
    orders = stored_orders(store)
    assert {o: (orders[o]["status"], orders[o]["amount"]) for o in orders} == {
        "W1": ("valid", Decimal("497.35")), "W2": ("valid", Decimal("284.00")), "W3": ("cancelled", Decimal("30.00"))}
    assert [(i["row"], i["code"], i["severity"]) for i in report.issues] == [
        (2, "line_left_out", "warning"), (3, "line_left_out", "warning"), (6, "line_left_out", "warning")]
    assert report.orders_accepted == 3 and report.cancelled_orders == 1


def test_a_refunded_line_is_taken_off_once_and_an_unpaid_line_is_left_out(store, tmp_path):
    """With a refund column, a refunded line's refund is subtracted from the lines' sum, so the line itself
    stays in it (it was left out and its refund subtracted again: 100 + 50 refunded 50 gave 50.00, and a
    refund above the rest rejected the order as negative). Without one, the refunded line is left out.
    An unpaid line of a paid order is not revenue."""
    path = tmp_path / "refund_column.csv"
    path.write_text(
        "order id,customer id,order date,status,sku,line amount,refunded amount\n"
        "O1,c1,2024-03-01,paid,A,100,\n"        # rows 2-3: 150 - 50 = 100.00
        "O1,c1,2024-03-01,refunded,B,50,50\n"
        "O2,c2,2024-03-01,paid,A,30,\n"         # rows 4-5: 80 - 50 = 30.00 (was rejected: 30 - 50)
        "O2,c2,2024-03-01,refunded,B,50,50\n"
        "O3,c3,2024-03-01,paid,A,20,\n"         # rows 6-7: the pending line left out: 20.00
        "O3,c3,2024-03-01,pending,B,10,\n"
    )
    report = import_file(path, store)
    orders = stored_orders(store)
    assert {o: (v["status"], v["amount"]) for o, v in orders.items()} == {
        "O1": ("valid", Decimal("100.00")), "O2": ("valid", Decimal("30.00")), "O3": ("valid", Decimal("20.00"))}
    assert [(i["row"], i["code"]) for i in report.issues] == [(7, "line_left_out")]
    other = store.__class__(tmp_path / "other")
    path = tmp_path / "no_refund_column.csv"
    path.write_text("order id,customer id,order date,status,sku,line amount\n"
                    "R1,c1,2024-03-01,paid,A,100\nR1,c1,2024-03-01,refunded,B,50\n")
    report = import_file(path, other)
    assert [(v["status"], v["amount"]) for v in stored_orders(other).values()] == [("valid", Decimal("100.00"))]
    assert [(i["row"], i["code"], i["reason"]) for i in report.issues] == [
        (3, "line_left_out", "line refunded in an order with valid lines: left out of the order's amount")]


def test_an_order_total_on_every_line_is_the_files_own_whatever_the_line_statuses(store, tmp_path):
    """A line-level file with an order total: the total is not a sum of lines, so no line is left out of it
    (and none is warned about); the order is valid because one of its lines is."""
    path = tmp_path / "totals.csv"
    path.write_text("order id,customer id,order date,status,sku,quantity,unit price,total\n"
                    "O8,c1,2024-03-01,cancelled,A,6,10,130\nO8,c1,2024-03-01,shipped,B,7,10,130\n")
    report = import_file(path, store)
    assert [(v["status"], v["amount"]) for v in stored_orders(store).values()] == [("valid", Decimal("130.00"))]
    assert "line_left_out" not in report.issue_counts


def test_cancelled_or_refunded_orders_need_no_amount(store, tmp_path):
    """An order that is not valid may leave its amount empty (Amazon does on cancelled items): it is
    kept as a cancellation (or refund) of amount 0; a valid order without an amount is still rejected."""
    path = tmp_path / "orders.csv"
    path.write_text(
        "order_id,customer_id,order_date,amount,status\n"
        "C1,c1,2024-01-01,,cancelled\n"    # row 2: kept, cancelled, 0
        "C2,c1,2024-01-02,,refunded\n"     # row 3: kept, refunded, 0
        "C3,c2,2024-01-03,,paid\n"         # row 4: valid without amount: rejected
        "C4,c2,2024-01-04,,\n"             # row 5: no status = valid: rejected
        "C5,c2,2024-01-05,12.50,cancelled\n"
        "C6,c3,2024-01-06,7,paid\n"
    )
    report = import_file(path, store)
    assert {(i["row"], i["code"]) for i in report.issues} == {(4, "missing_amount"), (5, "missing_amount")}
    orders = stored_orders(store)
    assert sorted(orders) == ["C1", "C2", "C5", "C6"]
    assert (orders["C1"]["status"], orders["C1"]["amount"]) == ("cancelled", Decimal("0"))
    assert (orders["C2"]["status"], orders["C2"]["amount"]) == ("refunded", Decimal("0"))
    assert (orders["C5"]["status"], orders["C5"]["amount"]) == ("cancelled", Decimal("12.50"))

    lines = tmp_path / "lines.csv"
    lines.write_text(
        "order_id,order_date,sku,line_amount,status\n"
        "L1,2024-02-01,A,,Cancelled\n"     # rows 2-3: every item cancelled, no amount: kept, 0
        "L1,2024-02-01,B,,Cancelled\n"
        "L2,2024-02-02,A,,Shipped\n"       # row 4: a shipped item without amount: rejected
        "L3,2024-02-03,A,5.00,Shipped\n"   # rows 5-6: a sale with one item cancelled: 5.00
        "L3,2024-02-03,B,,Cancelled\n"
    )
    other = store.__class__(tmp_path / "other")
    report = import_file(lines, other)
    assert {(i["row"], i["code"]) for i in report.issues} == {(4, "missing_amount")}
    orders = stored_orders(other)
    assert sorted(orders) == ["L1", "L3"]
    assert (orders["L1"]["status"], orders["L1"]["amount"]) == ("cancelled", Decimal("0"))
    assert (orders["L3"]["status"], orders["L3"]["amount"]) == ("valid", Decimal("5.00"))

def test_assignments_import_and_errors(store, tmp_path):
    from ingest.assignments import import_assignments

    import_file(fixture("generic_orders.csv"), store)
    path = tmp_path / "assignments.csv"
    path.write_text(
        "experiment,customer_id,variant,assigned_at,strategy\n"
        "exp1,c1,control,2024-02-01,points_tiers\n"
        "exp1,c2,treatment,2024-02-01,points_tiers\n"
        "exp1,c7,control,2024-02-01,points_tiers\n"
        "exp1,c7,treatment,2024-02-01,points_tiers\n"   # c7 in two variants: both rows rejected
        "exp1,c9,treatment,someday,points_tiers\n"       # bad date
        "exp2,c1,A,2024-03-01,offers\n"
        "exp2,c2,B,2024-03-01,offers\n"
        "exp3,c1,x,2024-03-01,offers\n"
        "exp3,c2,y,2024-03-01,offers\n"                  # exp3 has no control arm
    )
    report = import_assignments(path, store)
    assert report["rows_accepted"] == 6
    assert report["rows_rejected"] == 3
    assert any("exp3" in w and "no control" in w for w in report["warnings"])
    assert any("have no valid order" in w for w in report["warnings"])  # c2 has only a cancelled order
    con = store.connect()
    assert con.sql("select count(*) from assignments where customer_id = 'c7'").fetchall() == [(0,)]


def test_woocommerce_plugin_export_and_bad_line_amount(store, tmp_path):
    path = tmp_path / "woo_plugin.csv"
    path.write_text(
        "order_id,order_number,order_date,status,order_total,order_currency,customer_email,billing_state,line_total\n"
        "11,W-11,2024-05-01 09:00:00,wc-completed,45.00,EUR,Ann@Shop.example,Bavaria,45.00\n"
        "12,W-12,2024-05-02 10:00:00,wc-refunded,30.00,EUR,bo@shop.example,Berlin,30.00\n"
        "13,W-13,2024-05-03 11:00:00,wc-processing,99.90,EUR,,Hesse,99.90\n"
    )
    report = import_file(path, store)
    assert report.preset == "woocommerce_plugin"
    orders = stored_orders(store)
    assert sorted(orders) == ["W-11", "W-12", "W-13"]
    assert orders["W-11"]["customer_id"] == "ann@shop.example"
    assert orders["W-12"]["status"] == "refunded"
    assert orders["W-13"]["customer_id"] is None and orders["W-13"]["region"] == "Hesse"
    assert report.currency == "EUR"

    lines = tmp_path / "lines.csv"
    lines.write_text("order_id,order_date,line_amount\nX1,2024-05-01,12.50\nX1,2024-05-01,n/a\nX2,2024-05-02,3\n")
    report = import_file(lines, store.__class__(tmp_path / "other"))
    codes = {(i["row"], i["code"]) for i in report.issues}
    assert (3, "bad_line_amount") in codes and (2, "sibling_rejected") in codes
    assert report.orders_accepted == 1


def test_woocommerce_field_names_are_recognised_without_a_preset(store, tmp_path):
    """WooCommerce names the order date date_created, the customer billing_email and the country
    billing_country (its REST API and most export plugins): a real shop's export was refused for want of an
    order date though the built-in woocommerce_plugin preset lists both."""
    path = tmp_path / "woo.csv"
    path.write_text(
        "order_number,status,currency,date_created,date_paid,order_total,billing_email,billing_country\n"
        "1001,completed,PKR,2025-10-02T11:20:00,2025-10-02T11:21:00,2150.00,a@example.com,PK\n"
        "1002,completed,PKR,2025-11-05T09:00:00,2025-11-05T09:01:00,3000.00,A@example.com,PK\n",
        encoding="utf-8",
    )
    report = import_file(path, store)
    assert {f: report.mapping.get(f) for f in ("order_ts", "customer_id", "region")} == {
        "order_ts": "date_created", "customer_id": "billing_email", "region": "billing_country"}
    assert report.orders_accepted == 2 and report.currency == "PKR"
    assert len({o["customer_id"] for o in stored_orders(store).values()}) == 1  # the same e-mail, any case


def test_a_guest_number_does_not_win_over_the_e_mail(store, tmp_path):
    """WooCommerce writes customer_user 0 for every guest: beside billing_email it made all guests one customer."""
    path = tmp_path / "woo_guests.csv"
    path.write_text("order_number,date_created,order_total,customer_user,billing_email\n"
                    "1,2025-10-02,10.00,0,a@example.com\n2,2025-10-03,12.00,0,b@example.com\n"
                    "3,2025-10-04,14.00,7,c@example.com\n", encoding="utf-8")
    report = import_file(path, store, currency="USD")
    assert report.mapping["customer_id"] == "billing_email"
    assert sorted(o["customer_id"] for o in stored_orders(store).values()) == [
        "a@example.com", "b@example.com", "c@example.com"]


def test_a_refund_written_as_a_negative_number_is_a_refund(store, tmp_path):
    """-30 in a refund column was added to the amount (100 became 130.00), and a 0-paid order with -20 refunded
    became a sale of 20.00: a refund is money given back, however the export signs it."""
    path = tmp_path / "signed.csv"
    path.write_text("order id,customer id,order date,amount,refunded amount\n"
                    "A1,c1,2024-03-01,100.00,-30.00\nB2,c2,2024-03-02,0,-20.00\nC3,c3,2024-03-03,40.00,\n",
                    encoding="utf-8")
    report = import_file(path, store, currency="USD")
    orders = stored_orders(store)
    assert {k: o["amount"] for k, o in orders.items()} == {"A1": Decimal("70.00"), "C3": Decimal("40.00")}
    assert [(i["row"], i["code"], i["value"]) for i in report.issues] == [
        (3, "refund_exceeds_amount", "paid 0, refunded -20.00")]


def test_amazon_order_history_counts_what_was_charged(store, tmp_path):
    """Amazon's "Your Orders" export gives each item's Total Owed (shipping and tax in, discounts off) beside
    Quantity and Unit Price: revenue was Quantity x Unit Price (76.07 instead of 77.82 in a real December),
    and ASIN, its SKU, was not recognised, so no line was kept."""
    path = tmp_path / "Retail.OrderHistory.1.csv"
    path.write_text(
        '"Website","Order ID","Order Date","Currency","Unit Price","Shipping Charge","Total Discounts",'
        '"Total Owed","ASIN","Quantity","Order Status"\n'
        '"Amazon.com","111-1","2022-12-03T10:00:00Z","USD","20.00","1.75","0","21.75","B001","1","Closed"\n'
        '"Amazon.com","111-1","2022-12-03T10:00:00Z","USD","5.00","0","-1.70","3.30","B002","1","Closed"\n'
        '"Amazon.com","111-2","2022-12-09T10:00:00Z","USD","29.45","0","0","0","B003","0","Cancelled"\n',
        encoding="utf-8")
    report = import_file(path, store)
    assert report.mapping["line_amount"] == "Total Owed" and report.mapping["sku"] == "ASIN"
    assert report.lines_accepted == 3 and report.cancelled_orders == 1
    assert stored_orders(store)["111-1"]["amount"] == Decimal("25.05")  # 21.75 + 3.30, not 20 + 5


def test_rows_of_one_order_id_that_differ_in_a_dimension_are_not_identical(store, tmp_path):
    """A coffee machine's log (the timestamp mapped as the order id): Latte and Cappuccino at one minute on one
    card were folded as the same order "repeated identically", dropping a drink without saying so."""
    path = tmp_path / "coffee.csv"
    path.write_text("datetime,card,money,coffee_name\n"
                    "2024-10-06 13:51,ANON-1,35.76,Latte\n2024-10-06 13:51,ANON-1,35.76,Cappuccino\n"
                    "2024-10-06 14:02,ANON-2,28.90,Americano\n2024-10-06 14:02,ANON-2,28.90,Americano\n",
                    encoding="utf-8")
    columns = {"order_id": "datetime", "order_ts": "datetime", "customer_id": "card", "amount": "money",
               "category": "coffee_name"}
    report = import_file(path, store, columns=columns, currency="UAH")
    codes = sorted((i["row"], i["code"]) for i in report.issues)
    assert codes == [(2, "duplicate_conflict"), (3, "duplicate_conflict"), (5, "duplicate_row")], codes
    assert list(stored_orders(store)) == ["2024-10-06 14:02"]


def test_everyday_chinese_pos_headers_are_recognised(store, tmp_path):
    """A pharmacy's and a restaurant's POS exports name the customer by card (会员卡号, 社保卡号), the quantity
    销售数量 and the order time place_order_time: each had to be mapped by hand."""
    path = tmp_path / "pos.csv"
    path.write_text("单号,会员卡号,place_order_time,销售数量,单价,商品编码\n"
                    "P1,0012,2018-01-01 10:00,2,12.50,A\nP2,0012,2018-01-08 11:00,1,30.00,B\n", encoding="utf-8")
    report = import_file(path, store, currency="CNY")
    assert {f: report.mapping.get(f) for f in ("order_id", "customer_id", "order_ts", "quantity")} == {
        "order_id": "单号", "customer_id": "会员卡号", "order_ts": "place_order_time", "quantity": "销售数量"}
    assert [o["amount"] for o in stored_orders(store).values()] == [Decimal("25.00"), Decimal("30.00")]
