"""Every label, help text and sentence of the app in English and Chinese (zh-CN).

KPI names and definitions live in metrics.definitions; this file holds the rest.
"""

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
    "currency": ("Currency", "币种"),
    "store_version": ("Store version {version} · orders {first} to {last}", "数据版本 {version} · 订单 {first} 至 {last}"),
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
    "summary_rate": ("{metric} {direction} {change} points to {value}{driver}.", "{metric}{direction} {change} 个百分点，至 {value}{driver}。"),
    "summary_other": ("{metric} {direction} {change}% to {value}{driver}.", "{metric}{direction} {change}%，至 {value}{driver}。"),
    "summary_driver": (", driven by {segment}", "，主要来自{segment}"),
    "summary_flat": ("No headline KPI moved noticeably since last month.", "与上月相比，核心指标无明显变化。"),
    # cohorts
    "cohort_value": ("Show", "显示"),
    "heatmap_title": ("{metric} by acquisition month and months since first order, {start} to {end}",
                      "{metric}（按首单月份与首单后月数，{start} 至 {end}）"),
    "curves_title": ("Customer retention by months since first order: chosen cohorts and the average",
                     "客户留存曲线（首单后月数）：所选同期群与平均值"),
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
    "gaps_title": ("Days between order n and n+1 (median and quartiles)", "第 n 单到第 n+1 单的间隔天数（中位数与四分位）"),
    "second_title": ("Time from first to second order", "首单到第二单的时间"),
    "within_days": ("Within {days} days", "{days} 天内"),
    "over_year": ("Over a year", "超过一年"),
    "members_title": ("Members vs non-members, {month}", "会员与非会员对比（{month}）"),
    "members_multiple": ("Members buy {multiple}× as often as non-members (annual frequency).",
                         "会员的购买频次是非会员的 {multiple} 倍（年均消费次数）。"),
    "tiers_title": ("Annual frequency by member tier, 12 months to {month}", "各会员等级年均消费次数（截至 {month} 的 12 个月）"),
    "tiers_table": ("KPIs by member tier, {month}", "各会员等级指标（{month}）"),
    "rfm_title": ("RFM segments: customers and revenue share, {start} to {end}", "RFM 分群：客户数与销售额占比（{start} 至 {end}）"),
    "due_title": ("Due for repurchase: {count} customers", "待复购客户：{count} 人"),
    "due_caption": ("Past their usual interval between orders but not lapsed; most valuable first.",
                    "已超过其常规复购间隔但尚未流失；按客户价值排序。"),
    "segment": ("Segment", "分群"),
    "share": ("Share", "占比"),
    "days": ("Days", "天数"),
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
    "imported": ("Imported {orders} orders from {rows} rows of {file}; {rejected} rows rejected, {warnings} warnings.",
                 "已从 {file} 的 {rows} 行导入 {orders} 笔订单；拒绝 {rejected} 行，警告 {warnings} 条。"),
    "refused": ("Not imported: {reason}", "未导入：{reason}"),
    "issues": ("Validation report", "校验报告"),
    "rejected_rows": ("Rejected rows", "被拒绝的行"),
    "save_preset": ("Save this mapping as a preset", "将此映射保存为预设"),
    "preset_name": ("Preset name", "预设名称"),
    "saved_preset": ("Saved preset {name}.", "已保存预设 {name}。"),
    "batches": ("Stored batches", "已存储的批次"),
    "remove": ("Remove", "删除"),
    "removed": ("Removed batch {batch}.", "已删除批次 {batch}。"),
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
}


def column_name(column: str, language: str = "en") -> str | None:
    names = COLUMNS.get(column)
    return (names[1] if language == "zh" else names[0]) if names else None


def t(key: str, language: str = "en", **values) -> str:
    """The text for `key` in `language`, with {placeholders} filled in."""
    english, chinese = TEXT[key]
    text = chinese if language == "zh" else english
    return text.format(**values) if values else text
