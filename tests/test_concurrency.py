"""Concurrency and faults: two uploads at once, uploads while many readers read, a killed upload.

Readers must see one published version or the next, never a mix; a version a reader still holds
is never deleted under it; no accepted batch is ever lost; a killed writer leaves the previous
version in force and the next change cleans up after it.
"""

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from ingest import import_file
from store import Store, StoreChanged

ROOT = Path(__file__).resolve().parent.parent


def orders_csv(path: Path, first_order: int, count: int, customers: int, customer_prefix: str) -> Path:
    """`count` orders of `customers` new customers (named by prefix), over 2023-2024."""
    lines = ["order_id,customer_id,order_date,amount,channel"]
    for i in range(count):
        day = 1 + (i * 7919) % 700
        lines.append(f"{first_order + i},{customer_prefix}{i % customers},"
                     f"{2023 + day // 365}-{1 + (day % 365) // 31:02d}-{1 + day % 28:02d} 10:{i % 60:02d},"
                     f"{10 + i % 90}.50,{'web' if i % 3 else 'store'}")
    path.write_text("\n".join(lines) + "\n")
    return path


CONSISTENCY_SQL = """
    select
        (select count(*) from orders) as orders,
        (select count(*) from orders where is_valid and customer_key is not null) as identified,
        (select count(*) from customers) as customers,
        (select coalesce(sum(valid_orders), 0) from customers) as customer_orders,
        (select count(distinct customer_key) from orders where customer_key is not null and is_valid) as order_customers
"""


def read_snapshot(store: Store) -> tuple[int, dict]:
    """(version, row counts) read the way a page does: the manifest's version, then that version only."""
    manifest = store.manifest()
    con = store.connect(manifest["version"])
    try:
        row = con.execute(CONSISTENCY_SQL).fetchone()
    finally:
        con.close()
    orders, identified, customers, customer_orders, order_customers = row
    # every table of one version agrees with the others and with that version's manifest
    assert identified == customer_orders, row
    assert customers == order_customers, row
    assert orders == manifest["tables"]["orders"] and customers == manifest["tables"]["customers"], (row, manifest["tables"])
    return manifest["version"], {"orders": orders, "customers": customers}


def assert_no_batch_lost(store: Store, expected_batches: int) -> None:
    manifest = store.manifest()
    assert len(manifest["batches"]) == expected_batches
    live = sum(b["orders_live"] for b in manifest["batches"])
    assert manifest["tables"]["orders"] == live
    for batch in manifest["batches"]:
        assert (store.root / "batches" / batch["id"] / "orders.parquet").exists()


