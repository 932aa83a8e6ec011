"""Sidebar filter combinations on an existing store: from the combination summaries vs counted from every order.

    .venv/bin/python bench/filter_combos.py STORE [--runs 3] [--out FILE.json]

For each request (two, three and four filters, quarters, a breakdown, the cohort matrix, the Customers
page's per-customer results: funnel, time to second order, RFM, days between orders, due list), warm on one
connection: wall and CPU seconds (every thread of the process: on a busy shared machine the steadier
figure), median of --runs, (1) as the pages ask (`kpi_base` for the usual views, else the combination
summaries, store/models/kpi_combos.py), (2) the same with changes=False (the KPI table without the
trailing-year counts: what the per-customer part costs), (3) with every summary hidden, counted from
the orders. Also the rows of the summaries against the orders. Timings are not tests.
"""

import argparse
import json
import os
import resource
import statistics
import sys
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from metrics.cohorts import cohort_matrix  # noqa: E402
from metrics.customer_views import customer_views  # noqa: E402
from metrics.filters import Filters  # noqa: E402
from metrics.kpis import kpi_table  # noqa: E402
from store import Store  # noqa: E402
from store import store as store_module  # noqa: E402
from store.models.dialect import has_table  # noqa: E402
from store.models.registry import SUMMARIES  # noqa: E402

TWO = Filters(channel=("app",), region=("East",))
THREE = Filters(member_tier=("gold", "diamond"), channel=("app", "web"), category=("Food",))
FOUR = Filters(member_tier=("silver",), channel=("web",), region=("South", "North"), category=("Beauty",),
               start=date(2024, 7, 1), end=date(2025, 9, 30))
REQUESTS = {
    "kpi_table app+East": lambda con, changes: kpi_table(con, TWO, changes=changes),
    "kpi_table 3 filters": lambda con, changes: kpi_table(con, THREE, changes=changes),
    "kpi_table 3 filters, quarters": lambda con, changes: kpi_table(con, THREE, "quarter", changes=changes),
    "kpi_table 4 filters + dates": lambda con, changes: kpi_table(con, FOUR, changes=changes),
    "kpi_table app+East by region": lambda con, changes: kpi_table(con, TWO, by="region", changes=changes),
    "kpi_table unfiltered, quarters": lambda con, changes: kpi_table(con, Filters(), "quarter", changes=changes),
    "cohort_matrix app+East": lambda con, changes: cohort_matrix(con, TWO),
    "cohort_matrix 4 filters + dates": lambda con, changes: cohort_matrix(con, FOUR),
}


def _customer_views(con, filters: Filters) -> dict:
    """The Customers page's per-customer results on a connection of their own, as the page runs them: its
    kept facts and gaps (metrics.customer_facts) are made again each time, not kept from the last run."""
    own = con.cursor()
    try:
        return customer_views(own, filters, 500)
    finally:
        own.close()


for _name, _filters in (("app+East", TWO), ("3 filters", THREE)):
    REQUESTS[f"customers views {_name}"] = lambda con, changes, f=_filters: _customer_views(con, f)
TABLES = ("orders", "kpi_base", "kpi_combos", "kpi_combo_months", "kpi_signatures", "kpi_customer_combos")


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed(fn, runs: int) -> dict:
    fn()  # warm-up
    walls, cpus = [], []
    for _ in range(runs):
        start, cpu = time.perf_counter(), cpu_seconds()
        fn()
        walls.append(time.perf_counter() - start)
        cpus.append(cpu_seconds() - cpu)
    return {"wall": round(statistics.median(walls), 4), "cpu": round(statistics.median(cpus), 4)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("store", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--only", help="only the requests whose name contains this text")
    args = parser.parse_args(argv)
    store = Store(args.store)
    summaries = store.connect()
    # a database of its own: the process's connections to one version share one, and its views are dropped here
    from_orders = store_module._version_database(store.version_dir())
    for name in SUMMARIES:
        from_orders.execute(f"drop view if exists {name}")
    result = {"load_before": os.getloadavg()[0], "rows": {}, "requests": {}}
    for name in TABLES:
        if has_table(summaries, name):
            result["rows"][name] = summaries.execute(f"select count(*) from {name}").fetchone()[0]
    for label, request in REQUESTS.items():
        if args.only and args.only not in label:
            continue
        row = {"summaries": timed(lambda: request(summaries, True), args.runs)}
        if label.startswith("kpi_table"):
            row["summaries_no_trailing_year"] = timed(lambda: request(summaries, False), args.runs)
        row["from_orders"] = timed(lambda: request(from_orders, True), max(1, args.runs // 2))
        result["requests"][label] = row
        print(f"{label}: {row}", file=sys.stderr, flush=True)
    result["load_after"] = os.getloadavg()[0]
    print(json.dumps(result, indent=1))
    if args.out:
        args.out.write_text(json.dumps(result, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
