"""Speed benchmark of the SiamOT tracker against the machine's own limit.

For every backbone, with and without online training, the tracker runs one fixed sequence
(``../shared/otb2013/Crossing`` when present, else a deterministic sequence of the toolkit's
synthetic generator, :data:`SYNTHETIC_SPEC`) and the benchmark prints, and writes as JSON with ``--json``:

* FPS: the median per-frame rate after ``--warmup`` frames (the paper's kind of figure) and
  the mean rate (frames / total time, which includes every training event), their ratio
  (``mean/med``: how much the training events cost beyond a typical frame), plus the ratio
  with / without online training for both; in the JSON also the 95th percentile and the slowest
  frame's time (``frame_ms_p95``, ``frame_ms_max``: the latency spikes of training events, which
  ``--set adapter_steps_per_frame=K`` spreads over frames);
* milliseconds per stage from the tracker's ``torch.profiler.record_function`` labels
  (``siamot.crop``, ``siamot.backbone``, ``siamot.xcorr``, ``siamot.upsample_peak``,
  ``siamot.current_map`` (only with ``current_map=shifted``), ``siamot.online_train``), per
  frame, the online training also per trained frame (``/event``) and per call (``/call``, every
  training event, also those that Eq. 5's floor ends before a step; ``calls``), the Python overhead (frame time minus
  the labelled stages) and the fraction of the frame spent outside the network (crop,
  upsampling/peak search, the shifted ``R_c`` and the Python overhead);
* FLOPs of one inference frame, of one training event and of ``initialize``
  (``torch.utils.flop_counter.FlopCounterMode``, counted on a float32 torch copy of the
  configuration: an inference engine's FLOPs are invisible to torch), the achieved GFLOP/s and
  its fraction of a plain float32 matmul and of a bfloat16 matmul, both measured in the same
  run on the same device (with bf16 units the bf16 matmul is the machine's real limit; without
  them it is not measured: emulated bf16 is no limit and takes minutes);
* the precision and engine the backbone ran with (``SiamOTParams.precision`` / ``engine``,
  ``ltr.inference.engine``);
* a NanoTrack row: OpenCV's ``cv2.TrackerNano`` on the same decoded frames (its ONNX files
  from the settings ``nanotrack_backbone``/``nanotrack_head`` or ``../shared/models``), and
  each SiamOT row's median FPS as a ratio to it (``/nano``);
* peak memory (resident set size of the process; ``torch.cuda.max_memory_allocated`` on a GPU);
* how often online training fired.

``--precisions fp32 bf16 int8`` runs every configuration once per numeric type of the backbone
(``SiamOTParams.precision``; int8 needs ``nncf``), and ``--repeat N`` runs the whole set N times,
interleaved (repeat, then mode, then precision, per backbone), so that a busy machine slows
every variant alike; a summary table then gives, per backbone, precision and mode, the median
over the repeats of the median and mean FPS, the backbone's ms per frame and the share of the
frame outside the network, with NanoTrack's median FPS over its own repeats beside them.

Three passes per (backbone, mode) with one tracker object, each starting with ``initialize``
(which restores the pretrained weights; the tracker is deterministic, so every pass sees the
same trajectory): a timed pass without profiler (FPS), a profiled pass (stage times; profiler
overhead stays out of the FPS), and a FLOP pass that counts one inference frame and the first
training frame.

``--set NAME=VALUE ...`` changes tracker parameters (``SiamOTParams`` fields; values are
JSON, bare words are strings, ``True``/``False`` are accepted) for every configuration, so the
speed options can be compared; they are merged with the ``--always-train`` thresholds. The
speed options are tracker parameters: ``correlation`` (``auto`` = ``matmul`` on CPU, ``conv``
on CUDA; ``conv`` = grouped convolution, ``matmul`` = one GEMM plus a gather-sum, the same
result), ``channels_last`` (NHWC network weights) and ``current_map`` (``recrop``: the paper's
extra search crop and backbone pass for ``R_c``; ``shifted``: the chosen scale's response
resampled at the new centre, no extra pass, an approximation). The online training always
runs the frozen prefix of the backbone once per training event (``BackboneFineTuning.train``, the
same maths). ``tests/test_speed_equivalence.py`` checks that ``correlation``, ``channels_last``
and the frozen-prefix training do not change the boxes or the weights.

Only the two backbones with offline ImageNet weights (mobilenet_v2, efficientnet_lite0) load
them; the paper's four backbones run randomly initialised here, which changes neither their
FLOPs nor their speed, but does change when training fires.

Run ``python benchmarks/speed.py --help`` for the flags.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import platform
import resource
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable

import cv2
import numpy as np
import torch
from torch.utils.flop_counter import FlopCounterMode

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # this checkout's packages first, not the installed ones
from evaluation import registry
from evaluation.analysis.speed_table import PAPER_FPS  # the paper's Table 1 (GTX TITAN X)
from evaluation.data import Sequence
from evaluation.datasets.synthetic import SyntheticSpec, synthetic_sequence
from evaluation.machine import cpu_name, cpu_threads
from evaluation.results import code_version
from evaluation.settings import load_settings
from ltr.inference.engine import cpu_flags, device_has_bf16, int8_cpu_class
from ltr.models.backbone import BACKBONES
from pytracking_siamot import variants
from pytracking_siamot.tracker.siamot.tracker import resolve_device

# torch's profiler (Kineto) writes its own markers ("USDT: ... profiler_start") and, with a CUDA
# build of torch on a machine without a GPU, "ERROR: ... gpuGetDeviceCount failed with code 35"
# straight to stderr; neither concerns the stage times. Kineto reads its log level once, when the
# first profile starts; 6 is above its highest level. Set KINETO_LOG_LEVEL yourself to see them.
os.environ.setdefault("KINETO_LOG_LEVEL", "6")

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SEQUENCE = REPO_ROOT.parent / "shared" / "otb2013" / "Crossing"

BACKBONE_NAMES: tuple[str, ...] = tuple(BACKBONES)
#: The sequence without ``../shared``: a plain target moving on a textured background.
SYNTHETIC_SPEC = SyntheticSpec("speed_synthetic", seed=0, num_frames=120)
#: The tracker's profiler labels, in pipeline order.
STAGES: tuple[str, ...] = ("crop", "backbone", "xcorr", "upsample_peak", "current_map", "online_train")
#: Labelled stages outside the network (the ``outside_network_fraction`` adds the Python overhead).
OUTSIDE_NETWORK_STAGES: tuple[str, ...] = ("crop", "upsample_peak", "current_map")


#: Seed of the random initialisation of backbones without offline weights.
RANDOM_INIT_SEED: int = 0

#: ``--always-train``: with both thresholds at 0 the paper's update trains on every frame.
ALWAYS_TRAIN: dict[str, float] = {"confidence_threshold": 0.0, "zero_loss_threshold": 0.0, "adapter_train_every": 1}


class BenchmarkError(RuntimeError):
    """A benchmark input (sequence, device, backbone, override) is unusable; the message says why."""


# --------------------------------------------------------------------------------------------
# Sequences
# --------------------------------------------------------------------------------------------
def load_sequence(path: str | Path | None, use_default: bool = True) -> Sequence:
    """The benchmark's sequence: an OTB-layout folder, else the synthetic one.

    Args:
        path: a sequence folder (``img/*.jpg`` + ``groundtruth_rect.txt``, 1-based boxes) or
            ``None`` for ``../shared/otb2013/Crossing`` when present.
        use_default: with ``path=None``, fall back to the synthetic sequence only when the
            default folder is absent (``False``: always synthetic).

    Raises:
        BenchmarkError: an explicit ``path`` that cannot be loaded.
    """
    from evaluation.datasets.folder import sequence_folder  # the toolkit's OTB-layout loader

    if path is None:
        if use_default and DEFAULT_SEQUENCE.is_dir():
            return sequence_folder(DEFAULT_SEQUENCE, dataset="otb2013")[0]
        return synthetic_sequence(SYNTHETIC_SPEC)
    try:
        return sequence_folder(Path(path))[0]
    except (OSError, ValueError) as error:
        raise BenchmarkError(f"cannot load sequence {path}: {error}") from error


# --------------------------------------------------------------------------------------------
# Tracker construction and parameter overrides
# --------------------------------------------------------------------------------------------
def has_offline_weights(backbone: str) -> bool:
    """Whether ``pretrained=True`` can load ImageNet weights for ``backbone`` without a download."""
    from ltr.models.backbone import expected_weight_file

    try:
        return expected_weight_file(backbone).is_file()
    except (KeyError, OSError):
        return False


def build_tracker(backbone: str, online_training: bool, device: str, pretrained: bool | None = None,
                  **overrides: Any) -> Any:
    """A ``SiamOT`` tracker from ``parameter/siamot/<backbone>[_baseline].py``, built as the runners
    build it (``evaluation.registry``).

    Args:
        backbone: backbone name (``BACKBONE_NAMES``).
        online_training: the paper's tracker (``True``) or its SiamFC baseline.
        device: ``cpu`` or ``cuda``.
        pretrained: ``None`` = ImageNet weights when they are available offline, else random init
            (seeded with ``RANDOM_INIT_SEED``: every call builds the same network).
        overrides: further ``SiamOTParams`` fields to change (e.g. ``confidence_threshold``).
    """
    name = variants.parameter_name(backbone, variants.DEFAULT if online_training else variants.BASELINE)
    use_pretrained = has_offline_weights(backbone) if pretrained is None else pretrained
    # torch_threads=None: the thread count is the benchmark's (--threads, or torch's default), not the tracker's.
    overrides = {"device": device, "pretrained": use_pretrained, "torch_threads": None, **overrides}
    try:
        params = registry.make_parameters("siamot", name, load_settings(), overrides=overrides)
    except registry.RegistryError as error:
        raise BenchmarkError(f"no parameter file parameter/siamot/{name}.py for backbone '{backbone}'") from error
    # Random initialisation is seeded so that every run (and every override) gets the same network.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(RANDOM_INIT_SEED)
        return registry.tracker_class("siamot")(params)


#: ``SiamOTParams`` fields that the benchmark sets itself (flags), so ``--set`` may not change them.
RESERVED_OVERRIDES: dict[str, str] = {"backbone": "--backbones", "online_training": "--modes",
                                      "device": "--device", "pretrained": "--random-init"}


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``--set NAME=VALUE`` items -> ``SiamOTParams`` overrides (``parameters.parse_overrides``).

    Raises:
        BenchmarkError: an item without ``=``, a name that is no ``SiamOTParams`` field, or one
            of ``RESERVED_OVERRIDES`` (set by the benchmark's own flags).
    """
    from pytracking_siamot.parameters import parse_overrides as parse

    items = list(items)
    for item in items:
        key = item.split("=", 1)[0].strip()
        if key in RESERVED_OVERRIDES:
            raise BenchmarkError(f"--set {key}=... is not allowed; use {RESERVED_OVERRIDES[key]}")
    try:
        return parse(items)
    except ValueError as error:
        raise BenchmarkError(str(error)) from None


def overrides_key(overrides: dict[str, Any]) -> str:
    """A hashable, order-independent key of an overrides dict (pairs online with baseline rows)."""
    return json.dumps(overrides, sort_keys=True, default=repr)


def format_overrides(overrides: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(overrides.items())) or "none"


# --------------------------------------------------------------------------------------------
# Measurements
# --------------------------------------------------------------------------------------------
def synchronize(device: str) -> None:
    if device == "cuda":
        torch.cuda.synchronize()


def matmul_gflops(device: str, size: int | None = None, repeats: int = 5,
                  dtype: torch.dtype = torch.float32) -> float:
    """Best ``size x size`` matmul throughput in GFLOP/s (``2 n^3`` FLOPs per product) in ``dtype``."""
    n = size or (8192 if device == "cuda" else 2048)
    generator = torch.Generator().manual_seed(0)
    a = torch.randn(n, n, generator=generator).to(device, dtype)
    b = torch.randn(n, n, generator=generator).to(device, dtype)
    torch.matmul(a, b)
    synchronize(device)
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        torch.matmul(a, b)
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return 2.0 * n ** 3 / best / 1e9


def _read_status_kb(key: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return float(line.split()[1])
    except OSError:
        return None
    return None


def reset_peak_rss() -> bool:
    """Reset the kernel's peak-RSS counter (Linux ``clear_refs`` 5); ``False`` where unsupported."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def peak_rss_mb(reset_worked: bool) -> float:
    """Peak resident set size in MiB since the last reset (process lifetime without one)."""
    hwm = _read_status_kb("VmHWM") if reset_worked else None
    if hwm is not None:
        return hwm / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0  # kB on Linux


@dataclass
class FramePass:
    """One pass over the sequence: per-frame wall times (s), boxes and training flags."""

    times_s: list[float] = field(default_factory=list)
    boxes_xywh: list[list[float]] = field(default_factory=list)
    trained: list[bool] = field(default_factory=list)


def run_frames(tracker: Any, sequence: Sequence, frames: list[np.ndarray], device: str,
               on_frame: Callable[[int], None] | None = None, progress: str | None = None) -> FramePass:
    """Initialise on frame 0 and track ``frames[1:]``, timing each ``track`` call."""
    from tqdm import tqdm

    out = FramePass()
    tracker.initialize(frames[0], sequence.init_info())
    synchronize(device)
    for index in tqdm(range(1, len(frames)), desc=progress, leave=False, disable=progress is None):
        if on_frame is not None:
            on_frame(index)
        start = time.perf_counter()
        result = tracker.track(frames[index])
        synchronize(device)
        out.times_s.append(time.perf_counter() - start)
        out.boxes_xywh.append([float(v) for v in result["target_bbox"]])
        out.trained.append(bool(result.get("trained", False)))
    return out


def profile_stages(tracker: Any, sequence: Sequence, frames: list[np.ndarray], device: str, warmup: int,
                   progress: str | None = None) -> dict[str, Any]:
    """Stage times (ms, summed over the profiled frames) from the tracker's profiler labels.

    Frames ``1..warmup`` run unprofiled; the rest run inside one ``torch.profiler.profile``.
    """
    from torch.profiler import ProfilerActivity, profile

    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device == "cuda" else [])
    state: dict[str, Any] = {"profiler": None, "start": None}

    def on_frame(index: int) -> None:
        if index == warmup + 1:
            state["profiler"] = profile(activities=activities)
            state["profiler"].__enter__()
            state["start"] = len(passed.times_s)

    passed = FramePass()
    try:
        passed = run_frames(tracker, sequence, frames, device, on_frame=on_frame, progress=progress)
    finally:
        if state["profiler"] is not None:
            state["profiler"].__exit__(None, None, None)
    if state["profiler"] is None:
        raise BenchmarkError(f"no frame left to profile after {warmup} warm-up frames; use more --frames")
    totals_cpu = {s: 0.0 for s in STAGES}
    totals_dev = {s: 0.0 for s in STAGES}
    counts = {s: 0 for s in STAGES}
    for event in state["profiler"].key_averages():
        if event.key.startswith("siamot."):
            stage = event.key[len("siamot."):]
            if stage in totals_cpu:
                totals_cpu[stage] += event.cpu_time_total / 1e3
                totals_dev[stage] += getattr(event, "device_time_total", 0.0) / 1e3
                counts[stage] += event.count
    frame_times = passed.times_s[warmup:]
    return {"frames": len(frame_times), "frame_ms_total": 1e3 * sum(frame_times),
            "stage_ms_total": totals_cpu, "stage_device_ms_total": totals_dev if device == "cuda" else None,
            "stage_calls": counts, "trained_frames": sum(passed.trained[warmup:]),
            "boxes_xywh": passed.boxes_xywh}


def _flops_of(call: Callable[[], Any]) -> tuple[int, int]:
    """(total FLOPs, backbone FLOPs) of one call; backbone = modules named ``*backbone``/``Backbone``."""
    with FlopCounterMode(display=False, depth=None) as counter:
        call()
    backbone = 0
    for module, by_op in counter.get_flop_counts().items():
        if module.split(".")[-1].lower() == "backbone":
            backbone += sum(by_op.values())
    return counter.get_total_flops(), backbone


def count_flops(tracker: Any, sequence: Sequence, frames: list[np.ndarray], trained: list[bool]) -> dict[str, Any]:
    """FLOPs of ``initialize``, of the first non-training frame and of the first training frame.

    ``trained[i]`` tells whether ``track`` on ``frames[i + 1]`` trained in the timed pass: a
    training frame is looked for only when the timed pass had one. ``tracker`` should run the
    network in torch (an inference engine's FLOPs are invisible to torch's counter), so it may be
    a float32 torch copy of the timed configuration whose training frames fall elsewhere; its
    own ``trained`` flags decide which frame is which.
    """
    init_flops, _ = _flops_of(lambda: tracker.initialize(frames[0], sequence.init_info()))
    out: dict[str, Any] = {"init_flops": init_flops, "frame_flops": None, "frame_backbone_flops": None,
                           "training_frame_flops": None, "training_event_flops": None}
    want_training = any(trained)
    for i in range(len(frames) - 1):
        if out["frame_flops"] is not None and (out["training_frame_flops"] is not None or not want_training):
            break
        holder: dict[str, Any] = {}
        total, backbone = _flops_of(lambda: holder.update(result=tracker.track(frames[i + 1])))
        if bool(holder["result"].get("trained", False)):
            if out["training_frame_flops"] is None:
                out["training_frame_flops"] = total
        elif out["frame_flops"] is None:
            out["frame_flops"], out["frame_backbone_flops"] = total, backbone
    if out["training_frame_flops"] is not None and out["frame_flops"] is not None:
        out["training_event_flops"] = out["training_frame_flops"] - out["frame_flops"]
    return out


# --------------------------------------------------------------------------------------------
# One configuration
# --------------------------------------------------------------------------------------------
def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def _percentile(values: list[float], percent: int) -> float:
    """The ``percent``-th percentile of ``values`` (``statistics.quantiles``, exclusive method); the
    value itself for one value, NaN for none."""
    if len(values) < 2:
        return values[0] if values else math.nan
    return statistics.quantiles(values, n=100)[percent - 1]


def benchmark_config(backbone: str, online_training: bool, sequence: Sequence, frames: list[np.ndarray],
                     device: str, warmup: int, matmul: float,
                     pretrained: bool | None = None, profile: bool = True, flops: bool = True,
                     show_progress: bool = True, overrides: dict[str, Any] | None = None,
                     matmul_bf16: float | None = None) -> dict[str, Any]:
    """All measurements of one (backbone, online training on/off) pair; see the module docstring.

    ``overrides`` are ``SiamOTParams`` fields changed for this run (see :func:`build_tracker`).
    ``matmul`` / ``matmul_bf16``: float32 / bfloat16 matmul GFLOP/s of this run (the limits).
    """
    overrides = overrides or {}
    if len(frames) < warmup + 2:
        raise BenchmarkError(f"{len(frames)} frames leave nothing to time after {warmup} warm-up frames")
    mode = "online" if online_training else "baseline"
    label = f"{backbone} {mode}"
    reset_ok = reset_peak_rss()
    if device == "cuda":
        torch.cuda.reset_peak_memory_stats()
    tracker = build_tracker(backbone, online_training, device, pretrained, **overrides)
    pretrained_used = bool(tracker.params.pretrained)
    features = getattr(tracker, "features", None)

    timed = run_frames(tracker, sequence, frames, device, progress=f"{label}: timed" if show_progress else None)
    after = timed.times_s[warmup:]
    trained_after = timed.trained[warmup:]
    plain_times = [t for t, tr in zip(after, trained_after) if not tr]
    train_times = [t for t, tr in zip(after, trained_after) if tr]
    result: dict[str, Any] = {
        "backbone": backbone, "mode": mode, "online_training": online_training, "overrides": overrides,
        "pretrained": pretrained_used,
        "precision": getattr(features, "precision", "fp32"), "engine": getattr(features, "engine", "torch"),
        "frames_tracked": len(timed.times_s), "frames_timed": len(after),
        "fps_median": 1.0 / _median(after), "fps_mean": len(after) / sum(after),
        "frame_ms_median": 1e3 * _median(after), "frame_ms_mean": 1e3 * statistics.fmean(after),
        # latency spikes (a training event's frame): what spreading an event over frames changes
        "frame_ms_p95": 1e3 * _percentile(after, 95), "frame_ms_max": 1e3 * max(after),
        "plain_frame_ms_median": 1e3 * _median(plain_times),
        "training_frame_ms_median": 1e3 * _median(train_times) if train_times else None,
        "trained_frames": sum(timed.trained), "trained_fraction": sum(timed.trained) / len(timed.trained),
        "boxes_xywh": timed.boxes_xywh,
    }

    if profile:
        prof = profile_stages(tracker, sequence, frames, device, warmup,
                              progress=f"{label}: profiled" if show_progress else None)
        if prof["boxes_xywh"] != timed.boxes_xywh:
            raise BenchmarkError(f"{label}: the profiled pass gave other boxes than the timed pass")
        n = prof["frames"]
        stage_ms = {s: prof["stage_ms_total"][s] / n for s in STAGES}
        events = prof["trained_frames"]
        labelled = sum(stage_ms.values())
        frame_ms = prof["frame_ms_total"] / n
        result.update({
            "profiled_frame_ms_mean": frame_ms,
            "stage_ms_per_frame": stage_ms,
            "stage_device_ms_per_frame": ({s: v / n for s, v in prof["stage_device_ms_total"].items()}
                                          if prof["stage_device_ms_total"] is not None else None),
            "online_train_ms_per_event": prof["stage_ms_total"]["online_train"] / events if events else None,
            # every call of the online training, also those Eq. 5's floor stops before a step
            "online_train_calls": prof["stage_calls"]["online_train"],
            "online_train_ms_per_call": (prof["stage_ms_total"]["online_train"] / prof["stage_calls"]["online_train"]
                                         if prof["stage_calls"]["online_train"] else None),
            "python_overhead_ms_per_frame": frame_ms - labelled,
            # Work outside the network: cropping, upsampling/peak search, the shifted R_c and
            # unlabelled Python.
            "outside_network_fraction": (sum(stage_ms[s] for s in OUTSIDE_NETWORK_STAGES) + frame_ms - labelled)
            / frame_ms,
        })

    if flops:
        # FLOPs are counted in torch: a float32 torch copy of this configuration.
        counter = build_tracker(backbone, online_training, device, pretrained,
                                **{**overrides, "precision": "fp32", "engine": "torch"})
        counted = count_flops(counter, sequence, frames, timed.trained)
        result.update({f"{k[:-len('flops')]}gflop": (v / 1e9 if v is not None else None) for k, v in counted.items()})
        frame_flops = counted["frame_flops"]
        if frame_flops is not None and plain_times:
            achieved = frame_flops / _median(plain_times) / 1e9
            result["frame_gflop_per_s"] = achieved
            result["frame_fraction_of_matmul"] = achieved / matmul
            if matmul_bf16:
                result["frame_fraction_of_bf16_matmul"] = achieved / matmul_bf16
        if profile and counted["frame_backbone_flops"] and result["stage_ms_per_frame"]["backbone"] > 0:
            # Network throughput of inference frames: backbone FLOPs over the backbone stage time.
            stage_ms = result["stage_ms_per_frame"]
            if result["trained_frames"] == 0 or not online_training:
                backbone_ms = stage_ms["backbone"]
                network_gflop_s = counted["frame_backbone_flops"] / (backbone_ms / 1e3) / 1e9
                result["backbone_gflop_per_s"] = network_gflop_s
                result["backbone_fraction_of_matmul"] = network_gflop_s / matmul
                if matmul_bf16:
                    result["backbone_fraction_of_bf16_matmul"] = network_gflop_s / matmul_bf16
        if counted["training_event_flops"] is not None and result.get("online_train_ms_per_event"):
            result["training_gflop_per_s"] = (counted["training_event_flops"] / 1e9
                                              / (result["online_train_ms_per_event"] / 1e3))

    result["peak_rss_mb"] = peak_rss_mb(reset_ok)
    result["peak_rss_scope"] = "this configuration" if reset_ok else "process lifetime"
    if device == "cuda":
        result["cuda_max_memory_allocated_mb"] = torch.cuda.max_memory_allocated() / 2 ** 20
    return result


def benchmark_nanotrack(sequence: Sequence, frames: list[np.ndarray], warmup: int,
                       show_progress: bool = True) -> dict[str, Any] | None:
    """FPS of OpenCV's NanoTrack v2 (``cv2.TrackerNano``) on the same decoded frames, or ``None``
    when its ONNX files are found neither in the settings nor in ``../shared/models``."""
    from evaluation.opencv_trackers import OpenCVTracker, model_paths_present, opencv_parameters
    from evaluation.settings import Settings, SettingsError, detect_shared, load_settings

    try:
        settings = load_settings()
    except SettingsError:
        settings = Settings()
    if not model_paths_present(settings, "nano"):
        settings = dataclasses.replace(Settings(), **detect_shared(REPO_ROOT))
        if not model_paths_present(settings, "nano"):
            return None
    tracker = OpenCVTracker(opencv_parameters("nano", settings))
    timed = run_frames(tracker, sequence, frames, "cpu", progress="nanotrack: timed" if show_progress else None)
    after = timed.times_s[warmup:]
    return {"tracker": "nanotrack", "opencv": cv2.__version__, "opencv_threads": cv2.getNumThreads(),
            "fps_median": 1.0 / _median(after), "fps_mean": len(after) / sum(after),
            "frame_ms_median": 1e3 * _median(after), "boxes_xywh": timed.boxes_xywh}


def add_ratios(results: list[dict[str, Any]], nanotrack: dict[str, Any] | None = None) -> None:
    """Online / baseline FPS ratios (median and mean) on every online row with a baseline row
    (same backbone, overrides and repeat)."""
    baselines = {(r["backbone"], overrides_key(r["overrides"]), r.get("repeat", 0)): r
                 for r in results if r["mode"] == "baseline"}
    for row in results:
        base = baselines.get((row["backbone"], overrides_key(row["overrides"]), row.get("repeat", 0)))
        if row["mode"] == "online" and base is not None:
            row["fps_ratio_median"] = row["fps_median"] / base["fps_median"]
            row["fps_ratio_mean"] = row["fps_mean"] / base["fps_mean"]
        if nanotrack is not None:
            row["fps_ratio_to_nanotrack"] = row["fps_median"] / nanotrack["fps_median"]


# --------------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------------
def summarize(results: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Per (backbone, precision, mode), in order of first appearance: the median over the repeats of
    the median and mean FPS, the backbone's ms per frame and the share outside the network (``None``
    where not profiled), and the trained frames of each repeat."""
    groups: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
    for r in results:
        groups.setdefault((r["backbone"], r.get("precision", "fp32"), r["mode"]), []).append(r)

    def med(rows: list[dict[str, Any]], get: Callable[[dict[str, Any]], Any]) -> float | None:
        values = [v for v in (get(r) for r in rows) if v is not None]
        return statistics.median(values) if values else None

    return [{"backbone": backbone, "precision": precision, "mode": mode, "repeats": len(rows),
             "engine": rows[0].get("engine", "torch"),
             "fps_median": med(rows, lambda r: r["fps_median"]), "fps_mean": med(rows, lambda r: r["fps_mean"]),
             "backbone_ms": med(rows, lambda r: r.get("stage_ms_per_frame", {}).get("backbone")),
             "outside_network_fraction": med(rows, lambda r: r.get("outside_network_fraction")),
             "ms_per_event": med(rows, lambda r: r.get("online_train_ms_per_event")),
             "trained_frames": [r["trained_frames"] for r in rows], "frames_tracked": rows[0]["frames_tracked"]}
            for (backbone, precision, mode), rows in groups.items()]


def format_summary(summary: list[dict[str, Any]], nanotrack_fps: list[float]) -> str:
    """The :func:`summarize` table, NanoTrack's median FPS over its repeats below it."""
    repeats = max((s["repeats"] for s in summary), default=0)
    head = (f"{'summary: median of ' + str(repeats) + ' repeats':<33}{'FPS med':>8}{'FPS mean':>9}{'/nano':>7}"
            f"{'bb ms':>7}{'outside':>8}{'ms/event':>9}  trained (per repeat)")
    lines = ["", head, "-" * len(head)]
    nano = statistics.median(nanotrack_fps) if nanotrack_fps else None
    for s in summary:
        label = f"{s['backbone']} {s['precision']} {s['mode']}"
        outside = s["outside_network_fraction"]
        lines.append(f"{label:<33}{_fmt(s['fps_median']):>8}{_fmt(s['fps_mean']):>9}"
                     f"{_fmt(s['fps_median'] / nano if nano and s['fps_median'] else None, 2):>7}"
                     f"{_fmt(s['backbone_ms']):>7}{_fmt(100 * outside if outside is not None else None) + '%':>8}"
                     f"{_fmt(s['ms_per_event']):>9}  "
                     f"{', '.join(str(t) for t in s['trained_frames'])} of {s['frames_tracked']}")
    if nanotrack_fps:
        lines.append(f"{'nanotrack (OpenCV)':<33}{_fmt(nano):>8}  ({', '.join(f'{f:.0f}' for f in nanotrack_fps)} "
                     f"FPS median per repeat)")
    return "\n".join(lines)


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _row_label(r: dict[str, Any]) -> str:
    """``backbone mode``, with the precision where rows of several precisions may be printed."""
    return f"{r['backbone']} {r['mode']}" + (f" {r['precision']}" if r.get("label_precision") else "")


def format_tables(results: list[dict[str, Any]], matmul: float, device: str, matmul_bf16: float | None = None,
                  nanotrack: dict[str, Any] | None = None) -> str:
    """Three plain-text tables: speed (with the NanoTrack row), ms per stage, compute and memory."""
    lines = [f"device {device}, float32 matmul {matmul:.1f} GFLOP/s"
             + (f", bfloat16 matmul {matmul_bf16:.1f} GFLOP/s" if matmul_bf16
                else ", bfloat16 matmul not measured (no bf16 units: the network runs in float32)")]
    lines.append("")
    head = (f"{'backbone':<19}{'mode':<9}{'network':<15}{'FPS med':>8}{'FPS mean':>9}{'mean/med':>9}{'ratio med':>10}"
            f"{'ratio mean':>11}{'/nano':>7}{'trained':>9}{'paper FPS':>10}")
    lines += [head, "-" * len(head)]
    for r in results:
        paper = PAPER_FPS.get(r["backbone"])
        paper_fps = paper[1 if r["online_training"] else 0] if paper else None
        network = f"{r.get('precision', 'fp32')} {r.get('engine', 'torch')}"
        lines.append(f"{r['backbone']:<19}{r['mode']:<9}{network:<15}{_fmt(r['fps_median']):>8}"
                     f"{_fmt(r['fps_mean']):>9}{_fmt(r['fps_mean'] / r['fps_median'], 2):>9}"
                     f"{_fmt(r.get('fps_ratio_median'), 2):>10}{_fmt(r.get('fps_ratio_mean'), 2):>11}"
                     f"{_fmt(r.get('fps_ratio_to_nanotrack'), 2):>7}"
                     f"{r['trained_frames']:>4}/{r['frames_tracked']:<4}{_fmt(paper_fps, 0):>10}")
    if nanotrack is not None:
        lines.append(f"{'nanotrack (OpenCV)':<28}{'onnx opencv':<15}{_fmt(nanotrack['fps_median']):>8}"
                     f"{_fmt(nanotrack['fps_mean']):>9}{'-':>9}{'-':>10}{'-':>11}{'1.00':>7}{'-':>9}{'-':>10}")
    if any("stage_ms_per_frame" in r for r in results):
        lines.append("")
        head = (f"{'ms per frame':<28}{'crop':>7}{'backbone':>9}{'xcorr':>7}{'upsample':>9}{'R_c':>6}{'train':>8}"
                f"{'/event':>8}{'/call':>7}{'calls':>6}{'python':>8}{'frame':>8}{'outside':>8}")
        lines += [head, "-" * len(head)]
        for r in results:
            if "stage_ms_per_frame" not in r:
                continue
            s = r["stage_ms_per_frame"]
            lines.append(f"{_row_label(r):<28}{_fmt(s['crop']):>7}{_fmt(s['backbone']):>9}"
                         f"{_fmt(s['xcorr'], 2):>7}{_fmt(s['upsample_peak']):>9}{_fmt(s['current_map'], 2):>6}"
                         f"{_fmt(s['online_train']):>8}"
                         f"{_fmt(r['online_train_ms_per_event']):>8}{_fmt(r.get('online_train_ms_per_call')):>7}"
                         f"{r.get('online_train_calls', 0):>6}{_fmt(r['python_overhead_ms_per_frame']):>8}"
                         f"{_fmt(r['profiled_frame_ms_mean']):>8}"
                         f"{_fmt(100 * r['outside_network_fraction']) + '%':>8}")
    if any("frame_gflop" in r for r in results):
        lines.append("")
        head = (f"{'compute':<28}{'GFLOP/frame':>12}{'GFLOP/event':>12}{'GFLOP/s':>9}{'%matmul':>8}{'%bf16':>7}"
                f"{'bb GFLOP/s':>11}{'bb %mm':>7}{'bb %bf16':>9}{'peak RSS MB':>12}")
        lines += [head, "-" * len(head)]
        for r in results:
            if "frame_gflop" not in r:
                continue
            pct = r.get("frame_fraction_of_matmul")
            bb_pct = r.get("backbone_fraction_of_matmul")
            pct16 = r.get("frame_fraction_of_bf16_matmul")
            bb_pct16 = r.get("backbone_fraction_of_bf16_matmul")
            lines.append(f"{_row_label(r):<28}{_fmt(r['frame_gflop'], 2):>12}"
                         f"{_fmt(r['training_event_gflop'], 2):>12}{_fmt(r.get('frame_gflop_per_s')):>9}"
                         f"{_fmt(100 * pct if pct is not None else None) :>8}"
                         f"{_fmt(100 * pct16 if pct16 is not None else None):>7}"
                         f"{_fmt(r.get('backbone_gflop_per_s')):>11}"
                         f"{_fmt(100 * bb_pct if bb_pct is not None else None):>7}"
                         f"{_fmt(100 * bb_pct16 if bb_pct16 is not None else None):>9}"
                         f"{_fmt(r['peak_rss_mb'], 0):>12}")
    return "\n".join(lines)


#: CPU feature flags that decide which numeric types run fast (printed beside every speed figure).
SPEED_FLAGS: tuple[str, ...] = ("avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8")


def cpu_line() -> str:
    """One line naming the CPU, the CPU threads this process may use and its speed-relevant flags."""
    flags = [f for f in SPEED_FLAGS if f in cpu_flags()]
    return (f"CPU {cpu_name()}, {cpu_threads()} CPU threads; flags: {' '.join(flags) or 'none of ' + ' '.join(SPEED_FLAGS)}"
            f"; int8 units: {int8_cpu_class() or 'none'}")


def code_line() -> str:
    """One line naming the code measured: its revision (``evaluation.results.code_version``) and folder.
    Each script of ``benchmarks/`` imports the packages of the checkout that holds it (a worktree of an
    older commit times that commit), not the installed ones."""
    return f"code {code_version()} in {REPO_ROOT}"


def environment_info(device: str, threads: int) -> dict[str, Any]:
    info = {"python": platform.python_version(), "torch": torch.__version__, "platform": platform.platform(),
            "processor": cpu_name(), "cpu_flags": [f for f in SPEED_FLAGS if f in cpu_flags()],
            "torch_threads": threads, "cpu_count": os.cpu_count(), "code": code_version()}
    if device == "cuda":
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


# --------------------------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python benchmarks/speed.py",
        description="SiamOT speed benchmark: FPS with/without online training, ms per stage, FLOPs and "
                    "achieved GFLOP/s against a float32 matmul measured in the same run, peak memory.")
    parser.add_argument("--backbones", nargs="+", default=list(BACKBONE_NAMES), choices=BACKBONE_NAMES,
                        metavar="NAME", help=f"backbones to run (default: all of {', '.join(BACKBONE_NAMES)})")
    parser.add_argument("--modes", nargs="+", default=["baseline", "online"], choices=["baseline", "online"],
                        help="without (baseline) and/or with (online) online training (default: both)")
    parser.add_argument("--device", default="cpu", choices=["cpu", "cuda", "auto"],
                        help="where the network runs (default: cpu; auto = cuda when available)")
    parser.add_argument("--sequence", default=None, metavar="PATH",
                        help="an OTB-layout sequence folder (img/*.jpg, groundtruth_rect.txt with 1-based boxes); "
                             f"default: {DEFAULT_SEQUENCE} when present, else a synthetic sequence")
    parser.add_argument("--synthetic", action="store_true",
                        help="use the built-in deterministic synthetic sequence (120 frames, 320x240)")
    parser.add_argument("--frames", type=int, default=None, metavar="N",
                        help="use only the first N frames of the sequence (default: all)")
    parser.add_argument("--warmup", type=int, default=5, metavar="W",
                        help="tracked frames left out of the timings and the profile (default: 5)")
    parser.add_argument("--threads", type=int, default=None, metavar="T",
                        help="torch intra-op threads (default: torch's own choice)")
    parser.add_argument("--set", nargs="*", default=[], metavar="NAME=VALUE",
                        help="SiamOTParams fields to change for every configuration, values as JSON, bare words "
                             "as strings (e.g. correlation=conv channels_last=true current_map=shifted); "
                             "merged with --always-train")
    parser.add_argument("--always-train", action="store_true",
                        help="stress test, not the paper's settings: thresholds T_c = T_l = 0 so that online "
                             "training fires on every frame (measures the cost of a training event); "
                             "--set values win over these")
    parser.add_argument("--random-init", action="store_true",
                        help="random weights for every backbone (default: ImageNet weights where available offline)")
    parser.add_argument("--no-profile", action="store_true", help="skip the profiled pass (no ms per stage)")
    parser.add_argument("--no-flops", action="store_true", help="skip the FLOP-counting pass")
    parser.add_argument("--no-nanotrack", action="store_true",
                        help="skip the NanoTrack row (OpenCV cv2.TrackerNano on the same frames; its ONNX files "
                             "come from the settings nanotrack_backbone/nanotrack_head or ../shared/models)")
    parser.add_argument("--matmul-size", type=int, default=None, metavar="N",
                        help="side of the square float32 and bfloat16 matmuls used as the machine's limits "
                             "(default: 2048 on CPU, 8192 on CUDA)")
    parser.add_argument("--precisions", nargs="+", default=None, choices=["auto", "fp32", "bf16", "int8"],
                        help="run every configuration once per numeric type of the backbone (SiamOTParams.precision; "
                             "int8 needs nncf); default: the parameters' own (auto, or --set precision=...)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N",
                        help="run the whole set N times, interleaved, and print the median over the repeats "
                             "(with NanoTrack once per repeat)")
    parser.add_argument("--json", default=None, metavar="OUT", help="also write all results to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.threads is not None:
            if args.threads < 1:
                raise BenchmarkError(f"--threads must be >= 1, got {args.threads}")
            torch.set_num_threads(args.threads)
            cv2.setNumThreads(args.threads)  # crops and NanoTrack
        if args.warmup < 0:
            raise BenchmarkError(f"--warmup must be >= 0, got {args.warmup}")
        device = str(resolve_device(args.device))
        overrides = {**(ALWAYS_TRAIN if args.always_train else {}), **parse_overrides(args.set)}
        if args.synthetic and args.sequence:
            raise BenchmarkError("--synthetic and --sequence exclude each other")
        sequence = load_sequence(args.sequence, use_default=not args.synthetic)
        count = len(sequence) if args.frames is None else min(args.frames, len(sequence))
        if count < args.warmup + 2:
            raise BenchmarkError(f"{count} frames leave nothing to time after {args.warmup} warm-up frames")
        frames = [sequence.image(i) for i in range(count)]  # decoded once: JPEG decoding is not tracking

        matmul_before = matmul_gflops(device, args.matmul_size)
        # Emulated bf16 (no bf16 units) is no limit of the machine and takes minutes to measure.
        matmul_bf16 = matmul_gflops(device, args.matmul_size, dtype=torch.bfloat16) if device_has_bf16(device) else None
        if args.repeat < 1:
            raise BenchmarkError(f"--repeat must be >= 1, got {args.repeat}")
        precisions: list[str | None] = list(args.precisions) if args.precisions else [None]
        results = []
        nanotrack_fps: list[float] = []
        nanotrack = None
        for repeat in range(args.repeat):
            for backbone in args.backbones:
                for mode in args.modes:
                    for precision in precisions:
                        extra = {} if precision is None else {"precision": precision}
                        row = benchmark_config(
                            backbone, mode == "online", sequence, frames, device, args.warmup, matmul_before,
                            pretrained=False if args.random_init else None, profile=not args.no_profile,
                            flops=not args.no_flops, show_progress=not args.quiet,
                            overrides={**overrides, **extra}, matmul_bf16=matmul_bf16)
                        row["repeat"] = repeat
                        row["label_precision"] = precision is not None
                        results.append(row)
            if not args.no_nanotrack:
                nanotrack = benchmark_nanotrack(sequence, frames, args.warmup, show_progress=not args.quiet)
                if nanotrack is not None:
                    nanotrack_fps.append(nanotrack["fps_median"])
        matmul_after = matmul_gflops(device, args.matmul_size)
        add_ratios(results, nanotrack)
    except (BenchmarkError, ValueError, OSError, ImportError) as error:
        print(f"speed.py: error: {error}", file=sys.stderr)
        return 1

    threads = torch.get_num_threads()
    print(cpu_line())
    print(code_line())
    print(f"sequence {sequence.name} ({sequence.dataset}), {count} frames, warm-up {args.warmup}, "
          f"torch threads {threads}, overrides: {format_overrides(overrides)}; "
          f"matmul {matmul_before:.1f} GFLOP/s before, {matmul_after:.1f} after the run")
    if nanotrack is None and not args.no_nanotrack:
        print("NanoTrack row left out: its ONNX files are neither in the settings nor in ../shared/models")
    print(format_tables(results, matmul_before, device, matmul_bf16, nanotrack))
    summary = summarize(results)
    if args.repeat > 1 or len(precisions) > 1:
        print(format_summary(summary, nanotrack_fps))
    if args.json:
        from evaluation.boxes_io import atomic_write_text

        report = {"sequence": {"name": sequence.name, "dataset": sequence.dataset, "frames": count},
                  "device": device, "warmup": args.warmup, "overrides": overrides,
                  "always_train": args.always_train,
                  "matmul_gflop_per_s": {"before": matmul_before, "after": matmul_after, "bf16": matmul_bf16,
                                         "size": args.matmul_size or (8192 if device == "cuda" else 2048)},
                  "environment": environment_info(device, threads), "paper_fps_titan_x": PAPER_FPS,
                  "results": results, "nanotrack": nanotrack, "nanotrack_fps_median_per_repeat": nanotrack_fps,
                  "summary": summary}
        atomic_write_text(args.json, json.dumps(report, indent=1))
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
