"""Results computed once per store version and kept in its results folder (`Store.results_dir`, deleted
with the version): the Customer value fit and tables, the Playbook's evidence and its customer lists.
They are kept under a format number (`KEPT_FORMAT`): a change to what a kept result holds bumps it, so
that versions kept before are worked out again rather than read in the old shape.

Whichever process asks first computes and keeps a result; every later view, in any process, reads it.
Within a process, a second request waits for the first instead of computing again (`once`). A store
that cannot be written (read-only) keeps nothing: each process computes for itself. Write while a
connection to the version is open and read under `read_kept`: both pin the version, so its folder stays.
"""

import contextvars
import json
import os
import shutil
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from store import Store, StoreChanged

T = TypeVar("T")
KEPT_FORMAT = 1
NEVER_VIEWED = 0.0  # the time of a result worked out ahead (`ahead`) that nobody has viewed yet
_AHEAD = contextvars.ContextVar("kept_results_ahead", default=False)
_IN_FLIGHT: dict[tuple, tuple[Future, int]] = {}
_LOCK = threading.Lock()


def once(key: tuple, compute: Callable[[], T]) -> T:
    """compute() run once at a time per key in this process: callers meanwhile share its result or its error."""
    with _LOCK:
        future, owner_thread = _IN_FLIGHT.get(key, (None, None))
        owner = future is None
        if owner:
            future = Future()
            _IN_FLIGHT[key] = (future, threading.get_ident())
        elif owner_thread == threading.get_ident():  # waiting on itself would never end
            raise RuntimeError(f"{key} is already being worked out by this thread")
    if owner:
        try:
            future.set_result(compute())
        except BaseException as problem:  # the waiters get the same error (a ClvFitError says why)
            future.set_exception(problem)
        finally:
            with _LOCK:  # the result lives on where compute() kept it, not here
                _IN_FLIGHT.pop(key, None)
    return future.result()


def kept_path(root: str, version: int, name: str) -> Path | None:
    """Where result `name` of this store version is kept (None: the empty store or a forgotten version)."""
    folder = Store(root).results_dir(version)
    return folder / f"kept-{KEPT_FORMAT}" / name if folder else None


def read_kept(root: str, version: int, path: Path | None, read: Callable[[Path], T]) -> T | None:
    """read(path) while the store version is pinned (no DuckDB connection needed); None if nothing is kept there."""
    if path is None:
        return None
    with Store(root).pinned(version):
        return read(path) if path.exists() else None


def keep(path: Path | None, write: Callable[[Path], None]) -> bool:
    """write(file) to a new file moved into place at `path` when complete (readers never see half a file);
    False when nothing could be kept (no folder, or a read-only store)."""
    if path is None:
        return False
    partial = path.with_name(f"{path.name}.{uuid.uuid4().hex}.tmp")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, path)  # a folder too, unless another process kept it first
        return True
    except Exception:  # noqa: BLE001 - not kept (read-only store, a value JSON cannot hold): worked out again
        return False
    finally:
        if partial.is_dir():
            shutil.rmtree(partial, ignore_errors=True)
        else:
            partial.unlink(missing_ok=True)


def write_rows(file: Path, rows: pa.RecordBatchReader) -> None:
    """Rows to a Parquet file batch by batch (never all in memory); decimals as doubles, as pandas reads them."""
    schema = pa.schema([field.with_type(pa.float64()) if pa.types.is_decimal(field.type) else field
                        for field in rows.schema])
    with pq.ParquetWriter(file, schema) as writer:
        for batch in rows:
            writer.write_batch(batch.cast(schema) if batch.schema != schema else batch)


def first_rows(file: Path, count: int) -> tuple[pd.DataFrame, int]:
    """The first `count` rows of a kept Parquet file and how many it holds."""
    parquet = pq.ParquetFile(file)
    batch = next(parquet.iter_batches(batch_size=count), None)
    table = pa.Table.from_batches([batch]) if batch is not None else parquet.schema_arrow.empty_table()
    return as_frame(table), parquet.metadata.num_rows


def all_rows(file: Path) -> pd.DataFrame:
    return as_frame(pq.read_table(file))


