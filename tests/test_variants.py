"""Parameter overrides and variant tags of ``Tracker`` (ablations through the toolkit)."""
from __future__ import annotations

import dataclasses
import pickle
from pathlib import Path

import numpy as np
import pytest

from evaluation.analysis.evaluate import group_runs
from evaluation.registry import make_parameters, replace_fields
from evaluation.running import run_sequence
from evaluation.settings import load_settings
from evaluation.tracker import Tracker, trackerlist
from pytracking_siamot import variants
from runner_fakes import install_fake_plugin, make_sequence


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    install_fake_plugin(tmp_path / "site", monkeypatch)


def test_siamot_overrides_reach_the_parameters() -> None:
    tracker = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 3e-3, "current_map": "recrop"},
                      variant="lr3e-3")
    params = tracker.get_parameters(debug=1)
    assert params.backbone_learning_rate == 3e-3 and params.current_map == "recrop"
    assert params.online_training and params.backbone == "mobilenet_v2"  # the rest from the parameter file
    assert params.debug == 1
    plain = Tracker("siamot", "mobilenet_v2").get_parameters()
    assert plain.settings != params.settings and plain.backbone_learning_rate != 3e-3
    # A fresh object every time: one sequence's parameters never leak into the next.
    assert tracker.get_parameters() is not tracker.get_parameters()


def test_unknown_or_bad_override_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match=r"siamot:mobilenet_v2: unknown parameter override 'learning_rat'"):
        Tracker("siamot", "mobilenet_v2", overrides={"learning_rat": 1e-3})
    with pytest.raises(ValueError, match="current_map must be"):
        Tracker("siamot", "mobilenet_v2", overrides={"current_map": "sideways"})
    with pytest.raises(ValueError, match="opencv:mil: unknown parameter override 'x': OpenCVParams fields"):
        make_parameters("opencv", "mil", load_settings(), overrides={"x": 1})
    with pytest.raises(ValueError, match="take no overrides"):
        replace_fields(object(), {"x": 1})
    with pytest.raises(ValueError, match="variant tag"):
        Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 1e-3}, variant="a/b")


def test_replace_fields_names_the_field() -> None:
    from pytracking_siamot.parameters import SiamOTParams

    assert replace_fields(SiamOTParams(), {"backbone_momentum": 0.5}).backbone_momentum == 0.5
    with pytest.raises(ValueError, match="'nope'.*SiamOTParams fields are .*backbone_momentum"):
        replace_fields(SiamOTParams(), {"nope": 1})


def test_variants_never_share_results_folders(isolated_settings: Path) -> None:
    root = isolated_settings / "results" / "siamot"
    plain = Tracker("siamot", "mobilenet_v2")
    tagged = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 3e-3}, variant="lr3e-3")
    hashed_a = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 3e-3})
    hashed_b = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 1e-3})
    assert plain.results_dir == root / "mobilenet_v2"
    assert tagged.results_dir == root / "mobilenet_v2@lr3e-3"
    assert tagged.display_name == "siamot_mobilenet_v2@lr3e-3"
    assert hashed_a.variant.startswith("o") and len(hashed_a.variant) == 9
    assert len({plain.results_dir, tagged.results_dir, hashed_a.results_dir, hashed_b.results_dir}) == 4
    # The hash tag does not depend on the order the overrides were written in.
    same = Tracker("siamot", "mobilenet_v2", overrides={"backbone_momentum": 0.5, "backbone_learning_rate": 3e-3})
    again = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 3e-3, "backbone_momentum": 0.5})
    assert same.results_dir == again.results_dir
    runs = trackerlist("siamot", "mobilenet_v2", [0, 1], overrides={"backbone_learning_rate": 3e-3}, variant="lr")
    assert [t.results_dir.name for t in runs] == ["mobilenet_v2@lr_000", "mobilenet_v2@lr_001"]
    assert "variant='lr'" in repr(runs[0])


def test_runs_of_different_variants_are_not_grouped() -> None:
    a = trackerlist("siamot", "mobilenet_v2", [0, 1], overrides={"backbone_learning_rate": 3e-3}, variant="a")
    b = trackerlist("siamot", "mobilenet_v2", [0, 1], overrides={"backbone_learning_rate": 1e-3}, variant="b")
    entries = group_runs(a + b)
    assert [e.display_name for e in entries] == ["siamot_mobilenet_v2@a", "siamot_mobilenet_v2@b"]
    assert [len(e.runs) for e in entries] == [2, 2]


