"""The store: overlapping uploads, removal, derived tables, and failures that change nothing."""

import errno
import hashlib
import json
from decimal import Decimal

import pytest

from conftest import fixture, stored_orders, tree_digest
from ingest import ImportRefused, import_file
from store import store as store_module

JANUARY = """order_id,customer_id,order_date,amount,member_tier
1,alice,2024-01-03 10:00,100,gold
2,bob,2024-01-10 11:00,50,
3,alice,2024-01-20 12:00,70,gold
"""
# next month's export repeats order 3 with a corrected amount, and adds two orders
FEBRUARY = """order_id,customer_id,order_date,amount,member_tier
3,alice,2024-01-20 12:00,75,gold
4,bob,2024-02-02 09:00,20,
5,carol,2024-02-14 18:30,60,silver
"""


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_overlapping_reupload_does_not_double_count_and_newer_row_wins(store, tmp_path):
    first = import_file(write(tmp_path, "jan.csv", JANUARY), store)
    second = import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    orders = stored_orders(store)
    assert sorted(orders) == ["1", "2", "3", "4", "5"]
    assert orders["3"]["amount"] == Decimal("75.00")
    assert second.orders_replacing_earlier == 1

    batches = {b["id"]: b for b in store.manifest()["batches"]}
    assert batches[first.batch_id]["orders_superseded_by_newer"] == 1
    assert batches[first.batch_id]["orders_live"] == 2
    assert batches[second.batch_id]["orders_replacing_earlier"] == 1
    assert store.manifest()["tables"]["orders"] == 5


def test_an_order_in_three_uploads_is_counted_once_from_the_newest_and_numbered_among_the_kept_rows(store, tmp_path):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    # a third export corrects order 3 again and moves it after alice's order 6
    third = import_file(write(tmp_path, "mar.csv", "order_id,customer_id,order_date,amount,member_tier\n"
                              "6,alice,2024-02-20 09:00,40,gold\n3,alice,2024-03-01 12:00,80,gold\n"), store)
    orders = stored_orders(store)
    assert sorted(orders) == ["1", "2", "3", "4", "5", "6"]
    assert orders["3"]["amount"] == Decimal("80.00")
    assert (orders["1"]["customer_order_seq"], orders["6"]["customer_order_seq"], orders["3"]["customer_order_seq"]) == (1, 2, 3)
    assert orders["3"]["days_since_previous"] == 10  # 2024-02-20 to 2024-03-01

    live = [(b["orders_live"], b["orders_superseded_by_newer"], b["orders_replacing_earlier"])
            for b in store.manifest()["batches"]]
    assert live == [(2, 1, 0), (2, 1, 1), (2, 0, 1)]  # february's order 3 both replaces and is replaced
    assert third.orders_replacing_earlier == 1
    assert store.manifest()["tables"]["orders"] == 6


def test_removing_a_batch_brings_back_what_it_replaced(store, tmp_path):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    second = import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    store.remove_batch(second.batch_id)
    orders = stored_orders(store)
    assert sorted(orders) == ["1", "2", "3"]
    assert orders["3"]["amount"] == Decimal("70.00")
    assert [b["id"] for b in store.manifest()["removed"]] == [second.batch_id]
    assert not (store.root / "batches" / second.batch_id).exists()


def test_original_file_is_kept_byte_for_byte_with_its_sha256_in_the_manifest_and_audit_log(store):
    report = import_file(fixture("taobao_orders_gbk.csv"), store)
    kept = store.root / "batches" / report.batch_id / "original" / "taobao_orders_gbk.csv"
    original = fixture("taobao_orders_gbk.csv").read_bytes()
    assert kept.read_bytes() == original
    expected = hashlib.sha256(original).hexdigest()
    assert [b["sha256"] for b in store.manifest()["batches"]] == [expected]
    assert [entry["sha256"] for entry in store.audit_log() if entry["action"] == "import"] == [expected]


def test_a_failed_copy_of_the_original_leaves_the_store_byte_for_byte(store, tmp_path, monkeypatch):
    """The copy runs beside the tables' build: a full disk found by it discards the version built meanwhile."""
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    before, orders_before = tree_digest(store.root), sorted(stored_orders(store))
    builds = []
    build_version = store_module.Store._build_version
    monkeypatch.setattr(store_module.Store, "_build_version",
                        lambda self, *args, **kwargs: builds.append(1) or build_version(self, *args, **kwargs))

    def disk_full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(store_module.shutil, "copy2", disk_full)
    with pytest.raises(OSError, match="No space left on device"):
        import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    assert builds == [1]  # the version was built before the copy's failure was known
    assert tree_digest(store.root) == before
    assert sorted(stored_orders(store)) == orders_before


