"""Import experiment assignments (experiment, customer_id, variant, assigned_at, strategy, cost).

One row per customer and experiment. Rows are rejected for a missing experiment, customer or
variant, an unreadable date, or a customer listed in two variants of one experiment; an
experiment without a control arm and customers unknown to the store are reported as warnings.
"""

from pathlib import Path

import duckdb

from ingest import privacy
from ingest.mapping import normalise_header
from ingest.normalise import ISO_FORMATS, MACROS, MONTH_FIRST, ISSUES_COLUMNS, _ident
from ingest.readers import ImportRefused, load_raw
from store import Store, clean_file_name, quiet_connect, schema, sql_path
from store.derived import read_table_sql, table_files
from store.models import dialect

SYNONYMS = {
    "experiment": ["experiment", "experiment name", "test", "campaign", "实验", "实验名称", "活动"],
    "customer_id": ["customer id", "customer_id", "customerid", "customer", "member id", "客户id", "会员id", "会员编号"],
    "variant": ["variant", "arm", "group", "variation", "分组", "组别"],
    "assigned_at": ["assigned at", "assigned_at", "assignment date", "start date", "date", "分组时间", "开始时间"],
    "strategy": ["strategy", "strategy tag", "tag", "策略"],
    "cost_per_customer": ["cost per customer", "cost_per_customer", "cost", "单客成本", "成本"],
}
REQUIRED = ("experiment", "customer_id", "variant", "assigned_at")
CONTROL_NAMES = ("control", "ctrl", "baseline", "a", "对照", "对照组")


