"""Every label, help text and sentence of the app in English and Chinese (zh-CN).

The one door to the app's words: this file holds the labels and sentences, ui/words/ the longer
lists (import refusals and row problems, metric names and definitions), worded through the
functions here.
"""

from ui.words.fields import FIELD_NAMES
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
    "quick_range": ("Quick range", "快捷时间范围"),
    "last_n_months": ("Last {months} months", "近 {months} 个月"),
    "quick_range_help": ("Whole months up to {month}, the latest full month. Click again for the whole history.",
                         "截至最近一个完整月份（{month}）的整月。再次点击恢复全部历史。"),
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
    "upload_currency_held_help": ("This store holds amounts in {currency}, so only {currency} can be chosen. A file in "
                                  "another currency needs a store of its own: amounts are never converted.",
                                  "本数据仓库的金额币种是 {currency}，因此只能选择 {currency}。其他币种的文件需要单独的数据仓库："
                                  "金额不做换算。"),
    "upload_currency_help": ("Asked only when neither the file (a currency column, symbols in the amounts) nor its preset states the currency; the import waits for an answer (or 'not stated').",
                             "仅当文件（币种列、金额中的货币符号）和预设都未说明币种时询问；选择之前不会导入（也可选「未注明」）。"),
    "choose_currency": ("Choose…", "请选择…"),
    "currency_in_column": ("Currency of the amounts: {currency}, from the file's currency column.", "金额币种：{currency}（取自文件的币种列）。"),
    "currency_in_amounts": ("Currency of the amounts: {currency}, written in the amounts themselves.", "金额币种：{currency}（金额中已注明）。"),
    "accepted_not_valid": ("Kept but not counted as orders: {unpaid} unpaid, {cancelled} cancelled, {refunded} fully refunded.",
                           "已保存但不计入订单：未付款 {unpaid} 笔，已取消 {cancelled} 笔，全额退款 {refunded} 笔。"),
    "refunds_already_net": ("The paid amount in this file is already net of refunds (total = paid + refund), so refunds were not subtracted again.",
                            "该文件的实付金额已扣除退款（总金额 = 实付 + 退款），因此未再次扣减退款。"),
    "refunds_subtracted": ("Refunds were subtracted from the paid amount; fully refunded orders count as refunded.",
                           "已从实付金额中扣减退款；全额退款的订单计为已退款。"),
    "read_as_encoding": ("The file is not in UTF-8: it was read as {encoding}. If names look wrong, save it as CSV UTF-8 and upload it again.",
                         "该文件不是 UTF-8 编码，已按 {encoding} 读取。如名称显示异常，请另存为 CSV UTF-8 后重新上传。"),
    "currency_help": ("No upload stated the currency: choose the symbol amounts are shown with (they are not converted).",
                      "上传文件均未注明币种：可选择金额显示所用的货币符号（金额不做换算）。"),
    "currency_help_stated": ("The currency the uploaded files state; amounts are shown in it and never converted.",
                             "上传文件注明的币种；金额按此显示，不做换算。"),
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
    "partial_month_data_starts": ("{month} is only partly covered: the data starts on {first}.", "{month} 仅部分覆盖：数据始于 {first}。"),
    "partial_month_data_ends": ("{month} is only partly covered: the data ends on {last}.", "{month} 仅部分覆盖：数据截至 {last}。"),
    "mostly_guests": ("{guests} of the orders in {month} have no customer id (guests, cash): the customer figures "
                      "describe the customers who were identified, not every buyer.",
                      "{month} 有 {guests} 的订单没有客户 ID（游客、现金）：客户类指标只反映可识别的客户，而非全部买家。"),
    "previous_month_partial": ("The changes on the month before compare with {previous}, which the data covers only "
                               "from {first}.", "环比变化对比的是 {previous}，而数据从 {first} 才开始覆盖该月。"),
    "partial_month_data_between": ("{month} is only partly covered: the data runs from {first} to {last}.",
                                   "{month} 仅部分覆盖：数据从 {first} 到 {last}。"),
    "month_not_in_data": ("There are no orders in {asked} (the link asked for it); showing {shown}. The data covers {first} to {last}.",
                          "{asked} 没有订单（链接中指定了该月份）；现显示 {shown}。数据范围为 {first} 至 {last}。"),
    "no_orders_in_month": ("There are no orders in {month}.", "{month} 没有订单。"),
    "month_missing_between": ("There are no orders in {month}, though the data has orders in {before} and in {after}: "
                              "if its export was not uploaded, upload it on the Data page.",
                              "{month} 没有订单，但 {before} 和 {after} 都有订单：如果该月的导出文件尚未上传，请在“数据”页上传。"),
    "no_orders_previous_month": ("There are no orders in {previous}, so {month} has no change on the month before to show.",
                                 "{previous} 没有订单，因此 {month} 没有环比变化可显示。"),
    "filter_cuts_month": ("{month} is counted to {last} only (the date filter's end); its changes compare it with whole months.",
                          "{month} 仅统计至 {last}（日期筛选的结束日）；变化对比的是完整月份。"),
    "filter_starts_in_month": ("{month} is counted whole, from its first day: the date filter's start ({start}) chooses the first month shown.",
                               "{month} 按整月统计（自当月第一天起）：日期筛选的开始日（{start}）只决定从哪个月开始显示。"),
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
    "choose_cohorts_placeholder": ("Choose cohort months", "选择同期群月份"),
    "average": ("Average", "平均"),
    "cohort_size": ("Cohort size", "同期群人数"),
    "months_since_first": ("Months since first order", "首单后月数"),
    "acquisition_month": ("Acquisition month", "首单月份"),
    "small_cohorts": ("{count} cohorts have fewer than {size} customers (marked *): read them with care.",
                      "有 {count} 个同期群不足 {size} 人（标 *），解读需谨慎。"),
    "small_cohorts_sampled": ("{count} cohorts have fewer than {size} customers in the sample (marked *): their "
                              "estimates can be far off.",
                              "有 {count} 个同期群的样本不足 {size} 人（标 *），其估算值可能偏差较大。"),
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
    "due_title": ("Due for repurchase: {count}", "待复购客户：{count} 人"),
    "due_caption": ("Past their usual interval between orders but not lapsed; most valuable first.",
                    "已超过其常规复购间隔但尚未流失；按客户价值排序。"),
    "due_shown": ("The {shown} most valuable are listed here; the downloads hold all {count}.",
                  "此处列出价值最高的 {shown} 人；下载文件包含全部 {count} 人。"),
    "segment": ("Segment", "分群"),
    "share": ("Share", "占比"),
    "days": ("Days", "天数"),
    # strategy tests
    "strategy": ("Strategy tests", "策略实验"),
    "no_experiments": ("No experiment assignments yet. Upload an assignments file (columns `experiment`, `customer_id`, `variant`, `assigned_at`) on the Data page.",
                       "暂无实验分组。请在「数据」页上传分组文件（列名为 `experiment`、`customer_id`、`variant`、`assigned_at`）。"),
    "window": ("Window after assignment", "分组后观察窗口"),
    "window_days_label": ("Days after assignment", "分组后观察天数"),
    "filters_not_applied": ("The sidebar filters do not apply here: a test compares every assigned customer.",
                            "侧栏筛选不作用于本页：实验比较的是全部分组客户。"),
    "needs_customers": ("These orders have no customer id, so this page has nothing to show: it follows customers from "
                        "order to order. Upload an export with a customer column to see it.",
                        "这些订单没有客户编号，本页无内容可显示：本页按客户追踪其历次购买。上传含客户列的导出文件即可查看。"),
    "playbook_needs_customers": ("The playbook is about customers coming back, and these orders have no customer id. "
                                 "Upload an export with a customer column (or map one on the Data page).",
                                 "复购策略手册针对的是回头客，而这些订单没有客户编号。请上传含客户列的导出文件（或在“数据”页映射客户列）。"),
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
    "cuped_results": ("CUPED-adjusted lift", "CUPED 校正后的提升"),
    "cuped_note": ("The same comparison with each customer's orders in the {days} days before assignment taken into account: "
                   "a narrower interval when behaviour before the test predicts behaviour in it. AOV, a ratio per order, is not adjusted.",
                   "同一比较，计入每位客户分组前 {days} 天的订单：分组前行为能预测实验期行为时，置信区间更窄。"
                   "客单价是按订单的比值，不做校正。"),
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
    "predicted_clv_months": ("Predicted value, {months} months", "{months} 个月预测价值"),
    "at_risk": ("Customers at high churn risk", "高流失风险客户"),
    "expected_orders": ("Expected orders, next 12 months", "未来 12 个月预期订单"),
    "clv_distribution": ("Distribution of predicted value per customer, next {months} months", "客户预测价值分布（未来 {months} 个月）"),
    "clv_by": ("Mean predicted value by {dimension}, next {months} months", "按{dimension}的人均预测价值（未来 {months} 个月）"),
    "p_alive_title": ("P(alive) on {date} by number of repeat orders and days since last order", "{date} 存活概率：按复购次数与距上次购买天数"),
    "top_customers": ("Top customers by predicted value", "预测价值最高的客户"),
    "slipping_valuable_none": ("No valuable customer is below 50% P(alive): nobody to win back here yet.",
                               "没有存活概率低于 50% 的高价值客户：暂时无需挽回。"),
    "top_customers_none": ("No customer has a prediction.", "没有客户有预测值。"),
    "at_risk_valuable": ("Valuable customers slipping away (high value, P(alive) < 50%)", "正在流失的高价值客户（高价值且存活概率 < 50%）"),
    "model_details": ("Model parameters and holdout check", "模型参数与留出检验"),
    "holdout_sentence": ("Fitted up to {cutoff}, the model predicted {predicted:,.0f} repeat orders until {end}; {actual:,} happened ({error}).",
                         "以 {cutoff} 前数据拟合，模型预测至 {end} 的复购订单 {predicted:,.0f} 笔，实际 {actual:,} 笔（误差 {error}）。"),
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
    "model_became_bgnbd_common_p": ("{model} → one dropout probability", "{model} → 统一流失概率"),
    "model_became_mbgnbd_common_p": ("{model} → one dropout probability", "{model} → 统一流失概率"),
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
    "model_tied": ("{runner_up} did exactly as well on that check (the same limit of the same data).",
                   "{runner_up} 在该检验中表现完全相同（同一数据的同一极限）。"),
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
    "bgnbd_common_p_limit": ("Same dropout for everyone: limit used", "流失倾向无差异：采用极限"),
    "mbgnbd_common_p_limit": ("Same dropout for everyone: limit used", "流失倾向无差异：采用极限"),
    "col_parameter": ("Parameter", "参数"),
    "col_estimate": ("Estimate", "估计值"),
    "col_standard_error": ("Standard error", "标准误"),
    "fit_caption": ("Predictions refitted on all data up to {as_of}; model comparison took {seconds:.2f} s.",
                    "预测模型已用截至 {as_of} 的全部数据重新拟合；模型比较耗时 {seconds:.2f} 秒。"),
    # downloads
    "download_csv": ("CSV", "CSV"),
    "download_excel": ("Excel", "Excel"),
    # access: sign-in, roles, the Admin page (ui/auth.py, pages/admin.py)
    "sign_in_title": ("Sign in", "登录"),
    "sign_in_help": ("This dashboard holds customer data. Sign in with the name and password your admin gave you.",
                     "本看板包含客户数据。请使用管理员提供的用户名和密码登录。"),
    "user_name": ("Name", "用户名"),
    "password": ("Password", "密码"),
    "sign_in": ("Sign in", "登录"),
    "sign_in_failed": ("Wrong name or password.", "用户名或密码错误。"),
    "locked": ("Too many failed attempts for this name; try again in {minutes} minutes.",
               "该用户名登录失败次数过多，请 {minutes} 分钟后再试。"),
    "oidc_help": ("This dashboard holds customer data. Sign in with your company account.",
                  "本看板包含客户数据。请使用公司账号登录。"),
    "oidc_sign_in": ("Sign in with your company account", "使用公司账号登录"),
    "no_access": ("{name} has no access to this dashboard. Ask an admin to give you a role.",
                  "{name} 没有访问本看板的权限，请联系管理员分配角色。"),
    "sign_out": ("Sign out", "退出登录"),
    "signed_in_as": ("Signed in as **{name}** ({role})", "当前用户 **{name}**（{role}）"),
    "role_viewer": ("viewer", "查看者"),
    "role_analyst": ("analyst", "分析师"),
    "role_admin": ("admin", "管理员"),
    "refused_page": ("This page is for analysts and admins. Your role ({role}) can read the other pages.",
                     "此页面仅限分析师和管理员。您的角色（{role}）可以查看其他页面。"),
    "refused_admin": ("This page is for admins.", "此页面仅限管理员。"),
    "customer_list_note": ("Downloads of customer lists are for analysts.", "客户名单仅限分析师下载。"),
    "excel_too_long": ("Excel holds at most {rows} rows: download the CSV.", "Excel 最多容纳 {rows} 行：请下载 CSV。"),
    "admin": ("Admin", "管理"),
    "users": ("Users", "用户"),
    "users_file": ("Users file: `{path}`", "用户文件：`{path}`"),
    "add_user": ("Add a user", "添加用户"),
    "role": ("Role", "角色"),
    "password_again": ("Password again", "再次输入密码"),
    "save": ("Save", "保存"),
    "user_added": ("Saved {name} ({role}).", "已保存 {name}（{role}）。"),
    "remove_user": ("Remove user", "删除用户"),
    "user_removed": ("Removed {name}.", "已删除 {name}。"),
    "change_role": ("Change role", "修改角色"),
    "reset_password": ("Set a new password", "重设密码"),
    "oidc_users_help": ("Signed in through your identity provider: give e-mail addresses a role here.",
                        "通过身份提供商登录：在此为邮箱地址分配角色。"),
    "presets": ("Saved column mappings", "已保存的列映射"),
    "no_presets": ("No saved mappings yet.", "暂无已保存的映射。"),
    "delete": ("Delete", "删除"),
    "preset_deleted": ("Deleted mapping {name}.", "已删除映射 {name}。"),
    "preset_exists": ("A mapping named {name} exists; only an admin can replace it. Choose another name.",
                      "已存在名为 {name} 的映射，只有管理员可以替换。请换一个名称。"),
    "preset_reserved": ("{name} is the name of a built-in mapping, which cannot be replaced. Choose another name.",
                        "{name} 是内置映射的名称，不能被替换。请换一个名称。"),
    "activity": ("Activity log", "操作日志"),
    "no_activity": ("No changes yet.", "暂无变更。"),
    "pseudonymised": ("Customer ids, and e-mail addresses and phone numbers in any mapped column, are pseudonymised at "
                      "import (keyed hash); raw e-mails and phone numbers are not stored.",
                      "导入时客户 ID 以及任何已映射列中的邮箱和电话号码均做假名化处理（带密钥哈希），不会保存原始邮箱或手机号。"),
    "auth_off": ("Access control is off: anyone who can open this address is an admin. See docs/security.md to turn it on.",
                 "访问控制未开启：能打开此地址的任何人都是管理员。开启方法见 docs/security.md。"),
    # data page
    "upload_title": ("Upload an order export", "上传订单导出文件"),
    "upload_help": ("CSV, TXT or TSV (any delimiter, UTF-8 or GBK), Excel .xlsx or .xls, or Parquet; Shopify, "
                    "WooCommerce, Taobao/Tmall, Amazon, eBay, Etsy, Square, Wayfair, UCI, your own ERP or a till's log.",
                    "支持 CSV、TXT、TSV（任意分隔符，UTF-8 或 GBK）、Excel .xlsx 或 .xls、Parquet；Shopify、WooCommerce、"
                    "淘宝/天猫、亚马逊、eBay、Etsy、Square、Wayfair、UCI、自有 ERP 导出或收银流水。"),
    "upload_kind": ("This file holds", "文件内容"),
    "kind_orders": ("Orders", "订单"),
    "kind_assignments": ("Experiment assignments", "实验分组"),
    "build_path_append": ("appended to the stored orders", "已追加到已存订单"),
    "build_path_full": ("all tables rebuilt", "已重建全部数据表"),
    "preview": ("Preview: first rows", "预览：前几行"),
    "mapping": ("Column mapping", "字段映射"),
    "mapping_help": ("Detected automatically; change any field, then import.", "已自动识别，可修改后再导入。"),
    "preset_detected": ("Recognised format: {preset}", "识别到的格式：{preset}"),
    "mapping_incomplete": ("Not ready to import: no column is mapped to {fields}. Choose one above, or upload an export that has it.",
                           "尚不能导入：没有列映射到{fields}。请在上方选择，或上传包含该列的导出文件。"),
    "field_amount_or_parts": ("Amount paid (or Line amount, or Quantity and Unit price)", "实付金额（或行金额，或数量与单价）"),
    "not_mapped": ("(not in this file)", "（文件中没有）"),
    "each_row_an_order": ("No order number in this file: each row is one order",
                          "文件中没有订单号：每一行是一笔订单"),
    "each_row_an_order_help": ("For a till or vending-machine log. Each row gets an order id made from its values, "
                               "so uploading the same rows again replaces them instead of counting them twice.",
                               "适用于收银机或自动售货机的流水。每一行按其取值生成订单号，同样的行再次上传时会替换原有记录，"
                               "不会重复计算。"),
    "no_order_id_hint": (" A log without order numbers (a till, a vending machine)? Tick “No order number in this "
                         "file: each row is one order” above.",
                         " 没有订单号的流水（收银机、自动售货机）？请勾选上方的“文件中没有订单号：每一行是一笔订单”。"),
    "each_row_imported": ("Each row was imported as one order, with an order id made from its values.",
                          "每一行作为一笔订单导入，订单号由该行的取值生成。"),
    "estimate_notice": ("**Estimated** from a sample of 1 in {one_in} customers ({sampled} of them under these filters): "
                        "{repeat} placed a second order, give or take {margin} (95%). Counts and sums are rounded; smaller "
                        "groups (tiers, segments) vary more. The exact figures are being counted and replace these by "
                        "themselves when ready.",
                        "**估算值**：基于每 {one_in} 位客户抽取 1 位的样本（当前筛选下 {sampled} 位）。其中 {repeat} 下了第二单，"
                        "误差范围 ±{margin}（95% 置信）。人数与金额已取整；较小的分组（会员等级、分群）波动更大。"
                        "精确数字正在统计，完成后将自动替换。"),
    "estimate_notice_cohorts": ("**Estimated** from a sample of 1 in {one_in} customers ({sampled} of them under these "
                                "filters): in the smallest cohort not marked small ({fewest} customers sampled) a retention "
                                "rate is within {margin} (95%), closer in larger cohorts; revenue figures vary more. Sizes, "
                                "active customers and revenue are rounded. The exact figures are being counted and replace these by themselves when ready.",
                                "**估算值**：基于每 {one_in} 位客户抽取 1 位的样本（当前筛选下 {sampled} 位）。在未标为小样本的最小同期群"
                                "（抽样 {fewest} 位客户）中，留存率误差范围 ±{margin}（95% 置信），较大的同期群更精确；销售额类指标波动更大。"
                                "人数、活跃客户数与销售额已取整。精确数字正在统计，完成后将自动替换。"),
    "annual_frequency_counting": ("Annual frequency is still being counted under these filters (each customer's "
                                  "last 12 months); it appears here by itself.",
                                  "年均消费次数仍在按当前筛选统计（每位客户最近 12 个月的订单），算好后会自动显示在这里。"),
    "estimate_due": ("The list of customers due appears with the exact figures.", "待复购客户名单将随精确数字一同显示。"),
    "about": ("about {value}", "约 {value}"),
    "counting_customers": ("Counting each customer's orders under these filters…", "正在按当前筛选统计每位客户的订单…"),
    "status_words_title": ("Status words this file uses that the dashboard does not know",
                           "本文件中仪表盘不认识的订单状态"),
    "status_words_help": ("say what each means; one left unanswered counts as a sale (a valid order), with a warning "
                          "on each of its rows. Saved with the mapping below.",
                          "请说明每个状态的含义；未回答的按销售（有效订单）计算，并在其每一行给出警告。会随下方的映射一起保存。"),
    "status_word_unanswered": ("counts as a sale, with a warning", "按销售计算，并给出警告"),
    "status_words_more": ("{count} more status words, on fewer rows, are not asked here: an unknown one counts as a "
                          "sale with a warning. A preset file's status_words can name them (docs/importing.md).",
                          "另有 {count} 个行数较少的状态词未在此询问：未知的按销售计算并给出警告。预设文件的 "
                          "status_words 可以注明它们（见 docs/importing.md）。"),
    "status_word_box": ("{word} · {rows}", "{word} · {rows} 行"),  # rows: "1 row", "2 rows"; in Chinese the number
    "status_words_known": ("Status words read as: {words}.", "订单状态的读法：{words}。"),
    "status_meaning_valid": ("a sale (valid order)", "销售（有效订单）"),
    "status_meaning_cancelled": ("cancelled", "已取消"),
    "status_meaning_unpaid": ("never paid", "未付款"),
    "status_meaning_refunded": ("refunded", "已退款"),
    "currency_clash_in_rows": ("The rows shown are in {currency}, but the store holds {stored} orders: unless most of the "
                               "file is in {stored}, the import will be refused (a store holds one currency).",
                               "预览中的金额是 {currency}，而库中是 {stored} 订单：除非文件中大部分行是 {stored}，否则导入会被拒绝"
                               "（一个数据库只存一种币种）。"),
    "field_code_help": ("Field `{field}` of the data model: saved mappings (presets) and reports name it so.",
                        "数据模型字段 `{field}`：已保存的映射（预设）和报告中使用此名称。"),
    "import": ("Import", "导入"),
    "importing": ("Importing {file}…", "正在导入 {file}…"),
    # the import's phases (ingest.PROGRESS_STEPS codes)
    "interval": ("{low} to {high}", "{low} 至 {high}"),
    "progress_waiting": ("Waiting for another upload or removal to finish…", "正在等待其他上传或删除完成…"),
    "progress_reading": ("Reading the file…", "正在读取文件…"),
    "progress_checking": ("Checking values…", "正在检查数值…"),
    "progress_building_orders": ("Building orders…", "正在生成订单…"),
    "progress_accounting": ("Accounting for every record…", "正在核对每条记录…"),
    "progress_writing": ("Writing the batch…", "正在写入批次…"),
    "progress_rebuilding": ("Rebuilding the derived tables…", "正在重建汇总表…"),
    "progress_summaries": ("Imported. Building the summaries that move with the last date (due list, RFM, "
                           "Customer value, Playbook, test planner)…",
                           "已导入。正在生成随最新日期变化的汇总（待复购名单、RFM、客户价值、策略手册、实验规划）…"),
    "progress_done": ("Done", "完成"),
    "late_tables_building": ("Every page already reads the new orders. The summaries that move with the last date "
                             "(due list, RFM segments, Customer value, Playbook, test planner) are still being "
                             "built: until they are, those views count from the orders and take longer. "
                             "The next upload waits for them.",
                             "所有页面已读取新订单。随最新日期变化的汇总（待复购名单、RFM 分群、客户价值、策略手册、"
                             "实验规划）仍在生成：完成前这些视图直接按订单计算，会慢一些。下一次上传会等待其完成。"),
    "uploaded_before": ("This file was imported before ({file}, {when} UTC). Importing it again replaces those orders, "
                        "counts nothing twice, and lists the file a second time.",
                        "此文件之前已导入过（{file}，{when} UTC）。再次导入会替换这些订单，不会重复计算，并在列表中再列出一次。"),
    "replacing_earlier": ("Already stored from earlier uploads: {orders} of this file. Each is now counted once, as this "
                          "file has it.",
                          "本文件中有 {orders} 笔订单已在之前的上传中存入：每笔只计一次，以本文件为准。"),
    "replaced_by_newer": ("{orders} replaced by newer uploads", "{orders} 笔已被较新的上传替换"),
    # warnings of an assignments upload or a derived experiment (their codes in "warning_codes")
    "warning_no_control_arm": ("Experiment {experiment} has no control arm (variants: {variants}).",
                               "实验 {experiment} 没有对照组（分组：{variants}）。"),
    "warning_customers_without_orders": ("{count} assigned customers have no valid order in the store.",
                                         "{count} 位已分组的客户在数据中没有有效订单。"),
    "warning_several_values_used": ("{count} customers used more than one of the values in the period; each is counted in the arm of the first value used.",
                                    "{count} 位客户在该期间使用了多个所选值；每位客户计入其首次使用的值所在的组。"),
    "warning_control_used_before": ("{count} control customers had used one of the values before the period.",
                                    "{count} 位对照组客户在该期间之前已使用过所选值。"),
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
    "skip_report_footer": ("notes below the last order", "最后一笔订单下方的说明行"),
    "other_sheets_not_read": ("Only the workbook's first sheet was read. Not read: {sheets}. Save each as a file of its own "
                              "(CSV, or a workbook of one sheet) and upload it too.",
                              "只读取了工作簿的第一个工作表。未读取：{sheets}。请把每个工作表另存为单独的文件（CSV 或只有一个工作表的工作簿）再上传。"),
    "sheet_rows": ("sheet “{sheet}” ({rows})", "工作表“{sheet}”（{rows}）"),
    "skip_other_sheet": ("rows on the workbook's other sheets, which are not read: save each sheet as a file of its own "
                         "and upload it too", "工作簿其他工作表上的行（只读取第一个工作表）：请把每个工作表另存为单独的文件再上传"),
    "issues": ("Validation report", "校验报告"),
    "rejected_rows": ("Rejected rows", "被拒绝的行"),
    "save_preset": ("Save this mapping as a preset", "将此映射保存为预设"),
    "preset_name": ("Preset name", "预设名称"),
    "saved_preset": ("Saved preset {name}.", "已保存预设 {name}。"),
    "preset_saved_from": ("saved from {file}", "保存自 {file}"),
    "batches": ("Stored batches", "已存储的批次"),
    "no_batches": ("Nothing stored yet: each file imported above is listed here.", "尚无已存储的数据：上方导入的每个文件都会列在这里。"),
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
    "derive_no_values": ("{column} has no value on valid orders in this period.", "该期间有效订单的{column}均为空。"),
    "derive_name": ("Experiment name", "实验名称"),
    "derive_strategy": ("Strategy tag", "策略标签"),
    "derive_no_strategy": ("(none)", "（无）"),
    "derive_cost": ("Cost per customer of a variant", "实验组单客成本"),
    "derive_button": ("Derive experiment", "生成实验"),
    "derived": ("Derived {experiment} from orders.{column}: {arms}. Observational: read its lift on the Strategy tests page as an association, not proof of cause.",
                "已从 orders.{column} 生成实验 {experiment}：{arms}。观察性比较：在「策略实验」页查看时，提升仅表示相关，不能证明因果。"),
    "confirm_remove": ("Remove {file} from the store? Its orders disappear from every page; an order that an earlier "
                       "upload also holds is read from that upload again.",
                       "确定从数据中删除 {file}？其订单将从所有页面消失；较早的上传中也有的订单将重新按那次上传计算。"),
    "confirm_remove_assignments": ("Remove {file} from the store? Its experiment assignments disappear from the "
                                   "Strategy tests page.",
                                   "确定从数据中删除 {file}？其实验分组将从「策略实验」页消失。"),
    # launch evaluation without a control group (pages/launch.py, metrics/launch.py)
    "launch": ("Did our launch work?", "上线效果评估"),
    "launch_intro": ("For a change launched for everyone, without a control group: the customers it was for (those with the "
                     "chosen value on an order before the launch date) are compared with the other customers who bought in "
                     "the year before it, in the window before and the window after the launch. The difference of the two "
                     "changes (difference-in-differences) takes out the season and everything else that changed for everyone.",
                     "适用于面向全体上线、没有对照组的改动：把目标客户（上线日前有订单带所选取值的客户）与上线前一年内购买过的"
                     "其他客户比较，对比上线前后两个窗口。两组变化之差（双重差分）剔除了季节因素以及对所有人都有影响的其他变化。"),
    "launch_date": ("Launch date", "上线日期"),
    "launch_column": ("Launched for customers with this", "目标客户字段"),
    "launch_values": ("Values", "取值"),
    "launch_window": ("Days before and after", "上线前后天数"),
    "launch_matched": ("Matched comparison", "匹配对照组"),
    "launch_matched_help": ("Compare with customers like the launched group in the year before: same bands of order count, "
                            "spend, days since the last order and days since the first.",
                            "只与上线前一年中相似的客户比较：订单数、消费额、距上次购买天数与客龄处于相同区间。"),
    "launch_filters_not_applied": ("The sidebar filters do not apply here: the comparison uses every customer who bought in the year before the launch.",
                                   "侧栏筛选不作用于本页：比较对象是上线前一年内购买过的全部客户。"),
    "launch_choose_values": ("Choose the value or values that define the customers the launch was for.",
                             "请选择定义目标客户的取值。"),
    "launch_col_member_tier": ("Member tier", "会员等级"),
    "launch_col_channel": ("Channel", "渠道"),
    "launch_col_region": ("Region", "地区"),
    "launch_col_store": ("Store", "门店"),
    "launch_col_category": ("Category bought", "购买品类"),
    "launch_col_coupon_code": ("Coupon used", "使用的优惠券"),
    "launch_unit": ("orders per customer per 30 days", "每客每 30 天订单数"),
    "launch_naive": ("Naive change: launched group, after − before", "简单前后对比：目标客户上线后 − 上线前"),
    "launch_did": ("Difference-in-differences: launched group's change − others' change",
                   "双重差分：目标客户变化 − 其他客户变化"),
    "launch_naive_help": ("What 'orders went up after the launch' measures: it includes the season and anything else that changed for everyone.",
                          "即「上线后订单增加了」所衡量的变化，其中包含季节因素及其他对所有人都有影响的变化。"),
    "launch_did_help": ("The launched group's change minus the other customers' change, with standard errors clustered by customer.",
                        "目标客户的变化减去其他客户的变化，标准误按客户聚类。"),
    "launch_ci": ("95% CI {low} to {high}", "95% 置信区间 {low} 至 {high}"),
    "launch_ci_p": ("95% CI {low} to {high} · p {p}", "95% 置信区间 {low} 至 {high} · p {p}"),
    "launch_groups": ("Orders per customer per 30 days: launched group ({treated}) {t_pre} before, {t_post} after; "
                      "other customers ({control}) {c_pre} before, {c_post} after.",
                      "每客每 30 天订单数：目标客户（{treated} 人）上线前 {t_pre}，上线后 {t_post}；"
                      "其他客户（{control} 人）上线前 {c_pre}，上线后 {c_post}。"),
    "launch_common": ("Of the naive change of {naive}, {common} happened to the other customers too (the season and anything "
                      "else common to both groups); the remaining {did} is the estimate of what the launch did.",
                      "简单对比的变化 {naive} 中，有 {common} 在其他客户身上同样发生（季节及两组共有的其他因素）；"
                      "剩下的 {did} 才是对上线效果的估计。"),
    "launch_effect_up": ("The launch is followed by {did} orders per customer per 30 days more than the comparison explains "
                         "(95% CI {low} to {high}).",
                         "上线后，目标客户每客每 30 天订单数比对照所能解释的多 {did}（95% 置信区间 {low} 至 {high}）。"),
    "launch_effect_down": ("The launch is followed by {did} orders per customer per 30 days fewer than the comparison explains "
                           "(95% CI {low} to {high}).",
                           "上线后，目标客户每客每 30 天订单数比对照所能解释的少 {did}（95% 置信区间 {low} 至 {high}）。"),
    "launch_no_effect": ("No effect detected: the difference-in-differences, {did}, is within chance (95% CI {low} to {high} includes 0).",
                         "未发现效果：双重差分 {did} 在随机波动范围内（95% 置信区间 {low} 至 {high} 包含 0）。"),
    "launch_chart_title": ("Change in orders per customer per 30 days, {days} days before vs after {date} (95% CI)",
                           "每客每 30 天订单数的变化：{date} 前后各 {days} 天（95% 置信区间）"),
    "launch_bar_naive": ("Naive change", "简单前后对比"),
    "launch_bar_did": ("Difference-in-differences", "双重差分"),
    "launch_bar_placebo": ("Placebo at {date}", "安慰剂（{date}）"),
    "launch_measures": ("Every measure: naive change and difference-in-differences", "全部指标：简单对比与双重差分"),
    "launch_metric_orders_per_30d": ("Orders per customer per 30 days", "每客每 30 天订单数"),
    "launch_metric_repurchase_share": ("Share who repurchased in the window", "窗口内复购客户占比"),
    "launch_metric_revenue_per_customer": ("Revenue per customer per 30 days", "每客每 30 天销售额"),
    "launch_checks": ("Can we trust it? Checks of the assumption", "结果可信吗？假设检验"),
    "launch_assumption": ("The method assumes parallel trends: without the launch, the launched group's orders would have "
                          "changed like the other customers'. That cannot be proven; it can only be checked before the launch.",
                          "该方法假设平行趋势：若没有上线，目标客户的订单变化会与其他客户相同。这一点无法证明，只能用上线前的数据检验。"),
    "launch_pre_trend_ok": ("Before the launch the two groups moved together: pre-trend check over {windows} earlier windows, p {p}.",
                            "上线前两组走势一致：前 {windows} 个窗口的平行趋势检验 p {p}。"),
    "launch_pre_trend_doubt": ("Before the launch the two groups were already moving apart (pre-trend check, p {p}): parallel "
                               "trends is doubtful, and the estimate may mix that drift with the launch's effect.",
                               "上线前两组走势已出现分化（平行趋势检验 p {p}）：平行趋势假设存疑，估计值可能混入了这一趋势差异。"),
    "launch_pre_trend_unavailable": ("Not enough history to check the trends before the launch (it needs two more windows of orders).",
                                     "上线前的历史数据不足，无法检验平行趋势（还需要两个窗口的订单）。"),
    "launch_placebo_ok": ("Placebo: the same comparison at {date}, when nothing was launched, gives {estimate} (p {p}): no effect where there should be none.",
                          "安慰剂检验：在没有上线任何东西的 {date} 做同样的比较，结果为 {estimate}（p {p}）：在不应有效果的地方没有效果。"),
    "launch_placebo_doubt": ("Placebo: the same comparison at {date}, when nothing was launched, already gives {estimate} "
                             "(p {p}): something other than the launch separates the groups, so read the estimate with doubt.",
                             "安慰剂检验：在没有上线任何东西的 {date} 做同样的比较，已得到 {estimate}（p {p}）：两组差异另有原因，估计值需谨慎看待。"),
    "launch_placebo_unavailable": ("Not enough history for the placebo check (it needs two windows of orders before the launch).",
                                   "历史数据不足，无法做安慰剂检验（需要上线前两个窗口的订单）。"),
    "launch_note_post_window_truncated": ("The data end {days} days after the launch: the window after it is shorter than {window} days.",
                                          "数据截至上线后第 {days} 天：上线后的窗口不足 {window} 天。"),
    "launch_note_history_shorter_than_year": ("The data start less than a year before the launch: the customers compared are those who bought since the data start.",
                                              "数据起点距上线不足一年：比较对象为数据起点以来购买过的客户。"),
    "launch_note_some_values_not_seen": ("Not on any order before the launch, so not used: {values}.",
                                         "上线前没有任何订单带有以下取值，因此未使用：{values}。"),
    "launch_matching": ("Matched comparison: {matched} launched-group customers compared with {controls} similar others.",
                        "匹配对照：{matched} 位目标客户与 {controls} 位相似客户比较。"),
    "launch_note_matched_dropped_treated": ("{unmatched} launched-group customers had no similar customer to compare with and are left out.",
                                            "有 {unmatched} 位目标客户找不到相似的对照客户，已排除。"),
    "launch_refused_unknown_column": ("{column} is not a column a launch can be defined by.", "{column} 不能用于定义上线对象。"),
    "launch_refused_no_values": ("Choose at least one value.", "请至少选择一个取值。"),
    "launch_refused_no_data": ("The store has no valid orders.", "数据中没有有效订单。"),
    "launch_refused_bad_window": ("The window must be 7 to 365 days.", "窗口须为 7 到 365 天。"),
    "launch_refused_date_outside_data": ("{launched_at} is outside the data: the orders run from {first} to {last}.",
                                         "{launched_at} 不在数据范围内：订单日期为 {first} 至 {last}。"),
    "launch_refused_no_pre_window": ("{launched_at} leaves less than {window} days of orders before it (the orders start on {first}): choose a later date or a shorter window.",
                                     "{launched_at} 之前的订单不足 {window} 天（订单始于 {first}）：请选择更晚的日期或更短的窗口。"),
    "launch_refused_values_not_seen": ("No order before {launched_at} has {values}: nobody was in the launched group.",
                                       "{launched_at} 之前没有订单带有 {values}：目标客户为空。"),
    "launch_refused_too_few_customers": ("Too few customers to compare: {treated} in the launched group and {control} others (at least {minimum} each are needed).",
                                         "可比较的客户太少：目标客户 {treated} 人，其他客户 {control} 人（每组至少需要 {minimum} 人）。"),
    "launch_save_title": ("Save this evaluation for the Playbook", "保存此评估（供策略手册使用）"),
    "launch_strategy": ("Strategy it evaluates", "对应策略"),
    "launch_save": ("Save evaluation", "保存评估"),
    "launch_saved": ("Saved: {strategy}, launch of {date}.", "已保存：{strategy}，{date} 上线。"),
    "launch_save_not_allowed": ("Analysts and admins can save evaluations.", "分析师和管理员可以保存评估。"),
    "launch_saved_title": ("Saved evaluations", "已保存的评估"),
    "launch_none_saved": ("No evaluation saved yet.", "暂无已保存的评估。"),
    "yes": ("yes", "是"),
    "no": ("no", "否"),
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
    "ci": ("95% CI", "95% 置信区间"),
    "arm_sizes": ("Customers per arm", "人数（对照组 / 实验组）"),
    "cuped_variance_reduction": ("Variance removed", "方差降低"),
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
    # launch evaluations
    "measure": ("Measure", "指标"),
    "naive": ("Naive change", "简单对比"),
    "naive_low": ("Naive CI low", "简单对比置信下限"),
    "naive_high": ("Naive CI high", "简单对比置信上限"),
    "did": ("Difference-in-differences", "双重差分"),
    "did_low": ("DiD CI low", "双重差分置信下限"),
    "did_high": ("DiD CI high", "双重差分置信上限"),
    "launched_at": ("Launch date", "上线日期"),
    "treated_column": ("Launched for", "目标字段"),
    "treated_values": ("Values", "取值"),
    "window_days": ("Window (days)", "窗口（天）"),
    "matched_comparison": ("Matched", "匹配对照"),
    "saved_at": ("Saved", "保存时间"),
    "saved_by": ("Saved by", "保存人"),
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
    "none": ("non-member", "非会员"), "silver": ("silver", "银卡"), "gold": ("gold", "金卡"), "diamond": ("diamond", "钻石"),
    "import": ("import", "导入"), "remove": ("remove", "移除"), "rebuild": ("rebuild", "重建"),
    "save_preset": ("save preset", "保存预设"),
    "save_launch": ("save launch evaluation", "保存上线评估"),
    "delete_preset": ("delete preset", "删除预设"), "download_customer_list": ("download customer list", "下载客户名单"),
    "set_user": ("set user", "设置用户"), "remove_user": ("remove user", "删除用户"),
    "sign_in_failed": ("sign-in failed", "登录失败"), "sign_in_refused_locked": ("sign-in refused (locked)", "登录被拒（已锁定）"),
    "locked_out": ("locked out", "已锁定"), "app": ("app", "网页"), "cli": ("command line", "命令行"),
    "orders": ("orders", "订单"), "assignments": ("assignments", "实验分组"), "ok": ("ok", "正常"),
    "high": ("high", "高"), "medium": ("medium", "中"), "low": ("low", "低"),
    "rejected": ("rejected", "拒绝"), "warning": ("warning", "警告"), "skipped": ("skipped", "跳过"),
}


