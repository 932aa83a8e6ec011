"""Deterministic demo data: a retailer's orders over three years, plus two strategy experiments.

Each customer arrives once (more in later months and before the holidays), buys again as a
Poisson process whose rate depends on member tier and season, and may stop buying after each
order (the buy-till-you-die story that BG/NBD assumes). Members buy more often than non-members.
Two experiments are assigned to customers acquired before them:

- `points_double_2025` (strategy: points and tiers): the treatment arm buys 1.6x as often for
  60 days after assignment, a planted effect on repurchase;
- `aa_followup_2025` (strategy: service follow-ups): an A/A test; both arms are identical.

Usage: `python -m ingest.demo [--store DIR] [--customers N] [--out DIR] [--if-empty]`.
The same seed always gives the same files.
"""

import argparse
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

START = np.datetime64("2023-01-01T00:00:00")
END = np.datetime64("2026-01-01T00:00:00")  # exclusive: the demo covers 2023 to 2025
DAY = np.timedelta64(1, "D")
YEAR_DAYS = 365.25

TIERS = np.array(["none", "silver", "gold", "diamond"])
TIER_SHARE = [0.55, 0.25, 0.14, 0.06]
TIER_RATE = np.array([1.0, 1.6, 2.4, 3.4])  # purchase-rate multiple by tier
TIER_DROPOUT = np.array([1.0, 0.7, 0.5, 0.35])  # dropout-probability multiple by tier
CHANNELS = np.array(["app", "web", "mini_program", "store"])
CHANNEL_SHARE = [0.35, 0.25, 0.25, 0.15]
REGIONS = np.array(["East", "North", "South", "Southwest", "Central", "Northeast", "Northwest"])
REGION_SHARE = [0.30, 0.18, 0.20, 0.10, 0.10, 0.07, 0.05]
CATEGORIES = np.array(["Apparel", "Beauty", "Home", "Food", "Electronics", "Baby"])
CATEGORY_SHARE = [0.28, 0.22, 0.16, 0.16, 0.10, 0.08]
CATEGORY_PRICE = np.array([1.0, 0.8, 1.3, 0.5, 2.5, 0.9])
STORES = np.array(["Shanghai Nanjing Rd", "Beijing Sanlitun", "Shenzhen Futian", "Chengdu Taikoo Li"])
MONTH_SEASON = np.array([1.0, 0.75, 0.9, 0.95, 1.0, 1.1, 0.95, 0.95, 1.0, 1.05, 1.7, 1.4])
GUEST_SHARE = 0.04
CANCEL_SHARE, REFUND_SHARE = 0.03, 0.02


@dataclass(frozen=True)
class Experiment:
    name: str
    strategy: str
    assigned_at: np.datetime64
    share_of_customers: float
    rate_boost: float  # treatment purchase-rate multiple during the effect window (1 = A/A)
    effect_days: int
    cost_per_customer: float


EXPERIMENTS = [
    Experiment("points_double_2025", "points_tiers", np.datetime64("2025-03-01T00:00:00"), 0.30, 1.6, 60, 4.0),
    Experiment("aa_followup_2025", "service_followup", np.datetime64("2025-06-01T00:00:00"), 0.20, 1.0, 60, 1.5),
]


def _month_weights(times: np.ndarray) -> np.ndarray:
    months = times.astype("datetime64[M]").astype(int) % 12
    return MONTH_SEASON[months]


