"""One upload, end to end: read, map, validate, write a batch, rebuild derived tables.

Everything is staged inside the store's staging folder and published in one step
(`Store.commit_batch`), so a refused or failed upload leaves the store exactly as it was.
"""

import tempfile
from contextlib import contextmanager
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path

import duckdb

from ingest import mapping as mapping_module
from ingest import privacy
from ingest.mapping import Mapping, Preset, status_key
from ingest.normalise import (
    MACROS,
    MAX_VALUE_CHARS,
    PARSED_COLUMNS,
    PARSED_IN_MEMORY_ROWS,
    _ident,
    ParseSettings,
    build_issues,
    build_orders,
    build_parsed,
    choose_date_order,
    main_currency,
    number_rows_as_orders,
    refund_rule,
    stated_currency,
)
from ingest.readers import ImportRefused, RawTable, load_raw
from ingest.records import RecordAccount, account, add_skipped_issues, mark_skipped_rows, number_rows_as_in_file
from store import MEMORY_LIMIT, Store, clean_file_name, quiet_connect, sql_path
from store.models import dialect

Progress = Callable[[float, str], None]  # (fraction done, a PROGRESS_STEPS code)
NO_CUSTOMER_NOTE = ("The file has no customer column: repurchase metrics need a customer id, so only "
                    "order-level figures (orders, revenue, average order value) can be read from it.")
REFUND_NOTES = {
    "already_net": "The paid amount is already net of refunds (total = paid + refund on the rows with a refund), "
                   "so refunds were not subtracted again.",
    "subtracted": "Refunds were subtracted from the paid amount; fully refunded orders count as refunded.",
}
ISSUE_EXAMPLES = 200  # issues listed in the report; all of them are stored with the batch
ENGINES = ("duckdb", "spark")  # what reads the file and builds the store (docs/scale-out.md)
# in the staging folder, for a file of more than PARSED_IN_MEMORY_ROWS rows; parsed.parquet beside it
PARSED_DATABASE = "parsed.duckdb"


@dataclass
class ImportReport:
    """What happened to one file; `to_dict()` is the CLI's JSON."""

    file: str
    preset: str | None
    mapping: dict[str, str]
    rows_read: int = 0
    rows_rejected: int = 0
    orders_accepted: int = 0
    lines_accepted: int = 0
    guest_orders: int = 0
    warnings: int = 0
    orders_replacing_earlier: int = 0
    currency: str | None = None
    date_order: str | None = None
    encoding: str | None = None
    first_order: str | None = None
    last_order: str | None = None
    issue_counts: dict[str, int] = field(default_factory=dict)
    issues: list[dict] = field(default_factory=list)
    batch_id: str | None = None
    seconds: float = 0.0  # the whole import, the late tables included
    # until the new store version was published (every page reads it from then on; the tables that move
    # with the last date, store.models.registry.LATE_TABLES, are built after it)
    published_seconds: float = 0.0
    pseudonymised: bool = False
    values_pseudonymised: dict[str, int] = field(default_factory=dict)  # file column -> rows with an e-mail/phone
    # what the file's rows mean (docs/importing.md): accepted orders that are not valid, by kind
    unpaid_orders: int = 0
    cancelled_orders: int = 0
    refunded_orders: int = 0
    refunds: str | None = None  # "already_net" | "subtracted" | None (no refunds in the file)
    refunds_note: str | None = None
    currency_source: str | None = None  # "file" | "preset" | "chosen" | None (not stated)
    customer_ids: bool = True  # False: no customer column, so no repurchase metrics from this file
    each_row_an_order: bool = False  # no order id column: each row's id was made from the row (docs/importing.md)
    notes: list[str] = field(default_factory=list)  # plain sentences about what the file cannot answer
    other_sheets: dict[str, int] = field(default_factory=dict)  # a workbook's sheets not read: name -> rows
    # every record accounted for: records_in_file = accepted + rejected + folded + skipped
    records_in_file: int = 0
    records_counted_by: str | None = None
    records_accepted: int = 0
    records_rejected: int = 0
    records_folded: int = 0
    records_skipped: int = 0
    skipped_reasons: dict[str, int] = field(default_factory=dict)
    # how the store's tables were updated: "append" (later orders added) or "full" (every table rebuilt)
    build_path: str | None = None
    build_path_reason: str | None = None  # why "full" (an overlapping or older batch...)
    engine: str = "duckdb"  # what read the file and built the store's tables: "duckdb" or "spark"

    def add_account(self, result: RecordAccount) -> None:
        """Copy the record equation's parts into the report."""
        self.records_in_file = result.records_in_file
        self.records_counted_by = result.counted_by
        self.records_accepted = result.accepted
        self.records_rejected = result.rejected
        self.records_folded = result.folded
        self.records_skipped = result.skipped
        self.skipped_reasons = dict(result.skipped_reasons)

    def to_dict(self) -> dict:
        return asdict(self)


