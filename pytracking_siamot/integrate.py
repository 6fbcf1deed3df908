"""Register SiamOT in a pytracking checkout, and take it out again.

    python -m pytracking_siamot.integrate PATH [--force] [--remove] [--dry-run]

pytracking finds trackers only inside its own package, so this writes small shim modules
there (texts in pytracking_siamot.pytracking_compat.shims):

- ``pytracking/tracker/siamot/__init__.py``: ``get_tracker_class()`` for ``Tracker('siamot', ...)``;
- ``pytracking/parameter/siamot/<name>.py``: ``parameters()`` for every file in SiamOT's
  ``parameter/siamot`` (listed now: re-run after adding one);
- ``pytracking/evaluation/otb2013dataset.py``: the OTB2013 (51 targets) dataset pytracking lacks;
- ``pytracking/experiments/siamot.py``: experiments for ``run_experiment.py siamot <function>``;
- two lines appended to pytracking's ``pytracking/evaluation/datasets.py`` that register
  ``otb2013`` for ``run_tracker.py --dataset_name otb2013`` (the original is kept in the
  manifest; ``--remove`` takes the lines out, or puts the original back byte for byte).

Safety: every written file starts with a marker line, and ``pytracking/.siamot-integration.json``
(the manifest) records each file's SHA-256 and the folders created. A file SiamOT did not
write, or one edited since, is never overwritten or deleted without ``--force`` (a forced
overwrite keeps the original in the manifest and ``--remove`` puts it back). A second run
changes nothing and says so. ``--remove`` deletes exactly what was written, and the folders
it created once they are empty.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from pytracking_siamot.atomic import atomic_write_bytes
from pytracking_siamot import pytracking_compat as compat

MANIFEST_NAME = ".siamot-integration.json"
MANIFEST_FORMAT = 1

Action = Literal["mkdir", "create", "update", "overwrite", "patch", "unchanged", "delete", "restore", "unpatch",
                 "gone", "rmdir", "keep-dir"]
_CHANGING: frozenset[str] = frozenset({"mkdir", "create", "update", "overwrite", "patch", "delete", "restore",
                                       "unpatch", "rmdir"})


class IntegrationError(RuntimeError):
    """The checkout cannot be changed as asked; the message says why and what to do."""


@dataclass(frozen=True)
class Checkout:
    """A pytracking checkout: ``root`` holds the ``pytracking`` package at ``package``."""

    root: Path
    package: Path

    @property
    def manifest_path(self) -> Path:
        return self.package / MANIFEST_NAME

    def display(self, rel: str) -> str:
        """A package-relative path as the user sees it (``pytracking/tracker/siamot/__init__.py``)."""
        return (self.package / rel).relative_to(self.root).as_posix()


def find_checkout(path: str | Path) -> Checkout:
    """The checkout at ``path`` (its root, or its ``pytracking`` package folder).

    Raises ``IntegrationError`` naming what is missing when ``path`` is not a pytracking checkout.
    """
    path = Path(path).expanduser().resolve()
    if not path.is_dir():
        raise IntegrationError(f"not a folder: {path}")
    if (path / "pytracking" / "__init__.py").is_file():
        package = path / "pytracking"
    elif path.name == "pytracking" and (path / "__init__.py").is_file():
        package = path
    else:
        raise IntegrationError(f"not a pytracking checkout: neither {path / 'pytracking' / '__init__.py'} "
                               f"nor {path / '__init__.py'} exists")
    missing = [name for name in ("tracker", "parameter", "evaluation") if not (package / name).is_dir()]
    if missing:
        raise IntegrationError(f"not a pytracking checkout: {package} has no {', '.join(missing)} folder")
    return Checkout(root=package.parent, package=package)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class FileRecord:
    """A file SiamOT wrote: its hash, and the file it replaced under ``--force`` (base64 + mode).

    For a file of pytracking's that SiamOT only appended to (``evaluation/datasets.py``),
    ``appended`` is the text added and ``backup`` the file before.
    """

    sha256: str
    backup: str | None = None
    backup_mode: int | None = None
    appended: str | None = None


@dataclass
class Manifest:
    """What SiamOT wrote into a checkout: files (package-relative path -> record) and created folders."""

    files: dict[str, FileRecord] = field(default_factory=dict)
    dirs: list[str] = field(default_factory=list)

    def to_text(self) -> str:
        data = {"tool": "pytracking_siamot.integrate", "format": MANIFEST_FORMAT,
                "files": {rel: {k: v for k, v in vars(rec).items() if v is not None}
                          for rel, rec in sorted(self.files.items())},
                "dirs": sorted(self.dirs)}
        return json.dumps(data, indent=2, sort_keys=True) + "\n"

    @classmethod
    def load(cls, path: Path) -> "Manifest | None":
        """The manifest at ``path``; None when there is none. ``IntegrationError`` when unreadable."""
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_text())
            if data.get("format") != MANIFEST_FORMAT:
                raise ValueError(f"unknown format {data.get('format')!r}")
            files = {rel: FileRecord(**rec) for rel, rec in data["files"].items()}
            dirs = list(data["dirs"])
            for rel in [*files, *dirs]:
                if Path(rel).is_absolute() or ".." in Path(rel).parts or not rel:
                    raise ValueError(f"path {rel!r} is outside the pytracking package")
            return cls(files=files, dirs=dirs)
        except (ValueError, KeyError, TypeError) as exc:
            raise IntegrationError(f"{path}: unreadable SiamOT manifest ({exc}); fix or delete it") from exc


@dataclass(frozen=True)
class Step:
    """One planned change: ``action`` on ``rel`` (package-relative); ``data``/``mode`` for writes."""

    action: Action
    rel: str
    data: bytes | None = None
    mode: int | None = None
    note: str = ""


@dataclass
class Plan:
    """What ``integrate``/``remove`` will do; nothing is touched until :func:`apply`."""

    checkout: Checkout
    steps: list[Step]
    manifest: Manifest | None  # None: delete the manifest (after --remove)
    conflicts: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    removing: bool = False  # a --remove plan (changes the wording of refusals)

    def refusal(self) -> str:
        """One line: the files refused and what ``--force`` would do with them."""
        what = ("delete them anyway (files SiamOT replaced are put back)" if self.removing else
                "replace them (files SiamOT did not write are restored by --remove)")
        return f"{len(self.conflicts)} file(s): {'; '.join(self.conflicts)}; re-run with --force to {what}"

    @property
    def changes(self) -> bool:
        return any(s.action in _CHANGING for s in self.steps) or self.manifest_changes()

    def manifest_changes(self) -> bool:
        path = self.checkout.manifest_path
        if self.manifest is None:
            return path.exists()
        return not path.is_file() or path.read_text() != self.manifest.to_text()


def _missing_dirs(package: Path, rels: list[str]) -> list[str]:
    """Package-relative folders (parents first) that writing ``rels`` needs and that do not exist."""
    needed: list[str] = []
    for rel in rels:
        parts = Path(rel).parts[:-1]
        for depth in range(1, len(parts) + 1):
            folder = Path(*parts[:depth]).as_posix()
            if not (package / folder).exists() and folder not in needed:
                needed.append(folder)
    return needed


def _foreign_reason(current: bytes, record: FileRecord | None) -> str:
    if record is not None:
        return "edited since SiamOT wrote it"
    if current.startswith(compat.MARKER.encode()):
        return "has SiamOT's header but is not in the manifest"
    return "not written by SiamOT"


def name_clash_notes(checkout: Checkout) -> list[str]:
    """Top-level packages of the checkout named like SiamOT's (informational: the tracker copes with them)."""
    notes = []
    own_ltr = compat.install_root() / "ltr"
    if (checkout.root / "ltr").is_dir() and own_ltr.is_dir():
        notes.append(
            f"{checkout.root / 'ltr'} and SiamOT's {own_ltr} are both named 'ltr'; pytracking keeps its own, "
            f"SiamOT's tracker imports its copy privately (pytracking_compat.get_tracker_class)")
    return notes


