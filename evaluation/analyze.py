"""Analyse tracking results: summary table, success/precision/normalised-precision plots, per attribute.

Two ways to say what to analyse:

    python -m evaluation.analyze demo demo                       # an experiment: (trackers, dataset)
    python -m evaluation.analyze --trackers siamot:mobilenet_v2 siamot:mobilenet_v2_baseline \\
        --dataset otb2013 --published ../shared/otb2013/peer_results/SiamFC-3s_cfnetrelease:SiamFC-3s

It prints the table (Tracker, AUC, OP50, OP75, Precision, Norm. precision, FPS, and "Trained %": the
frames where online training ran, mean over sequences, for trackers whose per-frame state has it) and
writes, under ``<plots_path>/<report name>/``: ``summary.csv``/``.md``, ``success``/``precision``/
``norm_precision`` plots as PNG, PDF and TikZ ``.tex``, per-attribute tables and plots,
``per_sequence_auc.csv``/``.md`` (AUC per sequence and tracker; printed with ``--per-sequence``), and
``eval_cache.json`` (metrics of each (run, sequence) keyed by a hash of the result files' sizes/mtimes
and the ground truth; only what changed is recomputed). The plot paths are printed at the end.

Confidence analysis: for trackers whose per-frame state (``<seq>_state.csv``) has confidences
(``peak``, ``psr``, ``jcpp``, ``apce``), it prints and writes ``confidence.csv``/``.md`` (ROC AUC of each
confidence for the event IoU > 0.5, frames pooled per tracker over the dataset, the first frame and
frames without valid ground truth excluded; and, for a gate ``confidence > threshold`` given with
``--gate`` or else at the median, the fraction of frames above and their fraction with IoU > 0.5) and
the plot ``confidence.{png,pdf,tex}`` (IoU against each confidence).

Temporal robustness (``--tre K``, OTB2013's TRE): the dataset's sequences are replaced by K segments
each (``evaluation.datasets.segments``; segment 0 is the sequence, the others ``<sequence>@<frame>``)
and the report goes to ``<function>_tre<K>`` (``--name`` names the folder exactly).

Paired comparison (``--compare A B``, :mod:`evaluation.analysis.compare`): A - B per sequence (AUC, or
``--compare-metric``), its mean with a 95 % bootstrap interval over sequences (with ``--tre``, a
sequence's segments are resampled together), the sequences won, lost and tied, and those that decide
it; printed and written to ``compare_<A>_vs_<B>.csv``/``.md``.

Missing results: by default, sequences that some tracker has no results for are skipped for all
trackers, with a warning listing them; ``--strict`` makes that an error (exit status 2, like every
input error: :mod:`evaluation.cli_errors`). Sequences without ground truth after their first frame
(a ``--video`` run, a folder whose ``groundtruth_rect.txt`` has one row) cannot be scored and are
excluded with a warning (an error with ``--strict``).
Published results shorter than a sequence count their missing frames as failures (see
``evaluation.peer_results``).

Pixel convention of published results: ours are 0-based. ``--published`` takes an OTB-toolkit folder
(``_meta.json``) and a pytracking-layout folder of tab-delimited integer boxes as 1-based (shifted by -1)
and other folders as 0-based (got10k's and VOT's layout, our own results); ``--published-one-based`` and
``--published-zero-based`` say it for a folder instead (got10k's results on OTB, UAV123, DTB70 and
TColor128 keep those datasets' 1-based boxes: ``--published-one-based``). Each published folder's
convention is printed before the table (``published NAME: PATH (got10k layout, 1-based boxes, shifted
to 0-based)``).
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from evaluation.cli_errors import EXIT_OK, run_cli, warnings_summarised
from evaluation.cli_help import PlainHelpFormatter
from evaluation.settings import load_settings


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.analyze", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    parser.add_argument("module", nargs="?",
                        help="experiment module: a name in evaluation/experiments/ (e.g. demo) or any importable "
                             "dotted path; its FUNCTION returns (trackers, dataset)")
    parser.add_argument("function", nargs="?", help="experiment function in MODULE (e.g. demo)")
    parser.add_argument("--trackers", nargs="+", metavar="NAME:PARAM[:RUNS][=LABEL]", default=[],
                        help="live trackers whose saved results to analyse instead of an experiment; RUNS is "
                             "a run id, a list '0,1,2' or a range '0-4' (runs are averaged); LABEL is the "
                             "name shown in tables and legends")
    parser.add_argument("--dataset", nargs="+", metavar="NAME", default=None,
                        help="dataset name(s) for --trackers/--published alone (default: otb2013); "
                             "see evaluation.datasets.get_dataset")
    parser.add_argument("--published", nargs="+", metavar="PATH[:NAME]", default=[],
                        help="folders of published raw results (pytracking, got10k or OTB-toolkit layout with "
                             "_meta.json) to add as results-only trackers; NAME defaults to the folder name")
    parser.add_argument("--published-one-based", nargs="+", metavar="PATH[:NAME]", default=[],
                        help="as --published, for folders whose boxes are 1-based (MATLAB, the OTB toolkit, "
                             "got10k's results on OTB/UAV123/DTB70/TColor128, which keep those datasets' "
                             "1-based boxes): they are shifted by -1 to our 0-based pixels")
    parser.add_argument("--published-zero-based", nargs="+", metavar="PATH[:NAME]", default=[],
                        help="as --published, for folders whose boxes are 0-based whatever their layout "
                             "suggests (--published takes an OTB-layout folder, or a pytracking-layout folder "
                             "of tab-delimited integers, as 1-based)")
    parser.add_argument("--name", default=None,
                        help="report name = output folder under plots_path, used as given (default: the experiment "
                             "function, or 'report_<dataset>', with _tre<K> for --tre K)")
    parser.add_argument("--plots-path", type=Path, default=None,
                        help="where reports go (default: the settings' plots_path, env SIAMOT_PLOTS_PATH)")
    parser.add_argument("--strict", action="store_true",
                        help="fail when a tracker lacks results for a sequence or a sequence has no ground "
                             "truth after its first frame (default: skip such sequences for all trackers with "
                             "a warning listing them)")
    parser.add_argument("--no-attributes", action="store_true", help="skip per-attribute tables and plots")
    parser.add_argument("--no-tikz", action="store_true", help="skip the TikZ (.tex) export of the plots")
    parser.add_argument("--layout", choices=("column", "page"), default=None,
                        help="size the success/precision plots for a paper: 'column' (one column of a two-column "
                             "paper) or 'page' (half the text width; two side by side), 7-8 pt text, the legend "
                             "under the plot (default: 6 x 4.5 in screen figures, legend inside)")
    parser.add_argument("--no-cache", action="store_true",
                        help="recompute every metric and do not write eval_cache.json")
    parser.add_argument("--sequences", nargs="+", metavar="NAME", default=None,
                        help="analyse only these sequences of the dataset (names; an unknown name is an error); "
                             "the report folder is the same as without it unless --name is given")
    from evaluation.experiments import add_tre_argument

    add_tre_argument(parser)
    parser.add_argument("--per-sequence", action="store_true",
                        help="also print the AUC per sequence and tracker (with mean AUC, mean precision and "
                             "%% frames trained) and the %% of frames trained per sequence; the files "
                             "per_sequence_*.csv/.md are always written")
    parser.add_argument("--gate", nargs="+", metavar="CONFIDENCE=THRESHOLD", default=[],
                        help="thresholds for the confidence table's gate columns, e.g. jcpp=0.55 psr=8 "
                             "(default: the median of each confidence)")
    parser.add_argument("--compare", nargs=2, metavar=("A", "B"), default=None,
                        help="compare two trackers of the report (display names, as in the summary table): A - B "
                             "per sequence, its mean with a 95%% bootstrap interval over sequences (10000 "
                             "resamples, seed 0; with --tre, a sequence's segments are resampled together), the "
                             "sequences won, lost and tied (|A - B| < 0.0005) and those that decide it; printed and "
                             "written to compare_<A>_vs_<B>.csv/.md (see evaluation.analysis.compare)")
    parser.add_argument("--compare-metric", choices=("auc", "precision", "norm_precision"), default="auc",
                        help="the score --compare takes per sequence: success AUC (default), precision at 20 px "
                             "or normalised precision at 0.2; other than auc, the files end in _<metric>")
    return parser


def parse_gates(items: list[str]) -> dict[str, float]:
    """``['jcpp=0.55', ...]`` -> ``{'jcpp': 0.55}``; ``ValueError`` names a bad item."""
    from evaluation.analysis.confidence import CONFIDENCE_KEYS

    gates: dict[str, float] = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            if not sep or name not in CONFIDENCE_KEYS:
                raise ValueError
            gates[name] = float(value)
        except ValueError:
            raise ValueError(f"--gate '{item}' must be CONFIDENCE=NUMBER with CONFIDENCE one of "
                             f"{', '.join(CONFIDENCE_KEYS)}") from None
    return gates


def collect_inputs(args: argparse.Namespace) -> tuple[list[Any], Any, str]:
    """The results sources, the dataset and the report name the arguments ask for."""
    from evaluation.peer_results import parse_published_spec

    sources: list[Any] = []
    if args.module or args.function:
        if not (args.module and args.function):
            raise ValueError("give both MODULE and FUNCTION (e.g. 'demo demo'), or use --trackers/--published")
        if args.trackers or args.dataset:
            raise ValueError("an experiment defines its trackers and dataset: do not combine it with "
                             "--trackers or --dataset (--published may be added)")
        from evaluation.experiments import load_experiment

        sources, dataset = load_experiment(args.module, args.function)
        name = args.name or args.function
    else:
        if not (args.trackers or args.published or args.published_one_based or args.published_zero_based):
            raise ValueError("nothing to analyse: give MODULE FUNCTION, or --trackers and/or --published")
        from evaluation.datasets import get_dataset
        from evaluation.tracker import trackers_from_spec

        for spec in args.trackers:
            sources += trackers_from_spec(spec)
        names = args.dataset or ["otb2013"]
        dataset = get_dataset(*names)
        name = args.name or "report_" + "_".join(names)
    sources += [parse_published_spec(spec) for spec in args.published]
    sources += [parse_published_spec(spec, one_based=True) for spec in args.published_one_based]
    sources += [parse_published_spec(spec, one_based=False) for spec in args.published_zero_based]
    from evaluation.experiments import apply_tre

    if not args.name:
        name = report_name(name, args.tre)
    return sources, apply_tre(dataset.named(args.sequences), args.tre), name


def report_name(function: str, tre: int | None = None) -> str:
    """The report folder of an experiment: its function's name, with ``_tre<K>`` for ``--tre K``."""
    return function if tre is None else f"{function}_tre{tre}"


