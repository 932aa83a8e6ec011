"""The precomputed summary tables give exactly the numbers the metrics count from the orders.

Each request is answered twice on the demo store: by the normal connection (which reads
`kpi_base`, `cohort_base`, `experiment_orders`, ... when they can answer) and by one where those
tables are hidden, so the same metric SQL counts from every order.
"""

import re
from datetime import date

import pandas as pd
import pytest

from metrics.cohorts import cohort_matrix
from store.models.dialect import has_table
from metrics.due import due_for_repurchase, most_valuable_due
from metrics.funnel import days_between_orders, repeat_funnel, time_to_second_order
from metrics.filters import Filters
from metrics.kpis import _cube_slice, data_range, kpi_table, latest_full_month
from metrics.narrative import biggest_move
from metrics.segments import members_vs_non_members, rfm_customers, rfm_segments
from store.models.registry import SUMMARIES
from store.store import _version_database


@pytest.fixture(scope="module")
def connections(demo_store):
    with_summaries = demo_store.connect()
    from_orders = _version_database(demo_store.version_dir())  # its own database: the views dropped are its own
    for name in SUMMARIES:
        from_orders.execute(f"drop view {name}")
    yield with_summaries, from_orders
    with_summaries.close()
    from_orders.close()


KPI_REQUESTS = [
    (Filters(), None),
    (Filters(start=date(2025, 1, 1), end=date(2025, 6, 30)), None),
    (Filters(start=date(2024, 3, 15)), None),
    (Filters(channel=("app",)), None),
    (Filters(member_tier=("gold",), start=date(2025, 1, 1)), None),
    (Filters(), "member_tier"),
    (Filters(), "channel"),
    (Filters(), "membership"),
]
FROM_ORDERS = [  # requests the summaries cannot answer: two filters, a cut month, 'none' holds nulls too
    (Filters(channel=("app", "web")), None),
    (Filters(channel=("app",)), "member_tier"),
    (Filters(end=date(2025, 12, 15)), None),
    (Filters(member_tier=("none",)), None),
    (Filters(region=("East",)), None),  # breakdowns not precomputed
    (Filters(category=("Food",), end=date(2025, 9, 30)), None),
    (Filters(start=date(2025, 11, 1), end=date(2025, 12, 31)), "region"),
]


@pytest.mark.parametrize(("filters", "by"), KPI_REQUESTS + FROM_ORDERS)
def test_kpi_table_from_summaries_equals_counting_orders(connections, filters, by):
    with_summaries, from_orders = connections
    ours = kpi_table(with_summaries, filters, by=by)
    counted = kpi_table(from_orders, filters, by=by)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, counted, check_exact=False, rtol=1e-9, check_dtype=False)


@pytest.mark.parametrize(("filters", "by"), KPI_REQUESTS)
def test_usual_views_read_the_summary(connections, filters, by):
    con = connections[0]
    last = data_range(con)[1]
    assert _cube_slice(con, filters, "month", by, last, filters.end or last) is not None


@pytest.mark.parametrize(("filters", "by"), FROM_ORDERS)
def test_other_views_count_from_orders(connections, filters, by):
    con = connections[0]
    last = data_range(con)[1]
    assert _cube_slice(con, filters, "month", by, last, filters.end or last) is None


def test_quarters_count_from_orders(connections):
    with_summaries, from_orders = connections
    pd.testing.assert_frame_equal(kpi_table(with_summaries, grain="quarter"), kpi_table(from_orders, grain="quarter"))


def test_overview_sentence_and_members_multiple_are_the_same(connections):
    with_summaries, from_orders = connections
    month = date(2025, 11, 1)
    assert biggest_move(with_summaries, month) == biggest_move(from_orders, month)
    ours, counted = members_vs_non_members(with_summaries, month), members_vs_non_members(from_orders, month)
    assert ours["frequency_multiple"] == pytest.approx(counted["frequency_multiple"], rel=1e-12)


