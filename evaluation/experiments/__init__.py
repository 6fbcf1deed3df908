"""Experiments for ``python -m evaluation.run_experiment <module> <function>``.

Each module has a function returning ``(trackers, dataset)``: a list of
:class:`evaluation.tracker.Tracker` objects (and results-only sources such as
:class:`evaluation.peer_results.PublishedResults`) and a
:class:`evaluation.data.SequenceList`. Modules: ``demo`` (no data needed),
``otb2013_paper`` (the paper's four backbones), ``otb2013_offline`` (the backbones with
offline ImageNet weights, OpenCV peers and published results), ``ablation`` (parameter
variants of one backbone, e.g. ``ablation mobilenet_v2``, on the OTB2013 targets on disk).
"""
from __future__ import annotations

import argparse
import importlib
import pkgutil
from typing import Any

from evaluation.data import Sequence, SequenceList
from evaluation.sources import ResultsSource

EXPERIMENTS_PACKAGE = "evaluation.experiments"


class ExperimentError(LookupError):
    """The experiment module or function cannot be found or returns the wrong thing."""


def _import(module: str) -> Any:
    """``demo`` -> ``evaluation.experiments.demo`` when that exists, else ``module`` as given."""
    candidates = [module] if "." in module else [f"{EXPERIMENTS_PACKAGE}.{module}", module]
    for candidate in candidates:
        try:
            return importlib.import_module(candidate)
        except ModuleNotFoundError as exc:
            # Only "this candidate does not exist" moves on; a missing import *inside* it is real.
            if exc.name is None or not (candidate == exc.name or candidate.startswith(exc.name + ".")):
                raise
    raise ExperimentError(f"experiment module '{module}' not found (tried {', '.join(candidates)})")


def load_experiment(module: str, function: str) -> tuple[list[Any], SequenceList]:
    """Import ``module``, call ``function()`` and check it returns ``(trackers, dataset)``.

    Returns:
        The trackers (live :class:`evaluation.tracker.Tracker` objects and results-only
        sources) and the dataset as a :class:`SequenceList`.
    """
    mod = _import(module)
    func = getattr(mod, function, None)
    if not callable(func):
        available = sorted(n for n, v in vars(mod).items()
                           if callable(v) and not n.startswith("_") and getattr(v, "__module__", "") == mod.__name__)
        raise ExperimentError(f"module '{mod.__name__}' has no function '{function}' "
                              f"(functions: {', '.join(available) or 'none'})")
    result = func()
    if not (isinstance(result, tuple) and len(result) == 2):
        raise ExperimentError(f"{mod.__name__}.{function}() must return (trackers, dataset), "
                              f"got {type(result).__name__}")
    trackers, dataset = result
    trackers = list(trackers)
    if not trackers or not all(isinstance(t, ResultsSource) for t in trackers):
        raise ExperimentError(f"{mod.__name__}.{function}(): trackers must be a non-empty list of "
                              f"trackers or results sources (evaluation.sources.ResultsSource)")
    if not all(isinstance(s, Sequence) for s in dataset):
        raise ExperimentError(f"{mod.__name__}.{function}(): dataset must hold evaluation.data.Sequence objects")
    return trackers, SequenceList(dataset)


def experiment_modules() -> list[str]:
    """The module names of ``evaluation/experiments/`` (what MODULE accepts besides dotted paths)."""
    return sorted(info.name for info in pkgutil.iter_modules(__path__))


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """The positional ``module function`` pair of every command that takes an experiment."""
    parser.add_argument("module", help="experiment module: a name in evaluation/experiments/ "
                                       f"({', '.join(experiment_modules())}) or a dotted import path")
    parser.add_argument("function", help="function in the module returning (trackers, dataset)")


def add_tre_argument(parser: argparse.ArgumentParser) -> None:
    """``--tre K``: OTB2013's temporal robustness evaluation (``evaluation.datasets.segments``)."""
    from evaluation.datasets.segments import OTB_TRE_SEGMENTS

    parser.add_argument("--tre", type=int, default=None, metavar="K",
                        help=f"temporal robustness evaluation (OTB2013's TRE): run or analyse K segments of each "
                             f"(selected) sequence, each from a later start frame to the end, named "
                             f"<sequence>@<frame>; segment 0 is the sequence itself, so its results are the "
                             f"one-pass results (OTB2013 uses K={OTB_TRE_SEGMENTS}); the report goes to "
                             f"<name>_tre<K>")


def apply_tre(dataset: SequenceList, segments: int | None) -> SequenceList:
    """``dataset``'s TRE segments when ``segments`` is given (``--tre``), else ``dataset``."""
    if segments is None:
        return dataset
    from evaluation.datasets.segments import temporal_segments

    return temporal_segments(dataset, segments)
