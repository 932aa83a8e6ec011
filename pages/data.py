"""Data: upload an export (preview, mapping, progress, validation report), stored batches.

The only page that changes data, for analysts and admins (viewers are refused here, and the page
is not listed for them). An import is staged and published atomically by the store, so other
pages keep showing the previous version until it is complete. Every change is written to the
store's audit log with the signed-in user's name.
"""

from datetime import date, timedelta
from pathlib import Path

import streamlit as st

from ingest import ImportRefused, batch_problems, import_file, preview
from ingest.assignments import import_assignments
from ingest.derived_assignments import COLUMNS as DERIVE_COLUMNS
from ingest.derived_assignments import derive_assignments, period_values
from ingest.mapping import FIELDS, Preset, is_builtin_name
from metrics.experiments import STRATEGIES, strategy_label
from store import Store, clean_file_name
from ui import auth
from ui.context import CURRENCIES, keep_choice, page_context
from ui.i18n import refusal_text, t
from ui.safe_text import markdown_text
from ui.tables import show_table
from ui.uploads import upload_on_disk

ctx = page_context()
user = auth.require("upload", ctx.language)  # a viewer who types /data gets a refusal, nothing else
pseudonym_key = auth.pseudonym_key()
st.title(ctx.t("data"))
if pseudonym_key:
    st.caption(auth.t("pseudonymised", ctx.language))

st.subheader(ctx.t("upload_title"))
keep_choice("upload_kind", ["orders", "assignments"], lambda k, language: t(f"kind_{k}", language))
kind = st.radio(ctx.t("upload_kind"), ["orders", "assignments"], horizontal=True, key="upload_kind",
                format_func=lambda k: ctx.t(f"kind_{k}"))
uploaded = st.file_uploader(ctx.t("upload_help"), type=["csv", "txt", "tsv", "xlsx", "xls", "parquet"], key="upload")

NOT_STATED = "-"  # the answer "the currency is not stated" to the currency question


def record_equation(parts: dict) -> str:
    """records in the file = accepted + rejected + folded + skipped (with why), in the page's language."""
    reasons = ctx.t("list_separator").join(ctx.t("skipped_item", count=f"{count:,}", reason=ctx.t(f"skip_{reason}"))
                        for reason, count in parts.get("skipped_reasons", {}).items())
    return ctx.t("record_equation", records=f"{parts['records_in_file']:,}", accepted=f"{parts['records_accepted']:,}",
                 rejected=f"{parts['records_rejected']:,}", folded=f"{parts['records_folded']:,}",
                 skipped=f"{parts['records_skipped']:,}",
                 reasons=ctx.t("skipped_because", reasons=reasons) if reasons else "")


