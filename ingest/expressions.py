"""The clean-up of export values as SQL expressions, spelled for each engine: the one place where
ingest's value rules differ between DuckDB and Spark.

DuckDB runs them as the temp macros of `ingest.normalise.MACROS` (defined once, called by name), so
its SQL text is unchanged. Spark has no macros: each function returns the whole expression in Spark
SQL, with Java regular expressions written to behave as DuckDB's RE2 ones do:
- RE2's `\\s` is [\\t\\n\\f\\r ] (Java's also matches \\x0B): spelled out as `WS`;
- RE2's `$` is the end of the text (Java's also matches before a final line end): `\\z`;
- DuckDB's regexp_replace without 'g' replaces the first match only, Spark's every match: such
  patterns are anchored (`^`, `\\z`) so that only one match is possible;
- backreferences are `$1` (Java), not `\\1`; literals are raw (r'...'), so no backslash is eaten;
  no pattern holds a quote (`\\x27` instead).
Dates: DuckDB's strptime formats become Java ones (`%Y-%m-%d` -> `y-M-d`, variable widths like
strptime's), tried in order like try_strptime's list. tests/test_spark_ingest.py checks every
function on both engines over the real fixtures' values and a grid of date texts.
"""

MISSING_MARKERS = ("NA", "N/A", "NAN", "NULL", "NONE", "#N/A", "-")
WS = r"[\t\n\f\r ]"  # RE2's \s
MAX_VALUE_CHARS = 1_000  # as ingest.normalise.MAX_VALUE_CHARS (a longer value is rejected, never cleaned)


def _regex(pattern: str) -> str:
    """A Spark raw string literal holding a Java regular expression."""
    assert "'" not in pattern, pattern
    return f"r'{pattern}'"


class DuckDBSpelling:
    """The macros of ingest.normalise.MACROS, called by name, and DuckDB's own spellings.

    With a `prefix`, each value (`value(v)`) and its cleaned text are columns computed once, in two
    projections before the query (`lets()`, as SparkSpelling's), and the rules take the cleaned text
    (`id_of(v, c)`...): a macro's argument is evaluated wherever it appears, so clean_id(v) cleaned
    the value twice and parse_number(v) up to seven times (`parsed` at 1M rows: 4.9 s CPU, now 1.2 s)."""

    engine = "duckdb"
    text_type = "varchar"
    null_text = "null::varchar"
    null_pair = "null::varchar[]"  # [field, header] of a value too long to be real

    def __init__(self, prefix: str | None = None):
        self.prefix = prefix
        self._lets: dict[tuple[str, str], tuple[str, str, int]] = {}  # (kind, v) -> (column, expression, stage)

    def _let(self, kind: str, v: str, expression: str, stage: int) -> str:
        key = (kind, v)
        if key not in self._lets:
            self._lets[key] = (f"{self.prefix}_{kind}_{len(self._lets)}", expression, stage)
        return self._lets[key][0]

    def lets(self) -> list[list[tuple[str, str]]]:
        """The columns the query names, per projection (the second reads the first's)."""
        return [[(name, expression) for name, expression, stage in self._lets.values() if stage == wanted]
                for wanted in (1, 2)]

    def regex(self, pattern: str) -> str:
        """A string literal holding a regular expression (RE2)."""
        assert "'" not in pattern, pattern
        return f"'{pattern}'"

    def value(self, v: str) -> str:
        """A mapped value's text (named once with a prefix: every rule reads it)."""
        return self._let("value", v, v, 1) if self.prefix else v

    def ident(self, name: str) -> str:
        return '"' + name.replace('"', '""') + '"'

    def pair(self, param: str) -> str:
        """A two-text list bound as one parameter (see pair_params)."""
        return f"${param}"

    def pair_params(self, param: str, first: str, second: str) -> dict:
        return {param: [first, second]}

    def starts_with(self, text: str, prefix: str) -> str:
        return f"starts_with({text}, {prefix})"

    def columns_except(self, columns: tuple[str, ...], relation: str, all_columns: list[str]) -> str:
        from store.models import dialect

        return dialect.columns_except(columns, relation)

    def first_part(self, text: str) -> str:
        """The text's first part between ASCII or ideographic spaces (an address's province)."""
        return f"nullif(split_part(regexp_replace({text}, '[\\s\\x{{3000}}]+', ' ', 'g'), ' ', 1), '')"

    def clean_text(self, v: str) -> str:
        return self._let("clean", v, f"clean_text({v})", 2) if self.prefix else f"clean_text({v})"

    def _on_clean(self, macro: str, v: str, rule: str, with_value: bool = True) -> str:
        """`macro(v)`, or with a prefix the same rule on the cleaned text's column (`rule(v, c)`)."""
        if not self.prefix:
            return f"{macro}({v})"
        return f"{rule}({v}, {self.clean_text(v)})" if with_value else f"{rule}({self.clean_text(v)})"

    def missing_marker(self, v: str) -> str:
        return self._on_clean("missing_marker", v, "missing_marker_of")

    def clean_id(self, v: str) -> str:
        return self._on_clean("clean_id", v, "id_of")

    def clean_tier(self, v: str) -> str:
        return self._on_clean("clean_tier", v, "tier_of")

    def clean_customer(self, v: str) -> str:
        return self._on_clean("clean_customer", v, "customer_of")

    def money_text(self, v: str) -> str:
        return self._on_clean("money_text", v, "money_of", with_value=False)

    def parse_number(self, v: str) -> str:
        return self._on_clean("parse_number", v, "number_of", with_value=False)

    def currency_marker(self, v: str) -> str:
        return f"currency_marker({v})"

    def date_text(self, v: str) -> str:
        return self._on_clean("date_text", v, "date_of", with_value=False)

    def status_word(self, v: str) -> str:
        return self._on_clean("status_word", v, "status_of", with_value=False)

    def timestamp(self, v: str, formats: list[str], param: str | None = None) -> str:
        """The first of `formats` (strptime's) that reads the text, else null; `param`: the SQL
        parameter that holds the list (DuckDB binds it; Spark writes our formats out)."""
        if param:
            return f"try_strptime({v}, {param})"
        quoted = ", ".join("'" + f.replace("'", "''") + "'" for f in formats)
        return f"try_strptime({v}, [{quoted}])" if len(formats) > 1 else f"try_strptime({v}, {quoted})"


