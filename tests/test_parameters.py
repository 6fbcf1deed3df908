"""Parameter files and the pytracking-style view of the frozen settings."""
from __future__ import annotations

import dataclasses
import importlib
import re
import typing

import pytest

from ltr.models.backbone import BACKBONES
from parameter.siamot import parameter_names
from pytracking_siamot.parameters import (REMOVED_FIELDS, RENAMED_FIELDS, Range, SiamOTParams, TrackerParams,
                                          parse_overrides)
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
    assert (s.backbone_momentum, s.backbone_iterations) == (0.9, 4)


def test_view_get_has_set_default_values_and_frozen_settings():
    p = TrackerParams(SiamOTParams())
    assert p.has("backbone_learning_rate") and p.get("backbone_learning_rate") == SiamOTParams().backbone_learning_rate
    assert not p.has("nope") and p.get("nope", 3) == 3
    with pytest.raises(AttributeError):
        p.get("nope")
    p.debug = 2
    p.visualization = True
    assert (p.debug, p.visualization) == (2, True)
    p.set_default_values({"debug": 0, "extra_flag": "x", "backbone_learning_rate": 9.0})
    assert p.debug == 2 and p.extra_flag == "x" and p.backbone_learning_rate == SiamOTParams().backbone_learning_rate
    with pytest.raises(AttributeError):
        p.backbone_learning_rate = 1.0
    with pytest.raises(AttributeError):
        p.unknown_thing = 1
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.settings.backbone_learning_rate = 1.0  # type: ignore[misc]


@pytest.mark.parametrize("bad", [dict(device="tpu"), dict(normalization="l2"), dict(scale_num=2),
                                 dict(confidence_threshold=1.0), dict(online_method="adaptor"),
                                 dict(pretrained=1), dict(exemplar_size=127.0), dict(backbone_iterations=True),
                                 dict(torch_threads=0), dict(softmax_temperature=float("nan"))])
def test_invalid_settings_raise_one_line_naming_field_and_value(bad):
    ((name, value),) = bad.items()
    with pytest.raises(ValueError, match=f"^{name} must be .*, got {re.escape(repr(value))}$"):
        SiamOTParams(**bad)


def _literal_fields() -> list[tuple[str, str]]:
    """(field, allowed value) for every value of every ``Literal`` annotation of ``SiamOTParams``."""
    hints = typing.get_type_hints(SiamOTParams)
    return [(f.name, value) for f in dataclasses.fields(SiamOTParams)
            if typing.get_origin(hints[f.name]) is typing.Literal for value in typing.get_args(hints[f.name])]


def _ranged_fields() -> list[tuple[str, Range]]:
    return [(f.name, f.metadata["range"]) for f in dataclasses.fields(SiamOTParams) if "range" in f.metadata]


def test_the_annotations_declare_choices_and_ranges():
    # the derived lists below must cover the known options (a new one is covered automatically)
    literal = dict(_literal_fields())
    assert {"device", "correlation", "precision", "engine", "normalization", "confidence_reference", "current_map",
            "online_method"} <= set(literal)
    ranged = dict(_ranged_fields())
    assert {"confidence_threshold", "template_update_max", "scale_num", "torch_threads", "backbone_iterations",
            "adapter_train_every", "adapter_learning_rate"} <= set(ranged)


@pytest.mark.parametrize(("name", "allowed"), _literal_fields())
def test_every_literal_option_accepts_itself_and_rejects_a_misspelling(name, allowed):
    assert getattr(SiamOTParams(**{name: allowed}), name) == allowed
    allowed_text = ", ".join(repr(v) for v in typing.get_args(typing.get_type_hints(SiamOTParams)[name]))
    for typo in (allowed + "s", allowed[:-1], allowed.upper(), f" {allowed}"):
        message = f"^{name} must be one of {re.escape(allowed_text)}, got {re.escape(repr(typo))}$"
        with pytest.raises(ValueError, match=message):
            SiamOTParams(**{name: typo})


