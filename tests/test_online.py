"""The paper's equations as pure functions vs hand-computed values, and the OnlineUpdater."""
from __future__ import annotations

import math

import pytest
import torch
from torch import nn

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.online import (OnlineUpdater, jcpp, kl_loss, normalize_map, normalize_shift,
                                      normalize_softmax, peak, psr, psr_window, relative_ratio, thresholded_loss,
                                      trainable_parameters, update_rate, update_template_map)
from pytracking_siamot.parameters import SiamOTParams


def test_softmax_normalisation_matches_hand_values():
    r = torch.tensor([[0.0, math.log(3.0)]])
    assert torch.allclose(normalize_softmax(r, 1.0), torch.tensor([[0.25, 0.75]]))
    # temperature 0.5 squares the exponentials: 1 and 9
    assert torch.allclose(normalize_softmax(r, 0.5), torch.tensor([[0.1, 0.9]]))
    with pytest.raises(ValueError):
        normalize_softmax(r, 0.0)


def test_shift_normalisation_matches_hand_values():
    r = torch.tensor([[-1.0, 0.0], [1.0, 2.0]], dtype=torch.float64)
    out = normalize_shift(r, eps=0.0)
    assert torch.allclose(out, torch.tensor([[0.0, 1.0], [2.0, 3.0]], dtype=torch.float64) / 6.0)
    assert float(normalize_map(r, "shift").sum()) == pytest.approx(1.0)
    assert float(normalize_map(r, "shift").min()) > 0  # eps keeps log finite
    with pytest.raises(ValueError):
        normalize_map(r, "bogus")  # type: ignore[arg-type]


def test_kl_loss_eq4():
    r_t = torch.tensor([0.5, 0.5], dtype=torch.float64)
    r_c = torch.tensor([0.25, 0.75], dtype=torch.float64)
    expected = 0.5 * math.log(0.5 / 0.25) + 0.5 * math.log(0.5 / 0.75)
    assert float(kl_loss(r_t, r_c)) == pytest.approx(expected)
    assert float(kl_loss(r_t, r_t)) == pytest.approx(0.0)
    # r_t = 0 cells contribute nothing
    assert float(kl_loss(torch.tensor([1.0, 0.0]), torch.tensor([0.5, 0.5]))) == pytest.approx(math.log(2.0))
    with pytest.raises(ValueError):
        kl_loss(r_t, torch.ones(3))


def test_zero_loss_threshold_eq5():
    assert thresholded_loss(1.5, 1.0) == 1.5
    assert thresholded_loss(0.9, 1.0) == 0.0 and thresholded_loss(1.0, 1.0) == 0.0


def test_peak_and_psr_mosse_style():
    m = torch.zeros(17, 17)
    m[8, 8] = 10.0
    m[0, 0] = 1.0  # one sidelobe value breaks the constant sidelobe
    assert peak(m) == 10.0
    assert psr_window(17) == 3 and psr_window(64) == 11 and psr_window(272) == 47
    side = m.flatten().tolist()
    # hand computation: sidelobe = all but the 3x3 window around (8, 8): 280 cells, one of them 1
    n = 289 - 9
    mean = 1.0 / n
    std = math.sqrt((1.0 - mean) ** 2 / n + (n - 1) * mean ** 2 / n)
    assert psr(m) == pytest.approx((10.0 - mean) / std)
    assert psr(torch.ones(5, 5)) == 0.0  # constant sidelobe
    assert len(side) == 289


def test_relative_ratio_eq8_and_jcpp_eq9():
    assert relative_ratio(2.0, 4.0) == 0.5
    assert relative_ratio(5.0, 4.0) == 1.0
    assert relative_ratio(-1.0, 4.0) == 0.0
    assert relative_ratio(1.0, 0.0) == 0.0
    assert jcpp(0.8, 0.6) == pytest.approx(0.7)
    assert jcpp(1.0, 0.0, weight=0.25) == pytest.approx(0.25)
    with pytest.raises(ValueError):
        jcpp(1.0, 1.0, weight=1.5)


