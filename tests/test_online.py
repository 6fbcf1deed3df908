"""The paper's equations as pure functions vs hand-computed values, the confidence state, and the
online methods (the paper's backbone fine-tuning, the adapter) on a tiny network."""
from __future__ import annotations

import dataclasses
import math

import pytest
import torch
from torch import nn

from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.tracking.siamfc import SiamFC
from ltr.inference import InferenceBackbone
from pytracking_siamot.online import (ConfidenceState, jcpp, kl_loss, normalize_map, normalize_shift,
                                      normalize_softmax, peak, psr, psr_window, relative_ratio, shift_map,
                                      thresholded_loss, update_rate, update_template_map)
from pytracking_siamot.online.backbone import BackboneFineTuning, first_trainable_block, trainable_parameters
from pytracking_siamot.online.method import FirstFrame, SiameseNetwork
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
    # hand computation: sidelobe = all but the 3x3 window around (8, 8): 280 cells, one of them 1
    n = 289 - 9
    mean = 1.0 / n
    std = math.sqrt((1.0 - mean) ** 2 / n + (n - 1) * mean ** 2 / n)
    assert psr(m) == pytest.approx((10.0 - mean) / std)
    assert psr(torch.ones(5, 5)) == 0.0  # constant sidelobe


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


def _settings(**kw) -> SiamOTParams:
    args = dict(normalization="softmax", softmax_temperature=0.05, zero_loss_threshold=0.0, confidence_threshold=0.0,
                jcpp_weight=0.5, backbone_learning_rate=1e-3, backbone_momentum=0.9, backbone_iterations=4,
                backbone_trainable_layers=1, confidence_reference="template", online_method="backbone")
    args.update(kw)
    return SiamOTParams(**args)


def _fine_tuning(net: SiamFC, template: torch.Tensor, exemplar: torch.Tensor | None = None,
                 **kw) -> BackboneFineTuning:
    """The paper's method on ``net`` (every parameter frozen first, as the tracker does), started
    with ``R_t = template``."""
    settings = _settings(**kw)
    net.requires_grad_(False)
    features = InferenceBackbone(net.backbone, BackboneFineTuning.frozen_blocks(net.backbone.features, settings),
                                 "fp32", "torch", "cpu")
    method = BackboneFineTuning(SiameseNetwork(net, features, None), settings)
    exemplar = torch.zeros(1, 3, 63, 63) if exemplar is None else exemplar
    with torch.no_grad():
        zf = net.template(exemplar)
    method.start(FirstFrame(exemplar, zf, template, zf, torch.tensor([8.0, 8.0]).numpy()))
    return method


def _confidence(template: torch.Tensor, **kw) -> ConfidenceState:
    state = ConfidenceState(_settings(**kw))
    state.reset(template)
    return state


def test_trainable_layers_selects_last_parameterised_blocks():
    net = _tiny_siamfc()
    last = trainable_parameters(net.backbone.features, 1)
    assert [p.shape for p in last] == [p.shape for p in net.backbone.features[5].parameters()]
    assert len(trainable_parameters(net.backbone.features, 0)) == len(list(net.backbone.features.parameters()))
    # blocks 0, 1, 3, 5 have parameters: the last two start at block 3, all of them at block 0
    assert [first_trainable_block(net.backbone.features, k) for k in (1, 2, 0, 9)] == [5, 3, 0, 0]


