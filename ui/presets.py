"""Saved column mappings ("presets") on screen: save the Data page's mapping, list and delete them."""

import streamlit as st

from ingest import Preset, is_builtin_name, preset_to_save, saved_preset_path, saved_presets
from store import Store, clean_file_name
from ui.i18n import t
from ui.safe_text import markdown_t, markdown_text
from ui.users import User

MAX_NAME = 40


def safe_preset_name(name: str | None) -> str:
    """The name as saved: letters, digits, - and _ only, at most MAX_NAME characters."""
    return "".join(ch for ch in (name or "") if ch.isalnum() or ch in "-_")[:MAX_NAME]


def draw_save_preset(store: Store, user: User, columns: dict[str, str], file_name: str, language: str,
                     recognised: Preset | None = None, status_words: dict[str, str] | None = None,
                     each_row_an_order: bool = False) -> None:
    """An expander that saves the mapping `columns` (field -> header), with the rules of the format the file was
    `recognised` as, the meanings given to its status words and whether each row is one order, under a name the
    user types (the command line's --preset then reads the next export the same way: ingest.preset_to_save).

    Built-in names are refused for everyone; an existing saved name only an admin may replace."""
    with st.expander(t("save_preset", language)):
        name = st.text_input(t("preset_name", language), key="preset_name", max_chars=MAX_NAME)
        safe_name = safe_preset_name(name)
        if not st.button(t("save_preset", language), key="save_preset", disabled=not safe_name):
            return
        target = saved_preset_path(store.root, safe_name)
        if is_builtin_name(safe_name):  # built-ins are the same for everyone: never replaced
            st.error(t("preset_reserved", language, name=markdown_text(safe_name)))
        elif target.exists() and not user.can("manage_presets"):
            st.error(t("preset_exists", language, name=markdown_text(safe_name)))
        else:
            preset_to_save(safe_name, clean_file_name(file_name), columns, recognised, status_words,
                           each_row_an_order).save(target)
            store.record_event("save_preset", user=user.name, via="app", preset=safe_name,
                               file=clean_file_name(file_name))
            st.success(markdown_t("saved_preset", language, name=safe_name))


def draw_presets(store: Store, user: User, language: str) -> None:
    """Saved column mappings of the store, each deletable by an admin."""
    presets = saved_presets(store.root)
    st.subheader(t("presets", language))
    if not presets:
        st.caption(t("no_presets", language))
        return
    for name, preset in sorted(presets.items()):
        left, right = st.columns([8, 1], vertical_alignment="center")
        about = t("preset_saved_from", language, file=preset.saved_from) if preset.saved_from else preset.label
        left.markdown(f"**{markdown_text(name)}** · {markdown_text(about or '')}")
        if user.can("manage_presets") and right.button(t("delete", language), key=f"_delete_preset_{name}"):
            saved_preset_path(store.root, name).unlink(missing_ok=True)
            store.record_event("delete_preset", user=user.name, via="app", preset=name)
            st.toast(t("preset_deleted", language, name=markdown_text(name)))
            st.rerun()
