"""The Strategy tests page's reports and time views, kept per store version and setting (ui.data): at 100M
orders (5.8M assigned customers) they took 3.6 s on each new process's first view."""

import pandas as pd
import pytest

from metrics import experiments
from ui import data

SETTING = {"decision_metric": "revenue", "cuped_days": 90, "cap_percentile": 99, "margin": 0.25}  # no other test's


def _setting_folder(root: str, version: int, window_days: int, setting: dict):
    return data.kept.kept_path(root, version, f"strategy/overview-{data._setting_name({'window_days': window_days, **setting})}")


def test_the_overview_is_kept_per_setting_and_read_back_as_computed(demo_store, monkeypatch):
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    first = data.strategy_overview(root, version, 30, **SETTING)
    assert (_setting_folder(root, version, 30, SETTING) / "views.json").exists()
    other_margin = data.strategy_overview(root, version, 30, **{**SETTING, "margin": 0.5})
    margin_means = [frame.query("metric == 'margin'")["control_mean"].tolist() for frame in
                    (first["scorecard"], other_margin["scorecard"])]
    assert margin_means[0] and margin_means[0] != margin_means[1]  # each setting its own report

    data.strategy_overview.clear()  # a new process: nothing cached in memory
    monkeypatch.setattr(experiments, "strategy_overview", lambda *a, **k: pytest.fail("worked out again instead of read"))
    again = data.strategy_overview(root, version, 30, **SETTING)
    pd.testing.assert_frame_equal(again["scorecard"], first["scorecard"], check_exact=True)
    pd.testing.assert_frame_equal(again["experiments"], first["experiments"], check_exact=True)
    assert again["reports"] == first["reports"] and again["reports"]


def test_a_tests_time_views_are_kept_per_window_and_read_back_as_computed(demo_store, monkeypatch):
    root, version = str(demo_store.root), demo_store.manifest()["version"]
    experiment = data.experiment_names(root, version)["experiment"].iloc[0]
    first = data.experiment_time_views(root, version, experiment, 90)
    assert all(len(first[name]) > 0 for name in ("cumulative", "novelty", "survival"))

    data.experiment_time_views.clear()
    for name in ("cumulative_lift", "lift_by_days_since_assignment", "time_to_repurchase"):
        monkeypatch.setattr(experiments, name, lambda *a, **k: pytest.fail("worked out again instead of read"))
    again = data.experiment_time_views(root, version, experiment, 90)
    for name in first:
        pd.testing.assert_frame_equal(again[name], first[name], check_exact=True)


def test_the_playbook_reads_the_tests_evidence_from_the_kept_overview(demo_store, monkeypatch):
    """The Playbook's test evidence is the Strategy tests page's default overview (8.7 s at 100M orders)."""
    from metrics import playbook

    root, version = str(demo_store.root), demo_store.manifest()["version"]
    con = demo_store.connect()
    expected = playbook.playbook(con, window_days=data.STRATEGY_DEFAULTS["window_days"])
    con.close()
    data.strategy_overview(root, version, **data.STRATEGY_DEFAULTS)  # kept, as the warm-up keeps it
    data.playbook.clear()
    monkeypatch.setattr(experiments, "strategy_overview", lambda *a, **k: pytest.fail("worked out again instead of read"))
    strategies = data.playbook(root, version)["strategies"]
    tested = [row for row in strategies if any(item["source"] == "randomised" for item in row["evidence"])]
    assert tested and [(r["strategy"], r["evidence_level"], r["next_step"]) for r in strategies] == [
        (r["strategy"], r["evidence_level"], r["next_step"]) for r in expected]
