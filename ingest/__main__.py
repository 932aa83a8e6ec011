"""Command line: `python -m ingest FILE [--preset NAME] [--store DIR] [--json] [--engine spark]`.

Imports one export into the store and prints the validation summary. Exit codes:
0 imported (possibly with rejected rows), 2 file refused, nothing stored.
Also: `--list-presets`, `--save-preset NAME` (save the mapping used, for next month's file),
`--remove BATCH_ID` (take a batch out again), and

    python -m ingest assignments-from-orders --experiment NAME --start DATE --end DATE
        [--column coupon_code] [--values A,B] [--strategy TAG] [--cost N] [--store DIR] [--json]

which derives an observational experiment from an order column (ingest.derived_assignments).
"""

import argparse
import json
import re
import sys
from datetime import date
from pathlib import Path

from ingest.mapping import builtin_presets, find_preset, is_builtin_name, preset_to_save, saved_preset_path, saved_presets
from ingest.pipeline import ENGINES, PROGRESS_STEPS, ImportReport, import_file
from ingest.readers import ImportRefused
from store import STORE_ENV, Store
from store.schema import DIMENSIONS

DERIVE_COMMAND = "assignments-from-orders"
PRESET_NAME = re.compile(r"^[\w-]{1,40}$")  # as on the Data page: a plain file name


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [DERIVE_COMMAND]:
        return derive_main(argv[1:])
    parser = argparse.ArgumentParser(
        prog="python -m ingest", description="Import an order export into the store.",
        epilog=f"Derive an observational experiment from an order column: python -m ingest {DERIVE_COMMAND} --help",
    )
    parser.add_argument("file", nargs="?", type=Path,
                        help="CSV, Excel (.xlsx) or Parquet export; with --engine spark also a folder or a quoted "
                             "glob ('exports/*.parquet') of Parquet files")
    parser.add_argument("--preset", help="column mapping preset (see --list-presets); detected when omitted")
    parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--currency", metavar="CODE",
                        help="currency of the amounts (e.g. GBP) when neither the file nor its preset states it")
    parser.add_argument("--each-row-an-order", action="store_true",
                        help="the file has no order id column (a till or vending log): each row is one order")
    parser.add_argument("--save-preset", metavar="NAME", help="save the mapping used under NAME")
    parser.add_argument("--list-presets", action="store_true", help="list built-in and saved presets")
    parser.add_argument("--remove", metavar="BATCH_ID", help="remove a stored batch")
    parser.add_argument("--engine", choices=ENGINES, default="duckdb",
                        help="what reads the file and builds the store's tables (default duckdb; spark: "
                             "Apache Spark, see docs/scale-out.md)")
    parser.add_argument("--spark-master", metavar="URL",
                        help="Spark master for --engine spark (default: $SPARK_MASTER, else local[*])")
    args = parser.parse_args(argv)
    # with --engine spark the store's tables are built on Spark too (also after --remove)
    store = Store(args.store) if args.engine == "duckdb" else Store(args.store, engine=args.engine)
    if args.engine == "spark" and not args.list_presets:
        from store.spark import spark_session

        spark_session(args.spark_master)  # the first call chooses the master

    if args.list_presets:
        for name, preset in {**builtin_presets(), **saved_presets(store.root)}.items():
            print(f"{name:20} {preset.label}")
        return 0
    if args.remove:
        try:
            record = store.remove_batch(args.remove)
        except KeyError as error:
            print(error.args[0], file=sys.stderr)
            return 2
        rows = record.get("orders_accepted", record.get("rows_accepted"))
        print(f"Removed batch {record['id']} ({record['file']}, {rows} rows).")
        return 0
    if not args.file:
        parser.error("give a FILE to import")
    if args.save_preset and (is_builtin_name(args.save_preset) or not PRESET_NAME.match(args.save_preset)):
        message = (f"{args.save_preset!r} is the name of a built-in preset, which cannot be replaced; choose another name."
                   if is_builtin_name(args.save_preset) else
                   f"{args.save_preset!r}: a preset name is 1-40 letters, digits, - or _.")
        code = "preset_name_reserved" if is_builtin_name(args.save_preset) else "bad_preset_name"
        print(json.dumps({"refused": message, "refusal_code": code}, ensure_ascii=False) if args.json
              else f"Refused: {message}",
              file=sys.stdout if args.json else sys.stderr)
        return 2

    def show_progress(fraction: float, step: str) -> None:
        print(f"[{fraction:4.0%}] {PROGRESS_STEPS.get(step, step)}", file=sys.stderr, flush=True)  # one line per phase, JSON or not

    try:
        report = import_file(args.file, store, preset_name=args.preset, progress=show_progress,
                             currency=args.currency, engine=args.engine, spark_master=args.spark_master,
                             each_row_an_order=args.each_row_an_order)
    except ImportRefused as refused:
        if args.json:
            print(json.dumps({"refused": str(refused), "refusal_code": refused.code}, ensure_ascii=False))
        else:
            print(f"Refused: {refused}", file=sys.stderr)
        return 2
    if args.save_preset:
        recognised = find_preset(report.preset, store.root) if report.preset else None
        preset_to_save(args.save_preset, report.file, report.mapping, recognised,
                       each_row_an_order=report.each_row_an_order).save(
            saved_preset_path(store.root, args.save_preset))
        store.record_event("save_preset", preset=args.save_preset, file=report.file)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str) if args.json else summary(report))
    return 0


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-11-30") from None