def draw_upload(path: Path) -> None:
    """Preview, mapping and import of the upload at `path` (a file that lives for this run only)."""
    columns = None
    currency_answer = NOT_STATED  # asked below only when neither the file nor its preset states it
    if kind == "orders":
        try:
            frame, mapping = preview(path, ctx.store)
        except ImportRefused as refused:
            st.error(ctx.md("refused", reason=refusal_text(refused, ctx.language)))
            return
        st.caption(ctx.t("preview"))
        st.dataframe(frame, hide_index=True, key="preview_table", height=220)
        if mapping.preset:
            st.success(ctx.md("preset_detected", preset=mapping.preset.label or mapping.preset.name))
        st.markdown(f"**{ctx.t('mapping')}** · {ctx.t('mapping_help')}")
        headers = [None, *frame.columns]
        grid = st.columns(4)
        columns = {}
        for index, field in enumerate(FIELDS):
            current = mapping.columns.get(field)
            keep_choice(f"map_{field}", headers, lambda h, language: t("not_mapped", language) if h is None else h)
            choice = grid[index % 4].selectbox(
                field, headers, index=headers.index(current) if current in headers else 0,
                format_func=lambda h: ctx.t("not_mapped") if h is None else h, key=f"map_{field}",
            )
            if choice:
                columns[field] = choice
        with st.expander(ctx.t("save_preset")):
            name = st.text_input(ctx.t("preset_name"), key="preset_name", max_chars=40)
            safe_name = "".join(ch for ch in (name or "") if ch.isalnum() or ch in "-_")[:40]
            if st.button(ctx.t("save_preset"), key="save_preset", disabled=not safe_name):
                target = ctx.store.root / "presets" / f"{safe_name}.json"
                if is_builtin_name(safe_name):  # built-ins are the same for everyone: never replaced
                    st.error(auth.t("preset_reserved", ctx.language, name=markdown_text(safe_name)))
                elif target.exists() and not user.can("manage_presets"):
                    st.error(auth.t("preset_exists", ctx.language, name=markdown_text(safe_name)))
                else:
                    Preset(name=safe_name, label=f"saved from {clean_file_name(uploaded.name)}",
                           columns={f: [h] for f, h in columns.items()}).save(target)
                    ctx.store.record_event("save_preset", user=user.name, via="app", preset=safe_name,
                                           file=clean_file_name(uploaded.name))
                    st.success(ctx.md("saved_preset", name=safe_name))
        if "currency" not in columns and not (mapping.preset and mapping.preset.currency):
            def currency_answer_label(c, language):
                return t("choose_currency", language) if c is None else \
                    t("currency_not_stated", language) if c == NOT_STATED else c

            keep_choice("upload_currency", [None, NOT_STATED, *CURRENCIES], currency_answer_label)
            currency_answer = st.selectbox(
                ctx.t("upload_currency"), [None, NOT_STATED, *CURRENCIES], key="upload_currency", width=260,
                format_func=lambda c: ctx.t("choose_currency") if c is None
                else ctx.t("currency_not_stated") if c == NOT_STATED else c,
                help=ctx.t("upload_currency_help"))

    if st.button(ctx.t("import"), type="primary", key="import_button", disabled=currency_answer is None):
        progress = st.progress(0.0, text=ctx.md("importing", file=clean_file_name(uploaded.name)))
        try:
            if kind == "orders":
                report = import_file(path, ctx.store, columns=columns, user=user.name, via="app", pseudonym_key=pseudonym_key,
                                     progress=lambda fraction, message: progress.progress(fraction, text=markdown_text(message)),
                                     currency=None if currency_answer == NOT_STATED else currency_answer)
                st.success(ctx.md("imported", orders=ctx.count(report.orders_accepted, "order"),
                                 rows=ctx.count(report.rows_read, "row"), file=report.file,
                                 rejected=ctx.count(report.rows_rejected, "row"),
                                 warnings=ctx.count(report.warnings, "warning")))
                if report.unpaid_orders or report.cancelled_orders or report.refunded_orders:
                    st.info(ctx.t("accepted_not_valid", unpaid=f"{report.unpaid_orders:,}",
                                  cancelled=f"{report.cancelled_orders:,}", refunded=f"{report.refunded_orders:,}"))
                if report.refunds:
                    st.caption(ctx.t(f"refunds_{report.refunds}"))
                if not report.customer_ids:
                    st.warning(ctx.t("no_customer_ids"))
                if not report.currency:
                    st.caption(ctx.t("currency_unknown_note"))
                st.info(record_equation(report.to_dict()))
            else:
                result = import_assignments(path, ctx.store, user=user.name, via="app", pseudonym_key=pseudonym_key)
                progress.progress(1.0)
                st.success(ctx.md("imported_assignments", assignments=ctx.count(result["rows_accepted"], "assignment"),
                                 rows=ctx.count(result["rows_read"], "row"), file=result["file"],
                                 rejected=ctx.count(result["rows_rejected"], "row"),
                                 warnings=ctx.count(len(result["warnings"]), "warning")))
                for warning in result["warnings"]:
                    st.warning(markdown_text(warning))
        except ImportRefused as refused:
            progress.empty()
            st.error(ctx.md("refused", reason=refusal_text(refused, ctx.language)))


if uploaded is not None:
    with upload_on_disk(uploaded.name, uploaded.getvalue()) as upload_path:  # deleted when the run ends
        draw_upload(upload_path)


@st.cache_data(show_spinner=False, max_entries=32)
def column_values(root: str, version: int, column: str, start: date, end: date) -> list[str]:
    """Values of orders.<column> in the period, most customers first (the variant choices)."""
    con = Store(root).connect(version)
    try:
        return [value for value, _ in period_values(con, column, start, end)]
    finally:
        con.close()


def default_period(first: date, last: date) -> tuple[date, date]:
    """The last whole month before the data's last month (the whole range when there is none)."""
    end = last.replace(day=1) - timedelta(days=1)
    return (end.replace(day=1), end) if end.replace(day=1) >= first else (first, last)