def test_tracker_with_overrides_pickles_and_runs(fake: None) -> None:
    tracker = Tracker("fake", "centroid", overrides={"offset": 4.0}, variant="off4")
    clone = pickle.loads(pickle.dumps(tracker))
    assert clone.overrides == {"offset": 4.0} and clone.results_dir == tracker.results_dir
    sequence = make_sequence(n_frames=4)
    plain = Tracker("fake", "centroid")
    run_sequence(plain, sequence)
    run_sequence(clone, sequence)
    shift = clone.results_for(sequence)[1:, :2] - plain.results_for(sequence)[1:, :2]
    np.testing.assert_allclose(shift, 4.0, atol=0.01)  # the override reached the tracker object


# -- the ablation experiment -------------------------------------------------------------------------

def test_ablation_runs_the_variants_parameter_files(isolated_settings: Path) -> None:
    from evaluation.experiments.ablation import variant_trackers

    root = isolated_settings / "results" / "siamot"
    for backbone in ("mobilenet_v2", "efficientnet_lite0"):
        trackers = {t.display_name.split("@", 1)[1]: t for t in variant_trackers(backbone)}
        assert list(trackers) == list(variants.VARIANTS) == ["default", "baseline", "paper"]
        # One folder per configuration, shared with every experiment that runs the same parameter file.
        assert [t.results_dir for t in trackers.values()] == [root / backbone, root / f"{backbone}_baseline",
                                                             root / f"{backbone}_paper"]
        assert all(t.overrides == {} and t.variant is None for t in trackers.values())
        paper = trackers["paper"].get_parameters()
        assert all(getattr(paper, k) == v for k, v in variants.PAPER_ONLINE.items())
        assert trackers["baseline"].get_parameters().online_training is False
        # Figures: the baseline is dashed in its default's colour, the paper's variant has a colour of its own.
        pairing = {name: t.pairing() for name, t in trackers.items()}
        assert pairing["baseline"].group == pairing["default"].group != pairing["paper"].group
        assert [p.baseline for p in pairing.values()] == [False, True, False]


def test_ablation_baseline_and_the_baseline_file_share_one_results_folder(isolated_settings: Path) -> None:
    from evaluation.experiments import demo, otb2013_paper
    from evaluation.experiments.ablation import variant_trackers

    ablation = {t.display_name: t for t in variant_trackers("mobilenet_v2")}["mobilenet_v2@baseline"]
    plain = Tracker("siamot", "mobilenet_v2_baseline")
    assert ablation.results_dir == plain.results_dir
    assert ablation.run_record(make_sequence(n_frames=3)) == plain.run_record(make_sequence(n_frames=3))
    in_demo = [t for t in demo.demo()[0] if t.display_name == "SiamFC-MobileNetV2"]
    assert [t.results_dir for t in in_demo] == [plain.results_dir]
    assert {t.results_dir.name for t in otb2013_paper.paper_trackers()} >= {"alexnet", "alexnet_baseline"}


def test_ablation_extra_variants_get_their_own_folder(isolated_settings: Path) -> None:
    from evaluation.experiments.ablation import variant_trackers

    trackers = variant_trackers("mobilenet_v2", extra={"lr3e-3": {"backbone_learning_rate": 3e-3}})
    assert [t.display_name for t in trackers][-1] == "mobilenet_v2@lr3e-3"
    assert trackers[-1].results_dir.name == "mobilenet_v2@lr3e-3"
    assert trackers[-1].get_parameters().backbone_learning_rate == 3e-3
    with pytest.raises(ValueError, match="'paper' is a SiamOT variant"):
        variant_trackers("mobilenet_v2", extra={"paper": {"backbone_learning_rate": 1e-3}})


# -- the variants' owner -----------------------------------------------------------------------------

