"""Command line: `python -m ingest FILE [--preset NAME] [--store DIR] [--json]`.

Imports one export into the store and prints the validation summary. Exit codes:
0 imported (possibly with rejected rows), 2 file refused, nothing stored.
Also: `--list-presets`, `--save-preset NAME` (save the mapping used, for next month's file),
`--remove BATCH_ID` (take a batch out again).
"""

import argparse
import json
import sys
from pathlib import Path

from ingest.mapping import Preset, builtin_presets, saved_presets
from ingest.pipeline import ImportReport, import_file
from ingest.readers import ImportRefused
from store import STORE_ENV, Store


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description="Import an order export into the store.")
    parser.add_argument("file", nargs="?", type=Path, help="CSV, Excel (.xlsx) or Parquet export")
    parser.add_argument("--preset", help="column mapping preset (see --list-presets); detected when omitted")
    parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--save-preset", metavar="NAME", help="save the mapping used under NAME")
    parser.add_argument("--list-presets", action="store_true", help="list built-in and saved presets")
    parser.add_argument("--remove", metavar="BATCH_ID", help="remove a stored batch")
    args = parser.parse_args(argv)
    store = Store(args.store)

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

    def show_progress(fraction: float, message: str) -> None:
        if not args.json:
            print(f"[{fraction:4.0%}] {message}", file=sys.stderr)

    try:
        report = import_file(args.file, store, preset_name=args.preset, progress=show_progress)
    except ImportRefused as refused:
        if args.json:
            print(json.dumps({"refused": str(refused)}, ensure_ascii=False))
        else:
            print(f"Refused: {refused}", file=sys.stderr)
        return 2
    if args.save_preset:
        Preset(
            name=args.save_preset,
            label=f"saved from {report.file}",
            columns={field: [header] for field, header in report.mapping.items()},
        ).save(store.root / "presets" / f"{args.save_preset}.json")
        store.record_event("save_preset", preset=args.save_preset, file=report.file)
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=1, default=str) if args.json else summary(report))
    return 0


def summary(report: ImportReport) -> str:
    """The report as a few lines for a terminal."""
    lines = [
        f"{report.file}: {report.orders_accepted:,} orders imported from {report.rows_read:,} rows "
        f"in {report.seconds:.1f} s (batch {report.batch_id}).",
        f"  preset: {report.preset or 'automatic'}; dates read as {report.date_order}; "
        f"currency: {report.currency or 'not stated'}; encoding: {report.encoding or 'n/a'}",
        f"  orders from {report.first_order} to {report.last_order}; guest orders: {report.guest_orders:,}",
        f"  rows rejected: {report.rows_rejected:,}; warnings: {report.warnings:,}; "
        f"orders replacing earlier uploads: {report.orders_replacing_earlier:,}",
        "  mapping: " + ", ".join(f"{field} <- {header!r}" for field, header in report.mapping.items()),
    ]
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
