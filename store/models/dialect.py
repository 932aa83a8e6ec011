"""The few SQL functions whose spelling differs between DuckDB and Spark/Trino, in one place.

Metric SQL elsewhere is plain CTEs, joins, aggregates with FILTER and window functions. To run
the same definitions on another engine, re-implement these helpers for it.
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


def quantile(expr: str, q: float) -> str:
    """Continuous quantile (median = 0.5); Spark: percentile, Trino: approx_percentile."""
    return f"quantile_cont({expr}, {float(q)})"


def month_spine(start: str, end: str) -> str:
    """A one-column table `month` with every month start from start to end inclusive."""
    return f"(select cast(range as date) as month from range({start}, {end} + interval 1 month, interval 1 month))"


def has_table(con, name: str) -> bool:
    """Whether a table or view exists (a precomputed table is missing in store versions older than it)."""
    return con.execute("select count(*) from information_schema.tables where table_name = $name",
                       {"name": name}).fetchone()[0] > 0
