"""Speed options must not change results: optimised runs give the reference boxes.

The speed options are tracker parameters (``SiamOTParams.correlation``, ``channels_last``) and
the frozen-prefix training of ``BackboneFineTuning.train``. Trackers are built with
``benchmarks/speed.py``'s ``build_tracker`` (the script is not a package: it is loaded by
path) and run on a short synthetic sequence with online training firing on every frame:
boxes within 0.01 px, the same training flags and the same fine-tuned weights. The
frozen-prefix training is compared with plain SGD steps on ``net(exemplar, search)``.
Network-level checks (matmul vs. grouped-convolution correlation, batched vs. one-by-one
scale evaluation) run even without the tracker. The last tests drive the benchmark's CLI.
"""
from __future__ import annotations

import copy
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest
import torch

from ltr.models.tracking.correlation import MatmulCorrelation, make_correlation, xcorr
from ltr.models.tracking.siamfc import siamfc
from pytracking_siamot.parameters import SiamOTParams
from runner_fakes import small_synthetic_sequence

SPEED_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "speed.py"
BOX_TOLERANCE_PX = 0.01
WEIGHT_ATOL = 1e-4
#: The reference settings that each speed option is compared with.
REFERENCE = {"correlation": "conv", "channels_last": False, "precision": "fp32", "engine": "torch"}


@pytest.fixture(scope="module")
def speed() -> ModuleType:
    """``benchmarks/speed.py`` imported by path."""
    spec = importlib.util.spec_from_file_location("siamot_benchmark_speed", SPEED_SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module through sys.modules
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(spec.name, None)


#: Two SGD iterations per training event (the paper's 4 cost twice the time and check nothing more:
#: momentum is carried from iteration to iteration and from event to event either way).
TEST_ITERATIONS = 2


def _build(speed: ModuleType, **overrides):
    """An online SiamOT tracker on mobilenet_v2 (CPU) whose update trains on every frame, with the
    paper's backbone fine-tuning (the path whose optimisations these tests check)."""
    return speed.build_tracker("mobilenet_v2", True, "cpu",
                               **{**speed.ALWAYS_TRAIN, "online_method": "backbone",
                                  "backbone_iterations": TEST_ITERATIONS, **overrides})


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
        sequence = small_synthetic_sequence(frames, seed)
        runs.append(_track(tracker, sequence, frames))
    return runs


@pytest.fixture(scope="module")
def reference_run(speed: ModuleType):
    tracker = _build(speed, **REFERENCE)
    return _two_sequences(speed, tracker), tracker.net.state_dict()


@pytest.mark.parametrize(("name", "value"), [("correlation", "matmul"), ("channels_last", True)])
def test_speed_option_keeps_boxes_and_weights(speed: ModuleType, reference_run, name: str, value) -> None:
    reference, ref_state = reference_run
    optimised = _build(speed, **{**REFERENCE, name: value})
    assert getattr(optimised.params, name) == value
    if name == "correlation":
        assert isinstance(optimised.net.correlate, MatmulCorrelation)
    else:
        conv = next(m for m in optimised.net.modules() if isinstance(m, torch.nn.Conv2d) and m.kernel_size != (1, 1))
        assert conv.weight.is_contiguous(memory_format=torch.channels_last)
    runs = _two_sequences(speed, optimised)

    for (ref_boxes, ref_trained), (opt_boxes, opt_trained) in zip(reference, runs):
        assert all(ref_trained), "ALWAYS_TRAIN was meant to make online training fire on every frame"
        assert opt_trained == ref_trained
        np.testing.assert_allclose(opt_boxes, ref_boxes, rtol=0, atol=BOX_TOLERANCE_PX)
    # The fine-tuned weights match too, so later frames would not drift apart.
    opt_state = optimised.net.state_dict()
    assert set(opt_state) == set(ref_state)
    for key, value_ in ref_state.items():
        torch.testing.assert_close(opt_state[key], value_, rtol=1e-4, atol=WEIGHT_ATOL, msg=key)


def test_frozen_prefix_training_equals_plain_sgd(speed: ModuleType) -> None:
    """``BackboneFineTuning.train`` (frozen prefix run once per event) = SGD on ``net(exemplar, search)``."""
    from pytracking_siamot.online.functions import kl_loss

    # Training runs the frozen prefix in torch float32 whatever runs it on inference frames: the
    # reference engine spares converting the prefix for OpenVINO, which this test does not use.
    tracker = _build(speed, engine="torch", precision="fp32")
    updater = tracker.method
    assert updater.iterations == TEST_ITERATIONS
    sequence = small_synthetic_sequence(3, seed=3)
    tracker.initialize(sequence.image(0), sequence.init_info())
    # The optimisation must actually skip something: some leading blocks are frozen.
    assert 0 < tracker.features.frozen_length < len(tracker.net.backbone.features)
    exemplar = tracker.exemplar
    searches = [tracker._crop_batch(sequence.image(i), [tracker._search_size], tracker.params.instance_size)[1]
                for i in (1, 2)]

    # Reference: a fresh copy of the (pretrained) network, trained by hand on the full forward.
    net = copy.deepcopy(tracker.net)
    names = [n for n, p in tracker.net.named_parameters() if p.requires_grad]
    assert names and {id(p) for p in updater.trainable} == {id(p) for p in tracker.net.parameters()
                                                            if p.requires_grad}
    params = dict(net.named_parameters())
    optimizer = torch.optim.SGD([params[n] for n in names], lr=updater.learning_rate, momentum=updater.momentum)
    target = updater.confidence.normalize(updater.confidence.template_map).detach()
    pretrained = {n: params[n].detach().clone() for n in names}

    # Two training events: the second reuses the cached exemplar prefix and the momentum.
    for search in searches:
        expected = []
        for _ in range(updater.iterations):
            optimizer.zero_grad(set_to_none=True)
            score = net(exemplar, search)[0, 0]
            loss = kl_loss(target, updater.confidence.normalize(score.to(target.dtype)))
            expected.append(float(loss.detach()))
            loss.backward()
            optimizer.step()
        got = updater.train(exemplar, search)
        assert len(got) == updater.iterations and all(np.isfinite(got))
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=0)

    trained = dict(tracker.net.named_parameters())
    for n in names:
        torch.testing.assert_close(trained[n].detach(), params[n].detach(), rtol=1e-5, atol=1e-8, msg=n)
    assert any(not torch.equal(params[n], pretrained[n]) for n in names), "training changed no weight"
    # Frozen parameters and buffers (BatchNorm statistics) stay as they were.
    ref_state, state = net.state_dict(), tracker.net.state_dict()
    for key, value in ref_state.items():
        torch.testing.assert_close(state[key], value, rtol=1e-5, atol=1e-8, msg=key)