def test_update_rate_eq11_and_template_update_eq10():
    assert update_rate(1.0, 0.7) == 1.0
    assert update_rate(0.85, 0.7) == pytest.approx(0.5)
    assert update_rate(0.7, 0.7) == 0.0
    assert update_rate(0.2, 0.7) == 0.0
    r_t = torch.tensor([1.0, 3.0])
    r_c = torch.tensor([3.0, 1.0])
    assert torch.allclose(update_template_map(r_t, r_c, 0.25), torch.tensor([1.5, 2.5]))
    assert torch.equal(update_template_map(r_t, r_c, 1.0), r_c)
    with pytest.raises(ValueError):
        update_template_map(r_t, r_c, 1.5)


def _tiny_siamfc() -> SiamFC:
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.Conv2d(4, 4, 3, stride=2), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2))
    spec = BackboneSpec("tiny", 4, 8, IMAGENET_MEAN, IMAGENET_STD, "test network")
    return SiamFC(Backbone(spec, features), center_exemplar=True)


def _tiny_features(seed: int, search_batches: list[int]) -> tuple[SiamFC, torch.Tensor, list[torch.Tensor]]:
    """The tiny network, one random exemplar's ``Zf`` and one ``Xf`` per entry of ``search_batches``
    (that many random search crops each), drawn after ``torch.manual_seed(seed)``."""
    net = _tiny_siamfc()
    torch.manual_seed(seed)
    with torch.no_grad():
        zf = net.template(torch.rand(1, 3, 63, 63) * 255)
        xfs = [net.search(torch.rand(batch, 3, 127, 127) * 255) for batch in search_batches]
    return net, zf, xfs


def _updater(net: SiamFC, **kw) -> OnlineUpdater:
    args = dict(normalization="softmax", softmax_temperature=0.05, zero_loss_threshold=0.0, confidence_threshold=0.0,
                jcpp_weight=0.5, learning_rate=1e-3, momentum=0.9, train_iterations=4, trainable_layers=1,
                confidence_reference="template")
    args.update(kw)
    return OnlineUpdater(net, SiamOTParams(**args))


def test_trainable_layers_selects_last_parameterised_blocks():
    net = _tiny_siamfc()
    last = trainable_parameters(net.backbone.features, 1)
    assert [p.shape for p in last] == [p.shape for p in net.backbone.features[5].parameters()]
    assert len(trainable_parameters(net.backbone.features, 0)) == len(list(net.backbone.features.parameters()))


