"""One backbone pass per engine and numeric type: what each option would buy.

For every backbone the benchmark times the tracker's per-frame backbone pass, the
``scale_num`` search crops of ``instance_size`` pixels in one batch, with:

* ``torch fp32`` and ``torch bf16`` (autocast, NHWC): ``engine='torch'``;
* ``openvino fp32`` and ``openvino bf16``: ``engine='openvino'`` (the tracker's default on CPU);
* ``openvino int8``: the same OpenVINO model quantised after training with NNCF
  (``nncf.quantize``, mixed preset, calibrated on search crops of the benchmark sequence).
  NNCF is not a SiamOT dependency (``pip install nncf``); without it the row says so. SiamOT
  has no int8 setting: this row measures whether one would be worth its accuracy risk.

The variants run in interleaved rounds (round ``k`` times every variant once), so a busy
machine slows them alike, and the median of ``--rounds`` is printed with each variant's
relative feature error ``||f - f_fp32|| / ||f_fp32||`` against torch fp32 on a real crop and
its speed-up over OpenVINO bf16. bf16 variants are skipped where ``ltr.inference.engine``
finds no bf16 support (they would silently run in fp32).

Run ``python benchmarks/backbone_engines.py --help`` for the flags.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from typing import Any, Callable

import numpy as np
import torch

from ltr.inference.engine import InferenceBackbone, NormalizedPrefix, cpu_has_bf16, openvino_available
from ltr.models.backbone import BACKBONES, build_backbone
from pytracking_siamot.boxes import xywh_to_cxcywh
from pytracking_siamot.parameters import SiamOTParams
from pytracking_siamot.tracker.siamot.cropping import context_size, crop_square, mean_color, to_tensor_batch
from pytracking_siamot.tracker.siamot.scale_search import scale_factors
from speed import has_offline_weights, load_sequence


def search_batches(count: int, params: SiamOTParams, sequence_path: str | None) -> list[np.ndarray]:
    """``count`` batches of ``scale_num`` search crops (float32 NCHW, [0, 255]) around the ground truth
    of evenly spaced frames of the benchmark sequence, cut as the tracker cuts them."""
    sequence = load_sequence(sequence_path)
    picks = np.linspace(0, len(sequence.frames) - 1, count).round().astype(int)
    factors = scale_factors(params.scale_num, params.scale_step)
    batches = []
    for index in picks:
        image = sequence.image(int(index))
        box_cxcywh = xywh_to_cxcywh(sequence.ground_truth_rect[index])
        side = context_size(box_cxcywh[2:], params.context) * params.instance_size / params.exemplar_size
        crops = [crop_square(image, box_cxcywh[:2], side * f, params.instance_size, mean_color(image))
                 for f in factors]
        batches.append(to_tensor_batch(crops).numpy())
    return batches


def int8_runner(backbone: torch.nn.Module, calibration: list[np.ndarray], threads: int
                ) -> tuple[Callable[[np.ndarray], np.ndarray] | None, str]:
    """An OpenVINO int8 model of the whole backbone (NNCF post-training quantisation), or ``None`` and why."""
    try:
        import nncf
        import openvino as ov
    except ImportError as error:
        return None, f"not run: {error.name} is not installed (pip install nncf openvino)"
    module = NormalizedPrefix(backbone, len(backbone.features))
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = ov.convert_model(module, example_input=torch.from_numpy(calibration[0]))
        quantized = nncf.quantize(model, nncf.Dataset(calibration), subset_size=len(calibration),
                                  preset=nncf.QuantizationPreset.MIXED)
    request = ov.Core().compile_model(quantized, "CPU", {"INFERENCE_NUM_THREADS": threads,
                                                          "PERFORMANCE_HINT": "LATENCY"}).create_infer_request()
    return (lambda batch: np.array(request.infer([batch])[0], dtype=np.float32)), ""


def variants(backbone: torch.nn.Module, calibration: list[np.ndarray], threads: int
             ) -> tuple[dict[str, Callable[[np.ndarray], np.ndarray]], dict[str, str]]:
    """The runnable variants of one backbone and, for the others, why they were not run."""
    length = len(backbone.features)
    runners: dict[str, Callable[[np.ndarray], np.ndarray]] = {}
    skipped: dict[str, str] = {}
    bf16 = cpu_has_bf16()
    for engine in ("torch", "openvino"):
        for precision in ("fp32", "bf16"):
            name = f"{engine} {precision}"
            if engine == "openvino" and not openvino_available():
                skipped[name] = "not run: openvino is not installed"
                continue
            if precision == "bf16" and not bf16:
                skipped[name] = "not run: no bf16 units on this CPU"
                continue
            net = backbone.to(memory_format=torch.channels_last) if engine == "torch" else backbone
            inference = InferenceBackbone(net, length, precision, engine)
            runners[name] = lambda batch, run=inference: run(torch.from_numpy(batch)).numpy()
    if not openvino_available():
        skipped["openvino int8"] = "not run: openvino is not installed"
        return runners, skipped
    runner, why = int8_runner(backbone, calibration, threads)
    if runner is None:
        skipped["openvino int8"] = why
    else:
        runners["openvino int8"] = runner
    return runners, skipped


def benchmark(name: str, threads: int, rounds: int, calibration_count: int, sequence: str | None,
              random_init: bool) -> dict[str, Any]:
    params = SiamOTParams(backbone=name)
    pretrained = not random_init and has_offline_weights(name)
    backbone = build_backbone(name, pretrained=pretrained).eval()
    batches = search_batches(calibration_count, params, sequence)
    runners, skipped = variants(backbone, batches, threads)
    reference = runners["torch fp32"](batches[0])
    rows: dict[str, dict[str, float]] = {}
    times: dict[str, list[float]] = {key: [] for key in runners}
    for run in runners.values():  # warm-up (compilation, caches)
        run(batches[0])
    for k in range(rounds):
        batch = batches[k % len(batches)]
        for key, run in runners.items():
            start = time.perf_counter()
            run(batch)
            times[key].append(time.perf_counter() - start)
    for key, run in runners.items():
        out = run(batches[0])
        rows[key] = {"ms": 1000 * statistics.median(times[key]),
                     "error": float(np.linalg.norm(out - reference) / np.linalg.norm(reference))}
    return {"backbone": name, "weights": "ImageNet" if pretrained else "random", "rows": rows, "skipped": skipped}


def format_result(result: dict[str, Any], scale_num: int, size: int) -> str:
    rows = result["rows"]
    base = rows.get("openvino bf16", {}).get("ms")
    lines = [f"{result['backbone']} ({result['weights']} weights), one pass on {scale_num} x {size}x{size}:",
             f"  {'variant':<15} {'median ms':>10} {'rel. error':>11} {'vs OV bf16':>11}"]
    for key, row in rows.items():
        ratio = f"{base / row['ms']:.2f}x" if base else "-"
        lines.append(f"  {key:<15} {row['ms']:>10.1f} {row['error']:>11.1e} {ratio:>11}")
    for key, why in result["skipped"].items():
        lines.append(f"  {key:<15} {why}")
    return "\n".join(lines)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--backbones", nargs="+", default=["mobilenet_v2", "alexnet"], choices=sorted(BACKBONES),
                        help="backbones to time")
    parser.add_argument("--threads", type=int, default=2, help="torch and OpenVINO threads")
    parser.add_argument("--rounds", type=int, default=30, help="interleaved timing rounds (median printed)")
    parser.add_argument("--calibration", type=int, default=30,
                        help="search-crop batches from the sequence, used for int8 calibration and timing")
    parser.add_argument("--sequence", default=None,
                        help="OTB-layout sequence folder (default: ../shared/otb2013/Crossing, else synthetic)")
    parser.add_argument("--random-init", action="store_true", help="random weights even where ImageNet weights exist")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads < 1 or args.rounds < 1 or args.calibration < 1:
        print("--threads, --rounds and --calibration must be >= 1", file=sys.stderr)
        return 2
    torch.set_num_threads(args.threads)
    params = SiamOTParams()
    print(f"torch {torch.__version__}, {args.threads} threads, bf16 units: {cpu_has_bf16()}, rounds: {args.rounds}")
    for name in args.backbones:
        result = benchmark(name, args.threads, args.rounds, args.calibration, args.sequence, args.random_init)
        print(format_result(result, params.scale_num, params.instance_size), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
