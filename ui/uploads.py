"""Uploaded files on disk: private, short-lived, swept when their process is gone.

The importer reads a path, so the Data page writes the browser's upload to disk, but only for as
long as one run of the page needs it (the preview, or the import) and deletes it at the end of
that run, whether the import was accepted, refused or crashed. The folder is
`<temp>/repurchase-uploads-<uid>/<pid>-<random>/` (mode 0700, files 0600); `sweep_stale_uploads()`
(called when the app starts) deletes what a killed process left: folders whose process is gone.
"""

import contextlib
import os
import shutil
import stat
import tempfile
import uuid
from collections.abc import Iterator
from pathlib import Path

from store import clean_file_name


def uploads_root() -> Path:
    """This user's private uploads folder (created 0700; refused if someone else owns it or it is a link)."""
    root = Path(tempfile.gettempdir()) / f"repurchase-uploads-{os.getuid()}"
    with contextlib.suppress(FileExistsError):
        root.mkdir(mode=0o700)
    info = os.lstat(root)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
        raise PermissionError(f"{root} is not a folder owned by this user; remove it and try again")
    if stat.S_IMODE(info.st_mode) != 0o700:
        os.chmod(root, 0o700)  # a folder from an earlier version was 0755
    return root


@contextlib.contextmanager
def upload_on_disk(name: str, content: bytes) -> Iterator[Path]:
    """The upload as a file (mode 0600) for the duration of the `with` block, then deleted."""
    folder = uploads_root() / f"{os.getpid()}-{uuid.uuid4().hex}"
    folder.mkdir(mode=0o700)
    try:
        path = folder / clean_file_name(name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        yield path
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's process: alive
        return True
    return True


def sweep_stale_uploads() -> int:
    """Delete the upload folders of processes that are gone (and any older layout); return how many."""
    try:
        root = uploads_root()
    except OSError:
        return 0
    removed = 0
    for entry in root.iterdir():
        pid_text = entry.name.split("-", 1)[0]
        if pid_text.isdigit() and entry.is_dir() and _process_alive(int(pid_text)) and int(pid_text) != 0:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry, ignore_errors=True)
        else:
            entry.unlink(missing_ok=True)
        removed += 1
    return removed


_swept: list[int] = []


def sweep_once_per_process() -> None:
    """`sweep_stale_uploads()` the first time the app runs in this process."""
    if os.getpid() not in _swept:
        _swept.append(os.getpid())
        sweep_stale_uploads()
