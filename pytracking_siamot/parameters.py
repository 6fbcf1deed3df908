"""SiamOT parameters: one typed, frozen dataclass with every default, plus a pytracking view.

``SiamOTParams`` holds the algorithm's settings (SiamFC inference, the paper's online
training). Variants are made with :func:`dataclasses.replace` (e.g. the baseline without
online training). Runners written for pytracking expect an attribute bag with
``get``/``has`` and settable ``debug``/``visualization``: :class:`TrackerParams` is a thin
view that gives exactly that without making the settings themselves mutable.
"""
from __future__ import annotations

import dataclasses
import functools
import json
import types
import typing
from dataclasses import dataclass
from typing import Any, Iterable, Literal

Device = Literal["auto", "cpu", "cuda"]


@dataclass(frozen=True)
class Range:
    """The allowed values of a numeric field: ``low`` / ``high`` bounds (``None``: unbounded),
    each inclusive unless ``open_low`` / ``open_high``; ``odd``: odd integers only. NaN is outside
    every range."""

    low: float | None = None
    high: float | None = None
    open_low: bool = False
    open_high: bool = False
    odd: bool = False

    def __contains__(self, value: float) -> bool:
        if self.low is not None and not (value > self.low if self.open_low else value >= self.low):
            return False
        if self.high is not None and not (value < self.high if self.open_high else value <= self.high):
            return False
        return value == value and (not self.odd or value % 2 == 1)

    def __str__(self) -> str:
        if self.low is not None and self.high is not None:
            bounds = (f"in {'(' if self.open_low else '['}{self.low:g}, {self.high:g}"
                      f"{')' if self.open_high else ']'}")
        elif self.low is not None:
            bounds = f"{'>' if self.open_low else '>='} {self.low:g}"
        elif self.high is not None:
            bounds = f"{'<' if self.open_high else '<='} {self.high:g}"
        else:
            return "an odd number" if self.odd else "a number"
        return f"an odd number {bounds}" if self.odd else bounds


def _ranged(default: Any, low: float | None = None, high: float | None = None, **kind: bool) -> Any:
    """A field with ``default`` whose values must lie in ``Range(low, high, **kind)`` (checked by
    :meth:`SiamOTParams.__post_init__`)."""
    return dataclasses.field(default=default, metadata={"range": Range(low, high, **kind)})


#: Fields renamed to the online method they belong to: old name -> new name.
RENAMED_FIELDS: dict[str, str] = {
    "learning_rate": "backbone_learning_rate", "momentum": "backbone_momentum",
    "train_iterations": "backbone_iterations", "trainable_layers": "backbone_trainable_layers",
    "label_sigma": "adapter_label_sigma", "train_every": "adapter_train_every", "memory_size": "adapter_memory_size",
    "first_frame_weight": "adapter_first_frame_weight", "memory_decay": "adapter_memory_decay",
}

#: Options removed with their code (their sweeps lost; the measurements stay in ``docs/online_training.md``).
REMOVED_FIELDS: frozenset[str] = frozenset({
    "label_center", "training_label", "sample_delay", "scale_choice", "sample_scale", "sample_weighting",
    "adapter_temperature", "adapter_confidence", "adapter", "adapter_mask", "adapter_optimizer",
})


def refuse_old_names(names: Iterable[str]) -> None:
    """Raise ``ValueError`` (one line) for the first renamed or removed field among ``names``.

    The one check of old names: direct construction (``SiamOTParams.__new__``),
    ``dataclasses.replace``, :func:`parse_overrides` (``--set``) and the toolkit's overrides all
    go through it.
    """
    for name in names:
        if name in RENAMED_FIELDS:
            raise ValueError(f"SiamOTParams has no field '{name}': it was renamed to '{RENAMED_FIELDS[name]}'")
        if name in REMOVED_FIELDS:
            raise ValueError(f"SiamOTParams has no field '{name}': the option was removed (its sweep lost; "
                             f"see docs/online_training.md)")


def _expected(hint: Any) -> tuple[tuple[type, ...], str]:
    """The Python types a type hint of ``SiamOTParams`` accepts, and how to say it."""
    options = typing.get_args(hint) if isinstance(hint, types.UnionType) else (hint,)
    accepted: list[type] = []
    words: list[str] = []
    for option in options:
        if option is type(None):
            accepted.append(type(None))
            words.append("None")
        elif option is float:
            accepted += [float, int]
            words.append("a number")
        else:
            accepted.append(option)
            words.append(f"{'an' if option.__name__[0] in 'aeiou' else 'a'} {option.__name__}")
    return tuple(accepted), " or ".join(words)


