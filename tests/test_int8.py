"""int8 for the frozen backbone (``ltr.inference``): selection, the quantised models' disk cache, accuracy.

The choice of ``precision='auto'`` is checked with the CPU flags and the packages' presence injected,
so it runs the same on every machine. The quantisation tests need ``nncf`` and ``openvino`` (skipped
with a one-line reason without them); they quantise a small random AlexNet on a few generated
calibration crops into a temporary cache folder.
"""
from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import torch

from ltr.inference import calibration, engine, openvino_models
from ltr.inference.engine import InferenceBackbone, int8_choice, int8_cpu_class, resolve_precision
from ltr.models.backbone import build_backbone
from ltr.models.backbone.weights import WeightsNotFoundError

needs_int8 = pytest.mark.skipif(not (engine.openvino_available() and engine.nncf_available()),
                                reason="int8 needs the nncf and openvino packages (pip install nncf openvino)")

AMX = frozenset({"avx2", "avx_vnni", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_int8"})
AVX512_VNNI = frozenset({"avx2", "avx512f", "avx512_vnni"})
AVX2 = frozenset({"sse2", "avx", "avx2"})
AVX512_BF16 = frozenset({"avx2", "avx512f", "avx512_vnni", "avx512_bf16"})
AVX_VNNI = frozenset({"avx2", "avx_vnni"})
#: One CPU's flags per class of int8 units (``engine.INT8_CPU_CLASSES``).
CLASS_FLAGS = {"amx": AMX, "avx512_bf16": AVX512_BF16, "avx512_vnni": AVX512_VNNI, "avx_vnni": AVX_VNNI, "avx2": AVX2}
#: The backbones ``auto`` runs in int8 per class with the shipped tables (docs/speed.md).
SHIPPED_INT8_PICKS = {"amx": [], "avx512_bf16": ["efficientnet_lite0", "mobilenet_v2"], "avx512_vnni": ["efficientnet_lite0", "mobilenet_v2"],
                      "avx_vnni": ["mobilenet_v2"],
                      "avx2": ["mobilenet_v2"]}
SSE = frozenset({"sse2"})


@pytest.fixture
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    """Forget once-per-run messages and models kept in this process; a private disk cache."""
    monkeypatch.setattr(engine, "_announced", set())
    monkeypatch.delenv(engine.ANNOUNCED_ENV, raising=False)
    monkeypatch.setattr(engine, "_models", {})
    monkeypatch.setenv(openvino_models.CACHE_ENV, str(tmp_path / "cache"))


@pytest.fixture
def measured(monkeypatch: pytest.MonkeyPatch) -> None:
    """int8 recorded as faster on AMX and plain AVX2 CPUs (not on AVX512-VNNI ones) and accurate for MobileNetV2."""
    faster = {"mobilenet_v2": 1.3, "alexnet": 1.3}
    monkeypatch.setattr(engine, "INT8_SPEEDUP", {"amx": faster, "avx2": {**faster, "mobilenet_v2": 2.0},
                                                 "avx512_vnni": {"mobilenet_v2": 0.9}})
    monkeypatch.setattr(engine, "INT8_ACCURACY", {"amx": {"mobilenet_v2": (-0.2, 0.1), "alexnet": (-1.5, 0.0)},
                                                  "avx2": {"mobilenet_v2": (-0.9, 2.0)}})
    monkeypatch.setattr(engine, "openvino_available", lambda: True)
    monkeypatch.setattr(engine, "nncf_available", lambda: True)


def test_int8_cpu_class_follows_the_flags() -> None:
    assert int8_cpu_class(AMX) == "amx"
    assert int8_cpu_class(AVX512_VNNI) == "avx512_vnni"
    assert int8_cpu_class(frozenset({"avx2", "avx_vnni"})) == "avx_vnni"
    assert int8_cpu_class(AVX2) == "avx2"
    assert int8_cpu_class(SSE) is None


def test_auto_picks_int8_only_where_measured_faster_and_accurate(measured, fresh) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert resolve_precision("auto", "cpu", "mobilenet_v2", "openvino", flags=AMX) == "int8"
        assert resolve_precision("auto", "cpu", "mobilenet_v2", "openvino", flags=AVX2) == "int8"
        # Without a backbone or an OpenVINO prefix, int8 is not considered (and nothing is said).
        assert resolve_precision("auto", "cpu", flags=AMX) != "int8"
    assert int8_choice("mobilenet_v2", "fp32", AVX512_VNNI) == (False, "int8 measured 0.90x the speed of float32 "
                                                                       "on CPUs of class avx512_vnni")
    assert "no int8 units" in int8_choice("mobilenet_v2", "fp32", SSE)[1]
    assert "not measured for mobilenet_v2 on CPUs of class avx_vnni" in int8_choice("mobilenet_v2", "fp32",
                                                                  frozenset({"avx2", "avx_vnni"}))[1]
    assert "-1.50 AUC points" in int8_choice("alexnet", "fp32", AMX)[1]
    assert "not measured for alexnet on CPUs of class avx512_vnni" in int8_choice("alexnet", "fp32", AVX512_VNNI)[1]
    assert "not measured for vgg19 on CPUs of class amx" in int8_choice("vgg19", "fp32", AMX)[1]
    engine.INT8_SPEEDUP["amx"]["vgg19"] = 1.3  # (the fixture's table) faster, but its accuracy was not measured
    assert "accuracy was not measured" in int8_choice("vgg19", "fp32", AMX)[1]
    with pytest.warns(RuntimeWarning, match=r"no int8 for vgg19: .*accuracy was not measured.*runs in"):
        assert resolve_precision("auto", "cpu", "vgg19", "openvino", flags=AMX) != "int8"
    with pytest.warns(RuntimeWarning, match="no int8 for mobilenet_v2: this CPU has no int8 units"):
        resolve_precision("auto", "cpu", "mobilenet_v2", "openvino", flags=SSE)


def test_without_nncf_auto_falls_back_in_one_line_and_int8_is_an_error(measured, fresh, monkeypatch) -> None:
    monkeypatch.setattr(engine, "nncf_available", lambda: False)
    with pytest.warns(RuntimeWarning, match=r"no int8 for mobilenet_v2: the nncf package is not installed "
                                            r"\(pip install nncf\); the network runs in") as record:
        assert resolve_precision("auto", "cpu", "mobilenet_v2", "openvino", flags=AMX) in ("bf16", "fp32")
    assert len([r for r in record if "int8" in str(r.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said once per run
        resolve_precision("auto", "cpu", "mobilenet_v2", "openvino", flags=AMX)
    with pytest.raises(ImportError, match="needs the nncf package.*pip install nncf"):
        resolve_precision("int8", "cpu", "mobilenet_v2", "openvino")
    monkeypatch.setattr(engine, "nncf_available", lambda: True)
    with pytest.raises(ValueError, match="engine is torch"):
        resolve_precision("int8", "cpu", "mobilenet_v2", "torch")
    with pytest.raises(ValueError, match="CPU only"):
        resolve_precision("int8", "cuda", "mobilenet_v2", "openvino")


def test_measured_accuracy_table_decides_auto_for_every_backbone(fresh, monkeypatch) -> None:
    """The shipped ``INT8_ACCURACY`` (not a fixture), with every backbone recorded as faster in int8 on
    every class of int8 units: a backbone is picked only on a class it was measured on, within
    ``INT8_MAX_AUC_LOSS`` of float32 with and without online training; elsewhere, and for the
    backbones without ImageNet weights here (their accuracy cannot be measured), it is refused as not
    measured."""
    from ltr.models.backbone import BACKBONES

    classes = [name for name, _ in engine.INT8_CPU_CLASSES]
    monkeypatch.setattr(engine, "INT8_SPEEDUP", {cls: {name: 2.0 for name in BACKBONES} for cls in classes})
    monkeypatch.setattr(engine, "openvino_available", lambda: True)
    monkeypatch.setattr(engine, "nncf_available", lambda: True)
    assert set(CLASS_FLAGS) == set(classes)
    assert set(engine.INT8_ACCURACY) <= set(classes)
    assert {name for table in engine.INT8_ACCURACY.values() for name in table} <= \
        {"mobilenet_v2", "efficientnet_lite0"}  # the backbones with ImageNet weights offline
    for cls, flags in CLASS_FLAGS.items():
        assert int8_cpu_class(flags) == cls
        floating = "bf16" if flags & engine.BF16_CPU_FLAGS else "fp32"
        for name in BACKBONES:
            losses = engine.INT8_ACCURACY.get(cls, {}).get(name)
            if losses is None:
                assert int8_choice(name, floating, flags) == (
                    False, f"its int8 accuracy was not measured on CPUs of class {cls} "
                           "(ltr.inference.engine.INT8_ACCURACY)")
                continue
            assert len(losses) == 2  # (online training, baseline)
            if min(losses) >= -engine.INT8_MAX_AUC_LOSS:
                assert int8_choice(name, floating, flags) == (True, "")
            else:
                assert int8_choice(name, floating, flags) == (
                    False, f"int8 measured {min(losses):+.2f} AUC points against float32 on CPUs of class {cls}")
    monkeypatch.setitem(engine.INT8_ACCURACY, "avx2", {"mobilenet_v2": (-0.5, -1.2)})
    assert int8_choice("mobilenet_v2", "fp32", AVX2) == (False, "int8 measured -1.20 AUC points against float32 "
                                                                "on CPUs of class avx2")


def test_shipped_tables_pick_int8_where_it_was_measured_faster_and_accurate(fresh, monkeypatch) -> None:
    """What ``auto`` decides with the shipped speed and accuracy tables (docs/speed.md states it):
    MobileNetV2 in int8 on AVX2-only, AVX-VNNI, AVX512-VNNI and AVX512-BF16 CPUs; not on AMX, where its int8
    is slower than bf16; EfficientNet-Lite0 on AVX512-VNNI and AVX512-BF16 CPUs, the classes where its
    int8 was measured both faster and within a point (not on AMX: 1.04x bf16; not on AVX2: -1.05)."""
    monkeypatch.setattr(engine, "openvino_available", lambda: True)
    monkeypatch.setattr(engine, "nncf_available", lambda: True)
    picked = {cls: sorted(name for name in ("mobilenet_v2", "efficientnet_lite0", "alexnet")
                          if int8_choice(name, "bf16" if flags & engine.BF16_CPU_FLAGS else "fp32", flags)[0])
              for cls, flags in CLASS_FLAGS.items()}
    assert picked == SHIPPED_INT8_PICKS
    why = int8_choice("mobilenet_v2", "bf16", AMX)[1]
    assert why == f"int8 measured {engine.INT8_SPEEDUP['amx']['mobilenet_v2']:.2f}x the speed of bf16 on CPUs of class amx"


@pytest.mark.parametrize("cap, cls, bf16", [(None, "amx", True), ("", "amx", True), ("DEFAULT", "amx", True),
                                             ("avx512_core_amx", "amx", True),
                                             ("AVX512_CORE_BF16", "avx512_bf16", True),
                                             ("AVX512_CORE_VNNI", "avx512_vnni", False),
                                             ("AVX2_VNNI", "avx_vnni", False), ("avx2", "avx2", False),
                                             ("AVX", None, False)])
def test_auto_decides_by_the_units_oneDNNs_instruction_set_cap_leaves(monkeypatch, cap, cls, bf16) -> None:
    """``ONEDNN_MAX_CPU_ISA`` keeps the kernels (torch's and OpenVINO's) off the units above it: the
    int8 class, the overflow fix of the quantised model and bf16 follow the cap, not /proc/cpuinfo."""
    monkeypatch.setattr(engine, "cpu_flags", lambda path="/proc/cpuinfo": AMX | {"sse2", "fma"})
    if cap is None:
        monkeypatch.delenv("ONEDNN_MAX_CPU_ISA", raising=False)
    else:
        monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", cap)
    assert int8_cpu_class() == cls
    assert engine.int8_overflow_fix() == (cls == "avx2")
    assert engine.cpu_has_bf16() == bf16
    assert {"sse2", "fma"} <= engine.usable_cpu_flags()  # flags the cap does not govern are kept
    assert engine.usable_cpu_flags(frozenset({"bf16", "asimd"}), "AVX2") == {"bf16", "asimd"}  # ARM: no x86 cap


@pytest.mark.parametrize("source", ["photo", "synthetic"])
def test_calibration_crops_are_the_trackers_sizes_and_deterministic(source) -> None:
    if source == "photo" and calibration.photo_path() is None:
        pytest.skip("matplotlib's sample photograph is not installed")
    crops = calibration.calibration_crops(scenes=2, source=source)
    assert [c.shape for c in crops] == [(1, 3, 127, 127)] + [(1, 3, 255, 255)] * 3 + [(1, 3, 127, 127)] + \
        [(1, 3, 255, 255)] * 3
    assert all(c.dtype == np.float32 and c.min() >= 0 and c.max() <= 255 and c.std() > 10 for c in crops)
    again = calibration.calibration_crops(scenes=2, source=source)
    assert calibration.calibration_identity(crops) == calibration.calibration_identity(again)
    assert calibration.calibration_identity(crops) != calibration.calibration_identity(
        calibration.calibration_crops(scenes=2, seed=1, source=source))


def test_calibration_source_is_the_photograph_where_installed_else_synthetic(monkeypatch, tmp_path) -> None:
    if calibration.photo_path() is not None:
        assert calibration.calibration_source() == "photo"
        photo = calibration.calibration_crops(scenes=1)
        assert calibration.calibration_identity(photo) == calibration.calibration_identity(
            calibration.calibration_crops(scenes=1, source="photo"))
        assert calibration.calibration_identity(photo) != calibration.calibration_identity(
            calibration.calibration_crops(scenes=1, source="synthetic"))
    monkeypatch.setattr(calibration, "photo_path", lambda: None)
    assert calibration.calibration_source() == "synthetic"
    assert calibration.calibration_identity(calibration.calibration_crops(scenes=1)) == \
        calibration.calibration_identity(calibration.calibration_crops(scenes=1, source="synthetic"))
    with pytest.raises(FileNotFoundError, match=r"grace_hopper\.jpg.*source='synthetic'"):
        calibration.calibration_crops(scenes=1, source="photo")
    unreadable = tmp_path / calibration.PHOTO
    unreadable.write_bytes(b"not a jpeg")
    monkeypatch.setattr(calibration, "photo_path", lambda: unreadable)
    with pytest.raises(FileNotFoundError, match="grace_hopper"):
        calibration.calibration_crops(scenes=1, source="photo")
    with pytest.raises(ValueError, match="'photos'"):
        calibration.calibration_source("photos")  # type: ignore[arg-type]


def test_int8_quantisation_follows_the_cpus_int8_units_and_the_calibration_source(fresh, monkeypatch) -> None:
    """The overflow fix (7-bit weights in every layer) is asked for on AVX2-only CPUs only; without
    the photograph the synthetic scenes calibrate, said in one line. The quantiser is replaced by a
    recorder: what it is handed is what is checked."""
    asked: list[tuple[int, bool]] = []

    def recorder(module, fingerprint, crops, identity, say, threads=1, root=None, overflow_fix=False):
        asked.append((len(crops), overflow_fix))
        return object(), 1.0

    monkeypatch.setattr(openvino_models, "quantized_model", recorder)
    monkeypatch.setattr(engine, "calibration_crops", lambda: calibration.calibration_crops(scenes=1))
    module = engine.NormalizedPrefix(_alexnet(), 2)
    assert engine.int8_overflow_fix(AVX2) and not engine.int8_overflow_fix(AVX512_VNNI)
    assert not engine.int8_overflow_fix(AMX) and not engine.int8_overflow_fix(SSE)
    for flags, fix in ((AVX2, True), (AMX, False)):
        monkeypatch.setattr(engine, "cpu_flags", lambda path="/proc/cpuinfo", flags=flags: flags)
        engine._openvino_model(module, f"weights-{fix}", "int8")
        assert asked[-1] == (4, fix)
    monkeypatch.setattr(calibration, "photo_path", lambda: None)
    with pytest.warns(RuntimeWarning, match=r"grace_hopper\.jpg\) is not installed; the int8 model is "
                                            r"calibrated on synthetic scenes"):
        engine._openvino_model(module, "weights-synthetic", "int8")
    assert len(asked) == 3


def _alexnet() -> torch.nn.Module:
    torch.manual_seed(0)
    return build_backbone("alexnet", pretrained=False).eval()


def _convolution_weight_types(model) -> list[str]:
    """Per convolution of an OpenVINO model, in order: the element type of the constant its weights
    come from (``'i8'`` for NNCF's int8 weights as saved, ``'f32'`` for float ones)."""
    types = []
    for op in model.get_ordered_ops():
        if op.get_type_name() not in ("Convolution", "GroupConvolution"):
            continue
        node = op.input(1).get_source_output().get_node()
        while node.get_input_size() > 0:  # through Multiply / Subtract / Convert to the constant
            node = node.input(0).get_source_output().get_node()
        types.append(node.get_output_element_type(0).get_type_name())
    return types


def _count_quantisations(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    import nncf

    calls: list[int] = []
    real = nncf.quantize

    def counting(*args, **kwargs):
        calls.append(1)
        return real(*args, **kwargs)

    monkeypatch.setattr(nncf, "quantize", counting)
    return calls


@needs_int8
def test_int8_is_cached_on_disk_reused_and_rebuilt_when_stale_or_corrupt(fresh, monkeypatch, tmp_path) -> None:
    backbone = _alexnet()
    crops = calibration.calibration_crops(scenes=2)
    calls = _count_quantisations(monkeypatch)
    with pytest.warns(RuntimeWarning, match="quantising the frozen backbone with NNCF on 8 calibration crops"):
        runner = InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert runner.precision == "int8" and runner.engine == "openvino" and len(calls) == 1
    images = torch.from_numpy(np.concatenate(crops[1:4]))
    first = runner(images)

    # A new process: nothing kept in memory, the disk entry is read back and not calibrated again.
    monkeypatch.setattr(engine, "_models", {})
    monkeypatch.setattr(engine, "_compiled", engine.OrderedDict())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 1 and again.int8_agreement == runner.int8_agreement
    torch.testing.assert_close(again(images), first, rtol=0, atol=0)

    folder = openvino_models.entry_folder("int8", runner._fingerprint)
    assert sorted(p.name for p in folder.iterdir()) == ["meta.json", "model.bin", "model.xml"]
    assert not [p for p in folder.parent.iterdir() if p.name.startswith(".")]  # no temporary left

    # Corrupt: a truncated weights file is noticed (checksum) and the entry rebuilt, said in one line.
    (folder / "model.bin").write_bytes((folder / "model.bin").read_bytes()[:100])
    monkeypatch.setattr(engine, "_models", {})
    with pytest.warns(RuntimeWarning, match=r"is corrupt \(model.bin does not match its checksum\); rebuilding"):
        InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 2

    # Stale: an entry made by another NNCF release is rebuilt; the rebuilt entry is then reused.
    meta = json.loads((folder / "meta.json").read_text())
    meta["key"]["nncf"] = "0.0.1"
    (folder / "meta.json").write_text(json.dumps(meta))
    monkeypatch.setattr(engine, "_models", {})
    with pytest.warns(RuntimeWarning, match=r"is stale \(nncf changed\); rebuilding"):
        InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 3
    monkeypatch.setattr(engine, "_models", {})
    InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 3

    # AlexNet's first convolution is too large a share of its work to keep float: all five are int8.
    assert _convolution_weight_types(runner._model) == ["i8"] * 5

    # The quantisation asked for is part of the key: another overflow fix is another model.
    with pytest.warns(RuntimeWarning, match=r"is stale \(overflow_fix changed\); rebuilding"):
        openvino_models.quantized_model(runner._prefix, runner._fingerprint, crops,
                                        calibration.calibration_identity(crops), engine.announce_once,
                                        overflow_fix=not engine.int8_overflow_fix())
    assert len(calls) == 4
    monkeypatch.setattr(engine, "_models", {})
    monkeypatch.setattr(engine, "_announced", set())  # the same line again, said again
    with pytest.warns(RuntimeWarning, match=r"is stale \(overflow_fix changed\); rebuilding"):
        InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 5

    # Unreadable metadata is corrupt too.
    (folder / "meta.json").write_text("{not json")
    monkeypatch.setattr(engine, "_models", {})
    with pytest.warns(RuntimeWarning, match="is corrupt"):
        InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert len(calls) == 6


def test_first_convolution_share_decides_which_backbones_keep_it_float() -> None:
    shares = {name: openvino_models.first_convolution_share(build_backbone(name, pretrained=False).features)
              for name in ("alexnet", "mobilenet_v2", "efficientnet_lite0")}
    assert shares["alexnet"] == pytest.approx(0.1047, abs=0.001)  # its 11x11 first convolution
    assert shares["mobilenet_v2"] < openvino_models.FLOAT_FIRST_CONVOLUTION_MAX_SHARE < shares["alexnet"]
    assert shares["efficientnet_lite0"] < openvino_models.FLOAT_FIRST_CONVOLUTION_MAX_SHARE
    assert openvino_models.first_convolution_share(torch.nn.Sequential(torch.nn.ReLU())) == 0.0


@needs_int8
def test_int8_keeps_a_small_first_convolution_float(fresh, monkeypatch) -> None:
    backbone = _alexnet()
    monkeypatch.setattr(openvino_models, "FLOAT_FIRST_CONVOLUTION_MAX_SHARE", 0.5)  # AlexNet's 10.5 % is small
    crops = calibration.calibration_crops(scenes=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        runner = InferenceBackbone(backbone, len(backbone.features), "int8", "openvino", calibration=crops)
    assert _convolution_weight_types(runner._model) == ["f32"] + ["i8"] * 4
    folder = openvino_models.entry_folder("int8", runner._fingerprint)
    assert json.loads((folder / "meta.json").read_text())["key"]["float_layers"] == "first convolution"


@needs_int8
def test_int8_features_close_to_fp32_and_only_the_prefix_quantised(fresh) -> None:
    backbone = _alexnet()
    crops = calibration.calibration_crops(scenes=2)
    # Another calibration set of the same kind, so the check is not on the calibration crops alone.
    held_out = calibration.calibration_crops(scenes=1, seed=7)
    for length in (len(backbone.features), 6):  # all of it frozen / a trainable suffix in torch
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            runner = InferenceBackbone(backbone, length, "int8", "openvino", calibration=crops)
        assert runner.int8_agreement is not None and runner.int8_agreement > 0.95
        for crop in held_out:
            images = torch.from_numpy(crop)
            with torch.no_grad():
                expected = backbone(images)
            got = runner(images)
            assert got.dtype == torch.float32 and got.shape == expected.shape
            cosine = torch.nn.functional.cosine_similarity(got.reshape(-1), expected.reshape(-1), dim=0)
            assert cosine > 0.95
            assert not torch.equal(got, expected)  # int8 is not float32 in disguise
        if length < len(backbone.features):
            assert len(runner._suffix) == len(backbone.features) - length and not runner._autocast


@needs_int8
def test_auto_keeps_float_when_int8_features_disagree(fresh, measured, monkeypatch) -> None:
    backbone = _alexnet()
    monkeypatch.setattr(engine, "INT8_ACCURACY", {"amx": {"alexnet": (0.0, 0.0)}})
    monkeypatch.setattr(engine, "INT8_MEASURED_WEIGHTS", {"alexnet": frozenset({engine.weights_fingerprint(
        engine.NormalizedPrefix(backbone, len(backbone.features)))})})
    monkeypatch.setattr(engine, "INT8_MIN_AGREEMENT", 1.01)  # no quantised model can agree this well
    monkeypatch.setattr(engine, "cpu_flags", lambda path="/proc/cpuinfo": AMX)
    small = calibration.calibration_crops
    monkeypatch.setattr(engine, "calibration_crops", lambda: small(scenes=2))
    with pytest.warns(RuntimeWarning, match=r"no int8 for alexnet: its int8 features agree with float32 only"):
        runner = InferenceBackbone(backbone, len(backbone.features), "auto", "openvino")
    assert runner.precision in ("bf16", "fp32") and runner.int8_agreement is not None
    assert runner(torch.rand(1, 3, 127, 127) * 255).shape[0] == 1


def test_auto_keeps_float_for_weights_other_than_the_measured_ones(fresh, measured, monkeypatch) -> None:
    """The accuracy table holds for the weights it was measured with: random (or the user's own)
    weights of a measured backbone run float under 'auto', said in one line, and nothing is
    quantised; the same weights listed as measured run int8."""
    asked: list[str] = []
    monkeypatch.setattr(openvino_models, "quantized_model",
                        lambda module, fingerprint, *args, **kwargs: (asked.append(fingerprint), (object(), 1.0))[1])
    monkeypatch.setattr(engine, "cpu_flags", lambda path="/proc/cpuinfo": AVX2)
    monkeypatch.setattr(engine, "calibration_crops", lambda: calibration.calibration_crops(scenes=1))
    torch.manual_seed(0)
    backbone = build_backbone("mobilenet_v2", pretrained=False).eval()
    fingerprint = engine.weights_fingerprint(engine.NormalizedPrefix(backbone, len(backbone.features)))
    assert fingerprint not in engine.INT8_MEASURED_WEIGHTS["mobilenet_v2"]
    with pytest.warns(RuntimeWarning, match=r"no int8 for mobilenet_v2: its int8 accuracy was measured with "
                                            r"other weights .*; the network runs in fp32"):
        runner = InferenceBackbone(backbone, len(backbone.features), "auto", "openvino")
    assert runner.precision == "fp32" and asked == [] and runner.int8_agreement is None
    monkeypatch.setattr(engine, "INT8_MEASURED_WEIGHTS", {"mobilenet_v2": frozenset({fingerprint})})
    runner = InferenceBackbone(backbone, len(backbone.features), "auto", "openvino")
    assert runner.precision == "int8" and asked == [fingerprint]
    # A shorter frozen prefix (an online method that trains the last blocks) is other weights too.
    monkeypatch.setattr(engine, "_announced", set())
    with pytest.warns(RuntimeWarning, match="measured with other weights"):
        assert InferenceBackbone(backbone, len(backbone.features) - 2, "auto", "openvino").precision == "fp32"


@pytest.mark.parametrize("name", sorted(engine.INT8_MEASURED_WEIGHTS))
def test_the_measured_weights_are_the_offline_imagenet_files(name) -> None:
    """Where torchvision's ImageNet file of a measured backbone is available offline, its prefix's
    fingerprint is the one listed (skipped where the file is missing)."""
    try:
        backbone = build_backbone(name, pretrained=True, download=False).eval()
    except WeightsNotFoundError as error:
        pytest.skip(f"no offline ImageNet weights for {name}: {error}")
    fingerprint = engine.weights_fingerprint(engine.NormalizedPrefix(backbone, len(backbone.features)))
    assert fingerprint in engine.INT8_MEASURED_WEIGHTS[name]


@needs_int8
def test_tracker_runs_int8_when_asked(fresh, monkeypatch) -> None:
    from pytracking_siamot.tracker.siamot import SiamOT
    from test_tracker import make_params, run, synthetic

    small = calibration.calibration_crops
    monkeypatch.setattr(engine, "calibration_crops", lambda: small(scenes=2))
    frames, gt = synthetic(4)
    boxes = {}
    for precision in ("fp32", "int8"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            tracker = SiamOT(make_params(online=False, backbone="alexnet", pretrained=False, precision=precision))
        assert tracker.features.precision == precision and tracker.features.engine == "openvino"
        boxes[precision] = run(tracker, frames, gt[0])[0]
    np.testing.assert_allclose(boxes["int8"], boxes["fp32"], rtol=0, atol=4.0)
