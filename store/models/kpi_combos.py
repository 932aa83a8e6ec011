"""KPI base counts for any sidebar filter combination, read from compact summaries instead of every order.

The sidebar filters choose sets of values of four dimensions (member tier, channel, region, category);
an order is in when each of its values is chosen. So whether an order counts depends only on its
*combination* of the four values, and the summaries are kept per combination (docs/architecture.md):

- `kpi_combos`: every combination among valid orders, numbered (`combo_id`) in order of first
  appearance (first valid order's time, then the values), as customer keys are: an append of later
  orders numbers a new combination after the others and never moves one. A few hundred rows.
  A request's filter is its usual `where` on this table: the combinations it keeps.
- `kpi_combo_months`: per month and combination, orders, revenue, guest and identified orders and
  revenue. These add up across combinations: any filter's order counts are their sums.
- `kpi_signatures`: distinct customers do not add up across combinations (a customer who bought in
  two kept combinations in a month is one customer). Per month (SIGNATURE_GRAINS),
  each customer's *signature* is the set of combinations they bought in that period, each with its
  order count capped at 2 (enough to tell "bought" from "bought again"). Customers with the same
  signature and the same "new in this period" flag are counted once, as one row per combination of
  the signature: (grain, period, is_new, signature_id, customers, combo_id, orders). For a filter, a
  signature's customers count when any of its combinations is kept, and as repeat customers when the
  kept combinations' capped orders sum to 2 or more. Exact for every filter; the table is as large as
  the number of distinct buying patterns, not the number of customers.
- `kpi_customer_combos`: customer x month x combination (orders, revenue, cohort month), the one
  table that still grows with the customers: the trailing-year customer count (a customer counts in
  the twelve months after any kept purchase) and the cohort matrix need to follow each customer.
  It is narrow (integers), so counting from it is cheaper than from the orders, but it is not free.

All SQL is plain CTEs and aggregates; list building and unnesting go through `store.models.dialect`.
"""

from datetime import date, timedelta

from store.models import dialect
from store.models.filters import DIMENSIONS

GRAINS = ("month", "quarter", "year")  # what the combination summaries answer
# grains with stored signatures: a quarter's or a year's buying patterns are nearly one per customer
# (5x fewer rows than customer-periods at 1M orders, for 1.3 s more upload time per 1M orders), so
# quarters and years count their customers from kpi_customer_combos instead
SIGNATURE_GRAINS = ("month",)
_ONE_DAY = timedelta(days=1)
# an order (`orders`) and its combination (`kpi_combos`): the join every per-combination table makes
SAME_COMBO = " and ".join(f"orders.{d} is not distinct from kpi_combos.{d}" for d in DIMENSIONS)


def _numbered_combos(relation: str, valid: str, first_id: str = "0", unknown: str = "") -> str:
    """The combinations of `relation`'s rows where `valid`, numbered on from `first_id` (SQL) in order of
    first appearance; `unknown`: a relation of combinations left out (already numbered)."""
    left_out = f"""where not exists (select 1 from {unknown} as known
                                  where {" and ".join(f"combos.{d} is not distinct from known.{d}" for d in DIMENSIONS)})
    """ if unknown else ""
    return f"""
select
    {first_id} + row_number() over (order by first_order_ts, {", ".join(f"{d} nulls last" for d in DIMENSIONS)})
        as combo_id,
    {", ".join(DIMENSIONS)},
    true as is_valid
from (
    select {", ".join(DIMENSIONS)}, min(order_ts) as first_order_ts
    from {relation}
    where {valid}
    group by {", ".join(DIMENSIONS)}
) as combos
{left_out}"""


KPI_COMBOS_SQL = _numbered_combos("orders", "is_valid")

