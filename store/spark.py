"""The Apache Spark engine: a DuckDB-like connection over a SparkSession that runs our SQL translated.

    from store.spark import SparkConnection, spark_session
    con = SparkConnection()                      # on spark_session(): $SPARK_MASTER or local[*]
    con.execute("select count(*) from orders where order_date >= $start", {"start": day}).fetchone()

`execute(sql, params)` takes the SQL the DuckDB build runs, unchanged: one statement in DuckDB's
dialect with `$name` parameters, translated by `store.models.dialect_spark.translate` and run with
Spark's own parameter markers (values never become SQL text). Statements understood: queries,
`create [or replace] [temp] view NAME as QUERY` (a Spark temporary view) and
`create [or replace] temp table NAME as QUERY` (a cached temporary view); `materialise` writes a
model's table to one Parquet file with the column names and types DuckDB would write (see there).

Each connection is its own Spark sub-session (`SparkSession.newSession`): its temporary views are
its own, the JVM and its executors are shared by every connection of the process. `close()` drops
the views; the session lives on for the next build. pyspark is imported only here, and only when a
Spark connection is asked for, so `make run` needs neither pyspark nor Java.
"""

import os
import re
import shutil
import uuid
from pathlib import Path

import duckdb
import pyarrow.parquet as pq

from store.models.dialect_spark import Columns, translate

SPARK_MASTER_ENV = "SPARK_MASTER"
DEFAULT_MASTER = "local[*]"

# Settings every session gets: the same results as DuckDB, and Parquet that DuckDB reads as it writes.
SESSION_CONF = {
    "spark.sql.session.timeZone": "UTC",  # epoch seconds and timestamp casts read wall-clock times as UTC
    "spark.sql.timestampType": "TIMESTAMP_NTZ",  # `timestamp` is DuckDB's TIMESTAMP (no time zone)
    "spark.sql.parquet.outputTimestampType": "TIMESTAMP_MICROS",  # never INT96
    "spark.sql.parquet.compression.codec": "zstd",
    "spark.sql.ansi.enabled": "true",  # Spark 4's default, stated: a bad cast fails instead of becoming NULL
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.shuffle.partitions": "8",  # local mode on small data; a cluster sets its own (spark-submit --conf)
}

_session = None


def spark_session(master: str | None = None, conf: dict[str, str] | None = None):
    """The process's SparkSession, started on first use: `master` (else $SPARK_MASTER, else local[*]),
    with SESSION_CONF and `conf`. Later calls return the same session (their arguments are ignored)."""
    global _session
    if _session is None:
        from pyspark.sql import SparkSession  # lazily: only the Spark engine needs pyspark and Java

        builder = SparkSession.builder.appName("repurchase-store")
        builder = builder.master(master or os.environ.get(SPARK_MASTER_ENV) or DEFAULT_MASTER)
        for key, value in {**SESSION_CONF, **(conf or {})}.items():
            builder = builder.config(key, value)
        _session = builder.getOrCreate()
        _session.sparkContext.setLogLevel("ERROR")
    return _session


def stop_spark_session() -> None:
    """Stop the process's SparkSession (tests, and a CLI run at its end)."""
    global _session
    if _session is not None:
        _session.stop()
        _session = None


_CREATE = re.compile(
    r"^\s*create\s+(or\s+replace\s+)?(temp\s+|temporary\s+)?(view|table)\s+(\w+)\s+as\s+(.*)$",
    re.IGNORECASE | re.DOTALL,
)

# DuckDB column types -> the Spark types that Spark writes to Parquet as DuckDB does
_SIMPLE_TYPES = {
    "BIGINT": "bigint", "INTEGER": "int", "SMALLINT": "smallint", "TINYINT": "tinyint", "BOOLEAN": "boolean",
    "DOUBLE": "double", "FLOAT": "float", "VARCHAR": "string", "DATE": "date", "TIMESTAMP": "timestamp_ntz",
    "TIMESTAMP WITH TIME ZONE": "timestamp_ltz",
    "HUGEINT": "double",  # DuckDB writes a HUGEINT (a sum of integers) to Parquet as DOUBLE
}


