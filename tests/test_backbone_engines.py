"""``benchmarks/backbone_engines.py``: every variant it can run is timed and compared with torch fp32,
and the ones it cannot run say why (no bf16 units, no openvino, no nncf)."""
from __future__ import annotations

import importlib
import importlib.util
from pathlib import Path

import pytest

from ltr.inference.engine import cpu_has_bf16, openvino_available

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture
def engines(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.syspath_prepend(str(BENCHMARKS))  # the script imports its sibling speed.py
    return importlib.import_module("backbone_engines")


def test_every_variant_is_timed_or_says_why_not(engines, monkeypatch, tmp_path) -> None:
    from ltr.inference import calibration, engine, openvino_models

    small = calibration.calibration_crops
    monkeypatch.setattr(calibration, "calibration_crops", lambda: small(scenes=1))  # a quick int8 model
    monkeypatch.setenv(openvino_models.CACHE_ENV, str(tmp_path))
    monkeypatch.setattr(engine, "_models", {})
    result = engines.benchmark("alexnet", threads=1, rounds=1, batch_count=1, sequence=None, random_init=True)
    rows, skipped = result["rows"], result["skipped"]
    assert result["weights"] == "random"
    names = {f"{name} {precision}" for name in ("torch", "openvino") for precision in ("fp32", "bf16")}
    names.add("openvino int8")
    assert set(rows) | set(skipped) == names and not set(rows) & set(skipped)
    assert rows["torch fp32"]["error"] == 0.0 and rows["torch fp32"]["ms"] > 0
    assert ("torch bf16" in rows) == cpu_has_bf16()
    if openvino_available():
        assert rows["openvino fp32"]["error"] < 1e-3  # the same network, float32 on another engine
    else:
        assert "openvino is not installed" in skipped["openvino fp32"]
    if openvino_available() and importlib.util.find_spec("nncf") is None:
        assert "nncf is not installed" in skipped["openvino int8"]
    elif openvino_available():
        assert rows["openvino int8"]["ms"] > 0 and rows["openvino int8"]["cosine"] > 0.9
        assert "I8" in rows["openvino int8"]["kernels"]  # the convolutions ran int8 kernels
    text = engines.format_result(result, 3, 255)
    assert all(name in text for name in names)
