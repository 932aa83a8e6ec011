"""The SQL of strategy tests: arms, each customer's orders and revenue after assignment, per-arm
totals, the time views and the planner. Statistics live in metrics.experiment_stats; the reports
that read these in metrics.experiments.

The rules are written once, as SQL fragments, and used both by the queries and by the tables the
store precomputes at every change (see `docs/store.md`):

- `experiment_customers`: one row per experiment and customer (the assignments grouped), with
  orders and revenue in the 30-, 60- and 90-day windows, in the 90 days before assignment, and the
  first order after it;
- `experiment_orders`: each experiment's customers' valid orders from 180 days before to 90 days
  after assignment;
- `experiment_days`, `experiment_buckets`, `experiment_survival`: the time views' sums per arm and
  day or week;
- `planner_base`: the planner's sums for the same windows.

A request those tables do not cover (a longer window or pre-period, another lookback) runs the
same SQL on the assignments and `assigned_orders` instead.
"""

from store.models import dialect

PRECOMPUTED_WINDOWS = (30, 60, 90)  # experiment_customers, experiment_days, experiment_buckets, planner_base
PRECOMPUTED_PRE_DAYS = 90  # experiment_customers: the balance check's and the page's CUPED period
COVERED_PRE_DAYS, COVERED_WINDOW_DAYS = 180, 90  # experiment_orders
PLANNER_LOOKBACK_DAYS = 365

WINDOW = "cast($window_days as integer)"
PRE = "cast($pre_days as integer)"


# ---- the rules ------------------------------------------------------------------------------


def arms_sql(one_experiment: bool, customers: str | None = None) -> str:
    """One row per experiment and customer: variant, number of variants (more than one: excluded
    from analysis), first assignment, cost, whether (and from which order column) the arm was
    derived from orders, and the strategy tag. `customers`: a relation of the customer ids to keep."""
    conditions = (["experiment = $experiment"] if one_experiment else []) + (
        [f"customer_id in (select customer_id from {customers})"] if customers else [])
    where = f"where {' and '.join(conditions)}" if conditions else ""
    return f"""
        select
            experiment,
            customer_id,
            min(variant) as variant,
            count(distinct variant) as variants,
            min(assigned_at) as assigned_at,
            cast(coalesce(max(cost_per_customer), 0) as double) as cost,
            bool_or(derived_from is not null) as observational,
            min(derived_from) as derived_from,
            min(strategy) as strategy
        from assignments
        {where}
        group by experiment, customer_id
    """


# An order counts after assignment from the assignment time on; for an observational arm the order
# that put the customer in the arm (same timestamp) does not count.
AFTER_ASSIGNMENT = "(order_ts >= assigned_at and not (observational and order_ts = assigned_at))"


def in_window(days: str) -> str:
    """The order is in the `days`-day window after assignment."""
    return f"({AFTER_ASSIGNMENT} and order_ts < {dialect.add_days('assigned_at', days)})"


def in_pre_period(days: str) -> str:
    """The order is in the `days` days before assignment."""
    return f"(order_ts < assigned_at and order_ts >= {dialect.subtract_days('assigned_at', days)})"


def window_sums(days: str, suffix: str = "") -> str:
    return (f"count(*) filter (where {in_window(days)}) as orders{suffix}, "
            f"sum(amount) filter (where {in_window(days)}) as revenue{suffix}")


def pre_period_sums(days: str, suffix: str = "") -> str:
    return (f"count(*) filter (where {in_pre_period(days)}) as pre_orders{suffix}, "
            f"sum(amount) filter (where {in_pre_period(days)}) as pre_revenue{suffix}")


FIRST_ORDER_AFTER = f"min(order_ts) filter (where {AFTER_ASSIGNMENT})"


def join_window_orders(customers: str, orders: str) -> str:
    """Join each row of `customers` (experiment, customer_id, assigned_at, observational) to its
    valid orders in the $window_days window after assignment, as `valid_orders`."""
    return f"""join ({orders}) as valid_orders
        on valid_orders.experiment = {customers}.experiment
        and valid_orders.customer_id = {customers}.customer_id
        and {in_window(WINDOW)}"""


