"""The base models built from the batch views at every store change, and the store's inventory.

Inputs are the views `batch_orders`, `batch_order_lines` and `batch_assignments` (every live batch,
with its `batch_seq`).

- `orders`: one row per order id; when batches overlap the row from the newest batch wins.
  Adds is_valid, order_date, order_month, and for valid identified orders customer_key (customers
  numbered in order of their first valid order, then id: keys never move on an append),
  customer_order_seq (1 = first order), days_since_previous and cohort_month.
- `customers`: one row per identified customer with at least one valid order (SQL: store.models.customers).
- `orders_by_dimension`: the valid identified orders, narrow, sorted by the dimension values (what
  filters on them read instead of every order).
- `orders_sample`: every order of 1 in SAMPLE_ONE_IN customers and 1 in SAMPLE_ONE_IN of the other orders
  (what a page's estimate under a filter counts on a large store, before the exact count is ready), and
  `last_order_days`, each combination of dimension values' last order day (the day its estimate counts to).
- `order_lines`: lines of the orders kept in `orders` (same winning batch).
- `assignments`: one row per experiment and customer; the newest batch wins.
- `assigned_orders`: the valid orders of customers in any experiment (what strategy tests read).
- summaries `order_facts` (order counts and date range) and `filter_values` (the filter pickers' choices).
"""

from store.models import dialect
from store.models.filters import DIMENSIONS


ORDER_MONTH = "cast(date_trunc('month', order_ts) as date)"


def _orders_final(source: str, join: str = "", kept: str = "") -> str:
    """The orders table's columns: `source`'s rows (shaped like the batch views; `join` and the condition
    `kept` choose which) with is_valid, order_date, order_month and the numbering from the `sequenced` CTE.
    One definition for the full build and the append."""
    return f"""
select
    {dialect.columns_except(("file_row_number",), source)},
    status = 'valid' as is_valid,
    cast(order_ts as date) as order_date,
    {ORDER_MONTH} as order_month,
    sequenced.customer_key,
    sequenced.customer_order_seq,
    sequenced.days_since_previous,
    sequenced.cohort_month
from {source}
{join}
left join sequenced using (batch_seq, file_row_number)
{f"where {kept}" if kept else ""}
"""


def _numbering(deduplicate: bool) -> tuple[str, str, str]:
    """(CTEs ending in `sequenced`, the join and the condition that keep the batch rows a newer batch
    does not replace). `sequenced`: each kept valid identified row (batch_seq, file_row_number) with
    its customer_key, customer_order_seq, days_since_previous and cohort_month."""
    narrow_columns = "batch_seq, file_row_number, order_id, customer_id, order_ts, status"
    if deduplicate:
        ctes = """
superseded as (
    select batch_seq, file_row_number, true as is_superseded
    from (
        select batch_seq, file_row_number,
            row_number() over (partition by order_id order by batch_seq desc) as batch_rank
        from batch_orders
    ) as ranked
    where batch_rank > 1
),
"""
        join, kept = "left join superseded using (batch_seq, file_row_number)", "superseded.is_superseded is null"
    else:
        ctes, join, kept = "", "", ""
    # inlined, not a CTE: referenced twice, a CTE would be materialised (every order held in memory)
    latest = f"(select {narrow_columns} from batch_orders {join} {f'where {kept}' if kept else ''})"
    ctes += f"""
identified_orders as (
    select batch_seq, file_row_number, order_id, customer_id, order_ts, {ORDER_MONTH} as order_month
    from {latest} as rows
    where customer_id is not null and status = 'valid'
),

customer_keys as (
    select
        customer_id,
        row_number() over (order by first_valid_ts, customer_id) as customer_key
    from (
        select customer_id, min(order_ts) as first_valid_ts
        from identified_orders
        group by customer_id
    ) as first_orders
),

-- one window over each customer's valid orders numbers them; other orders get nulls
sequenced as (
    select
        batch_seq,
        file_row_number,
        customer_key,
        row_number() over customer_history as customer_order_seq,
        {dialect.day_diff("order_ts", "lag(order_ts) over customer_history")} as days_since_previous,
        first_value(order_month) over customer_history as cohort_month
    from identified_orders
    join customer_keys using (customer_id)
    window customer_history as (partition by customer_key order by order_ts, order_id)
)
"""
    return ctes, join, kept


