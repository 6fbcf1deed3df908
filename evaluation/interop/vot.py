"""Registered trackers in the VOT toolkit (``vot-toolkit`` 0.9.0 through TraX): workspace set-up.

    python -m evaluation.interop.vot init WORKSPACE --tracker siamot:mobilenet_v2 [--tracker opencv:mil]
                                         [--stack NAME] [--sequences DIR] [--override FIELD=VALUE ...]

writes, in WORKSPACE (created when missing):

- ``trackers.ini``: one entry per ``NAME:PARAM`` (identifier ``NAME_PARAM``, or ``NAME_PARAM_<tag>`` with
  overrides), protocol ``traxpython``, running ``evaluation.interop.trax_entry`` with this install's
  interpreter and the repository on its path; the tracker is named by environment variables (see
  :mod:`evaluation.interop.trax_entry`). Entries of other trackers already in the file are kept; ours are
  replaced.
- with ``--stack`` or ``--sequences``: ``config.yaml`` (the workspace configuration ``vot`` reads:
  ``registry: [./trackers.ini]``, the stack, and the sequences folder). ``--sequences DIR`` points the
  workspace at a local folder in VOT's layout (``list.txt``; ``<seq>/sequence``, ``<seq>/color/%08d.jpg``,
  ``<seq>/groundtruth.txt``): the toolkit never downloads a dataset when that folder has ``list.txt``.
  Without ``--stack``, ``stack.yaml`` is written beside it (:func:`offline_stack`): the unsupervised (OPE)
  experiment ``baseline`` (average accuracy) and the supervised (reset) experiment ``supervised``
  (accuracy/robustness, EAO). With ``--stack NAME`` (one of the toolkit's: ``otb50``, ``otb100``,
  ``vot2013``, ``vot2018/shortterm``, ...) or a stack file, and no ``--sequences``, ``vot evaluate``
  downloads that stack's dataset into ``WORKSPACE/sequences``. A stack with experiments of the toolkit's
  ``supervised`` type is written to ``WORKSPACE/stack.yaml`` with those experiments given
  :data:`SUPERVISED_TYPE` (settings and analyses kept): vot-toolkit 0.9.0's own supervised experiment
  fails with every TraX tracker, :mod:`evaluation.interop.vot_supervised` says where and how it is
  worked around. That class is loaded by the ``vot`` program, so the toolkit must be installed in this
  environment (as ``pip install -r requirements.txt`` does) or see this repository on ``PYTHONPATH``.

    python -m evaluation.interop.vot test WORKSPACE [ID ...] [--sequence DIR]

runs ``vot test ID`` in WORKSPACE for every entry of ours in its ``trackers.ini`` (or the given IDs) and
prints ``ok: ID`` or ``error: ID: <the toolkit's reason>`` per entry (exit status 1 when any failed): the
toolkit's own ``vot test`` logs a failing tracker and still exits 0.

    python -m evaluation.interop.vot export WORKSPACE ID [--experiment baseline] [--out DIR]

writes a tracker's results of one experiment (the toolkit's text or binary trajectories) in got10k's
layout (``<seq>/<seq>_001.txt``, 0-based ``x,y,w,h``, NaN on the initialisation frame; ``<seq>_time.txt``)
under ``WORKSPACE/export/ID/EXPERIMENT``, for ``python -m evaluation.analyze --dataset vot --published
DIR:NAME`` (with ``vot_path`` set to the sequences folder).

Then, in WORKSPACE::

    vot test siamot_mobilenet_v2                  # TraX check on the toolkit's synthetic sequence
    vot evaluate siamot_mobilenet_v2              # runs the stack's experiments -> results/<ID>/<experiment>/
    vot analysis siamot_mobilenet_v2 --name NAME  # -> analysis/NAME.json
    vot report siamot_mobilenet_v2 --name NAME    # -> reports/NAME/report.html

Bad input (a WORKSPACE that is a file, an unknown tracker or parameter, a missing sequences folder, an
existing ``config.yaml`` or ``stack.yaml`` that ``--stack``/``--sequences`` would replace, an unreadable
stack file) is one ``error:`` line and exit status 2, with nothing written; Ctrl-C is exit status 130
(:mod:`evaluation.cli_errors`). The VOT toolkit itself is optional: ``init`` only writes files; it
says how to install the toolkit when the ``vot`` program is missing.
"""
from __future__ import annotations

