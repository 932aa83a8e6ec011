"""Experiment assignments derived from an order column (e.g. coupon_code): an observational comparison.

Rule, for a campaign period `start`..`end` (whole days, both included) and a list of values
(default: every value of the column on valid orders of identified customers in the period):
- every identified customer with a valid order in the period enters once;
- a customer with a valid order carrying one of the values enters at the first such order
  (ties: lowest order id), in the variant named after that value; every other customer enters at
  their first valid order in the period, in `control`;
- `assigned_at` is that entry order's timestamp. For derived experiments the metrics count only
  orders strictly after it (metrics.experiments), so the entry order is never an outcome, and the
  pre-period ends just before it;
- cost per customer, if given, is charged to the variant arms only (control received nothing).

Customers chose to use the value, so this is not a randomised test: a lift mixes the value's
effect with who chooses to use it (frequent buyers have more chances to use a code, and control
customers are by definition those who used none in the whole period). The batch is marked
`derived_from = <column>` and every page and summary calls it observational.

The assignments go through `import_assignments` (same validation, pseudonyms, batch, audit log
and removal as an uploaded file); the derived file is kept as the batch's original.
"""

import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import duckdb

from ingest.assignments import CONTROL_NAMES, import_assignments
from ingest.normalise import MACROS
from ingest.readers import ImportRefused
from store import Store, schema, sql_path

COLUMNS = schema.DIMENSIONS  # the order columns an experiment may be derived from
CONTROL = "control"

# Valid orders of identified customers in the period, with the chosen column as `value`.
# {column} is one of COLUMNS (checked), never user text.
PERIOD_SQL = """
create or replace temp table period_orders as
select customer_id, order_id, order_ts, {column} as value
from orders
where is_valid and customer_id is not null and order_ts >= $start and order_ts < $end
"""

ENTRIES_SQL = """
with first_use as (
    select customer_id, value as variant, order_ts as assigned_at
    from period_orders
    where list_contains($values, value)
    qualify row_number() over (partition by customer_id order by order_ts, order_id) = 1
),

first_order as (
    select
        customer_id,
        min(order_ts) as first_ts,
        count(distinct value) filter (where list_contains($values, value)) as values_used
    from period_orders
    group by customer_id
)

select
    first_order.customer_id,
    coalesce(first_use.variant, $control) as variant,
    coalesce(first_use.assigned_at, first_order.first_ts) as assigned_at,
    first_order.values_used
from first_order
left join first_use using (customer_id)
"""

EARLIER_USE_SQL = """
select count(distinct orders.customer_id)
from orders
join entries on entries.customer_id = orders.customer_id and entries.variant = $control
where orders.is_valid and orders.order_ts < $start and list_contains($values, orders.{column})
"""


def derive_assignments(store: Store, experiment: str, start: date, end: date, column: str = "coupon_code",
                       values: list[str] | None = None, strategy: str | None = None, cost: float | None = None,
                       user: str | None = None, via: str = "cli", pseudonym_key: str | None = None) -> dict:
    """Derive an observational experiment from orders.<column> and store it as an assignments batch.

    Returns the import report plus `experiment, design, derived_from, start, end, values, arms`
    (customers per variant) and `warnings`; raises ImportRefused (one sentence) and then changes nothing.
    """
    _check_request(column, start, end)
    with tempfile.TemporaryDirectory(prefix="derived-assignments-") as folder:
        con = store.connect()
        try:
            con.execute(MACROS)
            name = _experiment_name(con, experiment)
            values = _values(con, column, start, end, values)
            params = {"values": values, "control": CONTROL}
            con.execute(f"create temp table entries as {ENTRIES_SQL}", params)
            arms = dict(con.execute("select variant, count(*) from entries group by variant order by variant").fetchall())
            _check_arms(arms, column, start, end)
            warnings = _warnings(con, column, {**params, "start": start})
            path = Path(folder) / f"derived_{column}_{_slug(name)}.parquet"
            con.execute(
                f"""copy (
                    select $experiment as experiment, customer_id, variant, assigned_at, $strategy as strategy,
                        case when variant = $control then null else $cost end::decimal(18, 2) as cost_per_customer
                    from entries order by assigned_at, customer_id
                ) to {sql_path(path)} (format parquet)""",
                {"experiment": name, "strategy": strategy or None, "cost": cost, "control": CONTROL},
            )
        finally:
            con.close()
        derivation = {"column": column, "start": start.isoformat(), "end": end.isoformat(), "values": values,
                      "arms": arms, "rule": "first use of a value in the period, else first order in it (control)"}
        report = import_assignments(path, store, user=user, via=via, pseudonym_key=pseudonym_key, derived_from=column,
                                    details={"design": "observational", "derivation": derivation})
    return {**report, "experiment": name, "design": "observational", "derived_from": column,
            "start": start.isoformat(), "end": end.isoformat(), "values": values, "arms": arms,
            "warnings": [text for _, _, text in warnings] + report["warnings"],
            "warning_codes": [{"code": code, **values} for code, values, _ in warnings] + report["warning_codes"]}


