"""Tables for people: localised column names and number formats by metric kind."""

from collections.abc import Callable

import pandas as pd
import streamlit as st

from metrics.definitions import ALL
from ui import auth
from ui.downloads import download_buttons
from ui.formatting import format_chance, format_change, format_decimal_text, format_p, format_value
from ui.i18n import VALUE_COLUMNS, WORDED_COLUMNS, column_name, metric_label, t, value_name
from ui.safe_text import markdown_text
from ui.users import record_access_event

MONTH_COLUMNS = ("period", "cohort_month", "month")
P_COLUMNS = ("p_value", "p_holm", "p_bh", "cuped_p_value", "cuped_p_holm")
CUSTOMER_COLUMNS = frozenset({"customer_id", "customer", "email", "phone"})  # a table with one is a customer list

CURRENCY_FORMATS = {"USD": "dollar", "EUR": "euro", "CNY": "yen", "JPY": "yen"}


def column_config(columns, language: str, currency: str, labels: dict[str, str] | None = None) -> dict:
    """st.dataframe column settings: names in the user's language, numbers formatted by kind."""
    config = {}
    for column in columns:
        name = ((labels or {}).get(column) or (metric_label(column, language) if column in ALL else None)
                or column_name(column, language) or column)
        kind = ALL[column].kind if column in ALL else None
        if column in MONTH_COLUMNS:
            config[column] = st.column_config.DateColumn(name, format="YYYY-MM")
        elif column.endswith(("_date", "_purchase", "_next_order")):
            config[column] = st.column_config.DateColumn(name, format="YYYY-MM-DD")
        elif kind == "rate" or column.endswith(("_share", "retention")) or column in (
                "p_alive", "rel_lift", "ci_low", "ci_high", "cuped_rel_lift", "cuped_variance_reduction"):
            config[column] = st.column_config.NumberColumn(name, format="percent")
        elif kind == "money" or column in ("revenue", "monetary", "aov", "avg_monetary", "historical_revenue",
                                           "predicted_clv", "total_clv", "expected_aov", "historical_value"):
            # a currency without a symbol format of its own: two decimals and separators, its code in the header
            named = CURRENCY_FORMATS.get(currency)
            config[column] = st.column_config.NumberColumn(
                name if named or not currency else f"{name} ({currency})", format=named or "accounting")
        elif kind == "ratio" or column.startswith(("avg_", "expected_orders")) or column == "orders_per_customer":
            config[column] = st.column_config.NumberColumn(name, format="%.2f")
        elif kind in ("count", "days"):
            config[column] = st.column_config.NumberColumn(name, format="localized")
        else:
            config[column] = st.column_config.Column(name)
    return config


