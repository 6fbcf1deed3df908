"""The adapter's drift guard: the decision rule on generated maps, the trainer's rollback, and the
method's wiring (rollback, relocation, blend, agreement gate) on a tiny network."""
from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from ltr.inference import InferenceBackbone
from ltr.models.backbone.base import IMAGENET_MEAN, IMAGENET_STD, Backbone, BackboneSpec
from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.online.adapter import AdapterMethod, AdapterSample, AdapterTrainer, gaussian_label
from pytracking_siamot.online.drift_guard import (DriftGuard, disagrees, drift_evidence, map_height, peak_rc,
                                                  value_at)
from pytracking_siamot.online.method import FirstFrame, Frame, SiameseNetwork
from pytracking_siamot.parameters import SiamOTParams


def _bump(size: int, center_rc: tuple[float, float], height: float, sigma: float = 1.0) -> torch.Tensor:
    coords = torch.arange(size, dtype=torch.float32)
    rows = (coords - center_rc[0]) ** 2
    cols = (coords - center_rc[1]) ** 2
    return height * torch.exp(-(rows[:, None] + cols[None, :]) / (2 * sigma * sigma))


def test_map_helpers():
    m = _bump(17, (4.0, 11.0), 2.0) + 1.0
    assert peak_rc(m) == (4, 11)
    assert map_height(m) == pytest.approx(2.0, abs=1e-3)
    grid = torch.tensor([[0.0, 1.0], [2.0, 3.0]])
    assert value_at(grid, (0.5, 0.5)) == pytest.approx(1.5)
    assert value_at(grid, (0.0, 0.25)) == pytest.approx(0.25)
    assert value_at(grid, (5.0, -3.0)) == pytest.approx(2.0)  # clamped to the map


def test_evidence_and_disagreement_on_generated_maps():
    first_height = 2.0
    # The un-adapted map peaks at (3, 3) as high as the first frame's; the target is tracked at (8, 8).
    strong = _bump(17, (3.0, 3.0), 2.0)
    e = drift_evidence(strong, (8.0, 8.0), first_height)
    assert e.peak_rc == (3, 3) and e.distance == pytest.approx(math.hypot(5, 5))
    assert e.peak_height == pytest.approx(1.0, abs=1e-3) and e.tracked_height < 0.01
    assert disagrees(e, 2.0, 0.5, 0.2)
    assert not disagrees(e, 8.0, 0.5, 0.2)  # within the distance
    # A weak un-adapted peak (0.3 of the first frame's height) does not disagree.
    weak = drift_evidence(_bump(17, (3.0, 3.0), 0.6), (8.0, 8.0), first_height)
    assert weak.peak_height == pytest.approx(0.3, abs=1e-3)
    assert not disagrees(weak, 2.0, 0.5, 0.2)
    # Two peaks as high as each other: the tracked one is not clearly below the other (a look-alike).
    twins = _bump(17, (3.0, 3.0), 2.0) + _bump(17, (12.0, 12.0), 1.9)
    e = drift_evidence(twins, (12.0, 12.0), first_height)
    assert e.peak_rc == (3, 3) and not disagrees(e, 2.0, 0.5, 0.2)
    assert disagrees(e, 2.0, 0.5, 0.0)
    # Without a first-frame height nothing disagrees.
    assert not disagrees(drift_evidence(strong, (8.0, 8.0), 0.0), 2.0, 0.5, 0.2)


def test_guard_fires_after_n_disagreeing_frames_in_a_row_and_not_before():
    guard = DriftGuard(3)
    assert [guard.observe(True) for _ in range(2)] == [False, False]  # N - 1 frames
    assert guard.observe(False) is False and guard.streak == 0  # an agreeing frame ends the streak
    assert [guard.observe(True) for _ in range(3)] == [False, False, True]
    assert guard.streak == 0  # starts again after firing
    never = DriftGuard(0)
    assert not any(never.observe(True) for _ in range(10))
    with pytest.raises(ValueError, match="frames"):
        DriftGuard(-1)


def _tiny_siamfc() -> SiamFC:
    torch.manual_seed(0)
    features = nn.Sequential(nn.Conv2d(3, 4, 3, stride=2), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.Conv2d(4, 4, 3, stride=2), nn.ReLU(), nn.Conv2d(4, 4, 3, stride=2))
    spec = BackboneSpec("tiny", 4, 8, IMAGENET_MEAN, IMAGENET_STD, "test network")
    net = SiamFC(Backbone(spec, features), center_exemplar=True)
    net.requires_grad_(False)
    return net


