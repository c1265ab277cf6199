"""The packages' import graph, read from the source with ``ast`` (nothing is imported): no cycles
inside ``bot`` or ``storage``, and dependencies only in the directions GUIDE.md §1 draws.

Every ``import`` and ``from … import …`` counts, including those inside functions and under
``if TYPE_CHECKING:``. ``from pkg import name`` where ``pkg/name.py`` exists is an edge to that
submodule; importing ``storage.db`` is not an edge to ``storage/__init__``.
"""

from __future__ import annotations

import ast
from collections import deque
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORE_PACKAGES = ("bot", "storage", "ranker")
SIDE_PACKAGES = ("discord_emulator", "demo", "testkit")  # the emulator, the demo, the test kit

Graph = Mapping[str, Iterable[str]]


@dataclass
class ModuleImports:
    path: Path
    edges: set[str] = field(default_factory=set)  # project modules it imports
    names: set[str] = field(default_factory=set)  # every dotted name it imports, project or not


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def find_modules(root: Path, packages: Iterable[str]) -> dict[str, Path]:
    """Module name → file, for every module of the packages that exist under ``root``."""
    found = {}
    for package in packages:
        folder = root / package
        if (folder / "__init__.py").is_file():
            for path in sorted(folder.rglob("*.py")):
                found[module_name(root, path)] = path
    return found


def _absolute(module: str, is_package: bool, level: int, target: str | None) -> str:
    """The absolute name a (possibly relative) ``from`` import refers to."""
    if level == 0:
        return target or ""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[: len(base) - (level - 1)]
    return ".".join([*base, *([target] if target else [])])


