"""The package's shape: every module on the map, no import cycles, the layers' rules kept.

The import graph is read with ``ast`` (no module is imported), so a broken or heavy module cannot
hide an edge. Imports inside functions count: they are only deferred, not absent.
"""

from __future__ import annotations

import ast
import io
import json
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
PACKAGE = REPO / "widgets"
MAP = REPO / "docs" / "architecture.md"


def _module_name(path: Path) -> tuple[str, bool]:
    """The dotted name of a file under the repository, and whether it is a package's ``__init__``."""
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    if parts[-1] == "__init__":
        return ".".join(parts[:-1]), True
    return ".".join(parts), False


MODULES: dict[str, tuple[Path, bool]] = {
    name: (path, is_package)
    for path in sorted(PACKAGE.rglob("*.py")) if "__pycache__" not in path.parts
    for name, is_package in [_module_name(path)]
}


def _known(name: str) -> str | None:
    """The module ``name`` names, or the nearest package of the package above it."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name or None


def _imports(module: str) -> list[tuple[str, int]]:
    """Every import statement of a module, anywhere in it: (absolute module imported, line)."""
    path, is_package = MODULES[module]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            found += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if is_package else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                base = f"{base}.{node.module}" if node.module else base
            else:
                base = node.module or ""
            # ``from pkg import sub`` imports the module pkg.sub when there is one, else names of pkg.
            found += [(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base, node.lineno)
                      for alias in node.names]
    return found


def _graph() -> dict[str, set[str]]:
    graph = {}
    for module in MODULES:
        targets = {_known(name) for name, _ in _imports(module) if name.split(".")[0] == "widgets"}
        graph[module] = {t for t in targets if t and t != module}
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """One cycle from each strongly connected component with more than one module (Tarjan)."""
    index, low, stack, on_stack, components = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = set()
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.add(w)
                if w == v:
                    break
            if len(component) > 1:
                components.append(component)

    for v in sorted(graph):
        if v not in index:
            visit(v)
    cycles = []
    for component in components:  # walk inside the component from its first module back to itself
        start = min(component)
        path, seen = [start], {start}
        while True:
            step = sorted(graph[path[-1]] & component)
            if start in step:
                cycles.append([*path, start])
                break
            nxt = next((w for w in step if w not in seen), None) or step[0]
            if nxt in seen:  # closed a loop not through start: report that loop
                cycles.append([*path[path.index(nxt):], nxt])
                break
            path.append(nxt)
            seen.add(nxt)
    return cycles


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "widgets"


# -- the map -----------------------------------------------------------------------------------

def test_every_module_is_on_the_map_and_the_map_names_only_real_modules():
    text = MAP.read_text(encoding="utf-8")
    on_disk = {path.relative_to(REPO).as_posix() for path, _ in MODULES.values()}
    named = set(re.findall(r"widgets/[\w/]*\w\.py\b", text))
    assert not sorted(on_disk - named), f"modules missing from docs/architecture.md: {sorted(on_disk - named)}"
    assert not sorted(named - on_disk), f"docs/architecture.md names modules that do not exist: {sorted(named - on_disk)}"


def test_no_two_modules_share_a_file_name():
    """A newcomer who reads ``collect.py`` in a traceback or a search result knows which one it is."""
    by_name: dict[str, list[str]] = {}
    for path, is_package in MODULES.values():
        if not is_package:
            by_name.setdefault(path.name, []).append(path.relative_to(REPO).as_posix())
    shared = {name: paths for name, paths in by_name.items() if len(paths) > 1}
    assert not shared, f"modules sharing a file name: {shared}"


# -- the import graph --------------------------------------------------------------------------

def test_the_graph_reader_sees_relative_absolute_and_deferred_imports():
    graph = _graph()
    assert "widgets.responses.contract" in graph["widgets.learner.session"]
    assert "widgets.cli.cases" in graph["widgets.cli"]  # from widgets.cli import cases
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c", "a"]]


def test_the_package_has_no_import_cycles():
    cycles = _cycles(_graph())
    assert not cycles, "import cycles:\n" + "\n".join("  " + " -> ".join(c) for c in cycles)


def test_cases_store_and_analysis_never_import_the_ui_or_the_service():
    bad = [f"{MODULES[m][0].relative_to(REPO)}:{line} imports {name}"
           for m in MODULES if _layer(m) in ("analysis", "cases", "store")
           for name, line in _imports(m) if re.match(r"widgets\.(ui|service)(\.|$)", name)]
    assert not bad, "\n".join(bad)


def test_only_the_ui_imports_ipywidgets():
    bad = [f"{MODULES[m][0].relative_to(REPO)}:{line} imports {name}"
           for m in MODULES if _layer(m) in ("cases", "store", "responses", "analysis")
           for name, line in _imports(m) if name.split(".")[0] in ("ipywidgets", "anywidget")]
    assert not bad, "\n".join(bad)


# A layer may import only layers ranked at or below its own (docs/architecture.md, "The layers").
RANK = {"errors": 0, "paths": 0, "vocab": 0, "render": 0, "privacy": 0, "cases": 1,
        "responses": 2, "grading": 2, "store": 3, "exchange": 4, "widgets": 4,
        "learner": 5, "analysis": 6, "ui": 7, "reporting": 8, "service": 9, "cli": 10, "__main__": 10}


def _rank(module: str) -> int:
    parts = module.split(".")[1:]
    key = ".".join(parts[:2]) if ".".join(parts[:2]) in RANK else (parts[0] if parts else "widgets")
    return RANK[key]


def test_each_layer_imports_only_the_layers_below_it():
    graph = _graph()
    assert all(_rank(m) is not None for m in graph)
    bad = [f"{m} (rank {_rank(m)}) imports {t} (rank {_rank(t)})"
           for m, targets in graph.items() for t in sorted(targets) if _rank(t) > _rank(m)]
    analysis_up = [f"{m} imports {t}" for m, targets in graph.items() if _layer(m) == "analysis"
                   for t in targets if _layer(t) in ("ui", "learner", "service", "reporting", "cli")]
    assert not bad + analysis_up, "\n".join(bad + analysis_up)


STORE_TABLES = ("responses", "consents", "reflections", "dualrole_meta", "dualrole_scores", "dualrole_feedback",
                "dualrole_erasures", "dualrole_class_state")
_STATEMENT = re.compile(r"\b(select|insert|update|delete|create|alter|drop)\b.*\b(from|into|table|join|update)\s+"
                        rf"\"?({'|'.join(STORE_TABLES)})\b", re.IGNORECASE | re.DOTALL)


def _gateway_breaches(module: str) -> list[str]:
    """Where a module outside ``store/`` writes a statement against the store's tables itself."""
    path, _ = MODULES[module]
    where = path.relative_to(REPO)
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and (node.module or "") == "widgets.store.schema":
            found += [f"{where}:{node.lineno} imports the table {a.name}" for a in node.names
                      if a.name.endswith("_table") or a.name == "metadata"]
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and _STATEMENT.search(node.value):
            found.append(f"{where}:{node.lineno} holds the statement {node.value[:60]!r}")
        elif isinstance(node, ast.JoinedStr):
            text = "".join(v.value for v in node.values if isinstance(v, ast.Constant) and isinstance(v.value, str))
            if _STATEMENT.search(text):
                found.append(f"{where}:{node.lineno} holds the statement {text[:60]!r}")
        elif isinstance(node, ast.Attribute) and node.attr == "engine" and not (
                isinstance(node.value, ast.Name) and node.value.id == "self"):
            found.append(f"{where}:{node.lineno} reaches into a store's engine")
    return found


