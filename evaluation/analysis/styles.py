"""One style (colour + line style) per tracker, shared by every figure of a report.

The paper's convention is applied automatically: a baseline and the tracker it is the baseline of
(``siamot:mobilenet_v2_baseline`` / ``siamot:mobilenet_v2``: their :class:`evaluation.sources.Pairing`,
whose owner is ``pytracking_siamot.variants``) share a colour, solid with online training, dashed
without. Every other tracker is its own group.

Stability: a group's colour does not depend on the order of the trackers or on their scores. Each
group prefers the palette slot given by a hash of its key; groups that want the same slot are
resolved in key order (the next free slot). Adding or removing a tracker therefore changes no other
tracker's style unless they collide on a slot; :func:`assign_styles` with ``previous`` (the styles a
report used last time, see :func:`load_styles`) keeps those exactly, so a report's styles are chosen
once. ``overrides`` (``--style NAME=COLOR[,LINESTYLE]``) win over both.

This module is the one owner of tracker styles: the plots and the confidence plot
(:mod:`evaluation.analysis.plots`), the qualitative figure (:mod:`evaluation.qualitative`) and the
playback overlays (:mod:`evaluation.playback`) all take their colours and line styles from
:func:`assign_styles` / :func:`source_styles`, so a tracker has one colour everywhere. Colours are
``#rrggbb`` strings; :func:`rgb255` turns one into the ``(R, G, B)`` integers the overlays draw on
RGB frames (the toolkit's frame format; the OpenCV sinks convert whole frames to BGR when writing).
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

from evaluation.sources import Pairing

#: Colours in hex (matplotlib's tab10): readable on white plots and on video frames.
PALETTE: tuple[str, ...] = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                            "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")

#: Accepted line styles (names and matplotlib's short forms) -> matplotlib's short form.
LINESTYLES: dict[str, str] = {"solid": "-", "-": "-", "dashed": "--", "--": "--", "dotted": ":", ":": ":",
                              "dashdot": "-.", "-.": "-."}

#: Solid lines of groups past the palette's size cycle through these (a baseline stays dashed).
_OVERFLOW_LINESTYLES: tuple[str, ...] = ("-", "-.", ":")


@dataclass(frozen=True)
class TrackerStyle:
    """How one tracker is drawn in every figure: ``color`` (``#rrggbb``) and ``linestyle`` (``-``, ``--``, ``:``, ``-.``)."""

    color: str
    linestyle: str = "-"

    def to_json(self) -> dict[str, str]:
        return {"color": self.color, "linestyle": self.linestyle}

    @property
    def dashed(self) -> bool:
        """True for any broken line (dashed, dotted, dash-dot): drawn after the solid boxes in overlays."""
        return LINESTYLES.get(self.linestyle, self.linestyle) != "-"

    @property
    def rgb255(self) -> tuple[int, int, int]:
        """The colour as ``(R, G, B)`` integers 0-255 (see :func:`rgb255`)."""
        return rgb255(self.color)


def rgb255(color: Any) -> tuple[int, int, int]:
    """A matplotlib colour (``#rrggbb``, ``tab:blue``, an RGB tuple of floats in [0, 1]) as ``(R, G, B)``
    integers 0-255, the colour format of the overlays (which draw on RGB frames)."""
    from matplotlib.colors import to_rgb

    return tuple(int(round(255 * c)) for c in to_rgb(color))  # type: ignore[return-value]


def split_style_spec(spec: str, key_name: str = "NAME") -> tuple[str, str, str]:
    """``KEY=COLOR[,LINESTYLE]`` -> ``(key, colour, matplotlib line style)``; the one parser of style
    flags (``--style`` of ``evaluation.paper`` and ``evaluation.qualitative``). Raises ``ValueError``
    naming the spec for a missing part, an unknown line style or colour."""
    from matplotlib.colors import is_color_like

    key, sep, value = spec.rpartition("=")
    if not sep or not key or not value:
        raise ValueError(f"style must be {key_name}=COLOR[,LINESTYLE], got '{spec}'")
    color, _, linestyle = value.partition(",")
    linestyle = linestyle or "solid"
    if linestyle not in LINESTYLES:
        raise ValueError(f"unknown line style '{linestyle}' in '{spec}' (use one of: {', '.join(LINESTYLES)})")
    if not is_color_like(color):
        raise ValueError(f"unknown colour '{color}' in '{spec}'")
    return key, color, LINESTYLES[linestyle]


def parse_style_override(spec: str) -> tuple[str, TrackerStyle]:
    """``NAME=COLOR[,LINESTYLE]`` (e.g. ``MIL=black,dotted``) -> ``(NAME, style)``; NAME is a display name."""
    from matplotlib.colors import to_hex

    name, color, linestyle = split_style_spec(spec)
    return name, TrackerStyle(to_hex(color), linestyle)


def _slot(key: str) -> int:
    return int(hashlib.sha1(key.encode()).hexdigest(), 16) % len(PALETTE)


def assign_styles(pairings: Mapping[str, Pairing], previous: Mapping[str, TrackerStyle] | None = None,
                  overrides: Mapping[str, TrackerStyle] | None = None) -> dict[str, TrackerStyle]:
    """``{display_name: style}`` for the report's trackers.

    Args:
        pairings: display name -> :class:`~evaluation.sources.Pairing` (the group picks the colour, a
            baseline is dashed), in the report's order (``evaluation.analysis.evaluate.pairings``).
        previous: styles chosen before (kept for trackers still present; their colours are taken).
        overrides: explicit styles by display name; a name matching no tracker is a ``ValueError``.
    """
    names = list(pairings)
    previous = dict(previous or {})
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(names))
    if unknown:
        raise ValueError(f"--style names match no tracker: {', '.join(unknown)} (trackers: {', '.join(names)})")
    groups: dict[str, list[tuple[str, bool]]] = {}
    for name, pairing in pairings.items():
        groups.setdefault(pairing.group, []).append((name, pairing.baseline))
    styles: dict[str, TrackerStyle] = {}
    used: dict[str, str] = {}  # colour -> group that holds it
    pending: list[str] = []
    for key, members in groups.items():
        kept = [previous[name].color for name, _ in members if name in previous]
        if kept and used.get(kept[0], key) == key:
            used[kept[0]] = key
        else:
            pending.append(key)
    group_color = {key: color for color, key in used.items()}
    group_solid: dict[str, str] = {}
    # Free slots by hash preference, collisions in key order; past the palette, colours repeat with
    # another solid line style.
    taken = set(used)
    overflow = 0
    for key in sorted(pending, key=lambda k: (_slot(k), k)):
        start = _slot(key)
        free = [c for c in (PALETTE[(start + i) % len(PALETTE)] for i in range(len(PALETTE))) if c not in taken]
        if free:
            group_color[key] = free[0]
            taken.add(free[0])
        else:
            group_color[key] = PALETTE[start]
            group_solid[key] = _OVERFLOW_LINESTYLES[1 + overflow % 2]
            overflow += 1
    for key, members in groups.items():
        for name, baseline in members:
            if name in overrides:
                styles[name] = overrides[name]
            elif name in previous and previous[name].color == group_color[key]:
                styles[name] = previous[name]
            else:
                styles[name] = TrackerStyle(group_color[key], "--" if baseline else group_solid.get(key, "-"))
    return styles


