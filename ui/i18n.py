"""Every label, help text and sentence of the app in English and Chinese (zh-CN).

The one door to the app's words: this file holds the labels and sentences, ui/words/ the longer
lists (import refusals and row problems, metric names and definitions), worded through the
functions here.
"""

from ui.words.metrics import METRIC_DEFINITIONS, METRIC_NAMES, RFM_NAMES, TIER_GROUPS
from ui.words.notes import note_words
from ui.words.refusals import issue_code, issue_reason, refusal_words

LANGUAGES = {"en": "English", "zh": "中文"}

TEXT: dict[str, tuple[str, str]] = {
    # navigation and chrome
    "app_title": ("Repurchase KPIs", "复购指标看板"),
    "overview": ("Overview", "概览"),
    "cohorts": ("Cohorts", "同期群"),
    "customers": ("Customers", "客户"),
    "data": ("Data", "数据"),
    "language": ("Language", "语言"),
    "presentation": ("Presentation mode", "演示模式"),
    "presentation_help": ("Large type, no sidebar: for screen-sharing.", "大字号、隐藏侧栏，适合投屏。"),
    "filters": ("Filters", "筛选"),
    "date_from": ("From", "开始日期"),
    "date_to": ("To", "结束日期"),
    "member_tier": ("Member tier", "会员等级"),
    "channel": ("Channel", "渠道"),
    "region": ("Region", "地区"),
    "category": ("Category", "品类"),
    "membership": ("Membership", "会员身份"),
    "member": ("Members", "会员"),
    "non-member": ("Non-members", "非会员"),
    "all": ("All", "全部"),
    "not_set": ("(not set)", "（未填写）"),
    "currency": ("Currency", "币种"),
    "from_data": ("from the data", "按数据"),
    "currency_not_stated": ("not stated", "未注明"),
    "currency_unknown_note": ("The currency of these amounts is not stated: no export said it and none was chosen on the Data page.",
                              "金额币种未注明：导出文件未说明，上传时也未选择。"),
    "no_customer_ids": ("These orders have no customer id, so repurchase metrics cannot be computed: only orders, revenue and average order value are shown. Upload an export with a customer column to see repurchase.",
                        "这些订单没有客户编号，无法计算复购指标：仅显示订单数、销售额和客单价。上传含客户列的导出文件即可查看复购。"),
    "upload_currency": ("Currency of the amounts", "金额币种"),
    "upload_currency_help": ("Asked only when neither the file nor its preset states the currency; the import waits for an answer (or 'not stated').",
                             "仅当文件和预设都未说明币种时询问；选择之前不会导入（也可选「未注明」）。"),
    "choose_currency": ("Choose…", "请选择…"),
    "accepted_not_valid": ("Kept but not counted as orders: {unpaid} unpaid, {cancelled} cancelled, {refunded} fully refunded.",
                           "已保存但不计入订单：未付款 {unpaid} 笔，已取消 {cancelled} 笔，全额退款 {refunded} 笔。"),
    "refunds_already_net": ("The paid amount in this file is already net of refunds (total = paid + refund), so refunds were not subtracted again.",
                            "该文件的实付金额已扣除退款（总金额 = 实付 + 退款），因此未再次扣减退款。"),
    "refunds_subtracted": ("Refunds were subtracted from the paid amount; fully refunded orders count as refunded.",
                           "已从实付金额中扣减退款；全额退款的订单计为已退款。"),
    "currency_help": ("The symbol amounts are shown with; the stored amounts are not converted.",
                      "金额显示所用的货币符号；已存金额不做换算。"),
    "store_version": ("Store version {version} · orders {first} to {last}", "数据版本 {version} · 订单 {first} 至 {last}"),
    # Plotly date formats (d3) of chart axes and hover labels (ui.charts)
    "date_month_format": ("%b %Y", "%Y年%-m月"),
    "date_month_ticks": ("%b<br>%Y", "%-m月<br>%Y年"),
    "date_day_format": ("%b %-d", "%-m月%-d日"),
    # units after a number (ui.formatting)
    "unit_days": ("{number} days", "{number} 天"),
    "unit_points": ("{number} pt", "{number} 个百分点"),
    # messages
    "empty_store": (
        "No orders yet. Load the demo data with `make demo`, or upload an export on the Data page.",
        "暂无订单。可运行 `make demo` 载入演示数据，或在「数据」页上传订单导出文件。",
    ),
    "no_match": (
        "No orders match these filters. Widen the date range or clear a filter in the sidebar.",
        "没有符合筛选条件的订单。请放宽日期范围或清除侧栏中的筛选。",
    ),
    "store_changed": (
        "The data changed while this page was loading. Reload the page to see the new version.",
        "页面加载期间数据已更新，请刷新页面查看最新版本。",
    ),
    "partial_month": ("{month} is not complete yet: its numbers will still change.", "{month} 尚未结束，数据仍会变化。"),
    "partial_month_data_ends": ("{month} is only partly covered: the data ends on {last}.", "{month} 仅部分覆盖：数据截至 {last}。"),
    "month_not_in_data": ("There are no orders in {asked} (the link asked for it); showing {shown}. The data covers {first} to {last}.",
                          "{asked} 没有订单（链接中指定了该月份）；现显示 {shown}。数据范围为 {first} 至 {last}。"),
    "no_previous_month": ("{month} is the first month of the data: there is no earlier month to compare with.",
                          "{month} 是数据的第一个月，没有可对比的上月数据。"),
    "needs_two_months": ("Trends need at least two months of data; this selection has one ({month}).",
                         "趋势图至少需要两个月的数据；当前只有一个月（{month}）。"),
    "curves_need_later_months": ("Retention curves need customers followed for at least one month after their first order; the data does not reach that yet.",
                                 "留存曲线需要客户首单后至少一个月的数据，目前的数据还不够。"),
    # overview
    "month": ("Month", "月份"),
    "headline": ("Headline KPIs for {month}", "{month} 核心指标"),
    "vs_last_month": ("vs last month", "环比"),
    "vs_last_year": ("vs last year", "同比"),
    "trends": ("Trends", "趋势"),
    "trend_months": ("Months shown", "显示月数"),
    "trend_title": ("{metric} by month, {start} to {end}", "{metric}（按月，{start} 至 {end}）"),
    "new_vs_returning_title": ("New and returning customers by month, {start} to {end}", "新客与回头客（按月，{start} 至 {end}）"),
    "download_report": ("Download report (HTML)", "下载报告（HTML）"),
    "report_title": ("Repurchase report {month}", "{month} 复购报告"),
    "kpi_table": ("Monthly KPI table", "月度指标表"),
    "rose": ("rose", "上升"),
    "fell": ("fell", "下降"),
    "summary_rate": ("{metric} {direction} {change} points to {value}{driver}.", "{metric}{direction} {change} 个百分点，为 {value}{driver}。"),
    "summary_other": ("{metric} {direction} {change}% to {value}{driver}.", "{metric}{direction} {change}%，为 {value}{driver}。"),
    "early_months": ("In the data's first year repurchase looks low: orders before the first upload are not in the store, so every customer looks new at first.",
                     "数据第一年的复购率偏低：首次上传之前的订单不在库中，因此起初所有客户都显示为新客。"),
    "active_filters": ("Filters: {filters}", "筛选：{filters}"),
    "summary_driver": (", driven by {segment}", "，主要来自{segment}"),
    "summary_flat": ("No headline KPI moved noticeably since last month.", "与上月相比，核心指标无明显变化。"),
    # cohorts
    "cohort_value": ("Show", "显示"),
    "heatmap_title": ("{metric} by acquisition month and months since first order, {start} to {end}",
                      "{metric}（按首单月份与首单后月数，{start} 至 {end}）"),
    "curves_title": ("Customer retention by months since first order, cohorts {start} to {end}: chosen cohorts and the average",
                     "客户留存曲线（首单后月数，{start} 至 {end} 的同期群）：所选同期群与平均值"),
    "choose_cohorts": ("Cohorts to compare", "对比的同期群"),
    "average": ("Average", "平均"),
    "cohort_size": ("Cohort size", "同期群人数"),
    "months_since_first": ("Months since first order", "首单后月数"),
    "acquisition_month": ("Acquisition month", "首单月份"),
    "small_cohorts": ("{count} cohorts have fewer than {size} customers (marked *): read them with care.",
                      "有 {count} 个同期群不足 {size} 人（标 *），解读需谨慎。"),
    # customers
    "funnel_title": ("Repeat funnel, {start} to {end}", "复购漏斗（{start} 至 {end}）"),
    "order_n": ("Order {n}", "第 {n} 单"),
    "order_5_plus": ("Order 5+", "第 5 单及以上"),
    "gaps_title": ("Days between order n and n+1 (median and quartiles), {start} to {end}", "第 n 单到第 n+1 单的间隔天数（中位数与四分位，{start} 至 {end}）"),
    "second_title": ("Time from first to second order: share of repeat customers, {start} to {end}", "首单到第二单的时间：复购客户占比（{start} 至 {end}）"),
    "within_days": ("Within {days} days", "{days} 天内"),
    "over_year": ("Over a year", "超过一年"),
    "members_title": ("Members vs non-members, {month}", "会员与非会员对比（{month}）"),
    "members_multiple": ("Members buy {multiple}× as often as non-members (annual frequency).",
                         "会员的购买频次是非会员的 {multiple} 倍（年均消费次数）。"),
    "tiers_title": ("Annual frequency by member tier, 12 months to {month}", "各会员等级年均消费次数（截至 {month} 的 12 个月）"),
    "tiers_table": ("KPIs by member tier, {month}", "各会员等级指标（{month}）"),
    "rfm_title": ("RFM segments: customers (area) and share of revenue, {start} to {end}", "RFM 分群：客户数（面积）与销售额占比（{start} 至 {end}）"),
    "due_title": ("Due for repurchase: {count} customers", "待复购客户：{count} 人"),
    "due_caption": ("Past their usual interval between orders but not lapsed; most valuable first.",
                    "已超过其常规复购间隔但尚未流失；按客户价值排序。"),
    "segment": ("Segment", "分群"),
    "share": ("Share", "占比"),
    "days": ("Days", "天数"),
    # strategy tests
    "strategy": ("Strategy tests", "策略实验"),
    "no_experiments": ("No experiment assignments yet. Upload an assignments file (experiment, customer_id, variant, assigned_at) on the Data page.",
                       "暂无实验分组。请在「数据」页上传分组文件（experiment、customer_id、variant、assigned_at）。"),
    "window": ("Window after assignment", "分组后观察窗口"),
    "window_days_label": ("Days after assignment", "分组后观察天数"),
    "filters_not_applied": ("The sidebar filters do not apply here: a test compares every assigned customer.",
                            "侧栏筛选不作用于本页：实验比较的是全部分组客户。"),
    "needs_customers": ("These orders have no customer id, so this page has nothing to show: it follows customers from "
                        "order to order. Upload an export with a customer column to see it.",
                        "这些订单没有客户编号，本页无内容可显示：本页按客户追踪其历次购买。上传含客户列的导出文件即可查看。"),
    "value_needs_customers": ("Customer value is predicted per customer, and these orders have no customer id. Upload an "
                              "export with a customer column to see it.",
                              "客户价值按客户预测，而这些订单没有客户编号。上传含客户列的导出文件即可查看。"),
    "value_filters_not_applied": ("The sidebar filters do not apply here: the model is fitted on every customer.",
                                  "侧栏筛选不作用于本页：模型基于全部客户拟合。"),
    "p_alive_note": ("Customers with a single order show 100%: BG/NBD assumes a customer can only stop right after a repeat purchase; read their expected orders instead.",
                     "只有一笔订单的客户显示 100%：BG/NBD 假设客户只会在复购之后流失；对这类客户请看其预期订单数。"),
    "within_range": ("{low}–{high} days", "{low}–{high} 天"),
    "window_days": ("{days} days", "{days} 天"),
    "cuped": ("CUPED (adjust for the 90 days before assignment)", "CUPED（用分组前 90 天行为校正）"),
    "cap": ("Cap revenue at the 99th percentile", "收入按第 99 百分位截尾"),
    "margin_input": ("Gross margin", "毛利率"),
    "decision_metric": ("Decide on", "决策指标"),
    "what_worked": ("What worked", "哪些策略有效"),
    "decide_margin": ("Margin after cost", "扣除成本后毛利"),
    "decide_revenue": ("Revenue", "销售额"),
    "repurchased": ("repurchase rate", "复购率"),
    "scorecard": ("Scorecard: every variant vs control, {days}-day window", "记分卡：各实验组对比对照组（{days} 天窗口）"),
    "experiment": ("Experiment", "实验"),
    "health": ("Health checks", "健康检查"),
    "srm_ok": ("Sample ratio as planned (p = {p}).", "样本比例符合预期（p = {p}）。"),
    "srm_bad": ("Sample ratio mismatch (p = {p}): the split is not what was planned; do not trust the lifts until this is explained.",
                "样本比例失衡（p = {p}）：分组比例与计划不符，在查明原因前不要采信结果。"),
    "balance": ("Pre-period balance: p = {p}", "分组前平衡性：p = {p}"),
    "matured": ("{variant}: {matured:,} of {assigned:,} customers have a complete window", "{variant}：{assigned:,} 人中 {matured:,} 人已满观察窗口"),
    "results": ("Results (relative lift, 95% CI)", "结果（相对提升，95% 置信区间）"),
    "chance_note": ("Chance to win is the Bayesian probability that the variant beats control; it is not statistical significance.",
                    "胜出概率是实验组优于对照组的贝叶斯概率，并不等同于统计显著。"),
    "cumulative_title": ("Relative lift in {metric} from assignment to each date, {start} to {end} (95% CI)", "{metric}相对提升（自分组起累计至各日期，{start} 至 {end}，95% 置信区间）"),
    "novelty_title": ("Relative lift in orders by days since assignment, first {days} days (novelty check)", "按分组后天数的订单相对提升（前 {days} 天，新奇效应检查）"),
    "km_title": ("Share of customers who repurchased by days since assignment, first {days} days (Kaplan-Meier)", "分组后累计复购客户占比（前 {days} 天，Kaplan-Meier）"),
    "planner": ("Planner: how big an effect can a test detect?", "规划：实验能检测到多大的效果？"),
    "planner_n": ("Customers per arm", "每组客户数"),
    "planner_result": ("With {n:,} customers per arm, a {days}-day test of {metric} detects a lift of {mde} ({rel} relative) with 80% power at 5% significance; baseline {base} from the last year.",
                       "每组 {n:,} 人、{days} 天的{metric}实验，在 80% 功效、5% 显著性下可检测到 {mde} 的提升（相对 {rel}）；基线 {base} 取自近一年。"),
    "arm_totals": ("Per-arm totals", "各组汇总"),
    "design_randomised": ("randomised", "随机分组"),
    "design_observational": ("observational", "观察性"),
    "observational_warning": (
        "Observational (derived from orders.{column}): customers chose to use {what}, so this lift is an association, "
        "not proof {what} caused it; see the pre-period balance check.",
        "观察性比较（来自 orders.{column}）：客户自行选择是否使用{what}，因此该提升只是相关，不能证明由{what}引起；"
        "请查看分组前平衡性检查。",
    ),
    "what_coupon_code": ("the coupon", "优惠券"),
    "what_value": ("that value", "该取值"),
    "srm_not_applicable": ("Sample ratio check not applicable: customers chose their arm, so no split was planned.",
                           "样本比例检查不适用：分组由客户自己的选择决定，没有计划比例。"),
    "balance_differs": ("Pre-period balance p = {p}: the arms already bought differently before entering; the lift mixes that with any effect.",
                        "分组前平衡性 p = {p}：各组在进入前的购买行为已有差异，提升中混有这部分差异。"),
    # customer value
    "value": ("Customer value", "客户价值"),
    "value_caption": ("Predicted with BG/NBD (purchases) and Gamma-Gamma (spend), fitted on this store; {months}-month horizon, {discount} monthly discount, {margin} margin.",
                      "基于本店数据拟合 BG/NBD（购买次数）与 Gamma-Gamma（客单价）模型；预测期 {months} 个月，月折现率 {discount}，毛利率 {margin}。"),
    "clv_total": ("Predicted value, next {months} months", "未来 {months} 个月预测价值"),
    "clv_mean": ("Predicted value per customer", "人均预测价值"),
    "at_risk": ("Customers at high churn risk", "高流失风险客户"),
    "expected_orders": ("Expected orders, next 12 months", "未来 12 个月预期订单"),
    "clv_distribution": ("Distribution of predicted value per customer, next {months} months", "客户预测价值分布（未来 {months} 个月）"),
    "clv_by": ("Mean predicted value by {dimension}, next {months} months", "按{dimension}的人均预测价值（未来 {months} 个月）"),
    "p_alive_title": ("P(alive) on {date} by number of repeat orders and days since last order", "{date} 存活概率：按复购次数与距上次购买天数"),
    "top_customers": ("Top customers by predicted value", "预测价值最高的客户"),
    "at_risk_valuable": ("Valuable customers slipping away (high value, P(alive) < 50%)", "正在流失的高价值客户（高价值且存活概率 < 50%）"),
    "model_details": ("Model parameters and holdout check", "模型参数与留出检验"),
    "holdout_sentence": ("Fitted up to {cutoff}, the model predicted {predicted:,.0f} repeat orders until {end}; {actual:,} happened ({error:+.1f}%).",
                         "以 {cutoff} 前数据拟合，模型预测至 {end} 的复购订单 {predicted:,.0f} 笔，实际 {actual:,} 笔（误差 {error:+.1f}%）。"),
    "predicted_clv_axis": ("Predicted value per customer", "客户预测价值"),
    "holdout_curve": ("Cumulative repeat orders after the cut-off: predicted vs actual", "留出期累计复购订单：预测与实际"),
    "holdout_by_frequency": ("Repeat orders per customer in the holdout, by repeat orders before the cut-off", "按截断前复购次数的留出期人均复购"),
    "model_failed": ("The model could not be fitted: {reason}", "无法拟合模型：{reason}"),
    "cohort": ("Cohort", "同期群"),
    "repeat_orders": ("Repeat orders", "复购次数"),
    "days_since_last": ("Days since last order", "距上次购买天数"),
    "predicted": ("Predicted", "预测"),
    "actual": ("Actual", "实际"),
    # customer value: models, cut-off, reliability (issue 15)
    "value_cutoff": ("Model fitted up to", "模型拟合截止日"),
    "value_cutoff_help": ("The models learn from purchases up to this date and are checked on the purchases after it. Default: 6 months before the last order (a third of a shorter history).",
                          "模型用此日期之前的购买数据拟合，并用之后的购买检验。默认：最后一笔订单前 6 个月（历史较短时取最后三分之一）。"),
    "value_model": ("Purchase model", "购买模型"),
    "model_auto": ("Best on the check", "检验最优"),
    "model_bgnbd": ("BG/NBD", "BG/NBD"),
    "model_mbgnbd": ("MBG/NBD", "MBG/NBD"),
    "model_paretonbd": ("Pareto/NBD", "Pareto/NBD"),
    "model_nbd": ("NBD", "NBD"),
    "model_gamma_gamma": ("Gamma-Gamma", "Gamma-Gamma"),
    "model_as_fitted": ("{model}", "{model}"),
    "model_became_nbd": ("{model} → NBD", "{model} → NBD"),
    "value_horizon": ("Horizon (months)", "预测期（月）"),
    "value_discount": ("Monthly discount rate", "月折现率"),
    "margin_out_of_range": ("A gross margin of {value} is not between 0 and 1 (0.3 = 30%), so it is not used: the values below use {default}.",
                            "毛利率 {value} 不在 0 到 1 之间（0.3 即 30%），因此未采用：以下数值按 {default} 计算。"),
    "value_fitting": ("Fitting the purchase and spend models …", "正在拟合购买与客单价模型……"),
    "value_caption_models": ("Predicted with {model} (purchases) and Gamma-Gamma (spend), fitted on this store; {months}-month horizon, {discount} monthly discount, {margin} margin.",
                             "基于本店数据拟合 {model}（购买次数）与 Gamma-Gamma（客单价）模型；预测期 {months} 个月，月折现率 {discount}，毛利率 {margin}。"),
    "expected_orders_next": ("Expected orders, next {months} months", "未来 {months} 个月预期订单"),
    "reliability_good": ("Reliable: fitted up to {cutoff}, {model} predicted the repeat orders until {end} within {error:.1f}% (weekly curve off by {mape:.1f}% on average).",
                         "可靠：以 {cutoff} 前数据拟合，{model} 对至 {end} 的复购订单预测误差 {error:.1f}%（每周累计曲线平均偏差 {mape:.1f}%）。"),
    "reliability_fair": ("Roughly right: fitted up to {cutoff}, {model} predicted the repeat orders until {end} within {error:.1f}% (weekly curve off by {mape:.1f}% on average). Use the figures as a guide, not a forecast.",
                         "大致可信：以 {cutoff} 前数据拟合，{model} 对至 {end} 的复购订单预测误差 {error:.1f}%（每周累计曲线平均偏差 {mape:.1f}%）。数值可作参考，不宜作为精确预测。"),
    "reliability_poor": ("Not reliable on this store: fitted up to {cutoff}, {model} missed the repeat orders until {end} by {error:.1f}% (weekly curve off by {mape:.1f}% on average). Try another cut-off, or treat the values as rough.",
                         "在本店数据上不可靠：以 {cutoff} 前数据拟合，{model} 对至 {end} 的复购订单偏差 {error:.1f}%（每周累计曲线平均偏差 {mape:.1f}%）。可换一个截止日，或仅作粗略参考。"),
    "reliability_unusable": ("Not usable on this store: fitted up to {cutoff}, {model} gives no finite prediction of the "
                             "repeat orders until {end} (its parameters ran off), so its values are left out. Choose "
                             "another purchase model or cut-off.",
                             "在本店数据上不可用：以 {cutoff} 前数据拟合，{model} 对至 {end} 的复购订单给不出有限的预测值"
                             "（参数发散），因此其数值不予显示。请选择其他购买模型或截止日。"),
    "reliability_unknown": ("No purchases after the cut-off, so the model could not be checked: choose an earlier cut-off to see how reliable it is.",
                            "截止日之后没有购买数据，无法检验模型：选择更早的截止日可查看其可靠性。"),
    "model_won": ("It had the smallest error on that check, {points:.1f} points ahead of {runner_up}.",
                  "它在该检验中误差最小，比 {runner_up} 低 {points:.1f} 个百分点。"),
    "holdout_peak": ("The check period includes {months}, a seasonal peak; the models have no seasonality, so expect them to under-predict peaks and over-predict quiet months.",
                     "检验期包含季节性高峰 {months}；模型不含季节性，高峰期预测可能偏低、淡季偏高。"),
    "p_alive_note_nbd": ("No dropout was detected, so the model gives every customer 100%; read their expected orders instead.",
                         "未发现流失迹象，模型给每位客户的存活概率都是 100%；请改看预期订单。"),
    "p_alive_note_other": ("This model lets customers stop at any time, one-time buyers included, so P(alive) falls the longer a customer has not bought.",
                           "该模型允许客户随时流失（包括只买过一次的客户），因此越久未购买，存活概率越低。"),
    "col_model": ("Model", "模型"),
    "col_log_likelihood": ("Log-likelihood", "对数似然"),
    "col_holdout_error": ("Holdout error %", "留出期误差 %"),
    "col_curve_mape": ("Weekly curve error %", "每周曲线误差 %"),
    "col_note": ("Note", "说明"),
    "nbd_limit": ("No dropout detected: NBD limit", "未发现流失：NBD 极限"),
    "col_parameter": ("Parameter", "参数"),
    "col_estimate": ("Estimate", "估计值"),
    "col_standard_error": ("Standard error", "标准误"),
    "fit_caption": ("Predictions refitted on all data up to {as_of}; model comparison took {seconds:.2f} s.",
                    "预测模型已用截至 {as_of} 的全部数据重新拟合；模型比较耗时 {seconds:.2f} 秒。"),
    # downloads
    "download_csv": ("CSV", "CSV"),
    "download_excel": ("Excel", "Excel"),
    # data page
    "upload_title": ("Upload an order export", "上传订单导出文件"),
    "upload_help": ("CSV (any delimiter, UTF-8 or GBK), Excel .xlsx or Parquet; Shopify, WooCommerce, Taobao/Tmall, UCI and your own ERP.",
                    "支持 CSV（任意分隔符，UTF-8 或 GBK）、Excel .xlsx、Parquet；Shopify、WooCommerce、淘宝/天猫、UCI 及自有 ERP 导出。"),
    "upload_kind": ("This file holds", "文件内容"),
    "kind_orders": ("Orders", "订单"),
    "kind_assignments": ("Experiment assignments", "实验分组"),
    "preview": ("Preview: first rows", "预览：前几行"),
    "mapping": ("Column mapping", "字段映射"),
    "mapping_help": ("Detected automatically; change any field, then import.", "已自动识别，可修改后再导入。"),
    "preset_detected": ("Recognised format: {preset}", "识别到的格式：{preset}"),
    "not_mapped": ("(not in this file)", "（文件中没有）"),
    "import": ("Import", "导入"),
    "importing": ("Importing {file}…", "正在导入 {file}…"),
    # {orders}, {rows}... are counts from ui.i18n.count: "1 row" / "7 rows" in English, the number in Chinese
    "imported": ("Imported {orders} from {rows} of {file}; {rejected} rejected, {warnings}.",
                 "已从 {file} 的 {rows} 行导入 {orders} 笔订单；拒绝 {rejected} 行，警告 {warnings} 条。"),
    "imported_assignments": ("Imported {assignments} from {rows} of {file}; {rejected} rejected, {warnings}.",
                             "已从 {file} 的 {rows} 行导入 {assignments} 条分组记录；拒绝 {rejected} 行，警告 {warnings} 条。"),
    "refused": ("Not imported: {reason}", "未导入：{reason}"),
    "record_equation": ("Every record accounted for: {records} in the file = {accepted} accepted + {rejected} rejected "
                        "+ {folded} folded into orders + {skipped} skipped{reasons}.",
                        "每条记录都有去向：文件中 {records} 条 = 接受 {accepted} 条 + 拒绝 {rejected} 条 + 并入订单 {folded} 条 "
                        "+ 跳过 {skipped} 条{reasons}。"),
    "skipped_because": (" ({reasons})", "（{reasons}）"),
    "skipped_item": ("{count} {reason}", "{reason} {count} 条"),
    "list_separator": (", ", "，"),
    "skip_blank_line": ("blank lines", "空行"),
    "skip_repeated_header": ("repeated header rows", "重复的表头行"),
    "skip_totals_row": ("totals rows", "合计行"),
    "issues": ("Validation report", "校验报告"),
    "rejected_rows": ("Rejected rows", "被拒绝的行"),
    "save_preset": ("Save this mapping as a preset", "将此映射保存为预设"),
    "preset_name": ("Preset name", "预设名称"),
    "saved_preset": ("Saved preset {name}.", "已保存预设 {name}。"),
    "batches": ("Stored batches", "已存储的批次"),
    "remove": ("Remove", "删除"),
    "removed": ("Removed batch {batch}.", "已删除批次 {batch}。"),
    "derive_title": ("Derive an experiment from an order column", "从订单字段生成实验分组"),
    "derive_help": (
        "Each customer with a valid order in the period enters once: at their first order using one of the values "
        "(variant = that value), otherwise at their first order in the period (control); the entry order is not "
        "counted as a repurchase. Customers chose to use the value, so the result is observational: an association, "
        "not proof of cause.",
        "期间内有有效订单的客户各进入一次：首次使用所选取值的订单（分组 = 该取值），否则为期间内的首单（对照组）；"
        "进入时的订单不计为复购。是否使用由客户自己选择，因此结果为观察性比较：只是相关，不能证明因果。",
    ),
    "derive_column": ("Order column", "订单字段"),
    "derive_start": ("Campaign from", "活动开始"),
    "derive_end": ("Campaign to", "活动结束"),
    "derive_values": ("Values that make a variant", "作为实验组的取值"),
    "derive_all_values": ("All values in the period", "期间内全部取值"),
    "derive_no_values": ("orders.{column} has no value on valid orders in this period.", "该期间有效订单的 orders.{column} 均为空。"),
    "derive_name": ("Experiment name", "实验名称"),
    "derive_strategy": ("Strategy tag", "策略标签"),
    "derive_no_strategy": ("(none)", "（无）"),
    "derive_cost": ("Cost per customer of a variant", "实验组单客成本"),
    "derive_button": ("Derive experiment", "生成实验"),
    "derived": ("Derived {experiment} from orders.{column}: {arms}. Observational: read its lift on the Strategy tests page as an association, not proof of cause.",
                "已从 orders.{column} 生成实验 {experiment}：{arms}。观察性比较：在「策略实验」页查看时，提升仅表示相关，不能证明因果。"),
    "confirm_remove": ("Remove {file} from the store? Its orders disappear from every page.",
                       "确定从数据中删除 {file}？其订单将从所有页面消失。"),
}


