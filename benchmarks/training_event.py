"""The adapter's training events, replayed: their cost per variant, measured interleaved.

A busy machine slows whole tracking passes unevenly, so comparing passes tells little about a
training event that costs a few percent of them. This script tracks one sequence (``speed.py``'s:
``../shared/otb2013/Crossing`` when present, else its synthetic sequence) once per variant,
keeps a copy of the trainer before every training call (``AdapterTrainer.train``), then replays
each variant's calls from those copies, the variants interleaved in rotating order, ``--repeat``
times. Printed per variant: the calls, those that took a step (Eq. 5's floor stops the others),
the median over the repeats of all calls' summed time, of the stepping calls' per stepping call and
of the others' per other call, and the median ratio of each variant's sum to the first variant's
(paired by repeat).

Variants: ``fp32`` and ``bf16`` (the training products in float32 or bfloat16,
``AdapterTrainer.bfloat16_products``), and with ``--before REV`` the training event of git revision
``REV`` (its ``pytracking_siamot/online/adapter.py`` and ``linear.py``, and the
``ExemplarRegionScores`` of its ``ltr/models/tracking/siamfc.py``), first. The backbone runs in
``--precision``; every variant sees its own trajectory (bf16 products may change it), so the
boxes' identity with the first variant is printed too.

    python benchmarks/training_event.py --backbones mobilenet_v2 alexnet --before 30cfc6f --repeat 7
"""
from __future__ import annotations

import argparse
import copy
import importlib.util
import statistics
import subprocess
import sys
import tempfile
import time
import types
from pathlib import Path
from typing import Any

import cv2
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
import speed
from pytracking_siamot.online import adapter

REPO_ROOT = Path(__file__).resolve().parents[1]


