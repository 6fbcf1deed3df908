"""Fast inference of a backbone's frozen part: numeric precision and inference engine.

The SiamOT tracker spends most of a frame in the backbone. Online training changes only the
last blocks of ``backbone.features`` (the *trainable suffix*); the leading blocks (the
*frozen prefix*, possibly the whole backbone) never change, so they can be handed to an
inference engine made for the hardware, while torch keeps the trainable suffix and every
backward pass. :class:`InferenceBackbone` does that behind the backbone's own call
interface: ``(B, 3, H, W)`` float32 RGB in [0, 255] -> float32 features.

Precision (``resolve_precision``): ``'auto'`` uses bfloat16 where the hardware has bf16
units (CPU flags ``amx_bf16`` / ``avx512_bf16`` / ARM ``bf16`` in ``/proc/cpuinfo``; CUDA:
``torch.cuda.is_bf16_supported()``, else float16), float32 elsewhere, and says so once per
run: the main process says it, and the worker processes it starts afterwards (they inherit
``$SIAMOT_ANNOUNCED``) stay quiet. Features always come back as float32: the correlation, the
score maps and all the maths after the network stay float32.

``'int8'`` quantises the frozen prefix after training with NNCF (optional dependency ``nncf``;
``ltr.inference.openvino_models``), calibrated on crops like the tracker's
(``ltr.inference.calibration``), and runs it in OpenVINO; the trainable suffix stays float32
torch. ``'auto'`` picks int8 on the CPU only when all of these hold, and otherwise says in one
line why not and runs the precision above: the backbone is in :data:`INT8_ACCURACY` for this
CPU's class of int8 units (int8 measured no more than :data:`INT8_MAX_AUC_LOSS` AUC points below
float32 on the development targets, with and without online training, for these weights:
:data:`INT8_MEASURED_WEIGHTS`), int8 was measured faster than that precision on this CPU's class
of int8 units (:func:`int8_cpu_class` from the CPU flags, :data:`INT8_SPEEDUP`), ``nncf`` and
``openvino`` are installed, the prefix runs in OpenVINO, and the quantised model's features agree
with float32 on the calibration crops (smallest cosine similarity >= :data:`INT8_MIN_AGREEMENT`).

Engines (``resolve_engine``): ``'torch'`` (autocast for bf16/fp16) or ``'openvino'`` (the
frozen prefix converted with ``openvino.convert_model`` and compiled for the CPU with the
matching ``INFERENCE_PRECISION_HINT``; optional dependency). ``'auto'`` picks OpenVINO on
CPU when it is importable and the frozen prefix is not empty, torch otherwise (what each engine
and numeric type costs per CPU: ``benchmarks/backbone_engines.py``, figures in docs/speed.md).

The prefix is converted to OpenVINO once per backbone, with a dynamic input, and kept on disk
(``ltr.inference.openvino_models``: converted and quantised models under the user's cache
folder, reused by every process); each input shape then costs one reshape and compilation.
Compiled models are cached per process by (weights fingerprint of the prefix, input shape,
precision, threads), so building a tracker or starting a sequence again reuses them. The
engine converts a private copy of the prefix taken at construction: restoring or training
the network's weights later cannot change what the engine computes, and
:meth:`InferenceBackbone.check_frozen` raises if a parameter of the prefix became trainable.
"""
from __future__ import annotations

import copy
import hashlib
import os
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

# Imported here, not where they are used: under pytracking, SiamOT's 'ltr' is imported privately
# (pytracking_compat.isolation) and a later 'from ltr...' would reach pytracking's 'ltr'.
from ltr.inference import openvino_models
from ltr.inference.calibration import PHOTO, calibration_crops, calibration_identity, calibration_source

Precision = Literal["auto", "fp32", "bf16", "int8"]
Engine = Literal["auto", "torch", "openvino"]
#: What ``resolve_precision`` returns: the dtype the network runs in.
ResolvedPrecision = Literal["fp32", "bf16", "fp16", "int8"]

_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: CPU feature flags (``/proc/cpuinfo``) that mean native bfloat16 arithmetic.
BF16_CPU_FLAGS: frozenset[str] = frozenset({"amx_bf16", "avx512_bf16", "bf16"})

