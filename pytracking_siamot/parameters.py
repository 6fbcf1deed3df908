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
import math
from dataclasses import dataclass
from typing import Any, Iterable, Literal

Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class SiamOTParams:
    """All SiamOT settings and their defaults (measured figures behind them: ``docs/online_training.md``).

    Network:
        backbone: name in ``ltr.models.backbone.BACKBONES``.
        pretrained: load ImageNet weights (offline for mobilenet_v2 / efficientnet_lite0).
        weights_path: a state-dict file to load instead (full network keys), or ``None``.
        device: ``'auto'`` (CUDA when available), ``'cpu'`` or ``'cuda'``.
        exemplar_centering: subtract the per-channel spatial mean of ``Zf`` before the
            cross-correlation (scores become covariances; raw correlation of untrained ImageNet
            features favours bright, textured regions over the target).
        feature_border_crop: feature cells dropped on each side of ``Zf`` and ``Xf`` before the
            correlation (``SiamFC(border_crop=...)``): zero padding makes border cells of both
            maps match and puts spurious peaks in the map's corners; the map keeps its size.
        correlation: ``'conv'`` (grouped convolution), ``'matmul'`` (GEMM plus gather-sum, faster
            on CPU) or ``'auto'`` (matmul on CPU, conv on CUDA); same result up to float order.
        channels_last: run the network in NHWC memory format (same result up to float order).
        torch_threads: torch's CPU thread count (``torch.set_num_threads``), set by ``initialize``
            (torch has one process-wide setting, so it stays after the sequence). ``None``
            (default) leaves the caller's setting: SiamOT's runners pin it (``--torch-threads``,
            default 1, so serial and parallel result files are bit-identical). Inside pytracking,
            whose runner pins nothing, the parameter shims use 1 when it is ``None``
            (``pytracking_compat.load_parameters``; same boxes, several times faster on a loaded
            machine: the README's pytracking section has the measurement).
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
            the initial size. min_target_size: absolute minimum width/height in pixels.

    Confidence and template score map (paper Sections 2.4-2.5, used by both online methods):
        normalization: ``'softmax'`` (temperature ``softmax_temperature`` times the std of the
            first-frame template map) or ``'shift'`` (shift-and-divide) to turn score maps into
            distributions for the KL loss (Eq. 4).
        zero_loss_threshold: ``T_l`` of Eq. 5 (the paper: 1.0, ``variants.PAPER_THRESHOLDS``). With the
            adapter it is a floor: a training event whose memory loss is ``<= T_l`` takes no step.
        confidence_threshold: ``T_c``; a frame is confident when JCPP > ``T_c`` (the paper: 0.7).
        jcpp_weight: ``lambda`` of Eq. 9. psr_window: PSR exclusion window on the 17x17 maps
            (0 = MOSSE's 11x11-of-64x64 scaled to the map: 3x3).
        confidence_reference: what Eq. 8 divides by: ``'first_frame'`` (the first frame's
            ``R_t``, fixed per sequence) or ``'template'`` (the current, updated ``R_t``, as
            written in the paper; Eq. 10 then pulls ``R_t`` to the last confident map and JCPP
            drifts to ~1 even on background).
        template_update_max: multiplies ``alpha`` of Eq. 11 (1.0 = the paper).

    Online training (``pytracking_siamot.online``; one :class:`~pytracking_siamot.online.method.OnlineMethod`
    per method, chosen by ``pytracking_siamot.online.factory``):
        online_training: run it (``False`` is the SiamFC baseline).
        online_method: ``'adapter'`` (default; ``online.adapter.AdapterMethod``): the backbone stays
            frozen and an identity-initialised adapter on the ``Zf`` cells of the target is trained on
            a sample memory; ``'backbone'`` (the paper, ``online.backbone.BackboneFineTuning``): the
            last ``trainable_layers`` blocks are fine-tuned on the current frame when JCPP > ``T_c``
            and loss > ``T_l`` (Eq. 5).
        current_map: how ``R_c`` is obtained by the paper's method and the baseline's debug output:
            ``'recrop'`` (the paper: a search crop centred on the tracked position, one more backbone
            pass per frame), ``'shifted'`` (the chosen scale's response resampled at the new centre,
            no extra pass) or ``'gated'`` (the shifted map first, the recropped one only when its
            JCPP exceeds ``T_c``). The adapter always uses the shifted maps.

    The paper's backbone fine-tuning (``online_method='backbone'``):
        learning_rate, momentum, train_iterations: SGD (the paper: momentum 0.9, 4 iterations;
            it gives no learning rate). trainable_layers: last parameterised blocks of
            ``backbone.features`` fine-tuned (0 = all); BatchNorm statistics stay frozen.

    The adapter (``online_method='adapter'``):
        label_sigma: a sample's label is a Gaussian of ``label_sigma`` cells centred on the
            tracked position in the chosen scale's crop.
        train_every: train after every ``train_every`` confident frames (each confident frame
            adds a sample; unconfident frames add nothing).
        memory_size: samples kept besides the first frame (FIFO).
        first_frame_weight: the first frame's share of the loss (never forgotten).
        memory_decay: weight ratio of a sample to the next newer one.
        adapter_learning_rate, adapter_iterations: normalised gradient steps per training event
            (each step has an RMS of the learning rate over the free elements, in RMS units of
            ``Zf``, and moves elements in proportion to their gradient).
        adapter_regularization: weight of the squared distance to the identity adapter.
    """

    backbone: str = "mobilenet_v2"
    pretrained: bool = True
    weights_path: str | None = None
    device: Device = "auto"
    exemplar_centering: bool = True
    feature_border_crop: int = 2
    correlation: Literal["auto", "conv", "matmul"] = "auto"
    channels_last: bool = True
    torch_threads: int | None = None
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
    confidence_threshold: float = 0.3
    jcpp_weight: float = 0.5
    learning_rate: float = 1e-2
    momentum: float = 0.9
    train_iterations: int = 4
    trainable_layers: int = 2
    psr_window: int = 0
    confidence_reference: Literal["template", "first_frame"] = "first_frame"
    template_update_max: float = 1.0
    current_map: Literal["recrop", "shifted", "gated"] = "gated"
    online_method: Literal["adapter", "backbone"] = "adapter"
    label_sigma: float = 0.5
    train_every: int = 5
    memory_size: int = 10
    first_frame_weight: float = 0.3
    memory_decay: float = 0.8
    adapter_learning_rate: float = 0.2
    adapter_iterations: int = 5
    adapter_regularization: float = 0.1

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
        if self.torch_threads is not None and self.torch_threads < 1:
            raise ValueError(f"torch_threads must be >= 1 or None, got {self.torch_threads}")
        if not 0.0 <= self.confidence_threshold < 1.0:
            raise ValueError(f"confidence_threshold must be in [0, 1), got {self.confidence_threshold}")
        if self.zero_loss_threshold < 0.0:
            raise ValueError(f"zero_loss_threshold must be >= 0 (a KL loss is), got {self.zero_loss_threshold}")


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
