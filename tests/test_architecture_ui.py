"""The app's import graph, read from the code (ast): the screens sit on ui/, ui on the store, metrics
and ingest's public door, and nothing goes round in a circle.

Every import counts, also one written inside a function (hiding an import there does not break a
circle, it only postpones it to run time).
"""

import ast
from pathlib import Path

from tests.test_architecture import import_cycles  # one Tarjan for both graph checks

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("ui", "pages", "store", "metrics", "ingest")
ENTRY_POINTS = ("dashboard", "serve")


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def project_modules() -> dict[str, Path]:
    """Module name -> file, for the app's packages and entry points."""
    modules = {name: ROOT / f"{name}.py" for name in ENTRY_POINTS}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            modules[module_name(path)] = path
    return modules


def imports_of(path: Path, modules: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(project module imported, line, inside a function?) for every import in the file.

    `from ingest import mapping` imports the module ingest.mapping; `from ingest import preview`
    imports the package ingest (its public door)."""
    found = []
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {id(node) for function in ast.walk(tree) if isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef))
              for node in ast.walk(function)}
    for node in ast.walk(tree):
        targets = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            targets = [f"{node.module}.{alias.name}" if f"{node.module}.{alias.name}" in modules else node.module
                       for alias in node.names]
        for target in dict.fromkeys(targets):  # `from store import Store, clean_file_name`: one import of store
            if target in modules:
                found.append((target, node.lineno, id(node) in nested))
    return found


def import_graph() -> tuple[dict[str, set[str]], dict[str, list[tuple[str, int, bool]]]]:
    modules = project_modules()
    detail = {name: imports_of(path, modules) for name, path in modules.items()}
    graph = {name: {target for target, _, _ in found if target != name} for name, found in detail.items()}
    return graph, detail


def is_app_module(name: str) -> bool:
    return name.split(".")[0] in ("ui", "pages", *ENTRY_POINTS)


def test_the_graph_reader_sees_what_it_must():
    """The checks below are only worth something if the reader finds the imports they look for."""
    graph, detail = import_graph()
    assert {"ui.context", "ui.data", "store"} <= graph["pages.overview"] | graph["ui.context"]
    assert "ingest" in graph["pages.data"] or "ingest" in graph["ui.upload_flow"]
    assert "ingest.mapping" in graph["ingest.pipeline"]  # `from ingest import mapping as ...` is the submodule
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_circle_among_the_app_modules():
    graph, _ = import_graph()
    found = [component for component in import_cycles(graph) if any(is_app_module(name) for name in component)]
    assert not found, f"import circles: {found}"


def test_no_page_imports_the_store():
    _, detail = import_graph()
    found = [f"{name} line {line}: {target}" for name, imports in detail.items() if name.startswith("pages.")
             for target, line, _ in imports if target.split(".")[0] == "store"]
    assert not found, found


def test_the_app_uses_only_ingests_public_door():
    _, detail = import_graph()
    found = [f"{name} line {line}: {target}" for name, imports in detail.items() if is_app_module(name)
             for target, line, _ in imports if target.startswith("ingest.")]
    assert not found, found


def test_no_app_module_hides_an_import_of_ours_inside_a_function():
    _, detail = import_graph()
    found = [f"{name} line {line}: {target}" for name, imports in detail.items() if is_app_module(name)
             for target, line, inside in imports if inside]
    assert not found, found


def test_the_users_file_needs_no_streamlit():
    """ui/users.py (users file, hashes, lock-outs, the CLI) imports no Streamlit, directly or via ui/."""
    graph, _ = import_graph()
    reached, todo = set(), ["ui.users"]
    while todo:
        name = todo.pop()
        if name not in reached:
            reached.add(name)
            todo.extend(graph.get(name, ()))
    text = {name: project_modules()[name].read_text(encoding="utf-8") for name in reached if is_app_module(name)}
    assert not [name for name, source in text.items() if "import streamlit" in source or "from streamlit" in source]


def path_spellings(folder: str) -> list[str]:
    """file:line of every `/ "<folder>"` (a path built with that folder name) in the app's code."""
    found = []
    for name, path in project_modules().items():
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if f'/ "{folder}"' in line:
                found.append(f"{path.relative_to(ROOT)}:{number}")
    return found


def test_store_folders_are_spelled_by_their_owners():
    """A batch's folder is the store's business; a saved mapping's file is spelled once, by ingest.mapping."""
    assert all(place.startswith("store/") for place in path_spellings("batches")), path_spellings("batches")
    saved = [place for place in path_spellings("presets") if not place.startswith("ingest/mapping.py")]
    assert not saved, saved
    assert len(path_spellings("presets")) == 2  # the built-in presets' folder and the store's saved ones