def _contact_columns(mapping: Mapping) -> dict[str, list[str]]:
    """The text columns of `parsed` to search for e-mails and phone numbers: every mapped field's
    but the customer id's (pseudonymised whole, after its own cleaning)."""
    return {column: derived for field, (column, derived) in PARSED_COLUMNS.items()
            if field in mapping.columns and field != "customer_id"}


# the import's phases, as the code passed to the progress callback -> its English words (the CLI
# prints these; the app words the codes in the page's language)
PROGRESS_STEPS = {
    "waiting": "waiting for another upload or removal to finish",
    "reading": "reading file",
    "checking": "checking values",
    "building_orders": "building orders",
    "accounting": "accounting for every record",
    "writing": "writing batch",
    "rebuilding": "rebuilding derived tables",
    "summaries": "published; building the last-date summary tables",
    "done": "done",
}


def _no_progress(fraction: float, step: str) -> None:
    pass


@contextmanager
def _file_read_apart(path: Path):
    """(connection, raw table) of the file at `path`, read in a private temporary folder: what the Data page
    shows before an import reads, neither waiting for nor touching the store."""
    with tempfile.TemporaryDirectory(prefix="repurchase-preview-") as work:
        con = quiet_connect()
        try:
            con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"set temp_directory = {sql_path(Path(work) / 'spill')}")
            yield con, load_raw(con, Path(path), Path(work), count=False)
        finally:
            con.close()


def preview(path: Path, store: Store, preset_name: str | None = None, rows: int = 20):
    """The file's first rows and the mapping that would be used, without importing anything."""
    with _file_read_apart(path) as (con, raw):
        mapping = _mapping_for(raw, store, preset_name, None)
        frame = con.execute(f"select {dialect.columns_except(('rowid',))} from raw limit {int(rows)}").df()
    return frame, mapping


# the distinct status words read from a file for the Data page's question (a status column holds a few)
STATUS_VALUES_READ = 200


def status_words_in_file(path: Path, store: Store, columns: dict[str, str]) -> dict:
    """The words of the file's status column (`columns["status"]`), compared as the import compares them:
    `words`, most rows first, each {word (as written on most of its rows), key (as compared: an answer's key),
    rows, meaning}: valid, cancelled, unpaid or refunded by the built-in words and the recognised format's,
    None when unknown (the import counts it valid with a warning); at most STATUS_VALUES_READ of them, and
    `distinct`, how many there are. Values too long to import and repeated header rows are left out."""
    header = columns["status"]
    with _file_read_apart(path) as (con, raw):
        con.execute(MACROS)
        words = _mapping_for(raw, store, None, columns).status_words()
        text = f"cast({_ident(header)} as varchar)"
        keyed = f"""
            select status_word({text}) as key, clean_text({text}) as word, count(*) as rows
            from raw
            where length({text}) <= {MAX_VALUE_CHARS} and clean_text({text}) is not null
                and status_word({text}) <> $header_key
            group by 1, 2
        """
        # one pass over the file: the words' count is taken over all of them before the limit
        counted = con.execute(
            f"select key, first(word order by rows desc, word) as word, sum(rows) as rows, count(*) over () as keys "
            f"from ({keyed}) as k group by key order by rows desc, word limit {STATUS_VALUES_READ}",
            {"header_key": status_key(header)}).fetchall()
    return {"distinct": counted[0][3] if counted else 0,
            "words": [{"word": word, "key": key, "rows": int(rows), "meaning": words.get(key)}
                      for key, word, rows, _ in counted]}


