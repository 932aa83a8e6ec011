"""Append next month's orders to a store, against importing the history (issue 18).

    .venv/bin/python bench/append.py --orders 1m --append 50k [--scratch DIR] [--out FILE.json]

Generates the demo orders (`ingest.demo`, Parquet) a little past `--orders` + `--append`, keeps the
last `--append` orders by time as the next upload and the rest as the history, then measures, each
in this process, end to end (`import_file` until the new version is published):

1. importing the history into an empty store (the full build), then the demo's strategy-test assignments
   (timed apart: a shop's store has them when next month's orders arrive, and the append updates their tables);
2. appending the next upload to that store (the append path: `build_path` "append");
3. the same upload into a copy of the history store with appending turned off (the full rebuild).

Wall and CPU seconds (every thread of the process) are reported: on a shared machine the CPU
time is the steadier figure. Timings are not tests; the load average is printed beside them.
`append_tables_cpu_s` breaks the append's table building down per table (CPU seconds).
"""

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import store.derived as derived  # noqa: E402
from ingest.assignments import import_assignments  # noqa: E402
from ingest.demo import write_demo  # noqa: E402
from ingest.pipeline import import_file  # noqa: E402
from store import Store  # noqa: E402

ORDERS_PER_CUSTOMER = 5.83  # the demo's orders per customer (bench/README.md)


def count(text: str) -> int:
    text = text.lower()
    scale = {"k": 1_000, "m": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("km")) * scale)


def split(orders_file: Path, folder: Path, history_orders: int, append_orders: int) -> tuple[Path, Path]:
    """The history (all but the last `append_orders` orders by time) and the next upload, as Parquet."""
    table = pq.read_table(orders_file).sort_by([("order_ts", "ascending"), ("order_id", "ascending")])
    total = table.num_rows
    start = max(0, total - append_orders)
    # the upload starts strictly after the history's last order, so that it can be appended
    while 0 < start < total and table["order_ts"][start].as_py() == table["order_ts"][start - 1].as_py():
        start += 1
    history_path, next_path = folder / "history.parquet", folder / "next.parquet"
    pq.write_table(table.slice(max(0, start - history_orders), min(start, history_orders)), history_path)
    pq.write_table(table.slice(start), next_path)
    return history_path, next_path


def store_code() -> str | None:
    """The git tree ids of the code that imports files and builds stores (ingest/, store/), or None when it has
    changes not committed. A kept history store is reused only when they match: an older store lacks newer
    tables (which the append then builds whole), and its import time is another code's."""
    git = ["git", "-C", str(ROOT)]
    if subprocess.run([*git, "diff", "--quiet", "HEAD", "--", "ingest", "store"]).returncode != 0:
        return None
    trees = subprocess.run([*git, "rev-parse", "HEAD:ingest", "HEAD:store"], capture_output=True, text=True)
    return " ".join(trees.stdout.split()) if trees.returncode == 0 else None


