"""The strategy playbook: the article's seven retention strategies beside this shop's own evidence,
who to act on next, and cross-category evidence.

Everything here returns codes and numbers (strategy tags, evidence levels, verdicts, next steps,
reason codes); the words for them, in English and Chinese, are in ui/i18n.py. The customer lists
and the cross-category tables are computed in SQL over the stored tables with bound parameters;
only the result rows reach pandas. Definitions and decisions: docs/playbook.md.
"""

import math

import duckdb
import pandas as pd
import pyarrow as pa

from metrics import experiments
from store.models import dialect, registry
from store.models import playbook as playbook_models
from metrics.customer_facts import facts_ctes
from metrics.due import LAPSE_DAYS, LAPSE_MULTIPLE
from metrics.filters import Filters
from metrics.kpis import SEGMENTS

# The seven strategies (the spec's strategy tags) and what the article claims for each, as numbers.
CLAIMS = {
    "points_tiers": {"points_repurchase_lift": 0.35, "member_frequency_multiple": 3.0},
    "personalised_offers": {"conversion_multiple_low": 5.0, "conversion_multiple_high": 8.0},
    "new_products": {"retention_lift": 0.22},
    "service_followup": {"intent_multiple": 4.6},
    "community": {"frequency_lift": 0.40},
    "bundles": {"repurchase_lift": 0.25},
    "subscription": {"member_personalised_orders_per_year": 12},
}
EVIDENCE_LEVELS = ("randomised", "before_after_with_comparison", "descriptive", "none")  # strongest first
ALPHA = 0.05
PRE_TREND_ALPHA = 0.10  # a pre-trend p below this casts doubt on parallel trends

TRIGGER_DAYS = 30  # the article's 30-day triggered offer
TRIGGER_TOLERANCE_DAYS = 3  # "about" 30 days / the usual interval: within 3 days either side ...
TRIGGER_TOLERANCE_SHARE = 0.2  # ... and within a fifth of a short usual interval (4 days is not "about" 6)
SECOND_WINDOW_QUANTILES = (0.25, 0.75)  # the second-purchase window: middle half of first-to-second gaps
MIN_LOOKALIKES = 3  # a suggested second category needs at least this many look-alikes who moved on to a second one
REGULAR_MIN_ORDERS = 3
REGULAR_MAX_CV = 0.5  # regular: the spread (standard deviation) of the gaps is at most half their mean
SUBSCRIPTION_MAX_GAP_DAYS = 90  # a periodic delivery at least quarterly
COMMUNITY_PATTERNS = ("%community%", "%社群%", "%微信群%", "%wechat group%", "%wechat_group%", "%私域%", "%社区%")
HIGH_VALUE_QUANTILE = 0.8  # lapsing high-value: top 20% by total value ...
LAPSING_P_ALIVE = 0.5  # ... whose P(alive) has fallen below one half

LISTS = ("trigger_30d", "graded_second", "graded_vip", "lapsing_high_value", "cross_category", "subscription")


def canonical_strategy(tag) -> str | None:
    """The playbook's tag for an experiment's strategy tag (aliases such as `subscriptions` included)."""
    canonical = experiments.canonical_strategy(tag)
    return canonical if canonical in CLAIMS else None


# ---- shared SQL (store.models.playbook) ------------------------------------------------------

_VALID, _REFERENCE, _category_source = playbook_models.VALID, playbook_models.REFERENCE, playbook_models.category_source
PATHS_TABLE = "playbook_customers"


def _customer_paths(con) -> str:
    """The per-customer categories table (store.models.playbook): the summary built at upload, or a
    temporary table counted from the orders once per connection."""
    stored = registry.source_for(con, "customer_categories", registry.Request())
    if stored:
        return stored
    con.execute(f"create temp table if not exists {PATHS_TABLE} as {playbook_models.customer_categories_sql(con)}")
    return PATHS_TABLE


def _top_pairs(table: str) -> str:
    """CTE `top_pairs`: per first category, each second category's customers, ranked (ties by name), and
    `moved`, how many customers of that first category bought a second one."""
    return f"""
top_pairs as (
    select first_category, second_category, customers,
        sum(customers) over (partition by first_category) as moved,
        row_number() over (partition by first_category order by customers desc, second_category) as rank
    from (
        select first_category, second_category, count(*) as customers
        from {table}
        where second_category is not null
        group by first_category, second_category
    ) as pairs
)"""