# Column names of tables that are not KPIs (KPI columns take their names from metrics.definitions).
COLUMNS: dict[str, tuple[str, str]] = {
    "period": ("Month", "月份"),
    "cohort_month": ("Acquisition month", "首单月份"),
    "age": ("Months since first order", "首单后月数"),
    "cohort_customers": ("Cohort size", "同期群人数"),
    "active_customers": ("Active customers", "活跃客户数"),
    "small_cohort": ("Small cohort", "小同期群"),
    "customer_share": ("Share of customers", "客户占比"),
    "revenue_share": ("Share of revenue", "销售额占比"),
    "avg_recency_days": ("Avg days since last order", "平均距上次购买天数"),
    "avg_frequency": ("Avg orders", "平均订单数"),
    "avg_monetary": ("Avg spend", "平均消费额"),
    "customer_id": ("Customer", "客户"),
    "last_channel": ("Last channel", "最近渠道"),
    "last_order_date": ("Last order", "最近下单日"),
    "usual_interval_days": ("Usual interval (days)", "常规间隔（天）"),
    "days_since_last_order": ("Days since last order", "距上次下单天数"),
    "days_overdue": ("Days overdue", "超期天数"),
    "is_complete": ("Complete month", "完整月份"),
    "experiment": ("Experiment", "实验"),
    "strategy": ("Strategy", "策略"),
    "design": ("Design", "设计"),
    "member_tier": ("Member tier", "会员等级"),
    "first_channel": ("First channel", "首单渠道"),
    "last_purchase": ("Last order", "最近下单日"),
    "x": ("Repeat orders", "复购次数"),
    "variant": ("Variant", "实验组"),
    "metric": ("Metric", "指标"),
    "n_control": ("Control n", "对照组人数"),
    "n_variant": ("Variant n", "实验组人数"),
    "control_mean": ("Control", "对照组"),
    "variant_mean": ("Variant", "实验组"),
    "abs_lift": ("Difference", "差值"),
    "rel_lift": ("Relative lift", "相对提升"),
    "ci_low": ("CI low", "置信下限"),
    "ci_high": ("CI high", "置信上限"),
    "p_value": ("p", "p 值"),
    "p_holm": ("p (Holm)", "p（Holm 校正）"),
    "p_bh": ("p (BH)", "p（BH 校正）"),
    "chance_to_win": ("Chance to win", "胜出概率"),
    "status": ("Status", "状态"),
    "p_alive": ("P(alive)", "存活概率"),
    "risk_band": ("Churn risk", "流失风险"),
    "expected_orders_30": ("Expected orders 30d", "30 天预期订单"),
    "expected_orders_90": ("Expected orders 90d", "90 天预期订单"),
    "expected_orders_365": ("Expected orders 365d", "365 天预期订单"),
    "expected_next_order": ("Expected next order", "预计下次下单"),
    "expected_aov": ("Expected AOV", "预期客单价"),
    "predicted_clv": ("Predicted value", "预测价值"),
    "historical_revenue": ("Historical revenue", "历史消费"),
    "historical_value": ("Historical margin", "历史毛利"),
    "total_clv": ("Total value", "总价值"),
    "region": ("Region", "地区"),
    "channel": ("Channel", "渠道"),
    "category": ("Category", "品类"),
    "assigned": ("Assigned", "分组人数"),
    "matured": ("Window complete", "已满观察窗口"),
    "n": ("Customers counted", "计入人数"),
    "mean": ("Mean per customer", "人均值"),
    # the activity log
    "at": ("When", "时间"),
    "user": ("User", "用户"),
    "via": ("Via", "途径"),
    "action": ("Action", "操作"),
    "file": ("File", "文件"),
    "kind": ("Kind", "类型"),
    "rows_read": ("Rows read", "读取行数"),
    "rows_accepted": ("Rows accepted", "接受行数"),
    "rows_rejected": ("Rows rejected", "拒绝行数"),
    "rows_removed": ("Rows removed", "移除行数"),
    "batch_id": ("Batch", "批次"),
    "preset": ("Preset", "预设"),
    "target": ("Target", "对象"),
    "role": ("Role", "角色"),
    "table": ("Table", "表"),
    "format": ("Format", "格式"),
    "rows": ("Rows", "行数"),
    "sha256": ("SHA-256", "SHA-256"),
    # the validation report of an upload
    "row": ("Row", "行号"),
    "code": ("Problem", "问题"),
    "field": ("Field", "字段"),
    "column_name": ("File column", "文件列"),
    "value": ("Value", "取值"),
    "reason": ("Reason", "原因"),
    "reasons": ("Reasons", "原因"),
    "severity": ("Outcome", "处理"),
}

