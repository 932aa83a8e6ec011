"""The row-by-row part of an import on Spark: `parsed` (every value cleaned and typed, one row per
record) built by Spark from the records it read (ingest.spark_reader), with the same SQL as on
DuckDB (`normalise.parsed_query`) spelled for Spark (`ingest.expressions.SparkSpelling`).

The checks across rows (duplicates, orders' sums), the roll-up into orders and the accounting then
read Spark's `parsed` in DuckDB, so both engines share one definition of every rule
(docs/scale-out.md says what runs where).
"""

import re
from pathlib import Path

import duckdb

from ingest.expressions import SparkSpelling
from ingest.mapping import Mapping
from ingest.normalise import parsed_query
from ingest.readers import RawTable
from ingest.spark_reader import _hadoop_path
from store import sql_path

PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")  # our `$name` markers; `$1` in a replacement is not one


def spark_parameters(sql: str, params: dict) -> tuple[str, dict]:
    """DuckDB's `$name` parameter markers as Spark's `:name`; a null value is written as a typed null
    (Spark binds values, not a missing one)."""
    nulls = {name for name, value in params.items() if value is None}
    sql = PARAMETER.sub(lambda m: "cast(null as string)" if m.group(1) in nulls else f":{m.group(1)}", sql)
    return sql, {name: value for name, value in params.items() if name not in nulls}


def build_parsed_on_spark(con: duckdb.DuckDBPyConnection, session, raw: RawTable, mapping: Mapping,
                          date_formats: list[str], refunds: str | None, work_dir: Path) -> None:
    """Create table `parsed` in `con` from Spark's reading of the file: the rows `raw` holds (numbered
    as in the file, skipped rows left out) parsed on Spark, with DuckDB's column types."""
    spark = session.newSession()  # its own temporary views: imports in one process do not meet
    spark.conf.set("spark.sql.legacy.timeParserPolicy", "CORRECTED")  # dates by our patterns only
    # one projection of ~25 long expressions: whole-stage Java code for it exceeds the JVM's 64 KB per
    # method, fails to compile and falls back anyway, after seconds of trying
    spark.conf.set("spark.sql.codegen.wholeStage", "false")
    _raw_view(con, spark, raw, work_dir, "raw_rows")
    spark.createDataFrame(list(mapping.status_words().items()), "word string, status string") \
        .createOrReplaceTempView("status_words")
    taken = {h.lower() for h in raw.headers}
    prefix = next(p for p in (f"_let{'_' * n}" for n in range(100)) if not any(t.startswith(p) for t in taken))
    x = SparkSpelling(prefix)
    sql, params = spark_parameters(*parsed_query(mapping, raw.first_data_row, date_formats, refunds, x=x))
    let_view(spark, x, "raw_rows", "raw")
    folder = Path(work_dir) / "parsed"
    spark.sql(sql, args=params).orderBy("_row").write.mode("overwrite").parquet(str(folder))
    # DuckDB's own types for every column (the same query on no rows), then Spark's rows into them
    con.execute("create or replace temp table status_words (word varchar, status varchar)")
    duck_sql, duck_params = parsed_query(mapping, raw.first_data_row, date_formats, refunds)
    con.execute(f"create table parsed as select * from ({duck_sql}) where false", duck_params)
    con.execute(f"insert into parsed select * from read_parquet({sql_path(folder / '*.parquet')})")


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

