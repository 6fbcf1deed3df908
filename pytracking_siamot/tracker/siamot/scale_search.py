"""SiamFC's scale search: scale pyramid, penalty, cosine window, x16 upsampling, peak -> pixels.

Conventions follow SiamFC (Bertinetto et al. 2016) as in siamfc-pytorch: ``scale_num``
scales ``step ** k`` for ``k`` in ``-(n-1)/2 .. (n-1)/2``; non-unit scales' responses are
multiplied by ``penalty``; the chosen response is shifted to min 0, normalised to sum 1 and
blended with a Hann (cosine) window of weight ``window_influence``; the peak's offset
from the map centre maps to the search crop through ``total_stride / upsample`` and to the
image through the crop's scale.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
import torch.nn.functional as F

if TYPE_CHECKING:
    from pytracking_siamot.parameters import SiamOTParams


def scale_factors(scale_num: int, scale_step: float) -> np.ndarray:
    """``(scale_num,)`` factors ``step ** k``, ``k = -(n-1)/2 .. (n-1)/2`` (ascending)."""
    exponents = np.arange(scale_num, dtype=np.float64) - (scale_num - 1) / 2.0
    return scale_step ** exponents


def resampled_scales(features: torch.Tensor, factors: np.ndarray) -> torch.Tensor:
    """``(len(factors), C, H, W)`` search features of each scale, made from ``(1, C, H, W)`` features
    of the unit scale's crop by resampling about the map's centre.

    A scale with factor ``f`` crops ``f`` times the unit crop's side and resizes it to the same
    input size, so its feature cell ``u`` (offset from the centre, in cells) sees what the unit
    crop's cell ``f * u`` sees. Bilinear with the corner cells' centres aligned; beyond the unit
    map's edge (``f > 1``) the edge cells repeat. A factor of 1 returns the features unchanged.
    """
    if features.dim() != 4 or features.shape[0] != 1:
        raise ValueError(f"resampled_scales expects (1, C, H, W) features, got {tuple(features.shape)}")
    height, width = features.shape[-2:]
    maps = []
    for factor in np.asarray(factors, dtype=np.float64):
        if factor <= 0 or not np.isfinite(factor):
            raise ValueError(f"scale factors must be finite and > 0, got {factor}")
        if factor == 1.0:
            maps.append(features)
            continue
        rows = torch.linspace(-factor, factor, height, dtype=features.dtype, device=features.device)
        cols = torch.linspace(-factor, factor, width, dtype=features.dtype, device=features.device)
        grid = torch.stack(torch.meshgrid(cols, rows, indexing="xy"), dim=-1)[None]  # (1, H, W, [x, y])
        maps.append(F.grid_sample(features, grid, mode="bilinear", padding_mode="border", align_corners=True))
    return torch.cat(maps, dim=0)


def hann_window(size: int) -> np.ndarray:
    """``(size, size)`` outer product of Hann windows, normalised to sum 1."""
    window = np.outer(np.hanning(size), np.hanning(size))
    return window / window.sum()


def upsample(responses: torch.Tensor, factor: int) -> torch.Tensor:
    """Bicubic upsampling of ``(B, 1, h, w)`` maps by ``factor`` (``align_corners=False``).

    Upsampled cell ``u`` lies at source coordinate ``(u + 0.5) / factor - 0.5``, so the map
    centre ``(h - 1) / 2`` maps to ``(h * factor - 1) / 2``.
    """
    return F.interpolate(responses, scale_factor=factor, mode="bicubic", align_corners=False)


def upsample_matrix(size: int, factor: int) -> np.ndarray:
    """``(size * factor, size)`` float32 matrix ``W`` with ``upsample(R) = W @ R @ W.T``.

    Bicubic interpolation is separable and linear, so :func:`upsample` of a ``(size, size)``
    map is two small matrix products (same values up to float rounding, ~10x faster on CPU
    than the interpolation kernel for SiamFC's 3 x 17 x 17 maps). Column ``k`` of ``W`` is
    :func:`upsample` of a map whose row ``k`` is 1 (bicubic weights sum to 1 across columns).
    """
    rows = torch.zeros(size, 1, size, size, dtype=torch.float64)
    for k in range(size):
        rows[k, 0, k, :] = 1.0
    columns = upsample(rows, factor)[:, 0, :, 0]  # (size, size * factor): W[:, k] for each k
    return columns.T.contiguous().numpy().astype(np.float32)


@dataclass(frozen=True)
class ScaleSearchResult:
    """The outcome of one frame's search.

    Attributes:
        scale_index: index of the chosen scale.
        displacement_xy: target displacement in image pixels ``[dx, dy]``.
        response: ``(H', W')`` float32 upsampled raw response at the chosen scale (no
            penalty or window), aligned to the search crop.
        peak_rc: ``(row, col)`` of the chosen peak in the upsampled map.
        size_factor: what the target size is multiplied by: the chosen scale's factor damped by
            ``scale_damping`` (SiamFC's scale learning rate), ``(1 - d) + d * factor``.
    """

    scale_index: int
    displacement_xy: np.ndarray
    response: np.ndarray
    peak_rc: tuple[int, int]
    size_factor: float


class ScaleSearch:
    """Picks the scale and target displacement from a batch of SiamFC score maps.

    Args:
        params: the SiamFC settings ``scale_num``, ``scale_step``, ``scale_penalty``,
            ``scale_damping``, ``window_influence``, ``response_upsample`` and ``instance_size``
            (side of the search crop) of a :class:`pytracking_siamot.parameters.SiamOTParams`.
        response_size: side of the raw score map (17).
        total_stride: backbone stride (8).
    """

    def __init__(self, params: SiamOTParams, response_size: int, total_stride: int) -> None:
        self.factors = scale_factors(params.scale_num, params.scale_step)
        penalties = np.full(params.scale_num, params.scale_penalty, dtype=np.float64)
        penalties[params.scale_num // 2] = 1.0
        self.penalties = penalties
        self.damping = params.scale_damping
        self.window_influence = params.window_influence
        self.upsample_factor = params.response_upsample
        self.upsampled_size = response_size * params.response_upsample
        self.window = hann_window(self.upsampled_size)
        self._upsample = torch.from_numpy(upsample_matrix(response_size, params.response_upsample))
        self.total_stride = total_stride
        self.instance_size = params.instance_size

    def _upsampled(self, responses: torch.Tensor) -> np.ndarray:
        # torch, not numpy: numpy's BLAS keeps its worker threads spinning after a product, and
        # on a 2-core CPU they then halve the speed of the inference engine's next backbone pass
        # (docs/speed.md); torch's thread count is the caller's (the tracker uses one here).
        maps = responses.detach().float()[:, 0].cpu()
        if maps.shape[-2:] == (self._upsample.shape[1],) * 2:
            return (self._upsample @ maps @ self._upsample.T).numpy()  # = upsample(responses), see upsample_matrix
        return upsample(responses.detach().float(), self.upsample_factor)[:, 0].cpu().numpy()

    def _scale_index(self, upsampled: np.ndarray) -> int:
        # A positive penalty keeps each map's argmax: penalise the maxima only.
        return int(np.argmax(upsampled.reshape(len(self.factors), -1).max(axis=1) * self.penalties))

    def locate(self, responses: torch.Tensor, search_size: float) -> ScaleSearchResult:
        """Choose scale and displacement.

        Args:
            responses: ``(scale_num, 1, h, w)`` raw score maps, one per scale (ascending factors).
            search_size: side in image pixels of the unit-scale search region.
        """
        up = self._upsampled(responses)
        scale_index = self._scale_index(up)
        row, col = self._windowed_peak(up[scale_index])
        centre = (self.upsampled_size - 1) / 2.0
        disp_response = np.array([col - centre, row - centre], dtype=np.float64)
        disp_crop = disp_response * self.total_stride / self.upsample_factor
        disp_image = disp_crop * search_size * self.factors[scale_index] / self.instance_size
        size_factor = (1.0 - self.damping) + self.damping * self.factors[scale_index]
        return ScaleSearchResult(scale_index, disp_image, up[scale_index].astype(np.float32), (int(row), int(col)),
                                 size_factor)

    def _windowed_peak(self, upsampled: np.ndarray) -> tuple[int, int]:
        """``(row, col)`` of the peak of one upsampled map after normalisation and the cosine window."""
        chosen = upsampled.astype(np.float64)
        shifted = chosen - chosen.min()
        total = shifted.sum()
        prob = shifted / total if total > 0 else np.full_like(shifted, 1.0 / shifted.size)
        blended = (1.0 - self.window_influence) * prob + self.window_influence * self.window
        row, col = np.unravel_index(int(np.argmax(blended)), blended.shape)
        return int(row), int(col)
