"""Turn the text table `raw` into canonical orders, order lines and an issue list, in DuckDB.

Steps, each one table: `parsed` (one row per file row, typed values), `issues` (one row per
problem: row, column, value, reason), `accepted` (rows of orders with no rejected row),
`orders_out` and `lines_out` (one row per order / per line, canonical columns).
Every value from the file is read as data; only our own SQL text is ever formatted in.
"""

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Callable

import duckdb

from ingest.expressions import DuckDBSpelling
from ingest.mapping import Mapping, normalise_header
from store import schema, sql_path
from store.models import dialect

# DuckDB macros for messy export values. Taobao wraps ids as ="123"; Excel users prefix '.
MACROS = r"""
create or replace temp macro clean_text(v) as
    nullif(trim(
        case
            when contains(v, '"') or contains(v, '=') or contains(v, '''') or contains(v, chr(9))
                then regexp_replace(regexp_replace(v, '^\s*=?"(.*)"\s*$', '\1'), '^[\t'']+', '')
            else v
        end
    ), '');

-- Each rule below has two spellings: on the value's cleaned text `c` (= clean_text(v)), and on the
-- value `v` itself (the same rule with clean_text(v) written in). `parsed` computes each mapped value's
-- cleaned text once, as a column, and calls the first kind (a macro's argument is evaluated wherever
-- it appears: clean_id(v) cleaned v twice, parse_number(v) up to seven times).

-- R's, pandas' and Excel's missing-value markers, as a whole value in any case, are no id or dimension
-- value: NA in a customer column is a guest order, not a customer called "NA" (docs/importing.md).
-- Only values of up to 1,000 characters are looked at (MAX_VALUE_CHARS: a longer one rejects its row),
-- so a huge value is cleaned once, not once per branch
create or replace temp macro missing_marker_of(v, c) as
    length(v) <= 1000 and upper(c) in ('NA', 'N/A', 'NAN', 'NULL', 'NONE', '#N/A', '-');

create or replace temp macro missing_marker(v) as missing_marker_of(v, clean_text(v));

create or replace temp macro id_of(v, c) as
    case when missing_marker_of(v, c) then null else c end;

create or replace temp macro clean_id(v) as id_of(v, clean_text(v));

-- a member tier keeps `none` (any case) as written: the word for non-members (metrics' NON_MEMBER_TIERS,
-- the demo data); an empty tier counts as a non-member too
create or replace temp macro tier_of(v, c) as
    case when missing_marker_of(v, c) and lower(c) <> 'none' then null else c end;

create or replace temp macro clean_tier(v) as tier_of(v, clean_text(v));

create or replace temp macro customer_of(v, c) as
    case
        when missing_marker_of(v, c) then null
        when contains(c, '.') and regexp_full_match(c, '\d+\.0+') then regexp_replace(c, '\.0+$', '')
        when contains(c, '@') then lower(c)
        else c
    end;

create or replace temp macro clean_customer(v) as customer_of(v, clean_text(v));

create or replace temp macro money_of(c) as
    regexp_replace(upper(c), '(CNY|RMB|USD|EUR|GBP|JPY|HKD|元|¥|￥|\$|€|£|\s)', '', 'g');

create or replace temp macro money_text(v) as money_of(clean_text(v));

-- `case`, not `coalesce`: DuckDB evaluates every argument of coalesce on every row, so the
-- clean-up branches would run on plain numbers too (the same holds for dates and currencies below)
create or replace temp macro number_of(c) as
    case
        when try_cast(c as decimal(18, 4)) is not null then try_cast(c as decimal(18, 4))
        when regexp_full_match(money_of(c), '[-+]?\d{1,3}(,\d{3})+(\.\d+)?')
            then try_cast(replace(money_of(c), ',', '') as decimal(18, 4))
        when regexp_full_match(money_of(c), '[-+]?\d{1,3}(\.\d{3})+,\d{1,2}')
            then try_cast(replace(replace(money_of(c), '.', ''), ',', '.') as decimal(18, 4))
        when regexp_full_match(money_of(c), '[-+]?\d+,\d{1,2}')
            then try_cast(replace(money_of(c), ',', '.') as decimal(18, 4))
        else try_cast(money_of(c) as decimal(18, 4))
    end;

create or replace temp macro parse_number(v) as number_of(clean_text(v));

create or replace temp macro currency_marker(v) as
    case
        when regexp_matches(upper(v), '(CNY|RMB|元|¥|￥)') then 'CNY'
        when regexp_matches(upper(v), '(EUR|€)') then 'EUR'
        when regexp_matches(upper(v), '(GBP|£)') then 'GBP'
        when regexp_matches(upper(v), '(JPY)') then 'JPY'
        when regexp_matches(upper(v), '(HKD)') then 'HKD'
        when regexp_matches(upper(v), '(USD|\$)') then 'USD'
    end;

-- a two-digit year after day and month (2/20/11, 04-30-22, 20.02.11, eBay's Jan-18-16) gets its century:
-- 00-69 are 2000-2069 and 70-99 are 1970-1999 (no order is older than 1970: EARLIEST_ORDER), so the
-- file's own day/month forms then read it; a four-digit year, or any other shape, is left as it is
-- (`v` written once: a macro's argument is evaluated wherever it appears; '\120\2' is group 1, 20, group 2)
create or replace temp macro four_digit_year(v) as
    regexp_replace(
        regexp_replace(v, '^(\d{1,2}[/.\-]\d{1,2}[/.\-]|[A-Za-z]{3}-\d{1,2}-)([0-6]\d(?:\s|$))', '\120\2'),
        '^(\d{1,2}[/.\-]\d{1,2}[/.\-]|[A-Za-z]{3}-\d{1,2}-)([7-9]\d(?:\s|$))', '\119\2');

create or replace temp macro date_of(c) as
    four_digit_year(regexp_replace(
        regexp_replace(
            replace(replace(replace(c, '年', '-'), '月', '-'), '日', ''),
            '(\d)T(\d)', '\1 \2'),
        -- a time zone after the time is dropped (times are kept as exported), never the year of 31-01-2024
        '(:\d{2}(?:\.\d+)?)\s*(?:Z|UTC|GMT|[+-]\d{2}:?\d{2})$', '\1'));

create or replace temp macro date_text(v) as date_of(clean_text(v));

create or replace temp macro status_of(c) as
    lower(regexp_replace(c, '[\s_\-]+', ' ', 'g'));

create or replace temp macro status_word(v) as status_of(clean_text(v));
"""

