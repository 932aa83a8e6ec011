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
    audit.jsonl                     append-only log of every change: who, when, which file, rows
    .staging/                       work in progress; removed on failure

A change is staged completely, flushed to disk, moved into place, and published by atomically
replacing manifest.json, under an exclusive lock. A crash before that replace leaves the previous
manifest, and so the previous state, in force; leftovers are swept by the next change.

Readers pin the version they read: `connect()` holds a shared lock on `versions/<v>/.lock` for
as long as the connection object lives, and the sweep never deletes a version someone holds.
`connect(version=n)` opens exactly version n (what a page started with), or raises
`StoreChanged` when that version is gone, so a page never mixes two versions.
"""

import collections
import contextlib
import fcntl
import getpass
import hashlib
import json
import logging
import os
import shutil
import tempfile
import threading
import uuid
import weakref
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import duckdb

from store import schema
from store.derived import (KEYS_MARKER, append_derived_tables, build_derived_tables, link_table, move_views,
                           read_files_sql, read_table_sql, sql_path, table_files)
from store.models import dialect
from store.models.orders import ASSIGNED_ORDERS_SQL, ORDER_FACTS_SQL
from store.models.registry import (APPEND_STARTS_FROM, ASSIGNMENT_TABLES, BUILD_ORDER, EMPTY_STORE_TABLES, LATE_TABLES,
                                   MODELS, ORDER_TABLES, UPLOAD_TABLES)
from store.names import clean_file_name

DEFAULT_STORE = Path(__file__).resolve().parent.parent / "data" / "store"
STORE_ENV = "REPURCHASE_STORE"
# DuckDB's memory for an import, a build and a reader, past which work spills to disk: at 100M orders
# the import's duplicate check needed more than 1 GB (out of memory); the ceiling is 6 GiB
MEMORY_LIMIT = "4GB"
LATE_FOLDER = ".late"  # inside a published version folder: its late tables while they are being written
VERSIONS_KEPT = 3  # older versions are deleted unless a reader still holds them
HISTORY_KEPT = 20  # published versions remembered in the manifest (number -> folder)
AUDIT_FILE = "audit.jsonl"
ENGINES = ("duckdb", "spark")  # what builds a version's tables (readers are always DuckDB)
BATCH_TABLES = {
    "orders": schema.ORDERS,
    "order_lines": schema.ORDER_LINES,
    "assignments": schema.ASSIGNMENTS,
}


def default_store_dir() -> Path:
    """The store folder: $REPURCHASE_STORE if set, else data/store in the project."""
    return Path(os.environ.get(STORE_ENV) or DEFAULT_STORE)


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def default_user() -> str:
    """Who runs this process (the audit log's user for command-line changes)."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # a container user without a passwd entry
        return f"uid{os.getuid()}"


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def _keep_original(original_file: Path, copy: Path | None) -> str:
    """Copy the uploaded file to `copy` (None: not kept) and flush it and its folder to disk; return the
    original's SHA-256."""
    if copy is not None:
        shutil.copy2(original_file, copy)
        _fsync_tree(copy.parent)
    return file_sha256(original_file)


class StoreChanged(Exception):
    """The store version a reader asked for has been replaced and cleaned up; read the current one."""


class NoSample(LookupError):
    """The store version has no orders_sample: not built yet (a late table), or written before it existed."""


def _fsync_tree(root: Path) -> None:
    """Flush every file under root, and the folders, to disk (a published version must survive a power cut)."""
    for path in [root, *root.rglob("*")]:
        flags = os.O_RDONLY | (os.O_DIRECTORY if path.is_dir() else 0)
        fd = os.open(path, flags)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Staging:
    """A folder where one change is prepared before it is published."""

    path: Path

    def table_path(self, name: str) -> Path:
        return self.path / f"{name}.parquet"


@dataclass(frozen=True)
class _LateBuild:
    """What builds a version's late tables once it is published: the build's open connection (its views
    and temporary tables: the touched customers' orders...), the builder (out folder -> row counts) and the
    staging folder the version was built in (its views are moved to the published folder first)."""

    con: duckdb.DuckDBPyConnection
    build: Callable[[Path], dict[str, int]]
    built_in: Path
    spill: Path


@dataclass(frozen=True)
class _Built:
    version: str
    table_rows: dict[str, int]
    dedup: dict[str, tuple[int, int, int]]  # batch id -> (orders, superseded by newer, replacing older)
    path: str = "full"  # "append": the new batch's orders appended to the published tables (see _append_from)
    reason: str | None = None  # why not appended (an upload of orders that took the full rebuild)
    late: _LateBuild | None = None  # the late tables still to build (registry.LATE_TABLES), once published


class Store:
    """One store folder. Writers serialise on a lock; readers read the published version.

    `append_uploads=False` always rebuilds every table (the append path's reference, in tests).
    `engine="spark"` builds the versions' tables on Apache Spark (store.spark; the same tables, the
    same layout, read by DuckDB as ever); it always rebuilds every table (no append path)."""

    def __init__(self, root: Path | str | None = None, append_uploads: bool = True, engine: str = "duckdb"):
        if engine not in ENGINES:
            raise ValueError(f"engine must be one of {', '.join(ENGINES)}, not {engine!r}")
        self.root = Path(root) if root else default_store_dir()
        self.append_uploads = append_uploads
        self.engine = engine

    @property
    def builds_late_tables(self) -> bool:
        """Whether a change publishes its version before the late tables (LATE_TABLES) are built. Another
        engine builds every table before publishing (a batch job: nobody waits for its pages)."""
        return self.engine == "duckdb"

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

    def results_dir(self, version: int) -> Path | None:
        """A folder inside store version `version` for results computed from that version alone (a fitted
        model), deleted with it; None for the empty store or a version the manifest no longer remembers.
        Not created here; write to it while a connection to that version is open (it pins the version)."""
        folder = _history(self.manifest()).get(version)
        return self.root / "versions" / folder / "results" if folder else None

    def connect(self, version: int | None = None, sample: bool = False) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection with one view per derived table of one store version.

        `version=None`: the published version. `version=n`: exactly version n, or StoreChanged
        if it has been cleaned up since. The version stays on disk while the connection lives.
        The connections of a process to one version share one in-memory database (its views made once).
        `sample`: a connection whose `orders` are the version's `orders_sample` and which has no other table
        but `order_facts` (the data's dates), so every figure counts from the sample (`sample_one_in`);
        NoSample if the version has none (not built yet, or written before it existed).
        """
        for _ in range(5):
            manifest = self.manifest()
            if version is None or version == manifest["version"]:
                folder = manifest["current"]
            elif version == 0:
                folder = None  # version 0 is the empty store
            else:
                folder = _history(manifest).get(version)
                if folder is None:
                    raise StoreChanged(f"Store version {version} at {self.root} has been replaced.")
            if folder is None and sample:
                raise NoSample("The empty store has no sample.")
            if folder is None:
                con = quiet_connect()
                _create_empty_tables(con)
                return con
            version_dir = self.root / "versions" / folder
            pin = self._pin(version_dir)
            if pin is None:
                if version is not None:
                    raise StoreChanged(f"Store version {version} at {self.root} has been replaced.")
                continue  # replaced while we were opening it: read the manifest again
            try:
                con = _sample_database_connection(version_dir) if sample else _version_database_connection(version_dir)
            except NoSample:
                pin.close()
                raise
            weakref.finalize(con, pin.close)
            return con
        raise StoreChanged(f"The store at {self.root} kept changing while being opened.")

    @contextlib.contextmanager
    def pinned(self, version: int):
        """Store version `version`'s folder, kept on disk until the block ends (as an open connection keeps
        it, without opening one: to read its results folder); StoreChanged if it has been cleaned up."""
        folder = _history(self.manifest()).get(version)
        pin = self._pin(self.root / "versions" / folder) if folder else None
        if pin is None:
            raise StoreChanged(f"Store version {version} at {self.root} has been replaced.")
        try:
            yield self.root / "versions" / folder
        finally:
            pin.close()

    @staticmethod
    def _pin(version_dir: Path):
        """A shared lock on a version folder (kept from the sweep while held), or None if it is gone."""
        try:
            handle = open(version_dir / ".lock", "r")
        except FileNotFoundError:  # a version written before readers locked: add the lock file
            try:
                handle = open(version_dir / ".lock", "a+")
            except (FileNotFoundError, NotADirectoryError):
                return None
        try:
            fcntl.flock(handle, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:  # being deleted right now
            handle.close()
            return None
        if not (version_dir / "orders.parquet").exists():  # deleted before we got the lock
            handle.close()
            return None
        return handle

    def batches(self) -> list[dict]:
        return self.manifest()["batches"]

    def batches_of_file(self, path: Path) -> list[dict]:
        """The stored batches whose original file has the same bytes as the file at `path`."""
        digest = file_sha256(Path(path))
        return [batch for batch in self.batches() if batch.get("sha256") == digest]

    def batch_folder(self, batch_id: str) -> Path:
        """The folder of the stored batch `batch_id`: its issue list, rejected rows and original file."""
        return self.root / "batches" / batch_id

    def currency(self) -> str | None:
        """The currency of the stored orders (one per store), if the exports said."""
        return next((b["currency"] for b in self.batches() if b.get("currency")), None)

    # ---- writing -------------------------------------------------------------------------

    @contextlib.contextmanager
    def lock(self, on_wait: Callable[[], None] | None = None):
        """The store's writer lock (one change at a time, across processes); on_wait: called if busy."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if on_wait:
                    on_wait()
                fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def staging(self, on_wait: Callable[[], None] | None = None):
        """Lock the store and give a fresh staging folder, removed again whatever happens."""
        with self.lock(on_wait):
            shutil.rmtree(self.root / ".staging", ignore_errors=True)  # what a killed writer left
            for tmp in self.root.glob("manifest.json.*.tmp"):
                tmp.unlink(missing_ok=True)
            path = self.root / ".staging" / uuid.uuid4().hex
            path.mkdir(parents=True)
            try:
                yield Staging(path)
            finally:
                shutil.rmtree(path, ignore_errors=True)
                with contextlib.suppress(OSError):
                    (self.root / ".staging").rmdir()

    def commit_batch(self, staging: Staging, original_file: Path, record: dict, user: str | None = None,
                     via: str = "cli", keep_original: bool = True,
                     on_published: Callable[[dict], None] | None = None) -> dict:
        """Publish the staged batch tables plus a copy of the original file, then build the version's late
        tables (registry.LATE_TABLES: every page reads the version meanwhile); return the batch record.

        Must be called inside `staging()`. `record` holds what the importer wants in the
        manifest (file, preset, row counts...); the store adds id, seq, time, who and dedup counts,
        and appends the change to the audit log. `keep_original=False` (pseudonymised imports)
        keeps only the file's SHA-256, not its bytes. `on_published(batch record)`: called once the
        version is published, before its late tables are built.
        """
        manifest = self.manifest()
        seq = max([b["seq"] for b in manifest["batches"]] + [b["seq"] for b in manifest["removed"]] + [0]) + 1
        batch_id = f"b{seq:05d}-{uuid.uuid4().hex[:8]}"
        batch_dir = staging.path / "batch"
        batch_dir.mkdir()
        for path in staging.path.glob("*.parquet"):
            path.rename(batch_dir / path.name)
        (batch_dir / "original").mkdir()
        file_name = clean_file_name(record.get("file") or Path(original_file).name)
        user = user or default_user()
        record = {**record, "file": file_name, "id": batch_id, "seq": seq, "imported_at": _now(), "imported_by": user,
                  "sha256": None, "original_kept": keep_original}  # the hash once worked out, below
        new_batches = manifest["batches"] + [record]
        # the original is copied, flushed and hashed while the tables build: mostly waiting on the disk,
        # which the build's two busy cores do not (1.2-1.6 s of a 10M-order CSV import, one 1 GB file)
        with ThreadPoolExecutor(max_workers=1) as keeper:
            kept = keeper.submit(_keep_original, original_file,
                                 batch_dir / "original" / file_name if keep_original else None)
            built = self._build_version(staging, new_batches, {record["id"]: batch_dir})
        with self._late_tables_after(built, {batch_dir: self.root / "batches" / batch_id}):
            record["sha256"] = kept.result()  # a failed copy (a full disk) fails the upload here
            if (batch_dir / "orders.parquet").exists():
                record["build_path"] = built.path
                if built.reason:
                    record["build_path_reason"] = built.reason
            _fsync_tree(batch_dir)
            (self.root / "batches").mkdir(parents=True, exist_ok=True)
            batch_dir.rename(self.root / "batches" / batch_id)
            accepted = record.get("orders_accepted", record.get("rows_accepted"))
            change = {"action": "import", "user": user, "via": via, "file": record.get("file"),
                      "kind": record.get("kind"), "batch_id": batch_id, "sha256": record["sha256"],
                      "rows_read": record.get("rows_read"), "rows_accepted": accepted,
                      "rows_rejected": record.get("rows_rejected"), "rows_removed": 0,
                      "build_path": record.get("build_path", "full")}
            self._publish(manifest, new_batches, built, manifest["removed"], change)
            published = next(b for b in self.manifest()["batches"] if b["id"] == batch_id)
            if on_published:
                on_published(published)
        return published

    def remove_batch(self, batch_id: str, user: str | None = None, via: str = "cli") -> dict:
        """Take a batch out of the store and rebuild the derived tables; return its record."""
        user = user or default_user()
        with self.staging() as staging:
            manifest = self.manifest()
            removed = [b for b in manifest["batches"] if b["id"] == batch_id]
            if not removed:
                raise KeyError(f"No batch {batch_id!r} in the store at {self.root}.")
            kept = [b for b in manifest["batches"] if b["id"] != batch_id]
            built = self._build_version(staging, kept, {})
            with self._late_tables_after(built):
                record = {**removed[0], "removed_at": _now(), "removed_by": user}
                accepted = record.get("orders_accepted", record.get("rows_accepted"))
                change = {"action": "remove", "user": user, "via": via, "file": record.get("file"),
                          "kind": record.get("kind"), "batch_id": batch_id, "sha256": record.get("sha256"),
                          "rows_read": record.get("rows_read"), "rows_accepted": accepted,
                          "rows_rejected": record.get("rows_rejected"),
                          "rows_removed": record.get("orders_live", accepted), "build_path": "full"}
                self._publish(manifest, kept, built, manifest["removed"] + [record], change)
                shutil.rmtree(self.root / "batches" / batch_id, ignore_errors=True)
        return record

    def rebuild(self, user: str | None = None, via: str = "cli") -> dict:
        """Build every table of the live batches again, on this store's engine, as a new version (a
        store imported on DuckDB rebuilt on Spark, or after a model changed); return the change logged."""
        user = user or default_user()
        with self.staging() as staging:
            manifest = self.manifest()
            built = self._build_version(staging, manifest["batches"], {}, reuse=False)
            with self._late_tables_after(built):
                change = {"action": "rebuild", "user": user, "via": via, "engine": self.engine, "build_path": "full"}
                self._publish(manifest, manifest["batches"], built, manifest["removed"], change)
        return self.manifest()["change"]

    # ---- audit log -----------------------------------------------------------------------

    def audit_log(self, limit: int | None = None) -> list[dict]:
        """The audit log's entries, oldest first (the last `limit` ones if given)."""
        try:
            lines = (self.root / AUDIT_FILE).read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return []
        entries = []
        for line in lines[-limit:] if limit else lines:
            with contextlib.suppress(ValueError):
                entries.append(json.loads(line))
        return entries

    def record_event(self, action: str, user: str | None = None, via: str = "cli", **details) -> None:
        """Log a change that is not a batch (a saved or deleted preset, a user added...)."""
        if "file" in details:
            details["file"] = clean_file_name(details["file"])
        with self.lock():
            self._append_audit({"at": _now(), "action": action, "user": user or default_user(), "via": via,
                                "version": None, **details})

    def record_access_event(self, action: str, user: str | None, via: str = "app", **details) -> None:
        """Log an access event (failed sign-in, lock-out, customer-list download) without waiting for
        the writer lock: a sign-in must not wait for an upload. One O_APPEND write per line, so lines
        never interleave with the lines of a change."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._append_audit({"at": _now(), "action": action, "user": user or "", "via": via, "version": None,
                            **details})

    def _append_audit(self, entry: dict) -> None:
        """Append one JSON line and flush it to disk. Call with the lock held."""
        line = (json.dumps(entry, ensure_ascii=False, default=str) + "\n").encode("utf-8")
        fd = os.open(self.root / AUDIT_FILE, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        try:
            os.write(fd, line)
            os.fsync(fd)
        finally:
            os.close(fd)

    def _recover_audit(self, manifest: dict) -> None:
        """Log the last published change if the process died between publishing and logging it."""
        change = manifest.get("change")
        if not change:
            return
        logged = [e.get("version") for e in self.audit_log() if e.get("version") is not None]
        if not logged or max(logged) < change["version"]:
            self._append_audit({**change, "recovered": True})

    def _batch_dir(self, batch: dict, pending: dict[str, Path]) -> Path:
        return pending.get(batch["id"]) or self.root / "batches" / batch["id"]

    def _build_version(self, staging: Staging, batches: list[dict], pending: dict[str, Path],
                       reuse: bool = True) -> "_Built":
        """Build derived tables for `batches` in staging and move them into versions/ (`reuse=False`:
        every table, even when the published order tables could be linked)."""
        con = self._build_connection(staging)
        upload_tables = UPLOAD_TABLES if self.builds_late_tables else None
        late_build = None
        try:
            for table, columns in BATCH_TABLES.items():
                parts = []
                for batch in batches:
                    path = self._batch_dir(batch, pending) / f"{table}.parquet"
                    if path.exists():
                        parts.append(
                            f"select *, {int(batch['seq'])} as batch_seq, '{batch['id']}' as batch_id "
                            f"from read_parquet({sql_path(path)}, file_row_number = true)"
                        )
                if not parts:
                    parts = [
                        f"select *, 0::bigint as batch_seq, ''::varchar as batch_id, 0::bigint as file_row_number from "
                        f"(select {', '.join(f'null::{t} as {c}' for c, t in columns.items())}) where false"
                    ]
                con.execute(f"create temp view batch_{table} as " + dialect.union_by_name(parts))
                if table == "orders":
                    order_batches = len(parts)
            version = f"v{self.manifest()['version'] + 1:06d}-{uuid.uuid4().hex[:6]}"
            build_dir = staging.path / "version"
            path, reason = "full", None
            reusable = self._order_tables_to_reuse(batches, pending) if reuse else None
            if reusable:  # only assignments changed: the order tables are the published ones
                folder, counts, dedup = reusable
                for name in ORDER_TABLES:  # what the assignments' tables read (the orders, the data's end...)
                    con.execute(f"create view {name} as select * from {read_table_sql(name, table_files(folder, name))}")
                counts = {**counts, **build_derived_tables(con, build_dir, only=ASSIGNMENT_TABLES)}
                for name in ORDER_TABLES:
                    link_table(name, folder, build_dir)
                if (folder / KEYS_MARKER).exists():
                    os.link(folder / KEYS_MARKER, build_dir / KEYS_MARKER)
            else:
                previous, reason = (None, "the Spark engine rebuilds every table") if self.engine == "spark" else \
                    self._append_from(con, batches, pending)
                if previous is not None:
                    counts = append_derived_tables(con, build_dir, previous, only=upload_tables)
                    dedup = {**self._published_dedup(), batches[-1]["id"]: (
                        con.execute("select count(*) from new_batch_orders").fetchone()[0], 0, 0)}
                    path = "append"
                    if upload_tables:
                        late_build = lambda out: append_derived_tables(con, out, previous, only=LATE_TABLES)  # noqa: E731
                else:
                    deduplicate = order_batches > 1
                    counts = build_derived_tables(con, build_dir, deduplicate=deduplicate, only=upload_tables)
                    dedup = self._dedup_counts(con, order_batches)
                    if upload_tables:
                        late_build = lambda out: build_derived_tables(  # noqa: E731
                            con, out, deduplicate=deduplicate, only=LATE_TABLES)
            (build_dir / ".lock").touch()  # readers hold a shared lock on it (see connect)
            _fsync_tree(build_dir)
            (self.root / "versions").mkdir(parents=True, exist_ok=True)
            build_dir.rename(self.root / "versions" / version)
        except BaseException:
            con.close()
            raise
        if late_build is None:
            con.close()
            shutil.rmtree(staging.path / "spill", ignore_errors=True)
        late = late_build and _LateBuild(con, late_build, build_dir, staging.path / "spill")
        return _Built(version, counts, dedup, path, None if path == "append" else reason, late)

    @contextlib.contextmanager
    def _late_tables_after(self, built: "_Built", moved: dict[Path, Path] | None = None):
        """Publish within the block, then build the version's late tables into its folder (`moved`: the
        other folders the build read that the block moved, old -> new). A block that fails builds none and,
        if it failed before publishing, deletes the version's folder (nobody can have read it). A
        late build that fails leaves the version as published (its requests count from the base models;
        the next append builds those tables whole) and is logged: the upload itself has succeeded."""
        late = built.late
        try:
            try:
                yield
            except BaseException:
                if self.manifest()["current"] != built.version:  # not published: the store stays as it was
                    shutil.rmtree(self.root / "versions" / built.version, ignore_errors=True)
                raise
            if late is not None:
                self._build_late_tables(built.version, late, moved or {})
        finally:
            if late is not None:
                late.con.close()
                shutil.rmtree(late.spill, ignore_errors=True)

    def _build_late_tables(self, version: str, late: _LateBuild, moved: dict[Path, Path]) -> None:
        """Write the late tables into the published version's folder and their row counts into the manifest."""
        folder = self.root / "versions" / version
        out = folder / LATE_FOLDER
        try:
            move_views(late.con, {late.built_in: folder, **moved})
            counts = late.build(out)
            for path in sorted(out.glob("*.parquet")):  # readers see each table whole, or not at all
                os.replace(path, folder / path.name)
            _fsync_dir(folder)
            manifest = self.manifest()
            if manifest["current"] == version:
                self._write_manifest({**manifest, "tables": {**manifest.get("tables", {}), **counts}})
        except Exception:  # noqa: BLE001 - published all the same; see _late_tables_after
            logging.getLogger(__name__).exception("store version %s: its late tables were not built", version)
        finally:
            shutil.rmtree(out, ignore_errors=True)

    def _build_connection(self, staging: Staging):
        """The connection the version's tables are built on: in-memory DuckDB (spilling to the staging
        folder past its memory limit), or a Spark connection (store.spark, imported only then)."""
        if self.engine == "spark":
            from store.spark import SparkConnection

            return SparkConnection()
        con = quiet_connect()
        con.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"set temp_directory = {sql_path(staging.path / 'spill')}")
        con.execute("set preserve_insertion_order = false")
        return con

    @staticmethod
    def _dedup_counts(con: duckdb.DuckDBPyConnection, order_batches: int) -> dict[str, tuple[int, int, int]]:
        """Per batch: orders, how many a newer batch replaces, how many replace an older batch's."""
        if order_batches <= 1:
            rows = con.execute("select batch_id, count(*) from batch_orders group by batch_id").fetchall()
            return {b: (n, 0, 0) for b, n in rows}
        rows = con.execute(
            """
            select batch_id, count(*) as rows_in_batch,
                count(*) filter (where newer_seq is not null) as superseded,
                count(*) filter (where older_seq is not null) as replacing
            from (
                select batch_id,
                    lag(batch_seq) over same_id as newer_seq,
                    lead(batch_seq) over same_id as older_seq
                from batch_orders
                window same_id as (partition by order_id order by batch_seq desc)
            ) as ranked
            group by batch_id
            """
        ).fetchall()
        return {b: (n, s, r) for b, n, s, r in rows}

    def _order_tables_to_reuse(self, batches: list[dict], pending: dict[str, Path]):
        """(folder, row counts, dedup) of the published version if its order tables come from exactly
        the order files of `batches` (an assignments upload or removal); else None."""
        def order_batch_ids(batch_list: list[dict], pending: dict[str, Path]) -> list[str]:
            return [b["id"] for b in batch_list
                    if any((self._batch_dir(b, pending) / f"{t}.parquet").exists() for t in ("orders", "order_lines"))]

        manifest = self.manifest()
        if not manifest["current"] or order_batch_ids(batches, pending) != order_batch_ids(manifest["batches"], {}):
            return None
        folder = self.root / "versions" / manifest["current"]
        if not all((folder / f"{name}.parquet").exists() for name in ORDER_TABLES):
            return None  # written before a table existed: rebuild everything once
        counts = {name: manifest["tables"][name] for name in ORDER_TABLES if name in manifest.get("tables", {})}
        if len(counts) != len(ORDER_TABLES):
            return None
        return folder, counts, self._published_dedup()

    def _published_dedup(self) -> dict[str, tuple[int, int, int]]:
        """The published batches' dedup counts (orders, superseded by newer, replacing older)."""
        return {b["id"]: (b.get("orders_live", 0) + b.get("orders_superseded_by_newer", 0),
                          b.get("orders_superseded_by_newer", 0), b.get("orders_replacing_earlier", 0))
                for b in self.manifest()["batches"] if "orders_live" in b}

    def _append_from(self, con: duckdb.DuckDBPyConnection, batches: list[dict],
                     pending: dict[str, Path]) -> tuple[Path | None, str]:
        """(the published version's folder, "") when `batches` is the published ones plus one new batch
        of orders that all come after the store's last valid order and share no order id with it: then
        appending gives the same tables as the full build. Else (None, why not), and views
        `new_batch_orders` / `new_batch_order_lines` exist on `con` for the append."""
        manifest = self.manifest()
        if not manifest["current"]:
            return None, "the store was empty"
        if not batches or batches[-1]["id"] not in pending:
            return None, "not an upload of a new batch"  # a removal
        new = batches[-1]
        if [b["id"] for b in batches[:-1]] != [b["id"] for b in manifest["batches"]]:
            return None, "not an upload of a new batch"
        if not (pending[new["id"]] / "orders.parquet").exists():  # its assignments would be kept as they were
            return None, "not an upload of orders"
        if not self.append_uploads:
            return None, "appending is turned off"
        folder = self.root / "versions" / manifest["current"]
        if not all((folder / f"{name}.parquet").exists() for name in APPEND_STARTS_FROM):
            return None, "the store had no valid orders, or was written before a table existed"
        if not (folder / KEYS_MARKER).exists():
            return None, "the store's customer keys were numbered the earlier way (by id)"
        for table, columns in (("orders", schema.ORDERS), ("order_lines", schema.ORDER_LINES)):
            path = pending[new["id"]] / f"{table}.parquet"
            source = (f"select *, {int(new['seq'])} as batch_seq, '{new['id']}' as batch_id "
                      f"from read_parquet({sql_path(path)}, file_row_number = true)") if path.exists() else (
                f"select *, 0::bigint as batch_seq, ''::varchar as batch_id, 0::bigint as file_row_number from "
                f"({_typed_nulls(columns)}) where false")
            con.execute(f"create or replace temp view new_batch_{table} as {source}")
        previous_orders = read_files_sql(table_files(folder, "orders"))
        stored_columns = {c[0] for c in con.execute(f"select * from {previous_orders} limit 0").description}
        new_columns = {c[0] for c in con.execute("select * from new_batch_orders limit 0").description}
        if new_columns - stored_columns - {"file_row_number"}:
            return None, "it has columns the stored orders do not have"
        # probe the stored ids with the batch's (the smaller side is the one held in memory)
        known = con.execute(f"select count(*) from {previous_orders} where order_id in "
                            "(select order_id from new_batch_orders)").fetchone()[0]
        if known:
            return None, f"{known} of its orders were already in the store"
        earlier = con.execute(
            f"select count(*) from new_batch_orders where status = 'valid' and order_ts <= "
            f"({_last_valid_order_sql(con, folder, previous_orders)})").fetchone()[0]
        if earlier:
            return None, f"{earlier} of its valid orders are not after the store's last valid order"
        return folder, ""

    def _publish(self, old: dict, batches: list[dict], built: "_Built", removed: list[dict], change: dict) -> None:
        for batch in batches:
            total, superseded, replacing = built.dedup.get(batch["id"], (0, 0, 0))
            batch["orders_live"] = total - superseded
            batch["orders_superseded_by_newer"] = superseded
            batch["orders_replacing_earlier"] = replacing
        version = old["version"] + 1
        history = old.get("history") or ([{"version": old["version"], "dir": old["current"]}] if old["current"] else [])
        change = {"at": _now(), **change, "version": version}
        manifest = {
            "format": 1,
            "version": version,
            "current": built.version,
            "updated_at": change["at"],
            "tables": built.table_rows,
            "batches": batches,
            "removed": removed,
            "history": (history + [{"version": version, "dir": built.version}])[-HISTORY_KEPT:],
            "change": change,
        }
        self._write_manifest(manifest)
        try:
            self._recover_audit(old)
            self._append_audit(change)
        except OSError:  # published all the same: the next change writes the line (marked recovered)
            pass
        self._sweep()

    def _write_manifest(self, manifest: dict) -> None:
        """Replace manifest.json atomically (write, fsync, rename, fsync the folder). Under the writer lock."""
        tmp = self.root / f"manifest.json.{uuid.uuid4().hex}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump(manifest, handle, ensure_ascii=False, indent=1)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "manifest.json")
        _fsync_dir(self.root)

    def _sweep(self) -> None:
        """Delete what the published manifest does not refer to: batch folders of crashed or removed
        uploads, and versions older than the last few that no reader holds.

        Runs under the writer lock right after a change is published (never on a refused one,
        so a refusal leaves every file as it was).
        """
        manifest = self.manifest()
        live_batches = {b["id"] for b in manifest["batches"]}
        for path in (self.root / "batches").glob("*"):
            if path.name not in live_batches:
                shutil.rmtree(path, ignore_errors=True)
        published = [h["dir"] for h in manifest.get("history", [])]
        if not published:  # a store written before version history was kept
            published = sorted(p.name for p in (self.root / "versions").glob("v*"))
        keep = {manifest["current"]} | set(published[-VERSIONS_KEPT:])
        for path in sorted((self.root / "versions").glob("v*")):
            if path.name not in keep:
                _delete_unless_read(path)