def test_derived_tables_sequence_and_cohort(store, tmp_path):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    con = store.connect()
    seq = con.sql(
        "select order_id, customer_order_seq, days_since_previous, cohort_month::varchar from orders order by order_id"
    ).fetchall()
    assert seq == [
        ("1", 1, None, "2024-01-01"),
        ("2", 1, None, "2024-01-01"),
        ("3", 2, 17, "2024-01-01"),
        ("4", 2, 23, "2024-01-01"),
        ("5", 1, None, "2024-02-01"),
    ]
    customers = con.sql(
        "select customer_id, cohort_month::varchar, valid_orders, revenue from customers order by 1"
    ).fetchall()
    assert customers == [
        ("alice", "2024-01-01", 2, Decimal("175.00")),
        ("bob", "2024-01-01", 2, Decimal("70.00")),
        ("carol", "2024-02-01", 1, Decimal("60.00")),
    ]
    tiers = dict(con.sql("select customer_id, member_tier from customers").fetchall())
    assert tiers == {"alice": "gold", "bob": None, "carol": "silver"}


REFUSED = [
    ("garbage.xlsx", b"\x00\x01\x02 this is not a workbook" * 10, "is named .xlsx but its content is not"),
    ("truncated.xlsx", b"PK\x03\x04" + b"\x00" * 100, "could not be opened as an Excel workbook"),
    ("fake.parquet", b"PAR1 broken", "could not be read as Parquet"),
    ("empty.csv", b"", "the file is empty"),
    ("header_only.csv", b"order_id,order_date,amount\n", "has a header but no rows"),
    ("no_columns.csv", b"foo,bar\n1,2\n", "no column found for order id, order date, order amount"),
    ("all_bad.csv", b"order_id,order_date,amount\n1,never,abc\n", "none of the 1 rows could be imported"),
]


@pytest.mark.parametrize(("name", "content", "message"), REFUSED, ids=[r[0] for r in REFUSED])
def test_refused_file_gets_one_sentence_and_changes_nothing(store, tmp_path, name, content, message):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    before = tree_digest(store.root)
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ImportRefused) as refused:
        import_file(path, store)
    assert message in str(refused.value)
    assert str(refused.value).startswith(name)
    assert tree_digest(store.root) == before


def test_failure_while_publishing_leaves_store_byte_for_byte(store, tmp_path, monkeypatch):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    before = tree_digest(store.root)

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(store_module, "build_derived_tables", crash)
    with pytest.raises(OSError):
        import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    assert tree_digest(store.root) == before
    assert sorted(stored_orders(store)) == ["1", "2", "3"]


def test_crash_before_manifest_swap_keeps_previous_version(store, tmp_path, monkeypatch):
    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    manifest_before = (store.root / "manifest.json").read_bytes()

    def killed(*args, **kwargs):
        raise KeyboardInterrupt  # as if the process died just before publishing

    monkeypatch.setattr(store_module.Store, "_publish", killed)
    with pytest.raises(KeyboardInterrupt):
        import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    monkeypatch.undo()
    assert (store.root / "manifest.json").read_bytes() == manifest_before
    assert sorted(stored_orders(store)) == ["1", "2", "3"]
    # the next change sweeps what the crash left and works normally
    import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    live = {b["id"] for b in store.batches()}
    assert {p.name for p in (store.root / "batches").iterdir()} == live


def test_empty_store_answers_queries_with_no_rows(store):
    con = store.connect()
    assert con.sql("select count(*) from orders").fetchall() == [(0,)]
    assert con.sql("select count(*) from customers").fetchall() == [(0,)]
    assert "customer_order_seq" in con.sql("select * from orders").columns


def test_manifest_records_file_and_counts(store):
    import_file(fixture("generic_orders.csv"), store)
    manifest = json.loads((store.root / "manifest.json").read_text())
    batch = manifest["batches"][0]
    assert batch["file"] == "generic_orders.csv"
    assert (batch["rows_read"], batch["orders_accepted"], batch["rows_rejected"]) == (14, 5, 8)
    assert batch["imported_at"]


ASSIGNMENTS = """experiment,customer_id,variant,assigned_at
welcome,alice,control,2024-01-05
welcome,bob,treatment,2024-01-05
"""


