"""Run an experiment: a function returning ``(trackers, dataset)``.

``MODULE`` is a module of ``evaluation/experiments/`` (``demo``, ``otb2013_paper``,
``otb2013_offline``, ``ablation``) or any importable dotted path (``mylab.experiments``); ``FUNCTION`` is
called without arguments. Examples::

    python -m evaluation.run_experiment demo demo --threads 2 --analyze
    python -m evaluation.run_experiment otb2013_paper otb2013_paper --scheduler tcp://host:8786
    python -m evaluation.run_experiment otb2013_offline otb2013_offline_available --threads 2
    python -m evaluation.run_experiment ablation mobilenet_v2 --threads 2 --analyze
    python -m evaluation.run_experiment ablation mobilenet_v2 --sequences Deer --analyze

(``otb2013_offline_available``: the OTB2013 targets whose frames are on disk; ``ablation``: the
parameter variants of :mod:`evaluation.experiments.ablation` on them.)

Results-only trackers in the list (published results) are not run; the analysis
(``python -m evaluation.analyze MODULE FUNCTION``) plots them beside the others. Complete
results are skipped (resume). The exit code is non-zero when any sequence failed.
"""
from __future__ import annotations

import argparse
import importlib
import logging
import sys
from typing import Any

from evaluation.data import Sequence, SequenceList
from evaluation.run_tracker import add_run_arguments, check_run_arguments, cli_exit_status, execute

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
    if not trackers or not all(hasattr(t, "display_name") for t in trackers):
        raise ExperimentError(f"{mod.__name__}.{function}(): trackers must be a non-empty list of "
                              f"trackers or results sources (objects with display_name)")
    if not all(isinstance(s, Sequence) for s in dataset):
        raise ExperimentError(f"{mod.__name__}.{function}(): dataset must hold evaluation.data.Sequence objects")
    return trackers, SequenceList(dataset)


def experiment_modules() -> list[str]:
    """The module names of ``evaluation/experiments/`` (what MODULE accepts besides dotted paths)."""
    import pkgutil

    import evaluation.experiments

    return sorted(info.name for info in pkgutil.iter_modules(evaluation.experiments.__path__))


def add_experiment_arguments(parser: argparse.ArgumentParser) -> None:
    """The positional ``module function`` pair of every command that takes an experiment."""
    parser.add_argument("module", help="experiment module: a name in evaluation/experiments/ "
                                       f"({', '.join(experiment_modules())}) or a dotted import path")
    parser.add_argument("function", help="function in the module returning (trackers, dataset)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.run_experiment", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    add_experiment_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument("--sequences", nargs="+", metavar="NAME", default=None,
                        help="run (and analyse) only these sequences of the experiment's dataset, by name")
    parser.add_argument("--analyze", action="store_true",
                        help="after running, analyse the experiment (python -m evaluation.analyze MODULE "
                             "FUNCTION [--sequences ...] --per-sequence): print the tables and write plots "
                             "under the plots path")
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    check_run_arguments(parser, args)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        from evaluation.analyze import main as analyze_main, select_named

        trackers, dataset = load_experiment(args.module, args.function)
        status = execute(trackers, select_named(dataset, args.sequences), args)
        if args.analyze:
            selection = [] if args.sequences is None else ["--sequences", *args.sequences]
            status = max(status, analyze_main([args.module, args.function, *selection, "--per-sequence"]))
        return status
    except BaseException as exc:
        return cli_exit_status(exc)


if __name__ == "__main__":
    sys.exit(main())
