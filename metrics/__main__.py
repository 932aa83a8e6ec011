"""Command line for scripted reports.

    python -m metrics summary [--store DIR] [--month YYYY-MM] [--json]
    python -m metrics ltv [--store DIR] [--cutoff YYYY-MM-DD] [--model auto|bgnbd|mbgnbd|paretonbd] [--json]
    python -m metrics experiment [--store DIR] --experiment NAME [--window DAYS] [--cuped DAYS] [--json]
    python -m metrics launch [--store DIR] --launched-at YYYY-MM-DD --treated COLUMN=V1[,V2] [--window DAYS] [--matched] [--json]

`summary` prints one month's KPI row (default: the latest full month), the same numbers the
Overview page shows; `ltv` fits BG/NBD, MBG/NBD, Pareto/NBD and Gamma-Gamma, checks each on a
holdout and predicts with the best (or the one asked for); `experiment`
prints one strategy test's per-arm totals and every variant's lift, CI and p-values; `launch`
compares customers with a value (a tier, channel, coupon...) before a launch date with the others,
before and after it (difference-in-differences, docs/launch.md).
Exit code 2 when the data cannot answer (no such experiment, too little data for the model, a launch
date outside the data).
"""

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from metrics.definitions import KPIS
from metrics.formatting import format_change, format_value
from metrics.kpis import data_range, kpi_row, report_month
from store import STORE_ENV, Store


def _month(text: str) -> date:
    try:
        year, month = text.split("-")
        return date(int(year), int(month), 1)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month like 2025-12") from None


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date like 2025-03-01") from None


