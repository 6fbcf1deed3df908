"""Report tables: the summary (AUC, OP50, OP75, Precision, Norm. precision, FPS) and per-attribute AUC.

Scores are shown as fractions with 3 decimals (the OTB convention: SiamFC-3s AUC 0.607); FPS with one
decimal, ``-`` when the tracker has no timing. Rows are sorted by AUC, best first.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from evaluation.analysis.evaluate import Evaluation
from evaluation.analysis.metrics import Scores

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


def summary_table(scores: dict[str, Scores], title: str) -> Table:
    """One row per tracker, sorted by AUC (best first)."""
    ordered = sorted(scores.items(), key=lambda item: -item[1].auc)
    rows = [(name, _fraction(s.auc), _fraction(s.op50), _fraction(s.op75), _fraction(s.precision),
             _fraction(s.norm_precision), _fps(s.fps)) for name, s in ordered]
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
