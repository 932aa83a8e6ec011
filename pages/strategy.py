"""Strategy tests: which retention strategies made customers come back, how much, how sure we are."""

import pandas as pd
import streamlit as st

from metrics.experiments import ExperimentError, arm_totals_table, results_table
from ui import charts, data
from ui.strategy_words import metric_name, strategy_name, summaries
from ui.context import page_context
from ui.formatting import format_change, format_difference, format_value
from ui.safe_text import markdown_text
from ui.tables import show_table, with_arm_sizes_column, with_interval_column

ctx = page_context()
st.title(ctx.t("strategy"))
if not ctx.facts["orders"]:
    st.info(ctx.t("empty_store"))
    st.stop()
experiments = data.experiment_names(ctx.root, ctx.version)
if experiments.empty:
    st.info(ctx.t("no_experiments"))
    st.stop()

defaults = data.STRATEGY_DEFAULTS  # the view kept right after an upload
controls = st.columns([1.4, 1, 1.4], vertical_alignment="bottom")
window = controls[0].segmented_control(ctx.t("window_days_label"), [30, 60, 90], default=defaults["window_days"],
                                       required=True, key="window", bind="query-params")
margin = controls[1].number_input(ctx.t("margin_input"), 0.0, 1.0, defaults["margin"], step=0.05, key="margin")
decision = controls[2].segmented_control(ctx.t("decision_metric"), ["margin", "revenue"],
                                         default=defaults["decision_metric"],
                                         required=True, key="decision", format_func=lambda m: ctx.t(f"decide_{m}"))
toggles = st.columns(2)
cuped = toggles[0].toggle(ctx.t("cuped"), key="cuped", bind="query-params")
cap = toggles[1].toggle(ctx.t("cap"), key="cap", bind="query-params")
st.caption(ctx.t("filters_not_applied"))
options = {"cuped_days": 90 if cuped else None, "cap_percentile": 99 if cap else None, "margin": margin}

st.subheader(ctx.t("what_worked"))
overview = data.strategy_overview(ctx.root, ctx.version, window, decision_metric=decision, **options)
for row in summaries(overview, ctx.language, ctx.currency).itertuples():
    design = f" · _{ctx.t('design_observational')}_" if row.design == "observational" else ""
    # plain text naming variants from the data
    st.markdown(f"- **{markdown_text(row.experiment)}**{design} · {markdown_text(row.summary)}")

# how each metric's means and difference read: a share, a count per customer, an amount of money
UNITS = {"repurchased": "rate", "orders": "ratio", "revenue": "money", "aov": "money", "margin": "money"}


def in_units(frame: pd.DataFrame) -> pd.DataFrame:
    """Control and variant means and their difference as text in each row's metric unit (keys in `metric`)."""
    def text(value, metric, difference=False):
        unit = UNITS[metric]
        if not difference or pd.isna(value):
            return format_value(value, unit, ctx.language, ctx.currency)
        return format_difference(value, unit, ctx.language, ctx.currency)

    out = frame.copy()
    for column in ("control_mean", "variant_mean", "abs_lift"):
        if column in out.columns:
            out[column] = [text(v, m, column == "abs_lift") if isinstance(m, str) and m in UNITS else v
                           for v, m in zip(out[column], frame["metric"])]
    return out


scores = overview["scorecard"]
st.subheader(ctx.t("scorecard", days=window))
st.caption(ctx.t("chance_note"))
readable = scores.assign(
    strategy=scores["strategy"].map(lambda tag: strategy_name(tag, ctx.language) if isinstance(tag, str) else tag),
    design=scores["design"].map(lambda d: ctx.t(f"design_{d}") if isinstance(d, str) else d),
)[["experiment", "variant", "metric", "rel_lift", "ci_low", "ci_high", "p_holm", "chance_to_win", "control_mean",
   "variant_mean", "n_control", "n_variant", "p_value", "strategy", "design", "status"]]  # the answer first: lift
   # and its interval stay on screen at 1440 px
metric_labels = scores["metric"].map(lambda m: metric_name(m, ctx.language))
# On screen what fits at 1400 px: an observational test is marked after its name, an experiment not
# analysable yet is left to the list above (which says why), the variant's name only where an experiment
# has more than one; the means are in the chosen experiment's table, the unadjusted p, strategy, design
# and status in the download.
observational = f" ({ctx.t('design_observational')})"
on_screen = readable.assign(
    metric=metric_labels,
    experiment=[name + observational if design == "observational" else name
                for name, design in zip(scores["experiment"], scores["design"])],
)[scores["status"] == "ok"].drop(columns=["control_mean", "variant_mean", "p_value", "strategy", "design", "status"])
if (scores[scores["status"] == "ok"].groupby("experiment")["variant"].nunique() <= 1).all():
    on_screen = on_screen.drop(columns="variant")
show_table(with_arm_sizes_column(with_interval_column(on_screen, ctx.language)), "scorecard", "scorecard_table",
           ctx.language, ctx.currency, download=readable.assign(metric=metric_labels))

experiment = st.selectbox(ctx.t("experiment"), experiments["experiment"].tolist(), key="experiment",
                          bind="query-params")
try:
    report = overview["reports"].get(experiment) or data.experiment_report(ctx.root, ctx.version, experiment, window,
                                                                           **options)
except ExperimentError as problem:
    st.warning(markdown_text(problem))
    st.stop()

