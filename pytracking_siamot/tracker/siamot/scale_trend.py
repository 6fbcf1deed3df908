"""Faster scale adaptation while the scale search keeps choosing the same direction.

SiamFC damps each frame's scale step (``scale_damping``, its scale learning rate): with a step of
1.0375 the box grows by at most 2.2 % per frame, and a target that keeps growing (a gull spreading its
wings) is followed at a fraction of its rate. A run of frames in which the search chooses the larger
(or the smaller) scale every time is consistent evidence; from the ``frames``-th such frame in a row
on, the step is damped by ``damping`` instead. One frame choosing another scale ends the run.
"""
from __future__ import annotations


class ScaleTrend:
    """The run of frames whose chosen scale lies on the same side of the unit scale.

    Args:
        frames: frames in a row after which the faster rate applies (``scale_trend_frames``; 0 = never).
        damping: the scale learning rate from then on (``scale_trend_damping``, in [0, 1]).
        unit_index: the index of the unit scale (``scale_num // 2``).
    """

    def __init__(self, frames: int, damping: float, unit_index: int) -> None:
        if frames < 0 or not 0.0 <= damping <= 1.0:
            raise ValueError(f"a scale trend needs frames >= 0 and damping in [0, 1], got {frames}, {damping}")
        self.frames = frames
        self.damping = damping
        self.unit_index = unit_index
        self.run = 0  # frames in a row on the same side, signed: > 0 larger, < 0 smaller
        self.faster = 0  # frames of this sequence that used the faster rate (for the analysis)

    def reset(self) -> None:
        """A new sequence."""
        self.run = 0
        self.faster = 0

    def size_factor(self, scale_index: int, scale_factor: float, damped_factor: float) -> float:
        """What the target size is multiplied by on a frame whose search chose ``scale_index`` (of factor
        ``scale_factor``; ``damped_factor`` is SiamFC's damped one): ``damped_factor`` unless this frame
        makes ``frames`` or more in a row on the same side of the unit scale, then ``(1 - damping) +
        damping * scale_factor``."""
        side = (scale_index > self.unit_index) - (scale_index < self.unit_index)
        if side == 0:
            self.run = 0
        elif side * self.run > 0:
            self.run += side
        else:
            self.run = side
        if self.frames > 0 and abs(self.run) >= self.frames:
            self.faster += 1
            return (1.0 - self.damping) + self.damping * scale_factor
        return damped_factor
