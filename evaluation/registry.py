"""Tracker names: what ``Tracker(name, parameter_name)`` can run.

A name resolves to a :class:`TrackerSpec`, a small description of how to build that
tracker: which parameter names exist, how to make a fresh parameters object for one of
them, and which class runs it. Names come from three places:

- ``siamot``: the tracker in ``pytracking_siamot.tracker.siamot`` with the parameter files
  found by listing the ``parameter.siamot`` package (one module with ``parameters()`` each);
- ``opencv``: OpenCV's trackers as peers (``mil``, ``nano``, ``vit``, ``kcf``, ``csrt``;
  see :mod:`evaluation.opencv_trackers`);
- plugins: every entry point in the group ``siamot.trackers`` (see below), so that
  ``pip install``-ing a package adds its names.

Plugin protocol
---------------
A distribution declares, in its ``pyproject.toml``::

    [project.entry-points."siamot.trackers"]
    mytracker = "my_package.siamot_plugin:tracker_spec"

``tracker_spec`` is a function taking no arguments that returns a :class:`TrackerSpec`
(or a ``TrackerSpec`` instance itself). The entry point's name (``mytracker``) is the
tracker name. The entry point is loaded only when that name is used or listed with
details, so a broken plugin cannot break other names; its import error is raised, naming
the entry point. A plugin name that clashes with a built-in or another plugin is an error
when it is resolved (naming both sources), never silently shadowed.

No registry state is kept between calls: every lookup reads the installed entry points,
so tests and long sessions see what is installed now.
"""
from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import importlib.util
import pkgutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from evaluation.settings import Settings

ENTRY_POINT_GROUP = "siamot.trackers"


class RegistryError(LookupError):
    """A tracker or parameter name is unknown or its plugin is broken; the message lists the known ones."""


@dataclass(frozen=True)
class TrackerSpec:
    """How to build one tracker name.

    Attributes:
        parameter_names: ``() -> list[str]``, the parameter names this tracker accepts.
        make_parameters: ``(parameter_name, settings) -> params``, a fresh parameters object
            for one sequence. It must allow setting ``params.debug`` (int) and
            ``params.visualization`` (bool); ``get(name, default)``/``has(name)`` are
            recommended (pytracking's view). ``settings`` gives paths such as model files.
        tracker_class: ``() -> type``; the class is called as ``cls(params)`` and follows the
            pytracking contract (``initialize(image, info) -> dict``,
            ``track(image, info=None) -> dict`` with ``target_bbox`` ``[x, y, w, h]``).
        description: one line for listings.
        apply_overrides: ``(params, overrides) -> params``, the parameters with the values of
            ``overrides`` (a dict, field name -> value) in place of the parameter file's; it must raise
            ``ValueError`` naming an unknown field. ``None``: parameters that are a dataclass get
            ``dataclasses.replace`` (see :func:`replace_fields`), others take no overrides.
        resolve_paths: ``(params, settings) -> params``, applied last (after any overrides): relative
            file paths made absolute from the settings. ``None``: nothing to resolve.
    """

    parameter_names: Callable[[], list[str]]
    make_parameters: Callable[[str, Settings], Any]
    tracker_class: Callable[[], type]
    description: str = ""
    apply_overrides: Callable[[Any, dict[str, Any]], Any] | None = None
    resolve_paths: Callable[[Any, Settings], Any] | None = None


# --------------------------------------------------------------------------- built-ins


def _siamot_parameter_names() -> list[str]:
    """The modules of the ``parameter.siamot`` package (``parameter.siamot.parameter_names``)."""
    try:
        package = importlib.import_module("parameter.siamot")
    except ModuleNotFoundError as exc:
        raise RegistryError("package 'parameter.siamot' not found: is the siamot project installed "
                            "(pip install -e .) or the repository root the working directory?") from exc
    return package.parameter_names()


def _siamot_parameters(parameter_name: str, settings: Settings) -> Any:
    """The parameter file's ``parameters()`` (paths resolved by :func:`_siamot_resolve_paths`)."""
    module = importlib.import_module(f"parameter.siamot.{parameter_name}")
    return _siamot_resolve_paths(module.parameters(), settings)