def derive_main(argv: list[str]) -> int:
    """`assignments-from-orders`: an observational experiment from an order column; 2 when refused."""
    from ingest.derived_assignments import derive_assignments

    parser = argparse.ArgumentParser(
        prog=f"python -m ingest {DERIVE_COMMAND}",
        description="Derive experiment assignments from an order column (observational: customers chose the value).",
    )
    parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    parser.add_argument("--experiment", required=True, help="name of the new experiment")
    parser.add_argument("--column", default="coupon_code", help=f"order column: {', '.join(DIMENSIONS)} (default coupon_code)")
    parser.add_argument("--start", required=True, type=_day, help="first day of the campaign period, YYYY-MM-DD")
    parser.add_argument("--end", required=True, type=_day, help="last day of the campaign period, YYYY-MM-DD")
    parser.add_argument("--values", help="comma-separated values that make a variant (default: every value in the period)")
    parser.add_argument("--strategy", help="strategy tag, e.g. personalised_offers")
    parser.add_argument("--cost", type=float, help="cost per customer of the variant arms")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)
    values = [v for v in args.values.split(",")] if args.values else None
    try:
        result = derive_assignments(Store(args.store), args.experiment, args.start, args.end, column=args.column,
                                    values=values, strategy=args.strategy, cost=args.cost)
    except ImportRefused as refused:
        if args.json:
            print(json.dumps({"refused": str(refused), "refusal_code": refused.code}, ensure_ascii=False))
        else:
            print(f"Refused: {refused}", file=sys.stderr)
        return 2
    if args.json:
        print(json.dumps(result, ensure_ascii=False, indent=1, default=str))
        return 0
    arms = ", ".join(f"{variant} {n:,}" for variant, n in result["arms"].items())
    print(f"Experiment {result['experiment']!r} derived from orders.{result['derived_from']}, "
          f"{result['start']} to {result['end']} (batch {result['batch_id']}): {arms}.")
    print("  Observational: customers chose the value, so a lift is an association, not proof of cause.")
    for warning in result["warnings"]:
        print(f"  warning: {warning}")
    return 0


DATE_ORDER_WORDS = {"iso": "ISO (year-month-day)", "month name": "month names (Jan-18-16)"}


def record_equation(report: ImportReport) -> str:
    """records in the file = accepted + rejected + folded + skipped (with why), as one line."""
    reasons = ", ".join(f"{reason} {count:,}" for reason, count in report.skipped_reasons.items())
    return (f"records: {report.records_in_file:,} in the file ({report.records_counted_by}) = "
            f"{report.records_accepted:,} accepted + {report.records_rejected:,} rejected + "
            f"{report.records_folded:,} folded into orders + {report.records_skipped:,} skipped"
            + (f" ({reasons})" if reasons else ""))


def summary(report: ImportReport) -> str:
    """The report as a few lines for a terminal."""
    date_order = DATE_ORDER_WORDS.get(report.date_order, report.date_order)
    lines = [
        f"{report.file}: {report.orders_accepted:,} orders imported from {report.rows_read:,} rows "
        f"in {report.seconds:.1f} s, published after {report.published_seconds:.1f} s (batch {report.batch_id}).",
        "  " + record_equation(report),
        f"  preset: {report.preset or 'automatic'}; dates read as {date_order}; "
        f"currency: {report.currency or 'not stated'}; encoding: {report.encoding or 'n/a'}; engine: {report.engine}",
        f"  orders from {report.first_order} to {report.last_order}; guest orders: {report.guest_orders:,}",
        f"  rows rejected: {report.rows_rejected:,}; warnings: {report.warnings:,}; "
        f"orders replacing earlier uploads: {report.orders_replacing_earlier:,}",
        "  mapping: " + ", ".join(f"{field} <- {header!r}" if not (field == "order_id" and report.each_row_an_order)
                                  else "order_id <- each row's own id (no order id column)"
                                  for field, header in report.mapping.items()),
    ]
    accepted_not_valid = [(report.unpaid_orders, "unpaid (never paid)"), (report.cancelled_orders, "cancelled"),
                          (report.refunded_orders, "fully refunded")]
    if any(n for n, _ in accepted_not_valid):
        lines.append("  kept but not counted as orders: " + ", ".join(f"{n:,} {what}" for n, what in accepted_not_valid))
    lines.extend(f"  note: {note}" for note in report.notes)
    for code, count in report.issue_counts.items():
        lines.append(f"  {count:>8,} x {code}")
    for issue in report.issues[:20]:
        lines.append(
            f"  {issue['severity']}: {issue['file']} row {issue['row']}, column {issue['column_name']!r}, "
            f"value {issue['value']!r}: {issue['reason']}"
        )
    if len(report.issues) > 20:
        lines.append(f"  ... {sum(report.issue_counts.values()) - 20:,} more (stored with the batch)")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
