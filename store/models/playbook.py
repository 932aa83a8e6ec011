"""The Playbook's per-customer categories: one row per identified customer with a valid order, built
at upload so the cross-category figures and lists read it instead of every order (metrics.playbook)."""

from store.models import dialect


# CTE `valid`: the valid orders of identified customers
VALID = """
valid as (
    select customer_key, customer_id, order_id, order_ts, order_date, amount, category, channel, member_tier
    from orders
    where is_valid and customer_key is not null
)"""

REFERENCE = """
reference as (
    select max(order_date) as reference_date from orders where is_valid and customer_key is not null
)"""

# the same date read from the customers table (one row per customer, not every order)
CUSTOMERS_REFERENCE = """
reference as (
    select max(last_order_date) as reference_date from customers
)"""


def has_lines(con, table: str = "order_lines") -> bool:
    """Whether the store has order lines (`table`: another relation of them, such as an append's)."""
    return dialect.has_table(con, table) and con.execute(f"select count(*) from {table}").fetchone()[0] > 0


def category_source(con, only: str | None = None, relation: str = "orders", order_ids: bool = True) -> str:
    """Each valid order's categories: the order's own category and, when the store has order lines,
    the categories of its lines (one row per order and category). Read from `orders` itself, not the
    `valid` CTE: a CTE read twice is materialised with every column. `only`: SQL of the customer
    keys to read (default: every customer). `relation`: rows of the orders table to read.
    `order_ids=False`: without the order id unless the lines need it (customer_categories reads none;
    an append's touched orders leave it out when the store has no lines), and without customer_order_seq."""
    keys = f" and customer_key in ({only})" if only else ""
    lines = has_lines(con)
    columns = "customer_key, order_id, order_ts, order_date" if lines or order_ids else "customer_key, order_ts, order_date"
    if order_ids:  # each customer's valid orders numbered by time, then order id: to order them by a number
        columns += ", customer_order_seq"
    own = (f"select {columns}, category from {relation} as orders "
           f"where is_valid and customer_key is not null and category is not null{keys}")
    if not lines:
        return f"order_categories as ({own})"
    sequence = ", orders.customer_order_seq" if order_ids else ""
    return f"""
order_categories as (
    select distinct {columns}, category
    from (
        {own}
        union all
        select orders.customer_key, orders.order_id, orders.order_ts, orders.order_date{sequence}, order_lines.category
        from order_lines join {relation} as orders using (order_id)
        where orders.is_valid and orders.customer_key is not null and order_lines.category is not null{keys}
    ) as both_sources
)"""


def customer_categories_sql(con, relation: str = "orders") -> str:
    """One row per identified customer with a valid order: orders, revenue, last order date, number of
    categories bought, the first category and the second (the first category bought on a later order
    than the first order). Nothing in a row moves with the data's last date, so an append writes only
    the rows of the customers it touches (registry: `replaced_by`). `relation`: rows of the orders table
    to read (default: the orders table; else only the customers whose orders it holds)."""
    keys = f"where customer_key in (select customer_key from {relation})" if relation != "orders" else ""
    return f"""
with {category_source(con, relation=relation, order_ids=False)},

category_firsts as (
    select customer_key, category, min(order_ts) as first_ts
    from order_categories
    group by customer_key, category
),

numbered as (
    select
        customer_key,
        category,
        first_ts,
        row_number() over (partition by customer_key order by first_ts, category) as position,
        min(first_ts) over (partition by customer_key) as start_ts
    from category_firsts
),

paths as (
    select
        customer_key,
        count(*) as categories,
        min(case when position = 1 then category end) as first_category
    from numbered
    group by customer_key
),

second_categories as (
    select customer_key, category as second_category
    from (
        select customer_key, category,
            row_number() over (partition by customer_key order by first_ts, category) as later_position
        from numbered
        where first_ts > start_ts
    ) as later
    where later_position = 1
),

-- the customers base model holds these counts of the same valid orders (not counted again)
customer_orders as (
    select customer_key, customer_id, valid_orders as orders, revenue, last_order_date
    from customers
    {keys}
)

select
    customer_orders.*,
    paths.categories,
    paths.first_category,
    second_categories.second_category
from customer_orders
left join paths using (customer_key)
left join second_categories using (customer_key)
"""

