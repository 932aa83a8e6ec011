"""Shared fixtures: a fresh store per test, the fixture files, a small demo store."""

import hashlib
from pathlib import Path

import pytest

from store import Store

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def store(tmp_path) -> Store:
    return Store(tmp_path / "store")


def fixture(name: str) -> Path:
    return FIXTURES / name


def stored_orders(store: Store) -> dict:
    """order_id -> row dict of the store's derived `orders` table."""
    con = store.connect()
    relation = con.sql("select * from orders")
    columns, rows = relation.columns, relation.fetchall()
    con.close()
    return {row[0]: dict(zip(columns, row)) for row in rows}


def tree_digest(root: Path) -> dict[str, str]:
    """Every file under root (except the lock file) with the sha256 of its bytes."""
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file() and p.name != ".lock"
    }


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory) -> Store:
    """The demo data at 5,000 customers, loaded once for the tests that only read."""
    from ingest.assignments import import_assignments
    from ingest.demo import write_demo
    from ingest.pipeline import import_file

    root = tmp_path_factory.mktemp("demo")
    demo_store = Store(root / "store")
    paths = write_demo(root / "files", customers=5_000)
    import_file(paths["orders"], demo_store)
    import_assignments(paths["assignments"], demo_store)
    return demo_store