# the built-in presets' descriptions in Chinese (ingest/presets/*.json hold the English); saved presets keep theirs
PRESET_LABELS_ZH = {
    "amazon_seller": "亚马逊卖家中心订单报告（每行一个订单商品；Amount 是该商品的金额）",
    "ebay": "eBay 订单报告（Seller Hub > Orders > Download report；Selling Manager 的销售记录同样适用）",
    "etsy": "Etsy 已售订单（Shop Manager > Settings > Options > Download Data > Orders）",
    "shopify": "Shopify 订单导出（每行一个商品；订单字段在第一行）",
    "square": "Square 商品销售导出（每行一个商品；退款是单独一行，带原销售的 Payment ID）",
    "taobao": "淘宝 / 天猫订单报表",
    "uci_online_retail": "UCI Online Retail（I 与 II）：每行一张发票的一个商品；以 C 开头的发票是取消",
    "woocommerce": "WooCommerce Analytics > Orders 的 CSV 下载",
    "woocommerce_plugin": "WooCommerce「Order Export & Import」插件导出的 CSV（order_number、order_total……）",
}


def preset_label(name: str, label: str, language: str = "en") -> str:
    """A preset's description in `language`: a built-in one's Chinese words, else its own label (or name)."""
    return (PRESET_LABELS_ZH.get(name) if language == "zh" else None) or label or name


