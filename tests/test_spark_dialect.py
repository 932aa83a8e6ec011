"""Every model and summary's SQL uses only constructs known to translate to Spark.

The SQL of every registry entry (built and appended) is parsed with SQLGlot; any node class or
function outside `store.models.dialect_spark.KNOWN_CONSTRUCTS` fails here, naming it, before it
can reach a Spark store silently translated (tests/test_spark_conformance.py checks every known
construct on both engines). No Spark needed: SQLGlot only.
"""

import re

import sqlglot

from store.models import dialect, experiments, orders, playbook
from store.models.dialect_spark import UntranslatableSql, translate, unknown_constructs
from store.models.registry import MODELS


class _StoreWithLines:
    """A stand-in connection for the builders that ask whether the store has order lines: it has."""

    def has_table(self, name):
        return True

    def execute(self, *args):
        return self

    def fetchone(self):
        return (1,)


def _statements(sql) -> list[str]:
    return sql if isinstance(sql, list) else [sql]


def model_sql(con) -> dict[str, list[str]]:
    """name -> the SQL statements of every registry model's build (and append, where it has one)."""
    found = {}
    for name, model in MODELS.items():
        sql, _ = model.build(con)
        found[name] = _statements(sql)
    found["orders (one batch)"] = [orders.orders_sql(deduplicate=False)]
    found["customer_categories (with lines)"] = [playbook.customer_categories_sql(_StoreWithLines())]
    return found


def test_every_model_uses_only_constructs_known_to_translate(one_month_store):
    con = one_month_store.connect()
    try:
        statements = model_sql(con)
    finally:
        con.close()
    unknown = {name: found for name, sql in statements.items() for text in sql
               if (found := unknown_constructs(sqlglot.parse_one(text, read="duckdb")))}
    assert unknown == {}
    assert len(statements) >= len(MODELS) + 2


class _Recorder:
    """A stand-in connection that keeps every statement it is given."""

    def __init__(self):
        self.statements = []

    def execute(self, sql, params=None):
        """Keep the query; of `create ... as QUERY`, the query (what store.spark.SparkConnection translates)."""
        created = re.match(r"^\s*create\s+(?:or\s+replace\s+)?(?:temp\s+)?(?:view|table)\s+\w+\s+as\s+(.*)$", sql,
                           re.IGNORECASE | re.DOTALL)
        self.statements.append(created.group(1) if created else sql)
        return self


def import_check_sql() -> dict[str, list[str]]:
    """The SQL an import runs on Spark after `parsed` (ingest.spark_parse.check_on_spark): the checks,
    the currency, orders and lines, for an order-level and a line-level file."""
    from ingest.mapping import Mapping
    from ingest.normalise import ParseSettings, build_issues, lines_query, orders_query

    order_level = Mapping({"order_id": "Id", "customer_id": "Email", "order_ts": "Date", "amount": "Total",
                           "refunded_amount": "Refunded", "status": "Status", "currency": "Currency"})
    line_level = Mapping({"order_id": "Id", "customer_id": "Email", "order_ts": "Date", "sku": "SKU",
                          "quantity": "Qty", "unit_price": "Price", "refunded_amount": "Refunded"})
    found = {}
    for name, mapping in (("order-level", order_level), ("line-level", line_level)):
        assert mapping.is_line_level == (name == "line-level")
        recorder = _Recorder()
        build_issues(recorder, mapping, ParseSettings("iso", "USD", "subtracted"), None)
        found[name] = [*recorder.statements, orders_query(mapping, "subtracted"), lines_query(mapping) or "select 1"]
    return found


def test_the_import_checks_use_only_constructs_known_to_translate():
    from ingest.normalise import main_currency

    statements = import_check_sql()
    recorder = _Recorder()
    recorder.fetchone = lambda: None
    main_currency(recorder)
    statements["currency"] = recorder.statements
    unknown = {name: found for name, sql in statements.items() for text in sql
               if (found := unknown_constructs(sqlglot.parse_one(text, read="duckdb")))}
    assert unknown == {}
    assert len(statements["line-level"]) > len(statements["order-level"]) >= 5


def test_the_check_finds_a_construct_nobody_checked():
    for sql in ("select regexp_extract(order_id, '[0-9]+') from orders",  # no Spark check yet
                "select order_id from orders qualify row_number() over (order by order_ts) = 1",
                "select my_macro(order_id) from orders"):
        found = unknown_constructs(sqlglot.parse_one(sql, read="duckdb"))
        assert found, sql
        try:
            translate(sql)
        except UntranslatableSql as refusal:
            assert found[0] in str(refusal)
        else:
            raise AssertionError(f"translated without a check: {sql}")


def test_dialect_spellings_translate_to_their_spark_helpers():
    """Each DuckDB helper's text becomes its Spark helper's spelling (the conformance tests run them)."""
    assert "DATEDIFF(CAST(b AS DATE), CAST(a AS DATE))" in translate(f"select {dialect.day_diff('b', 'a')}")
    assert "MAKE_YM_INTERVAL" in translate(f"select {dialect.add_months('m', '12')}")
    assert "PERCENTILE(x, 0.5)" in translate(f"select {dialect.quantile('x', 0.5)} from t")
    assert "SEQUENCE(" in translate(f"select * from {dialect.month_spine('$a', '$b')} as s")
    assert "TRY_DIVIDE(CAST(a AS DOUBLE), CAST(b AS DOUBLE))" in translate("select a / b from t")
    assert ":window_days" in translate(f"select * from t where x < {experiments.WINDOW}")
    try:
        translate(f"select {dialect.columns_except(('a',))} from t")
    except UntranslatableSql as refusal:
        assert "columns_of" in str(refusal)
    else:
        raise AssertionError("* exclude translated without knowing the columns")
