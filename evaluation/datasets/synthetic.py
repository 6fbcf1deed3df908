"""The built-in synthetic dataset: deterministic sequences rendered on the fly, no download.

Each of the first eight sequences shows a distinctive textured target (a rounded rectangle with
a colour field, stripes, spots and a dark rim) moving over a static cluttered background with
textured distractor objects of other patterns. Per sequence, the challenges named by its
attributes are switched on: scale change (SV), in-plane rotation (IPR), shape change (DEF),
illumination change (IV: global gain plus a moving light ramp), partial occlusion by a
foreground bar (OCC), distractors sharing the target's colours (BC), fast motion (FM) and motion
blur (MB).

Three more sequences are the showcase of online training (the paper's motivation: an
appearance change that a fixed first-frame template cannot follow). A flat target (56x30 px)
morphs gradually (smoothstep from 5 % to 45 % of the sequence, frames 6-58 of 130), then a
*ghost* -- a copy of the first-frame target (its texture, size and angle, unmorphed) -- passes
close to it:

* ``Chameleon`` (IV, BC): every hue of the target turns by 180 degrees; the pattern is kept.
* ``Molt`` (DEF, BC): the pattern fades into an unrelated pattern (other stripes, field and
  spots) of the same colours, while the aspect ratio wobbles by +-12 %.
* ``Changeling`` (IV, DEF, BC): both, the pattern fades and the hues turn.

The ghost fades in (over 6 frames, from frame 54, when the morph is over 95 % done) 2.5 target
lengths ahead of the target, outside SiamFC's search region; it overtakes the target at 3
px/frame relative to it, alongside its long side with 4 px between the two boxes (never
overlapping it; closest at frame 101), and drifts away. Its centre then passes 34-36 px from
the target's, within the reach of SiamFC's score map (+-43 px here: 64/127 of the exemplar's
context side); a pass along the short sides (>= 60 px) would stay out of its reach.
A tracker that matches only the first-frame template finds the ghost a better match than the
morphed target and jumps to it; one that has updated its appearance model on the recent frames
keeps the target. OTB has no attribute for a change of the target's own colours or pattern: the
flags are the nearest ones (IV for the colour change, DEF for the pattern change, BC for the
ghost).

Three more show failure modes known from real footage (runners and players among look-alikes, a
person passing behind a post), made without regard to any one tracker:

* ``Decoy`` (BC, LR; 110 frames): a small target (20x16 px, 320 px^2, under OTB's 400 px^2 of LR)
  runs laps of an oval track at 7 +-25 % px/frame (a third of its length per frame; OTB's FM
  starts at 20 px/frame, beyond the +-18 px that SiamFC's score map reaches for so small a
  target). A look-alike -- the target's size and colour field, other stripes and spots -- runs
  in the next lane (centres 20 px apart): it starts a sixth of a lap ahead (about 120 px away),
  is caught up by frame 27, runs beside the target to frame 49, crosses under it (centres 3 px
  apart at frame 54) to the other lane by frame 60, runs beside it again to frame 82 and then
  pulls away. It is drawn under the target, so the target is never hidden; what separates the
  two is their markings and their motion.
* ``Screen`` (OCC, BC, LR; 110 frames): the same race with a look-alike in the target's kit (its
  colour field and stripes; only the four spots differ, as players of one team differ by their
  numbers) that runs *in front of* it: where their boxes overlap it covers part of the target,
  and crossing (closest at frame 55, centres 4 px apart) it hides about 70 % of it for two
  frames.
* ``Pillar`` (OCC; 130 frames): an upright target (18x40 px) walks across the frame at
  3.5 +-15 % px/frame, turns at the border and walks back, behind a static lamp-post-like
  pillar 32 px wide that spans the frame's height. Each pass takes 15 frames from first to last
  overlap (frames 38-52 and 101-115); the target is wholly hidden for 5 and 4 frames (43-47 and
  107-110; ``target_visible`` is False there, the ground truth continues its path as OTB annotates)
  and comes out on the other side of the pillar.

Determinism: the whole motion is computed from the sequence's fixed seed when the dataset is
built (``numpy.random.default_rng(seed)``, no global RNG, no ``hash()``), and frame ``i`` is a
pure function of the sequence and ``i``; any process renders identical frames, in any order.
A 320x240 frame takes 2-4 ms on one core (background and textures are built once per loader, lazily).

Ground truth: the axis-aligned bounding box of the whole target (occluded parts included,
as OTB annotates), computed analytically from its pose; 0-based ``[x, y, w, h]`` where a box
covers the continuous extent ``[x - 0.5, x + w - 0.5]`` of pixel centres (centre ``x + (w-1)/2``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from evaluation.data import Sequence, SequenceList


@dataclass(frozen=True)
class SyntheticSpec:
    """What one synthetic sequence shows. All defaults give a plain, easy sequence.

    Attributes:
        name: sequence name; seed: its random seed (fixed: the sequence's identity).
        num_frames: frames; image_wh: frame size (width, height).
        target_wh: target size in the first frame (width, height), un-rotated.
        speed: typical target speed, pixels per frame.
        scale_peak: extreme scale factor reached mid-sequence (1 = no scale change).
        rotation_deg: amplitude of the in-plane rotation.
        deformation: amplitude of the aspect-ratio oscillation (0.2 = +-20 % width vs height).
        illumination: amplitude of the brightness gain oscillation (0.5 = gain 0.5..1.5).
        occlusions: number of passes of the occluding bar over the target.
        distractors: number of textured distractor objects (drawn behind the target).
        similar_distractors: distractors share the target's colours and one stays near it.
        fast_motion: bursts of motion faster than 20 px/frame.
        motion_blur: blur the target along its motion during fast frames.
        morph_hue_deg: colour morph: the target's hues turn by this many degrees (0 = none).
        morph_texture: texture morph: the target's pattern fades into a second, unrelated pattern
            of the same colours.
        morph_span: (start, end) of the morph as fractions of the sequence (smoothstep in between);
            only used with a morph.
        ghost_pass: with a value, a ghost -- a copy of the *first-frame* target -- appears and
            passes the target closest at this fraction of the sequence (None = no ghost).
        lookalike: a look-alike of the target (its size and colour field, other stripes and
            spots) shares its track: the target runs laps of an oval and catches up with the
            look-alike in the next lane, which runs beside it, crosses under it to the other lane
            and pulls away.
        lookalike_kit: the look-alike also has the target's stripes; only its spots differ (as
            players of one team differ by their numbers).
        lookalike_in_front: the look-alike is drawn over the target: crossing, it hides most of it.
        pillar_width: with a value > 0, a static full-height pillar this wide stands in front of
            everything, and the target walks left and right across the frame behind it.
        attributes: the OTB attributes this sequence exhibits.
    """

    name: str
    seed: int
    num_frames: int = 80
    image_wh: tuple[int, int] = (320, 240)
    target_wh: tuple[float, float] = (46.0, 38.0)
    speed: float = 3.5
    scale_peak: float = 1.0
    rotation_deg: float = 0.0
    deformation: float = 0.0
    illumination: float = 0.0
    occlusions: int = 0
    distractors: int = 2
    similar_distractors: bool = False
    fast_motion: bool = False
    motion_blur: bool = False
    morph_hue_deg: float = 0.0
    morph_texture: bool = False
    morph_span: tuple[float, float] = (0.1, 0.5)
    ghost_pass: float | None = None
    lookalike: bool = False
    lookalike_kit: bool = False
    lookalike_in_front: bool = False
    pillar_width: float = 0.0
    attributes: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        start, end = self.morph_span
        if not 0.0 <= start < end <= 1.0:
            raise ValueError(f"{self.name}: morph_span must satisfy 0 <= start < end <= 1, got {self.morph_span}")
        if self.ghost_pass is not None and not 0.0 < self.ghost_pass < 1.0:
            raise ValueError(f"{self.name}: ghost_pass must lie in (0, 1), got {self.ghost_pass}")
        if self.pillar_width < 0.0:
            raise ValueError(f"{self.name}: pillar_width must be >= 0, got {self.pillar_width}")
        if (self.lookalike_kit or self.lookalike_in_front) and not self.lookalike:
            raise ValueError(f"{self.name}: lookalike_kit and lookalike_in_front need lookalike=True")
        if self.lookalike and self.pillar_width:
            raise ValueError(f"{self.name}: lookalike (an oval track) and pillar_width (a walk across the "
                             "frame) need different target paths; choose one")

    @property
    def has_morph(self) -> bool:
        return self.morph_hue_deg != 0.0 or self.morph_texture


#: The sequences of the ``synthetic`` dataset.
SYNTHETIC_SPECS: tuple[SyntheticSpec, ...] = (
    SyntheticSpec("Cruise", seed=1101, num_frames=80),
    SyntheticSpec("Zoom", seed=1202, num_frames=90, target_wh=(34.0, 28.0), scale_peak=2.5, attributes=("SV",)),
    SyntheticSpec("Flicker", seed=1303, num_frames=90, illumination=0.55, attributes=("IV",)),
    SyntheticSpec("Spin", seed=1404, num_frames=90, target_wh=(54.0, 34.0), rotation_deg=45.0,
                  attributes=("IPR",)),
    SyntheticSpec("Eclipse", seed=1505, num_frames=100, target_wh=(48.0, 40.0), occlusions=2,
                  attributes=("OCC",)),
    SyntheticSpec("Twins", seed=1606, num_frames=100, target_wh=(44.0, 38.0), distractors=3,
                  similar_distractors=True, attributes=("BC",)),
    SyntheticSpec("Dash", seed=1707, num_frames=80, fast_motion=True, motion_blur=True, attributes=("MB", "FM")),
    SyntheticSpec("Storm", seed=1808, num_frames=120, target_wh=(40.0, 32.0), scale_peak=2.3, rotation_deg=30.0,
                  deformation=0.2, illumination=0.4, occlusions=1, distractors=3, similar_distractors=True,
                  attributes=("IV", "SV", "OCC", "DEF", "IPR", "BC")),
    # The showcase: the target's appearance morphs, then a ghost of its first-frame look passes by.
    SyntheticSpec("Chameleon", seed=1909, num_frames=130, target_wh=(56.0, 30.0), morph_hue_deg=180.0,
                  morph_span=(0.05, 0.45), ghost_pass=0.78, attributes=("IV", "BC")),
    SyntheticSpec("Molt", seed=2010, num_frames=130, target_wh=(56.0, 30.0), deformation=0.12, morph_texture=True,
                  morph_span=(0.05, 0.45), ghost_pass=0.78, attributes=("DEF", "BC")),
    SyntheticSpec("Changeling", seed=2111, num_frames=130, target_wh=(56.0, 30.0), morph_hue_deg=180.0,
                  morph_texture=True, morph_span=(0.05, 0.45), ghost_pass=0.78, attributes=("IV", "DEF", "BC")),
    # Known failure modes of template matchers: a look-alike beside a small, fast target, and a
    # target hidden behind a thin pillar.
    SyntheticSpec("Decoy", seed=2212, num_frames=110, target_wh=(20.0, 16.0), speed=7.0, lookalike=True,
                  attributes=("BC", "LR")),
    SyntheticSpec("Screen", seed=2414, num_frames=110, target_wh=(20.0, 16.0), speed=7.0, lookalike=True,
                  lookalike_kit=True, lookalike_in_front=True, attributes=("OCC", "BC", "LR")),
    SyntheticSpec("Pillar", seed=2313, num_frames=130, target_wh=(18.0, 40.0), speed=3.5, pillar_width=32.0,
                  attributes=("OCC",)),
)

_CORNER = 0.25          # corner radius as a fraction of the smaller half-side
_FM_SPEED = (24.0, 32.0)  # px/frame in fast-motion bursts (OTB's FM threshold is 20)
_GHOST_SPEED = 3.0        # px/frame: the ghost's speed relative to the target
_GHOST_GAP = 4.0          # px between the ghost's and the target's boxes at the closest pass
_GHOST_APPEAR = 2.5       # the ghost fades in this many first-frame target sides away ...
_GHOST_FADE = 6           # ... over this many frames
_LANE = 20.0              # px between the centres of the target and the look-alike in the next lane
# The look-alike's schedule on the oval: (fraction of the sequence, its lead on the target in
# radians of the oval's parameter, its lane: +1 outer, -1 inner), smoothstep between keys. A lead
# of 1 rad is about 95 px along the track, far outside the trackers' search region; 0.06 rad
# (about 6 px) keeps it a little ahead while it crosses under the target.
_LOOKALIKE_KEYS = ((0.0, 1.0, 1.0), (0.25, 0.0, 1.0), (0.45, 0.0, 1.0), (0.55, 0.06, -1.0), (0.75, 0.0, -1.0),
                   (1.0, 1.0, -1.0))
_PILLAR_PASS = 0.35       # the target's centre is behind the pillar's centre first at this fraction


@dataclass(frozen=True)
class ObjectTrack:
    """Per-frame pose of one rendered object: centre (N, 2), un-rotated size (N, 2), angle (N,) rad,
    and the (width, height) of the texture canvas it is drawn from."""

    center_xy: np.ndarray
    size_wh: np.ndarray
    angle: np.ndarray
    canvas_wh: np.ndarray


@dataclass(frozen=True)
class OvalTrack:
    """The oval the target runs laps of: centre (2,), semi-axes (2,), the target's parameter angle
    (N,) rad per frame, and the sense of travel (+1 or -1)."""

    center_xy: np.ndarray
    axes: np.ndarray
    theta: np.ndarray
    direction: float

    def points(self, theta: np.ndarray, lane: np.ndarray | float = 0.0) -> np.ndarray:
        """(N, 2) points at parameter ``theta`` of the oval widened by ``lane`` px on both axes:
        the point at the same ``theta`` of the widened oval lies exactly ``|lane|`` px away."""
        lane = np.asarray(lane, dtype=np.float64)[..., None]
        return self.center_xy + (self.axes + lane) * np.stack([np.cos(theta), np.sin(theta)], axis=-1)


@dataclass(frozen=True)
class SyntheticPlan:
    """Everything about a sequence except pixels; computed once from the spec (cheap, deterministic).

    Attributes:
        target: the target's poses; distractors: one track per distractor.
        occluder: (N, 4) ``[cx, cy, w, h]`` of the occluding bar, NaN where absent.
        gain: (N,) global brightness; ramp: (N,) slope of the horizontal light ramp.
        blur_xy: (N, 2) motion-blur vector of the target (zeros where none).
        ground_truth_xywh: (N, 4) the target's axis-aligned box, 0-based.
        morph: (N,) progress of the target's appearance morph, 0 (first frame) .. 1 (morphed).
        ghost: the ghost's poses (a copy of the first-frame target), or None.
        ghost_opacity: (N,) the ghost's opacity, 0 where it is absent.
        lookalike: the look-alike's poses, or None.
        pillar_xw: ``[centre x, width]`` of the static full-height pillar, or None.
        occluded: (N,) bool, a foreground object over or next to the target: the bar is in the
            frame, or the pillar or a look-alike in front overlaps the target's box.
        hidden: (N,) bool, the target is wholly behind the pillar (its box lies within the pillar).
    """

    spec: SyntheticSpec
    target: ObjectTrack
    distractors: tuple[ObjectTrack, ...]
    occluder: np.ndarray
    gain: np.ndarray
    ramp: np.ndarray
    blur_xy: np.ndarray
    ground_truth_xywh: np.ndarray
    morph: np.ndarray
    ghost: ObjectTrack | None
    ghost_opacity: np.ndarray
    lookalike: ObjectTrack | None
    pillar_xw: np.ndarray | None
    occluded: np.ndarray
    hidden: np.ndarray


def rotated_rounded_rect_half_extent(size_wh: np.ndarray, angle: np.ndarray,
                                     canvas_wh: np.ndarray | None = None) -> np.ndarray:
    """Half width/height (N, 2) of the axis-aligned box around rotated rounded rectangles.

    The shape is drawn on a canvas of ``canvas_wh`` pixels (default: ``size_wh`` itself) as a
    rectangle with corners of radius ``r = _CORNER * min(canvas half-sides)``, then stretched to
    ``size_wh``: the Minkowski sum of a rectangle with half-sides (A - rx, B - ry) and an ellipse
    with semi-axes (rx, ry) = r * stretch. Its extent along x is therefore
    ``|(A-rx) cos| + |(B-ry) sin| + sqrt((rx cos)^2 + (ry sin)^2)`` -- exact, no rasterisation.
    """
    size = np.asarray(size_wh, dtype=np.float64).reshape(-1, 2)
    canvas = size if canvas_wh is None else np.broadcast_to(np.asarray(canvas_wh, dtype=np.float64), size.shape)
    corner = _CORNER * canvas.min(axis=1, keepdims=True) / 2.0 * (size / canvas)
    half = size / 2.0
    cos, sin = np.abs(np.cos(angle)), np.abs(np.sin(angle))
    core = half - corner
    rx, ry = corner[:, 0], corner[:, 1]
    return np.stack([core[:, 0] * cos + core[:, 1] * sin + np.hypot(rx * cos, ry * sin),
                     core[:, 0] * sin + core[:, 1] * cos + np.hypot(rx * sin, ry * cos)], axis=1)


def _smooth_noise(rng: np.random.Generator, n: int, knots: int) -> np.ndarray:
    """A smooth random curve in [-1, 1] of length n (linear interpolation of knots+1 random values)."""
    values = rng.uniform(-1.0, 1.0, knots + 1)
    xs = np.linspace(0.0, knots, n)
    return np.interp(xs, np.arange(knots + 1), values)


def _bounce_path(rng: np.random.Generator, n: int, speeds: np.ndarray, start_xy: np.ndarray,
                 low_xy: np.ndarray, high_xy: np.ndarray, turn_sd: float = 0.12) -> np.ndarray:
    """Integrate a wandering heading at the given per-frame speeds, bouncing off [low, high]."""
    heading = rng.uniform(0.0, 2.0 * np.pi) + np.cumsum(rng.normal(0.0, turn_sd, n))
    position = np.array(start_xy, dtype=np.float64)
    direction = np.ones(2)
    path = np.empty((n, 2))
    path[0] = position
    for k in range(1, n):
        step = speeds[k] * np.array([np.cos(heading[k]), np.sin(heading[k])]) * direction
        position = position + step
        for axis in range(2):
            if position[axis] < low_xy[axis]:
                position[axis] = 2 * low_xy[axis] - position[axis]
                direction[axis] *= -1
            elif position[axis] > high_xy[axis]:
                position[axis] = 2 * high_xy[axis] - position[axis]
                direction[axis] *= -1
        position = np.clip(position, low_xy, high_xy)
        path[k] = position
    return path


def _smooth_keyframes(t: np.ndarray, at: np.ndarray, values: np.ndarray) -> np.ndarray:
    """(N,) values at times ``t``: smoothstep from each key ``(at[i], values[i])`` to the next."""
    index = np.clip(np.searchsorted(at, t, side="right") - 1, 0, len(at) - 2)
    x = np.clip((t - at[index]) / (at[index + 1] - at[index]), 0.0, 1.0)
    return values[index] + (values[index + 1] - values[index]) * x * x * (3.0 - 2.0 * x)


def _oval_path(spec: SyntheticSpec, rng: np.random.Generator, n: int) -> OvalTrack:
    """Laps of an oval filling the frame (45 px from its sides, 40 px from top and bottom) at
    ``spec.speed`` +-25 % px/frame, from a random point in a random sense."""
    image_wh = np.asarray(spec.image_wh, dtype=np.float64)
    center = image_wh / 2.0 + rng.uniform(-5.0, 5.0, 2)
    axes = image_wh / 2.0 - np.array([45.0, 40.0])
    direction = float(rng.choice([-1.0, 1.0]))
    speeds = spec.speed * (1.0 + 0.25 * _smooth_noise(rng, n, 6))
    theta = np.empty(n)
    theta[0] = rng.uniform(0.0, 2.0 * np.pi)
    for k in range(1, n):  # arc length per radian of the parameter: |d(point)/d(theta)|
        theta[k] = theta[k - 1] + direction * speeds[k] / np.hypot(axes[0] * np.sin(theta[k - 1]),
                                                                   axes[1] * np.cos(theta[k - 1]))
    return OvalTrack(center, axes, theta, direction)


def _walk_path(spec: SyntheticSpec, rng: np.random.Generator, n: int, half: np.ndarray) -> np.ndarray:
    """(N, 2) centres of a walk from near one side of the frame to the other and back (turning at
    the border) at ``spec.speed`` +-15 % px/frame, swaying +-12 px up and down."""
    image_wh = np.asarray(spec.image_wh, dtype=np.float64)
    low, high = half.max(axis=0) + 4.0, image_wh - half.max(axis=0) - 4.0
    span = high[0] - low[0]
    speeds = spec.speed * (1.0 + 0.15 * _smooth_noise(rng, n, 5))
    travel = np.mod(0.1 * span + np.concatenate([[0.0], np.cumsum(speeds[1:])]), 2.0 * span)
    x = low[0] + np.where(travel <= span, travel, 2.0 * span - travel)
    if rng.uniform() < 0.5:  # start on the right, walking left
        x = low[0] + high[0] - x
    y = image_wh[1] / 2.0 + rng.uniform(-15.0, 15.0) + 12.0 * _smooth_noise(rng, n, 5)
    return np.stack([x, np.clip(y, low[1], high[1])], axis=1)


def _target_track(spec: SyntheticSpec, rng: np.random.Generator, t: np.ndarray,
                  oval: OvalTrack | None = None) -> tuple[ObjectTrack, np.ndarray]:
    """The target's poses and its box half-extents (N, 2): scale (SV), rotation (IPR),
    aspect change (DEF) and a bouncing path with optional fast bursts (FM); laps of ``oval``
    when given, a walk across the frame with a pillar."""
    n = t.shape[0]
    # Scale: log-smooth rise from 1 to scale_peak (at t ~ 0.6), then part of the way back.
    scale = np.exp(np.log(spec.scale_peak) * np.sin(0.85 * np.pi * t) ** 2)
    angle = np.deg2rad(spec.rotation_deg) * np.sin(2 * np.pi * 1.5 * t)
    aspect = 1.0 + spec.deformation * np.sin(2 * np.pi * 2.0 * t)
    size_wh = np.stack([spec.target_wh[0] * scale * aspect, spec.target_wh[1] * scale / aspect], axis=1)
    canvas_wh = np.ceil(size_wh.max(axis=0))  # the target's texture canvas (only ever shrunk)
    half = rotated_rounded_rect_half_extent(size_wh, angle, canvas_wh)
    if oval is not None:
        return ObjectTrack(oval.points(oval.theta), size_wh, angle, canvas_wh), half
    if spec.pillar_width:
        return ObjectTrack(_walk_path(spec, rng, n, half), size_wh, angle, canvas_wh), half

    speeds = spec.speed * (1.0 + 0.5 * _smooth_noise(rng, n, 6))
    if spec.fast_motion:
        for start in range(8, n - 4, 12):
            speeds[start:start + 2] = rng.uniform(*_FM_SPEED)
    margin = half.max(axis=0) + 4.0  # the whole box stays in the image (no out-of-view)
    low, high = margin, np.asarray(spec.image_wh, dtype=np.float64) - margin
    start_xy = low + (high - low) * rng.uniform(0.35, 0.65, 2)
    center = _bounce_path(rng, n, speeds, start_xy, low, high)
    return ObjectTrack(center, size_wh, angle, canvas_wh), half


def _distractor_tracks(spec: SyntheticSpec, rng: np.random.Generator, t: np.ndarray, target: ObjectTrack,
                       target_half: np.ndarray) -> tuple[ObjectTrack, ...]:
    """Distractors wander on their own, starting away from the target; with ``similar_distractors``
    the first one circles close around the target (BC)."""
    n = t.shape[0]
    image_wh = np.asarray(spec.image_wh, dtype=np.float64)
    tracks = []
    for d in range(spec.distractors):
        d_size = np.asarray(spec.target_wh) * rng.uniform(0.75, 1.2, 2)
        d_sizes = np.tile(d_size, (n, 1))
        d_angle = np.deg2rad(rng.uniform(-20, 20)) + 0.01 * rng.normal(size=1) * np.arange(n)
        d_margin = rotated_rounded_rect_half_extent(d_sizes, d_angle, np.ceil(d_size)).max(axis=0) + 2.0
        d_low, d_high = d_margin, image_wh - d_margin
        if spec.similar_distractors and d == 0:
            phase = rng.uniform(0, 2 * np.pi)
            radius = target_half.max(axis=1) * 2.2 + 14.0
            turn = phase + 2 * np.pi * t
            offset = np.stack([np.cos(turn), np.sin(turn)], axis=1) * radius[:, None]
            d_center = np.clip(target.center_xy + offset, d_low, d_high)
        else:
            for _ in range(50):  # start far from the target so the first frame is unambiguous
                d_start = d_low + (d_high - d_low) * rng.uniform(0, 1, 2)
                if np.linalg.norm(d_start - target.center_xy[0]) > 90:
                    break
            d_center = _bounce_path(rng, n, np.full(n, spec.speed * 0.8), d_start, d_low, d_high)
        tracks.append(ObjectTrack(d_center, d_sizes, d_angle, np.ceil(d_size)))
    return tuple(tracks)


def _occluder_boxes(spec: SyntheticSpec, rng: np.random.Generator, target: ObjectTrack,
                    target_half: np.ndarray) -> np.ndarray:
    """(N, 4) ``[cx, cy, w, h]`` of a bar about half the target's width, taller than it, that sweeps
    across the target over 19 frames per occlusion (OCC: partial, it never covers it all)."""
    n = target.center_xy.shape[0]
    boxes = np.full((n, 4), np.nan)
    for k in range(spec.occlusions):
        first = int(n * (0.3 + 0.4 * k / max(spec.occlusions, 1)))
        span = slice(first, min(first + 18, n - 1) + 1)
        bar_w = 0.55 * target.size_wh[span, 0]
        reach = target_half[span, 0] + bar_w / 2 + 6.0
        sweep = np.linspace(-1.0, 1.0, bar_w.shape[0])
        boxes[span, 0] = target.center_xy[span, 0] + sweep * reach
        boxes[span, 1] = target.center_xy[span, 1] + rng.uniform(-3, 3)
        boxes[span, 2] = bar_w
        boxes[span, 3] = 2.0 * target_half[span, 1] + 16.0
    return boxes


def _morph_progress(spec: SyntheticSpec, t: np.ndarray) -> np.ndarray:
    """(N,) smoothstep from 0 to 1 over ``spec.morph_span``; zeros without a morph."""
    if not spec.has_morph:
        return np.zeros_like(t)
    start, end = spec.morph_span
    x = np.clip((t - start) / (end - start), 0.0, 1.0)
    return x * x * (3.0 - 2.0 * x)


def _ghost_track(spec: SyntheticSpec, rng: np.random.Generator, target: ObjectTrack,
                 target_half: np.ndarray) -> tuple[ObjectTrack, np.ndarray]:
    """The ghost's poses and opacity (N,): a copy of the first-frame target that overtakes the target.

    It moves with the target plus a constant relative velocity ``_GHOST_SPEED`` along the target's
    long axis ``u``, at a fixed offset ``gap`` across its short side ``v`` (towards the image
    centre, so the ghost is in view at the closest pass). ``gap`` exceeds the two boxes' extent
    along ``v`` by ``_GHOST_GAP``, so the ghost never overlaps the target; passing along the short
    side brings its centre within reach of a SiamFC score map (which spans about +-0.75 target
    lengths for a 56x30 target). It fades in ``_GHOST_APPEAR`` target sides ahead of the target (outside the trackers'
    search region) and drifts away after the pass.
    """
    n = target.center_xy.shape[0]
    closest = int(round(spec.ghost_pass * (n - 1)))
    size_wh = target.size_wh[0]
    ghost_half = rotated_rounded_rect_half_extent(size_wh[None], target.angle[:1], target.canvas_wh)[0]
    across = 1 if size_wh[0] >= size_wh[1] else 0
    towards = spec.image_wh[across] / 2.0 - target.center_xy[closest, across]
    v = np.zeros(2)
    v[across] = np.sign(towards) if towards != 0 else rng.choice([-1.0, 1.0])
    u = np.zeros(2)
    u[1 - across] = rng.choice([-1.0, 1.0])
    gap = target_half[:, across].max() + ghost_half[across] + _GHOST_GAP
    along = _GHOST_SPEED * (closest - np.arange(n))  # > 0 ahead of the target, < 0 after the pass
    center = target.center_xy + v * gap + along[:, None] * u
    first = closest - int(np.ceil(_GHOST_APPEAR * max(spec.target_wh) / _GHOST_SPEED))
    if first < 1:
        raise ValueError(f"{spec.name}: ghost_pass={spec.ghost_pass} is too early: the ghost would be "
                         f"in the first frame (it needs {closest - first} frames to approach)")
    opacity = np.clip((np.arange(n) - first + 1) / _GHOST_FADE, 0.0, 1.0)
    ghost = ObjectTrack(center, np.tile(size_wh, (n, 1)), np.full(n, target.angle[0]), target.canvas_wh)
    return ghost, opacity


def _lookalike_track(rng: np.random.Generator, oval: OvalTrack, target: ObjectTrack, t: np.ndarray) -> ObjectTrack:
    """The look-alike on ``oval``: same size and angle as the target, ``_LOOKALIKE_KEYS`` ahead of
    it and in its lane (+-2 px of wobble); it is drawn under the target, so it never hides it."""
    keys = np.asarray(_LOOKALIKE_KEYS)
    lead = _smooth_keyframes(t, keys[:, 0], keys[:, 1])
    lane = _LANE * _smooth_keyframes(t, keys[:, 0], keys[:, 2]) + 2.0 * _smooth_noise(rng, t.shape[0], 8)
    center = oval.points(oval.theta + oval.direction * lead, lane)
    return ObjectTrack(center, target.size_wh.copy(), target.angle.copy(), target.canvas_wh)


def plan_sequence(spec: SyntheticSpec) -> SyntheticPlan:
    """The deterministic motion, lighting and ground truth of ``spec``."""
    rng = np.random.default_rng(spec.seed)
    t = np.linspace(0.0, 1.0, spec.num_frames)
    oval = _oval_path(spec, rng, spec.num_frames) if spec.lookalike else None
    target, half = _target_track(spec, rng, t, oval)
    distractors = _distractor_tracks(spec, rng, t, target, half)
    occluder = _occluder_boxes(spec, rng, target, half)
    # Drawn last from the motion stream, and only with a ghost: the other sequences keep their motion.
    ghost, ghost_opacity = (_ghost_track(spec, rng, target, half) if spec.ghost_pass is not None
                            else (None, np.zeros(spec.num_frames)))
    lookalike = _lookalike_track(rng, oval, target, t) if oval is not None else None
    # Lighting (IV): a global gain and the slope of a horizontal light ramp, both oscillating.
    gain = 1.0 + spec.illumination * np.sin(2 * np.pi * 1.5 * t) * np.minimum(1.0, 4 * t)
    ramp = 0.6 * spec.illumination * np.sin(2 * np.pi * 0.7 * t + 1.0)
    velocity = np.diff(target.center_xy, axis=0, prepend=target.center_xy[:1])
    blur_xy = velocity * 0.6 if spec.motion_blur else np.zeros_like(velocity)
    blur_xy[np.linalg.norm(velocity, axis=1) < 12.0] = 0.0  # MB only in the fast frames
    gt = np.concatenate([target.center_xy - half + 0.5, 2.0 * half], axis=1)
    occluded = np.isfinite(occluder).all(axis=1)
    if lookalike is not None and spec.lookalike_in_front:
        lookalike_gt = np.concatenate([lookalike.center_xy - half + 0.5, 2.0 * half], axis=1)  # same size
        occluded |= np.all(np.abs(lookalike_gt[:, :2] - gt[:, :2]) < gt[:, 2:], axis=1)  # the boxes overlap
    hidden = np.zeros(spec.num_frames, dtype=bool)
    pillar_xw = None
    if spec.pillar_width:
        pillar_xw = np.array([target.center_xy[int(round(_PILLAR_PASS * (spec.num_frames - 1))), 0],
                              spec.pillar_width])
        pillar_left, pillar_right = pillar_xw[0] - pillar_xw[1] / 2.0, pillar_xw[0] + pillar_xw[1] / 2.0
        box_left, box_right = gt[:, 0] - 0.5, gt[:, 0] + gt[:, 2] - 0.5  # the box's continuous extent
        occluded |= (box_right > pillar_left) & (box_left < pillar_right)
        hidden = (box_left >= pillar_left) & (box_right <= pillar_right)
    return SyntheticPlan(spec, target, distractors, occluder, gain, ramp, blur_xy, gt, _morph_progress(spec, t),
                         ghost, ghost_opacity, lookalike, pillar_xw, occluded, hidden)


def _palette(rng: np.random.Generator, hue: float | None = None) -> np.ndarray:
    """Three saturated RGB colours (float32 0..255) around ``hue`` (random when None)."""
    base = rng.uniform(0, 180) if hue is None else hue
    hues = (base + np.array([0.0, rng.uniform(50, 80), rng.uniform(100, 130)])) % 180
    hsv = np.stack([hues, rng.uniform(170, 255, 3), rng.uniform(150, 255, 3)], axis=1).astype(np.uint8)
    return cv2.cvtColor(hsv[None], cv2.COLOR_HSV2RGB)[0].astype(np.float32)


def _object_texture(rng: np.random.Generator, width: int, height: int, palette: np.ndarray,
                    field_idx: np.ndarray | None = None,
                    spots_rng: np.random.Generator | None = None) -> tuple[np.ndarray, np.ndarray]:
    """A textured rounded rectangle filling a (height, width) canvas: RGB float32 and alpha float32.

    Its colour field is a 3x3 grid of palette indices (``field_idx``, drawn from ``rng`` when None)
    smoothly resized; stripes, four spots (drawn from ``spots_rng``, default ``rng``) and the dark
    rim are drawn over it.
    """
    if field_idx is None:
        field_idx = rng.integers(0, 3, (3, 3))
    field = cv2.resize(palette[field_idx], (width, height), interpolation=cv2.INTER_CUBIC)
    ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
    direction = rng.uniform(0, np.pi)
    period = max(width, height) / rng.uniform(2.5, 4.0)
    stripes = np.sin(2 * np.pi * (xs * np.cos(direction) + ys * np.sin(direction)) / period)
    texture = field + 40.0 * stripes[..., None]
    spots_rng = rng if spots_rng is None else spots_rng
    for _ in range(4):
        cx, cy = spots_rng.uniform(0.15, 0.85) * width, spots_rng.uniform(0.15, 0.85) * height
        radius = spots_rng.uniform(0.08, 0.16) * min(width, height)
        spot = ((xs - cx) ** 2 + (ys - cy) ** 2) <= radius ** 2
        texture[spot] = palette[spots_rng.integers(0, 3)] * spots_rng.uniform(0.3, 1.0)
    # Signed distance to the rounded-rectangle border (negative inside), in canvas pixels.
    half_w, half_h = width / 2.0, height / 2.0
    radius = _CORNER * min(half_w, half_h)
    qx = np.abs(xs - (width - 1) / 2.0) - (half_w - radius)
    qy = np.abs(ys - (height - 1) / 2.0) - (half_h - radius)
    outside = np.hypot(np.maximum(qx, 0), np.maximum(qy, 0))
    sdf = outside + np.minimum(np.maximum(qx, qy), 0) - radius
    rim = max(2.0, 0.08 * min(width, height))
    texture[sdf > -rim] *= 0.35  # dark rim: a clear object boundary
    alpha = np.clip(0.5 - sdf, 0.0, 1.0).astype(np.float32)
    return np.clip(texture, 0, 255).astype(np.float32), alpha


def _background(rng: np.random.Generator, width: int, height: int) -> np.ndarray:
    """Static clutter: a smooth colour field, random muted shapes and fine grain (float32 RGB)."""
    image = cv2.resize(rng.uniform(40, 190, (4, 5, 3)).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_CUBIC)
    for _ in range(30):
        colour = tuple(float(c) for c in rng.uniform(30, 200, 3))
        x, y = int(rng.uniform(0, width)), int(rng.uniform(0, height))
        if rng.uniform() < 0.5:
            axes = (int(rng.uniform(5, 30)), int(rng.uniform(5, 30)))
            cv2.ellipse(image, (x, y), axes, float(rng.uniform(0, 180)), 0, 360, colour, -1, cv2.LINE_AA)
        else:
            cv2.rectangle(image, (x, y), (x + int(rng.uniform(6, 50)), y + int(rng.uniform(3, 12))), colour, -1)
    grain = cv2.resize(rng.normal(0, 10, (height // 3, width // 3, 3)).astype(np.float32), (width, height),
                       interpolation=cv2.INTER_LINEAR)
    return np.clip(cv2.GaussianBlur(image, (3, 3), 0) + grain, 0, 255)


def _pillar_layer(rng: np.random.Generator, width: int, height: int,
                  pillar_xw: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """A lamp-post-like pillar over the whole frame height: (H, W, 3) float32 RGB and (H, W) alpha.

    Grey-green, shaded as a cylinder lit from the left, with a darker joint every 48 rows and fine
    grain; alpha is 1 on pixel centres within ``width / 2 - 0.5`` of its axis, anti-aliased to 0
    half a pixel outside its edges.
    """
    center_x, pillar_w = pillar_xw
    xs = np.arange(width, dtype=np.float64)
    alpha_row = np.clip(pillar_w / 2.0 + 0.5 - np.abs(xs - center_x), 0.0, 1.0)
    across = np.clip((xs - center_x) / (pillar_w / 2.0), -1.0, 1.0)
    shade = 0.45 + 0.75 * np.sqrt(1.0 - across ** 2) * (1.0 - 0.25 * across)
    layer = np.tile((np.array([92.0, 104.0, 88.0]) * shade[:, None])[None], (height, 1, 1))
    joints = (np.arange(height) % 48) < 3
    layer[joints] *= 0.6
    layer += rng.normal(0.0, 5.0, layer.shape)
    alpha = np.tile(alpha_row[None], (height, 1))
    return np.clip(layer, 0, 255).astype(np.float32), alpha.astype(np.float32)


def _rotate_hue(texture: np.ndarray, degrees: float) -> np.ndarray:
    """An RGB float32 (0..255) texture with every hue turned by ``degrees`` (saturation, value kept)."""
    hsv = cv2.cvtColor(texture / 255.0, cv2.COLOR_RGB2HSV)
    hsv[..., 0] = np.mod(hsv[..., 0] + degrees, 360.0)
    return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB) * 255.0


@dataclass
class _Assets:
    background: np.ndarray
    target: tuple[np.ndarray, np.ndarray]
    target_end: np.ndarray | None  # the texture-morph's final pattern (same alpha as ``target``)
    distractors: list[tuple[np.ndarray, np.ndarray]]
    occluder: tuple[np.ndarray, np.ndarray]
    noise: list[np.ndarray]
    columns: np.ndarray
    lookalike: tuple[np.ndarray, np.ndarray] | None  # the target's colour field, other markings
    pillar: tuple[np.ndarray, np.ndarray] | None  # full-frame RGB layer and its (H, W) alpha


def _motion_blur(texture: np.ndarray, alpha: np.ndarray, blur_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Smear a warped (texture, alpha) pair along ``blur_xy`` (pixels; a line kernel of that length).

    Colour is blurred premultiplied by alpha so the object does not pick up the black border;
    alpha falls to 0.5 at the sharp outline, so the target's alpha > 0.5 stays inside its box.
    """
    length = int(np.ceil(np.hypot(*blur_xy))) | 1
    kernel = np.zeros((length, length), np.float32)
    c = length // 2
    direction = blur_xy / np.hypot(*blur_xy) * c
    cv2.line(kernel, (int(round(c - direction[0])), int(round(c - direction[1]))),
             (int(round(c + direction[0])), int(round(c + direction[1]))), 1.0, 1)
    kernel /= kernel.sum()
    blurred_alpha = cv2.filter2D(alpha, -1, kernel)
    blurred = cv2.filter2D(texture * alpha[..., None], -1, kernel) / np.maximum(blurred_alpha, 1e-3)[..., None]
    return blurred, blurred_alpha