#: Classes of int8 units, best first, and the CPU flags (``/proc/cpuinfo``) that mean each.
#: ``avx2``: no int8 dot-product instruction, OpenVINO's int8 kernels use AVX2's 16-bit products.
INT8_CPU_CLASSES: tuple[tuple[str, frozenset[str]], ...] = (
    ("amx", frozenset({"amx_int8", "amx_bf16"})),
    ("avx512_bf16", frozenset({"avx512_bf16", "avx512_vnni"})),
    ("avx512_vnni", frozenset({"avx512_vnni"})),
    ("avx_vnni", frozenset({"avx_vnni", "avx2"})),
    ("avx2", frozenset({"avx2"})),
)
#: Speed-up of the int8 frozen backbone over the precision ``'auto'`` picks otherwise (bf16 where
#: the class has bf16 units, else float32), per class of int8 units and backbone: one pass on
#: 3 x 255x255, 2 threads, OpenVINO, ``benchmarks/backbone_engines.py`` (docs/speed.md). ``'auto'``
#: picks int8 where the backbone's entry is at least :data:`INT8_MIN_SPEEDUP`; a class or backbone
#: not listed was not measured and gets no int8.
INT8_SPEEDUP: dict[str, dict[str, float]] = {
    # against bf16, a Xeon with AMX, quiet, the photograph-calibrated models, two runs (MobileNetV2
    # 16.9 against 14.1 and 17.2 against 14.7 ms: int8 is slower, its depthwise convolutions gain
    # nothing from AMX; EfficientNet-Lite0 18.1 against 18.6 and 19.8 against 20.8; AlexNet 17.1
    # against 32.1 and 16.2 against 30.3)
    "amx": {"mobilenet_v2": 0.85, "alexnet": 1.87, "efficientnet_lite0": 1.04},
    # against bf16, the smaller of the measurements on two CPUs of the class: a Xeon with AVX512-BF16,
    # no AMX, quiet, the earlier synthetic-calibrated models (MobileNetV2 1.29, AlexNet 1.89), and an
    # AMD EPYC with AVX512-BF16 and AVX512-VNNI, the photograph-calibrated models, two runs
    # (MobileNetV2 11.6 against 14.2 and 12.3 against 15.6 ms, EfficientNet-Lite0 18.5 against 22.6 and
    # 15.8 against 19.0, AlexNet 30.0 against 54.8 and 28.4 against 53.6)
    "avx512_bf16": {"mobilenet_v2": 1.22, "alexnet": 1.82, "efficientnet_lite0": 1.21},
    # against float32, the AMX Xeon with oneDNN capped at AVX512_CORE_VNNI (emulated: the VNNI
    # kernels ran, on an AMX core's caches and clock; MobileNetV2 17.8 against 35.4 ms,
    # EfficientNet-Lite0 18.4 against 38.9, AlexNet 31.2 against 111.8)
    "avx512_vnni": {"mobilenet_v2": 1.98, "alexnet": 3.58, "efficientnet_lite0": 2.12},
    # against float32, the same Xeon capped at AVX2_VNNI (emulated as above, and loaded: the ratio of
    # one interleaved run; MobileNetV2 55.8 against 113.8 ms, EfficientNet-Lite0 67.8 against 128.2)
    "avx_vnni": {"mobilenet_v2": 2.04, "efficientnet_lite0": 1.89},
    # against float32, an AVX2-only AMD EPYC, quiet, the photograph-calibrated models (MobileNetV2 27.3
    # against 43.9 and 22.1 against 37.5 ms in two runs, EfficientNet-Lite0 32.1 against 56.0, AlexNet
    # 66.8 against 150.2)
    "avx2": {"mobilenet_v2": 1.61, "alexnet": 2.25, "efficientnet_lite0": 1.74},
}
INT8_MIN_SPEEDUP = 1.05
#: Backbones whose int8 frozen prefix was measured on the development targets, per class of int8
#: units (the quantised model depends on it: :func:`int8_overflow_fix`, and so do the kernels):
#: AUC points of int8 minus float32 over the 21 targets of
#: ``evaluation.experiments.ablation.development_targets`` (one torch thread, ImageNet weights, the
#: photograph calibration set), ``(online training, baseline)``. ``'auto'`` picks int8 only for a
#: class and backbone listed with both above ``-INT8_MAX_AUC_LOSS``. Backbones without ImageNet
#: weights on the measuring machine (AlexNet, VGG19, ResNet34, Inception-v3) could not be measured.
INT8_ACCURACY: dict[str, dict[str, tuple[float, float]]] = {
    # an AMX Xeon; [-2.2, +2.4] (7 / 13 / 1) and [+0.2, +8.1] (10 / 10 / 1): Gull2 +18.9, book -12.9
    "amx": {"mobilenet_v2": (-0.1, 3.6)},
    # the AMX Xeon with oneDNN capped at AVX512_CORE_VNNI, so the VNNI int8 kernels computed (the
    # kernels of AVX512-BF16 CPUs too: the same ones ran under a cap at AVX512_CORE_BF16); the
    # quantised model is the one of every class but avx2. [-2.2, +2.5] (8 / 13 / 0) and [+0.2,
    # +8.1]; within 0.2 points of the AMX kernels on every target. EfficientNet-Lite0: [-4.7, +2.6]
    # (10 / 9 / 2) and [-4.5, +5.9] (12 / 7 / 2); it loses DTB70 Surfing06 (-33.1) as on AVX2, and
    # wins Gull2 and Tiger1
    "avx512_vnni": {"mobilenet_v2": (0.0, 3.6), "efficientnet_lite0": (-0.6, 0.4)},
    # an AMD EPYC with AVX512-VNNI and AVX512-BF16, no AMX (the class's own kernels, not a cap): [-2.2,
    # +2.2] (7 / 13 / 1) and [+0.2, +8.1] (10 / 10 / 1); EfficientNet-Lite0 [-4.6, +2.7] (10 / 10 / 1)
    # and [-4.5, +5.9] (12 / 7 / 2), Surfing06 -33.1 as under the cap. Within 0.2 points of the capped
    # Xeon's means; float32 there gave the same AUC as on the Xeon (0.586 / 0.520, 0.571 / 0.512)
    "avx512_bf16": {"mobilenet_v2": (-0.1, 3.6), "efficientnet_lite0": (-0.5, 0.4)},
    # the same Xeon capped at AVX2_VNNI: [-2.2, +2.2] (7 / 14 / 0) and the AVX512-VNNI baseline's
    # boxes on all 21 targets
    "avx_vnni": {"mobilenet_v2": (-0.1, 3.6)},
    "avx2": {
        # an AVX2-only AMD EPYC; 95 % intervals [-1.8, +0.1] (9 / 9 / 3) and [-1.6, +7.7] (12 / 8 / 1):
        # the float32 baseline's KiteSurf and Surfing06 flip (docs/speed.md)
        "mobilenet_v2": (-0.7, 2.7),
        # [-4.9, +1.8] (9 / 11 / 1) and [-3.9, +5.0] (11 / 8 / 2): int8 loses DTB70 Surfing06 at frame
        # 21 with and without online training (-32.7), as with the earlier quantisation
        "efficientnet_lite0": (-1.05, 0.7),
    },
}
INT8_MAX_AUC_LOSS = 1.0
#: The weights :data:`INT8_ACCURACY` was measured with, per backbone: :func:`weights_fingerprint` of
#: the frozen prefix (torchvision's ImageNet weights, the whole backbone frozen, as the default
#: adapter and the baseline run it). ``'auto'`` keeps float for other weights (random, the user's
#: own, a shorter prefix): their int8 accuracy is not what was measured.
INT8_MEASURED_WEIGHTS: dict[str, frozenset[str]] = {
    "mobilenet_v2": frozenset({"1124da4bd836b9f3a255cc0dd4857f2e1c171e96"}),  # mobilenet_v2-b0353104.pth
    "efficientnet_lite0": frozenset({"34613febe988beaf38838c725edd6e91cb5cea3f"}),
}
#: Smallest cosine similarity of int8 against float32 features over the calibration crops for
#: ``'auto'`` to keep int8 (measured when the model is quantised, kept with it in the cache).
INT8_MIN_AGREEMENT = 0.95

