"""The adapter's training event without autograd (pytracking_siamot.online.linear): the transpose of the
rectangle's linear part, the closed-form gradients of the losses, the stored features of the memory, and
AdapterTrainer.train against autograd through full correlations, on generated features."""
from __future__ import annotations

import pytest
import torch
from torch import nn

from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.online.adapter import (AdapterSample, AdapterTrainer, gaussian_label, negatives_loss,
                                              soft_kl)
from pytracking_siamot.online.linear import RegionMemory, with_bfloat16_products, kl_gradient, negatives_gradient
from pytracking_siamot.parameters import SiamOTParams


def _net(center: bool = True, crop: int = 2, out_scale: float | None = None) -> SiamFC:
    """A SiamFC head on features given directly (the backbone is never called here)."""
    return SiamFC(nn.Identity(), out_scale=out_scale, center_exemplar=center, border_crop=crop, correlation="matmul")


@pytest.mark.parametrize("center,crop", [(True, 2), (False, 0), (True, 0)])
@pytest.mark.parametrize("rows,cols", [((0, 10), (0, 10)), ((1, 5), (3, 9)), ((0, 3), (7, 10)), ((0, 2), (0, 10))])
def test_adjoint_is_the_gradient_of_the_region_maps(center, crop, rows, cols) -> None:
    # (rows (0, 2) with crop 2 lies wholly in the border: maps and adjoint are zero)
    generator = torch.Generator().manual_seed(rows[1] * 10 + cols[0])
    net = _net(center, crop)
    xf = torch.randn(4, 8, 22, 22, dtype=torch.float64, generator=generator)
    region = net.exemplar_region_scores(xf[:3], rows, cols, (10, 10), capacity=4)
    values = torch.randn(8, rows[1] - rows[0], cols[1] - cols[0], dtype=torch.float64, generator=generator)
    for count in (3, 2):
        grad = torch.randn(count, 13, 13, dtype=torch.float64, generator=generator)
        if crop >= rows[1]:
            assert not region(values, count).any() and not region.adjoint(grad).any()
            continue
        leaf = values.clone().requires_grad_(True)
        (expected,) = torch.autograd.grad((region(leaf, count) * grad).sum(), leaf)
        torch.testing.assert_close(region.adjoint(grad), expected)
        with torch.no_grad():  # the buffered path: the same maps as the differentiable one
            torch.testing.assert_close(region(values, count), region(leaf, count).detach())
    # a written slot holds its new features: maps as if built from them
    region.write(3, xf[3:4])
    with torch.no_grad():
        alone = net.exemplar_region_scores(xf[3:4], rows, cols, (10, 10))
        torch.testing.assert_close(region(values, 4)[3], alone(values)[0])
    with pytest.raises(ValueError, match="slot 4"):
        region.write(4, xf[:1])
    with pytest.raises(ValueError, match="unlike the stored"):
        region.write(0, xf[:1, :, :20])
    with pytest.raises(ValueError, match="5 maps asked of 4"):
        region.adjoint(torch.zeros(5, 13, 13, dtype=torch.float64))


def test_adjoint_buffers_follow_the_map_count() -> None:
    # the transposed spread buffer is reused; a call for fewer maps after more (and back) stays exact
    generator = torch.Generator().manual_seed(3)
    net = _net()
    xf = torch.randn(3, 8, 22, 22, dtype=torch.float64, generator=generator)
    region = net.exemplar_region_scores(xf, (1, 6), (2, 8), (10, 10))
    values = torch.randn(8, 5, 6, dtype=torch.float64, generator=generator, requires_grad=True)
    for count in (3, 1, 3, 2):
        grad = torch.randn(count, 13, 13, dtype=torch.float64, generator=generator)
        (expected,) = torch.autograd.grad((region(values, count) * grad).sum(), values)
        torch.testing.assert_close(region.adjoint(grad), expected)


