"""Read an export file (CSV, Excel, Parquet) into `raw`: a DuckDB view of text columns.

Every value stays text here; parsing and validation happen in `ingest.normalise`, so that a
bad value becomes a reported issue instead of a failed read. CSV and Excel rows are written once
to a Parquet file in the work folder, in file order (a Parquet upload is read in place), and the
view adds `rowid` (0, 1, ...):
`rowid + first_data_row` is the row number a person sees in a spreadsheet (header = row 1).
Held as an in-memory table instead, a 10M-row export (1.3 GB of text) spilled past the import's
memory limit, made every later scan slower and sometimes failed to load at all.
"""

import codecs
import csv
import io
import re
import shutil
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from itertools import islice
from pathlib import Path

import chardet
import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as arrow_csv
from python_calamine import CalamineWorkbook

from ingest.normalise import _ident
from store import sql_path


class ImportRefused(Exception):
    """The file cannot be imported at all; the message says what to do, in one English sentence.

    `code` names the kind of refusal (stable: the CLI's JSON `refusal_code`) and `values` hold what
    the sentence quotes (file name, counts, dates...), so a screen can word it in its own language
    (ui.words.refusals). The English sentence stays the CLI's text.
    """

    def __init__(self, message: str, *, code: str, **values):
        super().__init__(message)
        self.code = code
        self.values = values


@dataclass(frozen=True)
class RecordCount:
    """The file's records after the header, counted without DuckDB's reader (see count_csv_records)."""

    records: int
    blank: int | None  # records whose every field is empty; None: count them in `raw` (Parquet)
    source: str  # what counted them: "pyarrow CSV reader", "csv module", "calamine", "parquet metadata"
    empty_lines: tuple[int, ...] = ()  # indexes (0 = first after the header) of empty lines, which DuckDB drops
    # a workbook's other sheets, which are not read: (sheet name, its rows with a value after its first row)
    other_sheets: tuple[tuple[str, int], ...] = ()

    @property
    def on_other_sheets(self) -> int:
        return sum(rows for _, rows in self.other_sheets)

    def with_blank_lines_above_header(self, lines: int) -> "RecordCount":
        """The count with `lines` blank lines above the header added, as blank records."""
        return replace(self, records=self.records + lines, blank=(self.blank or 0) + lines) if lines else self


@dataclass(frozen=True)
class RawTable:
    headers: list[str]
    first_data_row: int  # spreadsheet row number of the first data row
    rows: int
    encoding: str | None = None
    delimiter: str | None = None
    counted: RecordCount | None = None


CSV_SUFFIXES = {".csv", ".txt", ".tsv"}
EXCEL_SUFFIXES = {".xlsx", ".xlsm", ".xls"}
PARQUET_SUFFIXES = {".parquet", ".pq"}
SAMPLE_BYTES = 1 << 20
MAX_LINE_BYTES = 20_000_000  # one CSV line (record); a 10 MB field still fits
CSV_BUFFER_BYTES = 32 << 20  # DuckDB's CSV reader buffer: at least the longest line allowed
DELIMITERS = (",", ";", "\t", "|")  # tried in this order; a tie goes to the earlier one
QUOTE = '"'  # exports quote with " and double it inside a quoted value (RFC 4180)
CSV_ERROR_CAUSES = re.compile(  # fixed phrases of DuckDB's CSV errors, quoted in a refusal
    r"Expected Number of Columns: \d{1,5} Found: \d{1,5}|Value with unterminated quote found\."
    r"|Invalid unicode \(byte sequence mismatch\) detected\.|Maximum line size of \d{1,12} bytes exceeded")
