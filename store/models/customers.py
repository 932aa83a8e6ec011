"""One row per customer, defined once (`customer_rows_sql`): the `customers` base model (every valid
order); the lists built on the customers' facts: the due-for-repurchase list and RFM segments (within
filters the facts come from `store.models.filtered_customers`).

Facts: one row per customer with a valid order inside the filters, counted to the reference date
(the filter's end, else the data's last day); usual_interval_days = median days between the
customer's consecutive valid orders (null with one order). Due for repurchase: usual interval <
days since last order <= min(LAPSE_MULTIPLE x usual interval, LAPSE_DAYS).

The facts of the unfiltered store are the `customers` base model to its last day
(`FACTS_FROM_CUSTOMERS`), read as they are: a stored copy cost a table rewrite at every upload
(0.2 s of an append at 5M orders). Summaries precomputed at each change for the unfiltered store:
`due_list` (in display order) and `rfm_segment_totals`.
"""

from store.models import dialect
from store.models.playbook import has_lines

LAPSE_MULTIPLE = 3
LAPSE_DAYS = 365
DUE_DISPLAY_ORDER = "revenue desc, days_overdue desc, customer_id"  # most valuable first
DUE_CONDITION = f"""orders >= 2
                and days_since_last_order > usual_interval_days
                and days_since_last_order <= least({LAPSE_MULTIPLE} * usual_interval_days, {LAPSE_DAYS})"""


def customer_rows_sql(relation: str = "orders", medians: bool = True) -> str:
    """One row per identified customer with a valid order in `relation` (the orders table, or an append's
    new orders): cohort month, first and last order, orders, revenue, latest member tier, first and last
    channel and region, and (`medians`) the median of the stored days since the previous valid order
    (null with one order, and for every customer without `medians`). The `customers` base model."""
    customer_orders = f"""(
                select * from {relation} as orders where is_valid and customer_key is not null
            ) as customer_orders"""
    if medians:
        join = f"left join ({_medians_sql(_customer_gaps(relation))}) as medians using (customer_key)"
        usual_interval = "medians.usual_interval_days"
    else:
        join, usual_interval = "", "cast(null as double) as usual_interval_days"
    return f"""
            select customer_rows.*, {usual_interval}
            from (
                select
                    customer_key,
                    any_value(customer_id) as customer_id,
                    any_value(cohort_month) as cohort_month,  -- the same on every order of the customer
                    min(order_ts) as first_order_ts,
                    max(order_ts) as last_order_ts,
                    count(*) as valid_orders,
                    sum(amount) as revenue,
                    -- first and last by the order number (time, then order id: one answer for orders of the same second)
                    arg_max(member_tier, customer_order_seq) as member_tier,
                    arg_min(channel, customer_order_seq) as first_channel,
                    arg_min(region, customer_order_seq) as first_region,
                    arg_max(channel, customer_order_seq) as last_channel,
                    arg_max(region, customer_order_seq) as last_region,
                    max(order_date) as last_order_date
                from {customer_orders}
                group by customer_key
            ) as customer_rows
            {join}
    """


def _customer_gaps(relation: str) -> str:
    """The days between each customer's consecutive valid orders, in a narrow query of its own: a window
    carrying every column of the orders sorted them all (twice the time at 100M orders)."""
    return f"""(
                select customer_key, days_since_previous as days_between
                from {relation} as orders
                where is_valid and customer_key is not null
            ) as customer_gaps"""


def _medians_sql(customer_gaps: str) -> str:
    """Each customer's median `days_between` (quantile_cont's: the middle gap, or the mean of the middle
    two), from a sort of their gaps: a median inside the customers' hash aggregate keeps every gap of
    every customer in memory (at 100M orders it spilled past 50 GB; bench/README.md)."""
    return f"""
                select customer_key, avg(days_between) as usual_interval_days
                from (
                    select
                        customer_key,
                        days_between,
                        row_number() over (partition by customer_key order by days_between) as gap_rank,
                        count(*) over (partition by customer_key) as gaps
                    from {customer_gaps}
                    where days_between is not null
                ) as ranked_gaps
                where 2 * gap_rank in (gaps, gaps + 1, gaps + 2)  -- the middle one (odd count) or two
                group by customer_key
    """