def matured_cte(arms: str) -> str:
    """CTE `matured`: the single-arm customers whose whole $window_days window has elapsed by the data's end."""
    return f"""matured as (
    select arms.*
    from ({arms}) as arms, data_end
    where variants = 1 and {dialect.add_days('assigned_at', WINDOW)} <= data_end
)"""

# the data's end: the last order's time
DATA_END = """
data_end as (
    select max(order_ts) as data_end from orders
)"""
# the same, read from order_facts where the tables built on upload read it (a scan of every order took 1-2 s
# at 100M orders); a request counts from the orders, as summaries may be missing
STORED_DATA_END = """
data_end as (
    select last_order as data_end from order_facts
)"""


# ---- tables precomputed at every store change -----------------------------------------------


def experiment_customers_sql(changed: str | None = None) -> str:
    """experiment_customers: per experiment and customer, the arm and its outcomes (`changed`: CTEs ending
    in `changed_customers`, whose customers alone are counted)."""
    windows = ", ".join(window_sums(str(w), f"_{w}") for w in PRECOMPUTED_WINDOWS)
    coalesced = ", ".join(f"coalesce(orders_{w}, 0) as orders_{w}, coalesce(revenue_{w}, 0) as revenue_{w}"
                          for w in PRECOMPUTED_WINDOWS)
    pre = PRECOMPUTED_PRE_DAYS
    head = f"with {changed},\n\narms as ({arms_sql(False, 'changed_customers')})" if changed else \
        f"with arms as ({arms_sql(one_experiment=False)})"
    return f"""
{head},

outcomes as (
    select
        arms.experiment,
        arms.customer_id,
        {windows},
        {pre_period_sums(str(pre), f"_{pre}")},
        {FIRST_ORDER_AFTER} as first_order_after
    from arms
    join assigned_orders
        on assigned_orders.customer_id = arms.customer_id
        and assigned_orders.order_ts >= {dialect.subtract_days('arms.assigned_at', pre)}
    group by arms.experiment, arms.customer_id
),

final as (
    select
        arms.*,
        {coalesced},
        coalesce(pre_orders_{pre}, 0) as pre_orders_{pre},
        coalesce(pre_revenue_{pre}, 0) as pre_revenue_{pre},
        outcomes.first_order_after
    from arms
    left join outcomes using (experiment, customer_id)
)

select * from final order by experiment, customer_id
"""


# ---- after an append of later orders (store.derived): only what the new orders change ------------------

# An assigned customer's row changes when a new order falls before the end of the longest window (a window's
# or the pre-period's sums) or is their first order after assignment; their rows of every experiment are
# counted again (the table's rows are replaced by customer_id)
CHANGED_ARM_CUSTOMERS = f"""
changed_customers as (
    select distinct new_assigned_orders.customer_id
    from new_assigned_orders
    join previous_experiment_customers as previous
        on previous.customer_id = new_assigned_orders.customer_id
    where previous.first_order_after is null
        or new_assigned_orders.order_ts < {dialect.add_days('previous.assigned_at', str(max(PRECOMPUTED_WINDOWS)))}
)"""


def experiment_customers_append(con) -> tuple[str, dict]:
    """experiment_customers after an append: the rows of the customers whose outcomes the new orders change."""
    return experiment_customers_sql(CHANGED_ARM_CUSTOMERS), {}


def experiment_days_append(con) -> tuple[str, dict]:
    """experiment_days after an append: the previous rows unless a new order falls in a window."""
    return (experiment_days_sql() if _new_orders_in_windows(con) else "select * from previous_experiment_days"), {}


def experiment_buckets_append(con) -> tuple[str, dict]:
    """experiment_buckets after an append: the previous rows unless a new order falls in a window or a
    customer's window ends between the previous data end and the new one (they count from then on)."""
    matures = " or ".join(
        f"({dialect.add_days('arms.assigned_at', str(w))} > previous.last_order "
        f"and {dialect.add_days('arms.assigned_at', str(w))} <= now.last_order)" for w in PRECOMPUTED_WINDOWS)
    matured_since = con.execute(f"""
        select exists (
            select 1
            from experiment_customers as arms, previous_order_facts as previous, order_facts as now
            where arms.variants = 1 and ({matures})
        )""").fetchone()[0]
    changed = matured_since or _new_orders_in_windows(con)
    return (experiment_buckets_sql() if changed else "select * from previous_experiment_buckets"), {}


