"""Strategy tests: per-arm totals in DuckDB, statistics in metrics.experiment_stats.

Each assigned customer is measured on valid orders in [assigned_at, assigned_at + window_days);
only customers whose window has fully elapsed by the data's end (max order_ts) are counted.
Observational experiments (derived from an order column, `derived_from` set) enter customers at
an order, so their window is (assigned_at, assigned_at + window_days): the entry order is no outcome.
Definitions, formulas and decisions: docs/experiments.md.
"""

import math
import re
from datetime import datetime

import duckdb
import numpy as np
import pandas as pd

from metrics import experiment_stats as st
from metrics.formatting import format_value
from store.models import dialect
from store.models import experiments as sql
from store.models import registry
from store.models.registry import Request

CONTROL_NAMES = ("control", "ctrl", "baseline", "对照", "对照组", "a")
METRICS = {  # name -> (kind, English label, Chinese label)
    "repurchased": ("proportion", "Repurchased", "复购率"),
    "orders": ("mean", "Orders per customer", "人均订单数"),
    "revenue": ("mean", "Revenue per customer", "人均消费额"),
    "aov": ("ratio", "AOV", "客单价"),
    "margin": ("mean", "Margin per customer after cost", "扣除成本后人均毛利"),
}
STRATEGIES = {  # tag -> (English, Chinese)
    "points_tiers": ("Points and tiers", "积分与会员等级"),
    "personalised_offers": ("Personalised offers", "个性化优惠"),
    "personalized_offers": ("Personalised offers", "个性化优惠"),
    "new_products": ("New or seasonal products", "新品或季节性商品"),
    "seasonal_products": ("New or seasonal products", "新品或季节性商品"),
    "service_followup": ("Service follow-ups", "服务回访"),
    "community": ("Member community", "会员社群"),
    "bundles": ("Cross-category bundles", "跨品类组合"),
    "cross_category_bundles": ("Cross-category bundles", "跨品类组合"),
    "subscription": ("Subscriptions", "订阅"),
    "subscriptions": ("Subscriptions", "订阅"),
}
TOTAL_KEYS = ("n", "sum_y", "sum_y2", "sum_x", "sum_x2", "sum_xy", "sum_d", "sum_d2", "sum_yd")
SRM_ALPHA = 0.001
BALANCE_ALPHA = 0.001
DEFAULT_BALANCE_DAYS = 90


class ExperimentError(ValueError):
    """A strategy test that cannot be analysed; the message says why in plain words."""


def _params(experiment: str, window_days: int, pre_days: int, cap_percentile, margin: float) -> dict:
    cap = None
    if cap_percentile is not None:
        if not 50 < cap_percentile <= 100:
            raise ExperimentError(f"cap_percentile must be a percentile between 50 and 100 (e.g. 99), not {cap_percentile}.")
        cap = cap_percentile / 100
    if window_days <= 0:
        raise ExperimentError(f"window_days must be a positive number of days, not {window_days}.")
    return {"experiment": experiment, "window_days": int(window_days), "pre_days": int(pre_days),
            "cap": cap, "margin": float(margin)}


def _arms(con, one_experiment: bool = True) -> str:
    """The arms of one experiment ($experiment) or of all: experiment_customers if the store has it."""
    return sql.arms_source(_summary(con, "experiment_customers"), one_experiment)


def _summary(con, name: str, **request) -> bool:
    """Whether the precomputed table `name` answers this request (registry.source_for)."""
    return registry.source_for(con, name, Request(**request)) is not None


def _sources(con, window_days: int, pre_days: int | None) -> tuple[str, str, int | None]:
    """(arms, orders, stored window) for one experiment: the precomputed tables when they cover the
    window and pre-period (pre_days None: not used), else the assignments and assigned_orders."""
    customers = _summary(con, "experiment_customers")
    orders = _summary(con, "experiment_orders", window_days=window_days, pre_days=pre_days)
    stored = sql.stored_outcome_window(window_days, pre_days) if customers else None
    return sql.arms_source(customers), sql.orders_source(orders), stored


def _rows(con: duckdb.DuckDBPyConnection, query: str, params: dict) -> list[dict]:
    """The query's rows as dicts; binds only the parameters it names (a stored table needs fewer)."""
    named = set(re.findall(r"\$(\w+)", query))
    relation = con.execute(query, {k: v for k, v in params.items() if k in named})
    columns = [c[0] for c in relation.description]
    return [dict(zip(columns, row)) for row in relation.fetchall()]


# ---- experiments, arms and control ---------------------------------------------------------