# A process's in-memory databases over the store versions it read last, each with one view per table: a
# connection is a cursor of one (binding ~31 Parquet files took 0.14-0.22 s a connection at 100M orders,
# nine connections for one page). A database lives while it is kept here or a connection to it is open.
_DATABASES: "collections.OrderedDict[Path, duckdb.DuckDBPyConnection]" = collections.OrderedDict()
_LATE_VIEWS_MADE: dict[Path, int] = {}  # version folder -> late tables its database has a view of
_DATABASES_LOCK = threading.Lock()
DATABASES_KEPT = 4


def _kept_database(key: Path, make: Callable[[], duckdb.DuckDBPyConnection]) -> duckdb.DuckDBPyConnection:
    """This process's database `key`, made by make() on first use; the DATABASES_KEPT used last are kept. Called
    holding _DATABASES_LOCK."""
    database = _DATABASES.get(key)
    if database is None:
        database = make()
        _DATABASES[key] = database
        _LATE_VIEWS_MADE.pop(key, None)
        while len(_DATABASES) > DATABASES_KEPT:
            _DATABASES.popitem(last=False)  # its open connections keep it alive until they close
    _DATABASES.move_to_end(key)
    return database


def _version_database_connection(version_dir: Path) -> duckdb.DuckDBPyConnection:
    """A new connection to this process's database over version_dir's tables (made on first use)."""
    with _DATABASES_LOCK:
        database = _kept_database(version_dir, lambda: _version_database(version_dir))
        _add_late_views(database, version_dir)
        return database.cursor()