ISO_FORMATS = [
    "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M:%S.%f", "%Y-%m-%d %H:%M", "%Y-%m-%d",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%Y.%m.%d %H:%M:%S", "%Y.%m.%d",
]
_TIMES = [" %H:%M:%S", " %H:%M", " %I:%M:%S %p", " %I:%M %p", ""]
MONTH_FIRST = [f"%m{sep}%d{sep}%Y{t}" for sep in "/-" for t in _TIMES]
DAY_FIRST = [f"%d{sep}%m{sep}%Y{t}" for sep in "/.-" for t in _TIMES]
# eBay's order reports: Jan-18-16, Sep-30-26 23:45:00 (the year's century from four_digit_year, as 04-30-22's)
MONTH_NAMES = ["%b-%d-%Y %H:%M:%S", "%b-%d-%Y"]

# One check per kind of problem: (code, canonical field, condition on `parsed`, value, reason, severity).
ROW_CHECKS = [
    ("missing_order_id", "order_id", "order_id is null", "null", "missing order id", "rejected"),
    ("missing_date", "order_ts", "ts_text is null and not $line_level", "null", "missing order date", "rejected"),
    ("bad_date", "order_ts", "ts_text is not null and order_ts is null", "ts_text",
     "unparseable date (expected e.g. 2024-03-31 14:05)", "rejected"),
    ("future_date", "order_ts", "order_ts > $latest_allowed", "ts_text", "date is in the future", "rejected"),
    ("too_old_date", "order_ts", "order_ts < $earliest_allowed", "ts_text",
     "date before 1970, which no order export has; check the date format", "rejected"),
    # a cancelled or refunded order needs no amount (Amazon leaves it empty on cancelled items): stored as 0
    ("missing_amount", "amount", "amount_text is null and not $line_level and coalesce(status, 'valid') = 'valid'",
     "null", "missing amount", "rejected"),
    ("bad_amount", "amount", "amount_text is not null and amount is null", "amount_text",
     "amount is not a number", "rejected"),
    ("negative_amount", "amount",
     "net_amount < 0 and (coalesce(refunded_amount, 0) = 0 or amount < 0) and coalesce(status, 'valid') = 'valid'",
     "amount_text", "negative amount on a valid order", "rejected"),
    # the value quotes both numbers, so the reason can be checked against what is shown beside it
    ("refund_exceeds_amount", "refunded_amount",
     "net_amount < 0 and coalesce(refunded_amount, 0) <> 0 and amount >= 0 and coalesce(status, 'valid') = 'valid'",
     "'paid ' || coalesce(amount_text, '') || ', refunded ' || refunded_text",
     "the refund is larger than the amount paid", "rejected"),
    ("bad_refund", "refunded_amount", "refunded_text is not null and refunded_amount is null",
     "refunded_text", "refunded amount is not a number", "rejected"),
    ("bad_quantity", "quantity", "quantity_text is not null and quantity is null", "quantity_text",
     "quantity is not a number", "rejected"),
    ("bad_unit_price", "unit_price", "unit_price_text is not null and unit_price is null",
     "unit_price_text", "unit price is not a number", "rejected"),
    ("bad_line_amount", "line_amount", "line_amount_text is not null and line_amount is null",
     "line_amount_text", "line amount is not a number", "rejected"),
    ("currency_mismatch", "currency", "currency <> $main_currency", "currency",
     "currency differs from the file's main currency; upload each currency separately", "rejected"),
    ("unknown_status", "status", "status_text is not null and status_known = false", "status_text",
     "unknown status word, counted as a valid order", "warning"),
    # a refund of the whole order is not a zero amount (and one above it is refund_exceeds_amount)
    ("zero_amount", "amount",
     "amount = 0 and coalesce(refunded_amount, 0) = 0 and coalesce(status, 'valid') = 'valid' and not $line_level",
     "amount_text", "order amount is zero", "warning"),
]
# %Y also reads a two-digit year (12-11-22 10:00:05 as the year 12): below this, a date that fits the
# ISO form is read through date_text instead, which gives a two-digit year its century
FOUR_DIGIT_YEARS = "timestamp '1000-01-01'"
EARLIEST_ORDER = datetime(1970, 1, 1)  # an earlier order date is a misread date (or year 1 from a broken export)
MAX_VALUE_CHARS = 1_000  # a longer value in a mapped column rejects its row (no real id or name is that long)
ISSUE_VALUE_CHARS = 200  # values quoted in the issue list are cut to this length
ISSUES_COLUMNS = "row bigint, code varchar, field varchar, column_name varchar, value varchar, reason varchar, severity varchar"


# Refund rules (report key `refunds`): the paid amount is already net of refunds, or the refund is
# subtracted from it. Already net when the gross total = paid + refund on this share of the rows
# that have a refund (Tmall 订单报表: every such row); see docs/importing.md.
ALREADY_NET = "already_net"
SUBTRACTED = "subtracted"
ALREADY_NET_SHARE = 0.95
CENT = 0.005  # amounts are compared to the cent


