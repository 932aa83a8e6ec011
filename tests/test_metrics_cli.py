"""`python -m metrics ltv` and `python -m metrics experiment`: exit codes and JSON keys on the demo store."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run(*args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "metrics", *map(str, args)], cwd=ROOT, capture_output=True, text=True)


def test_ltv_json(demo_store):
    result = run("ltv", "--store", demo_store.root, "--cutoff", "2025-07-01", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["cutoff"] == "2025-07-01"
    for key in ("r", "alpha", "a", "b", "se", "log_likelihood"):
        assert key in report["bgnbd"]
    for key in ("p", "q", "gamma", "se", "log_likelihood"):
        assert key in report["gamma_gamma"]
    holdout = report["holdout"]
    assert holdout["actual_repeat_orders"] > 0 and abs(holdout["error_pct"]) < 25
    # auto: every model's fit and holdout error, and the one with the smallest error is used
    errors = {name: entry["holdout"]["mape_cumulative"] for name, entry in report["models"].items()}
    assert set(errors) == {"bgnbd", "mbgnbd", "paretonbd"}
    assert report["model"] == min(errors, key=errors.get) == report["holdout"]["model"]
    assert isinstance(report["boundary_notes"], list)


def test_ltv_model_flag(demo_store):
    result = run("ltv", "--store", demo_store.root, "--cutoff", "2025-07-01", "--model", "paretonbd", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["model"] == "paretonbd" and report["prediction"]["model"] == "paretonbd"
    assert {"r", "alpha", "s", "beta"} <= report["purchase_model"].keys()
    text = run("ltv", "--store", demo_store.root, "--cutoff", "2025-07-01", "--model", "mbgnbd")
    assert text.returncode == 0 and "Model used: MBG/NBD (requested)" in text.stdout
    assert run("ltv", "--store", demo_store.root, "--model", "nope").returncode == 2  # argparse refuses it


def test_experiment_json_finds_the_planted_effect(demo_store):
    result = run("experiment", "--store", demo_store.root, "--experiment", "points_double_2025", "--window", "60",
                 "--cuped", "90", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert [a["variant"] for a in report["arms"]] == ["control", "treatment"]
    orders = next(r for r in report["results"] if r["metric"] == "orders")
    assert orders["rel_lift"] > 0 and orders["p_value"] < 0.01
    assert {"p_holm", "p_bh", "ci_low", "ci_high", "cuped"} <= orders.keys()


def test_experiment_unknown_name_exits_2(demo_store):
    result = run("experiment", "--store", demo_store.root, "--experiment", "nope")
    assert result.returncode == 2
    assert "Unknown experiment 'nope'" in result.stderr


def test_ltv_on_thin_data_exits_2(tmp_path):
    result = run("ltv", "--store", tmp_path / "empty", "--json")
    assert result.returncode == 2
    assert "error" in json.loads(result.stdout)