def _blend(frame: np.ndarray, visible: np.ndarray | None, texture: np.ndarray, alpha: np.ndarray,
           center_xy: np.ndarray, size_wh: np.ndarray, angle: float, blur_xy: np.ndarray | None = None) -> None:
    """Warp a (texture, alpha) canvas to its pose and composite it over ``frame`` in place.

    ``visible`` (H, W), when given, receives the object's alpha (occluders later subtract theirs).
    """
    canvas_h, canvas_w = alpha.shape
    sx, sy = size_wh[0] / canvas_w, size_wh[1] / canvas_h
    cos, sin = np.cos(angle), np.sin(angle)
    linear = np.array([[cos * sx, -sin * sy], [sin * sx, cos * sy]])
    half = rotated_rounded_rect_half_extent(np.asarray(size_wh)[None], np.array([angle]),
                                            np.array([canvas_w, canvas_h]))[0]
    pad = 3 + (int(np.ceil(np.abs(blur_xy).max())) if blur_xy is not None else 0)
    height, width = frame.shape[:2]
    x0 = max(int(np.floor(center_xy[0] - half[0])) - pad, 0)
    y0 = max(int(np.floor(center_xy[1] - half[1])) - pad, 0)
    x1 = min(int(np.ceil(center_xy[0] + half[0])) + pad + 1, width)
    y1 = min(int(np.ceil(center_xy[1] + half[1])) + pad + 1, height)
    if x1 <= x0 or y1 <= y0:
        return
    canvas_center = np.array([(canvas_w - 1) / 2.0, (canvas_h - 1) / 2.0])
    # Canvas pixel j spans [j-0.5, j+0.5]; map canvas centre -> object centre, minus the ROI offset.
    shift = np.asarray(center_xy) - linear @ canvas_center - np.array([x0, y0])
    matrix = np.hstack([linear, shift[:, None]])
    roi = (x1 - x0, y1 - y0)
    warped = cv2.warpAffine(texture, matrix, roi, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    weight = cv2.warpAffine(alpha, matrix, roi, flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
    if blur_xy is not None and np.any(blur_xy):
        warped, weight = _motion_blur(warped, weight, blur_xy)
    region = frame[y0:y1, x0:x1]
    region += (warped - region) * weight[..., None]
    if visible is not None:
        visible[y0:y1, x0:x1] = np.maximum(visible[y0:y1, x0:x1], weight)


class SyntheticFrameLoader:
    """``index -> RGB uint8 frame`` of one planned sequence; picklable (assets rebuilt lazily)."""

    def __init__(self, plan: SyntheticPlan) -> None:
        self.plan = plan
        self._assets: _Assets | None = None

    def __getstate__(self) -> dict[str, Any]:
        return {"plan": self.plan}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["plan"])  # type: ignore[misc]

    def _build_assets(self) -> _Assets:
        spec = self.plan.spec
        width, height = spec.image_wh
        rng = np.random.default_rng([spec.seed, 1])  # a stream separate from the motion plan's
        target_palette = _palette(rng)
        tex_wh = self.plan.target.canvas_wh.astype(int)
        before_target = copy.deepcopy(rng)  # the draws of the target's texture, for a look-alike to share
        target = _object_texture(rng, int(tex_wh[0]), int(tex_wh[1]), target_palette)
        distractors = []
        for track in self.plan.distractors:
            if spec.similar_distractors:
                palette = target_palette[rng.permutation(3)] * rng.uniform(0.85, 1.1)
            else:
                palette = _palette(rng) * 0.8
            d_wh = track.canvas_wh.astype(int)
            distractors.append(_object_texture(rng, int(d_wh[0]), int(d_wh[1]), np.clip(palette, 0, 255)))
        bar = np.full((64, 32, 3), 110.0, np.float32)
        bar[:, ::6] = 60.0
        bar[::9, :] = 150.0
        occluder = (bar + rng.normal(0, 8, bar.shape).astype(np.float32), np.ones((64, 32), np.float32))
        noise = [rng.normal(0, 3.0, (height, width, 3)).astype(np.float32) for _ in range(3)]
        columns = np.linspace(-1.0, 1.0, width, dtype=np.float32)
        background = _background(rng, width, height)
        target_end = None
        if spec.morph_texture:  # its own stream: the assets above stay those of a sequence without morph
            target_end = _object_texture(np.random.default_rng([spec.seed, 2]), int(tex_wh[0]), int(tex_wh[1]),
                                         target_palette)[0]
        lookalike = None
        if self.plan.lookalike is not None:  # own streams from here on, as for the morph
            own = np.random.default_rng([spec.seed, 3])
            if spec.lookalike_kit:  # the target's field and stripes, its own spots
                lookalike = _object_texture(before_target, int(tex_wh[0]), int(tex_wh[1]), target_palette,
                                            spots_rng=own)
            else:  # the target's colour field, its own stripes and spots
                lookalike = _object_texture(own, int(tex_wh[0]), int(tex_wh[1]), target_palette,
                                            field_idx=before_target.integers(0, 3, (3, 3)))
        pillar = None
        if self.plan.pillar_xw is not None:
            pillar = _pillar_layer(np.random.default_rng([spec.seed, 4]), width, height, self.plan.pillar_xw)
        return _Assets(background, target, target_end, distractors, occluder, noise, columns, lookalike, pillar)

    def _target_texture(self, index: int) -> np.ndarray:
        """The target's texture in frame ``index``: the first-frame one, morphed by ``plan.morph``."""
        texture = self._assets.target[0]
        progress = float(self.plan.morph[index])
        if progress > 0.0:
            if self._assets.target_end is not None:
                texture = texture + (self._assets.target_end - texture) * np.float32(progress)
            if self.plan.spec.morph_hue_deg:
                texture = _rotate_hue(texture, progress * self.plan.spec.morph_hue_deg)
        return texture

    def render(self, index: int) -> tuple[np.ndarray, np.ndarray]:
        """Frame ``index`` (H, W, 3 uint8 RGB) and the target's visible alpha (H, W float32 in [0, 1])."""
        plan = self.plan
        if not 0 <= index < plan.spec.num_frames:
            raise IndexError(f"synthetic sequence {plan.spec.name}: frame {index} out of range "
                             f"(0..{plan.spec.num_frames - 1})")
        if self._assets is None:
            self._assets = self._build_assets()
        assets = self._assets
        frame = assets.background.copy()
        for track, (texture, alpha) in zip(plan.distractors, assets.distractors):
            _blend(frame, None, texture, alpha, track.center_xy[index], track.size_wh[index],
                   float(track.angle[index]))
        lookalike_pose = None if plan.lookalike is None else (
            plan.lookalike.center_xy[index], plan.lookalike.size_wh[index], float(plan.lookalike.angle[index]))
        if lookalike_pose is not None and not plan.spec.lookalike_in_front:
            _blend(frame, None, *assets.lookalike, *lookalike_pose)
        if plan.ghost is not None and plan.ghost_opacity[index] > 0.0:
            texture, alpha = assets.target  # exactly the first-frame target
            _blend(frame, None, texture, alpha * np.float32(plan.ghost_opacity[index]), plan.ghost.center_xy[index],
                   plan.ghost.size_wh[index], float(plan.ghost.angle[index]))
        visible = np.zeros(frame.shape[:2], np.float32)
        target = plan.target
        _blend(frame, visible, self._target_texture(index), assets.target[1], target.center_xy[index],
               target.size_wh[index], float(target.angle[index]), plan.blur_xy[index])
        if lookalike_pose is not None and plan.spec.lookalike_in_front:
            cover = np.zeros_like(visible)
            _blend(frame, cover, *assets.lookalike, *lookalike_pose)
            visible *= 1.0 - cover
        bar = plan.occluder[index]
        if np.all(np.isfinite(bar)):
            cover = np.zeros_like(visible)
            _blend(frame, cover, *assets.occluder, bar[:2], bar[2:], 0.0)
            visible *= 1.0 - cover
        if assets.pillar is not None:
            layer, pillar_alpha = assets.pillar
            frame += (layer - frame) * pillar_alpha[..., None]
            visible *= 1.0 - pillar_alpha
        light = plan.gain[index] * (1.0 + plan.ramp[index] * assets.columns)
        frame *= light[None, :, None]
        frame += assets.noise[index % len(assets.noise)]
        return np.clip(frame, 0, 255).astype(np.uint8), visible

    def __call__(self, index: int) -> np.ndarray:
        return self.render(index)[0]


def synthetic_sequence(spec: SyntheticSpec) -> Sequence:
    """The ``Sequence`` of one spec: ground truth from its plan, frames from a ``SyntheticFrameLoader``."""
    plan = plan_sequence(spec)
    return Sequence(name=spec.name, frames=[f"synthetic/{spec.name}/{i + 1:04d}" for i in range(spec.num_frames)],
                    dataset="synthetic", ground_truth_rect=plan.ground_truth_xywh, object_class="synthetic",
                    target_visible=~plan.hidden, attributes=spec.attributes,
                    frame_loader=SyntheticFrameLoader(plan))


def synthetic_dataset(specs: tuple[SyntheticSpec, ...] = SYNTHETIC_SPECS) -> SequenceList:
    """The built-in synthetic dataset (``get_dataset('synthetic')``)."""
    return SequenceList(synthetic_sequence(spec) for spec in specs)
