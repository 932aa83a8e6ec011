"""The activity log screen: the store's audit log, newest first (Data and Admin pages)."""

import pandas as pd
import streamlit as st

from store import Store, clean_file_name
from ui.i18n import t
from ui.tables import show_table

COLUMNS = ["at", "user", "via", "action", "file", "kind", "rows_read", "rows_accepted", "rows_rejected",
           "rows_removed", "batch_id", "preset", "target", "role", "table", "format", "rows", "sha256"]


def draw_activity(store: Store, language: str, limit: int = 200) -> None:
    """The latest `limit` entries of the store's audit log, newest first."""
    entries = store.audit_log(limit)
    st.subheader(t("activity", language))
    if not entries:
        st.caption(t("no_activity", language))
        return
    frame = pd.DataFrame(list(reversed(entries)))
    frame = frame[[c for c in COLUMNS if c in frame.columns]]
    if "file" in frame.columns:  # entries written before names were cleaned on the way in
        frame["file"] = frame["file"].map(lambda name: clean_file_name(name) if isinstance(name, str) else name)
    if "at" in frame.columns:  # 2026-12-06 19:08:45 UTC, not 2026-12-06T19:08:45+00:00
        when = pd.to_datetime(frame["at"], utc=True, errors="coerce")
        frame["at"] = when.dt.strftime("%Y-%m-%d %H:%M:%S UTC").where(when.notna(), frame["at"])
    show_table(frame, "activity_log", "activity_table", language, "", height=300)
