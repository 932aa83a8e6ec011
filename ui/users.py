"""Who may sign in, without Streamlit: roles, the users file, password hashes, lock-outs, the access log.

Roles: **viewer** (managers: read the pages), **analyst** (also upload and remove batches, and
download customer lists), **admin** (also manage users and saved presets).

Access control is off until configured (see docs/security.md): an `[auth]` section in
`.streamlit/secrets.toml` turns on OIDC; a users file (`$REPURCHASE_USERS`, `[access] users_file`,
else `.streamlit/users.json`) with at least one password turns on built-in users. Passwords are
stored as Argon2id hashes (argon2-cffi), never in clear. The configuration functions here take the
secrets as a dict; `ui.auth` reads them from Streamlit.

The users file's command line (kept under its documented name, `python -m ui.auth`):

    python -m ui.auth add-user NAME --role analyst     # password from stdin, or asked twice
    python -m ui.auth remove-user NAME
    python -m ui.auth list
"""

import argparse
import contextlib
import fcntl
import getpass
import json
import os
import re
import sys
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from store import Store, default_store_dir, default_user

ROOT = Path(__file__).resolve().parent.parent
USERS_ENV = "REPURCHASE_USERS"
DEFAULT_USERS_FILE = ROOT / ".streamlit" / "users.json"
ROLES = ("viewer", "analyst", "admin")
PERMISSIONS = {
    "viewer": frozenset({"read"}),
    "analyst": frozenset({"read", "upload", "remove", "customer_lists", "save_preset"}),
    "admin": frozenset({"read", "upload", "remove", "customer_lists", "save_preset", "manage_users",
                        "manage_presets"}),
}
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9._@+-]{0,99}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 1024
MAX_FAILURES = 5  # failed sign-ins per name within FAILURE_WINDOW before that name is locked
FAILURE_WINDOW = 300.0  # seconds


@dataclass(frozen=True)
class User:
    name: str
    role: str  # viewer / analyst / admin, or "" for a signed-in identity without access
    mode: str  # off / password / oidc

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


# ---- passwords -----------------------------------------------------------------------------


def _hasher() -> PasswordHasher:
    return PasswordHasher()  # Argon2id, the library's (RFC 9106) defaults


def hash_password(password: str) -> str:
    """The Argon2id hash of `password` (refused unless it has MIN_PASSWORD to MAX_PASSWORD characters)."""
    if not MIN_PASSWORD <= len(password) <= MAX_PASSWORD:
        raise ValueError(f"a password needs {MIN_PASSWORD} to {MAX_PASSWORD} characters")
    return _hasher().hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Constant work whether or not the user exists (a dummy hash is checked for unknown names)."""
    hasher = _hasher()
    try:
        return hasher.verify(stored_hash or _dummy_hash(), password[:MAX_PASSWORD]) and stored_hash is not None
    except (VerificationError, InvalidHashError):
        return False


_DUMMY: list[str] = []


def _dummy_hash() -> str:
    if not _DUMMY:
        _DUMMY.append(_hasher().hash("not a real password, never matches"))
    return _DUMMY[0]


def normalise_name(name: str) -> str:
    """A user name as stored: trimmed, lower case; refused unless it matches NAME_PATTERN."""
    name = name.strip().lower()
    if not NAME_PATTERN.match(name):
        raise ValueError("a name is 1-100 letters, digits or . _ @ + - (an e-mail address works)")
    return name


def name_or_unknown(name: str) -> str:
    """The name as typed, normalised, for the log ("?" for text that is no user name at all)."""
    try:
        return normalise_name(name)
    except ValueError:
        return "?"


# ---- the users file ------------------------------------------------------------------------


class UsersFile:
    """The users file: {"users": {name: {"role", "password_hash"?, "created_at", "created_by"}}}.

    Written atomically (temporary file, fsync, rename) under a lock, readable by its owner only.
    """

    def __init__(self, path: Path | str):
        self.path = Path(path)

    def load(self) -> dict[str, dict]:
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        users = data.get("users", {}) if isinstance(data, dict) else {}
        return {name: entry for name, entry in users.items() if isinstance(entry, dict) and entry.get("role") in ROLES}

    @contextlib.contextmanager
    def locked(self):
        """Hold the users file's lock (also taken for its failures file)."""
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(self.path.name + ".lock"), "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            yield

    def put(self, name: str, role: str, password: str | None = None, by: str = "", keep_password: bool = True) -> str:
        """Add or update a user; return the normalised name."""
        name = normalise_name(name)
        if role not in ROLES:
            raise ValueError(f"role must be one of {', '.join(ROLES)}")
        new_hash = hash_password(password) if password is not None else None
        with self.locked():
            users = self.load()
            entry = dict(users.get(name) or {"created_at": _now(), "created_by": by})
            entry["role"] = role
            if new_hash:
                entry["password_hash"] = new_hash
            elif not keep_password:
                entry.pop("password_hash", None)
            entry["updated_at"] = _now()
            users[name] = entry
            write_private_json(self.path, {"format": 1, "users": users}, indent=1)
        return name

    def remove(self, name: str) -> bool:
        with self.locked():
            users = self.load()
            if users.pop(normalise_name(name), None) is None:
                return False
            write_private_json(self.path, {"format": 1, "users": users}, indent=1)
        return True


