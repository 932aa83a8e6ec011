"""The row-by-row part of an import on Spark: `parsed` (every value cleaned and typed, one row per
record) built by Spark from the records it read (ingest.spark_reader), with the same SQL as on
DuckDB (`normalise.parsed_query`) spelled for Spark (`ingest.expressions.SparkSpelling`).

Then the checks across rows (duplicates, rejected siblings, orders' sums) and the roll-up into orders
run on Spark too, through store.spark.SparkConnection, with the SQL the DuckDB import runs
(`normalise.build_issues`, `orders_query`, `lines_query`): one definition of every rule. DuckDB then
reads back only what the report and the record equation need: the issue list and the orders
written (docs/scale-out.md says what runs where).
"""

import re
from pathlib import Path
from typing import Callable

import duckdb

from ingest import privacy
from ingest.expressions import SparkSpelling
from ingest.mapping import Mapping
from ingest.normalise import (
    ParseSettings,
    build_issues,
    choose_date_order,
    lines_query,
    orders_query,
    parsed_query,
    read_orders_back,
    refund_rule,
    row_order_id_sql,
)
from ingest.readers import RawTable
from ingest.spark_reader import _hadoop_path
from store import sql_path
from store.spark import SparkConnection

# privacy.CONTACT_PATTERN (RE2) for Java: RE2's \s is [\t\n\f\r ], Java's also matches a vertical tab
# (every \s of the pattern is inside a [...] class, where the characters are written out instead)
JAVA_CONTACT_PATTERN = privacy.CONTACT_PATTERN.replace("\\s", "\\t\\n\\f\\r ")
PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")  # our `$name` markers; `$1` in a replacement is not one


def spark_parameters(sql: str, params: dict) -> tuple[str, dict]:
    """DuckDB's `$name` parameter markers as Spark's `:name`; a null value is written as a typed null
    (Spark binds values, not a missing one)."""
    nulls = {name for name, value in params.items() if value is None}
    sql = PARAMETER.sub(lambda m: "cast(null as string)" if m.group(1) in nulls else f":{m.group(1)}", sql)
    return sql, {name: value for name, value in params.items() if name not in nulls}


def build_parsed_on_spark(con: duckdb.DuckDBPyConnection, session, raw: RawTable, mapping: Mapping,
                          work_dir: Path) -> tuple[SparkConnection, tuple[list[str], str], str | None]:
    """`parsed` built by Spark from its reading of the file (the rows `raw` holds, numbered as in the
    file, skipped rows left out), with DuckDB's column types, written to the work folder, after the
    file's date order and refund rule were read from its rows, also on Spark. Returns the Spark
    connection on which the checks run (its view `parsed` reads that folder), ((date formats, date
    order), refund rule)."""
    spark = session.newSession()  # its own temporary views: imports in one process do not meet
    spark.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")  # dates by our patterns only
    # one projection of ~25 long expressions: whole-stage Java code for it exceeds the JVM's 64 KB per
    # method, fails to compile and falls back anyway, after seconds of trying
    spark.conf.set("spark.sql.codegen.wholeStage", "false")
    _raw_view(con, spark, raw, work_dir, "raw_rows")
    taken = {h.lower() for h in raw.headers}
    prefix = next(p for p in (f"_let{'_' * n}" for n in range(100)) if not any(t.startswith(p) for t in taken))
    dates, amounts = SparkSpelling(prefix), SparkSpelling(prefix)  # each query names its own columns
    date_order = choose_date_order(_first_row(spark, dates), mapping, dates)
    refunds = refund_rule(_first_row(spark, amounts), mapping, amounts)
    date_formats = date_order[0]
    spark.createDataFrame(list(mapping.status_words().items()), "word string, status string") \
        .createOrReplaceTempView("status_words")
    x = SparkSpelling(prefix)
    sql, params = spark_parameters(*parsed_query(mapping, raw.first_data_row, date_formats, refunds, x=x))
    let_view(spark, x, "raw_rows", "raw")
    # DuckDB's own types for every column (the same query on no rows), Spark's values cast to them
    con.execute("create or replace temp table status_words (word varchar, status varchar)")
    duck_sql, duck_params = parsed_query(mapping, raw.first_data_row, date_formats, refunds)
    columns = [(row[0], row[1]) for row in con.execute(f"describe select * from ({duck_sql}) where false",
                                                       duck_params).fetchall()]
    folder = Path(work_dir) / "parsed"
    frame = SparkConnection.as_duckdb_writes(spark.sql(sql, args=params), columns, "parsed")
    frame.orderBy("_row").write.mode("overwrite").parquet(str(folder))
    checks = SparkConnection(session)
    checks.read_parquet_as("parsed", folder, columns)
    return checks, date_order, refunds


def _first_row(spark, x: SparkSpelling) -> Callable[[str], tuple]:
    """run(sql) -> the first row of a query on `raw` spelled by `x`: the view `raw` is `raw_rows` with
    the columns x's expressions named (made when the query is run, once x knows them)."""
    def run(sql: str) -> tuple:
        let_view(spark, x, "raw_rows", "raw")
        return tuple(spark.sql(sql).collect()[0])
    return run