def missing_fields(columns: dict[str, str], each_row_an_order: bool = False) -> list[str]:
    """The required fields (order_id, order_ts, amount: the amount or its parts) a mapping (field -> header)
    lacks: what the import would be refused for (no order id is needed when each row is one order)."""
    return Mapping(columns=dict(columns), each_row_an_order=each_row_an_order).missing_required_fields()


def currency_in_preview(frame, columns: dict[str, str]) -> str | None:
    """The currency the previewed rows state (a mapped currency column, else symbols or codes in the mapped
    amounts), by the import's own rule; None: the preview states none, so the import would not know it."""
    con = quiet_connect()
    try:
        con.execute(MACROS)
        con.register("preview_rows", frame)
        return stated_currency(con, Mapping(columns=dict(columns)), "preview_rows")
    finally:
        con.close()


def import_file(
    path: Path | str,
    store: Store,
    preset_name: str | None = None,
    columns: dict[str, str] | None = None,
    progress: Progress = _no_progress,
    now: datetime | None = None,
    user: str | None = None,
    via: str = "cli",
    pseudonym_key: str | None = None,
    currency: str | None = None,
    engine: str = "duckdb",
    spark_master: str | None = None,
    on_published: Callable[[ImportReport], None] | None = None,
    status_words: dict[str, str] | None = None,
    each_row_an_order: bool = False,
) -> ImportReport:
    """Import one export file into the store and return its report; raise ImportRefused if refused.

    `columns` (canonical field -> header) overrides the preset or automatic mapping. `user` and
    `via` go to the audit log (default: the operating-system user). `pseudonym_key` (default:
    $REPURCHASE_PSEUDONYM_KEY) replaces customer ids by keyed hashes before anything is written.
    `currency` (an ISO code) is the user's answer when neither the file nor its preset states one.
    `status_words` (word -> valid, cancelled, unpaid or refunded): what the user said the file's status words
    mean, over its preset's and the built-in ones (the Data page asks those it does not know).
    `each_row_an_order`: the file has no order id column (a till or vending log); each row is one order, its id
    made from the row's values (ingest.records.row_order_id_sql). A saved preset can say so too.
    `engine="spark"` reads and parses the file (or a folder or glob of Parquet files) with Apache
    Spark on `spark_master` (default $SPARK_MASTER, else local[*]); the store's tables are built by
    the store's own engine (`Store(engine=...)`; the CLI's --engine sets both). docs/scale-out.md.
    `on_published(report)`: called once the new store version is published, before its late tables are
    built (Store.commit_batch); the report is complete but for `seconds`.
    """
    if engine not in ENGINES:
        raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
    path = Path(path)
    if engine == "spark":
        from store.spark import spark_session

        session = spark_session(spark_master)  # the process's session: the store's Spark builds run on it too
    started = datetime.now()
    now = now or started
    key = pseudonym_key or privacy.key_from_env()

    def waiting() -> None:
        progress(0.0, "waiting")

    with store.staging(on_wait=waiting) as staging:
        key_id = privacy.check_store(clean_file_name(path.name), store.batches(), key)
        con = quiet_connect()  # in memory; spills to the staging folder past the limit
        checks = None  # engine "spark": the Spark connection the checks run on
        try:
            con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
            con.execute(f"set temp_directory = {sql_path(staging.path / 'spill')}")
            con.execute("set preserve_insertion_order = true")
            con.execute(MACROS)
            progress(0.05, "reading")
            if engine == "spark":
                from ingest.spark_reader import load_raw_spark

                raw = load_raw_spark(con, session, path, staging.path)
            else:
                raw = load_raw(con, path, staging.path)
            if raw.rows == 0 and raw.counted and raw.counted.other_sheets:
                sheets = ", ".join(f"'{name}'" for name, _ in raw.counted.other_sheets)
                raise ImportRefused(
                    f"{clean_file_name(path.name)}: the workbook's first sheet has a header but no rows, and only the "
                    f"first sheet is read; {sheets} hold rows: move the orders to the first sheet, or save that sheet "
                    "as a file of its own, and upload it.", code="first_sheet_empty", file=clean_file_name(path.name),
                    sheets=sheets)
            if raw.rows == 0:
                raise ImportRefused(f"{clean_file_name(path.name)}: the file has a header but no rows; export it again with "
                                    "data.", code="header_only", file=clean_file_name(path.name))
            mapping = _mapping_for(raw, store, preset_name, columns)
            if status_words:
                mapping = replace(mapping, own_status_words=_checked_status_words(status_words))
            if each_row_an_order:
                mapping = replace(mapping, each_row_an_order=True)
            missing = mapping.missing_required()
            if missing:
                raise ImportRefused(
                    f"{clean_file_name(path.name)}: no column found for {', '.join(missing)}; map the columns on the "
                    "Data page, or on the command line use --preset with a mapping saved there, and upload it again.",
                    code="missing_columns", file=clean_file_name(path.name), fields=", ".join(missing),
                    missing=tuple(mapping.missing_required_fields()),
                )
            number_rows_as_in_file(con, raw)
            skipped = mark_skipped_rows(con, raw, mapping)
            each_row = mapping.each_row_an_order and "order_id" not in mapping.columns  # a mapped id wins
            progress(0.25, "checking")
            if engine == "spark":  # the row-by-row work and the checks on Spark, the same SQL spelled for it
                from ingest.spark_parse import (
                    build_parsed_on_spark,
                    check_on_spark,
                    number_rows_as_orders_on_spark,
                    pseudonymise_on_spark,
                )

                checks, (formats, date_order), refunds = build_parsed_on_spark(con, session, raw, mapping, staging.path)
            else:
                first_row = lambda sql: con.execute(sql).fetchone()  # noqa: E731
                formats, date_order = choose_date_order(first_row, mapping)
                refunds = refund_rule(first_row, mapping)
                on_disk = staging.path / PARSED_DATABASE if raw.rows > PARSED_IN_MEMORY_ROWS else None
                build_parsed(con, mapping, raw.first_data_row, formats, refunds, on_disk,
                             updatable=bool(key) or each_row)
            contacts = {}
            if key and checks is not None:  # before anything is computed from the values: issues, currency, orders
                contacts = pseudonymise_on_spark(checks, key, _contact_columns(mapping))
            elif key:
                privacy.pseudonymise_column(con, "parsed", "customer_id", key)
                contacts = privacy.pseudonymise_contacts(con, "parsed", _contact_columns(mapping), key)
            if each_row and checks is not None:  # from the values as stored: pseudonymised, cleaned, typed
                number_rows_as_orders_on_spark(checks)
            elif each_row:
                number_rows_as_orders(con)
            batch_currency, currency_source = resolve_currency(path, main_currency(checks or con), mapping, currency)
            settings = ParseSettings(date_order, batch_currency, refunds)
            _refuse_other_currency(path, store, settings.main_currency)
            latest_allowed = now + timedelta(days=1)
            if checks is not None:
                progress(0.5, "building_orders")
                accepted_rows = check_on_spark(con, checks, mapping, settings, latest_allowed, staging.table_path,
                                               staging.path, pseudonymised=bool(key))
            else:
                build_issues(con, mapping, settings, latest_allowed)
                progress(0.5, "building_orders")
                build_orders(con, mapping, staging.table_path, refunds)
                accepted_rows = con.execute("select count(*) from accepted").fetchone()[0]
            add_skipped_issues(con, raw, mapping)  # skipped rows are never accepted: after the orders either way
            progress(0.55, "accounting")
            report = _report(con, path, raw, mapping, settings)
            report.add_account(account(con, path, raw, skipped, accepted_rows))  # refuses when records went missing
            report.currency_source = currency_source
            report.engine = engine
            report.each_row_an_order = each_row
            if mapping.each_row_an_order and not each_row:
                report.notes.append(f"Each row was not taken as an order of its own: the column "
                                    f"'{mapping.columns['order_id']}' is mapped as the order id, and its ids are used.")
            report.pseudonymised = bool(key)
            report.values_pseudonymised = {
                mapping.columns[field]: contacts[column]
                for field, (column, _) in PARSED_COLUMNS.items() if contacts.get(column) and field in mapping.columns
            }
            if report.orders_accepted == 0:
                top = max(report.issue_counts, key=report.issue_counts.get, default="no usable rows")
                raise ImportRefused(
                    f"{clean_file_name(path.name)}: none of the {raw.rows} rows could be imported (most common problem: "
                    f"{top}); fix the export or the column mapping and upload it again.",
                    code="nothing_imported", file=clean_file_name(path.name), rows=raw.rows, problem=top,
                )
            progress(0.6, "writing")
            _write_batch_tables(con, staging.table_path, raw, mapping if key else None)
        finally:
            if checks is not None:
                checks.close()
            con.close()
            for leftover in staging.path.glob(f"{Path(PARSED_DATABASE).stem}.*"):  # gigabytes at 100M rows: not kept
                leftover.unlink()
        progress(0.7, "rebuilding")
        record = {
            "kind": "orders",
            "file": clean_file_name(path.name),
            "preset": report.preset,
            "mapping": report.mapping,
            "rows_read": report.rows_read,
            "rows_rejected": report.rows_rejected,
            "orders_accepted": report.orders_accepted,
            "lines_accepted": report.lines_accepted,
            "guest_orders": report.guest_orders,
            "warnings": report.warnings,
            "currency": report.currency,
            "currency_source": report.currency_source,
            "unpaid_orders": report.unpaid_orders,
            "cancelled_orders": report.cancelled_orders,
            "refunded_orders": report.refunded_orders,
            "refunds": report.refunds,
            "customer_ids": report.customer_ids,
            "first_order": report.first_order,
            "last_order": report.last_order,
            "pseudonym_key_id": key_id,
            "records_in_file": report.records_in_file,
            "records_counted_by": report.records_counted_by,
            "records_accepted": report.records_accepted,
            "records_rejected": report.records_rejected,
            "records_folded": report.records_folded,
            "records_skipped": report.records_skipped,
            "skipped_reasons": report.skipped_reasons,
            "engine": engine,
        }
        original = path
        if engine == "spark":
            from ingest.spark_reader import is_multi_file, sources_listing

            if is_multi_file(path):  # the files stay where they are: the batch keeps their list
                original = sources_listing(path, staging.path / f"{clean_file_name(path.name)}.sources.json")

        def published(batch: dict) -> None:
            report.batch_id = batch["id"]
            report.orders_replacing_earlier = batch["orders_replacing_earlier"]
            report.build_path = batch.get("build_path")
            report.build_path_reason = batch.get("build_path_reason")
            report.published_seconds = report.seconds = round((datetime.now() - started).total_seconds(), 3)
            if store.builds_late_tables:
                progress(0.9, "summaries")
            if on_published:
                on_published(report)

        store.commit_batch(staging, original, record, user=user, via=via, keep_original=not key, on_published=published)
    report.seconds = round((datetime.now() - started).total_seconds(), 3)
    progress(1.0, "done")
    return report