@pytest.mark.parametrize("temperature", [1.0, 0.05])
def test_closed_form_loss_gradients_equal_autograd(temperature) -> None:
    generator = torch.Generator().manual_seed(1)
    scores = torch.randn(3, 9, 9, dtype=torch.float64, generator=generator).requires_grad_(True)
    target = torch.stack([gaussian_label(9, (4.0, 4.5), 0.5), gaussian_label(9, (2.0, 6.0), 1.0),
                          gaussian_label(9, (0.0, 0.0), 0.3)]).double()
    target[1, 0, 0] = 0.0  # zeros in the target count nowhere
    (expected,) = torch.autograd.grad(soft_kl(target, scores, temperature).sum(), scores)
    torch.testing.assert_close(kl_gradient(target, scores.detach(), temperature), expected)
    negatives = torch.zeros(3, 9, 9, dtype=torch.float64)
    negatives[0, 1:3, 1:3] = 1.0
    negatives[1, 5:, :] = 1.0
    (expected,) = torch.autograd.grad(negatives_loss(negatives, scores, temperature).sum(), scores)
    torch.testing.assert_close(negatives_gradient(negatives, scores.detach(), temperature), expected)
    # all of the mass on the negatives: the loss is clamped, and so is its gradient (zero)
    full = torch.ones(1, 9, 9, dtype=torch.float64)
    assert not negatives_gradient(full, scores.detach()[:1], temperature).any()


def test_region_memory_reuses_the_slots_of_samples_that_left() -> None:
    net = _net()
    generator = torch.Generator().manual_seed(2)
    features = [torch.randn(1, 8, 22, 22, generator=generator) for _ in range(6)]
    memory = RegionMemory(net.exemplar_region_scores, (2, 7), (3, 8), (10, 10), capacity=3)
    values = torch.randn(8, 5, 5, generator=generator)

    def maps_of(samples):
        slots, used = memory.slots(samples)
        with torch.no_grad():
            return memory.linear(values, used).index_select(0, slots)

    def expected(samples):
        return net.exemplar_region_scores(torch.cat(samples), (2, 7), (3, 8), (10, 10))(values)

    for samples in ([features[0]], features[:3], [features[0], features[2], features[3]],  # FIFO
                    [features[0]],  # a restart or a roll-back to the first frame alone
                    [features[0], features[5], features[4]]):
        torch.testing.assert_close(maps_of(samples), expected(samples))
    slots, used = memory.slots([features[0], features[5], features[4]])
    assert slots.tolist() == [0, 1, 2] and used == 3  # nothing rewritten for a known memory
    with pytest.raises(ValueError, match="4 samples for a region memory of 3"):
        memory.slots(features[:4])


def _trainer_inputs(seed: int, count: int, channels: int = 8):
    generator = torch.Generator().manual_seed(seed)
    zf = torch.randn(1, channels, 10, 10, generator=generator)
    xfs = [torch.randn(1, channels, 22, 22, generator=generator) for _ in range(count)]
    return zf, xfs


def _run(trainer: AdapterTrainer, net: SiamFC, zf, xfs, mask, negatives: bool) -> list[tuple[float, ...]]:
    """Reset on ``xfs[0]``, then add each further sample and train once after each add."""
    size = net.score(zf, xfs[0]).shape[-1]
    temperature = float(net.score(zf, xfs[0]).std())

    def sample(xf, center):
        label = gaussian_label(size, center, 0.5)
        neg = None
        if negatives:
            neg = torch.zeros(size, size)
            neg[0:3, 8:11] = 1.0
        return AdapterSample(xf, label, neg)

    trainer.reset(zf, sample(xfs[0], (6.0, 6.0)), mask)
    losses = []
    for k, xf in enumerate(xfs[1:]):
        trainer.add(sample(xf, (5.0 + 0.5 * k, 6.0 - 0.3 * k)))
        losses.append(trainer.train(temperature))
    return losses