def field_label(field: str, language: str = "en") -> str:
    """An order field's mapping-box label: its name ("order_ts" -> "Order time" / "下单时间")."""
    return _pick(FIELD_NAMES[field], language) if field in FIELD_NAMES else field


# the segment the metrics give orders without a channel, region or category (store.models.kpis.NOT_SET)
NOT_SET_CODE = "(not set)"
# the columns whose values are such codes (a channel named "app" elsewhere stays "app")
VALUE_COLUMNS = {"member_tier": ("none", "silver", "gold", "diamond"), "segment": ("none", "silver", "gold", "diamond"),
                 "action": None, "via": ("app", "cli"), "kind": ("orders", "assignments"), "status": ("ok",),
                 "risk_band": ("high", "medium", "low"), "severity": ("rejected", "warning", "skipped")}
# columns of the validation report whose English sentences or codes are worded by a function
WORDED_COLUMNS = {"reason": issue_reason, "reasons": issue_reason, "code": issue_code,
                  "field": lambda field, language: field_label(field, language) if isinstance(field, str) else field}


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
    """A segment value as words: 'gold' -> 'gold members' / '金卡会员'; NOT_SET_CODE -> '（未填写）'; other values as they are."""
    if value == NOT_SET_CODE:
        return t("not_set", language)
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
    if value == NOT_SET_CODE and column in ("segment", "channel", "region", "category"):
        return t("not_set", language)
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