CUSTOMERS_SQL = f"""
select * from ({customer_rows_sql()}) as customer_rows
order by customer_key
"""


def _facts(customer_rows: str) -> str:
    """The facts columns from one-row-per-customer rows and the `reference` date."""
    return f"""
            select
                customer_key,
                customer_id,
                member_tier,
                last_channel,
                last_region as region,
                valid_orders as orders,
                revenue,
                last_order_date,
                usual_interval_days,
                {dialect.day_diff("reference.reference_date", "last_order_date")} as days_since_last_order
            from {customer_rows}, reference
    """


# the facts CTE of every customer of the store: the `customers` base model to the last order's day
FACTS_FROM_CUSTOMERS = f"""
        reference as (
            select max(last_order_date) as reference_date from customers
        ),

        facts as ({_facts("customers")})
"""


def due_columns(listed: str, names: str | None = None) -> str:
    """The due list's columns, in order, from the relation `listed` (facts' columns), member tier, last
    channel and region from `names` (default: `listed` too)."""
    names = names or listed
    return f"""
                {listed}.customer_id,
                {names}.member_tier,
                {names}.last_channel,
                {names}.region,
                {listed}.last_order_date,
                {listed}.orders,
                {listed}.usual_interval_days,
                {listed}.days_since_last_order,
                {listed}.days_since_last_order - {listed}.usual_interval_days as days_overdue,
                {listed}.revenue,
                {listed}.revenue / {listed}.orders as aov"""


def due_list_sql(facts: str) -> str:
    """SQL of the due customers (unordered), given CTEs ending in `facts`."""
    return f"""
        with {facts},

        final as (
            select {due_columns("facts")}
            from facts
            where {DUE_CONDITION}
        )

        select * from final
    """


def most_valuable_sql(due: str) -> str:
    """The first $row_limit due customers of the relation `due` in display order, each with `due_customers`:
    how many are due in all."""
    return f"select *, count(*) over () as due_customers from {due} order by {DUE_DISPLAY_ORDER} limit $row_limit"


def stored_due_list_sql() -> str:
    """due_list: the unfiltered due list in display order, from the customers base model."""
    return f"select * from ({due_list_sql(FACTS_FROM_CUSTOMERS)}) order by {DUE_DISPLAY_ORDER}"


# RFM segment by R score and F score (1-5), the common ten-segment map
RFM_SEGMENT_SQL = """
    case
        when r_score >= 5 and f_score >= 4 then 'champions'
        when r_score >= 3 and f_score >= 4 then 'loyal'
        when r_score >= 4 and f_score between 2 and 3 then 'potential_loyalist'
        when r_score = 5 and f_score = 1 then 'new'
        when r_score = 4 and f_score = 1 then 'promising'
        when r_score = 3 and f_score = 3 then 'need_attention'
        when r_score = 3 and f_score <= 2 then 'about_to_sleep'
        when r_score <= 2 and f_score = 5 then 'cant_lose'
        when r_score <= 2 and f_score between 3 and 4 then 'at_risk'
        else 'hibernating'
    end
"""


