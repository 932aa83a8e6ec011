"""Builds a store version's tables, rebuilt once per store change so that page views only run small queries.

Inputs are the views `batch_orders`, `batch_order_lines` and `batch_assignments` (every live batch,
with its `batch_seq`); outputs are written as Parquet files into a new version folder. What each
table holds, its SQL and its build order are in `store.models` (the registry lists them all):
the base models (orders, customers, order lines, assignments, the strategy tests' tables) and the
summaries (monthly KPI base counts, cohort groups, customer facts...), so that the usual page
views read a few hundred rows instead of every order.
"""

import os
import shutil
from pathlib import Path

import duckdb

from store.models.orders import order_part_sql, order_plan_sql, orders_sql
from store.models.registry import BUILD_ORDER, KEPT_ON_APPEND, MODELS


def sql_path(path: Path) -> str:
    """A file path as a quoted SQL string literal (paths are ours, never user text)."""
    return "'" + str(path).replace("'", "''") + "'"


# Written beside an orders table whose customer keys follow first appearance (first valid order, then
# id): only such a version can be appended to (an older one numbered keys by id; rebuilt once).
KEYS_MARKER = "customer_keys.txt"
KEYS_RULE = "customer keys: first valid order, then customer id\n"


def table_files(folder: Path, name: str) -> list[Path]:
    """The Parquet files of table `name` in a version folder, in order: `<name>.parquet`, then the parts
    an append added (`<name>.2.parquet`, `<name>.3.parquet`...); [] when the version has no such table."""
    first = folder / f"{name}.parquet"
    if not first.exists():
        return []
    parts = [p for p in folder.glob(f"{name}.*.parquet") if p.name.split(".")[1].isdigit()]
    return [first, *sorted(parts, key=_part_number)]


def read_files_sql(files: list[Path]) -> str:
    """`read_parquet(...)` of a table's files (paths are ours, never user text); one file without a list,
    the spelling every engine reads (a Spark-built table is always one file)."""
    if len(files) == 1:
        return f"read_parquet({sql_path(files[0])})"
    return f"read_parquet([{', '.join(sql_path(path) for path in files)}])"


def read_table_sql(name: str, files: list[Path]) -> str:
    """A relation reading table `name` from its files (`table_files`): the files together, or for a model
    whose second file replaces rows by key (`Model.replaced_by`), the first file's rows of the keys the
    second lacks, then the second's rows."""
    key = MODELS[name].replaced_by if name in MODELS else None
    if key is None or len(files) < 2:
        return read_files_sql(files)
    first, changed = read_files_sql(files[:1]), read_files_sql(files[1:])
    return (f"(select * from {first} where {key} not in (select {key} from {changed}) "
            f"union all select * from {changed})")


def link_table(name: str, source: Path, target: Path) -> None:
    """Hard-link every file of table `name` from version folder `source` into `target` (same names)."""
    for path in table_files(source, name):
        os.link(path, target / path.name)