def _sample_database_connection(version_dir: Path) -> duckdb.DuckDBPyConnection:
    """A new connection to this process's database over version_dir's orders_sample (NoSample without one)."""
    with _DATABASES_LOCK:
        return _kept_database(version_dir / "orders_sample", lambda: _sample_database(version_dir)).cursor()


def _sample_database(version_dir: Path) -> duckdb.DuckDBPyConnection:
    """A bounded in-memory database (`_bounded_database`) whose `orders` are version_dir's orders_sample, beside
    its `order_facts` and the share sampled (`sample_share`); NoSample without one."""
    files = table_files(version_dir, "orders_sample")
    if not files:
        raise NoSample(f"Store version folder {version_dir.name} has no orders_sample (yet).")
    database = _bounded_database()
    sampled = read_table_sql("orders_sample", files)
    database.execute(f"create view orders as select {dialect.columns_except(('sampled_one_in',))} from {sampled}")
    database.execute(f"create view sample_share as select max(sampled_one_in) as one_in from {sampled}")
    facts = version_dir / "order_facts.parquet"
    database.execute(f"create view order_facts as select * from {read_table_sql('order_facts', [facts])}")
    return database


def sample_one_in(con: duckdb.DuckDBPyConnection) -> int:
    """The share a sample connection (`Store.connect(..., sample=True)`) counts: 1 in this many customers, as
    its version was built (`store.models.orders.SAMPLE_ONE_IN` then)."""
    return con.execute("select one_in from sample_share").fetchone()[0]


