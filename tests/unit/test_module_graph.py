"""The package's shape: no import cycles between modules, and nothing imports the command line
(`connector.cli` assembles the commands; the commands never import it back)."""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "connector"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in PACKAGE.rglob("*.py")}


def _imports(tree: ast.AST, module: str, top_level_only: bool) -> set[str]:
    """Modules of this package that ``module`` imports (``from a import b`` counts ``a.b`` if it is a module)."""
    nodes = ast.walk(tree) if not top_level_only else _top_level(tree)
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
    found: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


def _top_level(tree: ast.AST) -> list[ast.AST]:
    """Statements run at import: the module body, and try/if blocks in it, but not `if TYPE_CHECKING`."""
    out: list[ast.AST] = []
    pending = list(getattr(tree, "body", []))
    while pending:
        node = pending.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            continue
        if isinstance(node, (ast.Try, ast.If)):
            pending.extend(node.body + node.orelse + [s for h in getattr(node, "handlers", []) for s in h.body])
        out.append(node)
    return out


def _graph(top_level_only: bool) -> dict[str, set[str]]:
    return {name: _imports(ast.parse(path.read_text()), name, top_level_only) for name, path in MODULES.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in graph[node]:
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
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_cycles_between_modules() -> None:
    assert _cycles(_graph(top_level_only=True)) == []


def test_nothing_imports_the_command_line() -> None:
    importers = sorted(name for name, imported in _graph(top_level_only=False).items()
                       if "connector.cli" in imported and name != "connector.__main__")
    assert importers == []


def test_the_check_finds_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
