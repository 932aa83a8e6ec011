"""The same SQL on Apache Spark: Spark's spellings of `store.models.dialect`'s helpers, and the
translation of our DuckDB SQL into Spark SQL.

Model SQL is written once, in DuckDB's dialect (store.models.dialect). `translate` parses it with
SQLGlot (duckdb -> spark), which is right for most of it, and rewrites what SQLGlot gets wrong or
cannot know, each rewrite spelled by the helper below of the same name:

- `day_diff`: DuckDB counts calendar days crossed, Spark's datediff on timestamps whole 24-hour
  periods (silently different): both sides cast to DATE first.
- division: DuckDB divides DECIMALs (and integers) as DOUBLE, Spark keeps DECIMAL cut to 6 digits
  (silently different): both sides cast to DOUBLE; `try_divide` because Spark 4's ANSI mode
  raises on a division by zero (DuckDB gives +-inf or NaN there: no model divides by zero, every
  denominator that can be 0 is guarded with nullif).
- `add_months`, `add_days`, `subtract_days`: DuckDB's to_months/to_days have no SQLGlot
  translation; DuckDB's date + interval is a TIMESTAMP, so is Spark's spelling.
- `epoch_seconds`: DuckDB's epoch() keeps fractions of a second; Spark's unix_timestamp does not.
  Read in UTC (the Spark session's time zone is UTC: store.spark).
- `quantile`: percentile_cont(x, q) is no Spark function; percentile(x, q) is the same interpolation.
- `average`: DuckDB's avg of DECIMALs is a DOUBLE, Spark's a DECIMAL cut to 4 more digits (silently
  different): the exact sum divided as a DOUBLE, as DuckDB does.
- `month_spine`: DuckDB's range() table function becomes explode(sequence()).
- `columns_except` and `union_by_name`: Spark SQL has neither `* exclude` nor `union all by name`;
  both become explicit column lists, read from the Spark schema of the relations (`columns_of`).
- `distinct_list` with an order: collect_set loses it; array_sort puts it back.
- `read_parquet(path, file_row_number = true)`: a Parquet relation with Spark's row index.

Anything else SQLGlot translates as it is; `KNOWN_CONSTRUCTS` lists every SQLGlot node the model
SQL may use, each checked on both engines by tests/test_spark_conformance.py, and
tests/test_spark_dialect.py fails on SQL using one outside the list.
"""

from collections.abc import Callable

import sqlglot
from sqlglot import exp

Columns = list[tuple[str, str]]  # (name, Spark type) of a relation's columns


# ---- Spark's spellings of store.models.dialect's helpers (same names, same meaning) -------------


def month_diff(later: str, earlier: str) -> str:
    """Calendar months from `earlier` to `later` (month boundaries crossed, as DuckDB's date_diff)."""
    return (f"cast((year({later}) - year({earlier})) * 12 + (month({later}) - month({earlier})) as bigint)")


def day_diff(later: str, earlier: str) -> str:
    """Calendar days from `earlier` to `later` (day boundaries crossed, as DuckDB's date_diff)."""
    return f"cast(datediff(cast({later} as date), cast({earlier} as date)) as bigint)"


def add_months(value: str, months: str) -> str:
    return f"(cast({value} as timestamp_ntz) + make_ym_interval(0, cast({months} as int)))"


def add_days(value: str, days: str) -> str:
    return f"(cast({value} as timestamp_ntz) + make_dt_interval(cast({days} as int)))"


def subtract_days(value: str, days: str) -> str:
    return f"(cast({value} as timestamp_ntz) - make_dt_interval(cast({days} as int)))"


def epoch_seconds(timestamp: str) -> str:
    """Seconds since 1970-01-01 00:00 UTC, with their fraction (a DOUBLE, as DuckDB's epoch)."""
    return f"(cast(unix_micros(cast({timestamp} as timestamp_ltz)) as double) / 1000000.0D)"


def quantile(expr: str, q: str) -> str:
    """Continuous quantile (linear interpolation between the closest ranks, as quantile_cont)."""
    return f"percentile({expr}, {q})"