# ---- the Playbook page (metrics.playbook): its own block, merged into TEXT ------------------------
PLAYBOOK_TEXT: dict[str, tuple[str, str]] = {
    "playbook": ("Playbook", "复购策略手册"),
    "playbook_intro": ("The seven strategies of the purchase-frequency guide, each beside what this shop's own data says, how strong that evidence is, and what to do next. Sidebar filters are not applied here.",
                       "复购提升指南中的七大策略，每一条都对照本店自己的数据：数据怎么说、证据有多强、下一步做什么。本页不应用侧栏筛选。"),
    "pb_strategies_title": ("The seven strategies", "七大策略"),
    "pb_strategy": ("Strategy", "策略"),
    "pb_claim": ("The article claims", "文章的说法"),
    "pb_shop": ("This shop's data", "本店数据"),
    "pb_evidence": ("Evidence", "证据强度"),
    "pb_next": ("Next step", "下一步"),
    # the article's claims, with its figures
    "claim_points_tiers": ("Points schemes raise repurchase by about {points_repurchase_lift}; members of a tiered programme buy about {member_frequency_multiple}× as often as non-members (Starbucks).",
                           "积分制度可将复购率提升约 {points_repurchase_lift}；分级会员的购买频次约为非会员的 {member_frequency_multiple} 倍（星巴克）。"),
    "claim_personalised_offers": ("Personalised recommendations convert {conversion_multiple_low}–{conversion_multiple_high}× better.",
                                  "个性化推荐的转化率高出 {conversion_multiple_low}–{conversion_multiple_high} 倍。"),
    "claim_new_products": ("Shops that launch new products regularly retain about {retention_lift} more customers.",
                           "定期上新的店铺客户留存率高出约 {retention_lift}。"),
    "claim_service_followup": ("Good service raises repurchase intent {intent_multiple}×.", "优质服务可使复购意愿提高 {intent_multiple} 倍。"),
    "claim_community": ("Community members buy about {frequency_lift} more often.", "社群会员的购买频次高出约 {frequency_lift}。"),
    "claim_bundles": ("Cross-category marketing raises repurchase by about {repurchase_lift}.", "跨品类营销可将复购率提升约 {repurchase_lift}。"),
    "claim_subscription": ("Periodic delivery for high-frequency categories; members with personalisation reach {member_personalised_orders_per_year}+ purchases a year.",
                           "高频品类采用周期购（定期配送）；会员加个性化可达每年 {member_personalised_orders_per_year} 次以上购买。"),
    # evidence levels
    "evidence_randomised": ("Randomised test", "随机对照实验"),
    "evidence_before_after_with_comparison": ("Before/after with a comparison group", "有对照组的前后对比"),
    "evidence_descriptive": ("Descriptive only (association, not effect)", "仅描述性（相关，非因果）"),
    "evidence_none": ("None yet", "暂无"),
    # what this shop's data says
    "shop_randomised": ("Test {experiment} ({variant}): repurchase within {days} days {lift} vs control (95% CI {low} to {high}, Holm p {p}): {verdict}.",
                        "实验 {experiment}（{variant}）：{days} 天内复购率较对照组 {lift}（95% 置信区间 {low} 至 {high}，Holm p {p}）：{verdict}。"),
    "shop_observational": ("Observational comparison {experiment} ({variant}): repurchase within {days} days {lift} (Holm p {p}); customers chose it themselves, an association, not an effect.",
                           "观察性比较 {experiment}（{variant}）：{days} 天内复购率 {lift}（Holm p {p}）；是否参与由客户自己选择，只是相关，非因果。"),
    "shop_launch": ("Launch of {date}: {estimate} orders per customer per 30 days against comparison customers (difference-in-differences, 95% CI {low} to {high}, p {p}): {verdict}.",
                    "{date} 上线：相对对照客户，每位客户每 30 天订单数变化 {estimate}（双重差分，95% 置信区间 {low} 至 {high}，p {p}）：{verdict}。"),
    "shop_launch_doubtful": (" Before the launch the two groups already moved differently (pre-trend p {pre}), so the parallel-trends assumption is in doubt.",
                             "上线前两组的走势已不同（事前趋势 p {pre}），平行趋势假设存疑。"),
    "shop_member_frequency_multiple": ("Members buy {value}× as often as non-members over the last 12 months (association, not effect).",
                                       "近 12 个月会员的购买频次是非会员的 {value} 倍（相关，非因果）。"),
    "shop_cross_category_frequency_multiple": ("Among customers with 2+ orders, those who bought 2+ categories ordered {value}× as often as those who stayed with one ({customers}; association, not effect: more orders also give more chances to try a category).",
                                               "在下单 2 次及以上的客户中，购买过 2 个及以上品类的客户订单数是只买一个品类客户的 {value} 倍（{customers} 位客户；相关，非因果：订单越多，尝试新品类的机会也越多）。"),
    "shop_community_frequency_multiple": ("Customers who ordered through a community channel bought {value}× as often over the last 12 months as the others ({customers}; association, not effect).",
                                          "通过社群渠道下单的客户近 12 个月购买频次是其他客户的 {value} 倍（{customers} 位客户；相关，非因果）。"),
    "shop_regular_buyer_share": ("{value} of customers with 3+ orders buy at regular intervals, typically every {days} days ({customers}): a market for periodic delivery (descriptive).",
                                 "下单 3 次及以上的客户中有 {value} 按固定间隔购买，通常每 {days} 天一次（{customers} 位客户）：周期购的潜在客群（描述性）。"),
    "shop_none": ("No test, launch evaluation or usable data on this strategy yet.", "该策略暂无实验、上线评估或可用数据。"),
    "verdict_worked": ("it worked", "有效"),
    "verdict_no_effect": ("no measurable effect", "无可测效果"),
    "verdict_harmed": ("it did harm", "产生负面效果"),
    "verdict_doubtful": ("doubtful", "存疑"),
    # next steps
    "next_roll_out": ("Roll it out to everyone eligible, keeping a small random holdout to watch the effect.",
                      "推广到所有符合条件的客户，同时保留一小部分随机对照组持续观察效果。"),
    "next_stop": ("Stop it, or change it fundamentally before trying again.", "停止该策略，或彻底调整后再试。"),
    "next_change_offer": ("No measurable effect: change the offer, or run a larger or longer test if the interval is wide.",
                          "无可测效果：调整优惠方案；若置信区间较宽，可扩大样本或延长实验。"),
    "next_review_tests": ("The tests disagree: compare their offers and audiences before deciding.", "各实验结论不一致：先比较其优惠内容与人群再做决定。"),
    "next_confirm_with_test": ("Looks effective: keep it, and confirm with a randomised holdout.", "看起来有效：继续执行，并用随机对照组加以确认。"),
    "next_trend_doubtful": ("The comparison is doubtful: run a randomised test before relying on it.", "对比结果存疑：先做随机对照实验再作依据。"),
    "next_rethink": ("No clear effect since the launch: rethink the offer or who gets it.", "上线后无明显效果：重新考虑优惠内容或目标人群。"),
    "next_run_test": ("Only an association so far: run a randomised test (Strategy tests page, planner) to learn the effect.",
                      "目前只是相关：做一次随机对照实验（「策略实验」页的样本量规划）来确认效果。"),
    "next_start_test": ("Start with a randomised test on part of the customers, tagged with this strategy.", "先对部分客户做随机对照实验，并标注该策略标签。"),
    "next_tag_community_channel": ("Record community orders (a channel value such as 社群 or community), or tag a community test.",
                                   "记录社群订单（渠道值如「社群」），或为社群实验打上策略标签。"),
    "next_record_categories": ("Export the category of each order (or order lines) to read cross-category buying.", "导出每笔订单（或订单明细）的品类，才能分析跨品类购买。"),
    # who to act on next
    "act_title": ("Who to act on next", "下一步该联系谁"),
    "act_caption": ("Each list downloads ready for a CRM import: the columns `customer_id`, `list` and `reason_code` stay the same in every language; `reason` is in the page's language. Counted to the data's last day ({date}).",
                    "每份名单下载后可直接导入客户管理系统：`customer_id`、`list`、`reason_code` 列在各语言下保持不变，`reason` 列为本页语言。按数据最后一天（{date}）计算。"),
    "list_count": ("{count}", "{count} 位客户"),
    "list_trigger_30d": ("30-day trigger list", "30 天触发名单"),
    "list_trigger_30d_help": ("Customers whose last order was about their usual interval ago, or about 30 days ago (within 3 days): send the triggered offer now.",
                              "距上次购买约等于其平常购买间隔、或约 30 天（前后 3 天内）的客户：现在发送触发式优惠。"),
    "list_graded_second": ("Graded offer: gift for the second order", "阶梯优惠：第二单赠礼"),
    "list_graded_second_help": ("One-order customers now in the window in which the middle half of second orders come.",
                                "只下过一单、目前正处在第二单最常发生时间段（中间一半）内的客户。"),
    "list_graded_vip": ("Graded offer: VIP from the third order", "阶梯优惠：第三单起享 VIP"),
    "list_graded_vip_help": ("Two-order customers who have not lapsed: offer VIP status with the third order.",
                             "下过两单且尚未流失的客户：第三单即可升级 VIP。"),
    "list_lapsing_high_value": ("Lapsing high-value customers", "流失中的高价值客户"),
    "list_lapsing_high_value_help": ("Top 20% by value (customer-value model) whose chance of still being active has fallen below 50%.",
                                     "按客户价值模型位列前 20%、但仍活跃概率已降到 50% 以下的客户。"),
    "list_cross_category": ("Cross-category candidates", "跨品类推荐对象"),
    "list_cross_category_help": ("Active customers who bought one category; look-alikes who started with the same category most often bought the suggested one next.",
                                 "仅购买过一个品类的活跃客户；以相同品类起步的相似客户最常接着购买推荐品类。"),
    "list_subscription": ("Subscription offer: regular buyers", "周期购邀约：规律购买客户"),
    "list_subscription_help": ("Customers who bought a high-frequency category 3+ times at regular intervals (at most 90 days apart) and are not overdue.",
                               "在高频品类中按规律间隔（不超过 90 天）购买 3 次及以上且未逾期的客户。"),
    "list_empty": ("Nobody is on this list today.", "今天该名单为空。"),
    "list_shown": ("The {shown} most valuable are listed here; the downloads hold all {count}.",
                   "此处列出价值最高的 {shown} 位；下载文件包含全部 {count} 位。"),
    "lapsing_unavailable": ("The customer-value model could not be fitted on this data ({reason}), so there is no lapsing high-value list.",
                            "客户价值模型无法在该数据上拟合（{reason}），因此无法给出流失中的高价值客户名单。"),
    "reason_usual_interval": ("Last order {days} days ago, about their usual interval of {interval} days.", "上次购买在 {days} 天前，约等于其平常间隔 {interval} 天。"),
    "reason_thirty_days": ("Last order {days} days ago: the 30-day trigger.", "上次购买在 {days} 天前：30 天触发。"),
    "reason_second_order_window": ("One order, {days} days ago; second orders usually come {low}–{high} days after the first.",
                                   "仅一单，{days} 天前；第二单通常在首单后 {low}–{high} 天内发生。"),
    "reason_two_orders": ("Two orders, the last {days} days ago: the third makes them VIP.", "已下两单，最近一次在 {days} 天前：第三单即成为 VIP。"),
    "reason_high_value_falling_p_alive": ("Total value {value}, but the chance they are still active has fallen to {p_alive} ({days} days since the last order).",
                                          "总价值 {value}，但仍活跃的概率已降至 {p_alive}（距上次购买 {days} 天）。"),
    "reason_lookalikes_buy_second": ("Buys only {category}; {share} of customers who started with {category} and tried another bought {suggested} next.",
                                     "只买 {category}；以 {category} 起步并尝试其他品类的客户中，有 {share} 接着购买了 {suggested}。"),
    "reason_regular_high_frequency": ("Bought {category} {count} times, about every {interval} days.", "购买 {category} {count} 次，约每 {interval} 天一次。"),
    # cross-category evidence
    "cross_title": ("Cross-category evidence", "跨品类证据"),
    "cross_by_count_title": ("Repurchase and orders by number of categories bought", "按购买品类数看复购与订单数"),
    "cross_by_count_caption": ("Descriptive: customers with more orders have more chances to buy more categories, so this is an association, not an effect.",
                               "描述性：订单越多的客户购买更多品类的机会也越多，因此这只是相关，非因果。"),
    "cross_second_title": ("Which category comes second after each first category", "每个首购品类之后最常购买的第二个品类"),
    "cross_second_chart": ("Share of customers who moved on, by their most common second category", "转向其他品类的客户中，最常见第二品类的占比"),
    "cross_no_categories": ("The orders carry no category, so cross-category buying cannot be read.", "订单没有品类信息，无法分析跨品类购买。"),
    "col_categories": ("Categories bought", "购买品类数"),
    "col_repeat_share": ("Share with 2+ orders", "下单 2 次及以上占比"),
    "col_orders_per_customer": ("Orders per customer", "人均订单数"),
    "col_first_category": ("First category", "首购品类"),
    "col_moved_customers": ("Later bought another category", "之后购买其他品类"),
    "col_second_category": ("Most common second category", "最常见第二品类"),
    "col_second_customers": ("Customers who took it", "购买该品类客户数"),
    "col_second_share": ("Share of those who moved on", "占转向客户比例"),
    "col_list": ("List", "名单"),
    "col_reason_code": ("Reason code", "原因代码"),
    "col_reason": ("Reason", "原因"),
    "col_orders": ("Orders", "订单数"),
    "col_revenue": ("Revenue", "消费额"),
    "col_last_order_date": ("Last order", "最近购买日期"),
    "col_days_since_last_order": ("Days since last order", "距上次购买天数"),
    "col_usual_interval_days": ("Usual interval (days)", "平常间隔（天）"),
    "col_window_low_days": ("Window from (days)", "时间窗起（天）"),
    "col_window_high_days": ("Window to (days)", "时间窗止（天）"),
    "col_category": ("Category bought", "已购品类"),
    "col_suggested_category": ("Suggested category", "推荐品类"),
    "col_lookalike_share": ("Look-alikes who took it", "相似客户选择比例"),
    "col_lookalikes": ("Look-alikes", "相似客户数"),
    "col_category_orders": ("Orders in the category", "该品类订单数"),
    "col_interval_days": ("Every (days)", "间隔（天）"),
    "col_p_alive": ("Chance still active", "仍活跃概率"),
    "col_total_clv": ("Total value", "总价值"),
}
TEXT.update(PLAYBOOK_TEXT)


