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
        bfloat16_products: run the operator's products in bfloat16 (:func:`with_bfloat16_products`).

    Samples are recognised by the identity of their ``features`` tensor: a sample that left the
    memory frees its slot for the next new one, whatever changed the memory (FIFO, a restart, a
    roll-back), so nothing needs invalidating by hand.
    """

    def __init__(self, region_scores, rows: tuple[int, int], cols: tuple[int, int], exemplar_hw: tuple[int, int],
                 capacity: int, bfloat16_products: bool = False) -> None:
        if capacity < 1:
            raise ValueError(f"a region memory needs room for at least one sample, got capacity {capacity}")
        exact = lambda xf: region_scores(xf, rows, cols, exemplar_hw, capacity)  # noqa: E731
        self._make = (lambda xf: with_bfloat16_products(exact(xf))) if bfloat16_products else exact
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


def with_bfloat16_products(exact):
    """``exact`` (an ``ExemplarRegionScores``) with its two large products in bfloat16
    (``ExemplarRegionScores.low_precision_products``): on CPUs with bfloat16 units (AMX, AVX512-BF16)
    several times faster; the maps differ from the exact ones by bfloat16 rounding (about 0.4 % of the
    correction's part, a relative 2^-8)."""
    return exact.low_precision_products(torch.bfloat16)

