"""What every page needs to know: language, filters, presentation mode, the store and its version.

`dashboard.py` draws the controls (all bound to the URL, so a shared link reopens the same
view); pages call `page_context()` to read them.
"""

from dataclasses import dataclass
from datetime import date

import streamlit as st

from metrics.filters import Filters
from store import Store
from ui import auth, data, date_ranges
from ui.formatting import currencies_in_use
from ui.i18n import LANGUAGES, count, t
from ui.safe_text import markdown_t, markdown_text
from ui.texts import filters_text
from ui.users import User

FILTER_KEYS = ("member_tier", "channel", "region", "category")
# the currency box's "not stated", in both languages at once like the language switch's label: a
# label that changed with the language would be sent back stale (see draw_sidebar_filters)
NOT_STATED_MARK = " / ".join(t("currency_not_stated", code) for code in LANGUAGES)  # "not stated / 未注明"
LANGUAGE_LABEL = " / ".join(t("language", code) for code in LANGUAGES)  # "Language / 语言"


@dataclass(frozen=True)
class PageContext:
    language: str
    filters: Filters
    presentation: bool
    store: Store
    version: int
    currency: str  # "" when no export stated it and nobody chose one: amounts show without a symbol
    facts: dict  # row counts and date range of the store
    user: User | None = None  # who is signed in, and their role

    @property
    def root(self) -> str:
        return str(self.store.root)

    def t(self, key: str, **values) -> str:
        return t(key, self.language, **values)

    def md(self, key: str, **values) -> str:
        """`t` for Markdown (captions, alerts): values from data show as text, never as markup."""
        return markdown_t(key, self.language, **values)

    def count(self, n: int, noun: str) -> str:
        return count(n, noun, self.language)


LANGUAGE_CHOICES = {name: code for code, name in LANGUAGES.items()}  # the URL shows the label: ?lang=中文
# what a shared link may say for a language, in lower case: the codes, locales, and the switch's labels
LANGUAGE_ALIASES = {"en": "en", "en-us": "en", "en-gb": "en", "zh": "zh", "zh-cn": "zh", "zh_cn": "zh", "zh-hans": "zh",
                    "cn": "zh", "chinese": "zh", **{name.lower(): code for code, name in LANGUAGES.items()}}


def language() -> str:
    return LANGUAGE_CHOICES.get(st.session_state.get("lang"), "en")


def language_code(value) -> str | None:
    """The language a link's ?lang= names ("zh", "zh-CN", "中文" -> "zh"), or None for anything else."""
    return LANGUAGE_ALIASES.get(str(value).strip().lower()) if value is not None else None


def _language_alias_in_link() -> bool:
    """Whether a session's first run was opened by a link naming the language other than by the
    switch's label (?lang=zh, zh-CN, EN...); if so, the URL now names it the switch's way.

    The switch is bound to the URL, and its binding understands only its labels ("English", "中文"):
    it would drop ?lang=zh and show English. So the label is written into the URL before the switch
    exists, and the dashboard starts the run again once the page the link names is known
    (`rerun_for_language_link`): the switch is then drawn from the URL, as for ?lang=中文."""
    if "lang" in st.session_state or st.session_state.get("_lang_from_link"):
        return False
    asked = st.query_params.get("lang")
    code = language_code(asked)
    if not code or asked == LANGUAGES[code]:
        return False
    st.query_params["lang"] = LANGUAGES[code]
    st.session_state["_lang_from_link"] = True
    return True


def rerun_for_language_link() -> None:
    """Start the run again when `draw_top_controls` rewrote the link's language (call after
    st.navigation, so the rerun keeps the page)."""
    if st.session_state.get("_lang_from_link") and "lang" not in st.session_state:
        st.rerun()


def keep_choice(key: str, options, label) -> None:
    """Keep a choice whose shown label depends on the language across a language switch.

    Streamlit's selectbox and radio send back the *label* the browser last showed; after a switch
    of language that label is no longer one of the options, and Streamlit hands it over as the
    value (the currency became "CNY (from the data)"). Call this before drawing the widget:
    `label(option, language)` is its format_func in each language; a stale label becomes its
    option again, anything else the default.
    """
    if key not in st.session_state:
        return
    value = st.session_state[key]
    if any(value == option for option in options):
        if len({label(value, code) for code in LANGUAGES}) > 1:
            # set again, so the browser is sent it: left alone, it keeps the label it showed last, which after
            # a switch of language is none of the options (a radio with nothing chosen, an English "(not in
            # this file)" among Chinese labels)
            st.session_state[key] = value
        return
    for option in options:
        if any(value == label(option, code) for code in LANGUAGES):
            st.session_state[key] = option
            return
    del st.session_state[key]


def draw_top_controls() -> None:
    """Language and presentation toggles at the top right of every page."""
    if _language_alias_in_link():
        return  # no switch this run: it would read the old ?lang= (see rerun_for_language_link)
    _, language_column, presentation_column = st.columns([5, 1.4, 2], vertical_alignment="center")
    language_column.segmented_control(
        LANGUAGE_LABEL, options=list(LANGUAGE_CHOICES), default=LANGUAGES["en"],
        key="lang", bind="query-params", label_visibility="collapsed", required=True,
    )
    lang = language()
    presentation_column.toggle(
        t("presentation", lang), key="present", bind="query-params", help=t("presentation_help", lang),
    )


