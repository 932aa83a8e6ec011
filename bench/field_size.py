"""Import time for one oversized field in each mapped column (issue 13: linear time for any content).

    .venv/bin/python bench/field_size.py [--rows 1000] [--sizes 1k,100k,1m,10m] [--out FILE.md]

Each run imports a CSV of `--rows` orders, the second of which has, in one mapped column, SIZE
characters of digits (near the top, where a CSV sniffer looks; digits: the worst case for the number
and date parsers), into an empty store,
and prints a Markdown table: seconds end to end, and what became of the oversized row.
"""

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ingest import import_file  # noqa: E402
from store import Store  # noqa: E402

COLUMNS = ["order_id", "customer_id", "order_date", "amount", "status", "channel"]
SIZES = {"1k": 1_000, "100k": 100_000, "1m": 1_000_000, "10m": 10_000_000}


def write_file(path: Path, rows: int, column: str, size: int) -> None:
    """`rows` ordinary orders (numeric ids, as in Taobao or UCI exports); the second one carries `size`
    digits in `column`."""
    with open(path, "w", encoding="utf-8") as out:
        out.write(",".join(COLUMNS) + "\n")
        for i in range(rows):
            values = {"order_id": f"{100_000 + i}", "customer_id": f"{17_850 + i % 97}", "order_date": f"2024-01-{1 + i % 28:02d} 10:00:00",
                      "amount": f"{10 + i % 50}.50", "status": "paid", "channel": "web"}
            if i == 1:
                values[column] = "9" * size
            out.write(",".join(values[c] for c in COLUMNS) + "\n")


def measure(rows: int, column: str, size: int, folder: Path) -> tuple[float, str]:
    path = folder / f"{column}_{size}.csv"
    write_file(path, rows, column, size)
    started = time.perf_counter()
    report = import_file(path, Store(folder / f"store_{column}_{size}"))
    seconds = time.perf_counter() - started
    path.unlink()
    outcome = ", ".join(f"{code} {n}" for code, n in report.issue_counts.items()) or "accepted"
    return seconds, f"{report.orders_accepted:,} orders; {outcome}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000)
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    sizes = {name: SIZES[name] for name in args.sizes.split(",")}
    lines = [f"One oversized value among {args.rows:,} orders, import time in seconds (end to end, empty store)", "",
             "| column | " + " | ".join(sizes) + " | the largest size: what became of it |",
             "|---|" + "---:|" * len(sizes) + "---|"]
    with tempfile.TemporaryDirectory(prefix="field-size-") as work:
        for column in COLUMNS:
            cells, outcome = [], ""
            for size in sizes.values():
                seconds, outcome = measure(args.rows, column, size, Path(work))
                cells.append(f"{seconds:.2f}")
            lines.append(f"| {column} | " + " | ".join(cells) + f" | {outcome} |")
            print(lines[-1], file=sys.stderr, flush=True)
    text = "\n".join(lines)
    print(text)
    if args.out:
        args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
