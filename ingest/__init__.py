"""Order exports in: read CSV/Excel/Parquet, map columns, validate, write a store batch."""

from ingest.pipeline import ImportReport, import_file, preview
from ingest.readers import ImportRefused

__all__ = ["ImportRefused", "ImportReport", "import_file", "preview"]