def _siamot_resolve_paths(params: Any, settings: Settings) -> Any:
    """A relative ``weights_path`` (from the parameter file or an override) resolved in the
    ``network_path`` setting when that is set (else it stays relative to the working directory)."""
    weights_path = getattr(params, "weights_path", None)
    if weights_path and settings.network_path and not Path(weights_path).expanduser().is_absolute():
        import dataclasses
        from pytracking_siamot.parameters import TrackerParams

        resolved = str(settings.path("network_path") / weights_path)
        params = TrackerParams(dataclasses.replace(params.settings, weights_path=resolved))
    return params


def _siamot_class() -> type:
    module = importlib.import_module("pytracking_siamot.tracker.siamot")
    return module.get_tracker_class()


def _siamot_overrides(params: Any, overrides: dict[str, Any]) -> Any:
    """A new pytracking view on ``dataclasses.replace`` of the frozen ``SiamOTParams`` (a renamed or
    removed field name is refused with a hint naming its replacement)."""
    from pytracking_siamot.parameters import TrackerParams, refuse_old_names
    refuse_old_names(overrides)
    return TrackerParams(replace_fields(params.settings, overrides))


def replace_fields(params: Any, overrides: dict[str, Any]) -> Any:
    """``dataclasses.replace(params, **overrides)`` after checking every name is a field of ``params``.

    Raises:
        ValueError: ``params`` is not a dataclass, or a name is not one of its fields (the message
            names it and lists the fields).
    """
    if not (dataclasses.is_dataclass(params) and not isinstance(params, type)):
        raise ValueError(f"parameters of type {type(params).__name__} take no overrides (not a dataclass)")
    fields = sorted(f.name for f in dataclasses.fields(params))
    unknown = sorted(set(overrides) - set(fields))
    if unknown:
        raise ValueError(f"unknown parameter override {', '.join(repr(n) for n in unknown)}: "
                         f"{type(params).__name__} fields are {', '.join(fields)}")
    return dataclasses.replace(params, **overrides)


def _opencv_parameter_names() -> list[str]:
    from evaluation.opencv_trackers import OPENCV_TRACKERS
    return list(OPENCV_TRACKERS)


def _opencv_parameters(parameter_name: str, settings: Settings) -> Any:
    from evaluation.opencv_trackers import opencv_parameters
    return opencv_parameters(parameter_name, settings)


def _opencv_class() -> type:
    from evaluation.opencv_trackers import OpenCVTracker
    return OpenCVTracker


BUILTIN_TRACKERS: dict[str, TrackerSpec] = {
    "siamot": TrackerSpec(_siamot_parameter_names, _siamot_parameters, _siamot_class,
                          "SiamFC with the paper's online training (parameter/siamot/*)",
                          apply_overrides=_siamot_overrides, resolve_paths=_siamot_resolve_paths),
    "opencv": TrackerSpec(_opencv_parameter_names, _opencv_parameters, _opencv_class,
                          "OpenCV peers: MIL, NanoTrack v2, VitTrack, KCF/CSRT (opencv-contrib-python)"),
}


# --------------------------------------------------------------------------- plugins


def _entry_points() -> list[importlib.metadata.EntryPoint]:
    return list(importlib.metadata.entry_points(group=ENTRY_POINT_GROUP))


def _describe(ep: importlib.metadata.EntryPoint) -> str:
    dist = getattr(ep, "dist", None)
    origin = f" from {dist.name} {dist.version}" if dist is not None else ""
    return f"entry point '{ep.name} = {ep.value}'{origin}"