def draw_derive_section() -> None:
    """An observational experiment from an order column (e.g. coupon users vs the others)."""
    first, last = ctx.facts["first_order"].date(), ctx.facts["last_order"].date()
    start_default, end_default = default_period(first, last)
    st.caption(ctx.t("derive_help"))
    row = st.columns([1.2, 1, 1])
    column = row[0].selectbox(ctx.t("derive_column"), DERIVE_COLUMNS, index=DERIVE_COLUMNS.index("coupon_code"),
                              key="derive_column", format_func=lambda c: f"orders.{c}")
    start = row[1].date_input(ctx.t("derive_start"), start_default, first, last, key="derive_start")
    end = row[2].date_input(ctx.t("derive_end"), end_default, first, last, key="derive_end")
    options = column_values(ctx.root, ctx.version, column, start, end) if start and end and start <= end else []
    if not options:
        st.caption(ctx.md("derive_no_values", column=column))
    values = st.multiselect(ctx.t("derive_values"), options, key="derive_values",
                            placeholder=ctx.t("derive_all_values"))
    row = st.columns([1.4, 1.2, 1])
    name = row[0].text_input(ctx.t("derive_name"), key="derive_name", max_chars=80)
    tags = list({label: tag for tag, label in reversed(STRATEGIES.items())}.values())[::-1]  # one per strategy
    strategy = row[1].selectbox(ctx.t("derive_strategy"), [None, *tags], key="derive_strategy",
                                format_func=lambda tag: ctx.t("derive_no_strategy") if tag is None
                                else strategy_label(tag)[1 if ctx.language == "zh" else 0])
    cost = row[2].number_input(ctx.t("derive_cost"), 0.0, 1_000_000.0, 0.0, step=1.0, key="derive_cost")
    if not st.button(ctx.t("derive_button"), key="derive_button"):  # a missing name is refused in words
        return
    try:
        result = derive_assignments(ctx.store, name, start, end, column=column, values=values or None,
                                    strategy=strategy, cost=cost or None, user=user.name, via="app",
                                    pseudonym_key=pseudonym_key)
    except ImportRefused as refused:
        st.error(ctx.md("refused", reason=refusal_text(refused, ctx.language)))
        return
    arms = ", ".join(f"{variant} {n:,}" for variant, n in result["arms"].items())
    st.success(ctx.md("derived", experiment=result["experiment"], column=column, arms=arms))
    for warning in result["warnings"]:
        st.warning(markdown_text(warning))


if ctx.facts["orders"]:
    with st.expander(ctx.t("derive_title")):
        draw_derive_section()

st.subheader(ctx.t("batches"))
batches = ctx.store.batches()
for batch in reversed(batches):
    with st.container(border=True):
        info, action = st.columns([8, 1], vertical_alignment="center")
        accepted = batch.get("orders_accepted", batch.get("rows_accepted"))
        info.markdown(
            f"**{markdown_text(clean_file_name(batch['file']))}** · {ctx.t('kind_' + batch['kind'])} · {batch['imported_at'][:16].replace('T', ' ')} · "
            f"{accepted:,} ✓ · {batch['rows_rejected']:,} ✗"
            + (f" · {batch['orders_superseded_by_newer']:,} replaced by newer uploads" if batch.get("orders_superseded_by_newer") else "")
        )
        if "records_in_file" in batch:  # batches imported before the equation was recorded have none
            info.caption(record_equation(batch))
        if user.can("remove") and action.button(ctx.t("remove"), key=f"remove_{batch['id']}"):
            st.session_state["confirm_remove"] = batch["id"]
        if st.session_state.get("confirm_remove") == batch["id"] and user.can("remove"):
            st.warning(ctx.md("confirm_remove", file=clean_file_name(batch["file"])))
            if st.button(ctx.t("remove") + " ✓", key=f"confirm_{batch['id']}", type="primary"):
                try:
                    ctx.store.remove_batch(batch["id"], user=user.name, via="app")
                except KeyError:  # someone else removed it meanwhile
                    pass
                st.session_state.pop("confirm_remove", None)
                st.rerun()
        issues, rejected = batch_problems(ctx.store, batch["id"])
        if len(issues):
            with st.expander(f"{ctx.t('issues')} ({len(issues):,})"):
                show_table(issues, f"issues_{batch['file']}", f"issues_{batch['id']}", ctx.language, ctx.currency, height=240,
                           customer_list=True)
                if len(rejected):
                    st.caption(ctx.t("rejected_rows"))
                    show_table(rejected, f"rejected_{batch['file']}", f"rejected_{batch['id']}", ctx.language,
                               ctx.currency, height=240, customer_list=True)

if user.mode == "off":
    st.caption(auth.t("auth_off", ctx.language))
    with st.expander(auth.t("presets", ctx.language)):
        auth.draw_presets(ctx.store, user, ctx.language)
with st.expander(auth.t("activity", ctx.language)):
    auth.draw_activity(ctx.store, ctx.language)
