"""The same store built on Apache Spark and on DuckDB: every table, every row, every number.

The same files are imported twice, into a store that builds on DuckDB (the default) and into one
that builds on Spark (`Store(engine="spark")`, local mode); then every table of the published
version is compared: the Parquet schema (names, order, types), the row counts, and every value
(floats to 1e-9 relative, everything else exactly; rows sorted the same way first). Data: the
generated demo (orders with lines, a second batch that overlaps the first, strategy test
assignments) and a real export (UCI Online Retail sample, with order lines) imported end to end on
Spark as `python -m ingest ... --engine spark` does.

The silently different constructs (store.models.dialect_spark) are also checked one by one on
both engines against figures worked out by hand.

Like the browser tests, these fail (never skip) without pyspark or Java: `make test` installs them.
"""

import datetime as dt
import math
import shutil
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from conftest import SPARK_TEST_CONF
from store import Store
from store.derived import table_files
from store.models import dialect
from store.models.registry import BUILD_ORDER

pytestmark = pytest.mark.spark

REAL = Path(__file__).parent / "fixtures" / "real"
DEMO_CUSTOMERS = 600


@pytest.fixture(scope="session")
def spark():
    """One local Spark session for the whole run (2 cores: the machine's)."""
    assert shutil.which("java"), "Java is missing: run `make test` (installs openjdk-17-jre-headless)"
    try:
        import pyspark  # noqa: F401
        import sqlglot  # noqa: F401
    except ImportError as missing:
        pytest.fail(f"{missing.name} is missing: run `make test` (installs requirements-spark.txt)")
    from store.spark import spark_session, stop_spark_session

    session = spark_session("local[2]", SPARK_TEST_CONF)
    yield session
    stop_spark_session()


def _overlapping_batch(orders_path: Path, out: Path) -> Path:
    """A second export of some of the demo's orders (newer: half of them now refunded) and new orders
    of known customers: the store keeps the newest row of each order id."""
    table = pq.read_table(orders_path)
    rows = table.slice(0, 300).to_pylist()
    for number, row in enumerate(rows):
        if number % 2 == 0:
            row["status"] = "refunded"
        if number % 3 == 0:
            row["order_id"] = f"NEW-{number}"
    pq.write_table(pa.Table.from_pylist(rows, schema=table.schema), out)
    return out


@pytest.fixture(scope="module")
def demo_pair(spark, tmp_path_factory):
    """(DuckDB-built store, Spark-built store) of the demo: orders and an overlapping batch imported on
    DuckDB, the copy rebuilt on Spark (`Store.rebuild`), then assignments imported into both (the
    Spark store rebuilds the strategy tests' tables on Spark, the order tables linked)."""
    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("spark_demo")
    paths = write_demo(root / "files", customers=DEMO_CUSTOMERS)
    second = _overlapping_batch(paths["orders"], root / "files" / "orders_again.parquet")
    duck = Store(root / "duckdb")
    import_file(paths["orders"], duck)
    import_file(second, duck)
    shutil.copytree(duck.root, root / "spark")
    spark = Store(root / "spark", engine="spark")
    assert spark.rebuild()["engine"] == "spark"
    for store in (duck, spark):
        import_assignments(paths["assignments"], store)
    return duck, spark


@pytest.fixture(scope="module")
def real_pair(spark, tmp_path_factory):
    """(DuckDB-built store, Spark-built store) of a real export with order lines (UCI Online Retail).
    The Spark store's import is the whole of `python -m ingest ... --engine spark`: Spark reads the
    file, checks it, rolls it up into orders and builds every table."""
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("spark_real")
    stores = Store(root / "duckdb"), Store(root / "spark", engine="spark")
    for store in stores:
        report = import_file(REAL / "uci_online_retail_r_sample_2000.csv", store, engine=store.engine,
                             spark_master="local[2]")
        assert report.engine == store.engine == store.batches()[-1]["engine"]
    return stores


# ---- comparing two stores -----------------------------------------------------------------------


def _batch_numbers(store: Store) -> dict[str, int]:
    """batch id -> its sequence number (ids are random, numbers the same in both stores)."""
    return {b["id"]: b["seq"] for b in store.batches()}