import argparse
import configparser
import io
import json
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from evaluation.cli_errors import EXIT_BAD_INPUT, run_cli
from evaluation.cli_help import PlainHelpFormatter

EXIT_SETUP = EXIT_BAD_INPUT
REPO_ROOT = Path(__file__).resolve().parents[2]
ENTRY_MODULE = "evaluation.interop.trax_entry"
VOT_INSTALL = "pip install vot-toolkit==0.9.0 vot-trax==4.0.2 attributee==0.1.9"
#: Seconds the toolkit waits for one reply (the first includes loading the network).
TRAX_TIMEOUT_S = 300
#: The experiment type a stack gives the supervised (reset) experiment that runs over TraX (the toolkit's
#: own ``supervised`` cannot: see :mod:`evaluation.interop.vot_supervised`).
SUPERVISED_TYPE = "evaluation.interop.vot_supervised.SupervisedExperiment"


@dataclass(frozen=True)
class Entry:
    """One ``trackers.ini`` section: a registered tracker, its parameter name and overrides."""

    identifier: str
    tracker_name: str
    parameter_name: str
    overrides: dict[str, Any]
    label: str

    def section(self, python: str, repo_root: Path) -> dict[str, str]:
        """The section's keys (``configparser`` lower-cases keys; ``env_*`` become environment variables)."""
        from evaluation.interop.trax_entry import ENV_OVERRIDES, ENV_TRACKER

        keys = {
            "label": self.label,
            "protocol": "traxpython",
            "command": ENTRY_MODULE,
            "python": python,
            "paths": str(repo_root),
            "timeout": str(TRAX_TIMEOUT_S),
            f"env_{ENV_TRACKER.lower()}": f"{self.tracker_name}:{self.parameter_name}",
        }
        if self.overrides:
            keys[f"env_{ENV_OVERRIDES.lower()}"] = json.dumps(self.overrides, sort_keys=True)
        return keys


def parse_override(item: str) -> tuple[str, Any]:
    """``FIELD=VALUE`` with VALUE read as JSON when it parses (numbers, true/false), else a string."""
    field, sep, text = item.partition("=")
    if not sep or not field:
        raise ValueError(f"--override '{item}' must be FIELD=VALUE")
    try:
        return field, json.loads(text)
    except json.JSONDecodeError:
        return field, text


def make_entry(spec: str, overrides: dict[str, Any]) -> Entry:
    """The entry of ``NAME:PARAM``, checked against the registry (unknown names raise ``RegistryError``,
    unknown override fields ``ValueError``)."""
    from evaluation.settings import load_settings
    from evaluation.tracker import Tracker

    name, sep, parameter_name = spec.partition(":")
    if not (sep and name and parameter_name) or ":" in parameter_name:
        raise ValueError(f"--tracker '{spec}' must be NAME:PARAM (e.g. siamot:mobilenet_v2)")
    config = Tracker(name, parameter_name, overrides=overrides or None, settings=load_settings())
    identifier = f"{name}_{parameter_name}" + (f"_{config.variant}" if config.variant else "")
    identifier = re.sub(r"[^A-Za-z0-9_-]", "-", identifier)
    return Entry(identifier, name, parameter_name, dict(overrides), config.display_name)