def list_experiments(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per experiment: strategy, design (randomised / observational), the order column an
    observational one was derived from, variants, customers, first and last assignment."""
    rows = _rows(con, sql.experiments_sql(_arms(con, one_experiment=False)), {})
    return pd.DataFrame(rows, columns=["experiment", "strategy", "design", "derived_from", "variants", "customers",
                                       "first_assigned", "last_assigned"])


def find_control(variants: list[str], control: str | None = None, experiment: str = "") -> str:
    """The control arm: `control` if given, else the one variant named like control/ctrl/baseline/对照."""
    if control is not None:
        if control not in variants:
            raise ExperimentError(
                f"Experiment {experiment!r} has no variant {control!r}; its variants are {', '.join(variants)}."
            )
        return control
    found = [v for v in variants if v.strip().casefold() in CONTROL_NAMES]
    if len(found) == 1:
        return found[0]
    if not found:
        raise ExperimentError(
            f"Experiment {experiment!r} has no control arm (variants: {', '.join(variants)}). Name one variant "
            "control, ctrl, baseline or 对照组, or say which variant is the control."
        )
    raise ExperimentError(
        f"Experiment {experiment!r} has several arms named like a control ({', '.join(found)}); say which one is the control."
    )


def _require_experiment(con, experiment: str) -> None:
    known = list_experiments(con)["experiment"].tolist()
    if experiment not in known:
        hint = f" Known experiments: {', '.join(known)}." if known else " The store has no experiment assignments."
        raise ExperimentError(f"Unknown experiment {experiment!r}.{hint}")


def _arm_info(con, experiment: str, window_days: int, control: str | None) -> tuple[list[dict], str]:
    info = _rows(con, sql.info_sql(_arms(con)), {"experiment": experiment, "window_days": int(window_days)})
    if not info:
        _require_experiment(con, experiment)
    control = find_control([r["variant"] for r in info], control, experiment)
    if sum(r["matured"] for r in info) == 0:
        first = min(r["first_assigned"] for r in info)
        ready = pd.Timestamp(first) + pd.Timedelta(days=window_days)
        raise ExperimentError(
            f"Experiment {experiment!r} has no matured customers yet: the first {window_days}-day window ends on "
            f"{ready:%Y-%m-%d} and the data ends on {pd.Timestamp(info[0]['data_end']):%Y-%m-%d}. "
            "Load newer orders or choose a shorter window."
        )
    return info, control


# ---- from totals to statistics -------------------------------------------------------------


def _arm_totals(row: dict, metric: str):
    kind = METRICS[metric][0]
    n = row["n"]
    if kind == "proportion":
        return st.ProportionTotals(n, row["sum_y"])
    if kind == "ratio":
        return st.RatioTotals(n, st.MeanTotals(n, row["sum_y"], row["sum_y2"]),
                              st.MeanTotals(n, row["sum_d"], row["sum_d2"]), row["sum_yd"])
    return st.MeanTotals(n, row["sum_y"], row["sum_y2"])


def _cuped_pair(control_row: dict, variant_row: dict):
    """CUPED-adjusted totals of both arms, theta pooled over the pair (as gbstats)."""
    pairs = [
        (st.MeanTotals(r["n"], r["sum_y"], r["sum_y2"]), st.MeanTotals(r["n"], r["sum_x"], r["sum_x2"]), r["sum_xy"])
        for r in (control_row, variant_row)
    ]
    theta = st.cuped_theta(pairs)
    return theta, pairs, [st.AdjustedTotals(post, pre, s, theta) for post, pre, s in pairs]


def _clean(value):
    """JSON-safe scalars: NaN/inf -> None, numpy -> Python, timestamps -> ISO text."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        value = float(value)
        return None if math.isnan(value) or math.isinf(value) else value
    if isinstance(value, (datetime, pd.Timestamp)):
        return pd.Timestamp(value).isoformat()
    return value


def _comparison_dict(c: st.Comparison) -> dict:
    return {
        "control_mean": c.control_mean, "variant_mean": c.variant_mean,
        "abs_lift": c.abs_lift, "abs_ci_low": c.abs_ci_low, "abs_ci_high": c.abs_ci_high, "abs_p_value": c.abs_p_value,
        "rel_lift": c.rel_lift, "ci_low": c.ci_low, "ci_high": c.ci_high, "p_value": c.p_value,
        "chance_to_win": c.chance_to_win,
    }


def experiment_report(
    con: duckdb.DuckDBPyConnection,
    experiment: str,
    window_days: int = 60,
    cuped_days: int | None = None,
    cap_percentile: float | None = None,
    margin: float = 0.3,
    control: str | None = None,
    weights: dict[str, float] | None = None,
    alpha: float = 0.05,
    decision_metric: str = "margin",
    currency: str | None = None,
) -> dict:
    """Every variant vs control on every metric, with health checks and a bilingual summary (JSON-safe);
    `currency` (e.g. "CNY") writes the summary's amounts with its symbol."""
    info, control = _arm_info(con, experiment, window_days, control)
    pre_days = int(cuped_days or DEFAULT_BALANCE_DAYS)
    params = _params(experiment, window_days, pre_days, cap_percentile, margin)
    arms, orders, stored = _sources(con, window_days, pre_days)
    totals = _rows(con, sql.per_customer_ctes(arms, orders, stored) + sql.totals_sql(by_date=False), params)
    by_arm = {(r["variant"], r["metric"]): r for r in totals}
    strategy, derived_from = con.execute(f"select any_value(strategy), any_value(derived_from) from ({arms})",
                                         {"experiment": experiment}).fetchall()[0]
    variants = [r["variant"] for r in info if r["variant"] != control]
    if weights and any(weights.get(r["variant"], 0) <= 0 for r in info):
        names = ", ".join(r["variant"] for r in info)
        raise ExperimentError(f"weights must give every variant a positive share; variants: {names}.")

    results, balance = [], []
    for variant in variants:
        if (variant, "orders") not in by_arm or (control, "orders") not in by_arm:
            continue
        for metric in METRICS:
            a, b = by_arm[(control, metric)], by_arm[(variant, metric)]
            comparison = st.compare(_arm_totals(a, metric), _arm_totals(b, metric), alpha)
            result = {"metric": metric, "variant": variant, "n_control": a["n"], "n_variant": b["n"],
                      **_comparison_dict(comparison), "cuped": None}
            if cuped_days and METRICS[metric][0] != "ratio":
                theta, raw, adjusted = _cuped_pair(a, b)
                unadjusted = st.compare(raw[0][0], raw[1][0], alpha)
                cuped = st.compare(adjusted[0], adjusted[1], alpha)
                reduction = 1 - cuped.abs_se**2 / unadjusted.abs_se**2 if unadjusted.abs_se else math.nan
                result["cuped"] = {"pre_days": pre_days, "theta": theta, "variance_reduction": reduction,
                                   **_comparison_dict(cuped)}
            results.append(result)
        pre = [st.MeanTotals(r["n"], r["sum_x"], r["sum_x2"])
               for r in (by_arm[(control, "orders")], by_arm[(variant, "orders")])]
        check = st.compare(pre[0], pre[1], alpha)  # balance: pre-period orders per customer
        balance.append({"variant": variant, "metric": "orders", "pre_days": pre_days,
                        "control_mean": check.control_mean, "variant_mean": check.variant_mean,
                        "p_value": check.abs_p_value})

    # two families: unadjusted results, and CUPED results when asked for
    for family in (results, [r["cuped"] for r in results if r["cuped"]]):
        p = [r["p_value"] for r in family]
        for r, ph, pb in zip(family, st.holm(p), st.benjamini_hochberg(p)):
            r["p_holm"], r["p_bh"] = ph, pb

    # SRM on the analysed (matured) customers; an arm with none still counts, as 0. Not for an
    # observational experiment: customers chose their arm, so no split was planned.
    counts = [r["matured"] for r in info]
    srm_weights = [weights[r["variant"]] for r in info] if weights else None
    srm_stat, srm_p = st.srm_test(counts, srm_weights) if derived_from is None else (math.nan, math.nan)
    balance_p = min((b["p_value"] for b in balance if not _nan(b["p_value"])), default=math.nan)
    cap_value = next((r["revenue_cap"] for r in totals), None)
    arms = []
    for r in info:
        metrics = {m: {k: by_arm[(r["variant"], m)][k] for k in TOTAL_KEYS} for m in METRICS if (r["variant"], m) in by_arm}
        arms.append({"variant": r["variant"], "is_control": r["variant"] == control, "assigned": r["assigned"],
                     "matured": r["matured"], "first_assigned": r["first_assigned"], "totals": metrics})
    report = {
        "experiment": experiment,
        "strategy": strategy,
        "design": "randomised" if derived_from is None else "observational",
        "derived_from": derived_from,
        "window_days": int(window_days),
        "control": control,
        "data_end": info[0]["data_end"],
        "margin": margin,
        "revenue_cap": {"percentile": cap_percentile, "value": cap_value} if cap_percentile else None,
        "cuped_days": cuped_days,
        "arms": arms,
        "results": results,
        "health": {
            "srm_p": srm_p, "srm_chi2": srm_stat, "srm_flag": bool(srm_p < SRM_ALPHA) if not _nan(srm_p) else False,
            "srm_applicable": derived_from is None,
            "balance_p": balance_p, "balance_flag": bool(balance_p < BALANCE_ALPHA) if not _nan(balance_p) else False,
            "balance": balance,
            "multi_arm_customers": int(sum(r["multi_arm"] for r in info)),
        },
    }
    report["summary"] = summarise(report, alpha=alpha, decision_metric=decision_metric, currency=currency)
    return _clean(report)


def _nan(x) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


# ---- bilingual summary -----------------------------------------------------------------------


def strategy_label(tag: str | None) -> tuple[str, str]:
    """English and Chinese names of a strategy tag (the tag itself when unknown)."""
    if not isinstance(tag, str) or not tag.strip():  # missing tags arrive as None or NaN
        return "Unlabelled strategy", "未标注策略"
    return STRATEGIES.get(tag.strip().lower().replace(" ", "_").replace("-", "_"), (tag, tag))


def _p_text(p: float, language: str = "en", holm: bool = True) -> str:
    """A p-value for a sentence; a Holm-adjusted one says so (the results table shows the
    unadjusted p beside it)."""
    name = ("Holm 校正 p" if language == "zh" else "Holm-adjusted p") if holm else "p"
    if _nan(p):
        return f"{name} n/a"
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}" if p < 0.01 else f"{name} = {p:.2f}"