@pytest.mark.parametrize("filters", [
    Filters(),
    Filters(start=date(2024, 6, 1)),
    Filters(end=date(2025, 3, 31)),
    Filters(start=date(2024, 2, 10), end=date(2025, 8, 20)),
    Filters(channel=("store",)),  # dimension filters count from the orders
])
def test_cohort_matrix_from_summary_equals_counting_orders(connections, filters):
    with_summaries, from_orders = connections
    ours = cohort_matrix(with_summaries, filters)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, cohort_matrix(from_orders, filters), check_exact=False, rtol=1e-9,
                                  check_dtype=False)


@pytest.mark.parametrize("metric", [due_for_repurchase, rfm_segments, rfm_customers, repeat_funnel,
                                    days_between_orders, time_to_second_order])
def test_customer_lists_and_funnel_from_stored_facts_equal_counting_orders(connections, metric, demo_store):
    with_summaries, from_orders = connections
    ours = metric(with_summaries)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, metric(from_orders, Filters(start=date(2000, 1, 1))), check_exact=False,
                                  rtol=1e-9, check_dtype=False)


@pytest.mark.parametrize("filters", [
    Filters(channel=("app",), region=("East",)),
    Filters(member_tier=("gold", "diamond"), channel=("app", "web"), category=("Food",)),
    Filters(category=("Beauty",), start=date(2024, 7, 1), end=date(2025, 9, 30)),
    Filters(region=("South", "North"), start=date(2025, 1, 1)),
])
@pytest.mark.parametrize("metric", [due_for_repurchase, rfm_segments, repeat_funnel, days_between_orders,
                                    time_to_second_order])
def test_customer_figures_under_filters_from_orders_by_dimension_equal_counting_orders(connections, metric, filters):
    """Under filters the Customers page reads `orders_by_dimension` (the valid orders sorted by dimension)."""
    with_summaries, from_orders = connections
    assert has_table(with_summaries, "orders_by_dimension") and not has_table(from_orders, "orders_by_dimension")
    ours = metric(with_summaries, filters)
    assert len(ours) > 0
    pd.testing.assert_frame_equal(ours, metric(from_orders, filters), check_exact=False, rtol=1e-9, check_dtype=False)


@pytest.mark.parametrize("filters", [Filters(channel=("app",), region=("East",)),
                                     Filters(member_tier=("gold", "silver"), start=date(2024, 7, 1))])
def test_days_between_orders_under_filters_equal_pandas_quantiles(connections, filters):
    """The quartiles read from counts per whole day of gap equal pandas' quantiles of every gap."""
    with_summaries, _ = connections
    orders = with_summaries.execute("select customer_key, customer_order_seq, order_ts, order_date, member_tier, "
                                    "channel, region from orders where is_valid and customer_key is not null").df()
    kept = orders[(orders["order_date"] >= pd.Timestamp(filters.start or date.min))]
    for dimension, values in filters.dimension_values().items():
        kept = kept[kept[dimension].isin(values)]
    kept = kept.sort_values(["customer_key", "customer_order_seq"])
    kept["order_number"] = kept.groupby("customer_key").cumcount() + 1
    kept["days"] = (kept["order_ts"].dt.normalize() - kept.groupby("customer_key")["order_ts"].shift().dt.normalize()).dt.days
    gaps = kept[kept["order_number"] >= 2].assign(from_order=lambda f: (f["order_number"] - 1).clip(upper=4))
    expected = gaps.groupby("from_order")["days"].quantile([0.25, 0.5, 0.75]).unstack()
    ours = days_between_orders(with_summaries, filters).set_index("from_order")
    assert len(ours) == 4
    assert ours["repeat_orders"].tolist() == gaps.groupby("from_order").size().tolist()
    for column, q in [("days_p25", 0.25), ("days_median", 0.5), ("days_p75", 0.75)]:
        assert ours[column].tolist() == pytest.approx(expected[q].tolist())