def read_sequences(folder: Path) -> list[tuple[str, int]]:
    """``(name, frames)`` of the sequences listed in ``folder/list.txt`` (frames: ground-truth rows).

    Raises:
        FileNotFoundError: no folder, no ``list.txt``, or a listed sequence without ``groundtruth.txt``.
    """
    listing = folder / "list.txt"
    if not folder.is_dir():
        raise FileNotFoundError(f"sequences folder not found: {folder}")
    if not listing.is_file():
        raise FileNotFoundError(f"{folder} has no list.txt (VOT layout: list.txt naming one sequence folder "
                                f"per line)")
    sequences = []
    for name in (line.strip() for line in listing.read_text(encoding="utf-8").splitlines()):
        if not name:
            continue
        groundtruth = folder / name / "groundtruth.txt"
        if not groundtruth.is_file():
            raise FileNotFoundError(f"sequence '{name}' listed in {listing} has no {groundtruth}")
        rows = [line for line in groundtruth.read_text(encoding="utf-8").splitlines() if line.strip()]
        sequences.append((name, len(rows)))
    if not sequences:
        raise FileNotFoundError(f"{listing} lists no sequence")
    return sequences


def offline_stack(sequences: list[tuple[str, int]]) -> str:
    """``stack.yaml`` text for local sequences: two experiments.

    - ``baseline``: unsupervised (OPE), one run, the average-accuracy analysis (burn-in 1: the
      initialisation frame);
    - ``supervised``: the supervised (reset) experiment (:mod:`evaluation.interop.vot_supervised`, which
      vot-toolkit 0.9.0 runs over TraX), VOT's settings (one run per sequence, a failure when the overlap
      falls to 0, re-initialisation 5 frames later) and analyses: accuracy/robustness (burn-in 10 frames
      after each initialisation, sensitivity 30) and EAO, the mean of the toolkit's EAO curve over
      segment lengths 1 to one less than the longest local sequence (the whole curve after the
      initialisation frame; VOT chose its interval, 100 to 356 frames for VOT2018, from its own
      sequences' lengths, and the toolkit's score is NaN where the interval passes the curve's end).
    """
    names = ", ".join(name for name, _ in sequences)
    longest = max(frames for _, frames in sequences)
    return "\n".join([
        f"# Written by python -m evaluation.interop.vot init for the local sequences: {names}",
        "title: SiamOT offline stack (local sequences)",
        "experiments:",
        "  baseline:",
        "    type: unsupervised",
        "    repetitions: 1",
        "    analyses:",
        "      - type: average_accuracy",
        "        name: accuracy",
        "        burnin: 1",
        "  supervised:",
        f"    type: {SUPERVISED_TYPE}",
        "    repetitions: 1",
        "    skip_initialize: 5",
        "    analyses:",
        "      - type: supervised_average_ar",
        "        name: ar",
        "        sensitivity: 30",
        "      - type: supervised_eao_score",
        "        name: eao",
        "        low: 1",
        f"        high: {max(1, longest - 1)}",
        "",
    ])


def trackers_ini(existing: str, entries: list[Entry], python: str, repo_root: Path) -> str:
    """The new ``trackers.ini`` text: ``existing`` sections kept, ours replaced or added."""
    parser = configparser.ConfigParser(interpolation=None)
    if existing.strip():
        parser.read_string(existing)
    for entry in entries:
        if parser.has_section(entry.identifier):
            parser.remove_section(entry.identifier)
        parser.add_section(entry.identifier)
        for key, value in entry.section(python, repo_root).items():
            parser.set(entry.identifier, key, value)
    out = io.StringIO()
    parser.write(out)
    return out.getvalue()


def _yaml_string(value: str) -> str:
    return json.dumps(value)  # a JSON string is a YAML string


