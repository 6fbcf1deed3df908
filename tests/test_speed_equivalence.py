"""Optimisations must not change results (issue 6): optimised runs give the reference boxes.

The speed options live in ``benchmarks/speed.py`` (``--variant``) until they are moved into
the tracker; this file loads that script by path (it is not a package) and compares a
reference run with an optimised run on a short synthetic sequence: boxes within 0.01 px.
A network-level check (batched vs. one-by-one scale evaluation) runs even without the tracker.
"""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from ltr.models.tracking.siamfc import siamfc

SPEED_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"
BOX_TOLERANCE_PX = 0.01


@pytest.fixture(scope="module")
def speed() -> ModuleType:
    """``benchmarks/speed.py`` imported by path (skips when the tracker it drives is missing)."""
    pytest.importorskip("pytracking_siamot.tracker.siamot", reason="the SiamOT tracker is not importable yet")
    spec = importlib.util.spec_from_file_location("siamot_benchmark_speed", SPEED_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


def _track(tracker, sequence, frames: int) -> tuple[np.ndarray, list[bool]]:
    tracker.initialize(sequence.image(0), sequence.init_info())
    boxes, trained = [], []
    for i in range(1, frames):
        out = tracker.track(sequence.image(i))
        boxes.append(out["target_bbox"])
        trained.append(bool(out["trained"]))
    return np.asarray(boxes, dtype=np.float64), trained


def _two_sequences(speed: ModuleType, tracker) -> list[tuple[np.ndarray, list[bool]]]:
    """Boxes and training flags of one tracker object on two sequences in a row (a new
    ``initialize`` must reset the weights and any cache of the first sequence).

    Trackers are built with ``speed.ALWAYS_TRAIN`` (both thresholds 0): the update trains on
    every frame, so the optimised training path runs at each step rather than by chance.
    """
    runs = []
    for seed, frames in ((3, 3), (4, 2)):
        sequence = speed.synthetic_sequence(num_frames=frames, size_wh=(200, 150), seed=seed)
        runs.append(_track(tracker, sequence, frames))
    return runs


@pytest.fixture(scope="module")
def reference_run(speed: ModuleType):
    tracker = speed.build_tracker("mobilenet_v2", True, "cpu", **speed.ALWAYS_TRAIN)
    return _two_sequences(speed, tracker), tracker.net.state_dict()


@pytest.mark.parametrize("variant", ["frozen_prefix", "channels_last", "matmul_xcorr"])
def test_variant_keeps_boxes_and_weights(speed: ModuleType, reference_run, variant: str) -> None:
    reference, ref_state = reference_run
    optimised = speed.apply_variants(speed.build_tracker("mobilenet_v2", True, "cpu", **speed.ALWAYS_TRAIN),
                                     speed.parse_variants(variant))
    runs = _two_sequences(speed, optimised)

    for (ref_boxes, ref_trained), (opt_boxes, opt_trained) in zip(reference, runs):
        assert any(ref_trained), "the settings were meant to make online training fire"
        assert opt_trained == ref_trained
        np.testing.assert_allclose(opt_boxes, ref_boxes, rtol=0, atol=BOX_TOLERANCE_PX)
    # The fine-tuned weights match too, so later frames would not drift apart.
    opt_state = optimised.net.state_dict()
    for key, value in ref_state.items():
        torch.testing.assert_close(opt_state[key], value, rtol=1e-4, atol=1e-6, msg=key)


@pytest.mark.parametrize(("exemplars", "searches"), [(1, 3), (1, 1), (2, 2)])
def test_matmul_xcorr_matches_grouped_convolution(speed: ModuleType, exemplars: int, searches: int) -> None:
    from ltr.models.tracking.siamfc import xcorr

    generator = torch.Generator().manual_seed(exemplars * 10 + searches)
    zf = torch.randn(exemplars, 32, 6, 5, generator=generator, requires_grad=True)
    xf = torch.randn(searches, 32, 20, 18, generator=generator, requires_grad=True)
    expected, got = xcorr(zf, xf), speed.MatmulXcorr()(zf, xf)
    assert got.shape == expected.shape == (searches, 1, 15, 14)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    # Gradients too: online training back-propagates through the correlation.
    weights = torch.randn(expected.shape, generator=generator)
    for a, b in zip(torch.autograd.grad((expected * weights).sum(), (zf, xf)),
                    torch.autograd.grad((got * weights).sum(), (zf, xf))):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-4)


