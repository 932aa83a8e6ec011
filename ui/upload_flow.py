"""The Data page's upload steps: preview, column mapping, currency question, import and its report;
and an experiment derived from an order column. Each step draws itself; ingest does the work."""

import logging
import threading
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import streamlit as st
from streamlit.runtime.scriptrunner import add_script_run_ctx, get_script_run_ctx

from ingest import (DERIVE_COLUMNS, FIELDS, STATUS_MEANINGS, ImportRefused, currency_in_preview, derive_assignments,
                    import_assignments, import_file, missing_fields, preview, status_words_in_file)
from metrics.experiments import STRATEGY_TAGS
from store import clean_file_name
from ui import data
from ui.context import PageContext, keep_choice
from ui.formatting import currencies_in_use, currency_name
from ui.i18n import TEXT, field_label, preset_label, refusal_text, t
from ui.presets import draw_save_preset
from ui.safe_text import markdown_text
from ui.strategy_words import strategy_name
from ui.tables import blank_missing
from ui.users import User

KINDS = ["orders", "assignments"]
FILE_TYPES = ["csv", "txt", "tsv", "xlsx", "xls", "parquet"]
NOT_STATED = "-"  # the answer "the currency is not stated" to the currency question
# how long the page waits, once the upload is published, for the tables built after it (a small store's take
# a second or two): past it, the report shows and they go on being built in the background
LATE_TABLES_WAIT_SECONDS = 10


def choose_kind(ctx: PageContext) -> str:
    """What the uploaded file holds: orders or experiment assignments."""
    keep_choice("upload_kind", KINDS, lambda k, language: t(f"kind_{k}", language))
    return st.radio(ctx.t("upload_kind"), KINDS, horizontal=True, key="upload_kind",
                    format_func=lambda k: ctx.t(f"kind_{k}"))


def record_equation(ctx: PageContext, parts: dict) -> str:
    """records in the file = accepted + rejected + folded + skipped (with why), in the page's language."""
    reasons = ctx.t("list_separator").join(ctx.t("skipped_item", count=f"{count:,}", reason=ctx.t(f"skip_{reason}"))
                                           for reason, count in parts.get("skipped_reasons", {}).items())
    return ctx.t("record_equation", records=f"{parts['records_in_file']:,}", accepted=f"{parts['records_accepted']:,}",
                 rejected=f"{parts['records_rejected']:,}", folded=f"{parts['records_folded']:,}",
                 skipped=f"{parts['records_skipped']:,}",
                 reasons=ctx.t("skipped_because", reasons=reasons) if reasons else "")


def show_refusal(ctx: PageContext, refused: ImportRefused) -> None:
    """Why a file (or a derived experiment) was not imported."""
    st.error(ctx.md("refused", reason=refusal_text(refused, ctx.language)))


