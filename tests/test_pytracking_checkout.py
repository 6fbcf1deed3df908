"""SiamOT inside a real pytracking checkout (``../shared/pytracking``), run by pytracking's own scripts.

The checkout is copied to a temporary folder; the test writes its ``local.py``, runs
``python -m pytracking_siamot.integrate``, then pytracking's ``run_tracker.py`` serially
(``--threads 0``, one target) while ``run_experiment.py`` runs the experiment module
``integrate`` wrote in a spawn pool (``--threads 2``) on two short OTB2013 targets; the pool's
boxes must equal the serial run's. The results are scored with pytracking's own analysis code
and with SiamOT's (``evaluation.analysis``), which must agree; ``--remove`` must leave the copy
byte for byte as it was. Every subprocess runs in its own session under a timeout and is killed
with its pool workers when it runs over, so a hang fails the test instead of blocking CI. The
serial run and the pool run side by side (two result folders, named to each through the
environment in ``local.py``), which shortens the test on two cores.

Skips where ``../shared/pytracking`` or ``../shared/otb2013`` is absent, or where pytracking's
own imports (``jpeg4py``, ``visdom``, ``tikzplotlib``; installed by ``install.sh``) are missing.
Nothing is stubbed.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pytracking_siamot import integrate, pytracking_compat as compat

TARGETS = ("Deer", "Football1")  # 71 and 74 frames
PARAMS = ("mobilenet_v2", "mobilenet_v2_baseline")  # the pair of the experiment otb2013_mobilenet_v2
# Seconds per pytracking command: ~10-30 s on two idle cores; generous for loaded machines.
TIMEOUT_S = float(os.environ.get("SIAMOT_PYTRACKING_TEST_TIMEOUT", "300"))

# The results folder comes from the environment, so that two runs at once can write to two folders.
RESULTS_ENV = "SIAMOT_TEST_PYTRACKING_RESULTS"
LOCAL_PY = '''import os

from pytracking.evaluation.environment import EnvSettings


def local_env_settings():
    settings = EnvSettings()
    settings.results_path = os.environ[{results_env!r}]
    settings.result_plot_path = {plots!r}
    settings.otb2013_path = {otb!r}
    settings.otb2013_anno_path = {anno!r}
    return settings
'''

# pytracking's own analysis: extract_results (IoU, success curves) and plot_results.get_auc_curve.
PYTRACKING_SCORES = '''
import json
import sys

from pytracking.analysis.extract_results import extract_results
from pytracking.analysis.plot_results import get_auc_curve
from pytracking.evaluation import Tracker
from pytracking.evaluation.otb2013dataset import OTB2013Dataset
import torch

params = sys.argv[1:]
dataset = OTB2013Dataset().get_sequence_list()
trackers = [Tracker("siamot", name) for name in params]
data = extract_results(trackers, dataset, "siamot_test", verbose=False)
valid = torch.tensor(data["valid_sequence"], dtype=torch.bool)
_, auc = get_auc_curve(torch.tensor(data["ave_success_rate_plot_overlap"]), valid)
print("SCORES " + json.dumps({"sequences": data["sequences"], "auc": dict(zip(params, (auc / 100).tolist()))}))
'''


def _missing_imports() -> list[str]:
    return [name for name in ("jpeg4py", "visdom", "tikzplotlib") if importlib.util.find_spec(name) is None]


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``root`` -> (content hash or 'dir', permission bits)."""
    return {p.relative_to(root).as_posix(): ("dir" if p.is_dir() else hashlib.sha256(p.read_bytes()).hexdigest(),
                                             p.stat().st_mode & 0o7777)
            for p in sorted(root.rglob("*"))}