#: Environment variable naming the announcements already made in this process or a parent:
#: worker processes (spawned, so they inherit it) do not repeat what the main process said.
ANNOUNCED_ENV = "SIAMOT_ANNOUNCED"


def _announcement_key(message: str) -> str:
    return hashlib.sha1(message.encode()).hexdigest()[:12]


_announced: set[str] = {key for key in os.environ.get(ANNOUNCED_ENV, "").split(",") if key}
#: Compiled models (infer requests) kept per process, least recently used dropped first.
MAX_COMPILED = 32
_compiled: OrderedDict[tuple[Any, ...], Any] = OrderedDict()


def announce_once(message: str) -> None:
    """Emit ``message`` as a ``RuntimeWarning`` once per run: the first time it is seen in this
    process, unless the process that started this one said it already (``$SIAMOT_ANNOUNCED``)."""
    key = _announcement_key(message)
    if key in _announced:
        return
    _announced.add(key)
    os.environ[ANNOUNCED_ENV] = ",".join(sorted(_announced))
    warnings.warn(message, RuntimeWarning, stacklevel=3)


def cpu_flags(path: str | Path = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU feature flags of the first processor in ``path`` (empty where unreadable)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features"):  # x86 / ARM
            return frozenset(value.split())
    return frozenset()


#: The x86 flags this module decides by, and those of them that oneDNN's instruction-set cap
#: (``ONEDNN_MAX_CPU_ISA``, read by torch's oneDNN and by OpenVINO's CPU plugin) leaves usable; a
#: cap not listed (``DEFAULT``, ``ALL``, ``AVX512_CORE_AMX`` and newer) leaves all of them.
ISA_CAP_FLAGS: frozenset[str] = frozenset({"avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16",
                                           "amx_bf16", "amx_int8"})
ISA_CAPS: dict[str, frozenset[str]] = {
    "SSE41": frozenset(), "AVX": frozenset(), "AVX2": frozenset({"avx2"}),
    "AVX2_VNNI": frozenset({"avx2", "avx_vnni"}), "AVX2_VNNI_2": frozenset({"avx2", "avx_vnni"}),
    "AVX512_CORE": frozenset({"avx2", "avx512f"}),
    "AVX512_CORE_VNNI": frozenset({"avx2", "avx512f", "avx512_vnni"}),
    "AVX512_CORE_BF16": frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"}),
    "AVX512_CORE_FP16": frozenset({"avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16"}),
}


def usable_cpu_flags(flags: frozenset[str] | None = None, cap: str | None = None) -> frozenset[str]:
    """``flags`` (default: this CPU's, :func:`cpu_flags`) less the x86 units that the instruction-set
    ``cap`` (default: the environment's ``ONEDNN_MAX_CPU_ISA``, unset = no cap) keeps the kernels
    from using: what ``auto`` may count on, so that it never picks bf16 or an int8 model for units
    the kernels will not run on. Flags of other architectures are kept."""
    flags = cpu_flags() if flags is None else flags
    cap = os.environ.get("ONEDNN_MAX_CPU_ISA") if cap is None else cap
    allowed = ISA_CAPS.get((cap or "").strip().upper())
    if allowed is None:
        return flags
    return frozenset(flag for flag in flags if flag not in ISA_CAP_FLAGS or flag in allowed)


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bfloat16 units its kernels may use (:func:`usable_cpu_flags`)."""
    return bool(usable_cpu_flags() & BF16_CPU_FLAGS)


def int8_cpu_class(flags: frozenset[str] | None = None) -> str | None:
    """The best class of int8 units (:data:`INT8_CPU_CLASSES`) the CPU ``flags`` (default: this
    CPU's that its kernels may use, :func:`usable_cpu_flags`) have all the flags of, or ``None`` (no
    AVX2: no int8 kernels)."""
    flags = usable_cpu_flags() if flags is None else flags
    for name, needed in INT8_CPU_CLASSES:
        if needed <= flags:
            return name
    return None


def device_has_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bfloat16 natively: CPU flags (:func:`cpu_has_bf16`) or
    ``torch.cuda.is_bf16_supported()``. Elsewhere bf16 is emulated, orders of magnitude slower."""
    kind = torch.device(device).type
    if kind == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return kind == "cpu" and cpu_has_bf16()


def resolve_precision(precision: Precision, device: torch.device | str, backbone: str | None = None,
                      engine: Literal["torch", "openvino"] | None = None,
                      flags: frozenset[str] | None = None) -> ResolvedPrecision:
    """The numeric type the network runs in on ``device`` for a ``precision`` setting.

    ``'fp32'`` and ``'bf16'`` are taken as given, except ``'bf16'`` on a CPU without bf16 units with
    ``engine='openvino'``: OpenVINO runs float32 there, so it is ``'fp32'``, said once (with torch,
    bf16 without hardware support is emulated, slowly). ``'int8'`` needs the CPU,
    ``engine='openvino'`` (when given) and the ``nncf`` and ``openvino`` packages (``ImportError`` naming the missing one; ``ValueError`` otherwise).
    ``'auto'``: int8 where :func:`int8_choice` allows it for ``backbone`` (only considered when
    ``backbone`` is given and the prefix runs in OpenVINO, ``engine='openvino'``), else bf16 where
    :func:`device_has_bf16`, else fp32 on the CPU and fp16 on CUDA. ``flags``: the CPU flags
    (default: this CPU's). Falling back is said once per run (:func:`announce_once`).
    """
    if precision not in ("auto", "fp32", "bf16", "int8"):
        raise ValueError(f"precision must be 'auto', 'fp32', 'bf16' or 'int8', got {precision!r}")
    kind = torch.device(device).type
    if precision == "int8":
        if kind != "cpu":
            raise ValueError(f"precision='int8' runs on the CPU only (OpenVINO), but the network is on {kind}")
        if engine == "torch":
            raise ValueError("precision='int8' runs the frozen backbone in OpenVINO, but the engine is torch "
                             "(engine='torch', or no frozen block to hand over)")
        for package, available in (("openvino", openvino_available), ("nncf", nncf_available)):
            if not available():
                raise ImportError(f"precision='int8' needs the {package} package (int8 post-training "
                                  f"quantisation of the frozen backbone): pip install {package}")
        return "int8"
    if precision == "bf16" and kind == "cpu" and engine == "openvino" and _floating_choice(device, flags)[0] != "bf16":
        # OpenVINO takes the bf16 hint only on CPUs with bf16 units: elsewhere it runs float32, and
        # the results would be labelled with a precision that never ran.
        announce_once("precision='bf16': this CPU has no bfloat16 units and OpenVINO ignores the bf16 hint "
                      "there; the network runs in float32 (and is recorded so)")
        return "fp32"
    if precision != "auto":
        return precision
    if kind == "cpu" and backbone is not None and engine == "openvino":
        floating = _floating_choice(device, flags)[0]
        use, why = int8_choice(backbone, floating, flags)
        if use:
            return "int8"
        announce_once(f"precision='auto': no int8 for {backbone}: {why}; the network runs in "
                      f"{'bfloat16' if floating == 'bf16' else 'float32'}")
    return _floating_precision(device, flags)


def int8_choice(backbone: str, floating: ResolvedPrecision, flags: frozenset[str] | None = None
                ) -> tuple[bool, str]:
    """Whether ``'auto'`` runs ``backbone``'s frozen prefix in int8 on a CPU with ``flags`` (default:
    this CPU's) instead of ``floating`` (the precision it would pick otherwise), and why not.

    The run-time check of the quantised model's agreement with float32 comes later
    (:class:`InferenceBackbone`, :data:`INT8_MIN_AGREEMENT`)."""
    cpu_class = int8_cpu_class(flags)
    if cpu_class is None:
        return False, "this CPU has no int8 units (none of avx2, avx_vnni, avx512_vnni, amx_int8 in /proc/cpuinfo)"
    speedup = INT8_SPEEDUP.get(cpu_class, {}).get(backbone)
    if speedup is None:
        return False, f"int8 was not measured for {backbone} on CPUs of class {cpu_class}"
    if speedup < INT8_MIN_SPEEDUP:
        return False, (f"int8 measured {speedup:.2f}x the speed of "
                       f"{'bf16' if floating == 'bf16' else 'float32'} on CPUs of class {cpu_class}")
    losses = INT8_ACCURACY.get(cpu_class, {}).get(backbone)
    if losses is None:
        return False, (f"its int8 accuracy was not measured on CPUs of class {cpu_class} "
                       "(ltr.inference.engine.INT8_ACCURACY)")
    if min(losses) < -INT8_MAX_AUC_LOSS:
        return False, f"int8 measured {min(losses):+.2f} AUC points against float32 on CPUs of class {cpu_class}"
    for package, available in (("openvino", openvino_available), ("nncf", nncf_available)):
        if not available():
            return False, f"the {package} package is not installed (pip install {package})"
    return True, ""


def _floating_choice(device: torch.device | str, flags: frozenset[str] | None = None
                     ) -> tuple[ResolvedPrecision, str | None]:
    """``'auto'``'s floating-point choice: bf16 with bf16 units, else fp32 (CPU) or fp16 (CUDA), and
    the line that says why it is not bf16 (``None`` when it is). ``flags``: the CPU's flags
    (default: this CPU's, :func:`cpu_has_bf16`); ignored on CUDA."""
    kind = torch.device(device).type
    if kind == "cuda":
        if device_has_bf16(device):
            return "bf16", None
        return "fp16", "precision='auto': this GPU has no bfloat16 support; the network runs in float16"
    if kind == "cpu" and (cpu_has_bf16() if flags is None else bool(flags & BF16_CPU_FLAGS)):
        return "bf16", None
    return "fp32", (f"precision='auto': no bfloat16 units on this {kind.upper()} "
                    f"(none of {', '.join(sorted(BF16_CPU_FLAGS))} in its flags); the network runs in float32")


def _floating_precision(device: torch.device | str, flags: frozenset[str] | None = None) -> ResolvedPrecision:
    """:func:`_floating_choice`, saying once why it is not bf16."""
    floating, without_bf16 = _floating_choice(device, flags)
    if without_bf16:
        announce_once(without_bf16)
    return floating


def openvino_available() -> bool:
    """Whether the optional ``openvino`` package can be imported."""
    try:
        import openvino  # noqa: F401
    except ImportError:
        return False
    return True


def nncf_available() -> bool:
    """Whether the optional ``nncf`` package (int8 post-training quantisation) can be imported."""
    try:
        import nncf  # noqa: F401
    except ImportError:
        return False
    return True


def resolve_engine(engine: Engine, device: torch.device | str, frozen_length: int) -> Literal["torch", "openvino"]:
    """The engine for the frozen prefix: ``'auto'`` = OpenVINO on CPU when importable and the
    prefix is not empty, else torch. ``'openvino'`` raises ``ImportError`` (naming the package)
    when it is missing and ``ValueError`` off the CPU."""
    if engine not in ("auto", "torch", "openvino"):
        raise ValueError(f"engine must be 'auto', 'torch' or 'openvino', got {engine!r}")
    kind = torch.device(device).type
    if engine == "openvino":
        if kind != "cpu":
            raise ValueError(f"engine='openvino' runs on the CPU only, but the network is on {kind}")
        if not openvino_available():
            raise ImportError("engine='openvino' needs the openvino package: pip install openvino")
        return "openvino"
    if engine == "auto" and kind == "cpu" and frozen_length > 0:
        if openvino_available():
            return "openvino"
        announce_once("engine='auto': openvino is not installed; the backbone runs in torch (pip install openvino)")
    return "torch"


class NormalizedPrefix(nn.Module):
    """``features[:n](normalize(images))``: the part handed to the engine, normalisation included."""

    def __init__(self, backbone: nn.Module, frozen_length: int) -> None:
        super().__init__()
        self.register_buffer("pixel_mean", backbone.pixel_mean.detach().clone().float().cpu(), persistent=False)
        self.register_buffer("pixel_std", backbone.pixel_std.detach().clone().float().cpu(), persistent=False)
        prefix = copy.deepcopy(backbone.features[:frozen_length]).float().cpu()
        self.prefix = prefix.to(memory_format=torch.contiguous_format).eval()
        for p in self.prefix.parameters():
            p.requires_grad_(False)

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        return self.prefix((images - self.pixel_mean) / self.pixel_std)


def weights_fingerprint(module: nn.Module) -> str:
    """SHA-1 of a module's state dict (names, shapes, dtypes and values): the cache key of its weights."""
    digest = hashlib.sha1()
    for name, value in module.state_dict().items():
        tensor = value.detach().cpu().contiguous()
        digest.update(f"{name}:{tuple(tensor.shape)}:{tensor.dtype}".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


#: OpenVINO models of prefixes kept per process: (kind, weights fingerprint, calibration id, overflow
#: fix) -> (dynamic-input model, agreement with float32 or ``None``); the disk cache is behind them.
_models: dict[tuple[str, str, str, bool], tuple[Any, float | None]] = {}


def int8_overflow_fix(flags: frozenset[str] | None = None) -> bool:
    """Whether int8 models are quantised with NNCF's overflow fix on every layer (7-bit weights) for
    a CPU with ``flags`` (default: this CPU's): where its best int8 units are plain AVX2
    (:func:`int8_cpu_class`), whose kernels add pairs of int8 products in 16 bits and can saturate."""
    return int8_cpu_class(flags) == "avx2"


def _openvino_model(module: NormalizedPrefix, fingerprint: str, precision: ResolvedPrecision,
                    calibration: list[np.ndarray] | None = None) -> tuple[Any, float | None]:
    """The dynamic-input OpenVINO model of ``module`` for ``precision`` and, for int8, its feature
    agreement with float32: from this process's models, else the disk cache, else built."""
    if precision != "int8":
        key = ("converted", fingerprint, "", False)
        if key not in _models:
            _models[key] = (openvino_models.converted_model(module, fingerprint, announce_once), None)
        return _models[key]
    if calibration is None:
        if calibration_source() == "synthetic":
            announce_once(f"precision='int8': matplotlib's sample photograph ({PHOTO}) is not installed; "
                          "the int8 model is calibrated on synthetic scenes instead (less accurate)")
        crops = calibration_crops()
    else:
        crops = list(calibration)
    identity = calibration_identity(crops)
    overflow_fix = int8_overflow_fix()
    key = ("int8", fingerprint, identity, overflow_fix)
    if key not in _models:
        _models[key] = openvino_models.quantized_model(module, fingerprint, crops, identity, announce_once,
                                                       threads=torch.get_num_threads(), overflow_fix=overflow_fix)
    return _models[key]


def _openvino_request(model: Any, key: tuple[Any, ...], shape: tuple[int, ...],
                      precision: ResolvedPrecision, threads: int) -> Any:
    """An infer request of the dynamic-input ``model`` compiled for CPU at input ``shape`` (cached
    by ``key``). int8 models run their quantised operations in int8 and the others in float32."""
    request = _compiled.get(key)
    if request is None:
        config = {"INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
                  "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        request = openvino_models.compile_for_shape(model, shape, config)
        _compiled[key] = request
        while len(_compiled) > MAX_COMPILED:
            _compiled.popitem(last=False)
    else:
        _compiled.move_to_end(key)
    return request


class InferenceBackbone:
    """A backbone's inference: frozen prefix on an engine, trainable suffix in torch.

    Args:
        backbone: a ``ltr.models.backbone.Backbone`` (``normalize`` + ``features``).
        frozen_length: number of leading children of ``backbone.features`` that never train
            (``len(features)`` when nothing is trainable; 0 for a non-sequential ``features``).
        precision: ``'auto'``, ``'fp32'``, ``'bf16'`` or ``'int8'`` (:func:`resolve_precision`).
            int8 quantises the frozen prefix when the runner is built (once per prefix and
            calibration set: the model is kept on disk, ``ltr.inference.openvino_models``).
        engine: ``'auto'``, ``'torch'`` or ``'openvino'`` (:func:`resolve_engine`).
        device: where the torch part runs (the backbone's device).
        calibration: int8 calibration crops, each ``(1, 3, H, W)`` float32 RGB in [0, 255] (e.g.
            crops of the user's own sequence); ``None``: ``ltr.inference.calibration``'s set.

    Calling it on ``(B, 3, H, W)`` float32 RGB images in [0, 255] returns the float32 features
    of ``backbone(images)`` (no autograd graph); inputs on the CPU go to the engine as they are.
    """

    def __init__(self, backbone: nn.Module, frozen_length: int, precision: Precision = "auto",
                 engine: Engine = "auto", device: torch.device | str = "cpu",
                 calibration: list[np.ndarray] | None = None) -> None:
        features = backbone.features
        if not isinstance(features, nn.Sequential):
            frozen_length = 0
        if not 0 <= frozen_length <= len(features):
            raise ValueError(f"frozen_length must be in [0, {len(features)}], got {frozen_length}")
        self.backbone = backbone
        self.device = torch.device(device)
        self.frozen_length = frozen_length
        self.engine = resolve_engine(engine, self.device, frozen_length)
        name = getattr(getattr(backbone, "spec", None), "name", None)
        self.precision: ResolvedPrecision = resolve_precision(precision, self.device, name, self.engine)
        #: int8 only: smallest cosine similarity of int8 and float32 features on the calibration crops.
        self.int8_agreement: float | None = None
        if self.engine == "openvino":
            self._prefix = NormalizedPrefix(backbone, frozen_length)
            self._fingerprint = weights_fingerprint(self._prefix)
            self._suffix = features[frozen_length:]
            self._model: Any = None
            if precision == "auto" and self.precision == "int8" and \
                    self._fingerprint not in INT8_MEASURED_WEIGHTS.get(name or "", frozenset()):
                self.precision = _floating_precision(self.device)
                announce_once(f"precision='auto': no int8 for {name}: its int8 accuracy was measured with other "
                              f"weights (ltr.inference.engine.INT8_MEASURED_WEIGHTS), not these (prefix "
                              f"{self._fingerprint[:12]}); the network runs in {self.precision}")
            if self.precision == "int8":
                self._model, self.int8_agreement = _openvino_model(self._prefix, self._fingerprint, "int8",
                                                                   calibration)
                if precision == "auto" and self.int8_agreement < INT8_MIN_AGREEMENT:
                    self.precision = _floating_precision(self.device)
                    self._model = None
                    announce_once(f"precision='auto': no int8 for {name}: its int8 features agree with float32 "
                                  f"only to cosine {self.int8_agreement:.3f} < {INT8_MIN_AGREEMENT} on the "
                                  f"calibration crops; the network runs in {self.precision}")
        # int8 concerns the engine's prefix only: the torch suffix then runs in float32.
        self._autocast = self.precision not in ("fp32", "int8")

    def check_frozen(self) -> None:
        """Raise ``ValueError`` if a parameter of the frozen prefix is trainable (the engine
        would keep computing with the weights it was built from)."""
        if self.engine == "torch":
            return
        prefix = self.backbone.features[:self.frozen_length]
        if any(p.requires_grad for p in prefix.parameters()):
            raise ValueError(f"the first {self.frozen_length} blocks of backbone '{self.backbone.spec.name}' run on "
                             f"{self.engine} but have trainable parameters")

    def _torch(self, module: nn.Module, inputs: torch.Tensor) -> torch.Tensor:
        if self._autocast:
            with torch.autocast(self.device.type, dtype=_DTYPES[self.precision]):
                return module(inputs).float()
        return module(inputs)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            if self.engine == "torch":
                return self._torch(self.backbone, images)
            if images.dim() != 4 or images.shape[1] != 3:
                raise ValueError(f"backbone '{self.backbone.spec.name}' expects (B, 3, H, W) images, "
                                 f"got {tuple(images.shape)}")
            shape = tuple(images.shape)
            threads = torch.get_num_threads()
            if self._model is None:
                self._model = _openvino_model(self._prefix, self._fingerprint, self.precision)[0]
            key = (self._fingerprint, id(self._model), shape, self.precision, threads)
            request = _openvino_request(self._model, key, shape, self.precision, threads)
            array = np.ascontiguousarray(images.detach().to("cpu", torch.float32).numpy())
            # The request reuses its output buffer on the next call: copy (cached exemplar features).
            hidden = torch.from_numpy(np.array(request.infer([array])[0], dtype=np.float32))
            if len(self._suffix) == 0:
                return hidden.to(self.device)
            return self._torch(self._suffix, hidden.to(self.device))