def draw_upload(ctx: PageContext, user: User, kind: str, file_name: str, path: Path, pseudonym_key: str | None,
                upload_id: str) -> None:
    """Preview, mapping and import of the upload at `path` (a file that lives for this run only; `upload_id`
    names this upload of it, as Streamlit's file id does)."""
    columns, missing, status_words, each_row = None, [], {}, False
    currency_answer = NOT_STATED  # asked below only when neither the file nor its preset states it
    if kind == "orders":
        try:
            frame, mapping = preview(path, ctx.store)
        except ImportRefused as refused:
            show_refusal(ctx, refused)
            return
        st.caption(ctx.t("preview"))
        st.dataframe(blank_missing(frame), hide_index=True, key="preview_table", height=220)
        if mapping.preset:
            st.success(ctx.md("preset_detected", preset=preset_label(mapping.preset.name, mapping.preset.label,
                                                                     ctx.language)))
        columns = _draw_mapping(ctx, file_name, list(frame.columns), mapping.columns)
        if "order_id" not in columns:  # a till or vending log: each row one order, its id made from the row
            each_row = st.checkbox(ctx.t("each_row_an_order"), value=mapping.each_row_an_order,
                                   key="each_row_an_order", help=ctx.t("each_row_an_order_help"))
        status_words = _ask_status_words(ctx, path, upload_id, columns) if "status" in columns else {}
        draw_save_preset(ctx.store, user, columns, file_name, ctx.language, mapping.preset, status_words, each_row)
        missing = missing_fields(columns, each_row)
        if missing:  # said here, before any question: the import would be refused for it
            st.warning(ctx.t("mapping_incomplete", fields=ctx.t("list_separator").join(
                ctx.t("field_amount_or_parts") if field == "amount" else field_label(field, ctx.language)
                for field in missing)) + (ctx.t("no_order_id_hint") if "order_id" in missing else ""))
        else:
            # as the import decides: the file's own currency (a currency column's codes, else signs in the
            # amounts; read here from the rows shown), else its preset's
            in_rows = currency_in_preview(frame, columns)
            preset_currency = mapping.preset.currency if mapping.preset else None
            held = ctx.store.currency()
            if in_rows and held and in_rows != held:  # likely refused; the whole file's main currency decides
                st.warning(ctx.t("currency_clash_in_rows", currency=in_rows, stored=held))
            elif in_rows:
                st.caption(ctx.t("currency_in_column" if "currency" in columns else "currency_in_amounts",
                                 currency=in_rows))
            elif preset_currency and held and preset_currency != held:  # refused on import: said now, Import waits
                show_refusal(ctx, ImportRefused("", code="other_currency", file=clean_file_name(file_name),
                                                currency=preset_currency, stored=held))
                currency_answer = None
            elif not preset_currency:  # nothing stated in the rows shown (an empty currency column too): asked
                currency_answer = _ask_currency(ctx)
    if kind == "orders":
        _say_if_uploaded_before(ctx, path, upload_id)
    if st.button(ctx.t("import"), type="primary", key="import_button", disabled=bool(missing) or currency_answer is None):
        progress = st.progress(0.0, text=ctx.md("importing", file=clean_file_name(file_name)))
        try:
            if kind == "orders":
                report, still_building = _import_until_published(
                    lambda on_published, progress_to: import_file(
                        path, ctx.store, columns=columns, user=user.name, via="app", pseudonym_key=pseudonym_key,
                        progress=progress_to, on_published=on_published,
                        currency=None if currency_answer == NOT_STATED else currency_answer,
                        status_words=status_words, each_row_an_order=each_row),
                    lambda fraction, step: progress.progress(fraction, text=_step_words(ctx, step)))
                if still_building:
                    st.info(ctx.t("late_tables_building"))
                else:
                    progress.progress(1.0, text=_step_words(ctx, "done"))
                _show_orders_report(ctx, report)
            else:
                result = import_assignments(path, ctx.store, user=user.name, via="app", pseudonym_key=pseudonym_key)
                progress.progress(1.0)
                _show_assignments_result(ctx, result)
        except ImportRefused as refused:
            progress.empty()
            show_refusal(ctx, refused)


def _say_if_uploaded_before(ctx: PageContext, path: Path, upload_id: str) -> None:
    """Before Import: the same bytes were imported before (an export downloaded twice); importing them again
    replaces those orders and lists the file twice. Looked up once per upload (a hash of the whole file)."""
    key = f"uploaded_before_{upload_id}"
    if key not in st.session_state:
        st.session_state[key] = [(batch["file"], batch["imported_at"][:16].replace("T", " "))
                                 for batch in ctx.store.batches_of_file(path)]
    for file, when in st.session_state[key][-1:]:
        st.info(ctx.md("uploaded_before", file=clean_file_name(file), when=when))


