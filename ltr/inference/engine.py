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

Engines (``resolve_engine``): ``'torch'`` (autocast for bf16/fp16) or ``'openvino'`` (the
frozen prefix converted with ``openvino.convert_model`` and compiled for the CPU with the
matching ``INFERENCE_PRECISION_HINT``; optional dependency). ``'auto'`` picks OpenVINO on
CPU when it is importable and the frozen prefix is not empty, torch otherwise (what each engine
and numeric type costs per CPU: ``benchmarks/backbone_engines.py``, figures in docs/speed.md).

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

Precision = Literal["auto", "fp32", "bf16"]
Engine = Literal["auto", "torch", "openvino"]
#: What ``resolve_precision`` returns: the dtype the network runs in.
ResolvedPrecision = Literal["fp32", "bf16", "fp16"]

_DTYPES: dict[str, torch.dtype] = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
#: CPU feature flags (``/proc/cpuinfo``) that mean native bfloat16 arithmetic.
BF16_CPU_FLAGS: frozenset[str] = frozenset({"amx_bf16", "avx512_bf16", "bf16"})

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


def cpu_has_bf16() -> bool:
    """Whether this CPU has native bfloat16 units (detected from its feature flags)."""
    return bool(cpu_flags() & BF16_CPU_FLAGS)


def device_has_bf16(device: torch.device | str) -> bool:
    """Whether ``device`` computes bfloat16 natively: CPU flags (:func:`cpu_has_bf16`) or
    ``torch.cuda.is_bf16_supported()``. Elsewhere bf16 is emulated, orders of magnitude slower."""
    kind = torch.device(device).type
    if kind == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    return kind == "cpu" and cpu_has_bf16()


def resolve_precision(precision: Precision, device: torch.device | str) -> ResolvedPrecision:
    """The dtype name the network runs in on ``device`` for a ``precision`` setting.

    ``'fp32'`` and ``'bf16'`` are taken as given (bf16 without hardware support is emulated,
    slowly). ``'auto'``: bf16 where :func:`device_has_bf16`, else fp32 on the CPU and fp16 on
    CUDA. Falling back is said once per run (:func:`announce_once`).
    """
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {precision!r}")
    if precision != "auto":
        return precision
    kind = torch.device(device).type
    if device_has_bf16(device):
        return "bf16"
    if kind == "cuda":
        announce_once("precision='auto': this GPU has no bfloat16 support; the network runs in float16")
        return "fp16"
    announce_once(f"precision='auto': no bfloat16 units on this {kind.upper()} "
                  f"(none of {', '.join(sorted(BF16_CPU_FLAGS))} in /proc/cpuinfo); the network runs in float32")
    return "fp32"


def openvino_available() -> bool:
    """Whether the optional ``openvino`` package can be imported."""
    try:
        import openvino  # noqa: F401
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


def _openvino_request(module: NormalizedPrefix, key: tuple[Any, ...], shape: tuple[int, ...],
                      precision: ResolvedPrecision, threads: int) -> Any:
    """An infer request of ``module`` compiled for CPU at input ``shape`` (cached by ``key``)."""
    request = _compiled.get(key)
    if request is None:
        import openvino as ov

        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)  # convert_model traces with torch.jit.trace
            model = ov.convert_model(module, example_input=torch.zeros(shape))
        config = {"INFERENCE_PRECISION_HINT": "bf16" if precision == "bf16" else "f32",
                  "INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY"}
        request = ov.Core().compile_model(model, "CPU", config).create_infer_request()
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
        precision: ``'auto'``, ``'fp32'`` or ``'bf16'`` (:func:`resolve_precision`).
        engine: ``'auto'``, ``'torch'`` or ``'openvino'`` (:func:`resolve_engine`).
        device: where the torch part runs (the backbone's device).

    Calling it on ``(B, 3, H, W)`` float32 RGB images in [0, 255] returns the float32 features
    of ``backbone(images)`` (no autograd graph); inputs on the CPU go to the engine as they are.
    """

    def __init__(self, backbone: nn.Module, frozen_length: int, precision: Precision = "auto",
                 engine: Engine = "auto", device: torch.device | str = "cpu") -> None:
        features = backbone.features
        if not isinstance(features, nn.Sequential):
            frozen_length = 0
        if not 0 <= frozen_length <= len(features):
            raise ValueError(f"frozen_length must be in [0, {len(features)}], got {frozen_length}")
        self.backbone = backbone
        self.device = torch.device(device)
        self.frozen_length = frozen_length
        self.precision: ResolvedPrecision = resolve_precision(precision, self.device)
        self.engine = resolve_engine(engine, self.device, frozen_length)
        self._autocast = self.precision != "fp32"
        if self.engine == "openvino":
            self._prefix = NormalizedPrefix(backbone, frozen_length)
            self._fingerprint = weights_fingerprint(self._prefix)
            self._suffix = features[frozen_length:]

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
            key = (self._fingerprint, shape, self.precision, threads)
            request = _openvino_request(self._prefix, key, shape, self.precision, threads)
            array = np.ascontiguousarray(images.detach().to("cpu", torch.float32).numpy())
            # The request reuses its output buffer on the next call: copy (cached exemplar features).
            hidden = torch.from_numpy(np.array(request.infer([array])[0], dtype=np.float32))
            if len(self._suffix) == 0:
                return hidden.to(self.device)
            return self._torch(self._suffix, hidden.to(self.device))
