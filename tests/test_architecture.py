"""The house rules of docs/architecture.md, read from the code itself.

- Every DuckDB-only spelling is in `store/models/dialect.py`: the SQL text written anywhere else in
  store/, metrics/ and ingest/ (string literals, docstrings aside) uses none of them.
- The import graph (every import, also those inside functions) has the store at the bottom, metrics
  and ingest side by side, no page importing the store and no import circle.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DIALECT_MODULE = ROOT / "store" / "models" / "dialect.py"
SPARK_DIALECT_MODULE = ROOT / "store" / "models" / "dialect_spark.py"  # names DuckDB's spellings to translate them
SQL_PACKAGES = ("store", "metrics", "ingest")
LAYERS = ("store", "metrics", "ingest", "ui", "pages")

DUCKDB_ONLY = {
    "date_diff(": re.compile(r"\bdate_diff\("),
    "to_months(": re.compile(r"\bto_months\("),
    "to_days(": re.compile(r"\bto_days\("),
    "group by all": re.compile(r"\bgroup by all\b", re.IGNORECASE),
    "exclude (": re.compile(r"\bexclude \(", re.IGNORECASE),
    "epoch(": re.compile(r"\bepoch\("),
    "union all by name": re.compile(r"\bunion all by name\b", re.IGNORECASE),
    "quantile_cont": re.compile(r"\bquantile_cont\b"),
    "range( spine": re.compile(r"\brange\("),
    "list(distinct": re.compile(r"\blist\(distinct\b", re.IGNORECASE),
    "trailing comma before from": re.compile(r",\s*(?:--[^\n]*\n\s*)*\bfrom\b", re.IGNORECASE),
}
PENDING: dict[str, str] = {}  # file -> why it may keep DuckDB-only spellings for now (none)


def _docstrings(tree: ast.AST) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant):
                ids.add(id(first.value))
    return ids


def _string_literals(tree: ast.AST):
    """(first line, text) of every string literal; an f-string's placeholders become `{}`."""
    skip = _docstrings(tree)
    inside_fstrings = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                inside_fstrings.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else "{}")
            yield node.lineno, "".join(parts)
    for node in ast.walk(tree):
        if (isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in skip
                and id(node) not in inside_fstrings):
            yield node.lineno, node.value


def duckdb_only_spellings(path: Path, root: Path = ROOT) -> list[str]:
    """file:line and spelling of every DuckDB-only spelling in the file's string literals."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    for line, text in _string_literals(tree):
        for name, pattern in DUCKDB_ONLY.items():
            for match in pattern.finditer(text):
                at = line + text.count("\n", 0, match.start())
                found.append(f"{path.relative_to(root)}:{at}: {name}")
    return sorted(set(found))


def _sql_files() -> list[Path]:
    return sorted(p for package in SQL_PACKAGES for p in (ROOT / package).rglob("*.py")
                  if p not in (DIALECT_MODULE, SPARK_DIALECT_MODULE))


@pytest.mark.parametrize("path", [
    pytest.param(p, id=str(p.relative_to(ROOT)),
                 marks=[pytest.mark.xfail(strict=True, reason=PENDING[str(p.relative_to(ROOT))])]
                 if str(p.relative_to(ROOT)) in PENDING else [])
    for p in _sql_files()
])
def test_duckdb_only_spellings_are_in_the_dialect_module(path):
    assert duckdb_only_spellings(path) == []


def test_the_spelling_check_finds_what_it_looks_for(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text('"""date_diff( in a docstring is prose."""\n'
                      'SQL = """\nselect a,\n    b,\nfrom t group by all\n"""\n'
                      'def f(x):\n    return f"select * exclude (y) from {x} where epoch(ts) > 0"\n'
                      'N = list(range(3))\n', encoding="utf-8")
    assert duckdb_only_spellings(sample, tmp_path) == [
        "sample.py:4: trailing comma before from", "sample.py:5: group by all",
        "sample.py:8: epoch(", "sample.py:8: exclude (",
    ]


# ---- the import graph -----------------------------------------------------------------------------


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _project_files() -> dict[str, Path]:
    files = {_module_name(p): p for layer in LAYERS for p in (ROOT / layer).rglob("*.py")}
    files.update({p.stem: p for p in ROOT.glob("*.py")})
    return files


def import_graph() -> dict[str, set[str]]:
    """Project module -> the project modules it imports anywhere in its code (functions included)."""
    files = _project_files()
    graph = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        edges = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join([*anchor, *([base] if base else [])])
                targets = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in files else base for alias in node.names]
            else:
                continue
            for target in targets:
                while target and target not in files:  # `import a.b.c` of a non-module: its module
                    target = target.rpartition(".")[0]
                if target and target != name:
                    edges.add(target)
        graph[name] = edges
    return graph


def _layer(module: str) -> str:
    return module.split(".")[0]


def _edges(graph, source_layers, target_layers) -> list[str]:
    return sorted(f"{a} -> {b}" for a, targets in graph.items() for b in targets
                  if _layer(a) in source_layers and _layer(b) in target_layers)


def import_cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan)."""
    index, low, stack, on_stack, groups = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


@pytest.fixture(scope="module")
def graph():
    return import_graph()


def test_the_store_imports_nothing_of_ours_above_it(graph):
    assert _edges(graph, {"store"}, {"metrics", "ingest", "ui", "pages", "dashboard", "serve"}) == []


def test_metrics_and_ingest_stand_side_by_side(graph):
    assert _edges(graph, {"metrics"}, {"ingest"}) == []
    assert _edges(graph, {"ingest"}, {"metrics"}) == []


def test_no_import_circle_below_the_screens(graph):
    lower = {a: {b for b in targets if _layer(b) in SQL_PACKAGES} for a, targets in graph.items()
             if _layer(a) in SQL_PACKAGES}
    assert import_cycles(lower) == []


def test_no_import_circle_anywhere(graph):
    assert import_cycles(graph) == []


def test_pages_import_no_store(graph):
    assert _edges(graph, {"pages"}, {"store"}) == []


def test_the_graph_sees_imports_inside_functions_and_circles(tmp_path):
    """The checks above cannot pass by missing edges: a known graph gives the known answers."""
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert import_cycles(graph) == [["a", "b", "c"]]
    real = import_graph()
    assert "metrics.experiments" in real["metrics.__main__"]  # imported inside a function
    assert "store.models.registry" in real["metrics.kpis"]
