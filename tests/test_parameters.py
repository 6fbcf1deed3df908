"""Parameter files and the pytracking-style view of the frozen settings."""
from __future__ import annotations

import dataclasses
import importlib

import pytest

from ltr.models.backbone import BACKBONES
from parameter.siamot import parameter_names
from pytracking_siamot.parameters import SiamOTParams, TrackerParams
from pytracking_siamot.variants import PAPER_ONLINE, PAPER_THRESHOLDS


def test_three_parameter_files_per_backbone():
    assert parameter_names() == sorted(f"{b}{suffix}" for b in BACKBONES for suffix in ("", "_paper", "_baseline"))


@pytest.mark.parametrize("name", parameter_names())
def test_every_parameter_file_builds_fresh_objects(name):
    module = importlib.import_module(f"parameter.siamot.{name}")
    a, b = module.parameters(), module.parameters()
    assert a is not b and a.settings == b.settings
    assert a.backbone in BACKBONES and name.startswith(a.backbone)
    assert a.online_training is (not name.endswith("_baseline"))
    assert a.pretrained is True and a.weights_path is None and a.device == "auto"
    assert a.debug == 0 and a.visualization is False


def test_baseline_differs_only_in_online_training():
    on = importlib.import_module("parameter.siamot.vgg19").parameters().settings
    off = importlib.import_module("parameter.siamot.vgg19_baseline").parameters().settings
    assert dataclasses.replace(on, online_training=False) == off


def test_paper_defaults():
    s = SiamOTParams()
    assert (s.exemplar_size, s.instance_size, s.context) == (127, 255, 0.5)
    assert (s.scale_num, s.scale_step, s.scale_penalty, s.scale_damping) == (3, 1.0375, 0.9745, 0.59)
    assert (s.window_influence, s.response_upsample) == (0.176, 16)
    assert s.jcpp_weight == 0.5
    paper = dataclasses.replace(s, **PAPER_THRESHOLDS)
    assert (paper.zero_loss_threshold, paper.confidence_threshold) == (1.0, 0.7)
    as_written = dataclasses.replace(s, **PAPER_ONLINE)
    assert (as_written.confidence_reference, as_written.template_update_max) == ("template", 1.0)
    assert as_written.current_map == "recrop"
    assert as_written.confidence_threshold == 0.7
    assert (s.momentum, s.train_iterations) == (0.9, 4)


def test_view_get_has_set_default_values_and_frozen_settings():
    p = TrackerParams(SiamOTParams())
    assert p.has("learning_rate") and p.get("learning_rate") == SiamOTParams().learning_rate
    assert not p.has("nope") and p.get("nope", 3) == 3
    with pytest.raises(AttributeError):
        p.get("nope")
    p.debug = 2
    p.visualization = True
    assert (p.debug, p.visualization) == (2, True)
    p.set_default_values({"debug": 0, "extra_flag": "x", "learning_rate": 9.0})
    assert p.debug == 2 and p.extra_flag == "x" and p.learning_rate == SiamOTParams().learning_rate
    with pytest.raises(AttributeError):
        p.learning_rate = 1.0
    with pytest.raises(AttributeError):
        p.unknown_thing = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.settings.learning_rate = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("bad", [dict(device="tpu"), dict(normalization="l2"), dict(scale_num=2),
                                 dict(confidence_threshold=1.0)])
def test_invalid_settings_raise(bad):
    with pytest.raises(ValueError):
        SiamOTParams(**bad)


def test_view_pickles_for_process_pools():
    import copy
    import pickle

    p = TrackerParams(SiamOTParams(backbone="alexnet"))
    p.debug = 1
    p.set_default_values({"run_id": 3})
    q = pickle.loads(pickle.dumps(p))
    assert (q.debug, q.run_id, q.backbone, q.settings) == (1, 3, "alexnet", p.settings)
    assert copy.deepcopy(p).debug == 1


def test_parse_overrides_json_bare_words_and_errors():
    from pytracking_siamot.parameters import parse_overrides

    got = parse_overrides(["learning_rate=0.001", "channels_last=False", "current_map=recrop",
                           "exemplar_centering=true", "confidence_threshold = 0.6"])
    assert got == {"learning_rate": 0.001, "channels_last": False, "current_map": "recrop",
                   "exemplar_centering": True, "confidence_threshold": 0.6}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_overrides(["learning_rate"])
    with pytest.raises(ValueError, match="unknown parameter 'lr'"):
        parse_overrides(["lr=0.1"])