# Codes the app writes into tables (tiers, log actions, statuses), as words; data values pass as they are.
VALUES: dict[str, tuple[str, str]] = {
    "none": ("none", "非会员"), "silver": ("silver", "银卡"), "gold": ("gold", "金卡"), "diamond": ("diamond", "钻石"),
    "import": ("import", "导入"), "remove": ("remove", "移除"), "save_preset": ("save preset", "保存预设"),
    "delete_preset": ("delete preset", "删除预设"), "download_customer_list": ("download customer list", "下载客户名单"),
    "set_user": ("set user", "设置用户"), "remove_user": ("remove user", "删除用户"),
    "sign_in_failed": ("sign-in failed", "登录失败"), "sign_in_refused_locked": ("sign-in refused (locked)", "登录被拒（已锁定）"),
    "locked_out": ("locked out", "已锁定"), "app": ("app", "网页"), "cli": ("command line", "命令行"),
    "orders": ("orders", "订单"), "assignments": ("assignments", "实验分组"), "ok": ("ok", "正常"),
    "high": ("high", "高"), "medium": ("medium", "中"), "low": ("low", "低"),
    "rejected": ("rejected", "拒绝"), "warning": ("warning", "警告"), "skipped": ("skipped", "跳过"),
}
# the columns whose values are such codes (a channel named "app" elsewhere stays "app")
VALUE_COLUMNS = {"member_tier": ("none", "silver", "gold", "diamond"), "segment": ("none", "silver", "gold", "diamond"),
                 "action": None, "via": ("app", "cli"), "kind": ("orders", "assignments"), "status": ("ok",),
                 "risk_band": ("high", "medium", "low"), "severity": ("rejected", "warning", "skipped")}
