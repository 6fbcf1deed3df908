"""Per-user settings: one TOML file plus environment-variable overrides.

File: ``$SIAMOT_SETTINGS`` if set, else ``$XDG_CONFIG_HOME/siamot/settings.toml``
(``~/.config/siamot/settings.toml``). It is created from the defaults only when missing
(``python -m evaluation.settings init``, run by install.sh) and never overwritten: a broken
file raises ``SettingsError`` naming the file and line.

Every key can be overridden by ``SIAMOT_<KEY>`` in the environment (e.g.
``SIAMOT_RESULTS_PATH=/tmp/r``). ``python -m evaluation.settings show`` prints the values in force.
"""
from __future__ import annotations

import argparse
import os
import sys
import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping

from evaluation.cli_errors import EXIT_OK, run_cli
from evaluation.cli_help import PlainHelpFormatter


class SettingsError(ValueError):
    """The settings file cannot be read; the message names the file (and line)."""


@dataclass(frozen=True)
class Settings:
    """Paths the toolkit reads and writes. Empty string = not set.

    Attributes:
        results_path: where tracker results go (``<results>/<tracker>/<param>[_<runid>]``).
        plots_path: where analysis plots, tables and debug videos go.
        otb2013_path: folder with OTB2013 sequences (``<Seq>/img``, ``groundtruth_rect.txt``).
        otb2013_anno_path: folder with the official ``cvpr13_anno/<name>.txt`` annotations (optional).
        otb_path: folder with OTB-100 sequences (pytracking's ``otb_path``).
        tc128_path: Temple-Color 128 (``<Seq>/img``, ``<Seq>_gt.txt``, ``<Seq>_frames.txt``).
        uav123_path: UAV123 and UAV20L (``data_seq/UAV123/<seq>``, ``anno/UAV123``, ``anno/UAV20L``).
        uav123_10fps_path: UAV123@10fps (``data_seq/UAV123_10fps/<seq>``, ``anno/UAV123_10fps``).
        nfs_path: Need for Speed (``<seq>/30/<seq>/*.jpg`` with ``<seq>/30/<seq>.txt``, or re-organised).
        lasot_path: LaSOT (``<class>/<class>-N/img``, ``groundtruth.txt``, occlusion/out-of-view flags).
        lasot_ext_path: the LaSOT extension's 150 sequences (same layout).
        got10k_path: GOT-10k, holding ``val/`` and ``test/`` (``list.txt``, ``<seq>/%08d.jpg``).
        trackingnet_path: TrackingNet, holding ``TEST/frames/<seq>`` and ``TEST/anno/<seq>.txt``.
        vot_path: a VOT short-term stack (``list.txt``, ``<seq>/color/%08d.jpg`` or ``<seq>/%08d.jpg``).
        dtb70_path: DTB70 (``<Seq>/img/%05d.jpg``, ``<Seq>/groundtruth_rect.txt``).
        peer_results_path: folder of published raw results (``<Tracker>/<Target>.txt``).
        nanotrack_backbone, nanotrack_head: ONNX files for ``cv2.TrackerNano``.
        vittrack_net: ONNX file for ``cv2.TrackerVit``.
        network_path: folder that a relative ``weights_path`` (a SiamOT parameter, e.g.
            ``--set weights_path=my_alexnet.pth``) is resolved in; unset: the working directory.
    """

    results_path: str = "~/siamot/results"
    plots_path: str = "~/siamot/plots"
    otb2013_path: str = ""
    otb2013_anno_path: str = ""
    otb_path: str = ""
    tc128_path: str = ""
    uav123_path: str = ""
    uav123_10fps_path: str = ""
    nfs_path: str = ""
    lasot_path: str = ""
    lasot_ext_path: str = ""
    got10k_path: str = ""
    trackingnet_path: str = ""
    vot_path: str = ""
    dtb70_path: str = ""
    peer_results_path: str = ""
    nanotrack_backbone: str = ""
    nanotrack_head: str = ""
    vittrack_net: str = ""
    network_path: str = ""

    def path(self, key: str) -> Path:
        """The setting ``key`` as an expanded path; raises ``SettingsError`` when it is not set."""
        value = getattr(self, key)
        if not value:
            if os.environ.get(env_name(key)) is not None:
                raise SettingsError(f"setting '{key}' is empty because {env_name(key)} is set to an empty value in "
                                    f"the environment: unset it or give it a path")
            raise SettingsError(f"setting '{key}' is not set: add it to {settings_file()} "
                                f"or set {env_name(key)}")
        return Path(value).expanduser()


def env_name(key: str) -> str:
    return f"SIAMOT_{key.upper()}"


def settings_file() -> Path:
    explicit = os.environ.get("SIAMOT_SETTINGS")
    if explicit:
        return Path(explicit).expanduser()
    config_home = os.environ.get("XDG_CONFIG_HOME") or "~/.config"
    return Path(config_home).expanduser() / "siamot" / "settings.toml"


