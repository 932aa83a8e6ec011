"""`python -m ingest ... --engine spark`: the same file imported by Spark and by DuckDB (the default)
gives the same record accounting, the same issue list and rejected rows, the same stored batch and
the same numbers in every table of the store and in `python -m metrics summary --json`.

Generated files (CSV, Parquet, a folder and a glob of Parquet parts) and real exports from
tests/fixtures/real/; one export's accounting is also checked against a plain-Python count of its
raw file. One local Spark session serves every test (marker `spark`).
"""

import csv
import json
import math
import shutil
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from conftest import SPARK_TEST_CONF
from ingest import ImportRefused, import_file, privacy
from ingest.demo import write_demo
from store import Store
from store.derived import table_files
from store.models.registry import BUILD_ORDER
from tests.test_real_exports import REAL, TMALL, raw_rows, shopify_expected

pytestmark = pytest.mark.spark

ROOT = Path(__file__).resolve().parent.parent
# what may differ between the two imports' reports: when and how long, and which engine
NOT_COMPARED = {"batch_id", "seconds", "published_seconds", "engine"}


@pytest.fixture(scope="session")
def spark():
    """The process's local Spark session (tests/test_spark_conformance.py may have started it)."""
    assert shutil.which("java"), "Java is missing: run `make test` (installs openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
    except ImportError as missing:  # fails, never skips: `make test` installs it
        pytest.fail(f"{missing.name} is missing: run `make test` (installs requirements-spark.txt)")
    from store.spark import spark_session

    session = spark_session("local[2]", SPARK_TEST_CONF)
    session.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")  # dates read by our patterns only
    return session


def both(tmp_path: Path, source, spark, duckdb_source=None, spark_store: bool = False, **options):
    """Import `source` with Spark and (`duckdb_source` or `source`) with DuckDB into two new stores;
    `spark_store`: the Spark import's store builds its tables on Spark too (as the CLI does)."""
    stores = {"spark": Store(tmp_path / "store_spark", engine="spark" if spark_store else "duckdb"),
              "duckdb": Store(tmp_path / "store_duckdb")}
    reports = {
        "spark": import_file(source, stores["spark"], engine="spark", spark_master="local[2]", **options),
        "duckdb": import_file(duckdb_source or source, stores["duckdb"], **options),
    }
    return stores, reports


def comparable(report, built_on_spark: bool) -> dict:
    # a store built on Spark always rebuilds every table (no append path): how is not compared, what is
    skip = NOT_COMPARED | {"file"} | ({"build_path", "build_path_reason"} if built_on_spark else set())
    return {k: v for k, v in report.to_dict().items() if k not in skip}


def sorted_frame(frame: pd.DataFrame) -> pd.DataFrame:
    frame = frame.astype(object).where(frame.notna(), None)
    keyed = frame.assign(_key=frame.apply(lambda row: repr(tuple(row)), axis=1))
    return keyed.sort_values("_key").drop(columns="_key").reset_index(drop=True)


def assert_same_frames(left: pd.DataFrame, right: pd.DataFrame, what: str) -> None:
    assert list(left.columns) == list(right.columns), what
    assert [str(t) for t in left.dtypes] == [str(t) for t in right.dtypes], what
    left, right = sorted_frame(left), sorted_frame(right)
    assert len(left) == len(right), what
    for column in left.columns:
        for a, b in zip(left[column], right[column]):
            if isinstance(a, float) and isinstance(b, float):
                assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12) or (math.isnan(a) and math.isnan(b)), \
                    (what, column, a, b)
            else:
                assert a == b, (what, column, a, b)


def batch_tables(store: Store) -> dict[str, pd.DataFrame]:
    folder = store.batch_folder(store.batches()[-1]["id"])
    return {p.stem: pd.read_parquet(p) for p in sorted(folder.glob("*.parquet"))}


