"""The trailing year of kpi_base after an append, counted from the customers the append touches.

The summary `kpi_customers_since` (dimension, segment, month, customers) holds, for each of the
store's last TRAILING_MONTHS months k and each segment of kpi_base's breakdowns, the customers with a
valid order in the segment from k through the store's last month. An append of later orders (months
from F, the previous last month L <= F) changes a month's trailing year, and that state, only through
the customers it touches (`TOUCHED_KEYS`):

- trailing year of month M (F <= M <= F + 11) = customers since M - 11 before the append + touched
  customers with an order in F..M and none before the append in M - 11..L;
- customers since k after the append = customers since k before + touched customers with an order in
  k.. after F and none before the append in k..L.

Each touched customer is read in 12 months of kpi_customer_combos, against every customer active in
the year (at 100M orders, a 1M-order month: 0.87M customers against 6.2M; 4.1 s against 7.3 s).
"""

from datetime import date

import duckdb
import pandas as pd

from store.models import dialect
from store.models.customers import TOUCHED_KEYS
from store.models.kpi_combos import kept_combos, months_spanned

TRAILING_MONTHS = 12
FROM_TIERS = ("all", "membership")  # breakdowns whose segments are unions of member tiers


def _months_before(month: date, months: int) -> date:
    return (pd.Timestamp(month) - pd.DateOffset(months=months)).date()


def customers_since_sql(breakdowns: list[tuple[str, str]], customer_combos: str = "kpi_customer_combos",
                        start: str = "$state_start", end: str = "$state_end") -> str:
    """kpi_customers_since for the months `start`..`end` (parameters), from `customer_combos` (a relation of
    kpi_customer_combos' rows; `breakdowns`: (dimension, SQL of its segment on a row of kpi_combos)): each
    customer's last active month in the segment, counted from the end."""
    parts = []
    for dimension, segment in breakdowns:
        parts.append(f"""
        select * from (
            with kept as ({kept_combos("orders.is_valid", segment)}),

            last_active as (
                select kept.segment, customer_key, max(month) as month
                from {customer_combos} as activity
                join kept using (combo_id)
                where month >= {start} and month <= {end}
                group by kept.segment, customer_key
            ),

            ended as (
                select segment, month, count(*) as customers
                from last_active
                group by segment, month
            ),

            spine as (
                select segments.segment, months.month
                from (select distinct segment from kept) as segments
                cross join {dialect.month_spine(start, end)} as months
            )

            select
                '{dimension}' as dimension,
                spine.segment,
                spine.month,
                cast(sum(coalesce(ended.customers, 0)) over (
                    partition by spine.segment order by spine.month desc rows unbounded preceding
                ) as bigint) as customers
            from spine
            left join ended using (segment, month)
        ) as {dimension}_since""")
    return " union all ".join(parts)


def state_months(last_month: date) -> dict:
    """Parameters of `customers_since_sql` for a store whose last valid month is `last_month`."""
    return {"state_start": _months_before(last_month, TRAILING_MONTHS - 1), "state_end": last_month}


def _last_month(con: duckdb.DuckDBPyConnection) -> date:
    """The month of the store's last valid order (from the order_facts summary)."""
    return con.execute("select last_valid_date from order_facts").fetchone()[0].replace(day=1)


def customers_since_build(con: duckdb.DuckDBPyConnection, breakdowns: list[tuple[str, str]]) -> tuple[str, dict]:
    """kpi_customers_since of the whole store."""
    return customers_since_sql(breakdowns), state_months(_last_month(con))


def _previous_state(con: duckdb.DuckDBPyConnection, breakdowns: list[tuple[str, str]],
                    previous_last: date) -> tuple[str, dict]:
    """A relation of the previous version's kpi_customers_since and its parameters: its table, else (a
    version written before it) counted from its kpi_customer_combos."""
    if dialect.has_table(con, "previous_kpi_customers_since"):
        return "previous_kpi_customers_since", {}
    months = state_months(previous_last)
    sql = customers_since_sql(breakdowns, "previous_kpi_customer_combos", "$previous_state_start",
                              "$previous_state_end")
    return f"({sql})", {f"previous_{name}": value for name, value in months.items()}


