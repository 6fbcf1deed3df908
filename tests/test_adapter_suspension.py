"""``adapter_suspend_after``: the adapter steps aside while the target is lost and comes back at the
next confident frame (on a tiny network with generated images; the frames' JCPP is set by where the
tracked position lies: on the first frame's peak, or in the map's far corner)."""
from __future__ import annotations

import numpy as np
import torch

from pytracking_siamot.online.adapter import AdapterMethod
from pytracking_siamot.online.method import Frame
from pytracking_siamot.parameters import SiamOTParams
from test_drift_guard import _far_frame, _method


def _frames(**settings) -> tuple[AdapterMethod, torch.Tensor, Frame, Frame]:
    """A started method whose adapter was moved away from the identity, a frame tracked on the first
    frame's own position (confident) and one tracked in the far corner (judged lost)."""
    method, zf, xf = _method(**settings)
    with torch.no_grad():
        method.trainer.adapter.delta.fill_(0.5)
    base = method.network.score(zf, xf)[0, 0]
    centre = Frame(base[None, None], xf, 0, np.zeros(2), zf, False, crop_at_target=lambda: None)
    far, _ = _far_frame(method, zf, xf)
    return method, zf, centre, far


def _thresholds() -> dict[str, float]:
    """``T_c`` and ``lost_threshold`` that make the centre frame confident and the far one lost."""
    probe, _, centre, far = _frames()
    lost_jcpp = probe.update(far).assessment.jcpp
    found_jcpp = probe.update(centre).assessment.jcpp
    assert lost_jcpp < found_jcpp
    return {"lost_threshold": lost_jcpp + 0.25 * (found_jcpp - lost_jcpp),
            "confidence_threshold": lost_jcpp + 0.5 * (found_jcpp - lost_jcpp)}


def test_adapter_steps_aside_after_n_lost_frames_and_returns_at_the_next_confident_one():
    method, zf, centre, far = _frames(adapter_suspend_after=3, **_thresholds())
    adapted = method.trainer.exemplar_features()
    before = [method.update(far) for _ in range(2)]
    assert all(u.lost and u.exemplar_features is None for u in before) and method.suspensions == 0
    stepped_aside = method.update(far)  # the third lost frame in a row
    assert torch.equal(stepped_aside.exemplar_features, zf) and method.suspensions == 1
    for _ in range(4):  # still lost: the tracker keeps the un-adapted Zf it has
        update = method.update(far)
        assert update.exemplar_features is None or torch.equal(update.exemplar_features, zf)
    back = method.update(centre)
    assert not back.lost and torch.equal(back.exemplar_features, adapted)  # the adapter, kept as it was
    assert method.suspensions == 1


def test_a_found_frame_restarts_the_count_and_the_option_is_off_by_default():
    thresholds = _thresholds()
    method, _, centre, far = _frames(adapter_suspend_after=3, **thresholds)
    for frame in (far, far, centre, far, far):
        assert method.update(frame).exemplar_features is None
    assert method.suspensions == 0
    assert SiamOTParams().adapter_suspend_after == 0
    off, _, _, far = _frames(**thresholds)
    assert all(off.update(far).exemplar_features is None for _ in range(10)) and off.suspensions == 0


def test_forgetting_returns_the_adapter_to_the_identity_when_it_steps_aside():
    method, zf, centre, far = _frames(adapter_suspend_after=1, adapter_suspend_forget=True, **_thresholds())
    assert not torch.equal(method.trainer.exemplar_features(), zf)
    assert torch.equal(method.update(far).exemplar_features, zf) and len(method.trainer.samples) == 1
    assert torch.equal(method.update(centre).exemplar_features, zf)  # back, as the identity


def test_with_a_distance_only_lost_frames_far_from_the_un_adapted_peak_count():
    thresholds = _thresholds()
    near_enough, zf, _, far = _frames(adapter_suspend_after=1, adapter_suspend_distance=100.0, **thresholds)
    assert all(near_enough.update(far).exemplar_features is None for _ in range(3))  # never farther than 100
    method, zf, _, far = _frames(adapter_suspend_after=1, adapter_suspend_distance=1.0, **thresholds)
    assert torch.equal(method.update(far).exemplar_features, zf) and method.suspensions == 1
