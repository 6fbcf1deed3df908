"""Settings file: created only when missing, never overwritten, env overrides, clear errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from evaluation.settings import SettingsError, init_settings, load_settings, settings_file


def test_init_creates_once_and_never_overwrites(tmp_path: Path) -> None:
    path = tmp_path / "cfg" / "settings.toml"
    created_path, created = init_settings(path, detected={"otb2013_path": "/data/otb"})
    assert created and created_path == path
    assert load_settings(path, environ={}).otb2013_path == "/data/otb"
    path.write_text(path.read_text().replace("/data/otb", "/mine"))
    _, created_again = init_settings(path)
    assert not created_again
    assert load_settings(path, environ={}).otb2013_path == "/mine"


def test_broken_file_names_file_and_line_and_is_kept(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    broken = 'results_path = "/r"\notb_path = /no/quotes\n'
    path.write_text(broken)
    with pytest.raises(SettingsError) as info:
        load_settings(path, environ={})
    assert str(path) in str(info.value) and "line 2" in str(info.value)
    with pytest.raises(SettingsError):
        init_settings(path)
    assert path.read_text() == broken


def test_unknown_key_and_wrong_type(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('result_path = "/r"\n')
    with pytest.raises(SettingsError, match="unknown key 'result_path'"):
        load_settings(path, environ={})
    path.write_text("results_path = 3\n")
    with pytest.raises(SettingsError, match="must be a string"):
        load_settings(path, environ={})


def test_environment_overrides_and_unset_key_message(tmp_path: Path) -> None:
    path = tmp_path / "settings.toml"
    path.write_text('results_path = "/from/file"\n')
    settings = load_settings(path, environ={"SIAMOT_RESULTS_PATH": "/from/env"})
    assert settings.results_path == "/from/env"
    with pytest.raises(SettingsError, match="SIAMOT_OTB_PATH"):
        settings.path("otb_path")


def test_settings_file_location_from_env(isolated_settings: Path) -> None:
    assert settings_file() == isolated_settings / "settings.toml"
