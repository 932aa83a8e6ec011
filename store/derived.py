"""Derived tables, rebuilt once per store change so that page views only run small queries.

Inputs are the views `batch_orders`, `batch_order_lines` and `batch_assignments` (every live batch,
with its `batch_seq`); outputs are written as Parquet files into a new version folder.

- `orders`: one row per order id; when batches overlap the row from the newest batch wins.
  Adds is_valid, order_date, order_month, customer_key, and for valid identified orders
  customer_order_seq (1 = first order), days_since_previous and cohort_month.
- `customers`: one row per identified customer with at least one valid order.
- `customer_months`: one row per customer and month with a valid order.
- `order_lines`: lines of the orders kept in `orders` (same winning batch).
- `assignments`: one row per experiment and customer; the newest batch wins.
"""

from pathlib import Path

import duckdb


def sql_path(path: Path) -> str:
    """A path as a quoted SQL string literal."""
    return "'" + str(path).replace("'", "''") + "'"

ORDERS_SQL = """
with ranked as (
    select
        *,
        row_number() over (partition by order_id order by batch_seq desc) as batch_rank,
    from batch_orders
),

latest as (
    select * exclude (batch_rank) from ranked where batch_rank = 1
),

flagged as (
    select
        *,
        status = 'valid' as is_valid,
        cast(order_ts as date) as order_date,
        cast(date_trunc('month', order_ts) as date) as order_month,
    from latest
),

customer_keys as (
    select
        customer_id,
        row_number() over (order by customer_id) as customer_key,
    from (select distinct customer_id from flagged where customer_id is not null)
),

customer_sequence as (
    select
        order_id,
        row_number() over (partition by customer_id order by order_ts, order_id)
            as customer_order_seq,
        date_diff(
            'day',
            lag(order_ts) over (partition by customer_id order by order_ts, order_id),
            order_ts
        ) as days_since_previous,
        min(order_month) over (partition by customer_id) as cohort_month,
    from flagged
    where is_valid and customer_id is not null
),

final as (
    select
        flagged.*,
        customer_keys.customer_key,
        customer_sequence.customer_order_seq,
        customer_sequence.days_since_previous,
        customer_sequence.cohort_month,
    from flagged
    left join customer_keys using (customer_id)
    left join customer_sequence using (order_id)
)

select * from final order by order_ts, order_id
"""

CUSTOMERS_SQL = """
with valid_orders as (
    select * from orders where is_valid and customer_key is not null
),

final as (
    select
        customer_key,
        any_value(customer_id) as customer_id,
        min(cohort_month) as cohort_month,
        min(order_ts) as first_order_ts,
        max(order_ts) as last_order_ts,
        count(*) as valid_orders,
        sum(amount) as revenue,
        arg_max(member_tier, order_ts) as member_tier,
        arg_min(channel, order_ts) as first_channel,
        arg_min(region, order_ts) as first_region,
    from valid_orders
    group by customer_key
)

select * from final order by customer_key
"""

CUSTOMER_MONTHS_SQL = """
with valid_orders as (
    select * from orders where is_valid and customer_key is not null
),

final as (
    select
        customer_key,
        order_month as month,
        min(cohort_month) as cohort_month,
        date_diff('month', min(cohort_month), order_month) as months_since_first,
        count(*) as orders,
        sum(amount) as revenue,
    from valid_orders
    group by customer_key, order_month
)

select * from final order by month, customer_key
"""

ORDER_LINES_SQL = """
select batch_order_lines.* exclude (batch_seq, batch_id)
from batch_order_lines
join orders
    on orders.order_id = batch_order_lines.order_id
    and orders.batch_id = batch_order_lines.batch_id
order by batch_order_lines.order_id, batch_order_lines.source_row
"""

ASSIGNMENTS_SQL = """
with ranked as (
    select
        *,
        row_number() over (
            partition by experiment, customer_id order by batch_seq desc
        ) as batch_rank,
    from batch_assignments
)

select * exclude (batch_rank, batch_seq) from ranked where batch_rank = 1
order by experiment, customer_id
"""

DERIVED_TABLES = {
    "orders": ORDERS_SQL,
    "customers": CUSTOMERS_SQL,
    "customer_months": CUSTOMER_MONTHS_SQL,
    "order_lines": ORDER_LINES_SQL,
    "assignments": ASSIGNMENTS_SQL,
}


def build_derived_tables(con: duckdb.DuckDBPyConnection, out_dir: Path) -> dict[str, int]:
    """Build every derived table from the batch views and write them to out_dir; return row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    for name, sql in DERIVED_TABLES.items():
        con.execute(f"create or replace temp table {name} as {sql}")
        target = out_dir / f"{name}.parquet"
        con.execute(f"copy {name} to {sql_path(target)} (format parquet, compression zstd)")
        counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
    return counts
