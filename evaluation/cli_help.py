"""``--help`` text of the command-line tools in plain text.

The tools' descriptions are their module docstrings, written in reST for the API docs
(````demo````, ``:mod:`evaluation.experiments```). :class:`PlainHelpFormatter` shows them as a
terminal user expects: the literal's text without the backticks, a cross-reference as the name
it points to. Line breaks of the description are kept (as ``RawDescriptionHelpFormatter``
does), so example command lines stay one per line.
"""
from __future__ import annotations

import argparse
import re

# :role:`target` or :role:`title <target>` (a leading ~ shows only the last dotted part).
_ROLE = re.compile(r":[\w:.-]+:`([^`]*)`")
_LITERAL = re.compile(r"``(.+?)``", re.S)
# "Examples::" opens a literal block: a plain "Examples:" (an expanded "text ::" loses the marker).
_BLOCK_MARKER = re.compile(r"(\S?)( ?)::$", re.M)


def _role_text(match: re.Match[str]) -> str:
    text = match.group(1)
    titled = re.fullmatch(r"(.*?)\s*<[^>]*>", text, re.S)
    if titled:
        return titled.group(1)
    if text.startswith("~"):
        return text[1:].rpartition(".")[2]
    return text


def _block_marker(match: re.Match[str]) -> str:
    return match.group(1) + ("" if match.group(2) else ":") if match.group(1) else ""


def plain_text(text: str) -> str:
    """``text`` with reST inline literals (````x````) and roles (``:mod:`x```) reduced to their text,
    and literal-block markers (``Examples::``) to a colon."""
    return _LITERAL.sub(r"\1", _ROLE.sub(_role_text, _BLOCK_MARKER.sub(_block_marker, text)))


class PlainHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """``RawDescriptionHelpFormatter`` whose description, epilog and option help are :func:`plain_text`."""

    def _format_text(self, text: str) -> str:
        return super()._format_text(plain_text(text))

    def _expand_help(self, action: argparse.Action) -> str:
        return plain_text(super()._expand_help(action))
