"""Exit codes and error handling shared by every command line of the toolkit.

Exit codes (``run_tracker``, ``run_experiment``, ``analyze``, ``paper``, ``playback``, ``qualitative``,
``settings``):

- ``0`` (:data:`EXIT_OK`): done;
- ``1`` (:data:`EXIT_FAILED`): the run went on but some (tracker, sequence) pairs failed (each failure
  is logged; the last line lists them);
- ``2`` (:data:`EXIT_BAD_INPUT`): bad input or usage, found before anything was written: an unknown
  name, a bad flag value or file, missing results, unusable settings; one ``error:`` line on stderr
  (argparse's usage errors exit 2 too);
- ``130`` (:data:`EXIT_INTERRUPTED`): Ctrl-C; complete results are kept.

Any other exception is a bug and propagates with its traceback (Python exits 1).
"""
from __future__ import annotations

import contextlib
import sys
import warnings
from typing import Callable, Iterator

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130

#: What counts as bad input: unknown names (``LookupError``: registry, experiments, sequences), bad
#: values and unreadable files (``ValueError``), missing or unusable files and folders (``OSError``) and
#: missing optional packages (``ImportError``). Their messages name the value or file.
INPUT_ERRORS: tuple[type[BaseException], ...] = (LookupError, ValueError, OSError, ImportError)


def error_message(exc: BaseException) -> str:
    """The one-line text of an input error (a ``KeyError``'s message without its quotes)."""
    message = exc.args[0] if isinstance(exc, KeyError) and exc.args else exc
    text = str(message)
    return text if text else type(exc).__name__


def run_cli(body: Callable[[], int], interrupted: str = "interrupted") -> int:
    """``body()``'s exit code; for an :data:`INPUT_ERRORS` exception one ``error: <message>`` line on
    stderr and :data:`EXIT_BAD_INPUT`; for Ctrl-C the line ``interrupted`` and :data:`EXIT_INTERRUPTED`.

    Other exceptions propagate (a bug: its traceback is what helps).
    """
    try:
        return body()
    except INPUT_ERRORS as exc:
        print(f"error: {error_message(exc)}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except KeyboardInterrupt:
        print(interrupted, file=sys.stderr)
        return EXIT_INTERRUPTED


@contextlib.contextmanager
def warnings_summarised(per_prefix: int = 3) -> Iterator[None]:
    """Collect the warnings raised in the block and print them once on stderr when it ends (also when
    it raises, so they come before the error line): distinct messages only, at most ``per_prefix`` per
    message prefix (``<tracker>: ...``), then a count of the rest."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            yield
        finally:
            print_warnings(caught, per_prefix)


def print_warnings(caught: list[warnings.WarningMessage], per_prefix: int = 3) -> None:
    """Distinct warnings on stderr as ``warning: <message>``, at most ``per_prefix`` per message prefix."""
    seen: set[str] = set()
    shown: dict[str, int] = {}
    for warning in caught:
        message = str(warning.message)
        if message in seen:
            continue
        seen.add(message)
        prefix = message.split(": ", 1)[0]
        shown[prefix] = shown.get(prefix, 0) + 1
        if shown[prefix] <= per_prefix:
            print(f"warning: {message}", file=sys.stderr)
    for prefix, count in shown.items():
        if count > per_prefix:
            print(f"warning: {prefix}: ... and {count - per_prefix} more like the above", file=sys.stderr)
