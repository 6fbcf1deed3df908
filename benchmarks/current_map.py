"""The adapter's per-frame R_c work, replayed: its cost per frame, against a git revision's, interleaved.

Every frame the default online method (``AdapterMethod``) shifts the adapted map to the found
position, correlates the first frame's un-adapted ``Zf`` with the chosen crop's features, shifts
that map too, judges it (``ConfidenceState.assess``: peak, PSR, JCPP, KL loss, APCE) and moves
``R_t`` on confident frames: the ``siamot.current_map`` stage of ``speed.py``. This script tracks
one sequence (``speed.py``'s: ``../shared/otb2013/Crossing`` when present, else its synthetic
sequence) once, records what that work sees on each frame, then replays it ``--repeat`` times with
the current ``functions.py`` / ``confidence.py`` / ``siamfc.py`` and, with ``--before REV``, with
those of git revision ``REV``, the two interleaved in alternating order. Printed per backbone: the
median ms per frame of each, the median paired ratio, and whether both gave the same maps,
assessments and ``R_t`` bit for bit on every frame.

    python benchmarks/current_map.py --backbones mobilenet_v2 alexnet --before 2d142de --repeat 9
"""
from __future__ import annotations

import argparse
import importlib
import math
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
import speed
import training_event
from pytracking_siamot.online import adapter
from pytracking_siamot.online import confidence as confidence_module
from pytracking_siamot.online import functions as functions_module

siamfc_module = importlib.import_module("ltr.models.tracking.siamfc")  # the package exports a function of that name


def recorded_frames(backbone: str, precision: str, sequence_path: str | None) -> dict[str, Any]:
    """Track the sequence with ``backbone``'s default; per frame what the R_c work reads: the chosen
    scale's response (R, R) and features (1, C, H, W), the found displacement in cells, and the
    first frame's template map, settings and head (border crop, centering, scale)."""
    sequence = speed.load_sequence(sequence_path)
    frames = [cv2.cvtColor(cv2.imread(f), cv2.COLOR_BGR2RGB) for f in sequence.frames]
    tracker = speed.build_tracker(backbone, True, "cpu", precision=precision)
    if not isinstance(tracker.method, adapter.AdapterMethod):
        raise speed.BenchmarkError(f"{backbone}'s default online method is not the adapter")
    record: dict[str, Any] = {"frames": [], "settings": tracker.params.settings, "name": sequence.name,
                              "head": (tracker.net.border_crop, tracker.net.center_exemplar, tracker.net.out_scale)}
    method = tracker.method
    update, start = method._update, method.start

    def starting(first):
        record["template_map"] = first.template_map.clone()
        return start(first)

    def updating(frame):
        i = frame.scale_index
        record.setdefault("exemplar_features", method.trainer.base_features.clone())  # the un-adapted Zf
        record["frames"].append((frame.responses[i, 0].clone(), frame.search_features[i:i + 1].clone(),
                                 (float(frame.displacement_cells[0]), float(frame.displacement_cells[1]))))
        return update(frame)

    method.start, method._update = starting, updating
    speed.run_frames(tracker, sequence, frames, "cpu")
    record["details"] = tracker.run_details()
    return record


def replay_pass(record: dict[str, Any], functions: Any, confidence: Any, siamfc: Any) -> tuple[float, list]:
    """One pass of the R_c work over the recorded frames with the given modules: (seconds, per frame
    the adapted shifted map, the first-frame map, the assessment and ``R_t`` after the frame)."""
    crop, center, scale = record["head"]
    net = siamfc.SiamFC(nn.Identity(), out_scale=scale, center_exemplar=center, border_crop=crop,
                        correlation="matmul")
    state = confidence.ConfidenceState(record["settings"])
    state.reset(record["template_map"])
    base = record["exemplar_features"]
    spent, out = 0.0, []
    for response, features, cells in record["frames"]:
        start = time.perf_counter()
        adapted = functions.shift_map(response, cells)
        with torch.no_grad():
            base_map = net.score(base, features)[0, 0]
        assessment = state.assess(functions.shift_map(base_map, cells))
        state.update_template(assessment, adapted)
        spent += time.perf_counter() - start
        out.append((adapted, base_map, assessment, state.template_map))
    return spent, out


def same_results(a: list, b: list) -> bool:
    """Whether two passes gave the same maps, assessments and ``R_t`` bit for bit (NaN equals NaN)."""
    def equal(x: float, y: float) -> bool:
        return x == y or (math.isnan(x) and math.isnan(y))

    return len(a) == len(b) and all(
        torch.equal(m0, m1) and torch.equal(b0, b1) and torch.equal(t0, t1)
        and all(equal(x, y) for x, y in zip(vars(s0).values(), vars(s1).values()))
        for (m0, b0, s0, t0), (m1, b1, s1, t1) in zip(a, b))


def run(backbone: str, precision: str, before: str | None, repeats: int, sequence_path: str | None) -> str:
    """Record one backbone's frames and replay the variants; the printed lines."""
    record = recorded_frames(backbone, precision, sequence_path)
    variants = {"now": (functions_module, confidence_module, siamfc_module)}
    if before is not None:
        functions = training_event.module_at(before, "pytracking_siamot/online/functions.py")
        confidence = training_event.module_at(before, "pytracking_siamot/online/confidence.py")
        confidence.fn = functions  # its equations as of that revision too
        variants = {f"before {before}": (functions, confidence,
                                         training_event.module_at(before, "ltr/models/tracking/siamfc.py")),
                    **variants}
    names = list(variants)
    times: dict[str, list[float]] = {name: [] for name in names}
    results: dict[str, list] = {}
    for r in range(repeats):
        for name in names if r % 2 == 0 else names[::-1]:
            spent, results[name] = replay_pass(record, *variants[name])
            times[name].append(spent)
    count = len(record["frames"])
    first = names[0]
    lines = [f"{backbone} ({record['details']['precision']} backbone), {record['name']}, {count} frames, "
             f"{repeats} repeats, {torch.get_num_threads()} torch threads, CPU: {speed.cpu_line()}", speed.code_line()]
    for name in names:
        ratio = statistics.median(b / a for a, b in zip(times[first], times[name]))
        lines.append(f"  {name:<18} {1e3 * statistics.median(times[name]) / count:6.3f} ms per frame; /{first}: "
                     f"{ratio:.2f}; maps, assessments and R_t as {first}: {same_results(results[first], results[name])}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    return training_event.replay_parser(__doc__, "also replay with functions.py, confidence.py and siamfc.py of "
                                                 "this git revision, as the first variant", 9)


def main(argv: list[str] | None = None) -> int:
    return training_event.replay_main(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
