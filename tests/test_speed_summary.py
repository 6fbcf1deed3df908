"""``benchmarks/speed.py``'s summary over repeats and precisions (pure functions on result rows)."""
from __future__ import annotations

import pytest

from test_speed_equivalence import speed  # noqa: F401  (the fixture: benchmarks/speed.py imported by path)


def _row(precision: str, mode: str, repeat: int, fps: float, backbone_ms: float, trained: int) -> dict:
    return {"backbone": "mobilenet_v2", "precision": precision, "engine": "openvino", "mode": mode,
            "online_training": mode == "online", "overrides": {"precision": precision}, "repeat": repeat,
            "fps_median": fps, "fps_mean": fps - 1, "stage_ms_per_frame": {"backbone": backbone_ms},
            "outside_network_fraction": 0.1, "online_train_ms_per_event": 50.0 if trained else None,
            "trained_frames": trained, "frames_tracked": 120}


def test_summary_takes_medians_over_repeats_per_precision_and_mode(speed) -> None:
    rows = [_row(p, m, r, fps, ms, t) for r, scale in enumerate((1.0, 0.5, 1.2))
            for p, base in (("fp32", 20.0), ("int8", 40.0)) for m, t in (("baseline", 0), ("online", 3))
            for fps, ms in [(base * scale, 100 / (base * scale))]]
    speed.add_ratios(rows)
    assert all(r["fps_ratio_median"] == 1.0 for r in rows if r["mode"] == "online")  # paired within a repeat
    summary = speed.summarize(rows)
    assert [(s["precision"], s["mode"]) for s in summary] == [("fp32", "baseline"), ("fp32", "online"),
                                                               ("int8", "baseline"), ("int8", "online")]
    int8 = summary[2]
    assert int8["repeats"] == 3 and int8["fps_median"] == 40.0 and int8["fps_mean"] == 39.0
    assert int8["backbone_ms"] == pytest.approx(2.5) and summary[3]["trained_frames"] == [3, 3, 3]
    text = speed.format_summary(summary, [200.0, 100.0, 300.0])
    assert "median of 3 repeats" in text and "mobilenet_v2 int8 online" in text
    assert "0.20" in text  # 40 FPS against NanoTrack's median of 200
    assert "3, 3, 3 of 120" in text


def test_tables_show_the_mean_against_the_median_and_the_cost_per_call(speed) -> None:
    row = {**_row("bf16", "online", 0, 80.0, 5.0, 4), "fps_mean": 76.0, "frames_tracked": 120,
           "stage_ms_per_frame": {"crop": 1.0, "backbone": 5.0, "xcorr": 0.5, "upsample_peak": 1.0,
                                  "current_map": 0.0, "online_train": 0.9},
           "online_train_ms_per_event": 27.0, "online_train_calls": 12, "online_train_ms_per_call": 9.0,
           "python_overhead_ms_per_frame": 2.0, "profiled_frame_ms_mean": 12.5, "outside_network_fraction": 0.3}
    lines = speed.format_tables([row], 100.0, "cpu", 400.0).splitlines()
    speed_head = next(i for i, line in enumerate(lines) if "mean/med" in line)
    assert "0.95" in lines[speed_head + 2].split()  # 76 / 80
    stage_head = next(i for i, line in enumerate(lines) if "/call" in line)
    assert lines[stage_head + 2].split()[-5:-3] == ["9.0", "12"]  # ms per call, calls
