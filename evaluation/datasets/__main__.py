"""Check a local dataset copy: ``python -m evaluation.datasets check NAME``.

Prints one line per sequence with a problem (missing or unreadable frames, ground-truth rows vs
frames, invalid boxes, missing label, range or flag files), a partial copy once, and a one-line
total. Exit status 0 when every sequence checked is fine, 1 otherwise (or when the dataset is not
found, with one line saying where it looked and which setting names it).

Examples::

    python -m evaluation.datasets check lasot
    python -m evaluation.datasets check got10k_val --decode all
    python -m evaluation.datasets check folder:/data/my_sequences
"""
from __future__ import annotations

import argparse
import sys
from typing import Sequence as TypingSequence

from evaluation.cli_help import PlainHelpFormatter
from evaluation.datasets import DATASET_NAMES
from evaluation.datasets.doctor import check_dataset
from evaluation.settings import SettingsError, load_settings


def main(argv: TypingSequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m evaluation.datasets", description=__doc__,
                                     formatter_class=PlainHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    check = sub.add_parser("check", help="list what is wrong with each sequence of a dataset",
                           description=__doc__, formatter_class=PlainHelpFormatter)
    check.add_argument("name", help=f"dataset: {', '.join(DATASET_NAMES)} or folder:<path>")
    check.add_argument("--decode", choices=("ends", "all", "none"), default="ends",
                       help="frames to decode: the first and last of each sequence (default), all, or none "
                            "(every frame file is always checked to exist)")
    args = parser.parse_args(argv)
    try:
        report = check_dataset(args.name, load_settings(), decode=args.decode)
    except (OSError, ValueError, SettingsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    for line in report.lines():
        print(line)
    return 1 if report.bad else 0


if __name__ == "__main__":
    sys.exit(main())