def _checked_status_words(status_words: dict[str, str]) -> dict[str, str]:
    wrong = {word: meaning for word, meaning in status_words.items()
             if meaning not in mapping_module.STATUS_MEANINGS or not status_key(word)}
    if wrong:
        raise ValueError(f"a status word must be a word meaning one of {', '.join(mapping_module.STATUS_MEANINGS)}: "
                         f"{wrong}")
    return dict(status_words)


def _mapping_for(raw: RawTable, store: Store, preset_name: str | None, columns: dict[str, str] | None) -> Mapping:
    preset: Preset | None = None
    if preset_name:
        try:
            preset = mapping_module.find_preset(preset_name, store.root)
        except KeyError as error:
            raise ImportRefused(str(error.args[0]), code="unknown_preset", name=preset_name,
                                known=", ".join(sorted({**mapping_module.saved_presets(store.root),
                                                         **mapping_module.builtin_presets()}))) from error
    else:
        # also when the Data page sends its (possibly edited) columns: the recognised format's rules
        # (cancelled id prefix, status words, currency, address as region) still apply to its rows
        preset = mapping_module.detect_preset(raw.headers, store.root)
    if columns:
        unknown = [h for h in columns.values() if h not in raw.headers]
        if unknown:
            raise ImportRefused(f"The mapping names columns the file does not have: {', '.join(unknown)}.",
                                code="mapping_unknown_columns", columns=", ".join(unknown))
        return Mapping(columns=dict(columns), preset=preset)
    return mapping_module.resolve(raw.headers, preset)