def source_styles(sources: Sequence[Any], overrides: Mapping[str, TrackerStyle] | None = None) -> list[TrackerStyle]:
    """The style of each of ``sources`` (results sources, see :mod:`evaluation.sources`), in order: the
    styles a report of the same trackers gives them (:func:`assign_styles` over their display names and
    pairings), so a viewer draws a tracker in its plots' colour. ``overrides`` by display name."""
    from evaluation.sources import as_source

    pairings = {s.display_name: as_source(s).pairing() for s in sources}
    styles = assign_styles(pairings, overrides=overrides)
    return [styles[s.display_name] for s in sources]


def load_styles(path: Path) -> dict[str, TrackerStyle]:
    """The styles saved by :func:`save_styles` (empty when the file does not exist)."""
    path = Path(path)
    if not path.is_file():
        return {}
    try:
        data = json.loads(path.read_text())
        return {name: TrackerStyle(str(v["color"]), LINESTYLES[v["linestyle"]]) for name, v in data.items()}
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
        raise ValueError(f"style file {path} is not valid ({exc}); delete it to choose styles afresh") from exc


def save_styles(path: Path, styles: Mapping[str, TrackerStyle]) -> Path:
    """Write ``{display_name: {"color", "linestyle"}}`` as JSON, merged into an existing file (a tracker
    left out of one report gets its style back in the next when its colour is still free)."""
    from evaluation.boxes_io import atomic_write_text

    merged = {name: style.to_json() for name, style in load_styles(path).items()}
    merged.update({name: style.to_json() for name, style in styles.items()})
    atomic_write_text(Path(path), json.dumps(merged, indent=2, sort_keys=True) + "\n")
    return Path(path)
