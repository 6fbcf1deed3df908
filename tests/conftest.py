"""Shared fixtures: the read-only data beside the repository, and per-test settings."""
from __future__ import annotations

from pathlib import Path

import pytest
import torch

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED = (REPO_ROOT / ".." / "shared").resolve()

# Two CI cores: keep torch from oversubscribing them in every test process.
torch.set_num_threads(2)


@pytest.fixture
def shared_dir() -> Path:
    """``../shared`` next to the repository; skips the test where it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"shared data not found at {SHARED}")
    return SHARED


@pytest.fixture
def otb2013_dir(shared_dir: Path) -> Path:
    path = shared_dir / "otb2013"
    if not path.is_dir():
        pytest.skip(f"OTB2013 data not found at {path}")
    return path


@pytest.fixture(scope="session")
def model_cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One converted/quantised-model cache for the whole session (never the user's ``~/.cache``)."""
    return tmp_path_factory.mktemp("siamot_model_cache")


@pytest.fixture(autouse=True)
def isolated_settings(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch,
                      model_cache_dir: Path) -> Path:
    """Every test gets its own settings file and results/plots folders, and the session's model cache
    (never the user's)."""
    base = tmp_path_factory.mktemp("siamot_home")
    (base / "settings.toml").write_text("")  # every default; SIAMOT_SETTINGS must name a file that exists
    monkeypatch.setenv("SIAMOT_SETTINGS", str(base / "settings.toml"))
    monkeypatch.setenv("SIAMOT_RESULTS_PATH", str(base / "results"))
    monkeypatch.setenv("SIAMOT_PLOTS_PATH", str(base / "plots"))
    monkeypatch.setenv("SIAMOT_CACHE_DIR", str(model_cache_dir))
    return base