def start_bounded(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.Popen:
    """Start ``args`` in a new session (its output is collected by :func:`finish_bounded`)."""
    return subprocess.Popen(args, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            start_new_session=True)


def run_bounded(args: list[str], cwd: Path, env: dict[str, str]) -> str:
    """Run ``args`` in a new session; its whole process group is killed after ``TIMEOUT_S``. Returns the output."""
    return finish_bounded(start_bounded(args, cwd, env))


def finish_bounded(proc: subprocess.Popen) -> str:
    """Wait for ``proc`` (started by :func:`start_bounded`); its whole process group is killed after
    ``TIMEOUT_S``. Returns the output; fails the test on a timeout or a non-zero exit."""
    args = proc.args
    try:
        out, _ = proc.communicate(timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the command and its pool workers
        out, _ = proc.communicate()
        pytest.fail(f"{' '.join(args)} did not finish in {TIMEOUT_S:.0f} s (a hung pool?):\n{out[-4000:]}")
    assert proc.returncode == 0, f"{' '.join(args)} exited {proc.returncode}:\n{out[-4000:]}"
    return out


@pytest.fixture
def checkout(shared_dir: Path, otb2013_dir: Path, tmp_path: Path) -> dict[str, Path]:
    """A writable copy of ``../shared/pytracking`` and an OTB2013 folder holding only ``TARGETS``."""
    pristine = shared_dir / "pytracking"
    if not (pristine / "pytracking" / "run_tracker.py").is_file():
        pytest.skip(f"no pytracking checkout at {pristine}")
    missing = _missing_imports()
    if missing:
        pytest.skip(f"pytracking's own imports are missing: {', '.join(missing)} (bash install.sh installs them)")
    anno = otb2013_dir / "annotations" / "cvpr13_anno"
    if not anno.is_dir() or not all((otb2013_dir / t / "img").is_dir() for t in TARGETS):
        pytest.skip(f"OTB2013 targets {', '.join(TARGETS)} or their annotations are not under {otb2013_dir}")
    root = tmp_path / "pytracking"
    shutil.copytree(pristine, root, symlinks=True)
    for path in [root, *root.rglob("*")]:  # the shared copy is read-only
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | 0o200)
    otb = tmp_path / "otb2013"
    otb.mkdir()
    for target in TARGETS:  # a partial dataset: pytracking's OTB2013 list runs on what is there
        (otb / target).symlink_to(otb2013_dir / target, target_is_directory=True)
    return {"root": root, "pristine": pristine, "otb": otb, "anno": anno, "tmp": tmp_path}


def test_siamot_runs_through_pytracking_runners_and_analysis(checkout: dict[str, Path], capsys) -> None:
    root, tmp = checkout["root"], checkout["tmp"]
    package = root / "pytracking"
    before = snapshot(root)
    local = package / "evaluation" / "local.py"

    local.write_text(LOCAL_PY.format(results_env=RESULTS_ENV, plots=str(tmp / "plots"), otb=str(checkout["otb"]),
                                     anno=str(checkout["anno"])))
    results, results_serial = tmp / "results", tmp / "results_serial"
    assert integrate.main([str(root)]) == 0
    out = capsys.readouterr().out
    assert "patch            pytracking/evaluation/datasets.py" in out
    assert "--dataset_name otb2013" in out
    datasets_py = (package / "evaluation" / "datasets.py").read_text()
    assert datasets_py.endswith(compat.DATASET_REGISTRATION)

    # The checkout first on the path, SiamOT after it (as its editable install is), no bytecode.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(compat.install_root())]),
               PYTHONDONTWRITEBYTECODE="1", OMP_NUM_THREADS="1", **{RESULTS_ENV: str(results)})
    serial_run = start_bounded([sys.executable, "run_tracker.py", "siamot", PARAMS[1], "--dataset_name", "otb2013",
                                "--sequence", TARGETS[0], "--threads", "0"], package,
                               {**env, RESULTS_ENV: str(results_serial)})
    try:
        experiment = run_bounded([sys.executable, "run_experiment.py", compat.TRACKER_NAME, f"otb2013_{PARAMS[0]}",
                                  "--threads", "2"], package, env)
    finally:
        serial = finish_bounded(serial_run)
    assert f"Sequence: {TARGETS[0]}" in serial and "FPS: " in serial
    assert "OTB2013: 49 of 51 targets have no frames" in serial  # one line for the absent ones
    assert "Done" in experiment and "Error" not in experiment, experiment[-3000:]
    for param in PARAMS:
        for target in TARGETS:
            assert (results / "siamot" / param / f"{target}.txt").is_file(), (param, target, experiment[-3000:])
    serial_boxes = (results_serial / "siamot" / PARAMS[1] / f"{TARGETS[0]}.txt").read_text()
    # One torch thread in both (SiamOTParams.torch_threads): the pool's boxes equal the serial run's.
    assert (results / "siamot" / PARAMS[1] / f"{TARGETS[0]}.txt").read_text() == serial_boxes
    # pytracking follows the files' 1-based coordinates: its first row is the annotation's first row.
    first_gt = (checkout["anno"] / "deer.txt").read_text().splitlines()[0].replace(",", "\t")
    assert serial_boxes.splitlines()[0] == first_gt

    scored = run_bounded([sys.executable, "-c", PYTRACKING_SCORES, *PARAMS], package, env)
    line = next(line for line in scored.splitlines() if line.startswith("SCORES "))
    theirs = json.loads(line[len("SCORES "):])
    assert sorted(theirs["sequences"]) == sorted(TARGETS)

    from evaluation.analysis.evaluate import evaluate
    from evaluation.datasets import available_sequences
    from evaluation.datasets.otb import otb2013_dataset
    from evaluation.peer_results import PublishedResults
    from evaluation.settings import Settings

    dataset = available_sequences(otb2013_dataset(Settings(otb2013_path=str(checkout["otb"]),
                                                           otb2013_anno_path=str(checkout["anno"]))))
    assert sorted(s.name for s in dataset) == sorted(TARGETS)
    sources = [PublishedResults(param, results / "siamot" / param) for param in PARAMS]
    assert all(source.one_based for source in sources)  # pytracking's integer, 1-based files
    ours, _ = evaluate(sources, dataset)
    for param in PARAMS:
        assert ours.scores()[param].auc == pytest.approx(theirs["auc"][param], abs=1e-6), param
        assert ours.scores()[param].auc > 0.3, param  # tracked, not lost from the start

    assert integrate.main([str(root), "--remove"]) == 0
    local.unlink()
    assert snapshot(root) == before
    pristine = {rel: digest for rel, (digest, _mode) in snapshot(checkout["pristine"]).items()}
    assert {rel: digest for rel, (digest, _mode) in snapshot(root).items()} == pristine
