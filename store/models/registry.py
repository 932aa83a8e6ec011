"""Every table a store version holds, in one registry: base models and summaries.

Each entry has its name, its SQL builder, what it reads (`needs`) and, for a summary, which requests
it answers (`covers`). The build order follows from `needs`; so does the split between the tables an
assignments upload rebuilds (those reading `batch_assignments`, directly or not) and the order
tables it keeps. `source_for` is the one place that decides "read the summary, or count from the
base models": a metric asks it, and falls back to its own SQL on the base models when it says None.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

import duckdb

from store.models import (clv, cohorts, customers, experiments, funnel, kpi_combos, kpi_value_signatures, kpis, orders,
                          playbook)
from store.models.dialect import has_table
from store.models.filters import Filters

BATCH_VIEWS = ("batch_orders", "batch_order_lines", "batch_assignments")  # what the builds start from


@dataclass(frozen=True)
class Request:
    """What a metric asks for, in the terms summaries are chosen by (unset fields: not asked)."""

    filters: Filters = Filters()
    grain: str = "month"
    by: str | None = None  # breakdown dimension
    first_date: date | None = None  # the data's first valid order date
    last_date: date | None = None  # the data's last valid order date
    end: date | None = None  # the requested range's last date (KPIs) or holdout end (customer value)
    history_start: date | None = None  # the first day counted (KPIs: two years before the range, for the changes)
    window_days: int | None = None
    pre_days: int | None = None
    bucket_days: int | None = None
    lookback_days: int | None = None
    cutoff: date | None = None
    unit_days: float = 1.0


Sql = str | list[str]  # a list: one table built part by part (their union all), see store.derived


@dataclass(frozen=True)
class MonthParts:
    """How a table keyed by month is written as Parquet parts split by month (store.derived), so that
    an append of later orders rewrites only the months it changes.

    rows(con, since, until, earlier) -> (SQL, parameters): the table's rows of the months in
    [since, until) (None: unbounded); `earlier` is a relation of its rows before `since`, or None.
    changed_from(con) -> the first month an append changes (None: every month).
    """

    column: str
    rows: Callable[[duckdb.DuckDBPyConnection, date | None, date | None, str | None], tuple[str, dict]]
    changed_from: Callable[[duckdb.DuckDBPyConnection], date | None]


@dataclass(frozen=True)
class Model:
    """One table of a store version.

    build(con) -> (SQL, parameters), run once the tables in `needs` exist on `con`. `covers`: None
    for a base model (always read); for a summary, whether it answers a request. `stamp`: request
    field -> column holding the value the summary was built for (checked against the request).
    `empty_store`: built also when the store has no valid order (summaries are not).
    `append(con)`: SQL of the table after an append (a batch of later orders, see store.derived),
    from `previous_<name>` and `new_batch_orders`; None: rebuilt from the new base models.
    `append_rows`: `append` gives only the new rows, written as one more file of the table beside
    the previous version's files (hard links): the table only grows (orders, order lines); its SQL
    None: built whole this time.
    `month_parts`: the table is written split by month (see MonthParts; the split reads the last valid
    month from `order_facts`, so the model needs it); `build` still gives it whole (another engine writes
    one file).
    `late`: built just after the version is published, not before (store.Store: every one of its rows moves
    with the data's last date, so an append counts all customers again; or no request reads it, only the
    next append); until it is there, a request counts from the base models. Nothing built on upload may
    need a late table.
    `replaced_by`: a key column. `append` gives only the rows of the keys the append changes (every row of
    such a key), written as the table's second file; a key's row there replaces its row in the first file,
    which stays linked (store.derived: `_append_replacing`, `read_table_sql`).
    `previous_optional`: a version written before the table existed is still appended to (the table is then
    built whole), as a late table is.
    """

    name: str
    build: Callable[[duckdb.DuckDBPyConnection], tuple[Sql, dict]]
    needs: tuple[str, ...]
    covers: Callable[[Request], bool] | None = None
    stamp: dict[str, str] = field(default_factory=dict)
    empty_store: bool = True
    append: Callable[[duckdb.DuckDBPyConnection], tuple[Sql, dict]] | None = None
    append_rows: bool = False
    month_parts: MonthParts | None = None
    late: bool = False
    replaced_by: str | None = None
    previous_optional: bool = False


def _sql(text: str) -> Callable[[duckdb.DuckDBPyConnection], tuple[Sql, dict]]:
    return lambda con: (text, {})


def _unfiltered(request: Request) -> bool:
    return request.filters == Filters()


def _always(request: Request) -> bool:
    return True


def _in_windows(request: Request) -> bool:
    return request.window_days in experiments.PRECOMPUTED_WINDOWS


_MODELS = (
    # base models
    Model("orders", _sql(orders.orders_sql()), ("batch_orders",), append=_sql(orders.new_orders_sql()),
          append_rows=True),
    Model("customers", _sql(customers.CUSTOMERS_SQL), ("orders",), append=_sql(customers.customers_append_sql()),
          replaced_by="customer_key"),
    Model("order_lines", _sql(orders.ORDER_LINES_SQL), ("batch_order_lines", "orders"),
          append=_sql(orders.NEW_ORDER_LINES_SQL), append_rows=True),
    Model("assignments", _sql(orders.ASSIGNMENTS_SQL), ("batch_assignments",)),
    Model("assigned_orders", _sql(orders.ASSIGNED_ORDERS_SQL), ("orders", "assignments"),
          append=_sql(orders.NEW_ASSIGNED_ORDERS_SQL), append_rows=True),
    # strategy tests: the arms answer every request; the orders around assignment the shorter windows
    Model("experiment_customers", _sql(experiments.experiment_customers_sql()), ("assignments", "assigned_orders"),
          covers=_always, append=experiments.experiment_customers_append, replaced_by="customer_id"),
    Model("experiment_orders", _sql(experiments.experiment_orders_sql()), ("experiment_customers", "assigned_orders"),
          covers=experiments.orders_cover, append=_sql(experiments.experiment_orders_sql("new_assigned_orders")), append_rows=True),
    Model("experiment_days", _sql(experiments.experiment_days_sql()), ("experiment_customers", "experiment_orders"),
          covers=_in_windows, append=experiments.experiment_days_append),
    Model("experiment_buckets", _sql(experiments.experiment_buckets_sql()),
          ("order_facts", "experiment_customers", "experiment_orders"),
          covers=lambda r: _in_windows(r) and r.bucket_days == experiments.PRECOMPUTED_BUCKET_DAYS,
          append=experiments.experiment_buckets_append),
    Model("experiment_survival", _sql(experiments.experiment_survival_sql()), ("order_facts", "experiment_customers"),
          covers=_always),
    # summaries of the orders
    # also in a store without valid orders: the strategy tests read the data's end from it
    Model("order_facts", _sql(orders.ORDER_FACTS_SQL), ("orders",), covers=_always, append=orders.order_facts_append),
    Model("filter_values", _sql(orders.filter_values_sql()), ("orders",), covers=_always, empty_store=False,
          append=_sql(orders.FILTER_VALUES_APPEND_SQL)),
    # kpi_base and cohort_base are the usual requests' shortcuts through the combination summaries below,
    # which answer the same requests with the same counts until they are built: late (5 s of a 10M import)
    Model("kpi_base", kpis.kpi_base_build,
          ("orders", "order_facts", "kpi_combos", "kpi_combo_months", "kpi_customer_combos", "kpi_signatures"),
          empty_store=False, append=kpis.kpi_base_append,
          covers=lambda r: kpis.kpi_base_slice(r.filters, r.grain, r.by, r.last_date, r.end) is not None, late=True),
    Model("cohort_base", _sql(cohorts.cohort_base_sql()), ("orders",), empty_store=False,
          append=cohorts.cohort_base_append,
          covers=lambda r: not r.filters.dimension_values(), late=True),
    # the per-customer figures under filters read it instead of the orders (an append adds its new rows);
    # late: until it is built they count from the orders table (3.9 s of a 10M-order import)
    Model("orders_by_dimension", _sql(orders.orders_by_dimension_sql()), ("orders",), covers=_always,
          empty_store=False, append=_sql(orders.orders_by_dimension_sql("new_orders")), append_rows=True, late=True),
    # what a page's estimate under a filter counts on a large store while the exact count runs (ui.data); late: until
    # it is built, pages wait for the exact count. Its SQL is made at build time, so a test can change the share
    Model("orders_sample", lambda con: (orders.orders_sample_sql(), {}), ("orders",), empty_store=False,
          append=lambda con: (orders.orders_sample_sql("new_orders"), {}), append_rows=True, late=True),
    Model("last_order_days", _sql(orders.last_order_days_sql()), ("orders",), empty_store=False,
          append=_sql(orders.LAST_ORDER_DAYS_APPEND_SQL), late=True),
    # any filter combination, grain and breakdown of the KPI counts and the cohort groups (kpi_combos)
    Model("kpi_combos", _sql(kpi_combos.KPI_COMBOS_SQL), ("orders",), covers=_always, empty_store=False,
          append=kpi_combos.kpi_combos_append),
    Model("kpi_combo_months", _sql(kpi_combos.KPI_COMBO_MONTHS_SQL), ("orders", "kpi_combos"), empty_store=False,
          covers=kpi_combos.covers, append=kpi_combos.kpi_combo_months_append),
    Model("kpi_customer_combos", _sql(kpi_combos.KPI_CUSTOMER_COMBOS_SQL), ("orders", "kpi_combos", "order_facts"),
          empty_store=False, covers=kpi_combos.covers,
          month_parts=MonthParts("month", kpi_combos.kpi_customer_combos_rows, kpi_combos.changed_months_from)),
    Model("kpi_signatures", lambda con: ([kpi_combos.kpi_signatures_sql(g) for g in kpi_combos.SIGNATURE_GRAINS], {}),
          ("kpi_customer_combos", "order_facts"), empty_store=False, covers=kpi_combos.covers,
          month_parts=MonthParts("period", kpi_combos.kpi_signatures_rows, kpi_combos.changed_months_from)),
    # a filter on one dimension's values: each month's customers from a few thousand rows instead of kpi_signatures'
    # millions (0.6 s at 100M orders under two channels); late: until it is built, kpi_signatures answers (11 s of a
    # 100M-order import); an append writes its new months
    Model("kpi_value_signatures", lambda con: (kpi_value_signatures.kpi_value_signatures_sql(), {}),
          ("kpi_combos", "kpi_signatures", "order_facts"), empty_store=False, covers=kpi_combos.covers,
          month_parts=MonthParts("period", kpi_value_signatures.kpi_value_signatures_rows,
                                 kpi_value_signatures.value_signatures_changed_from), late=True),
    # the trailing years' state an append of kpi_base starts from (store.models.kpi_trailing); no request
    # reads it, so it is built after publishing (16 s of a 100M-order import)
    Model("kpi_customers_since", kpis.customers_since_build, ("kpi_customer_combos", "kpi_combos", "order_facts"),
          empty_store=False, append=kpis.customers_since_append, previous_optional=True, late=True),
    # the days between orders counted per whole day (appendable), their quartiles read from the counts
    Model("order_gap_days", _sql(funnel.ORDER_GAP_DAYS_SQL), ("orders",), empty_store=False,
          append=funnel.order_gap_days_append),
    Model("order_intervals", _sql(funnel.order_intervals_from_gap_days_sql()), ("order_gap_days",),
          covers=_unfiltered, empty_store=False),
    Model("due_list", _sql(customers.stored_due_list_sql()), ("customers",), covers=_unfiltered,
          empty_store=False, late=True),

    Model("planner_base", _sql(experiments.planner_base_sql()), ("orders", "order_facts"), empty_store=False,
          covers=lambda r: _in_windows(r) and r.lookback_days == experiments.PLANNER_LOOKBACK_DAYS, late=True),
    Model("repeat_funnel_steps", _sql(funnel.repeat_funnel_sql()), ("orders",), covers=_unfiltered,
          empty_store=False, append=funnel.repeat_funnel_append),
    Model("second_order_buckets", _sql(funnel.second_order_sql()), ("orders",), covers=_unfiltered,
          empty_store=False, append=funnel.second_order_append),
    # the Playbook's cross-category figures and lists (it ignores the sidebar filters)
    # an append writes only the touched customers' rows (counted from their orders, `touched_orders`), as a
    # second file; late: its full build (28 s at 100M orders) is not needed to publish
    Model("customer_categories", lambda con: (playbook.customer_categories_sql(con), {}),
          ("orders", "order_lines", "customers"),
          covers=_always, empty_store=False,
          append=lambda con: (playbook.customer_categories_sql(con, relation=customers.touched_orders(con)), {}),
          replaced_by="customer_key", late=True),
    # the Customer value page's first view: the default cut-off and the last date, in days
    Model("clv_calibration", clv.calibration_build, ("orders", "customers"), covers=lambda r: r.unit_days == 1.0,
          stamp={"cutoff": "cutoff", "end": "end_date"}, empty_store=False,
          append=clv.calibration_append, late=True),
    Model("clv_holdout_days", clv.holdout_days_build, ("orders", "customers", "clv_calibration"), covers=lambda r: r.unit_days == 1.0,
          empty_store=False, late=True),
    Model("rfm_customer_segments", _sql(clv.RFM_CUSTOMER_SEGMENTS_SQL), ("customers",), empty_store=False, late=True),
    # every customer's purchase summary at the last date, without T (added when read, with the RFM segment of
    # rfm_customer_segments, built first): an append writes only the touched customers' rows, as customer_categories
    Model("clv_customer_rows", clv.customer_rows_build, ("orders", "customers", "rfm_customer_segments"),
          covers=lambda r: r.unit_days == 1.0 and r.cutoff is not None and r.cutoff == r.last_date,
          empty_store=False, append=lambda con: clv.customer_rows_build(con, relation=customers.touched_orders(con)),
          replaced_by="customer_key", late=True),
    # each customer's RFM segment read from rfm_customer_segments (scored once)
    Model("rfm_segment_totals", _sql(customers.stored_rfm_segments_sql()), ("customers", "rfm_customer_segments"),
          covers=_unfiltered, empty_store=False, late=True),
)
MODELS = {model.name: model for model in _MODELS}


def _build_order() -> tuple[str, ...]:
    """Every model after the models it needs (declaration order among those that are free), the late
    models after the others: they are built once the version is published."""
    ordered: list[str] = []
    done = set(BATCH_VIEWS)
    for name, model in MODELS.items():
        if not model.late and any(MODELS[need].late for need in model.needs if need in MODELS):
            raise ValueError(f"{name} is built on upload but needs a table built after it")
    for late in (False, True):
        pending = [name for name, model in MODELS.items() if model.late == late]
        while pending:
            ready = [name for name in pending if set(MODELS[name].needs) <= done]
            if not ready:
                raise ValueError(f"models with unknown or circular needs: {', '.join(pending)}")
            ordered += ready
            done |= set(ready)
            pending = [name for name in pending if name not in done]
    return tuple(ordered)


def _reads(name: str) -> set[str]:
    """Every table and batch view `name` reads, directly or not."""
    needs = set(MODELS[name].needs) if name in MODELS else set()
    return needs.union(*(_reads(n) for n in needs)) if needs else needs


BUILD_ORDER = _build_order()
SUMMARIES = tuple(name for name in BUILD_ORDER if MODELS[name].covers is not None)
# rebuilt when only the assignments change; the others are kept from the published version
ASSIGNMENT_TABLES = tuple(name for name in BUILD_ORDER if "batch_assignments" in _reads(name))
ORDER_TABLES = tuple(name for name in BUILD_ORDER if name not in ASSIGNMENT_TABLES)
# built after the version is published (Model.late); the others before
LATE_TABLES = tuple(name for name in BUILD_ORDER if MODELS[name].late)
UPLOAD_TABLES = tuple(name for name in BUILD_ORDER if not MODELS[name].late)
EMPTY_STORE_TABLES = tuple(name for name in BUILD_ORDER if MODELS[name].empty_store)
# an append of later orders: the tables kept as they were (reading no orders), the others appended
# (`append`) or rebuilt
KEPT_ON_APPEND = tuple(name for name in BUILD_ORDER
                       if not _reads(name) & {"batch_orders", "batch_order_lines"} and MODELS[name].append is None)
# the tables an append starts from (kept, added to or recounted from their previous rows); the others are
# built whole from the new tables, so a previous version written before one of them can still be appended to
# (a late table the previous version lacks, its late build stopped, or a previous_optional one, is built whole)
APPEND_STARTS_FROM = tuple(name for name in BUILD_ORDER if not MODELS[name].late and not MODELS[name].previous_optional and (
    name in KEPT_ON_APPEND or MODELS[name].append is not None or MODELS[name].month_parts is not None))


def source_for(con: duckdb.DuckDBPyConnection, name: str, request: Request) -> str | None:
    """The summary table to read for this request, or None: count from the base models instead.

    None when the summary cannot answer it, when this store version was written before the
    summary existed, or when it was built for another value of a stamped field (a cut-off...).
    """
    model = MODELS[name]
    if model.covers is None or not model.covers(request) or not has_table(con, name):
        return None
    asked = {column: getattr(request, key) for key, column in model.stamp.items() if getattr(request, key) is not None}
    if asked:
        built = con.execute(f"select {', '.join(f'any_value({c})' for c in asked)} from {name}").fetchone()
        if tuple(built) != tuple(asked.values()):
            return None
    return name