def _load_plugin(ep: importlib.metadata.EntryPoint) -> TrackerSpec:
    try:
        obj = ep.load()
    except Exception as exc:
        raise RegistryError(f"cannot load tracker plugin {_describe(ep)}: "
                            f"{type(exc).__name__}: {exc}") from exc
    spec = obj if isinstance(obj, TrackerSpec) else obj() if callable(obj) else obj
    if not isinstance(spec, TrackerSpec):
        raise RegistryError(f"tracker plugin {_describe(ep)} must give a evaluation.registry.TrackerSpec "
                            f"(or a function returning one), got {type(spec).__name__}")
    return spec


# --------------------------------------------------------------------------- lookups


def tracker_names() -> list[str]:
    """All known tracker names: built-ins first, then plugins (sorted)."""
    plugins = sorted({ep.name for ep in _entry_points()} - set(BUILTIN_TRACKERS))
    return list(BUILTIN_TRACKERS) + plugins


def resolve(name: str) -> TrackerSpec:
    """The spec of tracker ``name``; raises :class:`RegistryError` listing the known names."""
    plugins = [ep for ep in _entry_points() if ep.name == name]
    if name in BUILTIN_TRACKERS:
        if plugins:
            raise RegistryError(f"tracker name '{name}' is built in and also claimed by "
                                f"{', '.join(_describe(ep) for ep in plugins)}: uninstall or rename the plugin")
        return BUILTIN_TRACKERS[name]
    if not plugins:
        raise RegistryError(f"unknown tracker '{name}' (known: {', '.join(tracker_names())}; "
                            f"plugins register names in the entry-point group '{ENTRY_POINT_GROUP}')")
    if len({ep.value for ep in plugins}) > 1:
        raise RegistryError(f"tracker name '{name}' is claimed by several plugins: "
                            f"{', '.join(_describe(ep) for ep in plugins)}")
    return _load_plugin(plugins[0])


def parameter_names(name: str) -> list[str]:
    """The parameter names of tracker ``name``."""
    return list(resolve(name).parameter_names())


def check_parameter(name: str, parameter_name: str) -> TrackerSpec:
    """The spec of ``name`` after checking that ``parameter_name`` exists (error lists the known ones)."""
    spec = resolve(name)
    known = list(spec.parameter_names())
    if parameter_name not in known:
        raise RegistryError(f"unknown parameter '{parameter_name}' for tracker '{name}' "
                            f"(known: {', '.join(known) or 'none'})")
    return spec


def make_parameters(name: str, parameter_name: str, settings: Settings, debug: int = 0,
                    overrides: dict[str, Any] | None = None) -> Any:
    """A fresh parameters object for one sequence, with ``overrides`` applied (see
    :attr:`TrackerSpec.apply_overrides`; an unknown field raises ``ValueError`` naming the tracker,
    parameter and field) and ``debug`` and ``visualization`` set."""
    spec = check_parameter(name, parameter_name)
    params = spec.make_parameters(parameter_name, settings)
    if overrides:
        try:
            params = (spec.apply_overrides or replace_fields)(params, dict(overrides))
        except (TypeError, ValueError) as exc:
            raise ValueError(f"{name}:{parameter_name}: {exc}") from exc
        if spec.resolve_paths is not None:
            params = spec.resolve_paths(params, settings)
    params.debug = debug
    params.visualization = debug > 0
    return params


def tracker_class(name: str) -> type:
    """The class that runs tracker ``name`` (called as ``cls(params)``)."""
    return resolve(name).tracker_class()


def main(argv: list[str] | None = None) -> int:
    """``python -m evaluation.registry``: list tracker names and their parameter names."""
    import argparse
    import sys

    parser = argparse.ArgumentParser(prog="python -m evaluation.registry",
                                     description="List the tracker names (built-in and plugins) and their "
                                                 "parameter names.")
    parser.add_argument("names", nargs="*", help="only these tracker names (default: all)")
    args = parser.parse_args(argv)
    failed = False
    for name in args.names or tracker_names():
        try:
            spec = resolve(name)
            print(f"{name}: {', '.join(spec.parameter_names())}" + (f"  # {spec.description}"
                                                                     if spec.description else ""))
        except (RegistryError, ImportError) as exc:
            print(f"error: {name}: {exc}", file=sys.stderr)
            failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