def _check_request(column: str, start: date, end: date) -> None:
    if column not in COLUMNS:
        raise ImportRefused(f"Unknown order column {column!r}; derive an experiment from one of {', '.join(COLUMNS)}.",
                            code="derive_unknown_column", column=column, columns=", ".join(COLUMNS))
    if start > end:
        raise ImportRefused(f"The period starts ({start}) after it ends ({end}); give the start date first.",
                            code="derive_period_reversed", start=str(start), end=str(end))


def _experiment_name(con: duckdb.DuckDBPyConnection, experiment: str) -> str:
    """The name as the importer will store it; refused when empty or already taken."""
    name = con.execute("select clean_text($name)", {"name": experiment or ""}).fetchone()[0]
    if not name:
        raise ImportRefused("Give the experiment a name.", code="derive_no_name")
    taken = con.execute("select count(*) from assignments where experiment = $name", {"name": name}).fetchone()[0]
    if taken:
        raise ImportRefused(f"An experiment named {name!r} already exists; choose another name or remove its batch "
                            "first.", code="derive_name_taken", name=name)
    return name


def period_values(con: duckdb.DuckDBPyConnection, column: str, start: date, end: date) -> list[tuple[str, int]]:
    """(value, customers) of orders.<column> on valid orders of identified customers in the period,
    most customers first. Leaves the period's orders in the temp table `period_orders`."""
    _check_request(column, start, end)
    con.execute(PERIOD_SQL.format(column=column), {"start": start, "end": end + timedelta(days=1)})
    return con.execute(
        "select value, count(distinct customer_id) as customers from period_orders where value is not null "
        "group by value order by customers desc, value"
    ).fetchall()


def _values(con: duckdb.DuckDBPyConnection, column: str, start: date, end: date, wanted: list[str] | None) -> list[str]:
    """The values that make a variant: `wanted`, checked against those seen in the period, else all seen."""
    seen = [value for value, _ in period_values(con, column, start, end)]
    if not con.execute("select count(*) from period_orders").fetchone()[0]:
        raise ImportRefused(f"No valid orders of identified customers between {start} and {end}; "
                            "choose a period the stored orders cover.", code="derive_no_orders",
                            start=str(start), end=str(end))
    if not seen:
        raise ImportRefused(f"orders.{column} is empty on every valid order between {start} and {end}; "
                            "choose another column or period.", code="derive_empty_column", column=column,
                            start=str(start), end=str(end))
    wanted = list(dict.fromkeys(v.strip() for v in wanted or [] if v and v.strip())) or seen
    unknown = [v for v in wanted if v not in seen]
    if unknown:
        raise ImportRefused(f"{', '.join(map(repr, unknown))} never appears in orders.{column} between {start} and "
                            f"{end}; values seen: {', '.join(seen[:10])}{' …' if len(seen) > 10 else ''}.",
                            code="derive_unknown_values", values=", ".join(map(repr, unknown)), column=column, start=str(start),
                            end=str(end), seen=", ".join(seen[:10]) + (" …" if len(seen) > 10 else ""))
    clashing = [v for v in wanted if v.casefold() in CONTROL_NAMES]
    if clashing:
        raise ImportRefused(f"The value {clashing[0]!r} would be read as the control arm; leave it out of the values.",
                            code="derive_control_value", value=clashing[0])
    return wanted


def _check_arms(arms: dict[str, int], column: str, start: date, end: date) -> None:
    if not arms.get(CONTROL):
        raise ImportRefused(f"Every customer with an order between {start} and {end} used one of the values of "
                            f"orders.{column}, so there is no control group; list fewer values.",
                            code="derive_no_control", column=column, start=str(start), end=str(end))
    if len(arms) < 2:
        raise ImportRefused(f"No customer used one of the chosen values of orders.{column} between {start} and "
                            f"{end}, so there is nothing to compare; choose other values or another period.",
                            code="derive_no_variant", column=column, start=str(start), end=str(end))


def _warnings(con: duckdb.DuckDBPyConnection, column: str, params: dict) -> list[tuple[str, dict, str]]:
    """(code, values, English sentence) per warning: the app words the code, the CLI prints the sentence."""
    out = []
    several = con.execute("select count(*) from entries where values_used > 1").fetchone()[0]
    if several:
        out.append(("several_values_used", {"count": several},
                    f"{several:,} customers used more than one of the values in the period; each is counted in "
                    "the arm of the first value used."))
    earlier = con.execute(EARLIER_USE_SQL.format(column=column), params).fetchone()[0]
    if earlier:
        out.append(("control_used_before", {"count": earlier},
                    f"{earlier:,} control customers had used one of the values before the period."))
    return out


def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", name).strip("_")[:60] or "experiment"