def _new_orders_in_windows(con) -> bool:
    """Whether an appended order falls in a single-arm customer's longest window (experiment_orders' new rows)."""
    if not dialect.has_table(con, "new_experiment_orders"):
        return True
    return con.execute(f"""
        select exists (
            select 1
            from new_experiment_orders
            join experiment_customers using (experiment, customer_id)
            where {in_window(str(max(PRECOMPUTED_WINDOWS)))}
        )""").fetchone()[0]


PRECOMPUTED_BUCKET_DAYS = 7  # experiment_buckets: the novelty view's weeks
# the tables below read the arms from experiment_customers, built first
ALL_ARMS = "select * from experiment_customers"
ALL_EXPERIMENT_ORDERS = "select experiment, customer_id, order_ts, amount from experiment_orders"


def experiment_days_sql() -> str:
    """experiment_days: the lift-to-date sums per experiment, arm and day, for each precomputed window."""
    return for_precomputed_windows(to_date_sql(ALL_ARMS, ALL_EXPERIMENT_ORDERS))


def experiment_survival_sql() -> str:
    """experiment_survival: the time-to-repurchase counts per experiment, arm and day (any window)."""
    return survival_sql(ALL_ARMS, None, STORED_DATA_END)


def experiment_buckets_sql() -> str:
    """experiment_buckets: the novelty sums per experiment, arm and week, for each precomputed window."""
    return for_precomputed_windows(novelty_sql(ALL_ARMS, ALL_EXPERIMENT_ORDERS, STORED_DATA_END),
                                   bucket_days=PRECOMPUTED_BUCKET_DAYS)


def experiment_orders_sql(orders: str = "assigned_orders") -> str:
    """experiment_orders: each single-arm customer's valid orders among `orders` (after an append, only the new
    ones) from COVERED_PRE_DAYS before to COVERED_WINDOW_DAYS after assignment."""
    return f"""
with arms as ({ALL_ARMS}),

final as (
    select arms.experiment, valid_orders.customer_id, valid_orders.order_ts, valid_orders.amount
    from arms
    join {orders} as valid_orders
        on valid_orders.customer_id = arms.customer_id
        and valid_orders.order_ts >= {dialect.subtract_days('arms.assigned_at', COVERED_PRE_DAYS)}
        and valid_orders.order_ts < {dialect.add_days('arms.assigned_at', COVERED_WINDOW_DAYS)}
    where arms.variants = 1
)

select * from final order by experiment, customer_id, order_ts
"""


# ---- sources ----------------------------------------------------------------------------------


def orders_cover(request) -> bool:
    """Whether experiment_orders holds every order a request reads (its window and pre-period)."""
    return (request.window_days is not None and request.window_days <= COVERED_WINDOW_DAYS
            and (request.pre_days or 0) <= COVERED_PRE_DAYS)


def stored_outcome_window(window_days: int, pre_days: int | None) -> int | None:
    """The window whose outcome columns experiment_customers holds for this request (pre_days None:
    no pre-period read), else None."""
    return window_days if window_days in PRECOMPUTED_WINDOWS and pre_days in (None, PRECOMPUTED_PRE_DAYS) else None



def arms_source(precomputed: bool, one_experiment: bool = True) -> str:
    """One experiment's arms ($experiment), or every experiment's."""
    if precomputed:
        return "select * from experiment_customers" + (" where experiment = $experiment" if one_experiment else "")
    return arms_sql(one_experiment)


def orders_source(precomputed: bool) -> str:
    """The valid orders a query joins to one experiment's customers (with the experiment's name)."""
    if precomputed:
        return "select experiment, customer_id, order_ts, amount from experiment_orders where experiment = $experiment"
    return "select cast($experiment as varchar) as experiment, customer_id, order_ts, amount from assigned_orders"


# ---- per customer -----------------------------------------------------------------------------