def _money(x: float, language: str, currency: str | None) -> str:
    """An amount without its sign: ¥9.65 in the store's currency, else 9.65."""
    return format_value(abs(x), "money", language, currency) if currency else f"{abs(x):,.2f}"


def summarise(report: dict, alpha: float = 0.05, decision_metric: str = "margin", currency: str | None = None) -> dict:
    """One sentence per experiment of what was learned, in English and Chinese (zh-CN).

    Significance is read on the Holm-adjusted p, which is the p quoted. An observational
    experiment's sentence states an association ("was associated with"), never an effect, and ends
    with why.
    """
    en_label, zh_label = strategy_label(report["strategy"])
    days = report["window_days"]
    observational = report.get("design") == "observational"
    en, zh = [], []
    for variant in dict.fromkeys(r["variant"] for r in report["results"]):
        by_metric = {r["metric"]: r for r in report["results"] if r["variant"] == variant}
        who_en = f"{variant} customers"
        who_zh = "实验组" if variant.lower() in ("treatment", "test", "variant", "b", "实验组") else f"{variant} 组"
        rep = by_metric["repurchased"]
        p = rep["p_holm"]
        points = rep["abs_lift"] * 100
        if not _nan(p) and p < alpha and observational:
            more_en, more_zh = ("higher", "高") if points > 0 else ("lower", "低")
            en.append(f"using {variant} was associated with a repurchase rate {abs(points):.1f} points {more_en} "
                      f"within {days} days than control ({_p_text(p)})")
            zh.append(f"使用 {variant} 与 {days} 天内复购率{more_zh} {abs(points):.1f} 个百分点相关（{_p_text(p, 'zh')}）")
        elif not _nan(p) and p < alpha:
            more_en, more_zh = ("more", "高") if points > 0 else ("less", "低")
            en.append(f"{who_en} repurchased {abs(points):.1f} points {more_en} often within {days} days ({_p_text(p)})")
            zh.append(f"{who_zh} {days} 天内复购率{more_zh} {abs(points):.1f} 个百分点（{_p_text(p, 'zh')}）")
        else:
            en.append(f"no measurable difference in repurchase within {days} days ({variant} "
                      f"{rep['variant_mean']:.1%} vs control {rep['control_mean']:.1%}, {_p_text(p)})")
            zh.append(f"{days} 天内复购率无可测差异（{who_zh} {rep['variant_mean']:.1%}，对照组 "
                      f"{rep['control_mean']:.1%}，{_p_text(p, 'zh')}）")
        dec = by_metric.get(decision_metric)
        if dec and decision_metric != "repurchased" and not _nan(dec["p_holm"]) and dec["p_holm"] < alpha:
            sign = "+" if dec["abs_lift"] > 0 else "-"
            label_en, label_zh = METRICS[decision_metric][1].lower(), METRICS[decision_metric][2]
            en[-1] += f"; {label_en} {sign}{_money(dec['abs_lift'], 'en', currency)} ({_p_text(dec['p_holm'])})"
            zh[-1] += (f"；{label_zh}{'高' if dec['abs_lift'] > 0 else '低'} {_money(dec['abs_lift'], 'zh', currency)}"
                       f"（{_p_text(dec['p_holm'], 'zh')}）")
    health = report["health"]
    warn_en = warn_zh = ""
    if health["srm_flag"]:
        warn_en = f" Warning: sample ratio mismatch ({_p_text(health['srm_p'], holm=False)}); do not trust these results."
        warn_zh = f"警告：样本比例不匹配（{_p_text(health['srm_p'], holm=False)}），结果不可信。"
    if observational:
        warn_en, warn_zh = _observational_caveat(report)
    text_en = f"{en_label}: " + "; ".join(en) + "." + warn_en
    text_zh = f"{zh_label}：" + "；".join(zh) + "。" + warn_zh
    return {"en": text_en, "zh": text_zh}