def plan_workspace(workspace: Path, entries: list[Entry], stack: str | None, sequences: Path | None,
                   python: str, repo_root: Path = REPO_ROOT) -> dict[Path, str]:
    """Every file ``init`` writes and its text, after all checks (nothing is written here).

    Raises:
        NotADirectoryError: ``workspace`` (or a parent) is a file.
        FileExistsError: ``config.yaml`` exists and ``stack``/``sequences`` would replace it, or
            ``stack.yaml`` exists and would be written (the offline stack, or a stack with supervised
            experiments: see :func:`runnable_stack`).
        FileNotFoundError: ``sequences`` is not a VOT sequences folder.
        ValueError: an existing ``trackers.ini`` or the stack file cannot be parsed.
    """
    for path in [workspace, *workspace.parents]:
        if path.exists() and not path.is_dir():
            raise NotADirectoryError(f"workspace {workspace}: {path} is a file, not a folder")
    files: dict[Path, str] = {}
    ini_path = workspace / "trackers.ini"
    existing = ini_path.read_text(encoding="utf-8") if ini_path.is_file() else ""
    try:
        files[ini_path] = trackers_ini(existing, entries, python, repo_root)
    except configparser.Error as exc:
        raise ValueError(f"{ini_path}: cannot parse the existing file: {exc}".replace("\n", " ")) from None
    if stack is None and sequences is None:
        return files
    config_path = workspace / "config.yaml"
    if config_path.exists():
        raise FileExistsError(f"{config_path} exists: remove it to write a new workspace configuration, or "
                              f"leave out --stack/--sequences to only update trackers.ini")
    lines = ["registry:", "- ./trackers.ini"]
    stack_path = workspace / "stack.yaml"
    if sequences is not None:
        listed = read_sequences(sequences)
        lines.append(f"sequences: {_yaml_string(str(sequences.resolve()))}")
        if stack is None:
            files[stack_path] = offline_stack(listed)
    if stack is not None:
        source = stack_file(stack, workspace)
        content = read_stack(source) if source is not None else {}
        if supervised_experiments(content):  # the toolkit's supervised type cannot run over TraX
            files[stack_path] = runnable_stack(content, stack)
        else:
            lines.append(f"stack: {_yaml_string(stack)}")
    if stack_path in files:
        if stack_path.exists():
            raise FileExistsError(f"{stack_path} exists: remove it (or move it elsewhere and name it with --stack) "
                                  f"to write the workspace's stack")
        lines.append('stack: "./stack.yaml"')
    files[config_path] = "\n".join(lines) + "\n"
    return files


def write_files(files: dict[Path, str]) -> None:
    """Write every file, or none: each goes to a temporary file first, then all are renamed."""
    staged: list[tuple[Path, Path]] = []
    created: list[Path] = []
    try:
        for path, text in files.items():
            if not path.parent.is_dir():
                missing = [p for p in [path.parent, *path.parent.parents] if not p.exists()]
                path.parent.mkdir(parents=True, exist_ok=True)
                created += missing
            temporary = path.with_name(f".{path.name}.tmp{os.getpid()}")
            temporary.write_text(text, encoding="utf-8")
            staged.append((temporary, path))
    except BaseException:
        for temporary, _ in staged:
            temporary.unlink(missing_ok=True)
        for folder in sorted(created, key=lambda p: len(p.parts), reverse=True):
            shutil.rmtree(folder, ignore_errors=True)
        raise
    for temporary, path in staged:
        os.replace(temporary, path)


def our_entries(workspace: Path) -> list[str]:
    """Identifiers of the ``trackers.ini`` sections that run :data:`ENTRY_MODULE`."""
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(workspace / "trackers.ini", encoding="utf-8")
    return [s for s in parser.sections() if parser.get(s, "command", fallback="").strip() == ENTRY_MODULE]


def vot_program() -> str | None:
    """The ``vot`` program beside this interpreter, else on ``PATH``; ``None`` when not installed."""
    beside = Path(sys.executable).parent / "vot"
    return str(beside) if beside.is_file() else shutil.which("vot")


_ANSI = re.compile(r"\x1b\[[0-9;]*m")
#: What ``vot test`` logs at the end of a successful session (the toolkit's spelling).
VOT_TEST_SUCCESS = "Test concluded successfuly"