def test_trainer_rolls_back_to_a_checkpoint_or_the_identity():
    net = _tiny_siamfc()
    torch.manual_seed(1)
    zf = net.template(torch.rand(1, 3, 63, 63) * 255)
    xfs = [net.search(torch.rand(1, 3, 127, 127) * 255) for _ in range(4)]
    size = net.score(zf, xfs[0]).shape[-1]
    label = gaussian_label(size, ((size - 1) / 2.0,) * 2, 1.0)
    trainer = AdapterTrainer(net.score, SiamOTParams(adapter_iterations=3))
    trainer.reset(zf, AdapterSample(xfs[0], label))
    trainer.add(AdapterSample(xfs[1], label))
    trainer.train(temperature=1.0)
    checkpoint = trainer.checkpoint()
    kept = trainer.exemplar_features().clone()
    for xf in xfs[2:]:
        trainer.add(AdapterSample(xf, label))
    trainer.train(temperature=1.0)
    assert not torch.equal(trainer.exemplar_features(), kept) and len(trainer.samples) == 4
    trainer.roll_back(checkpoint)
    assert torch.equal(trainer.exemplar_features(), kept)
    assert [s.features for s in trainer.samples] == [xfs[0], xfs[1]]  # the samples since are dropped
    trainer.train(temperature=1.0)  # the memory still trains after a rollback
    trainer.roll_back(None)
    assert torch.equal(trainer.exemplar_features(), zf) and len(trainer.samples) == 1


def _method(**settings) -> tuple[AdapterMethod, torch.Tensor, torch.Tensor]:
    """An adapter method started on a random first frame, with the search features of a later frame."""
    net = _tiny_siamfc()
    features = InferenceBackbone(net.backbone, len(list(net.backbone.features.children())), "fp32", "torch", "cpu")
    network = SiameseNetwork(net, features, None)
    method = AdapterMethod(network, SiamOTParams(**settings))
    torch.manual_seed(3)
    exemplar = torch.rand(1, 3, 63, 63) * 255
    zf = net.template(exemplar)
    xf = net.search(torch.rand(1, 3, 127, 127) * 255)
    method.start(FirstFrame(exemplar, zf, net.score(zf, xf)[0, 0], xf, np.array([20.0, 20.0])))
    return method, zf, xf


def _far_frame(method: AdapterMethod, zf: torch.Tensor, xf: torch.Tensor) -> tuple[Frame, tuple[int, int]]:
    """A frame whose tracked position is the map corner farthest from the un-adapted map's peak."""
    base = method.network.score(zf, xf)[0, 0]
    size = base.shape[-1]
    centre = (size - 1) / 2.0
    peak = peak_rc(base)
    far_r, far_c = (0 if p > centre else size - 1 for p in peak)
    frame = Frame(base[None, None], xf, 0, np.array([far_c - centre, far_r - centre]), zf, False,
                  crop_at_target=lambda: None)
    return frame, peak


def test_method_rolls_back_and_relocates_after_n_frames_far_from_the_un_adapted_peak():
    method, zf, xf = _method(adapter_guard_frames=3, adapter_guard_height=0.0, adapter_guard_margin=0.0,
                             adapter_guard_distance=1.0, adapter_guard_relocate=True,
                             adapter_guard_rollback="identity", confidence_threshold=0.99)
    frame, peak = _far_frame(method, zf, xf)
    first = [method.update(frame) for _ in range(2)]
    assert not any(u.rolled_back for u in first) and all(u.relocate_cells is None for u in first)
    fired = method.update(frame)
    assert fired.rolled_back and method.rollbacks == 1
    assert torch.equal(fired.exemplar_features, zf)  # the identity
    size = frame.responses.shape[-1]
    tracked = ((size - 1) / 2.0 + frame.displacement_cells[1], (size - 1) / 2.0 + frame.displacement_cells[0])
    np.testing.assert_allclose(fired.relocate_cells, [peak[1] - tracked[1], peak[0] - tracked[0]])
    # Off by default: the same frames never roll back.
    off, zf, xf = _method(confidence_threshold=0.99)
    frame, _ = _far_frame(off, zf, xf)
    assert not any(off.update(frame).rolled_back for _ in range(10))


def test_blend_mixes_the_adapted_and_un_adapted_exemplars():
    method, zf, _ = _method(adapter_blend=0.25)
    with torch.no_grad():
        method.trainer.adapter.delta.fill_(1.0)
    adapted = method.trainer.exemplar_features()
    torch.testing.assert_close(method._tracking_features(), zf + 0.25 * (adapted - zf))
    full, _, _ = _method()
    with torch.no_grad():
        full.trainer.adapter.delta.fill_(1.0)
    assert torch.equal(full._tracking_features(), full.trainer.exemplar_features())


def test_agreement_gate_keeps_frames_far_from_the_un_adapted_peak_out_of_the_memory():
    method, zf, xf = _method(adapter_agree_distance=1.0, confidence_threshold=0.0, lost_threshold=0.0)
    frame, _ = _far_frame(method, zf, xf)
    method.update(frame)
    assert len(method.trainer.samples) == 1
    learning, zf, xf = _method(confidence_threshold=0.0, lost_threshold=0.0)
    frame, _ = _far_frame(learning, zf, xf)
    learning.update(frame)
    assert len(learning.trainer.samples) == 2