def _observational_caveat(report: dict) -> tuple[str, str]:
    """Why an observational lift is no proof of cause, and the balance check when it failed."""
    column = report.get("derived_from") or "an order column"
    en = (f" Observational (from orders.{column}): customers chose to use it, so this is an association, "
          "not proof it caused the difference.")
    zh = f"观察性比较（来自 orders.{column}）：是否使用由客户自己选择，这只是相关，不能证明由其引起。"
    health = report["health"]
    if health.get("balance_flag"):
        en += f" Users already bought differently before (pre-period balance {_p_text(health['balance_p'], holm=False)})."
        zh += f"使用者在分组前的购买行为已有差异（分组前平衡性 {_p_text(health['balance_p'], holm=False)}）。"
    return en, zh


# ---- all experiments -------------------------------------------------------------------------

SCORECARD_COLUMNS = [
    "experiment", "strategy", "design", "variant", "metric", "decision_metric", "n_control", "n_variant",
    "control_mean", "variant_mean", "abs_lift", "abs_ci_low", "abs_ci_high", "rel_lift", "ci_low", "ci_high",
    "p_value", "p_holm", "p_bh",
    "chance_to_win", "srm_flag", "status",
]


def _all_reports(con, window_days: int, **kwargs) -> list[tuple[dict, dict | None, str]]:
    out = []
    for row in list_experiments(con).itertuples():
        meta = {"experiment": row.experiment, "strategy": row.strategy, "design": row.design}
        try:
            out.append((meta, experiment_report(con, row.experiment, window_days=window_days, **kwargs), "ok"))
        except ExperimentError as error:
            out.append((meta, None, str(error)))
    return out