@dataclass(frozen=True)
class ParseSettings:
    date_order: str  # "iso" (year first), "month/day/year", "day/month/year" or "month name" (Jan-18-16)
    main_currency: str | None
    refunds: str | None = None  # ALREADY_NET, SUBTRACTED, or None (no refunds in the file)


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# Past this many rows, `parsed` is written to a database file in the staging folder: at 10M rows it took
# 2.9 GB of the import's 4 GB and compressing it cost 7 s more (9 -> 16 s); at 99M rows it spilled past the
# limit uncompressed, and the file (3.9 GB) took the upload's staging folder from 27.6 to 16.1 GB at most,
# in about the same time (313 against 326 s before the tables)
PARSED_IN_MEMORY_ROWS = 12_000_000

DUCKDB = DuckDBSpelling()  # ingest's SQL spelled for DuckDB; ingest.expressions.SparkSpelling for Spark


def _field(mapping: Mapping, name: str, x=DUCKDB) -> str:
    header = mapping.columns.get(name)
    return x.value(_bounded(header, x)) if header else x.null_text


def _bounded(header: str, x=DUCKDB) -> str:
    """The column's text, or null when longer than MAX_VALUE_CHARS: such a value is rejected as
    value_too_long and never reaches a regular expression or a cast (linear time for any content).
    Spelled so that a missing value takes the same branch as a short one: a column read from Parquet
    keeps its dictionary, and every rule after it runs once per distinct value instead of once per row
    (a column with some empty cells: 0.36 s against 0.07 s per 10M rows)."""
    text = f"cast({x.ident(header)} as {x.text_type})"
    return f"case when length({text}) > {MAX_VALUE_CHARS} then null else {text} end"


def choose_date_order(run: Callable[[str], tuple], mapping: Mapping, x=DUCKDB) -> tuple[list[str], str]:
    """Month-first unless some date's first number is above 12 and none's second is; "iso" when
    every date starts with the year (no date has a day or month first), "month name" when dates name
    their month instead (Jan-18-16), which reads the same either way. `run(sql)` gives the first
    row of a query on `raw`, spelled by `x` (DuckDB's connection, or Spark's: ingest.spark_parse)."""
    field = _field(mapping, 'order_ts', x)
    day_month = x.regex(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-]\d{4}")
    day_first, month_first, either, named = run(
        f"""
        -- dates in the common ISO form (most rows) are year-first: skipped before any clean-up, in one
        -- `case` (as two conditions, DuckDB ran the clean-up first on every row: 2.9 s -> 0.8 s for a 10M-row CSV)
        with texts as (
            select {x.clean_text(field)} as v, {x.date_text(field)} as d,
                coalesce({x.timestamp(field, ISO_FORMATS[:1])} >= {FOUR_DIGIT_YEARS}, false) as is_iso
            from raw
        ),

        -- only a date starting with a 1- or 2-digit number can be day- or month-first; one starting with a
        -- letter names its month (eBay: Jan-18-16)
        parts as (
            select d, regexp_extract(d, {day_month}, 1) as a, regexp_extract(d, {day_month}, 2) as b,
                upper(substr(v, 1, 1)) between 'A' and 'Z' as named
            from texts
            where case when is_iso then false else substr(v, 2, 1) in ('/', '.', '-') or substr(v, 3, 1) in ('/', '.', '-')
                or upper(substr(v, 1, 1)) between 'A' and 'Z' end
        )
        select
            count(*) filter (where try_cast(a as int) > 12),
            count(*) filter (where try_cast(b as int) > 12),
            count(*) filter (where a is not null and a <> ''),
            count(*) filter (where named and {x.timestamp('d', MONTH_NAMES)} is not null)
        from parts
        """
    )
    if day_first > month_first:
        return DAY_FIRST + ISO_FORMATS + MONTH_NAMES, "day/month/year"
    order = "month/day/year" if either else "month name" if named else "iso"
    return MONTH_FIRST + ISO_FORMATS + MONTH_NAMES, order


def refund_rule(run: Callable[[str], tuple], mapping: Mapping, x=DUCKDB) -> str | None:
    """How the file's refunds relate to its paid amount, read from the data: ALREADY_NET when the
    gross total equals paid + refund on nearly every row with a refund (the paid amount is what the
    buyer kept paying: subtracting the refund again would count it twice), SUBTRACTED when refunds
    are there otherwise, None when no row has a refund. `run` and `x` as for choose_date_order."""
    if "refunded_amount" not in mapping.columns:
        return None
    refund = x.parse_number(_field(mapping, 'refunded_amount', x))
    if "amount" not in mapping.columns or "gross_amount" not in mapping.columns:
        refunds = run(f"select count(*) from raw where {refund} <> 0")[0]
        return SUBTRACTED if refunds else None
    refunds, netted = run(
        f"""
        with amounts as (
            select {refund} as refund, {x.parse_number(_field(mapping, 'amount', x))} as paid,
                {x.parse_number(_field(mapping, 'gross_amount', x))} as gross
            from raw
        )
        select count(*), count(*) filter (where abs(gross - (paid + refund)) < {CENT})
        from amounts where refund <> 0
        """
    )
    if not refunds:
        return None
    return ALREADY_NET if netted >= ALREADY_NET_SHARE * refunds else SUBTRACTED


def _currency(mapping: Mapping, x=DUCKDB) -> str:
    """SQL for a row's currency: the currency column's code, else a symbol or code in the amount."""
    amount_column = mapping.columns.get("amount") or mapping.columns.get("line_amount") or mapping.columns.get("unit_price")
    marker = x.currency_marker(x.value(_bounded(amount_column, x))) if amount_column else "null"
    code = x.clean_text(_field(mapping, 'currency', x))
    return f"case when {code} is not null then upper({code}) else {marker} end"


def main_currency(con: duckdb.DuckDBPyConnection, rows: str = "parsed") -> str | None:
    """The currency most of `rows` (a table or subquery with a `currency` column) are in: for `parsed`,
    from a currency column or symbols in the amounts."""
    row = con.execute(
        f"""
        select currency from {rows}
        where currency is not null
        group by currency order by count(*) desc, currency limit 1
        """
    ).fetchone()
    return row[0] if row else None