def resolve_currency(path: Path, from_file: str | None, mapping: Mapping,
                     chosen: str | None) -> tuple[str | None, str | None]:
    """(currency, where it came from): the file's currency column or amount symbols, else the
    preset's (a platform that fixes it), else the user's choice, else (None, None): not stated.
    A choice that contradicts the file or preset is refused rather than silently overridden."""
    chosen = chosen.strip().upper() if chosen and chosen.strip() else None
    if chosen and not (len(chosen) == 3 and chosen.isascii() and chosen.isalpha()):
        raise ImportRefused(f"{path.name}: {chosen!r} is not a currency code like GBP, USD or CNY.",
                            code="bad_currency_code", file=path.name, currency=chosen)
    preset_currency = mapping.preset.currency if mapping.preset else None
    for stated, source in ((from_file, "file"), (preset_currency, "preset")):
        if stated:
            if chosen and chosen != stated:
                where = "the file's amounts are" if source == "file" else f"{mapping.preset.name} exports are"
                raise ImportRefused(f"{path.name}: {where} in {stated}, not {chosen}; leave the currency "
                                    "unchosen or pick the right one.",
                                    code="currency_contradicts_file" if source == "file" else "currency_contradicts_preset",
                                    file=path.name, stated=stated, chosen=chosen,
                                    preset=mapping.preset.name if mapping.preset else "")
            return stated, source
    return (chosen, "chosen") if chosen else (None, None)


