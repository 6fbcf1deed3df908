"""``python -m pytracking_siamot.integrate``: shims in a pytracking-like tree, safety, removal, interop.

Each test builds a minimal tree with pytracking's module layout in ``tmp_path`` and runs code
"inside pytracking" in a subprocess whose ``PYTHONPATH`` is that tree, then SiamOT (the real
pytracking is never needed here; ``test_pytracking_checkout.py`` runs it).
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from evaluation.boxes_io import read_boxes_txt, read_values_txt, write_boxes_txt, write_values_txt
from pytracking_siamot import integrate, pytracking_compat as compat
from pytracking_siamot.pytracking_compat import isolation, parameter_files
from pytracking_siamot.boxes import iou_xywh
from runner_fakes import frames_of, small_synthetic_sequence

# A runner that follows pytracking's contract (../shared/reference/pytracking_contract.md):
# run as a script from inside pytracking/ like run_tracker.py, so pytracking's own folders
# (parameter, evaluation) shadow top-level packages of the same name, and, like pytracking,
# it imports the checkout's own top-level 'ltr' before it loads a tracker.
RUNNER = '''
import importlib
import importlib.util
import json
import sys
import time
from collections import OrderedDict

import numpy as np


def load_sequence(path):
    """RGB frames and [x, y, w, h] ground truth the test saved (SiamOT's synthetic generator)."""
    data = np.load(path)
    return list(data["frames"]), data["ground_truth"]


def class_in_worker(tracker_class):
    """Run in a spawned worker: the class arrived by pickle (as pytracking's --threads sends it)."""
    return {"class": tracker_class.__module__ + "." + tracker_class.__qualname__,
            "siamfc": getattr(sys.modules.get("_siamot_ltr.models.tracking.siamfc"), "__file__", None),
            "ltr": getattr(sys.modules.get("ltr"), "__file__", None)}


def main(name, parameter_name, results_dir, sequence_path):
    # pytracking's evaluation/tracker.py imports its own top-level 'ltr' before any tracker loads.
    from ltr.data.bounding_box_utils import rect_area
    import ltr.models.tracking  # its module names overlap SiamOT's
    pytracking_ltr = {key: module for key, module in sys.modules.items() if key.split(".")[0] == "ltr"}

    tracker_class = importlib.import_module("pytracking.tracker." + name).get_tracker_class()
    parameter_module = importlib.import_module("pytracking.parameter.{}.{}".format(name, parameter_name))
    params = parameter_module.parameters()
    other = parameter_module.parameters()
    other.debug = 3
    params.debug = 0
    params.visualization = False
    checks = {
        "fresh": params is not other and params.debug == 0 and other.debug == 3,
        "get_default": params.get("no_such_setting", 7) == 7,
        "has": params.has("debug") and not params.has("no_such_setting"),
    }
    params.set_default_values({"extra_setting": 5, "debug": 9})
    checks["set_default_values"] = params.get("extra_setting") == 5 and params.debug == 0
    params.tracker_name, params.param_name = name, parameter_name  # as pytracking's run_video does

    frames, ground_truth = load_sequence(sequence_path)
    tracker = tracker_class(params)
    out = tracker.initialize(frames[0], {"init_bbox": [float(v) for v in ground_truth[0]]}) or {}
    previous = OrderedDict(out)
    boxes, times = [[float(v) for v in ground_truth[0]]], [out.get("time", 0.0)]
    for frame in frames[1:]:
        start = time.time()
        out = tracker.track(frame, {"previous_output": previous})
        previous = OrderedDict(out)
        boxes.append([float(v) for v in out["target_bbox"]])
        times.append(out.get("time", time.time() - start))
    # pytracking's result files: integer boxes and per-frame times, tab-delimited.
    np.savetxt(results_dir + "/synthetic.txt", np.asarray(boxes).astype(int), delimiter="\\t", fmt="%d")
    np.savetxt(results_dir + "/synthetic_time.txt", np.asarray(times), delimiter="\\t", fmt="%f")
    spec = importlib.util.find_spec("parameter")
    checks["same_class_again"] = importlib.import_module("pytracking.tracker." + name).get_tracker_class() is tracker_class
    # After the run, 'ltr' (and every 'ltr.*') is still pytracking's and still works.
    ltr_now = {key: module for key, module in sys.modules.items() if key.split(".")[0] == "ltr"}
    if ltr_now == pytracking_ltr and importlib.import_module("ltr.data.bounding_box_utils").rect_area([1, 2, 3, 4]) == 12:
        print("PYTRACKING-LTR-INTACT " + sys.modules["ltr"].__file__)
    own = sys.modules.get("_siamot_ltr.models.tracking.siamfc")
    import multiprocessing
    with multiprocessing.get_context("spawn").Pool(1) as pool:  # pytracking's --threads N uses spawn
        worker = pool.apply_async(class_in_worker, (tracker_class,)).get(timeout=400)
    print(json.dumps({"worker": worker, "boxes": boxes, "ground_truth": ground_truth.tolist(), "checks": checks,
                      "parameter_package": spec.origin if spec else None,
                      "siamot_siamfc": getattr(own, "__file__", None)}))


if __name__ == "__main__":
    main(*sys.argv[1:5])
'''


def make_tree(root: Path) -> Path:
    """pytracking's module layout (empty packages, its own top-level 'ltr') under ``root``; returns ``root``."""
    for package in ("pytracking", "pytracking/tracker", "pytracking/parameter", "pytracking/evaluation"):
        (root / package).mkdir(parents=True, exist_ok=True)
        (root / package / "__init__.py").write_text("")
    (root / "pytracking" / "tracker" / "atom").mkdir()  # some other tracker, never touched
    (root / "pytracking" / "tracker" / "atom" / "__init__.py").write_text("def get_tracker_class():\n    pass\n")
    (root / "pytracking" / "run_contract.py").write_text(RUNNER)
    # pytracking's own top-level 'ltr' package, which shares its name with SiamOT's networks.
    for package in ("ltr", "ltr/data", "ltr/models", "ltr/models/tracking"):
        (root / package).mkdir()
        (root / package / "__init__.py").write_text("")
    (root / "ltr" / "data" / "bounding_box_utils.py").write_text(
        "def rect_area(bbox_xywh):\n    return bbox_xywh[2] * bbox_xywh[3]\n")
    return root


def snapshot(root: Path) -> dict[str, tuple[str, int]]:
    """Every path under ``root`` -> (content hash or 'dir', permission bits)."""
    state = {}
    for path in sorted(root.rglob("*")):
        kind = "dir" if path.is_dir() else hashlib.sha256(path.read_bytes()).hexdigest()
        state[path.relative_to(root).as_posix()] = (kind, path.stat().st_mode & 0o7777)
    return state


def run_cli(args: list[str], capsys: pytest.CaptureFixture) -> tuple[int, str, str]:
    code = integrate.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def tree_env(root: Path, **extra: str) -> dict[str, str]:
    """Environment for code run "inside pytracking": the checkout ``root`` first on the path, then SiamOT.

    SiamOT's folder comes after the checkout, as its editable install (a finder after the path
    entries) does, so the checkout's own 'ltr' wins; naming it makes these subprocesses use
    the SiamOT code under test, not whichever copy is installed.
    """
    return dict(os.environ, PYTHONPATH=os.pathsep.join([str(root), str(compat.install_root())]),
                PYTHONDONTWRITEBYTECODE="1", **extra)


def run_in_tree(root: Path, args: list[str], cwd: Path, timeout: float = 240) -> subprocess.CompletedProcess:
    env = tree_env(root)
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


# ---------------------------------------------------------------------------------------------
# Writing, idempotence, removal
# ---------------------------------------------------------------------------------------------

def test_integrate_writes_marked_shims_then_second_run_changes_nothing(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    code, out, _ = run_cli([root], capsys)
    assert code == 0, out
    package = root / "pytracking"
    names = compat.parameter_names()
    assert {"mobilenet_v2", "mobilenet_v2_baseline", "alexnet"} <= set(names)
    expected = [compat.TRACKER_SHIM_PATH, compat.PARAMETER_PACKAGE_PATH, compat.OTB2013_DATASET_PATH,
                compat.EXPERIMENTS_PATH, "experiments/__init__.py"] + [compat.parameter_shim_path(n) for n in names]
    manifest = json.loads((package / integrate.MANIFEST_NAME).read_text())
    assert sorted(manifest["files"]) == sorted(expected)
    assert sorted(manifest["dirs"]) == ["experiments", "parameter/siamot", "tracker/siamot"]
    for rel in expected:
        data = (package / rel).read_bytes()
        assert data.startswith(compat.MARKER.encode() + b"\n"), rel
        assert manifest["files"][rel]["sha256"] == hashlib.sha256(data).hexdigest()
        compile(data, rel, "exec")

    before = snapshot(root)
    mtimes = {p: p.stat().st_mtime_ns for p in package.rglob("*")}
    code, out, _ = run_cli([root], capsys)
    assert code == 0
    assert "nothing changed" in out and "already integrated" in out
    assert snapshot(root) == before
    assert {p: p.stat().st_mtime_ns for p in package.rglob("*")} == mtimes


def test_remove_restores_tree_byte_for_byte(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    original = snapshot(root)
    assert run_cli([root], capsys)[0] == 0
    # Python's bytecode caches of our shims go too (and their __pycache__ once empty).
    cache = root / "pytracking" / "parameter" / "siamot" / "__pycache__"
    cache.mkdir()
    (cache / "mobilenet_v2.cpython-311.pyc").write_bytes(b"\0")
    code, out, _ = run_cli([root, "--remove"], capsys)
    assert code == 0, out
    assert "removed SiamOT" in out
    assert snapshot(root) == original
    code, out, _ = run_cli([root, "--remove"], capsys)
    assert code == 0 and "nothing to remove" in out


def test_dry_run_changes_nothing(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    original = snapshot(root)
    code, out, _ = run_cli([root, "--dry-run"], capsys)
    assert code == 0
    assert "would create" in out and "tracker/siamot/__init__.py" in out
    assert snapshot(root) == original


def test_remove_keeps_created_folder_holding_user_files(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    run_cli([root], capsys)
    user_file = root / "pytracking" / "parameter" / "siamot" / "my_variant.py"
    user_file.write_text("def parameters():\n    pass\n")
    code, out, _ = run_cli([root, "--remove"], capsys)
    assert code == 0
    assert "keep-dir" in out and "pytracking/parameter/siamot" in out
    assert sorted(p.name for p in user_file.parent.iterdir()) == ["my_variant.py"]


def test_parameter_file_no_longer_present_is_taken_back(tmp_path):
    root = make_tree(tmp_path / "checkout")
    checkout = integrate.find_checkout(root)
    integrate.apply(integrate.plan_integrate(checkout, integrate.desired_files(checkout, ["a", "b"])))
    assert (checkout.package / "parameter/siamot/b.py").is_file()
    plan = integrate.plan_integrate(checkout, integrate.desired_files(checkout, ["a"]))
    integrate.apply(plan)
    assert not (checkout.package / "parameter/siamot/b.py").exists()
    assert (checkout.package / "parameter/siamot/a.py").is_file()
    assert "parameter/siamot/b.py" not in json.loads(checkout.manifest_path.read_text())["files"]


# ---------------------------------------------------------------------------------------------
# Never overwrite what SiamOT did not write
# ---------------------------------------------------------------------------------------------

def test_refuses_foreign_file_then_force_overwrites_and_remove_restores_it(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    foreign = root / "pytracking" / "tracker" / "siamot" / "__init__.py"
    foreign.parent.mkdir()
    foreign.write_text("# somebody else's siamot\n")
    foreign.chmod(0o640)
    original = snapshot(root)

    code, _, err = run_cli([root], capsys)
    assert code == 1
    assert err.count("\n") == 1 and err.startswith("error: ")
    assert "pytracking/tracker/siamot/__init__.py (not written by SiamOT)" in err and "--force" in err
    assert snapshot(root) == original  # nothing written, not even the manifest

    code, out, err = run_cli([root, "--force"], capsys)
    assert code == 0, err
    assert foreign.read_text().startswith(compat.MARKER)
    assert "overwrite" in out

    code, _, _ = run_cli([root, "--remove"], capsys)
    assert code == 0
    assert snapshot(root) == original  # the foreign file is back, with its mode; its folder stays


def test_marked_file_missing_from_manifest_is_not_adopted_when_different(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    shim = root / "pytracking" / "tracker" / "siamot" / "__init__.py"
    shim.parent.mkdir()
    shim.write_text(compat.MARKER + "\nsomething else\n")
    code, _, err = run_cli([root], capsys)
    assert code == 1 and "has SiamOT's header but is not in the manifest" in err


def test_folder_in_place_of_a_shim_is_an_error_even_with_force(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    (root / "pytracking" / "tracker" / "siamot" / "__init__.py").mkdir(parents=True)
    for args in ([root], [root, "--force"]):
        code, _, err = run_cli(args, capsys)
        assert code == 1 and "is not a regular file" in err
    assert not (root / "pytracking" / integrate.MANIFEST_NAME).exists()


def test_edited_shim_blocks_integrate_and_remove_until_forced(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    original = snapshot(root)
    run_cli([root], capsys)
    shim = root / "pytracking" / "parameter" / "siamot" / "mobilenet_v2.py"
    shim.write_text(shim.read_text() + "# my tweak\n")
    edited = snapshot(root)

    code, _, err = run_cli([root, "--remove"], capsys)
    assert code == 1
    assert "pytracking/parameter/siamot/mobilenet_v2.py (edited since SiamOT wrote it)" in err
    assert snapshot(root) == edited  # nothing deleted
    code, _, err = run_cli([root], capsys)
    assert code == 1 and "edited since SiamOT wrote it" in err
    assert snapshot(root) == edited

    code, _, err = run_cli([root, "--remove", "--force"], capsys)
    assert code == 0
    assert "--force" in err
    assert snapshot(root) == original


def test_manifest_pointing_outside_the_package_is_rejected(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    run_cli([root], capsys)
    manifest = root / "pytracking" / integrate.MANIFEST_NAME
    data = json.loads(manifest.read_text())
    data["files"]["../../victim.txt"] = {"sha256": "0" * 64}
    manifest.write_text(json.dumps(data))
    code, _, err = run_cli([root, "--remove", "--force"], capsys)
    assert code == 1 and "outside the pytracking package" in err


def test_not_a_checkout_is_one_clear_error(tmp_path, capsys):
    code, _, err = run_cli([tmp_path], capsys)
    assert code == 1
    assert err.startswith("error: not a pytracking checkout") and str(tmp_path) in err
    (tmp_path / "pytracking").mkdir()
    (tmp_path / "pytracking" / "__init__.py").write_text("")
    code, _, err = run_cli([tmp_path], capsys)
    assert code == 1 and "no tracker, parameter, evaluation folder" in err


# ---------------------------------------------------------------------------------------------
# What pytracking sees at run time
# ---------------------------------------------------------------------------------------------

def test_parameter_files_give_fresh_pytracking_style_objects():
    first, second = compat.load_parameters("mobilenet_v2_baseline"), compat.load_parameters("mobilenet_v2_baseline")
    assert first is not second
    first.debug, first.visualization = 2, True
    assert second.debug == 0 and second.visualization is False
    assert first.get("backbone") == "mobilenet_v2" and first.get("missing", 1) == 1 and first.has("debug")
    first.tracker_name, first.param_name = "siamot", "mobilenet_v2_baseline"  # pytracking's run_video sets them
    with pytest.raises(ImportError, match="no SiamOT parameter file 'nope'.*mobilenet_v2"):
        compat.load_parameters("nope")


def test_shadowed_parameter_package_still_loads_siamot_files(monkeypatch):
    """run_tracker.py run from inside pytracking/ hides SiamOT's 'parameter' behind pytracking's."""
    monkeypatch.setattr(parameter_files, "is_own_package", lambda name: False)
    module = compat.parameter_module("mobilenet_v2")
    assert module.__name__ == "_siamot_parameter_mobilenet_v2"
    assert Path(module.__file__) == compat.install_root() / "parameter" / "siamot" / "mobilenet_v2.py"
    assert compat.load_parameters("mobilenet_v2").get("online_training") is True


def test_ltr_name_clash_is_a_note_at_integration(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    code, out, err = run_cli([root], capsys)
    assert code == 0 and err == ""
    assert f"note: {root / 'ltr'} and SiamOT's {compat.install_root() / 'ltr'} are both named 'ltr'" in out


@pytest.fixture(params=["imported", "on_path"])
def clash_packages(request, tmp_path, monkeypatch):
    """A foreign top-level package 'siamot_clash_pkg' (imported already, or first on ``sys.path``), and ours.

    SiamOT's install root is pointed at ``tmp_path / 'ours'``, which also holds the modules
    importing 'siamot_clash_pkg'. Yields the foreign modules in ``sys.modules`` ({} when only on
    the path); every module the test adds to ``sys.modules`` goes afterwards.
    """
    theirs, ours = tmp_path / "theirs" / "siamot_clash_pkg", tmp_path / "ours" / "siamot_clash_pkg"
    for folder, owner in ((theirs, "theirs"), (ours, "ours")):
        folder.mkdir(parents=True)
        (folder / "__init__.py").write_text(f"OWNER = {owner!r}\n")
        (folder / "sub.py").write_text(f"def owner():\n    return {owner!r}\n")
    (tmp_path / "ours" / "siamot_clash_user.py").write_text(
        "from siamot_clash_pkg.sub import owner\n\n\ndef who():\n    return owner()\n")
    (tmp_path / "ours" / "siamot_clash_broken.py").write_text(
        "import siamot_clash_pkg.sub\nfrom siamot_clash_pkg.missing import nothing\n")
    monkeypatch.setattr(isolation, "install_root", lambda: tmp_path / "ours")
    # Test only: makes siamot_clash_user importable (and, when on_path, theirs found first).
    monkeypatch.syspath_prepend(str(tmp_path / "ours"))
    before = set(sys.modules)
    foreign = {}
    if request.param == "imported":
        for name, path, locations in (("siamot_clash_pkg", theirs / "__init__.py", [str(theirs)]),
                                      ("siamot_clash_pkg.sub", theirs / "sub.py", None)):
            spec = importlib.util.spec_from_file_location(name, path, submodule_search_locations=locations)
            foreign[name] = importlib.util.module_from_spec(spec)
            sys.modules[name] = foreign[name]
            spec.loader.exec_module(foreign[name])
    else:
        monkeypatch.syspath_prepend(str(tmp_path / "theirs"))
    yield foreign
    for name in set(sys.modules) - before:
        del sys.modules[name]


def clash_entries() -> dict:
    return {k: m for k, m in sys.modules.items() if k.split(".")[0] == "siamot_clash_pkg"}


def test_clashing_package_is_imported_privately_and_the_other_is_restored(clash_packages):
    foreign = dict(clash_packages)
    module = compat.import_with_own_packages("siamot_clash_user", ["siamot_clash_pkg"])
    assert module.who() == "ours"  # bound at import, still ours at run time
    assert clash_entries() == foreign
    assert importlib.import_module("siamot_clash_pkg.sub").owner() == "theirs"
    assert sys.modules[compat.PRIVATE_MODULE_PREFIX + "siamot_clash_pkg"].OWNER == "ours"
    assert sys.modules[compat.PRIVATE_MODULE_PREFIX + "siamot_clash_pkg.sub"].owner() == "ours"


def test_failed_private_import_restores_the_other_package_and_leaves_nothing(clash_packages):
    foreign = dict(clash_packages)
    with pytest.raises(ModuleNotFoundError, match="siamot_clash_pkg.missing"):
        compat.import_with_own_packages("siamot_clash_broken", ["siamot_clash_pkg"])
    assert clash_entries() == foreign
    assert not [k for k in sys.modules if k.startswith(compat.PRIVATE_MODULE_PREFIX + "siamot_clash")]
    with pytest.raises(ImportError, match=r"SiamOT's 'siamot_no_such_pkg' package is missing"):
        compat.import_with_own_packages("siamot_clash_user", ["siamot_no_such_pkg"])


def test_own_package_is_imported_normally(tmp_path, monkeypatch):
    (tmp_path / "siamot_plain_pkg").mkdir()
    (tmp_path / "siamot_plain_pkg" / "__init__.py").write_text("")
    (tmp_path / "siamot_plain_user.py").write_text("import siamot_plain_pkg\n")
    monkeypatch.setattr(isolation, "install_root", lambda: tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        compat.import_with_own_packages("siamot_plain_user", ["siamot_plain_pkg"])
        assert Path(sys.modules["siamot_plain_pkg"].__file__) == tmp_path / "siamot_plain_pkg" / "__init__.py"
        assert compat.PRIVATE_MODULE_PREFIX + "siamot_plain_pkg" not in sys.modules
    finally:
        for name in ("siamot_plain_user", "siamot_plain_pkg"):
            sys.modules.pop(name, None)


def test_tracker_runs_through_pytracking_contract_and_tree_is_restored(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    original = snapshot(root)
    results = tmp_path / "results"
    results.mkdir()
    # The runner imports no SiamOT module (pytracking's folders shadow 'evaluation' there): it reads the frames.
    sequence = small_synthetic_sequence(8, image_wh=(192, 144))
    sequence_path = tmp_path / "sequence.npz"
    np.savez(sequence_path, frames=np.stack(frames_of(sequence)), ground_truth=sequence.ground_truth_rect)
    assert run_cli([root], capsys)[0] == 0

    # A hang guard only (~30-60 s on two idle cores; the spawned worker re-imports torch and SiamOT).
    result = run_in_tree(root, ["run_contract.py", "siamot", "mobilenet_v2_baseline", str(results), str(sequence_path)],
                         cwd=root / "pytracking", timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(report["checks"].values()), report["checks"]
    # The script's folder shadowed SiamOT's 'parameter' package, as with pytracking's run_tracker.py.
    assert report["parameter_package"] == str(root / "pytracking" / "parameter" / "__init__.py")
    # pytracking's 'ltr' was imported first and is pytracking's again after SiamOT ran on its own 'ltr'.
    assert f"PYTRACKING-LTR-INTACT {root / 'ltr' / '__init__.py'}" in result.stdout.splitlines()
    assert report["siamot_siamfc"] == str(compat.install_root() / "ltr" / "models" / "tracking" / "siamfc.py")
    # A spawned worker unpickles the class by its picklable name, with SiamOT's 'ltr' imported privately.
    assert report["worker"] == {"class": "pytracking_siamot.pytracking_compat.SiamOTTracker",
                                "siamfc": report["siamot_siamfc"], "ltr": None}
    boxes, gt = np.asarray(report["boxes"]), np.asarray(report["ground_truth"])
    assert boxes.shape == gt.shape == (8, 4) and np.isfinite(boxes).all()
    assert np.mean([iou_xywh(b, g) for b, g in zip(boxes, gt)]) > 0.5
    # pytracking's integer result and time files read with our readers.
    np.testing.assert_array_equal(read_boxes_txt(results / "synthetic.txt"), boxes.astype(int))
    assert read_values_txt(results / "synthetic_time.txt").shape == (8,)

    assert run_cli([root, "--remove"], capsys)[0] == 0
    assert snapshot(root) == original


# ---------------------------------------------------------------------------------------------
# Generated OTB2013 dataset and experiment modules
# ---------------------------------------------------------------------------------------------

FAKE_EVALUATION = '''
import os


class Sequence:
    def __init__(self, name, frames, dataset, ground_truth_rect, object_class=None):
        self.name, self.frames, self.dataset = name, frames, dataset
        self.ground_truth_rect, self.object_class = ground_truth_rect, object_class


class SequenceList(list):
    pass


class Settings:
    otb_path = os.environ["FAKE_OTB_PATH"]
    otb2013_anno_path = os.environ.get("FAKE_ANNO_PATH", "")
    results_path = os.environ.get("FAKE_RESULTS_PATH", "")


class BaseDataset:
    def __init__(self):
        self.env_settings = Settings()
'''

FAKE_EVALUATION_INIT = '''
import os


class Tracker(tuple):
    def __new__(cls, name, parameter_name):
        tracker = super().__new__(cls, (name, parameter_name))
        tracker.results_dir = os.path.join(os.environ["FAKE_RESULTS_PATH"], name, parameter_name)
        return tracker


class _Sequence:
    def __init__(self, name, n_frames):
        self.name, self.frames = name, [str(i) for i in range(n_frames)]


def get_dataset(*names):
    """OTB-100 stand-in: 'Jogging-1' with 5 frames, 'Jogging-2' with 4."""
    return [_Sequence("Jogging-1", 5), _Sequence("Jogging-2", 4)] if names == ("otb",) else []
'''

DATASET_PROBE = '''
import json
from pytracking.evaluation.otb2013dataset import OTB2013Dataset
from pytracking.experiments import siamot

sequences = OTB2013Dataset().get_sequence_list()
trackers, dataset = siamot.otb2013_all()
print(json.dumps({
    "pair": siamot.otb2013_mobilenet_v2()[0],
    "names": [s.name for s in sequences],
    "frames": {s.name: s.frames for s in sequences},
    "gt": {s.name: s.ground_truth_rect.tolist() for s in sequences},
    "classes": {s.name: s.object_class for s in sequences},
    "iv": [s.name for s in OTB2013Dataset("IV").get_sequence_list()],
    "trackers": trackers, "dataset": [s.name for s in dataset],
    "otb": [s.name for s in siamot.otb_all()[1]],
}))
'''


def _rows(rows: list[list[int]], delimiters: str = ",") -> str:
    return "".join(delimiters[i % len(delimiters)].join(str(v) for v in row) + "\n" for i, row in enumerate(rows))


def test_generated_otb2013_dataset_builds_pytracking_sequences(tmp_path, capsys):
    """The generated module lists SiamOT's OTB2013 targets that are on disk, boxes 1-based as in the files."""
    root = make_tree(tmp_path / "checkout")
    (root / "pytracking" / "evaluation" / "__init__.py").write_text(FAKE_EVALUATION_INIT)
    (root / "pytracking" / "evaluation" / "data.py").write_text(FAKE_EVALUATION)
    otb = tmp_path / "otb"
    # Three of the 51 targets on disk (their first and last frames): Jogging-1/-2 share a folder,
    # David is evaluated on frames 300-770. Deer has ground truth but no frames.
    for folder, frames in (("Jogging", (1, 307)), ("David", (300, 770)), ("Deer", ())):
        (otb / folder / "img").mkdir(parents=True)
        for number in frames:
            (otb / folder / "img" / f"{number:04d}.jpg").write_bytes(b"")
    (otb / "Deer" / "groundtruth_rect.txt").write_text(_rows([[1, 1, 9, 9]] * 71))
    (otb / "Jogging" / "groundtruth_rect.1.txt").write_text(_rows([[10 + i, 20, 5, 6] for i in range(307)], ",\t "))
    (otb / "Jogging" / "groundtruth_rect.2.txt").write_text(_rows([[1, 1, 3, 3]] * 307))
    (otb / "David" / "groundtruth_rect.txt").write_text(_rows([[n, n, 4, 4] for n in range(1, 771)]))  # whole video
    anno = tmp_path / "anno"
    anno.mkdir()
    (anno / "JOGGING-2.txt").write_text(_rows([[7, 7, 2, 2]] * 307))  # official name is jogging-2
    # Result files of another dataset's targets of the same names in pytracking's results folder.
    results = tmp_path / "results"
    (results / "siamot" / "mobilenet_v2").mkdir(parents=True)
    (results / "siamot" / "mobilenet_v2" / "Jogging-1.txt").write_text("1\t1\t2\t2\n" * 5)
    (results / "siamot" / "mobilenet_v2" / "Jogging-2.txt").write_text("1\t1\t2\t2\n" * 307)
    checkout = integrate.find_checkout(root)
    integrate.apply(integrate.plan_integrate(checkout, integrate.desired_files(checkout, ["mobilenet_v2",
                                                                                         "mobilenet_v2_baseline"])))

    env = tree_env(root, FAKE_OTB_PATH=str(otb), FAKE_ANNO_PATH=str(anno), FAKE_RESULTS_PATH=str(results))
    result = subprocess.run([sys.executable, "-c", DATASET_PROBE], cwd=root, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    assert out["names"] == ["David", "Jogging-1", "Jogging-2"]  # SiamOT's table order
    # The absent targets: one line (per list built), the others run.
    left_out = [line for line in result.stderr.splitlines() if line.startswith("OTB2013:")]
    assert left_out and left_out[0].startswith(f"OTB2013: 48 of 51 targets have no frames or ground truth under "
                                               f"{otb} and are left out: Basketball, Bolt, ")
    assert "Deer" in left_out[0].split(": ")[-1].split(", ")
    # Result files of the other dataset are named, in both directions (pytracking's runner would skip
    # those sequences and keep the boxes); files that fit are not.
    warnings = "\n".join(line for line in result.stderr.splitlines() if line.startswith("warning:"))
    assert "Jogging-1.txt (5 rows, 307 frames)" in warnings  # OTB2013 lists
    assert "Jogging-2.txt (307 rows, 4 frames)" in warnings  # otb_all on OTB-100
    assert "(307 rows, 307 frames)" not in warnings and "(5 rows, 5 frames)" not in warnings
    # Frames 300-770 of a whole-video file: rows selected, 1-based as in the file (pytracking's convention).
    assert out["frames"]["David"] == [f"{otb}/David/img/{n:04d}.jpg" for n in range(300, 771)]
    assert out["gt"]["David"][0] == [300, 300, 4, 4] and out["gt"]["David"][-1] == [770, 770, 4, 4]
    assert out["gt"]["Jogging-1"][:3] == [[10, 20, 5, 6], [11, 20, 5, 6], [12, 20, 5, 6]]
    # The official annotation (matched case-insensitively) wins over the folder's file.
    assert out["gt"]["Jogging-2"] == [[7, 7, 2, 2]] * 307
    assert out["classes"] == {"David": "face", "Jogging-1": "person", "Jogging-2": "person"}
    assert out["iv"] == ["David"]
    assert out["trackers"] == [["siamot", "mobilenet_v2"], ["siamot", "mobilenet_v2_baseline"]]
    assert out["pair"] == out["trackers"] and out["dataset"] == out["names"]
    assert out["otb"] == ["Jogging-1", "Jogging-2"]


SUBSET_PROBE = '''
import json
from pytracking.evaluation.otb2013dataset import OTB2013Dataset

sequences = OTB2013Dataset().get_sequence_list()
print(json.dumps({s.name: {"frames": s.frames, "gt": s.ground_truth_rect.tolist()} for s in sequences}))
'''


def test_generated_otb2013_dataset_matches_siamot_loader_on_real_subset(tmp_path, otb2013_dir):
    """pytracking (through the generated module) and SiamOT's toolkit see the same frames, and the same
    boxes in their own conventions: 1-based as in the files (pytracking), 0-based (SiamOT)."""
    from evaluation.datasets.otb import OTB2013_ENTRIES, otb2013_dataset
    from evaluation.settings import Settings

    anno = otb2013_dir / "annotations" / "cvpr13_anno"
    entries = [e for e in OTB2013_ENTRIES if (otb2013_dir / e.folder / "img").is_dir()]
    if not entries or not anno.is_dir():
        pytest.skip(f"no OTB2013 sequences or annotations under {otb2013_dir}")
    root = make_tree(tmp_path / "checkout")
    (root / "pytracking" / "evaluation" / "data.py").write_text(FAKE_EVALUATION)
    checkout = integrate.find_checkout(root)
    integrate.apply(integrate.plan_integrate(checkout, integrate.desired_files(checkout, ["mobilenet_v2"])))
    env = tree_env(root, FAKE_OTB_PATH=str(otb2013_dir), FAKE_ANNO_PATH=str(anno))
    result = subprocess.run([sys.executable, "-c", SUBSET_PROBE], cwd=root, env=env, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    theirs = json.loads(result.stdout)
    ours = otb2013_dataset(Settings(otb2013_path=str(otb2013_dir), otb2013_anno_path=str(anno)))
    assert sorted(theirs) == sorted(e.name for e in entries)
    for name, sequence in theirs.items():
        assert sequence["frames"] == [str(Path(f)) for f in ours[name].frames], name
        np.testing.assert_allclose(sequence["gt"], ours[name].ground_truth_rect + [1, 1, 0, 0], err_msg=name)


# ---------------------------------------------------------------------------------------------
# Result files: either side reads the other's
# ---------------------------------------------------------------------------------------------

def test_result_files_interoperate_with_pytracking(tmp_path):
    boxes = np.array([[10.25, 20.5, 30.75, 40.0], [11.0, 21.333, 29.5, 39.25]])
    ours = tmp_path / "ours.txt"
    write_boxes_txt(ours, boxes)
    # pytracking reads result files with numpy, tab-delimited floats.
    np.testing.assert_allclose(np.loadtxt(ours, delimiter="\t", dtype=np.float64), np.round(boxes, 2))
    times = tmp_path / "ours_time.txt"
    write_values_txt(times, [0.01, 0.0205])
    np.testing.assert_allclose(np.loadtxt(times, delimiter="\t", dtype=np.float64), [0.01, 0.0205])

    # pytracking writes integer boxes (truncated) and float times, tab-delimited.
    theirs = tmp_path / "theirs.txt"
    np.savetxt(theirs, boxes.astype(int), delimiter="\t", fmt="%d")
    np.testing.assert_array_equal(read_boxes_txt(theirs), boxes.astype(int).astype(np.float64))
    their_times = tmp_path / "theirs_time.txt"
    np.savetxt(their_times, np.array([0.5, 0.25]), delimiter="\t", fmt="%f")
    np.testing.assert_allclose(read_values_txt(their_times), [0.5, 0.25])
    # Comma-delimited files (pytracking's loaders accept them too).
    comma = tmp_path / "comma.txt"
    comma.write_text("1,2,3,4\n5,6,7,8\n")
    np.testing.assert_array_equal(read_boxes_txt(comma), [[1, 2, 3, 4], [5, 6, 7, 8]])


# ---------------------------------------------------------------------------------------------
# Registering otb2013 in pytracking's evaluation/datasets.py
# ---------------------------------------------------------------------------------------------

# The shape of pytracking's datasets.py (which, like this text, ends without a newline).
DATASETS_PY = '''from collections import namedtuple

DatasetInfo = namedtuple("DatasetInfo", ["module", "class_name", "kwargs"])
pt = "pytracking.evaluation.%sdataset"
dataset_dict = dict(
    otb=DatasetInfo(module=pt % "otb", class_name="OTBDataset", kwargs=dict()),
)


def load_dataset(name):
    return dataset_dict[name]'''


def tree_with_datasets(root: Path, text: str = DATASETS_PY) -> Path:
    make_tree(root)
    datasets = root / "pytracking" / "evaluation" / "datasets.py"
    datasets.write_text(text)
    datasets.chmod(0o640)
    return datasets


def registered(datasets: Path) -> dict:
    namespace: dict = {}
    exec(compile(datasets.read_text(), str(datasets), "exec"), namespace)
    return namespace["dataset_dict"]


def test_otb2013_is_registered_in_datasets_py_and_removed_byte_for_byte(tmp_path, capsys):
    datasets = tree_with_datasets(tmp_path / "checkout")
    root = tmp_path / "checkout"
    original = snapshot(root)
    code, out, _ = run_cli([root], capsys)
    assert code == 0 and "patch            pytracking/evaluation/datasets.py" in out
    assert "--dataset_name otb2013" in out
    entry = registered(datasets)["otb2013"]
    assert (entry.module, entry.class_name) == ("pytracking.evaluation.otb2013dataset", "OTB2013Dataset")
    assert datasets.read_text() == DATASETS_PY + compat.DATASET_REGISTRATION
    assert datasets.stat().st_mode & 0o7777 == 0o640
    record = json.loads((root / "pytracking" / integrate.MANIFEST_NAME).read_text())["files"]["evaluation/datasets.py"]
    assert record["appended"] == compat.DATASET_REGISTRATION
    patched = snapshot(root)
    assert run_cli([root], capsys)[1].count("nothing changed") == 1
    assert snapshot(root) == patched

    code, out, _ = run_cli([root, "--remove"], capsys)
    assert code == 0 and "restore" in out
    assert snapshot(root) == original


def test_registration_is_taken_out_after_pytracking_changed_its_file(tmp_path, capsys):
    datasets = tree_with_datasets(tmp_path / "checkout")
    root = tmp_path / "checkout"
    run_cli([root], capsys)
    upstream = "# a newer pytracking\n" + DATASETS_PY
    datasets.write_text("# a newer pytracking\n" + datasets.read_text())  # e.g. git pull, above our lines
    code, out, _ = run_cli([root, "--remove", "--dry-run"], capsys)
    assert code == 0 and "would unpatch" in out
    code, out, err = run_cli([root, "--remove"], capsys)
    assert code == 0 and err == ""
    assert datasets.read_text() == upstream
    assert not (root / "pytracking" / integrate.MANIFEST_NAME).exists()


def test_remove_keeps_a_line_added_after_the_registration(tmp_path, capsys):
    datasets = tree_with_datasets(tmp_path / "checkout")
    root = tmp_path / "checkout"
    run_cli([root], capsys)
    datasets.write_text(datasets.read_text() + "dataset_dict['mine'] = None  # added by hand\n")
    for flags in ([], ["--force"]):  # nothing to force: only SiamOT's lines are taken out
        if flags:
            run_cli([root], capsys)
            datasets.write_text(datasets.read_text() + "dataset_dict['mine'] = None  # added by hand\n")
        code, out, err = run_cli([root, "--remove", *flags], capsys)
        assert code == 0 and "unpatch" in out and err == ""
        assert datasets.read_text() == DATASETS_PY + "dataset_dict['mine'] = None  # added by hand\n"
        datasets.write_text(DATASETS_PY)
    run_cli([root], capsys)
    datasets.write_text(datasets.read_text().replace("otb2013", "otb2013x"))  # SiamOT's own lines edited
    code, _, err = run_cli([root, "--remove"], capsys)
    assert code == 1 and "SiamOT's lines in it were edited" in err
    code, _, err = run_cli([root, "--remove", "--force"], capsys)
    assert code == 0 and "deleting or restoring" in err and datasets.read_text() == DATASETS_PY


def test_hand_registered_otb2013_is_left_alone(tmp_path, capsys):
    text = DATASETS_PY.replace("    otb=", '    otb2013=DatasetInfo(module="mine", class_name="Mine", kwargs=dict()),\n'
                                          "    otb=")
    datasets = tree_with_datasets(tmp_path / "checkout", text)
    root = tmp_path / "checkout"
    code, out, _ = run_cli([root], capsys)
    assert code == 0 and "note: pytracking/evaluation/datasets.py already registers otb2013" in out
    assert datasets.read_text() == text
    assert "evaluation/datasets.py" not in json.loads((root / "pytracking" / integrate.MANIFEST_NAME).read_text())["files"]


def test_missing_local_settings_are_named_once_present_they_are_not(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    code, out, _ = run_cli([root, "--dry-run"], capsys)
    assert code == 0
    assert ("note: for the otb2013 dataset, add to pytracking/evaluation/local.py (local_env_settings): "
            "settings.otb2013_path = '...'; settings.otb2013_anno_path = '...'") in out
    (root / "pytracking" / "evaluation" / "local.py").write_text(
        "def local_env_settings():\n    settings.otb2013_path = '/d'\n    settings.otb2013_anno_path = '/a'\n")
    assert "local.py" not in run_cli([root, "--dry-run"], capsys)[1]


def test_dry_run_remove_with_an_edited_shim_lists_only_the_refusal(tmp_path, capsys):
    root = make_tree(tmp_path / "checkout")
    run_cli([root], capsys)
    shim = root / "pytracking" / "parameter" / "siamot" / "alexnet.py"
    shim.write_text(shim.read_text() + "# mine\n")
    edited = snapshot(root)
    code, out, err = run_cli([root, "--remove", "--dry-run"], capsys)
    assert code == 1
    assert "would delete" not in out and "would refuse     pytracking/parameter/siamot/alexnet.py" in out
    assert err.startswith("error: would refuse to change 1 file(s)") and "--force to delete them anyway" in err
    code, _, err = run_cli([root, "--remove"], capsys)
    assert code == 1 and "re-run with --force to delete them anyway" in err and "replace them" not in err
    assert snapshot(root) == edited


def test_pytracking_parameters_pin_one_torch_thread_unless_set():
    # pytracking's runner pins no thread count: the shims' parameters use one thread, while
    # SiamOT's own parameter files leave the caller's setting (its runners pin --torch-threads).
    from parameter.siamot import mobilenet_v2

    assert mobilenet_v2.parameters().settings.torch_threads is None
    assert compat.load_parameters("mobilenet_v2").settings.torch_threads == 1
