"""Run SiamOT parameter variants on the OTB2013 subset in ``../shared/otb2013`` and score them.

Prints, per sequence and as the mean over sequences: AUC (success curve over 21 IoU
thresholds 0, 0.05, ..., 1, IoU strictly greater, mean of the curve), precision at 20 px
(centre ``x + (w - 1) / 2``, error <= 20), FPS (tracked frames / time in ``track``, the
first frame excluded) and the fraction of frames where online training ran.

Example::

    .venv/bin/python benchmarks/otb_subset.py --params mobilenet_v2 mobilenet_v2_baseline \
        --sequences Deer Girl --json /tmp/otb.json
"""
from __future__ import annotations

import argparse
import dataclasses
import importlib
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.boxes_io import read_boxes_txt
from evaluation.data import read_image_rgb
from pytracking_siamot.boxes import center_xy, iou_xywh
from pytracking_siamot.parameters import TrackerParams, parse_overrides
from pytracking_siamot.tracker.siamot import get_tracker_class

DEFAULT_ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "otb2013"

# target -> (image folder, ground-truth file, evaluated frames (None = all GT rows))
SEQUENCES: dict[str, tuple[str, str, int | None]] = {
    "Couple": ("Couple", "groundtruth_rect.txt", None),
    "Crossing": ("Crossing", "groundtruth_rect.txt", None),
    "Deer": ("Deer", "groundtruth_rect.txt", None),
    "Football1": ("Football1", "groundtruth_rect.txt", 74),
    "Girl": ("Girl", "groundtruth_rect.txt", None),
    "Jogging-1": ("Jogging", "groundtruth_rect.1.txt", None),
    "Jogging-2": ("Jogging", "groundtruth_rect.2.txt", None),
    "MountainBike": ("MountainBike", "groundtruth_rect.txt", None),
    "Tiger1": ("Tiger1", "groundtruth_rect.txt", 354),
}

THRESHOLDS_IOU = np.linspace(0.0, 1.0, 21)


def load_sequence(root: Path, name: str) -> tuple[list[Path], np.ndarray]:
    """Frame paths and 0-based ``xywh`` ground truth of one target."""
    folder, gt_file, n_frames = SEQUENCES[name]
    gt = read_boxes_txt(root / folder / gt_file)
    gt[:, :2] -= 1.0  # OTB is 1-based
    if n_frames is not None:
        gt = gt[:n_frames]
    frames = sorted((root / folder / "img").glob("*.jpg"))[:len(gt)]
    if len(frames) != len(gt):
        raise ValueError(f"{name}: {len(frames)} frames for {len(gt)} ground-truth rows")
    return frames, gt


def success_auc(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> float:
    iou = iou_xywh(pred_xywh, gt_xywh)
    return float(np.mean([(iou > t).mean() for t in THRESHOLDS_IOU]))


def precision_20(pred_xywh: np.ndarray, gt_xywh: np.ndarray) -> float:
    err = np.linalg.norm(center_xy(pred_xywh) - center_xy(gt_xywh), axis=1)
    return float((err <= 20.0).mean())


def load_params(name: str, overrides: dict[str, Any]) -> TrackerParams:
    module = importlib.import_module(f"parameter.siamot.{name}")
    params = module.parameters()
    # torch's thread count is this benchmark's --threads (set once), not the trackers' default.
    return TrackerParams(dataclasses.replace(params.settings, **{"torch_threads": None, **overrides}))


def run_sequence(tracker: Any, frames: list[Path], gt: np.ndarray, progress: Any) -> dict[str, Any]:
    boxes = [gt[0].copy()]
    tracker.initialize(read_image_rgb(frames[0]), {"init_bbox": gt[0].tolist()})
    track_time = 0.0
    trained = 0
    for path in frames[1:]:
        image = read_image_rgb(path)
        t0 = time.perf_counter()
        out = tracker.track(image)
        track_time += time.perf_counter() - t0
        boxes.append(np.asarray(out["target_bbox"], dtype=np.float64))
        trained += bool(out["trained"])
        progress.update(1)
    pred = np.stack(boxes)
    n = len(frames) - 1
    return {"auc": success_auc(pred, gt), "precision20": precision_20(pred, gt),
            "fps": n / track_time if track_time > 0 else float("nan"),
            "trained_fraction": trained / n if n else 0.0, "frames": len(frames)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--params", nargs="+", default=["mobilenet_v2", "mobilenet_v2_baseline"],
                        help="parameter names under parameter/siamot (e.g. mobilenet_v2 efficientnet_lite0_baseline)")
    parser.add_argument("--sequences", nargs="+", default=list(SEQUENCES), choices=list(SEQUENCES), metavar="SEQ",
                        help=f"targets to run (default: all nine: {', '.join(SEQUENCES)})")
    parser.add_argument("--root", type=Path, default=DEFAULT_ROOT,
                        help="the OTB2013 subset folder (default: ../shared/otb2013 beside the repository)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="override SiamOTParams fields for every variant, values as JSON "
                             "(e.g. learning_rate=0.001 normalization=shift exemplar_centering=false)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (default 2)")
    parser.add_argument("--json", type=Path, default=None, help="also write all results to this JSON file")
    args = parser.parse_args(argv)
    try:
        import torch
        from tqdm import tqdm

        torch.set_num_threads(args.threads)
        if not args.root.is_dir():
            raise FileNotFoundError(f"OTB2013 subset not found at {args.root} (use --root)")
        overrides = parse_overrides(args.set)
        data = {name: load_sequence(args.root, name) for name in args.sequences}
        total = sum(len(f) - 1 for f, _ in data.values()) * len(args.params)
        results: dict[str, dict[str, Any]] = {}
        with tqdm(total=total, unit="frame", file=sys.stderr) as progress:
            for param_name in args.params:
                tracker = get_tracker_class()(load_params(param_name, overrides))
                results[param_name] = {}
                for seq_name, (frames, gt) in data.items():
                    progress.set_description(f"{param_name} {seq_name}")
                    results[param_name][seq_name] = run_sequence(tracker, frames, gt, progress)
        print_table(results, args.sequences)
        if args.json is not None:
            args.json.write_text(json.dumps({"overrides": overrides, "results": results}, indent=2))
    except Exception as exc:  # one clear line and a non-zero exit for any failure
        print(f"otb_subset: error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1
    return 0


def print_table(results: dict[str, dict[str, dict[str, Any]]], sequences: list[str]) -> None:
    keys = ("auc", "precision20", "fps", "trained_fraction")
    for param_name, per_seq in results.items():
        print(f"\n{param_name}")
        print(f"  {'sequence':<14}{'AUC':>8}{'Prec@20':>9}{'FPS':>8}{'trained':>9}")
        for seq in sequences:
            r = per_seq[seq]
            print(f"  {seq:<14}{r['auc']:>8.3f}{r['precision20']:>9.3f}{r['fps']:>8.1f}{r['trained_fraction']:>9.2f}")
        mean = {k: float(np.mean([per_seq[s][k] for s in sequences])) for k in keys}
        per_seq["mean"] = mean
        print(f"  {'mean':<14}{mean['auc']:>8.3f}{mean['precision20']:>9.3f}{mean['fps']:>8.1f}"
              f"{mean['trained_fraction']:>9.2f}")


if __name__ == "__main__":
    raise SystemExit(main())
