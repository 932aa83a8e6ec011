"""The demo generator: deterministic, realistic, with a planted experiment effect and an A/A test."""

import numpy as np
import pyarrow.parquet as pq
from scipy import stats

from ingest.demo import write_demo


def test_same_seed_same_data(tmp_path):
    a = write_demo(tmp_path / "a", customers=1_500, seed=3)
    b = write_demo(tmp_path / "b", customers=1_500, seed=3)
    c = write_demo(tmp_path / "c", customers=1_500, seed=4)
    assert pq.read_table(a["orders"]).equals(pq.read_table(b["orders"]))
    assert a["assignments"].read_bytes() == b["assignments"].read_bytes()
    assert not pq.read_table(a["orders"]).equals(pq.read_table(c["orders"]))


def test_demo_store_is_realistic(demo_store):
    con = demo_store.connect()
    orders, customers, guests, cancelled, refunded, first, last = con.sql(
        """
        select count(*), count(distinct customer_id), count(*) filter (where customer_id is null),
            count(*) filter (where status = 'cancelled'), count(*) filter (where status = 'refunded'),
            min(order_ts)::date::varchar, max(order_ts)::date::varchar
        from orders
        """
    ).fetchall()[0]
    assert customers == 5_000
    assert 5.0 < orders / customers < 7.0  # about 300k orders for 50k customers
    assert 0.03 < guests / orders < 0.05
    assert cancelled > 0 and refunded > 0
    assert first.startswith("2023-01") and last.startswith("2025-12")
    seasonal = dict(con.sql(
        "select month(order_ts), count(*) from orders where year(order_ts) = 2025 group by 1"
    ).fetchall())
    assert seasonal[11] > 1.3 * seasonal[9]  # the November peak


def test_members_buy_more_often(demo_store):
    con = demo_store.connect()
    per_tier = dict(con.sql(
        "select member_tier, avg(valid_orders) from customers group by 1"
    ).fetchall())
    assert per_tier["none"] < per_tier["silver"] < per_tier["gold"] < per_tier["diamond"]


def _orders_in_window(con, experiment: str, days: int) -> dict[str, list[int]]:
    """Naive check: valid orders of each assigned customer within `days` after assignment, by arm."""
    rows = con.execute(
        """
        select a.variant, count(o.order_id)
        from assignments a
        left join orders o
            on o.customer_id = a.customer_id and o.is_valid
            and o.order_ts >= a.assigned_at and o.order_ts < a.assigned_at + to_days($days)
        where a.experiment = $experiment
        group by a.variant, a.customer_id
        """,
        {"experiment": experiment, "days": days},
    ).fetchall()
    arms: dict[str, list[int]] = {}
    for variant, orders in rows:
        arms.setdefault(variant, []).append(orders)
    return arms


def test_planted_effect_and_aa_test(demo_store):
    con = demo_store.connect()
    arms = dict(con.sql("select experiment, count(distinct variant) from assignments group by 1").fetchall())
    assert arms == {"points_double_2025": 2, "aa_followup_2025": 2}
    planted = _orders_in_window(con, "points_double_2025", 60)
    assert np.mean(planted["treatment"]) > 1.3 * np.mean(planted["control"])
    assert stats.ttest_ind(planted["treatment"], planted["control"], equal_var=False).pvalue < 0.001
    aa = _orders_in_window(con, "aa_followup_2025", 60)
    assert stats.ttest_ind(aa["treatment"], aa["control"], equal_var=False).pvalue > 0.05


def test_chunked_generator_writes_each_chunk_of_customers_on_its_own(tmp_path):
    """The 100M-order benchmark generates 17M customers 250k at a time (bench/run.py): each chunk's
    orders are written before the next chunk is simulated, so memory holds one chunk.

    The rows are not the same as one chunk of all customers with the same seed: one random stream is
    drawn chunk after chunk, so the chunk size changes which draw goes to which customer (keeping
    them equal would need a stream per customer and would change the demo every test relies on).
    What the chunking must keep is the data's shape, checked here against the one-shot file."""
    one = pq.read_table(write_demo(tmp_path / "one", customers=6_000, seed=5, chunk=6_000)["orders"])
    chunked_file = pq.ParquetFile(write_demo(tmp_path / "chunked", customers=6_000, seed=5, chunk=1_500)["orders"])
    chunked = chunked_file.read()
    assert chunked_file.metadata.num_row_groups >= 4
    for group in range(chunked_file.metadata.num_row_groups):  # each row group: one chunk's customers only
        ids = chunked_file.read_row_group(group, columns=["customer_id"])["customer_id"].to_pylist()
        keys = {int(c[1:]) for c in ids if c}
        assert (min(keys) - 1) // 1_500 == (max(keys) - 1) // 1_500
    assert len(set(chunked["order_id"].to_pylist())) == chunked.num_rows
    for table in (one, chunked):
        customers = {c for c in table["customer_id"].to_pylist() if c}
        assert customers == {f"C{k}" for k in range(1, 6_001)}
    assert abs(chunked.num_rows / one.num_rows - 1) < 0.05
    for column in ("channel", "member_tier", "status"):
        share = lambda t: {v: n / t.num_rows for v, n in zip(*np.unique(  # noqa: E731
            np.array([str(x) for x in t[column].to_pylist()]), return_counts=True))}
        a, b = share(one), share(chunked)
        assert a.keys() == b.keys() and all(abs(a[k] - b[k]) < 0.03 for k in a), column