@dataclass(frozen=True)
class SiamOTParams:
    """All SiamOT settings and their defaults (measured figures behind them: ``docs/online_training.md``).

    Every field validates itself from its declaration (:meth:`__post_init__`): a ``Literal[...]``
    annotation lists the allowed strings, ``bool``/``int``/``float``/``str`` (``| None``) the type,
    and ``_ranged(default, low, high, ...)`` the numeric :class:`Range`, written once per field. A
    field that only one online method reads carries the method's prefix (``backbone_``,
    ``adapter_``); old names are refused with the new one (:data:`RENAMED_FIELDS`).

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
            machine: docs/pytracking.md has the measurement).
        precision: numeric type of the backbone's inference (``ltr.inference.engine``):
            ``'auto'`` (default) = bfloat16 where the hardware has bf16 units (CPU flags
            ``amx_bf16``/``avx512_bf16``; CUDA bf16, else float16), float32 elsewhere (said
            once); ``'fp32'`` or ``'bf16'`` to force one (``'bf16'`` on a CPU without bf16 units
            runs float32 in OpenVINO, and says so). ``'int8'``: the frozen blocks
            quantised after training with NNCF (package ``nncf``; calibrated once on generated
            tracker crops, the model kept in the user's cache folder) and run in OpenVINO, the
            trainable blocks in float32 torch; CPU only. ``'auto'`` picks int8 only on a CPU
            whose class of int8 units (``amx_int8``, ``avx512_vnni``, ``avx_vnni``, ``avx2``
            flags) has int8 measured faster than the float type it would pick, for a backbone
            whose int8 AUC was measured within 1.0 point of float32, when ``nncf`` is installed
            and the quantised features agree with float32 (``ltr.inference.engine``, its
            ``INT8_SPEEDUP`` and ``INT8_ACCURACY`` tables); otherwise it says why in one line.
            Features come back as float32: the correlation, score maps and the online maths
            stay float32, and online training (its backward pass) runs in float32.
        engine: what runs the frozen part of the backbone (the leading blocks online training
            never changes, all of it when nothing is trainable): ``'auto'`` (default) =
            OpenVINO on CPU when installed, else torch; ``'torch'``; ``'openvino'`` (CPU only).
            The trainable blocks always run in torch.

    SiamFC inference (Bertinetto et al. / siamfc-pytorch values):
        context, exemplar_size, instance_size, scale_num, scale_step, scale_penalty,
        scale_damping (the scale learning rate), window_influence, response_upsample.
        min_scale_factor / max_scale_factor: the target size is clamped to this range times
            the initial size. min_target_size: absolute minimum width/height in pixels.
        clamp_center: keep the target's centre inside the image after each frame (clipped to
            ``[0, width] x [0, height]``; the box may still extend past the border). Off = SiamFC's
            behaviour, where the centre may leave the image and the search crop is then mostly padding.
        scale_search_every: the scale search runs on every ``scale_search_every``-th frame (frame
            index since ``initialize``, which is frame 0, divisible by it); the frames between search
            one crop at the current size (the unit scale: one backbone pass instead of ``scale_num``)
            under the same cosine window, and keep the size. 1 (default) = every frame, SiamFC's
            search. The wide search after a loss and ``search_min_size``'s enlarged crops search as
            on any frame. A one-crop frame is no evidence of a scale trend: ``scale_trend_frames``
            counts the frames that searched the scales and skips the others.
        scale_features: how the scales' search features are made on a normal frame. ``'crops'``
            (default, SiamFC): one crop per scale, ``scale_num`` backbone passes in one batch.
            ``'resampled'``: one backbone pass on the unit scale's crop; each other scale's features
            are that map resampled about its centre by the scale's factor
            (``scale_search.resampled_scales``: bilinear, edges repeated), an approximation that
            costs one backbone pass per frame instead of ``scale_num``.
        resampled_crops_every: with ``scale_features='resampled'``, the frames whose index since
            ``initialize`` (frame 0) is divisible by it crop and pass every scale as ``'crops'``
            does, so that the size keeps following the target's; the frames between resample. 0
            (default) = never (one backbone pass on every frame); 1 = every frame (``'crops'``).
            With k = 3 the backbone sees 1, 1, 3, 1, 1, 3, ... crops. Ignored with ``'crops'``.

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
            last ``backbone_trainable_layers`` blocks are fine-tuned on the current frame when JCPP > ``T_c``
            and loss > ``T_l`` (Eq. 5).
        current_map: how ``R_c`` is obtained by the paper's method and the baseline's debug output:
            ``'recrop'`` (the paper: a search crop centred on the tracked position, one more backbone
            pass per frame), ``'shifted'`` (the chosen scale's response resampled at the new centre,
            no extra pass) or ``'gated'`` (the shifted map first, the recropped one only when its
            JCPP exceeds ``T_c``). The adapter always uses the shifted maps.

    The paper's backbone fine-tuning (``online_method='backbone'``):
        backbone_learning_rate, backbone_momentum, backbone_iterations: SGD (the paper: momentum
            0.9, 4 iterations; it gives no learning rate). backbone_trainable_layers: last parameterised blocks of
            ``backbone.features`` fine-tuned (0 = all); BatchNorm statistics stay frozen.

    The adapter (``online_method='adapter'``):
        adapter_label_sigma: a sample's label is a Gaussian of ``adapter_label_sigma`` cells centred on the
            tracked position in the chosen scale's crop.
        adapter_train_every: train after every ``adapter_train_every`` confident frames (each confident frame
            adds a sample; unconfident frames add nothing).
        adapter_memory_size: samples kept besides the first frame (FIFO).
        adapter_first_frame_weight: the first frame's share of the loss (never forgotten).
        adapter_memory_decay: weight ratio of a sample to the next newer one.
        adapter_learning_rate, adapter_iterations: normalised gradient steps per training event
            (each step has an RMS of the learning rate over the free elements, in RMS units of
            ``Zf``, and moves elements in proportion to their gradient).
        adapter_regularization: weight of the squared distance to the identity adapter.
        adapter_negative_weight: weight of the hard negatives in each sample's loss (0 = none): the
            other peaks of the sample's search map (look-alikes: local maxima farther than
            ``adapter_negative_radius`` cells from the target whose height above the map's minimum
            is at least ``adapter_negative_ratio`` of the target's) carry a label of 0, and the loss
            adds ``-log(1 - p)`` with ``p`` the softmax mass on their cells (at most
            ``adapter.MAX_NEGATIVES`` peaks, 3x3 cells each). The first frame's sample has them too.
        adapter_fall_window, adapter_fall_margin: no learning while confidence falls (0 = off): a
            confident frame whose JCPP is more than ``adapter_fall_margin`` below the highest JCPP of
            the ``adapter_fall_window`` frames before it adds no sample and counts towards no
            training event (an occlusion's onset lowers JCPP before it crosses ``T_c``).
        adapter_guard_frames: the drift guard (``online.drift_guard``; 0 = off): after this many frames
            in a row where the un-adapted first-frame ``Zf``'s map of the chosen crop peaks more than
            ``adapter_guard_distance`` cells from the tracked position, at least ``adapter_guard_height``
            of the first frame's peak height (peak above the map's minimum) and at least
            ``adapter_guard_margin`` (same units) above its value at the tracked position, the adapter
            is rolled back as ``adapter_guard_rollback`` says: ``'snapshot'`` (its state and memory
            before the first of those frames) or ``'identity'`` (the identity, memory = the first
            frame); with ``adapter_guard_relocate`` the target also moves to that peak.
        adapter_blend: share of the adapter's correction in the ``Zf'`` the tracker correlates
            (1 = all; ``lambda * adapted + (1 - lambda) * un-adapted`` map, the score being affine in
            ``Zf``); training is unchanged.
        adapter_agree_distance: learn only from frames where the un-adapted map's peak is within
            this many cells of the tracked position (0 = off).
        adapter_suspend_after: the adapter steps aside while the target is lost (0 = off): after this
            many frames in a row judged lost (JCPP <= ``lost_threshold``) the tracker correlates the
            un-adapted first-frame ``Zf`` (the baseline's map) until a frame is confident again (JCPP >
            ``T_c``), which hands the adapted ``Zf'`` back; the adapter and its memory are kept unless
            ``adapter_suspend_forget``, which returns the adapter to the identity (memory = the first
            frame) when it steps aside. With ``adapter_suspend_distance`` d > 0 a lost frame counts
            only when the un-adapted map's peak is more than d cells from the tracked position.
        adapter_steps_per_frame: how a training event's ``adapter_iterations`` steps are spread over
            frames (0 = all in the frame that triggers it). With k > 0 the event takes at most k steps
            per frame and continues over the next frames; samples confident meanwhile wait until it
            ends, and the tracker gets the new ``Zf'`` when it ends. Spreads the event's cost so that
            no single frame carries all of it.
        adapter_gate_ratio, adapter_gate_radius, adapter_gate_motion, adapter_gate_clean_frames: the
            sample gate (off by default: ratio 1, motion 0): a confident frame adds a sample, and counts
            towards a training event, only when it is also clean, judged without JCPP: unambiguous
            (the un-adapted first-frame ``Zf``'s map of the chosen crop has no local maximum farther
            than ``adapter_gate_radius`` cells, or half the first frame's target size if that is more,
            from its peak whose height above the map's minimum exceeds ``adapter_gate_ratio`` of the
            peak's; ``online.functions.lookalike_ratio``) and consistent (the target moved at most
            ``adapter_gate_motion`` target sizes ``sqrt(w * h)`` since the last frame;
            ``online.functions.displacement_in_sizes``). After a frame that is not clean, the next
            ``adapter_gate_clean_frames`` clean frames add no sample either (the count restarts at
            each frame that is not clean, confident or not).

    Search after a loss of the target (the tracker; driven by the online method's judgement,
    ``FrameUpdate.lost``; methods that judge no frame never widen):
        wide_search_after: after this many consecutive frames the method judged lost (JCPP <=
            ``lost_threshold``), the tracker searches a wider region (0 = never): one scale, a
            search crop of ``wide_search_size`` pixels at the unit scale's resolution (a larger
            region, not a smaller target), the cosine window of weight
            ``wide_search_window_influence`` over the larger map, until a frame is judged found
            again (JCPP > ``lost_threshold``); then back to the normal search.
        lost_threshold: JCPP at or below which a frame counts as lost (below ``T_c``: JCPP under
            ``T_c`` is common while the target is held, e.g. most frames of Couple and Jogging-1).

    A minimum search region for small targets (the tracker; every method, the baseline included):
        search_min_size: the smallest side, in image pixels, of the unit scale's search region (0 =
            off, SiamFC's region: ``context_size * instance_size / exemplar_size``). When the region
            is smaller, every scale's crop covers more image at the same resolution (a crop of more
            pixels, so the exemplar still matches the target's size): ``instance_size + 2 * stride *
            k`` pixels, the smallest that reaches ``search_min_size`` or ``search_max_instance``,
            whichever is less; the peak is chosen in the whole larger map under its own cosine window
            of weight ``search_min_window_influence``. The online method sees the centre of that
            map and of its features (the normal crop's cells).
        search_max_instance: the largest search crop in pixels (the cost cap of ``search_min_size``;
            the backbone's cost grows with its square).

    Distractor suppression at inference (the tracker, ``tracker.siamot.distractors``; every method):
        distractor_weight: 0 = off. Each frame (the first one too), the other peaks of the chosen
            crop's raw map (local maxima farther than ``distractor_radius`` cells from the target whose
            height above the map's minimum is at least ``distractor_ratio`` of the target's, at most
            ``distractor_per_frame`` of them) are cut from the search features as exemplar-sized
            kernels, kept for ``distractor_memory`` kernels; the next frames are located on
            ``R - distractor_weight * D``, ``D`` the map of the kernels' mean, each kernel scaled so its
            map at its own peak is that peak's height. The online method still sees ``R``. Not applied
            to the wide search after a loss nor to ``search_min_size``'s enlarged crops.
        distractor_memory, distractor_ratio, distractor_radius, distractor_per_frame: see above.

    Faster scale adaptation (the tracker, ``tracker.siamot.scale_trend``; every method):
        scale_trend_frames: 0 = off. From the ``scale_trend_frames``-th frame in a row whose chosen
            scale is on the same side of the unit scale (all larger, or all smaller), the size step is
            damped by ``scale_trend_damping`` instead of ``scale_damping``; a frame choosing another
            scale ends the run. Not applied to the wide search after a loss (one scale).
        scale_trend_damping: the scale learning rate during such a run.
    """

    backbone: str = "mobilenet_v2"
    pretrained: bool = True
    weights_path: str | None = None
    device: Device = "auto"
    exemplar_centering: bool = True
    feature_border_crop: int = _ranged(2, 0)
    correlation: Literal["auto", "conv", "matmul"] = "auto"
    channels_last: bool = True
    torch_threads: int | None = _ranged(None, 1)
    precision: Literal["auto", "fp32", "bf16", "int8"] = "auto"
    engine: Literal["auto", "torch", "openvino"] = "auto"

    context: float = _ranged(0.5, 0.0)
    exemplar_size: int = _ranged(127, 1)
    instance_size: int = _ranged(255, 1)
    scale_num: int = _ranged(3, 1, odd=True)
    scale_step: float = _ranged(1.0375, 0.0, open_low=True)
    scale_penalty: float = _ranged(0.9745, 0.0, open_low=True)
    scale_damping: float = _ranged(0.59, 0.0, 1.0)
    window_influence: float = _ranged(0.176, 0.0, 1.0)
    response_upsample: int = _ranged(16, 1)
    min_scale_factor: float = _ranged(0.2, 0.0, open_low=True)
    max_scale_factor: float = _ranged(5.0, 0.0, open_low=True)
    min_target_size: float = _ranged(4.0, 0.0)
    clamp_center: bool = False
    scale_search_every: int = _ranged(1, 1)
    scale_features: Literal["crops", "resampled"] = "crops"
    resampled_crops_every: int = _ranged(0, 0)

    online_training: bool = True
    normalization: Literal["softmax", "shift"] = "softmax"
    softmax_temperature: float = _ranged(1.0, 0.0, open_low=True)
    zero_loss_threshold: float = _ranged(0.3, 0.0)  # a KL loss is >= 0
    confidence_threshold: float = _ranged(0.3, 0.0, 1.0, open_high=True)
    jcpp_weight: float = _ranged(0.5, 0.0, 1.0)
    psr_window: int = _ranged(0, 0)
    confidence_reference: Literal["template", "first_frame"] = "first_frame"
    template_update_max: float = _ranged(1.0, 0.0, 1.0)
    current_map: Literal["recrop", "shifted", "gated"] = "gated"
    online_method: Literal["adapter", "backbone"] = "adapter"

    backbone_learning_rate: float = _ranged(1e-2, 0.0)
    backbone_momentum: float = _ranged(0.9, 0.0, 1.0, open_high=True)
    backbone_iterations: int = _ranged(4, 0)
    backbone_trainable_layers: int = _ranged(2, 0)

    adapter_label_sigma: float = _ranged(0.5, 0.0, open_low=True)
    adapter_train_every: int = _ranged(5, 1)
    adapter_memory_size: int = _ranged(10, 0)
    adapter_first_frame_weight: float = _ranged(0.3, 0.0, 1.0)
    adapter_memory_decay: float = _ranged(0.8, 0.0, open_low=True)
    adapter_learning_rate: float = _ranged(0.2, 0.0)
    adapter_iterations: int = _ranged(5, 0)
    adapter_regularization: float = _ranged(0.1, 0.0)
    adapter_negative_weight: float = _ranged(0.0, 0.0)
    adapter_negative_ratio: float = _ranged(0.5, 0.0, 1.0)
    adapter_negative_radius: float = _ranged(2.0, 0.0)
    adapter_fall_window: int = _ranged(0, 0)
    adapter_fall_margin: float = _ranged(0.1, 0.0)
    adapter_guard_frames: int = _ranged(0, 0)
    adapter_guard_distance: float = _ranged(2.0, 0.0)
    adapter_guard_height: float = _ranged(0.5, 0.0)
    adapter_guard_margin: float = _ranged(0.2, 0.0)
    adapter_guard_rollback: Literal["snapshot", "identity"] = "snapshot"
    adapter_guard_relocate: bool = False
    adapter_blend: float = _ranged(1.0, 0.0, 1.0)
    adapter_agree_distance: float = _ranged(0.0, 0.0)
    adapter_suspend_after: int = _ranged(0, 0)
    adapter_suspend_forget: bool = False
    adapter_suspend_distance: float = _ranged(0.0, 0.0)
    adapter_steps_per_frame: int = _ranged(0, 0)
    adapter_gate_ratio: float = _ranged(1.0, 0.0, 1.0)
    adapter_gate_radius: float = _ranged(2.0, 0.0)
    adapter_gate_motion: float = _ranged(0.0, 0.0)
    adapter_gate_clean_frames: int = _ranged(0, 0)

    wide_search_after: int = _ranged(0, 0)
    wide_search_size: int = _ranged(447, 1)
    wide_search_window_influence: float = _ranged(0.176, 0.0, 1.0)
    lost_threshold: float = _ranged(0.15, 0.0, 1.0)

    search_min_size: int = _ranged(0, 0)
    search_max_instance: int = _ranged(447, 1)
    search_min_window_influence: float = _ranged(0.176, 0.0, 1.0)

    distractor_weight: float = _ranged(0.0, 0.0)
    distractor_memory: int = _ranged(8, 1)
    distractor_ratio: float = _ranged(0.6, 0.0, 1.0)
    distractor_radius: float = _ranged(4.0, 0.0)
    distractor_per_frame: int = _ranged(2, 1)

    scale_trend_frames: int = _ranged(0, 0)
    scale_trend_damping: float = _ranged(1.0, 0.0, 1.0)

    def __new__(cls, *args: Any, **kwargs: Any) -> SiamOTParams:
        # Before the dataclass's __init__ sees them: a renamed or removed name gets a hint, not
        # "unexpected keyword argument" (dataclasses.replace constructs through here too).
        refuse_old_names(kwargs)
        return super().__new__(cls)

    def __post_init__(self) -> None:
        """Check every field against its annotation (``Literal`` values, ``bool``/``int``/``float``/
        ``str``, ``| None``) and its declared :class:`Range`; ``ValueError`` names the field, the
        value and what is allowed, in one line."""
        for name, (literal, accepted, expected, allowed) in _field_rules().items():
            value = getattr(self, name)
            if literal:
                if not any(type(value) is type(option) and value == option for option in literal):
                    raise ValueError(f"{name} must be one of {', '.join(repr(o) for o in literal)}, got {value!r}")
                continue
            # bool is an int in Python: only a bool field takes True/False.
            if not isinstance(value, accepted) or (isinstance(value, bool) and bool not in accepted):
                raise ValueError(f"{name} must be {expected}, got {value!r}")
            if allowed is not None and value is not None and value not in allowed:
                raise ValueError(f"{name} must be {allowed}{' or None' if type(None) in accepted else ''}, "
                                 f"got {value!r}")


