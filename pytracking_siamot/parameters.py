"""SiamOT parameters: one typed, frozen dataclass with every default, plus a pytracking view.

``SiamOTParams`` holds the algorithm's settings (SiamFC inference, the paper's online
training). Variants are made with :func:`dataclasses.replace` (e.g. the baseline without
online training). Runners written for pytracking expect an attribute bag with
``get``/``has`` and settable ``debug``/``visualization``: :class:`TrackerParams` is a thin
view that gives exactly that without making the settings themselves mutable.
"""
from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass
from typing import Any, Iterable, Literal

Device = Literal["auto", "cpu", "cuda"]

#: The paper's thresholds (Section 3.1), for ``dataclasses.replace(params, **PAPER_THRESHOLDS)``.
PAPER_THRESHOLDS: dict[str, float] = {"zero_loss_threshold": 1.0, "confidence_threshold": 0.7}

#: The online update exactly as written in the paper: its thresholds, Eq. 8 relative to the
#: updated ``R_t`` and the full Eq. 11 update rate (``dataclasses.replace(params, **PAPER_ONLINE)``).
PAPER_ONLINE: dict[str, Any] = {**PAPER_THRESHOLDS, "confidence_reference": "template", "template_update_max": 1.0,
                                "current_map": "recrop"}