# Java regular expressions of SparkSpelling (module constants: an f-string field cannot hold a backslash)
QUOTED = f'(?d)^{WS}*=?"(.*)"{WS}*\\z'  # ="123" (Taobao), "123"; (?d): `.` stops at \n only, as RE2's
LEADING_TAB_OR_QUOTE = r"^[\t\x27]+"  # '123 (Excel)
EXCEL_FLOAT_ID = r"^[0-9]+\.0+\z"
TRAILING_ZEROS = r"\.0+\z"
MONEY_MARKS = f"(CNY|RMB|USD|EUR|GBP|JPY|HKD|元|¥|￥|\\$|€|£|{WS})"
THOUSANDS_COMMA = r"^[-+]?[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?\z"
THOUSANDS_DOT_DECIMAL_COMMA = r"^[-+]?[0-9]{1,3}(\.[0-9]{3})+,[0-9]{1,2}\z"
DECIMAL_COMMA = r"^[-+]?[0-9]+,[0-9]{1,2}\z"
CURRENCY_MARKS = [("CNY", "(CNY|RMB|元|¥|￥)"), ("EUR", "(EUR|€)"), ("GBP", "(GBP|£)"), ("JPY", "(JPY)"),
                  ("HKD", "(HKD)"), ("USD", r"(USD|\$)")]
DAY_MONTH = r"^([0-9]{1,2}[/.\-][0-9]{1,2}[/.\-]|[A-Za-z]{3}-[0-9]{1,2}-)"  # 04-30-22, 20.02.11, Jan-18-16
YEAR_2000S = DAY_MONTH + f"([0-6][0-9](?:{WS}|\\z))"
YEAR_1900S = DAY_MONTH + f"([7-9][0-9](?:{WS}|\\z))"
FIRST_DIGIT_T_DIGIT = r"(?s)^(.*?[0-9])T([0-9])"  # the first one only, as DuckDB's regexp_replace without 'g'
TIME_ZONE = f"(:[0-9]{{2}}(?:\\.[0-9]+)?){WS}*(?:Z|UTC|GMT|[+-][0-9]{{2}}:?[0-9]{{2}})\\z"
STATUS_SEPARATORS = r"[\t\n\f\r _\-]+"
SPACE_SEPARATORS_AT_ENDS = r"^\p{Zs}+|\p{Zs}+\z"  # DuckDB's trim: every Unicode space separator
IDEOGRAPHIC_OR_WS = r"[\t\n\f\r \x{3000}]+"


