"""Time a store build on Spark (local mode) against DuckDB, on the demo orders (issue 19).

    .venv/bin/python bench/spark_build.py --customers 20000 [--master local[2]] [--scratch DIR] [--json]

Generates the demo (`ingest.demo`, Parquet), imports it into an empty DuckDB-built store and into an
empty Spark-built store (`Store(engine="spark")`), and reports the Spark session's start, the
import of the orders on each engine (reading and validating on DuckDB in both; the derived tables'
build on the store's engine) and the assignments' rebuild. Wall seconds; the load average beside
them (a shared machine). Timings are not tests.
"""

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main() -> int:
    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file
    from store import Store
    from store.spark import spark_session, stop_spark_session

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=20_000)
    parser.add_argument("--master", default="local[2]")
    parser.add_argument("--scratch", type=Path)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    scratch = Path(tempfile.mkdtemp(dir=args.scratch))
    try:
        paths = write_demo(scratch / "files", customers=args.customers)
        result = {"customers": args.customers, "orders": pq.read_metadata(paths["orders"]).num_rows,
                  "master": args.master, "load_average": os.getloadavg()[0]}
        started = time.perf_counter()
        spark_session(args.master)
        result["spark_start_s"] = round(time.perf_counter() - started, 2)
        for engine in ("duckdb", "spark"):
            store = Store(scratch / engine, engine=engine)
            started = time.perf_counter()
            import_file(paths["orders"], store)
            result[f"{engine}_orders_import_s"] = round(time.perf_counter() - started, 2)
            started = time.perf_counter()
            import_assignments(paths["assignments"], store)
            result[f"{engine}_assignments_import_s"] = round(time.perf_counter() - started, 2)
        result["load_average_after"] = os.getloadavg()[0]
        stop_spark_session()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    print(json.dumps(result, indent=1) if args.json else "\n".join(f"{k}: {v}" for k, v in result.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