def month_spine(start: str, end: str) -> str:
    """A one-column query `month` with every month start from start to end inclusive."""
    return f"select explode(sequence(cast({start} as date), cast({end} as date), interval 1 month)) as month"


def divide(numerator: str, denominator: str) -> str:
    """DuckDB's `/`: a DOUBLE quotient whatever the operand types; NULL (not an error) for a zero denominator."""
    return f"try_divide(cast({numerator} as double), cast({denominator} as double))"


def average(expr: str) -> str:
    """DuckDB's avg: the exact sum divided as a DOUBLE (Spark's avg of a DECIMAL stays DECIMAL, cut to
    4 more digits: silently different)."""
    return f"try_divide(cast(sum({expr}) as double), cast(count({expr}) as double))"


def distinct_list(expr: str, ordered: bool) -> str:
    return f"array_sort(collect_set({expr}))" if ordered else f"collect_set({expr})"


def ordered_list(expr: str, order_by: str) -> str:
    """The list of the values in ascending order (only ordered by the values themselves on Spark)."""
    if expr != order_by:
        raise UntranslatableSql("list(x order by y): only the order of x itself translates")
    return f"array_sort(collect_list({expr}))"


def parquet_relation(path: str, row_number: bool) -> str:
    """A Parquet file as a relation; `row_number`: with its row's index in the file as file_row_number."""
    quoted = "`" + path.replace("`", "``") + "`"
    extra = ", _metadata.row_index as file_row_number" if row_number else ""
    return f"(select *{extra} from parquet.{quoted})"


# ---- the translation --------------------------------------------------------------------------


class UntranslatableSql(ValueError):
    """SQL using a construct the Spark translation does not know (see KNOWN_CONSTRUCTS)."""


def _sql(node: exp.Expression) -> str:
    return node.sql(dialect="spark")


def _spark_expression(text: str) -> exp.Expression:
    return sqlglot.parse_one(text, read="spark")


def _unit(node: exp.Expression) -> str:
    unit = node.args.get("unit")
    return (unit.name if unit is not None else "day").lower()


def _interval_of(node: exp.Expression) -> tuple[str, exp.Expression] | None:
    """('month' | 'day', amount) for DuckDB's to_months(n) / to_days(n), else None."""
    if isinstance(node, exp.ToDays):
        return "day", node.this
    if isinstance(node, exp.Anonymous) and node.name.lower() in ("to_months", "to_days") and len(node.expressions) == 1:
        return node.name.lower()[3:-1], node.expressions[0]
    return None


def _rewrite_expression(node: exp.Expression) -> exp.Expression:
    """One node's Spark spelling (SQLGlot's, or ours where SQLGlot's is wrong or missing)."""
    if isinstance(node, exp.DateDiff):
        later, earlier = _sql(node.this), _sql(node.expression)
        unit = _unit(node)
        if unit == "day":
            return _spark_expression(day_diff(later, earlier))
        if unit == "month":
            return _spark_expression(month_diff(later, earlier))
        raise UntranslatableSql(f"date_diff('{unit}', ...) has no Spark spelling here")
    if isinstance(node, (exp.Add, exp.Sub)):
        interval = _interval_of(node.expression)
        if interval is not None:
            kind, amount = interval
            value, amount_sql = _sql(node.this), _sql(amount)
            if kind == "month" and isinstance(node, exp.Add):
                return _spark_expression(add_months(value, amount_sql))
            if kind == "month":
                return _spark_expression(add_months(value, f"-({amount_sql})"))
            spell = add_days if isinstance(node, exp.Add) else subtract_days
            return _spark_expression(spell(value, amount_sql))
    if _interval_of(node) is not None and not (isinstance(node.parent, (exp.Add, exp.Sub))
                                               and node.arg_key == "expression"):
        raise UntranslatableSql(f"{_sql(node)} outside `value + interval`")
    if isinstance(node, exp.TimeToUnix):
        return _spark_expression(epoch_seconds(_sql(node.this)))
    if isinstance(node, exp.PercentileCont):
        return _spark_expression(quantile(_sql(node.this), _sql(node.expression)))
    if isinstance(node, exp.Avg):
        if isinstance(node.parent, exp.Window) or isinstance(node.this, exp.Distinct):
            raise UntranslatableSql("avg() over a window or of distinct values has no Spark spelling here")
        return _spark_expression(average(_sql(node.this)))
    if isinstance(node, exp.Div):
        return _spark_expression(divide(_sql(node.this), _sql(node.expression)))
    if isinstance(node, exp.ArrayAgg):
        inner = node.this
        ordered = isinstance(inner, exp.Order)
        values = inner.this if ordered else inner
        if ordered and not isinstance(values, exp.Distinct):  # list(x order by x), dialect.ordered_list
            if [o.this for o in inner.expressions] != [values] or any(o.args.get("desc") for o in inner.expressions):
                raise UntranslatableSql("list(x order by y): only the ascending order of x itself translates")
            return _spark_expression(ordered_list(_sql(values), _sql(values)))
        if not isinstance(values, exp.Distinct) or len(values.expressions) != 1:
            raise UntranslatableSql(f"{node.sql(dialect='duckdb')}: only list(distinct x [order by x]) translates")
        value = values.expressions[0]
        if ordered and [o.this for o in inner.expressions] != [value]:
            raise UntranslatableSql("list(distinct x order by y): only the order of x itself translates")
        return _spark_expression(distinct_list(_sql(value), ordered))
    if isinstance(node, exp.Select) and _spine_series(node) is not None:
        start, end = _spine_series(node)
        return _spark_expression(month_spine(_sql(start), _sql(end)))
    if isinstance(node, exp.Table) and isinstance(node.this, exp.ReadParquet):
        return _parquet_table(node)
    return node


