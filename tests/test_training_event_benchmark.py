"""``benchmarks/training_event.py``: an earlier revision's adapter is importable beside the current one, and
the replay times every variant's calls from copies (the captured trainers stay as they were)."""
from __future__ import annotations

import importlib
from pathlib import Path

import pytest
import torch

from ltr.models.tracking.siamfc import SiamFC
from pytracking_siamot.online.adapter import AdapterSample, AdapterTrainer, gaussian_label
from pytracking_siamot.parameters import SiamOTParams

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def bench(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports its sibling speed.py
    return importlib.import_module("training_event")


def test_adapter_module_of_a_revision_and_a_clear_error(bench) -> None:
    module = bench.adapter_module_at("HEAD")
    assert module.AdapterMethod is not None and module.__name__ != "pytracking_siamot.online.adapter"
    with pytest.raises(bench.speed.BenchmarkError, match="no-such-revision"):
        bench.adapter_module_at("no-such-revision")


def test_replay_times_each_variant_from_copies(bench) -> None:
    net = SiamFC(torch.nn.Identity(), center_exemplar=True, border_crop=2, correlation="matmul")
    generator = torch.Generator().manual_seed(0)
    zf = torch.randn(1, 8, 10, 10, generator=generator)
    mask = torch.zeros(10, 10)
    mask[2:8, 3:7] = 1.0
    calls = {}
    for name, bf16 in (("fp32", False), ("bf16", True)):
        trainer = AdapterTrainer(net.score, SiamOTParams(adapter_iterations=2), net.exemplar_region_scores, bf16)
        trainer.reset(zf, AdapterSample(torch.randn(1, 8, 22, 22, generator=generator), gaussian_label(13, (6, 6), 0.5)),
                      mask)
        trainer.add(AdapterSample(torch.randn(1, 8, 22, 22, generator=generator), gaussian_label(13, (5, 6), 0.5)))
        calls[name] = [(trainer, 1.0, 0.0)]
    times = bench.replay(calls, repeats=3)
    assert {name: [len(spent) for spent in t] for name, t in times.items()} == {"fp32": [1] * 3, "bf16": [1] * 3}
    assert all(v > 0 for t in times.values() for spent in t for v in spent)
    assert not calls["fp32"][0][0].adapter.delta.any()  # replayed on copies: the captured trainer never trained


def test_method_of_a_revision_stores_samples_with_that_revision_s_operator(bench) -> None:
    from types import SimpleNamespace

    net = SiamFC(torch.nn.Identity(), center_exemplar=True, border_crop=2, correlation="matmul")
    network = SimpleNamespace(net=net, features=SimpleNamespace(precision="fp32"), device=torch.device("cpu"))
    method = bench.method_at("HEAD", network, SiamOTParams())
    assert type(method).__module__ == "adapter_before_HEAD"
    xf = torch.randn(2, 8, 22, 22, generator=torch.Generator().manual_seed(1))
    region = method.trainer.region_scores(xf, (2, 8), (3, 7), (10, 10), 2)
    assert type(region).__module__ == "siamfc_before_HEAD"
    current = net.exemplar_region_scores(xf, (2, 8), (3, 7), (10, 10), 2)
    values = torch.randn(8, 6, 4, generator=torch.Generator().manual_seed(2))
    torch.testing.assert_close(region(values), current(values))  # the same operator, another module
