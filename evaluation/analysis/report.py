"""A full report: evaluate, write tables (CSV, Markdown), draw plots (PNG, PDF, TikZ), per attribute too.

Layout of ``<plots_path>/<report name>/``::

    summary.csv, summary.md            the table (Tracker, AUC, OP50, OP75, Precision, Norm. precision, FPS,
                                       and Trained % when a tracker's per-frame state has ``trained``)
    success.{png,pdf,tex}              success plot (legend "name [AUC]")
    precision.{png,pdf,tex}            precision plot (legend "name [precision at 20 px]")
    norm_precision.{png,pdf,tex}       normalised precision plot
    attributes_auc.{csv,md}            AUC per attribute (columns: attribute and its sequence count)
    attributes_precision.{csv,md}      precision at 20 px per attribute
    attributes/<ATTR>/...              summary table and the three plots on that attribute's sequences
    per_sequence_auc.{csv,md}          AUC per sequence and tracker, mean AUC, mean precision, % frames trained
    per_sequence_trained.{csv,md}      % of frames with online training per sequence (trackers with ``trained``)
    confidence.{csv,md}                ROC AUC of each per-frame confidence for IoU > 0.5, and a gate's
                                       fraction of frames and precision (trackers with confidences)
    confidence.{png,pdf,tex}           confidence against IoU, one panel per confidence
    eval_cache.json                    per (run, sequence) metrics keyed by a hash of their inputs

Per-frame states (``<seq>_state.csv`` of live trackers) are read by :mod:`evaluation.analysis.states`;
the files that need them are skipped when no tracker has one.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence as TypingSequence

from evaluation.analysis.evaluate import Evaluation, evaluate, pairings
from evaluation.analysis.plots import plot_all
from evaluation.analysis.styles import assign_styles
from evaluation.analysis.tables import Table, attribute_table, summary_table
from evaluation.boxes_io import atomic_write_text
from evaluation.data import Sequence

CACHE_FILE = "eval_cache.json"


@dataclass
class ReportOutput:
    """What :func:`generate_report` produced."""

    report_dir: Path
    evaluation: Evaluation
    summary: Table
    attribute_tables: list[Table]
    tables: list[Path]
    plots: list[Path]
    cache_hits: int
    cache_misses: int
    per_sequence: list[Table] = field(default_factory=list)
    confidence: Table | None = None


def safe_report_name(name: str) -> str:
    """A folder name for the report: characters other than letters, digits, ``.``, ``_``, ``-`` become ``_``."""
    cleaned = re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("._")
    if not cleaned:
        raise ValueError(f"report name {name!r} has no usable characters")
    return cleaned


def write_table(table: Table, stem: Path) -> list[Path]:
    """``<stem>.csv`` and ``<stem>.md`` (atomic writes); a dot in ``stem``'s name is kept, not taken for a suffix."""
    csv_path, md_path = stem.parent / f"{stem.name}.csv", stem.parent / f"{stem.name}.md"
    atomic_write_text(csv_path, table.to_csv())
    atomic_write_text(md_path, table.to_markdown())
    return [csv_path, md_path]


def generate_report(sources: TypingSequence[Any], dataset: Iterable[Sequence], report_name: str,
                    plots_path: Path, strict: bool = False, attributes: bool = True, tikz: bool = True,
                    progress: bool = False, use_cache: bool = True,
                    gates: Mapping[str, float] | None = None, layout: str | None = None) -> ReportOutput:
    """Evaluate ``sources`` on ``dataset`` and write the report under ``plots_path/<report_name>``.

    Args:
        sources: results sources (live trackers, :class:`evaluation.peer_results.PublishedResults`, ...).
        dataset: the sequences.
        report_name: folder name of the report (sanitised with :func:`safe_report_name`).
        plots_path: the settings' ``plots_path``.
        strict: raise on missing results instead of skipping those sequences (see :func:`evaluate`).
        attributes: also write per-attribute tables and plots (attributes present in the dataset).
        tikz: also export the plots as TikZ ``.tex``.
        progress: show a progress bar while evaluating.
        use_cache: read and write ``eval_cache.json`` (recomputed for inputs that changed).
        gates: confidence name -> threshold for the confidence table's gate columns (default: the
            median of each confidence).
        layout: the success/precision plots sized for a paper, ``column`` or ``page`` (see
            :data:`evaluation.analysis.plots.LAYOUTS`; default: 6 x 4.5 in screen figures).
    """
    from evaluation.analysis.states import collect_states
    from evaluation.analysis.tables import confidence_table, per_sequence_table, per_sequence_trained_table

    report_dir = Path(plots_path).expanduser() / safe_report_name(report_name)
    report_dir.mkdir(parents=True, exist_ok=True)
    evaluation, cache = evaluate(sources, dataset, cache_path=report_dir / CACHE_FILE if use_cache else None,
                                 strict=strict, progress=progress)
    styles = assign_styles(pairings(evaluation.entries))  # one style per tracker in every plot
    scores = evaluation.scores()
    states = collect_states(evaluation)
    trained = {t: s.mean_trained_fraction(evaluation.sequences.names()) for t, s in states.items()}
    summary = summary_table(scores, f"{report_name} ({evaluation.n_sequences()} sequences)", trained)
    tables = write_table(summary, report_dir / "summary")
    plots = plot_all(evaluation.curves(), scores, report_dir, tikz=tikz, styles=styles, layout=layout)
    attribute_tables: list[Table] = []
    per_sequence = [per_sequence_table(evaluation, states)]
    tables += write_table(per_sequence[0], report_dir / "per_sequence_auc")
    trained_table = per_sequence_trained_table(evaluation, states)
    if trained_table is not None:
        per_sequence.append(trained_table)
        tables += write_table(trained_table, report_dir / "per_sequence_trained")
    confidence = confidence_table(evaluation.trackers, states, gates)
    if confidence is not None:
        from evaluation.analysis.confidence_plot import plot_confidence

        tables += write_table(confidence, report_dir / "confidence")
        plots += plot_confidence(evaluation.trackers, states, report_dir,
                                 f"Confidence vs IoU: {report_name} ({evaluation.n_sequences()} sequences)",
                                 tikz=tikz, styles=styles)
    if attributes and evaluation.attributes():
        attribute_tables = [attribute_table(evaluation, "auc"), attribute_table(evaluation, "precision")]
        tables += write_table(attribute_tables[0], report_dir / "attributes_auc")
        tables += write_table(attribute_tables[1], report_dir / "attributes_precision")
        for attribute in evaluation.attributes():
            folder = report_dir / "attributes" / safe_report_name(attribute)
            attr_scores = evaluation.scores(attribute)
            n = evaluation.n_sequences(attribute)
            tables += write_table(summary_table(attr_scores, f"{report_name}: {attribute} ({n} sequences)"),
                                  folder / "summary")
            plots += plot_all(evaluation.curves(attribute), attr_scores, folder,
                              title_suffix=f"- {attribute} ({n})", tikz=tikz, styles=styles, layout=layout)
    return ReportOutput(report_dir, evaluation, summary, attribute_tables, tables, plots,
                        cache.hits, cache.misses, per_sequence, confidence)