def failure_reason(output: str) -> str:
    """One line from ``vot test``'s output saying why it failed: its last error-coloured line, else its last
    line that is not a TraX message."""
    lines = [line for line in output.splitlines() if line.strip() and not line.startswith("@@TRAX:")]
    errors = [line for line in lines if "\x1b[31m" in line]
    chosen = (errors or lines or ["no output"])[-1]
    return _ANSI.sub("", chosen).strip()


def run_vot_test(workspace: Path, identifier: str, timeout_s: float, sequence: Path | None = None) -> str | None:
    """``None`` when ``vot test identifier`` (run in ``workspace``; on ``sequence``, a VOT sequence folder,
    instead of the toolkit's synthetic one) concludes successfully, else the reason."""
    program = vot_program()
    if program is None:
        return f"the VOT toolkit is not installed: {VOT_INSTALL}"
    command = [program, "test", identifier] + (["--sequence", str(sequence)] if sequence else [])
    try:
        done = subprocess.run(command, cwd=workspace, capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"vot test did not finish in {timeout_s:g} s"
    output = done.stdout + done.stderr
    if done.returncode == 0 and VOT_TEST_SUCCESS in _ANSI.sub("", output):
        return None
    return failure_reason(output)


def test(args: argparse.Namespace) -> int:
    """``vot test`` for each entry; one line per entry; exit status 1 when any failed."""
    workspace = args.workspace.expanduser().absolute()
    if not (workspace / "trackers.ini").is_file():
        print(f"error: {workspace} has no trackers.ini (write it with: python -m evaluation.interop.vot init "
              f"{args.workspace} --tracker NAME:PARAM)", file=sys.stderr)
        return EXIT_SETUP
    identifiers = args.ids or our_entries(workspace)
    if not identifiers:
        print(f"error: {workspace / 'trackers.ini'} has no entry running {ENTRY_MODULE}", file=sys.stderr)
        return EXIT_SETUP
    failed = False
    for identifier in identifiers:
        reason = run_vot_test(workspace, identifier, args.timeout,
                              args.sequence.expanduser().absolute() if args.sequence else None)
        if reason is None:
            print(f"ok: {identifier}")
        else:
            failed = True
            print(f"error: {identifier}: {reason}", file=sys.stderr)
    return 1 if failed else 0


# --------------------------------------------------------------------------- results back home

_SPECIAL, _RECTANGLE, _POLYGON, _MASK, _POINT = 0, 1, 2, 3, 4


def _polygon_xywh(values: list[float]) -> list[float]:
    xs, ys = values[0::2], values[1::2]
    return [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)]


def _read_binary_trajectory(data: bytes, path: Path) -> list[list[float]]:
    """The toolkit's binary trajectory: ``<hI`` (format 1, count), then per frame a type byte and its values
    (special: ``<I`` code; rectangle: ``<ffff``; polygon: ``<H`` count and the points as floats)."""
    import struct

    version, count = struct.unpack_from("<hI", data, 0)
    if version != 1:
        raise ValueError(f"{path}: unknown binary trajectory format {version}")
    offset, rows = struct.calcsize("<hI"), []
    for frame in range(count):
        (kind,) = struct.unpack_from("<B", data, offset)
        offset += 1
        if kind == _SPECIAL:
            offset += 4
            rows.append([float("nan")] * 4)
        elif kind == _RECTANGLE:
            rows.append([float(v) for v in struct.unpack_from("<ffff", data, offset)])
            offset += 16
        elif kind == _POLYGON:
            (points,) = struct.unpack_from("<H", data, offset)
            values = struct.unpack_from(f"<{2 * points}f", data, offset + 2)
            offset += 2 + 8 * points
            rows.append(_polygon_xywh([float(v) for v in values]))
        else:
            raise ValueError(f"{path}: frame {frame + 1}: region type {kind} (mask or point) is not a box")
    return rows