def desired_files(checkout: Checkout, parameter_names: list[str] | None = None) -> dict[str, str]:
    """Package-relative path -> text of every file SiamOT puts into ``checkout``.

    ``parameter_names`` defaults to SiamOT's parameter files.
    """
    names = compat.parameter_names() if parameter_names is None else parameter_names
    files = compat.planned_files(names)
    # pytracking's experiments folder is a package; give it an __init__ if this checkout lacks one
    # (and keep it while it is ours).
    init = "experiments/__init__.py"
    manifest = Manifest.load(checkout.manifest_path)
    if not (checkout.package / init).exists() or (manifest is not None and init in manifest.files):
        files[init] = f"{compat.MARKER}\n"
    return files


def plan_integrate(checkout: Checkout, files: dict[str, str], force: bool = False,
                   appends: dict[str, str] | None = None) -> Plan:
    """The steps that make ``checkout`` hold exactly ``files`` (and forget files no longer wanted).

    ``appends`` (package-relative path -> text) are existing files of pytracking's that get
    ``text`` appended once (see :func:`plan_append`).
    """
    old = Manifest.load(checkout.manifest_path) or Manifest()
    new = Manifest()
    steps: list[Step] = []
    conflicts: list[str] = []
    notes = name_clash_notes(checkout) + settings_notes(checkout)
    for rel, text in sorted((appends or {}).items()):
        step, record, conflict, note = plan_append(checkout, rel, text, old.files.get(rel))
        steps += [step] if step else []
        conflicts += [conflict] if conflict else []
        notes += [note] if note else []
        if record is not None:
            new.files[rel] = record
    mkdirs = _missing_dirs(checkout.package, sorted(files))
    steps += [Step("mkdir", d) for d in mkdirs]
    new.dirs = sorted({d for d in old.dirs if (checkout.package / d).is_dir()} | set(mkdirs))

    for rel, text in sorted(files.items()):
        data = text.encode()
        target = checkout.package / rel
        record = old.files.get(rel)
        keep = FileRecord(sha256(data), record.backup, record.backup_mode) if record else FileRecord(sha256(data))
        _require_regular(checkout, rel)
        if not target.exists():
            steps.append(Step("create", rel, data))
        else:
            current = target.read_bytes()
            mode = target.stat().st_mode & 0o7777
            if current == data:
                steps.append(Step("unchanged", rel))
            elif record is not None and sha256(current) == record.sha256:
                steps.append(Step("update", rel, data, mode))
            else:
                conflicts.append(f"{checkout.display(rel)} ({_foreign_reason(current, record)})")
                if record is None:  # keep the user's file so --remove can put it back
                    keep = FileRecord(sha256(data), base64.b64encode(current).decode(), mode)
                steps.append(Step("overwrite", rel, data, mode))
        new.files[rel] = keep

    for rel, record in sorted(old.files.items()):
        if rel not in files and rel not in new.files:
            # written by an earlier run, no longer wanted (e.g. a parameter file was deleted)
            file_steps, conflict = _undo_file(checkout, rel, record)
            steps += file_steps
            conflicts += [conflict] if conflict else []
    return _forced(Plan(checkout, steps, new, conflicts, notes=notes), force, "replacing")


