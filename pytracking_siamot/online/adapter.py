"""SiamOT's default online method (``online_method='adapter'``): an adapter on the exemplar features.

The paper fine-tunes backbone blocks with 4 SGD steps on one frame (kept as the ``_paper``
variants, :mod:`pytracking_siamot.online.backbone`). Here the backbone stays frozen and the
exemplar features ``Zf`` pass through an adapter that starts as the identity:
``Zf' = Zf + rms(Zf) * M * D`` with a free correction ``D`` (``0`` at the start) of the kernel
cells that the mask ``M`` lets change: the cells that cover the first-frame target box (the
context around the target keeps its first-frame features).

The score map stays ``R = Zf' * Xf`` (paper Eq. 3), which is linear in the adapter, so a
training event costs a few correlations of stored search features, not a backward pass
through the CNN. Training minimises the paper's KL loss (Eq. 4) between a target
distribution and the softmax of ``R`` over a small sample memory: the first frame (kept with
a minimum weight, so first-frame knowledge is never forgotten) and the most recent confident
frames, plus ``reg * deviation`` pulling the adapter back towards the identity.
"""
from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ltr.inference.engine import device_has_bf16
from pytracking_siamot.online.confidence import ConfidenceState
from pytracking_siamot.online.drift_guard import DriftEvidence, DriftGuard, disagrees, drift_evidence, map_height
from pytracking_siamot.online.functions import cell_distances, displacement_in_sizes, local_maxima, lookalike_ratio
from pytracking_siamot.online.linear import RegionMemory, kl_gradient, negatives_gradient
from pytracking_siamot.online.method import FirstFrame, Frame, FrameUpdate, OnlineMethod, SiameseNetwork

if TYPE_CHECKING:
    from ltr.models.tracking.siamfc import ExemplarRegionScores
    from pytracking_siamot.parameters import SiamOTParams

_record = torch.profiler.record_function

#: Most look-alike peaks a sample's negatives hold (the highest ones).
MAX_NEGATIVES = 4


def gaussian_label(size: int, center_rc: tuple[float, float], sigma: float) -> torch.Tensor:
    """``(size, size)`` Gaussian centred at ``center_rc`` (row, col; cells, may be fractional), sum 1.

    ``sigma`` is in cells and must be > 0.
    """
    if sigma <= 0:
        raise ValueError(f"label sigma must be > 0 cells, got {sigma}")
    coords = torch.arange(size, dtype=torch.float32)
    rows = (coords - float(center_rc[0])) ** 2
    cols = (coords - float(center_rc[1])) ** 2
    label = torch.exp(-(rows[:, None] + cols[None, :]) / (2.0 * sigma * sigma))
    return label / label.sum()


def memory_weights(count: int, first_frame_weight: float, decay: float) -> torch.Tensor:
    """Weights of ``count`` memory samples, oldest first (index 0 = first frame), sum 1.

    The first frame gets ``first_frame_weight`` (or all of it when it is alone); the others share
    the rest with weights ``decay ** age`` (the newest has age 0).
    """
    if count < 1:
        raise ValueError("a sample memory needs at least the first frame")
    if count == 1:
        return torch.ones(1)
    ages = torch.arange(count - 2, -1, -1, dtype=torch.float32)
    rest = decay ** ages
    rest = rest / rest.sum() * (1.0 - first_frame_weight)
    first = torch.tensor([first_frame_weight])
    # Normalised once more against the float32 first weight: the recent samples' share is then
    # ``1 - w_0`` in float32 arithmetic (the weights the measured results were made with).
    rest = rest / rest.sum() * (1.0 - first[0])
    return torch.cat([first, rest])