def scan_imports(root: Path, packages: Iterable[str]) -> dict[str, ModuleImports]:
    """Every project module with the project modules and names it imports."""
    files = find_modules(root, packages)
    scanned = {name: ModuleImports(path) for name, path in files.items()}

    def project_module(dotted: str) -> str | None:
        while dotted:
            if dotted in files:
                return dotted
            dotted = dotted.rpartition(".")[0]
        return None

    for name, imports in scanned.items():
        is_package = imports.path.name == "__init__.py"
        tree = ast.parse(imports.path.read_text(encoding="utf-8"), str(imports.path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    imports.names.add(alias.name)
                    if target := project_module(alias.name):
                        imports.edges.add(target)
            elif isinstance(node, ast.ImportFrom):
                source = _absolute(name, is_package, node.level, node.module)
                imports.names.add(source)
                for alias in node.names:
                    submodule = f"{source}.{alias.name}"
                    if submodule in files:
                        imports.names.add(submodule)
                        imports.edges.add(submodule)
                    elif target := project_module(source):
                        imports.edges.add(target)
        imports.edges.discard(name)  # `from . import x` inside pkg/__init__ naming itself
    return scanned


def strongly_connected(graph: Graph) -> list[list[str]]:
    """Tarjan's components of ``graph`` that hold a cycle (two or more nodes, or a self-loop)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1 or node in graph.get(node, ()):
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return sorted(found)


def shortest_cycle_through(graph: Graph, start: str, within: set[str]) -> list[str]:
    """The shortest path start → … → start inside ``within`` (breadth first)."""
    came_from: dict[str, str] = {}
    queue = deque([start])
    while queue:
        node = queue.popleft()
        for nxt in sorted(graph.get(node, ())):
            if nxt not in within:
                continue
            if nxt == start:
                path = [node]
                while path[-1] != start:
                    path.append(came_from[path[-1]])
                return [start, *reversed(path[:-1]), start] if node != start else [start, start]
            if nxt not in came_from:
                came_from[nxt] = node
                queue.append(nxt)
    return []


def import_cycles(graph: Graph) -> list[list[str]]:
    """One shortest cycle through each module that is on a cycle, without repeats."""
    cycles: list[list[str]] = []
    seen: set[frozenset[tuple[str, str]]] = set()
    for component in strongly_connected(graph):
        members = set(component)
        for node in component:
            cycle = shortest_cycle_through(graph, node, members)
            key = frozenset(pairwise(cycle))
            if key not in seen:
                seen.add(key)
                cycles.append(cycle)
    return cycles


def describe(cycles: list[list[str]]) -> str:
    return "\n".join(" → ".join(cycle) for cycle in cycles)


# -- the cycle finder and the resolver, on small known inputs ---------------------------------


def test_the_cycle_finder_finds_every_cycle_and_nothing_else():
    graph = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},
        "d": set(),
        "e": {"e"},
        "f": {"g"},
        "g": {"f", "a"},
    }
    assert strongly_connected(graph) == [["a", "b", "c"], ["e"], ["f", "g"]]
    assert import_cycles(graph) == [["a", "b", "c", "a"], ["e", "e"], ["f", "g", "f"]]
    assert import_cycles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_imports_resolve_to_modules(tmp_path):
    """Relative imports, ``from pkg import submodule``, and imports hidden in functions count;
    the implicit import of a parent package does not."""
    files = {
        "pkg/__init__.py": "from pkg.b import thing\n",
        "pkg/a.py": "from . import b\nfrom .sub import deep\n",
        "pkg/b.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    import pkg.sub.deep\n"
            "def later():\n    from pkg import a\n"
            "thing = 1\n"
        ),
        "pkg/sub/__init__.py": "from .. import b\nimport discord.ext\n",
        "pkg/sub/deep.py": "from ..b import thing\nimport pkg.sub\n",
    }
    for relative, text in files.items():
        (tmp_path / relative).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / relative).write_text(text)
    scanned = scan_imports(tmp_path, ["pkg", "absent"])
    assert {name: sorted(m.edges) for name, m in scanned.items()} == {
        "pkg": ["pkg.b"],
        "pkg.a": ["pkg.b", "pkg.sub.deep"],
        "pkg.b": ["pkg.a", "pkg.sub.deep"],
        "pkg.sub": ["pkg.b"],
        "pkg.sub.deep": ["pkg.b", "pkg.sub"],
    }
    assert "discord.ext" in scanned["pkg.sub"].names
    assert describe(import_cycles({n: m.edges for n, m in scanned.items()})) == (
        "pkg.a → pkg.b → pkg.a\n"
        "pkg.sub → pkg.b → pkg.sub.deep → pkg.sub\n"
        "pkg.sub.deep → pkg.b → pkg.sub.deep"
    )


# -- the project ------------------------------------------------------------------------------

SCANNED = scan_imports(ROOT, CORE_PACKAGES + SIDE_PACKAGES)


def modules_of(package: str) -> dict[str, ModuleImports]:
    return {
        name: m for name, m in SCANNED.items() if name == package or name.startswith(f"{package}.")
    }


def imports_of(package: str, forbidden: Iterable[str]) -> list[str]:
    """``module imports name`` for each import of ``package`` whose top level is forbidden."""
    return sorted(
        f"{name} imports {imported}"
        for name, m in modules_of(package).items()
        for imported in m.names
        if imported.split(".")[0] in forbidden
    )


def test_the_core_packages_are_scanned():
    for package in CORE_PACKAGES:
        assert len(modules_of(package)) > 3, package


@pytest.mark.parametrize("package", ["storage", "bot", "ranker"])
def test_no_import_cycle_inside(package):
    modules = modules_of(package)
    graph = {name: {t for t in m.edges if t in modules} for name, m in modules.items()}
    cycles = import_cycles(graph)
    tangled = "; ".join(", ".join(c) for c in strongly_connected(graph))
    assert not cycles, f"import cycles in {package}/ (among {tangled}):\n{describe(cycles)}"


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("bot", {"discord_emulator", "demo", "testkit"}),
        ("ranker", {"discord", "storage", "bot"}),
        ("storage", {"discord", "bot", "ranker"}),
    ],
)
def test_dependencies_point_one_way(package, forbidden):
    assert imports_of(package, forbidden) == []


def test_bot_uses_the_ranker_through_its_public_api():
    """``bot`` imports the names ``ranker/__init__.py`` exports, never a module inside it."""
    assert (
        sorted(
            f"{name} imports {imported}"
            for name, m in modules_of("bot").items()
            for imported in m.names
            if imported.startswith("ranker.")
        )
        == []
    )
