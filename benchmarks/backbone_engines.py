"""One backbone pass per engine and numeric type: what each option would buy.

For every backbone the benchmark times the tracker's per-frame backbone pass, the
``scale_num`` search crops of ``instance_size`` pixels in one batch, with:

* ``torch fp32`` and ``torch bf16`` (autocast, NHWC): ``engine='torch'``;
* ``openvino fp32`` and ``openvino bf16``: ``engine='openvino'`` (the tracker's default on CPU);
* ``openvino int8``: ``precision='int8'``, the tracker's own int8 model (NNCF post-training
  quantisation calibrated on ``ltr.inference.calibration``'s crops, from the disk cache of
  ``ltr.inference.openvino_models``, quantised on first use). Without ``nncf`` the row says so.

The variants run in interleaved rounds (round ``k`` times every variant once), so a busy
machine slows them alike, and the median of ``--rounds`` is printed with each variant's
relative feature error ``||f - f_fp32|| / ||f_fp32||`` and cosine similarity against torch fp32
on a real crop, its speed-up over OpenVINO fp32 and bf16, and, for OpenVINO, the kernels its
convolutions ran (the CPU plugin's ``primitiveType``, most frequent first: instruction set and
numeric type). bf16 variants are skipped where ``ltr.inference.engine`` finds no bf16 support
(they would silently run in fp32).

``--max-isa`` emulates an older CPU: it sets oneDNN's ``ONEDNN_MAX_CPU_ISA`` (e.g. ``AVX2``,
``AVX2_VNNI``, ``AVX512_CORE_VNNI``, ``AVX512_CORE_BF16``) before anything runs. torch's oneDNN
honours it and so do the oneDNN kernels of OpenVINO's CPU plugin (the kernels column shows what
ran); the plugin's own JIT code and the cache and core count of this CPU are not emulated, so the
figures are relative ones: int8 against float on the same emulated instruction set.

Run ``python benchmarks/backbone_engines.py --help`` for the flags.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
from ltr.inference import engine as engine_module
from ltr.inference.engine import InferenceBackbone, cpu_has_bf16, int8_cpu_class, nncf_available, openvino_available
from ltr.inference.openvino_models import kernel_types
from ltr.models.backbone import BACKBONES, build_backbone
from pytracking_siamot.boxes import xywh_to_cxcywh
from pytracking_siamot.parameters import SiamOTParams
from pytracking_siamot.tracker.siamot.cropping import context_size, crop_square, mean_color, to_tensor_batch
from pytracking_siamot.tracker.siamot.scale_search import scale_factors
from speed import code_line, cpu_line, has_offline_weights, load_sequence


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


def variants(backbone: torch.nn.Module, threads: int, max_isa: str | None
             ) -> tuple[dict[str, InferenceBackbone], dict[str, str]]:
    """The runnable variants of one backbone and, for the others, why they were not run."""
    length = len(backbone.features)
    runners: dict[str, InferenceBackbone] = {}
    skipped: dict[str, str] = {}
    bf16 = cpu_has_bf16()  # under the cap main() set, as the engine counts units (engine.usable_cpu_flags)
    for engine in ("torch", "openvino"):
        for precision in ("fp32", "bf16", "int8"):
            name = f"{engine} {precision}"
            if engine == "torch" and precision == "int8":
                continue
            if engine == "openvino" and not openvino_available():
                skipped[name] = "not run: openvino is not installed"
                continue
            if precision == "bf16" and not bf16:
                skipped[name] = f"not run: no bf16 units {'under --max-isa' if max_isa else 'on this CPU'}"
                continue
            if precision == "int8" and not nncf_available():
                skipped[name] = "not run: nncf is not installed (pip install nncf)"
                continue
            net = backbone.to(memory_format=torch.channels_last) if engine == "torch" else backbone
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # "quantising ... (once)"
                runners[name] = InferenceBackbone(net, length, precision, engine)
    return runners, skipped


def _kernels(runner: InferenceBackbone, shape: tuple[int, ...]) -> str:
    """The most frequent convolution kernels of ``runner``'s compiled model for ``shape`` (OpenVINO only)."""
    if runner.engine != "openvino":
        return ""
    for key, request in engine_module._compiled.items():
        if key[0] == runner._fingerprint and key[2] == shape and key[3] == runner.precision:
            counts = kernel_types(request)
            return " ".join(f"{name}:{n}" for name, n in sorted(counts.items(), key=lambda kv: -kv[1])[:3])
    return ""