def analyze(sources: list[Any], dataset: Any, name: str, plots_path: Path | None = None, *,
            strict: bool = False, attributes: bool = True, tikz: bool = True, use_cache: bool = True,
            gates: dict[str, float] | None = None, layout: str | None = None, per_sequence: bool = False,
            compare: tuple[str, str] | None = None, compare_metric: str = "auc") -> int:
    """Write the report of ``sources`` on ``dataset`` under ``<plots_path>/<name>/`` (what this module's
    doc lists) and print its tables and files; the analysis warnings go to stderr, once each.

    Args:
        sources: results sources (live trackers, published results).
        dataset: the sequences to score.
        name: the report folder's name.
        plots_path: where reports go (default: the settings' ``plots_path``).
        per_sequence: also print the per-sequence tables.
        compare: two display names: print and write their paired comparison on ``compare_metric``
            (:mod:`evaluation.analysis.compare`).
        strict, attributes, tikz, use_cache, gates, layout: as ``generate_report``'s.

    Returns:
        0 (:data:`evaluation.cli_errors.EXIT_OK`).

    Raises:
        The input errors of the analysis (missing results with ``strict``, unreadable files), each
        naming the file or value; ``SettingsError`` when ``plots_path`` is needed and not set.
    """
    from evaluation.analysis.protocols import protocol_report
    from evaluation.analysis.report import generate_report

    with warnings_summarised():
        output = generate_report(sources, dataset, name, plots_path or load_settings().path("plots_path"),
                                 strict=strict, attributes=attributes, tikz=tikz, progress=True,
                                 use_cache=use_cache, gates=gates, layout=layout)
    print()
    print(output.summary.to_text())
    benchmark_table = protocol_report(sources, dataset)  # GOT-10k's AO/SR, LaSOT's protocol; None for others
    if benchmark_table:
        print(benchmark_table)
    if output.attribute_tables:
        print(output.attribute_tables[0].to_text())
    if per_sequence:
        for table in output.per_sequence:
            print(table.to_text())
    if output.confidence is not None:
        print(output.confidence.to_text())
    if compare:
        from evaluation.analysis.compare import compare_evaluation
        from evaluation.analysis.report import safe_report_name, write_table
        from evaluation.analysis.tables import comparison_table

        table = comparison_table(compare_evaluation(output.evaluation, *compare, compare_metric))
        print(table.to_text())
        stem = "_vs_".join(safe_report_name(n) for n in compare)
        stem += "" if compare_metric == "auc" else f"_{compare_metric}"
        output.tables += write_table(table, output.report_dir / f"compare_{stem}")
    print(f"cache: {output.cache_hits} reused, {output.cache_misses} computed "
          f"({output.report_dir / 'eval_cache.json'})")
    print("tables:")
    for path in output.tables:
        if path.parent == output.report_dir:
            print(f"  {path}")
    print("plots:")
    for path in output.plots:
        if path.parent == output.report_dir:
            print(f"  {path}")
    attribute_plots = [p for p in output.plots if p.parent != output.report_dir]
    if attribute_plots:
        print(f"  per-attribute tables and plots: {output.report_dir / 'attributes'}/<ATTR>/ "
              f"({len(attribute_plots)} plot files)")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return run_cli(lambda: _main(args))


def published_conventions(sources: list[Any]) -> list[str]:
    """One line per published folder among ``sources``: its path, layout and boxes' pixel convention."""
    from evaluation.peer_results import PublishedResults

    return [f"published {s.name}: {s.path} ({s.layout} layout, "
            + ("1-based boxes, shifted to 0-based)" if s.one_based else "0-based boxes)")
            for s in sources if isinstance(s, PublishedResults)]


def _main(args: argparse.Namespace) -> int:
    with warnings_summarised():
        sources, dataset, name = collect_inputs(args)
        for line in published_conventions(sources):
            print(line)
        gates = parse_gates(args.gate)
        if args.compare:  # an unknown name is an error before anything is written
            from evaluation.analysis.compare import require_trackers
            from evaluation.analysis.evaluate import group_runs

            require_trackers(args.compare, [e.display_name for e in group_runs(sources)])
    return analyze(sources, dataset, name, args.plots_path, strict=args.strict, attributes=not args.no_attributes,
                   tikz=not args.no_tikz, use_cache=not args.no_cache, gates=gates, layout=args.layout,
                   per_sequence=args.per_sequence, compare=args.compare, compare_metric=args.compare_metric)


if __name__ == "__main__":
    sys.exit(main())
