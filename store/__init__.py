"""The order store: versioned Parquet batches, derived tables and a manifest (see store.store)."""

from store.names import clean_file_name
from store.store import (MEMORY_LIMIT, STORE_ENV, NoSample, Staging, Store, StoreChanged, default_store_dir,
                         default_user, quiet_connect, sample_one_in, sql_path)

__all__ = ["MEMORY_LIMIT", "STORE_ENV", "NoSample", "clean_file_name", "Staging", "Store", "StoreChanged",
           "default_store_dir", "default_user", "quiet_connect", "sample_one_in", "sql_path"]
