"""Every SQL spelling that is DuckDB's own, in one place.

Model and metric SQL elsewhere is plain CTEs, joins, aggregates with FILTER and window functions,
without trailing commas (tests/test_architecture.py checks). To run the same definitions on another
engine (Spark, Trino...), re-implement these helpers for it.
"""


def month_diff(later: str, earlier: str) -> str:
    """Whole calendar months from `earlier` to `later` (both month starts)."""
    return f"date_diff('month', {earlier}, {later})"


def day_diff(later: str, earlier: str) -> str:
    """Whole days from `earlier` to `later`."""
    return f"date_diff('day', {earlier}, {later})"


def add_months(value: str, months: str) -> str:
    return f"({value} + to_months({months}))"


def add_days(value: str, days: str) -> str:
    return f"({value} + to_days({days}))"


def subtract_days(value: str, days: str) -> str:
    return f"({value} - to_days({days}))"


def epoch_seconds(timestamp: str) -> str:
    """Seconds since 1970-01-01 (Spark: unix_timestamp; Trino: to_unixtime)."""
    return f"epoch({timestamp})"


def quantile(expr: str, q: float | str) -> str:
    """Continuous quantile (median = 0.5; q may be SQL); Spark: percentile, Trino: approx_percentile."""
    return f"quantile_cont({expr}, {q if isinstance(q, str) else float(q)})"


def month_spine(start: str, end: str) -> str:
    """A one-column table `month` with every month start from start to end inclusive."""
    return f"(select cast(range as date) as month from range({start}, {end} + interval 1 month, interval 1 month))"


def columns_except(columns: tuple[str, ...], relation: str = "") -> str:
    """Every column of `relation` (or of the query's tables) but `columns` (Spark: no equivalent; list them)."""
    star = f"{relation}.*" if relation else "*"
    return f"{star} exclude ({', '.join(columns)})"


def union_by_name(queries: list[str]) -> str:
    """The union all of queries whose columns match by name, not position; missing ones are NULL."""
    return " union all by name ".join(queries)


def distinct_list(expr: str, order_by: str | None = None) -> str:
    """An aggregate: the list of the distinct values, sorted by `order_by` if given (Spark: collect_set)."""
    return f"list(distinct {expr}{f' order by {order_by}' if order_by else ''})"


def bit_flag(index: str) -> str:
    """A BIGINT with only bit `index` set, 0 <= index < 63 (signed, as Spark's shiftleft(1L, i))."""
    return f"(cast(1 as bigint) << ({index}))"


def bit_or_aggregate(expr: str) -> str:
    """An aggregate: the bitwise or of the values (Spark: bit_or)."""
    return f"bit_or({expr})"


def bits_overlap(a: str, b: str) -> str:
    """Whether two bit sets share a bit."""
    return f"(({a}) & ({b})) <> 0"


def ordered_list(expr: str, order_by: str) -> str:
    """An aggregate: the list of the values sorted by `order_by` (Spark: array_sort(collect_list(...)))."""
    return f"list({expr} order by {order_by})"


def unnest(list_expr: str) -> str:
    """In a select list: one row per element of the list (Spark: explode)."""
    return f"unnest({list_expr})"


def has_table(con, name: str) -> bool:
    """Whether a table or view exists (a precomputed table is missing in store versions older than it)."""
    if hasattr(con, "has_table"):  # another engine's connection (store.spark) answers itself
        return con.has_table(name)
    return con.execute("select count(*) from information_schema.tables where table_name = $name",
                       {"name": name}).fetchone()[0] > 0


def temporary_table(name: str, query: str) -> str:
    """A statement keeping `query`'s rows as the connection's own table `name` (replacing one left by a
    failed request), gone when it closes."""
    return f"create or replace temp table {name} as {query}"