@pytest.mark.parametrize(("exemplars", "searches"), [(1, 3), (1, 1), (2, 2)])
def test_matmul_correlation_matches_grouped_convolution(exemplars: int, searches: int) -> None:
    generator = torch.Generator().manual_seed(exemplars * 10 + searches)
    zf = torch.randn(exemplars, 32, 6, 5, generator=generator, requires_grad=True)
    xf = torch.randn(searches, 32, 20, 18, generator=generator, requires_grad=True)
    expected, got = xcorr(zf, xf), make_correlation("matmul")(zf, xf)
    assert got.shape == expected.shape == (searches, 1, 15, 14)
    torch.testing.assert_close(got, expected, rtol=1e-5, atol=1e-4)
    # Gradients too: online training back-propagates through the correlation.
    weights = torch.randn(expected.shape, generator=generator)
    for a, b in zip(torch.autograd.grad((expected * weights).sum(), (zf, xf)),
                    torch.autograd.grad((got * weights).sum(), (zf, xf))):
        torch.testing.assert_close(b, a, rtol=1e-5, atol=1e-4)


@pytest.mark.parametrize("center,crop,out_scale", [(True, 2, None), (False, 0, 0.01), (True, 0, None)])
@pytest.mark.parametrize("rows,cols", [((0, 10), (0, 10)), ((1, 5), (3, 9)), ((0, 3), (7, 10))])
def test_exemplar_region_scores_are_the_scores_linear_part(center, crop, out_scale, rows, cols) -> None:
    # score(zf + delta) = score(zf) + region_scores(delta's rectangle), values and gradients, also
    # for rectangles reaching into the border crop (those cells count as zero).
    from ltr.models.tracking.siamfc import SiamFC
    torch.manual_seed(0)
    net = SiamFC(torch.nn.Identity(), out_scale=out_scale, center_exemplar=center, border_crop=crop,
                 correlation="matmul")
    zf = torch.randn(1, 8, 10, 10, dtype=torch.float64)
    xf = torch.randn(3, 8, 22, 22, dtype=torch.float64)
    values = torch.randn(8, rows[1] - rows[0], cols[1] - cols[0], dtype=torch.float64, requires_grad=True)
    delta = torch.zeros_like(zf[0])
    delta[:, rows[0]:rows[1], cols[0]:cols[1]] = values.detach()
    region = net.exemplar_region_scores(xf, rows, cols, (10, 10))
    got = net.score(zf, xf)[:, 0] + region(values)
    torch.testing.assert_close(got, net.score(zf + delta, xf)[:, 0])
    full = delta.clone().requires_grad_(True)
    (reference_grad,) = torch.autograd.grad((net.score(zf + full, xf)[:, 0] * xf[:, 0, :13, :13]).sum(), full)
    (grad,) = torch.autograd.grad((got * xf[:, 0, :13, :13]).sum(), values)
    torch.testing.assert_close(grad, reference_grad[:, rows[0]:rows[1], cols[0]:cols[1]])
    with pytest.raises(ValueError, match="outside"):
        net.exemplar_region_scores(xf, (0, 11), cols, (10, 10))


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

    search = ScaleSearch(SiamOTParams(), 17, 8)
    a, b = search.locate(batched, 255.0), search.locate(single, 255.0)
    assert a.scale_index == b.scale_index
    np.testing.assert_allclose(a.displacement_xy, b.displacement_xy, rtol=0, atol=BOX_TOLERANCE_PX)