def draw_sidebar_filters(store: Store, version: int, facts: dict) -> None:
    """Date range and dimension filters in the sidebar, each bound to a URL parameter."""
    lang = language()
    options = data.dimension_values(str(store.root), version)

    # Options are currency codes only, so no option's label depends on the language: a label that
    # changes under a selectbox is sent back stale.
    stated = store.currency() or ""
    choices = currency_choices(stated)
    keep_choice("currency", choices, lambda code, language_code: code or NOT_STATED_MARK)
    with st.sidebar:
        st.header(t("filters", lang))
        ranges, first, last = _quick_ranges(store, version, facts)
        quick = st.container()  # above the dates, drawn after them: a shared link's dates are read by then
        st.date_input(t("date_from", lang), value=first, min_value=first, max_value=last,
                      key="from", bind="query-params")
        st.date_input(t("date_to", lang), value=last, min_value=first, max_value=last,
                      key="to", bind="query-params")
        if ranges:
            # the pills show the range the dates make: a shared link's, or none after a date typed by hand
            st.session_state["quick_range"] = date_ranges.quick_range_shown(
                ranges, st.session_state.get("from"), st.session_state.get("to"), first, last)
            quick.pills(t("quick_range", lang), list(ranges), key="quick_range",
                        format_func=lambda months: t("last_n_months", lang, months=months),
                        on_change=_apply_quick_range,
                        help=t("quick_range_help", lang, month=f"{max(end for _, end in ranges.values()):%Y-%m}"))
        for key in FILTER_KEYS:
            st.multiselect(t(key, lang), options[key], key=key, bind="query-params",
                           placeholder=t("all", lang))
        st.selectbox(t("currency", lang), choices, key="currency", bind="query-params",
                     format_func=lambda code: code or NOT_STATED_MARK, disabled=bool(stated),
                     help=t("currency_help_stated" if stated else "currency_help", lang))


def _quick_ranges(store: Store, version: int, facts: dict) -> tuple[dict, date | None, date | None]:
    """(the quick ranges offered, the data's first day, its last day) of store version `version`."""
    first, last = date_ranges.data_days(facts)
    return date_ranges.quick_ranges(data.latest_full_month(str(store.root), version), first, last), first, last


def _apply_quick_range() -> None:
    """The chosen quick range into the date boxes; none chosen (the pill clicked again): the whole history. Both
    as the store is now: an upload since the pills were drawn moves the months and the last day."""
    store = data.current_store()
    version = data.store_version(store)
    ranges, first, last = _quick_ranges(store, version, data.inventory(str(store.root), version))
    chosen = st.session_state.get("quick_range")
    st.session_state["from"], st.session_state["to"] = ranges[chosen] if chosen in ranges else (first, last)


def apply_presentation_style() -> None:
    """Big type and no sidebar for screen-sharing."""
    st.html(
        """
        <style>
        [data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"] { display: none; }
        .stMainBlockContainer p, .stMainBlockContainer li { font-size: 1.3rem; }
        [data-testid="stTable"] th, [data-testid="stTable"] td,
        [data-testid="stTable"] td p { font-size: 1.15rem !important; }
        [data-testid="stMetricValue"], [data-testid="stMetricValue"] * { font-size: 3.6rem !important; }
        [data-testid="stMetricLabel"], [data-testid="stMetricLabel"] * { font-size: 1.5rem !important; }
        [data-testid="stMetricLabel"] * { white-space: normal !important; overflow: visible !important;
                                          text-overflow: clip !important; }
        [data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * { font-size: 1.3rem !important; }
        </style>
        """
    )


def show_active_filters(ctx: PageContext) -> None:
    """Name the filters in force above a page's numbers, so a shared screen says what it shows
    (presentation mode hides the sidebar that holds them)."""
    sentence = filters_text(ctx, escape=markdown_text)
    if sentence:
        st.info(sentence, icon=":material/filter_alt:")


def _ensure_entry_point_ran() -> None:
    """Rerun through dashboard.py when Streamlit ran a page file on its own.

    A folder named pages/ beside the entry point makes Streamlit start in its old multipage
    mode, which runs pages/NAME.py directly for a first visit to /NAME, until some session has
    called st.navigation. Switching that mode off and rerunning gives the real app.
    """
    from streamlit.runtime.pages_manager import PagesManager

    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()


def currency_choices(stated: str) -> list[str]:
    """The currency box's options: the data's own currency alone when an upload stated it (amounts are never
    converted, so any other symbol would misname them); else "" (not stated), then the codes to show them with."""
    return [stated] if stated else ["", *currencies_in_use()]


def _chosen_currency(stated: str) -> str | None:
    """The currency chosen in the sidebar or URL: only ever one of the options, never a label."""
    chosen = st.session_state.get("currency")
    return chosen if chosen and chosen in currency_choices(stated) else None


def page_context() -> PageContext:
    """The current language, filters and store, as the widgets and URL say."""
    _ensure_entry_point_ran()
    store = data.current_store()
    version = data.store_version(store)
    facts = data.inventory(str(store.root), version)
    data.warm_up(str(store.root), version)  # after an upload, the value fit and the Playbook start at once
    # the date boxes always hold a range: a date that does not narrow the store's is no filter
    start, end = date_ranges.date_filters(st.session_state.get("from"), st.session_state.get("to"),
                                          *date_ranges.data_days(facts))
    filters = Filters(
        start=start,
        end=end,
        **{key: tuple(st.session_state.get(key) or ()) for key in FILTER_KEYS},
    )
    return PageContext(
        language=language(),
        filters=filters,
        presentation=bool(st.session_state.get("present")),
        store=store,
        version=version,
        currency=_chosen_currency(store.currency() or "") or store.currency() or "",
        facts=facts,
        user=auth.session_user(),
    )