def show_table(frame: pd.DataFrame, name: str, key: str, language: str, currency: str,
               labels: dict[str, str] | None = None, height: int | None = None, customer_list: bool = False,
               download: pd.DataFrame | Callable[[], pd.DataFrame] | None = None,
               download_rows: int | None = None) -> None:
    """A formatted table with CSV and Excel downloads beneath it (of `download` when given: the same
    rows with numbers where the table shows text, or a function reading more rows than the screen
    shows, `download_rows` of them, called only when a download is clicked).

    `customer_list=True` marks a table of individual customers (ids, e-mails): its downloads are
    offered only to analysts and admins (see ui.auth); viewers see the table without them. Any
    table with a customer id column counts as one, flag or not.
    """
    customer_list = customer_list or bool(CUSTOMER_COLUMNS.intersection(map(str, frame.columns)))
    if download is None:
        download = frame  # the download keeps the codes; the screen shows them as words
    if download_rows is None:
        if callable(download):
            raise ValueError("a download read on click needs its row count (download_rows)")
        download_rows = len(download)
    if "member_tier" in frame.columns:  # no tier is a non-member, as in the KPIs (not "None" on screen)
        frame = frame.assign(member_tier=frame["member_tier"].where(frame["member_tier"].notna(), "none"))
    # text cells without a value: empty, not Streamlit's English "None"
    # (object columns, and pandas 3's own string dtype: a file's rejected rows read back from Parquet)
    empty_text = [c for c in frame.columns if (frame[c].dtype == object or pd.api.types.is_string_dtype(frame[c]))
                  and frame[c].isna().any() and frame[c].dropna().map(lambda v: isinstance(v, str)).all()]
    if empty_text:
        frame = frame.assign(**{c: frame[c].where(frame[c].notna(), "") for c in empty_text})
    # the validation report's reasons and codes (a table with a "reason" column; "reasons": rejected rows)
    worded = {"reason", "code", "reasons", "field"} if "reason" in frame.columns else {"reasons"}
    coded = [c for c in frame.columns if c in VALUE_COLUMNS or (c in WORDED_COLUMNS and c in worded)]
    if coded:
        frame = frame.assign(**{c: frame[c].map(lambda v, c=c: value_name(c, v, language)) for c in coded})
    p_columns = [c for c in frame.columns if c in P_COLUMNS]
    if p_columns:  # "< 0.001", not 0.000000000000001
        frame = frame.assign(**{c: frame[c].map(format_p) for c in p_columns})
    if "chance_to_win" in frame.columns:  # "> 99.9%", not a certainty of 100.0%
        frame = frame.assign(chance_to_win=frame["chance_to_win"].map(lambda v: format_chance(v, language)))
    config = column_config(frame.columns, language, currency, labels)
    for column in frame.columns:  # whole numbers without a kind (customers per arm, rows): 4,871
        if isinstance(config.get(column), dict) and "type_config" not in config[column] \
                and pd.api.types.is_integer_dtype(frame[column]):
            config[column] = st.column_config.NumberColumn(config[column].get("label"), format="localized")
    for column in frame.columns:  # date formats only for real dates: rejected rows keep the file's text
        if isinstance(config.get(column), dict) and config[column].get("type_config", {}).get("type") == "date" \
                and not pd.api.types.is_datetime64_any_dtype(frame[column]) \
                and frame[column].map(lambda v: isinstance(v, str)).any():
            config[column] = st.column_config.Column(config[column].get("label"))
    frame, config = _missing_as_dash(frame, config, language, currency)
    frame, config = _percent_with_one_decimal(frame, config)
    st.dataframe(frame, hide_index=True, column_config=config, key=key, height=height or "auto")
    if customer_list and not auth.may_download_customer_lists():
        st.caption(t("customer_list_note", language))
        return
    log = None
    if customer_list:  # who took which customer list, in the activity log
        user = auth.session_user()

        def log(kind: str) -> None:
            record_access_event("download_customer_list", user.name if user else None, table=name,
                                format=kind, rows=download_rows)
    rows = (lambda: for_download(download())) if callable(download) else for_download(download)
    download_buttons(rows, name, key, language, on_download=log, row_count=download_rows)


def _missing_as_dash(frame: pd.DataFrame, config: dict, language: str, currency: str) -> tuple[pd.DataFrame, dict]:
    """Number and date columns with a missing value as text, the missing ones "–": Streamlit draws a
    missing number or date as the English word "None", in every language (text cells are emptied above)."""
    def text(value, settings: dict) -> str:
        if pd.isna(value):
            return "–"
        number_format = settings.get("format")
        if settings.get("type") == "date":
            return pd.Timestamp(value).strftime("%Y-%m" if number_format == "YYYY-MM" else "%Y-%m-%d")
        if number_format == "percent":
            return format_value(value, "rate", language)
        if number_format in CURRENCY_FORMATS.values() or number_format == "money":
            return format_value(value, "money", language, currency)
        if number_format == "%.2f":
            return format_value(value, "ratio", language)
        return format_decimal_text(value, language, 0) if float(value).is_integer() else format_value(value, "ratio", language)

    for column in frame.columns:
        settings = (config.get(column) or {}) if isinstance(config.get(column), dict) else {}
        values = frame[column]
        type_config = settings.get("type_config") or (
            {"type": "number"} if pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            else {"type": "date"} if pd.api.types.is_datetime64_any_dtype(values) else {})
        if type_config.get("type") not in ("number", "date") or not values.isna().any():
            continue
        frame = frame.assign(**{column: frame[column].map(lambda v, c=type_config: text(v, c))})
        config[column] = st.column_config.Column(settings.get("label") or column_name(column, language) or column,
                                                 alignment="right" if type_config["type"] == "number" else None)
    return frame, config


