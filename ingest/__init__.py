"""Order exports in: read CSV/Excel/Parquet, map columns, validate, write a store batch."""

from ingest.pipeline import ImportReport, batch_problems, import_file, preview
from ingest.readers import ImportRefused

__all__ = ["ImportRefused", "ImportReport", "batch_problems", "import_file", "preview"]