def _simulate_customers(rng: np.random.Generator, n: int, first_key: int):
    """Customer attributes plus the order timestamps of every customer (keys first_key..)."""
    keys = np.arange(first_key, first_key + n)
    # acquisition month: growth over time times season
    months = np.arange(START.astype("datetime64[M]"), END.astype("datetime64[M]"))
    weights = np.linspace(0.7, 1.4, len(months)) * MONTH_SEASON[months.astype(int) % 12]
    month_idx = rng.choice(len(months), size=n, p=weights / weights.sum())
    month_start = months[month_idx].astype("datetime64[s]")
    month_len = ((months[month_idx] + 1).astype("datetime64[s]") - month_start).astype(float)
    first = month_start + (rng.random(n) * month_len).astype("timedelta64[s]")

    tier = rng.choice(len(TIERS), size=n, p=TIER_SHARE)
    rate = rng.gamma(shape=1.2, scale=3.8 / 1.2, size=n) * TIER_RATE[tier]  # orders per year
    dropout = np.clip(rng.beta(1.0, 7.0, size=n) * TIER_DROPOUT[tier], 0.0, 0.95)

    assigned = {}
    for experiment in EXPERIMENTS:
        eligible = first < experiment.assigned_at
        chosen = eligible & (rng.random(n) < experiment.share_of_customers)
        arm = rng.random(n) < 0.5
        assigned[experiment.name] = (chosen, arm)

    max_boost = max(e.rate_boost for e in EXPERIMENTS)
    ceiling = MONTH_SEASON.max() * max_boost
    times = [first]
    owners = [np.arange(n)]
    t = first.copy()
    alive = rng.random(n) >= dropout  # coin after the first order
    active = np.nonzero(alive)[0]
    while active.size:
        gaps = rng.exponential(YEAR_DAYS / (rate[active] * ceiling)) * 86400
        t[active] = t[active] + gaps.astype("timedelta64[s]")
        active = active[t[active] < END]
        if not active.size:
            break
        now = t[active]
        intensity = _month_weights(now)
        for experiment in EXPERIMENTS:
            chosen, arm = assigned[experiment.name]
            in_window = (now >= experiment.assigned_at) & (now < experiment.assigned_at + experiment.effect_days * DAY)
            boosted = chosen[active] & arm[active] & in_window
            intensity = np.where(boosted, intensity * experiment.rate_boost, intensity)
        buys = rng.random(active.size) < intensity / ceiling
        buyers = active[buys]
        times.append(t[buyers].copy())
        owners.append(buyers)
        stops = rng.random(buyers.size) < dropout[buyers]
        stopped = buyers[stops]
        keep = np.ones(active.size, dtype=bool)
        keep[np.isin(active, stopped)] = False
        active = active[keep]
    order_ts = np.concatenate(times)
    owner = np.concatenate(owners)
    customers = {
        "key": keys,
        "tier": tier,
        "channel": rng.choice(len(CHANNELS), size=n, p=CHANNEL_SHARE),
        "region": rng.choice(len(REGIONS), size=n, p=REGION_SHARE),
        "spend": rng.gamma(shape=6.0, scale=180.0 / 6.0, size=n),
        "assigned": assigned,
    }
    return customers, order_ts, owner


def _orders_table(rng: np.random.Generator, customers: dict, order_ts: np.ndarray, owner: np.ndarray, prefix: str) -> pa.Table:
    n = order_ts.size
    guests = rng.binomial(n, GUEST_SHARE / (1 - GUEST_SHARE))
    guest_ts = START + (rng.random(guests) * (END - START).astype(float)).astype("timedelta64[s]")
    all_ts = np.concatenate([order_ts, guest_ts]).astype("datetime64[s]")
    order = np.argsort(all_ts, kind="stable")
    all_ts = all_ts[order]
    is_guest = np.concatenate([np.zeros(n, bool), np.ones(guests, bool)])[order]
    who = np.concatenate([owner, np.zeros(guests, dtype=owner.dtype)])[order]
    total = all_ts.size

    channel_idx = np.where(rng.random(total) < 0.8, customers["channel"][who], rng.choice(len(CHANNELS), total, p=CHANNEL_SHARE))
    category_idx = rng.choice(len(CATEGORIES), total, p=CATEGORY_SHARE)
    base = np.where(is_guest, 150.0, customers["spend"][who])
    amount = np.round(base * CATEGORY_PRICE[category_idx] * rng.lognormal(0.0, 0.45, total), 2)
    amount = np.maximum(amount, 1.0)
    status_draw = rng.random(total)
    status = np.where(status_draw < CANCEL_SHARE, "cancelled", np.where(status_draw < CANCEL_SHARE + REFUND_SHARE, "refunded", "paid"))
    month = all_ts.astype("datetime64[M]").astype(int) % 12
    coupon_draw = rng.random(total)
    coupon = np.where((month == 10) & (coupon_draw < 0.5), "DOUBLE11", np.where(coupon_draw < 0.08, "SAVE20", None))
    customer_id = np.where(is_guest, None, np.char.add("C", customers["key"][who].astype(str)))
    return pa.table({
        "order_id": pa.array(np.char.add(prefix, np.arange(1, total + 1).astype(str))),
        "customer_id": pa.array(customer_id, pa.string()),
        "order_ts": pa.array(all_ts),
        "amount": pa.array(amount),
        "status": pa.array(status),
        "channel": pa.array(CHANNELS[channel_idx]),
        "region": pa.array(np.where(is_guest, None, REGIONS[customers["region"][who]]), pa.string()),
        "store": pa.array(np.where(CHANNELS[channel_idx] == "store", STORES[rng.integers(0, len(STORES), total)], None), pa.string()),
        "member_tier": pa.array(np.where(is_guest, None, TIERS[customers["tier"][who]]), pa.string()),
        "category": pa.array(CATEGORIES[category_idx]),
        "coupon_code": pa.array(coupon, pa.string()),
        "currency": pa.array(np.full(total, "CNY")),
    })