def strategy_overview(con: duckdb.DuckDBPyConnection, window_days: int = 60, decision_metric: str = "margin",
                      **kwargs) -> dict:
    """{scorecard, summary, reports (by experiment)} for every experiment, each report computed once."""
    if decision_metric not in ("margin", "revenue"):
        raise ExperimentError("decision_metric must be 'margin' or 'revenue'.")
    reports = _all_reports(con, window_days, decision_metric=decision_metric, **kwargs)
    return {
        "scorecard": _scorecard_rows(reports, decision_metric),
        "summary": _summary_rows(reports),
        "reports": {meta["experiment"]: report for meta, report, _ in reports if report is not None},
    }


def scorecard(con: duckdb.DuckDBPyConnection, window_days: int = 60, decision_metric: str = "margin",
              **kwargs) -> pd.DataFrame:
    """Every experiment's variants vs control, decision metric first; experiments not ready keep one row with why."""
    return strategy_overview(con, window_days, decision_metric, **kwargs)["scorecard"]


def strategy_summary(con: duckdb.DuckDBPyConnection, window_days: int = 60, decision_metric: str = "margin",
                     **kwargs) -> pd.DataFrame:
    """Per experiment: strategy tag, design, the tag's English and Chinese name, and what was learned in both languages."""
    return strategy_overview(con, window_days, decision_metric, **kwargs)["summary"]


def _scorecard_rows(reports: list, decision_metric: str) -> pd.DataFrame:
    order = [decision_metric] + [m for m in METRICS if m != decision_metric]
    rows = []
    for meta, report, status in reports:
        if report is None:
            rows.append({**meta, "status": status})
            continue
        for result in sorted(report["results"], key=lambda r: (r["variant"], order.index(r["metric"]))):
            rows.append({
                **meta, **{k: result[k] for k in SCORECARD_COLUMNS if k in result},
                "decision_metric": result["metric"] == decision_metric,
                "srm_flag": report["health"]["srm_flag"], "status": status,
            })
    return pd.DataFrame(rows, columns=SCORECARD_COLUMNS)