def _frame(con, sql: str, params: dict | None = None) -> pd.DataFrame:
    return con.execute(sql, params or {}).df()


# ---- cross-category evidence ---------------------------------------------------------------


def categories_bought(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Customers, repurchase rate (share with 2+ orders) and orders per customer by the number of
    categories they bought (4 = four or more)."""
    sql = f"""
        select
            least(categories, 4) as categories,
            count(*) as customers,
            avg(case when orders >= 2 then 1.0 else 0.0 end) as repurchase_rate,
            avg(orders) as orders_per_customer
        from {_customer_paths(con)}
        where categories is not null
        group by least(categories, 4)
        order by categories
    """
    return _frame(con, sql)


def second_categories(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Per first category: its customers, how many later bought another category, the category that
    most often came second (ties by name) and its share of those who moved on."""
    table = _customer_paths(con)
    sql = f"""
        with {_top_pairs(table)}
        select
            starters.first_category,
            count(*) as customers,
            cast(coalesce(any_value(top_pairs.moved), 0) as bigint) as moved_customers,
            any_value(top_pairs.second_category) as second_category,
            coalesce(any_value(top_pairs.customers), 0) as second_customers,
            any_value(top_pairs.customers) / any_value(top_pairs.moved) as second_share
        from {table} as starters
        left join top_pairs on top_pairs.first_category = starters.first_category and top_pairs.rank = 1
        where starters.first_category is not null
        group by starters.first_category
        order by customers desc, starters.first_category
    """
    return _frame(con, sql)


# ---- descriptive evidence ------------------------------------------------------------------


def _multiple(group: float | None, rest: float | None) -> float | None:
    if group is None or rest is None or rest == 0 or any(math.isnan(v) for v in (group, rest)):
        return None
    return float(group / rest)


def cross_category_multiple(con: duckdb.DuckDBPyConnection) -> dict:
    """Among customers with 2+ orders: orders per customer of those who bought 2+ categories over
    those who bought one, and both group sizes (an association, not an effect)."""
    sql = f"""
        select
            count(*) filter (where categories >= 2) as multi_customers,
            count(*) filter (where categories = 1) as single_customers,
            avg(orders) filter (where categories >= 2) as multi_orders,
            avg(orders) filter (where categories = 1) as single_orders
        from {_customer_paths(con)}
        where orders >= 2
    """
    row = con.execute(sql).fetchone()
    return {"multi_customers": int(row[0] or 0), "single_customers": int(row[1] or 0),
            "multi_orders": row[2], "single_orders": row[3], "multiple": _multiple(row[2], row[3])}


def _group_multiples(con, groups: dict[str, tuple[str, dict]]) -> dict[str, dict]:
    """Per group (name: its SQL condition on an order and the condition's parameters): orders per customer in
    the last 365 days of the customers with an order matching the condition in that year over the other
    customers active in it (an association, not an effect). One pass over the year's orders for every group."""
    recent = f"{dialect.day_diff('reference.reference_date', 'order_date')} < 365"
    flags = ",\n".join(f"max(case when ({condition}) then 1 else 0 end) as in_group_{i}"
                       for i, (condition, _) in enumerate(groups.values()))
    figures = ",\n".join(
        f"""count(*) filter (where in_group_{i} = 1), count(*) filter (where in_group_{i} = 0),
            avg(orders_12m) filter (where in_group_{i} = 1), avg(orders_12m) filter (where in_group_{i} = 0)"""
        for i in range(len(groups)))
    sql = f"""
        with {_VALID}, {_REFERENCE},
        per_customer as (
            select customer_key, count(*) as orders_12m, {flags}
            from valid, reference
            where {recent}
            group by customer_key
        )
        select {figures}
        from per_customer
    """
    params = {name: value for _, group_params in groups.values() for name, value in group_params.items()}
    row = con.execute(sql, params).fetchone()
    out = {}
    for i, name in enumerate(groups):
        customers, others, orders, other_orders = row[4 * i:4 * i + 4]
        out[name] = {"customers": int(customers or 0), "other_customers": int(others or 0),
                     "orders": orders, "other_orders": other_orders, "multiple": _multiple(orders, other_orders)}
    return out


MEMBER_CONDITION = (f"({SEGMENTS['membership']}) = 'member'", {})


def member_multiple(con: duckdb.DuckDBPyConnection) -> dict:
    """Orders per customer in the last 365 days of customers who ordered as members (any tier but none)
    in that year over non-members."""
    return _group_multiples(con, {"members": MEMBER_CONDITION})["members"]


def _community_condition() -> tuple[str, dict]:
    names = [f"community_{i}" for i in range(len(COMMUNITY_PATTERNS))]
    condition = " or ".join(f"lower(channel) like ${n}" for n in names)
    return condition, dict(zip(names, COMMUNITY_PATTERNS))


def community_multiple(con: duckdb.DuckDBPyConnection) -> dict:
    """Orders per customer in the last 365 days of customers who ordered through a community channel
    (a channel named like community / 社群 / 微信群) in that year over everyone else active in it."""
    return _group_multiples(con, {"community": _community_condition()})["community"]


def regular_buyers(con: duckdb.DuckDBPyConnection) -> dict:
    """Customers with 3+ orders whose gaps between orders are regular (standard deviation at most half
    the mean gap): how many, their share of 3+ order customers, and their median mean gap in days."""
    sql = f"""
        with gaps as (
            select customer_key, count(*) + 1 as orders, avg(days_since_previous) as mean_gap,
                stddev_samp(days_since_previous) as sd_gap
            from orders
            where is_valid and customer_key is not null and days_since_previous is not null
            group by customer_key
            having count(*) + 1 >= $min_orders
        )
        select
            count(*) as repeat_customers,
            count(*) filter (where mean_gap > 0 and sd_gap <= $max_cv * mean_gap) as regular_customers,
            {dialect.quantile("mean_gap", 0.5)} filter (where mean_gap > 0 and sd_gap <= $max_cv * mean_gap)
                as median_gap_days
        from gaps
    """
    row = con.execute(sql, {"min_orders": REGULAR_MIN_ORDERS, "max_cv": REGULAR_MAX_CV}).fetchone()
    repeat, regular = int(row[0] or 0), int(row[1] or 0)
    return {"repeat_customers": repeat, "regular_customers": regular,
            "share": regular / repeat if repeat else None, "median_gap_days": row[2]}


def descriptive_evidence(con: duckdb.DuckDBPyConnection) -> dict:
    """The associations the playbook reads for points/tiers, bundles, community and subscriptions."""
    groups = _group_multiples(con, {"members": MEMBER_CONDITION, "community": _community_condition()})
    return {
        "members": groups["members"],
        "cross_category": cross_category_multiple(con),
        "community": groups["community"],
        "regular_buyers": regular_buyers(con),
    }


# ---- the seven strategies ------------------------------------------------------------------


def _test_evidence(overview: dict) -> list[dict]:
    """Per tagged experiment and variant: the repurchase result (Holm-adjusted p), randomised or observational."""
    found = []
    for name, report in overview.get("reports", {}).items():
        strategy = canonical_strategy(report.get("strategy"))
        if strategy is None:
            continue
        for result in report["results"]:
            if result["metric"] != "repurchased":
                continue
            p = result.get("p_holm")
            found.append({
                "strategy": strategy, "source": "observational" if report.get("design") == "observational" else "randomised",
                "experiment": name, "variant": result["variant"], "window_days": report["window_days"],
                "abs_lift": result.get("abs_lift"), "rel_lift": result.get("rel_lift"),
                "ci_low": result.get("abs_ci_low"), "ci_high": result.get("abs_ci_high"), "p_value": p,
                "n": (result.get("n_control") or 0) + (result.get("n_variant") or 0),
                "verdict": _verdict(result.get("abs_lift"), p),
            })
    return found


def _verdict(estimate, p) -> str:
    if estimate is None or p is None or (isinstance(p, float) and math.isnan(p)) or p >= ALPHA:
        return "no_effect"
    return "worked" if estimate > 0 else "harmed"


def _launch_evidence(launches) -> list[dict]:
    found = []
    for launch in launches or ():
        strategy = canonical_strategy(launch.get("strategy"))
        if strategy is None:
            continue
        pre_trend = launch.get("pre_trend_p")
        doubtful = pre_trend is not None and not math.isnan(pre_trend) and pre_trend < PRE_TREND_ALPHA
        found.append({
            "strategy": strategy, "source": "launch", "launched_at": str(launch.get("launched_at")),
            "estimate": launch.get("did_estimate"), "ci_low": launch.get("ci_low"), "ci_high": launch.get("ci_high"),
            "p_value": launch.get("p_value"), "pre_trend_p": pre_trend, "trend_doubtful": doubtful,
            "verdict": "doubtful" if doubtful else _verdict(launch.get("did_estimate"), launch.get("p_value")),
        })
    return found


def _descriptive_items(described: dict) -> list[dict]:
    items = []
    members = described["members"]
    if members["multiple"] is not None:
        items.append({"strategy": "points_tiers", "source": "descriptive", "measure": "member_frequency_multiple",
                      "value": members["multiple"], "customers": members["customers"]})
    cross = described["cross_category"]
    if cross["multiple"] is not None:
        items.append({"strategy": "bundles", "source": "descriptive", "measure": "cross_category_frequency_multiple",
                      "value": cross["multiple"], "customers": cross["multi_customers"]})
    community = described["community"]
    if community["multiple"] is not None:
        items.append({"strategy": "community", "source": "descriptive", "measure": "community_frequency_multiple",
                      "value": community["multiple"], "customers": community["customers"]})
    regular = described["regular_buyers"]
    if regular["regular_customers"]:
        items.append({"strategy": "subscription", "source": "descriptive", "measure": "regular_buyer_share",
                      "value": regular["share"], "customers": regular["regular_customers"],
                      "median_gap_days": regular["median_gap_days"]})
    return items


LEVEL_OF_SOURCE = {"randomised": "randomised", "launch": "before_after_with_comparison",
                   "observational": "descriptive", "descriptive": "descriptive"}


def _next_step(strategy: str, level: str, items: list[dict], described: dict) -> str:
    """What to do next, from the strongest evidence."""
    strongest = [i for i in items if LEVEL_OF_SOURCE[i["source"]] == level]
    verdicts = {i.get("verdict") for i in strongest}
    if level == "randomised":
        if verdicts >= {"worked", "harmed"}:
            return "review_tests"
        return {"worked": "roll_out", "harmed": "stop"}.get(next(iter(verdicts - {"no_effect"}), "no_effect"),
                                                           "change_offer")
    if level == "before_after_with_comparison":
        if "doubtful" in verdicts:
            return "trend_doubtful"
        if "worked" in verdicts:
            return "confirm_with_test"
        return "stop" if "harmed" in verdicts else "rethink"
    if level == "descriptive":
        return "run_test"
    if strategy == "community" and not described["community"]["customers"]:
        return "tag_community_channel"
    if strategy == "bundles" and described["cross_category"]["multiple"] is None:
        return "record_categories"
    return "start_test"


def playbook(con: duckdb.DuckDBPyConnection, launches=(), window_days: int = 60, overview: dict | None = None,
             described: dict | None = None) -> list[dict]:
    """One row per strategy: the article's claim (numbers), this shop's evidence items (codes and numbers),
    the evidence level (randomised / before_after_with_comparison / descriptive / none) and the next step.

    `launches`: saved launch evaluations, dicts {strategy, launched_at, did_estimate, ci_low, ci_high,
    p_value, pre_trend_p} (difference-in-differences, orders per customer per 30 days).
    """
    if overview is None:
        overview = experiments.strategy_overview(con, window_days=window_days)
    described = described if described is not None else descriptive_evidence(con)
    items = _test_evidence(overview) + _launch_evidence(launches) + _descriptive_items(described)
    rows = []
    for strategy, claim in CLAIMS.items():
        mine = [i for i in items if i["strategy"] == strategy]
        levels = {LEVEL_OF_SOURCE[i["source"]] for i in mine}
        level = next((lv for lv in EVIDENCE_LEVELS if lv in levels), "none")
        mine.sort(key=lambda i: EVIDENCE_LEVELS.index(LEVEL_OF_SOURCE[i["source"]]))
        rows.append({"strategy": strategy, "claim": dict(claim), "evidence_level": level, "evidence": mine,
                     "next_step": _next_step(strategy, level, mine, described)})
    return rows


# ---- who to act on next --------------------------------------------------------------------


LIST_ORDER = "revenue desc, customer_id"  # every SQL list: most valuable first


def trigger_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """Customers whose last order was about their usual interval ago (2+ orders; reason usual_interval)
    or about 30 days ago (reason thirty_days), to the data's last day; about = within 3 days (and
    within a fifth of a usual interval shorter than 15 days)."""
    facts, params = facts_ctes(con, Filters())
    sql = f"""
        with {facts}
        select * from (
            select
                customer_id,
                'trigger_30d' as list,
                case
                    when orders >= 2 and abs(days_since_last_order - usual_interval_days)
                        <= least($tolerance, $tolerance_share * usual_interval_days)
                        then 'usual_interval'
                    when abs(days_since_last_order - $trigger_days) <= $tolerance then 'thirty_days'
                end as reason_code,
                orders,
                revenue,
                last_order_date,
                days_since_last_order,
                usual_interval_days
            from facts
        ) as reasoned
        where reason_code is not null
    """
    params.update(tolerance=TRIGGER_TOLERANCE_DAYS, tolerance_share=TRIGGER_TOLERANCE_SHARE, trigger_days=TRIGGER_DAYS)
    return sql, params


def second_purchase_window(con: duckdb.DuckDBPyConnection) -> tuple[float, float] | None:
    """The days from first to second order within which the middle half of second orders came (None without any)."""
    low, high = SECOND_WINDOW_QUANTILES
    row = con.execute(f"""
        select {dialect.quantile("days_since_previous", low)}, {dialect.quantile("days_since_previous", high)}
        from orders
        where is_valid and customer_order_seq = 2
    """).fetchone()
    return None if row[0] is None else (float(row[0]), float(row[1]))


def graded_second_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """One-order customers now inside the second-purchase window (see second_purchase_window)."""
    window = second_purchase_window(con)
    facts, params = facts_ctes(con, Filters())
    sql = f"""
        with {facts}
        select customer_id, 'graded_second' as list, 'second_order_window' as reason_code, orders, revenue,
            last_order_date, days_since_last_order,
            cast($window_low as double) as window_low_days, cast($window_high as double) as window_high_days
        from facts
        where orders = 1 and days_since_last_order between $window_low and $window_high
    """
    low, high = window if window else (None, None)
    return sql, {**params, "window_low": low, "window_high": high}


def graded_vip_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """Two-order customers not yet lapsed (last order within 3x their gap and 365 days): VIP at the third."""
    facts, params = facts_ctes(con, Filters())
    sql = f"""
        with {facts}
        select customer_id, 'graded_vip' as list, 'two_orders' as reason_code, orders, revenue,
            last_order_date, days_since_last_order, usual_interval_days
        from facts
        where orders = 2 and days_since_last_order <= least({LAPSE_MULTIPLE} * usual_interval_days, {LAPSE_DAYS})
    """
    return sql, params


def cross_category_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """Customers not lapsed (ordered within 365 days) who bought one category, with the category their
    look-alikes (customers who started with the same category) most often bought second."""
    table = _customer_paths(con)
    days_since = dialect.day_diff("reference.reference_date", "candidates.last_order_date")
    sql = f"""
        with {_top_pairs(table)}, {playbook_models.CUSTOMERS_REFERENCE}
        select
            candidates.customer_id, 'cross_category' as list, 'lookalikes_buy_second' as reason_code,
            candidates.orders, candidates.revenue, candidates.last_order_date, {days_since} as days_since_last_order,
            candidates.first_category as category,
            top_pairs.second_category as suggested_category,
            top_pairs.customers / top_pairs.moved as lookalike_share,
            cast(top_pairs.moved as bigint) as lookalikes
        from {table} as candidates
        join top_pairs on top_pairs.first_category = candidates.first_category and top_pairs.rank = 1
        cross join reference
        where candidates.categories = 1 and top_pairs.moved >= $min_lookalikes and {days_since} <= $lapse_days
    """
    return sql, {"min_lookalikes": MIN_LOOKALIKES, "lapse_days": LAPSE_DAYS}


def subscription_list_sql(con: duckdb.DuckDBPyConnection) -> tuple[str, dict]:
    """Regular buyers (3+ orders at regular gaps of at most 90 days, the last within two gaps) of the
    high-frequency categories: those whose orders per buyer are at or above the median category's."""
    table = _customer_paths(con)
    previous = "lag(order_date) over (partition by customer_key, category order by customer_order_seq)"
    sql = f"""with {_REFERENCE}, {_category_source(con)},
        pair_orders as (
            select customer_key, category, count(*) as category_orders, max(order_date) as last_category_date
            from order_categories
            group by customer_key, category
        ),
        category_frequency as (
            select category, sum(category_orders) / count(*) as orders_per_buyer from pair_orders group by category
        ),
        high_frequency as (
            select category from category_frequency
            where orders_per_buyer >= (select {dialect.quantile("orders_per_buyer", 0.5)} from category_frequency)
        ),
        -- only the pairs with enough orders in a high-frequency category need their gaps
        repeat_pairs as (
            select pair_orders.* from pair_orders join high_frequency using (category)
            where category_orders >= $min_orders
        ),
        gaps as (
            select customer_key, category, {dialect.day_diff("order_date", previous)} as gap
            from order_categories join repeat_pairs using (customer_key, category)
        ),
        regular as (
            select customer_key, category, avg(gap) as mean_gap, stddev_samp(gap) as sd_gap
            from gaps
            group by customer_key, category
        ),
        ranked as (
            select repeat_pairs.*, regular.mean_gap,
                row_number() over (partition by customer_key order by category_orders desc, category) as pick
            from repeat_pairs
            join regular using (customer_key, category)
            cross join reference
            where mean_gap > 0 and sd_gap <= $max_cv * mean_gap and mean_gap <= $max_gap
                and {dialect.day_diff("reference.reference_date", "last_category_date")} <= 2 * mean_gap
        )
        select customer_id, 'subscription' as list, 'regular_high_frequency' as reason_code, orders, revenue,
            last_order_date, category, category_orders, round(mean_gap, 1) as interval_days
        from ranked join {table} using (customer_key)
        where pick = 1
    """
    return sql, {"min_orders": REGULAR_MIN_ORDERS, "max_cv": REGULAR_MAX_CV, "max_gap": SUBSCRIPTION_MAX_GAP_DAYS}


def lapsing_candidates(predictions: pd.DataFrame) -> pd.DataFrame:
    """From the CLV model's per-customer predictions (metrics.clv): customers in the top 20% by total value
    whose P(alive) has fallen below one half since their last purchase (rows as given, unordered)."""
    threshold = predictions["total_clv"].quantile(HIGH_VALUE_QUANTILE)
    return predictions[(predictions["total_clv"] >= threshold) & (predictions["p_alive"] < LAPSING_P_ALIVE)]


def lapsing_high_value_list(predictions: pd.DataFrame) -> pd.DataFrame:
    """The lapsing high-value list (lapsing_candidates), most valuable first, with the columns of a list;
    `predictions` must hold customer_id and last_purchase (clv.listing_details adds them)."""
    chosen = lapsing_candidates(predictions)
    chosen = chosen.sort_values(["total_clv", "customer_id"], ascending=[False, True])
    return pd.DataFrame({
        "customer_id": chosen["customer_id"].to_numpy(),
        "list": "lapsing_high_value",
        "reason_code": "high_value_falling_p_alive",
        "orders": (chosen["x"] + 1).astype("int64").to_numpy(),
        "revenue": chosen["historical_revenue"].to_numpy(),
        "last_order_date": pd.to_datetime(chosen["last_purchase"]).to_numpy(),
        "days_since_last_order": (chosen["T"] - chosen["t_x"]).round().astype("int64").to_numpy(),
        "p_alive": chosen["p_alive"].to_numpy(),
        "total_clv": chosen["total_clv"].to_numpy(),
    })


LIST_SQL = {"trigger_30d": trigger_list_sql, "graded_second": graded_second_list_sql,
            "graded_vip": graded_vip_list_sql, "cross_category": cross_category_list_sql,
            "subscription": subscription_list_sql}  # every list but lapsing_high_value (the CLV model's)


def _ordered_list(con: duckdb.DuckDBPyConnection, name: str) -> tuple[str, dict]:
    sql, params = LIST_SQL[name](con)
    return f"select * from ({sql}) as list order by {LIST_ORDER}", params


def action_list(con: duckdb.DuckDBPyConnection, name: str) -> pd.DataFrame:
    """The SQL action list `name` (LIST_SQL), most valuable first."""
    return con.execute(*_ordered_list(con, name)).df()


def action_list_batches(con: duckdb.DuckDBPyConnection, name: str) -> pa.RecordBatchReader:
    """The whole action list `name`, most valuable first, as Arrow batches (to a file without pandas:
    at 100M orders a list holds hundreds of thousands of customers)."""
    sql, params = _ordered_list(con, name)
    con.complete()  # a relation cannot start while an earlier execute() (a fetchone) still holds its result
    return con.sql(sql, params=params).to_arrow_reader()