def per_customer_ctes(arms: str, orders: str | None, stored_window: int | None = None) -> str:
    """CTEs `matured` (single-arm customers whose whole $window_days window has elapsed) and
    `per_customer` (their orders and revenue in the window and in the $pre_days before assignment),
    then `customer_metrics` with the metrics per customer. With `stored_window`, the outcomes are
    read from experiment_customers' columns for that window (and the 90-day pre-period)."""
    head = f"""
with {DATA_END},

{matured_cte(arms)},
"""
    if stored_window is not None:
        w, pre = int(stored_window), PRECOMPUTED_PRE_DAYS
        outcomes = f"""
per_customer as (
    select
        customer_id,
        variant,
        cast({dialect.add_days('assigned_at', WINDOW)} as date) as matured_on,
        cost,
        orders_{w} as orders,
        revenue_{w} as revenue,
        pre_orders_{pre} as pre_orders,
        pre_revenue_{pre} as pre_revenue
    from matured
),
"""
    else:
        outcomes = f"""
windowed as (
    select
        matured.customer_id,
        {window_sums(WINDOW)},
        {pre_period_sums(PRE)}
    from matured
    join ({orders}) as valid_orders
        on valid_orders.customer_id = matured.customer_id
        and valid_orders.order_ts >= {dialect.subtract_days('matured.assigned_at', PRE)}
        and valid_orders.order_ts < {dialect.add_days('matured.assigned_at', WINDOW)}
    group by matured.customer_id
),

per_customer as (
    select
        matured.customer_id,
        matured.variant,
        cast({dialect.add_days('matured.assigned_at', WINDOW)} as date) as matured_on,
        matured.cost,
        coalesce(windowed.orders, 0) as orders,
        coalesce(windowed.revenue, 0) as revenue,
        coalesce(windowed.pre_orders, 0) as pre_orders,
        coalesce(windowed.pre_revenue, 0) as pre_revenue
    from matured
    left join windowed using (customer_id)
),
"""
    return head + outcomes + CUSTOMER_METRICS_CTES


# Revenue optionally capped at a pooled percentile ($cap); margin after the strategy's cost.
CUSTOMER_METRICS_CTES = f"""
caps as (
    select
        case when $cap is null then null else {dialect.quantile('revenue', 'coalesce($cap, 0.5)')} end as revenue_cap,
        case when $cap is null then null else {dialect.quantile('pre_revenue', 'coalesce($cap, 0.5)')} end as pre_revenue_cap
    from per_customer
),

customer_metrics as (
    select
        per_customer.*,
        cast(orders > 0 as integer) as repurchased,
        cast(pre_orders > 0 as integer) as pre_repurchased,
        least(revenue, coalesce(revenue_cap, revenue)) as revenue_capped,
        least(pre_revenue, coalesce(pre_revenue_cap, pre_revenue)) as pre_revenue_capped,
        least(revenue, coalesce(revenue_cap, revenue)) * $margin - cost as margin,
        least(pre_revenue, coalesce(pre_revenue_cap, pre_revenue)) * $margin as pre_margin,
        caps.revenue_cap
    from per_customer, caps
)"""


# metric -> (y, x, d) in customer_metrics: the metric per customer, its pre-period covariate
# (CUPED; None: none) and a ratio metric's denominator (None: not a ratio)
METRIC_COLUMNS = {
    "repurchased": ("repurchased", "pre_repurchased", None),
    "orders": ("orders", "pre_orders", None),
    "revenue": ("revenue_capped", "pre_revenue_capped", None),
    "aov": ("revenue", None, "orders"),
    "margin": ("margin", "pre_margin", None),
}
SUM_KEYS = ("sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy", "sum_d", "sum_d2", "sum_yd")