def stated_currency(con: duckdb.DuckDBPyConnection, mapping: Mapping, table: str) -> str | None:
    """The currency `table`'s text rows state under `mapping`, by the rule `parsed` is built with."""
    return main_currency(con, f"(select {_currency(mapping)} as currency from {table})")


def _region(mapping: Mapping, x=DUCKDB) -> str:
    """SQL for the region: the column as it is, or an address's first part (its province)."""
    region = x.clean_id(_field(mapping, 'region', x))
    if mapping.preset and mapping.preset.region_first_part:
        # 浙江省 杭州市 西湖区 ... -> 浙江省 (ASCII or ideographic spaces between the parts)
        return x.first_part(region)
    return region


def build_parsed(con: duckdb.DuckDBPyConnection, mapping: Mapping, first_data_row: int, date_formats: list[str],
                 refunds: str | None = None, on_disk: Path | None = None, updatable: bool = False) -> None:
    """Create `parsed`: one row per file row with typed canonical values (see parsed_query).
    Each mapped value and its cleaned text are computed once, as columns of the view `raw_values`.
    With `on_disk` (a database file to create), every later table and view of the connection are
    written there, compressed, instead of held in memory, and `parsed` is a view of a Parquet file
    beside it (written in 11.6 s at 10M rows, against 15 s for a table of that database), or, when
    it is to be changed in place (`updatable`: pseudonymised), a table of that database."""
    if on_disk is not None:
        con.execute(f"attach {sql_path(on_disk)} as parsed_on_disk")
        con.execute("use parsed_on_disk")
        con.execute("set search_path = 'parsed_on_disk.main,memory.main'")  # `raw` and the rest stay readable
    con.execute("create or replace temp table status_words (word varchar, status varchar)")
    con.executemany("insert into status_words values (?, ?)", list(mapping.status_words().items()))
    headers = [row[0].lower() for row in con.execute("select column_name from (describe raw)").fetchall()]
    prefix = next(p for p in (f"_let{'_' * n}" for n in range(100)) if not any(h.startswith(p) for h in headers))
    x = DuckDBSpelling(prefix)
    sql, params = parsed_query(mapping, first_data_row, date_formats, refunds, x=x, source="raw_values")
    source = "raw"
    for stage, lets in enumerate(x.lets()):
        extra = "".join(f", {expression} as {column}" for column, expression in lets)
        con.execute(f"create or replace temp view raw_values_{stage} as select *{extra} from {source}")
        source = f"raw_values_{stage}"
    con.execute(f"create or replace temp view raw_values as select * from {source}")
    # every column stored, also those no mapped field fills (null on every row): with those written as
    # nulls by a view over a narrower table, DuckDB 2.0.1's common-subplan rewrite lost the code of a
    # line-level order's negative total (tests/test_platform_rules.py), though storing them is half the cost
    if on_disk is not None and not updatable:
        written = on_disk.with_suffix(".parquet")
        con.execute(f"copy ({sql}) to {sql_path(written)} (format parquet)", params)
        con.execute(f"create view parsed as select * from read_parquet({sql_path(written)})")
    else:
        con.execute(f"""
        create table parsed as{sql}""", params)


# Each row one order (a log without order numbers): the values of `parsed` a row's own order id is made from
# (typed or cleaned: a re-saved log's `$5.00` is the 5 it was; the status as read, not its word)
ROW_ID_VALUES = ("customer_id", "order_ts", "amount", "refunded_amount", "line_amount", "quantity", "unit_price", "sku",
                 "status", *schema.DIMENSIONS)


def row_order_id_sql(x=DUCKDB) -> str:
    """A row's own order id when each row is one order, from its values in `parsed` (cleaned, typed and, with a
    key, pseudonymised: only what the store keeps anyway): `row-` + the start of an MD5 of them + which
    identical row of the file it is (1, 2... in file order). The same purchases uploaded again, from this
    file or a longer one, get the same ids, so they replace what is stored instead of counting twice."""
    values = ", ".join(f"coalesce(cast({x.ident(c)} as {x.text_type}), '')" for c in ROW_ID_VALUES)
    digest = f"md5(concat_ws(chr(31), {values}))"
    return (f"'row-' || substr({digest}, 1, 16) || '-' || "
            f"cast(row_number() over (partition by {digest} order by _row) as {x.text_type})")


def number_rows_as_orders(con: duckdb.DuckDBPyConnection) -> None:
    """Each row of `parsed` one order: its order id made by row_order_id_sql."""
    con.execute(f"update parsed set order_id = ids.order_id "
                f"from (select _row, {row_order_id_sql()} as order_id from parsed) as ids where parsed._row = ids._row")


# Mapped field -> (the column of `parsed` that holds its cleaned text, columns computed from that text)
PARSED_COLUMNS: dict[str, tuple[str, list[str]]] = {
    "customer_id": ("customer_id", []),
    "order_id": ("order_id", []),
    "order_ts": ("ts_text", ["order_ts"]),
    "amount": ("amount_text", ["amount"]),
    "refunded_amount": ("refunded_text", ["refunded_amount"]),
    "line_amount": ("line_amount_text", ["line_amount"]),
    "quantity": ("quantity_text", ["quantity"]),
    "unit_price": ("unit_price_text", ["unit_price"]),
    "sku": ("sku", []),
    "status": ("status_text", []),
    "cancelled_at": ("cancelled_at", []),
    "paid_at": ("paid_text", []),
    "currency": ("currency", []),
    **{dimension: (dimension, []) for dimension in schema.DIMENSIONS},
}


