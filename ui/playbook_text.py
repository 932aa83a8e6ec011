"""The Playbook page's sentences: metrics.playbook's codes and numbers in the user's language.

Sentences are plain text (they name experiments, variants and categories from the data): the page
shows them in tables, or escapes them with ui.safe_text where Markdown renders them.
"""

import math

import pandas as pd

from ui.formatting import format_change, format_decimal_text, format_difference, format_p, format_value
from ui.i18n import count, t
from ui.strategy_words import strategy_name

LIFTS = ("points_repurchase_lift", "retention_lift", "frequency_lift", "repurchase_lift")


def _number(value, language: str, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return format_decimal_text(value, language, digits)


def claim_text(strategy: str, claim: dict, language: str) -> str:
    """The article's claim with its figures: lifts as percentages, multiples as plain numbers."""
    figures = {key: format_value(value, "rate", language).replace(".0%", "%") if key in LIFTS
               else f"{value:g}" for key, value in claim.items()}
    return t(f"claim_{strategy}", language, **figures)


def evidence_text(item: dict, language: str) -> str:
    """One piece of this shop's evidence as a sentence."""
    source = item["source"]
    if source in ("randomised", "observational"):
        values = {"experiment": item["experiment"], "variant": item["variant"], "days": item["window_days"],
                  "lift": format_change(item["abs_lift"], "rate", language),
                  "low": format_change(item["ci_low"], "rate", language),
                  "high": format_change(item["ci_high"], "rate", language),
                  "p": format_p(item["p_value"]), "verdict": t(f"verdict_{item['verdict']}", language)}
        return t(f"shop_{source}", language, **values)
    if source == "launch":
        def signed(value):  # a change in orders per customer: +0.12, -0.05, 0.00
            return format_difference(value, "ratio", language)

        text = t("shop_launch", language, date=item["launched_at"][:10], estimate=signed(item["estimate"]),
                 low=signed(item["ci_low"]), high=signed(item["ci_high"]), p=format_p(item["p_value"]),
                 verdict=t(f"verdict_{item['verdict']}", language))
        if item["trend_doubtful"]:
            text += t("shop_launch_doubtful", language, pre=format_p(item["pre_trend_p"]))
        return text
    measure = item["measure"]
    value = (format_value(item["value"], "rate", language) if measure == "regular_buyer_share"
             else _number(item["value"], language))
    return t(f"shop_{measure}", language, value=value, customers=count(item.get('customers') or 0, "customer", language),
             days=_number(item.get("median_gap_days"), language, 0))


def strategy_table(rows: list[dict], language: str) -> pd.DataFrame:
    """One row per strategy: name, the article's claim, this shop's evidence, evidence level, next step (words)."""
    return pd.DataFrame([{
        "strategy": strategy_name(row["strategy"], language),
        "claim": claim_text(row["strategy"], row["claim"], language),
        "shop": " ".join(evidence_text(item, language) for item in row["evidence"]) or t("shop_none", language),
        "evidence": t(f"evidence_{row['evidence_level']}", language),
        "next_step": t(f"next_{row['next_step']}", language),
    } for row in rows])


def reason_text(row: dict, language: str, currency: str) -> str:
    """Why one customer is on a list, from the row's reason_code and numbers."""
    code = row["reason_code"]
    days = _number(row.get("days_since_last_order"), language, 0)
    if code == "usual_interval":
        return t("reason_usual_interval", language, days=days, interval=_number(row["usual_interval_days"], language, 0))
    if code == "second_order_window":
        return t("reason_second_order_window", language, days=days, low=_number(row["window_low_days"], language, 0),
                 high=_number(row["window_high_days"], language, 0))
    if code == "high_value_falling_p_alive":
        return t("reason_high_value_falling_p_alive", language, days=days,
                 value=format_value(row["total_clv"], "money", language, currency),
                 p_alive=format_value(row["p_alive"], "rate", language))
    if code == "lookalikes_buy_second":
        return t("reason_lookalikes_buy_second", language, category=row["category"], suggested=row["suggested_category"],
                 share=format_value(row["lookalike_share"], "rate", language))
    if code == "regular_high_frequency":
        return t("reason_regular_high_frequency", language, category=row["category"],
                 count=int(row["category_orders"]), interval=_number(row["interval_days"], language, 0))
    return t(f"reason_{code}", language, days=days)


def with_reasons(frame: pd.DataFrame, language: str, currency: str) -> pd.DataFrame:
    """The list with a worded `reason` column right after `reason_code` (the keys stay as they are)."""
    reasons = [reason_text(row, language, currency) for row in frame.to_dict("records")]
    out = frame.copy()
    out.insert(out.columns.get_loc("reason_code") + 1, "reason", reasons)
    return out