def _rewrite_bottom_up(tree: exp.Expression) -> exp.Expression:
    """`_rewrite_expression` on every node, children before their parent (a parent's rewrite renders
    its children's Spark spelling)."""
    for node in reversed(list(tree.walk(bfs=False))):
        new = _rewrite_expression(node)
        if new is not node:
            if node is tree:
                tree = new
            else:
                node.replace(new)
    return tree


def _spine_series(select: exp.Select) -> tuple[exp.Expression, exp.Expression] | None:
    """(start, end) of dialect.month_spine's `select cast(range as date) as month from range(...)`."""
    source = select.args.get("from_")
    table = source.this if source is not None else None
    if not (isinstance(table, exp.Table) and isinstance(table.this, exp.GenerateSeries)):
        return None
    series = table.this
    end, step = series.args.get("end"), series.args.get("step")
    one_month = (isinstance(step, exp.Interval) and step.name == "1" and _unit(step) == "month")
    if not (one_month and isinstance(end, exp.Add) and isinstance(end.expression, exp.Interval)
            and end.expression.name == "1" and _unit(end.expression) == "month"):
        raise UntranslatableSql(f"range(): only dialect.month_spine's month series translates: {select.sql()}")
    return series.args["start"], end.this


def _parquet_table(table: exp.Table) -> exp.Expression:
    args = table.this.expressions
    path, options = args[0], args[1:]
    row_number = False
    for option in options:
        if (isinstance(option, exp.EQ) and option.this.name == "file_row_number"
                and isinstance(option.expression, exp.Boolean)):
            row_number = option.expression.this
        else:
            raise UntranslatableSql(f"read_parquet option {option.sql()}")
    if not (isinstance(path, exp.Literal) and path.is_string):
        raise UntranslatableSql("read_parquet of anything but one file path")
    subquery = _spark_expression(f"select * from {parquet_relation(path.this, row_number)}").args["from_"].this
    alias = table.args.get("alias")
    if alias is not None:
        subquery.set("alias", alias.copy())
    return subquery


def _needs_columns(node: exp.Expression) -> bool:
    """A node whose Spark spelling needs the columns of a relation: `* exclude`, `union all by name`,
    or `t.*` beside a USING join (Spark lists the join's columns first, DuckDB keeps t's order)."""
    if isinstance(node, exp.Union) and node.args.get("by_name"):
        return True
    if not isinstance(node, exp.Star):
        return False
    if node.args.get("except_"):
        return True
    select = node.parent.parent if isinstance(node.parent, exp.Column) else None
    return isinstance(select, exp.Select) and any(join.args.get("using") for join in select.args.get("joins") or [])


