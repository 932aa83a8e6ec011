"""Every record of the file accounted for.

records in the file = accepted + rejected + folded + skipped, where the left side is counted without
DuckDB's reader (`readers.RecordCount`) and the right side from what the import did with each row:
- skipped: blank lines, the header row repeated mid-file, a totals row, a report's footer (never an order);
- accepted: one row per stored order (the row the order stands on);
- folded: line rows rolled into an order another row already stands for, and identical duplicate
  rows counted once;
- rejected: rows with a rejected issue.
When the two sides differ, rows were lost or invented on the way and the import is refused.
"""

from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from ingest.mapping import Mapping
from ingest.normalise import MAX_VALUE_CHARS, _ident
from ingest.readers import ImportRefused, RawTable

# a totals row's label, compared in lower case after trimming spaces and a trailing colon
TOTALS_WORDS = ("total", "totals", "grand total", "sum", "subtotal", "sub total", "合计", "总计", "小计", "总合计",
                "合計", "總計", "汇总", "總和")
# what a report's footer note says, in lower case (eBay: "4, record(s) downloaded, from ...", "Seller ID : ...")
FOOTER_PATTERNS = (r"record\(s\) downloaded", r"^seller id\s*[:：]")
FOOTER_CHARS = 200  # a footer note may be longer than a label
FOOTER_ROWS = 10  # a footer is looked for among the file's last rows only
LABEL_CHARS = 40  # a longer value is never a totals label (checked before any comparison)
SKIP_REASONS = {
    "blank_line": "blank line (every field empty)",
    "repeated_header": "the header row repeated inside the file",
    "totals_row": "a totals row (no order id; a Total/合计 label or the sum of the amounts)",
    "other_sheet": "a row on another sheet of the workbook: only the first sheet is read",
    "report_footer": "a report's note below the last order, with no date and no amount (eBay: “N record(s) downloaded”)",
}
AMOUNT_FIELDS = ("amount", "line_amount", "unit_price")


@dataclass
class RecordAccount:
    """The equation's parts; `balanced` says whether they add up to the independent count."""

    records_in_file: int
    counted_by: str
    accepted: int = 0
    rejected: int = 0
    folded: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)

    @property
    def skipped(self) -> int:
        return sum(self.skipped_reasons.values())

    @property
    def accounted(self) -> int:
        return self.accepted + self.rejected + self.folded + self.skipped

    @property
    def balanced(self) -> bool:
        return self.records_in_file == self.accounted


LABEL_TRIMMED = " :："  # what a label's ends may carry: spaces and colons (also the ideographic one)


def _text(header: str, limit: int = LABEL_CHARS) -> str:
    """The column's text in lower case without surrounding spaces or colons; null when longer than
    `limit` (a label or a header is short: no comparison ever reads a long value). The trim runs only
    on a value that starts or ends with one of them (a trim of chosen characters costs 0.3 s per
    million values). A missing value takes the short values' branch, which keeps a Parquet column's
    dictionary (ingest.normalise._bounded)."""
    value = f"cast({_ident(header)} as varchar)"
    ends = " or ".join(f"{side}({value}, '{char}')" for side in ("prefix", "suffix") for char in LABEL_TRIMMED)
    return (f"(case when length({value}) > {limit} then null else lower(case when {ends} "
            f"then trim({value}, '{LABEL_TRIMMED}') else {value} end) end)")


def _is_empty(header: str) -> str:
    """No text but spaces (DuckDB's trim: every Unicode space); a value that starts with a printable
    ASCII character is not trimmed at all."""
    value = f"cast({_ident(header)} as varchar)"
    return f"({value} is null or {value} = '' or (ascii({value}) not between 33 and 126 and trim({value}) = ''))"


