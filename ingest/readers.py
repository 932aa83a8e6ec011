"""Read an export file (CSV, Excel, Parquet) into a DuckDB table `raw` of text columns.

Every value stays text here; parsing and validation happen in `ingest.normalise`, so that a
bad value becomes a reported issue instead of a failed read. The table keeps file order, and
`rowid + first_data_row` is the row number a person sees in a spreadsheet (header = row 1).
"""

import codecs
from dataclasses import dataclass
from pathlib import Path

import charset_normalizer
import duckdb
import pyarrow as pa
from python_calamine import CalamineWorkbook

from store import sql_path


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says what to do, in one sentence."""


@dataclass(frozen=True)
class RawTable:
    headers: list[str]
    first_data_row: int  # spreadsheet row number of the first data row
    rows: int
    encoding: str | None = None
    delimiter: str | None = None


CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SAMPLE_BYTES = 1 << 20
# The GB family is read as GB18030, its superset; short Chinese samples are often
# reported as a Korean code page, which GB18030 text never is in our users' exports.
GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz", "cp949", "euc_kr"}


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path) -> RawTable:
    """Create table `raw` in `con` from the file at `path`; raise ImportRefused if unreadable."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path.name}: file not found; check the path and try again.")
    if path.stat().st_size == 0:
        raise ImportRefused(f"{path.name}: the file is empty; export it again and upload the new file.")
    kind = _file_kind(path)
    if kind == "excel":
        return _load_excel(con, path)
    if kind == "parquet":
        return _load_parquet(con, path)
    return _load_csv(con, path, work_dir)


def _file_kind(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(4)
    if head == b"PAR1":
        return "parquet"
    if head.startswith(b"PK\x03\x04") or head == b"\xd0\xcf\x11\xe0":
        return "excel"
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES or suffix in EXCEL_SUFFIXES:
        raise ImportRefused(
            f"{path.name}: the file is named {suffix} but its content is not; "
            "export it again from the source system."
        )
    return "csv"


# ---- CSV -----------------------------------------------------------------------------------


def detect_encoding(path: Path) -> str:
    """The file's text encoding: UTF-8 (with or without BOM) if it decodes, else detected."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if _decodes(path, "utf-8"):
        return "utf-8"
    best = charset_normalizer.from_bytes(sample).best()
    if best is None:
        raise ImportRefused(
            f"{path.name}: the text encoding could not be recognised; "
            "save the file as CSV UTF-8 and upload it again."
        )
    encoding = codecs.lookup(best.encoding).name.replace("-", "_")
    return "gb18030" if encoding in GB_FAMILY else encoding


def _decodes(path: Path, encoding: str) -> bool:
    decoder = codecs.getincrementaldecoder(encoding)()
    with open(path, "rb") as handle:
        try:
            while chunk := handle.read(SAMPLE_BYTES * 8):
                decoder.decode(chunk)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return False
    return True


def _to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Copy the file as UTF-8 without BOM, chunk by chunk, for DuckDB's CSV reader."""
    with open(path, encoding=encoding, newline="") as source, open(
        target, "w", encoding="utf-8", newline=""
    ) as out:
        try:
            while chunk := source.read(SAMPLE_BYTES * 4):
                out.write(chunk)
        except UnicodeDecodeError as error:
            raise ImportRefused(
                f"{path.name}: the file mixes text encodings (byte {error.start} is not {encoding}); "
                "save it again as CSV UTF-8 and upload it again."
            ) from error
    return target


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path) -> RawTable:
    encoding = detect_encoding(path)
    readable = path if encoding == "utf-8" else _to_utf8(path, encoding, work_dir / "utf8.csv")
    try:
        con.execute(
            f"""
            create table raw as select * from read_csv(
                {sql_path(readable)}, header = true, all_varchar = true, null_padding = true,
                max_line_size = 20000000, sample_size = 20480
            )
            """
        )
        dialect = con.execute(
            f"select delimiter from sniff_csv({sql_path(readable)}, header = true, sample_size = 20480)"
        ).fetchone()[0]
    except duckdb.Error as error:
        first_line = str(error).strip().splitlines()[0][:200]
        raise ImportRefused(
            f"{path.name}: could not be read as CSV ({first_line}); check that it is a "
            "comma, semicolon or tab separated export and upload it again."
        ) from error
    return _describe(con, first_data_row=2, encoding=encoding, delimiter=dialect)


# ---- Excel and Parquet ---------------------------------------------------------------------


def _excel_text(value) -> str | None:
    """An Excel cell as text: integral floats without `.0` (ids), dates as ISO."""
    if value is None or value == "":
        return None
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") else value.isoformat()
    return str(value)


def _load_excel(con: duckdb.DuckDBPyConnection, path: Path) -> RawTable:
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        rows = workbook.get_sheet_by_index(0).to_python(skip_empty_area=True)
    except Exception as error:  # calamine raises several error types for broken files
        raise ImportRefused(
            f"{path.name}: could not be opened as an Excel workbook ({error}); "
            "open it in Excel, save it as .xlsx and upload it again."
        ) from error
    if not rows:
        raise ImportRefused(f"{path.name}: the first sheet is empty; put the orders on the first sheet.")
    headers = [str(h).strip() if h not in (None, "") else f"column_{i + 1}" for i, h in enumerate(rows[0])]
    columns = {
        header: pa.array([_excel_text(row[i]) if i < len(row) else None for row in rows[1:]], pa.string())
        for i, header in enumerate(_unique(headers))
    }
    table = pa.table(columns)
    con.register("excel_rows", table)
    con.execute("create table raw as select * from excel_rows")
    con.unregister("excel_rows")
    return _describe(con, first_data_row=2)


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path) -> RawTable:
    try:
        con.execute(f"create view parquet_file as select * from read_parquet({sql_path(path)})")
        names = [row[0] for row in con.execute("select column_name from (describe parquet_file)").fetchall()]
        casts = ", ".join(f'cast("{n}" as varchar) as "{n}"' for n in (x.replace('"', '""') for x in names))
        con.execute(f"create table raw as select {casts} from parquet_file")
    except duckdb.Error as error:
        raise ImportRefused(
            f"{path.name}: could not be read as Parquet ({str(error).splitlines()[0][:200]}); "
            "write the file again and upload it."
        ) from error
    return _describe(con, first_data_row=2)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        count = seen.get(header, 0)
        seen[header] = count + 1
        out.append(header if count == 0 else f"{header}_{count}")
    return out


def _describe(con, first_data_row: int, encoding=None, delimiter=None) -> RawTable:
    headers = [row[0] for row in con.execute("select column_name from (describe raw)").fetchall()]
    rows = con.execute("select count(*) from raw").fetchone()[0]
    return RawTable(headers, first_data_row, rows, encoding, delimiter)