def _quintile(name: str, value: str, descending: bool) -> tuple[str, str]:
    """(CTEs, score): ntile(5) over (order by `value` [desc], customer_id) of `facts`, 1-5, as a score
    read from the CTEs' last, `{name}_bounds` (cross-joined to the rows scored): one row with the first
    (`value`, customer_id) of quintiles 2-5 in that order, `v2`, `id2` ... `v5`, `id5` (null when a
    quintile is empty, fewer than five customers), where ntile(5) starts them (the first n % 5
    quintiles hold one customer more). Found from the customers per value and the
    customer ids of four tie groups: ntile sorted every customer (14.7 s for both scores of 17M
    customers, 2.2 s this way). `value` is never null (amounts are required, days from dates)."""
    order, beyond = ("desc", "<") if descending else ("asc", ">")
    quintiles = " union all ".join(f"select {k} as k" for k in range(2, 6))
    pivot = ", ".join(f"max(v) filter (where k = {k}) as v{k}, max(customer_id) filter (where k = {k}) as id{k}"
                      for k in range(2, 6))
    ctes = f"""
        {name}_starts as (
            select k, case when k - 1 <= extra then (k - 1) * (size + 1) else extra + (k - 1) * size end as position
            from (
                select cast(floor(count(*) / 5) as bigint) as size, count(*) % 5 as extra from facts
            ) as sizes
            cross join ({quintiles}) as quintiles
        ),

        {name}_counts as (
            select {value} as v, count(*) as customers
            from facts
            group by {value}
        ),

        {name}_before as (
            select v, customers,
                sum(customers) over (order by v {order} rows between unbounded preceding and current row) - customers as before
            from {name}_counts
        ),

        {name}_cut_values as (
            select k, v, position - before as tie_rank
            from {name}_starts
            join {name}_before on position >= before and position < before + customers
        ),

        {name}_ties as (
            select facts.{value} as v, customer_id,
                row_number() over (partition by facts.{value} order by customer_id) - 1 as tie_rank
            from facts
            where facts.{value} in (select v from {name}_cut_values)
        ),

        {name}_bounds as (
            select {pivot}
            from {name}_cut_values
            join {name}_ties using (v, tie_rank)
        )"""
    score = "1 + " + " + ".join(
        f"case when {value} {beyond} {name}_bounds.v{k} or ({value} = {name}_bounds.v{k} "
        f"and customer_id >= {name}_bounds.id{k}) then 1 else 0 end" for k in range(2, 6))
    return ctes, score


def rfm_scored_ctes(facts: str) -> str:
    """CTEs ending in `segmented`: each customer's R, F, M values and scores and segment, given CTEs ending in `facts`.
    R and M are quintiles (ntile(5)); ties (same recency, same revenue) go by customer id: stable whatever the keys."""
    recency_bounds, r_score = _quintile("recency", "days_since_last_order", descending=True)
    monetary_bounds, m_score = _quintile("monetary", "revenue", descending=False)
    return f"""
        {facts},
        {recency_bounds},
        {monetary_bounds},

        scored as (
            select
                customer_key,
                customer_id,
                member_tier,
                last_order_date,
                days_since_last_order as recency_days,
                orders as frequency,
                revenue as monetary,
                {r_score} as r_score,
                case when orders >= 6 then 5 when orders >= 4 then 4 else orders end as f_score,
                {m_score} as m_score
            from facts
            cross join recency_bounds
            cross join monetary_bounds
        ),

        segmented as (
            select *, {RFM_SEGMENT_SQL} as segment
            from scored
        )
    """


def _segment_totals(segmented: str) -> str:
    """The RFM segment totals, given CTEs ending in `segmented` (segment, recency_days, frequency, monetary)."""
    return f"""
        with {segmented},

        final as (
            select
                segment,
                count(*) as customers,
                count(*) / sum(count(*)) over () as customer_share,
                sum(monetary) as revenue,
                sum(monetary) / sum(sum(monetary)) over () as revenue_share,
                avg(recency_days) as avg_recency_days,
                avg(frequency) as avg_frequency,
                avg(monetary) as avg_monetary
            from segmented
            group by segment
        )

        select * from final
    """


def rfm_segments_sql(facts: str = FACTS_FROM_CUSTOMERS) -> str:
    """SQL of the RFM segment totals (unordered), given CTEs ending in `facts` (default: every customer)."""
    return _segment_totals(rfm_scored_ctes(facts))


