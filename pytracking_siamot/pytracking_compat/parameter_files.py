"""Parameter loading: SiamOT's parameter files for the ``pytracking/parameter/siamot/<name>.py`` shims.

Normally a parameter file is the plain import ``parameter.siamot.<name>``. When pytracking's own
``parameter`` folder shadows SiamOT's (``run_tracker.py`` run from inside ``pytracking/``), that
import would find the shim itself; the file is then loaded from SiamOT's folder by path under a
private module name, so the user's parameter files are still the ones used.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.util
from pathlib import Path
from types import ModuleType
from typing import Any

from pytracking_siamot.pytracking_compat.isolation import TRACKER_NAME, install_root, is_own_package

# What pytracking's runner calls on a parameters object (besides setting debug/visualization).
_PARAMS_METHODS: tuple[str, ...] = ("get", "has", "set_default_values")


def parameter_names() -> list[str]:
    """The parameter files of SiamOT's ``parameter/siamot`` folder (``parameter.siamot.parameter_names``)."""
    return _own_module("parameter_package", Path("parameter", TRACKER_NAME, "__init__.py")).parameter_names()


def parameter_module(name: str) -> ModuleType:
    """SiamOT's ``parameter/siamot/<name>.py`` as a module (see the module docstring for how)."""
    path = install_root() / "parameter" / TRACKER_NAME / f"{name}.py"
    if not path.is_file():
        raise ImportError(f"no SiamOT parameter file '{name}' ({path} is missing; "
                          f"have: {', '.join(parameter_names())})")
    return _own_module(f"parameter_{name}", path.relative_to(install_root()))


def _own_module(private_name: str, relative_path: Path) -> ModuleType:
    """SiamOT's module at ``install_root() / relative_path``: the plain import when SiamOT's
    ``parameter`` package is the one importable, else the file loaded under ``_siamot_<private_name>``."""
    if is_own_package("parameter"):
        parts = list(relative_path.with_suffix("").parts)
        return importlib.import_module(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    path = install_root() / relative_path
    spec = importlib.util.spec_from_file_location(f"_siamot_{private_name}", path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load SiamOT module {path}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_parameters(name: str) -> Any:
    """A fresh parameters object from SiamOT's parameter file ``name`` (one per sequence in pytracking).

    It also carries ``tracker_name``/``param_name``, which pytracking's video and webcam runners
    assign. Raises ``TypeError`` when the object lacks what pytracking's runner calls.
    """
    params = parameter_module(name).parameters()
    missing = [m for m in _PARAMS_METHODS if not callable(getattr(params, m, None))]
    if missing:
        raise TypeError(f"SiamOT parameter file '{name}' returned a {type(params).__name__} without "
                        f"{', '.join(missing)} (pytracking's runner calls them)")
    settings = getattr(params, "settings", None)
    if dataclasses.is_dataclass(settings) and getattr(settings, "torch_threads", 1) is None:
        # pytracking's runner pins no thread count; one thread per tracker (see SiamOTParams).
        params = type(params)(dataclasses.replace(settings, torch_threads=1))
    params.set_default_values({"tracker_name": TRACKER_NAME, "param_name": name})
    return params