def _outside(bounds: Range, integer: bool) -> list[float]:
    """Values just outside ``bounds`` on each bounded side (NaN for float fields)."""
    step = 1 if integer else 1e-6
    values = []
    if bounds.low is not None:
        values.append(bounds.low if bounds.open_low else bounds.low - step)
    if bounds.high is not None:
        values.append(bounds.high if bounds.open_high else bounds.high + step)
    return values + ([] if integer else [float("nan")])


@pytest.mark.parametrize(("name", "bounds"), _ranged_fields())
def test_every_range_rejects_a_value_outside_it(name, bounds):
    integer = int in typing.get_args(typing.get_type_hints(SiamOTParams)[name]) or (
        typing.get_type_hints(SiamOTParams)[name] is int)
    bad = _outside(bounds, integer)
    assert bad
    for value in bad:
        value = int(value) if integer else value
        with pytest.raises(ValueError, match=f"^{name} must be {re.escape(str(bounds))}.*, got "):
            SiamOTParams(**{name: value})
    default = getattr(SiamOTParams(), name)
    assert default is None or default in bounds  # the defaults are inside their own ranges


def test_scale_num_must_be_odd():
    assert SiamOTParams(scale_num=5).scale_num == 5
    with pytest.raises(ValueError, match="^scale_num must be an odd number >= 1, got 4$"):
        SiamOTParams(scale_num=4)


@pytest.mark.parametrize(("old", "new"), sorted(RENAMED_FIELDS.items()))
def test_old_field_names_are_refused_with_the_new_name_everywhere(old, new):
    hint = f"^SiamOTParams has no field '{old}': it was renamed to '{new}'$"
    value = getattr(SiamOTParams(), new)
    with pytest.raises(ValueError, match=hint):
        SiamOTParams(**{old: value})
    with pytest.raises(ValueError, match=hint):
        dataclasses.replace(SiamOTParams(), **{old: value})
    with pytest.raises(ValueError, match=hint):
        parse_overrides([f"{old}={value}"])
    assert getattr(dataclasses.replace(SiamOTParams(), **{new: value}), new) == value


def test_removed_options_are_refused_with_a_hint():
    for name in sorted(REMOVED_FIELDS):
        assert name not in {f.name for f in dataclasses.fields(SiamOTParams)}
        with pytest.raises(ValueError, match=f"^SiamOTParams has no field '{name}': the option was removed"):
            SiamOTParams(**{name: 1})
        with pytest.raises(ValueError, match="option was removed"):
            parse_overrides([f"{name}=1"])


def test_toolkit_overrides_refuse_old_names(isolated_settings):
    from evaluation.tracker import Tracker

    # the toolkit names the tracker and parameter file in front of the hint
    with pytest.raises(ValueError, match="^siamot:mobilenet_v2: SiamOTParams has no field 'learning_rate': "
                                         "it was renamed to 'backbone_learning_rate'$"):
        Tracker("siamot", "mobilenet_v2", overrides={"learning_rate": 1e-3})
    tracker = Tracker("siamot", "mobilenet_v2", overrides={"backbone_learning_rate": 1e-3})
    assert tracker.get_parameters().backbone_learning_rate == 1e-3


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

    got = parse_overrides(["backbone_learning_rate=0.001", "channels_last=False", "current_map=recrop",
                           "exemplar_centering=true", "confidence_threshold = 0.6"])
    assert got == {"backbone_learning_rate": 0.001, "channels_last": False, "current_map": "recrop",
                   "exemplar_centering": True, "confidence_threshold": 0.6}
    with pytest.raises(ValueError, match="NAME=VALUE"):
        parse_overrides(["backbone_learning_rate"])
    with pytest.raises(ValueError, match="unknown parameter 'lr'"):
        parse_overrides(["lr=0.1"])