def _treated(text: str) -> tuple[str, list[str]]:
    """COLUMN=V1[,V2] as (column, [values])."""
    column, equals, values = text.partition("=")
    names = [v.strip() for v in values.split(",") if v.strip()]
    if not equals or not column.strip() or not names:
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMN=VALUE[,VALUE], e.g. member_tier=gold,diamond")
    return column.strip(), names


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
    """The KPI row of `month` (default: the latest full month, else the data's last month) as a JSON-ready dict."""
    con = store.connect()
    try:
        month = month or report_month(con)
        if month is None:
            return {"month": None, "store_version": store.manifest()["version"], "kpis": {}}
        row = kpi_row(con, month)
        first = data_range(con)[0]
    finally:
        con.close()
    starts_inside = first is not None and first.replace(day=1) == month and first.day > 1  # an export from the 15th
    return {
        "month": month.strftime("%Y-%m"),
        "store_version": store.manifest()["version"],
        "complete_month": bool(row.get("is_complete")) and not starts_inside if row else False,
        "kpis": {k: _plain(v) for k, v in row.items() if k not in ("period", "is_complete")},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m metrics", description="Repurchase KPIs from the store.")
    commands = parser.add_subparsers(dest="command", required=True)
    summary_parser = commands.add_parser("summary", help="one month's KPI row")
    summary_parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    summary_parser.add_argument("--month", type=_month, help="YYYY-MM (default: latest full month; the data's last month when none is full)")
    summary_parser.add_argument("--json", action="store_true")
    ltv_parser = commands.add_parser("ltv", help="predicted customer lifetime value: model fit and holdout check")
    ltv_parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    ltv_parser.add_argument("--cutoff", type=date.fromisoformat, help="calibration cut-off YYYY-MM-DD (default: 6 months before the end)")
    ltv_parser.add_argument("--model", choices=("auto", "bgnbd", "mbgnbd", "paretonbd"), default="auto",
                            help="purchase model (default auto: the smallest holdout error)")
    ltv_parser.add_argument("--json", action="store_true")
    experiment_parser = commands.add_parser("experiment", help="one strategy test: per-arm totals, lifts, CIs, p-values")
    experiment_parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    experiment_parser.add_argument("--experiment", required=True)
    experiment_parser.add_argument("--window", type=int, default=60, help="days after assignment (default 60)")
    experiment_parser.add_argument("--cuped", type=int, metavar="DAYS", help="CUPED with this many pre-assignment days")
    experiment_parser.add_argument("--json", action="store_true")
    launch_parser = commands.add_parser("launch", help="did a launch for everyone work? difference-in-differences")
    launch_parser.add_argument("--store", type=Path, help=f"store folder (default: ${STORE_ENV} or data/store)")
    launch_parser.add_argument("--launched-at", required=True, type=_day, help="launch date YYYY-MM-DD")
    launch_parser.add_argument("--treated", required=True, type=_treated, metavar="COLUMN=V1[,V2]",
                               help="customers with one of these values on an order before the launch, "
                                    "e.g. member_tier=gold,diamond")
    launch_parser.add_argument("--window", type=int, default=90, help="days before and after the launch (default 90)")
    launch_parser.add_argument("--matched", action="store_true",
                               help="compare with matched customers (pre-launch frequency, spend, recency, tenure)")
    launch_parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    if args.command == "ltv":
        return _ltv(args)
    if args.command == "experiment":
        return _experiment(args)
    if args.command == "launch":
        return _launch(args)
    if args.command == "summary":
        result = summary(Store(args.store), args.month)
        if not result["kpis"] or not result["kpis"].get("orders"):
            print(json.dumps(result) if args.json else "No data for that month.", file=sys.stdout if args.json else sys.stderr)
            return 2
        if args.json:
            print(json.dumps(result, ensure_ascii=False, indent=1))
        elif not result["kpis"]:
            print("No data for that month.", file=sys.stderr)
        else:
            store = Store(args.store)
            currency = store.currency()  # None: not stated, amounts printed without a symbol
            stated = "" if currency else "; currency not stated"
            partial = "" if result["complete_month"] else "; the data covers only part of this month"
            print(f"KPIs for {result['month']} (store version {result['store_version']}{stated}{partial})")
            for kpi in KPIS:
                kpis = result["kpis"]
                print(
                    f"  {kpi.name:27} {format_value(kpis.get(kpi.key), kpi.kind, currency=currency):>16}"
                    f"   MoM {format_change(kpis.get(kpi.key + '_mom'), kpi.kind):>9}"
                    f"   YoY {format_change(kpis.get(kpi.key + '_yoy'), kpi.kind):>9}"
                )
    return 0


def _report_or_refusal(args, compute, refusal: type[Exception], prefix: str) -> dict | None:
    """Run compute(con) on the store; print the report as JSON when asked, or the refusal and return None."""
    con = Store(args.store).connect()
    try:
        report = compute(con)
    except refusal as problem:
        print(json.dumps({"error": str(problem)}) if args.json else f"{prefix}: {problem}",
              file=sys.stdout if args.json else sys.stderr)
        return None
    finally:
        con.close()
    if args.json:
        print(json.dumps(report, ensure_ascii=False, indent=1, default=str))
    return report


def _ltv(args) -> int:
    from metrics.clv import ltv_report
    from metrics.clv_model import ClvFitError

    report = _report_or_refusal(args, lambda con: ltv_report(con, cutoff=args.cutoff, model=args.model),
                                ClvFitError, "Cannot fit")
    if report is None or args.json:
        return 2 if report is None else 0
    gamma = report["gamma_gamma"]
    selection = report["selection"]
    print(f"Fitted on {report['customers']:,} customers up to {report['cutoff']} in {report['fit_seconds']:.2f} s")
    for name, entry in report["models"].items():
        mark = "*" if name == report["model"] else " "
        if "fit" not in entry:
            print(f" {mark}{entry['label']:11} not fitted: {entry['error']}")
            continue
        fit = entry["fit"]
        names = list(fit["se"])  # the model's parameters (at a boundary: as they ran off, and the limit's r, alpha)
        limit = {"nbd": "  (NBD limit: no dropout)", None: ""}.get(fit["limit"], "  (limit: one dropout probability for all)")
        check = entry["holdout"]
        error = f"  holdout error {check['error_pct']:+.1f}%, curve MAPE {check['mape_cumulative']:.1f}%" if check else ""
        print(f" {mark}{entry['label']:11} " + "  ".join(f"{k}={fit[k]:.4g}" for k in names)
              + f"  LL={fit['log_likelihood']:,.1f}{limit}{error}")
    print("  Gamma-Gamma " + "  ".join(f"{k}={gamma[k]:.4g} (se {gamma['se'][k]:.2g})" for k in ("p", "q", "gamma"))
          + f"  LL={gamma['log_likelihood']:,.1f}")
    margin = selection["margin_points"] if selection["reason"] == "smallest holdout error" else None
    tied = ", ".join(report["models"][name]["label"] for name in selection.get("tied_with", []))
    if tied:
        ahead = f", tied with {tied}: the same fit"
    elif margin is not None:
        ahead = f", {margin:.1f} points ahead of {report['models'][selection['runner_up']]['label']}"
    else:
        ahead = ""
    print(f"  Model used: {report['models'][report['model']]['label']} ({selection['reason']}{ahead})")
    holdout = report.get("holdout")
    if holdout:
        print(f"  Holdout {holdout['cutoff']} to {holdout['end']}: predicted {holdout['predicted_repeat_orders']:,.0f} "
              f"repeat orders, actual {holdout['actual_repeat_orders']:,} ({holdout['error_pct']:+.1f}%)")
    for warning in report["warnings"]:
        print(f"  note: {warning}")
    return 0


def _experiment(args) -> int:
    from metrics.experiments import ExperimentError, experiment_report
    from ui.strategy_words import summary  # words without Streamlit: the CLI says what the page says

    currency = Store(args.store).currency()  # the summary's amounts with the store's currency symbol

    def worded(con) -> dict:
        report = experiment_report(con, args.experiment, window_days=args.window, cuped_days=args.cuped)
        return {**report, "summary": summary(report, currency)}

    report = _report_or_refusal(args, worded, ExperimentError, "Cannot analyse")
    if report is None or args.json:
        return 2 if report is None else 0
    print(f"{report['experiment']} ({report['strategy']}), {report['window_days']}-day window, control {report['control']!r}")
    for arm in report["arms"]:
        print(f"  {arm['variant']:12} assigned {arm['assigned']:,}, matured {arm['matured']:,}")
    srm_p = report["health"].get("srm_p")
    print(f"  SRM p = {srm_p:.3g}{'  MISMATCH' if report['health']['srm_flag'] else ''}" if srm_p is not None
          else "  SRM check needs two or more arms")
    for r in report["results"]:
        print(f"  {r['variant']:12} {r['metric']:12} {r['control_mean']:10.4g} -> {r['variant_mean']:10.4g}  "
              f"lift {r['rel_lift']:+.1%} [{r['ci_low']:+.1%}, {r['ci_high']:+.1%}]  p={r['p_value']:.3g}  "
              f"p_holm={r['p_holm']:.3g}")
    print("  " + report["summary"]["en"])
    return 0


def _launch(args) -> int:
    from metrics.launch import LaunchError, evaluate_launch

    column, values = args.treated
    report = _report_or_refusal(
        args, lambda con: evaluate_launch(con, args.launched_at, column, values, window_days=args.window,
                                          matched=args.matched),
        LaunchError, "Cannot evaluate")
    if report is None or args.json:
        return 2 if report is None else 0

    def interval(entry: dict) -> str:
        return f"{entry['estimate']:+.3f} [{entry['ci_low']:+.3f}, {entry['ci_high']:+.3f}]"

    groups = report["groups"]
    print(f"Launch {report['launched_at']}: {report['treated_customers']:,} customers with {column} = "
          f"{', '.join(report['treated_values'])} vs {report['control_customers']:,} others"
          f"{' (matched)' if report['matched'] else ''}, {report['window_days']}-day windows")
    print(f"  orders per customer per 30 days: treated {groups['treated']['pre']:.3f} -> {groups['treated']['post']:.3f}, "
          f"comparison {groups['control']['pre']:.3f} -> {groups['control']['post']:.3f}")
    print(f"  naive change (treated, after - before)  {interval(report['naive'])}")
    print(f"  difference-in-differences               {interval(report['did'])}  p={report['did']['p_value']:.3g}")
    for name, entry in report["metrics"].items():
        if name != "orders_per_30d":
            print(f"  {name:24} naive {interval(entry['naive'])}  DiD {interval(entry['did'])}")
    pre, placebo = report["pre_trend"], report["placebo"]
    print("  pre-trend check: " + (f"p={pre['p_value']:.3g} over {pre['windows']} earlier window(s)"
                                   if pre["p_value"] is not None else "not enough history"))
    print("  placebo at " + placebo["launched_at"] + ": " + (
        f"{placebo['estimate']:+.3f} p={placebo['p_value']:.3g}" if placebo["p_value"] is not None else "not enough history"))
    print("  assumes parallel trends: without the launch both groups would have changed alike")
    for note in report["notes"]:
        print(f"  note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