def version_tables(store: Store) -> dict[str, pd.DataFrame]:
    """Every table of the store's version (all of its files), without the batch id (a random name per import)."""
    folder = store.version_dir()
    return {name: pd.concat([pd.read_parquet(p) for p in table_files(folder, name)], ignore_index=True)
            .drop(columns="batch_id", errors="ignore")
            for name in BUILD_ORDER if table_files(folder, name)}


def metrics_summary(store: Store) -> dict:
    run = subprocess.run([sys.executable, "-m", "metrics", "summary", "--store", str(store.root), "--json"],
                         capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def assert_same_import(stores: dict, reports: dict, summary: bool = False) -> None:
    """Accounting, issues, rejected rows, the batch's tables and every table of the store version."""
    assert reports["spark"].engine == "spark" and reports["duckdb"].engine == "duckdb"
    on_spark = stores["spark"].engine == "spark"
    assert comparable(reports["spark"], on_spark) == comparable(reports["duckdb"], on_spark)
    spark_batch, duckdb_batch = batch_tables(stores["spark"]), batch_tables(stores["duckdb"])
    assert set(spark_batch) == set(duckdb_batch)
    for name in duckdb_batch:
        assert_same_frames(spark_batch[name], duckdb_batch[name], f"batch {name}")
    spark_version, duckdb_version = version_tables(stores["spark"]), version_tables(stores["duckdb"])
    assert set(spark_version) == set(duckdb_version)
    for name in duckdb_version:
        assert_same_frames(spark_version[name], duckdb_version[name], f"table {name}")
    assert stores["spark"].batches()[-1]["engine"] == "spark"
    if summary:
        spark_summary, duckdb_summary = metrics_summary(stores["spark"]), metrics_summary(stores["duckdb"])
        assert spark_summary.keys() == duckdb_summary.keys()
        for key in duckdb_summary:
            assert spark_summary[key] == duckdb_summary[key], key


# ---- generated data ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo_files(tmp_path_factory) -> dict[str, Path]:
    """The demo orders (300 customers) as one CSV, one typed Parquet file and a folder of three parts."""
    root = tmp_path_factory.mktemp("spark_demo")
    paths = write_demo(root / "csv", customers=300, csv=True)
    typed = write_demo(root / "parquet", customers=300)["orders"]
    table = pq.read_table(typed)
    parts = root / "parts"
    parts.mkdir()
    third = -(-table.num_rows // 3)
    for index in range(3):  # the folder's files in name order are the file's rows in order
        pq.write_table(table.slice(index * third, third), parts / f"orders_{index}.parquet")
    return {"csv": paths["orders"], "parquet": typed, "parts": parts, "rows": table.num_rows}


def test_a_generated_csv_gives_the_same_store_and_numbers_on_both_engines(tmp_path, spark, demo_files):
    """The whole of `python -m ingest FILE --engine spark`: read, checked and built on Spark."""
    stores, reports = both(tmp_path, demo_files["csv"], spark, spark_store=True)
    assert reports["spark"].records_in_file == demo_files["rows"]
    assert reports["spark"].orders_accepted > 1_000
    assert_same_import(stores, reports, summary=True)


def test_floating_point_columns_read_as_the_same_text_on_both_engines(tmp_path, spark):
    """pandas writes a customer number column with gaps as float64 (17850.0): DuckDB reads it as 17850.0,
    Spark's cast said 1.785E4 past 10 million, so the two engines stored different customers."""
    import pyarrow as pa

    path = tmp_path / "floats.parquet"
    pq.write_table(pa.table({
        "order_id": [1.0, 2.0, 3.0, 4.0],
        "customer_id": [17850.0, None, 12345678.0, 98765432101.0],
        "order_date": ["2024-01-05", "2024-01-06", "2024-01-07", "2024-01-08"],
        "amount": [38.7, 12345678.5, 0.25, 1e7],
    }), path)
    stores, reports = both(tmp_path, path, spark)
    assert_same_import(stores, reports)
    orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet").sort_values("order_id")
    assert list(orders["customer_id"].fillna("")) == ["17850", "", "12345678", "98765432101"]
    assert [str(a) for a in orders["amount"]] == ["38.70", "12345678.50", "0.25", "10000000.00"]


@pytest.mark.parametrize("pattern", ["folder", "glob"])
def test_a_folder_or_glob_of_parquet_parts_is_the_whole_file(tmp_path, spark, demo_files, pattern):
    source = demo_files["parts"] if pattern == "folder" else f"{demo_files['parts']}/orders_*.parquet"
    stores, reports = both(tmp_path, source, spark, duckdb_source=demo_files["parquet"])
    assert reports["spark"].records_in_file == demo_files["rows"]
    assert_same_import(stores, reports)
    kept = stores["spark"].batch_folder(stores["spark"].batches()[-1]["id"]) / "original"
    listing = json.loads(next(kept.iterdir()).read_text(encoding="utf-8"))
    assert [Path(f["file"]).name for f in listing["files"]] == [f"orders_{i}.parquet" for i in range(3)]


def test_rejected_rows_and_skipped_rows_are_the_same_on_both_engines(tmp_path, spark):
    path = tmp_path / "messy.csv"
    rows = [["Order ID", "Customer", "Order Date", "Total", "Status"],
            ["A1", "c1", "2024-03-01 10:00", "12.50", "paid"],
            ["A2", "NA", "03/02/2024", "¥1,234.50", "paid"],
            ["", "c3", "2024-03-03", "5", "paid"],  # no order id: rejected
            ["A4", "c4", "not a date", "5", "paid"],  # rejected
            ["A5", "c5", "2024-03-05", "abc", "paid"],  # rejected
            ["A1", "c1", "2024-03-01 10:00", "12.50", "paid"],  # identical duplicate: folded
            ["A6", "c6", "2024-03-06", "-4", "paid"],  # negative: rejected
            ["A7", "c7", "2024-03-07", "7", "weird"],  # unknown status: a warning
            ["", "", "", "", ""],  # blank: skipped
            ["Order ID", "Customer", "Order Date", "Total", "Status"],  # repeated header: skipped
            ["A8", "c8", "2024-03-08", "8", "paid"],
            ["Total", "", "", "1268", ""]]  # totals row: skipped
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
        handle.write("\nA9,c9,2024-03-09,9\n")  # an empty line, and a short row
    stores, reports = both(tmp_path, path, spark)
    spark_report = reports["spark"]
    assert spark_report.records_in_file == 14  # the csv module's count (the empty line is a record)
    # accepted A1 A2 A7 A8 A9; rejected no id, A4, A5, A6; folded the second A1
    assert (spark_report.records_accepted, spark_report.records_rejected, spark_report.records_folded,
            spark_report.records_skipped) == (5, 4, 1, 4)
    assert spark_report.skipped_reasons == {"blank_line": 2, "repeated_header": 1, "totals_row": 1}
    assert_same_import(stores, reports)


def line_level_problems(path: Path) -> Path:
    """A line-level file with every check across rows: a rejected line's siblings, an order with no
    date on any line, lines adding up to a negative order, another currency, ids in two versions,
    an e-mail address in the coupon column, a quoted value longer than the issue list shows and one
    too long to be real."""
    rows = [["order_id", "customer_id", "order_date", "sku", "quantity", "unit_price", "currency", "coupon_code"],
            ["L1", "c1", "2024-01-01", "A", "2", "5.00", "USD", ""],  # row 2: accepted, L1 = 12.50
            ["L1", "c1", "2024-01-01", "B", "1", "2.50", "USD", ""],  # row 3: folded into L1
            ["L2", "c2", "2024-01-02", "A", "two", "5.00", "USD", ""],  # row 4: bad quantity
            ["L2", "c2", "2024-01-02", "B", "1", "3.00", "USD", ""],  # row 5: its sibling
            ["L5", "c5", "", "A", "1", "4.00", "USD", ""],  # row 6: no line of L5 has a date
            ["L6", "c6", "2024-01-06", "A", "-3", "4.00", "USD", ""],  # row 7: lines add up to -12
            ["L7", "c7", "2024-01-07", "A", "1", "1.00", "EUR", ""],  # row 8: another currency
            ["L8", "c8", "2024-01-08", "A", "1", "1.00", "USD", "Ann@Example.com"],  # row 9: accepted
            ["L9", "c9", "x" * 300, "A", "1", "1.00", "USD", ""],  # row 10: bad date, quoted cut at 200
            ["L10", "c10", "2024-01-10", "A", "1", "y" * 1500, "USD", ""],  # row 11: too long to be real
            ["L11", "c11", "2024-01-11", "A", "1", "1.00", "USD", ""],  # rows 12, 13: two customers
            ["L11", "c12", "2024-01-11", "B", "1", "1.00", "USD", ""]]
    with open(path, "w", newline="", encoding="utf-8") as handle:
        csv.writer(handle, lineterminator="\n").writerows(rows)
    return path


def test_the_checks_across_rows_run_on_spark_and_find_what_duckdb_finds(tmp_path, spark, monkeypatch):
    from store.spark import SparkConnection

    on_spark = []
    run = SparkConnection.execute
    monkeypatch.setattr(SparkConnection, "execute",
                        lambda self, sql, params=None: on_spark.append(" ".join(sql.split())) or run(self, sql, params))
    stores, reports = both(tmp_path, line_level_problems(tmp_path / "lines.csv"), spark)
    monkeypatch.undo()
    for step in ("create or replace temp table row_issues", "create or replace temp table sibling_issues",
                 "create or replace temp table duplicate_issues", "create or replace temp table total_issues",
                 "create or replace temp table issues", "select count(*) from accepted"):
        assert any(sql.startswith(step) for sql in on_spark), step
    report = reports["spark"]
    codes = {(issue["row"], issue["code"]) for issue in report.issues}
    assert codes == {(4, "bad_quantity"), (5, "sibling_rejected"), (6, "missing_date"), (7, "negative_amount"),
                     (8, "currency_mismatch"), (10, "bad_date"), (11, "value_too_long"),
                     (12, "duplicate_conflict"), (13, "duplicate_conflict")}
    (bad_date,) = [issue for issue in report.issues if issue["code"] == "bad_date"]
    assert bad_date["value"] == "x" * 200 + "…"
    (negative,) = [issue for issue in report.issues if issue["code"] == "negative_amount"]
    assert Decimal(negative["value"]) == Decimal("-12")
    assert (report.records_in_file, report.records_accepted, report.records_folded, report.records_rejected) == \
        (12, 2, 1, 9)
    assert_same_import(stores, reports)


def test_a_pseudonymised_import_on_spark_stores_what_duckdb_stores(tmp_path, spark):
    key = "k" * 40
    stores, reports = both(tmp_path, line_level_problems(tmp_path / "lines.csv"), spark, pseudonym_key=key)
    assert reports["spark"].values_pseudonymised == {"coupon_code": 1}
    orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    assert set(orders["customer_id"]) == {privacy.pseudonym(c, key) for c in ("c1", "c8")}
    assert list(orders.loc[orders["order_id"] == "L8", "coupon_code"]) == [privacy.contact_pseudonym("Ann@Example.com", key)]
    rejected = batch_tables(stores["spark"])["rejected_rows"]
    assert "c2" not in set(rejected["customer_id"]) and privacy.pseudonym("c2", key) in set(rejected["customer_id"])
    assert_same_import(stores, reports)


# ---- real exports ----------------------------------------------------------------------------

SHOPIFY = "shopify_enavant_orders_export_1.csv"
UCI = "uci_online_retail_r_sample_2000.csv"  # ';', CRLF, NA customers, two-digit years


def test_a_real_line_level_export_gives_the_same_store_and_numbers_on_both_engines(tmp_path, spark):
    stores, reports = both(tmp_path, REAL / UCI, spark)
    assert reports["spark"].records_in_file == len(raw_rows(UCI, delimiter=";")) == 2000
    assert_same_import(stores, reports, summary=True)


def test_a_real_export_on_spark_accounts_for_every_record_as_counted_by_hand(tmp_path, spark):
    expected = shopify_expected(SHOPIFY)  # the csv module and Shopify's meaning of its columns
    rows = raw_rows(SHOPIFY)
    stores, reports = both(tmp_path, REAL / SHOPIFY, spark)
    assert_same_import(stores, reports, summary=True)
    report = reports["spark"]
    assert report.records_in_file == len(rows) == 811
    assert report.records_rejected == 0 and report.records_skipped == 0
    assert report.records_accepted == report.orders_accepted == len(expected["orders"]) == 409
    assert report.records_folded == len(rows) - len(expected["orders"])  # the other line rows of each order
    valid = {o for o, s in expected["status"].items() if s == "valid"}
    store_orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    stored_valid = store_orders[store_orders["status"] == "valid"]
    assert set(stored_valid["order_id"]) == valid
    assert sum(Decimal(str(a)) for a in stored_valid["amount"]) == sum(expected["amount"][o] for o in valid)


def test_ebay_report_below_its_blank_line_and_above_its_footer_on_spark_as_on_duckdb(tmp_path, spark):
    from tests.test_real_exports import EBAY, ebay_expected

    stores, reports = both(tmp_path, REAL / EBAY, spark)
    assert_same_import(stores, reports, summary=True)
    assert reports["spark"].date_order == "month name"
    assert reports["spark"].skipped_reasons == {"blank_line": ebay_expected()["blank"], "report_footer": 2}
    store_orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    assert {o: Decimal(str(a)) for o, a in zip(store_orders["order_id"], store_orders["amount"])} == \
        ebay_expected()["amounts"]


def test_a_log_without_order_numbers_gets_the_same_row_ids_on_spark(tmp_path, spark):
    from tests.test_real_exports import COFFEE, COFFEE_COLUMNS, coffee_expected

    stores, reports = both(tmp_path, REAL / COFFEE, spark, columns=COFFEE_COLUMNS, each_row_an_order=True)
    assert_same_import(stores, reports, summary=True)
    store_orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    assert len(store_orders) == store_orders["order_id"].nunique() == coffee_expected()["orders"]


def test_square_refund_rows_on_spark_as_on_duckdb(tmp_path, spark):
    from tests.test_real_exports import SQUARE, square_expected

    stores, reports = both(tmp_path, REAL / SQUARE, spark)
    assert_same_import(stores, reports, summary=True)
    store_orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    assert set(store_orders[store_orders["status"] == "refunded"]["order_id"]) == square_expected()["refunded"]


def test_wayfair_line_statuses_on_spark_as_on_duckdb(tmp_path, spark):
    """Each PO line has its own status (tests/test_real_exports.py works out the orders from the raw file): an
    order with a shipped line is valid at its shipped lines' value, on both engines, with the same warnings."""
    from tests.test_real_exports import WAYFAIR, WAYFAIR_COLUMNS, wayfair_expected

    stores, reports = both(tmp_path, REAL / WAYFAIR, spark, columns=WAYFAIR_COLUMNS)
    assert_same_import(stores, reports)
    store_orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet")
    valid = store_orders[store_orders["status"] == "valid"]
    assert {o: Decimal(str(a)) for o, a in zip(valid["order_id"], valid["amount"])} == wayfair_expected()["valid"]
    assert reports["spark"].issue_counts["line_left_out"] == wayfair_expected()["left_out"]


def test_tmall_on_spark_reads_its_refunds_and_provinces_as_duckdb_does(tmp_path, spark):
    """The refund rule is read from the rows on Spark: Tmall's paid amount is already net of refunds
    (tests/test_real_exports.py shows it from the raw file), and its addresses give provinces."""
    stores, reports = both(tmp_path, REAL / TMALL, spark)
    report = reports["spark"]
    assert report.refunds == "already_net" and report.records_in_file == len(raw_rows(TMALL)) == 2000
    assert_same_import(stores, reports)


def test_an_import_into_a_spark_store_reports_only_the_steps_it_takes(tmp_path, spark):
    """A store built on Spark builds every table before publishing: its import shows no "building the
    last-date summary tables" step, which a store built on DuckDB shows after publishing."""
    steps = {"spark": [], "duckdb": []}
    for engine, seen in steps.items():
        options = {"engine": "spark", "spark_master": "local[2]"} if engine == "spark" else {}
        import_file(REAL / TMALL, Store(tmp_path / engine, engine=engine), progress=lambda _, step: seen.append(step),
                    **options)
    assert "summaries" not in steps["spark"] and steps["spark"][-1] == "done"
    assert steps["duckdb"][-2:] == ["summaries", "done"]


def test_a_day_first_file_is_read_day_first_on_spark(tmp_path, spark):
    path = tmp_path / "day_first.csv"
    path.write_text("order_id,customer_id,order_date,amount\n"
                    "D1,c1,31/01/2024,10\nD2,c2,02/03/2024,20\nD3,c1,15.03.2024 10:00,30\n", encoding="utf-8")
    stores, reports = both(tmp_path, path, spark)
    assert reports["spark"].date_order == "day/month/year"
    orders = pd.read_parquet(stores["spark"].version_dir() / "orders.parquet").sort_values("order_id")
    assert [str(ts.date()) for ts in orders["order_ts"]] == ["2024-01-31", "2024-03-02", "2024-03-15"]
    assert_same_import(stores, reports)


# ---- refusals --------------------------------------------------------------------------------


def test_excel_is_refused_on_spark_with_a_worded_reason(tmp_path, spark):
    import xlsxwriter

    workbook = tmp_path / "orders.xlsx"
    book = xlsxwriter.Workbook(str(workbook))
    sheet = book.add_worksheet()
    for index, row in enumerate([["Order ID", "Order Date", "Total"], ["A1", "2024-03-01", 5]]):
        sheet.write_row(index, 0, row)
    book.close()
    with pytest.raises(ImportRefused) as refused:
        import_file(workbook, Store(tmp_path / "store"), engine="spark", spark_master="local[2]")
    assert refused.value.code == "spark_format_unsupported" and refused.value.values["format"] == "Excel"
    assert not (tmp_path / "store" / "batches").exists()


def test_a_record_wider_than_the_header_refuses_the_file_on_both_engines(tmp_path, spark):
    path = tmp_path / "wide.csv"
    path.write_text("Order ID,Order Date,Total\nA1,2024-03-01,5\nA2,2024-03-02,6,extra\n", encoding="utf-8")
    for engine in ("spark", "duckdb"):
        with pytest.raises(ImportRefused) as refused:
            import_file(path, Store(tmp_path / f"store_{engine}"), engine=engine, spark_master="local[2]")
        assert refused.value.code == "bad_csv", engine




# ---- the value clean-up, spelled for each engine (ingest/expressions.py) ----------------------

CLEANUPS = ("clean_text", "clean_id", "clean_tier", "clean_customer", "money_text", "parse_number",
            "currency_marker", "date_text", "status_word")
CRAFTED = [
    "", " ", "NA", " n/a ", "NaN", "null", "None", "none", "#N/A", "-", "--", "Nadia", "NA North", '="123"',
    ' ="2024-01-05 10:00:00" ', "'0012", "\t'0012", "17850.0", "17850.00", "1.0.0", "Mixed@Example.COM",
    "¥1,234.50", "1.234,56", "12,5", "-1,000", "+3", "£ 12", "12 元", "USD 7.5", "€3", "$1,000,000.00", "1e3",
    "abc", "12.34567", "99999999999999999", "Paid", "PARTIALLY_refunded", "on-hold", "交易成功", "2024年3月5日",
    "2024-03-05T10:11:12Z", "2024-03-05T10:11:12+08:00", "2024-03-05 10:11:12.123456", "12/31/69", "1/1/70 9:05",
    "31.12.99", "04-30-22", "7/16/22 11:39", "2011-12-09 12:50", "2011/12/09", "12-11-22 10:00:05",
    "3/5/2024 1:05 PM", "3/5/2024 1:05 pm", "2024-02-30", 'a"b', "x\ny", '"x\ny"', "\u3000浙江省 杭州市",
    "NA\n", "1T2T3", "2024-03-05T10:11T12", "Jan-18-16", "Sep-30-26 23:45:00", "sep-30-26", "SEP-30-26", "Sept-30-26",
    "Feb-30-24", "Dec-31-69", "Jan-1-70", "May-05-2024", "Jan 18 16",
]


def cleanup_corpus() -> list[str]:
    """Every distinct value of every real export in tests/fixtures/ (the csv module, each file's own
    delimiter), the handcrafted values above, and a grid of day/month/year texts."""
    import itertools

    from ingest.readers import sniff_delimiter

    values = set(CRAFTED)
    for path in sorted(REAL.glob("*.csv")):
        with open(path, newline="", encoding="utf-8") as handle:
            values.update(v for row in csv.reader(handle, delimiter=sniff_delimiter(path)) for v in row)
    parts = ["1", "09", "12", "13", "31", "2011", "11", "1999"]
    values.update(f"{a}{sep}{b}{sep}{c}{time}" for a, b, c in itertools.product(parts, repeat=3)
                  for sep in "/-." for time in ("", " 10:00", " 10:00:05"))
    return sorted(v for v in values if len(v) <= 1_000)


def test_every_cleanup_gives_the_same_value_on_spark_as_on_duckdb(spark):
    import duckdb

    from ingest import expressions, normalise
    from ingest.spark_parse import let_view

    values = cleanup_corpus()
    assert len(values) > 5_000
    date_orders = {"month_first": normalise.MONTH_FIRST + normalise.ISO_FORMATS + normalise.MONTH_NAMES,
                   "day_first": normalise.DAY_FIRST + normalise.ISO_FORMATS + normalise.MONTH_NAMES,
                   "iso_fast": normalise.ISO_FORMATS[:1]}

    def columns(spelling) -> str:
        cleaned = [f"{getattr(spelling, name)('v')} as {name}" for name in CLEANUPS]
        dates = [f"{spelling.timestamp(spelling.date_text('v') if key != 'iso_fast' else 'v', formats)} as {key}"
                 for key, formats in date_orders.items()]
        return ", ".join(["v", *cleaned, *dates])

    con = duckdb.connect()
    con.execute(normalise.MACROS)
    expected = con.execute(f"select {columns(expressions.DuckDBSpelling())} from unnest($values) as t(v)",
                           {"values": values}).fetchall()
    on_spark = expressions.SparkSpelling()
    query = f"select {columns(on_spark)} from cleanup_lets"  # names the columns let_view computes
    spark.createDataFrame([(v,) for v in values], "v string").createOrReplaceTempView("cleanup_values")
    let_view(spark, on_spark, "cleanup_values", "cleanup_lets")
    got = {row[0]: tuple(row) for row in spark.sql(query).collect()}
    names = ["v", *CLEANUPS, *date_orders]
    differences = [(name, e[0], e[i], got[e[0]][i]) for e in expected for i, name in enumerate(names)
                   if e[i] != got[e[0]][i]]
    assert differences == [], "\n".join(map(repr, differences))