def _toml_value(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def default_text(detected: Mapping[str, str] | None = None) -> str:
    """The text of a new settings file: every key, documented, with detected values filled in."""
    values = replace(Settings(), **dict(detected or {}))
    lines = ["# SiamOT settings. Edit freely; SIAMOT_<KEY> environment variables override any key.",
             "# Empty string = not set. '~' is expanded.", ""]
    for f in fields(Settings):
        lines.append(f"{f.name} = {_toml_value(getattr(values, f.name))}")
    return "\n".join(lines) + "\n"


def detect_shared(repo_root: Path) -> dict[str, str]:
    """Data that sits beside the repository in ``../shared`` (this workplace's layout)."""
    shared = (repo_root / ".." / "shared").resolve()
    found: dict[str, str] = {}
    candidates = {
        "otb2013_path": shared / "otb2013",
        "otb2013_anno_path": shared / "otb2013" / "annotations" / "cvpr13_anno",
        "peer_results_path": shared / "otb2013" / "peer_results",
        "otb_path": shared / "otb100",
        "uav123_10fps_path": shared / "uav123_10fps",
        "dtb70_path": shared / "dtb70",
        "vot_path": shared / "vot" / "2017",
        "nanotrack_backbone": shared / "models" / "nanotrack" / "nanotrackv2_nanotrack_backbone_sim.onnx",
        "nanotrack_head": shared / "models" / "nanotrack" / "nanotrackv2_nanotrack_head_sim.onnx",
        "vittrack_net": shared / "models" / "vittrack" / "vitTracker.onnx",
    }
    for key, path in candidates.items():
        if path.exists():
            found[key] = str(path)
    return found


def init_settings(path: Path | None = None, detected: Mapping[str, str] | None = None) -> tuple[Path, bool]:
    """Create the settings file from defaults if it is missing. Returns (path, created)."""
    path = path or settings_file()
    if path.exists():
        load_settings(path)  # validate, never rewrite
        return path, False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(default_text(detected))
    tmp.replace(path)
    return path, True


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the settings file (defaults when it is missing) and apply ``SIAMOT_<KEY>`` overrides."""
    explicit = path is None and bool(os.environ.get("SIAMOT_SETTINGS"))
    path = path or settings_file()
    environ = os.environ if environ is None else environ
    values: dict[str, str] = {}
    if explicit and not path.exists():
        what = "a broken or looping symlink" if os.path.lexists(path) else "not found"
        raise SettingsError(f"SIAMOT_SETTINGS names {path}, which is {what} (unset SIAMOT_SETTINGS, fix the "
                            f"path, or create the file with: python -m evaluation.settings init)")
    if path.exists():
        if not path.is_file():
            raise SettingsError(f"{path} is not a file (the settings file must be a TOML file; "
                                f"SIAMOT_SETTINGS names another)")
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8-sig"))  # a BOM (some Windows editors) is not TOML
        except tomllib.TOMLDecodeError as exc:
            raise SettingsError(f"{path}: {exc} (fix or delete the file; it is never overwritten)") from exc
        except UnicodeDecodeError as exc:
            raise SettingsError(f"{path}: not UTF-8 text (byte {exc.start}); save it as UTF-8") from exc
        except OSError as exc:
            raise SettingsError(f"{path}: cannot read the settings file: {exc.strerror or exc}") from exc
        known = {f.name for f in fields(Settings)}
        for key, value in data.items():
            if key not in known:
                raise SettingsError(f"{path}: unknown key '{key}' (known: {', '.join(sorted(known))})")
            if not isinstance(value, str):
                raise SettingsError(f"{path}: '{key}' must be a string, got {type(value).__name__}")
            values[key] = value.strip()
    for f in fields(Settings):
        override = environ.get(env_name(f.name))
        if override is not None:
            # Every setting is a path: stray spaces around it (a pasted value) would name a folder of
            # spaces in the working directory; a value of spaces only is empty, i.e. not set.
            values[f.name] = override.strip()
    return replace(Settings(), **values)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.settings", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    init = sub.add_parser("init", help="create the settings file from defaults if it is missing")
    init.add_argument("--no-detect", action="store_true", help="do not fill in data found in ../shared")
    sub.add_parser("show", help="print the settings file's path and the values in force")
    args = parser.parse_args(argv)
    return run_cli(lambda: _main(args))


def _main(args: argparse.Namespace) -> int:
    if args.command == "init":
        repo_root = Path(__file__).resolve().parents[1]
        path, created = init_settings(detected=None if args.no_detect else detect_shared(repo_root))
        print(f"settings: {'created' if created else 'kept existing'} {path}")
    else:
        print(f"# {settings_file()}")
        settings = load_settings()
        for f in fields(Settings):
            print(f"{f.name} = {getattr(settings, f.name)!r}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