def soft_kl(target: torch.Tensor, scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """Eq. 4 per sample: ``KL(target || softmax(scores / temperature))`` over all but the first dim.

    ``target``: (M, h, w) distributions (sum 1 each); ``scores``: raw maps of the same shape.
    Returns (M,) losses, differentiable w.r.t. ``scores``.
    """
    log_p = torch.log_softmax(scores.flatten(1) / temperature, dim=1)
    t = target.flatten(1)
    terms = torch.where(t > 0, t * (torch.log(t.clamp_min(1e-30)) - log_p), torch.zeros_like(t))
    return terms.sum(dim=1)


def distractor_cells(score_map: torch.Tensor, target_rc: tuple[float, float], radius: float, ratio: float,
                     count: int = MAX_NEGATIVES) -> torch.Tensor:
    """``(h, w)`` float 0/1 mask of the look-alikes in a raw ``(h, w)`` score map: the 3x3 cells around
    each local maximum (3x3) farther than ``radius`` cells from ``target_rc`` (row, col; fractional)
    whose height above the map's minimum is at least ``ratio`` times the target's (the highest map
    value within ``radius`` cells of ``target_rc``, or of its nearest cell); the ``count`` highest.
    All zeros when there is none (or the target is not above the map's minimum)."""
    m = score_map.detach().reshape(score_map.shape[-2:]).float()
    height, width = m.shape
    near = cell_distances(m, target_rc) <= radius
    if not bool(near.any()):
        near = torch.zeros_like(near)
        near[min(max(round(float(target_rc[0])), 0), height - 1), min(max(round(float(target_rc[1])), 0), width - 1)] = True
    low = m.min()
    target = m[near].max() - low
    mask = torch.zeros_like(m)
    if not bool(target > 0):
        return mask
    candidates = local_maxima(m) & ~near & (m - low >= ratio * target)
    values = torch.where(candidates, m, torch.full_like(m, -math.inf)).flatten()
    chosen = values.topk(min(count, int(candidates.sum()))).indices
    mask.view(-1)[chosen] = 1.0
    return (F.max_pool2d(mask[None, None], 3, stride=1, padding=1)[0, 0] > 0).float()


def negatives_loss(negatives: torch.Tensor, scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """Per sample ``-log(1 - p)``, ``p`` the mass of ``softmax(scores / temperature)`` on the cells of
    ``negatives`` (the binary cross-entropy of a label 0 there): (M,) losses, 0 for an empty mask.

    ``negatives``: (M, h, w) 0/1 masks; ``scores``: raw maps of the same shape; differentiable w.r.t. ``scores``.
    """
    p = torch.softmax(scores.flatten(1) / temperature, dim=1)
    mass = (p * negatives.flatten(1)).sum(dim=1)
    return -torch.log1p(-mass.clamp(max=1.0 - 1e-6))


class ExemplarAdapter(nn.Module):
    """Identity-initialised adapter ``Zf -> Zf' = Zf + rms * D * M`` (see the module docstring).

    Args:
        base: ``(1, C, H, W)`` exemplar features ``Zf`` (copied).
        mask: ``(H, W)`` kernel cells the correction may change (1) or not (0); ``None``: all.
    """

    def __init__(self, base: torch.Tensor, mask: torch.Tensor | None = None) -> None:
        super().__init__()
        self.register_buffer("base", base.detach().clone())
        if mask is not None and tuple(mask.shape) != tuple(base.shape[-2:]):
            raise ValueError(f"adapter mask of shape {tuple(mask.shape)} for exemplar features {tuple(base.shape)}")
        self.register_buffer("mask", torch.ones(base.shape[-2:], dtype=base.dtype, device=base.device)
                             if mask is None else mask.detach().to(base.dtype).to(base.device).clone())
        self.delta = nn.Parameter(torch.zeros_like(self.base))
        # The correction is held in units of the RMS of the centred exemplar features, so a
        # learning rate means the same relative step on every backbone.
        rms = float((base - base.mean(dim=(2, 3), keepdim=True)).pow(2).mean().sqrt())
        self._unit = rms if rms > 0 and math.isfinite(rms) else 1.0

    def forward(self) -> torch.Tensor:
        return self.with_correction(self.delta)

    def with_correction(self, delta: torch.Tensor) -> torch.Tensor:
        """``Zf'`` for the correction ``delta`` (shaped like ``D``) instead of the adapter's own."""
        return self.base + self._unit * delta * self.mask

    def correction_in(self, rows: tuple[int, int], cols: tuple[int, int]) -> torch.Tensor:
        """``Zf' - Zf`` in rows ``rows[0]:rows[1]``, columns ``cols[0]:cols[1]``: (C, kh, kw), differentiable."""
        region = (slice(*rows), slice(*cols))
        return self._unit * self.delta[0][:, region[0], region[1]] * self.mask[region]

    def deviation(self) -> torch.Tensor:
        """Distance from the identity: mean ``D^2`` over the masked cells, ``D`` in RMS units of ``Zf``."""
        return (self.delta * self.mask).pow(2).mean()


@dataclass(frozen=True)
class AdapterSample:
    """One memory sample: search features ``(1, C, H, W)`` of one crop and its target distribution
    over the crop's score map, ``(h, w)`` summing to 1; ``negatives``: an ``(h, w)`` 0/1 mask of
    look-alike cells whose softmax mass the loss pushes down (``None``: none)."""

    features: torch.Tensor
    label: torch.Tensor
    negatives: torch.Tensor | None = None

    def __post_init__(self) -> None:
        if self.features.dim() != 4 or self.features.shape[0] != 1 or self.label.dim() != 2:
            raise ValueError(f"an adapter sample needs features (1, C, H, W) and a label (h, w); "
                             f"got {tuple(self.features.shape)} and {tuple(self.label.shape)}")


class AdapterTrainer:
    """Sample memory and training of an :class:`ExemplarAdapter` for one sequence at a time.

    Args:
        score: ``score(zf, xf) -> (B, 1, h, w)``, the network's correlation head (``SiamFC.score``).
        settings: the tracker's ``SiamOTParams``; read here: ``adapter_memory_size`` (samples kept
            besides the first frame, FIFO), ``adapter_first_frame_weight`` (its share of the loss),
            ``adapter_memory_decay`` (weight ratio of a sample to the next newer one),
            ``adapter_learning_rate`` / ``adapter_iterations`` (normalised gradient steps per
            training event) and ``adapter_regularization`` (weight of
            :meth:`ExemplarAdapter.deviation`).
        region_scores: ``region_scores(xf, rows, cols, exemplar_hw)``, the score's linear part in
            a rectangle of exemplar cells (``SiamFC.exemplar_region_scores``); optional. With it,
            the adapter's maps are ``score(Zf, xf) + region_scores(correction)`` over the rectangle
            around the cells its mask lets change: the first part once per sample, the second per
            step on that rectangle only, so a training event correlates far fewer cells (the same
            loss up to float rounding). Each sample's search features are stored once
            (:class:`~pytracking_siamot.online.linear.RegionMemory`), and :meth:`train` steps with
            closed-form gradients (:mod:`pytracking_siamot.online.linear`) instead of autograd.
            Without it every step correlates the whole adapted ``Zf'`` with every sample (autograd).
        bfloat16_products: with ``region_scores``, its two products per step run in bfloat16
            (:func:`~pytracking_siamot.online.linear.with_bfloat16_products`; for CPUs with bfloat16 units).
    """

    def __init__(self, score, settings: SiamOTParams, region_scores=None, bfloat16_products: bool = False) -> None:
        self.score = score
        self.region_scores = region_scores
        self.bfloat16_products = bfloat16_products
        self.settings = settings
        self.adapter: ExemplarAdapter | None = None
        self._first: AdapterSample | None = None
        self._recent: list[AdapterSample] = []
        # the un-adapted map of each sample, same order as ``samples``; None until needed.
        self._base_maps: list[torch.Tensor | None] = []
        # each sample's map under the adapter of ``version`` as (version, map), same order; None: unknown
        self._adapted_maps: list[tuple[int, torch.Tensor] | None] = []
        self.version = 0  # changes whenever the correction D does (reset, steps kept, roll-back)
        self._region: tuple[tuple[int, int], tuple[int, int]] | None = None  # (rows, cols) of the mask
        self._region_memory: RegionMemory | None = None  # the samples' search features over the rectangle
        self._free: torch.Tensor | None = None  # the adapter's free elements (:meth:`_free_elements`), per sequence
        self._event: _TrainingEvent | None = None  # the training event under way (begin_training), if any
        # samples added while an event is under way, as (sample, base map, (version, adapted map) or None)
        self._waiting: list[tuple[AdapterSample, torch.Tensor | None, tuple[int, torch.Tensor] | None]] = []

    def reset(self, exemplar_features: torch.Tensor, first: AdapterSample, mask: torch.Tensor | None = None) -> None:
        """Start a sequence: identity adapter on ``exemplar_features``, memory = the first frame.

        ``mask``: ``(H, W)`` kernel cells the adapter may correct (default: all).
        """
        self.adapter = ExemplarAdapter(exemplar_features, mask)
        self._first = first
        self._recent = []
        self._base_maps = [None]
        self._adapted_maps = [None]
        self.version += 1
        self._region = None
        self._region_memory = None
        self._free = None
        self._event = None
        self._waiting = []
        cells = torch.nonzero(self.adapter.mask, as_tuple=False)
        if self.region_scores is not None and len(cells):
            low, high = cells.min(dim=0).values.tolist(), cells.max(dim=0).values.tolist()
            self._region = ((low[0], high[0] + 1), (low[1], high[1] + 1))

    def add(self, sample: AdapterSample, base_map: torch.Tensor | None = None,
            adapted_map: torch.Tensor | None = None) -> None:
        """Add a recent sample (the oldest recent one leaves beyond ``adapter_memory_size``).

        ``base_map``: the sample's un-adapted map, ``score(Zf, features)[0, 0]``, where the caller
        already has it (computed at the next training event otherwise). ``adapted_map``: its map
        under the adapter as it is now (``version``), ``score(Zf', features)[0, 0]``, where the caller
        has it (the tracker's response when it correlated this ``Zf'``): with every sample's, a
        training event decides Eq. 5's floor without correlating anything (:meth:`train`).

        While a training event is under way (:attr:`training`) the sample waits and joins the memory
        when the event ends (the event trains on the memory it began with); ``adapted_map`` then
        counts only if the event left the adapter as it was."""
        known = None if adapted_map is None else (self.version, adapted_map)
        if self._event is not None:
            self._waiting.append((sample, base_map, known))
            return
        self._append(sample, base_map, known)

    def _append(self, sample: AdapterSample, base_map: torch.Tensor | None,
                known: tuple[int, torch.Tensor] | None) -> None:
        self._recent.append(sample)
        self._base_maps.append(base_map)
        self._adapted_maps.append(known)
        if len(self._recent) > self.settings.adapter_memory_size:
            self._recent.pop(0)
            self._base_maps.pop(1)
            self._adapted_maps.pop(1)

    def _score_function(self):
        """``f() -> (M, h, w)``: maps of the adapted ``Zf'`` on every memory sample (fixed memory)."""
        samples = self.samples
        if self._region is None:
            features = torch.cat([s.features for s in samples])
            return lambda: self.score(self.adapter(), features)[:, 0]
        maps, linear, slots, used = self._region_terms()
        return lambda: maps + linear(self.adapter.correction_in(*self._region), used).index_select(0, slots)

    def _region_terms(self) -> tuple[torch.Tensor, ExemplarRegionScores, torch.Tensor, int]:
        """The memory's un-adapted maps (M, h, w), the rectangle's linear part over the stored
        features, each sample's slot there (M,) and the number of leading slots it computes."""
        samples = self.samples
        base = self.adapter.base
        with torch.no_grad():
            for k, sample in enumerate(samples):
                if self._base_maps[k] is None:
                    self._base_maps[k] = self.score(base, sample.features)[0, 0]
            if self._region_memory is None:
                self._region_memory = RegionMemory(self.region_scores, *self._region, tuple(base.shape[-2:]),
                                                   self.settings.adapter_memory_size + 1, self.bfloat16_products)
            slots, used = self._region_memory.slots([s.features for s in samples])
        return torch.stack(self._base_maps), self._region_memory.linear, slots.to(base.device), used

    @property
    def samples(self) -> list[AdapterSample]:
        """The memory, oldest first: the first frame, then the recent samples."""
        return [self._first, *self._recent]

    @property
    def base_features(self) -> torch.Tensor:
        """The un-adapted first-frame exemplar features ``Zf`` of this sequence."""
        return self.adapter.base

    def exemplar_features(self) -> torch.Tensor:
        """The adapted exemplar features ``Zf'`` (no gradient); while a training event is under way
        (:attr:`training`), the adapter as it was before the event (the one the tracker holds)."""
        with torch.no_grad():
            if self._event is not None and self._event.snapshot is not None:
                return self.adapter.with_correction(self._event.snapshot)
            return self.adapter()

    def loss(self, temperature: float) -> torch.Tensor:
        """The memory's weighted KL loss (Eq. 4 per sample) plus the pull towards the identity."""
        return self._loss(self._score_function(), temperature)

    def _loss(self, scores_of_memory, temperature: float) -> torch.Tensor:
        samples = self.samples
        scores = scores_of_memory()
        labels = torch.stack([s.label for s in samples]).to(scores.dtype)  # (M, h, w) like the scores
        weights = memory_weights(len(samples), self.settings.adapter_first_frame_weight,
                                 self.settings.adapter_memory_decay)
        weights = weights.to(device=scores.device, dtype=scores.dtype)  # memory_weights is on the CPU
        kl = soft_kl(labels, scores, temperature)
        if any(s.negatives is not None for s in samples) and self.settings.adapter_negative_weight > 0:
            negatives = torch.stack([s.negatives if s.negatives is not None else torch.zeros_like(s.label)
                                     for s in samples]).to(scores.dtype)
            kl = kl + self.settings.adapter_negative_weight * negatives_loss(negatives, scores, temperature)
        return (weights * kl).sum() + self.settings.adapter_regularization * self.adapter.deviation()

    def _closed_form(self, temperature: float):
        """``f() -> (loss, gradient)`` on the fixed memory (the mask's rectangle set): the loss of
        :meth:`_loss` and a function giving its gradient w.r.t. ``D`` without autograd: the maps'
        gradient in closed form (:func:`~pytracking_siamot.online.linear.kl_gradient`, ``negatives_gradient``)
        through the transpose of the rectangle's linear part (``ExemplarRegionScores.adjoint``),
        plus the regulariser's ``2 * reg * M^2 * D / numel(D)``."""
        adapter, (rows, cols) = self.adapter, self._region
        base_maps, linear, slots, used = self._region_terms()
        labels, weights, negatives = self._memory_targets(base_maps)
        negative_weight = self.settings.adapter_negative_weight
        regularization = self.settings.adapter_regularization
        rectangle_mask = adapter.mask[rows[0]:rows[1], cols[0]:cols[1]]

        def evaluate() -> tuple[torch.Tensor, object, torch.Tensor]:
            scores = base_maps + linear(adapter.correction_in(rows, cols), used).index_select(0, slots)
            loss = self._maps_loss(scores, labels, weights, negatives, temperature)

            def gradient() -> torch.Tensor:
                maps_grad = kl_gradient(labels, scores, temperature)
                if negatives is not None:
                    maps_grad = maps_grad + negative_weight * negatives_gradient(negatives, scores, temperature)
                per_slot = maps_grad.new_zeros(used, *maps_grad.shape[1:])
                per_slot.index_copy_(0, slots, maps_grad * weights[:, None, None])
                mask = adapter.mask
                grad = (2.0 * regularization / adapter.delta.numel()) * (adapter.delta * mask * mask)
                # correction_in is ``unit * D * M`` on the rectangle
                grad[0, :, rows[0]:rows[1], cols[0]:cols[1]] += (adapter._unit * rectangle_mask
                                                                 * linear.adjoint(per_slot))
                return grad

            return loss, gradient, scores

        return evaluate

    def _memory_targets(self, like: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor | None]:
        """The memory's labels (M, h, w), weights (M,) and hard negatives (M, h, w; ``None`` when off),
        in the dtype and on the device of ``like``."""
        samples = self.samples
        labels = torch.stack([s.label for s in samples]).to(like.dtype)
        weights = memory_weights(len(samples), self.settings.adapter_first_frame_weight,
                                 self.settings.adapter_memory_decay).to(device=like.device, dtype=like.dtype)
        negatives = None
        if any(s.negatives is not None for s in samples) and self.settings.adapter_negative_weight > 0:
            negatives = torch.stack([s.negatives if s.negatives is not None else torch.zeros_like(s.label)
                                     for s in samples]).to(like.dtype)
        return labels, weights, negatives

    def _maps_loss(self, scores: torch.Tensor, labels: torch.Tensor, weights: torch.Tensor,
                   negatives: torch.Tensor | None, temperature: float) -> torch.Tensor:
        """The loss of :meth:`_loss` for the memory's maps ``scores`` (M, h, w) under the adapter now."""
        kl = soft_kl(labels, scores, temperature)
        if negatives is not None:
            kl = kl + self.settings.adapter_negative_weight * negatives_loss(negatives, scores, temperature)
        return (weights * kl).sum() + self.settings.adapter_regularization * self.adapter.deviation()

    def _known_loss(self, temperature: float) -> float | None:
        """The memory's loss from the maps it already knows under the adapter now (``add``'s
        ``adapted_map``, the first maps of the last training event that took no step); ``None`` when
        a sample's is unknown or older than the adapter."""
        known = self._adapted_maps
        if len(known) != len(self.samples) or any(k is None or k[0] != self.version for k in known):
            return None
        scores = torch.stack([k[1] for k in known])
        with torch.no_grad():
            return float(self._maps_loss(scores, *self._memory_targets(scores), temperature))

    def _free_elements(self) -> torch.Tensor:
        """Flat indices of the adapter's free elements (the cells its mask lets change), row-major."""
        return torch.nonzero(self.adapter.mask.expand_as(self.adapter.delta).reshape(-1)).squeeze(1)

    def _normalized_step(self, rate: float, free: torch.Tensor | None = None) -> bool:
        """One normalised gradient step: ``D -= rate * g / rms(g)``, the RMS taken over the adapter's
        free elements (the cells its mask lets change; ``free``: their :meth:`_free_elements`, computed
        here when ``None``), so the step's RMS is ``rate`` whatever the backbone's feature scale, and
        elements move in proportion to their gradient. Returns ``False`` (no step) when the gradient
        is not finite."""
        delta = self.adapter.delta
        with torch.no_grad():
            grad = delta.grad if delta.grad is not None else torch.zeros_like(delta)
            free = self._free_elements() if free is None else free
            rms = float((grad.reshape(-1).index_select(0, free).pow(2).sum() / max(len(free), 1)).sqrt())
            if not math.isfinite(rms):
                return False
            if rms > 0:
                delta.sub_(grad, alpha=rate / rms)
            return True

    def train(self, temperature: float, floor: float = 0.0) -> tuple[float, ...]:
        """``adapter_iterations`` normalised gradient steps (:meth:`_normalized_step`) on the
        memory's loss at softmax ``temperature`` (score units); returns the loss before each step.
        A whole training event in one call: :meth:`begin_training`, then :meth:`advance_training`
        without a step limit.

        Eq. 5 as a floor: when the first loss is ``<= floor`` no step is taken (one loss is
        returned). A non-finite loss, gradient or weight rolls the adapter back to its state before
        this call. With the rectangle (``region_scores``), when every sample's map under the adapter
        now is known (:meth:`add`'s ``adapted_map``, or the maps this method computes after its last
        step, or before its first when it takes none), the floor is decided on those maps, and an
        event that takes no step correlates nothing and stores no features.
        """
        self.begin_training(temperature, floor)
        return self.advance_training()

    @property
    def training(self) -> bool:
        """Whether a training event begun by :meth:`begin_training` has not ended yet."""
        return self._event is not None

    def begin_training(self, temperature: float, floor: float = 0.0) -> None:
        """Begin a training event (:meth:`train`'s steps, floor and roll-back) on the memory as it is
        now; :meth:`advance_training` takes its steps. Until it ends, :meth:`add` holds new samples
        back, :meth:`exemplar_features` gives the adapter as it was before the event, and
        :meth:`roll_back` or :meth:`reset` abandon it. Decides Eq. 5's floor on the known maps
        where it can (:meth:`train`); an event already under way is a ``RuntimeError``."""
        if self._event is not None:
            raise RuntimeError("a training event is already under way; advance it until it ends first")
        closed_form = self._region is not None  # else autograd through full correlations
        event = _TrainingEvent(temperature, floor, closed_form)
        self._event = event
        if closed_form and self.settings.adapter_iterations > 0:
            known = self._known_loss(temperature)
            if known is not None and not (math.isfinite(known) and known > floor):
                event.losses.append(known)
                event.settled = True  # no step: nothing to correlate
                return
        event.snapshot = self.adapter.delta.detach().clone()
        if self._free is None:
            self._free = self._free_elements()
        if closed_form:
            with torch.no_grad():
                event.evaluate = self._closed_form(temperature)
        else:
            event.evaluate = self._score_function()

    def advance_training(self, max_steps: int | None = None) -> tuple[float, ...] | None:
        """Take the event's next steps, at most ``max_steps`` (``None``: all that are left); returns
        ``None`` while the event has steps left, else, on the call that ends it, the loss before each
        of its steps (:meth:`train`'s result; the samples held back meanwhile then join the memory)."""
        event = self._event
        if event is None:
            raise RuntimeError("no training event under way; begin_training first")
        if not event.settled:
            self._steps(event, max_steps)
            if not event.settled:
                return None
            self._finish(event)
        self._event = None
        waiting, self._waiting = self._waiting, []
        for sample, base_map, known in waiting:
            self._append(sample, base_map, known if known is not None and known[0] == self.version else None)
        return tuple(event.losses)

    def _steps(self, event: _TrainingEvent, max_steps: int | None) -> None:
        """Up to ``max_steps`` of ``event``'s steps; marks it settled after its last one, a floor that
        ends it, or a non-finite loss or gradient (``event.diverged`` for the latter)."""
        delta = self.adapter.delta
        losses, floor, temperature = event.losses, event.floor, event.temperature
        taken = 0
        with torch.no_grad() if event.closed_form else torch.enable_grad():
            while len(losses) < self.settings.adapter_iterations:
                if max_steps is not None and taken >= max_steps:
                    return
                delta.grad = None
                if event.closed_form:
                    loss, gradient, scores = event.evaluate()
                    if not losses:  # the maps under the adapter before this event's steps
                        self._adapted_maps = [(self.version, m) for m in scores]
                else:
                    loss = self._loss(event.evaluate, temperature)
                losses.append(float(loss.detach()))
                if not math.isfinite(losses[-1]) or losses[0] <= floor:
                    break
                if event.closed_form:
                    delta.grad = gradient()
                else:
                    loss.backward()
                if not self._normalized_step(self.settings.adapter_learning_rate, self._free):
                    event.diverged = True
                    break
                taken += 1
        event.settled = True

    def _finish(self, event: _TrainingEvent) -> None:
        """After ``event``'s last step: roll back to its snapshot on a non-finite value, else, when it
        stepped, a new version and (closed form) the maps under the new adapter."""
        delta = self.adapter.delta
        losses, floor = event.losses, event.floor
        if event.diverged or not all(math.isfinite(v) for v in losses) or not bool(torch.isfinite(delta).all()):
            with torch.no_grad():
                delta.copy_(event.snapshot)
        elif losses and losses[0] > floor:  # a step was taken: D moved
            self.version += 1
            if event.closed_form:  # the maps under the new adapter, on which the next event decides its floor
                with torch.no_grad():
                    self._adapted_maps = [(self.version, m) for m in event.evaluate()[2]]

    def checkpoint(self) -> AdapterCheckpoint:
        """The adapter's correction and the recent memory now, for :meth:`roll_back` (the drift guard).
        While a training event is under way: the correction before it (the adapter the tracker holds)
        and the memory with the samples held back since (as if each had joined it when added)."""
        if self._event is None:
            return AdapterCheckpoint(self.adapter.delta.detach().clone(), tuple(self._recent),
                                     tuple(self._base_maps))
        delta = self.adapter.delta if self._event.snapshot is None else self._event.snapshot
        recent = [*self._recent, *(w[0] for w in self._waiting)]
        base_maps = [*self._base_maps, *(w[1] for w in self._waiting)]
        dropped = max(len(recent) - self.settings.adapter_memory_size, 0)
        return AdapterCheckpoint(delta.detach().clone(), tuple(recent[dropped:]),
                                 (base_maps[0], *base_maps[1 + dropped:]))

    def roll_back(self, checkpoint: AdapterCheckpoint | None) -> None:
        """Return to ``checkpoint`` (:meth:`checkpoint`): its correction and memory, the samples added
        since dropped; ``None``: the identity adapter with the first frame alone in the memory. A
        training event under way is abandoned, with the samples it held back."""
        self._event = None
        self._waiting = []
        with torch.no_grad():
            if checkpoint is None:
                self.adapter.delta.zero_()
                self._recent = []
                self._base_maps = self._base_maps[:1]
            else:
                self.adapter.delta.copy_(checkpoint.delta)
                self._recent = list(checkpoint.recent)
                self._base_maps = list(checkpoint.base_maps)
        self._adapted_maps = [None] * len(self._base_maps)
        self.version += 1


@dataclass
class _TrainingEvent:
    """A training event of :class:`AdapterTrainer` under way: its settings, the loss before each step
    so far, the correction before it (``snapshot``; ``None`` when the floor was decided on known maps),
    ``evaluate`` (closed form: :meth:`AdapterTrainer._closed_form`'s; autograd:
    :meth:`AdapterTrainer._score_function`'s), and whether it has taken its last step (``settled``)
    or met a non-finite gradient (``diverged``)."""

    temperature: float
    floor: float
    closed_form: bool
    losses: list[float] = field(default_factory=list)
    snapshot: torch.Tensor | None = None
    evaluate: object = None
    settled: bool = False
    diverged: bool = False


@dataclass(frozen=True)
class AdapterCheckpoint:
    """A state of :class:`AdapterTrainer` to roll back to: the correction ``D`` (a copy) and the recent
    samples with their cached un-adapted maps (the samples are immutable and shared)."""

    delta: torch.Tensor
    recent: tuple[AdapterSample, ...]
    base_maps: tuple[torch.Tensor | None, ...]


def target_cells_mask(target_wh: np.ndarray, exemplar_hw: tuple[int, int], stride: int) -> torch.Tensor:
    """``(H, W)`` float mask of the exemplar feature cells that cover a target of ``target_wh``
    (``[w, h]`` exemplar-image pixels) centred in the exemplar, with half a cell of margin."""
    height, width = exemplar_hw
    w, h = target_wh
    rows = (torch.arange(height, dtype=torch.float32) - (height - 1) / 2.0).abs() * stride <= h / 2 + stride / 2
    cols = (torch.arange(width, dtype=torch.float32) - (width - 1) / 2.0).abs() * stride <= w / 2 + stride / 2
    return (rows[:, None] & cols[None, :]).float()


def bfloat16_products(network: SiameseNetwork) -> bool:
    """Whether the adapter's training products run in bfloat16 (``AdapterTrainer``'s
    ``bfloat16_products``): where the backbone does not run in float32 (``SiamOTParams.precision`` as
    resolved) and the device computes bfloat16 natively. ``precision='fp32'`` keeps the training
    event in float32 (the reference)."""
    return str(network.features.precision) != "fp32" and device_has_bf16(network.device)


class AdapterMethod(OnlineMethod):
    """SiamOT's default online method (``online_method='adapter'``; see the module docstring).

    Each frame: JCPP of the un-adapted first-frame ``Zf`` against the chosen crop's features,
    shifted to the tracked position (an independent check that the adapter's own training cannot
    inflate), relative to the first frame; ``R_t`` follows the adapted shifted map (Eqs. 10-11). A
    confident frame (``JCPP > T_c``) adds its chosen-scale search features with a Gaussian label
    (``adapter_label_sigma`` cells) on the tracked position to the memory; every
    ``adapter_train_every`` confident frames the adapter trains on the memory (Eq. 5 as a floor:
    no step when the loss is ``<= T_l``). The backbone stays frozen; no extra backbone pass.

    Options (off by default): hard negatives (``adapter_negative_weight``: each sample, the first
    frame's too, carries the look-alike peaks of its raw map, :func:`distractor_cells`, whose softmax
    mass the loss pushes down) and no learning while confidence falls (``adapter_fall_window``).
    Every frame is judged lost or not (``FrameUpdate.lost``, the tracker's wide search).
    The drift guard (``adapter_guard_frames``, :mod:`pytracking_siamot.online.drift_guard`): after
    that many frames in a row where the un-adapted map confidently peaks elsewhere, the adapter
    rolls back (``FrameUpdate.rolled_back``) and, with ``adapter_guard_relocate``, the target moves to
    that peak (``FrameUpdate.relocate_cells``). ``adapter_blend`` < 1 tracks with the map
    ``lambda * adapted + (1 - lambda) * un-adapted``; ``adapter_agree_distance`` > 0 learns only
    from frames where the un-adapted peak agrees with the tracked position.
    With ``adapter_suspend_after`` N > 0 the adapter steps aside while the target is lost: the frame
    that completes N frames in a row judged lost hands the tracker the un-adapted first-frame ``Zf``
    (``FrameUpdate.exemplar_features``; the baseline's map from the next frame on), and the first
    frame judged confident after it hands the adapted ``Zf'`` back (trained on that frame when its
    training event falls due). The adapter and its memory are kept (with ``adapter_suspend_forget``
    the adapter returns to the identity, memory = the first frame, when it steps aside); nothing is
    learnt in between (no frame there is confident). With ``adapter_suspend_distance`` d > 0 a lost
    frame counts only when the un-adapted map's peak is more than d cells from the tracked position
    (the baseline's map disagrees with where the adapted one led).
    With ``adapter_steps_per_frame`` k > 0 a training event takes at most k steps a frame: it begins
    on the confident frame that triggers it and goes on over the next frames (confident or not),
    ``ceil(adapter_iterations / k)`` in all (fewer when Eq. 5's floor or a non-finite value ends it);
    it trains on the memory it began with, the tracker keeps correlating the ``Zf'`` it had, the
    samples confident meanwhile join the memory when it ends (counted towards the next event, which
    begins at the next confident frame without an event's steps), and ``FrameUpdate.trained`` with the
    new ``Zf'`` is reported on the frame it ends. A drift-guard roll-back or the adapter stepping aside
    with ``adapter_suspend_forget`` abandons it with the samples it held back.
    The sample gate (``adapter_gate_ratio`` < 1 or ``adapter_gate_motion`` > 0; :meth:`_clean`): a
    confident frame adds a sample, and counts towards a training event, only when it is also clean:
    the un-adapted map of the chosen crop holds no look-alike peak above the ratio
    (:func:`~pytracking_siamot.online.functions.lookalike_ratio`) and the target moved no more than
    the motion limit in target sizes (:func:`~pytracking_siamot.online.functions.displacement_in_sizes`),
    and, after a frame that was not clean, ``adapter_gate_clean_frames`` clean frames have passed.
    """

    def __init__(self, network: SiameseNetwork, settings: SiamOTParams) -> None:
        self.network = network
        self.settings = settings
        self.confidence = ConfidenceState(settings)
        self.trainer = AdapterTrainer(network.net.score, settings, network.net.exemplar_region_scores,
                                      bfloat16_products(network))
        self._confident_since_training = 0
        self._recent_jcpp: deque[float] = deque(maxlen=max(settings.adapter_fall_window, 1))
        self.guard = DriftGuard(settings.adapter_guard_frames)
        self._checkpoint = None  # the trainer's state before the current disagreement (snapshot mode)
        self._first_height = math.nan
        self.rollbacks = 0  # rollbacks of this sequence (for the analysis)
        self.suspensions = 0  # times this sequence's adapter stepped aside (adapter_suspend_after)
        self._suspended = False  # the tracker correlates the un-adapted Zf (adapter_suspend_after)
        self._lost_streak = 0  # frames in a row judged lost (adapter_suspend_after)
        self._evidence: DriftEvidence | None = None  # this frame's un-adapted peak, where computed
        # the Zf' last handed to the tracker and the trainer's version it is the adapter's output of
        # (None: a blend, or nothing handed out): responses correlated with it are the adapter's maps
        self._handed_out: tuple[torch.Tensor, int] | None = None
        self._target_wh = (math.nan, math.nan)  # the first frame's target, exemplar-image pixels
        self._clean_streak = math.inf  # frames in a row the sample gate found clean (inf: none was not)
        self.gated = 0  # confident frames of this sequence the sample gate kept out of the memory

    def start(self, first: FirstFrame) -> None:
        self.confidence.reset(first.template_map)
        centre = (first.template_map.shape[-1] - 1) / 2.0
        mask = target_cells_mask(first.target_wh, tuple(first.exemplar_features.shape[-2:]),
                                 self.network.net.total_stride).to(self.network.device)
        self.trainer.reset(first.exemplar_features,
                           AdapterSample(first.search_features, self._label((centre, centre)),
                                         self._negatives(first.template_map, (centre, centre))),
                           mask)
        self._confident_since_training = 0
        self._recent_jcpp.clear()
        self.guard.reset()
        self._checkpoint = None
        self._first_height = map_height(first.template_map)
        self.rollbacks = 0
        self.suspensions = 0
        self._suspended = False
        self._lost_streak = 0
        self._target_wh = (float(first.target_wh[0]), float(first.target_wh[1]))
        self._clean_streak = math.inf
        self.gated = 0
        # the identity adapter's Zf' is Zf (+ 0): the tracker's own first-frame features
        self._handed_out = (first.exemplar_features, self.trainer.version)

    def _label(self, center_rc: tuple[float, float]) -> torch.Tensor:
        size = self.confidence.template_map.shape[-1]
        return gaussian_label(size, center_rc, self.settings.adapter_label_sigma).to(self.network.device)

    def _negatives(self, score_map: torch.Tensor, target_rc: tuple[float, float]) -> torch.Tensor | None:
        """The look-alikes of a sample's raw map (:func:`distractor_cells`); ``None`` when hard negatives are off."""
        if self.settings.adapter_negative_weight <= 0:
            return None
        return distractor_cells(score_map, target_rc, self.settings.adapter_negative_radius,
                                self.settings.adapter_negative_ratio).to(self.network.device)

    def _falling(self, jcpp: float) -> bool:
        """Whether ``jcpp`` is more than ``adapter_fall_margin`` below the highest of the last
        ``adapter_fall_window`` frames' (always ``False`` when the window is 0); records ``jcpp``."""
        if self.settings.adapter_fall_window == 0:
            return False
        earlier = [v for v in self._recent_jcpp if math.isfinite(v)]
        self._recent_jcpp.append(jcpp)
        return bool(earlier) and not jcpp >= max(earlier) - self.settings.adapter_fall_margin

    def update(self, frame: Frame) -> FrameUpdate:
        with self.network.small_ops():
            result = self._update(frame)
            return result if self.settings.adapter_suspend_after <= 0 else self._suspension(result)

    def _suspension(self, result: FrameUpdate) -> FrameUpdate:
        """``adapter_suspend_after``: step aside after that many frames in a row judged lost, come back
        at the next confident one (see the class docstring); ``result`` is this frame's update."""
        if self._suspended:
            if not self.confidence.is_confident(result.assessment):
                # nothing trains on an unconfident frame; a drift-guard rollback's Zf' waits too
                return (result if result.exemplar_features is None
                        else replace(result, exemplar_features=self.trainer.base_features))
            self._suspended = False
            self._lost_streak = 0
            features = (result.exemplar_features if result.exemplar_features is not None
                        else self._tracking_features())
            return replace(result, exemplar_features=features)
        distance = self.settings.adapter_suspend_distance
        counts = result.lost and (distance <= 0 or self._evidence.distance > distance)
        self._lost_streak = self._lost_streak + 1 if counts else 0
        if self._lost_streak < self.settings.adapter_suspend_after:
            return result
        self._suspended = True
        self.suspensions += 1
        if self.settings.adapter_suspend_forget:  # what was learnt before the loss may be what led to it
            self.trainer.roll_back(None)
            self._confident_since_training = 0
        self._handed_out = None  # the tracker's next responses are not the adapter's maps
        return replace(result, exemplar_features=self.trainer.base_features)

    def _update(self, frame: Frame) -> FrameUpdate:
        template_map = self.confidence.template_map
        index = frame.scale_index
        with _record("siamot.current_map"):
            adapted_map = frame.shifted(frame.responses[index, 0])
            base_map = self.network.score(self.trainer.base_features, frame.search_features[index:index + 1])[0, 0]
            assessment = self.confidence.assess(frame.shifted(base_map))
        template_updated = self.confidence.update_template(assessment, adapted_map)
        confident = self.confidence.is_confident(assessment)
        lost = self.confidence.is_lost(assessment)
        result = FrameUpdate(template_map, assessment, adapted_map, template_updated=template_updated, lost=lost)
        falling = self._falling(assessment.jcpp)
        centre = (template_map.shape[-1] - 1) / 2.0
        cells = frame.displacement_cells
        target_rc = (centre + cells[1], centre + cells[0])
        settings = self.settings
        evidence = None
        if (settings.adapter_guard_frames > 0 or settings.adapter_agree_distance > 0
                or settings.adapter_suspend_distance > 0):
            evidence = drift_evidence(base_map, target_rc, self._first_height)
        self._evidence = evidence
        if settings.adapter_guard_frames > 0:
            disagreeing = disagrees(evidence, settings.adapter_guard_distance, settings.adapter_guard_height,
                                    settings.adapter_guard_margin)
            if disagreeing and self.guard.streak == 0:
                self._checkpoint = self.trainer.checkpoint() if settings.adapter_guard_rollback == "snapshot" else None
            if self.guard.observe(disagreeing):
                return self._roll_back(result, evidence, target_rc)
        clean = self._clean(base_map, cells)
        continued = self.trainer.training  # an event spread over frames (adapter_steps_per_frame) goes on
        if continued:
            with _record("siamot.online_train"):
                losses = self.trainer.advance_training(settings.adapter_steps_per_frame)
            result = self._trained(result, losses)
        if not confident or falling:
            return result
        if settings.adapter_agree_distance > 0 and not evidence.distance <= settings.adapter_agree_distance:
            return result
        if not clean:
            self.gated += 1
            return result
        handed_out = self._handed_out
        adapted = (frame.responses[index, 0] if handed_out is not None and frame.exemplar_features is handed_out[0]
                   and handed_out[1] == self.trainer.version else None)
        self.trainer.add(AdapterSample(frame.search_features[index:index + 1].detach(), self._label(target_rc),
                                       self._negatives(frame.responses[index, 0], target_rc)), base_map, adapted)
        self._confident_since_training += 1
        # a frame that took an event's steps begins no other (at most adapter_steps_per_frame steps a frame)
        if self._confident_since_training < self.settings.adapter_train_every or continued:
            return result
        self._confident_since_training = 0
        temperature, threshold, steps = (self.confidence.temperature_scale, self.settings.zero_loss_threshold,
                                         self.settings.adapter_steps_per_frame)
        with _record("siamot.online_train"):
            if steps == 0:  # the whole event now (benchmarks/training_event.py captures these calls)
                losses = self.trainer.train(temperature, threshold)
            else:
                self.trainer.begin_training(temperature, threshold)
                losses = self.trainer.advance_training(steps)
        return self._trained(result, losses)

    def _clean(self, base_map: torch.Tensor, displacement_cells: np.ndarray) -> bool:
        """The sample gate on this frame (always ``True`` when off): whether its un-adapted raw map
        ``base_map`` holds no look-alike above ``adapter_gate_ratio`` (beyond ``adapter_gate_radius``
        cells or half the first frame's target size from its peak), the target moved at most
        ``adapter_gate_motion`` target sizes (``displacement_cells``, ``[dx, dy]`` cells of the chosen
        crop's map; the target's size is the first frame's, in the unit scale's crop pixels, which
        the tracker keeps near it), and ``adapter_gate_clean_frames`` clean frames came before it since
        the last frame that was not clean. Called on every frame (the count is of frames in a row)."""
        settings = self.settings
        ratio, motion = settings.adapter_gate_ratio, settings.adapter_gate_motion
        if ratio >= 1.0 and motion <= 0:
            return True
        stride = self.network.net.total_stride
        clean = True
        if ratio < 1.0:
            size_cells = math.sqrt(max(self._target_wh[0] * self._target_wh[1], 0.0)) / stride
            radius = max(settings.adapter_gate_radius, 0.5 * size_cells)
            clean = not lookalike_ratio(base_map, radius) > ratio
        if clean and motion > 0:
            clean = not displacement_in_sizes(displacement_cells, self._target_wh, stride) > motion
        self._clean_streak = self._clean_streak + 1 if clean else 0
        return self._clean_streak > settings.adapter_gate_clean_frames

    def _trained(self, result: FrameUpdate, losses: tuple[float, ...] | None) -> FrameUpdate:
        """``result`` of a frame where a training event ended with ``losses`` (``None``: none ended):
        when the event stepped (first loss above Eq. 5's floor), ``trained`` and the new ``Zf'``."""
        if losses is None or not (len(losses) > 0 and losses[0] > self.settings.zero_loss_threshold):
            return result
        return replace(result, trained=True, exemplar_features=self._tracking_features())

    def _tracking_features(self) -> torch.Tensor:
        """The ``Zf'`` the tracker correlates: the adapted one, or ``Zf + adapter_blend * (Zf' - Zf)``."""
        adapted = self.trainer.exemplar_features()
        blend = self.settings.adapter_blend
        if blend == 1.0:
            self._handed_out = (adapted, self.trainer.version)
            return adapted
        self._handed_out = None
        base = self.trainer.base_features
        return base + blend * (adapted - base)

    def _roll_back(self, result: FrameUpdate, evidence: DriftEvidence, target_rc: tuple[float, float]) -> FrameUpdate:
        """The drift guard fired: roll the adapter back (checkpoint or identity), and move the target to
        the un-adapted peak when ``adapter_guard_relocate``; nothing is learnt from this frame."""
        self.trainer.roll_back(self._checkpoint)
        self._checkpoint = None
        self._confident_since_training = 0
        self.rollbacks += 1
        relocate = None
        if self.settings.adapter_guard_relocate:
            relocate = np.array([evidence.peak_rc[1] - target_rc[1], evidence.peak_rc[0] - target_rc[0]], dtype=float)
        return FrameUpdate(result.template_map, result.assessment, result.current_map,
                           template_updated=result.template_updated, exemplar_features=self._tracking_features(),
                           lost=result.lost, relocate_cells=relocate, rolled_back=True)
