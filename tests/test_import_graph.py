"""The project's modules import each other without cycles, deferred (function-level) imports included."""
from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("benchmarks", "evaluation", "ltr", "parameter", "pytracking_siamot")


def project_modules() -> dict[str, Path]:
    """Dotted module name -> file, for every ``.py`` file of the project's packages."""
    modules = {}
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            parts = list(path.relative_to(ROOT).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            modules[".".join(parts)] = path
    return modules


def _project_target(name: str, modules: dict[str, Path]) -> str | None:
    """The project module an import of ``name`` runs (``a.b.func`` -> ``a.b``), or ``None`` for others."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def imported_modules(module: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The project modules ``module`` imports anywhere in its file (module level or inside functions)."""
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    targets: set[str | None] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            targets.update(_project_target(alias.name, modules) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[:len(package.split(".")) - (node.level - 1)]
                source = ".".join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ""
            # ``from pkg import sub`` imports the submodule ``pkg.sub`` when there is one.
            targets.update(_project_target(f"{source}.{alias.name}" if f"{source}.{alias.name}" in modules
                                           else source, modules) for alias in node.names)
    targets.discard(None)
    targets.discard(module)
    return {t for t in targets if t is not None}


def find_cycle(graph: dict[str, set[str]]) -> list[str] | None:
    """One cycle ``[a, b, ..., a]`` of ``graph`` (depth-first search), or ``None`` when it is acyclic."""
    state: dict[str, str] = {}  # "open" while on the current path, "done" when fully explored
    path: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        path.append(node)
        for target in sorted(graph[node]):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                cycle = visit(target)
                if cycle:
                    return cycle
        path.pop()
        state[node] = "done"
        return None

    for node in sorted(graph):
        if node not in state:
            cycle = visit(node)
            if cycle:
                return cycle
    return None


def test_find_cycle_finds_a_cycle_and_accepts_a_dag() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == ["a", "b", "c", "a"]
    assert find_cycle({"a": {"b", "c"}, "b": {"c"}, "c": set()}) is None


def test_imported_modules_sees_deferred_and_relative_imports(tmp_path: Path) -> None:
    modules = {"pkg": tmp_path / "__init__.py", "pkg.a": tmp_path / "a.py", "pkg.b": tmp_path / "b.py",
               "pkg.c": tmp_path / "c.py"}
    modules["pkg.a"].write_text("from . import b\n\ndef f():\n    from pkg.c import thing\n    import os\n")
    assert imported_modules("pkg.a", modules["pkg.a"], modules) == {"pkg.b", "pkg.c"}


def test_project_has_no_import_cycle() -> None:
    modules = project_modules()
    assert "evaluation.tracker" in modules and "pytracking_siamot.tracker.siamot.tracker" in modules
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    cycle = find_cycle(graph)
    assert cycle is None, "import cycle: " + " -> ".join(cycle)