def plan_append(checkout: Checkout, rel: str, text: str,
                record: FileRecord | None) -> tuple[Step | None, FileRecord | None, str | None, str | None]:
    """Appending ``text`` to pytracking's file ``rel``: (step, record to keep, conflict, note).

    Only ``evaluation/datasets.py`` is appended to (``text`` registers ``otb2013``); the
    file as it was is kept in the record. Nothing is done, with a note, when the file is
    missing, already registers ``otb2013`` by other means (e.g. a hand edit) or does not
    define pytracking's dataset table.
    """
    target = checkout.package / rel
    _require_regular(checkout, rel)
    if not target.exists():
        if record is not None:
            return Step("gone", rel), None, None, None
        return None, None, None, f"{checkout.display(rel)} not found: run_tracker.py --dataset_name otb2013 " \
                                  f"is not registered (experiments still work)"
    current = target.read_bytes()
    mode = target.stat().st_mode & 0o7777
    if record is not None and record.backup is not None:
        original = base64.b64decode(record.backup)
        wanted = original + text.encode()
        if sha256(current) == record.sha256:
            if current == wanted:
                return Step("unchanged", rel), record, None, None
            return (Step("update", rel, wanted, mode),
                    FileRecord(sha256(wanted), record.backup, record.backup_mode, text), None, None)
    status = compat.registration_status(current.decode(errors="replace"))
    if status == "ours" and current.endswith(text.encode()):
        # Appended by us (an earlier run), perhaps with pytracking's own lines changed since: adopt.
        original = current[:-len(text.encode())]
        return (Step("unchanged", rel),
                FileRecord(sha256(current), base64.b64encode(original).decode(), mode, text), None, None)
    conflict = f"{checkout.display(rel)} (edited since SiamOT wrote it)" if record is not None else None
    if status == "registered" and conflict is None:
        return None, None, None, f"{checkout.display(rel)} already registers otb2013 (left as it is)"
    if status == "unknown" and conflict is None:
        return None, None, None, (f"{checkout.display(rel)} has no dataset_dict/DatasetInfo: otb2013 is not "
                                  f"registered for run_tracker.py --dataset_name (experiments still work)")
    wanted = current + text.encode()
    return (Step("patch", rel, wanted, mode),
            FileRecord(sha256(wanted), base64.b64encode(current).decode(), mode, text), conflict, None)