def parsed_query(mapping: Mapping, first_data_row: int, date_formats: list[str], refunds: str | None = None,
                 x=DUCKDB, source: str = "raw") -> tuple[str, dict]:
    """(SQL, parameters) of `parsed` from `source` (the rows of `raw`, with the columns x.lets() names
    when x has any) and `status_words(word, status)`, spelled by `x` (ingest.expressions: DuckDB's,
    or Spark's).

    `refunds` (from `refund_rule`) says whether `net_amount` is the amount as it is (ALREADY_NET)
    or the amount minus the refund. Status: cancelled (cancelled-at set, or a cancelled id prefix),
    unpaid (order-level files with a payment-time column left empty), else the status word; a
    valid order whose refund leaves nothing paid is refunded."""
    prefix = mapping.preset.cancelled_order_id_prefix if mapping.preset else None
    dims = ",\n".join(
        f"{_region(mapping, x)} as region" if d == "region"
        else f"{(x.clean_tier if d == 'member_tier' else x.clean_id)(_field(mapping, d, x))} as {d}"
        for d in schema.DIMENSIONS
    )
    paid_rule = "paid_at" in mapping.columns and not mapping.is_line_level
    long_params = {}
    long_cases = []
    for index, (field, header) in enumerate(mapping.columns.items()):
        long_params.update(x.pair_params(f"long_{index}", field, header))
        long_cases.append(f"when length(cast({x.ident(header)} as {x.text_type})) > {MAX_VALUE_CHARS} "
                          f"then {x.pair(f'long_{index}')}")
    long_field = f"case {' '.join(long_cases)} end" if long_cases else x.null_pair

    def field(name: str) -> str:
        return _field(mapping, name, x)

    typed_columns = ["_row", "order_id", "customer_id", "ts_text", "order_ts", "amount_text", "amount",
                     "refunded_text", "refunded_amount", "line_amount_text", "line_amount", "quantity_text", "quantity",
                     "unit_price_text", "unit_price", "sku", "status_text", "status_key", "cancelled_at", "paid_text",
                     "currency", *schema.DIMENSIONS, "_long"]
    worded_columns = [c for c in typed_columns if c != "status_key"] + ["net_amount", "status_known", "word_status"]
    sql = f"""
        with typed as (
            select
                rowid + $first_data_row as _row,
                {x.clean_id(field('order_id'))} as order_id,
                {x.clean_customer(field('customer_id'))} as customer_id,
                {x.clean_text(field('order_ts'))} as ts_text,
                -- the common ISO form first, without the clean-up (2 s of 3 at 10M rows); the same result
                case
                    when {x.timestamp(field('order_ts'), ISO_FORMATS[:1])} >= {FOUR_DIGIT_YEARS}
                        then {x.timestamp(field('order_ts'), ISO_FORMATS[:1])}
                    else {x.timestamp(x.date_text(field('order_ts')), date_formats, param='$formats')}
                end as order_ts,
                {x.clean_text(field('amount'))} as amount_text,
                {x.parse_number(field('amount'))} as amount,
                {x.clean_text(field('refunded_amount'))} as refunded_text,
                -- a refund is money given back however it is signed: some exports write it as -30.00
                abs({x.parse_number(field('refunded_amount'))}) as refunded_amount,
                {x.clean_text(field('line_amount'))} as line_amount_text,
                {x.parse_number(field('line_amount'))} as line_amount,
                {x.clean_text(field('quantity'))} as quantity_text,
                {x.parse_number(field('quantity'))} as quantity,
                {x.clean_text(field('unit_price'))} as unit_price_text,
                {x.parse_number(field('unit_price'))} as unit_price,
                {x.clean_id(field('sku'))} as sku,
                {x.clean_text(field('status'))} as status_text,
                {x.status_word(field('status'))} as status_key,
                {x.clean_text(field('cancelled_at'))} as cancelled_at,
                {x.clean_text(field('paid_at'))} as paid_text,
                {_currency(mapping, x)} as currency,
                {dims},
                {long_field} as _long  -- [field, header] of a mapped value too long to be real
            from {source}
        )
        , worded as (
            select
                {x.columns_except(("status_key",), "typed", typed_columns)},
                case when $already_net then amount else amount - coalesce(refunded_amount, 0) end as net_amount,
                status_words.status is not null as status_known,
                case
                    when typed.cancelled_at is not null then 'cancelled'
                    when $prefix is not null and {x.starts_with('typed.order_id', '$prefix')} then 'cancelled'
                    when $paid_rule and typed.paid_text is null then 'unpaid'
                    when typed.status_text is null then null
                    else coalesce(status_words.status, 'valid')
                end as word_status
            from typed
            left join status_words on status_words.word = typed.status_key
        )
        select
            {x.columns_except(("word_status",), "worded", worded_columns)},
            case
                when coalesce(word_status, 'valid') = 'valid' and refunded_amount > 0 and net_amount = 0
                    then 'refunded'
                else word_status
            end as status
        from worded
        """
    params = {"first_data_row": first_data_row, "prefix": prefix, "paid_rule": paid_rule,
              "already_net": refunds == ALREADY_NET, **long_params}
    if x.engine == "duckdb":
        params["formats"] = date_formats
    return sql, params