def stored_rfm_segments_sql() -> str:
    """rfm_segment_totals: the unfiltered totals, each customer's segment read from `rfm_customer_segments`
    (scored there from the same facts with the same SQL, `rfm_scored_ctes`): the scores are computed once."""
    return _segment_totals(f"""
        {FACTS_FROM_CUSTOMERS},

        segmented as (
            select
                rfm_customer_segments.segment,
                facts.days_since_last_order as recency_days,
                facts.orders as frequency,
                facts.revenue as monetary
            from facts
            left join rfm_customer_segments using (customer_key)
        )
    """)


# the customers with a valid order in the appended rows (`new_orders`, see store.derived)
TOUCHED_KEYS = "select distinct customer_key from new_orders where customer_key is not null"

# every valid order of those customers, earlier and new (the columns the late append builders read): made
# once, by the first of customer_categories' and clv_customer_rows' appends, instead of each reading every order
# again (at 5M orders, 440k rows; three scans of every order were 0.8 s CPU). The customers' own append reads
# three narrow columns instead, before the version is published.
TOUCHED_ORDERS = "touched_orders"
def touched_orders_sql(with_order_ids: bool) -> str:
    """The touched customers' valid orders, in the columns the append builders read; the order ids (the
    widest column) only when the store has order lines to join them to (their categories)."""
    return f"""
select customer_key, {"order_id, " if with_order_ids else ""}order_ts, order_date, amount, category,
    days_since_previous, is_valid
from orders
where is_valid and customer_key in ({TOUCHED_KEYS})
"""


def touched_orders(con) -> str:
    """The name of the temporary table of the touched customers' valid orders (`touched_orders_sql`),
    made on `con` the first time it is asked for."""
    if not dialect.has_table(con, TOUCHED_ORDERS):
        # the store has lines when the previous version or the batch has
        lines = has_lines(con, "previous_order_lines") or has_lines(con, "new_batch_order_lines")
        con.execute(f"create temp table {TOUCHED_ORDERS} as {touched_orders_sql(lines)}")
    return TOUCHED_ORDERS


def customers_append_sql() -> str:
    """The rows of the customers with a new valid order after an append (the table's other rows stay as
    they were: Model.replaced_by): each one's previous row combined with their new orders, which all come
    later (counts and revenue added, the latest values taken from the new orders when set: arg_min/arg_max
    skip nulls). Only the usual interval (a median) reads their earlier orders again, three narrow
    columns. Keys never move, so the other customers' rows are the previous ones."""
    new_rows = customer_rows_sql("new_orders", medians=False)  # the interval: `intervals`, below
    return f"""
        with new_rows as ({new_rows}),

        intervals as (
            select customer_key, {dialect.quantile("days_since_previous", 0.5)} as usual_interval_days
            from orders
            where is_valid and customer_key in ({TOUCHED_KEYS})
            group by customer_key
        )

        select
            new_rows.customer_key,
            new_rows.customer_id,
            coalesce(previous.cohort_month, new_rows.cohort_month) as cohort_month,
            coalesce(previous.first_order_ts, new_rows.first_order_ts) as first_order_ts,
            new_rows.last_order_ts,
            coalesce(previous.valid_orders, 0) + new_rows.valid_orders as valid_orders,
            case when previous.revenue is null then new_rows.revenue
                 when new_rows.revenue is null then previous.revenue
                 else previous.revenue + new_rows.revenue end as revenue,
            coalesce(new_rows.member_tier, previous.member_tier) as member_tier,
            coalesce(previous.first_channel, new_rows.first_channel) as first_channel,
            coalesce(previous.first_region, new_rows.first_region) as first_region,
            coalesce(new_rows.last_channel, previous.last_channel) as last_channel,
            coalesce(new_rows.last_region, previous.last_region) as last_region,
            new_rows.last_order_date,
            intervals.usual_interval_days
        from new_rows
        left join previous_customers as previous using (customer_key)
        left join intervals using (customer_key)
    """