def _import_until_published(run_import: Callable, progress: Callable[[float, str], None]):
    """(report, still building): run_import(on_published, progress) in a thread of its own, returned once the
    store version is published and its late tables are built or LATE_TABLES_WAIT_SECONDS have passed; then
    they go on being built (the store's writer lock held: the next upload waits for them). Raises what the
    import raised before publishing (ImportRefused...)."""
    handed: dict = {}
    published = threading.Event()

    def on_published(report) -> None:
        handed["report"] = report
        published.set()

    def shown_progress(fraction: float, step: str) -> None:
        if not published.is_set():  # not after the page's run may have ended
            progress(fraction, step)

    def work() -> None:
        try:
            run_import(on_published, shown_progress)
        except BaseException as problem:  # noqa: BLE001 - raised again on the page's thread, or logged
            if published.is_set():
                logging.getLogger(__name__).exception("after publishing an upload")
            handed["error"] = problem
        finally:
            published.set()

    worker = threading.Thread(target=work, name="upload")
    add_script_run_ctx(worker, get_script_run_ctx())
    worker.start()
    published.wait()
    if "report" not in handed:
        raise handed["error"]
    worker.join(LATE_TABLES_WAIT_SECONDS)
    return handed["report"], worker.is_alive()


def _step_words(ctx: PageContext, step: str) -> str:
    """An import phase (an ingest.PROGRESS_STEPS code) in the page's language."""
    return ctx.t(f"progress_{step}") if f"progress_{step}" in TEXT else markdown_text(step)


def warning_texts(ctx: PageContext, result: dict) -> list[str]:
    """An assignments import's or derived experiment's warnings as Markdown in the page's language:
    worded from their codes; the English sentences of results recorded before codes existed."""
    coded = result.get("warning_codes")
    if coded is None or len(coded) != len(result["warnings"]):
        return [markdown_text(warning) for warning in result["warnings"]]
    texts = []
    for entry, english in zip(coded, result["warnings"]):
        values = {k: f"{v:,}" if isinstance(v, int) else v for k, v in entry.items() if k != "code"}
        key = f"warning_{entry['code']}"
        texts.append(ctx.md(key, **values) if key in TEXT else markdown_text(english))
    return texts


def _draw_mapping(ctx: PageContext, file_name: str, file_headers: list[str], detected: dict[str, str]) -> dict[str, str]:
    """One box per field, four to a row, preset to the detected header: field -> the chosen header.

    A box holds a header or nothing (cleared with its x); "not in this file" is its placeholder, sent with
    every run in the page's language, not an option whose label the browser would keep after a switch.
    Another file (name or headers) starts again from its own detected headers."""
    st.markdown(f"**{ctx.t('mapping')}** · {ctx.t('mapping_help')}")
    grid = st.columns(4)
    columns = {}
    this_file = (file_name, tuple(file_headers))
    another_file = st.session_state.get("mapping_for") != this_file
    st.session_state["mapping_for"] = this_file
    if another_file:  # "each row is one order" was said of the last file, not this one
        st.session_state.pop("each_row_an_order", None)
    for index, field in enumerate(FIELDS):
        key = f"map_{field}"
        if another_file or key not in st.session_state:  # (a box not drawn on the last run loses its state)
            st.session_state[key] = detected.get(field) if detected.get(field) in file_headers else None
        choice = grid[index % 4].selectbox(field_label(field, ctx.language), file_headers, index=None, key=key,
                                           placeholder=ctx.t("not_mapped"), help=ctx.t("field_code_help", field=field))
        if choice:
            columns[field] = choice
    return columns


# the status words asked at most (the rest of a long list counts as valid, with a warning, and is said so)
STATUS_WORDS_ASKED = 12


