"""The paper's Table 1: FPS without / with online training per backbone, and whether each is real time.

Our FPS are the analysis' (frames / summed per-frame tracking time that the runners recorded, see
:mod:`evaluation.analysis.evaluate`), so the table needs no extra run. A backbone is a pair of live
trackers that a :class:`evaluation.sources.Pairing` pairs (a baseline and its backbone's default,
``mobilenet_v2_baseline`` / ``mobilenet_v2``, owned by ``pytracking_siamot.variants``). This module owns
the paper's own figures (:data:`PAPER_FPS`, GTX TITAN X), which ``benchmarks/speed.py`` prints too.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping

from evaluation.analysis.metrics import Scores
from evaluation.analysis.tables import Table
from evaluation.sources import Pairing
from pytracking_siamot.variants import BACKBONE_LABELS

#: Paper, Table 1 (GTX TITAN X): FPS without / with online training, by backbone parameter name, in
#: the paper's row order.
PAPER_FPS: dict[str, tuple[float, float]] = {
    "alexnet": (121.0, 103.0),
    "inception_v3": (100.0, 84.0),
    "resnet34": (93.0, 81.0),
    "vgg19": (67.0, 59.0),
}

#: "Real time" in the paper: strictly more than this many frames per second.
REAL_TIME_FPS = 25.0


@dataclass(frozen=True)
class SpeedRow:
    """One backbone: our FPS without / with online training (None: not run or no times), the paper's."""

    backbone: str
    label: str
    fps_without: float | None
    fps_with: float | None
    paper_without: float | None = None
    paper_with: float | None = None


def is_real_time(fps: float | None) -> bool | None:
    """``fps > 25`` (the paper's criterion); None when the FPS is unknown."""
    return None if fps is None else fps > REAL_TIME_FPS


def _common_label(online: str, baseline: str, fallback: str) -> str:
    """``SiamOT-MobileNetV2`` / ``SiamFC-MobileNetV2`` -> ``MobileNetV2`` (their common suffix)."""
    n = 0
    while n < min(len(online), len(baseline)) and online[-1 - n] == baseline[-1 - n]:
        n += 1
    suffix = online[len(online) - n:].lstrip(" -_:")
    return suffix or fallback


def speed_rows(pairings: Mapping[str, Pairing], scores: Mapping[str, Scores], paper: bool = False) -> list[SpeedRow]:
    """Rows of Table 1 from the report's pairings (display name -> :class:`~evaluation.sources.Pairing`,
    ``evaluation.analysis.evaluate.pairings``) and the analysis' scores by display name.

    Only groups with a baseline and a tracker with online training are backbones (a lone tracker has
    nothing to compare).
    With ``paper``, each row also gets the paper's TITAN X figures, and the paper's backbones we did
    not run are added after ours (our cells empty).

    Raises:
        ValueError: no backbone pair among the trackers and ``paper`` is False.
    """
    groups: dict[str, dict[str, tuple[str, Pairing]]] = {}
    for name, pairing in pairings.items():
        mode = "without" if pairing.baseline else "with"
        groups.setdefault(pairing.group, {}).setdefault(mode, (name, pairing))
    rows = []
    for members in groups.values():
        if "without" not in members or "with" not in members:
            continue
        (online_name, online), (baseline_name, _) = members["with"], members["without"]
        backbone = online.backbone or online.group
        paper_fps = PAPER_FPS.get(backbone, (None, None)) if paper else (None, None)
        rows.append(SpeedRow(backbone, _common_label(online_name, baseline_name, backbone),
                             scores[baseline_name].fps, scores[online_name].fps, *paper_fps))
    if paper:
        ours = {r.backbone for r in rows}
        rows += [SpeedRow(b, BACKBONE_LABELS.get(b, b), None, None, *PAPER_FPS[b]) for b in PAPER_FPS if b not in ours]
    if not rows:
        names = ", ".join(pairings)
        raise ValueError(f"Table 1 needs <backbone> / <backbone>_baseline tracker pairs; none among {names}")
    return rows