# columns of the validation report whose English sentences or codes are worded by a function
WORDED_COLUMNS = {"reason": issue_reason, "reasons": issue_reason, "code": issue_code}


def _pick(words: tuple[str, str], language: str) -> str:
    return words[1] if language == "zh" else words[0]


def metric_label(key: str, language: str = "en") -> str:
    """A metric's name ("repurchase_rate" -> "Repurchase rate" / "复购率（回头客占比）")."""
    return _pick(METRIC_NAMES[key], language)


def metric_help(key: str, language: str = "en") -> str:
    """A metric's one-line definition, for help text."""
    return _pick(METRIC_DEFINITIONS[key], language)


def rfm_names(language: str = "en") -> dict[str, str]:
    """RFM segment code -> name ("champions" -> "Champions" / "重要价值客户")."""
    return {code: _pick(names, language) for code, names in RFM_NAMES.items()}


def segment_name(value, language: str = "en") -> str:
    """A segment value as words: 'gold' -> 'gold members' / '金卡会员'; other values as they are."""
    names = TIER_GROUPS.get(str(value).lower())
    return _pick(names, language) if names else str(value)


def refusal_text(refused: Exception, language: str = "en") -> str:
    """Why an upload was refused (an ingest.ImportRefused), in `language`: its code worded with
    its values; the English sentence it carries when the code has no words here. Plain text:
    escape it where it is shown."""
    words = refusal_words(getattr(refused, "code", None), getattr(refused, "values", {}), language)
    return words if words is not None else str(refused)


