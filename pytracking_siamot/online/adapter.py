"""Online training of a light adapter on the exemplar features (SiamOT's default online training).

The paper fine-tunes backbone blocks with 4 SGD steps on one frame (kept as the ``_paper``
variants, :class:`pytracking_siamot.online.OnlineUpdater`). Here the backbone stays frozen and
the exemplar features ``Zf`` pass through an adapter that starts as the identity:

* ``'channel'``: ``Zf' = w * Zf`` with one weight per channel (``w = 1`` at the start);
* ``'kernel'``: ``Zf' = Zf + M * D`` with a free correction ``D`` (``0`` at the start) of the kernel
  cells that the mask ``M`` lets change (all of them without a mask; the tracker's default mask keeps
  the cells around the target box at their first-frame values).

The score map stays ``R = Zf' * Xf`` (paper Eq. 3), which is linear in the adapter, so a
training event costs a few correlations of stored search features, not a backward pass
through the CNN. Training minimises the paper's KL loss (Eq. 4) between a target
distribution and the softmax of ``R`` over a small sample memory: the first frame (kept with
a minimum weight, so first-frame knowledge is never forgotten) and the most recent confident
frames, plus ``reg * deviation`` pulling the adapter back towards the identity.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import torch
from torch import nn

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams

AdapterKind = Literal["channel", "kernel"]


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


def scale_label(label: torch.Tensor, crops: int, index: int) -> torch.Tensor:
    """A sample label over ``crops`` maps (``sample_scale='all'``): ``(crops, h, w)`` with ``label``
    (``(h, w)``, sum 1) on map ``index`` and zeros elsewhere; ``label`` itself when ``crops == 1``."""
    if crops == 1:
        return label
    labels = torch.zeros((crops, *label.shape), dtype=label.dtype, device=label.device)
    labels[index] = label
    return labels


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
    return torch.cat([torch.tensor([first_frame_weight]), rest])


def soft_kl(target: torch.Tensor, scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """Eq. 4 per sample: ``KL(target || softmax(scores / temperature))`` over all but the first dim.

    ``target``: (M, h, w) distributions (sum 1 each), or (M, S, h, w) over ``S`` maps each (one
    softmax over all of a sample's maps); ``scores``: raw maps of the same shape.
    Returns (M,) losses, differentiable w.r.t. ``scores``.
    """
    log_p = torch.log_softmax(scores.flatten(1) / temperature, dim=1)
    t = target.flatten(1)
    terms = torch.where(t > 0, t * (torch.log(t.clamp_min(1e-30)) - log_p), torch.zeros_like(t))
    return terms.sum(dim=1)


class ExemplarAdapter(nn.Module):
    """Identity-initialised adapter ``Zf -> Zf'`` (see the module docstring for the kinds)."""

    def __init__(self, base: torch.Tensor, kind: AdapterKind, mask: torch.Tensor | None = None) -> None:
        super().__init__()
        if kind not in ("channel", "kernel"):
            raise ValueError(f"adapter kind must be 'channel' or 'kernel', got {kind!r}")
        self.kind = kind
        self.register_buffer("base", base.detach().clone())
        if mask is not None and tuple(mask.shape) != tuple(base.shape[-2:]):
            raise ValueError(f"adapter mask of shape {tuple(mask.shape)} for exemplar features {tuple(base.shape)}")
        # Kernel cells the correction may change (1) or not (0); all of them without a mask.
        self.register_buffer("mask", torch.ones(base.shape[-2:], dtype=base.dtype, device=base.device)
                             if mask is None else mask.detach().to(base.dtype).to(base.device).clone())
        if kind == "channel":
            self.weight = nn.Parameter(torch.ones(base.shape[1], dtype=base.dtype, device=base.device))
        else:
            self.delta = nn.Parameter(torch.zeros_like(self.base))
        # The kernel correction is held in units of the RMS of the centred exemplar features, so
        # a learning rate means the same relative step on every backbone (as it does for ``w``).
        rms = float((base - base.mean(dim=(2, 3), keepdim=True)).pow(2).mean().sqrt())
        self._unit = rms if rms > 0 and math.isfinite(rms) else 1.0

    def forward(self) -> torch.Tensor:
        if self.kind == "channel":
            return self.base * self.weight.view(1, -1, 1, 1)
        return self.base + self._unit * self.delta * self.mask

    def correction_in(self, rows: tuple[int, int], cols: tuple[int, int]) -> torch.Tensor:
        """``Zf' - Zf`` of a ``'kernel'`` adapter in rows ``rows[0]:rows[1]``, columns ``cols[0]:cols[1]``:
        (C, kh, kw), differentiable."""
        if self.kind != "kernel":
            raise ValueError("correction_in is defined for a 'kernel' adapter only")
        region = (slice(*rows), slice(*cols))
        return self._unit * self.delta[0][:, region[0], region[1]] * self.mask[region]

    def deviation(self) -> torch.Tensor:
        """Distance from the identity: mean ``(w - 1)^2``, or mean ``D^2`` with ``D`` in RMS units of ``Zf``."""
        if self.kind == "channel":
            return (self.weight - 1.0).pow(2).mean()
        return (self.delta * self.mask).pow(2).mean()


@dataclass(frozen=True)
class AdapterSample:
    """One memory sample: search features ``(S, C, H, W)`` of ``S`` crops (scales), its target
    distribution over their ``S`` score maps, ``(S, h, w)`` summing to 1 (``(h, w)`` when ``S = 1``),
    and a relative weight (> 0; ``sample_weighting='jcpp'`` uses the frame's confidence). With
    several crops the loss takes one softmax over all their maps, so the label also says which crop
    (scale) holds the target. Every sample of a memory has the same ``S``."""

    features: torch.Tensor
    label: torch.Tensor
    weight: float = 1.0

    def __post_init__(self) -> None:
        crops = self.features.shape[0]
        if self.features.dim() != 4 or self.label.dim() not in (2, 3) or (
                self.label.dim() == 2 and crops != 1) or (self.label.dim() == 3 and self.label.shape[0] != crops):
            raise ValueError(f"an adapter sample needs features (S, C, H, W) and a label (S, h, w) or, for "
                             f"S = 1, (h, w); got {tuple(self.features.shape)} and {tuple(self.label.shape)}")

    @property
    def labels(self) -> torch.Tensor:
        """The label as ``(S, h, w)``."""
        return self.label if self.label.dim() == 3 else self.label[None]


class AdapterTrainer:
    """Sample memory and training of an :class:`ExemplarAdapter` for one sequence at a time.

    Args:
        score: ``score(zf, xf) -> (B, 1, h, w)``, the network's correlation head (``SiamFC.score``).
        region_scores: ``region_scores(xf, rows, cols, exemplar_hw)``, the score's linear part in
            a rectangle of exemplar cells (``SiamFC.exemplar_region_scores``); optional. With it, a
            ``'kernel'`` adapter's maps are ``score(Zf, xf) + region_scores(correction)`` over the
            rectangle around the cells its mask lets change: the first part once per sample, the
            second per Adam step on that rectangle only, so a training event correlates far fewer
            cells (the same loss up to float rounding; README, Speed). Without it, or for a
            ``'channel'`` adapter, every step correlates the whole adapted ``Zf'`` with every sample.
        settings: the tracker's ``SiamOTParams``; read here: ``adapter`` (kind), ``memory_size``
            (samples kept besides the first frame, FIFO), ``first_frame_weight`` (its share of the
            loss), ``memory_decay`` (weight ratio of a sample to the next newer one),
            ``adapter_learning_rate`` / ``adapter_iterations`` (steps per training event),
            ``adapter_optimizer`` (``'adam'`` or ``'normalized'``) and
            ``adapter_regularization`` (weight of :meth:`ExemplarAdapter.deviation`).
    """

    def __init__(self, score, settings: "SiamOTParams", region_scores=None) -> None:
        self.score = score
        self.region_scores = region_scores
        self.settings = settings
        self.adapter: ExemplarAdapter | None = None
        self._first: AdapterSample | None = None
        self._recent: list[AdapterSample] = []
        # the un-adapted map of each sample, same order as ``samples``; None until needed.
        self._base_maps: list[torch.Tensor | None] = []
        self._region: tuple[tuple[int, int], tuple[int, int]] | None = None  # (rows, cols) of the mask

    def reset(self, exemplar_features: torch.Tensor, first: AdapterSample, mask: torch.Tensor | None = None) -> None:
        """Start a sequence: identity adapter on ``exemplar_features``, memory = the first frame.

        ``mask``: ``(H, W)`` kernel cells a ``'kernel'`` adapter may correct (default: all).
        """
        self.adapter = ExemplarAdapter(exemplar_features, self.settings.adapter, mask)
        self._first = first
        self._recent = []
        self._base_maps = [None]
        self._region = None
        cells = torch.nonzero(self.adapter.mask, as_tuple=False)
        if self.region_scores is not None and self.adapter.kind == "kernel" and len(cells):
            low, high = cells.min(dim=0).values.tolist(), cells.max(dim=0).values.tolist()
            self._region = ((low[0], high[0] + 1), (low[1], high[1] + 1))

    def add(self, sample: AdapterSample) -> None:
        if sample.features.shape[0] != self._first.features.shape[0]:
            raise ValueError(f"a sample of {sample.features.shape[0]} crops in a memory of "
                             f"{self._first.features.shape[0]}-crop samples")
        self._recent.append(sample)
        self._base_maps.append(None)
        if len(self._recent) > self.settings.memory_size:
            self._recent.pop(0)
            self._base_maps.pop(1)

    def _score_function(self):
        """``f() -> (M, S, h, w)``: maps of the adapted ``Zf'`` on every memory sample (fixed memory)."""
        samples = self.samples
        features = torch.cat([s.features for s in samples])
        crops = samples[0].features.shape[0]
        if self._region is None:
            return lambda: self.score(self.adapter(), features)[:, 0].unflatten(0, (len(samples), crops))
        base = self.adapter.base
        with torch.no_grad():
            for k, sample in enumerate(samples):
                if self._base_maps[k] is None:
                    self._base_maps[k] = self.score(base, sample.features)[:, 0]
            linear = self.region_scores(features, *self._region, tuple(base.shape[-2:]))
        maps = torch.stack(self._base_maps)
        return lambda: maps + linear(self.adapter.correction_in(*self._region)).unflatten(0, (len(samples), crops))

    @property
    def samples(self) -> list[AdapterSample]:
        return [self._first, *self._recent]

    @property
    def base_features(self) -> torch.Tensor:
        """The un-adapted first-frame exemplar features ``Zf`` of this sequence."""
        return self.adapter.base

    def exemplar_features(self) -> torch.Tensor:
        """The adapted exemplar features ``Zf'`` (no gradient)."""
        with torch.no_grad():
            return self.adapter()

    def loss(self, temperature: float) -> torch.Tensor:
        """The memory's weighted KL loss (Eq. 4 per sample) plus the pull towards the identity."""
        return self._loss(self._score_function(), temperature)

    def _loss(self, scores_of_memory, temperature: float) -> torch.Tensor:
        samples = self.samples
        scores = scores_of_memory()
        labels = torch.stack([s.labels for s in samples]).to(scores.dtype)  # (M, S, h, w) like the scores
        weights = memory_weights(len(samples), self.settings.first_frame_weight,
                                 self.settings.memory_decay)
        if len(samples) > 1:
            # the recent samples' relative weights rescale their share, the first frame's stays
            rest = weights[1:] * torch.tensor([s.weight for s in samples[1:]])
            weights = torch.cat([weights[:1], rest / rest.sum() * (1.0 - weights[0])])
        weights = weights.to(device=scores.device, dtype=scores.dtype)  # memory_weights is on the CPU
        kl = soft_kl(labels, scores, temperature)
        return (weights * kl).sum() + self.settings.adapter_regularization * self.adapter.deviation()

    def _normalized_step(self, params: list[torch.Tensor], rate: float) -> bool:
        """One normalised gradient step: ``p -= rate * g / rms(g)``, the RMS taken over the adapter's
        free elements (the cells its mask lets change), so the step's RMS is ``rate`` whatever the
        backbone's feature scale, and elements move in proportion to their gradient (Adam's first
        steps move every element with a gradient by about ``rate``, however small its gradient).
        Returns ``False`` (no step) when the gradient is not finite."""
        with torch.no_grad():
            grads = [p.grad if p.grad is not None else torch.zeros_like(p) for p in params]
            if self.adapter.kind == "kernel":
                free = self.adapter.mask.expand_as(self.adapter.delta).bool()
                squares, count = grads[0][free].pow(2).sum(), int(free.sum())
            else:
                squares, count = sum(g.pow(2).sum() for g in grads), sum(g.numel() for g in grads)
            rms = float((squares / max(count, 1)).sqrt())
            if not math.isfinite(rms):
                return False
            if rms > 0:
                for p, g in zip(params, grads):
                    p.sub_(g, alpha=rate / rms)
            return True

    def train(self, temperature: float, floor: float = 0.0) -> tuple[float, ...]:
        """``iterations`` steps on the memory (``adapter_optimizer``: Adam, or normalised gradient
        descent, :meth:`_normalized_step`); returns the loss before each step.

        Eq. 5 as a floor: when the first loss is ``<= floor`` no step is taken (one loss is
        returned). A non-finite loss, gradient or weight rolls the adapter back to its state before
        this call.
        """
        params = list(self.adapter.parameters())
        snapshot = [p.detach().clone() for p in params]
        rate = self.settings.adapter_learning_rate
        optimizer = torch.optim.Adam(params, lr=rate) if self.settings.adapter_optimizer == "adam" else None
        losses: list[float] = []
        diverged = False
        with torch.enable_grad():
            scores_of_memory = self._score_function()
            for _ in range(self.settings.adapter_iterations):
                for p in params:
                    p.grad = None
                loss = self._loss(scores_of_memory, temperature)
                losses.append(float(loss.detach()))
                if not math.isfinite(losses[-1]) or losses[0] <= floor:
                    break
                loss.backward()
                if optimizer is not None:
                    optimizer.step()
                elif not self._normalized_step(params, rate):
                    diverged = True
                    break
        if (diverged or not all(math.isfinite(v) for v in losses)
                or not all(bool(torch.isfinite(p).all()) for p in params)):
            with torch.no_grad():
                for p, saved in zip(params, snapshot):
                    p.copy_(saved)
        return tuple(losses)