def build_issues(con, mapping: Mapping, settings: ParseSettings, latest_allowed) -> None:
    """Create `issues` (every problem found) and the view `accepted` (rows of clean orders) from
    `parsed`. `con` is DuckDB's connection or a store.spark.SparkConnection: every step is a temporary
    table or view made by one query, so the same SQL runs on both engines (docs/scale-out.md)."""
    params_all = {
        "latest_allowed": latest_allowed,
        "earliest_allowed": EARLIEST_ORDER,
        "main_currency": settings.main_currency,
        "line_level": mapping.is_line_level,
    }
    checks, params = [], {}
    if mapping.columns:
        checks.append(
            f"""
            select _row as row, 'value_too_long' as code, _long[1] as field, _long[2] as column_name,
                cast(null as varchar) as value,
                'value longer than {MAX_VALUE_CHARS:,} characters; check the column mapping' as reason,
                'rejected' as severity
            from parsed where _long is not null
            """
        )
    for index, (code, field, condition, value, reason, severity) in enumerate(ROW_CHECKS):
        if field not in mapping.columns and code != "currency_mismatch":
            continue
        params.update({f"code_{index}": code, f"field_{index}": field,
                       f"column_{index}": mapping.columns.get(field, ""), f"reason_{index}": reason,
                       f"severity_{index}": severity})
        params.update({k: v for k, v in params_all.items() if f"${k}" in condition})
        checks.append(
            f"""
            select _row, $code_{index}, $field_{index}, $column_{index}, cast({value} as varchar), $reason_{index},
                $severity_{index}
            from parsed where _long is null and ({condition})  -- a too-long value was read as null
            """
        )
    con.execute(f"create or replace temp table row_issues as {_issue_rows(checks)}", params)
    found = ["row_issues"]
    for name, query, query_params in _order_checks(mapping, settings.refunds):
        _create_clean(con, found)
        con.execute(f"create or replace temp table {name} as {query}", query_params)
        found.append(name)
    _create_clean(con, found)
    every = " union all ".join(f"select * from {name}" for name in found)
    con.execute(
        f"""
        create or replace temp table issues as
        select row, code, field, column_name,
            case when length(value) > {ISSUE_VALUE_CHARS} then left(value, {ISSUE_VALUE_CHARS}) || '…'
                else value end as value,
            reason, severity
        from ({every}) as found
        """
    )
    con.execute(
        """
        create or replace temp view accepted as
        select * from clean
        where _row not in (select row from issues where code = 'duplicate_row' and row is not null)
        """
    )


def _issue_rows(selects: list[str]) -> str:
    """The issue list's columns and types over `selects` (each giving them in this order)."""
    columns = [column.split() for column in ISSUES_COLUMNS.split(", ")]
    typed = ", ".join(f"cast(c{i} as {sql_type}) as {name}" for i, (name, sql_type) in enumerate(columns))
    aliases = ", ".join(f"c{i}" for i in range(len(columns)))
    parts = [f"select * from ({select}) as part({aliases})" for select in selects]
    return f"select {typed} from ({' union all '.join(parts)}) as checks"


def _create_clean(con, found: list[str]) -> None:
    """The views `rejected_so_far` (the rows the issue tables `found` so far reject) and `clean`: rows with
    an order id and no rejection. `not in` a list of rows, not a correlated `not exists`: DuckDB plans
    that as a join with every distinct row number of the file (5 s of the checks at 10M rows)."""
    rejected = " union all ".join(f"select row from {name} where severity = 'rejected' and row is not null"
                                  for name in found)
    con.execute(f"create or replace temp view rejected_so_far as {rejected}")
    con.execute("create or replace temp view clean as select * from parsed "
                "where order_id is not null and _row not in (select row from rejected_so_far)")