def orders_sql(deduplicate: bool = True) -> str:
    """The orders table; `deduplicate=False` when a single batch holds every order (ids are unique within a batch).

    A row is identified by (batch_seq, file_row_number). Numbering each customer's orders is a
    window over every valid order; it runs on a narrow projection of the rows and is joined back by
    that identity, because a window over the wide rows sorts every column (16 s instead of 11 s at
    10M orders, and spilling past the memory limit).

    When batches overlap, the newest batch's row of an order id wins. Only the rows it replaces are
    kept aside (`superseded`, as many as the batches overlap), and every other step reads the batch
    files again: the kept rows themselves, held as one table, ran out of memory at 100M orders.

    Customer keys number the customers with a valid order in order of first appearance: by their
    first valid order's time, then customer id. They never move when later orders are appended
    (the append path writes only the new rows, docs/store.md); invalid orders carry no key.
    """
    ctes, join, kept = _numbering(deduplicate)
    return f"with {ctes}\n{_orders_final('batch_orders', join, kept)}"


def order_plan_sql(deduplicate: bool, part_rows: int) -> str:
    """The orders table's numbering, for writing the table in parts (`order_part_sql`): the `sequenced`
    rows of `orders_sql`, and with `deduplicate` the rows a newer batch replaces (is_superseded true,
    no numbering), each with its `part` (file_row_number // part_rows within its batch)."""
    ctes, _, _ = _numbering(deduplicate)
    rows = ["select *, false as is_superseded from sequenced"]
    if deduplicate:
        rows.append("select batch_seq, file_row_number, is_superseded from superseded")
    return f"""
with {ctes}
select *, file_row_number // {int(part_rows)} as part
from ({dialect.union_by_name(rows)}) as plan
"""


def order_part_sql(plan: str) -> str:
    """One part of the orders table: the rows of batch $batch_seq with file_row_number in
    [$first_row, $end_row), joined to their numbering in `plan` (rows of `order_plan_sql`'s part);
    the same rows and columns `orders_sql` gives them."""
    kept = ("coalesce(sequenced.is_superseded, false) = false and batch_orders.batch_seq = $batch_seq"
            " and batch_orders.file_row_number >= $first_row and batch_orders.file_row_number < $end_row")
    return f"with sequenced as ({plan})\n{_orders_final('batch_orders', '', kept)}"


def orders_by_dimension_sql(relation: str = "orders") -> str:
    """`orders_by_dimension`: the valid identified orders of `relation` in the columns the per-customer
    figures under filters read (customer facts, the funnel's numbering), sorted by the dimension values.
    Parquet keeps each row group's smallest and largest value per column, so a filter on the dimensions
    reads only the row groups that can hold its orders, instead of every order (the orders table is in
    upload order: a filter matching a tenth of the orders read all of them). Sorted by one number per
    combination of the values, numbered in the values' order: the same order as sorting by the four
    texts, in 8.7 s instead of 14.8 s at 10M orders."""
    dimensions = ", ".join(DIMENSIONS)
    same_values = " and ".join(f"orders.{d} is not distinct from combinations.{d}" for d in DIMENSIONS)
    return f"""
with combinations as (
    select {dimensions}, row_number() over (order by {dimensions}) as combination_order
    from (select distinct {dimensions} from {relation} where is_valid and customer_key is not null) as kept
)

select orders.customer_key, orders.customer_id, orders.cohort_month, orders.order_ts, orders.order_date,
    orders.amount, {", ".join(f"orders.{d}" for d in DIMENSIONS)}, orders.customer_order_seq, orders.is_valid
from {relation} as orders
join combinations on {same_values}
where orders.is_valid and orders.customer_key is not null
order by combinations.combination_order
"""