def build_derived_tables(con: duckdb.DuckDBPyConnection, out_dir: Path, deduplicate: bool = True,
                         only: tuple[str, ...] | None = None) -> dict[str, int]:
    """Build the tables of the registry (`only` some of them) in build order from the batch views into
    out_dir; return row counts. Summaries are left out for a store without valid orders.
    `deduplicate=False` when a single batch holds every order (ids are unique within a batch)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    counts = {}
    has_valid_orders = None
    for name in BUILD_ORDER:
        model = MODELS[name]
        if only is not None and name not in only:
            continue
        if not model.empty_store:
            if has_valid_orders is None:
                has_valid_orders = con.execute("select count(*) from orders where is_valid").fetchone()[0] > 0
            if not has_valid_orders:
                continue
        if model.month_parts is not None and not hasattr(con, "materialise"):
            counts[name] = _write_month_parts(con, name, model.month_parts, out_dir, [], None)
            continue
        if name == "orders":
            counts[name] = _write_orders(con, deduplicate, out_dir)
            (out_dir / KEYS_MARKER).write_text(KEYS_RULE, encoding="utf-8")
            continue
        counts[name] = _materialise(con, name, *model.build(con), out_dir)
    return counts


# Batch rows per part of the orders table when it is written in parts (see _write_orders).
ORDER_PART_ROWS = 10_000_000


def _write_orders(con: duckdb.DuckDBPyConnection, deduplicate: bool, out_dir: Path) -> int:
    """Write the orders table (`orders_sql`); return its rows. Past ORDER_PART_ROWS batch rows, on
    DuckDB, the numbering is written first (`order_plan_sql`, narrow, one folder per batch and part)
    and then the table part by part, each joining its own rows' numbering: joined back in one go, the
    numbering of 100M orders is larger than the memory limit, and the join spilled the wide rows to
    disk and read them back (at 10M orders under a tenth of the memory: 89 s at once, 34 s in parts)."""
    batches = [] if hasattr(con, "materialise") else con.execute(  # another engine: one query
        "select batch_seq, count(*) from batch_orders group by batch_seq order by batch_seq").fetchall()
    if sum(rows for _, rows in batches) <= ORDER_PART_ROWS:
        return _materialise(con, "orders", orders_sql(deduplicate), {}, out_dir)
    plan_dir = out_dir / "order_plan.tmp"
    try:
        con.execute(f"copy ({order_plan_sql(deduplicate, ORDER_PART_ROWS)}) to {sql_path(plan_dir)} "
                    "(format parquet, partition_by (batch_seq, part), compression zstd, compression_level 1)")
        if not any(plan_dir.rglob("*.parquet")):  # nothing numbered nor replaced: the one query joins nothing
            return _materialise(con, "orders", orders_sql(deduplicate), {}, out_dir)
        plan = (f"select * from read_parquet({sql_path(plan_dir / '**' / '*.parquet')}, hive_partitioning = true) "
                "where batch_seq = $batch_seq and part = $part")
        files = []
        for batch_seq, rows in batches:
            for part in range(-(-rows // ORDER_PART_ROWS)):
                path = out_dir / ("orders.parquet" if not files else f"orders.{len(files) + 1}.parquet")
                con.execute(f"copy ({order_part_sql(plan)}) to {sql_path(path)} "
                            "(format parquet, compression zstd, compression_level 1)",
                            {"batch_seq": batch_seq, "part": part, "first_row": part * ORDER_PART_ROWS,
                             "end_row": (part + 1) * ORDER_PART_ROWS})
                files.append(path)
    finally:
        shutil.rmtree(plan_dir, ignore_errors=True)
    con.execute(f"create or replace temp view orders as select * from {read_files_sql(files)}")
    return con.execute("select count(*) from orders").fetchone()[0]


def _materialise(con: duckdb.DuckDBPyConnection, name: str, sql: str | list[str], params: dict, out_dir: Path) -> int:
    """Write the table straight to Parquet and read it back as a view (10M orders held in memory as a
    table would spill past the memory limit: writing directly saves a quarter of the time).
    A list of queries: small parts run one after another, then written as one table (kpi_base at 10M
    orders: 13.0 s at once, 10.4 s one after another)."""
    if hasattr(con, "materialise"):  # another engine's connection (store.spark) writes the same file its way
        return con.materialise(name, sql, params, out_dir / f"{name}.parquet")
    if isinstance(sql, list):
        con.execute(f"create or replace temp table {name}_parts as {sql[0]}", params)
        for part in sql[1:]:
            con.execute(f"insert into {name}_parts {part}", params)
        sql, params = f"select * from {name}_parts", {}
    path = sql_path(out_dir / f"{name}.parquet")
    # zstd level 1: 7% larger than the default level 3, 0.4 s less for the 10M-row orders table
    con.execute(f"copy ({sql}) to {path} (format parquet, compression zstd, compression_level 1)", params)
    con.execute(f"create or replace temp view {name} as select * from read_parquet({path})")
    return con.execute(f"select count(*) from {name}").fetchone()[0]


def append_derived_tables(con: duckdb.DuckDBPyConnection, out_dir: Path, previous_dir: Path,
                          only: tuple[str, ...] | None = None) -> dict[str, int]:
    """Build the tables (`only` some of them) after an append of later orders (views `new_batch_orders`,
    `new_batch_order_lines`) into out_dir from the previous version's tables in previous_dir (views
    `previous_<name>`): the tables that read no orders linked unchanged; a model with `append_rows` gets
    the previous version's files linked and one more file holding only the new rows (view `new_<name>`:
    those rows); the other models with an `append` builder are written from it (a late or `previous_optional`
    table the previous version lacks: built whole), the rest rebuilt. Return row counts."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if only is None or "orders" in only:
        os.link(previous_dir / KEYS_MARKER, out_dir / KEYS_MARKER)
    for name in BUILD_ORDER:
        files = table_files(previous_dir, name)
        if files:
            con.execute(f"create or replace temp view previous_{name} as select * from {read_table_sql(name, files)}")
    counts = {}
    for name in BUILD_ORDER:
        model = MODELS[name]
        if only is not None and name not in only:
            continue
        if (model.late or model.previous_optional) and model.append is not None and not table_files(previous_dir, name):
            counts[name] = _materialise(con, name, *model.build(con), out_dir)
        elif name in KEPT_ON_APPEND:
            link_table(name, previous_dir, out_dir)
            con.execute(f"create or replace temp view {name} as select * from previous_{name}")
            counts[name] = con.execute(f"select count(*) from {name}").fetchone()[0]
        elif model.month_parts is not None:
            counts[name] = _append_month_parts(con, name, model.month_parts, out_dir, previous_dir)
        elif model.append is not None and model.append_rows:
            counts[name] = _append_rows(con, name, model, out_dir, previous_dir)
        elif model.append is not None and model.replaced_by:
            counts[name] = _append_replacing(con, name, model, out_dir, previous_dir)
        elif model.append is not None:
            sql, params = model.append(con)
            counts[name] = _materialise(con, name, sql, params, out_dir)
        else:
            sql, params = model.build(con)
            counts[name] = _materialise(con, name, sql, params, out_dir)
    return counts