def _read_text_trajectory(text: str, path: Path) -> list[list[float]]:
    rows = []
    for line_no, line in enumerate(text.splitlines(), start=1):
        if line.startswith("m"):
            raise ValueError(f"{path}:{line_no}: a mask region is not a box")
        values = [float(v) for v in line.split(",")] if line.strip() else []
        if len(values) == 4:
            rows.append(values)
        elif len(values) >= 6 and len(values) % 2 == 0:
            rows.append(_polygon_xywh(values))
        elif len(values) == 1:  # special codes: 1 initialisation, 2 failure, 0 unknown
            rows.append([float("nan")] * 4)
        else:
            raise ValueError(f"{path}:{line_no}: expected a code, 4 numbers or a polygon, got {line!r}")
    return rows


def read_trajectory(path: Path) -> np.ndarray:
    """``(N, 4)`` float64 0-based ``xywh`` rows of a VOT results trajectory (``.txt`` or ``.bin``); frames
    with a special code (initialisation, failure, unknown) are NaN rows; polygons become their min-max box.

    Raises:
        ValueError: a mask or point region, or a malformed file (named).
    """
    data = path.read_bytes()
    rows = _read_binary_trajectory(data, path) if path.suffix == ".bin" else _read_text_trajectory(data.decode(), path)
    return np.asarray(rows, dtype=np.float64).reshape(-1, 4)


def _values(path: Path) -> list[float]:
    return [float(v) if v.strip() else float("nan") for v in path.read_text(encoding="utf-8").splitlines()]


def export_results(workspace: Path, identifier: str, experiment: str = "baseline",
                   out: Path | None = None) -> Path:
    """Write one tracker's results of one VOT experiment in got10k's layout, which our analysis reads.

    From ``WORKSPACE/results/<identifier>/<experiment>/<seq>/<seq>_<run>.{txt,bin}`` and
    ``<seq>_<run>_time.value`` to ``<out>/<seq>/<seq>_<run>.txt`` (``x,y,w,h`` per frame, 0-based; NaN on
    frames with a special code, which our analysis counts as failures except the initial frame) and
    ``<out>/<seq>/<seq>_time.txt`` (one column per run). Meant for the unsupervised (OPE) experiment; a
    supervised experiment's failures and re-initialisations would count as failures.

    Returns:
        ``out`` (default ``WORKSPACE/export/<identifier>/<experiment>``), for
        ``python -m evaluation.analyze --published OUT:NAME`` or :class:`evaluation.peer_results.PublishedResults`.

    Raises:
        FileNotFoundError: no results for that tracker and experiment; ValueError: a file is not readable
            as boxes. Nothing is written then.
    """
    source = workspace / "results" / identifier / experiment
    if not source.is_dir():
        raise FileNotFoundError(f"no results of '{identifier}' for experiment '{experiment}' in {source.parent}")
    out = out or workspace / "export" / identifier / experiment
    files: dict[Path, str] = {}
    run_file = re.compile(r"^(?P<seq>.+)_(?P<run>\d{3})\.(txt|bin)$")
    for folder in sorted(p for p in source.iterdir() if p.is_dir()):
        matches = ((run_file.match(p.name), p) for p in folder.iterdir())
        runs = sorted(((m, p) for m, p in matches if m and m["seq"] == folder.name), key=lambda item: item[0]["run"])
        times = []
        for match, path in runs:
            boxes = read_trajectory(path)
            text = "\n".join(",".join("nan" if not np.isfinite(v) else f"{v:.4f}" for v in row) for row in boxes)
            files[out / folder.name / f"{folder.name}_{match['run']}.txt"] = text + "\n"
            time_path = folder / f"{folder.name}_{match['run']}_time.value"
            if time_path.is_file():
                times.append(_values(time_path))
        if times and len({len(t) for t in times}) == 1:
            table = np.array(times).T
            files[out / folder.name / f"{folder.name}_time.txt"] = "\n".join(
                ",".join(f"{v:.6f}" if np.isfinite(v) else "nan" for v in row) for row in table) + "\n"
    if not files:
        raise FileNotFoundError(f"no trajectories (<seq>/<seq>_001.txt or .bin) in {source}")
    write_files(files)
    return out