def settings_notes(checkout: Checkout) -> list[str]:
    """What pytracking's ``local.py`` lacks for SiamOT's OTB2013 dataset (read as text, never imported)."""
    local = checkout.package / "evaluation" / "local.py"
    text = local.read_text(errors="replace") if local.is_file() else ""
    wanted = [name for name in ("otb2013_path", "otb2013_anno_path") if f"settings.{name}" not in text]
    if not wanted:
        return []
    lines = "; ".join(f"settings.{name} = '...'" for name in wanted)
    return [f"for the otb2013 dataset, add to {local.relative_to(checkout.root).as_posix()} "
            f"(local_env_settings): {lines} (the folder holding <Sequence>/img/, and the official "
            f"cvpr13_anno folder; otb2013_path falls back to otb_path)"]


def _forced(plan: Plan, force: bool, verb: str) -> Plan:
    """With ``force``, turn the plan's conflicts into a warning (the steps already replace those files)."""
    if plan.conflicts and force:
        plan.warnings.append(f"--force: {verb} {len(plan.conflicts)} file(s): {'; '.join(plan.conflicts)}")
        plan.conflicts = []
    return plan


def _require_regular(checkout: Checkout, rel: str) -> None:
    """``IntegrationError`` (never overridden by ``--force``) when ``rel`` exists but is not a plain file."""
    target = checkout.package / rel
    if target.is_symlink() or (target.exists() and not target.is_file()):
        raise IntegrationError(f"{checkout.display(rel)} is not a regular file (a folder or link): "
                               f"move it away and re-run")


def _undo_file(checkout: Checkout, rel: str, record: FileRecord) -> tuple[list[Step], str | None]:
    """Steps that take back file ``rel``: delete it, or restore what it replaced; a conflict when edited."""
    _require_regular(checkout, rel)
    target = checkout.package / rel
    restore = (Step("restore", rel, base64.b64decode(record.backup), record.backup_mode)
               if record.backup is not None else None)
    if not target.exists():
        if record.appended is not None:  # pytracking's own file, gone: nothing of ours to take out
            return [Step("gone", rel)], None
        return ([restore] if restore else [Step("gone", rel)]), None
    current = target.read_bytes()
    if sha256(current) == record.sha256:
        return [restore or Step("delete", rel)], None
    if record.appended is not None:
        ours = record.appended.encode()
        at = current.rfind(ours)
        if at >= 0:
            # pytracking's file changed around our lines (a git pull above them, a line of yours after
            # them): take out only our lines, byte for byte, and keep everything else.
            return [Step("unpatch", rel, current[:at] + current[at + len(ours):],
                         target.stat().st_mode & 0o7777)], None
        return [restore], (f"{checkout.display(rel)} (SiamOT's lines in it were edited; --force restores the file "
                           f"as it was before SiamOT appended to it, dropping every later edit)")
    conflict = f"{checkout.display(rel)} (edited since SiamOT wrote it)"
    return [restore or Step("delete", rel)], conflict


def plan_remove(checkout: Checkout, force: bool = False) -> Plan:
    """The steps that undo what :func:`plan_integrate` wrote (refusing edited files unless ``force``)."""
    manifest = Manifest.load(checkout.manifest_path)
    if manifest is None:
        return Plan(checkout, [], None)
    steps: list[Step] = []
    conflicts: list[str] = []
    for rel, record in sorted(manifest.files.items()):
        file_steps, conflict = _undo_file(checkout, rel, record)
        steps += file_steps
        if conflict:
            conflicts.append(conflict)
    # Deepest first, so a parent is tried after its children.
    steps += [Step("rmdir", d) for d in sorted(manifest.dirs, key=lambda d: (-d.count("/"), d))]
    return _forced(Plan(checkout, steps, None, conflicts, removing=True), force, "deleting or restoring")


def _remove_bytecode(source: Path) -> None:
    """Delete ``__pycache__/<stem>.*.pyc`` of a removed module (and the cache folder once empty)."""
    cache = source.parent / "__pycache__"
    if not cache.is_dir():
        return
    for pyc in cache.glob(f"{source.stem}.*.pyc"):
        pyc.unlink()
    if not any(cache.iterdir()):
        cache.rmdir()