def _add_late_views(database: duckdb.DuckDBPyConnection, version_dir: Path) -> None:
    """Views of the version's late tables written since its database was made (built after publishing)."""
    if _LATE_VIEWS_MADE.get(version_dir) == len(LATE_TABLES):
        return
    made = {row[0] for row in database.execute(
        "select view_name from duckdb_views() where not internal and view_name in (select unnest($names))",
        {"names": list(LATE_TABLES)}).fetchall()}
    for name in LATE_TABLES:
        files = table_files(version_dir, name)
        if name not in made and files:
            database.execute(f"create view {name} as select * from {read_table_sql(name, files)}")
            made.add(name)
    _LATE_VIEWS_MADE[version_dir] = len(made)


def _bounded_database() -> duckdb.DuckDBPyConnection:
    """An in-memory database whose memory is bounded as an import's is (a Playbook list at 100M orders took 11 GB
    unbounded); past it, work spills to a folder of its own in the machine's temporary folder (not the working
    directory; two databases spilling into one folder can overwrite each other's files), which DuckDB makes when
    it first spills and deletes when the database closes."""
    database = quiet_connect()
    database.execute(f"set memory_limit = '{MEMORY_LIMIT}'")
    spill = Path(tempfile.gettempdir()) / f"repurchase-duckdb-{uuid.uuid4().hex}"
    database.execute(f"set temp_directory = {sql_path(spill)}")
    return database


