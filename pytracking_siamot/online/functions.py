"""The paper's online-training maths as pure functions (Sections 2.3-2.5).

All maps are 17x17 score maps of the SiamFC head: ``R_t`` (template score map) and
``R_c`` (current score map). Functions take and return ``torch.Tensor`` (any float dtype)
so the loss can be back-propagated; the scalar confidence functions return Python floats.

Equations:
- Eq. 4, :func:`kl_loss`: ``l = sum r_t * log(r_t / r_c)`` on maps normalised to sum 1
  (the paper writes a leading minus sign, which would make the KL divergence negative;
  the text calls it the KL divergence and thresholds it against ``T_l = 1 > 0``, so we use
  the usual non-negative KL).
- Eq. 5, :func:`thresholded_loss`: a loss below ``T_l`` counts as zero.
- Eq. 8, :func:`relative_ratio`: ``min(1, a / b)``, clamped to [0, 1].
- Eq. 9, :func:`jcpp`: ``lambda * Peak_r + (1 - lambda) * PSR_r``.
- (not in the paper) :func:`apce`, a third confidence reported for the confidence analysis.
- Eq. 11, :func:`update_rate`: ``alpha = (JCPP - T_c) / (1 - T_c)`` (0 when JCPP <= T_c).
- Eq. 10, :func:`update_template_map`: ``R_t <- (1 - alpha) R_t + alpha R_c``.
- (not in the paper) :func:`shift_map`, ``R_c`` approximated by resampling the chosen scale's
  response at the new centre instead of a second backbone pass.
- (not in the paper) :func:`lookalike_ratio` and :func:`displacement_in_sizes`, the adapter's sample
  gate: how close a map comes to a second target, and how far the target moved for its size.
"""
from __future__ import annotations

import functools

import math
from typing import Literal

import torch
import torch.nn.functional as F

Normalization = Literal["softmax", "shift"]

#: Added after shift-and-divide so that the minimum cell of a map is not exactly 0
#: (``log(r_t / 0)`` would make the KL infinite).
SHIFT_EPS: float = 1e-6


def normalize_softmax(score_map: torch.Tensor, temperature: float) -> torch.Tensor:
    """Softmax over all cells of the last two dims: ``exp(r / T) / sum exp(r / T)``.

    Args:
        score_map: (..., H, W) raw scores.
        temperature: ``T > 0``; smaller values give peakier distributions.
    """
    if temperature <= 0:
        raise ValueError(f"softmax temperature must be > 0, got {temperature}")
    flat = score_map.flatten(-2) / temperature
    return torch.softmax(flat, dim=-1).reshape(score_map.shape)


def normalize_shift(score_map: torch.Tensor, eps: float = SHIFT_EPS) -> torch.Tensor:
    """Shift-and-divide: ``r' = r - min(r) + eps``, then ``r' / sum r'`` over the last two dims."""
    flat = score_map.flatten(-2)
    shifted = flat - flat.min(dim=-1, keepdim=True).values + eps
    return (shifted / shifted.sum(dim=-1, keepdim=True)).reshape(score_map.shape)


def normalize_map(score_map: torch.Tensor, method: Normalization, temperature: float = 1.0) -> torch.Tensor:
    """Normalise a score map to a distribution (sum 1) with the selected ``method``."""
    if method == "softmax":
        return normalize_softmax(score_map, temperature)
    if method == "shift":
        return normalize_shift(score_map)
    raise ValueError(f"unknown score-map normalisation '{method}'; use 'softmax' or 'shift'")


def kl_loss(r_t: torch.Tensor, r_c: torch.Tensor) -> torch.Tensor:
    """Eq. 4: KL divergence ``sum r_t * log(r_t / r_c)`` of two normalised maps (sum 1 each).

    Cells with ``r_t == 0`` contribute 0 (the limit of ``x log x``). Returns a scalar tensor
    (summed over every dimension), differentiable w.r.t. ``r_c``.
    """
    if r_t.shape != r_c.shape:
        raise ValueError(f"KL loss needs maps of equal shape, got {tuple(r_t.shape)} and {tuple(r_c.shape)}")
    terms = torch.where(r_t > 0, r_t * (torch.log(r_t.clamp_min(1e-30)) - torch.log(r_c)),
                        torch.zeros_like(r_t))
    return terms.sum()