def _refuse_other_currency(path: Path, store: Store, currency: str | None) -> None:
    """A store holds one currency: refuse amounts in another, in none stated once the store has one, or in
    one once the store holds orders of unstated currency (either way they would be added up as one)."""
    orders = [b for b in store.batches() if b.get("kind", "orders") == "orders"]
    held = {b.get("currency") for b in orders if b.get("currency")}
    stored, file = ", ".join(sorted(held)), clean_file_name(path.name)
    if currency and not held and orders:
        raise ImportRefused(
            f"{file}: amounts are in {currency} but the store holds orders whose currency was not stated; remove "
            f"those uploads and import them again with their currency (on the Data page, or --currency on the "
            "command line), or import this file into a separate store.", code="currency_after_unstated",
            file=file, currency=currency,
        )
    if currency and held and currency not in held:
        raise ImportRefused(
            f"{file}: amounts are in {currency} but the store holds {stored} orders; a store holds one currency, "
            f"so convert the amounts to {stored} first, or import this file into a separate store (a dashboard "
            "started on another store folder, or --store on the command line).", code="other_currency",
            file=file, currency=currency, stored=stored,
        )
    if not currency and stored:
        raise ImportRefused(
            f"{file}: the file does not state the currency of its amounts and the store holds {stored} orders; "
            f"if the amounts are in {stored}, choose {stored} as their currency (on the Data page, or --currency {stored} "
            "on the command line).", code="currency_not_stated_in_store",
            file=file, stored=stored,
        )