def import_assignments(path: Path | str, store: Store, user: str | None = None, via: str = "cli",
                       pseudonym_key: str | None = None, derived_from: str | None = None,
                       details: dict | None = None) -> dict:
    """Import an assignments file as a store batch; return the report as a dict.

    Customer ids are pseudonymised with the same key as the orders (see ingest.privacy).
    `derived_from` (an orders column) marks assignments made from orders rather than uploaded
    (observational; see ingest.derived_assignments); `details` are added to the batch record.
    """
    path = Path(path)
    key = pseudonym_key or privacy.key_from_env()
    with store.staging() as staging:
        key_id = privacy.check_store(clean_file_name(path.name), store.batches(), key)
        con = quiet_connect()
        try:
            con.execute(MACROS)
            raw = load_raw(con, path, staging.path, count=False)  # the record equation is for order exports
            by_normal = {normalise_header(h): h for h in raw.headers}
            columns = {}
            for field, names in SYNONYMS.items():
                found = next((by_normal[normalise_header(n)] for n in names if normalise_header(n) in by_normal), None)
                if found:
                    columns[field] = found
            missing = [f for f in REQUIRED if f not in columns]
            if missing:
                raise ImportRefused(
                    f"{clean_file_name(path.name)}: no column found for {', '.join(missing)}; an assignments file needs "
                    "experiment, customer_id, variant and assigned_at columns.", code="assignments_missing_columns",
                    file=clean_file_name(path.name), fields=", ".join(missing), missing=tuple(missing),
                )

            def col(field: str) -> str:
                return f"clean_text(cast({_ident(columns[field])} as varchar))" if field in columns else "null"

            con.execute(
                f"""
                create table parsed as select
                    rowid + $first as _row,
                    {col('experiment')} as experiment,
                    clean_customer(cast({_ident(columns['customer_id'])} as varchar)) as customer_id,
                    {col('variant')} as variant,
                    {col('assigned_at')} as assigned_text,
                    try_strptime(date_text({col('assigned_at')}), $formats) as assigned_at,
                    {col('strategy')} as strategy,
                    parse_number({col('cost_per_customer')}) as cost_per_customer,
                    $derived_from::varchar as derived_from
                from raw
                """,
                {"first": raw.first_data_row, "formats": ISO_FORMATS + MONTH_FIRST, "derived_from": derived_from},
            )
            if key:
                privacy.pseudonymise_column(con, "parsed", "customer_id", key)
                privacy.pseudonymise_contacts(con, "parsed", {"experiment": [], "variant": [], "strategy": [],
                                                              "assigned_text": ["assigned_at"]}, key)
            con.execute(f"create table issues ({ISSUES_COLUMNS})")
            checks = [
                ("missing_value", "experiment is null or customer_id is null or variant is null",
                 "missing experiment, customer or variant"),
                ("bad_date", "assigned_at is null or assigned_at < timestamp '1970-01-01' "
                 "or assigned_at > current_timestamp::timestamp + interval 1 day",
                 "unparseable, missing or implausible assignment date"),
            ]
            for code, condition, reason in checks:
                con.execute(
                    f"insert into issues select _row, $code, '', '', coalesce(assigned_text, ''), $reason, 'rejected' "
                    f"from parsed where {condition}",
                    {"code": code, "reason": reason},
                )
            con.execute(
                """
                insert into issues
                select _row, 'two_variants', 'variant', $column, customer_id,
                    'customer is in more than one variant of ' || experiment, 'rejected'
                from parsed
                where (experiment, customer_id) in (
                    select (experiment, customer_id) from parsed
                    group by experiment, customer_id having count(distinct variant) > 1
                )
                """,
                {"column": columns["variant"]},
            )
            con.execute(
                f"""
                create table accepted as
                select {', '.join(f'cast({c} as {t}) as {c}' for c, t in schema.ASSIGNMENTS.items())}
                from parsed
                where _row not in (select row from issues)
                qualify row_number() over (partition by experiment, customer_id order by _row) = 1
                """
            )
            accepted = con.execute("select count(*) from accepted").fetchone()[0]
            if accepted == 0:
                raise ImportRefused(f"{clean_file_name(path.name)}: no assignment row could be imported; check the "
                                    "columns and dates.", code="no_assignments", file=clean_file_name(path.name))
            warnings = _warnings(con, store)  # [(code, values, English sentence)]
            con.execute(f"copy accepted to {sql_path(staging.table_path('assignments'))} (format parquet)")
            con.execute(f"copy issues to {sql_path(staging.table_path('issues'))} (format parquet)")
            rejected = con.execute("select count(distinct row) from issues").fetchone()[0]
        finally:
            con.close()
        record = {"kind": "assignments", "file": clean_file_name(path.name), "mapping": columns, "rows_read": raw.rows,
                  "rows_accepted": accepted, "rows_rejected": rejected,
                  "warnings": [text for _, _, text in warnings],
                  "warning_codes": [{"code": code, **values} for code, values, _ in warnings],
                  "pseudonym_key_id": key_id, **(details or {})}
        batch = store.commit_batch(staging, path, record, user=user, via=via, keep_original=not key)
    return {**record, "batch_id": batch["id"]}


def _warnings(con: duckdb.DuckDBPyConnection, store: Store) -> list[tuple[str, dict, str]]:
    """(code, values, English sentence) per warning: the app words the code, the CLI prints the sentence."""
    out = []
    arms = con.execute(
        f"select experiment, {dialect.distinct_list('lower(variant)')} from accepted group by experiment order by experiment"
    ).fetchall()
    for experiment, variants in arms:
        if not any(v in CONTROL_NAMES for v in variants):
            names = ", ".join(sorted(variants))
            out.append(("no_control_arm", {"experiment": experiment, "variants": names},
                        f"experiment {experiment!r} has no control arm (variants: {names})"))
    version_dir = store.version_dir()
    customer_files = table_files(version_dir, "customers") if version_dir else []
    if customer_files:  # after an append, the customers it added are in the table's second file
        unknown = con.execute(
            f"""select count(*) from accepted where customer_id not in
                (select customer_id from {read_table_sql('customers', customer_files)})"""
        ).fetchone()[0]
        if unknown:
            out.append(("customers_without_orders", {"count": unknown},
                        f"{unknown} assigned customers have no valid order in the store"))
    return out
