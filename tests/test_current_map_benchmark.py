"""``benchmarks/current_map.py``: the recorded R_c work replays the same way each pass, a changed equation
shows as a difference, and a revision's modules load beside the current ones; on generated maps."""
from __future__ import annotations

import importlib
import types
from pathlib import Path

import pytest
import torch

from pytracking_siamot.online import functions
from pytracking_siamot.parameters import SiamOTParams

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports its siblings speed.py, training_event.py
    return importlib.import_module("current_map")


def _record() -> dict:
    generator = torch.Generator().manual_seed(0)
    frames = [(torch.randn(13, 13, generator=generator), torch.randn(1, 8, 22, 22, generator=generator),
               (0.5 * k, -0.25 * k)) for k in range(4)]
    return {"frames": frames, "settings": SiamOTParams(), "head": (2, True, None),
            "template_map": torch.randn(13, 13, generator=generator),
            "exemplar_features": torch.randn(1, 8, 10, 10, generator=generator)}


def test_replay_is_repeatable_and_sees_a_changed_equation(bench) -> None:
    record = _record()
    current = (bench.functions_module, bench.confidence_module, bench.siamfc_module)
    spent, first = bench.replay_pass(record, *current)
    assert spent > 0 and len(first) == 4
    assert bench.same_results(first, bench.replay_pass(record, *current)[1])
    shifted_more = types.SimpleNamespace(shift_map=lambda m, cells: functions.shift_map(m, cells) + 1e-3)
    assert not bench.same_results(first, bench.replay_pass(record, shifted_more, *current[1:])[1])


def test_a_revision_replays_beside_the_current_code(bench) -> None:
    record = _record()
    confidence = bench.training_event.module_at("HEAD", "pytracking_siamot/online/confidence.py")
    siamfc = bench.training_event.module_at("HEAD", "ltr/models/tracking/siamfc.py")
    assert siamfc.__name__ == "siamfc_before_HEAD"
    _, theirs = bench.replay_pass(record, bench.functions_module, confidence, siamfc)
    _, ours = bench.replay_pass(record, bench.functions_module, bench.confidence_module, bench.siamfc_module)
    assert bench.same_results(theirs, ours)
    assert bench.main(["--repeat", "0"]) == 2
