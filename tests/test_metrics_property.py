"""Property test: the DuckDB metrics equal a plain pandas implementation on random order data."""

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import naive
from metrics.cohorts import cohort_matrix
from metrics.kpis import kpi_table
from store import schema
from store.models.registry import BUILD_ORDER, MODELS

order_rows = st.lists(
    st.tuples(
        st.one_of(st.none(), st.sampled_from(["a", "b", "c", "d", "e", "f"])),  # customer or guest
        st.integers(min_value=0, max_value=540),  # day offset from 2023-01-01: about 18 months
        st.integers(min_value=0, max_value=50_000),  # amount in cents
        st.sampled_from(["valid", "valid", "valid", "cancelled", "refunded"]),
    ),
    min_size=1,
    max_size=60,
)


def connect_to(orders: pd.DataFrame) -> duckdb.DuckDBPyConnection:
    """A connection whose derived tables are built from `orders` exactly as the store builds them."""
    con = duckdb.connect()
    con.register("given_orders", orders)
    columns = ", ".join(
        f"cast({c} as {t}) as {c}" if c in orders.columns else f"cast(null as {t}) as {c}"
        for c, t in schema.ORDERS.items()
    )
    con.execute(f"create table batch_orders as select {columns}, 1 as batch_seq, 'b1' as batch_id, "
                "row_number() over () as file_row_number from given_orders")
    for table, columns_of in (("order_lines", schema.ORDER_LINES), ("assignments", schema.ASSIGNMENTS)):
        nulls = ", ".join(f"null::{t} as {c}" for c, t in columns_of.items())
        con.execute(f"create table batch_{table} as select {nulls}, 1 as batch_seq, 'b1' as batch_id, "
                    "0 as file_row_number where false")
    for name in BUILD_ORDER:  # the summaries too, so that unfiltered views read them
        model = MODELS[name]
        if not model.empty_store and not con.execute("select count(*) from orders where is_valid").fetchone()[0]:
            continue  # as the store: no summaries without a valid order
        sql, params = model.build(con)
        if isinstance(sql, list):
            sql = " union all ".join(f"({part})" for part in sql)
        con.execute(f"create table {name} as {sql}", params)
    return con


def frame_from(rows) -> pd.DataFrame:
    return pd.DataFrame({
        "order_id": [f"o{i}" for i in range(len(rows))],
        "customer_id": pd.Series([r[0] for r in rows], dtype="object"),
        "order_ts": [pd.Timestamp("2023-01-01") + pd.Timedelta(days=r[1], hours=i % 24) for i, r in enumerate(rows)],
        "amount": [r[2] / 100 for r in rows],
        "status": [r[3] for r in rows],
    })


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_rows)
def test_kpi_table_matches_pandas(rows):
    orders = frame_from(rows)
    if not (orders["status"] == "valid").any():
        return
    ours = kpi_table(connect_to(orders)).set_index("period")
    expected = naive.monthly_kpis(orders).set_index("period")
    assert list(ours.index) == list(expected.index)
    for column in expected.columns:
        for period in expected.index:
            want, got = expected.loc[period, column], ours.loc[period, column]
            if want is None or pd.isna(want):
                assert pd.isna(got), (column, period)
            else:
                assert got == pytest.approx(want, rel=1e-9, abs=1e-9), (column, period)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(order_rows)
def test_cohort_retention_matches_pandas(rows):
    orders = frame_from(rows)
    matrix = cohort_matrix(connect_to(orders))
    ours = {
        (pd.Period(row.cohort_month, "M"), int(row.age)): row.retention
        for row in matrix.itertuples()
        if row.active_customers > 0
    }
    expected = naive.cohort_retention(orders)
    assert ours.keys() == expected.keys()
    for key, value in expected.items():
        assert ours[key] == pytest.approx(value)