def test_two_uploads_at_once_from_two_processes_both_land(tmp_path):
    store = Store(tmp_path / "store")
    first = orders_csv(tmp_path / "north.csv", 1, 20_000, 4_000, "n")
    second = orders_csv(tmp_path / "south.csv", 100_001, 20_000, 4_000, "s")
    processes = [subprocess.Popen([sys.executable, "-m", "ingest", str(path), "--store", str(store.root)], cwd=ROOT,
                                  stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for path in (first, second)]
    results = [process.communicate(timeout=120) for process in processes]
    assert [p.returncode for p in processes] == [0, 0], results
    assert_no_batch_lost(store, 2)
    version, counts = read_snapshot(store)
    assert version == 2 and counts == {"orders": 40_000, "customers": 8_000}
    imports = [e for e in store.audit_log() if e["action"] == "import"]
    assert sorted(e["file"] for e in imports) == ["north.csv", "south.csv"]
    assert sorted(e["version"] for e in imports) == [1, 2]  # one after the other, under the lock


def test_readers_see_one_version_or_the_next_while_uploads_publish(tmp_path):
    store = Store(tmp_path / "store")
    import_file(orders_csv(tmp_path / "base.csv", 1, 5_000, 1_000, "base"), store)
    files = [orders_csv(tmp_path / f"month{n}.csv", 10_000 * (n + 1), 3_000, 600, f"m{n}_") for n in range(4)]
    published = {1: {"orders": 5_000, "customers": 1_000}}
    errors: list[BaseException] = []
    seen: dict[int, set] = {}
    stop = threading.Event()

    def reader(index: int) -> None:
        try:
            while not stop.is_set():
                version, counts = read_snapshot(store)
                seen.setdefault(version, set()).add(tuple(sorted(counts.items())))
        except BaseException as error:  # noqa: BLE001 - any failure is reported by the test
            errors.append(error)

    readers = [threading.Thread(target=reader, args=(i,)) for i in range(6)]
    for thread in readers:
        thread.start()
    try:
        for n, path in enumerate(files):
            import_file(path, store)
            published[n + 2] = {"orders": 5_000 + 3_000 * (n + 1), "customers": 1_000 + 600 * (n + 1)}
            time.sleep(0.05)
    finally:
        stop.set()
        for thread in readers:
            thread.join(timeout=60)
    assert not errors, errors[:3]
    assert len(seen) >= 3, seen  # the readers really did run across several publishes
    for version, snapshots in seen.items():
        assert snapshots == {tuple(sorted(published[version].items()))}, (version, snapshots)
    assert_no_batch_lost(store, 5)


def test_a_version_held_by_a_reader_is_not_deleted_under_it(tmp_path):
    store = Store(tmp_path / "store")
    import_file(orders_csv(tmp_path / "v1.csv", 1, 1_000, 100, "a"), store)
    held = store.connect()  # version 1, read slowly (a page, a CLV fit...)
    v1 = store.manifest()["current"]
    for n in range(5):  # more than the three versions kept
        import_file(orders_csv(tmp_path / f"next{n}.csv", 10_000 * (n + 1), 500, 50, f"b{n}_"), store)
    assert (store.root / "versions" / v1).exists()
    assert held.execute("select count(*) from orders").fetchone()[0] == 1_000  # still version 1, whole
    assert store.connect(1).execute("select count(*) from orders").fetchone()[0] == 1_000  # still there to read
    del held  # the readers are done: the next change deletes the old version
    import_file(orders_csv(tmp_path / "last.csv", 90_000, 100, 10, "c"), store)
    assert not (store.root / "versions" / v1).exists()
    with pytest.raises(StoreChanged):  # a page still asking for version 1 is told to reload
        store.connect(1)
    assert len(list((store.root / "versions").iterdir())) == 3
    assert store.connect(store.manifest()["version"] - 1).execute("select count(*) from orders").fetchone()[0] == 3_500


def test_a_version_pinned_to_read_its_kept_results_is_not_deleted_under_it(tmp_path):
    """The Playbook reads a version's kept lists without a DuckDB connection: the pin alone keeps them."""
    store = Store(tmp_path / "store")
    import_file(orders_csv(tmp_path / "v1.csv", 1, 1_000, 100, "a"), store)
    with store.pinned(1) as folder:
        (folder / "results").mkdir()
        (folder / "results" / "kept.json").write_text("{}")
        for n in range(4):  # more than the three versions kept
            import_file(orders_csv(tmp_path / f"next{n}.csv", 10_000 * (n + 1), 500, 50, f"b{n}_"), store)
        assert (folder / "results" / "kept.json").read_text() == "{}"
    import_file(orders_csv(tmp_path / "last.csv", 90_000, 100, 10, "c"), store)
    assert not folder.exists()
    with pytest.raises(StoreChanged), store.pinned(1):
        pass


def _start_import(path: Path, store: Store) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "ingest", str(path), "--store", str(store.root)], cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _kill_when(process: subprocess.Popen, ready, timeout: float = 60.0) -> bool:
    """SIGKILL the process as soon as ready() is true; False if it finished first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            process.send_signal(signal.SIGKILL)
            process.wait(timeout=10)
            return True
        if process.poll() is not None:
            return False
        time.sleep(0.001)
    process.kill()
    raise AssertionError("the import never reached the point to kill it at")


KILL_POINTS = {
    # the derived tables are being written into the staging folder
    "building derived tables": lambda root: any((root / ".staging").glob("*/version/*.parquet")),
    # the new version is in versions/ but not yet published (or just published)
    "publishing": lambda root: len(list((root / "versions").glob("v*"))) > 1,
}


@pytest.mark.parametrize("point", list(KILL_POINTS))
def test_upload_killed_mid_way_leaves_old_version_and_loses_nothing(tmp_path, point):
    store = Store(tmp_path / "store")
    import_file(orders_csv(tmp_path / "accepted.csv", 1, 2_000, 400, "old"), store)
    before = read_snapshot(store)
    big = orders_csv(tmp_path / "big.csv", 1_000_000, 150_000, 30_000, "new")
    process = _start_import(big, store)
    killed = _kill_when(process, lambda: KILL_POINTS[point](store.root))
    assert killed, "the import finished before it could be killed"
    assert process.returncode == -signal.SIGKILL
    after = read_snapshot(store)  # old, or (killed right after the rename) new: never a mix
    assert after == before or after[1]["orders"] == 152_000
    batches = 1 if after == before else 2
    assert_no_batch_lost(store, batches)
    # the next change works normally and sweeps what the killed process left
    import_file(orders_csv(tmp_path / "next.csv", 5_000_000, 1_000, 100, "next"), store)
    assert_no_batch_lost(store, batches + 1)
    assert not (store.root / ".staging").exists()
    live = {b["id"] for b in store.batches()}
    assert {p.name for p in (store.root / "batches").iterdir()} == live
    versions = [e.get("version") for e in store.audit_log() if e["action"] == "import"]
    assert versions == sorted(set(versions)) and max(versions) == store.manifest()["version"]  # every change logged
