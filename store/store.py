"""The versioned Parquet store: original uploads, accepted batches, derived tables, manifest.

Layout under the store root:

    manifest.json                   the only commit point; readers trust nothing else
    batches/<batch_id>/             one folder per accepted upload, never changed afterwards
        original/<file name>        the uploaded file, byte for byte
        orders.parquet              accepted orders (canonical columns)
        order_lines.parquet         accepted lines, when the export had sku/category
        assignments.parquet         for assignment uploads
        issues.parquet              every rejected or suspicious row: row, column, value, reason
        rejected_rows.parquet       the rejected rows as they were in the file
    versions/<version>/             derived tables built from all live batches
    presets/<name>.json             column mappings saved by users
    .staging/                       work in progress; removed on failure

A change is staged completely, moved into place, and published by atomically replacing
manifest.json, under an exclusive lock. A crash before that replace leaves the previous
manifest, and so the previous state, in force; leftovers are swept by the next change.
"""

import contextlib
import fcntl
import json
import os
import shutil
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from store import schema
from store.derived import DERIVED_TABLES, build_derived_tables

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "store"
STORE_ENV = "REPURCHASE_STORE"
VERSIONS_KEPT = 3  # older versions are deleted; readers holding one for longer re-open
BATCH_TABLES = {
    "orders": schema.ORDERS,
    "order_lines": schema.ORDER_LINES,
    "assignments": schema.ASSIGNMENTS,
}


