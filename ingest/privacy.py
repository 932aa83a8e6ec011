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


# Values that look like an e-mail address or a phone number, in any column (RE2 syntax: DuckDB's
# regexp_matches runs RE2, whose time is linear in the value's length, so no value can make it
# backtrack). A value that holds one anywhere is replaced as a whole.
EMAIL = r"[^\s@]+@[^\s@]+\.\pL{2,}"  # name@host.tld, any script (张三@例子.中国)
CHINESE_MOBILE = r"(?:^|\D)(?:\+?86[\s-]?)?1[3-9]\d[\s-]?\d{4}[\s-]?\d{4}(?:\D|$)"  # 13912345678, +86 139-1234-5678
INTERNATIONAL_PHONE = r"(?:^|[^\d+])\+\d(?:[\s()-]{0,2}\d){7,14}(?:\D|$)"  # +44 20 7946 0958, +1 (555) 123-4567
CONTACT_PATTERN = f"{EMAIL}|{CHINESE_MOBILE}|{INTERNATIONAL_PHONE}"


def contact_pseudonym(value: str, key: str | bytes) -> str:
    """The pseudonym of a value found to hold an e-mail or phone number: trimmed and, if it holds an
    e-mail address, lower-cased first (as customer ids are), so `Ann@X.com` in a coupon column and
    `ann@x.com` as a customer id give the same pseudonym."""
    value = value.strip()
    return pseudonym(value.lower() if "@" in value else value, key)


def pseudonymise_contacts(con: duckdb.DuckDBPyConnection, table: str, columns: dict[str, list[str]],
                          key: str) -> dict[str, int]:
    """Replace every value of table.<column> that holds an e-mail address or phone number by its
    pseudonym, for each `column` of `columns` (text column -> columns computed from it, set to null
    where the text was replaced: a phone number in an amount column is no amount). Returns the
    number of rows changed per column (columns with none left out)."""
    secret = check_key(key)
    changed = {}
    for column, derived in columns.items():
        found = [row[0] for row in con.execute(
            f"select distinct {column} from {table} where regexp_matches({column}, $pattern)",
            {"pattern": CONTACT_PATTERN},
        ).fetchall()]
        if not found:
            continue
        pairs = pa.table({"raw_value": pa.array(found, pa.string()),
                          "pseudonym": pa.array([contact_pseudonym(v, secret) for v in found], pa.string())})
        con.register("contact_pseudonyms", pairs)
        assignments = ", ".join([f"{column} = contact_pseudonyms.pseudonym", *(f"{d} = null" for d in derived)])
        rows = con.execute(f"update {table} set {assignments} from contact_pseudonyms "
                           f"where {table}.{column} = contact_pseudonyms.raw_value").fetchone()[0]
        con.unregister("contact_pseudonyms")
        changed[column] = rows
    return changed


def check_store(file_name: str, batches: list[dict], key: str | None) -> str | None:
    """The key's fingerprint for a new batch, or ImportRefused if it would mix ids of two kinds."""
    from ingest.readers import ImportRefused

    try:
        mine = key_id(key) if key else None
    except KeyProblem as problem:
        raise ImportRefused(f"{file_name}: {problem}.", code="short_pseudonym_key", file=file_name,
                            length=MIN_KEY_LENGTH) from problem
    stored = {b.get("pseudonym_key_id") for b in batches}
    if not batches or stored == {mine}:
        return mine
    if mine is None:
        raise ImportRefused(
            f"{file_name}: this store holds pseudonymised customer ids but no pseudonym key is configured; "
            f"set {KEY_ENV} (or [privacy] pseudonym_key) to the store's key and upload again.",
            code="pseudonym_key_missing", file=file_name, variable=KEY_ENV,
        )
    if None in stored:
        raise ImportRefused(
            f"{file_name}: this store holds raw customer ids, so pseudonymised ones would not join them; "
            "start a new store (--store) for pseudonymised data, or remove the earlier uploads first.",
            code="store_holds_raw_ids", file=file_name,
        )
    raise ImportRefused(
        f"{file_name}: the configured pseudonym key is not the one this store's ids were made with; "
        "use the same key for every upload.", code="pseudonym_key_differs", file=file_name,
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
