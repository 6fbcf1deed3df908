"""Precision and inference engine of the backbone: ``ltr.inference.engine``.

Detection and fallback are checked with the detection monkeypatched, so they run the same on
machines with and without bf16 units; the OpenVINO tests skip where ``openvino`` is not
installed, and the fallback to torch is checked by hiding it. Trackers run on the synthetic
sequence of ``test_tracker.py`` (MobileNetV2, CPU).
"""
from __future__ import annotations

import importlib
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch

from ltr.inference import engine
from ltr.inference.engine import InferenceBackbone, resolve_engine, resolve_precision
from ltr.models.tracking.siamfc import siamfc
from pytracking_siamot.tracker.siamot import SiamOT
from test_tracker import changing, make_params, run, synthetic

needs_openvino = pytest.mark.skipif(not engine.openvino_available(), reason="openvino is not installed")


@pytest.fixture
def fresh_announcements(monkeypatch: pytest.MonkeyPatch) -> None:
    """Forget the once-per-run messages so that each test sees its own."""
    monkeypatch.setattr(engine, "_announced", set())
    monkeypatch.delenv(engine.ANNOUNCED_ENV, raising=False)


def test_cpu_flags_read_from_cpuinfo(tmp_path) -> None:
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("processor\t: 0\nflags\t\t: fpu sse2 avx512f avx512_bf16\n\nprocessor\t: 1\nflags\t: fpu\n")
    assert engine.cpu_flags(cpuinfo) == {"fpu", "sse2", "avx512f", "avx512_bf16"}
    assert engine.cpu_flags(tmp_path / "missing") == frozenset()


def test_auto_precision_follows_detection_and_falls_back_once(monkeypatch, fresh_announcements) -> None:
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("auto", "cpu") == "bf16"
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: False)
    with pytest.warns(RuntimeWarning, match="no bfloat16 units.*float32"):
        assert resolve_precision("auto", "cpu") == "fp32"
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once: the second fallback is silent
        assert resolve_precision("auto", torch.device("cpu")) == "fp32"
    assert resolve_precision("bf16", "cpu") == "bf16" and resolve_precision("fp32", "cpu") == "fp32"
    with pytest.raises(ValueError, match="precision must be"):
        resolve_precision("fp16", "cpu")


def test_auto_precision_judges_the_flags_it_is_given_not_this_cpu(monkeypatch, fresh_announcements) -> None:
    """``flags`` describe another CPU: its bf16 units decide, whatever this machine has."""
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("auto", "cpu", flags=frozenset({"avx2", "avx512f", "avx512_bf16"})) == "bf16"
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: True)
    with pytest.warns(RuntimeWarning, match="no bfloat16 units.*float32"):
        assert resolve_precision("auto", "cpu", flags=frozenset({"avx2"})) == "fp32"


def test_bf16_with_openvino_on_a_cpu_without_bf16_units_is_float32_and_said(monkeypatch, fresh_announcements) -> None:
    """OpenVINO ignores the bf16 hint without bf16 units: the precision must say float32, not bf16."""
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"precision='bf16': this CPU has no bfloat16 units.*float32"):
        assert resolve_precision("bf16", "cpu", "mobilenet_v2", "openvino") == "fp32"
    assert resolve_precision("bf16", "cpu", "mobilenet_v2", "torch") == "bf16"  # torch emulates it
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("bf16", "cpu", "mobilenet_v2", "openvino",
                                 flags=frozenset({"avx2", "avx512f", "avx512_bf16"})) == "bf16"
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("bf16", "cpu", "mobilenet_v2", "openvino") == "bf16"


def test_device_has_bf16_follows_the_cpu_flags(monkeypatch) -> None:
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: True)
    assert engine.device_has_bf16("cpu") and engine.device_has_bf16(torch.device("cpu"))
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: False)
    assert not engine.device_has_bf16("cpu")
    assert not engine.device_has_bf16("meta")  # neither a CPU nor a GPU


def test_speed_benchmark_says_when_the_bf16_limit_was_not_measured(monkeypatch) -> None:
    monkeypatch.syspath_prepend(str(Path(__file__).resolve().parents[1] / "benchmarks"))
    speed = importlib.import_module("speed")
    assert "bfloat16 matmul 400.0 GFLOP/s" in speed.format_tables([], 100.0, "cpu", 400.0).splitlines()[0]
    assert "bfloat16 matmul not measured (no bf16 units" in speed.format_tables([], 100.0, "cpu", None).splitlines()[0]


def test_engine_auto_falls_back_to_torch_without_openvino(monkeypatch, fresh_announcements) -> None:
    monkeypatch.setattr(engine, "openvino_available", lambda: False)
    with pytest.warns(RuntimeWarning, match="openvino is not installed"):
        assert resolve_engine("auto", "cpu", 5) == "torch"
    with pytest.raises(ImportError, match="pip install openvino"):
        resolve_engine("openvino", "cpu", 5)
    monkeypatch.setattr(engine, "openvino_available", lambda: True)
    assert resolve_engine("auto", "cpu", 5) == "openvino"
    assert resolve_engine("auto", "cpu", 0) == "torch"  # nothing frozen: nothing for the engine
    assert resolve_engine("torch", "cpu", 5) == "torch"


def test_tracker_without_bf16_and_openvino_runs_fp32_torch(monkeypatch, fresh_announcements) -> None:
    monkeypatch.setattr(engine, "cpu_has_bf16", lambda: False)
    monkeypatch.setattr(engine, "openvino_available", lambda: False)
    with pytest.warns(RuntimeWarning):
        tracker = SiamOT(make_params(online=False))
    assert (tracker.features.precision, tracker.features.engine) == ("fp32", "torch")
    frames, gt = synthetic(3)
    boxes, _ = run(tracker, frames, gt[0])
    assert np.all(np.isfinite(boxes))