def number_rows_as_in_file(con: duckdb.DuckDBPyConnection, raw: RawTable) -> None:
    """Make `raw.rowid` the record's index in the file again where DuckDB's reader dropped empty
    lines above it, so that row numbers in the issue list are the rows a person sees in a spreadsheet."""
    empty = raw.counted.empty_lines if raw.counted else ()
    if not empty:
        return
    # the k-th empty line (0-based) at record index i: rows read from index i - k on move down by k + 1
    starts = [index - k for k, index in enumerate(empty)]
    con.execute(
        """
        create or replace temp table row_shifts as
        select start_rowid, max(shift) as shift
        from (select unnest($starts) as start_rowid, unnest($shifts) as shift)
        group by start_rowid
        """,
        {"starts": starts, "shifts": list(range(1, len(empty) + 1))},
    )
    con.execute("alter view raw rename to raw_as_read")
    con.execute(
        """
        create view raw as
        select r.* replace (r.rowid + coalesce(s.shift, 0) as rowid)
        from raw_as_read r asof left join row_shifts s on r.rowid >= s.start_rowid
        """
    )


def _identity_column(mapping: Mapping) -> str:
    """The column that tells an order's row from a row that is no order: the order id, or the date when each row
    is one order (a log without order numbers: so that a purchase of a coffee called "Total" stays a purchase)."""
    return mapping.columns.get("order_id") or mapping.columns["order_ts"]


def mark_skipped_rows(con: duckdb.DuckDBPyConnection, raw: RawTable, mapping: Mapping) -> dict[str, int]:
    """Create `skipped_rows(rowid, reason)`: rows of `raw` that are no order (blank, a repeated
    header, a totals row, a report's footer); then `raw` leaves them out (`raw_file` keeps every row).
    Returns the count per reason, as found in `raw`."""
    identity = _identity_column(mapping)  # the order id; the date when each row is one order
    date = mapping.columns["order_ts"]
    amounts = [mapping.columns[name] for name in AMOUNT_FIELDS if mapping.columns.get(name)]
    undated = " and ".join(_is_empty(h) for h in [date, *amounts])  # no date, no amount
    words = "[" + ", ".join("'" + w.replace("'", "''") + "'" for w in TOTALS_WORDS) + "]"
    blank = " and ".join(_is_empty(h) for h in [identity, *[h for h in raw.headers if h != identity]])
    mapped = list(dict.fromkeys(mapping.columns.values()))
    header_params = {f"header_{i}": header.strip(" :：").lower() for i, header in enumerate(mapped)}
    repeated = " and ".join(f"{_text(h, MAX_VALUE_CHARS)} = $header_{i}" for i, h in enumerate(mapped))
    labelled = " or ".join(f"list_contains({words}, {_text(h)})" for h in raw.headers)
    phrases = " or ".join(f"regexp_matches({_text(h, FOOTER_CHARS)}, '{p}')"
                          for h in raw.headers for p in FOOTER_PATTERNS)
    # only rows whose order id is empty, a header or a label can be skipped: the rest are read once
    candidates = (f"{_is_empty(identity)} or {_text(identity, MAX_VALUE_CHARS)} = $identity_header "
                  f"or list_contains({words}, {_text(identity)})")
    params = header_params | {"identity_header": identity.strip(" :：").lower()}
    con.execute(
        f"""
        create or replace temp table skipped_rows as
        select rowid, case
            when {blank} then 'blank_line'
            when {repeated} then 'repeated_header'
            when {labelled} then 'totals_row'
        end as reason
        from raw
        where {candidates}
        """,
        params,
    )
    con.execute(  # among the last rows only: a footer is at the end
        f"""
        insert into skipped_rows
        select rowid, 'report_footer' from raw
        where rowid >= $footer_from and {undated} and ({phrases})
            and rowid not in (select rowid from skipped_rows where reason is not null)
        """,
        {"footer_from": raw.rows - FOOTER_ROWS},
    )
    _keep_footer_below_orders(con)
    _mark_sum_rows(con, mapping)
    con.execute("delete from skipped_rows where reason is null")
    counts = dict(con.execute("select reason, count(*) from skipped_rows group by reason").fetchall())
    if counts:
        con.execute("alter view raw rename to raw_file")
        con.execute("create view raw as select * from raw_file where rowid not in (select rowid from skipped_rows)")
    return counts


