"""Every KPI's name and one-line definition, in English and Chinese, for help text and docs.

`kind` says how a number is shown and how its change is measured: rates change in
percentage points, everything else as a relative change.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Definition:
    key: str
    en: str
    zh: str
    definition_en: str
    definition_zh: str
    kind: str  # count, money, rate, ratio, days


KPIS = [
    Definition("orders", "Orders", "订单数",
               "Valid orders in the period, guest orders included.",
               "期内有效订单数，含游客订单。", "count"),
    Definition("revenue", "Revenue", "销售额",
               "Sum of the net paid amount of valid orders in the period.",
               "期内有效订单实付金额之和。", "money"),
    Definition("customers", "Customers", "购买客户数",
               "Distinct identified customers with at least one valid order in the period.",
               "期内至少有一笔有效订单的可识别客户数（去重）。", "count"),
    Definition("new_customers", "New customers", "新客数",
               "Customers whose first valid order ever falls in the period.",
               "首笔有效订单落在本期的客户数。", "count"),
    Definition("returning_customers", "Returning customers", "回头客数",
               "Customers in the period minus new customers.",
               "本期购买客户数减去新客数。", "count"),
    Definition("repurchase_rate", "Repurchase rate", "复购率（回头客占比）",
               "Returning customers / customers in the period.",
               "回头客数 / 本期购买客户数。", "rate"),
    Definition("repeat_rate", "Repeat rate within period", "期内复购率",
               "Customers with 2 or more valid orders in the period / customers in the period.",
               "本期有 2 笔及以上有效订单的客户数 / 本期购买客户数。", "rate"),
    Definition("frequency", "Purchase frequency", "购买频次",
               "Identified valid orders in the period / customers in the period.",
               "本期可识别客户的有效订单数 / 本期购买客户数。", "ratio"),
    Definition("annual_frequency", "Annual frequency", "年均消费次数",
               "Identified valid orders in the 12 months ending with the period / distinct customers in those months.",
               "截至本期的近 12 个月可识别有效订单数 / 这 12 个月的购买客户数。", "ratio"),
    Definition("aov", "AOV", "客单价",
               "Revenue / valid orders in the period, guest orders included.",
               "本期销售额 / 本期有效订单数（含游客订单）。", "money"),
    Definition("revenue_per_customer", "Revenue per customer", "人均消费",
               "Revenue of identified customers / customers in the period.",
               "本期可识别客户销售额 / 本期购买客户数。", "money"),
    Definition("guest_orders", "Guest orders", "游客订单数",
               "Valid orders in the period without a customer id.",
               "本期无客户标识的有效订单数。", "count"),
]

COHORTS = [
    Definition("retention", "Customer retention", "客户留存率",
               "Customers of cohort C with a valid order in month C+k / customers in cohort C.",
               "C 月新客中在第 k 个月有有效订单的客户数 / C 月新客数。", "rate"),
    Definition("revenue_retention", "Revenue retention", "收入留存率",
               "Revenue of cohort C in month C+k / revenue of cohort C in month C.",
               "C 月新客在第 k 个月的销售额 / 其首月销售额。", "rate"),
    Definition("cumulative_revenue_per_customer", "Cumulative revenue per customer (historical LTV)",
               "人均累计消费（历史 LTV）",
               "Revenue of cohort C in months C to C+k / customers in cohort C.",
               "C 月新客在第 0 至 k 个月的累计销售额 / C 月新客数。", "money"),
]

CUSTOMERS = [
    Definition("reach_order_n", "Reached order n", "达到第 n 单的占比",
               "Customers with at least n valid orders / customers with at least one.",
               "至少有 n 笔有效订单的客户数 / 至少有 1 笔的客户数。", "rate"),
    Definition("days_between_orders", "Days between orders", "复购间隔天数",
               "Days from a customer's order n to order n+1 (median and quartiles).",
               "客户第 n 单到第 n+1 单之间的天数（中位数与四分位数）。", "days"),
    Definition("frequency_multiple", "Member frequency multiple", "会员购买频次倍数",
               "Purchase frequency of members / purchase frequency of non-members.",
               "会员购买频次 / 非会员购买频次。", "ratio"),
    Definition("due_for_repurchase", "Due for repurchase", "待复购客户",
               "Customers with 2+ orders whose days since last order exceed their usual interval but not 3 times it (nor 365 days).",
               "有 2 单及以上、距上次购买天数已超过其常规间隔但未超过 3 倍（且不超过 365 天）的客户。", "count"),
    Definition("rfm", "RFM segment", "RFM 分群",
               "Recency and monetary quintile scores and an order-count frequency score, named by the R and F scores.",
               "按最近购买（R）与消费金额（M）五分位打分、按订单数给频次（F）打分，并按 R、F 得分命名分群。", "count"),
]

ALL = {d.key: d for d in [*KPIS, *COHORTS, *CUSTOMERS]}
RATES = tuple(d.key for d in KPIS if d.kind == "rate")


def label(key: str, language: str = "en") -> str:
    definition = ALL[key]
    return definition.zh if language == "zh" else definition.en


def help_text(key: str, language: str = "en") -> str:
    definition = ALL[key]
    return definition.definition_zh if language == "zh" else definition.definition_en
