"""Import isolation: SiamOT's packages imported inside a pytracking process whose packages share their names.

pytracking's checkout has its own top-level ``ltr`` package, and ``run_tracker.py`` run from
inside ``pytracking/`` puts that folder first on ``sys.path``, so pytracking's ``parameter`` and
``evaluation`` folders shadow SiamOT's packages of the same names.
:func:`import_with_own_packages` imports a SiamOT module with SiamOT's copies of such packages
without changing what any other import resolves to; :func:`get_tracker_class` uses it for the
tracker (SiamOT's ``ltr``), :mod:`.parameter_files` and :mod:`.otb2013` for the parameter files
and the OTB2013 loader.
"""
from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Sequence
from importlib.machinery import ModuleSpec
from pathlib import Path
from types import ModuleType

TRACKER_NAME = "siamot"

# Top-level packages SiamOT's tracker imports whose names pytracking also uses.
_TRACKER_TOP_LEVEL_PACKAGES: tuple[str, ...] = ("ltr",)


def install_root() -> Path:
    """The folder holding SiamOT's top-level packages (the repository, or site-packages)."""
    return Path(__file__).resolve().parents[2]


def _spec_locations(spec: ModuleSpec) -> list[Path]:
    if spec.submodule_search_locations:
        return [Path(p).resolve() for p in spec.submodule_search_locations]
    if spec.origin:
        return [Path(spec.origin).resolve().parent]
    return []


def package_location(name: str) -> list[Path]:
    """Where the top-level package ``name`` is (or would be) imported from; [] when it is not importable.

    Uses the already imported module when there is one; otherwise finds it without importing it.
    """
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None) if module is not None else importlib.util.find_spec(name)
    return _spec_locations(spec) if spec is not None else []


def is_own_package(name: str) -> bool:
    """Whether the top-level package ``name`` resolves to SiamOT's copy of it."""
    return (install_root() / name).resolve() in package_location(name)


# Prefix of the ``sys.modules`` keys under which SiamOT's clashing packages stay registered.
PRIVATE_MODULE_PREFIX = "_siamot_"

_TRACKER_MODULE = f"pytracking_siamot.tracker.{TRACKER_NAME}"


def _in_package(module_name: str, package: str) -> bool:
    return module_name == package or module_name.startswith(package + ".")


def _load_own_package(name: str) -> None:
    """Import SiamOT's top-level package ``name`` from its folder and register it as ``sys.modules[name]``.

    Its submodules then import through the package's ``__path__``, i.e. from SiamOT's folder too.
    """
    folder = install_root() / name
    init = folder / "__init__.py"
    spec = importlib.util.spec_from_file_location(name, init, submodule_search_locations=[str(folder)])
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load SiamOT's '{name}' package from {init}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)


def import_with_own_packages(module_name: str, packages: Sequence[str]) -> ModuleType:
    """Import ``module_name`` so that its imports of ``packages`` get SiamOT's copies, whatever else holds those names.

    A package of ``packages`` that already resolves to SiamOT's folder is imported normally. For
    the others (another project's package of the same name, e.g. pytracking's ``ltr``, imported
    already or first on ``sys.path``): every ``sys.modules`` entry of that package and its
    submodules is set aside, SiamOT's package is loaded from its folder and registered under
    the name, and ``module_name`` is imported, which binds at module level everything it uses
    from it. Afterwards SiamOT's entries move to ``PRIVATE_MODULE_PREFIX + <name>`` keys (they
    stay alive there; nothing looks them up by name at run time) and the set-aside entries go
    back exactly as they were, also when the import fails (then SiamOT's entries are dropped).

    This relies on SiamOT's modules importing those packages only at module level (never inside
    a function at run time). SiamOT's modules keep their names (``ltr.models...``), so pickling
    their objects by reference (``torch.save(net)``) would resolve to the other package; state
    dicts are unaffected. It swaps ``sys.modules`` entries for the duration of one import, so
    it must not race with another thread importing the same package names. Unlike a
    ``sys.path`` edit, it leaves what every other import resolves to unchanged.
    """
    foreign = []
    for name in packages:
        if not (install_root() / name / "__init__.py").is_file():
            raise ImportError(f"SiamOT's '{name}' package is missing ({install_root() / name / '__init__.py'}): "
                              f"reinstall SiamOT (pip install -e <siamot repository>)")
        if not is_own_package(name):
            foreign.append(name)
    if not foreign:
        return importlib.import_module(module_name)

    def ours(key: str) -> bool:
        return any(_in_package(key, name) for name in foreign)

    set_aside = {key: sys.modules.pop(key) for key in list(sys.modules) if ours(key)}
    imported = False
    try:
        for name in foreign:
            _load_own_package(name)
        module = importlib.import_module(module_name)
        imported = True
        return module
    finally:
        for key in [key for key in list(sys.modules) if ours(key)]:
            own = sys.modules.pop(key)
            if imported:
                sys.modules[PRIVATE_MODULE_PREFIX + key] = own
        sys.modules.update(set_aside)


# The name under which get_tracker_class()'s class is pickled (see there); the package
# ``pytracking_siamot.pytracking_compat`` resolves it (its ``__getattr__``).
PICKLED_CLASS_NAME = "SiamOTTracker"
PICKLED_CLASS_MODULE = "pytracking_siamot.pytracking_compat"
_tracker_class: type | None = None


def get_tracker_class() -> type:
    """SiamOT's tracker class, for ``pytracking/tracker/siamot/__init__.py``.

    pytracking's runners import pytracking's own top-level ``ltr`` package before they create a
    tracker, and SiamOT's networks are a top-level ``ltr`` package too. The first call therefore
    imports SiamOT's tracker module through :func:`import_with_own_packages`: while it is
    imported, ``ltr`` is SiamOT's; afterwards ``sys.modules['ltr']`` (and every ``ltr.*``) is
    pytracking's again, exactly as before, and SiamOT's copy lives on under ``_siamot_ltr*``.
    No ``sys.path`` entry is added or reordered.

    The class returned is a subclass without code of its own, named
    ``pytracking_siamot.pytracking_compat.SiamOTTracker``: pytracking's ``--threads N`` pickles
    its ``Tracker`` objects (which hold this class) *by reference* into spawned workers. Under
    the tracker module's own name a worker would import it with pytracking's ``ltr``
    (``No module named 'ltr.models.tracking.siamfc'``) and pytracking's pool would wait forever
    for the lost task; under this name the worker's lookup runs this function (module
    ``__getattr__``), i.e. the same private import. Later calls return the same class.
    """
    global _tracker_class
    if _tracker_class is None:
        module = sys.modules.get(_TRACKER_MODULE)
        if module is None:
            module = import_with_own_packages(_TRACKER_MODULE, _TRACKER_TOP_LEVEL_PACKAGES)
        base = module.get_tracker_class()
        _tracker_class = type(PICKLED_CLASS_NAME, (base,),
                              {"__module__": PICKLED_CLASS_MODULE, "__qualname__": PICKLED_CLASS_NAME,
                               "__doc__": f"{base.__doc__ or ''}\n\n(pytracking's picklable name for "
                                          f"{base.__module__}.{base.__qualname__}.)"})
    return _tracker_class