def test_orders_by_dimension_holds_the_valid_orders_in_the_order_of_their_dimension_values(connections):
    """A filter reads only the row groups that can hold its values: the rows must run in the values' order
    (missing values last), one run per combination."""
    with_summaries, _ = connections
    dimensions = ("member_tier", "channel", "region", "category")
    rows = with_summaries.execute(f"select {', '.join(dimensions)}, customer_key, customer_order_seq "
                                  "from orders_by_dimension").fetchall()
    values = [row[:4] for row in rows]
    assert values == sorted(values, key=lambda v: tuple((value is None, value or "") for value in v))
    assert len(set(values)) > 20
    valid = with_summaries.execute("select customer_key, customer_order_seq from orders "
                                   "where is_valid and customer_key is not null").fetchall()
    assert sorted(row[4:] for row in rows) == sorted(valid)


def test_the_first_due_customers_and_their_count_from_the_stored_list_equal_counting_orders(connections):
    """The Customers page shows the 50 most valuable of the due list and how many are due in all."""
    with_summaries, from_orders = connections
    every = due_for_repurchase(from_orders, Filters(start=date(2000, 1, 1)))
    assert len(every) > 50
    for con, filters in ((with_summaries, Filters()), (from_orders, Filters(start=date(2000, 1, 1)))):
        first, count = most_valuable_due(con, filters, 50)
        assert count == len(every)
        pd.testing.assert_frame_equal(first, every.head(50), check_exact=False, rtol=1e-9, check_dtype=False)
    app_only = due_for_repurchase(from_orders, Filters(channel=("app",)))
    first, count = most_valuable_due(from_orders, Filters(channel=("app",)), 7)
    assert count == len(app_only) > 7 and first["customer_id"].tolist() == app_only["customer_id"].head(7).tolist()
    assert most_valuable_due(from_orders, Filters(channel=("no such channel",)), 7)[1] == 0


def test_filter_choices_and_customer_count_from_small_tables(connections):
    from metrics.inventory import dimension_values, store_inventory

    with_summaries, from_orders = connections
    assert dimension_values(with_summaries) == dimension_values(from_orders)
    assert dimension_values(with_summaries)["channel"] == ["app", "mini_program", "store", "web"]
    distinct = with_summaries.execute("select count(distinct customer_id) from orders where is_valid").fetchone()[0]
    assert store_inventory(with_summaries)["customers"] == distinct
    assert store_inventory(with_summaries) == store_inventory(from_orders)
    assert latest_full_month(with_summaries) == latest_full_month(from_orders) == date(2025, 12, 1)


@pytest.mark.parametrize("filters", [Filters(channel=("app",)), Filters(region=("East",), member_tier=("gold",))])
def test_kpis_without_changes_count_only_the_range_and_agree(connections, filters):
    from_orders = connections[1]
    scoped = Filters(**{**filters.__dict__, "start": date(2025, 10, 1), "end": date(2025, 11, 30)})
    full = kpi_table(from_orders, scoped, by="member_tier")
    lean = kpi_table(from_orders, scoped, by="member_tier", changes=False)
    assert "annual_frequency" not in lean and "aov_mom" not in lean
    pd.testing.assert_frame_equal(lean, full[lean.columns], check_exact=False, rtol=1e-12)


@pytest.mark.parametrize(("window_days", "margin", "cost"), [(30, 0.3, 0.0), (60, 0.25, 4.0), (90, 0.4, 1.5)])
def test_planner_from_stored_sums_equals_counting_orders(connections, window_days, margin, cost):
    from metrics.experiments import planner_baseline

    with_summaries, from_orders = connections
    assert has_table(with_summaries, "planner_base") and not has_table(from_orders, "planner_base")
    ours = planner_baseline(with_summaries, window_days, margin=margin, cost=cost)
    counted = planner_baseline(from_orders, window_days, margin=margin, cost=cost)
    assert ours["pool"] > 1000
    assert ours["reach_by_days"] == counted["reach_by_days"]
    for metric, values in counted["metrics"].items():
        assert ours["metrics"][metric] == pytest.approx(values, rel=1e-9), metric


