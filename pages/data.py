"""Data: upload an export (preview, mapping, progress, validation report), stored batches.

The only page that changes data, for analysts and admins (viewers are refused here, and the page
is not listed for them). An import is staged and published atomically by the store, so other
pages keep showing the previous version until it is complete. Every change is written to the
store's audit log with the signed-in user's name.
"""

import streamlit as st

from ui import auth, upload_flow
from ui.activity import draw_activity
from ui.batch_list import draw_batch
from ui.config import pseudonym_key
from ui.context import page_context
from ui.presets import draw_presets
from ui.uploads import upload_on_disk

ctx = page_context()
user = auth.require("upload", ctx.language)  # a viewer who types /data gets a refusal, nothing else
privacy_key = pseudonym_key()
st.title(ctx.t("data"))
if privacy_key:
    st.caption(ctx.t("pseudonymised"))

st.subheader(ctx.t("upload_title"))
kind = upload_flow.choose_kind(ctx)
uploaded = st.file_uploader(ctx.t("upload_help"), type=upload_flow.FILE_TYPES, key="upload")
if uploaded is not None:
    with upload_on_disk(uploaded.name, uploaded.getvalue()) as upload_path:  # deleted when the run ends
        upload_flow.draw_upload(ctx, user, kind, uploaded.name, upload_path, privacy_key, uploaded.file_id)

if ctx.facts["orders"]:
    with st.expander(ctx.t("derive_title")):
        upload_flow.draw_derive_section(ctx, user, privacy_key)

st.subheader(ctx.t("batches"))
batches = ctx.store.batches()
if not batches:
    st.caption(ctx.t("no_batches"))
for batch in reversed(batches):
    draw_batch(ctx, user, batch)

if user.mode == "off":
    st.caption(ctx.t("auth_off"))
    with st.expander(ctx.t("presets")):
        draw_presets(ctx.store, user, ctx.language)
with st.expander(ctx.t("activity")):
    draw_activity(ctx.store, ctx.language)
