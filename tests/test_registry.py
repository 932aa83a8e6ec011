"""The registry of base models and summaries: build order from needs, what an assignments upload
rebuilds, and source_for's choice between a summary and counting from the base models.
(That both choices give the same numbers: tests/test_precomputed.py.)"""

from datetime import date

import duckdb

from metrics.filters import Filters
from store.models.registry import (ASSIGNMENT_TABLES, BATCH_VIEWS, BUILD_ORDER, MODELS, ORDER_TABLES, SUMMARIES,
                                   Request, source_for)


def test_every_table_is_built_after_the_tables_it_reads():
    assert sorted(BUILD_ORDER) == sorted(MODELS)
    for position, name in enumerate(BUILD_ORDER):
        for need in MODELS[name].needs:
            assert need in BATCH_VIEWS or BUILD_ORDER.index(need) < position, (name, need)


def test_an_assignments_upload_rebuilds_the_experiment_tables_and_keeps_the_order_tables():
    assert set(ASSIGNMENT_TABLES) == {"assignments", "assigned_orders", "experiment_customers", "experiment_orders",
                                      "experiment_days", "experiment_buckets", "experiment_survival"}
    assert {"orders", "customers", "order_lines", "kpi_base", "due_list", "planner_base"} <= set(ORDER_TABLES)
    assert not set(ASSIGNMENT_TABLES) & set(ORDER_TABLES)


def test_base_models_are_no_summaries():
    assert not {"orders", "customers", "order_lines", "assignments", "assigned_orders"} & set(SUMMARIES)
    assert {"kpi_base", "cohort_base", "due_list", "clv_calibration", "experiment_orders"} <= set(SUMMARIES)


def test_source_for_reads_a_summary_only_for_the_requests_it_covers():
    con = duckdb.connect()
    con.execute("create table rfm_segment_totals as select 1 as customer_key")
    assert source_for(con, "rfm_segment_totals", Request()) == "rfm_segment_totals"
    assert source_for(con, "rfm_segment_totals", Request(filters=Filters(channel=("app",)))) is None
    assert source_for(con, "rfm_segment_totals", Request(filters=Filters(start=date(2025, 1, 1)))) is None
    assert source_for(con, "due_list", Request()) is None  # a store version written before due_list existed
    assert source_for(con, "orders", Request()) is None  # a base model: nothing to choose


def test_source_for_checks_the_value_a_summary_was_built_for():
    con = duckdb.connect()
    con.execute("create table clv_calibration as select date '2025-06-30' as cutoff, date '2025-12-31' as end_date")
    cutoff, end = date(2025, 6, 30), date(2025, 12, 31)
    assert source_for(con, "clv_calibration", Request(cutoff=cutoff)) == "clv_calibration"
    assert source_for(con, "clv_calibration", Request(cutoff=cutoff, end=end)) == "clv_calibration"
    assert source_for(con, "clv_calibration", Request(cutoff=cutoff, end=date(2025, 11, 30))) is None
    assert source_for(con, "clv_calibration", Request(cutoff=date(2025, 3, 1))) is None
    assert source_for(con, "clv_calibration", Request(cutoff=cutoff, unit_days=7.0)) is None  # stored in days


def test_experiment_summaries_cover_their_windows():
    con = duckdb.connect()
    for name in ("experiment_orders", "experiment_days", "experiment_buckets", "planner_base"):
        con.execute(f"create table {name} as select 1 as x")
    assert source_for(con, "experiment_orders", Request(window_days=90, pre_days=180)) == "experiment_orders"
    assert source_for(con, "experiment_orders", Request(window_days=120)) is None
    assert source_for(con, "experiment_orders", Request(window_days=60, pre_days=365)) is None
    assert source_for(con, "experiment_days", Request(window_days=60)) == "experiment_days"
    assert source_for(con, "experiment_days", Request(window_days=45)) is None
    assert source_for(con, "experiment_buckets", Request(window_days=30, bucket_days=7)) == "experiment_buckets"
    assert source_for(con, "experiment_buckets", Request(window_days=30, bucket_days=14)) is None
    assert source_for(con, "planner_base", Request(window_days=60, lookback_days=365)) == "planner_base"
    assert source_for(con, "planner_base", Request(window_days=60, lookback_days=180)) is None
