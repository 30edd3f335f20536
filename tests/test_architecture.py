"""The architecture's rules, checked on the source (issue 14).

- **Layers.** A package imports only packages below it; the four top-level process
  packages never import each other (`LAYERS`). The same rule is declared as an
  import-linter contract in ``pyproject.toml`` and run by ``./ric test``; this test
  keeps it checked where import-linter is not installed and also counts imports made
  inside functions, which a static graph of module-level imports would miss.
- **No import circles** between modules, counting every import but those under
  ``if TYPE_CHECKING:``.
- **Small modules:** none outside tests over 450 lines.
- **A public face:** every package ``__init__`` declares ``__all__``, and no module
  imports a private (underscore) name from another top-level package.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LAYERS: list[set[str]] = [
    {"ric_config"},
    {"crm_store"},
    {"library"},
    {"nlu_components"},
    {"messaging"},
    {"rasa_plugins"},
    {"worker", "actions", "handoff_console", "connectors"},
    {"launcher"},
]
"""From the bottom. A set holds siblings that must stay independent of each other."""

PACKAGES = sorted(set().union(*LAYERS))
MAX_LINES = 450


def _layer_of(package: str) -> int:
    return next(i for i, layer in enumerate(LAYERS) if package in layer)


def _source_files() -> Iterator[tuple[str, Path]]:
    for package in PACKAGES:
        base = ROOT / package
        if not base.is_dir():
            continue
        for path in sorted(base.rglob("*.py")):
            if "migrations" in path.parts:
                continue
            relative = path.relative_to(ROOT).with_suffix("")
            parts = list(relative.parts)
            if parts[-1] == "__init__":
                parts.pop()
            yield ".".join(parts), path


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    """ids of the nodes inside ``if TYPE_CHECKING:`` blocks."""
    skipped: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If):
            test = node.test
            name = test.id if isinstance(test, ast.Name) else getattr(test, "attr", None)
            if name == "TYPE_CHECKING":
                for child in node.body:
                    skipped.update(id(n) for n in ast.walk(child))
    return skipped


def _imports(module: str, path: Path) -> Iterator[tuple[str, list[str], int]]:
    """(imported module, imported names, line) for each project import in a file."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    skipped = _type_checking_nodes(tree)
    is_package = path.name == "__init__.py"
    for node in ast.walk(tree):
        if id(node) in skipped:
            continue
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, [], node.lineno
        elif isinstance(node, ast.ImportFrom):
            target = node.module or ""
            if node.level:
                base = module.split(".")
                keep = len(base) - node.level + (1 if is_package else 0)
                target = ".".join(base[:keep] + ([target] if target else []))
            yield target, [alias.name for alias in node.names], node.lineno


GRAPH: dict[str, set[str]] = {}
FILES: dict[str, Path] = {}


def _graph() -> dict[str, set[str]]:
    if GRAPH:
        return GRAPH
    for module, path in _source_files():
        FILES[module] = path
    for module, path in FILES.items():
        edges: set[str] = set()
        for target, names, _ in _imports(module, path):
            # "from package import module" imports the submodule.
            for candidate in [f"{target}.{name}" for name in names] + [target]:
                if candidate in FILES:
                    edges.add(candidate)
                    break
        edges.discard(module)
        GRAPH[module] = edges
    return GRAPH


def test_layers_are_respected() -> None:
    graph = _graph()
    wrong = []
    for module, targets in graph.items():
        source = module.split(".")[0]
        for target in targets:
            imported = target.split(".")[0]
            if imported == source:
                continue
            if _layer_of(imported) >= _layer_of(source):
                wrong.append(f"{module} imports {target}")
    assert not wrong, "\n".join(sorted(wrong))


def test_no_import_circles() -> None:
    graph = _graph()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    circles: list[list[str]] = []
    counter = 0

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        nonlocal counter
        index[node] = low[node] = counter
        counter += 1
        stack.append(node)
        on_stack.add(node)
        for target in graph.get(node, ()):
            if target not in index:
                visit(target)
                low[node] = min(low[node], low[target])
            elif target in on_stack:
                low[node] = min(low[node], index[target])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                circles.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    assert not circles, "\n".join(" <-> ".join(c) for c in circles)


@pytest.mark.parametrize("module", sorted(m for m, _ in _source_files()))
def test_module_is_small(module: str) -> None:
    path = ROOT / (module.replace(".", "/") + ".py")
    if not path.exists():
        path = ROOT / module.replace(".", "/") / "__init__.py"
    lines = len(path.read_text(encoding="utf-8").splitlines())
    assert lines <= MAX_LINES, f"{path.relative_to(ROOT)} has {lines} lines"


def test_every_package_declares_its_public_face() -> None:
    missing = [
        str(path.relative_to(ROOT))
        for _, path in _source_files()
        if path.name == "__init__.py" and "__all__" not in path.read_text(encoding="utf-8")
    ]
    assert not missing, "no __all__ in: " + ", ".join(missing)


def test_no_private_name_crosses_a_package() -> None:
    crossing = []
    for module, path in _source_files():
        source = module.split(".")[0]
        for target, names, line in _imports(module, path):
            if target.split(".")[0] not in PACKAGES or target.split(".")[0] == source:
                continue
            private = [p for p in target.split(".") if p.startswith("_") and p != "__init__"]
            private += [n for n in names if n.startswith("_") and not n.startswith("__")]
            if private:
                crossing.append(f"{path.relative_to(ROOT)}:{line} imports {target} {names}")
    assert not crossing, "\n".join(crossing)