def default_store_dir() -> Path:
    """The store folder: $REPURCHASE_STORE if set, else data/store in the project."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def sql_path(path: Path) -> str:
    """A file path as a quoted SQL string literal (paths are ours, never user text)."""
    return "'" + str(path).replace("'", "''") + "'"


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


@dataclass(frozen=True)
class Staging:
    """A folder where one change is prepared before it is published."""

    path: Path

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"


@dataclass(frozen=True)
class _Built:
    version: str
    table_rows: dict[str, int]
    dedup: dict[str, tuple[int, int, int]]  # batch id -> (orders, superseded by newer, replacing older)


class Store:
    """One store folder. Writers serialise on a lock; readers read the published version."""

    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else default_store_dir()

    # ---- reading -------------------------------------------------------------------------

    def manifest(self) -> dict:
        """The published manifest, or an empty one for a new store."""
        try:
            return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {"format": 1, "version": 0, "current": None, "batches": [], "removed": []}

    def version_dir(self) -> Path | None:
        current = self.manifest()["current"]
        return self.root / "versions" / current if current else None

    def connect(self) -> duckdb.DuckDBPyConnection:
        """An in-memory DuckDB connection with one view per derived table of the published version."""
        con = duckdb.connect()
        version_dir = self.version_dir()
        for name in DERIVED_TABLES:
            path = version_dir / f"{name}.parquet" if version_dir else None
            if path and path.exists():
                con.execute(f"create view {name} as select * from read_parquet({sql_path(path)})")
        if version_dir is None:
            _create_empty_tables(con)
        return con

    def batches(self) -> list[dict]:
        return self.manifest()["batches"]

    def currency(self) -> str | None:
        """The currency of the stored orders (one per store), if the exports said."""
        return next((b["currency"] for b in self.batches() if b.get("currency")), None)

    # ---- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self):
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self):
        """Lock the store and give a fresh staging folder, removed again whatever happens."""
        with self.lock():
            self._sweep()
            path = self.root / ".staging" / uuid.uuid4().hex
            path.mkdir(parents=True)
            try:
                yield Staging(path)
            finally:
                shutil.rmtree(path, ignore_errors=True)
                with contextlib.suppress(OSError):
                    (self.root / ".staging").rmdir()

    def commit_batch(self, staging: Staging, original_file: Path, record: dict) -> dict:
        """Publish the staged batch tables plus a copy of the original file; return the batch record.

        Must be called inside `staging()`. `record` holds what the importer wants in the
        manifest (file, preset, row counts...); the store adds id, seq, time and dedup counts.
        """
        manifest = self.manifest()
        seq = max([b["seq"] for b in manifest["batches"]] + [b["seq"] for b in manifest["removed"]] + [0]) + 1
        batch_id = f"b{seq:05d}-{uuid.uuid4().hex[:8]}"
        batch_dir = staging.path / "batch"
        batch_dir.mkdir()
        for path in staging.path.glob("*.parquet"):
            path.rename(batch_dir / path.name)
        (batch_dir / "original").mkdir()
        shutil.copy2(original_file, batch_dir / "original" / Path(original_file).name)
        record = {**record, "id": batch_id, "seq": seq, "imported_at": _now()}
        new_batches = manifest["batches"] + [record]
        built = self._build_version(staging, new_batches, {record["id"]: batch_dir})
        (self.root / "batches").mkdir(parents=True, exist_ok=True)
        batch_dir.rename(self.root / "batches" / batch_id)
        self._publish(manifest, new_batches, built, manifest["removed"])
        return next(b for b in self.manifest()["batches"] if b["id"] == batch_id)

    def remove_batch(self, batch_id: str) -> dict:
        """Take a batch out of the store and rebuild the derived tables; return its record."""
        with self.staging() as staging:
            manifest = self.manifest()
            removed = [b for b in manifest["batches"] if b["id"] == batch_id]
            if not removed:
                raise KeyError(f"No batch {batch_id!r} in the store at {self.root}.")
            kept = [b for b in manifest["batches"] if b["id"] != batch_id]
            built = self._build_version(staging, kept, {})
            record = {**removed[0], "removed_at": _now()}
            self._publish(manifest, kept, built, manifest["removed"] + [record])
        shutil.rmtree(self.root / "batches" / batch_id, ignore_errors=True)
        return record

    def _batch_dir(self, batch: dict, pending: dict[str, Path]) -> Path:
        return pending.get(batch["id"]) or self.root / "batches" / batch["id"]

    def _build_version(self, staging: Staging, batches: list[dict], pending: dict[str, Path]) -> "_Built":
        """Build derived tables for `batches` in staging and move them into versions/."""
        con = duckdb.connect()  # in memory; spills to the staging folder past the limit
        con.execute("set memory_limit = '1GB'")
        con.execute(f"set temp_directory = {sql_path(staging.path / 'spill')}")
        con.execute("set preserve_insertion_order = false")
        try:
            for table, columns in BATCH_TABLES.items():
                parts = []
                for batch in batches:
                    path = self._batch_dir(batch, pending) / f"{table}.parquet"
                    if path.exists():
                        parts.append(
                            f"select *, {int(batch['seq'])} as batch_seq, '{batch['id']}' as batch_id "
                            f"from read_parquet({sql_path(path)})"
                        )
                if not parts:
                    parts = [
                        f"select *, 0::bigint as batch_seq, ''::varchar as batch_id from "
                        f"(select {', '.join(f'null::{t} as {c}' for c, t in columns.items())}) where false"
                    ]
                con.execute(f"create temp view batch_{table} as " + " union all by name ".join(parts))
            version = f"v{self.manifest()['version'] + 1:06d}-{uuid.uuid4().hex[:6]}"
            build_dir = staging.path / "version"
            counts = build_derived_tables(con, build_dir)
            dedup = con.execute(
                """
                select batch_id, count(*) as rows_in_batch,
                    count(*) filter (where newer_rank > 1) as superseded,
                    count(*) filter (where older_rank > 1) as replacing,
                from (
                    select batch_id,
                        row_number() over (partition by order_id order by batch_seq desc) as newer_rank,
                        row_number() over (partition by order_id order by batch_seq) as older_rank,
                    from batch_orders
                )
                group by batch_id
                """
            ).fetchall()
        finally:
            con.close()
        (self.root / "versions").mkdir(parents=True, exist_ok=True)
        build_dir.rename(self.root / "versions" / version)
        return _Built(version, counts, {b: (n, s, r) for b, n, s, r in dedup})

    def _publish(self, old: dict, batches: list[dict], built: "_Built", removed: list[dict]) -> None:
        for batch in batches:
            total, superseded, replacing = built.dedup.get(batch["id"], (0, 0, 0))
            batch["orders_live"] = total - superseded
            batch["orders_superseded_by_newer"] = superseded
            batch["orders_replacing_earlier"] = replacing
        manifest = {
            "format": 1,
            "version": old["version"] + 1,
            "current": built.version,
            "updated_at": _now(),
            "tables": built.table_rows,
            "batches": batches,
            "removed": removed,
        }
        tmp = self.root / f"manifest.json.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "manifest.json")

    def _sweep(self) -> None:
        """Delete what no published manifest refers to: crashed stagings, old versions."""
        manifest = self.manifest()
        shutil.rmtree(self.root / ".staging", ignore_errors=True)
        for tmp in self.root.glob("manifest.json.*.tmp"):
            tmp.unlink(missing_ok=True)
        live_batches = {b["id"] for b in manifest["batches"]}
        for path in (self.root / "batches").glob("*"):
            if path.name not in live_batches:
                shutil.rmtree(path, ignore_errors=True)
        versions = sorted((self.root / "versions").glob("v*"))
        keep = {manifest["current"]} | {p.name for p in versions[-VERSIONS_KEPT:]}
        for path in versions:
            if path.name not in keep:
                shutil.rmtree(path, ignore_errors=True)


def _create_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty derived tables with the right columns, so that queries on a new store return nothing."""
    build = duckdb.connect()
    for table, columns in BATCH_TABLES.items():
        build.execute(
            f"create temp table batch_{table} as select {', '.join(f'null::{t} as {c}' for c, t in columns.items())}, "
            "0::bigint as batch_seq, ''::varchar as batch_id where false"
        )
    for name, sql in DERIVED_TABLES.items():
        build.execute(f"create temp table {name} as {sql}")
        arrow = build.sql(f"select * from {name}").to_arrow_table()
        con.register(f"_{name}_empty", arrow)
        con.execute(f"create view {name} as select * from _{name}_empty")
    build.close()
