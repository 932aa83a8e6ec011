"""The Customer value page's small tables (metrics/clv_views.py) against plain Python on hand-made rows."""

import math

import numpy as np
import pandas as pd

from metrics import clv_views


def test_p_alive_matrix_is_the_mean_p_alive_per_band_and_leaves_out_empty_bands():
    rng = np.random.default_rng(4)
    n = 400
    x = rng.choice([0, 1, 2, 3, 4, 7, 8, 12, 13, 40], n)
    T = rng.integers(0, 900, n).astype(float)
    t_x = np.where(x > 0, np.floor(T * rng.random(n)), 0.0)
    t_x[:5], T[:5] = 0.0, [29.0, 30.0, 59.0, 730.0, 729.0]  # days since the last order right at the band edges
    p_alive = rng.random(n)
    p_alive[7] = np.nan  # a customer without a figure counts nowhere
    predictions = pd.DataFrame({"x": x, "t_x": t_x, "T": T, "p_alive": p_alive})

    def band(value, edges):
        for low, high, label in zip(edges[:-1], edges[1:], clv_views._labels(edges)):
            if low <= value < high:
                return label

    cells: dict[tuple[str, str], list[float]] = {}
    for k, last, age, p in zip(x, t_x, T, p_alive):
        if not math.isnan(p):
            cells.setdefault((band(k, clv_views.FREQUENCY_EDGES), band(age - last, clv_views.RECENCY_EDGES)), []).append(p)
    table = clv_views.p_alive_matrix(predictions)
    assert list(table.index) == [b for b in clv_views._labels(clv_views.FREQUENCY_EDGES) if any(r == b for r, _ in cells)]
    assert list(table.columns) == [b for b in clv_views._labels(clv_views.RECENCY_EDGES) if any(c == b for _, c in cells)]
    for row in table.index:
        for column in table.columns:
            values = cells.get((row, column))
            if values is None:
                assert math.isnan(table.loc[row, column])
            else:
                assert math.isclose(table.loc[row, column], sum(values) / len(values), rel_tol=1e-12)
    assert table.index.name == "repeat_orders" and table.columns.name == "days_since_last"
    # a store of recent one-time buyers: one row, one column
    single = clv_views.p_alive_matrix(pd.DataFrame({"x": [0, 0], "t_x": [0.0, 0.0], "T": [3.0, 10.0],
                                                    "p_alive": [1.0, 0.5]}))
    assert single.shape == (1, 1) and single.iloc[0, 0] == 0.75 and list(single.index) == ["0"]