_NON_ASCII = re.compile(rb"[\x80-\xff]")
csv.field_size_limit(MAX_LINE_BYTES * 2)  # the csv module's default (128 KB) is below our own limit
MAX_COLUMNS = 1_000
MAX_LINES_ABOVE_HEADER = 10  # blank lines skipped above the header (eBay's order reports open with one)
BLANK_LINE_BYTES = b" \t,;|\"\r\n"  # a line of nothing else is blank, whatever the delimiter
# Hostile-file limits: a workbook is a zip file, and a zip bomb unpacks a small upload into
# gigabytes. Its declared sizes are checked before the reader opens it (calamine refuses a
# member larger than declared, so the declared sizes bound the work).
MAX_UNPACKED_BYTES = 2 << 30  # about 4 million rows of a typical export
MAX_ZIP_RATIO = 100  # real workbooks compress 5-20x; a bomb 1000x
MAX_ZIP_MEMBERS = 10_000
MAX_PARQUET_BYTES = 8 << 30  # uncompressed, as the file's metadata says
MAGIC_REFUSALS = {  # content that is never an order export, whatever the file is named: (code, format, reason)
    b"\x1f\x8b": ("compressed_file", "gzip", "is compressed with gzip; unpack it and upload the file inside"),
    b"BZh91AY&": ("compressed_file", "bzip2", "is compressed with bzip2; unpack it and upload the file inside"),
    b"\xfd7zXZ": ("compressed_file", "xz", "is compressed with xz; unpack it and upload the file inside"),
    b"7z\xbc\xaf": ("archive_file", "7-Zip", "is a 7-Zip archive; unpack it and upload the file inside"),
    b"Rar!\x1a": ("archive_file", "RAR", "is a RAR archive; unpack it and upload the file inside"),
    b"%PDF-": ("pdf_file", "PDF", "is a PDF document, not an export; export the orders as CSV or Excel"),
    b"\x7fELF": ("program_file", "ELF", "is a program, not an export; export the orders as CSV or Excel"),
    b"MZ\x90\x00": ("program_file", "EXE", "is a program, not an export; export the orders as CSV or Excel"),
    b"\x89PNG": ("image_file", "PNG", "is an image, not an export; export the orders as CSV or Excel"),
    b"\xff\xd8\xff": ("image_file", "JPEG", "is an image, not an export; export the orders as CSV or Excel"),
}
# The GB family is read as GB18030, its superset.
GB_FAMILY = {"gb2312", "gbk", "gb18030", "cp936", "hz"}


def load_raw(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path, count: bool = True) -> RawTable:
    """Create table `raw` in `con` from the file at `path`; raise ImportRefused if unreadable.
    `count=False` skips the CSV's independent record count (a preview, which stores nothing)."""
    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"{path.name}: file not found; check the path and try again.", code="file_not_found",
                            file=path.name)
    if path.stat().st_size == 0:
        raise ImportRefused(f"{path.name}: the file is empty; export it again and upload the new file.",
                            code="empty_file", file=path.name)
    kind = _file_kind(path)
    if kind == "excel":
        return _load_excel(con, path, work_dir)
    if kind == "parquet":
        return _load_parquet(con, path, work_dir)
    return _load_csv(con, path, work_dir, count)


def _file_kind(path: Path) -> str:
    with open(path, "rb") as handle:
        head = handle.read(8)
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"PK\x03\x04"):
        _check_zip(path)
        return "excel"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "excel"
    if head.startswith(b"PK"):  # an empty or split zip archive
        raise ImportRefused(f"{path.name}: is an empty or split zip archive, not a workbook; save it again as .xlsx.",
                            code="split_zip", file=path.name)
    for magic, (code, file_format, reason) in MAGIC_REFUSALS.items():
        if head.startswith(magic):
            raise ImportRefused(f"{path.name}: the file {reason}.", code=code, file=path.name, format=file_format)
    suffix = path.suffix.lower()
    if suffix in PARQUET_SUFFIXES or suffix in EXCEL_SUFFIXES:
        raise ImportRefused(
            f"{path.name}: the file is named {suffix} but its content is not; "
            "export it again from the source system.", code="misnamed_file", file=path.name, suffix=suffix,
        )
    return "csv"