# ---- strategy tests (metrics.experiments keys): names and the sentences of what was learned ------
STRATEGY_TEXT: dict[str, tuple[str, str]] = {
    "strategy_name_points_tiers": ("Points and tiers", "积分与会员等级"),
    "strategy_name_personalised_offers": ("Personalised offers", "个性化优惠"),
    "strategy_name_new_products": ("New or seasonal products", "新品或季节性商品"),
    "strategy_name_service_followup": ("Service follow-ups", "服务回访"),
    "strategy_name_community": ("Member community", "会员社群"),
    "strategy_name_bundles": ("Cross-category bundles", "跨品类组合"),
    "strategy_name_subscription": ("Subscriptions", "订阅"),
    "strategy_unlabelled": ("Unlabelled strategy", "未标注策略"),
    "metric_name_repurchased": ("Repurchased", "复购率"),
    "metric_name_orders": ("Orders per customer", "人均订单数"),
    "metric_name_revenue": ("Revenue per customer", "人均消费额"),
    "metric_name_aov": ("AOV", "客单价"),
    "metric_name_margin": ("Margin per customer after cost", "扣除成本后人均毛利"),
    # one sentence per experiment: "<strategy>: <finding per variant>; ... ." and a warning
    "sum_sentence": ("{strategy}: {findings}.", "{strategy}：{findings}。"),
    "sum_join": ("; ", "；"),
    "sum_not_ready": ("{strategy}: {status}", "{strategy}：暂无可分析数据（{status}）"),
    "sum_holm_p": ("Holm-adjusted p", "Holm 校正 p"),
    "sum_who": ("{variant} customers", "{variant} 组"),
    "sum_who_treatment": ("{variant} customers", "实验组"),
    "sum_higher": ("higher", "高"),
    "sum_lower": ("lower", "低"),
    "sum_more": ("more", "高"),
    "sum_less": ("less", "低"),
    "sum_associated": ("using {variant} was associated with a repurchase rate {points} points {direction} within {days} days than control ({p})",
                       "使用 {variant} 与 {days} 天内复购率{direction} {points} 个百分点相关（{p}）"),
    "sum_effect": ("{who} repurchased {points} points {direction} often within {days} days ({p})",
                   "{who} {days} 天内复购率{direction} {points} 个百分点（{p}）"),
    "sum_no_difference": ("no measurable difference in repurchase within {days} days ({variant} {variant_rate} vs control {control_rate}, {p})",
                          "{days} 天内复购率无可测差异（{who} {variant_rate}，对照组 {control_rate}，{p}）"),
    "sum_decision": ("; {metric} {sign}{amount} ({p})", "；{metric}{direction} {amount}（{p}）"),
    "sum_srm_warning": (" Warning: sample ratio mismatch ({p}); do not trust these results.", "警告：样本比例不匹配（{p}），结果不可信。"),
    "sum_observational": (" Observational (from orders.{column}): customers chose to use it, so this is an association, not proof it caused the difference.",
                          "观察性比较（来自 orders.{column}）：是否使用由客户自己选择，这只是相关，不能证明由其引起。"),
    "sum_an_order_column": ("an order column", "某订单字段"),
    "sum_balance_differs": (" Users already bought differently before (pre-period balance {p}).",
                            "使用者在分组前的购买行为已有差异（分组前平衡性 {p}）。"),
}
TEXT.update(STRATEGY_TEXT)
