"""Benchmark sizes (``tables/sizes.txt``), ``python -m evaluation.datasets sizes``, and the helpers of
``benchmarks/runner_wall_times.py`` and ``benchmarks/runner_dask_vs_pool.py``."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

from evaluation.datasets import OTB2013_ENTRIES, DATASET_NAMES
from evaluation.datasets.sizes import BENCHMARK_LABELS, benchmark_sizes

ROOT = Path(__file__).resolve().parents[1]


def _script(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"siamot_benchmark_{name}", ROOT / "benchmarks" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_sizes_cover_every_benchmark_and_sum_the_package_tables() -> None:
    sizes = {s.name: s for s in benchmark_sizes()}
    assert list(sizes) == list(BENCHMARK_LABELS)
    assert set(sizes) <= set(DATASET_NAMES)
    assert sizes["otb2013"].frames == sum(e.end_frame - e.start_frame + 1 for e in OTB2013_ENTRIES) == 29491
    assert (sizes["uav123"].frames, sizes["uav20l"].frames, sizes["uav123_10fps"].frames) == (112578, 58670, 37607)
    assert sizes["uav123"].sequences == 123 and sizes["uav20l"].sequences == 20
    assert (sizes["tc128"].frames, sizes["nfs"].frames) == (55346, 47953)  # tables/tc128.txt, tables/nfs.txt
    assert sizes["tc128"].source == sizes["nfs"].source == "table"
    lasot = sizes["lasot"]
    assert (lasot.sequences, lasot.frames, lasot.approximate, lasot.source) == (280, 685360, False, "count")
    assert all(s.frames is not None for s in sizes.values())


def test_a_bad_sizes_row_is_an_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import evaluation.datasets._benchmark as benchmark

    (tmp_path / "sizes.txt").write_text("# key sequences frames\notb2013 51 lots\n")
    monkeypatch.setattr(benchmark, "TABLES", tmp_path)
    with pytest.raises(ValueError, match="otb2013: frames 'lots' is not a number"):
        benchmark_sizes()
    (tmp_path / "sizes.txt").write_text("atlantis 3 10\n")
    with pytest.raises(ValueError, match="bad row 'atlantis 3 10'"):
        benchmark_sizes()
    (tmp_path / "sizes.txt").write_text("lasot 280 685360 rumour\n")
    with pytest.raises(ValueError, match="lasot: source 'rumour' is not 'paper' or 'count'"):
        benchmark_sizes()
    (tmp_path / "sizes.txt").write_text("lasot 280 ~690000\n")  # no source: a paper's figure
    assert [(s.frames, s.approximate, s.source) for s in benchmark_sizes()] == [(690000, True, "paper")]


def test_sizes_command_prints_a_line_per_benchmark(capsys) -> None:
    from evaluation.datasets.__main__ import main

    assert main(["sizes"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == len(BENCHMARK_LABELS)
    assert lines[0] == "OTB2013: 51 sequences, 29491 frames (table)"
    assert "LaSOT: 280 sequences, 685360 frames (count)" in lines
    assert not any("not encoded" in line for line in lines)


def test_wall_time_table_divides_frames_by_speed_and_workers() -> None:
    wall = _script("runner_wall_times")
    rows = {r[0]: r for r in wall.table_rows(fps_per_core=10.0, workers=4)}
    # OTB2013: 29,491 frames at 10 frames/s: 2,949 s on one core, half on two, a quarter on four
    assert rows["OTB2013"] == ["OTB2013", "51", "29,491", "10.0*", "49 min", "25 min", "12 min"]
    assert rows["LaSOT"] == ["LaSOT", "280", "685,360", "10.0*", "19.0 h", "9.5 h", "4.8 h"]
    assert rows["TC128"][2:] == ["55,346", "10.0*", "1.5 h", "46 min", "23 min"]
    # a benchmark measured on its own sequences uses its own speed; the others keep the pooled one
    rows = {r[0]: r for r in wall.table_rows(fps_per_core=10.0, workers=4, measured={"otb2013": 20.0})}
    assert rows["OTB2013"][3:] == ["20.0", "25 min", "12 min", "6 min"]
    assert rows["OTB-100"][3:5] == ["10.0*", "1.6 h"]
    assert wall.format_hours(29.0) == "<1 min" and wall.format_hours(31.0) == "1 min"
    text = wall.render([["a", "1"]], ["name", "n"])
    assert text.splitlines() == ["| name | n |", "|------|---|", "| a    | 1 |"]


def test_dask_vs_pool_compares_all_result_files_but_the_timings(tmp_path: Path, capsys) -> None:
    compare = _script("runner_dask_vs_pool")
    for mode, state in (("pool", "1"), ("dask", "2")):
        folder = tmp_path / mode / "siamot" / "mobilenet_v2"
        folder.mkdir(parents=True)
        (folder / "a.txt").write_text("1\t2\t3\t4\n")
        (folder / "a_time.txt").write_text(f"0.0{state}\n")  # timings differ by nature
        (folder / "a_run.json").write_text(f'{{"frames": 1, "code": "git:{state}"}}')  # a commit between the runs
    pool, dask = compare._digests(tmp_path / "pool"), compare._digests(tmp_path / "dask")
    assert pool == dask and list(pool) == ["siamot/mobilenet_v2"]
    assert sorted(pool["siamot/mobilenet_v2"]) == ["a.txt", "a_run.json"]
    assert compare.compare(tmp_path, ["opencv"]) == 0
    (tmp_path / "dask" / "siamot" / "mobilenet_v2" / "a.txt").write_text("1\t2\t3\t5\n")
    assert compare._digests(tmp_path / "dask") != pool
    assert compare.compare(tmp_path, ["opencv"]) == 1 and compare.compare(tmp_path, ["siamot"]) == 0