@pytest.mark.parametrize(("window_days", "options"), [
    (30, {}), (60, {"cuped_days": 90, "cap_percentile": 99}), (90, {"cuped_days": 180, "margin": 0.25}),
    (120, {"cuped_days": 60}),  # longer than experiment_orders covers: both read assigned_orders
])
def test_strategy_reports_from_experiment_orders_equal_counting_orders(connections, window_days, options):
    from metrics import experiments as ex
    from metrics.experiments.sources import order_sources

    with_summaries, from_orders = connections
    arms, orders, stored = order_sources(with_summaries, window_days, options.get("cuped_days", 90))
    assert ("experiment_orders" in orders) == (window_days <= 90)
    assert stored == (window_days if window_days <= 90 and options.get("cuped_days", 90) == 90 else None)
    assert "experiment_customers" in arms and "experiment_customers" not in order_sources(from_orders, 60, 90)[0]
    pd.testing.assert_frame_equal(ex.list_experiments(with_summaries), ex.list_experiments(from_orders))
    for name in ex.list_experiments(with_summaries)["experiment"]:
        ours = ex.experiment_report(with_summaries, name, window_days, **options)
        counted = ex.experiment_report(from_orders, name, window_days, **options)
        assert sum(arm["matured"] for arm in ours["arms"]) > 100
        for a, b in zip(ours["arms"], counted["arms"], strict=True):
            assert {k: v for k, v in a.items() if k != "totals"} == {k: v for k, v in b.items() if k != "totals"}
            for metric, totals in b["totals"].items():
                assert a["totals"][metric] == pytest.approx(totals, rel=1e-9), metric
        for a, b in zip(ours["results"], counted["results"], strict=True):
            assert (a["metric"], a["variant"]) == (b["metric"], b["variant"])
            assert a["rel_lift"] == pytest.approx(b["rel_lift"], rel=1e-9)
            assert a["p_value"] == pytest.approx(b["p_value"], rel=1e-9)
        pd.testing.assert_frame_equal(ex.lift_by_days_since_assignment(with_summaries, name, window_days),
                                      ex.lift_by_days_since_assignment(from_orders, name, window_days))
        pd.testing.assert_frame_equal(ex.time_to_repurchase(with_summaries, name), ex.time_to_repurchase(from_orders, name))
        for view in ("matured", "to_date"):
            pd.testing.assert_frame_equal(ex.cumulative_lift(with_summaries, name, "revenue", window_days, view=view),
                                          ex.cumulative_lift(from_orders, name, "revenue", window_days, view=view),
                                          check_exact=False, rtol=1e-9)


def test_a_store_of_guest_orders_has_no_customer_value_rows_and_says_so(tmp_path):
    """Valid orders without a customer id: the stored customer summary is empty, so the page's summaries
    are empty frames (not read from the empty table as if it answered), and the fit says why it cannot run."""
    from ingest import import_file
    from metrics import clv
    from metrics.clv_model import ClvFitError
    from store import Store

    path = tmp_path / "guests.csv"
    path.write_text("order_id,customer_id,order_date,amount\n1,,2024-01-01,10\n2,,2024-02-01,20\n", encoding="utf-8")
    store = Store(tmp_path / "store")
    import_file(path, store)
    con = store.connect()
    assert has_table(con, "clv_customer_rows") and con.execute("select count(*) from clv_customer_rows").fetchone()[0] == 0
    assert clv.calibration_summary(con, "2024-02-01").empty and clv.value_summary(con, "2024-02-01").empty
    with pytest.raises(ClvFitError, match="no valid orders from identified customers"):
        clv.data_range(con)
    con.close()


