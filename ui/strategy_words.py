"""The strategy tests in words (English and Chinese): strategy and metric names, and one sentence per
experiment of what was learned, from metrics.experiments' keys and numbers.

No Streamlit: the page and the `python -m metrics experiment` CLI (its report's `summary`) share
these sentences. They are plain text naming variants from the data: the page escapes them.
"""

import math

import pandas as pd

from metrics.experiments import canonical_strategy
from ui.formatting import format_value
from ui.i18n import TEXT, t

LANGUAGE_CODES = ("en", "zh")
TREATMENT_NAMES = ("treatment", "test", "variant", "b", "实验组")  # said "实验组" in Chinese


def strategy_name(tag, language: str = "en") -> str:
    """A strategy tag's name (aliases and spellings forgiven); an unknown tag as written; a missing one
    as "Unlabelled strategy"."""
    if not isinstance(tag, str) or not tag.strip():  # missing tags arrive as None or NaN
        return t("strategy_unlabelled", language)
    canonical = canonical_strategy(tag)
    return t(f"strategy_name_{canonical}", language) if canonical else tag


def metric_name(metric: str, language: str = "en") -> str:
    """A metric key's name ("repurchased" -> "Repurchased" / "复购率"); an unknown key as it is."""
    key = f"metric_name_{metric}"
    return t(key, language) if isinstance(metric, str) and key in TEXT else metric


def _missing(p) -> bool:
    return p is None or (isinstance(p, float) and math.isnan(p))


def _p_text(p, language: str, holm: bool = True) -> str:
    """A p-value for a sentence; a Holm-adjusted one says so (the results table shows the unadjusted p
    beside it)."""
    name = t("sum_holm_p", language) if holm else "p"
    if _missing(p):
        return f"{name} n/a"
    return f"{name} < 0.001" if p < 0.001 else f"{name} = {p:.3f}" if p < 0.01 else f"{name} = {p:.2f}"


def _money(x: float, language: str, currency: str | None) -> str:
    """An amount without its sign: ¥9.65 in the store's currency, else 9.65."""
    return format_value(abs(x), "money", language, currency) if currency else f"{abs(x):,.2f}"


def _finding(report: dict, variant: str, language: str, currency: str | None) -> str:
    """What one variant did to repurchase (and to the decision metric when that moved), as a clause."""
    alpha, days = report.get("alpha", 0.05), report["window_days"]
    decision_metric = report.get("decision_metric", "margin")
    by_metric = {r["metric"]: r for r in report["results"] if r["variant"] == variant}
    treatment = variant.lower() in TREATMENT_NAMES
    who = t("sum_who_treatment" if language == "zh" and treatment else "sum_who", language, variant=variant)
    rep = by_metric["repurchased"]
    p, points = rep["p_holm"], rep["abs_lift"] * 100
    significant = not _missing(p) and p < alpha
    if significant and report.get("design") == "observational":
        text = t("sum_associated", language, variant=variant, points=f"{abs(points):.1f}", days=days, p=_p_text(p, language),
                 direction=t("sum_higher" if points > 0 else "sum_lower", language))
    elif significant:
        text = t("sum_effect", language, who=who, points=f"{abs(points):.1f}", days=days, p=_p_text(p, language),
                 direction=t("sum_more" if points > 0 else "sum_less", language))
    else:
        text = t("sum_no_difference", language, days=days, variant=variant, who=who, p=_p_text(p, language),
                 variant_rate=f"{rep['variant_mean']:.1%}", control_rate=f"{rep['control_mean']:.1%}")
    dec = by_metric.get(decision_metric)
    if dec and decision_metric != "repurchased" and not _missing(dec["p_holm"]) and dec["p_holm"] < alpha:
        name = metric_name(decision_metric, language)
        text += t("sum_decision", language, metric=name.lower() if language == "en" else name,
                  sign="+" if dec["abs_lift"] > 0 else "-", direction=t("sum_higher" if dec["abs_lift"] > 0 else "sum_lower", language),
                  amount=_money(dec["abs_lift"], language, currency), p=_p_text(dec["p_holm"], language))
    return text


def _warning(report: dict, language: str) -> str:
    """The sentence's warning: sample ratio mismatch; for an observational test, why it is no proof."""
    health = report["health"]
    if report.get("design") == "observational":
        column = report.get("derived_from") or t("sum_an_order_column", language)
        text = t("sum_observational", language, column=column)
        if health.get("balance_flag"):
            text += t("sum_balance_differs", language, p=_p_text(health["balance_p"], language, holm=False))
        return text
    if health["srm_flag"]:
        return t("sum_srm_warning", language, p=_p_text(health["srm_p"], language, holm=False))
    return ""


def summary_sentence(report: dict, language: str = "en", currency: str | None = None) -> str:
    """One sentence of what an experiment's report learned, significance read on the Holm-adjusted p
    (the p quoted). An observational test's sentence states an association, never an effect, and
    ends with why. `currency` (e.g. "CNY") writes amounts with its symbol."""
    variants = dict.fromkeys(r["variant"] for r in report["results"])
    findings = t("sum_join", language).join(_finding(report, v, language, currency) for v in variants)
    return (t("sum_sentence", language, strategy=strategy_name(report["strategy"], language), findings=findings)
            + _warning(report, language))


def summary(report: dict, currency: str | None = None) -> dict:
    """{"en": ..., "zh": ...}: the report's sentence in both languages (the CLI's JSON `summary`)."""
    return {language: summary_sentence(report, language, currency) for language in LANGUAGE_CODES}


def summaries(overview: dict, language: str = "en", currency: str | None = None) -> pd.DataFrame:
    """Per experiment of metrics.experiments.strategy_overview: experiment, design, the strategy's name
    and what was learned (or why it cannot be analysed yet), in `language`."""
    rows = []
    for row in overview["experiments"].itertuples():
        report = overview["reports"].get(row.experiment)
        name = strategy_name(row.strategy, language)
        sentence = (summary_sentence(report, language, currency) if report is not None
                    else t("sum_not_ready", language, strategy=name, status=row.status))
        rows.append({"experiment": row.experiment, "strategy": row.strategy, "design": row.design,
                     "strategy_name": name, "summary": sentence})
    return pd.DataFrame(rows, columns=["experiment", "strategy", "design", "strategy_name", "summary"])