def _keep_footer_below_orders(con: duckdb.DuckDBPyConnection) -> None:
    """A row without date and amount is a footer only below every order: above one it is read as a row
    (and rejected for its missing date), never skipped."""
    if not con.execute("select count(*) from skipped_rows where reason = 'report_footer'").fetchone()[0]:
        return
    con.execute(
        """
        update skipped_rows set reason = null
        where reason = 'report_footer' and rowid < (
            select max(rowid) from raw where rowid not in (select rowid from skipped_rows where reason is not null))
        """
    )


def _mark_sum_rows(con: duckdb.DuckDBPyConnection, mapping: Mapping) -> None:
    """A row without order id and date whose amount equals the sum of the other rows' amounts is a
    totals row, labelled or not."""
    date = mapping.columns.get("order_ts")
    ordered = _identity_column(mapping)
    if not con.execute("select count(*) from skipped_rows where reason is null").fetchone()[0]:
        return  # no candidate: the file's amounts are not summed at all
    for name in ("amount", "line_amount"):
        header = mapping.columns.get(name)
        if not header or not date:
            continue
        number = (f"try_cast(replace(trim(case when length(cast({_ident(header)} as varchar)) <= 40 "
                  f"then cast({_ident(header)} as varchar) end), ',', '') as decimal(38, 4))")
        con.execute(
            f"""
            update skipped_rows set reason = 'totals_row'
            where reason is null and rowid in (
                select rowid from raw
                where rowid in (select rowid from skipped_rows where reason is null)
                and {_is_empty(date)} and {number} is not null
                and {number} = (select sum({number}) from raw where not {_is_empty(ordered)})
            )
            """
        )


def add_skipped_issues(con: duckdb.DuckDBPyConnection, raw: RawTable, mapping: Mapping) -> None:
    """List the skipped header and totals rows in `issues` (severity 'skipped'), with their row numbers
    (blank lines are only counted: DuckDB's reader drops empty lines, so they have no row in `raw`)."""
    for code, reason in SKIP_REASONS.items():
        if code in ("blank_line", "other_sheet"):  # not rows of `raw`
            continue
        con.execute(
            f"""
            insert into issues
            select rowid + $first, $code, 'order_id', $column, null, $reason, 'skipped'
            from skipped_rows where reason = $code
            """,
            {"first": raw.first_data_row, "code": code, "reason": reason,
             "column": _identity_column(mapping)},
        )


def account(con: duckdb.DuckDBPyConnection, path: Path, raw: RawTable, skipped_in_raw: dict[str, int],
            accepted_rows: int) -> RecordAccount:
    """The equation for this import (after build_orders; `accepted_rows`: the rows of `accepted`, counted
    by the engine that checked them); raise ImportRefused when it does not hold."""
    counted = raw.counted
    skipped = dict(skipped_in_raw)
    if counted is not None and counted.blank is not None:
        # blank lines as the independent count saw them: DuckDB drops empty lines, keeps ",,," rows
        skipped["blank_line"] = counted.blank
    if counted is not None and counted.other_sheets:
        skipped["other_sheet"] = counted.on_other_sheets
    skipped = {reason: skipped[reason] for reason in SKIP_REASONS if skipped.get(reason)}
    accepted, duplicates, rejected = con.execute(
        """
        select
            (select count(*) from orders_out),
            (select count(*) from issues where code = 'duplicate_row'),
            (select count(distinct row) from issues where severity = 'rejected')
        """
    ).fetchone()
    result = RecordAccount(
        records_in_file=counted.records if counted else raw.rows,
        counted_by=counted.source if counted else "duckdb",
        accepted=accepted,
        rejected=rejected,
        folded=accepted_rows - accepted + duplicates,
        skipped_reasons=skipped,
    )
    if not result.balanced:
        raise ImportRefused(
            f"{path.name}: the file holds {result.records_in_file:,} records (counted by the {result.counted_by}) "
            f"but the import accounts for {result.accounted:,} ({result.accepted:,} accepted, {result.rejected:,} "
            f"rejected, {result.folded:,} folded, {result.skipped:,} skipped), so nothing was stored; check how the "
            "file quotes its values and line breaks, or export it again.", code="records_unaccounted",
            file=path.name, records=result.records_in_file, counted_by=result.counted_by, accounted=result.accounted,
            accepted=result.accepted, rejected=result.rejected, folded=result.folded, skipped=result.skipped,
        )
    return result