observational = report.get("design") == "observational"
if observational:
    column = report.get("derived_from") or "?"
    what = ctx.t("what_coupon_code" if column == "coupon_code" else "what_value")
    st.warning(ctx.md("observational_warning", column=column, what=what), icon="⚠️")

st.subheader(ctx.t("health"))
health = report["health"]
srm_p = f"{health['srm_p']:.3g}" if health.get("srm_p") is not None else "–"
if observational:
    st.info(ctx.t("srm_not_applicable"))
else:
    (st.error if health.get("srm_flag") else st.success)(ctx.t("srm_bad" if health.get("srm_flag") else "srm_ok", p=srm_p))
if health.get("balance_p") is not None:
    balance_p = f"{health['balance_p']:.3g}"
    if observational and health.get("balance_flag"):
        st.warning(ctx.t("balance_differs", p=balance_p))
    else:
        st.caption(ctx.t("balance", p=balance_p))
for arm in report["arms"]:
    st.caption(ctx.md("matured", variant=arm["variant"], matured=arm["matured"], assigned=arm["assigned"]))

st.subheader(ctx.t("results"))
results = results_table(report)
shown = [c for c in ["metric", "variant", "control_mean", "variant_mean", "abs_lift", "rel_lift", "ci_low", "ci_high",
                     "p_value", "p_holm", "chance_to_win", "n_control", "n_variant"] if c in results.columns]
adjusted = [c for c in ["cuped_rel_lift", "cuped_ci_low", "cuped_ci_high", "cuped_p_value", "cuped_p_holm",
                        "cuped_variance_reduction"] if c in results.columns]
labelled = results["metric"].map(lambda m: metric_name(m, ctx.language))
# on screen what fits at 1440 px: people's numbers, the difference with its interval, the Holm p the summary
# quotes (the unadjusted p is in the download), and the variant's name only when there is more than one (the
# captions above name the arms); the CUPED adjustment in a table of its own, everything in the download
hidden = ["p_value"] + (["variant"] if results["variant"].nunique() == 1 else [])
show_table(with_arm_sizes_column(with_interval_column(in_units(results[shown].drop(columns=hidden))
                                                      .assign(metric=labelled), ctx.language)),
           f"results_{experiment}", "results_table", ctx.language,
           ctx.currency, download=results[shown + adjusted].assign(metric=labelled))
if adjusted:
    st.subheader(ctx.t("cuped_results"))
    st.caption(ctx.t("cuped_note", days=report["cuped_days"]))
    cuped = results[results["cuped_rel_lift"].notna()]
    on_screen = cuped[["metric", "variant", *adjusted]].drop(columns=["cuped_p_value", *hidden[1:]]).rename(
        columns={"cuped_rel_lift": "rel_lift", "cuped_ci_low": "ci_low", "cuped_ci_high": "ci_high",
                 "cuped_p_holm": "p_holm"})
    show_table(with_interval_column(on_screen.assign(metric=labelled), ctx.language), f"cuped_{experiment}",
               "cuped_table", ctx.language, ctx.currency,
               download=cuped[["metric", "variant", *adjusted]].assign(metric=labelled))

views = data.experiment_time_views(ctx.root, ctx.version, experiment, window)
left, right = st.columns(2)
if not views["cumulative"].empty:
    dates = views["cumulative"]["date"]
    left.plotly_chart(charts.lift_over_time(views["cumulative"], "date",
                                            ctx.t("cumulative_title", metric=ctx.t("repurchased"),
                                                  start=f"{dates.min():%Y-%m-%d}", end=f"{dates.max():%Y-%m-%d}"), "",
                                            ctx.language),
                      key="cumulative_chart")
if not views["novelty"].empty:
    labels = [f"{a}–{b}" for a, b in zip(views["novelty"]["day_from"], views["novelty"]["day_to"])]
    right.plotly_chart(charts.lift_bars(views["novelty"], labels, ctx.t("novelty_title", days=window)), key="novelty_chart")
if not views["survival"].empty:
    st.plotly_chart(charts.survival_curves(views["survival"], ctx.t("km_title", days=window), ctx.t("days")), key="km_chart")

arm_totals = arm_totals_table(report)
with st.expander(ctx.t("arm_totals")):  # people's numbers on screen; the sums behind them in the download
    people = arm_totals[["variant", "assigned", "matured", "metric", "n"]].assign(
        mean=[format_value(None if pd.isna(value) else value, UNITS[metric], ctx.language, ctx.currency)
              for value, metric in zip(arm_totals["mean"], arm_totals["metric"])],
        metric=arm_totals["metric"].map(lambda m: metric_name(m, ctx.language)))
    show_table(people, f"arm_totals_{experiment}", "arm_totals_table", ctx.language, ctx.currency,
               download=arm_totals.drop(columns="mean"))

st.subheader(ctx.t("planner"))
n_per_arm = st.number_input(ctx.t("planner_n"), 100, 10_000_000, 5_000, step=500, key="planner_n")
plan = data.plan_test(ctx.root, ctx.version, "repurchased", window, int(n_per_arm))
if plan.get("mde_abs") is not None:
    st.markdown(ctx.t("planner_result", n=int(n_per_arm), days=window, metric=ctx.t("repurchased"),
                      mde=format_change(plan["mde_abs"], "rate", ctx.language),
                      rel=format_value(plan["mde_rel"], "rate", ctx.language),
                      base=format_value(plan["baseline_mean"], "rate", ctx.language)))