#: A cell with no value (not run, no times, not in the paper).
MISSING = "--"


def _fps(value: float | None) -> str:
    """Our measured FPS, with one decimal."""
    return MISSING if value is None else f"{value:.1f}"


def _paper_fps(value: float | None) -> str:
    """The paper's FPS as the paper prints them: whole numbers without a ``.0``."""
    if value is None:
        return MISSING
    return f"{value:.0f}" if float(value).is_integer() else f"{value:g}"


def _yes_no(value: float | None) -> str:
    real_time = is_real_time(value)
    return MISSING if real_time is None else ("yes" if real_time else "no")


def speed_table(rows: list[SpeedRow], title: str) -> Table:
    """Table 1 as a :class:`Table` (Markdown, CSV, text); the paper's columns when any row has them."""
    paper = any(r.paper_without is not None for r in rows)
    header = ["Backbone", "FPS without OT", "Real time without OT", "FPS with OT", "Real time with OT"]
    if paper:
        header += ["Paper FPS without OT (TITAN X)", "Paper FPS with OT (TITAN X)"]
    body = []
    for r in rows:
        cells = [r.label, _fps(r.fps_without), _yes_no(r.fps_without), _fps(r.fps_with), _yes_no(r.fps_with)]
        if paper:
            cells += [_paper_fps(r.paper_without), _paper_fps(r.paper_with)]
        body.append(tuple(cells))
    return Table(title, tuple(header), body)


def speed_table_latex(rows: list[SpeedRow], caption_note: str = "") -> str:
    r"""Table 1 as a compact booktabs ``tabular`` (``\usepackage{booktabs}``) that fits one column of a
    two-column paper: without / with online training (OT), each FPS and real time (RT, > 25 FPS); the
    paper's FPS (GTX TITAN X) as a third group (``--paper-fps``; the columns then sit closer).
    Missing cells read ``--``. ``caption_note`` (where the FPS come from) is written as the file's
    suggested caption text."""
    from evaluation.analysis.plots import latex_escape

    paper = any(r.paper_without is not None for r in rows)
    columns = "@{}l" + "rc" * 2 + ("rr" if paper else "") + "@{}"
    groups = [r"\multicolumn{2}{c}{Without OT}", r"\multicolumn{2}{c}{With OT}"]
    rules = [r"\cmidrule(lr){2-3}", r"\cmidrule(lr){4-5}"]
    sub = ["FPS", "RT", "FPS", "RT"]
    if paper:
        groups.append(r"\multicolumn{2}{c}{Paper}")
        rules.append(r"\cmidrule(l){6-7}")
        sub += ["w/o OT", "OT"]
    note = " ".join(caption_note.split())
    caption = ("FPS without / with online training (OT); RT: real time, more than 25 FPS"
               + ("; Paper: the paper's FPS on a GTX TITAN X" if paper else "") + (f"; {note}" if note else "") + ".")
    lines = [r"% Table 1: FPS without / with online training per backbone.",
             r"% Needs in the preamble: \usepackage{booktabs}",
             "% Fits one column of a two-column paper (\\begin{table}).",
             f"% Suggested caption: {caption}"]
    if paper:
        # Seven columns fit a column only closer together (local to the table environment).
        lines.append(r"\setlength{\tabcolsep}{3pt}%")
    lines += [rf"\begin{{tabular}}{{{columns}}}", r"\toprule",
             " & ".join([""] + groups) + r" \\", " ".join(rules),
             " & ".join(["Backbone"] + sub) + r" \\", r"\midrule"]
    for r in rows:
        cells = [latex_escape(r.label), _fps(r.fps_without), _yes_no(r.fps_without), _fps(r.fps_with),
                 _yes_no(r.fps_with)]
        if paper:
            cells += [_paper_fps(r.paper_without), _paper_fps(r.paper_with)]
        lines.append(" & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}"]
    return "\n".join(lines) + "\n"