def move_views(con: duckdb.DuckDBPyConnection, moves: dict[Path, Path]) -> None:
    """Point the connection's temporary views at the folders their files were moved to (`moves`: old -> new
    folder): the tables built after a version is published read the ones built before, now in place."""
    replacements = {sql_path(old)[1:-1] + "/": sql_path(new)[1:-1] + "/" for old, new in moves.items()}
    for name, sql in con.execute("select view_name, sql from duckdb_views() where temporary").fetchall():
        moved = sql
        for old, new in replacements.items():
            moved = moved.replace(old, new)
        if moved != sql:
            con.execute(moved.replace("CREATE TEMP VIEW", "CREATE OR REPLACE TEMP VIEW", 1))


def _append_rows(con: duckdb.DuckDBPyConnection, name: str, model, out_dir: Path, previous_dir: Path) -> int:
    """Link the previous version's files of `name` and write the new rows as one more file; the view
    `name` reads them all, `new_<name>` the new file. Only the new rows are written; when the
    builder gives no SQL, the table is built whole instead."""
    sql, params = model.append(con)
    if sql is None:
        return _materialise(con, name, *model.build(con), out_dir)
    previous = table_files(previous_dir, name)
    link_table(name, previous_dir, out_dir)
    new_path = out_dir / f"{name}.{len(previous) + 1}.parquet"
    con.execute(f"copy ({_as_previous(con, name, sql, params)}) to {sql_path(new_path)} "
                "(format parquet, compression zstd, compression_level 1)", params)
    con.execute(f"create or replace temp view new_{name} as select * from read_parquet({sql_path(new_path)})")
    con.execute(f"create or replace temp view {name} as select * from {read_files_sql([*previous, new_path])}")
    return con.execute(f"select count(*) from {name}").fetchone()[0]


def _as_previous(con: duckdb.DuckDBPyConnection, name: str, sql: str, params: dict) -> str:
    """`sql`'s rows with the previous version's columns of `name`, in their order and types (one schema for
    the files of a table); a column the rows lack is null (store._append_from refuses new columns)."""
    columns = con.execute(f"describe previous_{name}").fetchall()
    present = {c[0] for c in con.execute(f"select * from ({sql}) as new_rows limit 0", params).description}
    projected = ", ".join(f'cast({quoted if column in present else "null"} as {sql_type}) as {quoted}'
                          for column, sql_type, *_ in columns for quoted in [f'"{column}"'])
    return f"select {projected} from ({sql}) as new_rows"


# a table whose changed rows are kept in a second file is written whole again once they reach this share of
# its first file's rows: each read skips the first file's replaced rows, so the second file stays small
CHANGED_ROWS_SHARE = 0.25