def totals_sql(by_date: bool) -> str:
    """From customer_metrics: one row per arm (and matured date) and metric with the totals the
    statistics need: n and the sums of y, y², x, x², xy, d, d², yd. One pass over the customers
    computes every metric's sums, then one row per metric is taken from them."""
    date_column = "matured_on" if by_date else "null::date"
    sums, rows = [], []
    for index, (metric, (y, x, d)) in enumerate(METRIC_COLUMNS.items()):
        y, x, d = (f"cast({c} as double)" if c else None for c in (y, x, d))
        terms = dict(zip(SUM_KEYS, (y, f"{y} * {y}", x, x and f"{x} * {x}", x and f"{x} * {y}",
                                    d, d and f"{d} * {d}", d and f"{y} * {d}")))
        sums += [f"sum({term}) as m{index}_{key}" for key, term in terms.items() if term]
        picked = ", ".join(f"m{index}_{key} as {key}" if term else f"0.0 as {key}" for key, term in terms.items())
        rows.append(f"select variant, matured_on, '{metric}' as metric, n, {picked}, cap.revenue_cap from sums, cap")
    sums_sql = ",\n        ".join(sums)
    rows_sql = "\n    union all\n    ".join(rows)
    return f""",

cap as (
    select max(revenue_cap) as revenue_cap from customer_metrics
),

sums as (
    select
        variant,
        {date_column} as matured_on,
        count(*) as n,
        {sums_sql}
    from customer_metrics
    group by variant{", matured_on" if by_date else ""}
),

final as (
    {rows_sql}
)

select * from final order by variant, matured_on, metric
"""


def novelty_sql(arms: str, orders: str, data_end: str = DATA_END) -> str:
    """Per experiment and arm: orders per matured customer in day buckets after assignment ($bucket_days wide)."""
    return f"""
with {data_end},

{matured_cte(arms)},

bucketed as (
    select
        matured.experiment,
        matured.variant,
        cast(floor(
            ({dialect.epoch_seconds('valid_orders.order_ts')} - {dialect.epoch_seconds('matured.assigned_at')}) / 86400 / $bucket_days
        ) as integer) as bucket,
        matured.customer_id,
        count(*) as orders
    from matured
    {join_window_orders("matured", orders)}
    group by 1, 2, 3, 4  -- experiment, variant, bucket, customer
),

final as (
    select
        experiment,
        variant,
        bucket,
        sum(orders) as sum_y,
        sum(orders * orders) as sum_y2
    from bucketed
    group by experiment, variant, bucket
)

select * from final order by experiment, variant, bucket
"""


# ---- one experiment's arms, survival and lift to date -----------------------------------------


def info_sql(arms: str) -> str:
    """Per variant: customers assigned (single arm), matured for $window_days, in several arms, first and last assignment."""
    return f"""
with {DATA_END},

arms as ({arms}),

final as (
    select
        variant,
        count(*) filter (where variants = 1) as assigned,
        count(*) filter (where variants = 1 and {dialect.add_days('assigned_at', WINDOW)} <= data_end) as matured,
        count(*) filter (where variants > 1) as multi_arm,
        min(assigned_at) as first_assigned,
        max(assigned_at) as last_assigned,
        any_value(data_end) as data_end
    from arms, data_end
    group by variant
)

select * from final order by variant
"""


def survival_sql(arms: str, orders: str | None, data_end: str = DATA_END) -> str:
    """Per experiment, arm and whole day since assignment: customers whose first order after
    assignment came that day (events) and customers with none by the data's end (censored).
    `orders` None: the first order is read from the arms (experiment_customers)."""
    if orders is None:
        first_orders = "select experiment, customer_id, first_order_after as first_ts from arm_customers"
    else:
        first_orders = f"""
        select arm_customers.experiment, arm_customers.customer_id, {FIRST_ORDER_AFTER} as first_ts
        from arm_customers
        join ({orders}) as valid_orders
            on valid_orders.experiment = arm_customers.experiment
            and valid_orders.customer_id = arm_customers.customer_id
            and valid_orders.order_ts >= arm_customers.assigned_at
        group by arm_customers.experiment, arm_customers.customer_id"""
    return f"""
with {data_end},

arm_customers as (
    select * from ({arms}) where variants = 1
),

first_orders as ({first_orders}
),

observed as (
    select
        arm_customers.experiment,
        arm_customers.variant,
        first_orders.first_ts is not null as event,
        cast(floor(
            ({dialect.epoch_seconds('coalesce(first_orders.first_ts, data_end)')} - {dialect.epoch_seconds('arm_customers.assigned_at')}) / 86400
        ) as integer) as day
    from arm_customers
    left join first_orders using (experiment, customer_id)
    join data_end on arm_customers.assigned_at <= data_end.data_end
),

final as (
    select
        experiment,
        variant,
        day,
        count(*) filter (where event) as events,
        count(*) filter (where not event) as censored
    from observed
    group by experiment, variant, day
)

select * from final order by experiment, variant, day
"""


