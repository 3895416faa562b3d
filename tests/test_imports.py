"""The import graph of ``qa/`` runs one way: every module imports alone, and no cycle exists."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

QA = Path(__file__).resolve().parent.parent / "qa"


def _module_name(path: Path) -> str:
    parts = path.relative_to(QA.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


# Every module of the package, subpackages (qa.evaluation) included.
PATHS = {_module_name(p): p for p in QA.rglob("*.py")}
MODULES = sorted(PATHS)
# Modules that may import the ``qa`` facade: the entry points above it. Core modules never do
# (the facade imports them).
FACADE_USERS = {"qa.cli", "qa.cli_eval"}


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _imports(module: str) -> set[str]:
    """The ``qa`` modules ``module`` imports, at the top or in functions (not for typing)."""
    path = PATHS[module]
    found: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _is_type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.split(".")[0] == "qa")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module == "qa":
                # "from qa import ui" imports the module qa.ui; "from qa import x" the facade.
                for a in node.names:
                    found.add(f"qa.{a.name}" if f"qa.{a.name}" in MODULES else "qa")
            elif node.module.split(".")[0] == "qa":
                found.add(node.module)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(ast.parse(path.read_text(encoding="utf-8")))
    found.discard(module)
    return found


GRAPH = {m: _imports(m) for m in MODULES}


def _cycle(graph: dict[str, set[str]]) -> list[str]:
    """One cycle of ``graph`` as a path of modules, or ``[]``."""
    state: dict[str, int] = {}
    stack: list[str] = []

    def dfs(node: str) -> list[str]:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                return stack[stack.index(nxt) :] + [nxt]
            if nxt not in state:
                found = dfs(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return []

    for node in sorted(graph):
        if node not in state:
            found = dfs(node)
            if found:
                return found
    return []


def test_the_graph_finder_sees_a_cycle():
    assert _cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert _cycle({"a": {"b"}, "b": set()}) == []


def test_no_import_cycle_in_qa():
    # The facade imports every stage lazily; a stage never imports the facade (next test),
    # so the facade is left out here and any cycle found is one between stage modules.
    core = {m: {d for d in deps if d != "qa"} for m, deps in GRAPH.items() if m != "qa"}
    assert _cycle(core) == []


def test_core_modules_never_import_the_facade():
    users = {m for m, deps in GRAPH.items() if "qa" in deps}
    assert users <= FACADE_USERS, sorted(users - FACADE_USERS)


def test_the_evaluation_package_runs_one_way():
    # questions -> scoring -> charts -> report -> run, and never the facade.
    evaluation = {m: deps for m, deps in GRAPH.items() if m.startswith("qa.evaluation.")}
    assert set(evaluation) == {
        "qa.evaluation.questions",
        "qa.evaluation.scoring",
        "qa.evaluation.charts",
        "qa.evaluation.report",
        "qa.evaluation.run",
    }
    assert not any("qa" in deps for deps in evaluation.values())
    assert "qa.evaluation.report" not in GRAPH["qa.evaluation.charts"]
    assert "qa.evaluation.run" not in GRAPH["qa.evaluation.report"]


def test_leaf_modules_import_nothing_above_them():
    assert GRAPH["qa.fileio"] == set()
    assert GRAPH["qa.text"] == set()
    assert GRAPH["qa.paths"] == set()
    assert GRAPH["qa.dates"] == set()
    assert GRAPH["qa.launch"] == set()
    assert GRAPH["qa.errors"] == set()
    assert GRAPH["qa.questions"] == {"qa.errors"}
    assert GRAPH["qa.model_files"] == {"qa.errors"}
    assert GRAPH["qa.types"] == {"qa.text"}


def test_search_imports_build_and_never_the_reverse():
    assert "qa.build" in GRAPH["qa.index"]
    assert "qa.index" not in GRAPH["qa.build"]
    assert "qa.index" not in GRAPH["qa.answering"]  # only for type hints


@pytest.mark.parametrize("module", MODULES)
def test_each_module_imports_alone(module):
    # A fresh interpreter per module: an import that only works after another module has
    # been imported (a hidden cycle or order dependence) fails here.
    proc = subprocess.run(
        [sys.executable, "-c", f"import {module}"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=QA.parent,
    )
    assert proc.returncode == 0, proc.stderr