def module_at(revision: str, path: str) -> Any:
    """The Python file ``path`` (relative to the repository) as of git ``revision``, imported as its own
    module (named after the file and the revision) beside the current one.

    Raises:
        speed.BenchmarkError: git cannot show the file at that revision.
    """
    shown = subprocess.run(["git", "show", f"{revision}:{path}"], cwd=REPO_ROOT, capture_output=True, text=True)
    if shown.returncode != 0:
        raise speed.BenchmarkError(f"no {path} at git revision '{revision}': {shown.stderr.strip()}")
    folder = Path(tempfile.mkdtemp(prefix="module_before_"))
    stem = Path(path).stem
    name = f"{stem}_before_{revision.replace('/', '_').replace('~', '_').replace('^', '_')}"
    (folder / f"{name}.py").write_text(shown.stdout)
    spec = importlib.util.spec_from_file_location(name, folder / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def adapter_module_at(revision: str) -> Any:
    """``pytracking_siamot/online/adapter.py`` as of git ``revision``, imported as its own module (with
    the current ``linear.py``); see :func:`method_at` for the whole training event of a revision."""
    return module_at(revision, "pytracking_siamot/online/adapter.py")


def method_at(revision: str, network: Any, settings: Any) -> Any:
    """An ``AdapterMethod`` whose training event is git ``revision``'s: its ``adapter.py``, with that
    revision's ``linear.py`` (``RegionMemory``, the closed-form gradients) and its
    ``ExemplarRegionScores`` (``ltr/models/tracking/siamfc.py``: storing a sample, the two products)
    on ``network``'s SiamFC. The tracker around it stays the current one.

    Raises:
        speed.BenchmarkError: git cannot show one of the files at that revision.
    """
    module = adapter_module_at(revision)
    linear = module_at(revision, "pytracking_siamot/online/linear.py")
    siamfc = module_at(revision, "ltr/models/tracking/siamfc.py")
    for name in ("RegionMemory", "kl_gradient", "negatives_gradient"):
        if hasattr(module, name) and hasattr(linear, name):
            setattr(module, name, getattr(linear, name))
    method = module.AdapterMethod(network, settings)
    method.trainer.region_scores = types.MethodType(siamfc.SiamFC.exemplar_region_scores, network.net)
    return method


def captured_calls(tracker: Any, method: Any, sequence: Any, frames: list) -> tuple[list, list]:
    """Track ``frames`` with ``method`` as the tracker's online method; returns a copy of the trainer
    with the arguments before each training call, and the boxes."""
    tracker.method = method
    trainer_class = type(method.trainer)
    train = trainer_class.train
    calls: list = []

    def keeping(trainer, temperature, floor=0.0):
        calls.append((copy.deepcopy(trainer), temperature, floor))
        return train(trainer, temperature, floor)

    trainer_class.train = keeping
    try:
        boxes = speed.run_frames(tracker, sequence, frames, "cpu").boxes_xywh
    finally:
        trainer_class.train = train
    return calls, boxes


def replay(calls: dict[str, list], repeats: int) -> dict[str, list[list[float]]]:
    """Per variant and repeat, the time (s) of each of its calls replayed from a copy; the variants
    interleaved in rotating order."""
    names = list(calls)
    times: dict[str, list[list[float]]] = {name: [] for name in names}
    for r in range(repeats):
        for name in names[r % len(names):] + names[:r % len(names)]:
            copies = [(copy.deepcopy(trainer), t, f) for trainer, t, f in calls[name]]
            spent = []
            for trainer, t, f in copies:
                start = time.perf_counter()
                trainer.train(t, f)
                spent.append(time.perf_counter() - start)
            times[name].append(spent)
    return times


def run(backbone: str, precision: str, before: str | None, repeats: int, sequence_path: str | None) -> str:
    """Capture and replay one backbone's training calls; the printed table."""
    sequence = speed.load_sequence(sequence_path)
    frames = [cv2.cvtColor(cv2.imread(f), cv2.COLOR_BGR2RGB) for f in sequence.frames]
    tracker = speed.build_tracker(backbone, True, "cpu", precision=precision)
    settings = tracker.params.settings
    methods: dict[str, Any] = {}
    if before is not None:
        methods[f"before {before}"] = method_at(before, tracker.network, settings)
    for name, bf16 in (("fp32", False), ("bf16", True)):
        methods[name] = adapter.AdapterMethod(tracker.network, settings)
        methods[name].trainer.bfloat16_products = bf16
    calls, boxes = {}, {}
    for name, method in methods.items():
        calls[name], boxes[name] = captured_calls(tracker, method, sequence, frames)
    steps = {name: [len(copy.deepcopy(tr).train(t, f)) > 1 for tr, t, f in c] for name, c in calls.items()}
    times = replay(calls, repeats)
    totals = {name: [sum(spent) for spent in per_repeat] for name, per_repeat in times.items()}
    first = next(iter(methods))
    lines = [f"{backbone} ({tracker.run_details()['precision']} backbone), {sequence.name}, {repeats} repeats, "
             f"{torch.get_num_threads()} torch threads, CPU: {speed.cpu_line()}", speed.code_line()]
    for name in methods:
        total = statistics.median(totals[name])
        count, stepped = len(calls[name]), sum(steps[name])

        def share(stepping: bool, name=name) -> float:
            return statistics.median(sum(s for s, k in zip(spent, steps[name]) if k == stepping)
                                     for spent in times[name])

        ratio = statistics.median(b / a for a, b in zip(totals[first], totals[name]))
        lines.append(f"  {name:<18} {count:>3} calls, {stepped:>3} stepped: {1e3 * total:8.1f} ms in all "
                     f"({1e3 * share(True) / max(stepped, 1):5.1f} per stepping call, "
                     f"{1e3 * share(False) / max(count - stepped, 1):5.1f} per other); /{first}: {ratio:.2f}; "
                     f"boxes as {first}: {boxes[name] == boxes[first]}")
    return "\n".join(lines)


def replay_parser(doc: str, before_help: str, repeat: int) -> argparse.ArgumentParser:
    """The flags of a replay benchmark (this one, ``current_map.py``): ``--backbones``, ``--precision``,
    ``--before REV`` (``before_help`` says what of that revision is replayed), ``--repeat`` (default
    ``repeat``), ``--threads``, ``--sequence``; ``doc`` is the script's docstring."""
    parser = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter, epilog=doc)
    parser.add_argument("--backbones", nargs="+", default=["mobilenet_v2"], choices=speed.BACKBONE_NAMES,
                        help="backbones to measure, one after the other (default: mobilenet_v2)")
    parser.add_argument("--precision", default="auto", choices=["auto", "fp32", "bf16", "int8"],
                        help="the backbone's precision (SiamOTParams.precision; default auto)")
    parser.add_argument("--before", default=None, metavar="REV", help=before_help)
    parser.add_argument("--repeat", type=int, default=repeat, metavar="N",
                        help=f"replays of every variant (default {repeat})")
    parser.add_argument("--threads", type=int, default=1, metavar="T", help="torch threads (default 1)")
    parser.add_argument("--sequence", default=None, metavar="PATH",
                        help="an OTB-layout sequence folder (default: speed.py's sequence)")
    return parser


def replay_main(run_one, parser: argparse.ArgumentParser, argv: list[str] | None) -> int:
    """Parse ``argv`` with ``parser`` (:func:`replay_parser`) and print ``run_one(backbone, precision,
    before, repeats, sequence)`` per backbone; exit code 2 with one line on a bad input."""
    args = parser.parse_args(argv)
    if args.repeat < 1:
        print("error: --repeat must be at least 1", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    try:
        for backbone in args.backbones:
            print(run_one(backbone, args.precision, args.before, args.repeat, args.sequence), flush=True)
    except speed.BenchmarkError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    return replay_parser(__doc__, "also replay the training event (adapter.py, linear.py, siamfc.py) of this git "
                                  "revision, as the first variant", 5)


def main(argv: list[str] | None = None) -> int:
    return replay_main(run, build_parser(), argv)


if __name__ == "__main__":
    sys.exit(main())