def note_text(note, language: str = "en") -> str:
    """A customer-value model's note or failure (metrics.clv_model.Note or ClvFitError) in `language`;
    its English text when its code has no words here. Plain text: escape it where it is shown."""
    words = note_words(getattr(note, "code", None), getattr(note, "values", {}), language)
    return words if words is not None else str(note)


def value_name(column: str, value, language: str = "en"):
    """A code the app wrote into `column` as a word in `language` ("gold" -> "金卡"); anything else unchanged."""
    if column in WORDED_COLUMNS:
        return WORDED_COLUMNS[column](value, language)
    if column not in VALUE_COLUMNS or not isinstance(value, str):
        return value
    codes = VALUE_COLUMNS[column]
    if (codes is not None and value not in codes) or value not in VALUES:
        return value
    return VALUES[value][1] if language == "zh" else VALUES[value][0]


def column_name(column: str, language: str = "en") -> str | None:
    names = COLUMNS.get(column)
    return (names[1] if language == "zh" else names[0]) if names else None


def count(n: int, noun: str, language: str = "en") -> str:
    """A count inside a sentence: "1 row" / "7 rows" in English; in Chinese the number alone (the
    sentence carries the measure word)."""
    number = f"{n:,}"
    if language == "zh":
        return number
    return f"{number} {noun}" if n == 1 else f"{number} {noun}s"


def t(key: str, language: str = "en", **values) -> str:
    """The text for `key` in `language`, with {placeholders} filled in."""
    english, chinese = TEXT[key]
    text = chinese if language == "zh" else english
    return text.format(**values) if values else text