def _summary_rows(reports: list) -> pd.DataFrame:
    rows = []
    for meta, report, status in reports:
        label_en, label_zh = strategy_label(meta["strategy"])
        summary = report["summary"] if report else {
            "en": f"{label_en}: {status}", "zh": f"{label_zh}：暂无可分析数据（{status}）"}
        rows.append({**meta, "strategy_en": label_en, "strategy_zh": label_zh,
                     "summary_en": summary["en"], "summary_zh": summary["zh"]})
    return pd.DataFrame(rows, columns=["experiment", "strategy", "design", "strategy_en", "strategy_zh", "summary_en",
                                       "summary_zh"])


# ---- time views -----------------------------------------------------------------------------


def cumulative_lift(con, experiment: str, metric: str = "orders", window_days: int = 60, control: str | None = None,
                    cap_percentile: float | None = None, margin: float = 0.3, alpha: float = 0.05,
                    view: str = "matured") -> pd.DataFrame:
    """Lift by calendar date, one row per date and variant.

    view="matured": on each date, the customers whose whole window had elapsed by then (the
    report's population as it grew). view="to_date": every customer assigned by that date, with
    orders counted from assignment up to that date (windows still open; no capping).
    """
    if metric not in METRICS:
        raise ExperimentError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    if view == "to_date":
        return _lift_to_date(con, experiment, metric, window_days, control, margin, alpha)
    if view != "matured":
        raise ExperimentError("view must be 'matured' or 'to_date'.")
    info, control = _arm_info(con, experiment, window_days, control)
    params = _params(experiment, window_days, 0, cap_percentile, margin)
    per_customer = sql.per_customer_ctes(*_sources(con, window_days, None))
    totals = pd.DataFrame(_rows(con, per_customer + sql.totals_sql(by_date=True), params))
    totals = totals[totals["metric"] == metric]
    sums = ["n", "sum_y", "sum_y2", "sum_d", "sum_d2", "sum_yd"]
    wide = totals.pivot_table(index="matured_on", columns="variant", values=sums, aggfunc="sum").fillna(0).cumsum()
    return _lift_rows(wide, [r["variant"] for r in info], control, metric, alpha)


def _lift_rows(wide: pd.DataFrame, variants: list[str], control: str, metric: str, alpha: float) -> pd.DataFrame:
    """Compare each variant with control on every row of a date x (total, variant) frame of running totals."""
    rows = []
    keys = wide.columns.get_level_values(0).unique()
    for variant in (v for v in variants if v != control):
        if ("n", variant) not in wide.columns or ("n", control) not in wide.columns:
            continue
        for date, line in wide.iterrows():
            a = {k: float(line[(k, control)]) for k in keys}
            b = {k: float(line[(k, variant)]) for k in keys}
            a["n"], b["n"] = int(a["n"]), int(b["n"])
            if min(a["n"], b["n"]) < 2:
                continue
            c = st.compare(_arm_totals(a, metric), _arm_totals(b, metric), alpha)
            rows.append({"date": pd.Timestamp(date), "variant": variant, "n_control": a["n"], "n_variant": b["n"],
                         **_comparison_dict(c)})
    return pd.DataFrame(rows)


