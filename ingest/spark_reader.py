"""Read an export with Apache Spark (`python -m ingest ... --engine spark`) into `raw`.

Spark reads the records (Parquet files, folders and globs; a CSV file) and writes them once, every
value as text, to a Parquet folder in the work folder with `_rowid` (the record's index in the
input, in file order); `raw` is then the same DuckDB view `ingest.readers` makes, so mapping,
validation and the record equation read the very same rows whichever engine read them
(docs/scale-out.md). Excel and JSON are read by DuckDB only: refused with `--engine spark`.

pyspark is imported here only, and only when Spark is asked for.
"""

import glob
import json
import re
from pathlib import Path

import duckdb

from ingest.readers import (
    MAX_COLUMNS,
    QUOTE,
    ImportRefused,
    RawTable,
    RecordCount,
    _check_line_length,
    _check_parquet,
    _file_kind,
    _to_utf8,
    _unique,
    count_csv_records,
    csv_headers,
    detect_encoding,
    from_header,
    sniff_delimiter,
)
from ingest.normalise import _ident
from store import clean_file_name, sql_path

JSON_SUFFIXES = {".json", ".jsonl", ".ndjson"}
GLOB_CHARACTERS = set("*?[")


def is_multi_file(source: str | Path) -> bool:
    """Whether `source` names a folder or a glob pattern rather than one file."""
    text = str(source)
    return Path(text).is_dir() or any(ch in text for ch in GLOB_CHARACTERS)


def source_files(source: str | Path) -> list[Path]:
    """The files a source stands for, in the order their records are numbered: one file as it is; a
    folder's Parquet files (sub-folders too, hidden and `_`-prefixed files skipped, as Spark does);
    a glob's matches; each sorted by path."""
    text = str(source)
    if Path(text).is_dir():
        files = [p for p in Path(text).rglob("*")
                 if p.is_file() and not any(part.startswith((".", "_")) for part in p.relative_to(text).parts)]
    elif any(ch in text for ch in GLOB_CHARACTERS):
        files = [Path(p) for p in glob.glob(text, recursive=True) if Path(p).is_file()]
    else:
        return [Path(text)]
    return sorted(files)


def load_raw_spark(con: duckdb.DuckDBPyConnection, spark, source: str | Path, work_dir: Path) -> RawTable:
    """Create the view `raw` in `con` from what Spark reads at `source`; raise ImportRefused if it
    cannot be read. `spark` is a SparkSession."""
    name = clean_file_name(Path(str(source)).name)
    files = source_files(source)
    if not files:
        raise ImportRefused(f"{name}: no file found there; check the path and try again.", code="file_not_found",
                            file=name)
    for path in files:
        if not path.is_file():
            raise ImportRefused(f"{path.name}: file not found; check the path and try again.", code="file_not_found",
                                file=path.name)
    kinds = {path: _spark_kind(path) for path in files}
    if len(files) > 1 and set(kinds.values()) != {"parquet"}:
        other = next(p for p, k in kinds.items() if k != "parquet")
        raise ImportRefused(
            f"{name}: a folder or pattern is read as Parquet files only, and {other.name} is not one; import CSV "
            "files one by one.", code="spark_folder_not_parquet", file=name, other=clean_file_name(other.name))
    if kinds[files[0]] == "parquet":
        return _load_parquet(con, spark, files, work_dir, name)
    return _load_csv(con, spark, files[0], work_dir)


def _spark_kind(path: Path) -> str:
    if path.stat().st_size == 0:
        raise ImportRefused(f"{path.name}: the file is empty; export it again and upload the new file.",
                            code="empty_file", file=path.name)
    suffix = path.suffix.lower()
    kind = _file_kind(path)  # refuses archives, programs, misnamed files... as the DuckDB engine does
    if kind == "excel" or suffix in JSON_SUFFIXES:
        file_format = "Excel" if kind == "excel" else "JSON"
        raise ImportRefused(
            f"{path.name}: {file_format} files are read by the default engine only; import it without --engine "
            "spark, or save it as CSV or Parquet.", code="spark_format_unsupported", file=path.name,
            format=file_format)
    return kind


# a double as DuckDB writes it (the shortest text that reads back: 17850.0, 38.7, 12345678.5) where Spark's own
# cast goes to exponents from 10 million on (1.785E4 is 17850.0 past that: a customer number stored twice)
DOUBLE_AS_DUCKDB_BELOW = 1e16  # DuckDB writes 1e+16 from here on, as Spark does in its own way: left to Spark