@dataclass(frozen=True)
class SiamOTParams:
    """All SiamOT settings and their defaults.

    Network:
        backbone: name in ``ltr.models.backbone.BACKBONES``.
        pretrained: load ImageNet weights (offline for mobilenet_v2 / efficientnet_lite0).
        weights_path: a state-dict file to load instead (full network keys), or ``None``.
        device: ``'auto'`` (CUDA when available), ``'cpu'`` or ``'cuda'``.
        exemplar_centering: subtract the per-channel spatial mean of the exemplar features
            ``Zf`` before the cross-correlation. ImageNet features are never trained for
            SiamFC here (as in the paper), and raw correlation of non-negative (ReLU) or
            high-energy features favours bright, textured regions over the target; centring
            makes the score a covariance between the template pattern and each window. Chosen
            by measurement (see ``benchmarks/otb_subset.py`` and the README).
        feature_border_crop: feature cells dropped on each side of ``Zf`` and ``Xf`` before
            the correlation (``SiamFC(border_crop=...)``): zero padding makes the border cells
            of both maps match each other, which produced corner peaks that dragged the
            target off on every backbone we tried; the score map keeps its size.
        correlation: implementation of the cross-correlation, same result up to float
            summation order: ``'conv'`` (grouped convolution), ``'matmul'`` (one GEMM plus a
            gather-sum; on CPU 3-4x faster, e.g. AlexNet 3 scales 6.3 -> 1.7 ms) or
            ``'auto'`` (matmul on CPU, conv on CUDA).
        channels_last: run the network in NHWC memory format (same result up to float
            summation order). On CPU it was faster for all six backbones (2 threads, Crossing:
            x1.1 ResNet-34 to x1.8 EfficientNet-Lite0; README, Speed); not measured on a GPU.
        precision: numeric type of the backbone's inference (``ltr.inference.engine``):
            ``'auto'`` (default) = bfloat16 where the hardware has bf16 units (CPU flags
            ``amx_bf16``/``avx512_bf16``; CUDA bf16, else float16), float32 elsewhere (said
            once); ``'fp32'`` or ``'bf16'`` to force one. Features come back as float32: the
            correlation, score maps and the online maths stay float32, and online training
            (its backward pass) runs in float32.
        engine: what runs the frozen part of the backbone (the leading blocks online training
            never changes, all of it when nothing is trainable): ``'auto'`` (default) =
            OpenVINO on CPU when installed, else torch; ``'torch'``; ``'openvino'`` (CPU only).
            The trainable blocks always run in torch.

    SiamFC inference (Bertinetto et al. / siamfc-pytorch values):
        context, exemplar_size, instance_size, scale_num, scale_step, scale_penalty,
        scale_damping (the scale learning rate), window_influence, response_upsample.
        min_scale_factor / max_scale_factor: the target size is clamped to this range times
            the initial size (a SiamFC scale drift would otherwise be unbounded).
        min_target_size: absolute minimum width/height in pixels.

    Online training (paper Sections 2.3-2.5):
        online_training: run the online update (``False`` is the SiamFC baseline).
        normalization: ``'softmax'`` (with ``softmax_temperature``) or ``'shift'``
            (shift-and-divide) to turn score maps into distributions for the KL loss (Eq. 4).
            Softmax is the default: on real OTB frames and the synthetic appearance change,
            shift-and-divide gave KL 0.05-0.27, never above ``T_l = 1``, so the paper's
            zero-loss threshold would switch training off for good.
        softmax_temperature: relative to the std of the first-frame template map (see
            ``OnlineUpdater``); 1.0 gave KL 0.3-1.7 on drifting real frames (0.5: 0.1-1.1,
            0.25: <= 0.2, lower temperatures make both maps one-hot on the same cell: KL ~ 0).
        zero_loss_threshold: ``T_l`` of Eq. 5. The paper uses 1.0 (see ``PAPER_THRESHOLDS``)
            with its own, unstated map normalisation.
        confidence_threshold: ``T_c``, JCPP must exceed it to train and update ``R_t``; the
            paper uses 0.7. With ImageNet features (no SiamFC offline training) JCPP on
            correctly tracked OTB frames is mostly 0.4-0.7, and with the paper's pair
            (0.7, 1.0) online training never ran on Couple, Deer, Football1 and Tiger1: "with
            OT" was the baseline. 0.55 (with ``T_l`` 0.3) was chosen over 0.5 and 0.6 on the
            nine OTB2013 targets with both offline backbones (README, "The tracker and its
            measured results"); the subset is not held out.
        jcpp_weight: ``lambda`` of Eq. 9.
        learning_rate, momentum, train_iterations: SGD settings (4 iterations, momentum 0.9).
            The paper gives no learning rate; 1e-2 was chosen over 1e-3 and 1e-4 on Football1
            and Deer with mobilenet_v2 (mean AUC 0.700 / 0.685 / 0.535, baseline 0.687).
        trainable_layers: number of last parameterised blocks of ``backbone.features`` that
            are fine-tuned (``0`` = all of them). BatchNorm statistics stay frozen.
        psr_window: side of the PSR exclusion window on the 17x17 maps; ``0`` scales
            MOSSE's 11x11-of-64x64 to the map size (3x3).
        confidence_reference: what Eq. 8 divides by: ``'first_frame'`` (default) = the first
            frame's ``R_t``, fixed per sequence, or ``'template'`` = the current ``R_t`` as
            written in the paper. With ``'template'``, Eq. 10 moves ``R_t`` to ``R_c`` whenever
            JCPP > T_c, so after a few frames ``R_t`` is the last frame's map and JCPP ~ 1 on
            every frame, also after the tracker drifted onto background (Tiger1, MobileNetV2:
            JCPP 0.87-1.0 on frames 29-54 at IoU 0-0.2). The confidence then measures
            frame-to-frame similarity, and training reinforces drift (Tiger1 AUC 0.28 vs 0.46
            baseline). Measured against the first frame, the same frames score 0.2-0.3.
        template_update_max: multiplies ``alpha`` of Eq. 11 (1.0 = the paper).
        current_map: how ``R_c`` is obtained: ``'recrop'`` (the paper: a new search crop
            centred on the tracked position, one more backbone pass per frame) or
            ``'shifted'`` (the chosen scale's response resampled at the new centre, no extra
            pass; the search image for training is cropped only when training fires).
            ``'shifted'`` makes online training almost free on frames without a training event
            (CPU FPS ratio 0.97-1.05 instead of 0.71-0.79) but is an approximation: OTB subset
            mean AUC 0.685 / 0.660 (MobileNetV2 / EfficientNet-Lite0) against 0.694 / 0.679.
            ``'gated'`` (default): the shifted map first; only when its JCPP exceeds ``T_c``
            (the frames where the paper would update ``R_t`` or train) the paper's recropped
            ``R_c`` is computed and used for the decision, the loss, training and the update.
            Frames the shifted map calls unconfident change nothing in the paper either, so
            only a frame whose shifted JCPP is <= T_c while the recropped one is > T_c is
            handled differently. OTB subset: mean AUC 0.699 / 0.673 (recrop 0.694 / 0.679),
            FPS ratio to the baseline 0.86 (recrop 0.70) for MobileNetV2 on 2 CPU threads.
    """

    backbone: str = "mobilenet_v2"
    pretrained: bool = True
    weights_path: str | None = None
    device: Device = "auto"
    exemplar_centering: bool = True
    feature_border_crop: int = 2
    correlation: Literal["auto", "conv", "matmul"] = "auto"
    channels_last: bool = True
    precision: Literal["auto", "fp32", "bf16"] = "auto"
    engine: Literal["auto", "torch", "openvino"] = "auto"

    context: float = 0.5
    exemplar_size: int = 127
    instance_size: int = 255
    scale_num: int = 3
    scale_step: float = 1.0375
    scale_penalty: float = 0.9745
    scale_damping: float = 0.59
    window_influence: float = 0.176
    response_upsample: int = 16
    min_scale_factor: float = 0.2
    max_scale_factor: float = 5.0
    min_target_size: float = 4.0

    online_training: bool = True
    normalization: Literal["softmax", "shift"] = "softmax"
    softmax_temperature: float = 1.0
    zero_loss_threshold: float = 0.3
    confidence_threshold: float = 0.55
    jcpp_weight: float = 0.5
    learning_rate: float = 1e-2
    momentum: float = 0.9
    train_iterations: int = 4
    trainable_layers: int = 2
    psr_window: int = 0
    confidence_reference: Literal["template", "first_frame"] = "first_frame"
    template_update_max: float = 1.0
    current_map: Literal["recrop", "shifted", "gated"] = "gated"

    def __post_init__(self) -> None:
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device must be 'auto', 'cpu' or 'cuda', got {self.device!r}")
        if self.correlation not in ("auto", "conv", "matmul"):
            raise ValueError(f"correlation must be 'auto', 'conv' or 'matmul', got {self.correlation!r}")
        if self.precision not in ("auto", "fp32", "bf16"):
            raise ValueError(f"precision must be 'auto', 'fp32' or 'bf16', got {self.precision!r}")
        if self.engine not in ("auto", "torch", "openvino"):
            raise ValueError(f"engine must be 'auto', 'torch' or 'openvino', got {self.engine!r}")
        if self.current_map not in ("recrop", "shifted", "gated"):
            raise ValueError(f"current_map must be 'recrop', 'shifted' or 'gated', got {self.current_map!r}")
        if self.confidence_reference not in ("template", "first_frame"):
            raise ValueError(f"confidence_reference must be 'template' or 'first_frame', "
                             f"got {self.confidence_reference!r}")
        if not 0.0 <= self.template_update_max <= 1.0:
            raise ValueError(f"template_update_max must be in [0, 1], got {self.template_update_max}")
        if self.normalization not in ("softmax", "shift"):
            raise ValueError(f"normalization must be 'softmax' or 'shift', got {self.normalization!r}")
        if self.scale_num < 1 or self.scale_num % 2 == 0:
            raise ValueError(f"scale_num must be a positive odd number, got {self.scale_num}")
        if self.train_iterations < 0 or self.trainable_layers < 0:
            raise ValueError("train_iterations and trainable_layers must be >= 0")
        if not 0.0 <= self.confidence_threshold < 1.0:
            raise ValueError(f"confidence_threshold must be in [0, 1), got {self.confidence_threshold}")


