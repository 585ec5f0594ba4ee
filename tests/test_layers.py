"""Imports point down only, and no module imports itself round a circle.

loaders <- benchmarks (the run model, measurement, records) <- benchmarks.analysis (pure functions
over records) <- reports. The command line (``benchmarks.__main__``, ``benchmarks.cli``: its
closing summary) and the harness's checks of itself that run it (``benchmarks.trust``: its trust
figures; ``benchmarks.plan_accuracy``: the plan against a full run) sit on top of benchmarks and
may read analysis. Every import counts, those inside
functions too: an import deferred to dodge a cycle is still one.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("loaders", "benchmarks", "reports")
LAYERS = {"loaders": 0, "benchmarks": 1, "benchmarks.analysis": 2, "reports": 3}
# benchmarks modules that drive a whole run and may read the analysis of it.
ON_TOP = {"benchmarks.__main__", "benchmarks.cli", "benchmarks.trust", "benchmarks.plan_accuracy"}


def _modules(root: Path) -> dict[str, Path]:
    out = {}
    for package in PACKAGES:
        for path in sorted((root / package).rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            out[".".join(parts)] = path
    return out


def _imports(name: str, path: Path, known: set[str]) -> set[str]:
    """The project's modules ``name`` imports, anywhere in it."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # "from a import b": module a.b if there is one, else the name b of module a.
            found.update(f"{base}.{alias.name}" if f"{base}.{alias.name}" in known else base for alias in node.names)
    # "import a.b.c" names a.b.c when it is a module, else the deepest module above it.
    out = set()
    for target in found:
        while target and target not in known:
            target = target.rpartition(".")[0]
        if target and target != name:
            out.add(target)
    return out


def _layer(module: str) -> int:
    best = max((prefix for prefix in LAYERS if module == prefix or module.startswith(prefix + ".")), key=len)
    return LAYERS[best]


def _graph(root: Path = ROOT) -> dict[str, set[str]]:
    modules = _modules(root)
    return {name: _imports(name, path, set(modules)) for name, path in modules.items()}


def _upward(graph: dict[str, set[str]]) -> list[str]:
    upward = []
    for module, targets in graph.items():
        for target in targets:
            below = _layer(target) <= _layer(module)
            reads_analysis = module in ON_TOP and _layer(target) == LAYERS["benchmarks.analysis"]
            if not below and not reads_analysis:
                upward.append(f"{module} imports {target}")
    return sorted(upward)


def _cycles(edges: dict[str, set[str]]) -> list[str]:
    cycles = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()

    def visit(node: str) -> None:  # Tarjan's strongly connected components
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(edges.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                cycles.append(" <-> ".join(sorted(component)))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_the_checks_see_an_upward_import_and_a_circle(tmp_path: Path) -> None:
    files = {"loaders/__init__.py": "", "loaders/a.py": "def f():\n    from benchmarks import b\n",
             "benchmarks/__init__.py": "", "benchmarks/b.py": "from . import c\n",
             "benchmarks/c.py": "import benchmarks.b\nimport loaders.a\n", "benchmarks/analysis/__init__.py": "",
             "benchmarks/analysis/d.py": "from benchmarks.b import x\n", "reports/__init__.py": ""}
    for name, text in files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text)
    graph = _graph(tmp_path)
    assert _upward(graph) == ["loaders.a imports benchmarks.b"]
    assert _cycles(graph) == ["benchmarks.b <-> benchmarks.c <-> loaders.a"]


def test_every_package_is_seen() -> None:
    graph = _graph()
    assert {"loaders.registry", "benchmarks.spec", "benchmarks.analysis.plan", "reports.tables"} <= set(graph)
    assert "benchmarks.spec" in graph["benchmarks.records"]  # imports are found


def test_imports_point_down() -> None:
    upward = _upward(_graph())
    assert not upward, "imports pointing up: " + "; ".join(upward)


def test_no_module_imports_round_a_circle() -> None:
    cycles = _cycles(_graph())
    assert not cycles, "modules importing each other: " + "; ".join(cycles)