def _assignments_table(customers: dict) -> pa.Table:
    parts = []
    for experiment in EXPERIMENTS:
        chosen, arm = customers["assigned"][experiment.name]
        idx = np.nonzero(chosen)[0]
        parts.append(pa.table({
            "experiment": pa.array(np.full(idx.size, experiment.name)),
            "customer_id": pa.array(np.char.add("C", customers["key"][idx].astype(str))),
            "variant": pa.array(np.where(arm[idx], "treatment", "control")),
            "assigned_at": pa.array(np.full(idx.size, experiment.assigned_at).astype("datetime64[s]")),
            "strategy": pa.array(np.full(idx.size, experiment.strategy)),
            "cost_per_customer": pa.array(np.where(arm[idx], experiment.cost_per_customer, 0.0)),
        }))
    return pa.concat_tables(parts)


def write_demo(out_dir: Path, customers: int = 50_000, seed: int = 20240601, chunk: int = 250_000,
               csv: bool = False) -> dict[str, Path]:
    """Write orders (Parquet, or CSV with csv=True) and assignments.csv; return their paths.

    Customers are simulated in chunks so that 2 million customers (about 10 million orders)
    fit in little memory; the result depends only on `customers`, `seed` and `chunk`.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    orders_path = out_dir / ("orders.csv" if csv else "orders.parquet")
    assignments_path = out_dir / "assignments.csv"
    rng = np.random.default_rng(seed)
    writer = None
    assignment_parts = []
    for number, first_key in enumerate(range(1, customers + 1, chunk)):
        size = min(chunk, customers + 1 - first_key)
        people, order_ts, owner = _simulate_customers(rng, size, first_key)
        table = _orders_table(rng, people, order_ts, owner, prefix=f"D{number:02d}-")
        if writer is None:
            writer = pa_csv.CSVWriter(orders_path, table.schema) if csv else pq.ParquetWriter(orders_path, table.schema)
        writer.write_table(table)
        assignment_parts.append(_assignments_table(people))
    writer.close()
    pa_csv.write_csv(pa.concat_tables(assignment_parts), assignments_path)
    return {"orders": orders_path, "assignments": assignments_path}


def main(argv: list[str] | None = None) -> int:
    from ingest.assignments import import_assignments
    from ingest.pipeline import import_file
    from store import Store

    parser = argparse.ArgumentParser(prog="python -m ingest.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--store", type=Path, help="store to load the demo into (default: data/store)")
    parser.add_argument("--customers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=20240601)
    parser.add_argument("--out", type=Path, help="where to write the demo files (default: data/demo)")
    parser.add_argument("--csv", action="store_true", help="write orders as CSV instead of Parquet")
    parser.add_argument("--if-empty", action="store_true", help="do nothing when the store already has data")
    parser.add_argument("--no-load", action="store_true", help="only write the files")
    args = parser.parse_args(argv)
    store = Store(args.store)
    if args.if_empty and store.batches():
        print(f"Store {store.root} already has data; demo not loaded.")
        return 0
    out = args.out or Path(__file__).resolve().parent.parent / "data" / "demo"
    started = datetime.now()
    paths = write_demo(out, customers=args.customers, seed=args.seed, csv=args.csv)
    print(f"Demo files written to {out} in {(datetime.now() - started).total_seconds():.1f} s.")
    if args.no_load:
        return 0
    report = import_file(paths["orders"], store)
    print(f"Loaded {report.orders_accepted:,} orders into {store.root} in {report.seconds:.1f} s.")
    assignments = import_assignments(paths["assignments"], store)
    print(f"Loaded {assignments['rows_accepted']:,} experiment assignments.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
