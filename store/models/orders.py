"""The base models built from the batch views at every store change, and the store's inventory.

Inputs are the views `batch_orders`, `batch_order_lines` and `batch_assignments` (every live batch,
with its `batch_seq`).

- `orders`: one row per order id; when batches overlap the row from the newest batch wins.
  Adds is_valid, order_date, order_month, customer_key, and for valid identified orders
  customer_order_seq (1 = first order), days_since_previous and cohort_month.
- `customers`: one row per identified customer with at least one valid order (SQL: store.models.customers).
- `order_lines`: lines of the orders kept in `orders` (same winning batch).
- `assignments`: one row per experiment and customer; the newest batch wins.
- `assigned_orders`: the valid orders of customers in any experiment (what strategy tests read).
- summaries `order_facts` (order counts and date range) and `filter_values` (the filter pickers' choices).
"""

from store.models import dialect
from store.models.filters import DIMENSIONS


def orders_sql(deduplicate: bool = True) -> str:
    """The orders table; `deduplicate=False` when a single batch holds every order (ids are unique within a batch).

    A row is identified by (batch_seq, file_row_number). Numbering each customer's orders is a
    window over every order; it runs on a narrow projection of the rows and is joined back by that
    identity, because a window over the wide rows sorts every column (16 s instead of 11 s at 10M
    orders, and spilling past the memory limit).
    """
    narrow_columns = "batch_seq, file_row_number, order_id, customer_id, order_ts, status"
    order_month = "cast(date_trunc('month', order_ts) as date)"
    if deduplicate:  # the newest batch's row of each order id
        ctes = f"""
latest as (
    select {narrow_columns}
    from (
        select {narrow_columns},
            row_number() over (partition by order_id order by batch_seq desc) as batch_rank
        from batch_orders
    )
    where batch_rank = 1
),
"""
        latest = "latest"
        keep_latest = "join (select batch_seq, file_row_number from latest) as kept using (batch_seq, file_row_number)"
    else:  # inlined, not a CTE: referenced twice, a CTE would be materialised
        ctes, latest, keep_latest = "", f"(select {narrow_columns} from batch_orders)", ""
    return f"""
with {ctes}
customer_keys as (
    select
        customer_id,
        row_number() over (order by customer_id) as customer_key
    from (select distinct customer_id from {latest} as rows where customer_id is not null)
),

-- Every identified order gets its customer key here, on the narrow rows; one window over each
-- customer's valid orders numbers them (other orders form their own partition and get nulls).
sequenced as (
    select
        batch_seq,
        file_row_number,
        customer_key,
        case when is_valid then row_number() over customer_history end as customer_order_seq,
        case when is_valid then {dialect.day_diff("order_ts", "lag(order_ts) over customer_history")} end
            as days_since_previous,
        case when is_valid then first_value(order_month) over customer_history end as cohort_month
    from (
        select *, status = 'valid' as is_valid, {order_month} as order_month
        from {latest} as rows
        where customer_id is not null
    ) as identified_orders
    join customer_keys using (customer_id)
    window customer_history as (partition by customer_key, is_valid order by order_ts, order_id)
),

final as (
    select
        {dialect.columns_except(("file_row_number",), "batch_orders")},
        status = 'valid' as is_valid,
        cast(order_ts as date) as order_date,
        {order_month} as order_month,
        sequenced.customer_key,
        sequenced.customer_order_seq,
        sequenced.days_since_previous,
        sequenced.cohort_month
    from batch_orders
    {keep_latest}
    left join sequenced using (batch_seq, file_row_number)
)

select * from final
"""


ORDER_LINES_SQL = f"""
select {dialect.columns_except(("batch_seq", "batch_id", "file_row_number"), "batch_order_lines")}
from batch_order_lines
join orders
    on orders.order_id = batch_order_lines.order_id
    and orders.batch_id = batch_order_lines.batch_id
order by batch_order_lines.order_id, batch_order_lines.source_row
"""

ASSIGNMENTS_SQL = f"""
with ranked as (
    select
        *,
        row_number() over (
            partition by experiment, customer_id order by batch_seq desc
        ) as batch_rank
    from batch_assignments
)

select {dialect.columns_except(("batch_rank", "batch_seq", "file_row_number"))} from ranked where batch_rank = 1
order by experiment, customer_id
"""

def customer_months_sql(where: str, segment: str = "'all'") -> str:
    """Customer x month: one row per month, segment and customer of the orders matching `where`
    (guest orders: one row without a customer per month and segment), with their orders, revenue
    and the customer's cohort month. What the KPI counts and the cohort groups are built on."""
    return f"""
            select
                month,
                segment,
                customer_key,
                count(*) as orders,
                sum(amount) as revenue,
                min(cohort_month) as cohort_month
            from (
                select order_month as month, customer_key, cohort_month, amount, {segment} as segment
                from orders
                where {where}
            ) as filtered_orders
            group by month, segment, customer_key
    """