def _context_ctes(node: exp.Expression) -> list[exp.CTE]:
    """The CTEs visible at `node`: its own WITH's and those of every enclosing query; inside a CTE,
    only the CTEs before it (a later one may hold what is being resolved)."""
    ctes, path, current = [], [], node
    while current is not None:
        with_ = current.args.get("with_") if isinstance(current, exp.Query) else None
        if with_ is not None:
            visible = list(with_.expressions)
            inside = next((i for i, cte in enumerate(visible) if any(step is cte for step in path)), None)
            ctes = (visible if inside is None else visible[:inside]) + ctes
        path.append(current)
        current = current.parent
    return ctes


def _with(ctes: list[exp.CTE], query: exp.Expression) -> str:
    body = _sql(query)
    return f"with {', '.join(_sql(c) for c in ctes)} {body}" if ctes else body


def _resolve_star(star: exp.Star, columns_of: Callable[[str], Columns]) -> None:
    """`[t.]* exclude (a, b)` -> `t.c, t.d ...`, the relation's columns read from Spark."""
    column = star.parent if isinstance(star.parent, exp.Column) else None
    select = (column or star).parent
    if not isinstance(select, exp.Select):
        raise UntranslatableSql("exclude () outside a select list")
    table = column.table if column is not None else ""
    if table:  # the relation alone: through a USING join Spark puts the join's columns first
        sources = [select.args["from_"].this] + [join.this for join in select.args.get("joins") or []]
        source = next((s for s in sources if s.alias_or_name == table), None)
        if source is None:
            raise UntranslatableSql(f"{table}.* exclude (): no relation {table} in the from clause")
        probe = exp.select("*").from_(source.copy())
    else:
        probe = select.copy()
        for key in ("where", "group", "having", "order", "limit", "qualify", "distinct", "with_"):
            probe.set(key, None)
        probe.set("expressions", [exp.Star()])
    excluded = {e.name.lower() for e in star.args.get("except_") or []}
    names = [name for name, _ in columns_of(_with(_context_ctes(select), probe)) if name.lower() not in excluded]
    listed = [exp.column(name, table=table or None, quoted=True) for name in names]
    target = column or star
    position = select.expressions.index(target)
    select.set("expressions", select.expressions[:position] + listed + select.expressions[position + 1:])


def _union_parts(node: exp.Union) -> list[exp.Expression]:
    if isinstance(node.this, exp.Union) and node.this.args.get("by_name") and not node.this.args.get("distinct"):
        return _union_parts(node.this) + [node.expression]
    return [node.this, node.expression]


def _resolve_union(union: exp.Union, columns_of: Callable[[str], Columns]) -> exp.Expression:
    """`a union all by name b ...` -> the parts with one column list (DuckDB's order: the first part's
    columns, then each new name where it first appears), NULL of its type where a part lacks one."""
    if union.args.get("distinct"):
        raise UntranslatableSql("union by name: only `union all by name` translates")
    ctes = _context_ctes(union)
    parts = _union_parts(union)
    part_columns = [columns_of(_with(ctes, part)) for part in parts]
    order: list[str] = []
    types: dict[str, str] = {}
    for columns in part_columns:
        for name, type_ in columns:
            if name.lower() not in types:
                order.append(name)
                types[name.lower()] = type_
    selects = []
    for part, columns in zip(parts, part_columns):
        present = {name.lower() for name, _ in columns}
        listed = ", ".join(f"`{n}`" if n.lower() in present else f"cast(null as {types[n.lower()]}) as `{n}`"
                           for n in order)
        selects.append(f"select {listed} from ({_sql(part)}) as by_name_part")
    replacement = _spark_expression(" union all ".join(selects))
    if union.args.get("with_") is not None:
        replacement.set("with_", union.args["with_"].copy())
    return replacement


