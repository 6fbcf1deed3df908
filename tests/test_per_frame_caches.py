"""What the per-frame R_c work keeps between calls gives what computing it afresh gives: the shift grid of
``functions.shift_map``, the normalised template map of ``ConfidenceState``, the centred exemplar of
``SiamFC.score``; on generated maps and features."""
from __future__ import annotations

import torch
from torch import nn

from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.online import functions
from pytracking_siamot.online.confidence import ConfidenceState
from pytracking_siamot.parameters import SiamOTParams


def _fresh_shift(score_map: torch.Tensor, shift_xy: tuple[float, float]) -> torch.Tensor:
    functions._shift_grid.cache_clear()
    return functions.shift_map(score_map, shift_xy)


def test_shift_map_with_a_kept_grid_equals_a_fresh_one() -> None:
    generator = torch.Generator().manual_seed(0)
    maps = torch.randn(4, 17, 17, generator=generator)
    shifts = [(0.3, -1.2), (0.3, -1.2), (2.0, 0.5), (0.3, -1.2), (0.3, -1.2)]
    expected = [_fresh_shift(m, s) for m, s in zip(maps.repeat(2, 1, 1), shifts)]
    functions._shift_grid.cache_clear()
    kept = [functions.shift_map(m, s) for m, s in zip(maps.repeat(2, 1, 1), shifts)]
    assert all(torch.equal(a, b) for a, b in zip(kept, expected))
    # another map size with the same shift gets its own grid
    small = torch.arange(25.0).view(5, 5)
    assert torch.equal(functions.shift_map(small, (1.0, 0.0))[:, :4], small[:, 1:])


def test_assess_uses_the_template_map_as_it_is_now() -> None:
    generator = torch.Generator().manual_seed(1)
    first, current = torch.randn(17, 17, generator=generator), torch.randn(17, 17, generator=generator)
    state = ConfidenceState(SiamOTParams())

    def fresh_loss() -> float:
        return float(functions.kl_loss(state.normalize(state.template_map), state.normalize(current)))

    state.reset(first)
    assert state.assess(current).loss == fresh_loss()
    assert state.update_template(state.assess(first), first + 0.5)  # a confident frame moves R_t
    assert state.assess(current).loss == fresh_loss()
    state.reset(3.0 * first)  # a new sequence: a new map and a new softmax scale
    assert state.assess(current).loss == fresh_loss()


def test_score_with_a_kept_centred_exemplar_equals_a_fresh_one() -> None:
    generator = torch.Generator().manual_seed(2)
    net = SiamFC(nn.Identity(), center_exemplar=True, border_crop=2, correlation="matmul")
    zf, other = torch.randn(1, 8, 10, 10, generator=generator), torch.randn(1, 8, 10, 10, generator=generator)
    xf = torch.randn(3, 8, 22, 22, generator=generator)

    def fresh(z: torch.Tensor) -> torch.Tensor:
        return SiamFC(nn.Identity(), center_exemplar=True, border_crop=2, correlation="matmul").score(z, xf)

    with torch.no_grad():
        for z in (zf, other, zf, other, zf):
            assert torch.equal(net.score(z, xf), fresh(z))
        zf.add_(1.0)  # changed in place: centred again (the channel means absorb a constant: compare the maps)
        zf[0, 0, 4, 4] += 5.0
        assert torch.equal(net.score(zf, xf), fresh(zf))
    # with a graph nothing is kept: each call differentiates on its own
    leaf = zf.clone().requires_grad_(True)
    for _ in range(2):
        (grad,) = torch.autograd.grad(net.score(leaf, xf).sum(), leaf)
        assert grad.shape == leaf.shape
    assert all(known is not leaf for known, _, _ in net._centred)