# Valid orders of the customers in any experiment: strategy tests join these, not every order.
ASSIGNED_ORDERS_SQL = """
select customer_id, order_ts, cast(amount as double) as amount
from orders
where is_valid and customer_id in (select customer_id from assignments)
"""


ORDER_FACTS_SQL = """
    select
        count(*) as orders,
        count(*) filter (where is_valid) as valid_orders,
        count(*) filter (where customer_id is null) as guest_orders,
        min(order_ts) as first_order,
        max(order_ts) as last_order,
        min(order_date) filter (where is_valid) as first_valid_date,
        max(order_date) filter (where is_valid) as last_valid_date
    from orders
"""


def filter_values_sql() -> str:
    """Every (dimension, value) pair among valid orders: the choices of the filter pickers."""
    return " union all ".join(
        f"select distinct '{d}' as dimension, {d} as value from orders where is_valid and {d} is not null"
        for d in DIMENSIONS
    )


# ---- the append path: a batch whose valid orders all come after the store's last valid order ----
# Inputs: `previous_<table>` (the published version's tables) and `new_batch_orders` /
# `new_batch_order_lines` (the new batch alone, shaped like the batch views). Each builder gives the
# same rows the full build would (tests/test_incremental.py compares every table).

# Every customer id's key after the append: keys are ranks of the ids, so a new id ranked among
# the old ones moves the keys after it; the full build numbers them the same way.
CUSTOMER_KEY_MAP_SQL = """
select customer_id, previous_key, row_number() over (order by customer_id) as customer_key
from (
    select customer_id, max(customer_key) as previous_key
    from (
        select customer_id, customer_key from previous_orders where customer_id is not null
        union all
        select customer_id, null as customer_key from new_batch_orders where customer_id is not null
    ) as ids
    group by customer_id
) as ids
"""


def _columns(con, relation: str) -> list[str]:
    return [row[0] for row in con.execute(f"select * from {relation} limit 0").description]


def rekeyed_sql(con, relation: str) -> str:
    """`relation`'s rows with customer_key from `customer_key_map`, its columns in the same order
    (the rows as they are when no key moves: every new id sorts after the old ones)."""
    if not con.execute("select count(*) from customer_key_map where previous_key <> customer_key").fetchone()[0]:
        return f"select * from {relation}"
    columns = ", ".join("customer_key_map.customer_key" if c == "customer_key" else f"{relation}.{c}"
                        for c in _columns(con, relation))
    return (f"select {columns} from {relation} "
            f"left join customer_key_map on {relation}.customer_id = customer_key_map.customer_id")


def orders_append_sql(con) -> str:
    """The orders table after appending `new_batch_orders`: the previous rows (keys renumbered) and the
    new rows numbered on from each customer's previous valid orders (count, last order, cohort)."""
    order_month = "cast(date_trunc('month', order_ts) as date)"
    new_rows = f"""
with previous_customers_facts as (
    select customer_id, valid_orders, last_order_ts, cohort_month from previous_customers
),

sequenced as (
    select
        batch_seq,
        file_row_number,
        customer_key_map.customer_key,
        case when is_valid then coalesce(previous.valid_orders, 0) + row_number() over customer_history end
            as customer_order_seq,
        case when is_valid then {dialect.day_diff("order_ts",
            "coalesce(lag(order_ts) over customer_history, previous.last_order_ts)")} end as days_since_previous,
        case when is_valid then coalesce(previous.cohort_month, first_value(order_month) over customer_history) end
            as cohort_month
    from (
        select batch_seq, file_row_number, order_id, customer_id, order_ts,
            status = 'valid' as is_valid, {order_month} as order_month
        from new_batch_orders
        where customer_id is not null
    ) as identified_orders
    join customer_key_map using (customer_id)
    left join previous_customers_facts as previous using (customer_id)
    window customer_history as (partition by identified_orders.customer_id, is_valid order by order_ts, order_id)
)

select
    {dialect.columns_except(("file_row_number",), "new_batch_orders")},
    status = 'valid' as is_valid,
    cast(order_ts as date) as order_date,
    {order_month} as order_month,
    sequenced.customer_key,
    sequenced.customer_order_seq,
    sequenced.days_since_previous,
    sequenced.cohort_month
from new_batch_orders
left join sequenced using (batch_seq, file_row_number)
"""
    return dialect.union_by_name([rekeyed_sql(con, "previous_orders"), f"select * from ({new_rows}) as new_orders"])


_NEW_LINES_SQL = f"""
    select {dialect.columns_except(("batch_seq", "batch_id", "file_row_number"), "new_batch_order_lines")}
    from new_batch_order_lines
    join orders
        on orders.order_id = new_batch_order_lines.order_id
        and orders.batch_id = new_batch_order_lines.batch_id
"""

ORDER_LINES_APPEND_SQL = f"""
select * from ({dialect.union_by_name(["select * from previous_order_lines", _NEW_LINES_SQL])}) as lines
order by order_id, source_row
"""
