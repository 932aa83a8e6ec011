"""File names as stored and shown: no folders, control or bidirectional characters, length-capped.

An upload's name comes from whoever made the file. A right-to-left override (U+202E) makes
`订单_<U+202E>slx.csv` display as `订单_csv.xls`; a line break or escape sequence in a name would
break the audit log's lines or a terminal. `clean_file_name` is the one rule for the name kept in
the manifest, written to the audit log, used for the file on disk and shown on the Data page.
"""

import unicodedata

MAX_FILE_NAME = 120  # characters, extension included
MAX_EXTENSION = 10  # a longer "extension" is just part of the name
# Bidirectional embeddings, overrides and isolates, and the implicit direction marks.
BIDI_CONTROLS = frozenset("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")


def _dropped(ch: str) -> bool:
    # Cc: C0 and C1 controls and DEL; Cf: invisible format characters (zero-width, BOM, bidi marks);
    # Zl/Zp: line and paragraph separators
    return ch in BIDI_CONTROLS or unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp")


def clean_file_name(name: str, fallback: str = "upload") -> str:
    """`name` without folders, control, format or bidirectional characters, at most 120 characters
    (the extension is kept when the name is cut); `fallback` when nothing is left."""
    name = str(name).replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if not _dropped(ch)).strip(" .")
    if len(name) > MAX_FILE_NAME:
        stem, dot, extension = name.rpartition(".")
        if dot and stem and 0 < len(extension) <= MAX_EXTENSION:
            name = stem[: MAX_FILE_NAME - len(extension) - 2].rstrip(" .") + "…." + extension
        else:
            name = name[: MAX_FILE_NAME - 1] + "…"
    return name or fallback