@pytest.mark.parametrize("negatives", [False, True])
def test_closed_form_training_equals_autograd_through_full_correlations(negatives) -> None:
    # Losses per step and the adapter after several events with a memory that drops samples (FIFO),
    # then a second sequence on the same trainer (its stored features must not leak into it).
    net = _net()
    mask = torch.zeros(10, 10)
    mask[1:6, 3:9] = 1.0  # reaches into the border crop
    settings = SiamOTParams(adapter_iterations=4, adapter_memory_size=3,
                            adapter_negative_weight=0.5 if negatives else 0.0)
    fast = AdapterTrainer(net.score, settings, net.exemplar_region_scores)
    for seed in (0, 1):
        zf, xfs = _trainer_inputs(seed, 5)
        reference = AdapterTrainer(net.score, settings)  # no rectangle: autograd through full correlations
        expected = _run(reference, net, zf, xfs, mask, negatives)
        got = _run(fast, net, zf, xfs, mask, negatives)
        assert len(fast.samples) == 4 and [len(g) for g in got] == [4] * 4
        torch.testing.assert_close(torch.tensor(got), torch.tensor(expected), rtol=1e-5, atol=1e-7)
        # 16 normalised steps in float32 of two different arithmetics: features of unit scale agree to 1e-5
        torch.testing.assert_close(fast.exemplar_features(), reference.exemplar_features(), rtol=1e-5, atol=1e-5)
        assert not torch.equal(fast.exemplar_features(), zf)
        # the autograd loss on the rectangle (the public loss()) agrees with the training's
        assert float(fast.loss(0.7).detach()) == pytest.approx(float(reference.loss(0.7).detach()), rel=1e-5)


def test_closed_form_gradient_equals_autograd_on_the_same_memory() -> None:
    # One step's gradient w.r.t. D (maps, losses with negatives, regulariser) against loss().backward().
    net = _net()
    mask = torch.zeros(10, 10)
    mask[2:8, 2:7] = 1.0
    settings = SiamOTParams(adapter_iterations=2, adapter_memory_size=2, adapter_negative_weight=0.3,
                            adapter_regularization=0.5)
    trainer = AdapterTrainer(net.score, settings, net.exemplar_region_scores)
    zf, xfs = _trainer_inputs(4, 4)
    _run(trainer, net, zf, xfs, mask, negatives=True)  # D is not zero now, the memory dropped a sample
    delta = trainer.adapter.delta
    with torch.no_grad():
        loss, gradient, _ = trainer._closed_form(0.4)()
        grad = gradient()
    delta.grad = None
    reference = trainer.loss(0.4)
    reference.backward()
    assert float(loss) == pytest.approx(float(reference.detach()), rel=1e-6)
    torch.testing.assert_close(grad, delta.grad, rtol=1e-5, atol=1e-8)