def _version_database(version_dir: Path) -> duckdb.DuckDBPyConnection:
    """A bounded in-memory database (`_bounded_database`) with one view per table of a version folder."""
    database = _bounded_database()
    for name in BUILD_ORDER:
        files = table_files(version_dir, name)  # an appended table: several files
        if files:
            source = f"select * from {read_table_sql(name, files)}"
            if name == "assignments":  # versions built before a column was added get it as NULL
                source = dialect.union_by_name([source, f"{_typed_nulls(schema.ASSIGNMENTS)} where false"])
            database.execute(f"create view {name} as {source}")
    if not (version_dir / "assigned_orders.parquet").exists():  # a version built before it existed
        database.execute(f"create view assigned_orders as {ASSIGNED_ORDERS_SQL}")
    if not (version_dir / "order_facts.parquet").exists():  # a store without valid orders, built before it had it
        database.execute(f"create view order_facts as {ORDER_FACTS_SQL}")
    return database


def _last_valid_order_sql(con: duckdb.DuckDBPyConnection, folder: Path, previous_orders: str) -> str:
    """SQL of the version in `folder`'s last valid order time: stored in its order_facts, else (written
    before order_facts kept it) the largest of its valid orders' times, a scan of every order."""
    facts = f"read_parquet({sql_path(folder / 'order_facts.parquet')})"
    if "last_valid_order" in {c[0] for c in con.execute(f"select * from {facts} limit 0").description}:
        return f"select last_valid_order from {facts}"
    return f"select max(order_ts) from {previous_orders} where is_valid"


