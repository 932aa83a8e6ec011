"""Each month's customers for any set of values of one dimension, read from one summary per dimension.

`kpi_signatures` answers every filter combination, but under a filter matching most orders (two channels of
four) it reads most of its rows: 8.3M at 100M orders, 0.6 s. A filter on one dimension only (the Overview's
usual request after a single value, which kpi_base answers) needs less: per month, each customer's *value
signature* in that dimension, the values they bought that month, each with its order count capped at 2 (so
"bought" and "bought again" stay apart), derived from the combination signatures (a customer's orders of a
value are the sum over the combinations holding it). Customers with the same value signature and the same "new
this month" flag are counted once, as one row per value (dimension, period, is_new, signature_id, customers,
value, orders): a few thousand rows at 100M orders. For a filter keeping values S of the dimension, a
signature's customers count when one of its values is in S, and as repeat customers when the capped orders of
those values sum to 2 or more: the same counts as kpi_signatures gives (tests/test_filter_combos.py).

Signature ids are numbered within each dimension and month, so that an append's new months need no numbers of
the months before. Values are numbered in a dimension by first appearance (the first combination holding them),
so a later month's new value never renumbers an earlier one. Orders without a value in the dimension are in no
value signature: a filter on the dimension never keeps them.
"""

from store.models import dialect
from store.models.kpi_combos import SIGNED_CUSTOMER_TOTALS, changed_months_from, month_range
from store.models.filters import DIMENSIONS

_COMBO_VALUES = " union all ".join(
    f"select combo_id, '{dimension}' as dimension, {dimension} as value from kpi_combos "
    f"where is_valid and {dimension} is not null" for dimension in DIMENSIONS)


def kpi_value_signatures_sql(months: str = "") -> str:
    """The value signatures of every dimension, from kpi_signatures' months (`months`: a condition on its
    `period`, SQL starting with "and"; see the module's docstring)."""
    # a value's number and its capped count in one integer, so that a signature is a sorted list of them
    code = "(value_number * 2 + orders - 1)"
    return f"""
with combo_values as ({_COMBO_VALUES}),

value_numbers as (
    select dimension, value, row_number() over (partition by dimension order by min(combo_id)) as value_number
    from combo_values
    group by dimension, value
),

per_value as (
    select
        signatures.period,
        signatures.is_new,
        signatures.signature_id,
        combo_values.dimension,
        value_numbers.value_number,
        max(signatures.customers) as customers,
        cast(least(sum(signatures.orders), 2) as integer) as orders
    from kpi_signatures as signatures
    join combo_values using (combo_id)
    join value_numbers on value_numbers.dimension = combo_values.dimension and value_numbers.value = combo_values.value
    where signatures.grain = 'month' {months}
    group by signatures.period, signatures.is_new, signatures.signature_id, combo_values.dimension,
        value_numbers.value_number
),

signed as (
    select dimension, period, is_new, max(customers) as customers,
        {dialect.ordered_list(code, code)} as signature  -- one row per value: no duplicates
    from per_value
    group by dimension, period, is_new, signature_id
),

grouped as (
    select dimension, period, is_new, signature, sum(customers) as customers
    from signed
    group by dimension, period, is_new, signature
),

numbered as (
    select dimension, period, is_new, customers, signature,
        row_number() over (partition by dimension, period order by is_new, signature) as signature_id
    from grouped
),

unnested as (
    select dimension, period, is_new, signature_id, customers, {dialect.unnest("signature")} as code
    from numbered
)

select
    unnested.dimension,
    unnested.period,
    unnested.is_new,
    unnested.signature_id,
    cast(unnested.customers as bigint) as customers,
    value_numbers.value,
    cast(unnested.code % 2 + 1 as integer) as orders
from unnested
join value_numbers
    on value_numbers.dimension = unnested.dimension
    and value_numbers.value_number = cast((unnested.code - unnested.code % 2) / 2 as bigint)
"""


def kpi_value_signatures_rows(con, since, until, earlier: str | None) -> tuple[str, dict]:
    """kpi_value_signatures' rows of the months in [since, until), from kpi_signatures' rows of those months."""
    condition, params = month_range("signatures.period", since, until)
    return kpi_value_signatures_sql(condition), params


def value_signatures_changed_from(con):
    """After an append, the first month whose rows change (kpi_combos.changed_months_from); None (every month)
    when the previous version was written before this table existed."""
    if not dialect.has_table(con, "previous_kpi_value_signatures"):
        return None
    return changed_months_from(con)


def customer_totals_from_values(dimension: str, where: str) -> str:
    """CTEs `matched_signatures` and `customer_totals` (as kpi_combos' month signatures give them) for a filter
    on `dimension` alone: `where`, written for the orders, keeps its values (the combinations table has the
    same columns). The segment is 'all' (no breakdown)."""
    if dimension not in DIMENSIONS:
        raise ValueError(f"not a filter dimension: {dimension}")
    return f"""
        kept_values as (
            select distinct {dimension} as value from kpi_combos as orders where {where}
        ),

        matched_signatures as (
            select period, 'all' as segment, signature_id, max(is_new) as is_new, max(customers) as customers,
                sum(orders) as kept_orders
            from kpi_value_signatures
            join kept_values using (value)
            where dimension = '{dimension}'
                and period >= $history_start and period <= $range_end
            group by period, signature_id
        ),
{SIGNED_CUSTOMER_TOTALS}"""