def _check_zip(path: Path) -> None:
    """Refuse a workbook that would unpack to far more than any export (a zip bomb)."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError) as error:
        raise ImportRefused(
            f"{path.name}: could not be opened as an Excel workbook ({error}); "
            "open it in Excel, save it as .xlsx and upload it again.", code="bad_workbook", file=path.name, error=str(error),
        ) from error
    if len(members) > MAX_ZIP_MEMBERS:
        raise ImportRefused(f"{path.name}: the workbook holds {len(members):,} parts, which no export has; "
                            "save it again as .xlsx or export the orders as CSV.", code="too_many_parts",
                            file=path.name, parts=len(members))
    unpacked = sum(m.file_size for m in members)
    ratio = max((m.file_size / max(m.compress_size, 1) for m in members if m.file_size > (8 << 20)), default=0)
    if unpacked > MAX_UNPACKED_BYTES or ratio > MAX_ZIP_RATIO:
        raise ImportRefused(
            f"{path.name}: the workbook would unpack to {unpacked / 1e6:,.0f} MB ({ratio:,.0f} times its packed size), "
            "which is a zip bomb rather than an export; export the orders as CSV instead.",
            code="zip_bomb", file=path.name, megabytes=unpacked / 1e6, ratio=ratio,
        )


# ---- CSV -----------------------------------------------------------------------------------


def detect_encoding(path: Path, whole_file: bool = True) -> str:
    """The file's text encoding: UTF-8 (with or without BOM) if it decodes, else detected.
    `whole_file=False`: "utf-8" when the first MB decodes as UTF-8, the rest unread (DuckDB's CSV
    reader checks every byte as it reads)."""
    with open(path, "rb") as handle:
        sample = handle.read(SAMPLE_BYTES)
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in sample:  # text exports have no NUL bytes, except UTF-16 without a BOM
        even, odd = sample[0::2].count(0), sample[1::2].count(0)
        if odd > 0.3 * len(sample) / 2 and even == 0:
            return "utf-16-le"
        if even > 0.3 * len(sample) / 2 and odd == 0:
            return "utf-16-be"
        raise ImportRefused(
            f"{path.name}: the file contains binary data, not text; export the orders as CSV or Excel "
            "and upload that file.", code="binary_file", file=path.name,
        )
    if _sample_decodes(sample, "utf-8", whole=len(sample) < SAMPLE_BYTES):
        if not whole_file:
            return "utf-8"
        undecodable = _undecodable_byte(path, "utf-8")
        if undecodable is None:
            return "utf-8"
        # plain ASCII up to there: GB18030 (our users' usual other encoding) if it reads the whole file and
        # what follows reads as Chinese. Else, as after UTF-8 text, two encodings in one file: a detector
        # guesses wildly from the few other bytes (UTF-16 for a line of GB18030 after 1 MB of ASCII)
        if _first_non_ascii_byte(path) == undecodable and _reads_as_chinese(path, undecodable):
            return "gb18030"
        raise _mixed_encodings(path, undecodable, "utf-8")
    # the encodings of today's systems, each read as its superset (GB2312 as GB18030, Latin-1 as Windows-1252):
    # the MB examined may not hold every character the file has
    best = chardet.detect(sample, encoding_era=chardet.EncodingEra.MODERN_WEB, prefer_superset=True,
                          max_bytes=len(sample))["encoding"]
    if best is None and _undecodable_byte(path, "gb18030") is None:  # our users' usual other encoding;
        return "gb18030"  # short samples elude detection
    if best is None:
        raise ImportRefused(
            f"{path.name}: the text encoding could not be recognised; "
            "save the file as CSV UTF-8 and upload it again.", code="unknown_encoding", file=path.name,
        )
    encoding = codecs.lookup(best).name.replace("-", "_")
    return "gb18030" if encoding in GB_FAMILY else encoding


def _undecodable_byte(path: Path, encoding: str) -> int | None:
    """The offset of the file's first byte that does not decode as `encoding` (an ASCII-compatible one:
    UTF-8, GB18030), or None when the whole file decodes."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0  # of the chunk
    with open(path, "rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES * 8):
            pending = decoder.getstate()[0]  # bytes of a character the previous chunk cut
            if chunk.isascii() and not pending:
                offset += len(chunk)
                continue  # plain ASCII between characters is valid: 10x faster than decoding it
            try:
                decoder.decode(chunk)
            except UnicodeDecodeError as error:
                return offset - len(pending) + error.start
            offset += len(chunk)
        try:
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return offset - len(decoder.getstate()[0])
    return None


def _sample_decodes(sample: bytes, encoding: str, whole: bool) -> bool:
    """Whether `sample` decodes as `encoding`, but for a character its end may cut (unless it is the `whole` file)."""
    try:
        codecs.getincrementaldecoder(encoding)().decode(sample, final=whole)
    except UnicodeDecodeError:
        return False
    return True


def _first_non_ascii_byte(path: Path) -> int | None:
    """The offset of the file's first byte above 0x7F, or None."""
    offset = 0
    with open(path, "rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES * 8):
            if not chunk.isascii():
                return offset + _NON_ASCII.search(chunk).start()
            offset += len(chunk)
    return None


def _reads_as_chinese(path: Path, offset: int) -> bool:
    """Whether the whole file decodes as GB18030 and, from `offset` on (its first byte above 0x7F), nine
    in ten of the first MB's other characters are common Chinese ones (GB2312's). Accented Latin letters
    written in Windows-1252 often decode as GB18030 too ("Müller"), but as rare characters ("M黮ler")."""
    if _undecodable_byte(path, "gb18030") is not None:
        return False
    with open(path, "rb") as handle:
        handle.seek(offset)
        text = codecs.getincrementaldecoder("gb18030")().decode(handle.read(SAMPLE_BYTES))
    others = [character for character in text if not character.isascii()]
    common = sum(1 for character in others if _encodes(character, "gb2312"))
    return common >= 0.9 * len(others)


def _encodes(character: str, encoding: str) -> bool:
    try:
        character.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def _mixed_encodings(path: Path, byte: int, encoding: str) -> ImportRefused:
    return ImportRefused(
        f"{path.name}: the file mixes text encodings (byte {byte} is not {encoding}); "
        "save it again as CSV UTF-8 and upload it again.", code="mixed_encodings", file=path.name,
        byte=byte, encoding=encoding,
    )


def _to_utf8(path: Path, encoding: str, target: Path) -> Path:
    """Copy the file as UTF-8 without BOM, chunk by chunk, for DuckDB's CSV reader."""
    decoder = codecs.getincrementaldecoder(encoding)()
    offset = 0  # of the chunk
    with open(path, "rb") as source, open(target, "w", encoding="utf-8", newline="") as out:
        while True:
            chunk = source.read(SAMPLE_BYTES * 4)
            pending = len(decoder.getstate()[0])  # bytes of a character the previous chunk cut
            dropped_bom = len(codecs.BOM_UTF8) if offset == 0 and encoding == "utf-8-sig" and chunk.startswith(
                codecs.BOM_UTF8) else 0
            try:
                out.write(decoder.decode(chunk, final=not chunk))
            except UnicodeDecodeError as error:  # its offset counts in the cut character and this chunk (after a BOM)
                raise _mixed_encodings(path, offset - pending + dropped_bom + error.start, encoding) from error
            if not chunk:
                return target
            offset += len(chunk)


def _check_line_length(path: Path, readable: Path) -> None:
    """Refuse a file with a line longer than MAX_LINE_BYTES, quickly and with a clear reason. The
    lines before it are counted only then (counting them in every file took 0.5 s per GB)."""
    since_newline = 0
    before_chunk = 0  # bytes
    with open(readable, "rb") as handle:
        while chunk := handle.read(SAMPLE_BYTES * 8):
            first = chunk.find(b"\n")
            if first < 0:
                since_newline += len(chunk)
            else:
                since_newline += first
                if since_newline <= MAX_LINE_BYTES:
                    since_newline = len(chunk) - chunk.rfind(b"\n") - 1
                    before_chunk += len(chunk)
                    continue
            if since_newline > MAX_LINE_BYTES:  # the long line holds no line break in this chunk before `first`
                line = 1 + _line_breaks(readable, before_chunk)
                raise ImportRefused(
                    f"{path.name}: line {line:,} is longer than {MAX_LINE_BYTES // 1_000_000} MB, which no "
                    "order export has; check that the file is a CSV export and upload it again.",
                    code="line_too_long", file=path.name, line=line, megabytes=MAX_LINE_BYTES // 1_000_000,
                )
            before_chunk += len(chunk)


def _line_breaks(readable: Path, size: int) -> int:
    """The line breaks (\\n) in the first `size` bytes of the file."""
    breaks = 0
    with open(readable, "rb") as handle:
        while size > 0 and (chunk := handle.read(min(size, SAMPLE_BYTES * 8))):
            breaks += chunk.count(b"\n")
            size -= len(chunk)
    return breaks


def sniff_delimiter(readable: Path) -> str:
    """The delimiter that splits the file's first MB into the most records as wide as the header.

    Read by Python's csv module, not DuckDB's sniffer: the sniffer's time grows with the square of a
    field's length (1.6 s for one 200 KB field) and it may take a leading `#` for a comment.
    """
    with open(readable, encoding="utf-8", newline="") as handle:
        sample = handle.read(SAMPLE_BYTES)
        truncated = bool(handle.read(1))
    best, best_score = DELIMITERS[0], (0, 0)
    for delimiter in DELIMITERS:
        records = list(csv.reader(io.StringIO(sample, newline=""), delimiter=delimiter, quotechar=QUOTE))
        if truncated and len(records) > 1:
            records.pop()  # cut by the sample's end
        if not records or len(records[0]) < 2:
            continue
        width = len(records[0])
        score = (sum(len(r) == width for r in records[1:]), width)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def count_csv_records(readable: Path, delimiter: str) -> RecordCount:
    """The number of records after the header, by pyarrow's CSV reader over the same UTF-8 bytes DuckDB
    reads: an independent count of what the file holds. A file with blank records (every field empty or
    spaces) is counted by Python's csv module instead, which also says which of them are empty lines
    (DuckDB drops those; pyarrow reads an empty line and ",," alike). Only the first field is kept as
    text (half the time at 10M records): a record can only be blank where it is; every field is read
    when one is."""
    names = [f"c{i}" for i in range(len(_csv_header(readable, delimiter)))]
    for kept in (names[:1], names):
        records = _count_unless_blank(readable, delimiter, names, kept)
        if records is not None:
            return RecordCount(records, 0, "pyarrow CSV reader")
    return _count_with_csv_module(readable, delimiter)


def _count_unless_blank(readable: Path, delimiter: str, names: list[str], kept: list[str]) -> int | None:
    """The records after the header, or None if one may be blank: the fields `kept` of a record of the
    header's width all blank, or a record of another width blank."""
    other_width = {"records": 0, "blank": 0}

    def on_other_width(row) -> str:  # a record narrower or wider than the header is still a record
        fields = next(csv.reader([row.text], delimiter=delimiter, quotechar=QUOTE, doublequote=True), [])
        other_width["records"] += 1
        other_width["blank"] += _is_blank(fields)
        return "skip"

    reader = arrow_csv.open_csv(
        readable,
        read_options=arrow_csv.ReadOptions(column_names=names, skip_rows=1, block_size=16 << 20),
        parse_options=arrow_csv.ParseOptions(delimiter=delimiter, quote_char=QUOTE, double_quote=True,
                                             escape_char=False, newlines_in_values=True, ignore_empty_lines=False,
                                             invalid_row_handler=on_other_width),
        convert_options=arrow_csv.ConvertOptions(column_types=dict.fromkeys(kept, pa.string()), null_values=[],
                                                 strings_can_be_null=False, check_utf8=False, include_columns=kept),
    )
    records = 0
    for batch in reader:
        records += batch.num_rows
        if _has_blank_record(batch):
            return None
    if other_width["blank"]:
        return None
    return records + other_width["records"]


def _is_blank(fields: list[str]) -> bool:
    """Whether no field of a record has more than spaces (DuckDB's trim); an empty line has no field."""
    return not "".join(fields).strip(" ")


def _has_blank_record(batch: pa.RecordBatch) -> bool:
    """Whether every column of a record of the batch is blank (_is_blank), column by column."""
    def empty(column):
        return pc.equal(pc.utf8_trim(column, " "), "")

    candidates = batch.filter(empty(batch.column(0)))  # most records are ruled out by their first field
    for index in range(1, batch.num_columns):
        candidates = candidates.filter(empty(candidates.column(index)))
    return candidates.num_rows > 0


def _count_with_csv_module(readable: Path, delimiter: str) -> RecordCount:
    """count_csv_records by Python's csv module, with the position of each empty line."""
    records = blank = 0
    empty_lines = []
    with open(readable, encoding="utf-8", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter, quotechar=QUOTE, doublequote=True)
        next(reader, None)
        for row in reader:
            records += 1
            if row and row[0].strip(" "):
                continue  # the common case, decided by the first field alone
            if _is_blank(row):
                blank += 1
                if not row:
                    empty_lines.append(records - 1)
    return RecordCount(records, blank, "csv module", tuple(empty_lines))


def _load_csv(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path, count: bool = True) -> RawTable:
    """A file whose first MB is UTF-8 is read as it is: DuckDB's reader checks the rest as it reads
    (a second pass of Python's decoder took 1 s per GB). Other encodings are detected over the whole
    file and the file copied as UTF-8 first, as is a file that turns out not to be UTF-8 further on."""
    if detect_encoding(path, whole_file=False) == "utf-8":
        try:
            return _load_utf8_csv(con, path, path, "utf-8", work_dir, count)
        except UnicodeDecodeError:  # the header or the delimiter's sample reached past the first MB
            pass
        except ImportRefused as refusal:
            if refusal.code != "bad_csv" or "Invalid unicode" not in refusal.values["error"]:  # DuckDB's words
                raise
    encoding = detect_encoding(path)
    readable = path if encoding == "utf-8" else _to_utf8(path, encoding, work_dir / "utf8.csv")
    return _load_utf8_csv(con, path, readable, encoding, work_dir, count)


def _load_utf8_csv(con: duckdb.DuckDBPyConnection, path: Path, readable: Path, encoding: str, work_dir: Path,
                   count: bool) -> RawTable:
    """`path` read from `readable`, its UTF-8 text (`path` itself, or the copy made of it)."""
    _check_line_length(path, readable)
    readable, above = from_header(readable, work_dir)
    delimiter = sniff_delimiter(readable)
    try:
        with ThreadPoolExecutor(1) as pool:  # counted while DuckDB reads (it releases the GIL)
            counting = pool.submit(count_csv_records, readable, delimiter) if count else None
            headers = csv_headers(path, readable, delimiter)
            _read_csv_to_raw(con, path, readable, delimiter, headers, work_dir)
            counted = counting.result().with_blank_lines_above_header(above) if counting else None
    except (csv.Error, pa.ArrowInvalid) as error:
        raise ImportRefused(f"{path.name}: could not be read as CSV ({error}); check that it is a comma, "
                            "semicolon or tab separated export and upload it again.", code="bad_csv",
                            file=path.name, error=str(error)) from error
    return _describe(con, path, first_data_row=2 + above, encoding=encoding, delimiter=delimiter, counted=counted)


def from_header(readable: Path, work_dir: Path) -> tuple[Path, int]:
    """The CSV from its header on, and how many blank lines (nothing but delimiters, quotes and spaces)
    were above it: eBay's order reports open with a line of bare commas. Only blank lines are passed
    over, at most MAX_LINES_ABOVE_HEADER: a title above the header is still read as the header. The file
    is copied from the header on only when there are such lines; they count as blank records."""
    with open(readable, "rb") as handle:
        first_lines = list(islice(handle, MAX_LINES_ABOVE_HEADER + 1))
    above = next((i for i, line in enumerate(first_lines) if line.strip(BLANK_LINE_BYTES)), 0)
    if not above:
        return readable, 0
    target = Path(work_dir) / "from_header.csv"
    with open(readable, "rb") as source, open(target, "wb") as out:
        for _ in range(above):
            source.readline()
        shutil.copyfileobj(source, out, SAMPLE_BYTES * 8)
    return target, above


def csv_headers(path: Path, readable: Path, delimiter: str) -> list[str]:
    """The CSV's column names (blank ones numbered, repeats made unique); refused when the first line is
    empty or holds far more columns than an order export."""
    header_fields = _csv_header(readable, delimiter)
    if not "".join(header_fields).strip():
        raise ImportRefused(f"{path.name}: the first line is empty; the column headers must be on the first "
                            "line, so remove the lines above them and upload the file again.",
                            code="empty_first_line", file=path.name)
    headers = _unique([h.strip() or f"column_{i + 1}" for i, h in enumerate(header_fields)])
    if len(headers) > MAX_COLUMNS:
        raise ImportRefused(f"{path.name}: the file has {len(headers):,} columns, far more than an order "
                            "export; check that it is the right file and upload it again.",
                            code="too_many_columns", file=path.name, columns=len(headers))
    return headers


def _csv_header(readable: Path, delimiter: str) -> list[str]:
    """The header record alone (the first record, which may span lines)."""
    with open(readable, encoding="utf-8", newline="") as handle:
        return next(csv.reader(handle, delimiter=delimiter, quotechar=QUOTE, doublequote=True), [])


def _read_csv_to_raw(con, path: Path, readable: Path, delimiter: str, headers: list[str], work_dir: Path) -> None:
    """Read every record with DuckDB's CSV reader, every option explicit: nothing is sniffed, no
    comment character, no skipped line, the header is the first record, quotes as RFC 4180, and a
    malformed record (an open quote, too many fields) refuses the file instead of being dropped."""
    columns = "{" + ", ".join(f"'c{i}': 'varchar'" for i in range(len(headers))) + "}"
    # The reader's buffer must hold the longest line; by default it is 16 lines long (336 MB), which
    # halves the reading speed of a large file within the import's memory limit (12.9 s vs 6.8 s at 1 GB)
    options = (f"auto_detect = false, delim = {_sql_text(delimiter)}, quote = '\"', escape = '\"', "
               f"comment = '', skip = 0, header = true, strict_mode = true, ignore_errors = false, "
               f"null_padding = true, columns = {columns}, max_line_size = {MAX_LINE_BYTES + 1_000_000}, "
               f"buffer_size = {CSV_BUFFER_BYTES}, compression = 'none'")
    source = f"select * from read_csv({sql_path(readable)}, {options}"
    try:
        try:
            _write_raw(con, source + ")", work_dir, headers)
        except duckdb.Error as error:
            if "parallel=false" not in str(error):
                raise
            # quoted line breaks (notes, addresses) across the parallel reader's buffers: read in one go
            _write_raw(con, source + ", parallel = false)", work_dir, headers)
    except duckdb.Error as error:
        # DuckDB's own words only: the record it quotes ("Original Line: ...") is the file's content
        text = str(error).strip()
        causes = [match.group(0) for match in CSV_ERROR_CAUSES.finditer(text[-2_000:])]
        first_line = f"{text.splitlines()[0][:120]} {causes[-1] if causes else ''}".strip()
        raise ImportRefused(
            f"{path.name}: could not be read as CSV ({first_line}); check that it is a "
            "comma, semicolon or tab separated export and upload it again.", code="bad_csv", file=path.name,
            error=first_line,
        ) from error


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


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


def _has_value(row) -> bool:
    return any(text is not None and text.strip(" ") for text in map(_excel_text, row))


def _load_excel(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path) -> RawTable:
    """The first sheet's records; the other sheets' rows are counted (skipped as `other_sheet`), not read."""
    try:
        workbook = CalamineWorkbook.from_path(str(path))
        sheet = workbook.get_sheet_by_index(0)
        rows = sheet.to_python(skip_empty_area=True)  # from the first cell with a value: the header
        rows_above = (sheet.start or (0, 0))[0]  # empty rows above it, so that row numbers are the sheet's
        others = []
        for index, name in enumerate(workbook.sheet_names[1:], start=1):
            sheet_rows = workbook.get_sheet_by_index(index).to_python(skip_empty_area=True)
            with_values = sum(1 for row in sheet_rows[1:] if _has_value(row))
            if with_values:
                others.append((name, with_values))
    except Exception as error:  # calamine raises several error types for broken files
        raise ImportRefused(
            f"{path.name}: could not be opened as an Excel workbook ({error}); "
            "open it in Excel, save it as .xlsx and upload it again.", code="bad_workbook", file=path.name, error=str(error),
        ) from error
    if not rows:
        raise ImportRefused(f"{path.name}: the first sheet is empty; put the orders on the first sheet.",
                            code="empty_sheet", file=path.name)
    headers = [str(h).strip() if h not in (None, "") else f"column_{i + 1}" for i, h in enumerate(rows[0])]
    columns = {
        header: pa.array([_excel_text(row[i]) if i < len(row) else None for row in rows[1:]], pa.string())
        for i, header in enumerate(_unique(headers))
    }
    table = pa.table(columns)
    con.register("excel_rows", table)
    _write_raw(con, "select * from excel_rows", work_dir)
    con.unregister("excel_rows")
    blank = sum(1 for row in rows[1:] if not _has_value(row))
    on_other_sheets = sum(count for _, count in others)
    return _describe(con, path, first_data_row=2 + rows_above, counted=RecordCount(
        len(rows) - 1 + on_other_sheets, blank, "calamine", other_sheets=tuple(others)))


def _check_parquet(path: Path) -> RecordCount:
    """Refuse a Parquet file whose metadata says it unpacks to far more than any export; else its
    row count, as the metadata states it."""
    import pyarrow.parquet as pq

    try:
        metadata = pq.ParquetFile(path).metadata
        unpacked = sum(metadata.row_group(i).total_byte_size for i in range(metadata.num_row_groups))
    except Exception as error:  # pyarrow raises several error types for broken files
        raise ImportRefused(
            f"{path.name}: could not be read as Parquet ({str(error).splitlines()[0][:200]}); "
            "write the file again and upload it.", code="bad_parquet", file=path.name,
            error=str(error).splitlines()[0][:200],
        ) from error
    if unpacked > MAX_PARQUET_BYTES or metadata.num_columns > MAX_COLUMNS:
        raise ImportRefused(
            f"{path.name}: the file would unpack to {unpacked / 1e6:,.0f} MB in {metadata.num_columns:,} columns, "
            "far more than an order export; split it or import it with `python -m ingest` per month.",
            code="parquet_too_large", file=path.name, megabytes=unpacked / 1e6, columns=metadata.num_columns,
        )
    return RecordCount(metadata.num_rows, None, "parquet metadata")


def _load_parquet(con: duckdb.DuckDBPyConnection, path: Path, work_dir: Path) -> RawTable:
    counted = _check_parquet(path)
    try:
        con.execute(f"create view parquet_file as select * from read_parquet({sql_path(path)})")
        names = [row[0] for row in con.execute("select column_name from (describe parquet_file)").fetchall()]
        casts = [f"cast({_ident(name)} as varchar)" for name in names]
        if "file_row_number" in {name.lower() for name in names}:  # the name the reader adds: copy the file
            _write_raw(con, f"select {', '.join(f'{c} as {_ident(n)}' for c, n in zip(casts, names))} from parquet_file",
                       work_dir)
        else:  # read in place: already columnar, so a copy would only cost time (8 s at 10M rows)
            _create_raw_view(con, path, names, casts)
    except duckdb.Error as error:
        raise ImportRefused(
            f"{path.name}: could not be read as Parquet ({str(error).splitlines()[0][:200]}); "
            "write the file again and upload it.", code="bad_parquet", file=path.name,
            error=str(error).splitlines()[0][:200],
        ) from error
    return _describe(con, path, first_data_row=2, counted=counted)


def _unique(headers: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for header in headers:
        count = seen.get(header, 0)
        seen[header] = count + 1
        out.append(header if count == 0 else f"{header}_{count}")
    return out


def _write_raw(con: duckdb.DuckDBPyConnection, source: str, work_dir: Path, headers: list[str] | None = None) -> None:
    """Write the rows of `source` to work_dir/file/raw.parquet in order and create the view `raw` on it.
    With `headers`, the source's columns are already named c0, c1, ... and these are their headers."""
    folder = Path(work_dir) / "file"  # not beside the batch's own Parquet files in a staging folder
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "raw.parquet"
    if headers is None:
        headers = [row[0] for row in con.execute(f"select column_name from (describe {source})").fetchall()]
        # stored as c0, c1...: a header may be any text, including the names the view adds
        stored = ", ".join(f"{_ident(header)} as c{i}" for i, header in enumerate(headers))
    else:
        stored = ", ".join(f"c{i}" for i in range(len(headers)))
    con.execute(f"copy (select {stored} from ({source})) to {sql_path(path)} (format parquet)")
    _create_raw_view(con, path, headers, [f"c{i}" for i in range(len(headers))])


def _create_raw_view(con: duckdb.DuckDBPyConnection, path: Path, headers: list[str], expressions: list[str]) -> None:
    """The view `raw` on a Parquet file: each header from its expression, then `rowid` (the row's index)."""
    taken = {h.lower() for h in headers}
    columns = []
    for header, expression in zip(headers, expressions):  # a column named rowid would hide the row number
        name = header
        if header.lower() == "rowid":
            name = next(f"{header}_{n}" for n in range(1, 1000) if f"{header}_{n}".lower() not in taken)
            taken.add(name.lower())
        columns.append(f"{expression} as {_ident(name)}")
    con.execute(f"create view raw as select {', '.join(columns)}, file_row_number as rowid "
                f"from read_parquet({sql_path(path)}, file_row_number = true)")


def _describe(con, path: Path, first_data_row: int, encoding=None, delimiter=None, counted=None) -> RawTable:
    headers = [row[0] for row in con.execute("select column_name from (describe raw)").fetchall()][:-1]  # not rowid
    if len(headers) > MAX_COLUMNS:
        raise ImportRefused(f"{path.name}: the file has {len(headers):,} columns, far more than an order export; "
                            "check that it is the right file and upload it again.", code="too_many_columns",
                            file=path.name, columns=len(headers))
    rows = con.execute("select count(*) from raw").fetchone()[0]
    return RawTable(headers, first_data_row, rows, encoding, delimiter, counted)
