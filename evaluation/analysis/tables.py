"""Report tables: the summary (AUC, OP50, OP75, Precision, Norm. precision, FPS[, Trained %]), per-attribute
AUC, per-sequence AUC and frames trained, and the confidence analysis.

Scores are shown as fractions with 3 decimals (the OTB convention: SiamFC-3s AUC 0.607); FPS with one
decimal, ``-`` when the tracker has no timing; percentages of frames with one decimal. Summary and
attribute rows are sorted by AUC, best first; per-sequence columns and confidence rows keep the
experiment's tracker order (an ablation's variants in the order defined).
"""
from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

import numpy as np

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


def _fps(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}"


#: Column added to the summary when some tracker reports ``trained`` in its per-frame state.
TRAINED_COLUMN = "Trained %"


def _percent(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{100.0 * value:.1f}"


def summary_table(scores: dict[str, Scores], title: str,
                  trained: Mapping[str, float | None] | None = None) -> Table:
    """One row per tracker, sorted by AUC (best first).

    ``trained``: per tracker, the fraction of frames on which online training ran (mean over
    sequences); when any tracker has a value, a ``Trained %`` column is added (``-`` for the others).
    """
    ordered = sorted(scores.items(), key=lambda item: -item[1].auc)
    rows = [(name, _fraction(s.auc), _fraction(s.op50), _fraction(s.op75), _fraction(s.precision),
             _fraction(s.norm_precision), _fps(s.fps)) for name, s in ordered]
    if trained and any(v is not None for v in trained.values()):
        rows = [(*row, _percent(trained.get(row[0]))) for row in rows]
        return Table(title, (*SUMMARY_COLUMNS, TRAINED_COLUMN), rows)
    return Table(title, SUMMARY_COLUMNS, rows)


def attribute_table(evaluation: Evaluation, metric: str = "auc") -> Table:
    """AUC (or ``precision``) per tracker (rows) and attribute (columns, ``ATTR (n)`` with the sequence count)."""
    attributes = evaluation.attributes()
    per_attribute = {a: evaluation.scores(a) for a in attributes}
    overall = evaluation.scores()
    header = ("Tracker", f"All ({evaluation.n_sequences()})",
              *(f"{a} ({evaluation.n_sequences(a)})" for a in attributes))
    ordered = sorted(evaluation.trackers, key=lambda t: -getattr(overall[t], metric))
    rows = [(t, _fraction(getattr(overall[t], metric)),
             *(_fraction(getattr(per_attribute[a][t], metric)) for a in attributes)) for t in ordered]
    label = "AUC" if metric == "auc" else metric.replace("_", " ").capitalize()
    return Table(f"{label} per attribute", header, rows)


def per_sequence_table(evaluation: Evaluation, states: Mapping[str, "TrackerStates"] | None = None) -> Table:
    """AUC per sequence (rows) and tracker (columns, in the experiment's order), then the rows ``mean AUC``,
    ``mean precision`` (at 20 px) and ``% frames trained`` (mean over sequences; ``-`` without state)."""
    names = evaluation.sequences.names()
    scores = evaluation.scores()
    rows = [(name, *(_fraction(evaluation.metrics[t][name].auc) for t in evaluation.trackers)) for name in names]
    rows.append(("mean AUC", *(_fraction(scores[t].auc) for t in evaluation.trackers)))
    rows.append(("mean precision", *(_fraction(scores[t].precision) for t in evaluation.trackers)))
    states = states or {}
    rows.append(("% frames trained", *(_percent(states[t].mean_trained_fraction(names) if t in states else None)
                                       for t in evaluation.trackers)))
    return Table(f"AUC per sequence ({len(names)} sequences)", ("Sequence", *evaluation.trackers), rows)


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