_COMBO_MONTHS = f"""
select
    orders.order_month as month,
    kpi_combos.combo_id,
    count(*) as orders,
    sum(orders.amount) as revenue,
    count(*) filter (where orders.customer_key is null) as guest_orders,
    count(*) filter (where orders.customer_key is not null) as identified_orders,
    sum(orders.amount) filter (where orders.customer_key is not null) as identified_revenue
from orders
join kpi_combos on {SAME_COMBO}
where orders.is_valid{{since}}
group by orders.order_month, kpi_combos.combo_id
"""
KPI_COMBO_MONTHS_SQL = _COMBO_MONTHS.format(since="")

# kpi_customer_combos is written in combination order: at 100M orders a combination holds about one Parquet
# row group, so the kept combinations' ids, which a filter's join pushes into the scan, skip the row groups of
# every other combination (the Customers page's segment tables under two filters, with the per-customer
# figures then read from a table like it: 11.4 s -> 6.0 s; sorting cost 17.5 s of the import)
COMBO_ORDER = "combo_id"

_CUSTOMER_COMBOS = f"""
select
    orders.order_month as month,
    orders.customer_key,
    kpi_combos.combo_id,
    count(*) as orders,
    sum(orders.amount) as revenue,
    min(orders.cohort_month) as cohort_month
from orders
join kpi_combos on {SAME_COMBO}
where orders.is_valid and orders.customer_key is not null{{since}}
group by orders.order_month, orders.customer_key, kpi_combos.combo_id
order by {COMBO_ORDER}, month
"""
KPI_CUSTOMER_COMBOS_SQL = _CUSTOMER_COMBOS.format(since="")


def kpi_signatures_sql(grain: str, months: str = "", first_id: str = "0") -> str:
    """The signature rows of one grain (see the module's docstring); `months`: a condition on
    kpi_customer_combos' `month` (SQL starting with "and") keeping whole periods, their signature ids
    numbered on from `first_id` (SQL)."""
    # a combination and its capped count in one integer, so that a signature is a sorted list of them
    code = "(combo_id * 2 + orders - 1)"
    if grain != "month":  # kpi_customer_combos has one row per month, customer and combination: read as it is
        raise ValueError("signatures are stored for months only (SIGNATURE_GRAINS)")
    return f"""
with customer_periods as (
    select
        date_trunc('{grain}', month) as period,
        customer_key,
        combo_id,
        cast(least(orders, 2) as integer) as orders,
        cohort_month
    from kpi_customer_combos
    where true {months}
),

signed as (
    select
        period,
        customer_key,
        date_trunc('{grain}', min(cohort_month)) = period as is_new,
        {dialect.ordered_list(code, code)} as signature  -- one row per combination: no duplicates
    from customer_periods
    group by period, customer_key
),

grouped as (
    select period, is_new, signature, count(*) as customers
    from signed
    group by period, is_new, signature
),

numbered as (
    select period, is_new, customers, signature,
        {first_id} + row_number() over (order by period, is_new, signature) as signature_id
    from grouped
),

unnested as (
    select period, is_new, signature_id, customers, {dialect.unnest("signature")} as code
    from numbered
)

select
    '{grain}' as grain,
    period,
    is_new,
    signature_id,
    customers,
    cast((code - code % 2) / 2 as bigint) as combo_id,
    code % 2 + 1 as orders
from unnested
"""


def kept_combos(where: str, segment: str) -> str:
    """The combinations a filter keeps, with the breakdown's segment (`where` and `segment` written
    for the orders: the combinations table has the same dimension columns and an `is_valid`)."""
    return f"select combo_id, {segment} as segment from kpi_combos as orders where {where}"