@functools.lru_cache(maxsize=None)
def _field_rules() -> dict[str, tuple[tuple[Any, ...], tuple[type, ...], str, Range | None]]:
    """Per field of :class:`SiamOTParams`: its ``Literal`` values (empty when not a Literal), the
    types it accepts, how to say them, and its :class:`Range` (``None``: unbounded)."""
    hints = typing.get_type_hints(SiamOTParams)
    rules = {}
    for f in dataclasses.fields(SiamOTParams):
        hint = hints[f.name]
        literal = typing.get_args(hint) if typing.get_origin(hint) is Literal else ()
        accepted, expected = ((), "") if literal else _expected(hint)
        rules[f.name] = (literal, accepted, expected, f.metadata.get("range"))
    return rules


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


def parse_overrides(items: Iterable[str]) -> dict[str, Any]:
    """``NAME=VALUE`` strings (command-line ``--set``) -> ``SiamOTParams`` overrides.

    Values are JSON (``0.5``, ``true``, ``[1, 2]``); ``True``/``False`` are accepted and any
    other bare word is a string (``current_map=recrop``). Raises ``ValueError`` for an item
    without ``=``, a renamed or removed name (naming its replacement, :func:`refuse_old_names`) or
    another name that is not a ``SiamOTParams`` field.
    """
    fields = {f.name for f in dataclasses.fields(SiamOTParams)}
    out: dict[str, Any] = {}
    for item in items:
        if "=" not in item:
            raise ValueError(f"--set expects NAME=VALUE, got '{item}'")
        key, text = (part.strip() for part in item.split("=", 1))
        refuse_old_names([key])
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