def test_parameter_names_both_ways() -> None:
    for backbone in ("mobilenet_v2", "efficientnet_lite0", "vgg19"):
        for name in variants.VARIANTS:
            parameter = variants.parameter_name(backbone, name)
            assert variants.parse_parameter_name(parameter) == (backbone, name)
    assert variants.parameter_name("alexnet", "baseline") == "alexnet_baseline"
    assert variants.parse_parameter_name("resnet34_paper") == ("resnet34", "paper")
    assert variants.parse_parameter_name("resnet34") == ("resnet34", "default")
    for not_ours in ("", "_baseline", "_paper", "mobilenet_v2@lr", "a b"):
        assert variants.parse_parameter_name(not_ours) is None, not_ours
    with pytest.raises(KeyError, match="unknown SiamOT variant 'papr'.*default, baseline, paper"):
        variants.parameter_name("alexnet", "papr")
    with pytest.raises(ValueError, match="backbone name"):
        variants.parameter_name("a/b")


def test_parameter_files_are_the_variants_of_every_backbone() -> None:
    from ltr.models.backbone import BACKBONES
    from parameter.siamot import parameter_names

    assert parameter_names() == sorted(variants.parameter_names(list(BACKBONES)))
    for name in parameter_names():
        backbone, variant = variants.parse_parameter_name(name)
        params = Tracker("siamot", name).get_parameters()
        assert params.settings == variants.settings(backbone, variant)
        assert params.online_training is variants.VARIANTS[variant].online_training


def test_variants_are_overrides_of_the_defaults() -> None:
    from pytracking_siamot.parameters import SiamOTParams

    default = variants.settings("vgg19")
    assert default == SiamOTParams(backbone="vgg19")
    assert variants.settings("vgg19", "baseline") == dataclasses.replace(default, online_training=False)
    assert variants.settings("vgg19", "paper") == dataclasses.replace(default, **variants.PAPER_ONLINE)
    assert variants.settings("vgg19", "paper", backbone_momentum=0.5).backbone_momentum == 0.5
    assert [v.online_training for v in variants.VARIANTS.values()] == [True, False, True]
    assert variants.baseline_of("vgg19_baseline") == "vgg19"
    assert variants.baseline_of("vgg19") is None and variants.baseline_of("vgg19_paper") is None
    assert variants.baseline_of("a@b") is None


def test_ablation_experiment_on_the_otb2013_targets_on_disk(otb2013_dir: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from evaluation.experiments import load_experiment

    monkeypatch.setenv("SIAMOT_OTB2013_PATH", str(otb2013_dir))
    monkeypatch.setenv("SIAMOT_OTB2013_ANNO_PATH", str(otb2013_dir / "annotations" / "cvpr13_anno"))
    trackers, dataset = load_experiment("ablation", "mobilenet_v2")
    assert [t.display_name for t in trackers][:3] == ["mobilenet_v2@default", "mobilenet_v2@baseline",
                                                      "mobilenet_v2@paper"]
    assert "Deer" in dataset.names() and len(dataset["Deer"]) == 71


def test_ablation_without_otb2013_frames_names_the_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from evaluation.experiments.ablation import efficientnet_lite0

    monkeypatch.setenv("SIAMOT_OTB2013_PATH", str(tmp_path / "nothing"))
    with pytest.raises((LookupError, OSError), match="OTB2013.*nothing"):
        efficientnet_lite0()


def test_run_experiment_on_some_sequences_then_analyze(fake: None, isolated_settings: Path, capsys) -> None:
    from evaluation import run_experiment

    args = ["runner_fakes", "fake_experiment", "--sequences", "seq1", "--analyze", "--no-progress"]
    assert run_experiment.main(args) == 0
    out = capsys.readouterr().out
    assert "1 (tracker, sequence) pairs: 1 done" in out
    assert sorted(p.name for p in Tracker("fake", "centroid").results_dir.glob("seq?.txt")) == ["seq1.txt"]
    # The fake tracker trains on frames 2, 4, 6 of the 7 after the first and reports peak, psr, jcpp.
    assert "AUC per sequence (1 sequences)" in out and "42.9" in out
    assert "Confidence as a predictor of IoU > 0.5" in out
    assert run_experiment.main(["runner_fakes", "fake_experiment", "--sequences", "seq9"]) == 2
    assert "unknown sequence seq9" in capsys.readouterr().err
