"""Saved launch evaluations: `<store root>/launches.json`, read by the Launch and Playbook pages.

The file holds {"format": 1, "launches": [entry, ...]}, each entry
{strategy, launched_at, treated_column, treated_values, window_days, matched, saved_at, saved_by}
(format: docs/launch.md). It records which evaluation to rerun, never its numbers, so it cannot
go stale when new orders arrive. Written atomically (temporary file, fsync, rename) under its own
lock, so an upload never waits for it and a reader never sees half a file.
"""

import contextlib
import fcntl
import json
import os
from datetime import date, datetime, timezone
from pathlib import Path

FILE = "launches.json"
MAX_LAUNCHES = 500
KEYS = ("strategy", "launched_at", "treated_column", "treated_values", "window_days", "matched")


def _path(root: Path | str) -> Path:
    return Path(root) / FILE


def _entry(raw) -> dict | None:
    """A saved launch with the expected types, or None for anything else in the file."""
    if not isinstance(raw, dict):
        return None
    try:
        values = raw["treated_values"]
        entry = {
            "strategy": str(raw["strategy"]),
            "launched_at": date.fromisoformat(str(raw["launched_at"])).isoformat(),
            "treated_column": str(raw["treated_column"]),
            "treated_values": [str(v) for v in values] if isinstance(values, list) else None,
            "window_days": int(raw["window_days"]),
            "matched": bool(raw["matched"]),
        }
    except (KeyError, TypeError, ValueError):
        return None
    if entry["treated_values"] is None:
        return None
    entry["saved_at"] = str(raw.get("saved_at") or "")
    entry["saved_by"] = str(raw.get("saved_by") or "")
    return entry


def load_launches(root: Path | str) -> list[dict]:
    """The saved launches, oldest first ([] when none were saved or the file is unreadable)."""
    try:
        data = json.loads(_path(root).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return []
    launches = data.get("launches") if isinstance(data, dict) else None
    return [entry for entry in map(_entry, launches or []) if entry is not None]


def same_launch(a: dict, b: dict) -> bool:
    """Two entries describe the same evaluation (the strategy tag may differ)."""
    return all(a[key] == b[key] for key in KEYS if key != "strategy")


def save_launch(root: Path | str, strategy: str, launched_at: date, treated_column: str, treated_values,
                window_days: int, matched: bool, saved_by: str = "") -> list[dict]:
    """Record one evaluation (replacing an earlier save of the same one) and return every saved launch."""
    entry = _entry({"strategy": strategy, "launched_at": launched_at.isoformat(), "treated_column": treated_column,
                    "treated_values": list(treated_values), "window_days": window_days, "matched": matched,
                    "saved_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), "saved_by": saved_by})
    if entry is None:
        raise ValueError("not a launch evaluation")
    with _locked(root):
        launches = [kept for kept in load_launches(root) if not same_launch(kept, entry)]
        launches = [*launches, entry][-MAX_LAUNCHES:]
        _write(root, launches)
    return launches


def remove_launch(root: Path | str, entry: dict) -> list[dict]:
    """Forget a saved evaluation; return the rest."""
    with _locked(root):
        launches = [kept for kept in load_launches(root) if not same_launch(kept, entry)]
        _write(root, launches)
    return launches


@contextlib.contextmanager
def _locked(root: Path | str):
    Path(root).mkdir(parents=True, exist_ok=True)
    with open(_path(root).with_name(FILE + ".lock"), "a+") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(root: Path | str, launches: list[dict]) -> None:
    path = _path(root)
    tmp = path.with_name(f".{FILE}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump({"format": 1, "launches": launches}, handle, ensure_ascii=False, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