def spark_type(duckdb_type: str) -> str:
    """The Spark type whose Parquet column DuckDB reads back as `duckdb_type` (as DuckDB wrote it)."""
    text = duckdb_type.upper()
    if text in _SIMPLE_TYPES:
        return _SIMPLE_TYPES[text]
    if text.startswith("DECIMAL"):
        return text.lower()
    if text.endswith("[]"):
        return f"array<{spark_type(duckdb_type[:-2])}>"
    raise ValueError(f"no Spark type for DuckDB's {duckdb_type}")


def _used(params: dict | None, sql: str, marker: str) -> dict:
    """The parameters `sql` names (`marker` + name), as both engines refuse values for no marker."""
    return {name: value for name, value in (params or {}).items()
            if re.search(re.escape(marker + name) + r"\b", sql)}


class SparkConnection:
    """A DuckDB-like connection (execute, fetchone, fetchall, fetchdf, description, close) on Spark.

    A second, empty DuckDB connection (the "shape" connection) follows every view and table created
    here with no rows: it gives, for each table `materialise` writes, the exact column names and types
    the DuckDB build would have written, so both engines write the same Parquet schema."""

    def __init__(self, session=None):
        parent = session or spark_session()
        self.spark = parent.newSession()
        for key in SESSION_CONF:  # a new session's SQL settings start from the cluster's: take the parent's
            if key.startswith("spark.sql."):
                self.spark.conf.set(key, parent.conf.get(key))
        self._shape = duckdb.connect()
        self._shape.execute("set enable_progress_bar = false")
        self._frame = None
        self._rows = None
        self._views: list[str] = []

    # ---- the DuckDB connection's surface -------------------------------------------------------

    def execute(self, sql: str, params: dict | None = None) -> "SparkConnection":
        """Run one statement of our DuckDB SQL on Spark; a query's rows are then read with fetch*."""
        params = params or {}
        created = _CREATE.match(sql)
        self._frame, self._rows = None, None
        if created:
            replace, temporary, kind, name, query = created.groups()
            if kind.lower() == "table" and not temporary:
                raise ValueError("only temporary tables exist on the Spark connection")
            frame = self.sql(query, params)
            if kind.lower() == "table":
                frame = frame.localCheckpoint()  # computed once, like DuckDB's temp table
            frame.createOrReplaceTempView(name)
            self._views.append(name)
            self._follow_shape(name, query, params, kind.lower())
            return self
        self._frame = self.sql(sql, params)
        return self

    def sql(self, sql: str, params: dict | None = None):
        """A Spark DataFrame of our DuckDB query (translated; parameters bound by Spark)."""
        translated = translate(sql, lambda query: self.columns_of(query, params))
        return self._spark_sql(translated, params)

    def _spark_sql(self, spark_sql: str, params: dict | None):
        used = _used(params, spark_sql, ":")
        return self.spark.sql(spark_sql, args=used) if used else self.spark.sql(spark_sql)

    def columns_of(self, spark_sql: str, params: dict | None = None) -> Columns:
        """(name, Spark type) of a Spark query's columns, from Spark's analyser (nothing runs)."""
        schema = self._spark_sql(spark_sql, params).schema
        return [(field.name, field.dataType.simpleString()) for field in schema.fields]

    def _fetched(self) -> list[tuple]:
        if self._rows is None:
            if self._frame is None:
                raise RuntimeError("no query to fetch from")
            self._rows = [tuple(row) for row in self._frame.collect()]
        return self._rows

    def fetchall(self) -> list[tuple]:
        return list(self._fetched())

    def fetchone(self) -> tuple | None:
        rows = self._fetched()
        return rows[0] if rows else None

    def fetchdf(self):
        """The query's rows as a pandas DataFrame."""
        return self._frame.toPandas()

    df = fetchdf  # DuckDB's name for it, which metric functions use

    @property
    def description(self) -> list[tuple] | None:
        """(name, type, None...) per column of the last query, as DB-API."""
        if self._frame is None:
            return None
        return [(f.name, f.dataType.simpleString(), None, None, None, None, None) for f in self._frame.schema.fields]

    def has_table(self, name: str) -> bool:
        """Whether a table or view of this connection exists (dialect.has_table asks this)."""
        return self.spark.catalog.tableExists(name)

    def close(self) -> None:
        """Drop this connection's views (the Spark session stays up for the next one)."""
        for name in self._views:
            self.spark.catalog.dropTempView(name)
        self._views = []
        self._shape.close()

    def read_parquet_as(self, name: str, path: Path, columns: list[tuple[str, str]]) -> None:
        """The view `name` over the Parquet file or folder at `path`, whose (name, DuckDB type) columns
        are `columns`: Spark reads it, the shape connection gets an empty table of those columns."""
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)
        self._views.append(name)
        listed = ", ".join(f'"{column}" {type_}' for column, type_ in columns)
        self._shape.execute(f"create or replace temp table {name} ({listed})")

    # ---- writing a table -----------------------------------------------------------------------

    def materialise(self, name: str, sql: str | list[str], params: dict, path: Path) -> int:
        """Write the table `name` (a query, or parts written as their union all) to the Parquet file
        `path`, with DuckDB's column names, order and types; then `name` reads that file. Returns rows.

        Spark writes a folder of parts: the query is written as one part (`coalesce(1)`: the work
        before the last step stays parallel) and that part is moved to `path`, so the store's layout,
        its readers and its hard links (store.derived) are those of the DuckDB build."""
        parts = sql if isinstance(sql, list) else [sql]
        frame = None
        for part in parts:
            part_frame = self.sql(part, params)
            frame = part_frame if frame is None else frame.union(part_frame)
        union = " union all ".join(f"select * from ({part})" for part in parts)
        columns = self._follow_shape(name, union, params, "table")
        frame = self.as_duckdb_writes(frame, columns, name)
        folder = path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}.parts")
        frame.coalesce(1).write.mode("overwrite").parquet(str(folder))
        (part_file,) = sorted(folder.glob("part-*.parquet"))
        part_file.rename(path)
        shutil.rmtree(folder)
        self.spark.read.parquet(str(path)).createOrReplaceTempView(name)
        self._views.append(name)
        return pq.read_metadata(path).num_rows  # from the file's footer: no Spark job

    def _follow_shape(self, name: str, query: str, params: dict, kind: str) -> list[tuple[str, str]]:
        """Make `name` on the shape connection: the DuckDB view, or an empty table of the query's
        columns; return its (name, DuckDB type) columns."""
        if kind == "view":
            self._shape.execute(f"create or replace temp view {name} as {query}")
        else:
            used = _used(params, query, "$")
            self._shape.execute(f"create or replace temp table {name} as select * from ({query}) limit 0", used)
        return [(row[0], row[1]) for row in self._shape.execute(f"describe {name}").fetchall()]

    @staticmethod
    def as_duckdb_writes(frame, columns: list[tuple[str, str]], name: str):
        """`frame` with exactly DuckDB's columns (names, order, types); an error if Spark's names differ."""
        from pyspark.sql import functions as F

        spark_names = frame.columns
        if [c.lower() for c in spark_names] != [c.lower() for c, _ in columns]:
            raise ValueError(f"{name}: Spark built columns {spark_names}, DuckDB builds {[c for c, _ in columns]}")
        return frame.select(*[F.col(f"`{spark}`").cast(spark_type(type_)).alias(duck)
                              for spark, (duck, type_) in zip(spark_names, columns)])