def check_on_spark(con: duckdb.DuckDBPyConnection, checks: SparkConnection, mapping: Mapping,
                   settings: ParseSettings, latest_allowed, table_path: Callable[[str], Path], work_dir: Path,
                   pseudonymised: bool) -> int:
    """The checks across rows and the roll-up into orders on Spark, from the view `parsed` of
    `checks`: the same SQL as on DuckDB (normalise.build_issues, orders_query, lines_query). Writes
    the batch's orders and lines; leaves in `con` the table `issues` and the views `orders_out`,
    `lines_out` (and, when ids are pseudonymised, `parsed` holding the rejected rows the batch keeps).
    Returns the number of accepted rows."""
    build_issues(checks, mapping, settings, latest_allowed)
    scratch = Path(work_dir) / "checks"  # not a batch table: only the staging folder's *.parquet are published
    scratch.mkdir(exist_ok=True)
    found = scratch / "issues.parquet"
    checks.materialise("issues_found", "select * from issues", {}, found)
    con.execute(f"create table issues as select * from read_parquet({sql_path(found)})")
    checks.materialise("orders", orders_query(mapping, settings.refunds), {}, table_path("orders"))
    lines = lines_query(mapping)
    if lines is not None:
        checks.materialise("order_lines", lines, {}, table_path("order_lines"))
    read_orders_back(con, table_path, lines is not None)
    if pseudonymised:  # the batch keeps rejected rows as pseudonymised in `parsed`: only those come back
        rejected = scratch / "rejected_parsed.parquet"
        checks.materialise("rejected_parsed", "select * from parsed where _row in "
                           "(select row from issues where severity = 'rejected')", {}, rejected)
        con.execute(f"create view parsed as select * from read_parquet({sql_path(rejected)})")
    return checks.execute("select count(*) from accepted").fetchone()[0]


def number_rows_as_orders_on_spark(checks: SparkConnection) -> None:
    """normalise.number_rows_as_orders on Spark's `parsed`: each row one order, its id made by the same SQL."""
    spark, x = checks.spark, SparkSpelling()
    columns = ", ".join(f"{row_order_id_sql(x)} as order_id" if c == "order_id" else x.ident(c)
                        for c in spark.table("parsed").columns)
    spark.sql(f"select {columns} from parsed").localCheckpoint().createOrReplaceTempView("parsed")


def pseudonymise_on_spark(checks: SparkConnection, key: str, contact_columns: dict[str, list[str]]) -> dict[str, int]:
    """privacy.pseudonymise_column and pseudonymise_contacts on Spark's `parsed`: the same pseudonyms
    (computed in Python, for the distinct values only) put in place by a join. Returns the rows
    changed per contact column, as pseudonymise_contacts does."""
    from pyspark.sql import functions as F

    secret = privacy.check_key(key)
    spark = checks.spark
    frame = spark.table("parsed")
    ids = [row[0] for row in frame.where(F.col("customer_id").isNotNull()).select("customer_id").distinct().collect()]
    pairs = spark.createDataFrame([(v, privacy.pseudonym(v, secret)) for v in ids], "raw_id string, pseudonym string")
    # no broadcast hint: a lake's customers may be far more than an executor should hold; Spark chooses
    frame = (frame.join(pairs, frame["customer_id"] == pairs["raw_id"], "left")
             .withColumn("customer_id", F.col("pseudonym")).select(*frame.columns))
    changed = {}
    for column, derived in contact_columns.items():
        found = [row[0] for row in frame.where(F.col(column).rlike(JAVA_CONTACT_PATTERN))
                 .select(column).distinct().collect()]
        if not found:
            continue
        pairs = spark.createDataFrame([(v, privacy.contact_pseudonym(v, secret)) for v in found],
                                      "raw_value string, pseudonym string")
        joined = frame.join(pairs, frame[column] == pairs["raw_value"], "left").localCheckpoint()
        hit = F.col("raw_value").isNotNull()
        changed[column] = joined.where(hit).count()
        replaced = {column: F.when(hit, F.col("pseudonym")).otherwise(F.col(column)),
                    **{d: F.when(hit, F.lit(None)).otherwise(F.col(d)).cast(frame.schema[d].dataType) for d in derived}}
        frame = joined.select(*[replaced.get(c, F.col(c)).alias(c) for c in frame.columns])
    frame.localCheckpoint().createOrReplaceTempView("parsed")
    return changed


def let_view(spark, x: SparkSpelling, source: str, target: str) -> None:
    """The view `target`: `source` with the columns x's expressions named (SparkSpelling.lets)."""
    first, second = x.lets()
    for view, lets, name in ((source, first, f"{target}_lets"), (f"{target}_lets", second, target)):
        extra = "".join(f", {expression} as {column}" for column, expression in lets)
        spark.sql(f"select *{extra} from {view}").createOrReplaceTempView(name)


def _raw_view(con: duckdb.DuckDBPyConnection, spark, raw: RawTable, work_dir: Path, name: str) -> None:
    """The Spark view `raw` as DuckDB's: the file's headers, `rowid` moved down past empty lines
    (records.number_rows_as_in_file) and the skipped rows (records.mark_skipped_rows) left out."""
    x = SparkSpelling()
    empty = raw.counted.empty_lines if raw.counted else ()
    starts = [index - k for k, index in enumerate(empty)]
    rowid = (f"_rowid + size(filter(array({', '.join(str(int(s)) for s in starts)}), s -> s <= _rowid))"
             if starts else "_rowid")
    columns = ", ".join(f"c{i} as {x.ident(header)}" for i, header in enumerate(raw.headers))
    skipped = [row[0] for row in con.execute("select rowid from skipped_rows").fetchall()]
    spark.read.parquet(_hadoop_path(Path(work_dir) / "file" / "raw")).createOrReplaceTempView("raw_file")
    spark.sql(f"select {columns}, {rowid} as rowid from raw_file").createOrReplaceTempView("raw_numbered")
    keep = f" where rowid not in ({', '.join(str(int(r)) for r in skipped)})" if skipped else ""
    spark.sql(f"select * from raw_numbered{keep}").createOrReplaceTempView(name)