def _report(con, path: Path, raw: RawTable, mapping: Mapping, settings: ParseSettings) -> ImportReport:
    counts = dict(con.execute("select code, count(*) from issues group by code order by count(*) desc").fetchall())
    rejected_rows = con.execute("select count(distinct row) from issues where severity = 'rejected'").fetchone()[0]
    warnings = con.execute("select count(*) from issues where severity = 'warning'").fetchone()[0]
    orders, guests, first, last = con.execute(
        "select count(*), count(*) filter (where customer_id is null), min(order_ts), max(order_ts) from orders_out"
    ).fetchone()
    examples = con.execute(
        f"select * from issues order by severity, row limit {ISSUE_EXAMPLES}"
    ).df()
    by_status = dict(con.execute("select status, count(*) from orders_out group by status").fetchall())
    customer_ids = "customer_id" in mapping.columns
    notes = [] if customer_ids else [NO_CUSTOMER_NOTE]
    if raw.counted and raw.counted.other_sheets:
        sheets = ", ".join(f"'{name}' ({rows:,} row{'' if rows == 1 else 's'})" for name, rows in raw.counted.other_sheets)
        notes.append(f"Only the workbook's first sheet is read; its other sheets hold rows too: {sheets}. "
                     "Save each as a file of its own (CSV or a one-sheet workbook) and import it as well.")
    return ImportReport(
        file=clean_file_name(path.name),
        preset=mapping.preset.name if mapping.preset else None,
        mapping=mapping.columns,
        rows_read=raw.rows,
        rows_rejected=rejected_rows,
        orders_accepted=orders,
        lines_accepted=con.execute("select count(*) from lines_out").fetchone()[0],
        guest_orders=guests,
        warnings=warnings,
        currency=settings.main_currency,
        date_order=settings.date_order,
        encoding=raw.encoding,
        first_order=str(first) if first else None,
        last_order=str(last) if last else None,
        issue_counts=counts,
        unpaid_orders=by_status.get("unpaid", 0),
        cancelled_orders=by_status.get("cancelled", 0),
        refunded_orders=by_status.get("refunded", 0),
        refunds=settings.refunds,
        refunds_note=REFUND_NOTES.get(settings.refunds),
        customer_ids=customer_ids,
        notes=notes,
        other_sheets=dict(raw.counted.other_sheets) if raw.counted else {},
        issues=[{"file": clean_file_name(path.name), **row} for row in examples.astype(object).where(examples.notna(), None).to_dict("records")],
    )


def _write_batch_tables(con: duckdb.DuckDBPyConnection, table_path: Callable[[str], Path], raw_table: RawTable,
                        pseudonymised: Mapping | None) -> None:
    """Write the batch's issues and rejected rows (build_orders wrote its orders and lines).
    Rejected rows keep the file's columns, each value cut to MAX_VALUE_CHARS; when ids are
    pseudonymised, only the mapped columns, with the pseudonym in the customer column, so no raw
    id (nor a name or phone in another column) is stored."""
    con.execute(f"copy (select * from issues order by row) to {sql_path(table_path('issues'))} (format parquet)")

    def cut(expression: str) -> str:
        return (f"case when length({expression}) > {MAX_VALUE_CHARS} "
                f"then left({expression}, {MAX_VALUE_CHARS}) || '…' else {expression} end")

    if pseudonymised is None:
        source, row = "raw", f"(raw.rowid + {int(raw_table.first_data_row)})"
        kept = [(header, f"raw.{_ident(header)}") for header in raw_table.headers]
    else:  # the values as pseudonymised in `parsed` (cleaned text), never the file's own
        source, row = "parsed", "parsed._row"
        first_use: dict[str, str] = {}  # a header mapped to two fields: its first field's column
        for field_name, header in pseudonymised.columns.items():
            if field_name in PARSED_COLUMNS:  # the gross amount is read only to tell the refund rule
                first_use.setdefault(header, f"parsed.{PARSED_COLUMNS[field_name][0]}")
        kept = list(first_use.items())
    columns = ", ".join(f"{cut(f'cast({expression} as varchar)')} as {_ident(header if header != 'reasons' else 'reasons (file)')}"
                        for header, expression in kept)
    # file columns are only ever selected by their quoted names, so any header is just a name.
    # The rows' reasons first, then the file joined to them: as a subquery per row, the reasons were
    # looked up for every row of the file (23 s at 100M rows without a single rejected one)
    con.execute(
        f"""
        copy (
            with reasons as (
                select row, string_agg(reason, '; ') as reasons
                from issues
                where severity = 'rejected'
                group by row
            )
            select reasons.reasons, {columns}
            from {source}
            join reasons on reasons.row = {row}
            order by {row}
        ) to {sql_path(table_path('rejected_rows'))} (format parquet)
        """
    )


def batch_problems(store: Store, batch_id: str) -> tuple["pd.DataFrame", "pd.DataFrame"]:
    """The stored issue list and the rejected rows (as they were in the file) of one batch."""
    import pandas as pd

    folder = store.batch_folder(batch_id)

    def read(name: str) -> pd.DataFrame:
        try:
            return pd.read_parquet(folder / name)
        except (FileNotFoundError, OSError):  # none, or the batch was removed meanwhile
            return pd.DataFrame()

    return read("issues.parquet"), read("rejected_rows.parquet")