def test_batched_scales_equal_one_by_one() -> None:
    """The tracker evaluates its 3 scales as one batch: the same maps and peak as one at a time."""
    import cv2

    from pytracking_siamot.tracker.siamot.scale_search import ScaleSearch

    torch.manual_seed(0)
    net = siamfc("alexnet", pretrained=False, download=False).eval()
    # A smooth texture; the exemplar is its centre shifted by (+12, -6) px, so every scale has
    # one clear peak (pure noise gives near-ties that any rounding can swap).
    rng = np.random.default_rng(1)
    texture = cv2.resize(rng.uniform(0, 255, (40, 40, 3)).astype(np.float32), (320, 320),
                         interpolation=cv2.INTER_CUBIC)
    exemplar = texture[160 - 6 - 63:160 - 6 + 64, 160 + 12 - 63:160 + 12 + 64]
    searches = [cv2.resize(texture[160 - half:160 + half + 1, 160 - half:160 + half + 1], (255, 255))
                for half in (122, 127, 132)]

    def to_tensor(images: list[np.ndarray]) -> torch.Tensor:
        return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).contiguous()

    with torch.no_grad():
        zf = net.template(to_tensor([exemplar]))
        xs = to_tensor(searches)
        batched = net.score(zf, net.search(xs))
        single = torch.cat([net.score(zf, net.search(xs[i:i + 1])) for i in range(3)])
    torch.testing.assert_close(batched, single, rtol=1e-4, atol=1e-6)

    search = ScaleSearch(3, 1.0375, 0.9745, 0.176, 16, 17, 8, 255)
    a, b = search.locate(batched, 255.0), search.locate(single, 255.0)
    assert a.scale_index == b.scale_index
    np.testing.assert_allclose(a.displacement_xy, b.displacement_xy, rtol=0, atol=BOX_TOLERANCE_PX)


def test_benchmark_cli_writes_json(speed: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "speed.json"
    code = speed.main(["--backbones", "mobilenet_v2", "--synthetic", "--frames", "3", "--warmup", "1",
                       "--matmul-size", "256", "--quiet", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    rows = {r["mode"]: r for r in report["results"]}
    assert set(rows) == {"baseline", "online"}
    for row in rows.values():
        assert row["frames_timed"] == 1 and row["fps_median"] > 0
        assert set(row["stage_ms_per_frame"]) == {"crop", "backbone", "xcorr", "upsample_peak", "online_train"}
        assert row["stage_ms_per_frame"]["backbone"] > 0
    # mobilenet_v2 on three 255x255 crops: ~3.8 GFLOP. Online frames that all train have no
    # plain-frame count, only the training frame's (which includes the extra R_c crop and SGD).
    assert rows["baseline"]["frame_gflop"] > 1.0
    online_gflop = rows["online"]["frame_gflop"] or rows["online"]["training_frame_gflop"]
    assert online_gflop > rows["baseline"]["frame_gflop"]
    assert "fps_ratio_mean" in rows["online"]
    assert "ms per frame" in capsys.readouterr().out


def test_benchmark_cli_rejects_bad_input(speed: ModuleType, capsys: pytest.CaptureFixture) -> None:
    assert speed.main(["--variant", "warp_speed", "--synthetic", "--quiet"]) == 1
    assert "unknown variant" in capsys.readouterr().err
    assert speed.main(["--sequence", "/nonexistent/folder", "--quiet"]) == 1
    assert "cannot load sequence" in capsys.readouterr().err