def _ask_status_words(ctx: PageContext, path: Path, upload_id: str, columns: dict[str, str]) -> dict[str, str]:
    """What the file's unknown status words mean, one box per word (most rows first): word (as compared) ->
    valid, cancelled, unpaid or refunded, for the words answered. Unanswered, a word counts as a sale with a
    warning, as before: a Vietnamese shop's "Đã hủy" (cancelled) orders were counted as sales."""
    this_file = (upload_id, columns["status"])
    if st.session_state.get("status_words_for") != this_file:  # read once per upload and column, not every run
        st.session_state["status_words_read"] = status_words_in_file(path, ctx.store, columns)
        st.session_state["status_words_for"] = this_file
        for key in [k for k in st.session_state if str(k).startswith("status_word_")]:
            del st.session_state[key]
    read = st.session_state["status_words_read"]
    known = [w for w in read["words"] if w["meaning"]]
    unknown = [w for w in read["words"] if not w["meaning"]]
    if known:
        st.caption(ctx.t("status_words_known", words=ctx.t("list_separator").join(
            f"{markdown_text(_shortened(w['word']))} → {_meaning_label(w['meaning'], ctx.language)}" for w in known)))
    if not unknown:
        return {}
    st.markdown(f"**{ctx.t('status_words_title')}** · {ctx.t('status_words_help')}")
    grid = st.columns(4)
    answers = {}
    for index, word in enumerate(unknown[:STATUS_WORDS_ASKED]):
        key = f"status_word_{index}"
        keep_choice(key, STATUS_MEANINGS, _meaning_label)
        label = ctx.t("status_word_box", word=markdown_text(_shortened(word["word"])),
                      rows=ctx.count(word["rows"], "row"))
        meaning = grid[index % 4].selectbox(
            label, STATUS_MEANINGS, index=None, key=key, placeholder=ctx.t("status_word_unanswered"),
            format_func=lambda m: _meaning_label(m, ctx.language))
        if meaning:
            answers[word["key"]] = meaning
    not_asked = len(unknown[STATUS_WORDS_ASKED:]) + read["distinct"] - len(read["words"])
    if not_asked:
        st.caption(ctx.t("status_words_more", count=f"{not_asked:,}"))
    return answers


# a status word on a box's label is cut to this many characters (a value can be 1,000 long)
STATUS_WORD_SHOWN = 60


def _shortened(word: str) -> str:
    return word if len(word) <= STATUS_WORD_SHOWN else word[:STATUS_WORD_SHOWN - 1] + "…"


def _meaning_label(meaning: str, language: str) -> str:
    return t(f"status_meaning_{meaning}", language)


def _currency_answer_label(answer: str, language: str) -> str:
    return t("currency_not_stated", language) if answer == NOT_STATED else currency_name(answer, language)


def _ask_currency(ctx: PageContext) -> str | None:
    """The currency of the file's amounts (None until answered; NOT_STATED is an answer). A store that holds
    a currency takes only that one (any other answer, "not stated" too, would be refused)."""
    held = ctx.store.currency()
    answers = [held] if held else [NOT_STATED, *currencies_in_use()]
    keep_choice("upload_currency", answers, _currency_answer_label)
    return st.selectbox(ctx.t("upload_currency"), answers, index=None, key="upload_currency", width=260,
                        placeholder=ctx.t("choose_currency"),
                        format_func=lambda answer: _currency_answer_label(answer, ctx.language),
                        help=ctx.t("upload_currency_held_help", currency=held) if held else ctx.t("upload_currency_help"))


def _show_orders_report(ctx: PageContext, report) -> None:
    # the file's records, as the record equation below counts them (blank lines included)
    st.success(ctx.md("imported", orders=ctx.count(report.orders_accepted, "order"),
                      rows=ctx.count(report.records_in_file or report.rows_read, "row"), file=report.file,
                      rejected=ctx.count(report.rows_rejected, "row"),
                      warnings=ctx.count(report.warnings, "warning")))
    stored = next((b for b in ctx.store.batches() if b["id"] == report.batch_id), {})
    if stored.get("orders_replacing_earlier"):  # the same export again, or one that overlaps an earlier upload
        st.info(ctx.t("replacing_earlier", orders=ctx.count(stored["orders_replacing_earlier"], "order")))
    if report.unpaid_orders or report.cancelled_orders or report.refunded_orders:
        st.info(ctx.t("accepted_not_valid", unpaid=f"{report.unpaid_orders:,}",
                      cancelled=f"{report.cancelled_orders:,}", refunded=f"{report.refunded_orders:,}"))
    if report.refunds:
        st.caption(ctx.t(f"refunds_{report.refunds}"))
    if report.encoding not in (None, "utf-8", "utf-8-sig"):  # detected: say so, a guess may be wrong
        st.caption(ctx.t("read_as_encoding", encoding=encoding_name(report.encoding)))
    if report.each_row_an_order:
        st.caption(ctx.t("each_row_imported"))
    if not report.customer_ids:
        st.warning(ctx.t("no_customer_ids"))
    if report.other_sheets:
        st.warning(ctx.md("other_sheets_not_read", sheets=ctx.t("list_separator").join(
            ctx.t("sheet_rows", sheet=name, rows=ctx.count(rows, "row")) for name, rows in report.other_sheets.items())))
    if not report.currency:
        st.caption(ctx.t("currency_unknown_note"))
    st.info(record_equation(ctx, report.to_dict()))