def _as_text(column, data_type):
    """A Parquet column as text, as DuckDB's reader gives it: doubles below DOUBLE_AS_DUCKDB_BELOW through a
    decimal of 9 places without its trailing zeros (12345678.0, not 1.2345678E7); anything else by Spark's cast."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import DoubleType

    if not isinstance(data_type, DoubleType):
        return column.cast("string")
    plain = F.regexp_replace(F.regexp_replace(column.cast("decimal(38, 9)").cast("string"), "0+$", ""), "\\.$", ".0")
    return F.when(F.abs(column) < DOUBLE_AS_DUCKDB_BELOW, plain).otherwise(column.cast("string"))


def _load_parquet(con, spark, files: list[Path], work_dir: Path, name: str) -> RawTable:
    """Parquet on Spark: every column cast to text; `_rowid` = the rows of the files before (their
    metadata's counts) + the row's index in its file, so records are numbered in file order."""
    from pyspark.sql import functions as F

    counts = [_check_parquet(path) for path in files]  # refuses broken or oversized files, as on DuckDB
    offsets, total = {}, 0
    for path, counted in zip(files, counts):
        offsets[path.resolve()] = total
        total += counted.records
    try:
        frame = spark.read.parquet(*[_hadoop_path(path) for path in files])
        names = list(frame.columns)
        if len(names) > MAX_COLUMNS:
            raise ImportRefused(f"{name}: the file has {len(names):,} columns, far more than an order export; "
                                "check that it is the right file and upload it again.", code="too_many_columns",
                                file=name, columns=len(names))
        # each file's offset under the path Spark spells (a URI): read back, not guessed
        spelled = [row[0] for row in frame.select("_metadata.file_path").distinct().collect()]
        offset_rows = spark.createDataFrame([(s, offsets[_local_path(s)]) for s in spelled],
                                            "file_path string, offset long")
        text = frame.select(
            *[_as_text(F.col(f"`{field.name}`"), field.dataType).alias(f"c{i}") for i, field in enumerate(frame.schema)],
            F.col("_metadata.file_path").alias("_file_path"), F.col("_metadata.row_index").alias("_row_index"),
        )
        numbered = (text.join(F.broadcast(offset_rows), text["_file_path"] == offset_rows["file_path"], "left")
                    .select(*[f"c{i}" for i in range(len(names))],
                            (F.col("offset") + F.col("_row_index")).alias("_rowid"))
                    .orderBy("_rowid"))  # parts in record order: Spark packs files into partitions by size
        folder = _write(numbered, work_dir)
    except ImportRefused:
        raise
    except Exception as error:  # py4j and Spark raise many kinds: the first line says which
        first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ImportRefused(f"{name}: could not be read as Parquet ({first_line}); write the file again and upload it.",
                            code="bad_parquet", file=name, error=first_line) from error
    _create_raw_view(con, folder, _unique(names))
    counted = RecordCount(total, None, "parquet metadata")
    return _describe(con, name, counted, encoding=None, delimiter=None)


def _load_csv(con, spark, path: Path, work_dir: Path) -> RawTable:
    """A CSV file on Spark, with the same options DuckDB's reader is given (nothing sniffed by Spark,
    no comment character, quotes as RFC 4180, every column as text); the record count and the
    check for records wider than the header come from Python's csv module, as on DuckDB."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import StringType, StructField, StructType
    from pyspark.sql.window import Window

    encoding = detect_encoding(path)
    readable = path if encoding == "utf-8" else _to_utf8(path, encoding, work_dir / "utf8.csv")
    _check_line_length(path, readable)
    readable, above = from_header(readable, work_dir)
    delimiter = sniff_delimiter(readable)
    headers = csv_headers(path, readable, delimiter)
    counted, wider = _count_and_width(readable, delimiter, len(headers))
    counted = counted.with_blank_lines_above_header(above)
    if wider is not None:
        record, fields = wider
        error = f"record {record + 1:,}: Expected Number of Columns: {len(headers)} Found: {fields}"
        raise ImportRefused(f"{path.name}: could not be read as CSV ({error}); check that it is a comma, "
                            "semicolon or tab separated export and upload it again.", code="bad_csv",
                            file=path.name, error=error)
    schema = StructType([StructField(f"c{i}", StringType()) for i in range(len(headers))])
    try:
        frame = (spark.read.schema(schema)
                 .option("header", True).option("sep", delimiter).option("quote", '"').option("escape", '"')
                 .option("multiLine", True).option("mode", "PERMISSIVE").option("encoding", "UTF-8")
                 .option("ignoreLeadingWhiteSpace", False).option("ignoreTrailingWhiteSpace", False)
                 .option("maxCharsPerColumn", -1).option("enforceSchema", True)
                 .csv(_hadoop_path(readable)))
        # one file read with multiLine is one partition in file order: the id's order is the file's
        numbered = frame.withColumn("_rowid", F.row_number().over(Window.orderBy(F.monotonically_increasing_id())) - 1)
        folder = _write(numbered, work_dir)
    except Exception as error:
        first_line = str(error).strip().splitlines()[0][:200] if str(error).strip() else type(error).__name__
        raise ImportRefused(f"{path.name}: could not be read as CSV ({first_line}); check that it is a comma, "
                            "semicolon or tab separated export and upload it again.", code="bad_csv",
                            file=path.name, error=first_line) from error
    _create_raw_view(con, folder, headers)
    return _describe(con, path.name, counted, encoding=encoding, delimiter=delimiter, first_data_row=2 + above)


