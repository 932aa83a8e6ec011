"""CSV and Excel downloads of any table, with spreadsheet formulas neutralised.

A cell that starts with = + - @ (or a tab / carriage return / line feed) would run as a formula
when the file is opened in a spreadsheet; such text cells get a leading apostrophe (OWASP's
advice), in CSV and Excel alike. Excel files are also written with every string as text, never
as a formula or a link.
"""

import io
from collections.abc import Callable

import pandas as pd
import streamlit as st

from ui.i18n import t

EXCEL_MAX_ROWS = 1_048_575  # a worksheet's 1,048,576 rows less the header
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "＝", "＋", "－", "＠")  # and full-width forms


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy whose text cells can no longer be read as formulas by a spreadsheet."""
    safe = frame.copy()
    for column in safe.columns:
        if isinstance(safe[column].dtype, pd.CategoricalDtype):
            safe[column] = safe[column].astype(object)
        if safe[column].dtype == object or pd.api.types.is_string_dtype(safe[column]):
            safe[column] = safe[column].map(
                lambda v: "'" + v if isinstance(v, str) and v.startswith(FORMULA_STARTS) else v
            )
    safe.columns = [("'" + c if isinstance(c, str) and c.startswith(FORMULA_STARTS) else c) for c in safe.columns]
    return safe


def to_csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 with BOM (Excel reads it as UTF-8) and CRLF line ends, so that a value holding a carriage
    return is quoted: unquoted, a spreadsheet would start a new row, and maybe a formula, there."""
    return neutralise_formulas(frame).to_csv(index=False, lineterminator="\r\n").encode("utf-8-sig")


def to_excel_bytes(frame: pd.DataFrame, sheet: str = "data") -> bytes:
    buffer = io.BytesIO()
    safe = neutralise_formulas(frame)
    for column in safe.columns:  # Excel has no time zones
        if isinstance(safe[column].dtype, pd.DatetimeTZDtype):
            safe[column] = safe[column].dt.tz_localize(None)
    options = {"strings_to_formulas": False, "strings_to_urls": False}
    with pd.ExcelWriter(buffer, engine="xlsxwriter", engine_kwargs={"options": options}) as writer:
        safe.to_excel(writer, index=False, sheet_name=sheet[:31])
    return buffer.getvalue()


def download_buttons(frame: pd.DataFrame | Callable[[], pd.DataFrame], name: str, key: str, language: str = "en",
                     on_download: Callable[[str], None] | None = None, row_count: int | None = None) -> None:
    """Two small buttons under a table: CSV and Excel, of `frame` or of what `frame()` returns when a
    button is clicked (`row_count` rows). `on_download("csv" or "xlsx")` is called when a file is actually
    made, i.e. clicked (customer lists: the activity log). Beyond a worksheet's rows, CSV only."""

    def made(kind: str, make: Callable[[pd.DataFrame], bytes]) -> Callable[[], bytes]:
        def data() -> bytes:
            if on_download:
                on_download(kind)
            return make(frame() if callable(frame) else frame)
        return data

    rows = len(frame) if row_count is None else row_count
    csv_column, excel_column, _ = st.columns([1, 1, 6])
    csv_column.download_button(
        "⬇ CSV", made("csv", to_csv_bytes), file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv",
        on_click="ignore",
    )
    too_long = rows > EXCEL_MAX_ROWS
    excel_column.download_button(
        "⬇ Excel", made("xlsx", lambda rows_out: to_excel_bytes(rows_out, name)), file_name=f"{name}.xlsx",
        key=f"{key}_xlsx", mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
        disabled=too_long, help=t("excel_too_long", language, rows=f"{EXCEL_MAX_ROWS:,}") if too_long else None,
    )