def _now() -> str:
    return datetime.now(timezone.utc).astimezone().isoformat(timespec="seconds")


def write_private_json(path: Path, data, indent: int | None = None) -> None:
    """Write atomically (temporary file, fsync, rename), readable by the owner only."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(data, handle, ensure_ascii=False, indent=indent)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


def checked_change(actor: User, name: str, role: str, password: str | None, again: str | None,
                   users: dict[str, dict]) -> str:
    """The normalised name if `actor` may give `name` this role (and password); ValueError why not."""
    target = normalise_name(name or "")
    if target == actor.name and role != "admin":
        raise ValueError("you cannot take the admin role from yourself")
    if password != again:
        raise ValueError("the two passwords differ")
    if actor.mode == "password" and not password and not users.get(target, {}).get("password_hash"):
        raise ValueError("a new user needs a password")
    return target


# ---- configuration (secrets.toml as a dict) ------------------------------------------------


def users_path(secrets: dict) -> Path:
    """The users file: $REPURCHASE_USERS, else [access] users_file, else .streamlit/users.json."""
    configured = os.environ.get(USERS_ENV) or (secrets.get("access") or {}).get("users_file")
    return Path(configured) if configured else DEFAULT_USERS_FILE


def auth_mode(secrets: dict) -> str:
    """off, password or oidc, from the configuration."""
    if secrets.get("auth"):
        return "oidc"
    if any(entry.get("password_hash") for entry in UsersFile(users_path(secrets)).load().values()):
        return "password"
    return "off"


def oidc_role(identity: str, secrets: dict) -> str | None:
    """A signed-in identity's role: the users file, then [access] lists, then [access] default_role."""
    if not identity:
        return None
    entry = UsersFile(users_path(secrets)).load().get(identity)
    if entry:
        return entry["role"]
    access = secrets.get("access") or {}
    for role in ("admin", "analyst", "viewer"):
        if identity in {str(v).strip().lower() for v in access.get(f"{role}s", [])}:
            return role
    default = access.get("default_role")
    return default if default in ROLES else None


def local_user_name() -> str:
    """Who runs this process: the user when access control is off, and the CLI's `created_by`."""
    return default_user()


# ---- sign-in throttling --------------------------------------------------------------------
# Failed attempts are kept beside the users file (`users.json.failures`, same lock, mode 600), so a
# restart does not clear a lock-out; without a file (tests of the logic alone) they stay in memory.

_failures: dict[str, list[float]] = {}
_failures_lock = threading.Lock()


