"""The project's modules import each other without cycles and only downwards through the package layers,
deferred (function-level) imports included."""
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


#: The layers, lowest first: a module imports modules of its own layer or below, never above. Each entry
#: is a package or module and everything under it; ``"evaluation"`` alone is the package's ``__init__``. The
#: tracker plugin (``ltr``, ``pytracking_siamot``, ``parameter``) sits below the toolkit and never imports it.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("ltr",),
    ("pytracking_siamot",),
    ("parameter",),
    ("evaluation", "evaluation.data", "evaluation.settings", "evaluation.boxes_io", "evaluation.results",
     "evaluation.sources", "evaluation.cli_help", "evaluation.cli_errors", "evaluation.machine"),
    ("evaluation.datasets",),
    ("evaluation.registry", "evaluation.opencv_trackers", "evaluation.tracker", "evaluation.peer_results"),
    ("evaluation.analysis",),
    ("evaluation.visualization",),
    ("evaluation.running",),
    ("evaluation.experiments",),
    ("evaluation.run_tracker", "evaluation.run_experiment", "evaluation.analyze", "evaluation.paper",
     "evaluation.playback", "evaluation.qualitative", "evaluation.interop", "evaluation.pack"),
    ("benchmarks",),
)


def layer_of(module: str) -> int | None:
    """Index in :data:`LAYERS` of the longest entry that is ``module`` or a package above it."""
    best: tuple[int, int] | None = None  # (entry length, layer)
    for index, entries in enumerate(LAYERS):
        for entry in entries:
            covers = module == entry or (entry != "evaluation" and module.startswith(entry + "."))
            if covers and (best is None or len(entry) > best[0]):
                best = (len(entry), index)
    return None if best is None else best[1]


def upward_imports(graph: dict[str, set[str]]) -> list[str]:
    """``"a -> b"`` for every import of a higher layer (or of a module no layer names) in ``graph``."""
    found = []
    for module, targets in sorted(graph.items()):
        for target in sorted(targets):
            low, high = layer_of(module), layer_of(target)
            if low is None or high is None or high > low:
                found.append(f"{module} -> {target}")
    return found


def test_upward_imports_catch_a_planted_package_loop() -> None:
    # No module cycle, but analysis and visualization would import each other as packages.
    planted = {"evaluation.analysis.a": {"evaluation.visualization.b"},
               "evaluation.visualization.b": {"evaluation.analysis.c"}, "evaluation.analysis.c": set()}
    assert find_cycle(planted) is None
    assert upward_imports(planted) == ["evaluation.analysis.a -> evaluation.visualization.b"]
    assert upward_imports({"pytracking_siamot.x": {"evaluation.data"}}) == ["pytracking_siamot.x -> evaluation.data"]
    assert upward_imports({"evaluation.newthing": {"evaluation.data"}}) == ["evaluation.newthing -> evaluation.data"]


def test_packages_import_only_downwards() -> None:
    modules = project_modules()
    graph = {name: imported_modules(name, path, modules) for name, path in modules.items()}
    assert upward_imports(graph) == [], "upward imports (or modules missing from LAYERS)"