def test_known_maps_decide_the_floor_without_correlating() -> None:
    # Samples added with their maps under the adapter now: an event whose loss is at most the floor
    # takes no step, correlates nothing and stores no features; its loss is the correlated one.
    net = _net()
    mask = torch.zeros(10, 10)
    mask[2:8, 3:7] = 1.0
    settings = SiamOTParams(adapter_iterations=3, adapter_memory_size=3)
    zf, xfs = _trainer_inputs(5, 5)
    size = net.score(zf, xfs[0]).shape[-1]

    def sample(xf, k):
        return AdapterSample(xf, gaussian_label(size, (5.0 + 0.5 * k, 6.0), 0.5))

    def adapted(trainer, xf):
        return net.score(trainer.exemplar_features(), xf)[0, 0]

    known, unknown = (AdapterTrainer(net.score, settings, net.exemplar_region_scores) for _ in range(2))
    for trainer in (known, unknown):
        trainer.reset(zf, sample(xfs[0], 0), mask)
    known._adapted_maps[0] = (known.version, adapted(known, xfs[0]))  # the first frame's (a test shortcut)
    for trainer in (known, unknown):
        trainer.add(sample(xfs[1], 1), None, adapted(trainer, xfs[1]) if trainer is known else None)
    (loss,) = known.train(1.0, floor=1e9)
    assert known._region_memory is None  # nothing correlated, nothing stored
    assert unknown.train(1.0, floor=1e9) == pytest.approx((loss,), rel=1e-5)
    assert unknown._region_memory is not None
    version = known.version
    # an event that steps: the same steps and adapter as without known maps, and a new version
    for trainer in (known, unknown):
        trainer.add(sample(xfs[2], 2), None, adapted(trainer, xfs[2]) if trainer is known else None)
    stepped = known.train(1.0)
    assert len(stepped) == 3 and known.version != version
    torch.testing.assert_close(torch.tensor(stepped), torch.tensor(unknown.train(1.0)))
    torch.testing.assert_close(known.exemplar_features(), unknown.exemplar_features())
    # it leaves the maps under the adapter after its last step: with a new sample's, the next event
    # decides alone, and so does the one after it (the first maps of an event that takes no step)
    for k in (3, 4):
        for trainer in (known, unknown):
            trainer.add(sample(xfs[k], k), None, adapted(trainer, xfs[k]) if trainer is known else None)
        held = list(known._region_memory._held)
        (loss,) = known.train(1.0, floor=1e9)
        assert known._region_memory._held == held  # nothing stored (nor correlated)
        assert loss == pytest.approx(float(unknown.loss(1.0).detach()), rel=1e-5)
    # a roll-back forgets every known map
    known.roll_back(None)
    assert known._known_loss(1.0) is None


@pytest.mark.parametrize("center,crop", [(True, 2), (False, 0)])
def test_bfloat16_products_stay_close_to_the_exact_operator(center, crop) -> None:
    generator = torch.Generator().manual_seed(7)
    net = _net(center, crop)
    xf = torch.randn(3, 16, 22, 22, generator=generator) + 1.0  # a mean: the centering term matters
    exact = net.exemplar_region_scores(xf[:2], (1, 7), (2, 8), (10, 10), capacity=3)
    fast = with_bfloat16_products(net.exemplar_region_scores(xf[:2], (1, 7), (2, 8), (10, 10), capacity=3))
    for operator in (exact, fast):
        operator.write(2, xf[2:3])
    values = torch.randn(16, 6, 6, generator=generator)
    grad = torch.randn(3, 13, 13, generator=generator)
    with torch.no_grad():
        maps, maps_fast = exact(values, 3), fast(values, 3)
        assert maps_fast.dtype == torch.float32
        # bfloat16 has 8 bits: a few parts in a thousand of the maps' scale
        assert float((maps_fast - maps).abs().max() / maps.abs().max()) < 1e-2
        for count in (3, 2, 3):
            adjoint, adjoint_fast = exact.adjoint(grad[:count]), fast.adjoint(grad[:count])
            assert adjoint_fast.dtype == torch.float32
            assert float((adjoint_fast - adjoint).abs().max() / adjoint.abs().max()) < 1e-2
            if crop:  # the rectangle's first row is the exemplar's row 1, inside the border crop
                assert not adjoint_fast[:, 0].any()


@pytest.mark.parametrize("precision,native,expected", [("fp32", True, False), ("bf16", True, True),
                                                       ("int8", True, True), ("bf16", False, False)])
def test_bfloat16_products_where_the_backbone_is_not_float32_and_bf16_is_native(monkeypatch, precision, native,
                                                                                expected) -> None:
    from types import SimpleNamespace

    from pytracking_siamot.online import adapter

    monkeypatch.setattr(adapter, "device_has_bf16", lambda device: native)
    network = SimpleNamespace(features=SimpleNamespace(precision=precision), device=torch.device("cpu"))
    assert adapter.bfloat16_products(network) is expected