class SparkSpelling:
    """The same values in Spark SQL (session time zone UTC, timeParserPolicy CORRECTED).

    A macro's argument is written wherever it is used, so parse_number(v) would hold v about fifty
    times: Spark's planner and code generator choke on such trees (100 s for 4,000 values). So the
    cleaned text, the money text and the date text of each value are columns computed once, in two
    projections before the query (`lets()`: [(column, expression)] per projection), and the query
    names them. The query must read a relation that has them (ingest.spark_parse.let_view)."""

    engine = "spark"
    text_type = "string"
    null_text = "cast(null as string)"
    null_pair = "cast(null as array<string>)"

    def __init__(self, prefix: str = "_let"):
        self.prefix = prefix
        self._lets: dict[tuple[str, str], tuple[str, str, int]] = {}  # (kind, v) -> (column, expression, stage)

    def _let(self, kind: str, v: str, expression, stage: int) -> str:
        key = (kind, v)
        if key not in self._lets:
            name = f"{self.prefix}_{kind}_{len(self._lets)}"
            self._lets[key] = (name, expression(), stage)
        return self._lets[key][0]

    def lets(self) -> list[list[tuple[str, str]]]:
        """The columns the query names, per projection (the second reads the first's)."""
        return [[(name, expression) for name, expression, stage in self._lets.values() if stage == wanted]
                for wanted in (1, 2)]

    def regex(self, pattern: str) -> str:
        """A string literal holding a regular expression (Java's; written to match as RE2 does)."""
        return _regex(pattern)

    def value(self, v: str) -> str:
        """A mapped value's text (its cleaned text is the column computed once)."""
        return v

    def ident(self, name: str) -> str:
        return "`" + name.replace("`", "``") + "`"

    def pair(self, param: str) -> str:
        return f"array(${param}_0, ${param}_1)"

    def pair_params(self, param: str, first: str, second: str) -> dict:
        return {f"{param}_0": first, f"{param}_1": second}

    def starts_with(self, text: str, prefix: str) -> str:
        return f"startswith({text}, {prefix})"

    def columns_except(self, columns: tuple[str, ...], relation: str, all_columns: list[str]) -> str:
        return ", ".join(f"{relation}.{c}" for c in all_columns if c not in columns)

    def first_part(self, text: str) -> str:
        return f"nullif(split_part(regexp_replace({text}, {_regex(IDEOGRAPHIC_OR_WS)}, ' '), ' ', 1), '')"

    def clean_text(self, v: str) -> str:
        return self._let("clean", v, lambda: self._clean_text(v), 1)

    def _clean_text(self, v: str) -> str:
        v = f"({v})"
        unwrapped = f"regexp_replace(regexp_replace({v}, {_regex(QUOTED)}, '$1'), {_regex(LEADING_TAB_OR_QUOTE)}, '')"
        # DuckDB's trim removes every Unicode space separator (U+3000 too), Spark's only ' '
        return (f"nullif(regexp_replace(case when instr({v}, '\"') > 0 or instr({v}, '=') > 0 "
                f"or instr({v}, chr(39)) > 0 or instr({v}, chr(9)) > 0 then {unwrapped} else {v} end, "
                f"{_regex(SPACE_SEPARATORS_AT_ENDS)}, ''), '')")

    def missing_marker(self, v: str) -> str:
        markers = ", ".join(f"'{m}'" for m in MISSING_MARKERS)
        return f"(length({v}) <= {MAX_VALUE_CHARS} and upper({self.clean_text(v)}) in ({markers}))"

    def clean_id(self, v: str) -> str:
        return f"case when {self.missing_marker(v)} then null else {self.clean_text(v)} end"

    def clean_tier(self, v: str) -> str:
        return (f"case when {self.missing_marker(v)} and lower({self.clean_text(v)}) <> 'none' then null "
                f"else {self.clean_text(v)} end")

    def clean_customer(self, v: str) -> str:
        text = self.clean_text(v)
        return (f"case when {self.missing_marker(v)} then null "
                f"when {text} rlike {_regex(EXCEL_FLOAT_ID)} then regexp_replace({text}, {_regex(TRAILING_ZEROS)}, '') "
                f"when instr({text}, '@') > 0 then lower({text}) else {text} end")

    def money_text(self, v: str) -> str:
        text = self.clean_text(v)
        return self._let("money", v, lambda: f"regexp_replace(upper({text}), {_regex(MONEY_MARKS)}, '')", 2)

    def parse_number(self, v: str) -> str:
        money = self.money_text(v)
        plain = f"try_cast({self.clean_text(v)} as decimal(18, 4))"
        return (f"case when {plain} is not null then {plain} "
                f"when {money} rlike {_regex(THOUSANDS_COMMA)} "
                f"then try_cast(replace({money}, ',', '') as decimal(18, 4)) "
                f"when {money} rlike {_regex(THOUSANDS_DOT_DECIMAL_COMMA)} "
                f"then try_cast(replace(replace({money}, '.', ''), ',', '.') as decimal(18, 4)) "
                f"when {money} rlike {_regex(DECIMAL_COMMA)} "
                f"then try_cast(replace({money}, ',', '.') as decimal(18, 4)) "
                f"else try_cast({money} as decimal(18, 4)) end")

    def currency_marker(self, v: str) -> str:
        cases = " ".join(f"when upper({v}) rlike {_regex(pattern)} then '{code}'" for code, pattern in CURRENCY_MARKS)
        return f"case {cases} end"

    def four_digit_year(self, v: str) -> str:
        # Java reads $120 as group 1 then "20": there is no group 12
        inner = f"regexp_replace({v}, {_regex(YEAR_2000S)}, '$120$2')"
        return f"regexp_replace({inner}, {_regex(YEAR_1900S)}, '$119$2')"

    def date_text(self, v: str) -> str:
        text = self.clean_text(v)
        return self._let("date", v, lambda: self._date_text(text), 2)

    def _date_text(self, text: str) -> str:
        words = f"replace(replace(replace({text}, '年', '-'), '月', '-'), '日', '')"
        no_t = f"regexp_replace({words}, {_regex(FIRST_DIGIT_T_DIGIT)}, '$1 $2')"
        return self.four_digit_year(f"regexp_replace({no_t}, {_regex(TIME_ZONE)}, '$1')")

    def status_word(self, v: str) -> str:
        return f"lower(regexp_replace({self.clean_text(v)}, {_regex(STATUS_SEPARATORS)}, ' '))"

    def timestamp(self, v: str, formats: list[str], param: str | None = None) -> str:
        """The first of `formats` (strptime's) that reads the text, else null, as timestamp_ntz."""
        tries = [f"try_to_timestamp({v}, '{java_format(f)}')" for f in formats]
        first = tries[0] if len(tries) == 1 else f"coalesce({', '.join(tries)})"
        return f"cast({first} as timestamp_ntz)"


STRPTIME_TO_JAVA = {"%Y": "y", "%m": "M", "%d": "d", "%H": "H", "%M": "m", "%S": "s", "%I": "h", "%p": "a",
                    "%f": "SSSSSS", "%b": "MMM"}


def java_format(strptime_format: str) -> str:
    """A strptime format (%Y-%m-%d %H:%M:%S) as a Spark datetime pattern with strptime's variable
    widths (y-M-d H:m:s: one or two digits for a month, any for a year)."""
    out, i = [], 0
    while i < len(strptime_format):
        token = strptime_format[i:i + 2]
        if token in STRPTIME_TO_JAVA:
            out.append(STRPTIME_TO_JAVA[token])
            i += 2
        else:
            char = strptime_format[i]
            assert char.isascii() and not char.isalpha() and char != "'", strptime_format
            out.append(char)
            i += 1
    return "".join(out)


def spelling_for(engine: str):
    """The spelling of `engine` ("duckdb" or "spark")."""
    return SparkSpelling() if engine == "spark" else DuckDBSpelling()
