"""Cross-correlation of exemplar and search features (the SiamFC head, paper Eq. 3).

Two implementations with the same result (up to float summation order):

* :func:`xcorr`: one grouped convolution over the batch (the reference; fast on GPUs).
* :class:`MatmulCorrelation`: one matrix product over the channels plus a fixed gather-sum
  over the kernel offsets. CPU backends have no fast path for a grouped convolution with a
  14x14 kernel; this form runs the bulk of the work as a BLAS GEMM (its speed-up, measured
  with ``benchmarks/speed.py``, is in docs/speed.md).

:func:`make_correlation` picks one by name (``'conv'``, ``'matmul'``).
"""
from __future__ import annotations

from typing import Callable, Literal

import torch
import torch.nn.functional as F

Correlation = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
CorrelationName = Literal["conv", "matmul"]


def _check_shapes(zf: torch.Tensor, xf: torch.Tensor) -> None:
    if zf.dim() != 4 or xf.dim() != 4 or zf.shape[1] != xf.shape[1]:
        raise ValueError(f"xcorr needs (B, C, h, w) and (B, C, H, W) with equal C, "
                         f"got {tuple(zf.shape)} and {tuple(xf.shape)}")
    if zf.shape[0] not in (1, xf.shape[0]):
        raise ValueError(f"xcorr batch mismatch: {zf.shape[0]} exemplars for {xf.shape[0]} search images")
    if zf.shape[2] > xf.shape[2] or zf.shape[3] > xf.shape[3]:
        raise ValueError(f"xcorr exemplar features {tuple(zf.shape[-2:])} larger than search features "
                         f"{tuple(xf.shape[-2:])}")


def xcorr(zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
    """Cross-correlate each exemplar feature map with its search feature map.

    Args:
        zf: (Bz, C, h, w) exemplar features, with Bz == B or Bz == 1 (one exemplar for every
            search image, e.g. the 3 scales of one frame).
        xf: (B, C, H, W) search features.

    Returns:
        (B, 1, H - h + 1, W - w + 1) raw correlation (no scaling), computed as one grouped
        convolution over the batch: ``R[b] = sum_c zf[b, c] * xf[b, c]`` ("valid", no padding).
    """
    _check_shapes(zf, xf)
    batch, channels, height, width = xf.shape
    if zf.shape[0] == 1 and batch > 1:
        zf = zf.expand(batch, -1, -1, -1)
    out = F.conv2d(xf.reshape(1, batch * channels, height, width), zf, groups=batch)
    return out.reshape(batch, 1, out.shape[-2], out.shape[-1])


class MatmulCorrelation:
    """Cross-correlation as one matrix product plus a shifted sum (same result as :func:`xcorr`).

    ``R[b, i, j] = sum_{c,u,v} zf[c, u, v] * xf[b, c, i + u, j + v]``. Contracting the channels
    first gives ``M[b, (u, v), (p, q)] = sum_c zf[c, u, v] * xf[b, c, p, q]``, a GEMM of
    ``(h*w, C) x (C, H*W)``, and ``R[b, i, j]`` is the sum of ``M[b, (u, v), (i + u, j + v)]``
    over ``(u, v)``: a gather with an index that depends on the shapes only (cached per
    instance). It does about 1.5x the multiply-adds of the direct correlation, in a form BLAS
    runs near its peak. Differentiable (training back-propagates through it, Eqs. 6-7).
    """

    def __init__(self) -> None:
        self._index: dict[tuple[int, int, int, int, str], torch.Tensor] = {}

    def index(self, h: int, w: int, height: int, width: int, device: torch.device) -> torch.Tensor:
        """Flat positions in ``M`` of every ``(u, v, i, j)``, shape ``(h*w*(H-h+1)*(W-w+1),)``."""
        key = (h, w, height, width, str(device))
        if key not in self._index:
            u = torch.arange(h, device=device).view(h, 1, 1, 1)
            v = torch.arange(w, device=device).view(1, w, 1, 1)
            i = torch.arange(height - h + 1, device=device).view(1, 1, -1, 1)
            j = torch.arange(width - w + 1, device=device).view(1, 1, 1, -1)
            self._index[key] = ((u * w + v) * (height * width) + (i + u) * width + (j + v)).reshape(-1)
        return self._index[key]

    def __call__(self, zf: torch.Tensor, xf: torch.Tensor) -> torch.Tensor:
        """``zf`` (1 or B, C, h, w), ``xf`` (B, C, H, W) -> (B, 1, H-h+1, W-w+1), like :func:`xcorr`."""
        _check_shapes(zf, xf)
        batch, channels, height, width = xf.shape
        h, w = zf.shape[-2:]
        z = zf.reshape(zf.shape[0], channels, h * w).transpose(1, 2)
        products = torch.matmul(z, xf.reshape(batch, channels, height * width))  # (B, h*w, H*W)
        index = self.index(h, w, height, width, xf.device)
        out = products.reshape(batch, -1)[:, index].reshape(batch, h * w, -1).sum(dim=1)
        return out.reshape(batch, 1, height - h + 1, width - w + 1)


def make_correlation(name: CorrelationName) -> Correlation:
    """The correlation implementation called ``name`` (``'conv'`` or ``'matmul'``)."""
    if name == "conv":
        return xcorr
    if name == "matmul":
        return MatmulCorrelation()
    raise ValueError(f"unknown correlation '{name}'; use 'conv' or 'matmul'")
