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


def download_buttons(frame: pd.DataFrame, name: str, key: str, language: str = "en",
                     on_download: Callable[[str], None] | None = None) -> None:
    """Two small buttons under a table: CSV and Excel. `on_download("csv" or "xlsx")` is called when
    a file is actually made, i.e. clicked (customer lists: the activity log)."""

    def made(kind: str, make: Callable[[], bytes]) -> Callable[[], bytes]:
        def data() -> bytes:
            if on_download:
                on_download(kind)
            return make()
        return data

    csv_column, excel_column, _ = st.columns([1, 1, 6])
    csv_column.download_button(
        "⬇ CSV", made("csv", lambda: to_csv_bytes(frame)), file_name=f"{name}.csv", mime="text/csv", key=f"{key}_csv",
        on_click="ignore",
    )
    excel_column.download_button(
        "⬇ Excel", made("xlsx", lambda: to_excel_bytes(frame, name)), file_name=f"{name}.xlsx", key=f"{key}_xlsx",
        mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", on_click="ignore",
    )