def test_the_gateway_finds_statements_written_any_way():
    assert _STATEMENT.search("SELECT min(rowid) FROM responses")
    assert _STATEMENT.search('INSERT INTO "dualrole_scores" (a) VALUES (1)')
    assert _STATEMENT.search("select learner,\n consent from consents")
    assert not _STATEMENT.search("Select an option from the list of responses below")


def test_every_statement_against_the_stores_tables_lives_in_store():
    """One gateway: the rest of the package asks the store by intent (``store.answer_counts(...)``)."""
    bad = [breach for m in MODULES if _layer(m) != "store" for breach in _gateway_breaches(m)]
    assert not bad, "\n".join(bad)


def test_nothing_in_the_package_imports_tools():
    bad = [f"{m} imports {name}" for m in MODULES for name, _ in _imports(m) if name.split(".")[0] == "tools"]
    assert not bad, "\n".join(bad)


def test_the_lower_layers_import_without_ipywidgets():
    code = ("import widgets, widgets.analysis, widgets.cases, widgets.store, widgets.responses.contract; "
            "import sys; assert 'ipywidgets' not in sys.modules, 'ipywidgets was imported'")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


HEAVY = ("pandas", "numpy", "sqlalchemy")


def _loaded_after(code: str) -> list[str]:
    """The heavy libraries in ``sys.modules`` after running ``code`` in a fresh interpreter."""
    probe = code + f"\nimport sys; print(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_import_widgets_loads_no_pandas_numpy_or_sqlalchemy():
    """A script that reads one case, and every lesson's first cell, starts without them."""
    assert _loaded_after("import widgets; widgets.load_case") == []