def thresholded_loss(loss: float, zero_loss_threshold: float) -> float:
    """Eq. 5: the loss itself if it is above ``T_l``, else zero (no training signal; the gate of
    ``BackboneFineTuning.should_train``). ``T_l >= 0``, so a positive result means ``loss > T_l``."""
    return loss if loss > zero_loss_threshold else 0.0


def peak(score_map: torch.Tensor) -> float:
    """Peak value (maximum) of a score map."""
    return float(score_map.max())


def psr_window(map_size: int, mosse_window: int = 11, mosse_map_size: int = 64) -> int:
    """Side of the sidelobe exclusion window for a map of ``map_size`` cells.

    MOSSE excludes 11x11 cells around the peak of its 64x64 correlation output; we keep
    that *fraction* of the map and round to the nearest odd size (at least 1):
    17x17 maps (the raw SiamFC score maps we use) give a 3x3 window, 272x272 maps give 47x47.
    """
    side = round(mosse_window * map_size / mosse_map_size)
    if side % 2 == 0:
        side += 1
    return max(1, side)


def psr(score_map: torch.Tensor, window: int | None = None) -> float:
    """Peak-to-sidelobe ratio as in MOSSE: ``(peak - mean(sidelobe)) / std(sidelobe)``.

    Args:
        score_map: (H, W) map (leading singleton dims are squeezed).
        window: side of the square excluded around the peak; ``None`` scales MOSSE's 11x11
            of a 64x64 map to this map's size (:func:`psr_window`).

    Returns 0.0 when the sidelobe is constant (std 0) or empty.
    """
    m = score_map.detach().reshape(score_map.shape[-2], score_map.shape[-1]).double()
    height, width = m.shape
    side = window if window is not None else psr_window(max(height, width))
    row, col = divmod(int(torch.argmax(m)), width)
    half = side // 2
    mask = torch.ones_like(m, dtype=torch.bool)
    mask[max(0, row - half):row + half + 1, max(0, col - half):col + half + 1] = False
    sidelobe = m[mask]
    if sidelobe.numel() < 2:
        return 0.0
    std = float(sidelobe.std(unbiased=False))
    if std == 0.0:
        return 0.0
    return (float(m[row, col]) - float(sidelobe.mean())) / std


def apce(score_map: torch.Tensor) -> float:
    """Average peak-to-correlation energy (Wang et al., CVPR 2017; not in the paper):
    ``(max - min)^2 / mean((r - min)^2)``. 0.0 for a constant map.

    Reported beside peak, PSR and JCPP so the confidence analysis can compare them.
    """
    m = score_map.detach().double()
    low = m.min()
    energy = float(((m - low) ** 2).mean())
    if energy == 0.0:
        return 0.0
    return float((m.max() - low) ** 2) / energy


def relative_ratio(current: float, template: float) -> float:
    """Eq. 8: ``min(1, current / template)`` clamped to [0, 1] (0 when ``template <= 0``).

    Used for ``Peak_r`` and ``PSR_r``. Raw SiamFC peaks and PSRs may be negative or zero;
    the paper states both ratios lie in (0, 1), so non-positive values map to 0.
    """
    if not (math.isfinite(current) and math.isfinite(template)) or template <= 0:
        return 0.0
    return min(1.0, max(0.0, current / template))


def jcpp(peak_r: float, psr_r: float, weight: float = 0.5) -> float:
    """Eq. 9: Joint Criterion of Peak and PSR, ``weight * peak_r + (1 - weight) * psr_r``."""
    if not 0.0 <= weight <= 1.0:
        raise ValueError(f"JCPP weight lambda must be in [0, 1], got {weight}")
    return weight * peak_r + (1.0 - weight) * psr_r


def update_rate(jcpp_value: float, confidence_threshold: float) -> float:
    """Eq. 11: ``alpha = (JCPP - T_c) / (1 - T_c)``, 0 when ``JCPP <= T_c``, at most 1."""
    if not 0.0 <= confidence_threshold < 1.0:
        raise ValueError(f"confidence threshold T_c must be in [0, 1), got {confidence_threshold}")
    if jcpp_value <= confidence_threshold:
        return 0.0
    return min(1.0, (jcpp_value - confidence_threshold) / (1.0 - confidence_threshold))


def update_template_map(r_t: torch.Tensor, r_c: torch.Tensor, alpha: float) -> torch.Tensor:
    """Eq. 10: ``R_t_new = (1 - alpha) R_t + alpha R_c`` (raw maps, a new tensor)."""
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"update rate alpha must be in [0, 1], got {alpha}")
    return (1.0 - alpha) * r_t + alpha * r_c