def _append_replacing(con: duckdb.DuckDBPyConnection, name: str, model, out_dir: Path, previous_dir: Path) -> int:
    """After an append, table `name` (a model with `replaced_by`): the rows its `append` gives replace the
    rows of their keys. The previous first file stays linked and the changed rows (the earlier changes kept,
    the new ones) are written as the second file, whose rows replace the first's (`read_table_sql`); once
    those reach CHANGED_ROWS_SHARE of the first file's rows, the table is written whole again."""
    key = model.replaced_by
    sql, params = model.append(con)
    con.execute(f"create or replace temp table changed_{name} as {_as_previous(con, name, sql, params)}", params)
    previous = table_files(previous_dir, name)
    first_rows = con.execute(f"select count(*) from {read_files_sql(previous[:1])}").fetchone()[0]
    earlier = read_files_sql(previous[1:]) if len(previous) > 1 else None
    changed = con.execute(f"select count(*) from changed_{name}").fetchone()[0] + (
        con.execute(f"select count(*) from {earlier}").fetchone()[0] if earlier else 0)
    unchanged = f"select * from {{}} where {key} not in (select {key} from changed_{name})"
    if changed > CHANGED_ROWS_SHARE * first_rows:
        return _materialise(con, name, f"{unchanged.format(f'previous_{name}')} union all select * from changed_{name}",
                            {}, out_dir)
    os.link(previous[0], out_dir / previous[0].name)
    files = [out_dir / previous[0].name, out_dir / f"{name}.2.parquet"]
    kept = f"{unchanged.format(earlier)} union all " if earlier else ""
    con.execute(f"copy ({kept}select * from changed_{name}) to {sql_path(files[1])} "
                "(format parquet, compression zstd, compression_level 1)")
    con.execute(f"create or replace temp view {name} as select * from {read_table_sql(name, files)}")
    return con.execute(f"select count(*) from {name}").fetchone()[0]


def _part_number(path: Path) -> int:
    """1 for `<name>.parquet`, n for `<name>.n.parquet`."""
    parts = path.name.split(".")
    return int(parts[1]) if len(parts) == 3 else 1


def _write_month_parts(con: duckdb.DuckDBPyConnection, name: str, month_parts, out_dir: Path,
                       kept: list[Path], since) -> int:
    """Write table `name`'s months from `since` (None: every month) beside the `kept` files (its rows
    before `since`, already in out_dir): the months before the last valid order's month in one file,
    that month in another, so that the next append of later orders can link the first. Then the view
    `name` reads every file. Returns the table's rows."""
    last_day = con.execute("select last_valid_date from order_facts").fetchone()[0]  # not a scan of every order
    last_month = last_day.replace(day=1) if last_day else None
    number = max((_part_number(path) for path in kept), default=0)
    files = list(kept)
    for start, until in ((since, last_month), (last_month if since is None else max(since, last_month), None)):
        if start is not None and until is not None and start >= until:
            continue
        earlier = read_files_sql(files) if files else None
        sql, params = month_parts.rows(con, start, until, earlier)
        number += 1
        path = out_dir / (f"{name}.parquet" if number == 1 else f"{name}.{number}.parquet")
        written = con.execute(f"copy ({sql}) to {sql_path(path)} "
                              "(format parquet, compression zstd, compression_level 1)", params).fetchone()[0]
        if written == 0 and number > 1:  # no rows in these months (an append without valid orders)
            path.unlink()
            number -= 1
            continue
        files.append(path)
    con.execute(f"create or replace temp view {name} as select * from {read_files_sql(files)}")
    return con.execute(f"select count(*) from {name}").fetchone()[0]


def _append_month_parts(con: duckdb.DuckDBPyConnection, name: str, month_parts, out_dir: Path,
                        previous_dir: Path) -> int:
    """After an append: link the previous version's parts of `name` that end before the first month
    the append changes, and write the months from the first unlinked part's first month again."""
    since = month_parts.changed_from(con)
    kept = []
    column = month_parts.column
    for path in table_files(previous_dir, name) if since is not None else []:  # None: every month again
        first, last = con.execute(f"select cast(min({column}) as date), cast(max({column}) as date) "
                                  f"from {read_files_sql([path])}").fetchone()
        if last is not None and last >= since:
            since = min(since, first)
            break
        os.link(path, out_dir / path.name)
        kept.append(out_dir / path.name)
    return _write_month_parts(con, name, month_parts, out_dir, kept, since)
