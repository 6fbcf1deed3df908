"""Run an experiment: a function returning ``(trackers, dataset)``.

``MODULE`` is a module of ``evaluation/experiments/`` (``demo``, ``otb2013_paper``,
``otb2013_offline``, ``ablation``) or any importable dotted path (``mylab.experiments``); ``FUNCTION`` is
called without arguments. Examples::

    python -m evaluation.run_experiment demo demo --threads 2 --analyze
    python -m evaluation.run_experiment otb2013_paper otb2013_paper --scheduler tcp://host:8786
    python -m evaluation.run_experiment otb2013_offline otb2013_offline_available --threads 2
    python -m evaluation.run_experiment ablation mobilenet_v2 --threads 2 --analyze
    python -m evaluation.run_experiment ablation mobilenet_v2 --sequences Deer --analyze
    python -m evaluation.run_experiment ablation mobilenet_v2 --tre 4 --threads 2 --analyze

(``otb2013_offline_available``: the OTB2013 targets whose frames are on disk; ``ablation``: the
parameter variants of :mod:`evaluation.experiments.ablation` on them; ``--tre K``: OTB2013's temporal
robustness evaluation, K segments per sequence, see :mod:`evaluation.datasets.segments`.)

Results-only trackers in the list (published results) are not run; the analysis
(``python -m evaluation.analyze MODULE FUNCTION``) plots them beside the others. Complete
results are skipped (resume at sequence granularity: rerun the same command after any stop).
Progress covers the whole run: the pairs and frames already done, then on a terminal a bar over the
frames left with an ETA, otherwise (a log file) one line per finished pair with the ETA. Exit codes: 0 done, 1 some sequences failed, 2 bad input (one
``error:`` line), 130 interrupted (:mod:`evaluation.cli_errors`).
"""
from __future__ import annotations

import argparse
import logging
import sys

from evaluation.cli_errors import run_cli
from evaluation.cli_help import PlainHelpFormatter
from evaluation.experiments import add_experiment_arguments, add_tre_argument, apply_tre, load_experiment
from evaluation.run_tracker import INTERRUPTED, add_run_arguments, check_run_arguments, execute


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.run_experiment", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    add_experiment_arguments(parser)
    add_run_arguments(parser)
    parser.add_argument("--sequences", nargs="+", metavar="NAME", default=None,
                        help="run (and analyse) only these sequences of the experiment's dataset, by name")
    add_tre_argument(parser)
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
    return run_cli(lambda: run(args), interrupted=INTERRUPTED)


def run(args: argparse.Namespace) -> int:
    """Load the experiment once, run it, and with ``--analyze`` analyse the same trackers and sequences
    (:func:`evaluation.analyze.analyze`); the exit code is the worse of the two."""
    trackers, dataset = load_experiment(args.module, args.function)
    dataset = apply_tre(dataset.named(args.sequences), args.tre)
    status = execute(trackers, dataset, args)
    if args.analyze:
        from evaluation.analyze import analyze, report_name

        status = max(status, analyze(trackers, dataset, report_name(args.function, args.tre), per_sequence=True))
    return status


if __name__ == "__main__":
    sys.exit(main())