def touched_activity(con: duckdb.DuckDBPyConnection, breakdowns: list[tuple[str, str]], first: date,
                     previous_last: date) -> list[tuple[int, str]]:
    """Temporary tables `kpi_trailing_slots` (dimension, segment, slot: each breakdown segment numbered)
    and `kpi_touched_activity`: per touched customer and slot, the last month active before the append
    in the previous version's last TRAILING_MONTHS months (old_last_<slot>), and the first and last month
    active from `first`, the append's first month, on (new_first_<slot>, new_last_<slot>). Made once per
    connection; returns the slots (slot, dimension)."""
    if not dialect.has_table(con, "kpi_touched_activity"):
        _make_touched_activity(con, breakdowns, first, previous_last)
    return con.execute("select slot, dimension from kpi_trailing_slots order by slot").fetchall()


def _combo_slot(dimension: str, segment: str) -> str:
    """SQL of the slot of a kpi_combos row's segment in `dimension` (from kpi_trailing_slots)."""
    return f"(select slot from kpi_trailing_slots where dimension = '{dimension}' and segment = {segment})"


def _make_touched_activity(con, breakdowns, first: date, previous_last: date) -> None:
    # each (dimension, segment) numbered: the numbers, not the segments (shop data), are written into the SQL
    con.execute("create or replace temp table kpi_trailing_slots as select dimension, segment, "
                "cast(row_number() over (order by dimension, segment) - 1 as integer) as slot from ("
                + " union ".join(f"select '{dimension}' as dimension, {segment} as segment from kpi_combos where is_valid"
                                 for dimension, segment in breakdowns) + ")")
    slots = con.execute("select slot, dimension from kpi_trailing_slots order by slot").fetchall()
    combo_slots = "select kpi_combos.combo_id, " + ", ".join(
        f"{_combo_slot(dimension, segment)} as slot_{dimension}" for dimension, segment in breakdowns) + " from kpi_combos"
    # every customer-month has one member tier per combination, so the months of "all" and of the
    # memberships are the greatest and least of their tiers'
    tier_slots: dict[int, set[int]] = {}
    for tier, *coarser in con.execute(f"select distinct slot_member_tier, {', '.join(f'slot_{d}' for d in FROM_TIERS)} "
                                      f"from ({combo_slots})").fetchall():
        for slot in coarser:
            tier_slots.setdefault(slot, set()).add(tier)
    own = [(slot, dimension) for slot, dimension in slots if dimension not in FROM_TIERS]
    columns = ", ".join(
        f"max(month) filter (where old and slot_{dimension} = {slot}) as old_last_{slot}, "
        f"min(month) filter (where not old and slot_{dimension} = {slot}) as new_first_{slot}, "
        f"max(month) filter (where not old and slot_{dimension} = {slot}) as new_last_{slot}"
        for slot, dimension in own)
    derived = ", ".join(
        f"{extreme}({', '.join(f'{column}_{tier}' for tier in sorted(tier_slots[slot]))}) as {column}_{slot}"
        for slot, dimension in slots if dimension in FROM_TIERS
        for column, extreme in (("old_last", "greatest"), ("new_first", "least"), ("new_last", "greatest")))
    con.execute(f"""
        create or replace temp table kpi_touched_activity as
        with
        touched as ({TOUCHED_KEYS}),

        activity as (
            select customer_key, month, combo_id, true as old
            from previous_kpi_customer_combos
            where month >= $old_start and month <= $previous_last
                and customer_key in (select customer_key from touched)
            union all
            select customer_key, month, combo_id, false as old
            from kpi_customer_combos
            where month >= $first
                and customer_key in (select customer_key from touched)
        ),

        combo_slots as ({combo_slots}),

        own_slots as (
            select activity.customer_key, {columns}
            from activity
            join combo_slots using (combo_id)
            group by activity.customer_key
        )

        select *, {derived}
        from own_slots
    """, {"old_start": _months_before(previous_last, TRAILING_MONTHS - 1), "previous_last": previous_last,
          "first": first})