def _boxes(online: bool, frames: list[np.ndarray], gt: np.ndarray, **overrides) -> np.ndarray:
    tracker = SiamOT(make_params(online=online, **overrides))
    return run(tracker, frames, gt[0])[0]


@pytest.mark.parametrize("engine_name", ["torch", pytest.param("openvino", marks=needs_openvino)])
def test_bf16_boxes_within_a_few_pixels_of_fp32(engine_name: str) -> None:
    # 4 frames: short, as bf16 without bf16 units is emulated (slow); the sequence must stop before
    # frame 6, where a background patch ties with the target and which of the two wins is float
    # noise (fp32 and bf16 each pick either, depending on the engine).
    frames, gt = synthetic(4)
    reference = _boxes(False, frames, gt, precision="fp32", engine="torch")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        bf16 = _boxes(False, frames, gt, precision="bf16", engine=engine_name)
    np.testing.assert_allclose(bf16, reference, rtol=0, atol=3.0)


@needs_openvino
@pytest.mark.parametrize("frozen", ["prefix", "all"])
def test_openvino_features_equal_torch(frozen: str) -> None:
    torch.manual_seed(0)
    net = siamfc("mobilenet_v2", pretrained=False, download=False).eval()
    features = net.backbone.features
    length = len(features) - 2 if frozen == "prefix" else len(features)
    runner = InferenceBackbone(net.backbone, length, precision="fp32", engine="openvino")
    assert runner.engine == "openvino"
    images = torch.rand(3, 3, 255, 255, generator=torch.Generator().manual_seed(1)) * 255
    with torch.no_grad():
        expected = net.backbone(images)
    got = runner(images)
    assert got.dtype == torch.float32 and got.shape == expected.shape
    torch.testing.assert_close(got, expected, rtol=1e-4, atol=1e-4 * float(expected.abs().max()))
    # One compiled model per (weights, shape, precision, threads): a second runner reuses it.
    compiled = len(engine._compiled)
    InferenceBackbone(net.backbone, length, precision="fp32", engine="openvino")(images)
    assert len(engine._compiled) == compiled


@needs_openvino
def test_openvino_tracker_equals_torch_and_trains_only_the_trainable_blocks() -> None:
    """fp32 OpenVINO = fp32 torch (boxes, training flags, fine-tuned weights), the frozen
    prefix never changes, and a second sequence starts from the pretrained weights."""
    frames, gt = changing(5, seed=1)
    settings = dict(precision="fp32", online_method="backbone", confidence_threshold=0.0, zero_loss_threshold=0.0,
                    backbone_iterations=1)
    reference = SiamOT(make_params(online=True, engine="torch", **settings))
    tracker = SiamOT(make_params(online=True, engine="openvino", **settings))
    assert tracker.features.engine == "openvino"
    pretrained = {k: v.clone() for k, v in tracker.net.state_dict().items()}
    ref_boxes, ref_out = run(reference, frames, gt[0])
    boxes, out = run(tracker, frames, gt[0])
    assert all(o["trained"] for o in out) and [o["trained"] for o in ref_out] == [o["trained"] for o in out]
    np.testing.assert_allclose(boxes, ref_boxes, rtol=0, atol=0.05)

    features = tracker.net.backbone.features
    split = tracker.features.frozen_length
    assert 0 < split < len(features)
    state = tracker.net.state_dict()
    frozen_keys = [k for k in state if k.startswith("backbone.features.") and int(k.split(".")[2]) < split]
    trainable_keys = [k for k in state if k.startswith("backbone.features.") and int(k.split(".")[2]) >= split]
    assert frozen_keys and all(torch.equal(state[k], pretrained[k]) for k in frozen_keys)
    assert any(not torch.equal(state[k], pretrained[k]) for k in trainable_keys)
    for key, value in reference.net.state_dict().items():
        torch.testing.assert_close(state[key], value, rtol=1e-3, atol=1e-5, msg=key)

    # After training, the engine's features still equal torch's on the current weights.
    crop = tracker.exemplar
    with torch.no_grad():
        torch.testing.assert_close(tracker.features(crop), tracker.net.backbone(crop), rtol=1e-4, atol=1e-4)
    # A new sequence: pretrained weights restored, the compiled prefix still valid.
    frames2, gt2 = synthetic(3, seed=5)
    np.testing.assert_allclose(run(tracker, frames2, gt2[0])[0], run(reference, frames2, gt2[0])[0],
                               rtol=0, atol=0.05)


@needs_openvino
def test_check_frozen_refuses_a_trainable_prefix() -> None:
    net = siamfc("alexnet", pretrained=False, download=False).eval()
    for p in net.parameters():
        p.requires_grad_(False)
    runner = InferenceBackbone(net.backbone, 3, precision="fp32", engine="openvino")
    runner.check_frozen()
    next(net.backbone.features[0].parameters()).requires_grad_(True)
    with pytest.raises(ValueError, match="trainable parameters"):
        runner.check_frozen()


@needs_openvino
def test_adapter_default_runs_the_whole_backbone_in_the_engine() -> None:
    # The default online training (the adapter) never changes the backbone: all of it is frozen,
    # so all of it runs in the inference engine, and the adapter still trains.
    tracker = SiamOT(make_params(online=True, engine="openvino", precision="fp32", confidence_threshold=0.1,
                                 adapter_train_every=1))
    features = tracker.net.backbone.features
    assert tracker.features.frozen_length == len(features)
    assert tracker.features.engine == "openvino"
    frames, gt = changing(5, seed=1)
    _, outputs = run(tracker, frames, gt[0])
    assert any(o["trained"] for o in outputs)