def _rows(store: Store, name: str) -> tuple[list[tuple[str, pa.DataType]], list[dict]]:
    table = pa.concat_tables(pq.read_table(path) for path in table_files(store.version_dir(), name))
    rows = table.to_pylist()
    if "batch_id" in table.column_names:
        numbers = _batch_numbers(store)
        for row in rows:
            row["batch_id"] = numbers.get(row["batch_id"], row["batch_id"])
    return [(field.name, field.type) for field in table.schema], rows


def _sort_key(row: dict) -> tuple:
    """Rows in one order on both engines: floats rounded (they may differ in the last digits)."""
    key = []
    for value in row.values():
        if value is None:
            key.append((0, 0))
        elif isinstance(value, float):
            key.append((1, float(f"{value:.6g}") if math.isfinite(value) else str(value)))
        else:
            key.append((1, value))
    return tuple(key)


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-12)
    return a == b and type(a) is type(b)


def differences(duck: Store, spark: Store, name: str) -> list[str]:
    """What differs in table `name` between the two stores (empty: the same schema, rows and numbers)."""
    duck_schema, duck_rows = _rows(duck, name)
    spark_schema, spark_rows = _rows(spark, name)
    if duck_schema != spark_schema:
        return [f"{name}: schema {spark_schema} on Spark, {duck_schema} on DuckDB"]
    if len(duck_rows) != len(spark_rows):
        return [f"{name}: {len(spark_rows)} rows on Spark, {len(duck_rows)} on DuckDB"]
    found = []
    for number, (d, s) in enumerate(zip(sorted(duck_rows, key=_sort_key), sorted(spark_rows, key=_sort_key))):
        for column in d:
            if not _same(d[column], s[column]):
                found.append(f"{name} row {number} {column}: {s[column]!r} on Spark, {d[column]!r} on DuckDB")
        if len(found) > 5:
            break
    return found


def _assert_same_stores(duck: Store, spark: Store) -> None:
    # the same tables (a store with orders has every one); DuckDB writes the month-keyed ones in two
    # parts (`<name>.2.parquet`, docs/store.md), Spark whole
    duck_tables = {p.name.split(".")[0] for p in duck.version_dir().glob("*.parquet")}
    assert {p.name.split(".")[0] for p in spark.version_dir().glob("*.parquet")} == duck_tables == set(BUILD_ORDER)
    assert spark.manifest()["tables"] == duck.manifest()["tables"]
    found = [line for name in BUILD_ORDER for line in differences(duck, spark, name)]
    assert not found, "\n".join(found)


def test_demo_store_built_on_spark_is_the_duckdb_store(demo_pair):
    duck, spark = demo_pair
    _assert_same_stores(duck, spark)
    live = [(b["seq"], b.get("orders_live"), b.get("orders_superseded_by_newer"), b.get("orders_replacing_earlier"))
            for b in spark.batches()]
    assert live == [(b["seq"], b.get("orders_live"), b.get("orders_superseded_by_newer"),
                     b.get("orders_replacing_earlier")) for b in duck.batches()]
    assert live[1][3] == 200  # the second batch replaces 200 of the first batch's orders (the other 100 are new)


def test_real_export_built_on_spark_is_the_duckdb_store(real_pair):
    _assert_same_stores(*real_pair)


def test_spark_store_counts_what_the_raw_files_hold(demo_pair, tmp_path):
    """Independent of both engines: the Spark-built store's valid orders and customers, counted from
    the accepted batch files with plain Python (newest batch's row of each order id)."""
    _, spark = demo_pair
    newest: dict[str, dict] = {}
    for batch in sorted(spark.batches(), key=lambda b: b["seq"]):
        path = spark.batch_folder(batch["id"]) / "orders.parquet"
        if path.exists():
            for row in pq.read_table(path, columns=["order_id", "customer_id", "status", "amount"]).to_pylist():
                newest[row["order_id"]] = row
    valid = [row for row in newest.values() if row["status"] == "valid"]
    facts = pq.read_table(spark.version_dir() / "order_facts.parquet").to_pylist()[0]
    assert facts["orders"] == len(newest)
    assert facts["valid_orders"] == len(valid)
    customers = pq.read_table(spark.version_dir() / "customers.parquet").to_pylist()
    assert len(customers) == len({row["customer_id"] for row in valid if row["customer_id"] is not None})
    assert sum((c["revenue"] for c in customers), Decimal(0)) == sum(
        (row["amount"] for row in valid if row["customer_id"] is not None), Decimal(0))