def shift_map(score_map: torch.Tensor, shift_xy: tuple[float, float]) -> torch.Tensor:
    """Resample an ``(h, w)`` map so that its centre moves to ``centre + shift_xy`` (in cells).

    ``out[i, j] = map[i + dy, j + dx]``, bilinear between cells, border cells repeated outside
    the map. Used to approximate the current score map ``R_c`` (search image centred on the
    new position) from the chosen scale's response without another backbone pass.
    """
    if score_map.dim() != 2:
        raise ValueError(f"shift_map expects an (h, w) map, got {tuple(score_map.shape)}")
    h, w = score_map.shape
    grid = _shift_grid(h, w, float(shift_xy[0]), float(shift_xy[1]), score_map.device)
    out = F.grid_sample(score_map[None, None].float(), grid, mode="bilinear", padding_mode="border",
                        align_corners=True)
    return out[0, 0].to(score_map.dtype)


@functools.lru_cache(maxsize=2)
def _shift_grid(h: int, w: int, dx: float, dy: float, device: torch.device) -> torch.Tensor:
    """``grid_sample``'s ``(1, h, w, 2)`` grid of :func:`shift_map`, kept for the last two argument sets
    (a frame shifts two maps, the adapted one and the first-frame template's, by the same cells);
    callers must not change it in place."""
    ys = torch.arange(h, dtype=torch.float32, device=device) + dy
    xs = torch.arange(w, dtype=torch.float32, device=device) + dx
    grid_y, grid_x = torch.meshgrid(ys * 2.0 / max(h - 1, 1) - 1.0, xs * 2.0 / max(w - 1, 1) - 1.0, indexing="ij")
    return torch.stack([grid_x, grid_y], dim=-1)[None]


def local_maxima(score_map: torch.Tensor) -> torch.Tensor:
    """``(h, w)`` bool mask of the cells of an ``(h, w)`` map that are the highest of their 3x3
    neighbourhood (ties included)."""
    return score_map == F.max_pool2d(score_map[None, None], 3, stride=1, padding=1)[0, 0]


def cell_distances(score_map: torch.Tensor, rc: tuple[float, float]) -> torch.Tensor:
    """``(h, w)`` distances, in cells and in ``score_map``'s dtype, of every cell of an ``(h, w)`` map
    from the point ``rc`` (row, col; fractional, may lie outside the map)."""
    height, width = score_map.shape[-2:]
    rows = torch.arange(height, dtype=score_map.dtype, device=score_map.device)[:, None] - float(rc[0])
    cols = torch.arange(width, dtype=score_map.dtype, device=score_map.device)[None, :] - float(rc[1])
    return (rows ** 2 + cols ** 2).sqrt()


def lookalike_ratio(score_map: torch.Tensor, radius: float) -> float:
    """How close a raw ``(h, w)`` map comes to a second target: the height of its highest local maximum
    (3x3) farther than ``radius`` cells from its peak (the highest cell, the first one on ties), over the
    peak's height, both above the map's minimum.

    In [0, 1]: 0 when no local maximum lies that far or the map is constant, 1 for two equal peaks.
    (Not in the paper: the adapter's sample gate, ``adapter_gate_ratio``.)
    """
    m = score_map.detach().reshape(score_map.shape[-2:]).double()
    low = m.min()
    top = m.max() - low
    if not bool(top > 0):
        return 0.0
    candidates = local_maxima(m) & (cell_distances(m, divmod(int(torch.argmax(m)), m.shape[-1])) > radius)
    if not bool(candidates.any()):
        return 0.0
    return float((m[candidates].max() - low) / top)


def displacement_in_sizes(displacement_cells: tuple[float, float], target_wh: tuple[float, float],
                          total_stride: int) -> float:
    """Length of a move of ``displacement_cells`` (``[dx, dy]``, score-map cells of ``total_stride``
    crop pixels each) in units of the target's size ``sqrt(w * h)``, ``target_wh`` in the same crop
    pixels; ``inf`` for a target of no area and a non-zero move, 0 for no move.

    (Not in the paper: the adapter's sample gate, ``adapter_gate_motion``; a jump of the peak
    to a look-alike is a long move for the target's size.)
    """
    length = math.hypot(float(displacement_cells[0]), float(displacement_cells[1])) * total_stride
    size = math.sqrt(max(float(target_wh[0]), 0.0) * max(float(target_wh[1]), 0.0))
    if length == 0:
        return 0.0
    return length / size if size > 0 else math.inf