def to_date_sql(arms: str, orders: str) -> str:
    """Lift "to date": every customer assigned so far, orders from assignment up to each date (or the
    window's end, whichever is first). Per experiment, arm and day, the increments of the running sums; a
    square's increment is after^2 - before^2, computed per customer with a running sum."""
    return f"""
with arm_customers as (
    select * from ({arms}) where variants = 1
),

in_window as (
    select
        arm_customers.experiment,
        arm_customers.customer_id,
        arm_customers.variant,
        arm_customers.cost,
        cast(valid_orders.order_ts as date) as day,
        count(*) as orders,
        sum(valid_orders.amount) as revenue
    from arm_customers
    {join_window_orders("arm_customers", orders)}
    group by arm_customers.experiment, arm_customers.customer_id, arm_customers.variant, arm_customers.cost,
        cast(valid_orders.order_ts as date)
),

running as (
    select
        *,
        sum(orders) over customer_days as orders_after,
        sum(revenue) over customer_days as revenue_after,
        row_number() over customer_days as day_seq
    from in_window
    window customer_days as (partition by experiment, customer_id order by day rows between unbounded preceding and current row)
),

order_days as (
    select
        experiment,
        variant,
        day,
        count(*) filter (where day_seq = 1) as repurchased,
        sum(orders) as orders,
        sum(orders_after * orders_after - (orders_after - orders) * (orders_after - orders)) as orders2,
        sum(revenue) as revenue,
        sum(revenue_after * revenue_after - (revenue_after - revenue) * (revenue_after - revenue)) as revenue2,
        sum(revenue_after * orders_after - (revenue_after - revenue) * (orders_after - orders)) as revenue_orders,
        sum(cost * revenue) as revenue_cost
    from running
    group by experiment, variant, day
),

arrival_days as (
    select
        experiment,
        variant,
        cast(assigned_at as date) as day,
        count(*) as n,
        sum(cost) as cost,
        sum(cost * cost) as cost2
    from arm_customers
    group by experiment, variant, cast(assigned_at as date)
),

final as (
    select
        experiment,
        variant,
        day,
        coalesce(sum(n), 0) as n,
        coalesce(sum(cost), 0) as cost,
        coalesce(sum(cost2), 0) as cost2,
        coalesce(sum(repurchased), 0) as repurchased,
        coalesce(sum(orders), 0) as orders,
        coalesce(sum(orders2), 0) as orders2,
        coalesce(sum(revenue), 0) as revenue,
        coalesce(sum(revenue2), 0) as revenue2,
        coalesce(sum(revenue_orders), 0) as revenue_orders,
        coalesce(sum(revenue_cost), 0) as revenue_cost
    from ({dialect.union_by_name(['select * from order_days', 'select * from arrival_days'])})
    group by experiment, variant, day
)

select * from final order by experiment, variant, day
"""


# ---- planner ---------------------------------------------------------------------------------

# Planner: customers with a valid order in the lookback before t0 = data end - window,
# measured over [t0, t0 + window), as if they had all been assigned to control at t0.
PLANNER_CTES = f"""
with reference as (
    select {dialect.subtract_days('max(order_ts)', 'cast($window_days as integer)')} as t0 from orders
),

-- only the lookback and the window matter; customers by their integer key (cheaper to join)
valid_orders as (
    select customer_key as customer_id, order_ts, cast(amount as double) as amount
    from orders
    cross join reference
    where is_valid and customer_key is not null
        and order_ts >= {dialect.subtract_days('t0', 'cast($lookback_days as integer)')}
        and order_ts < {dialect.add_days('t0', 'cast($window_days as integer)')}
),

pool as (
    select
        customer_id,
        {dialect.day_diff('any_value(t0)', 'max(order_ts)')} as days_before
    from valid_orders
    cross join reference
    where order_ts < t0 and order_ts >= {dialect.subtract_days('t0', 'cast($lookback_days as integer)')}
    group by customer_id
),

windowed as (
    select
        pool.customer_id,
        count(*) as orders,
        sum(amount) as revenue
    from pool
    cross join reference
    join valid_orders
        on valid_orders.customer_id = pool.customer_id
        and valid_orders.order_ts >= t0
        and valid_orders.order_ts < {dialect.add_days('t0', 'cast($window_days as integer)')}
    group by pool.customer_id
),

customer_metrics as (
    select
        pool.customer_id,
        pool.days_before,
        coalesce(windowed.orders, 0) as orders,
        coalesce(windowed.revenue, 0) as revenue
    from pool
    left join windowed using (customer_id)
)
"""