def encoding_name(codec: str) -> str:
    """A Python codec's name as people know it: cp1252 -> Windows-1252, gb18030 -> GB18030, utf_16_le -> UTF-16-LE."""
    if codec.startswith("cp125"):
        return f"Windows-{codec[2:]}"
    return codec.upper().replace("_", "-")


def _show_assignments_result(ctx: PageContext, result: dict) -> None:
    st.success(ctx.md("imported_assignments", assignments=ctx.count(result["rows_accepted"], "assignment"),
                      rows=ctx.count(result["rows_read"], "row"), file=result["file"],
                      rejected=ctx.count(result["rows_rejected"], "row"),
                      warnings=ctx.count(len(result["warnings"]), "warning")))
    for warning in warning_texts(ctx, result):
        st.warning(warning)


# ---- an experiment derived from an order column ----------------------------------------------


def default_period(first: date, last: date) -> tuple[date, date]:
    """The last whole month before the data's last month (the whole range when there is none)."""
    end = last.replace(day=1) - timedelta(days=1)
    return (end.replace(day=1), end) if end.replace(day=1) >= first else (first, last)


def draw_derive_section(ctx: PageContext, user: User, pseudonym_key: str | None) -> None:
    """An observational experiment from an order column (e.g. coupon users vs the others)."""
    first, last = ctx.facts["first_order"].date(), ctx.facts["last_order"].date()
    start_default, end_default = default_period(first, last)
    st.caption(ctx.t("derive_help"))
    row = st.columns([1.2, 1, 1])
    keep_choice("derive_column", DERIVE_COLUMNS, field_label)  # its labels change with the language
    # the default through the session state, which keep_choice sets too: a widget given both is warned about
    st.session_state.setdefault("derive_column", "coupon_code")
    column = row[0].selectbox(ctx.t("derive_column"), DERIVE_COLUMNS, key="derive_column",
                              format_func=lambda c: field_label(c, ctx.language))
    start = row[1].date_input(ctx.t("derive_start"), start_default, first, last, key="derive_start")
    end = row[2].date_input(ctx.t("derive_end"), end_default, first, last, key="derive_end")
    options = data.order_column_values(ctx.root, ctx.version, column, start, end) \
        if start and end and start <= end else []
    if not options:
        st.caption(ctx.md("derive_no_values", column=field_label(column, ctx.language)))
    values = st.multiselect(ctx.t("derive_values"), options, key="derive_values",
                            placeholder=ctx.t("derive_all_values"))
    row = st.columns([1.4, 1.2, 1])
    name = row[0].text_input(ctx.t("derive_name"), key="derive_name", max_chars=80)
    strategy = row[1].selectbox(ctx.t("derive_strategy"), [None, *STRATEGY_TAGS], key="derive_strategy",
                                format_func=lambda tag: ctx.t("derive_no_strategy") if tag is None
                                else strategy_name(tag, ctx.language))
    cost = row[2].number_input(ctx.t("derive_cost"), 0.0, 1_000_000.0, 0.0, step=1.0, key="derive_cost")
    if not st.button(ctx.t("derive_button"), key="derive_button"):  # a missing name is refused in words
        return
    try:
        result = derive_assignments(ctx.store, name, start, end, column=column, values=values or None,
                                    strategy=strategy, cost=cost or None, user=user.name, via="app",
                                    pseudonym_key=pseudonym_key)
    except ImportRefused as refused:
        show_refusal(ctx, refused)
        return
    arms = ", ".join(f"{variant} {n:,}" for variant, n in result["arms"].items())
    st.success(ctx.md("derived", experiment=result["experiment"], column=column, arms=arms))
    for warning in warning_texts(ctx, result):
        st.warning(warning)
