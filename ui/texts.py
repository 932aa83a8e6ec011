"""Generated sentences in the user's language."""

from datetime import date

from ui import data
from ui.formatting import format_change, format_decimal_text, format_value
from ui.i18n import metric_label, segment_name, t
from ui.words.metrics import TIER_GROUPS


def tier_rank(value) -> tuple:
    """Sort key putting member tiers in their order (none, silver, gold, diamond), other values after, by name."""
    order = list(TIER_GROUPS)
    text = str(value).lower()
    return (order.index(text), "") if text in order else (len(order), text)


def change_text(change, kind: str, ctx, versus: str, number_first: bool = False) -> str:
    """'+2.1 pt vs last month' / '环比 +2.1 个百分点' (st.metric needs the sign first: number_first)."""
    number = format_change(change, kind, ctx.language)
    if ctx.language == "zh" and not number_first:
        return f"{t(versus, ctx.language)} {number}"
    return f"{number} {t(versus, ctx.language)}"


def move_sentence(ctx, month: date) -> str:
    """'Repurchase rate rose 2.1 points to 34.5%, driven by gold members.' Plain text naming a segment from
    the data: escape it where it is shown (ui.safe_text)."""
    move = data.biggest_move(ctx.root, ctx.version, month, ctx.filters)
    if move is None:
        return t("summary_flat", ctx.language)
    change = move["change"]
    driver = ""
    if move["driver_segment"] is not None:
        driver = t("summary_driver", ctx.language, segment=segment_name(move["driver_segment"], ctx.language))
    values = {
        "metric": metric_label(move["kpi"], ctx.language),
        "direction": t("rose" if change > 0 else "fell", ctx.language),
        "change": format_decimal_text(abs(change) * 100, ctx.language),
        "value": format_value(move["value"], move["kind"], ctx.language, ctx.currency),
        "driver": driver,
    }
    key = "summary_rate" if move["kind"] == "rate" else "summary_other"
    sentence = t(key, ctx.language, **values)
    return sentence[0].upper() + sentence[1:]


def filters_text(ctx, escape=str) -> str:
    """The filters in force as one sentence ("Filters: Member tier: gold members · Channel: app"), or ""
    when every order counts. Values come from the data: `escape` each for where it is shown
    (ui.safe_text.markdown_text), or escape the whole plain sentence there.

    The filters hold only dates that narrow the store's range (`ui.context.page_context` drops the others).
    """
    parts = []
    first, last = ctx.facts.get("first_order"), ctx.facts.get("last_order")
    start, end = ctx.filters.start, ctx.filters.end
    if start or end:
        parts.append(f"{start or first.date():%Y-%m-%d} – {end or last.date():%Y-%m-%d}")
    for dimension, values in ctx.filters.dimension_values().items():
        shown = [segment_name(v, ctx.language) if dimension == "member_tier" else str(v) for v in values]
        colon, comma = ("：", "、") if ctx.language == "zh" else (": ", ", ")
        parts.append(f"{t(dimension, ctx.language)}{colon}{comma.join(escape(v) for v in shown)}")
    return t("active_filters", ctx.language, filters=" · ".join(parts)) if parts else ""