def _per_slot(slots: list[tuple[int, str]], months: str, condition: str, months_before: int) -> str:
    """CTE `counted` (slot, dimension, segment, month, customers): per slot and month of `months` (a
    relation of `month`), the previous version's customers since `months_before` months before it plus
    the touched customers meeting `condition` (on `months.month`; {slot} stands for the slot's number)."""
    previous_month = dialect.add_months("slot_counts.month", f"-{months_before}") if months_before else "slot_counts.month"
    counted = ", ".join(f"count(kpi_touched_activity.customer_key) filter (where {condition.format(slot=slot)}) "
                        f"as touched_{slot}" for slot, _ in slots)
    per_slot = " union all ".join(f"select {slot} as slot, month, touched_{slot} as touched from touched_counts"
                                  for slot, _ in slots)
    return f"""
        touched_counts as (
            select months.month, {counted}
            from {months} as months
            left join kpi_touched_activity on true  -- every month, also when no customer is touched
            group by months.month
        ),

        slot_counts as ({per_slot}),

        counted as (
            select
                slot_counts.slot,
                kpi_trailing_slots.dimension,
                kpi_trailing_slots.segment,
                slot_counts.month,
                cast(coalesce(before.customers, 0) + slot_counts.touched as bigint) as customers
            from slot_counts
            join kpi_trailing_slots using (slot)
            left join previous_state as before
                on before.dimension = kpi_trailing_slots.dimension
                and before.segment = kpi_trailing_slots.segment
                and before.month = {previous_month}
        )
    """


def customers_since_append(con: duckdb.DuckDBPyConnection, breakdowns: list[tuple[str, str]],
                           first: date | None, previous_last: date) -> tuple[str, dict]:
    """kpi_customers_since after an append whose valid orders start in month `first` (None: it has none)
    of a store whose last valid month was `previous_last` (the previous version has the table:
    Model.previous_optional)."""
    if first is None:  # no valid order: the same customers
        return "select * from previous_kpi_customers_since", {}
    slots = touched_activity(con, breakdowns, first, previous_last)
    since = "{m} >= months.month and ({o} is null or {o} < months.month)".format(
        m="new_last_{slot}", o="old_last_{slot}")
    previous, previous_params = _previous_state(con, breakdowns, previous_last)
    return f"""
        with previous_state as (select * from {previous}),
        {_per_slot(slots, dialect.month_spine("$state_start", "$state_end"), since, 0)}
        select dimension, segment, month, customers from counted
    """, {**state_months(_last_month(con)), **previous_params}


def recounted_from(first: date, previous_last: date) -> date:
    """The first month an append whose valid orders start in month `first` counts again: that month, or
    the month after the store's last (`previous_last`) when months without orders lie between (they
    join the table, as the full build's continuous months have them)."""
    return min(first, _months_before(previous_last, -1))


def appended_trailing_counts(con: duckdb.DuckDBPyConnection, breakdowns: list[tuple[str, str]], first: date,
                             last: date, previous_last: date) -> date | None:
    """Temporary table `kpi_trailing_counts` (dimension, segment, month, customers_12m, orders_12m): each
    month from `recounted_from(first, previous_last)` to `last` (the months an append counts; `first`:
    the month of its first valid order) of every breakdown segment, its trailing year's customers and
    identified orders (the twelve months up to it). Returns the first month counted; None (no table) when
    the append's orders span more than TRAILING_MONTHS months: its first months' orders would leave the
    last months' years."""
    if months_spanned(first, last) > TRAILING_MONTHS:
        return None
    slots = touched_activity(con, breakdowns, first, previous_last)
    year_start = dialect.add_months("months.month", f"-{TRAILING_MONTHS - 1}")
    came = "{n} <= months.month and ({o} is null or {o} < {start})".format(
        n="new_first_{slot}", o="old_last_{slot}", start=year_start)
    combo_slot_rows = " union all ".join(f"select combo_id, {_combo_slot(dimension, segment)} as slot from kpi_combos"
                                         for dimension, segment in breakdowns)
    counted_from = recounted_from(first, previous_last)
    previous, previous_params = _previous_state(con, breakdowns, previous_last)
    con.execute(f"""
        create or replace temp table kpi_trailing_counts as
        with previous_state as (select * from {previous}),
        {_per_slot(slots, dialect.month_spine("$first", "$last"), came, TRAILING_MONTHS - 1)},

        combo_slot_rows as ({combo_slot_rows}),

        year_orders as (
            select months.month, combo_slot_rows.slot, sum(kpi_combo_months.identified_orders) as orders_12m
            from {dialect.month_spine("$first", "$last")} as months
            join kpi_combo_months
                on kpi_combo_months.month <= months.month
                and kpi_combo_months.month > {dialect.add_months("months.month", f"-{TRAILING_MONTHS}")}
            join combo_slot_rows using (combo_id)
            group by months.month, combo_slot_rows.slot
        )

        select
            counted.dimension,
            counted.segment,
            counted.month,
            counted.customers as customers_12m,
            cast(coalesce(year_orders.orders_12m, 0) as bigint) as orders_12m
        from counted
        left join year_orders using (month, slot)
    """, {"first": counted_from, "last": last, **previous_params})
    return counted_from