def _hadoop_path(path: Path) -> str:
    """A file's absolute path for Spark's reader, its glob characters escaped: a file named
    `orders [1].csv` is that file, not a pattern."""
    return re.sub(r"([\\\[\]{}*?])", r"\\\1", str(path.resolve()))


def _local_path(uri: str) -> Path:
    """A path as Spark spells it (file:/a/b%20c.parquet) as a local path."""
    from urllib.parse import unquote, urlparse

    return Path(unquote(urlparse(uri).path)).resolve()


def _count_and_width(readable: Path, delimiter: str, width: int):
    """The independent record count, and the first record wider than the header ((index, fields) or
    None): DuckDB's strict reader refuses such a file; Spark's would cut the record short."""
    import csv

    counted = count_csv_records(readable, delimiter)
    with open(readable, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=QUOTE, doublequote=True)
        next(reader, None)
        for index, row in enumerate(reader):
            if len(row) > width:
                return counted, (index, len(row))
    return counted, None


def _write(frame, work_dir: Path) -> Path:
    """Write Spark's rows to work_dir/file/raw (a folder of Parquet parts), overwriting."""
    folder = Path(work_dir) / "file" / "raw"
    folder.parent.mkdir(parents=True, exist_ok=True)
    frame.write.mode("overwrite").parquet(str(folder.resolve()))
    return folder


def _create_raw_view(con: duckdb.DuckDBPyConnection, folder: Path, headers: list[str]) -> None:
    """The view `raw` over Spark's parts: each header from its column c0, c1..., then `rowid`."""
    taken = {h.lower() for h in headers}
    columns = []
    for i, header in enumerate(headers):
        name = header
        if header.lower() == "rowid":  # a column named rowid would hide the row number
            name = next(f"{header}_{n}" for n in range(1, 1000) if f"{header}_{n}".lower() not in taken)
            taken.add(name.lower())
        columns.append(f"c{i} as {_ident(name)}")
    parts = sql_path(folder / "*.parquet")
    con.execute(f"create view raw as select {', '.join(columns)}, _rowid as rowid "
                f"from read_parquet({parts})")


def _describe(con, name: str, counted: RecordCount, encoding, delimiter, first_data_row: int = 2) -> RawTable:
    headers = [row[0] for row in con.execute("select column_name from (describe raw)").fetchall()][:-1]
    rows = con.execute("select count(*) from raw").fetchone()[0]
    return RawTable(headers, first_data_row, rows, encoding, delimiter, counted)


def sources_listing(source: str | Path, target: Path) -> Path:
    """A JSON list of the files read (path, bytes), written to `target`: what the store keeps as the
    batch's original when a folder or pattern was imported (the files themselves stay in the lake)."""
    files = [{"file": str(path), "bytes": path.stat().st_size} for path in source_files(source)]
    target.write_text(json.dumps({"source": str(source), "files": files}, indent=1), encoding="utf-8")
    return target
