"""Every metric's name and one-line definition, and the names of customer groups, in English and
Chinese (zh-CN): the words the screens and the HTML report show for the keys metrics/ returns.

The command line (`python -m metrics summary`) prints its own English names from
metrics.definitions, which needs no screen; docs/metrics.md quotes the definitions below (a test
keeps them equal).
"""

# key -> (English, Chinese), the name shown on tiles, table headers and chart titles
METRIC_NAMES: dict[str, tuple[str, str]] = {
    "orders": ("Orders", "订单数"),
    "revenue": ("Revenue", "销售额"),
    "customers": ("Customers", "购买客户数"),
    "new_customers": ("New customers", "新客数"),
    "returning_customers": ("Returning customers", "回头客数"),
    "repurchase_rate": ("Repurchase rate", "复购率（回头客占比）"),
    "repeat_rate": ("Repeat rate within period", "期内复购率"),
    "frequency": ("Purchase frequency", "购买频次"),
    "annual_frequency": ("Annual frequency", "年均消费次数"),
    "aov": ("AOV", "客单价"),
    "revenue_per_customer": ("Revenue per customer", "人均消费"),
    "guest_orders": ("Guest orders", "游客订单数"),
    "retention": ("Customer retention", "客户留存率"),
    "revenue_retention": ("Revenue retention", "收入留存率"),
    "cumulative_revenue_per_customer": ("Cumulative revenue per customer (historical LTV)",
                                        "人均累计消费（历史 LTV）"),
    "reach_order_n": ("Reached order n", "达到第 n 单的占比"),
    "days_between_orders": ("Days between orders", "复购间隔天数"),
    "frequency_multiple": ("Member frequency multiple", "会员购买频次倍数"),
    "due_for_repurchase": ("Due for repurchase", "待复购客户"),
    "rfm": ("RFM segment", "RFM 分群"),
}

# key -> (English, Chinese), the one-line definition shown as help text
METRIC_DEFINITIONS: dict[str, tuple[str, str]] = {
    "orders": (
        "Valid orders in the period, guest orders included.",
        "期内有效订单数，含游客订单。",
    ),
    "revenue": (
        "Sum of the net paid amount of valid orders in the period.",
        "期内有效订单实付金额之和。",
    ),
    "customers": (
        "Distinct identified customers with at least one valid order in the period.",
        "期内至少有一笔有效订单的可识别客户数（去重）。",
    ),
    "new_customers": (
        "Customers whose first valid order ever falls in the period.",
        "首笔有效订单落在本期的客户数。",
    ),
    "returning_customers": (
        "Customers in the period minus new customers.",
        "本期购买客户数减去新客数。",
    ),
    "repurchase_rate": (
        "Returning customers / customers in the period.",
        "回头客数 / 本期购买客户数。",
    ),
    "repeat_rate": (
        "Customers with 2 or more valid orders in the period / customers in the period.",
        "本期有 2 笔及以上有效订单的客户数 / 本期购买客户数。",
    ),
    "frequency": (
        "Identified valid orders in the period / customers in the period.",
        "本期可识别客户的有效订单数 / 本期购买客户数。",
    ),
    "annual_frequency": (
        "Identified valid orders in the 12 months ending with the period / distinct customers in those months.",
        "截至本期的近 12 个月可识别有效订单数 / 这 12 个月的购买客户数。",
    ),
    "aov": (
        "Revenue / valid orders in the period, guest orders included.",
        "本期销售额 / 本期有效订单数（含游客订单）。",
    ),
    "revenue_per_customer": (
        "Revenue of identified customers / customers in the period.",
        "本期可识别客户销售额 / 本期购买客户数。",
    ),
    "guest_orders": (
        "Valid orders in the period without a customer id.",
        "本期无客户标识的有效订单数。",
    ),
    "retention": (
        "Customers of cohort C with a valid order in month C+k / customers in cohort C.",
        "C 月新客中在第 k 个月有有效订单的客户数 / C 月新客数。",
    ),
    "revenue_retention": (
        "Revenue of cohort C in month C+k / revenue of cohort C in month C.",
        "C 月新客在第 k 个月的销售额 / 其首月销售额。",
    ),
    "cumulative_revenue_per_customer": (
        "Revenue of cohort C in months C to C+k / customers in cohort C.",
        "C 月新客在第 0 至 k 个月的累计销售额 / C 月新客数。",
    ),
    "reach_order_n": (
        "Customers with at least n valid orders / customers with at least one.",
        "至少有 n 笔有效订单的客户数 / 至少有 1 笔的客户数。",
    ),
    "days_between_orders": (
        "Days from a customer's order n to order n+1 (median and quartiles).",
        "客户第 n 单到第 n+1 单之间的天数（中位数与四分位数）。",
    ),
    "frequency_multiple": (
        "Purchase frequency of members / purchase frequency of non-members.",
        "会员购买频次 / 非会员购买频次。",
    ),
    "due_for_repurchase": (
        "Customers with 2+ orders whose days since last order exceed their usual interval but not 3 times it "
        "(nor 365 days).",
        "有 2 单及以上、距上次购买天数已超过其常规间隔"
        "但未超过 3 倍（且不超过 365 天）的客户。",
    ),
    "rfm": (
        "Recency and monetary quintile scores and an order-count frequency score, named by the R and F scores.",
        "按最近购买（R）与消费金额（M）五分位打分、按订单数给频次（F）打分，"
        "并按 R、F 得分命名分群。",
    ),
}

# RFM segment codes (metrics.segments.RFM_SEGMENT_SQL) as names
RFM_NAMES: dict[str, tuple[str, str]] = {
    "champions": ("Champions", "重要价值客户"),
    "loyal": ("Loyal", "忠诚客户"),
    "potential_loyalist": ("Potential loyalists", "潜力客户"),
    "new": ("New", "新客户"),
    "promising": ("Promising", "有望客户"),
    "need_attention": ("Need attention", "需关注客户"),
    "about_to_sleep": ("About to sleep", "即将沉睡客户"),
    "at_risk": ("At risk", "流失风险客户"),
    "cant_lose": ("Can't lose them", "不能流失的客户"),
    "hibernating": ("Hibernating", "沉睡客户"),
}

# member tier codes as groups of people, in sentences and chart labels ("driven by gold members")
TIER_GROUPS: dict[str, tuple[str, str]] = {
    "none": ("non-members", "非会员"), "silver": ("silver members", "银卡会员"),
    "gold": ("gold members", "金卡会员"), "diamond": ("diamond members", "钻石会员"),
}