def _lift_to_date(con, experiment, metric, window_days, control, margin, alpha) -> pd.DataFrame:
    arms, orders, _ = _sources(con, window_days, None)
    info = _rows(con, sql.info_sql(arms), {"experiment": experiment, "window_days": int(window_days)})
    if not info:
        _require_experiment(con, experiment)
    control = find_control([r["variant"] for r in info], control, experiment)
    if _summary(con, "experiment_days", window_days=window_days):
        query = "select * from experiment_days where experiment = $experiment and window_days = $window_days"
    else:
        query = sql.to_date_sql(arms, orders)
    daily = pd.DataFrame(_rows(con, query, {"experiment": experiment, "window_days": int(window_days)}))
    daily = daily.drop(columns=["experiment", "window_days"], errors="ignore")
    first = pd.Timestamp(min(r["first_assigned"] for r in info)).normalize()
    last = min(pd.Timestamp(info[0]["data_end"]),
               pd.Timestamp(max(r["last_assigned"] for r in info)) + pd.Timedelta(days=window_days)
               - pd.Timedelta(microseconds=1))  # the window's end is exclusive
    dates = pd.date_range(first, last.normalize(), freq="D")
    daily["day"] = pd.to_datetime(daily["day"])
    wide = (daily.pivot_table(index="day", columns="variant", aggfunc="sum").reindex(dates).fillna(0).cumsum())
    m = float(margin)
    y, y2, d, d2, yd = {
        "repurchased": ("repurchased", "repurchased", None, None, None),
        "orders": ("orders", "orders2", None, None, None),
        "revenue": ("revenue", "revenue2", None, None, None),
        "aov": ("revenue", "revenue2", "orders", "orders2", "revenue_orders"),
        "margin": (None, None, None, None, None),
    }[metric]
    parts = {"n": wide["n"]}
    if metric == "margin":  # sum (m r - c) and sum (m r - c)^2 from the running sums
        parts["sum_y"] = m * wide["revenue"] - wide["cost"]
        parts["sum_y2"] = m * m * wide["revenue2"] - 2 * m * wide["revenue_cost"] + wide["cost2"]
    else:
        parts["sum_y"], parts["sum_y2"] = wide[y], wide[y2]
    for key, column in (("sum_d", d), ("sum_d2", d2), ("sum_yd", yd)):
        parts[key] = wide[column] if column else wide["n"] * 0
    return _lift_rows(pd.concat(parts, axis=1), [r["variant"] for r in info], control, metric, alpha)