def test_dashboard_numbers_from_the_spark_store(demo_pair):
    """What the pages and `python -m metrics summary` read comes out the same from both stores."""
    from metrics.__main__ import summary

    duck, spark = demo_pair
    on_spark, on_duckdb = summary(spark, None), summary(duck, None)
    assert on_spark["month"] == on_duckdb["month"] is not None
    assert on_spark["kpis"].keys() == on_duckdb["kpis"].keys()
    for key, value in on_duckdb["kpis"].items():
        assert _same(on_spark["kpis"][key], value), key
    assert on_duckdb["kpis"]["orders"] > 0


# ---- the constructs that differ silently, one by one ---------------------------------------------


@pytest.fixture(scope="module")
def both(spark):
    """run(sql, params) -> (DuckDB's rows, Spark's rows) of the same DuckDB SQL."""
    from store.spark import SparkConnection

    spark_con = SparkConnection(spark)
    duck_con = duckdb.connect()
    for con in (duck_con, spark_con):
        con.execute("""create or replace temp view t as select * from (values
            (1, timestamp '2024-01-31 23:00:00', timestamp '2024-02-01 01:00:00', 1.00::decimal(18,2), 3.00::decimal(18,2), 'b'),
            (2, timestamp '2024-03-01 00:00:00.5', timestamp '2024-03-03 00:00:00', 2.00::decimal(18,2), 0.07::decimal(18,2), 'a'),
            (3, timestamp '2024-03-01 10:00:00', timestamp '2024-03-01 11:00:00', 5.00::decimal(18,2), 7.00::decimal(18,2), 'b')
        ) as v(id, early, late, small, big, label)""")

    def run(sql: str, params: dict | None = None):
        return duck_con.execute(sql, params or {}).fetchall(), spark_con.execute(sql, params).fetchall()

    yield run
    spark_con.close()
    duck_con.close()


def test_day_diff_counts_calendar_days_on_both(both):
    duck, spark = both(f"select id, {dialect.day_diff('late', 'early')} from t order by id")
    assert duck == spark == [(1, 1), (2, 2), (3, 0)]  # 23:00 -> 01:00 next day: one day crossed


def test_month_diff_and_adding_months_and_days(both):
    sql = (f"select id, {dialect.month_diff('late', 'early')}, {dialect.add_months('early', '1')}, "
           f"{dialect.subtract_days('late', '2')} from t order by id")
    duck, spark = both(sql)
    assert duck == spark
    assert duck[0][1:] == (1, dt.datetime(2024, 2, 29, 23), dt.datetime(2024, 1, 30, 1))  # Jan 31 + 1 month: Feb 29


def test_decimal_division_is_a_double_on_both(both):
    duck, spark = both("select id, small / big from t order by id")
    assert [round(v, 12) for _, v in spark] == [round(v, 12) for _, v in duck] == [
        round(1 / 3, 12), round(2 / 0.07, 12), round(5 / 7, 12)]  # Spark alone keeps DECIMAL: 0.333333


def test_epoch_keeps_fractions_in_utc(both):
    duck, spark = both(f"select {dialect.epoch_seconds('early')} from t where id = 2")
    assert duck == spark == [(dt.datetime(2024, 3, 1, tzinfo=dt.timezone.utc).timestamp() + 0.5,)]


def test_quantile_and_ordered_distinct_list(both):
    duck, spark = both(f"select {dialect.quantile('id', 0.25)}, {dialect.distinct_list('label', 'label')} from t")
    assert duck == spark == [(1.5, ["a", "b"])]


