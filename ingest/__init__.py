"""Order exports in: read CSV/Excel/Parquet, map columns, validate, write a store batch.

This file is ingest's public door: the app (ui/ and pages/) imports only the names below, never an
ingest submodule, so ingest may rearrange its insides freely.
"""

from ingest.assignments import import_assignments
from ingest.derived_assignments import COLUMNS as DERIVE_COLUMNS
from ingest.derived_assignments import derive_assignments, period_values
from ingest.mapping import (FIELDS, STATUS_MEANINGS, Preset, is_builtin_name, preset_to_save, saved_preset_path,
                            saved_presets)
from ingest.pipeline import (PROGRESS_STEPS, ImportReport, batch_problems, currency_in_preview, import_file,
                             missing_fields, preview, status_words_in_file)
from ingest.privacy import key_from_env as pseudonym_key_from_env
from ingest.readers import ImportRefused

__all__ = [
    "DERIVE_COLUMNS", "FIELDS", "PROGRESS_STEPS", "STATUS_MEANINGS", "ImportRefused", "ImportReport", "Preset", "batch_problems", "currency_in_preview",
    "derive_assignments",
    "import_assignments", "import_file", "is_builtin_name", "missing_fields", "period_values", "preset_to_save", "preview", "pseudonym_key_from_env",
    "saved_preset_path", "saved_presets", "status_words_in_file",
]