def base_inputs_from_combos(grain: str, segment: str, where: str, customer_totals: str | None = None) -> str:
    """CTEs `order_totals`, `customer_totals` and `customer_months` (what `kpis.base_counts_ctes`
    builds its periods from), read from the combination summaries for the months from $history_start
    (a month start) to $range_end (the range must cover whole periods: see `covers`); `customer_totals`:
    CTEs ending in `customer_totals` read from elsewhere (kpi_value_signatures)."""
    return f"""
        kept as ({kept_combos(where, segment)}),

        order_totals as (
            select
                date_trunc('{grain}', month) as period,
                kept.segment,
                sum(orders) as orders,
                sum(revenue) as revenue,
                sum(guest_orders) as guest_orders,
                sum(identified_orders) as identified_orders,
                sum(identified_revenue) as identified_revenue
            from kpi_combo_months
            join kept using (combo_id)
            where month >= $history_start and month <= $range_end
            group by date_trunc('{grain}', month), kept.segment
        ),

        customer_months as (
            select month, kept.segment, customer_key, sum(orders) as orders, min(cohort_month) as cohort_month
            from kpi_customer_combos
            join kept using (combo_id)
            where month >= $history_start and month <= $range_end
            group by month, kept.segment, customer_key
        ),
{customer_totals or _customer_totals(grain)}
    """


# months one signed 64-bit set of active months holds, with the bit above the last month (a month's window
# is the bits below M + 1 minus those below M - 11); a longer history takes one more set per 62 months
MASK_MONTHS = 62


def months_spanned(first: date, last: date) -> int:
    """Calendar months from `first`'s to `last`'s, both counted."""
    return (last.year - first.year) * 12 + last.month - first.month + 1


def _window_bits(first: int, last: int, word: int) -> int:
    """The bits of months first..last (indexes from the first month counted) inside set number `word`."""
    low, high = max(first, word * MASK_MONTHS), min(last, word * MASK_MONTHS + MASK_MONTHS - 1)
    return (1 << (high - word * MASK_MONTHS + 1)) - (1 << (low - word * MASK_MONTHS))