def lift_by_days_since_assignment(con, experiment: str, window_days: int = 60, bucket_days: int = 7,
                                  control: str | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Novelty view: orders per matured customer in day buckets after assignment (days 1-7, 8-14, ...)."""
    info, control = _arm_info(con, experiment, window_days, control)
    params = {**_params(experiment, window_days, 0, None, 0.0), "bucket_days": int(bucket_days)}
    if _summary(con, "experiment_buckets", window_days=window_days, bucket_days=bucket_days):
        query = "select * from experiment_buckets where experiment = $experiment and window_days = $window_days"
    else:
        query = sql.novelty_sql(*_sources(con, window_days, None)[:2])
    sums = pd.DataFrame(_rows(con, query, params), columns=["variant", "bucket", "sum_y", "sum_y2"])
    matured = {r["variant"]: r["matured"] for r in info}
    buckets = range(math.ceil(window_days / bucket_days))
    rows = []
    for variant in (v for v in matured if v != control):
        for bucket in buckets:
            arms = []
            for v in (control, variant):
                hit = sums[(sums["variant"] == v) & (sums["bucket"] == bucket)]
                arms.append(st.MeanTotals(matured[v], float(hit["sum_y"].sum()), float(hit["sum_y2"].sum())))
            c = st.compare(arms[0], arms[1], alpha)
            rows.append({"bucket": bucket, "day_from": bucket * bucket_days + 1,
                         "day_to": min((bucket + 1) * bucket_days, window_days), "variant": variant,
                         "n_control": arms[0].n, "n_variant": arms[1].n, **_comparison_dict(c)})
    return pd.DataFrame(rows)


def time_to_repurchase(con, experiment: str, max_days: int | None = None, alpha: float = 0.05) -> pd.DataFrame:
    """Kaplan-Meier per arm: share with a valid order within `day` days of assignment, censored at data end."""
    if _summary(con, "experiment_survival"):
        survival = "select * from experiment_survival where experiment = $experiment"
    else:
        survival = sql.survival_sql(sql.arms_source(False), sql.orders_source(False))
    counts = pd.DataFrame(_rows(con, survival, {"experiment": experiment}),
                          columns=["variant", "day", "events", "censored"])
    if counts.empty:
        _require_experiment(con, experiment)
        raise ExperimentError(f"Experiment {experiment!r} has no customer assigned before the data's end.")
    frames = []
    for variant, part in counts.groupby("variant", sort=True):
        km = st.kaplan_meier(part["day"], part["events"], part["censored"], alpha)
        frame = pd.DataFrame(km).rename(columns={"time": "day_index"})
        frame.insert(0, "variant", variant)
        frame["day"] = frame["day_index"].astype(int) + 1  # events in [k, k+1) days -> "within k+1 days"
        frame["repurchased_share"] = 1 - frame["survival"]
        frames.append(frame.drop(columns="day_index"))
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame()
    # truncate after the estimate: the at-risk counts need every later time
    return out[out["day"] <= max_days].reset_index(drop=True) if max_days is not None and not out.empty else out


# ---- planner --------------------------------------------------------------------------------


def planner_baseline(con, window_days: int = 60, lookback_days: int = 365, margin: float = 0.3,
                     cost: float = 0.0) -> dict:
    """Baseline mean and per-customer variance of each metric among recently active customers."""
    if _summary(con, "planner_base", window_days=window_days, lookback_days=lookback_days):
        pool = _rows(con, f"select {dialect.columns_except(('window_days',))} from planner_base where window_days = $window_days "
                          "order by days_before", {"window_days": int(window_days)})
    else:
        pool = _rows(con, sql.PLANNER_BASE_SQL, {"window_days": int(window_days), "lookback_days": int(lookback_days)})
    if not pool:
        raise ExperimentError(f"No customer had a valid order in the {lookback_days} days before the last "
                              f"{window_days} days of data; the planner needs history.")
    s = {key: float(sum(p[key] or 0 for p in pool))
         for key in ("customers", "repurchased", "orders", "orders2", "revenue", "revenue2", "revenue_orders")}
    n, m, c = int(s["customers"]), float(margin), float(cost)
    zero = {"sum_d": 0.0, "sum_d2": 0.0, "sum_yd": 0.0}
    totals = {
        "repurchased": {"n": n, "sum_y": s["repurchased"], "sum_y2": s["repurchased"], **zero},
        "orders": {"n": n, "sum_y": s["orders"], "sum_y2": s["orders2"], **zero},
        "revenue": {"n": n, "sum_y": s["revenue"], "sum_y2": s["revenue2"], **zero},
        "aov": {"n": n, "sum_y": s["revenue"], "sum_y2": s["revenue2"], "sum_d": s["orders"], "sum_d2": s["orders2"],
                "sum_yd": s["revenue_orders"]},
        # margin per customer = revenue x m - c
        "margin": {"n": n, "sum_y": m * s["revenue"] - n * c,
                   "sum_y2": m * m * s["revenue2"] - 2 * m * c * s["revenue"] + n * c * c, **zero},
    }
    metrics = {}
    for metric, row in totals.items():
        t = _arm_totals(row, metric)
        metrics[metric] = {"n": n, "mean": t.mean, "variance": t.variance}
    return {"window_days": window_days, "lookback_days": lookback_days, "metrics": metrics,
            # customers with a valid order in the last d days, d = 1 .. lookback
            "reach_by_days": _reach(pool, lookback_days), "pool": n}


def _reach(pool: list[dict], lookback_days: int) -> list[int]:
    per_day = np.zeros(lookback_days + 1, dtype=np.int64)
    for p in pool:
        per_day[min(max(int(p["days_before"]), 0), lookback_days)] += p["customers"]
    return np.cumsum(per_day)[:lookback_days].tolist()


def plan_test(con, metric: str = "repurchased", window_days: int = 60, n_per_arm: int | None = None,
              mde: float | None = None, alpha: float = 0.05, power: float = 0.8, arms: int = 2,
              lookback_days: int = 365, margin: float = 0.3, cost: float = 0.0) -> dict:
    """Minimum detectable effect for n_per_arm, or customers and days needed for a relative `mde`.

    Days needed assume customers are enrolled as they buy: enrolling for d days reaches the
    customers who bought in d days of the history (reach_by_days), split over `arms`, and the
    last enrolled customer then needs `window_days` to mature.
    """
    if metric not in METRICS:
        raise ExperimentError(f"Unknown metric {metric!r}; choose one of {', '.join(METRICS)}.")
    if arms < 2:
        raise ExperimentError("A test needs at least two arms.")
    base = planner_baseline(con, window_days, lookback_days, margin, cost)
    m = base["metrics"][metric]
    mean, variance = m["mean"], m["variance"]
    out = {"metric": metric, "window_days": window_days, "alpha": alpha, "power": power, "arms": arms,
           "baseline_mean": mean, "baseline_variance": variance, "baseline_customers": m["n"],
           "lookback_days": lookback_days}
    if n_per_arm:
        absolute = st.minimum_detectable_effect(variance, n_per_arm, alpha, power)
        out.update(n_per_arm=n_per_arm, mde_abs=absolute, mde_rel=absolute / mean if mean else math.nan)
    if mde:
        needed = math.ceil(st.sample_size(mde * mean, variance, alpha, power))
        reach = base["reach_by_days"]
        enrol = next((d + 1 for d, r in enumerate(reach) if r / arms >= needed), None)
        out.update(mde_rel=mde, mde_abs=mde * mean, n_per_arm=needed, enrol_days=enrol,
                   days_needed=enrol + window_days if enrol else None,
                   reach_in_lookback=reach[-1] if reach else 0)  # None days: not reachable in the lookback
    return _clean(out)
