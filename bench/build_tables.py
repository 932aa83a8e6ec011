"""Time a store's build table by table: an import into an empty store, or a full rebuild (issue 18).

    .venv/bin/python bench/build_tables.py import FILE --scratch DIR [--out FILE.json]
    .venv/bin/python bench/build_tables.py rebuild STORE --scratch DIR [--out FILE.json]

`import` imports FILE into a new store in DIR/store (DIR/store is deleted first); `rebuild` rebuilds a
hard-link copy of STORE made in DIR/store (`Store.rebuild`: every table from every live batch; STORE
itself is not changed). Reported: wall and CPU seconds of the whole and of each table (what
`store.derived` writes; a table written inside another's writer counts to the outer one), the
import's phases (wall seconds between its progress steps), peak resident memory, and the largest
size of the store's staging folder (DuckDB's spill included), sampled every 5 s. The figures of
bench/README.md's 100M sections come from this script. Timings are not tests.
"""

import argparse
import json
import resource
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import store.derived as derived  # noqa: E402
from bench.append import cpu_seconds  # noqa: E402
from ingest.pipeline import import_file  # noqa: E402
from store import Store  # noqa: E402

TABLE_WRITERS = ("_materialise", "_write_month_parts", "_write_orders", "_append_replacing")


class TableTimes:
    """(wall, CPU) seconds per table: wraps the functions of store.derived that write a table."""

    def __init__(self):
        self.seconds: dict[str, tuple[float, float]] = {}
        self.depth = 0
        for function in TABLE_WRITERS:
            setattr(derived, function, self._timed(getattr(derived, function)))

    def _timed(self, original):
        def timed(con, *args):
            name = "orders" if original.__name__ == "_write_orders" else args[0]
            wall, cpu = time.perf_counter(), cpu_seconds()
            self.depth += 1
            try:
                return original(con, *args)
            finally:
                self.depth -= 1
                if self.depth == 0:
                    self.seconds[name] = (round(time.perf_counter() - wall, 1), round(cpu_seconds() - cpu, 1))
                    print(f"  {name}: {self.seconds[name][0]} s", file=sys.stderr, flush=True)
        return timed


class StagingSize:
    """The largest size of a store's staging folder, sampled every 5 s in a thread."""

    def __init__(self, store_root: Path):
        self.folder, self.largest = store_root / ".staging", 0
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self):
        while True:
            if self.folder.exists():
                out = subprocess.run(["du", "-sb", str(self.folder)], capture_output=True, text=True).stdout.split()
                if out:
                    self.largest = max(self.largest, int(out[0]))
            time.sleep(5)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("import", "rebuild"))
    parser.add_argument("source", type=Path, help="the file to import, or the store to rebuild a copy of")
    parser.add_argument("--scratch", type=Path, required=True, help="folder for the store built (DIR/store)")
    parser.add_argument("--out", type=Path, help="write the results as JSON to this file")
    args = parser.parse_args(argv)
    root = args.scratch / "store"
    shutil.rmtree(root, ignore_errors=True)
    args.scratch.mkdir(parents=True, exist_ok=True)
    if args.action == "rebuild":
        subprocess.run(["cp", "-al", str(args.source), str(root)], check=True)
    tables, staging = TableTimes(), StagingSize(root)
    phases: dict[str, float] = {}
    started, cpu = time.perf_counter(), cpu_seconds()
    last = [None, started]

    def progress(fraction: float, step: str) -> None:
        now = time.perf_counter()
        if last[0] is not None:
            phases[last[0]] = round(phases.get(last[0], 0) + now - last[1], 1)
        last[:] = [step, now]
        print(f"{step} ({now - started:.0f} s)", file=sys.stderr, flush=True)

    if args.action == "import":
        report = import_file(args.source, Store(root), progress=progress)
        outcome = {"orders_accepted": report.orders_accepted, "build_path": report.build_path,
                   "published_s": report.published_seconds}
    else:
        change = Store(root).rebuild()
        outcome = {"build_path": change["build_path"]}
    result = {
        "action": args.action, "source": str(args.source), **outcome,
        "wall_s": round(time.perf_counter() - started, 1), "cpu_s": round(cpu_seconds() - cpu, 1),
        "peak_rss_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
        "largest_staging_gb": round(staging.largest / 1e9, 1),
        "phases_s": phases,
        "tables_wall_cpu_s": dict(sorted(tables.seconds.items(), key=lambda item: -item[1][0])),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
