"""Report tables: the summary (AUC, OP50, OP75, Precision, Norm. precision, FPS[, Trained %]), per-attribute
AUC, per-sequence AUC and frames trained, the confidence analysis, and a paired comparison of two trackers
(:func:`comparison_table`, from :mod:`evaluation.analysis.compare`).

Scores are shown as fractions with 3 decimals (the OTB convention: SiamFC-3s AUC 0.607); FPS with one
decimal, ``-`` when the tracker has no timing; percentages of frames with one decimal. Summary and
attribute rows are sorted by AUC, best first; per-sequence columns and confidence rows keep the
experiment's tracker order (an ablation's variants in the order defined).

The numbers behind the summary, per-attribute and per-sequence tables are pandas DataFrames, for a
notebook to use directly (``evaluation = evaluate(sources, dataset)[0]`` from
:mod:`evaluation.analysis.evaluate`, then :func:`summary_frame`, :func:`attribute_frame`,
:func:`per_sequence_frame`); the tables, and so the CSV and Markdown files, are written from them.
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Mapping

import numpy as np
import pandas as pd

from evaluation.analysis.compare import METRIC_LABELS, Comparison
from evaluation.analysis.confidence import SUCCESS_IOU, gate_stats, roc_auc
from evaluation.analysis.evaluate import Evaluation
from evaluation.analysis.metrics import Scores

if TYPE_CHECKING:
    from evaluation.analysis.states import TrackerStates

SUMMARY_COLUMNS = ("Tracker", "AUC", "OP50", "OP75", "Precision", "Norm. precision", "FPS")


@dataclass(frozen=True)
class Table:
    """A header and string cells, rendered as aligned text, CSV or Markdown."""

    title: str
    header: tuple[str, ...]
    rows: list[tuple[str, ...]]

    @classmethod
    def from_frame(cls, title: str, frame: pd.DataFrame, cell: Callable[[str, float], str]) -> "Table":
        """The table of ``frame``: its index name and labels as the first column, every other cell
        as ``cell(column, value)``."""
        header = (str(frame.index.name), *(str(c) for c in frame.columns))
        rows = [(str(label), *(cell(str(column), value) for column, value in zip(frame.columns, values)))
                for label, values in zip(frame.index, frame.itertuples(index=False, name=None))]
        return cls(title, header, rows)

    def to_text(self) -> str:
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h)
                  for i, h in enumerate(self.header)]
        lines = [self.title, "  ".join(h.ljust(w) if i == 0 else h.rjust(w)
                                       for i, (h, w) in enumerate(zip(self.header, widths)))]
        lines.append("  ".join("-" * w for w in widths))
        for row in self.rows:
            lines.append("  ".join(c.ljust(w) if i == 0 else c.rjust(w)
                                   for i, (c, w) in enumerate(zip(row, widths))))
        return "\n".join(lines) + "\n"

    def to_csv(self) -> str:
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(self.header)
        writer.writerows(self.rows)
        return buffer.getvalue()

    def to_markdown(self) -> str:
        lines = [f"### {self.title}", "", "| " + " | ".join(self.header) + " |",
                 "|" + "|".join(":---" if i == 0 else "---:" for i in range(len(self.header))) + "|"]
        lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in self.rows]
        return "\n".join(lines) + "\n"


def _fraction(value: float) -> str:
    return f"{value:.3f}"


#: Column added to the summary when some tracker reports ``trained`` in its per-frame state.
TRAINED_COLUMN = "Trained %"


def _percent(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100.0 * value:.1f}"


def _number(value: float | None) -> float:
    return math.nan if value is None else float(value)


def summary_frame(scores: dict[str, Scores], trained: Mapping[str, float | None] | None = None) -> pd.DataFrame:
    """One row per tracker (index ``Tracker``), sorted by AUC (best first): ``AUC``, ``OP50``, ``OP75``,
    ``Precision``, ``Norm. precision`` (fractions), ``FPS`` (NaN without timing) and, when any tracker
    has a value in ``trained`` (the fraction of frames with online training, mean over sequences),
    ``Trained %`` (percent; NaN for the others)."""
    ordered = sorted(scores.items(), key=lambda item: -item[1].auc)
    frame = pd.DataFrame([(s.auc, s.op50, s.op75, s.precision, s.norm_precision, _number(s.fps)) for _, s in ordered],
                         index=pd.Index([name for name, _ in ordered], name=SUMMARY_COLUMNS[0]),
                         columns=list(SUMMARY_COLUMNS[1:]))
    if trained and any(v is not None for v in trained.values()):
        frame[TRAINED_COLUMN] = [100.0 * _number(trained.get(name)) for name in frame.index]
    return frame


def _summary_cell(column: str, value: float) -> str:
    if column in ("FPS", TRAINED_COLUMN):
        return "-" if not math.isfinite(value) else f"{value:.1f}"
    return _fraction(value)


def summary_table(scores: dict[str, Scores], title: str,
                  trained: Mapping[str, float | None] | None = None) -> Table:
    """:func:`summary_frame` as a table."""
    return Table.from_frame(title, summary_frame(scores, trained), _summary_cell)


def attribute_frame(evaluation: Evaluation, metric: str = "auc") -> pd.DataFrame:
    """``metric`` (a :class:`Scores` field: ``auc``, ``precision``, ...) per tracker (rows, index ``Tracker``,
    sorted by the overall value, best first) over all sequences (column ``All (n)``) and per attribute
    (columns ``ATTR (n)``, ``n`` the attribute's sequence count)."""
    attributes = evaluation.attributes()
    per_attribute = {a: evaluation.scores(a) for a in attributes}
    overall = evaluation.scores()
    columns = [f"All ({evaluation.n_sequences()})", *(f"{a} ({evaluation.n_sequences(a)})" for a in attributes)]
    ordered = sorted(evaluation.trackers, key=lambda t: -getattr(overall[t], metric))
    rows = [(getattr(overall[t], metric), *(getattr(per_attribute[a][t], metric) for a in attributes)) for t in ordered]
    return pd.DataFrame(rows, index=pd.Index(ordered, name="Tracker"), columns=columns)


def attribute_table(evaluation: Evaluation, metric: str = "auc") -> Table:
    """:func:`attribute_frame` as a table."""
    label = "AUC" if metric == "auc" else metric.replace("_", " ").capitalize()
    return Table.from_frame(f"{label} per attribute", attribute_frame(evaluation, metric),
                            lambda _column, value: _fraction(value))


def per_sequence_frame(evaluation: Evaluation) -> pd.DataFrame:
    """AUC per sequence (rows, index ``Sequence``) and tracker (columns, in the experiment's order)."""
    return pd.DataFrame({t: [evaluation.metrics[t][name].auc for name in evaluation.sequences.names()]
                         for t in evaluation.trackers},
                        index=pd.Index(evaluation.sequences.names(), name="Sequence"))


def per_sequence_table(evaluation: Evaluation, states: Mapping[str, "TrackerStates"] | None = None) -> Table:
    """:func:`per_sequence_frame` as a table, then the rows ``mean AUC``, ``mean precision`` (at 20 px) and
    ``% frames trained`` (mean over sequences; ``-`` without state)."""
    names = evaluation.sequences.names()
    scores = evaluation.scores()
    table = Table.from_frame(f"AUC per sequence ({len(names)} sequences)", per_sequence_frame(evaluation),
                             lambda _column, value: _fraction(value))
    rows = table.rows
    rows.append(("mean AUC", *(_fraction(scores[t].auc) for t in evaluation.trackers)))
    rows.append(("mean precision", *(_fraction(scores[t].precision) for t in evaluation.trackers)))
    states = states or {}
    rows.append(("% frames trained", *(_percent(states[t].mean_trained_fraction(names) if t in states else None)
                                       for t in evaluation.trackers)))
    return table


def per_sequence_trained_table(evaluation: Evaluation, states: Mapping[str, "TrackerStates"]) -> Table | None:
    """Percentage of frames (after the first) with online training per sequence and tracker, then their
    mean over sequences; ``None`` when no tracker reports ``trained``."""
    names = evaluation.sequences.names()
    known = {t: states[t] for t in evaluation.trackers
             if t in states and states[t].mean_trained_fraction(names) is not None}
    if not known:
        return None
    rows = [(name, *(_percent(known[t].trained_fraction(name)) if t in known else "-" for t in evaluation.trackers))
            for name in names]
    rows.append(("mean", *(_percent(known[t].mean_trained_fraction(names)) if t in known else "-"
                           for t in evaluation.trackers)))
    return Table(f"% frames trained per sequence ({len(names)} sequences)", ("Sequence", *evaluation.trackers), rows)


CONFIDENCE_COLUMNS = ("Tracker", "Confidence", "Frames", "IoU>0.5", "ROC AUC", "Threshold", "Above",
                      "Precision above", "Note")


def confidence_table(trackers: list[str], states: Mapping[str, "TrackerStates"],
                     gates: Mapping[str, float] | None = None) -> Table | None:
    """How well each confidence predicts IoU > 0.5, per tracker (pooled over its sequences and runs).

    Columns: frames used, fraction of them with IoU > 0.5, ROC AUC (``-`` with the reason in ``Note``
    when undefined), and for the gate ``confidence > Threshold`` the fraction of frames above it and the
    fraction of those with IoU > 0.5. The threshold is ``gates[confidence]`` when given, else the median
    of the pooled confidence (noted). ``None`` when no tracker has confidences.
    """
    gates = gates or {}
    rows = []
    for tracker in trackers:
        if tracker not in states:
            continue
        for key in states[tracker].confidence_keys():
            values, ious = states[tracker].pooled(key)
            success = ious > SUCCESS_IOU
            auc = roc_auc(values, success)
            notes = [auc.reason] if auc.reason else []
            if key in gates:
                threshold = float(gates[key])
            else:
                threshold = float(np.median(values))
                notes.append("threshold: median")
            gate = gate_stats(values, success, threshold)
            rows.append((tracker, key, str(len(values)), _fraction(float(success.mean())),
                         "-" if math.isnan(auc.value) else _fraction(auc.value), f"{threshold:.4g}",
                         _fraction(gate.fraction_above),
                         "-" if math.isnan(gate.precision_above) else _fraction(gate.precision_above),
                         "; ".join(notes)))
    if not rows:
        return None
    return Table(f"Confidence as a predictor of IoU > {SUCCESS_IOU:g} (frames pooled per tracker, first frame "
                 f"excluded)", CONFIDENCE_COLUMNS, rows)


def comparison_headline(comparison: Comparison) -> str:
    """One line: the metric, ``A - B``, the mean difference with its interval and how it was drawn, and
    the sequences won, lost and tied by A."""
    c = comparison
    low, high = c.interval
    units = f"{len(c.sequences)} sequences" + (f" ({len(c.units)} TRE segments)" if c.clustered else "")
    over = "sequences, each with its segments" if c.clustered else "sequences"
    return (f"{METRIC_LABELS[c.metric]}, {c.tracker_a} - {c.tracker_b} on {units}: mean {c.mean_difference:+.3f}, "
            f"{100 * c.level:g}% CI [{low:+.3f}, {high:+.3f}] (bootstrap over {over}: {c.resamples} resamples, "
            f"seed {c.seed}); {c.tracker_a} wins {c.wins}, loses {c.losses}, ties {c.ties} "
            f"(|d| < {c.tie_tolerance:g})")


def comparison_table(comparison: Comparison) -> Table:
    """A paired comparison (:mod:`evaluation.analysis.compare`) as a table, titled by
    :func:`comparison_headline`.

    One row per sequence in the evaluation's order (with TRE: its ``Segments`` count and the mean over
    them): both scores, ``Difference`` (``A - B``: A's column minus B's) and ``Result`` (``win``, ``loss``
    or ``tie`` for A; the most decisive sequences marked ``decides #k``). Then the rows ``mean`` (the
    summary scores, their difference and the interval), ``wins / losses / ties`` and ``mean without
    <sequence>`` (the most decisive one dropped: ``sign kept`` or ``sign lost``).
    """
    c = comparison
    rank = {s.name: k for k, s in enumerate(c.deciding, 1)}
    segments = (("Segments",) if c.clustered else ())
    header = ("Sequence", *segments, c.tracker_a, c.tracker_b, "Difference", "Result")

    def row(label: str, count: str, a: str, b: str, d: str, result: str) -> tuple[str, ...]:
        return (label, *((count,) if c.clustered else ()), a, b, d, result)

    rows = []
    for s in c.sequences:
        result = ("tie" if abs(s.difference) < c.tie_tolerance else "win" if s.difference > 0 else "loss")
        if s.name in rank:
            result += f", decides #{rank[s.name]}"
        rows.append(row(s.name, str(s.segments), _fraction(s.a), _fraction(s.b), f"{s.difference:+.3f}", result))
    low, high = c.interval
    rows.append(row("mean", str(len(c.units)), _fraction(c.mean_a), _fraction(c.mean_b), f"{c.mean_difference:+.3f}",
                    f"{100 * c.level:g}% CI [{low:+.3f}, {high:+.3f}]"))
    rows.append(row("wins / losses / ties", "", "", "", "", f"{c.wins} / {c.losses} / {c.ties}"))
    if c.mean_without_top is not None:
        top = c.deciding[0]
        rows.append(row(f"mean without {top.name}", str(len(c.units) - top.segments), "", "",
                        f"{c.mean_without_top:+.3f}", "sign kept" if c.sign_survives else "sign lost"))
    return Table(comparison_headline(c), header, rows)
