"""The online update of SiamOT: confidence, Eq. 5-gated SGD fine-tuning and the R_t update.

One :class:`OnlineUpdater` per tracker object. A sequence starts with
:meth:`OnlineUpdater.restore_pretrained` (nothing fine-tuned leaks between sequences; the
optimiser is reset) and :meth:`OnlineUpdater.reset`, which stores the template score map ``R_t``. Each frame the tracker calls
:meth:`OnlineUpdater.assess` on the current score map ``R_c`` and then
:meth:`OnlineUpdater.update`, which trains when ``JCPP > T_c`` and ``loss > T_l`` and
updates ``R_t`` when ``JCPP > T_c`` (paper Sections 2.3-2.5).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import torch
from torch import nn

from pytracking_siamot.online import functions as fn

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams


@dataclass(frozen=True)
class Assessment:
    """Confidence of one frame: raw and relative peak / PSR (Eq. 8), JCPP (Eq. 9), KL loss (Eq. 4),
    and APCE (not in the paper; reported for the confidence analysis)."""

    peak: float
    psr: float
    peak_r: float
    psr_r: float
    jcpp: float
    loss: float
    apce: float = float("nan")


@dataclass(frozen=True)
class UpdateResult:
    """What :meth:`OnlineUpdater.update` did: ``trained``, ``template_updated``, the update
    rate ``alpha`` (Eq. 11) and the loss of each SGD iteration (empty when not trained)."""

    trained: bool
    template_updated: bool
    alpha: float
    iteration_losses: tuple[float, ...]


def trainable_parameters(features: nn.Module, last_blocks: int) -> list[nn.Parameter]:
    """Parameters of the last ``last_blocks`` parameterised children of ``features`` (0 = all)."""
    blocks = [child for child in features.children() if any(True for _ in child.parameters())]
    chosen = blocks if last_blocks == 0 else blocks[-last_blocks:]
    return [p for block in chosen for p in block.parameters()]


def frozen_prefix_length(features: nn.Sequential) -> int:
    """Number of leading children of ``features`` without a trainable parameter."""
    for index, child in enumerate(features.children()):
        if any(p.requires_grad for p in child.parameters()):
            return index
    return len(features)


class OnlineUpdater:
    """Fine-tunes a SiamFC network online from its own score maps.

    Args:
        net: a ``ltr.models.tracking.siamfc.SiamFC``; its current weights are kept as the
            pretrained state restored by :meth:`restore_pretrained`. It is put (and kept) in eval
            mode, so BatchNorm uses and keeps its running statistics while training.
        params: the settings of a :class:`pytracking_siamot.parameters.SiamOTParams` (validated
            there): ``normalization`` and ``softmax_temperature`` (how maps become distributions,
            ``functions.normalize_map``), ``zero_loss_threshold`` (``T_l``),
            ``confidence_threshold`` (``T_c``), ``jcpp_weight`` (``lambda``), ``learning_rate``,
            ``momentum`` and ``train_iterations`` (SGD), ``trainable_layers`` (last parameterised
            blocks of ``net.backbone.features`` to train, 0 = all), ``psr_window`` (0 = MOSSE's
            scaled to the map), ``confidence_reference`` (the map whose peak and PSR Eq. 8 divides
            by: ``'template'``, the current ``R_t`` as in the paper, or ``'first_frame'``) and
            ``template_update_max`` (multiplies ``alpha`` of Eq. 11).

    The softmax temperature is *relative*: maps are divided by ``softmax_temperature * s`` with
    ``s`` the standard deviation of the first-frame template map, fixed per sequence. Raw score
    magnitudes differ by orders of magnitude between backbones (and frames of different contrast),
    so an absolute temperature made the softmax either uniform or one-hot; ``s`` makes ``T_l``
    meaningful on every backbone. Shift-and-divide is scale-invariant and needs no ``s``.
    """

    def __init__(self, net: nn.Module, params: SiamOTParams) -> None:
        self.net = net.eval()
        self.normalization = params.normalization
        self.temperature = params.softmax_temperature
        self.zero_loss_threshold = params.zero_loss_threshold
        self.confidence_threshold = params.confidence_threshold
        self.jcpp_weight = params.jcpp_weight
        self.learning_rate = params.learning_rate
        self.momentum = params.momentum
        self.iterations = params.train_iterations
        self.psr_window = params.psr_window or None
        self.confidence_reference = params.confidence_reference
        self.template_update_max = params.template_update_max
        self._pretrained = {k: v.detach().clone() for k, v in net.state_dict().items()}
        self._trainable = trainable_parameters(net.backbone.features, params.trainable_layers)
        trainable_ids = {id(p) for p in self._trainable}
        for p in net.parameters():
            p.requires_grad_(id(p) in trainable_ids)
        self._optimizer = self._new_optimizer()
        features = net.backbone.features
        split = frozen_prefix_length(features) if isinstance(features, nn.Sequential) else 0
        self._frozen_prefix: nn.Module = features[:split] if split else nn.Identity()
        self._trainable_suffix: nn.Module = features[split:] if split else features
        self._exemplar_prefix: tuple[torch.Tensor, torch.Tensor] | None = None  # (exemplar, its activations)
        self.template_map: torch.Tensor | None = None
        self._map_scale = 1.0
        self._template_peak = float("nan")
        self._template_psr = float("nan")
        self._first_peak = float("nan")
        self._first_psr = float("nan")

    def _new_optimizer(self) -> torch.optim.Optimizer:
        return torch.optim.SGD(self._trainable, lr=self.learning_rate, momentum=self.momentum)

    def restore_pretrained(self) -> None:
        """Load the pretrained weights back and reset the optimiser (momentum buffers)."""
        self.net.load_state_dict(self._pretrained)
        self.net.eval()
        self._optimizer = self._new_optimizer()
        self._exemplar_prefix = None

    def reset(self, template_map: torch.Tensor) -> None:
        """Start a sequence's maps: ``R_t`` = ``template_map`` (17x17) and the softmax scale from it.

        The network's weights are not touched: call :meth:`restore_pretrained` first (before the
        first frame's features are computed, so nothing fine-tuned leaks between sequences).
        """
        self.set_template_map(template_map)
        self.set_map_scale(template_map)
        self._first_peak, self._first_psr = self._template_peak, self._template_psr

    def set_map_scale(self, template_map: torch.Tensor) -> None:
        """Fix the softmax scale ``s`` = std of the first-frame template map (1 if it is constant)."""
        std = float(template_map.detach().double().std())
        self._map_scale = std if std > 0 and torch.isfinite(torch.tensor(std)) else 1.0

    def set_template_map(self, template_map: torch.Tensor) -> None:
        self.template_map = template_map.detach().reshape(template_map.shape[-2:]).clone()
        self._template_peak = fn.peak(self.template_map)
        self._template_psr = fn.psr(self.template_map, self.psr_window)

    def _normalize(self, score_map: torch.Tensor) -> torch.Tensor:
        return fn.normalize_map(score_map, self.normalization, self.temperature * self._map_scale)

    def normalize(self, score_map: torch.Tensor) -> torch.Tensor:
        """A score map as the distribution the KL loss compares (Eq. 4)."""
        return self._normalize(score_map)

    @property
    def map_scale(self) -> float:
        """``s``, the std of the first-frame template map that relative temperatures multiply."""
        return self._map_scale

    @property
    def temperature_scale(self) -> float:
        """The softmax temperature in score units: ``temperature * std(first-frame R_t)``."""
        return self.temperature * self._map_scale

    def set_reference(self, first_frame_map: torch.Tensor) -> None:
        """Replace the first-frame peak and PSR that ``confidence_reference='first_frame'`` divides by."""
        m = first_frame_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
        self._first_peak = fn.peak(m)
        self._first_psr = fn.psr(m, self.psr_window)

    def update_template(self, assessment: Assessment, current_map: torch.Tensor) -> bool:
        """Eqs. 10-11 alone: move ``R_t`` towards ``R_c`` when ``JCPP > T_c``; returns whether it moved."""
        alpha = self.template_update_max * fn.update_rate(assessment.jcpp, self.confidence_threshold)
        if alpha > 0.0:
            r_c = current_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
            self.set_template_map(fn.update_template_map(self.template_map, r_c, alpha))
        return alpha > 0.0

    def assess(self, current_map: torch.Tensor) -> Assessment:
        """Confidence and loss of the current score map ``R_c`` (17x17) against ``R_t``."""
        if self.template_map is None:
            raise RuntimeError("OnlineUpdater.assess called before reset()")
        r_c = current_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
        peak_c = fn.peak(r_c)
        psr_c = fn.psr(r_c, self.psr_window)
        if self.confidence_reference == "first_frame":
            ref_peak, ref_psr = self._first_peak, self._first_psr
        else:
            ref_peak, ref_psr = self._template_peak, self._template_psr
        peak_r = fn.relative_ratio(peak_c, ref_peak)
        psr_r = fn.relative_ratio(psr_c, ref_psr)
        loss = float(fn.kl_loss(self._normalize(self.template_map), self._normalize(r_c)))
        return Assessment(peak_c, psr_c, peak_r, psr_r, fn.jcpp(peak_r, psr_r, self.jcpp_weight), loss,
                          fn.apce(r_c))

    def should_train(self, assessment: Assessment) -> bool:
        """Train only when confident (``JCPP > T_c``) and the loss survives Eq. 5 (``> T_l``)."""
        return (assessment.jcpp > self.confidence_threshold
                and fn.thresholded_loss(assessment.loss, self.zero_loss_threshold) > 0.0 and self.iterations > 0)

    def train(self, exemplar: torch.Tensor, search: torch.Tensor) -> tuple[float, ...]:
        """SGD iterations on the KL loss between ``R_t`` and ``phi(exemplar) * phi(search)``.

        Args:
            exemplar: (1, 3, 127, 127) first-frame exemplar image (never modified).
            search: (1, 3, 255, 255) search image centred on the tracked position.

        Returns the loss before each iteration's step. If a loss or weight becomes non-finite,
        the weights of this call are rolled back (the non-finite loss is the last value).

        Only the last ``trainable_layers`` blocks change, so the activations entering the first
        trainable block depend on the input alone: they are computed once per training event
        for the search image and once per sequence for the exemplar (it never changes), and
        each SGD iteration runs the trainable blocks only. The operations and their order are
        those of ``net(exemplar, search)``, so losses and weights are the same.
        """
        target = self._normalize(self.template_map).detach()
        snapshot = [p.detach().clone() for p in self._trainable]
        losses = []
        backbone = self.net.backbone
        with torch.profiler.record_function("siamot.online_train"):
            with torch.no_grad():
                if self._exemplar_prefix is None or self._exemplar_prefix[0] is not exemplar:
                    self._exemplar_prefix = (exemplar, self._frozen_prefix(backbone.normalize(exemplar)))
                exemplar_in = self._exemplar_prefix[1]
                search_in = self._frozen_prefix(backbone.normalize(search))
            with torch.enable_grad():
                for _ in range(self.iterations):
                    self._optimizer.zero_grad(set_to_none=True)
                    score = self.net.score(self._trainable_suffix(exemplar_in),
                                           self._trainable_suffix(search_in))[0, 0]
                    loss = fn.kl_loss(target, self._normalize(score.to(target.dtype)))
                    losses.append(float(loss.detach()))
                    if not math.isfinite(losses[-1]):
                        break
                    loss.backward()
                    self._optimizer.step()
            if not all(math.isfinite(v) for v in losses) or not all(bool(torch.isfinite(p).all())
                                                                    for p in self._trainable):
                # A diverged step (too high a learning rate) would poison every later frame:
                # roll back this call's steps and the momentum; the NaN stays in the returned losses.
                with torch.no_grad():
                    for p, saved in zip(self._trainable, snapshot):
                        p.copy_(saved)
                self._optimizer = self._new_optimizer()
        return tuple(losses)

    def update(self, assessment: Assessment, current_map: torch.Tensor, exemplar: torch.Tensor,
               search: torch.Tensor | None) -> UpdateResult:
        """Apply the paper's update for one frame: train (maybe), then ``R_t`` update (Eqs. 10-11).

        ``search`` may be ``None`` only when :meth:`should_train` is false for ``assessment``.
        """
        losses: tuple[float, ...] = ()
        if self.should_train(assessment):
            if search is None:
                raise ValueError("OnlineUpdater.update must train on this frame but got no search image")
            losses = self.train(exemplar, search)
        alpha = self.template_update_max * fn.update_rate(assessment.jcpp, self.confidence_threshold)
        if alpha > 0.0:
            r_c = current_map.detach().reshape(self.template_map.shape).to(self.template_map.dtype)
            self.set_template_map(fn.update_template_map(self.template_map, r_c, alpha))
        return UpdateResult(bool(losses), alpha > 0.0, alpha, losses)