def _history(manifest: dict) -> dict[int, str]:
    """Published version number -> version folder, for the versions the manifest remembers."""
    history = {h["version"]: h["dir"] for h in manifest.get("history", [])}
    if manifest.get("current"):
        history[manifest["version"]] = manifest["current"]
    return history


def _delete_unless_read(version_dir: Path) -> None:
    """Delete a version folder unless a reader holds its lock (then a later sweep will)."""
    lock = version_dir / ".lock"
    if not lock.exists():  # never published (a crashed build), or written before readers locked
        shutil.rmtree(version_dir, ignore_errors=True)
        return
    with open(lock, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return
        for path in version_dir.iterdir():  # data first, the lock file last
            if path.name != ".lock":
                shutil.rmtree(path) if path.is_dir() else path.unlink()
        shutil.rmtree(version_dir, ignore_errors=True)


def _typed_nulls(columns: dict[str, str]) -> str:
    """`select null::TYPE as name, ...` for a canonical table's columns."""
    return "select " + ", ".join(f"null::{t} as {c}" for c, t in columns.items())


def quiet_connect() -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection that never draws a progress bar (the CLI's and the server's
    logs stay readable; the option cannot be set process-wide)."""
    con = duckdb.connect()
    con.execute("set enable_progress_bar = false")
    return con


def _create_empty_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Empty derived tables with the right columns, so that queries on a new store return nothing."""
    build = quiet_connect()
    for table, columns in BATCH_TABLES.items():
        build.execute(
            f"create temp table batch_{table} as select {', '.join(f'null::{t} as {c}' for c, t in columns.items())}, "
            "0::bigint as batch_seq, ''::varchar as batch_id, 0::bigint as file_row_number where false"
        )
    for name in EMPTY_STORE_TABLES:
        build.execute(f"create temp table {name} as {MODELS[name].build(build)[0]}")
        arrow = build.sql(f"select * from {name}").to_arrow_table()
        con.register(f"_{name}_empty", arrow)
        con.execute(f"create view {name} as select * from _{name}_empty")
    build.close()