def benchmark(name: str, threads: int, rounds: int, batch_count: int, sequence: str | None,
              random_init: bool, max_isa: str | None = None) -> dict[str, Any]:
    params = SiamOTParams(backbone=name)
    pretrained = not random_init and has_offline_weights(name)
    backbone = build_backbone(name, pretrained=pretrained).eval()
    batches = [torch.from_numpy(b) for b in search_batches(batch_count, params, sequence)]
    runners, skipped = variants(backbone, threads, max_isa)
    reference = runners["torch fp32"](batches[0]).numpy().reshape(-1)
    rows: dict[str, dict[str, Any]] = {}
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
        out = run(batches[0]).numpy().reshape(-1)
        rows[key] = {"ms": 1000 * statistics.median(times[key]),
                     "error": float(np.linalg.norm(out - reference) / np.linalg.norm(reference)),
                     "cosine": float(out @ reference / (np.linalg.norm(out) * np.linalg.norm(reference))),
                     "kernels": _kernels(run, tuple(batches[0].shape))}
    return {"backbone": name, "weights": "ImageNet" if pretrained else "random", "rows": rows, "skipped": skipped}


def format_result(result: dict[str, Any], scale_num: int, size: int) -> str:
    rows = result["rows"]
    fp32 = rows.get("openvino fp32", {}).get("ms")
    bf16 = rows.get("openvino bf16", {}).get("ms")
    lines = [f"{result['backbone']} ({result['weights']} weights), one pass on {scale_num} x {size}x{size}:",
             f"  {'variant':<15} {'median ms':>10} {'rel. error':>11} {'cosine':>8} {'vs OV fp32':>11} "
             f"{'vs OV bf16':>11}  kernels (convolutions)"]
    for key, row in rows.items():
        to_fp32 = f"{fp32 / row['ms']:.2f}x" if fp32 else "-"
        to_bf16 = f"{bf16 / row['ms']:.2f}x" if bf16 else "-"
        lines.append(f"  {key:<15} {row['ms']:>10.1f} {row['error']:>11.1e} {row['cosine']:>8.4f} {to_fp32:>11} "
                     f"{to_bf16:>11}  {row['kernels']}")
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
    parser.add_argument("--batches", type=int, default=30,
                        help="search-crop batches cut from the sequence, timed in turn")
    parser.add_argument("--sequence", default=None,
                        help="OTB-layout sequence folder (default: ../shared/otb2013/Crossing, else synthetic)")
    parser.add_argument("--random-init", action="store_true", help="random weights even where ImageNet weights exist")
    parser.add_argument("--max-isa", default=None,
                        help="emulate an older CPU: oneDNN's ONEDNN_MAX_CPU_ISA for torch and OpenVINO's CPU plugin "
                             "(e.g. AVX2, AVX2_VNNI, AVX512_CORE_VNNI, AVX512_CORE_BF16)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.threads < 1 or args.rounds < 1 or args.batches < 1:
        print("--threads, --rounds and --batches must be >= 1", file=sys.stderr)
        return 2
    if args.max_isa:
        os.environ["ONEDNN_MAX_CPU_ISA"] = args.max_isa.upper()  # read by oneDNN when it first dispatches
    torch.set_num_threads(args.threads)
    params = SiamOTParams()
    print(f"{cpu_line()}; int8 class: {int8_cpu_class()}")
    print(code_line())
    print(f"torch {torch.__version__}, {args.threads} threads, bf16 units: {cpu_has_bf16()}, rounds: {args.rounds}, "
          f"ONEDNN_MAX_CPU_ISA: {os.environ.get('ONEDNN_MAX_CPU_ISA', 'not set (all of this CPU)')}")
    for name in args.backbones:
        result = benchmark(name, args.threads, args.rounds, args.batches, args.sequence, args.random_init,
                           args.max_isa)
        print(format_result(result, params.scale_num, params.instance_size), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