def test_the_command_line_help_loads_no_pandas_numpy_or_sqlalchemy():
    """``dualrole --help`` and each command's ``--help`` answer at once: the work's imports wait for the work."""
    code = ("from click.testing import CliRunner\nfrom widgets.cli import cli\n"
            "for args in [['--help'], *[[name, '--help'] for name in cli.commands]]:\n"
            "    result = CliRunner().invoke(cli, args)\n"
            "    assert result.exit_code == 0, (args, result.output)")
    assert _loaded_after(code) == []


def test_the_store_loads_no_pandas():
    """The store reads the disclosure rules' thresholds, not the tables they gate."""
    assert "pandas" not in _loaded_after("import widgets.store")


def test_every_public_name_of_the_package_resolves():
    """``from widgets import CaseCard`` is how the notebooks start; the lazy names must load."""
    pytest.importorskip("ipywidgets")
    code = "import widgets\nfor name in widgets.__all__:\n    getattr(widgets, name)\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1]


# -- conventions -------------------------------------------------------------------------------

def _is_probe(node: ast.AST) -> bool:
    """``hasattr(x, ...)``, or ``getattr(x, "name", default)``: asking an object what it is."""
    if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)):
        return False
    if node.func.id == "hasattr":
        return True
    return (node.func.id == "getattr" and len(node.args) == 3 and isinstance(node.args[1], ast.Constant)
            and isinstance(node.args[1].value, str))


def test_the_probe_finder_sees_getattr_with_a_default():
    assert _is_probe(ast.parse('getattr(store, "engine", None)').body[0].value)
    assert _is_probe(ast.parse("hasattr(store, 'engine')").body[0].value)
    assert not _is_probe(ast.parse("getattr(module, name)").body[0].value)


def test_no_hasattr_in_the_package():
    bad = [f"{path.relative_to(REPO)}:{node.lineno}" for path, _ in MODULES.values()
           for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if _is_probe(node)]
    text_hits = [f"{path.relative_to(REPO)}" for path, _ in MODULES.values()
                 if "hasattr(" in path.read_text(encoding="utf-8")]
    assert not bad and not text_hits, f"probes (hasattr, getattr with a default) in: {bad or text_hits}"


def test_ipywidgets_is_imported_as_ipw_only():
    bad = []
    for module, (path, _) in MODULES.items():
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                bad += [f"{path.relative_to(REPO)}:{node.lineno} import {a.name}" + (f" as {a.asname}" if a.asname else "")
                        for a in node.names if a.name == "ipywidgets" and a.asname != "ipw"]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "ipywidgets":
                bad.append(f"{path.relative_to(REPO)}:{node.lineno} from {node.module} import ...")
    assert not bad, "use 'import ipywidgets as ipw':\n" + "\n".join(bad)


# -- no issue numbers in comments or docstrings --------------------------------------------------

ISSUE = re.compile(r"\b(?:issues?|gh)\s*[#-]?\s*\d+", re.IGNORECASE)
TREES = ("widgets", "tests", "notebooks", "tools")


def _python_prose(source: str) -> list[tuple[int, str]]:
    """The comments and docstrings of Python source, with their line numbers."""
    prose = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(source).readline):
            if tok.type == tokenize.COMMENT:
                prose.append((tok.start[0], tok.string))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    try:
        tree = ast.parse(source)
    except SyntaxError:  # a notebook cell with IPython magics: comments only
        return prose
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.body:
            first = node.body[0]
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                prose.append((first.lineno, first.value.value))
    return prose


def _issue_citations() -> list[str]:
    found = []
    for tree in TREES:
        for path in sorted((REPO / tree).rglob("*")):
            inside = path.relative_to(REPO).parts
            if "node_modules" in inside or any(part.startswith(".") for part in inside) or not path.is_file():
                continue  # installed tools and hidden folders (virtual environments, checkpoints) are not ours
            where = path.relative_to(REPO).as_posix()
            if path.suffix == ".py":
                chunks = [(where, line, text) for line, text in _python_prose(path.read_text(encoding="utf-8"))]
            elif path.suffix == ".ipynb":
                cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
                chunks = []
                for n, cell in enumerate(cells, 1):
                    source = "".join(cell["source"])
                    if cell["cell_type"] == "code":
                        # IPython magics are not Python; blank them so the tokenizer reads the rest.
                        source = re.sub(r"(?m)^\s*[%!].*$", "", source)
                        chunks += [(f"{where} cell {n}", line, text) for line, text in _python_prose(source)]
                    else:
                        chunks.append((f"{where} cell {n}", 0, source))
            else:
                continue
            for place, line, text in chunks:
                for match in ISSUE.finditer(text):
                    found.append(f"{place}:{line}: {match.group(0)!r}")
    return found


_CITATIONS = _issue_citations()


def test_no_comment_or_docstring_cites_an_issue_number():
    assert not _CITATIONS, "\n".join(_CITATIONS)