def test_month_spine_union_by_name_and_exclude(both):
    spine = f"select month from {dialect.month_spine('$start', '$end')} as months order by month"
    duck, spark = both(spine, {"start": dt.date(2023, 11, 1), "end": dt.date(2024, 2, 1)})
    assert duck == spark == [(dt.date(2023, 11, 1),), (dt.date(2023, 12, 1),), (dt.date(2024, 1, 1),), (dt.date(2024, 2, 1),)]
    united = dialect.union_by_name(["select id, label from t where id = 1", "select 'c' as label, 9 as other"])
    duck, spark = both(f"select * from ({united}) as u order by label")
    assert duck == spark == [(1, "b", None), (None, "c", 9)]
    duck, spark = both(f"select {dialect.columns_except(('early', 'late', 'small', 'big'))} from t order by id")
    assert duck == spark == [(1, "b"), (2, "a"), (3, "b")]


def test_bit_sets_of_active_months(both):
    """The trailing-year counts' bit sets (kpi_combos.trailing_from_masks): one bit per month up to bit 62,
    or-ed per label, and whether a set meets a window of months."""
    flag = dialect.bit_flag("id * 30")  # bits 30, 60, 90 -> the last is past 62: keep ids 1 and 2
    sets = f"select label, {dialect.bit_or_aggregate(flag)} as active from t where id <= 2 group by label"
    duck, spark = both(f"select label, active, {dialect.bits_overlap('active', dialect.bit_flag('60'))} "
                       f"from ({sets}) as s order by label")
    assert duck == spark == [("a", 2**60, True), ("b", 2**30, False)]
    duck, spark = both(f"select {dialect.bit_flag('greatest(id, 62)')} - {dialect.bit_flag('greatest(id * 10, 50)')} "
                       "from t where id = 1")  # a month's window: the bits below M + 1 minus those below M - 11
    assert duck == spark == [(2**62 - 2**50,)]


def test_parameters_stay_parameters(both):
    hostile = "x' or '1'='1"
    duck, spark = both("select count(*) from t where label = $label or label = $other", {"label": hostile, "other": "a"})
    assert duck == spark == [(1,)]


def test_the_import_checks_text_lists_and_limits(both):
    """The constructs the import's checks use (ingest.normalise.build_issues): `<>`, `||` with a number,
    an ordered string_agg, left/length on non-ASCII text, a list's 1-based index, limit."""
    duck, spark = both("select id, label <> 'a', 'row ' || id, left('日本語' || label, 2), length('日本語' || label) "
                       "from t order by id")
    assert duck == spark == [(1, True, "row 1", "日本", 4), (2, False, "row 2", "日本", 4), (3, True, "row 3", "日本", 4)]
    duck, spark = both("select label, string_agg(cast(id as varchar), ', ' order by id desc) from t "
                       "group by label order by label")
    assert duck == spark == [("a", "2"), ("b", "3, 1")]
    duck, spark = both("select label from t order by id desc limit 1")
    assert duck == spark == [("b",)]


def test_an_md5_prefix_is_the_same_text_on_both(both):
    """The orders sample picks guest orders by their id's MD5 prefix (store.models.orders.orders_sample_sql)."""
    duck, spark = both("select id, left(md5(label), 2), left(md5(label), 2) in ('00', '0c') from t order by id")
    # hashlib.md5(b"a").hexdigest()[:2] == "0c", of b"b" "92"
    assert duck == spark == [(1, "92", False), (2, "0c", True), (3, "92", False)]


def test_a_list_index_counts_from_one_on_both(spark):
    """DuckDB's list[1] is the first item; Spark's array[0] is: the translation shifts the index."""
    from store.spark import SparkConnection

    spark_con, duck_con = SparkConnection(spark), duckdb.connect()
    try:
        spark_con.spark.sql("select array('field', 'header') as pair").createOrReplaceTempView("pairs")
        duck_con.execute("create view pairs as select ['field', 'header'] as pair")
        sql = "select pair[1], pair[2] from pairs"
        assert duck_con.execute(sql).fetchall() == spark_con.execute(sql).fetchall() == [("field", "header")]
    finally:
        spark_con.close()
        duck_con.close()