def stack_file(stack: str, workspace: Path) -> Path | None:
    """The file of ``stack``: a stack file (as given, or in ``workspace``), or one of the toolkit's stacks by
    name (found in the installed ``vot`` package without importing it); ``None`` when there is none."""
    import importlib.util

    candidates = [Path(stack).expanduser(), workspace / stack]
    spec = importlib.util.find_spec("vot")
    if spec is not None and spec.origin:
        candidates.append(Path(spec.origin).parent / "stack" / f"{stack}.yaml")
    return next((c for c in candidates if c.is_file()), None)


def read_stack(path: Path) -> dict[str, Any]:
    """A stack file's content (a YAML mapping).

    Raises:
        ValueError: not YAML, or not a mapping (the message names the file).
    """
    import yaml

    try:
        content = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ValueError(f"stack {path} is not YAML: {exc}".replace("\n", " ")) from None
    if not isinstance(content, dict):
        raise ValueError(f"stack {path} is not a mapping of settings (title, experiments, ...)")
    return content


def supervised_experiments(content: dict[str, Any]) -> list[str]:
    """Names of a stack's experiments of the toolkit's ``supervised`` type."""
    experiments = content.get("experiments") or {}
    return [name for name, body in experiments.items() if isinstance(body, dict) and body.get("type") == "supervised"]


def runnable_stack(content: dict[str, Any], source: str) -> str:
    """``stack.yaml`` text: the stack ``content`` (read from ``source``) with every ``supervised`` experiment
    given :data:`SUPERVISED_TYPE`, its settings and analyses kept."""
    import yaml

    experiments = {name: dict(body, type=SUPERVISED_TYPE) if name in supervised_experiments(content) else body
                   for name, body in (content.get("experiments") or {}).items()}
    header = (f"# Written by python -m evaluation.interop.vot init from the stack {source}: its supervised "
              f"experiments\n# run as {SUPERVISED_TYPE} (vot-toolkit 0.9.0's own cannot run over TraX).\n")
    return header + yaml.safe_dump(dict(content, experiments=experiments), sort_keys=False)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m evaluation.interop.vot", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    init = commands.add_parser("init", help="write a VOT workspace's trackers.ini (and config for an offline run)",
                               description="Write WORKSPACE/trackers.ini entries for registered trackers and, "
                                           "with --stack or --sequences, WORKSPACE/config.yaml.",
                               formatter_class=PlainHelpFormatter)
    init.add_argument("workspace", type=Path, help="the VOT workspace folder (created when missing)")
    init.add_argument("--tracker", action="append", required=True, metavar="NAME:PARAM",
                      help="a registered tracker and parameter name (python -m evaluation.registry lists them); "
                           "repeat for several entries")
    init.add_argument("--stack", default=None, metavar="NAME",
                      help="experiment stack of the VOT toolkit (otb50, otb100, vot2013, vot2018/shortterm, ...) "
                           "or a stack file (supervised experiments are rewritten into WORKSPACE/stack.yaml "
                           "to run over TraX); default with --sequences: a stack.yaml with the unsupervised "
                           "(OPE) experiment 'baseline' and the supervised (reset) one 'supervised'")
    init.add_argument("--sequences", type=Path, default=None, metavar="DIR",
                      help="local sequences in VOT's layout (list.txt, <seq>/sequence, <seq>/color/, "
                           "<seq>/groundtruth.txt): the workspace reads them and never downloads")
    init.add_argument("--override", action="append", default=[], metavar="FIELD=VALUE",
                      help="parameter override for every --tracker (e.g. engine=torch); VALUE is JSON when it "
                           "parses, else a string")
    init.add_argument("--python", default=sys.executable,
                      help="interpreter the toolkit starts the tracker with (default: this one)")
    check = commands.add_parser("test", help="run 'vot test' for the workspace's entries, one line each",
                                description="Run 'vot test ID' in WORKSPACE for each of our trackers.ini entries "
                                            "(or the IDs given); print ok/error per entry.",
                                formatter_class=PlainHelpFormatter)
    check.add_argument("workspace", type=Path, help="the VOT workspace folder")
    check.add_argument("ids", nargs="*", metavar="ID", help="entries to test (default: every entry of ours)")
    check.add_argument("--sequence", type=Path, default=None, metavar="DIR",
                       help="a sequence folder in VOT's layout to test on (default: the toolkit's synthetic "
                            "50-frame sequence)")
    check.add_argument("--timeout", type=float, default=600.0,
                       help="seconds one 'vot test' may take (default: 600)")
    export = commands.add_parser("export", help="write a tracker's VOT results in got10k's layout for our analysis",
                                 description="Convert WORKSPACE/results/ID/EXPERIMENT to <seq>/<seq>_001.txt files "
                                             "(0-based x,y,w,h) that python -m evaluation.analyze --published reads.",
                                 formatter_class=PlainHelpFormatter)
    export.add_argument("workspace", type=Path, help="the VOT workspace folder")
    export.add_argument("id", help="the tracker's identifier in trackers.ini")
    export.add_argument("--experiment", default="baseline",
                        help="the experiment (default: baseline, the unsupervised one of our offline stack)")
    export.add_argument("--out", type=Path, default=None,
                        help="output folder (default: WORKSPACE/export/ID/EXPERIMENT)")
    return parser


