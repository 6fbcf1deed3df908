"""The adapter's training event as linear algebra: stored search features and closed-form gradients.

The adapter's maps are linear in its correction ``D`` (``maps = base_maps + L(D)``, ``L`` the
score's linear part over the rectangle of exemplar cells the mask lets change,
``SiamFC.exemplar_region_scores``), and the loss of a map is a softmax KL (paper Eq. 4) whose
gradient is closed-form. A training step is then one product for the maps, the gradient of the
loss w.r.t. the maps, and one product with the transpose of ``L`` (``ExemplarRegionScores.adjoint``):
no autograd graph, and each sample's features are stored once (:class:`RegionMemory`), not
re-stacked per event.
"""
from __future__ import annotations

import torch


def kl_gradient(target: torch.Tensor, scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """``d soft_kl(target, scores, temperature) / d scores`` (``adapter.soft_kl``): per sample
    ``(softmax(s / T) * S - t') / T`` with ``t'`` the target's positive cells and ``S`` their sum
    (1 for a distribution). ``target``, ``scores``: (M, h, w); returns (M, h, w)."""
    t = target.flatten(1)
    positive = torch.where(t > 0, t, torch.zeros_like(t))
    p = torch.softmax(scores.flatten(1) / temperature, dim=1)
    return ((p * positive.sum(dim=1, keepdim=True) - positive) / temperature).reshape(scores.shape)


def negatives_gradient(negatives: torch.Tensor, scores: torch.Tensor, temperature: float) -> torch.Tensor:
    """``d negatives_loss(negatives, scores, temperature) / d scores`` (``adapter.negatives_loss``,
    ``-log(1 - m)`` with ``m`` the softmax mass on the negatives, clamped below 1): per sample
    ``p * (n - m) / (T * (1 - m))``, zero where the clamp holds. (M, h, w) in and out."""
    n = negatives.flatten(1)
    p = torch.softmax(scores.flatten(1) / temperature, dim=1)
    mass = (p * n).sum(dim=1, keepdim=True)
    limit = 1.0 - 1e-6
    factor = torch.where(mass <= limit, 1.0 / (temperature * (1.0 - mass.clamp(max=limit))), torch.zeros_like(mass))
    return (p * (n - mass) * factor).reshape(scores.shape)


class RegionMemory:
    """Where each memory sample's search features sit in an ``ExemplarRegionScores`` (its slots).

    Args:
        region_scores: ``region_scores(xf, rows, cols, exemplar_hw, capacity)``
            (``SiamFC.exemplar_region_scores``).
        rows, cols: the exemplar rectangle (uncropped cells, end exclusive).
        exemplar_hw: the exemplar features' (h, w).
        capacity: most samples held at once (the memory's size, first frame included).
        bfloat16_products: run the operator's products in bfloat16 (:class:`Bfloat16Products`).

    Samples are recognised by the identity of their ``features`` tensor: a sample that left the
    memory frees its slot for the next new one, whatever changed the memory (FIFO, a restart, a
    roll-back), so nothing needs invalidating by hand.
    """

    def __init__(self, region_scores, rows: tuple[int, int], cols: tuple[int, int], exemplar_hw: tuple[int, int],
                 capacity: int, bfloat16_products: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"a region memory needs room for at least one sample, got capacity {capacity}")
        exact = lambda xf: region_scores(xf, rows, cols, exemplar_hw, capacity)  # noqa: E731
        self._make = (lambda xf: Bfloat16Products(exact(xf))) if bfloat16_products else exact
        self.capacity = capacity
        self.linear = None
        self._held: list[torch.Tensor | None] = [None] * capacity  # the features each slot holds

    def slots(self, features: list[torch.Tensor]) -> tuple[torch.Tensor, int]:
        """Store the new ones of ``features`` (each (1, C, H, W)); returns each one's slot (long tensor,
        same order) and the number of leading slots to compute (the highest slot in use + 1)."""
        if len(features) > self.capacity:
            raise ValueError(f"{len(features)} samples for a region memory of {self.capacity}")
        found = [next((k for k, held in enumerate(self._held) if held is f), None) for f in features]
        free = [k for k in range(self.capacity) if k not in found]
        for i, f in enumerate(features):
            if found[i] is None:
                slot = free.pop(0)
                if self.linear is None:  # the first sample stored: slot 0, where the constructor puts it
                    self.linear = self._make(f)
                else:
                    self.linear.write(slot, f)
                self._held[slot] = f
                found[i] = slot
        in_use = set(found)
        self._held = [held if k in in_use else None for k, held in enumerate(self._held)]
        return torch.tensor(found, dtype=torch.long), max(found) + 1


class Bfloat16Products:
    """An ``ExemplarRegionScores`` (``exact``) whose two large products run in bfloat16.

    The stored search features get a bfloat16 copy; the correction values and the maps' gradients
    are rounded to bfloat16 for the products only; the products' sums, the centering term and the
    results stay in the exact operator's dtype (float32). On CPUs with bfloat16 units (AMX,
    AVX512-BF16) the products are several times faster; the maps differ from the exact ones by
    bfloat16 rounding (about 0.4 % of the correction's part, a relative 2^-8). Same interface as
    the exact operator: ``write``, ``__call__`` (no autograd) and ``adjoint``.
    """

    def __init__(self, exact) -> None:
        self.exact = exact
        self.capacity = exact.capacity
        self.features = exact.features.to(torch.bfloat16)
        self._spread: torch.Tensor | None = None
        self._spread_count = 0

    def write(self, slot: int, xf: torch.Tensor) -> None:
        """Store ``xf`` (1, C, H, W) as map ``slot`` (``ExemplarRegionScores.write``) and its bfloat16 copy."""
        self.exact.write(slot, xf)
        cells = self.exact.plane[0] * self.exact.plane[1]
        self.features[:, slot * cells:(slot + 1) * cells].copy_(self.exact.features[:, slot * cells:(slot + 1) * cells])

    def __call__(self, values: torch.Tensor, count: int | None = None) -> torch.Tensor:
        """``values`` (C, kh, kw) -> (count, oh, ow) maps of the first ``count`` stored maps (no autograd)."""
        exact = self.exact
        count = exact._maps_shape(count)
        (kh, kw), (oh, ow) = exact.kernel_hw, exact.out_hw
        if kh == 0 or kw == 0:
            return values.new_zeros(count, oh, ow)
        # rounded once, so that the product and the centering term are one linear map of the same values
        values = values[:, exact.take[0], exact.take[1]].to(torch.bfloat16)
        cells = exact.plane[0] * exact.plane[1]
        products = values.reshape(exact.channels, kh * kw).t() @ self.features[:, :count * cells]
        out = exact._shifted(products, count).sum(dim=(0, 1), dtype=exact.features.dtype).reshape(-1)
        if exact.window is not None:
            out = out - values.sum(dim=(1, 2), dtype=exact.window.dtype) @ exact.window[:, :count * oh * ow]
        return (out * exact.scale).reshape(count, oh, ow)

    def adjoint(self, grad: torch.Tensor) -> torch.Tensor:
        """The transpose of :meth:`__call__` (``ExemplarRegionScores.adjoint``, the product in bfloat16)."""
        exact = self.exact
        count = exact._maps_shape(grad.shape[0])
        (kh, kw), (oh, ow) = exact.kernel_hw, exact.out_hw
        out = grad.new_zeros(exact.channels, *exact.values_hw)
        if kh == 0 or kw == 0:
            return out
        grad = grad.reshape(count, oh, ow) * exact.scale
        cells = exact.plane[0] * exact.plane[1]
        if self._spread is None or self._spread_count != count:
            if self._spread is None:
                self._spread = self.features.new_empty(kh * kw * self.capacity * cells)
            self._spread.zero_()  # once per layout: each call then writes the same cells
            self._spread_count = count
        spread = self._spread[:kh * kw * count * cells].view(kh * kw, count * cells)
        # rounded before the strided spread: a converting strided copy is twice as slow
        exact._shifted(spread, count).copy_(grad.to(spread.dtype).expand(kh, kw, count, oh, ow))
        taken = (spread @ self.features[:, :count * cells].t()).t().to(grad.dtype)  # (C, kh * kw)
        if exact.window is not None:
            taken = taken - (exact.window[:, :count * oh * ow] @ grad.reshape(-1))[:, None]
        out[:, exact.take[0], exact.take[1]] = taken.reshape(exact.channels, kh, kw)
        return out