def translate(sql: str, columns_of: Callable[[str], Columns] | None = None) -> str:
    """Our DuckDB SQL (one statement) in Spark SQL. `columns_of(spark_sql)`: the (name, type) columns
    of a Spark query, needed for `* exclude (...)` and `union all by name` (store.spark reads them
    from Spark's analyser); without it those raise UntranslatableSql."""
    tree = sqlglot.parse_one(sql, read="duckdb")
    unknown = unknown_constructs(tree)
    if unknown:
        raise UntranslatableSql(f"SQL constructs not known to translate to Spark: {', '.join(unknown)}")
    tree = _rewrite_bottom_up(tree)
    for _ in range(1000):  # innermost and earliest first: a part's columns may need another one resolved
        pending = [n for n in tree.walk() if _needs_columns(n)]
        if not pending:
            return _sql(tree)
        if columns_of is None:
            raise UntranslatableSql("`* exclude` and `union all by name` need the relations' columns (columns_of)")
        node = next((n for n in pending
                     if not any(_needs_columns(inner) for inner in n.walk() if inner is not n)), pending[-1])
        if isinstance(node, exp.Star):
            _resolve_star(node, columns_of)
        else:
            replacement = _resolve_union(node, columns_of)
            if node is tree:
                tree = replacement
            else:
                node.replace(exp.Subquery(this=replacement) if isinstance(node.parent, exp.From) else replacement)
    raise UntranslatableSql("too many `* exclude` / `union all by name` to resolve")


# ---- what is known to translate ---------------------------------------------------------------

# Every SQLGlot node class the model and summary SQL may use: each is translated (by SQLGlot or by
# a rewrite above) and checked on both engines, on the same data, by tests/test_spark_conformance.py.
# A new construct in model SQL fails tests/test_spark_dialect.py until it is checked and added here.
KNOWN_CONSTRUCTS = frozenset({
    # queries and their clauses
    "Select", "Union", "Subquery", "With", "CTE", "From", "Join", "Where", "Group", "Having", "Order",
    "Ordered", "Distinct", "Window", "WindowSpec", "TableAlias", "Alias", "Table", "Column", "Identifier",
    "Star", "Values", "Tuple",
    # values and operators
    "Literal", "Boolean", "Null", "Placeholder", "Cast", "DataType", "DataTypeParam", "Interval", "Var", "Paren",
    "Add", "Sub", "Mul", "Div", "Mod", "Neg", "EQ", "NullSafeEQ", "GT", "GTE", "LT", "LTE", "And", "Or", "Not", "Is",
    "In", "Between", "Case", "If", "Coalesce", "Nullif", "Least", "Lower", "Floor",
    # aggregates and windows
    "Count", "Sum", "Min", "Max", "Avg", "Explode", "AnyValue", "IgnoreNulls", "ArgMax", "ArgMin", "LogicalOr",
    "Filter", "RowNumber", "Lag", "Lead", "FirstValue", "Ntile", "Anonymous",
    # dates
    "TimestampTrunc", "DateDiff",
    # DuckDB spellings of store.models.dialect, each rewritten above
    "ToDays", "TimeToUnix", "PercentileCont", "GenerateSeries", "ArrayAgg", "ReadParquet",
    # the import's checks (ingest.normalise.build_issues): text, lists and the first row
    "NEQ", "DPipe", "GroupConcat", "Bracket", "Limit", "Left", "Length",
    # the trailing year's bit sets of active months (kpi_combos.trailing_from_masks, kpi_trailing: greatest):
    # signed BIGINT, bits 0-62
    "BitwiseLeftShift", "BitwiseOrAgg", "BitwiseAnd", "Greatest",
    # the orders sample's guest orders (orders.orders_sample_sql): the same lower-case hex digest on both
    "MD5",
})
# Functions SQLGlot does not know by name (exp.Anonymous): only these, each rewritten above
KNOWN_FUNCTIONS = frozenset({"to_months", "to_days"})


def unknown_constructs(tree: exp.Expression) -> list[str]:
    """The SQLGlot node classes (and unnamed functions) in `tree` not in KNOWN_CONSTRUCTS, sorted."""
    found = set()
    for node in tree.walk():
        name = type(node).__name__
        if name not in KNOWN_CONSTRUCTS:
            found.add(name)
        elif isinstance(node, exp.Anonymous) and node.name.lower() not in KNOWN_FUNCTIONS:
            found.add(f"{node.name}()")
    return sorted(found)