def test_updater_trains_restores_and_keeps_batchnorm_statistics():
    net = _tiny_siamfc()
    updater = _updater(net, trainable_layers=0)
    torch.manual_seed(1)
    exemplar = torch.rand(1, 3, 63, 63) * 255
    search = torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():
        current = net(exemplar, search)[0, 0]
    template = torch.zeros_like(current)
    template[current.shape[0] // 2, current.shape[1] // 2] = 1.0
    updater.reset(template)
    bn = net.backbone.features[1]
    stats_before = (bn.running_mean.clone(), bn.running_var.clone())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assessment = updater.assess(current)
    assert updater.should_train(assessment)
    result = updater.update(assessment, current, exemplar, search)
    assert result.trained and len(result.iteration_losses) == 4
    assert result.iteration_losses[-1] < result.iteration_losses[0]
    assert not torch.equal(net.backbone.features[5].weight, before["backbone.features.5.weight"])
    assert torch.equal(bn.running_mean, stats_before[0]) and torch.equal(bn.running_var, stats_before[1])
    assert not bn.training
    updater.restore_pretrained()
    for key, value in net.state_dict().items():
        assert torch.equal(value, before[key]), key


def test_updater_gating_no_training_below_confidence_or_loss_threshold():
    net = _tiny_siamfc()
    updater = _updater(net, confidence_threshold=0.7, zero_loss_threshold=1.0)
    torch.manual_seed(3)
    template = torch.rand(17, 17) * 0.1
    template[8, 8] = 1.0
    updater.reset(template)
    # identical map: JCPP 1 (update R_t with alpha 1) but loss 0 < T_l (no training)
    a = updater.assess(template)
    assert a.jcpp == pytest.approx(1.0) and a.loss == pytest.approx(0.0, abs=1e-9)
    assert not updater.should_train(a)
    # flat map: low PSR and peak -> not confident
    flat = torch.rand(17, 17) * 0.1
    low = updater.assess(flat)
    assert low.jcpp < 0.7 and not updater.should_train(low)
    result = updater.update(low, flat, torch.zeros(1, 3, 63, 63), torch.zeros(1, 3, 127, 127))
    assert not result.trained and not result.template_updated
    assert torch.equal(updater.template_map, template)


def test_diverging_training_is_rolled_back():
    net = _tiny_siamfc()
    updater = _updater(net, trainable_layers=0, learning_rate=1e12)
    torch.manual_seed(1)
    exemplar, search = torch.rand(1, 3, 63, 63) * 255, torch.rand(1, 3, 127, 127) * 255
    template = torch.zeros(9, 9)
    template[4, 4] = 1.0
    updater.reset(template)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    losses = updater.train(exemplar, search)
    assert not math.isfinite(losses[-1])
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def _assess_pair(reference: str) -> tuple[OnlineUpdater, torch.Tensor]:
    net = _tiny_siamfc()
    updater = _updater(net, confidence_reference=reference, confidence_threshold=0.5)
    first = torch.zeros(5, 5)
    first[2, 2] = 4.0
    updater.reset(first)
    weaker = first * 0.5  # half the peak; same PSR shape
    return updater, weaker


def test_confidence_reference_first_frame_ignores_the_updated_template():
    # Paper: Eq. 8 divides by the current R_t. After R_t moved towards a weaker map, the same
    # weak map looks fully confident; with 'first_frame' it stays at half the first peak.
    for reference, expected_peak_r in (("template", 1.0), ("first_frame", 0.5)):
        updater, weaker = _assess_pair(reference)
        updater.set_template_map(weaker)  # as if Eq. 10 had replaced R_t (alpha = 1)
        assert updater.assess(weaker).peak_r == pytest.approx(expected_peak_r), reference
    with pytest.raises(ValueError):
        _updater(_tiny_siamfc(), confidence_reference="bogus")


def test_template_update_max_scales_alpha():
    net = _tiny_siamfc()
    updater = _updater(net, train_iterations=0, confidence_threshold=0.5, template_update_max=0.5)
    first = torch.arange(25.0).view(5, 5) / 25.0
    first[2, 2] = 4.0
    updater.reset(first)
    current = first.clone()
    current[0, 0] = 0.5
    assessment = updater.assess(current)
    assert assessment.jcpp > 0.5
    result = updater.update(assessment, current, torch.zeros(1, 3, 63, 63), None)
    expected_alpha = 0.5 * update_rate(assessment.jcpp, 0.5)
    assert result.alpha == pytest.approx(expected_alpha) and result.template_updated
    assert torch.allclose(updater.template_map, update_template_map(first, current, expected_alpha))
    with pytest.raises(ValueError):
        _updater(_tiny_siamfc(), template_update_max=1.5)


def test_update_without_search_image_raises_only_when_it_must_train():
    net = _tiny_siamfc()
    updater = _updater(net)  # thresholds 0: every frame trains
    m = torch.rand(5, 5)
    updater.reset(m)
    assessment = updater.assess(m.flip(0))
    assert updater.should_train(assessment)
    with pytest.raises(ValueError, match="search image"):
        updater.update(assessment, m.flip(0), torch.zeros(1, 3, 63, 63), None)


def test_frozen_prefix_training_equals_full_forward_training():
    # OnlineUpdater.train runs the frozen blocks once per event; the result must equal SGD
    # through net(exemplar, search) on every iteration.
    torch.manual_seed(3)
    exemplar = torch.rand(1, 3, 63, 63) * 255
    search = torch.rand(1, 3, 127, 127) * 255
    net = _tiny_siamfc()
    reference = _tiny_siamfc().eval()  # BatchNorm statistics frozen, as in the updater
    updater = _updater(net, trainable_layers=1)
    with torch.no_grad():
        current = net(exemplar, search)[0, 0]
    template = torch.zeros_like(current)
    template[1, 1] = 1.0
    updater.reset(template)
    losses = updater.train(exemplar, search)

    params = list(reference.backbone.features[5].parameters())
    for p in reference.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    target = updater.normalize(template)
    ref_losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = kl_loss(target, updater.normalize(reference(exemplar, search)[0, 0].to(target.dtype)))
        ref_losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
    assert losses == pytest.approx(ref_losses, rel=1e-5)
    for mine, theirs in zip(net.backbone.features[5].parameters(), params):
        assert torch.allclose(mine, theirs, atol=1e-6)


# --- SiamOT's adapter (pytracking_siamot.online.adapter) ------------------------------------


def test_gaussian_label_and_memory_weights():
    from pytracking_siamot.online.adapter import gaussian_label, memory_weights

    label = gaussian_label(17, (8.0, 10.0), 1.0)
    assert label.shape == (17, 17) and torch.isclose(label.sum(), torch.tensor(1.0))
    assert divmod(int(torch.argmax(label)), 17) == (8, 10)
    with pytest.raises(ValueError):
        gaussian_label(17, (8.0, 8.0), 0.0)
    weights = memory_weights(4, 0.6, 0.5)
    assert torch.isclose(weights.sum(), torch.tensor(1.0)) and float(weights[0]) == pytest.approx(0.6)
    assert weights[3] > weights[2] > weights[1]  # the newest sample weighs most after the first frame
    assert torch.equal(memory_weights(1, 0.6, 0.5), torch.ones(1))


def test_soft_kl_is_the_kl_of_eq4_on_softmax_maps():
    from pytracking_siamot.online.adapter import soft_kl

    torch.manual_seed(0)
    target = torch.softmax(torch.randn(2, 17 * 17), dim=1).view(2, 17, 17)
    scores = torch.randn(2, 17, 17)
    expected = torch.stack([kl_loss(target[i], torch.softmax(scores[i].flatten() / 0.5, 0).view(17, 17))
                            for i in range(2)])
    torch.testing.assert_close(soft_kl(target, scores, 0.5), expected)
    assert float(soft_kl(target, torch.log(target) * 0.5, 0.5).abs().max()) < 1e-5  # equal maps: 0


@pytest.mark.parametrize("kind", ["kernel", "channel"])
def test_adapter_starts_as_identity_and_training_lowers_the_memory_loss(kind):
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, ExemplarAdapter, gaussian_label
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, xfs = _tiny_features(2, [1, 1, 1])
    assert torch.equal(ExemplarAdapter(zf, kind)(), zf)  # the identity at the start
    size = net.score(zf, xfs[0]).shape[-1]
    centre = (size - 1) / 2.0
    settings = SiamOTParams(adapter=kind, adapter_iterations=20, adapter_learning_rate=0.05,
                            adapter_regularization=0.0)
    trainer = AdapterTrainer(net.score, settings)
    trainer.reset(zf, AdapterSample(xfs[0], gaussian_label(size, (centre, centre), 1.0)))
    for xf in xfs[1:]:
        trainer.add(AdapterSample(xf, gaussian_label(size, (centre, centre), 1.0)))
    losses = trainer.train(temperature=float(net.score(zf, xfs[0]).std()))
    assert len(losses) == 20 and losses[-1] < losses[0]
    assert not torch.equal(trainer.exemplar_features(), zf)
    # Eq. 5 as a floor: no step when the loss is already below it.
    before = trainer.exemplar_features().clone()
    assert len(trainer.train(temperature=1.0, floor=1e9)) == 1
    assert torch.equal(trainer.exemplar_features(), before)


@pytest.mark.parametrize("crops", [1, 3])
def test_adapter_training_on_the_masks_rectangle_equals_full_correlations(crops):
    # AdapterTrainer with region_scores (the tracker's way) computes the same losses and adapter
    # as with a full correlation of Zf' per step (only float rounding differs), for samples of one
    # crop and of three (sample_scale='all').
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label, scale_label
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, xfs = _tiny_features(4, [crops] * 4)
    net.border_crop = 1
    size = net.score(zf, xfs[0]).shape[-1]
    mask = torch.zeros(zf.shape[-2:])
    mask[0:3, 1:4] = 1.0  # reaches into the border crop
    settings = SiamOTParams(adapter_iterations=6, adapter_regularization=0.1, memory_size=2)
    results = []
    for region_scores in (None, net.exemplar_region_scores):
        trainer = AdapterTrainer(net.score, settings, region_scores)
        trainer.reset(zf, AdapterSample(xfs[0], scale_label(gaussian_label(size, (2.0, 3.0), 0.5), crops, 0)), mask)
        losses = []
        for k, xf in enumerate(xfs[1:]):  # the memory drops its oldest sample on the last add
            trainer.add(AdapterSample(xf, scale_label(gaussian_label(size, (1.0 + k, 2.0), 0.5), crops, k % crops)))
            losses.append(trainer.train(temperature=float(net.score(zf, xf).std())))
        results.append((losses, trainer.exemplar_features(), float(trainer.loss(1.0).detach())))
    (plain, plain_zf, plain_loss), (fast, fast_zf, fast_loss) = results
    assert len(plain) == len(fast) == 3 and all(len(a) == len(b) == 6 for a, b in zip(plain, fast))
    torch.testing.assert_close(torch.tensor(fast), torch.tensor(plain), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(fast_zf, plain_zf, rtol=1e-5, atol=1e-6)
    assert fast_loss == pytest.approx(plain_loss, rel=1e-5)
    assert not torch.equal(fast_zf, zf)


def test_a_multi_crop_sample_takes_one_softmax_over_all_its_maps():
    # sample_scale='all': a sample's loss is the KL of its label against one softmax over the maps
    # of all its crops, so mass on the wrong scale's map costs as much as mass off the target.
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label, scale_label
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, (xf,) = _tiny_features(6, [3])
    with torch.no_grad():
        maps = net.score(zf, xf)[:, 0]  # (3, h, w)
    size = maps.shape[-1]
    single = gaussian_label(size, (2.0, 3.0), 0.5)
    label = scale_label(single, 3, 2)
    assert scale_label(single, 1, 0) is single  # one crop: the label as it is
    assert torch.equal(label[2], single) and not label[:2].any()  # all its mass on crop 2
    trainer = AdapterTrainer(net.score, SiamOTParams(adapter_regularization=0.0))
    trainer.reset(zf, AdapterSample(xf, label))
    log_p = torch.log_softmax(maps.flatten() / 1.5, dim=0).view(3, size, size)
    expected = (label * (torch.log(label.clamp_min(1e-30)) - log_p))[label > 0].sum()
    assert float(trainer.loss(1.5).detach()) == pytest.approx(float(expected), rel=1e-5)
    with pytest.raises(ValueError, match="label"):
        AdapterSample(xf, label[0])  # three crops need a label per crop
    with pytest.raises(ValueError, match="label"):
        AdapterSample(xf[:2], label)
    with pytest.raises(ValueError, match="3-crop samples"):
        trainer.add(AdapterSample(xf[:1], label[0]))


def test_sample_weights_rescale_the_recent_samples_share_of_the_loss():
    from pytracking_siamot.online.adapter import (AdapterSample, AdapterTrainer, gaussian_label, memory_weights,
                                                  soft_kl)
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, xfs = _tiny_features(5, [1, 1, 1])
    size = net.score(zf, xfs[0]).shape[-1]
    labels = [gaussian_label(size, (1.0 + k, 2.0), 0.5) for k in range(3)]
    settings = SiamOTParams(first_frame_weight=0.3, memory_decay=0.5, adapter_regularization=0.0)
    trainer = AdapterTrainer(net.score, settings)
    trainer.reset(zf, AdapterSample(xfs[0], labels[0], weight=7.0))  # the first frame's weight is not used
    trainer.add(AdapterSample(xfs[1], labels[1], weight=0.4))
    trainer.add(AdapterSample(xfs[2], labels[2], weight=0.8))
    with torch.no_grad():
        kl = soft_kl(torch.stack(labels), net.score(zf, torch.cat(xfs))[:, 0], 2.0)
    by_age = memory_weights(3, 0.3, 0.5)  # 0.3, then 0.7 split 1:2 between the older and the newer
    rest = by_age[1:] * torch.tensor([0.4, 0.8])
    weights = torch.cat([by_age[:1], rest / rest.sum() * 0.7])
    assert float(weights[0]) == pytest.approx(0.3) and float(weights[1:].sum()) == pytest.approx(0.7)
    assert float(trainer.loss(2.0).detach()) == pytest.approx(float((weights * kl).sum()), rel=1e-5)
    # equal weights are the uniform memory
    uniform = AdapterTrainer(net.score, settings)
    uniform.reset(zf, AdapterSample(xfs[0], labels[0]))
    for k in (1, 2):
        uniform.add(AdapterSample(xfs[k], labels[k], weight=0.5))
    assert float(uniform.loss(2.0).detach()) == pytest.approx(float((by_age * kl).sum()), rel=1e-5)


def test_masked_kernel_adapter_changes_only_the_target_cells():
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, (xf,) = _tiny_features(3, [1])
    size = net.score(zf, xf).shape[-1]
    mask = torch.zeros(zf.shape[-2:])
    mask[1:-1, 2:-2] = 1.0
    trainer = AdapterTrainer(net.score, SiamOTParams(adapter_iterations=10, adapter_regularization=0.0))
    trainer.reset(zf, AdapterSample(xf, gaussian_label(size, (2.0, 3.0), 1.0)), mask)
    losses = trainer.train(temperature=float(net.score(zf, xf).std()))
    assert losses[-1] < losses[0]
    changed = (trainer.exemplar_features() != zf).any(dim=1)[0]
    assert changed[mask.bool()].any() and not changed[~mask.bool()].any()
    with pytest.raises(ValueError, match="mask"):
        trainer.reset(zf, AdapterSample(xf, gaussian_label(size, (2.0, 3.0), 1.0)), torch.ones(2, 2))


@pytest.mark.parametrize("kind", ["kernel", "channel"])
def test_normalized_adapter_step_follows_the_gradient_with_rms_of_the_learning_rate(kind):
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label
    from pytracking_siamot.parameters import SiamOTParams

    net, zf, (xf0, xf1) = _tiny_features(4, [1, 1])
    size = net.score(zf, xf0).shape[-1]
    mask = torch.zeros(zf.shape[-2:])
    mask[1:-1, 2:-2] = 1.0
    settings = SiamOTParams(adapter=kind, adapter_optimizer="normalized", adapter_iterations=1,
                            adapter_learning_rate=0.07, adapter_regularization=0.1)
    trainer = AdapterTrainer(net.score, settings)
    trainer.reset(zf, AdapterSample(xf0, gaussian_label(size, (2.0, 3.0), 1.0)), mask if kind == "kernel" else None)
    trainer.add(AdapterSample(xf1, gaussian_label(size, (3.0, 2.0), 1.0)))
    temperature = float(net.score(zf, xf0).std())
    (param,) = list(trainer.adapter.parameters())
    before = param.detach().clone()
    with torch.enable_grad():
        trainer.loss(temperature).backward()
    gradient, param.grad = param.grad.clone(), None
    trainer.train(temperature)
    step = before - param.detach()
    free = mask.expand_as(step).bool() if kind == "kernel" else torch.ones_like(step, dtype=torch.bool)
    assert float(step[free].pow(2).mean().sqrt()) == pytest.approx(0.07, rel=1e-4)
    assert not step[~free].any()
    torch.testing.assert_close(step, gradient * (0.07 / float(gradient[free].pow(2).mean().sqrt())))
    # Many steps lower the loss as Adam's do.
    trainer = AdapterTrainer(net.score, SiamOTParams(adapter=kind, adapter_optimizer="normalized",
                                                     adapter_iterations=20, adapter_regularization=0.0))
    trainer.reset(zf, AdapterSample(xf0, gaussian_label(size, (2.0, 3.0), 1.0)))
    losses = trainer.train(temperature)
    assert losses[-1] < losses[0]
    # A non-finite gradient (finite loss) takes no step and rolls the event back.
    before = trainer.exemplar_features().clone()
    (param,) = list(trainer.adapter.parameters())
    param.register_hook(lambda grad: grad * float("inf"))
    losses = trainer.train(temperature)
    assert len(losses) == 1 and math.isfinite(losses[0])
    assert torch.equal(trainer.exemplar_features(), before)
    with pytest.raises(ValueError, match="adapter_optimizer"):
        SiamOTParams(adapter_optimizer="sgd")
