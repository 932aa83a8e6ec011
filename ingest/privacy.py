"""Pseudonymised customer ids: a keyed hash (HMAC-SHA256) applied at import, before anything is stored.

With a key configured (`REPURCHASE_PSEUDONYM_KEY`, or `[privacy] pseudonym_key` in the app's
secrets.toml), every import replaces each customer id, after the usual cleaning (trimmed, emails
lower-cased, `17850.0` -> `17850`), by `p_` + 32 hex digits of HMAC-SHA256(key, id). The same id
and key always give the same pseudonym, so repeat purchases, cohorts and experiment assignments
still join; without the key nobody can compute it back from a list of emails or phone numbers.
An id that already is a pseudonym (a downloaded list re-uploaded as assignments) is kept.

The store records a fingerprint of the key with every batch and refuses an upload made with
another key, without a key, or a pseudonymised upload into a store of raw ids: one store, one key.

Command line, to match your CRM's ids with a downloaded list:
    printf 'alice@example.com\\n' | REPURCHASE_PSEUDONYM_KEY=... python -m ingest.privacy
prints `id,pseudonym` lines.
"""

import hashlib
import hmac
import os
import re
import sys

import duckdb
import pyarrow as pa

from store import quiet_connect

KEY_ENV = "REPURCHASE_PSEUDONYM_KEY"
MIN_KEY_LENGTH = 16
PSEUDONYM = re.compile(r"^p_[0-9a-f]{32}$")


class KeyProblem(ValueError):
    """The configured key cannot be used (too short)."""


def key_from_env() -> str | None:
    return os.environ.get(KEY_ENV) or None


def check_key(key: str) -> bytes:
    if len(key) < MIN_KEY_LENGTH:
        raise KeyProblem(f"the pseudonym key must have at least {MIN_KEY_LENGTH} characters "
                         "(e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
    return key.encode("utf-8")


def key_id(key: str) -> str:
    """A fingerprint of the key, stored with each batch (it does not reveal the key)."""
    return hmac.new(check_key(key), b"repurchase pseudonym key id", hashlib.sha256).hexdigest()[:16]


def pseudonym(value: str, key: str | bytes) -> str:
    """The pseudonym of one (already cleaned) customer id."""
    if PSEUDONYM.match(value):
        return value
    secret = key if isinstance(key, bytes) else check_key(key)
    return "p_" + hmac.new(secret, value.encode("utf-8"), hashlib.sha256).hexdigest()[:32]


def pseudonymise_column(con: duckdb.DuckDBPyConnection, table: str, column: str, key: str) -> int:
    """Replace every value of table.column by its pseudonym, in place; return the distinct ids done."""
    secret = check_key(key)
    ids = [row[0] for row in con.execute(f"select distinct {column} from {table} where {column} is not null").fetchall()]
    pairs = pa.table({"raw_id": pa.array(ids, pa.string()),
                      "pseudonym": pa.array([pseudonym(v, secret) for v in ids], pa.string())})
    con.register("pseudonyms", pairs)
    con.execute(f"update {table} set {column} = pseudonyms.pseudonym from pseudonyms "
                f"where {table}.{column} = pseudonyms.raw_id")
    con.unregister("pseudonyms")
    return len(ids)


def check_store(file_name: str, batches: list[dict], key: str | None) -> str | None:
    """The key's fingerprint for a new batch, or ImportRefused if it would mix ids of two kinds."""
    from ingest.readers import ImportRefused

    try:
        mine = key_id(key) if key else None
    except KeyProblem as problem:
        raise ImportRefused(f"{file_name}: {problem}.") from problem
    stored = {b.get("pseudonym_key_id") for b in batches}
    if not batches or stored == {mine}:
        return mine
    if mine is None:
        raise ImportRefused(
            f"{file_name}: this store holds pseudonymised customer ids but no pseudonym key is configured; "
            f"set {KEY_ENV} (or [privacy] pseudonym_key) to the store's key and upload again."
        )
    if None in stored:
        raise ImportRefused(
            f"{file_name}: this store holds raw customer ids, so pseudonymised ones would not join them; "
            "start a new store (--store) for pseudonymised data, or remove the earlier uploads first."
        )
    raise ImportRefused(
        f"{file_name}: the configured pseudonym key is not the one this store's ids were made with; "
        "use the same key for every upload."
    )


def main() -> int:
    key = key_from_env()
    if not key:
        print(f"Set {KEY_ENV} to the store's key.", file=sys.stderr)
        return 2
    try:
        secret = check_key(key)
    except KeyProblem as problem:
        print(problem, file=sys.stderr)
        return 2
    from ingest.normalise import MACROS

    con = quiet_connect()
    con.execute(MACROS)
    for line in sys.stdin:
        raw = line.rstrip("\r\n")
        cleaned = con.execute("select clean_customer($v)", {"v": raw}).fetchone()[0]
        print(f"{raw},{pseudonym(cleaned, secret) if cleaned else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
