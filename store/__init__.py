"""The order store: versioned Parquet batches, derived tables and a manifest (see store.store)."""

from store.store import STORE_ENV, Staging, Store, default_store_dir, sql_path

__all__ = ["STORE_ENV", "Staging", "Store", "default_store_dir", "sql_path"]