def _order_checks(mapping: Mapping, refunds: str | None = None) -> list[tuple[str, str, dict]]:
    """(table, query, parameters) of the problems visible only across rows of one order id: rejected
    siblings, duplicates, line totals. Each query reads `clean` as left by the ones before it."""
    column = mapping.columns.get("order_id", "")
    siblings = _issue_rows([
        """
        with rejected as (
            select p.order_id, min(p._row) as first_bad_row
            from row_issues i join parsed p on i.row = p._row
            where i.severity = 'rejected' and p.order_id is not null
            group by p.order_id
        )
        select clean._row, 'sibling_rejected', 'order_id', $column, clean.order_id,
            'another row of this order was rejected (row ' || r.first_bad_row || '), so the order is left out',
            'rejected'
        from clean join rejected r on clean.order_id = r.order_id
        """
    ])
    # an order-level row repeated identically is counted once: every field compared, the dimensions too (two
    # drinks of one card at one minute, Latte and Cappuccino, were one drink)
    compared = "customer_id" if mapping.is_line_level else \
        ", ".join(("customer_id", "order_ts", "amount", "refunded_amount", "status", *schema.DIMENSIONS))
    # ids on more than one row of the file, from the narrow id column alone; the rest of the check
    # reads only their rows (otherwise every clean row is materialised: 3 s at 10M rows)
    duplicates = _issue_rows([
        f"""
        with repeated_ids as (
            select order_id from parsed where order_id is not null group by order_id having count(*) > 1
        ),
        -- the clean rows of those ids: their rows first, then the rejected ones left out (the other way
        -- round, DuckDB checks every row of the file against the rejected ones: 0.5 s at 10M rows)
        candidates as (
            select * from (
                select * from parsed where order_id in (select order_id from repeated_ids)
            ) as repeated_rows
            where _row not in (select row from rejected_so_far)
        ),
        repeated as (
            select order_id from candidates group by order_id having count(*) > 1
        ),
        versions as (
            select
                order_id,
                count(distinct ({compared})) as versions,
                count(distinct amount) as amounts,
                min(_row) as first_row
            from candidates
            where order_id in (select order_id from repeated)
            group by order_id
        ),
        -- the row list in an aggregate of its own: Spark 4.3 fails (ClassCastException) on an ordered
        -- string_agg beside two distinct counts
        row_lists as (
            select order_id, string_agg(cast(_row as varchar), ', ' order by _row) as rows
            from candidates
            where order_id in (select order_id from repeated)
            group by order_id
        ),
        per_order as (
            select versions.*, row_lists.rows
            from versions join row_lists on versions.order_id = row_lists.order_id
        )
        select candidates._row,
            case when versions > 1 or amounts > 1 then 'duplicate_conflict' else 'duplicate_row' end,
            'order_id', $column, candidates.order_id,
            case when versions > 1 or amounts > 1
                then 'order id appears in rows ' || rows || ' with different values; fix the export'
                else 'same order as row ' || first_row || '; counted once' end,
            case when versions > 1 or amounts > 1 then 'rejected' else 'warning' end
        from candidates join per_order on candidates.order_id = per_order.order_id
        where versions > 1 or amounts > 1 or (not $line_level and candidates._row <> first_row)
        """
    ])
    checks = [("sibling_issues", siblings, {"column": column}),
              ("duplicate_issues", duplicates, {"column": column, "line_level": mapping.is_line_level})]
    if not mapping.is_line_level:
        return checks  # order-level files: dates and amounts were checked row by row
    amount_column = next((mapping.columns[f] for f in ("amount", "line_amount", "unit_price") if f in mapping.columns), "")
    line_value = _line_value(mapping)
    # refund lines of a negative amount and no line of a sale: the sale is in another export (Square's next one)
    refund_only = f"({_has_refund_line(line_value)} and not {HAS_VALID_LINE})" if line_value else "false"
    # whether the order's amount had its refund taken off (an order total already net of it has not)
    refund_subtracted = "false" if "amount" in mapping.columns and refunds == ALREADY_NET else "true"
    refund_reason = ("'the refund is larger than the amount paid'" if "amount" in mapping.columns else
                     "'the refund is larger than the amount the lines add up to'")
    totals = _issue_rows([
        f"""
        with per_order as (
            select
                order_id,
                min(_row) as first_row,
                min(order_ts) as order_ts,
                {_order_amount(mapping, refunds)} as order_amount,
                coalesce(max(refunded_amount), 0) as refunded,
                {_order_status(mapping, refunds)} as order_status,
                {refund_only} as refund_only
            from clean
            group by order_id
        ),
        problems as (
            select
                order_id,
                order_amount,
                refunded,
                case
                    when order_ts is null then 'missing_date'
                    when refund_only then 'refund_without_sale'
                    when order_amount is null and order_status = 'valid' then 'missing_amount'
                    -- the refund is larger than the lines: worded as the order-level check words it
                    when order_amount < 0 and order_status = 'valid' and {refund_subtracted}
                        and refunded > 0 and order_amount + refunded >= 0 then 'refund_exceeds_amount'
                    when order_amount < 0 and order_status = 'valid' then 'negative_amount'
                    -- lines that add up to zero (a refund of the whole order is not a zero amount)
                    when order_amount = 0 and refunded = 0 and order_status = 'valid' then 'zero_amount'
                end as code,
                first_row
            from per_order
        )
        select clean._row, problems.code,
            case code when 'missing_date' then 'order_ts' when 'refund_exceeds_amount' then 'refunded_amount'
                else 'amount' end,
            case code when 'missing_date' then $date_column when 'refund_exceeds_amount' then $refund_column
                else $amount_column end,
            case when code in ('negative_amount', 'zero_amount', 'refund_without_sale')
                    then cast(cast(order_amount as decimal(18, 2)) as varchar)
                when code = 'refund_exceeds_amount'
                    then 'paid ' || cast(cast(order_amount + refunded as decimal(18, 2)) as varchar)
                        || ', refunded ' || cast(cast(refunded as decimal(18, 2)) as varchar) end,
            case code
                when 'missing_date' then 'no row of this order has a date'
                when 'missing_amount' then 'missing amount'
                when 'zero_amount' then 'order amount is zero'
                when 'refund_exceeds_amount' then {refund_reason}
                when 'refund_without_sale'
                    then 'a refund whose sale is not in this file: upload it with the export that holds the sale'
                else 'the lines of this order add up to a negative amount on a valid order'
            end,
            case when code = 'zero_amount' then 'warning' else 'rejected' end
        from clean join problems on clean.order_id = problems.order_id
        -- a warning is about the order: said once, on its first line
        where problems.code is not null and (problems.code <> 'zero_amount' or clean._row = problems.first_row)
        """
    ])
    checks.append(("total_issues", totals, {"amount_column": amount_column, "date_column": mapping.columns["order_ts"],
                                            "refund_column": mapping.columns.get("refunded_amount", "")}))
    if line_value is None:
        return checks
    left_out = _issue_rows([
        f"""
        with valid_orders as (
            select order_id from clean group by order_id having {HAS_VALID_LINE}
        )
        select _row, 'line_left_out', 'status', $status_column, status_text,
            'line ' || status || ' in an order with valid lines: left out of the order''s amount',
            'warning'
        from clean
        where {_left_out_line(mapping, line_value)} and {line_value} is not null
            and order_id in (select order_id from valid_orders)
        """,
    ])
    status_column = mapping.columns.get("status", mapping.columns.get("cancelled_at", ""))
    return checks + [("left_out_issues", left_out, {"status_column": status_column})]


# a line-level order is valid when any of its lines says so (a line without a status does not vote: Shopify
# states the order's status on its first line only); else it takes its first stated status
HAS_VALID_LINE = "count(*) filter (where status = 'valid') > 0"


def _line_value(mapping: Mapping) -> str | None:
    """SQL: a line's value, when the order's amount is the sum of its lines (not an order total on its rows)."""
    if "amount" in mapping.columns:
        return None
    return "line_amount" if "line_amount" in mapping.columns else "quantity * unit_price"


def _left_out_line(mapping: Mapping, line_value: str) -> str:
    """SQL: a line left out of the amount of an order that other lines make valid (Wayfair states each line's
    status): cancelled or unpaid; refunded too when its amount is positive (the item, refunded), unless the file
    has a refund column, which subtracts the refund; a refund line of a negative amount gives the money back
    itself (Square's refund of a sale under the same payment id): kept, and subtracting, unless a refund column
    already holds that money."""
    # with a refund column the column gives the money back, and a negative refund line would repeat it
    left_out_refund = "< 0" if "refunded_amount" in mapping.columns else ">= 0"
    return f"(status in ('cancelled', 'unpaid') or (status = 'refunded' and coalesce({line_value}, 0) {left_out_refund}))"