def trailing_from_masks(first: date, last: date) -> tuple[str, dict]:
    """CTEs `coverage_changes` and `month_orders` for `kpis.base_counts_ctes` (needs `kept` and
    `month_spine`), and their parameters: each customer's kept active months from `first` (a month start,
    at or after $history_start: no kept order before it) to `last` as bit sets of 62 months each (an
    aggregate, no window over customer-months); customers with the same sets are counted together, and a
    month's trailing-year count is the customers whose sets meet its 12 months."""
    def index(month: str) -> str:
        return dialect.month_diff(month, "cast($mask_start as date)")

    months = range(max(months_spanned(first, last), 1))  # a range ending before the first month with orders: one
    words = range((len(months) + MASK_MONTHS - 1) // MASK_MONTHS)
    month = index("month")
    sets = ",\n                ".join(
        f"""{dialect.bit_or_aggregate(f"case when {month} >= {w * MASK_MONTHS} and {month} < {(w + 1) * MASK_MONTHS} "
                                      f"then {dialect.bit_flag(f'{month} - {w * MASK_MONTHS}')} else cast(0 as bigint) end")}"""
        f" as active_months_{w}" for w in words)
    set_columns = ", ".join(f"active_months_{w}" for w in words)

    def meets(k: int) -> str:  # month k's trailing year, months k-11..k, meets the customer's sets
        first_month = max(k - 11, 0)
        return " or ".join(dialect.bits_overlap(f"active_months_{w}", str(_window_bits(first_month, k, w)))
                           for w in range(first_month // MASK_MONTHS, k // MASK_MONTHS + 1))

    # each month's count is one sum over the sets (a column per month), not a join of every month with every
    # set (at 100M orders under two filters 61 months x 185k sets: 0.8 s of CPU, against 0.03 s)
    counts = ",\n                ".join(
        f"sum(case when {meets(k)} then customers else 0 end) as months_{k}" for k in months)
    pick = " ".join(f"when {k} then mask_counts.months_{k}" for k in months)
    return f"""
        customer_masks as (
            select kept.segment, customer_key,
                {sets}
            from kpi_customer_combos
            join kept using (combo_id)
            where month >= $mask_start and month <= $range_end
            group by kept.segment, customer_key
        ),

        mask_groups as (
            select segment, {set_columns}, count(*) as customers
            from customer_masks
            group by segment, {set_columns}
        ),

        mask_counts as (
            select segment,
                {counts}
            from mask_groups
            group by segment
        ),

        trailing_customers as (
            select month_spine.segment, month_spine.month,
                coalesce(case {index("month_spine.month")} {pick} end, 0) as customers_12m
            from month_spine
            left join mask_counts on mask_counts.segment = month_spine.segment
        ),

        coverage_changes as (
            select segment, month,
                customers_12m - coalesce(lag(customers_12m) over (partition by segment order by month), 0) as change
            from trailing_customers
        ),

        month_orders as (
            select kept.segment, month, sum(identified_orders) as orders
            from kpi_combo_months
            join kept using (combo_id)
            where month >= $history_start and month <= $range_end
            group by kept.segment, month
        ),
    """, {"mask_start": first}


def _customer_totals(grain: str) -> str:
    """CTE `customer_totals`: from the signatures (months), else per customer from kpi_customer_combos."""
    if grain not in SIGNATURE_GRAINS:
        return f"""
        customer_periods as (
            select date_trunc('{grain}', month) as period, segment, customer_key,
                sum(orders) as orders, min(cohort_month) as cohort_month
            from customer_months
            group by date_trunc('{grain}', month), segment, customer_key
        ),

        customer_totals as (
            select
                period,
                segment,
                count(*) as customers,
                count(*) filter (where date_trunc('{grain}', cohort_month) = period) as new_customers,
                count(*) filter (where orders >= 2) as repeat_customers
            from customer_periods
            group by period, segment
        ),"""
    return f"""
        matched_signatures as (
            select period, kept.segment, signature_id, max(is_new) as is_new, max(customers) as customers,
                sum(orders) as kept_orders
            from kpi_signatures
            join kept using (combo_id)
            where grain = '{grain}'
                and period >= $history_start and period <= $range_end
            group by period, kept.segment, signature_id
        ),
{SIGNED_CUSTOMER_TOTALS}"""


# CTE `customer_totals` from `matched_signatures` (period, segment, is_new, customers, kept_orders: the signatures
# with a kept combination or value): their customers, the new ones, and those with two kept orders or more
SIGNED_CUSTOMER_TOTALS = """
        customer_totals as (
            select
                period,
                segment,
                cast(sum(customers) as bigint) as customers,
                cast(coalesce(sum(customers) filter (where is_new), 0) as bigint) as new_customers,
                cast(coalesce(sum(customers) filter (where kept_orders >= 2), 0) as bigint) as repeat_customers
            from matched_signatures
            group by period, segment
        ),"""


def active_months_from_combos(where: str) -> str:
    """Customer x month of the kept combinations (month, segment, customer_key, orders, revenue,
    cohort_month), as `orders.customer_months_sql` gives it from the orders: the cohort matrix's input."""
    return f"""
            select month, 'all' as segment, customer_key, sum(orders) as orders, sum(revenue) as revenue,
                min(cohort_month) as cohort_month
            from kpi_customer_combos
            where combo_id in (select combo_id from ({kept_combos(where, "'all'")}) as kept)
            group by month, customer_key
    """


def _period_end(day, grain: str):
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    start = day.replace(day=1, month=day.month - (day.month - 1) % months)
    year, month = divmod(start.month - 1 + months, 12)
    return start.replace(year=start.year + year, month=month + 1) - _ONE_DAY


def _period_start(day, grain: str):
    months = {"month": 1, "quarter": 3, "year": 12}[grain]
    return day.replace(day=1, month=day.month - (day.month - 1) % months)


def covers(request) -> bool:
    """Whether the combination summaries answer a KPI request (registry `covers`): any filter, grain and
    breakdown, when its months are whole periods: it starts on a period's first day and ends on a
    period's last day or after the data's last order (a range cut inside a period counts from the orders).
    A request without `end` (the cohort matrix: its date filters select whole months) is covered."""
    if request.grain not in GRAINS:
        return False
    if request.end is None:  # no range asked (the cohort groups count whole months)
        return request.history_start is None
    if request.last_date is None:
        return False
    if request.history_start is not None and _period_start(request.history_start, request.grain) != request.history_start:
        return False
    return request.end >= request.last_date or _period_end(request.end, request.grain) == request.end


# ---- the append path (store.derived): later orders change only the months from the first new one ----


def _first_new_month(con):
    first = con.execute("select min(cast(order_ts as date)) from new_batch_orders where status = 'valid'").fetchone()[0]
    return first.replace(day=1) if first else None


def _combos_missing(con) -> bool:
    """Whether the previous version has no combination tables (written before they existed): then the
    combination tables are built whole. (A new combination moves no id: numbered after the others.)"""
    return not all(dialect.has_table(con, f"previous_{name}") for name in
                   ("kpi_combos", "kpi_combo_months", "kpi_customer_combos", "kpi_signatures"))


def kpi_combos_append(con) -> tuple[str, dict]:
    """kpi_combos after an append: the previous rows, and the new batch's new combinations numbered on
    after them in order of first appearance (its valid orders all come later: as the full build numbers)."""
    if not dialect.has_table(con, "previous_kpi_combos"):
        return KPI_COMBOS_SQL, {}
    first_id = "(select coalesce(max(combo_id), 0) from previous_kpi_combos)"
    added = _numbered_combos("new_batch_orders", "status = 'valid'", first_id, unknown="previous_kpi_combos")
    return dialect.union_by_name(["select * from previous_kpi_combos", added]), {}


def kpi_combo_months_append(con) -> tuple[str, dict]:
    """The previous months before the first new month M, the months from M counted from their orders."""
    first = _first_new_month(con)
    if _combos_missing(con):
        return KPI_COMBO_MONTHS_SQL, {}
    if first is None:
        return "select * from previous_kpi_combo_months", {}
    counted = _COMBO_MONTHS.format(since=" and orders.order_month >= $first_new_month")
    kept = "select * from previous_kpi_combo_months where month < $first_new_month"
    return dialect.union_by_name([kept, counted]), {"first_new_month": first}


# ---- month parts (store.derived): the two tables growing with the customers are written split by
# month, so that an append of later orders rewrites only the months from its first one

def month_range(column: str, since, until) -> tuple[str, dict]:
    """A condition ("and ...") keeping `column` in [since, until) (None: unbounded), and its parameters."""
    condition, params = "", {}
    if since is not None:
        condition += f" and {column} >= $months_since"
        params["months_since"] = since
    if until is not None:
        condition += f" and {column} < $months_until"
        params["months_until"] = until
    return condition, params


def kpi_customer_combos_rows(con, since, until, earlier: str | None) -> tuple[str, dict]:
    """kpi_customer_combos' rows of the months in [since, until), counted from the orders."""
    condition, params = month_range("orders.order_month", since, until)
    return _CUSTOMER_COMBOS.format(since=condition), params


def kpi_signatures_rows(con, since, until, earlier: str | None) -> tuple[str, dict]:
    """kpi_signatures' rows of the months in [since, until), signed from kpi_customer_combos; their ids
    numbered on after the rows before them (`earlier`, a relation), as one full build numbers them."""
    (grain,) = SIGNATURE_GRAINS  # month parts split periods: only months have stored signatures
    condition, params = month_range("month", since, until)
    first_id = f"coalesce((select max(signature_id) from {earlier}), 0)" if earlier else "0"
    return kpi_signatures_sql(grain, condition, first_id), params


def changed_months_from(con):
    """After an append, the first month whose rows change: the first new valid order's month; None when
    the previous version has no combination tables; date.max when no month changes."""
    if _combos_missing(con):
        return None
    return _first_new_month(con) or date.max