def init(args: argparse.Namespace) -> tuple[list[Entry], list[Path]]:
    """Check everything, then write the files (see the module doc); returns the entries and files written."""
    overrides = dict(parse_override(item) for item in args.override)
    entries = [make_entry(spec, overrides) for spec in args.tracker]
    identifiers = [e.identifier for e in entries]
    if len(set(identifiers)) != len(identifiers):
        raise ValueError(f"--tracker names the same entry twice: {', '.join(identifiers)}")
    workspace = args.workspace.expanduser().absolute()
    sequences = args.sequences.expanduser().absolute() if args.sequences else None
    stack = args.stack
    if stack is not None and Path(stack).expanduser().is_file():  # a stack file named from here
        stack = str(Path(stack).expanduser().resolve())
    files = plan_workspace(workspace, entries, stack, sequences, args.python)
    write_files(files)
    return entries, list(files)


def main(argv: list[str] | None = None) -> int:
    """The command line (see the module doc); exit codes of :mod:`evaluation.cli_errors`."""
    args = build_parser().parse_args(argv)
    return run_cli(lambda: _main(args))


def _main(args: argparse.Namespace) -> int:
    if args.command == "test":
        return test(args)
    if args.command == "export":
        out = export_results(args.workspace.expanduser().absolute(), args.id, args.experiment,
                             args.out.expanduser().absolute() if args.out else None)
        print(f"wrote {out}\nanalyse it with: python -m evaluation.analyze --dataset vot --published {out}:{args.id} "
              f"(vot_path set to the workspace's sequences folder)")
        return 0
    entries, written = init(args)
    workspace = args.workspace.expanduser().absolute()
    names = " ".join(e.identifier for e in entries)
    for path in written:
        print(f"wrote {path}" + (f": {names}" if path.name == "trackers.ini" else ""))
    print(f"next, in {workspace}:")
    for entry in entries:
        print(f"  vot test {entry.identifier}")
    if args.stack or args.sequences:
        print(f"  vot evaluate {names}\n  vot analysis {names}\n  vot report {names}")
    source = stack_file(args.stack, workspace) if args.stack else None
    supervised = supervised_experiments(read_stack(source)) if workspace / "stack.yaml" in written and source else []
    if supervised:
        print(f"note: the stack '{args.stack}' is written to {workspace / 'stack.yaml'} with its supervised "
              f"experiments ({', '.join(supervised)}) as {SUPERVISED_TYPE}: vot-toolkit 0.9.0's own supervised "
              f"experiment cannot run over TraX", file=sys.stderr)
    if vot_program() is None:
        print(f"note: the VOT toolkit is not installed here: {VOT_INSTALL}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