def test_backbone_method_trains_only_its_blocks_and_keeps_batchnorm_statistics():
    net = _tiny_siamfc()
    torch.manual_seed(1)
    exemplar = torch.rand(1, 3, 63, 63) * 255
    search = torch.rand(1, 3, 127, 127) * 255
    with torch.no_grad():
        current = net(exemplar, search)[0, 0]
    template = torch.zeros_like(current)
    template[current.shape[0] // 2, current.shape[1] // 2] = 1.0
    method = _fine_tuning(net, template, exemplar, backbone_trainable_layers=2)
    # only the chosen blocks are trainable; the tracker's InferenceBackbone may compile the rest
    assert BackboneFineTuning.frozen_blocks(net.backbone.features, _settings(backbone_trainable_layers=2)) == 3
    assert {n for n, p in net.named_parameters() if p.requires_grad} == {
        n for n, _ in net.named_parameters() if n.startswith(("backbone.features.3.", "backbone.features.5."))}
    bn = net.backbone.features[1]
    stats_before = (bn.running_mean.clone(), bn.running_var.clone())
    before = {k: v.clone() for k, v in net.state_dict().items()}
    assessment = method.confidence.assess(current)
    assert method.should_train(assessment)
    losses = method.train(exemplar, search)
    assert len(losses) == 4 and losses[-1] < losses[0]
    assert not torch.equal(net.backbone.features[5].weight, before["backbone.features.5.weight"])
    assert torch.equal(net.backbone.features[0].weight, before["backbone.features.0.weight"])
    assert torch.equal(bn.running_mean, stats_before[0]) and torch.equal(bn.running_var, stats_before[1])
    assert not bn.training


def test_backbone_method_gating_no_training_below_confidence_or_loss_threshold():
    net = _tiny_siamfc()
    torch.manual_seed(3)
    template = torch.rand(17, 17) * 0.1
    template[8, 8] = 1.0
    method = _fine_tuning(net, template, confidence_threshold=0.7, zero_loss_threshold=1.0)
    # identical map: JCPP 1 (update R_t with alpha 1) but loss 0 < T_l (no training)
    a = method.confidence.assess(template)
    assert a.jcpp == pytest.approx(1.0) and a.loss == pytest.approx(0.0, abs=1e-9)
    assert not method.should_train(a)
    # flat map: low PSR and peak -> not confident, no R_t update
    flat = torch.rand(17, 17) * 0.1
    low = method.confidence.assess(flat)
    assert low.jcpp < 0.7 and not method.should_train(low)
    assert not method.confidence.update_template(low, flat)
    assert torch.equal(method.confidence.template_map, template)
    assert not _fine_tuning(_tiny_siamfc(), template, backbone_iterations=0).should_train(a)


def test_diverging_training_is_rolled_back():
    net = _tiny_siamfc()
    torch.manual_seed(1)
    exemplar, search = torch.rand(1, 3, 63, 63) * 255, torch.rand(1, 3, 127, 127) * 255
    template = torch.zeros(9, 9)
    template[4, 4] = 1.0
    method = _fine_tuning(net, template, exemplar, backbone_trainable_layers=0, backbone_learning_rate=1e12)
    before = {k: v.clone() for k, v in net.state_dict().items()}
    losses = method.train(exemplar, search)
    assert not math.isfinite(losses[-1])
    for k, v in net.state_dict().items():
        assert torch.equal(v, before[k]), k


def test_confidence_reference_first_frame_ignores_the_updated_template():
    # Paper: Eq. 8 divides by the current R_t. After R_t moved towards a weaker map, the same
    # weak map looks fully confident; with 'first_frame' it stays at half the first peak.
    first = torch.zeros(5, 5)
    first[2, 2] = 4.0
    weaker = first * 0.5  # half the peak; same PSR shape
    for reference, expected_peak_r in (("template", 1.0), ("first_frame", 0.5)):
        state = _confidence(first, confidence_reference=reference, confidence_threshold=0.5)
        # as if Eq. 10 had replaced R_t (JCPP 1: alpha = 1)
        assert state.update_template(dataclasses.replace(state.assess(weaker), jcpp=1.0), weaker)
        assert torch.equal(state.template_map, weaker)
        assert state.assess(weaker).peak_r == pytest.approx(expected_peak_r), reference


def test_template_update_max_scales_alpha():
    first = torch.arange(25.0).view(5, 5) / 25.0
    first[2, 2] = 4.0
    state = _confidence(first, confidence_threshold=0.5, template_update_max=0.5)
    current = first.clone()
    current[0, 0] = 0.5
    assessment = state.assess(current)
    assert assessment.jcpp > 0.5 and state.is_confident(assessment)
    assert state.update_template(assessment, current)
    expected_alpha = 0.5 * update_rate(assessment.jcpp, 0.5)
    assert torch.allclose(state.template_map, update_template_map(first, current, expected_alpha))


def test_confidence_state_scale_and_assessment_before_reset():
    state = ConfidenceState(_settings(softmax_temperature=0.5))
    with pytest.raises(RuntimeError, match="before reset"):
        state.assess(torch.zeros(5, 5))
    template = torch.arange(25.0).view(1, 1, 5, 5)
    state.reset(template)
    assert state.template_map.shape == (5, 5)
    assert state.map_scale == pytest.approx(float(template.double().std()))
    assert state.temperature_scale == pytest.approx(0.5 * state.map_scale)
    torch.testing.assert_close(state.normalize(template[0, 0]),
                               normalize_softmax(template[0, 0], 0.5 * state.map_scale))
    flat = ConfidenceState(_settings())
    flat.reset(torch.ones(5, 5))
    assert flat.map_scale == 1.0  # a constant first map: no scale


def test_frozen_prefix_training_equals_full_forward_training():
    # BackboneFineTuning.train runs the frozen blocks once per event; the result must equal SGD
    # through net(exemplar, search) on every iteration.
    torch.manual_seed(3)
    exemplar = torch.rand(1, 3, 63, 63) * 255
    search = torch.rand(1, 3, 127, 127) * 255
    net = _tiny_siamfc().eval()  # BatchNorm statistics frozen, as in the method
    reference = _tiny_siamfc().eval()
    with torch.no_grad():
        current = net(exemplar, search)[0, 0]
    template = torch.zeros_like(current)
    template[1, 1] = 1.0
    method = _fine_tuning(net, template, exemplar, backbone_trainable_layers=1)
    losses = method.train(exemplar, search)

    params = list(reference.backbone.features[5].parameters())
    for p in reference.parameters():
        p.requires_grad_(False)
    for p in params:
        p.requires_grad_(True)
    opt = torch.optim.SGD(params, lr=1e-3, momentum=0.9)
    target = method.confidence.normalize(template)
    ref_losses = []
    for _ in range(4):
        opt.zero_grad()
        loss = kl_loss(target, method.confidence.normalize(reference(exemplar, search)[0, 0].to(target.dtype)))
        ref_losses.append(float(loss.detach()))
        loss.backward()
        opt.step()
    assert losses == pytest.approx(ref_losses, rel=1e-5)
    for mine, theirs in zip(net.backbone.features[5].parameters(), params):
        assert torch.allclose(mine, theirs, atol=1e-6)


def test_shift_map_moves_the_centre():
    m = torch.arange(25.0).view(5, 5)
    assert torch.equal(shift_map(m, (0.0, 0.0)), m)
    right = shift_map(m, (1.0, 0.0))
    assert torch.equal(right[:, :4], m[:, 1:]) and torch.equal(right[:, 4], m[:, 4])  # border repeated
    half_up = shift_map(m, (0.0, -0.5))
    assert torch.allclose(half_up[1:], (m[1:] + m[:-1]) / 2)
    with pytest.raises(ValueError):
        shift_map(torch.zeros(3), (0.0, 0.0))


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


def test_adapter_starts_as_identity_and_training_lowers_the_memory_loss():
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, ExemplarAdapter, gaussian_label

    net, zf, xfs = _tiny_features(2, [1, 1, 1])
    assert torch.equal(ExemplarAdapter(zf)(), zf)  # the identity at the start
    size = net.score(zf, xfs[0]).shape[-1]
    centre = (size - 1) / 2.0
    settings = SiamOTParams(adapter_iterations=20, adapter_learning_rate=0.05, adapter_regularization=0.0)
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
    with pytest.raises(ValueError, match="label"):
        AdapterSample(xfs[0], gaussian_label(size, (centre, centre), 1.0)[None])
    with pytest.raises(ValueError, match="features"):
        AdapterSample(torch.cat(xfs), gaussian_label(size, (centre, centre), 1.0))


def test_adapter_training_on_the_masks_rectangle_equals_full_correlations():
    # AdapterTrainer with region_scores (the tracker's way) computes the same losses and adapter
    # as with a full correlation of Zf' per step (only float rounding differs).
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label

    net, zf, xfs = _tiny_features(4, [1] * 4)
    net.border_crop = 1
    size = net.score(zf, xfs[0]).shape[-1]
    mask = torch.zeros(zf.shape[-2:])
    mask[0:3, 1:4] = 1.0  # reaches into the border crop
    settings = SiamOTParams(adapter_iterations=6, adapter_regularization=0.1, adapter_memory_size=2)
    results = []
    for region_scores in (None, net.exemplar_region_scores):
        trainer = AdapterTrainer(net.score, settings, region_scores)
        trainer.reset(zf, AdapterSample(xfs[0], gaussian_label(size, (2.0, 3.0), 0.5)), mask)
        losses = []
        for k, xf in enumerate(xfs[1:]):  # the memory drops its oldest sample on the last add
            trainer.add(AdapterSample(xf, gaussian_label(size, (1.0 + k, 2.0), 0.5)))
            losses.append(trainer.train(temperature=float(net.score(zf, xf).std())))
        assert len(trainer.samples) == 3
        results.append((losses, trainer.exemplar_features(), float(trainer.loss(1.0).detach())))
    (plain, plain_zf, plain_loss), (fast, fast_zf, fast_loss) = results
    assert len(plain) == len(fast) == 3 and all(len(a) == len(b) == 6 for a, b in zip(plain, fast))
    torch.testing.assert_close(torch.tensor(fast), torch.tensor(plain), rtol=1e-5, atol=1e-7)
    torch.testing.assert_close(fast_zf, plain_zf, rtol=1e-5, atol=1e-6)
    assert fast_loss == pytest.approx(plain_loss, rel=1e-5)
    assert not torch.equal(fast_zf, zf)


def test_memory_loss_weighs_samples_by_age_with_the_first_frames_share_fixed():
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label, memory_weights, soft_kl

    net, zf, xfs = _tiny_features(5, [1, 1, 1])
    size = net.score(zf, xfs[0]).shape[-1]
    labels = [gaussian_label(size, (1.0 + k, 2.0), 0.5) for k in range(3)]
    settings = SiamOTParams(adapter_first_frame_weight=0.3, adapter_memory_decay=0.5, adapter_regularization=0.0)
    trainer = AdapterTrainer(net.score, settings)
    trainer.reset(zf, AdapterSample(xfs[0], labels[0]))
    trainer.add(AdapterSample(xfs[1], labels[1]))
    trainer.add(AdapterSample(xfs[2], labels[2]))
    with torch.no_grad():
        kl = soft_kl(torch.stack(labels), net.score(zf, torch.cat(xfs))[:, 0], 2.0)
    weights = memory_weights(3, 0.3, 0.5)  # 0.3, then 0.7 split 1:2 between the older and the newer
    torch.testing.assert_close(weights, torch.tensor([0.3, 0.7 / 3, 1.4 / 3]))
    assert float(trainer.loss(2.0).detach()) == pytest.approx(float((weights * kl).sum()), rel=1e-5)


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


def test_normalized_adapter_step_follows_the_gradient_with_rms_of_the_learning_rate():
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label

    net, zf, (xf0, xf1) = _tiny_features(4, [1, 1])
    size = net.score(zf, xf0).shape[-1]
    mask = torch.zeros(zf.shape[-2:])
    mask[1:-1, 2:-2] = 1.0
    settings = SiamOTParams(adapter_iterations=1, adapter_learning_rate=0.07, adapter_regularization=0.1)
    trainer = AdapterTrainer(net.score, settings)
    trainer.reset(zf, AdapterSample(xf0, gaussian_label(size, (2.0, 3.0), 1.0)), mask)
    trainer.add(AdapterSample(xf1, gaussian_label(size, (3.0, 2.0), 1.0)))
    temperature = float(net.score(zf, xf0).std())
    param = trainer.adapter.delta
    before = param.detach().clone()
    with torch.enable_grad():
        trainer.loss(temperature).backward()
    gradient, param.grad = param.grad.clone(), None
    trainer.train(temperature)
    step = before - param.detach()
    free = mask.expand_as(step).bool()
    assert float(step[free].pow(2).mean().sqrt()) == pytest.approx(0.07, rel=1e-4)
    assert not step[~free].any()
    torch.testing.assert_close(step, gradient * (0.07 / float(gradient[free].pow(2).mean().sqrt())))
    # Many steps lower the loss.
    trainer = AdapterTrainer(net.score, SiamOTParams(adapter_iterations=20, adapter_regularization=0.0))
    trainer.reset(zf, AdapterSample(xf0, gaussian_label(size, (2.0, 3.0), 1.0)))
    losses = trainer.train(temperature)
    assert losses[-1] < losses[0]
    # A non-finite gradient (finite loss) takes no step and rolls the event back.
    before = trainer.exemplar_features().clone()
    trainer.adapter.delta.register_hook(lambda grad: grad * float("inf"))
    losses = trainer.train(temperature)
    assert len(losses) == 1 and math.isfinite(losses[0])
    assert torch.equal(trainer.exemplar_features(), before)


# --- hard negatives and falling confidence (adapter options, off by default) -----------------


def test_distractor_cells_mark_look_alike_peaks_away_from_the_target():
    from pytracking_siamot.online.adapter import distractor_cells

    m = torch.zeros(17, 17)
    m[8, 8] = 10.0   # the target
    m[8, 10] = 9.0   # a shoulder of it, within 2 cells: not a look-alike
    m[3, 12] = 7.0   # a look-alike: 70 % of the target's height
    m[14, 2] = 2.0   # a bump under half the target's height
    mask = distractor_cells(m, (8.0, 8.0), radius=2.0, ratio=0.5)
    expected = torch.zeros(17, 17)
    expected[2:5, 11:14] = 1.0
    assert torch.equal(mask, expected)
    # A lower ratio takes the bump too; count keeps the highest peaks only.
    assert int(distractor_cells(m, (8.0, 8.0), 2.0, 0.1).sum()) == 18
    assert torch.equal(distractor_cells(m, (8.0, 8.0), 2.0, 0.1, count=1), expected)
    # The target found off-centre (fractional cells): the peak at (8, 8) is then the look-alike.
    off = distractor_cells(m, (3.2, 11.8), 2.0, 0.5)
    assert off[8, 8] == 1.0 and off[3, 12] == 0.0
    assert not distractor_cells(torch.ones(17, 17), (8.0, 8.0), 2.0, 0.5).any()  # a flat map has none


def test_negatives_loss_is_the_cross_entropy_of_a_zero_label():
    from pytracking_siamot.online.adapter import negatives_loss

    scores = torch.tensor([[[0.0, math.log(3.0)]], [[0.0, math.log(3.0)]]])  # softmax 0.25 / 0.75
    negatives = torch.tensor([[[0.0, 1.0]], [[0.0, 0.0]]])
    torch.testing.assert_close(negatives_loss(negatives, scores, 1.0), torch.tensor([-math.log(0.25), 0.0]))


def test_hard_negatives_lower_the_look_alikes_mass_and_leave_the_loss_without_them_unchanged():
    from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, distractor_cells, gaussian_label

    net, zf, xfs = _tiny_features(3, [1, 1])
    maps = [net.score(zf, xf)[0, 0] for xf in xfs]
    size = maps[0].shape[-1]
    centre = (size - 1) / 2.0
    temperature = float(maps[0].std())
    negatives = [distractor_cells(m, (centre, centre), 1.5, 0.0) for m in maps]
    assert all(n.any() for n in negatives)

    def trained(weight: float, with_negatives: bool = True) -> AdapterTrainer:
        settings = SiamOTParams(adapter_iterations=10, adapter_learning_rate=0.05, adapter_negative_weight=weight)
        trainer = AdapterTrainer(net.score, settings)
        samples = [AdapterSample(xf, gaussian_label(size, (centre, centre), 0.5), n if with_negatives else None)
                   for xf, n in zip(xfs, negatives)]
        trainer.reset(zf, samples[0])
        trainer.add(samples[1])
        return trainer

    # Without negatives in the samples (or at weight 0) the loss is the plain one.
    plain = trained(0.0).loss(temperature).detach()
    assert torch.equal(trained(1.0, with_negatives=False).loss(temperature).detach(), plain)
    assert float(trained(1.0).loss(temperature).detach()) > float(plain)

    def look_alike_mass(trainer: AdapterTrainer) -> float:
        trainer.train(temperature)
        scores = torch.stack([net.score(trainer.exemplar_features(), xf)[0, 0] for xf in xfs])
        p = torch.softmax(scores.flatten(1) / temperature, dim=1)
        return float((p * torch.stack(negatives).flatten(1)).sum())

    assert look_alike_mass(trained(2.0)) < look_alike_mass(trained(0.0))


def test_falling_confidence_is_judged_against_the_recent_frames():
    from pytracking_siamot.online.adapter import AdapterMethod

    net = _tiny_siamfc()
    net.requires_grad_(False)
    features = InferenceBackbone(net.backbone, len(list(net.backbone.features.children())), "fp32", "torch", "cpu")
    network = SiameseNetwork(net, features, None)
    method = AdapterMethod(network, SiamOTParams(adapter_fall_window=2, adapter_fall_margin=0.1))
    # 0.75 is within 0.1 of 0.8; 0.6 is below max(0.8, 0.75) - 0.1; 0.6 below max(0.75, 0.6) - 0.1;
    # 0.55 is within 0.1 of max(0.6, 0.6); NaN is never trusted and is left out of the window.
    falls = [method._falling(v) for v in (0.8, 0.75, 0.6, 0.6, 0.55, math.nan, 0.5)]
    assert falls == [False, False, True, True, False, True, False]
    off = AdapterMethod(network, SiamOTParams())
    assert not any(off._falling(v) for v in (0.9, 0.1, 0.0))


def test_a_frame_is_lost_at_or_below_the_lost_threshold():
    state = _confidence(torch.ones(17, 17), lost_threshold=0.2)
    judged = [state.is_lost(dataclasses.replace(state.assess(torch.ones(17, 17)), jcpp=v))
              for v in (0.1, 0.2, 0.21, math.nan)]
    assert judged == [True, True, False, True]