def apply(plan: Plan) -> list[Step]:
    """Carry out ``plan``; returns the steps as done (an ``rmdir`` of a non-empty folder becomes ``keep-dir``).

    Raises ``IntegrationError`` (before touching anything) when the plan has conflicts.
    """
    if plan.conflicts:
        raise IntegrationError(f"refusing to change {plan.refusal()}")
    package = plan.checkout.package
    done: list[Step] = []
    for step in plan.steps:
        target = package / step.rel
        if step.action == "mkdir":
            target.mkdir()
        elif step.action in ("create", "update", "overwrite", "patch", "restore", "unpatch"):
            assert step.data is not None
            atomic_write_bytes(target, step.data, step.mode)
        elif step.action == "delete":
            target.unlink()
            _remove_bytecode(target)
        elif step.action == "rmdir":
            if target.is_dir():
                cache = target / "__pycache__"
                if cache.is_dir() and not any(cache.iterdir()):
                    cache.rmdir()
                if any(target.iterdir()):
                    done.append(Step("keep-dir", step.rel, note="not empty: holds files SiamOT did not write"))
                    continue
                target.rmdir()
            else:
                done.append(Step("gone", step.rel))
                continue
        done.append(step)
    if plan.manifest is None:
        plan.checkout.manifest_path.unlink(missing_ok=True)
    elif plan.manifest_changes():
        atomic_write_bytes(plan.checkout.manifest_path, plan.manifest.to_text().encode(), None)
    return done


def _report(plan: Plan, steps: list[Step], changed: bool, verb: str, noop: str, dry_run: bool) -> str:
    checkout = plan.checkout
    lines = [f"  {('would ' if dry_run else '') + s.action:<16} {checkout.display(s.rel)}"
             + (f"  ({s.note})" if s.note else "") for s in steps if s.action != "unchanged"]
    counts: dict[str, int] = {}
    for s in steps:
        counts[s.action] = counts.get(s.action, 0) + 1
    summary = ", ".join(f"{n} {a}" for a, n in sorted(counts.items()))
    if not changed:
        lines.append(f"nothing changed: {noop} {checkout.package} ({summary or 'no files'})")
    else:
        lines.append(f"{'would have ' if dry_run else ''}{verb} {checkout.package}: {summary}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pytracking_siamot.integrate",
                                     description=__doc__.replace("``", ""),  # reST literals as plain text
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("path", metavar="PATH",
                        help="the pytracking checkout (the folder holding the 'pytracking' package, or that package)")
    parser.add_argument("--force", action="store_true",
                        help="replace (or with --remove, delete) files SiamOT did not write or that were edited "
                             "since; replaced files are kept in the manifest and restored by --remove")
    parser.add_argument("--remove", action="store_true",
                        help="undo the integration: delete the files SiamOT wrote (unless edited since) and the "
                             "folders it created (once empty), restore files it replaced, delete the manifest")
    parser.add_argument("--dry-run", action="store_true", help="print what would change, change nothing")
    args = parser.parse_args(argv)
    try:
        checkout = find_checkout(args.path)
        if args.remove:
            plan = plan_remove(checkout, force=args.force)
            if plan.manifest is None and not plan.steps and not checkout.manifest_path.exists():
                print(f"nothing to remove: no SiamOT integration in {checkout.package} (no {MANIFEST_NAME})")
                return 0
            verb, noop = "removed SiamOT from", "SiamOT is already removed from"
        else:
            plan = plan_integrate(checkout, desired_files(checkout), force=args.force,
                                  appends={compat.DATASETS_PATH: compat.DATASET_REGISTRATION})
            verb, noop = "integrated SiamOT into", "SiamOT is already integrated into"
        for warning in plan.warnings:
            print(f"warning: {warning}", file=sys.stderr)
        for note in plan.notes:
            print(f"note: {note}")
        if args.dry_run:
            if plan.conflicts:  # apply() would refuse the whole plan: list nothing as if it would happen
                for conflict in plan.conflicts:
                    print(f"  would refuse     {conflict}")
                print(f"nothing would change in {checkout.package}")
                print(f"error: would refuse to change {plan.refusal()}", file=sys.stderr)
                return 1
            print(_report(plan, plan.steps, plan.changes, verb, noop, dry_run=True))
            return 0
        changed = plan.changes
        steps = apply(plan)
        print(_report(plan, steps, changed, verb, noop, dry_run=False))
        if not args.remove and changed:
            dataset = "otb2013" if compat.DATASETS_PATH in (plan.manifest.files if plan.manifest else {}) else "otb"
            print(f"run: cd {checkout.package} && python run_tracker.py siamot mobilenet_v2 --dataset_name {dataset} "
                  f"--sequence Crossing")
    except (IntegrationError, OSError, ImportError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
