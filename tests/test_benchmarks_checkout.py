"""Each ``benchmarks/`` script measures the checkout that holds it: run from a second checkout (a
worktree of an older commit, to time it beside the current one), it imports that checkout's
packages, not the ones the environment installed (an editable install points at one checkout)."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
SCRIPTS = sorted(p.name for p in BENCHMARKS.glob("*.py"))
PACKAGES = ("evaluation", "ltr", "pytracking_siamot")


@pytest.fixture(scope="module")
def other_checkout(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A checkout whose packages refuse to import, with this checkout's benchmark scripts."""
    root = tmp_path_factory.mktemp("checkout")
    shutil.copytree(BENCHMARKS, root / "benchmarks", ignore=shutil.ignore_patterns("__pycache__", "out"))
    for package in PACKAGES:
        (root / package).mkdir()
        (root / package / "__init__.py").write_text(f"raise ImportError('{package} of the other checkout')\n")
    return root


def test_there_are_scripts_to_check() -> None:
    assert "speed.py" in SCRIPTS and "training_event.py" in SCRIPTS


@pytest.mark.parametrize("script", SCRIPTS)
def test_a_script_imports_the_packages_of_its_own_checkout(script: str, other_checkout: Path) -> None:
    done = subprocess.run([sys.executable, str(other_checkout / "benchmarks" / script), "--help"],
                          capture_output=True, text=True, timeout=120, cwd=other_checkout.parent)
    assert done.returncode != 0
    assert "of the other checkout" in done.stderr, done.stderr[-2000:]