def last_order_days_sql(relation: str = "orders") -> str:
    """`last_order_days`: per combination of the dimension values, the day of its last valid identified order
    (as `order_date`, beside `is_valid`, so a filter's condition reads it as it reads the orders): the last day a
    filter's per-customer facts count to when it has no end, which an estimate counted on the orders sample
    cannot see (its last orders are 1 in SAMPLE_ONE_IN)."""
    dimensions = ", ".join(DIMENSIONS)
    return f"""
select {dimensions}, true as is_valid, max(order_date) as order_date
from {relation}
where is_valid and customer_key is not null
group by {dimensions}
"""


# after an append: each combination's later day of the previous and the new orders'
LAST_ORDER_DAYS_APPEND_SQL = f"""
select {", ".join(DIMENSIONS)}, true as is_valid, max(order_date) as order_date
from (select * from previous_last_order_days union all {last_order_days_sql("new_orders")}) as both_days
group by {", ".join(DIMENSIONS)}
"""


SAMPLE_ONE_IN = 128  # 1 in this many customers (a power of two up to 256); a change needs each store rebuilt whole


def orders_sample_sql(relation: str = "orders") -> str:
    """`orders_sample`: the orders of `relation` (every column) of 1 in SAMPLE_ONE_IN customers, those whose
    customer_key is a multiple of it (keys are numbered by first order, so the sample spreads evenly over every
    first-order month), and 1 in SAMPLE_ONE_IN of the orders without a customer (guests, invalid orders: those
    whose id's MD5 starts with one of 256 / SAMPLE_ONE_IN two-digit prefixes). `sampled_one_in` says the share.
    Every figure counted from it estimates the same figure counted from every order: counts and sums times
    SAMPLE_ONE_IN, shares and averages as they are (metrics.estimates)."""
    prefixes = ", ".join(f"'{bucket:02x}'" for bucket in range(256 // SAMPLE_ONE_IN))
    return f"""
select *, {SAMPLE_ONE_IN} as sampled_one_in
from {relation}
where case when customer_key is null then left(md5(order_id), 2) in ({prefixes})
           else customer_key % {SAMPLE_ONE_IN} = 0 end
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

def customer_months_sql(where: str, segment: str = "'all'", relation: str = "orders") -> str:
    """Customer x month: one row per month, segment and customer of the orders matching `where`
    (guest orders: one row without a customer per month and segment), with their orders, revenue
    and the customer's cohort month. What the KPI counts and the cohort groups are built on.
    `relation`: rows of the orders table to read (named `orders` in `where`)."""
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
                from {relation} as orders
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


def order_facts_sql(relation: str = "orders") -> str:
    """Order counts and date range of `relation` (rows of the orders table); customers: identified
    customers with a valid order (their first valid orders, so that an append adds its new customers)."""
    return f"""
    select
        count(*) as orders,
        count(*) filter (where is_valid) as valid_orders,
        count(*) filter (where customer_id is null) as guest_orders,
        count(*) filter (where is_valid and customer_key is not null and customer_order_seq = 1) as customers,
        min(order_ts) as first_order,
        max(order_ts) as last_order,
        max(order_ts) filter (where is_valid) as last_valid_order,
        min(order_date) filter (where is_valid) as first_valid_date,
        max(order_date) filter (where is_valid) as last_valid_date
    from {relation}
"""


ORDER_FACTS_SQL = order_facts_sql()

# after an append: the previous facts and the new rows' (`new_orders`, see store.derived) combined
ORDER_FACTS_APPEND_SQL = f"""
select
    cast(sum(orders) as bigint) as orders,
    cast(sum(valid_orders) as bigint) as valid_orders,
    cast(sum(guest_orders) as bigint) as guest_orders,
    cast(sum(customers) as bigint) as customers,
    min(first_order) as first_order,
    max(last_order) as last_order,
    max(last_valid_order) as last_valid_order,
    min(first_valid_date) as first_valid_date,
    max(last_valid_date) as last_valid_date
from (
    select * from previous_order_facts
    union all
    {order_facts_sql("new_orders")}
) as both_facts
"""


def order_facts_append(con) -> tuple[str, dict]:
    """order_facts after an append: ORDER_FACTS_APPEND_SQL, or counted whole again from a version written
    before it counted the customers or kept its last valid order's time."""
    columns = {row[0] for row in con.execute("describe previous_order_facts").fetchall()}
    return (ORDER_FACTS_APPEND_SQL if {"customers", "last_valid_order"} <= columns else ORDER_FACTS_SQL), {}


def filter_values_sql(relation: str = "orders") -> str:
    """Every (dimension, value) pair among valid orders of `relation`: the choices of the filter pickers."""
    return " union all ".join(
        f"select distinct '{d}' as dimension, {d} as value from {relation} where is_valid and {d} is not null"
        for d in DIMENSIONS
    )


# after an append: the previous pairs and the new rows' (`new_orders`), each once
FILTER_VALUES_APPEND_SQL = f"""
select distinct dimension, value
from (select * from previous_filter_values union all {filter_values_sql("new_orders")}) as both_values
"""


# Valid orders of assigned customers among the appended rows (the assignments do not change on an append)
NEW_ASSIGNED_ORDERS_SQL = """
select customer_id, order_ts, cast(amount as double) as amount
from new_orders
where is_valid and customer_id in (select customer_id from assignments)
"""


# ---- the append path: a batch whose valid orders all come after the store's last valid order ----
# Inputs: `previous_<table>` (the published version's tables) and `new_batch_orders` /
# `new_batch_order_lines` (the new batch alone, shaped like the batch views). Each builder gives the
# same rows the full build would (tests/test_incremental.py compares every table).

def new_orders_sql() -> str:
    """The new rows of the orders table after appending `new_batch_orders`: numbered on from each
    customer's previous valid orders (count, last order, cohort month and key, read from
    `previous_customers`); a new customer's key follows the previous largest, in order of first
    valid order then id, as the full build numbers them (the batch's valid orders all come later)."""
    return f"""
with identified_orders as (
    select batch_seq, file_row_number, order_id, customer_id, order_ts, {ORDER_MONTH} as order_month
    from new_batch_orders
    where customer_id is not null and status = 'valid'
),

-- the batch's customers the store knows (a semi join: the rows of every other customer are never held)
known_customers as (
    select customer_id, customer_key, valid_orders, last_order_ts, cohort_month from previous_customers
    where customer_id in (select customer_id from identified_orders)
),

new_customer_keys as (
    select
        customer_id,
        (select coalesce(max(customer_key), 0) from previous_customers)
            + row_number() over (order by first_valid_ts, customer_id) as customer_key
    from (
        select customer_id, min(order_ts) as first_valid_ts
        from identified_orders
        where customer_id not in (select customer_id from known_customers)
        group by customer_id
    ) as first_orders
),

sequenced as (
    select
        batch_seq,
        file_row_number,
        coalesce(previous.customer_key, new_customer_keys.customer_key) as customer_key,
        coalesce(previous.valid_orders, 0) + row_number() over customer_history as customer_order_seq,
        {dialect.day_diff("order_ts", "coalesce(lag(order_ts) over customer_history, previous.last_order_ts)")}
            as days_since_previous,
        coalesce(previous.cohort_month, first_value(order_month) over customer_history) as cohort_month
    from identified_orders
    left join known_customers as previous using (customer_id)
    left join new_customer_keys using (customer_id)
    window customer_history as (partition by identified_orders.customer_id order by order_ts, order_id)
)

{_orders_final("new_batch_orders")}
"""


# the new batch's lines (its order ids are all new, so every line's order is in the batch)
NEW_ORDER_LINES_SQL = f"""
select {dialect.columns_except(("batch_seq", "batch_id", "file_row_number"), "new_batch_order_lines")}
from new_batch_order_lines
where order_id in (select order_id from new_batch_orders)
order by order_id, source_row
"""