def test_parse_overrides(speed: ModuleType) -> None:
    got = speed.parse_overrides(["correlation=matmul", "channels_last=True", "backbone_learning_rate=0.001",
                                 "exemplar_centering=false", "backbone_iterations=2"])
    assert got == {"correlation": "matmul", "channels_last": True, "backbone_learning_rate": 0.001,
                   "exemplar_centering": False, "backbone_iterations": 2}
    assert speed.parse_overrides([]) == {}
    with pytest.raises(speed.BenchmarkError, match="NAME=VALUE"):
        speed.parse_overrides(["correlation"])
    with pytest.raises(speed.BenchmarkError, match="unknown parameter"):
        speed.parse_overrides(["warp_speed=1"])
    with pytest.raises(speed.BenchmarkError, match="--device"):
        speed.parse_overrides(["device=cuda"])


def test_benchmark_cli_writes_json(speed: ModuleType, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    # engine=torch: converting the backbone for OpenVINO (twice per shape) would take most of the
    # test's time; the default engine is benchmarked by the shifted-R_c test below.
    out = tmp_path / "speed.json"
    code = speed.main(["--backbones", "mobilenet_v2", "--synthetic", "--frames", "3", "--warmup", "1",
                       "--matmul-size", "256", "--quiet", "--set", "correlation=conv", "current_map=recrop",
                       "online_method=backbone", "engine=torch", "--json", str(out)])
    assert code == 0
    report = json.loads(out.read_text())
    expected = {"correlation": "conv", "current_map": "recrop", "online_method": "backbone", "engine": "torch"}
    assert report["overrides"] == expected
    rows = {r["mode"]: r for r in report["results"]}
    assert set(rows) == {"baseline", "online"}
    for row in rows.values():
        assert row["overrides"] == expected
        assert row["frames_timed"] == 1 and row["fps_median"] > 0
        assert row["frame_ms_max"] == row["frame_ms_p95"] == pytest.approx(1e3 / row["fps_median"])  # one frame
        assert set(row["stage_ms_per_frame"]) == set(speed.STAGES)
        assert row["stage_ms_per_frame"]["backbone"] > 0
        assert row["stage_ms_per_frame"]["current_map"] == 0  # recrop: no shifted R_c
    # mobilenet_v2 on three 255x255 crops: ~3.8 GFLOP. Online frames that all train have no
    # plain-frame count, only the training frame's (which includes the extra R_c crop and SGD).
    assert rows["baseline"]["frame_gflop"] > 1.0
    online_gflop = rows["online"]["frame_gflop"] or rows["online"]["training_frame_gflop"]
    assert online_gflop > rows["baseline"]["frame_gflop"]
    assert "fps_ratio_mean" in rows["online"]
    printed = capsys.readouterr().out
    assert "ms per frame" in printed and "overrides: correlation=conv" in printed
    from evaluation.machine import cpu_name  # every speed figure names its CPU
    assert report["environment"]["processor"] == cpu_name() and f"CPU {cpu_name()}," in printed


def test_benchmark_cli_shifted_current_map_is_a_labelled_stage(speed: ModuleType, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    """Run as a script in a fresh process, as users do: also checks that torch's profiler prints
    nothing of its own (Kineto's "USDT: ... profiler_start" markers and, with a CUDA build on a
    machine without a GPU, "ERROR: ... gpuGetDeviceCount failed")."""
    out = tmp_path / "speed.json"
    monkeypatch.delenv("KINETO_LOG_LEVEL", raising=False)
    env = dict(os.environ, PYTHONPATH=str(SPEED_SCRIPT.parents[1]))
    done = subprocess.run([sys.executable, str(SPEED_SCRIPT), "--backbones", "alexnet", "--modes", "online",
                           "--synthetic", "--frames", "4", "--warmup", "1", "--matmul-size", "64", "--quiet",
                           "--no-flops", "--random-init", "--always-train", "--set", "current_map=shifted",
                           "backbone_iterations=1", "--json", str(out)],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    noise = [line for line in (done.stdout + done.stderr).splitlines()
             if line.startswith(("USDT:", "ERROR:", "STAGE:")) or "gpuGetDeviceCount" in line]
    assert noise == [], noise
    report = json.loads(out.read_text())
    assert report["overrides"] == {**speed.ALWAYS_TRAIN, "current_map": "shifted", "backbone_iterations": 1}
    (row,) = report["results"]
    stages = row["stage_ms_per_frame"]
    assert stages["current_map"] > 0 and stages["online_train"] > 0
    frame_ms = row["profiled_frame_ms_mean"]
    outside = stages["crop"] + stages["upsample_peak"] + stages["current_map"] + row["python_overhead_ms_per_frame"]
    assert row["outside_network_fraction"] == pytest.approx(outside / frame_ms)
    assert row["python_overhead_ms_per_frame"] == pytest.approx(frame_ms - sum(stages.values()))


def test_benchmark_cli_rejects_bad_input(speed: ModuleType, capsys: pytest.CaptureFixture) -> None:
    assert speed.main(["--set", "warp_speed=1", "--synthetic", "--quiet"]) == 1
    assert "unknown parameter" in capsys.readouterr().err
    assert speed.main(["--set", "pretrained=true", "--synthetic", "--quiet"]) == 1
    assert "--random-init" in capsys.readouterr().err
    assert speed.main(["--set", "correlation=fast", "--backbones", "alexnet", "--synthetic", "--frames", "3",
                       "--warmup", "1", "--matmul-size", "64", "--quiet"]) == 1
    assert "correlation must be" in capsys.readouterr().err
    assert speed.main(["--sequence", "/nonexistent/folder", "--quiet"]) == 1
    assert "cannot load sequence" in capsys.readouterr().err


def test_upsample_matrix_equals_bicubic_interpolation() -> None:
    """``ScaleSearch.locate`` upsamples with two matrix products: the same maps and peak."""
    from pytracking_siamot.tracker.siamot.scale_search import ScaleSearch, upsample, upsample_matrix

    generator = torch.Generator().manual_seed(0)
    responses = torch.randn(3, 1, 17, 17, generator=generator) * 3
    matrix = upsample_matrix(17, 16)
    expected = upsample(responses, 16)[:, 0].numpy()
    np.testing.assert_allclose(matrix @ responses[:, 0].numpy() @ matrix.T, expected, rtol=0, atol=1e-5)
    found = ScaleSearch(SiamOTParams(), 17, 8).locate(responses, 200.0)
    np.testing.assert_allclose(found.response, expected[found.scale_index], rtol=0, atol=1e-5)
    penalised = expected * np.array([0.9745, 1.0, 0.9745])[:, None, None]
    assert found.scale_index == int(np.argmax(penalised.reshape(3, -1).max(axis=1)))
