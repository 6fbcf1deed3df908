"""Distractor suppression at inference: remember look-alikes seen beside the target, score them down.

The idea of DaSiamRPN's distractor-aware inference (Zhu et al., ECCV 2018), written for SiamFC's
correlation maps: the other peaks of a frame's score map (look-alikes and background that match the
exemplar almost as well as the target) are cut out of the search features as exemplar-sized kernels
and kept in a small memory; the next frames are located on ``R - weight * D``, where ``D`` is the map
of the memory's mean kernel. A look-alike matches its own kernel best, so its peak falls; the target
falls only as far as it resembles the look-alikes.

The score is linear in the kernel (border crop, centring, correlation and scale all are), so the mean
of the stored kernels is one kernel and ``D`` costs one correlation of the search features per frame.
Each kernel is scaled so that its map at the peak it was cut from equals that peak's height above the
map's minimum: with ``weight = 1`` the look-alike of the frame it came from would be brought down to
the map's floor.
"""
from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F


@dataclass(frozen=True)
class Peak:
    """A look-alike's local maximum in a raw ``(h, w)`` score map: ``row``, ``col`` (cells) and its
    ``height`` above the map's minimum (score units)."""

    row: int
    col: int
    height: float


def look_alike_peaks(score_map: torch.Tensor, target_rc: tuple[float, float], radius: float, ratio: float,
                     count: int) -> list[Peak]:
    """The ``count`` highest local maxima (3x3) of a raw ``(h, w)`` score map farther than ``radius``
    cells from ``target_rc`` (row, col; fractional cells) whose height above the map's minimum is at
    least ``ratio`` times the target's (the highest value within ``radius`` cells of ``target_rc``, or
    at its nearest cell when none is that close); highest first. Empty when the target is not above
    the map's minimum."""
    m = score_map.detach().reshape(score_map.shape[-2:]).float().cpu()
    height, width = m.shape
    rows = torch.arange(height, dtype=torch.float32)[:, None] - float(target_rc[0])
    cols = torch.arange(width, dtype=torch.float32)[None, :] - float(target_rc[1])
    distance = (rows ** 2 + cols ** 2).sqrt()
    near = distance <= radius
    if not bool(near.any()):
        near = distance == distance.min()
    low = m.min()
    target = float(m[near].max() - low)
    if not target > 0:
        return []
    local_max = m == F.max_pool2d(m[None, None], 3, stride=1, padding=1)[0, 0]
    candidates = local_max & ~near & (m - low >= ratio * target)
    values = torch.where(candidates, m, torch.full_like(m, -math.inf)).flatten()
    chosen = values.topk(min(count, int(candidates.sum()))).indices.tolist()
    return [Peak(k // width, k % width, float(m.view(-1)[k] - low)) for k in chosen]


class DistractorMemory:
    """The look-alike kernels of the last frames and the map that suppresses them.

    Args:
        score: ``score(zf, xf) -> (B, 1, h, w)``, the network's correlation head (``SiamFC.score``),
            linear in ``zf``.
        capacity: kernels kept (FIFO over frames; ``distractor_memory``).
        ratio: a look-alike's least height relative to the target's (``distractor_ratio``).
        radius: cells around the target that hold no look-alike (``distractor_radius``).
        per_frame: most look-alikes taken from one frame (``distractor_per_frame``).
    """

    def __init__(self, score: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], capacity: int, ratio: float,
                 radius: float, per_frame: int) -> None:
        if capacity < 1 or per_frame < 1:
            raise ValueError(f"a distractor memory needs capacity >= 1 and per_frame >= 1, got {capacity}, {per_frame}")
        self.score = score
        self.ratio = ratio
        self.radius = radius
        self.per_frame = per_frame
        self._kernels: deque[torch.Tensor] = deque(maxlen=capacity)
        self._mean: torch.Tensor | None = None

    def reset(self) -> None:
        """Forget every look-alike (a new sequence)."""
        self._kernels.clear()
        self._mean = None

    def __len__(self) -> int:
        return len(self._kernels)

    def observe(self, score_map: torch.Tensor, search_features: torch.Tensor, target_rc: tuple[float, float],
                exemplar_hw: tuple[int, int]) -> list[Peak]:
        """Remember the look-alikes of one frame: ``score_map`` ``(h, w)`` raw map of ``search_features``
        ``(1, C, H, W)`` (the crop the target was located in, before any suppression) with the target at
        ``target_rc`` (cells of the map). Each look-alike's kernel is the ``exemplar_hw`` window of
        ``search_features`` whose correlation gives the map at its peak (cell ``(r, c)``: rows ``r:r +
        kh``, columns ``c:c + kw``), scaled so that its own map there equals the peak's height. Returns
        the peaks taken."""
        peaks = look_alike_peaks(score_map, target_rc, self.radius, self.ratio, self.per_frame)
        kh, kw = exemplar_hw
        added = []
        for peak in peaks:
            kernel = search_features[:, :, peak.row:peak.row + kh, peak.col:peak.col + kw]
            if tuple(kernel.shape[-2:]) != (kh, kw):
                raise ValueError(f"search features {tuple(search_features.shape)} too small for a "
                                 f"{exemplar_hw} kernel at map cell ({peak.row}, {peak.col})")
            kernel = kernel.detach().clone()
            own = float(self.score(kernel, search_features)[0, 0, peak.row, peak.col])
            if not (own > 0 and math.isfinite(own)):
                continue  # a window that does not match itself (flat features) suppresses nothing useful
            self._kernels.append(kernel * (peak.height / own))
            added.append(peak)
        if added:
            self._mean = torch.stack(list(self._kernels)).mean(dim=0)
        return added

    def suppression(self, search_features: torch.Tensor) -> torch.Tensor | None:
        """``D``: ``(B, 1, h, w)`` maps of the memory's mean kernel on ``(B, C, H, W)`` search features;
        ``None`` while the memory is empty."""
        if self._mean is None:
            return None
        with torch.no_grad():
            return self.score(self._mean, search_features)

    def suppressed(self, responses: torch.Tensor, search_features: torch.Tensor, weight: float) -> torch.Tensor:
        """``responses - weight * D`` (:meth:`suppression`); ``responses`` itself while the memory is empty."""
        maps = self.suppression(search_features)
        return responses if maps is None else responses - weight * maps