def _has_refund_line(line_value: str) -> str:
    """Aggregate: whether the order has a refunded line of a negative amount (money given back by the line)."""
    return f"count(*) filter (where status = 'refunded' and {line_value} < 0) > 0"


def _lines_sum(line_value: str, mapping: Mapping) -> str:
    """Aggregate: the sum of an order's line values, without the lines left out of a valid order."""
    kept = f"status is null or not {_left_out_line(mapping, line_value)}"
    return f"case when {HAS_VALID_LINE} then sum({line_value}) filter (where {kept}) else sum({line_value}) end"


def _lines_total(mapping: Mapping) -> str:
    """Aggregate: the sum of quantity x unit price, typed (8 decimals: quantity and price have 4 each) to
    leave room to subtract a refund: Spark would otherwise cut the result to 7 decimals, DuckDB keeps 8."""
    return f"cast({_lines_sum('quantity * unit_price', mapping)} as decimal(30, 8))"


def _order_amount(mapping: Mapping, refunds: str | None = None) -> str:
    """Aggregate expression for an order's net amount: the order total, else the sum of its lines (of a
    valid order, without the lines `_left_out_line` names)."""
    if "amount" in mapping.columns:
        subtracted = "" if refunds == ALREADY_NET else " - coalesce(max(refunded_amount), 0)"
        amount = f"max(amount){subtracted}"
        if "line_amount" in mapping.columns:
            amount = f"coalesce({amount}, {_lines_sum('line_amount', mapping)})"
        elif "quantity" in mapping.columns and "unit_price" in mapping.columns:
            amount = f"coalesce({amount}, {_lines_total(mapping)})"
    elif "line_amount" in mapping.columns:
        amount = f"{_lines_sum('line_amount', mapping)} - coalesce(max(refunded_amount), 0)"
    else:
        amount = f"{_lines_total(mapping)} - coalesce(max(refunded_amount), 0)"
    return amount


def _order_status(mapping: Mapping, refunds: str | None = None) -> str:
    """Aggregate expression for a line-level order's status: valid when a line is (HAS_VALID_LINE), else its
    first stated status; refunded when it is valid and its refund (a refund column, or refund lines of a
    negative amount) takes its whole sum, as one row's would be."""
    stated = f"case when {HAS_VALID_LINE} then 'valid' else coalesce({_first('status')}, 'valid') end"
    line_value = _line_value(mapping)
    refund_lines = f" or {_has_refund_line(line_value)}" if line_value else ""
    return (f"case when {stated} = 'valid' and (coalesce(max(refunded_amount), 0) > 0{refund_lines}) "
            f"and coalesce({_order_amount(mapping, refunds)}, 0) = 0 then 'refunded' else {stated} end")


def _first(column: str) -> str:
    """Aggregate: the column's value on the order's first row that has one."""
    return f"arg_min({column}, _row) filter (where {column} is not null)"


def orders_query(mapping: Mapping, refunds: str | None = None) -> str:
    """The batch's orders from `accepted`: one row per accepted order, the store's columns and types."""
    if mapping.is_line_level:
        dims = ",\n".join(f"{_first(d)} as {d}" for d in schema.DIMENSIONS)
        rows = f"""
            select
                order_id,
                {_first('customer_id')} as customer_id,
                min(order_ts) as order_ts,
                coalesce({_order_amount(mapping, refunds)}, 0) as amount,  -- no amount: a cancellation, checked above
                {_order_status(mapping, refunds)} as status,
                {dims},
                {_first('currency')} as currency,
                min(_row) as source_row
            from accepted
            group by order_id
        """
    else:  # one row per order already: duplicates were dropped or rejected
        kept = {"amount": "coalesce(net_amount, 0)",  # no amount: not valid, checked above
                "status": "coalesce(status, 'valid')", "source_row": "_row"}
        rows = f"select {', '.join(f'{kept.get(c, c)} as {c}' for c in schema.ORDERS)} from accepted"
    columns = ", ".join(f"cast({c} as {t}) as {c}" for c, t in schema.ORDERS.items())
    return f"select {columns} from ({rows}) as orders"


def lines_query(mapping: Mapping) -> str | None:
    """The batch's order lines from `accepted`, or None when the file has none to keep (an order-level
    file, or lines with neither a SKU nor a category)."""
    if not (mapping.is_line_level and ("sku" in mapping.columns or "category" in mapping.columns)):
        return None
    line_columns = ", ".join(f"cast({c} as {t}) as {c}" for c, t in schema.ORDER_LINES.items())
    return f"select {line_columns} from (select *, _row as source_row from accepted) as lines"


def build_orders(con: duckdb.DuckDBPyConnection, mapping: Mapping, table_path: Callable[[str], Path],
                 refunds: str | None = None) -> None:
    """Write the batch's `orders` and `order_lines` (if any) to `table_path(name)`, and read them back
    as `orders_out` and `lines_out`. Written straight to Parquet: 10M orders held as a table would
    spill past the memory limit first."""
    orders_path = sql_path(table_path("orders"))
    con.execute(f"copy ({orders_query(mapping, refunds)}) to {orders_path} (format parquet)")
    lines = lines_query(mapping)
    if lines is not None:
        lines_path = sql_path(table_path("order_lines"))
        con.execute(f"copy ({lines}) to {lines_path} (format parquet)")
    read_orders_back(con, table_path, lines is not None)


def read_orders_back(con: duckdb.DuckDBPyConnection, table_path: Callable[[str], Path], has_lines: bool) -> None:
    """The views `orders_out` and `lines_out` over the batch's written files (no lines: an empty table)."""
    con.execute(f"create view orders_out as select * from read_parquet({sql_path(table_path('orders'))})")
    if has_lines:
        con.execute(f"create view lines_out as select * from read_parquet({sql_path(table_path('order_lines'))})")
    else:
        con.execute(f"create table lines_out ({schema.column_list(schema.ORDER_LINES)})")