def as_frame(table: pa.Table) -> pd.DataFrame:
    """A table as pandas reads a DuckDB result: dates as datetime64, not Python date objects."""
    return table.to_pandas(date_as_object=False)


def kept_views(folder: Path | None, compute: Callable[[], dict]) -> dict:
    """A page's views (a dict of numbers, text, tables and dicts of them) kept in `folder`, tables as
    Parquet with their index, the rest as JSON; else compute() kept there, with the time it was kept (worked
    out `ahead`: NEVER_VIEWED). Reading them records no view (`viewed` does). None: compute only."""
    if folder is not None and (folder / "views.json").exists():
        try:
            return _read_views(json.loads((folder / "views.json").read_text(encoding="utf-8")), folder)
        except (OSError, ValueError, KeyError):
            shutil.rmtree(folder, ignore_errors=True)  # unreadable: worked out again and kept anew
    views = compute()
    if folder is not None:
        def write(partial: Path) -> None:
            partial.mkdir()
            (partial / "views.json").write_text(json.dumps(_written_views(views, partial, [])), encoding="utf-8")
            if _AHEAD.get():  # before it is in place: a view meanwhile in another process is never undone
                os.utime(partial / "views.json", (NEVER_VIEWED, NEVER_VIEWED))
        keep(folder, write)
    return views


@contextmanager
def ahead() -> Iterator[None]:
    """Results worked out or read in this context (a warm-up's, in its thread) are not views: what it keeps
    has the time NEVER_VIEWED, and `viewed` records nothing."""
    token = _AHEAD.set(True)
    try:
        yield
    finally:
        _AHEAD.reset(token)


def viewed(views_file: Path) -> None:
    """Kept views viewed now (outside `ahead`): `kept_values_under` lists the most recent first."""
    if not _AHEAD.get():
        mark_viewed(views_file)


def mark_viewed(views_file: Path, when: float | None = None) -> None:
    """Kept views last viewed now, or at `when` unless viewed since."""
    try:
        if when is None or views_file.stat().st_mtime < when:
            os.utime(views_file, None if when is None else (when, when))
    except OSError:  # a read-only store, or gone: its order stays the order they were kept in
        pass


def kept_values_under(root: str, version: int, under: str, key: str) -> list[tuple[float, object]]:
    """(time last viewed, the value kept as `key`) of every page's views kept in folders under `under` of this
    store version's results, their tables left unread; none for a version forgotten or cleaned up. A folder
    unreadable, half written or gone meanwhile is passed over."""
    folder = kept_path(root, version, under)
    if folder is None:
        return []
    found = []
    try:
        with Store(root).pinned(version):
            for views in folder.glob("*/views.json"):
                if views.parent.name.endswith(".tmp"):
                    continue
                try:
                    kept = json.loads(views.read_text(encoding="utf-8"))["dict"][key]
                    found.append((views.stat().st_mtime, _read_views(kept, views.parent)))
                except (OSError, ValueError, KeyError):
                    continue
    except StoreChanged:  # cleaned up
        return []
    return found


def _written_views(value, folder: Path, at: list[str]):
    if isinstance(value, pd.DataFrame):
        name = "-".join(at) + ".parquet"
        written = {"table": name}
        if isinstance(value.columns, pd.CategoricalIndex):  # Parquet keeps column names as text: the order aside
            columns = value.columns
            written["columns"] = {"categories": list(map(str, columns.categories)), "ordered": bool(columns.ordered),
                                  "name": columns.name}
            value = value.set_axis(columns.astype(str), axis=1)
        value.to_parquet(folder / name)
        return written
    if isinstance(value, dict):
        return {"dict": {key: _written_views(item, folder, [*at, str(key)]) for key, item in value.items()}}
    return {"value": value.item() if isinstance(value, np.generic) else value}  # a count from pandas: int64


def _read_views(value: dict, folder: Path):
    if "table" in value:
        frame = pd.read_parquet(folder / value["table"])
        if "columns" in value:
            kept_columns = value["columns"]
            frame.columns = pd.CategoricalIndex(frame.columns, categories=kept_columns["categories"],
                                                ordered=kept_columns["ordered"], name=kept_columns["name"])
        return frame
    if "dict" in value:
        return {key: _read_views(item, folder) for key, item in value["dict"].items()}
    return value["value"]