def cpu_seconds() -> float:
    """CPU time of this process, every thread (DuckDB's too): steadier than wall time on a busy machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def timed_import(path: Path, store: Store, result: dict, key: str) -> object:
    """Import `path`; put its wall and CPU seconds into result[key + "_s"] and result[key + "_cpu_s"], and the
    wall seconds until the new version was published (its late tables built after) into key + "_published_s"."""
    started, cpu = time.perf_counter(), cpu_seconds()
    report = import_file(path, store, on_published=lambda _: result.__setitem__(
        key + "_published_s", round(time.perf_counter() - started, 2)))
    store.connect().execute("select count(*) from orders").fetchone()
    result[key + "_s"] = round(time.perf_counter() - started, 2)
    result[key + "_cpu_s"] = round(cpu_seconds() - cpu, 2)
    return report


class TableTimes:
    """CPU seconds per table while active: wraps the functions that write a table (store.derived)."""

    def __init__(self):
        self.seconds: dict[str, float] = {}
        self.active = False
        for function in ("_materialise", "_append_rows", "_append_replacing"):
            original = getattr(derived, function)
            setattr(derived, function, self._timed(original))

    def _timed(self, original):
        def timed(con, name, *args):
            started = cpu_seconds()
            try:
                return original(con, name, *args)
            finally:
                if self.active:
                    self.seconds[name] = round(self.seconds.get(name, 0) + cpu_seconds() - started, 2)
        return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", default="1m", help="orders in the history (1m, 5m...)")
    parser.add_argument("--append", default="50k", help="orders in the next upload")
    parser.add_argument("--scratch", help="folder for the generated files and stores (kept); default: temporary")
    parser.add_argument("--out", help="write the results as JSON to this file")
    parser.add_argument("--no-full-rebuild", action="store_true", help="skip step 3 (the same upload, full rebuild)")
    parser.add_argument("--reuse-history", action="store_true",
                        help="start from the history store (and its import figures) a previous run kept in --scratch, "
                             "if the same code (ingest/, store/) imported it")
    args = parser.parse_args(argv)
    history_orders, append_orders = count(args.orders), count(args.append)
    tables = TableTimes()
    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="append-bench-"))
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        demo = scratch / f"demo-{args.orders}-{args.append}"
        orders_file = demo / "orders.parquet"
        if not orders_file.exists():
            customers = int((history_orders + append_orders) * 1.02 / ORDERS_PER_CUSTOMER) + 1
            write_demo(demo, customers=customers)
        history, upload = split(orders_file, demo, history_orders, append_orders)
        result = {"history_orders": pq.read_metadata(history).num_rows, "append_orders": pq.read_metadata(upload).num_rows,
                  "cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
        stores, kept = scratch / "stores", demo / "history-store"
        shutil.rmtree(stores, ignore_errors=True)
        appended = Store(stores / "appended")
        code = store_code()
        recorded = json.loads((kept / "import.json").read_text(encoding="utf-8")) if (kept / "import.json").exists() else {}
        if args.reuse_history and code is not None and recorded.get("store_code") == code:
            shutil.copytree(kept, stores / "appended")
            result.update({k: v for k, v in recorded.items() if k != "store_code"})
        else:
            if args.reuse_history:
                print("the kept history store was imported by other code: importing the history again", flush=True)
            timed_import(history, appended, result, "import_history")
            started = time.perf_counter()
            import_assignments(demo / "assignments.csv", appended)
            result["import_assignments_s"] = round(time.perf_counter() - started, 2)
            shutil.rmtree(kept, ignore_errors=True)
            shutil.copytree(stores / "appended", kept)
            kept_figures = {k: result[k] for k in ("import_history_published_s", "import_history_s", "import_history_cpu_s",
                                                   "import_assignments_s")}
            (kept / "import.json").write_text(json.dumps({**kept_figures, "store_code": code}), encoding="utf-8")
        if not args.no_full_rebuild:
            shutil.copytree(stores / "appended", stores / "rebuilt")
        tables.active = True
        result["append_path"] = timed_import(upload, appended, result, "append").build_path
        tables.active = False
        result["append_tables_cpu_s"] = dict(sorted(tables.seconds.items(), key=lambda item: -item[1]))
        print(json.dumps(result, indent=1), flush=True)  # the append's figures before the long step 3
        if not args.no_full_rebuild:
            rebuilt = Store(stores / "rebuilt", append_uploads=False)
            result["full_path"] = timed_import(upload, rebuilt, result, "full_rebuild").build_path
        result["append_share_of_import"] = round(result["append_s"] / result["import_history_s"], 3)
        result["append_cpu_share_of_import"] = round(result["append_cpu_s"] / result["import_history_cpu_s"], 3)
        result["load_after"] = os.getloadavg()[0]
        print(json.dumps(result, indent=1))
        if args.out:
            Path(args.out).write_text(json.dumps(result, indent=1), encoding="utf-8")
    finally:
        if not args.scratch:
            shutil.rmtree(scratch, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
