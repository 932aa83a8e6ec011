"""RFM recency and monetary scores are quintiles as ntile(5) cuts them, ties by customer id (docs/metrics.md),
checked against the definition written out in plain Python on small sets with many ties."""

import random

import duckdb
import pytest

from store.models.customers import rfm_scored_ctes


def ntile5(ordered_ids: list[str]) -> dict[str, int]:
    """ntile(5) over rows in this order: five groups, the first n % 5 of them one row larger."""
    n = len(ordered_ids)
    size, extra = divmod(n, 5)
    scores, position = {}, 0
    for group in range(1, 6):
        for _ in range(size + (1 if group <= extra else 0)):
            scores[ordered_ids[position]] = group
            position += 1
    return scores


@pytest.mark.parametrize("customers", [1, 2, 4, 5, 7, 23, 101, 640])
def test_recency_and_monetary_scores_are_ntile_quintiles_with_ties_by_customer_id(customers):
    rng = random.Random(customers)
    rows = [(f"c{rng.randrange(10**6):06d}-{i}", rng.choice([0, 3, 3, 10, 40, 40, 40, 200]),
             rng.choice(["9.90", "25.00", "25.00", "25.00", "118.50", "3000.00"]) if i % 3 else f"{rng.randrange(1, 500)}.{i % 100:02d}")
            for i in range(customers)]
    values = ", ".join(f"({i}, '{cid}', {days}, {revenue})" for i, (cid, days, revenue) in enumerate(rows))
    facts = f"""
        facts as (
            select key as customer_key, customer_id, 'gold' as member_tier, date '2024-01-01' as last_order_date,
                days as days_since_last_order, 2 as orders, cast(revenue as decimal(18, 2)) as revenue
            from (values {values}) as t(key, customer_id, days, revenue)
        )"""
    scored = duckdb.connect().execute(
        f"with {rfm_scored_ctes(facts)} select customer_id, r_score, m_score from scored").fetchall()
    recency = ntile5([cid for cid, days, _ in sorted(rows, key=lambda r: (-r[1], r[0]))])
    monetary = ntile5([cid for cid, _, revenue in sorted(rows, key=lambda r: (float(r[2]), r[0]))])
    assert {cid: (r, m) for cid, r, m in scored} == {cid: (recency[cid], monetary[cid]) for cid, _, _ in rows}