def test_customer_value_from_stored_summaries_equals_counting_orders(connections):
    """The Customer value page's first view reads clv_calibration, clv_holdout_days and clv_customer_rows."""
    from metrics import clv

    stored, counted = connections
    assert all(has_table(stored, name) for name in ("clv_calibration", "clv_holdout_days", "clv_customer_rows"))
    cutoff, end = clv.default_cutoff(counted), clv.data_range(counted)[1]
    assert clv._stored(stored, "clv_calibration", cutoff, 1.0, end)
    assert clv._stored_rows(stored, end) and not clv._stored_rows(stored, cutoff)  # the rows answer the last date
    pd.testing.assert_frame_equal(clv.calibration_summary(stored, end), clv.calibration_summary(counted, end))
    pd.testing.assert_frame_equal(clv.value_summary(stored, end), clv.value_summary(counted, end))
    a, b = clv.ltv_report(stored, predictions=False), clv.ltv_report(counted, predictions=False)
    for report in (a, b):
        report.pop("fit_seconds")
    flat_a, flat_b = _flatten(a), _flatten(b)
    assert flat_a.keys() == flat_b.keys()
    for key, value in flat_a.items():  # amounts summed in another order differ in the last digits
        if isinstance(value, float):
            assert value == pytest.approx(flat_b[key], rel=1e-5, abs=1e-9), key
        else:
            assert value == flat_b[key], key
    # another cut-off is not stored: it counts from the orders, and still agrees
    assert not clv._stored(stored, "clv_calibration", date(2025, 3, 1))


def _flatten(value, prefix="") -> dict:
    if isinstance(value, dict):
        return {k: v for key, item in value.items() for k, v in _flatten(item, f"{prefix}.{key}").items()}
    if isinstance(value, list):
        return {k: v for i, item in enumerate(value) for k, v in _flatten(item, f"{prefix}[{i}]").items()}
    return {prefix: value}


def test_playbook_from_stored_customer_categories_equals_counting_orders(connections):
    from metrics import playbook

    with_summaries, from_orders = connections
    assert has_table(with_summaries, "customer_categories")
    for figure in (playbook.categories_bought, playbook.second_categories):
        pd.testing.assert_frame_equal(figure(with_summaries), figure(from_orders))
    for name in playbook.LIST_SQL:
        pd.testing.assert_frame_equal(playbook.action_list(with_summaries, name),
                                      playbook.action_list(from_orders, name))


class _RecordingConnection:
    """A connection that keeps every statement run through it, with its parameters."""

    def __init__(self, con):
        self._con, self.statements = con, []

    def __getattr__(self, name):
        return getattr(self._con, name)

    def execute(self, sql, parameters=None):
        self.statements.append((sql, parameters))
        return self._con.execute(sql, parameters)


@pytest.mark.parametrize("filters", [Filters(channel=("app", "web")),
                                     Filters(channel=("app",), region=("East",), start=date(2024, 7, 1))])
def test_no_filtered_page_query_keeps_a_heap_per_customer(connections, filters):
    """DuckDB turns `row_number() ... <= k` into a top-k heap per partition (arg_min_nulls_last): per
    customer at 100M orders under a two-channel filter, it filled the disk (docs/architecture.md)."""
    with_summaries, _ = connections
    own = with_summaries.cursor()  # a connection without kept tables yet: they are made, and recorded, here
    recording = _RecordingConnection(own)
    month = latest_full_month(with_summaries)
    for page_query in (repeat_funnel, days_between_orders, time_to_second_order, rfm_segments, due_for_repurchase,
                       kpi_table, cohort_matrix):
        page_query(recording, filters)
    members_vs_non_members(recording, month, filters)
    biggest_move(recording, month, filters)
    made = [sql for sql, _ in recording.statements if sql.lstrip().startswith("create or replace temp table")]
    assert len(made) == 2  # the kept gaps and facts, made once for the five per-customer queries
    queries = [(re.sub(r"^\s*create or replace temp table \w+ as\s", "", sql), parameters)
               for sql, parameters in recording.statements
               if sql.lstrip().lower().startswith(("select", "with", "create or replace temp table"))
               and "information_schema" not in sql]
    assert len(queries) >= 11
    heaps = [sql for sql, parameters in queries
             if "_nulls_last(" in own.execute(f"explain {sql}", parameters).fetchall()[0][1]]
    assert heaps == []
    own.close()