def _percent_with_one_decimal(frame: pd.DataFrame, config: dict) -> tuple[pd.DataFrame, dict]:
    """Percentages with one decimal each ("90.0%" above "10.8%"): Streamlit's "percent" format drops trailing
    zeros ("90%" above "10.76%"). The screen's copy is scaled to percent; downloads keep the fractions."""
    for column in frame.columns:
        settings = config.get(column)
        if isinstance(settings, dict) and (settings.get("type_config") or {}).get("format") == "percent":
            frame = frame.assign(**{column: frame[column] * 100})
            config[column] = st.column_config.NumberColumn(settings.get("label"), format="%.1f%%")
    return frame, config


def blank_missing(frame: pd.DataFrame) -> pd.DataFrame:
    """Missing cells as empty text, never Streamlit's English "None" (a file's preview, in any language):
    a column with a missing value shows its values as text."""
    gaps = [column for column in frame.columns if frame[column].isna().any()]
    return frame.assign(**{column: frame[column].map(lambda v: "" if pd.isna(v) else v).astype(object)
                           for column in gaps}) if gaps else frame


def with_interval_column(frame: pd.DataFrame, language: str) -> pd.DataFrame:
    """The relative lift's interval as one text column "ci" ("-2.1% to +5.3%") where ci_low and ci_high
    were, for the screen: one narrow column instead of two keeps it in view at 1440 px (downloads keep both)."""
    if not {"ci_low", "ci_high"} <= set(frame.columns):
        return frame

    def text(low, high) -> str:
        if pd.isna(low) or pd.isna(high):
            return ""
        # relative changes: +4.2%, and 0.0% (not "-0.0%") for a bound that rounds to zero
        return t("interval", language, low=format_change(low, "relative", language),
                 high=format_change(high, "relative", language))

    at = list(frame.columns).index("ci_low")
    interval = [text(low, high) for low, high in zip(frame["ci_low"], frame["ci_high"])]
    out = frame.drop(columns=["ci_low", "ci_high"])
    out.insert(at, "ci", interval)
    return out


def with_arm_sizes_column(frame: pd.DataFrame) -> pd.DataFrame:
    """n_control and n_variant as one text column "arm_sizes" ("467 / 487") where they were, for the
    screen: one narrow column instead of two keeps the tables in view at 1440 px (downloads keep both)."""
    if not {"n_control", "n_variant"} <= set(frame.columns):
        return frame

    def text(control, variant) -> str:
        return "" if pd.isna(control) or pd.isna(variant) else f"{int(control):,} / {int(variant):,}"

    at = list(frame.columns).index("n_control")
    sizes = [text(control, variant) for control, variant in zip(frame["n_control"], frame["n_variant"])]
    out = frame.drop(columns=["n_control", "n_variant"])
    out.insert(min(at, len(out.columns)), "arm_sizes", sizes)
    return out


def show_sentences(frame: pd.DataFrame, name: str, key: str, language: str, labels: dict[str, str],
                   download: pd.DataFrame | None = None) -> None:
    """A small table of sentences that wrap (st.table, not st.dataframe, whose cells cut long text off
    at the screen's edge), with CSV and Excel downloads of `download` (default: `frame`) beneath.

    st.table renders Markdown in its cells, and the sentences name experiments and variants from the
    data: every cell and heading is escaped to show as the characters it is made of.
    """
    shown = frame.astype(object).where(frame.notna(), "").map(markdown_text)
    shown.columns = [markdown_text(labels.get(column, column)) for column in frame.columns]
    st.table(shown, hide_index=True)
    download_buttons(for_download(frame if download is None else download), name, key, language)


def for_download(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows as a spreadsheet wants them: months as 2023-01, whole-number columns as integers
    (1344, not 1344.0; empty cells stay empty)."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if column in MONTH_COLUMNS and pd.api.types.is_datetime64_any_dtype(values):
            out[column] = values.dt.strftime("%Y-%m")
        elif pd.api.types.is_float_dtype(values) and values.notna().any() \
                and (values.dropna() % 1 == 0).all() and values.abs().max() < 2**53:
            out[column] = values.astype("Int64")
    return out
