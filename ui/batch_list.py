"""The Data page's stored batches: one box per upload with its counts, removal and validation report."""

import streamlit as st

from ingest import batch_problems
from store import clean_file_name
from ui.context import PageContext
from ui.safe_text import markdown_text
from ui.tables import show_table
from ui.upload_flow import record_equation
from ui.users import User


def draw_batch(ctx: PageContext, user: User, batch: dict) -> None:
    """One stored batch: file, kind, time and counts; Remove (asked twice) for those who may; its issues."""
    with st.container(border=True):
        info, action = st.columns([8, 1], vertical_alignment="center")
        accepted = batch.get("orders_accepted", batch.get("rows_accepted"))
        info.markdown(
            f"**{markdown_text(clean_file_name(batch['file']))}** · {ctx.t('kind_' + batch['kind'])} · {batch['imported_at'][:16].replace('T', ' ')} · "
            f"{accepted:,} ✓ · {batch['rows_rejected']:,} ✗"
            + (" · " + ctx.t("replaced_by_newer", orders=f"{batch['orders_superseded_by_newer']:,}")
               if batch.get("orders_superseded_by_newer") else "")
            + (f" · {ctx.t('build_path_' + batch['build_path'])}" if batch.get("build_path") in ("append", "full") else "")
        )
        if "records_in_file" in batch:  # batches imported before the equation was recorded have none
            info.caption(record_equation(ctx, batch))
        if user.can("remove") and action.button(ctx.t("remove"), key=f"remove_{batch['id']}"):
            st.session_state["confirm_remove"] = batch["id"]
        if st.session_state.get("confirm_remove") == batch["id"] and user.can("remove"):
            _confirm_removal(ctx, user, batch)
        _draw_problems(ctx, batch)


def _confirm_removal(ctx: PageContext, user: User, batch: dict) -> None:
    st.warning(ctx.md("confirm_remove_assignments" if batch["kind"] == "assignments" else "confirm_remove",
                      file=clean_file_name(batch["file"])))
    if st.button(ctx.t("remove") + " ✓", key=f"confirm_{batch['id']}", type="primary"):
        try:
            ctx.store.remove_batch(batch["id"], user=user.name, via="app")
        except KeyError:  # someone else removed it meanwhile
            pass
        st.session_state.pop("confirm_remove", None)
        st.rerun()


def _draw_problems(ctx: PageContext, batch: dict) -> None:
    """The batch's validation report and rejected rows (customer lists: downloads for analysts only)."""
    issues, rejected = batch_problems(ctx.store, batch["id"])
    if not len(issues):
        return
    with st.expander(f"{ctx.t('issues')} ({len(issues):,})"):
        show_table(issues, f"issues_{batch['file']}", f"issues_{batch['id']}", ctx.language, ctx.currency, height=240,
                   customer_list=True)
        if len(rejected):
            st.caption(ctx.t("rejected_rows"))
            show_table(rejected, f"rejected_{batch['file']}", f"rejected_{batch['id']}", ctx.language,
                       ctx.currency, height=240, customer_list=True)
