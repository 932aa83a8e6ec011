"""Command line for scripted reports.

    python -m metrics summary [--store DIR] [--month YYYY-MM] [--json]

`summary` prints one month's KPI row (default: the latest full month), the same numbers the
Overview page shows.
"""

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from metrics.definitions import KPIS
from metrics.formatting import format_change, format_value
from metrics.kpis import kpi_row, latest_full_month
from store import STORE_ENV, Store


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2025-12") from None


def _plain(value):
    """JSON-friendly numbers and dates (None for missing)."""
    if value is None:
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()[:10]
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def summary(store: Store, month: date | None) -> dict:
    """The KPI row of `month` (default latest full month) as a JSON-ready dict."""
    con = store.connect()
    try:
        month = month or latest_full_month(con)
        if month is None:
            return {"month": None, "store_version": store.manifest()["version"], "kpis": {}}
        row = kpi_row(con, month)
    finally:
        con.close()
    return {
        "month": month.strftime("%Y-%m"),
        "store_version": store.manifest()["version"],
        "complete_month": bool(row.get("is_complete")) if row else False,
        "kpis": {k: _plain(v) for k, v in row.items() if k not in ("period", "is_complete")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="Repurchase KPIs from the store.")
    commands = parser.add_subparsers(dest="command", required=True)
    summary_parser = commands.add_parser("summary", help="one month's KPI row")
    summary_parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    summary_parser.add_argument("--month", type=_month, help="YYYY-MM (default: latest full month)")
    summary_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "summary":
        result = summary(Store(args.store), args.month)
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=1))
        elif not result["kpis"]:
            print("No data for that month.")
        else:
            store = Store(args.store)
            currency = store.currency() or "CNY"
            print(f"KPIs for {result['month']} (store version {result['store_version']})")
            for kpi in KPIS:
                kpis = result["kpis"]
                print(
                    f"  {kpi.en:27} {format_value(kpis.get(kpi.key), kpi.kind, currency=currency):>16}"
                    f"   MoM {format_change(kpis.get(kpi.key + '_mom'), kpi.kind):>9}"
                    f"   YoY {format_change(kpis.get(kpi.key + '_yoy'), kpi.kind):>9}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