# Per whole day between a pool customer's last lookback order and t0: the sums every metric's
# mean and variance are computed from (margin = revenue x margin - cost follows from them).
PLANNER_BASE_SQL = PLANNER_CTES + """,

final as (
    select
        days_before,
        count(*) as customers,
        count(*) filter (where orders > 0) as repurchased,
        sum(orders) as orders,
        sum(orders * orders) as orders2,
        sum(revenue) as revenue,
        sum(revenue * revenue) as revenue2,
        sum(revenue * orders) as revenue_orders
    from customer_metrics
    group by days_before
)

select * from final order by days_before
"""

def for_precomputed_windows(query: str, **constants: int) -> str:
    """`query` once for every window in PRECOMPUTED_WINDOWS, with a window_days column: its
    $window_days and the other named parameters replaced by our own integer constants."""
    parts = []
    for w in PRECOMPUTED_WINDOWS:
        text = query.replace("$window_days", str(int(w)))
        for name, value in constants.items():
            text = text.replace(f"${name}", str(int(value)))
        parts.append(f"select {int(w)} as window_days, * from ({text})")
    return " union all ".join(parts)


def planner_base_sql() -> str:
    """planner_base: the planner sums (PLANNER_BASE_SQL) for every precomputed window with the default
    lookback, in one pass: one row per customer over the orders of the longest window and its
    lookback, with each window's last lookback order and window orders side by side."""
    lookback = int(PLANNER_LOOKBACK_DAYS)
    span = max(PRECOMPUTED_WINDOWS) + lookback

    def t0(w: int) -> str:
        return dialect.subtract_days("data_end", str(int(w)))

    per_window = ",\n        ".join(
        f"max(order_ts) filter (where order_ts < {t0(w)} and order_ts >= {dialect.subtract_days(t0(w), str(lookback))})"
        f" as last_{w}, count(*) filter (where order_ts >= {t0(w)}) as orders_{w}, "
        f"sum(amount) filter (where order_ts >= {t0(w)}) as revenue_{w}"
        for w in PRECOMPUTED_WINDOWS)
    windows = " union all ".join(
        f"select {int(w)} as window_days, {dialect.day_diff(t0(w), f'last_{w}')} as days_before, orders_{w} as orders, "
        f"coalesce(revenue_{w}, 0) as revenue from per_customer where last_{w} is not null"
        for w in PRECOMPUTED_WINDOWS)
    return f"""
with {STORED_DATA_END},

recent_orders as (
    select customer_key, order_ts, cast(amount as double) as amount
    from orders
    cross join data_end
    where is_valid and customer_key is not null and order_ts >= {dialect.subtract_days('data_end', str(span))}
        and order_ts < data_end
),

per_customer as (
    select
        customer_key,
        {per_window},
        any_value(data_end) as data_end
    from recent_orders
    cross join data_end
    group by customer_key
),

customer_metrics as ({windows}),

final as (
    select
        window_days,
        days_before,
        count(*) as customers,
        count(*) filter (where orders > 0) as repurchased,
        sum(orders) as orders,
        sum(orders * orders) as orders2,
        sum(revenue) as revenue,
        sum(revenue * revenue) as revenue2,
        sum(revenue * orders) as revenue_orders
    from customer_metrics
    group by window_days, days_before
)

select * from final order by window_days, days_before
"""


def experiments_sql(arms: str) -> str:
    """One row per experiment, from the arms of every experiment."""
    return f"""
with final as (
    select
        experiment,
        min(strategy) as strategy,
        case when bool_or(observational) then 'observational' else 'randomised' end as design,
        min(derived_from) as derived_from,
        {dialect.distinct_list('variant', 'variant')} as variants,
        count(*) as customers,
        min(assigned_at) as first_assigned,
        max(assigned_at) as last_assigned
    from ({arms}) as arms
    group by experiment
)

select * from final order by first_assigned, experiment
"""
