"""What the Launch page shows, as text and tables: numbers of a launch evaluation in people's units."""

import pandas as pd

from metrics.experiments import STRATEGY_TAGS
from metrics.launch import LAUNCH_COLUMNS, OUTCOMES
from ui.formatting import format_difference
from ui.i18n import t
from ui.strategy_words import strategy_name

KINDS = {"orders_per_30d": "ratio", "repurchase_share": "rate", "revenue_per_customer": "money"}
ESTIMATE_COLUMNS = ("naive", "naive_low", "naive_high", "did", "did_low", "did_high")


def signed(value: float, language: str = "en") -> str:
    """An absolute change in orders per customer per 30 days: +0.25, -0.25, and 0.00 for one that
    rounds to zero (never "-0.00")."""
    return format_difference(value, "ratio", language)


def p_text(p) -> str:
    """A p-value after "p" in a sentence: "= 0.012" or "< 0.001"."""
    return "–" if p is None else "< 0.001" if p < 0.001 else f"= {p:.3f}"


def strategy_tags() -> list[str]:
    """One tag per strategy of the article (metrics.experiments.STRATEGIES also holds spelling variants)."""
    return list(STRATEGY_TAGS)


def column_label(column: str, language: str) -> str:
    return t(f"launch_col_{column}", language) if column in LAUNCH_COLUMNS else column


def measures(result: dict, language: str, currency: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Every measure's naive change and DiD with intervals: as shown (text in each measure's unit)
    and for download (numbers)."""
    numbers = pd.DataFrame([{
        "measure": t(f"launch_metric_{name}", language),
        **{f"{which}{suffix}": result["metrics"][name][which][field]
           for which in ("naive", "did") for suffix, field in (("", "estimate"), ("_low", "ci_low"), ("_high", "ci_high"))},
        "p_value": result["metrics"][name]["did"]["p_value"],
    } for name in OUTCOMES])
    shown = numbers.copy()
    for column in ESTIMATE_COLUMNS:
        shown[column] = [format_difference(value, KINDS[name], language, currency) for value, name in zip(numbers[column], OUTCOMES)]
    return shown, numbers


def saved_table(saved: list[dict], language: str) -> pd.DataFrame:
    """The saved evaluations, newest first, with strategy and column as words."""
    return pd.DataFrame([{
        "strategy": strategy_name(entry["strategy"], language),
        "launched_at": entry["launched_at"],
        "treated_column": column_label(entry["treated_column"], language),
        "treated_values": ", ".join(entry["treated_values"]),
        "window_days": entry["window_days"],
        "matched_comparison": t("yes" if entry["matched"] else "no", language),
        "saved_at": entry["saved_at"][:16].replace("T", " "),
    } for entry in reversed(saved)])


def verdict(result: dict, language: str) -> str:
    """Whether the DiD found an effect, in one sentence (plain text: numbers only)."""
    did = result["did"]
    low, high = signed(did["ci_low"], language), signed(did["ci_high"], language)
    if did["ci_low"] > 0 or did["ci_high"] < 0:
        key = "launch_effect_up" if did["estimate"] > 0 else "launch_effect_down"
        return t(key, language, did=f"{abs(did['estimate']):.2f}", low=low, high=high)
    return t("launch_no_effect", language, did=signed(did["estimate"], language), low=low, high=high)


def checks(result: dict, language: str) -> list[tuple[str, str]]:
    """(kind, sentence) for the pre-trend and placebo checks and every note; kind is success,
    warning, info or caption. Values from the data (unseen values) are left raw: escape on display."""
    out = []
    pre_trend, placebo, notes = result["pre_trend"], result["placebo"], result["notes"]
    if pre_trend["p_value"] is None:
        out.append(("info", t("launch_pre_trend_unavailable", language)))
    elif "pre_trend_doubt" in notes:
        out.append(("warning", t("launch_pre_trend_doubt", language, p=p_text(pre_trend["p_value"]))))
    else:
        out.append(("success", t("launch_pre_trend_ok", language, windows=pre_trend["windows"] + 1,
                                 p=p_text(pre_trend["p_value"]))))
    if placebo["p_value"] is None:
        out.append(("info", t("launch_placebo_unavailable", language)))
    else:
        doubt = "placebo_doubt" in notes
        out.append(("warning" if doubt else "success",
                    t("launch_placebo_doubt" if doubt else "launch_placebo_ok", language, date=placebo["launched_at"],
                      estimate=signed(placebo["estimate"], language), p=p_text(placebo["p_value"]))))
    matching = result["matching"] or {}
    details = {
        "post_window_truncated": {"days": result["post_days"], "window": result["window_days"]},
        "history_shorter_than_year": {},
        "some_values_not_seen": {"values": ", ".join(result["unseen_values"])},
        "matched_dropped_treated": {"unmatched": f"{matching.get('treated_unmatched', 0):,}"},
    }
    out.extend(("caption", t(f"launch_note_{note}", language, **details[note])) for note in notes if note in details)
    return out