class TrackerParams:
    """pytracking-style view of a :class:`SiamOTParams`.

    Attribute reads fall through to the frozen settings; ``debug`` and ``visualization``
    (set by runners) and names added with :meth:`set_default_values` live on the view.
    Assigning a setting of the dataclass raises: make a variant with ``dataclasses.replace``.
    """

    _VIEW_ATTRS = ("debug", "visualization")

    def __init__(self, settings: SiamOTParams, debug: int = 0, visualization: bool = False) -> None:
        object.__setattr__(self, "settings", settings)
        object.__setattr__(self, "_extra", {"debug": debug, "visualization": visualization})

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "_extra")
        if name in extra:
            return extra[name]
        settings = object.__getattribute__(self, "settings")
        try:
            return getattr(settings, name)
        except AttributeError:
            raise AttributeError(f"SiamOT parameters have no attribute '{name}'") from None

    def __setattr__(self, name: str, value: Any) -> None:
        if name in self._VIEW_ATTRS or (name in self._extra and not self._is_setting(name)):
            self._extra[name] = value
            return
        if self._is_setting(name):
            raise AttributeError(f"'{name}' is a frozen SiamOT setting; use dataclasses.replace(params.settings, "
                                 f"{name}=...) to make a variant")
        raise AttributeError(f"unknown SiamOT parameter '{name}'; add it with set_default_values()")

    def _is_setting(self, name: str) -> bool:
        return name in {f.name for f in dataclasses.fields(SiamOTParams)}

    def has(self, name: str) -> bool:
        """Whether ``name`` is a setting or a view attribute."""
        return name in self._extra or self._is_setting(name)

    def get(self, name: str, *default: Any) -> Any:
        """``params.get(name)`` or ``params.get(name, default)`` as in pytracking.

        Without a default a missing name raises ``AttributeError``.
        """
        if len(default) > 1:
            raise TypeError("get() takes at most one default value")
        if self.has(name):
            return getattr(self, name)
        if default:
            return default[0]
        raise AttributeError(f"SiamOT parameters have no attribute '{name}'")

    def set_default_values(self, defaults: dict[str, Any]) -> None:
        """Add view attributes for the names not already present (pytracking semantics)."""
        for name, value in defaults.items():
            if not self.has(name):
                self._extra[name] = value

    def __repr__(self) -> str:
        return f"TrackerParams({self.settings!r}, debug={self.debug!r}, visualization={self.visualization!r})"


def make_parameters(backbone: str, online_training: bool, **overrides: Any) -> TrackerParams:
    """A fresh :class:`TrackerParams` for ``backbone`` (used by every ``parameter/siamot`` file)."""
    return TrackerParams(SiamOTParams(backbone=backbone, online_training=online_training, **overrides))


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings (command-line ``--set``) -> ``SiamOTParams`` overrides.

    Values are JSON (``0.5``, ``true``, ``[1, 2]``); ``True``/``False`` are accepted and any
    other bare word is a string (``current_map=recrop``). Raises ``ValueError`` for an item
    without ``=`` or a name that is not a ``SiamOTParams`` field.
    """
    fields = {f.name for f in dataclasses.fields(SiamOTParams)}
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects NAME=VALUE, got '{item}'")
        key, text = (part.strip() for part in item.split("=", 1))
        if key not in fields:
            raise ValueError(f"unknown parameter '{key}' in --set; SiamOTParams fields: {', '.join(sorted(fields))}")
        if text in ("True", "False"):
            out[key] = text == "True"
            continue
        try:
            out[key] = json.loads(text)
        except json.JSONDecodeError:
            out[key] = text
    return out