class FailureLog:
    """Times of recent failed sign-ins per name, in a small JSON file written like the users file."""

    def __init__(self, users_file: Path | str | None):
        self.users = UsersFile(users_file) if users_file else None

    @property
    def path(self) -> Path | None:
        return self.users.path.with_name(self.users.path.name + ".failures") if self.users else None

    @contextlib.contextmanager
    def _edit(self):
        """The failures (pruned to the window) to read and change; saved afterwards."""
        if self.users is None:
            with _failures_lock:
                yield _failures
            return
        with self.users.locked():
            try:
                data = json.loads(self.path.read_text(encoding="utf-8"))
            except (FileNotFoundError, ValueError):
                data = {}
            now = time.time()
            failures = {name: [at for at in times if isinstance(at, (int, float)) and now - at < FAILURE_WINDOW]
                        for name, times in (data if isinstance(data, dict) else {}).items() if isinstance(times, list)}
            failures = {name: times for name, times in failures.items() if times}
            before = json.dumps(failures, sort_keys=True)
            yield failures
            if json.dumps(failures, sort_keys=True) != before or data != failures:
                write_private_json(self.path, failures)

    def wait(self, name: str) -> float:
        """Seconds until `name` may try again (0 = now)."""
        with self._edit() as failures:
            recent = [at for at in failures.get(name, []) if time.time() - at < FAILURE_WINDOW]
            if len(recent) >= MAX_FAILURES:
                return FAILURE_WINDOW - (time.time() - recent[-MAX_FAILURES])
        return 0.0

    def record(self, name: str) -> bool:
        """Count a failed attempt; True if it locks the name."""
        with self._edit() as failures:
            failures.setdefault(name, []).append(time.time())
            return len(failures[name]) >= MAX_FAILURES

    def clear(self, name: str) -> None:
        with self._edit() as failures:
            failures.pop(name, None)


def check_password_login(users: dict[str, dict], name: str, password: str,
                         users_file: Path | str | None = None) -> tuple[str | None, float]:
    """(normalised name if the password is right, seconds locked). Failed attempts are counted,
    in `users_file`'s failures file when given (a lock-out then survives a restart)."""
    found, wait, _ = check_login(users, name, password, FailureLog(users_file))
    return found, wait


def check_login(users: dict[str, dict], name: str, password: str, log: FailureLog) -> tuple[str | None, float, bool]:
    """(name if right, seconds locked, whether this failure locked the name)."""
    name = name_or_unknown(name)
    wait = log.wait(name)
    if wait:
        return None, wait, False
    entry = users.get(name) or {}
    if verify_password(entry.get("password_hash"), password):
        log.clear(name)
        return name, 0.0, False
    return None, 0.0, log.record(name)


def record_access_event(action: str, user: str | None, **details) -> None:
    """A failed sign-in, lock-out or customer-list download, in the store's activity log. Never
    stops the app: a log that cannot be written is reported on the server's log instead."""
    try:
        Store(default_store_dir()).record_access_event(action, user=user, via="app", **details)
    except OSError as error:
        print(f"activity log not written ({action}, {user}): {error}", file=sys.stderr)


# ---- command line --------------------------------------------------------------------------


def _read_password(prompt_twice: bool = True) -> str:
    if not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if prompt_twice and getpass.getpass("Password again: ") != first:
        raise ValueError("the two passwords differ")
    return first


def main(argv: list[str] | None = None) -> int:
    """The users file's command line (run as `python -m ui.auth`)."""
    parser = argparse.ArgumentParser(prog="python -m ui.auth", description="Manage the dashboard's users file.")
    parser.add_argument("--file", type=Path, help=f"users file (default: ${USERS_ENV} or .streamlit/users.json)")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add-user", help="add a user, or change a user's role and password")
    add.add_argument("name")
    add.add_argument("--role", choices=ROLES, default="viewer")
    add.add_argument("--no-password", action="store_true", help="an OIDC identity (e-mail) with a role, no password")
    remove = commands.add_parser("remove-user", help="remove a user")
    remove.add_argument("name")
    commands.add_parser("list", help="list users and roles")
    args = parser.parse_args(argv)
    path = args.file or Path(os.environ.get(USERS_ENV) or DEFAULT_USERS_FILE)
    users_file = UsersFile(path)
    try:
        if args.command == "add-user":
            password = None if args.no_password else _read_password()
            name = users_file.put(args.name, args.role, password, by=local_user_name(), keep_password=not args.no_password)
            print(f"Saved {name} ({args.role}) in {path}.")
        elif args.command == "remove-user":
            if not users_file.remove(args.name):
                print(f"No user {args.name!r} in {path}.", file=sys.stderr)
                return 2
            print(f"Removed {args.name} from {path}.")
        else:
            for name, entry in sorted(users_file.load().items()):
                print(f"{name:40} {entry['role']:8} {'password' if entry.get('password_hash') else 'no password'}")
    except ValueError as problem:
        print(f"Not saved: {problem}.", file=sys.stderr)
        return 2
    return 0