def test_assignments_upload_reuses_the_order_tables_and_an_order_upload_rebuilds_them(store, tmp_path):
    from ingest.assignments import import_assignments

    import_file(write(tmp_path, "jan.csv", JANUARY), store)
    first = store.root / "versions" / store.manifest()["current"]
    import_assignments(write(tmp_path, "assignments.csv", ASSIGNMENTS), store)
    manifest = store.manifest()
    second = store.root / "versions" / manifest["current"]
    for name in store_module.ORDER_TABLES:  # the same files, not rebuilt copies
        assert (second / f"{name}.parquet").stat().st_ino == (first / f"{name}.parquet").stat().st_ino
    assert manifest["tables"]["assignments"] == 2 and manifest["tables"]["orders"] == 3
    con = store.connect()
    assert con.execute("select count(*) from assignments join customers using (customer_id)").fetchone()[0] == 2
    assert con.execute("select count(*) from assigned_orders").fetchone()[0] == 3  # alice's two, bob's one
    con.close()

    import_file(write(tmp_path, "feb.csv", FEBRUARY), store)
    third = store.root / "versions" / store.manifest()["current"]
    assert (third / "orders.parquet").stat().st_ino != (second / "orders.parquet").stat().st_ino
    assert sorted(stored_orders(store)) == ["1", "2", "3", "4", "5"]
    batches = {b["file"]: b for b in store.manifest()["batches"]}
    assert batches["jan.csv"]["orders_superseded_by_newer"] == 1 and batches["jan.csv"]["orders_live"] == 2


def test_rebuild_builds_every_table_again_as_a_new_version(store):
    """`Store.rebuild` (how a store imported on DuckDB is rebuilt on Spark): a new version with the same
    tables and rows, every table written again (none linked from the version before), logged."""
    import_file(fixture("generic_orders.csv"), store)
    before, orders_before = store.manifest(), stored_orders(store)
    change = store.rebuild(user="ops")
    after = store.manifest()
    assert after["version"] == before["version"] + 1 and after["current"] != before["current"]
    assert after["tables"] == before["tables"]
    assert after["batches"] == before["batches"]
    assert stored_orders(store) == orders_before
    old_dir, new_dir = store.root / "versions" / before["current"], store.version_dir()
    for name in after["tables"]:
        assert (new_dir / f"{name}.parquet").stat().st_ino != (old_dir / f"{name}.parquet").stat().st_ino
    assert (change["action"], change["user"], change["engine"]) == ("rebuild", "ops", "duckdb")
    assert store.audit_log()[-1]["action"] == "rebuild"


def test_a_reader_connection_has_the_memory_of_an_import_and_spills_outside_the_working_folder(tmp_path, monkeypatch):
    """A Playbook list at 100M orders took 11 GB of a page server's memory through an unbounded connection."""
    import gc
    from pathlib import Path

    from store import Store
    from store import store as store_module

    store = Store(tmp_path / "store")
    import_file(fixture("shopify_orders.csv"), store)
    monkeypatch.chdir(tmp_path)
    con = store.connect()
    limit, spill = con.execute("select current_setting('memory_limit'), current_setting('temp_directory')").fetchone()
    assert limit.endswith("GiB") and float(limit.split()[0]) <= 4.0, limit
    assert not spill.startswith(".") and not spill.startswith(str(tmp_path)), spill
    con.execute("set memory_limit = '100MB'")  # work that must spill
    con.execute("select * from range(4000000) as r(x) order by md5(x::varchar)").fetchall()
    assert Path(spill).exists()
    con.execute(f"set memory_limit = '{limit}'")
    import_file(fixture("woocommerce_orders.csv"), store)
    other = store.connect()  # another version: another database, spilling elsewhere
    assert other.execute("select current_setting('temp_directory')").fetchone()[0] != spill
    con.close()
    del con
    store_module._DATABASES.clear()  # as when newer versions have pushed it out
    gc.collect()
    assert not Path(spill).exists()  # gone with its database's last connection


def test_a_process_connections_to_one_version_share_its_views_and_never_see_another_version(tmp_path):
    """Opening a version binds every table's files once per process (0.14-0.22 s a connection at 100M orders)."""
    from store import Store

    store = Store(tmp_path / "store")
    import_file(fixture("shopify_orders.csv"), store)
    first = store.connect()
    first.execute("create temp view mine as select 1 as x")
    second = store.connect()
    setting = "select current_setting('temp_directory')"
    assert first.execute(setting).fetchone() == second.execute(setting).fetchone()  # one database
    assert "mine" not in {r[0] for r in second.execute("select view_name from duckdb_views() where temporary").fetchall()}
    orders_before = second.execute("select count(*) from orders").fetchone()[0]
    import_file(fixture("woocommerce_orders.csv"), store)
    newer = store.connect()
    assert newer.execute("select count(*) from orders").fetchone()[0] > orders_before
    assert first.execute("select count(*) from orders").fetchone()[0] == orders_before  # still its version
    assert store.connect(1).execute("select count(*) from orders").fetchone()[0] == orders_before
